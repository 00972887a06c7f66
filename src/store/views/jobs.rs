//! Jobs as the API serves them: `jobs` with their `assignments`, `results`, `payments` and `slashes`.

use serde::Deserialize;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::workers::SlashView;

/// A job's row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobView {
    /// Job id (uint256, decimal).
    pub job_id: String,
    /// Who posted it.
    pub client: String,
    /// sha256 of the job spec.
    pub spec_hash: String,
    /// Where the spec lives (U+FFFD for bytes that are not UTF-8).
    pub spec_uri: String,
    /// The exact bytes of `spec_uri` (0x-hex) when the text is not them.
    pub spec_uri_hex: Option<String>,
    /// Capability bits a worker needs.
    pub required_capabilities: i32,
    /// Escrowed reward (uint256, decimal).
    pub reward: String,
    /// Unix seconds by which a result must be accepted.
    pub deadline: i64,
    /// Assignments the job may have.
    pub max_attempts: i32,
    /// Assignments left.
    pub attempts_left: i32,
    /// Status.
    pub status: String,
    /// The assigned worker, if any.
    pub worker: Option<String>,
    /// Unix seconds the current step is due, if any.
    pub due: Option<i64>,
    /// Block of `JobPosted`.
    pub posted_block: i64,
    /// Block of the last change.
    pub updated_block: i64,
    /// Replicas the job runs on (1: a single worker).
    pub redundancy: i32,
    /// Agreeing reveals needed.
    pub threshold: i32,
    /// The agreed commitment of a redundant job, once reached.
    pub consensus: Option<String>,
}

/// One assignment of a job.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AssignmentView {
    /// 1-based attempt.
    pub attempt: i32,
    /// The worker.
    pub worker: String,
    /// Unix seconds the result was due.
    pub due: i64,
    /// Outcome.
    pub outcome: String,
    /// Slashed (uint256, decimal).
    pub slashed: String,
    /// Block of `JobAssigned`.
    pub assigned_block: i64,
    /// The client's dispute bond (uint256, decimal).
    pub dispute_bond: String,
    /// A replica's sealed result, once committed.
    pub sealed_result: Option<String>,
    /// A replica's revealed commitment, once revealed.
    pub commitment: Option<String>,
}

/// One result of a job.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ResultView {
    /// The attempt it belongs to.
    pub attempt: i32,
    /// The worker.
    pub worker: String,
    /// DA layer kind.
    pub da_kind: i32,
    /// Commitment (0x-hex).
    pub commitment: String,
    /// Size in bytes (uint256, decimal).
    pub size: String,
    /// Where the bytes can be fetched (U+FFFD for bytes that are not UTF-8).
    pub locator: String,
    /// The exact bytes of `locator` (0x-hex) when the text is not them.
    pub locator_hex: Option<String>,
    /// Unix seconds the challenge window ends.
    pub challenge_ends_at: i64,
    /// Block of `ResultSubmitted`.
    pub block_number: i64,
    /// Its transaction.
    pub tx_hash: String,
}

/// One payment out of a job's escrow.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaymentView {
    /// Block.
    pub block_number: i64,
    /// Log index.
    pub log_index: i64,
    /// Kind.
    pub kind: String,
    /// Recipient.
    pub recipient: String,
    /// Amount (uint256, decimal).
    pub amount: String,
    /// Fee (uint256, decimal).
    pub fee: String,
    /// Transaction.
    pub tx_hash: String,
}

/// A job with its assignments, results, payments and slashes, each in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobDetailView {
    /// The job.
    pub job: JobView,
    /// Assignments by attempt.
    pub assignments: Vec<AssignmentView>,
    /// Results by attempt.
    pub results: Vec<ResultView>,
    /// Payments in chain order.
    pub payments: Vec<PaymentView>,
    /// Slashes in chain order.
    pub slashes: Vec<SlashView>,
}

/// Filters of the job list; each present one narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Status.
    pub status: Option<String>,
    /// Client address.
    pub client: Option<String>,
    /// Worker address.
    pub worker: Option<String>,
    /// A worker holding a replica still at work (assigned or committed) in a redundant job not yet settled.
    pub replica: Option<String>,
    /// Jobs after this id (uint256, decimal).
    pub after: Option<String>,
}

