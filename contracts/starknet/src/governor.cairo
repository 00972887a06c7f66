//! `AccordGovernor`, the twin of `contracts/src/AccordGovernor.sol` (OpenZeppelin's Governor with Settings,
//! CountingSimple, Votes, QuorumFraction and TimelockControl): holders of the token's voting power propose batches
//! of calls, vote on them, and a passed proposal runs through the timelock, which owns every protocol parameter.
//! The clock is the block timestamp (the token's clock), in seconds.
//!
//! Governance cannot weaken its own safeguards: once deployed, the voting delay, the voting period and the quorum
//! cannot be set below `MIN_VOTING_DELAY`, `MIN_VOTING_PERIOD` and `MIN_QUORUM_PERCENT` (the constructor accepts any
//! value, for devnets). The proposal threshold has no minimum.
//!
//! Hashing rules (all Poseidon, `poseidon_hash_span` = starknet-rs `poseidon_hash_many`), computable off chain:
//! - `description_hash = poseidon([k, word_1, ..., word_k, pending_word, pending_word_len])`, the Cairo
//!   serialization of the description `ByteArray` (its bytes in big-endian 31-byte words, then the remaining
//!   `pending_word_len` < 31 bytes as one felt);
//! - `proposal_id = poseidon([n, to_1, selector_1, m_1, calldata_1..., ..., to_n, selector_n, m_n,
//!   calldata_n..., description_hash])`, the serialization of `(calls: Span<Call>, description_hash)`;
//! - the timelock operation is `(calls, predecessor 0, salt)` with `salt = poseidon([governor_address,
//!   description_hash])` (OpenZeppelin XORs the governor address into the description hash for the same purpose:
//!   two governors sharing a timelock never collide); its id follows the timelock's rule.
use starknet::ContractAddress;
use starknet::account::Call;

/// Least voting delay governance may set: one day (seconds).
pub const MIN_VOTING_DELAY: u64 = 86400;
/// Least voting period governance may set: three days (seconds).
pub const MIN_VOTING_PERIOD: u64 = 259200;
/// Least quorum governance may set, in percent of the past total supply.
pub const MIN_QUORUM_PERCENT: u256 = 1;
/// The quorum numerator's denominator: quorums are in percent.
pub const QUORUM_DENOMINATOR: u256 = 100;

/// A proposal's state; serialized as its index, the same numbers as OpenZeppelin's `ProposalState`.
#[derive(Copy, Drop, Serde, PartialEq, Debug)]
pub enum ProposalState {
    Pending,
    Active,
    Canceled,
    Defeated,
    Succeeded,
    Queued,
    Expired,
    Executed,
}

/// The governor's entry points (documented on `AccordGovernor::GovernorImpl`).
#[starknet::interface]
pub trait IGovernor<TState> {
    fn propose(ref self: TState, calls: Span<Call>, description: ByteArray) -> felt252;
    fn cast_vote(ref self: TState, proposal_id: felt252, support: u8) -> u256;
    fn cast_vote_with_reason(ref self: TState, proposal_id: felt252, support: u8, reason: ByteArray) -> u256;
    fn queue(ref self: TState, calls: Span<Call>, description_hash: felt252) -> felt252;
    fn execute(ref self: TState, calls: Span<Call>, description_hash: felt252) -> felt252;
    fn cancel(ref self: TState, calls: Span<Call>, description_hash: felt252) -> felt252;
    fn state(self: @TState, proposal_id: felt252) -> ProposalState;
    fn hash_proposal(self: @TState, calls: Span<Call>, description_hash: felt252) -> felt252;
    fn hash_description(self: @TState, description: ByteArray) -> felt252;
    fn proposal_votes(self: @TState, proposal_id: felt252) -> (u256, u256, u256);
    fn proposal_snapshot(self: @TState, proposal_id: felt252) -> u64;
    fn proposal_deadline(self: @TState, proposal_id: felt252) -> u64;
    fn proposal_eta(self: @TState, proposal_id: felt252) -> u64;
    fn proposal_proposer(self: @TState, proposal_id: felt252) -> ContractAddress;
    fn has_voted(self: @TState, proposal_id: felt252, account: ContractAddress) -> bool;
    fn voting_delay(self: @TState) -> u64;
    fn voting_period(self: @TState) -> u64;
    fn proposal_threshold(self: @TState) -> u256;
    fn quorum_numerator(self: @TState) -> u256;
    fn quorum(self: @TState, timepoint: u64) -> u256;
    fn token(self: @TState) -> ContractAddress;
    fn timelock(self: @TState) -> ContractAddress;
    fn set_voting_delay(ref self: TState, new_voting_delay: u64);
    fn set_voting_period(ref self: TState, new_voting_period: u64);
    fn set_proposal_threshold(ref self: TState, new_proposal_threshold: u256);
    fn update_quorum_numerator(ref self: TState, new_quorum_numerator: u256);
}

