//! Liveness, readiness, the indexer's status, Prometheus metrics, the OpenAPI document and the 404 fallback.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{Uri, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{Error, ErrorBody, Result};
use super::{Shared, metrics as route_metrics};
use crate::da::RouterState;

/// `/v1/health`: the process answers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
}

/// `/v1/ready` when the index can be served.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Ready {
    /// Always `ready`.
    pub status: String,
}

/// One deployed contract.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractInfo {
    /// Address, lowercase 0x-hex.
    pub address: String,
    /// Block of its creation.
    pub deploy_block: u64,
}

/// `/v1/status`: where each chain's indexer stands, and the DA router.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusBody {
    /// The chains served, in the order lists go through them.
    pub chains: Vec<ChainStatus>,
    /// Whether every chain's indexer has caught up with its head and none has halted (`/v1/ready`).
    pub caught_up: bool,
    /// The DA router: primary and secondary layer, blobs waiting for reconciliation and the oldest one's time.
    pub da: RouterState,
    /// The event stream to NATS JetStream, when configured: its backlog per chain, what it published and its
    /// last failure.
    pub stream: Option<crate::stream::StreamStatus>,
}

/// One chain served: its indexer's progress, its deployment and its scheduler.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChainStatus {
    /// The chain's CAIP-2 name (`eip155:31337`, `starknet:SN_SEPOLIA`): the `chain` of every item and filter.
    pub chain: String,
    /// The chain id the index keys it by (on Starknet, derived from its name; above 2^53, so JavaScript
    /// clients should use `chain`). Accepted by `chain` filters too.
    pub chain_id: u64,
    /// Its chain family (`evm`, `starknet`): the form of its addresses and signatures.
    pub family: crate::domain::Family,
    /// Latest head seen on the chain.
    pub head: u64,
    /// Last block whose events are all applied.
    pub indexed: u64,
    /// `head - indexed`.
    pub lag: u64,
    /// Blocks behind the head before an event counts as final.
    pub confirmations: u64,
    /// Whether the backfill has caught up with the head.
    pub caught_up: bool,
    /// Why indexing halted, when it did: the process keeps serving what it indexed before, `/v1/ready` answers
    /// 503 and the scheduler sends nothing until the index is repaired.
    pub halted: Option<crate::indexer::Halt>,
    /// Contracts by name (`AccordToken`, `JobManager`, ...).
    pub contracts: BTreeMap<String, ContractInfo>,
    /// The chain's scheduler in this replica.
    pub scheduler: crate::scheduler::SchedulerStatus,
}

/// Liveness: 200 whenever the process can answer.
#[utoipa::path(get, path = "/v1/health", tag = "system", responses((status = 200, description = "Success", body = Health)))]
pub(crate) async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: 200 once every chain's indexer has caught up and none has halted, else 503 `not_ready` with the reason.
#[utoipa::path(
    get,
    path = "/v1/ready",
    tag = "system",
    responses((status = 200, description = "Success", body = Ready), (status = 503, description = "Catching up or halted", body = ErrorBody))
)]
pub(crate) async fn ready(State(s): State<Shared>) -> Result<Json<Ready>> {
    let several = s.chains.len() > 1;
    for chain in &s.chains {
        let status = chain.chain.status.borrow();
        let on = if several {
            format!(" on {}", chain.name)
        } else {
            String::new()
        };
        if let Some(reason) = &status.halted {
            return Err(Error::NotReady(format!("indexing halted{on}: {reason}")));
        }
        if !status.caught_up {
            return Err(Error::NotReady(format!(
                "indexer is catching up{on}: block {} of {}",
                status.indexed, status.head
            )));
        }
    }
    Ok(Json(Ready {
        status: "ready".into(),
    }))
}

/// Each chain's indexer progress, deployment and scheduler, and the DA router's state.
#[utoipa::path(
    get,
    path = "/v1/status",
    tag = "system",
    responses((status = 200, description = "Success", body = StatusBody), (status = 503, description = "Database unavailable", body = ErrorBody))
)]
pub(crate) async fn status(State(s): State<Shared>) -> Result<Json<StatusBody>> {
    let da = s.app.da.state().await.map_err(super::blobs::da_error)?;
    let chains: Vec<ChainStatus> = s
        .chains
        .iter()
        .map(|c| {
            let status = c.chain.status.borrow().clone();
            ChainStatus {
                chain: c.name.clone(),
                chain_id: c.id as u64,
                family: c.family,
                head: status.head,
                indexed: status.indexed,
                lag: status.head.saturating_sub(status.indexed),
                confirmations: status.confirmations,
                caught_up: status.caught_up,
                halted: status.halted,
                contracts: c.contracts.clone(),
                scheduler: c.chain.scheduler.borrow().clone(),
            }
        })
        .collect();
    Ok(Json(StatusBody {
        caught_up: chains.iter().all(|c| c.caught_up && c.halted.is_none()),
        chains,
        da,
        stream: s.app.stream.as_ref().map(|w| w.borrow().clone()),
    }))
}

/// Prometheus text: requests and latency per route, indexer head, indexed block and lag.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "system",
    responses((status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain"))
)]
pub(crate) async fn metrics(State(s): State<Shared>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        route_metrics::render(&s),
    )
}

/// The OpenAPI document of this API.
pub(crate) async fn openapi(State(s): State<Shared>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        s.openapi.clone(),
    )
}

/// Unknown routes: 404 in the JSON error shape.
pub(crate) async fn fallback(uri: Uri) -> Error {
    Error::NotFound(format!("no route for {}", uri.path()))
}
