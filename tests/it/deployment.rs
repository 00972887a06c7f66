//! The deploy flow on a real anvil: `scripts/deploy` writes the manifest from real receipts, and
//! `accord deployment verify` reads the wiring back through the alloy bindings generated from `abi/`.

use std::process::Command;

use accord::chain::evm::deployment::verify;
use accord::deployment::Manifest;
use alloy::providers::ProviderBuilder;

use crate::utils::{Anvil, DEVNET_KEY, anvil, deploy, run};

fn accord(anvil: &Anvil, args: &[&str]) -> std::process::Output {
    run(Command::new(env!("CARGO_BIN_EXE_accord"))
        .arg("--rpc-url")
        .arg(&anvil.url)
        .args(args))
}

/// Deploys once, then checks the manifest, the live wiring, a tampered manifest and the CLI's JSON output.
#[tokio::test(flavor = "multi_thread")]
async fn deploy_writes_manifest_and_wiring_verifies() {
    let anvil = anvil(31337);
    let out = tempfile::tempdir().unwrap();
    let deploy = deploy(&anvil, out.path());
    assert!(
        deploy.status.success(),
        "deploy failed: {}",
        String::from_utf8_lossy(&deploy.stderr)
    );

    let path = out.path().join("31337.json");
    let manifest = Manifest::load(&path).expect("manifest written and consistent");
    assert_eq!(manifest.chain_id, 31337);
    assert!(
        manifest.deploy_block >= 1,
        "deploy blocks come from receipts"
    );
    assert!(manifest.contracts.job_manager.deploy_block > manifest.contracts.token.deploy_block);

    let provider = ProviderBuilder::new().connect_http(anvil.url.parse().unwrap());
    let checks = verify(&provider, &manifest).await.expect("rpc works");
    let failed: Vec<_> = checks.iter().filter(|c| !c.ok).collect();
    assert!(failed.is_empty(), "wiring checks failed: {failed:?}");
    assert!(
        checks.len() >= 18,
        "every contract, link and role is checked: {}",
        checks.len()
    );

    // A manifest that swaps two addresses is caught by name.
    let mut swapped = manifest.clone();
    std::mem::swap(
        &mut swapped.contracts.registry.address,
        &mut swapped.contracts.token.address,
    );
    let checks = verify(&provider, &swapped).await.expect("rpc works");
    let names: Vec<_> = checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        names.contains(&"JobManager.registry") && names.contains(&"JobManager.token"),
        "{names:?}"
    );

    // The CLI, as a script would use it.
    let ok = accord(
        &anvil,
        &[
            "--output",
            "json",
            "deployment",
            "verify",
            "--deployments-dir",
            out.path().to_str().unwrap(),
        ],
    );
    assert!(
        ok.status.success(),
        "verify failed: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&ok.stdout).expect("JSON output");
    assert_eq!(report["ok"], true);

    let bad_path = out.path().join("swapped.json");
    std::fs::write(&bad_path, serde_json::to_string(&swapped).unwrap()).unwrap();
    let bad = accord(
        &anvil,
        &[
            "deployment",
            "verify",
            "--manifest",
            bad_path.to_str().unwrap(),
        ],
    );
    assert_eq!(bad.status.code(), Some(1));
    let table = String::from_utf8_lossy(&bad.stdout);
    assert!(
        table.contains("FAIL JobManager.registry: expected"),
        "{table}"
    );
}

/// The well-known devnet key never deploys to a chain id that is not a devnet, and nothing is sent.
#[test]
fn deploy_refuses_private_key_on_non_devnet_chain() {
    let anvil = anvil(5);
    let out = tempfile::tempdir().unwrap();
    let deploy = deploy(&anvil, out.path());
    assert_eq!(deploy.status.code(), Some(1));
    let err = String::from_utf8_lossy(&deploy.stderr);
    assert!(err.contains("refusing DEPLOYER_KEY on chain 5"), "{err}");
    assert!(!err.contains(DEVNET_KEY), "the key is never echoed");
    assert!(
        std::fs::read_dir(out.path()).unwrap().next().is_none(),
        "no manifest written"
    );
}

