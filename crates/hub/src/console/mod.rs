//! The invigilator console: web pages served by exam-hub under `/console/`
//! over its TLS (no client certificate needed; the kiosk API keeps requiring
//! one), for invigilators and exam administrators.
//!
//! | module | job |
//! |---|---|
//! | [`password`] | PBKDF2 password hashes |
//! | [`accounts`] | per-person accounts, roles, rooms, lock-out |
//! | [`auth`] | sign-in, session cookie, CSRF, rate limit |
//! | [`room`] | the room view built from the hub's tables; room codes |
//! | [`live`] | the live view: one watcher per room, SSE snapshot + patches |
//! | [`actions`] | invigilator actions: checked, journalled, delivered |
//! | [`downloads`] | proces-verbaal, results and remarks (the `reports` module) |
//! | [`archive`] | the exam office's archive: every sitting, search by student |
//! | [`scoring`] | hand scoring by the exam office ("Beoordelen") |
//! | [`assets`] | the pages, embedded in the binary, with strict headers |
//!
//! `docs/console.md` is the guide; `docs/protocol.md` lists the endpoints.

pub use crate::accounts;
pub mod actions;
pub mod archive;
pub mod assets;
pub mod auth;
pub mod downloads;
mod event_text;
pub mod live;
pub use crate::accounts::password;
pub mod room;
pub mod scoring;

use crate::state::Hub;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response, Sse};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// Largest JSON body the console accepts.
pub const MAX_BODY: usize = 16 * 1024;

/// The console's shared state.
#[derive(Debug)]
pub struct Console {
    /// The hub (database, keys, instruction poller).
    pub hub: Arc<Hub>,
    /// Sign-in attempts per client address.
    pub login_limiter: crate::ratelimit::RateLimiter<std::net::IpAddr>,
    /// Growing delays after wrong passwords, per (user name as typed, client address).
    pub login_backoff: crate::ratelimit::Backoff<(String, std::net::IpAddr)>,
    /// Watched rooms.
    pub watchers: live::Watchers,
    /// The live view's own few connections (see [`Console::read_pool`]).
    read_pool: tokio::sync::OnceCell<sqlx::AnyPool>,
}

/// Connections of the live view's read pool, per hub node.
pub const READ_POOL_CONNECTIONS: u32 = 2;

