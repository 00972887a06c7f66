//! Data availability against real services: the local store and the archive in a real PostgreSQL, the
//! Celestia layer against a fake celestia-node speaking the real JSON-RPC wire format (see [`FakeCelestia`]),
//! the fallback router and its reconciliation, and, on a real devnet with workers registered on chain, signed
//! uploads through `POST /v1/blobs` and result bytes through `GET /v1/jobs/{id}/result` checked against what
//! `submitResult` put on chain; `accord da` as a user runs it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use accord::api::{AppState, router};
use accord::chain::evm::bindings::JobManager;
use accord::chain::evm::offchain::{self, BlobUpload};
use accord::chain::evm::ops::Deployment;
use accord::config::{Config, DaBackend, DaConfig, Secret};
use accord::coordinator::Coordinator;
use accord::da::{
    self, BlobClient, BlobRef, Bytes, CelestiaLayer, DaLayer, DaRouter, KIND_CELESTIA, KIND_LOCAL,
    LocalStore, ReconcileOutcome, Source, parse_namespace, share_commitment, verify,
};
use accord::pg::TempCluster;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::ProviderBuilder;
use alloy::signers::local::PrivateKeySigner;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use celestia_types::Blob;
use celestia_types::nmt::Namespace;
use rand::Rng;
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt;

use crate::api::{database, database_url, manifest};
use crate::stack::account;
use crate::utils::{Devnet, devnet_key};

/// The namespace the tests put blobs in: "accord".
const NAMESPACE: &str = "6163636f7264";

// ------------------------------------------------------------------------------------------ fake celestia-node

/// A fake celestia-node. celestia-node (a Go light or bridge node that must sync a live Celestia network and
/// sample its data squares) cannot run on this machine: no Celestia network is reachable from it and the node is
/// not installable here. This local axum server stands in for it and speaks the real JSON-RPC 2.0 wire format of
/// the node's blob API: `POST /` with `{"jsonrpc": "2.0", "id", "method", "params"}`; `blob.Submit` with params
/// `[[blob, ...], options]` answering the inclusion height; `blob.Get` with `[height, namespace, commitment]`
/// answering the blob; blobs, namespaces and commitments in celestia-types' JSON (base64); `Authorization: Bearer
/// <token>` checked with a 401 like the node's; errors as JSON-RPC error objects with the node's `blob: not found`.
/// It recomputes every submitted blob's share commitment with celestia-types and refuses a wrong one. Tests can
/// make it fail every call (a node that lost its core connection) or corrupt the data it serves.
struct FakeCelestia {
    /// Its JSON-RPC URL.
    url: String,
    state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

/// Stored blobs by (height, namespace, commitment).
type BlobKey = (u64, Vec<u8>, [u8; 32]);

#[derive(Default)]
struct FakeState {
    token: Option<String>,
    height: AtomicU64,
    blobs: Mutex<HashMap<BlobKey, Blob>>,
    failing: AtomicBool,
    corrupt: AtomicBool,
    calls: Mutex<Vec<String>>,
}

impl FakeCelestia {
    async fn start(token: Option<&str>) -> Self {
        let state = Arc::new(FakeState {
            token: token.map(str::to_string),
            ..FakeState::default()
        });
        let app = axum::Router::new()
            .route("/", axum::routing::post(fake_rpc))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, state, task }
    }

    fn fail(&self, on: bool) {
        self.state.failing.store(on, Ordering::SeqCst);
    }

    fn corrupt(&self, on: bool) {
        self.state.corrupt.store(on, Ordering::SeqCst);
    }

    fn calls(&self, method: &str) -> usize {
        let calls = self.state.calls.lock().unwrap();
        calls.iter().filter(|m| *m == method).count()
    }

    fn stored(&self) -> usize {
        self.state.blobs.lock().unwrap().len()
    }
}

impl Drop for FakeCelestia {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn fake_rpc(State(st): State<Arc<FakeState>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(token) = &st.token {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if sent != Some(format!("Bearer {token}").as_str()) {
            return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
        }
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return axum::Json(json!({"jsonrpc": "2.0", "id": null,
                "error": {"code": -32700, "message": format!("parse error: {e}")}}))
            .into_response();
        }
    };
    let method = request["method"].as_str().unwrap_or_default().to_string();
    st.calls.lock().unwrap().push(method.clone());
    let reply = match st.handle(&method, &request["params"]) {
        Ok(result) => json!({"jsonrpc": "2.0", "id": request["id"], "result": result}),
        Err((code, message)) => {
            json!({"jsonrpc": "2.0", "id": request["id"], "error": {"code": code, "message": message}})
        }
    };
    axum::Json(reply).into_response()
}

