//! Job containment: what a job's command can see and how much it can take.
//!
//! A job spec comes from whoever posted the job, so the command is hostile until proven otherwise. By default
//! ([`Isolation::Bubblewrap`]) it runs under [bubblewrap](https://github.com/containers/bubblewrap) (`bwrap`,
//! Debian package `bubblewrap`):
//!
//! - **its own namespaces** for users, processes, network, IPC, host name and cgroups: it sees only its own
//!   processes (so no `/proc/<agent pid>/environ`), has no network unless the operator allows it, and holds no
//!   capability;
//! - **its own file system view**: `/usr` (and the `/bin`, `/lib`… links into it) and a few harmless `/etc`
//!   files read-only, a fresh `/proc` and `/dev`, a size-capped `/tmp`, and the job's scratch folder at
//!   `/work`, writable. The agent's keystore, password file, state folder and home are simply not there;
//! - **an empty environment** but for `PATH`, `HOME=/work`, `TMPDIR=/tmp`, `LANG` and `LC_ALL` (`C.UTF-8`) and
//!   `TZ=UTC`: the same for every run on every worker, so deterministic commands give equal bytes;
//! - **another user** when the agent runs as root: the job runs as [`Bubblewrap::run_as`] (by default
//!   `nobody`, 65534), so even a kernel bug in user namespaces leaves it unprivileged;
//! - **resource limits** (`prlimit`, set inside the sandbox): address space per process, processes in the
//!   job's user namespace, open files, file size, CPU seconds and no core dumps.
//!
//! Ending a run ends everything it started: the command runs as process 2 of its own PID namespace, and when
//! it exits (or `bwrap` is killed at a limit: `--die-with-parent`) the kernel kills every process left in that
//! namespace, so a background child cannot hold the output open or outlive the job.
//!
//! [`Isolation::Unconfined`] is the operator's explicit opt-out (`accord worker run --no-isolation`): the
//! environment is still cleared, the command still runs in its own process group (killed as a whole) with the
//! same limits except the process count, but it runs as the agent's user with the agent's view of the file
//! system, so it can read whatever the agent can. For trusted jobs on a dedicated host only.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

/// Environment of every job: nothing of the agent's.
const PATH: &str = "/usr/local/bin:/usr/bin:/bin";
const LANG: &str = "C.UTF-8";
/// Where the scratch folder appears inside the sandbox.
const WORK: &str = "/work";
/// `/etc` entries a program may need to start (the dynamic loader's cache, Debian's alternatives links,
/// certificates, names of users and groups, time zone), bound read-only when present.
const ETC: &[&str] = &[
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
];
/// Also bound when the job may use the network.
const ETC_NET: &[&str] = &["/etc/hosts", "/etc/resolv.conf", "/etc/host.conf"];

/// Resource limits of one job (each process of it, except `processes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Address space of each process, bytes (`RLIMIT_AS`).
    pub memory_bytes: u64,
    /// Processes and threads at once in the job's user namespace (`RLIMIT_NPROC`); not enforced unconfined.
    pub processes: u64,
    /// Open files of each process (`RLIMIT_NOFILE`).
    pub open_files: u64,
    /// Largest file a process may write, bytes (`RLIMIT_FSIZE`).
    pub file_bytes: u64,
    /// Size of the job's `/tmp`, bytes (a tmpfs, so it counts against memory).
    pub tmp_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 2 << 30,
            processes: 64,
            open_files: 256,
            file_bytes: 1 << 30,
            tmp_bytes: 64 << 20,
        }
    }
}

/// How jobs are contained.
#[derive(Debug, Clone)]
pub enum Isolation {
    /// Namespaces, a minimal read-only file system, another user when root (the default).
    Bubblewrap(Bubblewrap),
    /// The operator's opt-out: cleared environment, own process group and limits, nothing else.
    Unconfined,
}

