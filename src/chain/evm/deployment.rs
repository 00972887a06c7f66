//! A deployment's wiring checked on chain (`accord deployment verify`): every address in the manifest holds the
//! expected contract, the contracts point at each other, the timelock holds every role and parameter, and the
//! governed parameters sit within their bounds.

use alloy::primitives::{B256, U256};
use alloy::providers::Provider;

use super::bindings::{AccordGovernor, JobManager, TimelockController, WorkerRegistry};
use std::path::Path;

use crate::deployment::{Error, Manifest, Result};

pub use crate::deployment::Check;
use crate::deployment::expect;

fn rpc<E: std::error::Error + Send + Sync + 'static>(
    call: &'static str,
) -> impl FnOnce(E) -> Error {
    move |e| Error::Rpc {
        call,
        source: Box::new(e),
    }
}

/// A view call's answer, or why the contract gave none. A revert or undecodable return data means the address
/// does not hold the expected contract: a failed check. A transport failure is an [`Error::Rpc`].
fn answer<T>(
    call: &'static str,
    result: std::result::Result<T, alloy::contract::Error>,
) -> Result<std::result::Result<T, String>> {
    use alloy::contract::Error as E;
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(e) if e.as_revert_data().is_some() || matches!(e, E::ZeroData(..) | E::AbiError(_)) => {
            Ok(Err(format!(
                "`{call}` reverted or returned no data: the address does not hold the expected contract"
            )))
        }
        Err(e) => Err(Error::Rpc {
            call,
            source: Box::new(e),
        }),
    }
}

/// Checks a live chain against `manifest`: the chain id, code at every address, every cross-contract link, and
/// that the timelock (not the deployer) holds every admin role. Returns one [`Check`] per property; an RPC
/// failure is an error, never a failed check.
pub async fn verify<P: Provider>(provider: &P, manifest: &Manifest) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    let k = super::Deployment::of(manifest).map_err(|reason| Error::Inconsistent {
        path: Manifest::path_for(Path::new("deployments"), manifest.chain_id),
        reason,
    })?;
    let chain_id = provider.get_chain_id().await.map_err(rpc("eth_chainId"))?;
    expect(&mut checks, "chain id", manifest.chain_id, Ok(chain_id));
    for (name, address) in k.iter() {
        let code = provider
            .get_code_at(address)
            .await
            .map_err(rpc("eth_getCode"))?;
        let found = if code.is_empty() {
            Err(format!("no code at {address:#x}"))
        } else {
            Ok(true)
        };
        expect(&mut checks, &format!("{name} has code"), true, found);
    }
    if checks.iter().any(|c| !c.ok) {
        return Ok(checks);
    }

    let jm = JobManager::new(k.job_manager, provider);
    let registry = WorkerRegistry::new(k.registry, provider);
    let governor = AccordGovernor::new(k.governor, provider);
    let timelock = TimelockController::new(k.timelock, provider);

    let links = [
        (
            "JobManager.token",
            k.token,
            answer("JobManager.token", jm.token().call().await)?,
        ),
        (
            "JobManager.registry",
            k.registry,
            answer("JobManager.registry", jm.registry().call().await)?,
        ),
        (
            "JobManager.treasury",
            k.timelock,
            answer("JobManager.treasury", jm.treasury().call().await)?,
        ),
        (
            "WorkerRegistry.token",
            k.token,
            answer("WorkerRegistry.token", registry.token().call().await)?,
        ),
        (
            "WorkerRegistry.jobManager",
            k.job_manager,
            answer(
                "WorkerRegistry.jobManager",
                registry.jobManager().call().await,
            )?,
        ),
        (
            "AccordGovernor.token",
            k.token,
            answer("AccordGovernor.token", governor.token().call().await)?,
        ),
        (
            "AccordGovernor.timelock",
            k.timelock,
            answer("AccordGovernor.timelock", governor.timelock().call().await)?,
        ),
    ];
    for (name, expected, actual) in links {
        expect(&mut checks, name, expected, actual);
    }

    let admin = B256::ZERO; // DEFAULT_ADMIN_ROLE
    let proposer = answer(
        "TimelockController.PROPOSER_ROLE",
        timelock.PROPOSER_ROLE().call().await,
    )?;
    let proposer = proposer.unwrap_or_default();
    let deployer =
        super::evm_address(&manifest.deployer).map_err(|reason| Error::Inconsistent {
            path: Manifest::path_for(Path::new("deployments"), manifest.chain_id),
            reason,
        })?;
    let (tl, dep) = (k.timelock, deployer);
    let roles = [
        (
            "timelock is JobManager admin",
            true,
            answer("JobManager.hasRole", jm.hasRole(admin, tl).call().await)?,
        ),
        (
            "deployer is not JobManager admin",
            false,
            answer("JobManager.hasRole", jm.hasRole(admin, dep).call().await)?,
        ),
        (
            "timelock is WorkerRegistry admin",
            true,
            answer(
                "WorkerRegistry.hasRole",
                registry.hasRole(admin, tl).call().await,
            )?,
        ),
        (
            "deployer is not WorkerRegistry admin",
            false,
            answer(
                "WorkerRegistry.hasRole",
                registry.hasRole(admin, dep).call().await,
            )?,
        ),
        (
            "governor proposes to the timelock",
            true,
            answer(
                "TimelockController.hasRole",
                timelock.hasRole(proposer, k.governor).call().await,
            )?,
        ),
        (
            "deployer is not timelock admin",
            false,
            answer(
                "TimelockController.hasRole",
                timelock.hasRole(admin, dep).call().await,
            )?,
        ),
    ];
    for (name, expected, actual) in roles {
        expect(&mut checks, name, expected, actual);
    }
    if !crate::chain::evm::wallet::is_devnet(chain_id) {
        minimums(&mut checks, deployer, &governor, &timelock, &jm).await?;
    }
    Ok(checks)
}

