//! EIP-4844 blobs (`daKind` 3): the result travels in blob 0 of the worker's own type-3 transaction, and the
//! contract accepts the result only when its commitment is `blobhash(0)` of that very transaction. The chain,
//! not the coordinator, binds the bytes to the job.
//!
//! ```text
//!  worker ──bytes──► POST /v1/blobs ──► Eip4844Layer::put: encode, KZG-commit ──► archive + BlobRef{3, versioned hash}
//!  worker ──submitResult(jobId, 3, versioned hash, size, "eip4844") + blob sidecar (type 3)──► chain: == blobhash(0)
//!  reader ──GET /v1/jobs/{id}/result──► archive, else the beacon node's blobs of the result's block
//!             ──re-encode, KZG commitment, versioned hash == the chain's──► bytes
//! ```
//!
//! The encoding and the KZG work live with the EVM adapter ([`crate::chain::evm::blob`]): one canonical blob
//! per result, so a result holds at most [`MAX_PAYLOAD`] bytes (a larger one goes to the router's secondary
//! layer), and [`commitment`] re-encodes bytes and recomputes the versioned hash, so bytes verify only against
//! the blob an honest encoder makes of them.
//!
//! Blobs are pruned by consensus nodes after about 18 days; the coordinator's archive keeps the bytes. Reading a
//! blob back uses the standard beacon API, `GET /eth/v1/beacon/blobs/{block_id}?versioned_hashes=…`, where
//! `block_id` is the slot of the result's block (`block_id = "slot"`, computed from the block's timestamp and
//! the beacon genesis) or, for anvil, whose beacon API takes execution block numbers, the block number
//! (`block_id = "number"`).

use std::time::Duration;

use alloy::primitives::B256;
use serde::{Deserialize, Serialize};

use super::{BlobRef, BoxFuture, Bytes, DaLayer, Error, Result};
pub use crate::chain::evm::blob::MAX_PAYLOAD;
use crate::chain::evm::blob::{self, BYTES_PER_BLOB, BlobError};
use crate::chain::redact_rpc_url;

/// `daKind` of an EIP-4844 blob.
pub const KIND_EIP4844: u8 = crate::domain::DA_KIND_EIP4844;
/// The locator of a blob result: blob 0 of the transaction that recorded it.
pub const LOCATOR: &str = "eip4844";
/// The layer's name in logs and `/v1/status`.
const NAME: &str = "eip4844";

/// The DA error of a blob error: bytes that do not fit one blob are [`Error::Unfit`], a blob that is not the
/// one it should be is [`Error::Mismatch`].
fn da_error(e: BlobError) -> Error {
    match e {
        BlobError::Unfit(m) => Error::Unfit(m),
        BlobError::Invalid(m) => Error::Mismatch(m),
    }
}

/// The commitment of `data` as a blob result: the versioned hash of its canonical blob (see
/// [`crate::chain::evm::blob`]).
pub fn commitment(data: &[u8]) -> Result<B256> {
    blob::commitment(data).map_err(da_error)
}

/// A blob of the beacon API's JSON: 0x-hex of 131,072 bytes.
fn parse_blob(hex: &str) -> Result<Vec<u8>> {
    alloy::hex::decode(hex)
        .ok()
        .filter(|b| b.len() == BYTES_PER_BLOB)
        .ok_or_else(|| {
            Error::Mismatch("the beacon node served a blob that is not 131,072 bytes of hex".into())
        })
}

/// How the beacon API is asked for the blobs of an execution block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockIdMode {
    /// By slot, from the block's timestamp and the beacon genesis: a consensus client.
    #[default]
    Slot,
    /// By execution block number: anvil's beacon API.
    Number,
}

/// `[da.eip4844]`
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Eip4844Config {
    /// A beacon node's REST API (http), for blobs not in the archive.
    pub beacon_url: String,
    /// `slot` (a consensus client) or `number` (anvil).
    pub block_id: BlockIdMode,
    /// The execution node's JSON-RPC (http), for block timestamps in `slot` mode.
    pub rpc_url: String,
    /// Seconds per slot (12 on Ethereum).
    pub seconds_per_slot: u64,
    /// Per-request timeout, in milliseconds.
    pub timeout_ms: u64,
}

