//! What the scheduler reads from the index to decide: the open jobs it may assign (with the governed minimum
//! submit window and minimum stake), the workers' chain state, their load and record, and which of the tables
//! its queries join need fresh planner statistics. Read-only, but for `ANALYZE`.

use sqlx::PgPool;

/// An open job as a round reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenJob {
    /// Job id (uint256, decimal).
    pub job_id: String,
    /// Capability bits a worker needs.
    pub required_capabilities: i32,
    /// The attempt an assignment now would be (1-based).
    pub attempt: i32,
    /// Unix seconds by which a result must be accepted.
    pub deadline: i64,
    /// The governed `JobManager.minSubmitWindow` (0 while not indexed); the same on every row.
    pub submit_window: i64,
    /// The governed `WorkerRegistry.minStake` (uint256, decimal), if indexed; the same on every row.
    pub min_stake: Option<String>,
}

/// Up to `limit` open jobs by id whose deadline is after `clock` and leaves the minimum submit window, without a
/// live assignment intent for their current attempt nor one refused less than `refusal_backoff_secs` ago.
pub async fn open_jobs(
    pool: &PgPool,
    chain_id: i64,
    clock: i64,
    refusal_backoff_secs: f64,
    limit: i64,
) -> sqlx::Result<Vec<OpenJob>> {
    sqlx::query_as!(
        OpenJob,
        // The two parameters are uncorrelated scalar subqueries: PostgreSQL computes each once (an InitPlan) and
        // uses the submit window as a constant in the deadline condition. A cross join with a one-row CTE holding
        // them made the planner treat the window as a column, and the query took three times as long.
        r#"SELECT j.job_id::text AS "job_id!", j.required_capabilities,
                  j.max_attempts - j.attempts_left + 1 AS "attempt!", j.deadline,
                  COALESCE((SELECT value::bigint FROM params
                      WHERE chain_id = $1 AND contract = 'JobManager' AND key = 'minSubmitWindow'), 0)
                      AS "submit_window!",
                  (SELECT value::text FROM params
                      WHERE chain_id = $1 AND contract = 'WorkerRegistry' AND key = 'minStake') AS min_stake
           FROM jobs j
           WHERE j.chain_id = $1 AND j.status = 'open' AND j.deadline > $2
             AND j.deadline >= $2 + COALESCE((SELECT value::bigint FROM params
                 WHERE chain_id = $1 AND contract = 'JobManager' AND key = 'minSubmitWindow'), 0)
             AND NOT EXISTS (SELECT 1 FROM scheduler_intents i
                 WHERE i.chain_id = j.chain_id AND i.kind = 'assign' AND i.job_id = j.job_id
                   AND i.attempt = j.max_attempts - j.attempts_left + 1 AND i.state IN ('pending', 'done'))
             AND NOT EXISTS (SELECT 1 FROM scheduler_intents i
                 WHERE i.chain_id = j.chain_id AND i.state = 'refused'
                   AND i.updated_at > now() - make_interval(secs => $3)
                   AND i.kind = 'assign' AND i.job_id = j.job_id AND i.attempt = j.max_attempts - j.attempts_left + 1)
           ORDER BY j.job_id LIMIT $4"#,
        chain_id,
        clock,
        refusal_backoff_secs,
        limit
    )
    .fetch_all(pool)
    .await
}

/// A redundant job still gathering its replicas, as a round reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatheringJob {
    /// Job id (uint256, decimal).
    pub job_id: String,
    /// Capability bits every replica's worker needs.
    pub required_capabilities: i32,
    /// The client: never one of its replicas.
    pub client: String,
    /// Replicas it runs on.
    pub redundancy: i32,
    /// Replicas assigned in the index.
    pub assigned: i64,
    /// Replica intents sent or mined whose assignment is not indexed yet.
    pub in_flight: i64,
    /// Workers that hold a replica or a live intent for one: none may take another.
    pub taken: Vec<String>,
    /// The highest intent number used for the job's replicas (each intent takes the next one).
    pub last_attempt: i32,
    /// The governed `WorkerRegistry.minStake` (uint256, decimal), if indexed.
    pub min_stake: Option<String>,
    /// Unix seconds by which replicas must commit: the commit due once one is assigned, else the deadline.
    pub commit_by: i64,
    /// The governed `JobManager.minSubmitWindow` (0 while not indexed).
    pub submit_window: i64,
}

