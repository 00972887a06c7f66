//! Decodes logs of the protocol's contracts with the event definitions in `abi/` (the same files the `sol!`
//! bindings come from) into chain-agnostic [`EventRecord`]s: named arguments as JSON, integers as decimal
//! strings, addresses and bytes as lowercase 0x-hex, and the entity stream the event belongs to.

use std::collections::HashMap;
use std::sync::Arc;

use alloy::dyn_abi::{DynSolEvent, DynSolType, DynSolValue, Specifier};
use alloy::json_abi::{Event, JsonAbi};
use alloy::primitives::{Address, B256, Bytes, U64};
use serde_json::{Map, Value, json};

use crate::chain::{Error, Result};
use crate::deployment::Manifest;
use crate::indexer::EventRecord;
use crate::text::ChainText;

/// The committed ABI files, by contract name: the only source of event and error signatures.
pub(crate) const ABIS: [(&str, &str); 5] = [
    ("AccordToken", include_str!("../../../abi/AccordToken.json")),
    (
        "TimelockController",
        include_str!("../../../abi/TimelockController.json"),
    ),
    (
        "AccordGovernor",
        include_str!("../../../abi/AccordGovernor.json"),
    ),
    (
        "WorkerRegistry",
        include_str!("../../../abi/WorkerRegistry.json"),
    ),
    ("JobManager", include_str!("../../../abi/JobManager.json")),
];

#[derive(Debug)]
struct ContractEvents {
    name: &'static str,
    /// By topic0: the ABI item (argument names) and its resolved decoder, resolved once rather than per log.
    events: HashMap<B256, (Event, DynSolEvent)>,
}

/// One log as `eth_getLogs` returns it, with only the fields the indexer reads. Deserialized directly: alloy's
/// RPC `Log` flattens the primitive log into it, and serde buffers every flattened log into an intermediate tree
/// first, which cost a large share of the indexer's decoding time.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcLog {
    /// Emitting contract.
    pub address: Address,
    /// Topics, topic0 first.
    pub topics: Vec<B256>,
    /// Non-indexed data.
    pub data: Bytes,
    /// Block hash (absent for pending logs).
    pub block_hash: Option<B256>,
    /// Block number.
    pub block_number: Option<U64>,
    /// Transaction hash.
    pub transaction_hash: Option<B256>,
    /// Index of the log in its block.
    pub log_index: Option<U64>,
}

/// Maps each deployed address to its contract's events by topic0.
#[derive(Debug, Clone)]
pub struct Decoder {
    by_address: Arc<HashMap<Address, ContractEvents>>,
}

