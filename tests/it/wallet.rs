//! Wallets against real tools: keystores made by the `accord` binary and read back by `SignerArgs`, raw keys
//! refused off devnets, and `TxSender` on anvil (concurrent nonces, decoded reverts, replacement of a stuck
//! transaction, receipt timeout).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use accord::chain::evm::bindings::{AccordToken, WorkerRegistry};
use accord::chain::evm::wallet::{self, SenderConfig, SignerArgs, TxError, TxSender};
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use serde_json::{Value, json};

use crate::utils::{DEVNET_KEY, Devnet, anvil, devnet_key, rpc};

/// Runs `accord` with `args`, stdin closed, no `ACCORD_*` signer settings from the caller's environment and
/// `ACCORD_HOME` set to `home`; fails the test if it runs longer than 60 s (a prompt must never wait).
fn accord(home: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env("ACCORD_HOME", home)
        .env_remove("ACCORD_KEYSTORE")
        .env_remove("ACCORD_PASSWORD_FILE")
        .env_remove("ACCORD_PRIVATE_KEY")
        .env_remove("ACCORD_RPC_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start accord");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("accord {args:?} did not finish within 60 s (waiting on a prompt?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn ok_json(home: &Path, args: &[&str]) -> Value {
    crate::utils::json_output(args, &accord(home, args))
}

fn failure(home: &Path, args: &[&str]) -> String {
    let out = accord(home, args);
    assert!(!out.status.success(), "accord {args:?} should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `accord wallet new` → `list` → `SignerArgs::load`; wrong passwords, overwrites, empty passwords and a
/// missing terminal all fail clearly; `import` of a known key gives its address and never prints it.
#[test]
fn keystores_made_by_the_cli_sign_and_mistakes_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let dir = tmp.path().join("keys");
    let password = tmp.path().join("password");
    std::fs::write(&password, "correct horse battery\n").unwrap();
    let wrong = tmp.path().join("wrong");
    std::fs::write(&wrong, "battery staple\n").unwrap();

    let created = ok_json(
        &home,
        &[
            "wallet",
            "new",
            "--dir",
            path_str(&dir),
            "--password-file",
            path_str(&password),
            "--output",
            "json",
        ],
    );
    let address: Address = created["address"].as_str().unwrap().parse().unwrap();
    let keystore = std::path::PathBuf::from(created["path"].as_str().unwrap());
    assert_eq!(keystore.parent(), Some(dir.as_path()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&keystore).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "keystore mode {mode:o}");
    }

    let listed = ok_json(
        &home,
        &[
            "wallet",
            "list",
            "--dir",
            path_str(&dir),
            "--output",
            "json",
        ],
    );
    let keystores = listed["keystores"].as_array().unwrap();
    assert_eq!(keystores.len(), 1, "{listed}");
    assert_eq!(
        keystores[0]["address"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap(),
        address
    );
    assert_eq!(keystores[0]["path"], json!(keystore));

    // The keystore signs as the address it was listed with, on any chain.
    let args = SignerArgs {
        keystore: Some(keystore.clone()),
        password_file: Some(password.clone()),
        private_key: None,
        account: None,
    };
    assert_eq!(args.load(1).unwrap().address(), address);
    let shown = ok_json(
        &home,
        &[
            "wallet",
            "address",
            "--keystore",
            path_str(&keystore),
            "--password-file",
            path_str(&password),
            "--chain-id",
            "1",
            "--output",
            "json",
        ],
    );
    assert_eq!(
        shown["address"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap(),
        address
    );

    // Wrong password, unreadable password file, missing keystore.
    let err = SignerArgs {
        password_file: Some(wrong.clone()),
        ..args.clone()
    }
    .load(1)
    .unwrap_err();
    assert!(matches!(err, wallet::Error::WrongPassword { .. }), "{err}");
    assert!(err.to_string().contains("wrong password"), "{err}");
    let missing = tmp.path().join("no-such-password");
    let err = SignerArgs {
        password_file: Some(missing.clone()),
        ..args.clone()
    }
    .load(1)
    .unwrap_err();
    assert!(
        err.to_string().contains("cannot read") && err.to_string().contains("no-such-password"),
        "{err}"
    );
    let err = SignerArgs {
        keystore: Some(dir.join("missing.json")),
        ..args.clone()
    }
    .load(1)
    .unwrap_err();
    assert!(err.to_string().contains("missing.json"), "{err}");

    // No password file and no terminal: a clear error at once, never a prompt waiting on a pipe.
    let stderr = failure(
        &home,
        &[
            "wallet",
            "address",
            "--keystore",
            path_str(&keystore),
            "--chain-id",
            "1",
        ],
    );
    assert!(
        stderr.contains("not a terminal") && stderr.contains("--password-file"),
        "{stderr}"
    );
    let stderr = failure(&home, &["wallet", "new", "--dir", path_str(&dir)]);
    assert!(stderr.contains("not a terminal"), "{stderr}");
    let stderr = failure(
        &home,
        &[
            "wallet",
            "import",
            "--dir",
            path_str(&dir),
            "--password-file",
            path_str(&password),
        ],
    );
    assert!(
        stderr.contains("not a terminal") && stderr.contains("--private-key-file"),
        "{stderr}"
    );

    // Import of a known key yields its address; the key is never printed.
    let key_file = tmp.path().join("key");
    std::fs::write(&key_file, format!("{DEVNET_KEY}\n")).unwrap();
    let import = [
        "wallet",
        "import",
        "--dir",
        path_str(&dir),
        "--private-key-file",
        path_str(&key_file),
        "--password-file",
        path_str(&password),
        "--output",
        "json",
    ];
    let out = accord(&home, &import);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!printed.contains(&DEVNET_KEY[2..]), "the key was printed");
    let imported: Value = serde_json::from_slice(&out.stdout).unwrap();
    let devnet_address = PrivateKeySigner::from_bytes(&DEVNET_KEY.parse::<B256>().unwrap())
        .unwrap()
        .address();
    assert_eq!(
        imported["address"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap(),
        devnet_address
    );
    let imported_path = std::path::PathBuf::from(imported["path"].as_str().unwrap());
    assert_eq!(
        wallet::keystore::decrypt(&imported_path, "correct horse battery")
            .unwrap()
            .address(),
        devnet_address
    );

    // Never overwrite: the same key again, or an explicit name that exists.
    let before = std::fs::read(&imported_path).unwrap();
    let stderr = failure(&home, &import);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read(&imported_path).unwrap(), before);
    let name = keystore.file_name().unwrap().to_str().unwrap();
    let stderr = failure(
        &home,
        &[
            "wallet",
            "new",
            "--dir",
            path_str(&dir),
            "--name",
            name,
            "--password-file",
            path_str(&password),
        ],
    );
    assert!(stderr.contains("refusing to overwrite"), "{stderr}");
    assert_eq!(args.load(1).unwrap().address(), address);

    // Empty passwords are refused and leave no file behind.
    let empty = tmp.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let stderr = failure(
        &home,
        &[
            "wallet",
            "new",
            "--dir",
            path_str(&dir),
            "--password-file",
            path_str(&empty),
        ],
    );
    assert!(stderr.contains("empty password"), "{stderr}");

    let listed = ok_json(
        &home,
        &[
            "wallet",
            "list",
            "--dir",
            path_str(&dir),
            "--output",
            "json",
        ],
    );
    let mut addresses: Vec<Address> = listed["keystores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["address"].as_str().unwrap().parse().unwrap())
        .collect();
    addresses.sort();
    let mut want = vec![address, devnet_address];
    want.sort();
    assert_eq!(addresses, want);

    // Without --dir, keystores go to $ACCORD_HOME/keystores.
    let created = ok_json(
        &home,
        &[
            "wallet",
            "new",
            "--password-file",
            path_str(&password),
            "--output",
            "json",
        ],
    );
    let path = std::path::PathBuf::from(created["path"].as_str().unwrap());
    assert_eq!(path.parent(), Some(home.join("keystores").as_path()));
    let table = accord(&home, &["wallet", "list"]);
    let table = String::from_utf8_lossy(&table.stdout).to_lowercase();
    assert!(
        table.contains(&created["address"].as_str().unwrap().to_lowercase()),
        "{table}"
    );
}

/// `--private-key` is refused on chain 1 (the message names the chain and never contains the key) and
/// accepted on a devnet, both for `SignerArgs::load` and for the binary asking a real node for its chain id.
#[test]
fn raw_private_keys_only_on_devnet_chains() {
    let raw = SignerArgs {
        private_key: Some(DEVNET_KEY.into()),
        ..Default::default()
    };
    let err = raw.load(1).unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, wallet::Error::NotDevnet { chain_id: 1 }),
        "{message}"
    );
    assert!(message.contains("chain 1"), "{message}");
    assert!(!message.contains(&DEVNET_KEY[2..]), "{message}");
    let signer = raw.load(31337).unwrap();
    assert_eq!(
        format!("{:#x}", signer.address()),
        crate::utils::address_of(DEVNET_KEY)
    );

    let home = tempfile::tempdir().unwrap();
    let mainnet_like = anvil(1);
    let out = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["wallet", "address", "--rpc-url", &mainnet_like.url])
        .env("ACCORD_PRIVATE_KEY", DEVNET_KEY)
        .env("ACCORD_HOME", home.path())
        .env_remove("ACCORD_KEYSTORE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("chain 1"), "{stderr}");
    assert!(!stderr.contains(&DEVNET_KEY[2..]), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&DEVNET_KEY[2..]));

    let devnet = anvil(31337);
    let out = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["wallet", "address", "--rpc-url", &devnet.url])
        .env("ACCORD_PRIVATE_KEY", DEVNET_KEY)
        .env("ACCORD_HOME", home.path())
        .env_remove("ACCORD_KEYSTORE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim().to_lowercase(),
        crate::utils::address_of(DEVNET_KEY)
    );
}

