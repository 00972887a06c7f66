//! The coordinator process: the indexer and the REST API over one PostgreSQL index, under one cancellation
//! token. A critical task that fails stops the others and the process exits non-zero.
//!
//! Shutdown order: the API stops accepting and drains in-flight requests; the indexer finishes or abandons its
//! current batch (a batch commits with its cursor or not at all); the pool closes.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::api::{self, AppState};
use crate::chain::actions::CoordinatorChain;
use crate::chain::evm::{EvmChain, EvmCoordinator};
use crate::chain::starknet::StarknetChain;
use crate::chain::starknet::coordinate::StarknetCoordinator;
use crate::chain::{AnyChain, Chain, CoordinatorKey, redact_rpc_url};
use crate::config::Config;
use crate::da::DaRouter;
use crate::deployment::Manifest;
use crate::domain::Family;
use crate::indexer::{Indexer, Status};
use crate::scheduler::{Scheduler, SchedulerStatus};
use crate::supervise::Supervisor;

/// The process-wide Prometheus recorder for the indexer's `metrics` counters; installed once.
///
/// A thread drains the recorder's histogram buffers every few seconds: without that upkeep, samples that pile
/// up between two scrapes are partly dropped and the summaries' quantiles drift.
fn prometheus() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new().install_recorder().ok()?;
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .ok()?;
            Some(handle)
        })
        .clone()
}

/// Asks the node for its chain id (by `chain.family`) and loads that chain's manifest.
pub async fn load_manifest(config: &Config) -> anyhow::Result<Manifest> {
    let timeout = Duration::from_millis(config.indexer.rpc_timeout_ms);
    let chain_id = match config.chain.family {
        Family::Evm => crate::chain::evm::chain_id_at(&config.chain.rpc_url, timeout)
            .await
            .context("cannot read the chain id of chain.rpc_url")?,
        Family::Starknet => {
            let network = crate::chain::starknet::network_at(&config.chain.rpc_url, timeout)
                .await
                .context("cannot read the chain id of chain.rpc_url")?;
            crate::domain::ChainId::of_starknet(&network).0
        }
    };
    let path = Manifest::path_for(&config.chain.deployments_dir, chain_id);
    let manifest = Manifest::load(&path).with_context(|| {
        format!(
            "chain {chain_id} has no usable deployment manifest; deploy with scripts/deploy first"
        )
    })?;
    if manifest.family() != config.chain.family {
        anyhow::bail!(
            "{} is a {} deployment but chain.family is {}",
            path.display(),
            manifest.family(),
            config.chain.family
        );
    }
    Ok(manifest)
}

/// Connects to the chain of `config` for the contracts of `manifest`, by the manifest's family.
pub async fn connect_chain(config: &Config, manifest: &Manifest) -> anyhow::Result<AnyChain> {
    let timeout = Duration::from_millis(config.indexer.rpc_timeout_ms);
    let url = &config.chain.rpc_url;
    let chain = match manifest.family() {
        Family::Evm => EvmChain::connect(url, manifest, timeout)
            .await
            .map(AnyChain::Evm),
        Family::Starknet => StarknetChain::connect(url, manifest, config.chain.finality, timeout)
            .await
            .map(AnyChain::Starknet),
    };
    chain.with_context(|| format!("cannot use the chain at {}", redact_rpc_url(url)))
}

/// The DA router of `config` over `pool`.
fn start_da(config: &Config, pool: &PgPool) -> anyhow::Result<Arc<DaRouter>> {
    let da = crate::da::from_config(&config.da, pool.clone())
        .context("cannot set up the DA layers ([da])")?;
    info!(
        target: "accord::coordinator",
        primary = da.primary().name(),
        secondary = da.secondary().map(|s| s.name()),
        "DA layers ready"
    );
    Ok(Arc::new(da))
}

/// How long a shutdown waits for the tasks to stop, all together, before it aborts the rest.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);

