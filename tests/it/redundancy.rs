//! Redundant jobs end to end on anvil and on starknet-devnet, with the real coordinator and real worker agents: a
//! 2-of-3 job goes to three distinct workers, one of whose agents is made to return a wrong result (its fault drill). The agents
//! commit, then reveal; the two that agree are paid, the third is slashed, and the API shows each replica's
//! phase and serves the agreed result, verified against its commitment.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use accord::chain::account::{ClientActions, NewJob, Settle, WorkerActions, parse_tokens};
use accord::spec::JobSpec;
use accord::worker::agent::{Agent, AgentConfig};
use accord::worker::exec::Runner;
use accord::worker::sandbox::Isolation;
use tokio_util::sync::CancellationToken;

use crate::stack::{Stack, account, eventually, get, signer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_three_pays_the_agreeing_and_slashes_the_dissenter() {
    let stack = Stack::start().await;
    let (coordinator, api) = stack.coordinator().await;
    for i in [3, 4, 5] {
        stack.worker(i, 1, 200).await;
    }
    stack.fund(8, 100).await;
    let url = stack.devnet.anvil.url.clone();
    let client = account(&url, signer(8), stack.deployment.clone()).await;
    let mut workers: Vec<Arc<dyn WorkerActions>> = Vec::new();
    for i in [3, 4, 5] {
        workers.push(account(&url, signer(i), stack.deployment.clone()).await);
    }
    two_of_three(&api, client.as_ref(), workers).await;
    coordinator.shutdown().await.unwrap();
}

/// The same on Starknet: the Cairo job manager's commit-reveal (poseidon seals), the Starknet coordinator
/// gathering the three replicas in one multicall, Starknet worker agents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_three_on_starknet_pays_the_agreeing_and_slashes_the_dissenter() {
    use starknet::accounts::Account as _;
    let net = crate::utils::StarknetNet::start().await;
    let cluster = accord::pg::TempCluster::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = crate::starknet_index::starknet_config(&net, &cluster, dir.path()).await;
    let key = accord::chain::CoordinatorKey::Starknet {
        account: net.signers[1].address(),
        key: starknet::signers::SigningKey::from_secret_scalar(net.keys[1]),
    };
    let mut coordinator = accord::coordinator::Coordinator::start(config, Some(key))
        .await
        .unwrap();
    coordinator
        .wait_ready(Duration::from_secs(60))
        .await
        .unwrap();
    let api = format!("http://{}", coordinator.api_addr);
    let client = net.wallet(0).await;
    let mut workers: Vec<Arc<dyn WorkerActions>> = Vec::new();
    for i in [3, 4, 5] {
        let holder = &net.signers[0];
        let tok = accord::chain::starknet::bindings::token::AccordToken::new(
            net.address("AccordToken"),
            holder,
        );
        crate::starknet_contracts::send(
            holder,
            vec![tok.transfer_getcall(
                &cainome::cairo_serde::ContractAddress(net.signers[i].address()),
                &cainome::cairo_serde::U256 {
                    low: 500 * 1_000_000_000_000_000_000,
                    high: 0,
                },
            )],
        )
        .await;
        let wallet = net.wallet(i).await;
        wallet.register(1, "").await.unwrap();
        wallet.stake(parse_tokens("200").unwrap()).await.unwrap();
        workers.push(Arc::new(wallet));
    }
    two_of_three(&api, &client, workers).await;
    coordinator.shutdown().await.unwrap();
}

