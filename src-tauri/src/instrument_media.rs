//! The `exammedia:` URI scheme: the images, audio, video, caption tracks
//! and PDF reference material of the running QTI instrument, served from
//! the decrypted package kiosk-core holds in memory
//! ([`kiosk_core::instrument::media`]). Only what its render model uses;
//! nothing before the start or after the hand-in.

use kiosk_core::instrument::media::MEDIA_SCHEME;
use tauri::http::{header, Response, StatusCode};
use tauri::{Manager as _, Runtime};

/// Registers the `exammedia:` scheme on the builder.
pub fn register<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.register_uri_scheme_protocol(MEDIA_SCHEME, |ctx, request| {
        let url = request.uri().to_string();
        // The kiosk's own page reads a PDF's bytes (naslag, pdf.js) with
        // fetch, which is cross-origin from its own scheme: only its own
        // origin may read them (Linux and macOS `tauri://localhost`,
        // Windows `http://tauri.localhost`), and only PDFs: images and
        // media need no CORS.
        let origin = request
            .headers()
            .get(header::ORIGIN)
            .filter(|o| matches!(o.to_str(), Ok("tauri://localhost" | "http://tauri.localhost" | "https://tauri.localhost")))
            .cloned();
        let found = ctx.app_handle().try_state::<crate::AppState>().and_then(|s| s.kiosk.instrument_media(&url));
        let mut response = Response::new(Vec::new());
        match found {
            Some((bytes, mime)) => {
                *response.body_mut() = bytes;
                if let Ok(v) = header::HeaderValue::from_str(mime) {
                    response.headers_mut().insert(header::CONTENT_TYPE, v);
                }
                // Images never run script, even SVG: no scripts, no loads from anywhere.
                response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, header::HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"));
                if let Some(origin) = origin.filter(|_| mime == "application/pdf") {
                    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                    response.headers_mut().insert(header::VARY, header::HeaderValue::from_static("Origin"));
                }
            }
            None => *response.status_mut() = StatusCode::NOT_FOUND,
        }
        response
    })
}
