//! What the signing commands share: the account (on the chain family the API serves), the API and output.

use std::sync::Arc;

use anyhow::Context;

use super::{GlobalArgs, Output};
use crate::chain::account::Wallet;
use crate::chain::evm::wallet::SignerArgs;
use crate::domain::Family;

/// An account connected to the chain, for the deployment the API serves.
pub struct Session {
    /// Signs and sends.
    pub wallet: Arc<dyn Wallet>,
    /// For API reads.
    pub http: reqwest::Client,
    /// The API's base URL.
    pub api_url: String,
    /// The CAIP-2 name of the wallet's chain, for the API routes that need it.
    pub chain: String,
}

/// The chain id (as the index keys it) of the node at `rpc_url`, an EVM or a Starknet node.
pub async fn chain_id(rpc_url: &str) -> anyhow::Result<u64> {
    crate::chain::identify(rpc_url, std::time::Duration::from_secs(10))
        .await
        .map(|(_, id)| id)
        .context("cannot read the chain id of --rpc-url")
}

impl Session {
    /// Connects: reads which chain the node at --rpc-url is (an EVM or a Starknet node), loads the signer for it
    /// (a key; on Starknet also --account) and connects it to the deployment the API serves on that chain.
    pub async fn open(global: &GlobalArgs, signer: &SignerArgs) -> anyhow::Result<Self> {
        let rpc_url = global.rpc_url_or_default();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        let api_url = global.api_url.trim_end_matches('/').to_owned();
        let (family, chain_id) =
            crate::chain::identify(&rpc_url, std::time::Duration::from_secs(10))
                .await
                .context("cannot read the chain id of --rpc-url")?;
        let wallet = match family {
            Family::Evm => {
                if signer.account.is_some() {
                    anyhow::bail!(
                        "--account is for Starknet accounts; on the EVM chain {chain_id} the address is derived from the key"
                    );
                }
                crate::chain::evm::EvmAccount::from_args(&rpc_url, signer, &http, &api_url).await?
            }
            Family::Starknet => {
                crate::chain::starknet::account::StarknetAccount::from_args(
                    &rpc_url, signer, &http, &api_url,
                )
                .await?
            }
        };
        let chain = crate::remote::chain(&http, &api_url, wallet.chain_id().0)
            .await?
            .name;
        Ok(Self {
            wallet,
            http,
            api_url,
            chain,
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
