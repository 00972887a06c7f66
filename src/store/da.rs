//! The data-availability tables: `da_archive` (every blob put through the coordinator, by sha256; also the
//! storage of the `local` layer), `da_refs` (where each archived blob was published) and `da_pending` (blobs
//! the primary layer refused and the secondary took, until `reconcile` puts them on the primary). Nothing here
//! carries a chain id: a blob is the same bytes whichever chain commits to it.

use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor};

/// Inserts `data` into the archive unless its sha256 is already there (the bytes cross the wire only when
/// new). Content-addressed, so a concurrent insert of the same bytes is harmless.
pub async fn archive(conn: &mut PgConnection, sha256: &str, data: &[u8]) -> sqlx::Result<()> {
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM da_archive WHERE sha256 = $1) AS "exists!""#,
        sha256
    )
    .fetch_one(&mut *conn)
    .await?;
    if !exists {
        sqlx::query!(
            "INSERT INTO da_archive (sha256, size, data) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING",
            sha256,
            data.len() as i64,
            data
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The archived bytes with this sha256 (0x-hex).
pub async fn archived(db: impl PgExecutor<'_>, sha256: &str) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar!("SELECT data FROM da_archive WHERE sha256 = $1", sha256)
        .fetch_optional(db)
        .await
}

/// The archived bytes a reference of `kind` names: through `da_refs`, or directly by sha256 for the local
/// layer (`local_kind`), whose commitment is the sha256.
pub async fn archived_for(
    db: impl PgExecutor<'_>,
    kind: i16,
    commitment: &str,
    local_kind: i16,
) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar!(
        "SELECT a.data FROM da_archive a WHERE a.sha256 = ( \
             SELECT sha256 FROM da_refs WHERE kind = $1 AND commitment = $2 \
             UNION ALL SELECT $2 WHERE $1 = $3 LIMIT 1)",
        kind,
        commitment,
        local_kind
    )
    .fetch_optional(db)
    .await
}

/// A recorded reference of a blob on one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    /// Commitment (0x-hex bytes32).
    pub commitment: String,
    /// Where the layer keeps it.
    pub locator: String,
    /// Size in bytes.
    pub size: i64,
}

/// The newest reference of `kind` recorded for the bytes with this sha256.
pub async fn latest_ref(
    db: impl PgExecutor<'_>,
    sha256: &str,
    kind: i16,
) -> sqlx::Result<Option<Ref>> {
    sqlx::query_as!(
        Ref,
        "SELECT commitment, locator, size FROM da_refs WHERE sha256 = $1 AND kind = $2 \
         ORDER BY created_at DESC LIMIT 1",
        sha256,
        kind
    )
    .fetch_optional(db)
    .await
}

