//! Off-chain messages a worker signs with its wallet, never API keys: liveness heartbeats and blob uploads.
//! Each chain family signs them in its own typed-data scheme, bound to one chain and one deployment, so a message
//! signed for a devnet is worthless anywhere else: EIP-712 on EVM chains ([`crate::chain::evm::offchain`]); on
//! Starknet, SNIP-12 typed data that the worker's account contract verifies.
//!
//! This module holds the messages in the protocol's terms, the rule for their timestamps, and the [`Verifier`]
//! trait the API checks signatures through.

use std::future::Future;
use std::pin::Pin;

use alloy::primitives::B256;

use crate::domain::Address;

/// "I am alive and take up to `capacity` concurrent jobs", signed by `worker` at unix second `timestamp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// The signing worker.
    pub worker: Address,
    /// Concurrent jobs it takes.
    pub capacity: u32,
    /// When it signed (unix seconds).
    pub timestamp: u64,
}

/// "I upload `size` bytes whose sha256 is `sha256`", signed by `worker` at unix second `timestamp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobUpload {
    /// The signing worker.
    pub worker: Address,
    /// The bytes' sha256.
    pub sha256: B256,
    /// Their length.
    pub size: u64,
    /// When it signed (unix seconds).
    pub timestamp: u64,
}

/// A signed off-chain message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// A liveness heartbeat.
    Heartbeat(&'a Heartbeat),
    /// A blob upload.
    BlobUpload(&'a BlobUpload),
}

impl Message<'_> {
    /// The worker the message says signed it.
    pub fn worker(&self) -> &Address {
        match self {
            Message::Heartbeat(m) => &m.worker,
            Message::BlobUpload(m) => &m.worker,
        }
    }

    /// When it was signed (unix seconds).
    pub fn timestamp(&self) -> u64 {
        match self {
            Message::Heartbeat(m) => m.timestamp,
            Message::BlobUpload(m) => m.timestamp,
        }
    }
}

/// Why a signed message is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The signature bytes are not a signature of the family's scheme.
    #[error("signature is malformed: {0}")]
    Malformed(String),
    /// The signature is valid but by someone else.
    #[error("signature is by {recovered}, not by {claimed}")]
    WrongSigner {
        /// The address the message names (boxed, as the other: addresses are held inline).
        claimed: Box<Address>,
        /// The address that signed.
        recovered: Box<Address>,
    },
    /// The worker's account contract refused the signature (Starknet: `is_valid_signature` did not answer
    /// `VALID`, failed, or took too long).
    #[error("the account contract of {worker} refused the signature: {reason}")]
    Refused {
        /// The worker.
        worker: Address,
        /// Why.
        reason: String,
    },
    /// The timestamp is too old.
    #[error("timestamp {timestamp} is more than {max_age_secs} s before now ({now})")]
    Stale {
        /// The message's time.
        timestamp: u64,
        /// The verifier's time.
        now: u64,
        /// The allowed age.
        max_age_secs: u64,
    },
    /// The timestamp is ahead of the verifier's clock by more than [`MAX_AHEAD_SECS`]: a message signed for the
    /// future would stay valid (a heartbeat alive) longer than its age limit says.
    #[error("timestamp {timestamp} is more than {MAX_AHEAD_SECS} s ahead of now ({now})")]
    Future {
        /// The message's time.
        timestamp: u64,
        /// The verifier's time.
        now: u64,
    },
}

/// What a [`Verifier`] answers, later (a Starknet verifier asks the worker's account contract).
pub type Verdict<'a> = Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;

/// Checks off-chain signatures for one deployment, in its chain family's scheme.
pub trait Verifier: Send + Sync {
    /// Whether `signature` is the message's worker's over `message` for this deployment (the signature only:
    /// the timestamp rule is [`check_time`]).
    fn verify<'a>(&'a self, message: Message<'a>, signature: &'a [u8]) -> Verdict<'a>;
}

/// Checks the signature of `message` with `verifier`, then that its timestamp is within `max_age_secs` of `now`
/// (unix seconds) by [`check_time`].
pub async fn verify(
    verifier: &dyn Verifier,
    message: Message<'_>,
    signature: &[u8],
    now: u64,
    max_age_secs: u64,
) -> Result<(), Error> {
    verifier.verify(message, signature).await?;
    check_time(message.timestamp(), now, max_age_secs)
}

/// How far ahead of the verifier's clock a signed timestamp may be (clock drift between hosts).
pub const MAX_AHEAD_SECS: u64 = 5;

/// A signed timestamp is at most `max_age_secs` old and at most [`MAX_AHEAD_SECS`] ahead of `now`.
pub fn check_time(timestamp: u64, now: u64, max_age_secs: u64) -> Result<(), Error> {
    if timestamp > now.saturating_add(MAX_AHEAD_SECS) {
        return Err(Error::Future { timestamp, now });
    }
    if now.saturating_sub(timestamp) > max_age_secs {
        return Err(Error::Stale {
            timestamp,
            now,
            max_age_secs,
        });
    }
    Ok(())
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
