//! Workers' off-chain messages on Starknet: SNIP-12 typed data (revision 1, Poseidon), bound to one chain by the
//! domain's `chainId` and to one deployment by the worker registry's address inside every message, and verified
//! by the worker's own account contract (`is_valid_signature`, SRC-6): on Starknet an account is a contract
//! that decides what a valid signature is, so no key is recovered off chain.
//!
//! Signature bytes are the account's signature felts, 32 big-endian bytes each (`r ‖ s` for the usual
//! single-key accounts).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use starknet::core::types::typed_data::TypedData;
use starknet::core::types::{BlockId, BlockTag, Felt, FunctionCall};
use starknet::core::utils::{cairo_short_string_to_felt, get_selector_from_name};
use starknet::providers::Provider;
use starknet::signers::SigningKey;

use crate::domain::{Address, Family};
use crate::offchain::{Error, Message, Verdict, Verifier};

/// What `is_valid_signature` answers for a valid signature (SRC-6): the short string `VALID`.
const VALID: Felt = Felt::from_hex_unchecked("0x56414c4944");

/// How long an account contract may take to answer before the signature is refused.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SNIP-12 typed data of `message` for the deployment whose worker registry is `registry` on the chain
/// whose id is the short string `network` (e.g. `SN_SEPOLIA`).
pub fn typed_data(
    message: Message<'_>,
    network: &str,
    registry: Felt,
) -> Result<TypedData, String> {
    let worker = felt_of(message.worker())?;
    let domain_type = json!([
        {"name": "name", "type": "shortstring"},
        {"name": "version", "type": "shortstring"},
        {"name": "chainId", "type": "shortstring"},
        {"name": "revision", "type": "shortstring"},
    ]);
    let (primary, fields, value) = match message {
        Message::Heartbeat(h) => (
            "Heartbeat",
            json!([
                {"name": "registry", "type": "ContractAddress"},
                {"name": "worker", "type": "ContractAddress"},
                {"name": "capacity", "type": "u128"},
                {"name": "timestamp", "type": "timestamp"},
            ]),
            json!({
                "registry": format!("{registry:#x}"),
                "worker": format!("{worker:#x}"),
                "capacity": h.capacity.to_string(),
                "timestamp": h.timestamp.to_string(),
            }),
        ),
        Message::BlobUpload(u) => {
            let (high, low) = u.sha256.0.split_at(16);
            (
                "BlobUpload",
                json!([
                    {"name": "registry", "type": "ContractAddress"},
                    {"name": "worker", "type": "ContractAddress"},
                    {"name": "sha256", "type": "u256"},
                    {"name": "size", "type": "u128"},
                    {"name": "timestamp", "type": "timestamp"},
                ]),
                json!({
                    "registry": format!("{registry:#x}"),
                    "worker": format!("{worker:#x}"),
                    "sha256": {
                        "low": format!("{:#x}", Felt::from_bytes_be_slice(low)),
                        "high": format!("{:#x}", Felt::from_bytes_be_slice(high)),
                    },
                    "size": u.size.to_string(),
                    "timestamp": u.timestamp.to_string(),
                }),
            )
        }
    };
    let typed = json!({
        "types": {"StarknetDomain": domain_type, primary: fields},
        "primaryType": primary,
        "domain": {"name": "Accord", "version": "1", "chainId": network, "revision": "1"},
        "message": value,
    });
    serde_json::from_value(typed).map_err(|e| format!("cannot build the SNIP-12 message: {e}"))
}

/// The hash the worker's account signs for `message`.
pub fn message_hash(message: Message<'_>, network: &str, registry: Felt) -> Result<Felt, String> {
    let worker = felt_of(message.worker())?;
    typed_data(message, network, registry)?
        .message_hash(worker)
        .map_err(|e| format!("cannot hash the SNIP-12 message: {e}"))
}

