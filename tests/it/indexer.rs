//! The indexer against a real anvil and a real PostgreSQL: the scripted scenario indexed and compared with what
//! the chain says (through the generated bindings), a reorg rolled back, crashes at random points during a
//! backfill, and a second index of the same chain giving identical digests.

use std::time::Duration;

use accord::chain::evm::EvmChain;
use accord::chain::evm::bindings::{JobManager, WorkerRegistry};
use accord::config::IndexerConfig;
use accord::domain::LiveEvent;
use accord::indexer::{Indexer, Status};
use accord::pg::TempCluster;
use accord::store::digest::{TableDigest, digests};
use alloy::primitives::{Address, U256};
use alloy::providers::ProviderBuilder;
use rand::Rng;
use sqlx::PgPool;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::utils::{Devnet, address_of, devnet_key};

struct Running {
    cancel: CancellationToken,
    handle: JoinHandle<accord::indexer::Result<()>>,
    status: watch::Receiver<Status>,
    events: broadcast::Receiver<LiveEvent>,
}

fn config() -> IndexerConfig {
    IndexerConfig {
        poll_interval_ms: 50,
        ..IndexerConfig::default()
    }
}

async fn start(
    devnet: &Devnet,
    pool: PgPool,
    config: IndexerConfig,
    stop_at: Option<u64>,
) -> Running {
    let chain = EvmChain::connect(&devnet.anvil.url, &devnet.manifest, Duration::from_secs(10))
        .await
        .unwrap();
    let (tx, status) = watch::channel(Status::default());
    let (events_tx, events) = broadcast::channel(4096);
    let mut indexer = Indexer::new(
        chain,
        pool,
        config,
        devnet.manifest.deploy_block,
        tx,
        events_tx,
    );
    if let Some(block) = stop_at {
        indexer = indexer.stop_at(block);
    }
    let cancel = CancellationToken::new();
    let handle = tokio::spawn(indexer.run(cancel.clone()));
    Running {
        cancel,
        handle,
        status,
        events,
    }
}

async fn wait_indexed(status: &mut watch::Receiver<Status>, block: u64) {
    let waited = tokio::time::timeout(
        Duration::from_secs(60),
        status.wait_for(|s| s.indexed >= block || s.halted.is_some()),
    )
    .await
    .map(|r| r.is_ok());
    let s = status.borrow().clone();
    assert!(
        waited == Ok(true),
        "indexer did not reach block {block} in 60 s: {s:?}"
    );
    assert!(s.halted.is_none(), "indexer halted: {s:?}");
}

/// Indexes the chain into a fresh database up to `head` and returns its digests.
async fn fresh_digests(
    devnet: &Devnet,
    cluster: &TempCluster,
    db: &str,
    head: u64,
) -> Vec<TableDigest> {
    let pool = accord::store::connect(&cluster.create_database(db).await.unwrap(), 4)
        .await
        .unwrap();
    let run = start(devnet, pool.clone(), config(), Some(head)).await;
    run.handle.await.unwrap().expect("fresh index completes");
    digests(&mut pool.acquire().await.unwrap(), 31337)
        .await
        .unwrap()
}

/// Stops `run`, then checks its index equals a fresh index of the same chain up to `head`; returns the digests.
async fn stop_and_compare_with_fresh(
    run: Running,
    pool: &PgPool,
    devnet: &Devnet,
    cluster: &TempCluster,
    db: &str,
    head: u64,
) -> Vec<TableDigest> {
    run.cancel.cancel();
    run.handle.await.unwrap().unwrap();
    let live = digests(&mut pool.acquire().await.unwrap(), 31337)
        .await
        .unwrap();
    assert_eq!(
        fresh_digests(devnet, cluster, db, head).await,
        live,
        "index differs from a fresh index"
    );
    live
}

/// Every index of the schema, by name, with its definition.
async fn index_definitions(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap()
}

fn status_name(code: u8) -> &'static str {
    [
        "none",
        "open",
        "assigned",
        "submitted",
        "disputed",
        "paid",
        "cancelled",
        "refunded",
    ][code as usize]
}

