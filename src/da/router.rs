//! The fallback router: put through the primary layer, fall back to the secondary, archive every blob, and
//! reconcile what the primary missed.
//!
//! ```text
//!  put ─► primary ─ok─► archive + ref ─────────────────────────────► primary's BlobRef
//!            └─fail─► secondary ─ok─► archive + ref + da_pending ─► secondary's BlobRef
//!                         └─fail─► Error::Unavailable (nothing stored)
//!  reconcile ─► for each da_pending row (oldest first, row-locked): archive bytes ─► primary
//!                  ─ok─► ref, row deleted;  ─fail─► attempts + 1, last error kept
//! ```

use std::sync::Arc;

use alloy::primitives::B256;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use super::local::store_archive;
use super::{BlobRef, BoxFuture, Bytes, DaLayer, Error, KIND_LOCAL, Result, sha256, verify};
use crate::store;

/// The router's state, as `/v1/status` and `accord da status` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RouterState {
    /// The primary layer's name (`local`, `celestia`).
    pub primary: String,
    /// The secondary layer's name, when one is configured.
    pub secondary: Option<String>,
    /// Blobs on the secondary only, waiting for `reconcile`.
    pub pending: u64,
    /// Unix time the oldest of them was put, if any.
    pub oldest_pending: Option<i64>,
}

pub use crate::store::da::PendingBlob;

/// What `reconcile` did with one pending blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReconcileOutcome {
    /// Now on the primary; the pending row is gone.
    Published {
        /// sha256 of the bytes.
        sha256: String,
        /// The primary's reference.
        blob: BlobRef,
    },
    /// The primary failed again; the row stays with one more attempt and this error.
    StillPending {
        /// sha256 of the bytes.
        sha256: String,
        /// Attempts so far, this one included.
        attempts: i32,
        /// The primary's error.
        error: String,
    },
    /// Another process was reconciling it, or it was gone; left alone.
    Skipped {
        /// sha256 of the bytes.
        sha256: String,
    },
}

/// The sum of one `reconcile` run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileReport {
    /// Put on the primary and cleared.
    pub published: u64,
    /// Still pending after this run.
    pub still_pending: u64,
    /// Left to another process.
    pub skipped: u64,
    /// Each blob in order.
    pub blobs: Vec<ReconcileOutcome>,
}

/// Where served bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The coordinator's archive.
    Archive,
    /// The DA layer of the reference's kind.
    Layer,
}

/// Bytes checked against their reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The bytes.
    pub data: Bytes,
    /// Where they came from.
    pub source: Source,
}

/// Primary, optional secondary, and the archive and reconciliation tables in PostgreSQL.
pub struct DaRouter {
    primary: Arc<dyn DaLayer>,
    secondary: Option<Arc<dyn DaLayer>>,
    pool: PgPool,
}

impl std::fmt::Debug for DaRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DaRouter")
            .field("primary", &self.primary.name())
            .field("secondary", &self.secondary.as_ref().map(|s| s.name()))
            .finish()
    }
}

impl DaRouter {
    /// A router over `pool` (migrated).
    pub fn new(
        primary: Arc<dyn DaLayer>,
        secondary: Option<Arc<dyn DaLayer>>,
        pool: PgPool,
    ) -> Self {
        Self {
            primary,
            secondary,
            pool,
        }
    }

    /// The primary layer.
    pub fn primary(&self) -> &dyn DaLayer {
        self.primary.as_ref()
    }

    /// The secondary layer, if any.
    pub fn secondary(&self) -> Option<&dyn DaLayer> {
        self.secondary.as_deref()
    }

    /// The layer serving references of `kind`: the primary's kind first.
    pub fn layer(&self, kind: u8) -> Option<&dyn DaLayer> {
        std::iter::once(self.primary.as_ref())
            .chain(self.secondary.as_deref())
            .find(|l| l.kind() == kind)
    }

