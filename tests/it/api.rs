//! The REST API against a real PostgreSQL: fixture rows inserted with SQL into the derived tables and the raw
//! event log, the router driven with `oneshot`, plus one run over a real socket with graceful shutdown.
//!
//! The tests share one throwaway cluster (started by whichever test needs it first, stopped when the last one
//! using it ends) and each works in its own database.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use accord::api::{AppState, router, serve};
use accord::config::{ApiConfig, DaConfig};
use accord::deployment::Manifest;
use accord::domain::{ChainId, EventRecord, LiveEvent};
use accord::indexer::Status;
use accord::pg::TempCluster;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use futures::StreamExt;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

const CHAIN: u64 = 31337;
const CLIENT: &str = "0xc1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1";
const CLIENT2: &str = "0xc2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2";
const W1: &str = "0x1111111111111111111111111111111111111111";
const W2: &str = "0x2222222222222222222222222222222222222222";
const W3: &str = "0x3333333333333333333333333333333333333333";
const TREASURY: &str = "0x7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e";
const VOTER_A: &str = "0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const VOTER_B: &str = "0xb1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1";
/// The largest uint256: ids are NUMERIC(78,0) and must order numerically, not as text.
const MAX_ID: &str =
    "115792089237316195423570985008687907853269984665640564039457584007913129639935";
/// A 77-digit proposal id, like the hashes the governor produces.
const BIG_PROPOSAL: &str =
    "10000000000000000000000000000000000000000000000000000000000000000000000000006";

/// Derived rows and raw events for chain 31337, plus one job and event of another chain that must never show.
const FIXTURE: &str = r#"
INSERT INTO jobs (chain_id, job_id, stream, client, spec_hash, spec_uri, required_capabilities, reward, deadline,
                  max_attempts, attempts_left, status, worker, due, posted_block, updated_block) VALUES
 (31337, 1,  'job:1',  '{C}',  '0x5p1', 'ipfs://spec1', 3, 1000000000000000000000000, 1700000000, 3, 1, 'paid',      '{W1}', 1700003600, 10, 25),
 (31337, 2,  'job:2',  '{C}',  '0x5p2', 'ipfs://spec2', 1, 2000, 1700000100, 2, 0, 'submitted', '{W1}', 1700003700, 12, 24),
 (31337, 3,  'job:3',  '{C2}', '0x5p3', 'ipfs://spec3', 0, 3000, 1700000200, 1, 1, 'open',      NULL,   NULL,       13, 13),
 (31337, 4,  'job:4',  '{C2}', '0x5p4', 'ipfs://spec4', 0, 4000, 1700000300, 1, 0, 'assigned',  '{W2}', 1700003900, 14, 16),
 (31337, 5,  'job:5',  '{C}',  '0x5p5', 'ipfs://spec5', 0, 5000, 1700000400, 1, 1, 'open',      NULL,   NULL,       15, 15),
 (31337, 6,  'job:6',  '{C}',  '0x5p6', 'ipfs://spec6', 0, 6000, 1700000500, 1, 1, 'cancelled', NULL,   NULL,       15, 15),
 (31337, 7,  'job:7',  '{C2}', '0x5p7', 'ipfs://spec7', 0, 7000, 1700000600, 1, 1, 'open',      NULL,   NULL,       16, 16),
 (31337, 10, 'job:10', '{C}',  '0x5pa', 'ipfs://spec10', 0, 10000, 1700000700, 1, 1, 'open',     NULL,   NULL,       17, 17),
 (31337, {MAX}, 'job:{MAX}', '{C2}', '0x5pm', 'ipfs://specmax', 0, 1, 1700000800, 1, 1, 'open', NULL,   NULL,       18, 18),
 (1,     8,  'job:8',  '{C}',  '0x5p8', 'ipfs://other', 0, 8, 1, 1, 1, 'open', NULL, NULL, 1, 1);

INSERT INTO assignments (chain_id, job_id, attempt, stream, worker, due, outcome, slashed, assigned_block) VALUES
 (31337, 1, 1, 'job:1', '{W2}', 1700001000, 'expired', 500000000000000000, 11),
 (31337, 1, 2, 'job:1', '{W1}', 1700003600, 'paid', 0, 21),
 (31337, 2, 1, 'job:2', '{W2}', 1700002000, 'disputed', 0, 13),
 (31337, 2, 2, 'job:2', '{W1}', 1700003700, 'submitted', 0, 22),
 (31337, 4, 1, 'job:4', '{W2}', 1700003900, 'active', 0, 16);

INSERT INTO results (chain_id, job_id, attempt, stream, worker, da_kind, commitment, size, locator, challenge_ends_at,
                     block_number, tx_hash) VALUES
 (31337, 1, 2, 'job:1', '{W1}', 1, '0xc0de01', 1024, 'blob://one', 1700007200, 23, '0x7a01'),
 (31337, 2, 1, 'job:2', '{W2}', 1, '0xc0de21', 10, 'blob://two-1', 1700007300, 14, '0x7a21'),
 (31337, 2, 2, 'job:2', '{W1}', 2, '0xc0de22', 20, 'blob://two-2', 1700007400, 24, '0x7a22');

INSERT INTO payments (chain_id, block_number, log_index, stream, kind, job_id, recipient, amount, fee, tx_hash) VALUES
 (31337, 15, 0, 'job:6', 'refund', 6, '{C}', 6000, 0, '0x7b01'),
 (31337, 25, 3, 'job:1', 'reward', 1, '{W1}', 975000000000000000000000, 25000000000000000000000, '0x7b02'),
 (31337, 26, 0, 'job:2', 'reward', 2, '{W1}', 1950, 50, '0x7b03'),
 (31337, 27, 1, 'job:4', 'reward', 4, '{W2}', 3900, 100, '0x7b04'),
 (31337, 28, 0, 'fees',  'fee_sweep', NULL, '{T}', 175, 0, '0x7b05');

INSERT INTO workers (chain_id, address, stream, capabilities, metadata_uri, stake, pending, unlock_at, jailed,
                     slashed_total, registered_block, updated_block) VALUES
 (31337, '{W1}', 'worker:{W1}', 3, 'https://w1.example', 5000000000000000000000, 0, 0, false, 7, 5, 30),
 (31337, '{W2}', 'worker:{W2}', 1, 'https://w2.example', 100, 50, 1700009999, true, 500000000000000007, 6, 30),
 (31337, '{W3}', 'worker:{W3}', 0, '', 0, 0, 0, false, 0, 8, 8);

INSERT INTO slashes (chain_id, block_number, log_index, stream, worker, job_id, recipient, amount, from_stake,
                     from_pending, tx_hash) VALUES
 (31337, 20, 1, 'job:1', '{W2}', 1, '{T}', 500000000000000000, 500000000000000000, 0, '0x7c01'),
 (31337, 30, 0, 'worker:{W2}', '{W2}', NULL, '{T}', 7, 5, 2, '0x7c02'),
 (31337, 30, 2, 'job:2', '{W1}', 2, '{T}', 7, 7, 0, '0x7c03');

INSERT INTO proposals (chain_id, proposal_id, stream, proposer, description, targets, calldatas, vote_start, vote_end,
                       for_votes, against_votes, abstain_votes, queued_eta, executed, canceled, created_block) VALUES
 (31337, 1, 'proposal:1', '{A}', 'canceled one', '{{T}}', '{0x01}', 10, 20, 0, 0, 0, NULL, false, true, 5),
 (31337, 2, 'proposal:2', '{A}', 'executed one', '{{T}}', '{0x02}', 10, 20, 900, 0, 0, 1700000000, true, false, 6),
 (31337, 3, 'proposal:3', '{A}', 'queued one', '{{T}}', '{0x03}', 10, 20, 900, 0, 0, 1700005000, false, false, 7),
 (31337, 4, 'proposal:4', '{A}', 'pending one', '{}', '{}', 150, 200, 0, 0, 0, NULL, false, false, 8),
 (31337, 5, 'proposal:5', '{A}', 'active one', '{}', '{}', 90, 100, 10, 0, 0, NULL, false, false, 9),
 (31337, {P}, 'proposal:{P}', '{A}', 'succeeded one', '{{T},{W1}}', '{0xaa,0xbb}', 80, 95, 600, 100, 0, NULL, false, false, 10),
 (31337, 7, 'proposal:7', '{A}', 'no quorum', '{}', '{}', 80, 95, 300, 100, 50, NULL, false, false, 11),
 (31337, 8, 'proposal:8', '{A}', 'tied', '{}', '{}', 80, 95, 500, 500, 0, NULL, false, false, 12);

