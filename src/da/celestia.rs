//! Celestia through celestia-node's JSON-RPC blob API: `blob.Submit(blobs, options) → height` and
//! `blob.Get(height, namespace, commitment) → blob`, bearer-authenticated.
//!
//! Namespace, blob and share commitment come from `celestia-types`; the JSON-RPC 2.0 client is a small one over
//! the `reqwest` alloy already builds (`celestia-rpc` would add jsonrpsee and libp2p-identity for two calls).
//! Blobs are share version 0 (no signer), so the commitment depends only on the namespace and the bytes, and
//! anyone can recompute it from the locator: [`share_commitment`].
//!
//! The auth token is never logged, printed or put in an error message; `Debug` shows it as `***`.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use alloy::primitives::B256;
use celestia_types::consts::appconsts;
use celestia_types::nmt::{NS_SIZE, Namespace};
use celestia_types::{Blob, Commitment};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{BlobRef, BoxFuture, Bytes, DaLayer, Error, KIND_CELESTIA, Result, verify};
use super::{CelestiaConfig, Secret};
use crate::chain::{redact_error, redact_rpc_url};

/// The layer's name in logs and `/v1/status`.
const NAME: &str = "celestia";

/// Parses a namespace given as hex (optional `0x`): up to 10 bytes is the user part of a version-0 namespace
/// (`6163636f7264` = "accord"); 29 bytes is a whole namespace (version byte and 28-byte id). Reserved
/// namespaces are refused: blobs cannot use them.
pub fn parse_namespace(hex: &str) -> Result<Namespace, String> {
    let raw = hex.strip_prefix("0x").unwrap_or(hex);
    let bytes = alloy::hex::decode(raw).map_err(|e| format!("'{hex}' is not hex: {e}"))?;
    let namespace = match bytes.len() {
        1..=10 => Namespace::new_v0(&bytes),
        NS_SIZE => Namespace::from_raw(&bytes),
        n => {
            return Err(format!(
                "'{hex}' is {n} bytes; give 1 to 10 bytes (a version-0 namespace id) or all {NS_SIZE} bytes"
            ));
        }
    }
    .map_err(|e| format!("'{hex}' is not a valid namespace: {e}"))?;
    if namespace.version() != 0 || namespace.is_reserved() {
        return Err(format!(
            "'{hex}' is a reserved namespace; blobs need a version-0 user namespace"
        ));
    }
    Ok(namespace)
}

/// The share commitment of `data` as a share-version-0 blob in `namespace`: what `blob.Submit` commits to.
pub fn share_commitment(namespace: &Namespace, data: &[u8]) -> Result<B256> {
    let commitment =
        Commitment::from_blob(*namespace, data, appconsts::SHARE_VERSION_ZERO, None)
            .map_err(|e| Error::Mismatch(format!("cannot compute a share commitment: {e}")))?;
    Ok(B256::from(*commitment.hash()))
}

/// A Celestia locator, `celestia:<height>:<namespace hex>`: the block height the blob was included at and its
/// whole 29-byte namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CelestiaLocator {
    /// Block height of inclusion.
    pub height: u64,
    /// The blob's namespace.
    pub namespace: Namespace,
}

impl CelestiaLocator {
    /// Parses `celestia:<height>:<namespace hex>`.
    pub fn parse(locator: &str) -> Result<Self> {
        let bad = |why: &str| Error::InvalidRef(format!("locator '{locator}' {why}"));
        let rest = locator
            .strip_prefix("celestia:")
            .ok_or_else(|| bad("does not start with celestia:"))?;
        let (height, ns) = rest
            .split_once(':')
            .ok_or_else(|| bad("is not celestia:<height>:<namespace hex>"))?;
        let height = u64::from_str(height).map_err(|_| bad("has no numeric height"))?;
        let bytes = alloy::hex::decode(ns).map_err(|_| bad("has no hex namespace"))?;
        if bytes.len() != NS_SIZE {
            return Err(bad("needs the whole 29-byte namespace"));
        }
        let namespace = Namespace::from_raw(&bytes).map_err(|e| bad(&e.to_string()))?;
        Ok(Self { height, namespace })
    }
}

