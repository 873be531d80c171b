//! Console accounts: one per person, with a role (invigilator of rooms, or
//! exam administrator) and a slow password hash. Wrong passwords never lock
//! an account: `auth` slows them per (user name, address).

pub mod password;

use crate::db::Db;
use crate::store;

/// Why an account cannot be added or changed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Bad input (user name, password, rooms).
    #[error("{0}")]
    Invalid(String),
    /// No such account.
    #[error("{0}")]
    NotFound(String),
    /// Storage.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Longest user name.
pub const MAX_USERNAME_LEN: usize = 64;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the rooms listed for the account.
    Invigilator,
    /// Exam administrator: every room, and the reports.
    Admin,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Invigilator => "invigilator",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "invigilator" => Some(Role::Invigilator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A console account (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    /// Login name.
    pub username: String,
    /// Name shown in the console and written into the hub's journal.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Rooms an invigilator may act on (empty for administrators: all rooms).
    pub rooms: Vec<String>,
}

impl Account {
    /// Whether the account may see and act on `room`.
    pub fn may_act_in(&self, room: &str) -> bool {
        self.role == Role::Admin || self.rooms.iter().any(|r| r == room)
    }
}

/// A user name: 1–64 characters of `[A-Za-z0-9._@-]`.
pub fn check_username(username: &str) -> Result<(), AccountError> {
    let ok = !username.is_empty()
        && username.len() <= MAX_USERNAME_LEN
        && username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AccountError::Invalid(format!("a user name is 1 to {MAX_USERNAME_LEN} characters of A-Z a-z 0-9 . _ @ -")))
    }
}

/// Checks an invigilator's rooms against the rooms the hub knows: those of
/// the planning and `policy_rooms` (the policy's locations). A room that
/// matches a known one only when case, spaces and dots are ignored is a
/// typing error, refused with the room meant (issue 17: an account for
/// `b1.12` was accepted while the planning said `B1.12`, and its holder saw
/// an empty room at 9:00). A room the hub does not know at all is accepted
/// with a note (accounts are made before the planning is imported);
/// returns the notes.
pub async fn check_rooms(db: &Db, policy_rooms: &[String], rooms: &[String]) -> Result<Vec<String>, AccountError> {
    let mut known = crate::store::planning::rooms(&db.pool).await?;
    known.extend(policy_rooms.iter().cloned());
    let loose = |room: &str| room.chars().filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-' | '_')).flat_map(char::to_lowercase).collect::<String>();
    let mut notes = Vec::new();
    for room in rooms {
        if known.contains(room) {
            continue;
        }
        if let Some(meant) = known.iter().find(|k| loose(k) == loose(room)) {
            return Err(AccountError::Invalid(format!("room {room:?} is not known to the hub; did you mean {meant:?}? (rooms are written exactly as in the planning)")));
        }
        notes.push(format!(
            "note: room {room:?} is not in the planning or the policy's locations (yet); check the spelling once the planning is imported{}",
            if known.is_empty() { String::new() } else { format!(" (known: {})", known.join(", ")) }
        ));
    }
    Ok(notes)
}