/// A 2-of-3 job run by three real agents, the third made to return a wrong result (its fault drill), on the
/// chain of `client` and `workers` served by the coordinator at `api`.
async fn two_of_three(api: &str, client: &dyn ClientActions, workers: Vec<Arc<dyn WorkerActions>>) {
    let api = api.to_owned();
    let state = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let mut agents = Vec::new();
    let names: Vec<String> = workers.iter().map(|w| w.address().to_string()).collect();
    // The third agent appends a byte to every result it publishes: its replica dissents.
    for (i, worker) in workers.into_iter().enumerate() {
        let config = AgentConfig {
            api_url: api.clone(),
            capacity: 1,
            heartbeat_every: Duration::from_millis(300),
            poll_every: Duration::from_millis(200),
            state_dir: state.path().join(i.to_string()),
            runner: Runner::new(Isolation::Unconfined, Duration::from_secs(10), 4096),
            corrupt_results: i == 2,
        };
        let agent = Arc::new(Agent::new(config, worker).await.unwrap());
        agents.push(tokio::spawn(agent.run(cancel.clone())));
    }
    let address = |i: u32| names[i as usize - 3].clone();

    let job = NewJob {
        spec: JobSpec::new(vec!["echo".into(), "the same answer".into()]),
        reward: parse_tokens("10").unwrap(),
        deadline_in: Duration::from_secs(3_600),
        capabilities: 1,
        max_attempts: 1,
    };
    let (id, _) = client.post_redundant_job(&job, 3, 0).await.unwrap();
    let detail = eventually(Duration::from_secs(120), "the consensus", || async {
        let j = get(&api, &format!("/v1/jobs/{id}")).await;
        (j["status"] == "submitted").then_some(j)
    })
    .await;
    assert_eq!(
        (&detail["redundancy"], &detail["threshold"]),
        (&serde_json::json!(3), &serde_json::json!(2)),
        "{detail:#}"
    );
    let replicas: BTreeMap<String, (String, String)> = detail["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["worker"].as_str().unwrap().to_owned(),
                (
                    a["outcome"].as_str().unwrap().to_owned(),
                    a["slashed"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect();
    assert_eq!(replicas.len(), 3, "three distinct workers: {detail:#}");
    assert_eq!(replicas[&address(3)].0, "agreed", "{detail:#}");
    assert_eq!(replicas[&address(4)].0, "agreed", "{detail:#}");
    assert_eq!(replicas[&address(5)].0, "dissented", "{detail:#}");
    assert_eq!(
        replicas[&address(5)].1,
        "0",
        "slashed only once the result stands"
    );
    // The agreed result is served, verified against the consensus commitment: the honest bytes.
    let result = reqwest::get(format!("{api}/v1/jobs/{id}/result"))
        .await
        .unwrap();
    assert_eq!(result.status(), 200);
    assert_eq!(result.bytes().await.unwrap().as_ref(), b"the same answer\n");

    // Placement over the three live workers: all three for rf 3, and rf 2 is its first two.
    let three = get(&api, &format!("/v1/placement/{id}?rf=3")).await;
    assert_eq!(three["candidates"], 3, "{three:#}");
    let mut placed: Vec<&str> = three["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["address"].as_str().unwrap())
        .collect();
    let two = get(&api, &format!("/v1/placement/{id}?rf=2")).await;
    assert_eq!(
        two["workers"].as_array().unwrap()[..],
        three["workers"].as_array().unwrap()[..2]
    );
    placed.sort_unstable();
    let mut all = vec![address(3), address(4), address(5)];
    all.sort_unstable();
    assert_eq!(placed, all);
    for bad in [
        "/v1/placement/a%20b",
        "/v1/placement/1?rf=0",
        "/v1/placement/1?rf=17",
    ] {
        let r = reqwest::get(format!("{api}{bad}")).await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }

    client.settle(id, Settle::Accept).await.unwrap();
    let detail = eventually(Duration::from_secs(60), "the payment", || async {
        let j = get(&api, &format!("/v1/jobs/{id}")).await;
        (j["status"] == "paid").then_some(j)
    })
    .await;
    let mut paid: Vec<&str> = detail["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "reward")
        .map(|p| p["recipient"].as_str().unwrap())
        .collect();
    paid.sort_unstable();
    let mut agreeing = vec![address(3), address(4)];
    agreeing.sort_unstable();
    assert_eq!(paid, agreeing, "{detail:#}");
    // With the result accepted, the dissenter is slashed, to the treasury.
    let slashes = detail["slashes"].as_array().unwrap();
    assert_eq!(slashes.len(), 1, "{detail:#}");
    assert_eq!(slashes[0]["worker"], address(5));
    let dissenter = detail["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["worker"] == address(5))
        .unwrap();
    assert_eq!(dissenter["outcome"], "dissented");
    assert_ne!(dissenter["slashed"], "0", "{detail:#}");
    assert!(
        detail["payments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["kind"] == "compensation")
            .all(|p| p["amount"] == "0"),
        "a dissent compensates nobody: {detail:#}"
    );
    // The API lists no replica at work any more.
    let open = get(&api, &format!("/v1/jobs?replica={}", address(3))).await;
    assert_eq!(open["items"], serde_json::json!([]));

    // A job whose output changes from run to run: each agent runs its replica twice, sees two outputs and
    // declines (the decline fee) instead of revealing into a dissent slash.
    let random = NewJob {
        spec: JobSpec::new(vec![
            "sh".into(),
            "-c".into(),
            "od -An -N16 -tx1 /dev/urandom".into(),
        ]),
        ..job
    };
    let (id, _) = client.post_redundant_job(&random, 3, 0).await.unwrap();
    let detail = eventually(
        Duration::from_secs(120),
        "three declined replicas",
        || async {
            let j = get(&api, &format!("/v1/jobs/{id}")).await;
            let outcomes: Vec<String> = j["assignments"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|a| a["outcome"].as_str().unwrap_or_default().to_owned())
                .collect();
            (outcomes.len() == 3 && outcomes.iter().all(|o| o == "declined")).then_some(j)
        },
    )
    .await;
    // The decline fee only, 1% of the 10-token reward on both devnets: no fault slash.
    assert!(
        detail["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["slashed"] == "100000000000000000"),
        "a decline costs the decline fee, not a fault: {detail:#}"
    );

    cancel.cancel();
    for a in agents {
        a.await.unwrap().unwrap();
    }
}
