//! Job escrow and life cycle, the twin of `contracts/src/JobManager.sol`: post, assign, submit a DA commitment,
//! accept or dispute, pay or refund. DEFAULT_ADMIN_ROLE (the timelock) sets every parameter within `bounds` and
//! grants COORDINATOR_ROLE (assigns jobs) and ARBITER_ROLE (rules disputes; jails and unjails in the registry).
//!
//! Status moves only along these edges:
//!
//!     Open ──assign──► Assigned ──submit_result──► Submitted ──accept/finalize──► Paid
//!      │  ▲               │                          │
//!      │  └─expire/decline┤ (attempts left and       └──dispute (bond)──► Disputed ──resolve(worker right)──► Paid
//!      │  (slash / fee)   │  min_submit_window fits                         │           (bond to the worker)
//!      │                  │  before the deadline)                           ├──expire (arbiter silent)──► Paid
//!      │                  │                                                 │     (bond back to the client)
//!      ├──cancel──► Cancelled                                               └──resolve(worker at fault, slash)──► Refunded
//!      └──expire (deadline passed)──► Refunded ◄──expire (slash) / decline (fee)      (bond back to the client)
//!                                                 (no attempt left, or too close to the deadline)
//!
//! Money rules:
//! - Fault slash: an assignment left past its due time, or a dispute lost, slashes the worker
//!   min(slashable stake x slash_share_bps, reward x slash_reward_multiple_bps) / 10_000.
//! - Bounded compensation: of each fault slash the client receives at most reward x compensation_bps / 10_000; the
//!   rest accrues to the treasury.
//! - Minimum time to submit: a job is assigned, or reopened after an expiry or a decline, only while its deadline is
//!   at least min_submit_window away; otherwise it is not assigned ('DeadlineTooSoon') or it is refunded.
//! - Decline: the assigned worker may hand a job back by its due time for reward x decline_fee_bps / 10_000 (capped
//!   at its slashable stake), all to the treasury, without jail.
//! - Dispute bond: reward x dispute_bond_bps / 10_000 from the client; back to the client when the worker is at
//!   fault or the arbiter stays silent, to the worker when the worker was right.
//!
//! Redundant jobs (`post_redundant_job`), as in Solidity: `n` distinct replicas (never the client), one commit due
//! for all set by the first assignment; each commits poseidon(job_id, commitment.low, commitment.high, salt.low,
//! salt.high, worker) (`seal_result`), then reveals once every replica committed or the commit due passed. The
//! last reveal, or `expire`, settles: `k` equal commitments are the result (the agreeing replicas share the
//! reward; dissenters are slashed at payment, to the treasury); fewer refund the client. A replica that did not
//! commit, or did not reveal once reveals were due, is slashed to the treasury only. Phases run by time: the
//! reveal window from the commit due, the challenge window from the reveal due.
//!
//! Token conservation: the job manager's token balance equals the rewards of jobs in Open, Assigned, Submitted,
//! Disputed, Gathering, Committing or Revealing status, plus the dispute bonds held, plus the accrued fees. Only `pull` (escrow, bond) and `push`
//! (payment, refund, compensation, bond release, sweep) move tokens, each beside the storage write that accounts
//! for it; slashed stake arrives from the registry inside `slash_fault` / `decline_job` and is split at once.
//! Refusals panic with the Solidity custom error's name ('UnknownJob', 'NotClient', ...).
use starknet::ContractAddress;

/// May assign jobs.
pub const COORDINATOR_ROLE: felt252 = 'COORDINATOR_ROLE';
/// May resolve disputes, and jail and unjail in the registry (slashing only through `resolve_dispute`).
pub const ARBITER_ROLE: felt252 = 'ARBITER_ROLE';

/// Parameter keys, as emitted in `ParameterUpdated`.
pub const PROTOCOL_FEE_BPS: felt252 = 'protocolFeeBps';
pub const SLASH_SHARE_BPS: felt252 = 'slashShareBps';
pub const ASSIGNMENT_TIMEOUT: felt252 = 'assignmentTimeout';
pub const CHALLENGE_WINDOW: felt252 = 'challengeWindow';
pub const DISPUTE_PERIOD: felt252 = 'disputePeriod';
pub const MIN_SUBMIT_WINDOW: felt252 = 'minSubmitWindow';
pub const SLASH_REWARD_MULTIPLE_BPS: felt252 = 'slashRewardMultipleBps';
pub const COMPENSATION_BPS: felt252 = 'compensationBps';
pub const DECLINE_FEE_BPS: felt252 = 'declineFeeBps';
pub const DISPUTE_BOND_BPS: felt252 = 'disputeBondBps';
pub const CONSENSUS_BPS: felt252 = 'consensusBps';
pub const REVEAL_WINDOW: felt252 = 'revealWindow';

/// DA kinds of a result: 1 the coordinator's archive, 2 Celestia. (3, EIP-4844, needs a blob-carrying
/// transaction, which Starknet does not have: refused with 'UnknownDaKind'.)
pub const DA_KIND_LOCAL: u8 = 1;
pub const DA_KIND_CELESTIA: u8 = 2;

/// Replica faults of `ReplicaFaulted`.
pub const FAULT_NO_COMMIT: u8 = 1;
pub const FAULT_NO_REVEAL: u8 = 2;
pub const FAULT_DISSENT: u8 = 3;
pub const FAULT_DISPUTE_LOST: u8 = 4;

/// Decline reasons of `decline_job`.
pub const DECLINE_SPEC_UNREACHABLE: u8 = 1;
pub const DECLINE_SPEC_HASH_MISMATCH: u8 = 2;
pub const DECLINE_LIMITS_EXCEEDED: u8 = 3;
pub const DECLINE_CANNOT_START: u8 = 4;

/// Where a job is in its life (serialized as its index: None 0, Open 1, ... Refunded 7, Gathering 8,
/// Committing 9, Revealing 10, as in Solidity).
#[derive(Copy, Drop, Serde, PartialEq, Debug, starknet::Store)]
pub enum JobStatus {
    #[default]
    None,
    Open,
    Assigned,
    Submitted,
    Disputed,
    Paid,
    Cancelled,
    Refunded,
    Gathering,
    Committing,
    Revealing,
}

/// Where one replica of a redundant job is.
#[derive(Copy, Drop, Serde, PartialEq, Debug, starknet::Store)]
pub enum ReplicaPhase {
    #[default]
    None,
    Assigned,
    Committed,
    Revealed,
    Declined,
}

/// The redundancy of a job (written only for redundant jobs).
#[derive(Copy, Drop, Serde, PartialEq, Debug, starknet::Store)]
pub struct Redundancy {
    /// Replicas the job runs on (`n`, 2..MAX_REDUNDANCY).
    pub redundancy: u8,
    /// Agreeing reveals needed for consensus (`k`, more than half of `n`).
    pub threshold: u8,
    /// Replicas assigned so far.
    pub assigned: u8,
    /// Replicas that committed.
    pub committed: u8,
    /// Replicas that revealed.
    pub revealed: u8,
    /// Replicas whose reveal matched the consensus (zero until it is reached).
    pub agreeing: u8,
}

/// Where a worker sits in a redundant job.
#[derive(Copy, Drop, Serde, PartialEq, Debug, starknet::Store)]
pub struct Seat {
    /// Its replica number, from 1 (0: not a replica).
    pub index: u8,
    pub phase: ReplicaPhase,
    pub sealed_result: u256,
    pub commitment: u256,
}

/// One replica of a redundant job.
#[derive(Copy, Drop, Serde, PartialEq, Debug)]
pub struct Replica {
    pub worker: ContractAddress,
    pub phase: ReplicaPhase,
    /// `seal_result(job_id, commitment, salt, worker)`, once committed.
    pub sealed_result: u256,
    /// The revealed DA commitment, once revealed.
    pub commitment: u256,
}

/// One job. The spec, its URI and the result's DA locator live in events only.
#[derive(Copy, Drop, Serde, PartialEq, Debug, starknet::Store)]
pub struct Job {
    /// Who posted and funded the job.
    pub client: ContractAddress,
    /// Escrowed reward (tokens).
    pub reward: u256,
    /// The assigned worker (zero while open).
    pub worker: ContractAddress,
    /// The job must be assigned before this moment and its result submitted by it (unix seconds).
    pub deadline: u64,
    /// Assigned: submission due; Submitted: end of the challenge window; Disputed: end of the dispute period.
    pub due: u64,
    /// Life-cycle status.
    pub status: JobStatus,
    /// Assignments still allowed; each assignment uses one.
    pub attempts_left: u8,
    /// Capability bits a worker must have.
    pub required_capabilities: u16,
}

/// Governed parameters of the hot paths, and the accrued fees.
#[derive(Copy, Drop, Serde, PartialEq, Debug, starknet::Store)]
pub struct Params {
    /// Fee on each paid reward, in basis points.
    pub protocol_fee_bps: u16,
    /// Share of a worker's slashable stake taken on a fault, in basis points.
    pub slash_share_bps: u16,
    /// Seconds an assigned worker has to submit (capped by the job's deadline).
    pub assignment_timeout: u64,
    /// Seconds the client has to dispute a submitted result.
    pub challenge_window: u64,
    /// Seconds the arbiter has to rule before anyone may settle the dispute for the worker.
    pub dispute_period: u64,
    /// Least seconds between an assignment (or reopening) and the job's deadline.
    pub min_submit_window: u64,
    /// Fees not yet swept to the treasury (tokens); ignored by the constructor.
    pub accrued_fees: u256,
}