impl FakeState {
    fn handle(&self, method: &str, params: &Value) -> Result<Value, (i64, String)> {
        let invalid = |e: String| (-32602, format!("invalid params: {e}"));
        if self.failing.load(Ordering::SeqCst) {
            return Err((
                1,
                "rpc error: code = Unavailable desc = connection to the core node refused (fake outage)".into(),
            ));
        }
        match method {
            "blob.Submit" => {
                let params = params
                    .as_array()
                    .ok_or_else(|| invalid("not an array".into()))?;
                if params.len() != 2 {
                    return Err(invalid(format!(
                        "expected 2 params (blobs, options), got {}",
                        params.len()
                    )));
                }
                let blobs: Vec<Blob> = serde_json::from_value(params[0].clone())
                    .map_err(|e| invalid(e.to_string()))?;
                if blobs.is_empty() {
                    return Err((1, "blob: no blobs provided".into()));
                }
                for blob in &blobs {
                    blob.validate()
                        .map_err(|e| (1, format!("blob: invalid commitment: {e}")))?;
                }
                let height = self.height.fetch_add(1, Ordering::SeqCst) + 1;
                let mut stored = self.blobs.lock().unwrap();
                for (i, mut blob) in blobs.into_iter().enumerate() {
                    blob.index = Some(i as u64);
                    let key = (
                        height,
                        blob.namespace.as_bytes().to_vec(),
                        *blob.commitment.hash(),
                    );
                    stored.insert(key, blob);
                }
                Ok(json!(height))
            }
            "blob.Get" => {
                let height = params[0]
                    .as_u64()
                    .ok_or_else(|| invalid("height is not a number".into()))?;
                let namespace: Namespace = serde_json::from_value(params[1].clone())
                    .map_err(|e| invalid(e.to_string()))?;
                let commitment: celestia_types::Commitment =
                    serde_json::from_value(params[2].clone())
                        .map_err(|e| invalid(e.to_string()))?;
                let key = (height, namespace.as_bytes().to_vec(), *commitment.hash());
                let mut blob = self
                    .blobs
                    .lock()
                    .unwrap()
                    .get(&key)
                    .cloned()
                    .ok_or_else(|| (1, "blob: not found".to_string()))?;
                if self.corrupt.load(Ordering::SeqCst) {
                    blob.data[0] ^= 0xff;
                }
                Ok(serde_json::to_value(blob).unwrap())
            }
            other => Err((-32601, format!("method '{other}' not found"))),
        }
    }
}

// ------------------------------------------------------------------------------------------ helpers

fn random_bytes(n: usize) -> Bytes {
    let mut data = vec![0u8; n];
    rand::rng().fill(&mut data[..]);
    Bytes::from(data)
}

fn namespace() -> Namespace {
    parse_namespace(NAMESPACE).unwrap()
}

fn flipped(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    let last = out.len() - 1;
    out[last] ^= 1;
    out
}

async fn archived_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM da_archive")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// `verify` refuses the flipped bytes and a wrong size of `r`'s data.
fn assert_verify_rejects_tampering(r: &BlobRef, data: &[u8]) {
    verify(r, data).unwrap();
    assert!(
        matches!(verify(r, &flipped(data)), Err(da::Error::Mismatch(_))),
        "flipped bytes accepted for kind {}",
        r.kind
    );
    let wrong_size = BlobRef {
        size: r.size + 1,
        ..r.clone()
    };
    let error = verify(&wrong_size, data).unwrap_err();
    assert!(error.to_string().contains("size"), "{error}");
    assert!(verify(r, &data[..data.len() - 1]).is_err());
}

// ------------------------------------------------------------------------------------------ layers

#[tokio::test(flavor = "multi_thread")]
async fn local_store_round_trips_and_verify_rejects_tampering() {
    let (pool, _cluster) = database().await;
    let store = LocalStore::new(pool.clone());
    let data = random_bytes(3000);
    let r = store.put(data.clone()).await.unwrap();
    let sha = da::sha256(&data);
    assert_eq!(r.kind, KIND_LOCAL);
    assert_eq!(r.commitment, sha);
    assert_eq!(r.size, 3000);
    assert_eq!(
        r.locator,
        format!("accord:sha256:{}", alloy::hex::encode(sha))
    );
    assert_eq!(store.get(&r).await.unwrap(), data);
    // Content-addressed: the same bytes again are one row.
    assert_eq!(store.put(data.clone()).await.unwrap(), r);
    assert_eq!(archived_count(&pool).await, 1);
    assert_verify_rejects_tampering(&r, &data);

    let unknown = BlobRef {
        commitment: B256::repeat_byte(7),
        ..r.clone()
    };
    assert!(matches!(
        store.get(&unknown).await,
        Err(da::Error::NotFound(_))
    ));
    // Bytes changed behind the store's back are refused, not served.
    sqlx::query("UPDATE da_archive SET data = set_byte(data, 0, get_byte(data, 0) # 1)")
        .execute(&pool)
        .await
        .unwrap();
    assert!(matches!(store.get(&r).await, Err(da::Error::Mismatch(_))));
}

