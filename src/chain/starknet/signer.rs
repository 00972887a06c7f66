//! A Starknet account that signs: a provider, an account contract and its single key (starknet-rs's
//! `SingleOwnerAccount`), and waiting for a transaction to be accepted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use starknet::accounts::{ExecutionEncoding, SingleOwnerAccount};
use starknet::core::types::{
    ExecutionResult, Felt, StarknetError, TransactionReceiptWithBlockInfo,
};
use starknet::providers::jsonrpc::HttpTransport;
use starknet::providers::{JsonRpcClient, Provider, ProviderError};
use starknet::signers::{LocalWallet, SigningKey};

/// A JSON-RPC provider.
pub type Rpc = JsonRpcClient<HttpTransport>;

/// An account with its key.
pub type Signer = SingleOwnerAccount<Arc<Rpc>, LocalWallet>;

/// A provider for `rpc_url`; errors name the URL redacted.
pub fn provider(rpc_url: &str) -> anyhow::Result<Arc<Rpc>> {
    let url: reqwest::Url = rpc_url
        .parse()
        .map_err(|_| anyhow::anyhow!("'{}' is not a URL", crate::chain::redact_rpc_url(rpc_url)))?;
    Ok(Arc::new(JsonRpcClient::new(HttpTransport::new(url))))
}

/// The account contract at `address` signing with `key`, on the chain `provider` serves.
pub async fn signer(provider: Arc<Rpc>, address: Felt, key: Felt) -> anyhow::Result<Signer> {
    let chain_id = provider
        .chain_id()
        .await
        .context("starknet_chainId: no Starknet node answers")?;
    let wallet = LocalWallet::from(SigningKey::from_secret_scalar(key));
    Ok(SingleOwnerAccount::new(
        provider,
        wallet,
        address,
        chain_id,
        ExecutionEncoding::New,
    ))
}

/// Waits (up to `timeout`) until transaction `tx` has a receipt; an error when it reverted, quoting the reason.
pub async fn wait_for(
    provider: &Rpc,
    tx: Felt,
    timeout: Duration,
) -> anyhow::Result<TransactionReceiptWithBlockInfo> {
    let start = Instant::now();
    loop {
        match provider.get_transaction_receipt(tx).await {
            Ok(receipt) => {
                if let ExecutionResult::Reverted { reason } = receipt.receipt.execution_result() {
                    anyhow::bail!("transaction {tx:#x} reverted: {}", revert_reason(reason));
                }
                return Ok(receipt);
            }
            Err(ProviderError::StarknetError(StarknetError::TransactionHashNotFound)) => {}
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "starknet_getTransactionReceipt({tx:#x}): {e}"
                ));
            }
        }
        if start.elapsed() > timeout {
            anyhow::bail!(
                "transaction {tx:#x} has no receipt after {} s",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The readable part of a revert reason: the short-string panics Cairo contracts raise, decoded from the hex
/// felts the sequencer quotes (`0x4e6f74436c69656e74 ('NotClient')`); the whole reason when none is found.
pub fn revert_reason(reason: &str) -> String {
    let quoted: Vec<&str> = reason
        .split("('")
        .skip(1)
        .filter_map(|s| s.split("')").next())
        .filter(|s| !s.is_empty() && *s != "ENTRYPOINT_FAILED")
        .collect();
    match quoted.first() {
        Some(first) => (*first).to_owned(),
        None => reason.lines().last().unwrap_or(reason).trim().to_owned(),
    }
}

/// What an account's refused transaction says: the contract's panic when the node quotes one (the fee
/// estimate of a transaction that would revert fails with its reason), else the error itself.
pub fn account_error<S: std::error::Error>(e: &starknet::accounts::AccountError<S>) -> String {
    use starknet::accounts::AccountError;
    match e {
        AccountError::Provider(ProviderError::StarknetError(
            StarknetError::TransactionExecutionError(data),
        )) => revert_reason(&format!("{:?}", data.execution_error)),
        other => other.to_string(),
    }
}

/// The nonces of one account handed out locally, so that concurrent sends (a worker agent running two jobs, a
/// scheduler with transactions in flight) get consecutive nonces instead of the same one read from the node.
/// Read from the chain at first and again after a failed send (another sender, a dropped transaction).
#[derive(Debug, Default)]
pub struct Nonces(tokio::sync::Mutex<Option<Felt>>);

impl Nonces {
    /// Sends `calls` from `account` with the next nonce and returns the transaction's hash; an error is the
    /// node's refusal in words (the contract's panic when it quotes one).
    pub async fn send(
        &self,
        account: &Signer,
        calls: Vec<starknet::core::types::Call>,
    ) -> Result<Felt, String> {
        use starknet::accounts::{Account as _, ConnectedAccount as _};
        let mut next = self.0.lock().await;
        let nonce = match *next {
            Some(n) => n,
            None => account
                .get_nonce()
                .await
                .map_err(|e| format!("starknet_getNonce: {e}"))?,
        };
        match account.execute_v3(calls).nonce(nonce).send().await {
            Ok(sent) => {
                *next = Some(nonce + Felt::ONE);
                Ok(sent.transaction_hash)
            }
            Err(e) => {
                *next = None;
                Err(account_error(&e))
            }
        }
    }
}
