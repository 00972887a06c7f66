//! One configuration tree for the coordinator: TOML file, then `ACCORD_*` environment overrides, validated once
//! at start. Every field has a default (`#[serde(default)]`) and documents its unit.
//!
//! Environment overrides (each wins over the file):
//! `ACCORD_RPC_URL` → `chain.rpc_url`, `ACCORD_DATABASE_URL` → `database.url`, `ACCORD_API_LISTEN` → `api.listen`,
//! `ACCORD_DEPLOYMENTS_DIR` → `chain.deployments_dir`, `ACCORD_CONFIRMATIONS` → `indexer.confirmations`,
//! `ACCORD_CELESTIA_URL` → `da.celestia.url`, `ACCORD_CELESTIA_TOKEN` → `da.celestia.auth_token`,
//! `ACCORD_STREAM_URL` → `stream.url`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::da::{CelestiaConfig, DaBackend, DaConfig, Secret};
pub use crate::indexer::IndexerConfig;

/// Accord's folder for keystores and worker state: `$ACCORD_HOME`, else `~/.accord`.
pub fn accord_home() -> PathBuf {
    match std::env::var_os("ACCORD_HOME") {
        Some(home) if !home.is_empty() => PathBuf::from(home),
        _ => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))
            .join(".accord"),
    }
}

/// Errors reading or validating configuration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("config file {path} is invalid: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: toml::de::Error,
    },
    /// A value (from the file or the environment) is out of range or malformed.
    #[error("invalid setting {key}: {reason}")]
    Invalid {
        /// The setting, e.g. `indexer.max_batch_blocks`.
        key: &'static str,
        /// Why.
        reason: String,
    },
}

/// `pub type Result<T, E = Error>` for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The chain to index, when the coordinator serves one (`[chain]`).
    pub chain: ChainConfig,
    /// The chains to index when the coordinator serves several at once (`[[chains]]`, in the order the API lists
    /// them); `[chain]` is then left out.
    pub chains: Vec<ChainConfig>,
    /// The indexer.
    pub indexer: IndexerConfig,
    /// The REST API.
    pub api: ApiConfig,
    /// PostgreSQL.
    pub database: DatabaseConfig,
    /// The scheduler (runs when a coordinator signer is given).
    pub scheduler: crate::scheduler::SchedulerConfig,
    /// Data availability.
    pub da: DaConfig,
    /// The event stream to NATS JetStream (off while `stream.url` is empty).
    pub stream: crate::stream::StreamConfig,
}

/// `[chain]`, or one `[[chains]]` entry. Its `Debug` shows the RPC URL without what providers hide keys in (userinfo, path, query).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainConfig {
    /// The chain's family: `evm` (the default) or `starknet`.
    pub family: crate::domain::Family,
    /// JSON-RPC endpoint (http or https).
    pub rpc_url: String,
    /// Folder with `deployments/<chain-id>.json`; the manifest for the RPC's chain id is used.
    pub deployments_dir: PathBuf,
    /// Starknet: index blocks accepted on L2 (`l2`, the default) or only those accepted on L1 (`l1`).
    pub finality: crate::domain::Finality,
}

/// `[api]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Listen address (loopback by default).
    pub listen: SocketAddr,
    /// Per-request timeout, in milliseconds.
    pub request_timeout_ms: u64,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest page size a list endpoint returns.
    pub max_page_size: u32,
    /// Abuse limits of the write routes.
    pub limits: LimitsConfig,
}

/// `[api.limits]`: rates and requests in flight on the write routes (`POST /v1/blobs`, `POST /v1/heartbeats`).
/// Over a limit the answer is 429 with `Retry-After`. A key's burst is a tenth of its per-minute rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Write requests per minute from one client IP.
    pub ip_per_minute: u32,
    /// Write requests in flight at once from one client IP.
    pub ip_max_in_flight: u32,
    /// Write requests per minute from one worker (after its signature is verified).
    pub worker_per_minute: u32,
    /// Write requests in flight at once from one worker.
    pub worker_max_in_flight: u32,
    /// Uploads in flight at once, from everyone.
    pub uploads_max_in_flight: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            ip_per_minute: 600,
            ip_max_in_flight: 16,
            worker_per_minute: 120,
            worker_max_in_flight: 4,
            uploads_max_in_flight: 32,
        }
    }
}

