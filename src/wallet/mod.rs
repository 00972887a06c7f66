//! Placeholder replaced by the wallet module (keystores, signers, transactions).
#![allow(missing_docs, dead_code)]
use std::time::Duration;

use alloy::primitives::{Address, B256, Bytes};
use alloy::rpc::types::TransactionReceipt;

#[derive(Debug, thiserror::Error)]
pub enum TxError {
    #[error("reverted: {0}")]
    Reverted(String),
    #[error("timeout {hash} after {after:?}")]
    Timeout { hash: B256, after: Duration },
    #[error("rpc: {0}")]
    Rpc(String),
}

#[derive(Clone)]
pub struct TxSender {
    provider: alloy::providers::DynProvider,
}

impl TxSender {
    pub fn address(&self) -> Address {
        Address::ZERO
    }
    pub fn chain_id(&self) -> u64 {
        0
    }
    pub fn provider(&self) -> &alloy::providers::DynProvider {
        &self.provider
    }
    pub async fn send(&self, _to: Address, _input: Bytes) -> Result<TransactionReceipt, TxError> {
        Err(TxError::Rpc("unavailable".into()))
    }
    pub async fn send_with_gas(
        &self,
        _to: Address,
        _input: Bytes,
        _gas: u64,
    ) -> Result<TransactionReceipt, TxError> {
        Err(TxError::Rpc("unavailable".into()))
    }
}

pub fn decode_revert(data: &[u8]) -> String {
    format!("{data:?}")
}

#[derive(Debug, Clone, Default)]
pub struct SenderConfig;

impl TxSender {
    pub async fn connect(
        _rpc_url: &str,
        _signer: alloy::signers::local::PrivateKeySigner,
        _config: SenderConfig,
    ) -> Result<Self, TxError> {
        Err(TxError::Rpc("unavailable".into()))
    }
}

impl TxSender {
    pub async fn call<C: alloy::sol_types::SolCall>(
        &self,
        _to: Address,
        _call: &C,
    ) -> Result<TransactionReceipt, TxError> {
        Err(TxError::Rpc("unavailable".into()))
    }
}
