//! The coordinator's writes on a Starknet chain: [`StarknetCoordinator`] implements [`CoordinatorChain`] with the
//! job manager's `assign_batch`, `expire` and `finalize`, sent from the coordinator's account contract. Nonces
//! are kept here, so several batches can be in flight at once; fees are the node's estimate (resource bounds
//! with starknet-rs's safety margins). The outcome of each batch entry is read from the receipt's events through
//! the committed ABI.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use starknet::accounts::{Account, ConnectedAccount};
use starknet::core::types::{
    BlockId, BlockTag, Call, Felt, MaybePreConfirmedBlockWithTxHashes, TransactionReceipt,
    TransactionReceiptWithBlockInfo,
};
use starknet::providers::Provider;

use super::abi::ContractAbi;
use super::bindings::jobs;
use super::signer::{Nonces, Signer, wait_for};
use crate::chain::actions::{BatchOutcome, Chore, CoordinatorChain, Included, SendError, SendStep};
use crate::domain::{Address, Family, JobId};

/// How long a transaction may go without a receipt before the send is reported as possibly still landing.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Sends the coordinator's transactions to one deployment's job manager.
pub struct StarknetCoordinator {
    account: Arc<Signer>,
    job_manager: Felt,
    abi: ContractAbi,
    /// The account's nonces, handed out locally.
    nonces: Nonces,
}

fn send_error(message: impl std::fmt::Display, may_still_land: bool) -> SendError {
    SendError {
        message: message.to_string(),
        may_still_land,
    }
}

fn job_felt(job: JobId) -> Result<u64, SendError> {
    u64::try_from(job.0)
        .map_err(|_| send_error(format!("job {job} exceeds a Starknet job id"), false))
}

impl StarknetCoordinator {
    /// Sends from `account` (which must hold the job manager's COORDINATOR_ROLE) to the job manager of
    /// `manifest`.
    pub fn new(account: Signer, manifest: &crate::deployment::Manifest) -> anyhow::Result<Self> {
        let deployment = super::Deployment::of(manifest).map_err(anyhow::Error::msg)?;
        Ok(Self {
            account: Arc::new(account),
            job_manager: deployment.address("JobManager"),
            abi: super::classes::abi("JobManager").map_err(anyhow::Error::msg)?,
            nonces: Nonces::default(),
        })
    }

    /// Sends `calls` with the next nonce, reporting the steps; waits for the receipt.
    async fn send(
        &self,
        calls: Vec<Call>,
        mut observe: impl FnMut(SendStep) + Send,
    ) -> Result<TransactionReceiptWithBlockInfo, SendError> {
        observe(SendStep::Broadcasting);
        let hash = self
            .nonces
            .send(&self.account, calls)
            .await
            .map_err(|e| send_error(format!("the node refused the transaction: {e}"), false))?;
        observe(SendStep::Accepted(format!("{hash:#066x}")));
        wait_for(self.account.provider(), hash, RECEIPT_TIMEOUT)
            .await
            .map_err(|e| send_error(e, true))
    }

    /// The job manager's `JobAssigned`, `ReplicaAssigned` and `AssignmentSkipped` events in `receipt`.
    fn batch_outcome(&self, receipt: &TransactionReceiptWithBlockInfo) -> BatchOutcome {
        let mut assigned = HashSet::new();
        let mut skipped = HashMap::new();
        let events = match &receipt.receipt {
            TransactionReceipt::Invoke(r) => r.events.as_slice(),
            _ => &[],
        };
        for event in events.iter().filter(|e| e.from_address == self.job_manager) {
            let Ok(Some(decoded)) = self.abi.decode(&event.keys, &event.data) else {
                continue;
            };
            let Some(job) = decoded.args["job_id"]
                .as_str()
                .and_then(|j| j.parse::<u64>().ok())
                .map(|j| JobId(crate::domain::U256::from(j)))
            else {
                continue;
            };
            let Some(worker) = decoded.args["worker"]
                .as_str()
                .and_then(|w| Address::parse(Family::Starknet, w).ok())
            else {
                continue;
            };
            let job = (job, worker);
            match decoded.name.as_str() {
                "JobAssigned" | "ReplicaAssigned" => {
                    assigned.insert(job);
                }
                "AssignmentSkipped" => {
                    let reason = decoded.args["reason"]
                        .as_str()
                        .and_then(|r| Felt::from_hex(r).ok())
                        .and_then(|f| starknet::core::utils::parse_cairo_short_string(&f).ok())
                        .unwrap_or_else(|| "unknown reason".into());
                    skipped.insert(job, reason);
                }
                _ => {}
            }
        }
        BatchOutcome {
            included: included(receipt),
            assigned,
            skipped,
        }
    }
}

fn included(receipt: &TransactionReceiptWithBlockInfo) -> Included {
    Included {
        tx: format!("{:#066x}", receipt.receipt.transaction_hash()),
        block: Some(receipt.block.block_number()),
    }
}

impl CoordinatorChain for StarknetCoordinator {
    /// Fees are estimated by the node for each transaction.
    type Price = ();

    fn family(&self) -> Family {
        Family::Starknet
    }

    fn account(&self) -> Address {
        Address::parse(Family::Starknet, &format!("{:#x}", self.account.address()))
            .expect("a felt is a Starknet address")
    }

    async fn clock(&self) -> anyhow::Result<u64> {
        match self
            .account
            .provider()
            .get_block_with_tx_hashes(BlockId::Tag(BlockTag::Latest))
            .await?
        {
            MaybePreConfirmedBlockWithTxHashes::Block(b) => Ok(b.timestamp),
            MaybePreConfirmedBlockWithTxHashes::PreConfirmedBlock(b) => Ok(b.timestamp),
        }
    }

    async fn price(&self) -> Option<()> {
        Some(())
    }

    async fn assign_batch(
        &self,
        entries: &[(JobId, Address)],
        _price: Option<()>,
        observe: impl FnMut(SendStep) + Send,
    ) -> Result<BatchOutcome, SendError> {
        let mut ids = Vec::with_capacity(entries.len());
        let mut workers = Vec::with_capacity(entries.len());
        for (job, worker) in entries {
            ids.push(job_felt(*job)?);
            let felt = super::offchain::felt_of(worker).map_err(|e| send_error(e, false))?;
            workers.push(cainome::cairo_serde::ContractAddress(felt));
        }
        let jm = jobs::JobManager::new(self.job_manager, self.account.as_ref());
        let receipt = self
            .send(vec![jm.assign_batch_getcall(&ids, &workers)], observe)
            .await?;
        Ok(self.batch_outcome(&receipt))
    }

    async fn settle(&self, chore: Chore, job: JobId) -> Result<Included, SendError> {
        let id = job_felt(job)?;
        let jm = jobs::JobManager::new(self.job_manager, self.account.as_ref());
        let call = match chore {
            Chore::Finalize => jm.finalize_getcall(&id),
            Chore::Expire => jm.expire_getcall(&id),
        };
        let receipt = self.send(vec![call], |_| {}).await?;
        Ok(included(&receipt))
    }
}
