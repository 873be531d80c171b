//! The shell side of web instruments: the `examweb:` URI scheme, whose every
//! request goes to kiosk-core's [`WebProxy`](kiosk_core::instrument::web_proxy::WebProxy)
//! (pinned TLS, exam key header, allowed origins), and the navigation check
//! for every frame. What is refused is journalled as `web_instrument.blocked`.
//!
//! Pages in the `examweb:` frame never reach the shell's commands: Tauri's
//! initialisation scripts (with the invoke key) go to the main frame only, and
//! the proxy's content security policy allows connections to the allowed
//! origins alone (not `ipc:`).

use kiosk_core::instrument::web_proxy::{Blocked, ProxyRequest, SCHEME};
use kiosk_core::events::{details, KioskEvent};
use kiosk_core::kiosk::Kiosk;
use std::sync::Arc;
use tauri::http::{Request, Response};
use tauri::{Manager as _, Runtime};


/// Registers the `examweb:` scheme on the builder.
pub fn register<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.register_asynchronous_uri_scheme_protocol(SCHEME, |ctx, request, responder| {
        let app = ctx.app_handle().clone();
        tauri::async_runtime::spawn(async move {
            let kiosk = app.try_state::<crate::AppState>().map(|s| s.kiosk.clone());
            responder.respond(handle(kiosk, request).await);
        });
    })
}

async fn handle(kiosk: Option<Arc<Kiosk>>, request: Request<Vec<u8>>) -> Response<Vec<u8>> {
    let url = request.uri().to_string();
    let Some(kiosk) = kiosk else { return plain(503, "starting") };
    let Some(proxy) = kiosk.web_proxy() else {
        journal(&kiosk, &Blocked::ForeignOrigin { url: url.chars().take(512).collect() }).await;
        return plain(403, "no web instrument is running");
    };
    let headers = request
        .headers()
        .iter()
        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str().to_string(), v.to_string())))
        .collect();
    let method = request.method().as_str().to_string();
    let outcome = proxy.handle(ProxyRequest { method, url, headers, body: request.into_body() }).await;
    if let Some(blocked) = &outcome.blocked {
        journal(&kiosk, blocked).await;
    }
    let mut response = Response::builder().status(outcome.response.status);
    for (name, value) in &outcome.response.headers {
        response = response.header(name.as_str(), value.as_str());
    }
    response.body(outcome.response.body).unwrap_or_else(|_| plain(502, "unusable response from the supplier"))
}

/// The kiosk's own pages, exactly: `tauri://localhost` (Linux, macOS) or
/// `http://tauri.localhost` on its default port (Windows). Any other scheme
/// or port on that host name reaches whatever listens on loopback (issue 15).
fn is_app_origin(url: &tauri::Url) -> bool {
    let (scheme, host) = if cfg!(windows) { ("http", "tauri.localhost") } else { ("tauri", "localhost") };
    url.scheme() == scheme && url.host_str() == Some(host) && url.port().is_none() && url.username().is_empty() && url.password().is_none()
}

/// The navigation rule for every frame: the kiosk's own pages (exactly that
/// origin), and `examweb:` URLs on the running web instrument's allowed
/// origins. Anything else is refused and journalled.
pub fn allows_navigation(kiosk: &Arc<Kiosk>, url: &tauri::Url) -> bool {
    if is_app_origin(url) {
        return true;
    }
    let verdict = match kiosk.web_proxy() {
        Some(proxy) => proxy.allows_navigation(url.as_str()),
        None => Err(Blocked::ForeignOrigin { url: url.as_str().chars().take(512).collect() }),
    };
    match verdict {
        Ok(()) => true,
        Err(blocked) => {
            let kiosk = kiosk.clone();
            tauri::async_runtime::spawn(async move { journal(&kiosk, &blocked).await });
            false
        }
    }
}

/// Most frames the page may report as refused by its content security
/// policy in one run (a supplier page could create them in a loop).
const MOST_POLICY_REPORTS: u32 = 200;

/// Journals a frame the page's content security policy refused (issue 15
/// point 4: frames only from the kiosk's own schemes). The page reports
/// it, so the record says so (`seen_by: csp`); at most
/// [`MOST_POLICY_REPORTS`] per run, URLs cut to 512 characters.
pub async fn refused_by_policy(kiosk: &Kiosk, url: &str, directive: &str) {
    static REPORTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    if REPORTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= MOST_POLICY_REPORTS {
        return;
    }
    let url: String = url.chars().take(512).collect();
    let directive: String = directive.chars().take(64).collect();
    let mut payload = serde_json::to_value(Blocked::ForeignOrigin { url }).unwrap_or_default();
    payload["seen_by"] = "csp".into();
    payload["directive"] = directive.into();
    kiosk.record(KioskEvent::WebInstrumentBlocked(details(payload))).await;
}

async fn journal(kiosk: &Kiosk, blocked: &Blocked) {
    kiosk.record(KioskEvent::WebInstrumentBlocked(details(serde_json::to_value(blocked).unwrap_or_default()))).await;
}

fn plain(status: u16, text: &'static str) -> Response<Vec<u8>> {
    let mut response = Response::new(text.as_bytes().to_vec());
    *response.status_mut() = tauri::http::StatusCode::from_u16(status).unwrap_or(tauri::http::StatusCode::FORBIDDEN);
    response
}

#[cfg(test)]
mod tests {
    use super::is_app_origin;

    #[test]
    fn only_the_kiosks_own_origin_is_its_own() {
        let own = if cfg!(windows) { "http://tauri.localhost/index.html" } else { "tauri://localhost/index.html" };
        assert!(is_app_origin(&own.parse().unwrap()));
        for other in [
            "http://tauri.localhost:8080/",
            "https://tauri.localhost:4433/",
            "tauri://localhost:1/",
            "tauri://evil.example/",
            "http://user@tauri.localhost/",
            "examweb://127.0.0.1:1/",
            "http://127.0.0.1/",
        ] {
            if other == own {
                continue;
            }
            assert!(!is_app_origin(&other.parse().unwrap()), "{other}");
        }
    }
}
