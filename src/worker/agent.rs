//! The agent loop: heartbeats, watching assignments, running, publishing and submitting.
//!
//! Restart safety: each assignment (job and attempt) has an entry in a state file written atomically
//! (write, fsync, rename) after every step. A restarted agent reuses a published blob instead of running the
//! job again, and before every submission reads the job on chain: a job it already submitted (or that is no
//! longer assigned to it) is not submitted again.
//!
//! A replica of a redundant job runs the same way, then commits a sealed result (its DA commitment hashed with
//! a fresh random salt, the job and the worker) and, once the commit phase has closed, reveals the commitment and
//! the salt. The salt is written to the state file before the commit is sent, so a restarted agent can still
//! reveal. Replicas agree only when they publish the same bytes: a job's command must be deterministic (no clock,
//! no randomness, no host details in its output). The sandbox gives every run the same cleared environment
//! (`TZ=UTC`, `LC_ALL=C.UTF-8`) and scratch folder; a replica is run twice, and a job whose two outputs differ
//! is declined as not deterministic (the decline fee, not a dissent slash), the reason logged and kept in the
//! state file.
//!
//! A job the worker cannot run is declined on chain (`declineJob`) rather than left to expire: its spec is
//! unreachable (reason 1), its bytes do not match the on-chain hash (2), the run hit a limit (3), or the program
//! cannot start (4). A decline costs the small governed decline fee instead of a fault slash, and the job goes to
//! another worker or back to its client.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::exec::Runner;
use crate::chain::account::WorkerActions;
use crate::da::BlobRef;
use crate::da::client::BlobClient;
use crate::domain::{Address, JobId};
use crate::offchain::{self, Heartbeat, Message};
use crate::spec::JobSpec;

/// How the agent behaves.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The coordinator's REST API (assignments, heartbeats, blob uploads).
    pub api_url: String,
    /// Jobs run at once, declared in heartbeats.
    pub capacity: u32,
    /// Heartbeat period.
    pub heartbeat_every: Duration,
    /// Assignment polling period.
    pub poll_every: Duration,
    /// Folder of the state file.
    pub state_dir: PathBuf,
    /// How jobs run: containment, limits, scratch folders.
    pub runner: Runner,
    /// Fault drill: append one byte to every result before publishing it, so a replica dissents from the
    /// others and must be caught and slashed. For tests of the consensus; never set it on a real worker.
    pub corrupt_results: bool,
}

/// Where one assignment stands, as persisted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The output's DA reference, once published.
    pub blob: Option<BlobRef>,
    /// The submission's transaction hash, once mined.
    pub submitted: Option<String>,
    /// Why the agent gave up on it, if it did.
    pub failed: Option<String>,
    /// The decline sent on chain, if the agent declined the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declined: Option<Declined>,
    /// A replica's salt (0x-hex), chosen and saved before its commit is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<alloy::primitives::B256>,
    /// A replica's commit transaction, once mined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed: Option<String>,
    /// A replica's reveal transaction, once mined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revealed: Option<String>,
    /// sha256 of an EIP-4844 result's bytes, kept in the state folder (`blobs/<sha256 of the entry's key>`, one
    /// file per assignment: two jobs with the same output keep a copy each) until the transaction that carries
    /// them is mined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried: Option<alloy::primitives::B256>,
}

/// A job the agent declined on chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Declined {
    /// The reason code sent: 1 spec unreachable, 2 spec hash mismatch, 3 limits exceeded, 4 cannot start.
    pub reason: u8,
    /// What went wrong.
    pub why: String,
    /// The `declineJob` transaction hash.
    pub tx: String,
}

/// Decline reason codes of `JobManager.declineJob`.
pub mod decline {
    /// The spec cannot be fetched (or is not a spec).
    pub const SPEC_UNREACHABLE: u8 = 1;
    /// The spec's bytes do not hash to the on-chain spec hash.
    pub const SPEC_HASH_MISMATCH: u8 = 2;
    /// The run hit a limit (time, output size).
    pub const LIMITS_EXCEEDED: u8 = 3;
    /// The program cannot start, or (a replica) its output is not deterministic.
    pub const CANNOT_START: u8 = 4;
}

