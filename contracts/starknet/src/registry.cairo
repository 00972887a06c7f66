//! Worker stakes, the twin of `contracts/src/WorkerRegistry.sol`. Workers register with a capability bitmask,
//! stake, unbond and withdraw; the job manager and its arbiters jail and unjail; only the job manager slashes, and
//! only to itself. DEFAULT_ADMIN_ROLE links the job manager once and sets the minimum stake and the unbonding
//! period within `bounds`.
//!
//! Token conservation: the registry's token balance equals the sum of every worker's `stake` and `pending`. Only
//! `pull` (stake) and `push` (withdraw, slash) move tokens, each beside the storage write that accounts for it.
//! Refusals panic with the Solidity custom error's name ('NotRegistered', ...).
use starknet::ContractAddress;

/// One worker's record.
#[derive(Copy, Drop, Serde, PartialEq, Debug, starknet::Store)]
pub struct Worker {
    /// Active stake: counts toward eligibility, slashable.
    pub stake: u256,
    /// Stake requested for withdrawal: no longer counts toward eligibility, still slashable.
    pub pending: u256,
    /// When `pending` may be withdrawn (unix seconds).
    pub unlock_at: u64,
    /// Bitmask of what the worker can run; a job's required bits must all be set.
    pub capabilities: u16,
    /// Whether the worker has registered.
    pub registered: bool,
    /// Whether the worker is barred from new assignments.
    pub jailed: bool,
}

/// Parameter key of the minimum stake, as emitted in `ParameterUpdated`.
pub const MIN_STAKE: felt252 = 'minStake';
/// Parameter key of the unbonding period, as emitted in `ParameterUpdated`.
pub const UNBONDING_PERIOD: felt252 = 'unbondingPeriod';

#[starknet::interface]
pub trait IWorkerRegistry<TState> {
    /// Registers the caller with a capability bitmask; `metadata_uri` (at most 1024 bytes) is emitted, not stored.
    /// Emits `WorkerRegistered`.
    fn register(ref self: TState, capabilities: u16, metadata_uri: ByteArray);
    /// Changes the caller's capabilities and metadata. Emits `WorkerUpdated`.
    fn update_worker(ref self: TState, capabilities: u16, metadata_uri: ByteArray);
    /// Adds `amount` to the caller's active stake, taken with `transfer_from` (approve in the same multicall).
    /// Emits `Staked`.
    fn stake(ref self: TState, amount: u256);
    /// Moves `amount` of active stake to unbonding; the unlock time restarts for all pending stake.
    /// Emits `UnstakeRequested`.
    fn request_unstake(ref self: TState, amount: u256);
    /// Sends the caller's unbonded stake back once its unlock time has come. Works while jailed.
    /// Emits `Withdrawn`.
    fn withdraw(ref self: TState);
    /// Bars `worker` from new assignments (the job manager or its ARBITER_ROLE holders). Emits `WorkerJailed`.
    fn jail(ref self: TState, worker: ContractAddress);
    /// Lets `worker` be assigned again (the job manager or its ARBITER_ROLE holders). Emits `WorkerUnjailed`.
    fn unjail(ref self: TState, worker: ContractAddress);
    /// Takes up to `amount` from `worker`, active stake first, then unbonding stake, and sends it to `recipient`,
    /// which must be the job manager (the only caller), for a fault or decline on `job_id`. Returns what was taken
    /// (zero, without an event, when nothing could be). Emits `WorkerSlashed`.
    fn slash(
        ref self: TState, worker: ContractAddress, amount: u256, recipient: ContractAddress, job_id: u64,
    ) -> u256;
    /// Links the job manager, once (DEFAULT_ADMIN_ROLE). Emits `JobManagerSet`.
    fn set_job_manager(ref self: TState, job_manager: ContractAddress);
    /// Sets the minimum active stake for eligibility (DEFAULT_ADMIN_ROLE), 1e18..1e26. Emits `ParameterUpdated`.
    fn set_min_stake(ref self: TState, value: u256);
    /// Sets the unbonding period (DEFAULT_ADMIN_ROLE), 9 days..365 days in seconds; applies to later requests.
    /// Emits `ParameterUpdated`.
    fn set_unbonding_period(ref self: TState, value: u256);
    /// Why `worker` cannot take a job needing `required_capabilities`: 0 when it can, else 'NotRegistered',
    /// 'JailedWorker', 'BelowMinStake' or 'MissingCapabilities' (checked in that order).
    fn assignable(self: @TState, worker: ContractAddress, required_capabilities: u16) -> felt252;
    /// A worker's record (all zero when unregistered).
    fn worker_of(self: @TState, worker: ContractAddress) -> Worker;
    /// Active plus unbonding stake: what a slash can reach.
    fn slashable_of(self: @TState, worker: ContractAddress) -> u256;
    /// Current minimum active stake for eligibility (tokens).
    fn min_stake(self: @TState) -> u256;
    /// Current unbonding period (seconds).
    fn unbonding_period(self: @TState) -> u64;
    /// The linked job manager (zero until linked).
    fn job_manager(self: @TState) -> ContractAddress;
    /// The staked token.
    fn token(self: @TState) -> ContractAddress;
}

