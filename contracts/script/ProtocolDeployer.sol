// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

import {AccordGovernor} from "../src/AccordGovernor.sol";
import {AccordTimelock} from "../src/AccordTimelock.sol";
import {AccordToken} from "../src/AccordToken.sol";
import {JobManager} from "../src/JobManager.sol";
import {WorkerRegistry} from "../src/WorkerRegistry.sol";

/// @notice Deploys and wires the whole protocol; shared by the deploy script and the test fixture, so the tests
/// run against exactly the wiring that ships.
library ProtocolDeployer {
    /// @notice Everything a deployment needs.
    struct Config {
        address deployer; // sends the wiring calls, then renounces every admin role
        address holder; // receives the token supply
        uint256 supply;
        uint48 votingDelay; // blocks
        uint32 votingPeriod; // blocks
        uint256 proposalThreshold; // tokens
        uint256 quorumPercent;
        uint256 timelockDelay; // seconds
        uint256 minStake; // tokens
        uint256 unbondingPeriod; // seconds
        JobManager.Params params;
        JobManager.Penalties penalties;
        address coordinator;
        address arbiter;
    }

    /// @notice The deployed contracts.
    struct Deployment {
        AccordToken token;
        TimelockController timelock;
        AccordGovernor governor;
        WorkerRegistry registry;
        JobManager jobManager;
    }

    /// @notice Sensible devnet defaults: 1e9 tokens, 1-block voting delay, 20-block voting period, 4% quorum,
    /// 1-minute timelock, 100-token minimum stake, 2.5% fee, 10% slash share, 1-hour assignment timeout,
    /// 1-hour challenge window, 1-day dispute period, 10-minute minimum submit window, minimum unbonding period;
    /// fault slash capped at 2x the reward, client compensation up to 5% of the reward, 1% decline fee, 10%
    /// dispute bond; redundant jobs agree by a simple majority and reveal within 10 minutes.
    function devnetConfig(address deployer, address holder, address coordinator, address arbiter)
        internal
        pure
        returns (Config memory)
    {
        return Config({
            deployer: deployer,
            holder: holder,
            supply: 1_000_000_000e18,
            votingDelay: 1,
            votingPeriod: 20,
            proposalThreshold: 0,
            quorumPercent: 4,
            timelockDelay: 60,
            minStake: 100e18,
            unbondingPeriod: 10 days,
            params: JobManager.Params({
                protocolFeeBps: 250,
                slashShareBps: 1000,
                assignmentTimeout: 1 hours,
                challengeWindow: 1 hours,
                disputePeriod: 1 days,
                minSubmitWindow: 10 minutes,
                accruedFees: 0
            }),
            penalties: JobManager.Penalties({
                slashRewardMultipleBps: 20_000,
                compensationBps: 500,
                declineFeeBps: 100,
                disputeBondBps: 1000,
                consensusBps: 5001,
                revealWindow: 10 minutes
            }),
            coordinator: coordinator,
            arbiter: arbiter
        });
    }

    /// @notice Deploys token, timelock, governor, registry and job manager; grants the initial coordinator and
    /// arbiter; hands every parameter and role to the timelock; leaves the deployer with no power.
    function deploy(Config memory c) internal returns (Deployment memory d) {
        d.token = new AccordToken(c.holder, c.supply);
        d.timelock = new AccordTimelock(c.timelockDelay, new address[](0), _one(address(0)), c.deployer);
        d.governor = new AccordGovernor(
            d.token, d.timelock, c.votingDelay, c.votingPeriod, c.proposalThreshold, c.quorumPercent
        );
        d.timelock.grantRole(d.timelock.PROPOSER_ROLE(), address(d.governor));
        d.timelock.grantRole(d.timelock.CANCELLER_ROLE(), address(d.governor));

        d.registry = new WorkerRegistry(d.token, c.deployer, c.minStake, c.unbondingPeriod);
        d.jobManager = new JobManager(d.token, d.registry, address(d.timelock), c.deployer, c.params, c.penalties);
        d.registry.setJobManager(address(d.jobManager));

        bytes32 admin = d.jobManager.DEFAULT_ADMIN_ROLE();
        if (c.coordinator != address(0)) d.jobManager.grantRole(d.jobManager.COORDINATOR_ROLE(), c.coordinator);
        if (c.arbiter != address(0)) d.jobManager.grantRole(d.jobManager.ARBITER_ROLE(), c.arbiter);
        d.jobManager.grantRole(admin, address(d.timelock));
        d.jobManager.renounceRole(admin, c.deployer);
        d.registry.grantRole(admin, address(d.timelock));
        d.registry.renounceRole(admin, c.deployer);
        d.timelock.renounceRole(d.timelock.DEFAULT_ADMIN_ROLE(), c.deployer);
    }

    function _one(address a) private pure returns (address[] memory arr) {
        arr = new address[](1);
        arr[0] = a;
    }
}
