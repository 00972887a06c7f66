//! The scheduler: matches open jobs to eligible workers and sends batch assignment transactions; expires overdue
//! assignments, refunds lapsed jobs and finalizes unchallenged results on chain.
//!
//! - **One leader.** Every replica runs a scheduler; the one holding a PostgreSQL session advisory lock acts.
//!   The lock dies with its session, so when the leader's process dies another replica takes over at its next
//!   try (every `leader_retry_ms`). A leader that loses its lock session stops acting at its next check.
//! - **Only final data.** Decisions read the index, which holds events at or below the confirmation depth.
//! - **Idempotent.** Every decision is first written as an intent, unique per (job, attempt, kind) while live, so
//!   no retry and no replica sends the same assignment twice; the contract refuses the rest (a job no longer
//!   open), and a refused job waits `refusal_backoff_secs` instead of being retried at once. An assignment
//!   whose block was reorged away is noticed (the index passed its block and the job is still open at that
//!   attempt) and decided again.
//! - **Fresh parameters.** The minimum stake is read from the index every round, so a governance change applies
//!   without a restart.
//! - **Short rounds.** A round reads the open jobs and the eligible workers, and takes the workers' load and
//!   record from a snapshot refreshed about once a second plus the assignments decided since (so the load errs
//!   high, never low). The snapshot, the repair of stale intents, table statistics and the housekeeping queries
//!   run in the background, off the path from an index update to the next batch. A full batch is followed by the
//!   next at once while fewer than `max_in_flight` are out.
//! - **Decision latency** (`accord_scheduler_decision_seconds`) runs from the index update that made the jobs
//!   visible to the signed `assignBatch` being handed to the node; the node's reply time is
//!   `accord_scheduler_broadcast_seconds`.

pub mod strategy;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::chain::actions::{BatchOutcome, Chore as Call, CoordinatorChain, SendStep};
use crate::domain::{Address, JobId, U256};
use crate::indexer::Status;
use crate::store::book::{self, OpenJob, WorkerRow};
use crate::store::{heartbeats, intents, leader};

pub use strategy::{Candidate, Strategy, StrategyKind, Weights};

/// `[scheduler]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulerConfig {
    /// Run the scheduler (it also needs a signer with the coordinator role).
    pub enabled: bool,
    /// `weighted` (default), `round-robin` or `least-loaded`.
    pub strategy: StrategyKind,
    /// Weights of the `weighted` strategy.
    pub weights: Weights,
    /// A worker is alive while its last signed heartbeat is at most this old, in seconds.
    pub heartbeat_ttl_secs: u64,
    /// Largest number of jobs in one `assignBatch` transaction.
    pub max_batch: usize,
    /// Assignment transactions in flight at once.
    pub max_in_flight: usize,
    /// Gas limit of a batch: `batch_base_gas + gas_per_assignment × jobs`.
    pub gas_per_assignment: u64,
    /// Fixed part of a batch's gas limit.
    pub batch_base_gas: u64,
    /// Rounds run at least this often, in milliseconds, besides every index update.
    pub poll_interval_ms: u64,
    /// A replica that is not the leader retries the leader lock this often, in milliseconds.
    pub leader_retry_ms: u64,
    /// A job whose assignment the contract refused is not retried for this long, in seconds.
    pub refusal_backoff_secs: u64,
    /// An intent still pending after this long (its sender died) is abandoned and decided again, in seconds.
    pub pending_timeout_secs: u64,
    /// Also expire overdue assignments, refund lapsed jobs and finalize unchallenged results.
    pub housekeeping: bool,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            strategy: StrategyKind::default(),
            weights: Weights::default(),
            heartbeat_ttl_secs: 60,
            max_batch: 500,
            max_in_flight: 4,
            gas_per_assignment: 45_000,
            batch_base_gas: 100_000,
            poll_interval_ms: 500,
            leader_retry_ms: 1_000,
            refusal_backoff_secs: 15,
            pending_timeout_secs: 180,
            housekeeping: true,
        }
    }
}

impl SchedulerConfig {
    /// Checks ranges; the message names the setting.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.max_batch == 0 || self.max_batch > 2_000 {
            return Err(("scheduler.max_batch", "must be 1..=2000".into()));
        }
        if self.max_in_flight == 0 {
            return Err(("scheduler.max_in_flight", "must be at least 1".into()));
        }
        if self.heartbeat_ttl_secs == 0 {
            return Err(("scheduler.heartbeat_ttl_secs", "must be at least 1".into()));
        }
        let w = self.weights;
        if [w.stake, w.reputation, w.load]
            .iter()
            .any(|x| !x.is_finite() || *x < 0.0)
        {
            return Err((
                "scheduler.weights",
                "weights must be finite and non-negative".into(),
            ));
        }
        if self.poll_interval_ms == 0 || self.leader_retry_ms == 0 {
            return Err((
                "scheduler.poll_interval_ms",
                "intervals must be at least 1 ms".into(),
            ));
        }
        Ok(())
    }
}

/// What the scheduler reports (`/v1/status` → `scheduler`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SchedulerStatus {
    /// Whether a scheduler runs in this process.
    pub enabled: bool,
    /// Whether this replica holds the leader lock.
    pub leader: bool,
    /// The strategy's name.
    pub strategy: String,
    /// The coordinator address assignments are sent from.
    pub account: Option<String>,
    /// Assignments confirmed by receipts since start.
    pub assigned: u64,
    /// Assignments the contract refused since start.
    pub refused: u64,
    /// Expiries, refunds and finalizations confirmed since start.
    pub housekeeping: u64,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// Why the scheduler sends nothing for now (the index it decides from has halted), if it does not.
    pub paused: Option<String>,
}

/// The scheduler of one chain's deployment; `C` sends its transactions and reads the chain's clock.
pub struct Scheduler<C: CoordinatorChain> {
    pool: PgPool,
    chain_id: i64,
    chain: Arc<C>,
    config: SchedulerConfig,
    index: watch::Receiver<Status>,
    report: watch::Sender<SchedulerStatus>,
    book: Arc<Mutex<LoadBook>>,
    eligible: Arc<Mutex<EligibleBook>>,
    /// The chain clock the last round read: a lower bound for the next round's (the chain's clock does not go
    /// back), so the open jobs can be read while the clock is (the precise deadline check follows in memory).
    clock_floor: AtomicU64,
    /// The chain's clock and fees as a task beside the rounds last read them, so a round does not wait for the
    /// node (which answers late while it mines).
    chain_view: Arc<Mutex<Option<ChainView<C::Price>>>>,
}

