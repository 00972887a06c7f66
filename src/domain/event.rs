//! Events: the chain's own record of a log ([`EventRecord`], stored in `raw_events` and served by `/v1/events`),
//! the protocol's meaning of it ([`ProtocolEvent`], what the store applies), and what live subscribers hear
//! ([`LiveEvent`]).

use serde::Serialize;

use super::{Address, Amount, ChainId, Family, JobId, ProposalId, Stream, U256};
use crate::text::ChainText;

/// The protocol's contracts, by the names the manifest, `raw_events.contract` and the API use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Contract {
    /// The governance token.
    Token,
    /// The timelock that executes governance decisions.
    Timelock,
    /// The governor.
    Governor,
    /// Workers, stakes and slashing.
    WorkerRegistry,
    /// Jobs, escrow, assignments and results.
    JobManager,
}

impl Contract {
    /// Every contract, in deployment order.
    pub const ALL: [Contract; 5] = [
        Contract::Token,
        Contract::Timelock,
        Contract::Governor,
        Contract::WorkerRegistry,
        Contract::JobManager,
    ];

    /// The contract's name.
    pub fn name(self) -> &'static str {
        match self {
            Contract::Token => "AccordToken",
            Contract::Timelock => "TimelockController",
            Contract::Governor => "AccordGovernor",
            Contract::WorkerRegistry => "WorkerRegistry",
            Contract::JobManager => "JobManager",
        }
    }

    /// The contract named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl std::fmt::Display for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One indexed contract event as the chain said it: stored in `raw_events`, served by `/v1/events` and streamed
/// by `/v1/events/stream`. `args` are the chain adapter's own decoding (argument names and value forms of that
/// chain family); `protocol` is what the event means to the protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRecord {
    /// Chain id.
    pub chain_id: u64,
    /// Block number.
    pub block_number: u64,
    /// Block hash (0x-hex).
    pub block_hash: String,
    /// Log index within the block.
    pub log_index: u64,
    /// Transaction hash (0x-hex).
    pub tx_hash: String,
    /// Emitting contract's name.
    pub contract: String,
    /// Emitting contract's address, in its family's normal form.
    pub address: String,
    /// Event name.
    pub event: String,
    /// Entity stream ([`Stream`]'s text), e.g. `job:7`.
    pub stream: String,
    /// Decoded arguments by name; integers as decimal strings.
    pub args: serde_json::Value,
    /// The protocol's meaning of the event, `None` for events that change no derived row (approvals,
    /// delegation, timelock operations, skipped batch entries). Set by the adapter that decoded the log, or by
    /// its [`EventCodec`] when the record is read back from `raw_events`.
    /// Boxed: a batch holds tens of thousands of records, and the largest event would more than double each.
    #[serde(skip)]
    pub protocol: Option<Box<ProtocolEvent>>,
}

/// What a live subscriber of the indexer hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// A newly indexed event.
    Event(Box<EventRecord>),
    /// The chain replaced blocks above `fork_block`: every event sent from a block above it is withdrawn, and
    /// what replaces them follows as ordinary events.
    Reorg {
        /// Chain id.
        chain_id: ChainId,
        /// The last block still valid.
        fork_block: u64,
        /// Its hash as indexed now, when known.
        block_hash: Option<String>,
        /// How many indexed events were removed.
        removed_events: u64,
    },
}

/// A chain family's reading of its own stored records: turns `raw_events` rows back into protocol events (a
/// reorg replays streams from them), exactly as the adapter did when it decoded the logs.
pub trait EventCodec: Send + Sync {
    /// The family whose records these are.
    fn family(&self) -> Family;
    /// The protocol event `record` stands for; `None` when it changes no derived row. Errors name what is
    /// missing or malformed.
    fn protocol_event(&self, record: &EventRecord) -> Result<Option<ProtocolEvent>, String>;
}

