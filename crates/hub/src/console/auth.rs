//! Console sign-in: sessions in an `HttpOnly; Secure; SameSite=Strict`
//! cookie (only its SHA-256 is stored), expiring when idle and after a
//! maximum age; a CSRF token per session that every state-changing request
//! must echo in a header; a per-address rate limit on sign-in attempts, and
//! growing delays after wrong passwords per (user name, address) instead of
//! a lock-out: an attacker elsewhere on the network cannot lock anyone out,
//! and an unknown user name is answered exactly like a known one.

use super::accounts::{self, Account, LoginOutcome};
use super::{Console, ConsoleError};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use crate::store;
use std::sync::Arc;

/// The session cookie. `__Host-` makes browsers insist on `Secure`, `Path=/`
/// and no `Domain`, so no other host can plant it.
pub const COOKIE: &str = "__Host-exam-console";
/// The header state-changing requests carry the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session ends after this long without a request.
pub const IDLE_TIMEOUT_MS: i64 = 30 * 60 * 1000;
/// A session ends this long after sign-in, whatever happens.
pub const MAX_SESSION_MS: i64 = 12 * 60 * 60 * 1000;
/// Sign-in attempts one address may make per [`LOGIN_WINDOW_MS`].
pub const LOGIN_ATTEMPTS_PER_WINDOW: usize = 10;
/// The window of the sign-in rate limit.
pub const LOGIN_WINDOW_MS: i64 = 60 * 1000;
/// Addresses the sign-in rate limiter remembers at most (idle ones forgotten first).
pub const LOGIN_LIMITER_CAPACITY: usize = 10_000;
/// Wrong passwords per (user name, address) answered without delay.
pub const FREE_FAILURES: u32 = 3;
/// The first delay after [`FREE_FAILURES`]; each further wrong password doubles it.
pub const FIRST_DELAY_MS: i64 = 1_000;
/// The longest delay.
pub const MAX_DELAY_MS: i64 = 5 * 60 * 1000;

/// The console's sign-in delays (see [`crate::ratelimit::Backoff`]).
pub fn login_backoff() -> crate::ratelimit::Backoff<(String, std::net::IpAddr)> {
    crate::ratelimit::Backoff::new(FREE_FAILURES, FIRST_DELAY_MS, MAX_DELAY_MS, LOGIN_LIMITER_CAPACITY)
}

/// A signed-in console user, checked on every request: valid session
/// cookie, enabled account, and for state-changing methods the CSRF token
/// and a same-origin request.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    /// The account.
    pub account: Account,
    /// The session's CSRF token.
    pub csrf_token: String,
    token_hash: String,
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Refuses cross-site requests: browsers send `Sec-Fetch-Site` and `Origin`
/// on every state-changing fetch; when present they must say same-origin.
fn same_origin(headers: &HeaderMap) -> Result<(), ConsoleError> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return Err(ConsoleError::Csrf);
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        if origin != format!("https://{host}") {
            return Err(ConsoleError::Csrf);
        }
    }
    Ok(())
}

impl FromRequestParts<Arc<Console>> for ConsoleUser {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, console: &Arc<Console>) -> Result<Self, ConsoleError> {
        let token = cookie_value(&parts.headers, COOKIE).filter(|t| !t.is_empty() && t.len() <= 128).ok_or(ConsoleError::LoginRequired)?;
        let token_hash = crate::sha256_hex(token.as_bytes());
        let db = &console.hub.db;
        let now = crate::now_ms();
        let row = store::accounts::session(&db.pool, &token_hash).await?.ok_or(ConsoleError::LoginRequired)?;
        let last_used = row.last_used_ms;
        if row.revoked_ms.is_some() || row.expires_ms <= now || now - last_used > IDLE_TIMEOUT_MS {
            return Err(ConsoleError::LoginRequired);
        }
        let csrf_token = row.csrf_token;
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            same_origin(&parts.headers)?;
            let given = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !exam_secure::constant_time_eq(given.as_bytes(), csrf_token.as_bytes()) {
                return Err(ConsoleError::Csrf);
            }
        }
        let account = accounts::load(db, &row.username).await?.ok_or(ConsoleError::LoginRequired)?;
        // Touch the session at most every few seconds (a live page polls nothing, but
        // every action would otherwise write).
        if now - last_used > 5_000 {
            store::accounts::touch_session(&db.pool, &token_hash, now).await?;
        }
        Ok(ConsoleUser { account, csrf_token, token_hash })
    }
}

impl ConsoleUser {
    /// SHA-256 of the session cookie (for the live stream's session checks).
    pub(super) fn token_hash(&self) -> &str {
        &self.token_hash
    }
}

