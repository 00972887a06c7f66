//! One supervisor for the coordinator's long-running tasks. Every task is named and has its own cancellation
//! token. The first task to end before shutdown (with an error, a panic, or by returning at all) stops the process,
//! and its name is in the error. Shutdown stops the tasks one at a time, in the order they were added (the API
//! first, so no request is answered from a half-stopped process, then the scheduler, then the indexer), all under
//! one timeout; what is still running when it passes is aborted.

use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

struct Task {
    name: String,
    cancel: CancellationToken,
    handle: JoinHandle<anyhow::Result<()>>,
}

/// Named tasks, stopped in the order they were added.
#[derive(Default)]
pub struct Supervisor {
    tasks: Vec<Task>,
}

impl Supervisor {
    /// An empty supervisor.
    pub fn new() -> Self {
        Self::default()
    }

    /// Spawns `run` as the task `name`; it gets the token that stops it, and should return once it is cancelled.
    pub fn spawn<F, Fut>(&mut self, name: impl Into<String>, run: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let cancel = CancellationToken::new();
        let handle = tokio::spawn(run(cancel.clone()));
        self.tasks.push(Task {
            name: name.into(),
            cancel,
            handle,
        });
    }

    /// Runs until `shutdown` is cancelled or a task ends, then stops every task in order within `grace`. The
    /// result is the first task's failure (named), a task that ended on its own, or `Ok` after a shutdown.
    pub async fn run(mut self, shutdown: CancellationToken, grace: Duration) -> anyhow::Result<()> {
        let first = if self.tasks.is_empty() {
            shutdown.cancelled().await;
            Ok(())
        } else {
            let names: Vec<String> = self.tasks.iter().map(|t| t.name.clone()).collect();
            let ended = futures::future::select_all(self.tasks.iter_mut().map(|t| &mut t.handle));
            tokio::select! {
                _ = shutdown.cancelled() => Ok(()),
                (result, i, _) = ended => {
                    let name = &names[i];
                    Err(match result {
                        Ok(Ok(())) => anyhow::anyhow!("the {name} stopped on its own"),
                        Ok(Err(e)) => e.context(format!("the {name} failed")),
                        Err(e) if e.is_panic() => anyhow::anyhow!("the {name} panicked"),
                        Err(e) => anyhow::Error::new(e).context(format!("the {name} was aborted")),
                    })
                }
            }
        };
        if let Err(e) = &first {
            warn!(target: "accord::coordinator", error = %format!("{e:#}"), "stopping everything");
        }
        self.stop(grace).await;
        first
    }

    /// Cancels and awaits each task in order; aborts what is left when `grace` has passed.
    async fn stop(self, grace: Duration) {
        let deadline = Instant::now() + grace;
        let mut tasks = self.tasks.into_iter();
        for task in tasks.by_ref() {
            task.cancel.cancel();
            if task.handle.is_finished() {
                continue;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let mut handle = task.handle;
            match tokio::time::timeout(left, &mut handle).await {
                Ok(Ok(Err(e))) => {
                    warn!(target: "accord::coordinator", task = %task.name, error = %format!("{e:#}"), "failed while stopping")
                }
                Ok(_) => info!(target: "accord::coordinator", task = %task.name, "stopped"),
                Err(_) => {
                    warn!(target: "accord::coordinator", task = %task.name, grace_secs = grace.as_secs_f64(), "did not stop in time; aborted with the rest");
                    handle.abort();
                    break;
                }
            }
        }
        for task in tasks {
            task.cancel.cancel();
            task.handle.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A task that records its name when it has been told to stop, then ends.
    fn polite(
        log: &Arc<Mutex<Vec<&'static str>>>,
        name: &'static str,
    ) -> impl FnOnce(
        CancellationToken,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send>,
    > {
        let log = log.clone();
        move |stop| {
            Box::pin(async move {
                stop.cancelled().await;
                log.lock().unwrap().push(name);
                Ok(())
            })
        }
    }

    #[tokio::test]
    async fn shutdown_stops_the_tasks_in_the_order_they_were_added() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Supervisor::new();
        for name in ["API server", "scheduler", "indexer"] {
            tasks.spawn(name, polite(&log, name));
        }
        let shutdown = CancellationToken::new();
        let run = tokio::spawn(tasks.run(shutdown.clone(), Duration::from_secs(5)));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            log.lock().unwrap().is_empty(),
            "nothing stops before shutdown"
        );
        shutdown.cancel();
        run.await.unwrap().unwrap();
        assert_eq!(*log.lock().unwrap(), ["API server", "scheduler", "indexer"]);
    }

    #[tokio::test]
    async fn a_failing_or_panicking_task_stops_everything_and_is_named() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Supervisor::new();
        tasks.spawn("API server", polite(&log, "API server"));
        tasks.spawn("indexer", |_| async { anyhow::bail!("node unreachable") });
        tasks.spawn("DA reconciler", polite(&log, "DA reconciler"));
        let err = tasks
            .run(CancellationToken::new(), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(format!("{err:#}"), "the indexer failed: node unreachable");
        assert_eq!(*log.lock().unwrap(), ["API server", "DA reconciler"]);

        let mut tasks = Supervisor::new();
        tasks.spawn("scheduler", |_| async { panic!("bug") });
        let err = tasks
            .run(CancellationToken::new(), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "the scheduler panicked");

        // Returning before shutdown is an end too: a task that should run until told otherwise stopped.
        let mut tasks = Supervisor::new();
        tasks.spawn("indexer", |_| async { Ok(()) });
        let err = tasks
            .run(CancellationToken::new(), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "the indexer stopped on its own");
    }

    #[tokio::test]
    async fn a_task_that_ignores_shutdown_is_aborted_after_the_grace() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Supervisor::new();
        tasks.spawn("API server", |_| async {
            std::future::pending::<()>().await;
            Ok(())
        });
        tasks.spawn("indexer", polite(&log, "indexer"));
        let shutdown = CancellationToken::new();
        shutdown.cancel();
        let started = Instant::now();
        tasks
            .run(shutdown, Duration::from_millis(200))
            .await
            .unwrap();
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert!(started.elapsed() < Duration::from_secs(5));
        // The stuck API held up the tasks after it; they were aborted with it, not left running.
        assert!(log.lock().unwrap().is_empty());
    }
}
