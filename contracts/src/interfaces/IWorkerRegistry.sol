// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IWorkerRegistry
/// @notice Worker registration, staking, unbonding, jailing and slashing.
interface IWorkerRegistry {
    /// @notice One worker, packed into a single storage slot (96 + 96 + 32 + 16 + 8 + 8 bits).
    /// @param stake Active stake: counts toward eligibility, slashable.
    /// @param pending Stake requested for withdrawal: no longer counts toward eligibility, still slashable.
    /// @param unlockAt When `pending` may be withdrawn (unix seconds).
    /// @param capabilities Bitmask of what the worker can run; a job's required bits must all be set.
    /// @param registered Whether the worker has registered.
    /// @param jailed Whether the worker is barred from new assignments.
    struct Worker {
        uint96 stake;
        uint96 pending;
        uint32 unlockAt;
        uint16 capabilities;
        bool registered;
        bool jailed;
    }

    /// @notice A worker registered.
    event WorkerRegistered(address indexed worker, uint16 capabilities, string metadataURI);
    /// @notice A worker changed its capabilities or metadata.
    event WorkerUpdated(address indexed worker, uint16 capabilities, string metadataURI);
    /// @notice Stake was added; `stake` is the worker's new active stake.
    event Staked(address indexed worker, uint256 amount, uint256 stake);
    /// @notice Active stake moved to unbonding; totals after the move and the new unlock time.
    event UnstakeRequested(address indexed worker, uint256 amount, uint256 stake, uint256 pending, uint256 unlockAt);
    /// @notice Unbonded stake left the registry.
    event Withdrawn(address indexed worker, uint256 amount);
    /// @notice A worker was barred from new assignments.
    event WorkerJailed(address indexed worker, address indexed by);
    /// @notice A worker may be assigned again.
    event WorkerUnjailed(address indexed worker, address indexed by);
    /// @notice Stake was slashed to `recipient` (always the job manager, which passes it on) for a fault or a decline
    /// on job `jobId`.
    event WorkerSlashed(
        address indexed worker,
        uint256 indexed jobId,
        address indexed recipient,
        uint256 amount,
        uint256 fromStake,
        uint256 fromPending
    );
    /// @notice A governed parameter changed (also emitted once per parameter at deployment).
    event ParameterUpdated(bytes32 indexed key, uint256 previous, uint256 current);
    /// @notice The job manager was linked (once).
    event JobManagerSet(address indexed jobManager);

    /// @notice The worker is already registered.
    error AlreadyRegistered(address worker);
    /// @notice The worker is not registered.
    error NotRegistered(address worker);
    /// @notice An amount of zero was given.
    error ZeroAmount();
    /// @notice The amount does not fit the packed stake fields.
    error AmountTooLarge(uint256 amount, uint256 max);
    /// @notice More stake was asked to unbond than is active.
    error UnstakeExceedsStake(address worker, uint256 requested, uint256 stake);
    /// @notice Nothing is unbonding.
    error NothingToWithdraw(address worker);
    /// @notice The unbonding period has not passed.
    error StillUnbonding(address worker, uint256 unlockAt);
    /// @notice Only the job manager or an arbiter may do this.
    error NotJobManagerOrArbiter(address caller);
    /// @notice Only the job manager may do this.
    error NotJobManager(address caller);
    /// @notice Slashed stake may only go to the job manager.
    error SlashRecipientNotJobManager(address recipient);
    /// @notice The worker is already jailed.
    error AlreadyJailed(address worker);
    /// @notice The worker is not jailed.
    error NotJailed(address worker);
    /// @notice The worker is jailed and cannot be assigned.
    error JailedWorker(address worker);
    /// @notice The worker's active stake is below the minimum.
    error BelowMinStake(address worker, uint256 stake, uint256 minStake);
    /// @notice The worker lacks capability bits the job requires.
    error MissingCapabilities(address worker, uint16 required, uint16 has);
    /// @notice The job manager is already linked.
    error JobManagerAlreadySet(address jobManager);
    /// @notice A zero address was given.
    error ZeroAddress();

    /// @notice Registers the caller as a worker.
    /// @param capabilities Bitmask of what the worker can run.
    /// @param metadataURI Where the worker describes itself (endpoint, hardware); emitted, not stored.
    /// Emits {WorkerRegistered}.
    function register(uint16 capabilities, string calldata metadataURI) external;

    /// @notice Changes the caller's capabilities and metadata.
    /// @param capabilities New capability bitmask.
    /// @param metadataURI New metadata URI; emitted, not stored.
    /// Emits {WorkerUpdated}.
    function updateWorker(uint16 capabilities, string calldata metadataURI) external;

    /// @notice Adds `amount` to the caller's active stake (needs an allowance).
    /// @param amount Tokens to stake.
    /// Emits {Staked}.
    function stake(uint256 amount) external;

    /// @notice Adds `amount` to the caller's active stake, approving through an EIP-2612 permit.
    /// @param amount Tokens to stake.
    /// @param deadline Permit deadline.
    /// @param v Permit signature v.
    /// @param r Permit signature r.
    /// @param s Permit signature s.
    /// Emits {Staked}.
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Moves `amount` of active stake to unbonding; the unlock time restarts for all pending stake.
    /// @param amount Tokens to unbond.
    /// Emits {UnstakeRequested}.
    function requestUnstake(uint256 amount) external;

    /// @notice Sends the caller's unbonded stake back once the unbonding period has passed. Works while jailed.
    /// Emits {Withdrawn}.
    function withdraw() external;

    /// @notice Bars `worker` from new assignments (job manager or arbiter).
    /// @param worker The worker to jail.
    /// Emits {WorkerJailed}.
    function jail(address worker) external;

    /// @notice Lets `worker` be assigned again (job manager or arbiter).
    /// @param worker The worker to release.
    /// Emits {WorkerUnjailed}.
    function unjail(address worker) external;

    /// @notice Slashes up to `amount` from `worker`, active stake first, then unbonding stake (job manager only).
    /// The job manager computes the bounded amount of a fault or a decline and splits what it receives between the
    /// client's bounded compensation and the treasury.
    /// @param worker The worker to slash.
    /// @param amount Tokens to take; capped at what the worker holds here.
    /// @param recipient Receives the slashed tokens; must be the job manager (the caller).
    /// @param jobId The job the fault belongs to.
    /// @return slashed Tokens actually taken.
    /// Emits {WorkerSlashed}.
    function slash(address worker, uint256 amount, address recipient, uint256 jobId) external returns (uint256 slashed);

    /// @notice Why `worker` cannot take a job needing `requiredCapabilities`, as an ABI-encoded custom error;
    /// empty when it can.
    /// @param worker The candidate worker.
    /// @param requiredCapabilities The job's required capability bits.
    /// @return reason Empty, or one of NotRegistered, JailedWorker, BelowMinStake, MissingCapabilities.
    function assignable(address worker, uint16 requiredCapabilities) external view returns (bytes memory reason);

    /// @notice A worker's record.
    /// @param worker The worker.
    /// @return The packed record.
    function workerOf(address worker) external view returns (Worker memory);

    /// @notice Active plus unbonding stake: what a slash can reach.
    /// @param worker The worker.
    /// @return Tokens.
    function slashableOf(address worker) external view returns (uint256);

    /// @notice Current minimum active stake for eligibility.
    /// @return Tokens.
    function minStake() external view returns (uint256);

    /// @notice Current unbonding period.
    /// @return Seconds.
    function unbondingPeriod() external view returns (uint256);
}
