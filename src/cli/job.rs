//! `accord job …`: post, inspect and settle jobs.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use super::GlobalArgs;
use super::session::{Session, api_get, emit, lines};
use crate::chain::account::{NewJob, Settle, parse_duration, parse_tokens};
use crate::chain::evm::wallet::SignerArgs;
use crate::domain::JobId;
use crate::spec::JobSpec;

/// Jobs.
#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Post a job: escrow the reward (approving the job manager first when needed) and publish its spec.
    Post(PostArgs),
    /// Show a job with its assignments, result, payments and slashes (from the API).
    Show {
        /// Job id.
        id: String,
    },
    /// Cancel an open job and take the reward back (client only).
    Cancel(JobAction),
    /// Accept a submitted result: pays the worker now instead of after the challenge window (client only).
    Accept(JobAction),
    /// Dispute a submitted result within the challenge window (client only); approves and escrows the dispute
    /// bond (a governed share of the reward), returned unless the worker is ruled right.
    Dispute(JobAction),
    /// Fetch a job's result bytes, checked by the coordinator against the on-chain commitment.
    Result {
        /// Job id.
        id: String,
        /// Write to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `accord job post`.
#[derive(Debug, Args)]
pub struct PostArgs {
    /// How to sign.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Shell command the worker runs (`sh -c COMMAND`); its stdout is the result.
    #[arg(long, conflicts_with = "spec", required_unless_present = "spec")]
    pub command: Option<String>,
    /// A job spec JSON file instead of --command.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// Reward escrowed: tokens (`10`, `0.5`) or base units (`250wei`).
    #[arg(long, default_value = "1")]
    pub reward: String,
    /// Time to assign and finish it, from now (chain time): `90s`, `30m`, `2h`, `1d`.
    #[arg(long, default_value = "1h")]
    pub deadline: String,
    /// Capability bits a worker must hold.
    #[arg(long, default_value_t = 0)]
    pub capabilities: u16,
    /// Assignments allowed (1..=16).
    #[arg(long, default_value_t = 3)]
    pub max_attempts: u8,
    /// Time limit asked of the worker, in seconds.
    #[arg(long)]
    pub timeout_secs: Option<u64>,
    /// Post this many identical jobs.
    #[arg(long, default_value_t = 1)]
    pub count: u32,
    /// Run the job on this many independent replicas (2..=7, EVM only) that commit, then reveal; the result
    /// `--threshold` of them agree on is the job's, and they share the reward. 1: a single worker.
    #[arg(long, default_value_t = 1)]
    pub redundancy: u8,
    /// Replicas that must reveal the same result (0: the governed least, a majority by default). With
    /// `--redundancy` only.
    #[arg(long, default_value_t = 0)]
    pub threshold: u8,
}

/// A job id and a signer.
#[derive(Debug, Args)]
pub struct JobAction {
    /// Job id.
    pub id: String,
    /// How to sign.
    #[command(flatten)]
    pub signer: SignerArgs,
}

fn job_id(raw: &str) -> anyhow::Result<JobId> {
    raw.parse()
        .map_err(|_| anyhow::anyhow!("job id '{raw}' is not an unsigned integer"))
}

/// Runs a job command.
pub async fn run(cmd: JobCommand, global: &GlobalArgs) -> anyhow::Result<()> {
    match cmd {
        JobCommand::Post(args) => post(args, global).await,
        JobCommand::Show { id } => {
            let id = job_id(&id)?;
            let http = reqwest::Client::new();
            let job = api_get(
                &http,
                &global.api_url,
                &global.on_chain(&format!("/v1/jobs/{id}")),
            )
            .await?;
            emit(global.output, &job, || {
                let mut flat = job.clone();
                for k in ["assignments", "result", "payments", "slashes"] {
                    if let Some(o) = flat.as_object_mut() {
                        o.remove(k);
                    }
                }
                let mut text = lines(&flat);
                for a in job["assignments"].as_array().into_iter().flatten() {
                    text.push_str(&format!(
                        "\nattempt {}  worker {}  outcome {}",
                        a["attempt"],
                        a["worker"].as_str().unwrap_or("-"),
                        a["outcome"].as_str().unwrap_or("-")
                    ));
                }
                if !job["result"].is_null() {
                    text.push_str(&format!("\nresult  {}", job["result"]));
                }
                text
            });
            Ok(())
        }
        JobCommand::Cancel(a) => settle(a, global, Settle::Cancel).await,
        JobCommand::Accept(a) => settle(a, global, Settle::Accept).await,
        JobCommand::Dispute(a) => settle(a, global, Settle::Dispute).await,
        JobCommand::Result { id, out } => {
            let id = job_id(&id)?;
            let http = reqwest::Client::new();
            let url = format!(
                "{}{}",
                global.api_url.trim_end_matches('/'),
                global.on_chain(&format!("/v1/jobs/{id}/result"))
            );
            let response = http.get(&url).send().await.map_err(|e| {
                anyhow::anyhow!(
                    "no Accord API answers at {}: {}",
                    global.api_url,
                    e.without_url()
                )
            })?;
            let status = response.status();
            if !status.is_success() {
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                anyhow::bail!(
                    "job {id} result: {status}: {}",
                    body["error"]["message"].as_str().unwrap_or("no detail")
                );
            }
            let bytes = response.bytes().await?;
            match out {
                Some(path) => {
                    std::fs::write(&path, &bytes)?;
                    emit(
                        global.output,
                        &json!({"job_id": id.to_string(), "bytes": bytes.len(), "file": path}),
                        || format!("wrote {} bytes to {}", bytes.len(), path.display()),
                    );
                }
                None => std::io::stdout().write_all(&bytes)?,
            }
            Ok(())
        }
    }
}

async fn post(args: PostArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    let mut spec = match (&args.command, &args.spec) {
        (Some(command), _) => JobSpec::new(vec!["sh".into(), "-c".into(), command.clone()]),
        (None, Some(path)) => {
            let bytes = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            serde_json::from_slice(&bytes)
                .map_err(|e| anyhow::anyhow!("{} is not a job spec: {e}", path.display()))?
        }
        (None, None) => anyhow::bail!("give --command or --spec"),
    };
    if args.timeout_secs.is_some() {
        spec.timeout_secs = args.timeout_secs;
    }
    if args.count == 0 {
        anyhow::bail!("--count must be at least 1");
    }
    if args.redundancy == 0 {
        anyhow::bail!("--redundancy must be at least 1");
    }
    if args.redundancy == 1 && args.threshold != 0 {
        anyhow::bail!("--threshold needs --redundancy 2 or more");
    }
    let job = NewJob {
        spec,
        reward: parse_tokens(&args.reward)?,
        deadline_in: parse_duration(&args.deadline)?,
        capabilities: args.capabilities,
        max_attempts: args.max_attempts,
    };
    job.spec.to_data_uri()?;
    let session = Session::open(global, &args.signer).await?;
    let mut posted = Vec::new();
    for i in 0..args.count {
        let (id, included) = if args.redundancy > 1 {
            session
                .wallet
                .post_redundant_job(&job, args.redundancy, args.threshold)
                .await?
        } else {
            session.wallet.post_job(&job).await?
        };
        if args.count > 1 && global.output == super::Output::Table {
            eprintln!("posted job {id} ({}/{})", i + 1, args.count);
        }
        posted.push(json!({"job_id": id.to_string(), "tx": included.tx}));
    }
    let value = if posted.len() == 1 {
        posted[0].clone()
    } else {
        json!(posted)
    };
    emit(global.output, &value, || {
        posted
            .iter()
            .map(|p| {
                format!(
                    "job {}  tx {}",
                    p["job_id"].as_str().unwrap_or(""),
                    p["tx"].as_str().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

async fn settle(a: JobAction, global: &GlobalArgs, action: Settle) -> anyhow::Result<()> {
    let id = job_id(&a.id)?;
    let s = Session::open(global, &a.signer).await?;
    let tx = s.wallet.settle(id, action).await?.tx;
    let what = action.name();
    emit(
        global.output,
        &json!({"job_id": id.to_string(), "action": what, "tx": tx}),
        || format!("job {id}: {what} sent in {tx}"),
    );
    Ok(())
}
