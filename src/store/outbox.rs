//! The event stream's outbox: what the publisher to NATS JetStream ([`crate::stream`]) reads from the committed
//! index. Events come from `raw_events` in chain order; rollbacks from `index_rollbacks`, written in the
//! transaction that rolls the index back; `stream_cursor` records, per chain, how far the stream has
//! acknowledged both. The publisher reads all three in one snapshot, so it never sees the events that replace
//! a rollback's without the rollback itself.

use sqlx::{PgConnection, PgExecutor};

/// Records a rollback of `chain_id` above `fork_block` in the transaction that performs it; returns its id,
/// the generation of the events indexed after it.
pub async fn record_rollback(
    conn: &mut PgConnection,
    chain_id: i64,
    fork_block: i64,
    block_hash: Option<&str>,
    removed_events: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO index_rollbacks (chain_id, fork_block, block_hash, removed_events) VALUES ($1, $2, $3, $4) \
         RETURNING id",
        chain_id,
        fork_block,
        block_hash,
        removed_events
    )
    .fetch_one(conn)
    .await
}

/// The generation of events of `chain_id` indexed now: the id of its latest rollback, 0 before any.
pub async fn generation(db: impl PgExecutor<'_>, chain_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT coalesce(max(id), 0) AS "generation!" FROM index_rollbacks WHERE chain_id = $1"#,
        chain_id
    )
    .fetch_one(db)
    .await
}

/// Marks every event of `chain_id` as indexed in `generation` (after a repair replaced them all).
pub async fn set_generation(
    conn: &mut PgConnection,
    chain_id: i64,
    generation: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE raw_events SET generation = $2 WHERE chain_id = $1",
        chain_id,
        generation
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// How far the stream has acknowledged a chain's outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamCursor {
    /// Every event at or before this (block number, log index) is acknowledged; `(-1, -1)` before the first.
    pub position: (i64, i64),
    /// Every rollback with an id up to this one is acknowledged.
    pub rollback_id: i64,
    /// Messages acknowledged so far.
    pub published: i64,
    /// Of which dead letters.
    pub dead_letters: i64,
}

impl Default for StreamCursor {
    fn default() -> Self {
        Self {
            position: (-1, -1),
            rollback_id: 0,
            published: 0,
            dead_letters: 0,
        }
    }
}

/// The stream cursor of `chain_id` (the start when the stream has acknowledged nothing yet).
pub async fn cursor(db: impl PgExecutor<'_>, chain_id: i64) -> sqlx::Result<StreamCursor> {
    let row = sqlx::query!(
        "SELECT block_number, log_index, rollback_id, published, dead_letters FROM stream_cursor \
         WHERE chain_id = $1",
        chain_id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map_or_else(StreamCursor::default, |r| StreamCursor {
        position: (r.block_number, r.log_index),
        rollback_id: r.rollback_id,
        published: r.published,
        dead_letters: r.dead_letters,
    }))
}

/// Stores the stream cursor of `chain_id`.
pub async fn save_cursor(
    db: impl PgExecutor<'_>,
    chain_id: i64,
    cursor: &StreamCursor,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO stream_cursor (chain_id, block_number, log_index, rollback_id, published, dead_letters) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (chain_id) DO UPDATE SET block_number = $2, log_index = $3, rollback_id = $4, published = $5, \
         dead_letters = $6, updated_at = now()",
        chain_id,
        cursor.position.0,
        cursor.position.1,
        cursor.rollback_id,
        cursor.published,
        cursor.dead_letters
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A rollback waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollback {
    /// Its id (the generation of the events indexed after it).
    pub id: i64,
    /// The last block still valid.
    pub fork_block: i64,
    /// That block's hash as indexed now, when known.
    pub block_hash: Option<String>,
    /// How many indexed events it removed.
    pub removed_events: i64,
}

/// The rollbacks of `chain_id` after `after_id`, oldest first, at most `limit`.
pub async fn rollbacks_after(
    conn: &mut PgConnection,
    chain_id: i64,
    after_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<Rollback>> {
    sqlx::query_as!(
        Rollback,
        "SELECT id, fork_block, block_hash, removed_events FROM index_rollbacks \
         WHERE chain_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        chain_id,
        after_id,
        limit
    )
    .fetch_all(conn)
    .await
}

/// An indexed event waiting in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// Block number.
    pub block_number: i64,
    /// Block hash (0x-hex).
    pub block_hash: String,
    /// Log index within the block.
    pub log_index: i64,
    /// Transaction hash (0x-hex).
    pub tx_hash: String,
    /// Emitting contract's name.
    pub contract: String,
    /// Emitting contract's address.
    pub address: String,
    /// Event name.
    pub event: String,
    /// Entity stream.
    pub stream: String,
    /// Decoded arguments by name, as stored.
    pub args: serde_json::Value,
    /// The rollback most recent when it was indexed.
    pub generation: i64,
}

/// The events of `chain_id` after `after` (block number, log index) in chain order, at most `limit`.
pub async fn events_after(
    conn: &mut PgConnection,
    chain_id: i64,
    after: (i64, i64),
    limit: i64,
) -> sqlx::Result<Vec<OutboxEvent>> {
    sqlx::query_as!(
        OutboxEvent,
        r#"SELECT block_number, block_hash, log_index, tx_hash, contract, address, event, stream,
                  args AS "args!: serde_json::Value", generation
           FROM raw_events
           WHERE chain_id = $1 AND (block_number, log_index) > ($2, $3)
           ORDER BY block_number, log_index LIMIT $4"#,
        chain_id,
        after.0,
        after.1,
        limit
    )
    .fetch_all(conn)
    .await
}

/// How many events and rollbacks of `chain_id` wait after `cursor`, counted up to `cap` events.
pub async fn backlog(
    db: impl PgExecutor<'_>,
    chain_id: i64,
    cursor: &StreamCursor,
    cap: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT (SELECT count(*) FROM (SELECT 1 FROM raw_events
                    WHERE chain_id = $1 AND (block_number, log_index) > ($2, $3) LIMIT $5) AS waiting)
                + (SELECT count(*) FROM index_rollbacks WHERE chain_id = $1 AND id > $4) AS "backlog!""#,
        chain_id,
        cursor.position.0,
        cursor.position.1,
        cursor.rollback_id,
        cap
    )
    .fetch_one(db)
    .await
}
