//! A minimal W3C WebDriver client (the few commands the scenarios use),
//! talking to `tauri-driver` (the kiosk) or `chromedriver` (the hub's
//! invigilator console) on loopback.

use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A WebDriver session.
pub struct Session {
    http: reqwest::Client,
    base: String,
    /// The X display the application runs on, when the screenshots are
    /// read from the X server (see [`crate::xcapture`]).
    x_display: Option<String>,
}

/// A located element.
#[derive(Clone, Debug)]
pub struct Element(String);

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Session {
    /// Creates a session on `driver` (tauri-driver) that launches
    /// `application` (the exam-kiosk binary); its screenshots are of the
    /// driver's X screen.
    pub async fn new(driver: &crate::Driver, application: &str) -> Result<Self, String> {
        let session = Self::with_capabilities(&driver.url, json!({"tauri:options": {"application": application}})).await?;
        Ok(Self { x_display: Some(driver.display.clone()), ..session })
    }

    /// Creates a session with these `alwaysMatch` capabilities (e.g. headless Chromium).
    pub async fn with_capabilities(driver: &str, always_match: Value) -> Result<Self, String> {
        // The driver speaks plain HTTP on loopback; reqwest still wants a TLS provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().no_proxy().build().map_err(|e| e.to_string())?;
        let caps = json!({"capabilities": {"alwaysMatch": always_match}});
        // The driver may still be settling after a previous session: retry briefly.
        let mut attempt = 0;
        let resp: Value = loop {
            match http.post(format!("{driver}/session")).json(&caps).send().await {
                Ok(resp) => break resp.json().await.map_err(|e| e.to_string())?,
                Err(e) if attempt < 20 => {
                    attempt += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => return Err(e.to_string()),
            }
        };
        let id = resp["value"]["sessionId"].as_str().ok_or_else(|| format!("no session: {resp}"))?;
        Ok(Self { http, base: format!("{driver}/session/{id}"), x_display: None })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let value: Value = req.send().await.map_err(|e| e.to_string())?.json().await.map_err(|e| e.to_string())?;
        if let Some(error) = value["value"]["error"].as_str() {
            return Err(format!("{error}: {}", value["value"]["message"]));
        }
        Ok(value["value"].clone())
    }

    /// Finds the first element matching a CSS selector.
    pub async fn find(&self, css: &str) -> Result<Element, String> {
        let v = self.call(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await?;
        v[ELEMENT_KEY].as_str().map(|s| Element(s.to_owned())).ok_or_else(|| format!("no element {css}: {v}"))
    }

    /// Waits until an element matching `css` is displayed.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(el) = self.find(css).await {
                if self.displayed(&el).await.unwrap_or(false) {
                    return Ok(el);
                }
            }
            if Instant::now() > deadline {
                let body = self.text_of("body").await.unwrap_or_else(|e| format!("<{e}>"));
                let found = self.find(css).await.map(|e| e.0).unwrap_or_else(|e| format!("<{e}>"));
                let url = self.call(reqwest::Method::GET, "/url", None).await.unwrap_or_default();
                return Err(format!("timed out waiting for {css} (find: {found}; url {url}); the page says: {body}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether an element is displayed.
    pub async fn displayed(&self, el: &Element) -> Result<bool, String> {
        Ok(self.call(reqwest::Method::GET, &format!("/element/{}/displayed", el.0), None).await?.as_bool().unwrap_or(false))
    }

    /// Clicks an element.
    pub async fn click(&self, el: &Element) -> Result<(), String> {
        self.call(reqwest::Method::POST, &format!("/element/{}/click", el.0), Some(json!({}))).await.map(|_| ())
    }

    /// Clears and types into an element.
    pub async fn type_into(&self, el: &Element, text: &str) -> Result<(), String> {
        self.call(reqwest::Method::POST, &format!("/element/{}/clear", el.0), Some(json!({}))).await?;
        self.call(reqwest::Method::POST, &format!("/element/{}/value", el.0), Some(json!({"text": text}))).await.map(|_| ())
    }

    /// Types into an element as it is (no clear first: a clear blurs the
    /// field, and the kiosk's fields save when they are left).
    pub async fn type_keys(&self, el: &Element, text: &str) -> Result<(), String> {
        self.call(reqwest::Method::POST, &format!("/element/{}/value", el.0), Some(json!({"text": text}))).await.map(|_| ())
    }

    /// The visible text of the first element matching `css`.
    pub async fn text_of(&self, css: &str) -> Result<String, String> {
        let el = self.find(css).await?;
        Ok(self.call(reqwest::Method::GET, &format!("/element/{}/text", el.0), None).await?.as_str().unwrap_or("").to_owned())
    }

    /// Runs a script in the page and returns its result.
    pub async fn script(&self, script: &str) -> Result<Value, String> {
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": []}))).await
    }

    /// Runs an asynchronous script: it calls `arguments[arguments.length - 1]` with its result.
    pub async fn script_async(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        self.call(reqwest::Method::POST, "/execute/async", Some(json!({"script": script, "args": args}))).await
    }

    /// Resizes the window (CSS pixels), e.g. to a tablet's size.
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<(), String> {
        self.call(reqwest::Method::POST, "/window/rect", Some(json!({"width": width, "height": height}))).await.map(|_| ())
    }

    /// Opens `url` in the window.
    pub async fn navigate(&self, url: &str) -> Result<(), String> {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await.map(|_| ())
    }

    /// The window's current URL.
    pub async fn current_url(&self) -> Result<String, String> {
        Ok(self.call(reqwest::Method::GET, "/url", None).await?.as_str().unwrap_or("").to_owned())
    }

    /// Sends keys to the focused element (W3C key codes, e.g. `"\u{E004}"` for Tab).
    pub async fn keys(&self, el: &Element, text: &str) -> Result<(), String> {
        self.call(reqwest::Method::POST, &format!("/element/{}/value", el.0), Some(json!({"text": text}))).await.map(|_| ())
    }

    /// A PNG screenshot: of the whole X screen for a kiosk session, of the
    /// page (WebDriver's screenshot) otherwise.
    pub async fn screenshot(&self) -> Result<Vec<u8>, String> {
        use base64::Engine as _;
        if let Some(display) = &self.x_display {
            // What the DOM shows now is on the screen after two animation frames.
            self.script_async("const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));", vec![])
                .await?;
            let display = display.clone();
            return tokio::task::spawn_blocking(move || crate::xcapture::capture_settled_png(&display, 10))
                .await
                .map_err(|e| e.to_string())?;
        }
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await?;
        base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or("")).map_err(|e| e.to_string())
    }

    /// Switches to an `<iframe>` (`Some`) or back to the top-level page (`None`).
    pub async fn switch_to_frame(&self, frame: Option<&Element>) -> Result<(), String> {
        let id = frame.map_or(Value::Null, |el| json!({ ELEMENT_KEY: el.0 }));
        self.call(reqwest::Method::POST, "/frame", Some(json!({ "id": id }))).await.map(|_| ())
    }

    /// Ends the session (and the app).
    pub async fn close(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}
