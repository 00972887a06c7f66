//! The end-to-end scenario on anvil and starknet-devnet at once, through one coordinator, one PostgreSQL and one
//! API: on each chain a client posts jobs, the scheduler assigns them, two worker agents run them and publish
//! the output to the DA layer, a third worker takes a job and goes silent (its assignment expires, it is
//! slashed, the job is re-run by another), unchallenged results are finalized, one is accepted, rewards are
//! paid, and a governance proposal raises the minimum stake above one agent's stake, which is assigned nothing
//! afterwards. The same code drives both chains through the chain-agnostic `Wallet`; the REST answers are
//! checked to have the same shape on both.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use accord::chain::CoordinatorKey;
use accord::chain::account::{NewJob, Proposal, Settle, Support, Wallet, parse_tokens};
use accord::config::{ChainConfig, Config};
use accord::domain::{Amount, Family};
use accord::offchain::{Heartbeat, Message, unix_now};
use accord::pg::TempCluster;
use accord::spec::JobSpec;
use accord::worker::agent::{Agent, AgentConfig};
use accord::worker::exec::Runner;
use accord::worker::sandbox::{Bubblewrap, Isolation};
use serde_json::{Value, json};
use starknet::accounts::Account as _;
use tokio_util::sync::CancellationToken;

use crate::stack::{eventually, get, signer};
use crate::utils::{Devnet, StarknetNet, devnet_key};

/// Jobs the client posts before the vote.
const JOBS: usize = 6;
/// One token, base units.
const E18: u128 = 1_000_000_000_000_000_000;

/// Moves a chain's clock.
enum Clock<'a> {
    Anvil(&'a Devnet),
    Starknet(&'a StarknetNet),
}

impl Clock<'_> {
    /// Moves the clock forward by `seconds` and mines `blocks` blocks (one on Starknet, whose governor counts
    /// seconds, not blocks).
    async fn advance(&self, seconds: u64, blocks: u64) {
        match self {
            Clock::Anvil(d) => d.advance(seconds, blocks).await,
            Clock::Starknet(n) => n.devnet.increase_time(seconds).await.unwrap(),
        }
    }
}

/// One chain's side of the scenario.
struct Side<'a> {
    /// The chain's CAIP-2 name.
    chain: String,
    /// Holds the token supply: posts the jobs and votes.
    client: Arc<dyn Wallet>,
    /// Two worker agents: the first stakes 200, the second 100 (the minimum until the vote).
    agents: [Arc<dyn Wallet>; 2],
    /// Heartbeats until it holds a job, then goes silent.
    silent: Arc<dyn Wallet>,
    clock: Clock<'a>,
}

/// GETs `path` for `chain` (the chain filter appended).
async fn on(api: &str, chain: &str, path: &str) -> Value {
    get(api, &accord::remote::with_chain(path, Some(chain))).await
}

async fn jobs(api: &str, chain: &str) -> Vec<Value> {
    let page = on(api, chain, "/v1/jobs?limit=100").await;
    page["items"].as_array().cloned().unwrap_or_default()
}

fn count(jobs: &[Value], status: &str) -> usize {
    jobs.iter().filter(|j| j["status"] == status).count()
}

/// The shape of a JSON value: its object keys, recursively (arrays by their first item), not its values.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.first().map(shape).into_iter().collect()),
        _ => Value::Null,
    }
}

