//! `scheduler_intents`: what the scheduler decided to send (an assignment, an expiry, a refund or a
//! finalization of one job attempt) and what became of it. A live intent (pending or done) is unique per job,
//! attempt and kind, so no replica and no retry sends the same thing twice; a refused, abandoned or orphaned one
//! no longer blocks a new decision.

use sqlx::PgPool;

/// An assignment recorded as a pending intent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The intent's id.
    pub id: i64,
    /// Job id (uint256, decimal).
    pub job_id: String,
    /// The worker picked.
    pub worker: String,
}

/// One decided assignment, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAssignment {
    /// Job id (uint256, decimal).
    pub job_id: String,
    /// The attempt it assigns (1-based).
    pub attempt: i32,
    /// The worker picked.
    pub worker: String,
}

/// Records `decided` as pending assignment intents; returns those recorded (a job attempt with a live intent
/// already is skipped).
pub async fn record_assignments(
    pool: &PgPool,
    chain_id: i64,
    decided: &[NewAssignment],
) -> sqlx::Result<Vec<Assignment>> {
    let ids: Vec<String> = decided.iter().map(|d| d.job_id.clone()).collect();
    let attempts: Vec<i32> = decided.iter().map(|d| d.attempt).collect();
    let workers: Vec<String> = decided.iter().map(|d| d.worker.clone()).collect();
    sqlx::query_as!(
        Assignment,
        r#"INSERT INTO scheduler_intents (chain_id, kind, job_id, attempt, worker, state)
           SELECT $1, 'assign', j::numeric, a, w, 'pending' FROM UNNEST($2::text[], $3::int[], $4::text[]) AS t(j, a, w)
           ON CONFLICT (chain_id, kind, job_id, attempt) WHERE state IN ('pending', 'done') DO NOTHING
           RETURNING id, job_id::text AS "job_id!", worker AS "worker!""#,
        chain_id,
        &ids,
        &attempts,
        &workers
    )
    .fetch_all(pool)
    .await
}

/// An expiry, refund or finalization recorded as a pending intent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chore {
    /// The intent's id.
    pub id: i64,
    /// `expire`, `refund` or `finalize`.
    pub kind: String,
    /// Job id (uint256, decimal).
    pub job_id: String,
}

/// Decides and records, as pending intents, up to 64 chores due at chain time `now`: expiries of overdue
/// assignments and of disputes past their period, refunds of lapsed open jobs, finalizations of results whose
/// challenge window closed. A job attempt with a live intent of that kind, or one refused less than
/// `refusal_backoff_secs` ago, is skipped.
pub async fn record_chores(
    pool: &PgPool,
    chain_id: i64,
    now: i64,
    refusal_backoff_secs: f64,
) -> sqlx::Result<Vec<Chore>> {
    sqlx::query_as!(
        Chore,
        // A redundant job's phases close by `expire` too, each under its own number (-1 gathering, -2 commit,
        // -3 reveal) so that closing one phase does not block closing the next.
        r#"WITH due AS (
               SELECT j.job_id,
                      CASE j.status WHEN 'gathering' THEN -1 WHEN 'committing' THEN -2 WHEN 'revealing' THEN -3
                           ELSE j.max_attempts - j.attempts_left END AS attempt,
                      CASE WHEN j.status IN ('assigned', 'gathering', 'committing', 'revealing') THEN 'expire'
                           WHEN j.status = 'submitted' THEN 'finalize' ELSE 'refund' END AS kind
               FROM jobs j
               WHERE j.chain_id = $1 AND (
                     (j.status IN ('assigned', 'disputed', 'committing', 'revealing') AND j.due < $2)
                  OR (j.status = 'submitted' AND j.due <= $2)
                  OR (j.status = 'open' AND j.deadline <= $2)
                  OR (j.status = 'gathering' AND COALESCE(j.due, j.deadline - 1) < $2))
               ORDER BY j.job_id LIMIT 64)
           INSERT INTO scheduler_intents (chain_id, kind, job_id, attempt, state)
           SELECT $1, d.kind, d.job_id, d.attempt, 'pending' FROM due d
           WHERE NOT EXISTS (SELECT 1 FROM scheduler_intents i WHERE i.chain_id = $1 AND i.kind = d.kind
                 AND i.job_id = d.job_id AND i.attempt = d.attempt AND i.state = 'refused'
                 AND i.updated_at > now() - make_interval(secs => $3))
           ON CONFLICT (chain_id, kind, job_id, attempt) WHERE state IN ('pending', 'done') DO NOTHING
           RETURNING id, kind, job_id::text AS "job_id!""#,
        chain_id,
        now,
        refusal_backoff_secs
    )
    .fetch_all(pool)
    .await
}

/// Sets the intents `ids` to `state` (`done`, `refused`, `pending`) with `reason` (none when empty) and, when
/// given, the transaction and the block of its receipt.
pub async fn finish(
    pool: &PgPool,
    chain_id: i64,
    ids: &[i64],
    state: &str,
    reason: &str,
    tx: Option<&str>,
    block: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE scheduler_intents SET state = $2, reason = NULLIF($3, ''), tx_hash = COALESCE($4, tx_hash), \
         block_number = COALESCE($5, block_number), updated_at = now() \
         WHERE chain_id = $6 AND id = ANY($1)",
        ids,
        state,
        reason,
        tx,
        block,
        chain_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Abandons the intents pending for more than `timeout_secs` (their sender died); returns how many.
pub async fn abandon_stale(pool: &PgPool, chain_id: i64, timeout_secs: f64) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE scheduler_intents SET state = 'abandoned', reason = 'no receipt recorded in time', updated_at = now() \
         WHERE chain_id = $1 AND state = 'pending' AND updated_at < now() - make_interval(secs => $2)",
        chain_id,
        timeout_secs
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// The done assignment intents whose block the index has passed while their job is still open at that attempt:
/// the block was reorged away.
pub async fn orphans(pool: &PgPool, chain_id: i64) -> sqlx::Result<Vec<i64>> {
    // Found from the open jobs, one probe of the live-intent index each, then updated by id (see [`orphan`]): as
    // one UPDATE … WHERE id IN (…) the planner joined every intent with every open job, seconds per run with a
    // backlog.
    sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM (
               SELECT (SELECT i.id FROM scheduler_intents i
                       WHERE i.chain_id = j.chain_id AND i.kind = 'assign' AND i.job_id = j.job_id
                         AND i.attempt = j.max_attempts - j.attempts_left + 1 AND i.state = 'done'
                         AND i.block_number <= c.block_number) AS id
               FROM jobs j JOIN indexer_cursor c ON c.chain_id = j.chain_id
               WHERE j.chain_id = $1 AND j.status = 'open' OFFSET 0) t
           WHERE id IS NOT NULL"#,
        chain_id
    )
    .fetch_all(pool)
    .await
}

/// Orphans the done intents `ids` (see [`orphans`]), so their jobs are decided again; returns how many.
pub async fn orphan(pool: &PgPool, ids: &[i64]) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE scheduler_intents SET state = 'orphaned', reason = 'its block left the canonical chain', \
         updated_at = now() WHERE id = ANY($1) AND state = 'done'",
        ids
    )
    .execute(pool)
    .await?
    .rows_affected())
}
