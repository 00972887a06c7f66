//! `accord deployment show|verify`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::{GlobalArgs, Output};
use crate::chain::evm::deployment::verify;
use crate::deployment::Manifest;
use crate::domain::Family;

/// `accord deployment …`
#[derive(Debug, Subcommand)]
pub enum DeploymentCommand {
    /// Print the manifest of the chain behind --rpc-url (or the one given with --manifest).
    Show(ManifestArgs),
    /// Check the chain behind --rpc-url against its manifest: chain id, code at every address, every
    /// cross-contract link, and that the timelock, not the deployer, holds every admin role. Exits 1 when a
    /// check fails.
    Verify(ManifestArgs),
}

/// Which manifest to use.
#[derive(Debug, Args)]
pub struct ManifestArgs {
    /// Manifest file. Default: <deployments-dir>/<chain id of --rpc-url>.json.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// Folder holding one manifest per chain id.
    #[arg(long, env = "ACCORD_DEPLOYMENTS_DIR", default_value = "deployments")]
    pub deployments_dir: PathBuf,
}

pub(super) async fn run(cmd: DeploymentCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let rpc_url = global.rpc_url_or_default();
    match cmd {
        DeploymentCommand::Show(args) => {
            let manifest = load(&args, global).await?;
            match global.output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&manifest)?),
                Output::Table => {
                    println!(
                        "chain {} ({})  deployer {}  deploy block {}",
                        manifest.caip2(),
                        manifest.chain_id,
                        manifest.deployer,
                        manifest.deploy_block
                    );
                    for (name, c) in manifest.contracts.iter() {
                        let class = c
                            .class_hash
                            .as_ref()
                            .map(|h| format!("  class {h}"))
                            .unwrap_or_default();
                        println!("{name:<20} {}  block {}{class}", c.address, c.deploy_block);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DeploymentCommand::Verify(args) => {
            let manifest = load(&args, global).await?;
            let checks = match manifest.family() {
                Family::Evm => {
                    let provider =
                        crate::chain::evm::read_provider(&rpc_url).context("--rpc-url")?;
                    verify(&provider, &manifest).await?
                }
                Family::Starknet => {
                    let provider =
                        crate::chain::starknet::signer::provider(&rpc_url).context("--rpc-url")?;
                    crate::chain::starknet::verify::verify(&provider, &manifest).await?
                }
            };
            let failed = checks.iter().filter(|c| !c.ok).count();
            match global.output {
                Output::Json => println!(
                    "{}",
                    serde_json::json!({ "ok": failed == 0, "checks": checks })
                ),
                Output::Table => {
                    for c in &checks {
                        let mark = if c.ok { "ok  " } else { "FAIL" };
                        println!(
                            "{mark} {}{}",
                            c.name,
                            if c.ok {
                                String::new()
                            } else {
                                format!(": {}", c.detail)
                            }
                        );
                    }
                    println!("{} checks, {failed} failed", checks.len());
                }
            }
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

async fn load(args: &ManifestArgs, global: &GlobalArgs) -> anyhow::Result<Manifest> {
    let path = match &args.manifest {
        Some(p) => p.clone(),
        None => {
            let chain_id = super::session::chain_id(&global.rpc_url_or_default()).await?;
            Manifest::path_for(&args.deployments_dir, chain_id)
        }
    };
    Ok(Manifest::load(&path)?)
}