    /// Puts `data` through the primary, else the secondary (recording it for [`reconcile`](Self::reconcile)),
    /// and archives it. Bytes already published on the primary are not put again: their reference comes back.
    pub async fn put(&self, data: Bytes) -> Result<BlobRef> {
        let sha = sha256(&data);
        if let Some(existing) = self.known_ref(&sha, self.primary.kind()).await? {
            return Ok(existing);
        }
        let primary_error = match self.primary.put(data.clone()).await {
            Ok(r) => {
                self.archive(&sha, &data, &r, None).await?;
                return Ok(r);
            }
            Err(e) => e,
        };
        let Some(secondary) = &self.secondary else {
            return Err(primary_error);
        };
        tracing::warn!(
            target: "accord::da",
            primary = self.primary.name(),
            secondary = secondary.name(),
            sha256 = %sha,
            error = %primary_error,
            "primary DA layer failed; putting the blob on the secondary"
        );
        // Bytes the primary can never take (too large for one EIP-4844 blob) stay on the secondary: nothing to
        // reconcile.
        let pending =
            (!matches!(primary_error, Error::Unfit(_))).then(|| primary_error.to_string());
        match secondary.put(data.clone()).await {
            Ok(r) => {
                self.archive(&sha, &data, &r, pending.as_deref()).await?;
                Ok(r)
            }
            Err(secondary_error) => Err(Error::Unavailable {
                layer: format!("{} and {}", self.primary.name(), secondary.name()),
                message: format!("primary: {primary_error}; secondary: {secondary_error}"),
            }),
        }
    }

    /// A reference of `kind` already recorded for the bytes with this sha256.
    async fn known_ref(&self, sha: &B256, kind: u8) -> Result<Option<BlobRef>> {
        let row = store::da::latest_ref(&self.pool, &sha.to_string(), i16::from(kind)).await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let Ok(commitment) = row.commitment.parse::<B256>() else {
            return Ok(None);
        };
        Ok(Some(BlobRef {
            kind,
            commitment,
            size: row.size as u64,
            locator: row.locator,
        }))
    }

    /// Archives the bytes and their reference in one transaction; with `pending`, records that the primary
    /// failed with that error (the reference is then the secondary's).
    async fn archive(
        &self,
        sha: &B256,
        data: &[u8],
        r: &BlobRef,
        pending: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        store_archive(&mut tx, sha, data).await?;
        insert_ref(&mut tx, sha, r).await?;
        match pending {
            Some(error) => {
                store::da::mark_pending(
                    &mut tx,
                    &sha.to_string(),
                    self.primary.name(),
                    i16::from(r.kind),
                    &stored_ref(r),
                    error,
                )
                .await?;
            }
            None if r.kind == self.primary.kind() => {
                store::da::clear_pending(&mut tx, &sha.to_string()).await?;
            }
            None => {}
        }
        tx.commit().await?;
        Ok(())
    }

    /// The bytes `r` names, checked against it: the archived copy when it verifies, else the layer of
    /// `r.kind` (`block`, the block that recorded `r` on chain, locates an EIP-4844 blob). A corrupt archive copy
    /// is logged and skipped; bytes that never verify are [`Error::Mismatch`] and are not returned.
    pub async fn fetch_verified(&self, r: &BlobRef, block: Option<u64>) -> Result<Fetched> {
        let mut archive_mismatch = None;
        if let Some(data) = self.archived_for(r).await? {
            let checked = {
                let (r, data) = (r.clone(), data.clone());
                // KZG work for EIP-4844 (tens of milliseconds) stays off the async workers.
                tokio::task::spawn_blocking(move || verify(&r, &data))
                    .await
                    .map_err(|e| Error::Mismatch(format!("the check failed: {e}")))?
            };
            match checked {
                Ok(()) => {
                    return Ok(Fetched {
                        data,
                        source: Source::Archive,
                    });
                }
                Err(e) => {
                    tracing::error!(
                        target: "accord::da",
                        commitment = %r.commitment,
                        error = %e,
                        "archived bytes do not match their commitment; trying the DA layer"
                    );
                    archive_mismatch = Some(e);
                }
            }
        }
        let layer = self.layer(r.kind).ok_or(Error::NoLayer(r.kind));
        let fetched = match layer {
            Ok(layer) => layer.get_at(r, block).await,
            Err(e) => Err(e),
        };
        match (fetched, archive_mismatch) {
            (Ok(data), _) => Ok(Fetched {
                data,
                source: Source::Layer,
            }),
            (Err(e @ Error::Mismatch(_)), _) => Err(e),
            (Err(e), Some(mismatch)) => Err(Error::Mismatch(format!(
                "archived bytes: {mismatch}; DA layer: {e}"
            ))),
            (Err(e), None) => Err(e),
        }
    }

    /// The archived bytes whose reference is `r` (by kind and commitment; a local commitment is the sha256).
    pub(super) async fn archived_for(&self, r: &BlobRef) -> Result<Option<Bytes>> {
        let data = store::da::archived_for(
            &self.pool,
            i16::from(r.kind),
            &r.commitment.to_string(),
            i16::from(KIND_LOCAL),
        )
        .await?;
        Ok(data.map(Bytes::from))
    }

