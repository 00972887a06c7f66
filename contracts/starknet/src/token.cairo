//! `AccordToken`, the twin of `contracts/src/AccordToken.sol`: the protocol's ERC-20 ("Accord", "ACRD", 18
//! decimals), staked by workers, paid as job rewards and weighing governance votes. The whole supply is minted once
//! to `holder` in the constructor (at most 2^96 - 1, so every amount fits the protocol's packed fields); there is no
//! mint or burn afterwards.
//!
//! Votes follow OpenZeppelin's `ERC20Votes` with a timestamp clock: an account's voting power is the balance of the
//! accounts delegating to it (an account must delegate, possibly to itself, for its balance to count), and every
//! change is written to a checkpoint history, so `get_past_votes` and `get_past_total_supply` answer for any past
//! second. There is no permit: a Starknet account batches `approve` and the spending call in one multicall.
use starknet::ContractAddress;

/// One entry of a voting-power (or total-supply) history: the value from timestamp `key` on.
#[derive(Copy, Drop, Serde, PartialEq, Debug, starknet::Store)]
pub struct Checkpoint {
    pub key: u64,
    pub value: u256,
}

/// Reading the raw checkpoint histories (OpenZeppelin's `numCheckpoints` and `checkpoints`).
#[starknet::interface]
pub trait IVotesCheckpoints<TState> {
    fn num_checkpoints(self: @TState, account: ContractAddress) -> u64;
    fn checkpoints(self: @TState, account: ContractAddress, pos: u64) -> Checkpoint;
}

pub mod errors {
    pub const SUPPLY_TOO_LARGE: felt252 = 'SupplyTooLarge';
    pub const MINT_TO_ZERO: felt252 = 'ERC20: mint to 0';
    pub const TRANSFER_FROM_ZERO: felt252 = 'ERC20: transfer from 0';
    pub const TRANSFER_TO_ZERO: felt252 = 'ERC20: transfer to 0';
    pub const APPROVE_FROM_ZERO: felt252 = 'ERC20: approve from 0';
    pub const APPROVE_TO_ZERO: felt252 = 'ERC20: approve to 0';
    pub const INSUFFICIENT_BALANCE: felt252 = 'ERC20: insufficient balance';
    pub const INSUFFICIENT_ALLOWANCE: felt252 = 'ERC20: insufficient allowance';
    pub const FUTURE_LOOKUP: felt252 = 'Votes: future lookup';
    pub const NO_CHECKPOINT: felt252 = 'Votes: no checkpoint';
}

#[starknet::contract]
pub mod AccordToken {
    use core::num::traits::{Bounded, Zero};
    use starknet::storage::{
        Map, StorageMapReadAccess, StorageMapWriteAccess, StoragePathEntry, StoragePointerReadAccess,
        StoragePointerWriteAccess,
    };
    use starknet::{ContractAddress, get_block_timestamp, get_caller_address};
    use crate::interfaces::{IERC20, IVotes};
    use super::{Checkpoint, IVotesCheckpoints, errors};

    /// Largest supply the constructor accepts: 2^96 - 1 (Solidity's `type(uint96).max`).
    pub const MAX_SUPPLY: u256 = 0xffffffffffffffffffffffff;

    /// Trace id of the total-supply history in `checkpoints`. An account's history has its address as trace id;
    /// no contract address reaches 2^251, so this one (the felt -1, above 2^251) is never an account's.
    const SUPPLY_TRACE: felt252 = -1;

    #[storage]
    struct Storage {
        total_supply: u256,
        balances: Map<ContractAddress, u256>,
        allowances: Map<(ContractAddress, ContractAddress), u256>,
        delegates: Map<ContractAddress, ContractAddress>,
        /// `(trace, position) -> checkpoint`, keys increasing with the position.
        checkpoints: Map<(felt252, u64), Checkpoint>,
        /// Number of checkpoints of each trace.
        checkpoint_count: Map<felt252, u64>,
    }

    #[event]
    #[derive(Drop, PartialEq, starknet::Event)]
    pub enum Event {
        Transfer: Transfer,
        Approval: Approval,
        DelegateChanged: DelegateChanged,
        DelegateVotesChanged: DelegateVotesChanged,
    }

    /// `value` tokens moved from `from` to `to`; `from` is zero for the mint.
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct Transfer {
        #[key]
        pub from: ContractAddress,
        #[key]
        pub to: ContractAddress,
        pub value: u256,
    }

    /// `owner` set `spender`'s allowance to `value` (not emitted when `transfer_from` spends an allowance).
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct Approval {
        #[key]
        pub owner: ContractAddress,
        #[key]
        pub spender: ContractAddress,
        pub value: u256,
    }

    /// `delegator` moved its voting power from `from_delegate` to `to_delegate` (zero: nobody).
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct DelegateChanged {
        #[key]
        pub delegator: ContractAddress,
        #[key]
        pub from_delegate: ContractAddress,
        #[key]
        pub to_delegate: ContractAddress,
    }

