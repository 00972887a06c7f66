//! `accord serve` and `accord rebuild`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::{GlobalArgs, Output};
use crate::config::Config;
use crate::coordinator::Coordinator;

/// Where the configuration comes from.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// TOML configuration file (see README: every setting, its unit and default). `ACCORD_*` environment
    /// variables override it; --rpc-url overrides both.
    #[arg(long, short, env = "ACCORD_CONFIG")]
    pub config: Option<PathBuf>,
}

/// `accord serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Serve the API only, from an index another `accord serve` maintains (a read replica): no chain
    /// connection; the chain is the one the index belongs to.
    #[arg(long)]
    pub api_only: bool,
    /// The coordinator's wallet (holder of COORDINATOR_ROLE): with it this replica also schedules. Without it,
    /// it indexes and serves only.
    #[command(flatten)]
    pub signer: crate::chain::evm::wallet::SignerArgs,
    /// The coordinator's Starknet account (holder of the coordinator role on the Starknet chain).
    #[command(flatten)]
    pub starknet: StarknetSignerArgs,
}

/// The coordinator's Starknet account: `--starknet-account` with `--starknet-keystore` (or, on a
/// starknet-devnet only, `--starknet-private-key`). Its `Debug` never shows the key.
#[derive(Clone, Default, Args)]
pub struct StarknetSignerArgs {
    /// Address of the Starknet account contract the coordinator signs with.
    #[arg(long, env = "ACCORD_STARKNET_ACCOUNT")]
    pub starknet_account: Option<String>,
    /// Encrypted JSON keystore holding that account's Stark key.
    #[arg(long, env = "ACCORD_STARKNET_KEYSTORE")]
    pub starknet_keystore: Option<PathBuf>,
    /// File holding that keystore's password (first line); without it the password is prompted for.
    #[arg(long, env = "ACCORD_STARKNET_PASSWORD_FILE")]
    pub starknet_password_file: Option<PathBuf>,
    /// Raw Stark private key (0x-hex); accepted only on a starknet-devnet.
    #[arg(long, env = "ACCORD_STARKNET_PRIVATE_KEY", hide_env_values = true)]
    pub starknet_private_key: Option<String>,
}

impl std::fmt::Debug for StarknetSignerArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StarknetSignerArgs")
            .field("starknet_account", &self.starknet_account)
            .field("starknet_keystore", &self.starknet_keystore)
            .field("starknet_password_file", &self.starknet_password_file)
            .field(
                "starknet_private_key",
                &self.starknet_private_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl StarknetSignerArgs {
    fn given(&self) -> bool {
        self.starknet_account.is_some()
            || self.starknet_keystore.is_some()
            || self.starknet_private_key.is_some()
    }

    /// The coordinator key they name, read against the Starknet node at `rpc_url`.
    async fn load(&self, rpc_url: &str) -> anyhow::Result<crate::chain::CoordinatorKey> {
        let signer = crate::chain::evm::wallet::SignerArgs {
            keystore: self.starknet_keystore.clone(),
            password_file: self.starknet_password_file.clone(),
            private_key: self.starknet_private_key.clone(),
            account: self.starknet_account.clone(),
        };
        let (_, account, key) =
            crate::chain::starknet::account::load_key(rpc_url, &signer, "starknet-").await?;
        Ok(crate::chain::CoordinatorKey::Starknet { account, key })
    }
}

/// `accord rebuild`
#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// Configuration (the same file `accord serve` uses).
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Keep the rebuilt schema for inspection instead of dropping it.
    #[arg(long, conflicts_with = "replace")]
    pub keep_schema: bool,
    /// The chain to rebuild, by its CAIP-2 name or chain id (`/v1/status` lists them); required when the
    /// configuration lists several chains.
    #[arg(long)]
    pub chain: Option<String>,
    /// Repair instead of compare: re-index up to the chain's head into a fresh schema and replace the live
    /// index with it in one transaction (after a reorg deeper than indexer.reorg_window halted indexing). A
    /// halted `accord serve` resumes by itself once the swap commits.
    #[arg(long)]
    pub replace: bool,
}

/// `accord migrate`
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Configuration (the same file `accord serve` uses).
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// `accord index`
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Configuration (the same file `accord serve` uses).
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The chain to index, by its CAIP-2 name or chain id; required when the configuration lists several.
    #[arg(long)]
    pub chain: Option<String>,
}