/// Up to `limit` redundant jobs by id that still need replicas and leave the minimum submit window before their
/// commit due (their deadline while no replica is assigned), without a replica intent refused less than
/// `refusal_backoff_secs` ago.
pub async fn gathering_jobs(
    pool: &PgPool,
    chain_id: i64,
    clock: i64,
    refusal_backoff_secs: f64,
    limit: i64,
) -> sqlx::Result<Vec<GatheringJob>> {
    sqlx::query_as!(
        GatheringJob,
        r#"SELECT j.job_id::text AS "job_id!", j.required_capabilities, j.client, j.redundancy,
                  (SELECT count(*) FROM assignments a WHERE a.chain_id = j.chain_id AND a.job_id = j.job_id)
                      AS "assigned!",
                  (SELECT count(*) FROM scheduler_intents i
                      WHERE i.chain_id = j.chain_id AND i.kind = 'assign' AND i.job_id = j.job_id
                        AND i.state IN ('pending', 'done')
                        AND NOT EXISTS (SELECT 1 FROM assignments a
                            WHERE a.chain_id = j.chain_id AND a.job_id = j.job_id AND a.worker = i.worker))
                      AS "in_flight!",
                  ARRAY(SELECT a.worker FROM assignments a WHERE a.chain_id = j.chain_id AND a.job_id = j.job_id
                        UNION
                        SELECT i.worker FROM scheduler_intents i
                        WHERE i.chain_id = j.chain_id AND i.kind = 'assign' AND i.job_id = j.job_id
                          AND i.state IN ('pending', 'done') AND i.worker IS NOT NULL) AS "taken!",
                  COALESCE((SELECT max(i.attempt) FROM scheduler_intents i
                      WHERE i.chain_id = j.chain_id AND i.kind = 'assign' AND i.job_id = j.job_id), 0)
                      AS "last_attempt!",
                  (SELECT value::text FROM params
                      WHERE chain_id = $1 AND contract = 'WorkerRegistry' AND key = 'minStake') AS min_stake,
                  COALESCE(j.due, j.deadline) AS "commit_by!",
                  COALESCE((SELECT value::bigint FROM params
                      WHERE chain_id = $1 AND contract = 'JobManager' AND key = 'minSubmitWindow'), 0)
                      AS "submit_window!"
           FROM jobs j
           WHERE j.chain_id = $1 AND j.status = 'gathering' AND j.deadline > $2
             AND COALESCE(j.due, j.deadline) >= $2 + COALESCE((SELECT value::bigint FROM params
                 WHERE chain_id = $1 AND contract = 'JobManager' AND key = 'minSubmitWindow'), 0)
             AND NOT EXISTS (SELECT 1 FROM scheduler_intents i
                 WHERE i.chain_id = j.chain_id AND i.state = 'refused'
                   AND i.updated_at > now() - make_interval(secs => $3)
                   AND i.kind = 'assign' AND i.job_id = j.job_id)
           ORDER BY j.job_id LIMIT $4"#,
        chain_id,
        clock,
        refusal_backoff_secs,
        limit
    )
    .fetch_all(pool)
    .await
}

/// One worker's chain state, as the scheduler needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerRow {
    /// The worker's address.
    pub address: String,
    /// Capability bits.
    pub capabilities: i32,
    /// Its stake (uint256, decimal).
    pub stake: String,
    /// Whether it is jailed.
    pub jailed: bool,
    /// The block of its row's last change.
    pub updated_block: i64,
}

/// The workers whose row changed after block `after` (every worker with `i64::MIN`).
pub async fn workers_updated_after(
    pool: &PgPool,
    chain_id: i64,
    after: i64,
) -> sqlx::Result<Vec<WorkerRow>> {
    sqlx::query_as!(
        WorkerRow,
        r#"SELECT address, capabilities, stake::text AS "stake!", jailed, updated_block FROM workers
           WHERE chain_id = $1 AND updated_block > $2"#,
        chain_id,
        after
    )
    .fetch_all(pool)
    .await
}

