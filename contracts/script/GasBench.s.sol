// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {JobManager} from "../src/JobManager.sol";
import {Vm} from "../test/utils/Vm.sol";
import {ProtocolDeployer} from "./ProtocolDeployer.sol";

/// @notice Broadcasts the gas benchmark's transactions to a devnet: deploy, then three whole job lives
/// (post, assign, submit, accept), then 50 jobs assigned in one `assignBatch` to 50 distinct workers, then two
/// whole redundant lives at n = 3, k = 2 (post, one assignBatch of the three replicas, three commits, three
/// reveals, accept), all three replicas agreeing.
/// `scripts/bench-gas` reads the receipts. Devnet only: the keys are derived from a public label.
contract GasBench {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 internal constant BATCH = 50;

    function _key(string memory label) internal pure returns (uint256) {
        return uint256(keccak256(bytes(string.concat("accord-gas-bench/", label))));
    }

    /// @notice Runs the benchmark's transactions.
    /// @param deployerKey Funded devnet key that deploys and funds the other actors.
    function run(uint256 deployerKey) external {
        uint256 clientKey = _key("client");
        uint256 coordinatorKey = _key("coordinator");
        address deployer = vm.addr(deployerKey);
        address client = vm.addr(clientKey);
        address coordinator = vm.addr(coordinatorKey);
        uint256[] memory workerKeys = new uint256[](BATCH);
        for (uint256 i; i < BATCH; ++i) {
            workerKeys[i] = _key(string.concat("worker-", vm_toString(i)));
        }

        vm.startBroadcast(deployerKey);
        ProtocolDeployer.Deployment memory d =
            ProtocolDeployer.deploy(ProtocolDeployer.devnetConfig(deployer, deployer, coordinator, deployer));
        JobManager jm = d.jobManager;
        payable(client).transfer(10 ether);
        payable(coordinator).transfer(10 ether);
        require(d.token.transfer(client, 1_000_000e18));
        for (uint256 i; i < BATCH; ++i) {
            address w = vm.addr(workerKeys[i]);
            payable(w).transfer(1 ether);
            require(d.token.transfer(w, 1000e18));
        }
        vm.stopBroadcast();

        for (uint256 i; i < BATCH; ++i) {
            vm.startBroadcast(workerKeys[i]);
            d.registry.register(1, "https://worker.example/meta.json");
            d.token.approve(address(d.registry), 1000e18);
            d.registry.stake(1000e18);
            vm.stopBroadcast();
        }

        vm.startBroadcast(clientKey);
        d.token.approve(address(jm), type(uint256).max);
        vm.stopBroadcast();

        // Three whole lives by the same worker: the first pays one-time costs (first job id, first balances).
        address worker = vm.addr(workerKeys[0]);
        for (uint256 n; n < 3; ++n) {
            vm.startBroadcast(clientKey);
            uint256 id = jm.postJob(
                keccak256(abi.encode("spec", n)),
                "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
                1,
                100e18,
                uint32(block.timestamp + 1 days),
                3
            );
            vm.stopBroadcast();
            vm.startBroadcast(coordinatorKey);
            jm.assign(id, worker);
            vm.stopBroadcast();
            vm.startBroadcast(workerKeys[0]);
            jm.submitResult(
                id,
                1,
                keccak256(abi.encode("result", n)),
                4096,
                "accord://blob/0x9c22ff5f21f0b81b113e63f7db6da94fedef11b2119b4088b89664fb9a3cb658"
            );
            vm.stopBroadcast();
            vm.startBroadcast(clientKey);
            jm.acceptResult(id);
            vm.stopBroadcast();
        }

        uint256[] memory ids = new uint256[](BATCH);
        address[] memory workers = new address[](BATCH);
        vm.startBroadcast(clientKey);
        for (uint256 i; i < BATCH; ++i) {
            ids[i] = jm.postJob(
                keccak256(abi.encode("batch", i)), "ipfs://batch", 1, 10e18, uint32(block.timestamp + 1 days), 3
            );
            workers[i] = vm.addr(workerKeys[i]);
        }
        vm.stopBroadcast();
        vm.startBroadcast(coordinatorKey);
        require(jm.assignBatch(ids, workers) == BATCH, "batch assigned partly");
        vm.stopBroadcast();

        for (uint256 n; n < 2; ++n) {
            _redundantLife(jm, clientKey, coordinatorKey, workerKeys, n);
        }
    }

    function _redundantLife(
        JobManager jm,
        uint256 clientKey,
        uint256 coordinatorKey,
        uint256[] memory workerKeys,
        uint256 n
    ) internal {
        vm.startBroadcast(clientKey);
        uint256 id = jm.postRedundantJob(
            keccak256(abi.encode("redundant spec", n)),
            "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
            1,
            100e18,
            uint32(block.timestamp + 1 days),
            3,
            2
        );
        vm.stopBroadcast();
        uint256[] memory ids = new uint256[](3);
        address[] memory replicas = new address[](3);
        for (uint256 i; i < 3; ++i) {
            ids[i] = id;
            replicas[i] = vm.addr(workerKeys[i]);
        }
        vm.startBroadcast(coordinatorKey);
        require(jm.assignBatch(ids, replicas) == 3, "replicas assigned partly");
        vm.stopBroadcast();
        bytes32 commitment = keccak256(abi.encode("redundant result", n));
        for (uint256 i; i < 3; ++i) {
            vm.startBroadcast(workerKeys[i]);
            jm.commitResult(id, jm.sealResult(id, commitment, bytes32(i + 1), replicas[i]));
            vm.stopBroadcast();
        }
        for (uint256 i; i < 3; ++i) {
            vm.startBroadcast(workerKeys[i]);
            jm.revealResult(
                id,
                1,
                commitment,
                4096,
                bytes32(i + 1),
                "accord:sha256:9c22ff5f21f0b81b113e63f7db6da94fedef11b2119b4088b89664fb9a3cb658"
            );
            vm.stopBroadcast();
        }
        vm.startBroadcast(clientKey);
        jm.acceptResult(id);
        vm.stopBroadcast();
    }

    function vm_toString(uint256 i) internal pure returns (string memory s) {
        if (i == 0) return "0";
        while (i != 0) {
            s = string.concat(string(abi.encodePacked(bytes1(uint8(48 + i % 10)))), s);
            i /= 10;
        }
    }
}