INSERT INTO votes (chain_id, proposal_id, voter, stream, support, weight, reason, block_number) VALUES
 (31337, {P}, '{A}', 'proposal:{P}', 1, 600, 'good idea', 85),
 (31337, {P}, '{B}', 'proposal:{P}', 0, 100, '', 86);

INSERT INTO params (chain_id, contract, key, stream, value, block_number) VALUES
 (31337, 'AccordToken', 'totalSupply', 'param:AccordToken:totalSupply', 10000, 1),
 (31337, 'AccordGovernor', 'quorumNumerator', 'param:AccordGovernor:quorumNumerator', 4, 3),
 (31337, 'JobManager', 'protocolFeeBps', 'param:JobManager:protocolFeeBps', 250, 40),
 (31337, 'JobManager', 'challengeWindow', 'param:JobManager:challengeWindow', 3600, 7),
 (31337, 'WorkerRegistry', 'minStake', 'param:WorkerRegistry:minStake', 1000000000000000000000, 6);

INSERT INTO raw_events (chain_id, block_number, block_hash, log_index, tx_hash, contract, address, event, stream, args) VALUES
 (31337, 10, '0xb10', 0, '0x7d01', 'JobManager', '0x0165878a594ca255338adfa4d48449f69242eb8f', 'JobPosted', 'job:1', '{"jobId": "1", "reward": "1000000000000000000000000"}'),
 (31337, 10, '0xb10', 1, '0x7d02', 'WorkerRegistry', '0x5fc8d32690cc91d4c39d9d3abcbd16989f875707', 'WorkerRegistered', 'worker:{W1}', '{"worker": "{W1}"}'),
 (31337, 11, '0xb11', 0, '0x7d03', 'JobManager', '0x0165878a594ca255338adfa4d48449f69242eb8f', 'JobAssigned', 'job:1', '{"jobId": "1", "worker": "{W2}"}'),
 (31337, 12, '0xb12', 0, '0x7d04', 'JobManager', '0x0165878a594ca255338adfa4d48449f69242eb8f', 'JobPosted', 'job:2', '{"jobId": "2", "reward": "2000"}'),
 (31337, 12, '0xb12', 5, '0x7d05', 'AccordToken', '0x5fbdb2315678afecb367f032d93f642f64180aa3', 'Transfer', 'fees', '{"value": "5"}'),
 (1,     12, '0xc12', 0, '0x7d06', 'JobManager', '0x0165878a594ca255338adfa4d48449f69242eb8f', 'JobPosted', 'job:8', '{"jobId": "8"}');
"#;

static CLUSTER: tokio::sync::Mutex<Weak<TempCluster>> = tokio::sync::Mutex::const_new(Weak::new());
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// A fresh migrated database on the shared cluster (also used by the DA tests).
pub(crate) async fn database() -> (PgPool, Arc<TempCluster>) {
    let (url, cluster) = database_url().await;
    let pool = accord::store::connect(&url, 5)
        .await
        .expect("connect and migrate");
    (pool, cluster)
}

/// The URL of a fresh database on the shared cluster, not yet migrated.
pub(crate) async fn database_url() -> (String, Arc<TempCluster>) {
    let cluster = {
        let mut slot = CLUSTER.lock().await;
        match slot.upgrade() {
            Some(cluster) => cluster,
            None => {
                let cluster = Arc::new(
                    TempCluster::start()
                        .await
                        .expect("start a throwaway PostgreSQL"),
                );
                *slot = Arc::downgrade(&cluster);
                cluster
            }
        }
    };
    let name = format!(
        "api_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::Relaxed)
    );
    let url = cluster
        .create_database(&name)
        .await
        .expect("create a test database");
    (url, cluster)
}

struct Fixture {
    app: Router,
    pool: PgPool,
    status: watch::Sender<Status>,
    events: broadcast::Sender<LiveEvent>,
    // Dropped last: the pool above uses it.
    _cluster: Arc<TempCluster>,
}

fn status() -> Status {
    Status {
        chain_id: CHAIN,
        head: 100,
        indexed: 98,
        confirmations: 2,
        caught_up: true,
        halted: None,
        indexed_at: None,
        governor_clock: None,
    }
}

pub(crate) fn manifest() -> Manifest {
    Manifest::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deployments/31337.json"))
        .unwrap()
}

pub(crate) fn state(
    pool: PgPool,
    config: ApiConfig,
) -> (
    AppState,
    watch::Sender<Status>,
    broadcast::Sender<LiveEvent>,
) {
    let (status_tx, status_rx) = watch::channel(status());
    let (events, _) = broadcast::channel(4);
    let da_config = DaConfig::default();
    let da = Arc::new(accord::da::from_config(&da_config, pool.clone()).unwrap());
    let state = AppState {
        pool,
        chains: vec![accord::api::ServedChain::new(manifest(), status_rx, "")],
        events: events.clone(),
        stream: None,
        config,
        metrics: None,
        da,
        da_config,
    };
    (state, status_tx, events)
}

async fn fixture_with(config: ApiConfig) -> Fixture {
    let (pool, cluster) = database().await;
    let sql = FIXTURE
        .replace("{C2}", CLIENT2)
        .replace("{C}", CLIENT)
        .replace("{W1}", W1)
        .replace("{W2}", W2)
        .replace("{W3}", W3)
        .replace("{T}", TREASURY)
        .replace("{A}", VOTER_A)
        .replace("{B}", VOTER_B)
        .replace("{MAX}", MAX_ID)
        .replace("{P}", BIG_PROPOSAL);
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&pool)
        .await
        .expect("insert the fixture");
    let (state, status, events) = state(pool.clone(), config);
    Fixture {
        app: router(state),
        pool,
        status,
        events,
        _cluster: cluster,
    }
}

async fn fixture() -> Fixture {
    fixture_with(ApiConfig::default()).await
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{status}: body is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, headers, body)
}

async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    let (status, _, body) = send(app, Request::get(uri).body(Body::empty()).unwrap()).await;
    (status, body)
}

/// GET that must answer 200.
async fn ok(app: &Router, uri: &str) -> Value {
    let (status, body) = get(app, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    body
}

/// Follows `next_cursor` from `uri` (which already has a query string) and returns each page's items.
async fn pages(app: &Router, uri: &str) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    let mut next = uri.to_string();
    loop {
        let body = ok(app, &next).await;
        out.push(body["items"].as_array().unwrap().clone());
        match body["next_cursor"].as_str() {
            Some(cursor) => next = format!("{uri}&cursor={cursor}"),
            None => {
                assert!(body["next_cursor"].is_null(), "{body}");
                return out;
            }
        }
        assert!(out.len() < 50, "pagination does not end");
    }
}

fn ids(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| {
            i[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key} in {i}"))
                .to_string()
        })
        .collect()
}

