//! The EVM side of a local devnet, shared by `accord devnet` and the tests: anvil on a loopback port, the
//! public devnet keys of its mnemonic, funding accounts with the protocol token, and accounts for the demo.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::U256;
use alloy::providers::ProviderBuilder;
use anyhow::Context;

use super::Key;
use super::account::EvmAccount;
use super::bindings::AccordToken;
use super::ops::Deployment;
use crate::chain::CoordinatorKey;
use crate::chain::account::Wallet;
use crate::deployment::Manifest;
use crate::domain::{Address, Amount};

/// anvil's public test mnemonic: its keys are known to everyone, for devnets only.
pub const MNEMONIC: &str = "test test test test test test test test test test test junk";

/// anvil on 127.0.0.1, killed on drop.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    /// Its JSON-RPC URL.
    pub url: String,
    /// Its port.
    pub port: u16,
}

impl Anvil {
    /// Starts the anvil binary `program` on 127.0.0.1:`port` with `chain_id` and waits (up to 20 s) until it
    /// accepts connections.
    pub fn spawn(program: &Path, port: u16, chain_id: u64) -> anyhow::Result<Self> {
        let child = Command::new(program)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--chain-id",
                &chain_id.to_string(),
                "--silent",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start anvil ({})", program.display()))?;
        let anvil = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if start.elapsed() > Duration::from_secs(20) {
                anyhow::bail!("anvil did not start listening on port {port} within 20 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(anvil)
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Key `index` of [`MNEMONIC`], derived by the `cast` binary at `cast`.
pub fn devnet_key(cast: &Path, index: u32) -> anyhow::Result<String> {
    let out = Command::new(cast)
        .args(["wallet", "private-key", MNEMONIC, &index.to_string()])
        .output()
        .with_context(|| format!("cannot run cast ({})", cast.display()))?;
    if !out.status.success() {
        anyhow::bail!("cast wallet private-key failed");
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// The address of a 0x-hex private key.
pub fn address_of(key: &str) -> anyhow::Result<Address> {
    Ok(super::domain_address(parse_key(key)?.address()))
}

fn parse_key(key: &str) -> anyhow::Result<Key> {
    key.parse::<Key>()
        .map_err(|_| anyhow::anyhow!("not a 0x-hex private key"))
}

/// The coordinator's signing key from a 0x-hex private key.
pub fn coordinator_key(key: &str) -> anyhow::Result<CoordinatorKey> {
    Ok(parse_key(key)?.into())
}

/// Sends `amount` of the manifest's token from `holder` (a 0x-hex private key) to each of `recipients`, each
/// transfer mined before the next.
pub async fn fund(
    rpc_url: &str,
    manifest: &Manifest,
    holder: &str,
    recipients: &[Address],
    amount: Amount,
) -> anyhow::Result<()> {
    let provider = ProviderBuilder::new()
        .wallet(parse_key(holder)?)
        .connect_http(rpc_url.parse()?);
    let token = AccordToken::new(Deployment::from_manifest(manifest)?.token, &provider);
    for to in recipients {
        token
            .transfer(to.as_str().parse()?, U256::from(amount.0))
            .send()
            .await?
            .get_receipt()
            .await?;
    }
    Ok(())
}

/// The account of a 0x-hex private key on the manifest's deployment, connected to `rpc_url`.
pub async fn account(
    rpc_url: &str,
    manifest: &Manifest,
    key: &str,
) -> anyhow::Result<Arc<dyn Wallet>> {
    let deployment = Deployment::from_manifest(manifest)?;
    Ok(Arc::new(
        EvmAccount::connect(rpc_url, parse_key(key)?, deployment).await?,
    ))
}
