//! The protocol's Cairo classes as `scripts/starknet-contracts` compiled them into `abi/starknet/` (checked fresh
//! against `contracts/starknet/` by the test command), embedded in the binary: what a deployment declares, and
//! the ABIs events are read through.

use std::sync::Arc;

use serde::Deserialize;
use starknet::core::types::contract::SierraClass;
use starknet::core::types::{Felt, FlattenedSierraClass};

use super::abi::ContractAbi;

/// Each contract's Sierra class, by the name the manifest and the index use, in deployment order.
const SIERRA: [(&str, &str); 5] = [
    (
        "AccordToken",
        include_str!("../../../abi/starknet/AccordToken.contract_class.json"),
    ),
    (
        "TimelockController",
        include_str!("../../../abi/starknet/TimelockController.contract_class.json"),
    ),
    (
        "AccordGovernor",
        include_str!("../../../abi/starknet/AccordGovernor.contract_class.json"),
    ),
    (
        "WorkerRegistry",
        include_str!("../../../abi/starknet/WorkerRegistry.contract_class.json"),
    ),
    (
        "JobManager",
        include_str!("../../../abi/starknet/JobManager.contract_class.json"),
    ),
];

/// Each class's compiled class hash (written by `scripts/starknet-contracts`).
const CLASSES: &str = include_str!("../../../abi/starknet/classes.json");

#[derive(Deserialize)]
struct Listed {
    compiled_class_hash: Felt,
}

/// A class ready to declare.
#[derive(Debug, Clone)]
pub struct Class {
    /// The contract's name.
    pub name: &'static str,
    /// The Sierra class, as a declare carries it.
    pub sierra: Arc<FlattenedSierraClass>,
    /// Its class hash.
    pub class_hash: Felt,
    /// The hash of its CASM compilation, which a declare must state.
    pub compiled_class_hash: Felt,
}

fn sierra_of(name: &str) -> Result<&'static str, String> {
    SIERRA
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .ok_or_else(|| format!("no Starknet class for contract {name}"))
}

/// The class of contract `name`.
pub fn class(name: &str) -> Result<Class, String> {
    let (name, text) = SIERRA
        .iter()
        .find(|(n, _)| *n == name)
        .copied()
        .ok_or_else(|| format!("no Starknet class for contract {name}"))?;
    let sierra: SierraClass = serde_json::from_str(text)
        .map_err(|e| format!("abi/starknet/{name}.contract_class.json: {e}"))?;
    let sierra = sierra
        .flatten()
        .map_err(|e| format!("abi/starknet/{name}.contract_class.json: {e}"))?;
    let listed: std::collections::HashMap<String, Listed> =
        serde_json::from_str(CLASSES).map_err(|e| format!("abi/starknet/classes.json: {e}"))?;
    let compiled_class_hash = listed
        .get(name)
        .map(|l| l.compiled_class_hash)
        .ok_or_else(|| format!("abi/starknet/classes.json lists no {name}"))?;
    Ok(Class {
        name,
        class_hash: sierra.class_hash(),
        sierra: Arc::new(sierra),
        compiled_class_hash,
    })
}

/// The ABI of contract `name`, for reading its events.
pub fn abi(name: &str) -> Result<ContractAbi, String> {
    #[derive(Deserialize)]
    struct WithAbi {
        abi: serde_json::Value,
    }
    let text = sierra_of(name)?;
    let class: WithAbi = serde_json::from_str(text)
        .map_err(|e| format!("abi/starknet/{name}.contract_class.json: {e}"))?;
    ContractAbi::parse(&class.abi.to_string())
        .map_err(|e| format!("abi/starknet/{name}.contract_class.json: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_loads_with_its_events() {
        for (name, _) in SIERRA {
            let class = class(name).unwrap();
            assert_ne!(class.class_hash, Felt::ZERO, "{name}");
            assert_ne!(class.compiled_class_hash, Felt::ZERO, "{name}");
            assert!(
                !abi(name).unwrap().event_names().is_empty(),
                "{name} emits events"
            );
        }
    }
}