/// `[database]`. Its `Debug` shows the URL without credentials, path or query.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// PostgreSQL URL, e.g. `postgres://accord@127.0.0.1:5432/accord`.
    pub url: String,
    /// Connection pool size.
    pub max_connections: u32,
}

impl Default for ChainConfig {
    fn default() -> Self {
        Self {
            family: crate::domain::Family::Evm,
            rpc_url: "http://127.0.0.1:8545".into(),
            deployments_dir: "deployments".into(),
            finality: crate::domain::Finality::L2,
        }
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            request_timeout_ms: 10_000,
            max_body_bytes: 64 * 1024,
            max_page_size: 500,
            limits: LimitsConfig::default(),
        }
    }
}

impl std::fmt::Debug for ChainConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainConfig")
            .field("family", &self.family)
            .field("rpc_url", &crate::chain::redact_rpc_url(&self.rpc_url))
            .field("deployments_dir", &self.deployments_dir)
            .field("finality", &self.finality)
            .finish()
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &crate::chain::redact_rpc_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 16,
        }
    }
}

impl Config {
    /// The chains served: the `[[chains]]` list when given, else `[chain]`.
    pub fn served_chains(&self) -> &[ChainConfig] {
        if self.chains.is_empty() {
            std::slice::from_ref(&self.chain)
        } else {
            &self.chains
        }
    }

