//! `indexed_blocks`: the hashes of recently indexed blocks (the reorg window), for the fork-point search. The
//! indexer writes them with each range and trims them below the window; a rollback drops those above the fork.

use sqlx::{PgConnection, PgExecutor};

/// One indexed block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedBlock {
    /// Block number.
    pub number: i64,
    /// Its hash (0x-hex).
    pub hash: String,
}

/// Records `blocks` (number, hash, parent hash), replacing what was stored at the same heights.
pub async fn record<'a>(
    conn: &mut PgConnection,
    chain_id: i64,
    blocks: impl IntoIterator<Item = (u64, &'a str, &'a str)>,
) -> sqlx::Result<()> {
    let (mut numbers, mut hashes, mut parents) = (Vec::new(), Vec::new(), Vec::new());
    for (number, hash, parent) in blocks {
        numbers.push(number as i64);
        hashes.push(hash.to_owned());
        parents.push(parent.to_owned());
    }
    sqlx::query!(
        "INSERT INTO indexed_blocks (chain_id, number, hash, parent_hash) \
         SELECT $1, * FROM UNNEST($2::bigint[], $3::text[], $4::text[]) \
         ON CONFLICT (chain_id, number) DO UPDATE SET hash = EXCLUDED.hash, parent_hash = EXCLUDED.parent_hash",
        chain_id,
        &numbers,
        &hashes,
        &parents
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the blocks below `number` (they left the reorg window).
pub async fn forget_below(conn: &mut PgConnection, chain_id: i64, number: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM indexed_blocks WHERE chain_id = $1 AND number < $2",
        chain_id,
        number
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the blocks above `number` (a rollback to that fork point).
pub async fn forget_above(conn: &mut PgConnection, chain_id: i64, number: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM indexed_blocks WHERE chain_id = $1 AND number > $2",
        chain_id,
        number
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Every stored block of `chain_id`, newest first.
pub async fn newest_first(
    db: impl PgExecutor<'_>,
    chain_id: i64,
) -> sqlx::Result<Vec<IndexedBlock>> {
    sqlx::query_as!(
        IndexedBlock,
        "SELECT number, hash FROM indexed_blocks WHERE chain_id = $1 ORDER BY number DESC",
        chain_id
    )
    .fetch_all(db)
    .await
}
