//! An account on a Starknet deployment: [`StarknetAccount`] implements the protocol's account traits
//! ([`crate::chain::account`]) with the contracts' calls through the generated bindings, sent from the account
//! contract as one multicall where EVM needs two transactions (approve, then the call), and signs off-chain
//! messages as SNIP-12 typed data.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::B256;
use anyhow::Context;
use cainome::cairo_serde::{ByteArray, CairoSerde, ContractAddress, U256 as CairoU256};
use starknet::accounts::{Account as _, ConnectedAccount};
use starknet::core::types::{
    BlockId, Call, EventFilter, Felt, MaybePreConfirmedBlockWithTxHashes, TransactionReceipt,
    TransactionReceiptWithBlockInfo,
};
use starknet::core::utils::get_selector_from_name;
use starknet::providers::Provider;
use starknet::signers::SigningKey;

use super::Deployment;
use super::bindings::{governor, jobs, registry, token};
use super::signer::{Signer, wait_for};
use crate::chain::account::{
    Account, ClientActions, GovernanceActions, Included, JobOnChain, NewJob, Pending, Proposal,
    ProposalCall, Settle, Support, WorkerActions,
};
use crate::chain::evm::wallet::SignerArgs;
use crate::domain::{Address, Amount, BlobRef, ChainId, Family, JobId, ProposalId, U256};
use crate::offchain::Message;

/// How long a transaction may take to be accepted.
const TX_TIMEOUT: Duration = Duration::from_secs(120);

/// One account contract's account on one Starknet deployment.
pub struct StarknetAccount {
    signer: Arc<Signer>,
    key: SigningKey,
    deployment: Deployment,
    /// Its nonces, handed out locally: a worker agent sends for two jobs at once.
    nonces: super::signer::Nonces,
}

fn included(receipt: &TransactionReceiptWithBlockInfo) -> Included {
    Included {
        tx: format!("{:#066x}", receipt.receipt.transaction_hash()),
        block: Some(receipt.block.block_number()),
    }
}

fn cairo_u256(v: U256) -> CairoU256 {
    let limbs = v.as_limbs();
    CairoU256 {
        low: u128::from(limbs[0]) | (u128::from(limbs[1]) << 64),
        high: u128::from(limbs[2]) | (u128::from(limbs[3]) << 64),
    }
}

fn from_cairo_u256(v: &CairoU256) -> U256 {
    (U256::from(v.high) << 128) | U256::from(v.low)
}

fn job_id(id: JobId) -> anyhow::Result<u64> {
    u64::try_from(id.0).map_err(|_| anyhow::anyhow!("job {id} exceeds a Starknet job id (u64)"))
}

fn felt(address: &Address) -> anyhow::Result<Felt> {
    super::offchain::felt_of(address).map_err(anyhow::Error::msg)
}

fn byte_array(s: &str) -> anyhow::Result<ByteArray> {
    ByteArray::from_string(s)
        .map_err(|e| anyhow::anyhow!("cannot encode {s:?} as a Cairo ByteArray: {e:?}"))
}

/// The hash the governor gives a description: Poseidon over its `ByteArray` serialization.
pub fn description_hash(description: &str) -> anyhow::Result<Felt> {
    Ok(starknet_crypto::poseidon_hash_many(
        &ByteArray::cairo_serialize(&byte_array(description)?),
    ))
}

/// A governance call as the governor takes it: the target, the selector and the calldata, from the opaque
/// bytes of a [`ProposalCall`] (the selector and each calldata felt, 32 big-endian bytes each).
fn cairo_call(call: &ProposalCall) -> anyhow::Result<governor::Call> {
    if call.calldata.is_empty() || !call.calldata.len().is_multiple_of(32) {
        anyhow::bail!("a Starknet proposal call is a selector and calldata felts of 32 bytes each");
    }
    let mut felts = call.calldata.chunks(32).map(Felt::from_bytes_be_slice);
    let selector = felts.next().expect("at least one felt");
    Ok(governor::Call {
        to: ContractAddress(felt(&call.target)?),
        selector,
        calldata: felts.collect(),
    })
}