/// The decline reason for a spec that cannot be used.
pub fn spec_decline_reason(e: &crate::spec::Error) -> u8 {
    use crate::spec::Error;
    match e {
        Error::HashMismatch { .. } => decline::SPEC_HASH_MISMATCH,
        Error::Uri(_) | Error::Fetch(_) | Error::Json(_) | Error::EmptyCommand => {
            decline::SPEC_UNREACHABLE
        }
    }
}

/// The decline reason for a run that produced no result, if the failure is the job's and not the worker's
/// (a detached process or a local I/O failure is the worker's own problem: no decline).
pub fn run_decline_reason(e: &super::exec::Error) -> Option<u8> {
    use super::exec::Error;
    match e {
        Error::Timeout(_) | Error::TooLarge(_) => Some(decline::LIMITS_EXCEEDED),
        Error::Spawn { .. } => Some(decline::CANNOT_START),
        Error::Detached | Error::Io(_) => None,
    }
}

/// The persisted entries, by `job:attempt`.
#[derive(Debug, Default)]
struct Ledger {
    path: PathBuf,
    entries: BTreeMap<String, Entry>,
}

impl Ledger {
    fn load(path: PathBuf) -> anyhow::Result<Self> {
        let entries = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("state file {} is corrupt", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(Self { path, entries })
    }

    fn save(&self) -> anyhow::Result<()> {
        use std::io::Write;
        let tmp = self.path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        file.write_all(&serde_json::to_vec_pretty(&self.entries)?)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)
            .with_context(|| format!("cannot replace {}", self.path.display()))?;
        Ok(())
    }
}

/// An assignment as the API lists it. The spec's hash and URI are read from the chain, never taken from here.
#[derive(Debug, Clone, Deserialize)]
struct AssignedJob {
    job_id: String,
    posted_block: u64,
    max_attempts: i32,
    attempts_left: i32,
    #[serde(default)]
    status: String,
}

#[derive(Debug, Deserialize)]
struct Page<T> {
    items: Vec<T>,
}

/// A running worker agent.
pub struct Agent {
    config: AgentConfig,
    account: Arc<dyn WorkerActions>,
    http: reqwest::Client,
    blobs: BlobClient,
    /// The CAIP-2 name of the account's chain among those the coordinator serves.
    chain: String,
    ledger: Mutex<Ledger>,
    running: Mutex<HashSet<String>>,
    slots: Semaphore,
}

impl Agent {
    /// An agent acting as `account` for the deployment the coordinator at `config.api_url` serves on the
    /// account's chain. Fails when the API does not serve that chain.
    pub async fn new(config: AgentConfig, account: Arc<dyn WorkerActions>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let chain = crate::remote::chain(&http, &config.api_url, account.chain_id().0)
            .await?
            .name;
        std::fs::create_dir_all(&config.state_dir)
            .with_context(|| format!("cannot create {}", config.state_dir.display()))?;
        let ledger = Ledger::load(
            config
                .state_dir
                .join(format!("worker-{}.json", account.address())),
        )?;
        let blobs = BlobClient::new(&config.api_url, account.clone()).on_chain(&chain);
        Ok(Self {
            slots: Semaphore::new(config.capacity.max(1) as usize),
            config,
            account,
            http,
            blobs,
            chain,
            ledger: Mutex::new(ledger),
            running: Mutex::new(HashSet::new()),
        })
    }

    /// The worker's address.
    pub fn address(&self) -> Address {
        self.account.address()
    }

