//! Starknet benchmarks on starknet-devnet: the fee of one job's whole life (L2 gas, L1 data gas and the fee in
//! fri from the receipts, with the resource bounds the transactions carried), and indexing events/s into
//! PostgreSQL beside the raw `starknet_getEvents` ceiling of the same devnet, measured as the EVM figure is
//! (best of N runs, every run printed).
//!
//! Run it through `scripts/bench-starknet` (bootstrap, release build):
//!
//! ```text
//! cargo run --release --locked --example bench_starknet -- --jobs 4000 --runs 3
//! ```
//!
//! 1. starknet-devnet on a free loopback port, the protocol deployed with the devnet settings (account 0 holds
//!    the supply, 1 is the coordinator), four workers funded, registered and staked.
//! 2. Three whole job lives one after another (approve + post in one multicall, assign, submit, accept); the
//!    third is the steady state.
//! 3. The load: the client posts N jobs in multicalls of 100 and the coordinator assigns them in batches of 100.
//! 4. The ceiling: `starknet_getEvents` over the deployment's range with the indexer's filter (the five
//!    contracts, pages of 1,024), one request in flight, and the range split in four with four in flight; the
//!    answers are parsed and dropped.
//! 5. `index_until_caught_up` (what `accord index` runs) from the deploy block into a fresh database per run.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use accord::chain::starknet::bindings::{jobs, registry, token};
use accord::chain::starknet::devnet::{DevnetProtocol, StarknetDevnet};
use accord::chain::starknet::signer::{Signer, wait_for};
use accord::config::Config;
use accord::deployment::Manifest;
use accord::domain::Family;
use accord::pg::TempCluster;
use anyhow::Context;
use cainome::cairo_serde::{ByteArray, ContractAddress, U256};
use clap::Parser;
use serde_json::{Value, json};
use starknet::accounts::{Account, ConnectedAccount};
use starknet::core::types::{Call, Felt, Transaction, TransactionReceipt};
use starknet::providers::Provider;

const E18: u128 = 1_000_000_000_000_000_000;

#[derive(Parser)]
struct Args {
    /// Jobs posted (and assigned) for the indexing load.
    #[arg(long, default_value_t = 4_000)]
    jobs: u32,
    /// Runs of each indexing measurement; the best counts.
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// The Accord checkout (for .tools/bin/starknet-devnet).
    #[arg(long, default_value = env!("CARGO_MANIFEST_DIR"))]
    repo: PathBuf,
}

fn u256(v: u128) -> U256 {
    U256 { low: v, high: 0 }
}

/// What one transaction cost.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    l2_gas: u64,
    l1_gas: u64,
    l1_data_gas: u64,
    fee_fri: u128,
    max_l2_gas: u64,
}

impl std::ops::Add for Cost {
    type Output = Cost;
    fn add(self, o: Cost) -> Cost {
        Cost {
            l2_gas: self.l2_gas + o.l2_gas,
            l1_gas: self.l1_gas + o.l1_gas,
            l1_data_gas: self.l1_data_gas + o.l1_data_gas,
            fee_fri: self.fee_fri + o.fee_fri,
            max_l2_gas: self.max_l2_gas + o.max_l2_gas,
        }
    }
}

/// Sends `calls` from `from` as one transaction and returns what it cost, from its receipt and its resource bounds.
async fn send(from: &Signer, calls: Vec<Call>) -> anyhow::Result<Cost> {
    let sent =
        from.execute_v3(calls).send().await.map_err(|e| {
            anyhow::anyhow!("{}", accord::chain::starknet::signer::account_error(&e))
        })?;
    let provider = from.provider();
    let receipt = wait_for(provider, sent.transaction_hash, Duration::from_secs(120)).await?;
    let TransactionReceipt::Invoke(r) = receipt.receipt else {
        anyhow::bail!("not an invoke receipt");
    };
    let max_l2_gas = match provider
        .get_transaction_by_hash(sent.transaction_hash)
        .await?
    {
        Transaction::Invoke(starknet::core::types::InvokeTransaction::V3(t)) => {
            t.resource_bounds.l2_gas.max_amount
        }
        _ => 0,
    };
    Ok(Cost {
        l2_gas: r.execution_resources.l2_gas,
        l1_gas: r.execution_resources.l1_gas,
        l1_data_gas: r.execution_resources.l1_data_gas,
        fee_fri: u128::try_from(r.actual_fee.amount.to_biguint()).unwrap_or(u128::MAX),
        max_l2_gas,
    })
}

struct Net {
    devnet: StarknetDevnet,
    p: DevnetProtocol,
}

impl Net {
    fn at(&self, name: &str) -> Felt {
        accord::chain::starknet::Deployment::of(&self.p.manifest)
            .expect("a Starknet manifest")
            .address(name)
    }

