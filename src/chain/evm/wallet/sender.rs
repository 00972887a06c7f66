//! [`TxSender`]: signs and sends transactions for one account and waits for their receipts.
//!
//! - Nonces are handed out locally, starting from the account's pending nonce on the chain, so concurrent
//!   sends get consecutive nonces without a round trip each. A send that fails before its transaction reached
//!   the node hands its nonce back; the next send reuses it, or, when none comes within a poll interval and
//!   later nonces are out already, a 0-value transfer to self fills the gap, so none is left behind.
//! - Gas is estimated first (plus 20% headroom): a call that would revert fails there, decoded, and consumes
//!   no nonce.
//! - Fees are EIP-1559, from the node's fee history. A transaction not mined after `replace_after` is re-sent
//!   with the same nonce and both fees raised by `fee_bump_percent` (at least 10%, the minimum nodes accept);
//!   the receipt of any of the hashes sent for that nonce ends the wait.
//! - A transaction may carry an EIP-4844 blob ([`TxSender::send_blob`]): a type-3 transaction whose blob fee is
//!   twice the node's blob base fee. Its replacements double all three fees (the blob pool's rule). While it is
//!   pending, geth and reth hold the account for the blob pool: the account's other transactions wait for it.
//! - A receipt with status 0 becomes [`TxError::Reverted`], its reason recovered by replaying the call at the
//!   receipt's block.
//!
//! Logs carry the hash, nonce and fees of every transaction sent, never the key.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use alloy::consensus::{
    SignableTransaction, TxEip1559, TxEip4844, TxEip4844WithSidecar, TxEnvelope,
};
use alloy::eips::eip7594::BlobTransactionSidecarVariant;
use alloy::eips::{BlockId, Encodable2718};
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, B256, Bytes, TxKind};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use alloy::transports::{RpcError, TransportErrorKind};

use super::revert::{Revert, decode_revert};
use crate::chain::{redact_error, redact_rpc_url};

/// How long one JSON-RPC call may take before it counts as failed.
const RPC_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a broadcast that failed in transport is retried (the node may have received it anyway).
const BROADCAST_RETRIES: u32 = 3;
/// How often a send picks a new nonce after finding its nonce used by another transaction of the account.
const NONCE_CONFLICT_RETRIES: u32 = 3;
/// After a replacement was refused with "nonce too low", how long to wait for a receipt of one of our own
/// hashes before concluding that another transaction took the nonce.
const NONCE_TAKEN_GRACE: Duration = Duration::from_secs(3);
/// The smallest fee bump nodes accept for a replacement (geth's default price bump).
const MIN_FEE_BUMP_PERCENT: u64 = 10;

/// Timing and fee policy of a [`TxSender`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderConfig {
    /// Give up waiting for a receipt this long after the first broadcast (default 60 s).
    pub receipt_timeout: Duration,
    /// Re-send with higher fees when not mined this long after the last broadcast (default 15 s).
    pub replace_after: Duration,
    /// Raise both EIP-1559 fees by this many percent per replacement (default 25; values below 10 count as 10).
    pub fee_bump_percent: u64,
    /// Replace a transaction at most this many times (default 5).
    pub max_replacements: u32,
    /// Poll for receipts this often (default 100 ms).
    pub poll_interval: Duration,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            receipt_timeout: Duration::from_secs(60),
            replace_after: Duration::from_secs(15),
            fee_bump_percent: 25,
            max_replacements: 5,
            poll_interval: Duration::from_millis(100),
        }
    }
}

/// A step of [`TxSender::send_with_gas_observed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStep {
    /// The signed transaction with this hash is being handed to the node (`eth_sendRawTransaction`).
    Broadcasting(B256),
    /// The node accepted the transaction with this hash; the wait for its receipt starts.
    Accepted(B256),
}