#[tokio::test(flavor = "multi_thread")]
async fn celestia_layer_round_trips_through_the_fake_node() {
    let node = FakeCelestia::start(Some("tok-s3cret-celestia")).await;
    let layer = CelestiaLayer::new(
        &node.url,
        namespace(),
        Some(Secret::new("tok-s3cret-celestia")),
        Duration::from_secs(10),
    );
    assert_eq!((layer.name(), layer.kind()), ("celestia", KIND_CELESTIA));
    // Several shares' worth, so the commitment is a real multi-leaf share commitment.
    let data = random_bytes(5000);
    let r = layer.put(data.clone()).await.unwrap();
    assert_eq!(r.kind, KIND_CELESTIA);
    assert_eq!(r.size, 5000);
    assert_eq!(r.commitment, share_commitment(&namespace(), &data).unwrap());
    assert_eq!(
        r.locator,
        format!("celestia:1:{}", alloy::hex::encode(namespace().as_bytes()))
    );
    assert_eq!(layer.get(&r).await.unwrap(), data);
    assert_verify_rejects_tampering(&r, &data);

    let second = layer.put(random_bytes(10)).await.unwrap();
    assert!(second.locator.starts_with("celestia:2:"), "{second:?}");
    assert_eq!((node.calls("blob.Submit"), node.stored()), (2, 2));

    // A height the blob is not at: the node's "blob: not found".
    let elsewhere = BlobRef {
        locator: r.locator.replacen("celestia:1:", "celestia:9:", 1),
        ..r.clone()
    };
    assert!(matches!(
        layer.get(&elsewhere).await,
        Err(da::Error::NotFound(_))
    ));
    // A node serving other bytes than committed: refused.
    node.corrupt(true);
    assert!(matches!(layer.get(&r).await, Err(da::Error::Mismatch(_))));
    node.corrupt(false);

    // A wrong token: the node's 401, named, and the token never in the message.
    let intruder = CelestiaLayer::new(
        &node.url,
        namespace(),
        Some(Secret::new("wrong-token-123")),
        Duration::from_secs(10),
    );
    let error = intruder
        .put(random_bytes(10))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("auth token"), "{error}");
    assert!(
        !error.contains("wrong-token-123") && !error.contains("tok-s3cret"),
        "{error}"
    );
    let error = CelestiaLayer::new(&node.url, namespace(), None, Duration::from_secs(10))
        .get(&r)
        .await
        .unwrap_err();
    assert!(matches!(error, da::Error::Unavailable { .. }), "{error}");

    // A node that fails: unavailable, with its message.
    node.fail(true);
    let error = layer.put(random_bytes(10)).await.unwrap_err();
    assert!(
        matches!(&error, da::Error::Unavailable { layer, message } if layer == "celestia" && message.contains("fake outage")),
        "{error}"
    );
    assert_eq!(node.stored(), 2);
    // Nobody listening at all.
    drop(node);
    let gone = CelestiaLayer::new(
        "http://127.0.0.1:9",
        namespace(),
        None,
        Duration::from_secs(5),
    );
    assert!(matches!(
        gone.put(random_bytes(10)).await,
        Err(da::Error::Unavailable { .. })
    ));
}

// ------------------------------------------------------------------------------------------ router

async fn status_json(router_state: Arc<DaRouter>, pool: PgPool) -> Value {
    let (_status_tx, status) = tokio::sync::watch::channel(accord::indexer::Status::default());
    let app = router(AppState {
        pool,
        chains: vec![accord::api::ServedChain::new(manifest(), status, "")],
        events: tokio::sync::broadcast::channel(1).0,
        stream: None,
        config: Default::default(),
        metrics: None,
        da: router_state,
        da_config: DaConfig::default(),
    });
    let response = app
        .oneshot(Request::get("/v1/status").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn router_falls_back_to_the_secondary_and_reconciles_onto_the_primary() {
    let (pool, _cluster) = database().await;
    let node = FakeCelestia::start(None).await;
    let celestia = Arc::new(CelestiaLayer::new(
        &node.url,
        namespace(),
        None,
        Duration::from_secs(10),
    ));
    let da = Arc::new(DaRouter::new(
        celestia.clone(),
        Some(Arc::new(LocalStore::new(pool.clone()))),
        pool.clone(),
    ));

    // Primary up: the blob goes to Celestia and into the archive.
    let first = random_bytes(700);
    let r1 = da.put(first.clone()).await.unwrap();
    assert_eq!(r1.kind, KIND_CELESTIA);
    assert_eq!(da.state().await.unwrap().pending, 0);
    assert_eq!(
        da.fetch_verified(&r1, None).await.unwrap().source,
        Source::Archive
    );

    // Primary down: the secondary takes it and a pending row remembers it.
    node.fail(true);
    let data = random_bytes(1500);
    let fallback = da.put(data.clone()).await.unwrap();
    assert_eq!(fallback.kind, KIND_LOCAL);
    assert_eq!(fallback.commitment, da::sha256(&data));
    let state = da.state().await.unwrap();
    assert_eq!(
        (
            state.primary.as_str(),
            state.secondary.as_deref(),
            state.pending
        ),
        ("celestia", Some("local"), 1)
    );
    let oldest = state.oldest_pending.expect("an oldest pending time");
    assert!(
        oldest.abs_diff(offchain::unix_now() as i64) < 60,
        "{oldest}"
    );
    let pending = da.pending().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].sha256, da::sha256(&data).to_string());
    assert_eq!(pending[0].secondary_locator, fallback.locator);
    assert!(pending[0].last_error.contains("fake outage"), "{pending:?}");
    assert_eq!(pending[0].attempts, 0);

    // /v1/status shows it.
    let status = status_json(da.clone(), pool.clone()).await;
    assert_eq!(
        status["da"],
        json!({"primary": "celestia", "secondary": "local", "pending": 1, "oldest_pending": oldest})
    );

    // Reconciling while the primary is still down: attempts and the error are recorded, the row stays.
    let report = da.reconcile(|_| {}).await.unwrap();
    assert_eq!((report.published, report.still_pending), (0, 1));
    let pending = da.pending().await.unwrap();
    assert_eq!(pending[0].attempts, 1);
    assert!(pending[0].last_error.contains("fake outage"));

    // Primary back: reconcile puts it there from the archive and clears the row.
    node.fail(false);
    let mut seen = Vec::new();
    let report = da.reconcile(|o| seen.push(o.clone())).await.unwrap();
    assert_eq!(
        (report.published, report.still_pending, report.skipped),
        (1, 0, 0)
    );
    let ReconcileOutcome::Published { sha256, blob } = &seen[0] else {
        panic!("not published: {seen:?}");
    };
    assert_eq!(sha256, &da::sha256(&data).to_string());
    assert_eq!(blob.kind, KIND_CELESTIA);
    assert_eq!(
        celestia.get(blob).await.unwrap(),
        data,
        "on the primary now"
    );
    let state = da.state().await.unwrap();
    assert_eq!((state.pending, state.oldest_pending), (0, None));
    assert_eq!(
        status_json(da.clone(), pool.clone()).await["da"]["pending"],
        0
    );
    // Both references resolve to the archived bytes.
    for r in [&fallback, blob] {
        let fetched = da.fetch_verified(r, None).await.unwrap();
        assert_eq!(
            (fetched.data, fetched.source),
            (data.clone(), Source::Archive)
        );
    }
    // The same bytes again: already on the primary, not submitted twice.
    let submits = node.calls("blob.Submit");
    assert_eq!(da.put(data.clone()).await.unwrap(), *blob);
    assert_eq!(node.calls("blob.Submit"), submits);

    // Both layers failing: an error naming both, nothing stored.
    let before = archived_count(&pool).await;
    node.fail(true);
    let lonely = DaRouter::new(celestia.clone(), None, pool.clone());
    assert!(matches!(
        lonely.put(random_bytes(10)).await,
        Err(da::Error::Unavailable { .. })
    ));
    let broken = DaRouter::new(
        celestia.clone(),
        Some(Arc::new(CelestiaLayer::new(
            "http://127.0.0.1:9",
            namespace(),
            None,
            Duration::from_secs(5),
        ))),
        pool.clone(),
    );
    let error = broken.put(random_bytes(10)).await.unwrap_err().to_string();
    assert!(
        error.contains("primary") && error.contains("secondary"),
        "{error}"
    );
    assert_eq!(archived_count(&pool).await, before);
}