/// Reconciles pending blobs every `interval_secs` (0: never) until `cancel`. A failed run is logged and retried
/// at the next tick; it never stops the coordinator.
async fn reconcile_every(da: Arc<DaRouter>, interval_secs: u64, cancel: CancellationToken) {
    if interval_secs == 0 {
        return;
    }
    let mut ticks = tokio::time::interval(Duration::from_secs(interval_secs));
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match da.reconcile(|_| {}).await {
            Ok(r) if r.published + r.still_pending > 0 => info!(
                target: "accord::da",
                published = r.published,
                still_pending = r.still_pending,
                "reconciled pending blobs"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(target: "accord::da", error = %e, "reconciling pending blobs failed")
            }
        }
    }
}

/// A running coordinator.
pub struct Coordinator {
    /// Where the API listens.
    pub api_addr: SocketAddr,
    /// The indexer's progress.
    pub status: watch::Receiver<Status>,
    /// The index database.
    pub pool: PgPool,
    /// The deployment served.
    pub manifest: Manifest,
    cancel: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Coordinator {
    /// Connects to the chain and the database, runs the migrations, binds the API and starts the indexer, the
    /// API and, with a `signer` (the coordinator's wallet) and `scheduler.enabled`, the scheduler. Every failure
    /// here names what could not be reached.
    ///
    /// Several replicas may run against one database: one indexes and one schedules (each holds an advisory
    /// lock), the others serve the API and stand by to take over.
    pub async fn start(config: Config, signer: Option<CoordinatorKey>) -> anyhow::Result<Self> {
        config.validate()?;
        let manifest = load_manifest(&config).await?;
        let chain = connect_chain(&config, &manifest).await?;
        match manifest.family() {
            Family::Evm => {
                let writer = match signer {
                    Some(CoordinatorKey::Starknet { .. }) if config.scheduler.enabled => {
                        anyhow::bail!(
                            "the coordinator key is a Starknet account but chain {} is an EVM chain",
                            manifest.chain_id
                        )
                    }
                    Some(CoordinatorKey::Evm(key)) if config.scheduler.enabled => Some(
                        EvmCoordinator::connect(
                            &config.chain.rpc_url,
                            key,
                            &manifest,
                            config.scheduler.batch_base_gas,
                            config.scheduler.gas_per_assignment,
                        )
                        .await?,
                    ),
                    _ => None,
                };
                Self::start_on(config, manifest, chain, writer).await
            }
            Family::Starknet => {
                let writer = match signer {
                    Some(CoordinatorKey::Starknet { account, key }) if config.scheduler.enabled => {
                        let provider =
                            crate::chain::starknet::signer::provider(&config.chain.rpc_url)?;
                        let signer = crate::chain::starknet::signer::signer(
                            provider,
                            account,
                            key.secret_scalar(),
                        )
                        .await?;
                        Some(StarknetCoordinator::new(signer, &manifest)?)
                    }
                    Some(CoordinatorKey::Evm(_)) if config.scheduler.enabled => anyhow::bail!(
                        "the coordinator key is an EVM key but chain {} is on Starknet",
                        manifest.chain_id
                    ),
                    _ => None,
                };
                Self::start_on(config, manifest, chain, writer).await
            }
        }
    }

    /// Starts the parts on one chain: `chain` is read by the indexer, `writer` (when the scheduler runs) sends
    /// the coordinator's transactions.
    async fn start_on<C, W>(
        config: Config,
        manifest: Manifest,
        chain: C,
        writer: Option<W>,
    ) -> anyhow::Result<Self>
    where
        C: Chain + Clone + 'static,
        W: CoordinatorChain,
    {
        let pool =
            crate::store::connect(&config.database.url, config.database.max_connections).await?;
        let listener = tokio::net::TcpListener::bind(config.api.listen)
            .await
            .with_context(|| format!("cannot listen on {} (api.listen)", config.api.listen))?;
        let api_addr = listener.local_addr()?;

        let da = start_da(&config, &pool)?;
        let (status_tx, status) = watch::channel(Status::default());
        let (events, _) = broadcast::channel(4096);
        let indexer = Indexer::new(
            chain,
            pool.clone(),
            config.indexer.clone(),
            manifest.deploy_block,
            status_tx,
            events.clone(),
        )
        .standby();
        let (scheduler, scheduler_status) = match writer {
            Some(writer) => {
                let (scheduler, report) = Scheduler::new(
                    pool.clone(),
                    manifest.chain_id,
                    writer,
                    config.scheduler.clone(),
                    status.clone(),
                );
                (Some(scheduler), report)
            }
            None => {
                info!(target: "accord::coordinator", "no coordinator signer given (or the scheduler is disabled): the scheduler does not run here");
                (None, watch::channel(SchedulerStatus::default()).1)
            }
        };
        let state = AppState {
            pool: pool.clone(),
            chain_id: manifest.chain_id,
            manifest: manifest.clone(),
            status: status.clone(),
            events,
            config: config.api.clone(),
            metrics: prometheus(),
            scheduler: scheduler_status,
            da: da.clone(),
            da_config: config.da.clone(),
            verifier: crate::chain::offchain_verifier(&manifest, &config.chain.rpc_url),
        };

        // Stopped in this order: the API first (no answer from a half-stopped process), then the scheduler (its
        // sends finish recording), then the indexer, then the DA reconciler; the pool closes after them.
        let mut tasks = Supervisor::new();
        tasks.spawn("API server", |stop| async move {
            api::serve(listener, state, stop).await.map_err(Into::into)
        });
        if let Some(scheduler) = scheduler {
            tasks.spawn("scheduler", |stop| async move {
                scheduler.run(stop).await.map_err(Into::into)
            });
        }
        tasks.spawn("indexer", |stop| async move {
            indexer.run(stop).await.map_err(Into::into)
        });
        let reconcile_secs = config.da.reconcile_interval_secs;
        if reconcile_secs > 0 {
            tasks.spawn("DA reconciler", |stop| async move {
                reconcile_every(da, reconcile_secs, stop).await;
                Ok(())
            });
        }
        let cancel = CancellationToken::new();
        let task = tokio::spawn(tasks.run(cancel.clone(), SHUTDOWN_GRACE));
        info!(target: "accord::coordinator", %api_addr, chain_id = manifest.chain_id, "coordinator started");
        Ok(Self {
            api_addr,
            status,
            pool,
            manifest,
            cancel,
            task,
        })
    }

    /// A token that stops the coordinator when cancelled.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Waits until the indexer has caught up with the head (or fails, or `timeout` passes).
    pub async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let waited = tokio::time::timeout(
            timeout,
            self.status.wait_for(|s| s.caught_up || s.halted.is_some()),
        )
        .await
        .map(|r| r.map(|s| s.halted.clone()));
        match waited {
            Ok(Ok(None)) => Ok(()),
            Ok(Ok(Some(why))) => anyhow::bail!("indexer halted: {why}"),
            Ok(Err(_)) => anyhow::bail!("indexer stopped before catching up"),
            Err(_) => anyhow::bail!("indexer did not catch up within {} s", timeout.as_secs()),
        }
    }