/// Governed fault parameters, each in basis points of the job's reward.
#[derive(Copy, Drop, Serde, PartialEq, Debug, starknet::Store)]
pub struct Penalties {
    /// Cap of a fault slash (20_000 = twice the reward).
    pub slash_reward_multiple_bps: u16,
    /// The most of one fault slash the client receives; the rest goes to the treasury.
    pub compensation_bps: u16,
    /// Fee of `decline_job`, to the treasury.
    pub decline_fee_bps: u16,
    /// Bond the client escrows to dispute.
    pub dispute_bond_bps: u16,
    /// Least share of a redundant job's replicas that must agree (basis points, rounded up).
    pub consensus_bps: u16,
    /// Seconds the replicas have to reveal once the commit phase closes.
    pub reveal_window: u64,
}

#[starknet::interface]
pub trait IJobManager<TState> {
    /// Posts a job and escrows `reward` from the caller with `transfer_from` (approve in the same multicall).
    /// `spec_uri` (at most 1024 bytes) is emitted, not stored; `deadline` must be in the future; `max_attempts`
    /// is 1..16. Returns the new job's id (ids start at 1). Emits `JobPosted`.
    fn post_job(
        ref self: TState,
        spec_hash: u256,
        spec_uri: ByteArray,
        required_capabilities: u16,
        reward: u256,
        deadline: u64,
        max_attempts: u8,
    ) -> u64;
    /// Posts a redundant job: `redundancy` replicas (2..7) and `threshold` agreeing results (at least
    /// ceil(redundancy x consensus_bps / 10_000), at most `redundancy`; 0 takes that least value). One round: a
    /// single attempt. Returns its id. Emits `JobPosted` and `RedundancyRequested`.
    fn post_redundant_job(
        ref self: TState,
        spec_hash: u256,
        spec_uri: ByteArray,
        required_capabilities: u16,
        reward: u256,
        deadline: u64,
        redundancy: u8,
        threshold: u8,
    ) -> u64;
    /// Commits a replica's sealed result (the replica's worker, by the commit due). Emits `ResultCommitted`, and
    /// `RevealOpened` with the last commit.
    fn commit_result(ref self: TState, job_id: u64, sealed_result: u256);
    /// Reveals a committed result once the commit phase has closed (by the reveal due); the last reveal settles.
    /// Emits `ResultRevealed`; the last also `ConsensusReached` or `ConsensusFailed`.
    fn reveal_result(
        ref self: TState, job_id: u64, da_kind: u8, commitment: u256, size: u64, salt: u256, locator: ByteArray,
    );
    /// The sealed result a replica commits: poseidon(job_id, commitment.low, commitment.high, salt.low,
    /// salt.high, worker), as a u256.
    fn seal_result(self: @TState, job_id: u64, commitment: u256, salt: u256, worker: ContractAddress) -> u256;
    /// A job's redundancy and its agreed commitment (zero until the consensus).
    fn redundancy_of(self: @TState, job_id: u64) -> (Redundancy, u256);
    /// Replica `replica` (from 1) of a redundant job.
    fn replica_of(self: @TState, job_id: u64, replica: u8) -> Replica;
    /// Sets the consensus share (DEFAULT_ADMIN_ROLE), 5001..10_000 bps. Emits `ParameterUpdated`.
    fn set_consensus_share(ref self: TState, bps: u256);
    /// Sets the reveal window (DEFAULT_ADMIN_ROLE), 60..86_400 s. Emits `ParameterUpdated`.
    fn set_reveal_window(ref self: TState, secs: u256);
    /// Cancels an open job, or a redundant job before its first replica, and refunds the client (client only).
    /// Emits `JobCancelled`.
    fn cancel_job(ref self: TState, job_id: u64);
    /// Assigns an open job to an eligible worker (COORDINATOR_ROLE); panics with the skip reason
    /// `assign_batch` would give. Emits `JobAssigned`.
    fn assign(ref self: TState, job_id: u64, worker: ContractAddress);
    /// Assigns many jobs (COORDINATOR_ROLE); an entry that cannot be assigned is skipped with its reason instead
    /// of failing the batch. Returns how many were assigned. Emits `JobAssigned` or `AssignmentSkipped` per entry.
    fn assign_batch(ref self: TState, job_ids: Span<u64>, workers: Span<ContractAddress>) -> u32;
    /// Submits the DA commitment of the result (assigned worker only, by the due time): `da_kind` 1 local archive,
    /// 2 Celestia (3, EIP-4844, is EVM only); `locator` (at most 1024 bytes) is emitted, not stored. Emits
    /// `ResultSubmitted`.
    fn submit_result(
        ref self: TState, job_id: u64, da_kind: u8, commitment: u256, size: u64, locator: ByteArray,
    );
    /// Accepts a submitted result and pays the worker at once (client only). Emits `JobPaid`.
    fn accept_result(ref self: TState, job_id: u64);
    /// Hands an assigned job back (assigned worker only, by the due time) for the decline fee; `reason` is 1 spec
    /// unreachable, 2 spec hash mismatch, 3 limits exceeded, 4 cannot start. The job reopens when attempts remain
    /// and the minimum submit window fits before the deadline, else it is refunded.
    /// Emits `JobDeclined` (and `JobRefunded` when not reopened).
    fn decline_job(ref self: TState, job_id: u64, reason: u8);
    /// Disputes a submitted result within the challenge window (client only), escrowing the dispute bond with
    /// `transfer_from`. Emits `JobDisputed`.
    fn dispute_result(ref self: TState, job_id: u64);
    /// Rules on a dispute (ARBITER_ROLE, until the dispute period ends): at fault, the client is refunded with its
    /// bond and the worker slashed and jailed; otherwise the worker is paid and receives the bond.
    /// Emits `DisputeResolved`, then `JobPaid` or `JobRefunded`, and `DisputeBondReleased`.
    fn resolve_dispute(ref self: TState, job_id: u64, worker_at_fault: bool);
    /// Pays the worker once the challenge window has closed without a dispute (anyone). Emits `JobPaid`.
    fn finalize(ref self: TState, job_id: u64);
    /// Settles anything overdue (anyone): an assignment past its due time (worker slashed, job reopened or
    /// refunded), an open job at its deadline (refunded), a dispute left past its period (worker paid, bond back to
    /// the client). Emits `AssignmentExpired` and/or `JobRefunded`, or `JobPaid` and `DisputeBondReleased`.
    fn expire(ref self: TState, job_id: u64);
    /// Sends the accrued protocol fees to the treasury (anyone). Emits `FeesSwept`.
    fn sweep_fees(ref self: TState);
    /// Sets the protocol fee (DEFAULT_ADMIN_ROLE), 0..2000 bps. Emits `ParameterUpdated`.
    fn set_protocol_fee(ref self: TState, bps: u256);
    /// Sets the slash share (DEFAULT_ADMIN_ROLE), 100..5000 bps of the slashable stake. Emits `ParameterUpdated`.
    fn set_slash_share(ref self: TState, bps: u256);
    /// Sets the assignment timeout (DEFAULT_ADMIN_ROLE), 60..259_200 s. Emits `ParameterUpdated`.
    fn set_assignment_timeout(ref self: TState, secs: u256);
    /// Sets the challenge window (DEFAULT_ADMIN_ROLE), 60..259_200 s. Emits `ParameterUpdated`.
    fn set_challenge_window(ref self: TState, secs: u256);
    /// Sets the dispute period (DEFAULT_ADMIN_ROLE), 3600..259_200 s. Emits `ParameterUpdated`.
    fn set_dispute_period(ref self: TState, secs: u256);
    /// Sets the minimum submit window (DEFAULT_ADMIN_ROLE), 60..86_400 s. Emits `ParameterUpdated`.
    fn set_min_submit_window(ref self: TState, secs: u256);
    /// Sets the fault slash cap (DEFAULT_ADMIN_ROLE), 1000..50_000 bps of the reward. Emits `ParameterUpdated`.
    fn set_slash_reward_multiple(ref self: TState, bps: u256);
    /// Sets the client's compensation cap (DEFAULT_ADMIN_ROLE), 0..1000 bps of the reward. Emits `ParameterUpdated`.
    fn set_compensation(ref self: TState, bps: u256);
    /// Sets the decline fee (DEFAULT_ADMIN_ROLE), 0..1000 bps of the reward. Emits `ParameterUpdated`.
    fn set_decline_fee(ref self: TState, bps: u256);
    /// Sets the dispute bond (DEFAULT_ADMIN_ROLE), 0..10_000 bps of the reward. Emits `ParameterUpdated`.
    fn set_dispute_bond(ref self: TState, bps: u256);
    /// A job's record (all zero, status None, for an unknown id).
    fn job_of(self: @TState, job_id: u64) -> Job;
    /// How many jobs have been posted; the last id.
    fn job_count(self: @TState) -> u64;
    /// Current parameters and accrued fees.
    fn parameters(self: @TState) -> Params;
    /// Current fault parameters.
    fn penalties(self: @TState) -> Penalties;
    /// The dispute bond held for a job (zero unless it is disputed with a nonzero bond).
    fn dispute_bond_of(self: @TState, job_id: u64) -> u256;
    /// The reward token.
    fn token(self: @TState) -> ContractAddress;
    /// The worker registry.
    fn registry(self: @TState) -> ContractAddress;
    /// Receives the protocol fees.
    fn treasury(self: @TState) -> ContractAddress;
}