fn proposal_calls(proposal: &Proposal) -> anyhow::Result<Vec<governor::Call>> {
    proposal.calls.iter().map(cairo_call).collect()
}

/// The governor's id of a proposal: Poseidon over its calls' serialization and its description's hash.
pub fn proposal_id(calls: &[governor::Call], description: &str) -> anyhow::Result<Felt> {
    let mut felts = Vec::<governor::Call>::cairo_serialize(&calls.to_vec());
    felts.push(description_hash(description)?);
    Ok(starknet_crypto::poseidon_hash_many(&felts))
}

/// The Starknet account of the signer flags, on the chain of `rpc_url`: its network (the chain id's short
/// string), the account contract (`--account`) and its key, from `--keystore` (a Web3 Secret Storage file holding
/// the Stark key, the format starkli writes) or, on a starknet-devnet only, from a raw `--private-key`. Errors
/// name the flags with `prefix` (`--<prefix>account`, …) and never quote the key or the password.
pub async fn load_key(
    rpc_url: &str,
    signer: &SignerArgs,
    prefix: &str,
) -> anyhow::Result<(String, Felt, SigningKey)> {
    use crate::chain::evm::wallet::{Error as SignerError, keystore};
    let timeout = Duration::from_secs(10);
    let network = super::network_at(rpc_url, timeout)
        .await
        .context("cannot read the chain id of the Starknet node")?;
    let account = signer.account.as_deref().with_context(|| {
        format!(
            "--{prefix}account ADDRESS is required on Starknet ({network}): the address of the account contract \
             the key signs for"
        )
    })?;
    let account = Address::parse(Family::Starknet, account)
        .map_err(|e| anyhow::anyhow!("--{prefix}account: {e}"))
        .and_then(|a| super::offchain::felt_of(&a).map_err(anyhow::Error::msg))?;
    let secret: Felt = match (&signer.keystore, &signer.private_key) {
        (None, None) => anyhow::bail!(
            "no signer: pass --{prefix}keystore FILE (with --{prefix}password-file or a password prompt), or \
             --{prefix}private-key on a starknet-devnet"
        ),
        (Some(_), Some(_)) => anyhow::bail!(
            "--{prefix}keystore and --{prefix}private-key are mutually exclusive: give one of them"
        ),
        (None, Some(raw)) => {
            if !super::is_devnet(rpc_url, timeout).await {
                anyhow::bail!(
                    "--{prefix}private-key is accepted only on a starknet-devnet, and the node at {} ({network}) \
                     is not one: sign with --{prefix}keystore",
                    crate::chain::redact_rpc_url(rpc_url)
                );
            }
            parse_stark_key(raw).with_context(|| {
                format!(
                    "--{prefix}private-key is not a Stark private key (0x and at most 64 hex digits, a non-zero \
                     scalar below the curve order)"
                )
            })?
        }
        (Some(path), None) => {
            let password = signer.password(path)?;
            // scrypt is CPU work: keep it off the async workers.
            let file = path.clone();
            let bytes =
                tokio::task::spawn_blocking(move || keystore::decrypt_secret(&file, &password))
                    .await??;
            let not_stark = |message: &str| SignerError::NotAKeystore {
                path: path.clone(),
                message: message.into(),
            };
            let exact: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| not_stark("the decrypted key is not 32 bytes"))?;
            let key = Felt::from_bytes_be(&exact);
            if key.to_bytes_be() != exact || !valid_stark_key(&key) {
                return Err(not_stark("the decrypted key is not a Stark private key").into());
            }
            if let Some(public) = keystore::plain_field(path, keystore::STARKNET_PUBLIC_KEY)? {
                let derived = SigningKey::from_secret_scalar(key).verifying_key().scalar();
                if Felt::from_hex(&public).ok() != Some(derived) {
                    return Err(not_stark(
                        "its starknet_public_key field names another key than the one inside",
                    )
                    .into());
                }
            }
            key
        }
    };
    Ok((network, account, SigningKey::from_secret_scalar(secret)))
}