    /// Heartbeats and works until cancelled.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) -> anyhow::Result<()> {
        info!(target: "accord::worker", worker = %self.address(), capacity = self.config.capacity, isolation = %self.config.runner.isolation.describe(), "worker agent started");
        let beats = {
            let this = self.clone();
            let cancel = cancel.clone();
            tokio::spawn(async move { this.heartbeats(cancel).await })
        };
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            // Assignments, then replicas of redundant jobs (one key per job: a worker holds at most one).
            let mut due: Vec<(String, AssignedJob, bool)> = Vec::new();
            match self.assigned().await {
                Ok(jobs) => due.extend(jobs.into_iter().filter_map(|job| {
                    let key = format!("{}:{}", job.job_id, job.max_attempts - job.attempts_left);
                    (!self.settled(&key)).then_some((key, job, false))
                })),
                Err(e) => {
                    warn!(target: "accord::worker", error = %format!("{e:#}"), "cannot list assignments")
                }
            }
            match self.replicas().await {
                Ok(jobs) => due.extend(jobs.into_iter().filter_map(|job| {
                    let key = format!("{}:replica", job.job_id);
                    (!self.replica_done(&key, &job.status)).then_some((key, job, true))
                })),
                Err(e) => {
                    warn!(target: "accord::worker", error = %format!("{e:#}"), "cannot list replicas")
                }
            }
            for (key, job, replica) in due {
                if !self.running.lock().unwrap().insert(key.clone()) {
                    continue;
                }
                let this = self.clone();
                tasks.spawn(async move {
                    let _slot = this.slots.acquire().await;
                    let done = if replica {
                        this.replicate(&key, &job).await
                    } else {
                        this.work(&key, &job).await
                    };
                    if let Err(e) = done {
                        warn!(target: "accord::worker", job = %job.job_id, replica, error = %format!("{e:#}"), "job failed");
                    }
                    this.running.lock().unwrap().remove(&key);
                });
            }
            while tasks.try_join_next().is_some() {}
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(self.config.poll_every) => {}
            }
        }
        // A submission in flight finishes (and is recorded) before the agent exits.
        while tasks.join_next().await.is_some() {}
        beats.abort();
        info!(target: "accord::worker", "worker agent stopped");
        Ok(())
    }

    fn settled(&self, key: &str) -> bool {
        self.ledger
            .lock()
            .unwrap()
            .entries
            .get(key)
            .is_some_and(|e| e.submitted.is_some() || e.failed.is_some() || e.declined.is_some())
    }

    async fn heartbeats(&self, cancel: CancellationToken) {
        let url = format!(
            "{}/v1/heartbeats",
            self.config.api_url.trim_end_matches('/')
        );
        let mut warned = false;
        loop {
            let beat = Heartbeat {
                worker: self.address(),
                capacity: self.config.capacity,
                timestamp: offchain::unix_now(),
            };
            let sent = match self.account.sign(Message::Heartbeat(&beat)) {
                Ok(sig) => {
                    let body = serde_json::json!({
                        "chain": self.chain,
                        "worker": beat.worker.as_str(),
                        "capacity": beat.capacity,
                        "timestamp": beat.timestamp,
                        "signature": alloy::hex::encode_prefixed(&sig),
                    });
                    match self.http.post(&url).json(&body).send().await {
                        Ok(r) if r.status().is_success() => Ok(()),
                        Ok(r) => Err(format!(
                            "{}: {}",
                            r.status(),
                            r.text().await.unwrap_or_default()
                        )),
                        Err(e) => Err(e.without_url().to_string()),
                    }
                }
                Err(e) => Err(e.to_string()),
            };
            match sent {
                Ok(()) if warned => {
                    info!(target: "accord::worker", "heartbeats accepted again");
                    warned = false;
                }
                Ok(()) => {}
                Err(e) if !warned => {
                    warn!(target: "accord::worker", error = %e, "heartbeat refused; retrying");
                    warned = true;
                }
                Err(_) => {}
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(self.config.heartbeat_every) => {}
            }
        }
    }

    async fn assigned(&self) -> anyhow::Result<Vec<AssignedJob>> {
        self.list(&format!("worker={}&status=assigned", self.address()))
            .await
    }

    /// Redundant jobs in which this worker holds a replica still at work (not yet revealed).
    async fn replicas(&self) -> anyhow::Result<Vec<AssignedJob>> {
        self.list(&format!("replica={}", self.address())).await
    }

    /// Whether the replica needs nothing from the agent now: failed, revealed, or committed while the commit
    /// phase is still open (it waits for the reveal window).
    fn replica_done(&self, key: &str, status: &str) -> bool {
        let ledger = self.ledger.lock().unwrap();
        let Some(e) = ledger.entries.get(key) else {
            return false;
        };
        e.failed.is_some()
            || e.declined.is_some()
            || e.revealed.is_some()
            || (e.committed.is_some() && status != "revealing")
    }

    async fn list(&self, filter: &str) -> anyhow::Result<Vec<AssignedJob>> {
        let url = format!(
            "{}/v1/jobs?{filter}&limit=200",
            self.config.api_url.trim_end_matches('/'),
        );
        let page: Page<AssignedJob> = self
            .http
            .get(crate::remote::with_chain(&url, Some(&self.chain)))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(e.without_url().to_string()))?
            .error_for_status()
            .map_err(|e| anyhow::anyhow!(e.without_url().to_string()))?
            .json()
            .await?;
        Ok(page.items)
    }

    fn entry(&self, key: &str) -> Entry {
        self.ledger
            .lock()
            .unwrap()
            .entries
            .get(key)
            .cloned()
            .unwrap_or_default()
    }

    fn record(&self, key: &str, update: impl FnOnce(&mut Entry)) -> anyhow::Result<()> {
        let mut ledger = self.ledger.lock().unwrap();
        update(ledger.entries.entry(key.to_owned()).or_default());
        ledger.save()
    }

    /// Runs (or resumes) one assignment.
    async fn work(&self, key: &str, job: &AssignedJob) -> anyhow::Result<()> {
        let job_id: JobId = job
            .job_id
            .parse()
            .map_err(|e| anyhow::anyhow!("job id: {e}"))?;
        let mut entry = self.entry(key);
        if entry.blob.is_none() {
            let spec = match self.spec(job_id, job.posted_block).await {
                Ok(spec) => spec,
                Err(e) => {
                    // The spec's own fault (unreachable, wrong hash, not a spec): decline. A failure to read the
                    // chain is the worker's: give up on the job without declining.
                    if let Some(reason) = e
                        .downcast_ref::<crate::spec::Error>()
                        .map(spec_decline_reason)
                    {
                        return self.decline(key, job_id, reason, format!("{e:#}")).await;
                    }
                    self.record(key, |en| en.failed = Some(format!("{e:#}")))?;
                    return Err(e);
                }
            };
            info!(target: "accord::worker", job = %job.job_id, command = ?spec.command, "running");
            let output = match self.config.runner.run(&spec, key).await {
                Ok(output) => output,
                Err(e) => {
                    if let Some(reason) = run_decline_reason(&e) {
                        return self.decline(key, job_id, reason, e.to_string()).await;
                    }
                    self.record(key, |en| en.failed = Some(e.to_string()))?;
                    return Err(e.into());
                }
            };
            if output.exit_code != Some(0) {
                warn!(target: "accord::worker", job = %job.job_id, exit_code = ?output.exit_code, "command failed; its output is submitted as the result");
            }
            let (blob, carried) = self.publish(key, output.stdout).await?;
            self.record(key, |en| {
                en.blob = Some(blob.clone());
                en.carried = carried;
            })?;
            entry.blob = Some(blob);
            entry.carried = carried;
        }
        let data = self.carried(key, &entry)?;
        let blob = entry.blob.clone().expect("published above");
        // Read the job on chain: never submit twice, never for someone else's assignment.
        let on_chain = self.account.job(job_id).await?;
        if !on_chain.assigned_to(&self.address()) {
            let why = format!(
                "job is in status {} with worker {}: nothing to submit",
                on_chain.status, on_chain.worker
            );
            info!(target: "accord::worker", job = %job.job_id, "{why}");
            self.record(key, |en| en.failed = Some(why))?;
            return Ok(());
        }
        let tx = self
            .account
            .submit_result(job_id, &blob, data.as_deref())
            .await?
            .tx;
        info!(target: "accord::worker", job = %job.job_id, %tx, size = blob.size, "result submitted");
        self.record(key, |en| en.submitted = Some(tx))?;
        self.drop_carried(key, &entry);
        Ok(())
    }
}

