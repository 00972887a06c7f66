//! `/v1/jobs`, `/v1/jobs/{id}`, `/v1/jobs/{id}/result` (the result's bytes, checked against the chain).

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Shared;
use super::blobs;
use super::chains::{self, AddressFilter, address_on};
use super::error::{ApiPath, ApiQuery, Error, ErrorBody, Result};
use super::input::{self, Page};
use super::workers::Slash;
use crate::da::Source;
use crate::store::views::jobs::{
    self as view, AssignmentView, JobDetailView, JobFilter, JobView, PaymentView, ResultView,
};
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
    "gathering",
    "committing",
    "revealing",
];

/// The job columns, uint256 values cast to text.
/// A job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Job {
    /// The chain the job lives on, by its CAIP-2 name (`eip155:31337`, `starknet:SN_SEPOLIA`).
    pub chain: String,
    /// Job id (uint256, decimal), unique on its chain.
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
    /// `open`, `assigned`, `submitted`, `disputed`, `paid`, `cancelled` or `refunded`; a redundant job is
    /// `gathering` (replicas being assigned), `committing`, then `revealing` before `submitted`.
    pub status: String,
    /// The assigned worker, while there is one (never for a redundant job: see its assignments).
    pub worker: Option<String>,
    /// Unix time the current assignment is due; for a redundant job, the commit or reveal due.
    pub due: Option<i64>,
    /// Block of `JobPosted`.
    pub posted_block: i64,
    /// Block of the last change.
    pub updated_block: i64,
    /// Replicas the job runs on: 1 for a single worker, else a redundant job.
    pub redundancy: i32,
    /// Replicas that must reveal the same result for it to stand (1 for a single worker).
    pub threshold: i32,
    /// A redundant job's agreed commitment (0x-hex), once the threshold of replicas revealed it.
    pub consensus: Option<String>,
}

impl Job {
    /// Chain strings in their served form (see [`crate::text`]).
    pub(crate) fn serve_text(&mut self) {
        text::serve(&mut self.spec_uri, &mut self.spec_uri_hex);
    }
}

/// One assignment of a job to a worker, or one replica of a redundant job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Assignment {
    /// 1-based attempt number; for a redundant job, the replica's number.
    pub attempt: i32,
    /// The worker.
    pub worker: String,
    /// Unix time the result is due; for a replica, the commit due.
    pub due: i64,
    /// `active`, `submitted`, `disputed`, `paid`, `expired`, `declined` or `refunded`. A replica is `active`,
    /// `committed`, `revealed`, then `agreed` (paid, disputed, or `dispute_lost`), or at fault: `no_commit`,
    /// `no_reveal`, `dissented`; `refunded` when the job was refunded without its fault.
    pub outcome: String,
    /// Stake slashed for this attempt: the fault slash, or the decline fee (uint256, decimal).
    pub slashed: String,
    /// Block of the assignment.
    pub assigned_block: i64,
    /// The bond the client escrowed to dispute this attempt, 0 if never disputed (uint256, decimal).
    pub dispute_bond: String,
    /// A replica's sealed result (0x-hex), once committed.
    pub sealed_result: Option<String>,
    /// A replica's revealed commitment (0x-hex), once revealed.
    pub commitment: Option<String>,
}

/// A result's DA commitment, as submitted on chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobDetail {
    /// The job.
    #[serde(flatten)]
    pub job: Job,
    /// Assignments by attempt.
    pub assignments: Vec<Assignment>,
    /// Submitted results by attempt.
    pub results: Vec<JobResult>,
    /// Payments out of the job's escrow.
    pub payments: Vec<Payment>,
    /// Slashes of the job's workers for it.
    pub slashes: Vec<Slash>,
}