/// The order of the Stark curve: a private key is a scalar in `1..ORDER`.
const STARK_ORDER: Felt =
    Felt::from_hex_unchecked("0x800000000000010ffffffffffffffffb781126dcae7b2321e66a241adc64d2f");

fn valid_stark_key(key: &Felt) -> bool {
    *key != Felt::ZERO && *key < STARK_ORDER
}

/// A raw Stark private key: 0x and at most 64 hex digits, a scalar in `1..ORDER`. `None` when it is not one (the
/// text is never quoted).
pub fn parse_stark_key(text: &str) -> Option<Felt> {
    let text = text.trim();
    let hex = text.strip_prefix("0x").unwrap_or(text);
    if hex.is_empty() || hex.len() > 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Felt::from_hex(&format!("0x{hex}"))
        .ok()
        .filter(valid_stark_key)
}

impl StarknetAccount {
    /// The account of `signer` (which signs with `key`) on `deployment`; fails when the node's chain is not the
    /// deployment's.
    pub fn new(signer: Signer, key: SigningKey, deployment: Deployment) -> anyhow::Result<Self> {
        let network = starknet::core::utils::parse_cairo_short_string(&signer.chain_id())
            .unwrap_or_else(|_| format!("{:#x}", signer.chain_id()));
        if network != deployment.network {
            anyhow::bail!(
                "the deployment is on {} but the RPC node is {network}",
                deployment.network
            );
        }
        Ok(Self {
            signer: Arc::new(signer),
            key,
            deployment,
            nonces: Default::default(),
        })
    }

    /// Connects the account contract at `address` with `key` to the node at `rpc_url` for `deployment`.
    pub async fn connect(
        rpc_url: &str,
        address: Felt,
        key: SigningKey,
        deployment: Deployment,
    ) -> anyhow::Result<Self> {
        let provider = super::signer::provider(rpc_url)?;
        let signer = super::signer::signer(provider, address, key.secret_scalar()).await?;
        Self::new(signer, key, deployment)
    }

    /// The account of the signer flags on the chain of `rpc_url`, for the deployment the API at `api_url` serves
    /// on that chain, pinned on first use ([`crate::remote::pin`]; [`load_key`] reads the flags).
    pub async fn from_args(
        rpc_url: &str,
        signer: &SignerArgs,
        http: &reqwest::Client,
        api_url: &str,
    ) -> anyhow::Result<Arc<dyn crate::chain::account::Wallet>> {
        let (network, account, key) = load_key(rpc_url, signer, "").await?;
        let chain = crate::remote::chain(http, api_url, super::chain_key(&network).0).await?;
        let devnet = super::is_devnet(rpc_url, Duration::from_secs(10)).await;
        crate::remote::pin_known(&chain, api_url, devnet)?;
        let deployment = Deployment::from_remote(&chain)?;
        Ok(Arc::new(
            Self::connect(rpc_url, account, key, deployment).await?,
        ))
    }

    fn at(&self, name: &str) -> Felt {
        self.deployment.address(name)
    }

    /// Sends `calls` as one transaction and waits for it; errors quote the contract's refusal.
    async fn send(
        &self,
        calls: Vec<Call>,
        what: &str,
    ) -> anyhow::Result<TransactionReceiptWithBlockInfo> {
        let hash = self
            .nonces
            .send(&self.signer, calls)
            .await
            .map_err(|e| anyhow::anyhow!("{what} failed: {e}"))?;
        wait_for(self.signer.provider(), hash, TX_TIMEOUT)
            .await
            .with_context(|| format!("{what} failed"))
    }

