//! `/v1/workers`, `/v1/workers/{address}`, `/v1/slashes`, `/v1/rewards`.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::chains::{self, AddressFilter, address_on};
use super::error::{ApiPath, ApiQuery, Error, ErrorBody, Result};
use super::input::{self, Page};
use super::jobs::ChainQuery;
use super::{Served, Shared};
use crate::store::views::workers::{
    self as view, RewardView, SlashView, WorkerCountsView, WorkerDetailView, WorkerJobFilter,
    WorkerView,
};
use crate::text;

/// A registered worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Worker {
    /// The chain the worker is registered on, by its CAIP-2 name.
    pub chain: String,
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
    /// The chain, by its CAIP-2 name.
    pub chain: String,
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
    /// The chain, by its CAIP-2 name.
    pub chain: String,
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
    /// Only this chain: its CAIP-2 name or chain id, as `/v1/status` lists them.
    pub(crate) chain: Option<String>,
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
    /// Only this chain: its CAIP-2 name or chain id, as `/v1/status` lists them.
    chain: Option<String>,
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

/// The validated filters of `/v1/slashes` and `/v1/rewards`.
struct WorkerJob<'a> {
    chains: &'a [Served],
    limit: i64,
    worker: Option<AddressFilter>,
    job: Option<String>,
    start: (usize, Option<(i64, i64)>),
}

impl WorkerJobQuery {
    /// Validates every parameter, naming the bad one; `list` scopes the cursor to this list.
    fn parse<'a>(&self, s: &'a Shared, list: &str) -> Result<WorkerJob<'a>> {
        let limit = input::limit(self.limit.as_deref(), s.app.config.max_page_size)?;
        let chains = s.select(self.chain.as_deref())?;
        let worker = self
            .worker
            .as_deref()
            .map(|v| AddressFilter::parse(chains, "worker", v))
            .transpose()?;
        let job = self
            .job
            .as_deref()
            .map(|v| input::uint256("job", v))
            .transpose()?;
        let start = chains::start(chains, list, self.cursor.as_deref(), input::position)?;
        Ok(WorkerJob {
            chains,
            limit,
            worker,
            job,
            start,
        })
    }
}

impl WorkerJob<'_> {
    /// The filter on chain `i`, or `None` when the worker filter is no address there.
    fn on(&self, i: usize, after: Option<(i64, i64)>) -> Option<WorkerJobFilter> {
        Some(WorkerJobFilter {
            worker: address_on(&self.worker, i)?,
            job: self.job.clone(),
            after,
        })
    }
}

/// Workers by chain (in the order `/v1/status` lists them) and ascending address.
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
    let chains = s.select(q.chain.as_deref())?;
    // The cursor's address is read in the family of the chain it names.
    let start = chains::start(chains, "workers", q.cursor.as_deref(), |key| {
        Some(key.to_owned())
    })?;
    let start = match start {
        (i, Some(key)) => {
            let address = input::address_of(chains[i].family, "cursor", &key)
                .map_err(|_| Error::invalid("cursor is not a cursor of /v1/workers"))?;
            (i, Some(address))
        }
        none => none,
    };
    let page = chains::page(
        chains,
        "workers",
        start,
        limit,
        |w: &Worker| w.address.clone(),
        |i, after, want| {
            let (pool, id, name) = (s.app.pool.clone(), chains[i].id, chains[i].name.clone());
            async move {
                let rows = view::list(&pool, id, after, want).await?;
                Ok(rows
                    .into_iter()
                    .map(|v| {
                        let mut w = Worker::from_view(&name, v);
                        text::serve(&mut w.metadata_uri, &mut w.metadata_uri_hex);
                        w
                    })
                    .collect())
            }
        },
    )
    .await?;
    Ok(Json(page))
}

