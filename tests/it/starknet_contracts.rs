//! The Cairo contracts on a real starknet-devnet, driven through the generated bindings with signed
//! transactions from the devnet's predeployed accounts.

use std::time::Duration;

use accord::chain::starknet::bindings::{jobs, registry, token};
use accord::chain::starknet::signer::{Signer, wait_for};
use cainome::cairo_serde::{ByteArray, ContractAddress, U256};
use starknet::accounts::{Account, ConnectedAccount, ExecutionV3};
use starknet::core::types::{Call, Felt, TransactionReceiptWithBlockInfo};

use crate::utils::StarknetNet;

const E18: u128 = 1_000_000_000_000_000_000;

fn u256(v: u128) -> U256 {
    U256 { low: v, high: 0 }
}

fn ca(a: Felt) -> ContractAddress {
    ContractAddress(a)
}

/// Sends `calls` from `from` and waits for the receipt; panics with the revert reason.
pub async fn send(from: &Signer, calls: Vec<Call>) -> TransactionReceiptWithBlockInfo {
    let sent = from
        .execute_v3(calls)
        .send()
        .await
        .expect("transaction accepted");
    wait_for(
        from.provider(),
        sent.transaction_hash,
        Duration::from_secs(60),
    )
    .await
    .expect("transaction succeeded")
}

/// Sends `calls` from `from` and returns the error: the node refuses a transaction that would revert when it
/// estimates its fee, quoting the contract's panic.
pub async fn refused(from: &Signer, calls: Vec<Call>) -> String {
    let execution: ExecutionV3<'_, Signer> = from.execute_v3(calls);
    match execution.send().await {
        Ok(sent) => wait_for(
            from.provider(),
            sent.transaction_hash,
            Duration::from_secs(60),
        )
        .await
        .map(|_| panic!("the transaction succeeded"))
        .unwrap_err()
        .to_string(),
        Err(e) => format!("{e:?}"),
    }
}

/// Hex of a short string as it appears in the node's revert messages.
pub fn short_hex(s: &str) -> String {
    format!("{:#x}", Felt::from_bytes_be_slice(s.as_bytes()))
}

