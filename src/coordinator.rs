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
use crate::chain::{AnyChain, CoordinatorKey, redact_rpc_url};
use crate::config::{ChainConfig, Config};
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

/// Asks the node of `chain` for its chain id (by its family) and loads that chain's manifest.
pub async fn load_manifest(config: &Config, chain: &ChainConfig) -> anyhow::Result<Manifest> {
    let timeout = Duration::from_millis(config.indexer.rpc_timeout_ms);
    let url = redact_rpc_url(&chain.rpc_url);
    let chain_id = match chain.family {
        Family::Evm => crate::chain::evm::chain_id_at(&chain.rpc_url, timeout)
            .await
            .with_context(|| format!("cannot read the chain id of {url}"))?,
        Family::Starknet => {
            let network = crate::chain::starknet::network_at(&chain.rpc_url, timeout)
                .await
                .with_context(|| format!("cannot read the chain id of {url}"))?;
            crate::domain::ChainId::of_starknet(&network).0
        }
    };
    let path = Manifest::path_for(&chain.deployments_dir, chain_id);
    let manifest = Manifest::load(&path).with_context(|| {
        format!(
            "chain {chain_id} (at {url}) has no usable deployment manifest; deploy with scripts/deploy first"
        )
    })?;
    if manifest.family() != chain.family {
        anyhow::bail!(
            "{} is a {} deployment but the chain at {url} is configured as {}",
            path.display(),
            manifest.family(),
            chain.family
        );
    }
    Ok(manifest)
}

/// Connects to `chain` for the contracts of `manifest`, by the manifest's family.
pub async fn connect_chain(
    config: &Config,
    chain: &ChainConfig,
    manifest: &Manifest,
) -> anyhow::Result<AnyChain> {
    let timeout = Duration::from_millis(config.indexer.rpc_timeout_ms);
    let url = &chain.rpc_url;
    let connected = match manifest.family() {
        Family::Evm => EvmChain::connect(url, manifest, timeout)
            .await
            .map(AnyChain::Evm),
        Family::Starknet => StarknetChain::connect(url, manifest, chain.finality, timeout)
            .await
            .map(AnyChain::Starknet),
    };
    connected.with_context(|| format!("cannot use the chain at {}", redact_rpc_url(url)))
}