    /// The archived bytes with this sha256.
    pub async fn archived(&self, sha: &B256) -> Result<Option<Bytes>> {
        let data = store::da::archived(&self.pool, &sha.to_string()).await?;
        Ok(data.map(Bytes::from))
    }

    /// Primary, secondary, and the pending count and age.
    pub async fn state(&self) -> Result<RouterState> {
        let pending = store::da::pending_summary(&self.pool).await?;
        Ok(RouterState {
            primary: self.primary.name().to_string(),
            secondary: self.secondary.as_ref().map(|s| s.name().to_string()),
            pending: pending.count as u64,
            oldest_pending: pending.oldest,
        })
    }

    /// The pending blobs, oldest first.
    pub async fn pending(&self) -> Result<Vec<PendingBlob>> {
        Ok(store::da::pending(&self.pool).await?)
    }

    /// Retries every pending blob on the primary, from the archive, oldest first; `progress` sees each outcome
    /// as it happens. A blob another process is reconciling (row locked) is skipped.
    pub async fn reconcile(
        &self,
        mut progress: impl FnMut(&ReconcileOutcome) + Send,
    ) -> Result<ReconcileReport> {
        let mut report = ReconcileReport::default();
        for blob in self.pending().await? {
            let outcome = self.reconcile_one(&blob.sha256).await?;
            match &outcome {
                ReconcileOutcome::Published { .. } => report.published += 1,
                ReconcileOutcome::StillPending { .. } => report.still_pending += 1,
                ReconcileOutcome::Skipped { .. } => report.skipped += 1,
            }
            progress(&outcome);
            report.blobs.push(outcome);
        }
        Ok(report)
    }

    async fn reconcile_one(&self, sha: &str) -> Result<ReconcileOutcome> {
        let mut tx = self.pool.begin().await?;
        let row = store::da::lock_pending(&mut tx, sha).await?;
        let Some(store::da::Locked { attempts, data }) = row else {
            return Ok(ReconcileOutcome::Skipped {
                sha256: sha.to_string(),
            });
        };
        let key: B256 = sha
            .parse()
            .map_err(|_| Error::InvalidRef(format!("pending row has a malformed sha256 {sha}")))?;
        let data = Bytes::from(data);
        match self.primary.put(data).await {
            Ok(blob) => {
                insert_ref(&mut tx, &key, &blob).await?;
                store::da::clear_pending(&mut tx, sha).await?;
                tx.commit().await?;
                tracing::info!(target: "accord::da", sha256 = sha, locator = %blob.locator, "pending blob put on the primary");
                Ok(ReconcileOutcome::Published {
                    sha256: sha.to_string(),
                    blob,
                })
            }
            Err(e) => {
                let error = e.to_string();
                store::da::record_attempt(&mut tx, sha, &error).await?;
                tx.commit().await?;
                Ok(ReconcileOutcome::StillPending {
                    sha256: sha.to_string(),
                    attempts: attempts + 1,
                    error,
                })
            }
        }
    }
}

async fn insert_ref(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    sha: &B256,
    r: &BlobRef,
) -> Result<()> {
    store::da::insert_ref(tx, &sha.to_string(), i16::from(r.kind), &stored_ref(r)).await?;
    Ok(())
}

/// `r` as the DA tables store it.
fn stored_ref(r: &BlobRef) -> store::da::Ref {
    store::da::Ref {
        commitment: r.commitment.to_string(),
        locator: r.locator.clone(),
        size: r.size as i64,
    }
}

impl DaLayer for DaRouter {
    fn name(&self) -> &str {
        "router"
    }

    fn kind(&self) -> u8 {
        self.primary.kind()
    }

    fn put(&self, data: Bytes) -> BoxFuture<'_, Result<BlobRef>> {
        Box::pin(DaRouter::put(self, data))
    }

    fn get<'a>(&'a self, r: &'a BlobRef) -> BoxFuture<'a, Result<Bytes>> {
        Box::pin(async move { self.fetch_verified(r, None).await.map(|f| f.data) })
    }

    fn get_at<'a>(&'a self, r: &'a BlobRef, block: Option<u64>) -> BoxFuture<'a, Result<Bytes>> {
        Box::pin(async move { self.fetch_verified(r, block).await.map(|f| f.data) })
    }
}