#[starknet::contract]
pub mod WorkerRegistry {
    use core::num::traits::Zero;
    use starknet::storage::{
        Map, StorageMapReadAccess, StorageMapWriteAccess, StoragePointerReadAccess, StoragePointerWriteAccess,
    };
    use starknet::{ContractAddress, get_block_timestamp, get_caller_address, get_contract_address};
    use crate::access::{AccessControlComponent, DEFAULT_ADMIN_ROLE, IAccessControlDispatcher, IAccessControlDispatcherTrait};
    use crate::bounds;
    use crate::interfaces::{IERC20Dispatcher, IERC20DispatcherTrait};
    use crate::jobs::ARBITER_ROLE;
    use super::{MIN_STAKE, UNBONDING_PERIOD, Worker};

    component!(path: AccessControlComponent, storage: access, event: AccessControlEvent);

    #[abi(embed_v0)]
    impl AccessControlImpl = AccessControlComponent::AccessControlImpl<ContractState>;
    impl AccessControlInternalImpl = AccessControlComponent::InternalImpl<ContractState>;

    #[storage]
    struct Storage {
        #[substorage(v0)]
        access: AccessControlComponent::Storage,
        token: ContractAddress,
        job_manager: ContractAddress,
        min_stake: u256,
        unbonding_period: u64,
        workers: Map<ContractAddress, Worker>,
        entered: bool,
    }

    #[event]
    #[derive(Drop, starknet::Event)]
    pub enum Event {
        #[flat]
        AccessControlEvent: AccessControlComponent::Event,
        WorkerRegistered: WorkerRegistered,
        WorkerUpdated: WorkerUpdated,
        Staked: Staked,
        UnstakeRequested: UnstakeRequested,
        Withdrawn: Withdrawn,
        WorkerJailed: WorkerJailed,
        WorkerUnjailed: WorkerUnjailed,
        WorkerSlashed: WorkerSlashed,
        ParameterUpdated: ParameterUpdated,
        JobManagerSet: JobManagerSet,
    }

    /// A worker registered.
    #[derive(Drop, starknet::Event)]
    pub struct WorkerRegistered {
        #[key]
        pub worker: ContractAddress,
        pub capabilities: u16,
        pub metadata_uri: ByteArray,
    }

    /// A worker changed its capabilities or metadata.
    #[derive(Drop, starknet::Event)]
    pub struct WorkerUpdated {
        #[key]
        pub worker: ContractAddress,
        pub capabilities: u16,
        pub metadata_uri: ByteArray,
    }

    /// Stake was added; `stake` is the worker's new active stake.
    #[derive(Drop, starknet::Event)]
    pub struct Staked {
        #[key]
        pub worker: ContractAddress,
        pub amount: u256,
        pub stake: u256,
    }

    /// Active stake moved to unbonding; the totals after the move and the new unlock time.
    #[derive(Drop, starknet::Event)]
    pub struct UnstakeRequested {
        #[key]
        pub worker: ContractAddress,
        pub amount: u256,
        pub stake: u256,
        pub pending: u256,
        pub unlock_at: u64,
    }

    /// Unbonded stake left the registry.
    #[derive(Drop, starknet::Event)]
    pub struct Withdrawn {
        #[key]
        pub worker: ContractAddress,
        pub amount: u256,
    }

    /// A worker was barred from new assignments by `by`.
    #[derive(Drop, starknet::Event)]
    pub struct WorkerJailed {
        #[key]
        pub worker: ContractAddress,
        #[key]
        pub by: ContractAddress,
    }

    /// A worker may be assigned again, released by `by`.
    #[derive(Drop, starknet::Event)]
    pub struct WorkerUnjailed {
        #[key]
        pub worker: ContractAddress,
        #[key]
        pub by: ContractAddress,
    }

    /// Stake was slashed to `recipient` (always the job manager) for a fault or a decline on job `job_id`.
    #[derive(Drop, starknet::Event)]
    pub struct WorkerSlashed {
        #[key]
        pub worker: ContractAddress,
        #[key]
        pub job_id: u64,
        #[key]
        pub recipient: ContractAddress,
        pub amount: u256,
        pub from_stake: u256,
        pub from_pending: u256,
    }

