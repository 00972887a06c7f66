//! What the Cairo contracts' events mean. Their fields parallel the Solidity events' in snake_case, with Cairo's
//! types: [`canonical`] renames them to the canonical argument names and re-encodes the values whose form
//! differs (a u256 hash as 0x-hex `bytes32`, a short-string parameter key as a right-padded `bytes32`, Cairo
//! calls as targets and calldata), and [`crate::chain::protocol`] reads the result as for every family.
//! `raw_events.args` keeps the Cairo shape.

use serde_json::{Map, Value, json};

use crate::domain::{EventCodec, EventRecord, Family, ProtocolEvent, Stream, parse_decimal};

/// The Starknet family's [`EventCodec`].
#[derive(Debug, Clone, Copy, Default)]
pub struct StarknetCodec;

impl EventCodec for StarknetCodec {
    fn family(&self) -> Family {
        Family::Starknet
    }

    fn protocol_event(&self, record: &EventRecord) -> Result<Option<ProtocolEvent>, String> {
        protocol_event(&record.contract, &record.event, &record.args)
    }
}

/// The protocol event of `contract`.`event` with Cairo-shaped `args`.
pub fn protocol_event(
    contract: &str,
    event: &str,
    args: &Value,
) -> Result<Option<ProtocolEvent>, String> {
    let args = canonical(contract, event, args)?;
    crate::chain::protocol::protocol_event(Family::Starknet, contract, event, &args)
}

/// The stream of an event with Cairo-shaped `args`.
pub fn stream_of(contract: &str, protocol: Option<&ProtocolEvent>, args: &Value) -> Stream {
    match canonical(contract, "", args) {
        Ok(args) => crate::chain::protocol::stream_of(Family::Starknet, contract, protocol, &args),
        Err(_) => crate::chain::protocol::stream_of(Family::Starknet, contract, protocol, args),
    }
}

/// The canonical name of a Cairo field: camelCase, with `uri` written `URI` as the Solidity contracts do.
fn canonical_name(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    for (i, part) in snake.split('_').enumerate() {
        if i == 0 {
            out.push_str(part);
        } else if part == "uri" {
            out.push_str("URI");
        } else {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        }
    }
    out
}

/// A u256 in decimal as a 0x-hex `bytes32`.
fn bytes32_of_decimal(value: &Value, name: &str) -> Result<Value, String> {
    let text = value
        .as_str()
        .ok_or_else(|| format!("argument {name} missing"))?;
    let n = parse_decimal(text).map_err(|_| format!("argument {name}={text} is not an integer"))?;
    Ok(json!(format!("{n:#066x}")))
}

/// A felt (0x-hex) as the decimal uint256 Solidity would hold (a proposal id).
fn decimal_of_felt(value: &Value, name: &str) -> Result<Value, String> {
    Ok(json!(
        crate::domain::U256::from_be_bytes(felt_bytes(value, name)?).to_string()
    ))
}

/// A felt (0x-hex) as its 32 big-endian bytes.
fn felt_bytes(value: &Value, name: &str) -> Result<[u8; 32], String> {
    let text = value
        .as_str()
        .ok_or_else(|| format!("argument {name} missing"))?;
    starknet::core::types::Felt::from_hex(text)
        .map(|f| f.to_bytes_be())
        .map_err(|_| format!("argument {name}={text} is not a felt"))
}

/// A Cairo proposal's `selectors` and `calldatas` (felts per call) as the protocol's opaque calldata of each
/// call: the selector and then each calldata felt, 32 big-endian bytes each, 0x-hex (what
/// [`crate::chain::account::ProposalCall`] holds on Starknet).
fn proposal_calldatas(fields: &Map<String, Value>) -> Result<Value, String> {
    let selectors = fields
        .get("selectors")
        .and_then(Value::as_array)
        .ok_or("argument selectors missing")?;
    let calldatas = fields
        .get("calldatas")
        .and_then(Value::as_array)
        .ok_or("argument calldatas missing")?;
    if selectors.len() != calldatas.len() {
        return Err(format!(
            "{} selectors but {} calldatas",
            selectors.len(),
            calldatas.len()
        ));
    }
    let mut out = Vec::with_capacity(calldatas.len());
    for (selector, felts) in selectors.iter().zip(calldatas) {
        let felts = felts
            .as_array()
            .ok_or("argument calldatas holds a non-list")?;
        let mut bytes = felt_bytes(selector, "selectors")?.to_vec();
        for f in felts {
            bytes.extend_from_slice(&felt_bytes(f, "calldatas")?);
        }
        out.push(json!(alloy::primitives::hex::encode_prefixed(bytes)));
    }
    Ok(Value::Array(out))
}

/// A felt short string (0x-hex) as the `bytes32` Solidity would hold: its bytes, right-padded with zeros.
fn bytes32_of_short_string(value: &Value, name: &str) -> Result<Value, String> {
    let bytes = felt_bytes(value, name)?;
    let used: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut padded = used;
    padded.resize(32, 0);
    Ok(json!(alloy::primitives::hex::encode_prefixed(padded)))
}

