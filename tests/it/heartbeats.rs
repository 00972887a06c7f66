//! `POST /v1/heartbeats` against a real PostgreSQL, from an attacker's side too: the router driven with
//! `oneshot`, workers inserted into the index with SQL, heartbeats signed by real keys. The path keeps the
//! registered set and each worker's latest stored heartbeat in memory and writes heartbeats in group commits;
//! none of that may change what is stored or what the answer says.

use std::time::Duration;

use accord::chain::evm::offchain::{self, Heartbeat};
use accord::config::ApiConfig;
use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt;

use crate::api::{database, manifest, state};

const CHAIN: i64 = 31337;

fn sign(key: &PrivateKeySigner, capacity: u32, timestamp: u64) -> Value {
    sign_as(key, key.address(), capacity, timestamp)
}

/// A heartbeat naming `worker`, signed by `key`.
fn sign_as(key: &PrivateKeySigner, worker: Address, capacity: u32, timestamp: u64) -> Value {
    let beat = Heartbeat {
        worker,
        capacity,
        timestamp,
    };
    let domain = offchain::domain(
        CHAIN as u64,
        accord::chain::evm::Deployment::from_manifest(&manifest())
            .unwrap()
            .registry,
    );
    let sig = offchain::sign(key, &domain, &beat).unwrap();
    json!({
        "worker": format!("{worker:#x}"),
        "capacity": capacity,
        "timestamp": timestamp,
        "signature": format!("0x{}", alloy::hex::encode(sig.as_bytes())),
    })
}