    /// `delegate`'s voting power changed from `previous_votes` to `new_votes`.
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct DelegateVotesChanged {
        #[key]
        pub delegate: ContractAddress,
        pub previous_votes: u256,
        pub new_votes: u256,
    }

    /// Mints `supply` (smallest unit, 18 decimals) to `holder`; panics `SupplyTooLarge` above 2^96 - 1 and
    /// `ERC20: mint to 0` for a zero `holder`. Emits `Transfer` from the zero address.
    #[constructor]
    fn constructor(ref self: ContractState, holder: ContractAddress, supply: u256) {
        assert(supply <= MAX_SUPPLY, errors::SUPPLY_TOO_LARGE);
        assert(holder.is_non_zero(), errors::MINT_TO_ZERO);
        self._update(Zero::zero(), holder, supply);
    }

    #[abi(embed_v0)]
    impl ERC20Impl of IERC20<ContractState> {
        /// "Accord".
        fn name(self: @ContractState) -> ByteArray {
            "Accord"
        }

        /// "ACRD".
        fn symbol(self: @ContractState) -> ByteArray {
            "ACRD"
        }

        /// 18.
        fn decimals(self: @ContractState) -> u8 {
            18
        }

        /// Tokens in existence.
        fn total_supply(self: @ContractState) -> u256 {
            self.total_supply.read()
        }

        /// `account`'s balance.
        fn balance_of(self: @ContractState, account: ContractAddress) -> u256 {
            self.balances.read(account)
        }

        /// What `spender` may still move out of `owner`'s balance.
        fn allowance(self: @ContractState, owner: ContractAddress, spender: ContractAddress) -> u256 {
            self.allowances.read((owner, spender))
        }

        /// Moves `amount` from the caller to `recipient` (not the zero address). Emits `Transfer`.
        fn transfer(ref self: ContractState, recipient: ContractAddress, amount: u256) -> bool {
            self._transfer(get_caller_address(), recipient, amount);
            true
        }

        /// Moves `amount` from `sender` to `recipient` out of the caller's allowance, which decreases unless it is
        /// the maximum u256 (unlimited). Emits `Transfer`.
        fn transfer_from(
            ref self: ContractState, sender: ContractAddress, recipient: ContractAddress, amount: u256,
        ) -> bool {
            self._spend_allowance(sender, get_caller_address(), amount);
            self._transfer(sender, recipient, amount);
            true
        }

        /// Sets `spender`'s allowance over the caller's tokens to `amount`. Emits `Approval`.
        fn approve(ref self: ContractState, spender: ContractAddress, amount: u256) -> bool {
            self._approve(get_caller_address(), spender, amount);
            true
        }
    }

    #[abi(embed_v0)]
    impl VotesImpl of IVotes<ContractState> {
        /// `account`'s current voting power.
        fn get_votes(self: @ContractState, account: ContractAddress) -> u256 {
            self._latest(account.into())
        }

        /// `account`'s voting power at the end of second `timepoint`; panics `Votes: future lookup` unless
        /// `timepoint < clock()` (the current second's value may still change).
        fn get_past_votes(self: @ContractState, account: ContractAddress, timepoint: u64) -> u256 {
            assert(timepoint < get_block_timestamp(), errors::FUTURE_LOOKUP);
            self._upper_lookup(account.into(), timepoint)
        }

        /// Total supply at the end of second `timepoint`; panics `Votes: future lookup` unless
        /// `timepoint < clock()`.
        fn get_past_total_supply(self: @ContractState, timepoint: u64) -> u256 {
            assert(timepoint < get_block_timestamp(), errors::FUTURE_LOOKUP);
            self._upper_lookup(SUPPLY_TRACE, timepoint)
        }

        /// The account `account` delegates its voting power to (zero: none).
        fn delegates(self: @ContractState, account: ContractAddress) -> ContractAddress {
            self.delegates.read(account)
        }

        /// Delegates the caller's voting power (its whole balance, now and as it changes) to `delegatee`; the zero
        /// address withdraws it. Emits `DelegateChanged` and `DelegateVotesChanged` for each delegate whose power
        /// changes.
        fn delegate(ref self: ContractState, delegatee: ContractAddress) {
            let delegator = get_caller_address();
            let from_delegate = self.delegates.read(delegator);
            self.delegates.write(delegator, delegatee);
            self.emit(DelegateChanged { delegator, from_delegate, to_delegate: delegatee });
            self._move_delegate_votes(from_delegate, delegatee, self.balances.read(delegator));
        }

        /// The current timepoint: the block timestamp (seconds).
        fn clock(self: @ContractState) -> u64 {
            get_block_timestamp()
        }
    }

    #[abi(embed_v0)]
    impl VotesCheckpointsImpl of IVotesCheckpoints<ContractState> {
        /// Number of checkpoints in `account`'s voting-power history.
        fn num_checkpoints(self: @ContractState, account: ContractAddress) -> u64 {
            self.checkpoint_count.read(account.into())
        }

