//! Hard bounds of every governable parameter, as `contracts/src/ProtocolBounds.sol` sets them: no proposal can
//! move a parameter outside them.
//!
//! The bounds are tied together: a worker's stake stays slashable while it unbonds, and the shortest unbonding
//! period is the longest a worker can stay liable for one assignment (submission or commit due, then for a replica
//! the reveal window, then the challenge window, then the dispute period). So stake never leaves the registry before every fault it backs can be punished.

/// Basis points in one whole.
pub const BPS: u256 = 10_000;

/// Protocol fee on a paid reward: 0% to 20%.
pub const MAX_PROTOCOL_FEE_BPS: u256 = 2000;
/// Share of a worker's stake slashed on a fault: 1% to 50% (never all of it).
pub const MIN_SLASH_SHARE_BPS: u256 = 100;
pub const MAX_SLASH_SHARE_BPS: u256 = 5000;

/// Time an assigned worker has to submit: 1 minute to 3 days (seconds).
pub const MIN_ASSIGNMENT_TIMEOUT: u256 = 60;
pub const MAX_ASSIGNMENT_TIMEOUT: u256 = 259_200;
/// Time a client has to dispute a submitted result: 1 minute to 3 days (seconds).
pub const MIN_CHALLENGE_WINDOW: u256 = 60;
pub const MAX_CHALLENGE_WINDOW: u256 = 259_200;
/// Time the arbiter has to resolve a dispute before anyone may settle it: 1 hour to 3 days (seconds).
pub const MIN_DISPUTE_PERIOD: u256 = 3600;
pub const MAX_DISPUTE_PERIOD: u256 = 259_200;

/// Cap of a fault slash as a multiple of the job's reward: 0.1x to 5x (basis points of the reward).
pub const MIN_SLASH_REWARD_MULTIPLE_BPS: u256 = 1000;
pub const MAX_SLASH_REWARD_MULTIPLE_BPS: u256 = 50_000;
/// The most of one fault slash the client receives: 0% to 10% of the reward; the rest goes to the treasury.
pub const MAX_COMPENSATION_BPS: u256 = 1000;
/// Fee a worker pays to decline an assignment: 0% to 10% of the reward, to the treasury.
pub const MAX_DECLINE_FEE_BPS: u256 = 1000;
/// Bond a client escrows to dispute a result: 0% to 100% of the reward.
pub const MAX_DISPUTE_BOND_BPS: u256 = 10_000;
/// Least time a worker is given before the job's deadline: 1 minute to 1 day (seconds).
pub const MIN_MIN_SUBMIT_WINDOW: u256 = 60;
pub const MAX_MIN_SUBMIT_WINDOW: u256 = 86_400;

/// Time the replicas of a redundant job have to reveal: 1 minute to 1 day (seconds).
pub const MIN_REVEAL_WINDOW: u256 = 60;
pub const MAX_REVEAL_WINDOW: u256 = 86_400;
/// Least share of a redundant job's replicas that must agree: more than half, up to all (basis points).
pub const MIN_CONSENSUS_BPS: u256 = 5001;
pub const MAX_CONSENSUS_BPS: u256 = 10_000;
/// Most replicas of one redundant job.
pub const MAX_REDUNDANCY: u8 = 7;

/// Unbonding period: at least the longest liability of one assignment (MAX_ASSIGNMENT_TIMEOUT +
/// MAX_REVEAL_WINDOW + MAX_CHALLENGE_WINDOW + MAX_DISPUTE_PERIOD = 10 days), at most a year (seconds).
pub const MIN_UNBONDING_PERIOD: u256 = 864_000;
pub const MAX_UNBONDING_PERIOD: u256 = 31_536_000;

/// Minimum worker stake: 1 to 100,000,000 tokens (18 decimals).
pub const MIN_MIN_STAKE: u256 = 1_000_000_000_000_000_000;
pub const MAX_MIN_STAKE: u256 = 100_000_000_000_000_000_000_000_000;

/// The largest reward or per-worker stake + pending (2^96 - 1, the Solidity contracts' uint96 fields): keeps every
/// `amount x bps` product far from overflowing.
pub const MAX_AMOUNT: u256 = 0xffffffffffffffffffffffff;

/// Attempts a client may allow one job (each assignment uses one).
pub const MAX_ATTEMPTS: u8 = 16;
/// Longest URI (job spec, worker metadata, DA locator) accepted, in bytes.
pub const MAX_URI_LENGTH: usize = 1024;

/// 2^64 and 2^72: shift a short string left by 8 and 9 bytes, to append ' too low' and ' too high'.
const SHIFT_8_BYTES: felt252 = 0x10000000000000000;
const SHIFT_9_BYTES: felt252 = 0x1000000000000000000;

/// Panics unless `min <= value <= max`, with the key followed by ' too low' or ' too high' (for example
/// 'protocolFeeBps too high'). `key` is a short string of at most 22 characters.
pub fn check_bounds(key: felt252, value: u256, min: u256, max: u256) {
    if value < min {
        core::panic_with_felt252(key * SHIFT_8_BYTES + ' too low');
    }
    if value > max {
        core::panic_with_felt252(key * SHIFT_9_BYTES + ' too high');
    }
}

/// Panics with 'UriTooLong' when `uri` is longer than `MAX_URI_LENGTH` bytes.
pub fn check_uri(uri: @ByteArray) {
    assert(uri.len() <= MAX_URI_LENGTH, 'UriTooLong');
}

/// `amount x bps / 10_000`, rounded down (the receiver of a share never gets more than its share).
pub fn bps_of(amount: u256, bps: u16) -> u256 {
    amount * bps.into() / BPS
}