/// Up to `limit + 1` jobs matching `filter`, by id.
pub async fn list(
    pool: &PgPool,
    chain_id: i64,
    filter: JobFilter,
    limit: i64,
) -> sqlx::Result<Vec<JobView>> {
    // One statement per filter combination, each served in job_id order by one of the (chain_id, X, job_id)
    // indexes, so PostgreSQL can cache a generic plan for each.
    let mut sql = QueryBuilder::<Postgres>::new(
        "SELECT j.job_id::text AS job_id, j.client, j.spec_hash, j.spec_uri, \
         '0x' || encode(j.spec_uri_raw, 'hex') AS spec_uri_hex, j.required_capabilities, \
         j.reward::text AS reward, j.deadline, j.max_attempts, j.attempts_left, j.status, j.worker, j.due, \
         j.posted_block, j.updated_block, j.redundancy, j.threshold, j.consensus FROM jobs j WHERE j.chain_id = ",
    );
    sql.push_bind(chain_id);
    if let Some(status) = filter.status {
        sql.push(" AND j.status = ").push_bind(status);
    }
    if let Some(client) = filter.client {
        sql.push(" AND j.client = ").push_bind(client);
    }
    if let Some(worker) = filter.worker {
        sql.push(" AND j.worker = ").push_bind(worker);
    }
    if let Some(replica) = filter.replica {
        sql.push(
            " AND j.status IN ('gathering', 'committing', 'revealing') AND EXISTS (SELECT 1 FROM assignments a \
             WHERE a.chain_id = j.chain_id AND a.job_id = j.job_id AND a.outcome IN ('active', 'committed') \
             AND a.worker = ",
        )
        .push_bind(replica)
        .push(")");
    }
    if let Some(after) = filter.after {
        sql.push(" AND j.job_id > ")
            .push_bind(after)
            .push("::numeric");
    }
    sql.push(" ORDER BY j.job_id LIMIT ").push_bind(limit + 1);
    sql.build_query_as().fetch_all(pool).await
}

/// Job `job_id` (uint256, decimal) with everything it led to.
pub async fn detail(
    pool: &PgPool,
    chain_id: i64,
    job_id: &str,
) -> sqlx::Result<Option<JobDetailView>> {
    let row = sqlx::query!(
        r#"SELECT j.job_id::text AS "job_id!", j.client, j.spec_hash, j.spec_uri,
                  '0x' || encode(j.spec_uri_raw, 'hex') AS "spec_uri_hex?", j.required_capabilities,
                  j.reward::text AS "reward!", j.deadline, j.max_attempts, j.attempts_left, j.status, j.worker, j.due,
                  j.posted_block, j.updated_block, j.redundancy, j.threshold, j.consensus,
           (SELECT coalesce(json_agg(json_build_object(
               'attempt', a.attempt, 'worker', a.worker, 'due', a.due, 'outcome', a.outcome,
               'slashed', a.slashed::text, 'assigned_block', a.assigned_block, 'dispute_bond', a.dispute_bond::text,
               'sealed_result', a.sealed_result, 'commitment', a.commitment)
               ORDER BY a.attempt), '[]')
            FROM assignments a WHERE a.chain_id = j.chain_id AND a.job_id = j.job_id)
               AS "assignments!: Json<Vec<AssignmentView>>",
           (SELECT coalesce(json_agg(json_build_object(
               'attempt', r.attempt, 'worker', r.worker, 'da_kind', r.da_kind, 'commitment', r.commitment,
               'size', r.size::text, 'locator', r.locator,
               'locator_hex', '0x' || encode(r.locator_raw, 'hex'), 'challenge_ends_at', r.challenge_ends_at,
               'block_number', r.block_number, 'tx_hash', r.tx_hash) ORDER BY r.attempt), '[]')
            FROM results r WHERE r.chain_id = j.chain_id AND r.job_id = j.job_id)
               AS "results!: Json<Vec<ResultView>>",
           (SELECT coalesce(json_agg(json_build_object(
               'block_number', p.block_number, 'log_index', p.log_index, 'kind', p.kind, 'recipient', p.recipient,
               'amount', p.amount::text, 'fee', p.fee::text, 'tx_hash', p.tx_hash)
               ORDER BY p.block_number, p.log_index), '[]')
            FROM payments p WHERE p.chain_id = j.chain_id AND p.job_id = j.job_id)
               AS "payments!: Json<Vec<PaymentView>>",
           (SELECT coalesce(json_agg(json_build_object(
               'block_number', x.block_number, 'log_index', x.log_index, 'worker', x.worker, 'job_id', x.job_id::text,
               'recipient', x.recipient, 'amount', x.amount::text, 'from_stake', x.from_stake::text,
               'from_pending', x.from_pending::text, 'tx_hash', x.tx_hash)
               ORDER BY x.block_number, x.log_index), '[]')
            FROM slashes x WHERE x.chain_id = j.chain_id AND x.job_id = j.job_id)
               AS "slashes!: Json<Vec<SlashView>>"
           FROM jobs j WHERE j.chain_id = $1 AND j.job_id = $2::text::numeric"#,
        chain_id,
        job_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| JobDetailView {
        job: JobView {
            job_id: r.job_id,
            client: r.client,
            spec_hash: r.spec_hash,
            spec_uri: r.spec_uri,
            spec_uri_hex: r.spec_uri_hex,
            required_capabilities: r.required_capabilities,
            reward: r.reward,
            deadline: r.deadline,
            max_attempts: r.max_attempts,
            attempts_left: r.attempts_left,
            status: r.status,
            worker: r.worker,
            due: r.due,
            posted_block: r.posted_block,
            updated_block: r.updated_block,
            redundancy: r.redundancy,
            threshold: r.threshold,
            consensus: r.consensus,
        },
        assignments: r.assignments.0,
        results: r.results.0,
        payments: r.payments.0,
        slashes: r.slashes.0,
    }))
}