    /// Stops everything and waits for it.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.cancel.cancel();
        self.wait().await
    }

    /// Waits until the coordinator ends (after a failure or a cancellation).
    pub async fn wait(self) -> anyhow::Result<()> {
        let result = self.task.await.context("coordinator task panicked")?;
        self.pool.close().await;
        result
    }
}

/// What a backfill-only run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IndexStats {
    /// First block of this run (the cursor it started after).
    pub from_block: u64,
    /// Last block indexed.
    pub to_block: u64,
    /// Events stored by this run.
    pub events: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Events per second.
    pub events_per_second: f64,
}

/// Runs the indexer alone (no API) until it has caught up with the head, then returns what it did.
pub async fn index_until_caught_up(
    config: &Config,
    cancel: CancellationToken,
) -> anyhow::Result<IndexStats> {
    let manifest = load_manifest(config).await?;
    let chain = connect_chain(config, &manifest).await?;
    let pool = crate::store::connect(&config.database.url, config.database.max_connections).await?;
    let count = |pool: PgPool| async move {
        crate::store::raw::count(&pool, manifest.chain_id as i64).await
    };
    let before = count(pool.clone()).await? as u64;
    let from_block = crate::store::cursor::read(&pool, manifest.chain_id as i64)
        .await?
        .map(|c| c.block_number);
    let (status_tx, mut status) = watch::channel(Status::default());
    let (events, _) = broadcast::channel(1);
    let indexer = Indexer::new(
        chain,
        pool.clone(),
        config.indexer.clone(),
        manifest.deploy_block,
        status_tx,
        events,
    );
    let started = std::time::Instant::now();
    let stop = cancel.child_token();
    let task = tokio::spawn(indexer.run(stop.clone()));
    let caught_up = status
        .wait_for(|s| s.caught_up || s.halted.is_some())
        .await
        .map(|s| s.clone());
    let seconds = started.elapsed().as_secs_f64();
    stop.cancel();
    task.await.context("indexer task panicked")??;
    let s = caught_up.map_err(|_| anyhow::anyhow!("indexer stopped before catching up"))?;
    if let Some(why) = s.halted {
        anyhow::bail!("indexer halted: {why}");
    }
    let events = count(pool.clone()).await? as u64 - before;
    pool.close().await;
    Ok(IndexStats {
        from_block: from_block.map_or(manifest.deploy_block.saturating_sub(1), |b| b as u64),
        to_block: s.indexed,
        events,
        seconds,
        events_per_second: events as f64 / seconds.max(1e-9),
    })
}

