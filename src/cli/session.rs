//! What the signing commands share: the chain, the signer, the deployment (from the API) and output.

use anyhow::Context;

use super::{GlobalArgs, Output};
use crate::chain::evm::ops::Deployment;
use crate::chain::evm::wallet::{SenderConfig, SignerArgs, TxSender};

/// A signer connected to the chain, and the deployment the API serves.
pub struct Session {
    /// Sends the transactions.
    pub sender: TxSender,
    /// The contracts.
    pub deployment: Deployment,
    /// For API reads.
    pub http: reqwest::Client,
    /// The API's base URL.
    pub api_url: String,
}

/// The node's chain id.
pub async fn chain_id(rpc_url: &str) -> anyhow::Result<u64> {
    crate::chain::evm::chain_id_at(rpc_url, std::time::Duration::from_secs(10))
        .await
        .context("cannot read the chain id of --rpc-url")
}

impl Session {
    /// Connects: reads the chain id, loads the signer for it, and reads the deployment from the API.
    pub async fn open(global: &GlobalArgs, signer: &SignerArgs) -> anyhow::Result<Self> {
        let rpc_url = global.rpc_url_or_default();
        let chain_id = chain_id(&rpc_url).await?;
        let key = signer.load(chain_id)?;
        let sender = TxSender::connect(&rpc_url, key, SenderConfig::default()).await?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        let api_url = global.api_url.trim_end_matches('/').to_owned();
        let deployment = Deployment::from_api(&http, &api_url).await?;
        if deployment.chain_id != chain_id {
            anyhow::bail!(
                "the API at {api_url} serves chain {} but the RPC node is chain {chain_id}",
                deployment.chain_id
            );
        }
        Ok(Self {
            sender,
            deployment,
            http,
            api_url,
        })
    }
}

/// GET `path` from the API as JSON; a non-2xx answer becomes an error carrying the API's message.
pub async fn api_get(
    http: &reqwest::Client,
    api_url: &str,
    path: &str,
) -> anyhow::Result<serde_json::Value> {
    let url = format!("{}{path}", api_url.trim_end_matches('/'));
    let response =
        http.get(&url).send().await.map_err(|e| {
            anyhow::anyhow!("no Accord API answers at {api_url}: {}", e.without_url())
        })?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !status.is_success() {
        let message = body["error"]["message"].as_str().unwrap_or("no detail");
        anyhow::bail!("{path}: {status}: {message}");
    }
    Ok(body)
}

/// Prints `value` as JSON, or the table text.
pub fn emit(output: Output, value: &serde_json::Value, table: impl FnOnce() -> String) {
    match output {
        Output::Json => println!("{value}"),
        Output::Table => println!("{}", table()),
    }
}

/// `key: value` lines of a flat JSON object, keys padded.
pub fn lines(value: &serde_json::Value) -> String {
    let Some(map) = value.as_object() else {
        return value.to_string();
    };
    let width = map.keys().map(String::len).max().unwrap_or(0);
    map.iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{k:width$}  {v}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}
