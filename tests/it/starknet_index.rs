//! A Starknet deployment indexed into PostgreSQL and served by the REST API: starknet-devnet, the Cairo
//! contracts, a real coordinator (indexer + API) and a throwaway PostgreSQL.

use std::time::Duration;

use accord::chain::starknet::bindings::{jobs, registry, token};
use accord::config::Config;
use accord::deployment::Manifest;
use accord::domain::Family;
use accord::pg::TempCluster;
use cainome::cairo_serde::{ByteArray, ContractAddress, U256};
use serde_json::Value;
use starknet::accounts::Account;
use starknet::core::types::Felt;

use crate::stack::{eventually, get};
use crate::starknet_contracts::send;
use crate::utils::StarknetNet;

pub(crate) const E18: u128 = 1_000_000_000_000_000_000;

pub(crate) fn u256(v: u128) -> U256 {
    U256 { low: v, high: 0 }
}

/// The Starknet normal form of an address.
fn normal(a: Felt) -> String {
    format!("{a:#066x}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_starknet_deployment_is_indexed_and_served_like_an_evm_one() {
    let net = StarknetNet::start().await;
    let (client, coordinator, worker) = (&net.signers[0], &net.signers[1], &net.signers[3]);
    let (token_at, registry_at, jobs_at) = (
        net.address("AccordToken"),
        net.address("WorkerRegistry"),
        net.address("JobManager"),
    );
    let tok = token::AccordToken::new(token_at, client);
    send(
        client,
        vec![tok.transfer_getcall(&ContractAddress(worker.address()), &u256(500 * E18))],
    )
    .await;
    let reg = registry::WorkerRegistry::new(registry_at, worker);
    send(
        worker,
        vec![
            reg.register_getcall(&5, &ByteArray::from_string("https://w.example").unwrap()),
            token::AccordToken::new(token_at, worker)
                .approve_getcall(&ContractAddress(registry_at), &u256(150 * E18)),
            reg.stake_getcall(&u256(150 * E18)),
        ],
    )
    .await;
    let jm = jobs::JobManager::new(jobs_at, client);
    send(
        client,
        vec![
            tok.approve_getcall(&ContractAddress(jobs_at), &u256(20 * E18)),
            jm.post_job_getcall(
                &u256(0xfeed),
                &ByteArray::from_string("ipfs://spec-1").unwrap(),
                &1,
                &u256(8 * E18),
                &4_000_000_000,
                &2,
            ),
            jm.post_job_getcall(
                &u256(0xbeef),
                &ByteArray::from_string("ipfs://spec-2").unwrap(),
                &1,
                &u256(12 * E18),
                &4_000_000_000,
                &1,
            ),
        ],
    )
    .await;
    let jm_c = jobs::JobManager::new(jobs_at, coordinator);
    send(
        coordinator,
        vec![jm_c.assign_batch_getcall(&vec![1], &vec![ContractAddress(worker.address())])],
    )
    .await;
    let jm_w = jobs::JobManager::new(jobs_at, worker);
    send(
        worker,
        vec![jm_w.submit_result_getcall(
            &1,
            &1,
            &u256(0xabc),
            &5,
            &ByteArray::from_string("local:r1").unwrap(),
        )],
    )
    .await;
    send(
        client,
        vec![jm.accept_result_getcall(&1), jm.cancel_job_getcall(&2)],
    )
    .await;

    // The coordinator indexes the deployment from its manifest, found by the node's chain id.
    let cluster = TempCluster::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = Manifest::path_for(dir.path(), net.manifest.chain_id);
    std::fs::write(&path, serde_json::to_string_pretty(&net.manifest).unwrap()).unwrap();
    let mut config = Config::default();
    config.chain.family = Family::Starknet;
    config.chain.rpc_url = net.devnet.url.clone();
    config.chain.deployments_dir = dir.path().to_path_buf();
    config.database.url = cluster.create_database("starknet").await.unwrap();
    config.api.listen = "127.0.0.1:0".parse().unwrap();
    config.indexer.poll_interval_ms = 100;
    let mut running = accord::coordinator::Coordinator::start(config, None)
        .await
        .unwrap();
    running.wait_ready(Duration::from_secs(60)).await.unwrap();
    let api = format!("http://{}", running.api_addr);

    let status = get(&api, "/v1/status").await["chains"][0].clone();
    assert_eq!(status["family"], "starknet", "{status}");
    assert_eq!(status["chain_id"], net.manifest.chain_id, "{status}");

    let paid = get(&api, "/v1/jobs/1").await;
    assert_eq!(paid["status"], "paid", "{paid}");
    assert_eq!(paid["client"], normal(client.address()), "{paid}");
    assert_eq!(paid["worker"], normal(worker.address()), "{paid}");
    assert_eq!(paid["spec_uri"], "ipfs://spec-1", "{paid}");
    assert_eq!(paid["reward"], (8 * E18).to_string(), "{paid}");
    let cancelled = get(&api, "/v1/jobs/2").await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");

    let w = get(&api, &format!("/v1/workers/{}", normal(worker.address()))).await;
    assert_eq!(w["stake"], (150 * E18).to_string(), "{w}");
    assert_eq!(w["capabilities"], 5, "{w}");

    // /v1/events keeps the Cairo names and forms; the streams are the protocol's.
    let events = get(&api, "/v1/events?stream=job:1").await;
    let names: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["JobPosted", "JobAssigned", "ResultSubmitted", "JobPaid"],
        "{events}"
    );
    let posted: &Value = &events["items"][0];
    assert_eq!(posted["args"]["job_id"], "1", "{posted}");
    assert_eq!(posted["args"]["spec_uri"], "ipfs://spec-1", "{posted}");

    // New events keep arriving: a third job shows up once indexed.
    send(
        client,
        vec![
            tok.approve_getcall(&ContractAddress(jobs_at), &u256(E18)),
            jm.post_job_getcall(
                &u256(1),
                &ByteArray::from_string("ipfs://spec-3").unwrap(),
                &0,
                &u256(E18),
                &4_000_000_000,
                &1,
            ),
        ],
    )
    .await;
    eventually(Duration::from_secs(20), "job 3 indexed", || {
        let api = api.clone();
        async move {
            let job = get(&api, "/v1/jobs/3").await;
            (job["status"] == "open").then_some(())
        }
    })
    .await;
    running.shutdown().await.unwrap();
}