pub mod errors {
    pub const BELOW_MINIMUM: felt252 = 'GovernanceSettingBelowMinimum';
    pub const INVALID_QUORUM: felt252 = 'Governor: invalid quorum';
    pub const INVALID_VOTING_PERIOD: felt252 = 'Governor: invalid voting period';
    pub const ONLY_EXECUTOR: felt252 = 'Governor: only executor';
    pub const ONLY_PROPOSER: felt252 = 'Governor: only proposer';
    pub const RESTRICTED_PROPOSER: felt252 = 'Governor: restricted proposer';
    pub const INSUFFICIENT_VOTES: felt252 = 'Governor: insufficient votes';
    pub const EMPTY_PROPOSAL: felt252 = 'Governor: empty proposal';
    pub const PROPOSAL_EXISTS: felt252 = 'Governor: proposal exists';
    pub const UNKNOWN_PROPOSAL: felt252 = 'Governor: unknown proposal';
    pub const VOTE_NOT_ACTIVE: felt252 = 'Governor: vote not active';
    pub const ALREADY_VOTED: felt252 = 'Governor: already voted';
    pub const INVALID_VOTE_TYPE: felt252 = 'Governor: invalid vote type';
    pub const NOT_SUCCEEDED: felt252 = 'Governor: not succeeded';
    pub const NOT_QUEUED: felt252 = 'Governor: not queued';
    pub const NOT_PENDING: felt252 = 'Governor: not pending';
}

#[starknet::contract]
pub mod AccordGovernor {
    use core::poseidon::poseidon_hash_span;
    use starknet::account::Call;
    use starknet::storage::{
        Map, StorageMapReadAccess, StorageMapWriteAccess, StoragePathEntry, StoragePointerReadAccess,
        StoragePointerWriteAccess,
    };
    use starknet::{ContractAddress, get_block_timestamp, get_caller_address, get_contract_address};
    use crate::interfaces::{IVotesDispatcher, IVotesDispatcherTrait};
    use crate::timelock::{ITimelockDispatcher, ITimelockDispatcherTrait};
    use crate::token::Checkpoint;
    use super::{
        IGovernor, MIN_QUORUM_PERCENT, MIN_VOTING_DELAY, MIN_VOTING_PERIOD, ProposalState, QUORUM_DENOMINATOR,
        errors,
    };

    /// A proposal's record; `vote_start` 0 means no such proposal.
    #[derive(Copy, Drop, starknet::Store)]
    struct ProposalCore {
        proposer: ContractAddress,
        vote_start: u64,
        vote_duration: u64,
        executed: bool,
        canceled: bool,
        eta_seconds: u64,
    }

    /// A proposal's tallies.
    #[derive(Copy, Drop, starknet::Store)]
    struct ProposalVotes {
        against_votes: u256,
        for_votes: u256,
        abstain_votes: u256,
    }

    #[storage]
    struct Storage {
        token: ContractAddress,
        timelock: ContractAddress,
        voting_delay: u64,
        voting_period: u64,
        proposal_threshold: u256,
        /// History of the quorum numerator (position -> checkpoint), so a change never moves the quorum of a
        /// proposal whose snapshot is already past.
        quorum_numerators: Map<u64, Checkpoint>,
        quorum_numerator_count: u64,
        proposals: Map<felt252, ProposalCore>,
        proposal_votes: Map<felt252, ProposalVotes>,
        has_voted: Map<(felt252, ContractAddress), bool>,
        /// Proposal id -> its timelock operation id, while queued.
        timelock_ids: Map<felt252, felt252>,
    }

