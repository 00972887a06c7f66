// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IJobManager} from "./interfaces/IJobManager.sol";
import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";
import {ProtocolBounds} from "./ProtocolBounds.sol";

/// @title JobManager
/// @notice Escrows job rewards and runs each job's life cycle (see {IJobManager} for the status graph).
/// The timelock (DEFAULT_ADMIN_ROLE) sets every parameter within {ProtocolBounds}, and grants COORDINATOR_ROLE and
/// ARBITER_ROLE.
///
/// Money rules (nobody profits from another party's failure beyond a bounded, stated compensation):
/// - Fault slash: a fault (an assignment left past its due time, a dispute lost) slashes the worker
///   min(slashable stake x slashShareBps, reward x slashRewardMultipleBps) / 10_000: proportional to the job.
/// - Bounded compensation: of each fault slash the client receives at most reward x compensationBps / 10_000; the
///   rest accrues to the treasury. So a client's receipts from one job never exceed the reward it escrowed plus
///   attempts x reward x compensationBps / 10_000 (at most 16 x 10% of the reward), however the job fails. A
///   redundant job compensates only a dispute its agreeing replicas lose: at most redundancy x reward x
///   compensationBps / 10_000 (at most 7 x 10%); a replica that does not commit, does not reveal or dissents is
///   slashed to the treasury alone.
/// - Minimum time to submit: a job is assigned, or reopened after an expiry or a decline, only while its deadline
///   is at least minSubmitWindow away; otherwise it is not assigned ({DeadlineTooSoon}) or it is refunded.
/// - Decline: the assigned worker may hand a job back before its due time ({declineJob}) for a fee of
///   reward x declineFeeBps / 10_000 (capped at its stake) to the treasury, never to the client, without jail.
/// - Dispute bond: a dispute escrows reward x disputeBondBps / 10_000 from the client. It goes back to the client
///   when the worker is at fault or the arbiter stays silent, and to the worker when the worker was right. A
///   dispute the arbiter leaves past its period pays the worker as if the result stood.
/// @dev Gas is a product feature here:
/// - a job is two storage slots ({Job}); the spec, its URI and the result's DA locator are events only;
/// - the parameters read on the hot paths and the accrued fees share one slot, read once per call; the fault
///   parameters ({Penalties}) live in a second slot read only when a fault, decline or dispute happens;
/// - fees accrue in that slot and reach the treasury by a permissionless {sweepFees}, instead of a second token
///   transfer on every payment;
/// - no loop over jobs or workers anywhere; {assignBatch} loops only over its own calldata.
/// Token conservation: this contract's balance equals the rewards of jobs in Open, Assigned, Submitted, Disputed,
/// Gathering, Committing or Revealing status plus the accrued fees plus the dispute bonds held (jobs in Disputed
/// status). Slashed stake
/// passes through: the registry sends it here, and it leaves at once as compensation or stays as accrued fees.
contract JobManager is IJobManager, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice May assign jobs.
    bytes32 public constant COORDINATOR_ROLE = keccak256("COORDINATOR_ROLE");
    /// @notice May resolve disputes, and jail and unjail in the registry (slashing only through {resolveDispute}).
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

    /// @notice Parameter keys, as emitted in {ParameterUpdated}.
    bytes32 public constant PROTOCOL_FEE_BPS = "protocolFeeBps";
    bytes32 public constant SLASH_SHARE_BPS = "slashShareBps";
    bytes32 public constant ASSIGNMENT_TIMEOUT = "assignmentTimeout";
    bytes32 public constant CHALLENGE_WINDOW = "challengeWindow";
    bytes32 public constant DISPUTE_PERIOD = "disputePeriod";
    bytes32 public constant MIN_SUBMIT_WINDOW = "minSubmitWindow";
    bytes32 public constant SLASH_REWARD_MULTIPLE_BPS = "slashRewardMultipleBps";
    bytes32 public constant COMPENSATION_BPS = "compensationBps";
    bytes32 public constant DECLINE_FEE_BPS = "declineFeeBps";
    bytes32 public constant DISPUTE_BOND_BPS = "disputeBondBps";
    bytes32 public constant REVEAL_WINDOW = "revealWindow";
    bytes32 public constant CONSENSUS_BPS = "consensusBps";

    /// @notice Decline reasons of {declineJob}.
    uint8 public constant DECLINE_SPEC_UNREACHABLE = 1;
    uint8 public constant DECLINE_SPEC_HASH_MISMATCH = 2;
    uint8 public constant DECLINE_LIMITS_EXCEEDED = 3;
    uint8 public constant DECLINE_CANNOT_START = 4;

    /// @notice The last DA kind of a result reference (1 the coordinator's archive, 2 Celestia), EIP-4844: its
    /// commitment is the versioned hash of blob 0 of the submitting transaction.
    uint8 internal constant DA_KIND_EIP4844 = 3;

    /// @notice Replica faults of {ReplicaFaulted}.
    uint8 public constant FAULT_NO_COMMIT = 1;
    uint8 public constant FAULT_NO_REVEAL = 2;
    uint8 public constant FAULT_DISSENT = 3;
    uint8 public constant FAULT_DISPUTE_LOST = 4;

    /// @notice Governed parameters of the hot paths and accrued fees, packed into one slot
    /// (16 + 16 + 32 + 32 + 32 + 32 + 96 bits).
    /// @param protocolFeeBps Fee on each paid reward, in basis points.
    /// @param slashShareBps Share of a worker's slashable stake taken on a fault, in basis points.
    /// @param assignmentTimeout Seconds an assigned worker has to submit (capped by the job's deadline).
    /// @param challengeWindow Seconds the client has to dispute a submitted result.
    /// @param disputePeriod Seconds the arbiter has to rule before anyone may settle the dispute for the worker.
    /// @param minSubmitWindow Least seconds between an assignment (or reopening) and the job's deadline.
    /// @param accruedFees Fees not yet swept to the treasury (tokens).
    struct Params {
        uint16 protocolFeeBps;
        uint16 slashShareBps;
        uint32 assignmentTimeout;
        uint32 challengeWindow;
        uint32 disputePeriod;
        uint32 minSubmitWindow;
        uint96 accruedFees;
    }

    /// @notice Governed fault and redundancy parameters, in a second slot read only on the fault, decline, dispute
    /// and redundant-job paths (5 x 16 + 32 bits).
    /// @param slashRewardMultipleBps Cap of a fault slash, in basis points of the reward (20_000 = twice the reward).
    /// @param compensationBps The most of one fault slash the client receives, in basis points of the reward; the
    /// rest goes to the treasury.
    /// @param declineFeeBps Fee of {declineJob}, in basis points of the reward, to the treasury.
    /// @param disputeBondBps Bond the client escrows to dispute, in basis points of the reward.
    /// @param consensusBps Least share of a redundant job's replicas that must agree (basis points, rounded up).
    /// @param revealWindow Seconds the replicas have to reveal once the commit phase closes.
    struct Penalties {
        uint16 slashRewardMultipleBps;
        uint16 compensationBps;
        uint16 declineFeeBps;
        uint16 disputeBondBps;
        uint16 consensusBps;
        uint32 revealWindow;
    }

    /// @dev Where a worker sits in a redundant job: its replica number (from 1), phase, sealed and revealed result.
    struct Seat {
        uint8 index;
        ReplicaPhase phase;
        bytes32 sealedResult;
        bytes32 commitment;
    }

    /// @notice The reward token.
    IERC20 public immutable token;
    /// @notice The worker registry consulted on assignment and called to slash.
    IWorkerRegistry public immutable registry;
    /// @notice Receives protocol fees (the timelock).
    address public immutable treasury;

    Params private _params;
    Penalties private _penalties;
    uint256 private _jobCount;
    mapping(uint256 jobId => Job) private _jobs;
    /// @dev Written only on dispute, cleared when the bond is released.
    mapping(uint256 jobId => uint256) private _disputeBonds;
    /// @dev Redundant jobs only: counters, the agreed commitment, replica workers by number, and their seats.
    mapping(uint256 jobId => Redundancy) private _redundancy;
    mapping(uint256 jobId => bytes32) private _consensus;
    mapping(uint256 jobId => mapping(uint256 replica => address)) private _replicaWorkers;
    mapping(uint256 jobId => mapping(address worker => Seat)) private _seats;

    /// @notice Creates the job manager.
    /// @param token_ The reward token (the registry's staking token).
    /// @param registry_ The worker registry.
    /// @param treasury_ Receives protocol fees.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (the deployer, who hands it to the timelock).
    /// @param initial Initial parameters; `accruedFees` is ignored.
    /// @param initialPenalties Initial fault parameters.
    constructor(
        IERC20 token_,
        IWorkerRegistry registry_,
        address treasury_,
        address admin,
        Params memory initial,
        Penalties memory initialPenalties
    ) {
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
        _setMinSubmitWindow(initial.minSubmitWindow);
        _setSlashRewardMultiple(initialPenalties.slashRewardMultipleBps);
        _setCompensation(initialPenalties.compensationBps);
        _setDeclineFee(initialPenalties.declineFeeBps);
        _setDisputeBond(initialPenalties.disputeBondBps);
        _setConsensusShare(initialPenalties.consensusBps);
        _setRevealWindow(initialPenalties.revealWindow);
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
        jobId = _post(specHash, specURI, requiredCapabilities, reward, deadline, maxAttempts, JobStatus.Open);
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
        jobId = _post(specHash, specURI, requiredCapabilities, reward, deadline, maxAttempts, JobStatus.Open);
        token.safeTransferFrom(msg.sender, address(this), reward);
    }

    /// @inheritdoc IJobManager
    function postRedundantJob(
        bytes32 specHash,
        string calldata specURI,
        uint16 requiredCapabilities,
        uint96 reward,
        uint32 deadline,
        uint8 redundancy,
        uint8 threshold
    ) external nonReentrant returns (uint256 jobId) {
        uint256 least = (uint256(redundancy) * _penalties.consensusBps + ProtocolBounds.BPS - 1) / ProtocolBounds.BPS;
        // Safe cast: least <= redundancy (consensusBps <= 10_000), checked against MAX_REDUNDANCY below.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (threshold == 0) threshold = uint8(least);
        if (redundancy < 2 || redundancy > ProtocolBounds.MAX_REDUNDANCY || threshold < least || threshold > redundancy)
        {
            revert InvalidRedundancy(redundancy, threshold, least, ProtocolBounds.MAX_REDUNDANCY);
        }
        jobId = _post(specHash, specURI, requiredCapabilities, reward, deadline, 1, JobStatus.Gathering);
        _redundancy[jobId] = Redundancy({
            redundancy: redundancy, threshold: threshold, assigned: 0, committed: 0, revealed: 0, agreeing: 0
        });
        emit RedundancyRequested(jobId, redundancy, threshold);
        token.safeTransferFrom(msg.sender, address(this), reward);
    }

    /// @inheritdoc IJobManager
    function cancelJob(uint256 jobId) external nonReentrant {
        Job storage job = _jobs[jobId];
        JobStatus status = job.status;
        // A redundant job may be cancelled until its first replica is assigned.
        if (status != JobStatus.Gathering || _redundancy[jobId].assigned != 0) {
            _expectStatus(jobId, status, JobStatus.Open);
        }
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
    function disputeResult(uint256 jobId) external nonReentrant {
        Job storage job = _jobs[jobId];
        _expectStatus(jobId, job.status, JobStatus.Submitted);
        if (msg.sender != job.client) revert NotClient(jobId, msg.sender);
        uint256 endsAt = job.due;
        if (block.timestamp >= endsAt) revert ChallengeWindowClosed(jobId, endsAt);
        uint256 resolveBy = block.timestamp + _params.disputePeriod;
        uint256 bond = uint256(job.reward) * _penalties.disputeBondBps / ProtocolBounds.BPS;
        job.status = JobStatus.Disputed;
        job.due = SafeCast.toUint32(resolveBy);
        if (bond != 0) _disputeBonds[jobId] = bond;
        emit JobDisputed(jobId, msg.sender, resolveBy, bond);
        if (bond != 0) token.safeTransferFrom(msg.sender, address(this), bond);
    }

    // ------------------------------------------------------------ coordinator

    /// @inheritdoc IJobManager
    function assign(uint256 jobId, address worker) external onlyRole(COORDINATOR_ROLE) {
        // Both fields share the parameter slot (no memory copy of the whole struct).
        Params storage p = _params;
        bytes memory reason = _tryAssign(jobId, worker, p.assignmentTimeout, p.minSubmitWindow);
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
        Params storage p = _params;
        uint256 timeout = p.assignmentTimeout;
        uint256 window = p.minSubmitWindow;
        for (uint256 i; i < n; ++i) {
            bytes memory reason = _tryAssign(jobIds[i], workers[i], timeout, window);
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
        _checkResult(daKind, commitment, locator);
        Job storage job = _jobs[jobId];
        _expectStatus(jobId, job.status, JobStatus.Assigned);
        if (msg.sender != job.worker) revert NotAssignedWorker(jobId, msg.sender);
        uint256 due = job.due;
        if (block.timestamp > due) revert SubmissionOverdue(jobId, due);
        uint256 endsAt = block.timestamp + _params.challengeWindow;
        job.status = JobStatus.Submitted;
        job.due = SafeCast.toUint32(endsAt);
        emit ResultSubmitted(jobId, msg.sender, daKind, commitment, size, endsAt, locator);
    }

    /// @inheritdoc IJobManager
    function commitResult(uint256 jobId, bytes32 sealedResult) external {
        Job storage job = _jobs[jobId];
        JobStatus status = job.status;
        if (status != JobStatus.Gathering) _expectStatus(jobId, status, JobStatus.Committing);
        Seat storage seat = _seats[jobId][msg.sender];
        if (seat.phase != ReplicaPhase.Assigned) revert NotReplica(jobId, msg.sender, ReplicaPhase.Assigned);
        uint256 due = job.due;
        if (block.timestamp > due) revert CommitOverdue(jobId, due);
        seat.phase = ReplicaPhase.Committed;
        seat.sealedResult = sealedResult;
        Redundancy storage red = _redundancy[jobId];
        uint8 committed = red.committed + 1;
        red.committed = committed;
        emit ResultCommitted(jobId, msg.sender, sealedResult);
        if (committed == red.redundancy) _openReveal(jobId, job, committed, block.timestamp);
    }

    /// @inheritdoc IJobManager
    function revealResult(
        uint256 jobId,
        uint8 daKind,
        bytes32 commitment,
        uint64 size,
        bytes32 salt,
        string calldata locator
    ) external nonReentrant {
        _checkResult(daKind, commitment, locator);
        Job storage job = _jobs[jobId];
        // Past the commit due, the commit phase closes with the first reveal (nobody need call expire first).
        if (job.status == JobStatus.Committing && block.timestamp > job.due && !_closeCommits(jobId, job)) return;
        _expectStatus(jobId, job.status, JobStatus.Revealing);
        Seat storage seat = _seats[jobId][msg.sender];
        if (seat.phase != ReplicaPhase.Committed) revert NotReplica(jobId, msg.sender, ReplicaPhase.Committed);
        uint256 due = job.due;
        if (block.timestamp > due) revert SubmissionOverdue(jobId, due);
        if (commitment == 0 || sealResult(jobId, commitment, salt, msg.sender) != seat.sealedResult) {
            revert RevealMismatch(jobId, msg.sender);
        }
        seat.phase = ReplicaPhase.Revealed;
        seat.commitment = commitment;
        Redundancy storage red = _redundancy[jobId];
        uint8 revealed = red.revealed + 1;
        red.revealed = revealed;
        emit ResultRevealed(jobId, msg.sender, daKind, commitment, size, locator);
        if (revealed == red.committed) _settle(jobId, job, true, block.timestamp);
    }

    /// @inheritdoc IJobManager
    function declineJob(uint256 jobId, uint8 reason) external nonReentrant {
        if (reason == 0 || reason > DECLINE_CANNOT_START) revert InvalidDeclineReason(reason);
        Job storage job = _jobs[jobId];
        JobStatus status = job.status;
        if (status == JobStatus.Gathering || status == JobStatus.Committing) {
            return _declineReplica(jobId, job, reason);
        }
        _expectStatus(jobId, status, JobStatus.Assigned);
        if (msg.sender != job.worker) revert NotAssignedWorker(jobId, msg.sender);
        uint256 due = job.due;
        if (block.timestamp > due) revert SubmissionOverdue(jobId, due);
        uint256 fee = uint256(job.reward) * _penalties.declineFeeBps / ProtocolBounds.BPS;
        // The registry caps the fee at the worker's slashable stake; all of it accrues to the treasury.
        if (fee != 0) fee = registry.slash(msg.sender, fee, address(this), jobId);
        if (fee != 0) _params.accruedFees += SafeCast.toUint96(fee);
        bool reopen = job.attemptsLeft != 0 && block.timestamp + _params.minSubmitWindow <= job.deadline;
        emit JobDeclined(jobId, msg.sender, reason, fee, reopen);
        if (reopen) {
            job.status = JobStatus.Open;
            job.worker = address(0);
            job.due = 0;
        } else {
            _refund(jobId, job);
        }
    }

    // ---------------------------------------------------------------- arbiter

    /// @inheritdoc IJobManager
    function resolveDispute(uint256 jobId, bool workerAtFault) external onlyRole(ARBITER_ROLE) nonReentrant {
        Job storage job = _jobs[jobId];
        _expectStatus(jobId, job.status, JobStatus.Disputed);
        uint256 resolveBy = job.due;
        if (block.timestamp > resolveBy) revert DisputePeriodOver(jobId, resolveBy);
        emit DisputeResolved(jobId, msg.sender, workerAtFault);
        address worker = job.worker;
        if (workerAtFault) {
            address client = job.client;
            uint256 reward = job.reward;
            _refund(jobId, job);
            _releaseBond(jobId, client);
            if (worker != address(0)) {
                _slash(jobId, worker, client, reward, true);
                _jail(worker);
            } else {
                address[] memory agreeing = _agreeing(jobId);
                for (uint256 i; i < agreeing.length; ++i) {
                    emit ReplicaFaulted(
                        jobId, agreeing[i], FAULT_DISPUTE_LOST, _slash(jobId, agreeing[i], client, reward, true)
                    );
                    _jail(agreeing[i]);
                }
            }
        } else if (worker != address(0)) {
            _pay(jobId, job);
            _releaseBond(jobId, worker);
        } else {
            _payReplicas(jobId, job, true);
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
            bool reopen = job.attemptsLeft != 0 && block.timestamp + _params.minSubmitWindow <= job.deadline;
            if (reopen) {
                job.status = JobStatus.Open;
                job.worker = address(0);
                job.due = 0;
            } else {
                _refund(jobId, job);
            }
            uint256 slashed = _slash(jobId, worker, job.client, job.reward, true);
            emit AssignmentExpired(jobId, worker, slashed, reopen);
        } else if (status == JobStatus.Open && block.timestamp >= job.deadline) {
            _refund(jobId, job);
        } else if (status == JobStatus.Disputed && block.timestamp > job.due) {
            // The arbiter stayed silent: the result stands, and the client gets its bond back.
            _pay(jobId, job);
            _releaseBond(jobId, job.client);
        } else if (status >= JobStatus.Gathering && block.timestamp >= _phaseEnd(job)) {
            if (status == JobStatus.Gathering) {
                // Too few replicas by the commit due (or the deadline): nobody's fault, the client is refunded.
                emit ConsensusFailed(jobId, 0);
                _refund(jobId, job);
            } else if (status == JobStatus.Committing) {
                _closeCommits(jobId, job);
            } else {
                // The reveal window has passed: the challenge window runs from its end.
                _settle(jobId, job, true, job.due);
            }
        } else {
            if (status == JobStatus.None) revert UnknownJob(jobId);
            uint256 at;
            if (status == JobStatus.Open) at = job.deadline;
            else if (status == JobStatus.Assigned || status == JobStatus.Disputed) at = uint256(job.due) + 1;
            else if (status >= JobStatus.Gathering) at = _phaseEnd(job);
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

    /// @notice Sets the minimum submit window (timelock only), 1 minute..1 day: a job is assigned or reopened only
    /// while its deadline is at least this far away.
    /// @param secs Seconds.
    /// Emits {ParameterUpdated}.
    function setMinSubmitWindow(uint256 secs) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMinSubmitWindow(secs);
    }

    /// @notice Sets the cap of a fault slash as a multiple of the reward (timelock only), 1_000..50_000 bps
    /// (0.1x..5x).
    /// @param bps Basis points of the reward.
    /// Emits {ParameterUpdated}.
    function setSlashRewardMultiple(uint256 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setSlashRewardMultiple(bps);
    }

    /// @notice Sets the most of one fault slash the client receives (timelock only), 0..1_000 bps of the reward.
    /// @param bps Basis points of the reward.
    /// Emits {ParameterUpdated}.
    function setCompensation(uint256 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setCompensation(bps);
    }

    /// @notice Sets the least share of a redundant job's replicas that must agree (timelock only), 5_001..10_000 bps
    /// (always more than half); applies to jobs posted from now on.
    /// @param bps Basis points of the redundancy, rounded up.
    /// Emits {ParameterUpdated}.
    function setConsensusShare(uint256 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setConsensusShare(bps);
    }

    /// @notice Sets the reveal window of redundant jobs (timelock only), 1 minute..1 day; applies to commit phases
    /// closing from now on.
    /// @param secs Seconds.
    /// Emits {ParameterUpdated}.
    function setRevealWindow(uint256 secs) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setRevealWindow(secs);
    }

    /// @notice Sets the decline fee (timelock only), 0..1_000 bps of the reward.
    /// @param bps Basis points of the reward.
    /// Emits {ParameterUpdated}.
    function setDeclineFee(uint256 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDeclineFee(bps);
    }

    /// @notice Sets the dispute bond (timelock only), 0..10_000 bps of the reward; applies to later disputes.
    /// @param bps Basis points of the reward.
    /// Emits {ParameterUpdated}.
    function setDisputeBond(uint256 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDisputeBond(bps);
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

    /// @notice Current fault parameters.
    /// @return The packed fault parameter slot.
    function penalties() external view returns (Penalties memory) {
        return _penalties;
    }

    /// @inheritdoc IJobManager
    function disputeBondOf(uint256 jobId) external view returns (uint256) {
        return _disputeBonds[jobId];
    }

    /// @inheritdoc IJobManager
    function redundancyOf(uint256 jobId) external view returns (Redundancy memory, bytes32) {
        return (_redundancy[jobId], _consensus[jobId]);
    }

    /// @inheritdoc IJobManager
    function replicaOf(uint256 jobId, uint256 replica) external view returns (Replica memory) {
        address worker = _replicaWorkers[jobId][replica];
        Seat storage seat = _seats[jobId][worker];
        return Replica(worker, seat.phase, seat.sealedResult, seat.commitment);
    }

    /// @inheritdoc IJobManager
    function sealResult(uint256 jobId, bytes32 commitment, bytes32 salt, address worker) public pure returns (bytes32) {
        return keccak256(abi.encode(jobId, commitment, salt, worker));
    }

    // --------------------------------------------------------------- internal

    function _post(
        bytes32 specHash,
        string calldata specURI,
        uint16 requiredCapabilities,
        uint96 reward,
        uint32 deadline,
        uint8 maxAttempts,
        JobStatus status
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
            status: status,
            attemptsLeft: maxAttempts,
            requiredCapabilities: requiredCapabilities
        });
        emit JobPosted(jobId, msg.sender, specHash, requiredCapabilities, reward, deadline, maxAttempts, specURI);
    }

    /// @dev Assigns or returns why not, as an ABI-encoded custom error; changes nothing when it returns a reason.
    function _tryAssign(uint256 jobId, address worker, uint256 timeout, uint256 window) private returns (bytes memory) {
        Job storage job = _jobs[jobId];
        JobStatus status = job.status;
        if (status != JobStatus.Open) {
            if (status == JobStatus.Gathering) return _tryAssignReplica(jobId, job, worker, timeout, window);
            if (status == JobStatus.None) return abi.encodeWithSelector(UnknownJob.selector, jobId);
            return abi.encodeWithSelector(JobStatusMismatch.selector, jobId, JobStatus.Open, status);
        }
        uint256 deadline = job.deadline;
        if (block.timestamp >= deadline) return abi.encodeWithSelector(JobDeadlinePassed.selector, jobId, deadline);
        uint256 earliest = block.timestamp + window;
        if (deadline < earliest) return abi.encodeWithSelector(DeadlineTooSoon.selector, jobId, deadline, earliest);
        bytes memory reason = registry.assignable(worker, job.requiredCapabilities);
        if (reason.length != 0) return reason;
        uint256 due = block.timestamp + timeout;
        if (due > deadline) due = deadline;
        // An open job always has an attempt left: expire() reopens only when one remains.
        uint8 left = job.attemptsLeft - 1;
        job.worker = worker;
        job.due = SafeCast.toUint32(due);
        job.status = JobStatus.Assigned;
        job.attemptsLeft = left;
        emit JobAssigned(jobId, worker, due, left);
        return "";
    }

    /// @dev Assigns one replica of a gathering job or returns why not; changes nothing when it returns a reason. The
    /// first replica sets the commit due; each later one must still have the minimum submit window before it.
    function _tryAssignReplica(uint256 jobId, Job storage job, address worker, uint256 timeout, uint256 window)
        private
        returns (bytes memory)
    {
        uint256 due = job.due;
        uint256 earliest = block.timestamp + window;
        if (due == 0) {
            uint256 deadline = job.deadline;
            if (block.timestamp >= deadline) {
                return abi.encodeWithSelector(JobDeadlinePassed.selector, jobId, deadline);
            }
            if (deadline < earliest) {
                return abi.encodeWithSelector(DeadlineTooSoon.selector, jobId, deadline, earliest);
            }
            due = block.timestamp + timeout;
            if (due > deadline) due = deadline;
        } else if (due < earliest) {
            return abi.encodeWithSelector(DeadlineTooSoon.selector, jobId, due, earliest);
        }
        Seat storage seat = _seats[jobId][worker];
        if (worker == job.client || seat.index != 0) {
            return abi.encodeWithSelector(ReplicaNotIndependent.selector, jobId, worker);
        }
        bytes memory reason = registry.assignable(worker, job.requiredCapabilities);
        if (reason.length != 0) return reason;
        Redundancy storage red = _redundancy[jobId];
        uint8 index = red.assigned + 1;
        red.assigned = index;
        _replicaWorkers[jobId][index] = worker;
        seat.index = index;
        seat.phase = ReplicaPhase.Assigned;
        job.due = SafeCast.toUint32(due);
        if (index == red.redundancy) job.status = JobStatus.Committing;
        emit ReplicaAssigned(jobId, worker, index, due);
        return "";
    }

    /// @dev Opens the reveal window from `start`: reveals are due within the reveal window.
    function _openReveal(uint256 jobId, Job storage job, uint256 committed, uint256 start) private {
        uint256 due = start + _penalties.revealWindow;
        job.status = JobStatus.Revealing;
        job.due = SafeCast.toUint32(due);
        emit RevealOpened(jobId, committed, due);
    }

    /// @dev Closes a commit phase whose due time has passed; whether reveals may go on. Too few commits for the
    /// threshold: settled at once (refunded; the replicas that did not commit slashed). Otherwise the reveal
    /// window runs from the commit due, not from this call, so no one stays liable longer than the bounds allow;
    /// a window already over is settled at once.
    function _closeCommits(uint256 jobId, Job storage job) private returns (bool) {
        Redundancy storage red = _redundancy[jobId];
        uint8 committed = red.committed;
        if (committed < red.threshold) {
            _settle(jobId, job, false, block.timestamp);
            return false;
        }
        _openReveal(jobId, job, committed, job.due);
        uint256 revealDue = job.due;
        if (block.timestamp <= revealDue) return true;
        _settle(jobId, job, true, revealDue);
        return false;
    }

    /// @dev A replica hands its assignment back before committing (by the commit due) for the decline fee, to the
    /// treasury; it is not at fault when the job settles. The job goes on with the other replicas.
    function _declineReplica(uint256 jobId, Job storage job, uint8 reason) private {
        Seat storage seat = _seats[jobId][msg.sender];
        if (seat.phase != ReplicaPhase.Assigned) revert NotReplica(jobId, msg.sender, ReplicaPhase.Assigned);
        uint256 due = job.due;
        if (block.timestamp > due) revert SubmissionOverdue(jobId, due);
        seat.phase = ReplicaPhase.Declined;
        uint256 fee = uint256(job.reward) * _penalties.declineFeeBps / ProtocolBounds.BPS;
        if (fee != 0) fee = registry.slash(msg.sender, fee, address(this), jobId);
        if (fee != 0) _params.accruedFees += SafeCast.toUint96(fee);
        emit JobDeclined(jobId, msg.sender, reason, fee, false);
    }

    /// @dev When a redundant job's current phase may be closed by {expire}: the deadline while no replica is
    /// assigned, else just after the phase's due time.
    function _phaseEnd(Job storage job) private view returns (uint256) {
        uint256 due = job.due;
        return due == 0 ? job.deadline : due + 1;
    }

    /// @dev Settles a redundant job's reveals (loops only over its replicas, at most MAX_REDUNDANCY). The commitment
    /// most replicas revealed is the result when at least the threshold agree (more than half: at most one can);
    /// then every replica that did not commit, did not reveal or revealed something else is slashed, and the job
    /// waits out the challenge window. Otherwise the job is refunded, and only the replicas that did not commit or
    /// reveal are slashed: without a consensus no revealed result can be called wrong.
    function _settle(uint256 jobId, Job storage job, bool revealsWereDue, uint256 start) private {
        Redundancy storage red = _redundancy[jobId];
        uint256 n = red.assigned;
        address[] memory workers = new address[](n);
        ReplicaPhase[] memory phases = new ReplicaPhase[](n);
        bytes32[] memory revealed = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            address worker = _replicaWorkers[jobId][i + 1];
            Seat storage seat = _seats[jobId][worker];
            workers[i] = worker;
            phases[i] = seat.phase;
            if (phases[i] == ReplicaPhase.Revealed) revealed[i] = seat.commitment;
        }
        (bytes32 best, uint256 agreeing) = _mostRevealed(phases, revealed);
        bool reached = agreeing >= red.threshold;
        if (reached) {
            uint256 endsAt = start + _params.challengeWindow;
            _consensus[jobId] = best;
            // Safe cast: at most the replicas assigned, a uint8.
            // forge-lint: disable-next-line(unsafe-typecast)
            red.agreeing = uint8(agreeing);
            job.status = JobStatus.Submitted;
            job.due = SafeCast.toUint32(endsAt);
            emit ConsensusReached(jobId, best, agreeing, endsAt);
        } else {
            emit ConsensusFailed(jobId, agreeing);
            _refund(jobId, job);
        }
        _slashSilent(jobId, job, workers, phases, revealsWereDue);
    }

    /// @dev The commitment most revealed replicas agree on, and how many.
    function _mostRevealed(ReplicaPhase[] memory phases, bytes32[] memory revealed)
        private
        pure
        returns (bytes32 best, uint256 count)
    {
        for (uint256 i; i < phases.length; ++i) {
            if (phases[i] != ReplicaPhase.Revealed) continue;
            uint256 same;
            for (uint256 j; j < phases.length; ++j) {
                if (phases[j] == ReplicaPhase.Revealed && revealed[j] == revealed[i]) ++same;
            }
            if (same > count) (best, count) = (revealed[i], same);
        }
    }

    /// @dev Slashes every replica that did not commit, and, once reveals were due, every one that did not reveal.
    /// These faults cost the replica whatever the result is; their slash goes to the treasury, not the client,
    /// so a client gains nothing from a job its replicas cannot run. Dissent is slashed only once the result
    /// stands (see {_payReplicas}).
    function _slashSilent(
        uint256 jobId,
        Job storage job,
        address[] memory workers,
        ReplicaPhase[] memory phases,
        bool revealsWereDue
    ) private {
        address client = job.client;
        uint256 reward = job.reward;
        for (uint256 i; i < workers.length; ++i) {
            uint8 fault;
            if (phases[i] == ReplicaPhase.Assigned) fault = FAULT_NO_COMMIT;
            else if (phases[i] == ReplicaPhase.Committed && revealsWereDue) fault = FAULT_NO_REVEAL;
            else continue;
            emit ReplicaFaulted(jobId, workers[i], fault, _slash(jobId, workers[i], client, reward, false));
        }
    }

    /// @dev The replicas whose reveal matched the consensus, in replica order.
    function _agreeing(uint256 jobId) private view returns (address[] memory agreeing) {
        Redundancy storage red = _redundancy[jobId];
        bytes32 consensus = _consensus[jobId];
        agreeing = new address[](red.agreeing);
        uint256 found;
        for (uint256 i = 1; found < agreeing.length; ++i) {
            address worker = _replicaWorkers[jobId][i];
            Seat storage seat = _seats[jobId][worker];
            if (seat.phase == ReplicaPhase.Revealed && seat.commitment == consensus) agreeing[found++] = worker;
        }
    }

    /// @dev Pays a redundant job: the agreeing replicas share the reward less the fee equally; what does not divide
    /// evenly accrues with the fee (reported on the first replica's {JobPaid}). With `withBond`, they also share
    /// the held dispute bond (the first takes what does not divide evenly), in the same transfer.
    function _payReplicas(uint256 jobId, Job storage job, bool withBond) private {
        address[] memory agreeing = _agreeing(jobId);
        uint256 m = agreeing.length;
        uint256 reward = job.reward;
        uint256 fee = reward * _params.protocolFeeBps / ProtocolBounds.BPS;
        uint256 share = (reward - fee) / m;
        uint256 feeShare = fee / m;
        uint256 kept = reward - share * m;
        uint256 bond;
        if (withBond) {
            bond = _disputeBonds[jobId];
            if (bond != 0) delete _disputeBonds[jobId];
        }
        uint256 part = bond / m;
        job.status = JobStatus.Paid;
        _params.accruedFees += SafeCast.toUint96(kept);
        for (uint256 i; i < m; ++i) {
            address worker = agreeing[i];
            uint256 bondPart = i == 0 ? bond - part * (m - 1) : part;
            emit JobPaid(jobId, worker, share, i == 0 ? kept - feeShare * (m - 1) : feeShare);
            if (bondPart != 0) emit DisputeBondReleased(jobId, worker, bondPart);
            token.safeTransfer(worker, share + bondPart);
        }
        _slashDissent(jobId, job.client, reward);
    }

    /// @dev The result stands: the replicas that revealed something else were wrong. Their slash goes to the
    /// treasury (the client got the result it paid for).
    function _slashDissent(uint256 jobId, address client, uint256 reward) private {
        bytes32 consensus = _consensus[jobId];
        uint256 n = _redundancy[jobId].assigned;
        for (uint256 i = 1; i <= n; ++i) {
            address worker = _replicaWorkers[jobId][i];
            Seat storage seat = _seats[jobId][worker];
            if (seat.phase == ReplicaPhase.Revealed && seat.commitment != consensus) {
                emit ReplicaFaulted(jobId, worker, FAULT_DISSENT, _slash(jobId, worker, client, reward, false));
            }
        }
    }

    function _jail(address worker) private {
        if (!registry.workerOf(worker).jailed) registry.jail(worker);
    }

    function _pay(uint256 jobId, Job storage job) private {
        address worker = job.worker;
        if (worker == address(0)) return _payReplicas(jobId, job, false);
        uint256 reward = job.reward;
        uint256 fee = reward * _params.protocolFeeBps / ProtocolBounds.BPS;
        job.status = JobStatus.Paid;
        _params.accruedFees += SafeCast.toUint96(fee);
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

    /// @dev Sends a held dispute bond to `to`, if there is one.
    function _releaseBond(uint256 jobId, address to) private {
        uint256 bond = _disputeBonds[jobId];
        if (bond == 0) return;
        delete _disputeBonds[jobId];
        emit DisputeBondReleased(jobId, to, bond);
        token.safeTransfer(to, bond);
    }

    /// @dev A fault slash: min(slashable x share, reward x multiple), taken here from the registry; the client gets
    /// at most reward x compensation and the rest accrues to the treasury. Returns what was taken.
    function _slash(uint256 jobId, address worker, address client, uint256 reward, bool compensate)
        private
        returns (uint256 slashed)
    {
        Penalties memory pen = _penalties;
        uint256 amount = registry.slashableOf(worker) * _params.slashShareBps / ProtocolBounds.BPS;
        uint256 cap = reward * pen.slashRewardMultipleBps / ProtocolBounds.BPS;
        if (amount > cap) amount = cap;
        if (amount == 0) return 0;
        slashed = registry.slash(worker, amount, address(this), jobId);
        uint256 maxCompensation = compensate ? reward * pen.compensationBps / ProtocolBounds.BPS : 0;
        uint256 compensation = slashed < maxCompensation ? slashed : maxCompensation;
        uint256 fee = slashed - compensation;
        if (fee != 0) _params.accruedFees += SafeCast.toUint96(fee);
        emit SlashDistributed(jobId, worker, client, slashed, compensation, fee);
        if (compensation != 0) token.safeTransfer(client, compensation);
    }

    function _setProtocolFee(uint256 bps) private {
        ProtocolBounds.checkBounds(PROTOCOL_FEE_BPS, bps, 0, ProtocolBounds.MAX_PROTOCOL_FEE_BPS);
        emit ParameterUpdated(PROTOCOL_FEE_BPS, _params.protocolFeeBps, bps);
        _params.protocolFeeBps = SafeCast.toUint16(bps);
    }

    function _setSlashShare(uint256 bps) private {
        ProtocolBounds.checkBounds(
            SLASH_SHARE_BPS, bps, ProtocolBounds.MIN_SLASH_SHARE_BPS, ProtocolBounds.MAX_SLASH_SHARE_BPS
        );
        emit ParameterUpdated(SLASH_SHARE_BPS, _params.slashShareBps, bps);
        _params.slashShareBps = SafeCast.toUint16(bps);
    }

    function _setAssignmentTimeout(uint256 secs) private {
        ProtocolBounds.checkBounds(
            ASSIGNMENT_TIMEOUT, secs, ProtocolBounds.MIN_ASSIGNMENT_TIMEOUT, ProtocolBounds.MAX_ASSIGNMENT_TIMEOUT
        );
        emit ParameterUpdated(ASSIGNMENT_TIMEOUT, _params.assignmentTimeout, secs);
        _params.assignmentTimeout = SafeCast.toUint32(secs);
    }

    function _setChallengeWindow(uint256 secs) private {
        ProtocolBounds.checkBounds(
            CHALLENGE_WINDOW, secs, ProtocolBounds.MIN_CHALLENGE_WINDOW, ProtocolBounds.MAX_CHALLENGE_WINDOW
        );
        emit ParameterUpdated(CHALLENGE_WINDOW, _params.challengeWindow, secs);
        _params.challengeWindow = SafeCast.toUint32(secs);
    }

    function _setDisputePeriod(uint256 secs) private {
        ProtocolBounds.checkBounds(
            DISPUTE_PERIOD, secs, ProtocolBounds.MIN_DISPUTE_PERIOD, ProtocolBounds.MAX_DISPUTE_PERIOD
        );
        emit ParameterUpdated(DISPUTE_PERIOD, _params.disputePeriod, secs);
        _params.disputePeriod = SafeCast.toUint32(secs);
    }

    function _setMinSubmitWindow(uint256 secs) private {
        ProtocolBounds.checkBounds(
            MIN_SUBMIT_WINDOW, secs, ProtocolBounds.MIN_MIN_SUBMIT_WINDOW, ProtocolBounds.MAX_MIN_SUBMIT_WINDOW
        );
        emit ParameterUpdated(MIN_SUBMIT_WINDOW, _params.minSubmitWindow, secs);
        _params.minSubmitWindow = SafeCast.toUint32(secs);
    }

    function _setSlashRewardMultiple(uint256 bps) private {
        ProtocolBounds.checkBounds(
            SLASH_REWARD_MULTIPLE_BPS,
            bps,
            ProtocolBounds.MIN_SLASH_REWARD_MULTIPLE_BPS,
            ProtocolBounds.MAX_SLASH_REWARD_MULTIPLE_BPS
        );
        emit ParameterUpdated(SLASH_REWARD_MULTIPLE_BPS, _penalties.slashRewardMultipleBps, bps);
        _penalties.slashRewardMultipleBps = SafeCast.toUint16(bps);
    }

    function _setCompensation(uint256 bps) private {
        ProtocolBounds.checkBounds(COMPENSATION_BPS, bps, 0, ProtocolBounds.MAX_COMPENSATION_BPS);
        emit ParameterUpdated(COMPENSATION_BPS, _penalties.compensationBps, bps);
        _penalties.compensationBps = SafeCast.toUint16(bps);
    }

    function _setDeclineFee(uint256 bps) private {
        ProtocolBounds.checkBounds(DECLINE_FEE_BPS, bps, 0, ProtocolBounds.MAX_DECLINE_FEE_BPS);
        emit ParameterUpdated(DECLINE_FEE_BPS, _penalties.declineFeeBps, bps);
        _penalties.declineFeeBps = SafeCast.toUint16(bps);
    }

    function _setConsensusShare(uint256 bps) private {
        ProtocolBounds.checkBounds(
            CONSENSUS_BPS, bps, ProtocolBounds.MIN_CONSENSUS_BPS, ProtocolBounds.MAX_CONSENSUS_BPS
        );
        emit ParameterUpdated(CONSENSUS_BPS, _penalties.consensusBps, bps);
        _penalties.consensusBps = SafeCast.toUint16(bps);
    }

    function _setRevealWindow(uint256 secs) private {
        ProtocolBounds.checkBounds(
            REVEAL_WINDOW, secs, ProtocolBounds.MIN_REVEAL_WINDOW, ProtocolBounds.MAX_REVEAL_WINDOW
        );
        emit ParameterUpdated(REVEAL_WINDOW, _penalties.revealWindow, secs);
        _penalties.revealWindow = SafeCast.toUint32(secs);
    }

    function _setDisputeBond(uint256 bps) private {
        ProtocolBounds.checkBounds(DISPUTE_BOND_BPS, bps, 0, ProtocolBounds.MAX_DISPUTE_BOND_BPS);
        emit ParameterUpdated(DISPUTE_BOND_BPS, _penalties.disputeBondBps, bps);
        _penalties.disputeBondBps = SafeCast.toUint16(bps);
    }

    /// @dev A result's DA reference: a known kind, a locator of bounded length, and for an EIP-4844 result the
    /// versioned hash of the blob this very transaction carries, so the chain itself binds the bytes to the job.
    function _checkResult(uint8 daKind, bytes32 commitment, string calldata locator) private view {
        ProtocolBounds.checkUri(locator);
        if (daKind == 0 || daKind > DA_KIND_EIP4844) revert UnknownDaKind(daKind);
        if (daKind == DA_KIND_EIP4844 && (commitment == 0 || commitment != blobhash(0))) {
            revert BlobNotCarried(commitment, blobhash(0));
        }
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
