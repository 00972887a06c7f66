// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IJobManager} from "../src/interfaces/IJobManager.sol";
import {IWorkerRegistry} from "../src/interfaces/IWorkerRegistry.sol";

// Benchmark-only actors for `IndexLoad.s.sol`: they let one transaction carry hundreds of real protocol calls, so
// an indexing benchmark gets hundreds of thousands of events in about half a minute. They are not part of the protocol and
// are never deployed outside a devnet. Every actor obeys one owner (the load script's EOA), so the whole load is
// one nonce sequence and lands on chain in the order the script wrote it.

/// @notice Owner gate shared by the load actors.
abstract contract LoadOwned {
    /// @notice The EOA that drives this actor.
    address public immutable owner;

    /// @notice The caller is not the owner.
    error NotOwner(address caller);

    constructor(address owner_) {
        owner = owner_;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }
}

/// @notice A client: holds tokens, approves the job manager once, posts, accepts, disputes and cancels in bulk.
contract LoadClient is LoadOwned {
    IJobManager public immutable jobManager;

    constructor(address owner_, IJobManager jobManager_, IERC20 token) LoadOwned(owner_) {
        jobManager = jobManager_;
        token.approve(address(jobManager_), type(uint256).max);
    }

    /// @notice Posts `count` jobs; spec hash, capabilities (0..3) and reward (1..100 tokens) vary per job.
    /// @return firstId The first new job id; the others follow it without gaps.
    function postMany(uint256 count, string calldata specURI, uint32 deadline, uint256 salt)
        external
        onlyOwner
        returns (uint256 firstId)
    {
        IJobManager jm = jobManager;
        for (uint256 i; i < count; ++i) {
            uint256 h = uint256(keccak256(abi.encode(salt, i)));
            // forge-lint: disable-next-line(unsafe-typecast)
            uint16 capabilities = uint16(h & 3);
            // forge-lint: disable-next-line(unsafe-typecast)
            uint96 reward = uint96(1e18 * (1 + (h >> 8) % 100));
            uint256 id = jm.postJob(bytes32(h), specURI, capabilities, reward, deadline, 3);
            if (i == 0) firstId = id;
        }
    }

    /// @notice Accepts, disputes and cancels the given jobs, in that order.
    function settle(uint256[] calldata accept, uint256[] calldata dispute, uint256[] calldata cancel)
        external
        onlyOwner
    {
        IJobManager jm = jobManager;
        for (uint256 i; i < accept.length; ++i) {
            jm.acceptResult(accept[i]);
        }
        for (uint256 i; i < dispute.length; ++i) {
            jm.disputeResult(dispute[i]);
        }
        for (uint256 i; i < cancel.length; ++i) {
            jm.cancelJob(cancel[i]);
        }
    }
}

/// @notice A worker: registers on creation, stakes from its own balance, submits results in bulk.
contract LoadWorker is LoadOwned {
    IJobManager public immutable jobManager;
    IWorkerRegistry public immutable registry;

    constructor(
        address owner_,
        IJobManager jobManager_,
        IWorkerRegistry registry_,
        IERC20 token,
        uint16 capabilities,
        string memory metadataURI
    ) LoadOwned(owner_) {
        jobManager = jobManager_;
        registry = registry_;
        registry_.register(capabilities, metadataURI);
        token.approve(address(registry_), type(uint256).max);
    }

    /// @notice Stakes `amount` of this contract's tokens.
    function stake(uint256 amount) external onlyOwner {
        registry.stake(amount);
    }

    /// @notice Starts unbonding `amount`.
    function requestUnstake(uint256 amount) external onlyOwner {
        registry.requestUnstake(amount);
    }

    /// @notice Submits a result for each job; DA kind (1 local or 2 Celestia: a kind-3 result needs its blob in the
    ///         transaction), commitment and size vary per job.
    function submitMany(uint256[] calldata jobIds, string calldata locator) external onlyOwner {
        IJobManager jm = jobManager;
        for (uint256 i; i < jobIds.length; ++i) {
            uint256 id = jobIds[i];
            // forge-lint: disable-next-line(unsafe-typecast)
            uint8 daKind = uint8(1 + id % 2);
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64 size = uint64(1024 + id % 1_000_000);
            jm.submitResult(id, daKind, keccak256(abi.encode(address(this), id)), size, locator);
        }
    }
}

/// @notice Holds COORDINATOR_ROLE (granted at deployment) and forwards batches from its owner.
contract LoadCoordinator is LoadOwned {
    constructor(address owner_) LoadOwned(owner_) {}

    function assignBatch(IJobManager jm, uint256[] calldata jobIds, address[] calldata workers)
        external
        onlyOwner
        returns (uint256)
    {
        return jm.assignBatch(jobIds, workers);
    }
}

/// @notice Holds ARBITER_ROLE (granted at deployment): rules disputes in bulk and unjails whom it jailed, so the
/// load keeps every worker assignable.
contract LoadArbiter is LoadOwned {
    constructor(address owner_) LoadOwned(owner_) {}

    function resolveMany(
        IJobManager jm,
        IWorkerRegistry registry,
        uint256[] calldata workerRight,
        uint256[] calldata workerAtFault
    ) external onlyOwner {
        for (uint256 i; i < workerRight.length; ++i) {
            jm.resolveDispute(workerRight[i], false);
        }
        for (uint256 i; i < workerAtFault.length; ++i) {
            address worker = jm.jobOf(workerAtFault[i]).worker;
            jm.resolveDispute(workerAtFault[i], true);
            if (registry.workerOf(worker).jailed) registry.unjail(worker);
        }
    }
}

/// @notice The load's address book (read back by the script's second phase) and a keeper for the permissionless
/// calls: finalize, expire, sweepFees.
contract LoadFleet is LoadOwned {
    IJobManager public immutable jobManager;
    IWorkerRegistry public immutable registry;
    IERC20 public immutable token;
    LoadCoordinator public immutable coordinator;
    LoadArbiter public immutable arbiter;
    /// @notice The first job id of the load: every job from it on was posted by this fleet's clients.
    uint256 public immutable firstJobId;
    LoadClient[] internal _clients;
    LoadWorker[] internal _workers;

    constructor(
        address owner_,
        IJobManager jobManager_,
        IWorkerRegistry registry_,
        IERC20 token_,
        LoadCoordinator coordinator_,
        LoadArbiter arbiter_,
        LoadClient[] memory clients_,
        LoadWorker[] memory workers_
    ) LoadOwned(owner_) {
        jobManager = jobManager_;
        registry = registry_;
        token = token_;
        coordinator = coordinator_;
        arbiter = arbiter_;
        firstJobId = jobManager_.jobCount() + 1;
        _clients = clients_;
        _workers = workers_;
    }

    function clients() external view returns (LoadClient[] memory) {
        return _clients;
    }

    function workers() external view returns (LoadWorker[] memory) {
        return _workers;
    }

    function finalizeMany(uint256[] calldata jobIds) external onlyOwner {
        IJobManager jm = jobManager;
        for (uint256 i; i < jobIds.length; ++i) {
            jm.finalize(jobIds[i]);
        }
    }

    function expireMany(uint256[] calldata jobIds) external onlyOwner {
        IJobManager jm = jobManager;
        for (uint256 i; i < jobIds.length; ++i) {
            jm.expire(jobIds[i]);
        }
    }

    function sweepFees() external onlyOwner {
        jobManager.sweepFees();
    }
}
