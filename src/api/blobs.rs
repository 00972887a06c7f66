//! `POST /v1/blobs` (a registered worker uploads result bytes, EIP-712 signed) and `GET /v1/blobs/{sha256}`
//! (the archived bytes). The upload is the API's only write; what it writes is the DA archive, never the index.
//!
//! An upload is checked before its body is read, in this order: the client IP's rate and requests in flight
//! (429, [`super::limits`]); the signature headers (401) and the declared size, `Content-Length`, at most
//! `da.max_blob_bytes` (411, 413); the signature over `BlobUpload{worker, sha256, size, timestamp}` with the
//! sha256 and size the headers declare, in the deployment's domain, signed at most 300 s ago and at most a few
//! seconds ahead (401); the worker's own rate and requests in flight (429); that the index shows the worker
//! registered, not jailed, staked at least the minimum and holding a live assignment without a result (403);
//! and a free slot among the uploads in flight (429). Only then is the body read, no further than the declared
//! size, and checked against the signed sha256 (400). Then the bytes go through the DA router and the archive
//! (201 with the [`BlobRef`]).

use alloy::primitives::B256;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use super::Shared;
use super::error::{ApiPath, ApiQuery, Error, ErrorBody, Result};
use crate::da::client::{HEADER_SHA256, HEADER_SIGNATURE, HEADER_TIMESTAMP, HEADER_WORKER};
use crate::da::{self, BlobRef, Bytes};
use crate::domain::{Address, Family};
use crate::offchain::{self, BlobUpload};

/// How old an upload's timestamp may be, in seconds (it may be at most [`offchain::MAX_AHEAD_SECS`] ahead).
pub const MAX_AGE_SECS: u64 = 300;

/// Header of served bytes: the commitment they were checked against (0x-hex).
pub const HEADER_COMMITMENT: &str = "x-accord-commitment";
/// Header of served bytes: `archive` or `layer`, where they came from.
pub const HEADER_SOURCE: &str = "x-accord-source";

/// The signature headers of an upload, parsed.
struct SignedBy {
    worker: Address,
    timestamp: u64,
    signature: Vec<u8>,
    sha256: B256,
}

fn header<'a>(headers: &'a HeaderMap, name: &str, what: &str) -> Result<&'a str> {
    let value = headers.get(name).ok_or_else(|| {
        Error::Unauthorized(format!("missing {} header ({what})", display_name(name)))
    })?;
    value.to_str().map_err(|_| {
        Error::Unauthorized(format!(
            "{} header is not visible ASCII ({what})",
            display_name(name)
        ))
    })
}

/// `x-accord-worker` → `X-Accord-Worker`, as the documentation spells it.
fn display_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn signed_by(headers: &HeaderMap, family: Family) -> Result<SignedBy> {
    let worker = header(headers, HEADER_WORKER, "the uploading worker's 0x address")?;
    let timestamp = header(headers, HEADER_TIMESTAMP, "unix seconds of the signature")?;
    let signature = header(
        headers,
        HEADER_SIGNATURE,
        "0x-hex of the worker's signature of BlobUpload",
    )?;
    let sha256 = header(headers, HEADER_SHA256, "0x-hex sha256 of the body")?;
    let sha256 = sha256
        .strip_prefix("0x")
        .filter(|h| h.len() == 64)
        .and_then(|h| h.parse::<B256>().ok())
        .ok_or_else(|| {
            Error::Unauthorized("X-Accord-Sha256 must be 0x and 64 hex digits".into())
        })?;
    let worker = super::input::address_of(family, "X-Accord-Worker", worker)
        .ok()
        .and_then(|a| Address::parse(family, &a).ok())
        .ok_or_else(|| {
            Error::Unauthorized(match family {
                Family::Evm => "X-Accord-Worker is not a 0x address (0x and 40 hex digits)".into(),
                Family::Starknet => "X-Accord-Worker is not a Starknet address".into(),
            })
        })?;
    let timestamp = timestamp.parse::<u64>().map_err(|_| {
        Error::Unauthorized(
            "X-Accord-Timestamp must be unix seconds (a non-negative integer)".into(),
        )
    })?;
    // EVM: one 65-byte EIP-712 signature; Starknet: the account's signature felts, 1 to 8 of 32 bytes each.
    let (fits, expected): (fn(usize) -> bool, &str) = match family {
        Family::Evm => (|n| n == 65, "65 bytes"),
        Family::Starknet => (
            |n| n > 0 && n % 32 == 0 && n <= 8 * 32,
            "1 to 8 felts of 32 bytes",
        ),
    };
    let signature = signature
        .strip_prefix("0x")
        .and_then(|h| alloy::hex::decode(h).ok())
        .filter(|b| fits(b.len()))
        .ok_or_else(|| {
            Error::Unauthorized(format!("X-Accord-Signature must be 0x-hex of {expected}"))
        })?;
    Ok(SignedBy {
        worker,
        timestamp,
        signature,
        sha256,
    })
}

