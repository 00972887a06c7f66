//! The Cairo contracts on a real starknet-devnet, driven through the generated bindings with signed
//! transactions from the devnet's predeployed accounts: every entry point of the five contracts and every
//! refusal it can raise (asserted by its panic string), a whole governance round through the timelock, each known
//! attack against the defense that stops it, and random sequences of actions checked against token conservation
//! after every step, as the Solidity suite (`contracts/test/`) does for the EVM twins.
//!
//! Accounts: 0 deployed the protocol and holds the supply, 1 is the coordinator, 2 the arbiter, 3.. are free.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accord::chain::starknet::bindings::{governor, jobs, registry, timelock, token};
use accord::chain::starknet::signer::{Rpc, Signer, wait_for};
use cainome::cairo_serde::{ByteArray, CairoSerde, ContractAddress, U256};
use futures::future::join_all;
use starknet::accounts::{Account, ConnectedAccount, ExecutionV3};
use starknet::core::types::{Call, Felt, TransactionReceiptWithBlockInfo};

use crate::utils::StarknetNet;

const E18: u128 = 1_000_000_000_000_000_000;
/// The deployed supply (`deploy::Config::devnet`).
const SUPPLY: u128 = 1_000_000_000 * E18;
/// The largest reward or stake + pending (2^96 - 1).
const MAX_AMOUNT: u128 = (1 << 96) - 1;
/// Devnet parameters (`deploy::Config::devnet`).
const MIN_STAKE: u128 = 100 * E18;
const UNBONDING: u64 = 10 * 86_400;
const FEE_BPS: u128 = 250;
const SHARE_BPS: u128 = 1000;
const TIMEOUT: u64 = 3600;
const CHALLENGE: u64 = 3600;
const DISPUTE: u64 = 86_400;
const WINDOW: u64 = 600;
const MULTIPLE_BPS: u128 = 20_000;
const COMPENSATION_BPS: u128 = 500;
const DECLINE_BPS: u128 = 100;
const BOND_BPS: u128 = 1000;
const CONSENSUS_BPS: u128 = 5001;
const REVEAL: u64 = 600;
const MISSING_ROLE: &str = "AccessControl: missing role";

fn u256(v: u128) -> U256 {
    U256 { low: v, high: 0 }
}

/// A u256 that fits 128 bits (every amount here does).
fn amt(v: &U256) -> u128 {
    assert_eq!(v.high, 0, "amount above 2^128");
    v.low
}

fn ca(a: Felt) -> ContractAddress {
    ContractAddress(a)
}

fn text(s: &str) -> ByteArray {
    ByteArray::from_string(s).unwrap()
}

/// A Cairo short string as a felt.
fn short(s: &str) -> Felt {
    Felt::from_bytes_be_slice(s.as_bytes())
}

/// A felt read back as a short string.
fn unshort(f: Felt) -> String {
    starknet::core::utils::parse_cairo_short_string(&f).unwrap_or_else(|_| format!("{f:#x}"))
}

fn bps(amount: u128, bps: u128) -> u128 {
    amount * bps / 10_000
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
/// estimates its fee, quoting the contract's panic. A transaction that goes through (a defense gone) is reported as
/// such, for the caller's assertion to name the refusal it expected.
pub async fn refused(from: &Signer, calls: Vec<Call>) -> String {
    let execution: ExecutionV3<'_, Signer> = from.execute_v3(calls);
    match execution.send().await {
        Ok(sent) => match wait_for(
            from.provider(),
            sent.transaction_hash,
            Duration::from_secs(60),
        )
        .await
        {
            Ok(_) => "the transaction succeeded".to_owned(),
            Err(e) => e.to_string(),
        },
        Err(e) => format!("{e:?}"),
    }
}

/// Asserts `seen`, a time the contract read from its clock (stored or emitted), is that of the transaction whose
/// block has timestamp `block`: starknet-devnet runs a transaction at the pending block's time, which the block's
/// own timestamp may pass by a second or two when it closes.
#[track_caller]
fn assert_at(seen: u64, block: u64) {
    assert!(
        seen <= block && seen + 2 >= block,
        "the contract saw {seen}, the block says {block}"
    );
}

/// The error of a view call that must fail.
fn view_refused<T: std::fmt::Debug>(result: Result<T, cainome::cairo_serde::Error>) -> String {
    format!("{:?}", result.expect_err("the view answered"))
}

/// Hex of a short string as it appears in the node's revert messages.
pub fn short_hex(s: &str) -> String {
    format!("{:#x}", short(s))
}

/// Asserts `error` quotes the short-string panic `reason`.
#[track_caller]
pub fn assert_reason(error: &str, reason: &str) {
    assert!(
        error.contains(reason) || error.contains(&short_hex(reason)),
        "expected the refusal {reason:?}, got: {error}"
    );
}

/// Asserts `calls` from `from` are refused with `reason`.
async fn assert_refused(from: &Signer, calls: Vec<Call>, reason: &str) {
    let error = refused(from, calls).await;
    assert_reason(&error, reason);
}

/// The deployed protocol on a fresh devnet, with typed handles on its contracts.
struct Proto {
    net: StarknetNet,
    token: Felt,
    registry: Felt,
    jobs: Felt,
    timelock: Felt,
    governor: Felt,
}

impl Proto {
    async fn start() -> Self {
        let net = StarknetNet::start().await;
        Self {
            token: net.address("AccordToken"),
            registry: net.address("WorkerRegistry"),
            jobs: net.address("JobManager"),
            timelock: net.address("TimelockController"),
            governor: net.address("AccordGovernor"),
            net,
        }
    }

    /// Predeployed account `i`.
    fn at(&self, i: usize) -> &Signer {
        &self.net.signers[i]
    }

    fn rpc(&self) -> &Arc<Rpc> {
        self.net.signers[0].provider()
    }

    fn tok<'a>(&self, s: &'a Signer) -> token::AccordToken<&'a Signer> {
        token::AccordToken::new(self.token, s)
    }

    fn reg<'a>(&self, s: &'a Signer) -> registry::WorkerRegistry<&'a Signer> {
        registry::WorkerRegistry::new(self.registry, s)
    }

    fn jm<'a>(&self, s: &'a Signer) -> jobs::JobManager<&'a Signer> {
        jobs::JobManager::new(self.jobs, s)
    }

    fn gov<'a>(&self, s: &'a Signer) -> governor::AccordGovernor<&'a Signer> {
        governor::AccordGovernor::new(self.governor, s)
    }

    fn tl<'a>(&self, s: &'a Signer) -> timelock::AccordTimelock<&'a Signer> {
        timelock::AccordTimelock::new(self.timelock, s)
    }

    fn token_view(&self) -> token::AccordTokenReader<&Arc<Rpc>> {
        token::AccordTokenReader::new(self.token, self.rpc())
    }

    fn registry_view(&self) -> registry::WorkerRegistryReader<&Arc<Rpc>> {
        registry::WorkerRegistryReader::new(self.registry, self.rpc())
    }

    fn jobs_view(&self) -> jobs::JobManagerReader<&Arc<Rpc>> {
        jobs::JobManagerReader::new(self.jobs, self.rpc())
    }

    fn gov_view(&self) -> governor::AccordGovernorReader<&Arc<Rpc>> {
        governor::AccordGovernorReader::new(self.governor, self.rpc())
    }

    fn tl_view(&self) -> timelock::AccordTimelockReader<&Arc<Rpc>> {
        timelock::AccordTimelockReader::new(self.timelock, self.rpc())
    }

    async fn balance(&self, who: Felt) -> u128 {
        amt(&self.token_view().balance_of(&ca(who)).call().await.unwrap())
    }

    async fn supply(&self) -> u128 {
        amt(&self.token_view().total_supply().call().await.unwrap())
    }

    /// The chain's clock: the latest block's timestamp.
    async fn now(&self) -> u64 {
        provider_time(self.at(0)).await
    }

    /// Moves the chain's clock forward by `secs` and mines a block.
    async fn jump(&self, secs: u64) {
        self.net.devnet.increase_time(secs).await.unwrap();
    }

    /// The timestamp of the block a receipt is in.
    async fn block_time(&self, receipt: &TransactionReceiptWithBlockInfo) -> u64 {
        use starknet::core::types::{BlockId, MaybePreConfirmedBlockWithTxHashes};
        use starknet::providers::Provider;
        let number = receipt.block.block_number();
        match self
            .rpc()
            .get_block_with_tx_hashes(BlockId::Number(number))
            .await
            .unwrap()
        {
            MaybePreConfirmedBlockWithTxHashes::Block(b) => b.timestamp,
            MaybePreConfirmedBlockWithTxHashes::PreConfirmedBlock(b) => b.timestamp,
        }
    }

    /// Sends `amount` tokens from the holder (account 0) to each of `to`.
    async fn fund(&self, to: &[Felt], amount: u128) {
        let holder = self.at(0);
        let calls = to
            .iter()
            .map(|a| self.tok(holder).transfer_getcall(&ca(*a), &u256(amount)))
            .collect();
        send(holder, calls).await;
    }

    /// Registers `w` with `caps` and stakes `stake` (it must hold the tokens).
    async fn enroll(&self, w: &Signer, caps: u16, stake: u128) {
        let mut calls = vec![
            self.reg(w)
                .register_getcall(&caps, &text("https://worker.example")),
        ];
        if stake > 0 {
            calls.push(
                self.tok(w)
                    .approve_getcall(&ca(self.registry), &u256(stake)),
            );
            calls.push(self.reg(w).stake_getcall(&u256(stake)));
        }
        send(w, calls).await;
    }

    /// The calls posting a job from `client`: approve the reward, then post.
    fn post_calls(
        &self,
        client: &Signer,
        reward: u128,
        deadline: u64,
        attempts: u8,
        caps: u16,
    ) -> Vec<Call> {
        vec![
            self.tok(client)
                .approve_getcall(&ca(self.jobs), &u256(reward)),
            self.jm(client).post_job_getcall(
                &u256(0x5bec),
                &text("ipfs://spec"),
                &caps,
                &u256(reward),
                &deadline,
                &attempts,
            ),
        ]
    }

    /// Posts a job from `client` and returns its id.
    async fn post(
        &self,
        client: &Signer,
        reward: u128,
        deadline: u64,
        attempts: u8,
        caps: u16,
    ) -> u64 {
        let receipt = send(
            client,
            self.post_calls(client, reward, deadline, attempts, caps),
        )
        .await;
        self.jm_events(&receipt)
            .into_iter()
            .find_map(|e| match e {
                jobs::Event::JobPosted(p) => Some(p.job_id),
                _ => None,
            })
            .expect("JobPosted")
    }

    /// Assigns `id` to `worker` (the coordinator).
    async fn assign(&self, id: u64, worker: Felt) -> TransactionReceiptWithBlockInfo {
        let c = self.at(1);
        send(c, vec![self.jm(c).assign_getcall(&id, &ca(worker))]).await
    }

    /// Submits a result for `id` from `worker`.
    async fn submit(&self, id: u64, worker: &Signer) -> TransactionReceiptWithBlockInfo {
        send(worker, vec![self.submit_call(id, worker, "local:result")]).await
    }

    fn submit_call(&self, id: u64, worker: &Signer, locator: &str) -> Call {
        self.jm(worker)
            .submit_result_getcall(&id, &1, &u256(0xc0ffee), &42, &text(locator))
    }

    /// Disputes `id` from `client`, approving the bond in the same multicall.
    async fn dispute(&self, id: u64, client: &Signer) -> TransactionReceiptWithBlockInfo {
        let reward = amt(&self.job(id).await.reward);
        let bond = bps(reward, BOND_BPS);
        send(
            client,
            vec![
                self.tok(client)
                    .approve_getcall(&ca(self.jobs), &u256(bond)),
                self.jm(client).dispute_result_getcall(&id),
            ],
        )
        .await
    }

    async fn job(&self, id: u64) -> jobs::Job {
        self.jobs_view().job_of(&id).call().await.unwrap()
    }

    async fn status(&self, id: u64) -> jobs::JobStatus {
        self.job(id).await.status
    }

    async fn worker_of(&self, w: Felt) -> registry::Worker {
        self.registry_view().worker_of(&ca(w)).call().await.unwrap()
    }

    async fn stake_of(&self, w: Felt) -> (u128, u128) {
        let r = self.worker_of(w).await;
        (amt(&r.stake), amt(&r.pending))
    }

    async fn accrued(&self) -> u128 {
        amt(&self
            .jobs_view()
            .parameters()
            .call()
            .await
            .unwrap()
            .accrued_fees)
    }

    /// The job manager's events in a receipt, decoded.
    fn jm_events(&self, receipt: &TransactionReceiptWithBlockInfo) -> Vec<jobs::Event> {
        receipt
            .receipt
            .events()
            .iter()
            .filter(|e| e.from_address == self.jobs)
            .map(|e| jobs::Event::try_from(e).expect("a JobManager event"))
            .collect()
    }

    /// The registry's events in a receipt, decoded.
    fn reg_events(&self, receipt: &TransactionReceiptWithBlockInfo) -> Vec<registry::Event> {
        receipt
            .receipt
            .events()
            .iter()
            .filter(|e| e.from_address == self.registry)
            .map(|e| registry::Event::try_from(e).expect("a WorkerRegistry event"))
            .collect()
    }

    /// The `AssignmentSkipped` entries of a receipt: (job, worker, reason).
    fn skipped(&self, receipt: &TransactionReceiptWithBlockInfo) -> Vec<(u64, Felt, String)> {
        self.jm_events(receipt)
            .into_iter()
            .filter_map(|e| match e {
                jobs::Event::AssignmentSkipped(s) => {
                    Some((s.job_id, s.worker.0, unshort(s.reason)))
                }
                _ => None,
            })
            .collect()
    }

    /// Balances of `accounts`, stakes of `workers` and every job: what a refused attack must leave unchanged.
    async fn fingerprint(
        &self,
        accounts: &[Felt],
        workers: &[Felt],
    ) -> (Vec<u128>, Vec<jobs::Job>) {
        let mut state = Vec::new();
        for a in accounts {
            state.push(self.balance(*a).await);
        }
        for w in workers {
            let (stake, pending) = self.stake_of(*w).await;
            state.extend([stake, pending]);
        }
        let count = self.jobs_view().job_count().call().await.unwrap();
        let mut jobs = Vec::new();
        for id in 1..=count {
            jobs.push(self.job(id).await);
        }
        (state, jobs)
    }

    /// Token conservation, as `contracts/test/invariant/` checks it: the job manager holds the escrow of live
    /// jobs, the dispute bonds of disputed ones and the accrued fees; the registry holds every stake and pending
    /// stake of `workers` (every account that ever staked); the supply never changes.
    async fn assert_conserved(&self, workers: &[Felt]) {
        let jm = self.jobs_view();
        let count = jm.job_count().call().await.unwrap();
        let (mut escrow, mut bonds) = (0u128, 0u128);
        for id in 1..=count {
            let job = jm.job_of(&id).call().await.unwrap();
            let bond = amt(&jm.dispute_bond_of(&id).call().await.unwrap());
            if live(&job.status) {
                escrow += amt(&job.reward);
            }
            if job.status == jobs::JobStatus::Disputed {
                bonds += bond;
            } else {
                assert_eq!(bond, 0, "job {id} holds a bond outside a dispute");
            }
        }
        let accrued = self.accrued().await;
        assert_eq!(
            self.balance(self.jobs).await,
            escrow + bonds + accrued,
            "job manager balance"
        );
        let mut staked = 0;
        for w in workers {
            let (stake, pending) = self.stake_of(*w).await;
            staked += stake + pending;
        }
        assert_eq!(
            self.balance(self.registry).await,
            staked,
            "registry balance"
        );
        assert_eq!(self.supply().await, SUPPLY, "total supply");
    }
}

/// Whether a job in `status` still holds its reward in escrow.
fn live(status: &jobs::JobStatus) -> bool {
    use jobs::JobStatus::*;
    matches!(
        status,
        Open | Assigned | Submitted | Disputed | Gathering | Committing | Revealing
    )
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

// ================================================================================================ happy path

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_posted_assigned_submitted_accepted_and_paid_on_starknet() {
    let p = Proto::start().await;
    let (deployer, coordinator, worker, stranger) = (p.at(0), p.at(1), p.at(3), p.at(4));
    let jm_read = p.jobs_view();

    // The deployer keeps no role: the timelock administers both contracts.
    assert!(
        !jm_read
            .has_role(&Felt::ZERO, &ca(deployer.address()))
            .call()
            .await
            .unwrap()
    );
    assert!(
        jm_read
            .has_role(&Felt::ZERO, &ca(p.timelock))
            .call()
            .await
            .unwrap()
    );
    let coordinator_role = short("COORDINATOR_ROLE");
    assert!(
        jm_read
            .has_role(&coordinator_role, &ca(coordinator.address()))
            .call()
            .await
            .unwrap()
    );

    // The worker gets tokens, registers and stakes (approve + stake in one multicall).
    p.fund(&[worker.address()], 1000 * E18).await;
    p.enroll(worker, 1, 200 * E18).await;

    // A client (the deployer, holding the supply) posts a job with its reward in escrow.
    let now = p.now().await;
    let id = p.post(deployer, 10 * E18, now + 7200, 2, 1).await;
    assert_eq!(jm_read.job_count().call().await.unwrap(), 1);

    // Only the coordinator assigns; a batch skips what it cannot assign and says why.
    let jm_s = p.jm(stranger);
    assert_refused(
        stranger,
        vec![jm_s.assign_getcall(&id, &ca(worker.address()))],
        MISSING_ROLE,
    )
    .await;
    let jm_c = p.jm(coordinator);
    let receipt = send(
        coordinator,
        vec![jm_c.assign_batch_getcall(
            &vec![id, 2],
            &vec![ca(worker.address()), ca(worker.address())],
        )],
    )
    .await;
    assert_eq!(
        p.skipped(&receipt),
        vec![(2, worker.address(), "UnknownJob".to_owned())]
    );
    assert_eq!(p.job(id).await.worker, ca(worker.address()));

    // Only the assigned worker submits; only the client accepts; the worker is paid less the protocol fee.
    assert_refused(
        stranger,
        vec![p.submit_call(id, stranger, "local:x")],
        "NotAssignedWorker",
    )
    .await;
    p.submit(id, worker).await;
    let before = p.balance(worker.address()).await;
    assert_refused(
        worker,
        vec![p.jm(worker).accept_result_getcall(&id)],
        "NotClient",
    )
    .await;
    send(deployer, vec![p.jm(deployer).accept_result_getcall(&id)]).await;
    let paid = p.balance(worker.address()).await - before;
    assert_eq!(
        paid,
        10 * E18 - bps(10 * E18, FEE_BPS),
        "reward less the 2.5% fee"
    );

    // Conservation: the job manager holds exactly the accrued fees; the registry the stake.
    assert_eq!(p.balance(p.jobs).await, p.accrued().await);
    assert_eq!(p.balance(p.registry).await, 200 * E18);
    p.assert_conserved(&[worker.address()]).await;
}

// ========================================================================================== redundant jobs

/// Redundant jobs on Starknet, as on the EVM contracts: a 2-of-3 job gathers three distinct replicas (the client
/// and a repeated worker are skipped as not independent), each commits a seal made by the adapter's `seal` (the
/// contract's poseidon, checked against its `seal_result` view), reveals once the commits close, and the last
/// reveal settles the consensus. The client accepts: the two agreeing replicas share the reward less the fee,
/// the dissenter is slashed to the treasury (no compensation to the client), and every token is accounted for.
/// Attacks: a reveal before the commits close, a replica revealing another's commitment and salt, an EIP-4844
/// kind (no blobs on Starknet), a malformed redundancy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redundant_jobs_reach_consensus_and_slash_the_dissenter_on_starknet() {
    use accord::chain::starknet::account::seal;
    use alloy::primitives::B256;
    let p = Proto::start().await;
    let (client, coordinator) = (p.at(0), p.at(1));
    let ws = [p.at(3), p.at(4), p.at(5)];
    let addrs: Vec<Felt> = ws.iter().map(|w| w.address()).collect();
    p.fund(&addrs, 1000 * E18).await;
    for w in ws {
        p.enroll(w, 1, 200 * E18).await;
    }
    let reward = 30 * E18;
    let deadline = p.now().await + 7200;
    let post = |n: u8, k: u8| {
        vec![
            p.tok(client).approve_getcall(&ca(p.jobs), &u256(reward)),
            p.jm(client).post_redundant_job_getcall(
                &u256(0x5bec),
                &text("ipfs://spec"),
                &1,
                &u256(reward),
                &deadline,
                &n,
                &k,
            ),
        ]
    };
    for (n, k) in [(1, 0), (8, 0), (3, 1), (3, 4)] {
        assert_refused(client, post(n, k), "InvalidRedundancy").await;
    }
    let receipt = send(client, post(3, 0)).await;
    let id = p
        .jm_events(&receipt)
        .into_iter()
        .find_map(|e| match e {
            jobs::Event::JobPosted(e) => Some(e.job_id),
            _ => None,
        })
        .expect("JobPosted");
    let (red, _) = p.jobs_view().redundancy_of(&id).call().await.unwrap();
    assert_eq!((red.redundancy, red.threshold), (3, 2), "a simple majority");
    assert_eq!(p.status(id).await, jobs::JobStatus::Gathering);

    let c = coordinator;
    let receipt = send(
        c,
        vec![p.jm(c).assign_batch_getcall(
            &vec![id, id, id, id],
            &vec![
                ca(client.address()),
                ca(addrs[0]),
                ca(addrs[0]),
                ca(addrs[1]),
            ],
        )],
    )
    .await;
    assert_eq!(
        p.skipped(&receipt),
        vec![
            (id, client.address(), "ReplicaNotIndependent".to_owned()),
            (id, addrs[0], "ReplicaNotIndependent".to_owned())
        ]
    );
    p.assign(id, addrs[2]).await;
    assert_eq!(p.status(id).await, jobs::JobStatus::Committing);

    let right = B256::repeat_byte(0x11);
    let wrong = B256::repeat_byte(0x22);
    let salt = |i: usize| B256::repeat_byte(0xa0 + i as u8);
    let results = [right, right, wrong];
    let big = |b: B256| {
        let n = alloy::primitives::U256::from_be_bytes(b.0);
        U256 {
            low: (n & alloy::primitives::U256::from(u128::MAX)).to::<u128>(),
            high: (n >> 128usize).to::<u128>(),
        }
    };
    for (i, w) in ws.iter().enumerate() {
        let sealed = seal(id, results[i], salt(i), w.address());
        let on_chain = p
            .jobs_view()
            .seal_result(&id, &big(results[i]), &big(salt(i)), &ca(w.address()))
            .call()
            .await
            .unwrap();
        assert_eq!(
            on_chain,
            big(sealed),
            "the adapter's seal is the contract's"
        );
        send(w, vec![p.jm(w).commit_result_getcall(&id, &big(sealed))]).await;
        if i == 1 {
            // Two of three committed: the commit phase is still open, reveals wait.
            assert_refused(
                ws[0],
                vec![p.jm(ws[0]).reveal_result_getcall(
                    &id,
                    &1,
                    &big(right),
                    &42,
                    &big(salt(0)),
                    &text("local:r"),
                )],
                "JobStatusMismatch",
            )
            .await;
        }
    }
    assert_eq!(p.status(id).await, jobs::JobStatus::Revealing);
    let reveal = |i: usize, kind: u8, commitment: B256, salt: B256| {
        p.jm(ws[i]).reveal_result_getcall(
            &id,
            &kind,
            &big(commitment),
            &42,
            &big(salt),
            &text("local:r"),
        )
    };
    // Replica 3 cannot open replica 1's seal: the worker is in the seal.
    assert_refused(ws[2], vec![reveal(2, 1, right, salt(0))], "RevealMismatch").await;
    assert_refused(ws[0], vec![reveal(0, 3, right, salt(0))], "UnknownDaKind").await;
    for i in 0..3 {
        send(ws[i], vec![reveal(i, 1, results[i], salt(i))]).await;
    }
    assert_eq!(p.status(id).await, jobs::JobStatus::Submitted);
    let (red, consensus) = p.jobs_view().redundancy_of(&id).call().await.unwrap();
    assert_eq!((red.agreeing, consensus), (2, big(right)));

    let before: Vec<u128> = join_all(addrs.iter().map(|a| p.balance(*a))).await;
    let client_before = p.balance(client.address()).await;
    let stake_before = p.stake_of(addrs[2]).await.0;
    let receipt = send(client, vec![p.jm(client).accept_result_getcall(&id)]).await;
    let fee = bps(reward, FEE_BPS);
    let share = (reward - fee) / 2;
    let after: Vec<u128> = join_all(addrs.iter().map(|a| p.balance(*a))).await;
    assert_eq!(
        (
            after[0] - before[0],
            after[1] - before[1],
            after[2] - before[2]
        ),
        (share, share, 0)
    );
    assert_eq!(
        p.balance(client.address()).await,
        client_before,
        "no compensation"
    );
    let faulted: Vec<(Felt, u8)> = p
        .jm_events(&receipt)
        .into_iter()
        .filter_map(|e| match e {
            jobs::Event::ReplicaFaulted(f) => Some((f.worker.0, f.fault)),
            _ => None,
        })
        .collect();
    assert_eq!(faulted, vec![(addrs[2], 3)], "the dissenter, fault 3");
    assert!(p.stake_of(addrs[2]).await.0 < stake_before);
    assert_eq!(p.status(id).await, jobs::JobStatus::Paid);
    p.assert_conserved(&addrs).await;
}

