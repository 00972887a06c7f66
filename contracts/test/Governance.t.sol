// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {ProtocolBounds} from "../src/ProtocolBounds.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @notice Whole governance flows through the real Governor and TimelockController: propose, vote, queue,
/// execute, and the change takes effect; anything else is refused.
contract GovernanceTest is Fixture {
    address internal voter = makeAddr("voter");
    address internal newCoordinator = makeAddr("newCoordinator");

    function setUp() public override {
        super.setUp();
        // 10% of the supply votes, over the 4% quorum.
        fund(voter, 100_000_000e18);
        vm.prank(voter);
        token.delegate(voter);
        vm.roll(block.number + 1);
    }

    function _proposal() internal view returns (address[] memory t, uint256[] memory v, bytes[] memory c) {
        t = new address[](3);
        v = new uint256[](3);
        c = new bytes[](3);
        t[0] = address(registry);
        c[0] = abi.encodeCall(registry.setMinStake, (500e18));
        t[1] = address(jm);
        c[1] = abi.encodeCall(jm.grantRole, (jm.COORDINATOR_ROLE(), newCoordinator));
        t[2] = address(jm);
        c[2] = abi.encodeCall(jm.setProtocolFee, (500));
    }

    /// @dev Runs a proposal to execution and returns its id.
    function _pass(address[] memory t, uint256[] memory v, bytes[] memory c, string memory desc)
        internal
        returns (uint256 id)
    {
        vm.prank(voter);
        id = governor.propose(t, v, c, desc);
        vm.assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Pending));
        vm.roll(block.number + governor.votingDelay() + 1);
        vm.prank(voter);
        governor.castVote(id, 1);
        vm.roll(block.number + governor.votingPeriod());
        vm.assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Succeeded));
        governor.queue(t, v, c, keccak256(bytes(desc)));
        vm.assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Queued));
        vm.warp(block.timestamp + timelock.getMinDelay());
        governor.execute(t, v, c, keccak256(bytes(desc)));
        vm.assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Executed));
    }

    function test_Proposal_ChangesParametersAndGrantsRole() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _proposal();
        vm.assertEq(registry.minStake(), 100e18);
        _pass(t, v, c, "raise minimum stake, add coordinator, fee 5%");
        vm.assertEq(registry.minStake(), 500e18);
        vm.assertEq(jm.parameters().protocolFeeBps, 500);
        vm.assertTrue(jm.hasRole(jm.COORDINATOR_ROLE(), newCoordinator));

        // It takes effect: the new coordinator assigns, a worker under the new minimum is refused.
        registerAndStake(worker, 500e18);
        registerAndStake(worker2, 100e18);
        uint256 id = post(REWARD);
        vm.prank(newCoordinator);
        jm.assign(id, worker);
        vm.assertEq(jm.jobOf(id).worker, worker);
        uint256 id2 = post(REWARD);
        vm.expectRevert(abi.encodeWithSignature("BelowMinStake(address,uint256,uint256)", worker2, 100e18, 500e18));
        vm.prank(newCoordinator);
        jm.assign(id2, worker2);
    }

    function test_Proposal_OutOfBoundsParameter_FailsAtExecution() public {
        address[] memory t = new address[](1);
        uint256[] memory v = new uint256[](1);
        bytes[] memory c = new bytes[](1);
        t[0] = address(jm);
        c[0] = abi.encodeCall(jm.setSlashShare, (10_000));
        string memory desc = "slash everything";
        vm.prank(voter);
        uint256 id = governor.propose(t, v, c, desc);
        vm.roll(block.number + governor.votingDelay() + 1);
        vm.prank(voter);
        governor.castVote(id, 1);
        vm.roll(block.number + governor.votingPeriod());
        governor.queue(t, v, c, keccak256(bytes(desc)));
        vm.warp(block.timestamp + timelock.getMinDelay());
        vm.expectRevert(
            abi.encodeWithSelector(
                ProtocolBounds.ParameterOutOfBounds.selector,
                jm.SLASH_SHARE_BPS(),
                10_000,
                ProtocolBounds.MIN_SLASH_SHARE_BPS,
                ProtocolBounds.MAX_SLASH_SHARE_BPS
            )
        );
        governor.execute(t, v, c, keccak256(bytes(desc)));
        vm.assertEq(jm.parameters().slashShareBps, 1000);
    }

    function test_Proposal_Defeated_ChangesNothing() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _proposal();
        vm.prank(voter);
        uint256 id = governor.propose(t, v, c, "rejected");
        vm.roll(block.number + governor.votingDelay() + 1);
        vm.prank(voter);
        governor.castVote(id, 0);
        vm.roll(block.number + governor.votingPeriod());
        vm.assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Defeated));
        vm.expectRevert();
        governor.queue(t, v, c, keccak256(bytes("rejected")));
        vm.assertEq(registry.minStake(), 100e18);
    }

    function test_UnauthorizedChanges_AreRefused() public {
        bytes32 admin = jm.DEFAULT_ADMIN_ROLE();
        bytes32 coordinatorRole = jm.COORDINATOR_ROLE();
        // A stranger, the deployer (who renounced) and the governor itself cannot set parameters directly.
        address[3] memory who = [stranger, address(this), address(governor)];
        for (uint256 i; i < who.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, who[i], admin)
            );
            vm.prank(who[i]);
            registry.setMinStake(500e18);
            vm.expectRevert(
                abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, who[i], admin)
            );
            vm.prank(who[i]);
            jm.grantRole(coordinatorRole, who[i]);
        }
        // Nobody but the governor may schedule on the timelock.
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, timelock.PROPOSER_ROLE()
            )
        );
        vm.prank(stranger);
        timelock.schedule(address(jm), 0, abi.encodeCall(jm.setProtocolFee, (0)), 0, 0, 60);
        vm.assertFalse(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(this)));
        vm.assertTrue(jm.hasRole(admin, address(timelock)));
        vm.assertTrue(registry.hasRole(admin, address(timelock)));
    }
}
