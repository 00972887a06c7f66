//! `scripts/solc`, the solcjs-backed `solc` that forge runs: the two calls forge makes, import resolution through
//! --base-path/--include-path, and clear refusals.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::utils::repo;

fn solc(args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(repo().join("scripts/solc"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run scripts/solc (node must be installed; see scripts/bootstrap)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn answers_version_like_native_solc() {
    let out = solc(&["--version"], "");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with("Version: 0.8."),
        "forge parses the last line: {text}"
    );
}

#[test]
fn compiles_standard_json_resolving_imports_from_include_path() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    std::fs::create_dir_all(lib.join("acme")).unwrap();
    std::fs::write(lib.join("acme/Base.sol"), "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\ncontract Base { function one() public pure returns (uint256) { return 1; } }\n").unwrap();
    let input = serde_json::json!({
        "language": "Solidity",
        "sources": { "Main.sol": { "content": "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\nimport \"acme/Base.sol\";\ncontract Main is Base {}\n" } },
        "settings": { "outputSelection": { "*": { "*": ["evm.bytecode.object"] } } }
    });
    let out = solc(
        &[
            "--standard-json",
            "--base-path",
            dir.path().to_str().unwrap(),
            "--include-path",
            lib.to_str().unwrap(),
        ],
        &input.to_string(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<_> = result["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let bytecode = result["contracts"]["Main.sol"]["Main"]["evm"]["bytecode"]["object"]
        .as_str()
        .unwrap();
    assert!(bytecode.len() > 100, "Main compiled with its imported base");

    // The same import outside every allowed root is not read.
    let out = solc(
        &[
            "--standard-json",
            "--base-path",
            lib.join("acme").to_str().unwrap(),
        ],
        &input.to_string(),
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = result["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("not found"), "{result}");
}

#[test]
fn refuses_unknown_flags_and_bad_input() {
    let out = solc(&["--optimize"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported argument '--optimize'"));
    let out = solc(&["--standard-json"], "{not json");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid JSON"));
}
