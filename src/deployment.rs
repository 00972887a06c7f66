//! The deployment manifest, `deployments/<chain-id>.json`: every contract's address and deploy block, written by
//! `scripts/deploy` from the broadcast receipts, read by the coordinator. [`verify`] checks a live chain against it.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use serde::{Deserialize, Serialize};

use crate::chain::evm::bindings::{AccordGovernor, JobManager, TimelockController, WorkerRegistry};

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

/// One deployed contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployed {
    /// Contract address.
    pub address: Address,
    /// Block of the transaction that created it.
    pub deploy_block: u64,
}

/// The protocol's contracts, keyed by contract name as in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    pub fn iter(&self) -> [(&'static str, Deployed); 5] {
        [
            ("AccordToken", self.token),
            ("TimelockController", self.timelock),
            ("AccordGovernor", self.governor),
            ("WorkerRegistry", self.registry),
            ("JobManager", self.job_manager),
        ]
    }
}

/// `deployments/<chain-id>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// Chain the contracts live on.
    pub chain_id: u64,
    /// Account that deployed them (and kept no role).
    pub deployer: Address,
    /// Earliest deploy block: where indexing starts.
    pub deploy_block: u64,
    /// Every contract.
    pub contracts: Contracts,
}

impl Manifest {
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
        let manifest: Self = serde_json::from_str(&text).map_err(|source| Error::Parse {
            path: path.into(),
            source,
        })?;
        manifest.check().map_err(|reason| Error::Inconsistent {
            path: path.into(),
            reason,
        })?;
        Ok(manifest)
    }

    /// Internal consistency: distinct non-zero addresses, and `deployBlock` is the earliest contract's block.
    pub fn check(&self) -> std::result::Result<(), String> {
        let all = self.contracts.iter();
        for (i, (name, c)) in all.iter().enumerate() {
            if c.address == Address::ZERO {
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

/// One wiring check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked, e.g. `JobManager.registry`.
    pub name: String,
    /// Whether it holds.
    pub ok: bool,
    /// Expected and actual values when it does not.
    pub detail: String,
}

fn rpc<E: std::error::Error + Send + Sync + 'static>(
    call: &'static str,
) -> impl FnOnce(E) -> Error {
    move |e| Error::Rpc {
        call,
        source: Box::new(e),
    }
}

/// A view call's answer, or why the contract gave none. A revert or undecodable return data means the address
/// does not hold the expected contract: a failed check. A transport failure is an [`Error::Rpc`].
fn answer<T>(
    call: &'static str,
    result: std::result::Result<T, alloy::contract::Error>,
) -> Result<std::result::Result<T, String>> {
    use alloy::contract::Error as E;
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(e) if e.as_revert_data().is_some() || matches!(e, E::ZeroData(..) | E::AbiError(_)) => {
            Ok(Err(format!(
                "`{call}` reverted or returned no data: the address does not hold the expected contract"
            )))
        }
        Err(e) => Err(Error::Rpc {
            call,
            source: Box::new(e),
        }),
    }
}

fn expect<T: PartialEq + std::fmt::Display>(
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

/// Checks a live chain against `manifest`: the chain id, code at every address, every cross-contract link, and
/// that the timelock (not the deployer) holds every admin role. Returns one [`Check`] per property; an RPC
/// failure is an error, never a failed check.
pub async fn verify<P: Provider>(provider: &P, manifest: &Manifest) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    let chain_id = provider.get_chain_id().await.map_err(rpc("eth_chainId"))?;
    expect(&mut checks, "chain id", manifest.chain_id, Ok(chain_id));
    for (name, c) in manifest.contracts.iter() {
        let code = provider
            .get_code_at(c.address)
            .await
            .map_err(rpc("eth_getCode"))?;
        let found = if code.is_empty() {
            Err(format!("no code at {}", c.address))
        } else {
            Ok(true)
        };
        expect(&mut checks, &format!("{name} has code"), true, found);
    }
    if checks.iter().any(|c| !c.ok) {
        return Ok(checks);
    }

    let k = &manifest.contracts;
    let jm = JobManager::new(k.job_manager.address, provider);
    let registry = WorkerRegistry::new(k.registry.address, provider);
    let governor = AccordGovernor::new(k.governor.address, provider);
    let timelock = TimelockController::new(k.timelock.address, provider);

    let links = [
        (
            "JobManager.token",
            k.token.address,
            answer("JobManager.token", jm.token().call().await)?,
        ),
        (
            "JobManager.registry",
            k.registry.address,
            answer("JobManager.registry", jm.registry().call().await)?,
        ),
        (
            "JobManager.treasury",
            k.timelock.address,
            answer("JobManager.treasury", jm.treasury().call().await)?,
        ),
        (
            "WorkerRegistry.token",
            k.token.address,
            answer("WorkerRegistry.token", registry.token().call().await)?,
        ),
        (
            "WorkerRegistry.jobManager",
            k.job_manager.address,
            answer(
                "WorkerRegistry.jobManager",
                registry.jobManager().call().await,
            )?,
        ),
        (
            "AccordGovernor.token",
            k.token.address,
            answer("AccordGovernor.token", governor.token().call().await)?,
        ),
        (
            "AccordGovernor.timelock",
            k.timelock.address,
            answer("AccordGovernor.timelock", governor.timelock().call().await)?,
        ),
    ];
    for (name, expected, actual) in links {
        expect(&mut checks, name, expected, actual);
    }

    let admin = B256::ZERO; // DEFAULT_ADMIN_ROLE
    let proposer = answer(
        "TimelockController.PROPOSER_ROLE",
        timelock.PROPOSER_ROLE().call().await,
    )?;
    let proposer = proposer.unwrap_or_default();
    let (tl, dep) = (k.timelock.address, manifest.deployer);
    let roles = [
        (
            "timelock is JobManager admin",
            true,
            answer("JobManager.hasRole", jm.hasRole(admin, tl).call().await)?,
        ),
        (
            "deployer is not JobManager admin",
            false,
            answer("JobManager.hasRole", jm.hasRole(admin, dep).call().await)?,
        ),
        (
            "timelock is WorkerRegistry admin",
            true,
            answer(
                "WorkerRegistry.hasRole",
                registry.hasRole(admin, tl).call().await,
            )?,
        ),
        (
            "deployer is not WorkerRegistry admin",
            false,
            answer(
                "WorkerRegistry.hasRole",
                registry.hasRole(admin, dep).call().await,
            )?,
        ),
        (
            "governor proposes to the timelock",
            true,
            answer(
                "TimelockController.hasRole",
                timelock.hasRole(proposer, k.governor.address).call().await,
            )?,
        ),
        (
            "deployer is not timelock admin",
            false,
            answer(
                "TimelockController.hasRole",
                timelock.hasRole(admin, dep).call().await,
            )?,
        ),
    ];
    for (name, expected, actual) in roles {
        expect(&mut checks, name, expected, actual);
    }
    if !crate::wallet::is_devnet(chain_id) {
        minimums(&mut checks, manifest, &governor, &timelock, &jm).await?;
    }
    Ok(checks)
}

