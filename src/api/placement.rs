//! `/v1/placement/{key}`: which workers a key's replicas go to, by rendezvous hashing over the live, eligible
//! workers (see [`crate::placement`]).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Shared;
use super::error::{ApiPath, ApiQuery, Error, ErrorBody, Result};
use crate::store::views::workers as view;

/// Most replicas one placement answers (the contracts' most replicas of a job is 7).
pub(crate) const MAX_RF: u32 = 16;
/// What a key may be: 1 to 128 of letters, digits and `:._-` (a job id, a hex hash, a CAIP-2 name).
pub(crate) const KEY_PATTERN: &str = "^[0-9A-Za-z:._-]{1,128}$";
/// A worker is live when its latest heartbeat was signed at most this long ago (the scheduler's default TTL).
pub(crate) const LIVE_SECS: u64 = 60;

/// `?chain=&rf=&capabilities=`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlacementQuery {
    /// The chain, by its CAIP-2 name or chain id; required when the coordinator serves more than one chain.
    chain: Option<String>,
    /// Replicas to place, 1..16 (default 1).
    #[param(value_type = Option<u32>)]
    rf: Option<String>,
    /// Capability bits every placed worker must have (default 0: any).
    #[param(value_type = Option<u32>)]
    capabilities: Option<String>,
}

/// Where a key's replicas go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Placement {
    /// The chain's CAIP-2 name.
    pub chain: String,
    /// The key, as given.
    pub key: String,
    /// Replicas asked for.
    pub rf: u32,
    /// Live, eligible workers the placement chose among.
    pub candidates: usize,
    /// The chosen workers, highest score first (fewer than `rf` when there are fewer candidates).
    pub workers: Vec<Placed>,
}

/// One chosen worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Placed {
    /// Its address.
    pub address: String,
    /// Its rendezvous score for the key: sha256(key ‖ 0x00 ‖ address), 0x-hex; the highest wins.
    pub score: String,
}

/// The `rf` live, eligible workers (registered, not jailed, staked at least the minimum, a heartbeat within 60 s,
/// holding `capabilities`) with the highest rendezvous score for `key`: the same answer for everyone who sees the
/// same workers, and stable when unrelated workers join or leave.
#[utoipa::path(
    get,
    path = "/v1/placement/{key}",
    tag = "workers",
    params(("key" = String, Path, description = "1 to 128 of letters, digits and :._- (a job id, a hex data hash)"), PlacementQuery),
    responses((status = 200, description = "Success", body = Placement), (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody))
)]
pub(crate) async fn get_placement(
    State(s): State<Shared>,
    ApiPath(key): ApiPath<String>,
    ApiQuery(q): ApiQuery<PlacementQuery>,
) -> Result<Json<Placement>> {
    let chain = s.one(q.chain.as_deref())?;
    let valid = (1..=128).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":._-".contains(&b));
    if !valid {
        return Err(Error::invalid(
            "key must be 1 to 128 of letters, digits and :._- (a job id, a hex hash)",
        ));
    }
    let rf = match q.rf.as_deref() {
        None => 1,
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if (1..=MAX_RF).contains(&n) => n,
            _ => return Err(Error::invalid(format!("rf must be 1..{MAX_RF}"))),
        },
    };
    let capabilities = match q.capabilities.as_deref() {
        None => 0,
        Some(raw) => raw
            .parse::<u16>()
            .map_err(|_| Error::invalid("capabilities must be 0..65535"))?,
    };
    let alive_since = crate::offchain::unix_now().saturating_sub(LIVE_SECS);
    let workers = view::placeable(
        &s.app.pool,
        chain.id,
        i64::try_from(alive_since).unwrap_or(i64::MAX),
        i32::from(capabilities),
    )
    .await?;
    let placed = crate::placement::place(
        key.as_bytes(),
        workers.iter().map(String::as_str),
        rf as usize,
    )
    .into_iter()
    .map(|(address, score)| Placed {
        address: address.to_owned(),
        score: format!("0x{}", alloy::hex::encode(score)),
    })
    .collect();
    Ok(Json(Placement {
        chain: chain.name.clone(),
        key,
        rf,
        candidates: workers.len(),
        workers: placed,
    }))
}
