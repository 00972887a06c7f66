//! The indexing loop. See the module docs of [`crate::indexer`].

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use sqlx::PgPool;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::IndexerConfig;
use super::range::RangeSizer;
use super::reorg::fork_point;
use super::{Error, Result, Status};
use crate::chain::{BlockRef, Chain};
use crate::domain::{ChainId, EventRecord, LiveEvent, Stream};
use crate::store::apply::{apply_events, replay_streams};
use crate::store::{blocks, bulk, cursor, leader, outbox, raw};

/// Where indexing stands: the last block whose events are all applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Block number.
    pub number: u64,
    /// Its hash.
    pub hash: String,
}

/// Indexes one chain into one database.
pub struct Indexer<C: Chain> {
    chain: C,
    pool: PgPool,
    config: IndexerConfig,
    start_block: u64,
    stop_at: Option<u64>,
    standby: bool,
    status: watch::Sender<Status>,
    events: broadcast::Sender<LiveEvent>,
}

impl<C: Chain + Clone + 'static> Indexer<C> {
    /// An indexer that starts at `start_block` (the deploy block) when the database has no cursor yet.
    pub fn new(
        chain: C,
        pool: PgPool,
        config: IndexerConfig,
        start_block: u64,
        status: watch::Sender<Status>,
        events: broadcast::Sender<LiveEvent>,
    ) -> Self {
        status.send_modify(|s| {
            s.chain_id = chain.chain_id();
            s.confirmations = config.confirmations;
        });
        Self {
            chain,
            pool,
            config,
            start_block,
            stop_at: None,
            standby: false,
            status,
            events,
        }
    }

    /// Stops after indexing `block` instead of following the head (used by `accord rebuild`).
    pub fn stop_at(mut self, block: u64) -> Self {
        self.stop_at = Some(block);
        self
    }

    /// When another process already indexes this schema and chain, wait for its lock (a standby replica)
    /// instead of failing with [`Error::AlreadyIndexing`]; meanwhile the status follows the stored cursor.
    pub fn standby(mut self) -> Self {
        self.standby = true;
        self
    }

    /// A connection detached from the pool, for write transactions: if the batch is interrupted mid-`COPY` (task
    /// aborted, process shutting down), the connection is closed instead of going back to the pool half-way
    /// through a protocol exchange.
    async fn detached(&self) -> Result<sqlx::PgConnection> {
        detached(&self.pool).await
    }

    fn chain_id(&self) -> i64 {
        self.chain.chain_id() as i64
    }

    /// Retries `op` on retryable errors with exponential backoff, up to the configured count.
    async fn retry<T, F, Fut>(&self, what: &str, cancel: &CancellationToken, mut op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut attempt = 0u32;
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_retryable() && attempt < self.config.max_retries => {
                    let delay = Duration::from_millis(250u64.saturating_mul(1 << attempt.min(6)))
                        .min(Duration::from_secs(10));
                    warn!(target: "accord::indexer", error = %e, attempt, ?delay, "{what} failed; retrying");
                    attempt += 1;
                    tokio::select! {
                        _ = cancel.cancelled() => return Err(Error::Cancelled),
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The chain's block `number`, read with [`Indexer::retry`]; `None` when the block is missing because the
    /// chain is now shorter than `number` (its head is below it). Blocks do go away: a Starknet sequencer (or
    /// starknet-devnet's `devnet_abortBlocks`) aborts its newest blocks and reuses their numbers later, and a
    /// node may roll its tip back. Such a block is not an RPC failure to retry until the retries run out.
    async fn block_unless_shorter(
        &self,
        what: &str,
        number: u64,
        cancel: &CancellationToken,
    ) -> Result<Option<BlockRef>> {
        self.retry(what, cancel, || async {
            match self.chain.block(number).await {
                Ok(block) => Ok(Some(block)),
                Err(e) => match self.chain.head().await {
                    Ok(head) if head < number => Ok(None),
                    _ => Err(e.into()),
                },
            }
        })
        .await
    }

    async fn stored_cursor(&self) -> Result<Option<Cursor>> {
        let stored = cursor::read(&self.pool, self.chain_id()).await?;
        Ok(stored.map(|c| Cursor {
            number: c.block_number as u64,
            hash: c.block_hash,
        }))
    }

    async fn load_cursor(&self, cancel: &CancellationToken) -> Result<Cursor> {
        if let Some(stored) = self.stored_cursor().await? {
            return Ok(stored);
        }
        let number = self.start_block.saturating_sub(1);
        let block = self
            .retry(
                "reading the block before the deploy block",
                cancel,
                || async { Ok(self.chain.block(number).await?) },
            )
            .await?;
        let mut conn = self.detached().await?;
        let mut tx = sqlx::Connection::begin(&mut conn).await?;
        cursor::create(&mut tx, self.chain_id(), number as i64, &block.hash).await?;
        store_blocks(&mut tx, self.chain_id(), std::slice::from_ref(&block)).await?;
        tx.commit().await?;
        Ok(Cursor {
            number,
            hash: block.hash,
        })
    }

    /// Runs until cancelled (or, with [`Indexer::stop_at`], until that block is indexed).
    ///
    /// A reorg deeper than the reorg window halts indexing but not the process: the status carries the
    /// [`Halt`](super::Halt) (the API answers `/v1/ready` with 503 and shows it on `/v1/status`), nothing more is
    /// indexed or rolled back, and the indexer waits until the stored index is consistent with the chain again
    /// (`accord rebuild --replace` re-indexes it), then resumes. Other errors end the run.
    pub async fn run(self, cancel: CancellationToken) -> Result<()> {
        loop {
            let result = self.run_inner(&cancel).await;
            match result {
                Err(Error::Cancelled) | Ok(()) => return Ok(()),
                Err(e @ Error::DeepReorg { .. }) if self.stop_at.is_none() => {
                    let halt = super::Halt::of(&e);
                    tracing::error!(target: "accord::indexer", fork_block = ?halt.fork_block, "{e}; serving continues, indexing waits for a repair");
                    let removed = raw::count(&self.pool, self.chain_id())
                        .await
                        .unwrap_or_default();
                    // Recorded with the cursor too, for the replicas that serve this index.
                    let recorded = serde_json::to_string(&halt).unwrap_or_default();
                    if let Err(e) =
                        cursor::set_halted(&self.pool, self.chain_id(), Some(&recorded)).await
                    {
                        warn!(target: "accord::indexer", error = %e, "cannot record the halt for the other replicas");
                    }
                    self.status.send_modify(|s| {
                        s.halted = Some(halt);
                        s.caught_up = false;
                    });
                    if self.await_repair(&cancel).await.is_err() {
                        return Ok(());
                    }
                    info!(target: "accord::indexer", "the stored index is consistent with the chain again; resuming");
                    let _ = cursor::set_halted(&self.pool, self.chain_id(), None).await;
                    self.status.send_modify(|s| s.halted = None);
                    // Live subscribers cannot know what the repair replaced: everything above the deploy block
                    // was withdrawn; they re-read `/v1/events` from there.
                    let fork = self.start_block.saturating_sub(1);
                    let _ = self.events.send(LiveEvent::Reorg {
                        chain_id: ChainId(self.chain.chain_id()),
                        fork_block: fork,
                        block_hash: None,
                        removed_events: removed.max(0) as u64,
                    });
                }
                Err(e) => {
                    self.status
                        .send_modify(|s| s.halted = Some(super::Halt::of(&e)));
                    return Err(e);
                }
            }
        }
    }

    /// While halted: waits until the stored cursor's block is canonical again (the index was re-indexed or
    /// repaired) or the store holds no cursor (it was emptied). `Err` when cancelled.
    async fn await_repair(&self, cancel: &CancellationToken) -> Result<()> {
        let pause = Duration::from_millis(self.config.poll_interval_ms.max(1000));
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Err(Error::Cancelled),
                _ = tokio::time::sleep(pause) => {}
            }
            let Ok(cursor) = self.stored_cursor().await else {
                continue;
            };
            let Some(cursor) = cursor else {
                return Ok(());
            };
            if let Ok(head) = self.chain.head().await {
                self.status.send_modify(|s| s.head = head);
            }
            if let Ok(block) = self.chain.block(cursor.number).await {
                self.status.send_modify(|s| s.indexed = cursor.number);
                if block.hash == cursor.hash {
                    return Ok(());
                }
            }
        }
    }

    async fn run_inner(&self, cancel: &CancellationToken) -> Result<()> {
        // One writer per index: a second indexer on the same schema and chain would race on the cursor. The
        // lock lives as long as this session, so a crashed indexer releases it with its connection.
        let mut lock = self.detached().await?;
        let mut announced = false;
        loop {
            let locked = leader::try_lock_indexer(&mut lock, self.chain_id()).await?;
            if locked {
                break;
            }
            if !self.standby {
                return Err(Error::AlreadyIndexing(self.chain.chain_id()));
            }
            if !announced {
                info!(target: "accord::indexer", "another replica indexes this chain; standing by");
                announced = true;
            }
            self.follow_stored_cursor().await;
            tokio::select! {
                _ = cancel.cancelled() => return Err(Error::Cancelled),
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
        if announced {
            info!(target: "accord::indexer", "took over indexing");
        }
        let result = self.index_loop(cancel).await;
        drop(lock);
        result
    }

    /// A standby's status: the index another replica writes, and the chain's head.
    async fn follow_stored_cursor(&self) {
        let stored = stored_state(&self.pool, self.chain_id()).await;
        let (cursor, halted) = match stored {
            Some((block, halted)) => (Some(block), halted),
            None => (None, None),
        };
        let head = self.chain.head().await.ok();
        // The leader's backfill is not over while it still has indexes to build.
        let deferred = bulk::any_deferred(&self.pool).await.unwrap_or(true);
        self.status.send_modify(|s| {
            if let Some(block) = cursor {
                if s.indexed != block as u64 {
                    s.indexed = block as u64;
                    s.indexed_at = Some(std::time::Instant::now());
                }
                s.caught_up = !deferred && halted.is_none();
            }
            s.halted = halted;
            if let Some(head) = head {
                s.head = head;
            }
        });
    }

    async fn index_loop(&self, cancel: &CancellationToken) -> Result<()> {
        let mut cursor = self.load_cursor(cancel).await?;
        // A reorg may have happened while the indexer was down: re-check the cursor block's hash. A chain now
        // shorter than the index is followed like one that shrank while running (see the loop below).
        match self
            .block_unless_shorter("re-checking the last indexed block", cursor.number, cancel)
            .await?
        {
            Some(canonical) if canonical.hash != cursor.hash => {
                warn!(target: "accord::indexer", block = cursor.number, "indexed block is no longer canonical; rolling back");
                cursor = self.rollback(cancel).await?;
            }
            Some(_) => {}
            None => {
                warn!(target: "accord::indexer", block = cursor.number, "the chain is shorter than the index; waiting for a block that reaches past it")
            }
        }
        // A fresh index with a backlog is bulk-loaded: secondary indexes are built once it has caught up.
        let mut deferred = bulk::any_deferred(&self.pool).await?;
        if !deferred {
            let head = self
                .retry("eth_blockNumber", cancel, || async {
                    Ok(self.chain.head().await?)
                })
                .await?;
            let target = head.saturating_sub(self.config.confirmations);
            if target > cursor.number {
                // Dropping indexes takes each table's exclusive lock while the API and the scheduler read them: a
                // deadlock with a reader rolls the whole step back, and it is tried again.
                let dropped = self
                    .retry("deferring secondary indexes", cancel, || async {
                        Ok(bulk::defer_indexes(&self.pool).await?)
                    })
                    .await?;
                if dropped > 0 {
                    info!(target: "accord::indexer", indexes = dropped, "fresh index: secondary indexes are built once the backfill has caught up");
                    deferred = true;
                }
            }
        }
        // What is already indexed shows at once, even when the chain stays quiet after a restart.
        self.status.send_modify(|s| s.indexed = cursor.number);
        let mut sizer = RangeSizer::new(
            self.config.initial_batch_blocks,
            self.config.max_batch_blocks,
        );
        let mut progress = Progress::new(cursor.number);
        let mut prefetch: std::collections::VecDeque<Prefetch> = std::collections::VecDeque::new();
        loop {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let head = self
                .retry("eth_blockNumber", cancel, || async {
                    Ok(self.chain.head().await?)
                })
                .await?;
            let mut target = head.saturating_sub(self.config.confirmations);
            if let Some(stop) = self.stop_at {
                target = target.min(stop);
            }
            self.status.send_modify(|s| s.head = head);
            // A proposal's state is read against the governor's clock; a failed read keeps the last one.
            if let Ok(clock) = self.chain.governor_clock(head).await {
                self.status.send_modify(|s| s.governor_clock = Some(clock));
            }
            metrics::gauge!("accord_chain_head").set(head as f64);
            if cursor.number >= target {
                if deferred {
                    // No staged range may hold a lock on the tables while their indexes are built.
                    prefetch.clear();
                    self.retry("building the deferred indexes", cancel, || async {
                        Ok(bulk::restore_indexes(&self.pool).await?)
                    })
                    .await?;
                    deferred = false;
                }
                if self.stop_at.is_some_and(|stop| cursor.number >= stop) {
                    return Ok(());
                }
                // No new block may come to reveal it (a quiet chain, an L2 sequencer re-orging its tip), so the
                // indexed tip's hash is checked on every poll: blocks replaced at the same heights are rolled
                // back like any other reorg. A chain now shorter than the index (its tip block is gone) is left
                // to the next block that reaches past it, whose parent hash reveals the reorg.
                if cursor.number > head {
                    tokio::select! {
                        _ = cancel.cancelled() => return Err(Error::Cancelled),
                        _ = tokio::time::sleep(Duration::from_millis(self.config.poll_interval_ms)) => {}
                    }
                    continue;
                }
                let tip = self
                    .block_unless_shorter("re-checking the indexed tip", cursor.number, cancel)
                    .await?;
                let Some(tip) = tip else {
                    // The tip went away since the head was read: the chain shrank (see above).
                    continue;
                };
                if tip.hash != cursor.hash {
                    warn!(target: "accord::indexer", block = cursor.number, "indexed tip was replaced at the same height; rolling back");
                    cursor = self.rollback(cancel).await?;
                    continue;
                }
                if !self.status.borrow().caught_up {
                    progress.finish(cursor.number);
                    info!(target: "accord::indexer", block = cursor.number, head, "caught up; following the head");
                }
                self.status.send_modify(|s| s.caught_up = true);
                tokio::select! {
                    _ = cancel.cancelled() => return Err(Error::Cancelled),
                    _ = tokio::time::sleep(Duration::from_millis(self.config.poll_interval_ms)) => {}
                }
                continue;
            }
            let from = cursor.number + 1;
            let to = from.saturating_add(sizer.size() - 1).min(target);
            // During a backfill the next ranges are fetched while this one is written.
            let fetched = match prefetch.pop_front() {
                Some(p) if p.from == from => match (&mut { p }.task).await {
                    Ok(result) => result,
                    Err(e) => Err(Error::ChainMoved(format!(
                        "background fetch of block {from} stopped: {e}"
                    ))),
                },
                _ => {
                    let near_head = to.saturating_add(self.config.reorg_window) > head;
                    match fetch(&self.chain, from, to, near_head, self.config.reorg_window).await {
                        Ok(f) => stage(&self.pool, self.chain.chain_id(), f).await,
                        Err(e) => Err(e),
                    }
                }
            };
            let step = match fetched {
                Ok(staged) => {
                    let f = &staged.fetched;
                    sizer.on_success(f.elapsed, f.events.len());
                    if prefetch.front().is_some_and(|p| p.from != f.to + 1) {
                        prefetch.clear();
                    }
                    while prefetch.len() < PREFETCH_DEPTH {
                        let after = prefetch.back().map_or(f.to, |p| p.to);
                        match self.prefetch_next(after, target, head, sizer.size()) {
                            Some(p) => prefetch.push_back(p),
                            None => break,
                        }
                    }
                    self.write_range(&cursor, staged).await
                }
                Err(e) => Err(e),
            };
            if !matches!(step, Ok(Step::Indexed { .. })) {
                prefetch.clear();
            }
            match step {
                Ok(Step::Indexed { next, events, .. }) => {
                    cursor = next;
                    progress.update(cursor.number, target, events);
                }
                Ok(Step::Reorged) => {
                    cursor = self.rollback(cancel).await?;
                }
                Err(Error::Chain(e)) if e.wants_smaller_range() && sizer.on_too_large() => {
                    warn!(target: "accord::indexer", error = %e, blocks = sizer.size(), "range refused; shrinking");
                }
                Err(e) if e.is_retryable() => {
                    // One retry path for the whole step; `retry` bounds the attempts.
                    let step = self
                        .retry("indexing a block range", cancel, || async {
                            // A commit that failed in transport may have succeeded: trust the stored cursor.
                            if let Some(stored) = self.stored_cursor().await?
                                && stored.number > cursor.number
                            {
                                return Ok(Ok(Step::Indexed {
                                    next: stored,
                                    events: 0,
                                }));
                            }
                            match self.index_range(&cursor, from, to, head).await {
                                Err(e) if e.is_retryable() => Err(e),
                                other => Ok(other),
                            }
                        })
                        .await?;
                    match step? {
                        Step::Indexed { next, events, .. } => {
                            cursor = next;
                            progress.update(cursor.number, target, events);
                        }
                        Step::Reorged => cursor = self.rollback(cancel).await?,
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Fetches, checks and stores `from..=to` in one transaction with the cursor.
    async fn index_range(&self, cursor: &Cursor, from: u64, to: u64, head: u64) -> Result<Step> {
        let near_head = to.saturating_add(self.config.reorg_window) > head;
        let fetched = fetch(&self.chain, from, to, near_head, self.config.reorg_window).await?;
        let staged = stage(&self.pool, self.chain.chain_id(), fetched).await?;
        self.write_range(cursor, staged).await
    }

    /// Starts fetching and staging the range after `after` in the background while the current one is written.
    /// Safe near the head too: a range within the reorg window is read with all its headers and checked to chain,
    /// and its transaction commits only once its first block's parent is the committed cursor's block.
    fn prefetch_next(&self, after: u64, target: u64, head: u64, size: u64) -> Option<Prefetch> {
        let from = after + 1;
        if from > target {
            return None;
        }
        let to = from.saturating_add(size - 1).min(target);
        let window = self.config.reorg_window;
        let near_head = to.saturating_add(window) > head;
        let chain = self.chain.clone();
        let pool = self.pool.clone();
        Some(Prefetch {
            from,
            to,
            task: tokio::spawn(async move {
                let fetched = fetch(&chain, from, to, near_head, window).await?;
                stage(&pool, chain.chain_id(), fetched).await
            }),
        })
    }

    /// Completes a staged range's transaction: checks that it extends the cursor's block, applies its events to
    /// the derived tables and moves the cursor, then commits. A range that does not extend the cursor is rolled
    /// back (its connection closed) and reported as a reorg.
    async fn write_range(&self, cursor: &Cursor, staged: Staged) -> Result<Step> {
        let Staged {
            fetched:
                Fetched {
                    from,
                    to,
                    near_head,
                    headers,
                    events,
                    elapsed: fetch_elapsed,
                },
            conn: mut tx,
            raw: raw_done,
        } = staged;
        if headers[0].parent_hash != cursor.hash {
            return Ok(Step::Reorged);
        }
        let fetched = fetch_elapsed;
        let last = headers.last().expect("at least one header").clone();
        let write_started = Instant::now();
        apply_events(&mut tx, self.chain.chain_id(), &events).await?;
        let applied = write_started.elapsed();
        let keep = if near_head {
            headers.clone()
        } else {
            vec![last.clone()]
        };
        store_blocks(&mut tx, self.chain_id(), &keep).await?;
        blocks::forget_below(
            &mut tx,
            self.chain_id(),
            to.saturating_sub(self.config.reorg_window) as i64,
        )
        .await?;
        cursor::move_to(&mut tx, self.chain_id(), to as i64, &last.hash).await?;
        crate::store::commit(&mut tx).await?;
        tracing::debug!(
            target: "accord::indexer",
            from, to, events = events.len(),
            fetch_decode_ms = fetched.as_millis() as u64,
            raw_ms = raw_done.as_millis() as u64,
            apply_ms = applied.as_millis() as u64,
            total_write_ms = (raw_done + write_started.elapsed()).as_millis() as u64,
            "batch committed"
        );

        metrics::counter!("accord_indexer_events_total").increment(events.len() as u64);
        metrics::gauge!("accord_indexer_block").set(to as f64);
        self.status.send_modify(|s| {
            s.indexed = to;
            s.indexed_at = Some(std::time::Instant::now());
        });
        let count = events.len();
        for e in events {
            // No subscriber is fine: the stream is best effort, the database is the record.
            let _ = self.events.send(LiveEvent::Event(Box::new(e)));
        }
        Ok(Step::Indexed {
            next: Cursor {
                number: to,
                hash: last.hash,
            },
            events: count,
        })
    }

    /// Finds the fork point among the stored block hashes and rolls everything above it back, in one
    /// transaction: raw events deleted, derived rows of the touched streams rebuilt from what remains, cursor
    /// rewound. A fork below every stored block halts indexing.
    async fn rollback(&self, cancel: &CancellationToken) -> Result<Cursor> {
        let stored: Vec<(u64, String)> = blocks::newest_first(&self.pool, self.chain_id())
            .await?
            .into_iter()
            .map(|b| (b.number as u64, b.hash))
            .collect();
        let fork = fork_point(&stored, |n| async move {
            self.retry(
                "reading a block for the fork-point search",
                cancel,
                || async { Ok(self.chain.block(n).await?) },
            )
            .await
            .map(|b| b.hash)
        })
        .await?;
        let Some(fork) = fork else {
            let lowest = stored.last().map(|(n, _)| *n).unwrap_or_default();
            return Err(Error::DeepReorg {
                window: self.config.reorg_window,
                lowest,
            });
        };
        let hash = stored
            .iter()
            .find(|(n, _)| *n == fork)
            .map(|(_, h)| h.clone())
            .unwrap_or_default();
        if stored.first().is_some_and(|(top, _)| *top == fork) {
            // The indexed head is still canonical but the next block did not extend it: the node's view is
            // inconsistent (lagging or load-balanced backends). Nothing to undo; wait and read again.
            warn!(target: "accord::indexer", block = fork, "next block does not extend the indexed one; waiting for the node");
            tokio::select! {
                _ = cancel.cancelled() => return Err(Error::Cancelled),
                _ = tokio::time::sleep(Duration::from_millis(self.config.poll_interval_ms)) => {}
            }
            return Ok(Cursor { number: fork, hash });
        }
        let mut conn = self.detached().await?;
        let mut tx = sqlx::Connection::begin(&mut conn).await?;
        // Only streams that own derived rows need replaying (not `token` or `contract:*`, whose history is long
        // and derives nothing).
        let mut streams = raw::streams_above(&mut tx, self.chain_id(), fork as i64).await?;
        let codec = self.chain.codec();
        streams.retain(|s| Stream::parse(codec.family(), s).map_or(true, |s| s.derives_rows()));
        let removed = raw::delete_above(&mut tx, self.chain_id(), fork as i64).await?;
        replay_streams(&mut tx, self.chain.chain_id(), &streams, codec).await?;
        blocks::forget_above(&mut tx, self.chain_id(), fork as i64).await?;
        cursor::move_to(&mut tx, self.chain_id(), fork as i64, &hash).await?;
        // The event stream announces the rollback before the events that replace what it removed.
        outbox::record_rollback(
            &mut tx,
            self.chain_id(),
            fork as i64,
            Some(&hash),
            removed as i64,
        )
        .await?;
        tx.commit().await?;
        metrics::counter!("accord_indexer_reorgs_total").increment(1);
        warn!(target: "accord::indexer", fork, removed, streams = streams.len(), "reorg: rolled back to the fork point");
        self.status.send_modify(|s| s.indexed = fork);
        // Tell live subscribers that events above the fork were withdrawn (`/v1/events/stream` sends it as
        // an event named `Reorg`); what replaces them follows as ordinary events.
        let _ = self.events.send(LiveEvent::Reorg {
            chain_id: ChainId(self.chain.chain_id()),
            fork_block: fork,
            block_hash: Some(hash.clone()),
            removed_events: removed,
        });
        Ok(Cursor { number: fork, hash })
    }
}

/// The stored cursor's block and the halt recorded with it, as another replica wrote them; `None` when there
/// is no cursor or the database cannot be read.
pub async fn stored_state(pool: &PgPool, chain_id: i64) -> Option<(i64, Option<super::Halt>)> {
    let stored = cursor::read(pool, chain_id).await.ok().flatten()?;
    // Like a database that cannot be read: a halt that does not read as one.
    let halted = match stored.halted {
        Some(h) => Some(serde_json::from_value(h).ok()?),
        None => None,
    };
    Some((stored.block_number, halted))
}

/// Ranges fetched ahead during a backfill while the current one is written.
const PREFETCH_DEPTH: usize = 2;

enum Step {
    Indexed { next: Cursor, events: usize },
    Reorged,
}

/// A fetched range, checked for internal consistency, not yet written.
struct Fetched {
    from: u64,
    to: u64,
    near_head: bool,
    headers: Vec<BlockRef>,
    events: Vec<EventRecord>,
    elapsed: Duration,
}

/// A range being fetched and staged in the background.
struct Prefetch {
    from: u64,
    to: u64,
    task: tokio::task::JoinHandle<Result<Staged>>,
}

/// A fetched range in an open transaction of its own that already holds its raw events. Ranges are staged
/// ahead of the cursor, so the raw `COPY` of the next ranges runs on other PostgreSQL backends while this one's
/// derived rows are written; each still commits whole, with its cursor, and only on top of the range before it.
/// Dropping it closes the connection, which rolls the transaction back.
struct Staged {
    fetched: Fetched,
    conn: sqlx::PgConnection,
    /// How long the raw `COPY` took.
    raw: Duration,
}

/// A connection detached from the pool, for write transactions (see [`Indexer::detached`]).
async fn detached(pool: &PgPool) -> Result<sqlx::PgConnection> {
    Ok(pool.acquire().await?.detach())
}

/// Opens a transaction for `fetched` on a connection detached from the pool (an interrupted `COPY` closes it
/// instead of returning it half-way through) and copies the raw events into it.
async fn stage(pool: &PgPool, chain_id: u64, fetched: Fetched) -> Result<Staged> {
    let started = Instant::now();
    let mut conn = detached(pool).await?;
    crate::store::begin(&mut conn).await?;
    raw::insert(&mut conn, chain_id, &fetched.events).await?;
    Ok(Staged {
        fetched,
        conn,
        raw: started.elapsed(),
    })
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads `from..=to`: the headers it needs (all of them near the head, else the first and the last) and every
/// event, and checks that the headers chain and that every event belongs to a block it read.
async fn fetch<C: Chain>(
    chain: &C,
    from: u64,
    to: u64,
    near_head: bool,
    window: u64,
) -> Result<Fetched> {
    let started = Instant::now();
    let numbers: Vec<u64> = if near_head {
        // Every header inside the reorg window (and the first, for the parent check); none below it.
        let dense_from = from.max(to.saturating_sub(window));
        std::iter::once(from)
            .filter(|n| *n < dense_from)
            .chain(dense_from..=to)
            .collect()
    } else if from == to {
        vec![from]
    } else {
        vec![from, to]
    };
    let headers: Vec<BlockRef> = futures::stream::iter(numbers.into_iter().map(|n| chain.block(n)))
        .buffered(8)
        .try_collect()
        .await?;
    if near_head
        && headers
            .windows(2)
            .any(|w| w[1].number == w[0].number + 1 && w[1].parent_hash != w[0].hash)
    {
        return Err(Error::ChainMoved(format!(
            "blocks {from}..={to} changed while being read"
        )));
    }
    let events = chain.events(from, to).await?;
    let by_number: std::collections::HashMap<u64, &str> = headers
        .iter()
        .map(|h| (h.number, h.hash.as_str()))
        .collect();
    if let Some(e) = events.iter().find(|e| {
        by_number
            .get(&e.block_number)
            .is_some_and(|h| *h != e.block_hash)
    }) {
        return Err(Error::ChainMoved(format!(
            "block {} changed while being read",
            e.block_number
        )));
    }
    Ok(Fetched {
        from,
        to,
        near_head,
        headers,
        events,
        elapsed: started.elapsed(),
    })
}

async fn store_blocks(
    conn: &mut sqlx::PgConnection,
    chain_id: i64,
    blocks: &[BlockRef],
) -> Result<()> {
    blocks::record(
        conn,
        chain_id,
        blocks
            .iter()
            .map(|b| (b.number, b.hash.as_str(), b.parent_hash.as_str())),
    )
    .await?;
    Ok(())
}

/// Backfill progress: a bar on a terminal, a log line every few seconds otherwise.
struct Progress {
    started: Instant,
    first: u64,
    events: u64,
    last_log: Instant,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(first: u64) -> Self {
        Self {
            started: Instant::now(),
            first,
            events: 0,
            last_log: Instant::now(),
            bar: None,
        }
    }

    fn update(&mut self, block: u64, target: u64, events: usize) {
        self.events += events as u64;
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let blocks = block.saturating_sub(self.first);
        let (bps, eps) = (blocks as f64 / secs, self.events as f64 / secs);
        let remaining = target.saturating_sub(block);
        if std::io::stderr().is_terminal() {
            let bar = self.bar.get_or_insert_with(|| {
                let bar = indicatif::ProgressBar::new(target.saturating_sub(self.first));
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "indexing {bar:30} {pos}/{len} blocks {msg}",
                    )
                    .expect("static template"),
                );
                bar
            });
            bar.set_length(target.saturating_sub(self.first));
            bar.set_position(blocks);
            bar.set_message(format!(
                "{bps:.0} blocks/s, {eps:.0} events/s, {remaining} to go"
            ));
        } else if self.last_log.elapsed() >= Duration::from_secs(2) {
            self.last_log = Instant::now();
            info!(target: "accord::indexer", block, target, remaining, blocks_per_s = bps as u64, events_per_s = eps as u64, "backfilling");
        }
    }

    fn finish(&mut self, block: u64) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let secs = self.started.elapsed().as_secs_f64();
        if self.events > 0 {
            info!(target: "accord::indexer", block, events = self.events, seconds = format!("{secs:.1}"), "backfill done");
        }
    }
}
