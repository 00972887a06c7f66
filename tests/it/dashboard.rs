//! The dashboard in a real browser: Debian's headless Chromium driven through chromedriver (WebDriver) against a
//! running devnet. Called from the devnet test (`cli.rs`), so no second devnet starts: [`post_hostile_job`]
//! puts markup in a job's spec URI, [`check`] walks every page (screenshots under the given folder) and leaves
//! the page open, and [`Dashboard::expect_api_down`] checks the banner once the devnet has stopped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use accord::chain::evm::bindings::JobManager;
use accord::chain::evm::ops;
use accord::chain::evm::wallet::{SenderConfig, TxSender};
use alloy::primitives::{Address, B256, U256};
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

use crate::stack::signer;
use crate::utils::free_port;

/// Debian's Chromium and its WebDriver (packages `chromium` and `chromium-driver`).
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// A spec URI an attacker could post: rendered as markup, it would create an element and run its handler.
pub const HOSTILE_URI: &str = "<img src=x onerror=\"window.__pwned=1\"><b id=\"injected\">bold</b>";
/// How long one page may take to show what is checked.
const STEP: Duration = Duration::from_secs(15);

/// chromedriver on a loopback port, killed on drop, with the browser's throwaway profile.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The dashboard open in a browser, for the checks that follow [`check`].
pub struct Dashboard {
    client: Client,
    out_dir: PathBuf,
    _driver: Driver,
}

