//! The worker's side of `POST /v1/blobs`: sign a `BlobUpload` with the worker's account (in its chain family's
//! typed-data scheme, bound to the deployment) and upload the bytes; the answer is the [`BlobRef`] to put on
//! chain with the result.

use std::sync::Arc;

use super::{BlobRef, Bytes, Error, Result, sha256};
use crate::chain::account::Account;
use crate::domain::Address;
use crate::offchain::{self, BlobUpload, Message};

/// Header naming the uploading worker.
pub const HEADER_WORKER: &str = "x-accord-worker";
/// Header with the upload's unix time in seconds.
pub const HEADER_TIMESTAMP: &str = "x-accord-timestamp";
/// Header with the 0x-hex signature of the `BlobUpload` (65 bytes of EIP-712 on EVM chains).
pub const HEADER_SIGNATURE: &str = "x-accord-signature";
/// Header of an upload: the 0x-hex sha256 of the body, signed, so the coordinator checks the signature before
/// it reads the body.
pub const HEADER_SHA256: &str = "x-accord-sha256";

/// Uploads blobs to a coordinator, signed by one worker's account.
#[derive(Clone)]
pub struct BlobClient {
    http: reqwest::Client,
    endpoint: String,
    /// The chain the uploads are for (`chain`), needed when the coordinator serves several.
    chain: Option<String>,
    account: Arc<dyn Account>,
}

impl std::fmt::Debug for BlobClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobClient")
            .field("endpoint", &self.endpoint)
            .field("worker", &self.account.address())
            .finish()
    }
}

/// The API's error body, as far as the client reads it.
#[derive(serde::Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

impl BlobClient {
    /// A client of the API at `api_url` (e.g. `http://127.0.0.1:8080`) signing with `account` (its deployment
    /// is the signature's domain).
    pub fn new(api_url: impl AsRef<str>, account: Arc<dyn Account>) -> Self {
        let endpoint = format!("{}/v1/blobs", api_url.as_ref().trim_end_matches('/'));
        Self {
            http: reqwest::Client::new(),
            endpoint,
            chain: None,
            account,
        }
    }

    /// The same client, naming the chain (its CAIP-2 name) its uploads are for: required by a coordinator that
    /// serves several chains.
    pub fn on_chain(mut self, chain: &str) -> Self {
        self.chain = Some(chain.to_owned());
        self
    }

    /// The worker address uploads are signed by.
    pub fn worker(&self) -> Address {
        self.account.address()
    }

    /// Signs and uploads `data`; the coordinator puts it on its DA layer and answers where it went.
    pub async fn upload(&self, data: Bytes) -> Result<BlobRef, Error> {
        let timestamp = offchain::unix_now();
        let message = BlobUpload {
            worker: self.account.address(),
            sha256: sha256(&data),
            size: data.len() as u64,
            timestamp,
        };
        let signature = self
            .account
            .sign(Message::BlobUpload(&message))
            .map_err(|e| Error::Sign(e.to_string()))?;
        let response = self
            .http
            .post(crate::remote::with_chain(
                &self.endpoint,
                self.chain.as_deref(),
            ))
            .header(HEADER_WORKER, message.worker.as_str())
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_SHA256, message.sha256.to_string())
            .header(HEADER_SIGNATURE, alloy::hex::encode_prefixed(&signature))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(data)
            .send()
            .await
            .map_err(|e| Error::Unavailable {
                layer: "coordinator".into(),
                message: e.to_string(),
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| Error::Unavailable {
            layer: "coordinator".into(),
            message: e.to_string(),
        })?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| Error::Unavailable {
                layer: "coordinator".into(),
                message: format!("HTTP {status} with a body that is not a BlobRef: {e}"),
            });
        }
        let (code, message) = match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(b) => (b.error.code, b.error.message),
            Err(_) => (
                "unknown".into(),
                String::from_utf8_lossy(&body).chars().take(500).collect(),
            ),
        };
        Err(Error::Rejected {
            status: status.as_u16(),
            code,
            message,
        })
    }
}
