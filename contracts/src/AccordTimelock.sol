// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title AccordTimelock
/// @notice The protocol's timelock: OpenZeppelin's TimelockController, except that once deployed its delay cannot
/// be lowered below {MIN_DELAY} (one day), so a passed proposal can never take effect before holders can react.
/// The constructor still accepts any delay, for short devnet and test settings.
contract AccordTimelock is TimelockController {
    /// @notice Least delay {updateDelay} accepts (seconds).
    uint256 public constant MIN_DELAY = 1 days;

    /// @notice {updateDelay} was given a delay below {MIN_DELAY}.
    error TimelockDelayBelowMinimum(uint256 delay, uint256 min);

    /// @notice Creates the timelock (see OpenZeppelin's TimelockController).
    /// @param minDelay Initial delay (seconds); not checked against {MIN_DELAY}.
    /// @param proposers Accounts granted the proposer and canceller roles.
    /// @param executors Accounts granted the executor role (address(0): anyone).
    /// @param admin Optional admin, to renounce after setup (address(0): none).
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}

    /// @notice Changes the delay (the timelock itself only, through a scheduled operation); refuses a delay below
    /// {MIN_DELAY}.
    /// @param newDelay Seconds.
    /// Emits {MinDelayChange}.
    function updateDelay(uint256 newDelay) public override {
        if (newDelay < MIN_DELAY) revert TimelockDelayBelowMinimum(newDelay, MIN_DELAY);
        super.updateDelay(newDelay);
    }
}