    #[event]
    #[derive(Drop, PartialEq, starknet::Event)]
    pub enum Event {
        ProposalCreated: ProposalCreated,
        VoteCast: VoteCast,
        ProposalQueued: ProposalQueued,
        ProposalExecuted: ProposalExecuted,
        ProposalCanceled: ProposalCanceled,
        VotingDelaySet: VotingDelaySet,
        VotingPeriodSet: VotingPeriodSet,
        ProposalThresholdSet: ProposalThresholdSet,
        QuorumNumeratorUpdated: QuorumNumeratorUpdated,
    }

    /// `proposer` proposed calls `(targets[i], selectors[i], calldatas[i])` with `description`; voting runs from
    /// just after `vote_start` to the end of `vote_end` (timestamps).
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct ProposalCreated {
        #[key]
        pub proposal_id: felt252,
        pub proposer: ContractAddress,
        pub targets: Span<ContractAddress>,
        pub selectors: Span<felt252>,
        pub calldatas: Span<Span<felt252>>,
        pub vote_start: u64,
        pub vote_end: u64,
        pub description: ByteArray,
    }

    /// `voter` cast `weight` votes on `proposal_id`: `support` 0 against, 1 for, 2 abstain.
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct VoteCast {
        #[key]
        pub voter: ContractAddress,
        pub proposal_id: felt252,
        pub support: u8,
        pub weight: u256,
        pub reason: ByteArray,
    }

    /// `proposal_id` was scheduled in the timelock; executable from `eta_seconds`.
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct ProposalQueued {
        pub proposal_id: felt252,
        pub eta_seconds: u64,
    }

    /// `proposal_id` was executed through the timelock.
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct ProposalExecuted {
        pub proposal_id: felt252,
    }

    /// `proposal_id` was cancelled by its proposer.
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct ProposalCanceled {
        pub proposal_id: felt252,
    }

    /// The voting delay changed (seconds).
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct VotingDelaySet {
        pub old_voting_delay: u64,
        pub new_voting_delay: u64,
    }

    /// The voting period changed (seconds).
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct VotingPeriodSet {
        pub old_voting_period: u64,
        pub new_voting_period: u64,
    }

    /// The proposal threshold changed (votes).
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct ProposalThresholdSet {
        pub old_proposal_threshold: u256,
        pub new_proposal_threshold: u256,
    }

    /// The quorum numerator changed (percent).
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct QuorumNumeratorUpdated {
        pub old_quorum_numerator: u256,
        pub new_quorum_numerator: u256,
    }

    /// Creates the governor of `token` (AccordToken's votes) executing through `timelock` (which must grant it the
    /// proposer role, and the executor role unless execution is open). Delays in seconds; `quorum_percent` of the
    /// past total supply. The minimums are not enforced here, but the voting period must be non-zero
    /// (`Governor: invalid voting period`) and the quorum at most 100 (`Governor: invalid quorum`). Emits the four
    /// setting events.
    #[constructor]
    fn constructor(
        ref self: ContractState,
        token: ContractAddress,
        timelock: ContractAddress,
        voting_delay: u64,
        voting_period: u64,
        proposal_threshold: u256,
        quorum_percent: u256,
    ) {
        self.token.write(token);
        self.timelock.write(timelock);
        self._set_voting_delay(voting_delay);
        self._set_voting_period(voting_period);
        self._set_proposal_threshold(proposal_threshold);
        self._update_quorum_numerator(quorum_percent);
    }