/// How many jobs one worker holds (`worker` `None`: open jobs without a live intent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerLoad {
    /// The worker.
    pub worker: Option<String>,
    /// Jobs assigned in the index, plus live intents of jobs still open there (sent, not indexed yet).
    pub jobs: i64,
}

/// Every worker's load.
pub async fn loads(pool: &PgPool, chain_id: i64) -> sqlx::Result<Vec<WorkerLoad>> {
    // The intent of an open job's current attempt is found by a scalar subquery: one probe of the live-intent
    // index per open job. Open jobs without a live intent group under NULL. A replica of a redundant job counts
    // until it has committed, and a replica intent until its assignment is indexed.
    sqlx::query_as!(
        WorkerLoad,
        r#"SELECT worker, count(*) AS "jobs!" FROM (
               SELECT worker FROM jobs WHERE chain_id = $1 AND status = 'assigned'
               UNION ALL
               SELECT (SELECT i.worker FROM scheduler_intents i
                       WHERE i.chain_id = j.chain_id AND i.kind = 'assign' AND i.job_id = j.job_id
                         AND i.attempt = j.max_attempts - j.attempts_left + 1 AND i.state IN ('pending', 'done'))
               FROM jobs j WHERE j.chain_id = $1 AND j.status = 'open'
               UNION ALL
               SELECT a.worker FROM jobs j JOIN assignments a ON a.chain_id = j.chain_id AND a.job_id = j.job_id
               WHERE j.chain_id = $1 AND j.status IN ('gathering', 'committing') AND a.outcome = 'active'
               UNION ALL
               SELECT i.worker FROM jobs j JOIN scheduler_intents i ON i.chain_id = j.chain_id AND i.job_id = j.job_id
               WHERE j.chain_id = $1 AND j.status = 'gathering' AND i.kind = 'assign'
                 AND i.state IN ('pending', 'done')
                 AND NOT EXISTS (SELECT 1 FROM assignments a
                     WHERE a.chain_id = j.chain_id AND a.job_id = j.job_id AND a.worker = i.worker)) t
           GROUP BY worker"#,
        chain_id
    )
    .fetch_all(pool)
    .await
}

/// One worker's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerRecord {
    /// The worker.
    pub worker: String,
    /// Assignments paid.
    pub completed: i64,
    /// Assignments expired or refunded, and replicas at fault.
    pub failed: i64,
}

/// Every worker's record (only workers with at least one finished assignment).
pub async fn records(pool: &PgPool, chain_id: i64) -> sqlx::Result<Vec<WorkerRecord>> {
    sqlx::query_as!(
        WorkerRecord,
        r#"SELECT worker, count(*) FILTER (WHERE outcome = 'paid') AS "completed!",
                  count(*) FILTER (WHERE outcome <> 'paid') AS "failed!"
           FROM assignments WHERE chain_id = $1
             AND outcome IN ('paid', 'expired', 'refunded', 'no_commit', 'no_reveal', 'dissented', 'dispute_lost')
           GROUP BY worker"#,
        chain_id
    )
    .fetch_all(pool)
    .await
}

/// The tables the scheduler's queries join (those [`stale_statistics`] reads).
const STATISTICS_TABLES: [&str; 3] = ["jobs", "scheduler_intents", "assignments"];

/// Those of the scheduler's tables changed much since their last analysis: more than 500 rows plus a fifth of
/// their rows.
pub async fn stale_statistics(pool: &PgPool) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"SELECT relname::text AS "table!" FROM pg_stat_user_tables
           WHERE schemaname = current_schema() AND relname IN ('jobs', 'scheduler_intents', 'assignments')
             AND n_mod_since_analyze > 500 + n_live_tup / 5"#
    )
    .fetch_all(pool)
    .await
}

/// Refreshes the planner statistics of `table`, one of the tables [`stale_statistics`] names.
pub async fn analyze(pool: &PgPool, table: &str) -> sqlx::Result<()> {
    let Some(table) = STATISTICS_TABLES.into_iter().find(|t| *t == table) else {
        return Err(sqlx::Error::Protocol(format!(
            "{table} is not a table the scheduler analyzes"
        )));
    };
    // The one statement here whose text varies: `ANALYZE` takes no parameter, and `table` is a constant.
    sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {table}")))
        .execute(pool)
        .await?;
    Ok(())
}
