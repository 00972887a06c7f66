//! Wallets: encrypted JSON keystores ([`keystore`]), choosing a command's signer ([`SignerArgs`]), sending
//! transactions with nonce management, EIP-1559 fees, replacement of stuck transactions and receipts
//! ([`TxSender`]), and revert data decoded by name ([`decode_revert`]).
//!
//! Private keys and passwords never appear in logs, errors or output: errors name files and chain ids, not
//! secrets, and secrets held in memory are zeroized on drop.

pub mod keystore;
pub mod revert;
pub mod sender;
pub mod signer;

use std::path::PathBuf;

pub use revert::{Revert, decode_revert};
pub use sender::{Fees, SenderConfig, TxError, TxSender};
pub use signer::{DEVNET_CHAIN_IDS, SignerArgs, is_devnet};

/// Why a keystore, password or signer could not be used. Messages name files and chain ids, never a key or a
/// password.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Neither `--keystore` nor `--private-key` was given.
    #[error(
        "no signer: pass --keystore FILE (with --password-file or a password prompt), or --private-key on a devnet"
    )]
    NoSigner,
    /// Both `--keystore` and `--private-key` were given.
    #[error(
        "--keystore (ACCORD_KEYSTORE) and --private-key (ACCORD_PRIVATE_KEY) are mutually exclusive: give one of them"
    )]
    BothSigners,
    /// `--private-key` on a chain that is not a devnet.
    #[error(
        "--private-key is accepted only on devnet chains (chain id 31337 or 1337), not on chain {chain_id}: sign with --keystore"
    )]
    NotDevnet {
        /// The chain the command talks to.
        chain_id: u64,
    },
    /// A raw private key that is not 32 bytes of hex, or not a valid secp256k1 scalar. The key is not quoted.
    #[error("{source_name} is not a private key (expected 0x followed by 64 hex digits)")]
    MalformedKey {
        /// Where the key came from (`--private-key`, a file name, the prompt).
        source_name: String,
    },
    /// The keystore decrypted with a wrong password (its MAC did not match).
    #[error("wrong password for keystore {}", path.display())]
    WrongPassword {
        /// The keystore.
        path: PathBuf,
    },
    /// A file or folder could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was attempted (`read`, `create`, `list`, …).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not an encrypted JSON keystore (Web3 Secret Storage v3).
    #[error("{} is not an encrypted JSON keystore: {message}", path.display())]
    NotAKeystore {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A password or key had to be prompted for, but stdin is not a terminal.
    #[error("cannot prompt for the {what}: stdin is not a terminal (pass {hint})")]
    NoTerminal {
        /// What was to be prompted for (`password`, `private key`).
        what: &'static str,
        /// The flag that supplies it instead.
        hint: &'static str,
    },
    /// An empty password for a new keystore.
    #[error("refusing an empty password: a keystore needs a password")]
    EmptyPassword,
    /// The password and its confirmation differ.
    #[error("the passwords do not match")]
    PasswordMismatch,
    /// The keystore file exists already.
    #[error("{} already exists: refusing to overwrite it", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// A keystore file name that is empty, hidden or has a path separator.
    #[error("invalid keystore name {name:?}: use a plain file name")]
    BadName {
        /// The name.
        name: String,
    },
    /// Neither `ACCORD_HOME` nor `HOME` is set, so there is no default keystore folder.
    #[error("no keystore folder: set ACCORD_HOME or HOME, or pass --dir")]
    NoHome,
}
