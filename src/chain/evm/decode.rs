//! Decodes logs of the protocol's contracts with the event definitions in `abi/` (the same files the `sol!`
//! bindings come from) into [`EventRecord`]s: named arguments as JSON, integers as decimal strings, addresses and
//! bytes as lowercase 0x-hex, the protocol event (see [`super::protocol`]) and the entity stream.

use std::collections::HashMap;
use std::sync::Arc;

use alloy::dyn_abi::{DynSolEvent, DynSolType, DynSolValue, Specifier};
use alloy::json_abi::{Event, JsonAbi};
use alloy::primitives::{Address, B256, Bytes, U64};
use serde_json::{Map, Value, json};

use crate::chain::protocol::{protocol_event, stream_of};
use crate::chain::{Error, Result};
use crate::domain::{EventRecord, Family};
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
    /// A decoder for the contracts of a manifest.
    pub fn new(contracts: &super::Deployment) -> Self {
        let mut by_address = HashMap::new();
        for (name, address) in contracts.iter() {
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
            by_address.insert(address, ContractEvents { name, events });
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
        let protocol = protocol_event(Family::Evm, contract.name, &event.name, &args)
            .map_err(|message| fail(format!("{}: {message}", event.name)))?;
        let stream = stream_of(Family::Evm, contract.name, protocol.as_ref(), &args).to_string();
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
            protocol,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_group_events_by_entity() {
        use crate::chain::protocol::{protocol_event, stream_of};
        use alloy::primitives::U256;
        const ZERO: &str = "0x0000000000000000000000000000000000000000";
        let (ab, one, two) = (
            format!("0x{}", "ab".repeat(20)),
            format!("0x{}1", "0".repeat(39)),
            format!("0x{}2", "0".repeat(39)),
        );
        let cases = [
            (
                "JobManager",
                "JobPaid",
                json!({"jobId": "7", "worker": ab, "amount": "1", "fee": "0"}),
                "job:7".to_owned(),
            ),
            (
                "JobManager",
                "AssignmentSkipped",
                json!({"jobId": "8", "worker": ab}),
                "job:8".to_owned(),
            ),
            (
                "JobManager",
                "FeesSwept",
                json!({"treasury": one, "amount": "5"}),
                "fees".to_owned(),
            ),
            (
                "WorkerRegistry",
                "Staked",
                json!({"worker": ab, "amount": "1", "stake": "1"}),
                format!("worker:{ab}"),
            ),
            (
                "WorkerRegistry",
                "JobManagerSet",
                json!({"jobManager": ab}),
                "contract:WorkerRegistry".to_owned(),
            ),
            (
                "AccordGovernor",
                "VoteCast",
                json!({"proposalId": "99", "voter": one, "support": "1", "weight": "3", "reason": ""}),
                "proposal:99".to_owned(),
            ),
            (
                "AccordGovernor",
                "QuorumNumeratorUpdated",
                json!({"oldQuorumNumerator": "4", "newQuorumNumerator": "5"}),
                "param:AccordGovernor:quorumNumerator".to_owned(),
            ),
            (
                "AccordToken",
                "Transfer",
                json!({"from": ZERO, "to": one, "value": "1"}),
                "param:AccordToken:totalSupply".to_owned(),
            ),
            (
                "AccordToken",
                "Transfer",
                json!({"from": two, "to": one, "value": "1"}),
                "token".to_owned(),
            ),
            (
                "JobManager",
                "RoleGranted",
                json!({"role": "0x00", "account": one, "sender": two}),
                format!("role:JobManager:0x00:{one}"),
            ),
            (
                "TimelockController",
                "CallScheduled",
                json!({"id": "0x00"}),
                "contract:TimelockController".to_owned(),
            ),
        ];
        for (contract, event, args, want) in cases {
            let protocol = protocol_event(Family::Evm, contract, event, &args).unwrap();
            assert_eq!(
                stream_of(Family::Evm, contract, protocol.as_ref(), &args).to_string(),
                want,
                "{contract}.{event}"
            );
        }
        let key = "0x6d696e5374616b65000000000000000000000000000000000000000000000000";
        let args = json!({ "key": key, "previous": "1", "current": "2" });
        let protocol =
            protocol_event(Family::Evm, "WorkerRegistry", "ParameterUpdated", &args).unwrap();
        assert_eq!(
            stream_of(Family::Evm, "WorkerRegistry", protocol.as_ref(), &args).to_string(),
            "param:WorkerRegistry:minStake"
        );
        // A protocol event with an argument missing or out of range is refused, naming it.
        let short = json!({"jobId": "7", "worker": ab, "due": "1"});
        assert!(
            protocol_event(Family::Evm, "JobManager", "JobAssigned", &short)
                .unwrap_err()
                .contains("attemptsLeft")
        );
        let wide =
            json!({"jobId": "7", "worker": ab, "due": U256::MAX.to_string(), "attemptsLeft": "1"});
        assert!(
            protocol_event(Family::Evm, "JobManager", "JobAssigned", &wide)
                .unwrap_err()
                .contains("64 bits")
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
        assert_eq!(crate::chain::protocol::bytes32_text("0x61620000"), "ab");
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