impl fmt::Display for CelestiaLocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "celestia:{}:{}",
            self.height,
            alloy::hex::encode(self.namespace.as_bytes())
        )
    }
}

/// celestia-node's JSON-RPC blob API as a [`DaLayer`]; blobs go into one namespace.
pub struct CelestiaLayer {
    http: reqwest::Client,
    url: String,
    namespace: Namespace,
    token: Option<Secret>,
    ids: AtomicU64,
}

impl fmt::Debug for CelestiaLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CelestiaLayer")
            .field("url", &redact_rpc_url(&self.url))
            .field("namespace", &alloy::hex::encode(self.namespace.as_bytes()))
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// A JSON-RPC 2.0 answer.
#[derive(Deserialize)]
struct RpcAnswer {
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<RpcError>,
}

#[derive(Deserialize)]
struct RpcError {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
}

impl CelestiaLayer {
    /// A client of the node at `url` (http), putting blobs in `namespace`, authenticating with `token` when
    /// given; every call times out after `timeout` (`blob.Submit` waits for inclusion in a block).
    pub fn new(url: &str, namespace: Namespace, token: Option<Secret>, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .unwrap_or_default();
        Self {
            http,
            url: url.to_string(),
            namespace,
            token,
            ids: AtomicU64::new(1),
        }
    }

    /// The layer of `[da.celestia]`.
    pub fn from_config(config: &CelestiaConfig) -> Result<Self> {
        let namespace = parse_namespace(&config.namespace).map_err(|e| Error::Unavailable {
            layer: NAME.into(),
            message: format!("da.celestia.namespace {e}"),
        })?;
        Ok(Self::new(
            &config.url,
            namespace,
            config.auth_token.clone().filter(|t| !t.expose().is_empty()),
            Duration::from_millis(config.timeout_ms),
        ))
    }

    /// The namespace blobs are put in.
    pub fn namespace(&self) -> Namespace {
        self.namespace
    }

    fn unavailable(&self, message: impl Into<String>) -> Error {
        Error::Unavailable {
            layer: NAME.into(),
            message: message.into(),
        }
    }