#[starknet::contract]
pub mod JobManager {
    use core::num::traits::Zero;
    use starknet::storage::{
        Map, StorageMapReadAccess, StorageMapWriteAccess, StoragePointerReadAccess, StoragePointerWriteAccess,
    };
    use starknet::{ContractAddress, get_block_timestamp, get_caller_address, get_contract_address};
    use crate::access::{AccessControlComponent, DEFAULT_ADMIN_ROLE};
    use crate::bounds;
    use crate::bounds::bps_of;
    use crate::interfaces::{IERC20Dispatcher, IERC20DispatcherTrait};
    use crate::registry::{IWorkerRegistryDispatcher, IWorkerRegistryDispatcherTrait};
    use super::{
        ARBITER_ROLE, ASSIGNMENT_TIMEOUT, CHALLENGE_WINDOW, COMPENSATION_BPS, CONSENSUS_BPS, COORDINATOR_ROLE,
        DA_KIND_CELESTIA, DA_KIND_LOCAL, DECLINE_CANNOT_START, DECLINE_FEE_BPS, DISPUTE_BOND_BPS, DISPUTE_PERIOD,
        FAULT_DISPUTE_LOST, FAULT_DISSENT, FAULT_NO_COMMIT, FAULT_NO_REVEAL, Job, JobStatus, MIN_SUBMIT_WINDOW,
        PROTOCOL_FEE_BPS, Params, Penalties, REVEAL_WINDOW, Redundancy, Replica, ReplicaPhase, SLASH_REWARD_MULTIPLE_BPS,
        SLASH_SHARE_BPS, Seat,
    };

    component!(path: AccessControlComponent, storage: access, event: AccessControlEvent);

    #[abi(embed_v0)]
    impl AccessControlImpl = AccessControlComponent::AccessControlImpl<ContractState>;
    impl AccessControlInternalImpl = AccessControlComponent::InternalImpl<ContractState>;

    #[storage]
    struct Storage {
        #[substorage(v0)]
        access: AccessControlComponent::Storage,
        token: ContractAddress,
        registry: ContractAddress,
        treasury: ContractAddress,
        params: Params,
        penalties: Penalties,
        job_count: u64,
        jobs: Map<u64, Job>,
        /// Written only on dispute, cleared when the bond is released.
        dispute_bonds: Map<u64, u256>,
        /// Redundant jobs only: counters, the agreed commitment, replica workers by number, and their seats.
        redundancy: Map<u64, Redundancy>,
        consensus: Map<u64, u256>,
        replica_workers: Map<(u64, u8), ContractAddress>,
        seats: Map<(u64, ContractAddress), Seat>,
        entered: bool,
    }

    #[event]
    #[derive(Drop, starknet::Event)]
    pub enum Event {
        #[flat]
        AccessControlEvent: AccessControlComponent::Event,
        JobPosted: JobPosted,
        JobCancelled: JobCancelled,
        JobAssigned: JobAssigned,
        AssignmentSkipped: AssignmentSkipped,
        ResultSubmitted: ResultSubmitted,
        JobDisputed: JobDisputed,
        DisputeBondReleased: DisputeBondReleased,
        JobDeclined: JobDeclined,
        SlashDistributed: SlashDistributed,
        DisputeResolved: DisputeResolved,
        AssignmentExpired: AssignmentExpired,
        JobPaid: JobPaid,
        JobRefunded: JobRefunded,
        FeesSwept: FeesSwept,
        ParameterUpdated: ParameterUpdated,
        RedundancyRequested: RedundancyRequested,
        ReplicaAssigned: ReplicaAssigned,
        ResultCommitted: ResultCommitted,
        RevealOpened: RevealOpened,
        ResultRevealed: ResultRevealed,
        ConsensusReached: ConsensusReached,
        ConsensusFailed: ConsensusFailed,
        ReplicaFaulted: ReplicaFaulted,
    }

    /// A job asks for `redundancy` replicas and `threshold` agreeing results.
    #[derive(Drop, starknet::Event)]
    pub struct RedundancyRequested {
        #[key]
        pub job_id: u64,
        pub redundancy: u8,
        pub threshold: u8,
    }

    /// A replica was assigned (`replica` counts from 1); commits are due by `commit_due`.
    #[derive(Drop, starknet::Event)]
    pub struct ReplicaAssigned {
        #[key]
        pub job_id: u64,
        #[key]
        pub worker: ContractAddress,
        pub replica: u8,
        pub commit_due: u64,
    }

    /// A replica committed to its result without showing it.
    #[derive(Drop, starknet::Event)]
    pub struct ResultCommitted {
        #[key]
        pub job_id: u64,
        #[key]
        pub worker: ContractAddress,
        pub sealed_result: u256,
    }

    /// The commit phase closed; reveals are due by `reveal_due`.
    #[derive(Drop, starknet::Event)]
    pub struct RevealOpened {
        #[key]
        pub job_id: u64,
        pub committed: u8,
        pub reveal_due: u64,
    }

    /// A replica revealed the DA commitment it had sealed.
    #[derive(Drop, starknet::Event)]
    pub struct ResultRevealed {
        #[key]
        pub job_id: u64,
        #[key]
        pub worker: ContractAddress,
        pub da_kind: u8,
        pub commitment: u256,
        pub size: u64,
        pub locator: ByteArray,
    }

    /// `agreeing` replicas revealed the same commitment, at least the threshold: it is the job's result.
    #[derive(Drop, starknet::Event)]
    pub struct ConsensusReached {
        #[key]
        pub job_id: u64,
        pub commitment: u256,
        pub agreeing: u8,
        pub challenge_ends_at: u64,
    }

    /// No commitment reached the threshold (`best` replicas agreed at most); the job is refunded.
    #[derive(Drop, starknet::Event)]
    pub struct ConsensusFailed {
        #[key]
        pub job_id: u64,
        pub best: u8,
    }

    /// A replica was at fault (1 no commit, 2 no reveal, 3 dissent, 4 a dispute lost) and slashed `slashed`.
    #[derive(Drop, starknet::Event)]
    pub struct ReplicaFaulted {
        #[key]
        pub job_id: u64,
        #[key]
        pub worker: ContractAddress,
        pub fault: u8,
        pub slashed: u256,
    }

    /// A job was posted and its reward escrowed.
    #[derive(Drop, starknet::Event)]
    pub struct JobPosted {
        #[key]
        pub job_id: u64,
        #[key]
        pub client: ContractAddress,
        pub spec_hash: u256,
        pub required_capabilities: u16,
        pub reward: u256,
        pub deadline: u64,
        pub max_attempts: u8,
        pub spec_uri: ByteArray,
    }

    /// The client cancelled an open job and got the reward back.
    #[derive(Drop, starknet::Event)]
    pub struct JobCancelled {
        #[key]
        pub job_id: u64,
        #[key]
        pub client: ContractAddress,
        pub refund: u256,
    }

    /// A worker was assigned; `attempts_left` counts the assignments still allowed after this one.
    #[derive(Drop, starknet::Event)]
    pub struct JobAssigned {
        #[key]
        pub job_id: u64,
        #[key]
        pub worker: ContractAddress,
        pub due: u64,
        pub attempts_left: u8,
    }

    /// A batch entry was not assigned; `reason` is the Solidity custom error's name: 'UnknownJob',
    /// 'JobStatusMismatch', 'JobDeadlinePassed', 'DeadlineTooSoon', 'NotRegistered', 'JailedWorker',
    /// 'BelowMinStake' or 'MissingCapabilities'.
    #[derive(Drop, starknet::Event)]
    pub struct AssignmentSkipped {
        #[key]
        pub job_id: u64,
        #[key]
        pub worker: ContractAddress,
        pub reason: felt252,
    }

    /// The assigned worker submitted a DA commitment of the result.
    #[derive(Drop, starknet::Event)]
    pub struct ResultSubmitted {
        #[key]
        pub job_id: u64,
        #[key]
        pub worker: ContractAddress,
        pub da_kind: u8,
        pub commitment: u256,
        pub size: u64,
        pub challenge_ends_at: u64,
        pub locator: ByteArray,
    }

    /// The client disputed the result and escrowed `bond`.
    #[derive(Drop, starknet::Event)]
    pub struct JobDisputed {
        #[key]
        pub job_id: u64,
        #[key]
        pub client: ContractAddress,
        pub resolve_by: u64,
        pub bond: u256,
    }

