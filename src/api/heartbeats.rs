//! `POST /v1/heartbeats`: a worker says it is alive and how many jobs it takes at once, in an EIP-712 message
//! signed by its own wallet (see [`crate::offchain`]). The scheduler assigns only to workers whose latest
//! heartbeat is within its TTL.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Shared;
use super::error::{Error, ErrorBody, Result};
use super::input;
use crate::offchain::{self, Heartbeat};

/// How old a heartbeat's timestamp may be, in seconds (it may be at most `offchain::MAX_AHEAD_SECS` ahead).
pub const MAX_AGE_SECS: u64 = 120;
/// Largest capacity a worker may declare.
pub const MAX_CAPACITY: u32 = 10_000;

/// A signed heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatBody {
    /// The worker (0x-hex), who signs.
    pub worker: String,
    /// Jobs it takes at once, 1..=10000.
    pub capacity: u32,
    /// Unix seconds of signing; within two minutes of the server's clock.
    pub timestamp: u64,
    /// 65-byte EIP-712 signature over `Heartbeat{worker, capacity, timestamp}` (0x-hex).
    pub signature: String,
}

/// What the server recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatAccepted {
    /// The worker, lowercase.
    pub worker: String,
    /// The capacity recorded.
    pub capacity: u32,
    /// The heartbeat's timestamp.
    pub timestamp: u64,
    /// Whether it replaced the stored one (false when an equal or newer one was already stored).
    pub recorded: bool,
}

/// Records a worker's signed heartbeat. The worker must be registered in the index.
#[utoipa::path(
    post,
    path = "/v1/heartbeats",
    tag = "workers",
    request_body = HeartbeatBody,
    responses(
        (status = 202, description = "Recorded", body = HeartbeatAccepted),
        (status = 400, description = "A malformed field, named in the message", body = ErrorBody),
        (status = 401, description = "Bad, stale or foreign signature", body = ErrorBody),
        (status = 403, description = "Not a registered worker", body = ErrorBody)
    )
)]
pub(crate) async fn post_heartbeat(
    State(s): State<Shared>,
    body: std::result::Result<Json<HeartbeatBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<HeartbeatAccepted>)> {
    let Json(body) =
        body.map_err(|e| Error::invalid(format!("invalid body: {}", e.body_text())))?;
    let worker = input::address("worker", &body.worker)?;
    if body.capacity == 0 || body.capacity > MAX_CAPACITY {
        return Err(Error::invalid(format!(
            "capacity must be 1..={MAX_CAPACITY}, got {}",
            body.capacity
        )));
    }
    let signature = parse_hex("signature", &body.signature)?;
    let message = Heartbeat {
        worker: worker
            .parse()
            .map_err(|_| Error::invalid("worker is not an address"))?,
        capacity: body.capacity,
        timestamp: body.timestamp,
    };
    let domain = offchain::domain(s.app.chain_id, s.app.manifest.contracts.registry.address);
    offchain::verify(
        &domain,
        &message,
        &signature,
        message.worker,
        body.timestamp,
        offchain::unix_now(),
        MAX_AGE_SECS,
    )
    .map_err(|e| Error::Unauthorized(e.to_string()))?;
    let _slot = s.limits.worker(&worker)?;

    if !super::workers::is_registered(&s, &worker).await? {
        return Err(Error::Forbidden(format!(
            "{worker} is not a registered worker (register on chain, then retry once indexed)"
        )));
    }
    let recorded = sqlx::query(
        "INSERT INTO heartbeats (chain_id, worker, capacity, signed_at, signature) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (chain_id, worker) DO UPDATE SET capacity = EXCLUDED.capacity, signed_at = EXCLUDED.signed_at, \
             signature = EXCLUDED.signature, received_at = now() \
         WHERE heartbeats.signed_at < EXCLUDED.signed_at",
    )
    .bind(s.chain_id)
    .bind(&worker)
    .bind(body.capacity as i32)
    .bind(body.timestamp as i64)
    .bind(&body.signature)
    .execute(&s.app.pool)
    .await?
    .rows_affected()
        == 1;
    Ok((
        StatusCode::ACCEPTED,
        Json(HeartbeatAccepted {
            worker,
            capacity: body.capacity,
            timestamp: body.timestamp,
            recorded,
        }),
    ))
}

/// Decodes a 0x-hex field; the error names it.
pub(crate) fn parse_hex(field: &str, raw: &str) -> Result<Vec<u8>> {
    alloy::hex::decode(raw).map_err(|_| Error::invalid(format!("{field} is not 0x-hex")))
}
