//! Faults the index must survive, each against a real anvil, a real PostgreSQL and the whole coordinator: the
//! newest blocks replaced at the same heights with no block after them, a reorg deeper than the reorg window
//! (halted, still serving, repaired with `accord rebuild --replace`), a node that repeats logs in one
//! `eth_getLogs` answer, and strings with NUL bytes or invalid UTF-8 posted by real transactions and read back
//! byte-exact through every route.

use std::time::Duration;

use accord::chain::evm::bindings::{JobManager, WorkerRegistry};
use accord::chain::evm::ops;
use accord::chain::evm::wallet::TxSender;
use accord::config::Config;
use alloy::dyn_abi::DynSolValue;
use alloy::primitives::{B256, U256};
use alloy::sol_types::{SolCall, SolEvent};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::stack::{Stack, eventually, get, signer};

/// Posts a job whose spec URI is `spec_uri`, byte for byte (a Rust `String` could not carry invalid UTF-8: the
/// calldata is encoded by hand, `string` and `bytes` share their ABI encoding). Returns the job id.
pub(crate) async fn post_raw_job(stack: &Stack, client: &TxSender, spec_uri: &[u8]) -> U256 {
    let d = &stack.deployment;
    let reward = U256::from(5u64) * U256::from(10u64).pow(U256::from(18u64));
    ops::approve_if_needed(client, d.token, d.job_manager, reward)
        .await
        .unwrap();
    let deadline = ops::chain_time(client).await.unwrap() + 86_400;
    let mut data = JobManager::postJobCall::SELECTOR.to_vec();
    data.extend(
        DynSolValue::Tuple(vec![
            DynSolValue::FixedBytes(B256::repeat_byte(9), 32),
            DynSolValue::Bytes(spec_uri.to_vec()),
            DynSolValue::Uint(U256::from(1u64), 16),
            DynSolValue::Uint(reward, 96),
            DynSolValue::Uint(U256::from(deadline), 32),
            DynSolValue::Uint(U256::from(1u64), 8),
        ])
        .abi_encode_params(),
    );
    let receipt = client.send(d.job_manager, data.into()).await.unwrap();
    let posted = receipt
        .inner
        .logs()
        .iter()
        .find_map(|l| JobManager::JobPosted::decode_log(&l.inner).ok())
        .expect("JobPosted in the receipt");
    // On chain, the bytes are exactly the ones sent.
    let log = receipt
        .inner
        .logs()
        .iter()
        .find(|l| l.topics().first() == Some(&JobManager::JobPosted::SIGNATURE_HASH))
        .unwrap();
    assert!(
        log.data()
            .data
            .windows(spec_uri.len().max(1))
            .any(|w| w == spec_uri),
        "the log carries the exact bytes"
    );
    posted.jobId
}

/// Registers account `i` as a worker whose metadata URI is `metadata`, byte for byte.
async fn register_raw(stack: &Stack, i: u32, metadata: &[u8]) -> String {
    let s = stack.sender(i).await;
    let mut data = WorkerRegistry::registerCall::SELECTOR.to_vec();
    data.extend(
        DynSolValue::Tuple(vec![
            DynSolValue::Uint(U256::from(1u64), 16),
            DynSolValue::Bytes(metadata.to_vec()),
        ])
        .abi_encode_params(),
    );
    s.send(stack.deployment.registry, data.into())
        .await
        .unwrap();
    format!("{:#x}", signer(i).address())
}

