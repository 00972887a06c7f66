//! A job's whole life, end to end, with real processes: anvil, PostgreSQL, two `accord serve` replicas, three
//! `accord worker run` agents and a client using the `accord` CLI.
//!
//! A client posts 20 jobs; the leader assigns them; the workers run them, publish the output to the DA layer
//! (the coordinator's local store) and submit the commitments. The leader is killed (SIGKILL) mid-run and the
//! standby replica takes over. A fourth worker heartbeats, takes a job and goes silent: its assignment expires
//! on chain, it is slashed, and the job is reassigned and completed by another worker. Unchallenged results
//! are finalized by the scheduler, one is accepted by the client. A governance proposal raises the minimum
//! stake above one worker's stake, and that worker is assigned nothing afterwards. Everything is checked
//! through the REST API, and the event stream that both replicas publish in turn to NATS JetStream is read back
//! whole: every event exactly once, in chain order, across the kill.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use accord::chain::account::{NewJob, parse_tokens};
use accord::chain::evm::ops;
use accord::spec::JobSpec;
use serde_json::Value;

use crate::nats::NatsServer;
use crate::stack::{Stack, eventually, get, heartbeat_for, post_heartbeat, signer};
use crate::utils::{devnet_key, free_port};

/// A child process killed (SIGKILL) when dropped; its output goes to a log file shown on failure.
struct Proc {
    child: Child,
    name: String,
    log: std::path::PathBuf,
}

impl Proc {
    fn spawn(name: &str, dir: &Path, args: &[String], env: &[(&str, String)]) -> Self {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_accord"));
        key_in_env(&mut cmd, args.iter().cloned());
        cmd.env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Self {
            child: cmd.spawn().expect("start accord"),
            name: name.into(),
            log,
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(40);
        format!("--- {} ---\n{}", self.name, lines[from..].join("\n"))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("{}", self.tail());
        }
    }
}

/// Runs the `accord` CLI and returns its JSON output.
fn cli(api: &str, rpc: &str, args: &[&str]) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_accord"));
    cmd.args(["--output", "json", "--api-url", api, "--rpc-url", rpc]);
    key_in_env(&mut cmd, args.iter().map(|a| a.to_string()));
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    crate::utils::json_output(args, &out)
}

/// Adds `args` to `cmd`, except that `--private-key KEY` becomes `ACCORD_PRIVATE_KEY` in its environment, as an
/// operator should pass it: a command line is visible to every user of the host.
fn key_in_env(cmd: &mut Command, args: impl IntoIterator<Item = String>) {
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--private-key" {
            cmd.env(
                "ACCORD_PRIVATE_KEY",
                args.next().expect("a key after --private-key"),
            );
        } else {
            cmd.arg(arg);
        }
    }
}

