//! `raw_events`: the raw event log, everything the chain said, in chain order. The indexer appends each range's
//! events; a rollback deletes those above the fork point; a replay reads a stream's events back. Everything
//! else in the index is derived from it (see [`super::apply`]).

use sqlx::{PgConnection, PgExecutor};

use super::Result;
use super::copy::CopyIn;
use crate::domain::EventRecord;

/// Appends `events` to `raw_events` with `COPY`, the fastest bulk path. Exactly-once holds without an
/// `ON CONFLICT` clause: a batch commits together with the cursor, so a range is never stored twice, and should a
/// log arrive twice anyway the primary key (chain id, block number, log index) rejects the whole batch loudly
/// instead of applying it again.
pub async fn insert(conn: &mut PgConnection, chain_id: u64, events: &[EventRecord]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    // The generation the event stream's message ids carry (see migrations/0010_event_stream.sql).
    let generation = super::outbox::generation(&mut *conn, chain_id as i64).await?;
    let mut copy = CopyIn::start(
        conn,
        "COPY raw_events (chain_id, block_number, block_hash, log_index, tx_hash, contract, address, event, stream, args, generation) \
         FROM STDIN",
    )
    .await?;
    let mut args = Vec::with_capacity(1024);
    for e in events {
        args.clear();
        serde_json::to_writer(&mut args, &e.args).expect("a JSON value serializes");
        // Hashes and addresses are 0x-hex, contract and event names identifiers from `abi/`: nothing to escape.
        copy.plain(chain_id)
            .plain(e.block_number)
            .plain(&e.block_hash)
            .plain(e.log_index)
            .plain(&e.tx_hash)
            .plain(&e.contract)
            .plain(&e.address)
            .plain(&e.event)
            .text(&e.stream)
            .text(std::str::from_utf8(&args).expect("serde_json writes UTF-8"))
            .plain(generation);
        copy.end_row().await?;
    }
    copy.finish().await?;
    Ok(())
}

/// Reads stored events of `streams` in chain order, `limit` at a time after `after` (block, log index). The
/// records carry no protocol event: the chain family's codec reads that back.
pub async fn read_streams(
    conn: &mut PgConnection,
    chain_id: u64,
    streams: &[String],
    after: (i64, i64),
    limit: i64,
) -> Result<Vec<EventRecord>> {
    let rows = sqlx::query!(
        r#"SELECT block_number, block_hash, log_index, tx_hash, contract, address, event, stream,
                  args AS "args!: serde_json::Value"
           FROM raw_events
           WHERE chain_id = $1 AND stream = ANY($2) AND (block_number, log_index) > ($3, $4)
           ORDER BY block_number, log_index LIMIT $5"#,
        chain_id as i64,
        streams,
        after.0,
        after.1,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| EventRecord {
            chain_id,
            block_number: r.block_number as u64,
            block_hash: r.block_hash,
            log_index: r.log_index as u64,
            tx_hash: r.tx_hash,
            contract: r.contract,
            address: r.address,
            event: r.event,
            stream: r.stream,
            args: r.args,
            protocol: None,
        })
        .collect())
}

/// The streams with events above block `number`.
pub async fn streams_above(
    conn: &mut PgConnection,
    chain_id: i64,
    number: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "SELECT DISTINCT stream FROM raw_events WHERE chain_id = $1 AND block_number > $2",
        chain_id,
        number
    )
    .fetch_all(conn)
    .await
}

/// Deletes the events above block `number`; returns how many there were.
pub async fn delete_above(
    conn: &mut PgConnection,
    chain_id: i64,
    number: i64,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM raw_events WHERE chain_id = $1 AND block_number > $2",
        chain_id,
        number
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// How many events of `chain_id` the log holds.
pub async fn count(db: impl PgExecutor<'_>, chain_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM raw_events WHERE chain_id = $1"#,
        chain_id
    )
    .fetch_one(db)
    .await
}