    /// An approval of `amount` of the token to `spender`, when the allowance does not cover it.
    async fn approval(&self, spender: Felt, amount: U256) -> anyhow::Result<Option<Call>> {
        let reader = token::AccordTokenReader::new(self.at("AccordToken"), self.signer.provider());
        let allowance = reader
            .allowance(
                &ContractAddress(self.signer.address()),
                &ContractAddress(spender),
            )
            .call()
            .await
            .context("cannot read the token allowance")?;
        if from_cairo_u256(&allowance) >= amount {
            return Ok(None);
        }
        let tok = token::AccordToken::new(self.at("AccordToken"), self.signer.as_ref());
        Ok(Some(tok.approve_getcall(
            &ContractAddress(spender),
            &cairo_u256(amount),
        )))
    }

    /// The job manager's events named `name` in `receipt`, decoded.
    fn events_of(
        &self,
        receipt: &TransactionReceiptWithBlockInfo,
        name: &str,
    ) -> Vec<serde_json::Value> {
        let Ok(abi) = super::classes::abi("JobManager") else {
            return Vec::new();
        };
        let events = match &receipt.receipt {
            TransactionReceipt::Invoke(r) => r.events.as_slice(),
            _ => &[],
        };
        events
            .iter()
            .filter(|e| e.from_address == self.at("JobManager"))
            .filter_map(|e| abi.decode(&e.keys, &e.data).ok().flatten())
            .filter(|d| d.name == name)
            .map(|d| d.args)
            .collect()
    }

    fn governor(&self) -> governor::AccordGovernor<&Signer> {
        governor::AccordGovernor::new(self.at("AccordGovernor"), self.signer.as_ref())
    }
}

impl Account for StarknetAccount {
    fn family(&self) -> Family {
        Family::Starknet
    }

    fn chain_id(&self) -> ChainId {
        self.deployment.chain_id
    }

    fn address(&self) -> Address {
        super::address(self.signer.address())
    }

    fn sign(&self, message: Message<'_>) -> anyhow::Result<Vec<u8>> {
        if message.worker() != &self.address() {
            anyhow::bail!(
                "the message names worker {}, not this account ({})",
                message.worker(),
                self.address()
            );
        }
        super::offchain::sign(
            &self.key,
            message,
            &self.deployment.network,
            self.at("WorkerRegistry"),
        )
        .map_err(anyhow::Error::msg)
    }

    fn clock(&self) -> Pending<'_, u64> {
        Box::pin(async move {
            let block = self
                .signer
                .provider()
                .get_block_with_tx_hashes(BlockId::Tag(starknet::core::types::BlockTag::Latest))
                .await
                .context("cannot read the latest block")?;
            Ok(match block {
                MaybePreConfirmedBlockWithTxHashes::Block(b) => b.timestamp,
                MaybePreConfirmedBlockWithTxHashes::PreConfirmedBlock(b) => b.timestamp,
            })
        })
    }

    fn job(&self, id: JobId) -> Pending<'_, JobOnChain> {
        Box::pin(async move {
            let reader = jobs::JobManagerReader::new(self.at("JobManager"), self.signer.provider());
            let job = reader
                .job_of(&job_id(id)?)
                .call()
                .await
                .context("cannot read the job on chain")?;
            let status = jobs::JobStatus::cairo_serialize(&job.status)
                .first()
                .and_then(|f| u8::try_from(f.to_biguint()).ok())
                .unwrap_or_default();
            Ok(JobOnChain {
                worker: super::address(job.worker.0),
                status,
            })
        })
    }
}