/// The latest block's timestamp and the node's price for a transaction, read together at `read_at`.
#[derive(Debug, Clone, Copy)]
struct ChainView<P> {
    read_at: Instant,
    timestamp: u64,
    fees: Option<P>,
}

impl<P: Copy> ChainView<P> {
    /// The chain clock now, `timestamp` plus the whole seconds elapsed since it was read, and the fees; `None`
    /// when the view is older than [`CHAIN_VIEW_MAX_AGE`] (the node stopped answering, or the view was never
    /// read), so the round reads the node itself.
    fn current(view: &Mutex<Option<ChainView<P>>>) -> Option<(u64, Option<P>)> {
        let view = (*view.lock().unwrap_or_else(|e| e.into_inner()))?;
        let age = view.read_at.elapsed();
        (age <= CHAIN_VIEW_MAX_AGE)
            .then(|| (view.timestamp.saturating_add(age.as_secs()), view.fees))
    }
}

/// Workers' chain state and liveness kept between rounds, so a round over a fleet of thousands reads only what
/// changed: the rows of `workers` updated after the last block it saw (none, usually; the indexer commits whole
/// blocks, so a block's rows are all in once one of them is), and the minimum stake. Upkeep reloads every worker
/// and every live heartbeat about once a second, off the path from an index update to the next batch; a reload
/// also takes in what a reorg changed (rows rolled back to older blocks, or a block replaced at the same height).
///
/// Liveness is judged at each round against the cached `signed_at`, which is never newer than the stored one, so
/// a worker is never taken for alive longer than its TTL; a worker's first heartbeat counts from the next
/// snapshot, at most about a second later.
#[derive(Debug, Default)]
struct EligibleBook {
    /// Every indexed worker's chain state, by lowercase address (ordered as the SQL `ORDER BY address` was).
    workers: std::collections::BTreeMap<Arc<str>, WorkerState>,
    /// Rows of `workers` with `updated_block` after this are read each round; `None` until loaded.
    through_block: Option<i64>,
    /// Each worker's latest heartbeat within the TTL, `(capacity, signed_at)`, as of the last snapshot.
    alive: Option<HashMap<String, (i32, i64)>>,
    /// The workers eligible but for liveness and load, built from the two above for a minimum stake; dropped
    /// whenever either changes, so most rounds reuse it.
    staked: Option<(U256, Arc<Vec<Staked>>)>,
    /// Those workers as candidates with the loads of one snapshot.
    base: Option<CandidateBase>,
}

/// Every staked worker as a candidate with its load and record of one load snapshot, in the staked list's order,
/// and each one's position by address.
#[derive(Debug, Clone)]
struct CandidateBase {
    staked: Arc<Vec<Staked>>,
    loads: Arc<Loads>,
    candidates: Arc<Vec<Candidate>>,
    position: Arc<HashMap<Arc<str>, usize>>,
}

impl CandidateBase {
    fn build(staked: Arc<Vec<Staked>>, loads: Arc<Loads>) -> Self {
        let candidates: Vec<Candidate> = staked
            .iter()
            .map(|w| {
                let load = loads.load.get(&*w.address).copied().unwrap_or(0);
                let (completed, failed) = loads.record.get(&*w.address).copied().unwrap_or((0, 0));
                Candidate {
                    capabilities: w.capabilities,
                    stake: w.tokens,
                    capacity: w.capacity,
                    load: load.clamp(0, i64::from(u32::MAX)) as u32,
                    completed: completed.max(0) as u64,
                    failed: failed.max(0) as u64,
                    address: w.address.clone(),
                }
            })
            .collect();
        let position = staked
            .iter()
            .enumerate()
            .map(|(i, w)| (w.address.clone(), i))
            .collect();
        Self {
            staked,
            loads,
            candidates: Arc::new(candidates),
            position: Arc::new(position),
        }
    }
}

/// A worker with a heartbeat, not jailed, staked at least the minimum.
#[derive(Debug)]
struct Staked {
    address: Arc<str>,
    capabilities: u16,
    tokens: f64,
    capacity: u32,
    signed_at: i64,
}

/// One worker's row in the index, as the scheduler needs it.
#[derive(Debug, Clone, PartialEq)]
struct WorkerState {
    capabilities: i32,
    stake: U256,
    /// The stake in tokens, for ranking only.
    tokens: f64,
    jailed: bool,
}

impl EligibleBook {
    /// Applies rows of `workers`; a full load replaces everything.
    fn apply(&mut self, rows: Vec<WorkerRow>, full: bool) {
        if full {
            self.staked = None;
            self.workers.clear();
            self.through_block = Some(0);
        }
        for row in rows {
            self.through_block = Some(self.through_block.unwrap_or(0).max(row.updated_block));
            let tokens = row.stake.parse::<f64>().unwrap_or(0.0) / 1e18;
            let state = WorkerState {
                capabilities: row.capabilities,
                stake: row.stake.parse().unwrap_or(U256::ZERO),
                tokens,
                jailed: row.jailed,
            };
            // Only a change rebuilds the staked list.
            if self.workers.get(row.address.as_str()) != Some(&state) {
                self.staked = None;
                self.workers.insert(row.address.into(), state);
            }
        }
    }
}

impl EligibleBook {
    /// The workers with a heartbeat in the snapshot, not jailed, staked at least `min_stake`, by address.
    fn staked_for(&self, min_stake: U256) -> Vec<Staked> {
        let Some(alive) = &self.alive else {
            return Vec::new();
        };
        self.workers
            .iter()
            .filter(|(_, w)| !w.jailed && w.stake > U256::ZERO && w.stake >= min_stake)
            .filter_map(|(address, w)| {
                let &(capacity, signed_at) = alive.get(&**address)?;
                Some(Staked {
                    address: address.clone(),
                    capabilities: w.capabilities as u16,
                    tokens: w.tokens,
                    capacity: capacity.max(0) as u32,
                    signed_at,
                })
            })
            .collect()
    }
}