/// The canonical shape of a Cairo event's arguments.
pub fn canonical(contract: &str, event: &str, args: &Value) -> Result<Value, String> {
    let Some(fields) = args.as_object() else {
        return Err("arguments are not an object".into());
    };
    let mut out = Map::with_capacity(fields.len());
    for (name, value) in fields {
        let value = match (event, name.as_str()) {
            (_, "spec_hash" | "commitment" | "sealed_result") => bytes32_of_decimal(value, name)?,
            (_, "proposal_id") => decimal_of_felt(value, name)?,
            ("ProposalCreated", "calldatas") => proposal_calldatas(fields)?,
            ("ProposalCreated", "selectors") => continue,
            ("ParameterUpdated", "key") => bytes32_of_short_string(value, name)?,
            _ => value.clone(),
        };
        out.insert(canonical_name(name), value);
    }
    let _ = contract;
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Address, JobId, U256};

    const WORKER: &str = "0x00000000000000000000000000000000000000000000000000000000000000ab";

    /// A proposal id is a felt in Cairo (0x-hex in the decoded event) and a uint256 in the protocol: the
    /// governor's id is the same number either way.
    #[test]
    fn proposal_ids_read_as_their_number() {
        let id = "0x140ce06a3a0d6db4002d721a334806aeee27ffbfb3990f785a5d8b533a4fb69";
        let args = json!({"proposal_id": id, "voter": WORKER, "support": "1", "weight": "5", "reason": "ok"});
        let read = canonical("AccordGovernor", "VoteCast", &args).unwrap();
        let expected = U256::from_str_radix(&id[2..], 16).unwrap().to_string();
        assert_eq!(read["proposalId"], expected.as_str());
        assert!(
            canonical(
                "AccordGovernor",
                "VoteCast",
                &json!({"proposal_id": "0xzz"})
            )
            .is_err()
        );
    }

    /// A Cairo proposal's calls read as the opaque calldata the wallet builds: selector, then the felts.
    #[test]
    fn proposal_calls_read_as_selector_and_felts() {
        let args = json!({
            "selectors": ["0x5", "0x6"],
            "calldatas": [["0x1", "0x2"], []],
        });
        let read = proposal_calldatas(args.as_object().unwrap()).unwrap();
        let felt = |n: u8| format!("{}{n:02x}", "00".repeat(31));
        assert_eq!(
            read[0],
            format!("0x{}{}{}", felt(5), felt(1), felt(2)).as_str()
        );
        assert_eq!(read[1], format!("0x{}", felt(6)).as_str());
        let mismatched = json!({"selectors": ["0x5"], "calldatas": []});
        assert!(proposal_calldatas(mismatched.as_object().unwrap()).is_err());
    }

    #[test]
    fn names_become_the_solidity_ones() {
        for (snake, camel) in [
            ("job_id", "jobId"),
            ("spec_uri", "specURI"),
            ("metadata_uri", "metadataURI"),
            ("challenge_ends_at", "challengeEndsAt"),
            ("worker", "worker"),
        ] {
            assert_eq!(canonical_name(snake), camel);
        }
    }

    #[test]
    fn cairo_events_mean_what_the_solidity_ones_do() {
        let posted = json!({
            "job_id": "7", "client": WORKER, "spec_hash": "255", "required_capabilities": "3",
            "reward": "1000", "deadline": "99", "max_attempts": "2", "spec_uri": "ipfs://x",
        });
        let Some(ProtocolEvent::JobPosted {
            job,
            client,
            spec_hash,
            spec_uri,
            reward,
            ..
        }) = protocol_event("JobManager", "JobPosted", &posted).unwrap()
        else {
            panic!("a JobPosted");
        };
        assert_eq!(job, JobId(U256::from(7u8)));
        assert_eq!(client, Address::parse(Family::Starknet, WORKER).unwrap());
        assert_eq!(spec_hash, format!("0x{}ff", "0".repeat(62)));
        assert_eq!(spec_uri.text, "ipfs://x");
        assert_eq!(reward.0, U256::from(1000u16));
        let key = format!(
            "{:#x}",
            starknet::core::types::Felt::from_bytes_be_slice(b"minStake")
        );
        let param = json!({"key": key, "previous": "1", "current": "2"});
        let Some(ProtocolEvent::ParameterUpdated { key, value, .. }) =
            protocol_event("WorkerRegistry", "ParameterUpdated", &param).unwrap()
        else {
            panic!("a ParameterUpdated");
        };
        assert_eq!((key.as_str(), value), ("minStake", U256::from(2u8)));
        let slashed = json!({
            "worker": WORKER, "job_id": "0", "recipient": WORKER, "amount": "5", "from_stake": "5",
            "from_pending": "0",
        });
        let e = protocol_event("WorkerRegistry", "WorkerSlashed", &slashed)
            .unwrap()
            .unwrap();
        assert_eq!(e.stream().to_string(), format!("worker:{WORKER}"));
        assert!(
            protocol_event("JobManager", "JobPaid", &json!({"job_id": "1"})).is_err(),
            "a missing field is an error, not a silent default"
        );
    }
}
