// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

import {AccordGovernor} from "../../src/AccordGovernor.sol";
import {AccordToken} from "../../src/AccordToken.sol";
import {IJobManager} from "../../src/interfaces/IJobManager.sol";
import {JobManager} from "../../src/JobManager.sol";
import {WorkerRegistry} from "../../src/WorkerRegistry.sol";
import {ProtocolDeployer} from "../../script/ProtocolDeployer.sol";
import {Test} from "./Test.sol";

/// @notice The protocol deployed exactly as `script/Deploy.s.sol` does, with funded actors and helpers.
abstract contract Fixture is Test {
    AccordToken internal token;
    TimelockController internal timelock;
    AccordGovernor internal governor;
    WorkerRegistry internal registry;
    JobManager internal jm;

    address internal holder = makeAddr("holder");
    address internal coordinator = makeAddr("coordinator");
    address internal arbiter = makeAddr("arbiter");
    address internal client = makeAddr("client");
    address internal worker = makeAddr("worker");
    address internal worker2 = makeAddr("worker2");
    address internal stranger = makeAddr("stranger");

    uint16 internal constant CAPS = 0x0003;
    uint96 internal constant REWARD = 1000e18;
    uint256 internal constant STAKE = 1000e18;
    bytes32 internal constant SPEC = keccak256("spec");
    bytes32 internal constant COMMITMENT = keccak256("result");

    ProtocolDeployer.Config internal config;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        vm.roll(100);
        config = ProtocolDeployer.devnetConfig(address(this), holder, coordinator, arbiter);
        ProtocolDeployer.Deployment memory d = ProtocolDeployer.deploy(config);
        token = d.token;
        timelock = d.timelock;
        governor = d.governor;
        registry = d.registry;
        jm = d.jobManager;
        fund(client, 1_000_000e18);
        fund(worker, 100_000e18);
        fund(worker2, 100_000e18);
    }

    function makeAddr(string memory name) internal returns (address a) {
        a = vm.addr(uint256(keccak256(bytes(name))));
        vm.label(a, name);
    }

    function fund(address to, uint256 amount) internal {
        vm.prank(holder);
        vm.assertTrue(token.transfer(to, amount));
    }

    /// @dev Registers `w` with CAPS and stakes `amount`.
    function registerAndStake(address w, uint256 amount) internal {
        vm.startPrank(w);
        registry.register(CAPS, "ipfs://worker");
        token.approve(address(registry), amount);
        registry.stake(amount);
        vm.stopPrank();
    }

    function post(uint96 reward) internal returns (uint256 id) {
        return postWith(reward, CAPS, uint32(block.timestamp + 1 days), 3);
    }

    function postWith(uint96 reward, uint16 caps, uint32 deadline, uint8 attempts) internal returns (uint256 id) {
        vm.startPrank(client);
        token.approve(address(jm), reward);
        id = jm.postJob(SPEC, "ipfs://spec", caps, reward, deadline, attempts);
        vm.stopPrank();
    }

    function assignTo(uint256 id, address w) internal {
        vm.prank(coordinator);
        jm.assign(id, w);
    }

    function submit(uint256 id, address w) internal {
        vm.prank(w);
        jm.submitResult(id, 1, COMMITMENT, 1024, "accord://blob/1");
    }

    function status(uint256 id) internal view returns (IJobManager.JobStatus) {
        return jm.jobOf(id).status;
    }
}
