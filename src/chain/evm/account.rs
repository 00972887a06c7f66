//! An account on an EVM deployment: [`EvmAccount`] implements the protocol's account traits
//! ([`crate::chain::account`]) with the contracts' calls of [`super::ops`], sent by a [`TxSender`], and signs
//! off-chain messages as EIP-712 typed data under the deployment's domain.

use std::sync::Arc;

use alloy::primitives::{Address as EvmAddress, B256, Bytes};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::Eip712Domain;
use anyhow::Context;

use super::Key;
use super::bindings::{JobManager, WorkerRegistry};
use super::ops::{self, Deployment};
use super::wallet::{SenderConfig, SignerArgs, TxSender};
use crate::chain::account::{
    Account, ClientActions, GovernanceActions, Included, JobOnChain, NewJob, Pending, Proposal,
    ProposalCall, Settle, Support, Wallet, WorkerActions,
};
use crate::domain::BlobRef;
use crate::domain::{Address, Amount, ChainId, Family, JobId, ProposalId};
use crate::offchain::Message;

/// One key's account on one EVM deployment.
#[derive(Debug, Clone)]
pub struct EvmAccount {
    sender: TxSender,
    key: Key,
    deployment: Deployment,
    domain: Eip712Domain,
}

/// Where a receipt's transaction landed.
fn included(receipt: &TransactionReceipt) -> Included {
    Included {
        tx: format!("{:#x}", receipt.transaction_hash),
        block: receipt.block_number,
    }
}

/// An EVM address of the protocol's address, or an error naming it.
fn evm_address(address: &Address) -> anyhow::Result<EvmAddress> {
    if address.family() != Family::Evm {
        anyhow::bail!("{address} is not an EVM address");
    }
    address
        .as_str()
        .parse()
        .with_context(|| format!("{address} is not an EVM address"))
}

impl EvmAccount {
    /// The account of `key`, sending through `sender` (connected with the same key), on `deployment`. Fails when
    /// the node's chain is not the deployment's, or the sender's key is another.
    pub fn new(sender: TxSender, key: Key, deployment: Deployment) -> anyhow::Result<Self> {
        if deployment.chain_id != sender.chain_id() {
            anyhow::bail!(
                "the API serves chain {} but the RPC node is chain {}",
                deployment.chain_id,
                sender.chain_id()
            );
        }
        if sender.address() != key.address() {
            anyhow::bail!("the sender signs for another key than the account's");
        }
        let domain = super::offchain::domain(deployment.chain_id, deployment.registry);
        Ok(Self {
            sender,
            key,
            deployment,
            domain,
        })
    }

    /// Connects `key` to the node at `rpc_url` for `deployment`.
    pub async fn connect(rpc_url: &str, key: Key, deployment: Deployment) -> anyhow::Result<Self> {
        let sender = TxSender::connect(rpc_url, key.clone(), SenderConfig::default()).await?;
        Self::new(sender, key, deployment)
    }

    /// Connects `key` to the node at `rpc_url` for the deployment the coordinator at `api_url` serves.
    pub async fn open(
        rpc_url: &str,
        key: Key,
        http: &reqwest::Client,
        api_url: &str,
    ) -> anyhow::Result<Self> {
        let chain_id = super::chain_id_at(rpc_url, std::time::Duration::from_secs(10))
            .await
            .context("cannot read the chain id of the RPC node")?;
        let deployment = Deployment::from_api(http, api_url, chain_id).await?;
        Self::connect(rpc_url, key, deployment).await
    }

    /// The account of the key `signer` selects for the node at `rpc_url` (keystores are per chain), on the
    /// deployment the coordinator at `api_url` serves: what the CLI's signing commands use.
    pub async fn from_args(
        rpc_url: &str,
        signer: &SignerArgs,
        http: &reqwest::Client,
        api_url: &str,
    ) -> anyhow::Result<Arc<dyn Wallet>> {
        let chain_id = super::chain_id_at(rpc_url, std::time::Duration::from_secs(10))
            .await
            .context("cannot read the chain id of --rpc-url")?;
        let key = signer.load(chain_id)?;
        let deployment = Deployment::from_api(http, api_url, chain_id).await?;
        Ok(Arc::new(Self::connect(rpc_url, key, deployment).await?))
    }