/// A worker's stake, status and track record.
#[utoipa::path(
    get,
    path = "/v1/workers/{address}",
    tag = "workers",
    params(("address" = String, Path, description = "Worker address (0x-hex)"), ChainQuery),
    responses((status = 200, description = "Success", body = WorkerDetail), (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody), (status = 404, description = "No such id", body = ErrorBody))
)]
pub(crate) async fn get_worker(
    State(s): State<Shared>,
    ApiPath(address): ApiPath<String>,
    ApiQuery(q): ApiQuery<ChainQuery>,
) -> Result<Json<WorkerDetail>> {
    let chain = s.one(q.chain.as_deref())?;
    let address = input::address_of(chain.family, "address", &address)?;
    let worker = view::detail(&s.app.pool, chain.id, &address)
        .await?
        .map(|v| WorkerDetail::from_view(&chain.name, v));
    worker
        .map(|mut w| {
            text::serve(&mut w.worker.metadata_uri, &mut w.worker.metadata_uri_hex);
            Json(w)
        })
        .ok_or_else(|| Error::NotFound(format!("worker {address} not found on {}", chain.name)))
}

/// Slashes by chain (in the order `/v1/status` lists them), then in chain order, optionally of one worker or job.
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
    let f = q.parse(&s, "slashes")?;
    let page = chains::page(
        f.chains,
        "slashes",
        f.start,
        f.limit,
        |r: &Slash| input::position_key(r.block_number, r.log_index),
        |i, after, want| {
            let (pool, id, name) = (s.app.pool.clone(), f.chains[i].id, f.chains[i].name.clone());
            let filter = f.on(i, after);
            async move {
                let Some(filter) = filter else {
                    return Ok(Vec::new());
                };
                let rows = view::slashes(&pool, id, filter, want).await?;
                Ok(rows
                    .into_iter()
                    .map(|v| Slash::from_view(&name, v))
                    .collect())
            }
        },
    )
    .await?;
    Ok(Json(page))
}

/// Rewards paid to workers by chain (in the order `/v1/status` lists them), then in chain order, optionally of one
/// worker or job.
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
    let f = q.parse(&s, "rewards")?;
    let page = chains::page(
        f.chains,
        "rewards",
        f.start,
        f.limit,
        |r: &Reward| input::position_key(r.block_number, r.log_index),
        |i, after, want| {
            let (pool, id, name) = (s.app.pool.clone(), f.chains[i].id, f.chains[i].name.clone());
            let filter = f.on(i, after);
            async move {
                let Some(filter) = filter else {
                    return Ok(Vec::new());
                };
                let rows = view::rewards(&pool, id, filter, want).await?;
                Ok(rows
                    .into_iter()
                    .map(|v| Reward::from_view(&name, v))
                    .collect())
            }
        },
    )
    .await?;
    Ok(Json(page))
}

/// Whether `address` (lowercase 0x-hex) is a registered worker in the index.
pub(crate) async fn is_registered(s: &Shared, chain: &Served, address: &str) -> Result<bool> {
    Ok(view::is_registered(&s.app.pool, chain.id, address).await?)
}

/// Whether `address` may upload result bytes: registered, not jailed, staked at least the current minimum, and
/// holding an assignment that awaits its result (403 naming what is missing otherwise).
pub(crate) async fn may_upload(s: &Shared, chain: &Served, address: &str) -> Result<()> {
    let standing = view::upload_standing(&s.app.pool, chain.id, address).await?;
    let refuse = |why: &str| Err(Error::Forbidden(format!("worker {address} {why}")));
    match standing {
        None => refuse(&format!("is not registered on {}", chain.name)),
        Some(w) if w.jailed => refuse("is jailed"),
        Some(w) if !w.staked => refuse("is staked below the minimum stake"),
        Some(w) if !w.assigned => refuse("holds no assignment awaiting a result"),
        Some(_) => Ok(()),
    }
}

impl Worker {
    fn from_view(chain: &str, v: WorkerView) -> Self {
        Self {
            chain: chain.to_owned(),
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

impl WorkerDetail {
    fn from_view(chain: &str, v: WorkerDetailView) -> Self {
        Self {
            worker: Worker::from_view(chain, v.worker),
            counts: v.counts.into(),
        }
    }
}

impl Slash {
    /// The slash `v` on chain `chain` (its CAIP-2 name).
    pub(crate) fn from_view(chain: &str, v: SlashView) -> Self {
        Self {
            chain: chain.to_owned(),
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

impl Reward {
    fn from_view(chain: &str, v: RewardView) -> Self {
        Self {
            chain: chain.to_owned(),
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