/// Posts, from the deployer on the EVM chain at `rpc_url`, an open job whose spec URI is [`HOSTILE_URI`]; it asks
/// for a capability no demo worker has, so it stays open. Returns its id.
pub async fn post_hostile_job(rpc_url: &str, api_url: &str) -> String {
    let status = get_json(&format!("{api_url}/v1/status")).await;
    let evm = status["chains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["family"] == "evm")
        .expect("an EVM chain is served")
        .clone();
    let address = |name: &str| -> Address {
        evm["contracts"][name]["address"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (token, job_manager) = (address("AccordToken"), address("JobManager"));
    // The demo client signs with the same key: the sender takes another nonce when it finds one used.
    let sender = TxSender::connect(rpc_url, signer(0), SenderConfig::default())
        .await
        .expect("connect the deployer");
    let reward = 1_000_000_000_000_000u64;
    ops::approve_if_needed(&sender, token, job_manager, U256::from(reward))
        .await
        .expect("approve the escrow");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let call = JobManager::postJobCall {
        specHash: B256::repeat_byte(0x66),
        specURI: HOSTILE_URI.into(),
        requiredCapabilities: 1 << 15,
        reward: alloy::primitives::Uint::from(reward),
        deadline: u32::try_from(now + 3_600).unwrap(),
        maxAttempts: 1,
    };
    let receipt = ops::send(&sender, job_manager, &call, "postJob")
        .await
        .expect("post the hostile job");
    let posted = receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| log.log_decode::<JobManager::JobPosted>().ok())
        .expect("a JobPosted event");
    posted.inner.data.jobId.to_string()
}

/// Walks the dashboard served at `api_url` in headless Chromium: the overview shows jobs, a paid job's result
/// shows as verified, the hostile job's markup stays text, the live feed receives an event, the phone layout
/// does not overflow. Writes each page's screenshot into `out_dir` and returns the page, still open.
pub async fn check(api_url: &str, out_dir: &Path) -> Dashboard {
    std::fs::create_dir_all(out_dir).unwrap();
    let driver = start_driver();
    let client = connect(&driver).await;
    let dashboard = Dashboard {
        client,
        out_dir: out_dir.to_path_buf(),
        _driver: driver,
    };
    let started = Instant::now();
    dashboard.desktop(api_url).await;
    dashboard.phone(api_url).await;
    println!(
        "dashboard: browser checks passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    dashboard
}

impl Dashboard {
    async fn desktop(&self, api: &str) {
        let c = &self.client;
        self.viewport(1280, 900).await;
        c.goto(&format!("{api}/#/")).await.unwrap();
        let total = self
            .until(
                "the overview's job count",
                "const t = document.getElementById('jobs-total'); return t && t.textContent",
            )
            .await;
        let jobs: u64 = total
            .as_str()
            .unwrap()
            .trim_end_matches(" jobs")
            .trim_end_matches('+')
            .parse()
            .unwrap_or_else(|_| panic!("job count {total}"));
        assert!(jobs > 0, "the overview shows no jobs: {total}");
        self.until(
            "the chains and the activity chart",
            "return document.querySelectorAll('#chains tbody tr').length === 2 && document.querySelector('#activity svg rect') !== null",
        )
        .await;
        self.screenshot("overview").await;

        // A paid job: its result is fetched through the API, which checks it against the chain.
        let paid =
            get_json(&format!("{api}/v1/jobs?status=paid&limit=1")).await["items"][0].clone();
        let (chain, id) = (
            paid["chain"].as_str().unwrap(),
            paid["job_id"].as_str().unwrap(),
        );
        self.open(api, &format!("#/jobs/{}/{id}", encode(chain)))
            .await;
        let verification = self
            .until(
                "the paid job's result verified",
                "const v = document.querySelector('#verification .badge'); return v && v.textContent !== '' && document.getElementById('verification').textContent",
            )
            .await;
        assert!(
            verification.as_str().unwrap().starts_with("verified"),
            "job {id} on {chain}: {verification}"
        );
        let download = self
            .until(
                "the download link",
                "const a = document.getElementById('download'); return a && a.getAttribute('href')",
            )
            .await;
        assert_eq!(
            download,
            json!(format!("/v1/jobs/{id}/result?chain={}", encode(chain)))
        );
        self.until(
            "the job's timeline",
            "return document.querySelectorAll('#timeline tbody tr').length > 0",
        )
        .await;
        self.screenshot("job").await;

        self.hostile(api).await;

        self.open(api, "#/jobs?status=paid").await;
        self.until(
            "the paid jobs list",
            "return document.querySelectorAll('#job-list tbody tr').length > 0",
        )
        .await;
        self.screenshot("jobs").await;
        self.open(api, "#/workers").await;
        self.until(
            "the workers list",
            "return document.querySelectorAll('#worker-list tbody tr').length >= 6",
        )
        .await;
        self.screenshot("workers").await;
        self.open(api, "#/governance").await;
        self.until(
            "the parameters",
            "return document.querySelectorAll('#params tbody tr').length > 0",
        )
        .await;
        self.screenshot("governance").await;
        self.open(api, "#/da").await;
        // The devnet checks committed results every 5 s: the demo's paid results are available.
        self.until(
            "the DA report counting available results",
            "const c = document.getElementById('da-counts'); return c !== null && c.textContent.includes('available')",
        )
        .await;
        self.screenshot("da").await;

        // The live feed: the demo posts a job every 2 s, so a new event arrives within a few seconds.
        self.open(api, "#/live").await;
        let count = "const m = /live · (\\d+) events/.exec(document.getElementById('live-state').textContent); return m ? Number(m[1]) : null";
        let before = self
            .until("the live stream connected", count)
            .await
            .as_u64()
            .unwrap();
        let started = Instant::now();
        loop {
            let now = c
                .execute(count, vec![])
                .await
                .unwrap()
                .as_u64()
                .unwrap_or(0);
            let rows = c
                .execute(
                    "return document.querySelectorAll('#feed tbody tr').length",
                    vec![],
                )
                .await
                .unwrap();
            if now > before && rows.as_u64() > Some(0) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no new event in the live feed within 10 s ({before} before, {now} now)"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.screenshot("live").await;
    }

    /// The hostile job's spec URI, on its page and in its timeline's `JobPosted` arguments, is text: no element
    /// is created and no handler runs.
    async fn hostile(&self, api: &str) {
        let started = Instant::now();
        let id = loop {
            let jobs = get_json(&format!(
                "{api}/v1/jobs?chain=eip155:31337&status=open&limit=500"
            ))
            .await;
            let found = jobs["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|j| j["spec_uri"] == HOSTILE_URI)
                .map(|j| j["job_id"].as_str().unwrap().to_owned());
            if let Some(id) = found {
                break id;
            }
            assert!(
                started.elapsed() < STEP,
                "the hostile job (post_hostile_job) is not listed open: {jobs}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        self.open(api, &format!("#/jobs/eip155%3A31337/{id}")).await;
        self.until(
            "the hostile job's timeline",
            "return document.querySelectorAll('#timeline tbody tr').length > 0",
        )
        .await;
        let found = self
            .client
            .execute(
                "return {spec: document.getElementById('spec-uri').textContent, \
                 args: document.getElementById('timeline').textContent, \
                 images: document.querySelectorAll('main img').length, \
                 injected: document.getElementById('injected') !== null, \
                 pwned: window.__pwned === 1}",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(found["spec"], HOSTILE_URI, "{found}");
        assert!(
            found["args"].as_str().unwrap().contains(HOSTILE_URI),
            "the JobPosted arguments show the URI as text: {found}"
        );
        assert_eq!(
            (&found["images"], &found["injected"], &found["pwned"]),
            (&json!(0), &json!(false), &json!(false)),
            "markup from chain data became elements: {found}"
        );
        self.screenshot("hostile-job").await;
    }

    /// A phone-sized viewport: the overview fits its width.
    async fn phone(&self, api: &str) {
        let c = &self.client;
        self.viewport(390, 844).await;
        self.open(api, "#/").await;
        self.until(
            "the overview on a phone",
            "const t = document.getElementById('jobs-total'); return t && t.textContent",
        )
        .await;
        let size = c
            .execute(
                "return {inner: window.innerWidth, height: window.innerHeight, scroll: document.documentElement.scrollWidth}",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            (&size["inner"], &size["height"]),
            (&json!(390), &json!(844)),
            "{size}"
        );
        assert!(
            size["scroll"].as_u64() <= size["inner"].as_u64().map(|w| w + 1),
            "the overview overflows a phone's width: {size}"
        );
        self.screenshot("overview-phone").await;
    }

    /// After the API stopped: the page still shows its last data under a banner saying the API is unreachable.
    pub async fn expect_api_down(self) {
        let banner = self
            .until(
                "the API-down banner",
                "const b = document.getElementById('banner'); return !b.hidden && b.textContent",
            )
            .await;
        assert!(
            banner.as_str().unwrap().contains("API unreachable"),
            "{banner}"
        );
        let kept = self
            .client
            .execute(
                "return document.querySelectorAll('#jobs-total').length",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(kept, json!(1), "the last data stays on the page");
        self.screenshot("api-down").await;
        let _ = self.client.close().await;
    }

    /// Sizes the window so that the page's viewport is `width` x `height` CSS pixels.
    async fn viewport(&self, width: u32, height: u32) {
        let c = &self.client;
        c.set_window_size(width, height).await.unwrap();
        let inner = c
            .execute("return [window.innerWidth, window.innerHeight]", vec![])
            .await
            .unwrap();
        let (w, h) = (inner[0].as_u64().unwrap(), inner[1].as_u64().unwrap());
        let (dw, dh) = (
            u32::try_from(u64::from(width).saturating_sub(w)).unwrap(),
            u32::try_from(u64::from(height).saturating_sub(h)).unwrap(),
        );
        if dw > 0 || dh > 0 {
            c.set_window_size(width + dw, height + dh).await.unwrap();
        }
    }

    /// Navigates within the page (hash routing) and waits for the new page's frame.
    async fn open(&self, api: &str, hash: &str) {
        self.client.goto(&format!("{api}/{hash}")).await.unwrap();
    }

    /// Runs `script` until it returns a truthy value, and returns it; panics after [`STEP`] naming `what`.
    async fn until(&self, what: &str, script: &str) -> Value {
        let started = Instant::now();
        loop {
            let value = self.client.execute(script, vec![]).await.unwrap();
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return value;
            }
            if started.elapsed() > STEP {
                let page = self
                    .client
                    .execute("return document.body.innerText", vec![])
                    .await
                    .unwrap_or_default();
                self.screenshot("failed").await;
                panic!("{what}: not shown within {STEP:?}; the page reads:\n{page}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let path = self.out_dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        println!("dashboard: screenshot {}", path.display());
    }
}

/// chromedriver on a free loopback port, answering.
fn start_driver() -> Driver {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(tool).is_file(),
            "{tool} is missing: scripts/bootstrap installs Chromium and chromedriver (Debian's chromium and \
             chromium-driver)"
        );
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profile: tempfile::tempdir().unwrap(),
    };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "chromedriver did not listen on port {port} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    driver
}

/// A headless Chromium session. The network here is closed: without these flags Chromium waits on
/// connections to its own services.
async fn connect(driver: &Driver) -> Client {
    let profile = driver._profile.path().display().to_string();
    let options = json!({
        "binary": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            format!("--user-data-dir={profile}"),
        ],
    });
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session through chromedriver: {e}"))
}

async fn get_json(url: &str) -> Value {
    reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap()
}

/// `value` as a URI component (chain names hold a colon).
fn encode(value: &str) -> String {
    value.replace(':', "%3A")
}
