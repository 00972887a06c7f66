//! `accord rebuild`: re-index the chain from the deploy block into a fresh schema and compare a digest of every
//! derived table with the live index at the same block.
//!
//! The live side is read inside one REPEATABLE READ transaction opened before the rebuild starts: its cursor
//! fixes the block to rebuild up to, and its snapshot is what the digests read, so a live indexer may keep
//! running meanwhile.

use std::str::FromStr;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::coordinator::{chain_of, connect_chain};
use crate::indexer::{Indexer, Status};
use crate::store::digest::{TableDigest, digests};
use crate::store::{MIGRATOR, connect, cursor, leader, outbox, raw, schema as schemas};

/// One table compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// Table name.
    pub table: &'static str,
    /// Live digest and row count.
    pub live: TableDigest,
    /// Rebuilt digest and row count.
    pub rebuilt: TableDigest,
    /// Whether they are equal.
    pub equal: bool,
}

/// The outcome of a rebuild.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The chain rebuilt, by its CAIP-2 name.
    pub chain: String,
    /// Block both sides were compared at.
    pub block: u64,
    /// Schema the rebuild wrote (dropped afterwards unless kept).
    pub schema: String,
    /// Seconds the re-index took.
    pub seconds: f64,
    /// Per-table comparison.
    pub tables: Vec<Comparison>,
}

impl Report {
    /// Whether every table matched.
    pub fn equal(&self) -> bool {
        self.tables.iter().all(|t| t.equal)
    }
}

/// Creates schema `rebuild_<millis>` beside the live one and a pool whose connections work in it.
async fn fresh_schema(
    config: &Config,
    live: &sqlx::PgPool,
) -> anyhow::Result<(String, sqlx::PgPool)> {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    let schema = format!("rebuild_{millis}");
    // `schema` is built from digits only.
    schemas::create_schema(live, &schema).await?;
    let options = PgConnectOptions::from_str(&config.database.url)?
        .options([("search_path", schema.as_str())]);
    let pool = crate::store::pool_options(&config.database.url)
        .max_connections(4)
        .connect_with(options)
        .await?;
    Ok((schema, pool))
}

/// Rebuilds one chain (the only one configured, or the one `select` names) into schema `rebuild_<millis>` and
/// compares its rows; drops the schema afterwards unless `keep`.
pub async fn rebuild(
    config: &Config,
    select: Option<&str>,
    keep: bool,
    cancel: CancellationToken,
) -> anyhow::Result<Report> {
    let (chain_config, manifest) = chain_of(config, select).await?;
    let chain = connect_chain(config, chain_config, &manifest).await?;
    let live = connect(&config.database.url, 2).await?;

    let mut snapshot = live.begin().await?;
    schemas::read_only_snapshot(&mut snapshot).await?;
    let block = cursor::read(&mut *snapshot, manifest.chain_id as i64)
        .await?
        .map(|c| c.block_number);
    let block =
        block.context("the live index is empty: run the coordinator (accord serve) first")? as u64;

    let (schema, rebuilt) = fresh_schema(config, &live).await?;
    let result = async {
        MIGRATOR.run(&rebuilt).await?;
        let started = Instant::now();
        let (status, _) = watch::channel(Status::default());
        let (events, _) = broadcast::channel(1);
        let mut indexer_config = config.indexer.clone();
        indexer_config.confirmations = 0;
        Indexer::new(
            chain,
            rebuilt.clone(),
            indexer_config,
            manifest.deploy_block,
            status,
            events,
        )
        .stop_at(block)
        .run(cancel)
        .await
        .context("re-indexing failed")?;
        let seconds = started.elapsed().as_secs_f64();
        let live_digests = digests(&mut snapshot, manifest.chain_id).await?;
        let rebuilt_digests = digests(&mut *rebuilt.acquire().await?, manifest.chain_id).await?;
        let tables = live_digests
            .into_iter()
            .zip(rebuilt_digests)
            .map(|(l, r)| Comparison {
                table: l.table,
                equal: l == r,
                live: l,
                rebuilt: r,
            })
            .collect();
        anyhow::Ok(Report {
            chain: manifest.caip2(),
            block,
            schema: schema.clone(),
            seconds,
            tables,
        })
    }
    .await;
    rebuilt.close().await;
    if !keep {
        schemas::drop_schema(&live, &schema).await?;
    }
    result
}

/// The outcome of [`replace`].
#[derive(Debug, Clone, Serialize)]
pub struct Replaced {
    /// Block the new index reaches.
    pub block: u64,
    /// Events it holds.
    pub events: i64,
    /// Seconds the re-index took.
    pub seconds: f64,
}

/// The repair after a reorg deeper than the reorg window: re-indexes one chain (the only one configured, or the
/// one `select` names) from the deploy block up to
/// today's head (less the confirmations) into a fresh schema, then replaces the live index with it in one
/// transaction. A running `accord serve` whose indexer halted sees its cursor canonical again and resumes from
/// there; the API serves the old index until the swap commits and the new one after. Refused while an indexer
/// that has not halted holds the index.
pub async fn replace(
    config: &Config,
    select: Option<&str>,
    cancel: CancellationToken,
) -> anyhow::Result<Replaced> {
    use crate::chain::Chain;
    let (chain_config, manifest) = chain_of(config, select).await?;
    let chain = connect_chain(config, chain_config, &manifest).await?;
    let head = chain.head().await.context("cannot read the chain's head")?;
    let block = head.saturating_sub(config.indexer.confirmations);
    let live = connect(&config.database.url, 2).await?;
    MIGRATOR.run(&live).await?;
    let (schema, rebuilt) = fresh_schema(config, &live).await?;
    let chain_id = manifest.chain_id as i64;
    let result = async {
        MIGRATOR.run(&rebuilt).await?;
        let started = Instant::now();
        let (status, _) = watch::channel(Status::default());
        let (events, _) = broadcast::channel(1);
        Indexer::new(
            chain,
            rebuilt.clone(),
            config.indexer.clone(),
            manifest.deploy_block,
            status,
            events,
        )
        .stop_at(block)
        .run(cancel)
        .await
        .context("re-indexing failed")?;
        let seconds = started.elapsed().as_secs_f64();
        let mut tx = live.begin().await?;
        // The indexer's own lock: held by a live indexer unless it halted (or stopped).
        let mut locked = false;
        for _ in 0..30 {
            locked = leader::try_lock_indexer_in_transaction(&mut tx, chain_id).await?;
            if locked {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        anyhow::ensure!(
            locked,
            "an indexer is writing this index and has not halted: it repairs shallow reorgs itself; stop it \
             (accord serve) before replacing its index"
        );
        let removed = raw::count(&mut *tx, chain_id).await?;
        schemas::replace_chain(&mut tx, &schema, chain_id).await?;
        // Everything above the deploy block was replaced: the event stream announces it as a rollback, and the
        // events it now holds carry the generation after it (their message ids differ from the replaced ones').
        let fork = manifest.deploy_block as i64 - 1;
        let rollback = outbox::record_rollback(&mut tx, chain_id, fork, None, removed).await?;
        outbox::set_generation(&mut tx, chain_id, rollback).await?;
        let events = raw::count(&mut *tx, chain_id).await?;
        tx.commit().await?;
        anyhow::Ok(Replaced {
            block,
            events,
            seconds,
        })
    }
    .await;
    rebuilt.close().await;
    schemas::drop_schema(&live, &schema).await?;
    result
}
