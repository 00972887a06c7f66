//! The REST query API: axum routes under `/v1`, `/metrics`, `/openapi.json`, errors as JSON; and the operator
//! dashboard at `/` ([`dashboard`]), static files that read nothing but this API.
//!
//! ```text
//!  request ─► trace ─► metrics ─► gzip ─► JSON errors ─► timeout ─► body limit ─► handler ─► one SQL query
//!                                                                                  │
//!          indexer ──watch<Status>──► /v1/status, /v1/ready, /metrics gauges ◄─────┤
//!          indexer ──broadcast<LiveEvent>──► /v1/events/stream (server-sent events), /v1/activity (per minute)
//! ```
//!
//! Every handler answers from one indexed query on the derived tables (lists use keyset pagination over their
//! ordering key, never OFFSET or COUNT), casts uint256 columns to text in SQL, and serves them as decimal strings.
//! Nothing a request carries changes the index. The one write is `POST /v1/blobs`: a registered worker's signed
//! upload goes to the DA layers and the blob archive ([`crate::da`]), with its own body limit
//! (`da.max_blob_bytes`) and timeout (`da.put_timeout_ms`). Every non-2xx answer is
//! `{"error": {"code": "...", "message": "..."}}` ([`Error`]).

mod activity;
mod blobs;
mod chains;
mod da_report;
mod dashboard;
mod document;
mod error;
mod events;
mod governance;
mod heartbeats;
mod input;
mod jobs;
mod limits;
mod metrics;
mod placement;
mod system;
mod workers;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use activity::{Activity, ActivityMinute};
pub use blobs::{HEADER_COMMITMENT, HEADER_SOURCE, MAX_AGE_SECS};
pub use error::{ApiPath, ApiQuery, Error, ErrorBody, ErrorDetail, Result};
pub use events::{Event, Lagged, ReorgNotice};
pub use governance::{Param, Proposal, ProposalDetail, ProposalState, Vote};
pub use input::Page;
pub use jobs::{Assignment, Job, JobDetail, JobResult, Payment};
pub use system::{ChainStatus, ContractInfo, Health, Ready, StatusBody};
pub use workers::{Reward, Slash, Worker, WorkerCounts, WorkerDetail};

use crate::config::{ApiConfig, DaConfig};
use crate::da::DaRouter;
use crate::deployment::Manifest;
use crate::domain::LiveEvent;
use crate::indexer::Status;

/// What the handlers share: the pool, the chains served with their indexers' status, the event feed and the
/// settings.
#[derive(Clone)]
pub struct AppState {
    /// PostgreSQL holding the derived index.
    pub pool: sqlx::PgPool,
    /// The chains served, in the order lists go through them; every query filters on one of them.
    pub chains: Vec<ServedChain>,
    /// Newly indexed events of every chain, fanned out to `/v1/events/stream` subscribers.
    pub events: tokio::sync::broadcast::Sender<LiveEvent>,
    /// The event stream publisher's state, when `[stream]` is configured (`/v1/status`'s `stream`).
    pub stream: Option<tokio::sync::watch::Receiver<crate::stream::StreamStatus>>,
    /// Limits and timeouts.
    pub config: ApiConfig,
    /// The process-wide Prometheus recorder, when one is installed; its text is appended to `/metrics`.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The DA layers and the blob archive: uploads, result bytes, `/v1/status`'s `da`.
    pub da: Arc<DaRouter>,
    /// Upload limits (`max_blob_bytes`, `put_timeout_ms`).
    pub da_config: DaConfig,
}

/// One chain the API serves: its deployment, its indexer's and scheduler's state, and how its workers' off-chain
/// signatures are checked.
#[derive(Clone)]
pub struct ServedChain {
    /// The deployment: chain id, family, contract addresses (served by `/v1/status`).
    pub manifest: Manifest,
    /// The chain's indexer's progress.
    pub status: tokio::sync::watch::Receiver<Status>,
    /// The chain's scheduler's state (a default, disabled state when none runs here).
    pub scheduler: tokio::sync::watch::Receiver<crate::scheduler::SchedulerStatus>,
    /// Checks workers' off-chain signatures (heartbeats, uploads) for this deployment
    /// ([`crate::chain::offchain_verifier`]).
    pub verifier: Arc<dyn crate::offchain::Verifier>,
}

impl ServedChain {
    /// A chain served with no scheduler here, its signatures checked through the node at `rpc_url` when its
    /// family needs one (Starknet asks the worker's account contract).
    pub fn new(
        manifest: Manifest,
        status: tokio::sync::watch::Receiver<Status>,
        rpc_url: &str,
    ) -> Self {
        Self {
            verifier: crate::chain::offchain_verifier(&manifest, rpc_url),
            manifest,
            status,
            scheduler: tokio::sync::watch::channel(Default::default()).1,
        }
    }
}

