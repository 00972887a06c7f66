//! `[scheduler]` settings.

use serde::{Deserialize, Serialize};

use super::strategy::{StrategyKind, Weights};

/// `[scheduler]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulerConfig {
    /// Run the scheduler (it also needs a signer with the coordinator role).
    pub enabled: bool,
    /// `weighted` (default), `round-robin`, `least-loaded` or `placement`.
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
