//! Job specifications: what a worker runs. On chain a job carries only `specHash` (keccak256 of the spec's
//! bytes) and `specURI`; the worker fetches the bytes, checks the hash, and only then runs anything.
//!
//! The spec is JSON: `{"command": ["sh", "-c", "echo hi"], "timeout_secs": 30, "max_output_bytes": 65536}`.
//! Small specs travel inline as `data:application/json;base64,…` URIs (the contract allows 1024 bytes);
//! larger ones at an `http(s)://` URL.

use alloy::primitives::{B256, keccak256};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// Largest spec fetched from a URL, in bytes.
pub const MAX_SPEC_BYTES: usize = 64 * 1024;
/// The contract's limit on `specURI`.
pub const MAX_URI_BYTES: usize = 1024;

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// Program and arguments (no shell unless the program is one).
    pub command: Vec<String>,
    /// Wall-clock limit; the worker's own limit applies when absent or larger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    /// Output limit; the worker's own limit applies when absent or larger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_bytes: Option<u64>,
}

/// Why a spec cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URI scheme is not `data:` or `http(s)://`, or the data URI is malformed.
    #[error("unsupported or malformed spec URI: {0}")]
    Uri(String),
    /// The bytes do not hash to the on-chain `specHash`.
    #[error("spec bytes hash to {actual}, not to the on-chain specHash {expected}")]
    HashMismatch {
        /// On chain.
        expected: B256,
        /// Of the bytes fetched.
        actual: B256,
    },
    /// Not a spec.
    #[error("spec is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    /// An empty command.
    #[error("spec has an empty command")]
    EmptyCommand,
    /// Fetching from a URL failed.
    #[error("cannot fetch the spec: {0}")]
    Fetch(String),
}

impl JobSpec {
    /// A spec running `command`.
    pub fn new(command: Vec<String>) -> Self {
        Self {
            command,
            timeout_secs: None,
            max_output_bytes: None,
        }
    }

    /// The canonical bytes (compact JSON) and their keccak256, the on-chain `specHash`.
    pub fn encode(&self) -> (Vec<u8>, B256) {
        let bytes = serde_json::to_vec(self).expect("a spec serializes");
        let hash = keccak256(&bytes);
        (bytes, hash)
    }