    fn post_calls(&self, client: &Signer, n: u32, reward: u128, salt: u32) -> Vec<Call> {
        let jm = jobs::JobManager::new(self.at("JobManager"), client);
        let tok = token::AccordToken::new(self.at("AccordToken"), client);
        let mut calls = vec![tok.approve_getcall(
            &ContractAddress(self.at("JobManager")),
            &u256(reward * u128::from(n)),
        )];
        for i in 0..n {
            calls.push(jm.post_job_getcall(
                &u256(u128::from(salt) << 32 | u128::from(i)),
                &ByteArray::from_string("ipfs://bench-spec").expect("a short string"),
                &1,
                &u256(reward),
                &4_000_000_000,
                &3,
            ));
        }
        calls
    }
}

/// `starknet_getEvents` over `from..=to` with the indexer's filter, one page after another; returns the events
/// counted.
async fn scan(
    http: &reqwest::Client,
    url: &str,
    addresses: &[String],
    from: u64,
    to: u64,
) -> anyhow::Result<u64> {
    let mut token: Option<String> = None;
    let mut count = 0u64;
    loop {
        let mut filter = json!({
            "from_block": {"block_number": from},
            "to_block": {"block_number": to},
            "address": addresses,
            "chunk_size": 1024,
        });
        if let Some(t) = &token {
            filter["continuation_token"] = json!(t);
        }
        let body =
            json!({"jsonrpc": "2.0", "id": 1, "method": "starknet_getEvents", "params": [filter]});
        let reply: Value = http.post(url).json(&body).send().await?.json().await?;
        if let Some(error) = reply.get("error") {
            anyhow::bail!("starknet_getEvents failed: {error}");
        }
        let page = &reply["result"];
        count += page["events"].as_array().map_or(0, Vec::len) as u64;
        match page["continuation_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(count),
        }
    }
}

async fn ceiling(
    url: &str,
    addresses: &[String],
    from: u64,
    to: u64,
    parts: u64,
) -> anyhow::Result<(u64, f64)> {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let step = (to - from + 1).div_ceil(parts);
    let tasks = (0..parts).map(|i| {
        let (http, addresses) = (http.clone(), addresses.to_vec());
        let lo = from + i * step;
        let hi = (lo + step - 1).min(to);
        let url = url.to_owned();
        async move {
            if lo > hi {
                return Ok(0);
            }
            scan(&http, &url, &addresses, lo, hi).await
        }
    });
    let counts = futures::future::try_join_all(tasks).await?;
    Ok((counts.iter().sum(), started.elapsed().as_secs_f64()))
}

