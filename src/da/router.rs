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

/// A blob waiting to be put on the primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct PendingBlob {
    /// sha256 of the bytes (0x-hex).
    pub sha256: String,
    /// Its size in bytes.
    pub size: i64,
    /// The layer that failed.
    pub primary_layer: String,
    /// The secondary's locator handed out instead.
    pub secondary_locator: String,
    /// Reconcile attempts so far.
    pub attempts: i32,
    /// The primary's last error.
    pub last_error: String,
    /// Unix time it was put.
    pub created_at: i64,
}

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
        match secondary.put(data.clone()).await {
            Ok(r) => {
                self.archive(&sha, &data, &r, Some(&primary_error.to_string()))
                    .await?;
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
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT commitment, locator, size FROM da_refs WHERE sha256 = $1 AND kind = $2 \
             ORDER BY created_at DESC LIMIT 1",
        )
        .bind(sha.to_string())
        .bind(i16::from(kind))
        .fetch_optional(&self.pool)
        .await?;
        let Some((commitment, locator, size)) = row else {
            return Ok(None);
        };
        let Ok(commitment) = commitment.parse::<B256>() else {
            return Ok(None);
        };
        Ok(Some(BlobRef {
            kind,
            commitment,
            size: size as u64,
            locator,
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
                sqlx::query(
                    "INSERT INTO da_pending (sha256, primary_layer, secondary_kind, secondary_commitment, \
                     secondary_locator, last_error) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (sha256) DO UPDATE SET last_error = EXCLUDED.last_error",
                )
                .bind(sha.to_string())
                .bind(self.primary.name())
                .bind(i16::from(r.kind))
                .bind(r.commitment.to_string())
                .bind(&r.locator)
                .bind(error)
                .execute(&mut *tx)
                .await?;
            }
            None if r.kind == self.primary.kind() => {
                sqlx::query("DELETE FROM da_pending WHERE sha256 = $1")
                    .bind(sha.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            None => {}
        }
        tx.commit().await?;
        Ok(())
    }

    /// The bytes `r` names, checked against it: the archived copy when it verifies, else the layer of
    /// `r.kind`. A corrupt archive copy is logged and skipped; bytes that never verify are
    /// [`Error::Mismatch`] and are not returned.
    pub async fn fetch_verified(&self, r: &BlobRef) -> Result<Fetched> {
        let mut archive_mismatch = None;
        if let Some(data) = self.archived_for(r).await? {
            match verify(r, &data) {
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
            Ok(layer) => layer.get(r).await,
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
    async fn archived_for(&self, r: &BlobRef) -> Result<Option<Bytes>> {
        let data: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT a.data FROM da_archive a WHERE a.sha256 = ( \
                 SELECT sha256 FROM da_refs WHERE kind = $1 AND commitment = $2 \
                 UNION ALL SELECT $2 WHERE $1 = $3 LIMIT 1)",
        )
        .bind(i16::from(r.kind))
        .bind(r.commitment.to_string())
        .bind(i16::from(KIND_LOCAL))
        .fetch_optional(&self.pool)
        .await?;
        Ok(data.map(Bytes::from))
    }

    /// The archived bytes with this sha256.
    pub async fn archived(&self, sha: &B256) -> Result<Option<Bytes>> {
        let data: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT data FROM da_archive WHERE sha256 = $1")
                .bind(sha.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(data.map(Bytes::from))
    }

    /// Primary, secondary, and the pending count and age.
    pub async fn state(&self) -> Result<RouterState> {
        let (pending, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT count(*), extract(epoch FROM min(created_at))::bigint FROM da_pending",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(RouterState {
            primary: self.primary.name().to_string(),
            secondary: self.secondary.as_ref().map(|s| s.name().to_string()),
            pending: pending as u64,
            oldest_pending: oldest,
        })
    }

    /// The pending blobs, oldest first.
    pub async fn pending(&self) -> Result<Vec<PendingBlob>> {
        Ok(sqlx::query_as(
            "SELECT p.sha256, a.size, p.primary_layer, p.secondary_locator, p.attempts, p.last_error, \
             extract(epoch FROM p.created_at)::bigint AS created_at \
             FROM da_pending p JOIN da_archive a USING (sha256) ORDER BY p.created_at, p.sha256",
        )
        .fetch_all(&self.pool)
        .await?)
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
        let row: Option<(i32, Vec<u8>)> = sqlx::query_as(
            "SELECT p.attempts, a.data FROM da_pending p JOIN da_archive a USING (sha256) \
             WHERE p.sha256 = $1 FOR UPDATE OF p SKIP LOCKED",
        )
        .bind(sha)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((attempts, data)) = row else {
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
                sqlx::query("DELETE FROM da_pending WHERE sha256 = $1")
                    .bind(sha)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                tracing::info!(target: "accord::da", sha256 = sha, locator = %blob.locator, "pending blob put on the primary");
                Ok(ReconcileOutcome::Published {
                    sha256: sha.to_string(),
                    blob,
                })
            }
            Err(e) => {
                let error = e.to_string();
                sqlx::query(
                    "UPDATE da_pending SET attempts = attempts + 1, last_error = $2, last_attempt_at = now() \
                     WHERE sha256 = $1",
                )
                .bind(sha)
                .bind(&error)
                .execute(&mut *tx)
                .await?;
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
    sqlx::query(
        "INSERT INTO da_refs (kind, commitment, locator, sha256, size) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
    )
    .bind(i16::from(r.kind))
    .bind(r.commitment.to_string())
    .bind(&r.locator)
    .bind(sha.to_string())
    .bind(r.size as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
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
        Box::pin(async move { self.fetch_verified(r).await.map(|f| f.data) })
    }
}