/// Asserts `error` quotes the short-string panic `reason`.
#[track_caller]
pub fn assert_reason(error: &str, reason: &str) {
    assert!(
        error.contains(reason) || error.contains(&short_hex(reason)),
        "expected the refusal {reason:?}, got: {error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_posted_assigned_submitted_accepted_and_paid_on_starknet() {
    let net = StarknetNet::start().await;
    let (deployer, coordinator, worker, stranger) = (
        &net.signers[0],
        &net.signers[1],
        &net.signers[3],
        &net.signers[4],
    );
    let (token_at, registry_at, jobs_at, timelock_at) = (
        net.address("AccordToken"),
        net.address("WorkerRegistry"),
        net.address("JobManager"),
        net.address("TimelockController"),
    );
    let provider = deployer.provider();
    let reader = token::AccordTokenReader::new(token_at, provider);
    let balance = |who: Felt| {
        let reader = &reader;
        async move {
            let b = reader.balance_of(&ca(who)).call().await.unwrap();
            b.low + (b.high << 64 << 64)
        }
    };

    // The deployer keeps no role: the timelock administers both contracts.
    let jm_read = jobs::JobManagerReader::new(jobs_at, provider);
    assert!(
        !jm_read
            .has_role(&Felt::ZERO, &ca(deployer.address()))
            .call()
            .await
            .unwrap()
    );
    assert!(
        jm_read
            .has_role(&Felt::ZERO, &ca(timelock_at))
            .call()
            .await
            .unwrap()
    );
    let coordinator_role = Felt::from_bytes_be_slice(b"COORDINATOR_ROLE");
    assert!(
        jm_read
            .has_role(&coordinator_role, &ca(coordinator.address()))
            .call()
            .await
            .unwrap()
    );

    // The worker gets tokens, registers and stakes (approve + stake in one multicall).
    let tok = token::AccordToken::new(token_at, deployer);
    send(
        deployer,
        vec![tok.transfer_getcall(&ca(worker.address()), &u256(1000 * E18))],
    )
    .await;
    let reg = registry::WorkerRegistry::new(registry_at, worker);
    let tok_w = token::AccordToken::new(token_at, worker);
    send(
        worker,
        vec![
            reg.register_getcall(
                &1,
                &ByteArray::from_string("https://worker.example").unwrap(),
            ),
            tok_w.approve_getcall(&ca(registry_at), &u256(200 * E18)),
            reg.stake_getcall(&u256(200 * E18)),
        ],
    )
    .await;

    // A client (the deployer, holding the supply) posts a job with its reward in escrow.
    let jm = jobs::JobManager::new(jobs_at, deployer);
    let now = provider_time(deployer).await;
    send(
        deployer,
        vec![
            tok.approve_getcall(&ca(jobs_at), &u256(10 * E18)),
            jm.post_job_getcall(
                &u256(0xfeed),
                &ByteArray::from_string("ipfs://spec").unwrap(),
                &1,
                &u256(10 * E18),
                &(now + 7200),
                &2,
            ),
        ],
    )
    .await;
    assert_eq!(jm_read.job_count().call().await.unwrap(), 1);

    // Only the coordinator assigns; a batch skips what it cannot assign and says why.
    let err = refused(
        stranger,
        vec![jobs::JobManager::new(jobs_at, stranger).assign_getcall(&1, &ca(worker.address()))],
    )
    .await;
    assert_reason(&err, "AccessControl: missing role");
    let jm_c = jobs::JobManager::new(jobs_at, coordinator);
    send(
        coordinator,
        vec![jm_c.assign_batch_getcall(
            &vec![1, 2],
            &vec![ca(worker.address()), ca(worker.address())],
        )],
    )
    .await;
    let job = jm_read.job_of(&1).call().await.unwrap();
    assert_eq!(job.worker, ca(worker.address()));

    // Only the assigned worker submits; only the client accepts; the worker is paid less the protocol fee.
    let jm_w = jobs::JobManager::new(jobs_at, worker);
    let err = refused(
        stranger,
        vec![
            jobs::JobManager::new(jobs_at, stranger).submit_result_getcall(
                &1,
                &1,
                &u256(0xabc),
                &5,
                &ByteArray::from_string("local:x").unwrap(),
            ),
        ],
    )
    .await;
    assert_reason(&err, "NotAssignedWorker");
    send(
        worker,
        vec![jm_w.submit_result_getcall(
            &1,
            &1,
            &u256(0xabc),
            &5,
            &ByteArray::from_string("local:x").unwrap(),
        )],
    )
    .await;
    let before = balance(worker.address()).await;
    let err = refused(worker, vec![jm_w.accept_result_getcall(&1)]).await;
    assert_reason(&err, "NotClient");
    send(deployer, vec![jm.accept_result_getcall(&1)]).await;
    let paid = balance(worker.address()).await - before;
    assert_eq!(
        paid,
        10 * E18 - 10 * E18 * 250 / 10_000,
        "reward less the 2.5% fee"
    );

    // Conservation: the job manager holds exactly the accrued fees; the registry the stake.
    let params = jm_read.parameters().call().await.unwrap();
    assert_eq!(balance(jobs_at).await, params.accrued_fees.low);
    assert_eq!(balance(registry_at).await, 200 * E18);
}

/// The chain's clock: the latest block's timestamp.
async fn provider_time(account: &Signer) -> u64 {
    use starknet::core::types::{BlockId, BlockTag, MaybePreConfirmedBlockWithTxHashes};
    use starknet::providers::Provider;
    match account
        .provider()
        .get_block_with_tx_hashes(BlockId::Tag(BlockTag::Latest))
        .await
        .unwrap()
    {
        MaybePreConfirmedBlockWithTxHashes::Block(b) => b.timestamp,
        MaybePreConfirmedBlockWithTxHashes::PreConfirmedBlock(b) => b.timestamp,
    }
}
