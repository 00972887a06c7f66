//! A whole devnet stack for write-path tests: anvil with the protocol deployed, a throwaway PostgreSQL, and
//! helpers to fund accounts, register and stake workers, and sign heartbeats with real wallets.

use std::time::{Duration, Instant};

use accord::chain::account::parse_tokens;
use accord::chain::evm::bindings::AccordToken;
use accord::chain::evm::offchain::{self, Heartbeat};
use accord::chain::evm::ops::{self, Deployment};
use accord::chain::evm::wallet::{SenderConfig, TxSender};
use accord::config::Config;
use accord::pg::TempCluster;
use alloy::primitives::U256;
use alloy::signers::local::PrivateKeySigner;
use serde_json::{Value, json};

use crate::utils::{Devnet, devnet_key};

/// Devnet plus database.
pub struct Stack {
    /// anvil with the contracts.
    pub devnet: Devnet,
    /// The cluster (kept alive).
    pub _cluster: TempCluster,
    /// A fresh database's URL.
    pub db_url: String,
    /// The contracts.
    pub deployment: Deployment,
}

impl Stack {
    /// Starts anvil, deploys, starts PostgreSQL and creates a database.
    pub async fn start() -> Self {
        let devnet = Devnet::start();
        let cluster = TempCluster::start().await.unwrap();
        let db_url = cluster.create_database("stack").await.unwrap();
        let deployment = Deployment::from_manifest(&devnet.manifest).unwrap();
        Self {
            devnet,
            _cluster: cluster,
            db_url,
            deployment,
        }
    }

    /// A coordinator configuration for this stack with fast polling and a free API port.
    pub fn config(&self) -> Config {
        let mut config = Config::default();
        config.chain.rpc_url = self.devnet.anvil.url.clone();
        config.chain.deployments_dir = self.devnet.deployments_dir().to_path_buf();
        config.database.url = self.db_url.clone();
        config.api.listen = "127.0.0.1:0".parse().unwrap();
        config.indexer.poll_interval_ms = 100;
        config.scheduler.poll_interval_ms = 100;
        config.scheduler.leader_retry_ms = 200;
        config
    }

    /// A coordinator scheduling as anvil account 1 (the coordinator role), caught up; and its API's URL.
    pub async fn coordinator(&self) -> (accord::coordinator::Coordinator, String) {
        self.coordinator_with(self.config()).await
    }

    /// [`Self::coordinator`] with `config` (start from [`Self::config`]).
    pub async fn coordinator_with(
        &self,
        config: Config,
    ) -> (accord::coordinator::Coordinator, String) {
        let mut coordinator =
            accord::coordinator::Coordinator::start(config, Some(signer(1).into()))
                .await
                .unwrap();
        coordinator
            .wait_ready(Duration::from_secs(60))
            .await
            .unwrap();
        let api = format!("http://{}", coordinator.api_addr);
        (coordinator, api)
    }

    /// A transaction sender for anvil account `i`.
    pub async fn sender(&self, i: u32) -> TxSender {
        TxSender::connect(&self.devnet.anvil.url, signer(i), SenderConfig::default())
            .await
            .unwrap()
    }

    /// Gives anvil account `i` `tokens` whole tokens from the deployer.
    pub async fn fund(&self, i: u32, tokens: u64) {
        let deployer = self.sender(0).await;
        let call = AccordToken::transferCall {
            to: signer(i).address(),
            value: U256::from(tokens) * U256::from(10u64).pow(U256::from(18u64)),
        };
        deployer.call(self.deployment.token, &call).await.unwrap();
    }

    /// Registers account `i` as a worker with `capabilities` and stakes `tokens`.
    pub async fn worker(&self, i: u32, capabilities: u16, tokens: u64) -> TxSender {
        self.fund(i, tokens).await;
        let s = self.sender(i).await;
        ops::register(&s, &self.deployment, capabilities, "")
            .await
            .unwrap();
        ops::stake(
            &s,
            &self.deployment,
            parse_tokens(&tokens.to_string()).unwrap().0,
        )
        .await
        .unwrap();
        s
    }
}

/// The signer of anvil account `i`.
pub fn signer(i: u32) -> PrivateKeySigner {
    devnet_key(i).parse().unwrap()
}

/// The account of `key` on `deployment` through the node at `rpc_url`. Its off-chain signatures are for that
/// deployment: a deployment with another registry signs messages the real one refuses.
pub async fn account(
    rpc_url: &str,
    key: PrivateKeySigner,
    deployment: Deployment,
) -> std::sync::Arc<accord::chain::evm::EvmAccount> {
    std::sync::Arc::new(
        accord::chain::evm::EvmAccount::connect(rpc_url, key, deployment)
            .await
            .unwrap(),
    )
}

/// A signed heartbeat body for account `i`.
pub fn heartbeat(stack: &Stack, i: u32, capacity: u32) -> Value {
    heartbeat_for(&stack.deployment, i, capacity)
}

/// A signed heartbeat body for account `i` of `deployment`.
pub fn heartbeat_for(deployment: &Deployment, i: u32, capacity: u32) -> Value {
    let key = signer(i);
    let beat = Heartbeat {
        worker: key.address(),
        capacity,
        timestamp: offchain::unix_now(),
    };
    let domain = offchain::domain(deployment.chain_id, deployment.registry);
    let sig = offchain::sign(&key, &domain, &beat).unwrap();
    json!({
        "worker": format!("{:#x}", beat.worker),
        "capacity": capacity,
        "timestamp": beat.timestamp,
        "signature": format!("0x{}", alloy::hex::encode(sig.as_bytes())),
    })
}

/// POSTs a heartbeat; returns the status code and body.
pub async fn post_heartbeat(api: &str, body: &Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{api}/v1/heartbeats"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

/// GETs JSON from the API.
pub async fn get(api: &str, path: &str) -> Value {
    reqwest::get(format!("{api}{path}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls `check` every 100 ms until it returns `Some`, or panics with `what` after `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
