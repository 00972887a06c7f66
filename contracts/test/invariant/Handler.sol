// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccordToken} from "../../src/AccordToken.sol";
import {IJobManager} from "../../src/interfaces/IJobManager.sol";
import {ReplicaViews} from "../utils/ReplicaViews.sol";
import {JobManager} from "../../src/JobManager.sol";
import {WorkerRegistry} from "../../src/WorkerRegistry.sol";
import {Test} from "../utils/Test.sol";
import {Vm} from "../utils/Vm.sol";

/// @notice Drives random sequences of every protocol action. Each action picks a likely-valid actor most of the
/// time but calls the contract regardless of preconditions (under try/catch), so the contracts' own guards are
/// exercised too; after each call the handler checks the job's status edge, payouts and slashes against ghost
/// accounting. The invariant suite then asserts the ghosts and the token balances.
contract Handler is Test {
    using ActorPick for uint256;

    JobManager internal immutable jm;
    WorkerRegistry internal immutable registry;
    AccordToken internal immutable token;
    address internal immutable coordinator;
    address internal immutable arbiter;
    address internal immutable timelock;

    address[] internal _clients;
    address[] internal _workers;
    uint256 public currentTime;

    // ghosts
    /// @dev Payments per (job, worker): a redundant job pays each agreeing replica once.
    mapping(bytes32 jobWorker => uint256) public paidCount;
    uint256 public maxPaidCount;
    uint256 public badTransitions;
    /// @notice EIP-4844 results accepted from a transaction that did not carry their blob.
    uint256 public unboundBlobs;
    uint256 public slashViolations;
    uint256 public payoutViolations;
    uint256 public clientViolations;
    uint256 public windowViolations;
    uint256 public arbiterSlashes;
    uint256 public totalSwept;
    /// @dev Payments of a redundant job to a replica whose reveal is not the consensus, or without a consensus.
    uint256 public unagreedPayments;
    /// @dev Reveals accepted without a matching commit (a wrong salt, a wrong commitment, or no commit at all).
    uint256 public unmatchedReveals;
    /// @dev Replica faults that were not faults (an agreeing replica slashed for dissent, a committer for no commit).
    uint256 public wrongFaults;
    /// @dev What each job's client has received minus what it has paid in, over the job's whole life.
    mapping(uint256 jobId => int256) public clientNet;
    mapping(bytes32 action => uint256) public successes;

    bytes32 internal constant JOB_PAID = keccak256("JobPaid(uint256,address,uint256,uint256)");
    bytes32 internal constant REPLICA_FAULTED = keccak256("ReplicaFaulted(uint256,address,uint8,uint256)");
    bytes32 internal constant REVEAL_OPENED = keccak256("RevealOpened(uint256,uint256,uint256)");
    bytes32 internal constant RIGHT = keccak256("right");
    bytes32 internal constant WRONG = keccak256("wrong");

    constructor(
        JobManager jm_,
        WorkerRegistry registry_,
        address coordinator_,
        address arbiter_,
        address timelock_,
        address[] memory clients_,
        address[] memory workers_
    ) {
        jm = jm_;
        registry = registry_;
        token = AccordToken(address(jm_.token()));
        coordinator = coordinator_;
        arbiter = arbiter_;
        timelock = timelock_;
        currentTime = block.timestamp;
        _clients = clients_;
        _workers = workers_;
    }

    function clients() external view returns (address[] memory) {
        return _clients;
    }

    function workers() external view returns (address[] memory) {
        return _workers;
    }

    modifier atCurrentTime() {
        vm.warp(currentTime);
        _;
    }

    // ------------------------------------------------------------------ time

    /// @dev Mostly short steps (inside the 1-hour windows), one in four long enough to end an unbonding period.
    function warp(uint256 secs) external {
        currentTime += secs % 4 == 0 ? bound(secs, 1 days, 10 days) : bound(secs, 1, 3 hours);
        vm.warp(currentTime);
    }

    // --------------------------------------------------------------- clients

    function post(uint256 actor, uint256 reward, uint256 life, uint256 attempts, uint16 caps) external atCurrentTime {
        address c = actor.pick(_clients);
        // Half small rewards (where the slash cap binds), half large ones (where the stake share binds).
        uint256 max = reward % 2 == 0 ? 100e18 : 1e24;
        reward = bound(reward, 1, token.balanceOf(c) < max ? token.balanceOf(c) : max);
        if (reward == 0) return;
        // Safe casts: the fuzzed clock stays far below 2^32 and reward is bounded by 1e24 < 2^96.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 deadline = uint32(currentTime + bound(life, 1, 10 days));
        // forge-lint: disable-next-line(unsafe-typecast)
        uint96 amount = uint96(reward);
        uint8 tries = uint8(bound(attempts, 1, 4));
        vm.startPrank(c);
        token.approve(address(jm), reward);
        try jm.postJob(keccak256(abi.encode(actor)), "ipfs://spec", caps & 0x0f, amount, deadline, tries) returns (
            uint256 id
        ) {
            _edge(id, IJobManager.JobStatus.None, IJobManager.JobStatus.Open);
            clientNet[id] -= int256(reward);
            successes["post"]++;
        } catch {}
        vm.stopPrank();
    }

    function cancel(uint256 jobSeed, uint256 actor) external atCurrentTime {
        (uint256 id, IJobManager.Job memory j) = _job(jobSeed);
        if (id == 0) return;
        address who = actor % 8 == 0 ? actor.pick(_clients) : j.client;
        _act(id, who, abi.encodeCall(jm.cancelJob, (id)), "cancel");
    }

    function accept(uint256 jobSeed, uint256 actor) external atCurrentTime {
        (uint256 id, IJobManager.Job memory j) = _job(jobSeed);
        if (id == 0) return;
        address who = actor % 8 == 0 ? actor.pick(_clients) : j.client;
        _act(id, who, abi.encodeCall(jm.acceptResult, (id)), "accept");
    }

    function dispute(uint256 jobSeed, uint256 actor) external atCurrentTime {
        (uint256 id, IJobManager.Job memory j) = _jobPreferring(jobSeed, IJobManager.JobStatus.Submitted);
        if (id == 0) return;
        address who = actor % 8 == 0 ? actor.pick(_clients) : j.client;
        // The client approves the bond (most of the time: sometimes it forgets, and the dispute must fail).
        if (actor % 16 != 1) {
            uint256 bond = uint256(j.reward) * jm.penalties().disputeBondBps / 10_000;
            vm.prank(who);
            token.approve(address(jm), bond);
        }
        _act(id, who, abi.encodeCall(jm.disputeResult, (id)), "dispute");
    }

    /// @dev A whole disputed life in one step (random sequences rarely chain post, assign, submit and dispute
    /// within the windows): post, assign to worker 0 (who has every capability), submit, dispute with the bond, then
    /// the arbiter rules either way or stays silent until anyone settles the lapse. Every step is checked by {_act}.
    function disputedLife(uint256 actor, uint256 reward, uint256 outcome) external atCurrentTime {
        address c = actor.pick(_clients);
        address w = _workers[0];
        reward = bound(reward, 1, reward % 2 == 0 ? 100e18 : 1e24);
        vm.startPrank(c);
        token.approve(address(jm), reward);
        // Safe casts: the fuzzed clock stays far below 2^32 and reward is bounded by 1e24 < 2^96.
        // forge-lint: disable-next-line(unsafe-typecast)
        try jm.postJob(bytes32(actor), "ipfs://spec", 0, uint96(reward), uint32(currentTime + 2 days), 1) returns (
            uint256 id
        ) {
            vm.stopPrank();
            _edge(id, IJobManager.JobStatus.None, IJobManager.JobStatus.Open);
            clientNet[id] -= int256(reward);
            successes["post"]++;
            _act(id, coordinator, abi.encodeCall(jm.assign, (id, w)), "assign");
            _act(id, w, abi.encodeCall(jm.submitResult, (id, 1, bytes32(id), 64, "accord://blob")), "submit");
            uint256 bond = reward * jm.penalties().disputeBondBps / 10_000;
            vm.prank(c);
            token.approve(address(jm), bond);
            _act(id, c, abi.encodeCall(jm.disputeResult, (id)), "dispute");
            if (outcome % 3 == 2) {
                IJobManager.Job memory j = jm.jobOf(id);
                if (j.status == IJobManager.JobStatus.Disputed) {
                    currentTime = uint256(j.due) + 1;
                    vm.warp(currentTime);
                }
                _act(id, c, abi.encodeCall(jm.expire, (id)), "lapse");
            } else {
                bool atFault = outcome % 3 == 0;
                _act(
                    id,
                    arbiter,
                    abi.encodeCall(jm.resolveDispute, (id, atFault)),
                    atFault ? bytes32("resolveFault") : bytes32("resolveRight")
                );
                // Let a jailed worker 0 work again.
                if (registry.workerOf(w).jailed) {
                    vm.prank(arbiter);
                    registry.unjail(w);
                }
            }
        } catch {
            vm.stopPrank();
        }
    }

    /// @dev A whole redundant life in one step: post 2 or 3 replicas (threshold default or unanimous), assign the
    /// handler's workers (a jailed or unstaked one is refused, and the job gathers too few and is refunded), each
    /// replica commits the right result, a wrong one or nothing, then reveals or stays silent (a reveal with the
    /// wrong salt is tried first and must fail); the phases are closed by {JobManager.expire}, and the client
    /// accepts, disputes or leaves the result to later random actions. Every step is checked by {_act}.
    function redundantLife(uint256 actor, uint256 reward, uint256 n, uint256 behaviour, uint256 ending)
        external
        atCurrentTime
    {
        address c = actor.pick(_clients);
        reward = bound(reward, 1, reward % 2 == 0 ? 100e18 : 1e24);
        uint8 replicas = uint8(bound(n, 2, 3));
        uint8 threshold = ending % 5 == 4 ? replicas : 0;
        vm.startPrank(c);
        token.approve(address(jm), reward);
        // Safe casts: the fuzzed clock stays far below 2^32 and reward is bounded by 1e24 < 2^96.
        // forge-lint: disable-next-line(unsafe-typecast)
        try jm.postRedundantJob(
            bytes32(actor), "ipfs://spec", 0, uint96(reward), uint32(currentTime + 2 days), replicas, threshold
        ) returns (
            uint256 id
        ) {
            vm.stopPrank();
            _edge(id, IJobManager.JobStatus.None, IJobManager.JobStatus.Gathering);
            clientNet[id] -= int256(reward);
            successes["postRedundant"]++;
            _redundantSteps(id, c, replicas, behaviour, ending);
        } catch {
            vm.stopPrank();
        }
    }

    function _redundantSteps(uint256 id, address c, uint256 replicas, uint256 behaviour, uint256 ending) private {
        for (uint256 i; i < replicas; ++i) {
            _act(id, coordinator, abi.encodeCall(jm.assign, (id, _workers[i])), "assignReplica");
        }
        // Behaviour per replica: 0..3 right, 4 declines, 5 wrong, 6 commits but never reveals, 7 never commits.
        for (uint256 i; i < replicas; ++i) {
            uint256 b = (behaviour >> (4 * i)) % 8;
            if (b == 7) continue;
            if (b == 4) {
                _act(id, _workers[i], abi.encodeCall(jm.declineJob, (id, 1)), "declineReplica");
                continue;
            }
            bytes32 seal = jm.sealResult(id, b == 5 ? WRONG : RIGHT, bytes32(i), _workers[i]);
            _act(id, _workers[i], abi.encodeCall(jm.commitResult, (id, seal)), "commit");
        }
        _closePhase(id, IJobManager.JobStatus.Gathering);
        _closePhase(id, IJobManager.JobStatus.Committing);
        if (jm.jobOf(id).status == IJobManager.JobStatus.Revealing) {
            // The wrong salt first: it must be refused, whoever tries it.
            _act(
                id,
                _workers[0],
                abi.encodeCall(jm.revealResult, (id, 1, RIGHT, 64, bytes32(uint256(99)), "")),
                "badReveal"
            );
            for (uint256 i; i < replicas; ++i) {
                uint256 b = (behaviour >> (4 * i)) % 8;
                if (b >= 6 || b == 4) continue;
                bytes32 result = b == 5 ? WRONG : RIGHT;
                _act(
                    id,
                    _workers[i],
                    abi.encodeCall(jm.revealResult, (id, 1, result, 64, bytes32(i), "accord://blob")),
                    "reveal"
                );
            }
        }
        _closePhase(id, IJobManager.JobStatus.Revealing);
        if (jm.jobOf(id).status != IJobManager.JobStatus.Submitted) return;
        uint256 e = ending % 4;
        if (e == 0) {
            _act(id, c, abi.encodeCall(jm.acceptResult, (id)), "accept");
        } else if (e == 1) {
            currentTime = jm.jobOf(id).due;
            vm.warp(currentTime);
            _act(id, c, abi.encodeCall(jm.finalize, (id)), "finalize");
        } else if (e == 2) {
            uint256 bond = uint256(jm.jobOf(id).reward) * jm.penalties().disputeBondBps / 10_000;
            vm.prank(c);
            token.approve(address(jm), bond);
            _act(id, c, abi.encodeCall(jm.disputeResult, (id)), "dispute");
            bool atFault = ending % 8 < 4;
            _act(
                id,
                arbiter,
                abi.encodeCall(jm.resolveDispute, (id, atFault)),
                atFault ? bytes32("resolveFault") : bytes32("resolveRight")
            );
            for (uint256 i; i < replicas; ++i) {
                if (registry.workerOf(_workers[i]).jailed) {
                    vm.prank(arbiter);
                    registry.unjail(_workers[i]);
                }
            }
        }
    }

    /// @dev When the job is still in `phase`, runs time past its end and expires it.
    function _closePhase(uint256 id, IJobManager.JobStatus phase) private {
        IJobManager.Job memory j = jm.jobOf(id);
        if (j.status != phase) return;
        uint256 end = j.due == 0 ? j.deadline : uint256(j.due) + 1;
        if (end > currentTime) {
            currentTime = end;
            vm.warp(end);
        }
        _act(id, _clients[0], abi.encodeCall(jm.expire, (id)), "expireReplicas");
    }

    // ----------------------------------------------------------- coordinator

    function assign(uint256 jobSeed, uint256 workerSeed) external atCurrentTime {
        (uint256 id,) = _job(jobSeed);
        if (id == 0) return;
        _act(id, coordinator, abi.encodeCall(jm.assign, (id, workerSeed.pick(_workers))), "assign");
    }

    function assignBatch(uint256 jobSeed, uint256 workerSeed, uint256 n) external atCurrentTime {
        uint256 count = jm.jobCount();
        if (count == 0) return;
        n = bound(n, 1, 8);
        uint256[] memory ids = new uint256[](n);
        address[] memory ws = new address[](n);
        IJobManager.JobStatus[] memory before = new IJobManager.JobStatus[](n);
        for (uint256 i; i < n; ++i) {
            ids[i] = (jobSeed % count + i) % count + 1;
            ws[i] = (workerSeed % _workers.length + i).pick(_workers);
            before[i] = jm.jobOf(ids[i]).status;
        }
        vm.recordLogs();
        vm.prank(coordinator);
        try jm.assignBatch(ids, ws) {
            successes["assignBatch"]++;
        } catch {}
        _countPayouts(vm.getRecordedLogs());
        for (uint256 i; i < n; ++i) {
            IJobManager.Job memory after_ = jm.jobOf(ids[i]);
            // A job repeated in the batch is assigned once; the repeat is skipped as not open.
            if (before[i] != IJobManager.JobStatus.Open) _edge(ids[i], before[i], after_.status);
            else if (after_.status == IJobManager.JobStatus.Assigned) _checkWindow(after_);
        }
    }

    // ---------------------------------------------------------------- worker

    function submit(uint256 jobSeed, uint256 actor) external atCurrentTime {
        (uint256 id, IJobManager.Job memory j) = _jobPreferring(jobSeed, IJobManager.JobStatus.Assigned);
        if (id == 0) return;
        address who = actor % 8 == 0 || j.worker == address(0) ? actor.pick(_workers) : j.worker;
        _act(
            id, who, abi.encodeCall(jm.submitResult, (id, 1, keccak256(abi.encode(id)), 64, "accord://blob")), "submit"
        );
    }

    /// @dev A worker submits an EIP-4844 result (kind 3) whose commitment is a versioned hash; the transaction
    /// carries that blob, another one or none. Only the first may be accepted.
    function submitBlob(uint256 jobSeed, uint256 actor, uint8 carry) external atCurrentTime {
        (uint256 id, IJobManager.Job memory j) = _jobPreferring(jobSeed, IJobManager.JobStatus.Assigned);
        if (id == 0) return;
        address who = actor % 8 == 0 || j.worker == address(0) ? actor.pick(_workers) : j.worker;
        bytes32 h = bytes32((uint256(keccak256(abi.encode("blob", id))) >> 8) | (uint256(1) << 248));
        bytes32[] memory hashes = new bytes32[](carry % 3 == 2 ? 0 : 1);
        if (hashes.length != 0) hashes[0] = carry % 3 == 0 ? h : bytes32(uint256(h) ^ 1);
        vm.blobhashes(hashes);
        IJobManager.JobStatus before = jm.jobOf(id).status;
        _act(id, who, abi.encodeCall(jm.submitResult, (id, 3, h, 64, "eip4844")), "submit");
        if (carry % 3 != 0 && jm.jobOf(id).status != before) unboundBlobs++;
        vm.blobhashes(new bytes32[](0));
    }

    function decline(uint256 jobSeed, uint256 actor, uint8 reason) external atCurrentTime {
        (uint256 id, IJobManager.Job memory j) = _jobPreferring(jobSeed, IJobManager.JobStatus.Assigned);
        if (id == 0) return;
        address who = actor % 8 == 0 || j.worker == address(0) ? actor.pick(_workers) : j.worker;
        // Mostly valid reasons 1..4, sometimes an invalid one.
        uint8 r = reason % 16 == 0 ? reason : uint8(1 + reason % 4);
        _act(id, who, abi.encodeCall(jm.declineJob, (id, r)), "decline");
    }

    function stake(uint256 workerSeed, uint256 amount) external atCurrentTime {
        address w = workerSeed.pick(_workers);
        amount = bound(amount, 1, token.balanceOf(w) == 0 ? 1 : token.balanceOf(w));
        vm.startPrank(w);
        token.approve(address(registry), amount);
        try registry.stake(amount) {
            successes["stake"]++;
        } catch {}
        vm.stopPrank();
    }

    function requestUnstake(uint256 workerSeed, uint256 amount) external atCurrentTime {
        address w = workerSeed.pick(_workers);
        uint256 s = registry.workerOf(w).stake;
        vm.prank(w);
        try registry.requestUnstake(bound(amount, 1, s == 0 ? 1 : s)) {
            successes["unstake"]++;
        } catch {}
    }

    function withdraw(uint256 workerSeed) external atCurrentTime {
        vm.prank(workerSeed.pick(_workers));
        try registry.withdraw() {
            successes["withdraw"]++;
        } catch {}
    }

    // --------------------------------------------------------------- arbiter

    function resolve(uint256 jobSeed, bool atFault) external atCurrentTime {
        (uint256 id,) = _jobPreferring(jobSeed, IJobManager.JobStatus.Disputed);
        if (id == 0) return;
        _act(
            id,
            arbiter,
            abi.encodeCall(jm.resolveDispute, (id, atFault)),
            atFault ? bytes32("resolveFault") : bytes32("resolveRight")
        );
    }

    /// @dev The arbiter tries to slash directly in the registry, to anyone: it must always be refused.
    function arbiterSlash(uint256 workerSeed, uint256 amount, uint256 jobId) external atCurrentTime {
        address w = workerSeed.pick(_workers);
        address to = amount % 2 == 0 ? timelock : address(jm);
        vm.prank(arbiter);
        try registry.slash(w, amount, to, jobId) {
            arbiterSlashes++;
        } catch {}
    }

    function unjail(uint256 workerSeed) external atCurrentTime {
        vm.prank(arbiter);
        try registry.unjail(workerSeed.pick(_workers)) {
            successes["unjail"]++;
        } catch {}
    }

    // ---------------------------------------------------------------- anyone

    function finalize(uint256 jobSeed, uint256 actor) external atCurrentTime {
        (uint256 id,) = _job(jobSeed);
        if (id == 0) return;
        _act(id, actor.pick(_clients), abi.encodeCall(jm.finalize, (id)), "finalize");
    }

    /// @dev The arbiter stays silent: time runs past a dispute's period, then anyone settles it for the worker.
    function lapse(uint256 jobSeed, uint256 actor) external atCurrentTime {
        (uint256 id, IJobManager.Job memory j) = _jobPreferring(jobSeed, IJobManager.JobStatus.Disputed);
        if (id == 0 || j.status != IJobManager.JobStatus.Disputed) return;
        if (currentTime <= j.due) currentTime = uint256(j.due) + 1;
        vm.warp(currentTime);
        _act(id, actor.pick(_clients), abi.encodeCall(jm.expire, (id)), "lapse");
    }

    /// @dev Lets an assignment run past its due time close to its job's deadline (inside the minimum submit window
    /// when the due time allows), then expires it: the job must not reopen with less than the window left.
    function expireNearDeadline(uint256 jobSeed, uint256 actor) external atCurrentTime {
        (uint256 id, IJobManager.Job memory j) = _jobPreferring(jobSeed, IJobManager.JobStatus.Assigned);
        if (id == 0 || j.status != IJobManager.JobStatus.Assigned) return;
        uint256 t = uint256(j.deadline) - jm.parameters().minSubmitWindow / 2;
        if (t <= j.due) t = uint256(j.due) + 1;
        if (t > currentTime) {
            currentTime = t;
            vm.warp(t);
        }
        _act(id, actor.pick(_workers), abi.encodeCall(jm.expire, (id)), "expire");
    }

    /// @dev Also the lapse of a dispute the arbiter left past its period ("lapse").
    function expire(uint256 jobSeed, uint256 actor) external atCurrentTime {
        (uint256 id, IJobManager.Job memory j) = _jobPreferring(jobSeed, IJobManager.JobStatus.Assigned);
        if (id == 0) return;
        bytes32 name = j.status == IJobManager.JobStatus.Disputed ? bytes32("lapse") : bytes32("expire");
        _act(id, actor.pick(_workers), abi.encodeCall(jm.expire, (id)), name);
    }

    function sweep() external atCurrentTime {
        uint256 fees = jm.parameters().accruedFees;
        try jm.sweepFees() {
            totalSwept += fees;
            successes["sweep"]++;
        } catch {}
    }

    // ------------------------------------------------------------ governance

    function setFee(uint256 bps) external {
        vm.prank(timelock);
        jm.setProtocolFee(bound(bps, 0, 2000));
    }

    function setSlashShare(uint256 bps) external {
        vm.prank(timelock);
        jm.setSlashShare(bound(bps, 100, 5000));
    }

    function setSlashRewardMultiple(uint256 bps) external {
        vm.prank(timelock);
        jm.setSlashRewardMultiple(bound(bps, 1000, 50_000));
    }

    function setMinSubmitWindow(uint256 secs) external {
        vm.prank(timelock);
        jm.setMinSubmitWindow(bound(secs, 1 minutes, 1 days));
    }

    // -------------------------------------------------------------- checking

    /// @dev State before a job action.
    struct Snap {
        IJobManager.Job j;
        JobManager.Params p;
        JobManager.Penalties pen;
        uint256 slashable;
        uint256 workerBalance;
        uint256 clientBalance;
        uint256 bond;
    }

    /// @dev Runs one job action as `who` and checks the status edge, payouts, slashes and the client's receipts it
    /// caused against amounts computed here, independently of the contract.
    function _act(uint256 id, address who, bytes memory data, bytes32 name) private {
        (IJobManager.Redundancy memory r,,) = ReplicaViews.all(jm, id);
        if (r.redundancy != 0) return _actRedundant(id, who, data, name);
        Snap memory b;
        b.j = jm.jobOf(id);
        b.p = jm.parameters();
        b.pen = jm.penalties();
        b.slashable = b.j.worker == address(0) ? 0 : registry.slashableOf(b.j.worker);
        b.workerBalance = b.j.worker == address(0) ? 0 : token.balanceOf(b.j.worker);
        b.clientBalance = token.balanceOf(b.j.client);
        b.bond = jm.disputeBondOf(id);
        vm.recordLogs();
        vm.prank(who);
        (bool ok,) = address(jm).call(data);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        IJobManager.Job memory after_ = jm.jobOf(id);
        if (!ok) {
            if (after_.status != b.j.status) badTransitions++; // a revert changed state
            return;
        }
        successes[name]++;
        _edge(id, b.j.status, after_.status);
        uint256 paid = _countPayouts(logs);
        uint256 taken = b.j.worker == address(0) ? 0 : _checkWorker(b, name, paid);
        _checkClient(id, b, name, taken, after_.status);
        // A job is only assigned or reopened with at least the minimum submit window left before its deadline.
        // A dispute the arbiter left past its period is settled for the worker, as if the result stood.
        if (name == "lapse" && after_.status != IJobManager.JobStatus.Paid) payoutViolations++;
        if (b.j.status == IJobManager.JobStatus.Assigned && after_.status == IJobManager.JobStatus.Open) {
            _checkWindow(after_);
        }
        if (name == "assign") _checkWindow(after_);
    }

    /// @dev One action on a redundant job: the status edge; every payment goes to a replica that revealed the
    /// consensus and is the agreeing replicas' equal share; every replica fault is a real fault and slashes exactly
    /// min(share of the stake, multiple of the reward), and no other replica loses stake; the client's receipts go
    /// into {clientNet}; a reveal that does not match its commit never succeeds.
    function _actRedundant(uint256 id, address who, bytes memory data, bytes32 name) private {
        RSnap memory b;
        b.j = jm.jobOf(id);
        (,, b.reps) = ReplicaViews.all(jm, id);
        b.slashable = new uint256[](b.reps.length);
        for (uint256 i; i < b.reps.length; ++i) {
            b.slashable[i] = registry.slashableOf(b.reps[i].worker);
        }
        b.p = jm.parameters();
        b.pen = jm.penalties();
        b.clientBalance = token.balanceOf(b.j.client);
        b.bond = jm.disputeBondOf(id);
        vm.recordLogs();
        vm.prank(who);
        (bool ok,) = address(jm).call(data);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        IJobManager.JobStatus to = jm.jobOf(id).status;
        if (!ok) {
            if (to != b.j.status) badTransitions++;
            return;
        }
        if (name == "badReveal") unmatchedReveals++;
        successes[name]++;
        _edge(id, b.j.status, to);
        _countPayouts(logs);
        _checkReplicaPayments(id, b, logs);
        _checkReplicaFaults(id, b, logs, name, who);
        // Reveals only ever open a matching seal.
        if (name == "reveal") {
            (,, IJobManager.Replica[] memory now_) = ReplicaViews.all(jm, id);
            for (uint256 i; i < now_.length; ++i) {
                if (now_[i].worker != who) continue;
                if (jm.sealResult(id, now_[i].commitment, bytes32(i), who) != now_[i].sealedResult) {
                    unmatchedReveals++;
                }
            }
        }
        _checkRedundantClient(id, b, logs, name, to);
    }

    /// @dev The client of a redundant job receives exactly: its escrow back on a refund or cancel, its bond back
    /// when the agreeing replicas lose the dispute or the arbiter is silent, and compensation only from a dispute
    /// lost (at most reward x compensation per agreeing replica); it pays the bond to dispute. Never anything from
    /// a replica that did not commit, did not reveal or dissented.
    function _checkRedundantClient(
        uint256 id,
        RSnap memory b,
        Vm.Log[] memory logs,
        bytes32 name,
        IJobManager.JobStatus to
    ) private {
        uint256 reward = b.j.reward;
        int256 expected;
        bool ended = to == IJobManager.JobStatus.Refunded || to == IJobManager.JobStatus.Cancelled;
        if (ended && to != b.j.status) expected += int256(reward);
        if (name == "resolveFault" || name == "lapse") {
            expected += int256(b.bond);
        }
        if (name == "dispute") expected -= int256(reward * b.pen.disputeBondBps / 10_000);
        uint256 maxComp = reward * b.pen.compensationBps / 10_000;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(jm) || logs[i].topics[0] != REPLICA_FAULTED) continue;
            (uint8 fault, uint256 slashed) = abi.decode(logs[i].data, (uint8, uint256));
            if (fault == 4) expected += int256(slashed < maxComp ? slashed : maxComp);
        }
        int256 delta = int256(token.balanceOf(b.j.client)) - int256(b.clientBalance);
        if (delta != expected) clientViolations++;
        clientNet[id] += delta;
    }

    /// @dev State of a redundant job before an action.
    struct RSnap {
        IJobManager.Job j;
        IJobManager.Replica[] reps;
        uint256[] slashable;
        JobManager.Params p;
        JobManager.Penalties pen;
        uint256 clientBalance;
        uint256 bond;
    }

    function _checkReplicaPayments(uint256 id, RSnap memory b, Vm.Log[] memory logs) private {
        (IJobManager.Redundancy memory r, bytes32 consensus, IJobManager.Replica[] memory now_) =
            ReplicaViews.all(jm, id);
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(jm) || logs[i].topics[0] != JOB_PAID) continue;
            address w = address(uint160(uint256(logs[i].topics[2])));
            (uint256 amount,) = abi.decode(logs[i].data, (uint256, uint256));
            if (!_revealed(now_, w, consensus) || r.agreeing < r.threshold || consensus == 0) unagreedPayments++;
            uint256 reward = b.j.reward;
            if (r.agreeing == 0 || amount != (reward - reward * b.p.protocolFeeBps / 10_000) / r.agreeing) {
                payoutViolations++;
            }
        }
    }

    function _checkReplicaFaults(uint256 id, RSnap memory b, Vm.Log[] memory logs, bytes32 name, address who) private {
        (, bytes32 consensus, IJobManager.Replica[] memory now_) = ReplicaViews.all(jm, id);
        for (uint256 i; i < b.reps.length; ++i) {
            uint256 taken = b.slashable[i] - registry.slashableOf(b.reps[i].worker);
            (bool faulted, uint8 fault) = _faultOf(logs, b.reps[i].worker);
            if (!faulted) {
                // A replica's decline costs it the decline fee (capped at its stake), nothing else.
                uint256 fee;
                if (name == "declineReplica" && b.reps[i].worker == who) {
                    fee = uint256(b.j.reward) * b.pen.declineFeeBps / 10_000;
                    if (fee > b.slashable[i]) fee = b.slashable[i];
                }
                if (taken != fee) slashViolations++;
                continue;
            }
            uint256 expected = b.slashable[i] * b.p.slashShareBps / 10_000;
            uint256 cap = uint256(b.j.reward) * b.pen.slashRewardMultipleBps / 10_000;
            if (expected > cap) expected = cap;
            if (taken != expected) slashViolations++;
            IJobManager.ReplicaPhase phase = now_[i].phase;
            bool real = (fault == 1 && phase == IJobManager.ReplicaPhase.Assigned)
                || (fault == 2
                    && phase == IJobManager.ReplicaPhase.Committed
                    && (b.j.status == IJobManager.JobStatus.Revealing || _has(logs, REVEAL_OPENED)))
                || (fault == 3 && phase == IJobManager.ReplicaPhase.Revealed && now_[i].commitment != consensus)
                || (fault == 4 && name == "resolveFault" && _revealed(now_, b.reps[i].worker, consensus));
            if (!real) wrongFaults++;
        }
    }

    function _revealed(IJobManager.Replica[] memory reps, address w, bytes32 consensus) private pure returns (bool) {
        for (uint256 i; i < reps.length; ++i) {
            if (reps[i].worker == w) {
                return reps[i].phase == IJobManager.ReplicaPhase.Revealed && reps[i].commitment == consensus;
            }
        }
        return false;
    }

    function _has(Vm.Log[] memory logs, bytes32 topic) private view returns (bool) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(jm) && logs[i].topics[0] == topic) return true;
        }
        return false;
    }

    function _faultOf(Vm.Log[] memory logs, address w) private view returns (bool, uint8) {
        for (uint256 i; i < logs.length; ++i) {
            if (
                logs[i].emitter == address(jm) && logs[i].topics[0] == REPLICA_FAULTED
                    && address(uint160(uint256(logs[i].topics[2]))) == w
            ) {
                (uint8 fault,) = abi.decode(logs[i].data, (uint8, uint256));
                return (true, fault);
            }
        }
        return (false, 0);
    }

    /// @dev A fault slash takes min(share of the stake, multiple of the reward); a decline its fee, capped at the
    /// stake; nothing else slashes. A payment pays exactly reward minus fee, plus the bond when the worker wins a
    /// dispute. Returns what was slashed.
    function _checkWorker(Snap memory b, bytes32 name, uint256 paid) private returns (uint256 taken) {
        address w = b.j.worker;
        uint256 reward = b.j.reward;
        uint256 slashableAfter = registry.slashableOf(w);
        if (slashableAfter > b.slashable) slashViolations++;
        taken = b.slashable - slashableAfter;
        uint256 expected;
        if (name == "decline") {
            expected = reward * b.pen.declineFeeBps / 10_000;
            if (expected > b.slashable) expected = b.slashable;
        } else if (_isFault(b, name)) {
            expected = b.slashable * b.p.slashShareBps / 10_000;
            uint256 cap = reward * b.pen.slashRewardMultipleBps / 10_000;
            if (expected > cap) expected = cap;
        }
        if (taken != expected) slashViolations++;
        uint256 expectedPay = paid == 0 ? 0 : reward - reward * b.p.protocolFeeBps / 10_000;
        if (name == "resolveRight") expectedPay += b.bond;
        if (w != b.j.client && token.balanceOf(w) - b.workerBalance != expectedPay) payoutViolations++;
    }

    /// @dev The client receives exactly: its escrow back on a refund or cancel, its bond back when the worker is at
    /// fault or the arbiter silent, and of a fault slash at most reward x compensation; it pays the bond to dispute.
    /// Nothing else, and never anything from a decline.
    function _checkClient(uint256 id, Snap memory b, bytes32 name, uint256 taken, IJobManager.JobStatus to) private {
        uint256 reward = b.j.reward;
        int256 expected;
        bool ended = to == IJobManager.JobStatus.Refunded || to == IJobManager.JobStatus.Cancelled;
        if (ended && to != b.j.status) expected += int256(reward);
        if (name == "resolveFault" || name == "lapse") expected += int256(b.bond);
        if (name == "dispute") expected -= int256(reward * b.pen.disputeBondBps / 10_000);
        if (_isFault(b, name)) {
            uint256 maxComp = reward * b.pen.compensationBps / 10_000;
            expected += int256(taken < maxComp ? taken : maxComp);
        }
        int256 delta = int256(token.balanceOf(b.j.client)) - int256(b.clientBalance);
        if (delta != expected) clientViolations++;
        clientNet[id] += delta;
    }

    function _isFault(Snap memory b, bytes32 name) private pure returns (bool) {
        return name == "resolveFault" || (name == "expire" && b.j.status == IJobManager.JobStatus.Assigned);
    }

    function _checkWindow(IJobManager.Job memory j) private {
        if (uint256(j.deadline) < block.timestamp + jm.parameters().minSubmitWindow) windowViolations++;
    }

    function _countPayouts(Vm.Log[] memory logs) private returns (uint256 paid) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(jm) && logs[i].topics[0] == JOB_PAID) {
                uint256 n = ++paidCount[keccak256(abi.encode(logs[i].topics[1], logs[i].topics[2]))];
                if (n > maxPaidCount) maxPaidCount = n;
                paid++;
            }
        }
    }

    /// @dev Counts any status change that is not an edge of the documented graph.
    function _edge(uint256 id, IJobManager.JobStatus from, IJobManager.JobStatus to) private {
        id;
        if (from == to) return;
        if (!allowed(from, to)) badTransitions++;
    }

    /// @notice The status graph of {IJobManager}, written out independently of the contract.
    function allowed(IJobManager.JobStatus from, IJobManager.JobStatus to) public pure returns (bool) {
        uint8 f = uint8(from);
        uint8 t = uint8(to);
        // None 0, Open 1, Assigned 2, Submitted 3, Disputed 4, Paid 5, Cancelled 6, Refunded 7, Gathering 8,
        // Committing 9, Revealing 10
        if (f == 0) return t == 1 || t == 8;
        if (f == 1) return t == 2 || t == 6 || t == 7;
        if (f == 2) return t == 3 || t == 1 || t == 7;
        if (f == 3) return t == 5 || t == 4;
        if (f == 4) return t == 5 || t == 7;
        if (f == 8) return t == 9 || t == 6 || t == 7;
        if (f == 9) return t == 10 || t == 7;
        if (f == 10) return t == 3 || t == 7;
        return false; // Paid, Cancelled and Refunded are terminal
    }

    /// @dev Three times in four, the first job in `wanted` status from the seeded one on (deep sequences such as
    /// submit, dispute, resolve need it); otherwise, or when there is none, the seeded job.
    function _jobPreferring(uint256 seed, IJobManager.JobStatus wanted)
        private
        view
        returns (uint256 id, IJobManager.Job memory j)
    {
        (id, j) = _job(seed);
        if (id == 0 || seed % 4 == 0 || j.status == wanted) return (id, j);
        uint256 count = jm.jobCount();
        for (uint256 k = 1; k < count; ++k) {
            uint256 other = (id - 1 + k) % count + 1;
            IJobManager.Job memory o = jm.jobOf(other);
            if (o.status == wanted) return (other, o);
        }
    }

    function _job(uint256 seed) private view returns (uint256 id, IJobManager.Job memory j) {
        uint256 count = jm.jobCount();
        if (count == 0) return (0, j);
        id = seed % count + 1;
        j = jm.jobOf(id);
    }
}

library ActorPick {
    function pick(uint256 seed, address[] storage actors) internal view returns (address) {
        return actors[seed % actors.length];
    }
}