    /// The contracts.
    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// The transaction sender.
    pub fn sender(&self) -> &TxSender {
        &self.sender
    }

    fn evm_proposal(proposal: &Proposal) -> anyhow::Result<ops::Proposal> {
        Ok(ops::Proposal {
            targets: proposal
                .calls
                .iter()
                .map(|c| evm_address(&c.target))
                .collect::<anyhow::Result<_>>()?,
            calldatas: proposal
                .calls
                .iter()
                .map(|c| Bytes::from(c.calldata.clone()))
                .collect(),
            description: proposal.description.clone(),
        })
    }
}

impl Account for EvmAccount {
    fn family(&self) -> Family {
        Family::Evm
    }

    fn chain_id(&self) -> ChainId {
        ChainId(self.deployment.chain_id)
    }

    fn address(&self) -> Address {
        super::domain_address(self.key.address())
    }

    fn sign(&self, message: Message<'_>) -> anyhow::Result<Vec<u8>> {
        Ok(super::offchain::sign_message(&self.key, &self.domain, message)?.to_vec())
    }

    fn clock(&self) -> Pending<'_, u64> {
        Box::pin(ops::chain_time(&self.sender))
    }

    fn job(&self, id: JobId) -> Pending<'_, JobOnChain> {
        Box::pin(async move {
            let (worker, status) = ops::job_on_chain(&self.sender, &self.deployment, id.0).await?;
            Ok(JobOnChain {
                worker: super::domain_address(worker),
                status,
            })
        })
    }
}

impl ClientActions for EvmAccount {
    fn post_job<'a>(&'a self, job: &'a NewJob) -> Pending<'a, (JobId, Included)> {
        Box::pin(async move {
            let (id, receipt) = ops::post_job(&self.sender, &self.deployment, job).await?;
            Ok((JobId(id), included(&receipt)))
        })
    }

    fn post_redundant_job<'a>(
        &'a self,
        job: &'a NewJob,
        redundancy: u8,
        threshold: u8,
    ) -> Pending<'a, (JobId, Included)> {
        Box::pin(async move {
            let (id, receipt) =
                ops::post_redundant_job(&self.sender, &self.deployment, job, redundancy, threshold)
                    .await?;
            Ok((JobId(id), included(&receipt)))
        })
    }

    fn settle(&self, id: JobId, action: Settle) -> Pending<'_, Included> {
        Box::pin(async move {
            let (s, to, id) = (&self.sender, self.deployment.job_manager, id.0);
            let receipt = match action {
                Settle::Cancel => {
                    ops::send(s, to, &JobManager::cancelJobCall { jobId: id }, "cancelJob").await?
                }
                Settle::Accept => {
                    let call = JobManager::acceptResultCall { jobId: id };
                    ops::send(s, to, &call, "acceptResult").await?
                }
                Settle::Dispute => {
                    // A dispute escrows a bond from the client: approve it first.
                    let bond = ops::dispute_bond(s, to, id).await?;
                    ops::approve_if_needed(s, self.deployment.token, to, bond).await?;
                    let call = JobManager::disputeResultCall { jobId: id };
                    ops::send(s, to, &call, "disputeResult").await?
                }
            };
            Ok(included(&receipt))
        })
    }
}