/// Without a node the CLI says so instead of failing obscurely.
#[test]
fn cli_reports_unreachable_rpc() {
    let port = crate::utils::free_port();
    let out = run(Command::new(env!("CARGO_BIN_EXE_accord")).args([
        "--rpc-url",
        &format!("http://127.0.0.1:{port}"),
        "deployment",
        "show",
    ]));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no JSON-RPC node answers at http://127.0.0.1:"),
        "{err}"
    );
}

/// A keystore for the devnet deployer key (account 0) and its password file, in `dir`.
fn keystore(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = dir.join("key");
    let password = dir.join("password");
    std::fs::write(&key, DEVNET_KEY).unwrap();
    std::fs::write(&password, "deploy-pw\n").unwrap();
    let out = run(Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["--output", "json", "wallet", "import", "--dir"])
        .arg(dir.join("keystores"))
        .arg("--private-key-file")
        .arg(&key)
        .arg("--password-file")
        .arg(&password));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(&key).unwrap();
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (created["path"].as_str().unwrap().into(), password)
}

fn deploy_with(
    anvil: &Anvil,
    out: &std::path::Path,
    keystore: &(std::path::PathBuf, std::path::PathBuf),
    args: &[&str],
) -> std::process::Output {
    run(Command::new(crate::utils::repo().join("scripts/deploy"))
        .args(["--rpc-url", &anvil.url, "--keystore"])
        .arg(&keystore.0)
        .arg("--password-file")
        .arg(&keystore.1)
        .args(args)
        .arg("--out")
        .arg(out))
}

/// Deploy settings per network: the devnet profile is refused on a chain that is not a devnet, a production
/// profile without explicit role holders is refused (nothing deployed either time), and a production profile
/// deployed with governance shorter than the documented minimums is deployed, then `deployment verify` names
/// each setting that falls short and exits 1.
#[tokio::test(flavor = "multi_thread")]
async fn deploy_settings_follow_the_network_and_verify_names_each_shortfall() {
    let anvil = anvil(11155111);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let keys = keystore(dir.path());
    let block = |a: &Anvil| {
        let o = run(Command::new(crate::utils::tool("cast")).args([
            "block-number",
            "--rpc-url",
            &a.url,
        ]));
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    };
    let start = block(&anvil);

    let refused = deploy_with(&anvil, &out, &keys, &[]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is the devnet profile, refused on chain 11155111"),
        "{err}"
    );

    let example = "deployments/config/production.example.json";
    let config = crate::utils::repo().join(example);
    let refused = deploy_with(
        &anvil,
        &out,
        &keys,
        &[
            "--config",
            config.to_str().unwrap(),
            "--holder",
            "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
        ],
    );
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(
        err.contains("needs explicit role holders, missing or zero: coordinator, arbiter"),
        "{err}"
    );
    assert_eq!(block(&anvil), start, "a refused deploy sent a transaction");
    assert!(!out.join("11155111.json").exists());

    // A staging profile: the example with a short vote and timelock, and the roles named.
    let mut staging: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    staging["profile"] = "staging".into();
    staging["governance"]["votingPeriodBlocks"] = 100.into();
    staging["governance"]["timelockDelaySecs"] = 3600.into();
    let staging_path = dir.path().join("staging.json");
    std::fs::write(&staging_path, serde_json::to_vec(&staging).unwrap()).unwrap();
    let deployed = deploy_with(
        &anvil,
        &out,
        &keys,
        &[
            "--config",
            staging_path.to_str().unwrap(),
            "--holder",
            "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
            "--coordinator",
            "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
            "--arbiter",
            "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
        ],
    );
    let err = String::from_utf8_lossy(&deployed.stderr);
    assert!(deployed.status.success(), "{err}");
    assert!(
        err.contains("warning: votingPeriodBlocks 100 is below the documented minimum 21600"),
        "{err}"
    );

    let verify = accord(
        &anvil,
        &[
            "--output",
            "json",
            "deployment",
            "verify",
            "--deployments-dir",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(verify.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
    let failed = crate::utils::failed_checks(&report);
    assert_eq!(
        failed,
        [
            "governor voting period (blocks)",
            "timelock delay (seconds)"
        ],
        "{report:#}"
    );
}