    /// A dispute bond left escrow: back to the client (worker at fault, or arbiter silent) or to the worker.
    #[derive(Drop, starknet::Event)]
    pub struct DisputeBondReleased {
        #[key]
        pub job_id: u64,
        #[key]
        pub to: ContractAddress,
        pub amount: u256,
    }

    /// The assigned worker handed the job back, paying `fee` to the treasury; the job reopened or was refunded.
    #[derive(Drop, starknet::Event)]
    pub struct JobDeclined {
        #[key]
        pub job_id: u64,
        #[key]
        pub worker: ContractAddress,
        pub reason: u8,
        pub fee: u256,
        pub reopened: bool,
    }

    /// A fault slash of `slashed` was split: `compensation` to the client, `fee` accrued to the treasury.
    #[derive(Drop, starknet::Event)]
    pub struct SlashDistributed {
        #[key]
        pub job_id: u64,
        #[key]
        pub worker: ContractAddress,
        #[key]
        pub client: ContractAddress,
        pub slashed: u256,
        pub compensation: u256,
        pub fee: u256,
    }

    /// The arbiter ruled on a dispute.
    #[derive(Drop, starknet::Event)]
    pub struct DisputeResolved {
        #[key]
        pub job_id: u64,
        #[key]
        pub arbiter: ContractAddress,
        pub worker_at_fault: bool,
    }

    /// An assignment passed its due time; the worker was slashed `slashed` (see `SlashDistributed`).
    #[derive(Drop, starknet::Event)]
    pub struct AssignmentExpired {
        #[key]
        pub job_id: u64,
        #[key]
        pub worker: ContractAddress,
        pub slashed: u256,
        pub reopened: bool,
    }

    /// The worker was paid `amount`; `fee` accrued to the protocol.
    #[derive(Drop, starknet::Event)]
    pub struct JobPaid {
        #[key]
        pub job_id: u64,
        #[key]
        pub worker: ContractAddress,
        pub amount: u256,
        pub fee: u256,
    }

    /// The reward went back to the client.
    #[derive(Drop, starknet::Event)]
    pub struct JobRefunded {
        #[key]
        pub job_id: u64,
        #[key]
        pub client: ContractAddress,
        pub amount: u256,
    }

    /// Accrued protocol fees went to the treasury.
    #[derive(Drop, starknet::Event)]
    pub struct FeesSwept {
        #[key]
        pub treasury: ContractAddress,
        pub amount: u256,
    }

    /// A governed parameter changed (also emitted once per parameter at deployment, from 0).
    #[derive(Drop, starknet::Event)]
    pub struct ParameterUpdated {
        #[key]
        pub key: felt252,
        pub previous: u256,
        pub current: u256,
    }

    /// Creates the job manager: `admin` holds DEFAULT_ADMIN_ROLE (the deployer, who hands it to the timelock);
    /// every parameter is checked against its bounds (`params.accrued_fees` is ignored).
    #[constructor]
    fn constructor(
        ref self: ContractState,
        token: ContractAddress,
        registry: ContractAddress,
        treasury: ContractAddress,
        admin: ContractAddress,
        params: Params,
        penalties: Penalties,
    ) {
        assert(
            token.is_non_zero() && registry.is_non_zero() && treasury.is_non_zero() && admin.is_non_zero(),
            'ZeroAddress',
        );
        self.token.write(token);
        self.registry.write(registry);
        self.treasury.write(treasury);
        self.access._grant_role(DEFAULT_ADMIN_ROLE, admin);
        self.set_protocol_fee_(params.protocol_fee_bps.into());
        self.set_slash_share_(params.slash_share_bps.into());
        self.set_assignment_timeout_(params.assignment_timeout.into());
        self.set_challenge_window_(params.challenge_window.into());
        self.set_dispute_period_(params.dispute_period.into());
        self.set_min_submit_window_(params.min_submit_window.into());
        self.set_slash_reward_multiple_(penalties.slash_reward_multiple_bps.into());
        self.set_compensation_(penalties.compensation_bps.into());
        self.set_decline_fee_(penalties.decline_fee_bps.into());
        self.set_dispute_bond_(penalties.dispute_bond_bps.into());
        self.set_consensus_share_(penalties.consensus_bps.into());
        self.set_reveal_window_(penalties.reveal_window.into());
    }

    #[abi(embed_v0)]
    impl JobManagerImpl of super::IJobManager<ContractState> {
        fn post_job(
            ref self: ContractState,
            spec_hash: u256,
            spec_uri: ByteArray,
            required_capabilities: u16,
            reward: u256,
            deadline: u64,
            max_attempts: u8,
        ) -> u64 {
            self.enter();
            let job_id = self
                .post_(spec_hash, spec_uri, required_capabilities, reward, deadline, max_attempts, JobStatus::Open);
            self.pull(get_caller_address(), reward);
            self.leave();
            job_id
        }

        fn post_redundant_job(
            ref self: ContractState,
            spec_hash: u256,
            spec_uri: ByteArray,
            required_capabilities: u16,
            reward: u256,
            deadline: u64,
            redundancy: u8,
            threshold: u8,
        ) -> u64 {
            self.enter();
            let consensus_bps: u32 = self.penalties.read().consensus_bps.into();
            let least_wide: u32 = (redundancy.into() * consensus_bps + 9_999) / 10_000;
            // At most `redundancy` (consensus_bps <= 10_000), so it fits a u8.
            let least: u8 = least_wide.try_into().unwrap();
            let threshold = if threshold == 0 {
                least
            } else {
                threshold
            };
            assert(
                redundancy >= 2 && redundancy <= bounds::MAX_REDUNDANCY && threshold >= least
                    && threshold <= redundancy,
                'InvalidRedundancy',
            );
            let job_id = self
                .post_(spec_hash, spec_uri, required_capabilities, reward, deadline, 1, JobStatus::Gathering);
            self
                .redundancy
                .write(
                    job_id, Redundancy { redundancy, threshold, assigned: 0, committed: 0, revealed: 0, agreeing: 0 },
                );
            self.emit(RedundancyRequested { job_id, redundancy, threshold });
            self.pull(get_caller_address(), reward);
            self.leave();
            job_id
        }

        fn commit_result(ref self: ContractState, job_id: u64, sealed_result: u256) {
            let mut job = self.jobs.read(job_id);
            if job.status != JobStatus::Gathering {
                job = self.job_in(job_id, JobStatus::Committing);
            }
            let worker = get_caller_address();
            let mut seat = self.seats.read((job_id, worker));
            assert(seat.phase == ReplicaPhase::Assigned, 'NotReplica');
            assert(get_block_timestamp() <= job.due, 'CommitOverdue');
            seat.phase = ReplicaPhase::Committed;
            seat.sealed_result = sealed_result;
            self.seats.write((job_id, worker), seat);
            let mut red = self.redundancy.read(job_id);
            red.committed += 1;
            self.redundancy.write(job_id, red);
            self.emit(ResultCommitted { job_id, worker, sealed_result });
            if red.committed == red.redundancy {
                self.open_reveal(job_id, job, red.committed, get_block_timestamp());
            }
        }

        fn reveal_result(
            ref self: ContractState,
            job_id: u64,
            da_kind: u8,
            commitment: u256,
            size: u64,
            salt: u256,
            locator: ByteArray,
        ) {
            self.enter();
            check_result(da_kind, @locator);
            let now = get_block_timestamp();
            let mut job = self.jobs.read(job_id);
            // Past the commit due, the commit phase closes with the first reveal (nobody need call expire first).
            if job.status == JobStatus::Committing && now > job.due {
                if !self.close_commits(job_id, job) {
                    self.leave();
                    return;
                }
            }
            let job = self.job_in(job_id, JobStatus::Revealing);
            let worker = get_caller_address();
            let mut seat = self.seats.read((job_id, worker));
            assert(seat.phase == ReplicaPhase::Committed, 'NotReplica');
            assert(now <= job.due, 'SubmissionOverdue');
            assert(
                commitment != 0 && seal(job_id, commitment, salt, worker) == seat.sealed_result, 'RevealMismatch',
            );
            seat.phase = ReplicaPhase::Revealed;
            seat.commitment = commitment;
            self.seats.write((job_id, worker), seat);
            let mut red = self.redundancy.read(job_id);
            red.revealed += 1;
            self.redundancy.write(job_id, red);
            self.emit(ResultRevealed { job_id, worker, da_kind, commitment, size, locator });
            if red.revealed == red.committed {
                self.settle(job_id, job, true, now);
            }
            self.leave();
        }

        fn seal_result(
            self: @ContractState, job_id: u64, commitment: u256, salt: u256, worker: ContractAddress,
        ) -> u256 {
            seal(job_id, commitment, salt, worker)
        }

        fn redundancy_of(self: @ContractState, job_id: u64) -> (Redundancy, u256) {
            (self.redundancy.read(job_id), self.consensus.read(job_id))
        }

        fn replica_of(self: @ContractState, job_id: u64, replica: u8) -> Replica {
            let worker = self.replica_workers.read((job_id, replica));
            let seat = self.seats.read((job_id, worker));
            Replica { worker, phase: seat.phase, sealed_result: seat.sealed_result, commitment: seat.commitment }
        }

