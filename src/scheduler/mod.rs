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

pub mod strategy;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::sol_types::{SolCall, SolEvent};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::chain::evm::bindings::JobManager;
use crate::indexer::Status;
use crate::wallet::{TxError, TxSender};

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
}

/// The scheduler of one chain's deployment.
pub struct Scheduler {
    pool: PgPool,
    chain_id: i64,
    job_manager: Address,
    sender: TxSender,
    config: SchedulerConfig,
    index: watch::Receiver<Status>,
    report: watch::Sender<SchedulerStatus>,
}

/// One decided assignment.
#[derive(Debug, Clone)]
struct Decision {
    id: i64,
    job_id: U256,
    worker: Address,
}

/// One decided expiry, refund or finalization.
#[derive(Debug, Clone)]
struct Chore {
    id: i64,
    kind: String,
    job_id: U256,
}

/// A finished transaction task.
enum Done {
    Batch,
    Chore,
}

impl Scheduler {
    /// A scheduler sending from `sender` (which must hold COORDINATOR_ROLE) to `job_manager`; it wakes on every
    /// change of `index` and reports through the returned receiver.
    pub fn new(
        pool: PgPool,
        chain_id: u64,
        job_manager: Address,
        sender: TxSender,
        config: SchedulerConfig,
        index: watch::Receiver<Status>,
    ) -> (Self, watch::Receiver<SchedulerStatus>) {
        let (report, status) = watch::channel(SchedulerStatus {
            enabled: true,
            strategy: config.strategy.build(config.weights).name().into(),
            account: Some(format!("{:#x}", sender.address())),
            ..SchedulerStatus::default()
        });
        (
            Self {
                pool,
                chain_id: chain_id as i64,
                job_manager,
                sender,
                config,
                index,
                report,
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
                    info!(target: "accord::scheduler", account = %self.sender.address(), "leading: this replica assigns jobs");
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
        let locked: bool = sqlx::query_scalar(
            "SELECT pg_try_advisory_lock(hashtext(current_schema() || ':accord-scheduler:' || $1::text))",
        )
        .bind(self.chain_id)
        .fetch_one(&mut conn)
        .await?;
        Ok(locked.then_some(conn))
    }

    /// Leads until cancelled or until the lock session fails; returns why it stopped.
    async fn lead(&self, mut lock: PgConnection, cancel: &CancellationToken) -> String {
        let mut strategy = self.config.strategy.build(self.config.weights);
        let mut index = self.index.clone();
        let mut assigning: JoinSet<Done> = JoinSet::new();
        let poll = Duration::from_millis(self.config.poll_interval_ms);
        let mut lock_checked = Instant::now();
        let mut chores_at = Instant::now();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => {
                    // Let sent transactions finish recording their outcome.
                    while assigning.join_next().await.is_some() {}
                    return "cancelled".into();
                }
                changed = index.changed() => {
                    if changed.is_err() {
                        // The indexer is gone: keep polling on the interval.
                        tokio::time::sleep(poll).await;
                    }
                }
                Some(_) = assigning.join_next(), if !assigning.is_empty() => {}
                _ = tokio::time::sleep(poll) => {}
            }
            if lock_checked.elapsed() >= Duration::from_secs(1) {
                if let Err(e) = sqlx::query("SELECT 1").execute(&mut lock).await {
                    while assigning.join_next().await.is_some() {}
                    return format!("leader lock session failed: {e}");
                }
                lock_checked = Instant::now();
            }
            let seen_at = index.borrow_and_update().indexed_at;
            let batches = assigning.len();
            if let Err(e) = self
                .round(strategy.as_mut(), &mut assigning, batches, seen_at)
                .await
            {
                warn!(target: "accord::scheduler", error = %e, "scheduling round failed");
                self.report
                    .send_modify(|s| s.last_error = Some(e.to_string()));
            }
            if self.config.housekeeping && chores_at.elapsed() >= poll {
                chores_at = Instant::now();
                if let Err(e) = self.chores(&mut assigning).await {
                    warn!(target: "accord::scheduler", error = %e, "housekeeping round failed");
                }
            }
        }
    }

    /// One scheduling round: repairs stale intents, decides a batch and sends it.
    async fn round(
        &self,
        strategy: &mut dyn Strategy,
        assigning: &mut JoinSet<Done>,
        batches: usize,
        seen_at: Option<Instant>,
    ) -> anyhow::Result<()> {
        self.repair_intents().await?;
        if batches >= self.config.max_in_flight {
            return Ok(());
        }
        let decisions = self.decide(strategy).await?;
        if decisions.is_empty() {
            return Ok(());
        }
        let this = self.clone_for_task();
        assigning.spawn(async move {
            this.send_batch(decisions, seen_at).await;
            Done::Batch
        });
        Ok(())
    }

