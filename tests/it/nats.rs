//! A real NATS server with JetStream on loopback (Debian's `nats-server`, installed by `scripts/bootstrap`), and a
//! consumer's reading of what the event stream published.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::utils::free_port;

/// `nats-server -js` on a loopback port, its store in a temporary folder; killed when dropped.
pub struct NatsServer {
    child: Option<Child>,
    /// Its port (kept across restarts).
    pub port: u16,
    store: tempfile::TempDir,
    log: PathBuf,
    /// User and password the server requires, if any.
    credentials: Option<(String, String)>,
}

/// The `nats-server` binary: on PATH, else where Debian puts it.
fn binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("nats-server"))
        .find(|p| p.is_file());
    let found = on_path.unwrap_or_else(|| PathBuf::from("/usr/sbin/nats-server"));
    assert!(
        found.is_file(),
        "nats-server is missing: scripts/bootstrap installs it (Debian package nats-server)"
    );
    found
}

impl NatsServer {
    /// Starts a server with JetStream and waits until it accepts connections.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// [`Self::start`], the server requiring `user` and `password`.
    pub fn start_with_user(user: &str, password: &str) -> Self {
        Self::start_with(Some((user.to_owned(), password.to_owned())))
    }

    fn start_with(credentials: Option<(String, String)>) -> Self {
        let store = tempfile::tempdir().unwrap();
        let log = store.path().join("nats.log");
        let mut server = Self {
            child: None,
            port: free_port(),
            store,
            log,
            credentials,
        };
        server.restart();
        server
    }

    /// `nats://[user:password@]127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        match &self.credentials {
            Some((user, password)) => format!("nats://{user}:{password}@127.0.0.1:{}", self.port),
            None => format!("nats://127.0.0.1:{}", self.port),
        }
    }

    /// Kills the server (SIGKILL): connections drop at once.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and store (what it stored survives).
    pub fn restart(&mut self) {
        self.stop();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut cmd = Command::new(binary());
        cmd.args([
            "-js",
            "-a",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-sd",
        ])
        .arg(self.store.path().join("js"));
        if let Some((user, password)) = &self.credentials {
            cmd.args(["--user", user, "--pass", password]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "nats-server did not listen on {}: {}",
                self.port,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let from = lines.len().saturating_sub(40);
            eprintln!("--- nats-server ---\n{}", lines[from..].join("\n"));
        }
    }
}

/// One message of the stream as a consumer reads it.
#[derive(Debug, Clone)]
pub struct Message {
    pub subject: String,
    /// `Nats-Msg-Id`.
    pub id: String,
    pub payload: Value,
}

/// Every message of JetStream stream `name` at `url`, in stream order.
pub async fn read_stream(url: &str, name: &str) -> Vec<Message> {
    let (options, url) = accord::stream::connect_options(url);
    let client = options.connect(url).await.expect("connect to NATS");
    let js = async_nats::jetstream::new(client);
    let mut stream = js.get_stream(name).await.expect("the stream exists");
    let last = stream.info().await.unwrap().state.last_sequence;
    let mut out = Vec::new();
    for seq in 1..=last {
        let Ok(m) = stream.get_raw_message(seq).await else {
            continue;
        };
        out.push(Message {
            subject: m.subject.to_string(),
            id: m
                .headers
                .get("Nats-Msg-Id")
                .map(|v| v.to_string())
                .unwrap_or_default(),
            payload: serde_json::from_slice(&m.payload).unwrap(),
        });
    }
    out
}

/// An indexed event's identity and entity: chain, block number, block hash, log index, stream.
pub type Indexed = (String, i64, String, i64, String);

