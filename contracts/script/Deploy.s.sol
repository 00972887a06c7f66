// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "../test/utils/Vm.sol";
import {ProtocolDeployer} from "./ProtocolDeployer.sol";

/// @notice Deploys the protocol with devnet defaults. Run through `scripts/deploy`, which refuses non-devnet chains
/// for the well-known devnet keys and writes `deployments/<chain-id>.json` from the broadcast receipts.
/// Environment: DEPLOYER_KEY (required), HOLDER, COORDINATOR, ARBITER (default: the deployer).
contract Deploy {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice Deploys and wires every contract.
    /// @return d The deployed contracts.
    function run() external returns (ProtocolDeployer.Deployment memory d) {
        uint256 key = vm.envUint("DEPLOYER_KEY");
        address deployer = vm.addr(key);
        ProtocolDeployer.Config memory c = ProtocolDeployer.devnetConfig(
            deployer,
            vm.envOr("HOLDER", deployer),
            vm.envOr("COORDINATOR", deployer),
            vm.envOr("ARBITER", deployer)
        );
        vm.startBroadcast(key);
        d = ProtocolDeployer.deploy(c);
        vm.stopBroadcast();
    }
}