// ------------------------------------------------------------------------------------------ devnet

/// A coordinator (indexer, API, DA) on `devnet` with `da`, caught up.
/// Also returns a pool on its database and that database's URL.
async fn coordinator(
    devnet: &Devnet,
    da: DaConfig,
) -> (Coordinator, PgPool, String, Arc<TempCluster>) {
    let (url, cluster) = database_url().await;
    let mut config = Config::default();
    config.chain.rpc_url = devnet.anvil.url.clone();
    config.chain.deployments_dir = devnet.deployments_dir().to_path_buf();
    config.database.url = url.clone();
    config.database.max_connections = 8;
    config.api.listen = "127.0.0.1:0".parse().unwrap();
    config.indexer.poll_interval_ms = 50;
    config.da = da;
    let mut coordinator = Coordinator::start(config, None).await.unwrap();
    coordinator
        .wait_ready(Duration::from_secs(60))
        .await
        .unwrap();
    let pool = accord::store::connect(&url, 2).await.unwrap();
    (coordinator, pool, url, cluster)
}

fn signer(i: u32) -> PrivateKeySigner {
    devnet_key(i).parse().unwrap()
}

/// Headers of an upload of `data` claimed by `claimed`, signed by `by` at `timestamp`.
fn signed_headers(
    devnet: &Devnet,
    by: &PrivateKeySigner,
    claimed: Address,
    data: &[u8],
    timestamp: u64,
) -> Vec<(&'static str, String)> {
    let message = BlobUpload {
        worker: claimed,
        sha256: da::sha256(data),
        size: data.len() as u64,
        timestamp,
    };
    let domain = offchain::domain(
        31337,
        accord::chain::evm::Deployment::from_manifest(&devnet.manifest)
            .unwrap()
            .registry,
    );
    let signature = offchain::sign(by, &domain, &message).unwrap();
    vec![
        ("X-Accord-Worker", format!("{claimed:#x}")),
        ("X-Accord-Timestamp", timestamp.to_string()),
        ("X-Accord-Sha256", da::sha256(data).to_string()),
        (
            "X-Accord-Signature",
            alloy::hex::encode_prefixed(signature.as_bytes()),
        ),
    ]
}