    #[abi(embed_v0)]
    impl GovernorImpl of IGovernor<ContractState> {
        /// Proposes `calls` (run in order by the timelock if passed) with `description`; returns the proposal id.
        /// The caller needs at least `proposal_threshold()` votes at the previous second. Voting starts after
        /// `voting_delay()` and lasts `voting_period()`. A description ending with `#proposer=0x` and 64 hex digits
        /// may only be proposed by that address (front-running protection). Emits `ProposalCreated`.
        fn propose(ref self: ContractState, calls: Span<Call>, description: ByteArray) -> felt252 {
            let proposer = get_caller_address();
            assert(is_valid_description_for_proposer(proposer, @description), errors::RESTRICTED_PROPOSER);
            let now = get_block_timestamp();
            let threshold = self.proposal_threshold.read();
            if threshold > 0 {
                let votes = self._token().get_past_votes(proposer, now - 1);
                assert(votes >= threshold, errors::INSUFFICIENT_VOTES);
            }
            assert(calls.len() > 0, errors::EMPTY_PROPOSAL);

            let proposal_id = self.hash_proposal(calls, hash_description(@description));
            let proposal = self.proposals.entry(proposal_id);
            assert(proposal.vote_start.read() == 0, errors::PROPOSAL_EXISTS);
            let vote_start = now + self.voting_delay.read();
            let vote_duration = self.voting_period.read();
            proposal
                .write(
                    ProposalCore {
                        proposer, vote_start, vote_duration, executed: false, canceled: false, eta_seconds: 0,
                    },
                );

            let mut targets = array![];
            let mut selectors = array![];
            let mut calldatas = array![];
            for call in calls {
                targets.append(*call.to);
                selectors.append(*call.selector);
                calldatas.append(*call.calldata);
            };
            self
                .emit(
                    ProposalCreated {
                        proposal_id,
                        proposer,
                        targets: targets.span(),
                        selectors: selectors.span(),
                        calldatas: calldatas.span(),
                        vote_start,
                        vote_end: vote_start + vote_duration,
                        description,
                    },
                );
            proposal_id
        }

        /// Casts the caller's vote on an active proposal (`support`: 0 against, 1 for, 2 abstain) with its voting
        /// power at the proposal's snapshot; returns that weight. Once per account. Emits `VoteCast`.
        fn cast_vote(ref self: ContractState, proposal_id: felt252, support: u8) -> u256 {
            self._cast_vote(proposal_id, support, "")
        }

        /// `cast_vote` with a `reason` carried by the `VoteCast` event.
        fn cast_vote_with_reason(
            ref self: ContractState, proposal_id: felt252, support: u8, reason: ByteArray,
        ) -> u256 {
            self._cast_vote(proposal_id, support, reason)
        }

        /// Schedules a succeeded proposal's calls in the timelock with the timelock's current minimum delay;
        /// returns the proposal id. Anyone may call. Emits `ProposalQueued`.
        fn queue(ref self: ContractState, calls: Span<Call>, description_hash: felt252) -> felt252 {
            let proposal_id = self.hash_proposal(calls, description_hash);
            assert(self._state(proposal_id) == ProposalState::Succeeded, errors::NOT_SUCCEEDED);
            let timelock = self._timelock();
            let delay = timelock.get_min_delay();
            let salt = timelock_salt(description_hash);
            self.timelock_ids.write(proposal_id, timelock.hash_operation_batch(calls, 0, salt));
            timelock.schedule_batch(calls, 0, salt, delay);
            let eta_seconds = get_block_timestamp() + delay;
            self.proposals.entry(proposal_id).eta_seconds.write(eta_seconds);
            self.emit(ProposalQueued { proposal_id, eta_seconds });
            proposal_id
        }

        /// Executes a queued proposal through the timelock once its delay has passed; returns the proposal id.
        /// Anyone may call. Emits `ProposalExecuted`.
        fn execute(ref self: ContractState, calls: Span<Call>, description_hash: felt252) -> felt252 {
            let proposal_id = self.hash_proposal(calls, description_hash);
            assert(self._state(proposal_id) == ProposalState::Queued, errors::NOT_QUEUED);
            // Marked before the calls run: re-entering `execute` finds the proposal executed.
            self.proposals.entry(proposal_id).executed.write(true);
            self._timelock().execute_batch(calls, 0, timelock_salt(description_hash));
            self.timelock_ids.write(proposal_id, 0);
            self.emit(ProposalExecuted { proposal_id });
            proposal_id
        }

        /// Cancels a pending proposal (before voting starts); its proposer only. Returns the proposal id. Emits
        /// `ProposalCanceled`.
        fn cancel(ref self: ContractState, calls: Span<Call>, description_hash: felt252) -> felt252 {
            let proposal_id = self.hash_proposal(calls, description_hash);
            assert(self._state(proposal_id) == ProposalState::Pending, errors::NOT_PENDING);
            let proposal = self.proposals.entry(proposal_id);
            assert(get_caller_address() == proposal.proposer.read(), errors::ONLY_PROPOSER);
            proposal.canceled.write(true);
            self.emit(ProposalCanceled { proposal_id });
            proposal_id
        }