    /// An inline `data:` URI for the spec, with its hash; errors when longer than the contract accepts.
    pub fn to_data_uri(&self) -> Result<(String, B256), Error> {
        let (bytes, hash) = self.encode();
        let uri = format!(
            "data:application/json;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        );
        if uri.len() > MAX_URI_BYTES {
            return Err(Error::Uri(format!(
                "the inline spec is {} bytes, over the contract's {MAX_URI_BYTES}; host it at an https:// URL",
                uri.len()
            )));
        }
        Ok((uri, hash))
    }

    /// Parses bytes already checked against the hash.
    pub fn parse(bytes: &[u8], expected: B256) -> Result<Self, Error> {
        let actual = keccak256(bytes);
        if actual != expected {
            return Err(Error::HashMismatch { expected, actual });
        }
        let spec: Self = serde_json::from_slice(bytes)?;
        if spec.command.is_empty() || spec.command[0].is_empty() {
            return Err(Error::EmptyCommand);
        }
        Ok(spec)
    }

    /// Fetches the spec at `uri` and checks it against `expected`.
    pub async fn fetch(uri: &str, expected: B256) -> Result<Self, Error> {
        let bytes = if let Some(rest) = uri.strip_prefix("data:") {
            let (meta, data) = rest
                .split_once(',')
                .ok_or_else(|| Error::Uri("data URI without a comma".into()))?;
            if meta.ends_with(";base64") {
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .map_err(|e| Error::Uri(format!("bad base64: {e}")))?
            } else {
                data.as_bytes().to_vec()
            }
        } else if uri.starts_with("http://") || uri.starts_with("https://") {
            fetch_url(uri).await?
        } else {
            let scheme = uri.split(':').next().unwrap_or_default();
            return Err(Error::Uri(format!(
                "scheme '{scheme}' is not data, http or https"
            )));
        };
        Self::parse(&bytes, expected)
    }
}

/// Time allowed for fetching a spec from a URL, connection included.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);
/// Redirects followed, each to the same scheme only.
const MAX_REDIRECTS: usize = 5;

/// Fetches at most [`MAX_SPEC_BYTES`], counted while the body streams in (a declared length is not trusted),
/// within [`FETCH_TIMEOUT`], following redirects only to the URL's own scheme.
async fn fetch_url(uri: &str) -> Result<Vec<u8>, Error> {
    fetch_url_within(uri, FETCH_TIMEOUT).await
}

async fn fetch_url_within(uri: &str, timeout: std::time::Duration) -> Result<Vec<u8>, Error> {
    use reqwest::redirect;
    let scheme = uri.split(':').next().unwrap_or_default().to_owned();
    let policy = redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else if attempt.url().scheme() != scheme {
            let to = attempt.url().scheme().to_owned();
            attempt.error(format!("redirect from {scheme} to {to} refused"))
        } else {
            attempt.follow()
        }
    });
    let client = reqwest::Client::builder()
        .redirect(policy)
        .timeout(timeout)
        .connect_timeout(timeout / 2)
        .build()
        .map_err(|e| Error::Fetch(e.to_string()))?;
    let too_big = || Error::Fetch(format!("spec is over the {MAX_SPEC_BYTES}-byte limit"));
    let mut response = client
        .get(uri)
        .send()
        .await
        .map_err(|e| Error::Fetch(fetch_error(e)))?
        .error_for_status()
        .map_err(|e| Error::Fetch(fetch_error(e)))?;
    if response
        .content_length()
        .is_some_and(|n| n > MAX_SPEC_BYTES as u64)
    {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Error::Fetch(fetch_error(e)))?
    {
        if bytes.len() + chunk.len() > MAX_SPEC_BYTES {
            return Err(too_big());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The error with its causes (a refused redirect says why), without the URL.
fn fetch_error(e: reqwest::Error) -> String {
    use std::error::Error as _;
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_data_uri_round_trips_and_a_wrong_hash_is_refused() {
        let spec = JobSpec {
            command: vec!["sh".into(), "-c".into(), "echo hi".into()],
            timeout_secs: Some(5),
            max_output_bytes: None,
        };
        let (uri, hash) = spec.to_data_uri().unwrap();
        assert!(uri.starts_with("data:application/json;base64,"));
        assert_eq!(JobSpec::fetch(&uri, hash).await.unwrap(), spec);
        assert!(matches!(
            JobSpec::fetch(&uri, B256::ZERO).await,
            Err(Error::HashMismatch { .. })
        ));
        assert!(matches!(
            JobSpec::fetch("ipfs://x", hash).await,
            Err(Error::Uri(_))
        ));
        let empty = br#"{"command":[]}"#;
        assert!(matches!(
            JobSpec::parse(empty, keccak256(empty)),
            Err(Error::EmptyCommand)
        ));
        let long = JobSpec::new(vec!["x".repeat(2_000)]);
        assert!(matches!(long.to_data_uri(), Err(Error::Uri(_))));
    }

    /// Serves each connection on a loopback port with `answer(request head)`, then closes it.
    async fn serve(answer: fn(&str) -> Vec<u8>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut head = vec![0u8; 4096];
                    let n = conn.read(&mut head).await.unwrap_or(0);
                    let reply = answer(&String::from_utf8_lossy(&head[..n]));
                    let _ = conn.write_all(&reply).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        url
    }

    #[tokio::test]
    async fn a_url_spec_is_capped_while_streaming_and_redirects_stay_on_scheme() {
        // An honest spec, behind one same-scheme redirect.
        let url = serve(|head| {
            if head.starts_with("GET /moved") {
                b"HTTP/1.1 302 Found\r\nLocation: /spec\r\nContent-Length: 0\r\n\r\n".to_vec()
            } else {
                let body = br#"{"command":["true"]}"#;
                let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len())
                    .into_bytes();
                r.extend_from_slice(body);
                r
            }
        })
        .await;
        let hash = keccak256(br#"{"command":["true"]}"#);
        let spec = JobSpec::fetch(&format!("{url}/moved"), hash).await.unwrap();
        assert_eq!(spec.command, ["true"]);

        // A body far over the cap, with no length declared: refused once the cap is crossed.
        let url = serve(|_| {
            let mut r = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
            r.resize(r.len() + 4 * MAX_SPEC_BYTES, b' ');
            r
        })
        .await;
        let err = JobSpec::fetch(&url, hash).await.unwrap_err().to_string();
        assert!(err.contains("over the 65536-byte limit"), "{err}");

        // A redirect to another scheme is not followed.
        let url = serve(|_| {
            b"HTTP/1.1 301 Moved\r\nLocation: https://127.0.0.1:9/spec\r\nContent-Length: 0\r\n\r\n"
                .to_vec()
        })
        .await;
        let err = JobSpec::fetch(&url, hash).await.unwrap_err().to_string();
        assert!(err.contains("redirect from http to https refused"), "{err}");

        // A server that never answers: the fetch gives up at its time limit.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent = format!("http://{}", listener.local_addr().unwrap());
        let started = std::time::Instant::now();
        let err = fetch_url_within(&silent, std::time::Duration::from_secs(1))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("timed out") || err.contains("timeout"),
            "{err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        drop(listener);
    }
}
