//! Runs a job's command: no stdin, a wall-clock limit, and a cap on the output kept. The child is killed when
//! either limit is hit or the run is abandoned.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::Command;

use super::spec::JobSpec;

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
    #[error("cannot start '{program}': {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The command ran past its time limit and was killed.
    #[error("killed after the {} s time limit", .0.as_secs())]
    Timeout(Duration),
    /// The command wrote more than the output limit and was killed.
    #[error("killed after writing more than {0} bytes to stdout")]
    TooLarge(u64),
    /// Reading its output failed.
    #[error("reading the output failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs `spec` in `workdir` with the smaller of the spec's and the worker's limits.
pub async fn run(
    spec: &JobSpec,
    workdir: &Path,
    max_timeout: Duration,
    max_output: u64,
) -> Result<Output, Error> {
    let timeout = spec
        .timeout_secs
        .map_or(max_timeout, |s| Duration::from_secs(s).min(max_timeout));
    let limit = spec
        .max_output_bytes
        .map_or(max_output, |b| b.min(max_output));
    let mut child = Command::new(&spec.command[0])
        .args(&spec.command[1..])
        .current_dir(workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| Error::Spawn {
            program: spec.command[0].clone(),
            source,
        })?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let work = async {
        let mut out = Vec::new();
        // One byte over the limit tells "exactly at the limit" from "over it".
        (&mut stdout).take(limit + 1).read_to_end(&mut out).await?;
        if out.len() as u64 > limit {
            return Err(Error::TooLarge(limit));
        }
        let status = child.wait().await?;
        Ok(Output {
            stdout: out,
            exit_code: status.code(),
        })
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout(timeout)),
    }
    // `child` is dropped here on every error path: kill_on_drop ends it.
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> JobSpec {
        JobSpec::new(vec!["sh".into(), "-c".into(), script.into()])
    }

    #[tokio::test]
    async fn output_exit_code_and_limits() {
        let dir = std::env::temp_dir();
        let big = Duration::from_secs(10);
        let out = run(&sh("printf hello; exit 3"), &dir, big, 100)
            .await
            .unwrap();
        assert_eq!(out.stdout, b"hello");
        assert_eq!(out.exit_code, Some(3));

        let exact = run(&sh("printf 12345"), &dir, big, 5).await.unwrap();
        assert_eq!(exact.stdout, b"12345");
        assert!(matches!(
            run(&sh("printf 123456"), &dir, big, 5).await,
            Err(Error::TooLarge(5))
        ));

        let mut slow = sh("sleep 5");
        slow.timeout_secs = Some(1);
        let started = std::time::Instant::now();
        assert!(matches!(
            run(&slow, &dir, big, 5).await,
            Err(Error::Timeout(_))
        ));
        assert!(started.elapsed() < Duration::from_secs(4));

        assert!(matches!(
            run(&JobSpec::new(vec!["/no/such/program".into()]), &dir, big, 5).await,
            Err(Error::Spawn { .. })
        ));
    }
}
