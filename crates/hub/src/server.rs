//! The HTTPS server: TLS 1.3 accept loop with optional client certificates
//! and the router over the shared state ([`crate::state`]). Handshake,
//! headers and every request body are bounded in time (a body must keep a
//! minimum rate: `body_rate`).

use crate::config::{self, HANDSHAKE_TIMEOUT, HEADER_TIMEOUT};
use crate::pki;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

mod body_rate;
use crate::state::{ConnInfo, Hub};
use body_rate::MinRateBody;
use std::sync::atomic::{AtomicBool, Ordering};

async fn journal_slot(
    axum::extract::State(hub): axum::extract::State<Arc<Hub>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    // The semaphore is never closed; without a permit the request still runs.
    let _permit = hub.journal_slots.clone().acquire_owned().await.ok();
    next.run(req).await
}

/// Builds the router over shared state.
pub fn router(hub: Arc<Hub>) -> Router {
    use crate::api;
    let json_limit = DefaultBodyLimit::max(config::MAX_JSON_BODY);
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/api/v1/enrol", post(api::enrol).layer(json_limit))
        .route("/api/v1/enrol/challenge", post(api::enrol_challenge).layer(json_limit))
        .route("/api/v1/echo", post(api::echo).layer(json_limit))
        .route("/api/v1/login", post(api::login).layer(json_limit))
        .route("/api/v1/assignment", get(api::assignment))
        .route("/api/v1/instruments/{id}", get(api::instrument))
        .route("/api/v1/start", post(api::start))
        .route(
            "/api/v1/journal",
            post(api::journal)
                .layer(DefaultBodyLimit::max(config::MAX_JOURNAL_BODY))
                .layer(axum::middleware::from_fn_with_state(hub.clone(), journal_slot)),
        )
        .route("/api/v1/answers", post(api::answers).layer(DefaultBodyLimit::max(config::MAX_ANSWER_BODY)))
        .route("/api/v1/answers/latest", get(crate::answers_api::latest))
        .route("/api/v1/web-session", post(crate::web_session::web_session))
        .route("/api/v1/heartbeat", post(api::heartbeat).layer(json_limit))
        .route("/api/v1/instructions", get(api::instructions))
        .route("/api/v1/instructions/ack", post(api::instruction_ack).layer(json_limit))
        .merge(crate::console::router(hub.clone()))
        .fallback(api::not_found)
        .with_state(hub)
}

/// Serves HTTPS on `listener` until `shutdown` resolves.
pub async fn serve(listener: TcpListener, hub: Arc<Hub>, shutdown: impl std::future::Future<Output = ()>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(hub.keys.tls.clone());
    let app = router(hub);
    tokio::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors and similar: back off, keep serving.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(err)) => {
                    tracing::debug!(%remote, error = %err, "TLS handshake refused");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%remote, "TLS handshake timed out");
                    return;
                }
            };
            let client_cert_sha256 =
                tls.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| pki::cert_sha256(c.as_ref()));
            let info = ConnInfo { remote, client_cert_sha256 };
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(info.clone());
                // Every body must keep arriving (see `body_rate`).
                let timed_out = Arc::new(AtomicBool::new(false));
                let req = req.map(|body| axum::body::Body::new(MinRateBody::new(body, timed_out.clone())));
                let app = app.clone();
                async move {
                    let response = app.oneshot(req).await;
                    if timed_out.load(Ordering::Relaxed) {
                        tracing::info!(%remote, "request body too slow: cut");
                        return Ok(body_rate::too_slow_response());
                    }
                    response
                }
            });
            let result = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(tls), service)
                .await;
            if let Err(err) = result {
                tracing::debug!(%remote, error = %err, "connection ended with an error");
            }
        });
    }
}
