//! Deploys the protocol on a Starknet chain, as `contracts/script/ProtocolDeployer.sol` does on EVM chains:
//! declares the five classes (skipping those already declared), deploys them through the Universal Deployer,
//! wires them (the governor proposes to the timelock, the job manager slashes through the registry, the
//! coordinator and the arbiter get their roles) and hands every admin role to the timelock in one multicall,
//! after which the deployer holds none. Writes the manifest the coordinator reads.

use std::time::Duration;

use anyhow::Context;
use cainome::cairo_serde::{CairoSerde, ContractAddress, U256};
use starknet::accounts::{Account, ConnectedAccount};
use starknet::contract::{ContractFactory, UdcSelector};
use starknet::core::types::{BlockId, BlockTag, Call, Felt, StarknetError};
use starknet::providers::{Provider, ProviderError};

use super::bindings::{jobs, registry, timelock};
use super::classes;
use super::signer::{Signer, wait_for};
use crate::deployment::{Contracts, Deployed, Manifest};
use crate::domain::Family;

/// How long one transaction may take to be accepted.
const TX_TIMEOUT: Duration = Duration::from_secs(120);

/// What to deploy with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Receives the whole token supply.
    pub holder: Felt,
    /// Token supply, base units.
    pub supply: u128,
    /// Seconds between a proposal and its vote.
    pub voting_delay: u64,
    /// Seconds a vote lasts.
    pub voting_period: u64,
    /// Votes needed to propose, base units.
    pub proposal_threshold: u128,
    /// Quorum, percent of the supply.
    pub quorum_percent: u8,
    /// Seconds between queueing and executing a decision.
    pub timelock_delay: u64,
    /// Stake a worker needs, base units.
    pub min_stake: u128,
    /// Seconds an unstaked amount stays slashable.
    pub unbonding_period: u64,
    /// The job manager's parameters.
    pub params: jobs::Params,
    /// Its penalties.
    pub penalties: jobs::Penalties,
    /// Gets the coordinator role (assigns jobs); none when zero.
    pub coordinator: Felt,
    /// Gets the arbiter role (rules on disputes); none when zero.
    pub arbiter: Felt,
}

impl Config {
    /// The devnet settings, the same as the Solidity deployer's `devnetConfig` (with seconds where it counts
    /// blocks: Starknet's governor runs on timestamps).
    pub fn devnet(holder: Felt, coordinator: Felt, arbiter: Felt) -> Self {
        const E18: u128 = 1_000_000_000_000_000_000;
        Self {
            holder,
            supply: 1_000_000_000 * E18,
            voting_delay: 1,
            voting_period: 20,
            proposal_threshold: 0,
            quorum_percent: 4,
            timelock_delay: 60,
            min_stake: 100 * E18,
            unbonding_period: 10 * 86_400,
            params: jobs::Params {
                protocol_fee_bps: 250,
                slash_share_bps: 1000,
                assignment_timeout: 3600,
                challenge_window: 3600,
                dispute_period: 86_400,
                min_submit_window: 600,
                accrued_fees: U256 { low: 0, high: 0 },
            },
            penalties: jobs::Penalties {
                slash_reward_multiple_bps: 20_000,
                compensation_bps: 500,
                decline_fee_bps: 100,
                dispute_bond_bps: 1000,
                consensus_bps: 5001,
                reveal_window: 600,
            },
            coordinator,
            arbiter,
        }
    }
}

fn u256(v: u128) -> Vec<Felt> {
    U256::cairo_serialize(&U256 { low: v, high: 0 })
}

fn address(a: Felt) -> Vec<Felt> {
    ContractAddress::cairo_serialize(&ContractAddress(a))
}

/// Declares `name`'s class unless the chain knows it already; returns its class hash.
async fn declare(account: &Signer, name: &str) -> anyhow::Result<Felt> {
    let class = classes::class(name).map_err(anyhow::Error::msg)?;
    let provider = account.provider();
    match provider
        .get_class(BlockId::Tag(BlockTag::Latest), class.class_hash)
        .await
    {
        Ok(_) => return Ok(class.class_hash),
        Err(ProviderError::StarknetError(StarknetError::ClassHashNotFound)) => {}
        Err(e) => return Err(anyhow::anyhow!("starknet_getClass: {e}")),
    }
    let sent = account
        .declare_v3(class.sierra.clone(), class.compiled_class_hash)
        .send()
        .await
        .with_context(|| format!("declaring {name}"))?;
    wait_for(provider, sent.transaction_hash, TX_TIMEOUT)
        .await
        .with_context(|| format!("declaring {name}"))?;
    Ok(class.class_hash)
}

/// Deploys `name` with `calldata`; returns its address and the block it was deployed in.
async fn deploy_one(
    account: &Signer,
    name: &str,
    calldata: Vec<Felt>,
    salt: Felt,
) -> anyhow::Result<(Felt, u64, Felt)> {
    let class_hash = declare(account, name).await?;
    let factory = ContractFactory::new_with_udc(class_hash, account, UdcSelector::New);
    let deployment = factory.deploy_v3(calldata, salt, true);
    let address = deployment.deployed_address();
    let sent = deployment
        .send()
        .await
        .with_context(|| format!("deploying {name}"))?;
    let receipt = wait_for(account.provider(), sent.transaction_hash, TX_TIMEOUT)
        .await
        .with_context(|| format!("deploying {name}"))?;
    Ok((address, receipt.block.block_number(), class_hash))
}

