//! The `accord` binary against starknet-devnet: the signing commands with a Starknet account (`--account` and a
//! key from a keystore, or a raw key on a devnet only), `accord wallet` with Stark keys, `accord deployment
//! verify` on a Starknet manifest, and `accord serve` scheduling with a Starknet coordinator account.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use accord::domain::Family;
use serde_json::{Value, json};
use starknet::accounts::Account as _;

use crate::stack::{eventually, get};
use crate::starknet_index::starknet_config;
use crate::utils::{StarknetNet, free_port, json_output, rewriting_proxy};
use accord::pg::TempCluster;

const E18: u128 = 1_000_000_000_000_000_000;

/// `accord --output json --api-url api --rpc-url rpc args…` with `env` (keys go there, never on a command line).
fn accord(api: &str, rpc: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["--output", "json", "--api-url", api, "--rpc-url", rpc])
        .args(args)
        .env_remove("ACCORD_PRIVATE_KEY")
        .env_remove("ACCORD_KEYSTORE")
        .env_remove("ACCORD_ACCOUNT")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run accord")
}

fn hex(f: starknet::core::types::Felt) -> String {
    accord::chain::starknet::address(f).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_signs_on_starknet_with_an_account_contract_and_its_key() {
    let net = StarknetNet::start().await;
    let (a0, a3) = (net.signers[0].address(), net.signers[3].address());
    accord::chain::starknet::devnet::fund(&net.signers[0], &net.manifest, &[a3], 1_000 * E18)
        .await
        .unwrap();
    let cluster = TempCluster::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = starknet_config(&net, &cluster, dir.path()).await;
    let mut running = accord::coordinator::Coordinator::start(config, None)
        .await
        .unwrap();
    running.wait_ready(Duration::from_secs(60)).await.unwrap();
    let api = format!("http://{}", running.api_addr);
    let rpc = net.devnet.url.clone();
    let key3 = format!("{:#x}", net.keys[3]);
    let raw3 = [("ACCORD_PRIVATE_KEY", key3.as_str())];
    let (acct0, acct3) = (hex(a0), hex(a3));

    // The address a raw devnet key signs as: the account contract, with the key's public key.
    let args = ["wallet", "address", "--account", &acct3];
    let shown = json_output(&args, &accord(&api, &rpc, &args, &raw3));
    assert_eq!(shown["address"], acct3.as_str());
    assert_eq!(shown["chain"], "starknet:SN_SEPOLIA");

    // A worker registers and stakes with a raw key (a devnet).
    let args = [
        "worker",
        "register",
        "--capabilities",
        "1",
        "--account",
        &acct3,
    ];
    json_output(&args, &accord(&api, &rpc, &args, &raw3));
    let args = ["worker", "stake", "200", "--account", &acct3];
    json_output(&args, &accord(&api, &rpc, &args, &raw3));
    let worker = eventually(Duration::from_secs(20), "the worker indexed", || async {
        let w = get(&api, &format!("/v1/workers/{acct3}")).await;
        (w["stake"] == (200 * E18).to_string()).then_some(w)
    })
    .await;
    assert_eq!(worker["chain"], "starknet:SN_SEPOLIA");

    // The client signs from a keystore holding its Stark key, imported by `accord wallet import --starknet`.
    let keys = dir.path().join("keys");
    let key_file = dir.path().join("k0");
    let password = dir.path().join("pw");
    std::fs::write(&key_file, format!("{:#x}\n", net.keys[0])).unwrap();
    std::fs::write(&password, "correct horse battery\n").unwrap();
    let (k, p, d) = (
        key_file.display().to_string(),
        password.display().to_string(),
        keys.display().to_string(),
    );
    let args = [
        "wallet",
        "import",
        "--starknet",
        "--dir",
        &d,
        "--private-key-file",
        &k,
        "--password-file",
        &p,
    ];
    let imported = json_output(&args, &accord(&api, &rpc, &args, &[]));
    let keystore = imported["path"].as_str().unwrap().to_owned();
    assert!(
        !std::fs::read_to_string(&keystore)
            .unwrap()
            .contains(&format!("{:x}", net.keys[0])),
        "the key is stored encrypted"
    );
    let with_keystore = |more: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = more.iter().map(|s| s.to_string()).collect();
        v.extend(
            [
                "--keystore",
                &keystore,
                "--password-file",
                &p,
                "--account",
                &acct0,
            ]
            .map(str::to_owned),
        );
        v
    };
    let args = with_keystore(&["job", "post", "--command", "echo hi", "--reward", "2"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let posted = json_output(&args, &accord(&api, &rpc, &args, &[]));
    let id = posted["job_id"].as_str().unwrap().to_owned();
    let job = eventually(Duration::from_secs(20), "the job indexed", || async {
        let args = ["--chain", "starknet:SN_SEPOLIA", "job", "show", id.as_str()];
        let out = accord(&api, &rpc, &args, &[]);
        out.status
            .success()
            .then(|| serde_json::from_slice::<Value>(&out.stdout).unwrap())
    })
    .await;
    assert_eq!(job["client"], acct0.as_str(), "{job}");
    assert_eq!(job["chain"], "starknet:SN_SEPOLIA");
    let args = with_keystore(&["job", "cancel", &id]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let cancelled = json_output(&args, &accord(&api, &rpc, &args, &[]));
    assert_eq!(cancelled["action"], "cancel");
    eventually(Duration::from_secs(20), "the job cancelled", || async {
        let j = get(&api, &format!("/v1/jobs/{id}")).await;
        (j["status"] == "cancelled").then_some(())
    })
    .await;
    let args = with_keystore(&["gov", "delegate"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    json_output(&args, &accord(&api, &rpc, &args, &[]));

    // Refusals, each changing nothing and quoting no key: no account; a wrong password; a raw key on a node
    // that is not a devnet (a proxy that hides the devnet's methods, as a real node has none).
    let args = ["worker", "withdraw"];
    let out = accord(&api, &rpc, &args, &raw3);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--account ADDRESS is required on Starknet"),
        "{err}"
    );
    std::fs::write(dir.path().join("wrong"), "not it\n").unwrap();
    let wrong = dir.path().join("wrong").display().to_string();
    let args = [
        "gov",
        "delegate",
        "--keystore",
        &keystore,
        "--password-file",
        &wrong,
        "--account",
        &acct0,
    ];
    let out = accord(&api, &rpc, &args, &[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wrong password"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let no_devnet = rewriting_proxy(rpc.clone(), |request, answer| {
        let method = request["method"].as_str().unwrap_or_default();
        if method.starts_with("devnet_") {
            json!({"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32601, "message": "Method not found"}})
        } else {
            answer
        }
    })
    .await;
    let args = ["worker", "unstake", "1", "--account", &acct3];
    let out = accord(&api, &no_devnet, &args, &raw3);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("accepted only on a starknet-devnet"), "{err}");
    assert!(!err.contains(&key3[2..]), "the key is never echoed: {err}");
    let after = get(&api, &format!("/v1/workers/{acct3}")).await;
    assert_eq!(after["pending"], "0", "nothing was unstaked: {after}");

    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_verify_checks_a_starknet_deployment_and_serve_schedules_with_a_starknet_account()
 {
    let net = StarknetNet::start().await;
    let dir = tempfile::tempdir().unwrap();
    let rpc = net.devnet.url.clone();
    let manifest = dir.path().join("manifest.json");
    std::fs::write(
        &manifest,
        serde_json::to_string_pretty(&net.manifest).unwrap(),
    )
    .unwrap();
    let m = manifest.display().to_string();
    let args = ["deployment", "verify", "--manifest", &m];
    let verified = json_output(&args, &accord("http://127.0.0.1:1", &rpc, &args, &[]));
    assert_eq!(verified["ok"], true, "{verified:#}");
    let names: Vec<&str> = verified["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for expected in [
        "chain id",
        "JobManager is this build's class",
        "WorkerRegistry.job_manager",
        "deployer is not timelock admin",
        "governor proposes to the timelock",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    // A manifest whose job manager and registry are swapped fails, naming the classes that differ.
    let mut swapped = net.manifest.clone();
    std::mem::swap(
        &mut swapped.contracts.job_manager.address,
        &mut swapped.contracts.registry.address,
    );
    let bad = dir.path().join("swapped.json");
    std::fs::write(&bad, serde_json::to_string(&swapped).unwrap()).unwrap();
    let b = bad.display().to_string();
    let out = accord(
        "http://127.0.0.1:1",
        &rpc,
        &["deployment", "verify", "--manifest", &b],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed = crate::utils::failed_checks(&report);
    assert!(
        failed.contains(&"JobManager is this build's class"),
        "{report:#}"
    );
    assert!(
        failed.contains(&"WorkerRegistry is this build's class"),
        "{report:#}"
    );

    // `accord serve` with the coordinator's Starknet account schedules on the Starknet chain.
    let cluster = TempCluster::start().await.unwrap();
    let deployments = dir.path().join("deployments");
    std::fs::create_dir_all(&deployments).unwrap();
    std::fs::write(
        accord::deployment::Manifest::path_for(&deployments, net.manifest.chain_id),
        serde_json::to_string_pretty(&net.manifest).unwrap(),
    )
    .unwrap();
    let config = dir.path().join("accord.toml");
    std::fs::write(
        &config,
        format!(
            "[[chains]]\nfamily = \"starknet\"\nrpc_url = \"{rpc}\"\ndeployments_dir = \"{}\"\n",
            deployments.display()
        ),
    )
    .unwrap();
    let db = cluster.create_database("serve").await.unwrap();
    let port = free_port();
    let coordinator = hex(net.signers[1].address());
    let key1 = format!("{:#x}", net.keys[1]);
    let serve = |extra: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_accord"));
        cmd.args(["serve", "--config"])
            .arg(&config)
            .args(extra)
            .env("ACCORD_DATABASE_URL", &db)
            .env("ACCORD_API_LISTEN", format!("127.0.0.1:{port}"))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    };
    // An EVM-style --account is refused with the flag to use instead.
    let out = serve(
        &["--account", &coordinator],
        &[("ACCORD_PRIVATE_KEY", &key1)],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--starknet-account"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = serve(
        &["--starknet-account", &coordinator],
        &[("ACCORD_STARKNET_PRIVATE_KEY", &key1)],
    )
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let api = format!("http://127.0.0.1:{port}");
    let status = eventually(Duration::from_secs(60), "serve schedules", || async {
        let s: Value = reqwest::get(format!("{api}/v1/status"))
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (s["chains"][0]["scheduler"]["leader"] == true).then_some(s)
    })
    .await;
    let chain = &status["chains"][0];
    assert_eq!(chain["family"], Family::Starknet.to_string());
    assert_eq!(
        chain["scheduler"]["account"],
        coordinator.as_str(),
        "{status:#}"
    );
    let _ = child.kill();
    let _ = child.wait();
}
