//! Reorgs of a Starknet deployment: starknet-devnet aborts its newest blocks (`devnet_abortBlocks`), a real
//! coordinator (indexer + API, throwaway PostgreSQL) rolls back what they held and indexes the new branch, and
//! `accord rebuild` finds the index equal to a fresh re-index.
//!
//! What starknet-devnet 0.10.1 does on an abort: the aborted blocks and their transactions are removed (a lookup
//! of their number or hash answers "Block not found"), the state goes back to the block before them, and the next
//! blocks reuse their numbers. Its block hashes are not the network's: they commit to the block number and the
//! number of transactions only (not to the parent hash nor the transactions themselves), so a replacement block
//! with as many transactions as the aborted one at its height gets the aborted block's hash. A real network's
//! hashes differ there. The new branches below therefore start with empty blocks up to the aborted tip's height,
//! and each test checks that premise (the replacement's hash differs from the aborted one) before relying on it.

use std::time::Duration;

use accord::chain::starknet::bindings::{jobs, registry, token};
use accord::coordinator::Coordinator;
use accord::pg::TempCluster;
use cainome::cairo_serde::{ByteArray, ContractAddress};
use serde_json::{Value, json};
use starknet::accounts::Account;
use starknet::core::types::{Felt, TransactionReceiptWithBlockInfo};
use tokio_util::sync::CancellationToken;

use crate::stack::{eventually, get};
use crate::starknet_contracts::send;
use crate::starknet_index::{E18, starknet_config, u256};
use crate::utils::StarknetNet;

/// The block a receipt is in.
fn block_of(receipt: &TransactionReceiptWithBlockInfo) -> u64 {
    receipt.block.block_number()
}

/// The devnet's latest accepted block.
async fn head(net: &StarknetNet) -> u64 {
    let r = net
        .devnet
        .call("starknet_blockHashAndNumber", json!([]))
        .await
        .unwrap();
    r["block_number"].as_u64().unwrap()
}

/// The hash of the devnet's block `number`; `None` when it has none (an aborted block not replaced yet).
async fn canonical_hash(net: &StarknetNet, number: u64) -> Option<Felt> {
    let block = net
        .devnet
        .call(
            "starknet_getBlockWithTxHashes",
            json!([{"block_number": number}]),
        )
        .await
        .ok()?;
    Some(serde_json::from_value(block["block_hash"].clone()).unwrap())
}

/// The stored cursor of the deployment's chain: block number and hash.
async fn stored_cursor(running: &Coordinator, net: &StarknetNet) -> (u64, Felt) {
    let (number, hash): (i64, String) =
        sqlx::query_as("SELECT block_number, block_hash FROM indexer_cursor WHERE chain_id = $1")
            .bind(net.manifest.chain_id as i64)
            .fetch_one(&running.pool)
            .await
            .unwrap();
    (number as u64, Felt::from_hex(&hash).unwrap())
}

/// Waits until the indexer reports block `number` indexed (the coordinator's status channel).
async fn indexed(running: &Coordinator, number: u64) {
    let status = running.status.clone();
    eventually(
        Duration::from_secs(30),
        &format!("block {number} indexed"),
        || {
            let status = status.clone();
            async move { (status.borrow().indexed == number).then_some(()) }
        },
    )
    .await;
}

/// `(job_id, spec_uri, status)` of every job `/v1/jobs` serves, by id.
async fn jobs_served(api: &str) -> Vec<(String, String, String)> {
    let page = get(api, "/v1/jobs?limit=200").await;
    let mut jobs: Vec<(String, String, String)> = page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no job list: {page}"))
        .iter()
        .map(|j| {
            let s = |k: &str| j[k].as_str().unwrap_or_default().to_owned();
            (s("job_id"), s("spec_uri"), s("status"))
        })
        .collect();
    jobs.sort_by_key(|(id, _, _)| id.parse::<u64>().unwrap_or(u64::MAX));
    jobs
}

