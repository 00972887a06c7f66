//! The scheduler against a real anvil and a real PostgreSQL: signed heartbeats, eligibility (alive, staked,
//! capabilities, capacity), one leader among replicas, and take-over when the leader stops.

use std::time::Duration;

use accord::chain::account::{NewJob, parse_tokens};
use accord::chain::evm::ops;
use accord::coordinator::Coordinator;
use accord::spec::JobSpec;
use serde_json::Value;

use crate::stack::{Stack, eventually, get, heartbeat, post_heartbeat, signer};

fn job(capabilities: u16) -> NewJob {
    NewJob {
        spec: JobSpec::new(vec!["echo".into(), "hi".into()]),
        reward: parse_tokens("1").unwrap(),
        deadline_in: Duration::from_secs(3_600),
        capabilities,
        max_attempts: 2,
    }
}

async fn jobs(api: &str) -> Vec<Value> {
    get(api, "/v1/jobs?limit=100").await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_verified_and_only_live_eligible_workers_get_jobs_within_capacity() {
    let stack = Stack::start().await;
    let (coordinator, api) = stack.coordinator().await;

    // Workers 3 and 4 are alive; 5 is staked but sends no heartbeat; 6 lacks capability 1.
    for (i, caps) in [(3, 1), (4, 1), (5, 1), (6, 2)] {
        stack.worker(i, caps, 200).await;
    }
    // Unregistered (account 7) is refused; a heartbeat signed by someone else is refused; both change nothing.
    let (code, body) = post_heartbeat(&api, &heartbeat(&stack, 7, 2)).await;
    assert_eq!(code, 403, "{body}");
    let mut forged = heartbeat(&stack, 3, 2);
    forged["signature"] = heartbeat(&stack, 4, 2)["signature"].clone();
    let (code, body) = post_heartbeat(&api, &forged).await;
    assert_eq!(code, 401, "{body}");
    assert_eq!(body["error"]["code"], "unauthorized");
    let mut bad = heartbeat(&stack, 3, 2);
    bad["capacity"] = 0.into();
    assert_eq!(post_heartbeat(&api, &bad).await.0, 400);

    for (i, capacity) in [(3, 2), (4, 3), (6, 5)] {
        let body = heartbeat(&stack, i, capacity);
        eventually(Duration::from_secs(30), "heartbeat accepted", || async {
            (post_heartbeat(&api, &body).await.0 == 202).then_some(())
        })
        .await;
    }

    let client = {
        stack.fund(8, 100).await;
        stack.sender(8).await
    };
    for _ in 0..6 {
        ops::post_job(&client, &stack.deployment, &job(1))
            .await
            .unwrap();
    }
    // Capacity 2 + 3: five jobs assigned, the sixth waits.
    let listed = eventually(Duration::from_secs(60), "five assignments", || async {
        let all = jobs(&api).await;
        let assigned = all.iter().filter(|j| j["status"] == "assigned").count();
        (assigned == 5).then_some(all)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let listed_again = jobs(&api).await;
    assert_eq!(
        listed_again
            .iter()
            .filter(|j| j["status"] == "assigned")
            .count(),
        5,
        "nobody over capacity: {listed_again:#?}"
    );
    let by = |i: u32| {
        let a = format!("{:#x}", signer(i).address());
        listed.iter().filter(|j| j["worker"] == a).count()
    };
    assert_eq!((by(3), by(4), by(5), by(6)), (2, 3, 0, 0), "{listed:#?}");

    let status = get(&api, "/v1/status").await["chains"][0].clone();
    assert_eq!(status["scheduler"]["leader"], true, "{status}");
    assert_eq!(status["scheduler"]["assigned"], 5, "{status}");

    // One live intent per job and attempt.
    let pool = coordinator.pool.clone();
    let duplicates: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT job_id, attempt FROM scheduler_intents WHERE kind = 'assign' AND state = 'done' \
         GROUP BY job_id, attempt HAVING count(*) > 1) d",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(duplicates, 0);
    coordinator.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_leads_and_another_takes_over_when_it_stops() {
    let stack = Stack::start().await;
    let mut first = Coordinator::start(stack.config(), Some(signer(1).into()))
        .await
        .unwrap();
    first.wait_ready(Duration::from_secs(60)).await.unwrap();
    let mut second = Coordinator::start(stack.config(), Some(signer(1).into()))
        .await
        .unwrap();
    second.wait_ready(Duration::from_secs(60)).await.unwrap();
    let (api1, api2) = (
        format!("http://{}", first.api_addr),
        format!("http://{}", second.api_addr),
    );
    let leaders = || async {
        let a = get(&api1, "/v1/status").await["chains"][0]["scheduler"]["leader"] == true;
        let b = get(&api2, "/v1/status").await["chains"][0]["scheduler"]["leader"] == true;
        (a, b)
    };
    eventually(Duration::from_secs(10), "exactly one leader", || async {
        let (a, b) = leaders().await;
        (a != b).then_some(())
    })
    .await;
    let (first_leads, _) = leaders().await;
    let (leader, standby, standby_api) = if first_leads {
        (first, second, api2)
    } else {
        (second, first, api1)
    };

    stack.worker(3, 1, 200).await;
    let beat = heartbeat(&stack, 3, 10);
    eventually(Duration::from_secs(30), "heartbeat accepted", || async {
        (post_heartbeat(&standby_api, &beat).await.0 == 202).then_some(())
    })
    .await;
    leader.shutdown().await.unwrap();
    eventually(Duration::from_secs(10), "the standby leads", || async {
        (get(&standby_api, "/v1/status").await["chains"][0]["scheduler"]["leader"] == true)
            .then_some(())
    })
    .await;

    stack.fund(8, 10).await;
    let client = stack.sender(8).await;
    let (id, _) = ops::post_job(&client, &stack.deployment, &job(1))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(30),
        "the new leader assigns",
        || async {
            let j = get(&standby_api, &format!("/v1/jobs/{id}")).await;
            (j["status"] == "assigned").then_some(())
        },
    )
    .await;
    standby.shutdown().await.unwrap();
}

/// Write routes under abuse: a client IP over its rate gets 429 with `Retry-After` before its request is even
/// parsed; a worker over its own rate gets 429 only once its signature checks out (a forger cannot spend
/// another worker's allowance). Reads are not limited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_routes_answer_429_with_retry_after_over_their_limits() {
    let stack = Stack::start().await;
    stack.worker(3, 1, 200).await;
    let mut config = stack.config();
    config.api.limits.worker_per_minute = 6; // a burst of 1
    config.api.limits.ip_per_minute = 60; // a burst of 6
    let (coordinator, api) = stack.coordinator_with(config).await;
    let http = reqwest::Client::new();

    // Worker 3 is registered and staked but holds no assignment: its upload is refused (and uses its one
    // request of this burst).
    let refused = accord::da::client::BlobClient::new(
        &api,
        crate::stack::account(&stack.devnet.anvil.url, signer(3), stack.deployment.clone()).await,
    )
    .upload(bytes::Bytes::from_static(b"unasked-for result"))
    .await
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("holds no assignment awaiting a result"),
        "{refused}"
    );

    // Worker 3's next write, a heartbeat, is over its rate: the limit is per worker across the write routes.
    let r = http
        .post(format!("{api}/v1/heartbeats"))
        .json(&heartbeat(&stack, 3, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=11).contains(&wait), "Retry-After {wait}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    // A forged heartbeat in worker 4's name does not use up worker 4's allowance: it is 401, and worker 4's
    // own heartbeat is then judged on its own (403: not registered), not 429.
    let mut forged = heartbeat(&stack, 4, 1);
    forged["capacity"] = 2.into();
    assert_eq!(post_heartbeat(&api, &forged).await.0, 401);
    assert_eq!(post_heartbeat(&api, &heartbeat(&stack, 4, 1)).await.0, 403);

    // The IP's burst is spent now; garbage is refused with 429 before it is parsed.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = http
            .post(format!("{api}/v1/heartbeats"))
            .body("not json")
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [400, 415, 429].contains(s)),
        "{statuses:?}"
    );
    // Reads are not rate limited.
    assert_eq!(
        http.get(format!("{api}/v1/health"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    coordinator.shutdown().await.unwrap();
}

/// A job whose deadline is closer than the governed minimum submit window (10 minutes on the devnet, read from
/// the index's params table) is never tried: no assignment intent, no refused batch entry; a job with time
/// enough is assigned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_inside_the_minimum_submit_window_are_not_tried() {
    let stack = Stack::start().await;
    let (coordinator, api) = stack.coordinator().await;
    stack.worker(3, 1, 200).await;
    let body = heartbeat(&stack, 3, 5);
    eventually(Duration::from_secs(30), "heartbeat accepted", || async {
        (post_heartbeat(&api, &body).await.0 == 202).then_some(())
    })
    .await;
    stack.fund(8, 100).await;
    let client = stack.sender(8).await;
    let too_soon = NewJob {
        deadline_in: Duration::from_secs(5 * 60),
        ..job(1)
    };
    let (soon, _) = ops::post_job(&client, &stack.deployment, &too_soon)
        .await
        .unwrap();
    let (later, _) = ops::post_job(&client, &stack.deployment, &job(1))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(60),
        "the later job assigned",
        || async {
            let j = get(&api, &format!("/v1/jobs/{later}")).await;
            (j["status"] == "assigned").then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let j = get(&api, &format!("/v1/jobs/{soon}")).await;
    assert_eq!(j["status"], "open", "{j:#}");
    let pool = accord::store::connect(&stack.db_url, 2).await.unwrap();
    let intents = |id: String| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM scheduler_intents WHERE kind = 'assign' AND job_id = $1::numeric",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(intents(later.to_string()).await, 1);
    assert_eq!(
        intents(soon.to_string()).await,
        0,
        "a job inside the submit window was tried"
    );
    coordinator.shutdown().await.unwrap();
}

/// A node that answers the latest block with a timestamp years ahead (a buggy or hostile RPC endpoint) holds
/// scheduling back only while it says so: every open job then looks past its deadline, but the scheduler's
/// clock does not stay at the lie once the node tells the truth again. The lying node is a fake in front of anvil
/// (`rewriting_proxy`: anvil's clock cannot be moved ahead and back), speaking JSON-RPC over HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_lying_about_the_time_holds_scheduling_back_only_while_it_lies() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let stack = Stack::start().await;
    let lying = Arc::new(AtomicBool::new(true));
    let mut config = stack.config();
    config.chain.rpc_url = crate::utils::rewriting_proxy(stack.devnet.anvil.url.clone(), {
        let lying = lying.clone();
        move |request, mut answer| {
            if lying.load(Ordering::SeqCst)
                && request["method"] == "eth_getBlockByNumber"
                && request["params"][0] == "latest"
                && answer["result"].is_object()
            {
                let ten_years = accord::offchain::unix_now() + 10 * 365 * 86_400;
                answer["result"]["timestamp"] = Value::String(format!("{ten_years:#x}"));
            }
            answer
        }
    })
    .await;
    let (coordinator, api) = stack.coordinator_with(config).await;
    stack.worker(3, 1, 200).await;
    let body = heartbeat(&stack, 3, 5);
    eventually(Duration::from_secs(30), "heartbeat accepted", || async {
        (post_heartbeat(&api, &body).await.0 == 202).then_some(())
    })
    .await;
    stack.fund(8, 100).await;
    let client = stack.sender(8).await;
    let (id, _) = ops::post_job(&client, &stack.deployment, &job(1))
        .await
        .unwrap();
    eventually(Duration::from_secs(30), "the job indexed", || async {
        let j = get(&api, &format!("/v1/jobs/{id}")).await;
        (j["status"] == "open").then_some(())
    })
    .await;
    // Several rounds and clock reads under the lie: the job looks past its deadline and is left alone.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let j = get(&api, &format!("/v1/jobs/{id}")).await;
    assert_eq!(
        j["status"], "open",
        "assigned while every deadline looked past: {j:#}"
    );
    lying.store(false, Ordering::SeqCst);
    eventually(
        Duration::from_secs(60),
        "the job assigned once the node tells the time again",
        || async {
            let j = get(&api, &format!("/v1/jobs/{id}")).await;
            (j["status"] == "assigned").then_some(())
        },
    )
    .await;
    coordinator.shutdown().await.unwrap();
}
