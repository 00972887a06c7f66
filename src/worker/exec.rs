//! Runs a job's command contained ([`super::sandbox`]): no stdin, a cleared environment, a private scratch
//! folder, resource limits, a wall-clock limit and a cap on the output kept. When the command exits, hits a
//! limit or the run is abandoned, everything it started is killed with it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::sandbox::{Isolation, Limits, Scratch};
use crate::spec::JobSpec;

/// How long the output may stay open after the command exited (only an unconfined job's escaped process
/// can hold it: a sandboxed job's processes die with its PID namespace).
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// A finished run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Everything the command wrote to stdout: the result published to DA.
    pub stdout: Vec<u8>,
    /// Exit code (None when killed by a signal).
    pub exit_code: Option<i32>,
}

/// Why a run produced no result.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The program could not be started.
    #[error("cannot start '{program}': {reason}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        reason: String,
    },
    /// The command ran past its time limit and was killed.
    #[error("killed after the {} s time limit", .0.as_secs())]
    Timeout(Duration),
    /// The command wrote more than the output limit and was killed.
    #[error("killed after writing more than {0} bytes to stdout")]
    TooLarge(u64),
    /// A process the command started kept its output open after it exited (unconfined runs only).
    #[error("a process the command started kept its output open after it exited; it was killed")]
    Detached,
    /// Reading its output or preparing its folder failed.
    #[error("running the job failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs job commands with the worker's containment and limits.
#[derive(Debug, Clone)]
pub struct Runner {
    /// How jobs are contained.
    pub isolation: Isolation,
    /// Their resource limits.
    pub limits: Limits,
    /// Longest run allowed, whatever the spec asks.
    pub max_timeout: Duration,
    /// Largest output kept, whatever the spec asks.
    pub max_output: u64,
    /// Where scratch folders are created (each job gets a fresh one, removed after the run).
    pub scratch_root: PathBuf,
}

impl Runner {
    /// A runner with the default limits and scratch folders in the system's temporary folder.
    pub fn new(isolation: Isolation, max_timeout: Duration, max_output: u64) -> Self {
        Self {
            isolation,
            limits: Limits::default(),
            max_timeout,
            max_output,
            scratch_root: std::env::temp_dir(),
        }
    }

    /// Runs `spec` (named `name` in its scratch folder's name) with the smaller of the spec's and the
    /// worker's limits.
    pub async fn run(&self, spec: &JobSpec, name: &str) -> Result<Output, Error> {
        let timeout = spec.timeout_secs.map_or(self.max_timeout, |s| {
            Duration::from_secs(s).min(self.max_timeout)
        });
        let limit = spec
            .max_output_bytes
            .map_or(self.max_output, |b| b.min(self.max_output));
        let scratch = Scratch::create(&self.scratch_root, name, &self.isolation)?;
        let mut child = self
            .isolation
            .command(&spec.command, &scratch.path, &self.limits)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::Spawn {
                program: spec.command[0].clone(),
                reason: e.to_string(),
            })?;
        // Every exit from here, timeout and drop included, kills the whole process group.
        let pgid = child.id();
        let _group = pgid.map(ProcessGroup);
        let stdout = child.stdout.take().expect("stdout is piped");
        let work = async {
            let read = read_capped(stdout, limit);
            tokio::pin!(read);
            let (out, status) = tokio::select! {
                out = &mut read => (out?, child.wait().await?),
                status = child.wait() => {
                    // The command is gone; whatever it left running goes too, then the pipe drains.
                    if let Some(pgid) = pgid { kill_group(pgid) }
                    let status = status?;
                    match tokio::time::timeout(DRAIN_GRACE, &mut read).await {
                        Ok(out) => (out?, status),
                        Err(_) => return Err(Error::Detached),
                    }
                }
            };
            let stdout = out.ok_or(Error::TooLarge(limit))?;
            // prlimit's codes for a program that is missing (127) or cannot be executed (126).
            if matches!(status.code(), Some(126 | 127)) && stdout.is_empty() {
                return Err(Error::Spawn {
                    program: spec.command[0].clone(),
                    reason: format!(
                        "exit code {}: not found or not executable{}",
                        status.code().unwrap_or_default(),
                        if matches!(self.isolation, Isolation::Bubblewrap(_)) {
                            " inside the sandbox"
                        } else {
                            ""
                        }
                    ),
                });
            }
            Ok(Output {
                stdout,
                exit_code: status.code(),
            })
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout(timeout)),
        }
        // Dropped in reverse order: the group is killed, then the child (kill_on_drop), then the scratch folder.
    }
}

/// Reads until end of file; `None` once more than `limit` bytes came (one byte over tells "exactly at the
/// limit" from "over it").
async fn read_capped(
    mut reader: impl AsyncRead + Unpin,
    limit: u64,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    (&mut reader).take(limit + 1).read_to_end(&mut out).await?;
    Ok((out.len() as u64 <= limit).then_some(out))
}

/// A job's process group, killed when dropped.
struct ProcessGroup(u32);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        kill_group(self.0);
    }
}

fn kill_group(pgid: u32) {
    // SAFETY: kill has no memory preconditions; a group already gone answers ESRCH, which is fine.
    unsafe {
        libc::kill(-(pgid as libc::pid_t), libc::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> JobSpec {
        JobSpec::new(vec!["sh".into(), "-c".into(), script.into()])
    }

    #[tokio::test]
    async fn output_exit_code_and_limits() {
        let runner =
            |max_output| Runner::new(Isolation::Unconfined, Duration::from_secs(10), max_output);
        let out = runner(100)
            .run(&sh("printf hello; exit 3"), "t")
            .await
            .unwrap();
        assert_eq!(out.stdout, b"hello");
        assert_eq!(out.exit_code, Some(3));

        let exact = runner(5).run(&sh("printf 12345"), "t").await.unwrap();
        assert_eq!(exact.stdout, b"12345");
        assert!(matches!(
            runner(5).run(&sh("printf 123456"), "t").await,
            Err(Error::TooLarge(5))
        ));

        let mut slow = sh("sleep 5");
        slow.timeout_secs = Some(1);
        let started = std::time::Instant::now();
        assert!(matches!(
            runner(5).run(&slow, "t").await,
            Err(Error::Timeout(_))
        ));
        assert!(started.elapsed() < Duration::from_secs(4));

        assert!(matches!(
            runner(5)
                .run(&JobSpec::new(vec!["/no/such/program".into()]), "t")
                .await,
            Err(Error::Spawn { .. })
        ));
    }
}
