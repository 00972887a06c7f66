//! Chain access. The rest of the code talks to the [`Chain`] trait; each chain family implements it
//! ([`evm::EvmChain`] first; Starknet next, with felts, continuation tokens and finality by block status).
//! Events leave this module already decoded into chain-agnostic [`EventRecord`]s.

pub mod account;
pub mod actions;
pub mod evm;
pub mod protocol;
pub mod starknet;

use std::future::Future;

use crate::deployment::Manifest;
use crate::domain::{EventCodec, EventRecord, Family};
use crate::offchain::Verifier;

/// Errors talking to a chain.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The node could not be reached or the call failed in transport.
    #[error("RPC call {call} failed: {message}")]
    Rpc {
        /// The call.
        call: &'static str,
        /// The node's or transport's message.
        message: String,
        /// Whether the node refused because the range or result was too large.
        too_large: bool,
        /// Whether the call timed out.
        timed_out: bool,
    },
    /// The node answered with something impossible (missing block, log without position).
    #[error("RPC call {call} returned invalid data: {message}")]
    Invalid {
        /// The call.
        call: &'static str,
        /// What was wrong.
        message: String,
    },
    /// A log from one of our contracts could not be decoded with the ABI in `abi/`.
    #[error("cannot decode {contract} log at block {block} index {log_index}: {message}")]
    Decode {
        /// Emitting contract.
        contract: &'static str,
        /// Block number.
        block: u64,
        /// Log index.
        log_index: u64,
        /// Why.
        message: String,
    },
}

impl Error {
    /// Whether retrying the same call may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Rpc { .. })
    }

    /// Whether a smaller block range should be tried.
    pub fn wants_smaller_range(&self) -> bool {
        matches!(
            self,
            Error::Rpc {
                too_large: true,
                ..
            } | Error::Rpc {
                timed_out: true,
                ..
            }
        )
    }
}

/// `pub type Result<T, E = Error>` for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An RPC URL safe for messages and logs: scheme, host and port only. Providers put API keys in the path,
/// the query or the userinfo.
pub fn redact_rpc_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let elided = if rest.len() > authority.len() {
        "/…"
    } else {
        ""
    };
    if scheme.is_empty() {
        format!("{host}{elided}")
    } else {
        format!("{scheme}://{host}{elided}")
    }
}

