//! `accord wallet new|import|list|address`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::{GlobalArgs, Output};
use crate::chain::evm::wallet::{SignerArgs, keystore};
use crate::chain::evm::{Key, domain_address};
use crate::domain::Address;

/// `accord wallet …`
#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Create a new random key, encrypted with a password into a keystore file (mode 0600); prints its address
    /// and path.
    New(NewArgs),
    /// Encrypt an existing private key into a keystore file (mode 0600); prints its address and path.
    Import(ImportArgs),
    /// List the keystores in the keystore folder with their addresses (read without a password).
    List(DirArgs),
    /// Print the address a signer option set (--keystore or --private-key) signs as.
    Address(AddressArgs),
}

/// Where keystores live.
#[derive(Debug, Args)]
pub struct DirArgs {
    /// Keystore folder [default: $ACCORD_HOME/keystores, ACCORD_HOME defaulting to ~/.accord].
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// `accord wallet new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Keystore folder.
    #[command(flatten)]
    pub dir: DirArgs,
    /// File name inside the folder [default: <address>.json]. An existing file is never overwritten.
    #[arg(long)]
    pub name: Option<String>,
    /// File holding the new password (first line); without it the password is prompted for twice.
    #[arg(long, env = "ACCORD_PASSWORD_FILE")]
    pub password_file: Option<PathBuf>,
    /// A Stark key, for a Starknet account contract, instead of an EVM (secp256k1) key. The keystore is named
    /// after the key's public key; the account's address is the contract's, given with --account when signing.
    #[arg(long)]
    pub starknet: bool,
}

/// `accord wallet import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Keystore folder, name and password.
    #[command(flatten)]
    pub new: NewArgs,
    /// File holding the private key (first line, 0x-hex); without it the key is prompted for, hidden.
    #[arg(long)]
    pub private_key_file: Option<PathBuf>,
}

/// `accord wallet address`.
#[derive(Debug, Args)]
pub struct AddressArgs {
    /// The signer.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Chain id that decides whether --private-key is accepted [default: the chain id of --rpc-url].
    #[arg(long)]
    pub chain_id: Option<u64>,
}

/// The result of `new` and `import`.
#[derive(Debug, serde::Serialize)]
struct Created {
    address: Address,
    path: PathBuf,
}

