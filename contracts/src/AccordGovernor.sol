// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {
    GovernorVotesQuorumFraction
} from "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";

/// @title AccordGovernor
/// @notice Token-weighted governance of the protocol. Every passed proposal runs through the timelock, which owns
/// every protocol parameter and the coordinator and arbiter roles.
/// Governance cannot weaken its own safeguards: once deployed, the voting delay, the voting period and the quorum
/// cannot be set below {MIN_VOTING_DELAY}, {MIN_VOTING_PERIOD} and {MIN_QUORUM_PERCENT} (the constructor still
/// accepts any value, for short devnet and test settings). The proposal threshold has no minimum: lowering it only
/// lets more holders propose, and every proposal still needs the quorum, a majority and the timelock delay.
/// @dev OpenZeppelin composition; the clock is the token's (block numbers). The minimums hook the internal setters
/// that OpenZeppelin's public `setVotingDelay`, `setVotingPeriod` and `updateQuorumNumerator` (governance only) call.
contract AccordGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl
{
    /// @notice Least voting delay governance may set: one day of 12-second blocks (blocks).
    uint256 public constant MIN_VOTING_DELAY = 7200;
    /// @notice Least voting period governance may set: three days of 12-second blocks (blocks).
    uint256 public constant MIN_VOTING_PERIOD = 21_600;
    /// @notice Least quorum governance may set, in percent of the past total supply.
    uint256 public constant MIN_QUORUM_PERCENT = 1;

    /// @notice A governance setting below its documented minimum.
    error GovernanceSettingBelowMinimum(bytes32 setting, uint256 value, uint256 min);

    /// @notice Creates the governor.
    /// @param token The voting token (AccordToken).
    /// @param timelock The timelock that executes passed proposals.
    /// @param votingDelay_ Blocks between a proposal and the start of voting.
    /// @param votingPeriod_ Blocks that voting stays open.
    /// @param proposalThreshold_ Votes needed to make a proposal.
    /// @param quorumPercent_ Quorum as a percentage of the past total supply.
    constructor(
        IVotes token,
        TimelockController timelock,
        uint48 votingDelay_,
        uint32 votingPeriod_,
        uint256 proposalThreshold_,
        uint256 quorumPercent_
    )
        Governor("AccordGovernor")
        GovernorSettings(votingDelay_, votingPeriod_, proposalThreshold_)
        GovernorVotes(token)
        GovernorVotesQuorumFraction(quorumPercent_)
        GovernorTimelockControl(timelock)
    {}

    /// @dev Refuses a voting delay below {MIN_VOTING_DELAY} after construction.
    function _setVotingDelay(uint48 newVotingDelay) internal override {
        _checkMinimum("votingDelay", newVotingDelay, MIN_VOTING_DELAY);
        super._setVotingDelay(newVotingDelay);
    }

    /// @dev Refuses a voting period below {MIN_VOTING_PERIOD} after construction.
    function _setVotingPeriod(uint32 newVotingPeriod) internal override {
        _checkMinimum("votingPeriod", newVotingPeriod, MIN_VOTING_PERIOD);
        super._setVotingPeriod(newVotingPeriod);
    }

    /// @dev Refuses a quorum below {MIN_QUORUM_PERCENT} after construction.
    function _updateQuorumNumerator(uint256 newQuorumNumerator) internal override {
        _checkMinimum("quorumNumerator", newQuorumNumerator, MIN_QUORUM_PERCENT);
        super._updateQuorumNumerator(newQuorumNumerator);
    }

    /// @dev While the constructor runs the contract has no code yet: the initial settings are taken as given.
    function _checkMinimum(bytes32 setting, uint256 value, uint256 min) private view {
        if (address(this).code.length != 0 && value < min) revert GovernanceSettingBelowMinimum(setting, value, min);
    }

    /// @inheritdoc Governor
    function votingDelay() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingDelay();
    }

    /// @inheritdoc Governor
    function votingPeriod() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingPeriod();
    }

    /// @inheritdoc Governor
    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    /// @inheritdoc Governor
    function state(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        return super.state(proposalId);
    }

    /// @inheritdoc Governor
    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }
}