/// Every worker's chain state (`through` = None) or the rows updated after block `through`. Re-reading the
/// rows of block `through` itself would return every worker staked in it, each round: 2,000 rows, when a fleet
/// registers in batches.
async fn worker_rows(
    pool: &PgPool,
    chain_id: i64,
    through: Option<i64>,
) -> sqlx::Result<Vec<WorkerRow>> {
    book::workers_updated_after(pool, chain_id, through.unwrap_or(i64::MIN)).await
}

/// Each worker's stored heartbeat signed at or after `alive_since`.
async fn live_heartbeats(
    pool: &PgPool,
    chain_id: i64,
    alive_since: u64,
) -> sqlx::Result<HashMap<String, (i32, i64)>> {
    let rows = heartbeats::signed_since(pool, chain_id, alive_since as i64).await?;
    Ok(rows
        .into_iter()
        .map(|h| (h.worker, (h.capacity, h.signed_at)))
        .collect())
}

/// Workers' load and record as of the last upkeep, plus the assignments decided since: what a round needs
/// besides eligibility, without aggregating every assigned job and every past assignment each time.
#[derive(Debug, Default)]
struct LoadBook {
    /// The last snapshot and when its statement started.
    snapshot: Option<(Instant, Arc<Loads>)>,
    /// Assignments decided (intent committed) since, with when the insert returned, by worker.
    decided: Vec<(Instant, String)>,
}

/// Load and record per worker (lowercase address).
#[derive(Debug, Default, Clone)]
struct Loads {
    /// Jobs assigned in the index, plus live intents of jobs still open there (sent, not indexed yet).
    load: HashMap<String, i64>,
    /// Assignments paid, and expired or refunded.
    record: HashMap<String, (i64, i64)>,
}

impl LoadBook {
    /// Takes a snapshot whose statement started at `taken`, unless a newer one is in.
    fn update(&mut self, taken: Instant, loads: Arc<Loads>) {
        if self.snapshot.as_ref().is_some_and(|(at, _)| *at >= taken) {
            return;
        }
        // A decision committed before the statement started is in the snapshot; one whose insert returned after
        // may be counted twice until the next snapshot (the load errs high, never low).
        self.decided.retain(|(at, _)| *at > taken);
        self.snapshot = Some((taken, loads));
    }

    /// The current loads: the snapshot (shared, not copied: it covers every worker of the fleet) plus what was
    /// decided since.
    fn current(&self) -> Option<CurrentLoads> {
        let (_, snapshot) = self.snapshot.as_ref()?;
        let mut decided: HashMap<String, i64> = HashMap::new();
        for (_, worker) in &self.decided {
            *decided.entry(worker.clone()).or_default() += 1;
        }
        Some(CurrentLoads {
            snapshot: snapshot.clone(),
            decided,
        })
    }
}

/// A load snapshot plus the assignments decided since it was taken.
#[derive(Debug, Default)]
struct CurrentLoads {
    snapshot: Arc<Loads>,
    decided: HashMap<String, i64>,
}

/// What a round read for its candidates, applied to the books once the round's reads are all in.
struct WorkerChanges {
    /// The book's `through_block` when the rows were read (`None`: every row).
    through: Option<i64>,
    rows: Vec<WorkerRow>,
    /// Every live heartbeat, when the book had none.
    alive: Option<HashMap<String, (i32, i64)>>,
    /// Heartbeats signed before this are stale (unix seconds).
    alive_since: u64,
}

/// One decided assignment.
#[derive(Debug, Clone)]
struct Decision {
    id: i64,
    job_id: JobId,
    worker: Address,
}

/// One decided expiry, refund or finalization.
#[derive(Debug, Clone)]
struct Chore {
    id: i64,
    kind: String,
    job_id: JobId,
}

/// What a scheduling round did.
enum Round {
    /// Decided (possibly nothing); `more` when the batch was full, so more open jobs may wait.
    Decided { more: bool },
    /// `max_in_flight` batches are out: nothing decided.
    Busy,
}

/// Upkeep (statistics, stale intents, the load snapshot) runs this often, or every poll interval if longer.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(1);

/// The chain clock and fees are read beside the rounds this often.
const CHAIN_VIEW_REFRESH: Duration = Duration::from_millis(250);

/// A round uses the chain clock and fees read beside it while they are at most this old, and reads the node
/// itself otherwise. Fees older than a second could be short of a rising base fee (12.5 % a full block).
const CHAIN_VIEW_MAX_AGE: Duration = Duration::from_secs(1);

impl<C: CoordinatorChain> Scheduler<C> {
    /// A scheduler acting through `chain` (whose account must hold the coordinator role); it wakes on every
    /// change of `index` and reports through the returned receiver.
    pub fn new(
        pool: PgPool,
        chain_id: u64,
        chain: C,
        config: SchedulerConfig,
        index: watch::Receiver<Status>,
    ) -> (Self, watch::Receiver<SchedulerStatus>) {
        let (report, status) = watch::channel(SchedulerStatus {
            enabled: true,
            strategy: config.strategy.build(config.weights).name().into(),
            account: Some(chain.account().to_string()),
            ..SchedulerStatus::default()
        });
        (
            Self {
                pool,
                chain_id: chain_id as i64,
                chain: Arc::new(chain),
                config,
                index,
                report,
                book: Arc::default(),
                eligible: Arc::default(),
                clock_floor: AtomicU64::new(0),
                chain_view: Arc::default(),
            },
            status,
        )
    }