/// An event of the protocol, in the protocol's terms, whatever chain family emitted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolEvent {
    /// A client posted a job with its reward in escrow.
    JobPosted {
        /// The job.
        job: JobId,
        /// Who posted it.
        client: Address,
        /// sha256 of the job spec (0x-hex).
        spec_hash: String,
        /// Where the spec lives.
        spec_uri: ChainText,
        /// Capability bits a worker needs.
        required_capabilities: u32,
        /// Escrowed reward.
        reward: Amount,
        /// Unix seconds by which a result must be accepted.
        deadline: u64,
        /// Assignments the job may have.
        max_attempts: u32,
    },
    /// The client cancelled an open job.
    JobCancelled {
        /// The job.
        job: JobId,
        /// The client.
        client: Address,
        /// Escrow returned.
        refund: Amount,
    },
    /// The coordinator assigned a job.
    JobAssigned {
        /// The job.
        job: JobId,
        /// The worker.
        worker: Address,
        /// Unix seconds by which the result is due.
        due: u64,
        /// Assignments left after this one.
        attempts_left: u32,
    },
    /// The worker submitted a result commitment.
    ResultSubmitted {
        /// The job.
        job: JobId,
        /// The worker.
        worker: Address,
        /// Data-availability layer kind.
        da_kind: u32,
        /// Commitment to the result's bytes (0x-hex).
        commitment: String,
        /// Result size in bytes.
        size: U256,
        /// Where the bytes can be fetched.
        locator: ChainText,
        /// Unix seconds when the challenge window ends.
        challenge_ends_at: u64,
    },
    /// The client disputed a result.
    JobDisputed {
        /// The job.
        job: JobId,
        /// Unix seconds by which the arbiter must rule.
        resolve_by: u64,
        /// Bond the client posted.
        bond: Amount,
    },
    /// The assigned worker (or a replica) declined the job.
    JobDeclined {
        /// The job.
        job: JobId,
        /// Who declined.
        worker: Address,
        /// Fee taken from the worker.
        fee: Amount,
        /// Whether the job is open again.
        reopened: bool,
    },
    /// A dispute bond went back to the client or to the worker.
    DisputeBondReleased {
        /// The job.
        job: JobId,
        /// Recipient.
        to: Address,
        /// Amount.
        amount: Amount,
    },
    /// A slash's compensation was paid to the client.
    SlashDistributed {
        /// The job.
        job: JobId,
        /// The client.
        client: Address,
        /// Paid to the client.
        compensation: Amount,
        /// Kept as a fee.
        fee: Amount,
    },
    /// An assignment passed its due time without a result.
    AssignmentExpired {
        /// The job.
        job: JobId,
        /// Slashed from the worker.
        slashed: Amount,
        /// Whether the job is open again.
        reopened: bool,
    },
    /// The worker was paid.
    JobPaid {
        /// The job.
        job: JobId,
        /// The worker.
        worker: Address,
        /// Paid to the worker.
        amount: Amount,
        /// Protocol fee.
        fee: Amount,
    },
    /// The client was refunded.
    JobRefunded {
        /// The job.
        job: JobId,
        /// The client.
        client: Address,
        /// Amount.
        amount: Amount,
    },
    /// A job asked to run on several independent replicas (posted just before, in the same transaction).
    RedundancyRequested {
        /// The job.
        job: JobId,
        /// Replicas (`n`).
        redundancy: u32,
        /// Agreeing reveals needed (`k`).
        threshold: u32,
    },
    /// The coordinator assigned one replica of a redundant job.
    ReplicaAssigned {
        /// The job.
        job: JobId,
        /// The replica's worker.
        worker: Address,
        /// The replica's number, from 1.
        replica: u32,
        /// Unix seconds by which every replica must commit.
        commit_due: u64,
    },
    /// A replica committed to its result without showing it.
    ResultCommitted {
        /// The job.
        job: JobId,
        /// The replica's worker.
        worker: Address,
        /// The sealed result (0x-hex; hash of the job, commitment, salt and worker).
        sealed_result: String,
    },
    /// The commit phase closed: the replicas that committed reveal.
    RevealOpened {
        /// The job.
        job: JobId,
        /// Replicas that committed.
        committed: u32,
        /// Unix seconds by which reveals are due.
        reveal_due: u64,
    },
    /// A replica revealed the result commitment it had sealed.
    ResultRevealed {
        /// The job.
        job: JobId,
        /// The replica's worker.
        worker: Address,
        /// Data-availability layer kind.
        da_kind: u32,
        /// Commitment to the result's bytes (0x-hex).
        commitment: String,
        /// Result size in bytes.
        size: U256,
        /// Where the bytes can be fetched.
        locator: ChainText,
    },
    /// At least the threshold of replicas revealed the same commitment: it is the job's result.
    ConsensusReached {
        /// The job.
        job: JobId,
        /// The agreed commitment (0x-hex).
        commitment: String,
        /// Replicas that agree.
        agreeing: u32,
        /// Unix seconds when the challenge window ends.
        challenge_ends_at: u64,
    },
    /// No commitment reached the threshold; the job is refunded (the refund follows).
    ConsensusFailed {
        /// The job.
        job: JobId,
        /// The most replicas that agreed on one commitment.
        best: u32,
    },
    /// A replica was at fault and slashed.
    ReplicaFaulted {
        /// The job.
        job: JobId,
        /// The replica's worker.
        worker: Address,
        /// 1 no commit, 2 no reveal, 3 dissent from the consensus, 4 a dispute lost.
        fault: u32,
        /// Slashed from the worker.
        slashed: Amount,
    },
    /// Protocol fees went to the treasury.
    FeesSwept {
        /// The treasury.
        treasury: Address,
        /// Amount.
        amount: Amount,
    },
    /// A governed parameter changed (also the governor's own settings and the token's total supply).
    ParameterUpdated {
        /// The contract.
        contract: Contract,
        /// The parameter.
        key: String,
        /// Its new value.
        value: U256,
    },
    /// An account received a role.
    RoleGranted {
        /// The contract.
        contract: Contract,
        /// The role's id (0x-hex).
        role: String,
        /// The account.
        account: Address,
    },
    /// An account lost a role.
    RoleRevoked {
        /// The contract.
        contract: Contract,
        /// The role's id (0x-hex).
        role: String,
        /// The account.
        account: Address,
    },
    /// A worker registered.
    WorkerRegistered {
        /// The worker.
        worker: Address,
        /// Capability bits.
        capabilities: u32,
        /// Where its metadata lives.
        metadata_uri: ChainText,
    },
    /// A worker changed its capabilities or metadata.
    WorkerUpdated {
        /// The worker.
        worker: Address,
        /// Capability bits.
        capabilities: u32,
        /// Where its metadata lives.
        metadata_uri: ChainText,
    },
    /// A worker's stake grew.
    Staked {
        /// The worker.
        worker: Address,
        /// Its stake now.
        stake: Amount,
    },
    /// A worker began unbonding.
    UnstakeRequested {
        /// The worker.
        worker: Address,
        /// Its stake now.
        stake: Amount,
        /// Unbonding now.
        pending: Amount,
        /// Unix seconds when the unbonding amount can be withdrawn.
        unlock_at: u64,
    },
    /// A worker withdrew its unbonded stake.
    Withdrawn {
        /// The worker.
        worker: Address,
    },
    /// A worker was jailed (`jailed`) or released.
    WorkerJailed {
        /// The worker.
        worker: Address,
        /// Jailed now.
        jailed: bool,
    },
    /// A worker was slashed.
    WorkerSlashed {
        /// The worker.
        worker: Address,
        /// The job it was slashed for, if any.
        job: Option<JobId>,
        /// Who received the slashed amount.
        recipient: Address,
        /// Slashed in all.
        amount: Amount,
        /// Taken from the stake.
        from_stake: Amount,
        /// Taken from the unbonding amount.
        from_pending: Amount,
    },
    /// A governance proposal was created.
    ProposalCreated {
        /// The proposal.
        proposal: ProposalId,
        /// Who proposed it.
        proposer: Address,
        /// Its description.
        description: ChainText,
        /// Contracts it calls.
        targets: Vec<Address>,
        /// The calls (0x-hex).
        calldatas: Vec<String>,
        /// When voting opens (the governor's clock).
        vote_start: u64,
        /// When voting closes.
        vote_end: u64,
    },
    /// A vote on a proposal.
    VoteCast {
        /// The proposal.
        proposal: ProposalId,
        /// The voter.
        voter: Address,
        /// 0 against, 1 for, 2 abstain.
        support: u8,
        /// Voting power used.
        weight: Amount,
        /// The voter's reason.
        reason: ChainText,
    },
    /// A proposal was queued in the timelock.
    ProposalQueued {
        /// The proposal.
        proposal: ProposalId,
        /// Unix seconds when it may execute.
        eta: u64,
    },
    /// A proposal was executed.
    ProposalExecuted {
        /// The proposal.
        proposal: ProposalId,
    },
    /// A proposal was cancelled.
    ProposalCanceled {
        /// The proposal.
        proposal: ProposalId,
    },
    /// Tokens were minted (`minted`) or burned.
    SupplyChanged {
        /// The amount.
        amount: Amount,
        /// Minted (true) or burned.
        minted: bool,
    },
}