/// Creates an account, or replaces the password, name, role and rooms of an
/// existing one (and lifts its lock-out).
pub async fn add(db: &Db, username: &str, display_name: &str, role: Role, rooms: &[String], password: &str) -> Result<(), AccountError> {
    check_username(username)?;
    crate::check_text("name", display_name, 100).map_err(AccountError::Invalid)?;
    for room in rooms {
        crate::check_text("room", room, crate::config::MAX_FIELD_LEN).map_err(AccountError::Invalid)?;
    }
    if role == Role::Invigilator && rooms.is_empty() {
        return Err(AccountError::Invalid("an invigilator needs at least one --room".into()));
    }
    let hash = password::hash(password).map_err(|e| AccountError::Invalid(e.to_string()))?;
    let mut tx = db.begin_write().await?;
    store::accounts::upsert(&mut *tx, username, display_name, role.as_str(), &hash, crate::now_ms()).await?;
    store::accounts::clear_rooms(&mut *tx, username).await?;
    for room in rooms {
        store::accounts::add_room(&mut *tx, username, room).await?;
    }
    // A changed password or role ends the account's sessions.
    store::accounts::revoke_sessions_of(&mut *tx, username, crate::now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

/// Clears the lock-out columns hub versions before schema 50 set after
/// wrong passwords (sign-in no longer reads or sets them).
pub async fn unlock(db: &Db, username: &str) -> Result<(), AccountError> {
    if !store::accounts::clear_lockout(&db.pool, username).await? {
        return Err(AccountError::NotFound(format!("no account {username}")));
    }
    Ok(())
}

/// Disables an account and ends its sessions.
pub async fn disable(db: &Db, username: &str) -> Result<(), AccountError> {
    let now = crate::now_ms();
    let mut tx = db.begin_write().await?;
    if !store::accounts::disable(&mut *tx, username, now).await? {
        return Err(AccountError::NotFound(format!("no account {username}")));
    }
    store::accounts::revoke_sessions_of(&mut *tx, username, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Loads an enabled account.
pub async fn load(db: &Db, username: &str) -> Result<Option<Account>, sqlx::Error> {
    let Some(row) = store::accounts::enabled(&db.pool, username).await? else {
        return Ok(None);
    };
    let Some(role) = Role::parse(&row.role) else { return Ok(None) };
    let rooms = store::accounts::rooms(&db.pool, username).await?;
    Ok(Some(Account { username: username.to_string(), display_name: row.display_name, role, rooms }))
}

/// One line per account: user name, role, rooms, state.
pub async fn list(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    let mut out = Vec::new();
    for username in store::accounts::usernames(&db.pool).await? {
        let state = store::accounts::lock_state(&db.pool, &username).await?.ok_or(sqlx::Error::RowNotFound)?;
        let disabled = state.disabled_ms.is_some();
        let locked = state.locked_until_ms.is_some_and(|t| t > crate::now_ms());
        match load(db, &username).await? {
            Some(a) => out.push(format!(
                "{}  role={}  name={}  rooms={}{}",
                a.username,
                a.role.as_str(),
                a.display_name,
                if a.role == Role::Admin { "*".to_string() } else { a.rooms.join(",") },
                if locked { "  LOCKED" } else { "" }
            )),
            None => out.push(format!("{username}  {}", if disabled { "DISABLED" } else { "INVALID ROLE" })),
        }
    }
    Ok(out)
}

/// The outcome of a password check.
#[derive(Debug)]
pub enum LoginOutcome {
    /// The password is right.
    Ok(Account),
    /// Wrong user name or password (which of the two is not revealed).
    Wrong,
}

/// Checks a password. Nothing is counted or locked here (a lock-out would
/// let anyone on the network lock an invigilator out): the console slows
/// wrong passwords per (user name, address), see `auth`. Unknown user names
/// cost the same time as known ones.
pub async fn check_password(db: &Db, username: &str, password: &str) -> Result<LoginOutcome, sqlx::Error> {
    let Some(stored) = store::accounts::password_hash(&db.pool, username).await? else {
        let password = password.to_string();
        let _ = tokio::task::spawn_blocking(move || password::verify_nothing(&password)).await;
        return Ok(LoginOutcome::Wrong);
    };
    let password = password.to_string();
    // PBKDF2 is deliberately slow: keep it off the async workers (no
    // database connection is held meanwhile).
    let matches = tokio::task::spawn_blocking(move || password::verify(&password, &stored)).await.unwrap_or(false);
    if !matches {
        return Ok(LoginOutcome::Wrong);
    }
    Ok(match load(db, username).await? {
        Some(account) => LoginOutcome::Ok(account),
        None => LoginOutcome::Wrong,
    })
}
