//! The books a leader keeps between rounds: workers' chain state and liveness ([`EligibleBook`]), their load and
//! record ([`LoadBook`]), the candidates built from both, and the [`Upkeep`] that refreshes them about once a
//! second, off the path from an index update to the next batch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tracing::{debug, warn};

use super::strategy::Candidate;
use crate::domain::U256;
use crate::store::book::{self, WorkerRow};
use crate::store::{heartbeats, intents};

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
pub(super) struct EligibleBook {
    /// Every indexed worker's chain state, by lowercase address (ordered as the SQL `ORDER BY address` was).
    pub(super) workers: std::collections::BTreeMap<Arc<str>, WorkerState>,
    /// Rows of `workers` with `updated_block` after this are read each round; `None` until loaded.
    pub(super) through_block: Option<i64>,
    /// Each worker's latest heartbeat within the TTL, `(capacity, signed_at)`, as of the last snapshot.
    pub(super) alive: Option<HashMap<String, (i32, i64)>>,
    /// The workers eligible but for liveness and load, built from the two above for a minimum stake; dropped
    /// whenever either changes, so most rounds reuse it.
    pub(super) staked: Option<(U256, Arc<Vec<Staked>>)>,
    /// Those workers as candidates with the loads of one snapshot.
    pub(super) base: Option<CandidateBase>,
}

/// Every staked worker as a candidate with its load and record of one load snapshot, in the staked list's order,
/// and each one's position by address.
#[derive(Debug, Clone)]
pub(super) struct CandidateBase {
    pub(super) staked: Arc<Vec<Staked>>,
    pub(super) loads: Arc<Loads>,
    pub(super) candidates: Arc<Vec<Candidate>>,
    pub(super) position: Arc<HashMap<Arc<str>, usize>>,
}

impl CandidateBase {
    pub(super) fn build(staked: Arc<Vec<Staked>>, loads: Arc<Loads>) -> Self {
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
pub(super) struct Staked {
    pub(super) address: Arc<str>,
    pub(super) capabilities: u16,
    pub(super) tokens: f64,
    pub(super) capacity: u32,
    pub(super) signed_at: i64,
}

/// One worker's row in the index, as the scheduler needs it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct WorkerState {
    pub(super) capabilities: i32,
    pub(super) stake: U256,
    /// The stake in tokens, for ranking only.
    pub(super) tokens: f64,
    pub(super) jailed: bool,
}

impl EligibleBook {
    /// Applies rows of `workers`; a full load replaces everything.
    pub(super) fn apply(&mut self, rows: Vec<WorkerRow>, full: bool) {
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
    pub(super) fn staked_for(&self, min_stake: U256) -> Vec<Staked> {
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
pub(super) async fn worker_rows(
    pool: &PgPool,
    chain_id: i64,
    through: Option<i64>,
) -> sqlx::Result<Vec<WorkerRow>> {
    book::workers_updated_after(pool, chain_id, through.unwrap_or(i64::MIN)).await
}

/// Each worker's stored heartbeat signed at or after `alive_since`.
pub(super) async fn live_heartbeats(
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
pub(super) struct LoadBook {
    /// The last snapshot and when its statement started.
    pub(super) snapshot: Option<(Instant, Arc<Loads>)>,
    /// Assignments decided (intent committed) since, with when the insert returned, by worker.
    pub(super) decided: Vec<(Instant, String)>,
}

/// Load and record per worker (lowercase address).
#[derive(Debug, Default, Clone)]
pub(super) struct Loads {
    /// Jobs assigned in the index, plus live intents of jobs still open there (sent, not indexed yet).
    pub(super) load: HashMap<String, i64>,
    /// Assignments paid, and expired or refunded.
    pub(super) record: HashMap<String, (i64, i64)>,
}

impl LoadBook {
    /// Takes a snapshot whose statement started at `taken`, unless a newer one is in.
    pub(super) fn update(&mut self, taken: Instant, loads: Arc<Loads>) {
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
    pub(super) fn current(&self) -> Option<CurrentLoads> {
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
pub(super) struct CurrentLoads {
    pub(super) snapshot: Arc<Loads>,
    pub(super) decided: HashMap<String, i64>,
}

/// What a round read for its candidates, applied to the books once the round's reads are all in.
pub(super) struct WorkerChanges {
    /// The book's `through_block` when the rows were read (`None`: every row).
    pub(super) through: Option<i64>,
    pub(super) rows: Vec<WorkerRow>,
    /// Every live heartbeat, when the book had none.
    pub(super) alive: Option<HashMap<String, (i32, i64)>>,
    /// Heartbeats signed before this are stale (unix seconds).
    pub(super) alive_since: u64,
}

/// What runs beside the rounds, about once a second: table statistics, stale intents, the load snapshot.
#[derive(Clone)]
pub(super) struct Upkeep {
    pub(super) pool: PgPool,
    pub(super) chain_id: i64,
    pub(super) pending_timeout_secs: u64,
    pub(super) heartbeat_ttl_secs: u64,
    pub(super) book: Arc<Mutex<LoadBook>>,
    pub(super) eligible: Arc<Mutex<EligibleBook>>,
}

impl Upkeep {
    pub(super) async fn run(self) {
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
    pub(super) async fn reload_eligible(
        &self,
        loads: Option<(Instant, Arc<Loads>)>,
    ) -> sqlx::Result<()> {
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
    pub(super) async fn refresh_statistics(&self) {
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
    pub(super) async fn repair_intents(&self) -> sqlx::Result<()> {
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
    pub(super) async fn loads(&self) -> sqlx::Result<Loads> {
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

/// Upkeep (statistics, stale intents, the load snapshot) runs this often, or every poll interval if longer.
pub(super) const UPKEEP_INTERVAL: Duration = Duration::from_secs(1);
