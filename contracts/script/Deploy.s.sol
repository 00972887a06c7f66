// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {JobManager} from "../src/JobManager.sol";
import {Vm} from "../test/utils/Vm.sol";
import {ProtocolDeployer} from "./ProtocolDeployer.sol";

/// @notice Deploys the protocol with the settings `scripts/deploy` read from `deployments/config/<network>.json`
/// and checked against the chain (the devnet profile only on devnet chains; explicit role holders elsewhere).
/// Run it through `scripts/deploy`, which also writes `deployments/<chain-id>.json` from the broadcast receipts.
/// Signer: `DEPLOYER_KEY` from the environment (devnets only; a key never travels on a command line), or else
/// the wallet given to forge (`--keystore`).
/// Environment: every `ACCORD_*` setting (required), and HOLDER, COORDINATOR, ARBITER (default: the deployer).
contract Deploy {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice Deploys and wires every contract.
    /// @return d The deployed contracts.
    function run() external returns (ProtocolDeployer.Deployment memory d) {
        uint256 key = vm.envOr("DEPLOYER_KEY", uint256(0));
        // Without a key, forge sets msg.sender to the single CLI wallet.
        address deployer = key == 0 ? msg.sender : vm.addr(key);
        ProtocolDeployer.Config memory c = ProtocolDeployer.devnetConfig(
            deployer, vm.envOr("HOLDER", deployer), vm.envOr("COORDINATOR", deployer), vm.envOr("ARBITER", deployer)
        );
        _settings(c);
        if (key == 0) vm.startBroadcast();
        else vm.startBroadcast(key);
        d = ProtocolDeployer.deploy(c);
        vm.stopBroadcast();
    }

    /// @dev Every setting from the environment. Narrowing casts are checked here; the contracts check bounds.
    function _settings(ProtocolDeployer.Config memory c) private view {
        c.supply = vm.envUint("ACCORD_SUPPLY");
        c.votingDelay = uint48(_fit("ACCORD_VOTING_DELAY", type(uint48).max));
        c.votingPeriod = uint32(_fit("ACCORD_VOTING_PERIOD", type(uint32).max));
        c.proposalThreshold = vm.envUint("ACCORD_PROPOSAL_THRESHOLD");
        c.quorumPercent = vm.envUint("ACCORD_QUORUM_PERCENT");
        c.timelockDelay = vm.envUint("ACCORD_TIMELOCK_DELAY");
        c.minStake = vm.envUint("ACCORD_MIN_STAKE");
        c.unbondingPeriod = vm.envUint("ACCORD_UNBONDING_PERIOD");
        JobManager.Params memory p = c.params;
        p.protocolFeeBps = uint16(_fit("ACCORD_PROTOCOL_FEE_BPS", type(uint16).max));
        p.slashShareBps = uint16(_fit("ACCORD_SLASH_SHARE_BPS", type(uint16).max));
        p.assignmentTimeout = uint32(_fit("ACCORD_ASSIGNMENT_TIMEOUT", type(uint32).max));
        p.challengeWindow = uint32(_fit("ACCORD_CHALLENGE_WINDOW", type(uint32).max));
        p.disputePeriod = uint32(_fit("ACCORD_DISPUTE_PERIOD", type(uint32).max));
        p.minSubmitWindow = uint32(_fit("ACCORD_MIN_SUBMIT_WINDOW", type(uint32).max));
        JobManager.Penalties memory q = c.penalties;
        q.slashRewardMultipleBps = uint16(_fit("ACCORD_SLASH_REWARD_MULTIPLE_BPS", type(uint16).max));
        q.compensationBps = uint16(_fit("ACCORD_COMPENSATION_BPS", type(uint16).max));
        q.declineFeeBps = uint16(_fit("ACCORD_DECLINE_FEE_BPS", type(uint16).max));
        q.disputeBondBps = uint16(_fit("ACCORD_DISPUTE_BOND_BPS", type(uint16).max));
        q.consensusBps = uint16(_fit("ACCORD_CONSENSUS_BPS", type(uint16).max));
        q.revealWindow = uint32(_fit("ACCORD_REVEAL_WINDOW", type(uint32).max));
    }

    error SettingTooLarge(string name, uint256 value, uint256 max);

    function _fit(string memory name, uint256 max) private view returns (uint256 value) {
        value = vm.envUint(name);
        if (value > max) revert SettingTooLarge(name, value, max);
    }
}
