//! Secrets at rest. The database must hold the content key of every
//! instrument (released at the start) and each room's room-code secret, but
//! a copied database or backup must not reveal them: both are stored wrapped
//! ([`WrapKey`], AES-256-GCM) with a key kept in a file outside the data
//! directory (`wrap-key-file` in hub.toml). The associated data names the
//! column and the row, so a wrapped value cannot be moved to another row.
//!
//! [`prepare`] runs where the hub starts (and before the CLI writes a
//! secret): it creates the wrap key on a hub that has none yet, wraps rows a
//! hub before this version stored in plain text, and checks that the key
//! opens what is stored — refusing to start, and changing nothing, when the
//! key file is missing or another one.

use crate::db::Db;
use crate::pki::{Keys, PkiError, WrapKey};
use base64::Engine as _;

/// Errors preparing or opening wrapped secrets.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The wrap key is missing, damaged or another one.
    #[error("{0}")]
    Key(#[from] PkiError),
    /// A stored plain-text secret is not what a hub ever stored.
    #[error("{0}")]
    Damaged(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// Associated data of an instrument's content key.
fn content_key_context(instrument_id: &str) -> String {
    format!("instruments.content_key/{instrument_id}")
}

/// Associated data of a room's room-code secret.
fn room_secret_context(room: &str) -> String {
    format!("console_room_codes.secret_hex/{room}")
}

/// The stored form of an instrument's content key.
pub fn wrap_content_key(wrap: &WrapKey, instrument_id: &str, key: &[u8]) -> String {
    wrap.wrap(&content_key_context(instrument_id), key)
}

/// The stored form of a room's room-code secret.
pub fn wrap_room_secret(wrap: &WrapKey, room: &str, secret: &[u8]) -> String {
    wrap.wrap(&room_secret_context(room), secret)
}

/// A content key as the kiosk gets it (base64), from its stored form. A
/// plain-text value (written by an older `exam-hub` while this one runs) is
/// accepted, and wrapped at the next start.
pub fn open_content_key(keys: &Keys, instrument_id: &str, stored: &str) -> Result<String, SecretsError> {
    if !WrapKey::is_wrapped(stored) {
        tracing::warn!(instrument = instrument_id, "content key stored in plain text; it is wrapped at the next start");
        return Ok(stored.to_string());
    }
    let raw = keys.wrap_key()?.unwrap(&content_key_context(instrument_id), stored)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(raw))
}

/// A room's room-code secret from its stored form (wrapped, or hex from before).
pub fn open_room_secret(keys: &Keys, room: &str, stored: &str) -> Result<Vec<u8>, SecretsError> {
    if !WrapKey::is_wrapped(stored) {
        return hex::decode(stored.trim()).map_err(|_| SecretsError::Damaged(format!("room {room}: the room-code secret is damaged")));
    }
    Ok(keys.wrap_key()?.unwrap(&room_secret_context(room), stored)?)
}

/// The content key of the instrument of `sitting_id`, opened for release
/// (`/api/v1/start`). Failures are logged in full and answered as 500.
pub async fn sitting_content_key(db: &Db, keys: &Keys, sitting_id: &str) -> Result<String, crate::error::ApiError> {
    let row = crate::store::planning::content_key_of_sitting(&db.pool, sitting_id)
        .await?
        .ok_or_else(|| crate::error::ApiError::not_found("no_assignment", "the sitting is gone"))?;
    let id = row.instrument_id;
    open_content_key(keys, &id, &row.content_key).map_err(|e| {
        tracing::error!(instrument = %id, error = %e, "content key cannot be opened");
        crate::error::ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", "the content key cannot be opened on the hub (see its log)")
    })
}

/// What [`prepare`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prepared {
    /// The wrap key was created now.
    pub created_key: bool,
    /// Content keys found in plain text and wrapped now.
    pub wrapped_content_keys: usize,
    /// Room-code secrets found in plain text and wrapped now.
    pub wrapped_room_secrets: usize,
}

/// Makes sure the wrap key exists and opens every wrapped secret, and wraps
/// the plain-text ones (one transaction). A missing key is created only when
/// nothing is wrapped yet; otherwise this refuses and changes nothing.
pub async fn prepare(db: &Db, keys: &mut Keys) -> Result<Prepared, SecretsError> {
    let mut done = Prepared::default();
    let mut tx = db.begin_write().await?;
    let instruments = crate::store::planning::content_keys(&mut *tx).await?;
    let rooms = crate::store::rooms::room_secrets(&mut *tx).await?;
    let content: Vec<(String, String)> = instruments.into_iter().map(|r| (r.instrument_id, r.content_key)).collect();
    let secrets: Vec<(String, String)> = rooms.into_iter().map(|r| (r.room, r.secret_hex)).collect();
    let any_wrapped = content.iter().chain(&secrets).any(|(_, v)| WrapKey::is_wrapped(v));
    if keys.wrap.is_none() {
        if any_wrapped {
            return Err(PkiError::WrapKey {
                path: keys.wrap_path.clone(),
                reason: "missing, but the database holds secrets wrapped with it: restore the key file from its backup (nothing was changed)".into(),
            }
            .into());
        }
        keys.wrap = Some(WrapKey::create(&keys.wrap_path)?);
        done.created_key = true;
        tracing::warn!(path = %keys.wrap_path.display(), "created the hub wrap key: back it up separately from the database");
    }
    let wrap = keys.wrap_key()?;
    for (id, stored) in &content {
        if WrapKey::is_wrapped(stored) {
            wrap.unwrap(&content_key_context(id), stored)?;
            continue;
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(stored.trim())
            .map_err(|_| SecretsError::Damaged(format!("instrument {id}: the stored content key is not base64")))?;
        crate::store::planning::replace_content_key(&mut *tx, id, stored, &wrap_content_key(wrap, id, &raw)).await?;
        done.wrapped_content_keys += 1;
    }
    for (room, stored) in &secrets {
        if WrapKey::is_wrapped(stored) {
            wrap.unwrap(&room_secret_context(room), stored)?;
            continue;
        }
        let raw = hex::decode(stored.trim()).map_err(|_| SecretsError::Damaged(format!("room {room}: the stored room-code secret is not hex")))?;
        crate::store::rooms::replace_room_secret(&mut *tx, room, stored, &wrap_room_secret(wrap, room, &raw)).await?;
        done.wrapped_room_secrets += 1;
    }
    tx.commit().await?;
    // Another hub node may have wrapped the same rows with its own key at the
    // same moment (each made one during an upgrade): read back and open every
    // secret, so such a node refuses to start instead of failing at the start.
    for row in crate::store::planning::content_keys(&db.pool).await? {
        if WrapKey::is_wrapped(&row.content_key) {
            wrap.unwrap(&content_key_context(&row.instrument_id), &row.content_key)?;
        }
    }
    for row in crate::store::rooms::room_secrets(&db.pool).await? {
        if WrapKey::is_wrapped(&row.secret_hex) {
            wrap.unwrap(&room_secret_context(&row.room), &row.secret_hex)?;
        }
    }
    if done.wrapped_content_keys + done.wrapped_room_secrets > 0 {
        // The plain-text versions must not live on in the write-ahead log.
        db.truncate_wal().await?;
    }
    if done.wrapped_content_keys + done.wrapped_room_secrets > 0 {
        tracing::info!(
            content_keys = done.wrapped_content_keys,
            room_secrets = done.wrapped_room_secrets,
            "wrapped secrets that were stored in plain text"
        );
    }
    Ok(done)
}
