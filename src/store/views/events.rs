//! The raw event log as the API serves it (`/v1/events`).

use sqlx::{PgPool, Postgres, QueryBuilder};

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventView {
    /// Chain id.
    pub chain_id: i64,
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
}

/// Filters of the event list; each present one narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Emitting contract's name.
    pub contract: Option<String>,
    /// Event name.
    pub event: Option<String>,
    /// Entity stream.
    pub stream: Option<String>,
    /// From this block on.
    pub from_block: Option<i64>,
    /// Up to this block.
    pub to_block: Option<i64>,
    /// Events after this position (block, log index).
    pub after: Option<(i64, i64)>,
}

/// Up to `limit + 1` events matching `filter`, in chain order.
pub async fn list(
    pool: &PgPool,
    chain_id: i64,
    filter: EventFilter,
    limit: i64,
) -> sqlx::Result<Vec<EventView>> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "SELECT chain_id, block_number, block_hash, log_index, tx_hash, contract, address, event, stream, args \
         FROM raw_events WHERE chain_id = ",
    );
    sql.push_bind(chain_id);
    if let Some(contract) = filter.contract {
        sql.push(" AND contract = ").push_bind(contract);
    }
    if let Some(event) = filter.event {
        sql.push(" AND event = ").push_bind(event);
    }
    if let Some(stream) = filter.stream {
        sql.push(" AND stream = ").push_bind(stream);
    }
    if let Some(from) = filter.from_block {
        sql.push(" AND block_number >= ").push_bind(from);
    }
    if let Some(to) = filter.to_block {
        sql.push(" AND block_number <= ").push_bind(to);
    }
    super::position_page(&mut sql, filter.after, limit);
    sql.build_query_as().fetch_all(pool).await
}
