//! How a command signs: [`SignerArgs`], flattened into every subcommand that sends transactions or signs
//! messages.

use std::path::PathBuf;

use alloy::signers::local::PrivateKeySigner;

use super::{Error, keystore};

/// Chain ids on which raw `--private-key` signing is accepted: anvil/hardhat (31337) and geth's dev mode (1337).
pub const DEVNET_CHAIN_IDS: [u64; 2] = [31337, 1337];

/// Whether `chain_id` is a local devnet chain (31337 or 1337), the only chains where raw private keys are accepted.
pub fn is_devnet(chain_id: u64) -> bool {
    DEVNET_CHAIN_IDS.contains(&chain_id)
}

/// How a command signs: a keystore with a password file or prompt, or a raw key on devnets only. Its `Debug`
/// never shows the key.
#[derive(Clone, Default, clap::Args)]
pub struct SignerArgs {
    /// Encrypted JSON keystore to sign with.
    #[arg(long, env = "ACCORD_KEYSTORE")]
    pub keystore: Option<PathBuf>,
    /// File holding the keystore's password (first line); without it the password is prompted for.
    #[arg(long, env = "ACCORD_PASSWORD_FILE")]
    pub password_file: Option<PathBuf>,
    /// Raw private key (0x-hex); accepted only on a devnet chain id (31337 or 1337), or on a starknet-devnet.
    #[arg(long, env = "ACCORD_PRIVATE_KEY", hide_env_values = true)]
    pub private_key: Option<String>,
    /// Starknet only: the address of the account contract the key signs for (an EVM address is derived from
    /// its key).
    #[arg(long, env = "ACCORD_ACCOUNT")]
    pub account: Option<String>,
}

impl std::fmt::Debug for SignerArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerArgs")
            .field("keystore", &self.keystore)
            .field("password_file", &self.password_file)
            .field("account", &self.account)
            .field(
                "private_key",
                &self.private_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl SignerArgs {
    /// The signer for `chain_id`: the keystore decrypted with the password file's first line (or a hidden
    /// prompt when stdin is a terminal), or the raw `--private-key` when `chain_id` [is a devnet](is_devnet).
    /// Errors: [`Error::NoSigner`], [`Error::BothSigners`], [`Error::NotDevnet`] (names the chain id),
    /// [`Error::MalformedKey`], [`Error::WrongPassword`], [`Error::Io`] (unreadable file),
    /// [`Error::NotAKeystore`], [`Error::NoTerminal`]. No message contains the key or the password.
    pub fn load(&self, chain_id: u64) -> Result<PrivateKeySigner, Error> {
        match (&self.keystore, &self.private_key) {
            (None, None) => Err(Error::NoSigner),
            (Some(_), Some(_)) => Err(Error::BothSigners),
            (None, Some(key)) => {
                if !is_devnet(chain_id) {
                    return Err(Error::NotDevnet { chain_id });
                }
                keystore::parse_private_key(key, "--private-key")
            }
            (Some(path), None) => keystore::decrypt(path, &self.password(path)?),
        }
    }

    /// The password of the keystore at `path`: the password file's first line, or a hidden prompt when stdin
    /// is a terminal.
    pub fn password(&self, path: &std::path::Path) -> Result<zeroize::Zeroizing<String>, Error> {
        match &self.password_file {
            Some(file) => keystore::read_secret_file(file),
            None => keystore::prompt_secret(
                &format!("Password for {}: ", path.display()),
                "password",
                "--password-file",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    #[test]
    fn debug_output_hides_the_key() {
        let args = SignerArgs {
            private_key: Some(KEY.into()),
            ..SignerArgs::default()
        };
        let text = format!("{args:?}");
        assert!(!text.contains(&KEY[2..12]), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }

    fn raw(key: &str) -> SignerArgs {
        SignerArgs {
            private_key: Some(key.into()),
            ..Default::default()
        }
    }

    #[test]
    fn raw_keys_only_on_devnets_and_never_echoed() {
        assert!(is_devnet(31337) && is_devnet(1337) && !is_devnet(1) && !is_devnet(11155111));
        assert!(raw(KEY).load(31337).is_ok());
        assert!(raw(KEY).load(1337).is_ok());
        for chain_id in [1, 10, 8453, 11155111] {
            let err = raw(KEY).load(chain_id).unwrap_err();
            let message = err.to_string();
            assert!(message.contains(&chain_id.to_string()), "{message}");
            assert!(!message.contains(&KEY[2..12]), "{message}");
        }
        let err = raw("0x1234").load(31337).unwrap_err();
        assert!(matches!(err, Error::MalformedKey { .. }), "{err}");
    }

    #[test]
    fn exactly_one_signer_source() {
        assert!(matches!(
            SignerArgs::default().load(31337),
            Err(Error::NoSigner)
        ));
        let both = SignerArgs {
            keystore: Some("k.json".into()),
            private_key: Some(KEY.into()),
            ..Default::default()
        };
        assert!(matches!(both.load(31337), Err(Error::BothSigners)));
    }
}
