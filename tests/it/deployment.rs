//! The deploy flow on a real anvil: `scripts/deploy` writes the manifest from real receipts, and
//! `accord deployment verify` reads the wiring back through the alloy bindings generated from `abi/`.

use std::process::Command;

use accord::deployment::{Manifest, verify};
use alloy::providers::ProviderBuilder;

use crate::utils::{Anvil, DEVNET_KEY, deploy, run};

fn accord(anvil: &Anvil, args: &[&str]) -> std::process::Output {
    run(Command::new(env!("CARGO_BIN_EXE_accord"))
        .arg("--rpc-url")
        .arg(&anvil.url)
        .args(args))
}

/// Deploys once, then checks the manifest, the live wiring, a tampered manifest and the CLI's JSON output.
#[tokio::test(flavor = "multi_thread")]
async fn deploy_writes_manifest_and_wiring_verifies() {
    let anvil = Anvil::spawn(31337);
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
    let anvil = Anvil::spawn(5);
    let out = tempfile::tempdir().unwrap();
    let deploy = deploy(&anvil, out.path());
    assert_eq!(deploy.status.code(), Some(1));
    let err = String::from_utf8_lossy(&deploy.stderr);
    assert!(err.contains("refusing --private-key on chain 5"), "{err}");
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
