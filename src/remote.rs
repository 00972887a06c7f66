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

/// The file where a client keeps the contracts it first trusted for each chain:
/// `$ACCORD_HOME/known_deployments.json` (`ACCORD_HOME` defaulting to `~/.accord`). `None` without a home.
pub fn known_deployments_file() -> Option<std::path::PathBuf> {
    let home = match std::env::var_os("ACCORD_HOME").filter(|v| !v.is_empty()) {
        Some(home) => std::path::PathBuf::from(home),
        None => std::path::PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?)
            .join(".accord"),
    };
    Some(home.join("known_deployments.json"))
}

/// Trust on first use of a chain's contracts as the API at `api_url` lists them, like SSH's known hosts: the
/// first time a chain is used its contract addresses are recorded in `file`; later, an API that lists other
/// addresses for that chain (a compromised or mistaken coordinator pointing signers at contracts that would take
/// their approvals) is refused before anything is signed. On devnets (`devnet`) nothing is recorded: their
/// keys are public and they are redeployed at will.
pub fn pin(
    chain: &RemoteChain,
    api_url: &str,
    file: &std::path::Path,
    devnet: bool,
) -> anyhow::Result<()> {
    if devnet {
        return Ok(());
    }
    let mut known: BTreeMap<String, BTreeMap<String, String>> = match std::fs::read_to_string(file)
    {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not a known-deployments file", file.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    };
    let listed: BTreeMap<String, String> = chain
        .contracts
        .iter()
        .map(|(k, v)| (k.clone(), v.to_ascii_lowercase()))
        .collect();
    match known.get(&chain.name) {
        Some(pinned) if *pinned == listed => Ok(()),
        Some(pinned) => {
            let changed: Vec<String> = pinned
                .keys()
                .chain(listed.keys())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .filter(|name| pinned.get(*name) != listed.get(*name))
                .map(|name| {
                    format!(
                        "{name} {} (first seen {})",
                        listed.get(name).map_or("missing", String::as_str),
                        pinned.get(name).map_or("nothing", String::as_str)
                    )
                })
                .collect();
            anyhow::bail!(
                "the API at {api_url} lists other contracts for {} than the ones first trusted in {}: {}. Nothing \
                 was signed. If the protocol was really redeployed, remove the \"{}\" entry from that file",
                chain.name,
                file.display(),
                changed.join(", "),
                chain.name
            )
        }
        None => {
            known.insert(chain.name.clone(), listed);
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let text = serde_json::to_string_pretty(&known)?;
            std::fs::write(file, text + "\n")
                .with_context(|| format!("cannot write {}", file.display()))?;
            eprintln!(
                "accord: first use of {} through {api_url}: its contracts are pinned in {}",
                chain.name,
                file.display()
            );
            Ok(())
        }
    }
}

/// [`pin`] in [`known_deployments_file`], when there is a home to keep it in.
pub fn pin_known(chain: &RemoteChain, api_url: &str, devnet: bool) -> anyhow::Result<()> {
    match known_deployments_file() {
        Some(file) => pin(chain, api_url, &file, devnet),
        None => Ok(()),
    }
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

    fn chain(name: &str, manager: &str) -> RemoteChain {
        RemoteChain {
            name: name.into(),
            chain_id: 1,
            family: Family::Evm,
            contracts: [
                ("AccordToken".to_owned(), "0xAA".to_owned()),
                ("JobManager".to_owned(), manager.to_owned()),
            ]
            .into(),
        }
    }

    /// A coordinator that starts listing another job manager for a chain (to take the approvals a client
    /// signs) is refused once the chain's contracts are pinned; devnets are never pinned.
    #[test]
    fn contracts_are_trusted_on_first_use_and_a_swap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("home/known_deployments.json");
        let api = "https://coordinator.example";
        pin(&chain("eip155:1", "0xBB"), api, &file, false).unwrap();
        pin(&chain("eip155:1", "0xbb"), api, &file, false).unwrap();
        let err = pin(&chain("eip155:1", "0xEE"), api, &file, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("JobManager 0xee (first seen 0xbb)"), "{err}");
        assert!(err.contains("Nothing was signed"), "{err}");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("0xbb") && !text.contains("0xee"), "{text}");
        // Another chain is pinned on its own; a devnet is never recorded.
        pin(&chain("eip155:10", "0xEE"), api, &file, false).unwrap();
        pin(&chain("eip155:31337", "0x01"), api, &file, true).unwrap();
        pin(&chain("eip155:31337", "0x02"), api, &file, true).unwrap();
        assert!(!std::fs::read_to_string(&file).unwrap().contains("31337"));
    }

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