    /// One JSON-RPC call; a JSON-RPC error comes back as `Err(Ok((code, message)))`.
    async fn call(
        &self,
        method: &str,
        params: Value,
    ) -> Result<std::result::Result<Value, (i64, String)>> {
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let mut request = self.http.post(&self.url).json(&body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose());
        }
        let node = redact_rpc_url(&self.url);
        let response = request.send().await.map_err(|e| {
            self.unavailable(format!(
                "{method} to {node}: {}",
                redact_error(&e.without_url().to_string())
            ))
        })?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(self.unavailable(format!(
                "{method} to {node}: the node refused the auth token (HTTP {status}); check da.celestia.auth_token \
                 or ACCORD_CELESTIA_TOKEN"
            )));
        }
        let text = response
            .bytes()
            .await
            .map_err(|e| self.unavailable(format!("{method} to {node}: {}", e.without_url())))?;
        let answer: RpcAnswer = serde_json::from_slice(&text).map_err(|e| {
            self.unavailable(format!(
                "{method} to {node}: HTTP {status}, not a JSON-RPC answer ({e})"
            ))
        })?;
        match (answer.result, answer.error) {
            (_, Some(error)) => Ok(Err((error.code, error.message))),
            (Some(result), None) => Ok(Ok(result)),
            (None, None) => Err(self.unavailable(format!(
                "{method} to {node}: answer has neither result nor error"
            ))),
        }
    }

    async fn submit(&self, data: Bytes) -> Result<BlobRef> {
        let size = data.len() as u64;
        let blob = Blob::new(self.namespace, data.to_vec(), None)
            .map_err(|e| Error::InvalidRef(format!("cannot make a Celestia blob: {e}")))?;
        let commitment = B256::from(*blob.commitment.hash());
        // Options: the node's defaults (its own key, estimated gas and price).
        let params = json!([[blob], {}]);
        let height = match self.call("blob.Submit", params).await? {
            Ok(height) => height.as_u64().ok_or_else(|| {
                self.unavailable(format!("blob.Submit answered {height}, not a height"))
            })?,
            Err((code, message)) => {
                return Err(self.unavailable(format!("blob.Submit failed ({code}): {message}")));
            }
        };
        let locator = CelestiaLocator {
            height,
            namespace: self.namespace,
        };
        tracing::info!(target: "accord::da", %commitment, height, size, "blob submitted to Celestia");
        Ok(BlobRef {
            kind: KIND_CELESTIA,
            commitment,
            size,
            locator: locator.to_string(),
        })
    }

    async fn fetch(&self, r: &BlobRef) -> Result<Bytes> {
        if r.kind != KIND_CELESTIA {
            return Err(Error::InvalidRef(format!(
                "kind {} is not Celestia's ({KIND_CELESTIA})",
                r.kind
            )));
        }
        let locator = CelestiaLocator::parse(&r.locator)?;
        let commitment = Commitment::new(r.commitment.0);
        let params = json!([locator.height, locator.namespace, commitment]);
        let blob = match self.call("blob.Get", params).await? {
            Ok(value) => serde_json::from_value::<Blob>(value).map_err(|e| {
                self.unavailable(format!("blob.Get answered a malformed blob: {e}"))
            })?,
            Err((_, message)) if message.contains("not found") => {
                return Err(Error::NotFound(format!(
                    "Celestia has no blob {} at {}",
                    r.commitment, r.locator
                )));
            }
            Err((code, message)) => {
                return Err(self.unavailable(format!("blob.Get failed ({code}): {message}")));
            }
        };
        let data = Bytes::from(blob.data);
        verify(r, &data)?;
        Ok(data)
    }
}

impl DaLayer for CelestiaLayer {
    fn name(&self) -> &str {
        NAME
    }

    fn kind(&self) -> u8 {
        KIND_CELESTIA
    }

    fn put(&self, data: Bytes) -> BoxFuture<'_, Result<BlobRef>> {
        Box::pin(self.submit(data))
    }

    fn get<'a>(&'a self, r: &'a BlobRef) -> BoxFuture<'a, Result<Bytes>> {
        Box::pin(self.fetch(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_parse_from_short_or_whole_hex() {
        let short = parse_namespace("0x6163636f7264").unwrap();
        assert_eq!(short.version(), 0);
        assert_eq!(&short.as_bytes()[NS_SIZE - 6..], b"accord");
        let whole = alloy::hex::encode(short.as_bytes());
        assert_eq!(parse_namespace(&whole).unwrap(), short);
        // "01" is the reserved transaction namespace; 29 bytes starting ff are version 255.
        for bad in [
            "",
            "zz",
            "01",
            &"01".repeat(11),
            &format!("ff{}", "00".repeat(28)),
        ] {
            assert!(parse_namespace(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn locators_round_trip() {
        let l = CelestiaLocator {
            height: 42,
            namespace: parse_namespace("6163636f7264").unwrap(),
        };
        let text = l.to_string();
        assert!(text.starts_with("celestia:42:00000000"), "{text}");
        assert_eq!(CelestiaLocator::parse(&text).unwrap(), l);
        for bad in [
            "celestia:42",
            "celestia:x:00",
            "accord:sha256:00",
            "celestia:1:0011",
        ] {
            assert!(CelestiaLocator::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let layer = CelestiaLayer::new(
            "http://user:pw@127.0.0.1:26658/path",
            parse_namespace("6163636f7264").unwrap(),
            Some(Secret::new("s3cret-token")),
            Duration::from_secs(1),
        );
        let text = format!("{layer:?}");
        assert!(!text.contains("s3cret") && !text.contains("pw"), "{text}");
    }
}