/// Why a transaction was not sent or did not succeed. Messages never contain a key, and RPC URLs in them
/// are redacted.
#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// The call reverted, at gas estimation (nothing was sent) or on chain (status 0, reason replayed).
    #[error("transaction reverted: {0}")]
    Reverted(Revert),
    /// No receipt for any of the hashes sent for the nonce within `receipt_timeout`; `hash` is the last one
    /// sent and may still be mined later.
    #[error("transaction {hash} not mined within {:.1} s", after.as_secs_f64())]
    Timeout {
        /// The most recent hash sent for the nonce.
        hash: B256,
        /// How long the sender waited.
        after: Duration,
    },
    /// Another transaction of this account (another process signing with the same key) used the nonce.
    #[error("nonce {nonce} was used by another transaction of this account")]
    NonceTaken {
        /// The nonce.
        nonce: u64,
    },
    /// The node refused the request (insufficient funds, fee too low, …); the node's message.
    #[error("node rejected {0}")]
    Rejected(String),
    /// The node could not be reached or did not answer in time.
    #[error("RPC error: {0}")]
    Rpc(String),
    /// The transaction could not be signed.
    #[error("cannot sign the transaction: {0}")]
    Sign(String),
}

/// EIP-1559 fees in wei per gas, as [`TxSender::estimate_fees`] reads them from the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fees {
    max_fee: u128,
    tip: u128,
    /// Max fee per blob gas; 0 for a transaction without blobs.
    blob: u128,
}

impl Fees {
    /// Both fees raised by `percent` (at least 1 wei), and at least the node's current `fresh` estimate.
    fn bumped(self, percent: u64, fresh: Option<Fees>) -> Fees {
        let up =
            |v: u128| v.saturating_add(v.saturating_mul(u128::from(percent)).div_ceil(100).max(1));
        let (mut max_fee, mut tip) = (up(self.max_fee), up(self.tip));
        if let Some(fresh) = fresh {
            max_fee = max_fee.max(fresh.max_fee);
            tip = tip.max(fresh.tip);
        }
        // Blob pools take a replacement only at twice the blob fee (and the caller doubles the others).
        let blob = match fresh {
            Some(fresh) => self.blob.saturating_mul(2).max(fresh.blob),
            None => self.blob.saturating_mul(2),
        };
        Fees {
            max_fee: max_fee.max(tip),
            tip,
            blob,
        }
    }
}

/// What a transaction carries: the call, and the blob sidecar of a type-3 transaction.
#[derive(Clone)]
struct Payload {
    to: Address,
    input: Bytes,
    blob: Option<Arc<BlobTransactionSidecarVariant>>,
}

impl Payload {
    fn call(to: Address, input: Bytes) -> Self {
        Self {
            to,
            input,
            blob: None,
        }
    }

    fn versioned_hashes(&self) -> Vec<B256> {
        self.blob
            .as_ref()
            .map(|b| b.versioned_hashes().collect())
            .unwrap_or_default()
    }
}

/// The local nonce counter: the next fresh nonce, and nonces handed back by failed sends (reused first).
#[derive(Debug, Default)]
struct Nonces {
    next: u64,
    released: BTreeSet<u64>,
}

impl Nonces {
    fn take(&mut self) -> u64 {
        if let Some(nonce) = self.released.pop_first() {
            return nonce;
        }
        let nonce = self.next;
        self.next += 1;
        nonce
    }

    /// Hands back a nonce whose transaction never reached the node.
    fn release(&mut self, nonce: u64) {
        if nonce >= self.next {
            return;
        }
        self.released.insert(nonce);
        while let Some(&last) = self.released.last()
            && last + 1 == self.next
        {
            self.released.remove(&last);
            self.next = last;
        }
    }

    /// Moves past nonces the chain shows as used (`pending` is the account's pending nonce).
    fn skip_used(&mut self, pending: u64) {
        self.next = self.next.max(pending);
        self.released.retain(|&n| n >= pending);
    }

    fn reset(&mut self, pending: u64) {
        self.next = pending;
        self.released.clear();
    }
}

/// What the node said to a broadcast.
enum Broadcast {
    Accepted,
    AlreadyKnown,
    NonceTooLow,
    ReplacementUnderpriced,
    Failed(TxError),
}

struct SignedTx {
    hash: B256,
    raw: Vec<u8>,
    fees: Fees,
}

