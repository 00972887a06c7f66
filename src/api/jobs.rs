//! `/v1/jobs`, `/v1/jobs/{id}`, `/v1/jobs/{id}/result` (the result's bytes, checked against the chain).

use alloy::primitives::B256;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, QueryBuilder};
use utoipa::{IntoParams, ToSchema};

use super::Shared;
use super::blobs;
use super::error::{ApiPath, ApiQuery, Error, ErrorBody, Result};
use super::input::{self, Page};
use super::workers::Slash;
use crate::da::{BlobRef, Source};
use crate::text;

/// Job statuses as stored by the indexer.
pub(crate) const STATUSES: &[&str] = &[
    "open",
    "assigned",
    "submitted",
    "disputed",
    "paid",
    "cancelled",
    "refunded",
];

/// The job columns, uint256 values cast to text.
macro_rules! job_columns {
    () => {
        "j.job_id::text AS job_id, j.client, j.spec_hash, j.spec_uri, '0x' || encode(j.spec_uri_raw, 'hex') AS spec_uri_hex, \
         j.required_capabilities, \
         j.reward::text AS reward, j.deadline, j.max_attempts, j.attempts_left, j.status, j.worker, j.due, \
         j.posted_block, j.updated_block"
    };
}

/// A job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
pub struct Job {
    /// Job id (uint256, decimal).
    pub job_id: String,
    /// Who posted it.
    pub client: String,
    /// Hash of the job specification (0x-hex).
    pub spec_hash: String,
    /// Where the specification lives, exactly as posted.
    pub spec_uri: String,
    /// The exact bytes of `spec_uri` (0x-hex) when they are not UTF-8: `spec_uri` then shows U+FFFD for each
    /// invalid sequence. Null when `spec_uri` is exact (a NUL byte is served as `\u0000`).
    pub spec_uri_hex: Option<String>,
    /// Capability bitmask a worker must hold.
    pub required_capabilities: i32,
    /// Escrowed reward (uint256, decimal).
    pub reward: String,
    /// Unix time after which an open job can be refunded.
    pub deadline: i64,
    /// Assignments allowed in all.
    pub max_attempts: i32,
    /// Assignments still allowed.
    pub attempts_left: i32,
    /// `open`, `assigned`, `submitted`, `disputed`, `paid`, `cancelled` or `refunded`.
    pub status: String,
    /// The assigned worker, while there is one.
    pub worker: Option<String>,
    /// Unix time the current assignment is due.
    pub due: Option<i64>,
    /// Block of `JobPosted`.
    pub posted_block: i64,
    /// Block of the last change.
    pub updated_block: i64,
}

impl Job {
    /// Chain strings in their served form (see [`crate::text`]).
    pub(crate) fn serve_text(&mut self) {
        text::serve(&mut self.spec_uri, &mut self.spec_uri_hex);
    }
}

/// One assignment of a job to a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Assignment {
    /// 1-based attempt number.
    pub attempt: i32,
    /// The worker.
    pub worker: String,
    /// Unix time the result is due.
    pub due: i64,
    /// `active`, `submitted`, `disputed`, `paid`, `expired`, `declined` or `refunded`.
    pub outcome: String,
    /// Stake slashed for this attempt: the fault slash, or the decline fee (uint256, decimal).
    pub slashed: String,
    /// Block of the assignment.
    pub assigned_block: i64,
    /// The bond the client escrowed to dispute this attempt, 0 if never disputed (uint256, decimal).
    pub dispute_bond: String,
}

/// A result's DA commitment, as submitted on chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
pub struct JobResult {
    /// The attempt it answers.
    pub attempt: i32,
    /// The worker who submitted it.
    pub worker: String,
    /// DA layer kind, as the contract numbers it.
    pub da_kind: i32,
    /// Commitment to the result bytes (0x-hex).
    pub commitment: String,
    /// Result size in bytes (uint256, decimal).
    pub size: String,
    /// Where the bytes can be fetched on the DA layer, exactly as submitted.
    pub locator: String,
    /// The exact bytes of `locator` (0x-hex) when they are not UTF-8: `locator` then shows U+FFFD for each
    /// invalid sequence. Null when `locator` is exact (a NUL byte is served as `\u0000`).
    pub locator_hex: Option<String>,
    /// Unix time the challenge window closes.
    pub challenge_ends_at: i64,
    /// Block of `ResultSubmitted`.
    pub block_number: i64,
    /// Transaction of `ResultSubmitted`.
    pub tx_hash: String,
}

/// Money that left a job's escrow: the reward, a refund.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Payment {
    /// Block of the event.
    pub block_number: i64,
    /// Log index of the event.
    pub log_index: i64,
    /// `reward`, `refund` or `fee_sweep`.
    pub kind: String,
    /// Who received it.
    pub recipient: String,
    /// Amount paid (uint256, decimal).
    pub amount: String,
    /// Protocol fee withheld (uint256, decimal).
    pub fee: String,
    /// Transaction hash.
    pub tx_hash: String,
}

