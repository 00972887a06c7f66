//! `AccordTimelock`, the twin of `contracts/src/AccordTimelock.sol` (OpenZeppelin's `TimelockController`): it owns
//! the protocol's parameters and roles, and runs a batch of calls only once the batch has waited its delay since it
//! was scheduled. Once deployed its delay can never be set below `MIN_DELAY` (one day).
//!
//! Roles (felts): `PROPOSER_ROLE` schedules, `CANCELLER_ROLE` cancels, `EXECUTOR_ROLE` executes (held by the zero
//! address: anyone executes), `DEFAULT_ADMIN_ROLE` (0) administers every role and is held by the timelock itself.
//!
//! Operation id: `poseidon_hash_span([n, to_1, selector_1, m_1, calldata_1..., ..., to_n, selector_n, m_n,
//! calldata_n..., predecessor, salt])`, i.e. the Poseidon hash of the Cairo serialization of
//! `(calls: Span<Call>, predecessor, salt)` (each span is prefixed with its length).
use starknet::account::Call;

pub const PROPOSER_ROLE: felt252 = 'PROPOSER_ROLE';
pub const EXECUTOR_ROLE: felt252 = 'EXECUTOR_ROLE';
pub const CANCELLER_ROLE: felt252 = 'CANCELLER_ROLE';

/// Least delay `update_delay` accepts: one day (seconds).
pub const MIN_DELAY: u64 = 86400;

/// The timelock's entry points (documented on `AccordTimelock::TimelockImpl`); its roles are managed through
/// `crate::access::IAccessControl`.
#[starknet::interface]
pub trait ITimelock<TState> {
    fn is_operation(self: @TState, id: felt252) -> bool;
    fn is_operation_pending(self: @TState, id: felt252) -> bool;
    fn is_operation_ready(self: @TState, id: felt252) -> bool;
    fn is_operation_done(self: @TState, id: felt252) -> bool;
    fn get_timestamp(self: @TState, id: felt252) -> u64;
    fn get_min_delay(self: @TState) -> u64;
    fn hash_operation_batch(self: @TState, calls: Span<Call>, predecessor: felt252, salt: felt252) -> felt252;
    fn schedule_batch(ref self: TState, calls: Span<Call>, predecessor: felt252, salt: felt252, delay: u64);
    fn execute_batch(ref self: TState, calls: Span<Call>, predecessor: felt252, salt: felt252);
    fn cancel(ref self: TState, id: felt252);
    fn update_delay(ref self: TState, new_delay: u64);
}

pub mod errors {
    pub const OPERATION_EXISTS: felt252 = 'Timelock: operation exists';
    pub const INSUFFICIENT_DELAY: felt252 = 'Timelock: insufficient delay';
    pub const NOT_READY: felt252 = 'Timelock: operation not ready';
    pub const MISSING_DEPENDENCY: felt252 = 'Timelock: missing dependency';
    pub const NOT_PENDING: felt252 = 'Timelock: operation not pending';
    pub const UNAUTHORIZED_CALLER: felt252 = 'Timelock: unauthorized caller';
    pub const DELAY_BELOW_MINIMUM: felt252 = 'TimelockDelayBelowMinimum';
}

#[starknet::contract]
pub mod AccordTimelock {
    use core::num::traits::Zero;
    use core::poseidon::poseidon_hash_span;
    use starknet::account::Call;
    use starknet::storage::{
        Map, StorageMapReadAccess, StorageMapWriteAccess, StoragePointerReadAccess, StoragePointerWriteAccess,
    };
    use starknet::syscalls::call_contract_syscall;
    use starknet::{ContractAddress, SyscallResultTrait, get_block_timestamp, get_caller_address, get_contract_address};
    use crate::access::{AccessControlComponent, DEFAULT_ADMIN_ROLE, IAccessControl};
    use super::{CANCELLER_ROLE, EXECUTOR_ROLE, ITimelock, MIN_DELAY, PROPOSER_ROLE, errors};

    component!(path: AccessControlComponent, storage: access_control, event: AccessControlEvent);

    #[abi(embed_v0)]
    impl AccessControlImpl = AccessControlComponent::AccessControlImpl<ContractState>;
    impl AccessControlInternalImpl = AccessControlComponent::InternalImpl<ContractState>;