/// A `bwrap` known to work on this host.
#[derive(Debug, Clone)]
pub struct Bubblewrap {
    bwrap: PathBuf,
    /// The user and group jobs run as (when the agent runs as root; `None` otherwise).
    pub run_as: Option<(u32, u32)>,
    /// Whether jobs share the host's network (they get none by default).
    pub network: bool,
}

/// Why the sandbox cannot be used; the agent refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// No `bwrap` executable.
    #[error(
        "bubblewrap (bwrap) is not installed: install it (Debian: apt-get install bubblewrap), or pass \
         --no-isolation to run jobs unconfined, where a job can read this agent's keystore and password"
    )]
    NotInstalled,
    /// No `prlimit` executable.
    #[error("prlimit (util-linux) is not installed; jobs cannot be given resource limits")]
    NoPrlimit,
    /// `--job-user` given to an agent that is not root.
    #[error("only an agent running as root can run jobs as another user (--job-user)")]
    NotRoot,
    /// `bwrap` is there but could not build a sandbox.
    #[error(
        "bubblewrap cannot create a sandbox here ({0}); unprivileged user namespaces must be enabled \
         (sysctl user.max_user_namespaces > 0, and kernel.unprivileged_userns_clone=1 where that exists), \
         or pass --no-isolation to run jobs unconfined, where a job can read this agent's keystore and password"
    )]
    Broken(String),
}

/// Finds `name` on `PATH` (the agent's, before jobs clear it).
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from(PATH));
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

impl Bubblewrap {
    /// The default job user of a root agent: `nobody`.
    pub const NOBODY: (u32, u32) = (65534, 65534);

    /// Finds `bwrap` and checks, by running a command in a sandbox, that it works here. `run_as` is for a root
    /// agent only (`None` there means [`Self::NOBODY`]).
    pub async fn detect(run_as: Option<(u32, u32)>, network: bool) -> Result<Self, Unavailable> {
        let root = is_root();
        if run_as.is_some() && !root {
            return Err(Unavailable::NotRoot);
        }
        let bwrap = which("bwrap").ok_or(Unavailable::NotInstalled)?;
        let this = Self {
            bwrap,
            run_as: root.then(|| run_as.unwrap_or(Self::NOBODY)),
            network,
        };
        let isolation = Isolation::Bubblewrap(this.clone());
        let scratch = Scratch::create(&std::env::temp_dir(), "probe", &isolation)
            .map_err(|e| Unavailable::Broken(format!("cannot create a scratch folder: {e}")))?;
        let mut probe = isolation.command(&["true".to_owned()], &scratch.path, &Limits::default());
        let out = probe
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .await
            .map_err(|e| Unavailable::Broken(e.to_string()))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            if stderr.contains("prlimit") {
                return Err(Unavailable::NoPrlimit);
            }
            return Err(Unavailable::Broken(format!(
                "bwrap exited with {}: {}",
                out.status,
                stderr.trim()
            )));
        }
        Ok(this)
    }

    fn args(&self, scratch: &Path, limits: &Limits) -> Vec<OsString> {
        let mut a: Vec<OsString> = Vec::with_capacity(96);
        let mut push = |items: &[&str]| a.extend(items.iter().map(OsString::from));
        push(&["--unshare-all"]);
        if self.network {
            push(&["--share-net"]);
        }
        push(&[
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--ro-bind",
            "/usr",
            "/usr",
        ]);
        // Merged-/usr systems link /bin, /lib… into /usr; others have real folders.
        for dir in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
            match std::fs::read_link(dir) {
                Ok(target) => {
                    a.push("--symlink".into());
                    a.push(target.into());
                    a.push(dir.into());
                }
                Err(_) if Path::new(dir).is_dir() => {
                    a.extend(["--ro-bind", dir, dir].map(OsString::from))
                }
                Err(_) => {}
            }
        }
        let etc = ETC.iter().chain(if self.network { ETC_NET } else { &[] });
        for file in etc {
            a.extend(["--ro-bind-try", file, file].map(OsString::from));
        }
        let tmp = limits.tmp_bytes.to_string();
        a.extend(
            [
                "--proc", "/proc", "--dev", "/dev", "--size", &tmp, "--tmpfs", "/tmp", "--bind",
            ]
            .map(OsString::from),
        );
        a.push(scratch.into());
        a.extend(
            [
                // Everything else, the root folder included, is read-only: nothing to fill but the capped /tmp
                // and the scratch folder.
                WORK,
                "--remount-ro",
                "/",
                "--chdir",
                WORK,
                "--clearenv",
                "--setenv",
                "PATH",
                PATH,
                "--setenv",
                "HOME",
                WORK,
                "--setenv",
                "TMPDIR",
                "/tmp",
                "--setenv",
                "LANG",
                LANG,
                "--setenv",
                "LC_ALL",
                LANG,
                "--setenv",
                "TZ",
                "UTC",
                "--",
            ]
            .map(OsString::from),
        );
        a
    }
}

