//! A Starknet deployment checked on chain (`accord deployment verify`): the node's chain is the manifest's, every
//! address holds the class the manifest records and this build declares, the contracts point at each other, and
//! the timelock, not the deployer, holds every admin role.

use std::path::Path;

use cainome::cairo_serde::ContractAddress;
use starknet::core::types::{BlockId, BlockTag, Felt, StarknetError};
use starknet::core::utils::cairo_short_string_to_felt;
use starknet::providers::{Provider, ProviderError};

use super::bindings::{governor, jobs, registry, timelock};
use super::signer::Rpc;
use crate::deployment::{Check, Error, Manifest, Result, expect};

/// A transport failure of `call`, as an error (never a failed check).
fn rpc<E: std::fmt::Display>(call: &'static str) -> impl FnOnce(E) -> Error {
    move |e| Error::Rpc {
        call,
        source: Box::new(std::io::Error::other(e.to_string())),
    }
}

fn hex(f: Felt) -> String {
    format!("{f:#x}")
}

/// Checks the Starknet chain behind `provider` against `manifest`. Returns one [`Check`] per property; an RPC
/// failure is an error, never a failed check.
pub async fn verify(provider: &Rpc, manifest: &Manifest) -> Result<Vec<Check>> {
    let inconsistent = |reason: String| Error::Inconsistent {
        path: Manifest::path_for(Path::new("deployments"), manifest.chain_id),
        reason,
    };
    let k = super::Deployment::of(manifest).map_err(inconsistent)?;
    let mut checks = Vec::new();
    let id = provider.chain_id().await.map_err(rpc("starknet_chainId"))?;
    let network = starknet::core::utils::parse_cairo_short_string(&id).unwrap_or_else(|_| hex(id));
    expect(&mut checks, "chain id", k.network.clone(), Ok(network));
    for ((name, address), (_, deployed)) in k.contracts.iter().zip(manifest.contracts.iter()) {
        let found = match provider
            .get_class_hash_at(BlockId::Tag(BlockTag::Latest), *address)
            .await
        {
            Ok(hash) => Ok(hex(hash)),
            Err(ProviderError::StarknetError(StarknetError::ContractNotFound)) => {
                Err(format!("no contract at {}", hex(*address)))
            }
            Err(e) => return Err(rpc("starknet_getClassHashAt")(e)),
        };
        let built = super::classes::class(name)
            .map_err(inconsistent)?
            .class_hash;
        expect(
            &mut checks,
            &format!("{name} is this build's class"),
            hex(built),
            found.clone(),
        );
        if let Some(recorded) = &deployed.class_hash {
            let recorded = Felt::from_hex(recorded)
                .map(hex)
                .unwrap_or_else(|_| recorded.clone());
            expect(
                &mut checks,
                &format!("{name} class is the manifest's"),
                recorded,
                found,
            );
        }
    }
    if checks.iter().any(|c| !c.ok) {
        return Ok(checks);
    }

    let at = |name: &str| k.address(name);
    let jm = jobs::JobManagerReader::new(at("JobManager"), provider);
    let reg = registry::WorkerRegistryReader::new(at("WorkerRegistry"), provider);
    let gov = governor::AccordGovernorReader::new(at("AccordGovernor"), provider);
    let tl = timelock::AccordTimelockReader::new(at("TimelockController"), provider);
    let address = |r: ContractAddress| Ok(hex(r.0));
    let links = [
        (
            "JobManager.token",
            "AccordToken",
            jm.token().call().await.map_err(rpc("JobManager.token"))?,
        ),
        (
            "JobManager.registry",
            "WorkerRegistry",
            jm.registry()
                .call()
                .await
                .map_err(rpc("JobManager.registry"))?,
        ),
        (
            "JobManager.treasury",
            "TimelockController",
            jm.treasury()
                .call()
                .await
                .map_err(rpc("JobManager.treasury"))?,
        ),
        (
            "WorkerRegistry.token",
            "AccordToken",
            reg.token()
                .call()
                .await
                .map_err(rpc("WorkerRegistry.token"))?,
        ),
        (
            "WorkerRegistry.job_manager",
            "JobManager",
            reg.job_manager()
                .call()
                .await
                .map_err(rpc("WorkerRegistry.job_manager"))?,
        ),
        (
            "AccordGovernor.token",
            "AccordToken",
            gov.token()
                .call()
                .await
                .map_err(rpc("AccordGovernor.token"))?,
        ),
        (
            "AccordGovernor.timelock",
            "TimelockController",
            gov.timelock()
                .call()
                .await
                .map_err(rpc("AccordGovernor.timelock"))?,
        ),
    ];
    for (name, target, actual) in links {
        expect(&mut checks, name, hex(at(target)), address(actual));
    }

    let admin = Felt::ZERO;
    let proposer = cairo_short_string_to_felt("PROPOSER_ROLE").expect("a short string");
    let deployer =
        ContractAddress(super::offchain::felt_of(&manifest.deployer).map_err(inconsistent)?);
    let timelock_at = ContractAddress(at("TimelockController"));
    let governor_at = ContractAddress(at("AccordGovernor"));
    let roles = [
        (
            "timelock is JobManager admin",
            true,
            jm.has_role(&admin, &timelock_at).call().await,
        ),
        (
            "deployer is not JobManager admin",
            false,
            jm.has_role(&admin, &deployer).call().await,
        ),
        (
            "timelock is WorkerRegistry admin",
            true,
            reg.has_role(&admin, &timelock_at).call().await,
        ),
        (
            "deployer is not WorkerRegistry admin",
            false,
            reg.has_role(&admin, &deployer).call().await,
        ),
        (
            "governor proposes to the timelock",
            true,
            tl.has_role(&proposer, &governor_at).call().await,
        ),
        (
            "deployer is not timelock admin",
            false,
            tl.has_role(&admin, &deployer).call().await,
        ),
    ];
    for (name, expected, actual) in roles {
        let actual = actual.map_err(rpc("has_role"))?;
        expect(&mut checks, name, expected, Ok(actual));
    }
    Ok(checks)
}