/// Writes `net`'s manifest into a fresh deployments folder and returns a coordinator configuration for it.
pub(crate) async fn starknet_config(
    net: &StarknetNet,
    cluster: &TempCluster,
    dir: &std::path::Path,
) -> Config {
    let path = Manifest::path_for(dir, net.manifest.chain_id);
    std::fs::write(&path, serde_json::to_string_pretty(&net.manifest).unwrap()).unwrap();
    let mut config = Config::default();
    config.chain.family = Family::Starknet;
    config.chain.rpc_url = net.devnet.url.clone();
    config.chain.deployments_dir = dir.to_path_buf();
    config.database.url = cluster.create_database("starknet").await.unwrap();
    config.api.listen = "127.0.0.1:0".parse().unwrap();
    config.indexer.poll_interval_ms = 100;
    config.scheduler.poll_interval_ms = 100;
    config.scheduler.leader_retry_ms = 200;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_starknet_wallets_post_and_work_and_the_scheduler_assigns_to_a_heartbeating_worker() {
    use accord::chain::account::{
        Account as _, ClientActions, GovernanceActions, NewJob, Proposal, Settle, WorkerActions,
    };
    use accord::domain::{Amount, BlobRef, U256 as DU256};
    use accord::offchain::{Heartbeat, Message};

    let net = StarknetNet::start().await;
    let client = net.wallet(0).await;
    let worker = net.wallet(3).await;
    let stranger = net.wallet(4).await;
    let tok = token::AccordToken::new(net.address("AccordToken"), &net.signers[0]);
    send(
        &net.signers[0],
        vec![tok.transfer_getcall(&ContractAddress(net.signers[3].address()), &u256(500 * E18))],
    )
    .await;
    assert!(
        worker
            .register(1, "https://w.example")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        worker
            .register(1, "https://w.example")
            .await
            .unwrap()
            .is_none(),
        "registered once"
    );
    worker
        .stake(Amount(DU256::from(150u64) * DU256::from(E18)))
        .await
        .unwrap();

    // A coordinator that schedules with account 1 (COORDINATOR_ROLE).
    let cluster = TempCluster::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = starknet_config(&net, &cluster, dir.path()).await;
    let key = accord::chain::CoordinatorKey::Starknet {
        account: net.signers[1].address(),
        key: starknet::signers::SigningKey::from_secret_scalar(net.keys[1]),
    };
    let mut running = accord::coordinator::Coordinator::start(config, Some(key))
        .await
        .unwrap();
    running.wait_ready(Duration::from_secs(60)).await.unwrap();
    let api = format!("http://{}", running.api_addr);
    eventually(Duration::from_secs(20), "the worker indexed", || {
        let api = api.clone();
        let w = worker.address().to_string();
        async move {
            (get(&api, &format!("/v1/workers/{w}")).await["stake"] != Value::Null).then_some(())
        }
    })
    .await;

    // A SNIP-12 heartbeat, verified by the worker's account contract; a stranger cannot sign for it.
    let beat = Heartbeat {
        worker: worker.address(),
        capacity: 2,
        timestamp: accord::offchain::unix_now(),
    };
    let post = |signature: Vec<u8>| {
        let api = api.clone();
        let beat = beat.clone();
        async move {
            let body = serde_json::json!({
                "worker": beat.worker.to_string(),
                "capacity": beat.capacity,
                "timestamp": beat.timestamp,
                "signature": format!("0x{}", alloy::hex::encode(signature)),
            });
            crate::stack::post_heartbeat(&api, &body).await
        }
    };
    let forged = accord::chain::starknet::offchain::sign(
        &starknet::signers::SigningKey::from_secret_scalar(net.keys[4]),
        Message::Heartbeat(&beat),
        "SN_SEPOLIA",
        net.address("WorkerRegistry"),
    )
    .unwrap();
    let (status, body) = post(forged).await;
    assert_eq!(
        status, 401,
        "a stranger's key is refused by the account contract: {body}"
    );
    assert!(
        stranger.sign(Message::Heartbeat(&beat)).is_err(),
        "a wallet signs only as itself"
    );
    // An unregistered account is refused before its account contract is asked anything.
    let own = Heartbeat {
        worker: stranger.address(),
        capacity: 1,
        timestamp: accord::offchain::unix_now(),
    };
    let signed = stranger.sign(Message::Heartbeat(&own)).unwrap();
    let body = serde_json::json!({
        "worker": own.worker.to_string(),
        "capacity": own.capacity,
        "timestamp": own.timestamp,
        "signature": format!("0x{}", alloy::hex::encode(signed)),
    });
    let (status, body) = crate::stack::post_heartbeat(&api, &body).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = post(worker.sign(Message::Heartbeat(&beat)).unwrap()).await;
    assert_eq!(status, 202, "{body}");

    // An upload is checked against the index (registered, staked, holding an assignment) before the account
    // contract is asked about its signature: a forged signature for an address that may not upload now is
    // refused 403 without a call to the node (it would be 401 after one).
    let upload = |who: String, signature: Vec<u8>| {
        let api = api.clone();
        async move {
            let data = b"abc".to_vec();
            let r = reqwest::Client::new()
                .post(format!("{api}/v1/blobs"))
                .header("X-Accord-Worker", who)
                .header(
                    "X-Accord-Timestamp",
                    accord::offchain::unix_now().to_string(),
                )
                .header("X-Accord-Sha256", accord::da::sha256(&data).to_string())
                .header("X-Accord-Signature", alloy::hex::encode_prefixed(signature))
                .body(data)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let forged_sig = accord::chain::starknet::offchain::sign(
        &starknet::signers::SigningKey::from_secret_scalar(net.keys[4]),
        Message::Heartbeat(&beat),
        "SN_SEPOLIA",
        net.address("WorkerRegistry"),
    )
    .unwrap();
    let (status, body) = upload(stranger.address().to_string(), forged_sig.clone()).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("is not registered"), "{body}");
    let (status, body) = upload(worker.address().to_string(), forged_sig).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("holds no assignment"), "{body}");

    // The client posts through its wallet (approve + post in one multicall); the scheduler assigns it.
    let job = NewJob {
        spec: accord::spec::JobSpec::new(vec!["echo".into(), "hi".into()]),
        reward: Amount(DU256::from(5u64) * DU256::from(E18)),
        deadline_in: Duration::from_secs(7200),
        capabilities: 1,
        max_attempts: 2,
    };
    let (id, posted) = client.post_job(&job).await.unwrap();
    let assigned = eventually(Duration::from_secs(30), "the job assigned", || {
        let worker = &worker;
        async move {
            worker
                .job(id)
                .await
                .ok()
                .filter(|j| j.assigned_to(&worker.address()))
        }
    })
    .await;
    assert_eq!(assigned.worker, worker.address());

    // The worker reads the spec from its own node, submits; the client accepts.
    let (uri, _hash) = worker.posted_spec(id, posted.block.unwrap()).await.unwrap();
    assert!(uri.starts_with("data:application/json;base64,"), "{uri}");
    let blob = BlobRef {
        kind: 1,
        commitment: alloy::primitives::B256::repeat_byte(7),
        size: 3,
        locator: "accord:sha256:07".into(),
    };
    worker.submit_result(id, &blob, None).await.unwrap();
    client.settle(id, Settle::Accept).await.unwrap();
    eventually(Duration::from_secs(20), "the job paid in the index", || {
        let api = api.clone();
        async move { (get(&api, &format!("/v1/jobs/{id}")).await["status"] == "paid").then_some(()) }
    })
    .await;

    // A dispute through the wallet approves and escrows the bond (10% of the reward) in the same multicall.
    let (disputed, _) = client.post_job(&job).await.unwrap();
    eventually(Duration::from_secs(30), "the second job assigned", || {
        let worker = &worker;
        async move {
            worker
                .job(disputed)
                .await
                .ok()
                .filter(|j| j.assigned_to(&worker.address()))
        }
    })
    .await;
    worker.submit_result(disputed, &blob, None).await.unwrap();
    client.settle(disputed, Settle::Dispute).await.unwrap();
    let bond = jobs::JobManagerReader::new(
        net.address("JobManager"),
        starknet::accounts::ConnectedAccount::provider(&net.signers[0]),
    )
    .dispute_bond_of(&disputed.0.to::<u64>())
    .call()
    .await
    .unwrap();
    assert_eq!(
        (bond.low, bond.high),
        (E18 / 2, 0),
        "10% of the 5-token reward"
    );

    // The governor's proposal id, computed off chain, is the one the contract computes.
    let call = client
        .parameter_call("minStake", Amount(DU256::from(200u64) * DU256::from(E18)))
        .unwrap();
    let proposal = Proposal {
        calls: vec![call],
        description: "Raise the minimum stake".into(),
    };
    client.delegate(None).await.unwrap();
    let id = client.propose(&proposal).await.unwrap();
    assert_eq!(id, client.proposal_id(&proposal).unwrap());
    running.shutdown().await.unwrap();
}