/// The documented minimums of a deployment on a public chain (README, "Deploy settings"): governance slow enough
/// for token holders to react, and no protocol role left on the deployer's key. Devnets are exempt.
pub mod minimum {
    /// Blocks between a proposal and its vote (one day of 12-second blocks).
    pub const VOTING_DELAY_BLOCKS: u64 = 7_200;
    /// Blocks a vote lasts (three days of 12-second blocks).
    pub const VOTING_PERIOD_BLOCKS: u64 = 21_600;
    /// Tokens (base units) needed to propose: more than nothing, so proposals cannot be spammed for free.
    pub const PROPOSAL_THRESHOLD: u128 = 1;
    /// Quorum, percent of the supply.
    pub const QUORUM_PERCENT: u64 = 4;
    /// Seconds between a passed proposal and its execution (two days).
    pub const TIMELOCK_DELAY_SECS: u64 = 172_800;
}

async fn minimums<P: Provider>(
    checks: &mut Vec<Check>,
    deployer: alloy::primitives::Address,
    governor: &AccordGovernor::AccordGovernorInstance<&P>,
    timelock: &TimelockController::TimelockControllerInstance<&P>,
    jm: &JobManager::JobManagerInstance<&P>,
) -> Result<()> {
    let mut at_least = |name: &str, min: U256, actual: std::result::Result<U256, String>| {
        let detail = match actual {
            Ok(v) if v >= min => String::new(),
            Ok(v) => format!("{v} is below the documented minimum {min}"),
            Err(why) => why,
        };
        checks.push(Check {
            name: name.into(),
            ok: detail.is_empty(),
            detail,
        });
    };
    at_least(
        "governor voting delay (blocks)",
        U256::from(minimum::VOTING_DELAY_BLOCKS),
        answer(
            "AccordGovernor.votingDelay",
            governor.votingDelay().call().await,
        )?,
    );
    at_least(
        "governor voting period (blocks)",
        U256::from(minimum::VOTING_PERIOD_BLOCKS),
        answer(
            "AccordGovernor.votingPeriod",
            governor.votingPeriod().call().await,
        )?,
    );
    at_least(
        "governor proposal threshold",
        U256::from(minimum::PROPOSAL_THRESHOLD),
        answer(
            "AccordGovernor.proposalThreshold",
            governor.proposalThreshold().call().await,
        )?,
    );
    at_least(
        "governor quorum (percent)",
        U256::from(minimum::QUORUM_PERCENT),
        answer(
            "AccordGovernor.quorumNumerator",
            governor.quorumNumerator_0().call().await,
        )?,
    );
    at_least(
        "timelock delay (seconds)",
        U256::from(minimum::TIMELOCK_DELAY_SECS),
        answer(
            "TimelockController.getMinDelay",
            timelock.getMinDelay().call().await,
        )?,
    );
    let dep = deployer;
    let coordinator = answer(
        "JobManager.COORDINATOR_ROLE",
        jm.COORDINATOR_ROLE().call().await,
    )?
    .unwrap_or_default();
    let arbiter =
        answer("JobManager.ARBITER_ROLE", jm.ARBITER_ROLE().call().await)?.unwrap_or_default();
    expect(
        checks,
        "deployer does not hold COORDINATOR_ROLE",
        false,
        answer(
            "JobManager.hasRole",
            jm.hasRole(coordinator, dep).call().await,
        )?,
    );
    expect(
        checks,
        "deployer does not hold ARBITER_ROLE",
        false,
        answer("JobManager.hasRole", jm.hasRole(arbiter, dep).call().await)?,
    );
    Ok(())
}