/// Replaces every URL a transport error quotes as `url (…)` with its redacted form.
pub fn redact_error(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("url (") {
        let (head, tail) = rest.split_at(i + 5);
        out.push_str(head);
        let end = tail.find(')').unwrap_or(tail.len());
        out.push_str(&redact_rpc_url(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// A block's identity in the parent-hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRef {
    /// Height.
    pub number: u64,
    /// Hash (0x-hex).
    pub hash: String,
    /// Parent's hash (0x-hex).
    pub parent_hash: String,
}

/// Drops repeated copies of a log from `logs`, sorted by position: copies with the same block, block hash and
/// log index that agree in everything are one log (a node or a load balancer in front of several may return
/// a log twice). Returns how many copies were dropped; copies that disagree, or two logs at one position with
/// different block hashes, are an answer that cannot be trusted.
pub(crate) fn dedup_logs(logs: &mut Vec<EventRecord>) -> std::result::Result<usize, String> {
    let before = logs.len();
    let mut conflict = None;
    logs.dedup_by(|later, kept| {
        if (later.block_number, later.log_index) != (kept.block_number, kept.log_index) {
            return false;
        }
        if later != kept && conflict.is_none() {
            conflict = Some(if later.block_hash != kept.block_hash {
                format!(
                    "two logs at block {} index {} with different block hashes",
                    kept.block_number, kept.log_index
                )
            } else {
                format!(
                    "two different logs at block {} index {}",
                    kept.block_number, kept.log_index
                )
            });
        }
        true
    });
    match conflict {
        Some(message) => Err(message),
        None => Ok(before - logs.len()),
    }
}

/// What the indexer needs from a chain.
pub trait Chain: Send + Sync {
    /// The chain's id.
    fn chain_id(&self) -> u64;
    /// The latest block number.
    fn head(&self) -> impl Future<Output = Result<u64>> + Send;
    /// The canonical block at `number`.
    fn block(&self, number: u64) -> impl Future<Output = Result<BlockRef>> + Send;
    /// Every event of the protocol's contracts in `from..=to`, decoded, in chain order.
    fn events(&self, from: u64, to: u64) -> impl Future<Output = Result<Vec<EventRecord>>> + Send;
    /// How this chain's stored records read as protocol events (a reorg replays streams from `raw_events`).
    fn codec(&self) -> &dyn EventCodec;
    /// The governor's clock at block `head`: the block number where the governor counts blocks (EVM, as
    /// OpenZeppelin's default), the block's timestamp where it counts seconds (Starknet). A proposal's state is
    /// read against it.
    fn governor_clock(&self, head: u64) -> impl Future<Output = Result<u64>> + Send {
        std::future::ready(Ok(head))
    }
}

/// A connected chain of any family: what a deployment manifest names, picked at run time.
#[derive(Debug, Clone)]
pub enum AnyChain {
    /// An EVM chain.
    Evm(evm::EvmChain),
    /// A Starknet chain.
    Starknet(starknet::StarknetChain),
}

impl Chain for AnyChain {
    fn chain_id(&self) -> u64 {
        match self {
            AnyChain::Evm(c) => c.chain_id(),
            AnyChain::Starknet(c) => c.chain_id(),
        }
    }

    async fn head(&self) -> Result<u64> {
        match self {
            AnyChain::Evm(c) => c.head().await,
            AnyChain::Starknet(c) => c.head().await,
        }
    }

    async fn block(&self, number: u64) -> Result<BlockRef> {
        match self {
            AnyChain::Evm(c) => c.block(number).await,
            AnyChain::Starknet(c) => c.block(number).await,
        }
    }

    async fn events(&self, from: u64, to: u64) -> Result<Vec<EventRecord>> {
        match self {
            AnyChain::Evm(c) => c.events(from, to).await,
            AnyChain::Starknet(c) => c.events(from, to).await,
        }
    }

    fn codec(&self) -> &dyn EventCodec {
        match self {
            AnyChain::Evm(c) => c.codec(),
            AnyChain::Starknet(c) => c.codec(),
        }
    }

    async fn governor_clock(&self, head: u64) -> Result<u64> {
        match self {
            AnyChain::Evm(c) => c.governor_clock(head).await,
            AnyChain::Starknet(c) => c.governor_clock(head).await,
        }
    }
}

/// The family of the node at `rpc_url` and its chain id as the index keys it: an EVM node answers `eth_chainId`,
/// a Starknet node `starknet_chainId`. The error, when neither answers, is the EVM one.
pub async fn identify(
    rpc_url: &str,
    timeout: std::time::Duration,
) -> anyhow::Result<(crate::domain::Family, u64)> {
    match evm::chain_id_at(rpc_url, timeout).await {
        Ok(id) => Ok((crate::domain::Family::Evm, id)),
        Err(evm_error) => match starknet::network_at(rpc_url, timeout).await {
            Ok(network) => Ok((
                crate::domain::Family::Starknet,
                starknet::chain_key(&network).0,
            )),
            Err(_) => Err(evm_error),
        },
    }
}

/// The coordinator's signing key, in its chain family's form. `Debug` shows the account, never the key.
pub enum CoordinatorKey {
    /// An EVM private key.
    Evm(evm::Key),
    /// A Starknet account contract and the private key it checks signatures against.
    Starknet {
        /// The account contract's address.
        account: ::starknet::core::types::Felt,
        /// Its Stark private key.
        key: ::starknet::signers::SigningKey,
    },
}

impl CoordinatorKey {
    /// The chain family the key signs for.
    pub fn family(&self) -> crate::domain::Family {
        match self {
            Self::Evm(_) => crate::domain::Family::Evm,
            Self::Starknet { .. } => crate::domain::Family::Starknet,
        }
    }
}

impl std::fmt::Debug for CoordinatorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CoordinatorKey::Evm(key) => write!(f, "CoordinatorKey::Evm({:#x})", key.address()),
            CoordinatorKey::Starknet { account, .. } => {
                write!(f, "CoordinatorKey::Starknet({account:#x})")
            }
        }
    }
}

impl From<evm::Key> for CoordinatorKey {
    fn from(key: evm::Key) -> Self {
        CoordinatorKey::Evm(key)
    }
}