impl Agent {
    /// Publishes a result's bytes (corrupted first in a fault drill). The coordinator answers where they went;
    /// when that is an EIP-4844 blob, which the result's own transaction must carry, the bytes are kept in the
    /// state folder (their sha256 is returned) until that transaction is sent.
    async fn publish(
        &self,
        key: &str,
        mut bytes: Vec<u8>,
    ) -> anyhow::Result<(BlobRef, Option<alloy::primitives::B256>)> {
        if self.config.corrupt_results {
            bytes.push(b'!');
        }
        let blob = self.blobs.upload(bytes.clone().into()).await?;
        if blob.kind != crate::da::KIND_EIP4844 {
            return Ok((blob, None));
        }
        let sha = crate::da::sha256(&bytes);
        let path = self.kept(key);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok((blob, Some(sha)))
    }

    /// Removes the kept bytes of an EIP-4844 result once its transaction is mined (the chain and the
    /// coordinator's archive have them).
    fn drop_carried(&self, key: &str, entry: &Entry) {
        if entry.carried.is_some() {
            let _ = std::fs::remove_file(self.kept(key));
        }
    }

    /// Where the bytes of the EIP-4844 result of assignment `key` are kept.
    fn kept(&self, key: &str) -> PathBuf {
        self.config
            .state_dir
            .join("blobs")
            .join(crate::da::sha256(key.as_bytes()).to_string())
    }