struct Inner {
    provider: DynProvider,
    signer: PrivateKeySigner,
    chain_id: u64,
    config: SenderConfig,
    nonces: Mutex<Nonces>,
}

/// Sends transactions for one account; cheap to clone and safe to share between tasks.
#[derive(Clone)]
pub struct TxSender {
    inner: Arc<Inner>,
}

impl fmt::Debug for TxSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TxSender")
            .field("address", &self.address())
            .field("chain_id", &self.inner.chain_id)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// The error of a failed RPC call: a revert (decoded) when the node says the call reverted, the node's
/// refusal, or a transport failure; URLs redacted.
fn call_error(call: &str, e: &RpcError<TransportErrorKind>) -> TxError {
    if let Some(payload) = e.as_error_resp() {
        if payload.message.to_ascii_lowercase().contains("revert") {
            return TxError::Reverted(decode_revert(&payload.as_revert_data().unwrap_or_default()));
        }
        return TxError::Rejected(format!(
            "{call}: {} (code {})",
            redact_error(&payload.message),
            payload.code
        ));
    }
    TxError::Rpc(format!("{call}: {}", redact_error(&e.to_string())))
}

/// Runs one RPC call with [`RPC_TIMEOUT`], mapping its error with [`call_error`].
async fn rpc<T>(
    call: &str,
    fut: impl std::future::IntoFuture<Output = Result<T, RpcError<TransportErrorKind>>>,
) -> Result<T, TxError> {
    match tokio::time::timeout(RPC_TIMEOUT, fut).await {
        Ok(result) => result.map_err(|e| call_error(call, &e)),
        Err(_) => Err(TxError::Rpc(format!(
            "{call}: no answer within {} s",
            RPC_TIMEOUT.as_secs()
        ))),
    }
}

/// Sorts a broadcast reply into what the sender does next.
fn classify(e: &RpcError<TransportErrorKind>) -> Broadcast {
    if let Some(payload) = e.as_error_resp() {
        let message = payload.message.to_ascii_lowercase();
        if ["already known", "already imported", "known transaction"]
            .iter()
            .any(|s| message.contains(s))
        {
            return Broadcast::AlreadyKnown;
        }
        if message.contains("nonce too low") || message.contains("nonce is too low") {
            return Broadcast::NonceTooLow;
        }
        if message.contains("replacement") && message.contains("underpriced") {
            return Broadcast::ReplacementUnderpriced;
        }
    }
    Broadcast::Failed(call_error("eth_sendRawTransaction", e))
}

impl TxSender {
    /// Connects to `rpc_url`, reads the chain id and the account's pending nonce (so a restart recovers the
    /// nonce from the chain). `config.fee_bump_percent` below 10 is raised to 10. Errors with [`TxError::Rpc`]
    /// when the URL is invalid or the node does not answer.
    pub async fn connect(
        rpc_url: &str,
        signer: PrivateKeySigner,
        mut config: SenderConfig,
    ) -> Result<Self, TxError> {
        let url = rpc_url.parse().map_err(|e| {
            TxError::Rpc(format!("'{}' is not a URL: {e}", redact_rpc_url(rpc_url)))
        })?;
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .connect_http(url)
            .erased();
        config.fee_bump_percent = config.fee_bump_percent.max(MIN_FEE_BUMP_PERCENT);
        let address = signer.address();
        let chain_id = rpc("eth_chainId", provider.get_chain_id()).await?;
        let nonce = rpc(
            "eth_getTransactionCount",
            provider.get_transaction_count(address).pending(),
        )
        .await?;
        let mut nonces = Nonces::default();
        nonces.reset(nonce);
        tracing::info!(%address, chain_id, nonce, "transaction sender ready");
        Ok(Self {
            inner: Arc::new(Inner {
                provider,
                signer,
                chain_id,
                config,
                nonces: Mutex::new(nonces),
            }),
        })
    }

    /// The sending account.
    pub fn address(&self) -> Address {
        self.inner.signer.address()
    }