/// Filters and page of `/v1/jobs`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// Only jobs of this chain: its CAIP-2 name or chain id, as `/v1/status` lists them.
    chain: Option<String>,
    /// Only jobs in this status: open, assigned, submitted, disputed, paid, cancelled, refunded, gathering,
    /// committing, revealing.
    status: Option<String>,
    /// Only jobs posted by this address.
    client: Option<String>,
    /// Only jobs currently assigned to this address.
    worker: Option<String>,
    /// Only redundant jobs, not yet settled, in which this address holds a replica that has not revealed yet.
    replica: Option<String>,
    /// Page size, 1 to the configured maximum (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Jobs by chain (in the order `/v1/status` lists them) and ascending id, optionally filtered by chain, status,
/// client and current worker.
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
    let chains = s.select(q.chain.as_deref())?;
    let status = q
        .status
        .as_deref()
        .map(|v| input::one_of("status", v, STATUSES))
        .transpose()?;
    let client = q
        .client
        .as_deref()
        .map(|v| AddressFilter::parse(chains, "client", v))
        .transpose()?;
    let worker = q
        .worker
        .as_deref()
        .map(|v| AddressFilter::parse(chains, "worker", v))
        .transpose()?;
    let replica = q
        .replica
        .as_deref()
        .map(|v| AddressFilter::parse(chains, "replica", v))
        .transpose()?;
    let start = chains::start(chains, "jobs", q.cursor.as_deref(), input::uint_key)?;
    let page = chains::page(
        chains,
        "jobs",
        start,
        limit,
        |j: &Job| j.job_id.clone(),
        |i, after, want| {
            let chain = &chains[i];
            let (pool, id, name) = (s.app.pool.clone(), chain.id, chain.name.clone());
            let filter = match (
                address_on(&client, i),
                address_on(&worker, i),
                address_on(&replica, i),
            ) {
                (Some(client), Some(worker), Some(replica)) => Some(JobFilter {
                    status: status.map(str::to_owned),
                    client,
                    worker,
                    replica,
                    after,
                }),
                _ => None,
            };
            async move {
                let Some(filter) = filter else {
                    return Ok(Vec::new());
                };
                let rows = view::list(&pool, id, filter, want).await?;
                Ok(rows
                    .into_iter()
                    .map(|v| {
                        let mut job = Job::from_view(&name, v);
                        job.serve_text();
                        job
                    })
                    .collect())
            }
        },
    )
    .await?;
    Ok(Json(page))
}

/// `chain` of the routes about one thing: required when the coordinator serves several chains.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChainQuery {
    /// The chain, by its CAIP-2 name or chain id as `/v1/status` lists them; required when the coordinator
    /// serves more than one chain (ids are unique per chain only).
    pub(crate) chain: Option<String>,
}

/// A job with its assignments, results, payments and slashes; one query.
#[utoipa::path(
    get,
    path = "/v1/jobs/{id}",
    tag = "jobs",
    params(("id" = String, Path, description = "Job id (uint256, decimal)"), ChainQuery),
    responses((status = 200, description = "Success", body = JobDetail), (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody), (status = 404, description = "No such id", body = ErrorBody))
)]
pub(crate) async fn get_job(
    State(s): State<Shared>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ChainQuery>,
) -> Result<Json<JobDetail>> {
    let chain = s.one(q.chain.as_deref())?;
    let id = input::uint256("id", &id)?;
    let job = view::detail(&s.app.pool, chain.id, &id)
        .await?
        .map(|v| JobDetail::from_view(&chain.name, v));
    job.map(|mut j| {
        j.job.serve_text();
        for r in &mut j.results {
            text::serve(&mut r.locator, &mut r.locator_hex);
        }
        Json(j)
    })
    .ok_or_else(|| Error::NotFound(format!("job {id} not found on {}", chain.name)))
}

