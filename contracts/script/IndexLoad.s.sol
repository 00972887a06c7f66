// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccordToken} from "../src/AccordToken.sol";
import {IJobManager} from "../src/interfaces/IJobManager.sol";
import {JobManager} from "../src/JobManager.sol";
import {WorkerRegistry} from "../src/WorkerRegistry.sol";
import {Vm} from "../test/utils/Vm.sol";
import {LoadArbiter, LoadClient, LoadCoordinator, LoadFleet, LoadWorker} from "./IndexLoadActors.sol";
import {ProtocolDeployer} from "./ProtocolDeployer.sol";

Vm constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

/// @notice Script-local (never broadcast): how many logs the script's calls emitted since the last call.
contract LogCounter {
    function take() external returns (uint256) {
        return VM.getRecordedLogs().length;
    }
}

/// @notice Indexing load for a devnet: hundreds of thousands of real protocol events with few transactions.
/// Run it through `scripts/bench-load-events`, which starts anvil, runs every phase as a forge dry run, sends the
/// transactions with `scripts/lib/replay-txs.js` (it says why not `forge script --broadcast`, which is fine for
/// small loads) and counts the logs.
///
/// Phase 0, `roleActors`: two other keys create the actors that will hold the coordinator and arbiter roles.
/// Phase 1, `run`: deploys the protocol with {ProtocolDeployer} (those actors get the coordinator and arbiter
/// roles, so every later transaction is the deployer's: one nonce sequence, which forge streams without waiting
/// for each receipt), 8 client and 8 worker actors (registered, staked), then rounds until at least
/// `targetEvents` logs were emitted. A round: every client posts LOAD_POST_BATCH jobs in one transaction (default
/// 150); the coordinator assigns them in `assignBatch`es of at most LOAD_ASSIGN_BATCH entries (default 500), two
/// of them skipped on purpose; each worker submits its results in one transaction; each client accepts, disputes
/// and cancels in one; the arbiter rules the disputes in one. A job's fate is `id % 40`:
///
///     0-23  paid (acceptResult)                  60 %
///     24-25 submitted, finalized by phase 2      5 %
///     26-27 submitted, left so                    5 %
///     28    assigned; phase 2 expires it (slash, reopen), reassigns, submits, accepts   2.5 %
///     29-30 assigned, left so (overdue after phase 2)  5 %
///     31-34 open                                  10 %
///     35-36 cancelled                              5 %
///     37-38 disputed, worker right: paid           5 %
///     39    disputed; every 10th ruled worker at fault (refund, slash, jail, unjail): 0.25 %; the others left
///           disputed: 2.25 %
///
/// `more` continues phase 1 on an existing load (the bench script splits large loads into several runs).
/// Phase 2, `settle`, needs the chain's clock past the assignment timeout and challenge window (1 h each), so
/// the caller advances it first (`evm_increaseTime`): finalize, expire (slashing to the client and reopening),
/// reassign, submit, accept, sweep fees, and a small unstake request per worker.
/// Devnet only: every key is a well-known devnet key.
contract IndexLoad {
    Vm internal constant vm = VM;

    uint256 internal constant CLIENTS = 8;
    uint256 internal constant WORKERS = 8;
    uint256 internal constant CLIENT_FUNDS = 20_000_000e18;
    uint256 internal constant WORKER_FUNDS = 100_000_000e18;
    uint256 internal constant STAKE = 1_000_000e18;
    uint256 internal constant RESTAKE_BELOW = 250_000e18;
    uint16 internal constant CAPABILITIES = 7;
    uint256 internal constant FINALIZE_BATCH = 400;
    uint256 internal constant EXPIRE_BATCH = 100;
    string internal constant SPEC_URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
    string internal constant LOCATOR =
        "accord://blob/0x9c22ff5f21f0b81b113e63f7db6da94fedef11b2119b4088b89664fb9a3cb658";
    string internal constant WORKER_URI = "https://worker.example/meta.json";
    address internal constant UNREGISTERED = address(uint160(0xdead));

    /// @dev One round's calls, built before broadcasting.
    struct Round {
        uint256[] first;
        uint256[] assignIds;
        address[] assignWorkers;
        uint256 assigned;
        uint256[][] submit;
        uint256[] submitted;
        uint256[][] accept;
        uint256[] accepted;
        uint256[][] dispute;
        uint256[] disputed;
        uint256[][] cancel;
        uint256[] cancelled;
        uint256[] right;
        uint256 rights;
        uint256[] fault;
        uint256 faults;
    }

    uint256 internal _key;
    JobManager internal _jm;
    WorkerRegistry internal _registry;
    AccordToken internal _token;
    LoadCoordinator internal _coordinator;
    LoadArbiter internal _arbiter;
    LoadFleet internal _fleet;
    LoadClient[] internal _clients;
    LoadWorker[] internal _workers;
    LogCounter internal _counter;
    uint256 internal _events;

    /// @notice Phase 0: creates the actors that will hold COORDINATOR_ROLE and ARBITER_ROLE, from keys other
    /// than the deployer's, so the deployer's nonces (and with them the protocol's addresses) are those of a plain
    /// `scripts/deploy` on a fresh devnet. A separate run, so that every later run has a single signer: one nonce
    /// sequence, which `forge script --broadcast` streams instead of waiting for each receipt.
    /// @param deployerIndex Index of the devnet account that will drive the actors.
    /// @param coordinatorIndex Index of the funded devnet account that creates the coordinator actor.
    /// @param arbiterIndex Index of the funded devnet account that creates the arbiter actor.
    /// @return coordinator The coordinator actor.
    /// @return arbiter The arbiter actor.
    function roleActors(uint256 deployerIndex, uint256 coordinatorIndex, uint256 arbiterIndex)
        external
        returns (LoadCoordinator coordinator, LoadArbiter arbiter)
    {
        address deployer = vm.addr(_devnetKey(deployerIndex));
        uint256 arbiterKey = _devnetKey(arbiterIndex);
        vm.startBroadcast(_devnetKey(coordinatorIndex));
        coordinator = new LoadCoordinator(deployer);
        vm.stopBroadcast();
        vm.startBroadcast(arbiterKey);
        arbiter = new LoadArbiter(deployer);
        vm.stopBroadcast();
    }

    /// @notice Phase 1: deploy, set up the actors, and post/assign/submit/settle rounds until `targetEvents`.
    /// Every transaction is the deployer's.
    /// @param deployerIndex Index of the funded devnet account that deploys, holds the supply, and drives every
    /// load actor.
    /// @param coordinator Phase 0's coordinator actor; granted COORDINATOR_ROLE at deployment.
    /// @param arbiter Phase 0's arbiter actor; granted ARBITER_ROLE at deployment.
    /// @param targetEvents Minimum number of logs to emit, deployment included.
    /// @return events Logs emitted by this phase.
    /// @return firstJobId First job id of the load.
    /// @return lastJobId Last job id of the load.
    /// @return fleet The load's address book (phase 2's input).
    function run(uint256 deployerIndex, LoadCoordinator coordinator, LoadArbiter arbiter, uint256 targetEvents)
        external
        returns (uint256 events, uint256 firstJobId, uint256 lastJobId, LoadFleet fleet)
    {
        uint256 deployerKey = _devnetKey(deployerIndex);
        _counter = new LogCounter();
        vm.recordLogs();
        _key = deployerKey;
        address deployer = vm.addr(deployerKey);
        require(coordinator.owner() == deployer && arbiter.owner() == deployer, "role actors of another owner");
        _coordinator = coordinator;
        _arbiter = arbiter;

        vm.startBroadcast(deployerKey);
        ProtocolDeployer.Deployment memory d = ProtocolDeployer.deploy(
            ProtocolDeployer.devnetConfig(deployer, deployer, address(_coordinator), address(_arbiter))
        );
        _jm = d.jobManager;
        _registry = d.registry;
        _token = d.token;
        for (uint256 i; i < CLIENTS; ++i) {
            LoadClient c = new LoadClient(deployer, _jm, _token);
            require(_token.transfer(address(c), CLIENT_FUNDS));
            _clients.push(c);
        }
        for (uint256 i; i < WORKERS; ++i) {
            LoadWorker w = new LoadWorker(deployer, _jm, _registry, _token, CAPABILITIES, WORKER_URI);
            require(_token.transfer(address(w), WORKER_FUNDS));
            w.stake(STAKE);
            _workers.push(w);
        }
        _fleet = new LoadFleet(deployer, _jm, _registry, _token, _coordinator, _arbiter, _clients, _workers);
        vm.stopBroadcast();
        _events += _counter.take();

        _rounds(targetEvents);
        return (_events, _fleet.firstJobId(), _jm.jobCount(), _fleet);
    }

    /// @notice Phase 1, continued: more rounds on an existing load, until this call emitted `targetEvents`.
    /// forge's cost per run grows faster than linearly with the work in it (one EVM transaction holds the whole
    /// script), so `scripts/bench-load-events` splits a large load into several runs.
    /// @param deployerIndex The devnet account that ran `run`.
    /// @param fleet `run`'s address book.
    /// @param targetEvents Minimum number of logs this call emits.
    /// @return events Logs emitted by this call.
    /// @return lastJobId The last job id so far.
    function more(uint256 deployerIndex, LoadFleet fleet, uint256 targetEvents)
        external
        returns (uint256 events, uint256 lastJobId)
    {
        _load(_devnetKey(deployerIndex), fleet);
        _rounds(targetEvents);
        return (_events, _jm.jobCount());
    }

    /// @notice Phase 2 (after the caller advanced the chain's clock by more than an hour): finalize, expire,
    /// reassign, submit, accept, sweep fees, unstake requests.
    /// @param deployerIndex The devnet account that ran phase 1.
    /// @param fleet Phase 1's address book.
    /// @return events Logs emitted by this phase.
    function settle(uint256 deployerIndex, LoadFleet fleet) external returns (uint256 events) {
        _load(_devnetKey(deployerIndex), fleet);
        uint256 first = fleet.firstJobId();
        uint256 last = _jm.jobCount();

        // Ids by fate; phase 1 made every job of these slots Submitted or Assigned.
        uint256[] memory finalize = new uint256[](last / 20 + 2);
        uint256[] memory expire = new uint256[](last / 40 + 2);
        uint256 nf;
        uint256 ne;
        for (uint256 id = first; id <= last; ++id) {
            uint256 slot = id % 40;
            if (slot == 24 || slot == 25) finalize[nf++] = id;
            else if (slot == 28) expire[ne++] = id;
        }
        _trim(finalize, nf);
        _trim(expire, ne);

        vm.startBroadcast(_key);
        for (uint256 i; i < nf; i += FINALIZE_BATCH) {
            fleet.finalizeMany(_slice(finalize, i, FINALIZE_BATCH));
            _tally();
        }
        vm.stopBroadcast();
        for (uint256 i; i < ne; i += EXPIRE_BATCH) {
            _topUp();
            vm.startBroadcast(_key);
            fleet.expireMany(_slice(expire, i, EXPIRE_BATCH));
            _tally();
            vm.stopBroadcast();
        }
        _topUp();

        // Attempt 2 of every reopened job, by the next worker; then submit and accept.
        Round memory rd = _newRound(ne, 0);
        for (uint256 i; i < ne; ++i) {
            uint256 id = expire[i];
            IJobManager.Job memory job = _jm.jobOf(id);
            if (job.status != IJobManager.JobStatus.Open) continue;
            uint256 w = (_workerIndex(id) + 1) % WORKERS;
            rd.assignIds[rd.assigned] = id;
            rd.assignWorkers[rd.assigned++] = address(_workers[w]);
            rd.submit[w][rd.submitted[w]++] = id;
            uint256 c = _clientIndex(job.client);
            rd.accept[c][rd.accepted[c]++] = id;
        }
        vm.startBroadcast(_key);
        _broadcastRound(rd, 500);
        fleet.sweepFees();
        for (uint256 w; w < WORKERS; ++w) {
            _workers[w].requestUnstake(1000e18);
        }
        vm.stopBroadcast();
        events = _events + _counter.take();
    }

    /// @dev Reads back a load's actors for a later run.
    /// @dev A key of anvil's public devnet mnemonic, derived here so that no key travels on a command line.
    function _devnetKey(uint256 index) internal pure returns (uint256) {
        // Safe cast: account indexes are small.
        // forge-lint: disable-next-line(unsafe-typecast)
        return vm.deriveKey("test test test test test test test test test test test junk", uint32(index));
    }

    function _load(uint256 deployerKey, LoadFleet fleet) internal {
        _counter = new LogCounter();
        vm.recordLogs();
        _key = deployerKey;
        _fleet = fleet;
        _jm = JobManager(address(fleet.jobManager()));
        _registry = WorkerRegistry(address(fleet.registry()));
        _token = AccordToken(address(fleet.token()));
        _coordinator = fleet.coordinator();
        _arbiter = fleet.arbiter();
        LoadClient[] memory clients = fleet.clients();
        for (uint256 i; i < clients.length; ++i) {
            _clients.push(clients[i]);
        }
        LoadWorker[] memory workers = fleet.workers();
        for (uint256 i; i < workers.length; ++i) {
            _workers.push(workers[i]);
        }
    }

    /// @dev Rounds until `_events` reaches `targetEvents`.
    function _rounds(uint256 targetEvents) internal {
        uint256 postBatch = vm.envOr("LOAD_POST_BATCH", uint256(150));
        uint256 assignBatch = vm.envOr("LOAD_ASSIGN_BATCH", uint256(500));
        while (_events < targetEvents) {
            uint256 freeMemory;
            assembly {
                freeMemory := mload(0x40)
            }
            _round(postBatch, assignBatch);
            // Nothing a round allocates outlives it: reuse its memory.
            assembly {
                mstore(0x40, freeMemory)
            }
        }
    }

    function _round(uint256 postBatch, uint256 assignBatch) internal {
        _topUp();
        Round memory rd = _newRound(CLIENTS * postBatch, postBatch);
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 deadline = uint32(block.timestamp + 1 days);
        uint256 salt = _jm.jobCount();
        vm.startBroadcast(_key);
        for (uint256 c; c < CLIENTS; ++c) {
            rd.first[c] = _clients[c].postMany(postBatch, SPEC_URI, deadline, salt * CLIENTS + c);
            _tally();
        }
        vm.stopBroadcast();

        uint256 skipOpen;
        for (uint256 c; c < CLIENTS; ++c) {
            for (uint256 i; i < postBatch; ++i) {
                uint256 id = rd.first[c] + i;
                uint256 slot = id % 40;
                if (slot >= 31 && slot <= 34) {
                    if (skipOpen == 0) skipOpen = id;
                    continue;
                }
                if (slot == 35 || slot == 36) {
                    rd.cancel[c][rd.cancelled[c]++] = id;
                    continue;
                }
                uint256 w = _workerIndex(id);
                rd.assignIds[rd.assigned] = id;
                rd.assignWorkers[rd.assigned++] = address(_workers[w]);
                if (slot >= 28 && slot <= 30) continue;
                rd.submit[w][rd.submitted[w]++] = id;
                if (slot < 24) {
                    rd.accept[c][rd.accepted[c]++] = id;
                } else if (slot >= 37) {
                    rd.dispute[c][rd.disputed[c]++] = id;
                    if (slot < 39) rd.right[rd.rights++] = id;
                    else if ((id / 40) % 10 == 0) rd.fault[rd.faults++] = id;
                }
            }
        }
        // Two entries the contract skips with a reason, as a racing coordinator would see: an unregistered
        // worker (NotRegistered), and a job assigned earlier in this round (JobStatusMismatch).
        if (skipOpen != 0 && rd.assigned != 0) {
            rd.assignIds[rd.assigned] = skipOpen;
            rd.assignWorkers[rd.assigned++] = UNREGISTERED;
            rd.assignIds[rd.assigned] = rd.assignIds[0];
            rd.assignWorkers[rd.assigned++] = rd.assignWorkers[0];
        }

        vm.startBroadcast(_key);
        _broadcastRound(rd, assignBatch);
        vm.stopBroadcast();
    }

    /// @dev Assign (in chunks), submit (one transaction per worker), settle (one per client), rule disputes.
    function _broadcastRound(Round memory rd, uint256 assignBatch) internal {
        _trim(rd.assignIds, rd.assigned);
        _trimAddresses(rd.assignWorkers, rd.assigned);
        for (uint256 i; i < rd.assigned; i += assignBatch) {
            uint256 n = rd.assigned - i < assignBatch ? rd.assigned - i : assignBatch;
            address[] memory workers = new address[](n);
            for (uint256 k; k < n; ++k) {
                workers[k] = rd.assignWorkers[i + k];
            }
            _coordinator.assignBatch(_jm, _slice(rd.assignIds, i, n), workers);
            _tally();
        }
        for (uint256 w; w < WORKERS; ++w) {
            if (rd.submitted[w] == 0) continue;
            _workers[w].submitMany(_trim(rd.submit[w], rd.submitted[w]), LOCATOR);
            _tally();
        }
        for (uint256 c; c < CLIENTS; ++c) {
            if (rd.accepted[c] + rd.disputed[c] + rd.cancelled[c] == 0) continue;
            _clients[c].settle(
                _trim(rd.accept[c], rd.accepted[c]),
                _trim(rd.dispute[c], rd.disputed[c]),
                _trim(rd.cancel[c], rd.cancelled[c])
            );
            _tally();
        }
        if (rd.rights + rd.faults != 0) {
            _arbiter.resolveMany(_jm, _registry, _trim(rd.right, rd.rights), _trim(rd.fault, rd.faults));
            _tally();
        }
    }

    /// @dev Counts the logs of the transactions sent since the last tally (a call broadcasting is paused for,
    /// since the counter is script-local). Called after every transaction: the recorded logs are copied into
    /// memory, whose cost grows with the square of its size.
    function _tally() internal {
        vm.stopBroadcast();
        _events += _counter.take();
        vm.startBroadcast(_key);
    }

    /// @dev Restakes any worker whose stake slashes have worn down, so every worker stays assignable.
    function _topUp() internal {
        for (uint256 w; w < WORKERS; ++w) {
            if (_registry.workerOf(address(_workers[w])).stake < RESTAKE_BELOW) {
                vm.startBroadcast(_key);
                _workers[w].stake(STAKE);
                vm.stopBroadcast();
            }
        }
    }

    function _newRound(uint256 jobs, uint256 perClient) internal pure returns (Round memory rd) {
        uint256 cap = perClient == 0 ? jobs : perClient;
        rd.first = new uint256[](CLIENTS);
        rd.assignIds = new uint256[](jobs + 2);
        rd.assignWorkers = new address[](jobs + 2);
        rd.submit = new uint256[][](WORKERS);
        rd.submitted = new uint256[](WORKERS);
        for (uint256 w; w < WORKERS; ++w) {
            rd.submit[w] = new uint256[](jobs);
        }
        rd.accept = new uint256[][](CLIENTS);
        rd.dispute = new uint256[][](CLIENTS);
        rd.cancel = new uint256[][](CLIENTS);
        rd.accepted = new uint256[](CLIENTS);
        rd.disputed = new uint256[](CLIENTS);
        rd.cancelled = new uint256[](CLIENTS);
        for (uint256 c; c < CLIENTS; ++c) {
            rd.accept[c] = new uint256[](cap);
            rd.dispute[c] = new uint256[](cap);
            rd.cancel[c] = new uint256[](cap);
        }
        rd.right = new uint256[](jobs);
        rd.fault = new uint256[](jobs);
    }

    function _workerIndex(uint256 id) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(id))) % WORKERS;
    }

    function _clientIndex(address client) internal view returns (uint256) {
        for (uint256 c; c < CLIENTS; ++c) {
            if (address(_clients[c]) == client) return c;
        }
        revert("not a load client");
    }

    /// @dev Shortens a memory array in place.
    function _trim(uint256[] memory a, uint256 n) internal pure returns (uint256[] memory) {
        assembly {
            mstore(a, n)
        }
        return a;
    }

    function _trimAddresses(address[] memory a, uint256 n) internal pure {
        assembly {
            mstore(a, n)
        }
    }

    /// @dev A copy of at most `n` entries of `a` from `from`.
    function _slice(uint256[] memory a, uint256 from, uint256 n) internal pure returns (uint256[] memory out) {
        if (from + n > a.length) n = a.length - from;
        out = new uint256[](n);
        for (uint256 k; k < n; ++k) {
            out[k] = a[from + k];
        }
    }
}
