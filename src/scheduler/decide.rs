//! A round's decision: the open jobs, the candidates from the books, the strategy's picks, recorded as pending
//! intents; and the chain's clock and fees read beside the rounds ([`ChainView`]).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tracing::debug;

use super::Scheduler;
use super::book::{CandidateBase, WorkerChanges, live_heartbeats, worker_rows};
use super::error::{Error, Result};
use super::strategy::{Candidate, Strategy};
use crate::chain::actions::CoordinatorChain;
use crate::domain::{Address, JobId, U256};
use crate::store::book::{self, OpenJob};
use crate::store::intents;

/// The latest block's timestamp and the node's price for a transaction, read together at `read_at`.
#[derive(Debug, Clone, Copy)]
pub(super) struct ChainView<P> {
    pub(super) read_at: Instant,
    pub(super) timestamp: u64,
    pub(super) fees: Option<P>,
}

impl<P: Copy> ChainView<P> {
    /// The chain clock now, `timestamp` plus the whole seconds elapsed since it was read, and the fees; `None`
    /// when the view is older than [`CHAIN_VIEW_MAX_AGE`] (the node stopped answering, or the view was never
    /// read), so the round reads the node itself.
    pub(super) fn current(view: &Mutex<Option<ChainView<P>>>) -> Option<(u64, Option<P>)> {
        let view = (*view.lock().unwrap_or_else(|e| e.into_inner()))?;
        let age = view.read_at.elapsed();
        (age <= CHAIN_VIEW_MAX_AGE)
            .then(|| (view.timestamp.saturating_add(age.as_secs()), view.fees))
    }
}

/// One decided assignment.
#[derive(Debug, Clone)]
pub(super) struct Decision {
    pub(super) id: i64,
    pub(super) job_id: JobId,
    pub(super) worker: Address,
}

/// One decided expiry, refund or finalization.
#[derive(Debug, Clone)]
pub(super) struct Chore {
    pub(super) id: i64,
    pub(super) kind: String,
    pub(super) job_id: JobId,
}

/// What a scheduling round did.
pub(super) enum Round {
    /// Decided (possibly nothing); `more` when the batch was full, so more open jobs may wait.
    Decided { more: bool },
    /// `max_in_flight` batches are out: nothing decided.
    Busy,
}

/// The chain clock and fees are read beside the rounds this often.
const CHAIN_VIEW_REFRESH: Duration = Duration::from_millis(250);

/// A round uses the chain clock and fees read beside it while they are at most this old, and reads the node
/// itself otherwise. Fees older than a second could be short of a rising base fee (12.5 % a full block).
const CHAIN_VIEW_MAX_AGE: Duration = Duration::from_secs(1);