/// The verifier of workers' off-chain signatures for `manifest`'s deployment, by its chain family (EVM: EIP-712
/// recovery; Starknet: SNIP-12, asked of the worker's account contract through the node at `rpc_url`). A deployment whose family cannot be verified here gets a verifier that refuses every signature,
/// saying why.
pub fn offchain_verifier(manifest: &Manifest, rpc_url: &str) -> std::sync::Arc<dyn Verifier> {
    let refuse =
        |reason: String| -> std::sync::Arc<dyn Verifier> { std::sync::Arc::new(Refuse(reason)) };
    match manifest.family() {
        Family::Evm => match evm::Deployment::of(manifest) {
            Ok(k) => std::sync::Arc::new(evm::EvmVerifier::new(manifest.chain_id, k.registry)),
            Err(reason) => refuse(reason),
        },
        Family::Starknet => {
            let verifier = starknet::Deployment::of(manifest).and_then(|d| {
                let provider = starknet::signer::provider(rpc_url).map_err(|e| e.to_string())?;
                Ok(starknet::offchain::StarknetVerifier::new(
                    provider,
                    &d.network,
                    d.address("WorkerRegistry"),
                ))
            });
            match verifier {
                Ok(v) => std::sync::Arc::new(v),
                Err(reason) => refuse(reason),
            }
        }
    }
}

/// A verifier that refuses every signature with its reason.
struct Refuse(String);

impl Verifier for Refuse {
    fn verify<'a>(
        &'a self,
        _message: crate::offchain::Message<'a>,
        _signature: &'a [u8],
    ) -> crate::offchain::Verdict<'a> {
        Box::pin(std::future::ready(Err(crate::offchain::Error::Malformed(
            self.0.clone(),
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_urls_lose_their_keys() {
        let cases = [
            (
                "https://eth.example.com/v3/0123abcd",
                "https://eth.example.com/…",
            ),
            (
                "https://user:key@rpc.example.com:8545",
                "https://rpc.example.com:8545",
            ),
            ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
            (
                "https://rpc.example.com/?apikey=s3cret",
                "https://rpc.example.com/…",
            ),
        ];
        for (url, want) in cases {
            assert_eq!(redact_rpc_url(url), want, "{url}");
        }
        let msg = "error sending request for url (https://eth.example.com/v3/0123abcd): connection refused";
        assert_eq!(
            redact_error(msg),
            "error sending request for url (https://eth.example.com/…): connection refused"
        );
    }

    fn log(block: u64, index: u64, hash: &str, job: &str) -> EventRecord {
        EventRecord {
            chain_id: 1,
            block_number: block,
            block_hash: hash.into(),
            log_index: index,
            tx_hash: "0xt".into(),
            contract: "JobManager".into(),
            address: "0xa".into(),
            event: "JobCancelled".into(),
            stream: format!("job:{job}"),
            args: serde_json::json!({ "jobId": job }),
            protocol: None,
        }
    }

    #[test]
    fn identical_repeats_are_dropped_and_counted() {
        let mut logs = vec![
            log(1, 0, "0xb1", "1"),
            log(1, 0, "0xb1", "1"),
            log(1, 1, "0xb1", "2"),
            log(2, 0, "0xb2", "3"),
            log(2, 0, "0xb2", "3"),
            log(2, 0, "0xb2", "3"),
        ];
        assert_eq!(dedup_logs(&mut logs), Ok(3));
        let kept: Vec<_> = logs.iter().map(|l| (l.block_number, l.log_index)).collect();
        assert_eq!(kept, [(1, 0), (1, 1), (2, 0)]);
        let mut clean = vec![log(1, 0, "0xb1", "1"), log(1, 1, "0xb1", "2")];
        assert_eq!(dedup_logs(&mut clean), Ok(0));
        assert_eq!(clean.len(), 2);
    }

    #[test]
    fn repeats_that_disagree_are_refused() {
        let mut args = vec![log(1, 0, "0xb1", "1"), log(1, 0, "0xb1", "2")];
        let err = dedup_logs(&mut args).unwrap_err();
        assert!(
            err.contains("two different logs at block 1 index 0"),
            "{err}"
        );
        let mut hashes = vec![log(1, 0, "0xb1", "1"), log(1, 0, "0xff", "1")];
        let err = dedup_logs(&mut hashes).unwrap_err();
        assert!(err.contains("different block hashes"), "{err}");
    }
}