        /// The proposal's state; panics `Governor: unknown proposal` for an id never proposed. Pending up to and
        /// including the snapshot second, Active up to and including the deadline second, then Defeated unless the
        /// quorum (for + abstain) is reached and for > against, else Succeeded, Queued once queued (Executed or
        /// Canceled if the timelock operation was executed or cancelled directly), Executed. Expired is never
        /// returned (as with OpenZeppelin's timelock control).
        fn state(self: @ContractState, proposal_id: felt252) -> ProposalState {
            self._state(proposal_id)
        }

        /// The id of the proposal `(calls, description_hash)` (rule in the module doc).
        fn hash_proposal(self: @ContractState, calls: Span<Call>, description_hash: felt252) -> felt252 {
            let mut data = array![];
            calls.serialize(ref data);
            data.append(description_hash);
            poseidon_hash_span(data.span())
        }

        /// The hash of `description` used by `queue`, `execute` and `cancel` (rule in the module doc).
        fn hash_description(self: @ContractState, description: ByteArray) -> felt252 {
            hash_description(@description)
        }

        /// `(against, for, abstain)` votes cast on `proposal_id`.
        fn proposal_votes(self: @ContractState, proposal_id: felt252) -> (u256, u256, u256) {
            let votes = self.proposal_votes.read(proposal_id);
            (votes.against_votes, votes.for_votes, votes.abstain_votes)
        }

        /// The timestamp at whose end voting power is read (voting opens after it); 0 for an unknown id.
        fn proposal_snapshot(self: @ContractState, proposal_id: felt252) -> u64 {
            self.proposals.entry(proposal_id).vote_start.read()
        }

        /// The last second of voting; 0 for an unknown id.
        fn proposal_deadline(self: @ContractState, proposal_id: felt252) -> u64 {
            let proposal = self.proposals.read(proposal_id);
            proposal.vote_start + proposal.vote_duration
        }

        /// When the queued proposal becomes executable; 0 if not queued.
        fn proposal_eta(self: @ContractState, proposal_id: felt252) -> u64 {
            self.proposals.entry(proposal_id).eta_seconds.read()
        }

        /// Who proposed `proposal_id` (zero for an unknown id).
        fn proposal_proposer(self: @ContractState, proposal_id: felt252) -> ContractAddress {
            self.proposals.entry(proposal_id).proposer.read()
        }

        /// Whether `account` voted on `proposal_id`.
        fn has_voted(self: @ContractState, proposal_id: felt252, account: ContractAddress) -> bool {
            self.has_voted.read((proposal_id, account))
        }

        /// Seconds between a proposal and its snapshot.
        fn voting_delay(self: @ContractState) -> u64 {
            self.voting_delay.read()
        }

        /// Seconds voting lasts.
        fn voting_period(self: @ContractState) -> u64 {
            self.voting_period.read()
        }

        /// Votes needed to propose.
        fn proposal_threshold(self: @ContractState) -> u256 {
            self.proposal_threshold.read()
        }

        /// The current quorum, in percent of the past total supply.
        fn quorum_numerator(self: @ContractState) -> u256 {
            let count = self.quorum_numerator_count.read();
            self.quorum_numerators.entry(count - 1).value.read()
        }

        /// Votes (for + abstain) a proposal with snapshot `timepoint` needs: the token's past total supply times
        /// the quorum numerator in force at `timepoint`, over 100. Panics `Votes: future lookup` unless
        /// `timepoint` is past.
        fn quorum(self: @ContractState, timepoint: u64) -> u256 {
            let supply = self._token().get_past_total_supply(timepoint);
            supply * self._quorum_numerator_at(timepoint) / QUORUM_DENOMINATOR
        }

        /// The voting token.
        fn token(self: @ContractState) -> ContractAddress {
            self.token.read()
        }

        /// The timelock that executes passed proposals (the governor's executor).
        fn timelock(self: @ContractState) -> ContractAddress {
            self.timelock.read()
        }

        /// Sets the voting delay (seconds), at least `MIN_VOTING_DELAY` (one day). Governance (the timelock) only.
        /// Emits `VotingDelaySet`.
        fn set_voting_delay(ref self: ContractState, new_voting_delay: u64) {
            self._assert_only_governance();
            assert(new_voting_delay >= MIN_VOTING_DELAY, errors::BELOW_MINIMUM);
            self._set_voting_delay(new_voting_delay);
        }

