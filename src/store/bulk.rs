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
use sqlx::{PgConnection, PgPool};
use tracing::info;

use super::Result;
use super::apply::DERIVED_TABLES;

/// Serializes deferral and restoration between indexers of different chains in one schema, until the end of
/// the transaction.
async fn lock(conn: &mut PgConnection) -> Result<()> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':accord-deferred-indexes')) AS locked"
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

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
    lock(&mut tx).await?;
    let fresh = sqlx::query_scalar!(
        r#"SELECT NOT EXISTS (SELECT 1 FROM raw_events) AND NOT EXISTS (SELECT 1 FROM deferred_indexes) AS "fresh!""#
    )
    .fetch_one(&mut *tx)
    .await?;
    if !fresh {
        return Ok(0);
    }
    let rows = sqlx::query!(
        r#"SELECT c.relname::text AS "name!", t.relname::text AS "tab!", pg_get_indexdef(i.indexrelid) AS "definition!"
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
           WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($1::text[])
             AND NOT i.indisunique AND NOT i.indisprimary ORDER BY c.relname"#,
        &bulk_tables()
    )
    .fetch_all(&mut *tx)
    .await?;
    for r in &rows {
        sqlx::query!(
            "INSERT INTO deferred_indexes (name, tab, definition) VALUES ($1, $2, $3)",
            r.name,
            r.tab,
            r.definition
        )
        .execute(&mut *tx)
        .await?;
        // The name comes from the catalog of this schema, quoted as an identifier.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP INDEX {}",
            quote_ident(&r.name)
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
    let names = sqlx::query_scalar!("SELECT name FROM deferred_indexes ORDER BY name")
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
            let definition = sqlx::query_scalar!(
                "DELETE FROM deferred_indexes WHERE name = $1 RETURNING definition",
                name
            )
            .fetch_optional(&mut *tx)
            .await?;
            let Some(definition) = definition else {
                return Ok::<_, super::Error>(false);
            };
            sqlx::query!("SET LOCAL maintenance_work_mem = '256MB'")
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
        sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM deferred_indexes) AS "deferred!""#)
            .fetch_one(pool)
            .await?,
    )
}

/// Before migrations that have not run yet: builds any deferred index, so a migration finds the schema whole.
pub async fn restore_before_migrations(pool: &PgPool, pending: bool) -> Result<()> {
    if !pending {
        return Ok(());
    }
    let table = sqlx::query_scalar!("SELECT to_regclass('deferred_indexes')::text AS table")
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