        /// `account`'s `pos`-th voting-power checkpoint; panics `Votes: no checkpoint` past the last one.
        fn checkpoints(self: @ContractState, account: ContractAddress, pos: u64) -> Checkpoint {
            assert(pos < self.checkpoint_count.read(account.into()), errors::NO_CHECKPOINT);
            self.checkpoints.read((account.into(), pos))
        }
    }

    #[generate_trait]
    impl InternalImpl of InternalTrait {
        fn _transfer(ref self: ContractState, from: ContractAddress, to: ContractAddress, amount: u256) {
            assert(from.is_non_zero(), errors::TRANSFER_FROM_ZERO);
            assert(to.is_non_zero(), errors::TRANSFER_TO_ZERO);
            self._update(from, to, amount);
        }

        /// Moves `amount` from `from` to `to`, minting when `from` is zero (burning when `to` is zero, which no
        /// entry point does), then moves the voting power between their delegates. Emits `Transfer`.
        fn _update(ref self: ContractState, from: ContractAddress, to: ContractAddress, amount: u256) {
            if from.is_zero() {
                self.total_supply.write(self.total_supply.read() + amount);
                self._push(SUPPLY_TRACE, self._latest(SUPPLY_TRACE) + amount);
            } else {
                let balance = self.balances.read(from);
                assert(balance >= amount, errors::INSUFFICIENT_BALANCE);
                self.balances.write(from, balance - amount);
            }
            if to.is_zero() {
                self.total_supply.write(self.total_supply.read() - amount);
                self._push(SUPPLY_TRACE, self._latest(SUPPLY_TRACE) - amount);
            } else {
                self.balances.write(to, self.balances.read(to) + amount);
            }
            self.emit(Transfer { from, to, value: amount });
            self._move_delegate_votes(self.delegates.read(from), self.delegates.read(to), amount);
        }

        fn _approve(ref self: ContractState, owner: ContractAddress, spender: ContractAddress, amount: u256) {
            assert(owner.is_non_zero(), errors::APPROVE_FROM_ZERO);
            assert(spender.is_non_zero(), errors::APPROVE_TO_ZERO);
            self.allowances.write((owner, spender), amount);
            self.emit(Approval { owner, spender, value: amount });
        }

        /// Takes `amount` out of `spender`'s allowance over `owner` (no event, as OpenZeppelin 5).
        fn _spend_allowance(ref self: ContractState, owner: ContractAddress, spender: ContractAddress, amount: u256) {
            let current = self.allowances.read((owner, spender));
            if current != Bounded::MAX {
                assert(current >= amount, errors::INSUFFICIENT_ALLOWANCE);
                self.allowances.write((owner, spender), current - amount);
            }
        }

        /// Moves `amount` of voting power from delegate `from` to delegate `to` (zero: nobody).
        fn _move_delegate_votes(ref self: ContractState, from: ContractAddress, to: ContractAddress, amount: u256) {
            if from == to || amount == 0 {
                return;
            }
            if from.is_non_zero() {
                let previous_votes = self._latest(from.into());
                let new_votes = previous_votes - amount;
                self._push(from.into(), new_votes);
                self.emit(DelegateVotesChanged { delegate: from, previous_votes, new_votes });
            }
            if to.is_non_zero() {
                let previous_votes = self._latest(to.into());
                let new_votes = previous_votes + amount;
                self._push(to.into(), new_votes);
                self.emit(DelegateVotesChanged { delegate: to, previous_votes, new_votes });
            }
        }

        /// The last value of `trace` (0 when empty).
        fn _latest(self: @ContractState, trace: felt252) -> u256 {
            let count = self.checkpoint_count.read(trace);
            if count == 0 {
                return 0;
            }
            self.checkpoints.entry((trace, count - 1)).value.read()
        }

        /// Records `value` as `trace`'s value from now on: overwrites the last checkpoint when it is from this
        /// second, appends one otherwise.
        fn _push(ref self: ContractState, trace: felt252, value: u256) {
            let now = get_block_timestamp();
            let count = self.checkpoint_count.read(trace);
            if count > 0 {
                let last = self.checkpoints.entry((trace, count - 1));
                if last.key.read() == now {
                    last.value.write(value);
                    return;
                }
            }
            self.checkpoints.write((trace, count), Checkpoint { key: now, value });
            self.checkpoint_count.write(trace, count + 1);
        }

        /// `trace`'s value at the end of second `timepoint`: the value of its last checkpoint with
        /// `key <= timepoint` (0 if none), found by binary search.
        fn _upper_lookup(self: @ContractState, trace: felt252, timepoint: u64) -> u256 {
            let mut low: u64 = 0;
            let mut high = self.checkpoint_count.read(trace);
            while low < high {
                let mid = low + (high - low) / 2;
                if self.checkpoints.entry((trace, mid)).key.read() > timepoint {
                    high = mid;
                } else {
                    low = mid + 1;
                }
            };
            if high == 0 {
                return 0;
            }
            self.checkpoints.entry((trace, high - 1)).value.read()
        }
    }
}
