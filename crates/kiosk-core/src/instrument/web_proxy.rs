//! The kiosk's proxy for web instruments. The web view never talks to the
//! supplier itself: it loads `examweb://HOST:PORT/PATH`, and the shell hands
//! every such request to [`WebProxy::handle`], which
//!
//! * refuses origins that are not in the signed descriptor's `allowed_origins`;
//! * fetches `https://HOST:PORT/PATH` over rustls (ring; TLS 1.2 or 1.3)
//!   trusting only the supplier CA from the signed descriptor;
//! * adds the exam key header ([`super::web`]) computed over that exact URL;
//! * follows no redirect itself: a redirect within the allowed origins is
//!   passed on (rewritten to `examweb:`), one to another origin is blocked;
//! * keeps the supplier's cookies itself (the web view never stores them);
//! * serves every response with a content security policy that allows
//!   loading only from the allowed origins (through the proxy), and no
//!   popups or top-level navigation.
//!
//! Every refusal comes back as a [`Blocked`] for the journal, with a short
//! page for the student.

use crate::hub::error_chain;
use super::web::{exam_key_header, request_nonce, ExamKeyInput, HEADER_NAME};
use super::web_instrument::{Origin, WebInstrument, WebInstrumentError};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The URI scheme the shell registers.
pub const SCHEME: &str = "examweb";
/// Largest response body passed to the web view.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
/// How long one upstream request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Methods passed on.
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
/// Request headers passed on from the web view (everything else is dropped:
/// cookies come from the proxy's jar, origins are rewritten).
const PASSED_REQUEST_HEADERS: &[&str] =
    &["accept", "accept-language", "content-type", "range", "if-range", "if-none-match", "if-modified-since", "cache-control", "x-requested-with"];
/// Response headers never passed to the web view.
const DROPPED_RESPONSE_HEADERS: &[&str] = &[
    "set-cookie",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "strict-transport-security",
    "alt-svc",
    "x-frame-options",
    "content-security-policy",
    "content-security-policy-report-only",
];

/// What keys the exam key header of this kiosk and sitting.
#[derive(Clone)]
pub struct ExamKeyContext {
    /// SHA-256 of the kiosk build, hex.
    pub build_hash: String,
    /// SHA-256 of the signed policy text, hex.
    pub policy_hash: String,
    /// The hub's session nonce for the sitting (raw bytes).
    pub session_nonce: Vec<u8>,
}

impl std::fmt::Debug for ExamKeyContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExamKeyContext").field("build_hash", &self.build_hash).field("policy_hash", &self.policy_hash).finish_non_exhaustive()
    }
}

/// A request from the web view.
#[derive(Debug, Clone, Default)]
pub struct ProxyRequest {
    /// HTTP method.
    pub method: String,
    /// The `examweb://` URL.
    pub url: String,
    /// Request headers (name, value).
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Vec<u8>,
}

/// The answer for the web view.
#[derive(Debug, Clone)]
pub struct ProxyResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers (name, value).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// Why a request was not passed on (journalled as `web_instrument.blocked`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Blocked {
    /// The URL is not on an allowed origin (or not an `examweb:` URL at all).
    #[error("{url} is not on an allowed origin of this instrument")]
    ForeignOrigin {
        /// The URL asked for.
        url: String,
    },
    /// The supplier redirected to an origin that is not allowed.
    #[error("{from} redirects to {to}, which is not an allowed origin")]
    ForeignRedirect {
        /// The URL that redirected.
        from: String,
        /// Where to.
        to: String,
    },
    /// A method the proxy does not pass on.
    #[error("method {method} is not passed on")]
    Method {
        /// The method.
        method: String,
    },
    /// The supplier could not be reached safely (TLS refused, timeout, too large).
    #[error("{url}: {detail}")]
    Upstream {
        /// The upstream URL.
        url: String,
        /// What failed.
        detail: String,
    },
}

/// The result of one request: always a response for the web view, and what
/// was blocked, if anything.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What the web view gets.
    pub response: ProxyResponse,
    /// Set when the request was refused.
    pub blocked: Option<Blocked>,
}

/// The proxy of one web instrument in one sitting.
pub struct WebProxy {
    instrument: WebInstrument,
    origins: Vec<Origin>,
    http: reqwest::Client,
    keys: ExamKeyContext,
    /// Cookies per origin: name -> value.
    cookies: Mutex<HashMap<Origin, BTreeMap<String, String>>>,
}

impl std::fmt::Debug for WebProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebProxy").field("url", &self.instrument.url).field("origins", &self.origins).finish_non_exhaustive()
    }
}

