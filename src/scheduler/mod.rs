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
//!
//! The parts: `config.rs` (the `[scheduler]` settings), `leader.rs` (the leader lock and the loop that wakes the
//! rounds), `book.rs` (workers' eligibility, load and record kept between rounds, and their upkeep), `decide.rs`
//! (a round's decision and the chain view), `submit.rs` (sending batches and housekeeping calls, recording each
//! outcome), `strategy.rs` (how a worker is picked) and `error.rs`.

mod book;
mod config;
mod decide;
mod error;
mod leader;
pub mod strategy;
mod submit;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::sync::watch;

use crate::chain::actions::CoordinatorChain;
use crate::indexer::Status;
use book::{EligibleBook, LoadBook, Upkeep};
use decide::ChainView;

pub use config::SchedulerConfig;
pub use error::Error;
pub use strategy::{Candidate, Strategy, StrategyKind, Weights};

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
}

/// What a transaction task needs.
struct TaskCtx<C: CoordinatorChain> {
    pool: PgPool,
    chain_id: i64,
    chain: Arc<C>,
    config: SchedulerConfig,
    report: watch::Sender<SchedulerStatus>,
}
