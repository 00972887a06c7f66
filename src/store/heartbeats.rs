//! `heartbeats`: each worker's latest signed heartbeat. The API writes them (a group commit of the newest one
//! per worker); the scheduler reads those within its TTL to tell which workers are alive.

use std::collections::HashSet;

use sqlx::PgPool;

/// A heartbeat to store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewHeartbeat<'a> {
    /// The worker's address.
    pub worker: &'a str,
    /// Jobs it takes at once.
    pub capacity: i32,
    /// Unix seconds, from the signed message.
    pub signed_at: i64,
    /// The signature (0x-hex).
    pub signature: &'a str,
}

/// Stores `rows` (one per worker) where newer than the stored heartbeat; returns the workers written.
pub async fn upsert(
    pool: &PgPool,
    chain_id: i64,
    rows: &[NewHeartbeat<'_>],
) -> sqlx::Result<HashSet<String>> {
    let workers: Vec<String> = rows.iter().map(|b| b.worker.to_owned()).collect();
    let capacities: Vec<i32> = rows.iter().map(|b| b.capacity).collect();
    let signed: Vec<i64> = rows.iter().map(|b| b.signed_at).collect();
    let signatures: Vec<String> = rows.iter().map(|b| b.signature.to_owned()).collect();
    let written = sqlx::query_scalar!(
        "INSERT INTO heartbeats (chain_id, worker, capacity, signed_at, signature) \
         SELECT $1, w, c, t, s FROM UNNEST($2::text[], $3::int[], $4::bigint[], $5::text[]) AS u(w, c, t, s) \
         ON CONFLICT (chain_id, worker) DO UPDATE SET capacity = EXCLUDED.capacity, signed_at = EXCLUDED.signed_at, \
             signature = EXCLUDED.signature, received_at = now() \
         WHERE heartbeats.signed_at < EXCLUDED.signed_at \
         RETURNING worker",
        chain_id,
        &workers,
        &capacities,
        &signed,
        &signatures
    )
    .fetch_all(pool)
    .await?;
    Ok(written.into_iter().collect())
}

/// A worker's stored heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Liveness {
    /// The worker's address.
    pub worker: String,
    /// Jobs it takes at once.
    pub capacity: i32,
    /// Unix seconds, from the signed message.
    pub signed_at: i64,
}

/// Every stored heartbeat signed at or after `since` (unix seconds).
pub async fn signed_since(pool: &PgPool, chain_id: i64, since: i64) -> sqlx::Result<Vec<Liveness>> {
    sqlx::query_as!(
        Liveness,
        "SELECT worker, capacity, signed_at FROM heartbeats WHERE chain_id = $1 AND signed_at >= $2",
        chain_id,
        since
    )
    .fetch_all(pool)
    .await
}
