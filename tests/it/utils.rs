//! Shared helpers: tool paths, a throwaway anvil on a free loopback port, running project scripts.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

/// anvil's first well-known devnet key (public; devnet chains only).
pub const DEVNET_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A pinned tool from `.tools/bin`; panics with the install command when it is missing.
pub fn tool(name: &str) -> PathBuf {
    let path = repo().join(".tools/bin").join(name);
    assert!(
        path.exists(),
        "{name} is missing at {}: run scripts/bootstrap first",
        path.display()
    );
    path
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind a loopback port")
        .local_addr()
        .unwrap()
        .port()
}

/// Runs a command and returns its output, panicking only if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

/// Runs `scripts/deploy` against `anvil` with the devnet key (in the environment), writing the manifest into
/// `out`.
pub fn deploy(anvil: &Anvil, out: &std::path::Path) -> Output {
    run(Command::new(repo().join("scripts/deploy"))
        .env("DEPLOYER_KEY", DEVNET_KEY)
        .args(["--rpc-url", &anvil.url, "--out"])
        .arg(out))
}

pub use accord::chain::evm::devnet::Anvil;

/// A throwaway anvil with `chain_id` on a free loopback port, listening; killed on drop.
pub fn anvil(chain_id: u64) -> Anvil {
    Anvil::spawn(&tool("anvil"), free_port(), chain_id).expect("start anvil")
}

/// Serializes forge runs: concurrent forge processes would race on `contracts/out` and `contracts/cache`.
pub static FORGE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// anvil account `i` of the public devnet mnemonic (devnet only).
pub fn devnet_key(i: u32) -> String {
    accord::chain::evm::devnet::devnet_key(&tool("cast"), i).expect("cast wallet private-key")
}

/// A devnet: anvil plus the protocol deployed with coordinator = account 1 and arbiter = account 2.
pub struct Devnet {
    /// The chain.
    pub anvil: Anvil,
    /// Its manifest.
    pub manifest: accord::deployment::Manifest,
    _dir: tempfile::TempDir,
}

