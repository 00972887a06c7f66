// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

import {IJobManager} from "../src/interfaces/IJobManager.sol";
import {IWorkerRegistry} from "../src/interfaces/IWorkerRegistry.sol";
import {JobManager} from "../src/JobManager.sol";
import {ProtocolBounds} from "../src/ProtocolBounds.sol";
import {Fixture} from "./utils/Fixture.sol";
import {Vm} from "./utils/Vm.sol";

/// @notice Shared helpers for the JobManager suites: devnet parameters, job assertions, life-cycle shortcuts.
abstract contract JobManagerBase is Fixture {
    // Devnet parameters (ProtocolDeployer.devnetConfig).
    uint256 internal constant FEE_BPS = 250;
    uint256 internal constant SLASH_BPS = 1000;
    uint256 internal constant TIMEOUT = 1 hours;
    uint256 internal constant WINDOW = 1 hours;
    uint256 internal constant PERIOD = 1 days;
    uint256 internal constant MIN_STAKE = 100e18;
    uint256 internal constant BPS = 10_000;

    bytes32 internal constant ADMIN_ROLE = 0x00;
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    string internal constant SPEC_URI = "ipfs://spec";
    string internal constant LOCATOR = "accord://blob/1";

    uint256 internal clientKey = uint256(keccak256(bytes("client")));

    function setUp() public virtual override {
        super.setUp();
        registerAndStake(worker, STAKE);
        registerAndStake(worker2, STAKE);
    }

    // ---------------------------------------------------------------- helpers

    function fee(uint256 reward) internal pure returns (uint256) {
        return reward * FEE_BPS / BPS;
    }

    function slashOf(uint256 slashable) internal pure returns (uint256) {
        return slashable * SLASH_BPS / BPS;
    }

    function st(IJobManager.JobStatus s) internal pure returns (uint256) {
        return uint256(s);
    }

    function assertStatus(uint256 id, IJobManager.JobStatus expected) internal view {
        vm.assertEq(uint256(status(id)), uint256(expected), "status");
    }

    function assertJob(
        uint256 id,
        address client_,
        uint256 reward,
        address worker_,
        uint256 deadline,
        uint256 due,
        IJobManager.JobStatus status_,
        uint256 attemptsLeft,
        uint16 caps
    ) internal view {
        IJobManager.Job memory j = jm.jobOf(id);
        vm.assertEq(j.client, client_, "client");
        vm.assertEq(uint256(j.reward), reward, "reward");
        vm.assertEq(j.worker, worker_, "worker");
        vm.assertEq(uint256(j.deadline), deadline, "deadline");
        vm.assertEq(uint256(j.due), due, "due");
        vm.assertEq(uint256(j.status), uint256(status_), "status");
        vm.assertEq(uint256(j.attemptsLeft), attemptsLeft, "attemptsLeft");
        vm.assertEq(uint256(j.requiredCapabilities), uint256(caps), "caps");
    }

    function jobHash(uint256 id) internal view returns (bytes32) {
        return keccak256(abi.encode(jm.jobOf(id)));
    }

    function stakeOf(address w) internal view returns (uint256) {
        return registry.workerOf(w).stake;
    }

    function defaultDeadline() internal view returns (uint32) {
        return uint32(block.timestamp + 1 days);
    }

    /// @dev Posts, assigns to `worker` and submits; returns the id.
    function submitted() internal returns (uint256 id) {
        id = post(REWARD);
        assignTo(id, worker);
        submit(id, worker);
    }

    /// @dev Posts, assigns, submits and disputes; returns the id.
    function disputed() internal returns (uint256 id) {
        id = submitted();
        approveBond(id);
        vm.prank(client);
        jm.disputeResult(id);
    }

    uint256 internal constant BOND_BPS = 1000;
    uint256 internal constant COMPENSATION_BPS = 500;
    uint256 internal constant MULTIPLE_BPS = 20_000;
    uint256 internal constant DECLINE_BPS = 100;
    uint256 internal constant MIN_WINDOW = 10 minutes;

    function bondOf(uint256 reward) internal pure returns (uint256) {
        return reward * BOND_BPS / BPS;
    }

    /// @dev The bounded fault slash of a worker with `slashable` stake on a job of `reward`.
    function faultSlash(uint256 slashable, uint256 reward) internal pure returns (uint256) {
        uint256 byShare = slashable * SLASH_BPS / BPS;
        uint256 cap = reward * MULTIPLE_BPS / BPS;
        return byShare < cap ? byShare : cap;
    }

    /// @dev What the client receives of a fault slash.
    function compensation(uint256 slashed, uint256 reward) internal pure returns (uint256) {
        uint256 max = reward * COMPENSATION_BPS / BPS;
        return slashed < max ? slashed : max;
    }

    /// @dev The client approves the dispute bond of job `id`.
    function approveBond(uint256 id) internal {
        uint256 bond = uint256(jm.jobOf(id).reward) * jm.penalties().disputeBondBps / BPS;
        vm.prank(client);
        token.approve(address(jm), bond);
    }

    function paidJob() internal returns (uint256 id) {
        id = submitted();
        vm.prank(client);
        jm.acceptResult(id);
    }

    function longString(uint256 n) internal pure returns (string memory) {
        bytes memory b = new bytes(n);
        for (uint256 i; i < n; ++i) {
            b[i] = "a";
        }
        return string(b);
    }

    function permitDigest(address owner, address spender, uint256 value, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
    }

    function signPermit(uint256 value, uint256 deadline) internal view returns (uint8 v, bytes32 r, bytes32 s) {
        bytes32 digest = permitDigest(client, address(jm), value, token.nonces(client), deadline);
        (v, r, s) = vm.sign(clientKey, digest);
    }

    function unauthorized(address account, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    function statusMismatch(uint256 id, IJobManager.JobStatus expected, IJobManager.JobStatus actual)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(IJobManager.JobStatusMismatch.selector, id, expected, actual);
    }

    function unknown(uint256 id) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IJobManager.UnknownJob.selector, id);
    }

    function outOfBounds(bytes32 key, uint256 value, uint256 min, uint256 max) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ProtocolBounds.ParameterOutOfBounds.selector, key, value, min, max);
    }
}

