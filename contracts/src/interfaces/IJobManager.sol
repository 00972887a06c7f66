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
///
/// A redundant job ({postRedundantJob}: `n` replicas, consensus at `k` of `n`) takes another road to Submitted:
///
///     Gathering ──assign (n-th replica)──► Committing ──all committed / expire──► Revealing ──all revealed / expire──┐
///      │  (replicas may commit as soon as                (reveal window)                                         │
///      │   they are assigned; commit due set                                        k agree: Submitted ◄──────────┤
///      │   by the first assignment)                                                          (dissenters and     │
///      ├──cancel (no replica yet)──► Cancelled                                               silent replicas     │
///      └──expire (commit due or deadline passed before n replicas)──► Refunded               slashed)            │
///                                                          fewer than k agree: Refunded ◄────────────────────────┘
///                                                          (replicas that did not commit or reveal slashed)
/// From Submitted on, accept, finalize, dispute and resolve work as for a single-worker job, over the agreeing
/// replicas: they share the reward (less the fee), a dispute bond they win, or the slash of a dispute they lose.
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
        Refunded,
        Gathering,
        Committing,
        Revealing
    }

    /// @notice Where one replica of a redundant job is.
    enum ReplicaPhase {
        None,
        Assigned,
        Committed,
        Revealed,
        Declined
    }

    /// @notice The redundancy of a job, one storage slot (written only for redundant jobs).
    /// @param redundancy Replicas the job runs on (`n`, 2..MAX_REDUNDANCY).
    /// @param threshold Agreeing reveals needed for consensus (`k`, more than half of `n`).
    /// @param assigned Replicas assigned so far.
    /// @param committed Replicas that committed.
    /// @param revealed Replicas that revealed.
    /// @param agreeing Replicas whose reveal matched the consensus (zero until it is reached).
    struct Redundancy {
        uint8 redundancy;
        uint8 threshold;
        uint8 assigned;
        uint8 committed;
        uint8 revealed;
        uint8 agreeing;
    }

    /// @notice One replica of a redundant job.
    /// @param worker The replica's worker.
    /// @param phase Where the replica is.
    /// @param sealedResult keccak256(abi.encode(jobId, commitment, salt, worker)), once committed.
    /// @param commitment The revealed DA commitment, once revealed.
    struct Replica {
        address worker;
        ReplicaPhase phase;
        bytes32 sealedResult;
        bytes32 commitment;
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
    /// @notice A redundant job was posted: it runs on `redundancy` replicas and needs `threshold` agreeing reveals.
    event RedundancyRequested(uint256 indexed jobId, uint256 redundancy, uint256 threshold);
    /// @notice A replica of a redundant job was assigned (`replica` counts from 1); commits are due by `commitDue`.
    event ReplicaAssigned(uint256 indexed jobId, address indexed worker, uint256 replica, uint256 commitDue);
    /// @notice A replica committed to its result without showing it.
    event ResultCommitted(uint256 indexed jobId, address indexed worker, bytes32 sealedResult);
    /// @notice The commit phase closed; reveals are due by `revealDue`.
    event RevealOpened(uint256 indexed jobId, uint256 committed, uint256 revealDue);
    /// @notice A replica revealed the DA commitment it had sealed.
    event ResultRevealed(
        uint256 indexed jobId, address indexed worker, uint8 daKind, bytes32 commitment, uint256 size, string locator
    );
    /// @notice `agreeing` replicas revealed the same commitment, at least the threshold: it is the job's result.
    event ConsensusReached(uint256 indexed jobId, bytes32 commitment, uint256 agreeing, uint256 challengeEndsAt);
    /// @notice No commitment reached the threshold (`best` replicas agreed at most); the job is refunded.
    event ConsensusFailed(uint256 indexed jobId, uint256 best);
    /// @notice A replica was at fault (1 no commit, 2 no reveal, 3 dissent from the consensus, 4 a dispute lost) and
    /// slashed `slashed` (see {SlashDistributed}).
    event ReplicaFaulted(uint256 indexed jobId, address indexed worker, uint8 fault, uint256 slashed);
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
    /// @notice Redundancy outside 2..max, or a threshold outside minThreshold..redundancy.
    error InvalidRedundancy(uint256 redundancy, uint256 threshold, uint256 minThreshold, uint256 maxRedundancy);
    /// @notice The worker already holds a replica of this job, or is its client.
    error ReplicaNotIndependent(uint256 jobId, address worker);
    /// @notice Only a replica in the needed phase may do this.
    error NotReplica(uint256 jobId, address caller, ReplicaPhase phase);
    /// @notice The commit phase is over.
    error CommitOverdue(uint256 jobId, uint256 due);
    /// @notice The revealed commitment and salt do not match the sealed result.
    error RevealMismatch(uint256 jobId, address worker);
    /// @notice A result's DA kind is not 1 (local archive), 2 (Celestia) or 3 (EIP-4844).
    error UnknownDaKind(uint8 daKind);
    /// @notice An EIP-4844 result whose commitment is not the versioned hash of the blob the transaction carries
    /// (`carried` is blobhash(0): zero when the transaction carries no blob).
    error BlobNotCarried(bytes32 commitment, bytes32 carried);

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

    /// @notice Posts a job that runs on `redundancy` independent replicas (needs an allowance for `reward`). Each
    /// replica commits to its result, then reveals it; the result that `threshold` replicas agree on is the job's,
    /// and those replicas share the reward. One round only: a job that does not gather its replicas by the commit
    /// due, or whose reveals do not reach the threshold, is refunded.
    /// @param specHash Hash of the job specification.
    /// @param specURI Where the specification lives; emitted, not stored.
    /// @param requiredCapabilities Capability bits every replica's worker must have.
    /// @param reward Tokens escrowed, shared by the agreeing replicas less the protocol fee.
    /// @param deadline The replicas must be assigned before this moment, and commit by it (unix seconds).
    /// @param redundancy Replicas, 2..MAX_REDUNDANCY.
    /// @param threshold Agreeing reveals needed, at least the governed minimum share of `redundancy` (always more
    /// than half) and at most `redundancy`; zero takes that minimum.
    /// @return jobId The new job's id.
    /// Emits {JobPosted} and {RedundancyRequested}.
    function postRedundantJob(
        bytes32 specHash,
        string calldata specURI,
        uint16 requiredCapabilities,
        uint96 reward,
        uint32 deadline,
        uint8 redundancy,
        uint8 threshold
    ) external returns (uint256 jobId);

    /// @notice Commits a replica's result without showing it (the replica's worker, by the commit due).
    /// @param jobId The job.
    /// @param sealedResult keccak256(abi.encode(jobId, commitment, salt, worker)) (see {sealResult}).
    /// Emits {ResultCommitted}, and {RevealOpened} when it is the last commit.
    function commitResult(uint256 jobId, bytes32 sealedResult) external;

    /// @notice Reveals a committed result once the commit phase has closed (the replica's worker, by the reveal
    /// due). The last reveal settles the consensus.
    /// @param jobId The job.
    /// @param daKind Which DA layer holds the blob, as for {submitResult}.
    /// @param commitment The DA commitment that was sealed.
    /// @param size Result size in bytes.
    /// @param salt The salt that was sealed.
    /// @param locator How to fetch the blob; emitted, not stored.
    /// Emits {ResultRevealed}; the last reveal also {ConsensusReached} or {ConsensusFailed}.
    function revealResult(
        uint256 jobId,
        uint8 daKind,
        bytes32 commitment,
        uint64 size,
        bytes32 salt,
        string calldata locator
    ) external;

    /// @notice The sealed result a replica commits: keccak256(abi.encode(jobId, commitment, salt, worker)).
    /// @param jobId The job.
    /// @param commitment The DA commitment of the result.
    /// @param salt A secret random value, revealed with the commitment.
    /// @param worker The replica's worker: a sealed result cannot be copied by another worker.
    /// @return The sealed result.
    function sealResult(uint256 jobId, bytes32 commitment, bytes32 salt, address worker) external pure returns (bytes32);

    /// @notice A redundant job's counters and its agreed commitment (zero until reached); all zero for a
    /// single-worker job.
    /// @param jobId The job.
    /// @return redundancy The counters.
    /// @return consensus The agreed commitment.
    function redundancyOf(uint256 jobId) external view returns (Redundancy memory redundancy, bytes32 consensus);

    /// @notice One replica of a redundant job, by its number (1 to the replicas assigned).
    /// @param jobId The job.
    /// @param replica The replica's number.
    /// @return The replica (a zero worker beyond the replicas assigned).
    function replicaOf(uint256 jobId, uint256 replica) external view returns (Replica memory);

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
    /// @param daKind Which DA layer holds the blob: 1 local archive, 2 Celestia, 3 EIP-4844 (any other reverts with
    /// {UnknownDaKind}). With 3 the transaction carries the blob and `commitment` must be its versioned hash,
    /// blobhash(0), else {BlobNotCarried}: the chain binds the bytes to the job, nobody has to assert it.
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