impl WorkerActions for EvmAccount {
    fn register<'a>(
        &'a self,
        capabilities: u16,
        metadata_uri: &'a str,
    ) -> Pending<'a, Option<Included>> {
        Box::pin(async move {
            let receipt =
                ops::register(&self.sender, &self.deployment, capabilities, metadata_uri).await?;
            Ok(receipt.as_ref().map(included))
        })
    }

    fn stake(&self, amount: Amount) -> Pending<'_, Included> {
        Box::pin(async move {
            let receipt = ops::stake(&self.sender, &self.deployment, amount.0).await?;
            Ok(included(&receipt))
        })
    }

    fn request_unstake(&self, amount: Amount) -> Pending<'_, Included> {
        Box::pin(async move {
            let call = WorkerRegistry::requestUnstakeCall { amount: amount.0 };
            let receipt = ops::send(
                &self.sender,
                self.deployment.registry,
                &call,
                "requestUnstake",
            )
            .await?;
            Ok(included(&receipt))
        })
    }

    fn withdraw(&self) -> Pending<'_, Included> {
        Box::pin(async move {
            let receipt = ops::send(
                &self.sender,
                self.deployment.registry,
                &WorkerRegistry::withdrawCall {},
                "withdraw",
            )
            .await?;
            Ok(included(&receipt))
        })
    }

    fn posted_spec(&self, id: JobId, block: u64) -> Pending<'_, (String, alloy::primitives::B256)> {
        Box::pin(ops::posted_spec(
            &self.sender,
            &self.deployment,
            id.0,
            block,
        ))
    }

    fn submit_result<'a>(
        &'a self,
        id: JobId,
        blob: &'a BlobRef,
        data: Option<&'a [u8]>,
    ) -> Pending<'a, Included> {
        Box::pin(async move {
            let receipt =
                ops::submit_result(&self.sender, &self.deployment, id.0, blob, data).await?;
            Ok(included(&receipt))
        })
    }

    fn decline(&self, id: JobId, reason: u8) -> Pending<'_, Included> {
        Box::pin(async move {
            let receipt = ops::decline_job(&self.sender, &self.deployment, id.0, reason).await?;
            Ok(included(&receipt))
        })
    }

    fn seal_result(&self, id: JobId, commitment: B256, salt: B256) -> anyhow::Result<B256> {
        Ok(ops::seal_result(
            id.0,
            commitment,
            salt,
            self.sender.address(),
        ))
    }

    fn commit_result(&self, id: JobId, sealed: B256) -> Pending<'_, Included> {
        Box::pin(async move {
            let receipt = ops::commit_result(&self.sender, &self.deployment, id.0, sealed).await?;
            Ok(included(&receipt))
        })
    }

    fn reveal_result<'a>(
        &'a self,
        id: JobId,
        blob: &'a BlobRef,
        salt: B256,
        data: Option<&'a [u8]>,
    ) -> Pending<'a, Included> {
        Box::pin(async move {
            let receipt =
                ops::reveal_result(&self.sender, &self.deployment, id.0, blob, salt, data).await?;
            Ok(included(&receipt))
        })
    }
}

impl GovernanceActions for EvmAccount {
    fn delegate(&self, to: Option<Address>) -> Pending<'_, Option<Included>> {
        Box::pin(async move {
            let to = to.as_ref().map(evm_address).transpose()?;
            let receipt = ops::delegate(&self.sender, &self.deployment, to).await?;
            Ok(receipt.as_ref().map(included))
        })
    }

    fn parameter_call(&self, key: &str, value: Amount) -> anyhow::Result<ProposalCall> {
        let (target, data) = ops::param_call(&self.deployment, key, value.0)?;
        Ok(ProposalCall {
            target: super::domain_address(target),
            calldata: data.to_vec(),
        })
    }

    fn proposal_id(&self, proposal: &Proposal) -> anyhow::Result<ProposalId> {
        Ok(ProposalId(Self::evm_proposal(proposal)?.id()))
    }

    fn propose<'a>(&'a self, proposal: &'a Proposal) -> Pending<'a, ProposalId> {
        Box::pin(async move {
            let p = Self::evm_proposal(proposal)?;
            Ok(ProposalId(
                ops::propose(&self.sender, &self.deployment, &p).await?,
            ))
        })
    }

    fn vote(&self, id: ProposalId, support: Support) -> Pending<'_, Included> {
        Box::pin(async move {
            let receipt = ops::vote(&self.sender, &self.deployment, id.0, support as u8).await?;
            Ok(included(&receipt))
        })
    }

    fn queue<'a>(&'a self, proposal: &'a Proposal) -> Pending<'a, Included> {
        Box::pin(async move {
            let p = Self::evm_proposal(proposal)?;
            Ok(included(
                &ops::queue(&self.sender, &self.deployment, &p).await?,
            ))
        })
    }

    fn execute<'a>(&'a self, proposal: &'a Proposal) -> Pending<'a, Included> {
        Box::pin(async move {
            let p = Self::evm_proposal(proposal)?;
            Ok(included(
                &ops::execute(&self.sender, &self.deployment, &p).await?,
            ))
        })
    }
}
