//! EIP-4844 results (DA kind 3) end to end on anvil: the real coordinator with `da.primary = "eip4844"`, a real
//! worker agent, real type-3 transactions. anvil accepts blob transactions and serves their blobs back through
//! its beacon API (`/eth/v1/beacon/blobs/{block}`), so the whole path runs: the agent uploads, gets a kind-3
//! reference, submits in a transaction carrying the blob; the contract binds it (`blobhash(0)`); the API
//! serves the bytes only after recomputing the KZG commitment and versioned hash, from the archive or, when the
//! archive lost or corrupted them, from the chain's blob.

use std::sync::Arc;
use std::time::Duration;

use accord::chain::account::{ClientActions, NewJob, parse_tokens};
use accord::chain::evm::bindings::JobManager;
use accord::chain::evm::ops;
use accord::config::DaBackend;
use accord::da::eip4844::{self, BlockIdMode, KIND_EIP4844, MAX_PAYLOAD};
use accord::da::{BlobClient, KIND_LOCAL};
use accord::domain::JobId;
use accord::spec::JobSpec;
use accord::worker::agent::{Agent, AgentConfig};
use accord::worker::exec::Runner;
use accord::worker::sandbox::Isolation;
use alloy::providers::Provider;
use tokio_util::sync::CancellationToken;

use crate::stack::{Stack, account, eventually, get, heartbeat, post_heartbeat, signer};