        fn set_consensus_share(ref self: ContractState, bps: u256) {
            self.access.assert_only_role(DEFAULT_ADMIN_ROLE);
            self.set_consensus_share_(bps);
        }

        fn set_reveal_window(ref self: ContractState, secs: u256) {
            self.access.assert_only_role(DEFAULT_ADMIN_ROLE);
            self.set_reveal_window_(secs);
        }

        fn cancel_job(ref self: ContractState, job_id: u64) {
            self.enter();
            let mut job = self.jobs.read(job_id);
            // A redundant job may be cancelled until its first replica is assigned.
            if job.status != JobStatus::Gathering || self.redundancy.read(job_id).assigned != 0 {
                job = self.job_in(job_id, JobStatus::Open);
            }
            assert(get_caller_address() == job.client, 'NotClient');
            job.status = JobStatus::Cancelled;
            self.jobs.write(job_id, job);
            self.emit(JobCancelled { job_id, client: job.client, refund: job.reward });
            self.push(job.client, job.reward);
            self.leave();
        }

        fn assign(ref self: ContractState, job_id: u64, worker: ContractAddress) {
            self.access.assert_only_role(COORDINATOR_ROLE);
            let p = self.params.read();
            let reason = self.try_assign(job_id, worker, p.assignment_timeout, p.min_submit_window);
            if reason != 0 {
                core::panic_with_felt252(reason);
            }
        }

        fn assign_batch(ref self: ContractState, job_ids: Span<u64>, workers: Span<ContractAddress>) -> u32 {
            self.access.assert_only_role(COORDINATOR_ROLE);
            assert(job_ids.len() == workers.len(), 'LengthMismatch');
            let p = self.params.read();
            let mut assigned: u32 = 0;
            let mut i = 0;
            while i < job_ids.len() {
                let (job_id, worker) = (*job_ids[i], *workers[i]);
                let reason = self.try_assign(job_id, worker, p.assignment_timeout, p.min_submit_window);
                if reason == 0 {
                    assigned += 1;
                } else {
                    self.emit(AssignmentSkipped { job_id, worker, reason });
                }
                i += 1;
            };
            assigned
        }

        fn submit_result(
            ref self: ContractState, job_id: u64, da_kind: u8, commitment: u256, size: u64, locator: ByteArray,
        ) {
            check_result(da_kind, @locator);
            let mut job = self.job_in(job_id, JobStatus::Assigned);
            let worker = get_caller_address();
            assert(worker == job.worker, 'NotAssignedWorker');
            let now = get_block_timestamp();
            assert(now <= job.due, 'SubmissionOverdue');
            let challenge_ends_at = now + self.params.read().challenge_window;
            job.status = JobStatus::Submitted;
            job.due = challenge_ends_at;
            self.jobs.write(job_id, job);
            self.emit(ResultSubmitted { job_id, worker, da_kind, commitment, size, challenge_ends_at, locator });
        }

        fn accept_result(ref self: ContractState, job_id: u64) {
            self.enter();
            let job = self.job_in(job_id, JobStatus::Submitted);
            assert(get_caller_address() == job.client, 'NotClient');
            self.pay(job_id, job);
            self.leave();
        }

        fn decline_job(ref self: ContractState, job_id: u64, reason: u8) {
            self.enter();
            assert(reason != 0 && reason <= DECLINE_CANNOT_START, 'InvalidDeclineReason');
            let job = self.jobs.read(job_id);
            if job.status == JobStatus::Gathering || job.status == JobStatus::Committing {
                self.decline_replica(job_id, job, reason);
                self.leave();
                return;
            }
            let job = self.job_in(job_id, JobStatus::Assigned);
            let worker = get_caller_address();
            assert(worker == job.worker, 'NotAssignedWorker');
            let now = get_block_timestamp();
            assert(now <= job.due, 'SubmissionOverdue');
            // The registry caps the fee at the worker's slashable stake and sends it here; all of it accrues.
            let mut fee = bps_of(job.reward, self.penalties.read().decline_fee_bps);
            if fee != 0 {
                fee = self.registry_().slash(worker, fee, get_contract_address(), job_id);
                self.accrue(fee);
            }
            let reopened = self.reopens(@job, now);
            self.emit(JobDeclined { job_id, worker, reason, fee, reopened });
            if reopened {
                self.reopen(job_id, job);
            } else {
                self.refund(job_id, job);
            }
            self.leave();
        }

        fn dispute_result(ref self: ContractState, job_id: u64) {
            self.enter();
            let mut job = self.job_in(job_id, JobStatus::Submitted);
            let client = get_caller_address();
            assert(client == job.client, 'NotClient');
            let now = get_block_timestamp();
            assert(now < job.due, 'ChallengeWindowClosed');
            let resolve_by = now + self.params.read().dispute_period;
            let bond = bps_of(job.reward, self.penalties.read().dispute_bond_bps);
            job.status = JobStatus::Disputed;
            job.due = resolve_by;
            self.jobs.write(job_id, job);
            if bond != 0 {
                self.dispute_bonds.write(job_id, bond);
            }
            self.emit(JobDisputed { job_id, client, resolve_by, bond });
            if bond != 0 {
                self.pull(client, bond);
            }
            self.leave();
        }

        fn resolve_dispute(ref self: ContractState, job_id: u64, worker_at_fault: bool) {
            self.access.assert_only_role(ARBITER_ROLE);
            self.enter();
            let job = self.job_in(job_id, JobStatus::Disputed);
            assert(get_block_timestamp() <= job.due, 'DisputePeriodOver');
            self.emit(DisputeResolved { job_id, arbiter: get_caller_address(), worker_at_fault });
            if worker_at_fault {
                self.refund(job_id, job);
                self.release_bond(job_id, job.client);
                if job.worker.is_non_zero() {
                    self.slash_fault(job_id, job.worker, job.client, job.reward);
                    self.jail(job.worker);
                } else {
                    let agreeing = self.agreeing(job_id);
                    let mut i = 0;
                    while i < agreeing.len() {
                        let worker = *agreeing[i];
                        let slashed = self.slash_(job_id, worker, job.client, job.reward, true);
                        self.emit(ReplicaFaulted { job_id, worker, fault: FAULT_DISPUTE_LOST, slashed });
                        self.jail(worker);
                        i += 1;
                    };
                }
            } else if job.worker.is_non_zero() {
                self.pay(job_id, job);
                self.release_bond(job_id, job.worker);
            } else {
                self.pay_replicas(job_id, job, true);
            }
            self.leave();
        }

        fn finalize(ref self: ContractState, job_id: u64) {
            self.enter();
            let job = self.job_in(job_id, JobStatus::Submitted);
            assert(get_block_timestamp() >= job.due, 'ChallengeWindowOpen');
            self.pay(job_id, job);
            self.leave();
        }

        fn expire(ref self: ContractState, job_id: u64) {
            self.enter();
            let job = self.jobs.read(job_id);
            let now = get_block_timestamp();
            let status = job.status;
            if status == JobStatus::Assigned && now > job.due {
                let worker = job.worker;
                let reopened = self.reopens(@job, now);
                if reopened {
                    self.reopen(job_id, job);
                } else {
                    self.refund(job_id, job);
                }
                let slashed = self.slash_fault(job_id, worker, job.client, job.reward);
                self.emit(AssignmentExpired { job_id, worker, slashed, reopened });
            } else if status == JobStatus::Open && now >= job.deadline {
                self.refund(job_id, job);
            } else if status == JobStatus::Disputed && now > job.due {
                // The arbiter stayed silent: the result stands, and the client gets its bond back.
                self.pay(job_id, job);
                self.release_bond(job_id, job.client);
            } else if is_redundant(status) && now >= phase_end(@job) {
                if status == JobStatus::Gathering {
                    // Too few replicas by the commit due (or the deadline): nobody's fault, the client is refunded.
                    self.emit(ConsensusFailed { job_id, best: 0 });
                    self.refund(job_id, job);
                } else if status == JobStatus::Committing {
                    self.close_commits(job_id, job);
                } else {
                    // The reveal window has passed: the challenge window runs from its end.
                    self.settle(job_id, job, true, job.due);
                }
            } else {
                assert(status != JobStatus::None, 'UnknownJob');
                core::panic_with_felt252('NotExpired');
            }
            self.leave();
        }

        fn sweep_fees(ref self: ContractState) {
            self.enter();
            let mut p = self.params.read();
            let amount = p.accrued_fees;
            assert(amount != 0, 'NoFees');
            p.accrued_fees = 0;
            self.params.write(p);
            let treasury = self.treasury.read();
            self.emit(FeesSwept { treasury, amount });
            self.push(treasury, amount);
            self.leave();
        }

        fn set_protocol_fee(ref self: ContractState, bps: u256) {
            self.access.assert_only_role(DEFAULT_ADMIN_ROLE);
            self.set_protocol_fee_(bps);
        }

