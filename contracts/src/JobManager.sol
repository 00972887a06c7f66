// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IJobManager} from "./interfaces/IJobManager.sol";
import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";
import {ProtocolBounds} from "./ProtocolBounds.sol";

/// @title JobManager
/// @notice Escrows job rewards and runs each job's life cycle (see {IJobManager} for the status graph).
/// The timelock (DEFAULT_ADMIN_ROLE) sets the protocol fee, slash share, assignment timeout, challenge window and
/// dispute period within {ProtocolBounds}, and grants COORDINATOR_ROLE and ARBITER_ROLE.
/// @dev Gas is a product feature here:
/// - a job is two storage slots ({Job}); the spec, its URI and the result's DA locator are events only;
/// - every parameter and the accrued fees share one slot, read once per call;
/// - fees accrue in that slot and reach the treasury by a permissionless {sweepFees}, instead of a second token
///   transfer on every payment;
/// - no loop over jobs or workers anywhere; {assignBatch} loops only over its own calldata.
/// Token conservation: this contract's balance equals the rewards of jobs in Open, Assigned, Submitted or
/// Disputed status plus the accrued fees.
contract JobManager is IJobManager, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice May assign jobs.
    bytes32 public constant COORDINATOR_ROLE = keccak256("COORDINATOR_ROLE");
    /// @notice May resolve disputes, and jail and slash in the registry.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

    /// @notice Parameter keys, as emitted in {ParameterUpdated}.
    bytes32 public constant PROTOCOL_FEE_BPS = "protocolFeeBps";
    bytes32 public constant SLASH_SHARE_BPS = "slashShareBps";
    bytes32 public constant ASSIGNMENT_TIMEOUT = "assignmentTimeout";
    bytes32 public constant CHALLENGE_WINDOW = "challengeWindow";
    bytes32 public constant DISPUTE_PERIOD = "disputePeriod";

    /// @notice Governed parameters and accrued fees, packed into one slot (16 + 16 + 32 + 32 + 32 + 96 bits).
    /// @param protocolFeeBps Fee on each paid reward, in basis points.
    /// @param slashShareBps Share of a worker's slashable stake taken on a fault, in basis points.
    /// @param assignmentTimeout Seconds an assigned worker has to submit (capped by the job's deadline).
    /// @param challengeWindow Seconds the client has to dispute a submitted result.
    /// @param disputePeriod Seconds the arbiter has to rule before anyone may refund the dispute.
    /// @param accruedFees Fees not yet swept to the treasury (tokens).
    struct Params {
        uint16 protocolFeeBps;
        uint16 slashShareBps;
        uint32 assignmentTimeout;
        uint32 challengeWindow;
        uint32 disputePeriod;
        uint96 accruedFees;
    }

    /// @notice The reward token.
    IERC20 public immutable token;
    /// @notice The worker registry consulted on assignment and called to slash.
    IWorkerRegistry public immutable registry;
    /// @notice Receives protocol fees (the timelock).
    address public immutable treasury;

    Params private _params;
    uint256 private _jobCount;
    mapping(uint256 jobId => Job) private _jobs;

    /// @notice Creates the job manager.
    /// @param token_ The reward token (the registry's staking token).
    /// @param registry_ The worker registry.
    /// @param treasury_ Receives protocol fees.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (the deployer, who hands it to the timelock).
    /// @param initial Initial parameters; `accruedFees` is ignored.
    constructor(IERC20 token_, IWorkerRegistry registry_, address treasury_, address admin, Params memory initial) {
        if (
            address(token_) == address(0) || address(registry_) == address(0) || treasury_ == address(0)
                || admin == address(0)
        ) revert ZeroAddress();
        token = token_;
        registry = registry_;
        treasury = treasury_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setProtocolFee(initial.protocolFeeBps);
        _setSlashShare(initial.slashShareBps);
        _setAssignmentTimeout(initial.assignmentTimeout);
        _setChallengeWindow(initial.challengeWindow);
        _setDisputePeriod(initial.disputePeriod);
    }

    // ----------------------------------------------------------------- client

    /// @inheritdoc IJobManager
    function postJob(
        bytes32 specHash,
        string calldata specURI,
        uint16 requiredCapabilities,
        uint96 reward,
        uint32 deadline,
        uint8 maxAttempts
    ) external nonReentrant returns (uint256 jobId) {
        jobId = _post(specHash, specURI, requiredCapabilities, reward, deadline, maxAttempts);
        token.safeTransferFrom(msg.sender, address(this), reward);
    }

    /// @notice {postJob}, approving the escrow through an EIP-2612 permit in the same transaction.
    /// @param specHash Hash of the job specification.
    /// @param specURI Where the specification lives; emitted, not stored.
    /// @param requiredCapabilities Capability bits a worker must have.
    /// @param reward Tokens escrowed.
    /// @param deadline The job must be assigned before this moment and its result submitted by it (unix seconds).
    /// @param maxAttempts Assignments allowed, 1..16.
    /// @param permitDeadline Permit deadline.
    /// @param v Permit signature v.
    /// @param r Permit signature r.
    /// @param s Permit signature s.
    /// @return jobId The new job's id.
    /// Emits {JobPosted}.
    function postJobWithPermit(
        bytes32 specHash,
        string calldata specURI,
        uint16 requiredCapabilities,
        uint96 reward,
        uint32 deadline,
        uint8 maxAttempts,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (uint256 jobId) {
        // A front-runner may have spent the permit already; the allowance it left is then used as is.
        try IERC20Permit(address(token)).permit(msg.sender, address(this), reward, permitDeadline, v, r, s) {} catch {}
        jobId = _post(specHash, specURI, requiredCapabilities, reward, deadline, maxAttempts);
        token.safeTransferFrom(msg.sender, address(this), reward);
    }

    /// @inheritdoc IJobManager
    function cancelJob(uint256 jobId) external nonReentrant {
        Job storage job = _jobs[jobId];
        _expectStatus(jobId, job.status, JobStatus.Open);
        address client = job.client;
        if (msg.sender != client) revert NotClient(jobId, msg.sender);
        uint256 reward = job.reward;
        job.status = JobStatus.Cancelled;
        emit JobCancelled(jobId, client, reward);
        token.safeTransfer(client, reward);
    }

    /// @inheritdoc IJobManager
    function acceptResult(uint256 jobId) external nonReentrant {
        Job storage job = _jobs[jobId];
        _expectStatus(jobId, job.status, JobStatus.Submitted);
        if (msg.sender != job.client) revert NotClient(jobId, msg.sender);
        _pay(jobId, job);
    }

    /// @inheritdoc IJobManager
    function disputeResult(uint256 jobId) external {
        Job storage job = _jobs[jobId];
        _expectStatus(jobId, job.status, JobStatus.Submitted);
        if (msg.sender != job.client) revert NotClient(jobId, msg.sender);
        uint256 endsAt = job.due;
        if (block.timestamp >= endsAt) revert ChallengeWindowClosed(jobId, endsAt);
        uint256 resolveBy = block.timestamp + _params.disputePeriod;
        job.status = JobStatus.Disputed;
        // Safe cast: unix seconds fit uint32 until 2106; the period is at most 3 days.
        // forge-lint: disable-next-line(unsafe-typecast)
        job.due = uint32(resolveBy);
        emit JobDisputed(jobId, msg.sender, resolveBy);
    }

    // ------------------------------------------------------------ coordinator

    /// @inheritdoc IJobManager
    function assign(uint256 jobId, address worker) external onlyRole(COORDINATOR_ROLE) {
        bytes memory reason = _tryAssign(jobId, worker, _params.assignmentTimeout);
        if (reason.length != 0) _revertWith(reason);
    }

    /// @inheritdoc IJobManager
    function assignBatch(uint256[] calldata jobIds, address[] calldata workers)
        external
        onlyRole(COORDINATOR_ROLE)
        returns (uint256 assigned)
    {
        uint256 n = jobIds.length;
        if (n != workers.length) revert LengthMismatch(n, workers.length);
        uint256 timeout = _params.assignmentTimeout;
        for (uint256 i; i < n; ++i) {
            bytes memory reason = _tryAssign(jobIds[i], workers[i], timeout);
            if (reason.length == 0) {
                ++assigned;
            } else {
                emit AssignmentSkipped(jobIds[i], workers[i], reason);
            }
        }
    }

    // ----------------------------------------------------------------- worker

    /// @inheritdoc IJobManager
    function submitResult(uint256 jobId, uint8 daKind, bytes32 commitment, uint64 size, string calldata locator)
        external
    {
        ProtocolBounds.checkUri(locator);
        Job storage job = _jobs[jobId];
        _expectStatus(jobId, job.status, JobStatus.Assigned);
        if (msg.sender != job.worker) revert NotAssignedWorker(jobId, msg.sender);
        uint256 due = job.due;
        if (block.timestamp > due) revert SubmissionOverdue(jobId, due);
        uint256 endsAt = block.timestamp + _params.challengeWindow;
        job.status = JobStatus.Submitted;
        // Safe cast: unix seconds fit uint32 until 2106; the window is at most 3 days.
        // forge-lint: disable-next-line(unsafe-typecast)
        job.due = uint32(endsAt);
        emit ResultSubmitted(jobId, msg.sender, daKind, commitment, size, endsAt, locator);
    }

    // ---------------------------------------------------------------- arbiter

    /// @inheritdoc IJobManager
    function resolveDispute(uint256 jobId, bool workerAtFault) external onlyRole(ARBITER_ROLE) nonReentrant {
        Job storage job = _jobs[jobId];
        _expectStatus(jobId, job.status, JobStatus.Disputed);
        uint256 resolveBy = job.due;
        if (block.timestamp > resolveBy) revert DisputePeriodOver(jobId, resolveBy);
        emit DisputeResolved(jobId, msg.sender, workerAtFault);
        if (workerAtFault) {
            address worker = job.worker;
            _refund(jobId, job);
            _slash(worker, job.client, jobId);
            if (!registry.workerOf(worker).jailed) registry.jail(worker);
        } else {
            _pay(jobId, job);
        }
    }

    // ----------------------------------------------------------------- anyone

    /// @inheritdoc IJobManager
    function finalize(uint256 jobId) external nonReentrant {
        Job storage job = _jobs[jobId];
        _expectStatus(jobId, job.status, JobStatus.Submitted);
        uint256 endsAt = job.due;
        if (block.timestamp < endsAt) revert ChallengeWindowOpen(jobId, endsAt);
        _pay(jobId, job);
    }

    /// @inheritdoc IJobManager
    function expire(uint256 jobId) external nonReentrant {
        Job storage job = _jobs[jobId];
        JobStatus status = job.status;
        if (status == JobStatus.Assigned && block.timestamp > job.due) {
            address worker = job.worker;
            bool reopen = job.attemptsLeft != 0 && block.timestamp < job.deadline;
            if (reopen) {
                job.status = JobStatus.Open;
                job.worker = address(0);
                job.due = 0;
            } else {
                _refund(jobId, job);
            }
            uint256 slashed = _slash(worker, job.client, jobId);
            emit AssignmentExpired(jobId, worker, slashed, reopen);
        } else if (
            (status == JobStatus.Open && block.timestamp >= job.deadline)
                || (status == JobStatus.Disputed && block.timestamp > job.due)
        ) {
            _refund(jobId, job);
        } else {
            if (status == JobStatus.None) revert UnknownJob(jobId);
            uint256 at;
            if (status == JobStatus.Open) at = job.deadline;
            else if (status == JobStatus.Assigned || status == JobStatus.Disputed) at = uint256(job.due) + 1;
            revert NotExpired(jobId, status, at);
        }
    }

    /// @inheritdoc IJobManager
    function sweepFees() external nonReentrant {
        uint256 amount = _params.accruedFees;
        if (amount == 0) revert NoFees();
        _params.accruedFees = 0;
        emit FeesSwept(treasury, amount);
        token.safeTransfer(treasury, amount);
    }

    // ------------------------------------------------------------- governance

    /// @notice Sets the protocol fee (timelock only), 0..2000 bps; applies to payments from now on.
    /// @param bps Basis points of each paid reward.
    /// Emits {ParameterUpdated}.
    function setProtocolFee(uint256 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setProtocolFee(bps);
    }

    /// @notice Sets the slash share (timelock only), 100..5000 bps of a worker's slashable stake.
    /// @param bps Basis points.
    /// Emits {ParameterUpdated}.
    function setSlashShare(uint256 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setSlashShare(bps);
    }

    /// @notice Sets the assignment timeout (timelock only), 1 minute..3 days; applies to later assignments.
    /// @param secs Seconds.
    /// Emits {ParameterUpdated}.
    function setAssignmentTimeout(uint256 secs) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setAssignmentTimeout(secs);
    }

    /// @notice Sets the challenge window (timelock only), 1 minute..3 days; applies to later submissions.
    /// @param secs Seconds.
    /// Emits {ParameterUpdated}.
    function setChallengeWindow(uint256 secs) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setChallengeWindow(secs);
    }

    /// @notice Sets the dispute period (timelock only), 1 hour..3 days; applies to later disputes.
    /// @param secs Seconds.
    /// Emits {ParameterUpdated}.
    function setDisputePeriod(uint256 secs) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDisputePeriod(secs);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IJobManager
    function jobOf(uint256 jobId) external view returns (Job memory) {
        return _jobs[jobId];
    }

    /// @inheritdoc IJobManager
    function jobCount() external view returns (uint256) {
        return _jobCount;
    }

    /// @notice Current parameters and accrued fees.
    /// @return The packed parameter slot.
    function parameters() external view returns (Params memory) {
        return _params;
    }

    // --------------------------------------------------------------- internal

    function _post(
        bytes32 specHash,
        string calldata specURI,
        uint16 requiredCapabilities,
        uint96 reward,
        uint32 deadline,
        uint8 maxAttempts
    ) private returns (uint256 jobId) {
        if (reward == 0) revert ZeroReward();
        if (deadline <= block.timestamp) revert DeadlineNotInFuture(deadline, block.timestamp);
        if (maxAttempts == 0 || maxAttempts > ProtocolBounds.MAX_ATTEMPTS) {
            revert InvalidMaxAttempts(maxAttempts, ProtocolBounds.MAX_ATTEMPTS);
        }
        ProtocolBounds.checkUri(specURI);
        jobId = ++_jobCount;
        _jobs[jobId] = Job({
            client: msg.sender,
            reward: reward,
            worker: address(0),
            deadline: deadline,
            due: 0,
            status: JobStatus.Open,
            attemptsLeft: maxAttempts,
            requiredCapabilities: requiredCapabilities
        });
        emit JobPosted(jobId, msg.sender, specHash, requiredCapabilities, reward, deadline, maxAttempts, specURI);
    }

    /// @dev Assigns or returns why not, as an ABI-encoded custom error; changes nothing when it returns a reason.
    function _tryAssign(uint256 jobId, address worker, uint256 timeout) private returns (bytes memory) {
        Job storage job = _jobs[jobId];
        JobStatus status = job.status;
        if (status != JobStatus.Open) {
            if (status == JobStatus.None) return abi.encodeWithSelector(UnknownJob.selector, jobId);
            return abi.encodeWithSelector(JobStatusMismatch.selector, jobId, JobStatus.Open, status);
        }
        uint256 deadline = job.deadline;
        if (block.timestamp >= deadline) return abi.encodeWithSelector(JobDeadlinePassed.selector, jobId, deadline);
        bytes memory reason = registry.assignable(worker, job.requiredCapabilities);
        if (reason.length != 0) return reason;
        uint256 due = block.timestamp + timeout;
        if (due > deadline) due = deadline;
        // An open job always has an attempt left: expire() reopens only when one remains.
        uint8 left = job.attemptsLeft - 1;
        job.worker = worker;
        // Safe cast: due is at most the uint32 deadline.
        // forge-lint: disable-next-line(unsafe-typecast)
        job.due = uint32(due);
        job.status = JobStatus.Assigned;
        job.attemptsLeft = left;
        emit JobAssigned(jobId, worker, due, left);
        return "";
    }

    function _pay(uint256 jobId, Job storage job) private {
        uint256 reward = job.reward;
        address worker = job.worker;
        uint256 fee = reward * _params.protocolFeeBps / ProtocolBounds.BPS;
        job.status = JobStatus.Paid;
        // Safe cast: fees are part of the escrow, itself below the token supply (< 2^96).
        // forge-lint: disable-next-line(unsafe-typecast)
        _params.accruedFees += uint96(fee);
        emit JobPaid(jobId, worker, reward - fee, fee);
        token.safeTransfer(worker, reward - fee);
    }

    function _refund(uint256 jobId, Job storage job) private {
        address client = job.client;
        uint256 reward = job.reward;
        job.status = JobStatus.Refunded;
        emit JobRefunded(jobId, client, reward);
        token.safeTransfer(client, reward);
    }

    /// @dev Slashes the governed share of the worker's slashable stake to `recipient`; returns what was taken.
    function _slash(address worker, address recipient, uint256 jobId) private returns (uint256) {
        uint256 amount = registry.slashableOf(worker) * _params.slashShareBps / ProtocolBounds.BPS;
        if (amount == 0) return 0;
        return registry.slash(worker, amount, recipient, jobId);
    }

    function _setProtocolFee(uint256 bps) private {
        ProtocolBounds.checkBounds(PROTOCOL_FEE_BPS, bps, 0, ProtocolBounds.MAX_PROTOCOL_FEE_BPS);
        emit ParameterUpdated(PROTOCOL_FEE_BPS, _params.protocolFeeBps, bps);
        // Safe cast: checked against the bounds above.
        // forge-lint: disable-next-line(unsafe-typecast)
        _params.protocolFeeBps = uint16(bps);
    }

    function _setSlashShare(uint256 bps) private {
        ProtocolBounds.checkBounds(
            SLASH_SHARE_BPS, bps, ProtocolBounds.MIN_SLASH_SHARE_BPS, ProtocolBounds.MAX_SLASH_SHARE_BPS
        );
        emit ParameterUpdated(SLASH_SHARE_BPS, _params.slashShareBps, bps);
        // Safe cast: checked against the bounds above.
        // forge-lint: disable-next-line(unsafe-typecast)
        _params.slashShareBps = uint16(bps);
    }

    function _setAssignmentTimeout(uint256 secs) private {
        ProtocolBounds.checkBounds(
            ASSIGNMENT_TIMEOUT, secs, ProtocolBounds.MIN_ASSIGNMENT_TIMEOUT, ProtocolBounds.MAX_ASSIGNMENT_TIMEOUT
        );
        emit ParameterUpdated(ASSIGNMENT_TIMEOUT, _params.assignmentTimeout, secs);
        // Safe cast: checked against the bounds above.
        // forge-lint: disable-next-line(unsafe-typecast)
        _params.assignmentTimeout = uint32(secs);
    }

    function _setChallengeWindow(uint256 secs) private {
        ProtocolBounds.checkBounds(
            CHALLENGE_WINDOW, secs, ProtocolBounds.MIN_CHALLENGE_WINDOW, ProtocolBounds.MAX_CHALLENGE_WINDOW
        );
        emit ParameterUpdated(CHALLENGE_WINDOW, _params.challengeWindow, secs);
        // Safe cast: checked against the bounds above.
        // forge-lint: disable-next-line(unsafe-typecast)
        _params.challengeWindow = uint32(secs);
    }

    function _setDisputePeriod(uint256 secs) private {
        ProtocolBounds.checkBounds(
            DISPUTE_PERIOD, secs, ProtocolBounds.MIN_DISPUTE_PERIOD, ProtocolBounds.MAX_DISPUTE_PERIOD
        );
        emit ParameterUpdated(DISPUTE_PERIOD, _params.disputePeriod, secs);
        // Safe cast: checked against the bounds above.
        // forge-lint: disable-next-line(unsafe-typecast)
        _params.disputePeriod = uint32(secs);
    }

    function _expectStatus(uint256 jobId, JobStatus actual, JobStatus expected) private pure {
        if (actual != expected) {
            if (actual == JobStatus.None) revert UnknownJob(jobId);
            revert JobStatusMismatch(jobId, expected, actual);
        }
    }

    function _revertWith(bytes memory reason) private pure {
        assembly ("memory-safe") {
            revert(add(reason, 0x20), mload(reason))
        }
    }
}