/// Upload headers.
type Headers = Vec<(&'static str, String)>;

/// POSTs `body` to `/v1/blobs` with `headers`; the status and the JSON answer.
async fn post_blob(
    api: &str,
    headers: &[(&'static str, String)],
    body: reqwest::Body,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().post(format!("{api}/v1/blobs"));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.body(body).send().await.unwrap();
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: {e}: {text}"));
    (status, value)
}

fn assert_refused(answer: &(StatusCode, Value), status: StatusCode, code: &str, needle: &str) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(needle), "{needle:?} not in {message:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn blob_uploads_need_a_registered_workers_fresh_signature() {
    let devnet = Devnet::start();
    // Registers and stakes workers 4 and 5 on chain.
    devnet.scenario(1);
    let da_config = DaConfig {
        max_blob_bytes: 1024,
        ..DaConfig::default()
    };
    let (coordinator, pool, _, _cluster) = coordinator(&devnet, da_config).await;
    let api = format!("http://{}", coordinator.api_addr);
    let worker = signer(5);
    let stranger = signer(6);
    // Worker 4 is registered but jailed; worker 5 holds an assignment awaiting its result (phase 1, job 4).
    let jailed = signer(4);

    // A registered worker's signed upload: 201 with the reference, archived.
    let data = random_bytes(600);
    let deployment = Deployment::from_manifest(&devnet.manifest).unwrap();
    let client = BlobClient::new(
        &api,
        account(&devnet.anvil.url, worker.clone(), deployment.clone()).await,
    );
    let r = client.upload(data.clone()).await.unwrap();
    assert_eq!(
        (r.kind, r.commitment, r.size),
        (KIND_LOCAL, da::sha256(&data), 600)
    );
    let served = reqwest::get(format!("{api}/v1/blobs/{}", r.commitment))
        .await
        .unwrap();
    assert_eq!(served.status().as_u16(), 200);
    assert_eq!(served.headers()["content-type"], "application/octet-stream");
    assert_eq!(served.bytes().await.unwrap(), data);
    assert_eq!(archived_count(&pool).await, 1);
    let missing = reqwest::get(format!("{api}/v1/blobs/{}", B256::repeat_byte(1)))
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let bad = reqwest::get(format!("{api}/v1/blobs/xyz")).await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);

    // Every refusal changes nothing.
    let body = random_bytes(500);
    let now = offchain::unix_now();
    let good = signed_headers(&devnet, &worker, worker.address(), &body, now);
    let without = |name: &str| -> Vec<(&'static str, String)> {
        good.iter().filter(|(n, _)| *n != name).cloned().collect()
    };
    let with = |name: &'static str, value: &str| -> Vec<(&'static str, String)> {
        let mut h = without(name);
        h.push((name, value.to_string()));
        h
    };
    let unauthorized = StatusCode::UNAUTHORIZED;
    let by_stranger = format!("signature is by {:#x}", stranger.address());
    // (headers, body, status, code, words of the message)
    let cases: Vec<(Headers, Bytes, StatusCode, &str, &str)> = vec![
        (
            vec![],
            body.clone(),
            unauthorized,
            "unauthorized",
            "missing X-Accord-Worker header",
        ),
        (
            without("X-Accord-Signature"),
            body.clone(),
            unauthorized,
            "unauthorized",
            "missing X-Accord-Signature header",
        ),
        (
            without("X-Accord-Timestamp"),
            body.clone(),
            unauthorized,
            "unauthorized",
            "missing X-Accord-Timestamp header",
        ),
        (
            with("X-Accord-Signature", "0x1234"),
            body.clone(),
            unauthorized,
            "unauthorized",
            "65 bytes",
        ),
        (
            with("X-Accord-Worker", "bob"),
            body.clone(),
            unauthorized,
            "unauthorized",
            "X-Accord-Worker is not a 0x address",
        ),
        (
            with("X-Accord-Timestamp", "yesterday"),
            body.clone(),
            unauthorized,
            "unauthorized",
            "unix seconds",
        ),
        // Signed by someone else in the worker's name.
        (
            signed_headers(&devnet, &stranger, worker.address(), &body, now),
            body.clone(),
            unauthorized,
            "unauthorized",
            &by_stranger,
        ),
        (
            without("X-Accord-Sha256"),
            body.clone(),
            unauthorized,
            "unauthorized",
            "missing X-Accord-Sha256 header",
        ),
        // The worker's signature, over other declared bytes.
        (
            with("X-Accord-Sha256", &B256::repeat_byte(7).to_string()),
            body.clone(),
            unauthorized,
            "unauthorized",
            "not by X-Accord-Worker",
        ),
        // Signed headers, with other bytes in the body than they declare.
        (
            good.clone(),
            random_bytes(500),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "not the signed X-Accord-Sha256",
        ),
        // Stale and future timestamps, properly signed (a few seconds ahead is clock drift, more is not).
        (
            signed_headers(&devnet, &worker, worker.address(), &body, now - 301),
            body.clone(),
            unauthorized,
            "unauthorized",
            "more than 300 s before now",
        ),
        (
            signed_headers(&devnet, &worker, worker.address(), &body, now + 30),
            body.clone(),
            unauthorized,
            "unauthorized",
            "ahead of now",
        ),
        // A jailed worker.
        (
            signed_headers(&devnet, &jailed, jailed.address(), &body, now),
            body.clone(),
            StatusCode::FORBIDDEN,
            "forbidden",
            "is jailed",
        ),
        // A valid signature by a wallet that is not a registered worker.
        (
            signed_headers(&devnet, &stranger, stranger.address(), &body, now),
            body.clone(),
            StatusCode::FORBIDDEN,
            "forbidden",
            "is not registered",
        ),
        // Larger than da.max_blob_bytes, properly signed.
        {
            let big = random_bytes(2000);
            (
                signed_headers(&devnet, &worker, worker.address(), &big, now),
                big,
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "1024 bytes",
            )
        },
        (
            {
                let mut h = signed_headers(&devnet, &worker, worker.address(), &[], now);
                h.push(("Content-Length", "0".into()));
                h
            },
            Bytes::new(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "blob is empty",
        ),
    ];
    for (headers, body, status, code, needle) in cases {
        let answer = post_blob(&api, &headers, reqwest::Body::from(body)).await;
        assert_refused(&answer, status, code, needle);
    }
    // Without a Content-Length (chunked), refused before anything is read: the size is part of the signature.
    let big = random_bytes(3000);
    let chunks: Vec<Result<Bytes, std::io::Error>> = big
        .chunks(500)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let answer = post_blob(
        &api,
        &signed_headers(&devnet, &worker, worker.address(), &big, now),
        reqwest::Body::wrap_stream(futures::stream::iter(chunks)),
    )
    .await;
    assert_refused(
        &answer,
        StatusCode::LENGTH_REQUIRED,
        "length_required",
        "Content-Length",
    );
    // A forged signature is refused before the body is read: a body that never ends gets its answer.
    let endless = futures::StreamExt::chain(
        futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"x"))]),
        futures::stream::pending(),
    );
    let mut forged = signed_headers(&devnet, &stranger, worker.address(), &big[..1000], now);
    forged.push(("Content-Length", "1000".into()));
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        post_blob(&api, &forged, reqwest::Body::wrap_stream(endless)),
    )
    .await
    .expect("the refusal waited for the body");
    assert_refused(&answer, unauthorized, "unauthorized", &by_stranger);
    // The client reports a refusal with the API's code.
    let by_stranger_account =
        account(&devnet.anvil.url, stranger.clone(), deployment.clone()).await;
    let error = BlobClient::new(&api, by_stranger_account)
        .upload(body.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, da::Error::Rejected { status: 403, code, .. } if code == "forbidden"),
        "{error}"
    );
    // Signed for another deployment: refused.
    let elsewhere = Deployment {
        registry: Address::repeat_byte(9),
        ..deployment.clone()
    };
    let error = BlobClient::new(
        &api,
        account(&devnet.anvil.url, worker.clone(), elsewhere).await,
    )
    .upload(body.clone())
    .await
    .unwrap_err();
    assert!(
        matches!(&error, da::Error::Rejected { status: 401, .. }),
        "{error}"
    );
    assert_eq!(
        archived_count(&pool).await,
        1,
        "a refused upload stored something"
    );
    let refs: i64 = sqlx::query_scalar("SELECT count(*) FROM da_refs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(refs, 1);
    coordinator.shutdown().await.unwrap();
}

