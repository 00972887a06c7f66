//! Revert data decoded into a readable error: the custom errors of every contract ABI in `abi/`, Solidity's
//! `Error(string)` and `Panic(uint256)`. The errors are read from the ABI files at compile time
//! (`include_str!`) and decoded with `dyn-abi`; no selector is written by hand.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use alloy::dyn_abi::{DynSolValue, ErrorExt};
use alloy::json_abi::JsonAbi;
use alloy::primitives::{Bytes, Selector, U256, hex};
use alloy::sol_types::{Panic, Revert as RevertString, SolError};

/// Every custom error of the protocol's contracts by selector (the same error in two ABIs appears once).
static ERRORS: LazyLock<HashMap<Selector, alloy::json_abi::Error>> = LazyLock::new(|| {
    let mut errors = HashMap::new();
    for (name, json) in crate::chain::evm::decode::ABIS {
        let abi: JsonAbi = serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("abi/{name}.json is not a JSON ABI: {e}"));
        for error in abi.errors() {
            errors
                .entry(error.selector())
                .or_insert_with(|| error.clone());
        }
    }
    errors
});

/// Why a call or transaction reverted, decoded from its revert data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revert {
    /// The error's name (`ZeroAmount`, `Error`, `Panic`), or `None` when the data matched no known error.
    pub name: Option<String>,
    /// The error's arguments as (parameter name, formatted value), in ABI order.
    pub args: Vec<(String, String)>,
    /// The raw revert data (selector and ABI-encoded arguments); empty when the node returned none.
    pub data: Bytes,
}

impl Revert {
    /// Whether this is the custom error `name` (e.g. `"AlreadyRegistered"`).
    pub fn is(&self, name: &str) -> bool {
        self.name.as_deref() == Some(name)
    }

    /// The formatted value of argument `name`, if the error has it.
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for Revert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => {
                write!(f, "{name}(")?;
                for (i, (arg, value)) in self.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}: {value}")?;
                }
                f.write_str(")")
            }
            None if self.data.is_empty() => f.write_str("revert without reason data"),
            None => write!(f, "unknown revert {}", self.data),
        }
    }
}

/// Decodes revert data: a custom error of any contract in `abi/`, `Error(string)` (argument `message`) or
/// `Panic(uint256)` (argument `code`, with its meaning). Anything else keeps `name: None` and displays as
/// `unknown revert 0x…`. Never fails.
pub fn decode_revert(data: &[u8]) -> Revert {
    let unknown = || Revert {
        name: None,
        args: Vec::new(),
        data: Bytes::copy_from_slice(data),
    };
    let Some(selector) = data.get(..4) else {
        return unknown();
    };
    let selector = Selector::from_slice(selector);
    let named = |name: &str, args: Vec<(String, String)>| Revert {
        name: Some(name.to_owned()),
        args,
        data: Bytes::copy_from_slice(data),
    };
    if selector == RevertString::SELECTOR {
        return match RevertString::abi_decode(data) {
            Ok(r) => named("Error", vec![("message".into(), format!("{:?}", r.reason))]),
            Err(_) => unknown(),
        };
    }
    if selector == Panic::SELECTOR {
        return match Panic::abi_decode(data) {
            Ok(p) => named("Panic", vec![("code".into(), panic_code(p.code))]),
            Err(_) => unknown(),
        };
    }
    let Some(error) = ERRORS.get(&selector) else {
        return unknown();
    };
    match error.decode_error(data) {
        Ok(decoded) => {
            let args = error
                .inputs
                .iter()
                .zip(&decoded.body)
                .enumerate()
                .map(|(i, (param, value))| {
                    let name = if param.name.is_empty() {
                        format!("arg{i}")
                    } else {
                        param.name.clone()
                    };
                    (name, format_value(value))
                })
                .collect();
            named(&error.name, args)
        }
        Err(_) => unknown(),
    }
}

