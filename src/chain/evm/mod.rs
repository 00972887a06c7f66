//! EVM chains: typed bindings generated from `abi/`, log decoding, and the [`EvmChain`] client.

pub mod bindings;
pub mod decode;

use std::time::Duration;

use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder, RootProvider};
use alloy::rpc::types::Filter;

use super::{BlockRef, Chain, Error, Result};
use crate::deployment::Manifest;
use crate::indexer::EventRecord;
use decode::Decoder;

/// A JSON-RPC client for one EVM chain and one deployment.
#[derive(Debug, Clone)]
pub struct EvmChain {
    provider: RootProvider,
    chain_id: u64,
    addresses: Vec<Address>,
    decoder: Decoder,
    timeout: Duration,
}

fn rpc_error(call: &'static str, e: impl std::fmt::Display) -> Error {
    let message = super::redact_error(&e.to_string());
    let lower = message.to_ascii_lowercase();
    let too_large = [
        "too many",
        "more than",
        "limit exceeded",
        "range",
        "response size",
        "-32005",
    ]
    .iter()
    .any(|needle| lower.contains(needle));
    Error::Rpc {
        call,
        message,
        too_large,
        timed_out: false,
    }
}

impl EvmChain {
    /// Connects to `rpc_url` for the contracts of `manifest`; checks the node's chain id against it.
    pub async fn connect(rpc_url: &str, manifest: &Manifest, timeout: Duration) -> Result<Self> {
        let url = rpc_url.parse().map_err(|e| Error::Invalid {
            call: "connect",
            message: format!("'{}' is not a URL: {e}", super::redact_rpc_url(rpc_url)),
        })?;
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .connect_http(url);
        let chain = Self {
            provider,
            chain_id: manifest.chain_id,
            addresses: manifest
                .contracts
                .iter()
                .iter()
                .map(|(_, c)| c.address)
                .collect(),
            decoder: Decoder::new(manifest),
            timeout,
        };
        let actual = chain
            .call("eth_chainId", chain.provider.get_chain_id())
            .await?;
        if actual != manifest.chain_id {
            return Err(Error::Invalid {
                call: "eth_chainId",
                message: format!(
                    "node is chain {actual} but the manifest is for chain {}",
                    manifest.chain_id
                ),
            });
        }
        Ok(chain)
    }

    /// The underlying provider, for calls outside the indexer.
    pub fn provider(&self) -> &RootProvider {
        &self.provider
    }

    async fn call<T, E: std::fmt::Display>(
        &self,
        name: &'static str,
        fut: impl std::future::IntoFuture<Output = std::result::Result<T, E>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.timeout, fut.into_future()).await {
            Ok(result) => result.map_err(|e| rpc_error(name, e)),
            Err(_) => Err(Error::Rpc {
                call: name,
                message: format!("no answer within {} ms", self.timeout.as_millis()),
                too_large: false,
                timed_out: true,
            }),
        }
    }
}

impl Chain for EvmChain {
    fn chain_id(&self) -> u64 {
        self.chain_id
    }

    async fn head(&self) -> Result<u64> {
        self.call("eth_blockNumber", self.provider.get_block_number())
            .await
    }

    async fn block(&self, number: u64) -> Result<BlockRef> {
        let block = self
            .call(
                "eth_getBlockByNumber",
                self.provider.get_block_by_number(number.into()),
            )
            .await?;
        let block = block.ok_or_else(|| Error::Invalid {
            call: "eth_getBlockByNumber",
            message: format!("block {number} not found"),
        })?;
        Ok(BlockRef {
            number,
            hash: format!("{:#x}", block.header.hash),
            parent_hash: format!("{:#x}", block.header.parent_hash),
        })
    }

    async fn events(&self, from: u64, to: u64) -> Result<Vec<EventRecord>> {
        let filter = Filter::new()
            .from_block(from)
            .to_block(to)
            .address(self.addresses.clone());
        let logs: Vec<decode::RpcLog> = self
            .call(
                "eth_getLogs",
                self.provider.raw_request("eth_getLogs".into(), (&filter,)),
            )
            .await?;
        let mut out = Vec::with_capacity(logs.len());
        for log in &logs {
            out.push(self.decoder.decode(self.chain_id, log)?);
        }
        // Apply depends on order; do not trust a provider to return logs sorted.
        out.sort_by_key(|e| (e.block_number, e.log_index));
        if out
            .windows(2)
            .any(|w| (w[0].block_number, w[0].log_index) == (w[1].block_number, w[1].log_index))
        {
            return Err(Error::Invalid {
                call: "eth_getLogs",
                message: format!("duplicate logs in blocks {from}..={to}"),
            });
        }
        Ok(out)
    }
}
