//! Starknet: the protocol's Cairo contracts (`contracts/starknet/`, compiled into `abi/starknet/`), their events
//! read through the committed ABIs ([`abi`]) and mapped onto the protocol's events ([`protocol`]), and
//! [`StarknetChain`], the indexer's client.
//!
//! Starknet differs from EVM chains in ways the rest of the code never sees: addresses are felts, a chain id is a
//! short string (`SN_SEPOLIA`; the index keys it by [`chain_key`]), `starknet_getEvents` pages with continuation
//! tokens, an event's position is its transaction's index and its index in that transaction, and finality is a
//! block status (accepted on L2, then on L1) rather than a depth.

pub mod abi;
pub mod account;
pub mod bindings;
pub mod classes;
pub mod coordinate;
pub mod deploy;
pub mod devnet;
pub mod offchain;
pub mod protocol;
pub mod signer;
pub mod verify;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde::Deserialize;
use serde_json::{Value, json};
use starknet::core::types::Felt;

use super::{BlockRef, Chain, Error, Result};
use crate::deployment::Manifest;
use crate::domain::{ChainId, EventRecord, Family, Finality};

/// The index's key of the Starknet chain whose id is the short string `network`.
pub fn chain_key(network: &str) -> ChainId {
    ChainId::of_starknet(network)
}

/// A felt as an address in Starknet's normal form.
pub fn address(felt: Felt) -> crate::domain::Address {
    crate::domain::Address::parse(Family::Starknet, &format!("{felt:#x}"))
        .expect("a felt is a Starknet address")
}

/// Calls `method` with `params` on the JSON-RPC node at `rpc_url` within `timeout` and returns its `result`.
/// Errors name the node by its redacted URL and quote the node's error.
pub async fn call(
    http: &reqwest::Client,
    rpc_url: &str,
    method: &str,
    params: Value,
    timeout: Duration,
) -> anyhow::Result<Value> {
    let redacted = super::redact_rpc_url(rpc_url);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let ask = async {
        let mut reply: Value = http
            .post(rpc_url)
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "{method}: no node answers at {redacted}: {}",
                    e.without_url()
                )
            })?
            .json()
            .await
            .map_err(|_| {
                anyhow::anyhow!("{method}: the node at {redacted} does not answer JSON-RPC")
            })?;
        if let Some(error) = reply.get("error") {
            anyhow::bail!("{method} failed at {redacted}: {error}");
        }
        Ok(reply
            .get_mut("result")
            .map(Value::take)
            .unwrap_or(Value::Null))
    };
    tokio::time::timeout(timeout, ask).await.map_err(|_| {
        anyhow::anyhow!(
            "{method}: no answer from the node at {redacted} within {:.1} s",
            timeout.as_secs_f64()
        )
    })?
}

/// The chain id (its short string, `SN_SEPOLIA`) of the Starknet node at `rpc_url`, asked within `timeout`.
/// Errors name the node by its redacted URL.
pub async fn network_at(rpc_url: &str, timeout: Duration) -> anyhow::Result<String> {
    let redacted = super::redact_rpc_url(rpc_url);
    let reply = call(
        &reqwest::Client::new(),
        rpc_url,
        "starknet_chainId",
        json!([]),
        timeout,
    )
    .await?;
    let id: Felt = serde_json::from_value(reply.clone()).map_err(|_| {
        anyhow::anyhow!("the node at {redacted} gives no Starknet chain id: {reply}")
    })?;
    starknet::core::utils::parse_cairo_short_string(&id)
        .map_err(|_| anyhow::anyhow!("chain id {id:#x} at {redacted} is not a short string"))
}

/// Whether the node at `rpc_url` is a starknet-devnet (it answers the devnet-only `devnet_getConfig`): the only
/// nodes where raw private keys are accepted. A Starknet chain id says nothing here: a devnet runs as
/// `SN_SEPOLIA` by default.
pub async fn is_devnet(rpc_url: &str, timeout: Duration) -> bool {
    call(
        &reqwest::Client::new(),
        rpc_url,
        "devnet_getConfig",
        json!({}),
        timeout,
    )
    .await
    .is_ok_and(|r| r.is_object())
}

