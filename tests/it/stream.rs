//! The event stream to NATS JetStream against a real `nats-server` on loopback, a real anvil and PostgreSQL: a
//! backlog published on start, a reorg's rollback announced before the events that replace it, an outage that
//! grows the backlog (in `/v1/status` and `/metrics`) and then drains, a publisher that publishes everything
//! again (as after a crash between the stream's acknowledgment and the cursor's save) without a duplicate reaching
//! the stream, and an event the stream refuses sent to the dead-letter subject. The crash of a whole coordinator
//! while it publishes is in `e2e.rs`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::faults::post_raw_job;
use crate::nats::{
    NatsServer, all_published, assert_consumer_matches, indexed_events, read_stream,
};
use crate::stack::{Stack, eventually, get};

/// The stream's part of `/v1/status` for the one chain.
async fn stream_status(api: &str) -> Value {
    get(api, "/v1/status").await["stream"].clone()
}

/// Waits until the chain's head at the call is indexed and the stream has acknowledged every event and
/// rollback of the index; returns the publisher's status.
async fn drained(stack: &Stack, pool: &sqlx::PgPool, api: &str, what: &str) -> Value {
    let head = stack.devnet.head().await;
    eventually(Duration::from_secs(60), what, || async {
        let index = get(api, "/v1/status").await["chains"][0].clone();
        if index["indexed"].as_u64()? < head {
            return None;
        }
        if !all_published(pool).await {
            return None;
        }
        let s = stream_status(api).await;
        (s["connected"] == true).then_some(s)
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn event_stream_publishes_rollbacks_survives_an_outage_and_never_duplicates() {
    // The server wants a user and password: the publisher sends those of stream.url, and shows them nowhere.
    let mut nats = NatsServer::start_with_user("accord", "s3cret-pass");
    let stack = Stack::start().await;
    // Events before the coordinator starts: the publisher begins with a backlog.
    stack.devnet.scenario(1);
    let mut config = stack.config();
    config.stream.url = nats.url();
    config.stream.batch = 7;
    config.stream.ack_timeout_ms = 1_000;
    config.stream.max_backoff_ms = 400;
    let (coordinator, api) = stack.coordinator_with(config.clone()).await;
    let status = drained(&stack, &coordinator.pool, &api, "the backlog published").await;
    assert!(status["publishing"] == true, "{status}");
    assert_eq!(
        status["server"],
        format!("nats://***@127.0.0.1:{}", nats.port),
        "{status}"
    );
    assert!(!get(&api, "/v1/status").await.to_string().contains("s3cret"));
    assert!(
        status["chains"][0]["published"].as_u64().unwrap() > 20,
        "{status}"
    );

    // A reorg orphans the last two blocks, whose events were already published: the rollback goes out before
    // the events that replace them.
    stack.fund(4, 100).await;
    let client = stack.sender(4).await;
    post_raw_job(&stack, &client, b"ipfs://orphaned-by-the-reorg").await;
    drained(&stack, &coordinator.pool, &api, "the job published").await;
    stack.devnet.rpc("anvil_reorg", json!([2, []])).await;
    // The reorg dropped the sender's transactions: a new sender reads its nonce again.
    let client = stack.sender(4).await;
    post_raw_job(&stack, &client, b"ipfs://after-the-reorg").await;
    eventually(
        Duration::from_secs(30),
        "the rollback published",
        || async {
            let log = read_stream(&nats.url(), "ACCORD").await;
            log.iter()
                .any(|m| m.subject == "accord.eip155-31337.index.Rollback")
                .then_some(())
        },
    )
    .await;
    drained(&stack, &coordinator.pool, &api, "the replacement published").await;

    // An outage: the backlog grows while the server is down, is visible in /v1/status and /metrics, and drains
    // once it is back.
    nats.stop();
    post_raw_job(&stack, &client, b"ipfs://during-the-outage-1").await;
    let first = eventually(
        Duration::from_secs(30),
        "a backlog while NATS is down",
        || async {
            let s = stream_status(&api).await;
            let backlog = s["chains"][0]["backlog"].as_u64().unwrap();
            (backlog > 0 && s["connected"] == false && s["last_error"].is_string())
                .then_some(backlog)
        },
    )
    .await;
    post_raw_job(&stack, &client, b"ipfs://during-the-outage-2").await;
    let grown = eventually(Duration::from_secs(30), "the backlog growing", || async {
        let backlog = stream_status(&api).await["chains"][0]["backlog"]
            .as_u64()
            .unwrap();
        (backlog > first).then_some(backlog)
    })
    .await;
    let metrics = reqwest::get(format!("{api}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let gauge = metrics
        .lines()
        .find(|l| l.starts_with("accord_stream_backlog{chain=\"eip155:31337\"}"))
        .unwrap_or_else(|| panic!("no backlog gauge in /metrics:\n{metrics}"));
    let value: f64 = gauge.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(value >= first as f64, "{gauge} (backlog {grown})");
    nats.restart();
    drained(
        &stack,
        &coordinator.pool,
        &api,
        "the backlog drained after the outage",
    )
    .await;

    // A restart whose cursor is back at the start, as when a publisher crashes after the stream acknowledged
    // but before it saved its cursor: everything is published again with the same message ids, and the stream
    // stores nothing twice.
    let before = read_stream(&nats.url(), "ACCORD").await;
    let pool = coordinator.pool.clone();
    coordinator.shutdown().await.unwrap();
    // The process ends: its sessions, and the locks they hold, with it.
    pool.close().await;
    let pool = sqlx::PgPool::connect(&stack.db_url).await.unwrap();
    sqlx::query(
        "UPDATE stream_cursor SET block_number = -1, log_index = -1, rollback_id = 0, published = 0",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (coordinator, api) = stack.coordinator_with(config.clone()).await;
    drained(&stack, &coordinator.pool, &api, "everything republished").await;
    let indexed = indexed_events(&api).await;
    let published: i64 = sqlx::query_scalar("SELECT published FROM stream_cursor")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        published as usize,
        indexed.len() + 1,
        "every event of the index and the rollback published again"
    );
    let after = read_stream(&nats.url(), "ACCORD").await;
    assert_eq!(
        after.len(),
        before.len(),
        "republished messages were stored again"
    );
    let rollbacks = assert_consumer_matches(&after, &indexed);
    assert_eq!(rollbacks, 1, "one reorg, one rollback");

    // An event the stream refuses (larger than the stream's message limit) is retried, then sent to the
    // dead-letter subject with its identity; the events after it are published.
    let (options, url) = accord::stream::connect_options(&nats.url());
    let client_nats = options.connect(url).await.unwrap();
    let js = async_nats::jetstream::new(client_nats);
    let mut stream_config = js
        .get_stream("ACCORD")
        .await
        .unwrap()
        .cached_info()
        .config
        .clone();
    stream_config.max_message_size = 1_100;
    js.update_stream(stream_config).await.unwrap();
    let huge = format!("ipfs://{}", "x".repeat(1_000));
    let job = post_raw_job(&stack, &client, huge.as_bytes()).await;
    post_raw_job(&stack, &client, b"ipfs://after-the-refused-one").await;
    drained(
        &stack,
        &coordinator.pool,
        &api,
        "the refused event dead-lettered",
    )
    .await;
    let status = eventually(
        Duration::from_secs(10),
        "the status counting the dead letter",
        || async {
            let s = stream_status(&api).await;
            (s["chains"][0]["dead_letters"] == 1).then_some(s)
        },
    )
    .await;
    assert_eq!(status["chains"][0]["dead_letters"], 1, "{status}");
    let log = read_stream(&nats.url(), "ACCORD").await;
    let dead: Vec<_> = log
        .iter()
        .filter(|m| m.subject == "accord.eip155-31337.deadletter")
        .collect();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].payload["event"], "JobPosted");
    assert_eq!(dead[0].payload["stream"], format!("job:{job}"));
    assert_eq!(dead[0].payload["attempts"], 3);
    assert!(dead[0].id.ends_with("/dead"), "{}", dead[0].id);
    assert!(
        log.iter()
            .any(|m| m.payload.to_string().contains("after-the-refused-one")),
        "the event after the refused one was published"
    );
    coordinator.cancel_token().cancel();
}