// ================================================================================================ token

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_transfers_allowances_delegation_and_vote_history() {
    let p = Proto::start().await;
    let (holder, alice, bob, carol) = (p.at(0), p.at(5), p.at(6), p.at(7));
    let (a, b, c) = (alice.address(), bob.address(), carol.address());
    let t = p.token_view();
    assert_eq!(
        t.name().call().await.unwrap().to_string().unwrap(),
        "Accord"
    );
    assert_eq!(
        t.symbol().call().await.unwrap().to_string().unwrap(),
        "ACRD"
    );
    assert_eq!(t.decimals().call().await.unwrap(), 18);
    assert_eq!(p.supply().await, SUPPLY);
    assert_eq!(p.balance(holder.address()).await, SUPPLY);

    // transfer: moves the amount and emits Transfer; refused beyond the balance and to the zero address.
    let receipt = send(
        holder,
        vec![p.tok(holder).transfer_getcall(&ca(a), &u256(1000 * E18))],
    )
    .await;
    let transfers: Vec<_> = receipt
        .receipt
        .events()
        .iter()
        .filter(|e| e.from_address == p.token)
        .collect();
    match token::Event::try_from(transfers[0]).unwrap() {
        token::Event::Transfer(e) => {
            assert_eq!(
                (e.from.0, e.to.0, amt(&e.value)),
                (holder.address(), a, 1000 * E18)
            );
        }
        other => panic!("expected Transfer, got {other:?}"),
    }
    assert_eq!(p.balance(a).await, 1000 * E18);
    let ta = p.tok(alice);
    assert_refused(
        alice,
        vec![ta.transfer_getcall(&ca(b), &u256(1000 * E18 + 1))],
        "ERC20: insufficient balance",
    )
    .await;
    assert_refused(
        alice,
        vec![ta.transfer_getcall(&ca(Felt::ZERO), &u256(1))],
        "ERC20: transfer to 0",
    )
    .await;

    // approve / allowance / transfer_from: the allowance shrinks by what is spent, unless it is unlimited.
    send(alice, vec![ta.approve_getcall(&ca(b), &u256(300 * E18))]).await;
    assert_eq!(
        amt(&t.allowance(&ca(a), &ca(b)).call().await.unwrap()),
        300 * E18
    );
    assert_refused(
        alice,
        vec![ta.approve_getcall(&ca(Felt::ZERO), &u256(1))],
        "ERC20: approve to 0",
    )
    .await;
    let tb = p.tok(bob);
    assert_refused(
        bob,
        vec![tb.transfer_from_getcall(&ca(a), &ca(c), &u256(301 * E18))],
        "ERC20: insufficient allowance",
    )
    .await;
    assert_refused(
        carol,
        vec![p.tok(carol).transfer_from_getcall(&ca(a), &ca(c), &u256(1))],
        "ERC20: insufficient allowance",
    )
    .await;
    send(
        bob,
        vec![tb.transfer_from_getcall(&ca(a), &ca(c), &u256(100 * E18))],
    )
    .await;
    assert_eq!(
        amt(&t.allowance(&ca(a), &ca(b)).call().await.unwrap()),
        200 * E18
    );
    assert_eq!(
        (p.balance(a).await, p.balance(c).await),
        (900 * E18, 100 * E18)
    );
    let unlimited = U256 {
        low: u128::MAX,
        high: u128::MAX,
    };
    send(alice, vec![ta.approve_getcall(&ca(b), &unlimited)]).await;
    assert_refused(
        bob,
        vec![tb.transfer_from_getcall(&ca(a), &ca(c), &u256(901 * E18))],
        "ERC20: insufficient balance",
    )
    .await;
    assert_refused(
        bob,
        vec![tb.transfer_from_getcall(&ca(a), &ca(Felt::ZERO), &u256(1))],
        "ERC20: transfer to 0",
    )
    .await;
    send(
        bob,
        vec![tb.transfer_from_getcall(&ca(a), &ca(c), &u256(100 * E18))],
    )
    .await;
    assert_eq!(
        t.allowance(&ca(a), &ca(b)).call().await.unwrap(),
        unlimited,
        "an unlimited allowance stays"
    );
    send(alice, vec![ta.approve_getcall(&ca(b), &u256(0))]).await;

    // Votes count only once delegated; each change is a checkpoint.
    assert_eq!(amt(&t.get_votes(&ca(a)).call().await.unwrap()), 0);
    assert_eq!(t.delegates(&ca(a)).call().await.unwrap(), ca(Felt::ZERO));
    assert_eq!(t.num_checkpoints(&ca(a)).call().await.unwrap(), 0);
    assert_reason(
        &view_refused(t.checkpoints(&ca(a), &0).call().await),
        "Votes: no checkpoint",
    );
    let receipt = send(alice, vec![ta.delegate_getcall(&ca(a))]).await;
    let delegated_in = p.block_time(&receipt).await;
    let events: Vec<token::Event> = receipt
        .receipt
        .events()
        .iter()
        .filter(|e| e.from_address == p.token)
        .map(|e| token::Event::try_from(e).unwrap())
        .collect();
    assert!(
        matches!(&events[0], token::Event::DelegateChanged(d) if d.delegator.0 == a && d.to_delegate.0 == a)
    );
    assert!(
        matches!(&events[1], token::Event::DelegateVotesChanged(d) if d.delegate.0 == a && amt(&d.new_votes) == 800 * E18)
    );
    assert_eq!(t.delegates(&ca(a)).call().await.unwrap(), ca(a));
    assert_eq!(amt(&t.get_votes(&ca(a)).call().await.unwrap()), 800 * E18);
    assert_eq!(t.num_checkpoints(&ca(a)).call().await.unwrap(), 1);
    let cp = t.checkpoints(&ca(a), &0).call().await.unwrap();
    assert_at(cp.key, delegated_in);
    assert_eq!(amt(&cp.value), 800 * E18);
    let t1 = cp.key;

    // A transfer out moves the delegate's votes; the history keeps the old value.
    p.jump(10).await;
    let receipt = send(alice, vec![ta.transfer_getcall(&ca(b), &u256(300 * E18))]).await;
    assert_eq!(amt(&t.get_votes(&ca(a)).call().await.unwrap()), 500 * E18);
    assert_eq!(t.num_checkpoints(&ca(a)).call().await.unwrap(), 2);
    let cp = t.checkpoints(&ca(a), &1).call().await.unwrap();
    assert_at(cp.key, p.block_time(&receipt).await);
    assert_eq!(amt(&cp.value), 500 * E18);
    let t2 = cp.key;
    assert!(t2 >= t1 + 10);
    assert_eq!(
        amt(&t.get_past_votes(&ca(a), &(t1 - 1)).call().await.unwrap()),
        0
    );
    assert_eq!(
        amt(&t.get_past_votes(&ca(a), &t1).call().await.unwrap()),
        800 * E18
    );
    assert_eq!(
        amt(&t.get_past_votes(&ca(a), &(t2 - 1)).call().await.unwrap()),
        800 * E18
    );
    assert_eq!(
        amt(&t.get_past_total_supply(&t1).call().await.unwrap()),
        SUPPLY
    );
    let clock = t.clock().call().await.unwrap();
    assert!(clock >= t2, "the clock is the block timestamp");
    assert_reason(
        &view_refused(t.get_past_votes(&ca(a), &(clock + 1000)).call().await),
        "Votes: future lookup",
    );
    assert_reason(
        &view_refused(t.get_past_total_supply(&(clock + 1000)).call().await),
        "Votes: future lookup",
    );
    // Bob never delegated: his balance carries no votes.
    assert_eq!(amt(&t.get_votes(&ca(b)).call().await.unwrap()), 0);

    // Delegating to another account moves the whole balance's weight.
    send(alice, vec![ta.delegate_getcall(&ca(c))]).await;
    assert_eq!(amt(&t.get_votes(&ca(a)).call().await.unwrap()), 0);
    assert_eq!(amt(&t.get_votes(&ca(c)).call().await.unwrap()), 500 * E18);

    // Staking moves weight into the registry, which delegates to nobody.
    p.enroll(alice, 1, 200 * E18).await;
    assert_eq!(amt(&t.get_votes(&ca(c)).call().await.unwrap()), 300 * E18);

    // Delegating to zero withdraws the votes.
    send(alice, vec![ta.delegate_getcall(&ca(Felt::ZERO))]).await;
    assert_eq!(amt(&t.get_votes(&ca(c)).call().await.unwrap()), 0);
    assert_eq!(p.supply().await, SUPPLY);

    // Constructors refuse bad arguments (the classes are declared; a deployment that would fail is refused at
    // estimation).
    use starknet::contract::{ContractFactory, UdcSelector};
    let deploy_refused = |name: &'static str, calldata: Vec<Felt>| async move {
        let class = accord::chain::starknet::classes::class(name)
            .unwrap()
            .class_hash;
        let factory = ContractFactory::new_with_udc(class, holder, UdcSelector::New);
        let err = factory
            .deploy_v3(calldata, Felt::from(0xbad_u64), true)
            .estimate_fee()
            .await;
        format!("{:?}", err.expect_err("the deployment succeeded"))
    };
    let addr = |x: Felt| ContractAddress::cairo_serialize(&ca(x));
    let amount = |x: U256| U256::cairo_serialize(&x);
    let err = deploy_refused(
        "AccordToken",
        [
            addr(a),
            amount(U256 {
                low: 0,
                high: 1 << 32,
            }),
        ]
        .concat(),
    )
    .await;
    assert_reason(&err, "SupplyTooLarge");
    let err = deploy_refused("AccordToken", [addr(Felt::ZERO), amount(u256(1))].concat()).await;
    assert_reason(&err, "ERC20: mint to 0");
    let registry_args = |tok: Felt, admin: Felt, min: u128| {
        [
            addr(tok),
            addr(admin),
            amount(u256(min)),
            amount(u256(UNBONDING as u128)),
        ]
        .concat()
    };
    assert_reason(
        &deploy_refused("WorkerRegistry", registry_args(Felt::ZERO, a, MIN_STAKE)).await,
        "ZeroAddress",
    );
    assert_reason(
        &deploy_refused(
            "WorkerRegistry",
            registry_args(p.token, Felt::ZERO, MIN_STAKE),
        )
        .await,
        "ZeroAddress",
    );
    assert_reason(
        &deploy_refused("WorkerRegistry", registry_args(p.token, a, E18 - 1)).await,
        "minStake too low",
    );
    let params = p.jobs_view().parameters().call().await.unwrap();
    let penalties = p.jobs_view().penalties().call().await.unwrap();
    let jobs_args = |admin: Felt, params: &jobs::Params| {
        [
            addr(p.token),
            addr(p.registry),
            addr(p.timelock),
            addr(admin),
            jobs::Params::cairo_serialize(params),
            jobs::Penalties::cairo_serialize(&penalties),
        ]
        .concat()
    };
    assert_reason(
        &deploy_refused("JobManager", jobs_args(Felt::ZERO, &params)).await,
        "ZeroAddress",
    );
    let mut bad = params.clone();
    bad.protocol_fee_bps = 2001;
    assert_reason(
        &deploy_refused("JobManager", jobs_args(a, &bad)).await,
        "protocolFeeBps too high",
    );
    let governor_args = |period: u64, quorum: u128| {
        [
            addr(p.token),
            addr(p.timelock),
            vec![Felt::ONE, Felt::from(period)],
            amount(u256(0)),
            amount(u256(quorum)),
        ]
        .concat()
    };
    assert_reason(
        &deploy_refused("AccordGovernor", governor_args(0, 4)).await,
        "Governor: invalid voting period",
    );
    assert_reason(
        &deploy_refused("AccordGovernor", governor_args(20, 101)).await,
        "Governor: invalid quorum",
    );
}