/// One Starknet deployment: its chain and each contract's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The chain id, a short string (`SN_SEPOLIA`).
    pub network: String,
    /// Its key in the index.
    pub chain_id: ChainId,
    /// Name and address of each contract, in deployment order.
    pub contracts: [(&'static str, Felt); 5],
}

impl Deployment {
    /// The deployment of a Starknet manifest; an error naming the manifest's family when it is another.
    pub fn of(manifest: &Manifest) -> std::result::Result<Self, String> {
        if manifest.family() != Family::Starknet {
            return Err(format!(
                "the manifest of chain {} is a {} deployment, not a Starknet one",
                manifest.chain_id,
                manifest.family()
            ));
        }
        let network = manifest
            .network
            .clone()
            .ok_or("a Starknet manifest must name its network (the chain id's short string)")?;
        let mut contracts = [("", Felt::ZERO); 5];
        for (slot, (name, deployed)) in contracts.iter_mut().zip(manifest.contracts.iter()) {
            *slot = (name, offchain::felt_of(&deployed.address)?);
        }
        Ok(Self {
            chain_id: chain_key(&network),
            network,
            contracts,
        })
    }

    /// The deployment of a chain as a coordinator's `/v1/status` lists it; an error when it is not a Starknet
    /// chain or lacks a contract.
    pub fn from_remote(chain: &crate::remote::RemoteChain) -> anyhow::Result<Self> {
        if chain.family != Family::Starknet {
            anyhow::bail!(
                "{} is a {} chain, not a Starknet one",
                chain.name,
                chain.family
            );
        }
        let network = chain
            .name
            .strip_prefix("starknet:")
            .with_context(|| format!("{} is not a Starknet chain name", chain.name))?
            .to_owned();
        if chain_key(&network).0 != chain.chain_id {
            anyhow::bail!(
                "{} is listed with chain id {}, not its key {}",
                chain.name,
                chain.chain_id,
                chain_key(&network).0
            );
        }
        let mut contracts = [("", Felt::ZERO); 5];
        for (slot, name) in contracts.iter_mut().zip(crate::deployment::CONTRACT_NAMES) {
            let address = chain
                .contracts
                .get(name)
                .with_context(|| format!("/v1/status lists no {name} on {}", chain.name))?;
            let felt = Felt::from_hex(address).map_err(|_| {
                anyhow::anyhow!("{name} on {} is not an address: {address}", chain.name)
            })?;
            *slot = (name, felt);
        }
        Ok(Self {
            chain_id: chain_key(&network),
            network,
            contracts,
        })
    }

    /// The address of contract `name`.
    pub fn address(&self, name: &str) -> Felt {
        self.contracts
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
            .unwrap_or_default()
    }
}

/// An event as `starknet_getEvents` (RPC 0.10) returns it.
#[derive(Debug, Clone, Deserialize)]
struct EmittedEvent {
    from_address: Felt,
    keys: Vec<Felt>,
    data: Vec<Felt>,
    block_hash: Option<Felt>,
    block_number: Option<u64>,
    transaction_hash: Felt,
    transaction_index: u64,
    event_index: u64,
}

#[derive(Debug, Deserialize)]
struct EventsPage {
    events: Vec<EmittedEvent>,
    continuation_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BlockHeader {
    block_hash: Felt,
    parent_hash: Felt,
    block_number: u64,
}

#[derive(Debug, Deserialize)]
struct BlockTime {
    timestamp: u64,
}

#[derive(Debug, Deserialize)]
struct BlockHashAndNumber {
    block_number: u64,
}

/// The position of an event in its block, as one number: its transaction's index × 2³² + its index among that
/// transaction's events. Orders the block's events as the chain does.
pub fn log_index(transaction_index: u64, event_index: u64) -> u64 {
    (transaction_index << 32) | (event_index & 0xffff_ffff)
}

/// The largest page `starknet_getEvents` is asked for; nodes cap it, and a refusal halves it.
const MAX_CHUNK: usize = 1024;

/// A JSON-RPC client for one Starknet chain and one deployment.
#[derive(Debug, Clone)]
pub struct StarknetChain {
    http: reqwest::Client,
    url: String,
    deployment: Arc<Deployment>,
    decoders: Arc<HashMap<Felt, (&'static str, abi::ContractAbi)>>,
    finality: Finality,
    timeout: Duration,
    chunk: Arc<std::sync::atomic::AtomicUsize>,
}

fn rpc_error(call: &'static str, message: String) -> Error {
    let lower = message.to_ascii_lowercase();
    let too_large = ["too big", "too many", "chunk", "page size", "limit"]
        .iter()
        .any(|needle| lower.contains(needle));
    Error::Rpc {
        call,
        message,
        too_large,
        timed_out: false,
    }
}

impl StarknetChain {
    /// Connects to `rpc_url` for the contracts of `manifest`; checks the node's chain id against it.
    pub async fn connect(
        rpc_url: &str,
        manifest: &Manifest,
        finality: Finality,
        timeout: Duration,
    ) -> Result<Self> {
        let deployment = Deployment::of(manifest).map_err(|message| Error::Invalid {
            call: "connect",
            message,
        })?;
        let mut decoders = HashMap::new();
        for (name, address) in deployment.contracts {
            let abi = classes::abi(name).map_err(|message| Error::Invalid {
                call: "connect",
                message,
            })?;
            decoders.insert(address, (name, abi));
        }
        let chain = Self {
            http: reqwest::Client::builder()
                .build()
                .map_err(|e| rpc_error("connect", e.to_string()))?,
            url: rpc_url.to_owned(),
            deployment: Arc::new(deployment),
            decoders: Arc::new(decoders),
            finality,
            timeout,
            chunk: Arc::new(std::sync::atomic::AtomicUsize::new(MAX_CHUNK)),
        };
        let id: Felt = chain.request("starknet_chainId", json!([])).await?;
        let network = starknet::core::utils::parse_cairo_short_string(&id)
            .unwrap_or_else(|_| format!("{id:#x}"));
        if network != chain.deployment.network {
            return Err(Error::Invalid {
                call: "starknet_chainId",
                message: format!(
                    "node is chain {network} but the manifest is for chain {}",
                    chain.deployment.network
                ),
            });
        }
        Ok(chain)
    }

    /// The deployment this client reads.
    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// One JSON-RPC call, within the timeout; the node's error message is kept, the URL never quoted.
    async fn request<T: serde::de::DeserializeOwned>(
        &self,
        call: &'static str,
        params: Value,
    ) -> Result<T> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": call, "params": params});
        let send = async {
            let reply: Value = self
                .http
                .post(&self.url)
                .json(&body)
                .send()
                .await
                .map_err(|e| rpc_error(call, e.without_url().to_string()))?
                .json()
                .await
                .map_err(|e| rpc_error(call, format!("answer is not JSON: {}", e.without_url())))?;
            if let Some(error) = reply.get("error") {
                return Err(rpc_error(call, error.to_string()));
            }
            serde_json::from_value(reply.get("result").cloned().unwrap_or(Value::Null)).map_err(
                |e| Error::Invalid {
                    call,
                    message: format!("unexpected answer: {e}"),
                },
            )
        };
        match tokio::time::timeout(self.timeout, send).await {
            Ok(result) => result,
            Err(_) => Err(Error::Rpc {
                call,
                message: format!("no answer within {} ms", self.timeout.as_millis()),
                too_large: false,
                timed_out: true,
            }),
        }
    }

    fn record(&self, e: &EmittedEvent, from: u64, to: u64) -> Result<Option<EventRecord>> {
        let invalid = |message: String| Error::Invalid {
            call: "starknet_getEvents",
            message,
        };
        let (Some(block_number), Some(block_hash)) = (e.block_number, e.block_hash) else {
            return Err(invalid(
                "an event of a pre-confirmed block in a closed range".into(),
            ));
        };
        if block_number < from || block_number > to {
            return Err(invalid(format!(
                "an event of block {block_number} in an answer for blocks {from}..={to}"
            )));
        }
        let Some((contract, decoder)) = self.decoders.get(&e.from_address) else {
            return Err(invalid(format!(
                "an event from {:#x}, outside the manifest",
                e.from_address
            )));
        };
        let log_index = log_index(e.transaction_index, e.event_index);
        let decoded = decoder
            .decode(&e.keys, &e.data)
            .map_err(|err| Error::Decode {
                contract,
                block: block_number,
                log_index,
                message: err.0,
            })?;
        // An event no ABI names (a library's, say) is not the protocol's.
        let Some(decoded) = decoded else {
            return Ok(None);
        };
        let protocol = protocol::protocol_event(contract, &decoded.name, &decoded.args).map_err(
            |message| Error::Decode {
                contract,
                block: block_number,
                log_index,
                message: format!("{}: {message}", decoded.name),
            },
        )?;
        let stream = protocol::stream_of(contract, protocol.as_ref(), &decoded.args).to_string();
        Ok(Some(EventRecord {
            chain_id: self.deployment.chain_id.0,
            block_number,
            block_hash: format!("{block_hash:#066x}"),
            log_index,
            tx_hash: format!("{:#066x}", e.transaction_hash),
            contract: (*contract).to_string(),
            address: format!("{:#066x}", e.from_address),
            event: decoded.name,
            stream,
            args: decoded.args,
            protocol: protocol.map(Box::new),
        }))
    }
}

impl Chain for StarknetChain {
    fn chain_id(&self) -> u64 {
        self.deployment.chain_id.0
    }

    async fn head(&self) -> Result<u64> {
        let latest: BlockHashAndNumber = self
            .request("starknet_blockHashAndNumber", json!([]))
            .await?;
        match self.finality {
            Finality::L2 => Ok(latest.block_number),
            Finality::L1 => {
                // The newest block accepted on L1; none yet means nothing is final.
                let block: std::result::Result<BlockHeader, _> = self
                    .request(
                        "starknet_getBlockWithTxHashes",
                        json!([{"block_id": "l1_accepted"}]),
                    )
                    .await;
                Ok(block.map(|b| b.block_number).unwrap_or(0))
            }
        }
    }

    async fn block(&self, number: u64) -> Result<BlockRef> {
        let block: BlockHeader = self
            .request(
                "starknet_getBlockWithTxHashes",
                json!([{"block_number": number}]),
            )
            .await?;
        if block.block_number != number {
            return Err(Error::Invalid {
                call: "starknet_getBlockWithTxHashes",
                message: format!("asked for block {number}, got {}", block.block_number),
            });
        }
        Ok(BlockRef {
            number,
            hash: format!("{:#066x}", block.block_hash),
            parent_hash: format!("{:#066x}", block.parent_hash),
        })
    }

    async fn events(&self, from: u64, to: u64) -> Result<Vec<EventRecord>> {
        use std::sync::atomic::Ordering;
        let addresses: Vec<String> = self
            .deployment
            .contracts
            .iter()
            .map(|(_, a)| format!("{a:#x}"))
            .collect();
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let chunk = self.chunk.load(Ordering::Relaxed);
            let mut filter = json!({
                "from_block": {"block_number": from},
                "to_block": {"block_number": to},
                "address": addresses,
                "chunk_size": chunk,
            });
            if let Some(t) = &token {
                filter["continuation_token"] = json!(t);
            }
            let page: EventsPage = match self.request("starknet_getEvents", json!([filter])).await {
                Ok(page) => page,
                Err(e) if e.wants_smaller_range() && chunk > 16 => {
                    // A node that caps the page size: ask for less, from the same token.
                    self.chunk.store(chunk / 2, Ordering::Relaxed);
                    continue;
                }
                Err(e) => return Err(e),
            };
            for e in &page.events {
                if let Some(record) = self.record(e, from, to)? {
                    out.push(record);
                }
            }
            match page.continuation_token {
                Some(next)
                    if !page.events.is_empty() || token.as_deref() != Some(next.as_str()) =>
                {
                    token = Some(next)
                }
                Some(_) => {
                    return Err(Error::Invalid {
                        call: "starknet_getEvents",
                        message: "an empty page that continues from where it started".into(),
                    });
                }
                None => break,
            }
        }
        out.sort_by(|a, b| {
            (a.block_number, a.log_index, &a.block_hash).cmp(&(
                b.block_number,
                b.log_index,
                &b.block_hash,
            ))
        });
        super::dedup_logs(&mut out).map_err(|message| Error::Rpc {
            call: "starknet_getEvents",
            message: format!("untrusted answer: {message} in blocks {from}..={to}"),
            too_large: false,
            timed_out: false,
        })?;
        Ok(out)
    }

    fn codec(&self) -> &dyn crate::domain::EventCodec {
        &protocol::StarknetCodec
    }

    /// The Cairo governor counts seconds: its clock is the block's timestamp.
    async fn governor_clock(&self, head: u64) -> Result<u64> {
        let block: BlockTime = self
            .request(
                "starknet_getBlockWithTxHashes",
                json!([{"block_number": head}]),
            )
            .await?;
        Ok(block.timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_keys_are_stable_distinct_and_apart_from_evm_ids() {
        let sepolia = chain_key("SN_SEPOLIA");
        assert_eq!(sepolia, chain_key("SN_SEPOLIA"));
        assert_ne!(sepolia, chain_key("SN_MAIN"));
        assert_ne!(
            sepolia,
            chain_key("A_SEPOLIA"),
            "not the low bytes of the short string"
        );
        for id in [sepolia, chain_key("SN_MAIN"), chain_key("")] {
            assert!(
                id.0 >= 1 << 62 && id.0 < 1 << 63,
                "{id} fits BIGINT above EVM ids"
            );
        }
    }

    #[test]
    fn log_indexes_order_events_as_the_block_does() {
        let mut positions = vec![(1, 0), (0, 5), (0, 0), (2, 1), (1, 7)];
        positions.sort_by_key(|&(t, e)| log_index(t, e));
        assert_eq!(positions, [(0, 0), (0, 5), (1, 0), (1, 7), (2, 1)]);
    }
}