        fn set_slash_share(ref self: ContractState, bps: u256) {
            self.access.assert_only_role(DEFAULT_ADMIN_ROLE);
            self.set_slash_share_(bps);
        }

        fn set_assignment_timeout(ref self: ContractState, secs: u256) {
            self.access.assert_only_role(DEFAULT_ADMIN_ROLE);
            self.set_assignment_timeout_(secs);
        }

        fn set_challenge_window(ref self: ContractState, secs: u256) {
            self.access.assert_only_role(DEFAULT_ADMIN_ROLE);
            self.set_challenge_window_(secs);
        }

        fn set_dispute_period(ref self: ContractState, secs: u256) {
            self.access.assert_only_role(DEFAULT_ADMIN_ROLE);
            self.set_dispute_period_(secs);
        }

        fn set_min_submit_window(ref self: ContractState, secs: u256) {
            self.access.assert_only_role(DEFAULT_ADMIN_ROLE);
            self.set_min_submit_window_(secs);
        }

        fn set_slash_reward_multiple(ref self: ContractState, bps: u256) {
            self.access.assert_only_role(DEFAULT_ADMIN_ROLE);
            self.set_slash_reward_multiple_(bps);
        }

        fn set_compensation(ref self: ContractState, bps: u256) {
            self.access.assert_only_role(DEFAULT_ADMIN_ROLE);
            self.set_compensation_(bps);
        }

        fn set_decline_fee(ref self: ContractState, bps: u256) {
            self.access.assert_only_role(DEFAULT_ADMIN_ROLE);
            self.set_decline_fee_(bps);
        }

        fn set_dispute_bond(ref self: ContractState, bps: u256) {
            self.access.assert_only_role(DEFAULT_ADMIN_ROLE);
            self.set_dispute_bond_(bps);
        }

        fn job_of(self: @ContractState, job_id: u64) -> Job {
            self.jobs.read(job_id)
        }

        fn job_count(self: @ContractState) -> u64 {
            self.job_count.read()
        }

        fn parameters(self: @ContractState) -> Params {
            self.params.read()
        }

        fn penalties(self: @ContractState) -> Penalties {
            self.penalties.read()
        }

        fn dispute_bond_of(self: @ContractState, job_id: u64) -> u256 {
            self.dispute_bonds.read(job_id)
        }

        fn token(self: @ContractState) -> ContractAddress {
            self.token.read()
        }

        fn registry(self: @ContractState) -> ContractAddress {
            self.registry.read()
        }

        fn treasury(self: @ContractState) -> ContractAddress {
            self.treasury.read()
        }
    }

    /// A result's DA reference: a kind Starknet can bind (1 or 2) and a locator of bounded length.
    fn check_result(da_kind: u8, locator: @ByteArray) {
        bounds::check_uri(locator);
        assert(da_kind == DA_KIND_LOCAL || da_kind == DA_KIND_CELESTIA, 'UnknownDaKind');
    }

    /// poseidon(job_id, commitment.low, commitment.high, salt.low, salt.high, worker), as a u256.
    fn seal(job_id: u64, commitment: u256, salt: u256, worker: ContractAddress) -> u256 {
        let felts: Array<felt252> = array![
            job_id.into(), commitment.low.into(), commitment.high.into(), salt.low.into(), salt.high.into(),
            worker.into(),
        ];
        core::poseidon::poseidon_hash_span(felts.span()).into()
    }

    /// Whether a status belongs to a redundant job's phases.
    fn is_redundant(status: JobStatus) -> bool {
        status == JobStatus::Gathering || status == JobStatus::Committing || status == JobStatus::Revealing
    }

    /// When a redundant job's current phase may be closed by `expire`: the deadline while no replica is
    /// assigned, else just after the phase's due time.
    fn phase_end(job: @Job) -> u64 {
        if *job.due == 0 {
            *job.deadline
        } else {
            *job.due + 1
        }
    }

    #[generate_trait]
    impl InternalImpl of InternalTrait {
        /// Records a new job (checks shared by both posts) and emits `JobPosted`; the caller escrows the reward.
        fn post_(
            ref self: ContractState,
            spec_hash: u256,
            spec_uri: ByteArray,
            required_capabilities: u16,
            reward: u256,
            deadline: u64,
            max_attempts: u8,
            status: JobStatus,
        ) -> u64 {
            assert(reward != 0, 'ZeroReward');
            assert(reward <= bounds::MAX_AMOUNT, 'AmountTooLarge');
            assert(deadline > get_block_timestamp(), 'DeadlineNotInFuture');
            assert(max_attempts != 0 && max_attempts <= bounds::MAX_ATTEMPTS, 'InvalidMaxAttempts');
            bounds::check_uri(@spec_uri);
            let client = get_caller_address();
            let job_id = self.job_count.read() + 1;
            self.job_count.write(job_id);
            self
                .jobs
                .write(
                    job_id,
                    Job {
                        client,
                        reward,
                        worker: Zero::zero(),
                        deadline,
                        due: 0,
                        status,
                        attempts_left: max_attempts,
                        required_capabilities,
                    },
                );
            self
                .emit(
                    JobPosted {
                        job_id, client, spec_hash, required_capabilities, reward, deadline, max_attempts, spec_uri,
                    },
                );
            job_id
        }

        /// Assigns one replica of a gathering job, or returns why not (changing nothing). The first replica sets
        /// the commit due; each later one must still have the minimum submit window before it.
        fn try_assign_replica(
            ref self: ContractState, job_id: u64, mut job: Job, worker: ContractAddress, timeout: u64, window: u64,
        ) -> felt252 {
            let now = get_block_timestamp();
            let mut due = job.due;
            if due == 0 {
                if now >= job.deadline {
                    return 'JobDeadlinePassed';
                }
                if job.deadline < now + window {
                    return 'DeadlineTooSoon';
                }
                due = if now + timeout > job.deadline {
                    job.deadline
                } else {
                    now + timeout
                };
            } else if due < now + window {
                return 'DeadlineTooSoon';
            }
            let mut seat = self.seats.read((job_id, worker));
            if worker == job.client || seat.index != 0 {
                return 'ReplicaNotIndependent';
            }
            let reason = self.registry_().assignable(worker, job.required_capabilities);
            if reason != 0 {
                return reason;
            }
            let mut red = self.redundancy.read(job_id);
            red.assigned += 1;
            self.redundancy.write(job_id, red);
            self.replica_workers.write((job_id, red.assigned), worker);
            seat.index = red.assigned;
            seat.phase = ReplicaPhase::Assigned;
            self.seats.write((job_id, worker), seat);
            job.due = due;
            if red.assigned == red.redundancy {
                job.status = JobStatus::Committing;
            }
            self.jobs.write(job_id, job);
            self.emit(ReplicaAssigned { job_id, worker, replica: red.assigned, commit_due: due });
            0
        }

        /// Opens the reveal window from `start`: reveals are due within the reveal window.
        fn open_reveal(ref self: ContractState, job_id: u64, mut job: Job, committed: u8, start: u64) {
            let reveal_due = start + self.penalties.read().reveal_window;
            job.status = JobStatus::Revealing;
            job.due = reveal_due;
            self.jobs.write(job_id, job);
            self.emit(RevealOpened { job_id, committed, reveal_due });
        }

        /// Closes a commit phase whose due time has passed; whether reveals may go on. Too few commits for the
        /// threshold: settled at once (refunded; the replicas that did not commit slashed). Otherwise the reveal
        /// window runs from the commit due, not from this call; a window already over is settled at once.
        fn close_commits(ref self: ContractState, job_id: u64, job: Job) -> bool {
            let red = self.redundancy.read(job_id);
            let now = get_block_timestamp();
            if red.committed < red.threshold {
                self.settle(job_id, job, false, now);
                return false;
            }
            self.open_reveal(job_id, job, red.committed, job.due);
            let job = self.jobs.read(job_id);
            if now <= job.due {
                return true;
            }
            self.settle(job_id, job, true, job.due);
            false
        }

        /// A replica hands its assignment back before committing (by the commit due) for the decline fee, to the
        /// treasury; it is not at fault when the job settles.
        fn decline_replica(ref self: ContractState, job_id: u64, job: Job, reason: u8) {
            let worker = get_caller_address();
            let mut seat = self.seats.read((job_id, worker));
            assert(seat.phase == ReplicaPhase::Assigned, 'NotReplica');
            assert(get_block_timestamp() <= job.due, 'SubmissionOverdue');
            seat.phase = ReplicaPhase::Declined;
            self.seats.write((job_id, worker), seat);
            let mut fee = bps_of(job.reward, self.penalties.read().decline_fee_bps);
            if fee != 0 {
                fee = self.registry_().slash(worker, fee, get_contract_address(), job_id);
                self.accrue(fee);
            }
            self.emit(JobDeclined { job_id, worker, reason, fee, reopened: false });
        }