/// Posts a job as the scenario's client (account 3), assigns it to `worker` as the coordinator (account 1),
/// and submits `blob` as its result from `worker`; returns the job id and the block of the submission.
async fn job_with_result(
    devnet: &Devnet,
    worker: &PrivateKeySigner,
    blob: &BlobRef,
) -> (U256, u64) {
    let (id, _) = assigned_job(devnet, worker).await;
    let url: alloy::transports::http::reqwest::Url = devnet.anvil.url.parse().unwrap();
    let address = accord::chain::evm::Deployment::from_manifest(&devnet.manifest)
        .unwrap()
        .job_manager;
    let as_worker = ProviderBuilder::new()
        .wallet(worker.clone())
        .connect_http(url);
    let receipt = JobManager::new(address, &as_worker)
        .submitResult(
            id,
            blob.kind,
            blob.commitment,
            blob.size,
            blob.locator.clone(),
        )
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status(), "submitResult reverted");
    (id, receipt.block_number.unwrap())
}

/// Posts a job as the scenario's client (account 3) and assigns it to `worker` as the coordinator (account 1);
/// returns the job id and the block of the assignment.
async fn assigned_job(devnet: &Devnet, worker: &PrivateKeySigner) -> (U256, u64) {
    let url: alloy::transports::http::reqwest::Url = devnet.anvil.url.parse().unwrap();
    let address = accord::chain::evm::Deployment::from_manifest(&devnet.manifest)
        .unwrap()
        .job_manager;
    let as_account =
        |key: PrivateKeySigner| ProviderBuilder::new().wallet(key).connect_http(url.clone());
    let client = as_account(signer(3));
    let deadline = offchain::unix_now() + 7 * 24 * 3600;
    let receipt = JobManager::new(address, &client)
        .postJob(
            B256::repeat_byte(0x5e),
            "ipfs://da-test".into(),
            1,
            alloy::primitives::aliases::U96::from(10u64.pow(18)),
            deadline as u32,
            1,
        )
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status(), "postJob reverted");
    let id = receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| log.log_decode::<JobManager::JobPosted>().ok())
        .expect("a JobPosted log")
        .inner
        .data
        .jobId;
    let coordinator = as_account(signer(1));
    let receipt = JobManager::new(address, &coordinator)
        .assign(id, worker.address())
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status(), "assign reverted");
    (id, receipt.block_number.unwrap())
}