impl StarknetAccount {
    /// Posts `job` (a redundant one with `(redundancy, threshold)`), approving the escrow in the same multicall.
    async fn post(
        &self,
        job: &NewJob,
        redundancy: Option<(u8, u8)>,
    ) -> anyhow::Result<(JobId, Included)> {
        let (uri, hash) = job.spec.to_data_uri()?;
        let deadline = self.clock().await? + job.deadline_in.as_secs();
        let jm = jobs::JobManager::new(self.at("JobManager"), self.signer.as_ref());
        let mut calls: Vec<Call> = self
            .approval(self.at("JobManager"), job.reward.0)
            .await?
            .into_iter()
            .collect();
        let (hash, uri, reward) = (
            cairo_u256(U256::from_be_bytes(hash.0)),
            byte_array(&uri)?,
            cairo_u256(job.reward.0),
        );
        calls.push(match redundancy {
            None => jm.post_job_getcall(
                &hash,
                &uri,
                &job.capabilities,
                &reward,
                &deadline,
                &job.max_attempts,
            ),
            Some((n, k)) => jm.post_redundant_job_getcall(
                &hash,
                &uri,
                &job.capabilities,
                &reward,
                &deadline,
                &n,
                &k,
            ),
        });
        let what = if redundancy.is_some() {
            "post_redundant_job"
        } else {
            "post_job"
        };
        let receipt = self.send(calls, what).await?;
        let id = self
            .events_of(&receipt, "JobPosted")
            .first()
            .and_then(|a| a["job_id"].as_str()?.parse::<u64>().ok())
            .context("the receipt has no JobPosted event")?;
        Ok((JobId(U256::from(id)), included(&receipt)))
    }
}

impl ClientActions for StarknetAccount {
    fn post_redundant_job<'a>(
        &'a self,
        job: &'a NewJob,
        redundancy: u8,
        threshold: u8,
    ) -> Pending<'a, (JobId, Included)> {
        Box::pin(self.post(job, Some((redundancy, threshold))))
    }

    fn post_job<'a>(&'a self, job: &'a NewJob) -> Pending<'a, (JobId, Included)> {
        Box::pin(self.post(job, None))
    }

    fn settle(&self, id: JobId, action: Settle) -> Pending<'_, Included> {
        Box::pin(async move {
            let n = job_id(id)?;
            let jm = jobs::JobManager::new(self.at("JobManager"), self.signer.as_ref());
            let calls = match action {
                Settle::Cancel => vec![jm.cancel_job_getcall(&n)],
                Settle::Accept => vec![jm.accept_result_getcall(&n)],
                Settle::Dispute => {
                    // A dispute escrows a bond of reward x dispute_bond_bps / 10_000 from the client (what the
                    // contract takes; `dispute_bond_of` holds it only once disputed): approve it in the same
                    // transaction.
                    let reader =
                        jobs::JobManagerReader::new(self.at("JobManager"), self.signer.provider());
                    let job = reader
                        .job_of(&n)
                        .call()
                        .await
                        .context("cannot read the job on chain")?;
                    let penalties = reader
                        .penalties()
                        .call()
                        .await
                        .context("cannot read the dispute bond share")?;
                    let bond = from_cairo_u256(&job.reward)
                        * U256::from(penalties.dispute_bond_bps)
                        / U256::from(10_000u64);
                    let mut calls: Vec<Call> = self
                        .approval(self.at("JobManager"), bond)
                        .await?
                        .into_iter()
                        .collect();
                    calls.push(jm.dispute_result_getcall(&n));
                    calls
                }
            };
            Ok(included(&self.send(calls, action.name()).await?))
        })
    }
}

