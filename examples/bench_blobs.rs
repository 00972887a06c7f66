//! Result-binding benchmark: what it costs on chain to record one result of a full blob's worth of bytes
//! (126,945 bytes, the most one 128 KiB blob holds with the canonical encoding), by DA kind, from real
//! receipts on anvil:
//!
//! - EIP-4844 (kind 3): `submitResult` in a type-3 transaction carrying the blob; gas, blob gas and the blob
//!   gas price;
//! - calldata: the same `submitResult` of a local reference with the bytes themselves appended to the calldata
//!   (what putting them on chain without a DA layer costs: EIP-2028 pricing with the EIP-7623 floor);
//! - Celestia (kind 2): `submitResult` of the share commitment; the blob itself is paid on Celestia, not here;
//! - local (kind 1): the coordinator's archive, for reference.
//!
//! And the KZG work per result, in this build: the canonical blob's commitment (what `/v1/jobs/{id}/result`
//! recomputes before serving) and the sidecar with its EIP-7594 cell proofs (what the worker computes once).
//!
//! Run it through `scripts/bench-blobs` (bootstrap, release build): anvil on a free loopback port, the protocol
//! deployed by `scripts/deploy`, all of it stopped at the end.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use accord::chain::account::{NewJob, parse_tokens};
use accord::chain::evm::bindings::{AccordToken, JobManager};
use accord::chain::evm::devnet::{Anvil, devnet_key};
use accord::chain::evm::ops::{self, Deployment};
use accord::chain::evm::wallet::{SenderConfig, TxSender};
use accord::da::{self, BlobRef, eip4844};
use accord::spec::JobSpec;
use alloy::primitives::{Bytes, U256};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::SolCall;
use anyhow::Context;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Pseudo-random bytes (a result does not compress, and its calldata is mostly non-zero bytes).
fn payload(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Best of `n` timings of `f`, in milliseconds.
fn best_ms(n: usize, mut f: impl FnMut()) -> f64 {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let repo = repo();
    let tools = repo.join(".tools/bin");
    let port = free_port()?;
    let anvil = Anvil::spawn(&tools.join("anvil"), port, 31337)?;
    let key = |i| devnet_key(&tools.join("cast"), i);
    let sender = |k: String| {
        let url = anvil.url.clone();
        async move {
            TxSender::connect(&url, k.parse()?, SenderConfig::default())
                .await
                .map_err(anyhow::Error::from)
        }
    };
    let dir = tempfile::tempdir()?;
    eprintln!("bench-blobs: deploying on anvil at 127.0.0.1:{port}");
    let coordinator = sender(key(1)?).await?;
    let out = tokio::process::Command::new(repo.join("scripts/deploy"))
        .args(["--rpc-url", &anvil.url])
        .args(["--coordinator", &format!("{:#x}", coordinator.address())])
        .args([
            "--arbiter",
            &format!("{:#x}", sender(key(2)?).await?.address()),
            "--out",
        ])
        .arg(dir.path())
        .env("DEPLOYER_KEY", key(0)?)
        .stdin(Stdio::null())
        .output()
        .await
        .context("cannot run scripts/deploy")?;
    anyhow::ensure!(
        out.status.success(),
        "scripts/deploy failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = Deployment::from_manifest(&accord::deployment::Manifest::load(
        &dir.path().join("31337.json"),
    )?)?;
    let deployer = sender(key(0)?).await?;
    let worker = sender(key(3)?).await?;
    let client = sender(key(4)?).await?;
    let tokens = |n: u64| U256::from(n) * U256::from(10u64).pow(U256::from(18u64));
    for to in [worker.address(), client.address()] {
        deployer
            .call(
                d.token,
                &AccordToken::transferCall {
                    to,
                    value: tokens(1_000),
                },
            )
            .await?;
    }
    ops::register(&worker, &d, 1, "").await?;
    ops::stake(&worker, &d, tokens(200)).await?;

    let data = payload(eip4844::MAX_PAYLOAD);
    let sha = da::sha256(&data);
    let job = NewJob {
        spec: JobSpec::new(vec!["cat".into(), "result.bin".into()]),
        reward: parse_tokens("10")?,
        deadline_in: Duration::from_secs(86_400),
        capabilities: 1,
        max_attempts: 1,
    };
    // One warm-up submission first, so every measured one finds the same warm contract state.
    let mut assigned = Vec::new();
    for _ in 0..5 {
        let (id, _) = ops::post_job(&client, &d, &job).await?;
        coordinator
            .call(
                d.job_manager,
                &JobManager::assignCall {
                    jobId: id,
                    worker: worker.address(),
                },
            )
            .await?;
        assigned.push(id);
    }
    let local = BlobRef {
        kind: da::KIND_LOCAL,
        commitment: sha,
        size: data.len() as u64,
        locator: da::local_locator(&sha),
    };
    ops::submit_result(&worker, &d, assigned[0], &local, None).await?;

    eprintln!(
        "bench-blobs: submitting a {}-byte result four ways",
        data.len()
    );
    let blob = BlobRef {
        kind: eip4844::KIND_EIP4844,
        commitment: eip4844::commitment(&data)?,
        size: data.len() as u64,
        locator: eip4844::LOCATOR.into(),
    };
    let by_blob = ops::submit_result(&worker, &d, assigned[1], &blob, Some(&data)).await?;
    let mut calldata = JobManager::submitResultCall {
        jobId: assigned[2],
        daKind: local.kind,
        commitment: local.commitment,
        size: local.size,
        locator: local.locator.clone(),
    }
    .abi_encode();
    calldata.extend_from_slice(&data);
    let by_calldata = worker.send(d.job_manager, Bytes::from(calldata)).await?;
    let namespace = da::parse_namespace("6163636f7264").map_err(anyhow::Error::msg)?;
    let celestia = BlobRef {
        kind: da::KIND_CELESTIA,
        commitment: da::share_commitment(&namespace, &data)?,
        size: data.len() as u64,
        locator: format!(
            "celestia:1234567:{}",
            alloy::hex::encode(namespace.as_bytes())
        ),
    };
    let by_celestia = ops::submit_result(&worker, &d, assigned[3], &celestia, None).await?;
    let by_local = ops::submit_result(&worker, &d, assigned[4], &local, None).await?;

    let row = |name: &str, r: &TransactionReceipt, bytes_on_l1: usize| {
        println!(
            "{name:<34} {:>10} {:>10} {:>14} {:>12}",
            r.gas_used,
            r.blob_gas_used.unwrap_or(0),
            r.blob_gas_used
                .filter(|g| *g > 0)
                .and(r.blob_gas_price)
                .map_or("-".into(), |p| p.to_string()),
            bytes_on_l1
        );
    };
    println!(
        "\nOne result of {} bytes (a full 128 KiB blob), submitResult from real receipts on anvil:\n",
        data.len()
    );
    println!(
        "{:<34} {:>10} {:>10} {:>14} {:>12}",
        "how", "gas", "blob gas", "blob gas price", "calldata B"
    );
    let calldata_of = |r: &BlobRef| {
        JobManager::submitResultCall {
            jobId: assigned[4],
            daKind: r.kind,
            commitment: r.commitment,
            size: r.size,
            locator: r.locator.clone(),
        }
        .abi_encode()
        .len()
    };
    row("EIP-4844 blob (kind 3)", &by_blob, calldata_of(&blob));
    row(
        "bytes in calldata (kind 1 + data)",
        &by_calldata,
        calldata_of(&local) + data.len(),
    );
    row(
        "Celestia commitment (kind 2)",
        &by_celestia,
        calldata_of(&celestia),
    );
    row("local archive (kind 1)", &by_local, calldata_of(&local));

    let commit_ms = best_ms(5, || {
        eip4844::commitment(&data).expect("commitment");
    });
    let sidecar_ms = best_ms(3, || {
        accord::chain::evm::blob::sidecar(&data).expect("sidecar");
    });
    println!(
        "\nKZG work for one full blob: commitment + versioned hash {commit_ms:.1} ms (per verified read); \
         sidecar with 128 cell proofs {sidecar_ms:.1} ms (once per submission). Best of 5 / 3."
    );
    drop(anvil);
    Ok(())
}
