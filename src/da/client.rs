//! The worker's side of `POST /v1/blobs`: sign a `BlobUpload` with the worker's wallet (EIP-712, the
//! deployment's domain) and upload the bytes; the answer is the [`BlobRef`] to put on chain with
//! `submitResult`.

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;

use super::{BlobRef, Bytes, Error, Result, sha256};
use crate::chain::evm::offchain::{self, BlobUpload};

/// Header naming the uploading worker.
pub const HEADER_WORKER: &str = "x-accord-worker";
/// Header with the upload's unix time in seconds.
pub const HEADER_TIMESTAMP: &str = "x-accord-timestamp";
/// Header with the 0x-hex 65-byte EIP-712 signature of the `BlobUpload`.
pub const HEADER_SIGNATURE: &str = "x-accord-signature";
/// Header of an upload: the 0x-hex sha256 of the body, signed, so the coordinator checks the signature before
/// it reads the body.
pub const HEADER_SHA256: &str = "x-accord-sha256";

/// Uploads blobs to a coordinator, signed by one worker's wallet.
#[derive(Debug, Clone)]
pub struct BlobClient {
    http: reqwest::Client,
    endpoint: String,
    signer: PrivateKeySigner,
    chain_id: u64,
    registry: Address,
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
    /// A client of the API at `api_url` (e.g. `http://127.0.0.1:8080`) signing with `signer` for the
    /// deployment of `registry` on `chain_id` (the EIP-712 domain).
    pub fn new(
        api_url: impl AsRef<str>,
        signer: PrivateKeySigner,
        chain_id: u64,
        registry: Address,
    ) -> Self {
        let endpoint = format!("{}/v1/blobs", api_url.as_ref().trim_end_matches('/'));
        Self {
            http: reqwest::Client::new(),
            endpoint,
            signer,
            chain_id,
            registry,
        }
    }

    /// The worker address uploads are signed by.
    pub fn worker(&self) -> Address {
        self.signer.address()
    }

    /// Signs and uploads `data`; the coordinator puts it on its DA layer and answers where it went.
    pub async fn upload(&self, data: Bytes) -> Result<BlobRef, Error> {
        let timestamp = offchain::unix_now();
        let message = BlobUpload {
            worker: self.signer.address(),
            sha256: sha256(&data),
            size: data.len() as u64,
            timestamp,
        };
        let domain = offchain::domain(self.chain_id, self.registry);
        let signature = offchain::sign(&self.signer, &domain, &message)
            .map_err(|e| Error::Sign(e.to_string()))?;
        let response = self
            .http
            .post(&self.endpoint)
            .header(HEADER_WORKER, format!("{:#x}", self.signer.address()))
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_SHA256, message.sha256.to_string())
            .header(
                HEADER_SIGNATURE,
                alloy::hex::encode_prefixed(signature.as_bytes()),
            )
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
