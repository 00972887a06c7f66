//! The worker agent against a real anvil, PostgreSQL and coordinator: it runs an assigned job once, and after a
//! restart it neither runs nor submits it again; an output published before a crash is submitted without
//! running the command again; a job that cannot run is declined on chain for the decline fee only.

use std::sync::Arc;
use std::time::Duration;

use accord::chain::account::{NewJob, parse_tokens};
use accord::chain::evm::ops;
use accord::da::client::BlobClient;
use accord::spec::JobSpec;
use accord::worker::agent::{Agent, AgentConfig};
use accord::worker::exec::Runner;
use accord::worker::sandbox::Isolation;
use tokio_util::sync::CancellationToken;

use crate::stack::{Stack, account, eventually, get, signer};

/// The restart test counts runs in a file outside the job's scratch folder, which only an unconfined job can
/// write: containment itself is tested in `sandbox.rs`.
fn agent_config(api: &str, dir: &std::path::Path) -> AgentConfig {
    AgentConfig {
        api_url: api.to_owned(),
        capacity: 2,
        heartbeat_every: Duration::from_millis(500),
        poll_every: Duration::from_millis(200),
        state_dir: dir.to_path_buf(),
        runner: Runner::new(Isolation::Unconfined, Duration::from_secs(10), 4096),
        corrupt_results: false,
    }
}

/// Runs an agent for worker 3 until `until` resolves, then stops it.
async fn run_agent<F: std::future::Future<Output = ()>>(
    stack: &Stack,
    api: &str,
    dir: &std::path::Path,
    until: F,
) {
    let worker = account(&stack.devnet.anvil.url, signer(3), stack.deployment.clone()).await;
    let agent = Arc::new(Agent::new(agent_config(api, dir), worker).await.unwrap());
    let cancel = CancellationToken::new();
    let task = tokio::spawn(agent.run(cancel.clone()));
    until.await;
    cancel.cancel();
    task.await.unwrap().unwrap();
}

fn lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_agent_neither_repeats_nor_loses_a_submission() {
    let stack = Stack::start().await;
    let (coordinator, api) = stack.coordinator().await;
    stack.worker(3, 1, 200).await;
    stack.fund(8, 100).await;
    let client = stack.sender(8).await;
    let state = tempfile::tempdir().unwrap();
    let runs = state.path().join("runs.log");
    let job = NewJob {
        spec: JobSpec::new(vec![
            "sh".into(),
            "-c".into(),
            format!("echo run >> {}; echo result", runs.display()),
        ]),
        reward: parse_tokens("1").unwrap(),
        deadline_in: Duration::from_secs(3_600),
        capabilities: 1,
        max_attempts: 1,
    };

    // First life: the job is run once and submitted.
    let (first, _) = ops::post_job(&client, &stack.deployment, &job)
        .await
        .unwrap();
    run_agent(&stack, &api, state.path(), async {
        eventually(Duration::from_secs(60), "the first result", || async {
            let j = get(&api, &format!("/v1/jobs/{first}")).await;
            (j["status"] == "submitted").then_some(())
        })
        .await;
    })
    .await;
    assert_eq!(lines(&runs), 1);

    // Second life on the same state: nothing runs again, nothing is submitted again.
    run_agent(&stack, &api, state.path(), async {
        tokio::time::sleep(Duration::from_secs(2)).await;
    })
    .await;
    assert_eq!(lines(&runs), 1, "the job ran again after a restart");
    let detail = get(&api, &format!("/v1/jobs/{first}")).await;
    assert_eq!(detail["results"].as_array().unwrap().len(), 1, "{detail:#}");

    // A crash between publishing and submitting: the state file holds the published blob only. The restarted
    // agent submits that blob without running the command.
    let (second, _) = ops::post_job(&client, &stack.deployment, &job)
        .await
        .unwrap();
    eventually(Duration::from_secs(30), "the second assignment", || async {
        let j = get(&api, &format!("/v1/jobs/{second}")).await;
        (j["status"] == "assigned").then_some(())
    })
    .await;
    let uploader = BlobClient::new(
        &api,
        account(&stack.devnet.anvil.url, signer(3), stack.deployment.clone()).await,
    );
    let published = uploader
        .upload(bytes::Bytes::from_static(b"published before the crash\n"))
        .await
        .unwrap();
    let ledger = state
        .path()
        .join(format!("worker-{:#x}.json", signer(3).address()));
    let mut entries: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&ledger).unwrap()).unwrap();
    entries[format!("{second}:1")] = serde_json::json!({"blob": published});
    std::fs::write(&ledger, serde_json::to_vec(&entries).unwrap()).unwrap();
    run_agent(&stack, &api, state.path(), async {
        eventually(Duration::from_secs(60), "the second result", || async {
            let j = get(&api, &format!("/v1/jobs/{second}")).await;
            (j["status"] == "submitted").then_some(())
        })
        .await;
    })
    .await;
    assert_eq!(lines(&runs), 1, "the published job ran again");
    let detail = get(&api, &format!("/v1/jobs/{second}")).await;
    assert_eq!(
        detail["results"][0]["commitment"],
        format!("{:#x}", published.commitment),
        "{detail:#}"
    );
    coordinator.shutdown().await.unwrap();
}

