//! The deployment manifest, `deployments/<chain-id>.json`: the chain family, every contract's address and deploy
//! block, written by `scripts/deploy` from the broadcast receipts, read by the coordinator. Addresses are in the
//! family's normal form. `crate::chain::evm::deployment::verify` checks a live EVM chain against it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::{Address, Family};

/// Errors loading or verifying a deployment.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifest file could not be read.
    #[error("cannot read deployment manifest {path}: {source}")]
    Read {
        /// The manifest path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The manifest is not valid JSON of the expected shape.
    #[error("deployment manifest {path} is malformed: {source}")]
    Parse {
        /// The manifest path.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The manifest parses but contradicts itself.
    #[error("deployment manifest {path} is inconsistent: {reason}")]
    Inconsistent {
        /// The manifest path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The JSON-RPC node failed or could not be reached.
    #[error("JSON-RPC call `{call}` failed: {source}")]
    Rpc {
        /// The call that failed.
        call: &'static str,
        /// The transport or contract error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// `pub type Result<T, E = Error>` for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One check of a live deployment against its manifest (`accord deployment verify`) and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked, e.g. `JobManager.registry`.
    pub name: String,
    /// Whether it holds.
    pub ok: bool,
    /// Expected and actual values when it does not.
    pub detail: String,
}

/// Records the check `name`: `actual` is `expected`, or the reason no value could be read.
pub(crate) fn expect<T: PartialEq + std::fmt::Display>(
    checks: &mut Vec<Check>,
    name: &str,
    expected: T,
    actual: std::result::Result<T, String>,
) {
    let detail = match &actual {
        Ok(v) if *v == expected => String::new(),
        Ok(v) => format!("expected {expected}, found {v}"),
        Err(why) => why.clone(),
    };
    checks.push(Check {
        name: name.into(),
        ok: detail.is_empty(),
        detail,
    });
}

/// One deployed contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployed {
    /// Contract address.
    pub address: Address,
    /// Block of the transaction that created it.
    pub deploy_block: u64,
    /// Its class hash (Starknet only: the class it was deployed from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_hash: Option<String>,
}

/// The contracts' names in the manifest, in deployment order.
pub const CONTRACT_NAMES: [&str; 5] = [
    "AccordToken",
    "TimelockController",
    "AccordGovernor",
    "WorkerRegistry",
    "JobManager",
];

/// The protocol's contracts, keyed by contract name as in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contracts {
    /// ERC20 + permit + votes.
    #[serde(rename = "AccordToken")]
    pub token: Deployed,
    /// Owns every parameter and role; receives protocol fees.
    #[serde(rename = "TimelockController")]
    pub timelock: Deployed,
    /// Token-weighted governor that proposes to the timelock.
    #[serde(rename = "AccordGovernor")]
    pub governor: Deployed,
    /// Worker registration and stakes.
    #[serde(rename = "WorkerRegistry")]
    pub registry: Deployed,
    /// Job escrow and life cycle.
    #[serde(rename = "JobManager")]
    pub job_manager: Deployed,
}

impl Contracts {
    /// Name and record of each contract, in deployment order.
    pub fn iter(&self) -> [(&'static str, &Deployed); 5] {
        [
            ("AccordToken", &self.token),
            ("TimelockController", &self.timelock),
            ("AccordGovernor", &self.governor),
            ("WorkerRegistry", &self.registry),
            ("JobManager", &self.job_manager),
        ]
    }

    fn iter_mut(&mut self) -> [&mut Deployed; 5] {
        [
            &mut self.token,
            &mut self.timelock,
            &mut self.governor,
            &mut self.registry,
            &mut self.job_manager,
        ]
    }
}

/// `deployments/<chain-id>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// The chain's family; `evm` when the manifest does not say.
    #[serde(default = "evm", skip_serializing_if = "is_evm")]
    pub family: Family,
    /// Chain the contracts live on: an EVM chain id, or the index's key of a Starknet chain
    /// ([`crate::domain::ChainId::of_starknet`] of its network).
    pub chain_id: u64,
    /// Starknet: the chain id's short string (`SN_SEPOLIA`); absent on EVM chains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Account that deployed them (and kept no role).
    pub deployer: Address,
    /// Earliest deploy block: where indexing starts.
    pub deploy_block: u64,
    /// Every contract.
    pub contracts: Contracts,
}

fn evm() -> Family {
    Family::Evm
}

fn is_evm(family: &Family) -> bool {
    *family == Family::Evm
}

impl Manifest {
    /// The deployment's chain family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The chain's CAIP-2 name, as the API shows it: `eip155:<chain id>`, or `starknet:<network>` (the short
    /// string of a Starknet chain id, e.g. `starknet:SN_SEPOLIA`).
    pub fn caip2(&self) -> String {
        match (self.family, &self.network) {
            (Family::Starknet, Some(network)) => format!("starknet:{network}"),
            (Family::Starknet, None) => format!("starknet:{}", self.chain_id),
            (Family::Evm, _) => format!("eip155:{}", self.chain_id),
        }
    }

    /// Every address re-read in the manifest's family (an address is read without its family first).
    fn normalize(&mut self) -> std::result::Result<(), String> {
        let family = self.family;
        let reread = |a: &Address| Address::parse(family, a.as_str()).map_err(|e| e.to_string());
        self.deployer = reread(&self.deployer)?;
        for c in self.contracts.iter_mut() {
            c.address = reread(&c.address)?;
        }
        Ok(())
    }

    /// The conventional manifest path for `chain_id` under `dir`.
    pub fn path_for(dir: &Path, chain_id: u64) -> PathBuf {
        dir.join(format!("{chain_id}.json"))
    }

    /// Reads and checks a manifest.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.into(),
            source,
        })?;
        let mut manifest: Self = serde_json::from_str(&text).map_err(|source| Error::Parse {
            path: path.into(),
            source,
        })?;
        manifest
            .normalize()
            .and_then(|()| manifest.check())
            .map_err(|reason| Error::Inconsistent {
                path: path.into(),
                reason,
            })?;
        Ok(manifest)
    }

    /// Internal consistency: distinct non-zero addresses, and `deployBlock` is the earliest contract's block.
    pub fn check(&self) -> std::result::Result<(), String> {
        match (self.family, &self.network) {
            (Family::Evm, Some(network)) => {
                return Err(format!(
                    "an EVM manifest names a Starknet network ({network})"
                ));
            }
            (Family::Starknet, None) => {
                return Err("a Starknet manifest must name its network (SN_SEPOLIA, …)".into());
            }
            (Family::Starknet, Some(network)) => {
                let key = crate::domain::ChainId::of_starknet(network).0;
                if self.chain_id != key {
                    return Err(format!(
                        "chainId {} is not the key of network {network} ({key})",
                        self.chain_id
                    ));
                }
            }
            (Family::Evm, None) => {}
        }
        let all = self.contracts.iter();
        for (i, (name, c)) in all.iter().enumerate() {
            if c.address.is_zero() {
                return Err(format!("{name} has the zero address"));
            }
            if let Some((other, _)) = all[..i].iter().find(|(_, d)| d.address == c.address) {
                return Err(format!("{name} and {other} share address {}", c.address));
            }
        }
        let earliest = all
            .iter()
            .map(|(_, c)| c.deploy_block)
            .min()
            .unwrap_or_default();
        if self.deploy_block != earliest {
            return Err(format!(
                "deployBlock is {} but the earliest contract was deployed at {earliest}",
                self.deploy_block
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evm(n: u8) -> Address {
        Address::parse(Family::Evm, &format!("0x{}", format!("{n:02x}").repeat(20))).unwrap()
    }

    fn sample() -> Manifest {
        let d = |n: u8, b: u64| Deployed {
            address: evm(n),
            deploy_block: b,
            class_hash: None,
        };
        Manifest {
            family: Family::Evm,
            chain_id: 31337,
            network: None,
            deployer: evm(9),
            deploy_block: 1,
            contracts: Contracts {
                token: d(1, 1),
                timelock: d(2, 2),
                governor: d(3, 3),
                registry: d(4, 6),
                job_manager: d(5, 7),
            },
        }
    }

    #[test]
    fn manifest_round_trips_through_json() {
        let m = sample();
        let text = serde_json::to_string_pretty(&m).unwrap();
        assert!(
            text.contains("\"JobManager\""),
            "contract names are the manifest keys: {text}"
        );
        assert_eq!(serde_json::from_str::<Manifest>(&text).unwrap(), m);
    }

    #[test]
    fn check_rejects_inconsistent_manifests() {
        let mut m = sample();
        m.deploy_block = 2;
        assert!(
            m.check()
                .unwrap_err()
                .contains("earliest contract was deployed at 1")
        );
        let mut m = sample();
        m.contracts.job_manager.address = m.contracts.registry.address.clone();
        assert!(
            m.check()
                .unwrap_err()
                .contains("JobManager and WorkerRegistry share address")
        );
        let mut m = sample();
        m.contracts.token.address = Address::zero(Family::Evm);
        assert!(
            m.check()
                .unwrap_err()
                .contains("AccordToken has the zero address")
        );
        assert!(sample().check().is_ok());
    }

    #[test]
    fn load_names_the_file_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("1.json");
        let err = Manifest::load(&missing).unwrap_err().to_string();
        assert!(
            err.contains("cannot read deployment manifest") && err.contains("1.json"),
            "{err}"
        );

        let bad = dir.path().join("2.json");
        std::fs::write(&bad, r#"{"chainId": 2, "contracts": {}}"#).unwrap();
        let err = Manifest::load(&bad).unwrap_err().to_string();
        assert!(err.contains("is malformed"), "{err}");

        let unknown = dir.path().join("3.json");
        let mut v = serde_json::to_value(sample()).unwrap();
        v["extra"] = serde_json::json!(1);
        std::fs::write(&unknown, v.to_string()).unwrap();
        assert!(
            Manifest::load(&unknown)
                .unwrap_err()
                .to_string()
                .contains("unknown field `extra`")
        );
    }

    #[test]
    fn committed_devnet_manifest_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deployments/31337.json");
        let m = Manifest::load(&path).expect("deployments/31337.json is valid");
        assert_eq!(m.chain_id, 31337);
    }

    #[test]
    fn a_starknet_manifest_reads_its_addresses_as_felts_and_an_evm_one_refuses_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = serde_json::to_value(sample()).unwrap();
        v["family"] = serde_json::json!("starknet");
        v["network"] = serde_json::json!("SN_SEPOLIA");
        v["chainId"] = serde_json::json!(crate::domain::ChainId::of_starknet("SN_SEPOLIA").0);
        v["deployer"] = serde_json::json!("0x9");
        for (i, name) in [
            "AccordToken",
            "TimelockController",
            "AccordGovernor",
            "WorkerRegistry",
            "JobManager",
        ]
        .iter()
        .enumerate()
        {
            v["contracts"][name]["address"] = serde_json::json!(format!("0x{:x}", 0x41 + i));
        }
        let path = dir.path().join("starknet.json");
        std::fs::write(&path, v.to_string()).unwrap();
        let m = Manifest::load(&path).unwrap();
        assert_eq!(m.family(), Family::Starknet);
        assert_eq!(
            m.contracts.token.address.as_str(),
            format!("0x{}41", "0".repeat(62))
        );
        assert_eq!(m.deployer.family(), Family::Starknet);

        // Its chain id must be its network's key, and it must name a network.
        v["chainId"] = serde_json::json!(31337);
        std::fs::write(&path, v.to_string()).unwrap();
        let err = Manifest::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("is not the key of network SN_SEPOLIA"),
            "{err}"
        );
        v.as_object_mut().unwrap().remove("network");
        std::fs::write(&path, v.to_string()).unwrap();
        let err = Manifest::load(&path).unwrap_err().to_string();
        assert!(err.contains("must name its network"), "{err}");

        // An EVM manifest (no family) with a felt-sized address is refused, naming the address.
        let mut v = serde_json::to_value(sample()).unwrap();
        v["contracts"]["JobManager"]["address"] =
            serde_json::json!(format!("0x{}", "1".repeat(41)));
        let path = dir.path().join("mixed.json");
        std::fs::write(&path, v.to_string()).unwrap();
        let err = Manifest::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("is inconsistent") && err.contains("EVM"),
            "{err}"
        );
        // A manifest without a family field is an EVM one and is written without it.
        assert!(!serde_json::to_string(&sample()).unwrap().contains("family"));
    }
}