impl Devnet {
    /// Starts anvil and deploys.
    pub fn start() -> Self {
        let anvil = anvil(31337);
        let dir = tempfile::tempdir().unwrap();
        let coordinator = address_of(&devnet_key(1));
        let arbiter = address_of(&devnet_key(2));
        let out = {
            let _guard = FORGE.lock().unwrap_or_else(|e| e.into_inner());
            run(Command::new(repo().join("scripts/deploy"))
                .env("DEPLOYER_KEY", DEVNET_KEY)
                .args(["--rpc-url", &anvil.url])
                .args([
                    "--coordinator",
                    &coordinator,
                    "--arbiter",
                    &arbiter,
                    "--out",
                ])
                .arg(dir.path()))
        };
        assert!(
            out.status.success(),
            "deploy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let manifest = accord::deployment::Manifest::load(&dir.path().join("31337.json")).unwrap();
        Self {
            anvil,
            manifest,
            _dir: dir,
        }
    }

    /// The folder holding this devnet's `31337.json`.
    pub fn deployments_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Runs one phase of `contracts/script/Scenario.s.sol` (1 to 4).
    pub fn scenario(&self, phase: u32) {
        let k = accord::chain::evm::Deployment::from_manifest(&self.manifest).unwrap();
        let addr = |a: alloy::primitives::Address| format!("{a:#x}");
        let (sig, args): (&str, Vec<String>) = match phase {
            1 => (
                "phase1(address,address,address,address)",
                vec![
                    addr(k.token),
                    addr(k.registry),
                    addr(k.job_manager),
                    addr(k.governor),
                ],
            ),
            2 => (
                "phase2(address,address,address)",
                vec![addr(k.registry), addr(k.job_manager), addr(k.governor)],
            ),
            _ => (
                if phase == 3 {
                    "phase3(address,address)"
                } else {
                    "phase4(address,address)"
                },
                vec![addr(k.registry), addr(k.governor)],
            ),
        };
        let broadcast = tempfile::tempdir().unwrap();
        let _guard = FORGE.lock().unwrap_or_else(|e| e.into_inner());
        let out = run(Command::new(tool("forge"))
            .current_dir(repo().join("contracts"))
            .env("FOUNDRY_BROADCAST", broadcast.path())
            .args(["script", "script/Scenario.s.sol:Scenario", "--sig", sig])
            .args(&args)
            .args(["--rpc-url", &self.anvil.url, "--broadcast", "--slow"]));
        assert!(
            out.status.success(),
            "scenario phase {phase} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A JSON-RPC call to anvil (time travel, mining, snapshots).
    pub async fn rpc(&self, method: &str, params: serde_json::Value) -> serde_json::Value {
        rpc(&self.anvil.url, method, params).await
    }

    /// Moves the chain's clock forward and mines a block.
    pub async fn advance(&self, seconds: u64, blocks: u64) {
        self.rpc("evm_increaseTime", serde_json::json!([seconds]))
            .await;
        self.rpc("anvil_mine", serde_json::json!([format!("{blocks:#x}")]))
            .await;
    }

    /// The current head.
    pub async fn head(&self) -> u64 {
        let hex = self.rpc("eth_blockNumber", serde_json::json!([])).await;
        u64::from_str_radix(hex.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    }
}

/// The address of a private key.
pub fn address_of(key: &str) -> String {
    let out = run(Command::new(tool("cast")).args(["wallet", "address", "--private-key", key]));
    String::from_utf8(out.stdout).unwrap().trim().to_lowercase()
}

/// A JSON-RPC call to `url`; panics on an error reply.
pub async fn rpc(url: &str, method: &str, params: serde_json::Value) -> serde_json::Value {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let reply: serde_json::Value = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(reply.get("error").is_none(), "{method} failed: {reply}");
    reply["result"].clone()
}

/// The JSON document an `accord --output json` run printed; panics with its stderr when it failed.
pub fn json_output(args: &[&str], out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "accord {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "accord {args:?} printed no JSON document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The names of the failed checks in an `accord deployment verify --output json` report.
pub fn failed_checks(report: &serde_json::Value) -> Vec<&str> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

/// A loopback JSON-RPC proxy in front of `upstream` that passes each answer through `rewrite(request, answer)`
/// (a batch element by element) and returns the proxy's URL. For tests that need a node to misbehave in a way
/// anvil cannot be made to: it speaks JSON-RPC over HTTP like a node or a load balancer in front of several.
pub async fn rewriting_proxy(
    upstream: String,
    rewrite: impl Fn(&serde_json::Value, serde_json::Value) -> serde_json::Value + Send + Sync + 'static,
) -> String {
    use axum::routing::post;
    use serde_json::Value;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let rewrite = std::sync::Arc::new(rewrite);
    let app = axum::Router::new().route(
        "/",
        post(move |body: axum::body::Bytes| {
            let (client, upstream, rewrite) = (client.clone(), upstream.clone(), rewrite.clone());
            async move {
                let request: Value = serde_json::from_slice(&body).unwrap_or_default();
                let answer: Value = client
                    .post(&upstream)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let answer = match (&request, answer) {
                    (Value::Array(requests), Value::Array(answers)) => Value::Array(
                        requests
                            .iter()
                            .zip(answers)
                            .map(|(r, a)| rewrite(r, a))
                            .collect(),
                    ),
                    (request, answer) => rewrite(request, answer),
                };
                axum::Json(answer)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

pub use accord::chain::starknet::devnet::StarknetDevnet;
use accord::chain::starknet::signer::Signer;
use starknet::core::types::Felt;

/// starknet-devnet with the protocol deployed: predeployed account 0 deployed it (and holds the token supply),
/// 1 is the coordinator, 2 the arbiter, the others are free for the tests.
pub struct StarknetNet {
    /// The node (killed on drop).
    pub devnet: StarknetDevnet,
    /// The predeployed accounts' signers, in the devnet's order.
    pub signers: Vec<Signer>,
    /// Their private keys (public devnet keys).
    pub keys: Vec<Felt>,
    /// The deployment.
    pub manifest: accord::deployment::Manifest,
}

impl StarknetNet {
    /// Starts starknet-devnet on a free loopback port and deploys the protocol with the devnet settings.
    pub async fn start() -> Self {
        let devnet = StarknetDevnet::spawn(&tool("starknet-devnet"), free_port(), None)
            .await
            .expect("start starknet-devnet");
        let protocol = devnet
            .deploy_protocol()
            .await
            .expect("deploy the protocol on starknet-devnet");
        let keys = protocol.accounts.iter().map(|a| a.private_key).collect();
        let (signers, manifest) = (protocol.signers, protocol.manifest);
        Self {
            devnet,
            signers,
            keys,
            manifest,
        }
    }

    /// Predeployed account `i` as a protocol wallet.
    pub async fn wallet(&self, i: usize) -> accord::chain::starknet::account::StarknetAccount {
        use starknet::accounts::Account;
        accord::chain::starknet::account::StarknetAccount::connect(
            &self.devnet.url,
            self.signers[i].address(),
            starknet::signers::SigningKey::from_secret_scalar(self.keys[i]),
            accord::chain::starknet::Deployment::of(&self.manifest).unwrap(),
        )
        .await
        .unwrap()
    }

    /// The address of contract `name`.
    pub fn address(&self, name: &str) -> Felt {
        accord::chain::starknet::Deployment::of(&self.manifest)
            .unwrap()
            .address(name)
    }
}
