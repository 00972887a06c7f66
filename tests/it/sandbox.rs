//! Job containment, attacked: each test runs a hostile job spec through the worker's real sandbox (bubblewrap,
//! with the agent as root: the job runs as `nobody`) and shows the attack contained. The last test runs the
//! issue's own attack through a real `accord worker run` process signing with a keystore and a password file,
//! on a real anvil and coordinator, and checks the published result holds neither.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use accord::chain::account::{NewJob, parse_tokens};
use accord::chain::evm::ops;
use accord::spec::JobSpec;
use accord::worker::exec::{Error, Output, Runner};
use accord::worker::sandbox::{Bubblewrap, Isolation, Limits};

use crate::stack::{Stack, eventually, get};
use crate::utils::devnet_key;

async fn runner(limits: Limits) -> Runner {
    let bwrap = Bubblewrap::detect(None, false).await.expect(
        "bubblewrap must work here: scripts/bootstrap installs it (apt-get install bubblewrap)",
    );
    let mut runner = Runner::new(
        Isolation::Bubblewrap(bwrap),
        Duration::from_secs(20),
        1 << 20,
    );
    runner.limits = limits;
    runner
}

async fn sh(limits: Limits, script: &str) -> Result<Output, Error> {
    sh_named(limits, script, "accord-job").await
}

/// Runs `sh -c script` with `$0` set to `marker`, which every forked copy of the shell keeps in its command
/// line, so leftovers can be found on the host.
async fn sh_named(limits: Limits, script: &str, marker: &str) -> Result<Output, Error> {
    let spec = JobSpec::new(vec!["sh".into(), "-c".into(), script.into(), marker.into()]);
    runner(limits).await.run(&spec, "attack").await
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Host processes whose command line contains `needle`.
fn host_processes(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let line = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if line.contains(needle) {
            found.push(format!("{}: {line}", entry.file_name().to_string_lossy()));
        }
    }
    found
}

#[tokio::test]
async fn a_job_sees_none_of_the_agents_environment_files_or_processes() {
    let secrets = tempfile::tempdir().unwrap();
    let keystore = secrets.path().join("keystore.json");
    let password = secrets.path().join("password");
    let state = secrets.path().join("worker-state.json");
    for (file, body) in [
        (&keystore, "KEYSTORE-SECRET"),
        (&password, "PASSWORD-SECRET"),
        (&state, "STATE-SECRET"),
    ] {
        std::fs::write(file, body).unwrap();
    }
    let agent = std::process::id();
    let here = env!("CARGO_MANIFEST_DIR");
    let script = format!(
        "env; echo ---; \
         cat {k} {p} {s} /proc/{agent}/environ /proc/{agent}/cmdline {here}/Cargo.toml 2>&1; \
         echo ---; ls /proc | grep -c '^[0-9]'; id -u; ls /root 2>&1 | head -3",
        k = keystore.display(),
        p = password.display(),
        s = state.display(),
    );
    let out = sh(Limits::default(), &script).await.unwrap();
    let t = text(&out);
    let mut parts = t.split("---\n");
    let env: Vec<&str> = parts.next().unwrap().lines().collect();
    let names: std::collections::BTreeSet<&str> = env
        .iter()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .collect();
    // The allow-list, and what the shell itself sets.
    let allowed = [
        "PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ", "PWD", "OLDPWD", "SHLVL", "_",
    ];
    assert!(
        names.iter().all(|n| allowed.contains(n)),
        "the job saw the agent's environment: {names:?}"
    );
    assert!(env.contains(&"HOME=/work"), "{env:?}");
    for secret in [
        "KEYSTORE-SECRET",
        "PASSWORD-SECRET",
        "STATE-SECRET",
        "CARGO_",
        "[package]",
    ] {
        assert!(!t.contains(secret), "the job read {secret:?}:\n{t}");
    }
    let rest: Vec<&str> = parts.nth(1).unwrap().lines().collect();
    // Only the job's own processes: bwrap's init, the shell, and the pipeline's two.
    let visible: u32 = rest[0].parse().unwrap();
    assert!(visible <= 4, "the job sees {visible} processes");
    if accord::worker::sandbox::is_root() {
        assert_eq!(rest[1], "65534", "a root agent's job runs as nobody");
    }
    assert!(rest[2].contains("No such file"), "the job sees /root: {t}");
}

