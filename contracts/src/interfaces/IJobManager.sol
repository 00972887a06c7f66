// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IJobManager
/// @notice Job escrow and life cycle: post, assign, submit a DA commitment, accept or dispute, pay or refund.
///
/// Status moves only along these edges:
///
///     Open ──assign──► Assigned ──submitResult──► Submitted ──accept/finalize──► Paid
///      │  ▲               │                          │
///      │  └─expire/decline┤ (attempts left and       └──dispute (bond)──► Disputed ──resolve(worker right)──► Paid
///      │  (slash / fee)   │  minSubmitWindow fits                          │           (bond to the worker)
///      │                  │  before the deadline)                          ├──expire (arbiter silent)──► Paid
///      │                  │                                                │     (bond back to the client)
///      ├──cancel──► Cancelled                                              └──resolve(worker at fault, slash)──► Refunded
///      └──expire (deadline passed)──► Refunded ◄──expire (slash) / decline (fee)      (bond back to the client)
///                                                 (no attempt left, or too close to the deadline)
interface IJobManager {
    /// @notice Where a job is in its life.
    enum JobStatus {
        None,
        Open,
        Assigned,
        Submitted,
        Disputed,
        Paid,
        Cancelled,
        Refunded
    }

    /// @notice One job, packed into two storage slots. Spec, URI and results live in events only.
    /// @param client Who posted and funded the job.
    /// @param reward Escrowed reward (tokens).
    /// @param worker The assigned worker (zero while open).
    /// @param deadline The job must be assigned before this moment and its result submitted by it (unix seconds).
    /// @param due Assigned: submission due; Submitted: end of the challenge window; Disputed: end of the dispute
    /// period (unix seconds).
    /// @param status Life-cycle status.
    /// @param attemptsLeft Assignments still allowed; each assignment uses one.
    /// @param requiredCapabilities Capability bits a worker must have.
    struct Job {
        address client;
        uint96 reward;
        address worker;
        uint32 deadline;
        uint32 due;
        JobStatus status;
        uint8 attemptsLeft;
        uint16 requiredCapabilities;
    }

    /// @notice A job was posted and its reward escrowed.
    event JobPosted(
        uint256 indexed jobId,
        address indexed client,
        bytes32 specHash,
        uint16 requiredCapabilities,
        uint256 reward,
        uint256 deadline,
        uint256 maxAttempts,
        string specURI
    );
    /// @notice The client cancelled an open job and got the reward back.
    event JobCancelled(uint256 indexed jobId, address indexed client, uint256 refund);
    /// @notice A worker was assigned; `attemptsLeft` counts the assignments still allowed after this one.
    event JobAssigned(uint256 indexed jobId, address indexed worker, uint256 due, uint256 attemptsLeft);
    /// @notice A batch entry was not assigned; `reason` is the ABI-encoded custom error.
    event AssignmentSkipped(uint256 indexed jobId, address indexed worker, bytes reason);
    /// @notice The assigned worker submitted a DA commitment of the result.
    event ResultSubmitted(
        uint256 indexed jobId,
        address indexed worker,
        uint8 daKind,
        bytes32 commitment,
        uint256 size,
        uint256 challengeEndsAt,
        string locator
    );
    /// @notice The client disputed the result and escrowed `bond`.
    event JobDisputed(uint256 indexed jobId, address indexed client, uint256 resolveBy, uint256 bond);
    /// @notice A dispute bond left escrow: back to the client (worker at fault, or arbiter silent) or to the worker
    /// (worker right).
    event DisputeBondReleased(uint256 indexed jobId, address indexed to, uint256 amount);
    /// @notice The assigned worker handed the job back (reason 1 spec unreachable, 2 spec hash mismatch, 3 limits
    /// exceeded, 4 cannot start), paying `fee` to the treasury; the job reopened or was refunded.
    event JobDeclined(uint256 indexed jobId, address indexed worker, uint8 reason, uint256 fee, bool reopened);
    /// @notice A fault slash of `slashed` was split: `compensation` to the client, `fee` accrued to the treasury.
    event SlashDistributed(
        uint256 indexed jobId,
        address indexed worker,
        address indexed client,
        uint256 slashed,
        uint256 compensation,
        uint256 fee
    );
    /// @notice The arbiter ruled on a dispute.
    event DisputeResolved(uint256 indexed jobId, address indexed arbiter, bool workerAtFault);
    /// @notice An assignment passed its due time; the worker was slashed `slashed` (see {SlashDistributed}).
    event AssignmentExpired(uint256 indexed jobId, address indexed worker, uint256 slashed, bool reopened);
    /// @notice The worker was paid `amount`; `fee` went to the protocol.
    event JobPaid(uint256 indexed jobId, address indexed worker, uint256 amount, uint256 fee);
    /// @notice The reward went back to the client.
    event JobRefunded(uint256 indexed jobId, address indexed client, uint256 amount);
    /// @notice Accrued protocol fees went to the treasury.
    event FeesSwept(address indexed treasury, uint256 amount);
    /// @notice A governed parameter changed (also emitted once per parameter at deployment).
    event ParameterUpdated(bytes32 indexed key, uint256 previous, uint256 current);

