//! `accord da status|reconcile|get`: the DA router's state, retrying pending blobs on the primary layer, and
//! fetching checked bytes by sha256 or job id. Each reads the same configuration as `accord serve` (`[da]`,
//! `database.url`) and needs no chain connection.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use alloy::primitives::B256;
use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::json;

use super::serve::ConfigArgs;
use super::{GlobalArgs, Output};
use crate::config::Config;
use crate::da::{self, BlobRef, DaRouter, ReconcileOutcome, Source};

/// `accord da …`
#[derive(Debug, Subcommand)]
pub enum DaCommand {
    /// Primary and secondary layer, and the blobs waiting to be put on the primary.
    Status(DaArgs),
    /// Put every pending blob on the primary layer (from the archive); exits 1 when some stay pending.
    Reconcile(DaArgs),
    /// Write a blob's bytes, checked against their commitment: by sha256 (the archive) or by job id (its latest
    /// result, from the archive or its DA layer).
    Get(GetArgs),
    /// The consistency report: for every result committed on chain, whether the archive and its DA layer serve
    /// bytes that verify; exits 1 when some result has no verified copy.
    Report(ReportArgs),
}

/// `accord da report`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Check every committed result now (reading its bytes from the archive and its DA layer) before reporting;
    /// `accord serve` checks new results every da.check_interval_secs and old ones every da.recheck_secs.
    #[arg(long)]
    pub refresh: bool,
    /// Only results of this chain.
    #[arg(long)]
    pub chain_id: Option<u64>,
    /// How many problems to list.
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
    /// Configuration and database.
    #[command(flatten)]
    pub da: DaArgs,
}

/// Configuration and database of the `accord da` commands.
#[derive(Debug, Args)]
pub struct DaArgs {
    /// Configuration (the same file `accord serve` uses).
    #[command(flatten)]
    pub config: ConfigArgs,
    /// PostgreSQL URL; overrides database.url and ACCORD_DATABASE_URL.
    #[arg(long)]
    pub database_url: Option<String>,
}

/// `accord da get`
#[derive(Debug, Args)]
pub struct GetArgs {
    /// A sha256 (64 hex digits, 0x optional) or a job id (decimal).
    pub key: String,
    /// Write the bytes to this file instead of stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Chain of the job (default: the one chain the index holds).
    #[arg(long)]
    pub chain_id: Option<u64>,
    /// Configuration and database.
    #[command(flatten)]
    pub da: DaArgs,
}

/// Runs one `accord da` command.
pub async fn run(cmd: DaCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match cmd {
        DaCommand::Status(args) => status(args, global).await,
        DaCommand::Reconcile(args) => reconcile(args, global).await,
        DaCommand::Get(args) => get(args, global).await,
        DaCommand::Report(args) => report(args, global).await,
    }
}

async fn open(args: &DaArgs) -> anyhow::Result<(DaRouter, sqlx::PgPool)> {
    let mut config = Config::load(args.config.config.as_deref())?;
    if let Some(url) = &args.database_url {
        config.database.url = url.clone();
    }
    if config.database.url.is_empty() {
        anyhow::bail!(
            "no database configured: pass --database-url, set database.url in the config file or ACCORD_DATABASE_URL"
        );
    }
    // A reconcile holds one connection per blob while the local layer may use another.
    let pool = crate::store::connect(&config.database.url, 4).await?;
    let router =
        da::from_config(&config.da, pool.clone()).context("cannot set up the DA layers ([da])")?;
    Ok((router, pool))
}

