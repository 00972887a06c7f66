//! `/v1/workers`, `/v1/workers/{address}`, `/v1/slashes`, `/v1/rewards`.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, QueryBuilder};
use utoipa::{IntoParams, ToSchema};

use super::Shared;
use super::error::{ApiPath, ApiQuery, Error, ErrorBody, Result};
use super::input::{self, Page};
use crate::text;

macro_rules! worker_columns {
    () => {
        "w.address, w.capabilities, w.metadata_uri, '0x' || encode(w.metadata_uri_raw, 'hex') AS metadata_uri_hex, \
         w.stake::text AS stake, w.pending::text AS pending, \
         w.unlock_at, w.jailed, w.slashed_total::text AS slashed_total, w.registered_block, w.updated_block"
    };
}

/// A registered worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
pub struct Worker {
    /// The worker's address.
    pub address: String,
    /// Capability bitmask.
    pub capabilities: i32,
    /// Where the worker describes itself, exactly as registered.
    pub metadata_uri: String,
    /// The exact bytes of `metadata_uri` (0x-hex) when they are not UTF-8: `metadata_uri` then shows U+FFFD for each
    /// invalid sequence. Null when `metadata_uri` is exact (a NUL byte is served as `\u0000`).
    pub metadata_uri_hex: Option<String>,
    /// Active stake (uint256, decimal).
    pub stake: String,
    /// Stake waiting out the unbonding period (uint256, decimal).
    pub pending: String,
    /// Unix time the pending stake can be withdrawn.
    pub unlock_at: i64,
    /// Whether the worker is jailed.
    pub jailed: bool,
    /// Everything ever slashed (uint256, decimal).
    pub slashed_total: String,
    /// Block of registration.
    pub registered_block: i64,
    /// Block of the last change.
    pub updated_block: i64,
}

/// How a worker's assignments ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
pub struct WorkerCounts {
    /// Assignments paid.
    pub completed: i64,
    /// Assignments that expired.
    pub expired: i64,
    /// Assignments under dispute.
    pub disputed: i64,
    /// Assignments the worker declined (it could not run the job).
    pub declined: i64,
    /// Slashes suffered.
    pub slashed: i64,
}

/// A worker with its track record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
pub struct WorkerDetail {
    /// The worker.
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub worker: Worker,
    /// Outcome counts.
    #[sqlx(flatten)]
    pub counts: WorkerCounts,
}

/// A slash of a worker's stake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
pub struct Slash {
    /// Block of the event.
    pub block_number: i64,
    /// Log index of the event.
    pub log_index: i64,
    /// The slashed worker.
    pub worker: String,
    /// The job it was slashed for, if any (uint256, decimal).
    pub job_id: Option<String>,
    /// Who received the slashed share.
    pub recipient: String,
    /// Amount slashed (uint256, decimal).
    pub amount: String,
    /// Part taken from the active stake (uint256, decimal).
    pub from_stake: String,
    /// Part taken from the unbonding stake (uint256, decimal).
    pub from_pending: String,
    /// Transaction hash.
    pub tx_hash: String,
}

/// A reward paid to a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
pub struct Reward {
    /// Block of the event.
    pub block_number: i64,
    /// Log index of the event.
    pub log_index: i64,
    /// The job paid for (uint256, decimal).
    pub job_id: Option<String>,
    /// The worker paid.
    pub worker: String,
    /// Amount paid to the worker (uint256, decimal).
    pub amount: String,
    /// Protocol fee withheld (uint256, decimal).
    pub fee: String,
    /// Transaction hash.
    pub tx_hash: String,
}

/// Page of a list without filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to the configured maximum (default 50).
    #[param(value_type = Option<u32>)]
    pub(crate) limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
}

/// Filters and page of `/v1/slashes` and `/v1/rewards`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WorkerJobQuery {
    /// Only this worker.
    worker: Option<String>,
    /// Only this job (uint256, decimal).
    job: Option<String>,
    /// Page size, 1 to the configured maximum (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Parsed [`WorkerJobQuery`]: page size, worker, job and chain-order cursor.
type WorkerJobFilter = (i64, Option<String>, Option<String>, Option<(i64, i64)>);