    /// @notice No job has this id.
    error UnknownJob(uint256 jobId);
    /// @notice The job is not in the status this call needs.
    error JobStatusMismatch(uint256 jobId, JobStatus expected, JobStatus actual);
    /// @notice Only the job's client may do this.
    error NotClient(uint256 jobId, address caller);
    /// @notice Only the assigned worker may do this.
    error NotAssignedWorker(uint256 jobId, address caller);
    /// @notice A reward of zero.
    error ZeroReward();
    /// @notice The deadline is not in the future.
    error DeadlineNotInFuture(uint256 deadline, uint256 nowTime);
    /// @notice Max attempts outside 1..MAX_ATTEMPTS.
    error InvalidMaxAttempts(uint256 value, uint256 max);
    /// @notice The job's deadline has passed.
    error JobDeadlinePassed(uint256 jobId, uint256 deadline);
    /// @notice The job's deadline leaves less than the minimum submit window: it would need to be `earliestDeadline`.
    error DeadlineTooSoon(uint256 jobId, uint256 deadline, uint256 earliestDeadline);
    /// @notice A decline reason outside 1..4.
    error InvalidDeclineReason(uint8 reason);
    /// @notice The submission came after the assignment's due time.
    error SubmissionOverdue(uint256 jobId, uint256 due);
    /// @notice The challenge window is closed.
    error ChallengeWindowClosed(uint256 jobId, uint256 endedAt);
    /// @notice The challenge window is still open.
    error ChallengeWindowOpen(uint256 jobId, uint256 endsAt);
    /// @notice The dispute period is over: the arbiter can no longer rule; anyone may settle it through {expire}.
    error DisputePeriodOver(uint256 jobId, uint256 endedAt);
    /// @notice Nothing about this job has expired yet.
    error NotExpired(uint256 jobId, JobStatus status, uint256 at);
    /// @notice Arrays of different lengths.
    error LengthMismatch(uint256 jobIds, uint256 workers);
    /// @notice No fees to sweep.
    error NoFees();
    /// @notice A zero address was given.
    error ZeroAddress();

    /// @notice Posts a job and escrows `reward` from the caller (needs an allowance).
    /// @param specHash Hash of the job specification.
    /// @param specURI Where the specification lives; emitted, not stored.
    /// @param requiredCapabilities Capability bits a worker must have.
    /// @param reward Tokens escrowed and paid to the worker, less the protocol fee.
    /// @param deadline The job must be assigned before this moment and its result submitted by it (unix seconds).
    /// @param maxAttempts Assignments allowed, 1..16; each expiry uses one.
    /// @return jobId The new job's id (ids start at 1).
    /// Emits {JobPosted}.
    function postJob(
        bytes32 specHash,
        string calldata specURI,
        uint16 requiredCapabilities,
        uint96 reward,
        uint32 deadline,
        uint8 maxAttempts
    ) external returns (uint256 jobId);

    /// @notice Cancels an open job and refunds the client (client only).
    /// @param jobId The job.
    /// Emits {JobCancelled}.
    function cancelJob(uint256 jobId) external;

    /// @notice Assigns an open job to an eligible worker (coordinator only).
    /// @param jobId The job.
    /// @param worker Registered, not jailed, staked at least the minimum, with the required capabilities.
    /// Emits {JobAssigned}.
    function assign(uint256 jobId, address worker) external;

