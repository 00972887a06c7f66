//! What a person's account does on a chain, in the protocol's terms: a client posts and settles jobs, a worker
//! registers, stakes, submits results and declines, a token holder delegates, proposes, votes, queues and
//! executes; every account signs off-chain messages (heartbeats, uploads). The CLI, the worker agent, the blob
//! client and the devnet demo hold an `Arc<dyn Wallet>` (or one of its parts) and know nothing of the chain
//! family behind it; each family implements the traits (EVM: [`super::evm::EvmAccount`]).
//!
//! These calls are not on a hot path, so the traits return boxed futures ([`Pending`]) and stay usable as trait
//! objects, picked at run time from the deployment's family.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use alloy::primitives::B256;

pub use super::actions::Included;
use crate::domain::BlobRef;
use crate::domain::{Address, Amount, ChainId, Family, JobId, ProposalId};
use crate::offchain::Message;
use crate::spec::JobSpec;

/// A call to the chain under way.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = anyhow::Result<T>> + Send + 'a>>;

/// A job's status number on chain (`JobStatus` of the job manager): assigned.
pub const STATUS_ASSIGNED: u8 = 2;

/// A job as the chain holds it now, as far as its worker needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOnChain {
    /// The assigned worker (the family's zero address when none).
    pub worker: Address,
    /// The status number (see [`STATUS_ASSIGNED`]).
    pub status: u8,
}

impl JobOnChain {
    /// Whether the job is assigned to `worker` right now.
    pub fn assigned_to(&self, worker: &Address) -> bool {
        self.status == STATUS_ASSIGNED && &self.worker == worker
    }
}

/// A job to post.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// What to run.
    pub spec: JobSpec,
    /// Escrowed reward, base units.
    pub reward: Amount,
    /// How long from now (chain time) it may be assigned and must be done.
    pub deadline_in: Duration,
    /// Capability bits a worker must have.
    pub capabilities: u16,
    /// Assignments allowed, 1..=16.
    pub max_attempts: u8,
}

/// A client's call on a job it posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// Cancel an open job and take the reward back.
    Cancel,
    /// Accept a submitted result: the worker is paid now.
    Accept,
    /// Dispute a submitted result within the challenge window (escrowing the dispute bond).
    Dispute,
}

impl Settle {
    /// The action's name in the CLI's output (`cancel`, `accept`, `dispute`).
    pub fn name(self) -> &'static str {
        match self {
            Settle::Cancel => "cancel",
            Settle::Accept => "accept",
            Settle::Dispute => "dispute",
        }
    }
}

/// One call a governance proposal makes when executed: the called contract and the call in the family's own
/// encoding (ABI calldata on EVM), opaque above the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalCall {
    /// The called contract.
    pub target: Address,
    /// The encoded call.
    pub calldata: Vec<u8>,
}

/// A governance proposal's calls and description, as the governor hashes them into its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// The calls, in order.
    pub calls: Vec<ProposalCall>,
    /// The description (part of the id).
    pub description: String,
}

/// A vote's direction, as the governor numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// 0.
    Against = 0,
    /// 1.
    For = 1,
    /// 2.
    Abstain = 2,
}

/// An account on one chain, for one deployment: who it is, how it signs off-chain messages, and the reads every
/// role needs.
pub trait Account: Send + Sync {
    /// The deployment's chain family.
    fn family(&self) -> Family;

    /// The deployment's chain.
    fn chain_id(&self) -> ChainId;

    /// The account's address.
    fn address(&self) -> Address;