        /// Settles a redundant job's reveals (at most MAX_REDUNDANCY replicas). The commitment most replicas
        /// revealed is the result when at least the threshold agree; then the job waits out the challenge window
        /// from `start`. Otherwise the job is refunded. Either way the silent replicas are slashed.
        fn settle(ref self: ContractState, job_id: u64, mut job: Job, reveals_were_due: bool, start: u64) {
            let mut red = self.redundancy.read(job_id);
            let (best, agreeing) = self.most_revealed(job_id, red.assigned);
            if agreeing >= red.threshold {
                let challenge_ends_at = start + self.params.read().challenge_window;
                self.consensus.write(job_id, best);
                red.agreeing = agreeing;
                self.redundancy.write(job_id, red);
                job.status = JobStatus::Submitted;
                job.due = challenge_ends_at;
                self.jobs.write(job_id, job);
                self.emit(ConsensusReached { job_id, commitment: best, agreeing, challenge_ends_at });
            } else {
                self.emit(ConsensusFailed { job_id, best: agreeing });
                self.refund(job_id, job);
            }
            self.slash_silent(job_id, job, red.assigned, reveals_were_due);
        }

        /// The commitment most revealed replicas agree on, and how many.
        fn most_revealed(self: @ContractState, job_id: u64, n: u8) -> (u256, u8) {
            let mut revealed: Array<u256> = array![];
            let mut i: u8 = 1;
            while i <= n {
                let seat = self.seats.read((job_id, self.replica_workers.read((job_id, i))));
                if seat.phase == ReplicaPhase::Revealed {
                    revealed.append(seat.commitment);
                }
                i += 1;
            };
            let (mut best, mut count): (u256, u8) = (0, 0);
            let mut a = 0;
            while a < revealed.len() {
                let mut same: u8 = 0;
                let mut b = 0;
                while b < revealed.len() {
                    if *revealed[b] == *revealed[a] {
                        same += 1;
                    }
                    b += 1;
                };
                if same > count {
                    best = *revealed[a];
                    count = same;
                }
                a += 1;
            };
            (best, count)
        }

        /// Slashes every replica that did not commit, and, once reveals were due, every one that did not reveal:
        /// to the treasury only (a client gains nothing from a job its replicas cannot run).
        fn slash_silent(ref self: ContractState, job_id: u64, job: Job, n: u8, reveals_were_due: bool) {
            let mut i: u8 = 1;
            while i <= n {
                let worker = self.replica_workers.read((job_id, i));
                let phase = self.seats.read((job_id, worker)).phase;
                let fault = if phase == ReplicaPhase::Assigned {
                    FAULT_NO_COMMIT
                } else if phase == ReplicaPhase::Committed && reveals_were_due {
                    FAULT_NO_REVEAL
                } else {
                    0
                };
                if fault != 0 {
                    let slashed = self.slash_(job_id, worker, job.client, job.reward, false);
                    self.emit(ReplicaFaulted { job_id, worker, fault, slashed });
                }
                i += 1;
            };
        }

        /// The replicas whose reveal matched the consensus, in replica order.
        fn agreeing(self: @ContractState, job_id: u64) -> Array<ContractAddress> {
            let red = self.redundancy.read(job_id);
            let consensus = self.consensus.read(job_id);
            let mut out: Array<ContractAddress> = array![];
            let mut i: u8 = 1;
            while i <= red.assigned {
                let worker = self.replica_workers.read((job_id, i));
                let seat = self.seats.read((job_id, worker));
                if seat.phase == ReplicaPhase::Revealed && seat.commitment == consensus {
                    out.append(worker);
                }
                i += 1;
            };
            out
        }

        /// Pays a redundant job: the agreeing replicas share the reward less the fee equally; what does not divide
        /// evenly accrues with the fee (reported on the first replica's `JobPaid`). With `with_bond`, they also
        /// share the held dispute bond (the first takes what does not divide evenly). Then dissent is slashed.
        fn pay_replicas(ref self: ContractState, job_id: u64, mut job: Job, with_bond: bool) {
            let agreeing = self.agreeing(job_id);
            let m: u256 = agreeing.len().into();
            let reward = job.reward;
            let fee = bps_of(reward, self.params.read().protocol_fee_bps);
            let share = (reward - fee) / m;
            let fee_share = fee / m;
            let kept = reward - share * m;
            let mut bond = 0;
            if with_bond {
                bond = self.dispute_bonds.read(job_id);
                if bond != 0 {
                    self.dispute_bonds.write(job_id, 0);
                }
            }
            let part = bond / m;
            job.status = JobStatus::Paid;
            self.jobs.write(job_id, job);
            self.accrue(kept);
            let mut i = 0;
            while i < agreeing.len() {
                let worker = *agreeing[i];
                let first = i == 0;
                let bond_part = if first {
                    bond - part * (m - 1)
                } else {
                    part
                };
                let fee_part = if first {
                    kept - fee_share * (m - 1)
                } else {
                    fee_share
                };
                self.emit(JobPaid { job_id, worker, amount: share, fee: fee_part });
                if bond_part != 0 {
                    self.emit(DisputeBondReleased { job_id, to: worker, amount: bond_part });
                }
                self.push(worker, share + bond_part);
                i += 1;
            };
            self.slash_dissent(job_id, job);
        }

        /// The result stands: the replicas that revealed something else were wrong, slashed to the treasury.
        fn slash_dissent(ref self: ContractState, job_id: u64, job: Job) {
            let consensus = self.consensus.read(job_id);
            let n = self.redundancy.read(job_id).assigned;
            let mut i: u8 = 1;
            while i <= n {
                let worker = self.replica_workers.read((job_id, i));
                let seat = self.seats.read((job_id, worker));
                if seat.phase == ReplicaPhase::Revealed && seat.commitment != consensus {
                    let slashed = self.slash_(job_id, worker, job.client, job.reward, false);
                    self.emit(ReplicaFaulted { job_id, worker, fault: FAULT_DISSENT, slashed });
                }
                i += 1;
            };
        }

        /// Jails `worker` unless it is jailed already.
        fn jail(ref self: ContractState, worker: ContractAddress) {
            let registry = self.registry_();
            if !registry.worker_of(worker).jailed {
                registry.jail(worker);
            }
        }

        /// The worker registry, to call.
        fn registry_(self: @ContractState) -> IWorkerRegistryDispatcher {
            IWorkerRegistryDispatcher { contract_address: self.registry.read() }
        }

        /// The job, which must be in `expected` status: panics with 'UnknownJob' for an id never posted, else
        /// 'JobStatusMismatch'.
        fn job_in(self: @ContractState, job_id: u64, expected: JobStatus) -> Job {
            let job = self.jobs.read(job_id);
            if job.status != expected {
                assert(job.status != JobStatus::None, 'UnknownJob');
                core::panic_with_felt252('JobStatusMismatch');
            }
            job
        }

        /// Assigns `job_id` to `worker`, or returns why not (changing nothing): a skip reason, or 0 when assigned.
        fn try_assign(
            ref self: ContractState, job_id: u64, worker: ContractAddress, timeout: u64, window: u64,
        ) -> felt252 {
            let mut job = self.jobs.read(job_id);
            if job.status == JobStatus::Gathering {
                return self.try_assign_replica(job_id, job, worker, timeout, window);
            }
            if job.status != JobStatus::Open {
                return if job.status == JobStatus::None {
                    'UnknownJob'
                } else {
                    'JobStatusMismatch'
                };
            }
            let now = get_block_timestamp();
            if now >= job.deadline {
                return 'JobDeadlinePassed';
            }
            if job.deadline < now + window {
                return 'DeadlineTooSoon';
            }
            let reason = self.registry_().assignable(worker, job.required_capabilities);
            if reason != 0 {
                return reason;
            }
            let due = if now + timeout > job.deadline {
                job.deadline
            } else {
                now + timeout
            };
            // An open job always has an attempt left: it reopens only when one remains.
            job.attempts_left -= 1;
            job.worker = worker;
            job.due = due;
            job.status = JobStatus::Assigned;
            self.jobs.write(job_id, job);
            self.emit(JobAssigned { job_id, worker, due, attempts_left: job.attempts_left });
            0
        }

        /// Whether an assignment handed back or expired at `now` reopens the job: attempts remain and the minimum
        /// submit window still fits before the deadline.
        fn reopens(self: @ContractState, job: @Job, now: u64) -> bool {
            *job.attempts_left != 0 && now + self.params.read().min_submit_window <= *job.deadline
        }

        /// Opens the job again for another assignment (the attempt stays used).
        fn reopen(ref self: ContractState, job_id: u64, mut job: Job) {
            job.status = JobStatus::Open;
            job.worker = Zero::zero();
            job.due = 0;
            self.jobs.write(job_id, job);
        }

        /// Pays the worker the reward less the protocol fee, which accrues. Status Paid.
        fn pay(ref self: ContractState, job_id: u64, mut job: Job) {
            if job.worker.is_zero() {
                self.pay_replicas(job_id, job, false);
                return;
            }
            let fee = bps_of(job.reward, self.params.read().protocol_fee_bps);
            let amount = job.reward - fee;
            job.status = JobStatus::Paid;
            self.jobs.write(job_id, job);
            self.accrue(fee);
            self.emit(JobPaid { job_id, worker: job.worker, amount, fee });
            self.push(job.worker, amount);
        }

