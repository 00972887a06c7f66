//! Sending what a round decided: batch assignments with each entry's outcome from the receipt, and the
//! housekeeping calls (expire, refund, finalize), each finishing its intent.

use std::collections::HashMap;
use std::time::Instant;

use tracing::{debug, info, warn};

use super::TaskCtx;
use super::decide::{Chore, Decision};
use super::error::{Error, Result};
use crate::chain::actions::{BatchOutcome, Chore as Call, CoordinatorChain, SendStep};
use crate::domain::{Address, JobId};
use crate::store::intents;

impl<C: CoordinatorChain> TaskCtx<C> {
    /// Decides expiries of overdue assignments, refunds of lapsed jobs, settlements of disputes the arbiter left
    /// past their period (`expire`: the worker is paid, the client's bond returned), and finalizations of
    /// results whose challenge window closed, recording each as a pending intent.
    pub(super) async fn decide_chores(self) -> Result<Vec<Chore>> {
        let now = self.chain.clock().await.map_err(Error::chain)?;
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
                    job_id: row
                        .job_id
                        .parse()
                        .map_err(|e| Error::Index(format!("job id {}: {e}", row.job_id)))?,
                })
            })
            .collect()
    }

    /// Sends one batch assignment and records each entry's outcome from its receipt. The decision latency runs
    /// from `seen_at` (the index update that made the jobs visible) until the signed transaction goes to the
    /// node: deciding, the price lookup and signing included.
    pub(super) async fn send_batch(
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

    pub(super) async fn record_outcome(
        &self,
        decisions: &[Decision],
        outcome: &BatchOutcome,
    ) -> sqlx::Result<()> {
        let tx = outcome.included.tx.as_str();
        let block = outcome.included.block.map(|b| b as i64);
        let mut done = Vec::new();
        let mut refused: HashMap<String, Vec<i64>> = HashMap::new();
        for d in decisions {
            let entry = (d.job_id, d.worker.clone());
            if outcome.assigned.contains(&entry) {
                done.push(d.id);
            } else {
                let why = outcome
                    .skipped
                    .get(&entry)
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
    pub(super) async fn send_chore(&self, chore: Chore) {
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

    pub(super) async fn finish(
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