    /// Runs until cancelled: waits for the leader lock, then leads until the lock is lost.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let retry = Duration::from_millis(self.config.leader_retry_ms);
        let mut announced = false;
        loop {
            let lock = tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                lock = self.try_lead() => lock,
            };
            match lock {
                Ok(Some(conn)) => {
                    info!(target: "accord::scheduler", account = %self.chain.account(), "leading: this replica assigns jobs");
                    self.report.send_modify(|s| s.leader = true);
                    metrics::gauge!("accord_scheduler_leader").set(1.0);
                    let lost = self.lead(conn, &cancel).await;
                    self.report.send_modify(|s| s.leader = false);
                    metrics::gauge!("accord_scheduler_leader").set(0.0);
                    if cancel.is_cancelled() {
                        return Ok(());
                    }
                    warn!(target: "accord::scheduler", reason = %lost, "no longer leading");
                    announced = false;
                }
                Ok(None) => {
                    if !announced {
                        info!(target: "accord::scheduler", "another replica leads; standing by");
                        announced = true;
                    }
                }
                Err(e) => {
                    warn!(target: "accord::scheduler", error = %e, "cannot try the leader lock");
                    self.report
                        .send_modify(|s| s.last_error = Some(e.to_string()));
                }
            }
            tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                _ = tokio::time::sleep(retry) => {}
            }
        }
    }

    /// A session holding the leader lock, or `None` when another session holds it.
    async fn try_lead(&self) -> anyhow::Result<Option<PgConnection>> {
        let mut conn = self.pool.acquire().await?.detach();
        let locked = leader::try_lock_scheduler(&mut conn, self.chain_id).await?;
        Ok(locked.then_some(conn))
    }

    /// Leads until cancelled or until the lock session fails; returns why it stopped.
    async fn lead(&self, lock: PgConnection, cancel: &CancellationToken) -> String {
        // The lock's session is checked beside the rounds, never in their way; dropping the task (when leading
        // ends) closes the session, which releases the lock.
        let mut lock_lost =
            tokio_util::task::AbortOnDropHandle::new(tokio::spawn(watch_lock(lock)));
        let _chain_view = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(watch_chain(
            self.chain.clone(),
            self.chain_view.clone(),
        )));
        let mut strategy = self.config.strategy.build(self.config.weights);
        let mut index = self.index.clone();
        // Batches in flight count against `max_in_flight`; expiries and finalizations are sent beside them.
        let mut assigning: JoinSet<()> = JoinSet::new();
        let mut chores: JoinSet<()> = JoinSet::new();
        let poll = Duration::from_millis(self.config.poll_interval_ms);
        let mut ticker = tokio::time::interval(poll);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut chores_at = Instant::now();
        // The index update that made the oldest still undecided jobs visible: decision latency runs from here.
        let mut last_update = index.borrow().indexed_at;
        let mut waiting_since: Option<Instant> = None;
        let mut more = false;
        // The first round needs statistics and a load snapshot as much as any (the index may have just been
        // backfilled); later upkeeps run in the background.
        let upkeep = self.upkeep();
        upkeep.clone().run().await;
        let mut upkeep_at = Instant::now();
        let mut upkeeping: Option<tokio::task::JoinHandle<()>> = None;
        let mut deciding_chores: Option<tokio::task::JoinHandle<anyhow::Result<Vec<Chore>>>> = None;
        loop {
            // Whether this wake-up can find something to decide: rounds cost a chain and two database round
            // trips, so a status change that indexed nothing new, or a finished chore, does not start one.
            let decide = tokio::select! {
                _ = cancel.cancelled() => {
                    self.finish_chores(deciding_chores.take(), &mut chores).await;
                    // Let sent transactions finish recording their outcome.
                    while assigning.join_next().await.is_some() {}
                    while chores.join_next().await.is_some() {}
                    return "cancelled".into();
                }
                changed = index.changed() => {
                    if changed.is_err() {
                        // The indexer is gone: keep polling on the interval.
                        ticker.tick().await;
                        true
                    } else {
                        index.borrow().indexed_at != last_update || waiting_since.is_some()
                    }
                }
                // A batch was recorded: room for jobs that waited for it (an index update brings the rest).
                Some(_) = assigning.join_next(), if !assigning.is_empty() => waiting_since.is_some(),
                Some(_) = chores.join_next(), if !chores.is_empty() => false,
                // A full batch went out and there is room for another: decide it now.
                _ = std::future::ready(()), if more && assigning.len() < self.config.max_in_flight => true,
                // Time alone changes what is due (backoffs end, the chain clock moves).
                _ = ticker.tick() => true,
                failed = &mut lock_lost => {
                    self.finish_chores(deciding_chores.take(), &mut chores).await;
                    while assigning.join_next().await.is_some() {}
                    while chores.join_next().await.is_some() {}
                    return failed.unwrap_or_else(|e| format!("leader lock task failed: {e}"));
                }
            };
            // A halted index no longer says what the chain says: act on nothing until it is repaired.
            let halted = index.borrow().halted.as_ref().map(|h| h.kind.clone());
            if let Some(kind) = halted {
                if self.report.borrow().paused.is_none() {
                    warn!(target: "accord::scheduler", halt = %kind, "the index halted; sending nothing until it is repaired");
                    self.report.send_modify(|s| {
                        s.paused = Some(format!(
                            "index halted ({kind}): no assignment, expiry or finalization is sent"
                        ))
                    });
                }
                waiting_since = None;
                continue;
            }
            if self.report.borrow().paused.is_some() {
                info!(target: "accord::scheduler", "the index is serving again; scheduling resumes");
                self.report.send_modify(|s| s.paused = None);
            }
            let update = index.borrow_and_update().indexed_at;
            if update != last_update {
                last_update = update;
                waiting_since = waiting_since.or(update);
            }
            if decide {
                let batches = assigning.len();
                more = false;
                match self
                    .round(strategy.as_mut(), &mut assigning, batches, waiting_since)
                    .await
                {
                    // Everything visible was decided (or nothing was): the next update starts a new wait.
                    Ok(Round::Decided { more: false }) => waiting_since = None,
                    // A full batch: the rest still waits since the same update.
                    Ok(Round::Decided { more: true }) => more = true,
                    // No room for a batch: the jobs keep waiting.
                    Ok(Round::Busy) => {}
                    Err(e) => {
                        warn!(target: "accord::scheduler", error = %e, "scheduling round failed");
                        self.report
                            .send_modify(|s| s.last_error = Some(e.to_string()));
                    }
                }
            }
            // Upkeep runs beside the rounds, off the path from an index update to the next batch.
            if upkeep_at.elapsed() >= poll.max(UPKEEP_INTERVAL)
                && upkeeping.as_ref().is_none_or(|t| t.is_finished())
            {
                upkeep_at = Instant::now();
                upkeeping = Some(tokio::spawn(upkeep.clone().run()));
            }
            // Housekeeping is decided in the background too (its query reads every assigned job), and its
            // transactions are sent from here, among the batches.
            if deciding_chores.as_ref().is_some_and(|t| t.is_finished()) {
                self.finish_chores(deciding_chores.take(), &mut chores)
                    .await;
            }
            if self.config.housekeeping
                && deciding_chores.is_none()
                && chores_at.elapsed() >= poll.max(UPKEEP_INTERVAL)
            {
                chores_at = Instant::now();
                deciding_chores = Some(tokio::spawn(self.clone_for_task().decide_chores()));
            }
        }
    }

    /// One scheduling round: decides a batch and hands it to a sending task. `waiting_since` is the index
    /// update since which the jobs decided here have been visible (the start of the decision latency).
    async fn round(
        &self,
        strategy: &mut dyn Strategy,
        assigning: &mut JoinSet<()>,
        batches: usize,
        waiting_since: Option<Instant>,
    ) -> anyhow::Result<Round> {
        if batches >= self.config.max_in_flight {
            return Ok(Round::Busy);
        }
        let started = Instant::now();
        let (decisions, more, fees) = self.decide(strategy).await?;
        if decisions.is_empty() {
            return Ok(Round::Decided { more: false });
        }
        if let Some(since) = waiting_since {
            debug!(
                target: "accord::scheduler",
                waited_ms = started.saturating_duration_since(since).as_secs_f64() * 1e3,
                decide_ms = started.elapsed().as_secs_f64() * 1e3,
                "round"
            );
        }
        let this = self.clone_for_task();
        let decided = Instant::now();
        assigning.spawn(async move {
            this.send_batch(decisions, fees, waiting_since, decided)
                .await;
        });
        Ok(Round::Decided { more })
    }

    fn clone_for_task(&self) -> TaskCtx<C> {
        TaskCtx {
            pool: self.pool.clone(),
            chain_id: self.chain_id,
            chain: self.chain.clone(),
            config: self.config.clone(),
            report: self.report.clone(),
        }
    }

    fn upkeep(&self) -> Upkeep {
        Upkeep {
            pool: self.pool.clone(),
            chain_id: self.chain_id,
            pending_timeout_secs: self.config.pending_timeout_secs,
            heartbeat_ttl_secs: self.config.heartbeat_ttl_secs,
            book: self.book.clone(),
            eligible: self.eligible.clone(),
        }
    }

    /// Picks workers for open jobs and records the decisions as pending intents; also says whether the batch
    /// was full (more open jobs may wait), and hands over the fees read for the batch. A job whose deadline is
    /// closer than the governed minimum submit window (`minSubmitWindow`, read from the index every round) is
    /// left alone: the chain would refuse it (`DeadlineTooSoon`), and it is refunded at its deadline.
    ///
    /// A round waits for two database round trips and none to the node: the open jobs and the candidates are
    /// read at once (the jobs' query filters by the previous round's clock, a lower bound, and the exact deadline
    /// check with this round's clock follows in memory), then the intents commit. The chain clock and the fees
    /// come from the view a task beside the rounds reads four times a second; the node is asked only when that
    /// view is more than a second old.
    async fn decide(
        &self,
        strategy: &mut dyn Strategy,
    ) -> anyhow::Result<(Vec<Decision>, bool, Option<C::Price>)> {
        let started = Instant::now();
        let floor = self.clock_floor.load(Ordering::Relaxed);
        // The clock and fees read beside the rounds, or the node's own answer when that view is stale.
        let view = ChainView::current(&self.chain_view);
        let clock = async {
            let (now, fees) = match view {
                Some(view) => view,
                None => (self.chain.clock().await?, None),
            };
            anyhow::Ok((now, fees, started.elapsed()))
        };
        let open_jobs = async {
            let jobs = book::open_jobs(
                &self.pool,
                self.chain_id,
                floor.min(i64::MAX as u64) as i64,
                self.config.refusal_backoff_secs as f64,
                self.config.max_batch as i64,
            )
            .await?;
            anyhow::Ok((jobs, started.elapsed()))
        };
        let workers = async { anyhow::Ok((self.worker_changes().await?, started.elapsed())) };
        let ((now, fees, clock), (jobs, selected), (workers, ranked)) =
            tokio::try_join!(clock, open_jobs, workers)?;
        // Stored, not ratcheted: a node that once answered a time far ahead would otherwise hide every open job
        // from the next rounds' query for good.
        self.clock_floor.store(now, Ordering::Relaxed);
        // The minimum stake comes with the open jobs (the same on every row); without open jobs it is not needed.
        let min_stake: U256 = jobs
            .first()
            .and_then(|j| j.min_stake.as_deref())
            .and_then(|v| v.parse().ok())
            .unwrap_or_default();
        // A full page means more may wait, even when the clock dropped some of it.
        let full = jobs.len() >= self.config.max_batch;
        let now = now.min(i64::MAX as u64) as i64;
        let jobs: Vec<OpenJob> = jobs
            .into_iter()
            .filter(|j| j.deadline > now && j.deadline >= now.saturating_add(j.submit_window))
            .collect();
        if jobs.is_empty() {
            // The worker rows read are applied by the next round that has jobs (they are re-read until then).
            return Ok((Vec::new(), full, None));
        }
        let read = started.elapsed();
        let mut candidates = self.candidates(workers, min_stake);
        let built = started.elapsed();
        let mut picked: Vec<intents::NewAssignment> = Vec::with_capacity(jobs.len());
        for job in jobs {
            let Some(i) = strategy.pick(job.required_capabilities as u16, &candidates) else {
                continue;
            };
            candidates[i].load += 1;
            picked.push(intents::NewAssignment {
                job_id: job.job_id,
                attempt: job.attempt,
                worker: candidates[i].address.to_string(),
            });
        }
        if picked.is_empty() {
            return Ok((Vec::new(), false, None));
        }
        let prepared = started.elapsed();
        let intents = intents::record_assignments(&self.pool, self.chain_id, &picked);
        // Without fees from the view, they are read while the intents commit; a failure here only means the send
        // reads them itself.
        let fees = async {
            match fees {
                Some(fees) => Some(fees),
                None => self.chain.price().await,
            }
        };
        let (rows, fees) = tokio::join!(intents, fees);
        let rows = rows?;
        {
            let now = Instant::now();
            let mut book = self.book.lock().unwrap_or_else(|e| e.into_inner());
            book.decided
                .extend(rows.iter().map(|row| (now, row.worker.clone())));
        }
        let family = self.chain.family();
        let mut decisions = Vec::with_capacity(rows.len());
        for row in rows {
            decisions.push(Decision {
                id: row.id,
                job_id: row.job_id.parse().map_err(anyhow::Error::msg)?,
                worker: Address::parse(family, &row.worker)?,
            });
        }
        decisions.sort_by_key(|d| d.job_id);
        debug!(
            target: "accord::scheduler",
            jobs = decisions.len(),
            chain_time_ms = clock.as_secs_f64() * 1e3,
            open_jobs_ms = selected.as_secs_f64() * 1e3,
            candidates_ms = ranked.as_secs_f64() * 1e3,
            build_ms = (built - read).as_secs_f64() * 1e3,
            pick_ms = (prepared - built).as_secs_f64() * 1e3,
            intents_ms = (started.elapsed() - prepared).as_secs_f64() * 1e3,
            "decided"
        );
        Ok((decisions, full, fees))
    }

    /// What a round reads for the candidates: the rows of `workers` the index updated since the cached ones,
    /// and every live heartbeat when the book has none yet.
    async fn worker_changes(&self) -> sqlx::Result<WorkerChanges> {
        let alive_since =
            crate::offchain::unix_now().saturating_sub(self.config.heartbeat_ttl_secs);
        let (through, need_alive) = {
            let book = self.eligible.lock().unwrap_or_else(|e| e.into_inner());
            (book.through_block, book.alive.is_none())
        };
        let rows = worker_rows(&self.pool, self.chain_id, through);
        let alive = async {
            if need_alive {
                live_heartbeats(&self.pool, self.chain_id, alive_since)
                    .await
                    .map(Some)
            } else {
                Ok(None)
            }
        };
        let (rows, alive) = tokio::try_join!(rows, alive)?;
        // Before the first snapshot (the upkeep takes one before the first round), the round takes its own.
        let has_loads = self
            .book
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .snapshot
            .is_some();
        if !has_loads {
            let taken = Instant::now();
            let loads = self.upkeep().loads().await?;
            self.book
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .update(taken, Arc::new(loads));
        }
        Ok(WorkerChanges {
            through,
            rows,
            alive,
            alive_since,
        })
    }

    /// Eligible workers with their load: registered (indexed), not jailed, stake at least the current minimum,
    /// a heartbeat within the TTL. Chain state is the cached rows plus those the index updated since, and the
    /// minimum stake is read every round with the open jobs; liveness comes from the upkeep's snapshot of heartbeats (see
    /// [`EligibleBook`]); load and record come from the load book.
    fn candidates(&self, changes: WorkerChanges, min_stake: U256) -> Vec<Candidate> {
        let WorkerChanges {
            through,
            rows,
            alive,
            alive_since,
        } = changes;
        // The loads as of now (the upkeep may have swapped in a snapshot, with its candidates, since the reads).
        let loads = self
            .book
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .current()
            .unwrap_or_default();
        let staked = {
            let mut book = self.eligible.lock().unwrap_or_else(|e| e.into_inner());
            book.apply(rows, through.is_none());
            if let Some(alive) = alive {
                book.alive = Some(alive);
                book.staked = None;
            }
            match &book.staked {
                Some((min, staked)) if *min == min_stake => staked.clone(),
                _ => {
                    let staked = Arc::new(book.staked_for(min_stake));
                    book.staked = Some((min_stake, staked.clone()));
                    staked
                }
            }
        };
        // The candidates as of the staked list and the load snapshot change about once a second; between, a
        // round copies them and adds the few assignments decided since.
        let base = {
            let mut book = self.eligible.lock().unwrap_or_else(|e| e.into_inner());
            match &book.base {
                Some(b)
                    if Arc::ptr_eq(&b.staked, &staked)
                        && Arc::ptr_eq(&b.loads, &loads.snapshot) =>
                {
                    b.clone()
                }
                _ => {
                    let base = CandidateBase::build(staked, loads.snapshot.clone());
                    book.base = Some(base.clone());
                    base
                }
            }
        };
        let mut out: Vec<Candidate> = base.candidates.as_ref().clone();
        for (worker, n) in &loads.decided {
            if let Some(&i) = base.position.get(worker.as_str()) {
                let load = i64::from(out[i].load) + n;
                out[i].load = load.clamp(0, i64::from(u32::MAX)) as u32;
            }
        }
        let alive_since = alive_since as i64;
        let mut signed_at = base.staked.iter().map(|w| w.signed_at);
        out.retain(|_| signed_at.next().is_some_and(|t| t >= alive_since));
        out
    }

    /// Waits for the housekeeping decision in `deciding`, if any, and sends what it decided.
    async fn finish_chores(
        &self,
        deciding: Option<tokio::task::JoinHandle<anyhow::Result<Vec<Chore>>>>,
        tasks: &mut JoinSet<()>,
    ) {
        let Some(deciding) = deciding else {
            return;
        };
        match deciding.await {
            Ok(Ok(chores)) => self.send_chores(chores, tasks),
            Ok(Err(e)) => {
                warn!(target: "accord::scheduler", error = %e, "housekeeping round failed")
            }
            Err(e) => warn!(target: "accord::scheduler", error = %e, "housekeeping task failed"),
        }
    }

    /// Sends decided chores, each in its own task beside the batches.
    fn send_chores(&self, chores: Vec<Chore>, tasks: &mut JoinSet<()>) {
        for chore in chores {
            let this = self.clone_for_task();
            tasks.spawn(async move { this.send_chore(chore).await });
        }
    }
}