/// The rustls configuration for a supplier: only its CA, ring, TLS 1.2+.
pub fn supplier_tls_config(instrument: &WebInstrument) -> Result<rustls::ClientConfig, WebInstrumentError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in instrument.ca_certificates()? {
        roots.add(cert).map_err(|e| WebInstrumentError::BadCa(e.to_string()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| WebInstrumentError::BadCa(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl WebProxy {
    /// A proxy for `instrument`, keyed with `keys`.
    pub fn new(instrument: WebInstrument, keys: ExamKeyContext) -> Result<Self, WebInstrumentError> {
        instrument.check()?;
        let origins = instrument.origins()?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(supplier_tls_config(&instrument)?)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| WebInstrumentError::BadCa(e.to_string()))?;
        Ok(Self { instrument, origins, http, keys, cookies: Mutex::new(HashMap::new()) })
    }

    /// The signed descriptor.
    pub fn instrument(&self) -> &WebInstrument {
        &self.instrument
    }

    /// The `examweb:` URL the web view loads first.
    pub fn start_url(&self) -> String {
        self.instrument.start_url().map(|u| to_kiosk_url(&u)).unwrap_or_default()
    }

    /// The `examweb:` origins (for the kiosk page's `frame-src`).
    pub fn kiosk_origins(&self) -> Vec<String> {
        self.origins.iter().map(kiosk_origin).collect()
    }

    /// The `https` URL behind an `examweb:` URL on an allowed origin.
    pub fn upstream_url(&self, kiosk_url: &str) -> Result<reqwest::Url, Blocked> {
        let foreign = || Blocked::ForeignOrigin { url: kiosk_url.chars().take(512).collect() };
        let rest = kiosk_url.strip_prefix(SCHEME).and_then(|r| r.strip_prefix("://")).ok_or_else(foreign)?;
        let url = reqwest::Url::parse(&format!("https://{rest}")).map_err(|_| foreign())?;
        let origin = Origin::of(&url).map_err(|_| foreign())?;
        if !self.origins.contains(&origin) {
            return Err(foreign());
        }
        Ok(url)
    }

    /// Whether the web view may navigate (any frame) to `url`: only to
    /// `examweb:` URLs on allowed origins.
    pub fn allows_navigation(&self, url: &str) -> Result<(), Blocked> {
        self.upstream_url(url).map(|_| ())
    }

    /// Handles one request of the web view.
    pub async fn handle(&self, request: ProxyRequest) -> Outcome {
        let method = request.method.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return blocked(405, Blocked::Method { method });
        }
        let url = match self.upstream_url(&request.url) {
            Ok(url) => url,
            Err(b) => return blocked(403, b),
        };
        let origin = Origin::of(&url).unwrap_or_else(|_| self.origins[0].clone());
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut upstream = self.http.request(method, url.clone());
        for (name, value) in &request.headers {
            if PASSED_REQUEST_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                upstream = upstream.header(name.as_str(), value.as_str());
            }
        }
        // The exam key over the exact URL sent: a captured header is worth nothing elsewhere.
        let header = match request_nonce() {
            Ok(nonce) => exam_key_header(&ExamKeyInput {
                build_hash: &self.keys.build_hash,
                policy_hash: &self.keys.policy_hash,
                session_nonce: &self.keys.session_nonce,
                time_secs: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
                request_nonce: nonce,
                url: url.as_str(),
            }),
            Err(_) => return blocked(500, Blocked::Upstream { url: url.to_string(), detail: "no randomness for the exam key".into() }),
        };
        upstream = upstream.header(HEADER_NAME, header);
        if let Some(cookie) = self.cookie_header(&origin) {
            upstream = upstream.header("cookie", cookie);
        }
        if let Some(origin_header) = request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("origin")) {
            if let Ok(o) = self.upstream_url(&format!("{}/", origin_header.1)) {
                upstream = upstream.header("origin", Origin::of(&o).map(|o| o.https()).unwrap_or_default());
            }
        }
        if !request.body.is_empty() {
            upstream = upstream.body(request.body);
        }
        let response = match upstream.send().await {
            Ok(r) => r,
            Err(e) => return blocked(502, Blocked::Upstream { url: url.to_string(), detail: error_chain(&e) }),
        };
        let status = response.status().as_u16();
        let mut headers = Vec::new();
        for (name, value) in response.headers() {
            let name = name.as_str().to_ascii_lowercase();
            let Ok(value) = value.to_str() else { continue };
            if name == "set-cookie" {
                self.store_cookie(&origin, value);
            }
            if DROPPED_RESPONSE_HEADERS.contains(&name.as_str()) {
                continue;
            }
            if name == "location" {
                let Ok(target) = url.join(value) else {
                    return blocked(403, Blocked::ForeignRedirect { from: url.to_string(), to: value.chars().take(512).collect() });
                };
                match Origin::of(&target) {
                    Ok(o) if self.origins.contains(&o) => headers.push((name, to_kiosk_url(&target))),
                    _ => return blocked(403, Blocked::ForeignRedirect { from: url.to_string(), to: target.to_string() }),
                }
                continue;
            }
            headers.push((name, value.to_string()));
        }
        let content_type = headers.iter().find(|(n, _)| n == "content-type").map(|(_, v)| v.to_ascii_lowercase()).unwrap_or_default();
        let body = match read_limited(response).await {
            Ok(body) => body,
            Err(detail) => return blocked(502, Blocked::Upstream { url: url.to_string(), detail }),
        };
        let body = if is_text(&content_type) { self.rewrite_text(body) } else { body };
        headers.push(("content-security-policy".into(), self.content_security_policy()));
        Outcome { response: ProxyResponse { status, headers, body }, blocked: None }
    }

    /// The policy every proxied document gets: loads only through the proxy,
    /// from the allowed origins; no popups, no top-level navigation, no plugins.
    pub fn content_security_policy(&self) -> String {
        let sources = self.kiosk_origins().join(" ");
        format!(
            "default-src {sources} data: blob: 'unsafe-inline' 'unsafe-eval'; connect-src {sources}; \
             form-action {sources}; object-src 'none'; base-uri {sources}; \
             sandbox allow-scripts allow-forms allow-same-origin allow-modals"
        )
    }

    /// Absolute `https` links to allowed origins in HTML, CSS and scripts go
    /// through the proxy too (relative links need nothing).
    fn rewrite_text(&self, body: Vec<u8>) -> Vec<u8> {
        let Ok(mut text) = String::from_utf8(body.clone()) else { return body };
        for origin in &self.origins {
            let kiosk = kiosk_origin(origin);
            text = text.replace(&origin.https(), &kiosk);
            if origin.port == 443 {
                text = text.replace(&format!("https://{}", origin.host), &kiosk);
            }
        }
        text.into_bytes()
    }

    fn cookie_header(&self, origin: &Origin) -> Option<String> {
        let jar = self.cookies.lock().unwrap_or_else(|p| p.into_inner());
        let cookies = jar.get(origin).filter(|c| !c.is_empty())?;
        Some(cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; "))
    }

    fn store_cookie(&self, origin: &Origin, set_cookie: &str) {
        let mut parts = set_cookie.split(';').map(str::trim);
        let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else { return };
        let expired = parts.any(|a| a.eq_ignore_ascii_case("max-age=0") || a.to_ascii_lowercase().starts_with("max-age=-"));
        let mut jar = self.cookies.lock().unwrap_or_else(|p| p.into_inner());
        let cookies = jar.entry(origin.clone()).or_default();
        if expired {
            cookies.remove(name);
        } else if cookies.len() < 64 && name.len() + value.len() < 4096 {
            cookies.insert(name.to_string(), value.to_string());
        }
    }
}

/// `examweb://host:port`.
fn kiosk_origin(origin: &Origin) -> String {
    format!("{SCHEME}://{}:{}", origin.host, origin.port)
}

/// The `examweb:` URL of an `https` URL (host, explicit port, path, query, fragment).
pub fn to_kiosk_url(url: &reqwest::Url) -> String {
    let origin = Origin::of(url).map(|o| kiosk_origin(&o)).unwrap_or_default();
    let mut out = format!("{origin}{}", url.path());
    if let Some(q) = url.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = url.fragment() {
        out.push('#');
        out.push_str(f);
    }
    out
}

fn is_text(content_type: &str) -> bool {
    ["text/html", "text/css", "javascript", "application/json"].iter().any(|t| content_type.contains(t))
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| error_chain(&e))? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(format!("response larger than {MAX_RESPONSE_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The short page the student sees instead of a blocked request.
fn blocked(status: u16, reason: Blocked) -> Outcome {
    const PAGE: &str = "<!doctype html><html lang=\"nl\"><meta charset=\"utf-8\"><title>Geblokkeerd</title>\
         <main role=\"alert\"><h1>Deze pagina is geblokkeerd</h1><p>Deze pagina hoort niet bij het examen. \
         Ga terug of roep de surveillant.</p></main></html>";
    Outcome {
        response: ProxyResponse {
            status,
            headers: vec![
                ("content-type".into(), "text/html; charset=utf-8".into()),
                ("content-security-policy".into(), "default-src 'none'; sandbox".into()),
            ],
            body: PAGE.as_bytes().to_vec(),
        },
        blocked: Some(reason),
    }
}
