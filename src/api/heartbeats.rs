//! `POST /v1/heartbeats`: a worker says it is alive and how many jobs it takes at once, in an EIP-712 message
//! signed by its own wallet (see [`crate::offchain`]). The scheduler assigns only to workers whose latest
//! heartbeat is within its TTL.
//!
//! A fleet of thousands of workers sends hundreds of heartbeats a second, so the path to the `heartbeats` table
//! avoids a query and a commit per request ([`Recorder`]):
//!
//! - **Registered set in memory.** The registered workers of the index are loaded once and reloaded every
//!   [`REGISTERED_REFRESH`] (so a registration rolled back by a reorg drops out). A worker not in the set is
//!   looked up in the index before it is refused 403, so a worker registered a moment ago is never refused for a
//!   stale cache.
//! - **Known latest in memory.** A heartbeat no newer than one this process already stored (a replay, a stale
//!   copy, a flood of one worker's old messages) is answered `recorded: false` without touching the database:
//!   the table holds an equal or newer one, since its writes never go back in time.
//! - **Group commit.** Newer heartbeats queue for one writer task, which upserts everything queued (within
//!   [`BATCH_LINGER`] of the first) in one statement and one commit, then answers each request with what the
//!   database did to its row: `recorded` is true only when that row was written. Within a batch only the newest
//!   message of a worker is written. The answer comes after the commit, so a 202 with `recorded: true` is in
//!   the table, visible to every replica's scheduler.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use utoipa::ToSchema;

use super::Shared;
use super::error::{Error, ErrorBody, Result};
use super::input;
use crate::domain::{Address, Family};
use crate::offchain::{self, Heartbeat};
use crate::store;

/// How old a heartbeat's timestamp may be, in seconds (it may be at most `offchain::MAX_AHEAD_SECS` ahead).
pub const MAX_AGE_SECS: u64 = 120;
/// Largest capacity a worker may declare.
pub const MAX_CAPACITY: u32 = 10_000;

/// A signed heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatBody {
    /// The chain the worker is registered on, by its CAIP-2 name or chain id as `/v1/status` lists them;
    /// required when the coordinator serves several chains. The signature is bound to that chain's deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// The worker (0x-hex), who signs.
    pub worker: String,
    /// Jobs it takes at once, 1..=10000.
    pub capacity: u32,
    /// Unix seconds of signing; within two minutes of the server's clock.
    pub timestamp: u64,
    /// 65-byte EIP-712 signature over `Heartbeat{worker, capacity, timestamp}` (0x-hex).
    pub signature: String,
}

/// What the server recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatAccepted {
    /// The worker, lowercase.
    pub worker: String,
    /// The capacity recorded.
    pub capacity: u32,
    /// The heartbeat's timestamp.
    pub timestamp: u64,
    /// Whether it replaced the stored one (false when an equal or newer one was already stored).
    pub recorded: bool,
}

/// Records a worker's signed heartbeat. The worker must be registered in the index.
#[utoipa::path(
    post,
    path = "/v1/heartbeats",
    tag = "workers",
    request_body = HeartbeatBody,
    responses(
        (status = 202, description = "Recorded", body = HeartbeatAccepted),
        (status = 400, description = "A malformed field, named in the message", body = ErrorBody),
        (status = 401, description = "Bad, stale or foreign signature", body = ErrorBody),
        (status = 403, description = "Not a registered worker", body = ErrorBody)
    )
)]
pub(crate) async fn post_heartbeat(
    State(s): State<Shared>,
    body: std::result::Result<Json<HeartbeatBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<HeartbeatAccepted>)> {
    let Json(body) =
        body.map_err(|e| Error::invalid(format!("invalid body: {}", e.body_text())))?;
    let chain = s.one(body.chain.as_deref())?;
    let worker = input::address_of(chain.family, "worker", &body.worker)?;
    if body.capacity == 0 || body.capacity > MAX_CAPACITY {
        return Err(Error::invalid(format!(
            "capacity must be 1..={MAX_CAPACITY}, got {}",
            body.capacity
        )));
    }
    let signature = parse_hex("signature", &body.signature)?;
    let key = Address::parse(chain.family, &worker)
        .map_err(|e| Error::invalid(format!("worker: {e}")))?;
    let message = Heartbeat {
        worker: key.clone(),
        capacity: body.capacity,
        timestamp: body.timestamp,
    };
    let recorder = &chain.heartbeats;
    let ensure_registered = || async {
        if !recorder.in_registered_set(&key).await? {
            if !super::workers::is_registered(&s, chain, &worker).await? {
                return Err(Error::Forbidden(format!(
                    "{worker} is not a registered worker on {} (register on chain, then retry once indexed)",
                    chain.name
                )));
            }
            recorder.remember_registered(key.clone());
        }
        Ok(())
    };
    // A Starknet signature is checked by the worker's account contract, a call to the node: only for a
    // registered worker and a timely message, so an anonymous caller cannot make the node run arbitrary
    // contracts. An EVM signature is recovered locally, first.
    let remote = chain.family == crate::domain::Family::Starknet;
    if remote {
        offchain::check_time(body.timestamp, offchain::unix_now(), MAX_AGE_SECS)
            .map_err(|e| Error::Unauthorized(e.to_string()))?;
        ensure_registered().await?;
    }
    offchain::verify(
        chain.chain.verifier.as_ref(),
        offchain::Message::Heartbeat(&message),
        &signature,
        offchain::unix_now(),
        MAX_AGE_SECS,
    )
    .await
    .map_err(|e| Error::Unauthorized(e.to_string()))?;
    let _slot = s.limits.worker(&worker)?;
    if !remote {
        ensure_registered().await?;
    }
    let recorded = if recorder.known_at_least(&key, body.timestamp) {
        false
    } else {
        recorder
            .record(Beat {
                worker: key,
                capacity: body.capacity,
                timestamp: body.timestamp,
                signature: body.signature,
            })
            .await?
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(HeartbeatAccepted {
            worker,
            capacity: body.capacity,
            timestamp: body.timestamp,
            recorded,
        }),
    ))
}