impl WorkerActions for StarknetAccount {
    fn register<'a>(
        &'a self,
        capabilities: u16,
        metadata_uri: &'a str,
    ) -> Pending<'a, Option<Included>> {
        Box::pin(async move {
            let reader = registry::WorkerRegistryReader::new(
                self.at("WorkerRegistry"),
                self.signer.provider(),
            );
            let me = ContractAddress(self.signer.address());
            if reader
                .worker_of(&me)
                .call()
                .await
                .context("cannot read the registry")?
                .registered
            {
                return Ok(None);
            }
            let reg =
                registry::WorkerRegistry::new(self.at("WorkerRegistry"), self.signer.as_ref());
            let call = reg.register_getcall(&capabilities, &byte_array(metadata_uri)?);
            Ok(Some(included(&self.send(vec![call], "register").await?)))
        })
    }

    fn stake(&self, amount: Amount) -> Pending<'_, Included> {
        Box::pin(async move {
            let reg =
                registry::WorkerRegistry::new(self.at("WorkerRegistry"), self.signer.as_ref());
            let mut calls: Vec<Call> = self
                .approval(self.at("WorkerRegistry"), amount.0)
                .await?
                .into_iter()
                .collect();
            calls.push(reg.stake_getcall(&cairo_u256(amount.0)));
            Ok(included(&self.send(calls, "stake").await?))
        })
    }

    fn request_unstake(&self, amount: Amount) -> Pending<'_, Included> {
        Box::pin(async move {
            let reg =
                registry::WorkerRegistry::new(self.at("WorkerRegistry"), self.signer.as_ref());
            let call = reg.request_unstake_getcall(&cairo_u256(amount.0));
            Ok(included(&self.send(vec![call], "request_unstake").await?))
        })
    }

    fn withdraw(&self) -> Pending<'_, Included> {
        Box::pin(async move {
            let reg =
                registry::WorkerRegistry::new(self.at("WorkerRegistry"), self.signer.as_ref());
            Ok(included(
                &self.send(vec![reg.withdraw_getcall()], "withdraw").await?,
            ))
        })
    }

    fn posted_spec(&self, id: JobId, block: u64) -> Pending<'_, (String, B256)> {
        Box::pin(async move {
            let n = job_id(id)?;
            let posted = get_selector_from_name("JobPosted").expect("an ASCII name");
            let filter = EventFilter {
                from_block: Some(BlockId::Number(block)),
                to_block: Some(BlockId::Number(block)),
                address: Some(self.at("JobManager")),
                keys: Some(vec![vec![posted], vec![Felt::from(n)]]),
            };
            let page = self
                .signer
                .provider()
                .get_events(filter, None, 100)
                .await
                .context("cannot read the job's JobPosted event on chain")?;
            let abi = super::classes::abi("JobManager").map_err(anyhow::Error::msg)?;
            for e in &page.events {
                let Some(d) = abi.decode(&e.keys, &e.data).ok().flatten() else {
                    continue;
                };
                if d.name != "JobPosted"
                    || d.args["job_id"].as_str() != Some(n.to_string().as_str())
                {
                    continue;
                }
                let uri = crate::text::ChainText::from_args(&d.args, "spec_uri")
                    .context("JobPosted without its spec URI")?;
                let hash: U256 = d.args["spec_hash"]
                    .as_str()
                    .and_then(|h| crate::domain::parse_decimal(h).ok())
                    .context("JobPosted without its spec hash")?;
                let uri = String::from_utf8(uri.bytes().to_vec())
                    .context("the posted spec URI is not UTF-8")?;
                return Ok((uri, B256::from(hash.to_be_bytes())));
            }
            anyhow::bail!("no JobPosted event of job {id} at block {block} on chain")
        })
    }

    fn submit_result<'a>(
        &'a self,
        id: JobId,
        blob: &'a BlobRef,
        _data: Option<&'a [u8]>,
    ) -> Pending<'a, Included> {
        Box::pin(async move {
            no_blob(blob)?;
            let jm = jobs::JobManager::new(self.at("JobManager"), self.signer.as_ref());
            let call = jm.submit_result_getcall(
                &job_id(id)?,
                &blob.kind,
                &cairo_u256(U256::from_be_bytes(blob.commitment.0)),
                &blob.size,
                &byte_array(&blob.locator)?,
            );
            Ok(included(&self.send(vec![call], "submit_result").await?))
        })
    }

    fn decline(&self, id: JobId, reason: u8) -> Pending<'_, Included> {
        Box::pin(async move {
            let jm = jobs::JobManager::new(self.at("JobManager"), self.signer.as_ref());
            let call = jm.decline_job_getcall(&job_id(id)?, &reason);
            Ok(included(&self.send(vec![call], "decline_job").await?))
        })
    }

    fn seal_result(&self, id: JobId, commitment: B256, salt: B256) -> anyhow::Result<B256> {
        Ok(seal(job_id(id)?, commitment, salt, self.signer.address()))
    }

    fn commit_result(&self, id: JobId, sealed: B256) -> Pending<'_, Included> {
        Box::pin(async move {
            let jm = jobs::JobManager::new(self.at("JobManager"), self.signer.as_ref());
            let call =
                jm.commit_result_getcall(&job_id(id)?, &cairo_u256(U256::from_be_bytes(sealed.0)));
            Ok(included(&self.send(vec![call], "commit_result").await?))
        })
    }

    fn reveal_result<'a>(
        &'a self,
        id: JobId,
        blob: &'a BlobRef,
        salt: B256,
        _data: Option<&'a [u8]>,
    ) -> Pending<'a, Included> {
        Box::pin(async move {
            no_blob(blob)?;
            let jm = jobs::JobManager::new(self.at("JobManager"), self.signer.as_ref());
            let call = jm.reveal_result_getcall(
                &job_id(id)?,
                &blob.kind,
                &cairo_u256(U256::from_be_bytes(blob.commitment.0)),
                &blob.size,
                &cairo_u256(U256::from_be_bytes(salt.0)),
                &byte_array(&blob.locator)?,
            );
            Ok(included(&self.send(vec![call], "reveal_result").await?))
        })
    }
}

