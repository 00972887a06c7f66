//! Encrypted JSON keystores (Web3 Secret Storage v3, scrypt + AES-128-CTR, as geth and Foundry write them),
//! passwords from files or a hidden prompt, and raw devnet keys.
//!
//! Keystores written here are mode 0600 in a 0700 folder and carry geth's plain `address` field, so
//! [`list`] can show whose they are without a password.

use std::fs::OpenOptions;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use zeroize::Zeroizing;

use super::Error;

/// Keystores larger than this are not keystores (a v3 keystore is about 500 bytes).
const MAX_KEYSTORE_BYTES: u64 = 64 * 1024;

/// The default keystore folder: `$ACCORD_HOME/keystores`, with `ACCORD_HOME` defaulting to `~/.accord`.
/// Errors with [`Error::NoHome`] when neither `ACCORD_HOME` nor `HOME` is set.
pub fn default_dir() -> Result<PathBuf, Error> {
    let home = match std::env::var_os("ACCORD_HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home),
        None => std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(|home| PathBuf::from(home).join(".accord"))
            .ok_or(Error::NoHome)?,
    };
    Ok(home.join("keystores"))
}

/// The file name [`create`] uses when none is given: the checksummed address plus `.json`.
pub fn default_name(address: Address) -> String {
    format!("{address}.json")
}

/// One keystore found by [`list`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeystoreEntry {
    /// The account, from the keystore's plain `address` field; `None` when the file has none.
    pub address: Option<Address>,
    /// The keystore file.
    pub path: PathBuf,
}

/// Encrypts `signer`'s key with `password` into `dir/name` (default [`default_name`]), creating `dir` (mode 0700)
/// when missing; the file is mode 0600 from its creation. Returns the file's path. Errors: [`Error::EmptyPassword`],
/// [`Error::BadName`], [`Error::Exists`] (never overwrites), [`Error::Io`].
pub fn create(
    dir: &Path,
    name: Option<&str>,
    signer: &PrivateKeySigner,
    password: &str,
) -> Result<PathBuf, Error> {
    let name = name.map_or_else(|| default_name(signer.address()), str::to_owned);
    let key = Zeroizing::new(signer.to_bytes().0);
    // geth's plain address field (lowercase hex without 0x) lets the file be listed without a password.
    let address = alloy::primitives::hex::encode(signer.address());
    create_secret(dir, &name, &key, password, &[("address", address)])
}

/// The plain field that marks a keystore holding a Stark key, with that key's public key (0x-hex).
pub const STARKNET_PUBLIC_KEY: &str = "starknet_public_key";

/// Encrypts the 32 bytes `secret` (a key of any curve) with `password` into `dir/name`, with the plain `fields`
/// beside the encrypted part (an `address`, a [`STARKNET_PUBLIC_KEY`]), as [`create`] does.
pub fn create_secret(
    dir: &Path,
    name: &str,
    secret: &[u8; 32],
    password: &str,
    fields: &[(&str, String)],
) -> Result<PathBuf, Error> {
    if password.is_empty() {
        return Err(Error::EmptyPassword);
    }
    let name = name.to_owned();
    if name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\'])
        || Path::new(&name).file_name() != Some(name.as_ref())
    {
        return Err(Error::BadName { name });
    }
    create_dir(dir)?;
    let path = dir.join(&name);
    // Claim the name atomically with the final permissions; eth-keystore then truncates and fills this file.
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(file) => drop(file),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::Exists { path });
        }
        Err(source) => {
            return Err(Error::Io {
                action: "create",
                path,
                source,
            });
        }
    }
    let written = write_keystore(dir, &name, &path, secret, password, fields);
    if written.is_err() {
        let _ = std::fs::remove_file(&path);
    }
    written.map(|()| path)
}

fn create_dir(dir: &Path) -> Result<(), Error> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| Error::Io {
        action: "create the folder",
        path: dir.to_owned(),
        source,
    })
}

fn write_keystore(
    dir: &Path,
    name: &str,
    path: &Path,
    secret: &[u8; 32],
    password: &str,
    fields: &[(&str, String)],
) -> Result<(), Error> {
    let io = |action: &'static str| {
        move |source: std::io::Error| Error::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    eth_keystore::encrypt_key(
        dir,
        &mut rand08::thread_rng(),
        secret.as_slice(),
        password,
        Some(name),
    )
    .map_err(|e| io("write")(std::io::Error::other(e.to_string())))?;
    if fields.is_empty() {
        return Ok(());
    }
    let text = std::fs::read_to_string(path).map_err(io("read"))?;
    let mut json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| io("read")(std::io::Error::other(e)))?;
    for (name, value) in fields {
        json[*name] = value.as_str().into();
    }
    std::fs::write(path, json.to_string()).map_err(io("write"))
}

