//! The embedded DA layer: content-addressed bytes in PostgreSQL. Its storage is the archive table itself
//! (`da_archive`, keyed by sha256), so a blob on this layer is stored once, and the commitment is the sha256.

use sqlx::PgPool;

use crate::store;

use super::{BlobRef, BoxFuture, Bytes, DaLayer, Error, KIND_LOCAL, Result, local_locator, sha256};

/// The layer's name in logs and `/v1/status`.
const NAME: &str = "local";

/// Content-addressed blobs in the coordinator's PostgreSQL.
#[derive(Debug, Clone)]
pub struct LocalStore {
    pool: PgPool,
}

impl LocalStore {
    /// The store over `pool` (migrated: `migrations/0003_da.sql`).
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    async fn store(&self, data: Bytes) -> Result<BlobRef> {
        let sha = sha256(&data);
        store_archive(&mut *self.pool.acquire().await?, &sha, &data).await?;
        Ok(BlobRef {
            kind: KIND_LOCAL,
            commitment: sha,
            size: data.len() as u64,
            locator: local_locator(&sha),
        })
    }

    async fn load(&self, r: &BlobRef) -> Result<Bytes> {
        if r.kind != KIND_LOCAL {
            return Err(Error::InvalidRef(format!(
                "kind {} is not the local store's ({KIND_LOCAL})",
                r.kind
            )));
        }
        let data = store::da::archived(&self.pool, &r.commitment.to_string()).await?;
        let data = Bytes::from(data.ok_or_else(|| {
            Error::NotFound(format!("the local store has no blob {}", r.commitment))
        })?);
        super::verify(r, &data)?;
        Ok(data)
    }
}

/// Inserts `data` into the archive unless its sha256 is already there (the bytes cross the wire only when
/// new). Content-addressed, so a concurrent insert of the same bytes is harmless.
pub(super) async fn store_archive(
    conn: &mut sqlx::PgConnection,
    sha: &alloy::primitives::B256,
    data: &[u8],
) -> Result<()> {
    store::da::archive(conn, &sha.to_string(), data).await?;
    Ok(())
}

impl DaLayer for LocalStore {
    fn name(&self) -> &str {
        NAME
    }

    fn kind(&self) -> u8 {
        KIND_LOCAL
    }

    fn put(&self, data: Bytes) -> BoxFuture<'_, Result<BlobRef>> {
        Box::pin(self.store(data))
    }

    fn get<'a>(&'a self, r: &'a BlobRef) -> BoxFuture<'a, Result<Bytes>> {
        Box::pin(self.load(r))
    }
}