/// True while a session is neither revoked nor expired; a live page keeps
/// its session from idling out (watching the room is using the console).
pub async fn session_alive(db: &crate::db::Db, token_hash: &str) -> bool {
    let now = crate::now_ms();
    let result = store::accounts::touch_live_session(&db.pool, token_hash, now).await;
    // A database hiccup does not sign anyone out.
    result.unwrap_or(true)
}

/// `POST /console/api/login` body.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// What the console page needs to know about the signed-in user.
#[derive(Debug, serde::Serialize)]
pub struct Me {
    /// The account.
    pub account: Account,
    /// The token to send in the `X-CSRF-Token` header.
    pub csrf_token: String,
    /// When the session ends at the latest (unix ms).
    pub idle_timeout_ms: i64,
}

fn session_cookie(token: &str, max_age_secs: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}"))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// `POST /console/api/login`.
pub async fn login(
    State(console): State<Arc<Console>>,
    axum::Extension(conn): axum::Extension<crate::state::ConnInfo>,
    headers: HeaderMap,
    super::Body(req): super::Body<LoginRequest>,
) -> Result<Response, ConsoleError> {
    same_origin(&headers)?;
    let now = crate::now_ms();
    console.login_limiter.check(&conn.remote.ip(), now).map_err(ConsoleError::RateLimited)?;
    accounts::check_username(&req.username).map_err(|_| ConsoleError::WrongPassword)?;
    if req.password.len() > super::password::MAX_PASSWORD_LEN * 4 {
        return Err(ConsoleError::WrongPassword);
    }
    // Slowed per (name as typed, address), known name or not: the answer
    // never tells whether an account exists, and no one elsewhere is slowed.
    let key = (req.username.clone(), conn.remote.ip());
    console.login_backoff.check(&key, now).map_err(ConsoleError::RateLimited)?;
    // Counted as failed before the (slow) password check, so attempts sent
    // at once cannot all pass the wait; a success clears the count.
    let wait_ms = console.login_backoff.failed(&key, now);
    let db = &console.hub.db;
    let account = match accounts::check_password(db, &req.username, &req.password).await? {
        LoginOutcome::Ok(account) => account,
        LoginOutcome::Wrong => {
            tracing::info!(remote = %conn.remote.ip(), wait_ms, "console sign-in refused");
            return Err(ConsoleError::WrongPassword);
        }
    };
    console.login_backoff.succeeded(&key);
    // Sessions that ended a day ago are of no further use; failing to tidy
    // them up must not keep an invigilator out.
    if let Err(err) = store::accounts::delete_sessions_expired_before(&db.pool, now - 24 * 60 * 60 * 1000).await {
        tracing::warn!(error = %err, "console: expired sessions not removed");
    }
    let token = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, crate::random_bytes(32));
    let csrf_token = crate::random_id();
    store::accounts::insert_session(&db.pool, &crate::sha256_hex(token.as_bytes()), &account.username, &csrf_token, now, now + MAX_SESSION_MS).await?;
    tracing::info!(username = %account.username, "console sign-in");
    let mut response = Json(Me { account, csrf_token, idle_timeout_ms: IDLE_TIMEOUT_MS }).into_response();
    response.headers_mut().insert(header::SET_COOKIE, session_cookie(&token, MAX_SESSION_MS / 1000));
    Ok(response)
}

/// `POST /console/api/logout`: ends the session.
pub async fn logout(State(console): State<Arc<Console>>, user: ConsoleUser) -> Result<Response, ConsoleError> {
    store::accounts::revoke_session(&console.hub.db.pool, &user.token_hash, crate::now_ms()).await?;
    let mut response = Json(serde_json::json!({ "signed_out": true })).into_response();
    response.headers_mut().insert(header::SET_COOKIE, session_cookie("", 0));
    Ok(response)
}

/// `GET /console/api/me`.
pub async fn me(user: ConsoleUser) -> Json<Me> {
    Json(Me { account: user.account, csrf_token: user.csrf_token, idle_timeout_ms: IDLE_TIMEOUT_MS })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_origins() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; __Host-exam-console=tok; b=2"));
        assert_eq!(cookie_value(&h, COOKIE), Some("tok"));
        h.insert(header::HOST, HeaderValue::from_static("hub:8443"));
        h.insert(header::ORIGIN, HeaderValue::from_static("https://hub:8443"));
        assert!(same_origin(&h).is_ok());
        h.insert(header::ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(matches!(same_origin(&h), Err(ConsoleError::Csrf)));
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(matches!(same_origin(&h), Err(ConsoleError::Csrf)));
    }
}
