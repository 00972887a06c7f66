//! Data availability: where result bytes live, and the commitments that bind them to the chain.
//!
//! ```text
//!  worker ──BlobClient::upload (EIP-712 signed)──► POST /v1/blobs ──► DaRouter ──► primary layer ──► BlobRef
//!                                                                        │  └─(fails)─► secondary + da_pending
//!                                                                        └──► da_archive (bytes), da_refs
//!  worker ──submitResult(jobId, ref.kind, ref.commitment, ref.size, ref.locator)──► chain ──► results (index)
//!  reader ──GET /v1/jobs/{id}/result──► archive, else the layer of the result's kind ──verify──► bytes
//! ```
//!
//! A [`DaLayer`] puts bytes and hands back a [`BlobRef`]: the layer's kind (as the contract numbers it), a
//! 32-byte commitment, the size and a locator. [`verify`] checks bytes against a reference without trusting the
//! layer that served them:
//! - [`KIND_LOCAL`] ([`LocalStore`]): commitment = sha256 of the bytes, locator `accord:sha256:<hex>`, bytes in
//!   PostgreSQL (the archive table);
//! - [`KIND_CELESTIA`] ([`CelestiaLayer`]): commitment = Celestia's share commitment of the bytes as a
//!   share-version-0 blob in the namespace of the locator `celestia:<height>:<namespace hex>`;
//! - [`KIND_EIP4844`] ([`Eip4844Layer`]): commitment = the versioned hash of the KZG commitment of the bytes'
//!   canonical blob, locator `eip4844`; the worker's own type-3 transaction carries the blob and the contract
//!   checks the commitment against `blobhash(0)` (see [`eip4844`]).
//!
//! [`DaRouter`] puts through a primary layer and falls back to a secondary one, archiving every blob in
//! PostgreSQL (DA layers prune: EIP-4844 blobs after ~18 days, Celestia's sampling window is 30) and recording
//! what the primary missed for [`DaRouter::reconcile`]. The archive and reconciliation tables are the
//! coordinator's own state, not derived from chain events, and stay out of the rebuild digest.

mod celestia;
pub mod check;
pub mod client;
mod config;
pub mod eip4844;
mod local;
mod router;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use alloy::primitives::B256;
pub use bytes::Bytes;
use sha2::Digest;

pub use crate::domain::BlobRef;
pub use celestia::{CelestiaLayer, CelestiaLocator, parse_namespace, share_commitment};
pub use client::BlobClient;
pub use config::{CelestiaConfig, DaBackend, DaConfig, Secret};
pub use eip4844::{Eip4844Config, Eip4844Layer, KIND_EIP4844};
pub use local::LocalStore;
pub use router::{
    DaRouter, Fetched, PendingBlob, ReconcileOutcome, ReconcileReport, RouterState, Source,
};

/// `daKind` of the local content-addressed store.
pub const KIND_LOCAL: u8 = 1;
/// `daKind` of Celestia.
pub const KIND_CELESTIA: u8 = 2;

/// Errors of the DA layers, the router, the archive and the upload client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A layer could not be reached or refused the request; retrying later may succeed.
    #[error("DA layer {layer} is unavailable: {message}")]
    Unavailable {
        /// The layer's name (`local`, `celestia`).
        layer: String,
        /// What went wrong (never a credential).
        message: String,
    },
    /// The layer (or the archive) does not have the blob.
    #[error("{0}")]
    NotFound(String),
    /// Bytes do not match the reference's commitment or size.
    #[error("{0}")]
    Mismatch(String),
    /// A reference that cannot name a blob: unknown kind, malformed locator.
    #[error("{0}")]
    InvalidRef(String),
    /// No configured layer serves this kind.
    #[error("no DA layer of kind {0} is configured")]
    NoLayer(u8),
    /// The layer cannot take these bytes at all (an EIP-4844 result is 1 to 126,945 bytes): the router puts
    /// them on its secondary layer, for good.
    #[error("{0}")]
    Unfit(String),
    /// The blob is larger than the configured limit.
    #[error("blob is {size} bytes, larger than the limit of {limit} bytes")]
    TooLarge {
        /// Its size.
        size: u64,
        /// `da.max_blob_bytes`.
        limit: u64,
    },
    /// The coordinator refused an upload; `code` and `message` are its JSON error.
    #[error("upload refused with HTTP {status} {code}: {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The API's error code (`unauthorized`, `forbidden`, `payload_too_large`, ...).
        code: String,
        /// The API's message.
        message: String,
    },
    /// Signing the upload failed.
    #[error("cannot sign the upload: {0}")]
    Sign(String),
    /// A PostgreSQL query failed.
    #[error("database query failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// `pub type Result<T, E = Error>` for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed future, so that [`DaLayer`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One data-availability layer.