/// Serves the REST API from an index another process maintains (a read replica): no chain connection. The
/// chain is the one the index's cursor belongs to; `/v1/status` reports the cursor, refreshed every second.
pub async fn start_api_only(
    config: Config,
) -> anyhow::Result<(
    SocketAddr,
    CancellationToken,
    JoinHandle<anyhow::Result<()>>,
)> {
    let pool = crate::store::connect(&config.database.url, config.database.max_connections).await?;
    let chains = crate::store::cursor::chains(&pool).await?;
    let &[crate::store::cursor::ChainCursor { chain_id, .. }] = chains.as_slice() else {
        anyhow::bail!(
            "--api-only needs an index of exactly one chain; this database has {}",
            chains.len()
        );
    };
    let chain_id = chain_id as u64;
    let path = Manifest::path_for(&config.chain.deployments_dir, chain_id);
    let manifest = Manifest::load(&path)
        .with_context(|| format!("chain {chain_id} has no deployment manifest"))?;
    let listener = tokio::net::TcpListener::bind(config.api.listen)
        .await
        .with_context(|| format!("cannot listen on {} (api.listen)", config.api.listen))?;
    let addr = listener.local_addr()?;
    let (status_tx, status) = watch::channel(Status {
        chain_id,
        confirmations: config.indexer.confirmations,
        ..Status::default()
    });
    let (events, _) = broadcast::channel(16);
    let da = start_da(&config, &pool)?;
    let state = AppState {
        pool: pool.clone(),
        chain_id,
        verifier: crate::chain::offchain_verifier(&manifest, &config.chain.rpc_url),
        manifest,
        status,
        events,
        config: config.api.clone(),
        metrics: prometheus(),
        scheduler: watch::channel(SchedulerStatus::default()).1,
        da,
        da_config: config.da.clone(),
    };
    let cancel = CancellationToken::new();
    let (c1, c2) = (cancel.clone(), cancel.clone());
    let task = tokio::spawn(async move {
        let refresh = tokio::spawn(async move {
            loop {
                if let Some((block, halted)) =
                    crate::indexer::stored_state(&pool, chain_id as i64).await
                {
                    // Ready once the indexer has no deferred index left to build (see store::bulk).
                    let deferred = crate::store::bulk::any_deferred(&pool)
                        .await
                        .unwrap_or(true);
                    status_tx.send_modify(|s| {
                        s.indexed = block as u64;
                        s.head = s.head.max(block as u64);
                        s.caught_up = !deferred && halted.is_none();
                        s.halted = halted;
                    });
                }
                tokio::select! {
                    _ = c1.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        });
        let served = api::serve(listener, state, c2)
            .await
            .context("API server failed");
        refresh.abort();
        served
    });
    info!(target: "accord::coordinator", %addr, chain_id, "serving the API from the index only");
    Ok((addr, cancel, task))
}