/// The declared size of the body (`Content-Length`), refused over `limit` (413) or when absent (411).
fn declared_size(headers: &HeaderMap, limit: usize) -> Result<u64> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| {
            Error::LengthRequired(
                "an upload needs a Content-Length header (its signed size)".into(),
            )
        })?;
    if declared > limit as u64 {
        return Err(Error::PayloadTooLarge(format!(
            "blob is larger than da.max_blob_bytes ({limit} bytes)"
        )));
    }
    Ok(declared)
}

/// Reads exactly `size` bytes of body (the size already authenticated), refusing more or fewer.
async fn read_exact(body: Body, size: u64) -> Result<Bytes> {
    let mut stream = body.into_data_stream();
    let mut data = bytes::BytesMut::with_capacity(size as usize);
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| Error::invalid(format!("cannot read the request body: {e}")))?;
        if (data.len() + chunk.len()) as u64 > size {
            return Err(Error::invalid(format!(
                "the body is longer than its Content-Length ({size} bytes)"
            )));
        }
        data.extend_from_slice(&chunk);
    }
    if (data.len() as u64) < size {
        return Err(Error::invalid(format!(
            "the body ended after {} of its {size} bytes",
            data.len()
        )));
    }
    Ok(data.freeze())
}

/// Upload result bytes: checked, put through the configured DA layers and archived. Signed by a registered
/// worker's wallet (EIP-712 `BlobUpload{worker, sha256, size, timestamp}`, domain of this deployment).
#[utoipa::path(
    post,
    path = "/v1/blobs",
    tag = "blobs",
    params(
        super::jobs::ChainQuery,
        ("X-Accord-Worker" = String, Header, description = "The uploading worker's address (0x-hex); it must be registered"),
        ("X-Accord-Timestamp" = u64, Header, description = "Unix seconds the upload was signed; at most 300 s ago and 5 s ahead of the coordinator's clock"),
        ("X-Accord-Sha256" = String, Header, description = "0x-hex sha256 of the body, as signed"),
        ("Content-Length" = u64, Header, description = "The body's size, as signed; at most da.max_blob_bytes"),
        ("X-Accord-Signature" = String, Header, description = "0x-hex of the worker's signature of BlobUpload{worker, sha256, size, timestamp}: on EVM chains 65 bytes (EIP-712), on Starknet the account's signature felts, 32 bytes each (SNIP-12)")
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The blob, at most da.max_blob_bytes"),
    responses(
        (status = 201, description = "Stored; put this reference on chain with submitResult", body = BlobRef),
        (status = 400, description = "Empty or unreadable body, or one that does not match its signed size or sha256", body = ErrorBody),
        (status = 401, description = "Missing, malformed, stale or wrong signature; the message names the problem", body = ErrorBody),
        (status = 403, description = "The worker is not registered, is jailed, is staked below the minimum or holds no assignment awaiting a result", body = ErrorBody),
        (status = 411, description = "No Content-Length", body = ErrorBody),
        (status = 413, description = "Larger than da.max_blob_bytes", body = ErrorBody),
        (status = 429, description = "Over a rate or in-flight limit; retry after Retry-After seconds", body = ErrorBody),
        (status = 503, description = "No DA layer accepted the blob", body = ErrorBody)
    )
)]
pub(crate) async fn post_blob(
    State(s): State<Shared>,
    ApiQuery(q): ApiQuery<super::jobs::ChainQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<BlobRef>)> {
    let chain = s.one(q.chain.as_deref())?;
    let signed = signed_by(&headers, chain.family)?;
    let size = declared_size(&headers, s.app.da_config.max_blob_bytes)?;
    if size == 0 {
        return Err(Error::invalid("blob is empty"));
    }
    let worker = signed.worker.to_string();
    let message = BlobUpload {
        worker: signed.worker,
        sha256: signed.sha256,
        size,
        timestamp: signed.timestamp,
    };
    // A Starknet signature is checked by the worker's account contract, a call to the node: only for a timely
    // message of a worker that may upload now, so an anonymous caller cannot make the node run arbitrary
    // contracts. An EVM signature is recovered locally, first.
    let remote = chain.family == crate::domain::Family::Starknet;
    if remote {
        offchain::check_time(signed.timestamp, offchain::unix_now(), MAX_AGE_SECS)
            .map_err(|e| Error::Unauthorized(format!("X-Accord-Timestamp: {e}")))?;
        super::workers::may_upload(&s, chain, &worker).await?;
    }
    offchain::verify(
        chain.chain.verifier.as_ref(),
        offchain::Message::BlobUpload(&message),
        &signed.signature,
        offchain::unix_now(),
        MAX_AGE_SECS,
    )
    .await
    .map_err(|e| {
        Error::Unauthorized(match e {
            offchain::Error::Malformed(why) => format!("X-Accord-Signature is malformed: {why}"),
            offchain::Error::WrongSigner { claimed, recovered } => format!(
                "signature is by {recovered}, not by X-Accord-Worker {claimed} (or it signs another \
                 sha256, size, timestamp or deployment)"
            ),
            e @ offchain::Error::Refused { .. } => format!(
                "{e} (or it signs another sha256, size, timestamp or deployment)"
            ),
            e @ (offchain::Error::Stale { .. } | offchain::Error::Future { .. }) => {
                format!("X-Accord-Timestamp: {e}")
            }
        })
    })?;
    let _worker_slot = s.limits.worker(&worker)?;
    if !remote {
        super::workers::may_upload(&s, chain, &worker).await?;
    }
    let _upload_slot = s.limits.upload()?;
    let data = read_exact(body, size).await?;
    if da::sha256(&data) != signed.sha256 {
        return Err(Error::invalid(
            "the body's sha256 is not the signed X-Accord-Sha256",
        ));
    }
    let blob = s.app.da.put(data).await.map_err(|e| match e {
        da::Error::Database(e) => Error::from(e),
        e => {
            tracing::warn!(target: "accord::api", error = %e, "blob upload failed on every DA layer");
            Error::DaUnavailable(e.to_string())
        }
    })?;
    tracing::info!(target: "accord::api", %worker, commitment = %blob.commitment, size = blob.size, locator = %blob.locator, "blob stored");
    Ok((StatusCode::CREATED, Json(blob)))
}