async fn status(args: DaArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let (router, pool) = open(&args).await?;
    let state = router.state().await?;
    let pending = router.pending().await?;
    pool.close().await;
    match global.output {
        Output::Json => {
            let mut value = serde_json::to_value(&state)?;
            value["blobs"] = serde_json::to_value(&pending)?;
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        Output::Table => {
            println!("primary    {}", state.primary);
            println!(
                "secondary  {}",
                state.secondary.as_deref().unwrap_or("none")
            );
            println!("pending    {}", state.pending);
            if let Some(oldest) = state.oldest_pending {
                let age = crate::offchain::unix_now().saturating_sub(oldest.max(0) as u64);
                println!("oldest     {oldest} (unix s, {age} s ago)");
            }
            for p in &pending {
                println!(
                    "  {}  {:>9} bytes  on {}  attempts {}  last error: {}",
                    p.sha256, p.size, p.secondary_locator, p.attempts, p.last_error
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn reconcile(args: DaArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let (router, pool) = open(&args).await?;
    let output = global.output;
    let primary = router.primary().name().to_string();
    let report = router
        .reconcile(|outcome| {
            if output == Output::Json {
                return;
            }
            match outcome {
                ReconcileOutcome::Published { sha256, blob } => {
                    eprintln!("published  {sha256} on {primary}: {}", blob.locator)
                }
                ReconcileOutcome::StillPending {
                    sha256,
                    attempts,
                    error,
                } => eprintln!("pending    {sha256} (attempt {attempts}): {error}"),
                ReconcileOutcome::Skipped { sha256 } => {
                    eprintln!("skipped    {sha256} (another process is reconciling it)")
                }
            }
        })
        .await;
    pool.close().await;
    let report = report?;
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Table => println!(
            "reconciled onto {primary}: {} published, {} still pending, {} skipped",
            report.published, report.still_pending, report.skipped
        ),
    }
    Ok(if report.still_pending + report.skipped > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn report(args: ReportArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let (router, pool) = open(&args.da).await?;
    let result = async {
        if args.refresh {
            // Every result once: those checked before this command started are checked again.
            let started = crate::offchain::unix_now() as i64 + 1;
            let mut checked = 0;
            loop {
                let pass = da::check::check_pass(&router, &pool, started, 200).await?;
                checked += pass.new + pass.rechecked;
                if pass.new + pass.rechecked == 0 {
                    break;
                }
                if global.output == Output::Table {
                    eprintln!("accord: checked {checked} results");
                }
            }
        }
        let chain = args
            .chain_id
            .map(i64::try_from)
            .transpose()
            .context("--chain-id is too large")?;
        anyhow::Ok(da::check::report(&pool, chain, args.limit.max(1), |id| id.to_string()).await?)
    }
    .await;
    pool.close().await;
    let report = result?;
    match global.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Table => {
            println!("results    {}", report.results);
            for (state, count) in &report.counts {
                println!("  {state:<13}{count}");
            }
            if let Some(m) = &report.oldest_missing {
                println!(
                    "oldest missing: job {} (attempt {}) on chain {}, block {}, kind {}, commitment {}",
                    m.job_id, m.attempt, m.chain, m.block_number, m.kind, m.commitment
                );
            }
            for p in &report.problems {
                println!(
                    "  {:<13} chain {} job {} attempt {} block {} kind {} archive {} layer {}{}",
                    p.state,
                    p.chain,
                    p.job_id,
                    p.attempt,
                    p.block_number,
                    p.kind,
                    p.archive,
                    p.layer,
                    // Locators and a node's errors are anyone's text: no control character reaches the terminal.
                    p.detail
                        .as_deref()
                        .map(|d| format!(" ({})", d.escape_debug()))
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(if report.counts.get("missing").copied().unwrap_or(0) > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `0x` optional, 64 hex digits.
fn as_sha256(key: &str) -> Option<B256> {
    let hex = key.strip_prefix("0x").unwrap_or(key);
    (hex.len() == 64).then(|| hex.parse().ok()).flatten()
}

async fn get(args: GetArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let (router, pool) = open(&args.da).await?;
    let fetched = fetch(&router, &pool, &args).await;
    pool.close().await;
    let (data, blob, source) = fetched?;
    let source = match source {
        Source::Archive => "archive",
        Source::Layer => "layer",
    };
    if let Some(path) = &args.out {
        std::fs::write(path, &data).with_context(|| format!("cannot write {}", path.display()))?;
    }
    match global.output {
        Output::Json => {
            let mut value = json!({
                "sha256": da::sha256(&data).to_string(),
                "size": data.len(),
                "source": source,
                "blob": blob,
            });
            if args.out.is_none() {
                value["data"] = json!(alloy::hex::encode_prefixed(&data));
            }
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        Output::Table => match &args.out {
            Some(path) => eprintln!(
                "accord: {} bytes from the {source}, checked against {}, written to {}",
                data.len(),
                blob.commitment,
                path.display()
            ),
            None => {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(&data)?;
                stdout.flush()?;
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

async fn fetch(
    router: &DaRouter,
    pool: &sqlx::PgPool,
    args: &GetArgs,
) -> anyhow::Result<(da::Bytes, BlobRef, Source)> {
    if let Some(sha) = as_sha256(&args.key) {
        let data = router
            .archived(&sha)
            .await?
            .with_context(|| format!("blob {sha} is not archived"))?;
        let blob = BlobRef {
            kind: da::KIND_LOCAL,
            commitment: sha,
            size: data.len() as u64,
            locator: da::local_locator(&sha),
        };
        da::verify(&blob, &data).context("the archived bytes do not match their sha256")?;
        return Ok((data, blob, Source::Archive));
    }
    let id = Some(&args.key)
        .filter(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|k| alloy::primitives::U256::from_str_radix(k, 10).ok())
        .with_context(|| {
            format!(
                "'{}' is neither a sha256 (64 hex digits) nor a job id (decimal)",
                args.key
            )
        })?
        .to_string();
    let chain_id = match args.chain_id {
        Some(id) => id as i64,
        None => {
            let chains = crate::store::cursor::chains(pool).await?;
            match chains.as_slice() {
                [one] => one.chain_id,
                other => anyhow::bail!("the index holds {} chains; pass --chain-id", other.len()),
            }
        }
    };
    let rows = crate::store::views::jobs::served_results(pool, chain_id, &id).await?;
    anyhow::ensure!(
        !rows.is_empty(),
        "job {id} has no result on chain {chain_id}"
    );
    // The first candidate that verifies; a redundant job has one per agreeing replica.
    let mut failure = None;
    for row in rows {
        let attempt = row.attempt;
        let blob = match row.reference() {
            Ok(blob) => blob,
            Err(why) => {
                failure.get_or_insert(anyhow::anyhow!(
                    "result of job {id} (attempt {attempt}) {why}"
                ));
                continue;
            }
        };
        match router.fetch_verified(&blob, row.block()).await {
            Ok(fetched) => return Ok((fetched.data, blob, fetched.source)),
            Err(e) => {
                failure.get_or_insert(
                    anyhow::Error::new(e)
                        .context(format!("result of job {id} (attempt {attempt})")),
                );
            }
        }
    }
    Err(failure.expect("at least one candidate was tried"))
}