pub(super) async fn run(cmd: WalletCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match cmd {
        WalletCommand::New(args) if args.starknet => {
            let dir = resolve_dir(&args.dir)?;
            let password = keystore::new_password(args.password_file.as_deref())?;
            let key = starknet::signers::SigningKey::from_random();
            create_stark(global, &dir, args.name.as_deref(), &key, &password)
        }
        WalletCommand::Import(args) if args.new.starknet => {
            let dir = resolve_dir(&args.new.dir)?;
            let (text, source) = match &args.private_key_file {
                Some(file) => (
                    keystore::read_secret_file(file)?,
                    file.display().to_string(),
                ),
                None => (
                    keystore::prompt_secret(
                        "Stark private key (hidden): ",
                        "private key",
                        "--private-key-file",
                    )?,
                    "the private key typed".to_owned(),
                ),
            };
            let secret = crate::chain::starknet::account::parse_stark_key(&text).with_context(|| {
                format!(
                    "{source} is not a Stark private key (0x and at most 64 hex digits, a non-zero scalar below \
                     the curve order)"
                )
            })?;
            let key = starknet::signers::SigningKey::from_secret_scalar(secret);
            let password = keystore::new_password(args.new.password_file.as_deref())?;
            create_stark(global, &dir, args.new.name.as_deref(), &key, &password)
        }
        WalletCommand::New(args) => {
            let dir = resolve_dir(&args.dir)?;
            let password = keystore::new_password(args.password_file.as_deref())?;
            let signer = Key::random();
            let path = keystore::create(&dir, args.name.as_deref(), &signer, &password)?;
            print_created(global, &signer, &path)
        }
        WalletCommand::Import(args) => {
            let dir = resolve_dir(&args.new.dir)?;
            let signer = match &args.private_key_file {
                Some(file) => keystore::parse_private_key(
                    &keystore::read_secret_file(file)?,
                    &file.display().to_string(),
                )?,
                None => keystore::parse_private_key(
                    &keystore::prompt_secret(
                        "Private key (hidden): ",
                        "private key",
                        "--private-key-file",
                    )?,
                    "the private key typed",
                )?,
            };
            let password = keystore::new_password(args.new.password_file.as_deref())?;
            let path = keystore::create(&dir, args.new.name.as_deref(), &signer, &password)?;
            print_created(global, &signer, &path)
        }
        WalletCommand::List(args) => {
            let dir = resolve_dir(&args)?;
            let found = keystore::list(&dir)?;
            match global.output {
                Output::Json => {
                    println!("{}", serde_json::json!({ "dir": dir, "keystores": found }))
                }
                Output::Table => {
                    if found.is_empty() {
                        println!("no keystores in {}", dir.display());
                    }
                    for entry in &found {
                        let address = entry
                            .address
                            .map_or_else(|| "(no address field)".to_owned(), |a| a.to_string());
                        println!("{address:<42}  {}", entry.path.display());
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        WalletCommand::Address(args) if args.signer.account.is_some() => {
            let rpc_url = global.rpc_url_or_default();
            let (network, account, key) =
                crate::chain::starknet::account::load_key(&rpc_url, &args.signer, "").await?;
            let address = crate::chain::starknet::address(account);
            let public_key = format!("{:#066x}", key.verifying_key().scalar());
            match global.output {
                Output::Json => println!(
                    "{}",
                    serde_json::json!({
                        "address": address,
                        "public_key": public_key,
                        "chain": format!("starknet:{network}"),
                    })
                ),
                Output::Table => println!("{address}  (public key {public_key})"),
            }
            Ok(ExitCode::SUCCESS)
        }
        WalletCommand::Address(args) => {
            let chain_id = match args.chain_id {
                Some(id) => id,
                None => chain_id_of(global).await?,
            };
            // Keystore decryption (scrypt) is CPU work; keep it off the async workers.
            let signer = tokio::task::spawn_blocking(move || args.signer.load(chain_id)).await??;
            match global.output {
                Output::Json => println!(
                    "{}",
                    serde_json::json!({ "address": signer.address(), "chain_id": chain_id })
                ),
                Output::Table => println!("{}", signer.address()),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn resolve_dir(args: &DirArgs) -> anyhow::Result<PathBuf> {
    match &args.dir {
        Some(dir) => Ok(dir.clone()),
        None => Ok(keystore::default_dir()?),
    }
}

fn print_created(global: &GlobalArgs, key: &Key, path: &Path) -> anyhow::Result<ExitCode> {
    let created = Created {
        address: domain_address(key.address()),
        path: path.to_owned(),
    };
    match global.output {
        Output::Json => println!("{}", serde_json::to_string(&created)?),
        Output::Table => {
            // People read the EIP-55 checksummed form.
            println!("address  {}", key.address());
            println!("keystore {}", created.path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes a Stark key's keystore (named `starknet-<public key>.json` by default) and prints its public key and
/// path.
fn create_stark(
    global: &GlobalArgs,
    dir: &Path,
    name: Option<&str>,
    key: &starknet::signers::SigningKey,
    password: &str,
) -> anyhow::Result<ExitCode> {
    let public_key = format!("{:#066x}", key.verifying_key().scalar());
    let name = name.map_or_else(|| format!("starknet-{public_key}.json"), str::to_owned);
    let secret = zeroize::Zeroizing::new(key.secret_scalar().to_bytes_be());
    let path = keystore::create_secret(
        dir,
        &name,
        &secret,
        password,
        &[(keystore::STARKNET_PUBLIC_KEY, public_key.clone())],
    )?;
    match global.output {
        Output::Json => println!(
            "{}",
            serde_json::json!({ "public_key": public_key, "path": path })
        ),
        Output::Table => {
            println!(
                "public key {public_key}  (deploy an account contract for it; sign with --account ADDRESS)"
            );
            println!("keystore   {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn chain_id_of(global: &GlobalArgs) -> anyhow::Result<u64> {
    super::session::chain_id(&global.rpc_url_or_default())
        .await
        .context("cannot read the chain id (or pass --chain-id)")
}