impl Isolation {
    /// The command that runs `argv` contained, in `scratch`, with `limits`: no stdin, its own process group,
    /// an environment of its own.
    pub fn command(&self, argv: &[String], scratch: &Path, limits: &Limits) -> Command {
        let mut cmd = match self {
            Isolation::Bubblewrap(b) => {
                let mut cmd = Command::new(&b.bwrap);
                cmd.args(b.args(scratch, limits));
                cmd.arg("prlimit");
                cmd.arg(format!("--nproc={}", limits.processes));
                if let Some((uid, gid)) = b.run_as {
                    // std drops supplementary groups when root changes user.
                    cmd.uid(uid).gid(gid);
                }
                cmd.current_dir("/");
                cmd
            }
            Isolation::Unconfined => {
                let mut cmd = Command::new("prlimit");
                cmd.current_dir(scratch);
                cmd
            }
        };
        cmd.arg(format!("--as={}", limits.memory_bytes))
            .arg(format!("--nofile={}", limits.open_files))
            .arg(format!("--fsize={}", limits.file_bytes))
            .arg("--core=0")
            .arg("--")
            .args(argv)
            .env_clear()
            .stdin(Stdio::null())
            .process_group(0)
            .kill_on_drop(true);
        // bwrap needs no environment (it sets the job's own); the unconfined command gets the allow-list.
        if let Isolation::Unconfined = self {
            cmd.env("PATH", PATH)
                .env("HOME", scratch)
                .env("TMPDIR", scratch)
                .env("LANG", LANG)
                .env("LC_ALL", LANG)
                .env("TZ", "UTC");
        }
        cmd
    }

    /// A short description for logs and `/v1/status`-like output.
    pub fn describe(&self) -> String {
        match self {
            Isolation::Bubblewrap(b) => format!(
                "bubblewrap{}{}",
                b.run_as
                    .map(|(u, g)| format!(", as {u}:{g}"))
                    .unwrap_or_default(),
                if b.network { ", with network" } else { "" }
            ),
            Isolation::Unconfined => "none (--no-isolation)".to_owned(),
        }
    }
}

/// A job's scratch folder: fresh, private (mode 0700), owned by the job's user, removed on drop.
#[derive(Debug)]
pub struct Scratch {
    /// The folder.
    pub path: PathBuf,
}

impl Scratch {
    /// Creates `<root>/accord-job-<name>-<random>` for a job contained by `isolation`.
    pub fn create(root: &Path, name: &str, isolation: &Isolation) -> std::io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        let safe: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let nonce: u64 = rand08::random();
        let path = root.join(format!("accord-job-{safe}-{nonce:016x}"));
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        let this = Self { path };
        if let Isolation::Bubblewrap(Bubblewrap {
            run_as: Some((uid, gid)),
            ..
        }) = isolation
        {
            std::os::unix::fs::chown(&this.path, Some(*uid), Some(*gid))?;
        }
        Ok(this)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(target: "accord::worker", path = %self.path.display(), error = %e, "cannot remove a job's scratch folder");
        }
    }
}