/// A panic code in hex with its meaning from the Solidity documentation.
fn panic_code(code: U256) -> String {
    let meaning = match code.try_into().unwrap_or(u64::MAX) {
        0x00 => "generic compiler panic",
        0x01 => "assertion failed",
        0x11 => "arithmetic overflow or underflow",
        0x12 => "division or modulo by zero",
        0x21 => "invalid enum value",
        0x22 => "corrupt storage byte array",
        0x31 => "pop on empty array",
        0x32 => "array index out of bounds",
        0x41 => "out of memory",
        0x51 => "call to uninitialized function",
        _ => "unknown panic code",
    };
    format!("{code:#x} ({meaning})")
}

/// A decoded value as Solidity people write it: checksummed addresses, decimal integers, 0x-hex bytes,
/// quoted strings.
fn format_value(value: &DynSolValue) -> String {
    let list = |items: &[DynSolValue], open: &str, close: &str| {
        let inner: Vec<String> = items.iter().map(format_value).collect();
        format!("{open}{}{close}", inner.join(", "))
    };
    match value {
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::FixedBytes(word, size) => hex::encode_prefixed(&word[..*size]),
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::Function(f) => hex::encode_prefixed(f.as_slice()),
        DynSolValue::Bytes(b) => hex::encode_prefixed(b),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => list(items, "[", "]"),
        DynSolValue::Tuple(items) => list(items, "(", ")"),
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::evm::bindings::{JobManager, WorkerRegistry};
    use alloy::primitives::{Address, address};

    #[test]
    fn custom_errors_decode_by_name_with_named_arguments() {
        let worker = address!("0xabCDEF1234567890ABcDEF1234567890aBCDeF12");
        let data = WorkerRegistry::BelowMinStake {
            worker,
            stake: U256::from(5),
            minStake: U256::from(100),
        }
        .abi_encode();
        let revert = decode_revert(&data);
        assert_eq!(
            revert.to_string(),
            format!("BelowMinStake(worker: {worker}, stake: 5, minStake: 100)")
        );
        assert!(revert.is("BelowMinStake"));
        assert_eq!(revert.arg("minStake"), Some("100"));
        assert_eq!(revert.data.as_ref(), data.as_slice());

        let none = decode_revert(&WorkerRegistry::ZeroAmount {}.abi_encode());
        assert_eq!(none.to_string(), "ZeroAmount()");

        let job = decode_revert(
            &JobManager::JobStatusMismatch {
                jobId: U256::from(7),
                expected: 1,
                actual: 3,
            }
            .abi_encode(),
        );
        assert_eq!(
            job.to_string(),
            "JobStatusMismatch(jobId: 7, expected: 1, actual: 3)"
        );
        let key = decode_revert(
            &WorkerRegistry::ParameterOutOfBounds {
                key: alloy::primitives::B256::repeat_byte(0xab),
                value: U256::from(1),
                min: U256::from(2),
                max: U256::from(3),
            }
            .abi_encode(),
        );
        assert!(
            key.to_string()
                .starts_with("ParameterOutOfBounds(key: 0xabab")
        );
    }

    #[test]
    fn error_string_and_panic_decode() {
        let data = RevertString::from("not enough").abi_encode();
        assert_eq!(
            decode_revert(&data).to_string(),
            r#"Error(message: "not enough")"#
        );
        let data = Panic::from(0x11).abi_encode();
        assert_eq!(
            decode_revert(&data).to_string(),
            "Panic(code: 0x11 (arithmetic overflow or underflow))"
        );
    }

    #[test]
    fn unknown_and_empty_data_are_shown_raw() {
        assert_eq!(
            decode_revert(&[0xde, 0xad, 0xbe, 0xef, 1]).to_string(),
            "unknown revert 0xdeadbeef01"
        );
        assert_eq!(decode_revert(&[]).to_string(), "revert without reason data");
        assert_eq!(decode_revert(&[1, 2]).to_string(), "unknown revert 0x0102");
        // A known selector with truncated arguments is not passed off as decoded.
        let mut data = WorkerRegistry::AlreadyRegistered {
            worker: Address::ZERO,
        }
        .abi_encode();
        data.truncate(10);
        assert!(decode_revert(&data).name.is_none());
    }
}