impl ProtocolEvent {
    /// The entity stream the event belongs to.
    pub fn stream(&self) -> Stream {
        use ProtocolEvent::*;
        match self {
            JobPosted { job, .. }
            | JobCancelled { job, .. }
            | JobAssigned { job, .. }
            | ResultSubmitted { job, .. }
            | JobDisputed { job, .. }
            | JobDeclined { job, .. }
            | DisputeBondReleased { job, .. }
            | SlashDistributed { job, .. }
            | AssignmentExpired { job, .. }
            | JobPaid { job, .. }
            | JobRefunded { job, .. }
            | RedundancyRequested { job, .. }
            | ReplicaAssigned { job, .. }
            | ResultCommitted { job, .. }
            | RevealOpened { job, .. }
            | ResultRevealed { job, .. }
            | ConsensusReached { job, .. }
            | ConsensusFailed { job, .. }
            | ReplicaFaulted { job, .. } => Stream::Job(*job),
            FeesSwept { .. } => Stream::Fees,
            ParameterUpdated { contract, key, .. } => Stream::Param {
                contract: *contract,
                key: key.clone(),
            },
            RoleGranted {
                contract,
                role,
                account,
            }
            | RoleRevoked {
                contract,
                role,
                account,
            } => Stream::Role {
                contract: *contract,
                role: role.clone(),
                account: account.clone(),
            },
            WorkerRegistered { worker, .. }
            | WorkerUpdated { worker, .. }
            | Staked { worker, .. }
            | UnstakeRequested { worker, .. }
            | Withdrawn { worker }
            | WorkerJailed { worker, .. }
            | WorkerSlashed { worker, .. } => Stream::Worker(worker.clone()),
            ProposalCreated { proposal, .. }
            | VoteCast { proposal, .. }
            | ProposalQueued { proposal, .. }
            | ProposalExecuted { proposal }
            | ProposalCanceled { proposal } => Stream::Proposal(*proposal),
            SupplyChanged { .. } => Stream::Param {
                contract: Contract::Token,
                key: "totalSupply".into(),
            },
        }
    }
}
