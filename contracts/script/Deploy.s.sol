// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "../test/utils/Vm.sol";
import {ProtocolDeployer} from "./ProtocolDeployer.sol";

/// @notice Deploys the protocol with devnet defaults, signed by the wallet given to forge (`--private-key` or
/// `--keystore`). Run it through `scripts/deploy`, which refuses private keys on non-devnet chains and writes
/// `deployments/<chain-id>.json` from the broadcast receipts.
/// Environment: HOLDER, COORDINATOR, ARBITER (each defaults to the deployer).
contract Deploy {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice Deploys and wires every contract.
    /// @return d The deployed contracts.
    function run() external returns (ProtocolDeployer.Deployment memory d) {
        // forge sets msg.sender to the single CLI wallet.
        address deployer = msg.sender;
        ProtocolDeployer.Config memory c = ProtocolDeployer.devnetConfig(
            deployer, vm.envOr("HOLDER", deployer), vm.envOr("COORDINATOR", deployer), vm.envOr("ARBITER", deployer)
        );
        vm.startBroadcast();
        d = ProtocolDeployer.deploy(c);
        vm.stopBroadcast();
    }
}