#[tokio::test(flavor = "multi_thread")]
async fn scenario_is_indexed_exactly_as_the_chain_says() {
    let devnet = Devnet::start();
    let cluster = TempCluster::start().await.unwrap();
    let pool = accord::store::connect(&cluster.url(), 4).await.unwrap();
    devnet.scenario(1);
    // Backfill phase 1, then follow the head through the rest.
    let mut run = start(&devnet, pool.clone(), config(), None).await;
    wait_indexed(&mut run.status, devnet.head().await).await;
    devnet.advance(2 * 3600, 2).await;
    devnet.scenario(2);
    devnet.advance(1, 21).await;
    devnet.scenario(3);
    devnet.advance(61, 1).await;
    devnet.scenario(4);
    let head = devnet.head().await;
    wait_indexed(&mut run.status, head).await;
    assert!(run.status.borrow().caught_up);
    let streamed = run.events.len();
    assert!(streamed > 0, "new events are broadcast to subscribers");

    let provider = ProviderBuilder::new().connect_http(devnet.anvil.url.parse().unwrap());
    let k = accord::chain::evm::Deployment::from_manifest(&devnet.manifest).unwrap();
    let jm = JobManager::new(k.job_manager, &provider);
    let registry = WorkerRegistry::new(k.registry, &provider);

    // Every job as the chain has it.
    for id in 1..=5u64 {
        let on_chain = jm.jobOf(U256::from(id)).call().await.unwrap();
        let row: (String, Option<String>, i32, String) = sqlx::query_as(
            "SELECT status, worker, attempts_left, reward::text FROM jobs WHERE chain_id = 31337 AND job_id = $1::numeric",
        )
        .bind(id.to_string())
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(row.0, status_name(on_chain.status), "job {id} status");
        let chain_worker =
            (on_chain.worker != Address::ZERO).then(|| format!("{:#x}", on_chain.worker));
        assert_eq!(row.1, chain_worker, "job {id} worker");
        assert_eq!(
            row.2,
            i32::from(on_chain.attemptsLeft),
            "job {id} attempts left"
        );
        assert_eq!(row.3, on_chain.reward.to_string(), "job {id} reward");
    }
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM jobs ORDER BY job_id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(statuses, ["paid", "refunded", "paid", "open", "cancelled"]);

    // Workers, their stakes after two slashes, and the jail.
    for key in [4, 5] {
        let address = address_of(&devnet_key(key));
        let w = registry
            .workerOf(address.parse().unwrap())
            .call()
            .await
            .unwrap();
        let row: (String, String, bool, String) = sqlx::query_as(
            "SELECT stake::text, pending::text, jailed, slashed_total::text FROM workers WHERE chain_id = 31337 AND address = $1",
        )
        .bind(&address)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            (row.0.as_str(), row.1.as_str(), row.2),
            (
                w.stake.to_string().as_str(),
                w.pending.to_string().as_str(),
                w.jailed
            )
        );
        assert_eq!(
            row.3,
            (U256::from(1000u64) * U256::from(10u64).pow(U256::from(18u64)) - U256::from(w.stake))
                .to_string()
        );
    }
    assert_eq!(count(&pool, "SELECT count(*) FROM slashes").await, 2);

    // Money: job 1 paid minus the 2.5% fee, job 2 and job 5 refunded in full. Job 2's client gets its 10% dispute
    // bond back and, of each fault slash (jobs 2 and 4: 100 tokens each), only the bounded compensation (5% of the
    // reward); the rest accrues to the treasury.
    let payments: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT kind, job_id::text, amount::text FROM payments ORDER BY block_number, log_index",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let e18 = |n: u64| (U256::from(n) * U256::from(10u64).pow(U256::from(16u64))).to_string(); // hundredths
    assert_eq!(
        payments,
        vec![
            ("reward".into(), "1".into(), e18(9750)),
            ("refund".into(), "5".into(), e18(10_000)),
            ("refund".into(), "2".into(), e18(10_000)),
            ("dispute_bond".into(), "2".into(), e18(1000)),
            ("compensation".into(), "2".into(), e18(500)),
            ("reward".into(), "3".into(), e18(9750)),
            ("compensation".into(), "4".into(), e18(500)),
        ]
    );
    let treasury_shares: Vec<String> = sqlx::query_scalar(
        "SELECT fee::text FROM payments WHERE kind = 'compensation' ORDER BY block_number, log_index",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(treasury_shares, vec![e18(9500), e18(9500)]);
    let bond: String = sqlx::query_scalar(
        "SELECT dispute_bond::text FROM assignments WHERE job_id = 2 AND attempt = 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(bond, e18(1000));

    // Governance: executed, the vote counted, the parameter changed on chain and in the index.
    let p: (bool, String, i64) = sqlx::query_as(
        "SELECT executed, for_votes::text, (SELECT count(*) FROM votes) FROM proposals",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        p,
        (
            true,
            (U256::from(200_000_000u64) * U256::from(10u64).pow(U256::from(18u64))).to_string(),
            1
        )
    );
    let min_stake: String = sqlx::query_scalar(
        "SELECT value::text FROM params WHERE contract = 'WorkerRegistry' AND key = 'minStake'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        min_stake,
        registry.minStake().call().await.unwrap().to_string()
    );
    assert_eq!(min_stake, "500000000000000000000");

    // The API answers as the chain does.
    let app = accord::api::router(accord::api::AppState {
        pool: pool.clone(),
        chains: vec![accord::api::ServedChain::new(
            devnet.manifest.clone(),
            run.status.clone(),
            &devnet.anvil.url,
        )],
        events: broadcast::channel(16).0,
        stream: None,
        config: Default::default(),
        metrics: None,
        da: std::sync::Arc::new(
            accord::da::from_config(&Default::default(), pool.clone()).unwrap(),
        ),
        da_config: Default::default(),
    });
    for id in 1..=5u64 {
        let on_chain = jm.jobOf(U256::from(id)).call().await.unwrap();
        let job = api_get(&app, &format!("/v1/jobs/{id}")).await;
        assert_eq!(job["status"], status_name(on_chain.status), "API job {id}");
        assert_eq!(job["reward"], on_chain.reward.to_string());
    }
    let job4 = api_get(&app, "/v1/jobs/4").await;
    assert_eq!(job4["assignments"][0]["outcome"], "expired");
    assert_eq!(job4["slashes"].as_array().unwrap().len(), 1);
    let worker_b = address_of(&devnet_key(5));
    let w = api_get(&app, &format!("/v1/workers/{worker_b}")).await;
    let chain_b = registry
        .workerOf(worker_b.parse().unwrap())
        .call()
        .await
        .unwrap();
    assert_eq!(w["stake"], chain_b.stake.to_string());
    assert_eq!(
        (
            w["counts"]["completed"].clone(),
            w["counts"]["expired"].clone(),
            w["counts"]["slashed"].clone()
        ),
        (1.into(), 1.into(), 1.into())
    );
    let proposals = api_get(&app, "/v1/proposals").await;
    assert_eq!(proposals["items"][0]["state"], "Executed");
    let params = api_get(&app, "/v1/params").await;
    assert_eq!(
        params["WorkerRegistry"]["minStake"]["value"],
        "500000000000000000000"
    );
    assert_eq!(
        api_get(&app, "/v1/rewards").await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let status = api_get(&app, "/v1/status").await["chains"][0].clone();
    assert_eq!(
        (status["indexed"].as_u64(), status["lag"].as_u64()),
        (Some(head), Some(0))
    );

    // Every log of the deployment is in raw_events, once.
    let logs = provider_logs(&devnet, head).await;
    assert_eq!(
        count(&pool, "SELECT count(*) FROM raw_events").await as usize,
        logs
    );

    // A second, independent index of the same chain is identical.
    let live = stop_and_compare_with_fresh(run, &pool, &devnet, &cluster, "rebuilt", head).await;
    let empty: Vec<_> = live
        .iter()
        .filter(|d| d.rows == 0)
        .map(|d| d.table)
        .collect();
    assert!(
        empty.is_empty(),
        "the scenario fills every derived table; empty: {empty:?}"
    );

    // `accord rebuild`, as an operator runs it: equal, then a tampered live row is named.
    let rebuild = || {
        crate::utils::run(
            std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
                .args(["--output", "json", "rebuild"])
                .env("ACCORD_RPC_URL", &devnet.anvil.url)
                .env("ACCORD_DATABASE_URL", cluster.url())
                .env("ACCORD_DEPLOYMENTS_DIR", devnet.deployments_dir()),
        )
    };
    let out = rebuild();
    assert!(
        out.status.success(),
        "rebuild failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["block"], serde_json::json!(head));
    assert!(
        report["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["equal"] == true),
        "{report}"
    );
    sqlx::query("UPDATE workers SET jailed = NOT jailed WHERE chain_id = 31337 AND address = $1")
        .bind(address_of(&devnet_key(5)))
        .execute(&pool)
        .await
        .unwrap();
    let out = rebuild();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("differs from the live index in: workers"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let schemas: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rebuild_%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(schemas, 0, "rebuild drops its schema");
}

async fn api_get(app: &axum::Router, path: &str) -> serde_json::Value {
    use tower::ServiceExt;
    let request = axum::http::Request::get(path)
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn provider_logs(devnet: &Devnet, head: u64) -> usize {
    let addresses: Vec<String> = devnet
        .manifest
        .contracts
        .iter()
        .iter()
        .map(|(_, c)| c.address.to_string())
        .collect();
    let logs = devnet
        .rpc("eth_getLogs", serde_json::json!([{"fromBlock": "0x0", "toBlock": format!("{head:#x}"), "address": addresses}]))
        .await;
    logs.as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn reorg_rolls_back_orphaned_events() {
    let devnet = Devnet::start();
    devnet.scenario(1);
    let cluster = TempCluster::start().await.unwrap();
    let pool = accord::store::connect(&cluster.url(), 4).await.unwrap();
    let mut run = start(&devnet, pool.clone(), config(), None).await;
    wait_indexed(&mut run.status, devnet.head().await).await;
    let jobs_before = count(&pool, "SELECT count(*) FROM jobs").await;

    // A job posted on a branch that will be orphaned.
    let snapshot = devnet.rpc("evm_snapshot", serde_json::json!([])).await;
    let fork = devnet.head().await;
    let signer: alloy::signers::local::PrivateKeySigner = devnet_key(3).parse().unwrap();
    let provider = ProviderBuilder::new()
        .wallet(signer)
        .connect_http(devnet.anvil.url.parse().unwrap());
    let jm = JobManager::new(
        accord::chain::evm::Deployment::from_manifest(&devnet.manifest)
            .unwrap()
            .job_manager,
        &provider,
    );
    let deadline = u32::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 86_400,
    )
    .unwrap();
    jm.postJob(
        alloy::primitives::B256::repeat_byte(7),
        "ipfs://orphan".into(),
        1,
        alloy::primitives::Uint::from(5u64),
        deadline,
        1,
    )
    .send()
    .await
    .unwrap()
    .get_receipt()
    .await
    .unwrap();
    wait_indexed(&mut run.status, devnet.head().await).await;
    assert_eq!(
        count(&pool, "SELECT count(*) FROM jobs").await,
        jobs_before + 1,
        "the branch's job is indexed"
    );

    // Revert the branch and build a longer canonical chain without it.
    assert_eq!(
        devnet
            .rpc("evm_revert", serde_json::json!([snapshot]))
            .await,
        serde_json::json!(true)
    );
    devnet.advance(1, 3).await;
    let head = devnet.head().await;
    assert!(head > fork + 1);
    wait_indexed(&mut run.status, head).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while count(&pool, "SELECT count(*) FROM jobs").await != jobs_before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "orphaned job still indexed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Live subscribers were told, with the fork block, before the canonical blocks' events.
    let mut reorg = None;
    while let Ok(e) = run.events.try_recv() {
        if let LiveEvent::Reorg {
            fork_block,
            removed_events,
            ..
        } = e
        {
            reorg = Some((fork_block, removed_events));
        }
    }
    let (fork_block, removed_events) = reorg.expect("a Reorg notice on the event stream");
    assert_eq!(fork_block, fork);
    assert_eq!(
        removed_events, 2,
        "the orphaned JobPosted and its token Transfer"
    );
    let orphaned = count(
        &pool,
        &format!("SELECT count(*) FROM raw_events WHERE block_number > {fork}"),
    )
    .await;
    assert_eq!(orphaned, 0, "no event of the orphaned branch remains");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM jobs WHERE spec_uri = 'ipfs://orphan'"
        )
        .await,
        0
    );

    // The rolled-back index equals a fresh index of the canonical chain, aggregates included.
    stop_and_compare_with_fresh(run, &pool, &devnet, &cluster, "canonical", head).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn crashes_during_backfill_lose_and_double_nothing() {
    let devnet = Devnet::start();
    devnet.scenario(1);
    devnet.advance(2 * 3600, 2).await;
    devnet.scenario(2);
    // Empty blocks make the backfill long enough to be interrupted many times.
    devnet.advance(1, 200).await;
    let head = devnet.head().await;
    let cluster = TempCluster::start().await.unwrap();
    let pool = accord::store::connect(&cluster.url(), 4).await.unwrap();
    // One block per batch: many commits, so the kills land at many different points.
    let small = IndexerConfig {
        initial_batch_blocks: 1,
        max_batch_blocks: 1,
        ..config()
    };
    let mut rng = rand::rng();
    let mut kills = 0;
    let mut killed_while_deferred = 0;
    // Kill it at random points (between batches and inside them) until it has made it to the head.
    for _ in 0..200 {
        let run = start(&devnet, pool.clone(), small.clone(), Some(head)).await;
        // Every other run is killed once its indexes are deferred (if it defers them), so some kills land in the
        // bulk load however long a start takes on a loaded machine.
        if kills % 2 == 1 {
            let waited = std::time::Instant::now();
            while !run.handle.is_finished()
                && waited.elapsed() < Duration::from_secs(2)
                && count(&pool, "SELECT count(*) FROM deferred_indexes").await == 0
            {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..20))).await;
        if run.handle.is_finished() {
            break;
        }
        run.handle.abort();
        let _ = run.handle.await;
        // The killed indexer's lock session ends when PostgreSQL notices its closed socket: a loaded machine
        // may take a moment, and a start meanwhile refuses (another indexer holds the chain).
        let waited = std::time::Instant::now();
        while count(
            &pool,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
        )
        .await
            > 0
            && waited.elapsed() < Duration::from_secs(5)
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        kills += 1;
        if count(&pool, "SELECT count(*) FROM deferred_indexes").await > 0 {
            killed_while_deferred += 1;
        }
    }
    assert!(
        kills >= 3,
        "the backfill was interrupted several times ({kills})"
    );
    assert!(
        killed_while_deferred >= 1,
        "a fresh index is bulk-loaded with its secondary indexes deferred, and some kills landed then"
    );
    let run = start(&devnet, pool.clone(), small, Some(head)).await;
    run.handle.await.unwrap().unwrap();

    // Every deferred index was built again: the schema has exactly the indexes of a freshly migrated one.
    assert_eq!(
        count(&pool, "SELECT count(*) FROM deferred_indexes").await,
        0
    );
    let migrated_only =
        accord::store::connect(&cluster.create_database("schema").await.unwrap(), 2)
            .await
            .unwrap();
    assert_eq!(
        index_definitions(&pool).await,
        index_definitions(&migrated_only).await
    );

    assert_eq!(
        count(&pool, "SELECT count(*) FROM raw_events").await as usize,
        provider_logs(&devnet, head).await
    );
    let live = digests(&mut pool.acquire().await.unwrap(), 31337)
        .await
        .unwrap();
    assert_eq!(
        fresh_digests(&devnet, &cluster, "uninterrupted", head).await,
        live
    );
}

/// Secondary indexes are deferred only on a fresh index, once, and come back exactly as the migrations made
/// them, also when migrations are pending.
#[tokio::test(flavor = "multi_thread")]
async fn indexes_are_deferred_only_on_a_fresh_index() {
    use accord::store::bulk;
    let cluster = TempCluster::start().await.unwrap();
    let pool = accord::store::connect(&cluster.create_database("bulk").await.unwrap(), 2)
        .await
        .unwrap();
    let migrated = index_definitions(&pool).await;

    let dropped = bulk::defer_indexes(&pool).await.unwrap();
    assert!(dropped >= 10, "secondary indexes dropped: {dropped}");
    assert_eq!(
        index_definitions(&pool).await.len(),
        migrated.len() - dropped
    );
    assert!(bulk::any_deferred(&pool).await.unwrap());
    assert!(
        index_definitions(&pool)
            .await
            .iter()
            .any(|(name, _)| name == "raw_events_pkey"),
        "primary keys stay"
    );
    assert_eq!(
        bulk::defer_indexes(&pool).await.unwrap(),
        0,
        "already deferred"
    );

    // No migration pending: nothing happens. Pending: they are built first.
    bulk::restore_before_migrations(&pool, false).await.unwrap();
    assert!(bulk::any_deferred(&pool).await.unwrap());
    bulk::restore_before_migrations(&pool, true).await.unwrap();
    assert!(!bulk::any_deferred(&pool).await.unwrap());
    assert_eq!(index_definitions(&pool).await, migrated);

    // An index that holds events is not fresh: its indexes stay.
    sqlx::query(
        "INSERT INTO raw_events (chain_id, block_number, block_hash, log_index, tx_hash, contract, address, event, \
         stream, args) VALUES (31337, 1, '0x01', 0, '0x02', 'JobManager', '0x03', 'FeesSwept', 'fees', '{}')",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(bulk::defer_indexes(&pool).await.unwrap(), 0);
    assert_eq!(index_definitions(&pool).await, migrated);
}

/// The bounded-compensation events indexed: a decline (reopening, then refunding), a dispute won by the worker
/// (bond to the worker), a dispute left to lapse (paid as if the result stood, bond back to the client), a fault
/// slash split between the client's compensation and the treasury; and a fresh index of the same chain equal.
#[tokio::test(flavor = "multi_thread")]
async fn declines_bonds_and_lapses_are_indexed_and_rebuild_equal() {
    use accord::chain::account::{NewJob, parse_tokens};
    use accord::chain::evm::ops;
    use accord::chain::evm::wallet::{SenderConfig, TxSender};
    use accord::domain::Amount;
    use accord::spec::JobSpec;

    let devnet = Devnet::start();
    let cluster = TempCluster::start().await.unwrap();
    let pool = accord::store::connect(&cluster.create_database("live").await.unwrap(), 4)
        .await
        .unwrap();
    let d = accord::chain::evm::ops::Deployment::from_manifest(&devnet.manifest).unwrap();
    let sender = |i: u32| {
        let url = devnet.anvil.url.clone();
        async move {
            TxSender::connect(
                &url,
                devnet_key(i).parse().unwrap(),
                SenderConfig::default(),
            )
            .await
            .unwrap()
        }
    };
    let tokens = |n: &str| parse_tokens(n).unwrap().0;
    let deployer = sender(0).await;
    let (coordinator, arbiter, worker, client) = (
        sender(1).await,
        sender(2).await,
        sender(3).await,
        sender(4).await,
    );
    for (who, amount) in [(&worker, "1000"), (&client, "1000")] {
        let call = accord::chain::evm::bindings::AccordToken::transferCall {
            to: who.address(),
            value: tokens(amount),
        };
        deployer.call(d.token, &call).await.unwrap();
    }
    ops::register(&worker, &d, 1, "").await.unwrap();
    ops::stake(&worker, &d, tokens("500")).await.unwrap();
    let job = |attempts: u8| NewJob {
        spec: JobSpec::new(vec!["echo".into(), "hi".into()]),
        reward: Amount(tokens("100")),
        deadline_in: Duration::from_secs(7 * 86_400),
        capabilities: 1,
        max_attempts: attempts,
    };
    let assign = |id: U256| JobManager::assignCall {
        jobId: id,
        worker: worker.address(),
    };
    let submit = |id: U256| JobManager::submitResultCall {
        jobId: id,
        daKind: 1,
        commitment: alloy::primitives::B256::repeat_byte(7),
        size: 2,
        locator: "accord://blob/x".into(),
    };
    async fn dispute(client: &TxSender, d: &accord::chain::evm::ops::Deployment, id: U256) {
        let tokens = parse_tokens("10").unwrap().0;
        let bond = ops::dispute_bond(client, d.job_manager, id).await.unwrap();
        assert_eq!(bond, tokens, "10% of the reward");
        ops::approve_if_needed(client, d.token, d.job_manager, bond)
            .await
            .unwrap();
        client
            .call(d.job_manager, &JobManager::disputeResultCall { jobId: id })
            .await
            .unwrap();
    }

    // Job 1: declined twice (reopened, then refunded).
    let (j1, _) = ops::post_job(&client, &d, &job(2)).await.unwrap();
    for _ in 0..2 {
        coordinator.call(d.job_manager, &assign(j1)).await.unwrap();
        let call = JobManager::declineJobCall {
            jobId: j1,
            reason: 1,
        };
        worker.call(d.job_manager, &call).await.unwrap();
    }
    // Job 2: disputed, the worker ruled right (bond to the worker).
    let (j2, _) = ops::post_job(&client, &d, &job(1)).await.unwrap();
    coordinator.call(d.job_manager, &assign(j2)).await.unwrap();
    worker.call(d.job_manager, &submit(j2)).await.unwrap();
    dispute(&client, &d, j2).await;
    let resolve = JobManager::resolveDisputeCall {
        jobId: j2,
        workerAtFault: false,
    };
    arbiter.call(d.job_manager, &resolve).await.unwrap();
    // Job 3: disputed and left to lapse; job 4: assigned and left to expire (a fault slash).
    let (j3, _) = ops::post_job(&client, &d, &job(1)).await.unwrap();
    coordinator.call(d.job_manager, &assign(j3)).await.unwrap();
    worker.call(d.job_manager, &submit(j3)).await.unwrap();
    dispute(&client, &d, j3).await;
    let (j4, _) = ops::post_job(&client, &d, &job(1)).await.unwrap();
    coordinator.call(d.job_manager, &assign(j4)).await.unwrap();
    devnet.advance(2 * 86_400, 1).await;
    for id in [j3, j4] {
        client
            .call(d.job_manager, &JobManager::expireCall { jobId: id })
            .await
            .unwrap();
    }

    let head = devnet.head().await;
    let mut run = start(&devnet, pool.clone(), config(), None).await;
    wait_indexed(&mut run.status, head).await;

    let outcomes: Vec<(String, i32, String, String, String)> = sqlx::query_as(
        "SELECT job_id::text, attempt, outcome, slashed::text, dispute_bond::text FROM assignments \
         ORDER BY job_id, attempt",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let e16 = |n: u64| (U256::from(n) * U256::from(10u64).pow(U256::from(16u64))).to_string(); // hundredths
    assert_eq!(
        outcomes,
        vec![
            ("1".into(), 1, "declined".into(), e16(100), "0".into()),
            ("1".into(), 2, "declined".into(), e16(100), "0".into()),
            ("2".into(), 1, "paid".into(), "0".into(), e16(1000)),
            ("3".into(), 1, "paid".into(), "0".into(), e16(1000)),
            // Slash: min(10% of 498 staked, 2x the reward) = 49.8 tokens.
            ("4".into(), 1, "expired".into(), e16(4980), "0".into()),
        ]
    );
    let payments: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT kind, job_id::text, recipient, amount::text, fee::text FROM payments \
         ORDER BY block_number, log_index",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let (w, c) = (
        format!("{:#x}", worker.address()),
        format!("{:#x}", client.address()),
    );
    let s = |v: &str| v.to_owned();
    assert_eq!(
        payments,
        vec![
            (s("refund"), s("1"), c.clone(), e16(10_000), s("0")),
            (s("reward"), s("2"), w.clone(), e16(9750), e16(250)),
            (s("dispute_bond"), s("2"), w.clone(), e16(1000), s("0")),
            (s("reward"), s("3"), w.clone(), e16(9750), e16(250)),
            (s("dispute_bond"), s("3"), c.clone(), e16(1000), s("0")),
            (s("refund"), s("4"), c.clone(), e16(10_000), s("0")),
            (s("compensation"), s("4"), c.clone(), e16(500), e16(4480)),
        ]
    );
    let stake: String = sqlx::query_scalar("SELECT stake::text FROM workers")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        stake,
        (tokens("500") - tokens("2") - tokens("49.8")).to_string()
    );
    let declined = sqlx::query_scalar::<_, String>(
        "SELECT value::text FROM params WHERE contract = 'JobManager' AND key = 'declineFeeBps'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(declined, "100");

    stop_and_compare_with_fresh(run, &pool, &devnet, &cluster, "fresh", head).await;
}

/// Redundant jobs through the real contracts: a 2-of-3 job where two replicas agree and the third dissents
/// (slashed), then is accepted (the agreeing two paid); a 2-of-2 job whose reveals differ (refunded, nobody
/// slashed). Indexed into replica rows, reveal rows and the consensus, equal to a fresh index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redundant_jobs_are_indexed_and_rebuild_equal() {
    use accord::chain::account::parse_tokens;
    use accord::chain::evm::ops;
    use accord::chain::evm::wallet::{SenderConfig, TxSender};
    use alloy::primitives::{B256, keccak256};
    use alloy::sol_types::SolValue;

    let devnet = Devnet::start();
    let cluster = TempCluster::start().await.unwrap();
    let pool = accord::store::connect(&cluster.create_database("live").await.unwrap(), 4)
        .await
        .unwrap();
    let d = ops::Deployment::from_manifest(&devnet.manifest).unwrap();
    let sender = |i: u32| {
        let url = devnet.anvil.url.clone();
        async move {
            TxSender::connect(
                &url,
                devnet_key(i).parse().unwrap(),
                SenderConfig::default(),
            )
            .await
            .unwrap()
        }
    };
    let tokens = |n: &str| parse_tokens(n).unwrap().0;
    let deployer = sender(0).await;
    let coordinator = sender(1).await;
    let client = sender(4).await;
    let mut workers = Vec::new();
    for i in [3, 5, 6] {
        workers.push(sender(i).await);
    }
    for who in workers.iter().chain([&client]) {
        let call = accord::chain::evm::bindings::AccordToken::transferCall {
            to: who.address(),
            value: tokens("1000"),
        };
        deployer.call(d.token, &call).await.unwrap();
    }
    for w in &workers {
        ops::register(w, &d, 1, "").await.unwrap();
        ops::stake(w, &d, tokens("500")).await.unwrap();
    }
    ops::approve_if_needed(&client, d.token, d.job_manager, tokens("200"))
        .await
        .unwrap();
    // anvil's clock starts at the wall clock: a deadline 30 days out leaves every window room.
    let deadline = u32::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 30 * 86_400,
    )
    .unwrap();
    let post = |n: u8, k: u8| JobManager::postRedundantJobCall {
        specHash: B256::repeat_byte(1),
        specURI: "ipfs://spec".into(),
        requiredCapabilities: 1,
        reward: alloy::primitives::aliases::U96::from(100_000_000_000_000_000_000u128),
        deadline,
        redundancy: n,
        threshold: k,
    };
    let right = B256::repeat_byte(0x11);
    let wrong = B256::repeat_byte(0x22);
    // The seal, computed here as the contract documents it, and checked against the contract's own.
    let seal = |id: U256, c: B256, w: Address| {
        let salt = keccak256(w.as_slice());
        (keccak256((id, c, salt, w).abi_encode()), salt)
    };
    // Job 1: 2 of 3; the third replica reveals something else.
    client.call(d.job_manager, &post(3, 0)).await.unwrap();
    // Job 2: 2 of 2; the reveals differ.
    client.call(d.job_manager, &post(2, 2)).await.unwrap();
    let (j1, j2) = (U256::from(1), U256::from(2));
    let batch = JobManager::assignBatchCall {
        jobIds: vec![j1, j1, j1, j2, j2],
        workers: vec![
            workers[0].address(),
            workers[1].address(),
            workers[2].address(),
            workers[0].address(),
            workers[1].address(),
        ],
    };
    coordinator.call(d.job_manager, &batch).await.unwrap();
    let plan = [
        (j1, 0, right),
        (j1, 1, right),
        (j1, 2, wrong),
        (j2, 0, right),
        (j2, 1, wrong),
    ];
    for (id, w, c) in plan {
        let (sealed, _) = seal(id, c, workers[w].address());
        let reader = ProviderBuilder::new().connect_http(devnet.anvil.url.parse().unwrap());
        let jm = JobManager::new(d.job_manager, &reader);
        let on_chain = jm
            .sealResult(
                id,
                c,
                keccak256(workers[w].address().as_slice()),
                workers[w].address(),
            )
            .call()
            .await
            .unwrap();
        assert_eq!(on_chain, sealed, "the documented seal is the contract's");
        let commit = JobManager::commitResultCall {
            jobId: id,
            sealedResult: sealed,
        };
        workers[w].call(d.job_manager, &commit).await.unwrap();
    }
    // Indexed live from here; the reveals and the payment happen on a branch that is later orphaned.
    let mut run = start(&devnet, pool.clone(), config(), None).await;
    wait_indexed(&mut run.status, devnet.head().await).await;
    let snapshot = devnet.rpc("evm_snapshot", serde_json::json!([])).await;
    for (id, w, c) in plan {
        let (_, salt) = seal(id, c, workers[w].address());
        let reveal = JobManager::revealResultCall {
            jobId: id,
            daKind: 1,
            commitment: c,
            size: 64,
            salt,
            locator: format!("accord:sha256:{c:x}"),
        };
        workers[w].call(d.job_manager, &reveal).await.unwrap();
    }
    client
        .call(d.job_manager, &JobManager::acceptResultCall { jobId: j1 })
        .await
        .unwrap();

    let head = devnet.head().await;
    wait_indexed(&mut run.status, head).await;

    let jobs: Vec<(String, String, i32, i32, Option<String>)> = sqlx::query_as(
        "SELECT job_id::text, status, redundancy, threshold, consensus FROM jobs ORDER BY job_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        jobs,
        vec![
            ("1".into(), "paid".into(), 3, 2, Some(format!("{right:#x}"))),
            ("2".into(), "refunded".into(), 2, 2, None),
        ]
    );
    let replicas: Vec<(String, i32, String, String, bool, Option<String>)> = sqlx::query_as(
        "SELECT job_id::text, attempt, worker, outcome, slashed > 0, commitment FROM assignments \
         ORDER BY job_id, attempt",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let addr = |w: usize| format!("{:#x}", workers[w].address());
    let (r, x) = (Some(format!("{right:#x}")), Some(format!("{wrong:#x}")));
    assert_eq!(
        replicas,
        vec![
            ("1".into(), 1, addr(0), "paid".into(), false, r.clone()),
            ("1".into(), 2, addr(1), "paid".into(), false, r.clone()),
            ("1".into(), 3, addr(2), "dissented".into(), true, x.clone()),
            ("2".into(), 1, addr(0), "refunded".into(), false, r.clone()),
            ("2".into(), 2, addr(1), "refunded".into(), false, x.clone()),
        ]
    );
    let rewards: Vec<(String, String)> = sqlx::query_as(
        "SELECT recipient, amount::text FROM payments WHERE kind = 'reward' ORDER BY log_index",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let share = ((tokens("100") - tokens("2.5")) / U256::from(2)).to_string();
    assert_eq!(rewards, vec![(addr(0), share.clone()), (addr(1), share)]);
    let reveals: i64 = sqlx::query_scalar("SELECT count(*) FROM results")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(reveals, 5, "each reveal is a result row");
    stop_and_compare_with_fresh(run, &pool, &devnet, &cluster, "fresh", head).await;

    // The reveals, the consensus and the payment orphaned by a reorg: the index goes back to committed
    // replicas with no result, no consensus and no payment, equal to a fresh index of the canonical chain.
    let mut run = start(&devnet, pool.clone(), config(), None).await;
    assert_eq!(
        devnet
            .rpc("evm_revert", serde_json::json!([snapshot]))
            .await,
        serde_json::json!(true)
    );
    devnet.advance(1, 14).await;
    let head = devnet.head().await;
    wait_indexed(&mut run.status, head).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while count(&pool, "SELECT count(*) FROM results").await != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "orphaned reveals still indexed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let jobs: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status, consensus FROM jobs ORDER BY job_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        jobs,
        vec![("revealing".into(), None), ("revealing".into(), None)]
    );
    let outcomes: Vec<String> =
        sqlx::query_scalar("SELECT outcome FROM assignments ORDER BY job_id, attempt")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(outcomes.iter().all(|o| o == "committed"), "{outcomes:?}");
    assert_eq!(
        count(&pool, "SELECT count(*) FROM payments WHERE kind = 'reward'").await,
        0
    );
    stop_and_compare_with_fresh(run, &pool, &devnet, &cluster, "canonical", head).await;
}
