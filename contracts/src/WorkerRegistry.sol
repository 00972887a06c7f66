// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";
import {ProtocolBounds} from "./ProtocolBounds.sol";

/// @title WorkerRegistry
/// @notice Holds worker stakes. Workers register with a capability bitmask, stake, unbond and withdraw; the job
/// manager and arbiters jail and unjail; only the job manager slashes, and only to itself: every slash is tied to a
/// job the chain can see (an expiry, a lost dispute, a decline) and bounded by the job manager's governed caps. An
/// arbiter slashes only by ruling a dispute through the job manager. The timelock (DEFAULT_ADMIN_ROLE) sets the minimum stake and the
/// unbonding period within {ProtocolBounds}.
/// @dev Token conservation: this contract's token balance equals the sum of all `stake` and `pending` fields.
/// Unbonding stake stays slashable, so an unstake request cannot outrun a fault (see {ProtocolBounds}).
contract WorkerRegistry is IWorkerRegistry, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Parameter key of the minimum stake, as emitted in {ParameterUpdated}.
    bytes32 public constant MIN_STAKE = "minStake";
    /// @notice Parameter key of the unbonding period, as emitted in {ParameterUpdated}.
    bytes32 public constant UNBONDING_PERIOD = "unbondingPeriod";
    /// @notice The job manager's arbiter role; arbiters are granted there, in one place.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

    /// @notice The staked token.
    IERC20 public immutable token;

    // Both parameters share one slot: eligibility checks read them with one SLOAD.
    uint96 private _minStake;
    uint32 private _unbondingPeriod;

    address private _jobManager;
    mapping(address worker => Worker) private _workers;

    /// @notice Creates the registry.
    /// @param token_ The staked token.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (the deployer, who links the job manager and hands the role to
    /// the timelock).
    /// @param minStake_ Initial minimum stake (tokens).
    /// @param unbondingPeriod_ Initial unbonding period (seconds).
    constructor(IERC20 token_, address admin, uint256 minStake_, uint256 unbondingPeriod_) {
        if (address(token_) == address(0) || admin == address(0)) revert ZeroAddress();
        token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setMinStake(minStake_);
        _setUnbondingPeriod(unbondingPeriod_);
    }

    modifier onlyJobManagerOrArbiter() {
        address jm = _jobManager;
        if (msg.sender != jm && (jm == address(0) || !IAccessControl(jm).hasRole(ARBITER_ROLE, msg.sender))) {
            revert NotJobManagerOrArbiter(msg.sender);
        }
        _;
    }

    // ---------------------------------------------------------------- workers

    /// @inheritdoc IWorkerRegistry
    function register(uint16 capabilities, string calldata metadataURI) external {
        ProtocolBounds.checkUri(metadataURI);
        Worker storage w = _workers[msg.sender];
        if (w.registered) revert AlreadyRegistered(msg.sender);
        w.registered = true;
        w.capabilities = capabilities;
        emit WorkerRegistered(msg.sender, capabilities, metadataURI);
    }

    /// @inheritdoc IWorkerRegistry
    function updateWorker(uint16 capabilities, string calldata metadataURI) external {
        ProtocolBounds.checkUri(metadataURI);
        Worker storage w = _registered(msg.sender);
        w.capabilities = capabilities;
        emit WorkerUpdated(msg.sender, capabilities, metadataURI);
    }

    /// @inheritdoc IWorkerRegistry
    function stake(uint256 amount) external nonReentrant {
        _stake(amount);
    }

    /// @inheritdoc IWorkerRegistry
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external nonReentrant {
        // A front-runner may have spent the permit already; the allowance it left is then used as is.
        try IERC20Permit(address(token)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _stake(amount);
    }

    /// @inheritdoc IWorkerRegistry
    function requestUnstake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Worker storage w = _registered(msg.sender);
        uint256 active = w.stake;
        if (amount > active) revert UnstakeExceedsStake(msg.sender, amount, active);
        uint256 pending = uint256(w.pending) + amount;
        uint256 unlockAt = block.timestamp + _unbondingPeriod;
        // Safe cast: a smaller value than the uint96 stake it came from.
        // forge-lint: disable-next-line(unsafe-typecast)
        w.stake = uint96(active - amount);
        // Safe cast: stake + pending never exceeds the token supply, itself below 2^96.
        // forge-lint: disable-next-line(unsafe-typecast)
        w.pending = uint96(pending);
        w.unlockAt = SafeCast.toUint32(unlockAt);
        emit UnstakeRequested(msg.sender, amount, active - amount, pending, unlockAt);
    }

    /// @inheritdoc IWorkerRegistry
    function withdraw() external nonReentrant {
        Worker storage w = _workers[msg.sender];
        uint256 amount = w.pending;
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        if (block.timestamp < w.unlockAt) revert StillUnbonding(msg.sender, w.unlockAt);
        w.pending = 0;
        w.unlockAt = 0;
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    modifier onlyJobManager() {
        if (msg.sender != _jobManager || msg.sender == address(0)) revert NotJobManager(msg.sender);
        _;
    }

    // ------------------------------------------------------ job manager, arbiters

    /// @inheritdoc IWorkerRegistry
    function jail(address worker) external onlyJobManagerOrArbiter {
        Worker storage w = _registered(worker);
        if (w.jailed) revert AlreadyJailed(worker);
        w.jailed = true;
        emit WorkerJailed(worker, msg.sender);
    }

    /// @inheritdoc IWorkerRegistry
    function unjail(address worker) external onlyJobManagerOrArbiter {
        Worker storage w = _registered(worker);
        if (!w.jailed) revert NotJailed(worker);
        w.jailed = false;
        emit WorkerUnjailed(worker, msg.sender);
    }

    /// @inheritdoc IWorkerRegistry
    function slash(address worker, uint256 amount, address recipient, uint256 jobId)
        external
        onlyJobManager
        nonReentrant
        returns (uint256 slashed)
    {
        if (recipient != _jobManager) revert SlashRecipientNotJobManager(recipient);
        Worker storage w = _registered(worker);
        uint256 active = w.stake;
        uint256 pending = w.pending;
        uint256 fromStake = amount < active ? amount : active;
        uint256 rest = amount - fromStake;
        uint256 fromPending = rest < pending ? rest : pending;
        slashed = fromStake + fromPending;
        if (slashed == 0) return 0;
        // Safe cast: a smaller value than the uint96 stake it came from.
        // forge-lint: disable-next-line(unsafe-typecast)
        w.stake = uint96(active - fromStake);
        // Safe cast: a smaller value than the uint96 pending it came from.
        // forge-lint: disable-next-line(unsafe-typecast)
        w.pending = uint96(pending - fromPending);
        emit WorkerSlashed(worker, jobId, recipient, slashed, fromStake, fromPending);
        token.safeTransfer(recipient, slashed);
    }

    /// @notice Links the job manager, once (admin only).
    /// @param jobManager_ The JobManager contract, the only slasher; its ARBITER_ROLE holders may also jail and unjail
    /// here.
    /// Emits {JobManagerSet}.
    function setJobManager(address jobManager_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (jobManager_ == address(0)) revert ZeroAddress();
        if (_jobManager != address(0)) revert JobManagerAlreadySet(_jobManager);
        _jobManager = jobManager_;
        emit JobManagerSet(jobManager_);
    }

    // ------------------------------------------------------------- governance

    /// @notice Sets the minimum active stake for eligibility (timelock only), within {ProtocolBounds}.
    /// @param value Tokens.
    /// Emits {ParameterUpdated}.
    function setMinStake(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMinStake(value);
    }

    /// @notice Sets the unbonding period (timelock only), within {ProtocolBounds}; applies to later requests.
    /// @param value Seconds.
    /// Emits {ParameterUpdated}.
    function setUnbondingPeriod(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setUnbondingPeriod(value);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IWorkerRegistry
    function assignable(address worker, uint16 requiredCapabilities) external view returns (bytes memory) {
        Worker memory w = _workers[worker];
        if (!w.registered) return abi.encodeWithSelector(NotRegistered.selector, worker);
        if (w.jailed) return abi.encodeWithSelector(JailedWorker.selector, worker);
        uint256 min = _minStake;
        if (w.stake < min) return abi.encodeWithSelector(BelowMinStake.selector, worker, w.stake, min);
        if (w.capabilities & requiredCapabilities != requiredCapabilities) {
            return abi.encodeWithSelector(MissingCapabilities.selector, worker, requiredCapabilities, w.capabilities);
        }
        return "";
    }

    /// @inheritdoc IWorkerRegistry
    function workerOf(address worker) external view returns (Worker memory) {
        return _workers[worker];
    }

    /// @inheritdoc IWorkerRegistry
    function slashableOf(address worker) external view returns (uint256) {
        Worker storage w = _workers[worker];
        return uint256(w.stake) + w.pending;
    }

    /// @inheritdoc IWorkerRegistry
    function minStake() external view returns (uint256) {
        return _minStake;
    }

    /// @inheritdoc IWorkerRegistry
    function unbondingPeriod() external view returns (uint256) {
        return _unbondingPeriod;
    }

    /// @notice The linked job manager (zero until linked).
    /// @return The JobManager address.
    function jobManager() external view returns (address) {
        return _jobManager;
    }

    // --------------------------------------------------------------- internal

    function _stake(uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        Worker storage w = _registered(msg.sender);
        uint256 room = type(uint96).max - uint256(w.stake) - w.pending;
        if (amount > room) revert AmountTooLarge(amount, room);
        uint256 total = uint256(w.stake) + amount;
        // Safe cast: amount was checked against the room left below type(uint96).max above.
        // forge-lint: disable-next-line(unsafe-typecast)
        w.stake = uint96(total);
        emit Staked(msg.sender, amount, total);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    function _registered(address worker) private view returns (Worker storage w) {
        w = _workers[worker];
        if (!w.registered) revert NotRegistered(worker);
    }

    function _setMinStake(uint256 value) private {
        ProtocolBounds.checkBounds(MIN_STAKE, value, ProtocolBounds.MIN_MIN_STAKE, ProtocolBounds.MAX_MIN_STAKE);
        emit ParameterUpdated(MIN_STAKE, _minStake, value);
        // Safe cast: checked against MAX_MIN_STAKE (< 2^96) above.
        // forge-lint: disable-next-line(unsafe-typecast)
        _minStake = uint96(value);
    }

    function _setUnbondingPeriod(uint256 value) private {
        ProtocolBounds.checkBounds(
            UNBONDING_PERIOD, value, ProtocolBounds.MIN_UNBONDING_PERIOD, ProtocolBounds.MAX_UNBONDING_PERIOD
        );
        emit ParameterUpdated(UNBONDING_PERIOD, _unbondingPeriod, value);
        _unbondingPeriod = SafeCast.toUint32(value);
    }
}
