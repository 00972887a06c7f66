// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AccordGovernor} from "../src/AccordGovernor.sol";
import {AccordTimelock} from "../src/AccordTimelock.sol";
import {IJobManager} from "../src/interfaces/IJobManager.sol";
import {IWorkerRegistry} from "../src/interfaces/IWorkerRegistry.sol";
import {JobManager} from "../src/JobManager.sol";
import {ProtocolBounds} from "../src/ProtocolBounds.sol";
import {JobManagerBase} from "./JobManager.t.sol";

/// @notice The bounded-compensation rules: fault slash proportional to the reward, bounded client compensation,
/// minimum submit window, decline, dispute bond, registry slash by the job manager only, checked casts.
contract PenaltiesTest is JobManagerBase {
    uint8 internal constant UNREACHABLE = 1;
    uint8 internal constant LIMITS = 3;

    function expireAfterDue(uint256 id) internal {
        vm.warp(uint256(jm.jobOf(id).due) + 1);
        jm.expire(id);
    }

    // ============================================================ attacks

    /// @dev The attack this change closes: a 1-wei job with 16 attempts whose spec cannot run. Every worker that
    /// lets it expire loses at most 2x the reward (2 wei), and the client gets nothing beyond its own escrow back.
    function test_attack_OneWeiSixteenAttempts_ExpiriesAreUnprofitable() public {
        uint256 clientStart = token.balanceOf(client);
        uint256 id = postWith(1, CAPS, uint32(block.timestamp + 30 days), 16);
        for (uint256 i; i < 16; ++i) {
            assignTo(id, i % 2 == 0 ? worker : worker2);
            expireAfterDue(id);
        }
        assertStatus(id, IJobManager.JobStatus.Refunded);
        vm.assertEq(token.balanceOf(client), clientStart, "client receives nothing beyond its escrow");
        vm.assertEq(STAKE - stakeOf(worker), 16, "8 slashes of 2 wei each");
        vm.assertEq(STAKE - stakeOf(worker2), 16, "8 slashes of 2 wei each");
        vm.assertEq(uint256(jm.parameters().accruedFees), 32, "slashes beyond the compensation go to the treasury");
    }

    /// @dev The same job met by honest workers who decline it: the client earns nothing and the workers pay only
    /// the decline fee (zero on a 1-wei reward).
    function test_attack_OneWeiSixteenAttempts_DeclinesCostTheClientNothing() public {
        uint256 clientStart = token.balanceOf(client);
        uint256 id = postWith(1, CAPS, uint32(block.timestamp + 30 days), 16);
        for (uint256 i; i < 16; ++i) {
            address w = i % 2 == 0 ? worker : worker2;
            assignTo(id, w);
            vm.prank(w);
            jm.declineJob(id, UNREACHABLE);
        }
        assertStatus(id, IJobManager.JobStatus.Refunded);
        vm.assertEq(token.balanceOf(client), clientStart);
        vm.assertEq(stakeOf(worker), STAKE);
        vm.assertEq(stakeOf(worker2), STAKE);
    }

    /// @dev With a real reward the client's receipts stay within 16 x 5% of the reward on top of its escrow.
    function test_attack_SixteenExpiries_ClientGainBounded() public {
        uint96 reward = 100e18;
        uint256 clientStart = token.balanceOf(client);
        uint256 id = postWith(reward, CAPS, uint32(block.timestamp + 30 days), 16);
        for (uint256 i; i < 16; ++i) {
            assignTo(id, i % 2 == 0 ? worker : worker2);
            expireAfterDue(id);
        }
        uint256 gain = token.balanceOf(client) - clientStart;
        vm.assertEq(gain, 16 * (uint256(reward) * COMPENSATION_BPS / BPS));
        vm.assertLe(gain, 16 * uint256(reward) * ProtocolBounds.MAX_COMPENSATION_BPS / BPS);
    }

    // ============================================================ fuzz: bounded receipts

    /// @dev Whatever happens to a job (expiries, declines, disputes won, lost or left to lapse, acceptance), under
    /// any governed parameters, the client ends with at most its escrow back plus attempts x reward x
    /// compensationBps / 10_000.
    function testFuzz_ClientReceiptsBounded(
        uint96 reward,
        uint8 attempts,
        uint256 compBps,
        uint256 multipleBps,
        uint256 shareBps,
        uint256 outcomes
    ) public {
        reward = uint96(bound(reward, 1, 100_000e18));
        attempts = uint8(bound(attempts, 1, 16));
        compBps = bound(compBps, 0, 1000);
        vm.startPrank(address(timelock));
        jm.setCompensation(compBps);
        jm.setSlashRewardMultiple(bound(multipleBps, 1000, 50_000));
        jm.setSlashShare(bound(shareBps, 100, 5000));
        vm.stopPrank();
        uint256 clientStart = token.balanceOf(client);
        uint256 id = postWith(reward, CAPS, uint32(block.timestamp + 60 days), attempts);
        uint256 used;
        while (status(id) == IJobManager.JobStatus.Open) {
            address w = used % 2 == 0 ? worker : worker2;
            _keepAssignable(w);
            assignTo(id, w);
            used++;
            uint256 outcome = outcomes % 6;
            outcomes /= 6;
            if (outcome == 0) {
                expireAfterDue(id);
            } else if (outcome == 1) {
                vm.prank(w);
                jm.declineJob(id, uint8(1 + used % 4));
            } else {
                submit(id, w);
                if (outcome == 5) {
                    vm.prank(client);
                    jm.acceptResult(id);
                } else {
                    approveBond(id);
                    vm.prank(client);
                    jm.disputeResult(id);
                    if (outcome == 4) {
                        vm.warp(uint256(jm.jobOf(id).due) + 1);
                        jm.expire(id);
                    } else {
                        vm.prank(arbiter);
                        jm.resolveDispute(id, outcome == 2);
                    }
                }
            }
        }
        vm.assertLe(used, attempts);
        uint256 clientEnd = token.balanceOf(client);
        uint256 bound_ = used * (uint256(reward) * compBps / BPS);
        if (clientEnd > clientStart) vm.assertLe(clientEnd - clientStart, bound_, "client gain beyond the bound");
        vm.assertEq(jm.disputeBondOf(id), 0, "no bond left behind");
        vm.assertEq(token.balanceOf(address(jm)), jm.parameters().accruedFees, "only fees stay");
    }

    function _keepAssignable(address w) internal {
        if (registry.workerOf(w).jailed) {
            vm.prank(arbiter);
            registry.unjail(w);
        }
        if (stakeOf(w) < MIN_STAKE) {
            vm.startPrank(w);
            token.approve(address(registry), STAKE);
            registry.stake(STAKE);
            vm.stopPrank();
        }
    }

    // ============================================================ fault slash

    function test_expire_SlashCappedAtRewardMultiple() public {
        uint96 reward = 10e18; // share 100 tokens > cap 20 tokens
        uint256 id = postWith(reward, CAPS, defaultDeadline(), 1);
        assignTo(id, worker);
        uint256 clientBefore = token.balanceOf(client);
        vm.warp(uint256(jm.jobOf(id).due) + 1);
        vm.expectEmit(address(jm));
        emit IJobManager.SlashDistributed(id, worker, client, 20e18, 0.5e18, 19.5e18);
        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentExpired(id, worker, 20e18, false);
        jm.expire(id);
        vm.assertEq(stakeOf(worker), STAKE - 20e18);
        vm.assertEq(token.balanceOf(client) - clientBefore, reward + 0.5e18);
        vm.assertEq(uint256(jm.parameters().accruedFees), 19.5e18);
        vm.assertEq(token.balanceOf(address(jm)), 19.5e18);
    }

    function test_expire_ZeroCompensation_AllToTreasury() public {
        vm.prank(address(timelock));
        jm.setCompensation(0);
        uint256 id = postWith(REWARD, CAPS, defaultDeadline(), 1);
        assignTo(id, worker);
        uint256 clientBefore = token.balanceOf(client);
        expireAfterDue(id);
        vm.assertEq(token.balanceOf(client) - clientBefore, REWARD, "refund only");
        vm.assertEq(uint256(jm.parameters().accruedFees), slashOf(STAKE));
    }

    // ============================================================ min submit window

    function test_expire_TooCloseToDeadline_RefundsInsteadOfReopening() public {
        uint32 deadline = uint32(block.timestamp + 1 hours + 5 minutes);
        uint256 id = postWith(REWARD, CAPS, deadline, 3);
        assignTo(id, worker); // due in 1 hour: 5 minutes before the deadline
        vm.warp(uint256(jm.jobOf(id).due) + 1);
        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentExpired(id, worker, slashOf(STAKE), false);
        jm.expire(id);
        assertStatus(id, IJobManager.JobStatus.Refunded);
        vm.assertEq(uint256(jm.jobOf(id).attemptsLeft), 2);
    }

    function test_expire_ReopensWhenWindowFitsExactly() public {
        uint32 deadline = uint32(block.timestamp + 1 hours + 1 + MIN_WINDOW);
        uint256 id = postWith(REWARD, CAPS, deadline, 2);
        assignTo(id, worker);
        vm.warp(uint256(jm.jobOf(id).due) + 1); // deadline - now == MIN_WINDOW
        jm.expire(id);
        assertStatus(id, IJobManager.JobStatus.Open);
        assignTo(id, worker2);
        assertStatus(id, IJobManager.JobStatus.Assigned);
    }

    function test_setMinSubmitWindow_AppliesToAssignments() public {
        vm.prank(address(timelock));
        jm.setMinSubmitWindow(2 hours);
        uint256 id = postWith(REWARD, CAPS, uint32(block.timestamp + 1 hours), 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IJobManager.DeadlineTooSoon.selector, id, block.timestamp + 1 hours, block.timestamp + 2 hours
            )
        );
        vm.prank(coordinator);
        jm.assign(id, worker);
    }

    // ============================================================ decline

    function test_declineJob_ReopensAndChargesFeeToTreasury() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        uint256 clientBefore = token.balanceOf(client);
        uint256 declineFee = REWARD * DECLINE_BPS / BPS;
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerSlashed(worker, id, address(jm), declineFee, declineFee, 0);
        vm.expectEmit(address(jm));
        emit IJobManager.JobDeclined(id, worker, UNREACHABLE, declineFee, true);
        vm.prank(worker);
        jm.declineJob(id, UNREACHABLE);
        assertJob(id, client, REWARD, address(0), jm.jobOf(id).deadline, 0, IJobManager.JobStatus.Open, 2, CAPS);
        vm.assertEq(stakeOf(worker), STAKE - declineFee, "fee from the stake");
        vm.assertEq(token.balanceOf(client), clientBefore, "never to the client");
        vm.assertEq(uint256(jm.parameters().accruedFees), declineFee, "to the treasury");
        vm.assertEq(token.balanceOf(address(jm)), REWARD + declineFee);
        vm.assertFalse(registry.workerOf(worker).jailed, "not jailed");
        assignTo(id, worker2);
        vm.assertEq(uint256(jm.jobOf(id).attemptsLeft), 1, "the declined attempt stays used");
    }

    function test_declineJob_LastAttempt_Refunds() public {
        uint256 id = postWith(REWARD, CAPS, defaultDeadline(), 1);
        assignTo(id, worker);
        uint256 clientBefore = token.balanceOf(client);
        vm.expectEmit(address(jm));
        emit IJobManager.JobDeclined(id, worker, LIMITS, REWARD * DECLINE_BPS / BPS, false);
        vm.expectEmit(address(jm));
        emit IJobManager.JobRefunded(id, client, REWARD);
        vm.prank(worker);
        jm.declineJob(id, LIMITS);
        assertStatus(id, IJobManager.JobStatus.Refunded);
        vm.assertEq(token.balanceOf(client) - clientBefore, REWARD, "the refund only");
    }

    function test_declineJob_TooCloseToDeadline_Refunds() public {
        uint32 deadline = uint32(block.timestamp + 30 minutes);
        uint256 id = postWith(REWARD, CAPS, deadline, 3);
        assignTo(id, worker);
        vm.warp(uint256(deadline) - MIN_WINDOW + 1);
        vm.prank(worker);
        jm.declineJob(id, 4);
        assertStatus(id, IJobManager.JobStatus.Refunded);
    }

    function test_declineJob_AllowedAtDue() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        vm.warp(jm.jobOf(id).due);
        vm.prank(worker);
        jm.declineJob(id, 2);
        assertStatus(id, IJobManager.JobStatus.Open);
    }

    function test_declineJob_FeeCappedAtSlashableStake() public {
        uint96 reward = 500_000e18; // 1% is 5,000 tokens, above the worker's 1,000
        uint256 id = postWith(reward, CAPS, defaultDeadline(), 2);
        assignTo(id, worker);
        vm.expectEmit(address(jm));
        emit IJobManager.JobDeclined(id, worker, 1, STAKE, true);
        vm.prank(worker);
        jm.declineJob(id, 1);
        vm.assertEq(registry.slashableOf(worker), 0);
        vm.assertEq(uint256(jm.parameters().accruedFees), STAKE);
    }

    function test_declineJob_RevertWhen_ReasonInvalid() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.InvalidDeclineReason.selector, 0));
        vm.prank(worker);
        jm.declineJob(id, 0);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.InvalidDeclineReason.selector, 5));
        vm.prank(worker);
        jm.declineJob(id, 5);
    }

    function test_declineJob_RevertWhen_NotAssignedWorker() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.NotAssignedWorker.selector, id, worker2));
        vm.prank(worker2);
        jm.declineJob(id, 1);
    }

    function test_declineJob_RevertWhen_Overdue() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        uint256 due = jm.jobOf(id).due;
        vm.warp(due + 1);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.SubmissionOverdue.selector, id, due));
        vm.prank(worker);
        jm.declineJob(id, 1);
    }

    function test_declineJob_RevertWhen_NotAssigned() public {
        uint256 id = post(REWARD);
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Assigned, IJobManager.JobStatus.Open));
        vm.prank(worker);
        jm.declineJob(id, 1);
        vm.expectRevert(unknown(9));
        vm.prank(worker);
        jm.declineJob(9, 1);
    }

    function test_declineJob_ZeroFee_TakesNothing() public {
        vm.prank(address(timelock));
        jm.setDeclineFee(0);
        uint256 id = post(REWARD);
        assignTo(id, worker);
        vm.prank(worker);
        jm.declineJob(id, 1);
        vm.assertEq(stakeOf(worker), STAKE);
        vm.assertEq(uint256(jm.parameters().accruedFees), 0);
    }

    // ============================================================ dispute bond

    function test_disputeResult_RevertWhen_BondNotApproved() public {
        uint256 id = submitted();
        vm.expectRevert();
        vm.prank(client);
        jm.disputeResult(id);
        assertStatus(id, IJobManager.JobStatus.Submitted);
    }

    function test_disputeResult_ZeroBond_NoTransferNoRelease() public {
        vm.prank(address(timelock));
        jm.setDisputeBond(0);
        uint256 id = submitted();
        uint256 before = token.balanceOf(client);
        vm.expectEmit(address(jm));
        emit IJobManager.JobDisputed(id, client, block.timestamp + PERIOD, 0);
        vm.prank(client);
        jm.disputeResult(id);
        vm.assertEq(token.balanceOf(client), before);
        vm.recordLogs();
        vm.prank(arbiter);
        jm.resolveDispute(id, false);
        vm.assertEq(jm.disputeBondOf(id), 0);
    }

    function test_disputeBond_UsesBondAtDisputeTime() public {
        uint256 id = disputed();
        vm.prank(address(timelock));
        jm.setDisputeBond(5000);
        uint256 before = token.balanceOf(worker);
        vm.prank(arbiter);
        jm.resolveDispute(id, false);
        vm.assertEq(token.balanceOf(worker) - before, REWARD - fee(REWARD) + bondOf(REWARD));
    }

    // ============================================================ registry slash

    function test_arbiterCannotSlashThroughRegistry() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotJobManager.selector, arbiter));
        vm.prank(arbiter);
        registry.slash(worker, 1, address(jm), 0);
    }

    // ============================================================ checked casts

    function test_submitResult_RevertWhen_WindowEndOverflowsUint32() public {
        uint32 deadline = type(uint32).max;
        vm.warp(uint256(deadline) - 2 hours);
        // Stakes unbond long after: keep the worker eligible.
        uint256 id = postWith(REWARD, CAPS, deadline, 1);
        vm.warp(uint256(deadline) - 30 minutes);
        assignTo(id, worker);
        vm.assertEq(uint256(jm.jobOf(id).due), uint256(deadline));
        vm.expectRevert(
            abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 32, block.timestamp + WINDOW)
        );
        vm.prank(worker);
        jm.submitResult(id, 1, COMMITMENT, 1, "x");
    }

    function test_disputeResult_RevertWhen_ResolveByOverflowsUint32() public {
        uint32 deadline = type(uint32).max;
        vm.warp(uint256(deadline) - 3 days);
        uint256 id = postWith(REWARD, CAPS, deadline, 1);
        vm.warp(uint256(deadline) - 2 hours);
        assignTo(id, worker);
        submit(id, worker);
        vm.warp(uint256(jm.jobOf(id).due) - 1);
        approveBond(id);
        vm.expectRevert(
            abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 32, block.timestamp + PERIOD)
        );
        vm.prank(client);
        jm.disputeResult(id);
    }

    // ============================================================ governed parameters

    function test_setters_ByTimelock_WithinBounds() public {
        vm.startPrank(address(timelock));
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated("slashRewardMultipleBps", 20_000, 50_000);
        jm.setSlashRewardMultiple(50_000);
        jm.setSlashRewardMultiple(1000);
        jm.setCompensation(1000);
        jm.setCompensation(0);
        jm.setDeclineFee(1000);
        jm.setDeclineFee(0);
        jm.setDisputeBond(10_000);
        jm.setDisputeBond(0);
        jm.setMinSubmitWindow(1 days);
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated("minSubmitWindow", 1 days, 1 minutes);
        jm.setMinSubmitWindow(1 minutes);
        vm.stopPrank();
        JobManager.Penalties memory p = jm.penalties();
        vm.assertEq(uint256(p.slashRewardMultipleBps), 1000);
        vm.assertEq(uint256(p.compensationBps), 0);
        vm.assertEq(uint256(p.declineFeeBps), 0);
        vm.assertEq(uint256(p.disputeBondBps), 0);
        vm.assertEq(uint256(jm.parameters().minSubmitWindow), 1 minutes);
    }

    function test_setters_RevertWhen_OutOfBounds() public {
        vm.startPrank(address(timelock));
        vm.expectRevert(outOfBounds("slashRewardMultipleBps", 999, 1000, 50_000));
        jm.setSlashRewardMultiple(999);
        vm.expectRevert(outOfBounds("slashRewardMultipleBps", 50_001, 1000, 50_000));
        jm.setSlashRewardMultiple(50_001);
        vm.expectRevert(outOfBounds("compensationBps", 1001, 0, 1000));
        jm.setCompensation(1001);
        vm.expectRevert(outOfBounds("declineFeeBps", 1001, 0, 1000));
        jm.setDeclineFee(1001);
        vm.expectRevert(outOfBounds("disputeBondBps", 10_001, 0, 10_000));
        jm.setDisputeBond(10_001);
        vm.expectRevert(outOfBounds("minSubmitWindow", 59, 60, 1 days));
        jm.setMinSubmitWindow(59);
        vm.expectRevert(outOfBounds("minSubmitWindow", 1 days + 1, 60, 1 days));
        jm.setMinSubmitWindow(1 days + 1);
        vm.stopPrank();
    }

    function test_setters_RevertWhen_CallerIsStranger() public {
        vm.startPrank(stranger);
        vm.expectRevert(unauthorized(stranger, ADMIN_ROLE));
        jm.setSlashRewardMultiple(10_000);
        vm.expectRevert(unauthorized(stranger, ADMIN_ROLE));
        jm.setCompensation(0);
        vm.expectRevert(unauthorized(stranger, ADMIN_ROLE));
        jm.setDeclineFee(0);
        vm.expectRevert(unauthorized(stranger, ADMIN_ROLE));
        jm.setDisputeBond(0);
        vm.expectRevert(unauthorized(stranger, ADMIN_ROLE));
        jm.setMinSubmitWindow(1 hours);
        vm.stopPrank();
    }

    // ============================================================ governance minimums

    address internal voter = makeAddr("voter");

    function _runProposal(address target, bytes memory data, string memory desc, bytes memory expectedRevert) internal {
        fund(voter, 100_000_000e18);
        vm.prank(voter);
        token.delegate(voter);
        vm.roll(block.number + 1);
        address[] memory t = new address[](1);
        uint256[] memory v = new uint256[](1);
        bytes[] memory c = new bytes[](1);
        t[0] = target;
        c[0] = data;
        vm.prank(voter);
        uint256 id = governor.propose(t, v, c, desc);
        vm.roll(block.number + governor.votingDelay() + 1);
        vm.prank(voter);
        governor.castVote(id, 1);
        vm.roll(block.number + governor.votingPeriod());
        governor.queue(t, v, c, keccak256(bytes(desc)));
        vm.warp(block.timestamp + timelock.getMinDelay());
        if (expectedRevert.length != 0) vm.expectRevert(expectedRevert);
        governor.execute(t, v, c, keccak256(bytes(desc)));
        if (expectedRevert.length == 0) {
            vm.assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Executed));
        }
    }

    function _belowMin(bytes32 setting, uint256 value, uint256 min) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(AccordGovernor.GovernanceSettingBelowMinimum.selector, setting, value, min);
    }

    function test_governor_ConstructedWithShortDevnetSettings() public view {
        vm.assertEq(governor.votingDelay(), 1);
        vm.assertEq(governor.votingPeriod(), 20);
        vm.assertEq(timelock.getMinDelay(), 60);
    }

    function test_governor_RevertWhen_VotingDelayBelowMinimum() public {
        _runProposal(
            address(governor),
            abi.encodeCall(governor.setVotingDelay, (1)),
            "delay 1",
            _belowMin("votingDelay", 1, governor.MIN_VOTING_DELAY())
        );
        vm.assertEq(governor.votingDelay(), 1);
    }

    function test_governor_VotingDelayAtMinimum() public {
        _runProposal(address(governor), abi.encodeCall(governor.setVotingDelay, (7200)), "delay 1 day", "");
        vm.assertEq(governor.votingDelay(), 7200);
    }

    function test_governor_RevertWhen_VotingPeriodBelowMinimum() public {
        _runProposal(
            address(governor),
            abi.encodeCall(governor.setVotingPeriod, (21_599)),
            "period",
            _belowMin("votingPeriod", 21_599, governor.MIN_VOTING_PERIOD())
        );
        vm.assertEq(governor.votingPeriod(), 20);
    }

    function test_governor_VotingPeriodAtMinimum() public {
        _runProposal(address(governor), abi.encodeCall(governor.setVotingPeriod, (21_600)), "period 3 days", "");
        vm.assertEq(governor.votingPeriod(), 21_600);
    }

    function test_governor_RevertWhen_QuorumBelowMinimum() public {
        _runProposal(
            address(governor),
            abi.encodeCall(governor.updateQuorumNumerator, (0)),
            "no quorum",
            _belowMin("quorumNumerator", 0, governor.MIN_QUORUM_PERCENT())
        );
        vm.assertEq(governor.quorumNumerator(), 4);
    }

    function test_governor_QuorumAtMinimum() public {
        _runProposal(address(governor), abi.encodeCall(governor.updateQuorumNumerator, (1)), "quorum 1%", "");
        vm.assertEq(governor.quorumNumerator(), 1);
    }

    function test_timelock_RevertWhen_DelayBelowMinimum() public {
        AccordTimelock tl = AccordTimelock(payable(address(timelock)));
        vm.expectRevert(abi.encodeWithSelector(AccordTimelock.TimelockDelayBelowMinimum.selector, 1 hours, 1 days));
        vm.prank(address(timelock));
        tl.updateDelay(1 hours);
        vm.assertEq(timelock.getMinDelay(), 60);
    }

    function test_timelock_DelayThroughGovernance() public {
        _runProposal(
            address(timelock),
            abi.encodeCall(timelock.updateDelay, (1 hours)),
            "timelock 1h",
            abi.encodeWithSelector(AccordTimelock.TimelockDelayBelowMinimum.selector, 1 hours, 1 days)
        );
        vm.assertEq(timelock.getMinDelay(), 60);
        _runProposal(address(timelock), abi.encodeCall(timelock.updateDelay, (1 days)), "timelock 1 day", "");
        vm.assertEq(timelock.getMinDelay(), 1 days);
    }

    function test_timelock_RevertWhen_CallerNotTimelock() public {
        vm.expectRevert(abi.encodeWithSignature("TimelockUnauthorizedCaller(address)", stranger));
        vm.prank(stranger);
        timelock.updateDelay(2 days);
    }
}
