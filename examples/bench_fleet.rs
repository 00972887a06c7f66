//! Fleet benchmark: 10,000 registered and staked workers heartbeating every 10 s (1,000 signed heartbeats/s) at a
//! release `accord serve`, while clients post 100 jobs/s by real transactions and the coordinator's scheduler
//! assigns them.
//!
//! Run it through `scripts/bench-fleet` (bootstrap, release builds of `accord` and this example):
//!
//! ```text
//! cargo run --release --locked --example bench_fleet -- --accord target/release/accord --duration 300
//! ```
//!
//! 1. anvil on a free loopback port (a block every `--block-time` s, 1,000,000,000 block gas limit), the protocol
//!    deployed by `scripts/deploy` (coordinator = anvil account 1), a throwaway PostgreSQL run as `postgres`.
//! 2. The fleet, by real signed transactions: W worker EOAs (keys derived from a fixed seed; ETH by
//!    `anvil_setBalance`), 200 tokens each from the deployer, then per worker `register`, `approve` and `stake`,
//!    sent raw in batches. C client EOAs are funded and approve the job manager the same way.
//! 3. `accord serve` (a separate process, so its CPU is its own) indexes the fleet; the bench waits until the
//!    index holds W staked workers.
//! 4. Open loop: worker i heartbeats at `i/W × 10 s + k × 10 s` (so 1,000/s spread evenly), each heartbeat signed
//!    with the worker's key just before it is due and posted over keep-alive connections; its latency runs from
//!    the moment it was due, so a stalled server or a late sender shows in the figures. One warm-up round, then
//!    the measured `--duration`, during which the clients post `--job-rate` jobs/s (raw signed `postJob`, each
//!    client in nonce order).
//! 5. Figures for the measured window: heartbeat latency and counts (every one must be 202 and recorded; the
//!    table is checked against the last heartbeat sent by each worker), the coordinator's CPU and PostgreSQL's
//!    (`/proc`), PostgreSQL's write load (`pg_stat_database`, `pg_stat_wal` deltas), the scheduler's decision
//!    latency (its per-batch `assignBatch sent` log line) and jobs posted and assigned per second.
//!
//! Everything started is stopped on success, error, Ctrl-C and SIGTERM.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use accord::chain::evm::bindings::{AccordToken, JobManager, WorkerRegistry};
use accord::chain::evm::offchain::{self, Heartbeat};
use accord::chain::evm::ops::Deployment;
use accord::pg::TempCluster;
use accord::spec::JobSpec;
use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, Bytes, TxKind, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{Eip712Domain, SolCall};
use anyhow::{Context, bail};
use clap::Parser;
use futures::StreamExt;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

const MNEMONIC: &str = "test test test test test test test test test test test junk";
const TARGET_HEARTBEAT_P99_MS: f64 = 50.0;
const TARGET_DECISION_P99_MS: f64 = 50.0;
/// Tokens each worker receives and stakes (the devnet minimum stake is 100).
const STAKE_TOKENS: u64 = 200;

#[derive(Debug, Parser)]
#[command(
    about = "Fleet benchmark: 10,000 heartbeating workers and a job stream against accord serve"
)]
struct Args {
    /// Registered, staked, heartbeating workers.
    #[arg(long, default_value_t = 10_000)]
    workers: usize,
    /// Seconds of measured load (after one warm-up round of heartbeats).
    #[arg(long, default_value_t = 300)]
    duration: u64,
    /// Seconds between two heartbeats of one worker.
    #[arg(long, default_value_t = 10)]
    heartbeat_secs: u64,
    /// Jobs posted per second during the measured window.
    #[arg(long, default_value_t = 100)]
    job_rate: u64,
    /// Client EOAs posting jobs (each in nonce order, job_rate/clients jobs/s).
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Capacity each worker declares in its heartbeats.
    #[arg(long, default_value_t = 10)]
    capacity: u32,
    /// Seconds between anvil's blocks (interval mining).
    #[arg(long, default_value_t = 0.2)]
    block_time: f64,
    /// Workers whose registration transactions are sent at once.
    #[arg(long, default_value_t = 2_000)]
    chunk: usize,
    /// `[api.limits] ip_per_minute` of the coordinator (every simulated worker sends from loopback).
    #[arg(long, default_value_t = 120_000)]
    ip_per_minute: u32,
    /// `[api.limits] ip_max_in_flight` of the coordinator.
    #[arg(long, default_value_t = 1_024)]
    ip_max_in_flight: u32,
    /// The release `accord` binary to run as the coordinator.
    #[arg(long)]
    accord: PathBuf,
    /// Keep the coordinator's log here (it has every scheduler batch).
    #[arg(long)]
    log: Option<PathBuf>,
    /// The Accord checkout (scripts/deploy, .tools/bin/anvil).
    #[arg(long, default_value = env!("CARGO_MANIFEST_DIR"))]
    repo: PathBuf,
}

