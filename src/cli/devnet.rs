//! `accord devnet`: everything a newcomer needs, in one command, torn down by Ctrl-C or SIGTERM: anvil and
//! starknet-devnet (either or both), the protocol deployed on each, one PostgreSQL, one coordinator and one API
//! over every chain.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;

use super::shutdown_signal;
use crate::chain::CoordinatorKey;
use crate::chain::account::Wallet;
use crate::chain::evm::devnet::{self as evm, Anvil};
use crate::chain::starknet::devnet::StarknetDevnet;
use crate::config::{ChainConfig, Config};
use crate::coordinator::Coordinator;
use crate::deployment::Manifest;
use crate::domain::{Amount, Family, U256};
use crate::pg::TempCluster;

/// `accord devnet`
#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// The chains to run: `evm` (anvil), `starknet` (starknet-devnet) or both, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "evm,starknet")]
    pub chains: Vec<Family>,
    /// Port of the EVM chain (anvil) on 127.0.0.1.
    #[arg(long, default_value_t = 8545)]
    pub port: u16,
    /// Port of the Starknet chain (starknet-devnet) on 127.0.0.1.
    #[arg(long, default_value_t = 5050)]
    pub starknet_port: u16,
    /// Port of the REST API on 127.0.0.1.
    #[arg(long, default_value_t = 8080)]
    pub api_port: u16,
    /// The Accord checkout holding scripts/ and contracts/ (the one this binary was built from by default).
    #[arg(long, env = "ACCORD_REPO", default_value = env!("CARGO_MANIFEST_DIR"))]
    pub repo: PathBuf,
    /// Also run, on every chain, three worker agents (demo 1-3) and a client (the deployer) that posts a small
    /// job every two seconds and accepts the results: jobs get paid and rewards show in the API within a minute.
    #[arg(long)]
    pub demo: bool,
}

/// Demo accounts funded with this many ACRD (18 decimals).
const DEMO_ACRD: u64 = 100_000;

fn check_free(port: u16, what: &str) -> anyhow::Result<()> {
    TcpListener::bind(("127.0.0.1", port))
        .map(drop)
        .with_context(|| format!("port {port} on 127.0.0.1 is taken; pass another {what}"))
}

