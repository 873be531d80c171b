//! The console's pages, styles and scripts, embedded in the binary, served
//! with a strict Content-Security-Policy (own scripts and styles only,
//! nothing inline, no framing) and no caching of API answers.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The embedded files: (name, content type, bytes).
const FILES: &[(&str, &str, &str)] = &[
    ("index.html", "text/html; charset=utf-8", include_str!("../../console/index.html")),
    ("rooms.html", "text/html; charset=utf-8", include_str!("../../console/rooms.html")),
    ("room.html", "text/html; charset=utf-8", include_str!("../../console/room.html")),
    ("console.css", "text/css; charset=utf-8", include_str!("../../console/console.css")),
    ("common.js", "text/javascript; charset=utf-8", include_str!("../../console/common.js")),
    ("login.js", "text/javascript; charset=utf-8", include_str!("../../console/login.js")),
    ("rooms.js", "text/javascript; charset=utf-8", include_str!("../../console/rooms.js")),
    ("room.js", "text/javascript; charset=utf-8", include_str!("../../console/room.js")),
    ("view.js", "text/javascript; charset=utf-8", include_str!("../../console/view.js")),
    ("archive.html", "text/html; charset=utf-8", include_str!("../../console/archive.html")),
    ("archive.js", "text/javascript; charset=utf-8", include_str!("../../console/archive.js")),
    ("archive.css", "text/css; charset=utf-8", include_str!("../../console/archive.css")),
    ("scoring.html", "text/html; charset=utf-8", include_str!("../../console/scoring.html")),
    ("scoring.js", "text/javascript; charset=utf-8", include_str!("../../console/scoring.js")),
    ("scoring.css", "text/css; charset=utf-8", include_str!("../../console/scoring.css")),
];

/// The Content-Security-Policy of every console response.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `GET /console/` and `GET /console/{file}`.
pub async fn page(file: Option<Path<String>>) -> Response {
    let name = file.map_or_else(|| "index.html".to_string(), |Path(f)| f);
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => ([(header::CONTENT_TYPE, *content_type)], *body).into_response(),
        None => (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Niet gevonden").into_response(),
    }
}

/// Adds the security headers to every console response.
pub async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    response
}

/// API answers (room views, codes, reports) are never stored by the browser.
pub async fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