/// Refuses an EIP-4844 reference: Starknet transactions carry no blobs.
fn no_blob(blob: &BlobRef) -> anyhow::Result<()> {
    anyhow::ensure!(
        blob.kind != crate::domain::DA_KIND_EIP4844,
        "Starknet transactions carry no EIP-4844 blobs: use another DA layer for Starknet results"
    );
    Ok(())
}

/// The sealed result the Cairo job manager checks a reveal against: poseidon(job_id, commitment.low,
/// commitment.high, salt.low, salt.high, worker), as 32 bytes.
pub fn seal(job_id: u64, commitment: B256, salt: B256, worker: Felt) -> B256 {
    let halves = |v: B256| {
        let n = U256::from_be_bytes(v.0);
        let low = n & U256::from(u128::MAX);
        let high: U256 = n >> 128;
        [
            Felt::from_bytes_be(&low.to_be_bytes()),
            Felt::from_bytes_be(&high.to_be_bytes()),
        ]
    };
    let [c_low, c_high] = halves(commitment);
    let [s_low, s_high] = halves(salt);
    let hash = starknet_crypto::poseidon_hash_many(&[
        Felt::from(job_id),
        c_low,
        c_high,
        s_low,
        s_high,
        worker,
    ]);
    B256::from(hash.to_bytes_be())
}

/// The setter of each governed parameter: its contract and entry point, by the key its update event names.
const PARAMETERS: [(&str, &str, &str); 14] = [
    ("minStake", "WorkerRegistry", "set_min_stake"),
    ("unbondingPeriod", "WorkerRegistry", "set_unbonding_period"),
    ("protocolFeeBps", "JobManager", "set_protocol_fee"),
    ("slashShareBps", "JobManager", "set_slash_share"),
    ("assignmentTimeout", "JobManager", "set_assignment_timeout"),
    ("challengeWindow", "JobManager", "set_challenge_window"),
    ("disputePeriod", "JobManager", "set_dispute_period"),
    ("minSubmitWindow", "JobManager", "set_min_submit_window"),
    (
        "slashRewardMultipleBps",
        "JobManager",
        "set_slash_reward_multiple",
    ),
    ("compensationBps", "JobManager", "set_compensation"),
    ("declineFeeBps", "JobManager", "set_decline_fee"),
    ("disputeBondBps", "JobManager", "set_dispute_bond"),
    ("consensusBps", "JobManager", "set_consensus_share"),
    ("revealWindow", "JobManager", "set_reveal_window"),
];

