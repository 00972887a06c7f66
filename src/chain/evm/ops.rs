//! Signed protocol actions shared by the CLI, the worker agent and the devnet demo: post and settle jobs,
//! register and stake, propose, vote, queue and execute parameter changes. Each sends real transactions through
//! a [`TxSender`]; reverts come back decoded by the contract's error name.

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::{SolCall, SolEvent, SolValue};
use anyhow::Context;

use crate::chain::account::NewJob;
use crate::chain::evm::bindings::{AccordGovernor, AccordToken, JobManager, WorkerRegistry};
use crate::chain::evm::wallet::TxSender;
use crate::domain::BlobRef;

pub use super::Deployment;

/// The latest block's timestamp: the contracts' clock.
pub async fn chain_time(sender: &TxSender) -> anyhow::Result<u64> {
    Ok(sender
        .provider()
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot read the latest block: {}",
                crate::chain::redact_error(&e.to_string())
            )
        })?
        .context("the node has no latest block")?
        .header
        .timestamp)
}

/// A job's assigned worker and status number as the chain holds them now.
pub async fn job_on_chain(
    sender: &TxSender,
    d: &Deployment,
    job_id: U256,
) -> anyhow::Result<(Address, u8)> {
    let job = JobManager::new(d.job_manager, sender.provider())
        .jobOf(job_id)
        .call()
        .await
        .context("cannot read the job on chain")?;
    Ok((job.worker, job.status))
}

/// Submits a result's DA reference for `job_id` (`submitResult`). An EIP-4844 reference (kind 3) goes in a
/// type-3 transaction carrying `data` (the result's bytes) as its blob.
pub async fn submit_result(
    sender: &TxSender,
    d: &Deployment,
    job_id: U256,
    blob: &BlobRef,
    data: Option<&[u8]>,
) -> anyhow::Result<TransactionReceipt> {
    let call = JobManager::submitResultCall {
        jobId: job_id,
        daKind: blob.kind,
        commitment: blob.commitment,
        size: blob.size,
        locator: blob.locator.clone(),
    };
    send_result(sender, d.job_manager, &call, blob, data, "submitResult").await
}

/// Sends a result call; with an EIP-4844 reference, in a type-3 transaction whose blob is `data`, checked
/// against the reference first (a coordinator's wrong reference is refused here, not on chain).
async fn send_result<C: SolCall>(
    sender: &TxSender,
    to: Address,
    call: &C,
    blob: &BlobRef,
    data: Option<&[u8]>,
    what: &str,
) -> anyhow::Result<TransactionReceipt> {
    if blob.kind != crate::domain::DA_KIND_EIP4844 {
        return send(sender, to, call, what).await;
    }
    let data = data
        .with_context(|| format!("{what}: an EIP-4844 result needs its bytes to carry as a blob"))?
        .to_vec();
    let size = data.len();
    let sidecar = tokio::task::spawn_blocking(move || super::blob::sidecar(&data))
        .await
        .context("the KZG task failed")??;
    let carried = sidecar.versioned_hashes().next();
    anyhow::ensure!(
        carried == Some(blob.commitment) && size as u64 == blob.size,
        "{what}: the result's {size} bytes make blob {}, not the reference's {} of {} bytes",
        carried.unwrap_or_default(),
        blob.commitment,
        blob.size
    );
    sender
        .send_blob(to, call.abi_encode().into(), sidecar)
        .await
        .with_context(|| format!("{what} failed"))
}

/// Declines an assignment with a reason code (`declineJob`).
pub async fn decline_job(
    sender: &TxSender,
    d: &Deployment,
    job_id: U256,
    reason: u8,
) -> anyhow::Result<TransactionReceipt> {
    let call = JobManager::declineJobCall {
        jobId: job_id,
        reason,
    };
    send(sender, d.job_manager, &call, "declineJob").await
}

/// The spec URI and hash a job was posted with, read from its `JobPosted` event at `block` on the sender's own
/// node (not from any API). A wrong block finds no event: an error.
pub async fn posted_spec(
    sender: &TxSender,
    d: &Deployment,
    job_id: U256,
    block: u64,
) -> anyhow::Result<(String, B256)> {
    let filter = alloy::rpc::types::Filter::new()
        .address(d.job_manager)
        .event_signature(JobManager::JobPosted::SIGNATURE_HASH)
        .topic1(B256::from(job_id))
        .from_block(block)
        .to_block(block);
    let logs = sender
        .provider()
        .get_logs(&filter)
        .await
        .context("cannot read the job's JobPosted event on chain")?;
    let posted = logs
        .iter()
        .filter(|l| !l.removed)
        .find_map(|l| JobManager::JobPosted::decode_log(&l.inner).ok())
        .with_context(|| format!("no JobPosted event of job {job_id} at block {block} on chain"))?;
    Ok((posted.specURI.clone(), posted.specHash))
}