        /// Returns the reward to the client. Status Refunded.
        fn refund(ref self: ContractState, job_id: u64, mut job: Job) {
            job.status = JobStatus::Refunded;
            self.jobs.write(job_id, job);
            self.emit(JobRefunded { job_id, client: job.client, amount: job.reward });
            self.push(job.client, job.reward);
        }

        /// Sends a held dispute bond to `to`, if there is one.
        fn release_bond(ref self: ContractState, job_id: u64, to: ContractAddress) {
            let amount = self.dispute_bonds.read(job_id);
            if amount != 0 {
                self.dispute_bonds.write(job_id, 0);
                self.emit(DisputeBondReleased { job_id, to, amount });
                self.push(to, amount);
            }
        }

        /// A fault slash of `worker`: min(slashable x share, reward x multiple), taken here from the registry; the
        /// client gets at most reward x compensation and the rest accrues. Returns what was taken.
        fn slash_fault(
            ref self: ContractState, job_id: u64, worker: ContractAddress, client: ContractAddress, reward: u256,
        ) -> u256 {
            self.slash_(job_id, worker, client, reward, true)
        }

        /// `slash_fault`, with compensation to the client only when `compensate` (a replica's silence or dissent
        /// goes all to the treasury).
        fn slash_(
            ref self: ContractState,
            job_id: u64,
            worker: ContractAddress,
            client: ContractAddress,
            reward: u256,
            compensate: bool,
        ) -> u256 {
            let pen = self.penalties.read();
            let registry = self.registry_();
            let by_share = bps_of(registry.slashable_of(worker), self.params.read().slash_share_bps);
            let amount = min(by_share, bps_of(reward, pen.slash_reward_multiple_bps));
            if amount == 0 {
                return 0;
            }
            let slashed = registry.slash(worker, amount, get_contract_address(), job_id);
            let max_compensation = if compensate {
                bps_of(reward, pen.compensation_bps)
            } else {
                0
            };
            let compensation = min(slashed, max_compensation);
            let fee = slashed - compensation;
            self.accrue(fee);
            self.emit(SlashDistributed { job_id, worker, client, slashed, compensation, fee });
            if compensation != 0 {
                self.push(client, compensation);
            }
            slashed
        }

        /// Adds `fee` to the fees awaiting `sweep_fees`.
        fn accrue(ref self: ContractState, fee: u256) {
            if fee != 0 {
                let mut p = self.params.read();
                p.accrued_fees += fee;
                self.params.write(p);
            }
        }

        /// Takes `amount` from `from` into escrow (reward, dispute bond). One of the two token movements.
        fn pull(ref self: ContractState, from: ContractAddress, amount: u256) {
            let token = IERC20Dispatcher { contract_address: self.token.read() };
            assert(token.transfer_from(from, get_contract_address(), amount), 'SafeERC20FailedOperation');
        }

        /// Sends `amount` out of escrow. One of the two token movements.
        fn push(ref self: ContractState, to: ContractAddress, amount: u256) {
            let token = IERC20Dispatcher { contract_address: self.token.read() };
            assert(token.transfer(to, amount), 'SafeERC20FailedOperation');
        }

        /// Reentrancy guard: panics when a guarded function is already running.
        fn enter(ref self: ContractState) {
            assert(!self.entered.read(), 'ReentrancyGuardReentrantCall');
            self.entered.write(true);
        }

        /// Ends a guarded function.
        fn leave(ref self: ContractState) {
            self.entered.write(false);
        }

        /// Checks `value` against its bounds, emits `ParameterUpdated` from `previous` and returns `value`.
        fn updated(ref self: ContractState, key: felt252, previous: u256, value: u256, min: u256, max: u256) -> u256 {
            bounds::check_bounds(key, value, min, max);
            self.emit(ParameterUpdated { key, previous, current: value });
            value
        }

        // The setters' bodies, shared by the constructor and the DEFAULT_ADMIN_ROLE setters: each checks its bounds,
        // emits `ParameterUpdated` and stores the value, which fits its field (every bound is below the type's max).

        fn set_protocol_fee_(ref self: ContractState, bps: u256) {
            let mut p = self.params.read();
            let v = self.updated(PROTOCOL_FEE_BPS, p.protocol_fee_bps.into(), bps, 0, bounds::MAX_PROTOCOL_FEE_BPS);
            p.protocol_fee_bps = v.try_into().unwrap();
            self.params.write(p);
        }

        fn set_slash_share_(ref self: ContractState, bps: u256) {
            let mut p = self.params.read();
            let v = self
                .updated(
                    SLASH_SHARE_BPS, p.slash_share_bps.into(), bps, bounds::MIN_SLASH_SHARE_BPS,
                    bounds::MAX_SLASH_SHARE_BPS,
                );
            p.slash_share_bps = v.try_into().unwrap();
            self.params.write(p);
        }

        fn set_assignment_timeout_(ref self: ContractState, secs: u256) {
            let mut p = self.params.read();
            let v = self
                .updated(
                    ASSIGNMENT_TIMEOUT, p.assignment_timeout.into(), secs, bounds::MIN_ASSIGNMENT_TIMEOUT,
                    bounds::MAX_ASSIGNMENT_TIMEOUT,
                );
            p.assignment_timeout = v.try_into().unwrap();
            self.params.write(p);
        }

        fn set_challenge_window_(ref self: ContractState, secs: u256) {
            let mut p = self.params.read();
            let v = self
                .updated(
                    CHALLENGE_WINDOW, p.challenge_window.into(), secs, bounds::MIN_CHALLENGE_WINDOW,
                    bounds::MAX_CHALLENGE_WINDOW,
                );
            p.challenge_window = v.try_into().unwrap();
            self.params.write(p);
        }

        fn set_dispute_period_(ref self: ContractState, secs: u256) {
            let mut p = self.params.read();
            let v = self
                .updated(
                    DISPUTE_PERIOD, p.dispute_period.into(), secs, bounds::MIN_DISPUTE_PERIOD,
                    bounds::MAX_DISPUTE_PERIOD,
                );
            p.dispute_period = v.try_into().unwrap();
            self.params.write(p);
        }

        fn set_min_submit_window_(ref self: ContractState, secs: u256) {
            let mut p = self.params.read();
            let v = self
                .updated(
                    MIN_SUBMIT_WINDOW, p.min_submit_window.into(), secs, bounds::MIN_MIN_SUBMIT_WINDOW,
                    bounds::MAX_MIN_SUBMIT_WINDOW,
                );
            p.min_submit_window = v.try_into().unwrap();
            self.params.write(p);
        }

        fn set_slash_reward_multiple_(ref self: ContractState, bps: u256) {
            let mut q = self.penalties.read();
            let v = self
                .updated(
                    SLASH_REWARD_MULTIPLE_BPS, q.slash_reward_multiple_bps.into(), bps,
                    bounds::MIN_SLASH_REWARD_MULTIPLE_BPS, bounds::MAX_SLASH_REWARD_MULTIPLE_BPS,
                );
            q.slash_reward_multiple_bps = v.try_into().unwrap();
            self.penalties.write(q);
        }

        fn set_compensation_(ref self: ContractState, bps: u256) {
            let mut q = self.penalties.read();
            let v = self.updated(COMPENSATION_BPS, q.compensation_bps.into(), bps, 0, bounds::MAX_COMPENSATION_BPS);
            q.compensation_bps = v.try_into().unwrap();
            self.penalties.write(q);
        }

        fn set_decline_fee_(ref self: ContractState, bps: u256) {
            let mut q = self.penalties.read();
            let v = self.updated(DECLINE_FEE_BPS, q.decline_fee_bps.into(), bps, 0, bounds::MAX_DECLINE_FEE_BPS);
            q.decline_fee_bps = v.try_into().unwrap();
            self.penalties.write(q);
        }

        fn set_consensus_share_(ref self: ContractState, bps: u256) {
            let mut q = self.penalties.read();
            let v = self
                .updated(
                    CONSENSUS_BPS, q.consensus_bps.into(), bps, bounds::MIN_CONSENSUS_BPS, bounds::MAX_CONSENSUS_BPS,
                );
            q.consensus_bps = v.try_into().unwrap();
            self.penalties.write(q);
        }

        fn set_reveal_window_(ref self: ContractState, secs: u256) {
            let mut q = self.penalties.read();
            let v = self
                .updated(
                    REVEAL_WINDOW, q.reveal_window.into(), secs, bounds::MIN_REVEAL_WINDOW, bounds::MAX_REVEAL_WINDOW,
                );
            q.reveal_window = v.try_into().unwrap();
            self.penalties.write(q);
        }

        fn set_dispute_bond_(ref self: ContractState, bps: u256) {
            let mut q = self.penalties.read();
            let v = self.updated(DISPUTE_BOND_BPS, q.dispute_bond_bps.into(), bps, 0, bounds::MAX_DISPUTE_BOND_BPS);
            q.dispute_bond_bps = v.try_into().unwrap();
            self.penalties.write(q);
        }
    }

    /// The smaller of `a` and `b`.
    fn min(a: u256, b: u256) -> u256 {
        if a < b {
            a
        } else {
            b
        }
    }
}