/// The documented minimums of a deployment on a public chain (README, "Deploy settings"): governance slow enough
/// for token holders to react, and no protocol role left on the deployer's key. Devnets are exempt.
pub mod minimum {
    /// Blocks between a proposal and its vote (one day of 12-second blocks).
    pub const VOTING_DELAY_BLOCKS: u64 = 7_200;
    /// Blocks a vote lasts (three days of 12-second blocks).
    pub const VOTING_PERIOD_BLOCKS: u64 = 21_600;
    /// Tokens (base units) needed to propose: more than nothing, so proposals cannot be spammed for free.
    pub const PROPOSAL_THRESHOLD: u128 = 1;
    /// Quorum, percent of the supply.
    pub const QUORUM_PERCENT: u64 = 4;
    /// Seconds between a passed proposal and its execution (two days).
    pub const TIMELOCK_DELAY_SECS: u64 = 172_800;
}

async fn minimums<P: Provider>(
    checks: &mut Vec<Check>,
    manifest: &Manifest,
    governor: &AccordGovernor::AccordGovernorInstance<&P>,
    timelock: &TimelockController::TimelockControllerInstance<&P>,
    jm: &JobManager::JobManagerInstance<&P>,
) -> Result<()> {
    let mut at_least = |name: &str, min: U256, actual: std::result::Result<U256, String>| {
        let detail = match actual {
            Ok(v) if v >= min => String::new(),
            Ok(v) => format!("{v} is below the documented minimum {min}"),
            Err(why) => why,
        };
        checks.push(Check {
            name: name.into(),
            ok: detail.is_empty(),
            detail,
        });
    };
    at_least(
        "governor voting delay (blocks)",
        U256::from(minimum::VOTING_DELAY_BLOCKS),
        answer(
            "AccordGovernor.votingDelay",
            governor.votingDelay().call().await,
        )?,
    );
    at_least(
        "governor voting period (blocks)",
        U256::from(minimum::VOTING_PERIOD_BLOCKS),
        answer(
            "AccordGovernor.votingPeriod",
            governor.votingPeriod().call().await,
        )?,
    );
    at_least(
        "governor proposal threshold",
        U256::from(minimum::PROPOSAL_THRESHOLD),
        answer(
            "AccordGovernor.proposalThreshold",
            governor.proposalThreshold().call().await,
        )?,
    );
    at_least(
        "governor quorum (percent)",
        U256::from(minimum::QUORUM_PERCENT),
        answer(
            "AccordGovernor.quorumNumerator",
            governor.quorumNumerator_0().call().await,
        )?,
    );
    at_least(
        "timelock delay (seconds)",
        U256::from(minimum::TIMELOCK_DELAY_SECS),
        answer(
            "TimelockController.getMinDelay",
            timelock.getMinDelay().call().await,
        )?,
    );
    let dep = manifest.deployer;
    let coordinator = answer(
        "JobManager.COORDINATOR_ROLE",
        jm.COORDINATOR_ROLE().call().await,
    )?
    .unwrap_or_default();
    let arbiter =
        answer("JobManager.ARBITER_ROLE", jm.ARBITER_ROLE().call().await)?.unwrap_or_default();
    expect(
        checks,
        "deployer does not hold COORDINATOR_ROLE",
        false,
        answer(
            "JobManager.hasRole",
            jm.hasRole(coordinator, dep).call().await,
        )?,
    );
    expect(
        checks,
        "deployer does not hold ARBITER_ROLE",
        false,
        answer("JobManager.hasRole", jm.hasRole(arbiter, dep).call().await)?,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let d = |n: u8, b: u64| Deployed {
            address: Address::repeat_byte(n),
            deploy_block: b,
        };
        Manifest {
            chain_id: 31337,
            deployer: Address::repeat_byte(9),
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
        m.contracts.job_manager.address = m.contracts.registry.address;
        assert!(
            m.check()
                .unwrap_err()
                .contains("JobManager and WorkerRegistry share address")
        );
        let mut m = sample();
        m.contracts.token.address = Address::ZERO;
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
}