/// How often the in-memory set of registered workers is reloaded from the index.
pub const REGISTERED_REFRESH: Duration = Duration::from_secs(30);
/// How long the writer waits after the first queued heartbeat for more to share its commit.
pub const BATCH_LINGER: Duration = Duration::from_millis(5);
/// Most heartbeats written in one statement.
pub const MAX_BATCH: usize = 2_000;
/// Heartbeats waiting for the writer; beyond this a request is refused 429 (the database is not keeping up).
const MAX_QUEUED: usize = 20_000;

/// A verified heartbeat of a registered worker, to be written.
struct Beat {
    worker: Address,
    capacity: u32,
    timestamp: u64,
    signature: String,
}

/// A queued heartbeat and where its answer goes.
struct Queued {
    beat: Beat,
    reply: oneshot::Sender<std::result::Result<bool, sqlx::Error>>,
}

/// The registered workers of the index, as last loaded.
#[derive(Default)]
struct Registered {
    set: HashSet<Address>,
    loaded_at: Option<Instant>,
}

/// The heartbeat path's memory: the registered set, the latest heartbeat stored per worker, and the queue of the
/// group-commit writer (started on first use, ended when the router is dropped).
pub(crate) struct Recorder {
    pool: PgPool,
    chain_id: i64,
    /// The deployment's chain family: the form of worker addresses.
    family: Family,
    registered: Mutex<Registered>,
    reloading: AtomicBool,
    /// Per worker, a timestamp the table is known to hold or exceed.
    latest: Arc<Mutex<HashMap<Address, u64>>>,
    queue: OnceLock<mpsc::Sender<Queued>>,
}

impl Recorder {
    pub(crate) fn new(pool: PgPool, chain_id: i64, family: Family) -> Self {
        Self {
            pool,
            chain_id,
            family,
            registered: Mutex::default(),
            reloading: AtomicBool::new(false),
            latest: Arc::default(),
            queue: OnceLock::new(),
        }
    }

    /// Whether `worker` is in the registered set (reloaded from the index when older than
    /// [`REGISTERED_REFRESH`]). A worker not in it may have registered since: ask the index before refusing.
    async fn in_registered_set(&self, worker: &Address) -> Result<bool> {
        let stale = {
            let r = self.registered.lock().unwrap_or_else(|e| e.into_inner());
            r.loaded_at
                .is_none_or(|at| at.elapsed() >= REGISTERED_REFRESH)
        };
        // One request reloads; the others go on with the set they have.
        if stale && !self.reloading.swap(true, Ordering::AcqRel) {
            // Cleared on drop: a request cancelled mid-reload must not block every later reload.
            struct Reloading<'a>(&'a AtomicBool);
            impl Drop for Reloading<'_> {
                fn drop(&mut self) {
                    self.0.store(false, Ordering::Release);
                }
            }
            let _reloading = Reloading(&self.reloading);
            let set = self.load_registered().await?;
            let mut r = self.registered.lock().unwrap_or_else(|e| e.into_inner());
            r.set = set;
            r.loaded_at = Some(Instant::now());
        }
        Ok(self
            .registered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .set
            .contains(worker))
    }

    /// Adds a worker the index just confirmed to the registered set.
    fn remember_registered(&self, worker: Address) {
        self.registered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .set
            .insert(worker);
    }

    async fn load_registered(&self) -> Result<HashSet<Address>> {
        let rows = store::views::workers::addresses(&self.pool, self.chain_id).await?;
        Ok(rows
            .iter()
            .filter_map(|a| Address::parse(self.family, a).ok())
            .collect())
    }

    /// Whether the table already holds a heartbeat of `worker` signed at or after `timestamp`.
    fn known_at_least(&self, worker: &Address, timestamp: u64) -> bool {
        self.latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(worker)
            .is_some_and(|&t| t >= timestamp)
    }

    /// Queues `beat` for the writer; true when the commit wrote its row.
    async fn record(&self, beat: Beat) -> Result<bool> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(MAX_QUEUED);
            tokio::spawn(write_loop(
                self.pool.clone(),
                self.chain_id,
                self.latest.clone(),
                rx,
            ));
            tx
        });
        let (reply, answer) = oneshot::channel();
        queue
            .try_send(Queued { beat, reply })
            .map_err(|_| Error::TooManyRequests {
                message: "the coordinator is storing too many heartbeats at once".into(),
                retry_after_secs: 1,
            })?;
        match answer.await {
            Ok(written) => Ok(written?),
            // The writer ended (the server is shutting down).
            Err(_) => Err(Error::Unavailable(sqlx::Error::PoolClosed)),
        }
    }
}

