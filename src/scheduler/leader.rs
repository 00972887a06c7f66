//! Leading: the PostgreSQL advisory lock that makes one replica the leader, and the loop that wakes a round on
//! every index update, on a finished batch, on a full batch with room for another, and on the poll interval;
//! upkeep and housekeeping run beside it.

use std::time::{Duration, Instant};

use sqlx::PgConnection;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::Scheduler;
use super::book::UPKEEP_INTERVAL;
use super::decide::{Chore, Round, watch_chain};
use super::error::Result;
use crate::chain::actions::CoordinatorChain;
use crate::store::leader;

impl<C: CoordinatorChain> Scheduler<C> {
    /// Runs until cancelled: waits for the leader lock, then leads until the lock is lost.
    pub async fn run(self, cancel: CancellationToken) -> Result<()> {
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
    pub(super) async fn try_lead(&self) -> Result<Option<PgConnection>> {
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
        let mut deciding_chores: Option<tokio::task::JoinHandle<Result<Vec<Chore>>>> = None;
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

    /// Waits for the housekeeping decision in `deciding`, if any, and sends what it decided.
    async fn finish_chores(
        &self,
        deciding: Option<tokio::task::JoinHandle<Result<Vec<Chore>>>>,
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