impl Decoder {
    /// A decoder for the contracts of `manifest`.
    pub fn new(manifest: &Manifest) -> Self {
        let mut by_address = HashMap::new();
        for (name, deployed) in manifest.contracts.iter() {
            let json = ABIS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, j)| *j)
                .expect("an ABI for every manifest contract");
            // The ABI files are committed and checked by `scripts/export-abi --check`; a parse failure is a build bug.
            let abi: JsonAbi = serde_json::from_str(json).expect("abi/*.json parses");
            let events = abi
                .events()
                .map(|e| {
                    // Strings are decoded as the bytes they are (alloy's string decoder replaces invalid UTF-8);
                    // the ABI encoding of the two is the same.
                    let mut as_bytes = e.clone();
                    for input in as_bytes.inputs.iter_mut().filter(|i| !i.indexed) {
                        if input.ty == "string" {
                            input.ty = "bytes".into();
                        }
                    }
                    let resolved = as_bytes.resolve().expect("abi/*.json event types resolve");
                    // … under the event's own selector.
                    let resolved = DynSolEvent::new(
                        (!e.anonymous).then(|| e.selector()),
                        resolved.indexed().to_vec(),
                        DynSolType::Tuple(resolved.body().to_vec()),
                    )
                    .expect("the resolved event's shape");
                    (e.selector(), (e.clone(), resolved))
                })
                .collect();
            by_address.insert(deployed.address, ContractEvents { name, events });
        }
        Self {
            by_address: Arc::new(by_address),
        }
    }

    /// Decodes one log.
    pub fn decode(&self, chain_id: u64, log: &RpcLog) -> Result<EventRecord> {
        let invalid = |message: &str| Error::Invalid {
            call: "eth_getLogs",
            message: message.into(),
        };
        let quantity = |value: Option<U64>, what: &str| {
            value
                .ok_or_else(|| invalid(&format!("log without {what}")))
                .map(|v| v.to::<u64>())
        };
        let block_number = quantity(log.block_number, "block number")?;
        let log_index = quantity(log.log_index, "log index")?;
        let block_hash = log
            .block_hash
            .ok_or_else(|| invalid("log without block hash"))?;
        let tx_hash = log
            .transaction_hash
            .ok_or_else(|| invalid("log without transaction hash"))?;
        let address = log.address;
        let contract = self
            .by_address
            .get(&address)
            .ok_or_else(|| invalid("log from an address outside the manifest"))?;
        let fail = |message: String| Error::Decode {
            contract: contract.name,
            block: block_number,
            log_index,
            message,
        };
        let topics = log.topics.as_slice();
        let topic0 = topics.first().ok_or_else(|| fail("anonymous log".into()))?;
        let (event, resolved) = contract
            .events
            .get(topic0)
            .ok_or_else(|| fail(format!("unknown event topic {topic0}")))?;
        let decoded = resolved
            .decode_log_parts(topics.iter().copied(), &log.data)
            .map_err(|e| fail(e.to_string()))?;
        let (mut indexed, mut body) = (decoded.indexed.into_iter(), decoded.body.into_iter());
        let mut args = Map::new();
        for input in &event.inputs {
            let value = if input.indexed {
                indexed.next()
            } else {
                body.next()
            };
            let value = value.ok_or_else(|| fail(format!("missing value for {}", input.name)))?;
            match value {
                DynSolValue::Bytes(bytes) if input.ty == "string" => {
                    ChainText::from_bytes(&bytes).insert_into(&mut args, &input.name)
                }
                value => {
                    args.insert(input.name.clone(), to_json(&value));
                }
            }
        }
        let args = Value::Object(args);
        let stream = stream_of(contract.name, &event.name, &args);
        Ok(EventRecord {
            chain_id,
            block_number,
            block_hash: format!("{block_hash:#x}"),
            log_index,
            tx_hash: format!("{tx_hash:#x}"),
            contract: contract.name.to_string(),
            address: format!("{address:#x}"),
            event: event.name.clone(),
            stream,
            args,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    alloy::primitives::hex::encode_prefixed(bytes)
}

/// JSON for one ABI value: integers as decimal strings (uint256 does not fit a JSON number), addresses and bytes
/// as lowercase 0x-hex.
pub fn to_json(value: &DynSolValue) -> Value {
    match value {
        DynSolValue::Bool(b) => json!(b),
        DynSolValue::Int(i, _) => json!(i.to_string()),
        DynSolValue::Uint(u, _) => json!(u.to_string()),
        DynSolValue::FixedBytes(word, size) => json!(hex(&word[..*size])),
        DynSolValue::Address(a) => json!(format!("{a:#x}")),
        DynSolValue::Function(f) => json!(hex(f.as_slice())),
        DynSolValue::Bytes(b) => json!(hex(b)),
        // Event strings are decoded as bytes (see `Decoder::decode`); other strings are kept storable.
        DynSolValue::String(s) => json!(ChainText::from_bytes(s.as_bytes()).text),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) | DynSolValue::Tuple(items) => {
            Value::Array(items.iter().map(to_json).collect())
        }
        #[allow(unreachable_patterns)]
        other => json!(format!("{other:?}")),
    }
}

/// A bytes32 parameter key (`"minStake"` right-padded with zeros) as text.
pub fn bytes32_text(hex_value: &str) -> String {
    let digits = hex_value.trim_start_matches("0x");
    let bytes: Vec<u8> = (0..digits.len() / 2)
        .filter_map(|i| u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).ok())
        .take_while(|b| *b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn arg<'a>(args: &'a Value, name: &str) -> &'a str {
    args.get(name).and_then(Value::as_str).unwrap_or_default()
}

const ZERO_ADDRESS: &str = "0x0000000000000000000000000000000000000000";

