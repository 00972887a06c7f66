//! Whole schemas and databases: the fresh schema `accord rebuild` indexes into beside the live one, the swap
//! of one chain's index from it into the live schema, the read-only snapshot a comparison reads through, and
//! the throwaway databases of the devnet and the tests. Names of schemas and databases are identifiers checked
//! here (letters, digits, underscores), since DDL takes no parameters.

use sqlx::{PgConnection, PgExecutor};

use super::apply::DERIVED_TABLES;

/// The tables the indexer itself writes, cursor first (the derived ones follow them in a swap).
pub const INDEX_TABLES: [&str; 3] = ["indexer_cursor", "indexed_blocks", "raw_events"];

/// `name` if it is a plain identifier (ASCII letters, digits and underscores, not starting with a digit).
fn identifier(name: &str) -> sqlx::Result<&str> {
    let plain = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        Ok(name)
    } else {
        Err(sqlx::Error::Protocol(format!(
            "{name:?} is not a plain identifier"
        )))
    }
}

/// Creates schema `name`.
pub async fn create_schema(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<()> {
    let name = identifier(name)?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
        .execute(db)
        .await?;
    Ok(())
}

/// Drops schema `name` and everything in it.
pub async fn drop_schema(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<()> {
    let name = identifier(name)?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {name} CASCADE")))
        .execute(db)
        .await?;
    Ok(())
}

/// Replaces every row of `chain_id` in the live schema's index tables (the indexer's and the derived ones) with
/// those of schema `from`, which holds the same tables; run it in one transaction.
pub async fn replace_chain(conn: &mut PgConnection, from: &str, chain_id: i64) -> sqlx::Result<()> {
    let from = identifier(from)?;
    for table in INDEX_TABLES.iter().chain(DERIVED_TABLES.iter()) {
        // Table names are constants; the statement's text varies with them, so it is built here.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE chain_id = $1"
        )))
        .bind(chain_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} SELECT * FROM {from}.{table} WHERE chain_id = $1"
        )))
        .bind(chain_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Makes the transaction just begun on `conn` a read-only snapshot: every statement in it sees the database as
/// of its first one.
pub async fn read_only_snapshot(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(conn)
        .await?;
    Ok(())
}

/// Creates database `name` (a plain identifier) on the server `conn` is connected to.
pub async fn create_database(conn: &mut PgConnection, name: &str) -> sqlx::Result<()> {
    let name = identifier(name)?;
    // Quoted: a plain name may still be a reserved word (`both`, `user`), and the URL names it as given.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(conn)
        .await?;
    Ok(())
}
