//! The reports of a sitting, from the console: the proces-verbaal (printable
//! HTML and PDF, with the hub's seal in a response header), the results CSV
//! for the student information system, and the invigilators' remarks —
//! all made by [`crate::reports`].

use super::auth::ConsoleUser;
use super::{Console, ConsoleError};
use crate::reports;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use sqlx::Row as _;
use std::sync::Arc;

/// The header carrying the seal (`reports::Seal::to_text`, lines joined by `; `).
pub const SEAL_HEADER: &str = "exam-hub-seal";

/// Refuses a sitting of a room the user does not run.
async fn check_room(console: &Console, user: &ConsoleUser, sitting: &str) -> Result<(), ConsoleError> {
    let room: String = sqlx::query("SELECT room FROM sittings WHERE sitting_id = $1")
        .bind(sitting)
        .fetch_optional(&console.hub.db.pool)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("zitting {sitting} bestaat niet")))?
        .try_get("room")?;
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

/// `GET /console/api/sittings/{sitting}/proces-verbaal.html`.
pub async fn proces_verbaal_html(State(console): State<Arc<Console>>, Path(sitting): Path<String>, user: ConsoleUser) -> Result<Response, ConsoleError> {
    check_room(&console, &user, &sitting).await?;
    let html = reports::proces_verbaal(&console.hub.db, &sitting).await?.to_html().into_bytes();
    let seal = reports::seal(&console.hub.keys, &html);
    Ok(download(html, "text/html; charset=utf-8", &format!("proces-verbaal-{}.html", reports::file_name_part(&sitting)), Some(seal)))
}

/// `GET /console/api/sittings/{sitting}/proces-verbaal.pdf`.
pub async fn proces_verbaal_pdf(State(console): State<Arc<Console>>, Path(sitting): Path<String>, user: ConsoleUser) -> Result<Response, ConsoleError> {
    check_room(&console, &user, &sitting).await?;
    let pdf = reports::proces_verbaal(&console.hub.db, &sitting).await?.to_pdf().into_bytes();
    let seal = reports::seal(&console.hub.keys, &pdf);
    Ok(download(pdf, "application/pdf", &format!("proces-verbaal-{}.pdf", reports::file_name_part(&sitting)), Some(seal)))
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
