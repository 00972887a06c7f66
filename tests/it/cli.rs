//! The `accord` binary as a user runs it: the devnet command from start to Ctrl-C, and clear errors when what
//! `serve` needs is unreachable.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::utils::{FORGE, free_port, repo, run};

/// `accord devnet --demo`: both chains come up behind one API, the API is ready, on each chain the demo's jobs
/// are paid and its rewards show in the API, the dashboard works in a real browser (`dashboard.rs`), and SIGINT
/// stops it all with nothing left behind, the open dashboard then saying the API is unreachable.
#[tokio::test(flavor = "multi_thread")]
async fn devnet_starts_serves_and_stops_cleanly() {
    // Ports picked here can be taken by another connection before the devnet binds them: retry on exactly that.
    let mut attempt = 0;
    let (mut child, api_port, chain_port, starknet_port) = loop {
        attempt += 1;
        let (chain_port, api_port, starknet_port) = (free_port(), free_port(), free_port());
        let stderr_file = tempfile::NamedTempFile::new().unwrap();
        // The devnet deploys with forge; keep other forge runs of this test binary out of the way meanwhile.
        let _guard = FORGE.lock().unwrap_or_else(|e| e.into_inner());
        let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
            .args([
                "devnet",
                "--port",
                &chain_port.to_string(),
                "--api-port",
                &api_port.to_string(),
                "--starknet-port",
                &starknet_port.to_string(),
                "--demo",
            ])
            .arg("--repo")
            .arg(repo())
            .stdout(Stdio::piped())
            .stderr(stderr_file.reopen().unwrap())
            .spawn()
            .expect("start accord devnet");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let started = Instant::now();
        let mut printed = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            printed.push_str(&line);
            printed.push('\n');
            if line.contains("Ctrl-C stops the devnet") {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "devnet did not come up: {printed}"
            );
        }
        if printed.contains(&format!("http://127.0.0.1:{api_port}")) {
            assert!(
                printed.contains("JobManager")
                    && printed.contains(&format!("Dashboard    http://127.0.0.1:{api_port}/"))
                    && printed.contains("demo 3")
                    && printed.contains("starknet:SN_SEPOLIA"),
                "{printed}"
            );
            // Keep draining stdout so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            break (child, api_port, chain_port, starknet_port);
        }
        let _ = child.wait();
        let err = std::fs::read_to_string(stderr_file.path()).unwrap_or_default();
        let port_race = err.contains("is taken")
            || err.contains("cannot listen")
            || err.contains("in use")
            || err.contains("before it answered");
        assert!(
            port_race && attempt < 3,
            "devnet did not come up.\nstdout:\n{printed}\nstderr:\n{err}"
        );
    };
    let ready = reqwest::get(format!("http://127.0.0.1:{api_port}/v1/ready"))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let status: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{api_port}/v1/status"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["chains"][0]["chain_id"], 31337);
    assert_eq!(status["chains"][0]["chain"], "eip155:31337");
    assert_eq!(status["chains"][1]["chain"], "starknet:SN_SEPOLIA");
    assert_eq!(status["chains"][1]["family"], "starknet");

    let demo_started = Instant::now();
    let api = format!("http://127.0.0.1:{api_port}");
    for chain in ["eip155:31337", "starknet:SN_SEPOLIA"] {
        loop {
            let get = |path: &str| {
                let url = format!("{api}{path}&chain={chain}");
                async move {
                    reqwest::get(url)
                        .await
                        .unwrap()
                        .json::<serde_json::Value>()
                        .await
                        .unwrap()
                }
            };
            let paid = get("/v1/jobs?status=paid&limit=100").await;
            let rewards = get("/v1/rewards?limit=5").await;
            let items = |v: &serde_json::Value| v["items"].as_array().cloned().unwrap_or_default();
            // Every fifth demo job is a 2-of-3 redundant job: one of them paid too.
            let redundant = items(&paid).iter().any(|j| j["redundancy"] == 3);
            if !items(&paid).is_empty() && !items(&rewards).is_empty() && redundant {
                assert!(items(&paid).iter().all(|j| j["chain"] == chain), "{paid}");
                break;
            }
            assert!(
                demo_started.elapsed() < Duration::from_secs(120),
                "no paid job (a redundant one among them) on {chain} within 120 s of the demo's start: \
                 {paid} {rewards}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    // The dashboard in a real browser, against this devnet; the page stays open to see the API go away.
    let hostile =
        crate::dashboard::post_hostile_job(&format!("http://127.0.0.1:{chain_port}"), &api).await;
    println!("dashboard: posted job {hostile} with markup in its spec URI");
    let out_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard");
    let browser = crate::dashboard::check(&api, &out_dir).await;

    let pid = child.id().to_string();
    assert!(
        run(Command::new("kill").args(["-INT", &pid]))
            .status
            .success()
    );
    let started = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "devnet did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(code.success(), "devnet exited with {code}");
    browser.expect_api_down().await;
    for port in [chain_port, api_port, starknet_port] {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still answers"
        );
    }
}

/// `accord serve` names what it cannot reach, and never prints the database password.
#[test]
fn serve_names_unreachable_dependencies() {
    let closed = free_port();
    let serve = |rpc: &str, db: &str| {
        run(Command::new(env!("CARGO_BIN_EXE_accord"))
            .arg("serve")
            .env("ACCORD_RPC_URL", rpc)
            .env("ACCORD_DATABASE_URL", db)
            .env("ACCORD_DEPLOYMENTS_DIR", repo().join("deployments")))
    };
    let out = serve(
        &format!("http://127.0.0.1:{closed}"),
        "postgres://accord:s3cret@127.0.0.1:1/accord",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "no JSON-RPC node answers at http://127.0.0.1:{closed}"
        )),
        "{err}"
    );

    let anvil = crate::utils::anvil(31337);
    let out = serve(
        &anvil.url,
        &format!("postgres://accord:s3cret@127.0.0.1:{closed}/accord"),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot connect to PostgreSQL at postgres://accord@127.0.0.1:"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "the password never appears: {err}");

    let out = run(Command::new(env!("CARGO_BIN_EXE_accord"))
        .arg("serve")
        .env_remove("ACCORD_DATABASE_URL"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no database configured"));
}