    /// A governed parameter changed (also emitted once per parameter at deployment, from 0).
    #[derive(Drop, starknet::Event)]
    pub struct ParameterUpdated {
        #[key]
        pub key: felt252,
        pub previous: u256,
        pub current: u256,
    }

    /// The job manager was linked (once).
    #[derive(Drop, starknet::Event)]
    pub struct JobManagerSet {
        #[key]
        pub job_manager: ContractAddress,
    }

    /// Creates the registry: `admin` holds DEFAULT_ADMIN_ROLE (the deployer, who links the job manager and hands
    /// the role to the timelock); both parameters are checked against their bounds.
    #[constructor]
    fn constructor(
        ref self: ContractState, token: ContractAddress, admin: ContractAddress, min_stake: u256, unbonding_period: u256,
    ) {
        assert(token.is_non_zero() && admin.is_non_zero(), 'ZeroAddress');
        self.token.write(token);
        self.access._grant_role(DEFAULT_ADMIN_ROLE, admin);
        self.set_min_stake_(min_stake);
        self.set_unbonding_period_(unbonding_period);
    }

    #[abi(embed_v0)]
    impl WorkerRegistryImpl of super::IWorkerRegistry<ContractState> {
        fn register(ref self: ContractState, capabilities: u16, metadata_uri: ByteArray) {
            bounds::check_uri(@metadata_uri);
            let worker = get_caller_address();
            let mut w = self.workers.read(worker);
            assert(!w.registered, 'AlreadyRegistered');
            w.registered = true;
            w.capabilities = capabilities;
            self.workers.write(worker, w);
            self.emit(WorkerRegistered { worker, capabilities, metadata_uri });
        }

        fn update_worker(ref self: ContractState, capabilities: u16, metadata_uri: ByteArray) {
            bounds::check_uri(@metadata_uri);
            let worker = get_caller_address();
            let mut w = self.registered(worker);
            w.capabilities = capabilities;
            self.workers.write(worker, w);
            self.emit(WorkerUpdated { worker, capabilities, metadata_uri });
        }

        fn stake(ref self: ContractState, amount: u256) {
            self.enter();
            assert(amount != 0, 'ZeroAmount');
            let worker = get_caller_address();
            let mut w = self.registered(worker);
            // stake + pending <= MAX_AMOUNT, so this never underflows; compared before adding, so never overflows.
            let room = bounds::MAX_AMOUNT - w.stake - w.pending;
            assert(amount <= room, 'AmountTooLarge');
            w.stake += amount;
            self.workers.write(worker, w);
            self.emit(Staked { worker, amount, stake: w.stake });
            self.pull(worker, amount);
            self.leave();
        }

        fn request_unstake(ref self: ContractState, amount: u256) {
            assert(amount != 0, 'ZeroAmount');
            let worker = get_caller_address();
            let mut w = self.registered(worker);
            assert(amount <= w.stake, 'UnstakeExceedsStake');
            w.stake -= amount;
            w.pending += amount;
            w.unlock_at = get_block_timestamp() + self.unbonding_period.read();
            self.workers.write(worker, w);
            self
                .emit(
                    UnstakeRequested {
                        worker, amount, stake: w.stake, pending: w.pending, unlock_at: w.unlock_at,
                    },
                );
        }

        fn withdraw(ref self: ContractState) {
            self.enter();
            let worker = get_caller_address();
            let mut w = self.workers.read(worker);
            let amount = w.pending;
            assert(amount != 0, 'NothingToWithdraw');
            assert(get_block_timestamp() >= w.unlock_at, 'StillUnbonding');
            w.pending = 0;
            w.unlock_at = 0;
            self.workers.write(worker, w);
            self.emit(Withdrawn { worker, amount });
            self.push(worker, amount);
            self.leave();
        }

        fn jail(ref self: ContractState, worker: ContractAddress) {
            self.assert_job_manager_or_arbiter();
            let mut w = self.registered(worker);
            assert(!w.jailed, 'AlreadyJailed');
            w.jailed = true;
            self.workers.write(worker, w);
            self.emit(WorkerJailed { worker, by: get_caller_address() });
        }

        fn unjail(ref self: ContractState, worker: ContractAddress) {
            self.assert_job_manager_or_arbiter();
            let mut w = self.registered(worker);
            assert(w.jailed, 'NotJailed');
            w.jailed = false;
            self.workers.write(worker, w);
            self.emit(WorkerUnjailed { worker, by: get_caller_address() });
        }

