//! Contract event indexer: backfill from the deploy block in adaptive ranges, then follow the head; reorg
//! detection through block hashes with rollback by stream replay; each batch and the cursor commit in one
//! transaction, so a crash at any point loses nothing and applies nothing twice.

mod config;
pub mod range;
pub mod reorg;
mod run;

use serde::Serialize;

pub use config::IndexerConfig;
pub use run::{Cursor, Indexer, stored_state};

/// Errors that stop the indexer (after retries where retrying made sense).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The chain failed (after retries) or answered impossibly.
    #[error(transparent)]
    Chain(#[from] crate::chain::Error),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// The chain reorganized while a range was being read; the range is read again.
    #[error("chain moved: {0}")]
    ChainMoved(String),
    /// A reorg reached below every block hash kept: the index cannot be repaired in place.
    #[error(
        "reorg deeper than the reorg window ({window} blocks): no stored block hash from {lowest} up is canonical any more; \
         indexing halted to avoid serving inconsistent data. Repair with `accord rebuild --replace`; a larger \
         indexer.reorg_window prevents it next time"
    )]
    DeepReorg {
        /// The configured window.
        window: u64,
        /// Lowest stored block.
        lowest: u64,
    },
    /// Another indexer already writes this index.
    #[error("another indexer is already writing the index of chain {0} in this database schema")]
    AlreadyIndexing(u64),
    /// Shutdown was requested.
    #[error("cancelled")]
    Cancelled,
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Store(e.into())
    }
}

impl Error {
    /// Whether the step may succeed when retried.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Chain(e) => e.is_retryable(),
            Error::Store(e) => e.is_retryable(),
            Error::ChainMoved(_) => true,
            _ => false,
        }
    }
}

/// `pub type Result<T, E = Error>` for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the indexer reports to the API (`/v1/status`, `/v1/ready`), published through a `watch` channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Chain being indexed.
    pub chain_id: u64,
    /// Latest head seen on the chain.
    pub head: u64,
    /// The governor's clock at that head ([`crate::chain::Chain::governor_clock`]); `None` until read (and on
    /// a read replica, which has no chain connection).
    #[serde(skip)]
    pub governor_clock: Option<u64>,
    /// Last block whose events are all applied.
    pub indexed: u64,
    /// Blocks behind the head before an event counts as final.
    pub confirmations: u64,
    /// Whether the backfill has caught up with the head (ready to serve).
    pub caught_up: bool,
    /// Set when indexing halted (for example on a reorg deeper than the window).
    pub halted: Option<Halt>,
    /// When `indexed` last advanced (the scheduler measures its decision latency from here).
    #[serde(skip)]
    pub indexed_at: Option<std::time::Instant>,
}

/// Why indexing stopped while the process keeps serving what it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Halt {
    /// `deep_reorg` (a reorg below every block hash kept), or `failed` (an error retries did not cure).
    pub kind: String,
    /// What happened and what the operator can do, in words.
    pub reason: String,
    /// For `deep_reorg`: the lowest indexed block that is no longer canonical; the chain forked at or below it.
    pub fork_block: Option<u64>,
    /// Unix seconds when indexing halted.
    pub since: u64,
}

impl Halt {
    /// The halt `error` causes.
    pub fn of(error: &Error) -> Self {
        let (kind, fork_block) = match error {
            Error::DeepReorg { lowest, .. } => ("deep_reorg", Some(*lowest)),
            _ => ("failed", None),
        };
        Self {
            kind: kind.into(),
            reason: error.to_string(),
            fork_block,
            since: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }
}

impl std::fmt::Display for Halt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}
