//! The scheduler's errors: a failed query, a chain that cannot be read, or a value in the index the scheduler
//! cannot use.

/// Why a scheduling step failed. A failed round is reported (`/v1/status` → `scheduler.last_error`) and the next
/// round runs as usual.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A query failed.
    #[error("database query failed: {0}")]
    Store(#[from] sqlx::Error),
    /// The chain could not be read (its clock).
    #[error("cannot read the chain: {0}")]
    Chain(String),
    /// The index holds a value the scheduler cannot use (a bug or a manual edit).
    #[error("the index holds an invalid {0}")]
    Index(String),
}

impl Error {
    /// A chain read's failure, with its causes.
    pub(super) fn chain(e: impl std::fmt::Display) -> Self {
        Error::Chain(format!("{e:#}"))
    }
}

/// `pub type Result<T, E = Error>` for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;
