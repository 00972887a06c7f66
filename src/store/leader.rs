//! PostgreSQL advisory locks that make one process the single writer of something: the indexer of a chain
//! (one writer of its cursor) and the scheduler's leader. Each lock's key is scoped by the current schema, so
//! `accord rebuild`'s schema beside the live one has locks of its own.

use sqlx::PgConnection;

/// Takes the indexer lock of `chain_id` for this session (released when the session ends), unless another
/// session holds it.
pub async fn try_lock_indexer(conn: &mut PgConnection, chain_id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT pg_try_advisory_lock(hashtext(current_schema() || ':accord-indexer:' || $1::bigint::text)) AS "locked!""#,
        chain_id
    )
    .fetch_one(conn)
    .await
}

/// Takes the indexer lock of `chain_id` until the end of the current transaction, unless another session
/// holds it (a live indexer that has not halted).
pub async fn try_lock_indexer_in_transaction(
    conn: &mut PgConnection,
    chain_id: i64,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || ':accord-indexer:' || $1::bigint::text)) AS "locked!""#,
        chain_id
    )
    .fetch_one(conn)
    .await
}

/// Takes the scheduler's leader lock of `chain_id` for this session (released when the session ends), unless
/// another session holds it.
pub async fn try_lock_scheduler(conn: &mut PgConnection, chain_id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT pg_try_advisory_lock(hashtext(current_schema() || ':accord-scheduler:' || $1::bigint::text)) AS "locked!""#,
        chain_id
    )
    .fetch_one(conn)
    .await
}

/// Takes the event stream publisher's lock for this session (released when the session ends), unless another
/// session holds it.
pub async fn try_lock_publisher(conn: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT pg_try_advisory_lock(hashtext(current_schema() || ':accord-stream-publisher')) AS "locked!""#
    )
    .fetch_one(conn)
    .await
}

/// Checks that a lock's session still answers.
pub async fn ping(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query!("SELECT 1 AS one").fetch_one(conn).await?;
    Ok(())
}