/// Checks the leader lock's session once a second; returns why it failed.
async fn watch_lock(mut lock: PgConnection) -> String {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Err(e) = leader::ping(&mut lock).await {
            return format!("leader lock session failed: {e}");
        }
    }
}

/// Reads the chain clock and fees into `view` every [`CHAIN_VIEW_REFRESH`], until dropped. A failed read leaves
/// the last view to age out.
async fn watch_chain<C: CoordinatorChain>(
    chain: Arc<C>,
    view: Arc<Mutex<Option<ChainView<C::Price>>>>,
) {
    let mut ticker = tokio::time::interval(CHAIN_VIEW_REFRESH);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let read_at = Instant::now();
        let (timestamp, fees) = tokio::join!(chain.clock(), chain.price());
        match timestamp {
            Ok(timestamp) => {
                *view.lock().unwrap_or_else(|e| e.into_inner()) = Some(ChainView {
                    read_at,
                    timestamp,
                    fees,
                })
            }
            Err(e) => {
                debug!(target: "accord::scheduler", error = %e, "cannot read the chain clock")
            }
        }
    }
}

/// What runs beside the rounds, about once a second: table statistics, stale intents, the load snapshot.
#[derive(Clone)]
struct Upkeep {
    pool: PgPool,
    chain_id: i64,
    pending_timeout_secs: u64,
    heartbeat_ttl_secs: u64,
    book: Arc<Mutex<LoadBook>>,
    eligible: Arc<Mutex<EligibleBook>>,
}

