//! `accord worker …`: register, stake, unstake, withdraw, and run the worker agent.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::GlobalArgs;
use super::session::{Session, api_get, emit, lines};
use crate::chain::account::{Included, format_tokens, parse_duration, parse_tokens};
use crate::chain::evm::wallet::SignerArgs;
use crate::worker::agent::{Agent, AgentConfig, default_state_dir};
use crate::worker::exec::Runner;
use crate::worker::sandbox::{Bubblewrap, Isolation, Limits};

/// Workers.
#[derive(Debug, Subcommand)]
pub enum WorkerCommand {
    /// Register the signer as a worker with its capability bits.
    Register {
        /// How to sign.
        #[command(flatten)]
        signer: SignerArgs,
        /// Capability bits this worker offers.
        #[arg(long, default_value_t = 1)]
        capabilities: u16,
        /// Where the worker describes itself.
        #[arg(long, default_value = "")]
        metadata_uri: String,
    },
    /// Stake tokens (approving the registry first when needed).
    Stake(Amount),
    /// Start unbonding stake; it stays slashable until withdrawn after the unbonding period.
    Unstake(Amount),
    /// Withdraw stake whose unbonding period has passed.
    Withdraw {
        /// How to sign.
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Show a worker's stake and record (from the API).
    Show {
        /// The worker's address.
        address: String,
    },
    /// Run the worker agent: heartbeats, runs assigned jobs, publishes results to DA, submits commitments.
    Run(RunArgs),
}

/// An amount and a signer.
#[derive(Debug, Args)]
pub struct Amount {
    /// Tokens (`100`, `0.5`) or base units (`250wei`).
    pub amount: String,
    /// How to sign.
    #[command(flatten)]
    pub signer: SignerArgs,
}

/// `accord worker run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// How to sign (the worker's wallet).
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Jobs run at once (declared in heartbeats).
    #[arg(long, default_value_t = 2)]
    pub capacity: u32,
    /// Register first (when not registered yet) with these capability bits.
    #[arg(long)]
    pub register: Option<u16>,
    /// Stake this much first (tokens), e.g. to reach the minimum stake.
    #[arg(long)]
    pub stake: Option<String>,
    /// Folder of the agent's state file and job working directories [default: $ACCORD_HOME/worker].
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Seconds between heartbeats.
    #[arg(long, default_value_t = 10)]
    pub heartbeat_secs: u64,
    /// Milliseconds between assignment polls.
    #[arg(long, default_value_t = 1_000)]
    pub poll_ms: u64,
    /// Longest a job may run, whatever its spec asks: `90s`, `5m`.
    #[arg(long, default_value = "5m")]
    pub max_runtime: String,
    /// Largest result kept, in bytes, whatever the spec asks.
    #[arg(long, default_value_t = 1 << 20)]
    pub max_output_bytes: u64,
    /// Run jobs WITHOUT a sandbox: a job can then read everything this agent can, its keystore and password
    /// included. Only for jobs you trust, on a host where bubblewrap cannot run.
    #[arg(long)]
    pub no_isolation: bool,
    /// When the agent runs as root, the user jobs run as: `UID` or `UID:GID` [default: 65534:65534, nobody].
    #[arg(long, value_parser = parse_user)]
    pub job_user: Option<(u32, u32)>,
    /// Give jobs the host's network (they have none by default).
    #[arg(long)]
    pub job_network: bool,
    /// Address space of each job process, in MiB.
    #[arg(long, default_value_t = Limits::default().memory_bytes >> 20)]
    pub job_memory_mib: u64,
    /// Processes (and threads) a job may run at once.
    #[arg(long, default_value_t = Limits::default().processes)]
    pub job_processes: u64,
    /// Open files of each job process.
    #[arg(long, default_value_t = Limits::default().open_files)]
    pub job_open_files: u64,
    /// Largest file a job may write, in MiB.
    #[arg(long, default_value_t = Limits::default().file_bytes >> 20)]
    pub job_file_mib: u64,
    /// Size of a job's /tmp (memory-backed), in MiB.
    #[arg(long, default_value_t = Limits::default().tmp_bytes >> 20)]
    pub job_tmp_mib: u64,
    /// Where jobs' scratch folders are created [default: the system's temporary folder].
    #[arg(long)]
    pub scratch_dir: Option<PathBuf>,
}

fn parse_user(text: &str) -> Result<(u32, u32), String> {
    let (uid, gid) = text.split_once(':').unwrap_or((text, text));
    let id = |s: &str| {
        s.parse::<u32>()
            .map_err(|_| format!("'{text}' is not UID or UID:GID (numbers)"))
    };
    let (uid, gid) = (id(uid)?, id(gid)?);
    if uid == 0 || gid == 0 {
        return Err("jobs never run as root (uid or gid 0)".into());
    }
    Ok((uid, gid))
}