impl<C: CoordinatorChain> Scheduler<C> {
    /// One scheduling round: decides a batch and hands it to a sending task. `waiting_since` is the index
    /// update since which the jobs decided here have been visible (the start of the decision latency).
    pub(super) async fn round(
        &self,
        strategy: &mut dyn Strategy,
        assigning: &mut JoinSet<()>,
        batches: usize,
        waiting_since: Option<Instant>,
    ) -> Result<Round> {
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
    pub(super) async fn decide(
        &self,
        strategy: &mut dyn Strategy,
    ) -> Result<(Vec<Decision>, bool, Option<C::Price>)> {
        let started = Instant::now();
        let floor = self.clock_floor.load(Ordering::Relaxed);
        // The clock and fees read beside the rounds, or the node's own answer when that view is stale.
        let view = ChainView::current(&self.chain_view);
        let clock = async {
            let (now, fees) = match view {
                Some(view) => view,
                None => (self.chain.clock().await.map_err(Error::chain)?, None),
            };
            Ok::<_, Error>((now, fees, started.elapsed()))
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
            Ok::<_, Error>((jobs, started.elapsed()))
        };
        let gathering = async {
            Ok::<_, Error>(
                book::gathering_jobs(
                    &self.pool,
                    self.chain_id,
                    floor.min(i64::MAX as u64) as i64,
                    self.config.refusal_backoff_secs as f64,
                    self.config.max_batch as i64,
                )
                .await?,
            )
        };
        let workers = async { Ok::<_, Error>((self.worker_changes().await?, started.elapsed())) };
        let ((now, fees, clock), (jobs, selected), gathering, (workers, ranked)) =
            tokio::try_join!(clock, open_jobs, gathering, workers)?;
        // Stored, not ratcheted: a node that once answered a time far ahead would otherwise hide every open job
        // from the next rounds' query for good.
        self.clock_floor.store(now, Ordering::Relaxed);
        // The minimum stake comes with the open jobs (the same on every row); without open jobs it is not needed.
        let min_stake: U256 = jobs
            .first()
            .and_then(|j| j.min_stake.as_deref())
            .or_else(|| gathering.first().and_then(|j| j.min_stake.as_deref()))
            .and_then(|v| v.parse().ok())
            .unwrap_or_default();
        // A full page means more may wait, even when the clock dropped some of it.
        let full = jobs.len() >= self.config.max_batch;
        let now = now.min(i64::MAX as u64) as i64;
        let jobs: Vec<OpenJob> = jobs
            .into_iter()
            .filter(|j| j.deadline > now && j.deadline >= now.saturating_add(j.submit_window))
            .collect();
        if jobs.is_empty() && gathering.is_empty() {
            // The worker rows read are applied by the next round that has jobs (they are re-read until then).
            return Ok((Vec::new(), full, None));
        }
        let read = started.elapsed();
        let mut candidates = self.candidates(workers, min_stake);
        let built = started.elapsed();
        let mut picked: Vec<intents::NewAssignment> = Vec::with_capacity(jobs.len());
        for job in jobs {
            let Some(i) =
                strategy.pick_for(&job.job_id, job.required_capabilities as u16, &candidates)
            else {
                continue;
            };
            candidates[i].load += 1;
            picked.push(intents::NewAssignment {
                job_id: job.job_id,
                attempt: job.attempt,
                worker: candidates[i].address.to_string(),
            });
        }
        // The exact time check with this round's clock (the query used the previous round's).
        for job in gathering
            .into_iter()
            .filter(|j| j.commit_by > now && j.commit_by >= now.saturating_add(j.submit_window))
        {
            pick_replicas(strategy, &mut candidates, job, &mut picked);
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
                job_id: row
                    .job_id
                    .parse()
                    .map_err(|e| Error::Index(format!("job id {}: {e}", row.job_id)))?,
                worker: Address::parse(family, &row.worker)
                    .map_err(|e| Error::Index(e.to_string()))?,
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
    pub(super) async fn worker_changes(&self) -> sqlx::Result<WorkerChanges> {
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
    pub(super) fn candidates(&self, changes: WorkerChanges, min_stake: U256) -> Vec<Candidate> {
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
}

/// Reads the chain clock and fees into `view` every [`CHAIN_VIEW_REFRESH`], until dropped. A failed read leaves
/// the last view to age out.
pub(super) async fn watch_chain<C: CoordinatorChain>(
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

/// Picks workers for the replicas `job` still needs, each a distinct worker that holds no replica of it yet and is
/// not its client; appends them to `picked` under fresh intent numbers, all of them or none (a job assigned only
/// in part starts its commit clock and may never gather). Candidates out of the question are hidden from the
/// strategy for the pick (as if full) and restored after.
fn pick_replicas(
    strategy: &mut dyn Strategy,
    candidates: &mut [Candidate],
    job: book::GatheringJob,
    picked: &mut Vec<intents::NewAssignment>,
) {
    let needed = i64::from(job.redundancy) - job.assigned - job.in_flight;
    if needed <= 0 {
        return;
    }
    let mut excluded: std::collections::HashSet<String> = job.taken.into_iter().collect();
    excluded.insert(job.client);
    let mut attempt = job.last_attempt;
    let mut chosen: Vec<usize> = Vec::new();
    for _ in 0..needed {
        let mut hidden = Vec::new();
        for (i, c) in candidates.iter_mut().enumerate() {
            if excluded.contains(c.address.as_ref()) {
                hidden.push((i, c.load));
                c.load = c.capacity;
            }
        }
        let choice = strategy.pick_for(&job.job_id, job.required_capabilities as u16, candidates);
        for (i, load) in hidden {
            candidates[i].load = load;
        }
        let Some(i) = choice else {
            for i in chosen {
                candidates[i].load -= 1;
            }
            return;
        };
        candidates[i].load += 1;
        excluded.insert(candidates[i].address.to_string());
        chosen.push(i);
    }
    for i in chosen {
        attempt += 1;
        picked.push(intents::NewAssignment {
            job_id: job.job_id.clone(),
            attempt,
            worker: candidates[i].address.to_string(),
        });
    }
}