    /// `timestamps` value of an executed operation.
    const DONE_TIMESTAMP: u64 = 1;

    #[storage]
    struct Storage {
        #[substorage(v0)]
        access_control: AccessControlComponent::Storage,
        /// Operation id -> 0 (unknown), `DONE_TIMESTAMP` (executed) or the timestamp it becomes ready at.
        timestamps: Map<felt252, u64>,
        min_delay: u64,
    }

    #[event]
    #[derive(Drop, PartialEq, starknet::Event)]
    pub enum Event {
        #[flat]
        AccessControlEvent: AccessControlComponent::Event,
        CallScheduled: CallScheduled,
        CallExecuted: CallExecuted,
        CallSalt: CallSalt,
        Cancelled: Cancelled,
        MinDelayChange: MinDelayChange,
    }

    /// Call `index` of operation `id` was scheduled; the operation depends on `predecessor` (0: none) and becomes
    /// ready `delay` seconds after scheduling.
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct CallScheduled {
        #[key]
        pub id: felt252,
        #[key]
        pub index: u32,
        pub to: ContractAddress,
        pub selector: felt252,
        pub calldata: Span<felt252>,
        pub predecessor: felt252,
        pub delay: u64,
    }

    /// Call `index` of operation `id` was executed.
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct CallExecuted {
        #[key]
        pub id: felt252,
        #[key]
        pub index: u32,
        pub to: ContractAddress,
        pub selector: felt252,
        pub calldata: Span<felt252>,
    }

    /// Operation `id` was scheduled with a non-zero `salt`.
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct CallSalt {
        #[key]
        pub id: felt252,
        pub salt: felt252,
    }

    /// Pending operation `id` was cancelled.
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct Cancelled {
        #[key]
        pub id: felt252,
    }

    /// The minimum delay changed (seconds); `old_duration` is 0 at construction.
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct MinDelayChange {
        pub old_duration: u64,
        pub new_duration: u64,
    }

    /// Creates the timelock with delay `min_delay` (seconds; not checked against `MIN_DELAY`, for devnets). The
    /// timelock administers itself; `proposers` get the proposer and canceller roles, `executors` the executor role
    /// (the zero address among them: anyone may execute), `admin` (zero: none) an admin role to renounce after
    /// setup. Emits `RoleGranted` for each grant and `MinDelayChange`.
    #[constructor]
    fn constructor(
        ref self: ContractState,
        min_delay: u64,
        proposers: Span<ContractAddress>,
        executors: Span<ContractAddress>,
        admin: ContractAddress,
    ) {
        self.access_control._grant_role(DEFAULT_ADMIN_ROLE, get_contract_address());
        if admin.is_non_zero() {
            self.access_control._grant_role(DEFAULT_ADMIN_ROLE, admin);
        }
        for proposer in proposers {
            self.access_control._grant_role(PROPOSER_ROLE, *proposer);
            self.access_control._grant_role(CANCELLER_ROLE, *proposer);
        };
        for executor in executors {
            self.access_control._grant_role(EXECUTOR_ROLE, *executor);
        };
        self.min_delay.write(min_delay);
        self.emit(MinDelayChange { old_duration: 0, new_duration: min_delay });
    }

    #[abi(embed_v0)]
    impl TimelockImpl of ITimelock<ContractState> {
        /// Whether `id` was ever scheduled (pending or done, not cancelled).
        fn is_operation(self: @ContractState, id: felt252) -> bool {
            self.timestamps.read(id) > 0
        }

        /// Whether `id` is scheduled and not yet executed (waiting or ready).
        fn is_operation_pending(self: @ContractState, id: felt252) -> bool {
            self.timestamps.read(id) > DONE_TIMESTAMP
        }

        /// Whether `id` is pending and its delay has passed.
        fn is_operation_ready(self: @ContractState, id: felt252) -> bool {
            let timestamp = self.timestamps.read(id);
            timestamp > DONE_TIMESTAMP && timestamp <= get_block_timestamp()
        }