/// Deploys and wires the protocol from `account` with `config`; returns the manifest (family `starknet`).
pub async fn deploy(account: &Signer, config: &Config) -> anyhow::Result<Manifest> {
    let provider = account.provider();
    let network = starknet::core::utils::parse_cairo_short_string(&account.chain_id())
        .context("the chain id is not a short string")?;
    let deployer = account.address();
    // A fresh salt per deployment: the Universal Deployer derives addresses from it and the deployer.
    let nonce = provider
        .get_nonce(BlockId::Tag(BlockTag::Latest), deployer)
        .await
        .context("starknet_getNonce")?;
    let salt = |i: u64| starknet::core::crypto::pedersen_hash(&nonce, &Felt::from(i));

    let (token, token_block, token_class) = deploy_one(
        account,
        "AccordToken",
        [address(config.holder), u256(config.supply)].concat(),
        salt(1),
    )
    .await?;
    let executors = [vec![Felt::ONE], address(Felt::ZERO)].concat(); // [0]: anyone executes
    let (timelock, timelock_block, timelock_class) = deploy_one(
        account,
        "TimelockController",
        [
            vec![Felt::from(config.timelock_delay), Felt::ZERO], // no proposers yet
            executors,
            address(deployer),
        ]
        .concat(),
        salt(2),
    )
    .await?;
    let (governor, governor_block, governor_class) = deploy_one(
        account,
        "AccordGovernor",
        [
            address(token),
            address(timelock),
            vec![
                Felt::from(config.voting_delay),
                Felt::from(config.voting_period),
            ],
            u256(config.proposal_threshold),
            u256(u128::from(config.quorum_percent)),
        ]
        .concat(),
        salt(3),
    )
    .await?;
    let (registry, registry_block, registry_class) = deploy_one(
        account,
        "WorkerRegistry",
        [
            address(token),
            address(deployer),
            u256(config.min_stake),
            u256(u128::from(config.unbonding_period)),
        ]
        .concat(),
        salt(4),
    )
    .await?;
    let (job_manager, jobs_block, jobs_class) = deploy_one(
        account,
        "JobManager",
        [
            address(token),
            address(registry),
            address(timelock),
            address(deployer),
            jobs::Params::cairo_serialize(&config.params),
            jobs::Penalties::cairo_serialize(&config.penalties),
        ]
        .concat(),
        salt(5),
    )
    .await?;

    // Wiring, in one transaction: after it the deployer holds no role anywhere.
    let short = |s: &str| super::offchain::short_string(s).map_err(anyhow::Error::msg);
    let admin = Felt::ZERO;
    let tl = timelock::AccordTimelock::new(timelock, account);
    let reg = registry::WorkerRegistry::new(registry, account);
    let jm = jobs::JobManager::new(job_manager, account);
    let ca = |a: Felt| ContractAddress(a);
    let mut calls: Vec<Call> = vec![
        tl.grant_role_getcall(&short("PROPOSER_ROLE")?, &ca(governor)),
        tl.grant_role_getcall(&short("CANCELLER_ROLE")?, &ca(governor)),
        reg.set_job_manager_getcall(&ca(job_manager)),
    ];
    if config.coordinator != Felt::ZERO {
        calls.push(jm.grant_role_getcall(&short("COORDINATOR_ROLE")?, &ca(config.coordinator)));
    }
    if config.arbiter != Felt::ZERO {
        calls.push(jm.grant_role_getcall(&short("ARBITER_ROLE")?, &ca(config.arbiter)));
    }
    calls.extend([
        jm.grant_role_getcall(&admin, &ca(timelock)),
        jm.renounce_role_getcall(&admin, &ca(deployer)),
        reg.grant_role_getcall(&admin, &ca(timelock)),
        reg.renounce_role_getcall(&admin, &ca(deployer)),
        tl.renounce_role_getcall(&admin, &ca(deployer)),
    ]);
    let sent = account
        .execute_v3(calls)
        .send()
        .await
        .context("wiring the contracts")?;
    wait_for(provider, sent.transaction_hash, TX_TIMEOUT)
        .await
        .context("wiring the contracts")?;

    let deployed = |a: Felt, block: u64, class: Felt| Deployed {
        address: super::address(a),
        deploy_block: block,
        class_hash: Some(format!("{class:#066x}")),
    };
    let manifest = Manifest {
        family: Family::Starknet,
        chain_id: super::chain_key(&network).0,
        network: Some(network),
        deployer: super::address(deployer),
        deploy_block: token_block,
        contracts: Contracts {
            token: deployed(token, token_block, token_class),
            timelock: deployed(timelock, timelock_block, timelock_class),
            governor: deployed(governor, governor_block, governor_class),
            registry: deployed(registry, registry_block, registry_class),
            job_manager: deployed(job_manager, jobs_block, jobs_class),
        },
    };
    manifest.check().map_err(anyhow::Error::msg)?;
    Ok(manifest)
}