contract JobManagerTest is JobManagerBase {
    // ============================================================ constructor / wiring

    function test_constructor_WiresDeployment() public view {
        vm.assertEq(address(jm.token()), address(token));
        vm.assertEq(address(jm.registry()), address(registry));
        vm.assertEq(jm.treasury(), address(timelock));
        vm.assertTrue(jm.hasRole(ADMIN_ROLE, address(timelock)), "timelock admin");
        vm.assertFalse(jm.hasRole(ADMIN_ROLE, address(this)), "deployer renounced");
        vm.assertTrue(jm.hasRole(jm.COORDINATOR_ROLE(), coordinator), "coordinator");
        vm.assertTrue(jm.hasRole(jm.ARBITER_ROLE(), arbiter), "arbiter");
        JobManager.Params memory p = jm.parameters();
        vm.assertEq(uint256(p.protocolFeeBps), FEE_BPS);
        vm.assertEq(uint256(p.slashShareBps), SLASH_BPS);
        vm.assertEq(uint256(p.assignmentTimeout), TIMEOUT);
        vm.assertEq(uint256(p.challengeWindow), WINDOW);
        vm.assertEq(uint256(p.disputePeriod), PERIOD);
        vm.assertEq(uint256(p.accruedFees), 0);
        vm.assertEq(jm.jobCount(), 0);
    }

    function test_constructor_EmitsEveryParameterAndIgnoresAccruedFees() public {
        JobManager.Params memory p = JobManager.Params({
            protocolFeeBps: 100,
            slashShareBps: 200,
            assignmentTimeout: 2 hours,
            challengeWindow: 3 hours,
            disputePeriod: 2 days,
            minSubmitWindow: 5 minutes,
            accruedFees: 12_345
        });
        vm.expectEmit();
        emit IJobManager.ParameterUpdated("protocolFeeBps", 0, 100);
        vm.expectEmit();
        emit IJobManager.ParameterUpdated("slashShareBps", 0, 200);
        vm.expectEmit();
        emit IJobManager.ParameterUpdated("assignmentTimeout", 0, 2 hours);
        vm.expectEmit();
        emit IJobManager.ParameterUpdated("challengeWindow", 0, 3 hours);
        vm.expectEmit();
        emit IJobManager.ParameterUpdated("disputePeriod", 0, 2 days);
        vm.expectEmit();
        emit IJobManager.ParameterUpdated("minSubmitWindow", 0, 5 minutes);
        vm.expectEmit();
        emit IJobManager.ParameterUpdated("slashRewardMultipleBps", 0, 20_000);
        vm.expectEmit();
        emit IJobManager.ParameterUpdated("compensationBps", 0, 500);
        vm.expectEmit();
        emit IJobManager.ParameterUpdated("declineFeeBps", 0, 100);
        vm.expectEmit();
        emit IJobManager.ParameterUpdated("disputeBondBps", 0, 1000);
        JobManager m = new JobManager(token, registry, address(timelock), address(this), p, config.penalties);
        JobManager.Params memory got = m.parameters();
        vm.assertEq(uint256(got.protocolFeeBps), 100);
        vm.assertEq(uint256(got.slashShareBps), 200);
        vm.assertEq(uint256(got.assignmentTimeout), 2 hours);
        vm.assertEq(uint256(got.challengeWindow), 3 hours);
        vm.assertEq(uint256(got.disputePeriod), 2 days);
        vm.assertEq(uint256(got.accruedFees), 0);
        vm.assertTrue(m.hasRole(ADMIN_ROLE, address(this)));
    }

    /// @dev BUG demonstration: the constructor applies the initial parameters through the public, role-gated
    /// setters, so they are checked against msg.sender (the deploying account) rather than `admin`. Deploying with
    /// an admin other than the deployer (e.g. straight to the timelock) reverts with
    /// AccessControlUnauthorizedAccount(deployer, DEFAULT_ADMIN_ROLE).
    function test_constructor_AdminOtherThanDeployer() public {
        JobManager m =
            new JobManager(token, registry, address(timelock), address(timelock), config.params, config.penalties);
        vm.assertTrue(m.hasRole(ADMIN_ROLE, address(timelock)), "admin");
        vm.assertFalse(m.hasRole(ADMIN_ROLE, address(this)), "deployer");
        vm.assertEq(uint256(m.parameters().protocolFeeBps), FEE_BPS);
    }

    function test_constructor_RevertWhen_TokenZero() public {
        JobManager.Params memory p = config.params;
        vm.expectRevert(abi.encodeWithSelector(IJobManager.ZeroAddress.selector));
        new JobManager(IERC20(address(0)), registry, address(timelock), address(this), p, config.penalties);
    }

    function test_constructor_RevertWhen_RegistryZero() public {
        JobManager.Params memory p = config.params;
        vm.expectRevert(abi.encodeWithSelector(IJobManager.ZeroAddress.selector));
        new JobManager(token, IWorkerRegistry(address(0)), address(timelock), address(this), p, config.penalties);
    }

    function test_constructor_RevertWhen_TreasuryZero() public {
        JobManager.Params memory p = config.params;
        vm.expectRevert(abi.encodeWithSelector(IJobManager.ZeroAddress.selector));
        new JobManager(token, registry, address(0), address(this), p, config.penalties);
    }

    function test_constructor_RevertWhen_AdminZero() public {
        JobManager.Params memory p = config.params;
        vm.expectRevert(abi.encodeWithSelector(IJobManager.ZeroAddress.selector));
        new JobManager(token, registry, address(timelock), address(0), p, config.penalties);
    }

    function test_constructor_RevertWhen_InitialParameterOutOfBounds() public {
        JobManager.Params memory p = config.params;
        p.slashShareBps = 5001;
        vm.expectRevert(outOfBounds("slashShareBps", 5001, 100, 5000));
        new JobManager(token, registry, address(timelock), address(this), p, config.penalties);
    }

    // ============================================================ postJob

    function test_postJob_EscrowsRewardAndStoresJob() public {
        uint32 deadline = defaultDeadline();
        uint256 clientBefore = token.balanceOf(client);
        vm.prank(client);
        token.approve(address(jm), REWARD);

        vm.expectEmit(address(jm));
        emit IJobManager.JobPosted(1, client, SPEC, CAPS, REWARD, deadline, 3, SPEC_URI);
        vm.prank(client);
        uint256 id = jm.postJob(SPEC, SPEC_URI, CAPS, REWARD, deadline, 3);

        vm.assertEq(id, 1, "id");
        vm.assertEq(jm.jobCount(), 1, "count");
        assertJob(id, client, REWARD, address(0), deadline, 0, IJobManager.JobStatus.Open, 3, CAPS);
        vm.assertEq(token.balanceOf(address(jm)), REWARD, "escrow");
        vm.assertEq(clientBefore - token.balanceOf(client), REWARD, "client paid");
        vm.assertEq(token.allowance(client, address(jm)), 0, "allowance spent");
    }

    function test_postJob_IdsIncrement() public {
        uint256 a = post(REWARD);
        uint256 b = postWith(2 * REWARD, 0x0001, uint32(block.timestamp + 2 days), 1);
        vm.assertEq(a, 1);
        vm.assertEq(b, 2);
        vm.assertEq(jm.jobCount(), 2);
        assertJob(b, client, 2 * REWARD, address(0), block.timestamp + 2 days, 0, IJobManager.JobStatus.Open, 1, 0x0001);
        vm.assertEq(token.balanceOf(address(jm)), 3 * uint256(REWARD));
    }

    function test_postJob_AcceptsBoundaryValues() public {
        string memory uri = longString(1024);
        uint32 deadline = uint32(block.timestamp + 1);
        vm.prank(client);
        token.approve(address(jm), 1);
        vm.expectEmit(address(jm));
        emit IJobManager.JobPosted(1, client, SPEC, 0, 1, deadline, 16, uri);
        vm.prank(client);
        uint256 id = jm.postJob(SPEC, uri, 0, 1, deadline, 16);
        assertJob(id, client, 1, address(0), deadline, 0, IJobManager.JobStatus.Open, 16, 0);
    }

    function test_postJob_RevertWhen_ZeroReward() public {
        uint32 deadline = defaultDeadline();
        vm.expectRevert(abi.encodeWithSelector(IJobManager.ZeroReward.selector));
        vm.prank(client);
        jm.postJob(SPEC, SPEC_URI, CAPS, 0, deadline, 3);
        vm.assertEq(jm.jobCount(), 0);
    }

    function test_postJob_RevertWhen_DeadlineIsNow() public {
        uint32 deadline = uint32(block.timestamp);
        vm.prank(client);
        token.approve(address(jm), REWARD);
        vm.expectRevert(
            abi.encodeWithSelector(IJobManager.DeadlineNotInFuture.selector, uint256(deadline), block.timestamp)
        );
        vm.prank(client);
        jm.postJob(SPEC, SPEC_URI, CAPS, REWARD, deadline, 3);
        vm.assertEq(jm.jobCount(), 0);
    }

    function test_postJob_RevertWhen_DeadlineInPast() public {
        uint32 deadline = uint32(block.timestamp - 10);
        vm.prank(client);
        token.approve(address(jm), REWARD);
        vm.expectRevert(
            abi.encodeWithSelector(IJobManager.DeadlineNotInFuture.selector, uint256(deadline), block.timestamp)
        );
        vm.prank(client);
        jm.postJob(SPEC, SPEC_URI, CAPS, REWARD, deadline, 3);
    }

    function test_postJob_RevertWhen_MaxAttemptsZero() public {
        uint32 deadline = defaultDeadline();
        vm.prank(client);
        token.approve(address(jm), REWARD);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.InvalidMaxAttempts.selector, 0, 16));
        vm.prank(client);
        jm.postJob(SPEC, SPEC_URI, CAPS, REWARD, deadline, 0);
    }

    function test_postJob_RevertWhen_MaxAttemptsSeventeen() public {
        uint32 deadline = defaultDeadline();
        vm.prank(client);
        token.approve(address(jm), REWARD);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.InvalidMaxAttempts.selector, 17, 16));
        vm.prank(client);
        jm.postJob(SPEC, SPEC_URI, CAPS, REWARD, deadline, 17);
    }

    function test_postJob_RevertWhen_SpecUriTooLong() public {
        uint32 deadline = defaultDeadline();
        string memory uri = longString(1025);
        vm.prank(client);
        token.approve(address(jm), REWARD);
        vm.expectRevert(abi.encodeWithSelector(ProtocolBounds.UriTooLong.selector, 1025, 1024));
        vm.prank(client);
        jm.postJob(SPEC, uri, CAPS, REWARD, deadline, 3);
    }

    function test_postJob_RevertWhen_NoAllowance() public {
        uint32 deadline = defaultDeadline();
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(jm), 0, REWARD)
        );
        vm.prank(client);
        jm.postJob(SPEC, SPEC_URI, CAPS, REWARD, deadline, 3);
        vm.assertEq(jm.jobCount(), 0);
    }

    // ============================================================ postJobWithPermit

    function test_postJobWithPermit_EscrowsWithSignedPermit() public {
        uint32 deadline = defaultDeadline();
        uint256 permitDeadline = block.timestamp + 1 hours;
        vm.assertEq(vm.addr(clientKey), client, "key");
        (uint8 v, bytes32 r, bytes32 s) = signPermit(REWARD, permitDeadline);
        uint256 clientBefore = token.balanceOf(client);
        vm.assertEq(token.allowance(client, address(jm)), 0);

        vm.expectEmit(address(jm));
        emit IJobManager.JobPosted(1, client, SPEC, CAPS, REWARD, deadline, 2, SPEC_URI);
        vm.prank(client);
        uint256 id = jm.postJobWithPermit(SPEC, SPEC_URI, CAPS, REWARD, deadline, 2, permitDeadline, v, r, s);

        vm.assertEq(id, 1);
        vm.assertEq(jm.jobCount(), 1);
        assertJob(id, client, REWARD, address(0), deadline, 0, IJobManager.JobStatus.Open, 2, CAPS);
        vm.assertEq(token.nonces(client), 1, "permit used");
        vm.assertEq(token.allowance(client, address(jm)), 0, "allowance spent");
        vm.assertEq(token.balanceOf(address(jm)), REWARD);
        vm.assertEq(clientBefore - token.balanceOf(client), REWARD);
    }

    function test_postJobWithPermit_WorksWhenPermitFrontRun() public {
        uint32 deadline = defaultDeadline();
        uint256 permitDeadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = signPermit(REWARD, permitDeadline);
        // A front-runner replays the permit from the mempool.
        vm.prank(stranger);
        token.permit(client, address(jm), REWARD, permitDeadline, v, r, s);
        vm.assertEq(token.allowance(client, address(jm)), REWARD);

        vm.expectEmit(address(jm));
        emit IJobManager.JobPosted(1, client, SPEC, CAPS, REWARD, deadline, 3, SPEC_URI);
        vm.prank(client);
        uint256 id = jm.postJobWithPermit(SPEC, SPEC_URI, CAPS, REWARD, deadline, 3, permitDeadline, v, r, s);

        vm.assertEq(id, 1);
        assertStatus(id, IJobManager.JobStatus.Open);
        vm.assertEq(token.nonces(client), 1);
        vm.assertEq(token.allowance(client, address(jm)), 0);
        vm.assertEq(token.balanceOf(address(jm)), REWARD);
    }

    function test_postJobWithPermit_RevertWhen_PermitInvalidAndNoAllowance() public {
        uint32 deadline = defaultDeadline();
        uint256 permitDeadline = block.timestamp + 1 hours;
        // Signed for a different amount: the permit fails, and no allowance exists.
        (uint8 v, bytes32 r, bytes32 s) = signPermit(REWARD - 1, permitDeadline);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(jm), 0, REWARD)
        );
        vm.prank(client);
        jm.postJobWithPermit(SPEC, SPEC_URI, CAPS, REWARD, deadline, 3, permitDeadline, v, r, s);
        vm.assertEq(jm.jobCount(), 0);
        vm.assertEq(token.nonces(client), 0);
    }

    function test_postJobWithPermit_RevertWhen_PermitExpiredAndNoAllowance() public {
        uint32 deadline = defaultDeadline();
        uint256 permitDeadline = block.timestamp - 1;
        (uint8 v, bytes32 r, bytes32 s) = signPermit(REWARD, permitDeadline);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(jm), 0, REWARD)
        );
        vm.prank(client);
        jm.postJobWithPermit(SPEC, SPEC_URI, CAPS, REWARD, deadline, 3, permitDeadline, v, r, s);
    }

    function test_postJobWithPermit_RevertWhen_ZeroReward() public {
        uint32 deadline = defaultDeadline();
        uint256 permitDeadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = signPermit(0, permitDeadline);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.ZeroReward.selector));
        vm.prank(client);
        jm.postJobWithPermit(SPEC, SPEC_URI, CAPS, 0, deadline, 3, permitDeadline, v, r, s);
    }

    function test_postJobWithPermit_RevertWhen_DeadlineNotInFuture() public {
        uint32 deadline = uint32(block.timestamp);
        uint256 permitDeadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = signPermit(REWARD, permitDeadline);
        vm.expectRevert(
            abi.encodeWithSelector(IJobManager.DeadlineNotInFuture.selector, uint256(deadline), block.timestamp)
        );
        vm.prank(client);
        jm.postJobWithPermit(SPEC, SPEC_URI, CAPS, REWARD, deadline, 3, permitDeadline, v, r, s);
    }

    function test_postJobWithPermit_RevertWhen_MaxAttemptsZero() public {
        uint32 deadline = defaultDeadline();
        uint256 permitDeadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = signPermit(REWARD, permitDeadline);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.InvalidMaxAttempts.selector, 0, 16));
        vm.prank(client);
        jm.postJobWithPermit(SPEC, SPEC_URI, CAPS, REWARD, deadline, 0, permitDeadline, v, r, s);
    }

    function test_postJobWithPermit_RevertWhen_MaxAttemptsSeventeen() public {
        uint32 deadline = defaultDeadline();
        uint256 permitDeadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = signPermit(REWARD, permitDeadline);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.InvalidMaxAttempts.selector, 17, 16));
        vm.prank(client);
        jm.postJobWithPermit(SPEC, SPEC_URI, CAPS, REWARD, deadline, 17, permitDeadline, v, r, s);
    }

    function test_postJobWithPermit_RevertWhen_SpecUriTooLong() public {
        uint32 deadline = defaultDeadline();
        uint256 permitDeadline = block.timestamp + 1 hours;
        string memory uri = longString(1025);
        (uint8 v, bytes32 r, bytes32 s) = signPermit(REWARD, permitDeadline);
        vm.expectRevert(abi.encodeWithSelector(ProtocolBounds.UriTooLong.selector, 1025, 1024));
        vm.prank(client);
        jm.postJobWithPermit(SPEC, uri, CAPS, REWARD, deadline, 3, permitDeadline, v, r, s);
    }

    // ============================================================ cancelJob

    function test_cancelJob_RefundsClient() public {
        uint256 id = post(REWARD);
        uint256 before = token.balanceOf(client);
        vm.expectEmit(address(jm));
        emit IJobManager.JobCancelled(id, client, REWARD);
        vm.prank(client);
        jm.cancelJob(id);
        assertStatus(id, IJobManager.JobStatus.Cancelled);
        vm.assertEq(token.balanceOf(client) - before, REWARD);
        vm.assertEq(token.balanceOf(address(jm)), 0);
    }

    function test_cancelJob_WorksAfterDeadline() public {
        uint256 id = post(REWARD);
        vm.warp(jm.jobOf(id).deadline + 1);
        vm.expectEmit(address(jm));
        emit IJobManager.JobCancelled(id, client, REWARD);
        vm.prank(client);
        jm.cancelJob(id);
        assertStatus(id, IJobManager.JobStatus.Cancelled);
    }

    function test_cancelJob_ReopenedJob() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        vm.warp(jm.jobOf(id).due + 1);
        jm.expire(id);
        assertStatus(id, IJobManager.JobStatus.Open);
        vm.expectEmit(address(jm));
        emit IJobManager.JobCancelled(id, client, REWARD);
        vm.prank(client);
        jm.cancelJob(id);
        assertStatus(id, IJobManager.JobStatus.Cancelled);
    }

    function test_cancelJob_RevertWhen_UnknownJob() public {
        vm.expectRevert(unknown(7));
        vm.prank(client);
        jm.cancelJob(7);
    }

    function test_cancelJob_RevertWhen_NotClient() public {
        uint256 id = post(REWARD);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.NotClient.selector, id, stranger));
        vm.prank(stranger);
        jm.cancelJob(id);
        assertStatus(id, IJobManager.JobStatus.Open);
    }

    function test_cancelJob_RevertWhen_Assigned() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Open, IJobManager.JobStatus.Assigned));
        vm.prank(client);
        jm.cancelJob(id);
    }

    function test_cancelJob_RevertWhen_AlreadyCancelled() public {
        uint256 id = post(REWARD);
        vm.prank(client);
        jm.cancelJob(id);
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Open, IJobManager.JobStatus.Cancelled));
        vm.prank(client);
        jm.cancelJob(id);
    }

    // ============================================================ assign

    function test_assign_AssignsEligibleWorker() public {
        uint256 id = post(REWARD);
        uint32 deadline = jm.jobOf(id).deadline;
        uint256 due = block.timestamp + TIMEOUT;
        vm.expectEmit(address(jm));
        emit IJobManager.JobAssigned(id, worker, due, 2);
        vm.prank(coordinator);
        jm.assign(id, worker);
        assertJob(id, client, REWARD, worker, deadline, due, IJobManager.JobStatus.Assigned, 2, CAPS);
        vm.assertEq(token.balanceOf(address(jm)), REWARD, "escrow untouched");
    }

    function test_assign_DueCappedAtDeadline() public {
        uint32 deadline = uint32(block.timestamp + 30 minutes);
        uint256 id = postWith(REWARD, CAPS, deadline, 3);
        vm.expectEmit(address(jm));
        emit IJobManager.JobAssigned(id, worker, deadline, 2);
        vm.prank(coordinator);
        jm.assign(id, worker);
        vm.assertEq(uint256(jm.jobOf(id).due), uint256(deadline));
    }

    function test_assign_RevertWhen_OneSecondBeforeDeadline() public {
        uint32 deadline = defaultDeadline();
        uint256 id = postWith(REWARD, CAPS, deadline, 1);
        vm.warp(uint256(deadline) - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IJobManager.DeadlineTooSoon.selector, id, deadline, block.timestamp + MIN_WINDOW)
        );
        vm.prank(coordinator);
        jm.assign(id, worker);
        assertStatus(id, IJobManager.JobStatus.Open);
    }

    function test_assign_ExactlyMinSubmitWindowBeforeDeadline() public {
        uint32 deadline = defaultDeadline();
        uint256 id = postWith(REWARD, CAPS, deadline, 1);
        vm.warp(uint256(deadline) - MIN_WINDOW);
        vm.expectEmit(address(jm));
        emit IJobManager.JobAssigned(id, worker, deadline, 0);
        vm.prank(coordinator);
        jm.assign(id, worker);
        assertJob(id, client, REWARD, worker, deadline, deadline, IJobManager.JobStatus.Assigned, 0, CAPS);
    }

    function test_assign_RevertWhen_OneSecondInsideMinSubmitWindow() public {
        uint32 deadline = defaultDeadline();
        uint256 id = postWith(REWARD, CAPS, deadline, 1);
        vm.warp(uint256(deadline) - MIN_WINDOW + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IJobManager.DeadlineTooSoon.selector, id, deadline, uint256(deadline) + 1)
        );
        vm.prank(coordinator);
        jm.assign(id, worker);
    }

    function test_assignBatch_SkipsJobOneSecondBeforeDeadline() public {
        uint32 deadline = defaultDeadline();
        uint256 soon = postWith(REWARD, CAPS, deadline, 1);
        uint256 later = postWith(REWARD, CAPS, uint32(uint256(deadline) + 1 days), 1);
        vm.warp(uint256(deadline) - 1);
        uint256[] memory ids = new uint256[](2);
        address[] memory ws = new address[](2);
        (ids[0], ids[1]) = (soon, later);
        (ws[0], ws[1]) = (worker, worker2);
        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentSkipped(
            soon,
            worker,
            abi.encodeWithSelector(IJobManager.DeadlineTooSoon.selector, soon, deadline, block.timestamp + MIN_WINDOW)
        );
        vm.prank(coordinator);
        vm.assertEq(jm.assignBatch(ids, ws), 1);
        assertStatus(soon, IJobManager.JobStatus.Open);
        assertStatus(later, IJobManager.JobStatus.Assigned);
    }

    function test_assign_WorkerWithNoRequiredCapabilities() public {
        uint256 id = postWith(REWARD, 0, defaultDeadline(), 1);
        vm.prank(coordinator);
        jm.assign(id, worker);
        assertStatus(id, IJobManager.JobStatus.Assigned);
    }

    function test_assign_RevertWhen_CallerNotCoordinator() public {
        uint256 id = post(REWARD);
        bytes32 role = jm.COORDINATOR_ROLE();
        vm.expectRevert(unauthorized(stranger, role));
        vm.prank(stranger);
        jm.assign(id, worker);
        assertStatus(id, IJobManager.JobStatus.Open);
    }

    function test_assign_RevertWhen_CallerIsArbiter() public {
        uint256 id = post(REWARD);
        bytes32 role = jm.COORDINATOR_ROLE();
        vm.expectRevert(unauthorized(arbiter, role));
        vm.prank(arbiter);
        jm.assign(id, worker);
    }

    function test_assign_RevertWhen_CallerIsDeployer() public {
        uint256 id = post(REWARD);
        bytes32 role = jm.COORDINATOR_ROLE();
        vm.expectRevert(unauthorized(address(this), role));
        jm.assign(id, worker);
    }

    function test_assign_RevertWhen_UnknownJob() public {
        vm.expectRevert(unknown(1));
        vm.prank(coordinator);
        jm.assign(1, worker);
    }

    function test_assign_RevertWhen_AlreadyAssigned() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Open, IJobManager.JobStatus.Assigned));
        vm.prank(coordinator);
        jm.assign(id, worker2);
        vm.assertEq(jm.jobOf(id).worker, worker);
    }

    function test_assign_RevertWhen_Cancelled() public {
        uint256 id = post(REWARD);
        vm.prank(client);
        jm.cancelJob(id);
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Open, IJobManager.JobStatus.Cancelled));
        vm.prank(coordinator);
        jm.assign(id, worker);
    }

    function test_assign_RevertWhen_DeadlinePassed() public {
        uint256 id = post(REWARD);
        uint256 deadline = jm.jobOf(id).deadline;
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobDeadlinePassed.selector, id, deadline));
        vm.prank(coordinator);
        jm.assign(id, worker);
        assertStatus(id, IJobManager.JobStatus.Open);
    }

    function test_assign_RevertWhen_WorkerNotRegistered() public {
        uint256 id = post(REWARD);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotRegistered.selector, stranger));
        vm.prank(coordinator);
        jm.assign(id, stranger);
        assertStatus(id, IJobManager.JobStatus.Open);
    }

    function test_assign_RevertWhen_WorkerJailed() public {
        uint256 id = post(REWARD);
        vm.prank(arbiter);
        registry.jail(worker);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.JailedWorker.selector, worker));
        vm.prank(coordinator);
        jm.assign(id, worker);
        assertStatus(id, IJobManager.JobStatus.Open);
    }

    function test_assign_RevertWhen_WorkerBelowMinStake() public {
        address poor = makeAddr("poor");
        fund(poor, 1000e18);
        registerAndStake(poor, 50e18);
        uint256 id = post(REWARD);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.BelowMinStake.selector, poor, 50e18, MIN_STAKE));
        vm.prank(coordinator);
        jm.assign(id, poor);
        assertStatus(id, IJobManager.JobStatus.Open);
    }

    function test_assign_RevertWhen_WorkerBelowRaisedMinStake() public {
        uint256 id = post(REWARD);
        vm.prank(address(timelock));
        registry.setMinStake(STAKE + 1);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.BelowMinStake.selector, worker, STAKE, STAKE + 1));
        vm.prank(coordinator);
        jm.assign(id, worker);
        assertStatus(id, IJobManager.JobStatus.Open);
    }

    function test_assign_RevertWhen_WorkerStakeUnbonding() public {
        uint256 id = post(REWARD);
        vm.prank(worker);
        registry.requestUnstake(STAKE - 99e18); // 99 active < 100 minimum; pending does not count
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.BelowMinStake.selector, worker, 99e18, MIN_STAKE));
        vm.prank(coordinator);
        jm.assign(id, worker);
    }

    function test_assign_RevertWhen_WorkerMissingCapabilities() public {
        uint256 id = postWith(REWARD, 0x0004 | CAPS, defaultDeadline(), 3);
        vm.expectRevert(
            abi.encodeWithSelector(IWorkerRegistry.MissingCapabilities.selector, worker, uint16(0x0007), CAPS)
        );
        vm.prank(coordinator);
        jm.assign(id, worker);
        assertStatus(id, IJobManager.JobStatus.Open);
    }

    // ============================================================ assignBatch

    function test_assignBatch_MixOfValidAndInvalidEntries() public {
        uint256 a = post(REWARD);
        uint256 b = post(REWARD);
        uint256 c = post(REWARD);
        bytes32 hashB = jobHash(b);

        uint256[] memory ids = new uint256[](5);
        address[] memory ws = new address[](5);
        (ids[0], ws[0]) = (a, worker); // ok
        (ids[1], ws[1]) = (99, worker); // unknown job
        (ids[2], ws[2]) = (b, stranger); // not registered
        (ids[3], ws[3]) = (a, worker2); // already assigned by entry 0
        (ids[4], ws[4]) = (c, worker2); // ok
        uint256 due = block.timestamp + TIMEOUT;

        vm.expectEmit(address(jm));
        emit IJobManager.JobAssigned(a, worker, due, 2);
        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentSkipped(99, worker, unknown(99));
        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentSkipped(
            b, stranger, abi.encodeWithSelector(IWorkerRegistry.NotRegistered.selector, stranger)
        );
        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentSkipped(
            a, worker2, statusMismatch(a, IJobManager.JobStatus.Open, IJobManager.JobStatus.Assigned)
        );
        vm.expectEmit(address(jm));
        emit IJobManager.JobAssigned(c, worker2, due, 2);
        vm.prank(coordinator);
        uint256 n = jm.assignBatch(ids, ws);

        vm.assertEq(n, 2, "assigned");
        assertJob(a, client, REWARD, worker, block.timestamp + 1 days, due, IJobManager.JobStatus.Assigned, 2, CAPS);
        assertJob(c, client, REWARD, worker2, block.timestamp + 1 days, due, IJobManager.JobStatus.Assigned, 2, CAPS);
        vm.assertEq(jobHash(b), hashB);
        vm.assertEq(uint256(jm.jobOf(99).status), 0, "unknown stays unknown");
        vm.assertEq(jm.jobCount(), 3);
    }

    function test_assignBatch_SkipsEveryRegistryReasonAndDeadline() public {
        address poor = makeAddr("poor");
        fund(poor, 1000e18);
        registerAndStake(poor, 50e18);
        vm.prank(arbiter);
        registry.jail(worker2);
        uint32 soon = uint32(block.timestamp + 10);
        uint256 j1 = post(REWARD);
        uint256 j2 = post(REWARD);
        uint256 j3 = postWith(REWARD, 0x0100, defaultDeadline(), 3);
        uint256 j4 = postWith(REWARD, CAPS, soon, 3);
        vm.warp(soon);
        bytes32[4] memory before = [jobHash(j1), jobHash(j2), jobHash(j3), jobHash(j4)];

        uint256[] memory ids = new uint256[](4);
        address[] memory ws = new address[](4);
        (ids[0], ws[0]) = (j1, worker2);
        (ids[1], ws[1]) = (j2, poor);
        (ids[2], ws[2]) = (j3, worker);
        (ids[3], ws[3]) = (j4, worker);

        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentSkipped(
            j1, worker2, abi.encodeWithSelector(IWorkerRegistry.JailedWorker.selector, worker2)
        );
        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentSkipped(
            j2, poor, abi.encodeWithSelector(IWorkerRegistry.BelowMinStake.selector, poor, 50e18, MIN_STAKE)
        );
        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentSkipped(
            j3,
            worker,
            abi.encodeWithSelector(IWorkerRegistry.MissingCapabilities.selector, worker, uint16(0x0100), CAPS)
        );
        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentSkipped(
            j4, worker, abi.encodeWithSelector(IJobManager.JobDeadlinePassed.selector, j4, uint256(soon))
        );
        vm.prank(coordinator);
        uint256 n = jm.assignBatch(ids, ws);

        vm.assertEq(n, 0);
        vm.assertEq(jobHash(j1), before[0]);
        vm.assertEq(jobHash(j2), before[1]);
        vm.assertEq(jobHash(j3), before[2]);
        vm.assertEq(jobHash(j4), before[3]);
    }

    function test_assignBatch_SkipsWorkerBelowRaisedMinStake() public {
        uint256 id = post(REWARD);
        bytes32 h = jobHash(id);
        vm.prank(address(timelock));
        registry.setMinStake(2 * STAKE);
        uint256[] memory ids = new uint256[](1);
        address[] memory ws = new address[](1);
        (ids[0], ws[0]) = (id, worker);
        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentSkipped(
            id, worker, abi.encodeWithSelector(IWorkerRegistry.BelowMinStake.selector, worker, STAKE, 2 * STAKE)
        );
        vm.prank(coordinator);
        vm.assertEq(jm.assignBatch(ids, ws), 0);
        vm.assertEq(jobHash(id), h);
    }

    function test_assignBatch_EmptyReturnsZero() public {
        uint256[] memory ids = new uint256[](0);
        address[] memory ws = new address[](0);
        vm.prank(coordinator);
        vm.assertEq(jm.assignBatch(ids, ws), 0);
    }

    function test_assignBatch_RevertWhen_LengthMismatch() public {
        uint256 id = post(REWARD);
        uint256[] memory ids = new uint256[](2);
        address[] memory ws = new address[](1);
        (ids[0], ids[1], ws[0]) = (id, id, worker);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.LengthMismatch.selector, 2, 1));
        vm.prank(coordinator);
        jm.assignBatch(ids, ws);
        assertStatus(id, IJobManager.JobStatus.Open);
    }

    function test_assignBatch_RevertWhen_CallerNotCoordinator() public {
        uint256 id = post(REWARD);
        uint256[] memory ids = new uint256[](1);
        address[] memory ws = new address[](1);
        (ids[0], ws[0]) = (id, worker);
        bytes32 role = jm.COORDINATOR_ROLE();
        vm.expectRevert(unauthorized(stranger, role));
        vm.prank(stranger);
        jm.assignBatch(ids, ws);
        assertStatus(id, IJobManager.JobStatus.Open);
    }

    // ============================================================ submitResult

    function test_submitResult_RecordsCommitmentAndOpensWindow() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        vm.warp(block.timestamp + 10 minutes);
        uint256 endsAt = block.timestamp + WINDOW;
        vm.expectEmit(address(jm));
        emit IJobManager.ResultSubmitted(id, worker, 2, COMMITMENT, 4096, endsAt, LOCATOR);
        vm.prank(worker);
        jm.submitResult(id, 2, COMMITMENT, 4096, LOCATOR);
        IJobManager.Job memory j = jm.jobOf(id);
        vm.assertEq(uint256(j.status), st(IJobManager.JobStatus.Submitted));
        vm.assertEq(uint256(j.due), endsAt);
        vm.assertEq(j.worker, worker);
        vm.assertEq(uint256(j.attemptsLeft), 2);
    }

    function test_submitResult_AllowedExactlyAtDue() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        uint256 due = jm.jobOf(id).due;
        vm.warp(due);
        vm.expectEmit(address(jm));
        emit IJobManager.ResultSubmitted(id, worker, 1, COMMITMENT, 1024, due + WINDOW, LOCATOR);
        submit(id, worker);
        assertStatus(id, IJobManager.JobStatus.Submitted);
    }

    function test_submitResult_AcceptsLocatorOf1024Bytes() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        string memory loc = longString(1024);
        vm.expectEmit(address(jm));
        emit IJobManager.ResultSubmitted(id, worker, 1, COMMITMENT, 1, block.timestamp + WINDOW, loc);
        vm.prank(worker);
        jm.submitResult(id, 1, COMMITMENT, 1, loc);
        assertStatus(id, IJobManager.JobStatus.Submitted);
    }

    function test_submitResult_RevertWhen_Overdue() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        uint256 due = jm.jobOf(id).due;
        vm.warp(due + 1);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.SubmissionOverdue.selector, id, due));
        submit(id, worker);
        assertStatus(id, IJobManager.JobStatus.Assigned);
    }

    function test_submitResult_RevertWhen_NotAssignedWorker() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.NotAssignedWorker.selector, id, worker2));
        submit(id, worker2);
        assertStatus(id, IJobManager.JobStatus.Assigned);
    }

    function test_submitResult_RevertWhen_UnknownJob() public {
        vm.expectRevert(unknown(5));
        submit(5, worker);
    }

    function test_submitResult_RevertWhen_Open() public {
        uint256 id = post(REWARD);
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Assigned, IJobManager.JobStatus.Open));
        submit(id, worker);
    }

    function test_submitResult_RevertWhen_AlreadySubmitted() public {
        uint256 id = submitted();
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Assigned, IJobManager.JobStatus.Submitted));
        submit(id, worker);
    }

    function test_submitResult_RevertWhen_LocatorTooLong() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        string memory loc = longString(1025);
        vm.expectRevert(abi.encodeWithSelector(ProtocolBounds.UriTooLong.selector, 1025, 1024));
        vm.prank(worker);
        jm.submitResult(id, 1, COMMITMENT, 1, loc);
        assertStatus(id, IJobManager.JobStatus.Assigned);
    }

    // ------------------------------------------------------------ DA kinds and EIP-4844 blobs

    /// @dev The versioned hash of a blob (0x01 ‖ sha256(KZG commitment)[1:]); any such value serves here.
    bytes32 internal constant BLOB = 0x01c0ffee00000000000000000000000000000000000000000000000000000001;

    function carry(bytes32 h) internal {
        bytes32[] memory hashes = new bytes32[](1);
        hashes[0] = h;
        vm.blobhashes(hashes);
    }

    function test_submitResult_BlobBoundByTheChain() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        carry(BLOB);
        vm.expectEmit(address(jm));
        emit IJobManager.ResultSubmitted(id, worker, 3, BLOB, 131_072, block.timestamp + WINDOW, "");
        vm.prank(worker);
        jm.submitResult(id, 3, BLOB, 131_072, "");
        assertStatus(id, IJobManager.JobStatus.Submitted);
    }

    /// @dev Attack: claim a blob the transaction does not carry (none at all, or another one).
    function test_submitResult_RevertWhen_BlobNotCarried() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.BlobNotCarried.selector, BLOB, bytes32(0)));
        vm.prank(worker);
        jm.submitResult(id, 3, BLOB, 1, "");
        bytes32 other = bytes32(uint256(BLOB) + 1);
        carry(other);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.BlobNotCarried.selector, BLOB, other));
        vm.prank(worker);
        jm.submitResult(id, 3, BLOB, 1, "");
        assertStatus(id, IJobManager.JobStatus.Assigned);
    }

    /// @dev Attack: a zero commitment matches blobhash(0) of a transaction without a blob.
    function test_submitResult_RevertWhen_ZeroBlobCommitment() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.BlobNotCarried.selector, bytes32(0), bytes32(0)));
        vm.prank(worker);
        jm.submitResult(id, 3, bytes32(0), 1, "");
        assertStatus(id, IJobManager.JobStatus.Assigned);
    }

    function test_submitResult_RevertWhen_UnknownDaKind() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        for (uint8 kind = 0; kind < 6; kind += 4) {
            vm.expectRevert(abi.encodeWithSelector(IJobManager.UnknownDaKind.selector, kind));
            vm.prank(worker);
            jm.submitResult(id, kind, COMMITMENT, 1, LOCATOR);
        }
        assertStatus(id, IJobManager.JobStatus.Assigned);
    }

    // ============================================================ acceptResult

    function test_acceptResult_PaysWorkerMinusFee() public {
        uint256 id = submitted();
        uint256 f = fee(REWARD);
        uint256 workerBefore = token.balanceOf(worker);
        vm.expectEmit(address(jm));
        emit IJobManager.JobPaid(id, worker, REWARD - f, f);
        vm.prank(client);
        jm.acceptResult(id);
        assertStatus(id, IJobManager.JobStatus.Paid);
        vm.assertEq(token.balanceOf(worker) - workerBefore, REWARD - f, "worker paid");
        vm.assertEq(uint256(jm.parameters().accruedFees), f, "fee accrued");
        vm.assertEq(token.balanceOf(address(jm)), f, "only fee left");
        vm.assertEq(stakeOf(worker), STAKE, "stake untouched");
    }

    function test_acceptResult_AfterWindowClosed() public {
        uint256 id = submitted();
        vm.warp(jm.jobOf(id).due + 1 days);
        vm.prank(client);
        jm.acceptResult(id);
        assertStatus(id, IJobManager.JobStatus.Paid);
    }

    function test_acceptResult_UsesFeeAtPaymentTime() public {
        uint256 id = submitted();
        vm.prank(address(timelock));
        jm.setProtocolFee(2000);
        uint256 f = uint256(REWARD) * 2000 / BPS;
        vm.expectEmit(address(jm));
        emit IJobManager.JobPaid(id, worker, REWARD - f, f);
        vm.prank(client);
        jm.acceptResult(id);
        vm.assertEq(uint256(jm.parameters().accruedFees), f);
    }

    function test_acceptResult_ZeroFee() public {
        vm.prank(address(timelock));
        jm.setProtocolFee(0);
        uint256 id = submitted();
        uint256 before = token.balanceOf(worker);
        vm.expectEmit(address(jm));
        emit IJobManager.JobPaid(id, worker, REWARD, 0);
        vm.prank(client);
        jm.acceptResult(id);
        vm.assertEq(token.balanceOf(worker) - before, REWARD);
        vm.assertEq(uint256(jm.parameters().accruedFees), 0);
    }

    function test_acceptResult_RevertWhen_NotClient() public {
        uint256 id = submitted();
        vm.expectRevert(abi.encodeWithSelector(IJobManager.NotClient.selector, id, worker));
        vm.prank(worker);
        jm.acceptResult(id);
        assertStatus(id, IJobManager.JobStatus.Submitted);
    }

    function test_acceptResult_RevertWhen_UnknownJob() public {
        vm.expectRevert(unknown(3));
        vm.prank(client);
        jm.acceptResult(3);
    }

    function test_acceptResult_RevertWhen_Assigned() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Submitted, IJobManager.JobStatus.Assigned));
        vm.prank(client);
        jm.acceptResult(id);
    }

    function test_acceptResult_RevertWhen_AlreadyPaid() public {
        uint256 id = paidJob();
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Submitted, IJobManager.JobStatus.Paid));
        vm.prank(client);
        jm.acceptResult(id);
    }

    function test_acceptResult_RevertWhen_Disputed() public {
        uint256 id = disputed();
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Submitted, IJobManager.JobStatus.Disputed));
        vm.prank(client);
        jm.acceptResult(id);
    }

    // ============================================================ disputeResult

    function test_disputeResult_OpensDispute() public {
        uint256 id = submitted();
        vm.warp(block.timestamp + 5 minutes);
        uint256 resolveBy = block.timestamp + PERIOD;
        approveBond(id);
        uint256 clientBefore = token.balanceOf(client);
        vm.expectEmit(address(jm));
        emit IJobManager.JobDisputed(id, client, resolveBy, bondOf(REWARD));
        vm.prank(client);
        jm.disputeResult(id);
        vm.assertEq(clientBefore - token.balanceOf(client), bondOf(REWARD), "bond taken");
        vm.assertEq(jm.disputeBondOf(id), bondOf(REWARD), "bond stored");
        IJobManager.Job memory j = jm.jobOf(id);
        vm.assertEq(uint256(j.status), st(IJobManager.JobStatus.Disputed));
        vm.assertEq(uint256(j.due), resolveBy);
        vm.assertEq(token.balanceOf(address(jm)), REWARD + bondOf(REWARD), "escrow and bond held");
    }

    function test_disputeResult_AllowedOneSecondBeforeWindowEnds() public {
        uint256 id = submitted();
        uint256 endsAt = jm.jobOf(id).due;
        vm.warp(endsAt - 1);
        approveBond(id);
        vm.expectEmit(address(jm));
        emit IJobManager.JobDisputed(id, client, endsAt - 1 + PERIOD, bondOf(REWARD));
        vm.prank(client);
        jm.disputeResult(id);
        assertStatus(id, IJobManager.JobStatus.Disputed);
    }

    function test_disputeResult_RevertWhen_WindowClosed() public {
        uint256 id = submitted();
        uint256 endsAt = jm.jobOf(id).due;
        vm.warp(endsAt);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.ChallengeWindowClosed.selector, id, endsAt));
        vm.prank(client);
        jm.disputeResult(id);
        assertStatus(id, IJobManager.JobStatus.Submitted);
    }

    function test_disputeResult_RevertWhen_NotClient() public {
        uint256 id = submitted();
        vm.expectRevert(abi.encodeWithSelector(IJobManager.NotClient.selector, id, stranger));
        vm.prank(stranger);
        jm.disputeResult(id);
    }

    function test_disputeResult_RevertWhen_UnknownJob() public {
        vm.expectRevert(unknown(2));
        vm.prank(client);
        jm.disputeResult(2);
    }

    function test_disputeResult_RevertWhen_Assigned() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Submitted, IJobManager.JobStatus.Assigned));
        vm.prank(client);
        jm.disputeResult(id);
    }

    function test_disputeResult_RevertWhen_AlreadyDisputed() public {
        uint256 id = disputed();
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Submitted, IJobManager.JobStatus.Disputed));
        vm.prank(client);
        jm.disputeResult(id);
    }

    // ============================================================ resolveDispute

    function test_resolveDispute_WorkerAtFault_SlashesJailsRefunds() public {
        uint256 id = disputed();
        uint256 slash = slashOf(STAKE);
        uint256 clientBefore = token.balanceOf(client);
        uint256 registryBefore = token.balanceOf(address(registry));

        uint256 comp = compensation(slash, REWARD);
        uint256 bond = bondOf(REWARD);

        vm.expectEmit(address(jm));
        emit IJobManager.DisputeResolved(id, arbiter, true);
        vm.expectEmit(address(jm));
        emit IJobManager.JobRefunded(id, client, REWARD);
        vm.expectEmit(address(jm));
        emit IJobManager.DisputeBondReleased(id, client, bond);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerSlashed(worker, id, address(jm), slash, slash, 0);
        vm.expectEmit(address(jm));
        emit IJobManager.SlashDistributed(id, worker, client, slash, comp, slash - comp);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerJailed(worker, address(jm));
        vm.prank(arbiter);
        jm.resolveDispute(id, true);

        assertStatus(id, IJobManager.JobStatus.Refunded);
        vm.assertEq(comp, REWARD * COMPENSATION_BPS / BPS, "compensation capped");
        vm.assertEq(token.balanceOf(client) - clientBefore, REWARD + bond + comp, "refund + bond + compensation");
        vm.assertEq(stakeOf(worker), STAKE - slash, "stake slashed");
        vm.assertEq(registryBefore - token.balanceOf(address(registry)), slash);
        vm.assertTrue(registry.workerOf(worker).jailed, "jailed");
        vm.assertEq(jm.disputeBondOf(id), 0, "bond released");
        vm.assertEq(uint256(jm.parameters().accruedFees), slash - comp, "rest of the slash to the treasury");
        vm.assertEq(token.balanceOf(address(jm)), slash - comp);
    }

    function test_resolveDispute_WorkerAtFault_SlashReachesUnbondingStake() public {
        uint256 id = disputed();
        vm.prank(worker);
        registry.requestUnstake(STAKE - 50e18); // 50 active, 950 pending
        uint256 slash = slashOf(STAKE); // 100: 50 from stake, 50 from pending
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerSlashed(worker, id, address(jm), slash, 50e18, 50e18);
        vm.prank(arbiter);
        jm.resolveDispute(id, true);
        IWorkerRegistry.Worker memory w = registry.workerOf(worker);
        vm.assertEq(uint256(w.stake), 0);
        vm.assertEq(uint256(w.pending), STAKE - 50e18 - 50e18);
        vm.assertTrue(w.jailed);
    }

    function test_resolveDispute_WorkerAtFault_AlreadyJailed() public {
        uint256 id = disputed();
        vm.prank(arbiter);
        registry.jail(worker);
        uint256 before = token.balanceOf(client);
        vm.expectEmit(address(jm));
        emit IJobManager.JobRefunded(id, client, REWARD);
        vm.prank(arbiter);
        jm.resolveDispute(id, true);
        assertStatus(id, IJobManager.JobStatus.Refunded);
        vm.assertTrue(registry.workerOf(worker).jailed);
        vm.assertEq(token.balanceOf(client) - before, REWARD + bondOf(REWARD) + compensation(slashOf(STAKE), REWARD));
    }

    function test_resolveDispute_WorkerAtFault_UsesCurrentSlashShare() public {
        uint256 id = disputed();
        vm.prank(address(timelock));
        jm.setSlashShare(5000);
        uint256 before = token.balanceOf(client);
        vm.prank(arbiter);
        jm.resolveDispute(id, true);
        vm.assertEq(token.balanceOf(client) - before, REWARD + bondOf(REWARD) + REWARD * COMPENSATION_BPS / BPS);
        vm.assertEq(stakeOf(worker), STAKE / 2);
    }

    function test_resolveDispute_WorkerAtFault_SlashCappedAtRewardMultiple() public {
        // A tiny reward: the share of the stake (100 tokens) is far above 2x the reward.
        uint96 reward = 1e18;
        uint256 id = post(reward);
        assignTo(id, worker);
        submit(id, worker);
        approveBond(id);
        vm.prank(client);
        jm.disputeResult(id);
        uint256 before = token.balanceOf(client);
        vm.prank(arbiter);
        jm.resolveDispute(id, true);
        uint256 cap = uint256(reward) * MULTIPLE_BPS / BPS;
        vm.assertEq(stakeOf(worker), STAKE - cap, "slash capped at 2x the reward");
        vm.assertEq(
            token.balanceOf(client) - before, reward + bondOf(reward) + uint256(reward) * COMPENSATION_BPS / BPS
        );
        vm.assertEq(uint256(jm.parameters().accruedFees), cap - uint256(reward) * COMPENSATION_BPS / BPS);
    }

    function test_resolveDispute_WorkerNotAtFault_PaysMinusFee() public {
        uint256 id = disputed();
        uint256 f = fee(REWARD);
        uint256 workerBefore = token.balanceOf(worker);
        uint256 bond = bondOf(REWARD);
        vm.expectEmit(address(jm));
        emit IJobManager.DisputeResolved(id, arbiter, false);
        vm.expectEmit(address(jm));
        emit IJobManager.JobPaid(id, worker, REWARD - f, f);
        vm.expectEmit(address(jm));
        emit IJobManager.DisputeBondReleased(id, worker, bond);
        vm.prank(arbiter);
        jm.resolveDispute(id, false);
        assertStatus(id, IJobManager.JobStatus.Paid);
        vm.assertEq(token.balanceOf(worker) - workerBefore, REWARD - f + bond, "reward and the bond");
        vm.assertEq(uint256(jm.parameters().accruedFees), f);
        vm.assertEq(stakeOf(worker), STAKE, "not slashed");
        vm.assertFalse(registry.workerOf(worker).jailed, "not jailed");
        vm.assertEq(jm.disputeBondOf(id), 0);
        vm.assertEq(token.balanceOf(address(jm)), f);
    }

    function test_resolveDispute_RevertWhen_CallerNotArbiter() public {
        uint256 id = disputed();
        bytes32 role = jm.ARBITER_ROLE();
        vm.expectRevert(unauthorized(stranger, role));
        vm.prank(stranger);
        jm.resolveDispute(id, true);
        assertStatus(id, IJobManager.JobStatus.Disputed);
    }

    function test_resolveDispute_RevertWhen_CallerIsCoordinator() public {
        uint256 id = disputed();
        bytes32 role = jm.ARBITER_ROLE();
        vm.expectRevert(unauthorized(coordinator, role));
        vm.prank(coordinator);
        jm.resolveDispute(id, false);
    }

    function test_resolveDispute_RevertWhen_CallerIsClient() public {
        uint256 id = disputed();
        bytes32 role = jm.ARBITER_ROLE();
        vm.expectRevert(unauthorized(client, role));
        vm.prank(client);
        jm.resolveDispute(id, true);
    }

    function test_resolveDispute_RevertWhen_UnknownJob() public {
        vm.expectRevert(unknown(4));
        vm.prank(arbiter);
        jm.resolveDispute(4, true);
    }

    function test_resolveDispute_RevertWhen_NotDisputed() public {
        uint256 id = submitted();
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Disputed, IJobManager.JobStatus.Submitted));
        vm.prank(arbiter);
        jm.resolveDispute(id, true);
    }

    function test_resolveDispute_AtEndOfDisputePeriod_StillRules() public {
        uint256 id = disputed();
        vm.warp(jm.jobOf(id).due);
        vm.prank(arbiter);
        jm.resolveDispute(id, false);
        vm.assertEq(uint256(jm.jobOf(id).status), uint256(IJobManager.JobStatus.Paid));
    }

    function test_resolveDispute_RevertWhen_DisputePeriodOver() public {
        uint256 id = disputed();
        uint256 resolveBy = jm.jobOf(id).due;
        vm.warp(resolveBy + 1);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.DisputePeriodOver.selector, id, resolveBy));
        vm.prank(arbiter);
        jm.resolveDispute(id, true);
        // The permissionless exit settles it for the worker.
        jm.expire(id);
        vm.assertEq(uint256(jm.jobOf(id).status), uint256(IJobManager.JobStatus.Paid));
    }

    function test_resolveDispute_RevertWhen_AlreadyResolved() public {
        uint256 id = disputed();
        vm.prank(arbiter);
        jm.resolveDispute(id, true);
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Disputed, IJobManager.JobStatus.Refunded));
        vm.prank(arbiter);
        jm.resolveDispute(id, false);
    }

    // ============================================================ finalize

    function test_finalize_PaysAtWindowEnd() public {
        uint256 id = submitted();
        uint256 endsAt = jm.jobOf(id).due;
        vm.warp(endsAt);
        uint256 f = fee(REWARD);
        uint256 before = token.balanceOf(worker);
        vm.expectEmit(address(jm));
        emit IJobManager.JobPaid(id, worker, REWARD - f, f);
        vm.prank(stranger);
        jm.finalize(id);
        assertStatus(id, IJobManager.JobStatus.Paid);
        vm.assertEq(token.balanceOf(worker) - before, REWARD - f);
        vm.assertEq(uint256(jm.parameters().accruedFees), f);
        vm.assertEq(token.balanceOf(address(jm)), f);
    }

    function test_finalize_RevertWhen_WindowOpen() public {
        uint256 id = submitted();
        uint256 endsAt = jm.jobOf(id).due;
        vm.warp(endsAt - 1);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.ChallengeWindowOpen.selector, id, endsAt));
        jm.finalize(id);
        assertStatus(id, IJobManager.JobStatus.Submitted);
    }

    function test_finalize_RevertWhen_UnknownJob() public {
        vm.expectRevert(unknown(9));
        jm.finalize(9);
    }

    function test_finalize_RevertWhen_Disputed() public {
        uint256 id = disputed();
        vm.warp(block.timestamp + 2 days);
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Submitted, IJobManager.JobStatus.Disputed));
        jm.finalize(id);
    }

    function test_finalize_RevertWhen_AlreadyPaid() public {
        uint256 id = submitted();
        vm.warp(jm.jobOf(id).due);
        jm.finalize(id);
        vm.expectRevert(statusMismatch(id, IJobManager.JobStatus.Submitted, IJobManager.JobStatus.Paid));
        jm.finalize(id);
    }

    // ============================================================ expire

    function test_expire_AssignedPastDue_ReopensAndSlashesToClient() public {
        uint256 id = post(REWARD);
        uint32 deadline = jm.jobOf(id).deadline;
        assignTo(id, worker);
        uint256 due = jm.jobOf(id).due;
        vm.warp(due + 1);
        uint256 slash = slashOf(STAKE);
        uint256 comp = compensation(slash, REWARD);
        uint256 clientBefore = token.balanceOf(client);

        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerSlashed(worker, id, address(jm), slash, slash, 0);
        vm.expectEmit(address(jm));
        emit IJobManager.SlashDistributed(id, worker, client, slash, comp, slash - comp);
        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentExpired(id, worker, slash, true);
        vm.prank(stranger);
        jm.expire(id);

        assertJob(id, client, REWARD, address(0), deadline, 0, IJobManager.JobStatus.Open, 2, CAPS);
        vm.assertEq(token.balanceOf(client) - clientBefore, comp, "bounded compensation to client");
        vm.assertEq(stakeOf(worker), STAKE - slash);
        vm.assertEq(uint256(jm.parameters().accruedFees), slash - comp, "rest to the treasury");
        vm.assertEq(token.balanceOf(address(jm)), REWARD + slash - comp, "escrow still held");
        vm.assertFalse(registry.workerOf(worker).jailed, "expiry does not jail");

        // Reopened: the next assignment uses the next attempt.
        vm.expectEmit(address(jm));
        emit IJobManager.JobAssigned(id, worker2, block.timestamp + TIMEOUT, 1);
        assignTo(id, worker2);
    }

    function test_expire_AssignedLastAttempt_RefundsAndSlashes() public {
        uint256 id = postWith(REWARD, CAPS, defaultDeadline(), 1);
        assignTo(id, worker);
        vm.warp(jm.jobOf(id).due + 1);
        uint256 slash = slashOf(STAKE);
        uint256 comp = compensation(slash, REWARD);
        uint256 clientBefore = token.balanceOf(client);

        vm.expectEmit(address(jm));
        emit IJobManager.JobRefunded(id, client, REWARD);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerSlashed(worker, id, address(jm), slash, slash, 0);
        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentExpired(id, worker, slash, false);
        jm.expire(id);

        IJobManager.Job memory j = jm.jobOf(id);
        vm.assertEq(uint256(j.status), st(IJobManager.JobStatus.Refunded));
        vm.assertEq(uint256(j.attemptsLeft), 0);
        vm.assertEq(token.balanceOf(client) - clientBefore, REWARD + comp);
        vm.assertEq(stakeOf(worker), STAKE - slash);
        vm.assertEq(token.balanceOf(address(jm)), slash - comp, "only the accrued fees stay");
    }

    function test_expire_AssignedDueCappedAtDeadline_Refunds() public {
        uint32 deadline = uint32(block.timestamp + 30 minutes);
        uint256 id = postWith(REWARD, CAPS, deadline, 3);
        assignTo(id, worker);
        vm.assertEq(uint256(jm.jobOf(id).due), uint256(deadline));
        vm.warp(uint256(deadline) + 1);
        uint256 slash = slashOf(STAKE);
        uint256 clientBefore = token.balanceOf(client);

        vm.expectEmit(address(jm));
        emit IJobManager.JobRefunded(id, client, REWARD);
        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentExpired(id, worker, slash, false);
        jm.expire(id);

        assertStatus(id, IJobManager.JobStatus.Refunded);
        vm.assertEq(uint256(jm.jobOf(id).attemptsLeft), 2, "attempts left unused");
        vm.assertEq(token.balanceOf(client) - clientBefore, REWARD + compensation(slash, REWARD));
        vm.assertEq(token.balanceOf(address(jm)), slash - compensation(slash, REWARD));
    }

    function test_expire_AssignedExpiredAfterDeadline_Refunds() public {
        uint256 id = post(REWARD); // deadline in 1 day, due in 1 hour
        assignTo(id, worker);
        vm.warp(jm.jobOf(id).deadline);
        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentExpired(id, worker, slashOf(STAKE), false);
        jm.expire(id);
        assertStatus(id, IJobManager.JobStatus.Refunded);
    }

    function test_expire_AssignedWithNoSlashableStake_SlashesNothing() public {
        uint256 id = postWith(REWARD, CAPS, uint32(block.timestamp + 30 days), 2);
        assignTo(id, worker);
        vm.startPrank(worker);
        registry.requestUnstake(STAKE);
        vm.warp(block.timestamp + registry.unbondingPeriod());
        registry.withdraw();
        vm.stopPrank();
        vm.assertEq(registry.slashableOf(worker), 0);
        vm.expectEmit(address(jm));
        emit IJobManager.AssignmentExpired(id, worker, 0, true);
        jm.expire(id);
        assertStatus(id, IJobManager.JobStatus.Open);
    }

    function test_expire_OpenAtDeadline_Refunds() public {
        uint256 id = post(REWARD);
        vm.warp(jm.jobOf(id).deadline);
        uint256 before = token.balanceOf(client);
        vm.expectEmit(address(jm));
        emit IJobManager.JobRefunded(id, client, REWARD);
        vm.prank(stranger);
        jm.expire(id);
        assertStatus(id, IJobManager.JobStatus.Refunded);
        vm.assertEq(token.balanceOf(client) - before, REWARD);
        vm.assertEq(token.balanceOf(address(jm)), 0);
    }

    function test_expire_DisputedPastPeriod_PaysWorkerAndReturnsBond() public {
        uint256 id = disputed();
        uint256 resolveBy = jm.jobOf(id).due;
        vm.warp(resolveBy + 1);
        uint256 clientBefore = token.balanceOf(client);
        uint256 workerBefore = token.balanceOf(worker);
        uint256 f = fee(REWARD);
        uint256 bond = bondOf(REWARD);
        vm.recordLogs();
        vm.expectEmit(address(jm));
        emit IJobManager.JobPaid(id, worker, REWARD - f, f);
        vm.expectEmit(address(jm));
        emit IJobManager.DisputeBondReleased(id, client, bond);
        vm.prank(stranger);
        jm.expire(id);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            vm.assertTrue(logs[i].emitter != address(registry), "registry untouched");
            vm.assertTrue(logs[i].topics[0] != IJobManager.AssignmentExpired.selector, "no expiry event");
        }
        assertStatus(id, IJobManager.JobStatus.Paid);
        vm.assertEq(token.balanceOf(client) - clientBefore, bond, "the client gets only its bond back");
        vm.assertEq(token.balanceOf(worker) - workerBefore, REWARD - f, "the result stands");
        vm.assertEq(stakeOf(worker), STAKE, "no slash");
        vm.assertFalse(registry.workerOf(worker).jailed, "no jail");
        vm.assertEq(jm.disputeBondOf(id), 0);
        vm.assertEq(token.balanceOf(address(jm)), f);
    }

    function test_expire_RevertWhen_UnknownJob() public {
        vm.expectRevert(unknown(1));
        jm.expire(1);
    }

    function test_expire_RevertWhen_OpenBeforeDeadline() public {
        uint256 id = post(REWARD);
        uint256 deadline = jm.jobOf(id).deadline;
        vm.warp(deadline - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IJobManager.NotExpired.selector, id, IJobManager.JobStatus.Open, deadline)
        );
        jm.expire(id);
    }

    function test_expire_RevertWhen_AssignedAtDue() public {
        uint256 id = post(REWARD);
        assignTo(id, worker);
        uint256 due = jm.jobOf(id).due;
        vm.warp(due);
        vm.expectRevert(
            abi.encodeWithSelector(IJobManager.NotExpired.selector, id, IJobManager.JobStatus.Assigned, due + 1)
        );
        jm.expire(id);
        assertStatus(id, IJobManager.JobStatus.Assigned);
    }

    function test_expire_RevertWhen_DisputedAtPeriodEnd() public {
        uint256 id = disputed();
        uint256 resolveBy = jm.jobOf(id).due;
        vm.warp(resolveBy);
        vm.expectRevert(
            abi.encodeWithSelector(IJobManager.NotExpired.selector, id, IJobManager.JobStatus.Disputed, resolveBy + 1)
        );
        jm.expire(id);
    }

    function test_expire_RevertWhen_Submitted() public {
        uint256 id = submitted();
        vm.warp(block.timestamp + 10 days);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.NotExpired.selector, id, IJobManager.JobStatus.Submitted, 0));
        jm.expire(id);
    }

    function test_expire_RevertWhen_Paid() public {
        uint256 id = paidJob();
        vm.warp(block.timestamp + 10 days);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.NotExpired.selector, id, IJobManager.JobStatus.Paid, 0));
        jm.expire(id);
    }

    function test_expire_RevertWhen_Cancelled() public {
        uint256 id = post(REWARD);
        vm.prank(client);
        jm.cancelJob(id);
        vm.warp(block.timestamp + 10 days);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.NotExpired.selector, id, IJobManager.JobStatus.Cancelled, 0));
        jm.expire(id);
    }

    function test_expire_RevertWhen_AlreadyRefunded() public {
        uint256 id = post(REWARD);
        vm.warp(jm.jobOf(id).deadline);
        jm.expire(id);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.NotExpired.selector, id, IJobManager.JobStatus.Refunded, 0));
        jm.expire(id);
    }

    // ============================================================ sweepFees

    function test_sweepFees_SendsAccruedFeesToTreasury() public {
        paidJob();
        paidJob();
        uint256 f = 2 * fee(REWARD);
        vm.assertEq(uint256(jm.parameters().accruedFees), f);
        vm.expectEmit(address(jm));
        emit IJobManager.FeesSwept(address(timelock), f);
        vm.prank(stranger);
        jm.sweepFees();
        vm.assertEq(token.balanceOf(address(timelock)), f);
        vm.assertEq(uint256(jm.parameters().accruedFees), 0);
        vm.assertEq(token.balanceOf(address(jm)), 0);
        // The other parameters sharing the slot are untouched.
        vm.assertEq(uint256(jm.parameters().protocolFeeBps), FEE_BPS);
        vm.assertEq(uint256(jm.parameters().disputePeriod), PERIOD);
    }

    function test_sweepFees_LeavesEscrowOfLiveJobs() public {
        paidJob();
        uint256 live = post(REWARD);
        jm.sweepFees();
        vm.assertEq(token.balanceOf(address(jm)), REWARD);
        assertStatus(live, IJobManager.JobStatus.Open);
    }

    function test_sweepFees_RevertWhen_NoFees() public {
        vm.expectRevert(abi.encodeWithSelector(IJobManager.NoFees.selector));
        jm.sweepFees();
    }

    function test_sweepFees_RevertWhen_AlreadySwept() public {
        paidJob();
        jm.sweepFees();
        vm.expectRevert(abi.encodeWithSelector(IJobManager.NoFees.selector));
        jm.sweepFees();
    }

    // ============================================================ setProtocolFee

    function test_setProtocolFee_ByTimelock() public {
        bytes32 key = jm.PROTOCOL_FEE_BPS();
        vm.assertEq(key, bytes32("protocolFeeBps"));
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated(key, FEE_BPS, 500);
        vm.prank(address(timelock));
        jm.setProtocolFee(500);
        vm.assertEq(uint256(jm.parameters().protocolFeeBps), 500);
    }

    function test_setProtocolFee_Bounds() public {
        vm.startPrank(address(timelock));
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated("protocolFeeBps", FEE_BPS, 0);
        jm.setProtocolFee(0);
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated("protocolFeeBps", 0, 2000);
        jm.setProtocolFee(2000);
        vm.stopPrank();
        vm.assertEq(uint256(jm.parameters().protocolFeeBps), 2000);
    }

    function test_setProtocolFee_RevertWhen_AboveMax() public {
        vm.expectRevert(outOfBounds("protocolFeeBps", 2001, 0, 2000));
        vm.prank(address(timelock));
        jm.setProtocolFee(2001);
        vm.assertEq(uint256(jm.parameters().protocolFeeBps), FEE_BPS);
    }

    function test_setProtocolFee_RevertWhen_CallerIsStranger() public {
        vm.expectRevert(unauthorized(stranger, ADMIN_ROLE));
        vm.prank(stranger);
        jm.setProtocolFee(500);
    }

    function test_setProtocolFee_RevertWhen_CallerIsDeployer() public {
        vm.expectRevert(unauthorized(address(this), ADMIN_ROLE));
        jm.setProtocolFee(500);
        vm.assertEq(uint256(jm.parameters().protocolFeeBps), FEE_BPS);
    }

    // ============================================================ setSlashShare

    function test_setSlashShare_ByTimelock() public {
        bytes32 key = jm.SLASH_SHARE_BPS();
        vm.assertEq(key, bytes32("slashShareBps"));
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated(key, SLASH_BPS, 2500);
        vm.prank(address(timelock));
        jm.setSlashShare(2500);
        vm.assertEq(uint256(jm.parameters().slashShareBps), 2500);
    }

    function test_setSlashShare_Bounds() public {
        vm.startPrank(address(timelock));
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated("slashShareBps", SLASH_BPS, 100);
        jm.setSlashShare(100);
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated("slashShareBps", 100, 5000);
        jm.setSlashShare(5000);
        vm.stopPrank();
        vm.assertEq(uint256(jm.parameters().slashShareBps), 5000);
    }

    function test_setSlashShare_RevertWhen_BelowMin() public {
        vm.expectRevert(outOfBounds("slashShareBps", 99, 100, 5000));
        vm.prank(address(timelock));
        jm.setSlashShare(99);
    }

    function test_setSlashShare_RevertWhen_AboveMax() public {
        vm.expectRevert(outOfBounds("slashShareBps", 5001, 100, 5000));
        vm.prank(address(timelock));
        jm.setSlashShare(5001);
        vm.assertEq(uint256(jm.parameters().slashShareBps), SLASH_BPS);
    }

    function test_setSlashShare_RevertWhen_CallerIsStranger() public {
        vm.expectRevert(unauthorized(stranger, ADMIN_ROLE));
        vm.prank(stranger);
        jm.setSlashShare(2000);
    }

    function test_setSlashShare_RevertWhen_CallerIsDeployer() public {
        vm.expectRevert(unauthorized(address(this), ADMIN_ROLE));
        jm.setSlashShare(2000);
    }

    // ============================================================ setAssignmentTimeout

    function test_setAssignmentTimeout_ByTimelock_AppliesToLaterAssignments() public {
        bytes32 key = jm.ASSIGNMENT_TIMEOUT();
        vm.assertEq(key, bytes32("assignmentTimeout"));
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated(key, TIMEOUT, 2 hours);
        vm.prank(address(timelock));
        jm.setAssignmentTimeout(2 hours);
        vm.assertEq(uint256(jm.parameters().assignmentTimeout), 2 hours);
        uint256 id = post(REWARD);
        assignTo(id, worker);
        vm.assertEq(uint256(jm.jobOf(id).due), block.timestamp + 2 hours);
    }

    function test_setAssignmentTimeout_Bounds() public {
        vm.startPrank(address(timelock));
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated("assignmentTimeout", TIMEOUT, 1 minutes);
        jm.setAssignmentTimeout(1 minutes);
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated("assignmentTimeout", 1 minutes, 3 days);
        jm.setAssignmentTimeout(3 days);
        vm.stopPrank();
        vm.assertEq(uint256(jm.parameters().assignmentTimeout), 3 days);
    }

    function test_setAssignmentTimeout_RevertWhen_BelowMin() public {
        vm.expectRevert(outOfBounds("assignmentTimeout", 59, 1 minutes, 3 days));
        vm.prank(address(timelock));
        jm.setAssignmentTimeout(59);
    }

    function test_setAssignmentTimeout_RevertWhen_AboveMax() public {
        vm.expectRevert(outOfBounds("assignmentTimeout", 3 days + 1, 1 minutes, 3 days));
        vm.prank(address(timelock));
        jm.setAssignmentTimeout(3 days + 1);
        vm.assertEq(uint256(jm.parameters().assignmentTimeout), TIMEOUT);
    }

    function test_setAssignmentTimeout_RevertWhen_CallerIsStranger() public {
        vm.expectRevert(unauthorized(stranger, ADMIN_ROLE));
        vm.prank(stranger);
        jm.setAssignmentTimeout(2 hours);
    }

    function test_setAssignmentTimeout_RevertWhen_CallerIsDeployer() public {
        vm.expectRevert(unauthorized(address(this), ADMIN_ROLE));
        jm.setAssignmentTimeout(2 hours);
    }

    // ============================================================ setChallengeWindow

    function test_setChallengeWindow_ByTimelock_AppliesToLaterSubmissions() public {
        bytes32 key = jm.CHALLENGE_WINDOW();
        vm.assertEq(key, bytes32("challengeWindow"));
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated(key, WINDOW, 6 hours);
        vm.prank(address(timelock));
        jm.setChallengeWindow(6 hours);
        vm.assertEq(uint256(jm.parameters().challengeWindow), 6 hours);
        uint256 id = submitted();
        vm.assertEq(uint256(jm.jobOf(id).due), block.timestamp + 6 hours);
    }

    function test_setChallengeWindow_Bounds() public {
        vm.startPrank(address(timelock));
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated("challengeWindow", WINDOW, 1 minutes);
        jm.setChallengeWindow(1 minutes);
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated("challengeWindow", 1 minutes, 3 days);
        jm.setChallengeWindow(3 days);
        vm.stopPrank();
        vm.assertEq(uint256(jm.parameters().challengeWindow), 3 days);
    }

    function test_setChallengeWindow_RevertWhen_BelowMin() public {
        vm.expectRevert(outOfBounds("challengeWindow", 59, 1 minutes, 3 days));
        vm.prank(address(timelock));
        jm.setChallengeWindow(59);
    }

    function test_setChallengeWindow_RevertWhen_AboveMax() public {
        vm.expectRevert(outOfBounds("challengeWindow", 3 days + 1, 1 minutes, 3 days));
        vm.prank(address(timelock));
        jm.setChallengeWindow(3 days + 1);
        vm.assertEq(uint256(jm.parameters().challengeWindow), WINDOW);
    }

    function test_setChallengeWindow_RevertWhen_CallerIsStranger() public {
        vm.expectRevert(unauthorized(stranger, ADMIN_ROLE));
        vm.prank(stranger);
        jm.setChallengeWindow(2 hours);
    }

    function test_setChallengeWindow_RevertWhen_CallerIsDeployer() public {
        vm.expectRevert(unauthorized(address(this), ADMIN_ROLE));
        jm.setChallengeWindow(2 hours);
    }

    // ============================================================ setDisputePeriod

    function test_setDisputePeriod_ByTimelock_AppliesToLaterDisputes() public {
        bytes32 key = jm.DISPUTE_PERIOD();
        vm.assertEq(key, bytes32("disputePeriod"));
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated(key, PERIOD, 2 days);
        vm.prank(address(timelock));
        jm.setDisputePeriod(2 days);
        vm.assertEq(uint256(jm.parameters().disputePeriod), 2 days);
        uint256 id = disputed();
        vm.assertEq(uint256(jm.jobOf(id).due), block.timestamp + 2 days);
    }

    function test_setDisputePeriod_Bounds() public {
        vm.startPrank(address(timelock));
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated("disputePeriod", PERIOD, 1 hours);
        jm.setDisputePeriod(1 hours);
        vm.expectEmit(address(jm));
        emit IJobManager.ParameterUpdated("disputePeriod", 1 hours, 3 days);
        jm.setDisputePeriod(3 days);
        vm.stopPrank();
        vm.assertEq(uint256(jm.parameters().disputePeriod), 3 days);
    }

    function test_setDisputePeriod_RevertWhen_BelowMin() public {
        vm.expectRevert(outOfBounds("disputePeriod", 1 hours - 1, 1 hours, 3 days));
        vm.prank(address(timelock));
        jm.setDisputePeriod(1 hours - 1);
    }

    function test_setDisputePeriod_RevertWhen_AboveMax() public {
        vm.expectRevert(outOfBounds("disputePeriod", 3 days + 1, 1 hours, 3 days));
        vm.prank(address(timelock));
        jm.setDisputePeriod(3 days + 1);
        vm.assertEq(uint256(jm.parameters().disputePeriod), PERIOD);
    }

    function test_setDisputePeriod_RevertWhen_CallerIsStranger() public {
        vm.expectRevert(unauthorized(stranger, ADMIN_ROLE));
        vm.prank(stranger);
        jm.setDisputePeriod(2 days);
    }

    function test_setDisputePeriod_RevertWhen_CallerIsDeployer() public {
        vm.expectRevert(unauthorized(address(this), ADMIN_ROLE));
        jm.setDisputePeriod(2 days);
    }

    // ============================================================ roles

    function test_grantRole_TimelockGrantsCoordinator() public {
        bytes32 role = jm.COORDINATOR_ROLE();
        vm.prank(address(timelock));
        jm.grantRole(role, stranger);
        uint256 id = post(REWARD);
        vm.prank(stranger);
        jm.assign(id, worker);
        assertStatus(id, IJobManager.JobStatus.Assigned);
    }

    function test_grantRole_RevertWhen_CallerIsDeployer() public {
        bytes32 role = jm.COORDINATOR_ROLE();
        vm.expectRevert(unauthorized(address(this), ADMIN_ROLE));
        jm.grantRole(role, stranger);
    }

    // ============================================================ conservation

    function test_escrow_BalanceEqualsLiveRewardsPlusFees() public {
        uint256 open = post(REWARD);
        uint256 assigned = post(2 * REWARD);
        assignTo(assigned, worker);
        uint256 sub = post(3 * REWARD);
        assignTo(sub, worker2);
        submit(sub, worker2);
        uint256 paid = paidJob();
        uint256 cancelled = post(5 * REWARD);
        vm.prank(client);
        jm.cancelJob(cancelled);
        uint256 live = uint256(REWARD) + 2 * uint256(REWARD) + 3 * uint256(REWARD);
        vm.assertEq(token.balanceOf(address(jm)), live + uint256(jm.parameters().accruedFees));
        assertStatus(open, IJobManager.JobStatus.Open);
        assertStatus(paid, IJobManager.JobStatus.Paid);
    }
}