    fn clone_for_task(&self) -> TaskCtx {
        TaskCtx {
            pool: self.pool.clone(),
            chain_id: self.chain_id,
            job_manager: self.job_manager,
            sender: self.sender.clone(),
            config: self.config.clone(),
            report: self.report.clone(),
        }
    }

    /// Abandons intents whose sender died and orphans assignments whose block left the canonical chain.
    async fn repair_intents(&self) -> sqlx::Result<()> {
        let abandoned = sqlx::query(
            "UPDATE scheduler_intents SET state = 'abandoned', reason = 'no receipt recorded in time', updated_at = now() \
             WHERE chain_id = $1 AND state = 'pending' AND updated_at < now() - make_interval(secs => $2)",
        )
        .bind(self.chain_id)
        .bind(self.config.pending_timeout_secs as f64)
        .execute(&self.pool)
        .await?
        .rows_affected();
        // The index has passed the assignment's block, yet the job is still open at that attempt: the block was
        // reorged away (the index only holds final blocks, so this is decided on final data).
        let orphaned = sqlx::query(
            "UPDATE scheduler_intents i SET state = 'orphaned', reason = 'its block left the canonical chain', updated_at = now() \
             FROM jobs j, indexer_cursor c \
             WHERE i.chain_id = $1 AND i.kind = 'assign' AND i.state = 'done' \
               AND j.chain_id = i.chain_id AND j.job_id = i.job_id AND j.status = 'open' \
               AND j.max_attempts - j.attempts_left + 1 = i.attempt \
               AND c.chain_id = i.chain_id AND i.block_number <= c.block_number",
        )
        .bind(self.chain_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if abandoned + orphaned > 0 {
            warn!(target: "accord::scheduler", abandoned, orphaned, "intents released for a new decision");
        }
        Ok(())
    }

    /// Picks workers for open jobs and records the decisions as pending intents.
    async fn decide(&self, strategy: &mut dyn Strategy) -> anyhow::Result<Vec<Decision>> {
        let now = self.chain_time().await?;
        let jobs: Vec<(String, i32, i32)> = sqlx::query_as(
            "SELECT j.job_id::text, j.required_capabilities, j.max_attempts - j.attempts_left + 1 \
             FROM jobs j \
             WHERE j.chain_id = $1 AND j.status = 'open' AND j.deadline > $2 \
               AND NOT EXISTS (SELECT 1 FROM scheduler_intents i \
                   WHERE i.chain_id = j.chain_id AND i.kind = 'assign' AND i.job_id = j.job_id \
                     AND i.attempt = j.max_attempts - j.attempts_left + 1 \
                     AND (i.state IN ('pending', 'done') \
                          OR (i.state = 'refused' AND i.updated_at > now() - make_interval(secs => $3)))) \
             ORDER BY j.job_id LIMIT $4",
        )
        .bind(self.chain_id)
        .bind(now as i64)
        .bind(self.config.refusal_backoff_secs as f64)
        .bind(self.config.max_batch as i64)
        .fetch_all(&self.pool)
        .await?;
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let mut candidates = self.candidates().await?;
        let mut picked: Vec<(String, i32, String)> = Vec::with_capacity(jobs.len());
        for (job_id, required, attempt) in jobs {
            let Some(i) = strategy.pick(required as u16, &candidates) else {
                continue;
            };
            candidates[i].load += 1;
            picked.push((job_id, attempt, candidates[i].address.clone()));
        }
        if picked.is_empty() {
            return Ok(Vec::new());
        }
        let (ids, rest): (Vec<String>, Vec<(i32, String)>) =
            picked.into_iter().map(|(j, a, w)| (j, (a, w))).unzip();
        let (attempts, workers): (Vec<i32>, Vec<String>) = rest.into_iter().unzip();
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "INSERT INTO scheduler_intents (chain_id, kind, job_id, attempt, worker, state) \
             SELECT $1, 'assign', j::numeric, a, w, 'pending' FROM UNNEST($2::text[], $3::int[], $4::text[]) AS t(j, a, w) \
             ON CONFLICT (chain_id, kind, job_id, attempt) WHERE state IN ('pending', 'done') DO NOTHING \
             RETURNING id, job_id::text, worker",
        )
        .bind(self.chain_id)
        .bind(&ids)
        .bind(&attempts)
        .bind(&workers)
        .fetch_all(&self.pool)
        .await?;
        let mut decisions = Vec::with_capacity(rows.len());
        for (id, job, worker) in rows {
            decisions.push(Decision {
                id,
                job_id: job.parse()?,
                worker: worker.parse()?,
            });
        }
        decisions.sort_by_key(|d| d.job_id);
        Ok(decisions)
    }