/// The latest result of a job, as a DA reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestResult {
    /// The attempt it belongs to.
    pub attempt: i32,
    /// DA layer kind.
    pub da_kind: i32,
    /// Commitment (0x-hex).
    pub commitment: String,
    /// Size in bytes (uint256, decimal).
    pub size: String,
    /// Where the bytes can be fetched.
    pub locator: String,
    /// The block that recorded it (an EIP-4844 blob is fetched by it).
    pub block_number: i64,
}

impl LatestResult {
    /// The DA reference the row records, or why it cannot be one.
    pub fn reference(&self) -> Result<crate::domain::BlobRef, String> {
        Ok(crate::domain::BlobRef {
            kind: u8::try_from(self.da_kind)
                .map_err(|_| format!("has an unknown DA kind {}", self.da_kind))?,
            commitment: self
                .commitment
                .parse()
                .map_err(|_| format!("has a malformed commitment {}", self.commitment))?,
            size: self
                .size
                .parse()
                .map_err(|_| format!("has an impossible size {}", self.size))?,
            locator: self.locator.clone(),
        })
    }

    /// The block that recorded it, as an unsigned number.
    pub fn block(&self) -> Option<u64> {
        u64::try_from(self.block_number).ok()
    }
}

/// The results that may be served for job `job_id`: its latest attempt's; for a redundant job, every agreeing
/// replica's reveal of the consensus commitment (latest replica first), none before the consensus. The agreeing
/// replicas sealed the same commitment but each chose its own kind, size and locator: a reader tries them in
/// turn, so one replica's unusable reference does not hide the others'.
pub async fn served_results(
    pool: &PgPool,
    chain_id: i64,
    job_id: &str,
) -> sqlx::Result<Vec<LatestResult>> {
    sqlx::query_as!(
        LatestResult,
        r#"SELECT r.attempt, r.da_kind, r.commitment, r.size::text AS "size!", r.locator, r.block_number FROM results r
           JOIN jobs j ON j.chain_id = r.chain_id AND j.job_id = r.job_id
           WHERE r.chain_id = $1 AND r.job_id = $2::text::numeric
             AND (r.commitment = j.consensus
                  OR (j.redundancy = 1 AND r.attempt = (SELECT max(x.attempt) FROM results x
                                                        WHERE x.chain_id = r.chain_id AND x.job_id = r.job_id)))
           ORDER BY r.attempt DESC LIMIT 16"#,
        chain_id,
        job_id
    )
    .fetch_all(pool)
    .await
}

/// Whether job `job_id` was ever posted.
pub async fn exists(pool: &PgPool, chain_id: i64, job_id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM jobs WHERE chain_id = $1 AND job_id = $2::text::numeric) AS "exists!""#,
        chain_id,
        job_id
    )
    .fetch_one(pool)
    .await
}