impl RunArgs {
    /// The job runner these flags ask for; fails when the sandbox cannot work here and no opt-out was given.
    async fn runner(&self, max_runtime: Duration) -> anyhow::Result<Runner> {
        let positive = |name: &str, v: u64| {
            if v == 0 {
                anyhow::bail!("--{name} must be at least 1")
            }
            Ok(v)
        };
        let limits = Limits {
            memory_bytes: positive("job-memory-mib", self.job_memory_mib)? << 20,
            processes: positive("job-processes", self.job_processes)?,
            open_files: positive("job-open-files", self.job_open_files)?,
            file_bytes: positive("job-file-mib", self.job_file_mib)? << 20,
            tmp_bytes: positive("job-tmp-mib", self.job_tmp_mib)? << 20,
        };
        let isolation = if self.no_isolation {
            if self.job_user.is_some() || self.job_network {
                anyhow::bail!(
                    "--job-user and --job-network apply to sandboxed jobs, not with --no-isolation"
                );
            }
            tracing::warn!(target: "accord::worker", "--no-isolation: jobs run unconfined and can read this agent's keys");
            Isolation::Unconfined
        } else {
            Isolation::Bubblewrap(Bubblewrap::detect(self.job_user, self.job_network).await?)
        };
        let mut runner = Runner::new(isolation, max_runtime, self.max_output_bytes);
        runner.limits = limits;
        if let Some(dir) = &self.scratch_dir {
            runner.scratch_root = dir.clone();
        }
        Ok(runner)
    }
}

/// Runs a worker command.
pub async fn run(cmd: WorkerCommand, global: &GlobalArgs) -> anyhow::Result<()> {
    match cmd {
        WorkerCommand::Register {
            signer,
            capabilities,
            metadata_uri,
        } => {
            let s = Session::open(global, &signer).await?;
            let included = s.wallet.register(capabilities, &metadata_uri).await?;
            let worker = s.wallet.address().to_string();
            let value = json!({
                "worker": worker,
                "registered": true,
                "tx": included.as_ref().map(|i| i.tx.clone()),
            });
            emit(global.output, &value, || match &included {
                Some(i) => format!("registered {worker} in {}", i.tx),
                None => format!("{worker} was already registered"),
            });
            Ok(())
        }
        WorkerCommand::Stake(a) => {
            let amount = parse_tokens(&a.amount)?;
            let s = Session::open(global, &a.signer).await?;
            let included = s.wallet.stake(amount).await?;
            done(global, "stake", &a.amount, &included);
            Ok(())
        }
        WorkerCommand::Unstake(a) => {
            let amount = parse_tokens(&a.amount)?;
            let s = Session::open(global, &a.signer).await?;
            let included = s.wallet.request_unstake(amount).await?;
            done(global, "unstake", &a.amount, &included);
            Ok(())
        }
        WorkerCommand::Withdraw { signer } => {
            let s = Session::open(global, &signer).await?;
            let included = s.wallet.withdraw().await?;
            done(global, "withdraw", "", &included);
            Ok(())
        }
        WorkerCommand::Show { address } => {
            let address = super::parse_address(&address)?;
            let http = reqwest::Client::new();
            let path = global.on_chain(&format!("/v1/workers/{address}"));
            let worker = api_get(&http, &global.api_url, &path).await?;
            emit(global.output, &worker, || lines(&worker));
            Ok(())
        }
        WorkerCommand::Run(args) => run_agent(args, global).await,
    }
}

fn done(global: &GlobalArgs, action: &str, amount: &str, included: &Included) {
    let tx = &included.tx;
    emit(
        global.output,
        &json!({"action": action, "amount": amount, "tx": tx}),
        || format!("{action} {amount} sent in {tx}"),
    );
}

async fn run_agent(args: RunArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    if args.capacity == 0 {
        anyhow::bail!("--capacity must be at least 1");
    }
    let stake = args.stake.as_deref().map(parse_tokens).transpose()?;
    let max_runtime = parse_duration(&args.max_runtime)?;
    // Before anything is signed: an agent that cannot contain jobs does not start.
    let runner = args.runner(max_runtime).await?;
    let s = Session::open(global, &args.signer).await?;
    if let Some(capabilities) = args.register
        && let Some(r) = s.wallet.register(capabilities, "").await?
    {
        tracing::info!(target: "accord::worker", tx = %r.tx, "registered");
    }
    if let Some(amount) = stake {
        let r = s.wallet.stake(amount).await?;
        tracing::info!(target: "accord::worker", tx = %r.tx, amount = %format_tokens(amount), "staked");
    }
    let config = AgentConfig {
        api_url: s.api_url.clone(),
        capacity: args.capacity,
        heartbeat_every: Duration::from_secs(args.heartbeat_secs.max(1)),
        poll_every: Duration::from_millis(args.poll_ms.max(50)),
        state_dir: args.state_dir.unwrap_or_else(default_state_dir),
        runner,
        corrupt_results: false,
    };
    let agent = Arc::new(Agent::new(config, s.wallet.clone()).await?);
    let cancel = CancellationToken::new();
    super::cancel_on_signal(cancel.clone());
    agent.run(cancel).await
}
