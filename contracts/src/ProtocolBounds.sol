// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ProtocolBounds
/// @notice Hard on-chain bounds of every governable parameter. No proposal can move a parameter outside them.
/// @dev The bounds are tied together: a worker's stake stays slashable while it unbonds, and the shortest unbonding
/// period is the longest a worker can stay liable for one assignment (submission or commit due, then for a replica
/// the reveal window, then the challenge window, then the dispute period). So stake never leaves the registry before every fault it backs can be punished,
/// without the registry having to count open assignments.
library ProtocolBounds {
    /// @notice A governed parameter outside its hard bounds.
    error ParameterOutOfBounds(bytes32 key, uint256 value, uint256 min, uint256 max);
    /// @notice A URI longer than the protocol accepts.
    error UriTooLong(uint256 length, uint256 max);

    /// @notice Basis points in one whole.
    uint256 internal constant BPS = 10_000;

    /// @notice Protocol fee on a paid reward: 0% to 20%.
    uint256 internal constant MAX_PROTOCOL_FEE_BPS = 2000;
    /// @notice Share of a worker's stake slashed on a fault: 1% to 50% (never all of it).
    uint256 internal constant MIN_SLASH_SHARE_BPS = 100;
    uint256 internal constant MAX_SLASH_SHARE_BPS = 5000;

    /// @notice Time an assigned worker has to submit: 1 minute to 3 days (seconds).
    uint256 internal constant MIN_ASSIGNMENT_TIMEOUT = 1 minutes;
    uint256 internal constant MAX_ASSIGNMENT_TIMEOUT = 3 days;
    /// @notice Time a client has to dispute a submitted result: 1 minute to 3 days (seconds).
    uint256 internal constant MIN_CHALLENGE_WINDOW = 1 minutes;
    uint256 internal constant MAX_CHALLENGE_WINDOW = 3 days;
    /// @notice Time the arbiter has to resolve a dispute before anyone may refund it: 1 hour to 3 days (seconds).
    uint256 internal constant MIN_DISPUTE_PERIOD = 1 hours;
    uint256 internal constant MAX_DISPUTE_PERIOD = 3 days;

    /// @notice Cap of a fault slash as a multiple of the job's reward: 0.1x to 5x (basis points of the reward).
    /// A fault slash is min(slashable stake x slash share, reward x this multiple).
    uint256 internal constant MIN_SLASH_REWARD_MULTIPLE_BPS = 1000;
    uint256 internal constant MAX_SLASH_REWARD_MULTIPLE_BPS = 50_000;
    /// @notice The most of one fault slash the client receives: 0% to 10% of the reward (basis points of the
    /// reward); the rest of the slash goes to the treasury.
    uint256 internal constant MAX_COMPENSATION_BPS = 1000;
    /// @notice Fee a worker pays to decline an assignment: 0% to 10% of the reward, to the treasury.
    uint256 internal constant MAX_DECLINE_FEE_BPS = 1000;
    /// @notice Bond a client escrows to dispute a result: 0% to 100% of the reward.
    uint256 internal constant MAX_DISPUTE_BOND_BPS = 10_000;
    /// @notice Least time a worker is given before the job's deadline: 1 minute to 1 day (seconds). A job whose
    /// deadline is closer than this is neither assigned nor reopened.
    uint256 internal constant MIN_MIN_SUBMIT_WINDOW = 1 minutes;
    uint256 internal constant MAX_MIN_SUBMIT_WINDOW = 1 days;

    /// @notice Time the replicas of a redundant job have to reveal once the commit phase closes: 1 minute to 1 day
    /// (seconds).
    uint256 internal constant MIN_REVEAL_WINDOW = 1 minutes;
    uint256 internal constant MAX_REVEAL_WINDOW = 1 days;
    /// @notice Least share of a redundant job's replicas that must agree, when the client asks for no more: always
    /// more than half, so at most one result can reach it (basis points of the redundancy, rounded up).
    uint256 internal constant MIN_CONSENSUS_BPS = 5001;
    uint256 internal constant MAX_CONSENSUS_BPS = 10_000;
    /// @notice Most replicas one redundant job may ask for.
    uint256 internal constant MAX_REDUNDANCY = 7;

    /// @notice Unbonding period: at least the longest liability of one assignment, at most a year (seconds). A
    /// replica's liability is the longest: commit (assignment timeout), reveal, challenge window, dispute period.
    uint256 internal constant MIN_UNBONDING_PERIOD =
        MAX_ASSIGNMENT_TIMEOUT + MAX_REVEAL_WINDOW + MAX_CHALLENGE_WINDOW + MAX_DISPUTE_PERIOD;
    uint256 internal constant MAX_UNBONDING_PERIOD = 365 days;

    /// @notice Minimum worker stake: 1 to 100,000,000 tokens (18 decimals).
    uint256 internal constant MIN_MIN_STAKE = 1e18;
    uint256 internal constant MAX_MIN_STAKE = 1e26;

    /// @notice Attempts a client may allow one job (each expiry uses one).
    uint256 internal constant MAX_ATTEMPTS = 16;
    /// @notice Longest URI (job spec, worker metadata, DA locator) accepted, in bytes.
    uint256 internal constant MAX_URI_LENGTH = 1024;

    /// @notice Reverts with {ParameterOutOfBounds} unless `min <= value <= max`.
    function checkBounds(bytes32 key, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert ParameterOutOfBounds(key, value, min, max);
    }

    /// @notice Reverts with {UriTooLong} when `uri` is longer than {MAX_URI_LENGTH}.
    function checkUri(string calldata uri) internal pure {
        if (bytes(uri).length > MAX_URI_LENGTH) revert UriTooLong(bytes(uri).length, MAX_URI_LENGTH);
    }
}