    /// The chain id the node reported at [`connect`](Self::connect); every transaction is signed for it.
    pub fn chain_id(&self) -> u64 {
        self.inner.chain_id
    }

    /// A read-only provider on the same endpoint (for calls and receipts); it holds no signer.
    pub fn provider(&self) -> &DynProvider {
        &self.inner.provider
    }

    /// Sends `input` to `to` (no value): estimates gas (a revert here is returned decoded, and no nonce is
    /// consumed), takes the next nonce, prices it with EIP-1559 fees from the node, signs, broadcasts and waits
    /// for the receipt; re-sends the same nonce with fees raised by `fee_bump_percent` when not mined after
    /// `replace_after`. Errors: [`TxError::Reverted`] (at estimation, or status 0 with the reason recovered by
    /// replaying the call), [`TxError::Timeout`] after `receipt_timeout`, [`TxError::NonceTaken`],
    /// [`TxError::Rejected`], [`TxError::Rpc`].
    pub async fn send(&self, to: Address, input: Bytes) -> Result<TransactionReceipt, TxError> {
        let payload = Payload::call(to, input);
        let gas = self.estimate_gas(&payload).await?;
        self.send_payload(payload, gas, None, |_| {}).await
    }

    /// [`send`](Self::send) as a type-3 transaction carrying `sidecar`'s blobs: the call sees their versioned
    /// hashes (`blobhash(i)`), at estimation too. The blob fee is twice the node's blob base fee.
    pub async fn send_blob(
        &self,
        to: Address,
        input: Bytes,
        sidecar: BlobTransactionSidecarVariant,
    ) -> Result<TransactionReceipt, TxError> {
        let payload = Payload {
            to,
            input,
            blob: Some(Arc::new(sidecar)),
        };
        let fees = self.fees_for(&payload).await?;
        let gas = rpc(
            "eth_estimateGas",
            self.provider()
                .estimate_gas(self.request(&payload).max_fee_per_blob_gas(fees.blob)),
        )
        .await?;
        self.send_payload(payload, gas.saturating_add(gas / 5), Some(fees), |_| {})
            .await
    }

    /// Like [`send`](Self::send) with an explicit gas limit (skips estimation), e.g. for batch transactions; a
    /// call that reverts is then mined with status 0 and returned as [`TxError::Reverted`].
    pub async fn send_with_gas(
        &self,
        to: Address,
        input: Bytes,
        gas: u64,
    ) -> Result<TransactionReceipt, TxError> {
        self.send_with_gas_observed(to, input, gas, None, |_| {})
            .await
    }

    /// Like [`send_with_gas`](Self::send_with_gas), telling `observe` when the signed transaction goes to the node
    /// ([`SendStep::Broadcasting`], once per transaction signed: again only after a nonce conflict) and when the
    /// node has accepted it ([`SendStep::Accepted`], before the wait for its receipt). `fees`, when given, prices
    /// the first transaction: an estimate the caller read from [`estimate_fees`](Self::estimate_fees) while it
    /// prepared the call, which saves a round trip on the way to the node (replacements re-read them).
    pub async fn send_with_gas_observed(
        &self,
        to: Address,
        input: Bytes,
        gas: u64,
        fees: Option<Fees>,
        observe: impl FnMut(SendStep) + Send,
    ) -> Result<TransactionReceipt, TxError> {
        self.send_payload(Payload::call(to, input), gas, fees, observe)
            .await
    }