/// Posts a heartbeat of `wallet` (capacity 1) for `chain` every 500 ms while `alive`. A heartbeat refused
/// because the registration is not indexed yet, or over the rate limit, is sent again at the next tick.
async fn beat_while(api: String, chain: String, wallet: Arc<dyn Wallet>, alive: Arc<AtomicBool>) {
    let http = reqwest::Client::new();
    while alive.load(Ordering::SeqCst) {
        let beat = Heartbeat {
            worker: wallet.address(),
            capacity: 1,
            timestamp: unix_now(),
        };
        let sig = wallet.sign(Message::Heartbeat(&beat)).unwrap();
        let body = json!({
            "chain": chain,
            "worker": beat.worker.as_str(),
            "capacity": 1,
            "timestamp": beat.timestamp,
            "signature": alloy::hex::encode_prefixed(&sig),
        });
        let r = http
            .post(format!("{api}/v1/heartbeats"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert!(
            matches!(status, 202 | 403 | 429),
            "{status}: {}",
            r.text().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// What a side's run leaves for the cross-chain checks: the REST answers whose shapes are compared.
struct Answers {
    job: Value,
    worker: Value,
    slash: Value,
    reward: Value,
    proposal: Value,
    params: Value,
}

/// The scenario on one chain.
async fn scenario(api: &str, side: Side<'_>, dir: &std::path::Path) -> Answers {
    let chain = side.chain.as_str();
    let cancel = CancellationToken::new();
    let isolation = Isolation::Bubblewrap(Bubblewrap::detect(None, false).await.unwrap());
    let mut agents = tokio::task::JoinSet::new();
    for (i, (wallet, stake)) in side.agents.iter().zip(["200", "100"]).enumerate() {
        wallet.register(1, "").await.unwrap();
        wallet.stake(parse_tokens(stake).unwrap()).await.unwrap();
        let config = AgentConfig {
            api_url: api.to_owned(),
            capacity: 2,
            heartbeat_every: Duration::from_secs(1),
            poll_every: Duration::from_millis(200),
            state_dir: dir.join(format!("{}-agent-{i}", side.chain.replace(':', "-"))),
            runner: Runner::new(isolation.clone(), Duration::from_secs(30), 64 * 1024),
            corrupt_results: false,
        };
        let agent = Arc::new(Agent::new(config, wallet.clone()).await.unwrap());
        let cancel = cancel.clone();
        agents.spawn(async move { agent.run(cancel).await.unwrap() });
    }
    side.silent.register(1, "").await.unwrap();
    side.silent
        .stake(parse_tokens("200").unwrap())
        .await
        .unwrap();
    let silent = side.silent.address().to_string();
    let alive = Arc::new(AtomicBool::new(true));
    let beats = tokio::spawn(beat_while(
        api.to_owned(),
        side.chain.clone(),
        side.silent.clone(),
        alive.clone(),
    ));

    let job = |text: &str| NewJob {
        spec: JobSpec::new(vec!["echo".into(), text.into()]),
        reward: parse_tokens("2").unwrap(),
        deadline_in: Duration::from_secs(86_400),
        capabilities: 1,
        max_attempts: 3,
    };
    // Every worker is registered in the index and alive before the jobs arrive.
    for w in side.agents.iter().chain([&side.silent]) {
        let path = format!("/v1/workers/{}", w.address());
        eventually(
            Duration::from_secs(30),
            &format!("{chain}: {path}"),
            || async { (on(api, chain, &path).await["stake"] != Value::Null).then_some(()) },
        )
        .await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for _ in 0..JOBS {
        side.client.post_job(&job("accord-e2e")).await.unwrap();
    }

    // The silent worker goes quiet as soon as it holds a job.
    let silent_job = eventually(
        Duration::from_secs(90),
        &format!("{chain}: a job for the silent worker"),
        || async {
            jobs(api, chain)
                .await
                .into_iter()
                .find(|j| j["worker"] == silent.as_str() && j["status"] == "assigned")
                .map(|j| j["job_id"].as_str().unwrap().to_owned())
        },
    )
    .await;
    alive.store(false, Ordering::SeqCst);
    beats.await.unwrap();
    eventually(
        Duration::from_secs(120),
        &format!("{chain}: the other results submitted"),
        || async { (count(&jobs(api, chain).await, "submitted") == JOBS - 1).then_some(()) },
    )
    .await;
    // Past the heartbeat TTL the silent worker no longer counts as alive.
    tokio::time::sleep(Duration::from_secs(6)).await;

    // An hour later: the silent assignment is overdue and every challenge window has closed. The silent
    // worker's job is expired, slashed, reassigned and re-run; the client accepts that result.
    side.clock.advance(3_601, 1).await;
    eventually(
        Duration::from_secs(120),
        &format!("{chain}: the re-run result"),
        || async {
            let job = on(api, chain, &format!("/v1/jobs/{silent_job}")).await;
            (job["status"] == "submitted").then_some(())
        },
    )
    .await;
    side.client
        .settle(silent_job.parse().unwrap(), Settle::Accept)
        .await
        .unwrap();
    eventually(
        Duration::from_secs(120),
        &format!("{chain}: every job paid"),
        || async { (count(&jobs(api, chain).await, "paid") == JOBS).then_some(()) },
    )
    .await;
    let detail = on(api, chain, &format!("/v1/jobs/{silent_job}")).await;
    assert_eq!(detail["chain"], chain, "{detail:#}");
    let attempts = detail["assignments"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{detail:#}");
    assert_eq!(attempts[0]["worker"], silent.as_str());
    assert_eq!(attempts[0]["outcome"], "expired");
    assert_ne!(attempts[1]["worker"], silent.as_str());
    assert_eq!(attempts[1]["outcome"], "paid");
    let slashes = on(api, chain, &format!("/v1/slashes?worker={silent}")).await;
    assert_eq!(slashes["items"].as_array().unwrap().len(), 1, "{slashes}");
    let result = reqwest::get(format!(
        "{api}{}",
        accord::remote::with_chain(&format!("/v1/jobs/{silent_job}/result"), Some(chain))
    ))
    .await
    .unwrap();
    assert_eq!(result.status(), 200);
    assert_eq!(result.bytes().await.unwrap().as_ref(), b"accord-e2e\n");
    let rewards = on(api, chain, "/v1/rewards?limit=100").await;
    let rewards = rewards["items"].as_array().unwrap().clone();
    assert_eq!(rewards.len(), JOBS, "{rewards:?}");
    assert!(rewards.iter().all(|r| r["chain"] == chain), "{rewards:?}");

    // Governance raises the minimum stake to 150: the second agent (stake 100) gets nothing after that.
    let voter = &side.client;
    voter.delegate(None).await.unwrap();
    side.clock.advance(2, 1).await;
    let proposal = Proposal {
        calls: vec![
            voter
                .parameter_call("minStake", parse_tokens("150").unwrap())
                .unwrap(),
        ],
        description: format!("Raise the minimum stake to 150 on {chain}"),
    };
    let id = voter.propose(&proposal).await.unwrap();
    side.clock.advance(2, 2).await;
    voter.vote(id, Support::For).await.unwrap();
    side.clock.advance(25, 21).await;
    let proposal_path = format!("/v1/proposals/{id}");
    eventually(
        Duration::from_secs(60),
        &format!("{chain}: the proposal indexed as succeeded"),
        || async {
            let p = on(api, chain, &proposal_path).await;
            (p["state"] == "Succeeded").then_some(())
        },
    )
    .await;
    voter.queue(&proposal).await.unwrap();
    side.clock.advance(61, 1).await;
    voter.execute(&proposal).await.unwrap();
    let params = eventually(
        Duration::from_secs(60),
        &format!("{chain}: the new minimum indexed"),
        || async {
            let params = on(api, chain, "/v1/params").await;
            params
                .to_string()
                .contains(&(150 * E18).to_string())
                .then_some(params)
        },
    )
    .await;

    let mut late = BTreeSet::new();
    for _ in 0..4 {
        let (id, _) = side.client.post_job(&job("after-vote")).await.unwrap();
        late.insert(id.to_string());
    }
    let below = side.agents[1].address().to_string();
    let late_workers = eventually(
        Duration::from_secs(120),
        &format!("{chain}: the late jobs submitted"),
        || async {
            let all = jobs(api, chain).await;
            let late_jobs: Vec<&Value> = all
                .iter()
                .filter(|j| late.contains(j["job_id"].as_str().unwrap()))
                .collect();
            (late_jobs.len() == late.len() && late_jobs.iter().all(|j| j["status"] == "submitted"))
                .then(|| {
                    late_jobs
                        .iter()
                        .map(|j| j["worker"].as_str().unwrap().to_owned())
                        .collect::<Vec<_>>()
                })
        },
    )
    .await;
    assert!(
        late_workers.iter().all(|w| *w != below),
        "{chain}: the agent below the new minimum got a job: {late_workers:?}"
    );

    cancel.cancel();
    while agents.join_next().await.is_some() {}
    Answers {
        job: detail,
        worker: on(api, chain, &format!("/v1/workers/{silent}")).await,
        slash: slashes["items"][0].clone(),
        reward: rewards[0].clone(),
        proposal: on(api, chain, &proposal_path).await,
        params,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_chains_run_the_whole_scenario_through_one_coordinator() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let evm = Devnet::start();
    let sn = StarknetNet::start().await;
    let dir = tempfile::tempdir().unwrap();
    // One folder holds both manifests, each found by its node's chain id.
    let deployments = evm.deployments_dir().to_path_buf();
    std::fs::write(
        accord::deployment::Manifest::path_for(&deployments, sn.manifest.chain_id),
        serde_json::to_string_pretty(&sn.manifest).unwrap(),
    )
    .unwrap();

    // The token holder (account 0 on both) funds the workers: EVM accounts 3-5, Starknet accounts 3-5.
    let tokens = 300 * E18;
    let evm_workers: Vec<_> = (3..6).map(|i| signer(i).address()).collect();
    accord::chain::evm::devnet::fund(
        &evm.anvil.url,
        &evm.manifest,
        &devnet_key(0),
        &evm_workers
            .iter()
            .map(|a| accord::domain::Address::parse(Family::Evm, &format!("{a:#x}")).unwrap())
            .collect::<Vec<_>>(),
        Amount(alloy::primitives::U256::from(tokens)),
    )
    .await
    .unwrap();
    let sn_workers: Vec<_> = (3..6).map(|i| sn.signers[i].address()).collect();
    accord::chain::starknet::devnet::fund(&sn.signers[0], &sn.manifest, &sn_workers, tokens)
        .await
        .unwrap();

    let cluster = TempCluster::start().await.unwrap();
    let chains = vec![
        ChainConfig {
            family: Family::Evm,
            rpc_url: evm.anvil.url.clone(),
            deployments_dir: deployments.clone(),
            ..ChainConfig::default()
        },
        ChainConfig {
            family: Family::Starknet,
            rpc_url: sn.devnet.url.clone(),
            deployments_dir: deployments.clone(),
            ..ChainConfig::default()
        },
    ];
    let mut config = Config {
        chains,
        ..Config::default()
    };
    config.database.url = cluster.create_database("both").await.unwrap();
    config.api.listen = "127.0.0.1:0".parse().unwrap();
    config.indexer.poll_interval_ms = 100;
    config.scheduler.poll_interval_ms = 100;
    config.scheduler.leader_retry_ms = 200;
    config.scheduler.heartbeat_ttl_secs = 5;
    config.scheduler.refusal_backoff_secs = 2;
    let keys = [
        CoordinatorKey::from(signer(1)),
        CoordinatorKey::Starknet {
            account: sn.signers[1].address(),
            key: starknet::signers::SigningKey::from_secret_scalar(sn.keys[1]),
        },
    ];
    let mut coordinator = accord::coordinator::Coordinator::start(config, keys)
        .await
        .unwrap();
    coordinator
        .wait_ready(Duration::from_secs(60))
        .await
        .unwrap();
    let api = format!("http://{}", coordinator.api_addr);

    let evm_wallet = |i: u32| {
        let (url, manifest) = (evm.anvil.url.clone(), evm.manifest.clone());
        async move {
            accord::chain::evm::devnet::account(&url, &manifest, &devnet_key(i))
                .await
                .unwrap()
        }
    };
    let sn_ref = &sn;
    let sn_wallet = |i: usize| async move { Arc::new(sn_ref.wallet(i).await) as Arc<dyn Wallet> };
    let evm_side = Side {
        chain: "eip155:31337".into(),
        client: evm_wallet(0).await,
        agents: [evm_wallet(3).await, evm_wallet(4).await],
        silent: evm_wallet(5).await,
        clock: Clock::Anvil(&evm),
    };
    let sn_side = Side {
        chain: sn.manifest.caip2(),
        client: sn_wallet(0).await,
        agents: [sn_wallet(3).await, sn_wallet(4).await],
        silent: sn_wallet(5).await,
        clock: Clock::Starknet(&sn),
    };
    let (on_evm, on_starknet) = tokio::join!(
        scenario(&api, evm_side, dir.path()),
        scenario(&api, sn_side, dir.path())
    );

    // The same REST answers on both chains, field for field (the redundant-job parameters included).
    for key in ["consensusBps", "revealWindow"] {
        assert!(
            on_starknet.params["JobManager"].get(key).is_some(),
            "{key} missing on Starknet: {:#}",
            on_starknet.params
        );
    }
    for (what, a, b) in [
        ("job", &on_evm.job, &on_starknet.job),
        ("worker", &on_evm.worker, &on_starknet.worker),
        ("slash", &on_evm.slash, &on_starknet.slash),
        ("reward", &on_evm.reward, &on_starknet.reward),
        ("proposal", &on_evm.proposal, &on_starknet.proposal),
        ("params", &on_evm.params, &on_starknet.params),
    ] {
        assert_eq!(shape(a), shape(b), "{what}: {a:#} vs {b:#}");
    }
    // Ids are per chain: both chains have a job 1, each served under its own chain.
    let one_evm = on(&api, "eip155:31337", "/v1/jobs/1").await;
    let one_sn = on(&api, &sn.manifest.caip2(), "/v1/jobs/1").await;
    assert_eq!(one_evm["chain"], "eip155:31337");
    assert_eq!(one_sn["chain"], sn.manifest.caip2());
    assert_ne!(one_evm["client"], one_sn["client"]);
    // With two chains served, a detail without a chain is ambiguous and refused.
    let ambiguous = reqwest::get(format!("{api}/v1/jobs/1")).await.unwrap();
    assert_eq!(ambiguous.status(), 400);
    let status = get(&api, "/v1/status").await;
    let chains = status["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 2, "{status:#}");
    assert!(
        chains
            .iter()
            .all(|c| c["caught_up"] == true && c["lag"].is_u64()),
        "{status:#}"
    );
    coordinator.cancel_token().cancel();
    coordinator.wait().await.unwrap();
}