/// The plain (unencrypted) field `name` of the keystore at `path`, when it has one.
pub fn plain_field(path: &Path, name: &str) -> Result<Option<String>, Error> {
    let json = read_keystore_json(path)?;
    Ok(json.get(name).and_then(|v| v.as_str()).map(str::to_owned))
}

/// Decrypts the keystore at `path` with `password`. Errors: [`Error::WrongPassword`], [`Error::Io`] when the
/// file cannot be read, [`Error::NotAKeystore`] when it is not a v3 keystore or its `address` field names
/// another account than the key inside.
pub fn decrypt(path: &Path, password: &str) -> Result<PrivateKeySigner, Error> {
    let json = read_keystore_json(path)?;
    let not_a_keystore = |message: String| Error::NotAKeystore {
        path: path.to_owned(),
        message,
    };
    if json.get(STARKNET_PUBLIC_KEY).is_some() {
        return Err(not_a_keystore(
            "it holds a Stark key (a Starknet account's): sign with it against a Starknet node, with --account"
                .into(),
        ));
    }
    let key = decrypt_secret(path, password)?;
    let signer = PrivateKeySigner::from_slice(&key)
        .map_err(|_| not_a_keystore("the decrypted key is not a secp256k1 private key".into()))?;
    if let Some(claimed) = address_field(&json)
        && claimed != signer.address()
    {
        return Err(not_a_keystore(format!(
            "its address field says {claimed} but the key inside is {}",
            signer.address()
        )));
    }
    Ok(signer)
}

/// The secret bytes inside the keystore at `path`, whatever key they are: a secp256k1 key, or a Stark key as
/// Starknet tools (starkli) write it in the same format. Errors as [`decrypt`]'s, without the address check.
pub fn decrypt_secret(path: &Path, password: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    read_keystore_json(path)?;
    eth_keystore::decrypt_key(path, password)
        .map(Zeroizing::new)
        .map_err(|e| match e {
            eth_keystore::KeystoreError::MacMismatch => Error::WrongPassword {
                path: path.to_owned(),
            },
            eth_keystore::KeystoreError::StdIo(message) => Error::Io {
                action: "read",
                path: path.to_owned(),
                source: std::io::Error::other(message),
            },
            other => Error::NotAKeystore {
                path: path.to_owned(),
                message: other.to_string(),
            },
        })
}

fn read_keystore_json(path: &Path) -> Result<serde_json::Value, Error> {
    let read_error = |source| Error::Io {
        action: "read",
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut text = String::new();
    file.take(MAX_KEYSTORE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read_error)?;
    if text.len() as u64 > MAX_KEYSTORE_BYTES {
        return Err(Error::NotAKeystore {
            path: path.to_owned(),
            message: format!("larger than {MAX_KEYSTORE_BYTES} bytes"),
        });
    }
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::NotAKeystore {
        path: path.to_owned(),
        message: format!("not JSON ({e})"),
    })?;
    if !json
        .get("crypto")
        .or_else(|| json.get("Crypto"))
        .is_some_and(serde_json::Value::is_object)
    {
        return Err(Error::NotAKeystore {
            path: path.to_owned(),
            message: "no crypto section".into(),
        });
    }
    Ok(json)
}

fn address_field(json: &serde_json::Value) -> Option<Address> {
    let text = json.get("address")?.as_str()?;
    let hex = text.strip_prefix("0x").unwrap_or(text);
    format!("0x{hex}").parse().ok()
}

/// Every keystore in `dir`, sorted by file name; files that are not keystores are skipped. A missing folder
/// has none. Errors with [`Error::Io`] when the folder cannot be read.
pub fn list(dir: &Path) -> Result<Vec<KeystoreEntry>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Io {
                action: "list",
                path: dir.to_owned(),
                source,
            });
        }
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            action: "list",
            path: dir.to_owned(),
            source,
        })?;
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        if let Ok(json) = read_keystore_json(&path) {
            found.push(KeystoreEntry {
                address: address_field(&json),
                path,
            });
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// The first line of `path` (without its line ending), for passwords and keys kept in files.
/// Errors with [`Error::Io`] when the file cannot be read.
pub fn read_secret_file(path: &Path) -> Result<Zeroizing<String>, Error> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })?);
    let line = text.lines().next().unwrap_or_default();
    Ok(Zeroizing::new(line.to_owned()))
}

