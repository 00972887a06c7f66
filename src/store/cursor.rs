//! `indexer_cursor`: where indexing of each chain stands (the last block whose events are all applied, and its
//! hash) and why indexing halted, if it did. The indexer writes it, in the transaction that applies a range or
//! rolls one back; standby replicas, the API, `accord rebuild` and the CLI read it.

use sqlx::{PgConnection, PgExecutor};

/// The stored cursor of one chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// The last block whose events are all applied.
    pub block_number: i64,
    /// Its hash (0x-hex).
    pub block_hash: String,
    /// Why indexing halted (the JSON `/v1/status` shows under `halted`); `None` while indexing.
    pub halted: Option<serde_json::Value>,
}

/// One indexed chain and how far it is indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainCursor {
    /// Chain id.
    pub chain_id: i64,
    /// The last block whose events are all applied.
    pub block_number: i64,
}

/// The cursor of `chain_id`, if indexing ever started.
pub async fn read(db: impl PgExecutor<'_>, chain_id: i64) -> sqlx::Result<Option<Cursor>> {
    sqlx::query_as!(
        Cursor,
        "SELECT block_number, block_hash, halted FROM indexer_cursor WHERE chain_id = $1",
        chain_id
    )
    .fetch_optional(db)
    .await
}

/// Every indexed chain.
pub async fn chains(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<ChainCursor>> {
    sqlx::query_as!(
        ChainCursor,
        "SELECT chain_id, block_number FROM indexer_cursor ORDER BY chain_id"
    )
    .fetch_all(db)
    .await
}

/// Starts the cursor of `chain_id` at `block_number` (the block before the deploy block).
pub async fn create(
    conn: &mut PgConnection,
    chain_id: i64,
    block_number: i64,
    block_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO indexer_cursor (chain_id, block_number, block_hash) VALUES ($1, $2, $3)",
        chain_id,
        block_number,
        block_hash
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the cursor of `chain_id` to `block_number` (forward after a range, back after a rollback), in the
/// transaction that changed the index accordingly.
pub async fn move_to(
    conn: &mut PgConnection,
    chain_id: i64,
    block_number: i64,
    block_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE indexer_cursor SET block_number = $2, block_hash = $3 WHERE chain_id = $1",
        chain_id,
        block_number,
        block_hash
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records why indexing of `chain_id` halted (a JSON document), or clears it with `None`.
pub async fn set_halted(
    db: impl PgExecutor<'_>,
    chain_id: i64,
    halted: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE indexer_cursor SET halted = $2::text::json WHERE chain_id = $1",
        chain_id,
        halted
    )
    .execute(db)
    .await?;
    Ok(())
}