        /// Sets the voting period (seconds), at least `MIN_VOTING_PERIOD` (three days). Governance only. Emits
        /// `VotingPeriodSet`.
        fn set_voting_period(ref self: ContractState, new_voting_period: u64) {
            self._assert_only_governance();
            assert(new_voting_period >= MIN_VOTING_PERIOD, errors::BELOW_MINIMUM);
            self._set_voting_period(new_voting_period);
        }

        /// Sets the votes needed to propose. Governance only. Emits `ProposalThresholdSet`.
        fn set_proposal_threshold(ref self: ContractState, new_proposal_threshold: u256) {
            self._assert_only_governance();
            self._set_proposal_threshold(new_proposal_threshold);
        }

        /// Sets the quorum (percent, 1 to 100) for proposals whose snapshot is from now on. Governance only. Emits
        /// `QuorumNumeratorUpdated`.
        fn update_quorum_numerator(ref self: ContractState, new_quorum_numerator: u256) {
            self._assert_only_governance();
            assert(new_quorum_numerator >= MIN_QUORUM_PERCENT, errors::BELOW_MINIMUM);
            self._update_quorum_numerator(new_quorum_numerator);
        }
    }

    #[generate_trait]
    impl InternalImpl of InternalTrait {
        fn _token(self: @ContractState) -> IVotesDispatcher {
            IVotesDispatcher { contract_address: self.token.read() }
        }

        fn _timelock(self: @ContractState) -> ITimelockDispatcher {
            ITimelockDispatcher { contract_address: self.timelock.read() }
        }

        /// Panics `Governor: only executor` unless the caller is the timelock.
        fn _assert_only_governance(self: @ContractState) {
            assert(get_caller_address() == self.timelock.read(), errors::ONLY_EXECUTOR);
        }

        fn _state(self: @ContractState, proposal_id: felt252) -> ProposalState {
            let proposal = self.proposals.read(proposal_id);
            if proposal.executed {
                return ProposalState::Executed;
            }
            if proposal.canceled {
                return ProposalState::Canceled;
            }
            assert(proposal.vote_start != 0, errors::UNKNOWN_PROPOSAL);
            let now = get_block_timestamp();
            if now <= proposal.vote_start {
                return ProposalState::Pending;
            }
            if now <= proposal.vote_start + proposal.vote_duration {
                return ProposalState::Active;
            }
            let votes = self.proposal_votes.read(proposal_id);
            let quorum = self.quorum(proposal.vote_start);
            if quorum > votes.for_votes + votes.abstain_votes || votes.for_votes <= votes.against_votes {
                return ProposalState::Defeated;
            }
            if proposal.eta_seconds == 0 {
                return ProposalState::Succeeded;
            }
            let operation_id = self.timelock_ids.read(proposal_id);
            let timelock = self._timelock();
            if timelock.is_operation_pending(operation_id) {
                ProposalState::Queued
            } else if timelock.is_operation_done(operation_id) {
                ProposalState::Executed
            } else {
                ProposalState::Canceled
            }
        }

        fn _cast_vote(ref self: ContractState, proposal_id: felt252, support: u8, reason: ByteArray) -> u256 {
            let voter = get_caller_address();
            assert(self._state(proposal_id) == ProposalState::Active, errors::VOTE_NOT_ACTIVE);
            assert(support <= 2, errors::INVALID_VOTE_TYPE);
            assert(!self.has_voted.read((proposal_id, voter)), errors::ALREADY_VOTED);
            self.has_voted.write((proposal_id, voter), true);

            let snapshot = self.proposals.entry(proposal_id).vote_start.read();
            let weight = self._token().get_past_votes(voter, snapshot);
            let votes = self.proposal_votes.entry(proposal_id);
            if support == 0 {
                votes.against_votes.write(votes.against_votes.read() + weight);
            } else if support == 1 {
                votes.for_votes.write(votes.for_votes.read() + weight);
            } else {
                votes.abstain_votes.write(votes.abstain_votes.read() + weight);
            }
            self.emit(VoteCast { voter, proposal_id, support, weight, reason });
            weight
        }

        /// The quorum numerator in force at the end of second `timepoint` (last checkpoint with key <= timepoint).
        fn _quorum_numerator_at(self: @ContractState, timepoint: u64) -> u256 {
            let mut low: u64 = 0;
            let mut high = self.quorum_numerator_count.read();
            while low < high {
                let mid = low + (high - low) / 2;
                if self.quorum_numerators.entry(mid).key.read() > timepoint {
                    high = mid;
                } else {
                    low = mid + 1;
                }
            };
            if high == 0 {
                return 0;
            }
            self.quorum_numerators.entry(high - 1).value.read()
        }