/// Signs `message` with the single key of the worker's account (the usual OpenZeppelin or Argent account):
/// `r ‖ s`, 64 bytes.
pub fn sign(
    key: &SigningKey,
    message: Message<'_>,
    network: &str,
    registry: Felt,
) -> Result<Vec<u8>, String> {
    let hash = message_hash(message, network, registry)?;
    let signature = key.sign(&hash).map_err(|e| format!("cannot sign: {e}"))?;
    let mut bytes = signature.r.to_bytes_be().to_vec();
    bytes.extend_from_slice(&signature.s.to_bytes_be());
    Ok(bytes)
}

/// The felt of a Starknet address of the protocol; an error for another family's.
pub fn felt_of(address: &Address) -> Result<Felt, String> {
    if address.family() != Family::Starknet {
        return Err(format!("{address} is not a Starknet address"));
    }
    Felt::from_hex(address.as_str()).map_err(|_| format!("{address} is not a felt"))
}

/// Signature bytes back into felts; malformed unless a whole number (1 to 8) of 32-byte felts below the prime.
fn signature_felts(signature: &[u8]) -> Result<Vec<Felt>, Error> {
    if signature.is_empty() || !signature.len().is_multiple_of(32) || signature.len() > 8 * 32 {
        return Err(Error::Malformed(format!(
            "a Starknet signature is 1 to 8 felts of 32 bytes, not {} bytes",
            signature.len()
        )));
    }
    signature
        .chunks(32)
        .map(|c| {
            let felt = Felt::from_bytes_be_slice(c);
            if felt.to_bytes_be() == c {
                Ok(felt)
            } else {
                Err(Error::Malformed(
                    "a signature felt is not below the field prime".into(),
                ))
            }
        })
        .collect()
}

/// Verifies workers' SNIP-12 signatures by asking each worker's account contract.
pub struct StarknetVerifier<P> {
    provider: Arc<P>,
    network: String,
    registry: Felt,
}

impl<P> StarknetVerifier<P> {
    /// A verifier for the deployment whose registry is `registry` on the chain `network`, asking through
    /// `provider`.
    pub fn new(provider: Arc<P>, network: &str, registry: Felt) -> Self {
        Self {
            provider,
            network: network.to_owned(),
            registry,
        }
    }
}

impl<P: Provider + Send + Sync + 'static> Verifier for StarknetVerifier<P> {
    fn verify<'a>(&'a self, message: Message<'a>, signature: &'a [u8]) -> Verdict<'a> {
        Box::pin(async move {
            let worker = felt_of(message.worker()).map_err(Error::Malformed)?;
            let felts = signature_felts(signature)?;
            let hash =
                message_hash(message, &self.network, self.registry).map_err(Error::Malformed)?;
            let mut calldata = vec![hash, Felt::from(felts.len())];
            calldata.extend(felts);
            let call = FunctionCall {
                contract_address: worker,
                // SRC-6, the account interface every Starknet account implements (not one of our ABIs).
                entry_point_selector: get_selector_from_name("is_valid_signature")
                    .expect("an ASCII name"),
                calldata,
            };
            let refused = |reason: String| Error::Refused {
                worker: message.worker().clone(),
                reason,
            };
            let answer = tokio::time::timeout(
                VERIFY_TIMEOUT,
                self.provider.call(call, BlockId::Tag(BlockTag::Latest)),
            )
            .await
            .map_err(|_| refused("the account contract did not answer in time".into()))?
            .map_err(|e| refused(format!("the account contract refused: {e}")))?;
            if answer.first() == Some(&VALID) {
                Ok(())
            } else {
                Err(refused(
                    "the account contract says the signature is not its own".into(),
                ))
            }
        })
    }
}

/// The short string `s` as a felt; for chain ids and role names.
pub fn short_string(s: &str) -> Result<Felt, String> {
    cairo_short_string_to_felt(s).map_err(|_| format!("{s:?} is not a Cairo short string"))
}