#[tokio::test]
async fn a_job_writes_only_its_scratch_folder() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("pwned");
    let script = format!(
        "echo x > {t} 2>/dev/null && echo wrote-outside; \
         echo x > /usr/pwned 2>/dev/null && echo wrote-usr; \
         echo x > /etc/pwned 2>/dev/null && echo wrote-etc; \
         echo x > /pwned 2>/dev/null && echo wrote-root; \
         echo inside > /work/f && cat /work/f; echo tmp > /tmp/t && cat /tmp/t",
        t = target.display()
    );
    let out = sh(Limits::default(), &script).await.unwrap();
    assert_eq!(text(&out), "inside\ntmp\n");
    assert!(!target.exists());
    assert!(!Path::new("/usr/pwned").exists());
    assert!(!Path::new("/etc/pwned").exists());
}

#[tokio::test]
async fn a_background_child_neither_holds_the_output_nor_survives() {
    let marker = "accord-bg-child-4711";
    let started = Instant::now();
    let out = sh_named(
        Limits::default(),
        "echo r; sleep 1001 & sleep 1001 >/dev/null 2>&1 & echo done",
        marker,
    )
    .await
    .unwrap();
    assert_eq!(text(&out), "r\ndone\n");
    assert_eq!(out.exit_code, Some(0));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the run waited for its background child"
    );
    // The kernel tears the PID namespace down with its init: give it a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(host_processes(marker), Vec::<String>::new());
    let sleepers: Vec<String> = host_processes("sleep 1001")
        .into_iter()
        .filter(|p| !p.contains("sh -c"))
        .collect();
    assert_eq!(
        sleepers,
        Vec::<String>::new(),
        "a background child survived"
    );
}

#[tokio::test]
async fn memory_past_the_limit_fails_the_job_not_the_host() {
    let limits = Limits {
        memory_bytes: 64 << 20,
        ..Limits::default()
    };
    // tail -c keeps the last 200 MB of its input in memory: far past 64 MiB of address space.
    let out = sh(
        limits,
        "head -c 300000000 /dev/zero | tail -c 200000000 >/dev/null; echo tail-exit=$?",
    )
    .await
    .unwrap();
    let t = text(&out);
    assert!(
        t.starts_with("tail-exit=") && t.trim() != "tail-exit=0",
        "the allocation succeeded: {t}"
    );
    // The same job with room enough succeeds: the limit, not the command, stopped it.
    let roomy = Limits {
        memory_bytes: 1 << 30,
        ..Limits::default()
    };
    let out = sh(
        roomy,
        "head -c 3000000 /dev/zero | tail -c 2000000 >/dev/null; echo tail-exit=$?",
    )
    .await
    .unwrap();
    assert_eq!(text(&out), "tail-exit=0\n");
}