async fn status_of(api: &str, path: &str) -> u16 {
    reqwest::get(format!("{api}{path}"))
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The live index equals a fresh re-index of the chain at the same block (`accord rebuild`'s comparison).
async fn assert_rebuild_equal(config: &Config) {
    let report = accord::rebuild::rebuild(config, None, false, CancellationToken::new())
        .await
        .unwrap();
    assert!(report.equal(), "index differs from a re-index: {report:?}");
}

async fn job_count(api: &str) -> usize {
    get(api, "/v1/jobs?limit=200").await["items"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn tip_replaced_at_the_same_height_is_rolled_back_without_a_new_block() {
    let stack = Stack::start().await;
    stack.fund(4, 100).await;
    let client = stack.sender(4).await;
    let (coordinator, api) = stack.coordinator().await;
    let before = job_count(&api).await;

    post_raw_job(&stack, &client, b"ipfs://soon-orphaned").await;
    let head = stack.devnet.head().await;
    eventually(Duration::from_secs(30), "the job indexed", || async {
        (job_count(&api).await == before + 1).then_some(())
    })
    .await;

    // The last two blocks (approve and post) are replaced by empty ones at the same heights; nothing follows.
    stack.devnet.rpc("anvil_reorg", json!([2, []])).await;
    assert_eq!(stack.devnet.head().await, head, "the head did not move");
    eventually(
        Duration::from_secs(30),
        "the orphaned job withdrawn",
        || async { (job_count(&api).await == before).then_some(()) },
    )
    .await;
    // The rollback withdraws the job first; the replacement blocks are indexed at the next poll.
    let status = eventually(
        Duration::from_secs(30),
        "the replacement blocks indexed",
        || async {
            let status = get(&api, "/v1/status").await["chains"][0].clone();
            (status["indexed"] == head).then_some(status)
        },
    )
    .await;
    assert_eq!(status["indexed"], head, "{status}");
    assert_eq!(status["lag"], 0, "{status}");
    let canonical = stack
        .devnet
        .rpc("eth_getBlockByNumber", json!([format!("{head:#x}"), false]))
        .await;
    let stored: String =
        sqlx::query_scalar("SELECT block_hash FROM indexer_cursor WHERE chain_id = 31337")
            .fetch_one(&coordinator.pool)
            .await
            .unwrap();
    assert_eq!(
        stored,
        canonical["hash"].as_str().unwrap(),
        "the cursor is the new tip"
    );
    let orphaned = get(&api, "/v1/events?event=JobPosted").await;
    assert!(
        !orphaned.to_string().contains("soon-orphaned"),
        "no orphaned event is served: {orphaned}"
    );
    assert_rebuild_equal(&stack.config()).await;
    coordinator.cancel_token().cancel();
}

#[tokio::test(flavor = "multi_thread")]
async fn reorg_deeper_than_the_window_halts_indexing_keeps_serving_and_is_repaired() {
    let stack = Stack::start().await;
    stack.fund(4, 100).await;
    let client = stack.sender(4).await;
    let mut config = stack.config();
    config.indexer.reorg_window = 4;
    let (coordinator, api) = stack.coordinator_with(config.clone()).await;

    // A branch with a job, buried under more blocks than the window keeps.
    let snapshot = stack.devnet.rpc("evm_snapshot", json!([])).await;
    let orphan = post_raw_job(&stack, &client, b"ipfs://deep-orphan").await;
    stack.devnet.advance(1, 10).await;
    let branch_head = stack.devnet.head().await;
    eventually(Duration::from_secs(30), "the branch indexed", || async {
        (get(&api, "/v1/status").await["chains"][0]["indexed"] == branch_head).then_some(())
    })
    .await;
    assert_eq!(status_of(&api, &format!("/v1/jobs/{orphan}")).await, 200);

    // The branch is replaced by a longer one that shares none of the stored block hashes.
    assert_eq!(
        stack.devnet.rpc("evm_revert", json!([snapshot])).await,
        json!(true)
    );
    stack.devnet.advance(1, 20).await;
    let status = eventually(Duration::from_secs(30), "indexing to halt", || async {
        let s = get(&api, "/v1/status").await["chains"][0].clone();
        (!s["halted"].is_null()).then_some(s)
    })
    .await;
    let halted = &status["halted"];
    assert_eq!(halted["kind"], "deep_reorg", "{status}");
    assert!(
        halted["reason"]
            .as_str()
            .unwrap()
            .contains("accord rebuild --replace"),
        "{status}"
    );
    assert!(halted["fork_block"].as_u64().unwrap() <= branch_head);
    assert_eq!(status["caught_up"], false);
    // Still serving: liveness, the index as it was, readiness refused with the reason, the metric set.
    assert_eq!(status_of(&api, "/v1/health").await, 200);
    let ready = reqwest::get(format!("{api}/v1/ready")).await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert!(
        body.to_string()
            .contains("reorg deeper than the reorg window"),
        "{body}"
    );
    assert_eq!(status_of(&api, &format!("/v1/jobs/{orphan}")).await, 200);
    let metrics = reqwest::get(format!("{api}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("accord_indexer_halted{chain=\"eip155:31337\"} 1"),
        "{metrics}"
    );
    // A read replica serving the same index (`accord serve --api-only`) refuses readiness too.
    let (replica_addr, replica_stop, replica) = accord::coordinator::start_api_only(config.clone())
        .await
        .unwrap();
    let replica_api = format!("http://{replica_addr}");
    let replica_status = eventually(
        Duration::from_secs(10),
        "the replica to see the halt",
        || async {
            let s = get(&replica_api, "/v1/status").await["chains"][0].clone();
            (!s["halted"].is_null()).then_some(s)
        },
    )
    .await;
    assert_eq!(replica_status["halted"]["kind"], "deep_reorg");
    assert_eq!(status_of(&replica_api, "/v1/ready").await, 503);
    // The scheduler acts on nothing while the index is halted.
    let paused = eventually(
        Duration::from_secs(10),
        "the scheduler to pause",
        || async {
            let s = get(&api, "/v1/status").await["chains"][0].clone();
            s["scheduler"]["paused"].as_str().map(str::to_owned)
        },
    )
    .await;
    assert!(paused.contains("deep_reorg"), "{paused}");
    // Nothing is indexed meanwhile, however far the chain goes.
    stack.devnet.advance(1, 3).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!get(&api, "/v1/status").await["chains"][0]["halted"].is_null());

    // The operator's repair, as documented: `accord rebuild --replace` with the same configuration.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accord.toml");
    std::fs::write(&file, toml::to_string(&config).unwrap()).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["rebuild", "--replace", "--config"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "rebuild --replace failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("replaced the live index"), "{stdout}");

    // The running coordinator resumes by itself: ready, the orphaned job gone, scheduling again.
    eventually(Duration::from_secs(30), "ready again", || async {
        (status_of(&api, "/v1/ready").await == 200).then_some(())
    })
    .await;
    let status = get(&api, "/v1/status").await["chains"][0].clone();
    assert!(status["halted"].is_null(), "{status}");
    eventually(
        Duration::from_secs(10),
        "the replica ready again",
        || async { (status_of(&replica_api, "/v1/ready").await == 200).then_some(()) },
    )
    .await;
    replica_stop.cancel();
    replica.await.unwrap().unwrap();
    assert_eq!(status_of(&api, &format!("/v1/jobs/{orphan}")).await, 404);
    eventually(
        Duration::from_secs(10),
        "the scheduler to resume",
        || async {
            get(&api, "/v1/status").await["chains"][0]["scheduler"]["paused"]
                .is_null()
                .then_some(())
        },
    )
    .await;
    stack.devnet.advance(1, 2).await;
    let head = stack.devnet.head().await;
    eventually(
        Duration::from_secs(30),
        "indexing to follow again",
        || async { (get(&api, "/v1/status").await["chains"][0]["indexed"] == head).then_some(()) },
    )
    .await;
    assert_rebuild_equal(&config).await;
    coordinator.cancel_token().cancel();
}

/// A loopback JSON-RPC proxy in front of anvil that repeats every log of each `eth_getLogs` answer; with
/// `disagree`, the repeated copy of the first log carries a different transaction hash. A fake: anvil cannot be
/// made to repeat logs, but a node or a load balancer in front of several can; this speaks JSON-RPC over HTTP
/// like them.
async fn repeating_proxy(upstream: String, disagree: bool) -> String {
    crate::utils::rewriting_proxy(upstream, move |request, mut answer| {
        if request["method"] == "eth_getLogs"
            && let Some(logs) = answer["result"].as_array_mut()
        {
            let mut doubled = Vec::with_capacity(logs.len() * 2);
            for (i, log) in logs.iter().enumerate() {
                doubled.push(log.clone());
                let mut copy = log.clone();
                if disagree && i == 0 {
                    copy["transactionHash"] = json!(format!("0x{}", "ee".repeat(32)));
                }
                doubled.push(copy);
            }
            *logs = doubled;
        }
        answer
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_logs_are_deduplicated_and_conflicting_ones_refused() {
    let stack = Stack::start().await;
    stack.devnet.scenario(1);
    stack.fund(4, 100).await;
    let client = stack.sender(4).await;
    post_raw_job(&stack, &client, b"ipfs://after-the-scenario").await;

    // Identical repeats: one copy kept, the index equals a re-index through the node itself, and the repeats
    // are counted.
    let mut config = stack.config();
    config.chain.rpc_url = repeating_proxy(stack.devnet.anvil.url.clone(), false).await;
    let (coordinator, api) = stack.coordinator_with(config).await;
    let head = stack.devnet.head().await;
    eventually(Duration::from_secs(30), "the head indexed", || async {
        (get(&api, "/v1/status").await["chains"][0]["indexed"] == head).then_some(())
    })
    .await;
    let events = get(&api, "/v1/events?limit=500").await;
    let items = events["items"].as_array().unwrap();
    let mut positions: Vec<_> = items
        .iter()
        .map(|e| (e["block_number"].as_i64(), e["log_index"].as_i64()))
        .collect();
    let served = positions.len();
    positions.dedup();
    assert_eq!(positions.len(), served, "each log served once");
    let logs = stack
        .devnet
        .rpc("eth_getLogs", json!([{"fromBlock": "0x0", "toBlock": format!("{head:#x}"),
            "address": stack.devnet.manifest.contracts.iter().iter().map(|(_, c)| c.address.to_string()).collect::<Vec<_>>()}]))
        .await;
    assert_eq!(
        served,
        logs.as_array().unwrap().len(),
        "as many as the node has"
    );
    let metrics = reqwest::get(format!("{api}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let repeated: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("accord_rpc_duplicate_logs_total "))
        .unwrap_or_else(|| panic!("no duplicate counter in {metrics}"))
        .parse()
        .unwrap();
    assert!(repeated >= served as f64, "{repeated} < {served}");
    coordinator.cancel_token().cancel();
    let _ = coordinator.wait().await;
    assert_rebuild_equal(&stack.config()).await;

    // Repeats that disagree: no answer is trusted, nothing of it is indexed.
    let fresh = stack._cluster.create_database("conflict").await.unwrap();
    let mut config = stack.config();
    config.database.url = fresh.clone();
    // Refused answers are retried (another backend may answer); this node always repeats, so keep it short.
    config.indexer.max_retries = 2;
    config.chain.rpc_url = repeating_proxy(stack.devnet.anvil.url.clone(), true).await;
    let started = accord::coordinator::Coordinator::start(config, None).await;
    let mut coordinator = started.unwrap();
    let err = coordinator
        .wait_ready(Duration::from_secs(30))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("two different logs"), "{err:#}");
    let pool = accord::store::connect(&fresh, 1).await.unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM raw_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 0, "nothing of a conflicting answer is stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn strings_with_nul_and_invalid_utf8_round_trip_exactly_through_every_route() {
    let stack = Stack::start().await;
    stack.fund(4, 100).await;
    let client = stack.sender(4).await;
    let (coordinator, api) = stack.coordinator().await;

    // Subscribe before anything is posted.
    let sse = reqwest::get(format!(
        "{api}/v1/events/stream?contract=JobManager&event=JobPosted"
    ))
    .await
    .unwrap();
    assert_eq!(sse.status(), 200);
    let mut sse = sse.bytes_stream();

    let nul: &[u8] = b"ipfs://a\0b\0";
    let invalid: &[u8] = b"ipfs://\xc3\x28\xff\0end";
    let plain: &[u8] = "ipfs://é€".as_bytes();
    let ids = [
        post_raw_job(&stack, &client, nul).await,
        post_raw_job(&stack, &client, invalid).await,
        post_raw_job(&stack, &client, plain).await,
    ];
    let w_nul = register_raw(&stack, 5, b"meta\0data").await;
    let w_invalid = register_raw(&stack, 6, b"\xfe\xffmeta").await;
    eventually(Duration::from_secs(30), "the workers indexed", || async {
        (status_of(&api, &format!("/v1/workers/{w_invalid}")).await == 200).then_some(())
    })
    .await;

    // (exact string when UTF-8, else the replaced text; the exact bytes in hex when not UTF-8)
    let invalid_hex = format!("0x{}", alloy::hex::encode(invalid));
    let want = [
        (json!("ipfs://a\u{0}b\u{0}"), Value::Null),
        (
            json!("ipfs://\u{FFFD}(\u{FFFD}\u{FFFD}end"),
            json!(invalid_hex),
        ),
        (json!("ipfs://é€"), Value::Null),
    ];
    for (id, (text, hex)) in ids.iter().zip(&want) {
        let job = get(&api, &format!("/v1/jobs/{id}")).await;
        assert_eq!(&job["spec_uri"], text, "{job}");
        assert_eq!(&job["spec_uri_hex"], hex, "{job}");
    }
    let list = get(&api, "/v1/jobs?limit=200").await;
    for (id, (text, hex)) in ids.iter().zip(&want) {
        let job = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["job_id"] == id.to_string())
            .unwrap();
        assert_eq!((&job["spec_uri"], &job["spec_uri_hex"]), (text, hex));
    }
    // The raw JSON says NUL as the escape, not as U+FFFD.
    let raw = reqwest::get(format!("{api}/v1/jobs/{}", ids[0]))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        raw.contains(r#""spec_uri":"ipfs://a\u0000b\u0000""#),
        "{raw}"
    );

    let w = get(&api, &format!("/v1/workers/{w_nul}")).await;
    assert_eq!(
        (&w["metadata_uri"], &w["metadata_uri_hex"]),
        (&json!("meta\u{0}data"), &Value::Null)
    );
    let w = get(&api, &format!("/v1/workers/{w_invalid}")).await;
    assert_eq!(
        (&w["metadata_uri"], &w["metadata_uri_hex"]),
        (&json!("\u{FFFD}\u{FFFD}meta"), &json!("0xfeff6d657461"))
    );
    let workers = get(&api, "/v1/workers?limit=200").await;
    assert!(
        workers["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["metadata_uri"] == "meta\u{0}data"),
        "{workers}"
    );

    let events = get(&api, "/v1/events?event=JobPosted&limit=200").await;
    let args: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["args"])
        .collect();
    for (id, (text, hex)) in ids.iter().zip(&want) {
        let a = args.iter().find(|a| a["jobId"] == id.to_string()).unwrap();
        assert_eq!(&a["specURI"], text, "{a}");
        assert_eq!(a.get("specURI_hex").unwrap_or(&Value::Null), hex, "{a}");
    }
    let registered = get(&api, "/v1/events?event=WorkerRegistered&limit=200").await;
    assert!(
        registered["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["args"]["metadataURI"] == "meta\u{0}data"),
        "{registered}"
    );

    // The live stream says the same.
    let mut text = String::new();
    let mut seen: Vec<Value> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while seen.len() < 3 {
        let chunk = tokio::time::timeout_at(deadline, sse.next())
            .await
            .expect("three JobPosted messages on the stream")
            .unwrap()
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = text.find("\n\n") {
            let message: String = text.drain(..end + 2).collect();
            if let Some(data) = message.lines().find_map(|l| l.strip_prefix("data:")) {
                seen.push(serde_json::from_str(data.trim_start()).unwrap());
            }
        }
    }
    for (message, (text, hex)) in seen.iter().zip(&want) {
        assert_eq!(&message["args"]["specURI"], text, "{message}");
        assert_eq!(
            message["args"].get("specURI_hex").unwrap_or(&Value::Null),
            hex
        );
    }

    // The index holds no replaced byte that it cannot give back, and re-indexes to the same rows.
    let exact: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT coalesce(spec_uri_raw, convert_to(spec_uri, 'UTF8')) FROM jobs ORDER BY job_id",
    )
    .fetch_all(&coordinator.pool)
    .await
    .unwrap();
    for bytes in [nul, invalid, plain] {
        assert!(exact.iter().any(|e| e == bytes), "{bytes:?} stored exactly");
    }
    assert_rebuild_equal(&stack.config()).await;
    coordinator.cancel_token().cancel();
}
