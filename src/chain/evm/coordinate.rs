//! The coordinator's writes on an EVM chain: [`EvmCoordinator`] implements [`CoordinatorChain`] with the job
//! manager's `assignBatch`, `expire` and `finalize`, sent by a [`TxSender`] (nonces, EIP-1559 fees, replacement
//! of stuck transactions), and reads the chain clock from the latest block.

use std::collections::{HashMap, HashSet};

use alloy::primitives::Address as EvmAddress;
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::{SolCall, SolEvent};

use super::bindings::JobManager;
use crate::chain::actions::{BatchOutcome, Chore, CoordinatorChain, Included, SendError, SendStep};
use crate::chain::evm::wallet::{Fees, TxError, TxSender, decode_revert};
use crate::domain::{Address, Family, JobId};

/// Sends the coordinator's transactions to one deployment's job manager.
#[derive(Debug, Clone)]
pub struct EvmCoordinator {
    sender: TxSender,
    job_manager: EvmAddress,
    /// Gas limit of a batch: `batch_base_gas + gas_per_assignment × entries`.
    batch_base_gas: u64,
    gas_per_assignment: u64,
}

impl EvmCoordinator {
    /// Sends from `sender` (which must hold COORDINATOR_ROLE) to `job_manager`; a batch of `n` entries gets the
    /// gas limit `batch_base_gas + gas_per_assignment × n`.
    pub fn new(
        sender: TxSender,
        job_manager: EvmAddress,
        batch_base_gas: u64,
        gas_per_assignment: u64,
    ) -> Self {
        Self {
            sender,
            job_manager,
            batch_base_gas,
            gas_per_assignment,
        }
    }

    /// Connects a sender for `key` to the node at `rpc_url` for the job manager of `manifest` (the account must
    /// hold its COORDINATOR_ROLE), with the batch gas formula of [`new`](Self::new).
    pub async fn connect(
        rpc_url: &str,
        key: super::Key,
        manifest: &crate::deployment::Manifest,
        batch_base_gas: u64,
        gas_per_assignment: u64,
    ) -> anyhow::Result<Self> {
        use anyhow::Context;
        let job_manager = super::Deployment::of(manifest)
            .map_err(anyhow::Error::msg)?
            .job_manager;
        let sender = TxSender::connect(
            rpc_url,
            key,
            crate::chain::evm::wallet::SenderConfig::default(),
        )
        .await
        .context("cannot set up the coordinator's transaction sender")?;
        Ok(Self::new(
            sender,
            job_manager,
            batch_base_gas,
            gas_per_assignment,
        ))
    }

    /// The job manager's `JobAssigned`, `ReplicaAssigned` and `AssignmentSkipped` events in `receipt`.
    fn batch_outcome(&self, receipt: &TransactionReceipt) -> BatchOutcome {
        let mut assigned = HashSet::new();
        let mut skipped = HashMap::new();
        for log in receipt.inner.logs() {
            if log.address() != self.job_manager {
                continue;
            }
            if let Ok(e) = JobManager::JobAssigned::decode_log(&log.inner) {
                assigned.insert((JobId(e.jobId), super::domain_address(e.worker)));
            } else if let Ok(e) = JobManager::ReplicaAssigned::decode_log(&log.inner) {
                assigned.insert((JobId(e.jobId), super::domain_address(e.worker)));
            } else if let Ok(e) = JobManager::AssignmentSkipped::decode_log(&log.inner) {
                skipped.insert(
                    (JobId(e.jobId), super::domain_address(e.worker)),
                    decode_revert(&e.reason).to_string(),
                );
            }
        }
        BatchOutcome {
            included: included(receipt),
            assigned,
            skipped,
        }
    }
}

fn included(receipt: &TransactionReceipt) -> Included {
    Included {
        tx: format!("{:#x}", receipt.transaction_hash),
        block: receipt.block_number,
    }
}

fn send_error(e: TxError) -> SendError {
    SendError {
        may_still_land: matches!(e, TxError::Timeout { .. }),
        message: e.to_string(),
    }
}

/// An address of the index (EVM normal form) as alloy's.
fn evm_address(address: &Address) -> Result<EvmAddress, SendError> {
    address.as_str().parse().map_err(|_| SendError {
        message: format!("{address} is not an EVM address"),
        may_still_land: false,
    })
}

impl CoordinatorChain for EvmCoordinator {
    type Price = Fees;

    fn family(&self) -> Family {
        Family::Evm
    }

    fn account(&self) -> Address {
        super::domain_address(self.sender.address())
    }

    async fn clock(&self) -> anyhow::Result<u64> {
        super::ops::chain_time(&self.sender).await
    }

    async fn price(&self) -> Option<Fees> {
        self.sender.estimate_fees().await.ok()
    }

    async fn assign_batch(
        &self,
        entries: &[(JobId, Address)],
        price: Option<Fees>,
        mut observe: impl FnMut(SendStep) + Send,
    ) -> Result<BatchOutcome, SendError> {
        let call = JobManager::assignBatchCall {
            jobIds: entries.iter().map(|(job, _)| job.0).collect(),
            workers: entries
                .iter()
                .map(|(_, worker)| evm_address(worker))
                .collect::<Result<_, _>>()?,
        };
        let gas = self.batch_base_gas + self.gas_per_assignment * entries.len() as u64;
        let receipt = self
            .sender
            .send_with_gas_observed(
                self.job_manager,
                call.abi_encode().into(),
                gas,
                price,
                |step| match step {
                    crate::chain::evm::wallet::sender::SendStep::Broadcasting(_) => {
                        observe(SendStep::Broadcasting)
                    }
                    crate::chain::evm::wallet::sender::SendStep::Accepted(hash) => {
                        observe(SendStep::Accepted(format!("{hash:#x}")))
                    }
                },
            )
            .await
            .map_err(send_error)?;
        Ok(self.batch_outcome(&receipt))
    }

    async fn settle(&self, chore: Chore, job: JobId) -> Result<Included, SendError> {
        let input = match chore {
            Chore::Finalize => JobManager::finalizeCall { jobId: job.0 }.abi_encode(),
            Chore::Expire => JobManager::expireCall { jobId: job.0 }.abi_encode(),
        };
        let receipt = self
            .sender
            .send(self.job_manager, input.into())
            .await
            .map_err(send_error)?;
        Ok(included(&receipt))
    }
}