/// [`ServedChain`] plus what the router derives from it once at build time.
pub(crate) struct Served {
    /// The chain id as PostgreSQL's BIGINT.
    pub(crate) id: i64,
    /// The chain's CAIP-2 name (`eip155:31337`, `starknet:SN_SEPOLIA`): the `chain` of every item.
    pub(crate) name: String,
    /// How addresses look on it.
    pub(crate) family: crate::domain::Family,
    pub(crate) chain: ServedChain,
    /// The manifest's contracts, ready to serve.
    pub(crate) contracts: BTreeMap<String, ContractInfo>,
    /// The heartbeat path's registered set, latest heartbeats and group-commit writer.
    pub(crate) heartbeats: heartbeats::Recorder,
}

impl Served {
    /// The governor's clock at the indexer's head, which a proposal's state is read against: the head block's
    /// number on EVM, its timestamp on Starknet. A read replica (no chain connection) falls back to the indexed
    /// head on EVM and to the wall clock on Starknet.
    pub(crate) fn governor_clock(&self) -> i64 {
        let status = self.chain.status.borrow();
        let clock = match (status.governor_clock, self.family) {
            (Some(clock), _) => clock,
            (None, crate::domain::Family::Evm) => status.head,
            (None, crate::domain::Family::Starknet) => crate::offchain::unix_now(),
        };
        i64::try_from(clock).unwrap_or(i64::MAX)
    }
}

/// [`AppState`] plus what the router derives from it once at build time.
pub(crate) struct Inner {
    app: AppState,
    /// The chains served, in the order of `app.chains`.
    chains: Vec<Served>,
    metrics: metrics::RouteMetrics,
    /// Ends server-sent event streams so a graceful shutdown does not wait on them.
    shutdown: CancellationToken,
    /// `/openapi.json`, rendered once.
    openapi: Bytes,
    /// Rates and requests in flight of the write routes.
    limits: Arc<limits::Limits>,
    /// Assignments and payments per minute, counted from the live feed (`/v1/activity`).
    activity: Arc<activity::Recorder>,
}

pub(crate) type Shared = Arc<Inner>;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Accord API",
        description = "REST API over Accord's chain index, read-only except for workers' signed blob uploads. uint256 values are decimal strings, addresses \
                       lowercase 0x-hex; lists are paginated with `limit` and an opaque `cursor`; errors are \
                       `{\"error\": {\"code\", \"message\"}}`."
    ),
    components(schemas(ErrorBody, ProposalState, ReorgNotice, Lagged)),
    tags(
        (name = "system", description = "Health, readiness, indexer status, metrics"),
        (name = "jobs", description = "Jobs, their assignments, results and payments"),
        (name = "blobs", description = "Result bytes: signed uploads by workers, the archive"),
        (name = "workers", description = "Workers, slashes and rewards"),
        (name = "governance", description = "Proposals, votes and protocol parameters"),
        (name = "events", description = "The raw indexed event log")
    )
)]
struct ApiDoc;

/// The routes and their OpenAPI description, before state and layers.
fn api() -> OpenApiRouter<Shared> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(system::health))
        .routes(routes!(system::ready))
        .routes(routes!(system::status))
        .routes(routes!(system::metrics))
        .routes(routes!(activity::get_activity))
        .routes(routes!(jobs::list_jobs))
        .routes(routes!(jobs::get_job))
        .routes(routes!(jobs::get_job_result))
        .routes(routes!(da_report::get_report))
        .routes(routes!(blobs::get_blob))
        .routes(routes!(workers::list_workers))
        .routes(routes!(workers::get_worker))
        .routes(routes!(workers::list_slashes))
        .routes(routes!(workers::list_rewards))
        .routes(routes!(placement::get_placement))
        .routes(routes!(governance::list_proposals))
        .routes(routes!(governance::get_proposal))
        .routes(routes!(governance::get_params))
        .routes(routes!(events::list_events))
        .routes(routes!(events::stream_events))
}

/// The upload route, apart: it has its own body limit and timeout.
fn uploads() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(blobs::post_blob))
}

/// The other write route, apart from the reads for its per-IP limits.
fn heartbeats() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(heartbeats::post_heartbeat))
}

/// The served OpenAPI document: utoipa's, completed with every rule the server enforces ([`document`]).
fn document(
    openapi: utoipa::openapi::OpenApi,
    config: &ApiConfig,
    da: &DaConfig,
    chains: &[Served],
) -> serde_json::Value {
    let mut doc = serde_json::to_value(&openapi).unwrap_or_default();
    document::complete(
        &mut doc,
        &document::Bounds {
            max_page_size: config.max_page_size,
            max_body_bytes: config.max_body_bytes,
            max_blob_bytes: da.max_blob_bytes,
            chains: chains
                .iter()
                .flat_map(|c| [c.name.clone(), c.id.to_string()])
                .collect(),
            chain_ids: chains.iter().map(|c| c.id as u64).collect(),
            starknet: chains
                .iter()
                .any(|c| c.family == crate::domain::Family::Starknet),
        },
    );
    doc
}

