//! `[da]` settings, and the [`Secret`] wrapper its credentials are held in.

use serde::{Deserialize, Serialize};

/// A DA backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DaBackend {
    /// Content-addressed bytes in the coordinator's PostgreSQL (`daKind` 1).
    Local,
    /// Celestia through a celestia-node's JSON-RPC blob API (`daKind` 2).
    Celestia,
    /// EIP-4844 blobs carried by the worker's result transaction (`daKind` 3); EVM chains only, primary only.
    Eip4844,
}

impl DaBackend {
    /// The name used in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            DaBackend::Local => "local",
            DaBackend::Celestia => "celestia",
            DaBackend::Eip4844 => "eip4844",
        }
    }
}

/// `[da]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DaConfig {
    /// Where blobs go first.
    pub primary: DaBackend,
    /// Where blobs go when the primary fails (they are put on the primary later by `accord da reconcile`).
    pub secondary: Option<DaBackend>,
    /// Largest blob `POST /v1/blobs` accepts, in bytes.
    pub max_blob_bytes: usize,
    /// Time allowed for an upload, body and DA put included (Celestia waits for a block), in milliseconds.
    pub put_timeout_ms: u64,
    /// How often `accord serve` retries pending blobs on the primary, in seconds; 0 leaves it to
    /// `accord da reconcile`.
    pub reconcile_interval_secs: u64,
    /// How often `accord serve` checks committed results for the DA consistency report (`/v1/da/report`), in
    /// seconds; 0 leaves it to `accord da report --refresh`.
    pub check_interval_secs: u64,
    /// A result's last check older than this is checked again (layers prune), in seconds; at least 60.
    pub recheck_secs: u64,
    /// `[da.celestia]`, used when `primary` or `secondary` is `celestia`.
    pub celestia: CelestiaConfig,
    /// `[da.eip4844]`, used when `primary` is `eip4844`.
    pub eip4844: super::Eip4844Config,
}

/// `[da.celestia]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CelestiaConfig {
    /// celestia-node JSON-RPC endpoint (http), e.g. a light node's `http://127.0.0.1:26658`.
    pub url: String,
    /// Namespace of the blobs, hex: up to 10 bytes (a version-0 namespace id) or the whole 29 bytes.
    pub namespace: String,
    /// The node's auth token (`celestia light auth write`); better given as `ACCORD_CELESTIA_TOKEN`.
    pub auth_token: Option<Secret>,
    /// Per-call timeout, in milliseconds (`blob.Submit` returns once the blob is in a block).
    pub timeout_ms: u64,
}

/// A credential: kept out of `Debug` output (and so out of logs and error messages).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The credential itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Default for DaConfig {
    fn default() -> Self {
        Self {
            primary: DaBackend::Local,
            secondary: None,
            max_blob_bytes: 4 * 1024 * 1024,
            put_timeout_ms: 120_000,
            reconcile_interval_secs: 300,
            check_interval_secs: 60,
            recheck_secs: 86_400,
            celestia: CelestiaConfig::default(),
            eip4844: super::Eip4844Config::default(),
        }
    }
}

impl Default for CelestiaConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:26658".into(),
            namespace: String::new(),
            auth_token: None,
            timeout_ms: 90_000,
        }
    }
}
