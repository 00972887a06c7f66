//! Digests of the derived tables: keccak-256 over each row's text form in primary-key order. Two indexes of the
//! same chain up to the same block must give identical digests (`accord rebuild` checks exactly that).

use alloy::primitives::Keccak256;
use futures::TryStreamExt;
use serde::Serialize;
use sqlx::PgConnection;

use super::Result;
use super::apply::DERIVED_TABLES;

/// One table's digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableDigest {
    /// Table name.
    pub table: &'static str,
    /// Row count.
    pub rows: u64,
    /// keccak-256 of the rows, 0x-hex.
    pub digest: String,
}

fn order_by(table: &str) -> &'static str {
    match table {
        "jobs" => "job_id",
        "assignments" | "results" => "job_id, attempt",
        "payments" | "slashes" => "block_number, log_index",
        "workers" => "address",
        "proposals" => "proposal_id",
        "votes" => "proposal_id, voter",
        "params" => "contract, key",
        "roles" => "contract, role, account",
        other => unreachable!("no ordering for table {other}"),
    }
}

/// Digests every derived table of `chain_id`, reading through `conn` (whose search_path picks the schema).
pub async fn digests(conn: &mut PgConnection, chain_id: u64) -> Result<Vec<TableDigest>> {
    let mut out = Vec::with_capacity(DERIVED_TABLES.len());
    for table in DERIVED_TABLES {
        // Table and column names come from constants, never from input.
        let sql = format!(
            "SELECT t::text FROM {table} t WHERE chain_id = $1 ORDER BY {}",
            order_by(table)
        );
        let mut rows = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
            .bind(chain_id as i64)
            .fetch(&mut *conn);
        let mut hasher = Keccak256::new();
        let mut count = 0u64;
        while let Some(row) = rows.try_next().await? {
            hasher.update(row.as_bytes());
            hasher.update(b"\n");
            count += 1;
        }
        out.push(TableDigest {
            table,
            rows: count,
            digest: format!("{:#x}", hasher.finalize()),
        });
    }
    Ok(out)
}