    /// Eligible workers with their load: registered (indexed), not jailed, stake at least the current minimum,
    /// a heartbeat within the TTL.
    async fn candidates(&self) -> sqlx::Result<Vec<Candidate>> {
        let alive_since =
            crate::offchain::unix_now().saturating_sub(self.config.heartbeat_ttl_secs);
        let rows: Vec<(String, i32, String, i32, i64, i64, i64)> = sqlx::query_as(
            "WITH min AS ( \
                 SELECT COALESCE((SELECT value FROM params WHERE chain_id = $1 AND contract = 'WorkerRegistry' AND key = 'minStake'), 0) AS v), \
             busy AS ( \
                 SELECT worker, count(*) AS n FROM jobs WHERE chain_id = $1 AND status = 'assigned' GROUP BY worker), \
             sent AS ( \
                 SELECT i.worker, count(*) AS n FROM scheduler_intents i \
                 JOIN jobs j ON j.chain_id = i.chain_id AND j.job_id = i.job_id \
                 WHERE i.chain_id = $1 AND i.kind = 'assign' AND i.state IN ('pending', 'done') AND j.status = 'open' \
                 GROUP BY i.worker), \
             record AS ( \
                 SELECT worker, count(*) FILTER (WHERE outcome = 'paid') AS completed, \
                        count(*) FILTER (WHERE outcome IN ('expired', 'refunded')) AS failed \
                 FROM assignments WHERE chain_id = $1 GROUP BY worker) \
             SELECT w.address, w.capabilities, w.stake::text, h.capacity, \
                    COALESCE(busy.n, 0) + COALESCE(sent.n, 0), COALESCE(r.completed, 0), COALESCE(r.failed, 0) \
             FROM workers w \
             JOIN heartbeats h ON h.chain_id = w.chain_id AND h.worker = w.address \
             CROSS JOIN min \
             LEFT JOIN busy ON busy.worker = w.address \
             LEFT JOIN sent ON sent.worker = w.address \
             LEFT JOIN record r ON r.worker = w.address \
             WHERE w.chain_id = $1 AND NOT w.jailed AND w.stake >= min.v AND w.stake > 0 AND h.signed_at >= $2 \
             ORDER BY w.address",
        )
        .bind(self.chain_id)
        .bind(alive_since as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(address, capabilities, stake, capacity, load, completed, failed)| Candidate {
                    address,
                    capabilities: capabilities as u16,
                    // Tokens as a float, for ranking only.
                    stake: stake.parse::<f64>().unwrap_or(0.0) / 1e18,
                    capacity: capacity.max(0) as u32,
                    load: load.clamp(0, i64::from(u32::MAX)) as u32,
                    completed: completed.max(0) as u64,
                    failed: failed.max(0) as u64,
                },
            )
            .collect())
    }

    /// The latest block's timestamp: the contract's clock.
    async fn chain_time(&self) -> anyhow::Result<u64> {
        let block = self
            .sender
            .provider()
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot read the latest block: {}",
                    crate::chain::redact_error(&e.to_string())
                )
            })?
            .ok_or_else(|| anyhow::anyhow!("the node has no latest block"))?;
        Ok(block.header.timestamp)
    }

    /// Decides and sends expiries of overdue assignments, refunds of lapsed jobs and disputes, and
    /// finalizations of results whose challenge window closed.
    async fn chores(&self, tasks: &mut JoinSet<Done>) -> anyhow::Result<()> {
        let now = self.chain_time().await?;
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "WITH due AS ( \
                 SELECT j.job_id, j.max_attempts - j.attempts_left AS attempt, \
                        CASE WHEN j.status = 'assigned' THEN 'expire' \
                             WHEN j.status = 'submitted' THEN 'finalize' ELSE 'refund' END AS kind \
                 FROM jobs j \
                 WHERE j.chain_id = $1 AND ( \
                       (j.status IN ('assigned', 'disputed') AND j.due < $2) \
                    OR (j.status = 'submitted' AND j.due <= $2) \
                    OR (j.status = 'open' AND j.deadline <= $2)) \
                 ORDER BY j.job_id LIMIT 64) \
             INSERT INTO scheduler_intents (chain_id, kind, job_id, attempt, state) \
             SELECT $1, d.kind, d.job_id, d.attempt, 'pending' FROM due d \
             WHERE NOT EXISTS (SELECT 1 FROM scheduler_intents i WHERE i.chain_id = $1 AND i.kind = d.kind \
                   AND i.job_id = d.job_id AND i.attempt = d.attempt AND i.state = 'refused' \
                   AND i.updated_at > now() - make_interval(secs => $3)) \
             ON CONFLICT (chain_id, kind, job_id, attempt) WHERE state IN ('pending', 'done') DO NOTHING \
             RETURNING id, kind, job_id::text",
        )
        .bind(self.chain_id)
        .bind(now as i64)
        .bind(self.config.refusal_backoff_secs as f64)
        .fetch_all(&self.pool)
        .await?;
        for (id, kind, job) in rows {
            let chore = Chore {
                id,
                kind,
                job_id: job.parse()?,
            };
            let this = self.clone_for_task();
            tasks.spawn(async move {
                this.send_chore(chore).await;
                Done::Chore
            });
        }
        Ok(())
    }
}