/// `(block_number, tx_hash, spec_uri)` of every `JobPosted` event `/v1/events` serves.
async fn posts_served(api: &str) -> Vec<(u64, Felt, String)> {
    let page = get(api, "/v1/events?event=JobPosted&limit=200").await;
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no event list: {page}"))
        .iter()
        .map(|e| {
            (
                e["block_number"].as_u64().unwrap(),
                Felt::from_hex(e["tx_hash"].as_str().unwrap()).unwrap(),
                e["args"]["spec_uri"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Posts a job with spec URI `spec` from account `from` (approve and post in one transaction, one block).
async fn post_job(net: &StarknetNet, from: usize, spec: &str) -> TransactionReceiptWithBlockInfo {
    let signer = &net.signers[from];
    let jobs_at = net.address("JobManager");
    let tok = token::AccordToken::new(net.address("AccordToken"), signer);
    let jm = jobs::JobManager::new(jobs_at, signer);
    send(
        signer,
        vec![
            tok.approve_getcall(&ContractAddress(jobs_at), &u256(5 * E18)),
            jm.post_job_getcall(
                &u256(0x5eed),
                &ByteArray::from_string(spec).unwrap(),
                &1,
                &u256(5 * E18),
                &4_000_000_000,
                &1,
            ),
        ],
    )
    .await
}

/// Funds account `worker` from account 0 and registers and stakes it (capability 1), in one block.
async fn register_worker(net: &StarknetNet, worker: usize) -> TransactionReceiptWithBlockInfo {
    let (token_at, registry_at) = (net.address("AccordToken"), net.address("WorkerRegistry"));
    send(
        &net.signers[0],
        vec![
            token::AccordToken::new(token_at, &net.signers[0]).transfer_getcall(
                &ContractAddress(net.signers[worker].address()),
                &u256(500 * E18),
            ),
        ],
    )
    .await;
    let signer = &net.signers[worker];
    let reg = registry::WorkerRegistry::new(registry_at, signer);
    send(
        signer,
        vec![
            reg.register_getcall(&1, &ByteArray::from_string("https://w.example").unwrap()),
            token::AccordToken::new(token_at, signer)
                .approve_getcall(&ContractAddress(registry_at), &u256(150 * E18)),
            reg.stake_getcall(&u256(150 * E18)),
        ],
    )
    .await
}

/// Aborts every block from `from` up to the tip, then mines empty blocks up to the aborted tip's height (see the
/// module docs: on starknet-devnet this is what makes the new branch's hashes differ from the aborted ones).
/// Checks that the aborted blocks are gone and that the new tip's hash is not the aborted tip's.
async fn abort_and_refill(net: &StarknetNet, from: u64) {
    let tip = head(net).await;
    let tip_hash = canonical_hash(net, tip).await.unwrap();
    let aborted = net.devnet.abort_blocks(from).await.unwrap();
    assert_eq!(aborted.len() as u64, tip - from + 1, "{aborted:?}");
    assert!(aborted.contains(&tip_hash), "{aborted:?}");
    assert_eq!(
        head(net).await,
        from - 1,
        "the chain continues from {from} - 1"
    );
    assert_eq!(
        canonical_hash(net, tip).await,
        None,
        "an aborted block is gone"
    );
    for _ in from..=tip {
        net.devnet.create_block().await.unwrap();
    }
    assert_eq!(head(net).await, tip);
    assert_ne!(
        canonical_hash(net, tip).await.unwrap(),
        tip_hash,
        "the new branch's block at the old tip's height has a hash of its own"
    );
}

/// The live index equals a fresh re-index of the chain at the same block, table by table.
async fn assert_rebuild_equal(config: &accord::config::Config) {
    let report = accord::rebuild::rebuild(config, None, false, CancellationToken::new())
        .await
        .unwrap();
    assert!(!report.tables.is_empty());
    assert!(report.equal(), "index differs from a re-index: {report:?}");
}

/// Proves that aborting the newest Starknet block, which holds a job post, withdraws the job and its raw
/// `JobPosted` event from the API once the new branch reaches the aborted height; that the new branch's own job
/// (the same id, another spec) is indexed; that the stored cursor is the devnet's canonical block at its height;
/// and that a re-index into a fresh schema gives equal digests for every table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starknet_aborted_blocks_are_rolled_back_and_the_new_branch_indexed() {
    let net = StarknetNet::start().await;
    let cluster = TempCluster::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = starknet_config(&net, &cluster, dir.path()).await;
    let mut running = Coordinator::start(config.clone(), None).await.unwrap();
    running.wait_ready(Duration::from_secs(60)).await.unwrap();
    let api = format!("http://{}", running.api_addr);

    let kept = post_job(&net, 0, "ipfs://kept").await;
    let orphaned = post_job(&net, 0, "ipfs://orphaned").await;
    let tip = block_of(&orphaned);
    assert_eq!(tip, block_of(&kept) + 1);
    indexed(&running, tip).await;
    assert_eq!(
        jobs_served(&api).await,
        [
            ("1".into(), "ipfs://kept".into(), "open".into()),
            ("2".into(), "ipfs://orphaned".into(), "open".into())
        ]
    );
    assert_eq!(stored_cursor(&running, &net).await.0, tip);

    // The block holding job 2 is aborted; the new branch reaches its height, then posts another job 2.
    abort_and_refill(&net, tip).await;
    eventually(
        Duration::from_secs(30),
        "the orphaned job withdrawn",
        || async {
            let jobs = jobs_served(&api).await;
            (jobs.len() == 1).then_some(())
        },
    )
    .await;
    assert_eq!(
        jobs_served(&api).await,
        [("1".into(), "ipfs://kept".into(), "open".into())]
    );
    let posts = posts_served(&api).await;
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts
            .iter()
            .all(|(_, tx, spec)| *tx != *orphaned.receipt.transaction_hash()
                && spec != "ipfs://orphaned"),
        "the orphaned event is not served: {posts:?}"
    );

    let replacement = post_job(&net, 0, "ipfs://replacement").await;
    let new_tip = block_of(&replacement);
    assert_eq!(new_tip, tip + 1);
    indexed(&running, new_tip).await;
    assert_eq!(
        jobs_served(&api).await,
        [
            ("1".into(), "ipfs://kept".into(), "open".into()),
            ("2".into(), "ipfs://replacement".into(), "open".into())
        ]
    );
    let posts = posts_served(&api).await;
    let mut specs: Vec<&str> = posts.iter().map(|(_, _, s)| s.as_str()).collect();
    specs.sort();
    assert_eq!(specs, ["ipfs://kept", "ipfs://replacement"], "{posts:?}");
    assert!(
        posts
            .iter()
            .any(|(block, tx, _)| *block == new_tip
                && *tx == *replacement.receipt.transaction_hash())
    );

    let (number, hash) = stored_cursor(&running, &net).await;
    assert_eq!(number, new_tip);
    assert_eq!(Some(hash), canonical_hash(&net, new_tip).await);
    assert_rebuild_equal(&config).await;
    running.shutdown().await.unwrap();
}

/// Proves a reorg several blocks deep on Starknet: the aborted blocks held a worker's registration and stake, a
/// job post and its assignment; after the rollback the worker, the job and the assignment are gone from the API,
/// the new branch (another worker, another job) is indexed through a whole job life (posted, assigned,
/// submitted, paid), and a re-index gives equal digests for every table both right after the reorg and after the
/// job is paid. The stored cursor is the devnet's canonical block at its height each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starknet_deep_abort_across_a_job_life_rebuilds_equal() {
    let net = StarknetNet::start().await;
    let cluster = TempCluster::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = starknet_config(&net, &cluster, dir.path()).await;
    let mut running = Coordinator::start(config.clone(), None).await.unwrap();
    running.wait_ready(Duration::from_secs(60)).await.unwrap();
    let api = format!("http://{}", running.api_addr);
    let jobs_at = net.address("JobManager");
    let coordinator = &net.signers[1];
    let assign = |worker: usize| {
        let jm = jobs::JobManager::new(jobs_at, coordinator);
        send(
            coordinator,
            vec![jm.assign_batch_getcall(
                &vec![1],
                &vec![ContractAddress(net.signers[worker].address())],
            )],
        )
    };
    let worker_stake = |worker: usize| {
        let api = api.clone();
        let address = format!("{:#066x}", net.signers[worker].address());
        async move {
            let w: Value = get(&api, &format!("/v1/workers/{address}")).await;
            w["stake"].as_str().map(str::to_owned)
        }
    };

    // The branch to be aborted: worker 3 registers and stakes, job 1 is posted and assigned to it.
    let first = block_of(&register_worker(&net, 3).await) - 1; // the funding transfer's block
    post_job(&net, 0, "ipfs://orphaned").await;
    let tip = block_of(&assign(3).await);
    indexed(&running, tip).await;
    assert_eq!(worker_stake(3).await, Some((150 * E18).to_string()));
    let job = get(&api, "/v1/jobs/1").await;
    assert_eq!(job["status"], "assigned", "{job}");
    assert_eq!(
        job["worker"],
        format!("{:#066x}", net.signers[3].address()),
        "{job}"
    );

    abort_and_refill(&net, first).await;
    eventually(
        Duration::from_secs(30),
        "the aborted branch withdrawn",
        || async {
            (jobs_served(&api).await.is_empty() && worker_stake(3).await.is_none()).then_some(())
        },
    )
    .await;
    assert!(posts_served(&api).await.is_empty());
    let assigned = get(&api, "/v1/events?event=JobAssigned").await;
    assert_eq!(assigned["items"], json!([]), "{assigned}");
    indexed(&running, tip).await;
    let (number, hash) = stored_cursor(&running, &net).await;
    assert_eq!(number, tip);
    assert_eq!(Some(hash), canonical_hash(&net, tip).await);
    assert_rebuild_equal(&config).await;

    // The new branch: worker 4, a job posted, assigned, submitted and paid.
    register_worker(&net, 4).await;
    post_job(&net, 0, "ipfs://new-branch").await;
    assign(4).await;
    let worker = &net.signers[4];
    let jm_w = jobs::JobManager::new(jobs_at, worker);
    send(
        worker,
        vec![jm_w.submit_result_getcall(
            &1,
            &1,
            &u256(0xabc),
            &5,
            &ByteArray::from_string("local:r1").unwrap(),
        )],
    )
    .await;
    let jm = jobs::JobManager::new(jobs_at, &net.signers[0]);
    let paid = send(&net.signers[0], vec![jm.accept_result_getcall(&1)]).await;
    let end = block_of(&paid);
    indexed(&running, end).await;
    let job = get(&api, "/v1/jobs/1").await;
    assert_eq!(job["status"], "paid", "{job}");
    assert_eq!(job["spec_uri"], "ipfs://new-branch", "{job}");
    assert_eq!(
        job["worker"],
        format!("{:#066x}", worker.address()),
        "{job}"
    );
    assert_eq!(worker_stake(3).await, None, "the aborted worker stays gone");
    assert_eq!(worker_stake(4).await, Some((150 * E18).to_string()));
    let (number, hash) = stored_cursor(&running, &net).await;
    assert_eq!(number, end);
    assert_eq!(Some(hash), canonical_hash(&net, end).await);
    assert_rebuild_equal(&config).await;
    running.shutdown().await.unwrap();
}

/// Proves that a coordinator started again after the chain lost its indexed tip (starknet-devnet aborted it while
/// the coordinator was down, so no block has the cursor's number any more) does not give up: it follows the
/// shorter chain without failing, rolls back once the new branch reaches the cursor's height, indexes the new
/// branch's job, and a re-index gives equal digests for every table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starknet_restart_after_the_indexed_tip_was_aborted_resumes_on_the_new_branch() {
    let net = StarknetNet::start().await;
    let cluster = TempCluster::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = starknet_config(&net, &cluster, dir.path()).await;
    let mut running = Coordinator::start(config.clone(), None).await.unwrap();
    running.wait_ready(Duration::from_secs(60)).await.unwrap();
    post_job(&net, 0, "ipfs://kept").await;
    let tip = block_of(&post_job(&net, 0, "ipfs://orphaned").await);
    indexed(&running, tip).await;
    running.shutdown().await.unwrap();

    // While it is down, the tip is aborted: the chain is one block shorter than the index.
    let aborted = net.devnet.abort_blocks(tip).await.unwrap();
    assert_eq!(aborted.len(), 1);
    assert_eq!(head(&net).await, tip - 1);
    let running = Coordinator::start(config.clone(), None).await.unwrap();
    let status = running.status.clone();
    let following = eventually(
        Duration::from_secs(30),
        "the indexer following the shorter chain",
        || {
            let status = status.clone();
            async move {
                let s = status.borrow().clone();
                (s.halted.is_some() || s.head == tip - 1).then_some(s)
            }
        },
    )
    .await;
    assert_eq!(following.halted, None, "{following:?}");
    assert_eq!(following.head, tip - 1, "{following:?}");

    // The new branch reaches the old tip's height with a block of its own, then posts another job 2.
    net.devnet.create_block().await.unwrap();
    assert_ne!(canonical_hash(&net, tip).await, Some(aborted[0]));
    let replacement = block_of(&post_job(&net, 0, "ipfs://replacement").await);
    indexed(&running, replacement).await;
    let api = format!("http://{}", running.api_addr);
    assert_eq!(
        jobs_served(&api).await,
        [
            ("1".into(), "ipfs://kept".into(), "open".into()),
            ("2".into(), "ipfs://replacement".into(), "open".into())
        ]
    );
    let (number, hash) = stored_cursor(&running, &net).await;
    assert_eq!(number, replacement);
    assert_eq!(Some(hash), canonical_hash(&net, replacement).await);
    assert_rebuild_equal(&config).await;
    assert_eq!(running.status.borrow().halted, None);
    running.shutdown().await.unwrap();
}
