// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../src/interfaces/IJobManager.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @notice One job through each of its paths, end to end, checking balances at each terminal state.
contract LifecycleTest is Fixture {
    function setUp() public override {
        super.setUp();
        registerAndStake(worker, STAKE);
    }

    function test_HappyPath_PaysWorkerMinusFee() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        submit(id, worker);
        uint256 before = token.balanceOf(worker);
        vm.prank(client);
        jm.acceptResult(id);
        uint256 fee = uint256(REWARD) * 250 / 10_000;
        vm.assertEq(token.balanceOf(worker) - before, REWARD - fee);
        vm.assertEq(jm.parameters().accruedFees, fee);
        vm.assertEq(uint256(jm.jobOf(id).status), uint256(IJobManager.JobStatus.Paid));
        jm.sweepFees();
        vm.assertEq(token.balanceOf(address(timelock)), fee);
        vm.assertEq(token.balanceOf(address(jm)), 0);
    }
}