/// A job with its assignments, results, payments and slashes, each in chain order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
pub struct JobDetail {
    /// The job.
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub job: Job,
    /// Assignments by attempt.
    #[sqlx(json)]
    pub assignments: Vec<Assignment>,
    /// Submitted results by attempt.
    #[sqlx(json)]
    pub results: Vec<JobResult>,
    /// Payments out of the job's escrow.
    #[sqlx(json)]
    pub payments: Vec<Payment>,
    /// Slashes of the job's workers for it.
    #[sqlx(json)]
    pub slashes: Vec<Slash>,
}

/// Filters and page of `/v1/jobs`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// Only jobs in this status: open, assigned, submitted, disputed, paid, cancelled, refunded.
    status: Option<String>,
    /// Only jobs posted by this address.
    client: Option<String>,
    /// Only jobs currently assigned to this address.
    worker: Option<String>,
    /// Page size, 1 to the configured maximum (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Jobs by ascending id, optionally filtered by status, client and current worker.
#[utoipa::path(
    get,
    path = "/v1/jobs",
    tag = "jobs",
    params(JobsQuery),
    responses((status = 200, description = "Success", body = Page<Job>), (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody))
)]
pub(crate) async fn list_jobs(
    State(s): State<Shared>,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> Result<Json<Page<Job>>> {
    let limit = input::limit(q.limit.as_deref(), s.app.config.max_page_size)?;
    let status = q
        .status
        .as_deref()
        .map(|v| input::one_of("status", v, STATUSES))
        .transpose()?;
    let client = q
        .client
        .as_deref()
        .map(|v| input::address("client", v))
        .transpose()?;
    let worker = q
        .worker
        .as_deref()
        .map(|v| input::address("worker", v))
        .transpose()?;
    let cursor = q
        .cursor
        .as_deref()
        .map(|v| input::uint_cursor("jobs", v))
        .transpose()?;

    // One statement per filter combination, each served in job_id order by one of the (chain_id, X, job_id)
    // indexes, so PostgreSQL can cache a generic plan for each.
    let mut sql = QueryBuilder::<Postgres>::new(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs j WHERE j.chain_id = "
    ));
    sql.push_bind(s.chain_id);
    if let Some(status) = status {
        sql.push(" AND j.status = ").push_bind(status);
    }
    if let Some(client) = client {
        sql.push(" AND j.client = ").push_bind(client);
    }
    if let Some(worker) = worker {
        sql.push(" AND j.worker = ").push_bind(worker);
    }
    if let Some(cursor) = cursor {
        sql.push(" AND j.job_id > ")
            .push_bind(cursor)
            .push("::numeric");
    }
    sql.push(" ORDER BY j.job_id LIMIT ").push_bind(limit + 1);
    let mut rows: Vec<Job> = sql.build_query_as().fetch_all(&s.app.pool).await?;
    rows.iter_mut().for_each(Job::serve_text);
    Ok(Json(Page::from_rows(rows, limit, "jobs", |j| {
        j.job_id.clone()
    })))
}

const JOB_DETAIL: &str = concat!(
    "SELECT ",
    job_columns!(),
    ",
    (SELECT coalesce(json_agg(json_build_object(
        'attempt', a.attempt, 'worker', a.worker, 'due', a.due, 'outcome', a.outcome,
        'slashed', a.slashed::text, 'assigned_block', a.assigned_block, 'dispute_bond', a.dispute_bond::text)
        ORDER BY a.attempt), '[]')
     FROM assignments a WHERE a.chain_id = j.chain_id AND a.job_id = j.job_id) AS assignments,
    (SELECT coalesce(json_agg(json_build_object(
        'attempt', r.attempt, 'worker', r.worker, 'da_kind', r.da_kind, 'commitment', r.commitment,
        'size', r.size::text, 'locator', r.locator,
        'locator_hex', '0x' || encode(r.locator_raw, 'hex'), 'challenge_ends_at', r.challenge_ends_at,
        'block_number', r.block_number, 'tx_hash', r.tx_hash) ORDER BY r.attempt), '[]')
     FROM results r WHERE r.chain_id = j.chain_id AND r.job_id = j.job_id) AS results,
    (SELECT coalesce(json_agg(json_build_object(
        'block_number', p.block_number, 'log_index', p.log_index, 'kind', p.kind, 'recipient', p.recipient,
        'amount', p.amount::text, 'fee', p.fee::text, 'tx_hash', p.tx_hash)
        ORDER BY p.block_number, p.log_index), '[]')
     FROM payments p WHERE p.chain_id = j.chain_id AND p.job_id = j.job_id) AS payments,
    (SELECT coalesce(json_agg(json_build_object(
        'block_number', x.block_number, 'log_index', x.log_index, 'worker', x.worker, 'job_id', x.job_id::text,
        'recipient', x.recipient, 'amount', x.amount::text, 'from_stake', x.from_stake::text,
        'from_pending', x.from_pending::text, 'tx_hash', x.tx_hash)
        ORDER BY x.block_number, x.log_index), '[]')
     FROM slashes x WHERE x.chain_id = j.chain_id AND x.job_id = j.job_id) AS slashes
    FROM jobs j WHERE j.chain_id = $1 AND j.job_id = $2::numeric"
);