        fn slash(
            ref self: ContractState, worker: ContractAddress, amount: u256, recipient: ContractAddress, job_id: u64,
        ) -> u256 {
            let job_manager = self.job_manager.read();
            assert(job_manager.is_non_zero() && get_caller_address() == job_manager, 'NotJobManager');
            self.enter();
            assert(recipient == job_manager, 'SlashRecipientNotJobManager');
            let mut w = self.registered(worker);
            let from_stake = min(amount, w.stake);
            let from_pending = min(amount - from_stake, w.pending);
            let slashed = from_stake + from_pending;
            if slashed != 0 {
                w.stake -= from_stake;
                w.pending -= from_pending;
                self.workers.write(worker, w);
                self.emit(WorkerSlashed { worker, job_id, recipient, amount: slashed, from_stake, from_pending });
                self.push(recipient, slashed);
            }
            self.leave();
            slashed
        }

        fn set_job_manager(ref self: ContractState, job_manager: ContractAddress) {
            self.access.assert_only_role(DEFAULT_ADMIN_ROLE);
            assert(job_manager.is_non_zero(), 'ZeroAddress');
            assert(self.job_manager.read().is_zero(), 'JobManagerAlreadySet');
            self.job_manager.write(job_manager);
            self.emit(JobManagerSet { job_manager });
        }

        fn set_min_stake(ref self: ContractState, value: u256) {
            self.access.assert_only_role(DEFAULT_ADMIN_ROLE);
            self.set_min_stake_(value);
        }

        fn set_unbonding_period(ref self: ContractState, value: u256) {
            self.access.assert_only_role(DEFAULT_ADMIN_ROLE);
            self.set_unbonding_period_(value);
        }

        fn assignable(self: @ContractState, worker: ContractAddress, required_capabilities: u16) -> felt252 {
            let w = self.workers.read(worker);
            if !w.registered {
                'NotRegistered'
            } else if w.jailed {
                'JailedWorker'
            } else if w.stake < self.min_stake.read() {
                'BelowMinStake'
            } else if w.capabilities & required_capabilities != required_capabilities {
                'MissingCapabilities'
            } else {
                0
            }
        }

        fn worker_of(self: @ContractState, worker: ContractAddress) -> Worker {
            self.workers.read(worker)
        }

        fn slashable_of(self: @ContractState, worker: ContractAddress) -> u256 {
            let w = self.workers.read(worker);
            w.stake + w.pending
        }

        fn min_stake(self: @ContractState) -> u256 {
            self.min_stake.read()
        }

        fn unbonding_period(self: @ContractState) -> u64 {
            self.unbonding_period.read()
        }

        fn job_manager(self: @ContractState) -> ContractAddress {
            self.job_manager.read()
        }

        fn token(self: @ContractState) -> ContractAddress {
            self.token.read()
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

    #[generate_trait]
    impl InternalImpl of InternalTrait {
        /// The record of a registered worker; panics with 'NotRegistered' otherwise.
        fn registered(self: @ContractState, worker: ContractAddress) -> Worker {
            let w = self.workers.read(worker);
            assert(w.registered, 'NotRegistered');
            w
        }

        /// Panics unless the caller is the linked job manager or holds its ARBITER_ROLE.
        fn assert_job_manager_or_arbiter(self: @ContractState) {
            let job_manager = self.job_manager.read();
            assert(job_manager.is_non_zero(), 'NotJobManagerOrArbiter');
            let caller = get_caller_address();
            if caller != job_manager {
                let access = IAccessControlDispatcher { contract_address: job_manager };
                assert(access.has_role(ARBITER_ROLE, caller), 'NotJobManagerOrArbiter');
            }
        }

        /// Takes `amount` from `from` into the registry (stake). One of the two token movements.
        fn pull(ref self: ContractState, from: ContractAddress, amount: u256) {
            let token = IERC20Dispatcher { contract_address: self.token.read() };
            assert(token.transfer_from(from, get_contract_address(), amount), 'SafeERC20FailedOperation');
        }

        /// Sends `amount` out of the registry (withdrawal, slash). One of the two token movements.
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

        /// Checks the minimum stake against its bounds, emits `ParameterUpdated` and stores it.
        fn set_min_stake_(ref self: ContractState, value: u256) {
            bounds::check_bounds(MIN_STAKE, value, bounds::MIN_MIN_STAKE, bounds::MAX_MIN_STAKE);
            self.emit(ParameterUpdated { key: MIN_STAKE, previous: self.min_stake.read(), current: value });
            self.min_stake.write(value);
        }

        /// Checks the unbonding period against its bounds, emits `ParameterUpdated` and stores it.
        fn set_unbonding_period_(ref self: ContractState, value: u256) {
            bounds::check_bounds(
                UNBONDING_PERIOD, value, bounds::MIN_UNBONDING_PERIOD, bounds::MAX_UNBONDING_PERIOD,
            );
            let previous = self.unbonding_period.read();
            self.emit(ParameterUpdated { key: UNBONDING_PERIOD, previous: previous.into(), current: value });
            self.unbonding_period.write(value.try_into().unwrap());
        }
    }
}