// ================================================================================================ registry

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_registers_stakes_unbonds_jails_and_refuses_what_it_must() {
    let p = Proto::start().await;
    let (holder, coordinator, arbiter) = (p.at(0), p.at(1), p.at(2));
    let (w, w2, stranger) = (p.at(3), p.at(4), p.at(5));
    let (wa, w2a, sa) = (w.address(), w2.address(), stranger.address());
    let r = p.registry_view();
    assert_eq!(r.token().call().await.unwrap(), ca(p.token));
    assert_eq!(r.job_manager().call().await.unwrap(), ca(p.jobs));
    assert_eq!(amt(&r.min_stake().call().await.unwrap()), MIN_STAKE);
    assert_eq!(r.unbonding_period().call().await.unwrap(), UNBONDING);
    p.fund(&[wa, w2a, sa], 10_000 * E18).await;

    // Nothing works before registering.
    let rs = p.reg(stranger);
    assert_refused(
        stranger,
        vec![rs.update_worker_getcall(&1, &text("x"))],
        "NotRegistered",
    )
    .await;
    assert_refused(stranger, vec![rs.stake_getcall(&u256(0))], "ZeroAmount").await;
    assert_refused(
        stranger,
        vec![rs.stake_getcall(&u256(E18))],
        "NotRegistered",
    )
    .await;
    assert_refused(
        stranger,
        vec![rs.request_unstake_getcall(&u256(0))],
        "ZeroAmount",
    )
    .await;
    assert_refused(
        stranger,
        vec![rs.request_unstake_getcall(&u256(1))],
        "NotRegistered",
    )
    .await;
    assert_refused(stranger, vec![rs.withdraw_getcall()], "NothingToWithdraw").await;
    assert_eq!(
        unshort(r.assignable(&ca(sa), &0).call().await.unwrap()),
        "NotRegistered"
    );

    // register: once, with a URI of at most 1024 bytes.
    let rw = p.reg(w);
    let long = "x".repeat(1025);
    assert_refused(w, vec![rw.register_getcall(&3, &text(&long))], "UriTooLong").await;
    let receipt = send(w, vec![rw.register_getcall(&3, &text(&"u".repeat(1024)))]).await;
    assert!(matches!(&p.reg_events(&receipt)[0],
        registry::Event::WorkerRegistered(e) if e.worker.0 == wa && e.capabilities == 3 && e.metadata_uri.to_bytes().len() == 1024));
    let rec = p.worker_of(wa).await;
    assert!(rec.registered && !rec.jailed && rec.capabilities == 3 && amt(&rec.stake) == 0);
    assert_refused(
        w,
        vec![rw.register_getcall(&3, &text("again"))],
        "AlreadyRegistered",
    )
    .await;
    assert_refused(
        w,
        vec![rw.update_worker_getcall(&7, &text(&long))],
        "UriTooLong",
    )
    .await;
    let receipt = send(
        w,
        vec![rw.update_worker_getcall(&7, &text("https://w.example/2"))],
    )
    .await;
    assert!(
        matches!(&p.reg_events(&receipt)[0], registry::Event::WorkerUpdated(e) if e.capabilities == 7)
    );
    assert_eq!(p.worker_of(wa).await.capabilities, 7);
    assert_eq!(
        unshort(r.assignable(&ca(wa), &0).call().await.unwrap()),
        "BelowMinStake"
    );

    // stake: nonzero, within 2^96 - 1 counting stake and pending, from an allowance.
    assert_refused(w, vec![rw.stake_getcall(&u256(0))], "ZeroAmount").await;
    assert_refused(
        w,
        vec![rw.stake_getcall(&u256(E18))],
        "ERC20: insufficient allowance",
    )
    .await;
    assert_refused(
        w,
        vec![rw.stake_getcall(&u256(MAX_AMOUNT + 1))],
        "AmountTooLarge",
    )
    .await;
    assert_refused(
        w,
        vec![rw.stake_getcall(&U256 {
            low: 0,
            high: u128::MAX,
        })],
        "AmountTooLarge",
    )
    .await;
    let tw = p.tok(w);
    let receipt = send(
        w,
        vec![
            tw.approve_getcall(&ca(p.registry), &u256(150 * E18)),
            rw.stake_getcall(&u256(150 * E18)),
        ],
    )
    .await;
    assert!(matches!(&p.reg_events(&receipt)[0],
        registry::Event::Staked(e) if amt(&e.amount) == 150 * E18 && amt(&e.stake) == 150 * E18));
    assert_eq!(p.stake_of(wa).await, (150 * E18, 0));
    assert_eq!(
        r.assignable(&ca(wa), &3).call().await.unwrap(),
        Felt::ZERO,
        "eligible"
    );
    assert_eq!(
        unshort(r.assignable(&ca(wa), &8).call().await.unwrap()),
        "MissingCapabilities"
    );
    assert_refused(
        w,
        vec![rw.stake_getcall(&u256(MAX_AMOUNT - 150 * E18 + 1))],
        "AmountTooLarge",
    )
    .await;

    // request_unstake: within the active stake; the unlock time restarts for all pending stake.
    assert_refused(w, vec![rw.request_unstake_getcall(&u256(0))], "ZeroAmount").await;
    assert_refused(
        w,
        vec![rw.request_unstake_getcall(&u256(150 * E18 + 1))],
        "UnstakeExceedsStake",
    )
    .await;
    let receipt = send(w, vec![rw.request_unstake_getcall(&u256(60 * E18))]).await;
    let t1 = p.worker_of(wa).await.unlock_at - UNBONDING;
    assert_at(t1, p.block_time(&receipt).await);
    assert!(
        matches!(&p.reg_events(&receipt)[0], registry::Event::UnstakeRequested(e)
        if amt(&e.stake) == 90 * E18 && amt(&e.pending) == 60 * E18 && e.unlock_at == t1 + UNBONDING)
    );
    let rec = p.worker_of(wa).await;
    assert_eq!(
        (amt(&rec.stake), amt(&rec.pending), rec.unlock_at),
        (90 * E18, 60 * E18, t1 + UNBONDING)
    );
    assert_eq!(
        amt(&r.slashable_of(&ca(wa)).call().await.unwrap()),
        150 * E18
    );
    assert_eq!(
        unshort(r.assignable(&ca(wa), &0).call().await.unwrap()),
        "BelowMinStake",
        "unbonding stake no longer counts"
    );
    assert_refused(
        w,
        vec![rw.request_unstake_getcall(&u256(90 * E18 + 1))],
        "UnstakeExceedsStake",
    )
    .await;
    // Pending stake counts toward the 2^96 - 1 room.
    assert_refused(
        w,
        vec![rw.stake_getcall(&u256(MAX_AMOUNT - 150 * E18 + 1))],
        "AmountTooLarge",
    )
    .await;

    // withdraw: only once the unlock time has come; a new request restarts it.
    assert_refused(w, vec![rw.withdraw_getcall()], "StillUnbonding").await;
    p.jump(4 * 86_400).await;
    let receipt = send(w, vec![rw.request_unstake_getcall(&u256(10 * E18))]).await;
    let t2 = p.worker_of(wa).await.unlock_at - UNBONDING;
    assert_at(t2, p.block_time(&receipt).await);
    assert!(t2 >= t1 + 4 * 86_400, "the unlock time restarted");
    p.jump(6 * 86_400 + 60).await;
    assert!(p.now().await > t1 + UNBONDING);
    assert_refused(w, vec![rw.withdraw_getcall()], "StillUnbonding").await;
    p.jump(4 * 86_400).await;
    let before = p.balance(wa).await;
    let receipt = send(w, vec![rw.withdraw_getcall()]).await;
    assert!(
        matches!(&p.reg_events(&receipt)[0], registry::Event::Withdrawn(e) if amt(&e.amount) == 70 * E18)
    );
    assert_eq!(p.balance(wa).await - before, 70 * E18);
    let rec = p.worker_of(wa).await;
    assert_eq!(
        (amt(&rec.stake), amt(&rec.pending), rec.unlock_at),
        (80 * E18, 0, 0)
    );
    assert_refused(w, vec![rw.withdraw_getcall()], "NothingToWithdraw").await;

    // jail / unjail: the job manager's arbiters only, registered workers only, no double jail or unjail.
    send(
        w,
        vec![
            tw.approve_getcall(&ca(p.registry), &u256(100 * E18)),
            rw.stake_getcall(&u256(100 * E18)),
        ],
    )
    .await;
    p.enroll(w2, 1, 100 * E18).await;
    for who in [stranger, coordinator, holder, w2] {
        assert_refused(
            who,
            vec![p.reg(who).jail_getcall(&ca(wa))],
            "NotJobManagerOrArbiter",
        )
        .await;
        assert_refused(
            who,
            vec![p.reg(who).unjail_getcall(&ca(wa))],
            "NotJobManagerOrArbiter",
        )
        .await;
    }
    let ra = p.reg(arbiter);
    assert_refused(arbiter, vec![ra.jail_getcall(&ca(sa))], "NotRegistered").await;
    assert_refused(arbiter, vec![ra.unjail_getcall(&ca(sa))], "NotRegistered").await;
    assert_refused(arbiter, vec![ra.unjail_getcall(&ca(wa))], "NotJailed").await;
    let receipt = send(arbiter, vec![ra.jail_getcall(&ca(wa))]).await;
    assert!(matches!(&p.reg_events(&receipt)[0],
        registry::Event::WorkerJailed(e) if e.worker.0 == wa && e.by.0 == arbiter.address()));
    assert!(p.worker_of(wa).await.jailed);
    assert_eq!(
        unshort(r.assignable(&ca(wa), &0).call().await.unwrap()),
        "JailedWorker"
    );
    assert_refused(arbiter, vec![ra.jail_getcall(&ca(wa))], "AlreadyJailed").await;
    // A jailed worker keeps its stake and may still unbond; updating its profile does not free it.
    send(
        w,
        vec![rw.update_worker_getcall(&3, &text("https://w.example/3"))],
    )
    .await;
    assert!(p.worker_of(wa).await.jailed);
    assert_refused(
        w,
        vec![rw.register_getcall(&3, &text("fresh start"))],
        "AlreadyRegistered",
    )
    .await;
    let receipt = send(arbiter, vec![ra.unjail_getcall(&ca(wa))]).await;
    assert!(
        matches!(&p.reg_events(&receipt)[0], registry::Event::WorkerUnjailed(e) if e.worker.0 == wa)
    );
    assert_eq!(r.assignable(&ca(wa), &3).call().await.unwrap(), Felt::ZERO);

    // slash: the job manager only, whoever else calls and whatever the recipient.
    for who in [stranger, arbiter, coordinator, w, w2, holder] {
        for recipient in [who.address(), p.jobs] {
            assert_refused(
                who,
                vec![
                    p.reg(who)
                        .slash_getcall(&ca(w2a), &u256(E18), &ca(recipient), &1),
                ],
                "NotJobManager",
            )
            .await;
        }
    }

    // Governance only: linking the job manager and both parameters.
    for who in [holder, stranger, arbiter] {
        let rr = p.reg(who);
        assert_refused(who, vec![rr.set_job_manager_getcall(&ca(sa))], MISSING_ROLE).await;
        assert_refused(
            who,
            vec![rr.set_min_stake_getcall(&u256(200 * E18))],
            MISSING_ROLE,
        )
        .await;
        assert_refused(
            who,
            vec![rr.set_unbonding_period_getcall(&u256(10 * 86_400))],
            MISSING_ROLE,
        )
        .await;
        assert_refused(
            who,
            vec![rr.grant_role_getcall(&Felt::ZERO, &ca(who.address()))],
            MISSING_ROLE,
        )
        .await;
        assert_refused(
            who,
            vec![rr.revoke_role_getcall(&Felt::ZERO, &ca(p.timelock))],
            MISSING_ROLE,
        )
        .await;
    }
    assert_refused(
        stranger,
        vec![rs.renounce_role_getcall(&Felt::ZERO, &ca(p.timelock))],
        "AccessControl: bad confirmation",
    )
    .await;
    assert!(
        r.has_role(&Felt::ZERO, &ca(p.timelock))
            .call()
            .await
            .unwrap()
    );
    assert!(
        !r.has_role(&Felt::ZERO, &ca(holder.address()))
            .call()
            .await
            .unwrap()
    );
    assert_eq!(
        r.get_role_admin(&short("ANY_ROLE")).call().await.unwrap(),
        Felt::ZERO
    );

    p.assert_conserved(&[wa, w2a, sa]).await;
    assert_eq!(p.balance(p.registry).await, 280 * E18);

    // A registry of its own, administered by the holder and linked to an account as its job manager: the checks
    // the deployed job manager always passes, and a direct slash.
    use starknet::contract::{ContractFactory, UdcSelector};
    let class = accord::chain::starknet::classes::class("WorkerRegistry")
        .unwrap()
        .class_hash;
    let factory = ContractFactory::new_with_udc(class, holder, UdcSelector::New);
    let args = [
        ContractAddress::cairo_serialize(&ca(p.token)),
        ContractAddress::cairo_serialize(&ca(holder.address())),
        U256::cairo_serialize(&u256(MIN_STAKE)),
        U256::cairo_serialize(&u256(UNBONDING as u128)),
    ]
    .concat();
    let deployment = factory.deploy_v3(args, Felt::from(0x5eed_u64), true);
    let own = deployment.deployed_address();
    let sent = deployment.send().await.unwrap();
    wait_for(
        holder.provider(),
        sent.transaction_hash,
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    fn own_registry(own: Felt, s: &Signer) -> registry::WorkerRegistry<&Signer> {
        registry::WorkerRegistry::new(own, s)
    }
    let reg = |s| own_registry(own, s);
    let own_view = registry::WorkerRegistryReader::new(own, p.rpc());
    let jm_account = stranger; // plays the job manager
    // Not linked yet: nobody jails or slashes.
    assert_refused(
        arbiter,
        vec![reg(arbiter).jail_getcall(&ca(w2a))],
        "NotJobManagerOrArbiter",
    )
    .await;
    assert_refused(
        holder,
        vec![reg(holder).slash_getcall(&ca(w2a), &u256(1), &ca(holder.address()), &1)],
        "NotJobManager",
    )
    .await;
    // The admin sets the parameters and links the job manager, once.
    let receipt = send(
        holder,
        vec![
            reg(holder).set_min_stake_getcall(&u256(2 * E18)),
            reg(holder).set_unbonding_period_getcall(&u256(UNBONDING as u128 + 1)),
        ],
    )
    .await;
    let updates: Vec<(String, u128, u128)> = receipt
        .receipt
        .events()
        .iter()
        .filter(|e| e.from_address == own)
        .filter_map(|e| match registry::Event::try_from(e) {
            Ok(registry::Event::ParameterUpdated(u)) => {
                Some((unshort(u.key), amt(&u.previous), amt(&u.current)))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        updates,
        vec![
            ("minStake".to_owned(), MIN_STAKE, 2 * E18),
            (
                "unbondingPeriod".to_owned(),
                UNBONDING as u128,
                UNBONDING as u128 + 1
            )
        ]
    );
    assert_refused(
        holder,
        vec![reg(holder).set_job_manager_getcall(&ca(Felt::ZERO))],
        "ZeroAddress",
    )
    .await;
    let receipt = send(
        holder,
        vec![reg(holder).set_job_manager_getcall(&ca(jm_account.address()))],
    )
    .await;
    assert!(receipt.receipt.events().iter().any(|e| e.from_address == own
        && matches!(registry::Event::try_from(e), Ok(registry::Event::JobManagerSet(j)) if j.job_manager.0 == sa)));
    assert_refused(
        holder,
        vec![reg(holder).set_job_manager_getcall(&ca(p.jobs))],
        "JobManagerAlreadySet",
    )
    .await;
    assert_eq!(own_view.job_manager().call().await.unwrap().0, sa);
    // The job manager jails and unjails; it slashes only to itself, active stake first, then unbonding stake, up to
    // what there is; nothing left, nothing happens.
    send(
        w2,
        vec![
            p.tok(w2).approve_getcall(&ca(own), &u256(10 * E18)),
            reg(w2).register_getcall(&1, &text("own")),
            reg(w2).stake_getcall(&u256(10 * E18)),
        ],
    )
    .await;
    let jmr = reg(jm_account);
    send(jm_account, vec![jmr.jail_getcall(&ca(w2a))]).await;
    assert!(own_view.worker_of(&ca(w2a)).call().await.unwrap().jailed);
    send(jm_account, vec![jmr.unjail_getcall(&ca(w2a))]).await;
    assert_refused(
        jm_account,
        vec![jmr.slash_getcall(&ca(w2a), &u256(E18), &ca(holder.address()), &1)],
        "SlashRecipientNotJobManager",
    )
    .await;
    assert_refused(
        jm_account,
        vec![jmr.slash_getcall(&ca(wa), &u256(E18), &ca(sa), &1)],
        "NotRegistered",
    )
    .await;
    let before = p.balance(sa).await;
    let receipt = send(
        jm_account,
        vec![jmr.slash_getcall(&ca(w2a), &u256(3 * E18), &ca(sa), &7)],
    )
    .await;
    assert!(receipt.receipt.events().iter().any(|e| e.from_address == own
        && matches!(registry::Event::try_from(e), Ok(registry::Event::WorkerSlashed(x))
            if x.job_id == 7 && amt(&x.amount) == 3 * E18 && amt(&x.from_stake) == 3 * E18 && amt(&x.from_pending) == 0)));
    send(w2, vec![reg(w2).request_unstake_getcall(&u256(5 * E18))]).await;
    let receipt = send(
        jm_account,
        vec![jmr.slash_getcall(&ca(w2a), &u256(100 * E18), &ca(sa), &8)],
    )
    .await;
    assert!(receipt.receipt.events().iter().any(|e| e.from_address == own
        && matches!(registry::Event::try_from(e), Ok(registry::Event::WorkerSlashed(x))
            if amt(&x.amount) == 7 * E18 && amt(&x.from_stake) == 2 * E18 && amt(&x.from_pending) == 5 * E18)));
    let receipt = send(
        jm_account,
        vec![jmr.slash_getcall(&ca(w2a), &u256(E18), &ca(sa), &9)],
    )
    .await;
    assert!(
        !receipt
            .receipt
            .events()
            .iter()
            .any(|e| e.from_address == own),
        "nothing to take: no event"
    );
    assert_eq!(p.balance(sa).await - before, 10 * E18);
    assert_eq!(p.balance(own).await, 0);
    assert_eq!(
        amt(&own_view.slashable_of(&ca(w2a)).call().await.unwrap()),
        0
    );
}

// ================================================================================================ job manager

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_posted_cancelled_and_assigned_with_every_skip_reason() {
    let p = Proto::start().await;
    let (holder, coordinator, arbiter) = (p.at(0), p.at(1), p.at(2));
    let (client, client2) = (p.at(5), p.at(6));
    // w: caps 0b11, staked; w2: caps 0b01, staked; jailed; below the minimum stake; never registered.
    let (w, w2, jailed, poor, nobody) = (p.at(3), p.at(4), p.at(7), p.at(8), p.at(9));
    let workers: Vec<Felt> = [w, w2, jailed, poor].iter().map(|s| s.address()).collect();
    p.fund(&[client.address(), client2.address()], 100_000 * E18)
        .await;
    p.fund(&workers, 1000 * E18).await;
    p.enroll(w, 3, 200 * E18).await;
    p.enroll(w2, 1, 200 * E18).await;
    p.enroll(jailed, 3, 200 * E18).await;
    p.enroll(poor, 3, MIN_STAKE - 1).await;
    send(
        arbiter,
        vec![p.reg(arbiter).jail_getcall(&ca(jailed.address()))],
    )
    .await;
    let jv = p.jobs_view();
    assert_eq!(jv.token().call().await.unwrap(), ca(p.token));
    assert_eq!(jv.registry().call().await.unwrap(), ca(p.registry));
    assert_eq!(jv.treasury().call().await.unwrap(), ca(p.timelock));

    // post_job refusals, each changing nothing.
    let now = p.now().await;
    let jc = p.jm(client);
    let post = |reward: U256, deadline: u64, attempts: u8, uri: &str| {
        jc.post_job_getcall(&u256(1), &text(uri), &0, &reward, &deadline, &attempts)
    };
    let approve = p
        .tok(client)
        .approve_getcall(&ca(p.jobs), &u256(MAX_AMOUNT));
    let cases = [
        (post(u256(0), now + 3600, 1, "u"), "ZeroReward"),
        (
            post(u256(MAX_AMOUNT + 1), now + 3600, 1, "u"),
            "AmountTooLarge",
        ),
        (
            post(u256(E18), now.saturating_sub(10), 1, "u"),
            "DeadlineNotInFuture",
        ),
        (post(u256(E18), 0, 1, "u"), "DeadlineNotInFuture"),
        (post(u256(E18), now + 3600, 0, "u"), "InvalidMaxAttempts"),
        (post(u256(E18), now + 3600, 17, "u"), "InvalidMaxAttempts"),
        (
            post(u256(E18), now + 3600, 1, &"s".repeat(1025)),
            "UriTooLong",
        ),
    ];
    for (call, reason) in cases {
        assert_refused(client, vec![approve.clone(), call], reason).await;
    }
    assert_refused(
        client,
        vec![post(u256(E18), now + 3600, 1, "u")],
        "ERC20: insufficient allowance",
    )
    .await;
    assert_eq!(jv.job_count().call().await.unwrap(), 0);

    // The boundary values are accepted: 16 attempts, a 1024-byte URI. Ids start at 1 and increase.
    let receipt = send(
        client,
        vec![
            p.tok(client).approve_getcall(&ca(p.jobs), &u256(10 * E18)),
            post(u256(10 * E18), now + 7200, 16, &"s".repeat(1024)),
        ],
    )
    .await;
    match &p.jm_events(&receipt)[0] {
        jobs::Event::JobPosted(e) => {
            assert_eq!(
                (e.job_id, e.client.0, amt(&e.reward), e.max_attempts),
                (1, client.address(), 10 * E18, 16)
            );
            assert_eq!(e.spec_uri.to_bytes().len(), 1024);
        }
        other => panic!("expected JobPosted, got {other:?}"),
    }
    let job = p.job(1).await;
    assert_eq!(
        (job.client.0, amt(&job.reward), job.worker.0),
        (client.address(), 10 * E18, Felt::ZERO)
    );
    assert_eq!(
        (job.deadline, job.due, job.status, job.attempts_left),
        (now + 7200, 0, jobs::JobStatus::Open, 16)
    );
    assert_eq!(p.balance(p.jobs).await, 10 * E18, "the reward is in escrow");

    // cancel_job: the client of an open job only; the reward goes back.
    assert_refused(client, vec![jc.cancel_job_getcall(&99)], "UnknownJob").await;
    assert_refused(
        client2,
        vec![p.jm(client2).cancel_job_getcall(&1)],
        "NotClient",
    )
    .await;
    let before = p.balance(client.address()).await;
    let receipt = send(client, vec![jc.cancel_job_getcall(&1)]).await;
    assert!(
        matches!(&p.jm_events(&receipt)[0], jobs::Event::JobCancelled(e) if amt(&e.refund) == 10 * E18)
    );
    assert_eq!(p.balance(client.address()).await - before, 10 * E18);
    assert_eq!(p.status(1).await, jobs::JobStatus::Cancelled);
    assert_refused(client, vec![jc.cancel_job_getcall(&1)], "JobStatusMismatch").await;

    // Jobs for the assignment cases.
    let now = p.now().await;
    let open = p.post(client, 10 * E18, now + 7200, 2, 3).await; // 2
    let soon = p.post(client, 10 * E18, now + 300, 1, 0).await; // 3: inside the minimum submit window
    let lapsing = p.post(client, 10 * E18, now + 30, 1, 0).await; // 4: deadline passes below
    let capped = p.post(client2, 10 * E18, now + 1000, 1, 0).await; // 5: due capped at its deadline
    let any = p.post(client2, 10 * E18, now + 7200, 1, 0).await; // 6: no capability needed

    // Only the coordinator assigns.
    for who in [holder, arbiter, client, w] {
        let j = p.jm(who);
        assert_refused(
            who,
            vec![j.assign_getcall(&open, &ca(w.address()))],
            MISSING_ROLE,
        )
        .await;
        assert_refused(
            who,
            vec![j.assign_batch_getcall(&vec![open], &vec![ca(w.address())])],
            MISSING_ROLE,
        )
        .await;
    }
    // assign panics with the reason a batch would skip with.
    let jcoord = p.jm(coordinator);
    let assign = |id: u64, worker: &Signer| jcoord.assign_getcall(&id, &ca(worker.address()));
    assert_refused(coordinator, vec![assign(99, w)], "UnknownJob").await;
    assert_refused(coordinator, vec![assign(1, w)], "JobStatusMismatch").await;
    assert_refused(coordinator, vec![assign(soon, w)], "DeadlineTooSoon").await;
    assert_refused(coordinator, vec![assign(open, nobody)], "NotRegistered").await;
    assert_refused(coordinator, vec![assign(open, jailed)], "JailedWorker").await;
    assert_refused(coordinator, vec![assign(open, poor)], "BelowMinStake").await;
    assert_refused(coordinator, vec![assign(open, w2)], "MissingCapabilities").await;
    assert_refused(
        coordinator,
        vec![jcoord.assign_batch_getcall(&vec![open, soon], &vec![ca(w.address())])],
        "LengthMismatch",
    )
    .await;
    p.jump(60).await;
    assert_refused(coordinator, vec![assign(lapsing, w)], "JobDeadlinePassed").await;

    // A batch assigns what it can and skips the rest, naming each reason; an empty batch does nothing.
    let receipt = send(
        coordinator,
        vec![jcoord.assign_batch_getcall(&vec![], &vec![])],
    )
    .await;
    assert!(p.jm_events(&receipt).is_empty());
    let entries: Vec<(u64, &Signer)> = vec![
        (99, w),
        (1, w),
        (lapsing, w),
        (soon, w),
        (open, nobody),
        (open, jailed),
        (open, poor),
        (open, w2),
        (open, w),
        (open, w2), // already assigned by the entry before
        (capped, w2),
        (any, w2),
    ];
    let ids = entries.iter().map(|(id, _)| *id).collect();
    let who = entries.iter().map(|(_, s)| ca(s.address())).collect();
    let receipt = send(coordinator, vec![jcoord.assign_batch_getcall(&ids, &who)]).await;
    let at = p.job(open).await.due - TIMEOUT;
    assert_at(at, p.block_time(&receipt).await);
    let expected: Vec<(u64, Felt, String)> = [
        (99, w, "UnknownJob"),
        (1, w, "JobStatusMismatch"),
        (lapsing, w, "JobDeadlinePassed"),
        (soon, w, "DeadlineTooSoon"),
        (open, nobody, "NotRegistered"),
        (open, jailed, "JailedWorker"),
        (open, poor, "BelowMinStake"),
        (open, w2, "MissingCapabilities"),
        (open, w2, "JobStatusMismatch"),
    ]
    .into_iter()
    .map(|(id, s, r)| (id, s.address(), r.to_owned()))
    .collect();
    assert_eq!(p.skipped(&receipt), expected);
    let assigned: Vec<(u64, Felt, u64, u8)> = p
        .jm_events(&receipt)
        .into_iter()
        .filter_map(|e| match e {
            jobs::Event::JobAssigned(a) => Some((a.job_id, a.worker.0, a.due, a.attempts_left)),
            _ => None,
        })
        .collect();
    assert_eq!(
        assigned,
        vec![
            (open, w.address(), at + TIMEOUT, 1),
            (capped, w2.address(), now + 1000, 0), // due capped at the deadline
            (any, w2.address(), at + TIMEOUT, 0),
        ]
    );
    let job = p.job(open).await;
    assert_eq!(
        (job.status, job.worker.0, job.due, job.attempts_left),
        (jobs::JobStatus::Assigned, w.address(), at + TIMEOUT, 1)
    );

    // An assigned job cannot be assigned again, nor cancelled.
    assert_refused(coordinator, vec![assign(open, w2)], "JobStatusMismatch").await;
    assert_refused(
        client,
        vec![jc.cancel_job_getcall(&open)],
        "JobStatusMismatch",
    )
    .await;
    // The open job past its deadline is still cancellable by its client.
    send(client, vec![jc.cancel_job_getcall(&lapsing)]).await;
    assert_eq!(p.status(lapsing).await, jobs::JobStatus::Cancelled);
    p.assert_conserved(&workers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_accepted_disputed_resolved_declined_finalized_and_fees_swept() {
    let p = Proto::start().await;
    let (holder, coordinator, arbiter) = (p.at(0), p.at(1), p.at(2));
    let (client, client2, stranger) = (p.at(5), p.at(6), p.at(8));
    let (w, w2, w3, w4) = (p.at(3), p.at(4), p.at(7), p.at(9));
    let (wa, w2a, w3a, w4a) = (w.address(), w2.address(), w3.address(), w4.address());
    let workers = [wa, w2a, w3a, w4a];
    p.fund(&[client.address(), client2.address()], 100_000 * E18)
        .await;
    p.fund(&workers, 1000 * E18).await;
    p.enroll(w, 0, 500 * E18).await;
    p.enroll(w2, 0, 500 * E18).await;
    p.enroll(w3, 0, 100 * E18).await;
    p.enroll(w4, 0, 100 * E18).await;
    let (jc, jw, jw2, ja) = (p.jm(client), p.jm(w), p.jm(w2), p.jm(arbiter));
    let far = p.now().await + 3 * 86_400;
    let reward = 100 * E18;
    let paid = reward - bps(reward, FEE_BPS);

    // ---- submit and accept
    let j1 = p.post(client, reward, far, 2, 0).await;
    assert_refused(w, vec![p.submit_call(j1, w, "l")], "JobStatusMismatch").await;
    assert_refused(w, vec![p.submit_call(99, w, "l")], "UnknownJob").await;
    assert_refused(
        client,
        vec![jc.accept_result_getcall(&j1)],
        "JobStatusMismatch",
    )
    .await;
    assert_refused(client, vec![jc.accept_result_getcall(&99)], "UnknownJob").await;
    p.assign(j1, wa).await;
    assert_refused(w2, vec![p.submit_call(j1, w2, "l")], "NotAssignedWorker").await;
    assert_refused(
        w,
        vec![p.submit_call(j1, w, &"l".repeat(1025))],
        "UriTooLong",
    )
    .await;
    assert_refused(
        client,
        vec![jc.accept_result_getcall(&j1)],
        "JobStatusMismatch",
    )
    .await;
    let receipt = send(w, vec![p.submit_call(j1, w, &"l".repeat(1024))]).await;
    let at = p.job(j1).await.due - CHALLENGE;
    assert_at(at, p.block_time(&receipt).await);
    match &p.jm_events(&receipt)[0] {
        jobs::Event::ResultSubmitted(e) => {
            assert_eq!(
                (e.job_id, e.worker.0, e.da_kind, amt(&e.commitment), e.size),
                (j1, wa, 1, 0xc0ffee, 42)
            );
            assert_eq!(
                (e.challenge_ends_at, e.locator.to_bytes().len()),
                (at + CHALLENGE, 1024)
            );
        }
        other => panic!("expected ResultSubmitted, got {other:?}"),
    }
    let job = p.job(j1).await;
    assert_eq!(
        (job.status, job.due),
        (jobs::JobStatus::Submitted, at + CHALLENGE)
    );
    assert_refused(w, vec![p.submit_call(j1, w, "l")], "JobStatusMismatch").await;
    assert_refused(w, vec![jw.accept_result_getcall(&j1)], "NotClient").await;
    assert_refused(
        client2,
        vec![p.jm(client2).accept_result_getcall(&j1)],
        "NotClient",
    )
    .await;
    let before = p.balance(wa).await;
    let receipt = send(client, vec![jc.accept_result_getcall(&j1)]).await;
    assert!(matches!(&p.jm_events(&receipt)[0],
        jobs::Event::JobPaid(e) if e.worker.0 == wa && amt(&e.amount) == paid && amt(&e.fee) == reward - paid));
    assert_eq!(p.balance(wa).await - before, paid);
    assert_eq!(p.accrued().await, reward - paid);
    assert_refused(
        client,
        vec![jc.accept_result_getcall(&j1)],
        "JobStatusMismatch",
    )
    .await;
    assert_refused(
        stranger,
        vec![p.jm(stranger).finalize_getcall(&j1)],
        "JobStatusMismatch",
    )
    .await;
    assert_refused(
        stranger,
        vec![p.jm(stranger).expire_getcall(&j1)],
        "NotExpired",
    )
    .await;
    assert_refused(
        client,
        vec![jc.dispute_result_getcall(&j1)],
        "JobStatusMismatch",
    )
    .await;

    // ---- dispute, the worker was right: paid, and the bond goes to the worker
    let j2 = p.post(client, reward, far, 1, 0).await;
    assert_refused(
        client,
        vec![jc.dispute_result_getcall(&j2)],
        "JobStatusMismatch",
    )
    .await;
    assert_refused(client, vec![jc.dispute_result_getcall(&99)], "UnknownJob").await;
    p.assign(j2, w2a).await;
    p.submit(j2, w2).await;
    assert_refused(w2, vec![jw2.dispute_result_getcall(&j2)], "NotClient").await;
    assert_refused(
        client,
        vec![jc.dispute_result_getcall(&j2)],
        "ERC20: insufficient allowance",
    )
    .await;
    let receipt = p.dispute(j2, client).await;
    let at = p.job(j2).await.due - DISPUTE;
    assert_at(at, p.block_time(&receipt).await);
    assert!(matches!(&p.jm_events(&receipt)[0],
        jobs::Event::JobDisputed(e) if e.resolve_by == at + DISPUTE && amt(&e.bond) == 10 * E18));
    assert_eq!(
        amt(&p.jobs_view().dispute_bond_of(&j2).call().await.unwrap()),
        10 * E18
    );
    let job = p.job(j2).await;
    assert_eq!(
        (job.status, job.due),
        (jobs::JobStatus::Disputed, at + DISPUTE)
    );
    assert_refused(
        client,
        vec![jc.dispute_result_getcall(&j2)],
        "JobStatusMismatch",
    )
    .await;
    assert_refused(
        client,
        vec![jc.accept_result_getcall(&j2)],
        "JobStatusMismatch",
    )
    .await;
    assert_refused(
        stranger,
        vec![p.jm(stranger).finalize_getcall(&j2)],
        "JobStatusMismatch",
    )
    .await;
    assert_refused(
        stranger,
        vec![p.jm(stranger).expire_getcall(&j2)],
        "NotExpired",
    )
    .await;
    for who in [coordinator, client, w2, holder] {
        assert_refused(
            who,
            vec![p.jm(who).resolve_dispute_getcall(&j2, &false)],
            MISSING_ROLE,
        )
        .await;
    }
    assert_refused(
        arbiter,
        vec![ja.resolve_dispute_getcall(&99, &true)],
        "UnknownJob",
    )
    .await;
    assert_refused(
        arbiter,
        vec![ja.resolve_dispute_getcall(&j1, &true)],
        "JobStatusMismatch",
    )
    .await;
    let before = p.balance(w2a).await;
    let receipt = send(arbiter, vec![ja.resolve_dispute_getcall(&j2, &false)]).await;
    let events = p.jm_events(&receipt);
    assert!(
        matches!(&events[0], jobs::Event::DisputeResolved(e) if !e.worker_at_fault && e.arbiter.0 == arbiter.address())
    );
    assert!(matches!(&events[1], jobs::Event::JobPaid(e) if amt(&e.amount) == paid));
    assert!(
        matches!(&events[2], jobs::Event::DisputeBondReleased(e) if e.to.0 == w2a && amt(&e.amount) == 10 * E18)
    );
    assert_eq!(p.balance(w2a).await - before, paid + 10 * E18);
    assert_eq!(
        amt(&p.jobs_view().dispute_bond_of(&j2).call().await.unwrap()),
        0
    );
    assert_refused(
        arbiter,
        vec![ja.resolve_dispute_getcall(&j2, &false)],
        "JobStatusMismatch",
    )
    .await;

    // ---- dispute, the worker at fault: refund, bond back, a slash reaching unbonding stake, jail
    let j3 = p.post(client, reward, far, 1, 0).await;
    p.assign(j3, wa).await;
    p.submit(j3, w).await;
    send(w, vec![p.reg(w).request_unstake_getcall(&u256(480 * E18))]).await;
    p.dispute(j3, client).await;
    let (client_before, accrued_before) = (p.balance(client.address()).await, p.accrued().await);
    let receipt = send(arbiter, vec![ja.resolve_dispute_getcall(&j3, &true)]).await;
    // slash = min(500 x 10%, 100 x 200%) = 50: 20 from the stake, 30 from the unbonding stake; the client gets
    // at most 5% of the reward, the rest accrues.
    let events = p.jm_events(&receipt);
    assert!(matches!(&events[0], jobs::Event::DisputeResolved(e) if e.worker_at_fault));
    assert!(matches!(&events[1], jobs::Event::JobRefunded(e) if amt(&e.amount) == reward));
    assert!(
        matches!(&events[2], jobs::Event::DisputeBondReleased(e) if e.to.0 == client.address())
    );
    assert!(matches!(&events[3], jobs::Event::SlashDistributed(e)
        if amt(&e.slashed) == 50 * E18 && amt(&e.compensation) == 5 * E18 && amt(&e.fee) == 45 * E18));
    let reg_events = p.reg_events(&receipt);
    assert!(
        matches!(&reg_events[0], registry::Event::WorkerSlashed(e) if e.job_id == j3 && e.recipient.0 == p.jobs
        && amt(&e.from_stake) == 20 * E18 && amt(&e.from_pending) == 30 * E18)
    );
    assert!(
        matches!(&reg_events[1], registry::Event::WorkerJailed(e) if e.worker.0 == wa && e.by.0 == p.jobs)
    );
    assert_eq!(
        p.balance(client.address()).await - client_before,
        reward + 10 * E18 + 5 * E18
    );
    assert_eq!(p.accrued().await - accrued_before, 45 * E18);
    assert_eq!(p.stake_of(wa).await, (0, 450 * E18));
    assert!(p.worker_of(wa).await.jailed);
    assert_eq!(p.status(j3).await, jobs::JobStatus::Refunded);

    // ---- at fault while already jailed: the ruling does not fail on the jail
    let j4 = p.post(client, reward, far, 1, 0).await;
    p.assign(j4, w2a).await;
    p.submit(j4, w2).await;
    send(arbiter, vec![p.reg(arbiter).jail_getcall(&ca(w2a))]).await;
    p.dispute(j4, client).await;
    send(arbiter, vec![ja.resolve_dispute_getcall(&j4, &true)]).await;
    assert_eq!(p.status(j4).await, jobs::JobStatus::Refunded);
    assert_eq!(p.stake_of(w2a).await, (450 * E18, 0));
    send(arbiter, vec![p.reg(arbiter).unjail_getcall(&ca(w2a))]).await;

    // ---- decline: a fee to the treasury; the job reopens while attempts remain, else it is refunded
    let j5 = p.post(client, reward, far, 2, 0).await;
    p.assign(j5, w2a).await;
    assert_refused(
        w2,
        vec![jw2.decline_job_getcall(&j5, &0)],
        "InvalidDeclineReason",
    )
    .await;
    assert_refused(
        w2,
        vec![jw2.decline_job_getcall(&j5, &5)],
        "InvalidDeclineReason",
    )
    .await;
    assert_refused(
        w3,
        vec![p.jm(w3).decline_job_getcall(&j5, &1)],
        "NotAssignedWorker",
    )
    .await;
    assert_refused(
        w2,
        vec![jw2.decline_job_getcall(&j1, &1)],
        "JobStatusMismatch",
    )
    .await;
    assert_refused(w2, vec![jw2.decline_job_getcall(&99, &1)], "UnknownJob").await;
    let (client_before, accrued_before) = (p.balance(client.address()).await, p.accrued().await);
    let receipt = send(w2, vec![jw2.decline_job_getcall(&j5, &2)]).await;
    assert!(matches!(&p.jm_events(&receipt)[0],
        jobs::Event::JobDeclined(e) if e.reason == 2 && amt(&e.fee) == E18 && e.reopened));
    let job = p.job(j5).await;
    assert_eq!(
        (job.status, job.worker.0, job.due, job.attempts_left),
        (jobs::JobStatus::Open, Felt::ZERO, 0, 1)
    );
    assert_eq!(p.stake_of(w2a).await, (449 * E18, 0));
    assert_eq!(
        p.accrued().await - accrued_before,
        E18,
        "all of the fee to the treasury"
    );
    assert_eq!(
        p.balance(client.address()).await,
        client_before,
        "nothing to the client"
    );
    assert!(!p.worker_of(w2a).await.jailed, "no jail for a decline");
    p.assign(j5, w3a).await;
    let receipt = send(w3, vec![p.jm(w3).decline_job_getcall(&j5, &4)]).await;
    let events = p.jm_events(&receipt);
    assert!(matches!(&events[0], jobs::Event::JobDeclined(e) if !e.reopened));
    assert!(matches!(&events[1], jobs::Event::JobRefunded(e) if amt(&e.amount) == reward));
    assert_eq!(p.balance(client.address()).await - client_before, reward);
    assert_eq!(p.stake_of(w3a).await, (99 * E18, 0));
    // Too close to the deadline to reopen: refunded although attempts remain.
    let j6 = p.post(client, reward, p.now().await + 700, 3, 0).await;
    p.assign(j6, w2a).await;
    p.jump(150).await;
    let receipt = send(w2, vec![jw2.decline_job_getcall(&j6, &3)]).await;
    assert!(matches!(&p.jm_events(&receipt)[0], jobs::Event::JobDeclined(e) if !e.reopened));
    assert_eq!(p.status(j6).await, jobs::JobStatus::Refunded);
    // The fee is capped at the worker's slashable stake: 1% of 20,000 is 200, the stake is 100.
    let j7 = p.post(client, 20_000 * E18, far, 1, 0).await;
    p.assign(j7, w4a).await;
    let receipt = send(w4, vec![p.jm(w4).decline_job_getcall(&j7, &1)]).await;
    assert!(
        matches!(&p.jm_events(&receipt)[0], jobs::Event::JobDeclined(e) if amt(&e.fee) == 100 * E18)
    );
    assert_eq!(p.stake_of(w4a).await, (0, 0));

    // ---- finalize once the challenge window closed; the client may still accept until then
    let j8 = p.post(client, reward, far, 1, 0).await;
    let j9 = p.post(client, reward, far, 1, 0).await;
    send(
        coordinator,
        vec![
            p.jm(coordinator)
                .assign_batch_getcall(&vec![j8, j9], &vec![ca(w2a), ca(w2a)]),
        ],
    )
    .await;
    send(
        w2,
        vec![p.submit_call(j8, w2, "l8"), p.submit_call(j9, w2, "l9")],
    )
    .await;
    let js = p.jm(stranger);
    assert_refused(
        stranger,
        vec![js.finalize_getcall(&j8)],
        "ChallengeWindowOpen",
    )
    .await;
    assert_refused(stranger, vec![js.finalize_getcall(&99)], "UnknownJob").await;
    p.jump(CHALLENGE + 10).await;
    assert_refused(
        client,
        vec![
            p.tok(client).approve_getcall(&ca(p.jobs), &u256(10 * E18)),
            jc.dispute_result_getcall(&j9),
        ],
        "ChallengeWindowClosed",
    )
    .await;
    let before = p.balance(w2a).await;
    let receipt = send(stranger, vec![js.finalize_getcall(&j8)]).await;
    assert!(
        matches!(&p.jm_events(&receipt)[0], jobs::Event::JobPaid(e) if e.job_id == j8 && amt(&e.amount) == paid)
    );
    send(client, vec![jc.accept_result_getcall(&j9)]).await;
    assert_eq!(p.balance(w2a).await - before, 2 * paid);
    assert_refused(
        stranger,
        vec![js.finalize_getcall(&j8)],
        "JobStatusMismatch",
    )
    .await;

    // ---- a dispute the arbiter leaves past its period: the worker is paid and the client gets its bond back
    let j10 = p
        .post(client, reward, p.now().await + 3 * 86_400, 1, 0)
        .await;
    p.assign(j10, w2a).await;
    p.submit(j10, w2).await;
    p.dispute(j10, client).await;
    p.jump(DISPUTE + 10).await;
    assert_refused(
        arbiter,
        vec![ja.resolve_dispute_getcall(&j10, &true)],
        "DisputePeriodOver",
    )
    .await;
    let (w_before, c_before) = (p.balance(w2a).await, p.balance(client.address()).await);
    let receipt = send(stranger, vec![js.expire_getcall(&j10)]).await;
    let events = p.jm_events(&receipt);
    assert!(matches!(&events[0], jobs::Event::JobPaid(e) if amt(&e.amount) == paid));
    assert!(
        matches!(&events[1], jobs::Event::DisputeBondReleased(e) if e.to.0 == client.address())
    );
    assert_eq!(p.balance(w2a).await - w_before, paid);
    assert_eq!(p.balance(client.address()).await - c_before, 10 * E18);
    p.assert_conserved(&workers).await;

    // ---- sweep_fees: anyone, to the treasury (the timelock); nothing twice
    let accrued = p.accrued().await;
    assert!(accrued > 0);
    let (treasury_before, stranger_before) = (
        p.balance(p.timelock).await,
        p.balance(stranger.address()).await,
    );
    let receipt = send(stranger, vec![js.sweep_fees_getcall()]).await;
    assert!(matches!(&p.jm_events(&receipt)[0],
        jobs::Event::FeesSwept(e) if e.treasury.0 == p.timelock && amt(&e.amount) == accrued));
    assert_eq!(p.balance(p.timelock).await - treasury_before, accrued);
    assert_eq!(p.balance(stranger.address()).await, stranger_before);
    assert_eq!((p.accrued().await, p.balance(p.jobs).await), (0, 0));
    assert_refused(stranger, vec![js.sweep_fees_getcall()], "NoFees").await;

    // ---- a jailed worker still withdraws its unbonded stake once the unbonding period is over
    assert!(p.worker_of(wa).await.jailed);
    assert_refused(w, vec![p.reg(w).withdraw_getcall()], "StillUnbonding").await;
    p.jump(UNBONDING).await;
    let before = p.balance(wa).await;
    send(w, vec![p.reg(w).withdraw_getcall()]).await;
    assert_eq!(p.balance(wa).await - before, 450 * E18);
    assert_eq!(p.stake_of(wa).await, (0, 0));

    // ---- every setter and role grant is the timelock's alone
    for who in [holder, stranger, arbiter, coordinator] {
        let j = p.jm(who);
        let calls = [
            j.set_protocol_fee_getcall(&u256(100)),
            j.set_slash_share_getcall(&u256(200)),
            j.set_assignment_timeout_getcall(&u256(120)),
            j.set_challenge_window_getcall(&u256(120)),
            j.set_dispute_period_getcall(&u256(7200)),
            j.set_min_submit_window_getcall(&u256(120)),
            j.set_slash_reward_multiple_getcall(&u256(10_000)),
            j.set_compensation_getcall(&u256(100)),
            j.set_decline_fee_getcall(&u256(100)),
            j.set_dispute_bond_getcall(&u256(100)),
            j.grant_role_getcall(&short("COORDINATOR_ROLE"), &ca(who.address())),
            j.revoke_role_getcall(&short("ARBITER_ROLE"), &ca(arbiter.address())),
        ];
        for call in calls {
            assert_refused(who, vec![call], MISSING_ROLE).await;
        }
    }
    p.assert_conserved(&workers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_jobs_expire_with_a_bounded_slash_and_reopen_or_refund() {
    let p = Proto::start().await;
    let (client, stranger) = (p.at(5), p.at(8));
    let (w, w2) = (p.at(3), p.at(4));
    let (wa, w2a, ca_) = (w.address(), w2.address(), client.address());
    p.fund(&[ca_], 100_000 * E18).await;
    p.fund(&[wa, w2a], 1000 * E18).await;
    p.enroll(w, 0, 500 * E18).await;
    p.enroll(w2, 0, 500 * E18).await;
    let js = p.jm(stranger);
    let expire = |id: u64| js.expire_getcall(&id);
    let reward = 100 * E18;
    let now = p.now().await;
    let j1 = p.post(client, reward, now + 3 * 86_400, 2, 0).await; // expires twice: reopens, then refunds
    let jx = p.post(client, 10 * E18, now + 3 * 86_400, 1, 0).await; // slash capped at twice the reward
    let jo = p.post(client, reward, now + 100, 1, 0).await; // open at its deadline
    let jd = p.post(client, reward, now + 1000, 3, 0).await; // due capped at its deadline
    let jsub = p.post(client, reward, now + 3 * 86_400, 1, 0).await; // submitted
    let jcan = p.post(client, reward, now + 3 * 86_400, 1, 0).await; // cancelled
    let coord = p.jm(p.at(1));
    send(
        p.at(1),
        vec![coord.assign_batch_getcall(
            &vec![j1, jx, jd, jsub],
            &vec![ca(wa), ca(w2a), ca(wa), ca(w2a)],
        )],
    )
    .await;
    p.submit(jsub, w2).await;
    send(client, vec![p.jm(client).cancel_job_getcall(&jcan)]).await;

    assert_refused(stranger, vec![expire(99)], "UnknownJob").await;
    for id in [j1, jo, jsub, jcan] {
        assert_refused(stranger, vec![expire(id)], "NotExpired").await;
    }

    // An open job at its deadline is refunded.
    p.jump(150).await;
    let before = p.balance(ca_).await;
    let receipt = send(stranger, vec![expire(jo)]).await;
    assert!(
        matches!(&p.jm_events(&receipt)[0], jobs::Event::JobRefunded(e) if amt(&e.amount) == reward)
    );
    assert_eq!(p.balance(ca_).await - before, reward);
    assert_refused(stranger, vec![expire(jo)], "NotExpired").await;

    // An assignment due at the deadline expires into a refund, with the fault slash:
    // min(500 x 10%, 100 x 200%) = 50, of which 5 (5% of the reward) to the client and 45 to the treasury.
    p.jump(1000).await;
    let (before, accrued) = (p.balance(ca_).await, p.accrued().await);
    let receipt = send(stranger, vec![expire(jd)]).await;
    let events = p.jm_events(&receipt);
    assert!(matches!(&events[0], jobs::Event::JobRefunded(_)));
    assert!(
        matches!(&events[1], jobs::Event::SlashDistributed(e) if amt(&e.slashed) == 50 * E18 && amt(&e.compensation) == 5 * E18)
    );
    assert!(matches!(&events[2], jobs::Event::AssignmentExpired(e)
        if e.worker.0 == wa && amt(&e.slashed) == 50 * E18 && !e.reopened));
    assert_eq!(p.balance(ca_).await - before, reward + 5 * E18);
    assert_eq!(p.accrued().await - accrued, 45 * E18);
    assert_eq!(p.stake_of(wa).await, (450 * E18, 0));
    assert!(!p.worker_of(wa).await.jailed, "an expiry does not jail");

    // Past its due time the worker can neither submit nor decline; the job reopens (an attempt is left).
    p.jump(TIMEOUT).await;
    assert_refused(w, vec![p.submit_call(j1, w, "late")], "SubmissionOverdue").await;
    assert_refused(
        w,
        vec![p.jm(w).decline_job_getcall(&j1, &1)],
        "SubmissionOverdue",
    )
    .await;
    let before = p.balance(ca_).await;
    let receipt = send(stranger, vec![expire(j1)]).await;
    assert!(
        matches!(&p.jm_events(&receipt).last().unwrap(), jobs::Event::AssignmentExpired(e)
        if amt(&e.slashed) == 45 * E18 && e.reopened)
    );
    let job = p.job(j1).await;
    assert_eq!(
        (job.status, job.worker.0, job.due, job.attempts_left),
        (jobs::JobStatus::Open, Felt::ZERO, 0, 1)
    );
    assert_eq!(p.balance(ca_).await - before, 5 * E18);
    assert_eq!(p.stake_of(wa).await, (405 * E18, 0));

    // A small reward caps the slash at twice the reward: min(500 x 10%, 10 x 200%) = 20; the client gets 0.5.
    let before = p.balance(ca_).await;
    let receipt = send(stranger, vec![expire(jx)]).await;
    assert!(
        matches!(&p.jm_events(&receipt).last().unwrap(), jobs::Event::AssignmentExpired(e)
        if amt(&e.slashed) == 20 * E18 && !e.reopened)
    );
    assert_eq!(p.balance(ca_).await - before, 10 * E18 + E18 / 2);
    assert_eq!(p.stake_of(w2a).await, (480 * E18, 0));

    // The last attempt expires into a refund.
    p.assign(j1, w2a).await;
    p.jump(TIMEOUT + 1).await;
    let before = p.balance(ca_).await;
    send(stranger, vec![expire(j1)]).await;
    assert_eq!(p.status(j1).await, jobs::JobStatus::Refunded);
    assert_eq!(p.balance(ca_).await - before, reward + 5 * E18);
    assert_eq!(p.stake_of(w2a).await, (432 * E18, 0));
    assert_refused(stranger, vec![expire(j1)], "NotExpired").await;

    // Due, but the deadline is less than the minimum submit window away: refunded although attempts remain.
    let jt = p
        .post(client, reward, p.now().await + TIMEOUT + 300, 2, 0)
        .await;
    p.assign(jt, wa).await;
    p.jump(TIMEOUT + 20).await;
    let receipt = send(stranger, vec![expire(jt)]).await;
    assert!(
        matches!(&p.jm_events(&receipt).last().unwrap(), jobs::Event::AssignmentExpired(e) if !e.reopened)
    );
    assert_eq!(p.status(jt).await, jobs::JobStatus::Refunded);
    // And with the window still fitting, it reopens.
    let jr = p
        .post(client, reward, p.now().await + TIMEOUT + 1200, 2, 0)
        .await;
    p.assign(jr, wa).await;
    p.jump(TIMEOUT + 20).await;
    send(stranger, vec![expire(jr)]).await;
    assert_eq!(p.status(jr).await, jobs::JobStatus::Open);

    p.assert_conserved(&[wa, w2a]).await;
}

// ================================================================================================ governance

/// A call as the governor and the timelock take it.
fn gcall(c: &Call) -> governor::Call {
    governor::Call {
        to: ca(c.to),
        selector: c.selector,
        calldata: c.calldata.clone(),
    }
}

fn tcall(c: &Call) -> timelock::Call {
    timelock::Call {
        to: ca(c.to),
        selector: c.selector,
        calldata: c.calldata.clone(),
    }
}

/// A proposal: its calls, description, description hash and id.
struct Proposal {
    calls: Vec<governor::Call>,
    description: String,
    hash: Felt,
    id: Felt,
}

impl Proto {
    async fn proposal(&self, calls: &[Call], description: &str) -> Proposal {
        let calls: Vec<governor::Call> = calls.iter().map(gcall).collect();
        let g = self.gov_view();
        let hash = g.hash_description(&text(description)).call().await.unwrap();
        let id = g.hash_proposal(&calls, &hash).call().await.unwrap();
        Proposal {
            calls,
            description: description.to_owned(),
            hash,
            id,
        }
    }

    fn propose_call(&self, from: &Signer, p: &Proposal) -> Call {
        self.gov(from)
            .propose_getcall(&p.calls, &text(&p.description))
    }

    fn queue_call(&self, from: &Signer, p: &Proposal) -> Call {
        self.gov(from).queue_getcall(&p.calls, &p.hash)
    }

    fn execute_call(&self, from: &Signer, p: &Proposal) -> Call {
        self.gov(from).execute_getcall(&p.calls, &p.hash)
    }

    async fn state(&self, id: Felt) -> governor::ProposalState {
        self.gov_view().state(&id).call().await.unwrap()
    }

    async fn votes(&self, who: Felt) -> u128 {
        amt(&self.token_view().get_votes(&ca(who)).call().await.unwrap())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governance_raises_the_minimum_stake_through_the_timelock() {
    use governor::ProposalState as S;
    let p = Proto::start().await;
    let (holder, coordinator, arbiter) = (p.at(0), p.at(1), p.at(2));
    let (worker, stranger, operator, voter) = (p.at(3), p.at(5), p.at(6), p.at(7));
    let (gv, tv) = (p.gov_view(), p.tl_view());
    assert_eq!(gv.token().call().await.unwrap(), ca(p.token));
    assert_eq!(gv.timelock().call().await.unwrap(), ca(p.timelock));
    assert_eq!(
        (
            gv.voting_delay().call().await.unwrap(),
            gv.voting_period().call().await.unwrap()
        ),
        (1, 20)
    );
    assert_eq!(amt(&gv.proposal_threshold().call().await.unwrap()), 0);
    assert_eq!(amt(&gv.quorum_numerator().call().await.unwrap()), 4);
    assert_eq!(tv.get_min_delay().call().await.unwrap(), 60);
    p.fund(&[worker.address()], 1000 * E18).await;
    p.fund(&[voter.address()], 10_000_000 * E18).await;
    p.enroll(worker, 0, 150 * E18).await;
    assert_eq!(
        p.registry_view()
            .assignable(&ca(worker.address()), &0)
            .call()
            .await
            .unwrap(),
        Felt::ZERO
    );

    // Nobody but the timelock changes a parameter, a governance setting or a role, whatever votes it holds.
    let setter = p.reg(holder).set_min_stake_getcall(&u256(200 * E18));
    for who in [holder, stranger, arbiter, coordinator] {
        let (g, t) = (p.gov(who), p.tl(who));
        assert_refused(
            who,
            vec![p.reg(who).set_min_stake_getcall(&u256(200 * E18))],
            MISSING_ROLE,
        )
        .await;
        assert_refused(
            who,
            vec![g.set_voting_delay_getcall(&86_400)],
            "Governor: only executor",
        )
        .await;
        assert_refused(
            who,
            vec![g.set_voting_period_getcall(&259_200)],
            "Governor: only executor",
        )
        .await;
        assert_refused(
            who,
            vec![g.set_proposal_threshold_getcall(&u256(1))],
            "Governor: only executor",
        )
        .await;
        assert_refused(
            who,
            vec![g.update_quorum_numerator_getcall(&u256(5))],
            "Governor: only executor",
        )
        .await;
        assert_refused(
            who,
            vec![t.update_delay_getcall(&86_400)],
            "Timelock: unauthorized caller",
        )
        .await;
        assert_refused(
            who,
            vec![t.grant_role_getcall(&short("PROPOSER_ROLE"), &ca(who.address()))],
            MISSING_ROLE,
        )
        .await;
        assert_refused(
            who,
            vec![t.schedule_batch_getcall(&vec![tcall(&setter)], &Felt::ZERO, &Felt::ZERO, &60)],
            MISSING_ROLE,
        )
        .await;
        assert_refused(who, vec![t.cancel_getcall(&Felt::ONE)], MISSING_ROLE).await;
    }
    let ts = p.tl(stranger);
    assert_refused(
        stranger,
        vec![ts.update_delay_getcall(&10)],
        "TimelockDelayBelowMinimum",
    )
    .await;
    assert_refused(
        stranger,
        vec![ts.execute_batch_getcall(&vec![tcall(&setter)], &Felt::ZERO, &Felt::ZERO)],
        "Timelock: operation not ready",
    )
    .await;

    // Voting power needs delegation.
    send(
        holder,
        vec![p.tok(holder).delegate_getcall(&ca(holder.address()))],
    )
    .await;
    send(
        voter,
        vec![p.tok(voter).delegate_getcall(&ca(voter.address()))],
    )
    .await;

    // The proposal: raise the minimum stake, and tighten governance itself on the way.
    let (g, tl, jm) = (p.gov(holder), p.tl(holder), p.jm(holder));
    let calls = vec![
        setter.clone(),
        g.set_proposal_threshold_getcall(&u256(1000 * E18)),
        tl.grant_role_getcall(&short("PROPOSER_ROLE"), &ca(operator.address())),
        tl.grant_role_getcall(&short("CANCELLER_ROLE"), &ca(operator.address())),
        tl.grant_role_getcall(&short("PROPOSER_ROLE"), &ca(stranger.address())),
        tl.revoke_role_getcall(&short("PROPOSER_ROLE"), &ca(stranger.address())),
        jm.grant_role_getcall(&short("COORDINATOR_ROLE"), &ca(operator.address())),
        jm.revoke_role_getcall(&short("ARBITER_ROLE"), &ca(arbiter.address())),
        g.set_voting_delay_getcall(&86_400),
        g.set_voting_period_getcall(&259_200),
        g.update_quorum_numerator_getcall(&u256(5)),
        tl.update_delay_getcall(&86_400),
    ];
    let description = format!(
        "Raise the minimum stake to 200 ACRD #proposer={:#066x}",
        holder.address()
    );
    let p1 = p.proposal(&calls, &description).await;
    assert_reason(
        &view_refused(gv.state(&p1.id).call().await),
        "Governor: unknown proposal",
    );
    assert_refused(
        stranger,
        vec![p.propose_call(stranger, &p1)],
        "Governor: restricted proposer",
    )
    .await;
    assert_refused(
        holder,
        vec![g.propose_getcall(&vec![], &text("nothing"))],
        "Governor: empty proposal",
    )
    .await;
    // Voting opens only after the voting delay: not in the proposal's own second.
    assert_refused(
        holder,
        vec![p.propose_call(holder, &p1), g.cast_vote_getcall(&p1.id, &1)],
        "Governor: vote not active",
    )
    .await;
    let receipt = send(holder, vec![p.propose_call(holder, &p1)]).await;
    let t0 = gv.proposal_snapshot(&p1.id).call().await.unwrap() - 1;
    assert_at(t0, p.block_time(&receipt).await);
    let created = receipt
        .receipt
        .events()
        .iter()
        .find(|e| e.from_address == p.governor)
        .unwrap();
    match governor::Event::try_from(created).unwrap() {
        governor::Event::ProposalCreated(e) => {
            assert_eq!((e.proposal_id, e.proposer.0), (p1.id, holder.address()));
            assert_eq!(
                (e.vote_start, e.vote_end, e.targets.len()),
                (t0 + 1, t0 + 21, calls.len())
            );
            assert_eq!(e.targets[0].0, p.registry);
            assert_eq!(e.description.to_string().unwrap(), description);
        }
        other => panic!("expected ProposalCreated, got {other:?}"),
    }
    assert_eq!(
        gv.proposal_proposer(&p1.id).call().await.unwrap().0,
        holder.address()
    );
    assert_eq!(gv.proposal_snapshot(&p1.id).call().await.unwrap(), t0 + 1);
    assert_eq!(gv.proposal_deadline(&p1.id).call().await.unwrap(), t0 + 21);
    assert_eq!(gv.proposal_eta(&p1.id).call().await.unwrap(), 0);
    assert!(matches!(p.state(p1.id).await, S::Pending | S::Active));
    assert_refused(
        holder,
        vec![p.propose_call(holder, &p1)],
        "Governor: proposal exists",
    )
    .await;
    assert_refused(
        stranger,
        vec![p.queue_call(stranger, &p1)],
        "Governor: not succeeded",
    )
    .await;
    assert_refused(
        stranger,
        vec![p.execute_call(stranger, &p1)],
        "Governor: not queued",
    )
    .await;

    // Voting: once per account, weighted by the votes at the snapshot.
    p.jump(2).await;
    assert_eq!(p.state(p1.id).await, S::Active);
    assert_refused(
        holder,
        vec![g.cast_vote_getcall(&p1.id, &3)],
        "Governor: invalid vote type",
    )
    .await;
    let holder_votes = p.votes(holder.address()).await;
    let receipt = send(
        holder,
        vec![g.cast_vote_with_reason_getcall(&p1.id, &1, &text("stake must mean something"))],
    )
    .await;
    let cast = receipt
        .receipt
        .events()
        .iter()
        .find(|e| e.from_address == p.governor)
        .unwrap();
    match governor::Event::try_from(cast).unwrap() {
        governor::Event::VoteCast(e) => {
            assert_eq!(
                (e.voter.0, e.proposal_id, e.support, amt(&e.weight)),
                (holder.address(), p1.id, 1, holder_votes)
            );
            assert_eq!(e.reason.to_string().unwrap(), "stake must mean something");
        }
        other => panic!("expected VoteCast, got {other:?}"),
    }
    assert_refused(
        holder,
        vec![g.cast_vote_getcall(&p1.id, &0)],
        "Governor: already voted",
    )
    .await;
    send(voter, vec![p.gov(voter).cast_vote_getcall(&p1.id, &0)]).await;
    send(
        stranger,
        vec![p.gov(stranger).cast_vote_getcall(&p1.id, &2)],
    )
    .await; // no votes: weight 0
    assert!(
        gv.has_voted(&p1.id, &ca(holder.address()))
            .call()
            .await
            .unwrap()
    );
    assert!(
        !gv.has_voted(&p1.id, &ca(operator.address()))
            .call()
            .await
            .unwrap()
    );
    let (against, for_, abstain) = gv.proposal_votes(&p1.id).call().await.unwrap();
    assert_eq!(
        (amt(&against), amt(&for_), amt(&abstain)),
        (10_000_000 * E18, holder_votes, 0)
    );
    assert_eq!(
        amt(&gv.quorum(&(t0 + 1)).call().await.unwrap()),
        SUPPLY * 4 / 100
    );

    // Succeeded once the vote ends; late votes are refused.
    p.jump(21).await;
    assert_eq!(p.state(p1.id).await, S::Succeeded);
    assert_refused(
        operator,
        vec![p.gov(operator).cast_vote_getcall(&p1.id, &1)],
        "Governor: vote not active",
    )
    .await;

    // Queued in the timelock by anyone; executable only after the timelock delay, once.
    let receipt = send(stranger, vec![p.queue_call(stranger, &p1)]).await;
    assert_eq!(p.state(p1.id).await, S::Queued);
    let eta = gv.proposal_eta(&p1.id).call().await.unwrap();
    assert_at(eta - 60, p.block_time(&receipt).await);
    assert_refused(
        stranger,
        vec![p.queue_call(stranger, &p1)],
        "Governor: not succeeded",
    )
    .await;
    assert_refused(
        stranger,
        vec![p.execute_call(stranger, &p1)],
        "Timelock: operation not ready",
    )
    .await;
    assert_eq!(
        amt(&p.registry_view().min_stake().call().await.unwrap()),
        MIN_STAKE,
        "nothing changed yet"
    );
    p.jump(61).await;
    let receipt = send(stranger, vec![p.execute_call(stranger, &p1)]).await;
    let updated: Vec<_> = p
        .reg_events(&receipt)
        .into_iter()
        .filter_map(|e| match e {
            registry::Event::ParameterUpdated(u) => {
                Some((unshort(u.key), amt(&u.previous), amt(&u.current)))
            }
            _ => None,
        })
        .collect();
    assert_eq!(updated, vec![("minStake".to_owned(), MIN_STAKE, 200 * E18)]);
    let executed = receipt
        .receipt
        .events()
        .iter()
        .filter(|e| e.from_address == p.governor);
    assert!(
        executed
            .map(|e| governor::Event::try_from(e).unwrap())
            .any(|e| matches!(e,
        governor::Event::ProposalExecuted(x) if x.proposal_id == p1.id))
    );
    assert_eq!(p.state(p1.id).await, S::Executed);
    assert_refused(
        stranger,
        vec![p.execute_call(stranger, &p1)],
        "Governor: not queued",
    )
    .await;
    assert_eq!(
        amt(&p.registry_view().min_stake().call().await.unwrap()),
        200 * E18
    );

    // What the proposal changed.
    assert_eq!(
        unshort(
            p.registry_view()
                .assignable(&ca(worker.address()), &0)
                .call()
                .await
                .unwrap()
        ),
        "BelowMinStake"
    );
    assert_refused(
        stranger,
        vec![p.propose_call(
            stranger,
            &p.proposal(std::slice::from_ref(&setter), "mine").await,
        )],
        "Governor: insufficient votes",
    )
    .await;
    assert_refused(
        arbiter,
        vec![p.reg(arbiter).jail_getcall(&ca(worker.address()))],
        "NotJobManagerOrArbiter",
    )
    .await;
    assert_refused(
        arbiter,
        vec![p.jm(arbiter).resolve_dispute_getcall(&1, &true)],
        MISSING_ROLE,
    )
    .await;
    assert_refused(
        operator,
        vec![p.jm(operator).assign_getcall(&99, &ca(worker.address()))],
        "UnknownJob",
    )
    .await;
    assert_eq!(gv.voting_delay().call().await.unwrap(), 86_400);
    assert_eq!(gv.voting_period().call().await.unwrap(), 259_200);
    assert_eq!(amt(&gv.quorum_numerator().call().await.unwrap()), 5);
    assert_eq!(
        amt(&gv.proposal_threshold().call().await.unwrap()),
        1000 * E18
    );
    assert_eq!(tv.get_min_delay().call().await.unwrap(), 86_400);
    let proposer_role = short("PROPOSER_ROLE");
    assert!(
        tv.has_role(&proposer_role, &ca(operator.address()))
            .call()
            .await
            .unwrap()
    );
    assert!(
        tv.has_role(&proposer_role, &ca(p.governor))
            .call()
            .await
            .unwrap()
    );
    assert!(
        !tv.has_role(&proposer_role, &ca(stranger.address()))
            .call()
            .await
            .unwrap(),
        "granted, then revoked"
    );
    assert_eq!(
        tv.get_role_admin(&proposer_role).call().await.unwrap(),
        Felt::ZERO
    );
    assert_eq!(
        p.jobs_view()
            .get_role_admin(&short("COORDINATOR_ROLE"))
            .call()
            .await
            .unwrap(),
        Felt::ZERO
    );

    // A defeated proposal changes nothing; a pending one is cancelled by its proposer only.
    let raise = [p.reg(holder).set_min_stake_getcall(&u256(300 * E18))];
    let p2 = p.proposal(&raise, "Raise it again").await;
    let p3 = p.proposal(&raise, "Withdrawn").await;
    send(
        holder,
        vec![p.propose_call(holder, &p2), p.propose_call(holder, &p3)],
    )
    .await;
    let cancel = |from: &Signer| p.gov(from).cancel_getcall(&p3.calls, &p3.hash);
    assert_refused(stranger, vec![cancel(stranger)], "Governor: only proposer").await;
    let receipt = send(holder, vec![cancel(holder)]).await;
    let canceled = receipt
        .receipt
        .events()
        .iter()
        .find(|e| e.from_address == p.governor)
        .unwrap();
    assert!(
        matches!(governor::Event::try_from(canceled).unwrap(), governor::Event::ProposalCanceled(c) if c.proposal_id == p3.id)
    );
    assert_eq!(p.state(p3.id).await, S::Canceled);
    assert_refused(holder, vec![cancel(holder)], "Governor: not pending").await;
    p.jump(86_400 + 1).await;
    assert_refused(
        holder,
        vec![g.cast_vote_getcall(&p3.id, &1)],
        "Governor: vote not active",
    )
    .await;
    assert_refused(holder, vec![cancel(holder)], "Governor: not pending").await;
    send(holder, vec![g.cast_vote_getcall(&p2.id, &0)]).await;
    send(voter, vec![p.gov(voter).cast_vote_getcall(&p2.id, &1)]).await;
    p.jump(259_200 + 1).await;
    assert_eq!(p.state(p2.id).await, S::Defeated);
    assert_refused(
        stranger,
        vec![p.queue_call(stranger, &p2)],
        "Governor: not succeeded",
    )
    .await;
    assert_eq!(
        amt(&p.registry_view().min_stake().call().await.unwrap()),
        200 * E18
    );

    // The timelock's own rules, through the account governance made proposer and canceller.
    let to = p.tl(operator);
    let unbond = vec![tcall(
        &p.reg(holder)
            .set_unbonding_period_getcall(&u256(10 * 86_400)),
    )];
    let fee = vec![tcall(&p.jm(holder).set_protocol_fee_getcall(&u256(300)))];
    let fee2 = vec![tcall(&p.jm(holder).set_protocol_fee_getcall(&u256(400)))];
    let (salt_a, salt_c) = (Felt::ONE, Felt::from(3u8));
    let id_a = tv
        .hash_operation_batch(&unbond, &Felt::ZERO, &salt_a)
        .call()
        .await
        .unwrap();
    let id_b = tv
        .hash_operation_batch(&fee, &id_a, &Felt::ZERO)
        .call()
        .await
        .unwrap();
    let id_c = tv
        .hash_operation_batch(&fee2, &Felt::ZERO, &salt_c)
        .call()
        .await
        .unwrap();
    assert_refused(
        operator,
        vec![to.schedule_batch_getcall(&unbond, &Felt::ZERO, &salt_a, &86_399)],
        "Timelock: insufficient delay",
    )
    .await;
    let receipt = send(
        operator,
        vec![
            to.schedule_batch_getcall(&unbond, &Felt::ZERO, &salt_a, &86_400),
            to.schedule_batch_getcall(&fee, &id_a, &Felt::ZERO, &86_400),
            to.schedule_batch_getcall(&fee2, &Felt::ZERO, &salt_c, &86_400),
        ],
    )
    .await;
    let ts_ = tv.get_timestamp(&id_a).call().await.unwrap() - 86_400;
    assert_at(ts_, p.block_time(&receipt).await);
    let events: Vec<timelock::Event> = receipt
        .receipt
        .events()
        .iter()
        .filter(|e| e.from_address == p.timelock)
        .map(|e| timelock::Event::try_from(e).unwrap())
        .collect();
    assert!(
        matches!(&events[0], timelock::Event::CallScheduled(e) if e.id == id_a && e.index == 0 && e.delay == 86_400)
    );
    assert!(matches!(&events[1], timelock::Event::CallSalt(e) if e.id == id_a && e.salt == salt_a));
    assert!(
        matches!(&events[2], timelock::Event::CallScheduled(e) if e.id == id_b && e.predecessor == id_a)
    );
    assert!(
        tv.is_operation(&id_a).call().await.unwrap()
            && tv.is_operation_pending(&id_a).call().await.unwrap()
    );
    assert!(
        !tv.is_operation_ready(&id_a).call().await.unwrap()
            && !tv.is_operation_done(&id_a).call().await.unwrap()
    );
    assert_eq!(tv.get_timestamp(&id_a).call().await.unwrap(), ts_ + 86_400);
    assert_refused(
        operator,
        vec![to.schedule_batch_getcall(&unbond, &Felt::ZERO, &salt_a, &86_400)],
        "Timelock: operation exists",
    )
    .await;
    assert_refused(
        stranger,
        vec![ts.execute_batch_getcall(&unbond, &Felt::ZERO, &salt_a)],
        "Timelock: operation not ready",
    )
    .await;
    assert_refused(stranger, vec![ts.cancel_getcall(&id_c)], MISSING_ROLE).await;
    let receipt = send(operator, vec![to.cancel_getcall(&id_c)]).await;
    assert!(receipt.receipt.events().iter().any(|e| e.from_address == p.timelock
        && matches!(timelock::Event::try_from(e), Ok(timelock::Event::Cancelled(c)) if c.id == id_c)));
    assert!(!tv.is_operation(&id_c).call().await.unwrap());
    assert_refused(
        operator,
        vec![to.cancel_getcall(&id_c)],
        "Timelock: operation not pending",
    )
    .await;
    p.jump(86_401).await;
    assert!(tv.is_operation_ready(&id_a).call().await.unwrap());
    assert_refused(
        stranger,
        vec![ts.execute_batch_getcall(&fee, &id_a, &Felt::ZERO)],
        "Timelock: missing dependency",
    )
    .await;
    assert_refused(
        stranger,
        vec![ts.execute_batch_getcall(&fee2, &Felt::ZERO, &salt_c)],
        "Timelock: operation not ready",
    )
    .await;
    let receipt = send(
        stranger,
        vec![ts.execute_batch_getcall(&unbond, &Felt::ZERO, &salt_a)],
    )
    .await;
    assert!(receipt.receipt.events().iter().any(|e| e.from_address == p.timelock
        && matches!(timelock::Event::try_from(e), Ok(timelock::Event::CallExecuted(c)) if c.id == id_a)));
    assert!(tv.is_operation_done(&id_a).call().await.unwrap());
    assert_eq!(
        p.registry_view().unbonding_period().call().await.unwrap(),
        10 * 86_400
    );
    assert_refused(
        stranger,
        vec![ts.execute_batch_getcall(&unbond, &Felt::ZERO, &salt_a)],
        "Timelock: operation not ready",
    )
    .await;
    assert_refused(
        operator,
        vec![to.cancel_getcall(&id_a)],
        "Timelock: operation not pending",
    )
    .await;
    send(
        stranger,
        vec![ts.execute_batch_getcall(&fee, &id_a, &Felt::ZERO)],
    )
    .await;
    assert_eq!(
        p.jobs_view()
            .parameters()
            .call()
            .await
            .unwrap()
            .protocol_fee_bps,
        300
    );

    // Roles can be given up by their holders only.
    let canceller = short("CANCELLER_ROLE");
    assert_refused(
        stranger,
        vec![ts.renounce_role_getcall(&canceller, &ca(operator.address()))],
        "AccessControl: bad confirmation",
    )
    .await;
    send(
        operator,
        vec![to.renounce_role_getcall(&canceller, &ca(operator.address()))],
    )
    .await;
    assert_refused(operator, vec![to.cancel_getcall(&id_a)], MISSING_ROLE).await;
    let coordinator_role = short("COORDINATOR_ROLE");
    let jo = p.jm(operator);
    send(
        operator,
        vec![jo.renounce_role_getcall(&coordinator_role, &ca(operator.address()))],
    )
    .await;
    assert_refused(
        operator,
        vec![jo.assign_getcall(&99, &ca(worker.address()))],
        MISSING_ROLE,
    )
    .await;
    p.assert_conserved(&[worker.address()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_parameter_moves_through_governance_within_its_bounds_only() {
    let p = Proto::start().await;
    let (holder, stranger) = (p.at(0), p.at(5));
    send(
        holder,
        vec![p.tok(holder).delegate_getcall(&ca(holder.address()))],
    )
    .await;
    let (j, r, g, t) = (p.jm(holder), p.reg(holder), p.gov(holder), p.tl(holder));
    const MAX_MIN_STAKE: u128 = 100_000_000 * E18;
    // Each parameter to one bound, then to the other: (setter, key, devnet value, lower bound, upper bound).
    type Setter<'a> = Box<dyn Fn(u128) -> Call + 'a>;
    let params: Vec<(Setter, &str, u128, u128, u128)> = vec![
        (
            Box::new(|v| j.set_protocol_fee_getcall(&u256(v))),
            "protocolFeeBps",
            FEE_BPS,
            0,
            2000,
        ),
        (
            Box::new(|v| j.set_slash_share_getcall(&u256(v))),
            "slashShareBps",
            SHARE_BPS,
            100,
            5000,
        ),
        (
            Box::new(|v| j.set_assignment_timeout_getcall(&u256(v))),
            "assignmentTimeout",
            TIMEOUT as u128,
            60,
            259_200,
        ),
        (
            Box::new(|v| j.set_challenge_window_getcall(&u256(v))),
            "challengeWindow",
            CHALLENGE as u128,
            60,
            259_200,
        ),
        (
            Box::new(|v| j.set_dispute_period_getcall(&u256(v))),
            "disputePeriod",
            DISPUTE as u128,
            3600,
            259_200,
        ),
        (
            Box::new(|v| j.set_min_submit_window_getcall(&u256(v))),
            "minSubmitWindow",
            WINDOW as u128,
            60,
            86_400,
        ),
        (
            Box::new(|v| j.set_slash_reward_multiple_getcall(&u256(v))),
            "slashRewardMultipleBps",
            MULTIPLE_BPS,
            1000,
            50_000,
        ),
        (
            Box::new(|v| j.set_compensation_getcall(&u256(v))),
            "compensationBps",
            COMPENSATION_BPS,
            0,
            1000,
        ),
        (
            Box::new(|v| j.set_decline_fee_getcall(&u256(v))),
            "declineFeeBps",
            DECLINE_BPS,
            0,
            1000,
        ),
        (
            Box::new(|v| j.set_dispute_bond_getcall(&u256(v))),
            "disputeBondBps",
            BOND_BPS,
            0,
            10_000,
        ),
        (
            Box::new(|v| j.set_consensus_share_getcall(&u256(v))),
            "consensusBps",
            CONSENSUS_BPS,
            5001,
            10_000,
        ),
        (
            Box::new(|v| j.set_reveal_window_getcall(&u256(v))),
            "revealWindow",
            REVEAL as u128,
            60,
            86_400,
        ),
        (
            Box::new(|v| r.set_min_stake_getcall(&u256(v))),
            "minStake",
            MIN_STAKE,
            E18,
            MAX_MIN_STAKE,
        ),
        (
            Box::new(|v| r.set_unbonding_period_getcall(&u256(v))),
            "unbondingPeriod",
            UNBONDING as u128,
            864_000,
            31_536_000,
        ),
    ];
    let mut lows: Vec<Call> = params.iter().map(|(set, _, _, low, _)| set(*low)).collect();
    // The governance settings at their floors are accepted too.
    lows.extend([
        g.set_voting_delay_getcall(&86_400),
        g.set_voting_period_getcall(&259_200),
        g.update_quorum_numerator_getcall(&u256(1)),
        t.update_delay_getcall(&86_400),
    ]);
    let highs: Vec<Call> = params
        .iter()
        .map(|(set, _, _, _, high)| set(*high))
        .collect();
    // Out of bounds, each in a proposal of its own, refused when executed.
    let mut bad: Vec<(Call, String)> = Vec::new();
    for (set, key, _, low, high) in &params {
        if *low > 0 {
            bad.push((set(low - 1), format!("{key} too low")));
        }
        bad.push((set(high + 1), format!("{key} too high")));
    }
    bad.extend([
        (
            r.set_job_manager_getcall(&ca(stranger.address())),
            "JobManagerAlreadySet".to_owned(),
        ),
        (
            r.set_job_manager_getcall(&ca(Felt::ZERO)),
            "ZeroAddress".to_owned(),
        ),
        (
            g.set_voting_delay_getcall(&86_399),
            "GovernanceSettingBelowMinimum".to_owned(),
        ),
        (
            g.set_voting_period_getcall(&259_199),
            "GovernanceSettingBelowMinimum".to_owned(),
        ),
        (
            g.update_quorum_numerator_getcall(&u256(0)),
            "GovernanceSettingBelowMinimum".to_owned(),
        ),
        (
            g.update_quorum_numerator_getcall(&u256(101)),
            "Governor: invalid quorum".to_owned(),
        ),
        (
            t.update_delay_getcall(&86_399),
            "TimelockDelayBelowMinimum".to_owned(),
        ),
    ]);
    let to_low = p
        .proposal(&lows, "every parameter to its lower bound")
        .await;
    let to_high = p
        .proposal(&highs, "every parameter to its upper bound")
        .await;
    let mut refused_ones = Vec::new();
    for (i, (call, reason)) in bad.iter().enumerate() {
        refused_ones.push((
            p.proposal(std::slice::from_ref(call), &format!("out of bounds #{i}"))
                .await,
            reason,
        ));
    }
    let all: Vec<&Proposal> = [&to_low, &to_high]
        .into_iter()
        .chain(refused_ones.iter().map(|(p, _)| p))
        .collect();

    // One round for all of them: propose, vote, queue.
    for chunk in all.chunks(10) {
        send(
            holder,
            chunk.iter().map(|x| p.propose_call(holder, x)).collect(),
        )
        .await;
    }
    p.jump(2).await;
    send(
        holder,
        all.iter().map(|x| g.cast_vote_getcall(&x.id, &1)).collect(),
    )
    .await;
    p.jump(21).await;
    for chunk in all.chunks(10) {
        send(
            holder,
            chunk.iter().map(|x| p.queue_call(holder, x)).collect(),
        )
        .await;
    }
    p.jump(61).await;

    // Within the bounds: applied, each with its ParameterUpdated from the previous value.
    let updates = |receipt: &TransactionReceiptWithBlockInfo| -> Vec<(String, u128, u128)> {
        let mut out: Vec<(String, u128, u128)> = p
            .jm_events(receipt)
            .into_iter()
            .filter_map(|e| match e {
                jobs::Event::ParameterUpdated(u) => {
                    Some((unshort(u.key), amt(&u.previous), amt(&u.current)))
                }
                _ => None,
            })
            .collect();
        out.extend(p.reg_events(receipt).into_iter().filter_map(|e| match e {
            registry::Event::ParameterUpdated(u) => {
                Some((unshort(u.key), amt(&u.previous), amt(&u.current)))
            }
            _ => None,
        }));
        out
    };
    let receipt = send(stranger, vec![p.execute_call(stranger, &to_low)]).await;
    let expected: Vec<_> = params
        .iter()
        .map(|(_, key, was, low, _)| (key.to_string(), *was, *low))
        .collect();
    assert_eq!(updates(&receipt), expected);
    let receipt = send(stranger, vec![p.execute_call(stranger, &to_high)]).await;
    let expected: Vec<_> = params
        .iter()
        .map(|(_, key, _, low, high)| (key.to_string(), *low, *high))
        .collect();
    assert_eq!(updates(&receipt), expected);
    let jv = p.jobs_view();
    let (now_params, now_pen) = (
        jv.parameters().call().await.unwrap(),
        jv.penalties().call().await.unwrap(),
    );
    let read = [
        now_params.protocol_fee_bps as u128,
        now_params.slash_share_bps as u128,
        now_params.assignment_timeout as u128,
        now_params.challenge_window as u128,
        now_params.dispute_period as u128,
        now_params.min_submit_window as u128,
        now_pen.slash_reward_multiple_bps as u128,
        now_pen.compensation_bps as u128,
        now_pen.decline_fee_bps as u128,
        now_pen.dispute_bond_bps as u128,
        now_pen.consensus_bps as u128,
        now_pen.reveal_window as u128,
        amt(&p.registry_view().min_stake().call().await.unwrap()),
        p.registry_view().unbonding_period().call().await.unwrap() as u128,
    ];
    assert_eq!(
        read.to_vec(),
        params.iter().map(|x| x.4).collect::<Vec<_>>()
    );
    let gv = p.gov_view();
    assert_eq!(gv.voting_delay().call().await.unwrap(), 86_400);
    assert_eq!(gv.voting_period().call().await.unwrap(), 259_200);
    assert_eq!(amt(&gv.quorum_numerator().call().await.unwrap()), 1);
    assert_eq!(p.tl_view().get_min_delay().call().await.unwrap(), 86_400);

    // Outside the bounds: the execution fails with the setter's refusal, and nothing moves.
    for (proposal, reason) in &refused_ones {
        assert_refused(stranger, vec![p.execute_call(stranger, proposal)], reason).await;
    }
    assert_eq!(jv.parameters().call().await.unwrap(), now_params);
    assert_eq!(jv.penalties().call().await.unwrap(), now_pen);
    assert_eq!(
        p.registry_view().job_manager().call().await.unwrap(),
        ca(p.jobs)
    );
    assert_eq!(amt(&gv.quorum_numerator().call().await.unwrap()), 1);
}

// ================================================================================================ attacks

/// Each attack is attempted for real and must be refused, leaving balances, stakes and jobs as they were; removing
/// the defense named in its comment makes the attempt succeed and the test fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attacks_are_refused_and_change_nothing() {
    let p = Proto::start().await;
    let (holder, coordinator, arbiter) = (p.at(0), p.at(1), p.at(2));
    let (client, client2) = (p.at(5), p.at(6));
    let (w, w2, rival) = (p.at(3), p.at(4), p.at(7));
    let (wa, w2a, ra) = (w.address(), w2.address(), rival.address());
    let workers = [wa, w2a, ra];
    p.fund(&[client.address(), client2.address()], 100_000 * E18)
        .await;
    p.fund(&workers, 1000 * E18).await;
    for s in [w, w2, rival] {
        p.enroll(s, 0, 500 * E18).await;
    }
    let far = p.now().await + 30 * 86_400;
    let reward = 100 * E18;
    let jcoord = p.jm(coordinator);
    let accounts = [
        client.address(),
        client2.address(),
        wa,
        w2a,
        ra,
        p.jobs,
        p.registry,
        p.timelock,
    ];
    let everything = || p.fingerprint(&accounts, &workers);

    // A worker assigned twice to one job (defense: assignment needs an open job, 'JobStatusMismatch').
    let j1 = p.post(client, reward, far, 3, 0).await;
    p.assign(j1, wa).await;
    let before = everything().await;
    assert_refused(
        coordinator,
        vec![jcoord.assign_getcall(&j1, &ca(w2a))],
        "JobStatusMismatch",
    )
    .await;
    assert_refused(
        coordinator,
        vec![jcoord.assign_getcall(&j1, &ca(wa))],
        "JobStatusMismatch",
    )
    .await;
    assert_eq!(everything().await, before);
    let j2 = p.post(client, reward, far, 3, 0).await;
    let receipt = send(
        coordinator,
        vec![jcoord.assign_batch_getcall(&vec![j2, j2], &vec![ca(wa), ca(w2a)])],
    )
    .await;
    assert_eq!(
        p.skipped(&receipt),
        vec![(j2, w2a, "JobStatusMismatch".to_owned())]
    );
    let job = p.job(j2).await;
    assert_eq!(
        (job.worker.0, job.attempts_left),
        (wa, 2),
        "one assignment, one attempt used"
    );

    // Assigning without the coordinator role: the worker picks itself, the client a friend, the arbiter anyone
    // (defense: COORDINATOR_ROLE).
    let j3 = p.post(client, reward, far, 1, 0).await;
    let before = everything().await;
    for (who, to) in [(w2, w2a), (client, ra), (arbiter, wa), (holder, wa)] {
        assert_refused(
            who,
            vec![p.jm(who).assign_getcall(&j3, &ca(to))],
            MISSING_ROLE,
        )
        .await;
        assert_refused(
            who,
            vec![p.jm(who).assign_batch_getcall(&vec![j3], &vec![ca(to)])],
            MISSING_ROLE,
        )
        .await;
    }
    assert_eq!(everything().await, before);

    // A client settling another client's job: accepting it, disputing it, cancelling it (defense: 'NotClient').
    let j4 = p.post(client2, reward, far, 1, 0).await;
    let j5 = p.post(client2, reward, far, 1, 0).await;
    p.assign(j4, w2a).await;
    p.submit(j4, w2).await;
    let before = everything().await;
    let jc = p.jm(client);
    assert_refused(client, vec![jc.accept_result_getcall(&j4)], "NotClient").await;
    let bond = p.tok(client).approve_getcall(&ca(p.jobs), &u256(10 * E18));
    assert_refused(
        client,
        vec![bond.clone(), jc.dispute_result_getcall(&j4)],
        "NotClient",
    )
    .await;
    assert_refused(client, vec![jc.cancel_job_getcall(&j5)], "NotClient").await;
    assert_eq!(everything().await, before);

    // Spending another account's approval: posting a job or staking with tokens someone else approved (defense:
    // escrow and stake are pulled from the caller).
    send(
        client2,
        vec![
            p.tok(client2).approve_getcall(&ca(p.jobs), &u256(reward)),
            p.tok(client2)
                .approve_getcall(&ca(p.registry), &u256(reward)),
        ],
    )
    .await;
    let before = everything().await;
    assert_refused(
        client,
        vec![jc.post_job_getcall(&u256(1), &text("x"), &0, &u256(reward), &far, &1)],
        "ERC20: insufficient allowance",
    )
    .await;
    assert_refused(
        w,
        vec![p.reg(w).stake_getcall(&u256(reward))],
        "ERC20: insufficient allowance",
    )
    .await;
    assert_eq!(everything().await, before);

    // A worker submitting or declining a job assigned to a rival (defense: 'NotAssignedWorker').
    let j6 = p.post(client, reward, far, 2, 0).await;
    p.assign(j6, ra).await;
    let before = everything().await;
    assert_refused(w, vec![p.submit_call(j6, w, "stolen")], "NotAssignedWorker").await;
    assert_refused(
        w,
        vec![p.jm(w).decline_job_getcall(&j6, &1)],
        "NotAssignedWorker",
    )
    .await;
    assert_eq!(everything().await, before);

    // Slashing through the registry directly: the arbiter, a rival, the client, even towards the job manager
    // (defense: only the job manager slashes, 'NotJobManager').
    for who in [arbiter, w, client, coordinator, holder] {
        for to in [who.address(), p.jobs] {
            assert_refused(
                who,
                vec![
                    p.reg(who)
                        .slash_getcall(&ca(ra), &u256(100 * E18), &ca(to), &j6),
                ],
                "NotJobManager",
            )
            .await;
        }
    }
    // The arbiter ruling on a job nobody disputed, to slash its worker (defense: 'JobStatusMismatch').
    assert_refused(
        arbiter,
        vec![p.jm(arbiter).resolve_dispute_getcall(&j6, &true)],
        "JobStatusMismatch",
    )
    .await;
    assert_refused(
        arbiter,
        vec![p.jm(arbiter).resolve_dispute_getcall(&j4, &true)],
        "JobStatusMismatch",
    )
    .await;
    assert_eq!(everything().await, before);
    // Re-registering to shed a jail (defense: 'AlreadyRegistered'; updating keeps the jail).
    send(arbiter, vec![p.reg(arbiter).jail_getcall(&ca(w2a))]).await;
    assert_refused(
        w2,
        vec![p.reg(w2).register_getcall(&0, &text("new me"))],
        "AlreadyRegistered",
    )
    .await;
    send(
        w2,
        vec![p.reg(w2).update_worker_getcall(&0, &text("new me"))],
    )
    .await;
    assert!(p.worker_of(w2a).await.jailed);
    let j7 = p.post(client, reward, far, 1, 0).await;
    let receipt = send(
        coordinator,
        vec![jcoord.assign_batch_getcall(&vec![j7], &vec![ca(w2a)])],
    )
    .await;
    assert_eq!(
        p.skipped(&receipt),
        vec![(j7, w2a, "JailedWorker".to_owned())]
    );
    send(arbiter, vec![p.reg(arbiter).unjail_getcall(&ca(w2a))]).await;

    // Escaping a slash by unbonding once assigned (defense: unbonding stake stays slashable until the unbonding
    // period, longer than any liability, ends).
    send(
        rival,
        vec![p.reg(rival).request_unstake_getcall(&u256(500 * E18))],
    )
    .await;
    assert_refused(
        rival,
        vec![p.reg(rival).withdraw_getcall()],
        "StillUnbonding",
    )
    .await;
    // Dodging payment: cancelling an assigned job, disputing after the challenge window (defenses:
    // 'JobStatusMismatch', 'ChallengeWindowClosed').
    assert_refused(
        client,
        vec![jc.cancel_job_getcall(&j6)],
        "JobStatusMismatch",
    )
    .await;
    p.jump(TIMEOUT + 10).await;
    let jc2 = p.jm(client2);
    assert_refused(
        client2,
        vec![
            p.tok(client2).approve_getcall(&ca(p.jobs), &u256(10 * E18)),
            jc2.dispute_result_getcall(&j4),
        ],
        "ChallengeWindowClosed",
    )
    .await;
    // Declining or submitting late, to dodge the expiry slash (defense: 'SubmissionOverdue').
    assert_refused(
        rival,
        vec![p.jm(rival).decline_job_getcall(&j6, &1)],
        "SubmissionOverdue",
    )
    .await;
    assert_refused(
        rival,
        vec![p.submit_call(j6, rival, "late")],
        "SubmissionOverdue",
    )
    .await;
    send(client, vec![p.jm(client).expire_getcall(&j6)]).await;
    assert_eq!(
        p.stake_of(ra).await,
        (0, 450 * E18),
        "the unbonding stake paid the slash"
    );

    // Being paid twice: finalizing or expiring a paid job, accepting it again (defense: 'JobStatusMismatch',
    // 'NotExpired').
    send(holder, vec![p.jm(holder).finalize_getcall(&j4)]).await;
    let before = everything().await;
    assert_refused(
        client2,
        vec![jc2.accept_result_getcall(&j4)],
        "JobStatusMismatch",
    )
    .await;
    assert_refused(
        holder,
        vec![p.jm(holder).finalize_getcall(&j4)],
        "JobStatusMismatch",
    )
    .await;
    assert_refused(holder, vec![p.jm(holder).expire_getcall(&j4)], "NotExpired").await;
    assert_eq!(everything().await, before);

    // A 1-wei job with 16 attempts whose spec cannot run: every expiry slashes its worker at most 2 wei (twice the
    // reward), and the client never receives more than its escrow back (defense: the slash is capped by the
    // reward and the compensation by a share of it).
    let client_start = p.balance(client.address()).await;
    let (w_start, w2_start) = (p.stake_of(wa).await.0, p.stake_of(w2a).await.0);
    let accrued_start = p.accrued().await;
    let jx = p.post(client, 1, far, 16, 0).await;
    for i in 0..16u64 {
        let who = if i % 2 == 0 { wa } else { w2a };
        let mut calls = Vec::new();
        if i > 0 {
            calls.push(jcoord.expire_getcall(&jx));
        }
        calls.push(jcoord.assign_getcall(&jx, &ca(who)));
        send(coordinator, calls).await;
        p.jump(TIMEOUT + 1).await;
    }
    send(coordinator, vec![jcoord.expire_getcall(&jx)]).await;
    assert_eq!(p.status(jx).await, jobs::JobStatus::Refunded);
    assert_eq!(
        p.balance(client.address()).await,
        client_start,
        "nothing beyond the escrow back"
    );
    assert_eq!(w_start - p.stake_of(wa).await.0, 16, "8 slashes of 2 wei");
    assert_eq!(w2_start - p.stake_of(w2a).await.0, 16, "8 slashes of 2 wei");
    assert_eq!(
        p.accrued().await - accrued_start,
        32,
        "beyond the compensation, all to the treasury"
    );

    // The same job met by honest workers who decline it: the client earns nothing, the workers pay nothing.
    let jy = p.post(client, 1, p.now().await + 30 * 86_400, 16, 0).await;
    let (w_start, w2_start) = (p.stake_of(wa).await.0, p.stake_of(w2a).await.0);
    let client_start = p.balance(client.address()).await;
    for i in 0..16u64 {
        let who = if i % 2 == 0 { w } else { w2 };
        p.assign(jy, who.address()).await;
        send(who, vec![p.jm(who).decline_job_getcall(&jy, &1)]).await;
    }
    assert_eq!(p.status(jy).await, jobs::JobStatus::Refunded);
    assert_eq!(p.balance(client.address()).await, client_start + 1);
    assert_eq!(
        (p.stake_of(wa).await.0, p.stake_of(w2a).await.0),
        (w_start, w2_start)
    );

    // Fees reach the treasury only: a stranger sweeping gets nothing (defense: the treasury is fixed).
    let sweeper = p.at(8);
    let (mine, treasury, accrued) = (
        p.balance(sweeper.address()).await,
        p.balance(p.timelock).await,
        p.accrued().await,
    );
    send(sweeper, vec![p.jm(sweeper).sweep_fees_getcall()]).await;
    assert_eq!(p.balance(sweeper.address()).await, mine);
    assert_eq!(p.balance(p.timelock).await, treasury + accrued);
    p.assert_conserved(&workers).await;
}

// ================================================================================================ random sequences

/// The fixed seed of the random sequence; `ACCORD_STARKNET_SEED` replays another.
const SEED: u64 = 0x5eed_acc0;
/// The second sequence's seed; `ACCORD_STARKNET_SEED2` replays another.
const SEED2: u64 = 0xacc0_5eed;
/// Actions attempted (sent or asserted refused); those too close to a time boundary to predict are skipped on top.
const STEPS: usize = 300;
/// Seconds within which a deadline or due time is too close to the chain's clock to predict which side a
/// transaction lands on.
const GUARD: u64 = 30;

/// Everything the conservation checks and the predictions read, through the contracts' views.
#[derive(Clone, Debug)]
struct Snap {
    now: u64,
    jobs: Vec<jobs::Job>,
    bonds: Vec<u128>,
    workers: Vec<registry::Worker>,
    balances: Vec<u128>,
    params: jobs::Params,
    penalties: jobs::Penalties,
    min_stake: u128,
    supply: u128,
}

impl Snap {
    fn job(&self, id: u64) -> Option<&jobs::Job> {
        (id >= 1).then(|| self.jobs.get(id as usize - 1)).flatten()
    }

    /// Whether `t` is too close to the clock to tell which side of it a transaction lands on.
    fn unsure(&self, t: u64) -> bool {
        t >= self.now && t <= self.now + GUARD
    }

    fn fee(&self, reward: u128) -> u128 {
        bps(reward, self.params.protocol_fee_bps.into())
    }

    fn slashable(&self, w: usize) -> u128 {
        amt(&self.workers[w].stake) + amt(&self.workers[w].pending)
    }

    /// The fault slash of worker `w` on a job paying `reward`.
    fn fault_slash(&self, w: usize, reward: u128) -> u128 {
        let by_share = bps(self.slashable(w), self.params.slash_share_bps.into());
        by_share.min(bps(reward, self.penalties.slash_reward_multiple_bps.into()))
    }
}

/// What a sent action must do: token balance changes, accrued fee change, stake changes, the statuses each touched
/// job may end in, and the skip reasons of a batch.
#[derive(Default, Debug)]
struct Expect {
    deltas: HashMap<Felt, i128>,
    accrued: i128,
    stakes: HashMap<usize, (i128, i128)>,
    statuses: Vec<(u64, Vec<jobs::JobStatus>)>,
    new_job: bool,
    skipped: Option<Vec<(u64, Felt, String)>>,
    bond: Option<(u64, u128)>,
    jailed: Option<(usize, bool)>,
    unbonding: Option<usize>,
}

impl Expect {
    fn pay(&mut self, from: Felt, to: Felt, amount: u128) {
        *self.deltas.entry(from).or_default() -= amount as i128;
        *self.deltas.entry(to).or_default() += amount as i128;
    }

    fn status(&mut self, id: u64, allowed: &[jobs::JobStatus]) {
        self.statuses.push((id, allowed.to_vec()));
    }

    /// A slash of `amount` from worker `w` (active stake first) sent to the job manager.
    fn slash(&mut self, s: &Snap, w: usize, amount: u128, registry: Felt, jobs: Felt) {
        let from_stake = amount.min(amt(&s.workers[w].stake));
        self.stakes
            .insert(w, (-(from_stake as i128), -((amount - from_stake) as i128)));
        self.pay(registry, jobs, amount);
    }
}

// One plan per step, consumed at once: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
enum Plan {
    /// Not attempted: nothing to pick, or too close to a time boundary.
    Skip,
    Refuse {
        from: usize,
        calls: Vec<Call>,
        reason: String,
    },
    Send {
        from: usize,
        calls: Vec<Call>,
        expect: Expect,
    },
}

/// The actors of the random sequence.
struct Cast {
    clients: Vec<usize>,
    workers: Vec<usize>,
    worker_at: Vec<Felt>,
    holders: Vec<Felt>,
}

impl Cast {
    fn worker_index(&self, a: Felt) -> Option<usize> {
        self.worker_at.iter().position(|w| *w == a)
    }
}

impl Proto {
    async fn snap(&self, cast: &Cast) -> Snap {
        // A fresh block: the clock read is the one the next transaction runs at (give or take the step's time).
        self.net.devnet.create_block().await.unwrap();
        let (jv, rv, tv) = (self.jobs_view(), self.registry_view(), self.token_view());
        let count = jv.job_count().call().await.unwrap();
        let jobs = join_all((1..=count).map(|id| {
            let jv = &jv;
            async move { jv.job_of(&id).call().await.unwrap() }
        }));
        let bonds = join_all((1..=count).map(|id| {
            let jv = &jv;
            async move { amt(&jv.dispute_bond_of(&id).call().await.unwrap()) }
        }));
        let workers = join_all(cast.worker_at.iter().map(|w| {
            let rv = &rv;
            async move { rv.worker_of(&ca(*w)).call().await.unwrap() }
        }));
        let balances = join_all(cast.holders.iter().map(|h| {
            let tv = &tv;
            async move { amt(&tv.balance_of(&ca(*h)).call().await.unwrap()) }
        }));
        let (jobs, bonds, workers, balances, params, penalties, min_stake, supply, now) = tokio::join!(
            jobs,
            bonds,
            workers,
            balances,
            jv.parameters().call(),
            jv.penalties().call(),
            rv.min_stake().call(),
            tv.total_supply().call(),
            self.now()
        );
        Snap {
            now,
            jobs,
            bonds,
            workers,
            balances,
            params: params.unwrap(),
            penalties: penalties.unwrap(),
            min_stake: amt(&min_stake.unwrap()),
            supply: amt(&supply.unwrap()),
        }
    }
}

/// A job id: one in `want` status most of the time, else any id up to one past the last (an unknown job).
fn pick_job(s: &Snap, rng: &mut rand::rngs::StdRng, want: impl Fn(&jobs::Job) -> bool) -> u64 {
    use rand::Rng;
    let matching: Vec<u64> = (1..=s.jobs.len() as u64)
        .filter(|id| want(&s.jobs[*id as usize - 1]))
        .collect();
    if !matching.is_empty() && rng.random_ratio(5, 6) {
        matching[rng.random_range(0..matching.len())]
    } else {
        rng.random_range(1..=s.jobs.len() as u64 + 1)
    }
}

/// A job and a worker to assign it to: an assignable pair most of the time, else any.
fn pick_pair(
    s: &Snap,
    rng: &mut rand::rngs::StdRng,
    statuses: &[jobs::JobStatus],
    workers: usize,
) -> (u64, usize) {
    use rand::Rng;
    let valid: Vec<(u64, usize)> = (1..=s.jobs.len() as u64)
        .flat_map(|id| (0..workers).map(move |w| (id, w)))
        .filter(|(id, w)| assign_reason(s, statuses, *id, *w) == Ok(None))
        .collect();
    if !valid.is_empty() && rng.random_ratio(4, 5) {
        valid[rng.random_range(0..valid.len())]
    } else {
        let id = pick_job(s, rng, |j| j.status == jobs::JobStatus::Open);
        (id, rng.random_range(0..workers))
    }
}

/// Why assigning job `id` to worker `w` fails (None: it succeeds), from the state `s` with job statuses
/// `statuses` (a batch sees its own earlier entries); Err when too close to a time boundary.
fn assign_reason(
    s: &Snap,
    statuses: &[jobs::JobStatus],
    id: u64,
    w: usize,
) -> Result<Option<&'static str>, ()> {
    let Some(job) = s.job(id) else {
        return Ok(Some("UnknownJob"));
    };
    if statuses[id as usize - 1] != jobs::JobStatus::Open {
        return Ok(Some("JobStatusMismatch"));
    }
    let window = s.params.min_submit_window;
    if s.unsure(job.deadline) || s.unsure(job.deadline.saturating_sub(window)) {
        return Err(());
    }
    if s.now >= job.deadline {
        return Ok(Some("JobDeadlinePassed"));
    }
    if job.deadline < s.now + window {
        return Ok(Some("DeadlineTooSoon"));
    }
    let r = &s.workers[w];
    Ok(if !r.registered {
        Some("NotRegistered")
    } else if r.jailed {
        Some("JailedWorker")
    } else if amt(&r.stake) < s.min_stake {
        Some("BelowMinStake")
    } else if r.capabilities & job.required_capabilities != job.required_capabilities {
        Some("MissingCapabilities")
    } else {
        None
    })
}

/// Whether a job handed back or expired now reopens; None when too close to the boundary.
fn reopens(s: &Snap, job: &jobs::Job) -> Option<bool> {
    let last = job.deadline.saturating_sub(s.params.min_submit_window);
    if s.unsure(last) {
        return None;
    }
    Some(job.attempts_left != 0 && s.now <= last)
}

/// Refusal helper: the refusal of `calls` from `from` with `reason`.
fn refuse(from: usize, calls: Vec<Call>, reason: &str) -> Plan {
    Plan::Refuse {
        from,
        calls,
        reason: reason.to_owned(),
    }
}

/// Plans one random action against the state `s`.
fn plan(p: &Proto, s: &Snap, cast: &Cast, rng: &mut rand::rngs::StdRng) -> (&'static str, Plan) {
    use jobs::JobStatus::{Assigned, Cancelled, Disputed, Open, Paid, Refunded, Submitted};
    use rand::Rng;
    let any_account = |rng: &mut rand::rngs::StdRng| rng.random_range(3..10usize);
    let client_of = |job: &jobs::Job| {
        p.net
            .signers
            .iter()
            .position(|x| x.address() == job.client.0)
            .unwrap()
    };
    let (jm_at, reg_at) = (p.jobs, p.registry);
    let live_jobs = s.jobs.iter().filter(|j| live(&j.status)).count();
    // An action with nothing to act on is drawn less often (it can then only be refused).
    let any = |pred: &dyn Fn(&jobs::Job) -> bool| s.jobs.iter().any(pred);
    let weight = |available: bool, w: u32| if available { w } else { w.div_ceil(5) };
    let statuses: Vec<_> = s.jobs.iter().map(|j| j.status.clone()).collect();
    let assignable = (1..=s.jobs.len() as u64)
        .any(|id| (0..cast.workers.len()).any(|w| assign_reason(s, &statuses, id, w) == Ok(None)));
    let working = any(&|j| j.status == Assigned && j.due > s.now + GUARD);
    let challengeable = any(&|j| j.status == Submitted && j.due > s.now + GUARD);
    let expirable = any(&|j| match j.status {
        Open => j.deadline < s.now,
        Assigned | Disputed => j.due < s.now,
        _ => false,
    });
    let unlocked = s
        .workers
        .iter()
        .any(|w| amt(&w.pending) > 0 && w.unlock_at < s.now);
    let weights: [(&str, u32); 16] = [
        ("post", if live_jobs > 12 { 3 } else { 14 }),
        ("cancel", weight(any(&|j| j.status == Open), 5)),
        ("assign", weight(assignable, 12)),
        ("assign_batch", weight(assignable, 5)),
        ("submit", weight(working, 12)),
        ("accept", weight(any(&|j| j.status == Submitted), 6)),
        ("dispute", weight(challengeable, 8)),
        (
            "resolve",
            weight(any(&|j| j.status == Disputed && j.due > s.now + GUARD), 8),
        ),
        ("decline", weight(working, 6)),
        (
            "finalize",
            weight(any(&|j| j.status == Submitted && j.due < s.now), 6),
        ),
        ("expire", weight(expirable, 9)),
        ("stake", 4),
        (
            "unstake",
            weight(s.workers.iter().any(|w| amt(&w.stake) > 0), 4),
        ),
        ("withdraw", weight(unlocked, 5)),
        ("jail", 4),
        ("sweep", weight(amt(&s.params.accrued_fees) > 0, 2)),
    ];
    let total: u32 = weights.iter().map(|w| w.1).sum::<u32>() + 12;
    let mut roll = rng.random_range(0..total);
    let mut kind = "time";
    for (k, w) in weights {
        if roll < w {
            kind = k;
            break;
        }
        roll -= w;
    }
    let plan = match kind {
        "post" => {
            let c = cast.clients[rng.random_range(0..cast.clients.len())];
            let client = p.at(c);
            let reward: u128 = match rng.random_range(0..20) {
                0 => 1,
                1..=9 => rng.random_range(1..=100 * E18),
                _ => rng.random_range(100 * E18..=5000 * E18),
            };
            let deadline = s.now + rng.random_range(60..=2 * 86_400u64);
            let attempts: u8 = rng.random_range(1..=4);
            let caps = [0u16, 0, 1, 1, 3, 7, 15][rng.random_range(0..7)];
            let post = |reward: u128, attempts: u8| {
                vec![p.jm(client).post_job_getcall(
                    &u256(7),
                    &text("ipfs://spec"),
                    &caps,
                    &u256(reward),
                    &deadline,
                    &attempts,
                )]
            };
            let balance = s.balances[cast
                .holders
                .iter()
                .position(|h| *h == client.address())
                .unwrap()];
            match rng.random_range(0..12) {
                0 => refuse(
                    c,
                    post(reward, [0, 17][rng.random_range(0..2)]),
                    "InvalidMaxAttempts",
                ),
                1 => refuse(c, post(0, attempts), "ZeroReward"),
                _ if reward > balance => {
                    refuse(c, post(reward, attempts), "ERC20: insufficient balance")
                }
                _ => {
                    let mut e = Expect {
                        new_job: true,
                        ..Default::default()
                    };
                    e.pay(client.address(), jm_at, reward);
                    Plan::Send {
                        from: c,
                        calls: post(reward, attempts),
                        expect: e,
                    }
                }
            }
        }
        "cancel" => {
            let id = pick_job(s, rng, |j| j.status == Open);
            let job = s.job(id);
            let from = match job {
                Some(j) if rng.random_ratio(7, 8) => client_of(j),
                _ => cast.clients[rng.random_range(0..cast.clients.len())],
            };
            let calls = vec![p.jm(p.at(from)).cancel_job_getcall(&id)];
            match job {
                None => refuse(from, calls, "UnknownJob"),
                Some(j) if j.status != Open => refuse(from, calls, "JobStatusMismatch"),
                Some(j) if j.client.0 != p.at(from).address() => refuse(from, calls, "NotClient"),
                Some(j) => {
                    let mut e = Expect::default();
                    e.pay(jm_at, j.client.0, amt(&j.reward));
                    e.status(id, &[Cancelled]);
                    Plan::Send {
                        from,
                        calls,
                        expect: e,
                    }
                }
            }
        }
        "assign" => {
            let statuses: Vec<_> = s.jobs.iter().map(|j| j.status.clone()).collect();
            let (id, w) = pick_pair(s, rng, &statuses, cast.workers.len());
            if rng.random_ratio(1, 10) {
                let from = cast.clients[0];
                refuse(
                    from,
                    vec![p.jm(p.at(from)).assign_getcall(&id, &ca(cast.worker_at[w]))],
                    MISSING_ROLE,
                )
            } else {
                let calls = vec![p.jm(p.at(1)).assign_getcall(&id, &ca(cast.worker_at[w]))];
                match assign_reason(s, &statuses, id, w) {
                    Err(()) => Plan::Skip,
                    Ok(Some(reason)) => refuse(1, calls, reason),
                    Ok(None) => {
                        let mut e = Expect::default();
                        e.status(id, &[Assigned]);
                        Plan::Send {
                            from: 1,
                            calls,
                            expect: e,
                        }
                    }
                }
            }
        }
        "assign_batch" => {
            let n = rng.random_range(1..=3);
            let mut statuses: Vec<_> = s.jobs.iter().map(|j| j.status.clone()).collect();
            let (mut ids, mut who, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
            let mut e = Expect::default();
            let mut unsure = false;
            for _ in 0..n {
                let (id, w) = pick_pair(s, rng, &statuses, cast.workers.len());
                match assign_reason(s, &statuses, id, w) {
                    Err(()) => unsure = true,
                    Ok(Some(reason)) => skipped.push((id, cast.worker_at[w], reason.to_owned())),
                    Ok(None) => {
                        statuses[id as usize - 1] = Assigned;
                        e.status(id, &[Assigned]);
                    }
                }
                ids.push(id);
                who.push(ca(cast.worker_at[w]));
            }
            e.skipped = Some(skipped);
            if unsure {
                Plan::Skip
            } else {
                Plan::Send {
                    from: 1,
                    calls: vec![p.jm(p.at(1)).assign_batch_getcall(&ids, &who)],
                    expect: e,
                }
            }
        }
        "submit" | "decline" => {
            let id = pick_job(s, rng, |j| j.status == Assigned && j.due > s.now + GUARD);
            let job = s.job(id);
            let from = match job {
                Some(j) if j.status == Assigned && rng.random_ratio(5, 6) => {
                    cast.workers[cast.worker_index(j.worker.0).unwrap()]
                }
                _ => cast.workers[rng.random_range(0..cast.workers.len())],
            };
            let signer = p.at(from);
            let declining = kind == "decline";
            let reason: u8 = if declining && rng.random_ratio(1, 10) {
                [0, 5][rng.random_range(0..2)]
            } else {
                rng.random_range(1..=4)
            };
            let calls = if declining {
                vec![p.jm(signer).decline_job_getcall(&id, &reason)]
            } else {
                vec![p.submit_call(id, signer, "local:result")]
            };
            match job {
                _ if declining && !(1..=4).contains(&reason) => {
                    refuse(from, calls, "InvalidDeclineReason")
                }
                None => refuse(from, calls, "UnknownJob"),
                Some(j) if j.status != Assigned => refuse(from, calls, "JobStatusMismatch"),
                Some(j) if j.worker.0 != signer.address() => {
                    refuse(from, calls, "NotAssignedWorker")
                }
                Some(j) if s.unsure(j.due) => Plan::Skip,
                Some(j) if s.now > j.due => refuse(from, calls, "SubmissionOverdue"),
                Some(_) if !declining => {
                    let mut e = Expect::default();
                    e.status(id, &[Submitted]);
                    Plan::Send {
                        from,
                        calls,
                        expect: e,
                    }
                }
                Some(j) => match reopens(s, j) {
                    None => Plan::Skip,
                    Some(reopen) => {
                        let w = cast.worker_index(j.worker.0).unwrap();
                        let reward = amt(&j.reward);
                        let fee =
                            bps(reward, s.penalties.decline_fee_bps.into()).min(s.slashable(w));
                        let mut e = Expect::default();
                        if fee > 0 {
                            e.slash(s, w, fee, reg_at, jm_at);
                            e.accrued = fee as i128;
                        }
                        if reopen {
                            e.status(id, &[Open]);
                        } else {
                            e.status(id, &[Refunded]);
                            e.pay(jm_at, j.client.0, reward);
                        }
                        Plan::Send {
                            from,
                            calls,
                            expect: e,
                        }
                    }
                },
            }
        }
        "accept" | "dispute" => {
            let id = if kind == "accept" {
                pick_job(s, rng, |j| j.status == Submitted)
            } else {
                pick_job(s, rng, |j| j.status == Submitted && j.due > s.now + GUARD)
            };
            let job = s.job(id);
            let from = match job {
                Some(j) if rng.random_ratio(6, 7) => client_of(j),
                _ => cast.clients[rng.random_range(0..cast.clients.len())],
            };
            let jm = p.jm(p.at(from));
            let calls = vec![if kind == "accept" {
                jm.accept_result_getcall(&id)
            } else {
                jm.dispute_result_getcall(&id)
            }];
            match job {
                None => refuse(from, calls, "UnknownJob"),
                Some(j) if j.status != Submitted => refuse(from, calls, "JobStatusMismatch"),
                Some(j) if j.client.0 != p.at(from).address() => refuse(from, calls, "NotClient"),
                Some(j) if kind == "accept" => {
                    let (reward, fee) = (amt(&j.reward), s.fee(amt(&j.reward)));
                    let mut e = Expect {
                        accrued: fee as i128,
                        ..Default::default()
                    };
                    e.pay(jm_at, j.worker.0, reward - fee);
                    e.status(id, &[Paid]);
                    Plan::Send {
                        from,
                        calls,
                        expect: e,
                    }
                }
                Some(j) if s.unsure(j.due) => Plan::Skip,
                Some(j) if s.now >= j.due => refuse(from, calls, "ChallengeWindowClosed"),
                Some(j) => {
                    let bond = bps(amt(&j.reward), s.penalties.dispute_bond_bps.into());
                    let balance =
                        s.balances[cast.holders.iter().position(|h| *h == j.client.0).unwrap()];
                    if bond > balance {
                        return (kind, refuse(from, calls, "ERC20: insufficient balance"));
                    }
                    let mut e = Expect {
                        bond: Some((id, bond)),
                        ..Default::default()
                    };
                    e.pay(j.client.0, jm_at, bond);
                    e.status(id, &[Disputed]);
                    Plan::Send {
                        from,
                        calls,
                        expect: e,
                    }
                }
            }
        }
        "resolve" => {
            let id = pick_job(s, rng, |j| j.status == Disputed && j.due > s.now + GUARD);
            let fault = rng.random_bool(0.5);
            let from = if rng.random_ratio(1, 8) { 1 } else { 2 };
            let calls = vec![p.jm(p.at(from)).resolve_dispute_getcall(&id, &fault)];
            match s.job(id) {
                _ if from != 2 => refuse(from, calls, MISSING_ROLE),
                None => refuse(from, calls, "UnknownJob"),
                Some(j) if j.status != Disputed => refuse(from, calls, "JobStatusMismatch"),
                Some(j) if s.unsure(j.due) => Plan::Skip,
                Some(j) if s.now > j.due => refuse(from, calls, "DisputePeriodOver"),
                Some(j) => {
                    let (reward, bond) = (amt(&j.reward), s.bonds[id as usize - 1]);
                    let mut e = Expect::default();
                    if fault {
                        let w = cast.worker_index(j.worker.0).unwrap();
                        e.pay(jm_at, j.client.0, reward + bond);
                        let slashed = s.fault_slash(w, reward);
                        if slashed > 0 {
                            e.slash(s, w, slashed, reg_at, jm_at);
                            let comp =
                                slashed.min(bps(reward, s.penalties.compensation_bps.into()));
                            e.pay(jm_at, j.client.0, comp);
                            e.accrued = (slashed - comp) as i128;
                        }
                        e.jailed = Some((w, true));
                        e.status(id, &[Refunded]);
                    } else {
                        let fee = s.fee(reward);
                        e.pay(jm_at, j.worker.0, reward - fee + bond);
                        e.accrued = fee as i128;
                        e.status(id, &[Paid]);
                    }
                    e.bond = Some((id, 0));
                    Plan::Send {
                        from,
                        calls,
                        expect: e,
                    }
                }
            }
        }
        "finalize" => {
            let id = pick_job(s, rng, |j| j.status == Submitted && j.due < s.now);
            let from = any_account(rng);
            let calls = vec![p.jm(p.at(from)).finalize_getcall(&id)];
            match s.job(id) {
                None => refuse(from, calls, "UnknownJob"),
                Some(j) if j.status != Submitted => refuse(from, calls, "JobStatusMismatch"),
                Some(j) if s.unsure(j.due) => Plan::Skip,
                Some(j) if s.now < j.due => refuse(from, calls, "ChallengeWindowOpen"),
                Some(j) => {
                    let (reward, fee) = (amt(&j.reward), s.fee(amt(&j.reward)));
                    let mut e = Expect {
                        accrued: fee as i128,
                        ..Default::default()
                    };
                    e.pay(jm_at, j.worker.0, reward - fee);
                    e.status(id, &[Paid]);
                    Plan::Send {
                        from,
                        calls,
                        expect: e,
                    }
                }
            }
        }
        "expire" => {
            let id = pick_job(s, rng, |j| match j.status {
                Open => j.deadline < s.now,
                Assigned | Disputed => j.due < s.now,
                _ => false,
            });
            let from = any_account(rng);
            let calls = vec![p.jm(p.at(from)).expire_getcall(&id)];
            match s.job(id) {
                None => refuse(from, calls, "UnknownJob"),
                Some(j) => {
                    let reward = amt(&j.reward);
                    let boundary = match j.status {
                        Open => Some(j.deadline),
                        Assigned | Disputed => Some(j.due),
                        _ => None,
                    };
                    let due = match (j.status.clone(), boundary) {
                        (_, Some(t)) if s.unsure(t) => None,
                        (Open, Some(t)) => Some(s.now >= t),
                        (_, Some(t)) => Some(s.now > t),
                        (_, None) => Some(false),
                    };
                    match due {
                        None => Plan::Skip,
                        Some(false) => refuse(from, calls, "NotExpired"),
                        Some(true) => {
                            let mut e = Expect::default();
                            match j.status {
                                Open => {
                                    e.pay(jm_at, j.client.0, reward);
                                    e.status(id, &[Refunded]);
                                }
                                Disputed => {
                                    let fee = s.fee(reward);
                                    e.pay(jm_at, j.worker.0, reward - fee);
                                    e.pay(jm_at, j.client.0, s.bonds[id as usize - 1]);
                                    e.accrued = fee as i128;
                                    e.bond = Some((id, 0));
                                    e.status(id, &[Paid]);
                                }
                                _ => {
                                    let Some(reopen) = reopens(s, j) else {
                                        return (kind, Plan::Skip);
                                    };
                                    if reopen {
                                        e.status(id, &[Open]);
                                    } else {
                                        e.pay(jm_at, j.client.0, reward);
                                        e.status(id, &[Refunded]);
                                    }
                                    let w = cast.worker_index(j.worker.0).unwrap();
                                    let slashed = s.fault_slash(w, reward);
                                    if slashed > 0 {
                                        e.slash(s, w, slashed, reg_at, jm_at);
                                        let comp = slashed
                                            .min(bps(reward, s.penalties.compensation_bps.into()));
                                        e.pay(jm_at, j.client.0, comp);
                                        e.accrued = (slashed - comp) as i128;
                                    }
                                }
                            }
                            Plan::Send {
                                from,
                                calls,
                                expect: e,
                            }
                        }
                    }
                }
            }
        }
        "stake" => {
            let w = rng.random_range(0..cast.workers.len());
            let from = cast.workers[w];
            let amount = if rng.random_ratio(1, 12) {
                0
            } else {
                rng.random_range(1..=300 * E18)
            };
            let calls = vec![p.reg(p.at(from)).stake_getcall(&u256(amount))];
            let balance = s.balances[cast
                .holders
                .iter()
                .position(|h| *h == cast.worker_at[w])
                .unwrap()];
            if amount == 0 {
                refuse(from, calls, "ZeroAmount")
            } else if amount > balance {
                refuse(from, calls, "ERC20: insufficient balance")
            } else {
                let mut e = Expect::default();
                e.pay(cast.worker_at[w], reg_at, amount);
                e.stakes.insert(w, (amount as i128, 0));
                Plan::Send {
                    from,
                    calls,
                    expect: e,
                }
            }
        }
        "unstake" => {
            let w = rng.random_range(0..cast.workers.len());
            let from = cast.workers[w];
            let stake = amt(&s.workers[w].stake);
            let amount = match rng.random_range(0..10) {
                0 => stake + 1,
                1 => 0,
                _ if stake == 0 => 1,
                _ => rng.random_range(1..=stake),
            };
            let calls = vec![p.reg(p.at(from)).request_unstake_getcall(&u256(amount))];
            if amount == 0 {
                refuse(from, calls, "ZeroAmount")
            } else if amount > stake {
                refuse(from, calls, "UnstakeExceedsStake")
            } else {
                let mut e = Expect {
                    unbonding: Some(w),
                    ..Default::default()
                };
                e.stakes.insert(w, (-(amount as i128), amount as i128));
                Plan::Send {
                    from,
                    calls,
                    expect: e,
                }
            }
        }
        "withdraw" => {
            let w = rng.random_range(0..cast.workers.len());
            let from = cast.workers[w];
            let r = &s.workers[w];
            let pending = amt(&r.pending);
            let calls = vec![p.reg(p.at(from)).withdraw_getcall()];
            if pending == 0 {
                refuse(from, calls, "NothingToWithdraw")
            } else if s.unsure(r.unlock_at) {
                Plan::Skip
            } else if s.now < r.unlock_at {
                refuse(from, calls, "StillUnbonding")
            } else {
                let mut e = Expect::default();
                e.pay(reg_at, cast.worker_at[w], pending);
                e.stakes.insert(w, (0, -(pending as i128)));
                Plan::Send {
                    from,
                    calls,
                    expect: e,
                }
            }
        }
        "jail" => {
            let w = rng.random_range(0..cast.workers.len());
            let jailed = s.workers[w].jailed;
            let jail = rng.random_ratio(1, 3);
            let reg = p.reg(p.at(2));
            let target = ca(cast.worker_at[w]);
            let calls = vec![if jail {
                reg.jail_getcall(&target)
            } else {
                reg.unjail_getcall(&target)
            }];
            match (jail, jailed) {
                (true, true) => refuse(2, calls, "AlreadyJailed"),
                (false, false) => refuse(2, calls, "NotJailed"),
                _ => Plan::Send {
                    from: 2,
                    calls,
                    expect: Expect {
                        jailed: Some((w, jail)),
                        ..Default::default()
                    },
                },
            }
        }
        "sweep" => {
            let from = any_account(rng);
            let calls = vec![p.jm(p.at(from)).sweep_fees_getcall()];
            let accrued = amt(&s.params.accrued_fees);
            if accrued == 0 {
                refuse(from, calls, "NoFees")
            } else {
                let mut e = Expect {
                    accrued: -(accrued as i128),
                    ..Default::default()
                };
                e.pay(jm_at, p.timelock, accrued);
                Plan::Send {
                    from,
                    calls,
                    expect: e,
                }
            }
        }
        _ => Plan::Skip,
    };
    (kind, plan)
}

/// The next moment after the guard at which some rule flips: a job's deadline (or the last moment it can be
/// assigned), a due time, an unlock time.
fn next_boundary(s: &Snap) -> Option<u64> {
    use jobs::JobStatus::{Assigned, Disputed, Open, Submitted};
    let window = s.params.min_submit_window;
    let jobs = s.jobs.iter().flat_map(|j| match j.status {
        Open => vec![j.deadline, j.deadline.saturating_sub(window)],
        Assigned => vec![j.due, j.deadline.saturating_sub(window)],
        Submitted | Disputed => vec![j.due],
        _ => vec![],
    });
    let unlocks = s
        .workers
        .iter()
        .filter(|w| amt(&w.pending) > 0)
        .map(|w| w.unlock_at);
    jobs.chain(unlocks).filter(|t| *t > s.now + GUARD).min()
}

/// Allowed status edges (the graph in `jobs.cairo`).
fn edge_allowed(from: &jobs::JobStatus, to: &jobs::JobStatus) -> bool {
    use jobs::JobStatus::*;
    from == to
        || matches!(
            (from, to),
            (Open, Assigned | Cancelled | Refunded)
                | (Assigned, Submitted | Open | Refunded)
                | (Submitted, Paid | Disputed)
                | (Disputed, Paid | Refunded)
        )
}

/// The protocol-wide invariants of `contracts/test/invariant/`, on one snapshot.
fn check_invariants(p: &Proto, s: &Snap, cast: &Cast, swept: u128, step: usize) {
    let at = |a: Felt| s.balances[cast.holders.iter().position(|h| *h == a).unwrap()];
    let (mut escrow, mut bonds) = (0, 0);
    for (i, job) in s.jobs.iter().enumerate() {
        if live(&job.status) {
            escrow += amt(&job.reward);
        }
        if job.status == jobs::JobStatus::Disputed {
            bonds += s.bonds[i];
        } else {
            assert_eq!(
                s.bonds[i],
                0,
                "step {step}: job {} holds a bond outside a dispute",
                i + 1
            );
        }
    }
    let accrued = amt(&s.params.accrued_fees);
    assert_eq!(
        at(p.jobs),
        escrow + bonds + accrued,
        "step {step}: job manager balance = escrow + bonds + fees"
    );
    let staked: u128 = (0..s.workers.len()).map(|w| s.slashable(w)).sum();
    assert_eq!(
        at(p.registry),
        staked,
        "step {step}: registry balance = stakes + pending"
    );
    assert_eq!(
        at(p.timelock),
        swept,
        "step {step}: treasury balance = swept fees"
    );
    assert_eq!(s.supply, SUPPLY, "step {step}: total supply");
    assert_eq!(
        s.balances.iter().sum::<u128>(),
        SUPPLY,
        "step {step}: every token is somewhere"
    );
}

/// Checks a sent action's effects between two snapshots.
fn check_effects(before: &Snap, after: &Snap, e: &Expect, cast: &Cast, step: usize, kind: &str) {
    let ctx = format!("step {step} ({kind})");
    assert_eq!(
        after.jobs.len(),
        before.jobs.len() + usize::from(e.new_job),
        "{ctx}: job count"
    );
    for (i, h) in cast.holders.iter().enumerate() {
        let delta = after.balances[i] as i128 - before.balances[i] as i128;
        assert_eq!(
            delta,
            e.deltas.get(h).copied().unwrap_or(0),
            "{ctx}: balance of {h:#x}"
        );
    }
    let accrued =
        amt(&after.params.accrued_fees) as i128 - amt(&before.params.accrued_fees) as i128;
    assert_eq!(accrued, e.accrued, "{ctx}: accrued fees");
    for w in 0..cast.workers.len() {
        let (b, a) = (&before.workers[w], &after.workers[w]);
        let delta = (
            amt(&a.stake) as i128 - amt(&b.stake) as i128,
            amt(&a.pending) as i128 - amt(&b.pending) as i128,
        );
        assert_eq!(
            delta,
            e.stakes.get(&w).copied().unwrap_or((0, 0)),
            "{ctx}: stake of worker {w}"
        );
        let jailed = match e.jailed {
            Some((x, j)) if x == w => j,
            _ => b.jailed,
        };
        assert_eq!(a.jailed, jailed, "{ctx}: jail of worker {w}");
        assert_eq!(
            (a.registered, a.capabilities),
            (b.registered, b.capabilities),
            "{ctx}: worker {w}"
        );
        if e.unbonding == Some(w) {
            assert!(
                a.unlock_at >= before.now + UNBONDING,
                "{ctx}: unlock time restarts"
            );
        } else if !(amt(&a.pending) == 0 && a.unlock_at == 0) {
            assert_eq!(a.unlock_at, b.unlock_at, "{ctx}: unlock time of worker {w}");
        }
    }
    for (i, b) in before.jobs.iter().enumerate() {
        let id = i as u64 + 1;
        let a = &after.jobs[i];
        match e.statuses.iter().find(|(x, _)| *x == id) {
            Some((_, allowed)) => {
                assert!(
                    allowed.contains(&a.status),
                    "{ctx}: job {id} went {:?} -> {:?}, expected {allowed:?}",
                    b.status,
                    a.status
                );
                assert!(
                    edge_allowed(&b.status, &a.status),
                    "{ctx}: job {id} moved {:?} -> {:?}",
                    b.status,
                    a.status
                );
                assert_eq!(
                    (&a.client, &a.reward, a.deadline),
                    (&b.client, &b.reward, b.deadline),
                    "{ctx}: job {id}"
                );
                if a.status == jobs::JobStatus::Assigned {
                    assert_eq!(
                        a.attempts_left + 1,
                        b.attempts_left,
                        "{ctx}: an assignment uses an attempt"
                    );
                    assert!(
                        a.due <= a.deadline && a.due > before.now,
                        "{ctx}: due within the deadline"
                    );
                    assert!(
                        a.deadline >= before.now + before.params.min_submit_window,
                        "{ctx}: assigned with the window"
                    );
                }
                if a.status == jobs::JobStatus::Open {
                    assert_eq!(
                        (a.worker.0, a.due),
                        (Felt::ZERO, 0),
                        "{ctx}: reopened job {id}"
                    );
                }
            }
            None => assert_eq!(a, b, "{ctx}: job {id} was not touched"),
        }
        let bond = match e.bond {
            Some((x, v)) if x == id => v,
            _ => before.bonds[i],
        };
        assert_eq!(after.bonds[i], bond, "{ctx}: bond of job {id}");
    }
    if e.new_job {
        let job = after.jobs.last().unwrap();
        assert_eq!(
            (job.status.clone(), job.worker.0, job.due),
            (jobs::JobStatus::Open, Felt::ZERO, 0),
            "{ctx}: new job"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_sequences_conserve_every_token() {
    let seed = std::env::var("ACCORD_STARKNET_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED);
    random_sequence(seed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_sequences_conserve_every_token_second_seed() {
    let seed = std::env::var("ACCORD_STARKNET_SEED2")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED2);
    random_sequence(seed).await;
}

/// Runs `STEPS` random actions from `seed` over three clients and four workers, checking after each step the
/// action's exact effects, the protocol-wide invariants and the clients' bounded receipts.
async fn random_sequence(seed: u64) {
    use rand::{Rng, SeedableRng};
    println!("random sequence seed: {seed} (replay with ACCORD_STARKNET_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let p = Proto::start().await;
    let clients = vec![5usize, 6, 7];
    let workers = vec![3usize, 4, 8, 9];
    let mut holders: Vec<Felt> = p.net.signers.iter().map(|s| s.address()).collect();
    holders.extend([p.jobs, p.registry, p.timelock]);
    let cast = Cast {
        worker_at: workers.iter().map(|i| p.at(*i).address()).collect(),
        clients,
        workers,
        holders,
    };
    let unlimited = U256 {
        low: u128::MAX,
        high: u128::MAX,
    };
    p.fund(
        &cast
            .clients
            .iter()
            .map(|i| p.at(*i).address())
            .collect::<Vec<_>>(),
        1_000_000 * E18,
    )
    .await;
    p.fund(&cast.worker_at, 10_000 * E18).await;
    for c in &cast.clients {
        let s = p.at(*c);
        send(s, vec![p.tok(s).approve_getcall(&ca(p.jobs), &unlimited)]).await;
    }
    for (i, w) in cast.workers.iter().enumerate() {
        let s = p.at(*w);
        let caps = 0x0f >> i;
        send(
            s,
            vec![
                p.tok(s).approve_getcall(&ca(p.registry), &unlimited),
                p.reg(s)
                    .register_getcall(&caps, &text("https://worker.example")),
                p.reg(s).stake_getcall(&u256(500 * E18)),
            ],
        )
        .await;
    }

    let started = Instant::now();
    let mut counts: std::collections::BTreeMap<&str, [usize; 3]> = Default::default();
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    let (mut done, mut swept, mut step) = (0, 0u128, 0);
    // What each job's client has received minus what it paid in, over the job's life.
    let mut client_net: HashMap<u64, i128> = HashMap::new();
    let mut max_attempts: HashMap<u64, u8> = HashMap::new();
    let mut s = p.snap(&cast).await;
    check_invariants(&p, &s, &cast, swept, 0);
    while done < STEPS {
        step += 1;
        assert!(step < STEPS * 4, "too many actions skipped");
        let (kind, action) = plan(&p, &s, &cast, &mut rng);
        let tally = counts.entry(kind).or_default();
        match action {
            Plan::Skip if kind == "time" => {
                // Often just past (or just short of) the next deadline, due time or unlock time, where the
                // rules change; otherwise a few minutes, hours or days.
                let next = next_boundary(&s).filter(|_| rng.random_ratio(2, 5));
                let secs = match (next, rng.random_range(0..10)) {
                    (Some(t), 0..=6) => t - s.now + rng.random_range(1..=120),
                    (Some(t), _) if t - s.now > 150 => {
                        t - s.now - rng.random_range(GUARD + 1..=120)
                    }
                    (_, 0) => rng.random_range(86_400..=12 * 86_400),
                    (_, 1 | 2) => rng.random_range(900..=3 * 3600),
                    _ => rng.random_range(30..=900),
                };
                p.jump(secs).await;
                s.now = p.now().await;
                tally[0] += 1;
                done += 1;
            }
            Plan::Skip => {
                tally[2] += 1;
                continue;
            }
            Plan::Refuse {
                from,
                calls,
                reason,
            } => {
                let error = refused(p.at(from), calls).await;
                assert!(
                    error.contains(&reason) || error.contains(&short_hex(&reason)),
                    "step {step} ({kind}): expected the refusal {reason:?}, got: {error}"
                );
                // Nothing was sent: only the clock moves.
                p.net.devnet.create_block().await.unwrap();
                s.now = p.now().await;
                *reasons.entry(reason).or_default() += 1;
                tally[1] += 1;
                done += 1;
            }
            Plan::Send {
                from,
                calls,
                expect,
            } => {
                let receipt = send(p.at(from), calls).await;
                let after = p.snap(&cast).await;
                check_effects(&s, &after, &expect, &cast, step, kind);
                if let Some(skipped) = &expect.skipped {
                    assert_eq!(
                        &p.skipped(&receipt),
                        skipped,
                        "step {step}: batch skip reasons"
                    );
                }
                if expect.new_job {
                    let id = after.jobs.len() as u64;
                    max_attempts.insert(id, after.jobs[id as usize - 1].attempts_left);
                }
                // Attribute the clients' balance changes to the job the action touched (a batch moves no tokens).
                let touched = if expect.new_job {
                    Some(after.jobs.len() as u64)
                } else {
                    expect.statuses.first().map(|x| x.0)
                };
                if let Some(id) = touched {
                    let client = after.jobs[id as usize - 1].client.0;
                    let i = cast.holders.iter().position(|h| *h == client).unwrap();
                    *client_net.entry(id).or_default() +=
                        after.balances[i] as i128 - s.balances[i] as i128;
                }
                swept += expect.deltas.get(&p.timelock).copied().unwrap_or(0) as u128;
                s = after;
                tally[0] += 1;
                done += 1;
            }
        }
        check_invariants(&p, &s, &cast, swept, step);
        // A client's receipts from a job never exceed its escrow back plus, per attempt used, the compensation cap.
        for (id, net) in &client_net {
            let job = &s.jobs[*id as usize - 1];
            let used = (max_attempts[id] - job.attempts_left) as i128;
            let cap = used * bps(amt(&job.reward), s.penalties.compensation_bps.into()) as i128;
            match job.status {
                jobs::JobStatus::Refunded | jobs::JobStatus::Cancelled => {
                    assert!(
                        *net <= cap,
                        "step {step}: job {id}'s client gained {net} > {cap}"
                    )
                }
                _ => assert!(
                    *net <= 0,
                    "step {step}: job {id}'s client gained {net} while the job is live or paid"
                ),
            }
        }
    }
    let elapsed = started.elapsed();
    println!(
        "random sequence: {done} actions ({step} drawn) in {:.1} s; per kind [sent, refused, skipped]:",
        elapsed.as_secs_f64()
    );
    for (kind, [sent, refused, skipped]) in &counts {
        println!("  {kind:<13} {sent:>4} {refused:>4} {skipped:>4}");
    }
    let statuses: Vec<_> = s.jobs.iter().map(|j| format!("{:?}", j.status)).collect();
    println!("  final job statuses: {statuses:?}");
    println!("  refusals asserted: {reasons:?}");
    // The chain's clock runs on while the sequence does, so a seed replays the same draws but not always the same
    // outcomes: only the life cycle's core must have happened; the rest is reported.
    let succeeded = |kind: &str| counts.get(kind).is_some_and(|c| c[0] > 0);
    for kind in ["post", "assign", "submit", "expire", "time"] {
        assert!(
            succeeded(kind),
            "the sequence never ran a successful {kind}"
        );
    }
    assert!(
        ["accept", "finalize", "resolve"].into_iter().any(succeeded),
        "the sequence never paid a worker"
    );
    let never: Vec<&str> = counts.keys().copied().filter(|k| !succeeded(k)).collect();
    if !never.is_empty() {
        println!("  never succeeded in this sequence: {never:?}");
    }
}
