//! What the coordinator asks of a chain besides its events: the chain's clock, a price for transactions read
//! ahead of sending, batch assignments with the outcome of each entry, and the housekeeping calls (expire,
//! refund, finalize). A chain family implements [`CoordinatorChain`] (EVM: [`super::evm::EvmCoordinator`]); the
//! scheduler speaks only the protocol's language ([`JobId`], [`Address`]) and knows nothing else of the chain.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;

use crate::domain::{Address, Family, JobId};

/// A step of a send, as the scheduler times it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendStep {
    /// The signed transaction is being handed to the node: the scheduler's decision ends here.
    Broadcasting,
    /// The node accepted the transaction with this id; the wait for its inclusion starts.
    Accepted(String),
}

/// A housekeeping call on one job, each permissionless on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chore {
    /// An overdue assignment expired (the worker slashed, the job reopened or refunded), a lapsed open job
    /// refunded, or a dispute the arbiter left past its period settled: the job manager's `expire`.
    Expire,
    /// A result whose challenge window closed, paid out: the job manager's `finalize`.
    Finalize,
}

impl Chore {
    /// The chore of an intent's kind (`expire`, `refund` or `finalize`).
    pub fn of_kind(kind: &str) -> Self {
        match kind {
            "finalize" => Chore::Finalize,
            _ => Chore::Expire,
        }
    }
}

/// Where a transaction landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Included {
    /// The transaction's id in its family's text form (a 0x hash on EVM).
    pub tx: String,
    /// The block it is in, when the node says.
    pub block: Option<u64>,
}

/// What one batch assignment did, entry by entry, as its receipt says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// The transaction.
    pub included: Included,
    /// The entries assigned (a job with its worker: a redundant job takes several in one batch).
    pub assigned: HashSet<(JobId, Address)>,
    /// The entries the contract skipped, with its reason in words.
    pub skipped: HashMap<(JobId, Address), String>,
}

/// Why a transaction was not sent or did not succeed. The message never contains a key or an RPC URL's secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// What went wrong.
    pub message: String,
    /// Whether the transaction may still be included (it was sent and not yet seen in a block).
    pub may_still_land: bool,
}

/// The coordinator's writes and the chain reads its scheduler needs, for one deployment on one chain.
pub trait CoordinatorChain: Send + Sync + 'static {
    /// A price for a transaction, read ahead of sending it so the send saves a round trip (EIP-1559 fees on
    /// EVM).
    type Price: Copy + Send + Sync + fmt::Debug + 'static;

    /// The chain family, for the addresses the scheduler reads from the index.
    fn family(&self) -> Family;

    /// The account the coordinator sends from.
    fn account(&self) -> Address;

    /// The latest block's timestamp (unix seconds): the contracts' clock.
    fn clock(&self) -> impl Future<Output = anyhow::Result<u64>> + Send;

    /// The node's current price for a transaction, or `None` when it cannot be read (the send reads it then).
    fn price(&self) -> impl Future<Output = Option<Self::Price>> + Send;

    /// Assigns each job to its worker in one transaction and waits for it to be included; `observe` hears each
    /// [`SendStep`]. An entry the contract skips does not fail the batch: it is in [`BatchOutcome::skipped`].
    fn assign_batch(
        &self,
        entries: &[(JobId, Address)],
        price: Option<Self::Price>,
        observe: impl FnMut(SendStep) + Send,
    ) -> impl Future<Output = Result<BatchOutcome, SendError>> + Send;

    /// Sends one housekeeping call and waits for it to be included.
    fn settle(
        &self,
        chore: Chore,
        job: JobId,
    ) -> impl Future<Output = Result<Included, SendError>> + Send;
}