    async fn send_payload(
        &self,
        payload: Payload,
        gas: u64,
        fees: Option<Fees>,
        mut observe: impl FnMut(SendStep) + Send,
    ) -> Result<TransactionReceipt, TxError> {
        let fees = match fees {
            Some(fees) => fees,
            None => self.fees_for(&payload).await?,
        };
        let to = payload.to;
        let mut conflicts = 0;
        let (nonce, first) = loop {
            let nonce = self.nonces().take();
            let tx = match self.sign(nonce, &payload, gas, fees) {
                Ok(tx) => tx,
                Err(e) => {
                    self.release_nonce(nonce);
                    return Err(e);
                }
            };
            observe(SendStep::Broadcasting(tx.hash));
            match self.broadcast(&tx.raw).await {
                Broadcast::Accepted | Broadcast::AlreadyKnown => break (nonce, tx),
                Broadcast::NonceTooLow | Broadcast::ReplacementUnderpriced
                    if self.known(tx.hash).await =>
                {
                    break (nonce, tx);
                }
                Broadcast::NonceTooLow | Broadcast::ReplacementUnderpriced => {
                    // Someone else signs for this account too; the nonce is gone, not to be handed back.
                    tracing::warn!(
                        nonce,
                        address = %self.address(),
                        "nonce already used by another transaction of this account; taking a newer one"
                    );
                    conflicts += 1;
                    if conflicts > NONCE_CONFLICT_RETRIES {
                        return Err(TxError::NonceTaken { nonce });
                    }
                    let pending = self.pending_nonce().await?;
                    self.nonces().skip_used(pending);
                }
                Broadcast::Failed(e) => {
                    // A transport failure may hide a delivered transaction: only a nonce the node has not
                    // seen goes back.
                    if matches!(e, TxError::Rpc(_)) && self.known(tx.hash).await {
                        break (nonce, tx);
                    }
                    self.release_nonce(nonce);
                    return Err(e);
                }
            }
        };
        observe(SendStep::Accepted(first.hash));
        tracing::info!(
            hash = %first.hash,
            nonce,
            gas,
            max_fee_per_gas = first.fees.max_fee,
            max_priority_fee_per_gas = first.fees.tip,
            from = %self.address(),
            %to,
            "transaction sent"
        );
        self.wait(nonce, &payload, gas, first).await
    }

    /// [`send`](Self::send) for a typed `sol!` call, e.g.
    /// `sender.call(registry, &WorkerRegistry::stakeCall { amount })`.
    pub async fn call<C: SolCall>(
        &self,
        to: Address,
        call: &C,
    ) -> Result<TransactionReceipt, TxError> {
        self.send(to, call.abi_encode().into()).await
    }

    /// Re-reads the pending nonce from the chain and continues from it, forgetting nonces handed back (after
    /// an error that may have left a gap, or after another process used the account). Call it while no other
    /// send of this sender is in flight. Errors with [`TxError::Rpc`].
    pub async fn resync_nonce(&self) -> Result<(), TxError> {
        let pending = self.pending_nonce().await?;
        self.nonces().reset(pending);
        tracing::info!(address = %self.address(), nonce = pending, "nonce resynced from the chain");
        Ok(())
    }

    /// Hands back `nonce`, whose transaction never reached the node. When later nonces are out already, the gap
    /// would hold their transactions back: unless a send reuses the nonce within one poll interval, it is filled
    /// with a 0-value transfer to this account (replaced and awaited like any transaction).
    fn release_nonce(&self, nonce: u64) {
        let gap = {
            let mut nonces = self.nonces();
            nonces.release(nonce);
            nonces.released.contains(&nonce)
        };
        if gap {
            let sender = self.clone();
            tokio::spawn(async move { sender.fill_gap(nonce).await });
        }
    }

    async fn fill_gap(&self, nonce: u64) {
        tokio::time::sleep(self.inner.config.poll_interval).await;
        if !self.nonces().released.remove(&nonce) {
            return; // reused by a send meanwhile
        }
        let transfer = Payload::call(self.address(), Bytes::new());
        let tx = match self
            .fees()
            .await
            .and_then(|fees| self.sign(nonce, &transfer, 21_000, fees))
        {
            Ok(tx) => tx,
            Err(e) => {
                tracing::warn!(nonce, error = %e, "cannot fill the nonce gap now; the next send reuses the nonce");
                self.nonces().release(nonce);
                return;
            }
        };
        match self.broadcast(&tx.raw).await {
            Broadcast::Accepted | Broadcast::AlreadyKnown => {
                tracing::info!(hash = %tx.hash, nonce, "nonce gap filled with a 0-value transfer to self");
                if let Err(e) = self.wait(nonce, &transfer, 21_000, tx).await {
                    tracing::warn!(nonce, error = %e, "the gap-filling transfer did not complete");
                }
            }
            // Used on chain already: no gap.
            Broadcast::NonceTooLow | Broadcast::ReplacementUnderpriced => {}
            Broadcast::Failed(e) => {
                tracing::warn!(nonce, error = %e, "cannot fill the nonce gap now; the next send reuses the nonce");
                self.nonces().release(nonce);
            }
        }
    }