/// The API as an axum router with every layer: tracing, per-route metrics, gzip, JSON errors, the request
/// timeout (`config.request_timeout_ms`, 503) and the body limit (`config.max_body_bytes`, 413); `POST
/// /v1/blobs` has `da.put_timeout_ms` and `da.max_blob_bytes` instead.
///
/// Server-sent event streams end only when `state.events` closes; [`serve`] also ends them on shutdown.
///
/// # Panics
/// When a chain id exceeds `i64::MAX` (such a chain cannot be stored in the index either), or when `state.chains`
/// is empty.
pub fn router(state: AppState) -> Router {
    build(state, CancellationToken::new())
}

fn build(app: AppState, shutdown: CancellationToken) -> Router {
    assert!(!app.chains.is_empty(), "the API serves at least one chain");
    let chains: Vec<Served> = app
        .chains
        .iter()
        .map(|chain| {
            let manifest = &chain.manifest;
            let id = i64::try_from(manifest.chain_id)
                // The schema stores chain ids as BIGINT; the indexer cannot have written rows for a larger one.
                .expect("chain id fits PostgreSQL BIGINT");
            let contracts = manifest
                .contracts
                .iter()
                .into_iter()
                .map(|(name, c)| {
                    let info = ContractInfo {
                        address: c.address.to_string(),
                        deploy_block: c.deploy_block,
                    };
                    (name.to_string(), info)
                })
                .collect();
            Served {
                id,
                name: manifest.caip2(),
                family: manifest.family(),
                heartbeats: heartbeats::Recorder::new(app.pool.clone(), id, manifest.family()),
                contracts,
                chain: chain.clone(),
            }
        })
        .collect();
    let (routes, mut openapi) = api().split_for_parts();
    let (upload_routes, upload_openapi) = uploads().split_for_parts();
    openapi.merge(upload_openapi);
    let (heartbeat_routes, heartbeat_openapi) = heartbeats().split_for_parts();
    openapi.merge(heartbeat_openapi);
    let mut paths: Vec<String> = openapi.paths.paths.keys().cloned().collect();
    paths.push("/openapi.json".into());
    paths.extend(dashboard::paths());
    let openapi = Bytes::from(
        serde_json::to_vec(&document(openapi, &app.config, &app.da_config, &chains))
            .unwrap_or_default(),
    );
    let timeout = Duration::from_millis(app.config.request_timeout_ms);
    let max_body = app.config.max_body_bytes;
    let put_timeout = Duration::from_millis(app.da_config.put_timeout_ms);
    let limits = Arc::new(limits::Limits::new(&app.config.limits));
    let activity = activity::start(&app.events, shutdown.clone());
    let shared: Shared = Arc::new(Inner {
        limits: limits.clone(),
        activity,
        app,
        chains,
        metrics: metrics::RouteMetrics::new(paths),
        shutdown,
        openapi,
    });

    let reads = routes.route("/openapi.json", get(system::openapi)).layer(
        ServiceBuilder::new()
            .layer(from_fn_with_state(timeout, error::timeout))
            .layer(RequestBodyLimitLayer::new(max_body)),
    );
    let per_ip = from_fn_with_state(limits, limits::per_ip);
    let heartbeats = heartbeat_routes.layer(
        ServiceBuilder::new()
            .layer(per_ip.clone())
            .layer(from_fn_with_state(timeout, error::timeout))
            .layer(from_fn_with_state(max_body, input::integral_numbers))
            .layer(RequestBodyLimitLayer::new(max_body)),
    );
    // The handler reads the body itself, no further than da.max_blob_bytes.
    let uploads = upload_routes.layer(
        ServiceBuilder::new()
            .layer(per_ip)
            .layer(from_fn_with_state(put_timeout, error::timeout)),
    );
    reads
        .merge(heartbeats)
        .merge(uploads)
        .merge(dashboard::routes())
        .fallback(system::fallback)
        .with_state(shared.clone())
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(from_fn_with_state(shared, metrics::track))
                .layer(CompressionLayer::new())
                .layer(from_fn_with_state(max_body, error::json_errors)),
        )
}

/// Serves the API on `listener` until `shutdown` is cancelled, then stops accepting, ends event streams and
/// waits for in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(target: "accord::api", %addr, dashboard = %format!("http://{addr}/"), "serving the REST API and the dashboard");
    }
    // Small JSON answers on keep-alive connections: do not let Nagle hold them back.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(target: "accord::api", error = %e, "cannot set TCP_NODELAY");
        }
    });
    let app = build(state, shutdown.child_token());
    // The peer address feeds the per-IP limits of the write routes.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.cancelled_owned())
    .await
}
