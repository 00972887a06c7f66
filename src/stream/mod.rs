//! The event stream: every indexed event and every rollback of the index, published to NATS JetStream
//! (`[stream]` in the configuration).
//!
//! ```text
//!  indexer ──commit──► raw_events, index_rollbacks ──snapshot read──► publisher ──► JetStream stream (accord.>)
//!                                   ▲                                   │ acks
//!                                   └──────── stream_cursor ◄───────────┘
//! ```
//!
//! The publisher reads the committed index (the outbox, [`crate::store::outbox`]), never the indexer's memory:
//! nothing is published that was not committed, and the cursor moves only over acknowledged messages, so
//! nothing committed is skipped across a crash. What a crash publishes twice carries the same message id
//! (`Nats-Msg-Id`), which JetStream's de-duplication drops within the stream's duplicate window.
//!
//! Subjects: `<prefix>.<chain>.<contract>.<event>` for events (`accord.eip155-31337.JobManager.JobPosted`; the
//! chain is its CAIP-2 name with `-` for `:`), `<prefix>.<chain>.index.Rollback` for rollbacks, and
//! `<prefix>.<chain>.deadletter` for events the stream refused `max_attempts` times. An event's message id is
//! `<chain>/<block hash>/<log index>/<generation>`: the event's identity, and the rollback it was indexed after, so
//! an event that returns after a rollback is a new message. A rollback's is `<chain>/rollback/<id>`.
//!
//! One publisher runs among the replicas sharing a database (a PostgreSQL advisory lock); the others stand by.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, context::PublishErrorKind};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use utoipa::ToSchema;

use crate::domain::LiveEvent;
use crate::store::outbox::{self, OutboxEvent, Rollback, StreamCursor};

/// `[stream]`: the NATS JetStream publisher. Disabled while `url` is empty. Its `Debug` hides credentials in the
/// URL.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamConfig {
    /// NATS server, e.g. `nats://127.0.0.1:4222` (credentials as `nats://user:password@host:port`); empty: no
    /// stream.
    pub url: String,
    /// JetStream stream the events go to; created with the subjects `<subject_prefix>.>` when missing.
    pub stream: String,
    /// First token of every subject.
    pub subject_prefix: String,
    /// JetStream's de-duplication window for a stream the publisher creates, in seconds: a message published
    /// again within it (after a crash, say) is dropped by id.
    pub duplicate_window_secs: u64,
    /// Events read per round (at most 1,000); each entity's events are published one at a time, different
    /// entities' together.
    pub batch: u32,
    /// Times the stream may refuse one message (not counting an unreachable server) before it goes to the
    /// dead-letter subject.
    pub max_attempts: u32,
    /// How long to wait for a message's acknowledgment, in milliseconds.
    pub ack_timeout_ms: u64,
    /// Longest wait between retries while the server cannot be reached, in milliseconds (doubling from 250).
    pub max_backoff_ms: u64,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            stream: "ACCORD".into(),
            subject_prefix: "accord".into(),
            duplicate_window_secs: 300,
            batch: 500,
            max_attempts: 3,
            ack_timeout_ms: 5_000,
            max_backoff_ms: 30_000,
        }
    }
}

impl std::fmt::Debug for StreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamConfig")
            .field("url", &redact(&self.url))
            .field("stream", &self.stream)
            .field("subject_prefix", &self.subject_prefix)
            .field("duplicate_window_secs", &self.duplicate_window_secs)
            .field("batch", &self.batch)
            .field("max_attempts", &self.max_attempts)
            .field("ack_timeout_ms", &self.ack_timeout_ms)
            .field("max_backoff_ms", &self.max_backoff_ms)
            .finish()
    }
}

impl StreamConfig {
    /// Whether a stream is configured.
    pub fn enabled(&self) -> bool {
        !self.url.is_empty()
    }