/// A job with its assignments, results, payments and slashes; one query.
#[utoipa::path(
    get,
    path = "/v1/jobs/{id}",
    tag = "jobs",
    params(("id" = String, Path, description = "Job id (uint256, decimal)")),
    responses((status = 200, description = "Success", body = JobDetail), (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody), (status = 404, description = "No such id", body = ErrorBody))
)]
pub(crate) async fn get_job(
    State(s): State<Shared>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<JobDetail>> {
    let id = input::uint256("id", &id)?;
    let job: Option<JobDetail> = sqlx::query_as(JOB_DETAIL)
        .bind(s.chain_id)
        .bind(&id)
        .fetch_optional(&s.app.pool)
        .await?;
    job.map(|mut j| {
        j.job.serve_text();
        for r in &mut j.results {
            text::serve(&mut r.locator, &mut r.locator_hex);
        }
        Json(j)
    })
    .ok_or_else(|| Error::NotFound(format!("job {id} not found")))
}

/// The latest result's bytes (highest attempt): from the archive, else from the DA layer of its kind, served
/// only after they match the commitment and size on chain.
#[utoipa::path(
    get,
    path = "/v1/jobs/{id}/result",
    tag = "jobs",
    params(("id" = String, Path, description = "Job id (uint256, decimal)")),
    responses(
        (status = 200, description = "The result bytes, checked against the on-chain commitment and size", body = Vec<u8>,
            content_type = "application/octet-stream",
            headers(
                ("X-Accord-Commitment" = String, description = "The on-chain commitment the bytes match (0x-hex)"),
                ("X-Accord-Source" = String, description = "`archive` or `layer`: where the bytes came from")
            )),
        (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody),
        (status = 404, description = "No such job, or no result yet", body = ErrorBody),
        (status = 502, description = "`result_mismatch`: the bytes found do not match the commitment (none are served); \
                                      `result_unavailable`: neither the archive nor the DA layer has them", body = ErrorBody)
    )
)]
pub(crate) async fn get_job_result(
    State(s): State<Shared>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response> {
    let id = input::uint256("id", &id)?;
    let result: Option<(i32, i32, String, String, String)> = sqlx::query_as(
        "SELECT attempt, da_kind, commitment, size::text, locator FROM results \
         WHERE chain_id = $1 AND job_id = $2::numeric ORDER BY attempt DESC LIMIT 1",
    )
    .bind(s.chain_id)
    .bind(&id)
    .fetch_optional(&s.app.pool)
    .await?;
    if let Some((attempt, kind, commitment, size, locator)) = result {
        let unavailable = |why: String| {
            Error::ResultUnavailable(format!("result of job {id} (attempt {attempt}) {why}"))
        };
        let blob = BlobRef {
            kind: u8::try_from(kind)
                .map_err(|_| unavailable(format!("has an unknown DA kind {kind}")))?,
            commitment: commitment
                .parse::<B256>()
                .map_err(|_| unavailable(format!("has a malformed commitment {commitment}")))?,
            size: size
                .parse::<u64>()
                .map_err(|_| unavailable(format!("has an impossible size {size}")))?,
            locator,
        };
        let fetched =
            s.app
                .da
                .fetch_verified(&blob)
                .await
                .map_err(|e| match blobs::da_error(e) {
                    Error::ResultMismatch(m) => Error::ResultMismatch(format!(
                        "result of job {id} (attempt {attempt}): {m}"
                    )),
                    Error::ResultUnavailable(m) => unavailable(format!("cannot be fetched: {m}")),
                    other => other,
                })?;
        let source = match fetched.source {
            Source::Archive => "archive",
            Source::Layer => "layer",
        };
        return Ok(blobs::bytes_response(
            fetched.data,
            &blob.commitment,
            source,
        ));
    }
    // Only on the miss path: tell an unknown job from one without a result.
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM jobs WHERE chain_id = $1 AND job_id = $2::numeric)",
    )
    .bind(s.chain_id)
    .bind(&id)
    .fetch_one(&s.app.pool)
    .await?;
    Err(Error::NotFound(if exists {
        format!("job {id} has no result yet")
    } else {
        format!("job {id} not found")
    }))
}