fn page_ids(pages: &[Vec<Value>], key: &str) -> Vec<Vec<String>> {
    pages.iter().map(|p| ids(p, key)).collect()
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str, message: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let text = body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("message in {body}"));
    assert!(text.contains(message), "expected {message:?} in {text:?}");
    assert_eq!(
        body.as_object().unwrap().len(),
        1,
        "only `error` at the top: {body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_unknown_routes_answer_json() {
    let f = fixture().await;
    assert_eq!(ok(&f.app, "/v1/health").await, json!({"status": "ok"}));
    let (status, body) = get(&f.app, "/v1/nope").await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "not_found",
        "no route for /v1/nope",
    );
    let (status, headers, body) = send(
        &f.app,
        Request::post("/v1/jobs").body(Body::empty()).unwrap(),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed",
    );
    assert!(
        headers
            .get(header::ALLOW)
            .is_some_and(|v| v.to_str().unwrap().contains("GET")),
        "{headers:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn status_reports_progress_lag_and_contracts() {
    let f = fixture().await;
    let body = ok(&f.app, "/v1/status").await;
    assert_eq!(
        body,
        json!({
            "chains": [{
                "chain": "eip155:31337", "chain_id": 31337, "family": "evm", "head": 100, "indexed": 98, "lag": 2,
                "confirmations": 2, "caught_up": true, "halted": null,
                "contracts": {
                    "AccordToken": {"address": "0x5fbdb2315678afecb367f032d93f642f64180aa3", "deploy_block": 1},
                    "TimelockController": {"address": "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512", "deploy_block": 2},
                    "AccordGovernor": {"address": "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0", "deploy_block": 3},
                    "WorkerRegistry": {"address": "0x5fc8d32690cc91d4c39d9d3abcbd16989f875707", "deploy_block": 6},
                    "JobManager": {"address": "0x0165878a594ca255338adfa4d48449f69242eb8f", "deploy_block": 7}
                },
                "scheduler": {"enabled": false, "leader": false, "strategy": "", "account": null, "assigned": 0,
                              "refused": 0, "housekeeping": 0, "last_error": null, "paused": null}
            }],
            "caught_up": true,
            "da": {"primary": "local", "secondary": null, "pending": 0, "oldest_pending": null},
            "stream": null
        })
    );
    // The status is live: a new head shows at once.
    f.status.send_modify(|s| {
        s.head = 150;
        s.indexed = 120;
    });
    let body = ok(&f.app, "/v1/status").await["chains"][0].clone();
    assert_eq!(
        (
            body["head"].as_u64(),
            body["indexed"].as_u64(),
            body["lag"].as_u64()
        ),
        (Some(150), Some(120), Some(30))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_follows_the_indexer_status() {
    let f = fixture().await;
    f.status.send_modify(|s| {
        s.caught_up = false;
        s.indexed = 40;
    });
    let (status, body) = get(&f.app, "/v1/ready").await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "not_ready",
        "catching up: block 40 of 100",
    );

    f.status.send_modify(|s| s.caught_up = true);
    assert_eq!(ok(&f.app, "/v1/ready").await, json!({"status": "ready"}));

    f.status.send_modify(|s| {
        s.halted = Some(accord::indexer::Halt {
            kind: "deep_reorg".into(),
            reason: "reorg deeper than the window at block 90".into(),
            fork_block: Some(90),
            since: 1,
        })
    });
    let (status, body) = get(&f.app, "/v1/ready").await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "not_ready",
        "halted: reorg deeper than the window",
    );
    // Liveness does not depend on readiness.
    assert_eq!(ok(&f.app, "/v1/health").await["status"], "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_filter_and_paginate_without_gaps() {
    let f = fixture().await;
    let all = ["1", "2", "3", "4", "5", "6", "7", "10", MAX_ID];

    let body = ok(&f.app, "/v1/jobs").await;
    assert_eq!(
        ids(body["items"].as_array().unwrap(), "job_id"),
        all,
        "default page holds all, numeric order"
    );
    assert!(body["next_cursor"].is_null());
    assert_eq!(
        body["items"][2],
        json!({
            "chain": "eip155:31337", "job_id": "3", "client": CLIENT2, "spec_hash": "0x5p3", "spec_uri": "ipfs://spec3", "spec_uri_hex": null,
            "required_capabilities": 0, "reward": "3000", "deadline": 1700000200, "max_attempts": 1,
            "attempts_left": 1, "status": "open", "worker": null, "due": null, "posted_block": 13, "updated_block": 13,
            "redundancy": 1, "threshold": 1, "consensus": null
        })
    );

    let p = pages(&f.app, "/v1/jobs?limit=3").await;
    assert_eq!(
        page_ids(&p, "job_id"),
        vec![
            vec!["1", "2", "3"],
            vec!["4", "5", "6"],
            vec!["7", "10", MAX_ID]
        ]
    );
    let p = pages(&f.app, "/v1/jobs?limit=4").await;
    assert_eq!(p.concat().len(), all.len());
    assert_eq!(
        ids(&p.concat(), "job_id"),
        all,
        "no duplicates or gaps across pages of 4"
    );

    let p = pages(&f.app, "/v1/jobs?status=open&limit=2").await;
    assert_eq!(
        page_ids(&p, "job_id"),
        vec![vec!["3", "5"], vec!["7", "10"], vec![MAX_ID]]
    );
    let upper = CLIENT2.to_uppercase().replace("0X", "0x");
    let body = ok(&f.app, &format!("/v1/jobs?client={upper}")).await;
    assert_eq!(
        ids(body["items"].as_array().unwrap(), "job_id"),
        ["3", "4", "7", MAX_ID],
        "addresses match any case"
    );
    let body = ok(&f.app, &format!("/v1/jobs?worker={W1}")).await;
    assert_eq!(ids(body["items"].as_array().unwrap(), "job_id"), ["1", "2"]);
    let body = ok(&f.app, &format!("/v1/jobs?status=open&client={CLIENT}")).await;
    assert_eq!(
        ids(body["items"].as_array().unwrap(), "job_id"),
        ["5", "10"]
    );
    let body = ok(
        &f.app,
        &format!("/v1/jobs?status=assigned&worker={W2}&client={CLIENT2}"),
    )
    .await;
    assert_eq!(ids(body["items"].as_array().unwrap(), "job_id"), ["4"]);
    let body = ok(&f.app, "/v1/jobs?status=refunded").await;
    assert_eq!(body, json!({"items": [], "next_cursor": null}));
}

#[tokio::test(flavor = "multi_thread")]
async fn job_detail_carries_assignments_results_payments_and_slashes() {
    let f = fixture().await;
    let body = ok(&f.app, "/v1/jobs/1").await;
    assert_eq!(
        body,
        json!({
            "chain": "eip155:31337", "job_id": "1", "client": CLIENT, "spec_hash": "0x5p1", "spec_uri": "ipfs://spec1", "spec_uri_hex": null,
            "required_capabilities": 3, "reward": "1000000000000000000000000", "deadline": 1700000000,
            "max_attempts": 3, "attempts_left": 1, "status": "paid", "worker": W1, "due": 1700003600,
            "posted_block": 10, "updated_block": 25, "redundancy": 1, "threshold": 1, "consensus": null,
            "assignments": [
                {"attempt": 1, "worker": W2, "due": 1700001000, "outcome": "expired",
                 "slashed": "500000000000000000", "assigned_block": 11, "dispute_bond": "0",
                 "sealed_result": null, "commitment": null},
                {"attempt": 2, "worker": W1, "due": 1700003600, "outcome": "paid", "slashed": "0",
                 "assigned_block": 21, "dispute_bond": "0", "sealed_result": null, "commitment": null}
            ],
            "results": [
                {"attempt": 2, "worker": W1, "da_kind": 1, "commitment": "0xc0de01", "size": "1024",
                 "locator": "blob://one", "locator_hex": null, "challenge_ends_at": 1700007200, "block_number": 23, "tx_hash": "0x7a01"}
            ],
            "payments": [
                {"block_number": 25, "log_index": 3, "kind": "reward", "recipient": W1,
                 "amount": "975000000000000000000000", "fee": "25000000000000000000000", "tx_hash": "0x7b02"}
            ],
            "slashes": [
                {"chain": "eip155:31337", "block_number": 20, "log_index": 1, "worker": W2, "job_id": "1", "recipient": TREASURY,
                 "amount": "500000000000000000", "from_stake": "500000000000000000", "from_pending": "0",
                 "tx_hash": "0x7c01"}
            ]
        })
    );
    // Leading zeros are the same id; a job without children has empty lists.
    assert_eq!(ok(&f.app, "/v1/jobs/0001").await["job_id"], "1");
    let body = ok(&f.app, "/v1/jobs/7").await;
    for list in ["assignments", "results", "payments", "slashes"] {
        assert_eq!(body[list], json!([]), "{list}");
    }
    assert_eq!(
        ok(&f.app, &format!("/v1/jobs/{MAX_ID}")).await["job_id"],
        MAX_ID
    );
}

/// Attack: agreeing replicas seal only the commitment, so the last one to reveal may name a wrong size (or
/// kind) with it. Its reference cannot be served, and must not hide the other agreeing replica's, which is.
#[tokio::test(flavor = "multi_thread")]
async fn a_redundant_result_is_served_from_any_agreeing_reference_that_verifies() {
    let f = fixture().await;
    let data = b"the agreed bytes".to_vec();
    let sha = accord::da::sha256(&data).to_string();
    let sql = format!(
        "INSERT INTO jobs (chain_id, job_id, stream, client, spec_hash, spec_uri, required_capabilities, reward, \
                           deadline, max_attempts, attempts_left, status, worker, due, posted_block, updated_block, \
                           redundancy, threshold, consensus) VALUES \
           ({CHAIN}, 20, 'job:20', '{CLIENT}', '0x5p', 'ipfs://r', 0, 3000, 1700000900, 1, 0, 'submitted', NULL, \
            1700009000, 40, 45, 3, 2, '{sha}'); \
         INSERT INTO results (chain_id, job_id, attempt, stream, worker, da_kind, commitment, size, locator, \
                              challenge_ends_at, block_number, tx_hash) VALUES \
           ({CHAIN}, 20, 1, 'job:20', '{W1}', 1, '{sha}', {n}, 'accord:sha256:x', 1700009000, 43, '0x7d01'), \
           ({CHAIN}, 20, 2, 'job:20', '{W2}', 1, '{sha}', {wrong}, 'accord:sha256:x', 1700009000, 44, '0x7d02'); \
         INSERT INTO da_archive (sha256, size, data) VALUES ('{sha}', {n}, '\\x{hex}');",
        n = data.len(),
        wrong = data.len() + 1,
        hex = alloy::hex::encode(&data),
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&f.pool)
        .await
        .unwrap();
    let response = f
        .app
        .clone()
        .oneshot(
            Request::get("/v1/jobs/20/result")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert_eq!(body.as_ref(), data.as_slice());
}

#[tokio::test(flavor = "multi_thread")]
async fn job_result_serves_only_bytes_that_match_the_latest_commitment() {
    let f = fixture().await;
    // Job 2's latest result (attempt 2, kind 2, commitment 0xc0de22) names no blob anyone has; attempt 1 is
    // not looked at. No bytes are served, and the message says why.
    let (status, body) = get(&f.app, "/v1/jobs/2/result").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"]["code"], "result_unavailable");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("job 2 (attempt 2)"), "{message}");
    let (status, body) = get(&f.app, "/v1/jobs/5/result").await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "not_found",
        "job 5 has no result yet",
    );
    let (status, body) = get(&f.app, "/v1/jobs/999/result").await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "not_found",
        "job 999 not found",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_ids_are_404() {
    let f = fixture().await;
    let cases = [
        ("/v1/jobs/999", "job 999 not found"),
        // Job 8 exists, but on another chain.
        ("/v1/jobs/8", "job 8 not found"),
        (
            "/v1/workers/0x9999999999999999999999999999999999999999",
            "worker 0x9999999999999999999999999999999999999999 not found",
        ),
        ("/v1/proposals/42", "proposal 42 not found"),
    ];
    for (uri, message) in cases {
        let (status, body) = get(&f.app, uri).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "not_found", message);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_parameters_are_400_naming_the_field() {
    let f = fixture_with(ApiConfig {
        max_page_size: 100,
        ..ApiConfig::default()
    })
    .await;
    let workers_cursor = ok(&f.app, "/v1/workers?limit=1").await["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let foreign_cursor = format!("/v1/jobs?cursor={workers_cursor}");
    let too_big = format!("/v1/jobs/{MAX_ID}0");
    let cases = [
        ("/v1/jobs?limit=0", "limit must be 1..100"),
        ("/v1/jobs?limit=101", "limit must be 1..100"),
        ("/v1/jobs?limit=ten", "limit must be 1..100"),
        ("/v1/workers?limit=", "limit must be 1..100"),
        (
            "/v1/jobs?cursor=nothex",
            "cursor is not a cursor of /v1/jobs",
        ),
        (
            foreign_cursor.as_str(),
            "cursor is not a cursor of /v1/jobs",
        ),
        (
            "/v1/events?cursor=00",
            "cursor is not a cursor of /v1/events",
        ),
        (
            "/v1/jobs?status=done",
            "status must be one of open, assigned, submitted, disputed, paid, cancelled, refunded",
        ),
        ("/v1/jobs?worker=0x12", "worker is not a 0x address"),
        ("/v1/jobs?client=alice", "client is not a 0x address"),
        ("/v1/jobs?stauts=open", "unknown field `stauts`"),
        ("/v1/jobs/abc", "id must be a decimal uint256"),
        ("/v1/jobs/-1/result", "id must be a decimal uint256"),
        (too_big.as_str(), "id must be a decimal uint256"),
        ("/v1/workers/0xzz", "address is not a 0x address"),
        ("/v1/slashes?job=1.5", "job must be a decimal uint256"),
        ("/v1/rewards?worker=bob", "worker is not a 0x address"),
        (
            "/v1/events?from_block=-3",
            "from_block must be a block number",
        ),
        (
            "/v1/events?contract=Foo",
            "contract must be one of AccordToken, TimelockController",
        ),
        (
            "/v1/events?event=Job%20Posted",
            "event must be 1 to 64 letters",
        ),
        ("/v1/proposals/0x01", "id must be a decimal uint256"),
        (
            "/v1/proposals?cursor=zz",
            "cursor is not a cursor of /v1/proposals",
        ),
        (
            "/v1/events/stream?stream=",
            "stream must be 1 to 200 printable characters",
        ),
    ];
    for (uri, message) in cases {
        let (status, body) = get(&f.app, uri).await;
        assert_error(
            status,
            &body,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            message,
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn workers_list_and_detail_with_track_record() {
    let f = fixture().await;
    let p = pages(&f.app, "/v1/workers?limit=2").await;
    assert_eq!(page_ids(&p, "address"), vec![vec![W1, W2], vec![W3]]);
    assert_eq!(
        p[0][1],
        json!({"chain": "eip155:31337", "address": W2, "capabilities": 1, "metadata_uri": "https://w2.example", "metadata_uri_hex": null, "stake": "100",
               "pending": "50", "unlock_at": 1700009999, "jailed": true, "slashed_total": "500000000000000007",
               "registered_block": 6, "updated_block": 30})
    );
    assert_eq!(
        ok(&f.app, &format!("/v1/workers/{W2}")).await,
        json!({"chain": "eip155:31337", "address": W2, "capabilities": 1, "metadata_uri": "https://w2.example", "metadata_uri_hex": null, "stake": "100",
               "pending": "50", "unlock_at": 1700009999, "jailed": true, "slashed_total": "500000000000000007",
               "registered_block": 6, "updated_block": 30,
               "counts": {"completed": 0, "expired": 1, "disputed": 1, "declined": 0, "slashed": 2}})
    );
    let w1 = ok(
        &f.app,
        &format!("/v1/workers/{}", W1.to_uppercase().replace("0X", "0x")),
    )
    .await;
    assert_eq!(w1["stake"], "5000000000000000000000");
    assert_eq!(
        w1["counts"],
        json!({"completed": 1, "expired": 0, "disputed": 0, "declined": 0, "slashed": 1})
    );
    assert_eq!(
        ok(&f.app, &format!("/v1/workers/{W3}")).await["counts"],
        json!({"completed": 0, "expired": 0, "disputed": 0, "declined": 0, "slashed": 0})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slashes_and_rewards_filter_and_paginate() {
    let f = fixture().await;
    let p = pages(&f.app, "/v1/slashes?limit=2").await;
    assert_eq!(
        page_ids(&p, "tx_hash"),
        vec![vec!["0x7c01", "0x7c02"], vec!["0x7c03"]]
    );
    assert_eq!(
        p[0][1],
        json!({"chain": "eip155:31337", "block_number": 30, "log_index": 0, "worker": W2, "job_id": null, "recipient": TREASURY,
               "amount": "7", "from_stake": "5", "from_pending": "2", "tx_hash": "0x7c02"})
    );
    let body = ok(&f.app, &format!("/v1/slashes?worker={W2}")).await;
    assert_eq!(
        ids(body["items"].as_array().unwrap(), "tx_hash"),
        ["0x7c01", "0x7c02"]
    );
    let body = ok(&f.app, "/v1/slashes?job=2").await;
    assert_eq!(
        ids(body["items"].as_array().unwrap(), "tx_hash"),
        ["0x7c03"]
    );

    // Only rewards: the refund and the fee sweep are other payments.
    let p = pages(&f.app, "/v1/rewards?limit=1").await;
    assert_eq!(
        page_ids(&p, "tx_hash"),
        vec![vec!["0x7b02"], vec!["0x7b03"], vec!["0x7b04"]]
    );
    assert_eq!(
        p[0][0],
        json!({"chain": "eip155:31337", "block_number": 25, "log_index": 3, "job_id": "1", "worker": W1,
               "amount": "975000000000000000000000", "fee": "25000000000000000000000", "tx_hash": "0x7b02"})
    );
    let body = ok(&f.app, &format!("/v1/rewards?worker={W1}")).await;
    assert_eq!(
        ids(body["items"].as_array().unwrap(), "tx_hash"),
        ["0x7b02", "0x7b03"]
    );
    let body = ok(&f.app, &format!("/v1/rewards?worker={W1}&job=2")).await;
    assert_eq!(
        ids(body["items"].as_array().unwrap(), "tx_hash"),
        ["0x7b03"]
    );
    let body = ok(&f.app, "/v1/rewards?job=6").await;
    assert_eq!(body["items"], json!([]), "a refund is not a reward");
}

#[tokio::test(flavor = "multi_thread")]
async fn proposals_have_tallies_votes_and_computed_states() {
    let f = fixture().await;
    let p = pages(&f.app, "/v1/proposals?limit=3").await;
    assert_eq!(p.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 2]);
    let all = p.concat();
    let states: Vec<(String, String)> = all
        .iter()
        .map(|x| {
            (
                x["proposal_id"].as_str().unwrap().into(),
                x["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("1", "Canceled"),
        ("2", "Executed"),
        ("3", "Queued"),
        ("4", "Pending"),
        ("5", "Active"),
        (BIG_PROPOSAL, "Succeeded"),
        ("7", "Defeated"),
        ("8", "Defeated"),
    ];
    assert_eq!(
        states,
        expected.map(|(a, b)| (a.to_string(), b.to_string())),
        "ordered by creation block"
    );
    // quorum = 10000 * 4 / 100
    assert!(all.iter().all(|x| x["quorum"] == "400"), "{all:?}");

    let body = ok(&f.app, &format!("/v1/proposals/{BIG_PROPOSAL}")).await;
    assert_eq!(
        body,
        json!({
            "chain": "eip155:31337", "proposal_id": BIG_PROPOSAL, "proposer": VOTER_A, "description": "succeeded one", "description_hex": null,
            "targets": [TREASURY, W1], "calldatas": ["0xaa", "0xbb"], "vote_start": 80, "vote_end": 95,
            "for_votes": "600", "against_votes": "100", "abstain_votes": "0", "quorum": "400", "queued_eta": null,
            "executed": false, "canceled": false, "created_block": 10, "state": "Succeeded",
            "votes": [
                {"voter": VOTER_A, "support": 1, "weight": "600", "reason": "good idea", "reason_hex": null, "block_number": 85},
                {"voter": VOTER_B, "support": 0, "weight": "100", "reason": "", "reason_hex": null, "block_number": 86}
            ]
        })
    );
    assert_eq!(ok(&f.app, "/v1/proposals/4").await["votes"], json!([]));

    // The state moves with the indexer's head: at 160, proposal 4 is open for votes and 5 has ended short
    // of quorum.
    f.status.send_modify(|s| s.head = 160);
    assert_eq!(ok(&f.app, "/v1/proposals/4").await["state"], "Active");
    assert_eq!(ok(&f.app, "/v1/proposals/5").await["state"], "Defeated");
    // Without the supply the quorum is unknown and never reached.
    sqlx::query("DELETE FROM params WHERE key = 'totalSupply'")
        .execute(&f.pool)
        .await
        .unwrap();
    let body = ok(&f.app, &format!("/v1/proposals/{BIG_PROPOSAL}")).await;
    assert_eq!(
        (body["quorum"].clone(), body["state"].clone()),
        (Value::Null, json!("Defeated"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn params_are_grouped_by_contract_with_their_bounds() {
    let f = fixture().await;
    assert_eq!(
        ok(&f.app, "/v1/params").await,
        json!({
            "AccordGovernor": {"quorumNumerator": {"value": "4", "block_number": 3, "min": null, "max": null}},
            "AccordToken": {"totalSupply": {"value": "10000", "block_number": 1, "min": null, "max": null}},
            "JobManager": {
                "challengeWindow": {"value": "3600", "block_number": 7, "min": "60", "max": "259200"},
                "protocolFeeBps": {"value": "250", "block_number": 40, "min": "0", "max": "2000"}
            },
            "WorkerRegistry": {"minStake": {
                "value": "1000000000000000000000", "block_number": 6,
                "min": "1000000000000000000", "max": "100000000000000000000000000"
            }}
        })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn events_filter_and_paginate_in_chain_order() {
    let f = fixture().await;
    let p = pages(&f.app, "/v1/events?limit=2").await;
    assert_eq!(
        page_ids(&p, "tx_hash"),
        vec![
            vec!["0x7d01", "0x7d02"],
            vec!["0x7d03", "0x7d04"],
            vec!["0x7d05"]
        ]
    );
    assert_eq!(
        p[0][0],
        json!({"chain": "eip155:31337", "chain_id": 31337, "block_number": 10, "block_hash": "0xb10", "log_index": 0, "tx_hash": "0x7d01",
               "contract": "JobManager", "address": "0x0165878a594ca255338adfa4d48449f69242eb8f",
               "event": "JobPosted", "stream": "job:1",
               "args": {"jobId": "1", "reward": "1000000000000000000000000"}})
    );
    let filtered = |q: &'static str| {
        let app = f.app.clone();
        async move {
            ids(
                ok(&app, &format!("/v1/events?{q}")).await["items"]
                    .as_array()
                    .unwrap(),
                "tx_hash",
            )
        }
    };
    assert_eq!(
        filtered("contract=JobManager").await,
        ["0x7d01", "0x7d03", "0x7d04"]
    );
    assert_eq!(filtered("event=JobPosted").await, ["0x7d01", "0x7d04"]);
    assert_eq!(filtered("stream=job:1").await, ["0x7d01", "0x7d03"]);
    assert_eq!(
        filtered("from_block=11&to_block=12").await,
        ["0x7d03", "0x7d04", "0x7d05"]
    );
    assert_eq!(
        filtered("contract=JobManager&event=JobPosted&from_block=11").await,
        ["0x7d04"]
    );
    let p = pages(&f.app, "/v1/events?contract=JobManager&limit=1").await;
    assert_eq!(
        page_ids(&p, "tx_hash"),
        vec![vec!["0x7d01"], vec!["0x7d03"], vec!["0x7d04"]]
    );
}

/// Reads server-sent event text from `body` until `needle` appears.
async fn read_until(body: &mut axum::body::BodyDataStream, text: &mut String, needle: &str) {
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while !text.contains(needle) {
            match body.next().await {
                Some(chunk) => text.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap()),
                None => return false,
            }
        }
        true
    })
    .await;
    assert_eq!(found, Ok(true), "{needle:?} not received; got {text:?}");
}

fn record(block: u64, log: u64, contract: &str, event: &str) -> LiveEvent {
    LiveEvent::Event(Box::new(event_record(block, log, contract, event)))
}

fn event_record(block: u64, log: u64, contract: &str, event: &str) -> EventRecord {
    EventRecord {
        chain_id: CHAIN,
        block_number: block,
        block_hash: format!("0xb{block}"),
        log_index: log,
        tx_hash: format!("0x7e{block}{log}"),
        contract: contract.into(),
        address: "0x0165878a594ca255338adfa4d48449f69242eb8f".into(),
        event: event.into(),
        stream: "job:9".into(),
        args: json!({"jobId": "9"}),
        protocol: None,
    }
}

/// `/v1/activity` counts the assignments and payments the indexer broadcasts, in the current minute, per chain.
#[tokio::test(flavor = "multi_thread")]
async fn activity_counts_broadcast_assignments_and_payments() {
    let f = fixture().await;
    let empty = ok(&f.app, "/v1/activity").await;
    let minutes = empty["minutes"].as_array().unwrap();
    assert_eq!(minutes.len(), 60, "{empty}");
    assert!(minutes.iter().all(|m| m["assigned"] == 0 && m["paid"] == 0));
    assert_eq!(empty["bucket_secs"], 60);
    for live in [
        record(60, 0, "JobManager", "JobAssigned"),
        record(60, 1, "JobManager", "ReplicaAssigned"),
        record(61, 0, "JobManager", "JobPaid"),
        record(61, 1, "JobManager", "JobPosted"),
    ] {
        f.events.send(live).unwrap();
    }
    // The recorder reads the feed on its own task.
    let mut last = Value::Null;
    for _ in 0..100 {
        last = ok(&f.app, &format!("/v1/activity?chain={CHAIN}")).await;
        let total = |key: &str| {
            last["minutes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m[key].as_u64().unwrap())
                .sum::<u64>()
        };
        if (total("assigned"), total("paid")) == (2, 1) {
            // Counted just now: in the current minute, or the one before when a minute turned meanwhile.
            let minutes = last["minutes"].as_array().unwrap();
            assert!(
                minutes[..58]
                    .iter()
                    .all(|m| m["assigned"] == 0 && m["paid"] == 0),
                "{last}"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the broadcast assignments and payment were not counted: {last}");
}

/// The dashboard's files are served with their content types, a strict CSP and validators; the API's JSON 404
/// stays for unknown paths.
#[tokio::test(flavor = "multi_thread")]
async fn dashboard_files_are_served_with_a_strict_policy() {
    let f = fixture().await;
    for (path, kind) in [
        ("/", "text/html; charset=utf-8"),
        ("/dashboard/app.js", "text/javascript; charset=utf-8"),
        ("/dashboard/style.css", "text/css; charset=utf-8"),
        ("/dashboard/icon.svg", "image/svg+xml"),
    ] {
        let response = f
            .app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers[header::CONTENT_TYPE], kind, "{path}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
            "{csp}"
        );
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let etag = headers[header::ETAG].clone();
        let again = f
            .app
            .clone()
            .oneshot(
                Request::get(path)
                    .header(header::IF_NONE_MATCH, etag)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    }
    let page = f
        .app
        .clone()
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let html = axum::body::to_bytes(page.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&html).contains("/dashboard/app.js"),
        "the page loads its script"
    );
    let (status, body) = get(&f.app, "/v1/no-such-route").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn event_stream_delivers_broadcast_records() {
    let f = fixture().await;
    let response = f
        .app
        .clone()
        .oneshot(
            Request::get("/v1/events/stream?contract=JobManager")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    let mut body = response.into_body().into_data_stream();

    let other = record(40, 0, "AccordToken", "Transfer");
    let posted = event_record(41, 2, "JobManager", "JobPosted");
    f.events.send(other).unwrap();
    f.events
        .send(LiveEvent::Event(Box::new(posted.clone())))
        .unwrap();
    let mut text = String::new();
    read_until(&mut body, &mut text, "\n\n").await;
    assert!(
        !text.contains("Transfer"),
        "the contract filter holds: {text}"
    );
    let fields: Vec<(&str, &str)> = text
        .trim_end()
        .lines()
        .filter_map(|l| l.split_once(": ").or(l.split_once(':')))
        .collect();
    let field = |name: &str| fields.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    assert_eq!(field("event"), Some("JobPosted"), "{text}");
    assert_eq!(field("id"), Some("41:2"), "{text}");
    let data: Value = serde_json::from_str(field("data").unwrap()).unwrap();
    let mut expected = serde_json::to_value(&posted).unwrap();
    expected["chain"] = json!("eip155:31337");
    assert_eq!(data, expected);
    drop(body);

    // A subscriber that falls behind the feed (capacity 4) is told how many events it missed.
    let response = f
        .app
        .clone()
        .oneshot(
            Request::get("/v1/events/stream")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let mut body = response.into_body().into_data_stream();
    for i in 0..7 {
        f.events
            .send(record(50 + i, 0, "JobManager", "JobAssigned"))
            .unwrap();
    }
    let mut text = String::new();
    read_until(&mut body, &mut text, "id: 56:0").await;
    assert!(
        text.contains("event: lagged\ndata: {\"skipped\":3}\n"),
        "{text}"
    );
    assert!(
        !text.contains("id: 52:0") && text.contains("id: 53:0"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_describes_every_route() {
    let f = fixture().await;
    let doc = ok(&f.app, "/openapi.json").await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/v1/health",
        "/v1/ready",
        "/v1/status",
        "/v1/jobs",
        "/v1/jobs/{id}",
        "/v1/jobs/{id}/result",
        "/v1/blobs/{sha256}",
        "/v1/workers",
        "/v1/workers/{address}",
        "/v1/slashes",
        "/v1/rewards",
        "/v1/proposals",
        "/v1/proposals/{id}",
        "/v1/params",
        "/v1/events",
        "/v1/events/stream",
        "/v1/activity",
        "/v1/da/report",
        "/metrics",
    ] {
        assert!(
            paths[path]["get"].is_object(),
            "{path} missing from {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
    // The upload route: signature headers, a raw body, the reference it answers.
    let upload = &paths["/v1/blobs"]["post"];
    let headers: Vec<&str> = upload["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        headers,
        [
            "chain",
            "X-Accord-Worker",
            "X-Accord-Timestamp",
            "X-Accord-Sha256",
            "Content-Length",
            "X-Accord-Signature"
        ]
    );
    assert!(upload["requestBody"]["content"]["application/octet-stream"].is_object());
    assert!(upload["responses"]["201"].is_object() && upload["responses"]["413"].is_object());
    assert!(
        paths["/v1/jobs/{id}/result"]["get"]["responses"]["200"]["content"]
            ["application/octet-stream"]
            .is_object()
    );
    let params: Vec<&str> = paths["/v1/jobs"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        params,
        [
            "chain", "status", "client", "worker", "replica", "limit", "cursor"
        ]
    );

    // The documented schema is the served shape.
    let schemas = &doc["components"]["schemas"];
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let job = ok(&f.app, "/v1/jobs?limit=1").await["items"][0].clone();
    assert_eq!(keys(&schemas["Job"]["properties"]), keys(&job));
    let event = ok(&f.app, "/v1/events?limit=1").await["items"][0].clone();
    assert_eq!(keys(&schemas["Event"]["properties"]), keys(&event));
    assert_eq!(keys(&schemas["ErrorBody"]["properties"]), ["error"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_per_route_and_export_indexer_gauges() {
    let f = fixture().await;
    ok(&f.app, "/v1/jobs/1").await;
    ok(&f.app, "/v1/jobs/2").await;
    let _ = get(&f.app, "/v1/jobs/nope").await;
    let _ = get(&f.app, "/nowhere").await;
    let response = f
        .app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    for line in [
        "accord_api_requests_total{route=\"/v1/jobs/{id}\",status=\"2xx\"} 2",
        "accord_api_requests_total{route=\"/v1/jobs/{id}\",status=\"4xx\"} 1",
        "accord_api_requests_total{route=\"unmatched\",status=\"4xx\"} 1",
        "accord_api_request_duration_seconds_count{route=\"/v1/jobs/{id}\"} 3",
        "accord_api_request_duration_seconds_bucket{route=\"/v1/jobs/{id}\",le=\"+Inf\"} 3",
        "# TYPE accord_api_request_duration_seconds histogram",
        "accord_chain_head_block{chain=\"eip155:31337\"} 100",
        "accord_indexer_indexed_block{chain=\"eip155:31337\"} 98",
        "accord_indexer_lag_blocks{chain=\"eip155:31337\"} 2",
        "accord_indexer_caught_up{chain=\"eip155:31337\"} 1",
        "accord_indexer_halted{chain=\"eip155:31337\"} 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_are_413() {
    let f = fixture_with(ApiConfig {
        max_body_bytes: 1024,
        ..ApiConfig::default()
    })
    .await;
    let request = |len: usize| {
        Request::get("/v1/health")
            .header(header::CONTENT_LENGTH, len)
            .body(Body::from(vec![b'x'; len]))
            .unwrap()
    };
    let (status, _, body) = send(&f.app, request(1025)).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "larger than 1024 bytes",
    );
    let (status, _, body) = send(&f.app, request(1024)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_queries_time_out_and_database_errors_stay_generic() {
    let f = fixture_with(ApiConfig {
        request_timeout_ms: 300,
        ..ApiConfig::default()
    })
    .await;
    // Another session holds a lock on `params`: the query waits, the request times out.
    let mut lock = f.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE params IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let (status, body) = get(&f.app, "/v1/params").await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "timeout",
        "timed out after 300 ms",
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    lock.rollback().await.unwrap();
    assert_eq!(
        ok(&f.app, "/v1/params").await["JobManager"]["protocolFeeBps"]["value"],
        "250"
    );

    // A failing query is a 500 whose message reveals nothing of the cause.
    sqlx::query("DROP TABLE votes")
        .execute(&f.pool)
        .await
        .unwrap();
    let (status, body) = get(&f.app, "/v1/proposals/4").await;
    assert_error(
        status,
        &body,
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error",
    );
    assert!(!body.to_string().contains("votes"), "{body}");

    // A closed pool is a retryable 503.
    f.pool.close().await;
    let (status, body) = get(&f.app, "/v1/jobs/1").await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "retry later",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn serves_over_a_socket_and_shuts_down_gracefully() {
    let (pool, _cluster) = database().await;
    sqlx::query(
        "INSERT INTO jobs VALUES (31337, 1, 'job:1', $1, '0x5p1', 'ipfs://spec1', 0, 5, 1, 1, 1, 'open', NULL, NULL, 1, 1)",
    )
    .bind(CLIENT)
    .execute(&pool)
    .await
    .unwrap();
    let (state, _status, _events) = state(pool, ApiConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(serve(listener, state, shutdown.clone()));

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let health = client
        .get(format!("{base}/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );

    // Compressed when asked for.
    let jobs = client
        .get(format!("{base}/v1/jobs"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(jobs.status(), 200);
    assert_eq!(jobs.headers()["content-encoding"], "gzip");
    let plain = client.get(format!("{base}/v1/jobs")).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(
        plain.json::<Value>().await.unwrap()["items"][0]["client"],
        CLIENT
    );

    // An open event stream does not hold the shutdown up.
    let stream = client
        .get(format!("{base}/v1/events/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut chunks = stream.bytes_stream();
    shutdown.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "server did not stop cleanly: {stopped:?}"
    );
    let rest = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = chunks.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(rest.is_ok(), "the event stream ended with the server");
    assert!(
        client
            .get(format!("{base}/v1/health"))
            .send()
            .await
            .is_err(),
        "nothing listens after shutdown"
    );
}

/// The served document states the server's rules, so a client generated from it sends what the server
/// accepts (schemathesis checks the whole contract against a live devnet in contract.rs).
#[tokio::test(flavor = "multi_thread")]
async fn openapi_states_the_rules_the_server_enforces() {
    let f = fixture_with(ApiConfig {
        max_page_size: 100,
        ..ApiConfig::default()
    })
    .await;
    let doc = ok(&f.app, "/openapi.json").await;
    let param = |path: &str, method: &str, name: &str| {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))
            .clone()
    };
    let address = param("/v1/workers/{address}", "get", "address");
    assert_eq!(address["schema"]["pattern"], "^0[xX][0-9a-fA-F]{40}$");
    assert_eq!(address["required"], true);
    let limit = param("/v1/jobs", "get", "limit")["schema"].clone();
    assert_eq!(
        (limit["minimum"].clone(), limit["maximum"].clone()),
        (json!(1), json!(100))
    );
    assert_eq!(
        param("/v1/jobs", "get", "status")["schema"]["enum"],
        json!([
            "open",
            "assigned",
            "submitted",
            "disputed",
            "paid",
            "cancelled",
            "refunded",
            "gathering",
            "committing",
            "revealing"
        ])
    );
    assert!(
        param("/v1/jobs/{id}", "get", "id")["schema"]["pattern"]
            .as_str()
            .unwrap()
            .ends_with(&format!("|{MAX_ID})$"))
    );
    assert_eq!(
        param("/v1/blobs", "post", "X-Accord-Sha256")["schema"]["pattern"],
        "^0x[0-9a-fA-F]{64}$"
    );
    // Every parameter is constrained: a pattern, an enum or bounds.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let s = &p["schema"];
                assert!(
                    s["pattern"].is_string() || s["enum"].is_array() || s["maximum"].is_number(),
                    "{method} {path} {} is unconstrained: {s}",
                    p["name"]
                );
            }
        }
    }
    // The write routes document 429 with Retry-After; the stream documents each message kind.
    for path in ["/v1/blobs", "/v1/heartbeats"] {
        let limited = &doc["paths"][path]["post"]["responses"]["429"];
        assert!(
            limited["headers"]["Retry-After"].is_object(),
            "{path}: {limited}"
        );
    }
    let stream = &doc["paths"]["/v1/events/stream"]["get"]["responses"]["200"]["content"]["text/event-stream"]
        ["schema"]["oneOf"];
    let kinds: Vec<Value> = stream
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["properties"]["data"]["contentSchema"]["$ref"].clone())
        .collect();
    assert_eq!(
        kinds,
        [
            json!("#/components/schemas/Event"),
            json!("#/components/schemas/ReorgNotice"),
            json!("#/components/schemas/Lagged")
        ]
    );
    assert_eq!(stream[1]["properties"]["event"]["const"], "Reorg");

    // A range ending below its start is empty, not an error: no rule the document cannot state.
    let empty = ok(&f.app, "/v1/events?from_block=10&to_block=5").await;
    assert_eq!(empty, json!({"items": [], "next_cursor": null}));
}

/// The indexer's reorg record reaches every subscriber, whatever its filters, in the documented shape.
#[tokio::test(flavor = "multi_thread")]
async fn event_stream_sends_reorgs_as_documented() {
    let f = fixture().await;
    let doc = ok(&f.app, "/openapi.json").await;
    let response = f
        .app
        .clone()
        .oneshot(
            Request::get("/v1/events/stream?contract=JobManager&stream=job:1")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let mut body = response.into_body().into_data_stream();
    let reorg = LiveEvent::Reorg {
        chain_id: ChainId(CHAIN),
        fork_block: 70,
        block_hash: None,
        removed_events: 4,
    };
    f.events.send(reorg).unwrap();
    let mut text = String::new();
    read_until(&mut body, &mut text, "\n\n").await;
    assert!(text.starts_with("event: Reorg\n"), "{text}");
    assert!(!text.contains("id:"), "{text}");
    let data: Value =
        serde_json::from_str(text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap()).unwrap();
    assert_eq!(
        data,
        json!({"chain": "eip155:31337", "chain_id": CHAIN, "fork_block": 70, "block_hash": null, "removed_events": 4})
    );
    let mut documented: Vec<&String> = doc["components"]["schemas"]["ReorgNotice"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    documented.sort();
    let mut served: Vec<&String> = data.as_object().unwrap().keys().collect();
    served.sort();
    assert_eq!(documented, served);
}

/// The fixture's manifest moved to another chain: `eip155:<chain_id>`, or a Starknet chain named `network`.
fn manifest_on(chain_id: u64, network: Option<&str>) -> Manifest {
    let mut m = serde_json::to_value(manifest()).unwrap();
    m["chainId"] = json!(chain_id);
    if let Some(network) = network {
        m["family"] = json!("starknet");
        m["network"] = json!(network);
        for c in m["contracts"].as_object_mut().unwrap().values_mut() {
            c["classHash"] = json!("0x1");
        }
    }
    serde_json::from_value(m).unwrap()
}

/// One API over three chains: the fixture's (eip155:31337), a copy of every row of it on eip155:10, and an empty
/// Starknet chain. Lists without `chain` go through the chains in order and page across their boundary; `chain`
/// selects one by CAIP-2 name or id; routes about one thing need it; an address filter is read per family; a
/// cursor of one chain's list is refused by another's; status and metrics show each chain.
#[tokio::test(flavor = "multi_thread")]
async fn one_api_serves_several_chains_apart() {
    let f = fixture().await;
    // Every row of chain 31337 again on chain 10, in every table that has a chain.
    sqlx::raw_sql(
        r#"DO $$ DECLARE t text; BEGIN
             FOR t IN SELECT c.table_name FROM information_schema.columns c
                      JOIN information_schema.tables x USING (table_schema, table_name)
                      WHERE c.column_name = 'chain_id' AND c.table_schema = current_schema()
                        AND x.table_type = 'BASE TABLE' LOOP
               EXECUTE format('INSERT INTO %I SELECT (jsonb_populate_record(NULL::%I,
                                 to_jsonb(x) || jsonb_build_object(''chain_id'', 10))).* FROM %I x
                               WHERE chain_id = 31337', t, t, t);
             END LOOP; END $$"#,
    )
    .execute(&f.pool)
    .await
    .unwrap();
    let network = "SN_TEST";
    let starknet = ChainId::of_starknet(network).0;
    let chain = |id: u64, network: Option<&str>| {
        let status = watch::channel(Status {
            chain_id: id,
            ..status()
        })
        .1;
        accord::api::ServedChain::new(manifest_on(id, network), status, "http://127.0.0.1:9")
    };
    let (mut state, _status, _events) = state(f.pool.clone(), ApiConfig::default());
    state.chains.push(chain(10, None));
    state.chains.push(chain(starknet, Some(network)));
    let app = router(state);

    // Without a filter: the first chain's jobs, then the second's; pages cross from one to the other.
    let p = pages(&app, "/v1/jobs?limit=4").await;
    let all: Vec<(String, String)> = p
        .iter()
        .flatten()
        .map(|j| {
            (
                j["chain"].as_str().unwrap().to_owned(),
                j["job_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let ids = ["1", "2", "3", "4", "5", "6", "7", "10", MAX_ID];
    let expected: Vec<(String, String)> = ["eip155:31337", "eip155:10"]
        .iter()
        .flat_map(|c| ids.iter().map(move |id| (c.to_string(), id.to_string())))
        .collect();
    assert_eq!(all, expected);
    assert_eq!(p.len(), 5, "18 jobs in pages of 4");
    assert_eq!(p[2][0]["chain"], "eip155:31337");
    assert_eq!(p[2][1]["chain"], "eip155:10", "a page spans the boundary");

    // `chain` selects one, by name or id.
    for filter in ["eip155:10", "10"] {
        let items = pages(&app, &format!("/v1/jobs?chain={filter}&limit=100")).await;
        assert_eq!(items[0].len(), 9, "{filter}");
        assert!(
            items[0].iter().all(|j| j["chain"] == "eip155:10"),
            "{filter}"
        );
    }
    let (status, body) = get(&app, "/v1/jobs?chain=eip155:5").await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "chain must be one of the chains served: eip155:31337, eip155:10, starknet:SN_TEST",
    );
    // A cursor names its chain: one from chain 10's list is not a cursor of chain 31337's.
    let first = ok(&app, "/v1/jobs?chain=10&limit=2").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (status, body) = get(&app, &format!("/v1/jobs?chain=31337&cursor={cursor}")).await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "cursor is not a cursor of /v1/jobs",
    );
    let rest = ok(&app, &format!("/v1/jobs?limit=100&cursor={cursor}")).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 7, "{rest}");
    assert_eq!(rest["items"][0]["job_id"], "3");

    // Ids are unique per chain only: a route about one job needs its chain.
    let (status, body) = get(&app, "/v1/jobs/1").await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "chain is required",
    );
    let job = ok(&app, "/v1/jobs/1?chain=eip155:10").await;
    assert_eq!(
        (&job["chain"], &job["job_id"]),
        (&json!("eip155:10"), &json!("1"))
    );
    assert_eq!(job["slashes"][0]["chain"], "eip155:10");
    let (status, _) = get(&app, "/v1/jobs/1?chain=starknet:SN_TEST").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&app, "/v1/params").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    ok(&app, "/v1/params?chain=31337").await;
    let w = ok(&app, &format!("/v1/workers/{W1}?chain=10")).await;
    assert_eq!(w["chain"], "eip155:10");

    // An address filter is read in each chain's family: 64 hex digits are a Starknet address only, so the EVM
    // chains have no match and the Starknet chain none either; text that is no address anywhere is refused.
    let felt = format!("0x01{}", "ab".repeat(31));
    let none = ok(&app, &format!("/v1/jobs?worker={felt}")).await;
    assert_eq!(none["items"], json!([]));
    let (status, _) = get(&app, "/v1/jobs?worker=0xzz").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let mine = pages(&app, &format!("/v1/rewards?worker={W1}&limit=2")).await;
    let chains: Vec<&str> = mine
        .iter()
        .flatten()
        .map(|r| r["chain"].as_str().unwrap())
        .collect();
    assert_eq!(chains.len() % 2, 0);
    assert_eq!(
        chains.iter().filter(|c| **c == "eip155:10").count(),
        chains.len() / 2
    );

    // The other lists go through the chains the same way.
    for (list, key) in [
        ("workers", "address"),
        ("slashes", "tx_hash"),
        ("proposals", "proposal_id"),
        ("events", "tx_hash"),
    ] {
        let one = pages(&app, &format!("/v1/{list}?chain=31337&limit=3")).await;
        let both = pages(&app, &format!("/v1/{list}?limit=3")).await;
        let one: Vec<Value> = one.into_iter().flatten().collect();
        let both: Vec<Value> = both.into_iter().flatten().collect();
        assert_eq!(both.len(), 2 * one.len(), "{list}");
        assert_eq!(
            page_ids(&[both[one.len()..].to_vec()], key),
            page_ids(std::slice::from_ref(&one), key),
            "{list}: the second chain's copy follows the first's"
        );
        assert!(
            both[one.len()..].iter().all(|x| x["chain"] == "eip155:10"),
            "{list}"
        );
    }

    // Status and metrics show each chain.
    let status = ok(&app, "/v1/status").await;
    let names: Vec<&str> = status["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["chain"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["eip155:31337", "eip155:10", "starknet:SN_TEST"]);
    assert_eq!(status["chains"][2]["family"], "starknet");
    assert_eq!(status["chains"][2]["chain_id"], starknet);
    let response = app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let metrics = String::from_utf8(
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    for chain in names {
        assert!(
            metrics.contains(&format!("accord_indexer_lag_blocks{{chain=\"{chain}\"}} 2")),
            "{metrics}"
        );
    }

    // A heartbeat must say which chain's worker it is.
    let (status, _, body) = send(
        &app,
        Request::post("/v1/heartbeats")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"worker": W1, "capacity": 1, "timestamp": 1, "signature": format!("0x{}", "00".repeat(65))})
                    .to_string(),
            ))
            .unwrap(),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "chain is required",
    );

    // The document lists the chains `chain` accepts, and addresses of both families.
    let doc = ok(&app, "/openapi.json").await;
    let chain_param = doc["paths"]["/v1/jobs"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "chain")
        .unwrap()
        .clone();
    assert_eq!(
        chain_param["schema"]["enum"],
        json!([
            "eip155:31337",
            "31337",
            "eip155:10",
            "10",
            "starknet:SN_TEST",
            starknet.to_string()
        ])
    );
    let worker_param = doc["paths"]["/v1/jobs"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "worker")
        .unwrap()
        .clone();
    assert_eq!(
        worker_param["schema"]["pattern"],
        "^0[xX][0-9a-fA-F]{1,64}$"
    );
}