impl Upkeep {
    async fn run(self) {
        self.refresh_statistics().await;
        if let Err(e) = self.repair_intents().await {
            warn!(target: "accord::scheduler", error = %e, "repairing intents failed");
        }
        let taken = Instant::now();
        let loads = match self.loads().await {
            Ok(loads) => Some((taken, Arc::new(loads))),
            Err(e) => {
                warn!(target: "accord::scheduler", error = %e, "cannot read the workers' load");
                None
            }
        };
        if let Err(e) = self.reload_eligible(loads.clone()).await {
            warn!(target: "accord::scheduler", error = %e, "cannot read the workers and their heartbeats");
            if let Some((taken, loads)) = loads {
                self.book
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .update(taken, loads);
            }
        }
    }

    /// Reloads every worker's chain state and every live heartbeat into the eligibility book, and swaps it in
    /// with the new load snapshot, if any. The staked list and the candidates are built here, off the rounds'
    /// path, and both books change under both locks, so no round sees the new loads without their candidates
    /// (it would build the candidates of 10,000 workers itself).
    async fn reload_eligible(&self, loads: Option<(Instant, Arc<Loads>)>) -> sqlx::Result<()> {
        let alive_since = crate::offchain::unix_now().saturating_sub(self.heartbeat_ttl_secs);
        let (rows, alive) = tokio::try_join!(
            worker_rows(&self.pool, self.chain_id, None),
            live_heartbeats(&self.pool, self.chain_id, alive_since)
        )?;
        let min_stake = self
            .eligible
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .staked
            .as_ref()
            .map(|(min, _)| *min);
        let snapshot = match &loads {
            Some((_, loads)) => Some(loads.clone()),
            None => self
                .book
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .snapshot
                .as_ref()
                .map(|(_, loads)| loads.clone()),
        };
        let mut fresh = EligibleBook::default();
        fresh.apply(rows, true);
        fresh.alive = Some(alive);
        if let Some(min) = min_stake {
            let staked = Arc::new(fresh.staked_for(min));
            if let Some(snapshot) = snapshot {
                fresh.base = Some(CandidateBase::build(staked.clone(), snapshot));
            }
            fresh.staked = Some((min, staked));
        }
        let mut book = self.book.lock().unwrap_or_else(|e| e.into_inner());
        let mut eligible = self.eligible.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((taken, loads)) = loads {
            book.update(taken, loads);
        }
        *eligible = fresh;
        Ok(())
    }