impl GovernanceActions for StarknetAccount {
    fn delegate(&self, to: Option<Address>) -> Pending<'_, Option<Included>> {
        Box::pin(async move {
            let to = match &to {
                Some(a) => felt(a)?,
                None => self.signer.address(),
            };
            let reader =
                token::AccordTokenReader::new(self.at("AccordToken"), self.signer.provider());
            let current = reader
                .delegates(&ContractAddress(self.signer.address()))
                .call()
                .await
                .context("cannot read the delegate")?;
            if current.0 == to {
                return Ok(None);
            }
            let tok = token::AccordToken::new(self.at("AccordToken"), self.signer.as_ref());
            let call = tok.delegate_getcall(&ContractAddress(to));
            Ok(Some(included(&self.send(vec![call], "delegate").await?)))
        })
    }

    fn parameter_call(&self, key: &str, value: Amount) -> anyhow::Result<ProposalCall> {
        let Some((_, contract, entry)) = PARAMETERS.iter().find(|(k, _, _)| *k == key) else {
            let known: Vec<&str> = PARAMETERS.iter().map(|(k, _, _)| *k).collect();
            anyhow::bail!(
                "unknown parameter {key:?}; the governed ones are {}",
                known.join(", ")
            );
        };
        let selector = get_selector_from_name(entry).expect("an ASCII name");
        let mut calldata = selector.to_bytes_be().to_vec();
        for f in CairoU256::cairo_serialize(&cairo_u256(value.0)) {
            calldata.extend_from_slice(&f.to_bytes_be());
        }
        Ok(ProposalCall {
            target: super::address(self.at(contract)),
            calldata,
        })
    }

    fn proposal_id(&self, proposal: &Proposal) -> anyhow::Result<ProposalId> {
        let id = proposal_id(&proposal_calls(proposal)?, &proposal.description)?;
        Ok(ProposalId(U256::from_be_bytes(id.to_bytes_be())))
    }

    fn propose<'a>(&'a self, proposal: &'a Proposal) -> Pending<'a, ProposalId> {
        Box::pin(async move {
            let calls = proposal_calls(proposal)?;
            let call = self
                .governor()
                .propose_getcall(&calls, &byte_array(&proposal.description)?);
            self.send(vec![call], "propose").await?;
            self.proposal_id(proposal)
        })
    }

    fn vote(&self, id: ProposalId, support: Support) -> Pending<'_, Included> {
        Box::pin(async move {
            let id = Felt::from_bytes_be(&id.0.to_be_bytes());
            let call = self.governor().cast_vote_getcall(&id, &(support as u8));
            Ok(included(&self.send(vec![call], "cast_vote").await?))
        })
    }

    fn queue<'a>(&'a self, proposal: &'a Proposal) -> Pending<'a, Included> {
        Box::pin(async move {
            let calls = proposal_calls(proposal)?;
            let hash = description_hash(&proposal.description)?;
            let call = self.governor().queue_getcall(&calls, &hash);
            Ok(included(&self.send(vec![call], "queue").await?))
        })
    }

    fn execute<'a>(&'a self, proposal: &'a Proposal) -> Pending<'a, Included> {
        Box::pin(async move {
            let calls = proposal_calls(proposal)?;
            let hash = description_hash(&proposal.description)?;
            let call = self.governor().execute_getcall(&calls, &hash);
            Ok(included(&self.send(vec![call], "execute").await?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stark_keys_are_scalars_below_the_curve_order() {
        assert_eq!(parse_stark_key("0x1"), Some(Felt::ONE));
        assert_eq!(
            parse_stark_key(" 0x71d7bb07b9a64f6f78ac4c816aff4da9 "),
            Some(Felt::from_hex_unchecked(
                "0x71d7bb07b9a64f6f78ac4c816aff4da9"
            ))
        );
        for bad in [
            "",
            "0x",
            "0x0",
            "0xzz",
            "0x800000000000010ffffffffffffffffb781126dcae7b2321e66a241adc64d2f",
            "0x800000000000011000000000000000000000000000000000000000000000000",
            &format!("0x1{}", "0".repeat(64)),
        ] {
            assert_eq!(parse_stark_key(bad), None, "{bad}");
        }
    }
}