/// URLs redacted (they may carry a user, a password or an API key).
impl std::fmt::Debug for Eip4844Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Eip4844Config")
            .field("beacon_url", &redact_rpc_url(&self.beacon_url))
            .field("block_id", &self.block_id)
            .field("rpc_url", &redact_rpc_url(&self.rpc_url))
            .field("seconds_per_slot", &self.seconds_per_slot)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

impl Default for Eip4844Config {
    fn default() -> Self {
        Self {
            beacon_url: "http://127.0.0.1:5052".into(),
            block_id: BlockIdMode::Slot,
            rpc_url: "http://127.0.0.1:8545".into(),
            seconds_per_slot: 12,
            timeout_ms: 10_000,
        }
    }
}

/// The beacon slot of an execution block with `timestamp`.
pub fn slot_of(timestamp: u64, genesis_time: u64, seconds_per_slot: u64) -> Option<u64> {
    timestamp
        .checked_sub(genesis_time)
        .and_then(|s| s.checked_div(seconds_per_slot))
}

/// EIP-4844 blobs: `put` encodes and commits (the worker's transaction publishes); `get_at` reads a blob back
/// from a beacon node.
#[derive(Debug, Clone)]
pub struct Eip4844Layer {
    http: reqwest::Client,
    config: Eip4844Config,
    /// The beacon genesis time, read once.
    genesis: std::sync::Arc<tokio::sync::OnceCell<u64>>,
}

/// The largest beacon answer read: 21 blobs (the most one block holds today) as hex, with room to spare.
const MAX_BEACON_ANSWER: usize = 16 << 20;

#[derive(Deserialize)]
struct Blobs {
    data: Vec<String>,
}

#[derive(Deserialize)]
struct Genesis {
    data: GenesisData,
}

#[derive(Deserialize)]
struct GenesisData {
    genesis_time: String,
}

