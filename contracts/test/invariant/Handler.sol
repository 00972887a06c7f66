// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccordToken} from "../../src/AccordToken.sol";
import {IJobManager} from "../../src/interfaces/IJobManager.sol";
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
    mapping(uint256 jobId => uint256) public paidCount;
    uint256 public maxPaidCount;
    uint256 public badTransitions;
    uint256 public slashViolations;
    uint256 public payoutViolations;
    uint256 public totalSwept;
    mapping(bytes32 action => uint256) public successes;

    bytes32 internal constant JOB_PAID = keccak256("JobPaid(uint256,address,uint256,uint256)");

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
        reward = bound(reward, 1, token.balanceOf(c) < 1e24 ? token.balanceOf(c) : 1e24);
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
        (uint256 id, IJobManager.Job memory j) = _job(jobSeed);
        if (id == 0) return;
        address who = actor % 8 == 0 ? actor.pick(_clients) : j.client;
        _act(id, who, abi.encodeCall(jm.disputeResult, (id)), "dispute");
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
            // A job repeated in the batch is assigned once; the repeat is skipped as not open.
            if (before[i] != IJobManager.JobStatus.Open) _edge(ids[i], before[i], jm.jobOf(ids[i]).status);
        }
    }

    // ---------------------------------------------------------------- worker

    function submit(uint256 jobSeed, uint256 actor) external atCurrentTime {
        (uint256 id, IJobManager.Job memory j) = _job(jobSeed);
        if (id == 0) return;
        address who = actor % 8 == 0 || j.worker == address(0) ? actor.pick(_workers) : j.worker;
        _act(
            id, who, abi.encodeCall(jm.submitResult, (id, 0, keccak256(abi.encode(id)), 64, "accord://blob")), "submit"
        );
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
        (uint256 id,) = _job(jobSeed);
        if (id == 0) return;
        _act(id, arbiter, abi.encodeCall(jm.resolveDispute, (id, atFault)), "resolve");
    }

    function arbiterSlash(uint256 workerSeed, uint256 amount) external atCurrentTime {
        address w = workerSeed.pick(_workers);
        uint256 before = registry.slashableOf(w);
        amount = bound(amount, 0, before * 2 + 1);
        vm.prank(arbiter);
        try registry.slash(w, amount, timelock, 0) returns (uint256 slashed) {
            uint256 taken = before - registry.slashableOf(w);
            if (slashed != taken || taken > before || taken != (amount < before ? amount : before)) slashViolations++;
            totalSwept += taken; // lands in the timelock, the treasury
            successes["arbiterSlash"]++;
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

    function expire(uint256 jobSeed, uint256 actor) external atCurrentTime {
        (uint256 id,) = _job(jobSeed);
        if (id == 0) return;
        _act(id, actor.pick(_workers), abi.encodeCall(jm.expire, (id)), "expire");
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

    // -------------------------------------------------------------- checking

    /// @dev Runs one job action as `who` and checks the status edge, payouts and slashes it caused.
    function _act(uint256 id, address who, bytes memory data, bytes32 name) private {
        IJobManager.Job memory j = jm.jobOf(id);
        address w = j.worker;
        uint256 slashableBefore = w == address(0) ? 0 : registry.slashableOf(w);
        uint256 shareBps = jm.parameters().slashShareBps;
        uint256 feeBps = jm.parameters().protocolFeeBps;
        uint256 workerBefore = w == address(0) ? 0 : token.balanceOf(w);
        vm.recordLogs();
        vm.prank(who);
        (bool ok,) = address(jm).call(data);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        IJobManager.JobStatus afterStatus = jm.jobOf(id).status;
        if (!ok) {
            if (afterStatus != j.status) badTransitions++; // a revert changed state
            return;
        }
        successes[name]++;
        _edge(id, j.status, afterStatus);
        uint256 paid = _countPayouts(logs);
        if (w != address(0)) {
            // A payment pays exactly reward minus fee; a slash takes exactly the share, never beyond the stake.
            uint256 expectedPay = paid == 0 ? 0 : j.reward - j.reward * feeBps / 10_000;
            if (w != j.client && token.balanceOf(w) - workerBefore != expectedPay) payoutViolations++;
            uint256 slashableAfter = registry.slashableOf(w);
            if (slashableAfter > slashableBefore) slashViolations++;
            uint256 taken = slashableBefore - slashableAfter;
            if (taken != 0 && taken != slashableBefore * shareBps / 10_000) slashViolations++;
        }
    }

    function _countPayouts(Vm.Log[] memory logs) private returns (uint256 paid) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(jm) && logs[i].topics[0] == JOB_PAID) {
                uint256 id = uint256(logs[i].topics[1]);
                uint256 n = ++paidCount[id];
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
        // None 0, Open 1, Assigned 2, Submitted 3, Disputed 4, Paid 5, Cancelled 6, Refunded 7
        if (f == 0) return t == 1;
        if (f == 1) return t == 2 || t == 6 || t == 7;
        if (f == 2) return t == 3 || t == 1 || t == 7;
        if (f == 3) return t == 5 || t == 4;
        if (f == 4) return t == 5 || t == 7;
        return false; // Paid, Cancelled and Refunded are terminal
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