    /// Checks the settings; the error names the key.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !self.enabled() {
            return Ok(());
        }
        if !(self.url.starts_with("nats://") || self.url.starts_with("tls://")) {
            return Err(("stream.url", "must be a nats:// or tls:// URL".into()));
        }
        if self.stream.is_empty()
            || !self
                .stream
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err((
                "stream.stream",
                "must be a non-empty name of letters, digits, '_' and '-'".into(),
            ));
        }
        if self
            .subject_prefix
            .split('.')
            .any(|t| t.is_empty() || token(t) != t)
        {
            return Err((
                "stream.subject_prefix",
                "must be subject tokens of letters, digits, '_' and '-', separated by '.'".into(),
            ));
        }
        if self.batch == 0 || self.max_attempts == 0 || self.ack_timeout_ms == 0 {
            return Err((
                "stream.batch",
                "batch, max_attempts and ack_timeout_ms must be at least 1".into(),
            ));
        }
        if self.batch > MAX_BATCH {
            return Err((
                "stream.batch",
                format!("at most {MAX_BATCH} (acknowledgments awaited together)"),
            ));
        }
        Ok(())
    }
}

/// The publisher's state, as `/v1/status` serves it under `stream`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StreamStatus {
    /// The NATS server (credentials removed).
    pub server: String,
    /// The JetStream stream.
    pub stream: String,
    /// Whether this replica publishes (one replica holds the publisher's lock; the others stand by).
    pub publishing: bool,
    /// Whether the last round reached the stream.
    pub connected: bool,
    /// Per chain, in the order the API lists them.
    pub chains: Vec<ChainStream>,
    /// The last failure, until a round succeeds again.
    pub last_error: Option<String>,
}

/// One chain's part of the stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChainStream {
    /// The chain's CAIP-2 name.
    pub chain: String,
    /// Events and rollbacks committed to the index and not yet acknowledged by the stream (counted up to
    /// 1,000,000).
    pub backlog: u64,
    /// Messages acknowledged so far.
    pub published: u64,
    /// Of which sent to the dead-letter subject.
    pub dead_letters: u64,
}

/// Largest `batch`: well below the acknowledgments the client lets wait at once (5,000).
const MAX_BATCH: u32 = 1_000;
/// Backlogs are counted up to this many events.
const BACKLOG_CAP: i64 = 1_000_000;
/// Rollbacks read per round.
const ROLLBACKS_PER_ROUND: i64 = 100;
/// The first wait after a failed round; it doubles up to `max_backoff_ms`.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// An idle publisher looks at the outbox at least this often (new events also wake it).
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Backlogs are counted at most this often while publishing.
const BACKLOG_EVERY: Duration = Duration::from_secs(1);