/// A coordinator that lies: a proxy in front of the real API rewrites every assignment it lists, pointing the
/// spec at a command of the attacker's (the fields the API serves) and, for one job, the block it was posted
/// in. The agent reads the spec from the chain's `JobPosted` event: it runs the client's command, and for the
/// job whose block is wrong it finds no event and runs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_coordinator_cannot_choose_what_the_worker_runs() {
    let stack = Stack::start().await;
    let (coordinator, api) = stack.coordinator().await;
    stack.worker(3, 1, 200).await;
    stack.fund(8, 100).await;
    let client = stack.sender(8).await;
    let job = |text: &str| NewJob {
        spec: JobSpec::new(vec!["echo".into(), text.into()]),
        reward: parse_tokens("1").unwrap(),
        deadline_in: Duration::from_secs(3_600),
        capabilities: 1,
        max_attempts: 1,
    };
    let (honest, _) = ops::post_job(&client, &stack.deployment, &job("client-command"))
        .await
        .unwrap();
    let (misplaced, _) = ops::post_job(&client, &stack.deployment, &job("second"))
        .await
        .unwrap();
    let (evil_uri, evil_hash) = JobSpec::new(vec!["echo".into(), "attacker-command".into()])
        .to_data_uri()
        .unwrap();
    let proxy = lying_proxy(
        api.clone(),
        misplaced.to_string(),
        evil_uri,
        evil_hash.to_string(),
    )
    .await;

    let state = tempfile::tempdir().unwrap();
    run_agent(&stack, &proxy, state.path(), async {
        eventually(Duration::from_secs(60), "the honest result", || async {
            let j = get(&api, &format!("/v1/jobs/{honest}")).await;
            (j["status"] == "submitted").then_some(())
        })
        .await;
        eventually(
            Duration::from_secs(30),
            "the misplaced job given up",
            || async {
                let ledger = state
                    .path()
                    .join(format!("worker-{:#x}.json", signer(3).address()));
                let text = std::fs::read_to_string(ledger).ok()?;
                text.contains("no JobPosted event").then_some(())
            },
        )
        .await;
    })
    .await;
    let bytes = reqwest::get(format!("{api}/v1/jobs/{honest}/result"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"client-command\n");
    let j = get(&api, &format!("/v1/jobs/{misplaced}")).await;
    assert_eq!(j["status"], "assigned", "{j:#}");
    coordinator.shutdown().await.unwrap();
}