async fn post(app: &Router, body: &Value) -> (u16, Value) {
    let request = Request::post("/v1/heartbeats")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

async fn register(pool: &PgPool, worker: Address) {
    let a = format!("{worker:#x}");
    sqlx::query(
        "INSERT INTO workers (chain_id, address, stream, capabilities, metadata_uri, stake, pending, unlock_at, \
         jailed, slashed_total, registered_block, updated_block) \
         VALUES ($1, $2, 'worker:' || $2, 1, '', 200000000000000000000, 0, 0, false, 0, 1, 1)",
    )
    .bind(CHAIN)
    .bind(&a)
    .execute(pool)
    .await
    .unwrap();
}

/// The stored (capacity, signed_at, received_at as text) of `worker`.
async fn stored(pool: &PgPool, worker: Address) -> Option<(i32, i64, String)> {
    sqlx::query_as(
        "SELECT capacity, signed_at, received_at::text FROM heartbeats WHERE chain_id = $1 AND worker = $2",
    )
    .bind(CHAIN)
    .bind(format!("{worker:#x}"))
    .fetch_optional(pool)
    .await
    .unwrap()
}

async fn app_with(config: ApiConfig) -> (Router, PgPool, std::sync::Arc<accord::pg::TempCluster>) {
    let (pool, cluster) = database().await;
    let (state, _status, _events) = state(pool.clone(), config);
    (accord::api::router(state), pool, cluster)
}

#[tokio::test(flavor = "multi_thread")]
async fn heartbeat_replays_stale_copies_and_strangers_change_nothing() {
    let (app, pool, _cluster) = app_with(ApiConfig::default()).await;
    let (w1, w2, stranger) = (
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
    );
    register(&pool, w1.address()).await;
    let now = offchain::unix_now();

    let first = sign(&w1, 3, now);
    let (code, body) = post(&app, &first).await;
    assert_eq!((code, &body["recorded"]), (202, &json!(true)), "{body}");
    let after_first = stored(&pool, w1.address()).await.unwrap();
    assert_eq!((after_first.0, after_first.1), (3, now as i64));

    // A replay of the same message, and an older one with another capacity: 202, not recorded, nothing changes
    // (not even the time it was received).
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (code, body) = post(&app, &first).await;
    assert_eq!((code, &body["recorded"]), (202, &json!(false)), "{body}");
    let (code, body) = post(&app, &sign(&w1, 9, now - 5)).await;
    assert_eq!((code, &body["recorded"]), (202, &json!(false)), "{body}");
    assert_eq!(stored(&pool, w1.address()).await.unwrap(), after_first);

    // Too old, or too far ahead: 401 and nothing stored.
    assert_eq!(post(&app, &sign(&w1, 4, now - 600)).await.0, 401);
    assert_eq!(post(&app, &sign(&w1, 4, now + 600)).await.0, 401);
    // Signed by someone else in w1's name.
    let (code, body) = post(&app, &sign_as(&stranger, w1.address(), 4, now + 1)).await;
    assert_eq!(code, 401, "{body}");
    assert_eq!(stored(&pool, w1.address()).await.unwrap(), after_first);

    // Not registered: 403 (the registered set is loaded by now, and the index is asked too), nothing stored.
    let (code, body) = post(&app, &sign(&stranger, 2, now)).await;
    assert_eq!(code, 403, "{body}");
    assert!(stored(&pool, stranger.address()).await.is_none());

    // Registered after the set was loaded: accepted at once (a miss is checked against the index).
    let (code, _) = post(&app, &sign(&w2, 2, now)).await;
    assert_eq!(code, 403);
    register(&pool, w2.address()).await;
    let (code, body) = post(&app, &sign(&w2, 2, now)).await;
    assert_eq!((code, &body["recorded"]), (202, &json!(true)), "{body}");

    // A newer heartbeat replaces the stored one.
    let (code, body) = post(&app, &sign(&w1, 7, now + 1)).await;
    assert_eq!((code, &body["recorded"]), (202, &json!(true)), "{body}");
    let latest = stored(&pool, w1.address()).await.unwrap();
    assert_eq!((latest.0, latest.1), (7, now as i64 + 1));
    // The older one, replayed after it, still changes nothing.
    let (code, body) = post(&app, &sign(&w1, 3, now)).await;
    assert_eq!((code, &body["recorded"]), (202, &json!(false)), "{body}");
    assert_eq!(stored(&pool, w1.address()).await.unwrap(), latest);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_from_one_worker_stores_its_newest_heartbeat_once() {
    // Limits wide enough that the flood reaches the writer (the default per-worker limits refuse it with 429).
    let mut config = ApiConfig::default();
    config.limits.ip_per_minute = 1_000_000;
    config.limits.ip_max_in_flight = 1_000;
    config.limits.worker_per_minute = 1_000_000;
    config.limits.worker_max_in_flight = 1_000;
    let (app, pool, _cluster) = app_with(config).await;
    let w = PrivateKeySigner::random();
    register(&pool, w.address()).await;
    let now = offchain::unix_now();

    // 10 copies each of 4 timestamps (capacity = timestamp offset), all at once.
    let bodies: Vec<(u64, Value)> = (0..40u64)
        .map(|i| {
            let ahead = i % 4 + 1;
            (ahead, sign(&w, ahead as u32, now + ahead))
        })
        .collect();
    let answers = futures::future::join_all(bodies.iter().map(|(ahead, body)| {
        let app = app.clone();
        async move { (*ahead, post(&app, body).await) }
    }))
    .await;
    let mut recorded = [0usize; 5];
    for (ahead, (code, body)) in &answers {
        assert_eq!(*code, 202, "{body}");
        if body["recorded"] == true {
            recorded[*ahead as usize] += 1;
        }
    }
    // No message is recorded twice; the newest is recorded exactly once, and it is what the table holds.
    assert!(recorded.iter().all(|&n| n <= 1), "{recorded:?}");
    assert_eq!(recorded[4], 1, "{recorded:?}");
    let (capacity, signed_at, _) = stored(&pool, w.address()).await.unwrap();
    assert_eq!((capacity, signed_at), (4, now as i64 + 4));

    // The same flood again: every copy answered not recorded, the row unchanged.
    let before = stored(&pool, w.address()).await.unwrap();
    let answers = futures::future::join_all(bodies.iter().map(|(_, body)| {
        let app = app.clone();
        async move { post(&app, body).await }
    }))
    .await;
    assert!(
        answers
            .iter()
            .all(|(code, body)| *code == 202 && body["recorded"] == false),
        "{answers:?}"
    );
    assert_eq!(stored(&pool, w.address()).await.unwrap(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn many_workers_at_once_are_each_recorded_in_few_commits() {
    let mut config = ApiConfig::default();
    config.limits.ip_per_minute = 1_000_000;
    config.limits.ip_max_in_flight = 1_000;
    let (app, pool, _cluster) = app_with(config).await;
    let workers: Vec<PrivateKeySigner> = (0..200).map(|_| PrivateKeySigner::random()).collect();
    for w in &workers {
        register(&pool, w.address()).await;
    }
    let now = offchain::unix_now();
    let bodies: Vec<Value> = workers
        .iter()
        .enumerate()
        .map(|(i, w)| sign(w, 1 + i as u32 % 7, now))
        .collect();
    let answers = futures::future::join_all(bodies.iter().map(|body| {
        let app = app.clone();
        async move { post(&app, body).await }
    }))
    .await;
    for (code, body) in &answers {
        assert_eq!((*code, &body["recorded"]), (202, &json!(true)), "{body}");
    }
    // Each is in the table, with its own capacity, as soon as it was answered.
    for (i, w) in workers.iter().enumerate() {
        let (capacity, signed_at, _) = stored(&pool, w.address()).await.unwrap();
        assert_eq!((capacity, signed_at), (1 + i as i32 % 7, now as i64));
    }
    // Rows written by one statement share its transaction's now(): far fewer commits than heartbeats.
    let commits: i64 = sqlx::query_scalar("SELECT count(DISTINCT received_at) FROM heartbeats")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(commits < 100, "{commits} commits for 200 heartbeats");
}