/// Records that the archived bytes with this sha256 are on the layer of `kind` under `r` (once).
pub async fn insert_ref(
    conn: &mut PgConnection,
    sha256: &str,
    kind: i16,
    r: &Ref,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO da_refs (kind, commitment, locator, sha256, size) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
        kind,
        r.commitment,
        r.locator,
        sha256,
        r.size
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records that the primary layer `primary_layer` failed with `error` for these bytes, which the secondary took
/// under (`kind`, `r`); a blob already pending keeps its row with the new error.
pub async fn mark_pending(
    conn: &mut PgConnection,
    sha256: &str,
    primary_layer: &str,
    kind: i16,
    r: &Ref,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO da_pending (sha256, primary_layer, secondary_kind, secondary_commitment, \
         secondary_locator, last_error) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (sha256) DO UPDATE SET last_error = EXCLUDED.last_error",
        sha256,
        primary_layer,
        kind,
        r.commitment,
        r.locator,
        error
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the pending row of these bytes (they are on the primary now).
pub async fn clear_pending(conn: &mut PgConnection, sha256: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM da_pending WHERE sha256 = $1", sha256)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many blobs are pending, and when the oldest was put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingSummary {
    /// Blobs pending.
    pub count: i64,
    /// Unix time the oldest of them was put, if any.
    pub oldest: Option<i64>,
}

/// The pending count and age.
pub async fn pending_summary(db: impl PgExecutor<'_>) -> sqlx::Result<PendingSummary> {
    sqlx::query_as!(
        PendingSummary,
        r#"SELECT count(*) AS "count!", extract(epoch FROM min(created_at))::bigint AS oldest FROM da_pending"#
    )
    .fetch_one(db)
    .await
}

/// A blob waiting to be put on the primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingBlob {
    /// sha256 of the bytes (0x-hex).
    pub sha256: String,
    /// Its size in bytes.
    pub size: i64,
    /// The layer that failed.
    pub primary_layer: String,
    /// The secondary's locator handed out instead.
    pub secondary_locator: String,
    /// Reconcile attempts so far.
    pub attempts: i32,
    /// The primary's last error.
    pub last_error: String,
    /// Unix time it was put.
    pub created_at: i64,
}

/// The pending blobs, oldest first.
pub async fn pending(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<PendingBlob>> {
    sqlx::query_as!(
        PendingBlob,
        r#"SELECT p.sha256, a.size, p.primary_layer, p.secondary_locator, p.attempts, p.last_error,
                  extract(epoch FROM p.created_at)::bigint AS "created_at!"
           FROM da_pending p JOIN da_archive a USING (sha256) ORDER BY p.created_at, p.sha256"#
    )
    .fetch_all(db)
    .await
}

/// A pending blob locked for reconciling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    /// Reconcile attempts so far.
    pub attempts: i32,
    /// The archived bytes.
    pub data: Vec<u8>,
}

/// Locks the pending row of these bytes until the end of the transaction and reads it with the bytes; `None`
/// when there is none or another transaction holds it.
pub async fn lock_pending(conn: &mut PgConnection, sha256: &str) -> sqlx::Result<Option<Locked>> {
    sqlx::query_as!(
        Locked,
        "SELECT p.attempts, a.data FROM da_pending p JOIN da_archive a USING (sha256) \
         WHERE p.sha256 = $1 FOR UPDATE OF p SKIP LOCKED",
        sha256
    )
    .fetch_optional(conn)
    .await
}

/// Counts one more failed reconcile attempt of these bytes, with its error.
pub async fn record_attempt(
    conn: &mut PgConnection,
    sha256: &str,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE da_pending SET attempts = attempts + 1, last_error = $2, last_attempt_at = now() \
         WHERE sha256 = $1",
        sha256,
        error
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A committed result the DA check pass looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultToCheck {
    /// Chain id.
    pub chain_id: i64,
    /// Job id (decimal).
    pub job_id: String,
    /// Attempt (a redundant job's replica).
    pub attempt: i32,
    /// DA kind.
    pub kind: i32,
    /// Commitment (0x-hex).
    pub commitment: String,
    /// Size in bytes (decimal).
    pub size: String,
    /// Locator.
    pub locator: String,
    /// The block that recorded it.
    pub block_number: i64,
}

/// Up to `limit` committed results never checked (or whose reference changed since), oldest first.
pub async fn unchecked_results(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> sqlx::Result<Vec<ResultToCheck>> {
    sqlx::query_as!(
        ResultToCheck,
        r#"SELECT r.chain_id, r.job_id::text AS "job_id!", r.attempt, r.da_kind AS kind, r.commitment,
                  r.size::text AS "size!", r.locator, r.block_number
           FROM results r
           LEFT JOIN da_checks c ON c.chain_id = r.chain_id AND c.job_id = r.job_id AND c.attempt = r.attempt
           WHERE c.chain_id IS NULL OR c.commitment <> r.commitment OR c.kind <> r.da_kind
           ORDER BY r.block_number, r.chain_id, r.job_id, r.attempt
           LIMIT $1"#,
        limit
    )
    .fetch_all(db)
    .await
}

/// Up to `limit` committed results last checked before `before` (unix seconds), least recently checked first.
pub async fn stale_results(
    db: impl PgExecutor<'_>,
    before: i64,
    limit: i64,
) -> sqlx::Result<Vec<ResultToCheck>> {
    sqlx::query_as!(
        ResultToCheck,
        r#"SELECT r.chain_id, r.job_id::text AS "job_id!", r.attempt, r.da_kind AS kind, r.commitment,
                  r.size::text AS "size!", r.locator, r.block_number
           FROM da_checks c
           JOIN results r ON r.chain_id = c.chain_id AND r.job_id = c.job_id AND r.attempt = c.attempt
                         AND r.commitment = c.commitment AND r.da_kind = c.kind
           WHERE c.checked_at < to_timestamp($1::bigint)
           ORDER BY c.checked_at
           LIMIT $2"#,
        before,
        limit
    )
    .fetch_all(db)
    .await
}

/// The outcome of checking one result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRow<'a> {
    /// The result checked.
    pub result: &'a ResultToCheck,
    /// `verified`, `missing` or `mismatch`.
    pub archive: &'a str,
    /// `verified`, `missing`, `mismatch`, `unreachable` or `not_configured`.
    pub layer: &'a str,
    /// `available`, `archive_only`, `layer_only`, `unreachable` or `missing`.
    pub state: &'a str,
    /// Why something did not verify.
    pub detail: Option<&'a str>,
}

/// Records a check; `missing_since` starts at the first check that finds the result not available and clears
/// once it is again.
pub async fn record_check(db: impl PgExecutor<'_>, row: &CheckRow<'_>) -> sqlx::Result<()> {
    let r = row.result;
    sqlx::query!(
        r#"INSERT INTO da_checks (chain_id, job_id, attempt, kind, commitment, archive, layer, state, detail,
                                  missing_since)
           VALUES ($1, $2::text::numeric, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $8 = 'available' THEN NULL ELSE now() END)
           ON CONFLICT (chain_id, job_id, attempt) DO UPDATE SET
               kind = $4, commitment = $5, archive = $6, layer = $7, state = $8, detail = $9, checked_at = now(),
               missing_since = CASE
                   WHEN $8 = 'available' THEN NULL
                   WHEN da_checks.commitment = $5 AND da_checks.kind = $4 AND da_checks.missing_since IS NOT NULL
                       THEN da_checks.missing_since
                   ELSE now() END"#,
        r.chain_id,
        r.job_id,
        r.attempt,
        r.kind,
        r.commitment,
        row.archive,
        row.layer,
        row.state,
        row.detail
    )
    .execute(db)
    .await?;
    Ok(())
}

/// How many committed results are in each state (`unchecked`: not checked yet), optionally on one chain.
pub async fn check_counts(
    db: impl PgExecutor<'_>,
    chain_id: Option<i64>,
) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT coalesce(c.state, 'unchecked') AS "state!", count(*) AS "count!"
           FROM results r
           LEFT JOIN da_checks c ON c.chain_id = r.chain_id AND c.job_id = r.job_id AND c.attempt = r.attempt
                                AND c.commitment = r.commitment AND c.kind = r.da_kind
           WHERE $1::bigint IS NULL OR r.chain_id = $1
           GROUP BY 1 ORDER BY 1"#,
        chain_id
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.state, r.count)).collect())
}

