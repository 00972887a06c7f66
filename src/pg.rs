//! A throwaway PostgreSQL cluster for the devnet and the tests: `initdb` into a fresh temporary folder, a server
//! on a free loopback port, stopped and deleted on drop. Runs the server as the `postgres` OS user when this
//! process is root (PostgreSQL refuses to run as root).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

/// Errors starting or using a temporary cluster.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No PostgreSQL server binaries were found.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or PATH; install them, e.g. `apt-get install postgresql`"
    )]
    BinariesMissing,
    /// A command could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// A command failed.
    #[error("{step} failed: {output}")]
    Failed {
        /// What was being done.
        step: &'static str,
        /// Its stderr (and stdout).
        output: String,
    },
    /// Creating a database failed.
    #[error("cannot create database {name}: {source}")]
    CreateDatabase {
        /// The database.
        name: String,
        /// Why.
        source: sqlx::Error,
    },
}

/// `pub type Result<T, E = Error>` for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A running throwaway cluster; stopped and removed on drop.
#[derive(Debug)]
pub struct TempCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

fn find_bin() -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    candidates.sort();
    if let Some(best) = candidates.pop() {
        return Ok(best);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .find(|dir| dir.join("pg_ctl").exists() && dir.join("initdb").exists())
        .ok_or(Error::BinariesMissing)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|source| Error::Spawn {
        program: "bind".into(),
        source,
    })?;
    Ok(listener
        .local_addr()
        .map_err(|source| Error::Spawn {
            program: "bind".into(),
            source,
        })?
        .port())
}

impl TempCluster {
    /// Creates and starts a cluster with a database named `accord`.
    pub async fn start() -> Result<Self> {
        let bin = find_bin()?;
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "accord-pg-{}-{}-{nanos}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let as_postgres = is_root();
        let mut cluster = Self {
            bin,
            dir,
            port: 0,
            as_postgres,
        };
        cluster.run(
            "create the data folder",
            "mkdir",
            &["-m", "700", "-p", &cluster.dir_str()],
        )?;
        let initdb = cluster.bin.join("initdb");
        cluster.run(
            "initdb",
            initdb.to_str().unwrap_or("initdb"),
            &[
                "-D",
                &cluster.dir_str(),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        )?;
        // A port can be taken between picking and binding; retry a few times.
        let mut last = None;
        for _ in 0..5 {
            cluster.port = free_port()?;
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories={} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                cluster.port,
                cluster.dir_str()
            );
            let log = cluster.dir.join("server.log");
            let pg_ctl = cluster.bin.join("pg_ctl");
            match cluster.run(
                "pg_ctl start",
                pg_ctl.to_str().unwrap_or("pg_ctl"),
                &[
                    "-D",
                    &cluster.dir_str(),
                    "-o",
                    &options,
                    "-l",
                    log.to_str().unwrap_or("server.log"),
                    "-w",
                    "-t",
                    "30",
                    "start",
                ],
            ) {
                Ok(_) => {
                    last = None;
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        if let Some(e) = last {
            return Err(e);
        }
        cluster.create_database("accord").await?;
        Ok(cluster)
    }

    fn dir_str(&self) -> String {
        self.dir.to_string_lossy().into_owned()
    }

    fn run(&self, step: &'static str, program: &str, args: &[&str]) -> Result<Output> {
        let mut cmd = if self.as_postgres {
            let mut c = Command::new(runuser());
            c.args(["-u", "postgres", "--", program]);
            c
        } else {
            Command::new(program)
        };
        cmd.args(args).current_dir(std::env::temp_dir());
        let output = cmd.output().map_err(|source| Error::Spawn {
            program: program.into(),
            source,
        })?;
        if !output.status.success() {
            let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stdout));
            return Err(Error::Failed {
                step,
                output: text.trim().to_string(),
            });
        }
        Ok(output)
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// URL of database `name` on this cluster.
    pub fn url_for(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// URL of the `accord` database.
    pub fn url(&self) -> String {
        self.url_for("accord")
    }

    /// Creates database `name` (letters, digits and underscores) and returns its URL.
    pub async fn create_database(&self, name: &str) -> Result<String> {
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "database name {name:?}"
        );
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.url_for("postgres"))
            .await
            .map_err(|source| Error::CreateDatabase {
                name: name.into(),
                source,
            })?;
        // `name` was checked above to be letters, digits and underscores.
        crate::store::schema::create_database(&mut conn, name)
            .await
            .map_err(|source| Error::CreateDatabase {
                name: name.into(),
                source,
            })?;
        Ok(self.url_for(name))
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        if self.port != 0 {
            let pg_ctl = self.bin.join("pg_ctl");
            let _ = self.run(
                "pg_ctl stop",
                pg_ctl.to_str().unwrap_or("pg_ctl"),
                &["-D", &self.dir_str(), "-m", "immediate", "-w", "stop"],
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `runuser`, from `PATH` or from the sbin folders a minimal `PATH` (cron, `env -i`) leaves out.
fn runuser() -> std::path::PathBuf {
    let in_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("runuser"));
    in_path
        .chain(["/usr/sbin/runuser", "/sbin/runuser"].map(std::path::PathBuf::from))
        .find(|p| p.is_file())
        .unwrap_or_else(|| "runuser".into())
}