/// Approves `spender` for `amount` unless the allowance already covers it.
pub async fn approve_if_needed(
    sender: &TxSender,
    token: Address,
    spender: Address,
    amount: U256,
) -> anyhow::Result<()> {
    let allowance = AccordToken::new(token, sender.provider())
        .allowance(sender.address(), spender)
        .call()
        .await
        .context("cannot read the token allowance")?;
    if allowance < amount {
        sender
            .call(
                token,
                &AccordToken::approveCall {
                    spender,
                    value: amount,
                },
            )
            .await
            .context("approve failed")?;
    }
    Ok(())
}

/// The bond `disputeResult` would escrow for job `id`: reward × disputeBondBps / 10,000, as the chain has them now.
pub async fn dispute_bond(
    sender: &TxSender,
    job_manager: Address,
    id: U256,
) -> anyhow::Result<U256> {
    let jm = JobManager::new(job_manager, sender.provider());
    let job = jm
        .jobOf(id)
        .call()
        .await
        .context("cannot read the job on chain")?;
    let penalties = jm
        .penalties()
        .call()
        .await
        .context("cannot read the dispute bond on chain")?;
    Ok(U256::from(job.reward) * U256::from(penalties.disputeBondBps) / U256::from(10_000u64))
}

/// Posts `job` (approving the escrow first when needed); returns the job id and the receipt.
pub async fn post_job(
    sender: &TxSender,
    d: &Deployment,
    job: &NewJob,
) -> anyhow::Result<(U256, TransactionReceipt)> {
    post(sender, d, job, None).await
}

/// Posts `job` to run on `redundancy` replicas, `threshold` of which must agree (0: the governed least); the
/// new job's id (`postRedundantJob`, approving the escrow first when needed). `max_attempts` does not apply.
pub async fn post_redundant_job(
    sender: &TxSender,
    d: &Deployment,
    job: &NewJob,
    redundancy: u8,
    threshold: u8,
) -> anyhow::Result<(U256, TransactionReceipt)> {
    post(sender, d, job, Some((redundancy, threshold))).await
}

async fn post(
    sender: &TxSender,
    d: &Deployment,
    job: &NewJob,
    redundant: Option<(u8, u8)>,
) -> anyhow::Result<(U256, TransactionReceipt)> {
    let (uri, hash) = job.spec.to_data_uri()?;
    let reward =
        alloy::primitives::Uint::<96, 2>::checked_from_limbs_slice(job.reward.0.as_limbs())
            .with_context(|| format!("reward {} does not fit 96 bits", job.reward))?;
    let deadline = chain_time(sender).await? + job.deadline_in.as_secs();
    let deadline = u32::try_from(deadline).context("deadline past 2106")?;
    approve_if_needed(sender, d.token, d.job_manager, job.reward.0).await?;
    let receipt = match redundant {
        None => {
            send(
                sender,
                d.job_manager,
                &JobManager::postJobCall {
                    specHash: hash,
                    specURI: uri,
                    requiredCapabilities: job.capabilities,
                    reward,
                    deadline,
                    maxAttempts: job.max_attempts,
                },
                "postJob",
            )
            .await?
        }
        Some((redundancy, threshold)) => {
            send(
                sender,
                d.job_manager,
                &JobManager::postRedundantJobCall {
                    specHash: hash,
                    specURI: uri,
                    requiredCapabilities: job.capabilities,
                    reward,
                    deadline,
                    redundancy,
                    threshold,
                },
                "postRedundantJob",
            )
            .await?
        }
    };
    let id = receipt
        .inner
        .logs()
        .iter()
        .find_map(|l| JobManager::JobPosted::decode_log(&l.inner).ok())
        .map(|e| e.jobId)
        .context("the receipt has no JobPosted event")?;
    Ok((id, receipt))
}

/// The sealed result a replica of `job_id` commits: keccak256(abi.encode(jobId, commitment, salt, worker)), as
/// the job manager's `sealResult` computes it.
pub fn seal_result(job_id: U256, commitment: B256, salt: B256, worker: Address) -> B256 {
    keccak256((job_id, commitment, salt, worker).abi_encode())
}