async fn wait_indexed(coordinator: &Coordinator, block: u64) {
    let mut status = coordinator.status.clone();
    tokio::time::timeout(
        Duration::from_secs(30),
        status.wait_for(|s| s.indexed >= block),
    )
    .await
    .expect("indexed in time")
    .unwrap();
}

/// GET `/v1/jobs/{id}/result`: status, headers, body bytes.
async fn result_of(
    api: &str,
    id: impl std::fmt::Display,
) -> (u16, reqwest::header::HeaderMap, Bytes) {
    let response = reqwest::get(format!("{api}/v1/jobs/{id}/result"))
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap())
}

fn error_code(body: &[u8]) -> String {
    let value: Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not a JSON error: {} bytes", body.len()));
    value["error"]["code"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn job_results_are_served_only_when_they_match_the_chain() {
    let devnet = Devnet::start();
    devnet.scenario(1);
    let node = FakeCelestia::start(Some("tok-node")).await;
    let mut da_config = DaConfig {
        primary: DaBackend::Celestia,
        secondary: Some(DaBackend::Local),
        reconcile_interval_secs: 0,
        ..DaConfig::default()
    };
    da_config.celestia.url = node.url.clone();
    da_config.celestia.namespace = NAMESPACE.into();
    da_config.celestia.auth_token = Some(Secret::new("tok-node"));
    let (coordinator, pool, database, _cluster) = coordinator(&devnet, da_config).await;
    let api = format!("http://{}", coordinator.api_addr);
    let worker = signer(5);
    let client = BlobClient::new(
        &api,
        account(
            &devnet.anvil.url,
            worker.clone(),
            Deployment::from_manifest(&devnet.manifest).unwrap(),
        )
        .await,
    );

    // A result on Celestia: uploaded, committed on chain, served from the archive.
    let on_celestia = random_bytes(2500);
    let r1 = client.upload(on_celestia.clone()).await.unwrap();
    assert_eq!(r1.kind, KIND_CELESTIA);
    let (job1, block) = job_with_result(&devnet, &worker, &r1).await;
    wait_indexed(&coordinator, block).await;
    let (status, headers, body) = result_of(&api, job1).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, on_celestia);
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["x-accord-commitment"], r1.commitment.to_string());
    assert_eq!(headers["x-accord-source"], "archive");

    // Not archived any more: fetched from Celestia and checked.
    sqlx::query("DELETE FROM da_archive WHERE sha256 = $1")
        .bind(da::sha256(&on_celestia).to_string())
        .execute(&pool)
        .await
        .unwrap();
    let (status, headers, body) = result_of(&api, job1).await;
    assert_eq!((status, &body), (200, &on_celestia));
    assert_eq!(headers["x-accord-source"], "layer");
    // The node serves other bytes: 502, and none of them.
    node.corrupt(true);
    let (status, _, body) = result_of(&api, job1).await;
    assert_eq!(status, 502);
    assert_eq!(error_code(&body), "result_mismatch");
    node.corrupt(false);

    // Celestia down: the upload falls back to the local store, the status shows the pending blob.
    node.fail(true);
    let local = random_bytes(1800);
    let r2 = client.upload(local.clone()).await.unwrap();
    assert_eq!(r2.kind, KIND_LOCAL);
    let status: Value = reqwest::get(format!("{api}/v1/status"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["da"]["primary"], "celestia");
    assert_eq!(status["da"]["pending"], 1);
    let (job2, block) = job_with_result(&devnet, &worker, &r2).await;
    wait_indexed(&coordinator, block).await;
    let (status, headers, body) = result_of(&api, job2).await;
    assert_eq!((status, &body), (200, &local));
    assert_eq!(
        headers["x-accord-commitment"],
        da::sha256(&local).to_string()
    );

    // Archive bytes tampered in SQL (same size): 502 result_mismatch, no bytes.
    sqlx::query(
        "UPDATE da_archive SET data = set_byte(data, 7, get_byte(data, 7) # 255) WHERE sha256 = $1",
    )
    .bind(da::sha256(&local).to_string())
    .execute(&pool)
    .await
    .unwrap();
    let (status, headers, body) = result_of(&api, job2).await;
    assert_eq!(status, 502);
    assert_eq!(error_code(&body), "result_mismatch");
    assert!(headers.get("x-accord-commitment").is_none());
    assert_ne!(body.len(), local.len());

    // The scenario's results name no blob anyone has (kind 0, and a made-up kind-1 commitment); a job without
    // a result is 404.
    for id in [1, 3] {
        let (status, _, body) = result_of(&api, id).await;
        assert_eq!(
            (status, error_code(&body).as_str()),
            (502, "result_unavailable")
        );
    }
    let (status, _, body) = result_of(&api, 5).await;
    assert_eq!((status, error_code(&body).as_str()), (404, "not_found"));

    // `accord da` as a user runs it, against the same database and Celestia node.
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("accord.toml");
    std::fs::write(
        &config_path,
        format!(
            "[da]\nprimary = \"celestia\"\nsecondary = \"local\"\n[da.celestia]\nurl = \"{}\"\nnamespace = \"{NAMESPACE}\"\n",
            node.url
        ),
    )
    .unwrap();
    let accord = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_accord"));
        cmd.args(args)
            .arg("--config")
            .arg(&config_path)
            .args(["--database-url", &database])
            .env("ACCORD_CELESTIA_TOKEN", "tok-node")
            .env_remove("ACCORD_DATABASE_URL");
        cmd
    };
    let out = accord(&["--output", "json", "da", "status"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["pending"], 1);
    assert_eq!(status["blobs"][0]["sha256"], da::sha256(&local).to_string());
    // Still down: the blob stays pending and the command says so with its exit code.
    let out = accord(&["da", "reconcile"]).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("pending") && stderr.contains("fake outage"),
        "{stderr}"
    );
    assert!(!stderr.contains("tok-node"), "the token leaked: {stderr}");
    // Back up: published on Celestia, nothing pending.
    node.fail(false);
    let stored = node.stored();
    let out = accord(&["da", "reconcile"]).output().await.unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains("published") && stdout.contains("1 published, 0 still pending"),
        "{stdout}{stderr}"
    );
    assert_eq!(node.stored(), stored + 1);
    let out = accord(&["--output", "json", "da", "status"])
        .output()
        .await
        .unwrap();
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (status["pending"].clone(), status["oldest_pending"].clone()),
        (json!(0), Value::Null)
    );
    // `da get` by job id: job 1's bytes from Celestia (its archive copy is gone), checked.
    let out = accord(&["da", "get", &job1.to_string()])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, on_celestia);
    // By sha256 (JSON), and job 2's tampered archive copy refused.
    let upload = random_bytes(100);
    client.upload(upload.clone()).await.unwrap();
    let out = accord(&[
        "--output",
        "json",
        "da",
        "get",
        &da::sha256(&upload).to_string(),
    ])
    .output()
    .await
    .unwrap();
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["data"], alloy::hex::encode_prefixed(&upload));
    assert_eq!(got["source"], "archive");
    let out = accord(&["da", "get", &job2.to_string()])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());

    // The consistency report. Job 1's archive copy is gone but Celestia serves it; job 2's only copy (local) was
    // tampered with; the scenario's three results name bytes nobody has. `--refresh` checks every result now.
    std::fs::write(
        &config_path,
        format!(
            "[da]\nprimary = \"celestia\"\nsecondary = \"local\"\n[da.celestia]\nurl = \"{}\"\nnamespace = \"{NAMESPACE}\"\n",
            node.url
        ),
    )
    .unwrap();
    let out = accord(&["--output", "json", "da", "report", "--refresh"])
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a result without a verified copy fails the command: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["results"], 5, "{report:#}");
    assert_eq!(
        report["counts"],
        json!({"layer_only": 1, "missing": 4}),
        "{report:#}"
    );
    let item = |report: &Value, job: &U256| {
        report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["job_id"] == job.to_string())
            .cloned()
            .unwrap_or_else(|| panic!("job {job} not in {report:#}"))
    };
    let one = item(&report, &job1);
    assert_eq!(
        (
            one["state"].clone(),
            one["archive"].clone(),
            one["layer"].clone()
        ),
        (json!("layer_only"), json!("missing"), json!("verified"))
    );
    let two = item(&report, &job2);
    assert_eq!(
        (
            two["state"].clone(),
            two["archive"].clone(),
            two["layer"].clone()
        ),
        (json!("missing"), json!("mismatch"), json!("mismatch"))
    );
    assert!(two["missing_since"].as_i64().is_some(), "{two}");
    // The oldest missing result is the scenario's first.
    let scenario_block = report["problems"][0]["block_number"].as_i64().unwrap();
    assert!(scenario_block < two["block_number"].as_i64().unwrap());
    assert_eq!(report["oldest_missing"]["block_number"], scenario_block);
    assert_eq!(report["oldest_missing"]["state"], "missing");

    // The API serves the same report from the recorded checks: asking again reads no blob.
    let gets = node.calls("blob.Get");
    let api_report = get_json(&api, "/v1/da/report").await;
    for _ in 0..5 {
        assert_eq!(
            get_json(&api, "/v1/da/report?limit=2").await["problems"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
    assert_eq!(node.calls("blob.Get"), gets, "a report request read blobs");
    assert_eq!(api_report["counts"], report["counts"]);
    assert_eq!(item(&api_report, &job1)["chain"], "eip155:31337");
    let bad = reqwest::get(format!("{api}/v1/da/report?limit=0"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // Job 2's bytes archived again: the next check finds them available, and `missing_since` clears.
    sqlx::query("UPDATE da_archive SET data = $2 WHERE sha256 = $1")
        .bind(da::sha256(&local).to_string())
        .bind(local.to_vec())
        .execute(&pool)
        .await
        .unwrap();
    let out = accord(&["--output", "json", "da", "report", "--refresh"])
        .output()
        .await
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["counts"],
        json!({"available": 1, "layer_only": 1, "missing": 3}),
        "{report:#}"
    );
    assert!(
        !report["problems"]
            .to_string()
            .contains(&format!("\"job_id\":\"{job2}\"")),
        "{report:#}"
    );
    coordinator.shutdown().await.unwrap();
}

async fn get_json(api: &str, path: &str) -> Value {
    reqwest::get(format!("{api}{path}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