fn f(n: f64) -> String {
    let s = format!("{:.0}", n);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    eprintln!("bench-starknet: starting starknet-devnet on 127.0.0.1:{port}");
    let devnet =
        StarknetDevnet::spawn(&args.repo.join(".tools/bin/starknet-devnet"), port, None).await?;
    eprintln!("bench-starknet: deploying the protocol");
    let p = devnet.deploy_protocol().await?;
    let net = Net { devnet, p };
    let signers = &net.p.signers;
    let (client, coordinator) = (&signers[0], &signers[1]);
    let workers = &signers[3..7];
    let addresses: Vec<Felt> = workers.iter().map(|w| w.address()).collect();
    net.p.fund(&addresses, 1_000 * E18).await?;
    for w in workers {
        let reg = registry::WorkerRegistry::new(net.at("WorkerRegistry"), w);
        let tok = token::AccordToken::new(net.at("AccordToken"), w);
        send(
            w,
            vec![
                reg.register_getcall(&1, &ByteArray::from_string("").expect("empty")),
                tok.approve_getcall(&ContractAddress(net.at("WorkerRegistry")), &u256(500 * E18)),
                reg.stake_getcall(&u256(500 * E18)),
            ],
        )
        .await
        .context("enrolling a worker")?;
    }

    // Three whole job lives; the third is the steady state.
    let jm_c = jobs::JobManager::new(net.at("JobManager"), coordinator);
    let jm_w = jobs::JobManager::new(net.at("JobManager"), &workers[0]);
    let jm_client = jobs::JobManager::new(net.at("JobManager"), client);
    let mut lives = Vec::new();
    for life in 1..=3u64 {
        let post = send(
            client,
            net.post_calls(client, 1, 5 * E18, 1_000 + life as u32),
        )
        .await?;
        let assign =
            send(
                coordinator,
                vec![jm_c.assign_batch_getcall(
                    &vec![life],
                    &vec![ContractAddress(workers[0].address())],
                )],
            )
            .await?;
        let submit = send(
            &workers[0],
            vec![jm_w.submit_result_getcall(
                &life,
                &1,
                &u256(0xabc0 + u128::from(life)),
                &5,
                &ByteArray::from_string("accord:sha256:bench").expect("a short string"),
            )],
        )
        .await?;
        let accept = send(client, vec![jm_client.accept_result_getcall(&life)]).await?;
        lives.push([post, assign, submit, accept]);
    }
    println!("## Fee of one job's whole life on Starknet (starknet-devnet 0.10.1)");
    println!();
    println!(
        "| transaction | L2 gas, first job | L2 gas, steady state | L1 data gas | fee, fri (steady) | L2 gas bound sent |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let names = [
        "approve + postJob (client, one multicall)",
        "assignBatch of 1 (coordinator)",
        "submitResult (worker)",
        "acceptResult (client)",
    ];
    let mut first = Cost::default();
    let mut steady = Cost::default();
    for (i, name) in names.iter().enumerate() {
        let (a, c) = (lives[0][i], lives[2][i]);
        first = first + a;
        steady = steady + c;
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            f(a.l2_gas as f64),
            f(c.l2_gas as f64),
            f(c.l1_data_gas as f64),
            f(c.fee_fri as f64),
            f(c.max_l2_gas as f64)
        );
    }
    println!(
        "| **whole life** | {} | **{}** | {} | {} ({:.6} STRK) | {} |",
        f(first.l2_gas as f64),
        f(steady.l2_gas as f64),
        f(steady.l1_data_gas as f64),
        f(steady.fee_fri as f64),
        steady.fee_fri as f64 / 1e18,
        f(steady.max_l2_gas as f64)
    );
    println!("(L1 gas used: {} in all)", steady.l1_gas);
    println!();

    // The indexing load.
    eprintln!("bench-starknet: posting and assigning {} jobs", args.jobs);
    let started = Instant::now();
    let mut posted = 3u64;
    let mut salt = 0;
    while posted < 3 + u64::from(args.jobs) {
        let n = (3 + u64::from(args.jobs) - posted).min(100) as u32;
        salt += 1;
        send(client, net.post_calls(client, n, E18, salt)).await?;
        let ids: Vec<u64> = (posted + 1..=posted + u64::from(n)).collect();
        let to: Vec<ContractAddress> = ids
            .iter()
            .map(|i| ContractAddress(addresses[(*i % 4) as usize]))
            .collect();
        send(coordinator, vec![jm_c.assign_batch_getcall(&ids, &to)]).await?;
        posted += u64::from(n);
    }
    eprintln!(
        "bench-starknet: load generated in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let manifest: &Manifest = &net.p.manifest;
    let head = net.p.signers[0].provider().block_number().await?;
    let contracts: Vec<String> = accord::chain::starknet::Deployment::of(manifest)
        .map_err(anyhow::Error::msg)?
        .contracts
        .iter()
        .map(|(_, a)| format!("{a:#x}"))
        .collect();

    let runs = args.runs.max(1);
    let mut c1 = Vec::new();
    let mut c4 = Vec::new();
    for _ in 0..runs {
        c1.push(ceiling(&net.devnet.url, &contracts, manifest.deploy_block, head, 1).await?);
        c4.push(ceiling(&net.devnet.url, &contracts, manifest.deploy_block, head, 4).await?);
    }

    let cluster = TempCluster::start().await?;
    let dir = tempfile::tempdir()?;
    std::fs::write(
        Manifest::path_for(dir.path(), manifest.chain_id),
        serde_json::to_string_pretty(manifest)?,
    )?;
    let mut indexed = Vec::new();
    for run in 0..runs {
        let mut config = Config::default();
        config.chain.family = Family::Starknet;
        config.chain.rpc_url = net.devnet.url.clone();
        config.chain.deployments_dir = dir.path().to_path_buf();
        config.database.url = cluster.create_database(&format!("run{run}")).await?;
        let stats = accord::coordinator::index_until_caught_up(
            &config,
            None,
            tokio_util::sync::CancellationToken::new(),
        )
        .await?;
        eprintln!(
            "bench-starknet: index run {}: {} events in {:.2} s",
            run + 1,
            stats.events,
            stats.seconds
        );
        indexed.push((stats.events, stats.seconds));
    }

    let rate = |(n, s): &(u64, f64)| *n as f64 / s;
    let best = |v: &[(u64, f64)]| {
        *v.iter()
            .max_by(|a, b| rate(a).total_cmp(&rate(b)))
            .expect("at least one run")
    };
    let all = |v: &[(u64, f64)]| v.iter().map(|r| f(rate(r))).collect::<Vec<_>>().join(", ");
    println!(
        "## Indexing from starknet-devnet ({} blocks, best of {runs} runs each)",
        head - manifest.deploy_block + 1
    );
    println!();
    println!("| measure | events | seconds | events/s | all runs, events/s |");
    println!("| --- | ---: | ---: | ---: | --- |");
    for (name, v) in [
        ("starknet_getEvents ceiling, 1 request in flight", &c1),
        ("starknet_getEvents ceiling, 4 requests in flight", &c4),
        ("accord index (decode + PostgreSQL, end to end)", &indexed),
    ] {
        let b = best(v);
        println!(
            "| {name} | {} | {:.2} | {} | {} |",
            f(b.0 as f64),
            b.1,
            f(rate(&b)),
            all(v)
        );
    }
    let ceiling_best = rate(&best(&c1)).max(rate(&best(&c4)));
    println!(
        "indexer at {:.0}% of the best ceiling",
        100.0 * rate(&best(&indexed)) / ceiling_best
    );
    Ok(())
}
