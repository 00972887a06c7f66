//! One configuration tree for the coordinator: TOML file, then `ACCORD_*` environment overrides, validated once
//! at start. Every field has a default (`#[serde(default)]`) and documents its unit.
//!
//! Environment overrides (each wins over the file):
//! `ACCORD_RPC_URL` → `chain.rpc_url`, `ACCORD_DATABASE_URL` → `database.url`, `ACCORD_API_LISTEN` → `api.listen`,
//! `ACCORD_DEPLOYMENTS_DIR` → `chain.deployments_dir`, `ACCORD_CONFIRMATIONS` → `indexer.confirmations`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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
    /// The chain to index.
    pub chain: ChainConfig,
    /// The indexer.
    pub indexer: IndexerConfig,
    /// The REST API.
    pub api: ApiConfig,
    /// PostgreSQL.
    pub database: DatabaseConfig,
    /// The scheduler (runs when a coordinator signer is given).
    pub scheduler: crate::scheduler::SchedulerConfig,
}

/// `[chain]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainConfig {
    /// JSON-RPC endpoint (http or https).
    pub rpc_url: String,
    /// Folder with `deployments/<chain-id>.json`; the manifest for the RPC's chain id is used.
    pub deployments_dir: PathBuf,
}

/// `[indexer]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexerConfig {
    /// Blocks behind the head before an event counts as final (0 on a devnet).
    pub confirmations: u64,
    /// How many recent blocks are kept for reorg detection; a deeper reorg halts indexing.
    pub reorg_window: u64,
    /// First `eth_getLogs` range, in blocks.
    pub initial_batch_blocks: u64,
    /// Largest `eth_getLogs` range, in blocks.
    pub max_batch_blocks: u64,
    /// Head polling interval while following, in milliseconds.
    pub poll_interval_ms: u64,
    /// Per-RPC-call timeout, in milliseconds.
    pub rpc_timeout_ms: u64,
    /// Retries of a failing RPC call before the indexer gives up, with exponential backoff.
    pub max_retries: u32,
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
}

/// `[database]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
            rpc_url: "http://127.0.0.1:8545".into(),
            deployments_dir: "deployments".into(),
        }
    }
}

impl Default for IndexerConfig {
    fn default() -> Self {
        Self {
            confirmations: 0,
            reorg_window: 128,
            initial_batch_blocks: 100,
            max_batch_blocks: 50_000,
            poll_interval_ms: 500,
            rpc_timeout_ms: 10_000,
            max_retries: 8,
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
        }
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
        if !(self.chain.rpc_url.starts_with("http://")
            || self.chain.rpc_url.starts_with("https://"))
        {
            return invalid("chain.rpc_url", "must be an http:// or https:// URL");
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
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be positive");
        }
        if let Err((key, reason)) = self.scheduler.validate() {
            return invalid(key, &reason);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn unknown_keys_and_bad_ranges_are_rejected() {
        assert!(toml::from_str::<Config>("[indexer]\nconfirmation = 3\n").is_err());
        let mut config = Config::default();
        config.indexer.max_batch_blocks = 10;
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