async fn all_jobs(api: &str) -> Vec<Value> {
    get(api, "/v1/jobs?limit=500").await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn count(jobs: &[Value], status: &str) -> usize {
    jobs.iter().filter(|j| j["status"] == status).count()
}

fn addr(i: u32) -> String {
    format!("{:#x}", signer(i).address())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_jobs_live_and_finish_across_failover_silence_and_governance() {
    let stack = Stack::start().await;
    // Both replicas publish the event stream (one at a time, by lock) to a real NATS JetStream.
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let rpc = stack.devnet.anvil.url.clone();
    let config = dir.path().join("accord.toml");
    std::fs::write(
        &config,
        "[indexer]\npoll_interval_ms = 100\n\n[scheduler]\npoll_interval_ms = 100\nleader_retry_ms = 300\n\
         heartbeat_ttl_secs = 5\nrefusal_backoff_secs = 2\n",
    )
    .unwrap();
    let env = |port: u16| {
        vec![
            ("ACCORD_DATABASE_URL", stack.db_url.clone()),
            (
                "ACCORD_DEPLOYMENTS_DIR",
                stack.devnet.deployments_dir().display().to_string(),
            ),
            ("ACCORD_API_LISTEN", format!("127.0.0.1:{port}")),
            ("ACCORD_STREAM_URL", nats.url()),
        ]
    };
    let serve = |name: &str, port: u16| {
        Proc::spawn(
            name,
            dir.path(),
            &[
                "serve".into(),
                "--config".into(),
                config.display().to_string(),
                "--rpc-url".into(),
                rpc.clone(),
                "--private-key".into(),
                devnet_key(1),
            ],
            &env(port),
        )
    };
    // The first replica starts alone, so it takes both locks; the second stands by.
    let (port_a, port_b) = (free_port(), free_port());
    let (api_a, api) = (
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    );
    let mut leader = serve("replica-a", port_a);
    eventually(Duration::from_secs(60), "replica A leads", || async {
        let s = reqwest::get(format!("{api_a}/v1/status")).await.ok()?;
        let s: Value = s.json().await.ok()?;
        (s["chains"][0]["scheduler"]["leader"] == true).then_some(())
    })
    .await;
    let standby = serve("replica-b", port_b);
    eventually(Duration::from_secs(60), "replica B answers", || async {
        reqwest::get(format!("{api}/v1/ready"))
            .await
            .ok()
            .filter(|r| r.status().is_success())
            .map(|_| ())
    })
    .await;

    // Three worker agents (worker 5 stakes exactly the current minimum, 100) and a silent fourth (6).
    for (i, tokens) in [(3, 300), (4, 300), (5, 100), (7, 100)] {
        stack.fund(i, tokens).await;
    }
    let mut workers = Vec::new();
    for (i, stake) in [(3, "200"), (4, "200"), (5, "100")] {
        workers.push(Proc::spawn(
            &format!("worker-{i}"),
            dir.path(),
            &[
                "--api-url".into(),
                api.clone(),
                "--rpc-url".into(),
                rpc.clone(),
                "worker".into(),
                "run".into(),
                "--private-key".into(),
                devnet_key(i),
                "--register".into(),
                "1".into(),
                "--stake".into(),
                stake.into(),
                "--capacity".into(),
                "2".into(),
                "--heartbeat-secs".into(),
                "1".into(),
                "--poll-ms".into(),
                "200".into(),
                "--state-dir".into(),
                dir.path().join(format!("w{i}")).display().to_string(),
            ],
            &[],
        ));
    }
    stack.worker(6, 1, 200).await;
    let silent_alive = Arc::new(AtomicBool::new(true));
    let beats = {
        let alive = silent_alive.clone();
        let body_api = api.clone();
        let deployment = stack.deployment.clone();
        tokio::spawn(async move {
            while alive.load(Ordering::SeqCst) {
                post_heartbeat(&body_api, &heartbeat_for(&deployment, 6, 1)).await;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };
    // Every agent is alive before the jobs arrive.
    let db = pool(&stack).await;
    eventually(Duration::from_secs(60), "four live workers", || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM heartbeats")
            .fetch_one(&db)
            .await
            .ok()?;
        (n == 4).then_some(())
    })
    .await;

    // The client posts 20 jobs through the CLI.
    let posted = cli(
        &api,
        &rpc,
        &[
            "job",
            "post",
            "--private-key",
            &devnet_key(7),
            "--command",
            "echo accord-e2e",
            "--reward",
            "2",
            "--deadline",
            "1d",
            "--count",
            "20",
        ],
    );
    assert_eq!(posted.as_array().map(Vec::len), Some(20), "{posted}");

    // Kill the leader mid-run; the standby takes over indexing and scheduling.
    eventually(Duration::from_secs(60), "first assignments", || async {
        let jobs = all_jobs(&api).await;
        (jobs.len() == 20 && count(&jobs, "open") < 20).then_some(())
    })
    .await;
    // It publishes the event stream while jobs move: the kill lands between some acknowledgment and its save.
    let published = get(&api_a, "/v1/status").await["stream"].clone();
    assert!(published["publishing"] == true, "{published}");
    leader.kill();
    eventually(Duration::from_secs(20), "replica B leads", || async {
        (get(&api, "/v1/status").await["chains"][0]["scheduler"]["leader"] == true).then_some(())
    })
    .await;

    // The silent worker goes quiet as soon as it holds a job.
    let silent_job = eventually(Duration::from_secs(60), "a job for worker 6", || async {
        all_jobs(&api)
            .await
            .into_iter()
            .find(|j| j["worker"] == addr(6) && j["status"] == "assigned")
            .map(|j| j["job_id"].as_str().unwrap().to_owned())
    })
    .await;
    silent_alive.store(false, Ordering::SeqCst);
    beats.await.unwrap();
    // Past the heartbeat TTL (5 s) the silent worker no longer counts as alive.
    tokio::time::sleep(Duration::from_secs(6)).await;
    eventually(Duration::from_secs(120), "19 results submitted", || async {
        let jobs = all_jobs(&api).await;
        (count(&jobs, "submitted") == 19).then_some(())
    })
    .await;

    // An hour later: the silent assignment is overdue and every challenge window has closed.
    stack.devnet.advance(3_601, 1).await;
    // The silent worker's job is expired, slashed, reassigned and re-run; the client accepts that result
    // instead of waiting out a new challenge window.
    eventually(Duration::from_secs(120), "the re-run result", || async {
        let job = get(&api, &format!("/v1/jobs/{silent_job}")).await;
        (job["status"] == "submitted").then_some(())
    })
    .await;
    let accepted = cli(
        &api,
        &rpc,
        &[
            "job",
            "accept",
            &silent_job,
            "--private-key",
            &devnet_key(7),
        ],
    );
    assert_eq!(accepted["action"], "accept", "{accepted}");
    let done = eventually(Duration::from_secs(120), "all 20 jobs paid", || async {
        let jobs = all_jobs(&api).await;
        (count(&jobs, "paid") == 20).then_some(jobs)
    })
    .await;
    let detail = get(&api, &format!("/v1/jobs/{silent_job}")).await;
    let attempts = detail["assignments"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{detail:#}");
    assert_eq!(attempts[0]["worker"], addr(6));
    assert_eq!(attempts[0]["outcome"], "expired");
    assert_ne!(attempts[1]["worker"], addr(6));
    assert_eq!(attempts[1]["outcome"], "paid");
    let slashes = get(&api, &format!("/v1/slashes?worker={}", addr(6))).await;
    assert_eq!(slashes["items"].as_array().unwrap().len(), 1, "{slashes}");
    // No job was assigned twice: every other job has exactly one assignment.
    for job in &done {
        let id = job["job_id"].as_str().unwrap();
        if id != silent_job {
            let d = get(&api, &format!("/v1/jobs/{id}")).await;
            assert_eq!(d["assignments"].as_array().unwrap().len(), 1, "{d:#}");
        }
    }
    // Results are served only as the bytes committed on chain.
    let bytes = reqwest::get(format!("{api}/v1/jobs/{silent_job}/result"))
        .await
        .unwrap();
    assert_eq!(bytes.status(), 200);
    assert_eq!(bytes.bytes().await.unwrap().as_ref(), b"accord-e2e\n");
    let rewards = get(&api, "/v1/rewards?limit=100").await;
    assert_eq!(rewards["items"].as_array().unwrap().len(), 20, "{rewards}");

    // Governance raises the minimum stake to 150: worker 5 (stake 100) gets nothing after that.
    let voter = devnet_key(0);
    cli(&api, &rpc, &["gov", "delegate", "--private-key", &voter]);
    stack.devnet.advance(1, 1).await;
    let proposal = cli(
        &api,
        &rpc,
        &[
            "gov",
            "propose",
            "--set",
            "minStake=150",
            "--description",
            "Raise the minimum stake to 150",
            "--private-key",
            &voter,
        ],
    );
    let id = proposal["proposal_id"].as_str().unwrap().to_owned();
    stack.devnet.advance(1, 2).await;
    cli(
        &api,
        &rpc,
        &[
            "gov",
            "vote",
            &id,
            "--support",
            "for",
            "--private-key",
            &voter,
        ],
    );
    stack.devnet.advance(1, 21).await;
    eventually(
        Duration::from_secs(30),
        "the proposal indexed as succeeded",
        || async {
            let p = get(&api, &format!("/v1/proposals/{id}")).await;
            (p["state"] == "Succeeded").then_some(())
        },
    )
    .await;
    cli(&api, &rpc, &["gov", "queue", &id, "--private-key", &voter]);
    stack.devnet.advance(61, 1).await;
    cli(
        &api,
        &rpc,
        &["gov", "execute", &id, "--private-key", &voter],
    );
    eventually(
        Duration::from_secs(30),
        "the new minimum indexed",
        || async {
            let params = get(&api, "/v1/params").await;
            let text = params.to_string();
            text.contains("150000000000000000000").then_some(())
        },
    )
    .await;

    let client = stack.sender(7).await;
    let job = NewJob {
        spec: JobSpec::new(vec!["echo".into(), "after-vote".into()]),
        reward: parse_tokens("1").unwrap(),
        deadline_in: Duration::from_secs(86_400),
        capabilities: 1,
        max_attempts: 2,
    };
    let mut late = BTreeSet::new();
    for _ in 0..6 {
        let (id, _) = ops::post_job(&client, &stack.deployment, &job)
            .await
            .unwrap();
        late.insert(id.to_string());
    }
    let workers_of_late = eventually(Duration::from_secs(120), "late jobs submitted", || async {
        let jobs = all_jobs(&api).await;
        let late_jobs: Vec<&Value> = jobs
            .iter()
            .filter(|j| late.contains(j["job_id"].as_str().unwrap()))
            .collect();
        late_jobs
            .iter()
            .all(|j| j["status"] == "submitted")
            .then(|| {
                late_jobs
                    .iter()
                    .map(|j| {
                        (
                            j["job_id"].as_str().unwrap().to_owned(),
                            j["worker"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect::<BTreeMap<_, _>>()
            })
    })
    .await;
    assert!(
        workers_of_late
            .values()
            .all(|w| *w == addr(3) || *w == addr(4)),
        "worker 5 is below the new minimum: {workers_of_late:?}"
    );
    drop(workers);

    // A consumer of the stream holds every event of the run exactly once, in chain order, though the
    // publisher was killed mid-run and the standby took over from the saved cursor.
    let publishing = get(&api, "/v1/status").await["stream"].clone();
    assert!(
        publishing["publishing"] == true,
        "replica B publishes: {publishing}"
    );
    let indexed = crate::nats::indexed_events(&api).await;
    let db = pool(&stack).await;
    eventually(Duration::from_secs(60), "the stream caught up", || async {
        crate::nats::all_published(&db).await.then_some(())
    })
    .await;
    let messages = crate::nats::read_stream(&nats.url(), "ACCORD").await;
    crate::nats::assert_consumer_matches(&messages, &indexed);
    drop(standby);
}

async fn pool(stack: &Stack) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&stack.db_url)
        .await
        .unwrap()
}

/// `accord job dispute` approves and escrows the dispute bond (10% of the reward on the devnet) before disputing:
/// the client only ever approved the reward when posting. The bond shows on the disputed assignment. The new
/// governed parameters have their proposal calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_dispute_escrows_the_bond() {
    let stack = Stack::start().await;
    let (coordinator, api) = stack.coordinator().await;
    let rpc = stack.devnet.anvil.url.clone();
    let worker = stack.worker(3, 1, 200).await;
    let body = heartbeat_for(&stack.deployment, 3, 2);
    eventually(Duration::from_secs(30), "heartbeat accepted", || async {
        (post_heartbeat(&api, &body).await.0 == 202).then_some(())
    })
    .await;
    stack.fund(7, 100).await;
    let client = stack.sender(7).await;
    let job = NewJob {
        spec: JobSpec::new(vec!["echo".into(), "x".into()]),
        reward: parse_tokens("20").unwrap(),
        deadline_in: Duration::from_secs(3_600),
        capabilities: 1,
        max_attempts: 1,
    };
    let (id, _) = ops::post_job(&client, &stack.deployment, &job)
        .await
        .unwrap();
    eventually(Duration::from_secs(60), "the job assigned", || async {
        let j = get(&api, &format!("/v1/jobs/{id}")).await;
        (j["status"] == "assigned").then_some(())
    })
    .await;
    let submit = accord::chain::evm::bindings::JobManager::submitResultCall {
        jobId: id,
        daKind: 1,
        commitment: alloy::primitives::B256::repeat_byte(1),
        size: 2,
        locator: "accord://blob/x".into(),
    };
    worker
        .call(stack.deployment.job_manager, &submit)
        .await
        .unwrap();
    let disputed = cli(
        &api,
        &rpc,
        &[
            "job",
            "dispute",
            &id.to_string(),
            "--private-key",
            &devnet_key(7),
        ],
    );
    assert_eq!(disputed["action"], "dispute", "{disputed}");
    let detail = eventually(Duration::from_secs(30), "the dispute indexed", || async {
        let j = get(&api, &format!("/v1/jobs/{id}")).await;
        (j["status"] == "disputed").then_some(j)
    })
    .await;
    assert_eq!(
        detail["assignments"][0]["dispute_bond"], "2000000000000000000",
        "{detail:#}"
    );
    for key in [
        "minSubmitWindow",
        "slashRewardMultipleBps",
        "compensationBps",
        "declineFeeBps",
        "disputeBondBps",
        "consensusBps",
        "revealWindow",
    ] {
        let (target, _) =
            ops::param_call(&stack.deployment, key, alloy::primitives::U256::from(1)).unwrap();
        assert_eq!(target, stack.deployment.job_manager, "{key}");
    }
    coordinator.shutdown().await.unwrap();
}
