//! Bulk loading of a fresh index. PostgreSQL's own advice for populating a table applies: load first, then
//! build the indexes, since one sorted build is far cheaper than as many random B-tree insertions as there are
//! rows. When the indexer starts on an empty index with a backlog, [`defer_indexes`] drops the secondary
//! (non-unique) indexes of the raw log and the derived tables and records their definitions in
//! `deferred_indexes`; once the backfill has caught up, [`restore_indexes`] builds them again, before the
//! indexer reports ready. Primary keys stay throughout: exactly-once and the upserts rest on them.
//!
//! Crash safety: the drop and its records commit together, and each index is rebuilt in one transaction with
//! the removal of its record, so after a crash every missing index is still listed and the next run rebuilds
//! it. Migrations that have not run yet are preceded by a rebuild ([`restore_before_migrations`]), so a
//! migration never meets a missing index.

use futures::{StreamExt, TryStreamExt};
use sqlx::{PgPool, Row};
use tracing::info;

use super::Result;
use super::apply::DERIVED_TABLES;

/// Serializes deferral and restoration between indexers of different chains in one schema.
const LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':accord-deferred-indexes'))";

/// Index builds run this many at a time (one per core on the reference machine).
const PARALLEL_BUILDS: usize = 2;

fn bulk_tables() -> Vec<String> {
    std::iter::once("raw_events")
        .chain(DERIVED_TABLES)
        .map(str::to_owned)
        .collect()
}

/// Drops the secondary indexes of the raw log and the derived tables if the index is empty (no raw event of any
/// chain) and nothing is deferred yet. Returns how many were dropped; 0 means the index was not fresh.
pub async fn defer_indexes(pool: &PgPool) -> Result<usize> {
    let mut tx = pool.begin().await?;
    sqlx::query(LOCK).execute(&mut *tx).await?;
    let fresh: bool = sqlx::query_scalar(
        "SELECT NOT EXISTS (SELECT 1 FROM raw_events) AND NOT EXISTS (SELECT 1 FROM deferred_indexes)",
    )
    .fetch_one(&mut *tx)
    .await?;
    if !fresh {
        return Ok(0);
    }
    let rows = sqlx::query(
        "SELECT c.relname AS name, t.relname AS tab, pg_get_indexdef(i.indexrelid) AS definition \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid \
         WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($1) \
           AND NOT i.indisunique AND NOT i.indisprimary ORDER BY c.relname",
    )
    .bind(bulk_tables())
    .fetch_all(&mut *tx)
    .await?;
    for r in &rows {
        let name: String = r.get("name");
        sqlx::query("INSERT INTO deferred_indexes (name, tab, definition) VALUES ($1, $2, $3)")
            .bind(&name)
            .bind(r.get::<String, _>("tab"))
            .bind(r.get::<String, _>("definition"))
            .execute(&mut *tx)
            .await?;
        // The name comes from the catalog of this schema, quoted as an identifier.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP INDEX {}",
            quote_ident(&name)
        )))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// Builds every deferred index again, [`PARALLEL_BUILDS`] at a time, each in one transaction with the removal
/// of its record. Returns how many were built.
pub async fn restore_indexes(pool: &PgPool) -> Result<usize> {
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM deferred_indexes ORDER BY name")
        .fetch_all(pool)
        .await?;
    if names.is_empty() {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    let built: Vec<bool> = futures::stream::iter(names.iter().cloned())
        .map(|name| async move {
            let mut tx = pool.begin().await?;
            // Whoever deletes the record builds the index; a concurrent restorer finds it gone and skips it.
            let definition: Option<String> = sqlx::query_scalar(
                "DELETE FROM deferred_indexes WHERE name = $1 RETURNING definition",
            )
            .bind(&name)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(definition) = definition else {
                return Ok::<_, super::Error>(false);
            };
            sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
                .execute(&mut *tx)
                .await?;
            // The statement is pg_get_indexdef() of an index this schema had, recorded by `defer_indexes`.
            sqlx::query(sqlx::AssertSqlSafe(definition))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
        .buffer_unordered(PARALLEL_BUILDS)
        .try_collect()
        .await?;
    let count = built.into_iter().filter(|b| *b).count();
    info!(target: "accord::store", indexes = count, ms = started.elapsed().as_millis() as u64, "secondary indexes built");
    Ok(count)
}

/// Whether any index is deferred (missing until the backfill catches up).
pub async fn any_deferred(pool: &PgPool) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM deferred_indexes)")
            .fetch_one(pool)
            .await?,
    )
}

/// Before migrations that have not run yet: builds any deferred index, so a migration finds the schema whole.
pub async fn restore_before_migrations(pool: &PgPool, pending: bool) -> Result<()> {
    if !pending {
        return Ok(());
    }
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('deferred_indexes')::text")
        .fetch_one(pool)
        .await?;
    if table.is_some() {
        restore_indexes(pool).await?;
    }
    Ok(())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