    /// The kept bytes of assignment `key`'s EIP-4844 result (none for other kinds), checked against their
    /// sha256.
    fn carried(&self, key: &str, entry: &Entry) -> anyhow::Result<Option<Vec<u8>>> {
        let Some(sha) = entry.carried else {
            return Ok(None);
        };
        let path = self.kept(key);
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "the bytes of this EIP-4844 result are gone from {}: the blob cannot be sent",
                path.display()
            )
        })?;
        anyhow::ensure!(
            crate::da::sha256(&bytes) == sha,
            "{} does not hold the result's bytes any more",
            path.display()
        );
        Ok(Some(bytes))
    }

    /// Runs (or resumes) one replica: run and publish, seal and commit while the commit phase is open, reveal
    /// once it has closed. The chain refuses any step out of its phase; the ledger keeps the salt for the reveal.
    async fn replicate(&self, key: &str, job: &AssignedJob) -> anyhow::Result<()> {
        let job_id: JobId = job
            .job_id
            .parse()
            .map_err(|e| anyhow::anyhow!("job id: {e}"))?;
        let entry = self.entry(key);
        // A commit sent before a crash may have landed without being recorded: with the salt and the result
        // kept, the reveal is tried anyway (the chain refuses it if there was no commit).
        let may_have_committed = entry.salt.is_some() && entry.blob.is_some();
        if entry.committed.is_none() && !(job.status == "revealing" && may_have_committed) {
            if job.status == "revealing" {
                // Too late to commit: the replica is slashed for it; nothing more to do.
                self.record(key, |en| {
                    en.failed = Some("the commit phase closed before this replica committed".into())
                })?;
                return Ok(());
            }
            let blob = match entry.blob {
                Some(blob) => blob,
                None => {
                    let spec = match self.spec(job_id, job.posted_block).await {
                        Ok(spec) => spec,
                        Err(e) => {
                            if let Some(reason) = e
                                .downcast_ref::<crate::spec::Error>()
                                .map(spec_decline_reason)
                            {
                                return self
                                    .decline_replica(key, job_id, reason, format!("{e:#}"))
                                    .await;
                            }
                            return Err(e);
                        }
                    };
                    info!(target: "accord::worker", job = %job.job_id, command = ?spec.command, "running a replica");
                    let mut runs = Vec::with_capacity(2);
                    // Twice: replicas agree only on equal bytes, so a command whose output changes from run to
                    // run cannot reach a consensus. Such a replica is declined (the decline fee) rather than
                    // revealed into a dissent slash.
                    for name in [key.to_owned(), format!("{key}-again")] {
                        match self.config.runner.run(&spec, &name).await {
                            Ok(output) => runs.push(output),
                            Err(e) => {
                                if let Some(reason) = run_decline_reason(&e) {
                                    return self
                                        .decline_replica(key, job_id, reason, e.to_string())
                                        .await;
                                }
                                return Err(e.into());
                            }
                        }
                    }
                    let output = runs.swap_remove(0);
                    if output.stdout != runs[0].stdout {
                        let why = format!(
                            "the job is not deterministic: two runs in the same sandbox gave different output \
                             ({} and {} bytes, sha256 {} and {}); its replicas cannot agree",
                            output.stdout.len(),
                            runs[0].stdout.len(),
                            crate::da::sha256(&output.stdout),
                            crate::da::sha256(&runs[0].stdout)
                        );
                        return self
                            .decline_replica(key, job_id, decline::CANNOT_START, why)
                            .await;
                    }
                    let (blob, carried) = self.publish(key, output.stdout).await?;
                    self.record(key, |en| {
                        en.blob = Some(blob.clone());
                        en.carried = carried;
                    })?;
                    blob
                }
            };
            let salt = match entry.salt {
                Some(salt) => salt,
                None => {
                    let salt = alloy::primitives::B256::from(rand08::random::<[u8; 32]>());
                    self.record(key, |en| en.salt = Some(salt))?;
                    salt
                }
            };
            let sealed = self.account.seal_result(job_id, blob.commitment, salt)?;
            let tx = self.account.commit_result(job_id, sealed).await?.tx;
            info!(target: "accord::worker", job = %job.job_id, %tx, "replica committed");
            return self.record(key, |en| en.committed = Some(tx));
        }
        if job.status != "revealing" {
            return Ok(());
        }
        let data = self.carried(key, &entry)?;
        let (Some(blob), Some(salt)) = (entry.blob.clone(), entry.salt) else {
            anyhow::bail!("the state file lost this replica's result or salt: it cannot reveal");
        };
        let tx = self
            .account
            .reveal_result(job_id, &blob, salt, data.as_deref())
            .await?
            .tx;
        info!(target: "accord::worker", job = %job.job_id, %tx, "replica revealed");
        self.record(key, |en| en.revealed = Some(tx))?;
        self.drop_carried(key, &entry);
        Ok(())
    }

    /// Declines a replica on chain with `reason` (the decline fee, to the treasury; no fault at settlement) and
    /// records it.
    async fn decline_replica(
        &self,
        key: &str,
        job_id: JobId,
        reason: u8,
        why: String,
    ) -> anyhow::Result<()> {
        warn!(target: "accord::worker", job = %job_id, reason, why = %why, "declining the replica");
        let tx = self.account.decline(job_id, reason).await?.tx;
        self.record(key, |en| {
            en.declined = Some(Declined { reason, why, tx });
        })
    }

    /// Declines an assignment on chain with `reason`, unless the job is no longer assigned to this worker, and
    /// records the outcome in the state file.
    async fn decline(
        &self,
        key: &str,
        job_id: JobId,
        reason: u8,
        why: String,
    ) -> anyhow::Result<()> {
        let on_chain = self.account.job(job_id).await?;
        if !on_chain.assigned_to(&self.address()) {
            let note = format!(
                "{why}; not declined: job is in status {} with worker {}",
                on_chain.status, on_chain.worker
            );
            self.record(key, |en| en.failed = Some(note))?;
            return Ok(());
        }
        warn!(target: "accord::worker", job = %job_id, reason, why = %why, "declining the job");
        match self.account.decline(job_id, reason).await.map(|i| i.tx) {
            Ok(tx) => {
                info!(target: "accord::worker", job = %job_id, reason, %tx, "job declined");
                self.record(key, |en| {
                    en.declined = Some(Declined { reason, why, tx });
                })
            }
            Err(e) => {
                let note = format!("{why}; declining failed: {e:#}");
                self.record(key, |en| en.failed = Some(note.clone()))?;
                Err(anyhow::anyhow!(note))
            }
        }
    }

    /// The job's spec, as its `JobPosted` event on chain names it: the hash and URI come from the worker's own
    /// RPC node, so a coordinator (or anything between it and the worker) cannot choose what the worker runs.
    /// `block` is where the API says the job was posted; a wrong block finds no event and runs nothing.
    async fn spec(&self, job_id: JobId, block: u64) -> anyhow::Result<JobSpec> {
        let (uri, hash) = self.account.posted_spec(job_id, block).await?;
        Ok(JobSpec::fetch(&uri, hash).await?)
    }
}

/// The default state folder: `$ACCORD_HOME/worker` (`~/.accord/worker`).
pub fn default_state_dir() -> PathBuf {
    crate::config::accord_home().join("worker")
}