    fn nonces(&self) -> MutexGuard<'_, Nonces> {
        // The counter stays consistent across a panic elsewhere: every update is a single step.
        self.inner.nonces.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn pending_nonce(&self) -> Result<u64, TxError> {
        rpc(
            "eth_getTransactionCount",
            self.provider()
                .get_transaction_count(self.address())
                .pending(),
        )
        .await
    }

    fn request(&self, payload: &Payload) -> TransactionRequest {
        let mut request = TransactionRequest::default()
            .from(self.address())
            .to(payload.to)
            .input(payload.input.clone().into());
        if payload.blob.is_some() {
            request.blob_versioned_hashes = Some(payload.versioned_hashes());
        }
        request
    }

    async fn estimate_gas(&self, payload: &Payload) -> Result<u64, TxError> {
        let gas = rpc(
            "eth_estimateGas",
            self.provider().estimate_gas(self.request(payload)),
        )
        .await?;
        Ok(gas.saturating_add(gas / 5))
    }

    /// The node's current EIP-1559 fees (`eth_feeHistory`), as a send would price its transaction with them.
    /// Errors with [`TxError::Rpc`].
    pub async fn estimate_fees(&self) -> Result<Fees, TxError> {
        self.fees().await
    }

    async fn fees(&self) -> Result<Fees, TxError> {
        let estimate = rpc("eth_feeHistory", self.provider().estimate_eip1559_fees()).await?;
        Ok(Fees {
            max_fee: estimate
                .max_fee_per_gas
                .max(estimate.max_priority_fee_per_gas),
            tip: estimate.max_priority_fee_per_gas,
            blob: 0,
        })
    }

    /// [`fees`](Self::fees), with twice the blob base fee (at least 1 wei) when `payload` carries blobs.
    async fn fees_for(&self, payload: &Payload) -> Result<Fees, TxError> {
        let mut fees = self.fees().await?;
        if payload.blob.is_some() {
            let base = rpc("eth_blobBaseFee", self.provider().get_blob_base_fee()).await?;
            fees.blob = base.saturating_mul(2).max(1);
        }
        Ok(fees)
    }

    fn sign(
        &self,
        nonce: u64,
        payload: &Payload,
        gas: u64,
        fees: Fees,
    ) -> Result<SignedTx, TxError> {
        let signer = &self.inner.signer;
        let sign_error = |e: alloy::signers::Error| TxError::Sign(e.to_string());
        let (hash, raw) = match &payload.blob {
            None => {
                let mut tx = TxEip1559 {
                    chain_id: self.inner.chain_id,
                    nonce,
                    gas_limit: gas,
                    max_fee_per_gas: fees.max_fee,
                    max_priority_fee_per_gas: fees.tip,
                    to: TxKind::Call(payload.to),
                    input: payload.input.clone(),
                    ..Default::default()
                };
                let signature = signer.sign_transaction_sync(&mut tx).map_err(sign_error)?;
                let signed = tx.into_signed(signature);
                (*signed.hash(), TxEnvelope::from(signed).encoded_2718())
            }
            Some(sidecar) => {
                let tx = TxEip4844 {
                    chain_id: self.inner.chain_id,
                    nonce,
                    gas_limit: gas,
                    max_fee_per_gas: fees.max_fee,
                    max_priority_fee_per_gas: fees.tip,
                    to: payload.to,
                    input: payload.input.clone(),
                    blob_versioned_hashes: payload.versioned_hashes(),
                    max_fee_per_blob_gas: fees.blob,
                    ..Default::default()
                };
                // The signature covers the transaction without its sidecar; the node gets both (the network
                // form), and the hash is the transaction's alone.
                let mut tx = TxEip4844WithSidecar::from_tx_and_sidecar(tx, (**sidecar).clone());
                let signature = signer.sign_transaction_sync(&mut tx).map_err(sign_error)?;
                let signed = tx.into_signed(signature);
                (*signed.hash(), TxEnvelope::from(signed).encoded_2718())
            }
        };
        Ok(SignedTx { hash, raw, fees })
    }

