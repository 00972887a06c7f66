//! The `accord` command line. Each subcommand group is a module; `--help` text comes from the doc comments.

mod deployment;

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
    /// JSON-RPC endpoint of the chain.
    #[arg(
        long,
        global = true,
        env = "ACCORD_RPC_URL",
        default_value = "http://127.0.0.1:8545"
    )]
    pub rpc_url: String,
    /// Output format: a table for people, JSON for scripts.
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
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
    /// Deployment manifests (deployments/<chain-id>.json): show one, or verify a live chain against it.
    #[command(subcommand)]
    Deployment(deployment::DeploymentCommand),
}

/// Runs a parsed command line; the exit code says whether it succeeded.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Deployment(cmd) => deployment::run(cmd, &cli.global).await,
    }
}