/// Commits a replica's sealed result (`commitResult`).
pub async fn commit_result(
    sender: &TxSender,
    d: &Deployment,
    job_id: U256,
    sealed: B256,
) -> anyhow::Result<TransactionReceipt> {
    let call = JobManager::commitResultCall {
        jobId: job_id,
        sealedResult: sealed,
    };
    send(sender, d.job_manager, &call, "commitResult").await
}

/// Reveals a replica's result: the DA reference it sealed and the salt (`revealResult`); an EIP-4844 reference
/// carries `data` as its blob, as for [`submit_result`].
pub async fn reveal_result(
    sender: &TxSender,
    d: &Deployment,
    job_id: U256,
    blob: &BlobRef,
    salt: B256,
    data: Option<&[u8]>,
) -> anyhow::Result<TransactionReceipt> {
    let call = JobManager::revealResultCall {
        jobId: job_id,
        daKind: blob.kind,
        commitment: blob.commitment,
        size: blob.size,
        salt,
        locator: blob.locator.clone(),
    };
    send_result(sender, d.job_manager, &call, blob, data, "revealResult").await
}

/// Sends one call to a contract, with a label for errors.
pub async fn send<C: SolCall>(
    sender: &TxSender,
    to: Address,
    call: &C,
    what: &str,
) -> anyhow::Result<TransactionReceipt> {
    sender
        .call(to, call)
        .await
        .with_context(|| format!("{what} failed"))
}

/// Registers the sender as a worker unless it already is.
pub async fn register(
    sender: &TxSender,
    d: &Deployment,
    capabilities: u16,
    metadata_uri: &str,
) -> anyhow::Result<Option<TransactionReceipt>> {
    let worker = WorkerRegistry::new(d.registry, sender.provider())
        .workerOf(sender.address())
        .call()
        .await
        .context("cannot read the worker registry")?;
    if worker.registered {
        return Ok(None);
    }
    let call = WorkerRegistry::registerCall {
        capabilities,
        metadataURI: metadata_uri.to_owned(),
    };
    send(sender, d.registry, &call, "register").await.map(Some)
}

/// Stakes `amount` (approving first when needed).
pub async fn stake(
    sender: &TxSender,
    d: &Deployment,
    amount: U256,
) -> anyhow::Result<TransactionReceipt> {
    approve_if_needed(sender, d.token, d.registry, amount).await?;
    send(
        sender,
        d.registry,
        &WorkerRegistry::stakeCall { amount },
        "stake",
    )
    .await
}

/// The target and calldata of a governed parameter change, by the parameter's event key.
pub fn param_call(d: &Deployment, key: &str, value: U256) -> anyhow::Result<(Address, Bytes)> {
    let (target, data): (Address, Vec<u8>) = match key {
        "minStake" => (
            d.registry,
            WorkerRegistry::setMinStakeCall { value }.abi_encode(),
        ),
        "unbondingPeriod" => (
            d.registry,
            WorkerRegistry::setUnbondingPeriodCall { value }.abi_encode(),
        ),
        "protocolFeeBps" => (
            d.job_manager,
            JobManager::setProtocolFeeCall { bps: value }.abi_encode(),
        ),
        "slashShareBps" => (
            d.job_manager,
            JobManager::setSlashShareCall { bps: value }.abi_encode(),
        ),
        "assignmentTimeout" => (
            d.job_manager,
            JobManager::setAssignmentTimeoutCall { secs: value }.abi_encode(),
        ),
        "challengeWindow" => (
            d.job_manager,
            JobManager::setChallengeWindowCall { secs: value }.abi_encode(),
        ),
        "disputePeriod" => (
            d.job_manager,
            JobManager::setDisputePeriodCall { secs: value }.abi_encode(),
        ),
        "minSubmitWindow" => (
            d.job_manager,
            JobManager::setMinSubmitWindowCall { secs: value }.abi_encode(),
        ),
        "slashRewardMultipleBps" => (
            d.job_manager,
            JobManager::setSlashRewardMultipleCall { bps: value }.abi_encode(),
        ),
        "compensationBps" => (
            d.job_manager,
            JobManager::setCompensationCall { bps: value }.abi_encode(),
        ),
        "declineFeeBps" => (
            d.job_manager,
            JobManager::setDeclineFeeCall { bps: value }.abi_encode(),
        ),
        "disputeBondBps" => (
            d.job_manager,
            JobManager::setDisputeBondCall { bps: value }.abi_encode(),
        ),
        "consensusBps" => (
            d.job_manager,
            JobManager::setConsensusShareCall { bps: value }.abi_encode(),
        ),
        "revealWindow" => (
            d.job_manager,
            JobManager::setRevealWindowCall { secs: value }.abi_encode(),
        ),
        other => anyhow::bail!(
            "unknown parameter '{other}' (minStake, unbondingPeriod, protocolFeeBps, slashShareBps, \
             assignmentTimeout, challengeWindow, disputePeriod, minSubmitWindow, slashRewardMultipleBps, \
             compensationBps, declineFeeBps, disputeBondBps, consensusBps, revealWindow)"
        ),
    };
    Ok((target, data.into()))
}