/// GETs `/v1/jobs/{id}/result`: status, the `X-Accord-Source` header, the body.
async fn result(api: &str, id: JobId) -> (u16, String, Vec<u8>) {
    let r = reqwest::get(format!("{api}/v1/jobs/{id}/result"))
        .await
        .unwrap();
    let status = r.status().as_u16();
    let source = r
        .headers()
        .get("x-accord-source")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, source, r.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_results_are_bound_on_chain_and_served_verified() {
    let stack = Stack::start().await;
    let url = stack.devnet.anvil.url.clone();
    let mut config = stack.config();
    config.da.primary = DaBackend::Eip4844;
    config.da.secondary = Some(DaBackend::Local);
    config.da.eip4844.beacon_url = url.clone();
    config.da.eip4844.block_id = BlockIdMode::Number;
    let (coordinator, api) = stack.coordinator_with(config).await;
    let db = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&stack.db_url)
        .await
        .unwrap();

    // Worker 4 (capability 2) is driven by hand: uploads, and the attacks on the binding.
    stack.worker(4, 2, 200).await;
    let beat = heartbeat(&stack, 4, 2);
    eventually(Duration::from_secs(30), "heartbeat accepted", || async {
        (post_heartbeat(&api, &beat).await.0 == 202).then_some(())
    })
    .await;
    stack.fund(8, 100).await;
    let client = account(&url, signer(8), stack.deployment.clone()).await;
    let job = |capabilities: u16, text: &str| NewJob {
        spec: JobSpec::new(vec!["echo".into(), text.into()]),
        reward: parse_tokens("10").unwrap(),
        deadline_in: Duration::from_secs(3_600),
        capabilities,
        max_attempts: 1,
    };
    let (manual, _) = client.post_job(&job(2, "by hand")).await.unwrap();
    eventually(
        Duration::from_secs(60),
        "the manual job assigned",
        || async {
            let j = get(&api, &format!("/v1/jobs/{manual}")).await;
            (j["status"] == "assigned").then_some(())
        },
    )
    .await;
    let worker4 = account(&url, signer(4), stack.deployment.clone()).await;
    let uploads = BlobClient::new(&api, worker4.clone());
    // Bytes larger than one blob go to the secondary layer, for good: nothing left to reconcile.
    let large = uploads
        .upload(vec![7u8; MAX_PAYLOAD + 1].into())
        .await
        .unwrap();
    assert_eq!(large.kind, KIND_LOCAL);
    let status = get(&api, "/v1/status").await;
    assert_eq!(status["da"]["pending"], 0, "{status}");
    let data = b"bytes bound by the chain".to_vec();
    let blob = uploads.upload(data.clone().into()).await.unwrap();
    assert_eq!(blob.kind, KIND_EIP4844);
    assert_eq!(blob.commitment, eip4844::commitment(&data).unwrap());
    assert_eq!((blob.size, blob.locator.as_str()), (24, "eip4844"));

    let sender4 = stack.sender(4).await;
    let call = JobManager::submitResultCall {
        jobId: manual.0,
        daKind: KIND_EIP4844,
        commitment: blob.commitment,
        size: blob.size,
        locator: blob.locator.clone(),
    };
    // Attack: claim the blob without carrying it.
    let e = sender4
        .call(stack.deployment.job_manager, &call)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("BlobNotCarried"), "{e}");
    // Attack: carry another blob under the claimed commitment.
    let other = accord::chain::evm::blob::sidecar(b"some other bytes").unwrap();
    let e = sender4
        .send_blob(
            stack.deployment.job_manager,
            alloy::sol_types::SolCall::abi_encode(&call).into(),
            other,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("BlobNotCarried"), "{e}");
    // The worker's own tooling refuses bytes that do not make the reference's blob before sending anything.
    let e = ops::submit_result(
        &sender4,
        &stack.deployment,
        manual.0,
        &blob,
        Some(b"not the uploaded bytes"),
    )
    .await
    .unwrap_err();
    assert!(format!("{e:#}").contains("not the reference's"), "{e:#}");
    assert_eq!(
        get(&api, &format!("/v1/jobs/{manual}")).await["status"],
        "assigned"
    );
    let receipt = ops::submit_result(&sender4, &stack.deployment, manual.0, &blob, Some(&data))
        .await
        .unwrap();
    // A type-3 transaction whose only blob is the result.
    let tx = stack
        .sender(0)
        .await
        .provider()
        .get_transaction_by_hash(receipt.transaction_hash)
        .await
        .unwrap()
        .unwrap();
    let tx_json = serde_json::to_value(&tx).unwrap();
    assert_eq!(tx_json["type"], "0x3", "{tx_json}");
    assert_eq!(
        tx_json["blobVersionedHashes"],
        serde_json::json!([blob.commitment])
    );
    assert!(receipt.blob_gas_used.unwrap_or_default() > 0);

    // The agent's path: worker 3 (capability 1) runs a job; its result goes out as a blob.
    stack.worker(3, 1, 200).await;
    let state = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let agent = Arc::new(
        Agent::new(
            AgentConfig {
                api_url: api.clone(),
                capacity: 1,
                heartbeat_every: Duration::from_millis(300),
                poll_every: Duration::from_millis(200),
                state_dir: state.path().to_path_buf(),
                runner: Runner::new(Isolation::Unconfined, Duration::from_secs(10), 4096),
                corrupt_results: false,
            },
            account(&url, signer(3), stack.deployment.clone()).await,
        )
        .await
        .unwrap(),
    );
    let running = tokio::spawn(agent.run(cancel.clone()));
    let (id, _) = client.post_job(&job(1, "hello blob")).await.unwrap();
    let detail = eventually(Duration::from_secs(120), "the agent's result", || async {
        let j = get(&api, &format!("/v1/jobs/{id}")).await;
        (j["status"] == "submitted").then_some(j)
    })
    .await;
    let expected = b"hello blob\n".to_vec();
    let r = &detail["results"][0];
    assert_eq!(r["da_kind"], 3, "{detail}");
    assert_eq!(
        r["commitment"],
        eip4844::commitment(&expected).unwrap().to_string()
    );
    // The agent kept the bytes only until its transaction was mined (it removes them once it has the receipt,
    // which can be just after the indexer saw the result).
    let kept = state.path().join("blobs");
    let started = std::time::Instant::now();
    while kept.exists() && std::fs::read_dir(&kept).unwrap().next().is_some() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "the agent still keeps the blob's bytes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // Served from the archive, checked against the chain's versioned hash.
    let (status, source, body) = result(&api, id).await;
    assert_eq!((status, source.as_str()), (200, "archive"));
    assert_eq!(body, expected);
    // Attack on the archive: corrupted bytes are never served; the chain's blob, fetched from the beacon API
    // and checked the same way, is.
    let sha = accord::da::sha256(&expected).to_string();
    sqlx::query("UPDATE da_archive SET data = $1 WHERE sha256 = $2")
        .bind(b"hello blo!\n".to_vec())
        .bind(&sha)
        .execute(&db)
        .await
        .unwrap();
    let (status, source, body) = result(&api, id).await;
    assert_eq!((status, source.as_str()), (200, "layer"));
    assert_eq!(body, expected);
    // Lost from the archive altogether: the same.
    sqlx::query("DELETE FROM da_archive WHERE sha256 = $1")
        .bind(&sha)
        .execute(&db)
        .await
        .unwrap();
    let (status, source, body) = result(&api, id).await;
    assert_eq!((status, source.as_str()), (200, "layer"));
    assert_eq!(body, expected);
    // The manual result too, by its own block.
    let (status, source, body) = result(&api, manual).await;
    assert_eq!((status, source.as_str()), (200, "archive"));
    assert_eq!(body, data);

    cancel.cancel();
    running.await.unwrap().unwrap();
    drop(coordinator);
}