/// Runs `scripts/<script>` with `args` and `env` (secrets go in `env`: never on a command line, where any user
/// of the host can read them).
fn run_script(
    repo: &Path,
    script: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<String> {
    let out = Command::new(repo.join("scripts").join(script))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run scripts/{script} in {}", repo.display()))?;
    if !out.status.success() {
        bail!(
            "scripts/{script} failed:\n{}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// One chain of the devnet: its node (stopped on drop), deployment and accounts.
struct DevnetChain {
    /// anvil or starknet-devnet, stopped on drop.
    _node: Node,
    family: Family,
    rpc_url: String,
    manifest: Manifest,
    manifest_path: PathBuf,
    /// The accounts to show: address, devnet key, role.
    accounts: Vec<(String, String, String)>,
    /// The coordinator's key on this chain, until the coordinator takes it.
    coordinator_key: Option<CoordinatorKey>,
    /// With `--demo`: the demo workers' and the client's wallets.
    demo: Option<DemoWallets>,
}

/// The demo workers' wallets and the demo client's.
type DemoWallets = (Vec<Arc<dyn Wallet>>, Arc<dyn Wallet>);

/// A chain node the devnet started.
enum Node {
    Anvil(#[allow(dead_code)] Anvil),
    Starknet(#[allow(dead_code)] StarknetDevnet),
}

/// The accounts' roles, by index.
const ROLES: [&str; 6] = [
    "deployer, token holder",
    "coordinator",
    "arbiter",
    "demo 1",
    "demo 2",
    "demo 3",
];

/// The demo accounts' ACRD, base units.
fn demo_amount() -> U256 {
    U256::from(DEMO_ACRD) * U256::from(10u64).pow(U256::from(18u64))
}

fn roles(addresses_and_keys: Vec<(String, String)>) -> Vec<(String, String, String)> {
    addresses_and_keys
        .into_iter()
        .zip(ROLES)
        .enumerate()
        .map(|(i, ((address, key), role))| {
            let funded = if i >= 3 {
                format!(", {DEMO_ACRD} ACRD")
            } else {
                String::new()
            };
            (address, key, format!("{role}{funded}"))
        })
        .collect()
}

/// anvil, the contracts deployed by `scripts/deploy`, the demo accounts funded.
async fn start_evm(args: &DevnetArgs, repo: &Path) -> anyhow::Result<DevnetChain> {
    eprintln!("devnet: starting anvil on 127.0.0.1:{}", args.port);
    let anvil = Anvil::spawn(&repo.join(".tools/bin/anvil"), args.port, 31337)?;
    let rpc_url = anvil.url.clone();
    let cast = repo.join(".tools/bin/cast");
    let keys: Vec<String> = (0..6)
        .map(|i| evm::devnet_key(&cast, i))
        .collect::<anyhow::Result<_>>()?;
    let (coordinator, arbiter) = (evm::address_of(&keys[1])?, evm::address_of(&keys[2])?);
    eprintln!("devnet: deploying the contracts on anvil");
    let deployments = repo.join("deployments");
    run_script(
        repo,
        "deploy",
        &[
            "--rpc-url",
            &rpc_url,
            "--coordinator",
            coordinator.as_str(),
            "--arbiter",
            arbiter.as_str(),
            "--out",
            deployments.to_str().unwrap_or("deployments"),
        ],
        &[("DEPLOYER_KEY", &keys[0])],
    )?;
    let manifest_path = Manifest::path_for(&deployments, 31337);
    let manifest = Manifest::load(&manifest_path)?;
    let demo_accounts = keys[3..6]
        .iter()
        .map(|k| evm::address_of(k))
        .collect::<anyhow::Result<Vec<_>>>()?;
    evm::fund(
        &rpc_url,
        &manifest,
        &keys[0],
        &demo_accounts,
        Amount(demo_amount()),
    )
    .await?;
    let demo = if args.demo {
        let mut workers = Vec::new();
        for key in &keys[3..6] {
            workers.push(evm::account(&rpc_url, &manifest, key).await?);
        }
        Some((workers, evm::account(&rpc_url, &manifest, &keys[0]).await?))
    } else {
        None
    };
    let accounts = keys
        .iter()
        .map(|k| Ok((evm::address_of(k)?.to_string(), k.clone())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(DevnetChain {
        _node: Node::Anvil(anvil),
        family: Family::Evm,
        coordinator_key: Some(evm::coordinator_key(&keys[1])?),
        rpc_url,
        manifest,
        manifest_path,
        accounts: roles(accounts),
        demo,
    })
}

/// starknet-devnet, the Cairo contracts declared and deployed, the demo accounts funded.
async fn start_starknet(args: &DevnetArgs, repo: &Path) -> anyhow::Result<DevnetChain> {
    eprintln!(
        "devnet: starting starknet-devnet on 127.0.0.1:{}",
        args.starknet_port
    );
    let node = StarknetDevnet::spawn(
        &repo.join(".tools/bin/starknet-devnet"),
        args.starknet_port,
        None,
    )
    .await?;
    eprintln!("devnet: declaring and deploying the Cairo contracts on starknet-devnet");
    let protocol = node.deploy_protocol().await?;
    let manifest = protocol.manifest.clone();
    // Not deployments/ itself: a devnet runs as SN_SEPOLIA, whose manifest there is the real network's.
    let dir = repo.join("deployments").join("devnet");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let manifest_path = Manifest::path_for(&dir, manifest.chain_id);
    std::fs::write(
        &manifest_path,
        serde_json::to_string_pretty(&manifest)? + "\n",
    )
    .with_context(|| format!("cannot write {}", manifest_path.display()))?;
    let accounts = &protocol.accounts[..6];
    let demo_accounts: Vec<_> = accounts[3..6].iter().map(|a| a.address).collect();
    let amount = u128::try_from(demo_amount()).expect("the demo amount fits 128 bits");
    protocol.fund(&demo_accounts, amount).await?;
    let demo = if args.demo {
        let mut workers = Vec::new();
        for a in &accounts[3..6] {
            workers.push(a.wallet(&node.url, &manifest).await?);
        }
        Some((workers, accounts[0].wallet(&node.url, &manifest).await?))
    } else {
        None
    };
    let shown = accounts
        .iter()
        .map(|a| {
            (
                crate::chain::starknet::address(a.address).to_string(),
                format!("{:#x}", a.private_key),
            )
        })
        .collect();
    Ok(DevnetChain {
        family: Family::Starknet,
        coordinator_key: Some(accounts[1].coordinator_key()),
        rpc_url: node.url.clone(),
        _node: Node::Starknet(node),
        manifest,
        manifest_path,
        accounts: roles(shown),
        demo,
    })
}

/// Everything the devnet started; dropping it stops the chains and PostgreSQL.
struct Running {
    chains: Vec<DevnetChain>,
    cluster: TempCluster,
    coordinator: Coordinator,
}

async fn start(args: &DevnetArgs) -> anyhow::Result<Running> {
    let repo = args
        .repo
        .canonicalize()
        .with_context(|| format!("--repo {} does not exist", args.repo.display()))?;
    let families = args.chains.clone();
    if families.is_empty() {
        bail!("--chains names no chain (evm, starknet or evm,starknet)");
    }
    if let Some((_, twice)) = families
        .iter()
        .enumerate()
        .find(|(i, f)| families[..*i].contains(f))
    {
        bail!("--chains names {twice} twice");
    }
    if families.contains(&Family::Evm) {
        check_free(args.port, "--port")?;
    }
    if families.contains(&Family::Starknet) {
        check_free(args.starknet_port, "--starknet-port")?;
    }
    check_free(args.api_port, "--api-port")?;
    eprintln!("devnet: checking the toolchain (scripts/bootstrap)");
    run_script(&repo, "bootstrap", &[], &[])?;

    eprintln!("devnet: starting a throwaway PostgreSQL");
    let cluster = TempCluster::start().await?;

    let mut chains = Vec::new();
    for family in families {
        chains.push(match family {
            Family::Evm => start_evm(args, &repo).await?,
            Family::Starknet => start_starknet(args, &repo).await?,
        });
    }

    let chain_configs = chains
        .iter()
        .map(|c| ChainConfig {
            family: c.family,
            rpc_url: c.rpc_url.clone(),
            deployments_dir: c
                .manifest_path
                .parent()
                .map_or_else(|| repo.join("deployments"), Path::to_path_buf),
            ..ChainConfig::default()
        })
        .collect();
    let mut config = Config {
        chains: chain_configs,
        ..Config::default()
    };
    config.database.url = cluster.url();
    config.api.listen = SocketAddr::from(([127, 0, 0, 1], args.api_port));
    config.indexer.poll_interval_ms = 250;
    // The dashboard's DA page fills within seconds of the demo's first results.
    config.da.check_interval_secs = 5;
    let keys: Vec<CoordinatorKey> = chains
        .iter_mut()
        .filter_map(|c| c.coordinator_key.take())
        .collect();
    eprintln!("devnet: starting the coordinator");
    let mut coordinator = Coordinator::start(config, keys).await?;
    coordinator.wait_ready(Duration::from_secs(120)).await?;
    Ok(Running {
        chains,
        cluster,
        coordinator,
    })
}

fn print_chain(chain: &DevnetChain, repo: &Path) {
    let manifest = &chain.manifest;
    let (node, keys) = match chain.family {
        Family::Evm => ("anvil", "anvil's public mnemonic"),
        Family::Starknet => ("starknet-devnet", "starknet-devnet's seed 0"),
    };
    println!();
    println!(
        "{} ({node}, chain id {})",
        manifest.caip2(),
        manifest.chain_id
    );
    println!("  RPC          {}", chain.rpc_url);
    let shown = chain
        .manifest_path
        .strip_prefix(repo)
        .unwrap_or(&chain.manifest_path);
    println!("  manifest     {}", shown.display());
    for (name, c) in manifest.contracts.iter() {
        println!("  {name:<20} {}  block {}", c.address, c.deploy_block);
    }
    println!("  accounts (devnet keys from {keys}; never use them on a real chain):");
    for (address, key, role) in &chain.accounts {
        println!("    {address}  {key}  {role}");
    }
}

pub(super) async fn run(args: DevnetArgs) -> anyhow::Result<ExitCode> {
    // Ctrl-C or SIGTERM during start-up drops the start future, whose guards stop what was started so far.
    let running = tokio::select! {
        started = start(&args) => started?,
        _ = shutdown_signal() => {
            eprintln!("\ndevnet: stopped during start-up");
            return Ok(ExitCode::from(130));
        }
    };
    let Running {
        mut chains,
        cluster,
        coordinator,
    } = running;
    let repo = args.repo.canonicalize().unwrap_or(args.repo.clone());
    let api = format!("http://{}", coordinator.api_addr);
    let names: Vec<String> = chains.iter().map(|c| c.manifest.caip2()).collect();
    println!();
    println!("Accord devnet is up: {}", names.join(", "));
    println!("  API          {api}   (try {api}/v1/status, {api}/v1/jobs, {api}/openapi.json)");
    println!("  Dashboard    {api}/   (open it in a browser)");
    println!("  PostgreSQL   {}", cluster.url());
    for chain in &chains {
        print_chain(chain, &repo);
    }
    println!();
    let demo = if args.demo {
        let mut demo_chains = Vec::new();
        for chain in &mut chains {
            if let Some((workers, client)) = chain.demo.take() {
                demo_chains.push(super::demo::DemoChain {
                    name: chain.manifest.caip2(),
                    workers,
                    client,
                });
            }
        }
        let demo = super::demo::Demo::start(&api, demo_chains).await?;
        println!(
            "Demo: on every chain, three worker agents (demo 1-3) run jobs; the deployer posts one every 2 s (every fifth a 2-of-3 redundant job) and accepts the results."
        );
        println!("  watch {api}/v1/jobs?status=paid and {api}/v1/rewards");
        Some(demo)
    } else {
        None
    };
    println!("Ctrl-C stops the devnet.");

    let cancel = coordinator.cancel_token();
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        eprintln!("\ndevnet: stopping");
        cancel.cancel();
    });
    let result = coordinator.wait().await;
    signal.abort();
    if let Some(demo) = demo {
        demo.stop().await;
    }
    drop(chains);
    drop(cluster);
    result.map(|()| ExitCode::SUCCESS)
}
