//! API errors: one enum, one JSON shape, `{"error": {"code": "...", "message": "..."}}`, for every non-2xx
//! answer, including axum's own rejections and the plain-text answers of tower layers (see [`json_errors`]).

use std::time::Duration;

use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Errors a request can end in.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The id or route does not exist (404 `not_found`).
    #[error("{0}")]
    NotFound(String),
    /// A malformed path or query parameter; the message names the field (400 `invalid_request`).
    #[error("{0}")]
    InvalidRequest(String),
    /// Missing, malformed, stale or wrong signature headers (401 `unauthorized`); the message names the problem.
    #[error("{0}")]
    Unauthorized(String),
    /// A valid signature by someone not allowed to do this, e.g. an unregistered worker (403 `forbidden`).
    #[error("{0}")]
    Forbidden(String),
    /// The body is larger than the route accepts (413 `payload_too_large`).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Result bytes do not match the commitment and size on chain; no bytes are served (502 `result_mismatch`).
    #[error("{0}")]
    ResultMismatch(String),
    /// Archived bytes do not match their sha256; no bytes are served (502 `blob_mismatch`).
    #[error("{0}")]
    BlobMismatch(String),
    /// Neither the archive nor the DA layer of the result's kind can provide its bytes (502
    /// `result_unavailable`).
    #[error("{0}")]
    ResultUnavailable(String),
    /// No DA layer accepted the blob (503 `da_unavailable`); retrying may succeed.
    #[error("{0}")]
    DaUnavailable(String),
    /// The index is not ready to serve: catching up or halted (503 `not_ready`).
    #[error("{0}")]
    NotReady(String),
    /// The request took longer than the configured timeout (503 `timeout`).
    /// An upload without `Content-Length` (411 `length_required`).
    #[error("{0}")]
    LengthRequired(String),
    /// Over a rate or concurrency limit (429, with `Retry-After`).
    #[error("{message}")]
    TooManyRequests {
        /// What was exceeded.
        message: String,
        /// Seconds to wait before retrying.
        retry_after_secs: u64,
    },
    #[error("request timed out after {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The database is unreachable or every connection is busy (503 `unavailable`); retrying may succeed.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// A query failed (500 `internal`); the cause is logged, never sent.
    #[error("database query failed: {0}")]
    Database(#[source] sqlx::Error),
}

/// `pub type Result<T, E = Error>` for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Error::Unavailable(e)
            }
            e => Error::Database(e),
        }
    }
}

impl Error {
    /// A 400 naming the offending field.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidRequest(message.into())
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::LengthRequired(_) => StatusCode::LENGTH_REQUIRED,
            Error::ResultMismatch(_) | Error::BlobMismatch(_) | Error::ResultUnavailable(_) => {
                StatusCode::BAD_GATEWAY
            }
            Error::DaUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::NotReady(_) | Error::Timeout(_) | Error::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "not_found",
            Error::InvalidRequest(_) => "invalid_request",
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::PayloadTooLarge(_) => "payload_too_large",
            Error::TooManyRequests { .. } => "rate_limited",
            Error::LengthRequired(_) => "length_required",
            Error::ResultMismatch(_) => "result_mismatch",
            Error::BlobMismatch(_) => "blob_mismatch",
            Error::ResultUnavailable(_) => "result_unavailable",
            Error::DaUnavailable(_) => "da_unavailable",
            Error::NotReady(_) => "not_ready",
            Error::Timeout(_) => "timeout",
            Error::Unavailable(_) => "unavailable",
            Error::Database(_) => "internal",
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let message = match &self {
            Error::Database(e) => {
                tracing::error!(target: "accord::api", error = %e, "query failed");
                "internal error".to_string()
            }
            Error::Unavailable(e) => {
                tracing::warn!(target: "accord::api", error = %e, "database unavailable");
                "database unavailable, retry later".to_string()
            }
            other => other.to_string(),
        };
        let mut response = error_response(self.status(), self.code(), message);
        if let Error::TooManyRequests {
            retry_after_secs, ..
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_secs.max(1).into());
        }
        response
    }
}

/// The error body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// Code and message of an error.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code: `not_found`, `invalid_request`, `unauthorized`, `forbidden`, `not_ready`, `timeout`,
    /// `unavailable`, `payload_too_large`, `method_not_allowed`, `result_mismatch`, `blob_mismatch`,
    /// `result_unavailable`, `da_unavailable`, `internal`.
    pub code: String,
    /// Human-readable detail; names the offending field for `invalid_request`.
    pub message: String,
}

fn error_response(status: StatusCode, code: &str, message: String) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_string(),
            message,
        },
    };
    (status, Json(body)).into_response()
}

/// Turns the bodiless or plain-text error answers of axum and tower layers (405, 413, ...) into the JSON error
/// shape, keeping their status and headers (`Allow` on a 405). Answers already in JSON pass untouched.
pub(crate) async fn json_errors(
    State(max_body_bytes): State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            format!("request body is larger than {max_body_bytes} bytes"),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "method not allowed on this route".to_string(),
        ),
        StatusCode::NOT_FOUND => ("not_found", "no such route".to_string()),
        s if s.is_server_error() => ("internal", "internal error".to_string()),
        s => (
            "invalid_request",
            s.canonical_reason().unwrap_or("bad request").to_lowercase(),
        ),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    let json = error_response(status, code, message);
    let (json_parts, body) = json.into_parts();
    parts.headers.extend(json_parts.headers);
    Response::from_parts(parts, body)
}

/// Fails the request with [`Error::Timeout`] when the handler has not answered within the configured time.
/// Only the time to the response head counts: a server-sent event stream may run for hours.
pub(crate) async fn timeout(
    State(limit): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Error::Timeout(limit).into_response(),
    }
}

/// `axum::extract::Query` whose rejection is an [`Error::InvalidRequest`] in the JSON shape. Query structs deny
/// unknown fields, so a misspelt filter is an error instead of a silently unfiltered list.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(Error::invalid(format!(
                "invalid query string: {}",
                inner_text(rejection.body_text())
            ))),
        }
    }
}

/// `axum::extract::Path` whose rejection is an [`Error::InvalidRequest`] in the JSON shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(Error::invalid(format!(
                "invalid path: {}",
                inner_text(rejection.body_text())
            ))),
        }
    }
}

/// axum prefixes its messages ("Failed to deserialize query string: ..."); keep the part after the prefix.
fn inner_text(text: String) -> String {
    match text.split_once(": ") {
        Some((_, rest)) if !rest.is_empty() => rest.to_string(),
        _ => text,
    }
}