/// A job whose program cannot start is declined on chain (reason 4, cannot start) instead of being left to
/// expire: the worker pays only the decline fee (1% of the reward, to the treasury, not to the client), is not
/// jailed, and the job is reassigned while attempts remain, then refunded to its client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_cannot_run_is_declined_for_the_decline_fee_only() {
    let stack = Stack::start().await;
    let (coordinator, api) = stack.coordinator().await;
    stack.worker(3, 1, 200).await;
    stack.fund(8, 100).await;
    let client = stack.sender(8).await;
    let worker = format!("{:#x}", signer(3).address());
    let job = NewJob {
        spec: JobSpec::new(vec!["/no/such/program-accord".into()]),
        reward: parse_tokens("10").unwrap(),
        deadline_in: Duration::from_secs(3_600),
        capabilities: 1,
        max_attempts: 2,
    };
    let (id, _) = ops::post_job(&client, &stack.deployment, &job)
        .await
        .unwrap();

    let state = tempfile::tempdir().unwrap();
    run_agent(&stack, &api, state.path(), async {
        eventually(
            Duration::from_secs(90),
            "the job declined twice, then refunded",
            || async {
                let j = get(&api, &format!("/v1/jobs/{id}")).await;
                (j["status"] == "refunded").then_some(())
            },
        )
        .await;
    })
    .await;

    let detail = get(&api, &format!("/v1/jobs/{id}")).await;
    let fee = "100000000000000000"; // 1% of 10 tokens
    let assignments = detail["assignments"].as_array().unwrap();
    assert_eq!(
        assignments.len(),
        2,
        "reassigned after the first decline: {detail:#}"
    );
    for a in assignments {
        assert_eq!(a["outcome"], "declined", "{detail:#}");
        assert_eq!(a["worker"], worker.as_str(), "{detail:#}");
        assert_eq!(a["slashed"], fee, "{detail:#}");
    }
    let slashes = detail["slashes"].as_array().unwrap();
    assert_eq!(slashes.len(), 2, "{detail:#}");
    assert!(slashes.iter().all(|s| s["amount"] == fee), "{detail:#}");
    // The client gets its escrow back and nothing else: no compensation from a decline.
    let payments = detail["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 1, "{detail:#}");
    assert_eq!(payments[0]["kind"], "refund");
    assert_eq!(payments[0]["amount"], "10000000000000000000");

    // On chain: the stake lost exactly the two decline fees, no jail.
    let registry = accord::chain::evm::bindings::WorkerRegistry::new(
        stack.deployment.registry,
        client.provider(),
    );
    let w = registry.workerOf(signer(3).address()).call().await.unwrap();
    assert_eq!(
        alloy::primitives::U256::from(w.stake),
        parse_tokens("199.8").unwrap().0,
        "stake minus two decline fees"
    );
    assert!(!w.jailed, "a decline does not jail");
    let record = get(&api, &format!("/v1/workers/{:#x}", signer(3).address())).await;
    assert_eq!(record["counts"]["declined"], 2, "{record:#}");
    assert_eq!(record["counts"]["expired"], 0, "{record:#}");

    // The state file records both declines with their reason.
    let ledger = state
        .path()
        .join(format!("worker-{:#x}.json", signer(3).address()));
    let entries: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&ledger).unwrap()).unwrap();
    for attempt in 1..=2 {
        let entry = &entries[format!("{id}:{attempt}")];
        assert_eq!(entry["declined"]["reason"], 4, "{entries:#}");
        assert!(
            entry["declined"]["why"]
                .as_str()
                .unwrap()
                .contains("cannot start"),
            "{entries:#}"
        );
    }
    coordinator.shutdown().await.unwrap();
}

/// Forwards every request to `api`; in assignment lists it replaces each job's spec with `(uri, hash)` and
/// moves job `misplaced` to block 1.
async fn lying_proxy(api: String, misplaced: String, uri: String, hash: String) -> String {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, Uri};
    let http = reqwest::Client::new();
    let forward = move |method: Method, target: Uri, headers: HeaderMap, body: Bytes| {
        let (http, api, misplaced, uri, hash) = (
            http.clone(),
            api.clone(),
            misplaced.clone(),
            uri.clone(),
            hash.clone(),
        );
        async move {
            let mut request = http.request(
                reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap(),
                format!("{api}{target}"),
            );
            for (name, value) in &headers {
                if name.as_str().starts_with("x-accord") || name == "content-type" {
                    request = request.header(name.as_str(), value.as_bytes());
                }
            }
            let response = request.body(body).send().await.unwrap();
            let status = response.status().as_u16();
            let mut bytes = response.bytes().await.unwrap().to_vec();
            if target.path() == "/v1/jobs" && target.query().is_some_and(|q| q.contains("worker="))
            {
                let mut page: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                for item in page["items"].as_array_mut().unwrap() {
                    item["spec_uri"] = uri.clone().into();
                    item["spec_hash"] = hash.clone().into();
                    if item["job_id"] == misplaced.as_str() {
                        item["posted_block"] = 1.into();
                    }
                }
                bytes = serde_json::to_vec(&page).unwrap();
            }
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                [("content-type", "application/json")],
                bytes,
            )
        }
    };
    let app = axum::Router::new().fallback(forward);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}