    /// Analyzes the tables the scheduler's queries join once they changed much since their last analysis.
    ///
    /// A round's queries are planned from table statistics. A backlog indexed in seconds, or a fresh index,
    /// leaves `jobs` and `scheduler_intents` with none, or with figures from when they held a tenth of their
    /// rows; autovacuum analyzes up to a minute later. Meanwhile the planner took thousands of open jobs for one
    /// row and joined them with nested loops over whole tables: rounds of 10 to 20 s with 20,000 open jobs,
    /// instead of milliseconds.
    async fn refresh_statistics(&self) {
        let stale = book::stale_statistics(&self.pool).await;
        for table in stale.unwrap_or_default() {
            let started = Instant::now();
            let analyzed = book::analyze(&self.pool, &table).await;
            match analyzed {
                Ok(_) => {
                    debug!(target: "accord::scheduler", table, ms = started.elapsed().as_secs_f64() * 1e3, "statistics refreshed")
                }
                Err(e) => {
                    debug!(target: "accord::scheduler", table, error = %e, "cannot refresh statistics")
                }
            }
        }
    }

    /// Abandons intents whose sender died and orphans assignments whose block left the canonical chain.
    async fn repair_intents(&self) -> sqlx::Result<()> {
        let abandoned =
            intents::abandon_stale(&self.pool, self.chain_id, self.pending_timeout_secs as f64)
                .await?;
        // The index has passed the assignment's block, yet the job is still open at that attempt: the block was
        // reorged away (the index only holds final blocks, so this is decided on final data).
        let orphans = intents::orphans(&self.pool, self.chain_id).await?;
        let orphaned = if orphans.is_empty() {
            0
        } else {
            intents::orphan(&self.pool, &orphans).await?
        };
        if abandoned + orphaned > 0 {
            warn!(target: "accord::scheduler", abandoned, orphaned, "intents released for a new decision");
        }
        Ok(())
    }

    /// Every worker's load and record, read from the index and the intents.
    async fn loads(&self) -> sqlx::Result<Loads> {
        let load = book::loads(&self.pool, self.chain_id);
        let record = book::records(&self.pool, self.chain_id);
        let (load, record) = tokio::try_join!(load, record)?;
        Ok(Loads {
            load: load
                .into_iter()
                .filter_map(|l| l.worker.map(|w| (w, l.jobs)))
                .collect(),
            record: record
                .into_iter()
                .map(|r| (r.worker, (r.completed, r.failed)))
                .collect(),
        })
    }
}

/// What a transaction task needs.
struct TaskCtx<C: CoordinatorChain> {
    pool: PgPool,
    chain_id: i64,
    chain: Arc<C>,
    config: SchedulerConfig,
    report: watch::Sender<SchedulerStatus>,
}