impl Console {
    /// A small pool of its own for the live view's read-only queries, so a
    /// room full of kiosks keeping the hub's connections busy does not hold
    /// up the invigilator's view (SQLite in WAL mode: readers never wait for
    /// the writer). Falls back to the hub's pool if it cannot connect.
    pub async fn read_pool(&self) -> &sqlx::AnyPool {
        self.read_pool
            .get_or_init(|| async {
                let options = (*self.hub.db.pool.connect_options()).clone();
                sqlx::any::AnyPoolOptions::new()
                    .max_connections(READ_POOL_CONNECTIONS)
                    .acquire_timeout(crate::db::ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .unwrap_or_else(|err| {
                        tracing::warn!(error = %err, "console read pool unavailable; using the hub's pool");
                        self.hub.db.pool.clone()
                    })
            })
            .await
    }
}

/// The JSON body of a refused console request.
#[derive(Debug, serde::Serialize)]
pub struct ErrorBody {
    /// Machine-readable code (`login_required`, `csrf`, `conflict`, `sitting_finished`, ...).
    pub error: &'static str,
    /// What happened, in Dutch, for the page to show.
    pub message: String,
    /// For `conflict`: the current version of the seat or sitting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// "1 seconde", "5 seconden".
fn seconds_nl(n: u64) -> String {
    if n == 1 {
        "1 seconde".into()
    } else {
        format!("{n} seconden")
    }
}

/// Why a console request was refused. Every variant becomes a JSON
/// `{"error": code, "message": text}` with a fitting status.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No valid session.
    #[error("meld u aan")]
    LoginRequired,
    /// Missing or wrong CSRF token, or a cross-site request.
    #[error("de pagina is verlopen of de aanvraag kwam niet van de console zelf; vernieuw de pagina")]
    Csrf,
    /// Wrong user name or password.
    #[error("onjuiste gebruikersnaam of wachtwoord")]
    WrongPassword,
    /// Too many sign-in attempts from this address: retry after seconds.
    #[error("te veel aanmeldpogingen; probeer het over {} opnieuw", seconds_nl(*.0))]
    RateLimited(u64),
    /// The account may not act on this room.
    #[error("u bent niet ingedeeld in dit lokaal")]
    WrongRoom,
    /// Only for the exam office (role admin).
    #[error("alleen voor het examenbureau (beheerders)")]
    AdminOnly,
    /// Not found.
    #[error("{0}")]
    NotFound(String),
    /// Input refused.
    #[error("{0}")]
    Invalid(String),
    /// Someone else acted first (the current version, when known).
    #[error("{0}")]
    Conflict(String, Option<i64>),
    /// The sitting or seat is finished.
    #[error("{0}")]
    Finished(String),
    /// A report could not be made.
    #[error("{0}")]
    Report(#[from] crate::reports::ReportError),
    /// The database failed.
    #[error("de database van de examenserver is niet bereikbaar; probeer het opnieuw")]
    Db(#[from] sqlx::Error),
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        use crate::reports::ReportError;
        let (status, code) = match &self {
            ConsoleError::LoginRequired => (StatusCode::UNAUTHORIZED, "login_required"),
            ConsoleError::Csrf => (StatusCode::FORBIDDEN, "csrf"),
            ConsoleError::WrongPassword => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            ConsoleError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ConsoleError::WrongRoom => (StatusCode::FORBIDDEN, "wrong_room"),
            ConsoleError::AdminOnly => (StatusCode::FORBIDDEN, "admin_only"),
            ConsoleError::NotFound(_) | ConsoleError::Report(ReportError::UnknownSitting(_)) => (StatusCode::NOT_FOUND, "not_found"),
            ConsoleError::Invalid(_) | ConsoleError::Report(ReportError::Invalid(_)) => (StatusCode::BAD_REQUEST, "invalid"),
            ConsoleError::Conflict(..) => (StatusCode::CONFLICT, "conflict"),
            ConsoleError::Finished(_) => (StatusCode::CONFLICT, "sitting_finished"),
            ConsoleError::Report(_) | ConsoleError::Db(_) => {
                tracing::error!(error = %self, "console request failed");
                (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable")
            }
        };
        let version = match &self {
            ConsoleError::Conflict(_, version) => *version,
            _ => None,
        };
        let body = ErrorBody { error: code, message: self.to_string(), version };
        let mut response = (status, axum::Json(body)).into_response();
        if let ConsoleError::RateLimited(secs) = &self {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        response
    }
}

impl From<crate::accounts::AccountError> for ConsoleError {
    fn from(err: crate::accounts::AccountError) -> Self {
        match err {
            crate::accounts::AccountError::Invalid(m) => ConsoleError::Invalid(m),
            crate::accounts::AccountError::NotFound(m) => ConsoleError::NotFound(m),
            crate::accounts::AccountError::Db(e) => ConsoleError::Db(e),
        }
    }
}

impl From<crate::admin::AdminError> for ConsoleError {
    fn from(err: crate::admin::AdminError) -> Self {
        match err {
            crate::admin::AdminError::NotFound(m) => ConsoleError::NotFound(m),
            crate::admin::AdminError::Invalid(m) => ConsoleError::Invalid(m),
            crate::admin::AdminError::Db(e) => ConsoleError::Db(e),
        }
    }
}

/// A JSON body (`application/json` only, at most [`MAX_BODY`]) whose
/// rejections are [`ConsoleError::Invalid`].
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ConsoleError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(ConsoleError::Invalid(rejection.body_text())),
        }
    }
}

/// Text from a person: 1..=`max` characters, no control characters except
/// line breaks and tabs.
pub fn check_text(what: &str, text: &str, max: usize) -> Result<(), ConsoleError> {
    crate::check_text(what, text, max).map_err(ConsoleError::Invalid)
}

/// One room the user may see, with its sittings of the day.
#[derive(Debug, serde::Serialize)]
pub struct RoomSummary {
    /// Room.
    pub room: String,
    /// Sittings starting within [`room::VIEW_WINDOW_MS`] of now.
    pub sittings: Vec<String>,
}

/// `GET /console/api/rooms`: the rooms the user may see.
async fn rooms(State(console): State<Arc<Console>>, user: auth::ConsoleUser) -> Result<axum::Json<Vec<RoomSummary>>, ConsoleError> {
    let now = crate::now_ms();
    let rooms = crate::store::devices::rooms_with_sittings(&console.hub.db.pool).await?;
    let mut out = Vec::new();
    for room in rooms {
        if !user.account.may_act_in(&room) {
            continue;
        }
        let sittings = crate::store::planning::of_room(&console.hub.db.pool, &room, now - room::VIEW_WINDOW_MS, now + room::VIEW_WINDOW_MS).await?;
        out.push(RoomSummary { room, sittings });
    }
    // Invigilators see their rooms even before anything is planned there.
    for room in &user.account.rooms {
        if !out.iter().any(|r| &r.room == room) {
            out.push(RoomSummary { room: room.clone(), sittings: Vec::new() });
        }
    }
    Ok(axum::Json(out))
}

/// `GET /console/api/rooms/{room}`: the room view now.
async fn room_view(State(console): State<Arc<Console>>, Path(room): Path<String>, user: auth::ConsoleUser) -> Result<axum::Json<room::RoomView>, ConsoleError> {
    if !user.account.may_act_in(&room) {
        return Err(ConsoleError::WrongRoom);
    }
    Ok(axum::Json(room::load(console.read_pool().await, &console.hub.keys, &room, crate::now_ms(), &mut room::EventCache::default()).await?))
}

/// `GET /console/api/rooms/{room}/events`: the live room view (SSE).
async fn room_events(State(console): State<Arc<Console>>, Path(room): Path<String>, user: auth::ConsoleUser) -> Result<Response, ConsoleError> {
    if !user.account.may_act_in(&room) {
        return Err(ConsoleError::WrongRoom);
    }
    let stream = live::stream(console.clone(), &room, user.token_hash().to_string());
    Ok(Sse::new(stream).keep_alive(axum::response::sse::KeepAlive::new().interval(std::time::Duration::from_secs(15))).into_response())
}

/// The console's routes, all under `/console/`.
pub fn router<S>(hub: Arc<Hub>) -> Router<S> {
    let console = Arc::new(Console {
        hub,
        login_limiter: crate::ratelimit::RateLimiter::new(auth::LOGIN_ATTEMPTS_PER_WINDOW, auth::LOGIN_WINDOW_MS, auth::LOGIN_LIMITER_CAPACITY),
        login_backoff: auth::login_backoff(),
        watchers: live::Watchers::default(),
        read_pool: tokio::sync::OnceCell::new(),
    });
    let api = Router::new()
        .route("/login", post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/rooms", get(rooms))
        .route("/rooms/{room}", get(room_view))
        .route("/rooms/{room}/events", get(room_events))
        .route("/rooms/{room}/actions", post(actions::act))
        .route("/sittings/{sitting}/proces-verbaal.html", get(downloads::proces_verbaal_html))
        .route("/sittings/{sitting}/proces-verbaal.pdf", get(downloads::proces_verbaal_pdf))
        .route("/sittings/{sitting}/proces-verbaal.html.sig", get(downloads::proces_verbaal_html_seal))
        .route("/sittings/{sitting}/proces-verbaal.pdf.sig", get(downloads::proces_verbaal_pdf_seal))
        .route("/sittings/{sitting}/results.csv", get(downloads::results_csv))
        .route("/sittings/{sitting}/remarks", get(downloads::remarks).post(downloads::add_remark))
        .route("/sittings/{sitting}/scoring", get(scoring::view))
        .route("/sittings/{sitting}/scores", post(scoring::score))
        .route("/archive", get(archive::sittings))
        .route("/archive/rooms", get(archive::rooms))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::map_response(assets::no_store));
    Router::new()
        .nest("/console/api", api)
        .route("/console", get(|| async { axum::response::Redirect::permanent("/console/") }))
        .route("/console/", get(assets::page))
        .route("/console/{file}", get(assets::page))
        .layer(axum::middleware::map_response(assets::security_headers))
        .with_state(console)
}