/// A child process, killed on drop (SIGTERM first, so `accord serve` shuts down cleanly).
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.0.id()) {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            for _ in 0..100 {
                if matches!(self.0.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Default)]
struct Env {
    coordinator: Option<ChildGuard>,
    cluster: Option<TempCluster>,
    anvil: Option<ChildGuard>,
    dir: Option<tempfile::TempDir>,
    tasks: CancellationToken,
}

fn teardown(env: &mut Env) {
    env.tasks.cancel();
    drop(env.coordinator.take());
    drop(env.cluster.take());
    drop(env.anvil.take());
    drop(env.dir.take());
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut env = Env::default();
    let outcome = tokio::select! {
        r = run(&args, &mut env) => r,
        _ = accord::cli::shutdown_signal() => Err(anyhow::anyhow!("interrupted")),
    };
    say("tearing down (coordinator, PostgreSQL, anvil)");
    teardown(&mut env);
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("bench-fleet: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn say(msg: impl AsRef<str>) {
    eprintln!("bench-fleet: {}", msg.as_ref());
}

fn devnet_key(repo: &Path, index: u32) -> anyhow::Result<PrivateKeySigner> {
    let out = Command::new(repo.join(".tools/bin/cast"))
        .args(["wallet", "private-key", MNEMONIC, &index.to_string()])
        .output()
        .context("cannot run .tools/bin/cast (run scripts/bootstrap)")?;
    anyhow::ensure!(out.status.success(), "cast wallet private-key failed");
    Ok(String::from_utf8(out.stdout)?.trim().parse()?)
}

/// The fleet's keys: keccak256 of a fixed seed and the index (devnet only, reproducible run to run).
fn fleet_key(role: &str, i: usize) -> PrivateKeySigner {
    let seed = keccak256(format!("accord-bench-fleet/{role}/{i}"));
    PrivateKeySigner::from_bytes(&seed).expect("a keccak256 hash is a valid key")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn rpc(
    http: &reqwest::Client,
    url: &str,
    method: &str,
    params: Value,
) -> anyhow::Result<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let reply: Value = http.post(url).json(&body).send().await?.json().await?;
    if let Some(e) = reply.get("error") {
        bail!("{method} failed: {e}");
    }
    Ok(reply["result"].clone())
}

/// Signs a call as a raw EIP-1559 transaction.
fn raw_tx(
    signer: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: Address,
    input: Bytes,
    gas: u64,
) -> anyhow::Result<Vec<u8>> {
    let mut tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 100_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(to),
        input,
        ..Default::default()
    };
    let signature = signer.sign_transaction_sync(&mut tx)?;
    Ok(TxEnvelope::from(tx.into_signed(signature)).encoded_2718())
}

/// Sends raw transactions, `in_flight` at a time.
async fn send_all(
    provider: &DynProvider,
    txs: Vec<Vec<u8>>,
    in_flight: usize,
) -> anyhow::Result<()> {
    futures::stream::iter(txs)
        .map(|raw| {
            let provider = provider.clone();
            async move { provider.send_raw_transaction(&raw).await.map(drop) }
        })
        .buffer_unordered(in_flight)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<()>, _>>()
        .context("eth_sendRawTransaction")?;
    Ok(())
}

/// Waits until `account`'s mined nonce reaches `nonce`.
async fn wait_nonce(provider: &DynProvider, account: Address, nonce: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    while provider.get_transaction_count(account).latest().await? < nonce {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(300),
            "transactions of {account} not mined"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Waits until anvil's pool is empty.
async fn wait_pool_empty(http: &reqwest::Client, rpc_url: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let s = rpc(http, rpc_url, "txpool_status", json!([])).await?;
        let n = |k: &str| {
            s[k].as_str()
                .and_then(|h| u64::from_str_radix(h.trim_start_matches("0x"), 16).ok())
                .or_else(|| s[k].as_u64())
                .unwrap_or(0)
        };
        if n("pending") + n("queued") == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(300),
            "anvil's pool still holds {} pending and {} queued transactions",
            n("pending"),
            n("queued")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// ---------------------------------------------------------------------------------------------- /proc

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// CPU seconds (user + system) a process has used, from /proc/PID/stat.
fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

fn ppid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(1)?.parse().ok()
}

/// CPU seconds of the cluster: the postmaster's own, its ended children's (backends, reaped by it: `cutime` and
/// `cstime`), and its live children's. Backends come and go (pools open connections as they need them), so the
/// ended ones must count.
fn cluster_cpu_secs(postmaster: u32) -> f64 {
    let reaped = std::fs::read_to_string(format!("/proc/{postmaster}/stat"))
        .ok()
        .and_then(|stat| {
            let rest = &stat[stat.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split(' ').collect();
            let cutime: f64 = f.get(13)?.parse().ok()?;
            let cstime: f64 = f.get(14)?.parse().ok()?;
            Some((cutime + cstime) / clock_ticks())
        })
        .unwrap_or(0.0);
    let mut total = cpu_secs(postmaster).unwrap_or(0.0) + reaped;
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok())
                && ppid(pid) == Some(postmaster)
            {
                total += cpu_secs(pid).unwrap_or(0.0);
            }
        }
    }
    total
}

// ---------------------------------------------------------------------------------------------- figures

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn fmt_int(n: f64) -> String {
    let s = format!("{n:.0}");
    let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// PostgreSQL's counters for the coordinator's database.
#[derive(Debug, Clone, Copy)]
struct PgStats {
    commits: f64,
    inserted: f64,
    updated: f64,
    wal_bytes: f64,
}

async fn pg_stats(pool: &PgPool) -> anyhow::Result<PgStats> {
    // The statistics snapshot of this transaction would otherwise be reused (stats_fetch_consistency).
    sqlx::query("SELECT pg_stat_clear_snapshot()")
        .execute(pool)
        .await?;
    let (commits, inserted, updated): (i64, i64, i64) = sqlx::query_as(
        "SELECT xact_commit, tup_inserted, tup_updated FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(pool)
    .await?;
    let wal: String = sqlx::query_scalar("SELECT wal_bytes::text FROM pg_stat_wal")
        .fetch_one(pool)
        .await?;
    Ok(PgStats {
        commits: commits as f64,
        inserted: inserted as f64,
        updated: updated as f64,
        wal_bytes: wal.parse().unwrap_or(0.0),
    })
}

/// One heartbeat's outcome.
#[derive(Clone, Copy)]
struct Outcome {
    /// Measured (due inside the window), not warm-up.
    measured: bool,
    /// From the moment it was due to the answer, in ms.
    latency_ms: f64,
    /// HTTP status (0: no answer).
    status: u16,
    recorded: bool,
}

/// The scheduler's per-batch decision latency, from the coordinator's log, while `on`.
#[derive(Default)]
struct Decisions {
    on: bool,
    ms: Vec<f64>,
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn field(line: &str, name: &str) -> Option<f64> {
    let at = line.find(&format!("{name}="))? + name.len() + 1;
    let rest = &line[at..];
    let end = rest.find([' ', ',']).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

// ---------------------------------------------------------------------------------------------- run

async fn run(args: &Args, env: &mut Env) -> anyhow::Result<bool> {
    anyhow::ensure!(
        args.workers > 0 && args.clients > 0 && args.heartbeat_secs > 0 && args.duration > 0,
        "--workers, --clients, --heartbeat-secs and --duration must be positive"
    );
    let repo = args.repo.canonicalize().context("--repo")?;
    let accord_bin = args.accord.canonicalize().context("--accord")?;
    let http = reqwest::Client::new();
    let deployer = devnet_key(&repo, 0)?;
    let coordinator_key = devnet_key(&repo, 1)?;
    let arbiter = devnet_key(&repo, 2)?.address();

    // ------------------------------------------------------------------ chain, contracts, database
    let port = free_port()?;
    say(format!(
        "starting anvil on 127.0.0.1:{port} (a block every {} s, block gas limit 1,000,000,000, 256 states kept)",
        args.block_time
    ));
    let child = Command::new(repo.join(".tools/bin/anvil"))
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args([
            "--chain-id",
            "31337",
            "--gas-limit",
            "1000000000",
            "--silent",
        ])
        .args(["--block-time", &args.block_time.to_string()])
        // Without it anvil keeps a state per block and writes old ones to disk: as the fleet's state grows that
        // work grows with it, and after about four minutes anvil answered in 100-250 ms and mined late. A real
        // node keeps no such per-block copies; 256 states cover every read of the coordinator (head, receipts,
        // a revert replayed at its block).
        .args(["--prune-history", "256"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start .tools/bin/anvil (run scripts/bootstrap)")?;
    let anvil_pid = child.id();
    env.anvil = Some(ChildGuard(child));
    let rpc_url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(20),
            "anvil did not listen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let dir = tempfile::tempdir()?;
    say("deploying with scripts/deploy (coordinator = anvil account 1, arbiter = account 2)");
    let out = tokio::process::Command::new(repo.join("scripts/deploy"))
        .args(["--rpc-url", &rpc_url])
        .args([
            "--coordinator",
            &format!("{:#x}", coordinator_key.address()),
        ])
        .args(["--arbiter", &format!("{arbiter:#x}"), "--out"])
        .arg(dir.path())
        .env(
            "DEPLOYER_KEY",
            format!("0x{}", alloy::hex::encode(deployer.to_bytes())),
        )
        .stdin(Stdio::null())
        .output()
        .await
        .context("cannot run scripts/deploy")?;
    anyhow::ensure!(
        out.status.success(),
        "scripts/deploy failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = accord::deployment::Manifest::load(&dir.path().join("31337.json"))?;
    let d = Deployment::from_manifest(&manifest)?;
    let deployments = dir.path().to_path_buf();

    say("starting a throwaway PostgreSQL (run as the postgres user)");
    let cluster = TempCluster::start().await?;
    let db_url = cluster.url();
    let postmaster: u32 = std::fs::read_to_string(cluster.dir().join("postmaster.pid"))
        .context("postmaster.pid")?
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .parse()
        .context("postmaster.pid")?;
    env.cluster = Some(cluster);

    // ------------------------------------------------------------------ the fleet, by real transactions
    let provider: DynProvider = ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_http(rpc_url.parse()?)
        .erased();
    let fleet_started = Instant::now();
    say(format!(
        "deriving {} worker keys",
        fmt_int(args.workers as f64)
    ));
    let workers: Vec<PrivateKeySigner> =
        (0..args.workers).map(|i| fleet_key("worker", i)).collect();
    let clients: Vec<PrivateKeySigner> =
        (0..args.clients).map(|i| fleet_key("client", i)).collect();
    say("funding ETH (anvil_setBalance)");
    futures::stream::iter(workers.iter().chain(&clients).map(|a| a.address()))
        .map(|a| {
            let (http, rpc_url) = (http.clone(), rpc_url.clone());
            async move {
                rpc(
                    &http,
                    &rpc_url,
                    "anvil_setBalance",
                    json!([format!("{a:#x}"), "0x3635c9adc5dea00000"]),
                )
                .await
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?;

    let e18 = U256::from(10u64).pow(U256::from(18u64));
    let reward = e18 / U256::from(1_000u64);
    let per_client_jobs = args.job_rate * args.duration / args.clients as u64 + 100;
    say(format!(
        "token transfers from the deployer: {STAKE_TOKENS} to each worker, {} jobs' rewards to each client",
        fmt_int(per_client_jobs as f64)
    ));
    let mut nonce = provider
        .get_transaction_count(deployer.address())
        .pending()
        .await?;
    let mut transfers = Vec::with_capacity(workers.len() + clients.len());
    for (to, value) in workers
        .iter()
        .map(|w| (w.address(), U256::from(STAKE_TOKENS) * e18))
        .chain(
            clients
                .iter()
                .map(|c| (c.address(), reward * U256::from(per_client_jobs))),
        )
    {
        let input = AccordToken::transferCall { to, value }.abi_encode().into();
        transfers.push(raw_tx(
            &deployer, d.chain_id, nonce, d.token, input, 100_000,
        )?);
        nonce += 1;
    }
    send_all(&provider, transfers, 16).await?;
    wait_nonce(&provider, deployer.address(), nonce).await?;

    say(format!(
        "registering and staking {} workers: register, approve and stake ({} transactions), {} workers at a time",
        fmt_int(args.workers as f64),
        fmt_int(3.0 * args.workers as f64),
        fmt_int(args.chunk as f64)
    ));
    let stake = U256::from(STAKE_TOKENS) * e18;
    let register = Bytes::from(
        WorkerRegistry::registerCall {
            capabilities: 1,
            metadataURI: String::new(),
        }
        .abi_encode(),
    );
    let approve = Bytes::from(
        AccordToken::approveCall {
            spender: d.registry,
            value: stake,
        }
        .abi_encode(),
    );
    let stake_call = Bytes::from(WorkerRegistry::stakeCall { amount: stake }.abi_encode());
    for (c, chunk) in workers.chunks(args.chunk.max(1)).enumerate() {
        let mut txs = Vec::with_capacity(chunk.len() * 3);
        for w in chunk {
            txs.push(raw_tx(
                w,
                d.chain_id,
                0,
                d.registry,
                register.clone(),
                200_000,
            )?);
            txs.push(raw_tx(w, d.chain_id, 1, d.token, approve.clone(), 100_000)?);
            txs.push(raw_tx(
                w,
                d.chain_id,
                2,
                d.registry,
                stake_call.clone(),
                200_000,
            )?);
        }
        send_all(&provider, txs, 16).await?;
        wait_pool_empty(&http, &rpc_url).await?;
        say(format!(
            "  {} workers registered and staked ({:.0} s)",
            fmt_int(((c + 1) * args.chunk).min(workers.len()) as f64),
            fleet_started.elapsed().as_secs_f64()
        ));
    }
    let approve_jobs = Bytes::from(
        AccordToken::approveCall {
            spender: d.job_manager,
            value: U256::MAX,
        }
        .abi_encode(),
    );
    let mut approvals = Vec::new();
    for c in &clients {
        approvals.push(raw_tx(
            c,
            d.chain_id,
            0,
            d.token,
            approve_jobs.clone(),
            100_000,
        )?);
    }
    send_all(&provider, approvals, 16).await?;
    wait_pool_empty(&http, &rpc_url).await?;
    for w in [workers.first(), workers.last()].into_iter().flatten() {
        let on_chain = WorkerRegistry::new(d.registry, &provider)
            .workerOf(w.address())
            .call()
            .await?;
        anyhow::ensure!(
            on_chain.registered && U256::from(on_chain.stake) == stake,
            "worker {} not registered and staked on chain",
            w.address()
        );
    }
    let fleet_secs = fleet_started.elapsed().as_secs_f64();
    say(format!("fleet on chain in {fleet_secs:.0} s"));

    // ------------------------------------------------------------------ the coordinator
    let api_port = free_port()?;
    let config = format!(
        r#"[chain]
rpc_url = "{rpc_url}"
deployments_dir = "{deployments}"

[database]
url = "{db_url}"
max_connections = 16

[indexer]
poll_interval_ms = 50

[api]
listen = "127.0.0.1:{api_port}"

[api.limits]
# Every simulated worker sends from loopback: the per-IP limits are sized for the whole fleet.
ip_per_minute = {ip_per_minute}
ip_max_in_flight = {ip_max_in_flight}

[scheduler]
max_batch = 2000
max_in_flight = 32
gas_per_assignment = 30000
poll_interval_ms = 100

[da]
reconcile_interval_secs = 0
"#,
        deployments = deployments.display(),
        ip_per_minute = args.ip_per_minute,
        ip_max_in_flight = args.ip_max_in_flight,
    );
    let config_path = dir.path().join("accord.toml");
    std::fs::write(&config_path, &config)?;
    env.dir = Some(dir);
    say(format!(
        "starting the coordinator: {} serve (API on 127.0.0.1:{api_port}; [api.limits] ip_per_minute = {}, ip_max_in_flight = {})",
        accord_bin.display(),
        args.ip_per_minute,
        args.ip_max_in_flight
    ));
    let mut child = Command::new(&accord_bin)
        .args(["serve", "--config"])
        .arg(&config_path)
        .env(
            "ACCORD_PRIVATE_KEY",
            format!("0x{}", alloy::hex::encode(coordinator_key.to_bytes())),
        )
        .env("RUST_LOG", "warn,accord::scheduler=debug")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start accord serve")?;
    let accord_pid = child.id();
    let stderr = child.stderr.take().context("coordinator stderr")?;
    env.coordinator = Some(ChildGuard(child));
    let decisions: Arc<Mutex<Decisions>> = Arc::default();
    {
        let decisions = decisions.clone();
        let mut log = match &args.log {
            Some(path) => Some(std::fs::File::create(path).context("--log")?),
            None => None,
        };
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let line = strip_ansi(&line);
                if let Some(f) = log.as_mut() {
                    let _ = writeln!(f, "{line}");
                }
                if line.contains("assignBatch sent")
                    && let Some(ms) = field(&line, "decision_ms")
                {
                    let mut d = decisions.lock().expect("decisions");
                    if d.on {
                        d.ms.push(ms);
                    }
                } else if line.contains(" WARN ") || line.contains(" ERROR ") {
                    eprintln!("coordinator: {line}");
                }
            }
        });
    }
    let api = format!("http://127.0.0.1:{api_port}");
    let pool = PgPool::connect(&db_url).await?;
    let started = Instant::now();
    let min_stake = U256::from(100u64) * e18;
    loop {
        let ready = http
            .get(format!("{api}/v1/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            let staked: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM workers WHERE chain_id = 31337 AND stake >= $1::numeric",
            )
            .bind(min_stake.to_string())
            .fetch_one(&pool)
            .await?;
            if staked as usize >= args.workers {
                break;
            }
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(300),
            "the coordinator did not index the fleet within 300 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    say(format!(
        "the index holds {} staked workers ({:.1} s after start)",
        fmt_int(args.workers as f64),
        started.elapsed().as_secs_f64()
    ));

    // ------------------------------------------------------------------ heartbeats and jobs
    let every = Duration::from_secs(args.heartbeat_secs);
    let warmup = every;
    let window = Duration::from_secs(args.duration);
    let n = workers.len();
    let spacing = every / n as u32;
    let domain = offchain::domain(d.chain_id, d.registry);
    let beat_http = reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1024)
        .pool_idle_timeout(Duration::from_secs(60))
        .build()?;
    let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::new(Mutex::new(Vec::with_capacity(
        n * (1 + args.duration as usize / args.heartbeat_secs as usize),
    )));
    let last_sent: Arc<Mutex<HashMap<Address, u64>>> = Arc::default();
    let in_flight_max = Arc::new(AtomicU64::new(0));
    let total_beats = ((warmup + window).as_secs_f64() / spacing.as_secs_f64()).round() as usize;
    say(format!(
        "heartbeats: {} workers every {} s ({:.0}/s), one warm-up round, then {} s measured while {} clients post {} jobs/s",
        fmt_int(n as f64),
        args.heartbeat_secs,
        n as f64 / args.heartbeat_secs as f64,
        args.duration,
        args.clients,
        args.job_rate
    ));
    let t0 = tokio::time::Instant::now() + Duration::from_millis(200);
    let wall0 = SystemTime::now() + Duration::from_millis(200);
    let heartbeats = {
        let (http, url, workers, domain, outcomes, last_sent, in_flight_max, capacity, cancel) = (
            beat_http.clone(),
            format!("{api}/v1/heartbeats"),
            workers.clone(),
            domain.clone(),
            outcomes.clone(),
            last_sent.clone(),
            in_flight_max.clone(),
            args.capacity,
            env.tasks.child_token(),
        );
        tokio::spawn(async move {
            heartbeat_loop(HeartbeatLoop {
                http,
                url,
                workers,
                domain,
                outcomes,
                last_sent,
                in_flight_max,
                capacity,
                t0,
                wall0,
                spacing,
                warmup,
                total_beats,
                cancel,
            })
            .await
        })
    };

    // Jobs: open loop from the start of the measured window.
    let spec = JobSpec::new(vec!["echo".into(), "hi".into()]);
    let (uri, hash) = spec.to_data_uri()?;
    let chain_now = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await?
        .context("latest block")?
        .header
        .timestamp;
    let post_input = Bytes::from(
        JobManager::postJobCall {
            specHash: hash,
            specURI: uri,
            requiredCapabilities: 1,
            reward: alloy::primitives::Uint::<96, 2>::from(1_000_000_000_000_000u64),
            deadline: u32::try_from(chain_now + 86_400)?,
            maxAttempts: 2,
        }
        .abi_encode(),
    );
    let window_start = t0 + warmup;
    tokio::time::sleep_until(window_start).await;
    // Snapshots at the window's start.
    let cpu0 = (
        cpu_secs(accord_pid).unwrap_or(0.0),
        cluster_cpu_secs(postmaster),
        cpu_secs(anvil_pid).unwrap_or(0.0),
        cpu_secs(std::process::id()).unwrap_or(0.0),
    );
    let pg0 = pg_stats(&pool).await?;
    let measured_at = Instant::now();
    decisions.lock().expect("decisions").on = true;
    let total_jobs = args.job_rate * args.duration;
    let posted = Arc::new(AtomicU64::new(0));
    let mut posters = tokio::task::JoinSet::new();
    let client_count = clients.len() as u64;
    for (k, c) in clients.iter().enumerate() {
        let share = total_jobs / client_count + u64::from((k as u64) < total_jobs % client_count);
        let period = Duration::from_secs_f64(client_count as f64 / args.job_rate.max(1) as f64);
        let start = window_start + Duration::from_secs_f64(k as f64 / args.job_rate.max(1) as f64);
        let (provider, c, input, posted, chain_id, to) = (
            provider.clone(),
            c.clone(),
            post_input.clone(),
            posted.clone(),
            d.chain_id,
            d.job_manager,
        );
        posters.spawn(async move {
            let mut tick = tokio::time::interval_at(start, period);
            // Nonce 0 was the approval.
            for nonce in 1..=share {
                tick.tick().await;
                let raw = raw_tx(&c, chain_id, nonce, to, input.clone(), 250_000)?;
                drop(
                    provider
                        .send_raw_transaction(&raw)
                        .await
                        .with_context(|| format!("postJob from {} (nonce {nonce})", c.address()))?,
                );
                posted.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        });
    }
    let mut next_report = Instant::now() + Duration::from_secs(30);
    while measured_at.elapsed() < window {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Some(done) = posters.try_join_next() {
            done??;
        }
        if Instant::now() >= next_report {
            next_report += Duration::from_secs(30);
            let o = outcomes.lock().expect("outcomes");
            let measured = o.iter().filter(|o| o.measured).count();
            let bad = o.iter().filter(|o| o.status != 202 || !o.recorded).count();
            drop(o);
            say(format!(
                "  {:.0} s: {} heartbeats measured ({} not 202+recorded), {} jobs posted",
                measured_at.elapsed().as_secs_f64(),
                fmt_int(measured as f64),
                bad,
                fmt_int(posted.load(Ordering::Relaxed) as f64)
            ));
        }
    }
    let window_secs = measured_at.elapsed().as_secs_f64();
    let cpu1 = (
        cpu_secs(accord_pid).unwrap_or(0.0),
        cluster_cpu_secs(postmaster),
        cpu_secs(anvil_pid).unwrap_or(0.0),
        cpu_secs(std::process::id()).unwrap_or(0.0),
    );
    let pg1 = pg_stats(&pool).await?;
    decisions.lock().expect("decisions").on = false;
    while let Some(done) = posters.join_next().await {
        done??;
    }
    heartbeats.await??;

    // ------------------------------------------------------------------ checks after the window
    // Every posted job indexed and assigned (the scheduler finishes the last blocks' jobs).
    let clients_hex: Vec<String> = clients
        .iter()
        .map(|c| format!("{:#x}", c.address()))
        .collect();
    let started = Instant::now();
    let (indexed, assigned) = loop {
        let (indexed, assigned): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE status = 'assigned') FROM jobs \
             WHERE chain_id = 31337 AND client = ANY($1)",
        )
        .bind(&clients_hex)
        .fetch_one(&pool)
        .await?;
        if (indexed as u64 >= total_jobs && assigned == indexed)
            || started.elapsed() > Duration::from_secs(60)
        {
            break (indexed as u64, assigned as u64);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let drain_secs = started.elapsed().as_secs_f64();
    // The heartbeats table holds each worker's last heartbeat sent.
    let last_sent = last_sent.lock().expect("last sent").clone();
    let stored: Vec<(String, i64)> =
        sqlx::query_as("SELECT worker, signed_at FROM heartbeats WHERE chain_id = 31337")
            .fetch_all(&pool)
            .await?;
    let stored: HashMap<Address, u64> = stored
        .into_iter()
        .filter_map(|(w, t)| Some((w.parse().ok()?, t as u64)))
        .collect();
    let table_matches = last_sent
        .iter()
        .filter(|(w, t)| stored.get(*w) == Some(*t))
        .count();

    // ------------------------------------------------------------------ summary
    let all = outcomes.lock().expect("outcomes").clone();
    let measured: Vec<Outcome> = all.iter().copied().filter(|o| o.measured).collect();
    let warm_bad = all
        .iter()
        .filter(|o| !o.measured && (o.status != 202 || !o.recorded))
        .count();
    let accepted = measured.iter().filter(|o| o.status == 202).count();
    let recorded = measured
        .iter()
        .filter(|o| o.status == 202 && o.recorded)
        .count();
    let refused = measured
        .iter()
        .filter(|o| o.status != 202 && o.status != 0)
        .count();
    let failed = measured.iter().filter(|o| o.status == 0).count();
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    for o in measured.iter().filter(|o| o.status != 202) {
        *statuses.entry(o.status).or_default() += 1;
    }
    let mut lat: Vec<f64> = measured.iter().map(|o| o.latency_ms).collect();
    lat.sort_by(f64::total_cmp);
    let mut dec = decisions.lock().expect("decisions").ms.clone();
    dec.sort_by(f64::total_cmp);
    let cores = |a: f64, b: f64| 100.0 * (b - a) / window_secs;
    let per_sec = |a: f64, b: f64| (b - a) / window_secs;

    let hb_p99 = percentile(&lat, 99.0);
    let dec_p99 = percentile(&dec, 99.0);
    let lossless = accepted == measured.len() && recorded == measured.len() && warm_bad == 0;
    let table_ok = table_matches == n;
    let jobs_ok = indexed >= total_jobs && assigned == indexed;
    let status = |ok: bool| if ok { "met" } else { "MISSED" };
    println!();
    println!(
        "Fleet: {} workers registered and staked by {} real transactions in {:.0} s; heartbeat every {} s; {} s measured",
        fmt_int(n as f64),
        fmt_int(3.0 * n as f64 + n as f64),
        fleet_secs,
        args.heartbeat_secs,
        args.duration
    );
    println!();
    println!("| measure | value | target | status |");
    println!("| --- | ---: | --- | --- |");
    println!(
        "| heartbeats sent / accepted (202) / recorded / refused / no answer | {} / {} / {} / {} / {} | all 202 and recorded | {} |",
        fmt_int(measured.len() as f64),
        fmt_int(accepted as f64),
        fmt_int(recorded as f64),
        refused,
        failed,
        status(lossless)
    );
    if !statuses.is_empty() {
        println!("| … refused by status | {statuses:?} | | |");
    }
    println!(
        "| heartbeat rate achieved (sent ÷ window) | {:.0}/s | {:.0}/s | |",
        measured.len() as f64 / window_secs,
        n as f64 / args.heartbeat_secs as f64
    );
    println!(
        "| heartbeat latency from its due time: p50 / p90 / p99 / max | {:.1} / {:.1} / **{:.1}** / {:.1} ms | p99 ≤ 50 ms | {} |",
        percentile(&lat, 50.0),
        percentile(&lat, 90.0),
        hb_p99,
        lat.last().copied().unwrap_or(f64::NAN),
        status(hb_p99 <= TARGET_HEARTBEAT_P99_MS)
    );
    println!(
        "| the heartbeats table holds every worker's last heartbeat sent | {} of {} | all | {} |",
        fmt_int(table_matches as f64),
        fmt_int(n as f64),
        status(table_ok)
    );
    println!(
        "| heartbeat requests in flight at once (load generator), max | {} | | |",
        in_flight_max.load(Ordering::Relaxed)
    );
    println!(
        "| jobs posted (raw signed postJob) / indexed / assigned | {} / {} / {} | all assigned | {} |",
        fmt_int(posted.load(Ordering::Relaxed) as f64),
        fmt_int(indexed as f64),
        fmt_int(assigned as f64),
        status(jobs_ok)
    );
    println!(
        "| jobs posted / assigned per second (assigned counted {:.1} s after the window) | {:.1} / {:.1} | 100 / 100 | |",
        drain_secs,
        posted.load(Ordering::Relaxed) as f64 / window_secs,
        assigned as f64 / window_secs
    );
    println!(
        "| scheduler decision latency (index update → signed assignBatch handed to the node; {} batches): p50 / p90 / p99 / max | {:.1} / {:.1} / **{:.1}** / {:.1} ms | p99 ≤ 50 ms | {} |",
        dec.len(),
        percentile(&dec, 50.0),
        percentile(&dec, 90.0),
        dec_p99,
        dec.last().copied().unwrap_or(f64::NAN),
        status(dec_p99 <= TARGET_DECISION_P99_MS)
    );
    println!(
        "| coordinator CPU (`accord serve`, /proc) | {:.1} % of one core | | |",
        cores(cpu0.0, cpu1.0)
    );
    println!(
        "| PostgreSQL CPU (postmaster, live and ended backends, /proc) | {:.1} % of one core | | |",
        cores(cpu0.1, cpu1.1)
    );
    println!(
        "| anvil CPU / load generator CPU | {:.1} % / {:.1} % of one core | | |",
        cores(cpu0.2, cpu1.2),
        cores(cpu0.3, cpu1.3)
    );
    println!(
        "| PostgreSQL commits/s (pg_stat_database.xact_commit) | {:.0} | | |",
        per_sec(pg0.commits, pg1.commits)
    );
    println!(
        "| PostgreSQL rows inserted + updated/s (tup_inserted + tup_updated) | {:.0} ({:.0} + {:.0}) | | |",
        per_sec(pg0.inserted + pg0.updated, pg1.inserted + pg1.updated),
        per_sec(pg0.inserted, pg1.inserted),
        per_sec(pg0.updated, pg1.updated)
    );
    println!(
        "| PostgreSQL WAL bytes/s (pg_stat_wal.wal_bytes) | {} | | |",
        fmt_int(per_sec(pg0.wal_bytes, pg1.wal_bytes))
    );
    println!();
    Ok(lossless
        && table_ok
        && jobs_ok
        && hb_p99 <= TARGET_HEARTBEAT_P99_MS
        && dec_p99 <= TARGET_DECISION_P99_MS)
}

struct HeartbeatLoop {
    http: reqwest::Client,
    url: String,
    workers: Vec<PrivateKeySigner>,
    domain: Eip712Domain,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
    last_sent: Arc<Mutex<HashMap<Address, u64>>>,
    in_flight_max: Arc<AtomicU64>,
    capacity: u32,
    t0: tokio::time::Instant,
    wall0: SystemTime,
    spacing: Duration,
    warmup: Duration,
    total_beats: usize,
    cancel: CancellationToken,
}

/// The open-loop heartbeat schedule: beat j is worker j mod W's, due at t0 + j × spacing. Each is signed just
/// before it is due (timestamp: the wall-clock second it is due) and sent in its own task; its latency runs from
/// the due time, whatever delayed it.
async fn heartbeat_loop(h: HeartbeatLoop) -> anyhow::Result<()> {
    let n = h.workers.len();
    let in_flight = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for j in 0..h.total_beats {
        if h.cancel.is_cancelled() {
            break;
        }
        let offset = h.spacing * j as u32;
        let due = h.t0 + offset;
        let worker = &h.workers[j % n];
        let timestamp = (h.wall0 + offset)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let beat = Heartbeat {
            worker: worker.address(),
            capacity: h.capacity,
            timestamp,
        };
        let signature = offchain::sign(worker, &h.domain, &beat)?;
        let body = serde_json::to_vec(&json!({
            "worker": format!("{:#x}", beat.worker),
            "capacity": h.capacity,
            "timestamp": timestamp,
            "signature": format!("0x{}", alloy::hex::encode(signature.as_bytes())),
        }))?;
        h.last_sent
            .lock()
            .expect("last sent")
            .insert(beat.worker, timestamp);
        tokio::time::sleep_until(due).await;
        let measured = offset >= h.warmup;
        let (http, url, outcomes, in_flight, in_flight_max) = (
            h.http.clone(),
            h.url.clone(),
            h.outcomes.clone(),
            in_flight.clone(),
            h.in_flight_max.clone(),
        );
        tasks.spawn(async move {
            let now = in_flight.fetch_add(1, Ordering::Relaxed) + 1;
            in_flight_max.fetch_max(now, Ordering::Relaxed);
            let reply = http
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            let (status, recorded) = match reply {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let body: Value = r.json().await.unwrap_or_default();
                    (status, body["recorded"] == true)
                }
                Err(_) => (0, false),
            };
            let latency_ms = due.elapsed().as_secs_f64() * 1e3;
            in_flight.fetch_sub(1, Ordering::Relaxed);
            outcomes.lock().expect("outcomes").push(Outcome {
                measured,
                latency_ms,
                status,
                recorded,
            });
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}
