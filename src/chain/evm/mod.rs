//! EVM chains: typed bindings generated from `abi/`, log decoding, and the [`EvmChain`] client.

pub mod account;
pub mod bindings;
pub mod blob;
pub mod coordinate;
pub mod decode;
pub mod deployment;
pub mod devnet;
pub mod offchain;
pub mod ops;
pub mod protocol;
pub mod wallet;

use std::time::Duration;

use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder, RootProvider};
use alloy::rpc::types::Filter;

use super::{BlockRef, Chain, Error, Result};
use crate::deployment::Manifest;
use crate::domain::EventRecord;
pub use account::EvmAccount;
pub use coordinate::EvmCoordinator;
use decode::Decoder;
pub use offchain::EvmVerifier;

/// An EVM account's private key (zeroized on drop).
pub type Key = alloy::signers::local::PrivateKeySigner;

/// A read-only provider on `rpc_url` (no fillers: it signs and sends nothing). Errors say the URL is not one,
/// with its secrets redacted.
pub fn read_provider(rpc_url: &str) -> anyhow::Result<RootProvider> {
    let url = rpc_url
        .parse()
        .map_err(|_| anyhow::anyhow!("'{}' is not a URL", super::redact_rpc_url(rpc_url)))?;
    Ok(ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_http(url))
}

/// The chain id of the node at `rpc_url`, asked within `timeout`. Errors name the node by its redacted URL: not
/// a URL, no answer within the timeout, or no node answering.
pub async fn chain_id_at(rpc_url: &str, timeout: Duration) -> anyhow::Result<u64> {
    let provider = read_provider(rpc_url)?;
    let redacted = super::redact_rpc_url(rpc_url);
    tokio::time::timeout(timeout, provider.get_chain_id())
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "no answer from the JSON-RPC node at {redacted} within {:.1} s",
                timeout.as_secs_f64()
            )
        })?
        .map_err(|e| {
            anyhow::anyhow!(
                "no JSON-RPC node answers at {redacted}: {}",
                super::redact_error(&e.to_string())
            )
        })
}

/// The EVM form of an address of the protocol; an error when it is another family's.
pub fn evm_address(address: &crate::domain::Address) -> std::result::Result<Address, String> {
    if address.family() != crate::domain::Family::Evm {
        return Err(format!(
            "{address} is a {} address, not an EVM one",
            address.family()
        ));
    }
    address
        .as_str()
        .parse()
        .map_err(|_| format!("{address} is not an EVM address"))
}

/// One deployment's chain and contract addresses in EVM form, from its manifest or from the `/v1/status` of a
/// coordinator serving it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// Chain id.
    pub chain_id: u64,
    /// AccordToken.
    pub token: Address,
    /// TimelockController.
    pub timelock: Address,
    /// AccordGovernor.
    pub governor: Address,
    /// WorkerRegistry.
    pub registry: Address,
    /// JobManager.
    pub job_manager: Address,
}

impl Deployment {
    /// The deployment of an EVM manifest; an error naming the manifest's family when it is not EVM.
    pub fn of(manifest: &Manifest) -> std::result::Result<Self, String> {
        if manifest.family() != crate::domain::Family::Evm {
            return Err(format!(
                "the manifest of chain {} is a {} deployment, not an EVM one",
                manifest.chain_id,
                manifest.family()
            ));
        }
        let k = &manifest.contracts;
        Ok(Self {
            chain_id: manifest.chain_id,
            token: evm_address(&k.token.address)?,
            timelock: evm_address(&k.timelock.address)?,
            governor: evm_address(&k.governor.address)?,
            registry: evm_address(&k.registry.address)?,
            job_manager: evm_address(&k.job_manager.address)?,
        })
    }

    /// [`of`](Self::of) as an `anyhow` result.
    pub fn from_manifest(manifest: &Manifest) -> anyhow::Result<Self> {
        Self::of(manifest).map_err(anyhow::Error::msg)
    }

    /// Reads the deployment on chain `chain_id` from the `/v1/status` of the coordinator at `api_url`, pinned on
    /// first use ([`crate::remote::pin`]): an API that later lists other contracts for a public chain is refused.
    pub async fn from_api(
        http: &reqwest::Client,
        api_url: &str,
        chain_id: u64,
    ) -> anyhow::Result<Self> {
        use anyhow::Context;
        let chain = crate::remote::chain(http, api_url, chain_id).await?;
        crate::remote::pin_known(&chain, api_url, wallet::is_devnet(chain_id))?;
        let address = |name: &str| -> anyhow::Result<Address> {
            chain
                .contracts
                .get(name)
                .and_then(|a| a.parse().ok())
                .with_context(|| format!("{api_url}/v1/status lists no {name} on {}", chain.name))
        };
        Ok(Self {
            chain_id,
            token: address("AccordToken")?,
            timelock: address("TimelockController")?,
            governor: address("AccordGovernor")?,
            registry: address("WorkerRegistry")?,
            job_manager: address("JobManager")?,
        })
    }

    /// Name and address of each contract, in deployment order.
    pub fn iter(&self) -> [(&'static str, Address); 5] {
        [
            ("AccordToken", self.token),
            ("TimelockController", self.timelock),
            ("AccordGovernor", self.governor),
            ("WorkerRegistry", self.registry),
            ("JobManager", self.job_manager),
        ]
    }
}

/// An EVM address in the protocol's terms (its normal form: `0x` and 40 lowercase hex digits).
pub fn domain_address(address: Address) -> crate::domain::Address {
    crate::domain::Address::parse(crate::domain::Family::Evm, &format!("{address:#x}"))
        .expect("an alloy address is a valid EVM address")
}

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
        let contracts = Deployment::of(manifest).map_err(|message| Error::Invalid {
            call: "connect",
            message,
        })?;
        let chain = Self {
            provider,
            chain_id: manifest.chain_id,
            addresses: contracts.iter().iter().map(|(_, a)| *a).collect(),
            decoder: Decoder::new(&contracts),
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
        out.sort_by(|a, b| {
            (a.block_number, a.log_index, &a.block_hash).cmp(&(
                b.block_number,
                b.log_index,
                &b.block_hash,
            ))
        });
        // Copies that disagree: this answer is refused, and the call retried (another backend may answer).
        let repeated = super::dedup_logs(&mut out).map_err(|message| Error::Rpc {
            call: "eth_getLogs",
            message: format!("untrusted answer: {message} in blocks {from}..={to}"),
            too_large: false,
            timed_out: false,
        })?;
        if repeated > 0 {
            metrics::counter!("accord_rpc_duplicate_logs_total").increment(repeated as u64);
            if !DUPLICATES_WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::warn!(
                    target: "accord::chain",
                    from, to, repeated,
                    "the node returned the same log more than once; keeping one copy (counted in \
                     accord_rpc_duplicate_logs_total, warned once)"
                );
            }
        }
        Ok(out)
    }

    fn codec(&self) -> &dyn crate::domain::EventCodec {
        &protocol::EvmCodec
    }
}

/// Whether a repeated log was already warned about (once per process; the counter keeps counting).
static DUPLICATES_WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