/// Bytes as an `application/octet-stream` answer with the commitment they were checked against.
pub(crate) fn bytes_response(data: Bytes, commitment: &B256, source: &str) -> Response {
    let mut response = (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Body::from(data),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&commitment.to_string()) {
        response.headers_mut().insert(HEADER_COMMITMENT, v);
    }
    if let Ok(v) = HeaderValue::from_str(source) {
        response.headers_mut().insert(HEADER_SOURCE, v);
    }
    // The bytes are a worker's: never rendered as a page of this origin (the dashboard's), only downloaded.
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    response
}

/// The archived bytes of a blob, by sha256; checked against it before they are served.
#[utoipa::path(
    get,
    path = "/v1/blobs/{sha256}",
    tag = "blobs",
    params(("sha256" = String, Path, description = "sha256 of the bytes, 64 hex digits (0x optional)")),
    responses(
        (status = 200, description = "The bytes", body = Vec<u8>, content_type = "application/octet-stream",
            headers(("X-Accord-Commitment" = String, description = "The sha256 the bytes were checked against"))),
        (status = 400, description = "Not a sha256", body = ErrorBody),
        (status = 404, description = "Not archived", body = ErrorBody),
        (status = 502, description = "The archived bytes do not match their sha256 (blob_mismatch)", body = ErrorBody)
    )
)]
pub(crate) async fn get_blob(
    State(s): State<Shared>,
    ApiPath(sha): ApiPath<String>,
) -> Result<Response> {
    let key = parse_sha256(&sha)?;
    let data = s
        .app
        .da
        .archived(&key)
        .await
        .map_err(da_error)?
        .ok_or_else(|| Error::NotFound(format!("blob {key} is not archived")))?;
    if da::sha256(&data) != key {
        tracing::error!(target: "accord::api", sha256 = %key, "archived bytes do not match their sha256");
        return Err(Error::BlobMismatch(format!(
            "the archived bytes of {key} do not match their sha256"
        )));
    }
    Ok(bytes_response(data, &key, "archive"))
}

/// A sha256 path parameter: 64 hex digits, `0x` optional.
pub fn parse_sha256(raw: &str) -> Result<B256> {
    let hex = raw.strip_prefix("0x").unwrap_or(raw);
    if hex.len() != 64 {
        return Err(Error::invalid("sha256 must be 64 hex digits"));
    }
    hex.parse::<B256>()
        .map_err(|_| Error::invalid("sha256 must be 64 hex digits"))
}

/// A DA error on a read path: database trouble keeps its meaning, the rest is the layer's.
pub(crate) fn da_error(e: da::Error) -> Error {
    match e {
        da::Error::Database(e) => Error::from(e),
        da::Error::Mismatch(m) => Error::ResultMismatch(m),
        e => Error::ResultUnavailable(e.to_string()),
    }
}