pub(super) async fn index(args: IndexArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = load(&args.config, global)?;
    let cancel = CancellationToken::new();
    let signal = super::cancel_on_signal(cancel.clone());
    let stats =
        crate::coordinator::index_until_caught_up(&config, args.chain.as_deref(), cancel).await;
    signal.abort();
    let stats = stats?;
    match global.output {
        Output::Json => println!("{}", serde_json::to_string(&stats)?),
        Output::Table => println!(
            "indexed blocks {}..={}: {} events in {:.2} s ({:.0} events/s)",
            stats.from_block + 1,
            stats.to_block,
            stats.events,
            stats.seconds,
            stats.events_per_second
        ),
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn migrate(args: MigrateArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = load(&args.config, global)?;
    let pool = crate::store::connect(&config.database.url, 1).await?;
    let applied = crate::store::migrations_applied(&pool).await?;
    eprintln!(
        "accord: database at {} is migrated ({applied} migrations)",
        crate::store::redact_url(&config.database.url)
    );
    Ok(ExitCode::SUCCESS)
}

fn load(args: &ConfigArgs, global: &GlobalArgs) -> anyhow::Result<Config> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(url) = &global.rpc_url {
        if !config.chains.is_empty() {
            anyhow::bail!(
                "--rpc-url sets [chain]; this configuration lists [[chains]]: set each rpc_url there"
            );
        }
        config.chain.rpc_url = url.clone();
    }
    config.validate()?;
    if config.database.url.is_empty() {
        anyhow::bail!(
            "no database configured: set database.url in the config file or ACCORD_DATABASE_URL"
        );
    }
    Ok(config)
}

pub(super) async fn serve(args: ServeArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = load(&args.config, global)?;
    if args.api_only {
        let (addr, cancel, task) = crate::coordinator::start_api_only(config).await?;
        eprintln!(
            "accord: API (read replica) on http://{addr}, dashboard at http://{addr}/  (Ctrl-C stops)"
        );
        let signal = super::cancel_on_signal(cancel.clone());
        let result = task.await?;
        signal.abort();
        return result.map(|()| ExitCode::SUCCESS);
    }
    if args.signer.account.is_some() {
        anyhow::bail!(
            "--account names a Starknet account: give the coordinator's as --starknet-account with \
             --starknet-keystore (or --starknet-private-key on a starknet-devnet)"
        );
    }
    let mut keys = Vec::new();
    if args.starknet.given() {
        let Some(starknet) = config
            .served_chains()
            .iter()
            .find(|c| c.family == crate::domain::Family::Starknet)
        else {
            anyhow::bail!(
                "--starknet-account is a Starknet key, but no Starknet chain is configured"
            );
        };
        keys.push(args.starknet.load(&starknet.rpc_url).await?);
    }
    let signer = if args.signer.keystore.is_some() || args.signer.private_key.is_some() {
        // The key of the EVM chains; it is checked against the first one's chain id (raw keys: devnets only).
        let Some(evm) = config
            .served_chains()
            .iter()
            .find(|c| c.family == crate::domain::Family::Evm)
        else {
            anyhow::bail!("--keystore/--private-key is an EVM key, but no EVM chain is configured");
        };
        let chain_id = super::session::chain_id(&evm.rpc_url).await?;
        Some(args.signer.load(chain_id)?.into())
    } else {
        None
    };
    keys.extend(signer);
    let coordinator = Coordinator::start(config, keys).await?;
    let addr = coordinator.api_addr;
    eprintln!("accord: API on http://{addr}, dashboard at http://{addr}/  (Ctrl-C stops)");
    let cancel = coordinator.cancel_token();
    let signal = super::cancel_on_signal(cancel);
    let result = coordinator.wait().await;
    signal.abort();
    result.map(|()| ExitCode::SUCCESS)
}

pub(super) async fn rebuild(args: RebuildArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = load(&args.config, global)?;
    let cancel = CancellationToken::new();
    let signal = super::cancel_on_signal(cancel.clone());
    if args.replace {
        let replaced = crate::rebuild::replace(&config, args.chain.as_deref(), cancel).await;
        signal.abort();
        let replaced = replaced?;
        match global.output {
            Output::Json => println!("{}", serde_json::to_string_pretty(&replaced)?),
            Output::Table => println!(
                "replaced the live index: re-indexed up to block {} ({} events) in {:.1} s",
                replaced.block, replaced.events, replaced.seconds
            ),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let report =
        crate::rebuild::rebuild(&config, args.chain.as_deref(), args.keep_schema, cancel).await;
    signal.abort();
    let report = report?;
    match global.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Table => {
            println!(
                "rebuilt {} up to block {} in {:.1} s (schema {})",
                report.chain, report.block, report.seconds, report.schema
            );
            for t in &report.tables {
                let mark = if t.equal { "equal " } else { "DIFFER" };
                println!(
                    "{mark} {:<12} live {:>9} rows {}  rebuilt {:>9} rows {}",
                    t.table, t.live.rows, t.live.digest, t.rebuilt.rows, t.rebuilt.digest
                );
            }
        }
    }
    if report.equal() {
        Ok(ExitCode::SUCCESS)
    } else {
        let differ: Vec<_> = report
            .tables
            .iter()
            .filter(|t| !t.equal)
            .map(|t| t.table)
            .collect();
        eprintln!(
            "accord: rebuild differs from the live index in: {}",
            differ.join(", ")
        );
        Ok(ExitCode::FAILURE)
    }
}
