//! Turns indexed events into derived rows. One path serves the live indexer, reorg replay and `accord rebuild`:
//! for a batch, [`load`] the current rows of every entity the batch touches (one query per table), [`project`]
//! the events onto them in chain order in memory (pure: no I/O), then [`write`] the rows back: new rows by
//! `COPY`, rows stored before the batch by one `UPDATE … FROM UNNEST` per table (small tables by upsert). The
//! row types are in [`rows`]; the raw event log the events come from is [`super::raw`].
//!
//! Every derived row records its `stream`; [`replay_streams`] deletes the rows of some streams and re-applies
//! their remaining raw events, which is how a reorg rolls back derived state, aggregates included.

mod load;
mod project;
mod rows;
mod write;

use sqlx::PgConnection;

use super::Result;
use crate::domain::{EventCodec, EventRecord};
use rows::Projection;

/// Derived tables, in the order rollback and digests visit them.
pub const DERIVED_TABLES: [&str; 10] = [
    "jobs",
    "assignments",
    "results",
    "payments",
    "workers",
    "slashes",
    "proposals",
    "votes",
    "params",
    "roles",
];

/// Applies `events` (already stored in `raw_events`, in chain order) to the derived tables.
pub async fn apply_events(
    conn: &mut PgConnection,
    chain_id: u64,
    events: &[EventRecord],
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let chain_id = chain_id as i64;
    let t0 = std::time::Instant::now();
    let mut state = Projection::load(conn, chain_id, events).await?;
    let t1 = t0.elapsed();
    for e in events {
        state.apply(e)?;
    }
    let t2 = t0.elapsed();
    let r = state.write(conn, chain_id).await;
    tracing::debug!(target: "accord::indexer", load_ms = t1.as_millis() as u64, apply_ms = (t2 - t1).as_millis() as u64, write_ms = (t0.elapsed() - t2).as_millis() as u64, "apply phases");
    r
}

/// Deletes every derived row of `streams` and re-applies their stored events, read back as protocol events by
/// the chain family's `codec`.
pub async fn replay_streams(
    conn: &mut PgConnection,
    chain_id: u64,
    streams: &[String],
    codec: &dyn EventCodec,
) -> Result<()> {
    if streams.is_empty() {
        return Ok(());
    }
    for table in DERIVED_TABLES {
        // Table names come from the constant DERIVED_TABLES, never from input.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE chain_id = $1 AND stream = ANY($2)"
        )))
        .bind(chain_id as i64)
        .bind(streams)
        .execute(&mut *conn)
        .await?;
    }
    let mut after = (-1, -1);
    loop {
        let mut events = super::raw::read_streams(conn, chain_id, streams, after, 10_000).await?;
        for e in &mut events {
            e.protocol = codec
                .protocol_event(e)
                .map_err(|message| project::inconsistent(e, &message))?
                .map(Box::new);
        }
        let Some(last) = events.last() else { break };
        after = (last.block_number as i64, last.log_index as i64);
        apply_events(conn, chain_id, &events).await?;
    }
    Ok(())
}
