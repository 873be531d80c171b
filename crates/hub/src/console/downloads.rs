//! The reports of a sitting, from the console: the proces-verbaal (printable
//! HTML and PDF, with the hub's seal in a response header and as a file of
//! its own, `proces-verbaal-<sitting>.pdf.sig`), the results CSV for the
//! student information system, and the invigilators' remarks — all made by
//! [`crate::reports`].
//!
//! The seal covers the exact bytes of one download, and the proces-verbaal
//! changes while PCs still report (heartbeats, journals); so the `.sig`
//! route does not make a new document but serves the seal of the file this
//! user last downloaded of that sitting from this hub node (kept in memory
//! for [`SEAL_KEPT_MS`]).

use super::auth::ConsoleUser;
use super::{Console, ConsoleError};
use crate::reports;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The header carrying the seal (`reports::Seal::to_text`, lines joined by `; `).
pub const SEAL_HEADER: &str = "exam-hub-seal";

/// Refuses a sitting of a room the user does not run.
async fn check_room(console: &Console, user: &ConsoleUser, sitting: &str) -> Result<(), ConsoleError> {
    let room = crate::store::planning::room_of(&console.hub.db.pool, sitting)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("zitting {sitting} bestaat niet")))?;
    if user.account.may_act_in(&room) {
        Ok(())
    } else {
        Err(ConsoleError::WrongRoom)
    }
}

/// `file_name` must be header-safe: build it with [`reports::file_name_part`].
fn download(bytes: Vec<u8>, content_type: &'static str, file_name: &str, seal: Option<reports::Seal>) -> Response {
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(seal) = seal {
        if let Ok(v) = HeaderValue::from_str(&seal.to_text().trim().replace('\n', "; ")) {
            h.insert(SEAL_HEADER, v);
        }
    }
    response
}

/// How long the seal of a served proces-verbaal can be downloaded (the
/// console's longest session).
pub const SEAL_KEPT_MS: i64 = super::auth::MAX_SESSION_MS;
/// Seals kept at most (the oldest go first).
const SEALS_KEPT: usize = 10_000;

/// (hub signing key, account, sitting, "pdf" or "html") -> (served at, seal).
type ServedSeals = BTreeMap<(String, String, String, &'static str), (i64, reports::Seal)>;

fn served_seals() -> &'static Mutex<ServedSeals> {
    static SEALS: OnceLock<Mutex<ServedSeals>> = OnceLock::new();
    SEALS.get_or_init(|| Mutex::new(BTreeMap::new()))
}

fn seal_key(console: &Console, user: &ConsoleUser, sitting: &str, kind: &'static str) -> (String, String, String, &'static str) {
    (console.hub.keys.signing_public_hex.clone(), user.account.username.clone(), sitting.to_string(), kind)
}

/// Remembers the seal of a file just served.
fn remember_seal(console: &Console, user: &ConsoleUser, sitting: &str, kind: &'static str, seal: &reports::Seal) {
    let now = crate::now_ms();
    let mut seals = served_seals().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    seals.retain(|_, (at, _)| now - *at < SEAL_KEPT_MS);
    while seals.len() >= SEALS_KEPT {
        let Some(oldest) = seals.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| k.clone()) else { break };
        seals.remove(&oldest);
    }
    seals.insert(seal_key(console, user, sitting, kind), (now, seal.clone()));
}

/// The proces-verbaal as the console serves it: built with the hub's keys
/// (the school and policy also on PostgreSQL), sealed, the seal kept for
/// the `.sig` route.
async fn sealed_proces_verbaal(console: &Console, user: &ConsoleUser, sitting: &str, kind: &'static str) -> Result<Response, ConsoleError> {
    check_room(console, user, sitting).await?;
    let pv = reports::ProcesVerbaal::of_hub(&console.hub.db, &console.hub.keys, sitting).await?;
    let (bytes, content_type) = match kind {
        "pdf" => (pv.to_pdf().into_bytes(), "application/pdf"),
        _ => (pv.to_html().into_bytes(), "text/html; charset=utf-8"),
    };
    let seal = reports::seal(&console.hub.keys, &bytes);
    remember_seal(console, user, sitting, kind, &seal);
    Ok(download(bytes, content_type, &format!("proces-verbaal-{}.{kind}", reports::file_name_part(sitting)), Some(seal)))
}

