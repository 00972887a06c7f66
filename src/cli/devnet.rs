//! `accord devnet`: everything a newcomer needs, in one command, torn down by Ctrl-C or SIGTERM.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;

use super::shutdown_signal;
use crate::chain::evm::devnet::{self as evm, Anvil};
use crate::config::Config;
use crate::coordinator::Coordinator;
use crate::domain::{Amount, U256};
use crate::pg::TempCluster;

/// `accord devnet`
#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// Port of the local chain (anvil) on 127.0.0.1.
    #[arg(long, default_value_t = 8545)]
    pub port: u16,
    /// Port of the REST API on 127.0.0.1.
    #[arg(long, default_value_t = 8080)]
    pub api_port: u16,
    /// The Accord checkout holding scripts/ and contracts/ (the one this binary was built from by default).
    #[arg(long, env = "ACCORD_REPO", default_value = env!("CARGO_MANIFEST_DIR"))]
    pub repo: PathBuf,
    /// Also run three worker agents (demo 1-3) and a client (the deployer) that posts a small job every two
    /// seconds and accepts the results: jobs get paid and rewards show in the API within a minute.
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

/// Everything the devnet started; dropping it stops anvil and PostgreSQL.
struct Running {
    _anvil: Anvil,
    cluster: TempCluster,
    coordinator: Coordinator,
    manifest: crate::deployment::Manifest,
    keys: Vec<String>,
    rpc_url: String,
}

async fn start(args: &DevnetArgs) -> anyhow::Result<Running> {
    let repo = args
        .repo
        .canonicalize()
        .with_context(|| format!("--repo {} does not exist", args.repo.display()))?;
    check_free(args.port, "--port")?;
    check_free(args.api_port, "--api-port")?;
    eprintln!("devnet: checking the toolchain (scripts/bootstrap)");
    run_script(&repo, "bootstrap", &[], &[])?;

    eprintln!("devnet: starting anvil on 127.0.0.1:{}", args.port);
    let _anvil = Anvil::spawn(&repo.join(".tools/bin/anvil"), args.port, 31337)?;
    let rpc_url = _anvil.url.clone();

    eprintln!("devnet: starting a throwaway PostgreSQL");
    let cluster = TempCluster::start().await?;

    let cast = repo.join(".tools/bin/cast");
    let keys: Vec<String> = (0..6)
        .map(|i| evm::devnet_key(&cast, i))
        .collect::<anyhow::Result<_>>()?;
    let (coordinator, arbiter) = (evm::address_of(&keys[1])?, evm::address_of(&keys[2])?);
    eprintln!("devnet: deploying the contracts");
    let deployments = repo.join("deployments");
    run_script(
        &repo,
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
    let manifest = crate::deployment::Manifest::load(&deployments.join("31337.json"))?;

    let demo_accounts = keys[3..6]
        .iter()
        .map(|k| evm::address_of(k))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let amount = Amount(U256::from(DEMO_ACRD) * U256::from(10u64).pow(U256::from(18u64)));
    evm::fund(&rpc_url, &manifest, &keys[0], &demo_accounts, amount).await?;

    let mut config = Config::default();
    config.chain.rpc_url = rpc_url.clone();
    config.chain.deployments_dir = deployments;
    config.database.url = cluster.url();
    config.api.listen = SocketAddr::from(([127, 0, 0, 1], args.api_port));
    config.indexer.poll_interval_ms = 250;
    let coordinator_key = evm::coordinator_key(&keys[1])?;
    let mut coordinator_proc = Coordinator::start(config, Some(coordinator_key)).await?;
    coordinator_proc
        .wait_ready(Duration::from_secs(120))
        .await?;

    Ok(Running {
        _anvil,
        cluster,
        coordinator: coordinator_proc,
        manifest,
        keys,
        rpc_url,
    })
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
        _anvil,
        cluster,
        coordinator: coordinator_proc,
        manifest,
        keys,
        rpc_url,
    } = running;
    let api = format!("http://{}", coordinator_proc.api_addr);
    println!();
    println!("Accord devnet is up (chain 31337)");
    println!("  API          {api}   (try {api}/v1/status, {api}/v1/jobs, {api}/openapi.json)");
    println!("  RPC          {rpc_url}");
    println!("  PostgreSQL   {}", cluster.url());
    println!("  manifest     deployments/31337.json");
    for (name, c) in manifest.contracts.iter() {
        println!("  {name:<20} {}  block {}", c.address, c.deploy_block);
    }
    println!();
    println!(
        "Accounts (devnet keys from anvil's public mnemonic; never use them on a real chain):"
    );
    let roles = [
        "deployer, token holder",
        "coordinator (COORDINATOR_ROLE)",
        "arbiter (ARBITER_ROLE)",
        "demo 1",
        "demo 2",
        "demo 3",
    ];
    for (i, key) in keys.iter().enumerate() {
        let funded = if i >= 3 {
            format!(", {DEMO_ACRD} ACRD")
        } else {
            String::new()
        };
        println!("  {}  {key}  {}{funded}", evm::address_of(key)?, roles[i]);
    }
    println!();
    let demo = if args.demo {
        let mut workers = Vec::new();
        for key in &keys[3..6] {
            workers.push(evm::account(&rpc_url, &manifest, key).await?);
        }
        let client = evm::account(&rpc_url, &manifest, &keys[0]).await?;
        let demo = super::demo::Demo::start(&api, workers, client).await?;
        println!(
            "Demo: three worker agents (demo 1-3) run jobs; the deployer posts one every 2 s and accepts the results."
        );
        println!("  watch {api}/v1/jobs?status=paid and {api}/v1/rewards");
        Some(demo)
    } else {
        None
    };
    println!("Ctrl-C stops the devnet.");

    let cancel = coordinator_proc.cancel_token();
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        eprintln!("\ndevnet: stopping");
        cancel.cancel();
    });
    let result = coordinator_proc.wait().await;
    signal.abort();
    if let Some(demo) = demo {
        demo.stop().await;
    }
    drop(cluster);
    result.map(|()| ExitCode::SUCCESS)
}
