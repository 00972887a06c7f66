// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../src/interfaces/IJobManager.sol";
import {ReplicaViews} from "./utils/ReplicaViews.sol";
import {IWorkerRegistry} from "../src/interfaces/IWorkerRegistry.sol";
import {JobManager} from "../src/JobManager.sol";
import {ProtocolBounds} from "../src/ProtocolBounds.sol";
import {JobManagerBase} from "./JobManager.t.sol";
import {Vm} from "./utils/Vm.sol";

/// @notice Redundant jobs: n replicas commit, then reveal; k agreeing reveals are the result and share the reward;
/// dissenting and silent replicas are slashed; no consensus refunds the client.
contract RedundancyTest is JobManagerBase {
    address internal worker3 = makeAddr("worker3");
    address internal worker4 = makeAddr("worker4");

    bytes32 internal constant RIGHT = keccak256("right result");
    bytes32 internal constant WRONG = keccak256("wrong result");
    uint256 internal constant REVEAL = 10 minutes;
    uint8 internal constant KIND = 1;

    function setUp() public override {
        super.setUp();
        fund(worker3, 100_000e18);
        fund(worker4, 100_000e18);
        registerAndStake(worker3, STAKE);
        registerAndStake(worker4, STAKE);
    }

    // ---------------------------------------------------------------- helpers

    function postRedundant(uint96 reward, uint8 n, uint8 k) internal returns (uint256 id) {
        vm.startPrank(client);
        token.approve(address(jm), reward);
        id = jm.postRedundantJob(SPEC, SPEC_URI, CAPS, reward, defaultDeadline(), n, k);
        vm.stopPrank();
    }

    function salt(address w) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", w));
    }

    function commit(uint256 id, address w, bytes32 result) internal {
        bytes32 seal = jm.sealResult(id, result, salt(w), w);
        vm.prank(w);
        jm.commitResult(id, seal);
    }

    function reveal(uint256 id, address w, bytes32 result) internal {
        vm.prank(w);
        jm.revealResult(id, KIND, result, 4096, salt(w), LOCATOR);
    }

    /// @dev A 2-of-3 job assigned to worker, worker2, worker3.
    function gathered(uint96 reward) internal returns (uint256 id) {
        id = postRedundant(reward, 3, 0);
        assignTo(id, worker);
        assignTo(id, worker2);
        assignTo(id, worker3);
    }

    /// @dev worker and worker2 agree on RIGHT, worker3 reveals WRONG.
    function agreedWithDissent(uint96 reward) internal returns (uint256 id) {
        id = gathered(reward);
        commit(id, worker, RIGHT);
        commit(id, worker2, RIGHT);
        commit(id, worker3, WRONG);
        reveal(id, worker, RIGHT);
        reveal(id, worker2, RIGHT);
        reveal(id, worker3, WRONG);
    }

    function redundancyOf(uint256 id) internal view returns (IJobManager.Redundancy memory r) {
        (r,,) = ReplicaViews.all(jm, id);
    }

    /// @dev Events of the job manager only (the test's own expected events are recorded too).
    function countEvents(Vm.Log[] memory logs, bytes32 topic) internal view returns (uint256 n) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(jm) && logs[i].topics.length != 0 && logs[i].topics[0] == topic) ++n;
        }
    }

    // ============================================================ posting

    function test_post_EscrowsAndGathers() public {
        uint256 before = token.balanceOf(client);
        vm.startPrank(client);
        token.approve(address(jm), REWARD);
        vm.expectEmit();
        emit IJobManager.JobPosted(1, client, SPEC, CAPS, REWARD, defaultDeadline(), 1, SPEC_URI);
        vm.expectEmit();
        emit IJobManager.RedundancyRequested(1, 3, 2);
        uint256 id = jm.postRedundantJob(SPEC, SPEC_URI, CAPS, REWARD, defaultDeadline(), 3, 0);
        vm.stopPrank();
        assertStatus(id, IJobManager.JobStatus.Gathering);
        vm.assertEq(before - token.balanceOf(client), REWARD, "escrowed");
        IJobManager.Redundancy memory r = redundancyOf(id);
        vm.assertEq(uint256(r.redundancy), 3);
        vm.assertEq(uint256(r.threshold), 2, "default: more than half");
    }

    function test_post_RefusesBadRedundancy() public {
        vm.startPrank(client);
        token.approve(address(jm), REWARD);
        uint32 d = defaultDeadline();
        vm.expectRevert(abi.encodeWithSelector(IJobManager.InvalidRedundancy.selector, 1, 1, 1, 7));
        jm.postRedundantJob(SPEC, SPEC_URI, CAPS, REWARD, d, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.InvalidRedundancy.selector, 8, 5, 5, 7));
        jm.postRedundantJob(SPEC, SPEC_URI, CAPS, REWARD, d, 8, 0);
        // 1 of 3 would let a single replica decide; 4 of 3 can never be reached.
        vm.expectRevert(abi.encodeWithSelector(IJobManager.InvalidRedundancy.selector, 3, 1, 2, 7));
        jm.postRedundantJob(SPEC, SPEC_URI, CAPS, REWARD, d, 3, 1);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.InvalidRedundancy.selector, 3, 4, 2, 7));
        jm.postRedundantJob(SPEC, SPEC_URI, CAPS, REWARD, d, 3, 4);
        vm.stopPrank();
        vm.assertEq(jm.jobCount(), 0, "nothing posted");
        vm.assertEq(token.balanceOf(address(jm)), 0, "nothing escrowed");
    }

    function test_post_ThresholdFollowsGovernedShare() public {
        vm.prank(address(timelock));
        jm.setConsensusShare(10_000);
        uint256 id = postRedundant(REWARD, 3, 0);
        vm.assertEq(uint256(redundancyOf(id).threshold), 3, "unanimity");
        vm.startPrank(client);
        token.approve(address(jm), REWARD);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.InvalidRedundancy.selector, 3, 2, 3, 7));
        jm.postRedundantJob(SPEC, SPEC_URI, CAPS, REWARD, defaultDeadline(), 3, 2);
        vm.stopPrank();
    }

    function test_governance_BoundsOfTheNewParameters() public {
        vm.startPrank(address(timelock));
        vm.expectRevert(outOfBounds("consensusBps", 5000, 5001, 10_000));
        jm.setConsensusShare(5000);
        vm.expectRevert(outOfBounds("revealWindow", 59, 60, 1 days));
        jm.setRevealWindow(59);
        vm.expectRevert(outOfBounds("revealWindow", 1 days + 1, 60, 1 days));
        jm.setRevealWindow(1 days + 1);
        vm.expectEmit();
        emit IJobManager.ParameterUpdated("revealWindow", REVEAL, 2 hours);
        jm.setRevealWindow(2 hours);
        vm.stopPrank();
        vm.assertEq(uint256(jm.penalties().revealWindow), 2 hours);
        vm.expectRevert(unauthorized(address(this), ADMIN_ROLE));
        jm.setRevealWindow(1 hours);
    }

    function test_cancel_OnlyBeforeTheFirstReplica() public {
        uint256 id = postRedundant(REWARD, 3, 0);
        uint256 other = postRedundant(REWARD, 3, 0);
        assignTo(other, worker);
        vm.startPrank(client);
        jm.cancelJob(id);
        vm.expectRevert(statusMismatch(other, IJobManager.JobStatus.Open, IJobManager.JobStatus.Gathering));
        jm.cancelJob(other);
        vm.stopPrank();
        assertStatus(id, IJobManager.JobStatus.Cancelled);
    }

    // ============================================================ assignment

    function test_assign_GathersDistinctReplicas() public {
        uint256 id = postRedundant(REWARD, 3, 0);
        uint256 due = block.timestamp + TIMEOUT;
        vm.expectEmit();
        emit IJobManager.ReplicaAssigned(id, worker, 1, due);
        assignTo(id, worker);
        vm.warp(block.timestamp + 5 minutes);
        assignTo(id, worker2);
        assertStatus(id, IJobManager.JobStatus.Gathering);
        vm.expectEmit();
        emit IJobManager.ReplicaAssigned(id, worker3, 3, due);
        assignTo(id, worker3);
        assertStatus(id, IJobManager.JobStatus.Committing);
        vm.assertEq(uint256(jm.jobOf(id).due), due, "the commit due is set by the first replica");
        vm.assertEq(jm.jobOf(id).worker, address(0), "no single worker");
        (IJobManager.Redundancy memory r,, IJobManager.Replica[] memory reps) = ReplicaViews.all(jm, id);
        vm.assertEq(uint256(r.assigned), 3);
        vm.assertEq(reps[0].worker, worker);
        vm.assertEq(reps[2].worker, worker3);
        vm.assertEq(uint256(reps[1].phase), uint256(IJobManager.ReplicaPhase.Assigned));
        // A fourth replica is refused: the job is no longer gathering.
        vm.prank(coordinator);
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Open, IJobManager.JobStatus.Committing));
        jm.assign(id, worker4);
    }

    /// @dev The attack: the coordinator (or a batch) puts one worker on two replicas, or the client on one, so a
    /// single party decides the consensus. Both are refused, in a batch as a skip with its reason.
    function test_attack_SameWorkerTwiceOrTheClient_Refused() public {
        registerAndStake(client, STAKE);
        uint256 id = postRedundant(REWARD, 3, 0);
        assignTo(id, worker);
        vm.prank(coordinator);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.ReplicaNotIndependent.selector, id, worker));
        jm.assign(id, worker);
        vm.prank(coordinator);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.ReplicaNotIndependent.selector, id, client));
        jm.assign(id, client);

        uint256[] memory ids = new uint256[](3);
        address[] memory ws = new address[](3);
        (ids[0], ids[1], ids[2]) = (id, id, id);
        (ws[0], ws[1], ws[2]) = (worker2, worker2, worker3);
        vm.expectEmit();
        emit IJobManager.AssignmentSkipped(
            id, worker2, abi.encodeWithSelector(IJobManager.ReplicaNotIndependent.selector, id, worker2)
        );
        vm.prank(coordinator);
        vm.assertEq(jm.assignBatch(ids, ws), 2, "two of three entries assigned");
        assertStatus(id, IJobManager.JobStatus.Committing);
        vm.assertEq(uint256(redundancyOf(id).assigned), 3);
    }

    function test_assign_LateReplicaNeedsTheMinimumWindow() public {
        uint256 id = postRedundant(REWARD, 3, 0);
        assignTo(id, worker);
        uint256 due = jm.jobOf(id).due;
        vm.warp(due - MIN_WINDOW + 1);
        vm.prank(coordinator);
        vm.expectRevert(
            abi.encodeWithSelector(IJobManager.DeadlineTooSoon.selector, id, due, block.timestamp + MIN_WINDOW)
        );
        jm.assign(id, worker2);
    }

    // ============================================================ commit and reveal

    function test_commit_RefusedToStrangersTwiceAndLate() public {
        uint256 id = gathered(REWARD);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IJobManager.NotReplica.selector, id, stranger, IJobManager.ReplicaPhase.Assigned)
        );
        jm.commitResult(id, bytes32(uint256(1)));
        commit(id, worker, RIGHT);
        vm.prank(worker);
        vm.expectRevert(
            abi.encodeWithSelector(IJobManager.NotReplica.selector, id, worker, IJobManager.ReplicaPhase.Assigned)
        );
        jm.commitResult(id, bytes32(uint256(2)));
        uint256 due = jm.jobOf(id).due;
        vm.warp(due + 1);
        vm.prank(worker2);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.CommitOverdue.selector, id, due));
        jm.commitResult(id, bytes32(uint256(3)));
    }

    function test_commit_WhileGatheringThenRevealOpensOnTheLast() public {
        uint256 id = postRedundant(REWARD, 2, 0);
        assignTo(id, worker);
        commit(id, worker, RIGHT);
        assertStatus(id, IJobManager.JobStatus.Gathering);
        assignTo(id, worker2);
        vm.expectEmit();
        emit IJobManager.RevealOpened(id, 2, block.timestamp + REVEAL);
        commit(id, worker2, RIGHT);
        assertStatus(id, IJobManager.JobStatus.Revealing);
    }

    /// @dev The attack: reveal before the commit phase closes, so a slow replica can copy the result.
    function test_attack_RevealBeforeCommitsClose_Refused() public {
        uint256 id = gathered(REWARD);
        commit(id, worker, RIGHT);
        commit(id, worker2, RIGHT);
        vm.prank(worker);
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Revealing, IJobManager.JobStatus.Committing));
        jm.revealResult(id, KIND, RIGHT, 4096, salt(worker), LOCATOR);
    }

    /// @dev The attack: a lazy replica copies an honest replica's sealed result instead of running the job. The
    /// seal binds the worker, so it cannot open the copy: it is slashed for not revealing and paid nothing.
    function test_attack_CopiedSealCannotBeRevealed() public {
        uint256 id = gathered(REWARD);
        commit(id, worker, RIGHT);
        commit(id, worker2, RIGHT);
        bytes32 copied = jm.sealResult(id, RIGHT, salt(worker), worker);
        vm.prank(worker3);
        jm.commitResult(id, copied);
        reveal(id, worker, RIGHT);
        reveal(id, worker2, RIGHT);
        // The copier knows the honest commitment and salt by now, and still cannot open the seal as itself.
        vm.prank(worker3);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.RevealMismatch.selector, id, worker3));
        jm.revealResult(id, KIND, RIGHT, 4096, salt(worker), LOCATOR);
        uint256 stake3 = stakeOf(worker3);
        vm.warp(uint256(jm.jobOf(id).due) + 1);
        vm.expectEmit();
        emit IJobManager.ReplicaFaulted(id, worker3, jm.FAULT_NO_REVEAL(), faultSlash(stake3, REWARD));
        jm.expire(id);
        assertStatus(id, IJobManager.JobStatus.Submitted);
        vm.assertEq(uint256(redundancyOf(id).agreeing), 2);
        vm.warp(uint256(jm.jobOf(id).due));
        uint256 before3 = token.balanceOf(worker3);
        jm.finalize(id);
        vm.assertEq(token.balanceOf(worker3), before3, "the copier is paid nothing");
    }

    function test_reveal_WrongSaltRefused() public {
        uint256 id = gathered(REWARD);
        commit(id, worker, RIGHT);
        commit(id, worker2, RIGHT);
        commit(id, worker3, RIGHT);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.RevealMismatch.selector, id, worker));
        jm.revealResult(id, KIND, RIGHT, 4096, bytes32(0), LOCATOR);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.RevealMismatch.selector, id, worker));
        jm.revealResult(id, KIND, WRONG, 4096, salt(worker), LOCATOR);
    }

    // ============================================================ consensus

    function test_consensus_TwoOfThreePaidDissenterSlashed() public {
        uint96 reward = 1000e18 + 1; // does not divide evenly: the remainder accrues with the fee
        uint256 id = gathered(reward);
        commit(id, worker, RIGHT);
        commit(id, worker2, RIGHT);
        commit(id, worker3, WRONG);
        reveal(id, worker, RIGHT);
        reveal(id, worker2, RIGHT);
        uint256 stake3 = stakeOf(worker3);
        vm.recordLogs();
        vm.expectEmit();
        emit IJobManager.ConsensusReached(id, RIGHT, 2, block.timestamp + WINDOW);
        reveal(id, worker3, WRONG);
        vm.assertEq(countEvents(vm.getRecordedLogs(), IJobManager.ReplicaFaulted.selector), 0, "no fault yet");
        assertStatus(id, IJobManager.JobStatus.Submitted);
        vm.assertEq(stakeOf(worker3), stake3, "the dissenter is slashed only once the result stands");
        (, bytes32 consensus,) = ReplicaViews.all(jm, id);
        vm.assertEq(consensus, RIGHT);

        uint256 b1 = token.balanceOf(worker);
        uint256 b2 = token.balanceOf(worker2);
        uint256 b3 = token.balanceOf(worker3);
        uint256 clientBefore = token.balanceOf(client);
        uint256 feesBefore = jm.parameters().accruedFees;
        uint256 slashed = faultSlash(stake3, reward);
        vm.warp(uint256(jm.jobOf(id).due));
        vm.expectEmit();
        emit IJobManager.ReplicaFaulted(id, worker3, jm.FAULT_DISSENT(), slashed);
        jm.finalize(id);
        uint256 share = (reward - fee(reward)) / 2;
        vm.assertEq(token.balanceOf(worker) - b1, share, "agreeing replica paid its share");
        vm.assertEq(token.balanceOf(worker2) - b2, share, "agreeing replica paid its share");
        vm.assertEq(token.balanceOf(worker3), b3, "dissenter paid nothing");
        vm.assertEq(stakeOf(worker3), stake3 - slashed, "dissenter slashed");
        vm.assertEq(token.balanceOf(client), clientBefore, "a dissent compensates nobody");
        vm.assertEq(
            jm.parameters().accruedFees - feesBefore, reward - 2 * share + slashed, "fee, remainder and slash accrue"
        );
        assertStatus(id, IJobManager.JobStatus.Paid);
        vm.assertEq(token.balanceOf(address(jm)), jm.parameters().accruedFees, "nothing else held");
    }

    function test_consensus_AcceptPaysAtOnceAndEventsAddUp() public {
        uint256 id = agreedWithDissent(REWARD);
        vm.recordLogs();
        vm.prank(client);
        jm.acceptResult(id);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 paid;
        uint256 fees;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(jm) || logs[i].topics[0] != IJobManager.JobPaid.selector) continue;
            (uint256 amount, uint256 f) = abi.decode(logs[i].data, (uint256, uint256));
            paid += amount;
            fees += f;
        }
        vm.assertEq(paid + fees, REWARD, "JobPaid events add up to the reward");
        vm.assertEq(countEvents(logs, IJobManager.JobPaid.selector), 2);
    }

    function test_consensus_NoneRefundsWithoutSlashingRevealers() public {
        uint256 id = gathered(REWARD);
        commit(id, worker, RIGHT);
        commit(id, worker2, WRONG);
        commit(id, worker3, keccak256("third"));
        reveal(id, worker, RIGHT);
        reveal(id, worker2, WRONG);
        uint256 before = token.balanceOf(client);
        vm.expectEmit();
        emit IJobManager.ConsensusFailed(id, 1);
        vm.expectEmit();
        emit IJobManager.JobRefunded(id, client, REWARD);
        reveal(id, worker3, keccak256("third"));
        assertStatus(id, IJobManager.JobStatus.Refunded);
        vm.assertEq(token.balanceOf(client) - before, REWARD);
        vm.assertEq(stakeOf(worker) + stakeOf(worker2) + stakeOf(worker3), 3 * STAKE, "nobody slashed");
    }

    function test_expire_CommitPhaseBelowThresholdRefundsAndSlashesSilent() public {
        uint256 id = gathered(REWARD);
        commit(id, worker, RIGHT);
        vm.warp(uint256(jm.jobOf(id).due) + 1);
        uint256 before = token.balanceOf(client);
        vm.recordLogs();
        jm.expire(id);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertStatus(id, IJobManager.JobStatus.Refunded);
        vm.assertEq(countEvents(logs, IJobManager.ReplicaFaulted.selector), 2, "two replicas never committed");
        vm.assertEq(stakeOf(worker), STAKE, "the one that committed is not slashed");
        vm.assertTrue(stakeOf(worker2) < STAKE && stakeOf(worker3) < STAKE, "silent replicas slashed");
        vm.assertEq(token.balanceOf(client) - before, REWARD, "the refund only: silent replicas pay the treasury");
    }

    function test_expire_CommitPhaseAtThresholdOpensReveal() public {
        uint256 id = gathered(REWARD);
        commit(id, worker, RIGHT);
        commit(id, worker2, RIGHT);
        uint256 commitDue = jm.jobOf(id).due;
        vm.warp(commitDue + 1);
        vm.expectEmit();
        emit IJobManager.RevealOpened(id, 2, commitDue + REVEAL);
        jm.expire(id);
        reveal(id, worker, RIGHT);
        vm.expectEmit();
        emit IJobManager.ConsensusReached(id, RIGHT, 2, block.timestamp + WINDOW);
        vm.expectEmit();
        emit IJobManager.ReplicaFaulted(id, worker3, jm.FAULT_NO_COMMIT(), faultSlash(STAKE, REWARD));
        reveal(id, worker2, RIGHT);
    }

    function test_expire_GatheringPastDueRefundsWithoutFault() public {
        uint256 id = postRedundant(REWARD, 3, 0);
        assignTo(id, worker);
        assignTo(id, worker2);
        commit(id, worker, RIGHT);
        vm.warp(uint256(jm.jobOf(id).due));
        vm.expectRevert(
            abi.encodeWithSelector(
                IJobManager.NotExpired.selector, id, IJobManager.JobStatus.Gathering, block.timestamp + 1
            )
        );
        jm.expire(id);
        vm.warp(block.timestamp + 1);
        vm.expectEmit();
        emit IJobManager.ConsensusFailed(id, 0);
        jm.expire(id);
        assertStatus(id, IJobManager.JobStatus.Refunded);
        vm.assertEq(stakeOf(worker) + stakeOf(worker2), 2 * STAKE, "nobody slashed");
    }

    function test_expire_GatheringWithoutReplicasAtDeadline() public {
        uint256 id = postRedundant(REWARD, 3, 0);
        vm.warp(defaultDeadline());
        jm.expire(id);
        assertStatus(id, IJobManager.JobStatus.Refunded);
    }

    // ============================================================ dispute

    function test_dispute_AgreeingReplicasAtFaultAllSlashedAndJailed() public {
        uint256 id = agreedWithDissent(REWARD);
        approveBond(id);
        vm.prank(client);
        jm.disputeResult(id);
        uint256 before = token.balanceOf(client);
        vm.recordLogs();
        vm.prank(arbiter);
        jm.resolveDispute(id, true);
        vm.assertEq(countEvents(vm.getRecordedLogs(), IJobManager.ReplicaFaulted.selector), 2, "both agreeing replicas");
        assertStatus(id, IJobManager.JobStatus.Refunded);
        vm.assertTrue(registry.workerOf(worker).jailed && registry.workerOf(worker2).jailed, "jailed");
        vm.assertFalse(registry.workerOf(worker3).jailed, "the dissenter was right");
        vm.assertEq(stakeOf(worker3), STAKE, "and is not slashed");
        uint256 comp = 2 * compensation(faultSlash(STAKE, REWARD), REWARD);
        vm.assertEq(token.balanceOf(client) - before, REWARD + bondOf(REWARD) + comp, "refund, bond, compensation");
    }

    function test_dispute_ReplicasRightShareTheBond() public {
        uint256 id = agreedWithDissent(REWARD);
        approveBond(id);
        vm.prank(client);
        jm.disputeResult(id);
        uint256 b1 = token.balanceOf(worker);
        uint256 b2 = token.balanceOf(worker2);
        vm.prank(arbiter);
        jm.resolveDispute(id, false);
        uint256 share = (REWARD - fee(REWARD)) / 2;
        uint256 bond = bondOf(REWARD);
        vm.assertEq(token.balanceOf(worker) - b1, share + bond - bond / 2);
        vm.assertEq(token.balanceOf(worker2) - b2, share + bond / 2);
        vm.assertEq(jm.disputeBondOf(id), 0);
        vm.assertEq(token.balanceOf(address(jm)), jm.parameters().accruedFees, "nothing else held");
    }

    function test_dispute_SilentArbiterPaysReplicasBondBackToClient() public {
        uint256 id = agreedWithDissent(REWARD);
        approveBond(id);
        vm.prank(client);
        jm.disputeResult(id);
        uint256 before = token.balanceOf(client);
        vm.warp(uint256(jm.jobOf(id).due) + 1);
        jm.expire(id);
        assertStatus(id, IJobManager.JobStatus.Paid);
        vm.assertEq(token.balanceOf(client) - before, bondOf(REWARD));
    }

    // ============================================================ phases by time

    /// @dev Nobody calls expire: past the commit due, the first reveal closes the commit phase, and the reveal
    /// window runs from the commit due, not from that call.
    function test_reveal_AfterTheCommitDueClosesCommits() public {
        uint256 id = gathered(REWARD);
        commit(id, worker, RIGHT);
        commit(id, worker2, RIGHT);
        uint256 commitDue = jm.jobOf(id).due;
        vm.warp(commitDue + 5 minutes);
        vm.expectEmit();
        emit IJobManager.RevealOpened(id, 2, commitDue + REVEAL);
        reveal(id, worker, RIGHT);
        assertStatus(id, IJobManager.JobStatus.Revealing);
        reveal(id, worker2, RIGHT);
        assertStatus(id, IJobManager.JobStatus.Submitted);
    }

    /// @dev The attack on the unbonding bound: nobody closes the phases for days. The reveal window still ends at
    /// commit due + reveal window and the challenge window at its end, so a replica's liability stays inside
    /// commit, reveal, challenge and dispute, which the unbonding minimum covers.
    function test_attack_LateExpireDoesNotStretchLiability() public {
        uint256 id = gathered(REWARD);
        commit(id, worker, RIGHT);
        commit(id, worker2, RIGHT);
        commit(id, worker3, RIGHT);
        uint256 revealDue = jm.jobOf(id).due;
        reveal(id, worker, RIGHT);
        reveal(id, worker2, RIGHT);
        vm.warp(revealDue + 3 days);
        jm.expire(id);
        assertStatus(id, IJobManager.JobStatus.Submitted);
        vm.assertEq(uint256(jm.jobOf(id).due), revealDue + WINDOW, "the challenge window ran from the reveal due");
        jm.finalize(id);
        assertStatus(id, IJobManager.JobStatus.Paid);

        // The commit phase left open for days: the reveal window had passed too, so it settles at once.
        uint256 other = postRedundant(REWARD, 2, 0);
        assignTo(other, worker);
        assignTo(other, worker2);
        commit(other, worker, RIGHT);
        commit(other, worker2, RIGHT);
        vm.warp(block.timestamp + 5 days);
        // Both committed, so the reveal window opened at once; neither revealed in it.
        jm.expire(other);
        assertStatus(other, IJobManager.JobStatus.Refunded);
    }

    function test_reveal_ZeroCommitmentRefused() public {
        uint256 id = gathered(REWARD);
        bytes32 seal = jm.sealResult(id, bytes32(0), salt(worker), worker);
        vm.prank(worker);
        jm.commitResult(id, seal);
        commit(id, worker2, RIGHT);
        commit(id, worker3, RIGHT);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.RevealMismatch.selector, id, worker));
        jm.revealResult(id, KIND, bytes32(0), 4096, salt(worker), LOCATOR);
    }

    /// @dev Replicas may reveal EIP-4844 results: each reveal is bound to the blob its transaction carries, and
    /// the same bytes (the same versioned hash) reach the consensus. Attack: reveal a blob result without the blob.
    function test_reveal_BlobResultsBoundAndAgreed() public {
        bytes32 blob = 0x01aaaa0000000000000000000000000000000000000000000000000000000002;
        uint256 id = gathered(REWARD);
        commit(id, worker, blob);
        commit(id, worker2, blob);
        commit(id, worker3, blob);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.BlobNotCarried.selector, blob, bytes32(0)));
        jm.revealResult(id, 3, blob, 131_072, salt(worker), "");
        bytes32[] memory hashes = new bytes32[](1);
        hashes[0] = blob;
        vm.blobhashes(hashes);
        vm.prank(worker);
        jm.revealResult(id, 3, blob, 131_072, salt(worker), "");
        vm.prank(worker2);
        jm.revealResult(id, 3, blob, 131_072, salt(worker2), "");
        vm.prank(worker3);
        jm.revealResult(id, 3, blob, 131_072, salt(worker3), "");
        vm.assertEq(uint256(jm.jobOf(id).status), uint256(IJobManager.JobStatus.Submitted));
        (, bytes32 consensus) = jm.redundancyOf(id);
        vm.assertEq(consensus, blob);
    }

    /// @dev A replica that cannot run the job declines for the decline fee, to the treasury, and is not at fault
    /// when the job settles with the others.
    function test_decline_AReplicaDeclinesForTheFeeOnly() public {
        uint256 id = gathered(REWARD);
        uint256 before = token.balanceOf(client);
        uint256 feesBefore = jm.parameters().accruedFees;
        vm.expectEmit();
        emit IJobManager.JobDeclined(id, worker3, 1, REWARD * DECLINE_BPS / BPS, false);
        vm.prank(worker3);
        jm.declineJob(id, 1);
        vm.assertEq(stakeOf(worker3), STAKE - REWARD * DECLINE_BPS / BPS);
        vm.prank(worker3);
        vm.expectRevert(
            abi.encodeWithSelector(IJobManager.NotReplica.selector, id, worker3, IJobManager.ReplicaPhase.Assigned)
        );
        jm.declineJob(id, 1);
        commit(id, worker, RIGHT);
        commit(id, worker2, RIGHT);
        vm.warp(uint256(jm.jobOf(id).due) + 1);
        jm.expire(id);
        reveal(id, worker, RIGHT);
        vm.recordLogs();
        reveal(id, worker2, RIGHT);
        vm.assertEq(countEvents(vm.getRecordedLogs(), IJobManager.ReplicaFaulted.selector), 0, "no fault");
        assertStatus(id, IJobManager.JobStatus.Submitted);
        vm.assertEq(token.balanceOf(client), before, "the client gains nothing from the decline");
        vm.assertEq(jm.parameters().accruedFees - feesBefore, REWARD * DECLINE_BPS / BPS, "the fee accrued");
    }

    // ============================================================ size and liability

    /// @dev forge deploys test contracts without the EIP-170 limit; a chain refuses code above 24,576 bytes.
    function test_size_JobManagerFitsTheCodeSizeLimit() public view {
        vm.assertLe(address(jm).code.length, 24_576, "JobManager code above the EIP-170 limit");
    }

    /// @dev The unbonding period covers a replica's whole liability, so stake cannot leave before a fault it backs
    /// can be punished.
    function test_bounds_UnbondingCoversAReplicasLiability() public pure {
        vm.assertEq(
            ProtocolBounds.MIN_UNBONDING_PERIOD,
            ProtocolBounds.MAX_ASSIGNMENT_TIMEOUT + ProtocolBounds.MAX_REVEAL_WINDOW
                + ProtocolBounds.MAX_CHALLENGE_WINDOW + ProtocolBounds.MAX_DISPUTE_PERIOD
        );
    }
}
