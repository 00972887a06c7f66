// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../src/interfaces/IJobManager.sol";
import {Fixture} from "../utils/Fixture.sol";
import {Handler} from "./Handler.sol";

/// @notice Protocol-wide invariants over random sequences of post / cancel / assign / assignBatch / submit /
/// decline / accept / dispute (with bond) / resolve / finalize / expire / lapse / stake / unstake / withdraw /
/// arbiter slash attempts / sweep / parameter changes, and whole redundant lives (commit, reveal, consensus).
contract ProtocolInvariantTest is Fixture {
    Handler internal handler;
    address[] internal clientSet;
    address[] internal workerSet;

    function setUp() public override {
        super.setUp();
        for (uint256 i; i < 3; ++i) {
            address c = makeAddr(string.concat("inv-client-", vm_toString(i)));
            address w = makeAddr(string.concat("inv-worker-", vm_toString(i)));
            fund(c, 10_000_000e18);
            fund(w, 1_000_000e18);
            vm.startPrank(w);
            registry.register(uint16(0x0f >> i), "ipfs://w");
            token.approve(address(registry), 500e18);
            registry.stake(500e18);
            vm.stopPrank();
            clientSet.push(c);
            workerSet.push(w);
        }
        handler = new Handler(jm, registry, coordinator, arbiter, address(timelock), clientSet, workerSet);
        targetContract(address(handler));
    }

    /// @notice escrow + accrued fees + bonds of disputed jobs = what the job manager holds; stakes + pending = what
    /// the registry holds; swept fees = what the treasury holds; and no token appears or vanishes overall.
    /// @notice The handler's steps succeed where they should: a disputed life (post, assign, submit, dispute) and
    /// a redundant life (post, replicas, commits). A step that always reverted would leave the invariants checking
    /// nothing about results and payments, and a run would still pass (every single-worker submit once reverted
    /// unnoticed when the DA kinds were renumbered).
    function test_HandlerStepsSucceed() public {
        handler.disputedLife(1, 50e18, 0);
        handler.redundantLife(2, 50e18, 3, 0, 0);
        string[7] memory steps = ["post", "assign", "submit", "dispute", "postRedundant", "commit", "reveal"];
        for (uint256 i; i < steps.length; ++i) {
            vm.assertGe(handler.successes(bytes32(bytes(steps[i]))), 1, steps[i]);
        }
    }

    /// @notice A 2-of-3 life with one dissenting replica, accepted and then one finalized, through the handler's
    /// checks: the random runs reach such lives too, these pin them whatever the sequence.
    function test_OnlyConsensusPaid_WithADissenter() public {
        // Replica 3 (bits 8..11 = 5) reveals the wrong result; ending 0 accepts, 1 finalizes.
        handler.redundantLife(3, 50e18, 3, 0x500, 0);
        handler.redundantLife(4, 7e18, 3, 0x050, 1);
        vm.assertGe(handler.successes("reveal"), 6, "reveals");
        invariant_OnlyConsensusPaid();
        invariant_TokensConserved();
    }

    function invariant_TokensConserved() public view {
        uint256 escrow;
        uint256 bonds;
        uint256 n = jm.jobCount();
        for (uint256 id = 1; id <= n; ++id) {
            IJobManager.Job memory j = jm.jobOf(id);
            if (
                (j.status >= IJobManager.JobStatus.Open && j.status <= IJobManager.JobStatus.Disputed)
                    || j.status >= IJobManager.JobStatus.Gathering
            ) {
                escrow += j.reward;
            }
            if (j.status == IJobManager.JobStatus.Disputed) bonds += jm.disputeBondOf(id);
        }
        vm.assertEq(token.balanceOf(address(jm)), escrow + jm.parameters().accruedFees + bonds, "job manager balance");

        uint256 staked;
        for (uint256 i; i < workerSet.length; ++i) {
            staked += registry.slashableOf(workerSet[i]);
        }
        vm.assertEq(token.balanceOf(address(registry)), staked, "registry balance");
        vm.assertEq(token.balanceOf(address(timelock)), handler.totalSwept(), "treasury balance");

        uint256 held = token.balanceOf(address(jm)) + token.balanceOf(address(registry))
            + token.balanceOf(address(timelock)) + token.balanceOf(holder);
        for (uint256 i; i < workerSet.length; ++i) {
            held += token.balanceOf(workerSet[i]) + token.balanceOf(clientSet[i]);
        }
        held += token.balanceOf(client) + token.balanceOf(worker) + token.balanceOf(worker2);
        vm.assertEq(held, token.totalSupply(), "supply");
    }

    /// @notice No job pays a worker twice, and every payment pays exactly reward minus the fee (a redundant job:
    /// an equal share of it to each agreeing replica).
    function invariant_NoJobPaidTwice() public view {
        vm.assertLe(handler.maxPaidCount(), 1, "a job was paid twice");
        vm.assertEq(handler.payoutViolations(), 0, "a payout differed from reward minus fee");
    }

    /// @notice A redundant job pays only replicas whose reveal is the consensus, and only once a consensus was
    /// reached; a reveal never succeeds without a matching commit; every replica fault is a real one.
    function invariant_OnlyConsensusPaid() public view {
        vm.assertEq(handler.unagreedPayments(), 0, "a replica was paid without agreeing with a consensus");
        vm.assertEq(handler.unmatchedReveals(), 0, "a reveal succeeded without a matching commit");
        vm.assertEq(handler.wrongFaults(), 0, "a replica was slashed for a fault it did not commit");
    }

    /// @notice A fault slash takes exactly min(share of the stake, multiple of the reward), a decline exactly its
    /// fee capped at the stake: no slash exceeds its cap or the stake, and the arbiter never slashes directly.
    function invariant_SlashWithinStake() public view {
        vm.assertEq(handler.slashViolations(), 0, "slash beyond stake, share or cap");
        vm.assertEq(handler.arbiterSlashes(), 0, "the arbiter slashed through the registry");
    }

    /// @notice Every action pays the client exactly what the rules allow (refund, bond back, compensation of at most
    /// reward x compensationBps per fault), and over a job's life the client never gains more than
    /// attempts x reward x compensationBps / 10_000.
    function invariant_ClientReceiptsBounded() public view {
        vm.assertEq(handler.clientViolations(), 0, "a client received more or less than the rules allow");
        uint256 comp = jm.penalties().compensationBps;
        uint256 n = jm.jobCount();
        for (uint256 id = 1; id <= n; ++id) {
            IJobManager.Job memory j = jm.jobOf(id);
            int256 net = handler.clientNet(id);
            if (j.status == IJobManager.JobStatus.Refunded || j.status == IJobManager.JobStatus.Cancelled) {
                vm.assertTrue(net <= int256(16 * (uint256(j.reward) * comp / 10_000)), "client gain beyond the bound");
            } else {
                vm.assertTrue(net <= 0, "a live or paid job's client gained");
            }
        }
    }

    /// @notice No job is assigned or reopened with less than the minimum submit window before its deadline.
    function invariant_MinSubmitWindow() public view {
        vm.assertEq(handler.windowViolations(), 0, "assigned or reopened too close to the deadline");
    }

    /// @notice Job status only moves along the documented graph, and a reverted call changes nothing.
    /// @notice Every EIP-4844 result came in a transaction carrying its blob: its commitment was blobhash(0).
    function invariant_BlobResultsBound() public view {
        vm.assertEq(handler.unboundBlobs(), 0, "a blob result accepted without its blob");
    }

    function invariant_StatusTransitionsAllowed() public view {
        vm.assertEq(handler.badTransitions(), 0, "disallowed status transition");
    }

    function vm_toString(uint256 i) private pure returns (string memory) {
        return string(abi.encodePacked(bytes1(uint8(48 + i))));
    }
}