/// A checked result that is not available in full, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedResult {
    /// Chain id.
    pub chain_id: i64,
    /// Job id (decimal).
    pub job_id: String,
    /// Attempt.
    pub attempt: i32,
    /// DA kind.
    pub kind: i32,
    /// Commitment (0x-hex).
    pub commitment: String,
    /// The block that recorded it.
    pub block_number: i64,
    /// The archive's state.
    pub archive: String,
    /// The DA layer's state.
    pub layer: String,
    /// The result's state.
    pub state: String,
    /// Why something did not verify.
    pub detail: Option<String>,
    /// When it was last checked (unix seconds).
    pub checked_at: i64,
    /// Since when it has not been available (unix seconds).
    pub missing_since: Option<i64>,
}

/// Up to `limit` results not available in full (every state but `available`), oldest block first; with `state`,
/// only those in it.
pub async fn problems(
    db: impl PgExecutor<'_>,
    chain_id: Option<i64>,
    state: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<CheckedResult>> {
    sqlx::query_as!(
        CheckedResult,
        r#"SELECT r.chain_id, r.job_id::text AS "job_id!", r.attempt, r.da_kind AS kind, r.commitment, r.block_number,
                  c.archive, c.layer, c.state, c.detail,
                  extract(epoch FROM c.checked_at)::bigint AS "checked_at!",
                  extract(epoch FROM c.missing_since)::bigint AS missing_since
           FROM da_checks c
           JOIN results r ON r.chain_id = c.chain_id AND r.job_id = c.job_id AND r.attempt = c.attempt
                         AND r.commitment = c.commitment AND r.da_kind = c.kind
           WHERE c.state <> 'available' AND ($1::bigint IS NULL OR r.chain_id = $1)
             AND ($2::text IS NULL OR c.state = $2)
           ORDER BY r.block_number, r.chain_id, r.job_id, r.attempt
           LIMIT $3"#,
        chain_id,
        state,
        limit
    )
    .fetch_all(db)
    .await
}