impl<C: CoordinatorChain> TaskCtx<C> {
    /// Decides expiries of overdue assignments, refunds of lapsed jobs, settlements of disputes the arbiter left
    /// past their period (`expire`: the worker is paid, the client's bond returned), and finalizations of
    /// results whose challenge window closed, recording each as a pending intent.
    async fn decide_chores(self) -> anyhow::Result<Vec<Chore>> {
        let now = self.chain.clock().await?;
        let rows = intents::record_chores(
            &self.pool,
            self.chain_id,
            now as i64,
            self.config.refusal_backoff_secs as f64,
        )
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Chore {
                    id: row.id,
                    kind: row.kind,
                    job_id: row.job_id.parse().map_err(anyhow::Error::msg)?,
                })
            })
            .collect()
    }

    /// Sends one batch assignment and records each entry's outcome from its receipt. The decision latency runs
    /// from `seen_at` (the index update that made the jobs visible) until the signed transaction goes to the
    /// node: deciding, the price lookup and signing included.
    async fn send_batch(
        &self,
        decisions: Vec<Decision>,
        price: Option<C::Price>,
        seen_at: Option<Instant>,
        decided: Instant,
    ) {
        let n = decisions.len();
        debug!(target: "accord::scheduler", jobs = n, "sending assignBatch");
        let entries: Vec<(JobId, Address)> = decisions
            .iter()
            .map(|d| (d.job_id, d.worker.clone()))
            .collect();
        let ids: Vec<i64> = decisions.iter().map(|d| d.id).collect();
        // Decision latency ends when the signed transaction goes to the node; how long the node then takes to
        // accept it (its RPC latency, or on anvil the wait while it mines a block) is a metric of its own.
        let mut broadcast_at: Option<Instant> = None;
        let result = self
            .chain
            .assign_batch(&entries, price, |step| match step {
                SendStep::Broadcasting if broadcast_at.is_none() => {
                    broadcast_at = Some(Instant::now());
                    if let Some(seen) = seen_at {
                        metrics::histogram!("accord_scheduler_decision_seconds")
                            .record(seen.elapsed().as_secs_f64());
                    }
                }
                SendStep::Broadcasting => {}
                SendStep::Accepted(tx) => {
                    let Some(at) = broadcast_at else { return };
                    let node = at.elapsed();
                    metrics::histogram!("accord_scheduler_broadcast_seconds")
                        .record(node.as_secs_f64());
                    if let Some(seen) = seen_at {
                        let decision = at.saturating_duration_since(seen);
                        debug!(
                            target: "accord::scheduler",
                            jobs = n,
                            hash = %tx,
                            decision_ms = decision.as_secs_f64() * 1e3,
                            send_ms = at.saturating_duration_since(decided).as_secs_f64() * 1e3,
                            node_ms = node.as_secs_f64() * 1e3,
                            "assignBatch sent"
                        );
                    }
                }
            })
            .await;
        let outcome = match result {
            Ok(outcome) => self.record_outcome(&decisions, &outcome).await,
            Err(e) => {
                warn!(target: "accord::scheduler", jobs = n, error = %e, "assignBatch failed");
                self.report
                    .send_modify(|s| s.last_error = Some(e.to_string()));
                // A batch that may still be mined stays pending until the pending timeout.
                let state = if e.may_still_land {
                    "pending"
                } else {
                    "refused"
                };
                self.finish(&ids, state, &e.to_string(), None, None).await
            }
        };
        if let Err(e) = outcome {
            warn!(target: "accord::scheduler", error = %e, "cannot record assignment outcomes");
        }
    }

    async fn record_outcome(
        &self,
        decisions: &[Decision],
        outcome: &BatchOutcome,
    ) -> sqlx::Result<()> {
        let tx = outcome.included.tx.as_str();
        let block = outcome.included.block.map(|b| b as i64);
        let mut done = Vec::new();
        let mut refused: HashMap<String, Vec<i64>> = HashMap::new();
        for d in decisions {
            if outcome.assigned.contains(&d.job_id) {
                done.push(d.id);
            } else {
                let why = outcome
                    .skipped
                    .get(&d.job_id)
                    .cloned()
                    .unwrap_or_else(|| "not assigned by the transaction".into());
                refused.entry(why).or_default().push(d.id);
            }
        }
        self.finish(&done, "done", "", Some(tx), block).await?;
        let refused_count: usize = refused.values().map(Vec::len).sum();
        for (why, ids) in &refused {
            debug!(target: "accord::scheduler", jobs = ids.len(), reason = %why, "assignments refused");
            self.finish(ids, "refused", why, Some(tx), block).await?;
        }
        metrics::counter!("accord_scheduler_assigned_total").increment(done.len() as u64);
        metrics::counter!("accord_scheduler_refused_total").increment(refused_count as u64);
        self.report.send_modify(|s| {
            s.assigned += done.len() as u64;
            s.refused += refused_count as u64;
        });
        info!(target: "accord::scheduler", assigned = done.len(), refused = refused_count, tx = %tx, "batch mined");
        Ok(())
    }

    /// Sends one expiry, refund or finalization.
    async fn send_chore(&self, chore: Chore) {
        let result = self
            .chain
            .settle(Call::of_kind(&chore.kind), chore.job_id)
            .await;
        let outcome = match result {
            Ok(included) => {
                self.report.send_modify(|s| s.housekeeping += 1);
                info!(target: "accord::scheduler", kind = %chore.kind, job = %chore.job_id, "sent");
                self.finish(
                    &[chore.id],
                    "done",
                    "",
                    Some(&included.tx),
                    included.block.map(|b| b as i64),
                )
                .await
            }
            Err(e) => {
                debug!(target: "accord::scheduler", kind = %chore.kind, job = %chore.job_id, error = %e, "refused");
                self.finish(&[chore.id], "refused", &e.to_string(), None, None)
                    .await
            }
        };
        if let Err(e) = outcome {
            warn!(target: "accord::scheduler", error = %e, "cannot record a housekeeping outcome");
        }
    }

    async fn finish(
        &self,
        ids: &[i64],
        state: &str,
        reason: &str,
        tx: Option<&str>,
        block: Option<i64>,
    ) -> sqlx::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        intents::finish(&self.pool, self.chain_id, ids, state, reason, tx, block).await
    }
}
