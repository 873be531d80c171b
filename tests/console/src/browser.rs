//! Headless Chromium through `chromedriver` (apt `chromium`,
//! `chromium-driver`), trusting exactly the hub's key, plus the axe-core
//! accessibility check.

use crate::{free_port, ConsoleHub, Guarded};
use exam_e2e::webdriver::Session;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The vendored axe-core (MPL-2.0, `vendor/axe-core/`).
pub const AXE: &str = include_str!("../vendor/axe-core/axe.min.js");

/// `chromedriver` and `chromium`, or why the browser tests cannot run.
pub fn tools() -> Result<(String, String), String> {
    let find = |names: &[&str]| names.iter().map(|n| format!("/usr/bin/{n}")).find(|p| std::path::Path::new(p).exists());
    let driver = find(&["chromedriver"]).ok_or("chromedriver is missing: apt install chromium-driver (cargo xtask test installs it)")?;
    let browser = find(&["chromium", "chromium-browser"]).ok_or("chromium is missing: apt install chromium")?;
    Ok((driver, browser))
}

/// A browser session.
pub struct Browser {
    /// The WebDriver session.
    pub session: Session,
    _driver: Guarded,
    _profile: tempfile::TempDir,
    /// chromedriver's process group (Chromium and its helpers are in it).
    process_group: u32,
    /// The hub's base URL.
    pub base: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // End the browser with its driver — only the group this test started.
        let _ = Command::new("kill").args(["-TERM", "--", &format!("-{}", self.process_group)]).stderr(Stdio::null()).status();
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium that trusts the hub's
    /// certificate key (and nothing else unknown).
    pub async fn start(hub: &ConsoleHub) -> Self {
        let (driver, browser) = tools().unwrap_or_else(|e| panic!("{e}"));
        let port = free_port();
        let profile = tempfile::tempdir().expect("profile dir");
        // Its own process group: Chromium and its helpers join it, so the
        // whole browser can be ended with it (and nothing else).
        let child = std::os::unix::process::CommandExt::process_group(Command::new(driver).arg(format!("--port={port}")), 0)
            // Chromium's crash database and caches stay in the test's directory, not in $HOME.
            .env("XDG_CONFIG_HOME", profile.path())
            .env("XDG_CACHE_HOME", profile.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let process_group = child.id();
        let guarded = Guarded(child);
        let url = format!("http://127.0.0.1:{port}");
        let probe = reqwest::Client::builder().no_proxy().build().expect("client");
        let deadline = Instant::now() + Duration::from_secs(30);
        while probe.get(format!("{url}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let args = vec![
            "--headless=new".to_string(),
            // Tests run as root in CI; Chromium refuses its sandbox there.
            "--no-sandbox".to_string(),
            "--disable-gpu".to_string(),
            "--disable-dev-shm-usage".to_string(),
            "--no-first-run".to_string(),
            "--window-size=1280,1000".to_string(),
            format!("--user-data-dir={}", profile.path().display()),
            // Real TLS: the hub's certificate is trusted by its pinned key only.
            format!("--ignore-certificate-errors-spki-list={}", hub.spki_sha256_b64()),
            "--lang=nl".to_string(),
        ];
        let caps = json!({"browserName": "chrome", "goog:chromeOptions": {"binary": browser, "args": args}});
        let session = Session::with_capabilities(&url, caps).await.expect("browser session");
        Self { session, _driver: guarded, _profile: profile, process_group, base: hub.base.clone() }
    }

    /// Opens a console path.
    pub async fn open(&self, path: &str) {
        self.session.navigate(&format!("{}{path}", self.base)).await.expect("navigate");
    }

    /// Waits for a CSS selector to be displayed.
    pub async fn wait(&self, css: &str) -> exam_e2e::webdriver::Element {
        match self.session.wait_for(css, Duration::from_secs(20)).await {
            Ok(el) => el,
            Err(e) => {
                self.shoot("timeout").await;
                panic!("{e}");
            }
        }
    }

    /// Clicks the element matching `css` (after waiting for it). A live page
    /// may replace the element between finding and clicking: then it is
    /// found again.
    pub async fn click(&self, css: &str) {
        for attempt in 0..5 {
            let el = self.wait(css).await;
            match self.session.click(&el).await {
                Ok(()) => return,
                Err(e) if e.contains("stale element") && attempt < 4 => continue,
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    /// Types into the element matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.wait(css).await;
        self.session.type_into(&el, text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Evaluates `expression` in the page.
    pub async fn eval(&self, expression: &str) -> Value {
        self.session.script(&format!("return {expression};")).await.unwrap_or_else(|e| panic!("{expression}: {e}"))
    }

    /// Waits until `expression` is truthy in the page.
    pub async fn wait_until(&self, what: &str, expression: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let value = self.session.script(&format!("return !!({expression});")).await.unwrap_or(Value::Bool(false));
            if value == Value::Bool(true) {
                return;
            }
            if Instant::now() > deadline {
                self.shoot("wait-until").await;
                let body = self.session.text_of("body").await.unwrap_or_default();
                panic!("timed out waiting for {what} ({expression}); the page says:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Fetches `path` with the page's session (cookie); returns (status, headers, body bytes as base64).
    pub async fn fetch(&self, path: &str) -> (u16, Value, Vec<u8>) {
        use base64::Engine as _;
        let script = "const done = arguments[arguments.length - 1];
            fetch(arguments[0], {credentials: 'same-origin'}).then(async (r) => {
              const bytes = new Uint8Array(await r.arrayBuffer());
              let bin = ''; for (const b of bytes) bin += String.fromCharCode(b);
              done({status: r.status, headers: Object.fromEntries(r.headers.entries()), body: btoa(bin)});
            }).catch((e) => done({status: 0, headers: {}, body: '', error: String(e)}));";
        let v = self.session.script_async(script, vec![json!(path)]).await.expect("fetch in page");
        let body = base64::engine::general_purpose::STANDARD.decode(v["body"].as_str().unwrap_or("")).unwrap_or_default();
        (v["status"].as_u64().unwrap_or(0) as u16, v["headers"].clone(), body)
    }

    /// Runs axe-core on the page; returns the serious and critical violations.
    pub async fn axe(&self) -> Vec<Value> {
        let loaded = self.session.script(&format!("{AXE}\n;return typeof axe;")).await.expect("inject axe");
        assert_eq!(loaded, json!("object"), "axe-core did not load");
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, {resultTypes: ['violations']}).then((r) => done(r.violations), (e) => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));";
        let violations = self.session.script_async(script, vec![]).await.expect("axe run");
        violations
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect()
    }

    /// Asserts axe finds no serious or critical violation on the page.
    pub async fn assert_accessible(&self, page: &str) {
        let violations = self.axe().await;
        if !violations.is_empty() {
            self.shoot(&format!("axe-{page}")).await;
            let summary: Vec<String> = violations
                .iter()
                .map(|v| format!("{} ({}): {} — {}", v["id"], v["impact"], v["help"], v["nodes"].as_array().map(|n| n.iter().map(|n| n["html"].to_string()).collect::<Vec<_>>().join(" | ")).unwrap_or_default()))
                .collect();
            panic!("axe: {} serious/critical violations on {page}:\n{}", violations.len(), summary.join("\n"));
        }
    }

    /// Saves a screenshot under target/console-tests/.
    pub async fn shoot(&self, name: &str) {
        if let Ok(png) = self.session.screenshot().await {
            let _ = std::fs::write(crate::artefacts().join(format!("{name}.png")), png);
        }
    }

    /// Signs in through the login page.
    pub async fn sign_in(&self, username: &str, password: &str) {
        self.open("/console/").await;
        self.type_into("#username", username).await;
        self.type_into("#password", password).await;
        self.click("#login-submit").await;
    }
}