/// Registering the deployer again: reverts with `AlreadyRegistered`.
fn register_other() -> WorkerRegistry::registerCall {
    WorkerRegistry::registerCall {
        capabilities: 2,
        metadataURI: "ipfs://again".into(),
    }
}

fn devnet_signer() -> PrivateKeySigner {
    SignerArgs {
        private_key: Some(DEVNET_KEY.into()),
        ..Default::default()
    }
    .load(31337)
    .unwrap()
}

async fn nonce_of(sender: &TxSender, hash: B256) -> u64 {
    use alloy::consensus::Transaction;
    sender
        .provider()
        .get_transaction_by_hash(hash)
        .await
        .unwrap()
        .expect("the transaction is known")
        .nonce()
}

async fn chain_nonce(sender: &TxSender) -> u64 {
    sender
        .provider()
        .get_transaction_count(sender.address())
        .pending()
        .await
        .unwrap()
}

/// 20 concurrent sends get distinct consecutive nonces and all mine; a fresh sender continues from the chain's
/// nonce; reverts come back decoded by name and arguments, at estimation (no nonce consumed) and on chain
/// (status 0, reason replayed).
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_sends_get_consecutive_nonces_and_reverts_are_decoded() {
    let devnet = Devnet::start();
    let token = accord::chain::evm::Deployment::from_manifest(&devnet.manifest)
        .unwrap()
        .token;
    let registry = accord::chain::evm::Deployment::from_manifest(&devnet.manifest)
        .unwrap()
        .registry;
    let sender = TxSender::connect(&devnet.anvil.url, devnet_signer(), SenderConfig::default())
        .await
        .unwrap();
    assert_eq!(sender.chain_id(), 31337);
    let start = chain_nonce(&sender).await;

    let tasks: Vec<_> = (1..=20u8)
        .map(|i| {
            let sender = sender.clone();
            tokio::spawn(async move {
                let approve = AccordToken::approveCall {
                    spender: Address::with_last_byte(i),
                    value: U256::from(i),
                };
                sender.call(token, &approve).await
            })
        })
        .collect();
    let mut nonces = Vec::new();
    for task in tasks {
        let receipt = task.await.unwrap().expect("every concurrent send mines");
        assert!(receipt.status());
        nonces.push(nonce_of(&sender, receipt.transaction_hash).await);
    }
    nonces.sort_unstable();
    assert_eq!(nonces, (start..start + 20).collect::<Vec<_>>());
    for i in 1..=20u8 {
        let allowance = AccordToken::new(token, sender.provider())
            .allowance(sender.address(), Address::with_last_byte(i))
            .call()
            .await
            .unwrap();
        assert_eq!(allowance, U256::from(i));
    }

    // A restart recovers the nonce from the chain.
    let fresh = TxSender::connect(&devnet.anvil.url, devnet_signer(), SenderConfig::default())
        .await
        .unwrap();
    let register = WorkerRegistry::registerCall {
        capabilities: 1,
        metadataURI: "ipfs://worker".into(),
    };
    let receipt = fresh.call(registry, &register).await.unwrap();
    assert_eq!(nonce_of(&fresh, receipt.transaction_hash).await, start + 20);

    // A reverting estimate is decoded and consumes no nonce.
    let err = fresh.call(registry, &register).await.unwrap_err();
    let TxError::Reverted(revert) = &err else {
        panic!("expected a revert, got {err}");
    };
    assert_eq!(
        revert.to_string(),
        format!("AlreadyRegistered(worker: {})", fresh.address())
    );
    assert_eq!(
        revert.arg("worker"),
        Some(fresh.address().to_string().as_str())
    );
    let err = fresh
        .call(registry, &WorkerRegistry::stakeCall { amount: U256::ZERO })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TxError::Reverted(r) if r.is("ZeroAmount")),
        "{err}"
    );
    assert_eq!(err.to_string(), "transaction reverted: ZeroAmount()");
    assert_eq!(chain_nonce(&fresh).await, start + 21);

    // Skipping estimation, the revert is mined (status 0) and its reason replayed; the nonce is used.
    let stake_zero: Bytes =
        alloy::sol_types::SolCall::abi_encode(&WorkerRegistry::stakeCall { amount: U256::ZERO })
            .into();
    let err = fresh
        .send_with_gas(registry, stake_zero, 200_000)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TxError::Reverted(r) if r.is("ZeroAmount")),
        "{err}"
    );
    assert_eq!(chain_nonce(&fresh).await, start + 22);

    // Broadcasts the node refuses (gas above the block gas limit) among concurrent sends: every other send
    // still mines, and no nonce gap holds anything back.
    let start = chain_nonce(&fresh).await;
    let tasks: Vec<_> = (1..=16u8)
        .map(|i| {
            let sender = fresh.clone();
            tokio::spawn(async move {
                let approve = AccordToken::approveCall {
                    spender: Address::with_last_byte(i),
                    value: U256::from(1000 + u64::from(i)),
                };
                if i % 4 == 0 {
                    let input = alloy::sol_types::SolCall::abi_encode(&approve).into();
                    (i, sender.send_with_gas(token, input, 1_000_000_000).await)
                } else {
                    (i, sender.call(token, &approve).await)
                }
            })
        })
        .collect();
    for task in tasks {
        let (i, result) = task.await.unwrap();
        if i % 4 == 0 {
            let err = result.unwrap_err();
            assert!(matches!(err, TxError::Rejected(_)), "{err}");
        } else {
            assert!(result.expect("the other sends mine").status());
        }
    }
    let settled = Instant::now();
    loop {
        let mined = fresh
            .provider()
            .get_transaction_count(fresh.address())
            .await
            .unwrap();
        if mined == chain_nonce(&fresh).await && mined >= start + 12 {
            break;
        }
        assert!(
            settled.elapsed() < Duration::from_secs(10),
            "a nonce gap holds transactions back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let queued = rpc(&devnet.anvil.url, "txpool_content", json!([])).await;
    assert_eq!(queued["queued"], json!({}), "{queued}");
    let start = chain_nonce(&fresh).await;
    let receipt = fresh.call(registry, &register_other()).await;
    assert!(matches!(receipt, Err(TxError::Reverted(_))));
    let receipt = fresh
        .call(
            token,
            &AccordToken::approveCall {
                spender: Address::with_last_byte(7),
                value: U256::from(7),
            },
        )
        .await
        .unwrap();
    assert_eq!(nonce_of(&fresh, receipt.transaction_hash).await, start);

    // The original sender's counter is behind now; resync brings it level and it sends again.
    sender.resync_nonce().await.unwrap();
    let approve = AccordToken::approveCall {
        spender: Address::with_last_byte(99),
        value: U256::from(1),
    };
    let expected = chain_nonce(&sender).await;
    let receipt = sender.call(token, &approve).await.unwrap();
    assert_eq!(nonce_of(&sender, receipt.transaction_hash).await, expected);

    // A sender for another account is independent of the deployer's nonces.
    let other = PrivateKeySigner::from_bytes(&devnet_key(3).parse::<B256>().unwrap()).unwrap();
    let other = TxSender::connect(&devnet.anvil.url, other, SenderConfig::default())
        .await
        .unwrap();
    let receipt = other.call(token, &approve).await.unwrap();
    assert_eq!(nonce_of(&other, receipt.transaction_hash).await, 0);
}

fn quantity(v: &Value) -> u128 {
    u128::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// The pending transactions of `from` in anvil's pool as (hash, maxFeePerGas, maxPriorityFeePerGas).
async fn pooled(url: &str, from: Address) -> Vec<(B256, u128, u128)> {
    let pool = rpc(url, "txpool_content", json!([])).await;
    let mut found = Vec::new();
    for (account, txs) in pool["pending"].as_object().into_iter().flatten() {
        if account.parse::<Address>().ok() != Some(from) {
            continue;
        }
        for tx in txs.as_object().unwrap().values() {
            found.push((
                tx["hash"].as_str().unwrap().parse().unwrap(),
                quantity(&tx["maxFeePerGas"]),
                quantity(&tx["maxPriorityFeePerGas"]),
            ));
        }
    }
    found
}

/// With mining stopped, a send is replaced by the same nonce with higher fees; once a block is mined the send
/// returns the replacement's receipt. With nothing ever mined, a short receipt timeout gives
/// `TxError::Timeout`.
#[tokio::test(flavor = "multi_thread")]
async fn stuck_transactions_are_replaced_with_higher_fees_then_time_out() {
    let anvil = anvil(31337);
    rpc(&anvil.url, "evm_setAutomine", json!([false])).await;
    let config = SenderConfig {
        replace_after: Duration::from_millis(400),
        receipt_timeout: Duration::from_secs(60),
        poll_interval: Duration::from_millis(50),
        ..SenderConfig::default()
    };
    let sender = TxSender::connect(&anvil.url, devnet_signer(), config)
        .await
        .unwrap();
    let from = sender.address();
    let to = Address::repeat_byte(0x42);
    let task = tokio::spawn({
        let sender = sender.clone();
        async move { sender.send(to, Bytes::new()).await }
    });

    // Watch the pool: the first transaction, then a replacement of the same nonce with higher fees.
    let started = Instant::now();
    let mut first: Option<(B256, u128, u128)> = None;
    let replacement = loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no replacement seen in the pool; first: {first:?}"
        );
        let txs = pooled(&anvil.url, from).await;
        assert!(txs.len() <= 1, "one nonce, one pooled transaction: {txs:?}");
        if let Some(&tx) = txs.first() {
            match first {
                None => first = Some(tx),
                Some(f) if tx.0 != f.0 => break tx,
                Some(_) => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let first = first.unwrap();
    assert!(
        replacement.1 > first.1 && replacement.2 > first.2,
        "replacement {replacement:?} must bid more than {first:?}"
    );
    let by_hash = rpc(
        &anvil.url,
        "eth_getTransactionByHash",
        json!([replacement.0]),
    )
    .await;
    assert_eq!(quantity(&by_hash["nonce"]), 0);
    assert!(quantity(&by_hash["maxFeePerGas"]) > first.1);

    rpc(&anvil.url, "evm_mine", json!([])).await;
    let receipt = tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("the send returns once a block is mined")
        .unwrap()
        .unwrap();
    assert!(receipt.status());
    assert_ne!(
        receipt.transaction_hash, first.0,
        "the first bid was replaced"
    );
    let mined = rpc(
        &anvil.url,
        "eth_getTransactionByHash",
        json!([receipt.transaction_hash]),
    )
    .await;
    assert!(quantity(&mined["maxFeePerGas"]) >= replacement.1);
    assert_eq!(
        rpc(&anvil.url, "eth_getTransactionByHash", json!([first.0])).await,
        Value::Null,
        "the replaced transaction is gone"
    );

    // Nothing is mined any more: the next send gives up after its receipt timeout.
    let impatient = TxSender::connect(
        &anvil.url,
        devnet_signer(),
        SenderConfig {
            replace_after: Duration::from_millis(300),
            receipt_timeout: Duration::from_secs(2),
            poll_interval: Duration::from_millis(50),
            ..SenderConfig::default()
        },
    )
    .await
    .unwrap();
    let started = Instant::now();
    let err = impatient.send(to, Bytes::new()).await.unwrap_err();
    let elapsed = started.elapsed();
    let TxError::Timeout { hash, after } = err else {
        panic!("expected a timeout, got {err}");
    };
    assert!(
        after >= Duration::from_secs(2) && elapsed < Duration::from_secs(15),
        "{elapsed:?}"
    );
    let pending = rpc(&anvil.url, "eth_getTransactionByHash", json!([hash])).await;
    assert_eq!(quantity(&pending["nonce"]), 1);
    assert!(pending["blockNumber"].is_null(), "{pending}");
}

/// Another process signing for the same account: a send whose nonce was taken moves to the next one; a
/// replacement answered with "nonce too low" whose own hashes never mine ends in `TxError::NonceTaken`.
#[tokio::test(flavor = "multi_thread")]
async fn nonces_taken_by_another_signer_are_detected() {
    let anvil = anvil(31337);
    rpc(&anvil.url, "evm_setAutomine", json!([false])).await;
    let config = SenderConfig {
        // Long enough that ours is not re-sent before theirs takes the dropped nonce.
        replace_after: Duration::from_secs(1),
        receipt_timeout: Duration::from_secs(30),
        poll_interval: Duration::from_millis(50),
        ..SenderConfig::default()
    };
    let connect = || TxSender::connect(&anvil.url, devnet_signer(), config.clone());
    let (ours, theirs) = (connect().await.unwrap(), connect().await.unwrap());
    let from = ours.address();

    // Both start at nonce 0; theirs is pooled first, so ours finds nonce 0 taken and uses nonce 1.
    let first = tokio::spawn({
        let theirs = theirs.clone();
        async move { theirs.send(Address::repeat_byte(0xa1), Bytes::new()).await }
    });
    wait_for_pool(&anvil.url, from, 1).await;
    let second = tokio::spawn({
        let ours = ours.clone();
        async move { ours.send(Address::repeat_byte(0xa2), Bytes::new()).await }
    });
    wait_for_pool(&anvil.url, from, 2).await;
    rpc(&anvil.url, "evm_mine", json!([])).await;
    let (a, b) = (
        first.await.unwrap().unwrap(),
        second.await.unwrap().unwrap(),
    );
    let nonce = |r: &alloy::rpc::types::TransactionReceipt| nonce_of(&ours, r.transaction_hash);
    assert_eq!((nonce(&a).await, nonce(&b).await), (0, 1));

    // Ours is pooled at nonce 2, then dropped; theirs (resynced) mines nonce 2 with another transaction.
    let stuck = tokio::spawn({
        let ours = ours.clone();
        async move { ours.send(Address::repeat_byte(0xa3), Bytes::new()).await }
    });
    let pooled_hash = wait_for_pool(&anvil.url, from, 1).await[0].0;
    rpc(&anvil.url, "anvil_dropTransaction", json!([pooled_hash])).await;
    theirs.resync_nonce().await.unwrap();
    let other = tokio::spawn({
        let theirs = theirs.clone();
        async move { theirs.send(Address::repeat_byte(0xa4), Bytes::new()).await }
    });
    wait_for_pool(&anvil.url, from, 1).await;
    rpc(&anvil.url, "evm_mine", json!([])).await;
    assert_eq!(nonce(&other.await.unwrap().unwrap()).await, 2);
    let err = tokio::time::timeout(Duration::from_secs(20), stuck)
        .await
        .expect("a taken nonce is detected well before the receipt timeout")
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, TxError::NonceTaken { nonce: 2 }), "{err}");
}

/// Waits until `from` has `count` pending transactions in anvil's pool and returns them.
async fn wait_for_pool(url: &str, from: Address, count: usize) -> Vec<(B256, u128, u128)> {
    let started = Instant::now();
    loop {
        let txs = pooled(url, from).await;
        if txs.len() == count {
            return txs;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "expected {count} pooled transactions, found {txs:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