/// A governance proposal's actions and description, as the governor hashes them.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// Called contracts.
    pub targets: Vec<Address>,
    /// Calldata per target.
    pub calldatas: Vec<Bytes>,
    /// The description (its keccak256 is part of the id).
    pub description: String,
}

impl Proposal {
    /// The governor's proposal id.
    pub fn id(&self) -> U256 {
        let values = vec![U256::ZERO; self.targets.len()];
        let encoded = alloy::sol_types::SolValue::abi_encode_params(&(
            self.targets.clone(),
            values,
            self.calldatas.clone(),
            self.description_hash(),
        ));
        U256::from_be_bytes(keccak256(encoded).0)
    }

    /// keccak256 of the description.
    pub fn description_hash(&self) -> B256 {
        keccak256(self.description.as_bytes())
    }
}

/// Delegates the sender's votes to `to` (itself by default) unless already so.
pub async fn delegate(
    sender: &TxSender,
    d: &Deployment,
    to: Option<Address>,
) -> anyhow::Result<Option<TransactionReceipt>> {
    let to = to.unwrap_or(sender.address());
    let current = AccordToken::new(d.token, sender.provider())
        .delegates(sender.address())
        .call()
        .await
        .context("cannot read the current delegate")?;
    if current == to {
        return Ok(None);
    }
    send(
        sender,
        d.token,
        &AccordToken::delegateCall { delegatee: to },
        "delegate",
    )
    .await
    .map(Some)
}

/// Submits `p`; returns its id.
pub async fn propose(sender: &TxSender, d: &Deployment, p: &Proposal) -> anyhow::Result<U256> {
    let call = AccordGovernor::proposeCall {
        targets: p.targets.clone(),
        values: vec![U256::ZERO; p.targets.len()],
        calldatas: p.calldatas.clone(),
        description: p.description.clone(),
    };
    let receipt = send(sender, d.governor, &call, "propose").await?;
    let id = receipt
        .inner
        .logs()
        .iter()
        .find_map(|l| AccordGovernor::ProposalCreated::decode_log(&l.inner).ok())
        .map(|e| e.proposalId)
        .unwrap_or_else(|| p.id());
    Ok(id)
}

/// Votes on proposal `id`: 0 against, 1 for, 2 abstain.
pub async fn vote(
    sender: &TxSender,
    d: &Deployment,
    id: U256,
    support: u8,
) -> anyhow::Result<TransactionReceipt> {
    let call = AccordGovernor::castVoteCall {
        proposalId: id,
        support,
    };
    send(sender, d.governor, &call, "castVote").await
}

/// Queues a succeeded proposal in the timelock.
pub async fn queue(
    sender: &TxSender,
    d: &Deployment,
    p: &Proposal,
) -> anyhow::Result<TransactionReceipt> {
    let call = AccordGovernor::queueCall {
        targets: p.targets.clone(),
        values: vec![U256::ZERO; p.targets.len()],
        calldatas: p.calldatas.clone(),
        descriptionHash: p.description_hash(),
    };
    send(sender, d.governor, &call, "queue").await
}

/// Executes a queued proposal once its timelock delay has passed.
pub async fn execute(
    sender: &TxSender,
    d: &Deployment,
    p: &Proposal,
) -> anyhow::Result<TransactionReceipt> {
    let call = AccordGovernor::executeCall {
        targets: p.targets.clone(),
        values: vec![U256::ZERO; p.targets.len()],
        calldatas: p.calldatas.clone(),
        descriptionHash: p.description_hash(),
    };
    send(sender, d.governor, &call, "execute").await
}
