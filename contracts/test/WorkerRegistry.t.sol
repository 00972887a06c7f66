// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

import {IWorkerRegistry} from "../src/interfaces/IWorkerRegistry.sol";
import {ProtocolBounds} from "../src/ProtocolBounds.sol";
import {WorkerRegistry} from "../src/WorkerRegistry.sol";
import {Vm} from "./utils/Vm.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @notice Unit tests of {WorkerRegistry}: every external function's success path and every custom error.
contract WorkerRegistryTest is Fixture {
    bytes32 internal constant ADMIN = 0x00; // DEFAULT_ADMIN_ROLE
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    uint256 internal constant MIN_STAKE_INITIAL = 100e18; // devnet config
    uint256 internal constant UNBONDING_INITIAL = 10 days; // devnet config
    uint256 internal constant MAX_U96 = type(uint96).max;

    string internal constant URI = "ipfs://worker";

    // ------------------------------------------------------------------ helpers

    function _register(address w) internal {
        vm.prank(w);
        registry.register(CAPS, URI);
    }

    function _unstake(address w, uint256 amount) internal {
        vm.prank(w);
        registry.requestUnstake(amount);
    }

    function _jail(address w) internal {
        vm.prank(arbiter);
        registry.jail(w);
    }

    function _key(string memory name) internal pure returns (uint256) {
        return uint256(keccak256(bytes(name)));
    }

    function _signPermit(uint256 key, address spender, uint256 value, uint256 deadline)
        internal
        view
        returns (uint8 v, bytes32 r, bytes32 s)
    {
        address owner = vm.addr(key);
        bytes32 structHash =
            keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, token.nonces(owner), deadline));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
        (v, r, s) = vm.sign(key, digest);
    }

    function _uri(uint256 length) internal pure returns (string memory) {
        bytes memory b = new bytes(length);
        for (uint256 i; i < length; ++i) {
            b[i] = "a";
        }
        return string(b);
    }

    function _freshRegistry() internal returns (WorkerRegistry r) {
        r = new WorkerRegistry(token, address(this), MIN_STAKE_INITIAL, UNBONDING_INITIAL);
    }

    /// @dev The registry's token balance always equals the sum of every stake and pending amount.
    function _assertConservation() internal view {
        uint256 sum = registry.slashableOf(worker) + registry.slashableOf(worker2);
        vm.assertEq(token.balanceOf(address(registry)), sum, "conservation");
    }

    // ---------------------------------------------------------------- deployment

    function test_deployment_WiresParametersAndRoles() public view {
        vm.assertEq(address(registry.token()), address(token));
        vm.assertEq(registry.jobManager(), address(jm));
        vm.assertEq(registry.minStake(), MIN_STAKE_INITIAL);
        vm.assertEq(registry.unbondingPeriod(), UNBONDING_INITIAL);
        vm.assertTrue(registry.hasRole(ADMIN, address(timelock)), "timelock is admin");
        vm.assertEq(registry.ARBITER_ROLE(), jm.ARBITER_ROLE());
        vm.assertEq(registry.MIN_STAKE(), bytes32("minStake"));
        vm.assertEq(registry.UNBONDING_PERIOD(), bytes32("unbondingPeriod"));
    }

    function test_deployment_DeployerHoldsNoAdmin() public {
        vm.assertFalse(registry.hasRole(ADMIN, address(this)), "deployer renounced admin");
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(this), ADMIN)
        );
        registry.setMinStake(200e18);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(this), ADMIN)
        );
        registry.grantRole(ADMIN, address(this));
    }

    // --------------------------------------------------------------- constructor

    function test_constructor_GrantsAdminAndEmitsParameters() public {
        vm.recordLogs();
        WorkerRegistry r = _freshRegistry();
        Vm.Log[] memory logs = vm.getRecordedLogs();

        vm.assertTrue(r.hasRole(ADMIN, address(this)));
        vm.assertEq(r.minStake(), MIN_STAKE_INITIAL);
        vm.assertEq(r.unbondingPeriod(), UNBONDING_INITIAL);
        vm.assertEq(r.jobManager(), address(0));

        // RoleGranted, then ParameterUpdated(minStake, 0, 100e18), then ParameterUpdated(unbondingPeriod, 0, 10 days).
        vm.assertEq(logs.length, 3);
        bytes32 sig = keccak256("ParameterUpdated(bytes32,uint256,uint256)");
        vm.assertEq(logs[1].emitter, address(r));
        vm.assertEq(logs[1].topics[0], sig);
        vm.assertEq(logs[1].topics[1], r.MIN_STAKE());
        vm.assertEq(logs[1].data, abi.encode(uint256(0), MIN_STAKE_INITIAL));
        vm.assertEq(logs[2].emitter, address(r));
        vm.assertEq(logs[2].topics[0], sig);
        vm.assertEq(logs[2].topics[1], r.UNBONDING_PERIOD());
        vm.assertEq(logs[2].data, abi.encode(uint256(0), UNBONDING_INITIAL));
    }

    function test_constructor_RevertWhen_TokenIsZero() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.ZeroAddress.selector));
        new WorkerRegistry(IERC20(address(0)), address(this), MIN_STAKE_INITIAL, UNBONDING_INITIAL);
    }

    function test_constructor_RevertWhen_AdminIsZero() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.ZeroAddress.selector));
        new WorkerRegistry(token, address(0), MIN_STAKE_INITIAL, UNBONDING_INITIAL);
    }

    function test_constructor_RevertWhen_MinStakeOutOfBounds() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ProtocolBounds.ParameterOutOfBounds.selector, bytes32("minStake"), 1e18 - 1, 1e18, 1e26
            )
        );
        new WorkerRegistry(token, address(this), 1e18 - 1, UNBONDING_INITIAL);
    }

    function test_constructor_RevertWhen_UnbondingPeriodOutOfBounds() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ProtocolBounds.ParameterOutOfBounds.selector,
                bytes32("unbondingPeriod"),
                365 days + 1,
                10 days,
                365 days
            )
        );
        new WorkerRegistry(token, address(this), MIN_STAKE_INITIAL, 365 days + 1);
    }

    // ------------------------------------------------------------------ register

    function test_register_StoresWorkerAndEmits() public {
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerRegistered(worker, CAPS, URI);
        vm.prank(worker);
        registry.register(CAPS, URI);

        IWorkerRegistry.Worker memory w = registry.workerOf(worker);
        vm.assertTrue(w.registered);
        vm.assertEq(uint256(w.capabilities), uint256(CAPS));
        vm.assertEq(uint256(w.stake), 0);
        vm.assertEq(uint256(w.pending), 0);
        vm.assertEq(uint256(w.unlockAt), 0);
        vm.assertFalse(w.jailed);
        vm.assertEq(registry.slashableOf(worker), 0);
    }

    function test_register_AcceptsUriOfMaxLength() public {
        string memory uri = _uri(ProtocolBounds.MAX_URI_LENGTH);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerRegistered(worker, CAPS, uri);
        vm.prank(worker);
        registry.register(CAPS, uri);
        vm.assertTrue(registry.workerOf(worker).registered);
    }

    function test_register_RevertWhen_AlreadyRegistered() public {
        _register(worker);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.AlreadyRegistered.selector, worker));
        vm.prank(worker);
        registry.register(0x0f, "ipfs://other");
    }

    function test_register_RevertWhen_UriTooLong() public {
        string memory uri = _uri(ProtocolBounds.MAX_URI_LENGTH + 1);
        vm.expectRevert(abi.encodeWithSelector(ProtocolBounds.UriTooLong.selector, uint256(1025), uint256(1024)));
        vm.prank(worker);
        registry.register(CAPS, uri);
    }

    // -------------------------------------------------------------- updateWorker

    function test_updateWorker_ChangesCapabilitiesAndEmits() public {
        _register(worker);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerUpdated(worker, 0x00f0, "ipfs://new");
        vm.prank(worker);
        registry.updateWorker(0x00f0, "ipfs://new");

        IWorkerRegistry.Worker memory w = registry.workerOf(worker);
        vm.assertEq(uint256(w.capabilities), 0x00f0);
        vm.assertTrue(w.registered);
    }

    function test_updateWorker_KeepsStakeAndJail() public {
        registerAndStake(worker, STAKE);
        _jail(worker);
        vm.prank(worker);
        registry.updateWorker(0x0001, "");
        IWorkerRegistry.Worker memory w = registry.workerOf(worker);
        vm.assertEq(uint256(w.stake), STAKE);
        vm.assertTrue(w.jailed);
        vm.assertEq(uint256(w.capabilities), 0x0001);
    }

    function test_updateWorker_RevertWhen_NotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotRegistered.selector, stranger));
        vm.prank(stranger);
        registry.updateWorker(CAPS, URI);
    }

    function test_updateWorker_RevertWhen_UriTooLong() public {
        _register(worker);
        string memory uri = _uri(2000);
        vm.expectRevert(abi.encodeWithSelector(ProtocolBounds.UriTooLong.selector, uint256(2000), uint256(1024)));
        vm.prank(worker);
        registry.updateWorker(CAPS, uri);
    }

    // --------------------------------------------------------------------- stake

    function test_stake_AddsActiveStakeAndEmits() public {
        _register(worker);
        uint256 before = token.balanceOf(worker);
        vm.prank(worker);
        token.approve(address(registry), STAKE);

        vm.expectEmit(address(registry));
        emit IWorkerRegistry.Staked(worker, STAKE, STAKE);
        vm.prank(worker);
        registry.stake(STAKE);

        vm.assertEq(uint256(registry.workerOf(worker).stake), STAKE);
        vm.assertEq(registry.slashableOf(worker), STAKE);
        vm.assertEq(token.balanceOf(worker), before - STAKE);
        vm.assertEq(token.balanceOf(address(registry)), STAKE);
        vm.assertEq(token.allowance(worker, address(registry)), 0);
    }

    function test_stake_Accumulates() public {
        registerAndStake(worker, STAKE);
        vm.startPrank(worker);
        token.approve(address(registry), 500e18);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.Staked(worker, 500e18, STAKE + 500e18);
        registry.stake(500e18);
        vm.stopPrank();
        vm.assertEq(uint256(registry.workerOf(worker).stake), STAKE + 500e18);
        _assertConservation();
    }

    function test_stake_RevertWhen_ZeroAmount() public {
        _register(worker);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.ZeroAmount.selector));
        vm.prank(worker);
        registry.stake(0);
    }

    function test_stake_RevertWhen_NotRegistered() public {
        vm.prank(stranger);
        token.approve(address(registry), STAKE);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotRegistered.selector, stranger));
        vm.prank(stranger);
        registry.stake(STAKE);
    }

    function test_stake_RevertWhen_AmountTooLarge() public {
        _register(worker);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.AmountTooLarge.selector, MAX_U96 + 1, MAX_U96));
        vm.prank(worker);
        registry.stake(MAX_U96 + 1);
    }

    function test_stake_RevertWhen_AmountTooLargeCountingStakeAndPending() public {
        registerAndStake(worker, STAKE);
        _unstake(worker, 400e18);
        // stake 600e18 + pending 400e18: the room left is MAX_U96 - 1000e18.
        uint256 room = MAX_U96 - STAKE;
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.AmountTooLarge.selector, room + 1, room));
        vm.prank(worker);
        registry.stake(room + 1);
    }

    /// @dev With stake already in place, an amount near 2^256 must still get {AmountTooLarge}, not an overflow
    /// panic: `_stake` compares `amount` against the room left before adding.
    function test_stake_RevertWhen_AmountTooLargeNearUint256Max() public {
        registerAndStake(worker, STAKE);
        vm.expectRevert(
            abi.encodeWithSelector(IWorkerRegistry.AmountTooLarge.selector, type(uint256).max, MAX_U96 - STAKE)
        );
        vm.prank(worker);
        registry.stake(type(uint256).max);
    }

    function test_stake_RevertWhen_NoAllowance() public {
        _register(worker);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(registry), 0, STAKE)
        );
        vm.prank(worker);
        registry.stake(STAKE);
    }

    // ----------------------------------------------------------- stakeWithPermit

    function test_stakeWithPermit_StakesWithSignature() public {
        _register(worker);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(_key("worker"), address(registry), STAKE, deadline);
        uint256 nonceBefore = token.nonces(worker);

        vm.expectEmit(address(registry));
        emit IWorkerRegistry.Staked(worker, STAKE, STAKE);
        vm.prank(worker);
        registry.stakeWithPermit(STAKE, deadline, v, r, s);

        vm.assertEq(uint256(registry.workerOf(worker).stake), STAKE);
        vm.assertEq(token.nonces(worker), nonceBefore + 1, "permit consumed");
        vm.assertEq(token.allowance(worker, address(registry)), 0);
        vm.assertEq(token.balanceOf(address(registry)), STAKE);
    }

    function test_stakeWithPermit_WorksWhenPermitFrontRun() public {
        _register(worker);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(_key("worker"), address(registry), STAKE, deadline);

        // A front-runner submits the permit first; the allowance it leaves is used as is.
        vm.prank(stranger);
        token.permit(worker, address(registry), STAKE, deadline, v, r, s);
        vm.assertEq(token.allowance(worker, address(registry)), STAKE);

        vm.expectEmit(address(registry));
        emit IWorkerRegistry.Staked(worker, STAKE, STAKE);
        vm.prank(worker);
        registry.stakeWithPermit(STAKE, deadline, v, r, s);

        vm.assertEq(uint256(registry.workerOf(worker).stake), STAKE);
        vm.assertEq(token.allowance(worker, address(registry)), 0);
    }

    function test_stakeWithPermit_RevertWhen_PermitInvalidAndNoAllowance() public {
        _register(worker);
        uint256 deadline = block.timestamp + 1 hours;
        // Signed by the wrong key: the permit fails silently, then the transfer has no allowance.
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(_key("stranger"), address(registry), STAKE, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(registry), 0, STAKE)
        );
        vm.prank(worker);
        registry.stakeWithPermit(STAKE, deadline, v, r, s);
    }

    function test_stakeWithPermit_RevertWhen_NotRegistered() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(_key("stranger"), address(registry), STAKE, deadline);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotRegistered.selector, stranger));
        vm.prank(stranger);
        registry.stakeWithPermit(STAKE, deadline, v, r, s);
    }

    function test_stakeWithPermit_RevertWhen_ZeroAmount() public {
        _register(worker);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.ZeroAmount.selector));
        vm.prank(worker);
        registry.stakeWithPermit(0, block.timestamp, 27, bytes32(0), bytes32(0));
    }

    // ------------------------------------------------------------ requestUnstake

    function test_requestUnstake_MovesStakeToPendingAndEmits() public {
        registerAndStake(worker, STAKE);
        uint256 unlockAt = block.timestamp + UNBONDING_INITIAL;

        vm.expectEmit(address(registry));
        emit IWorkerRegistry.UnstakeRequested(worker, 300e18, STAKE - 300e18, 300e18, unlockAt);
        _unstake(worker, 300e18);

        IWorkerRegistry.Worker memory w = registry.workerOf(worker);
        vm.assertEq(uint256(w.stake), STAKE - 300e18);
        vm.assertEq(uint256(w.pending), 300e18);
        vm.assertEq(uint256(w.unlockAt), unlockAt);
        // Unbonding stake stays slashable and in the registry.
        vm.assertEq(registry.slashableOf(worker), STAKE);
        vm.assertEq(token.balanceOf(address(registry)), STAKE);
    }

    function test_requestUnstake_TwiceAccumulatesAndRestartsUnlock() public {
        registerAndStake(worker, STAKE);
        uint256 t0 = block.timestamp;
        _unstake(worker, 300e18);
        vm.assertEq(uint256(registry.workerOf(worker).unlockAt), t0 + UNBONDING_INITIAL);

        vm.warp(t0 + 1 days);
        uint256 newUnlock = t0 + 1 days + UNBONDING_INITIAL;
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.UnstakeRequested(worker, 200e18, STAKE - 500e18, 500e18, newUnlock);
        _unstake(worker, 200e18);

        IWorkerRegistry.Worker memory w = registry.workerOf(worker);
        vm.assertEq(uint256(w.stake), STAKE - 500e18);
        vm.assertEq(uint256(w.pending), 500e18);
        vm.assertEq(uint256(w.unlockAt), newUnlock);

        // The first request's unlock time no longer applies: all pending stake waits for the new one.
        vm.warp(t0 + UNBONDING_INITIAL);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.StillUnbonding.selector, worker, newUnlock));
        vm.prank(worker);
        registry.withdraw();
    }

    function test_requestUnstake_WholeStakeMakesWorkerIneligible() public {
        registerAndStake(worker, STAKE);
        vm.assertEq(registry.assignable(worker, CAPS).length, 0);
        _unstake(worker, STAKE);
        vm.assertEq(
            registry.assignable(worker, CAPS),
            abi.encodeWithSelector(IWorkerRegistry.BelowMinStake.selector, worker, 0, MIN_STAKE_INITIAL)
        );
        vm.assertEq(registry.slashableOf(worker), STAKE);
    }

    function test_requestUnstake_UsesUnbondingPeriodAtRequestTime() public {
        registerAndStake(worker, STAKE);
        uint256 t0 = block.timestamp;
        _unstake(worker, 100e18);
        vm.prank(address(timelock));
        registry.setUnbondingPeriod(30 days);
        // The earlier request keeps its unlock time.
        vm.assertEq(uint256(registry.workerOf(worker).unlockAt), t0 + UNBONDING_INITIAL);
        _unstake(worker, 100e18);
        vm.assertEq(uint256(registry.workerOf(worker).unlockAt), t0 + 30 days);
    }

    function test_requestUnstake_RevertWhen_ZeroAmount() public {
        registerAndStake(worker, STAKE);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.ZeroAmount.selector));
        _unstake(worker, 0);
    }

    function test_requestUnstake_RevertWhen_NotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotRegistered.selector, stranger));
        _unstake(stranger, 1);
    }

    function test_requestUnstake_RevertWhen_UnstakeExceedsStake() public {
        registerAndStake(worker, STAKE);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.UnstakeExceedsStake.selector, worker, STAKE + 1, STAKE));
        _unstake(worker, STAKE + 1);
    }

    function test_requestUnstake_RevertWhen_UnstakeExceedsRemainingStake() public {
        registerAndStake(worker, STAKE);
        _unstake(worker, 800e18);
        // Pending stake cannot be unstaked again.
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.UnstakeExceedsStake.selector, worker, 300e18, 200e18));
        _unstake(worker, 300e18);
    }

    // ------------------------------------------------------------------ withdraw

    function test_withdraw_AtUnlockAtPaysPendingAndEmits() public {
        registerAndStake(worker, STAKE);
        _unstake(worker, 400e18);
        uint256 unlockAt = registry.workerOf(worker).unlockAt;
        uint256 before = token.balanceOf(worker);

        vm.warp(unlockAt);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.Withdrawn(worker, 400e18);
        vm.prank(worker);
        registry.withdraw();

        IWorkerRegistry.Worker memory w = registry.workerOf(worker);
        vm.assertEq(uint256(w.pending), 0);
        vm.assertEq(uint256(w.unlockAt), 0);
        vm.assertEq(uint256(w.stake), 600e18);
        vm.assertEq(token.balanceOf(worker), before + 400e18);
        vm.assertEq(registry.slashableOf(worker), 600e18);
        _assertConservation();
    }

    function test_withdraw_RevertWhen_StillUnbondingOneSecondBefore() public {
        registerAndStake(worker, STAKE);
        _unstake(worker, 400e18);
        uint256 unlockAt = registry.workerOf(worker).unlockAt;

        vm.warp(unlockAt - 1);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.StillUnbonding.selector, worker, unlockAt));
        vm.prank(worker);
        registry.withdraw();

        vm.warp(unlockAt);
        vm.prank(worker);
        registry.withdraw();
        vm.assertEq(uint256(registry.workerOf(worker).pending), 0);
    }

    function test_withdraw_RevertWhen_StillUnbondingRightAfterRequest() public {
        registerAndStake(worker, STAKE);
        _unstake(worker, 400e18);
        vm.expectRevert(
            abi.encodeWithSelector(IWorkerRegistry.StillUnbonding.selector, worker, block.timestamp + UNBONDING_INITIAL)
        );
        vm.prank(worker);
        registry.withdraw();
    }

    function test_withdraw_WorksWhileJailed() public {
        registerAndStake(worker, STAKE);
        _unstake(worker, STAKE);
        _jail(worker);
        vm.assertTrue(registry.workerOf(worker).jailed);
        uint256 before = token.balanceOf(worker);

        vm.warp(block.timestamp + UNBONDING_INITIAL);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.Withdrawn(worker, STAKE);
        vm.prank(worker);
        registry.withdraw();
        vm.assertEq(token.balanceOf(worker), before + STAKE);
        vm.assertEq(registry.slashableOf(worker), 0);
    }

    function test_withdraw_RevertWhen_NothingToWithdrawUnregistered() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NothingToWithdraw.selector, stranger));
        vm.prank(stranger);
        registry.withdraw();
    }

    function test_withdraw_RevertWhen_NothingToWithdrawOnlyActiveStake() public {
        registerAndStake(worker, STAKE);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NothingToWithdraw.selector, worker));
        vm.prank(worker);
        registry.withdraw();
    }

    function test_withdraw_RevertWhen_AlreadyWithdrawn() public {
        registerAndStake(worker, STAKE);
        _unstake(worker, 400e18);
        vm.warp(block.timestamp + UNBONDING_INITIAL);
        vm.prank(worker);
        registry.withdraw();
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NothingToWithdraw.selector, worker));
        vm.prank(worker);
        registry.withdraw();
    }

    function test_withdraw_RevertWhen_PendingSlashedAway() public {
        registerAndStake(worker, STAKE);
        _unstake(worker, STAKE);
        vm.prank(address(jm));
        registry.slash(worker, STAKE, address(jm), 0);
        vm.warp(block.timestamp + UNBONDING_INITIAL);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NothingToWithdraw.selector, worker));
        vm.prank(worker);
        registry.withdraw();
    }

    // ---------------------------------------------------------------------- jail

    function test_jail_ByArbiterJailsAndEmits() public {
        registerAndStake(worker, STAKE);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerJailed(worker, arbiter);
        vm.prank(arbiter);
        registry.jail(worker);

        vm.assertTrue(registry.workerOf(worker).jailed);
        vm.assertEq(registry.workerOf(worker).stake, STAKE);
    }

    function test_jail_ByJobManager() public {
        _register(worker);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerJailed(worker, address(jm));
        vm.prank(address(jm));
        registry.jail(worker);
        vm.assertTrue(registry.workerOf(worker).jailed);
    }

    function test_jail_ByNewlyGrantedArbiter() public {
        _register(worker);
        bytes32 role = jm.ARBITER_ROLE();
        vm.prank(address(timelock));
        jm.grantRole(role, stranger);
        vm.prank(stranger);
        registry.jail(worker);
        vm.assertTrue(registry.workerOf(worker).jailed);
    }

    function test_jail_RevertWhen_ArbiterRevokedOnJobManager() public {
        _register(worker);
        bytes32 role = jm.ARBITER_ROLE();
        vm.prank(address(timelock));
        jm.revokeRole(role, arbiter);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotJobManagerOrArbiter.selector, arbiter));
        vm.prank(arbiter);
        registry.jail(worker);
    }

    function test_jail_RevertWhen_CallerIsStranger() public {
        _register(worker);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotJobManagerOrArbiter.selector, stranger));
        vm.prank(stranger);
        registry.jail(worker);
    }

    function test_jail_RevertWhen_CallerIsCoordinator() public {
        _register(worker);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotJobManagerOrArbiter.selector, coordinator));
        vm.prank(coordinator);
        registry.jail(worker);
    }

    function test_jail_RevertWhen_JobManagerNotSet() public {
        WorkerRegistry r = _freshRegistry();
        vm.prank(worker);
        r.register(CAPS, URI);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotJobManagerOrArbiter.selector, arbiter));
        vm.prank(arbiter);
        r.jail(worker);
    }

    function test_jail_RevertWhen_NotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotRegistered.selector, stranger));
        vm.prank(arbiter);
        registry.jail(stranger);
    }

    function test_jail_RevertWhen_AlreadyJailed() public {
        _register(worker);
        _jail(worker);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.AlreadyJailed.selector, worker));
        vm.prank(arbiter);
        registry.jail(worker);
    }

    // -------------------------------------------------------------------- unjail

    function test_unjail_ByArbiterReleasesAndEmits() public {
        registerAndStake(worker, STAKE);
        _jail(worker);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerUnjailed(worker, arbiter);
        vm.prank(arbiter);
        registry.unjail(worker);

        vm.assertFalse(registry.workerOf(worker).jailed);
        vm.assertEq(registry.assignable(worker, CAPS).length, 0);
    }

    function test_unjail_ByJobManager() public {
        _register(worker);
        _jail(worker);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerUnjailed(worker, address(jm));
        vm.prank(address(jm));
        registry.unjail(worker);
        vm.assertFalse(registry.workerOf(worker).jailed);
    }

    function test_unjail_RevertWhen_CallerIsStranger() public {
        _register(worker);
        _jail(worker);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotJobManagerOrArbiter.selector, stranger));
        vm.prank(stranger);
        registry.unjail(worker);
    }

    function test_unjail_RevertWhen_NotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotRegistered.selector, stranger));
        vm.prank(arbiter);
        registry.unjail(stranger);
    }

    function test_unjail_RevertWhen_NotJailed() public {
        _register(worker);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotJailed.selector, worker));
        vm.prank(arbiter);
        registry.unjail(worker);
    }

    // --------------------------------------------------------------------- slash

    function test_slash_ByJobManagerTakesActiveStakeAndEmits() public {
        registerAndStake(worker, STAKE);
        uint256 before = token.balanceOf(address(jm));

        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerSlashed(worker, 7, address(jm), 100e18, 100e18, 0);
        vm.prank(address(jm));
        uint256 slashed = registry.slash(worker, 100e18, address(jm), 7);

        vm.assertEq(slashed, 100e18);
        IWorkerRegistry.Worker memory w = registry.workerOf(worker);
        vm.assertEq(uint256(w.stake), STAKE - 100e18);
        vm.assertEq(uint256(w.pending), 0);
        vm.assertEq(token.balanceOf(address(jm)), before + 100e18);
        _assertConservation();
    }

    function test_slash_RevertWhen_CallerIsArbiter() public {
        registerAndStake(worker, STAKE);
        vm.startPrank(arbiter);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotJobManager.selector, arbiter));
        registry.slash(worker, 50e18, address(jm), 1);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotJobManager.selector, arbiter));
        registry.slash(worker, 50e18, address(timelock), 0);
        vm.stopPrank();
        vm.assertEq(registry.slashableOf(worker), STAKE);
    }

    function test_slash_RevertWhen_RecipientIsNotJobManager() public {
        registerAndStake(worker, STAKE);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.SlashRecipientNotJobManager.selector, client));
        vm.prank(address(jm));
        registry.slash(worker, 50e18, client, 1);
        vm.assertEq(registry.slashableOf(worker), STAKE);
    }

    function test_slash_TakesActiveStakeFirstThenPending() public {
        registerAndStake(worker, STAKE);
        _unstake(worker, 600e18); // stake 400, pending 600
        uint256 unlockAt = registry.workerOf(worker).unlockAt;

        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerSlashed(worker, 3, address(jm), 500e18, 400e18, 100e18);
        vm.prank(address(jm));
        uint256 slashed = registry.slash(worker, 500e18, address(jm), 3);

        vm.assertEq(slashed, 500e18);
        IWorkerRegistry.Worker memory w = registry.workerOf(worker);
        vm.assertEq(uint256(w.stake), 0);
        vm.assertEq(uint256(w.pending), 500e18);
        vm.assertEq(uint256(w.unlockAt), unlockAt, "unlock time unchanged");
        _assertConservation();
    }

    function test_slash_ReachesPendingStake() public {
        registerAndStake(worker, STAKE);
        _unstake(worker, STAKE); // all of it unbonding
        vm.assertEq(registry.slashableOf(worker), STAKE);

        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerSlashed(worker, 1, address(jm), 250e18, 0, 250e18);
        vm.prank(address(jm));
        uint256 slashed = registry.slash(worker, 250e18, address(jm), 1);

        vm.assertEq(slashed, 250e18);
        vm.assertEq(uint256(registry.workerOf(worker).pending), STAKE - 250e18);

        // The rest is still withdrawable after unbonding.
        vm.warp(block.timestamp + UNBONDING_INITIAL);
        uint256 before = token.balanceOf(worker);
        vm.prank(worker);
        registry.withdraw();
        vm.assertEq(token.balanceOf(worker), before + STAKE - 250e18);
    }

    function test_slash_CapsAtStakePlusPending() public {
        registerAndStake(worker, STAKE);
        _unstake(worker, 300e18);
        uint256 before = token.balanceOf(address(jm));

        vm.expectEmit(address(registry));
        emit IWorkerRegistry.WorkerSlashed(worker, 9, address(jm), STAKE, 700e18, 300e18);
        vm.prank(address(jm));
        uint256 slashed = registry.slash(worker, type(uint256).max, address(jm), 9);

        vm.assertEq(slashed, STAKE);
        IWorkerRegistry.Worker memory w = registry.workerOf(worker);
        vm.assertEq(uint256(w.stake), 0);
        vm.assertEq(uint256(w.pending), 0);
        vm.assertEq(registry.slashableOf(worker), 0);
        vm.assertEq(token.balanceOf(address(jm)), before + STAKE);
        vm.assertEq(token.balanceOf(address(registry)), 0);
    }

    function test_slash_NothingToTakeReturnsZeroWithoutEvent() public {
        _register(worker);
        uint256 before = token.balanceOf(address(jm));
        vm.recordLogs();
        vm.prank(address(jm));
        uint256 slashed = registry.slash(worker, 100e18, address(jm), 1);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        vm.assertEq(slashed, 0);
        vm.assertEq(logs.length, 0, "no event, no transfer");
        vm.assertEq(token.balanceOf(address(jm)), before);
    }

    function test_slash_ZeroAmountReturnsZeroWithoutEvent() public {
        registerAndStake(worker, STAKE);
        vm.recordLogs();
        vm.prank(address(jm));
        uint256 slashed = registry.slash(worker, 0, address(jm), 1);
        vm.assertEq(slashed, 0);
        vm.assertEq(vm.getRecordedLogs().length, 0);
        vm.assertEq(registry.slashableOf(worker), STAKE);
    }

    function test_slash_RevertWhen_CallerIsStranger() public {
        registerAndStake(worker, STAKE);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotJobManager.selector, stranger));
        vm.prank(stranger);
        registry.slash(worker, 100e18, stranger, 0);
    }

    function test_slash_RevertWhen_WorkerSlashesItself() public {
        registerAndStake(worker, STAKE);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotJobManager.selector, worker));
        vm.prank(worker);
        registry.slash(worker, 100e18, worker, 0);
    }

    function test_slash_RevertWhen_NotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.NotRegistered.selector, stranger));
        vm.prank(address(jm));
        registry.slash(stranger, 100e18, address(jm), 0);
    }

    function test_slash_RevertWhen_RecipientIsZero() public {
        registerAndStake(worker, STAKE);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.SlashRecipientNotJobManager.selector, address(0)));
        vm.prank(address(jm));
        registry.slash(worker, 100e18, address(0), 0);
    }

    // ------------------------------------------------------------- setJobManager

    function test_setJobManager_LinksOnceAndEmits() public {
        WorkerRegistry r = _freshRegistry();
        vm.expectEmit(address(r));
        emit IWorkerRegistry.JobManagerSet(address(jm));
        r.setJobManager(address(jm));
        vm.assertEq(r.jobManager(), address(jm));
    }

    function test_setJobManager_LinkedJobManagerArbitersMayJail() public {
        WorkerRegistry r = _freshRegistry();
        r.setJobManager(address(jm));
        vm.prank(worker);
        r.register(CAPS, URI);
        vm.prank(arbiter);
        r.jail(worker);
        vm.assertTrue(r.workerOf(worker).jailed);
    }

    function test_setJobManager_RevertWhen_AlreadySet() public {
        WorkerRegistry r = _freshRegistry();
        r.setJobManager(address(jm));
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.JobManagerAlreadySet.selector, address(jm)));
        r.setJobManager(stranger);
        vm.assertEq(r.jobManager(), address(jm));
    }

    function test_setJobManager_RevertWhen_AlreadySetOnDeployment() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.JobManagerAlreadySet.selector, address(jm)));
        vm.prank(address(timelock));
        registry.setJobManager(stranger);
    }

    function test_setJobManager_RevertWhen_ZeroAddress() public {
        WorkerRegistry r = _freshRegistry();
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.ZeroAddress.selector));
        r.setJobManager(address(0));
        vm.assertEq(r.jobManager(), address(0));
    }

    function test_setJobManager_RevertWhen_CallerIsStranger() public {
        WorkerRegistry r = _freshRegistry();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, ADMIN)
        );
        vm.prank(stranger);
        r.setJobManager(address(jm));
    }

    function test_setJobManager_RevertWhen_DeployerAfterDeployment() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(this), ADMIN)
        );
        registry.setJobManager(stranger);
    }

    // --------------------------------------------------------------- setMinStake

    function test_setMinStake_ByTimelockUpdatesAndEmits() public {
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.ParameterUpdated(bytes32("minStake"), MIN_STAKE_INITIAL, 500e18);
        vm.prank(address(timelock));
        registry.setMinStake(500e18);
        vm.assertEq(registry.minStake(), 500e18);
    }

    function test_setMinStake_AcceptsBounds() public {
        vm.startPrank(address(timelock));
        registry.setMinStake(ProtocolBounds.MIN_MIN_STAKE);
        vm.assertEq(registry.minStake(), 1e18);
        registry.setMinStake(ProtocolBounds.MAX_MIN_STAKE);
        vm.assertEq(registry.minStake(), 1e26);
        vm.stopPrank();
    }

    function test_setMinStake_RaisingMakesWorkerIneligible() public {
        registerAndStake(worker, STAKE);
        vm.assertEq(registry.assignable(worker, CAPS).length, 0);
        vm.prank(address(timelock));
        registry.setMinStake(STAKE + 1);
        vm.assertEq(
            registry.assignable(worker, CAPS),
            abi.encodeWithSelector(IWorkerRegistry.BelowMinStake.selector, worker, STAKE, STAKE + 1)
        );
    }

    function test_setMinStake_RevertWhen_BelowMin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ProtocolBounds.ParameterOutOfBounds.selector, bytes32("minStake"), 1e18 - 1, 1e18, 1e26
            )
        );
        vm.prank(address(timelock));
        registry.setMinStake(1e18 - 1);
        vm.assertEq(registry.minStake(), MIN_STAKE_INITIAL);
    }

    function test_setMinStake_RevertWhen_AboveMax() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ProtocolBounds.ParameterOutOfBounds.selector, bytes32("minStake"), 1e26 + 1, 1e18, 1e26
            )
        );
        vm.prank(address(timelock));
        registry.setMinStake(1e26 + 1);
    }

    function test_setMinStake_RevertWhen_CallerIsStranger() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, ADMIN)
        );
        vm.prank(stranger);
        registry.setMinStake(500e18);
    }

    function test_setMinStake_RevertWhen_CallerIsArbiter() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, arbiter, ADMIN)
        );
        vm.prank(arbiter);
        registry.setMinStake(500e18);
    }

    // -------------------------------------------------------- setUnbondingPeriod

    function test_setUnbondingPeriod_ByTimelockUpdatesAndEmits() public {
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.ParameterUpdated(bytes32("unbondingPeriod"), UNBONDING_INITIAL, 30 days);
        vm.prank(address(timelock));
        registry.setUnbondingPeriod(30 days);
        vm.assertEq(registry.unbondingPeriod(), 30 days);
    }

    function test_setUnbondingPeriod_AcceptsBounds() public {
        vm.startPrank(address(timelock));
        registry.setUnbondingPeriod(ProtocolBounds.MAX_UNBONDING_PERIOD);
        vm.assertEq(registry.unbondingPeriod(), 365 days);
        registry.setUnbondingPeriod(ProtocolBounds.MIN_UNBONDING_PERIOD);
        vm.assertEq(registry.unbondingPeriod(), 10 days);
        vm.stopPrank();
    }

    function test_setUnbondingPeriod_RevertWhen_BelowMin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ProtocolBounds.ParameterOutOfBounds.selector, bytes32("unbondingPeriod"), 10 days - 1, 10 days, 365 days
            )
        );
        vm.prank(address(timelock));
        registry.setUnbondingPeriod(10 days - 1);
        vm.assertEq(registry.unbondingPeriod(), UNBONDING_INITIAL);
    }

    function test_setUnbondingPeriod_RevertWhen_AboveMax() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ProtocolBounds.ParameterOutOfBounds.selector,
                bytes32("unbondingPeriod"),
                365 days + 1,
                10 days,
                365 days
            )
        );
        vm.prank(address(timelock));
        registry.setUnbondingPeriod(365 days + 1);
    }

    function test_setUnbondingPeriod_RevertWhen_CallerIsStranger() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, ADMIN)
        );
        vm.prank(stranger);
        registry.setUnbondingPeriod(30 days);
    }

    // ---------------------------------------------------------------- assignable

    function test_assignable_EmptyForEligibleWorker() public {
        registerAndStake(worker, STAKE);
        vm.assertEq(registry.assignable(worker, CAPS), "");
        vm.assertEq(registry.assignable(worker, 0x0001), "");
        vm.assertEq(registry.assignable(worker, 0), "");
    }

    function test_assignable_EmptyAtExactlyMinStake() public {
        registerAndStake(worker, MIN_STAKE_INITIAL);
        vm.assertEq(registry.assignable(worker, CAPS).length, 0);
    }

    function test_assignable_NotRegistered() public view {
        vm.assertEq(
            registry.assignable(stranger, CAPS),
            abi.encodeWithSelector(IWorkerRegistry.NotRegistered.selector, stranger)
        );
    }

    function test_assignable_JailedWorker() public {
        registerAndStake(worker, STAKE);
        _jail(worker);
        vm.assertEq(
            registry.assignable(worker, CAPS), abi.encodeWithSelector(IWorkerRegistry.JailedWorker.selector, worker)
        );
    }

    function test_assignable_JailTakesPrecedenceOverStake() public {
        _register(worker);
        _jail(worker);
        vm.assertEq(
            registry.assignable(worker, 0xffff), abi.encodeWithSelector(IWorkerRegistry.JailedWorker.selector, worker)
        );
    }

    function test_assignable_BelowMinStake() public {
        registerAndStake(worker, MIN_STAKE_INITIAL - 1);
        vm.assertEq(
            registry.assignable(worker, CAPS),
            abi.encodeWithSelector(
                IWorkerRegistry.BelowMinStake.selector, worker, MIN_STAKE_INITIAL - 1, MIN_STAKE_INITIAL
            )
        );
    }

    function test_assignable_MissingCapabilities() public {
        registerAndStake(worker, STAKE);
        vm.assertEq(
            registry.assignable(worker, 0x0007),
            abi.encodeWithSelector(IWorkerRegistry.MissingCapabilities.selector, worker, uint16(0x0007), CAPS)
        );
    }

    // ------------------------------------------------------------- conservation

    function test_conservation_AcrossStakeUnstakeSlashWithdraw() public {
        registerAndStake(worker, STAKE);
        registerAndStake(worker2, 2 * STAKE);
        _unstake(worker, 300e18);
        _unstake(worker2, 500e18);
        _assertConservation();
        vm.prank(address(jm));
        registry.slash(worker2, 1800e18, address(jm), 0);
        _assertConservation();
        vm.warp(block.timestamp + UNBONDING_INITIAL);
        vm.prank(worker);
        registry.withdraw();
        vm.prank(worker2);
        registry.withdraw();
        _assertConservation();
        vm.assertEq(registry.slashableOf(worker), 700e18);
        vm.assertEq(registry.slashableOf(worker2), 0);
    }
}