impl WorkerJobQuery {
    /// Validates every parameter, naming the bad one; `list` scopes the cursor to this list.
    fn parse(&self, list: &str, max_page_size: u32) -> Result<WorkerJobFilter> {
        let limit = input::limit(self.limit.as_deref(), max_page_size)?;
        let worker = self
            .worker
            .as_deref()
            .map(|v| input::address("worker", v))
            .transpose()?;
        let job = self
            .job
            .as_deref()
            .map(|v| input::uint256("job", v))
            .transpose()?;
        let cursor = self
            .cursor
            .as_deref()
            .map(|v| input::position_cursor(list, v))
            .transpose()?;
        Ok((limit, worker, job, cursor))
    }
}

/// Workers by ascending address.
#[utoipa::path(
    get,
    path = "/v1/workers",
    tag = "workers",
    params(PageQuery),
    responses((status = 200, description = "Success", body = Page<Worker>), (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody))
)]
pub(crate) async fn list_workers(
    State(s): State<Shared>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<Worker>>> {
    let limit = input::limit(q.limit.as_deref(), s.app.config.max_page_size)?;
    let cursor = match q.cursor.as_deref() {
        Some(raw) => Some(
            input::decode_cursor("workers", raw)
                .and_then(|key| input::address("cursor", &key))
                .map_err(|_| Error::invalid("cursor is not a cursor of /v1/workers"))?,
        ),
        None => None,
    };
    let mut sql = QueryBuilder::<Postgres>::new(concat!(
        "SELECT ",
        worker_columns!(),
        " FROM workers w WHERE w.chain_id = "
    ));
    sql.push_bind(s.chain_id);
    if let Some(cursor) = cursor {
        sql.push(" AND w.address > ").push_bind(cursor);
    }
    sql.push(" ORDER BY w.address LIMIT ").push_bind(limit + 1);
    let mut rows: Vec<Worker> = sql.build_query_as().fetch_all(&s.app.pool).await?;
    for w in &mut rows {
        text::serve(&mut w.metadata_uri, &mut w.metadata_uri_hex);
    }
    Ok(Json(Page::from_rows(rows, limit, "workers", |w| {
        w.address.clone()
    })))
}

const WORKER_DETAIL: &str = concat!(
    "SELECT ",
    worker_columns!(),
    ", c.completed, c.expired, c.disputed, c.declined, x.slashed
    FROM workers w
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE a.outcome = 'paid') AS completed,
               count(*) FILTER (WHERE a.outcome = 'expired') AS expired,
               count(*) FILTER (WHERE a.outcome = 'disputed') AS disputed,
               count(*) FILTER (WHERE a.outcome = 'declined') AS declined
        FROM assignments a WHERE a.chain_id = w.chain_id AND a.worker = w.address) c
    CROSS JOIN LATERAL (
        SELECT count(*) AS slashed FROM slashes s WHERE s.chain_id = w.chain_id AND s.worker = w.address) x
    WHERE w.chain_id = $1 AND w.address = $2"
);

/// A worker's stake, status and track record.
#[utoipa::path(
    get,
    path = "/v1/workers/{address}",
    tag = "workers",
    params(("address" = String, Path, description = "Worker address (0x-hex)")),
    responses((status = 200, description = "Success", body = WorkerDetail), (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody), (status = 404, description = "No such id", body = ErrorBody))
)]
pub(crate) async fn get_worker(
    State(s): State<Shared>,
    ApiPath(address): ApiPath<String>,
) -> Result<Json<WorkerDetail>> {
    let address = input::address("address", &address)?;
    let worker: Option<WorkerDetail> = sqlx::query_as(WORKER_DETAIL)
        .bind(s.chain_id)
        .bind(&address)
        .fetch_optional(&s.app.pool)
        .await?;
    worker
        .map(|mut w| {
            text::serve(&mut w.worker.metadata_uri, &mut w.worker.metadata_uri_hex);
            Json(w)
        })
        .ok_or_else(|| Error::NotFound(format!("worker {address} not found")))
}