/// What a transaction task needs.
struct TaskCtx {
    pool: PgPool,
    chain_id: i64,
    job_manager: Address,
    sender: TxSender,
    config: SchedulerConfig,
    report: watch::Sender<SchedulerStatus>,
}

impl TaskCtx {
    /// Sends one `assignBatch` and records each entry's outcome from the receipt.
    async fn send_batch(&self, decisions: Vec<Decision>, seen_at: Option<Instant>) {
        let n = decisions.len();
        let call = JobManager::assignBatchCall {
            jobIds: decisions.iter().map(|d| d.job_id).collect(),
            workers: decisions.iter().map(|d| d.worker).collect(),
        };
        let gas = self.config.batch_base_gas + self.config.gas_per_assignment * n as u64;
        if let Some(seen) = seen_at {
            metrics::histogram!("accord_scheduler_decision_seconds")
                .record(seen.elapsed().as_secs_f64());
        }
        debug!(target: "accord::scheduler", jobs = n, gas, "sending assignBatch");
        let ids: Vec<i64> = decisions.iter().map(|d| d.id).collect();
        let result = self
            .sender
            .send_with_gas(self.job_manager, call.abi_encode().into(), gas)
            .await;
        let outcome = match result {
            Ok(receipt) => self.record_receipt(&decisions, &receipt).await,
            Err(e) => {
                warn!(target: "accord::scheduler", jobs = n, error = %e, "assignBatch failed");
                self.report
                    .send_modify(|s| s.last_error = Some(e.to_string()));
                let state = if matches!(e, TxError::Timeout { .. }) {
                    // It may still be mined: leave it pending until the pending timeout.
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

    async fn record_receipt(
        &self,
        decisions: &[Decision],
        receipt: &alloy::rpc::types::TransactionReceipt,
    ) -> sqlx::Result<()> {
        let tx = format!("{:#x}", receipt.transaction_hash);
        let block = receipt.block_number.map(|b| b as i64);
        let mut assigned: HashMap<U256, ()> = HashMap::new();
        let mut skipped: HashMap<U256, String> = HashMap::new();
        for log in receipt.inner.logs() {
            if log.address() != self.job_manager {
                continue;
            }
            if let Ok(e) = JobManager::JobAssigned::decode_log(&log.inner) {
                assigned.insert(e.jobId, ());
            } else if let Ok(e) = JobManager::AssignmentSkipped::decode_log(&log.inner) {
                skipped.insert(e.jobId, crate::wallet::decode_revert(&e.reason).to_string());
            }
        }
        let mut done = Vec::new();
        let mut refused: HashMap<String, Vec<i64>> = HashMap::new();
        for d in decisions {
            if assigned.contains_key(&d.job_id) {
                done.push(d.id);
            } else {
                let why = skipped
                    .get(&d.job_id)
                    .cloned()
                    .unwrap_or_else(|| "not assigned by the transaction".into());
                refused.entry(why).or_default().push(d.id);
            }
        }
        self.finish(&done, "done", "", Some(&tx), block).await?;
        let refused_count: usize = refused.values().map(Vec::len).sum();
        for (why, ids) in &refused {
            debug!(target: "accord::scheduler", jobs = ids.len(), reason = %why, "assignments refused");
            self.finish(ids, "refused", why, Some(&tx), block).await?;
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
        let input: Vec<u8> = match chore.kind.as_str() {
            "finalize" => JobManager::finalizeCall {
                jobId: chore.job_id,
            }
            .abi_encode(),
            _ => JobManager::expireCall {
                jobId: chore.job_id,
            }
            .abi_encode(),
        };
        let result = self.sender.send(self.job_manager, input.into()).await;
        let outcome = match result {
            Ok(receipt) => {
                self.report.send_modify(|s| s.housekeeping += 1);
                info!(target: "accord::scheduler", kind = %chore.kind, job = %chore.job_id, "sent");
                self.finish(
                    &[chore.id],
                    "done",
                    "",
                    Some(&format!("{:#x}", receipt.transaction_hash)),
                    receipt.block_number.map(|b| b as i64),
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
        sqlx::query(
            "UPDATE scheduler_intents SET state = $2, reason = NULLIF($3, ''), tx_hash = COALESCE($4, tx_hash), \
             block_number = COALESCE($5, block_number), updated_at = now() \
             WHERE chain_id = $6 AND id = ANY($1)",
        )
        .bind(ids)
        .bind(state)
        .bind(reason)
        .bind(tx)
        .bind(block)
        .bind(self.chain_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