/// The group-commit writer: takes everything queued (waiting [`BATCH_LINGER`] after the first for more),
/// writes it in one statement and answers each request. Ends when every sender is gone.
async fn write_loop(
    pool: PgPool,
    chain_id: i64,
    latest: Arc<Mutex<HashMap<Address, u64>>>,
    mut rx: mpsc::Receiver<Queued>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        let deadline = tokio::time::Instant::now() + BATCH_LINGER;
        while batch.len() < MAX_BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(q)) => batch.push(q),
                Ok(None) | Err(_) => break,
            }
        }
        write_batch(&pool, chain_id, &latest, std::mem::take(&mut batch)).await;
    }
}

/// Writes one batch and answers its requests. When the statement fails, each heartbeat is written alone, so
/// each request gets its own outcome.
async fn write_batch(
    pool: &PgPool,
    chain_id: i64,
    latest: &Mutex<HashMap<Address, u64>>,
    batch: Vec<Queued>,
) {
    // The newest message of each worker (the first of equals) is written; the others cannot replace it.
    let mut newest: HashMap<Address, usize> = HashMap::with_capacity(batch.len());
    for (i, q) in batch.iter().enumerate() {
        newest
            .entry(q.beat.worker.clone())
            .and_modify(|j| {
                if q.beat.timestamp > batch[*j].beat.timestamp {
                    *j = i;
                }
            })
            .or_insert(i);
    }
    let chosen: Vec<usize> = {
        let mut v: Vec<usize> = newest.values().copied().collect();
        v.sort_unstable();
        v
    };
    let rows: Vec<&Beat> = chosen.iter().map(|&i| &batch[i].beat).collect();
    let outcome = match upsert(pool, chain_id, &rows).await {
        Ok(written) => Ok(written),
        Err(e) => {
            tracing::warn!(target: "accord::api", error = %e, heartbeats = rows.len(), "heartbeat batch failed; writing one by one");
            Err(e)
        }
    };
    let mut answers: HashMap<usize, std::result::Result<bool, sqlx::Error>> =
        HashMap::with_capacity(chosen.len());
    match outcome {
        Ok(written) => {
            for &i in &chosen {
                answers.insert(i, Ok(written.contains(batch[i].beat.worker.as_str())));
            }
        }
        Err(_) => {
            for &i in &chosen {
                let one = upsert(pool, chain_id, &[&batch[i].beat]).await;
                answers.insert(i, one.map(|w| !w.is_empty()));
            }
        }
    }
    {
        let mut known = latest.lock().unwrap_or_else(|e| e.into_inner());
        for &i in &chosen {
            if matches!(answers.get(&i), Some(Ok(_))) {
                let b = &batch[i].beat;
                let t = known.entry(b.worker.clone()).or_insert(b.timestamp);
                *t = (*t).max(b.timestamp);
            }
        }
    }
    for (i, q) in batch.into_iter().enumerate() {
        let answer = match answers.remove(&i) {
            Some(a) => a,
            // Not the newest of its worker in this batch: never written over a newer one.
            None => match answers.get(&newest[&q.beat.worker]) {
                Some(Err(_)) => Err(sqlx::Error::Protocol(
                    "a newer heartbeat of this worker in the same write failed".into(),
                )),
                _ => Ok(false),
            },
        };
        let _ = q.reply.send(answer);
    }
}

/// Upserts `rows` (one per worker) where newer than the stored heartbeat; returns the workers written (their
/// addresses' text).
async fn upsert(pool: &PgPool, chain_id: i64, rows: &[&Beat]) -> sqlx::Result<HashSet<String>> {
    let rows: Vec<store::heartbeats::NewHeartbeat<'_>> = rows
        .iter()
        .map(|b| store::heartbeats::NewHeartbeat {
            worker: b.worker.as_str(),
            capacity: b.capacity as i32,
            signed_at: b.timestamp as i64,
            signature: b.signature.as_str(),
        })
        .collect();
    store::heartbeats::upsert(pool, chain_id, &rows).await
}

/// Decodes a 0x-hex field; the error names it.
pub(crate) fn parse_hex(field: &str, raw: &str) -> Result<Vec<u8>> {
    alloy::hex::decode(raw).map_err(|_| Error::invalid(format!("{field} is not 0x-hex")))
}
