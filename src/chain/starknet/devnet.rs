//! The Starknet side of a local devnet, shared by `accord devnet` and the tests: starknet-devnet on a loopback
//! port, its predeployed accounts (public keys of a fixed seed, for devnets only), and the devnet-only methods
//! the tests drive (minting fee tokens, moving the clock, creating, aborting and L1-accepting blocks), and the
//! protocol deployed with the devnet settings, its token handed out to demo accounts.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Deserialize;
use serde_json::{Value, json};
use starknet::accounts::{Account as _, ConnectedAccount as _};
use starknet::core::types::Felt;
use starknet::signers::SigningKey;

use super::bindings::token;
use super::signer::{Signer, wait_for};
use crate::chain::CoordinatorKey;
use crate::chain::account::Wallet;
use crate::deployment::Manifest;

/// The seed of the devnet's predeployed accounts: their keys are public, for devnets only.
pub const SEED: u32 = 0;

/// One predeployed account: an OpenZeppelin account contract with its key, funded with fee tokens.
#[derive(Debug, Clone, Deserialize)]
pub struct PredeployedAccount {
    /// The account contract's address.
    pub address: Felt,
    /// Its Stark private key.
    pub private_key: Felt,
    /// Its Stark public key.
    pub public_key: Felt,
}

impl PredeployedAccount {
    /// Its signing key.
    pub fn signing_key(&self) -> SigningKey {
        SigningKey::from_secret_scalar(self.private_key)
    }

    /// The account as the coordinator's key.
    pub fn coordinator_key(&self) -> CoordinatorKey {
        CoordinatorKey::Starknet {
            account: self.address,
            key: self.signing_key(),
        }
    }

    /// The account as a protocol wallet on `manifest`'s deployment, through the node at `rpc_url`.
    pub async fn wallet(
        &self,
        rpc_url: &str,
        manifest: &Manifest,
    ) -> anyhow::Result<std::sync::Arc<dyn Wallet>> {
        let deployment = super::Deployment::of(manifest).map_err(anyhow::Error::msg)?;
        Ok(std::sync::Arc::new(
            super::account::StarknetAccount::connect(
                rpc_url,
                self.address,
                self.signing_key(),
                deployment,
            )
            .await?,
        ))
    }
}

/// The protocol deployed on a devnet by its predeployed accounts: 0 deployed it and holds the token supply, 1 is
/// the coordinator, 2 the arbiter; the others are free.
pub struct DevnetProtocol {
    /// The predeployed accounts, in the devnet's order.
    pub accounts: Vec<PredeployedAccount>,
    /// Their signers, in the same order.
    pub signers: Vec<Signer>,
    /// The deployment.
    pub manifest: Manifest,
}

impl DevnetProtocol {
    /// Sends `amount` tokens (base units) from the holder (account 0) to each of `to`, in one multicall.
    pub async fn fund(&self, to: &[Felt], amount: u128) -> anyhow::Result<()> {
        fund(&self.signers[0], &self.manifest, to, amount).await
    }
}

/// Sends `amount` of `manifest`'s token (base units) from `holder` to each of `to`, in one multicall.
pub async fn fund(
    holder: &Signer,
    manifest: &Manifest,
    to: &[Felt],
    amount: u128,
) -> anyhow::Result<()> {
    let token_at = super::Deployment::of(manifest)
        .map_err(anyhow::Error::msg)?
        .address("AccordToken");
    let tok = token::AccordToken::new(token_at, holder);
    let amount = cainome::cairo_serde::U256 {
        low: amount,
        high: 0,
    };
    let calls = to
        .iter()
        .map(|a| tok.transfer_getcall(&cainome::cairo_serde::ContractAddress(*a), &amount))
        .collect();
    let sent = holder
        .execute_v3(calls)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("funding failed: {}", super::signer::account_error(&e)))?;
    wait_for(
        holder.provider(),
        sent.transaction_hash,
        Duration::from_secs(120),
    )
    .await?;
    Ok(())
}

/// starknet-devnet on 127.0.0.1, killed on drop.
#[derive(Debug)]
pub struct StarknetDevnet {
    child: Child,
    /// Its JSON-RPC URL.
    pub url: String,
    /// Its port.
    pub port: u16,
    http: reqwest::Client,
}