/// Slashes in chain order, optionally of one worker or job.
#[utoipa::path(
    get,
    path = "/v1/slashes",
    tag = "workers",
    params(WorkerJobQuery),
    responses((status = 200, description = "Success", body = Page<Slash>), (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody))
)]
pub(crate) async fn list_slashes(
    State(s): State<Shared>,
    ApiQuery(q): ApiQuery<WorkerJobQuery>,
) -> Result<Json<Page<Slash>>> {
    let (limit, worker, job, cursor) = q.parse("slashes", s.app.config.max_page_size)?;
    let mut sql = QueryBuilder::<Postgres>::new(
        "SELECT block_number, log_index, worker, job_id::text AS job_id, recipient, amount::text AS amount, \
         from_stake::text AS from_stake, from_pending::text AS from_pending, tx_hash FROM slashes WHERE chain_id = ",
    );
    sql.push_bind(s.chain_id);
    if let Some(worker) = worker {
        sql.push(" AND worker = ").push_bind(worker);
    }
    if let Some(job) = job {
        sql.push(" AND job_id = ").push_bind(job).push("::numeric");
    }
    input::push_position_page(&mut sql, cursor, limit);
    let rows: Vec<Slash> = sql.build_query_as().fetch_all(&s.app.pool).await?;
    Ok(Json(Page::from_rows(rows, limit, "slashes", |r| {
        input::position_key(r.block_number, r.log_index)
    })))
}

/// Rewards paid to workers in chain order, optionally of one worker or job.
#[utoipa::path(
    get,
    path = "/v1/rewards",
    tag = "workers",
    params(WorkerJobQuery),
    responses((status = 200, description = "Success", body = Page<Reward>), (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody))
)]
pub(crate) async fn list_rewards(
    State(s): State<Shared>,
    ApiQuery(q): ApiQuery<WorkerJobQuery>,
) -> Result<Json<Page<Reward>>> {
    let (limit, worker, job, cursor) = q.parse("rewards", s.app.config.max_page_size)?;
    let mut sql = QueryBuilder::<Postgres>::new(
        "SELECT block_number, log_index, job_id::text AS job_id, recipient AS worker, amount::text AS amount, \
         fee::text AS fee, tx_hash FROM payments WHERE kind = 'reward' AND chain_id = ",
    );
    sql.push_bind(s.chain_id);
    if let Some(worker) = worker {
        sql.push(" AND recipient = ").push_bind(worker);
    }
    if let Some(job) = job {
        sql.push(" AND job_id = ").push_bind(job).push("::numeric");
    }
    input::push_position_page(&mut sql, cursor, limit);
    let rows: Vec<Reward> = sql.build_query_as().fetch_all(&s.app.pool).await?;
    Ok(Json(Page::from_rows(rows, limit, "rewards", |r| {
        input::position_key(r.block_number, r.log_index)
    })))
}

/// Whether `address` (lowercase 0x-hex) is a registered worker in the index.
pub(crate) async fn is_registered(s: &super::Shared, address: &str) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM workers WHERE chain_id = $1 AND address = $2)",
    )
    .bind(s.chain_id)
    .bind(address)
    .fetch_one(&s.app.pool)
    .await?)
}

/// Whether `address` may upload result bytes: registered, not jailed, staked at least the current minimum, and
/// holding an assignment that awaits its result (403 naming what is missing otherwise).
pub(crate) async fn may_upload(s: &super::Shared, address: &str) -> Result<()> {
    let row: Option<(bool, bool, bool)> = sqlx::query_as(
        "SELECT w.jailed, \
                w.stake >= COALESCE((SELECT value FROM params WHERE chain_id = $1 \
                    AND contract = 'WorkerRegistry' AND key = 'minStake'), 0), \
                EXISTS (SELECT 1 FROM jobs j WHERE j.chain_id = $1 AND j.worker = $2 AND j.status = 'assigned') \
         FROM workers w WHERE w.chain_id = $1 AND w.address = $2",
    )
    .bind(s.chain_id)
    .bind(address)
    .fetch_optional(&s.app.pool)
    .await?;
    let refuse = |why: &str| Err(Error::Forbidden(format!("worker {address} {why}")));
    match row {
        None => refuse(&format!("is not registered on chain {}", s.app.chain_id)),
        Some((true, _, _)) => refuse("is jailed"),
        Some((_, false, _)) => refuse("is staked below the minimum stake"),
        Some((_, _, false)) => refuse("holds no assignment awaiting a result"),
        Some(_) => Ok(()),
    }
}