    /// @notice Assigns many jobs in one transaction (coordinator only). An entry that cannot be assigned is
    /// skipped with its reason instead of reverting the batch.
    /// @param jobIds The jobs.
    /// @param workers The worker for each job.
    /// @return assigned How many entries were assigned.
    /// Emits {JobAssigned} or {AssignmentSkipped} per entry.
    function assignBatch(uint256[] calldata jobIds, address[] calldata workers) external returns (uint256 assigned);

    /// @notice Submits the DA commitment of the result (assigned worker only, by the due time).
    /// @param jobId The job.
    /// @param daKind Which DA layer holds the blob (0 local store, 1 Celestia, 2 EIP-4844; others reserved).
    /// @param commitment The DA layer's commitment to the result bytes.
    /// @param size Result size in bytes.
    /// @param locator How to fetch the blob from that layer; emitted, not stored.
    /// Emits {ResultSubmitted}.
    function submitResult(uint256 jobId, uint8 daKind, bytes32 commitment, uint64 size, string calldata locator)
        external;

    /// @notice Accepts a submitted result and pays the worker at once (client only).
    /// @param jobId The job.
    /// Emits {JobPaid}.
    function acceptResult(uint256 jobId) external;

    /// @notice Hands an assigned job back (the assigned worker, by the due time), for a fee of reward x
    /// declineFeeBps / 10_000 (capped at the worker's slashable stake) to the treasury, never to the client. The
    /// worker is not jailed. The job reopens (the attempt stays used) when attempts remain and the minimum submit
    /// window fits before the deadline; otherwise it is refunded.
    /// @param jobId The job.
    /// @param reason 1 spec unreachable, 2 spec hash mismatch, 3 limits exceeded, 4 cannot start.
    /// Emits {JobDeclined} (and {JobRefunded} when not reopened).
    function declineJob(uint256 jobId, uint8 reason) external;

    /// @notice Disputes a submitted result within the challenge window (client only), escrowing a bond of reward x
    /// disputeBondBps / 10_000 from the client (needs an allowance).
    /// @param jobId The job.
    /// Emits {JobDisputed}.
    function disputeResult(uint256 jobId) external;

    /// @notice Rules on a dispute (arbiter only, until the dispute period ends): at fault, the worker is slashed
    /// (bounded like any fault slash, compensation to the client bounded, the rest to the treasury) and jailed, and
    /// the client refunded with its bond; otherwise the worker is paid and receives the bond.
    /// @param jobId The job.
    /// @param workerAtFault The ruling.
    /// Emits {DisputeResolved}, then {JobPaid} or {JobRefunded}, and {DisputeBondReleased}.
    function resolveDispute(uint256 jobId, bool workerAtFault) external;

    /// @notice Pays the worker once the challenge window has closed without a dispute (anyone).
    /// @param jobId The job.
    /// Emits {JobPaid}.
    function finalize(uint256 jobId) external;

    /// @notice The permissionless exit for anything overdue (anyone): an assignment past its due time is expired
    /// (worker slashed, the client compensated within the bound, job reopened when attempts remain and the minimum
    /// submit window fits before the deadline, else refunded); an open job past its deadline is refunded; a dispute
    /// the arbiter left past its period is settled as if the result stood: the worker is paid and the client gets
    /// its bond back.
    /// @param jobId The job.
    /// Emits {AssignmentExpired} and/or {JobRefunded}, or {JobPaid} and {DisputeBondReleased}.
    function expire(uint256 jobId) external;

    /// @notice Sends accrued protocol fees to the treasury (anyone).
    /// Emits {FeesSwept}.
    function sweepFees() external;

    /// @notice A job's record.
    /// @param jobId The job.
    /// @return The packed record.
    function jobOf(uint256 jobId) external view returns (Job memory);

    /// @notice The dispute bond held for a job (zero unless it is disputed).
    /// @param jobId The job.
    /// @return Tokens.
    function disputeBondOf(uint256 jobId) external view returns (uint256);

    /// @notice How many jobs have been posted; the last id.
    /// @return Count.
    function jobCount() external view returns (uint256);
}