impl StarknetDevnet {
    /// Starts the starknet-devnet binary `program` on 127.0.0.1:`port` with the fixed [`SEED`], a block per
    /// transaction, and the chain id `chain_id` (`SN_SEPOLIA` when `None`), and waits (up to 60 s) until it
    /// answers `/is_alive`.
    pub async fn spawn(program: &Path, port: u16, chain_id: Option<&str>) -> anyhow::Result<Self> {
        let mut command = Command::new(program);
        command.args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--seed",
            &SEED.to_string(),
            "--accounts",
            "10",
            // Aborting blocks (a reorg, for the tests) needs every past state kept.
            "--state-archive-capacity",
            "full",
        ]);
        if let Some(id) = chain_id {
            command.args(["--chain-id", id]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!(
                    "cannot start starknet-devnet ({}); scripts/starknet-toolchain installs it",
                    program.display()
                )
            })?;
        let mut devnet = Self {
            child,
            url: format!("http://127.0.0.1:{port}/rpc"),
            port,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?,
        };
        let alive = format!("http://127.0.0.1:{port}/is_alive");
        let start = Instant::now();
        loop {
            if let Ok(r) = devnet.http.get(&alive).send().await
                && r.status().is_success()
            {
                return Ok(devnet);
            }
            if let Some(status) = devnet.child.try_wait()? {
                anyhow::bail!(
                    "starknet-devnet exited with {status} before it answered on port {port}"
                );
            }
            if start.elapsed() > Duration::from_secs(60) {
                anyhow::bail!("starknet-devnet did not answer on port {port} within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Calls the devnet's JSON-RPC `method` with `params`; errors quote the node's message.
    pub async fn call(&self, method: &str, params: Value) -> anyhow::Result<Value> {
        super::call(
            &self.http,
            &self.url,
            method,
            params,
            Duration::from_secs(60),
        )
        .await
    }

    /// The predeployed accounts, in the devnet's order.
    pub async fn accounts(&self) -> anyhow::Result<Vec<PredeployedAccount>> {
        let accounts = self
            .call("devnet_getPredeployedAccounts", json!({}))
            .await?;
        serde_json::from_value(accounts).context("devnet_getPredeployedAccounts: unexpected shape")
    }

    /// The predeployed accounts with their signers.
    pub async fn signers(&self) -> anyhow::Result<(Vec<PredeployedAccount>, Vec<Signer>)> {
        let provider = super::signer::provider(&self.url)?;
        let accounts = self.accounts().await?;
        let mut signers = Vec::with_capacity(accounts.len());
        for a in &accounts {
            signers.push(super::signer::signer(provider.clone(), a.address, a.private_key).await?);
        }
        Ok((accounts, signers))
    }

    /// Deploys the protocol with the devnet settings ([`super::deploy::Config::devnet`]): account 0 deploys it
    /// and holds the supply, 1 is the coordinator, 2 the arbiter.
    pub async fn deploy_protocol(&self) -> anyhow::Result<DevnetProtocol> {
        let (accounts, signers) = self.signers().await?;
        if signers.len() < 3 {
            anyhow::bail!(
                "starknet-devnet has {} predeployed accounts; 3 are needed",
                signers.len()
            );
        }
        let config = super::deploy::Config::devnet(
            signers[0].address(),
            signers[1].address(),
            signers[2].address(),
        );
        let manifest = super::deploy::deploy(&signers[0], &config)
            .await
            .context("cannot deploy the protocol on starknet-devnet")?;
        Ok(DevnetProtocol {
            accounts,
            signers,
            manifest,
        })
    }

    /// Mints `amount` fri (STRK's smallest unit, the fee token) to `address`.
    pub async fn mint_fee_tokens(&self, address: Felt, amount: u128) -> anyhow::Result<()> {
        self.call(
            "devnet_mint",
            json!({"address": format!("{address:#x}"), "amount": amount, "unit": "FRI"}),
        )
        .await
        .map(drop)
    }

    /// Moves the clock forward by `seconds` and mines a block with the new time.
    pub async fn increase_time(&self, seconds: u64) -> anyhow::Result<()> {
        self.call("devnet_increaseTime", json!({"time": seconds}))
            .await
            .map(drop)
    }

    /// Mines an empty block.
    pub async fn create_block(&self) -> anyhow::Result<()> {
        self.call("devnet_createBlock", json!({})).await.map(drop)
    }

    /// Aborts every block from `number` up to the latest: the chain continues from `number - 1` (a reorg).
    /// Returns the aborted blocks' hashes.
    pub async fn abort_blocks(&self, number: u64) -> anyhow::Result<Vec<Felt>> {
        let r = self
            .call(
                "devnet_abortBlocks",
                json!({"starting_block_id": {"block_number": number}}),
            )
            .await?;
        serde_json::from_value(r.get("aborted").cloned().unwrap_or(Value::Null))
            .context("devnet_abortBlocks: unexpected shape")
    }

    /// Marks every block up to `number` as accepted on L1 (final).
    pub async fn accept_on_l1(&self, number: u64) -> anyhow::Result<()> {
        self.call(
            "devnet_acceptOnL1",
            json!({"starting_block_id": {"block_number": number}}),
        )
        .await
        .map(drop)
    }
}

impl Drop for StarknetDevnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