    /// Signs an off-chain message for this deployment in the family's typed-data scheme (EIP-712 on EVM); the
    /// signature's bytes, as the API's [`crate::offchain::Verifier`] takes them.
    fn sign(&self, message: Message<'_>) -> anyhow::Result<Vec<u8>>;

    /// The latest block's timestamp (unix seconds): the contracts' clock.
    fn clock(&self) -> Pending<'_, u64>;

    /// A job's worker and status as the chain holds them now.
    fn job(&self, id: JobId) -> Pending<'_, JobOnChain>;
}

/// What a client does: post jobs and settle them.
pub trait ClientActions: Account {
    /// Posts `job` (approving the escrow first when needed); the new job's id and where the post landed.
    fn post_job<'a>(&'a self, job: &'a NewJob) -> Pending<'a, (JobId, Included)>;

    /// Posts `job` to run on `redundancy` independent replicas, `threshold` of which must reveal the same result
    /// (0: the governed least, a majority by default). One round: `job.max_attempts` does not apply.
    fn post_redundant_job<'a>(
        &'a self,
        job: &'a NewJob,
        redundancy: u8,
        threshold: u8,
    ) -> Pending<'a, (JobId, Included)>;

    /// Cancels, accepts or disputes (approving the bond first) job `id`.
    fn settle(&self, id: JobId, action: Settle) -> Pending<'_, Included>;
}

/// What a worker does: register, stake, read what it was asked to run, submit or decline.
pub trait WorkerActions: Account {
    /// Registers as a worker with `capabilities`, unless already registered (`None` then).
    fn register<'a>(
        &'a self,
        capabilities: u16,
        metadata_uri: &'a str,
    ) -> Pending<'a, Option<Included>>;

    /// Stakes `amount` (approving first when needed).
    fn stake(&self, amount: Amount) -> Pending<'_, Included>;

    /// Starts unbonding `amount`.
    fn request_unstake(&self, amount: Amount) -> Pending<'_, Included>;

    /// Withdraws stake whose unbonding period has passed.
    fn withdraw(&self) -> Pending<'_, Included>;

    /// The spec URI and hash job `id` was posted with, read from its posting event at `block` on this
    /// account's own node (never from an API). A wrong block finds no event: an error.
    fn posted_spec(&self, id: JobId, block: u64) -> Pending<'_, (String, B256)>;

    /// Submits a result's DA reference for job `id`. `data`, the result's bytes, is needed for an EIP-4844
    /// reference (kind 3): the transaction carries them as its blob.
    fn submit_result<'a>(
        &'a self,
        id: JobId,
        blob: &'a BlobRef,
        data: Option<&'a [u8]>,
    ) -> Pending<'a, Included>;

    /// Declines an assignment with a reason code.
    fn decline(&self, id: JobId, reason: u8) -> Pending<'_, Included>;

    /// The sealed result this account commits as a replica of job `id`: binds the job, the result's DA
    /// commitment, a secret `salt` and the account itself (so a copied seal cannot be opened by another worker).
    fn seal_result(&self, id: JobId, commitment: B256, salt: B256) -> anyhow::Result<B256>;

    /// Commits a replica's sealed result (see [`Self::seal_result`]).
    fn commit_result(&self, id: JobId, sealed: B256) -> Pending<'_, Included>;

    /// Reveals a replica's result once the commit phase has closed: the DA reference and salt it sealed
    /// (`data` as for [`Self::submit_result`]).
    fn reveal_result<'a>(
        &'a self,
        id: JobId,
        blob: &'a BlobRef,
        salt: B256,
        data: Option<&'a [u8]>,
    ) -> Pending<'a, Included>;
}

/// What a token holder does in governance.
pub trait GovernanceActions: Account {
    /// Delegates the account's votes to `to` (itself by default), unless already so (`None` then).
    fn delegate(&self, to: Option<Address>) -> Pending<'_, Option<Included>>;

    /// The call that sets the governed parameter `key` (as its update event names it) to `value` in contract
    /// units. Unknown keys are an error listing the known ones.
    fn parameter_call(&self, key: &str, value: Amount) -> anyhow::Result<ProposalCall>;

    /// The governor's id of `proposal`; an error when its calls are not of this chain.
    fn proposal_id(&self, proposal: &Proposal) -> anyhow::Result<ProposalId>;