/// A subject token: letters, digits, `_` and `-` kept, anything else `_`.
fn token(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One chain the publisher serves.
#[derive(Debug, Clone)]
struct Chain {
    id: i64,
    /// CAIP-2 name.
    name: String,
    /// Subject token: the CAIP-2 name with `-` for `:`.
    token: String,
}

/// Why a round stopped early.
#[derive(Debug, thiserror::Error)]
enum RoundError {
    /// The database could not be read or written (the publisher's lock session included).
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The stream could not be reached, or refused a message fewer than `max_attempts` times.
    #[error("{0}")]
    Stream(String),
}

/// What a publish came to.
enum Outcome {
    Acked,
    /// The server cannot be reached, has no stream for the subject, or cannot store right now: retried until it
    /// passes, never dead-lettered.
    Unreachable(String),
    /// The stream refused this message for its size.
    Refused(String),
}

/// Only the message's own size makes the stream refuse it for good: the server's payload limit, or the stream's
/// message or header limit. Everything else (timeouts, a lost connection, a stream missing or temporarily
/// unavailable, a full store) is retried until it passes.
fn outcome(
    result: Result<jetstream::publish::PublishAck, jetstream::context::PublishError>,
) -> Outcome {
    use jetstream::ErrorCode;
    let Err(e) = result else {
        return Outcome::Acked;
    };
    let refused_by_stream = std::error::Error::source(&e)
        .and_then(|s| s.downcast_ref::<jetstream::Error>())
        .is_some_and(|api| {
            matches!(
                api.error_code(),
                ErrorCode::STREAM_MESSAGE_EXCEEDS_MAXIMUM
                    | ErrorCode::STREAM_HEADER_EXCEEDS_MAXIMUM
            )
        });
    if refused_by_stream || e.kind() == PublishErrorKind::MaxPayloadExceeded {
        Outcome::Refused(e.to_string())
    } else {
        Outcome::Unreachable(e.to_string())
    }
}

/// The connection options for `url` (credentials from its userinfo: `user:password` or a token) and the URL
/// without them.
pub fn connect_options(url: &str) -> (async_nats::ConnectOptions, String) {
    let options = async_nats::ConnectOptions::new();
    let Some((scheme, rest)) = url.split_once("://") else {
        return (options, url.to_owned());
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    let Some((userinfo, host)) = rest[..host_end].rsplit_once('@') else {
        return (options, url.to_owned());
    };
    let stripped = format!("{scheme}://{host}{}", &rest[host_end..]);
    let options = match userinfo.split_once(':') {
        Some((user, password)) => options.user_and_password(user.to_owned(), password.to_owned()),
        None => options.token(userinfo.to_owned()),
    };
    (options, stripped)
}

/// `url` without its credentials (user, password or token all hidden), for logs and `/v1/status`.
pub fn redact(url: &str) -> String {
    let (_, stripped) = connect_options(url);
    if stripped == url {
        return stripped;
    }
    match stripped.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://***@{rest}"),
        None => stripped,
    }
}

/// How long a check of the publisher's lock session may take before the session counts as lost.
const LOCK_PING_TIMEOUT: Duration = Duration::from_secs(5);

/// The publisher of every chain served here.
pub struct Publisher {
    pool: PgPool,
    config: StreamConfig,
    chains: Vec<Chain>,
    events: broadcast::Receiver<LiveEvent>,
    status: watch::Sender<StreamStatus>,
    /// Refusals so far per message id (reset when it is acknowledged or dead-lettered).
    refusals: HashMap<String, u32>,
}

impl Publisher {
    /// A publisher for `chains` (chain id, CAIP-2 name), woken by `events` (the indexer's live feed); its state
    /// is watched through the returned receiver.
    pub fn new(
        pool: PgPool,
        config: StreamConfig,
        chains: impl IntoIterator<Item = (u64, String)>,
        events: broadcast::Receiver<LiveEvent>,
    ) -> (Self, watch::Receiver<StreamStatus>) {
        let chains: Vec<Chain> = chains
            .into_iter()
            .map(|(id, name)| Chain {
                id: id as i64,
                token: token(&name.replace(':', "-")),
                name,
            })
            .collect();
        let (status, watcher) = watch::channel(StreamStatus {
            server: redact(&config.url),
            stream: config.stream.clone(),
            chains: chains
                .iter()
                .map(|c| ChainStream {
                    chain: c.name.clone(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        });
        (
            Self {
                pool,
                config,
                chains,
                events,
                status,
                refusals: HashMap::new(),
            },
            watcher,
        )
    }

    /// Publishes until `stop`: takes the publisher's lock (standing by while another replica holds it),
    /// connects, makes sure the stream exists, and then publishes each chain's outbox in rounds, backing off
    /// while the server cannot be reached.
    pub async fn run(mut self, stop: CancellationToken) -> anyhow::Result<()> {
        let Some(mut lock) = self.lock(&stop).await? else {
            return Ok(());
        };
        self.status.send_modify(|s| s.publishing = true);
        info!(target: "accord::stream", server = %redact(&self.config.url), stream = %self.config.stream, "publishing the event stream");
        let (options, url) = connect_options(&self.config.url);
        let client = options
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_millis(self.config.ack_timeout_ms))
            .connect(url.as_str())
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to the NATS server (stream.url): {e}"))?;
        let mut js = jetstream::new(client.clone());
        js.set_timeout(Duration::from_millis(self.config.ack_timeout_ms));
        let mut stream_ready = false;
        let mut backoff = FIRST_BACKOFF;
        let mut counted: Option<Instant> = None;
        loop {
            if stop.is_cancelled() {
                return Ok(());
            }
            // The lock's session must still be alive, else another replica may be publishing.
            let alive =
                tokio::time::timeout(LOCK_PING_TIMEOUT, crate::store::leader::ping(&mut lock))
                    .await
                    .is_ok_and(|r| r.is_ok());
            if !alive {
                warn!(target: "accord::stream", "lost the publisher's database session; standing by");
                self.status.send_modify(|s| s.publishing = false);
                lock = match self.lock(&stop).await? {
                    Some(lock) => lock,
                    None => return Ok(()),
                };
                self.status.send_modify(|s| s.publishing = true);
            }
            let mut published = 0;
            let mut failure: Option<RoundError> = None;
            if !stream_ready {
                match self.ensure_stream(&js).await {
                    Ok(()) => stream_ready = true,
                    Err(e) => failure = Some(e),
                }
            }
            if stream_ready {
                // Each chain on its own: one chain's trouble does not hold the others back.
                for i in 0..self.chains.len() {
                    match self.round(&js, i, &mut lock).await {
                        Ok(n) => published += n,
                        Err(e) => {
                            warn!(target: "accord::stream", chain = %self.chains[i].name, error = %e, "event stream round failed");
                            failure.get_or_insert(e);
                        }
                    }
                }
            }
            if counted.is_none_or(|at| at.elapsed() >= BACKLOG_EVERY) || published == 0 {
                self.count_backlogs().await;
                counted = Some(Instant::now());
            }
            let wait = match failure {
                None => {
                    backoff = FIRST_BACKOFF;
                    self.status.send_modify(|s| {
                        s.connected = true;
                        s.last_error = None;
                    });
                    metrics::gauge!("accord_stream_connected").set(1.0);
                    if published > 0 {
                        continue;
                    }
                    IDLE_POLL
                }
                Some(e) => {
                    let unreachable = matches!(e, RoundError::Stream(_));
                    if unreachable {
                        // The stream may have gone with the server's store: look again on the next round.
                        stream_ready = false;
                    }
                    let message = match client.connection_state() {
                        async_nats::connection::State::Connected => e.to_string(),
                        state => format!("{e} (connection {state:?})"),
                    };
                    self.status.send_modify(|s| {
                        s.connected = !unreachable;
                        s.last_error = Some(message);
                    });
                    metrics::gauge!("accord_stream_connected").set(if unreachable {
                        0.0
                    } else {
                        1.0
                    });
                    let wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_millis(self.config.max_backoff_ms));
                    wait
                }
            };
            tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                _ = tokio::time::sleep(wait) => {}
                // New events wake an idle publisher; a failed one keeps its backoff.
                _ = woken(&mut self.events), if wait == IDLE_POLL => {}
            }
        }
    }

    /// Takes the publisher's advisory lock on a connection of its own, waiting (and keeping the backlogs in
    /// the status up to date) while another replica holds it; `None` when stopped first.
    async fn lock(&self, stop: &CancellationToken) -> anyhow::Result<Option<sqlx::PgConnection>> {
        let mut announced = false;
        let mut conn: Option<sqlx::PgConnection> = None;
        loop {
            let attempt = async {
                let c = match conn.as_mut() {
                    Some(c) => c,
                    None => conn.insert(self.pool.acquire().await?.detach()),
                };
                crate::store::leader::try_lock_publisher(c).await
            }
            .await;
            match attempt {
                Ok(true) => return Ok(conn),
                Ok(false) if !announced => {
                    info!(target: "accord::stream", "another replica publishes the event stream; standing by");
                    announced = true;
                }
                Ok(false) => {}
                Err(e) => {
                    conn = None;
                    warn!(target: "accord::stream", error = %e, "cannot take the publisher's lock; retrying")
                }
            }
            self.count_backlogs().await;
            tokio::select! {
                _ = stop.cancelled() => return Ok(None),
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
    }

    /// Creates the stream (subjects `<prefix>.>`, file storage, the configured duplicate window) unless it
    /// exists; an existing stream is used as it is, with a warning when its duplicate window is shorter.
    async fn ensure_stream(&self, js: &jetstream::Context) -> Result<(), RoundError> {
        let window = Duration::from_secs(self.config.duplicate_window_secs);
        let stream = js
            .get_or_create_stream(jetstream::stream::Config {
                name: self.config.stream.clone(),
                subjects: vec![format!("{}.>", self.config.subject_prefix)],
                duplicate_window: window,
                storage: jetstream::stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| {
                RoundError::Stream(format!(
                    "cannot find or create stream {}: {e}",
                    self.config.stream
                ))
            })?;
        let existing = stream.cached_info().config.duplicate_window;
        if existing < window {
            warn!(target: "accord::stream", stream = %self.config.stream, duplicate_window_secs = existing.as_secs(), wanted_secs = window.as_secs(),
                  "the existing stream de-duplicates over a shorter window: a message published again after a longer outage reaches consumers twice (they de-duplicate by Nats-Msg-Id)");
        }
        Ok(())
    }

    /// Publishes what waits for chain `i`: its rollbacks first, then its events in chain order; returns how
    /// many messages the stream acknowledged. The cursor is saved through the lock's session, so a publisher
    /// that lost its lock cannot move it.
    async fn round(
        &mut self,
        js: &jetstream::Context,
        i: usize,
        lock: &mut sqlx::PgConnection,
    ) -> Result<usize, RoundError> {
        let chain = self.chains[i].clone();
        let (mut cursor, rollbacks, events) = self.read(&chain, lock).await?;
        let before = cursor.published;
        let result = self
            .publish(js, &chain, &mut cursor, &rollbacks, &events, lock)
            .await;
        let published = (cursor.published - before) as usize;
        if published > 0 {
            outbox::save_cursor(&mut *lock, chain.id, &cursor).await?;
            metrics::counter!("accord_stream_published_total", "chain" => chain.name.clone())
                .increment(published as u64);
            self.status.send_modify(|s| {
                if let Some(c) = s.chains.get_mut(i) {
                    c.published = cursor.published as u64;
                    c.dead_letters = cursor.dead_letters as u64;
                    c.backlog = c.backlog.saturating_sub(published as u64);
                }
            });
        }
        result.map(|()| published)
    }

    /// Reads a chain's cursor, pending rollbacks and the events after them in one snapshot: a rollback is
    /// visible exactly when the deletion it records is. While a full page of rollbacks waits, no event is read:
    /// the events after the rollbacks not read yet must not go out before them.
    async fn read(
        &self,
        chain: &Chain,
        lock: &mut sqlx::PgConnection,
    ) -> Result<(StreamCursor, Vec<Rollback>, Vec<OutboxEvent>), RoundError> {
        let mut tx = sqlx::Connection::begin(&mut *lock).await?;
        crate::store::schema::read_only_snapshot(&mut tx).await?;
        let cursor = outbox::cursor(&mut *tx, chain.id).await?;
        let rollbacks =
            outbox::rollbacks_after(&mut tx, chain.id, cursor.rollback_id, ROLLBACKS_PER_ROUND)
                .await?;
        let events = if rollbacks.len() as i64 == ROLLBACKS_PER_ROUND {
            Vec::new()
        } else {
            // Events above a pending rollback's fork are read again: those published before it were withdrawn.
            let from = rollbacks
                .iter()
                .fold(cursor.position, |at, r| at.min((r.fork_block, i64::MAX)));
            outbox::events_after(&mut tx, chain.id, from, i64::from(self.config.batch)).await?
        };
        tx.commit().await?;
        Ok((cursor, rollbacks, events))
    }

    /// Publishes `rollbacks` one by one, then `events` in windows, moving `cursor` over each acknowledged
    /// message in order; stops at the first message that is not.
    ///
    /// A window holds at most one event per entity, and its acknowledgments are awaited together: should one
    /// fail while a later one is stored, the two are of different entities, so each entity's events still reach
    /// the stream in chain order.
    async fn publish(
        &mut self,
        js: &jetstream::Context,
        chain: &Chain,
        cursor: &mut StreamCursor,
        rollbacks: &[Rollback],
        events: &[OutboxEvent],
        lock: &mut sqlx::PgConnection,
    ) -> Result<(), RoundError> {
        for r in rollbacks {
            let (subject, id, payload) = self.rollback_message(chain, r);
            let result = match send(js, &subject, &id, "rollback", None, payload).await {
                Ok(ack) => ack.await,
                Err(e) => Err(e),
            };
            match outcome(result) {
                Outcome::Acked => {}
                Outcome::Unreachable(e) | Outcome::Refused(e) => {
                    return Err(RoundError::Stream(format!("rollback {}: {e}", r.id)));
                }
            }
            cursor.rollback_id = r.id;
            cursor.position = cursor.position.min((r.fork_block, i64::MAX));
            cursor.published += 1;
            // Saved at once: the events after it must not be read from the old position again.
            outbox::save_cursor(&mut *lock, chain.id, cursor).await?;
        }
        let from = cursor.position;
        let waiting: Vec<&OutboxEvent> = events
            .iter()
            .filter(|e| (e.block_number, e.log_index) > from)
            .collect();
        let mut next = 0;
        while next < waiting.len() {
            let mut entities = std::collections::HashSet::new();
            let window: Vec<&OutboxEvent> = waiting[next..]
                .iter()
                .copied()
                .take_while(|e| entities.insert(e.stream.as_str()))
                .collect();
            next += window.len();
            let mut pending = Vec::with_capacity(window.len());
            for e in window {
                let (subject, id, payload) = self.event_message(chain, e);
                let sent = send(js, &subject, &id, "event", Some(&e.stream), payload).await;
                pending.push((e, subject, id, sent));
            }
            for (e, subject, id, sent) in pending {
                let result = match sent {
                    Ok(ack) => ack.await,
                    Err(err) => Err(err),
                };
                match outcome(result) {
                    Outcome::Acked => {
                        self.refusals.remove(&id);
                    }
                    Outcome::Unreachable(err) => {
                        return Err(RoundError::Stream(format!("{subject} ({id}): {err}")));
                    }
                    Outcome::Refused(err) => {
                        let refusals = self.refusals.entry(id.clone()).or_default();
                        *refusals += 1;
                        if *refusals < self.config.max_attempts {
                            return Err(RoundError::Stream(format!(
                                "{subject} ({id}) refused ({refusals} of {} attempts): {err}",
                                self.config.max_attempts
                            )));
                        }
                        let attempts = *refusals;
                        self.dead_letter(js, chain, e, &subject, &id, &err, attempts)
                            .await?;
                        self.refusals.remove(&id);
                        cursor.dead_letters += 1;
                    }
                }
                cursor.position = (e.block_number, e.log_index);
                cursor.published += 1;
            }
        }
        Ok(())
    }

    /// Sends a refused event's identity and the stream's reason to `<prefix>.<chain>.deadletter` (without its
    /// arguments, which may be what the stream refused).
    #[allow(clippy::too_many_arguments)]
    async fn dead_letter(
        &self,
        js: &jetstream::Context,
        chain: &Chain,
        e: &OutboxEvent,
        subject: &str,
        id: &str,
        error: &str,
        attempts: u32,
    ) -> Result<(), RoundError> {
        let payload = serde_json::json!({
            "id": id,
            "subject": subject,
            "error": error,
            "attempts": attempts,
            "chain": chain.name,
            "block_number": e.block_number,
            "block_hash": e.block_hash,
            "log_index": e.log_index,
            "tx_hash": e.tx_hash,
            "contract": e.contract,
            "event": e.event,
            "stream": e.stream,
        });
        let dead = format!("{}.{}.deadletter", self.config.subject_prefix, chain.token);
        let body = serde_json::to_vec(&payload).unwrap_or_default();
        let result = match send(
            js,
            &dead,
            &format!("{id}/dead"),
            "deadletter",
            Some(&e.stream),
            body,
        )
        .await
        {
            Ok(ack) => ack.await,
            Err(err) => Err(err),
        };
        match outcome(result) {
            Outcome::Acked => {
                warn!(target: "accord::stream", %subject, %id, %error, attempts, "the stream refused an event; sent to the dead-letter subject");
                metrics::counter!("accord_stream_dead_letters_total", "chain" => chain.name.clone())
                    .increment(1);
                Ok(())
            }
            Outcome::Unreachable(err) | Outcome::Refused(err) => {
                Err(RoundError::Stream(format!("dead letter of {id}: {err}")))
            }
        }
    }

    /// Subject, message id and JSON payload of an event (the shape of `/v1/events` items, plus `id` and
    /// `generation`).
    fn event_message(&self, chain: &Chain, e: &OutboxEvent) -> (String, String, Vec<u8>) {
        let subject = format!(
            "{}.{}.{}.{}",
            self.config.subject_prefix,
            chain.token,
            token(&e.contract),
            token(&e.event)
        );
        let id = format!(
            "{}/{}/{}/{}",
            chain.name, e.block_hash, e.log_index, e.generation
        );
        let mut args = e.args.clone();
        crate::text::serve_args(&mut args);
        let payload = serde_json::json!({
            "id": id,
            "generation": e.generation,
            "chain": chain.name,
            "chain_id": chain.id,
            "block_number": e.block_number,
            "block_hash": e.block_hash,
            "log_index": e.log_index,
            "tx_hash": e.tx_hash,
            "contract": e.contract,
            "address": e.address,
            "event": e.event,
            "stream": e.stream,
            "args": args,
        });
        (
            subject,
            id,
            serde_json::to_vec(&payload).unwrap_or_default(),
        )
    }

    /// Subject, message id and JSON payload of a rollback (the shape of `/v1/events/stream`'s `Reorg`, plus
    /// `id`).
    fn rollback_message(&self, chain: &Chain, r: &Rollback) -> (String, String, Vec<u8>) {
        let subject = format!(
            "{}.{}.index.Rollback",
            self.config.subject_prefix, chain.token
        );
        let id = format!("{}/rollback/{}", chain.name, r.id);
        let payload = serde_json::json!({
            "id": id,
            "rollback": r.id,
            "chain": chain.name,
            "chain_id": chain.id,
            "fork_block": r.fork_block,
            "block_hash": r.block_hash,
            "removed_events": r.removed_events,
        });
        (
            subject,
            id,
            serde_json::to_vec(&payload).unwrap_or_default(),
        )
    }

    /// Counts each chain's backlog into the status and the `accord_stream_backlog` gauge.
    async fn count_backlogs(&self) {
        for (i, chain) in self.chains.iter().enumerate() {
            let counted = async {
                let cursor = outbox::cursor(&self.pool, chain.id).await?;
                let backlog = outbox::backlog(&self.pool, chain.id, &cursor, BACKLOG_CAP).await?;
                Ok::<_, sqlx::Error>((cursor, backlog))
            }
            .await;
            match counted {
                Ok((cursor, backlog)) => {
                    metrics::gauge!("accord_stream_backlog", "chain" => chain.name.clone())
                        .set(backlog as f64);
                    self.status.send_modify(|s| {
                        if let Some(c) = s.chains.get_mut(i) {
                            c.backlog = backlog.max(0) as u64;
                            c.published = cursor.published as u64;
                            c.dead_letters = cursor.dead_letters as u64;
                        }
                    });
                }
                Err(e) => {
                    warn!(target: "accord::stream", chain = %chain.name, error = %e, "cannot count the stream's backlog")
                }
            }
        }
    }
}

/// Returns when the indexer announces something (or its feed lags); never when the feed is closed.
async fn woken(events: &mut broadcast::Receiver<LiveEvent>) {
    match events.recv().await {
        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
        Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
    }
    // A burst wakes one round, not one per event.
    while matches!(
        events.try_recv(),
        Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_))
    ) {}
}

/// Sends one message with its id (`Nats-Msg-Id`) and Accord's headers; the acknowledgment is awaited apart.
async fn send(
    js: &jetstream::Context,
    subject: &str,
    id: &str,
    kind: &'static str,
    entity: Option<&str>,
    payload: Vec<u8>,
) -> Result<jetstream::context::PublishAckFuture, jetstream::context::PublishError> {
    let mut message = jetstream::message::PublishMessage::build()
        .payload(payload.into())
        .message_id(id)
        .header("Accord-Kind", kind);
    if let Some(entity) = entity.filter(|s| !s.contains(['\r', '\n'])) {
        message = message.header("Accord-Stream", entity);
    }
    js.send_publish(subject.to_owned(), message).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_subjects_well_formed() {
        assert_eq!(token(&"eip155:31337".replace(':', "-")), "eip155-31337");
        assert_eq!(token("JobPosted"), "JobPosted");
        assert_eq!(token("a.b*c>d e"), "a_b_c_d_e");
    }

    #[test]
    fn validation_names_the_key() {
        let ok = StreamConfig {
            url: "nats://127.0.0.1:4222".into(),
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
        assert!(StreamConfig::default().validate().is_ok(), "disabled");
        let bad = |f: fn(&mut StreamConfig)| {
            let mut c = ok.clone();
            f(&mut c);
            c.validate().unwrap_err().0
        };
        assert_eq!(bad(|c| c.url = "http://x".into()), "stream.url");
        assert_eq!(bad(|c| c.stream = "a.b".into()), "stream.stream");
        assert_eq!(
            bad(|c| c.subject_prefix = "a.>".into()),
            "stream.subject_prefix"
        );
        assert_eq!(
            bad(|c| c.subject_prefix = "a..b".into()),
            "stream.subject_prefix"
        );
        assert_eq!(bad(|c| c.batch = 0), "stream.batch");
        assert_eq!(bad(|c| c.batch = 5_000), "stream.batch");
    }

    #[test]
    fn credentials_leave_the_url_and_every_display() {
        for url in [
            "nats://user:hunter2@127.0.0.1:4222",
            "nats://hunter2@127.0.0.1:4222",
        ] {
            let c = StreamConfig {
                url: url.into(),
                ..Default::default()
            };
            assert!(!format!("{c:?}").contains("hunter2"), "{c:?}");
            assert_eq!(redact(url), "nats://***@127.0.0.1:4222");
            assert_eq!(connect_options(url).1, "nats://127.0.0.1:4222");
        }
        assert_eq!(redact("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
    }
}