        fn _set_voting_delay(ref self: ContractState, new_voting_delay: u64) {
            let old_voting_delay = self.voting_delay.read();
            self.voting_delay.write(new_voting_delay);
            self.emit(VotingDelaySet { old_voting_delay, new_voting_delay });
        }

        fn _set_voting_period(ref self: ContractState, new_voting_period: u64) {
            assert(new_voting_period > 0, errors::INVALID_VOTING_PERIOD);
            let old_voting_period = self.voting_period.read();
            self.voting_period.write(new_voting_period);
            self.emit(VotingPeriodSet { old_voting_period, new_voting_period });
        }

        fn _set_proposal_threshold(ref self: ContractState, new_proposal_threshold: u256) {
            let old_proposal_threshold = self.proposal_threshold.read();
            self.proposal_threshold.write(new_proposal_threshold);
            self.emit(ProposalThresholdSet { old_proposal_threshold, new_proposal_threshold });
        }

        /// Records `new_quorum_numerator` (at most 100) from this second on (overwriting a change made earlier in
        /// the same second).
        fn _update_quorum_numerator(ref self: ContractState, new_quorum_numerator: u256) {
            assert(new_quorum_numerator <= QUORUM_DENOMINATOR, errors::INVALID_QUORUM);
            let now = get_block_timestamp();
            let count = self.quorum_numerator_count.read();
            let mut old_quorum_numerator = 0;
            if count > 0 {
                let last = self.quorum_numerators.entry(count - 1);
                old_quorum_numerator = last.value.read();
                if last.key.read() == now {
                    last.value.write(new_quorum_numerator);
                    self.emit(QuorumNumeratorUpdated { old_quorum_numerator, new_quorum_numerator });
                    return;
                }
            }
            self.quorum_numerators.write(count, Checkpoint { key: now, value: new_quorum_numerator });
            self.quorum_numerator_count.write(count + 1);
            self.emit(QuorumNumeratorUpdated { old_quorum_numerator, new_quorum_numerator });
        }
    }

    /// Poseidon hash of the description's serialization (see the module doc).
    fn hash_description(description: @ByteArray) -> felt252 {
        let mut data = array![];
        description.serialize(ref data);
        poseidon_hash_span(data.span())
    }

    /// The timelock salt of a proposal with `description_hash`: `poseidon([governor_address, description_hash])`.
    fn timelock_salt(description_hash: felt252) -> felt252 {
        poseidon_hash_span(array![get_contract_address().into(), description_hash].span())
    }

    /// Whether `proposer` may propose `description`: anyone may, unless the description ends with `#proposer=0x`
    /// followed by exactly 64 hex digits (either case), which restricts it to the address they spell.
    fn is_valid_description_for_proposer(proposer: ContractAddress, description: @ByteArray) -> bool {
        let marker: ByteArray = "#proposer=0x";
        let suffix_len = marker.len() + 64;
        let len = description.len();
        if len < suffix_len {
            return true;
        }
        let start = len - suffix_len;
        let mut has_marker = true;
        let mut i = 0;
        while i < marker.len() {
            if description.at(start + i) != marker.at(i) {
                has_marker = false;
                break;
            }
            i += 1;
        };
        if !has_marker {
            return true;
        }
        let mut address: u256 = 0;
        let mut all_hex = true;
        let mut i = start + marker.len();
        while i < len {
            match hex_digit(description.at(i).unwrap()) {
                Option::Some(digit) => address = address * 16 + digit.into(),
                Option::None => {
                    all_hex = false;
                    break;
                },
            }
            i += 1;
        };
        let proposer: felt252 = proposer.into();
        !all_hex || address == proposer.into()
    }

    /// The value of hex digit `c` (either case).
    fn hex_digit(c: u8) -> Option<u8> {
        if c >= '0' && c <= '9' {
            Option::Some(c - '0')
        } else if c >= 'a' && c <= 'f' {
            Option::Some(c - 'a' + 10)
        } else if c >= 'A' && c <= 'F' {
            Option::Some(c - 'A' + 10)
        } else {
            Option::None
        }
    }
}
