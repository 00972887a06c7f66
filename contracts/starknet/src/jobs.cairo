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
//! Token conservation: the job manager's token balance equals the rewards of jobs in Open, Assigned, Submitted or
//! Disputed status, plus the dispute bonds held, plus the accrued fees. Only `pull` (escrow, bond) and `push`
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

/// Decline reasons of `decline_job`.
pub const DECLINE_SPEC_UNREACHABLE: u8 = 1;
pub const DECLINE_SPEC_HASH_MISMATCH: u8 = 2;
pub const DECLINE_LIMITS_EXCEEDED: u8 = 3;
pub const DECLINE_CANNOT_START: u8 = 4;

/// Where a job is in its life (serialized as its index: None 0, Open 1, ... Refunded 7, as in Solidity).
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
    /// Cancels an open job and refunds the client (client only). Emits `JobCancelled`.
    fn cancel_job(ref self: TState, job_id: u64);
    /// Assigns an open job to an eligible worker (COORDINATOR_ROLE); panics with the skip reason
    /// `assign_batch` would give. Emits `JobAssigned`.
    fn assign(ref self: TState, job_id: u64, worker: ContractAddress);
    /// Assigns many jobs (COORDINATOR_ROLE); an entry that cannot be assigned is skipped with its reason instead
    /// of failing the batch. Returns how many were assigned. Emits `JobAssigned` or `AssignmentSkipped` per entry.
    fn assign_batch(ref self: TState, job_ids: Span<u64>, workers: Span<ContractAddress>) -> u32;
    /// Submits the DA commitment of the result (assigned worker only, by the due time): `da_kind` 0 local store,
    /// 1 Celestia, 2 EIP-4844; `locator` (at most 1024 bytes) is emitted, not stored. Emits `ResultSubmitted`.
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
        ARBITER_ROLE, ASSIGNMENT_TIMEOUT, CHALLENGE_WINDOW, COMPENSATION_BPS, COORDINATOR_ROLE,
        DECLINE_CANNOT_START, DECLINE_FEE_BPS, DISPUTE_BOND_BPS, DISPUTE_PERIOD, Job, JobStatus, MIN_SUBMIT_WINDOW,
        PROTOCOL_FEE_BPS, Params, Penalties, SLASH_REWARD_MULTIPLE_BPS, SLASH_SHARE_BPS,
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
                        status: JobStatus::Open,
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
            self.pull(client, reward);
            self.leave();
            job_id
        }

        fn cancel_job(ref self: ContractState, job_id: u64) {
            self.enter();
            let mut job = self.job_in(job_id, JobStatus::Open);
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
            bounds::check_uri(@locator);
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
                self.slash_fault(job_id, job.worker, job.client, job.reward);
                let registry = self.registry_();
                if !registry.worker_of(job.worker).jailed {
                    registry.jail(job.worker);
                }
            } else {
                self.pay(job_id, job);
                self.release_bond(job_id, job.worker);
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

    #[generate_trait]
    impl InternalImpl of InternalTrait {
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
            let pen = self.penalties.read();
            let registry = self.registry_();
            let by_share = bps_of(registry.slashable_of(worker), self.params.read().slash_share_bps);
            let amount = min(by_share, bps_of(reward, pen.slash_reward_multiple_bps));
            if amount == 0 {
                return 0;
            }
            let slashed = registry.slash(worker, amount, get_contract_address(), job_id);
            let compensation = min(slashed, bps_of(reward, pen.compensation_bps));
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
