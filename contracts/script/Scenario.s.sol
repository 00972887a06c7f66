// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccordGovernor} from "../src/AccordGovernor.sol";
import {AccordToken} from "../src/AccordToken.sol";
import {JobManager} from "../src/JobManager.sol";
import {WorkerRegistry} from "../src/WorkerRegistry.sol";
import {Vm} from "../test/utils/Vm.sol";

/// @notice A scripted devnet scenario used by the coordinator's integration tests, in phases the test separates
/// with anvil time and block travel. Actors are anvil's well-known accounts (devnet only): 0 holder, 1
/// coordinator, 2 arbiter, 3 client, 4 worker A, 5 worker B, 6 voter.
/// - phase1: fund, delegate, register and stake; post 5 jobs; job 1 paid, job 2 disputed and ruled against
///   worker A (slash + jail), job 3 submitted, job 4 assigned to B and left to expire, job 5 cancelled;
///   a proposal to raise the minimum stake.
/// - phase2 (after 2 hours): job 3 finalized, job 4 expired (B slashed, job reopened), the vote cast.
/// - phase3 (after the voting period): the proposal queued. phase4 (after the timelock delay): executed.
contract Scenario {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    string internal constant MNEMONIC = "test test test test test test test test test test test junk";

    function _key(uint32 i) internal pure returns (uint256) {
        return vm.deriveKey(MNEMONIC, i);
    }

    function _proposal(WorkerRegistry registry)
        internal
        pure
        returns (address[] memory t, uint256[] memory v, bytes[] memory c, bytes32 descriptionHash)
    {
        t = new address[](1);
        v = new uint256[](1);
        c = new bytes[](1);
        t[0] = address(registry);
        c[0] = abi.encodeCall(WorkerRegistry.setMinStake, (500e18));
        descriptionHash = keccak256(bytes("raise the minimum stake to 500"));
    }

    function phase1(AccordToken token, WorkerRegistry registry, JobManager jm, AccordGovernor governor) external {
        address client = vm.addr(_key(3));
        address workerA = vm.addr(_key(4));
        address workerB = vm.addr(_key(5));
        address voter = vm.addr(_key(6));

        vm.startBroadcast(_key(0));
        require(token.transfer(client, 100_000e18));
        require(token.transfer(workerA, 10_000e18));
        require(token.transfer(workerB, 10_000e18));
        require(token.transfer(voter, 200_000_000e18));
        vm.stopBroadcast();

        vm.startBroadcast(_key(6));
        token.delegate(voter);
        vm.stopBroadcast();

        for (uint32 k = 4; k <= 5; ++k) {
            vm.startBroadcast(_key(k));
            registry.register(3, "https://worker.example/meta.json");
            token.approve(address(registry), 1000e18);
            registry.stake(1000e18);
            vm.stopBroadcast();
        }

        vm.startBroadcast(_key(3));
        token.approve(address(jm), type(uint256).max);
        uint256[5] memory ids;
        for (uint256 i; i < 5; ++i) {
            ids[i] = jm.postJob(
                keccak256(abi.encode("scenario", i)), "ipfs://scenario", 1, 100e18, uint32(block.timestamp + 7 days), 3
            );
        }
        vm.stopBroadcast();

        vm.startBroadcast(_key(1));
        jm.assign(ids[0], workerA);
        jm.assign(ids[1], workerA);
        jm.assign(ids[2], workerB);
        jm.assign(ids[3], workerB);
        vm.stopBroadcast();

        vm.startBroadcast(_key(4));
        jm.submitResult(ids[0], 1, keccak256("r1"), 11, "accord://blob/r1");
        jm.submitResult(ids[1], 1, keccak256("r2"), 22, "accord://blob/r2");
        vm.stopBroadcast();

        vm.startBroadcast(_key(3));
        jm.acceptResult(ids[0]);
        jm.disputeResult(ids[1]);
        jm.cancelJob(ids[4]);
        vm.stopBroadcast();

        vm.startBroadcast(_key(2));
        jm.resolveDispute(ids[1], true);
        vm.stopBroadcast();

        vm.startBroadcast(_key(5));
        jm.submitResult(ids[2], 2, keccak256("r3"), 33, "celestia://r3");
        vm.stopBroadcast();

        (address[] memory t, uint256[] memory v, bytes[] memory c,) = _proposal(registry);
        vm.startBroadcast(_key(6));
        governor.propose(t, v, c, "raise the minimum stake to 500");
        vm.stopBroadcast();
    }

    function phase2(WorkerRegistry registry, JobManager jm, AccordGovernor governor) external {
        vm.startBroadcast(_key(3));
        jm.finalize(3);
        jm.expire(4);
        vm.stopBroadcast();
        (address[] memory t, uint256[] memory v, bytes[] memory c, bytes32 d) = _proposal(registry);
        vm.startBroadcast(_key(6));
        governor.castVoteWithReason(governor.hashProposal(t, v, c, d), 1, "more skin in the game");
        vm.stopBroadcast();
    }

    function phase3(WorkerRegistry registry, AccordGovernor governor) external {
        (address[] memory t, uint256[] memory v, bytes[] memory c, bytes32 d) = _proposal(registry);
        vm.startBroadcast(_key(6));
        governor.queue(t, v, c, d);
        vm.stopBroadcast();
    }

    function phase4(WorkerRegistry registry, AccordGovernor governor) external {
        (address[] memory t, uint256[] memory v, bytes[] memory c, bytes32 d) = _proposal(registry);
        vm.startBroadcast(_key(6));
        governor.execute(t, v, c, d);
        vm.stopBroadcast();
    }
}