        /// Whether `id` was executed.
        fn is_operation_done(self: @ContractState, id: felt252) -> bool {
            self.timestamps.read(id) == DONE_TIMESTAMP
        }

        /// When `id` becomes ready (0: unknown, 1: done).
        fn get_timestamp(self: @ContractState, id: felt252) -> u64 {
            self.timestamps.read(id)
        }

        /// Least delay (seconds) `schedule_batch` accepts.
        fn get_min_delay(self: @ContractState) -> u64 {
            self.min_delay.read()
        }

        /// The id of the operation `(calls, predecessor, salt)`: the Poseidon hash of their serialization (see the
        /// module doc).
        fn hash_operation_batch(
            self: @ContractState, calls: Span<Call>, predecessor: felt252, salt: felt252,
        ) -> felt252 {
            let mut data = array![];
            calls.serialize(ref data);
            data.append(predecessor);
            data.append(salt);
            poseidon_hash_span(data.span())
        }

        /// Schedules `calls` to run, in order, once `delay` seconds (at least the minimum delay) have passed and
        /// operation `predecessor` (0: none) is done. Proposer role only. Emits `CallScheduled` per call and
        /// `CallSalt` when `salt` is not 0.
        fn schedule_batch(
            ref self: ContractState, calls: Span<Call>, predecessor: felt252, salt: felt252, delay: u64,
        ) {
            self.access_control.assert_only_role(PROPOSER_ROLE);
            let id = self.hash_operation_batch(calls, predecessor, salt);
            assert(!self.is_operation(id), errors::OPERATION_EXISTS);
            assert(delay >= self.min_delay.read(), errors::INSUFFICIENT_DELAY);
            self.timestamps.write(id, get_block_timestamp() + delay);
            let mut index: u32 = 0;
            for call in calls {
                let Call { to, selector, calldata } = *call;
                self.emit(CallScheduled { id, index, to, selector, calldata, predecessor, delay });
                index += 1;
            };
            if salt != 0 {
                self.emit(CallSalt { id, salt });
            }
        }

        /// Runs a ready operation's calls in order and marks it done; any failing call reverts the whole execution
        /// with the callee's error. Executor role only, unless the zero address holds it. Emits `CallExecuted` per
        /// call.
        fn execute_batch(ref self: ContractState, calls: Span<Call>, predecessor: felt252, salt: felt252) {
            if !self.has_role(EXECUTOR_ROLE, Zero::zero()) {
                self.access_control.assert_only_role(EXECUTOR_ROLE);
            }
            let id = self.hash_operation_batch(calls, predecessor, salt);
            assert(self.is_operation_ready(id), errors::NOT_READY);
            assert(predecessor == 0 || self.is_operation_done(predecessor), errors::MISSING_DEPENDENCY);
            let mut index: u32 = 0;
            for call in calls {
                let Call { to, selector, calldata } = *call;
                call_contract_syscall(to, selector, calldata).unwrap_syscall();
                self.emit(CallExecuted { id, index, to, selector, calldata });
                index += 1;
            };
            // Still ready: a call re-entering to execute (or cancel) this operation reverts everything.
            assert(self.is_operation_ready(id), errors::NOT_READY);
            self.timestamps.write(id, DONE_TIMESTAMP);
        }

        /// Cancels pending operation `id`. Canceller role only. Emits `Cancelled`.
        fn cancel(ref self: ContractState, id: felt252) {
            self.access_control.assert_only_role(CANCELLER_ROLE);
            assert(self.is_operation_pending(id), errors::NOT_PENDING);
            self.timestamps.write(id, 0);
            self.emit(Cancelled { id });
        }

        /// Sets the minimum delay to `new_delay` seconds, at least `MIN_DELAY` (one day). Callable only by the
        /// timelock itself, i.e. through a scheduled operation. Emits `MinDelayChange`.
        fn update_delay(ref self: ContractState, new_delay: u64) {
            assert(new_delay >= MIN_DELAY, errors::DELAY_BELOW_MINIMUM);
            assert(get_caller_address() == get_contract_address(), errors::UNAUTHORIZED_CALLER);
            self.emit(MinDelayChange { old_duration: self.min_delay.read(), new_duration: new_delay });
            self.min_delay.write(new_delay);
        }
    }
}