/// The latest result's bytes (highest attempt): from the archive, else from the DA layer of its kind, served
/// only after they match the commitment and size on chain.
#[utoipa::path(
    get,
    path = "/v1/jobs/{id}/result",
    tag = "jobs",
    params(("id" = String, Path, description = "Job id (uint256, decimal)"), ChainQuery),
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
    ApiQuery(q): ApiQuery<ChainQuery>,
) -> Result<Response> {
    let chain = s.one(q.chain.as_deref())?;
    let id = input::uint256("id", &id)?;
    // The first candidate that verifies is served; a redundant job has one per agreeing replica.
    let mut failure = None;
    for row in view::served_results(&s.app.pool, chain.id, &id).await? {
        let attempt = row.attempt;
        let unavailable = |why: String| {
            Error::ResultUnavailable(format!("result of job {id} (attempt {attempt}) {why}"))
        };
        let blob = match row.reference() {
            Ok(blob) => blob,
            Err(why) => {
                failure.get_or_insert(unavailable(why));
                continue;
            }
        };
        match s.app.da.fetch_verified(&blob, row.block()).await {
            Ok(fetched) => {
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
            Err(e) => {
                failure.get_or_insert(match blobs::da_error(e) {
                    Error::ResultMismatch(m) => Error::ResultMismatch(format!(
                        "result of job {id} (attempt {attempt}): {m}"
                    )),
                    Error::ResultUnavailable(m) => unavailable(format!("cannot be fetched: {m}")),
                    other => other,
                });
            }
        }
    }
    if let Some(error) = failure {
        return Err(error);
    }
    // Only on the miss path: tell an unknown job from one without a result.
    let exists = view::exists(&s.app.pool, chain.id, &id).await?;
    Err(Error::NotFound(if exists {
        format!("job {id} has no result yet")
    } else {
        format!("job {id} not found on {}", chain.name)
    }))
}

impl Job {
    /// The job `v` of chain `chain` (its CAIP-2 name).
    pub(crate) fn from_view(chain: &str, v: JobView) -> Self {
        Self {
            chain: chain.to_owned(),
            job_id: v.job_id,
            client: v.client,
            spec_hash: v.spec_hash,
            spec_uri: v.spec_uri,
            spec_uri_hex: v.spec_uri_hex,
            required_capabilities: v.required_capabilities,
            reward: v.reward,
            deadline: v.deadline,
            max_attempts: v.max_attempts,
            attempts_left: v.attempts_left,
            status: v.status,
            worker: v.worker,
            due: v.due,
            posted_block: v.posted_block,
            updated_block: v.updated_block,
            redundancy: v.redundancy,
            threshold: v.threshold,
            consensus: v.consensus,
        }
    }
}

impl From<AssignmentView> for Assignment {
    fn from(v: AssignmentView) -> Self {
        Self {
            attempt: v.attempt,
            worker: v.worker,
            due: v.due,
            outcome: v.outcome,
            slashed: v.slashed,
            assigned_block: v.assigned_block,
            dispute_bond: v.dispute_bond,
            sealed_result: v.sealed_result,
            commitment: v.commitment,
        }
    }
}

impl From<ResultView> for JobResult {
    fn from(v: ResultView) -> Self {
        Self {
            attempt: v.attempt,
            worker: v.worker,
            da_kind: v.da_kind,
            commitment: v.commitment,
            size: v.size,
            locator: v.locator,
            locator_hex: v.locator_hex,
            challenge_ends_at: v.challenge_ends_at,
            block_number: v.block_number,
            tx_hash: v.tx_hash,
        }
    }
}

impl From<PaymentView> for Payment {
    fn from(v: PaymentView) -> Self {
        Self {
            block_number: v.block_number,
            log_index: v.log_index,
            kind: v.kind,
            recipient: v.recipient,
            amount: v.amount,
            fee: v.fee,
            tx_hash: v.tx_hash,
        }
    }
}

impl JobDetail {
    fn from_view(chain: &str, v: JobDetailView) -> Self {
        Self {
            job: Job::from_view(chain, v.job),
            assignments: v.assignments.into_iter().map(Into::into).collect(),
            results: v.results.into_iter().map(Into::into).collect(),
            payments: v.payments.into_iter().map(Into::into).collect(),
            slashes: v
                .slashes
                .into_iter()
                .map(|x| Slash::from_view(chain, x))
                .collect(),
        }
    }
}
