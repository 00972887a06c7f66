//! `accord devnet --demo`: on every chain, three worker agents and a client that keeps posting small jobs and
//! accepting their results, so the API shows jobs paid and rewards within a minute of start. Every
//! [`REDUNDANT_EVERY`]th job is a 2-of-3 redundant job: the three agents run it, commit, reveal and agree.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::chain::account::{NewJob, Settle, Wallet, parse_tokens};
use crate::spec::JobSpec;
use crate::worker::agent::{Agent, AgentConfig};
use crate::worker::exec::Runner;
use crate::worker::sandbox::{Bubblewrap, Isolation};

/// Seconds between two jobs of the demo client.
const POST_EVERY: Duration = Duration::from_secs(2);
/// Every this many jobs, the demo client posts a 2-of-3 redundant job.
const REDUNDANT_EVERY: u64 = 5;

/// The demo's accounts on one chain.
pub struct DemoChain {
    /// The chain's CAIP-2 name, as the API shows it.
    pub name: String,
    /// The worker agents' wallets.
    pub workers: Vec<Arc<dyn Wallet>>,
    /// The client's wallet.
    pub client: Arc<dyn Wallet>,
}

/// The running demo: worker agents and the client, stopped together.
pub struct Demo {
    cancel: CancellationToken,
    tasks: JoinSet<()>,
    state_dir: std::path::PathBuf,
}

impl Demo {
    /// On each chain, registers, stakes and starts a worker agent for each of its `workers`, and a client
    /// posting jobs from its `client`. `api_url` is the coordinator's API.
    pub async fn start(api_url: &str, chains: Vec<DemoChain>) -> anyhow::Result<Self> {
        let cancel = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let state_dir = std::env::temp_dir().join(format!("accord-demo-{}", std::process::id()));
        let isolation = Isolation::Bubblewrap(
            Bubblewrap::detect(None, false)
                .await
                .context("the demo's worker agents run jobs sandboxed")?,
        );
        for (c, chain) in chains.into_iter().enumerate() {
            for (i, worker) in chain.workers.into_iter().enumerate() {
                worker.register(1, "").await.with_context(|| {
                    format!("{}: registering demo worker {}", chain.name, i + 1)
                })?;
                worker
                    .stake(parse_tokens("500")?)
                    .await
                    .with_context(|| format!("{}: staking demo worker {}", chain.name, i + 1))?;
                let config = AgentConfig {
                    api_url: api_url.to_owned(),
                    capacity: 2,
                    heartbeat_every: Duration::from_secs(2),
                    poll_every: Duration::from_millis(500),
                    state_dir: state_dir.join(format!("chain-{c}-worker-{}", i + 1)),
                    runner: Runner::new(isolation.clone(), Duration::from_secs(30), 64 * 1024),
                    corrupt_results: false,
                };
                let agent = Arc::new(Agent::new(config, worker).await.with_context(|| {
                    format!("{}: cannot start demo worker agent {}", chain.name, i + 1)
                })?);
                let cancel = cancel.clone();
                tasks.spawn(async move {
                    if let Err(e) = agent.run(cancel).await {
                        warn!(target: "accord::demo", error = %format!("{e:#}"), "demo worker stopped");
                    }
                });
            }
            let api_url = api_url.to_owned();
            let stop = cancel.clone();
            let (client, name) = (chain.client, chain.name);
            tasks.spawn(async move { client_loop(client, name, api_url, stop).await });
        }
        Ok(Self {
            cancel,
            tasks,
            state_dir,
        })
    }

    /// Stops the agents and the client, and removes their state.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        self.tasks.abort_all();
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

/// Posts a small job every [`POST_EVERY`] and accepts every submitted result of its own jobs.
async fn client_loop(
    wallet: Arc<dyn Wallet>,
    chain: String,
    api_url: String,
    cancel: CancellationToken,
) {
    let http = reqwest::Client::new();
    let client = wallet.address();
    let mut n: u64 = 0;
    loop {
        n += 1;
        let job = NewJob {
            spec: JobSpec::new(vec![
                "sh".into(),
                "-c".into(),
                format!("echo demo job {n}: $(date -u +%FT%TZ)"),
            ]),
            reward: parse_tokens("2").expect("a literal amount"),
            deadline_in: Duration::from_secs(3_600),
            capabilities: 1,
            max_attempts: 3,
        };
        let posted = if n.is_multiple_of(REDUNDANT_EVERY) {
            wallet
                .post_redundant_job(&job, 3, 0)
                .await
                .map(|(id, _)| format!("redundant job {id} (2 of 3 replicas must agree)"))
        } else {
            wallet
                .post_job(&job)
                .await
                .map(|(id, _)| format!("job {id}"))
        };
        match posted {
            Ok(what) => eprintln!("demo: {chain}: client posted {what}"),
            Err(e) => {
                warn!(target: "accord::demo", error = %format!("{e:#}"), "posting a demo job failed")
            }
        }
        let path = format!("/v1/jobs?client={client}&status=submitted&limit=50");
        let url = format!(
            "{api_url}{}",
            crate::remote::with_chain(&path, Some(&chain))
        );
        let submitted: Vec<String> = match http.get(&url).send().await {
            Ok(r) => r
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| v["items"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|j| j["job_id"].as_str().map(str::to_owned))
                .collect(),
            Err(_) => Vec::new(),
        };
        for id in submitted {
            let Ok(job_id) = id.parse() else { continue };
            match wallet.settle(job_id, Settle::Accept).await {
                Ok(_) => {
                    eprintln!(
                        "demo: {chain}: client accepted the result of job {id}; the worker is paid"
                    )
                }
                // The index may lag a block behind an accept already sent: the contract refuses the repeat.
                Err(e) => {
                    tracing::debug!(target: "accord::demo", job = %id, error = %format!("{e:#}"), "accept refused")
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(POST_EVERY) => {}
        }
    }
}
