//! `/v1/workers`, `/v1/workers/{address}`, `/v1/slashes`, `/v1/rewards`.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Shared;
use super::error::{ApiPath, ApiQuery, Error, ErrorBody, Result};
use super::input::{self, Page};
use crate::store::views::workers::{
    self as view, RewardView, SlashView, WorkerCountsView, WorkerDetailView, WorkerJobFilter,
    WorkerView,
};
use crate::text;

/// A registered worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkerDetail {
    /// The worker.
    #[serde(flatten)]
    pub worker: Worker,
    /// Outcome counts.
    pub counts: WorkerCounts,
}

/// A slash of a worker's stake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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

impl WorkerJobQuery {
    /// Validates every parameter, naming the bad one; `list` scopes the cursor to this list.
    fn parse(
        &self,
        list: &str,
        max_page_size: u32,
        family: crate::domain::Family,
    ) -> Result<(i64, WorkerJobFilter)> {
        let limit = input::limit(self.limit.as_deref(), max_page_size)?;
        let worker = self
            .worker
            .as_deref()
            .map(|v| input::address_of(family, "worker", v))
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
        Ok((
            limit,
            WorkerJobFilter {
                worker,
                job,
                after: cursor,
            },
        ))
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
                .and_then(|key| input::address_of(s.family(), "cursor", &key))
                .map_err(|_| Error::invalid("cursor is not a cursor of /v1/workers"))?,
        ),
        None => None,
    };
    let mut rows: Vec<Worker> = view::list(&s.app.pool, s.chain_id, cursor, limit)
        .await?
        .into_iter()
        .map(Worker::from)
        .collect();
    for w in &mut rows {
        text::serve(&mut w.metadata_uri, &mut w.metadata_uri_hex);
    }
    Ok(Json(Page::from_rows(rows, limit, "workers", |w| {
        w.address.clone()
    })))
}

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
    let address = input::address_of(s.family(), "address", &address)?;
    let worker = view::detail(&s.app.pool, s.chain_id, &address)
        .await?
        .map(WorkerDetail::from);
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
    let (limit, filter) = q.parse("slashes", s.app.config.max_page_size, s.family())?;
    let rows: Vec<Slash> = view::slashes(&s.app.pool, s.chain_id, filter, limit)
        .await?
        .into_iter()
        .map(Slash::from)
        .collect();
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
    let (limit, filter) = q.parse("rewards", s.app.config.max_page_size, s.family())?;
    let rows: Vec<Reward> = view::rewards(&s.app.pool, s.chain_id, filter, limit)
        .await?
        .into_iter()
        .map(Reward::from)
        .collect();
    Ok(Json(Page::from_rows(rows, limit, "rewards", |r| {
        input::position_key(r.block_number, r.log_index)
    })))
}

/// Whether `address` (lowercase 0x-hex) is a registered worker in the index.
pub(crate) async fn is_registered(s: &super::Shared, address: &str) -> Result<bool> {
    Ok(view::is_registered(&s.app.pool, s.chain_id, address).await?)
}

/// Whether `address` may upload result bytes: registered, not jailed, staked at least the current minimum, and
/// holding an assignment that awaits its result (403 naming what is missing otherwise).
pub(crate) async fn may_upload(s: &super::Shared, address: &str) -> Result<()> {
    let standing = view::upload_standing(&s.app.pool, s.chain_id, address).await?;
    let refuse = |why: &str| Err(Error::Forbidden(format!("worker {address} {why}")));
    match standing {
        None => refuse(&format!("is not registered on chain {}", s.app.chain_id)),
        Some(w) if w.jailed => refuse("is jailed"),
        Some(w) if !w.staked => refuse("is staked below the minimum stake"),
        Some(w) if !w.assigned => refuse("holds no assignment awaiting a result"),
        Some(_) => Ok(()),
    }
}

impl From<WorkerView> for Worker {
    fn from(v: WorkerView) -> Self {
        Self {
            address: v.address,
            capabilities: v.capabilities,
            metadata_uri: v.metadata_uri,
            metadata_uri_hex: v.metadata_uri_hex,
            stake: v.stake,
            pending: v.pending,
            unlock_at: v.unlock_at,
            jailed: v.jailed,
            slashed_total: v.slashed_total,
            registered_block: v.registered_block,
            updated_block: v.updated_block,
        }
    }
}

impl From<WorkerCountsView> for WorkerCounts {
    fn from(v: WorkerCountsView) -> Self {
        Self {
            completed: v.completed,
            expired: v.expired,
            disputed: v.disputed,
            declined: v.declined,
            slashed: v.slashed,
        }
    }
}

impl From<WorkerDetailView> for WorkerDetail {
    fn from(v: WorkerDetailView) -> Self {
        Self {
            worker: v.worker.into(),
            counts: v.counts.into(),
        }
    }
}

impl From<SlashView> for Slash {
    fn from(v: SlashView) -> Self {
        Self {
            block_number: v.block_number,
            log_index: v.log_index,
            worker: v.worker,
            job_id: v.job_id,
            recipient: v.recipient,
            amount: v.amount,
            from_stake: v.from_stake,
            from_pending: v.from_pending,
            tx_hash: v.tx_hash,
        }
    }
}

impl From<RewardView> for Reward {
    fn from(v: RewardView) -> Self {
        Self {
            block_number: v.block_number,
            log_index: v.log_index,
            job_id: v.job_id,
            worker: v.worker,
            amount: v.amount,
            fee: v.fee,
            tx_hash: v.tx_hash,
        }
    }
}