/// The seal of the proces-verbaal this user last downloaded, as a file.
async fn seal_file(console: &Console, user: &ConsoleUser, sitting: &str, kind: &'static str) -> Result<Response, ConsoleError> {
    check_room(console, user, sitting).await?;
    let now = crate::now_ms();
    let seal = served_seals()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&seal_key(console, user, sitting, kind))
        .filter(|(at, _)| now - *at < SEAL_KEPT_MS)
        .map(|(_, seal)| seal.clone())
        .ok_or_else(|| {
            ConsoleError::NotFound(format!(
                "geen zegel: download eerst het proces-verbaal ({kind}) van zitting {sitting}; het zegel hoort bij precies dat bestand"
            ))
        })?;
    Ok(download(
        seal.to_text().into_bytes(),
        "text/plain; charset=utf-8",
        &format!("proces-verbaal-{}.{kind}.sig", reports::file_name_part(sitting)),
        None,
    ))
}

/// `GET /console/api/sittings/{sitting}/proces-verbaal.html`.
pub async fn proces_verbaal_html(State(console): State<Arc<Console>>, Path(sitting): Path<String>, user: ConsoleUser) -> Result<Response, ConsoleError> {
    sealed_proces_verbaal(&console, &user, &sitting, "html").await
}

/// `GET /console/api/sittings/{sitting}/proces-verbaal.pdf`.
pub async fn proces_verbaal_pdf(State(console): State<Arc<Console>>, Path(sitting): Path<String>, user: ConsoleUser) -> Result<Response, ConsoleError> {
    sealed_proces_verbaal(&console, &user, &sitting, "pdf").await
}

/// `GET /console/api/sittings/{sitting}/proces-verbaal.pdf.sig`: the seal
/// of the PDF this user last downloaded (404 with the reason before that).
pub async fn proces_verbaal_pdf_seal(State(console): State<Arc<Console>>, Path(sitting): Path<String>, user: ConsoleUser) -> Result<Response, ConsoleError> {
    seal_file(&console, &user, &sitting, "pdf").await
}

/// `GET /console/api/sittings/{sitting}/proces-verbaal.html.sig`: the same for the HTML page.
pub async fn proces_verbaal_html_seal(State(console): State<Arc<Console>>, Path(sitting): Path<String>, user: ConsoleUser) -> Result<Response, ConsoleError> {
    seal_file(&console, &user, &sitting, "html").await
}

/// `GET /console/api/sittings/{sitting}/results.csv`.
pub async fn results_csv(State(console): State<Arc<Console>>, Path(sitting): Path<String>, user: ConsoleUser) -> Result<Response, ConsoleError> {
    check_room(&console, &user, &sitting).await?;
    let csv = reports::results(&console.hub.db, &sitting).await?.to_csv().into_bytes();
    Ok(download(csv, "text/csv; charset=utf-8", &format!("resultaten-{}.csv", reports::file_name_part(&sitting)), None))
}

/// `GET /console/api/sittings/{sitting}/remarks`.
pub async fn remarks(State(console): State<Arc<Console>>, Path(sitting): Path<String>, user: ConsoleUser) -> Result<axum::Json<Vec<reports::Remark>>, ConsoleError> {
    check_room(&console, &user, &sitting).await?;
    Ok(axum::Json(reports::list_remarks(&console.hub.db, &sitting).await?))
}

/// `POST /console/api/sittings/{sitting}/remarks` body.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemarkRequest {
    /// The remark, free text.
    pub text: String,
}

/// `POST /console/api/sittings/{sitting}/remarks`: adds a remark for the proces-verbaal.
pub async fn add_remark(
    State(console): State<Arc<Console>>,
    Path(sitting): Path<String>,
    user: ConsoleUser,
    super::Body(req): super::Body<RemarkRequest>,
) -> Result<axum::Json<reports::Remark>, ConsoleError> {
    check_room(&console, &user, &sitting).await?;
    let remark = reports::add_remark(&console.hub.db, &sitting, &user.account.display_name, &req.text).await?;
    Ok(axum::Json(remark))
}