    /// Submits `proposal`; its id.
    fn propose<'a>(&'a self, proposal: &'a Proposal) -> Pending<'a, ProposalId>;

    /// Votes on proposal `id`.
    fn vote(&self, id: ProposalId, support: Support) -> Pending<'_, Included>;

    /// Queues a succeeded proposal in the timelock.
    fn queue<'a>(&'a self, proposal: &'a Proposal) -> Pending<'a, Included>;

    /// Executes a queued proposal once its delay has passed.
    fn execute<'a>(&'a self, proposal: &'a Proposal) -> Pending<'a, Included>;
}

/// Every role at once: what the CLI holds.
pub trait Wallet: ClientActions + WorkerActions + GovernanceActions {}

impl<T: ClientActions + WorkerActions + GovernanceActions> Wallet for T {}

/// Token amounts: `"100"` or `"1.5"` whole tokens (18 decimals), or `"250wei"` base units.
pub fn parse_tokens(raw: &str) -> anyhow::Result<Amount> {
    use alloy::primitives::U256;
    use anyhow::Context;
    let raw = raw.trim();
    if let Some(wei) = raw.strip_suffix("wei") {
        return wei
            .trim()
            .parse::<U256>()
            .map(Amount)
            .with_context(|| format!("'{raw}' is not an amount"));
    }
    let (whole, frac) = raw.split_once('.').unwrap_or((raw, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        anyhow::bail!("'{raw}' is not an amount (e.g. 100, 1.5 or 250wei)");
    }
    if frac.len() > 18 {
        anyhow::bail!("'{raw}' has more than 18 decimals");
    }
    let scale = U256::from(10u64).pow(U256::from(18u64));
    let whole = if whole.is_empty() {
        U256::ZERO
    } else {
        whole.parse::<U256>()?
    };
    let frac = if frac.is_empty() {
        U256::ZERO
    } else {
        format!("{frac:0<18}").parse::<U256>()?
    };
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac))
        .map(Amount)
        .with_context(|| format!("'{raw}' is too large"))
}

/// Base units as whole tokens, e.g. `1.5`.
pub fn format_tokens(amount: Amount) -> String {
    use alloy::primitives::U256;
    let scale = U256::from(10u64).pow(U256::from(18u64));
    let (whole, frac) = (amount.0 / scale, amount.0 % scale);
    if frac.is_zero() {
        return whole.to_string();
    }
    let frac = format!("{frac:0>18}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// Durations: `90s`, `30m`, `2h`, `1d`, or plain seconds.
pub fn parse_duration(raw: &str) -> anyhow::Result<Duration> {
    use anyhow::Context;
    let raw = raw.trim();
    let (digits, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: u64 = digits
        .parse()
        .with_context(|| format!("'{raw}' is not a duration (e.g. 90s, 30m, 2h, 1d)"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3_600,
        "d" => n * 86_400,
        _ => anyhow::bail!("'{raw}': unknown unit '{unit}' (s, m, h or d)"),
    };
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use alloy::primitives::U256;

    use super::*;

    #[test]
    fn amounts_and_durations_parse_or_name_the_problem() {
        let e18 = U256::from(10u64).pow(U256::from(18u64));
        assert_eq!(parse_tokens("100").unwrap().0, U256::from(100u64) * e18);
        assert_eq!(
            parse_tokens("1.5").unwrap().0,
            U256::from(15u64) * e18 / U256::from(10u64)
        );
        assert_eq!(parse_tokens("250wei").unwrap().0, U256::from(250u64));
        assert_eq!(format_tokens(parse_tokens("1.25").unwrap()), "1.25");
        for bad in ["", "1.2.3", "-1", "abc", "1.0000000000000000001"] {
            assert!(parse_tokens(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7_200));
        assert_eq!(parse_duration("45").unwrap(), Duration::from_secs(45));
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("h").is_err());
    }
}
