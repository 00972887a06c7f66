//! The indexing loop. See the module docs of [`crate::indexer`].

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use sqlx::PgPool;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::range::RangeSizer;
use super::reorg::fork_point;
use super::{Error, EventRecord, Result, Status};
use crate::chain::{BlockRef, Chain};
use crate::config::IndexerConfig;
use crate::store::apply::{apply_events, insert_raw, replay_streams};

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
    status: watch::Sender<Status>,
    events: broadcast::Sender<EventRecord>,
}

impl<C: Chain> Indexer<C> {
    /// An indexer that starts at `start_block` (the deploy block) when the database has no cursor yet.
    pub fn new(
        chain: C,
        pool: PgPool,
        config: IndexerConfig,
        start_block: u64,
        status: watch::Sender<Status>,
        events: broadcast::Sender<EventRecord>,
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
            status,
            events,
        }
    }

    /// Stops after indexing `block` instead of following the head (used by `accord rebuild`).
    pub fn stop_at(mut self, block: u64) -> Self {
        self.stop_at = Some(block);
        self
    }

    /// A connection detached from the pool, for write transactions: if the batch is interrupted mid-`COPY` (task
    /// aborted, process shutting down), the connection is closed instead of going back to the pool half-way
    /// through a protocol exchange.
    async fn detached(&self) -> Result<sqlx::PgConnection> {
        Ok(self.pool.acquire().await?.detach())
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

    async fn load_cursor(&self, cancel: &CancellationToken) -> Result<Cursor> {
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT block_number, block_hash FROM indexer_cursor WHERE chain_id = $1",
        )
        .bind(self.chain_id())
        .fetch_optional(&self.pool)
        .await?;
        if let Some((number, hash)) = row {
            return Ok(Cursor {
                number: number as u64,
                hash,
            });
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
        sqlx::query(
            "INSERT INTO indexer_cursor (chain_id, block_number, block_hash) VALUES ($1, $2, $3)",
        )
        .bind(self.chain_id())
        .bind(number as i64)
        .bind(&block.hash)
        .execute(&mut *tx)
        .await?;
        store_blocks(&mut tx, self.chain_id(), std::slice::from_ref(&block)).await?;
        tx.commit().await?;
        Ok(Cursor {
            number,
            hash: block.hash,
        })
    }

    /// Runs until cancelled (or, with [`Indexer::stop_at`], until that block is indexed).
    pub async fn run(self, cancel: CancellationToken) -> Result<()> {
        let result = self.run_inner(&cancel).await;
        match &result {
            Err(Error::Cancelled) => return Ok(()),
            Err(e) => self.status.send_modify(|s| s.halted = Some(e.to_string())),
            Ok(()) => {}
        }
        result
    }

    async fn run_inner(&self, cancel: &CancellationToken) -> Result<()> {
        let mut cursor = self.load_cursor(cancel).await?;
        // A reorg may have happened while the indexer was down: re-check the cursor block's hash.
        let canonical = self
            .retry("re-checking the last indexed block", cancel, || async {
                Ok(self.chain.block(cursor.number).await?)
            })
            .await?;
        if canonical.hash != cursor.hash {
            warn!(target: "accord::indexer", block = cursor.number, "indexed block is no longer canonical; rolling back");
            cursor = self.rollback(cancel).await?;
        }
        let mut sizer = RangeSizer::new(
            self.config.initial_batch_blocks,
            self.config.max_batch_blocks,
        );
        let mut progress = Progress::new(cursor.number);
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
            metrics::gauge!("accord_chain_head").set(head as f64);
            if cursor.number >= target {
                if self.stop_at.is_some_and(|stop| cursor.number >= stop) {
                    return Ok(());
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
            let started = Instant::now();
            match self.index_range(&cursor, from, to, head).await {
                Ok(Step::Indexed { next, events }) => {
                    sizer.on_success(started.elapsed(), events);
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
                            match self.index_range(&cursor, from, to, head).await {
                                Err(e) if e.is_retryable() => Err(e),
                                other => Ok(other),
                            }
                        })
                        .await?;
                    match step? {
                        Step::Indexed { next, events } => {
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
        let numbers: Vec<u64> = if near_head {
            (from..=to).collect()
        } else if from == to {
            vec![from]
        } else {
            vec![from, to]
        };
        let headers: Vec<BlockRef> =
            futures::stream::iter(numbers.into_iter().map(|n| self.chain.block(n)))
                .buffered(8)
                .try_collect()
                .await?;
        if headers[0].parent_hash != cursor.hash {
            return Ok(Step::Reorged);
        }
        if near_head && headers.windows(2).any(|w| w[1].parent_hash != w[0].hash) {
            return Err(Error::ChainMoved(format!(
                "blocks {from}..={to} changed while being read"
            )));
        }
        let fetch_started = Instant::now();
        let events = self.chain.events(from, to).await?;
        let fetched = fetch_started.elapsed();
        for e in &events {
            if let Some(h) = headers.iter().find(|h| h.number == e.block_number)
                && h.hash != e.block_hash
            {
                return Err(Error::ChainMoved(format!(
                    "block {} changed while being read",
                    e.block_number
                )));
            }
        }
        let last = headers.last().expect("at least one header").clone();
        let write_started = Instant::now();
        let mut conn = self.detached().await?;
        let mut tx = sqlx::Connection::begin(&mut conn).await?;
        insert_raw(&mut tx, self.chain.chain_id(), &events).await?;
        let raw_done = write_started.elapsed();
        apply_events(&mut tx, self.chain.chain_id(), &events).await?;
        let applied = write_started.elapsed() - raw_done;
        let keep = if near_head {
            headers.clone()
        } else {
            vec![last.clone()]
        };
        store_blocks(&mut tx, self.chain_id(), &keep).await?;
        sqlx::query("DELETE FROM indexed_blocks WHERE chain_id = $1 AND number < $2")
            .bind(self.chain_id())
            .bind(to.saturating_sub(self.config.reorg_window) as i64)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE indexer_cursor SET block_number = $2, block_hash = $3 WHERE chain_id = $1",
        )
        .bind(self.chain_id())
        .bind(to as i64)
        .bind(&last.hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::debug!(
            target: "accord::indexer",
            from, to, events = events.len(),
            fetch_decode_ms = fetched.as_millis() as u64,
            raw_ms = raw_done.as_millis() as u64,
            apply_ms = applied.as_millis() as u64,
            total_write_ms = write_started.elapsed().as_millis() as u64,
            "batch committed"
        );

        metrics::counter!("accord_indexer_events_total").increment(events.len() as u64);
        metrics::gauge!("accord_indexer_block").set(to as f64);
        self.status.send_modify(|s| s.indexed = to);
        let count = events.len();
        for e in events {
            // No subscriber is fine: the stream is best effort, the database is the record.
            let _ = self.events.send(e);
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
        let stored: Vec<(i64, String)> = sqlx::query_as(
            "SELECT number, hash FROM indexed_blocks WHERE chain_id = $1 ORDER BY number DESC",
        )
        .bind(self.chain_id())
        .fetch_all(&self.pool)
        .await?;
        let stored: Vec<(u64, String)> = stored.into_iter().map(|(n, h)| (n as u64, h)).collect();
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
        let mut conn = self.detached().await?;
        let mut tx = sqlx::Connection::begin(&mut conn).await?;
        let streams: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT stream FROM raw_events WHERE chain_id = $1 AND block_number > $2",
        )
        .bind(self.chain_id())
        .bind(fork as i64)
        .fetch_all(&mut *tx)
        .await?;
        let removed =
            sqlx::query("DELETE FROM raw_events WHERE chain_id = $1 AND block_number > $2")
                .bind(self.chain_id())
                .bind(fork as i64)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        replay_streams(&mut tx, self.chain.chain_id(), &streams).await?;
        sqlx::query("DELETE FROM indexed_blocks WHERE chain_id = $1 AND number > $2")
            .bind(self.chain_id())
            .bind(fork as i64)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE indexer_cursor SET block_number = $2, block_hash = $3 WHERE chain_id = $1",
        )
        .bind(self.chain_id())
        .bind(fork as i64)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        metrics::counter!("accord_indexer_reorgs_total").increment(1);
        warn!(target: "accord::indexer", fork, removed, streams = streams.len(), "reorg: rolled back to the fork point");
        self.status.send_modify(|s| s.indexed = fork);
        Ok(Cursor { number: fork, hash })
    }
}

enum Step {
    Indexed { next: Cursor, events: usize },
    Reorged,
}

async fn store_blocks(
    conn: &mut sqlx::PgConnection,
    chain_id: i64,
    blocks: &[BlockRef],
) -> Result<()> {
    let numbers: Vec<i64> = blocks.iter().map(|b| b.number as i64).collect();
    let hashes: Vec<String> = blocks.iter().map(|b| b.hash.clone()).collect();
    let parents: Vec<String> = blocks.iter().map(|b| b.parent_hash.clone()).collect();
    sqlx::query(
        "INSERT INTO indexed_blocks (chain_id, number, hash, parent_hash) \
         SELECT $1, * FROM UNNEST($2::bigint[], $3::text[], $4::text[]) \
         ON CONFLICT (chain_id, number) DO UPDATE SET hash = EXCLUDED.hash, parent_hash = EXCLUDED.parent_hash",
    )
    .bind(chain_id)
    .bind(&numbers)
    .bind(&hashes)
    .bind(&parents)
    .execute(&mut *conn)
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