/// The entity an event belongs to. Derived rows carry it; a reorg replays the streams it touched.
pub fn stream_of(contract: &str, event: &str, args: &Value) -> String {
    match (contract, event) {
        (_, "ParameterUpdated") => format!("param:{contract}:{}", bytes32_text(arg(args, "key"))),
        (_, "RoleGranted" | "RoleRevoked") => format!(
            "role:{contract}:{}:{}",
            arg(args, "role"),
            arg(args, "account")
        ),
        ("JobManager", "FeesSwept") => "fees".into(),
        ("JobManager", _) if args.get("jobId").is_some() => format!("job:{}", arg(args, "jobId")),
        ("WorkerRegistry", _) if args.get("worker").is_some() => {
            format!("worker:{}", arg(args, "worker"))
        }
        ("AccordGovernor", _) if args.get("proposalId").is_some() => {
            format!("proposal:{}", arg(args, "proposalId"))
        }
        ("AccordGovernor", "QuorumNumeratorUpdated") => {
            "param:AccordGovernor:quorumNumerator".into()
        }
        ("AccordGovernor", "VotingDelaySet") => "param:AccordGovernor:votingDelay".into(),
        ("AccordGovernor", "VotingPeriodSet") => "param:AccordGovernor:votingPeriod".into(),
        ("AccordGovernor", "ProposalThresholdSet") => {
            "param:AccordGovernor:proposalThreshold".into()
        }
        ("AccordToken", "Transfer")
            if arg(args, "from") == ZERO_ADDRESS || arg(args, "to") == ZERO_ADDRESS =>
        {
            "param:AccordToken:totalSupply".into()
        }
        ("AccordToken", _) => "token".into(),
        _ => format!("contract:{contract}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_group_events_by_entity() {
        let cases = [
            ("JobManager", "JobPosted", json!({"jobId": "7"}), "job:7"),
            (
                "JobManager",
                "AssignmentSkipped",
                json!({"jobId": "8", "worker": "0xab"}),
                "job:8",
            ),
            (
                "JobManager",
                "FeesSwept",
                json!({"treasury": "0x1"}),
                "fees",
            ),
            (
                "WorkerRegistry",
                "Staked",
                json!({"worker": "0xab"}),
                "worker:0xab",
            ),
            (
                "WorkerRegistry",
                "JobManagerSet",
                json!({"jobManager": "0xab"}),
                "contract:WorkerRegistry",
            ),
            (
                "AccordGovernor",
                "VoteCast",
                json!({"proposalId": "99", "voter": "0x1"}),
                "proposal:99",
            ),
            (
                "AccordGovernor",
                "QuorumNumeratorUpdated",
                json!({}),
                "param:AccordGovernor:quorumNumerator",
            ),
            (
                "AccordToken",
                "Transfer",
                json!({"from": ZERO_ADDRESS, "to": "0x1"}),
                "param:AccordToken:totalSupply",
            ),
            (
                "AccordToken",
                "Transfer",
                json!({"from": "0x2", "to": "0x1"}),
                "token",
            ),
            (
                "JobManager",
                "RoleGranted",
                json!({"role": "0x00", "account": "0x1"}),
                "role:JobManager:0x00:0x1",
            ),
        ];
        for (contract, event, args, want) in cases {
            assert_eq!(
                stream_of(contract, event, &args),
                want,
                "{contract}.{event}"
            );
        }
        let key = "0x6d696e5374616b65000000000000000000000000000000000000000000000000";
        assert_eq!(
            stream_of("WorkerRegistry", "ParameterUpdated", &json!({ "key": key })),
            "param:WorkerRegistry:minStake"
        );
    }

    #[test]
    fn values_become_exact_json() {
        use alloy::primitives::U256;
        assert_eq!(
            to_json(&DynSolValue::Uint(U256::MAX, 256)),
            json!(U256::MAX.to_string())
        );
        assert_eq!(
            to_json(&DynSolValue::Address(Address::repeat_byte(0xAB))),
            json!(format!("0x{}", "ab".repeat(20)))
        );
        assert_eq!(
            to_json(&DynSolValue::FixedBytes(B256::repeat_byte(1), 32)),
            json!(format!("0x{}", "01".repeat(32)))
        );
        assert_eq!(bytes32_text("0x61620000"), "ab");
        assert_eq!(
            to_json(&DynSolValue::String("a\0b".into())),
            json!("a\u{FFFD}b")
        );
    }

    #[test]
    fn no_argument_name_collides_with_an_exact_bytes_field() {
        for (contract, json) in ABIS {
            let abi: JsonAbi = serde_json::from_str(json).unwrap();
            for event in abi.events() {
                for input in &event.inputs {
                    assert!(
                        !input.name.ends_with(crate::text::HEX_SUFFIX),
                        "{contract}.{}.{} would be read as another argument's exact bytes",
                        event.name,
                        input.name
                    );
                }
            }
        }
    }
}