/// Prompts on the terminal with `prompt` and reads a line without echoing it. `what` names the secret and
/// `hint` the flag that supplies it instead, for the error when stdin is not a terminal
/// ([`Error::NoTerminal`]; the prompt never waits on a pipe).
pub fn prompt_secret(
    prompt: &str,
    what: &'static str,
    hint: &'static str,
) -> Result<Zeroizing<String>, Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::NoTerminal { what, hint });
    }
    rpassword::prompt_password(prompt)
        .map(Zeroizing::new)
        .map_err(|_| Error::NoTerminal { what, hint })
}

/// A new password: from the first line of `file`, or prompted for twice. Errors: [`Error::EmptyPassword`],
/// [`Error::PasswordMismatch`], [`Error::NoTerminal`], [`Error::Io`].
pub fn new_password(file: Option<&Path>) -> Result<Zeroizing<String>, Error> {
    let password = match file {
        Some(file) => read_secret_file(file)?,
        None => {
            let first = prompt_secret("New keystore password: ", "password", "--password-file")?;
            if first.is_empty() {
                return Err(Error::EmptyPassword);
            }
            let again = prompt_secret("Repeat the password: ", "password", "--password-file")?;
            if first != again {
                return Err(Error::PasswordMismatch);
            }
            first
        }
    };
    if password.is_empty() {
        return Err(Error::EmptyPassword);
    }
    Ok(password)
}

/// Parses a raw private key (64 hex digits, `0x` optional, surrounding whitespace ignored). Errors with
/// [`Error::MalformedKey`] naming `source_name`, never quoting the text.
pub fn parse_private_key(text: &str, source_name: &str) -> Result<PrivateKeySigner, Error> {
    let malformed = || Error::MalformedKey {
        source_name: source_name.to_owned(),
    };
    let text = text.trim();
    let hex = text.strip_prefix("0x").unwrap_or(text);
    if hex.len() != 64 {
        return Err(malformed());
    }
    let bytes = Zeroizing::new(alloy::primitives::hex::decode(hex).map_err(|_| malformed())?);
    PrivateKeySigner::from_slice(&bytes).map_err(|_| malformed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keystores_round_trip_refuse_overwrite_and_list_without_password() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("keystores");
        let signer = PrivateKeySigner::random();
        let path = create(&dir, None, &signer, "correct horse").unwrap();
        assert_eq!(path, dir.join(default_name(signer.address())));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            decrypt(&path, "correct horse").unwrap().address(),
            signer.address()
        );
        assert!(matches!(
            decrypt(&path, "wrong"),
            Err(Error::WrongPassword { .. })
        ));
        assert!(matches!(
            create(&dir, None, &signer, "other"),
            Err(Error::Exists { .. })
        ));
        assert!(matches!(
            create(&dir, Some("x.json"), &signer, ""),
            Err(Error::EmptyPassword)
        ));
        for bad in ["", ".hidden", "a/b", "..", "a\\b"] {
            assert!(
                matches!(
                    create(&dir, Some(bad), &signer, "pw"),
                    Err(Error::BadName { .. })
                ),
                "{bad}"
            );
        }
        std::fs::write(dir.join("notes.txt"), "not a keystore").unwrap();
        let listed = list(&dir).unwrap();
        assert_eq!(
            listed,
            vec![KeystoreEntry {
                address: Some(signer.address()),
                path
            }]
        );
        assert!(list(&dir.join("missing")).unwrap().is_empty());
    }

    #[test]
    fn private_keys_parse_without_echo() {
        let key = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
        let signer = parse_private_key(&format!("0x{key}\n"), "--private-key").unwrap();
        assert_eq!(
            signer.address().to_string(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
        assert!(parse_private_key(key, "x").is_ok());
        for bad in [&key[..60], "0xzz", &format!("{key}00"), &"0".repeat(64)] {
            let err = parse_private_key(bad, "--private-key").unwrap_err();
            assert!(matches!(err, Error::MalformedKey { .. }));
            assert!(!err.to_string().contains(&key[..20]), "{err}");
        }
    }

    #[test]
    fn secret_files_give_their_first_line() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let file = dir.join("pw");
        std::fs::write(&file, "s3cret\r\nsecond line\n").unwrap();
        assert_eq!(read_secret_file(&file).unwrap().as_str(), "s3cret");
        assert!(matches!(
            read_secret_file(&dir.join("missing")),
            Err(Error::Io { .. })
        ));
    }
}