#[tokio::test]
async fn a_fork_bomb_is_capped_and_killed_whole() {
    let limits = Limits {
        processes: 16,
        ..Limits::default()
    };
    // Counting: 100 sleepers cannot start under a cap of 16 processes.
    let marker = "accord-fork-count-4712";
    let out = sh_named(
        limits,
        "n=0; while [ $n -lt 100 ]; do sleep 1000 & n=$((n+1)); done; echo started-all",
        marker,
    )
    .await
    .unwrap();
    assert!(!text(&out).contains("started-all"), "{}", text(&out));
    // A real fork bomb, stopped at its time limit; nothing of it is left on the host.
    let marker = "accord-fork-bomb-4713";
    let spec = JobSpec {
        command: vec![
            "sh".into(),
            "-c".into(),
            "b() { b | b & }; b; sleep 1000".into(),
            marker.into(),
        ],
        timeout_secs: Some(3),
        max_output_bytes: None,
    };
    let started = Instant::now();
    let result = runner(limits).await.run(&spec, "bomb").await;
    assert!(
        matches!(result, Err(Error::Timeout(_)) | Ok(_)),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    eventually(Duration::from_secs(5), "the fork bomb gone", || async {
        host_processes(marker).is_empty().then_some(())
    })
    .await;
    assert_eq!(
        host_processes("accord-fork-count-4712"),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_job_has_no_network() {
    // Nothing listens here that the job could reach: it has no interface but its own loopback.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = format!(
        "(exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo connected || echo refused"
    );
    let spec = JobSpec::new(vec!["bash".into(), "-c".into(), script]);
    let out = runner(Limits::default())
        .await
        .run(&spec, "net")
        .await
        .unwrap();
    assert_eq!(text(&out), "refused\n");
    drop(listener);
}

/// The attack as the issue states it, against a real agent process that signs with a keystore and a password
/// file passed the way operators pass them (environment variables naming the files).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_agent_publishes_no_secret_of_its_own() {
    let stack = Stack::start().await;
    let (coordinator, api) = stack.coordinator().await;
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, "correct horse battery staple\n").unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, devnet_key(3)).unwrap();
    let keystores = dir.path().join("keystores");
    let accord = env!("CARGO_BIN_EXE_accord");
    let imported = Command::new(accord)
        .args(["--output", "json", "wallet", "import", "--dir"])
        .arg(&keystores)
        .arg("--private-key-file")
        .arg(&key)
        .arg("--password-file")
        .arg(&password)
        .output()
        .unwrap();
    assert!(imported.status.success(), "{imported:?}");
    std::fs::remove_file(&key).unwrap();
    let keystore: serde_json::Value = serde_json::from_slice(&imported.stdout).unwrap();
    let keystore = keystore["path"].as_str().unwrap().to_owned();
    stack.fund(3, 300).await;
    let log = std::fs::File::create(dir.path().join("agent.log")).unwrap();
    let mut agent = Command::new(accord)
        .args(["--api-url", &api, "--rpc-url", &stack.devnet.anvil.url])
        .args(["worker", "run", "--register", "1", "--stake", "200"])
        .args(["--heartbeat-secs", "1", "--poll-ms", "200", "--state-dir"])
        .arg(dir.path().join("state"))
        .env("ACCORD_KEYSTORE", &keystore)
        .env("ACCORD_PASSWORD_FILE", &password)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _agent = Kill(&mut agent);

    stack.fund(8, 100).await;
    let client = stack.sender(8).await;
    let job = NewJob {
        spec: JobSpec::new(vec![
            "sh".into(),
            "-c".into(),
            "cat \"$ACCORD_PASSWORD_FILE\" \"$ACCORD_KEYSTORE\"; env; \
             for p in /proc/[0-9]*; do cat $p/environ $p/cmdline; done; echo end"
                .into(),
        ]),
        reward: parse_tokens("1").unwrap(),
        deadline_in: Duration::from_secs(3_600),
        capabilities: 1,
        max_attempts: 1,
    };
    let (id, _) = ops::post_job(&client, &stack.deployment, &job)
        .await
        .unwrap();
    eventually(Duration::from_secs(90), "the attack's result", || async {
        let j = get(&api, &format!("/v1/jobs/{id}")).await;
        (j["status"] == "submitted").then_some(())
    })
    .await;
    let bytes = reqwest::get(format!("{api}/v1/jobs/{id}/result"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let published = String::from_utf8_lossy(&bytes);
    assert!(published.ends_with("end\n"), "{published}");
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&keystore).unwrap()).unwrap();
    let ciphertext = stored["crypto"]["ciphertext"].as_str().unwrap();
    for secret in [
        "correct horse",
        ciphertext,
        // The script names the variables; their values never appear as `NAME=value`.
        "ACCORD_KEYSTORE=",
        "ACCORD_PASSWORD_FILE=",
        "RUST_LOG=",
        keystore.as_str(),
        password.to_str().unwrap(),
    ] {
        assert!(
            !published.contains(secret),
            "the result published {secret:?}:\n{published}"
        );
    }
    coordinator.shutdown().await.unwrap();
}

/// The control: without the sandbox the same script does read the agent's environment and files, so the
/// assertions above can fail.
#[tokio::test]
async fn unconfined_the_same_attack_reads_the_agents_files() {
    let secrets = tempfile::tempdir().unwrap();
    let keystore = secrets.path().join("keystore.json");
    std::fs::write(&keystore, "KEYSTORE-SECRET").unwrap();
    let spec = JobSpec::new(vec![
        "sh".into(),
        "-c".into(),
        format!(
            "cat {} /proc/{}/environ",
            keystore.display(),
            std::process::id()
        ),
    ]);
    let out = Runner::new(Isolation::Unconfined, Duration::from_secs(10), 1 << 20)
        .run(&spec, "control")
        .await
        .unwrap();
    let t = text(&out);
    assert!(t.contains("KEYSTORE-SECRET") && t.contains("CARGO_"), "{t}");
}