impl Eip4844Layer {
    /// The layer of `config`.
    pub fn new(config: Eip4844Config) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            .build()
            .unwrap_or_default();
        Self {
            http,
            config,
            genesis: Default::default(),
        }
    }

    fn unavailable(&self, message: String) -> Error {
        Error::Unavailable {
            layer: NAME.into(),
            message,
        }
    }

    async fn beacon<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Option<T>> {
        let url = format!("{}{path}", self.config.beacon_url.trim_end_matches('/'));
        let shown = redact_rpc_url(&self.config.beacon_url);
        let response = self
            .http
            .get(&url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.unavailable(format!("beacon node {shown}: {}", e.without_url())))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(self.unavailable(format!("beacon node {shown} answered HTTP {status}")));
        }
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.unavailable(format!("beacon node {shown}: {}", e.without_url())))?
        {
            if body.len() + chunk.len() > MAX_BEACON_ANSWER {
                return Err(self.unavailable(format!(
                    "beacon node {shown} answered more than {MAX_BEACON_ANSWER} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| self.unavailable(format!("beacon node {shown}: unexpected answer: {e}")))
    }

    /// The beacon `block_id` of execution block `number`.
    async fn block_id(&self, number: u64) -> Result<String> {
        match self.config.block_id {
            BlockIdMode::Number => Ok(number.to_string()),
            BlockIdMode::Slot => {
                let genesis_time = *self
                    .genesis
                    .get_or_try_init(|| async {
                        let genesis: Genesis = self
                            .beacon("/eth/v1/beacon/genesis")
                            .await?
                            .ok_or_else(|| {
                                self.unavailable("the beacon node has no genesis".into())
                            })?;
                        genesis.data.genesis_time.parse::<u64>().map_err(|_| {
                            self.unavailable(format!(
                                "the beacon genesis time {:?} is not a number",
                                genesis.data.genesis_time
                            ))
                        })
                    })
                    .await?;
                let timestamp = self.block_timestamp(number).await?;
                slot_of(timestamp, genesis_time, self.config.seconds_per_slot)
                    .map(|s| s.to_string())
                    .ok_or_else(|| {
                        self.unavailable(format!(
                            "block {number} (time {timestamp}) is before the beacon genesis ({genesis_time})"
                        ))
                    })
            }
        }
    }

    async fn block_timestamp(&self, number: u64) -> Result<u64> {
        let shown = redact_rpc_url(&self.config.rpc_url);
        let body = serde_json::json!({
            "jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber",
            "params": [format!("{number:#x}"), false],
        });
        let reply: serde_json::Value = self
            .http
            .post(&self.config.rpc_url)
            .json(&body)
            .send()
            .await
            .map_err(|e| self.unavailable(format!("execution node {shown}: {}", e.without_url())))?
            .json()
            .await
            .map_err(|e| {
                self.unavailable(format!("execution node {shown}: {}", e.without_url()))
            })?;
        reply["result"]["timestamp"]
            .as_str()
            .and_then(|t| u64::from_str_radix(t.trim_start_matches("0x"), 16).ok())
            .ok_or_else(|| {
                self.unavailable(format!("execution node {shown} has no block {number}"))
            })
    }

    /// The bytes of `r`, blob 0 of a transaction in execution block `block`, from the beacon node; checked.
    pub async fn fetch(&self, r: &BlobRef, block: u64) -> Result<Bytes> {
        if r.kind != KIND_EIP4844 {
            return Err(Error::InvalidRef(format!(
                "kind {} is not EIP-4844's ({KIND_EIP4844})",
                r.kind
            )));
        }
        let id = self.block_id(block).await?;
        let path = format!(
            "/eth/v1/beacon/blobs/{id}?versioned_hashes={}",
            r.commitment
        );
        let blobs: Blobs = self.beacon(&path).await?.ok_or_else(|| {
            Error::NotFound(format!(
                "the beacon node has no block {id} (execution block {block})"
            ))
        })?;
        // A node may ignore the filter, or serve junk besides: take the blob that commits to the reference,
        // checked here, skipping anything else. KZG work runs off the async workers.
        let wanted = r.clone();
        let found = tokio::task::spawn_blocking(move || -> Result<Option<Bytes>> {
            for hex in &blobs.data {
                let Ok(blob) = parse_blob(hex) else { continue };
                if blob::versioned_hash(&blob).ok() != Some(wanted.commitment) {
                    continue;
                }
                let data = Bytes::from(blob::decode(&blob, wanted.size).map_err(da_error)?);
                super::verify(&wanted, &data)?;
                return Ok(Some(data));
            }
            Ok(None)
        })
        .await
        .map_err(|e| self.unavailable(format!("the KZG task failed: {e}")))??;
        found.ok_or_else(|| {
            Error::NotFound(format!(
                "the beacon node serves no blob {} at block {id} (pruned after ~18 days?)",
                r.commitment
            ))
        })
    }

    async fn reference(&self, data: Bytes) -> Result<BlobRef> {
        // KZG work is CPU-bound (tens of milliseconds): off the async workers.
        let commitment =
            tokio::task::spawn_blocking(move || commitment(&data).map(|c| (c, data.len())))
                .await
                .map_err(|e| Error::Unfit(format!("the KZG task failed: {e}")))??;
        Ok(BlobRef {
            kind: KIND_EIP4844,
            commitment: commitment.0,
            size: commitment.1 as u64,
            locator: LOCATOR.into(),
        })
    }
}

impl DaLayer for Eip4844Layer {
    fn name(&self) -> &str {
        NAME
    }

    fn kind(&self) -> u8 {
        KIND_EIP4844
    }

    /// Encodes and commits; nothing is sent: the worker's own transaction carries the blob.
    fn put(&self, data: Bytes) -> BoxFuture<'_, Result<BlobRef>> {
        Box::pin(self.reference(data))
    }

    fn get<'a>(&'a self, r: &'a BlobRef) -> BoxFuture<'a, Result<Bytes>> {
        Box::pin(async move {
            Err(Error::NotFound(format!(
                "blob {} can only be read with the block of its transaction",
                r.commitment
            )))
        })
    }

    fn get_at<'a>(&'a self, r: &'a BlobRef, block: Option<u64>) -> BoxFuture<'a, Result<Bytes>> {
        match block {
            Some(block) => Box::pin(self.fetch(r, block)),
            None => self.get(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_beacon_genesis() {
        assert_eq!(slot_of(1_000 + 12 * 5 + 11, 1_000, 12), Some(5));
        assert_eq!(slot_of(999, 1_000, 12), None);
        assert_eq!(slot_of(2_000, 1_000, 0), None);
    }
}