    /// Reads `path` (when given), applies environment overrides, validates.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
                    path: path.into(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| Error::Parse {
                    path: path.into(),
                    source,
                })?
            }
            None => Self::default(),
        };
        config.apply_env(|key| std::env::var(key).ok())?;
        config.validate()?;
        Ok(config)
    }

    /// Applies `ACCORD_*` overrides read through `var`.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<()> {
        if let Some(v) = var("ACCORD_RPC_URL") {
            self.chain.rpc_url = v;
        }
        if let Some(v) = var("ACCORD_DEPLOYMENTS_DIR") {
            self.chain.deployments_dir = v.into();
        }
        if let Some(v) = var("ACCORD_DATABASE_URL") {
            self.database.url = v;
        }
        if let Some(v) = var("ACCORD_API_LISTEN") {
            self.api.listen = v.parse().map_err(|e| Error::Invalid {
                key: "api.listen",
                reason: format!("'{v}': {e}"),
            })?;
        }
        if let Some(v) = var("ACCORD_CELESTIA_URL") {
            self.da.celestia.url = v;
        }
        if let Some(v) = var("ACCORD_CELESTIA_TOKEN") {
            self.da.celestia.auth_token = Some(Secret::new(v));
        }
        if let Some(v) = var("ACCORD_STREAM_URL") {
            self.stream.url = v;
        }
        if let Some(v) = var("ACCORD_CONFIRMATIONS") {
            self.indexer.confirmations = v.parse().map_err(|e| Error::Invalid {
                key: "indexer.confirmations",
                reason: format!("'{v}': {e}"),
            })?;
        }
        Ok(())
    }

    /// Checks ranges and shapes.
    pub fn validate(&self) -> Result<()> {
        let invalid = |key, reason: &str| {
            Err(Error::Invalid {
                key,
                reason: reason.into(),
            })
        };
        if !self.chains.is_empty() && self.chain != ChainConfig::default() {
            return invalid(
                "chains",
                "give either [chain] (one chain) or [[chains]] (several), not both",
            );
        }
        for chain in self.served_chains() {
            if !(chain.rpc_url.starts_with("http://") || chain.rpc_url.starts_with("https://")) {
                let key = if self.chains.is_empty() {
                    "chain.rpc_url"
                } else {
                    "chains.rpc_url"
                };
                return invalid(key, "must be an http:// or https:// URL");
            }
        }
        for (i, a) in self.chains.iter().enumerate() {
            if self.chains[..i]
                .iter()
                .any(|b| b.rpc_url == a.rpc_url && b.family == a.family)
            {
                return Err(Error::Invalid {
                    key: "chains.rpc_url",
                    reason: format!(
                        "{} is listed twice",
                        crate::chain::redact_rpc_url(&a.rpc_url)
                    ),
                });
            }
        }
        let ix = &self.indexer;
        if ix.initial_batch_blocks == 0 || ix.max_batch_blocks < ix.initial_batch_blocks {
            return invalid(
                "indexer.max_batch_blocks",
                "need 0 < initial_batch_blocks <= max_batch_blocks",
            );
        }
        if ix.reorg_window < ix.confirmations || ix.reorg_window == 0 {
            return invalid(
                "indexer.reorg_window",
                "must be at least 1 and at least indexer.confirmations",
            );
        }
        if ix.poll_interval_ms == 0 || ix.rpc_timeout_ms == 0 {
            return invalid("indexer.poll_interval_ms", "intervals must be positive");
        }
        if self.api.max_page_size == 0 || self.api.max_body_bytes == 0 {
            return invalid("api.max_page_size", "limits must be positive");
        }
        let l = &self.api.limits;
        if [
            l.ip_per_minute,
            l.ip_max_in_flight,
            l.worker_per_minute,
            l.worker_max_in_flight,
        ]
        .contains(&0)
            || l.uploads_max_in_flight == 0
        {
            return invalid("api.limits", "every limit must be at least 1");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be positive");
        }
        if let Err((key, reason)) = self.scheduler.validate() {
            return invalid(key, &reason);
        }
        if let Err((key, reason)) = self.stream.validate() {
            return invalid(key, &reason);
        }
        self.validate_da()
    }

    fn validate_da(&self) -> Result<()> {
        let invalid = |key, reason: String| Err(Error::Invalid { key, reason });
        let da = &self.da;
        if da.recheck_secs < 60 {
            return invalid("da.recheck_secs", "must be at least 60".into());
        }
        if da.secondary == Some(da.primary) {
            return invalid(
                "da.secondary",
                format!(
                    "must differ from da.primary ({}); leave it out for no fallback",
                    da.primary.name()
                ),
            );
        }
        if da.max_blob_bytes == 0 {
            return invalid("da.max_blob_bytes", "must be positive".into());
        }
        if da.put_timeout_ms == 0 {
            return invalid("da.put_timeout_ms", "must be positive".into());
        }
        self.validate_eip4844()?;
        if da.primary != DaBackend::Celestia && da.secondary != Some(DaBackend::Celestia) {
            return Ok(());
        }
        let c = &da.celestia;
        // alloy's reqwest is built without TLS: a remote node goes behind a local TLS-terminating proxy.
        if !c.url.starts_with("http://") {
            return invalid(
                "da.celestia.url",
                format!(
                    "'{}' must be an http:// URL (run the celestia-node locally or behind a local TLS proxy)",
                    crate::chain::redact_rpc_url(&c.url)
                ),
            );
        }
        if c.namespace.is_empty() {
            return invalid(
                "da.celestia.namespace",
                "is required when Celestia is used: the hex of up to 10 bytes, e.g. 6163636f7264"
                    .into(),
            );
        }
        if let Err(reason) = crate::da::parse_namespace(&c.namespace) {
            return invalid("da.celestia.namespace", reason);
        }
        if c.timeout_ms == 0 {
            return invalid("da.celestia.timeout_ms", "must be positive".into());
        }
        Ok(())
    }

    fn validate_eip4844(&self) -> Result<()> {
        let invalid = |key, reason: String| Err(Error::Invalid { key, reason });
        let da = &self.da;
        if da.secondary == Some(DaBackend::Eip4844) {
            return invalid(
                "da.secondary",
                "cannot be eip4844: a blob is published by the worker's own transaction, never as a fallback"
                    .into(),
            );
        }
        if da.primary != DaBackend::Eip4844 {
            return Ok(());
        }
        if let Some(chain) = self
            .served_chains()
            .iter()
            .find(|c| c.family != crate::domain::Family::Evm)
        {
            return invalid(
                "da.primary",
                format!(
                    "eip4844 needs EVM chains; the coordinator also serves a {} chain",
                    chain.family
                ),
            );
        }
        let e = &da.eip4844;
        // alloy's reqwest is built without TLS: remote nodes go behind a local TLS-terminating proxy.
        if !e.beacon_url.starts_with("http://") {
            return invalid("da.eip4844.beacon_url", "must be an http:// URL".into());
        }
        if e.block_id == crate::da::eip4844::BlockIdMode::Slot {
            if !e.rpc_url.starts_with("http://") {
                return invalid(
                    "da.eip4844.rpc_url",
                    "must be an http:// URL (slot mode reads block timestamps from it)".into(),
                );
            }
            if e.seconds_per_slot == 0 {
                return invalid("da.eip4844.seconds_per_slot", "must be positive".into());
            }
        }
        if e.timeout_ms == 0 {
            return invalid("da.eip4844.timeout_ms", "must be positive".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_credentials() {
        let mut config = Config::default();
        config.database.url =
            "postgres://accord:s3cret-pw@db.internal:5432/accord?sslmode=require".into();
        config.chain.rpc_url = "https://user:rpc-pass@eth.example/v2/API-KEY-123?key=q".into();
        config.da.eip4844.beacon_url = "http://beacon-user:beacon-pw@10.0.0.9:5052".into();
        config.da.eip4844.rpc_url = "http://10.0.0.9:8545/el-API-KEY-456".into();
        config.da.celestia.auth_token = Some(Secret::new("celestia-token-xyz".to_owned()));
        let text = format!("{config:?} {config:#?}");
        for secret in [
            "s3cret-pw",
            "rpc-pass",
            "API-KEY-123",
            "celestia-token-xyz",
            "beacon-pw",
            "el-API-KEY-456",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(
            text.contains("db.internal:5432") && text.contains("eth.example"),
            "{text}"
        );
    }

    #[test]
    fn default_config_round_trips_through_toml() {
        let config = Config::default();
        let text = toml::to_string(&config).unwrap();
        assert_eq!(toml::from_str::<Config>(&text).unwrap(), config);
        config.validate().unwrap();
    }

    #[test]
    fn environment_overrides_the_file_and_bad_values_are_named() {
        let mut config: Config = toml::from_str("[indexer]\nconfirmations = 3\n").unwrap();
        config
            .apply_env(|k| match k {
                "ACCORD_CONFIRMATIONS" => Some("5".into()),
                "ACCORD_DATABASE_URL" => Some("postgres://x@127.0.0.1/db".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.indexer.confirmations, 5);
        assert_eq!(config.database.url, "postgres://x@127.0.0.1/db");
        let err = config
            .apply_env(|k| (k == "ACCORD_API_LISTEN").then(|| "nope".into()))
            .unwrap_err();
        assert!(err.to_string().contains("api.listen"), "{err}");
    }

    #[test]
    fn da_settings_are_checked_and_the_token_never_shows() {
        let mut config: Config = toml::from_str(
            "[da]\nprimary = \"celestia\"\nsecondary = \"local\"\n[da.celestia]\nnamespace = \"6163636f7264\"\n",
        )
        .unwrap();
        config.validate().unwrap();
        config
            .apply_env(|k| match k {
                "ACCORD_CELESTIA_TOKEN" => Some("tok-3xyz".into()),
                "ACCORD_CELESTIA_URL" => Some("http://10.0.0.2:26658".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            config.da.celestia.auth_token.as_ref().unwrap().expose(),
            "tok-3xyz"
        );
        assert_eq!(config.da.celestia.url, "http://10.0.0.2:26658");
        assert!(!format!("{config:?}").contains("tok-3xyz"));

        let error = |edit: &dyn Fn(&mut Config)| {
            let mut c = config.clone();
            edit(&mut c);
            c.validate().unwrap_err().to_string()
        };
        assert!(error(&|c| c.da.secondary = Some(DaBackend::Celestia)).contains("da.secondary"));
        assert!(
            error(&|c| c.da.celestia.namespace = "zz".into()).contains("da.celestia.namespace")
        );
        assert!(error(&|c| c.da.celestia.namespace.clear()).contains("is required"));
        assert!(error(&|c| c.da.celestia.url = "https://x".into()).contains("da.celestia.url"));
        assert!(error(&|c| c.da.max_blob_bytes = 0).contains("da.max_blob_bytes"));
        assert!(toml::from_str::<Config>("[da]\nprimary = \"s3\"\n").is_err());
        assert!(error(&|c| c.da.secondary = Some(DaBackend::Eip4844)).contains("da.secondary"));
        let blobs = |c: &mut Config| c.da.primary = DaBackend::Eip4844;
        let mut ok = Config::default();
        blobs(&mut ok);
        ok.validate().unwrap();
        assert!(
            error(&|c| {
                blobs(c);
                c.da.eip4844.beacon_url = "https://beacon".into();
            })
            .contains("da.eip4844.beacon_url")
        );
        assert!(
            error(&|c| {
                blobs(c);
                c.chain.family = crate::domain::Family::Starknet;
            })
            .contains("EVM chains")
        );
        let anvil: Config = toml::from_str(
            "[da]\nprimary = \"eip4844\"\n[da.eip4844]\nbeacon_url = \"http://127.0.0.1:8545\"\nblock_id = \"number\"\n",
        )
        .unwrap();
        anvil.validate().unwrap();
        // Without Celestia in use, its settings are not checked.
        let local: Config = toml::from_str("[da.celestia]\nnamespace = \"zz\"\n").unwrap();
        local.validate().unwrap();
    }

    #[test]
    fn several_chains_are_listed_apart_from_the_single_chain_form() {
        let config: Config = toml::from_str(
            "[[chains]]\nrpc_url = \"http://127.0.0.1:8545\"\n\
             [[chains]]\nfamily = \"starknet\"\nrpc_url = \"http://127.0.0.1:5050\"\nfinality = \"l1\"\n",
        )
        .unwrap();
        config.validate().unwrap();
        let served = config.served_chains();
        assert_eq!(served.len(), 2);
        assert_eq!(served[1].family, crate::domain::Family::Starknet);
        assert_eq!(served[1].finality, crate::domain::Finality::L1);
        assert_eq!(Config::default().served_chains(), [ChainConfig::default()]);

        let mut both = config.clone();
        both.chain.rpc_url = "http://127.0.0.1:9545".into();
        assert!(
            both.validate()
                .unwrap_err()
                .to_string()
                .contains("not both")
        );
        let mut twice = config.clone();
        twice.chains[1] = twice.chains[0].clone();
        assert!(
            twice
                .validate()
                .unwrap_err()
                .to_string()
                .contains("listed twice")
        );
        let mut bad = config;
        bad.chains[1].rpc_url = "ws://x".into();
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("chains.rpc_url")
        );
    }

    #[test]
    fn unknown_keys_and_bad_ranges_are_rejected() {
        assert!(toml::from_str::<Config>("[indexer]\nconfirmation = 3\n").is_err());
        let mut config = Config::default();
        config.indexer.max_batch_blocks = 5;
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("indexer.max_batch_blocks")
        );
        let mut config = Config::default();
        config.chain.rpc_url = "ws://x".into();
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("chain.rpc_url")
        );
    }
}