/// Applies `messages` as a consumer would (an event appends, a rollback withdraws its chain's events above the
/// fork) and checks the outcome: no message id twice, every event's subject
/// `accord.<chain>.<contract>.<event>`, per chain the surviving events are those of `indexed` (a snapshot of the
/// index in chain order; events the stream holds beyond its last position per chain were indexed after it and are
/// left out), and each entity's arrived in chain order. Returns how many rollbacks were applied.
pub fn assert_consumer_matches(messages: &[Message], indexed: &[Indexed]) -> usize {
    let mut ids = HashSet::new();
    let mut live: HashMap<String, Vec<Indexed>> = HashMap::new();
    let mut rollbacks = 0;
    for m in messages {
        assert!(ids.insert(m.id.clone()), "message id {} twice", m.id);
        let chain = m.payload["chain"].as_str().unwrap().to_owned();
        let token = chain.replace(':', "-");
        if m.subject.ends_with(".index.Rollback") {
            rollbacks += 1;
            let fork = m.payload["fork_block"].as_i64().unwrap();
            live.entry(chain).or_default().retain(|e| e.1 <= fork);
            continue;
        }
        assert!(
            !m.subject.contains(".deadletter"),
            "unexpected dead letter: {:?}",
            m.payload
        );
        assert_eq!(
            m.subject,
            format!(
                "accord.{token}.{}.{}",
                m.payload["contract"].as_str().unwrap(),
                m.payload["event"].as_str().unwrap()
            )
        );
        assert_eq!(m.payload["id"], m.id.as_str());
        live.entry(chain.clone()).or_default().push((
            chain,
            m.payload["block_number"].as_i64().unwrap(),
            m.payload["block_hash"].as_str().unwrap().to_owned(),
            m.payload["log_index"].as_i64().unwrap(),
            m.payload["stream"].as_str().unwrap().to_owned(),
        ));
    }
    let chains: HashSet<&String> = indexed.iter().map(|e| &e.0).collect();
    for chain in chains {
        let want: Vec<&Indexed> = indexed.iter().filter(|e| &e.0 == chain).collect();
        let last = want.last().map(|e| (e.1, e.3)).unwrap();
        let got: Vec<&Indexed> = live
            .get(chain)
            .map(|l| l.iter().filter(|e| (e.1, e.3) <= last).collect())
            .unwrap_or_default();
        assert_eq!(
            got.len(),
            want.len(),
            "{chain}: the consumer holds {} events, the index {}",
            got.len(),
            want.len()
        );
        // In chain order per entity; different entities may interleave otherwise.
        let by_entity = |events: &[&Indexed]| {
            let mut map: HashMap<String, Vec<Indexed>> = HashMap::new();
            for e in events {
                map.entry(e.4.clone()).or_default().push((*e).clone());
            }
            map
        };
        assert_eq!(
            by_entity(&got),
            by_entity(&want),
            "{chain}: the consumer's events differ from the index (or arrived out of order for an entity)"
        );
    }
    rollbacks
}

/// Every event of the index behind `api`, in chain order per chain.
pub async fn indexed_events(api: &str) -> Vec<Indexed> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/v1/events?limit=200".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = crate::stack::get(api, &path).await;
        for e in page["items"].as_array().unwrap() {
            out.push((
                e["chain"].as_str().unwrap().to_owned(),
                e["block_number"].as_i64().unwrap(),
                e["block_hash"].as_str().unwrap().to_owned(),
                e["log_index"].as_i64().unwrap(),
                e["stream"].as_str().unwrap().to_owned(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

/// Whether the stream has acknowledged every event and rollback the database at `pool` holds, on every chain.
pub async fn all_published(pool: &sqlx::PgPool) -> bool {
    let behind: bool = sqlx::query_scalar(
        "SELECT EXISTS (
             SELECT 1 FROM (SELECT DISTINCT ON (chain_id) chain_id, block_number, log_index FROM raw_events
                            ORDER BY chain_id, block_number DESC, log_index DESC) e
             LEFT JOIN stream_cursor c USING (chain_id)
             WHERE c.chain_id IS NULL OR (e.block_number, e.log_index) > (c.block_number, c.log_index))
         OR EXISTS (
             SELECT 1 FROM (SELECT chain_id, max(id) AS last FROM index_rollbacks GROUP BY chain_id) r
             LEFT JOIN stream_cursor c USING (chain_id)
             WHERE c.chain_id IS NULL OR r.last > c.rollback_id)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    !behind
}
