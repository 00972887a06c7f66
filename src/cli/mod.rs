//! The `accord` command line. Each subcommand group is a module; `--help` text comes from the doc comments.

mod da;
mod demo;
mod deployment;
mod devnet;
mod gov;
mod job;
mod serve;
mod session;
mod wallet;
mod worker;

pub use wallet::WalletCommand;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Coordinator for the Accord compute marketplace.
#[derive(Debug, Parser)]
#[command(name = "accord", version, about, propagate_version = true)]
pub struct Cli {
    /// Options every subcommand accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// JSON-RPC endpoint of the chain [default: http://127.0.0.1:8545, or chain.rpc_url of --config].
    #[arg(long, global = true, env = "ACCORD_RPC_URL")]
    pub rpc_url: Option<String>,
    /// The coordinator's REST API, for commands that read the index or need the deployment's addresses.
    #[arg(
        long,
        global = true,
        env = "ACCORD_API_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub api_url: String,
    /// Output format: a table for people, JSON for scripts.
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// The chain, by its CAIP-2 name (`eip155:31337`, `starknet:SN_SEPOLIA`) or chain id, for the commands that
    /// show one job, worker or proposal: required when the API serves several chains. Signing commands use the
    /// chain of --rpc-url.
    #[arg(long, global = true, env = "ACCORD_CHAIN")]
    pub chain: Option<String>,
}

impl GlobalArgs {
    /// `path` with `?chain=` (or `&chain=`) of --chain appended, when it is given.
    pub fn on_chain(&self, path: &str) -> String {
        crate::remote::with_chain(path, self.chain.as_deref())
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Aligned text.
    Table,
    /// One JSON document on stdout.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// One command for a local devnet: anvil on loopback, a throwaway PostgreSQL, the contracts deployed, the
    /// coordinator (indexer and API) running, funded demo accounts printed. Ctrl-C stops everything.
    Devnet(devnet::DevnetArgs),
    /// Run the coordinator (indexer and REST API) against an existing chain and database.
    Serve(serve::ServeArgs),
    /// Re-index from the deploy block into a fresh schema and compare every derived table with the live index.
    Rebuild(serve::RebuildArgs),
    /// Run only the indexer until it has caught up with the head, then print what it did (a backfill job).
    Index(serve::IndexArgs),
    /// Apply the database migrations (also run at the start of every other command) and exit.
    Migrate(serve::MigrateArgs),
    /// Deployment manifests (deployments/<chain-id>.json): show one, or verify a live chain against it.
    #[command(subcommand)]
    Deployment(deployment::DeploymentCommand),
    /// Jobs: post, show, cancel, accept, dispute, fetch the result.
    #[command(subcommand)]
    Job(job::JobCommand),
    /// Workers: register, stake, unstake, withdraw, show, and `run` the worker agent.
    #[command(subcommand)]
    Worker(worker::WorkerCommand),
    /// Governance: delegate, propose parameter changes, vote, queue, execute, show.
    #[command(subcommand)]
    Gov(gov::GovCommand),
    /// Keystores: create, import and list encrypted JSON keystores; show the address a signer signs as.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Data availability: the DA router's state, reconciling blobs onto the primary layer, fetching checked bytes.
    #[command(subcommand)]
    Da(da::DaCommand),
}

impl GlobalArgs {
    /// The RPC URL given on the command line, or the default.
    pub fn rpc_url_or_default(&self) -> String {
        self.rpc_url
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1:8545".into())
    }
}

/// An address of any chain family, in its normal form: 40 hex digits are an EVM address, other lengths a
/// Starknet one.
pub fn parse_address(text: &str) -> anyhow::Result<crate::domain::Address> {
    use crate::domain::{Address, Family};
    Address::parse(Family::Evm, text)
        .or_else(|_| Address::parse(Family::Starknet, text))
        .map_err(|_| anyhow::anyhow!("'{text}' is not an address"))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Cancels `token` on Ctrl-C or SIGTERM; abort the handle once the work is done.
pub fn cancel_on_signal(token: tokio_util::sync::CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        shutdown_signal().await;
        token.cancel();
    })
}

/// Runs a parsed command line; the exit code says whether it succeeded.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Devnet(args) => devnet::run(args).await,
        Command::Serve(args) => serve::serve(args, &cli.global).await,
        Command::Rebuild(args) => serve::rebuild(args, &cli.global).await,
        Command::Index(args) => serve::index(args, &cli.global).await,
        Command::Migrate(args) => serve::migrate(args, &cli.global).await,
        Command::Deployment(cmd) => deployment::run(cmd, &cli.global).await,
        Command::Wallet(cmd) => wallet::run(cmd, &cli.global).await,
        Command::Job(cmd) => job::run(cmd, &cli.global).await.map(|()| ExitCode::SUCCESS),
        Command::Worker(cmd) => worker::run(cmd, &cli.global)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Gov(cmd) => gov::run(cmd, &cli.global).await.map(|()| ExitCode::SUCCESS),
        Command::Da(cmd) => da::run(cmd, &cli.global).await,
    }
}
