// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../src/interfaces/IJobManager.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @notice Fuzz tests over amounts, deadlines and fee and slash arithmetic: no rounding creates or loses tokens.
contract FuzzTest is Fixture {
    function _runToSubmitted(uint96 reward) internal returns (uint256 id) {
        registerAndStake(worker, STAKE);
        fund(client, reward);
        id = post(reward);
        assignTo(id, worker);
        submit(id, worker);
    }

    function testFuzz_Payment_SplitsRewardExactly(uint96 reward, uint256 feeBps) public {
        reward = uint96(bound(reward, 1, 100_000_000e18));
        feeBps = bound(feeBps, 0, 2000);
        vm.prank(address(timelock));
        jm.setProtocolFee(feeBps);
        uint256 id = _runToSubmitted(reward);
        uint256 before = token.balanceOf(worker);
        vm.prank(client);
        jm.acceptResult(id);
        uint256 net = token.balanceOf(worker) - before;
        uint256 fee = jm.parameters().accruedFees;
        vm.assertEq(net + fee, reward, "worker + fee == reward");
        vm.assertEq(fee, uint256(reward) * feeBps / 10_000, "fee rounds down");
        vm.assertEq(token.balanceOf(address(jm)), fee, "only the fee stays");
        if (fee == 0) vm.expectRevert(IJobManager.NoFees.selector);
        jm.sweepFees();
        vm.assertEq(token.balanceOf(address(jm)), 0);
        vm.assertEq(token.balanceOf(address(timelock)), fee);
    }

    function testFuzz_Slash_TakesShareFromStakeThenPending(uint96 staked, uint96 unstaked, uint256 shareBps) public {
        staked = uint96(bound(staked, 100e18, 50_000e18));
        unstaked = uint96(bound(unstaked, 0, staked - 100e18));
        shareBps = bound(shareBps, 100, 5000);
        vm.prank(address(timelock));
        jm.setSlashShare(shareBps);
        registerAndStake(worker, staked);
        uint256 id = post(REWARD);
        assignTo(id, worker);
        if (unstaked > 0) {
            vm.prank(worker);
            registry.requestUnstake(unstaked);
        }
        uint256 clientBefore = token.balanceOf(client);
        vm.warp(jm.jobOf(id).due + 1);
        jm.expire(id);
        uint256 expected = uint256(staked) * shareBps / 10_000;
        uint256 cap = uint256(REWARD) * 20_000 / 10_000;
        if (expected > cap) expected = cap;
        uint256 comp = uint256(REWARD) * 500 / 10_000;
        if (comp > expected) comp = expected;
        vm.assertEq(registry.slashableOf(worker), staked - expected, "slashable after");
        vm.assertEq(token.balanceOf(client) - clientBefore, comp, "client compensated within the bound");
        vm.assertEq(uint256(jm.parameters().accruedFees), expected - comp, "the rest to the treasury");
        vm.assertEq(token.balanceOf(address(registry)), staked - expected, "registry holds the rest");
        uint256 active = staked - unstaked;
        uint256 fromStake = expected < active ? expected : active;
        vm.assertEq(registry.workerOf(worker).stake, active - fromStake, "active stake first");
        vm.assertEq(registry.workerOf(worker).pending, unstaked - (expected - fromStake), "then pending");
    }

    function testFuzz_RegistrySlash_NeverExceedsStake(uint96 staked, uint256 amount) public {
        staked = uint96(bound(staked, 1, 50_000e18));
        amount = bound(amount, 0, type(uint128).max);
        vm.startPrank(worker);
        registry.register(CAPS, "");
        token.approve(address(registry), staked);
        registry.stake(staked);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSignature("NotJobManager(address)", arbiter));
        vm.prank(arbiter);
        registry.slash(worker, amount, address(jm), 0);
        vm.prank(address(jm));
        uint256 slashed = registry.slash(worker, amount, address(jm), 0);
        vm.assertLe(slashed, staked);
        vm.assertEq(slashed, amount < staked ? amount : staked);
        vm.assertEq(registry.slashableOf(worker) + slashed, staked);
        vm.assertEq(token.balanceOf(address(registry)), staked - slashed);
        vm.assertEq(token.balanceOf(address(jm)), slashed);
    }

    function testFuzz_Assignment_DueIsCappedByDeadline(uint256 life, uint256 timeout, uint256 submitAfter) public {
        life = bound(life, 10 minutes, 30 days);
        timeout = bound(timeout, 1 minutes, 3 days);
        vm.prank(address(timelock));
        jm.setAssignmentTimeout(timeout);
        registerAndStake(worker, STAKE);
        uint32 deadline = uint32(block.timestamp + life);
        uint256 id = postWith(REWARD, CAPS, deadline, 2);
        assignTo(id, worker);
        uint256 due = jm.jobOf(id).due;
        vm.assertEq(due, block.timestamp + timeout < deadline ? block.timestamp + timeout : deadline);
        submitAfter = bound(submitAfter, 0, 2 * life);
        vm.warp(block.timestamp + submitAfter);
        if (block.timestamp <= due) {
            vm.expectRevert(
                abi.encodeWithSelector(IJobManager.NotExpired.selector, id, IJobManager.JobStatus.Assigned, due + 1)
            );
            jm.expire(id);
            submit(id, worker);
            vm.assertEq(uint256(status(id)), uint256(IJobManager.JobStatus.Submitted));
        } else {
            vm.expectRevert(abi.encodeWithSelector(IJobManager.SubmissionOverdue.selector, id, due));
            vm.prank(worker);
            jm.submitResult(id, 1, COMMITMENT, 1, "x");
            jm.expire(id);
            bool reopened = block.timestamp + 10 minutes <= deadline;
            vm.assertEq(
                uint256(status(id)), uint256(reopened ? IJobManager.JobStatus.Open : IJobManager.JobStatus.Refunded)
            );
        }
    }

    function testFuzz_StakeUnstakeWithdraw_ConservesTokens(uint96 a, uint96 b, uint256 wait) public {
        a = uint96(bound(a, 1, 100_000e18));
        b = uint96(bound(b, 1, a));
        wait = bound(wait, 0, 20 days);
        uint256 before = token.balanceOf(worker);
        registerAndStake(worker, a);
        vm.prank(worker);
        registry.requestUnstake(b);
        uint256 unlockAt = registry.workerOf(worker).unlockAt;
        vm.assertEq(unlockAt, block.timestamp + registry.unbondingPeriod());
        vm.warp(block.timestamp + wait);
        vm.prank(worker);
        if (block.timestamp < unlockAt) {
            vm.expectRevert(abi.encodeWithSignature("StillUnbonding(address,uint256)", worker, unlockAt));
            registry.withdraw();
            vm.assertEq(token.balanceOf(worker), before - a);
        } else {
            registry.withdraw();
            vm.assertEq(token.balanceOf(worker), before - a + b);
        }
        vm.assertEq(token.balanceOf(address(registry)), registry.slashableOf(worker));
    }

    function testFuzz_Post_RejectsBadInputAndChangesNothing(uint96 reward, uint256 offset, uint8 attempts) public {
        uint256 countBefore = jm.jobCount();
        uint256 balanceBefore = token.balanceOf(client);
        offset = bound(offset, 0, 365 days);
        bool ok = reward > 0 && offset > 0 && attempts >= 1 && attempts <= 16 && reward <= balanceBefore;
        vm.startPrank(client);
        token.approve(address(jm), reward);
        if (!ok) vm.expectRevert();
        jm.postJob(SPEC, "", CAPS, reward, uint32(block.timestamp + offset), attempts);
        vm.stopPrank();
        vm.assertEq(jm.jobCount(), ok ? countBefore + 1 : countBefore);
        vm.assertEq(token.balanceOf(client), ok ? balanceBefore - reward : balanceBefore);
    }
}