pub trait DaLayer: Send + Sync {
    /// Short name for logs and `/v1/status`: `local`, `celestia`.
    fn name(&self) -> &str;
    /// The `daKind` of the references it hands out.
    fn kind(&self) -> u8;
    /// Publishes `data`; the reference names it on this layer.
    fn put(&self, data: Bytes) -> BoxFuture<'_, Result<BlobRef>>;
    /// The bytes `r` names, already checked with [`verify`] against `r` (a layer is not trusted).
    fn get<'a>(&'a self, r: &'a BlobRef) -> BoxFuture<'a, Result<Bytes>>;
    /// [`get`](Self::get), knowing the block that recorded the reference on chain (an EIP-4844 blob is found
    /// by it); the other layers ignore it.
    fn get_at<'a>(&'a self, r: &'a BlobRef, block: Option<u64>) -> BoxFuture<'a, Result<Bytes>> {
        let _ = block;
        self.get(r)
    }
}

/// sha256 of `data`.
pub fn sha256(data: &[u8]) -> B256 {
    B256::from(<[u8; 32]>::from(sha2::Sha256::digest(data)))
}

/// The locator of a local blob.
pub fn local_locator(sha256: &B256) -> String {
    format!("accord:sha256:{}", alloy::hex::encode(sha256))
}

/// Checks that `data` is what `r` commits to: its size, then its sha256 (local), its Celestia share
/// commitment in the namespace of the locator, or the versioned hash of its canonical blob's KZG commitment
/// (EIP-4844). Never trusts where the bytes came from.
pub fn verify(r: &BlobRef, data: &[u8]) -> Result<(), Error> {
    if data.len() as u64 != r.size {
        return Err(Error::Mismatch(format!(
            "size is {} bytes, the reference says {}",
            data.len(),
            r.size
        )));
    }
    let computed = match r.kind {
        KIND_LOCAL => sha256(data),
        KIND_CELESTIA => {
            let locator = CelestiaLocator::parse(&r.locator)?;
            share_commitment(&locator.namespace, data)?
        }
        KIND_EIP4844 => eip4844::commitment(data).map_err(|e| match e {
            Error::Unfit(m) => Error::Mismatch(m),
            other => other,
        })?,
        other => return Err(Error::InvalidRef(format!("unknown DA kind {other}"))),
    };
    if computed != r.commitment {
        return Err(Error::Mismatch(format!(
            "bytes commit to {computed}, the reference says {}",
            r.commitment
        )));
    }
    Ok(())
}

/// The router of `config`: its primary and optional secondary layer over the archive in `pool`.
pub fn from_config(config: &DaConfig, pool: sqlx::PgPool) -> Result<DaRouter, Error> {
    let layer = |backend: DaBackend| -> Result<Arc<dyn DaLayer>, Error> {
        Ok(match backend {
            DaBackend::Local => Arc::new(LocalStore::new(pool.clone())),
            DaBackend::Celestia => Arc::new(CelestiaLayer::from_config(&config.celestia)?),
            DaBackend::Eip4844 => Arc::new(Eip4844Layer::new(config.eip4844.clone())),
        })
    };
    let primary = layer(config.primary)?;
    let secondary = config.secondary.map(layer).transpose()?;
    Ok(DaRouter::new(primary, secondary, pool))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_checks_size_and_commitment_of_both_kinds() {
        let data = b"hello, accord".to_vec();
        let sha = sha256(&data);
        let local = BlobRef {
            kind: KIND_LOCAL,
            commitment: sha,
            size: data.len() as u64,
            locator: local_locator(&sha),
        };
        verify(&local, &data).unwrap();
        let mut flipped = data.clone();
        flipped[0] ^= 1;
        assert!(matches!(verify(&local, &flipped), Err(Error::Mismatch(_))));
        let short = BlobRef {
            size: 3,
            ..local.clone()
        };
        assert!(
            verify(&short, &data)
                .unwrap_err()
                .to_string()
                .contains("size")
        );

        let ns = parse_namespace("6163636f7264").unwrap();
        let celestia = BlobRef {
            kind: KIND_CELESTIA,
            commitment: share_commitment(&ns, &data).unwrap(),
            size: data.len() as u64,
            locator: CelestiaLocator {
                height: 7,
                namespace: ns,
            }
            .to_string(),
        };
        verify(&celestia, &data).unwrap();
        assert!(matches!(
            verify(&celestia, &flipped),
            Err(Error::Mismatch(_))
        ));
        // Another namespace commits differently.
        let other = CelestiaLocator {
            height: 7,
            namespace: parse_namespace("6f74686572").unwrap(),
        };
        let moved = BlobRef {
            locator: other.to_string(),
            ..celestia.clone()
        };
        assert!(matches!(verify(&moved, &data), Err(Error::Mismatch(_))));
        let bad = BlobRef { kind: 9, ..local };
        assert!(matches!(verify(&bad, &data), Err(Error::InvalidRef(_))));
    }

    #[test]
    fn blob_refs_serialize_commitments_as_hex() {
        let r = BlobRef {
            kind: KIND_LOCAL,
            commitment: B256::repeat_byte(0xab),
            size: 2,
            locator: "accord:sha256:ab".into(),
        };
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["commitment"], format!("0x{}", "ab".repeat(32)));
        assert_eq!(serde_json::from_value::<BlobRef>(json).unwrap(), r);
    }
}
