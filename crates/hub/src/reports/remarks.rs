//! Invigilators' free-text remarks for the proces-verbaal: stored as given
//! (escaped only when rendered), never edited; a correction is a new remark.

use super::ReportError;
use crate::db::Db;

/// Longest remark accepted, in characters.
pub const MAX_REMARK_LEN: usize = 4_000;

/// One remark.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Remark {
    /// Unique id.
    pub id: String,
    /// The sitting.
    pub sitting_id: String,
    /// Who wrote it (the console account name, or the CLI user).
    pub author: String,
    /// The text, as written.
    pub text: String,
    /// When, unix ms (the hub's clock).
    pub created_ms: i64,
}

/// Stores a remark by `author` on `sitting_id`, timestamped now; returns it.
/// Refuses an unknown sitting, an empty or over-long text, and control
/// characters other than line breaks and tabs.
pub async fn add_remark(db: &Db, sitting_id: &str, author: &str, text: &str) -> Result<Remark, ReportError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ReportError::Invalid("a remark needs text".into()));
    }
    if text.chars().count() > MAX_REMARK_LEN {
        return Err(ReportError::Invalid(format!("a remark is at most {MAX_REMARK_LEN} characters")));
    }
    if let Some(c) = text.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(ReportError::Invalid(format!("the remark contains control character U+{:04X}", u32::from(c))));
    }
    let author = author.trim();
    if author.is_empty() || author.chars().count() > crate::config::MAX_FIELD_LEN || author.chars().any(char::is_control) {
        return Err(ReportError::Invalid("the author must be a name of 1 to 200 printable characters".into()));
    }
    if !crate::store::planning::sitting_exists(&db.pool, sitting_id).await? {
        return Err(ReportError::UnknownSitting(sitting_id.to_string()));
    }
    let remark = Remark {
        id: crate::random_id(),
        sitting_id: sitting_id.to_string(),
        author: author.to_string(),
        text: text.to_string(),
        created_ms: crate::now_ms(),
    };
    crate::store::records::insert_remark(&db.pool, &remark.id, &remark.sitting_id, &remark.author, &remark.text, remark.created_ms).await?;
    Ok(remark)
}

/// The remarks on a sitting, oldest first.
pub async fn list_remarks(db: &Db, sitting_id: &str) -> Result<Vec<Remark>, ReportError> {
    Ok(crate::store::records::remarks(&db.pool, sitting_id)
        .await?
        .into_iter()
        .map(|r| Remark { id: r.remark_id, sitting_id: r.sitting_id, author: r.author, text: r.text, created_ms: r.created_ms })
        .collect())
}
