//! A coordinator's chains as its clients (the CLI, the worker agent) read them from `/v1/status`. A client picks
//! its chain by the chain id of the node it signs for, never by position, and passes the chain's CAIP-2 name as
//! `chain` to the routes that need it when the coordinator serves several chains.

use std::collections::BTreeMap;

use anyhow::Context;

use crate::domain::Family;

/// One chain a coordinator serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteChain {
    /// Its CAIP-2 name, the value of `chain` in requests.
    pub name: String,
    /// Its chain id as the index keys it.
    pub chain_id: u64,
    /// Its family.
    pub family: Family,
    /// Contract addresses by name, as served.
    pub contracts: BTreeMap<String, String>,
}

/// Every chain the coordinator at `api_url` serves, in its order.
pub async fn chains(http: &reqwest::Client, api_url: &str) -> anyhow::Result<Vec<RemoteChain>> {
    let url = format!("{}/v1/status", api_url.trim_end_matches('/'));
    let status: serde_json::Value = http
        .get(&url)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("no Accord API answers at {api_url}: {}", e.without_url()))?
        .error_for_status()
        .map_err(|e| anyhow::anyhow!("{url}: {}", e.without_url()))?
        .json()
        .await
        .with_context(|| format!("{url} is not an Accord status document"))?;
    let listed = status["chains"]
        .as_array()
        .with_context(|| format!("{url} lists no chains"))?;
    listed
        .iter()
        .map(|c| {
            let name = c["chain"].as_str().context("a chain without its name")?;
            let family = c["family"]
                .as_str()
                .context("a chain without its family")?
                .parse::<Family>()
                .map_err(anyhow::Error::msg)?;
            let contracts = c["contracts"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v["address"].as_str()?.to_owned())))
                .collect();
            Ok(RemoteChain {
                name: name.to_owned(),
                chain_id: c["chain_id"].as_u64().context("a chain without its id")?,
                family,
                contracts,
            })
        })
        .collect::<anyhow::Result<_>>()
        .with_context(|| format!("{url} is not an Accord status document"))
}

/// The chain `chain_id` among those the coordinator at `api_url` serves; an error naming the ones it serves when
/// it is not one of them.
pub async fn chain(
    http: &reqwest::Client,
    api_url: &str,
    chain_id: u64,
) -> anyhow::Result<RemoteChain> {
    let served = chains(http, api_url).await?;
    let names: Vec<&str> = served.iter().map(|c| c.name.as_str()).collect();
    let names = names.join(", ");
    served
        .iter()
        .find(|c| c.chain_id == chain_id)
        .cloned()
        .with_context(|| {
            format!("the API at {api_url} serves {names}, not the chain {chain_id} of this account's node")
        })
}

/// `path` (or a URL) with `chain` as a query parameter when given, percent-encoded.
pub fn with_chain(path: &str, chain: Option<&str>) -> String {
    match chain {
        None => path.to_owned(),
        Some(chain) => {
            let sep = if path.contains('?') { '&' } else { '?' };
            let value: String = chain
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{path}{sep}chain={value}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_is_appended_and_encoded() {
        assert_eq!(with_chain("/v1/jobs/7", None), "/v1/jobs/7");
        assert_eq!(
            with_chain("/v1/jobs/7", Some("eip155:31337")),
            "/v1/jobs/7?chain=eip155:31337"
        );
        assert_eq!(
            with_chain("/v1/jobs?worker=0x1", Some("starknet:SN A&B")),
            "/v1/jobs?worker=0x1&chain=starknet:SN%20A%26B"
        );
    }
}