    /// Broadcasts, retrying transport failures (a retry of a delivered transaction answers "already known").
    async fn broadcast(&self, raw: &[u8]) -> Broadcast {
        let mut attempt = 0;
        loop {
            let outcome =
                match tokio::time::timeout(RPC_TIMEOUT, self.provider().send_raw_transaction(raw))
                    .await
                {
                    Ok(Ok(_)) => Broadcast::Accepted,
                    Ok(Err(e)) => classify(&e),
                    Err(_) => Broadcast::Failed(TxError::Rpc(format!(
                        "eth_sendRawTransaction: no answer within {} s",
                        RPC_TIMEOUT.as_secs()
                    ))),
                };
            match outcome {
                Broadcast::Failed(TxError::Rpc(message)) if attempt < BROADCAST_RETRIES => {
                    attempt += 1;
                    tracing::warn!(attempt, error = %message, "broadcast failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200) * attempt).await;
                }
                other => return other,
            }
        }
    }

    /// Whether the node knows the transaction `hash` (pending or mined).
    async fn known(&self, hash: B256) -> bool {
        matches!(
            rpc(
                "eth_getTransactionByHash",
                self.provider().get_transaction_by_hash(hash)
            )
            .await,
            Ok(Some(_))
        )
    }

    /// Waits for a receipt of any hash sent for `nonce`, replacing the transaction when it is slow.
    async fn wait(
        &self,
        nonce: u64,
        payload: &Payload,
        gas: u64,
        first: SignedTx,
    ) -> Result<TransactionReceipt, TxError> {
        let config = &self.inner.config;
        let started = Instant::now();
        let mut last_sent = started;
        let mut fees = first.fees;
        let mut sent = vec![first.hash];
        let mut replacements = 0;
        let mut nonce_used_since: Option<Instant> = None;
        loop {
            for &hash in sent.iter().rev() {
                match rpc(
                    "eth_getTransactionReceipt",
                    self.provider().get_transaction_receipt(hash),
                )
                .await
                {
                    Ok(Some(receipt)) => return self.outcome(receipt, payload, gas).await,
                    Ok(None) => {}
                    Err(e) => tracing::debug!(%hash, error = %e, "receipt poll failed"),
                }
            }
            let waited = started.elapsed();
            let last = *sent.last().expect("at least one hash was sent");
            if waited >= config.receipt_timeout {
                tracing::warn!(hash = %last, nonce, "no receipt within the timeout");
                return Err(TxError::Timeout {
                    hash: last,
                    after: waited,
                });
            }
            if nonce_used_since.is_some_and(|since| since.elapsed() >= NONCE_TAKEN_GRACE) {
                return Err(TxError::NonceTaken { nonce });
            }
            if nonce_used_since.is_none()
                && replacements < config.max_replacements
                && last_sent.elapsed() >= config.replace_after
            {
                replacements += 1;
                last_sent = Instant::now();
                // Blob pools (geth, reth) take a blob transaction's replacement only at twice every fee.
                let percent = if payload.blob.is_some() {
                    config.fee_bump_percent.max(100)
                } else {
                    config.fee_bump_percent
                };
                fees = fees.bumped(percent, self.fees_for(payload).await.ok());
                let tx = self.sign(nonce, payload, gas, fees)?;
                match self.broadcast(&tx.raw).await {
                    Broadcast::Accepted | Broadcast::AlreadyKnown => {
                        tracing::info!(
                            hash = %tx.hash,
                            replaces = %last,
                            nonce,
                            max_fee_per_gas = fees.max_fee,
                            max_priority_fee_per_gas = fees.tip,
                            replacement = replacements,
                            "transaction not mined yet; replacement sent with higher fees"
                        );
                        sent.push(tx.hash);
                    }
                    Broadcast::NonceTooLow => {
                        // One of the hashes already sent was mined (or another transaction took the nonce).
                        tracing::info!(
                            nonce,
                            "nonce already mined; waiting for the receipt of a hash sent earlier"
                        );
                        nonce_used_since = Some(Instant::now());
                    }
                    Broadcast::ReplacementUnderpriced => tracing::warn!(
                        nonce,
                        max_fee_per_gas = fees.max_fee,
                        "replacement refused as underpriced; the next one bids higher"
                    ),
                    Broadcast::Failed(e) => tracing::warn!(
                        nonce,
                        error = %e,
                        "replacement not broadcast; still waiting for the earlier transaction"
                    ),
                }
            }
            tokio::time::sleep(config.poll_interval).await;
        }
    }

    /// The receipt when it succeeded; otherwise the revert reason, replayed at the receipt's block.
    async fn outcome(
        &self,
        receipt: TransactionReceipt,
        payload: &Payload,
        gas: u64,
    ) -> Result<TransactionReceipt, TxError> {
        let hash = receipt.transaction_hash;
        if receipt.status() {
            tracing::info!(%hash, block = receipt.block_number, gas_used = receipt.gas_used, "transaction mined");
            return Ok(receipt);
        }
        let block = receipt
            .block_number
            .map_or_else(BlockId::latest, BlockId::number);
        let replay = self
            .provider()
            .call(self.request(payload).gas_limit(gas))
            .block(block);
        let revert = match rpc("eth_call", replay).await {
            Err(TxError::Reverted(revert)) => revert,
            Err(e) => {
                tracing::warn!(%hash, error = %e, "cannot recover the revert reason");
                decode_revert(&[])
            }
            Ok(_) => decode_revert(&[]),
        };
        tracing::warn!(%hash, block = receipt.block_number, %revert, "transaction reverted");
        Err(TxError::Reverted(revert))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_consecutive_and_failed_ones_are_reused() {
        let mut n = Nonces::default();
        n.reset(5);
        assert_eq!((n.take(), n.take(), n.take()), (5, 6, 7));
        // The newest failing goes straight back to the counter.
        n.release(7);
        assert_eq!(n.take(), 7);
        // An older one is reused before any fresh nonce.
        n.release(5);
        assert_eq!((n.take(), n.take()), (5, 8));
        // Handed back out of order, they collapse into the counter.
        n.release(7);
        n.release(8);
        assert_eq!(n.next, 7);
        assert!(n.released.is_empty());
        // Nonces the chain shows as used are skipped, never reused.
        n.release(6);
        n.skip_used(9);
        assert_eq!(n.take(), 9);
        // Unknown nonces are ignored.
        n.release(100);
        assert_eq!(n.take(), 10);
    }

    #[test]
    fn fee_bumps_satisfy_the_replacement_rule() {
        let fees = Fees {
            max_fee: 2_000_000_000,
            tip: 1_000_000,
            blob: 0,
        };
        let bumped = fees.bumped(10, None);
        assert_eq!(bumped.max_fee, 2_200_000_000);
        assert_eq!(bumped.tip, 1_100_000);
        assert_eq!(bumped.blob, 0);
        // Tiny fees still go up, and a higher current estimate wins.
        let zero = Fees {
            max_fee: 0,
            tip: 0,
            blob: 0,
        };
        assert_eq!(
            zero.bumped(25, None),
            Fees {
                max_fee: 1,
                tip: 1,
                blob: 0
            }
        );
        let fresh = Fees {
            max_fee: 9_000_000_000,
            tip: 5,
            blob: 0,
        };
        let bumped = fees.bumped(25, Some(fresh));
        assert_eq!(bumped.max_fee, 9_000_000_000);
        // A blob transaction's replacement doubles its blob fee, whatever the percentage.
        let blob = Fees { blob: 7, ..fees };
        assert_eq!(blob.bumped(10, None).blob, 14);
        assert_eq!(bumped.tip, 1_250_000);
    }
}
