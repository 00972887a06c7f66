//! The API contract: schemathesis (installed by `scripts/bootstrap` into `.tools/schemathesis`) fuzzes every
//! operation of the served `/openapi.json` against a live devnet with data in it (jobs open, assigned and
//! cancelled, registered workers with a heartbeat, a proposal, events streaming), with every check on: no 5xx,
//! every schema-valid request accepted, every schema-violating one refused, every answer (status, headers,
//! body, each server-sent event) as documented.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use accord::chain::account::{NewJob, parse_tokens};
use accord::chain::evm::bindings::{AccordToken, JobManager};
use accord::chain::evm::ops::{self, Proposal};
use accord::spec::JobSpec;
use alloy::primitives::U256;
use tokio_util::sync::CancellationToken;

use crate::stack::{Stack, eventually, get, heartbeat, post_heartbeat, signer};

/// Fixed seed: a failure reproduces with the same command.
const SEED: &str = "20240917";
/// Test cases per operation in the fuzzing phase (the coverage and stateful phases add their own).
const MAX_EXAMPLES: &str = "20";

fn job(capabilities: u16) -> NewJob {
    NewJob {
        spec: JobSpec::new(vec!["echo".into(), "contract".into()]),
        reward: parse_tokens("1").unwrap(),
        deadline_in: Duration::from_secs(3_600),
        capabilities,
        max_attempts: 2,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_openapi_document_holds_against_the_live_api() {
    let st = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/schemathesis/bin/st");
    assert!(
        st.is_file(),
        "{} is missing: run scripts/bootstrap (it installs the pinned schemathesis from PyPI)",
        st.display()
    );

    let stack = Stack::start().await;
    let mut config = stack.config();
    // The fuzzer sends far more writes than a worker would; the limits themselves are tested in scheduler.rs,
    // and 429 is documented on the write routes anyway.
    config.api.limits.ip_per_minute = 1_000_000;
    config.api.limits.ip_max_in_flight = 1_000;
    config.api.limits.worker_per_minute = 1_000_000;
    config.api.limits.worker_max_in_flight = 1_000;
    let (coordinator, api) = stack.coordinator_with(config).await;

    // Workers 3 and 4 registered and staked; 3 is alive with room for one job.
    stack.worker(3, 1, 200).await;
    stack.worker(4, 1, 200).await;
    let beat = heartbeat(&stack, 3, 1);
    eventually(Duration::from_secs(30), "heartbeat accepted", || async {
        (post_heartbeat(&api, &beat).await.0 == 202).then_some(())
    })
    .await;
    // Jobs: one assigned to worker 3, one nobody can take (open), one cancelled.
    stack.fund(8, 100).await;
    let client = stack.sender(8).await;
    let (assigned, _) = ops::post_job(&client, &stack.deployment, &job(1))
        .await
        .unwrap();
    ops::post_job(&client, &stack.deployment, &job(2))
        .await
        .unwrap();
    let (cancelled, _) = ops::post_job(&client, &stack.deployment, &job(4))
        .await
        .unwrap();
    ops::send(
        &client,
        stack.deployment.job_manager,
        &JobManager::cancelJobCall { jobId: cancelled },
        "cancelJob",
    )
    .await
    .unwrap();
    // A proposal by the deployer, who holds the supply.
    let deployer = stack.sender(0).await;
    ops::delegate(&deployer, &stack.deployment, None)
        .await
        .unwrap();
    let (target, data) = ops::param_call(
        &stack.deployment,
        "minStake",
        parse_tokens("150").unwrap().0,
    )
    .unwrap();
    let proposal = Proposal {
        targets: vec![target],
        calldatas: vec![data],
        description: "contract check: raise the minimum stake".into(),
    };
    let proposal_id = ops::propose(&deployer, &stack.deployment, &proposal)
        .await
        .unwrap();
    eventually(Duration::from_secs(60), "the data indexed", || async {
        let job = get(&api, &format!("/v1/jobs/{assigned}")).await;
        let cancelled = get(&api, &format!("/v1/jobs/{cancelled}")).await;
        let proposal = get(&api, &format!("/v1/proposals/{proposal_id}")).await;
        (job["status"] == "assigned"
            && cancelled["status"] == "cancelled"
            && proposal["proposal_id"].is_string())
        .then_some(())
    })
    .await;

    // Events keep arriving while the fuzzer listens to /v1/events/stream: token transfers, one per block.
    let stop = CancellationToken::new();
    let traffic = {
        let stop = stop.clone();
        let token = stack.deployment.token;
        let to = signer(9).address();
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                let call = AccordToken::transferCall {
                    to,
                    value: U256::from(1u64),
                };
                if deployer.call(token, &call).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };

    let work = tempfile::tempdir().unwrap();
    let args = [
        "run".to_string(),
        format!("{api}/openapi.json"),
        "--checks".into(),
        "all".into(),
        "--seed".into(),
        SEED.into(),
        "--max-examples".into(),
        MAX_EXAMPLES.into(),
        "--request-timeout".into(),
        "2".into(),
        "--generation-database".into(),
        "none".into(),
        // One worker: the coverage phase is not safe across threads.
        "--workers".into(),
        "1".into(),
        "--no-color".into(),
    ];
    let started = Instant::now();
    let output = tokio::task::spawn_blocking({
        let st = st.clone();
        let dir = work.path().to_path_buf();
        move || Command::new(st).args(args).current_dir(dir).output()
    })
    .await
    .unwrap()
    .expect("schemathesis runs");
    stop.cancel();
    let _ = traffic.await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!(
        "schemathesis ({:.0} s):\n{stdout}\n{stderr}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        output.status.success(),
        "schemathesis found the API and its OpenAPI document disagreeing ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("Tested: 22"),
        "every operation was tested:\n{stdout}"
    );
    coordinator.shutdown().await.unwrap();
}