/// The only chain `config` serves, for the commands that work on one (`accord index`, `accord rebuild`), or the
/// one `select` names (a CAIP-2 name or chain id) among several.
pub async fn chain_of<'a>(
    config: &'a Config,
    select: Option<&str>,
) -> anyhow::Result<(&'a ChainConfig, Manifest)> {
    let served = config.served_chains();
    if let [only] = served
        && select.is_none()
    {
        return Ok((only, load_manifest(config, only).await?));
    }
    let Some(select) = select else {
        anyhow::bail!(
            "the configuration lists {} chains: name one with --chain (its CAIP-2 name or chain id)",
            served.len()
        );
    };
    let mut names = Vec::new();
    for chain in served {
        let manifest = load_manifest(config, chain).await?;
        if manifest.caip2() == select || manifest.chain_id.to_string() == select {
            return Ok((chain, manifest));
        }
        names.push(manifest.caip2());
    }
    anyhow::bail!(
        "--chain {select} is none of the chains configured: {}",
        names.join(", ")
    )
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

/// Results checked per pass of the DA checker (new ones, then as many re-checks).
const CHECKS_PER_PASS: i64 = 200;

/// Runs a DA check pass ([`crate::da::check::check_pass`]) every `interval_secs` until `cancel`, at once again
/// while a pass finds more than it can take.
async fn check_every(
    da: Arc<DaRouter>,
    pool: PgPool,
    interval_secs: u64,
    recheck_secs: u64,
    cancel: CancellationToken,
) {
    loop {
        let recheck_before = crate::offchain::unix_now().saturating_sub(recheck_secs) as i64;
        let pass = tokio::select! {
            _ = cancel.cancelled() => return,
            pass = crate::da::check::check_pass(&da, &pool, recheck_before, CHECKS_PER_PASS) => pass,
        };
        let more = match pass {
            Ok(p) => {
                if p.new + p.rechecked > 0 {
                    tracing::debug!(target: "accord::da", new = p.new, rechecked = p.rechecked, "checked committed results");
                }
                p.new as i64 == CHECKS_PER_PASS || p.rechecked as i64 == CHECKS_PER_PASS
            }
            Err(e) => {
                tracing::warn!(target: "accord::da", error = %e, "checking committed results failed");
                false
            }
        };
        let wait = if more {
            Duration::ZERO
        } else {
            Duration::from_secs(interval_secs)
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

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

/// One chain a coordinator serves.
pub struct RunningChain {
    /// Its deployment.
    pub manifest: Manifest,
    /// Its indexer's progress.
    pub status: watch::Receiver<Status>,
}

/// A running coordinator.
pub struct Coordinator {
    /// Where the API listens.
    pub api_addr: SocketAddr,
    /// The first chain's indexer's progress (`chains[0].status`).
    pub status: watch::Receiver<Status>,
    /// The index database.
    pub pool: PgPool,
    /// The first chain's deployment (`chains[0].manifest`).
    pub manifest: Manifest,
    /// Every chain served, in the configured order.
    pub chains: Vec<RunningChain>,
    cancel: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

/// A chain's scheduler, ready to run: its task and the receiver of its reports.
type SchedulerTask = (
    Box<
        dyn FnOnce(CancellationToken) -> futures::future::BoxFuture<'static, anyhow::Result<()>>
            + Send,
    >,
    watch::Receiver<SchedulerStatus>,
);

/// The scheduler of `chain_id` acting through `writer`.
fn scheduler_task<W: CoordinatorChain>(
    pool: &PgPool,
    chain_id: u64,
    writer: W,
    config: &Config,
    index: watch::Receiver<Status>,
) -> SchedulerTask {
    let (scheduler, report) = Scheduler::new(
        pool.clone(),
        chain_id,
        writer,
        config.scheduler.clone(),
        index,
    );
    let run = Box::new(move |stop: CancellationToken| {
        Box::pin(async move { scheduler.run(stop).await.map_err(Into::into) })
            as futures::future::BoxFuture<'static, anyhow::Result<()>>
    });
    (run, report)
}

/// The coordinator's account on one chain: the key of its family, when one is given.
enum Writer {
    Evm(EvmCoordinator),
    Starknet(Box<StarknetCoordinator>),
}

/// Connects the coordinator's account for `manifest` from the key of its family among `keys`, if any.
async fn writer_for(
    config: &Config,
    chain: &ChainConfig,
    manifest: &Manifest,
    keys: &[CoordinatorKey],
) -> anyhow::Result<Option<Writer>> {
    for key in keys {
        match (manifest.family(), key) {
            (Family::Evm, CoordinatorKey::Evm(key)) => {
                let writer = EvmCoordinator::connect(
                    &chain.rpc_url,
                    key.clone(),
                    manifest,
                    config.scheduler.batch_base_gas,
                    config.scheduler.gas_per_assignment,
                )
                .await?;
                return Ok(Some(Writer::Evm(writer)));
            }
            (Family::Starknet, CoordinatorKey::Starknet { account, key }) => {
                let provider = crate::chain::starknet::signer::provider(&chain.rpc_url)?;
                let signer =
                    crate::chain::starknet::signer::signer(provider, *account, key.secret_scalar())
                        .await?;
                return Ok(Some(Writer::Starknet(Box::new(StarknetCoordinator::new(
                    signer, manifest,
                )?))));
            }
            _ => {}
        }
    }
    Ok(None)
}

/// One chain connected and ready to start.
struct Prepared {
    config: ChainConfig,
    manifest: Manifest,
    chain: AnyChain,
    writer: Option<Writer>,
}

impl Coordinator {
    /// Connects to every chain configured and to the database, runs the migrations, binds the API and starts, per
    /// chain, the indexer and (when `scheduler.enabled` and `keys` hold a key of the chain's family: the
    /// coordinator's account there) the scheduler; one API serves them all. Every failure here names what could
    /// not be reached.
    ///
    /// Several replicas may run against one database: per chain, one indexes and one schedules (each holds an
    /// advisory lock), the others serve the API and stand by to take over.
    pub async fn start(
        config: Config,
        keys: impl IntoIterator<Item = CoordinatorKey>,
    ) -> anyhow::Result<Self> {
        config.validate()?;
        let keys: Vec<CoordinatorKey> = keys.into_iter().collect();
        let mut prepared: Vec<Prepared> = Vec::new();
        for chain_config in config.served_chains() {
            let manifest = load_manifest(&config, chain_config).await?;
            if let Some(twin) = prepared
                .iter()
                .find(|p| p.manifest.chain_id == manifest.chain_id)
            {
                anyhow::bail!(
                    "{} and {} both reach chain {}: list each chain once",
                    redact_rpc_url(&twin.config.rpc_url),
                    redact_rpc_url(&chain_config.rpc_url),
                    manifest.caip2()
                );
            }
            let chain = connect_chain(&config, chain_config, &manifest).await?;
            let writer = if config.scheduler.enabled {
                writer_for(&config, chain_config, &manifest, &keys).await?
            } else {
                None
            };
            prepared.push(Prepared {
                config: chain_config.clone(),
                manifest,
                chain,
                writer,
            });
        }
        if config.scheduler.enabled
            && let Some(key) = keys
                .iter()
                .find(|k| !prepared.iter().any(|p| p.manifest.family() == k.family()))
        {
            let chains: Vec<String> = prepared.iter().map(|p| p.manifest.caip2()).collect();
            anyhow::bail!(
                "the coordinator key is for {} chains, but the chains served are {}",
                key.family(),
                chains.join(", ")
            );
        }
        Self::start_on(config, prepared).await
    }

    /// Starts the parts on the prepared chains: per chain an indexer and, with a writer, a scheduler; one API.
    async fn start_on(config: Config, prepared: Vec<Prepared>) -> anyhow::Result<Self> {
        let pool =
            crate::store::connect(&config.database.url, config.database.max_connections).await?;
        let listener = tokio::net::TcpListener::bind(config.api.listen)
            .await
            .with_context(|| format!("cannot listen on {} (api.listen)", config.api.listen))?;
        let api_addr = listener.local_addr()?;

        let da = start_da(&config, &pool)?;
        let (events, _) = broadcast::channel(4096);
        let mut indexers = Vec::new();
        let mut schedulers = Vec::new();
        let mut served = Vec::new();
        let mut running = Vec::new();
        for p in prepared {
            let name = p.manifest.caip2();
            let (status_tx, status) = watch::channel(Status::default());
            let indexer = Indexer::new(
                p.chain,
                pool.clone(),
                config.indexer.clone(),
                p.manifest.deploy_block,
                status_tx,
                events.clone(),
            )
            .standby();
            indexers.push((name.clone(), indexer));
            let chain_id = p.manifest.chain_id;
            let scheduler = match p.writer {
                Some(Writer::Evm(w)) => {
                    Some(scheduler_task(&pool, chain_id, w, &config, status.clone()))
                }
                Some(Writer::Starknet(w)) => {
                    Some(scheduler_task(&pool, chain_id, *w, &config, status.clone()))
                }
                None => {
                    info!(target: "accord::coordinator", chain = %name, "no coordinator key for this chain (or the scheduler is disabled): its scheduler does not run here");
                    None
                }
            };
            let mut chain =
                crate::api::ServedChain::new(p.manifest.clone(), status.clone(), &p.config.rpc_url);
            if let Some((run, report)) = scheduler {
                chain.scheduler = report;
                schedulers.push((name, run));
            }
            served.push(chain);
            running.push(RunningChain {
                manifest: p.manifest,
                status,
            });
        }
        let publisher = config.stream.enabled().then(|| {
            crate::stream::Publisher::new(
                pool.clone(),
                config.stream.clone(),
                running
                    .iter()
                    .map(|c| (c.manifest.chain_id, c.manifest.caip2())),
                events.subscribe(),
            )
        });
        let state = AppState {
            pool: pool.clone(),
            chains: served,
            stream: publisher.as_ref().map(|(_, status)| status.clone()),
            events,
            config: config.api.clone(),
            metrics: prometheus(),
            da: da.clone(),
            da_config: config.da.clone(),
        };

        // Stopped in this order: the API first (no answer from a half-stopped process), then the schedulers (their
        // sends finish recording), then the indexers, then the DA reconciler; the pool closes after them.
        let several = running.len() > 1;
        let named = |what: &str, chain: &str| {
            if several {
                format!("{what} of {chain}")
            } else {
                what.to_owned()
            }
        };
        let mut tasks = Supervisor::new();
        tasks.spawn("API server", |stop| async move {
            api::serve(listener, state, stop).await.map_err(Into::into)
        });
        for (chain, run) in schedulers {
            tasks.spawn(named("scheduler", &chain), run);
        }
        for (chain, indexer) in indexers {
            tasks.spawn(named("indexer", &chain), |stop| async move {
                indexer.run(stop).await.map_err(Into::into)
            });
        }
        if let Some((publisher, _)) = publisher {
            tasks.spawn("event stream publisher", |stop| publisher.run(stop));
        }
        let check_secs = config.da.check_interval_secs;
        if check_secs > 0 {
            let (da, pool, recheck) = (da.clone(), pool.clone(), config.da.recheck_secs);
            tasks.spawn("DA checker", move |stop| async move {
                check_every(da, pool, check_secs, recheck, stop).await;
                Ok(())
            });
        }
        let reconcile_secs = config.da.reconcile_interval_secs;
        if reconcile_secs > 0 {
            tasks.spawn("DA reconciler", |stop| async move {
                reconcile_every(da, reconcile_secs, stop).await;
                Ok(())
            });
        }
        let cancel = CancellationToken::new();
        let task = tokio::spawn(tasks.run(cancel.clone(), SHUTDOWN_GRACE));
        let names: Vec<String> = running.iter().map(|c| c.manifest.caip2()).collect();
        info!(target: "accord::coordinator", %api_addr, chains = %names.join(", "), "coordinator started");
        Ok(Self {
            api_addr,
            status: running[0].status.clone(),
            manifest: running[0].manifest.clone(),
            chains: running,
            pool,
            cancel,
            task,
        })
    }

    /// A token that stops the coordinator when cancelled.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Waits until every chain's indexer has caught up with its head (or one fails, or `timeout` passes).
    pub async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        for chain in &mut self.chains {
            let name = chain.manifest.caip2();
            let waited = tokio::time::timeout_at(
                deadline,
                chain.status.wait_for(|s| s.caught_up || s.halted.is_some()),
            )
            .await
            .map(|r| r.map(|s| s.halted.clone()));
            match waited {
                Ok(Ok(None)) => {}
                Ok(Ok(Some(why))) => anyhow::bail!("the indexer of {name} halted: {why}"),
                Ok(Err(_)) => anyhow::bail!("the indexer of {name} stopped before catching up"),
                Err(_) => anyhow::bail!(
                    "the indexer of {name} did not catch up within {} s",
                    timeout.as_secs()
                ),
            }
        }
        Ok(())
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

/// Runs the indexer of one chain (the only one configured, or the one `select` names) alone, with no API, until
/// it has caught up with the head, then returns what it did.
pub async fn index_until_caught_up(
    config: &Config,
    select: Option<&str>,
    cancel: CancellationToken,
) -> anyhow::Result<IndexStats> {
    let (chain_config, manifest) = chain_of(config, select).await?;
    let chain = connect_chain(config, chain_config, &manifest).await?;
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
/// chains are those the index holds cursors of; `/v1/status` reports each cursor, refreshed every second.
pub async fn start_api_only(
    config: Config,
) -> anyhow::Result<(
    SocketAddr,
    CancellationToken,
    JoinHandle<anyhow::Result<()>>,
)> {
    let pool = crate::store::connect(&config.database.url, config.database.max_connections).await?;
    let cursors = crate::store::cursor::chains(&pool).await?;
    if cursors.is_empty() {
        anyhow::bail!(
            "--api-only needs an index some coordinator has written; this database has none"
        );
    }
    let listener = tokio::net::TcpListener::bind(config.api.listen)
        .await
        .with_context(|| format!("cannot listen on {} (api.listen)", config.api.listen))?;
    let addr = listener.local_addr()?;
    // Each chain of the index is served with the manifest found in one of the configured deployments folders;
    // its node (for Starknet signature checks) is that configured chain's.
    let mut chains = Vec::new();
    let mut refresh = Vec::new();
    for cursor in &cursors {
        let chain_id = cursor.chain_id as u64;
        let found = config.served_chains().iter().find_map(|c| {
            let path = Manifest::path_for(&c.deployments_dir, chain_id);
            let manifest = Manifest::load(&path).ok()?;
            (manifest.family() == c.family).then_some((c, manifest))
        });
        let (chain_config, manifest) = found.with_context(|| {
            format!("chain {chain_id} of the index has no deployment manifest in the configured deployments folders")
        })?;
        let (status_tx, status) = watch::channel(Status {
            chain_id,
            confirmations: config.indexer.confirmations,
            ..Status::default()
        });
        chains.push(crate::api::ServedChain::new(
            manifest,
            status,
            &chain_config.rpc_url,
        ));
        refresh.push((cursor.chain_id, status_tx));
    }
    let (events, _) = broadcast::channel(16);
    let da = start_da(&config, &pool)?;
    let names: Vec<String> = chains.iter().map(|c| c.manifest.caip2()).collect();
    let state = AppState {
        pool: pool.clone(),
        chains,
        events,
        stream: None,
        config: config.api.clone(),
        metrics: prometheus(),
        da,
        da_config: config.da.clone(),
    };
    let cancel = CancellationToken::new();
    let (c1, c2) = (cancel.clone(), cancel.clone());
    let task = tokio::spawn(async move {
        let refresh = tokio::spawn(async move {
            loop {
                // Ready once the indexer has no deferred index left to build (see store::bulk).
                let deferred = crate::store::bulk::any_deferred(&pool)
                    .await
                    .unwrap_or(true);
                for (chain_id, status_tx) in &refresh {
                    if let Some((block, halted)) =
                        crate::indexer::stored_state(&pool, *chain_id).await
                    {
                        status_tx.send_modify(|s| {
                            s.indexed = block as u64;
                            s.head = s.head.max(block as u64);
                            s.caught_up = !deferred && halted.is_none();
                            s.halted = halted;
                        });
                    }
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
    info!(target: "accord::coordinator", %addr, chains = %names.join(", "), "serving the API from the index only");
    Ok((addr, cancel, task))
}
