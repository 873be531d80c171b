//! Statements on sittings, students, candidates, instruments, instrument_scoring.

use sqlx::{Any, Executor};

// --- sittings --------------------------------------------------------------

/// A sitting as planned.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Sitting {
    /// Sitting id.
    pub sitting_id: String,
    /// The exam's name.
    pub exam: String,
    /// The exam's code.
    pub exam_code: Option<String>,
    /// Its instrument.
    pub instrument_id: String,
    /// Its room.
    pub room: String,
    /// The planned start.
    pub start_ms: i64,
    /// Minutes.
    pub duration_minutes: i64,
    /// When it was started (before its planned start).
    pub started_ms: Option<i64>,
}

/// A sitting, if planned.
pub async fn sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Option<Sitting>, sqlx::Error> {
    sqlx::query_as("SELECT sitting_id, exam, exam_code, instrument_id, room, start_ms, duration_minutes, started_ms FROM sittings WHERE sitting_id = $1")
        .bind(sitting)
        .fetch_optional(ex)
        .await
}

/// Whether a sitting is planned.
pub async fn sitting_exists<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar::<_, String>("SELECT sitting_id FROM sittings WHERE sitting_id = $1").bind(sitting).fetch_optional(ex).await?.is_some())
}

/// The room of a sitting, if planned.
pub async fn room_of<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT room FROM sittings WHERE sitting_id = $1").bind(sitting).fetch_optional(ex).await
}

/// A sitting's planned and actual start.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Start {
    /// The planned start.
    pub start_ms: i64,
    /// When it was started (before its planned start).
    pub started_ms: Option<i64>,
}

/// The planned and actual start of a sitting whose instrument is on the
/// hub, if planned.
pub async fn start_with_instrument<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Option<Start>, sqlx::Error> {
    sqlx::query_as("SELECT s.start_ms, s.started_ms FROM sittings s JOIN instruments i ON i.instrument_id = s.instrument_id WHERE s.sitting_id = $1")
        .bind(sitting)
        .fetch_optional(ex)
        .await
}

/// A sitting's room and start.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoomAndStart {
    /// Its room.
    pub room: String,
    /// The planned start.
    pub start_ms: i64,
    /// When it was started (before its planned start).
    pub started_ms: Option<i64>,
}

/// The room and start of a sitting, if planned.
pub async fn room_and_start<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Option<RoomAndStart>, sqlx::Error> {
    sqlx::query_as("SELECT room, start_ms, started_ms FROM sittings WHERE sitting_id = $1").bind(sitting).fetch_optional(ex).await
}

/// Starts a sitting at `at_ms` unless it was started; 0 rows when it was
/// (or is not planned).
pub async fn start<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, at_ms: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("UPDATE sittings SET started_ms = $1 WHERE sitting_id = $2 AND started_ms IS NULL")
        .bind(at_ms)
        .bind(sitting)
        .execute(ex)
        .await?
        .rows_affected())
}

/// Every room with sittings, in order.
pub async fn rooms<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT room FROM sittings ORDER BY room").fetch_all(ex).await
}

/// The sittings of a room starting in `[from, to]`, in order.
pub async fn of_room<'e, E: Executor<'e, Database = Any>>(ex: E, room: &str, from: i64, to: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT sitting_id FROM sittings WHERE room = $1 AND start_ms >= $2 AND start_ms <= $3 ORDER BY start_ms, sitting_id")
        .bind(room)
        .bind(from)
        .bind(to)
        .fetch_all(ex)
        .await
}

/// A sitting as it is imported.
#[derive(Debug, Clone, Copy)]
pub struct NewSitting<'a> {
    /// Sitting id.
    pub sitting_id: &'a str,
    /// The exam's name.
    pub exam: &'a str,
    /// Its instrument.
    pub instrument_id: &'a str,
    /// Its room.
    pub room: &'a str,
    /// The planned start.
    pub start_ms: i64,
    /// Minutes.
    pub duration_minutes: i64,
    /// The exam's code (an earlier one is kept when `None`).
    pub exam_code: Option<&'a str>,
}

/// Plans a sitting or replaces its plan.
pub async fn upsert_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, s: NewSitting<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sittings (sitting_id, exam, instrument_id, room, start_ms, duration_minutes, exam_code) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (sitting_id) DO UPDATE SET exam = excluded.exam, instrument_id = excluded.instrument_id, \
         room = excluded.room, start_ms = excluded.start_ms, duration_minutes = excluded.duration_minutes, \
         exam_code = COALESCE(excluded.exam_code, sittings.exam_code)",
    )
    .bind(s.sitting_id)
    .bind(s.exam)
    .bind(s.instrument_id)
    .bind(s.room)
    .bind(s.start_ms)
    .bind(s.duration_minutes)
    .bind(s.exam_code)
    .execute(ex)
    .await?;
    Ok(())
}

/// The exam code of a planned sitting.
pub async fn exam_code<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT exam_code FROM sittings WHERE sitting_id = $1").bind(sitting).fetch_one(ex).await
}

/// A sitting with answers, as the retention reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WithAnswers {
    /// Sitting id.
    pub sitting_id: String,
    /// The planned start.
    pub start_ms: i64,
    /// When it was started.
    pub started_ms: Option<i64>,
    /// Minutes.
    pub duration_minutes: i64,
    /// The longest extra and added time of a candidate (minutes).
    pub longest_extra: Option<i64>,
}

/// The sittings with stored answers, by id.
pub async fn with_answers<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<WithAnswers>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.sitting_id, s.start_ms, s.started_ms, s.duration_minutes, \
         (SELECT MAX(c.extra_minutes + c.added_minutes) FROM candidates c WHERE c.sitting_id = s.sitting_id) AS longest_extra \
         FROM sittings s WHERE EXISTS (SELECT 1 FROM answers a WHERE a.sitting_id = s.sitting_id) ORDER BY s.sitting_id",
    )
    .fetch_all(ex)
    .await
}

/// The id and stored (wrapped) content key of a sitting's instrument.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContentKey {
    /// Instrument id.
    pub instrument_id: String,
    /// The content key as stored.
    pub content_key: String,
}

/// The stored content key of the instrument of a sitting.
pub async fn content_key_of_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Option<ContentKey>, sqlx::Error> {
    sqlx::query_as("SELECT i.instrument_id, i.content_key FROM sittings s JOIN instruments i ON i.instrument_id = s.instrument_id WHERE s.sitting_id = $1")
        .bind(sitting)
        .fetch_optional(ex)
        .await
}

// --- students --------------------------------------------------------------

/// Adds a student or renames one.
pub async fn upsert_student<'e, E: Executor<'e, Database = Any>>(ex: E, student: &str, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO students (student_number, name) VALUES ($1, $2) ON CONFLICT (student_number) DO UPDATE SET name = excluded.name")
        .bind(student)
        .bind(name)
        .execute(ex)
        .await?;
    Ok(())
}

/// A student's name, if known.
pub async fn student_name<'e, E: Executor<'e, Database = Any>>(ex: E, student: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT name FROM students WHERE student_number = $1").bind(student).fetch_optional(ex).await
}

/// A student: number and name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Student {
    /// Student number.
    pub student_number: String,
    /// Name.
    pub name: String,
}

/// Every student.
pub async fn students<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<Student>, sqlx::Error> {
    sqlx::query_as("SELECT student_number, name FROM students").fetch_all(ex).await
}

// --- candidates ------------------------------------------------------------

/// Whether a student is planned in a sitting.
pub async fn is_candidate<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar::<_, String>("SELECT student_number FROM candidates WHERE sitting_id = $1 AND student_number = $2")
        .bind(sitting)
        .bind(student)
        .fetch_optional(ex)
        .await?
        .is_some())
}

/// A candidate's accommodations.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Granted {
    /// Extra minutes.
    pub extra_minutes: i64,
    /// Tools, `;`-separated.
    pub tools: String,
    /// Text size.
    pub text_size: Option<String>,
    /// Contrast.
    pub contrast: Option<String>,
}

/// A candidate's accommodations, if planned.
pub async fn granted<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<Option<Granted>, sqlx::Error> {
    sqlx::query_as("SELECT extra_minutes, tools, text_size, contrast FROM candidates WHERE sitting_id = $1 AND student_number = $2")
        .bind(sitting)
        .bind(student)
        .fetch_optional(ex)
        .await
}

/// A candidate as it is imported.
#[derive(Debug, Clone, Copy)]
pub struct NewCandidate<'a> {
    /// Sitting id.
    pub sitting_id: &'a str,
    /// Student number.
    pub student_number: &'a str,
    /// Extra minutes.
    pub extra_minutes: i64,
    /// Tools, `;`-separated.
    pub tools: &'a str,
    /// Text size.
    pub text_size: Option<&'a str>,
    /// Contrast.
    pub contrast: Option<&'a str>,
}

/// Replaces a planned candidate's accommodations.
pub async fn update_granted<'e, E: Executor<'e, Database = Any>>(ex: E, c: NewCandidate<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE candidates SET extra_minutes = $1, tools = $2, text_size = $3, contrast = $4 WHERE sitting_id = $5 AND student_number = $6")
        .bind(c.extra_minutes)
        .bind(c.tools)
        .bind(c.text_size)
        .bind(c.contrast)
        .bind(c.sitting_id)
        .bind(c.student_number)
        .execute(ex)
        .await?;
    Ok(())
}

/// Plans a candidate with the HMAC of a new access code.
pub async fn insert_candidate<'e, E: Executor<'e, Database = Any>>(ex: E, c: NewCandidate<'_>, code_hmac: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO candidates (sitting_id, student_number, extra_minutes, tools, text_size, contrast, code_hmac, failures, added_minutes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0)",
    )
    .bind(c.sitting_id)
    .bind(c.student_number)
    .bind(c.extra_minutes)
    .bind(c.tools)
    .bind(c.text_size)
    .bind(c.contrast)
    .bind(code_hmac)
    .execute(ex)
    .await?;
    Ok(())
}

/// A candidate and their sitting, for an access-code slip.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ToReissue {
    /// Student number.
    pub student_number: String,
    /// Name.
    pub name: String,
    /// The exam's name.
    pub exam: String,
    /// Room.
    pub room: String,
    /// The planned start.
    pub start_ms: i64,
}

/// The candidates of a sitting with their names, by student number.
pub async fn to_reissue<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<ToReissue>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.student_number, st.name, s.exam, s.room, s.start_ms FROM candidates c \
         JOIN students st ON st.student_number = c.student_number JOIN sittings s ON s.sitting_id = c.sitting_id \
         WHERE c.sitting_id = $1 ORDER BY c.student_number",
    )
    .bind(sitting)
    .fetch_all(ex)
    .await
}

/// Gives a candidate a new access code (its HMAC), lifting a lock-out.
pub async fn set_code<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, code_hmac: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE candidates SET code_hmac = $1, failures = 0, locked_ms = NULL WHERE sitting_id = $2 AND student_number = $3")
        .bind(code_hmac)
        .bind(sitting)
        .bind(student)
        .execute(ex)
        .await?;
    Ok(())
}

/// Lifts a candidate's lock-out (the code stays valid); 0 rows when not planned.
pub async fn lift_lock<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("UPDATE candidates SET failures = 0, locked_ms = NULL WHERE sitting_id = $1 AND student_number = $2")
        .bind(sitting)
        .bind(student)
        .execute(ex)
        .await?
        .rows_affected())
}

/// Marks a candidate locked out at `at_ms` (an earlier lock stays).
pub async fn mark_locked<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, at_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE candidates SET locked_ms = COALESCE(locked_ms, $1) WHERE sitting_id = $2 AND student_number = $3")
        .bind(at_ms)
        .bind(sitting)
        .bind(student)
        .execute(ex)
        .await?;
    Ok(())
}

/// Gives a candidate `minutes` more.
pub async fn add_minutes<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, minutes: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE candidates SET added_minutes = added_minutes + $1 WHERE sitting_id = $2 AND student_number = $3")
        .bind(minutes)
        .bind(sitting)
        .bind(student)
        .execute(ex)
        .await?;
    Ok(())
}

/// What a kiosk's assignment is made of.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Assignment {
    /// The exam's name.
    pub exam: String,
    /// Room.
    pub room: String,
    /// The planned start.
    pub start_ms: i64,
    /// Minutes.
    pub duration_minutes: i64,
    /// When it was started.
    pub started_ms: Option<i64>,
    /// Instrument id.
    pub instrument_id: String,
    /// Extra minutes.
    pub extra_minutes: i64,
    /// Minutes added by an invigilator.
    pub added_minutes: i64,
    /// Tools, `;`-separated.
    pub tools: String,
    /// Text size.
    pub text_size: Option<String>,
    /// Contrast.
    pub contrast: Option<String>,
    /// The student's name.
    pub name: String,
    /// The instrument's SHA-256 (hex).
    pub sha256: String,
    /// The instrument's size.
    pub size: i64,
}

/// The assignment of a candidate, if planned.
pub async fn assignment<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<Option<Assignment>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.exam, s.room, s.start_ms, s.duration_minutes, s.started_ms, s.instrument_id, \
         c.extra_minutes, c.added_minutes, c.tools, c.text_size, c.contrast, st.name, i.sha256, i.size \
         FROM candidates c JOIN sittings s ON s.sitting_id = c.sitting_id \
         JOIN students st ON st.student_number = c.student_number \
         JOIN instruments i ON i.instrument_id = s.instrument_id \
         WHERE c.sitting_id = $1 AND c.student_number = $2",
    )
    .bind(sitting)
    .bind(student)
    .fetch_optional(ex)
    .await
}

/// A sitting a student may log in to, as a login checks it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginCandidate {
    /// Sitting id.
    pub sitting_id: String,
    /// The HMAC of the access code.
    pub code_hmac: String,
    /// Wrong codes (older hub versions).
    pub failures: i64,
    /// When the candidate was locked out.
    pub locked_ms: Option<i64>,
    /// Room.
    pub room: String,
    /// The planned start.
    pub start_ms: i64,
    /// Minutes.
    pub duration_minutes: i64,
    /// Extra minutes.
    pub extra_minutes: i64,
    /// Minutes added by an invigilator.
    pub added_minutes: i64,
}

/// Every sitting a student is planned in.
pub async fn logins_of_student<'e, E: Executor<'e, Database = Any>>(ex: E, student: &str) -> Result<Vec<LoginCandidate>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.sitting_id, c.code_hmac, c.failures, c.locked_ms, s.room, s.start_ms, s.duration_minutes, \
         c.extra_minutes, c.added_minutes FROM candidates c JOIN sittings s ON s.sitting_id = c.sitting_id \
         WHERE c.student_number = $1",
    )
    .bind(student)
    .fetch_all(ex)
    .await
}

/// A candidate as the reports show them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Reported {
    /// Student number.
    pub student_number: String,
    /// Name (none when the student is unknown).
    pub name: Option<String>,
    /// Extra minutes.
    pub extra_minutes: i64,
    /// Minutes added by an invigilator.
    pub added_minutes: i64,
    /// When the candidate was locked out.
    pub locked_ms: Option<i64>,
    /// Tools, `;`-separated.
    pub tools: String,
    /// Text size.
    pub text_size: Option<String>,
    /// Contrast.
    pub contrast: Option<String>,
}

/// The candidates of a sitting, by student number.
pub async fn candidates_of<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<Reported>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.student_number, s.name, c.extra_minutes, c.added_minutes, c.locked_ms, c.tools, c.text_size, c.contrast FROM candidates c \
         LEFT JOIN students s ON s.student_number = c.student_number WHERE c.sitting_id = $1 ORDER BY c.student_number",
    )
    .bind(sitting)
    .fetch_all(ex)
    .await
}

/// The names of a sitting's candidates (students known to the hub).
pub async fn names_of<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<Student>, sqlx::Error> {
    sqlx::query_as("SELECT c.student_number, st.name FROM candidates c JOIN students st ON st.student_number = c.student_number WHERE c.sitting_id = $1")
        .bind(sitting)
        .fetch_all(ex)
        .await
}

/// What an access-code slip says of a candidate and their sitting.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Slip {
    /// The exam's name.
    pub exam: String,
    /// The exam's code.
    pub exam_code: Option<String>,
    /// Room.
    pub room: String,
    /// The planned start.
    pub start_ms: i64,
    /// Minutes.
    pub duration_minutes: i64,
    /// Extra minutes.
    pub extra_minutes: i64,
    /// Tools, `;`-separated.
    pub tools: String,
    /// Text size.
    pub text_size: Option<String>,
    /// Contrast.
    pub contrast: Option<String>,
}

/// The slip of a candidate, if planned.
pub async fn slip<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<Option<Slip>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.exam, s.exam_code, s.room, s.start_ms, s.duration_minutes, c.extra_minutes, c.tools, c.text_size, c.contrast \
         FROM candidates c JOIN sittings s ON s.sitting_id = c.sitting_id WHERE c.sitting_id = $1 AND c.student_number = $2",
    )
    .bind(sitting)
    .bind(student)
    .fetch_optional(ex)
    .await
}

// --- instruments -------------------------------------------------------------

/// Whether an instrument is on the hub.
pub async fn instrument_exists<'e, E: Executor<'e, Database = Any>>(ex: E, instrument: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar::<_, String>("SELECT instrument_id FROM instruments WHERE instrument_id = $1")
        .bind(instrument)
        .fetch_optional(ex)
        .await?
        .is_some())
}

/// An instrument package: its hash and bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Package {
    /// SHA-256 (hex).
    pub sha256: String,
    /// The package.
    pub data: Vec<u8>,
}

/// An instrument package, if on the hub.
pub async fn package<'e, E: Executor<'e, Database = Any>>(ex: E, instrument: &str) -> Result<Option<Package>, sqlx::Error> {
    sqlx::query_as("SELECT sha256, data FROM instruments WHERE instrument_id = $1").bind(instrument).fetch_optional(ex).await
}

/// An instrument as it is imported.
#[derive(Debug, Clone, Copy)]
pub struct NewInstrument<'a> {
    /// Instrument id.
    pub instrument_id: &'a str,
    /// SHA-256 (hex).
    pub sha256: &'a str,
    /// The content key, wrapped.
    pub content_key: &'a str,
    /// The package.
    pub data: &'a [u8],
    /// When.
    pub imported_ms: i64,
}

/// Registers an instrument or replaces it.
pub async fn upsert_instrument<'e, E: Executor<'e, Database = Any>>(ex: E, i: NewInstrument<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO instruments (instrument_id, sha256, size, content_key, data, imported_ms) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (instrument_id) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, \
         content_key = excluded.content_key, data = excluded.data, imported_ms = excluded.imported_ms",
    )
    .bind(i.instrument_id)
    .bind(i.sha256)
    .bind(i.data.len() as i64)
    .bind(i.content_key)
    .bind(i.data)
    .bind(i.imported_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// Every instrument's stored content key, by id.
pub async fn content_keys<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<ContentKey>, sqlx::Error> {
    sqlx::query_as("SELECT instrument_id, content_key FROM instruments ORDER BY instrument_id").fetch_all(ex).await
}

/// Replaces an instrument's stored content key if it is still `old`.
pub async fn replace_content_key<'e, E: Executor<'e, Database = Any>>(ex: E, instrument: &str, old: &str, new: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE instruments SET content_key = $1 WHERE instrument_id = $2 AND content_key = $3")
        .bind(new)
        .bind(instrument)
        .bind(old)
        .execute(ex)
        .await?;
    Ok(())
}

// --- instrument_scoring ----------------------------------------------------

/// Stores an instrument's scoring data (JSON), replacing earlier data.
pub async fn upsert_scoring<'e, E: Executor<'e, Database = Any>>(ex: E, instrument: &str, scoring: &str, imported_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO instrument_scoring (instrument_id, scoring, imported_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (instrument_id) DO UPDATE SET scoring = excluded.scoring, imported_ms = excluded.imported_ms",
    )
    .bind(instrument)
    .bind(scoring)
    .bind(imported_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// An instrument's scoring data (JSON), if imported.
pub async fn scoring<'e, E: Executor<'e, Database = Any>>(ex: E, instrument: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT scoring FROM instrument_scoring WHERE instrument_id = $1").bind(instrument).fetch_optional(ex).await
}

// --- planning joined with the console's state --------------------------------

/// A sitting of a room as the console's room view shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoomSitting {
    /// Sitting id.
    pub sitting_id: String,
    /// The exam's name.
    pub exam: String,
    /// The planned start.
    pub start_ms: i64,
    /// Minutes.
    pub duration_minutes: i64,
    /// When it was started (before its planned start).
    pub started_ms: Option<i64>,
    /// The console's version of the sitting (none before its first action).
    pub version: Option<i64>,
    /// When it was paused for everyone.
    pub paused_ms: Option<i64>,
    /// When it was ended for everyone.
    pub ended_ms: Option<i64>,
}

/// The sittings of a room starting in `[from, to]`, in order, with the
/// console's state of each.
pub async fn room_sittings<'e, E: Executor<'e, Database = Any>>(ex: E, room: &str, from: i64, to: i64) -> Result<Vec<RoomSitting>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.sitting_id, s.exam, s.start_ms, s.duration_minutes, s.started_ms, cs.version, cs.paused_ms, cs.ended_ms \
         FROM sittings s LEFT JOIN console_sittings cs ON cs.sitting_id = s.sitting_id \
         WHERE s.room = $1 AND s.start_ms >= $2 AND s.start_ms <= $3 ORDER BY s.start_ms, s.sitting_id",
    )
    .bind(room)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await
}

/// A seat of a room as the console's room view shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoomSeat {
    /// Sitting id.
    pub sitting_id: String,
    /// Student number.
    pub student_number: String,
    /// The student's name.
    pub name: String,
    /// Extra minutes.
    pub extra_minutes: i64,
    /// Tools, `;`-separated.
    pub tools: String,
    /// Text size.
    pub text_size: Option<String>,
    /// Contrast.
    pub contrast: Option<String>,
    /// Minutes added by an invigilator.
    pub added_minutes: i64,
    /// When the candidate was locked out.
    pub locked_ms: Option<i64>,
    /// The console's version of the seat (none before its first action).
    pub version: Option<i64>,
    /// When the seat was paused.
    pub paused_ms: Option<i64>,
    /// Time paused before (ms).
    pub paused_total_ms: Option<i64>,
    /// When the seat was ended.
    pub ended_ms: Option<i64>,
}

/// The seats of a room's sittings starting in `[from, to]`, by start,
/// sitting and name, with the console's state of each.
pub async fn room_seats<'e, E: Executor<'e, Database = Any>>(ex: E, room: &str, from: i64, to: i64) -> Result<Vec<RoomSeat>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.sitting_id, c.student_number, st.name, c.extra_minutes, c.tools, c.text_size, c.contrast, c.added_minutes, c.locked_ms, \
         cs.version, cs.paused_ms, cs.paused_total_ms, cs.ended_ms \
         FROM candidates c JOIN sittings s ON s.sitting_id = c.sitting_id JOIN students st ON st.student_number = c.student_number \
         LEFT JOIN console_seats cs ON cs.sitting_id = c.sitting_id AND cs.student_number = c.student_number \
         WHERE s.room = $1 AND s.start_ms >= $2 AND s.start_ms <= $3 ORDER BY s.start_ms, c.sitting_id, st.name, c.student_number",
    )
    .bind(room)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await
}

/// A seat's times: the sitting's, the candidate's and the console's.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SeatTimes {
    /// The planned start.
    pub start_ms: i64,
    /// When the sitting was started.
    pub started_ms: Option<i64>,
    /// Minutes.
    pub duration_minutes: i64,
    /// Extra minutes.
    pub extra_minutes: i64,
    /// Minutes added by an invigilator.
    pub added_minutes: i64,
    /// When the seat was ended.
    pub ended_ms: Option<i64>,
    /// When the seat was paused.
    pub paused_ms: Option<i64>,
    /// Time paused before (ms).
    pub paused_total_ms: Option<i64>,
}

/// A seat's times, if the student is planned in the sitting.
pub async fn seat_times<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<Option<SeatTimes>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.start_ms, s.started_ms, s.duration_minutes, c.extra_minutes, c.added_minutes, cs.ended_ms, cs.paused_ms, cs.paused_total_ms \
         FROM candidates c JOIN sittings s ON s.sitting_id = c.sitting_id \
         LEFT JOIN console_seats cs ON cs.sitting_id = c.sitting_id AND cs.student_number = c.student_number \
         WHERE c.sitting_id = $1 AND c.student_number = $2",
    )
    .bind(sitting)
    .bind(student)
    .fetch_optional(ex)
    .await
}

/// A seat as an invigilator's action on it reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SeatState {
    /// The student's name.
    pub name: String,
    /// When the seat was paused.
    pub paused_ms: Option<i64>,
    /// When the seat was ended.
    pub ended_ms: Option<i64>,
}

/// A seat's name and console state, if the student is planned in the sitting.
pub async fn seat_state<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<Option<SeatState>, sqlx::Error> {
    sqlx::query_as(
        "SELECT st.name, cs.paused_ms, cs.ended_ms FROM candidates c JOIN students st ON st.student_number = c.student_number \
         LEFT JOIN console_seats cs ON cs.sitting_id = c.sitting_id AND cs.student_number = c.student_number \
         WHERE c.sitting_id = $1 AND c.student_number = $2",
    )
    .bind(sitting)
    .bind(student)
    .fetch_optional(ex)
    .await
}

// --- the archive -------------------------------------------------------------

/// What one page of the archive asks for.
#[derive(Debug, Clone, Copy)]
pub struct ArchiveQuery<'a> {
    /// Sittings starting at or after this instant (ms).
    pub from_ms: Option<i64>,
    /// Sittings starting before this instant (ms).
    pub to_ms: Option<i64>,
    /// Only this room (ignoring ASCII case).
    pub room: Option<&'a str>,
    /// Only these students: then one row per student per sitting.
    pub students: Option<&'a [String]>,
    /// After this row (start, sitting, student) of the order.
    pub after: Option<(i64, &'a str, &'a str)>,
    /// At most this many rows.
    pub limit: i64,
}

/// A row of the archive: a sitting (with a student, when asked for
/// students) and its counts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArchiveRow {
    /// Sitting id.
    pub sitting_id: String,
    /// The exam's name.
    pub exam: String,
    /// The exam's code.
    pub exam_code: Option<String>,
    /// Room.
    pub room: String,
    /// The planned start.
    pub start_ms: i64,
    /// Minutes.
    pub duration_minutes: i64,
    /// When it was started.
    pub started_ms: Option<i64>,
    /// Planned candidates.
    pub expected: i64,
    /// Candidates who logged in at least once.
    pub logged_in: i64,
    /// Candidates whose hand-in is stored.
    pub handed_in: i64,
    /// Whether the retention deleted the answers (a count).
    pub deleted: i64,
    /// The student (when asked for students).
    #[sqlx(default)]
    pub student_number: Option<String>,
    /// The student's name, empty when unknown (when asked for students).
    #[sqlx(default)]
    pub student_name: Option<String>,
    /// The student's stored hand-ins (when asked for students).
    #[sqlx(default)]
    pub student_handed_in: Option<i64>,
    /// The student's sessions (when asked for students).
    #[sqlx(default)]
    pub student_sessions: Option<i64>,
}

/// One page of the archive, newest first (start, sitting, student descending).
pub async fn archive_page<'e, E: Executor<'e, Database = Any>>(ex: E, q: ArchiveQuery<'_>) -> Result<Vec<ArchiveRow>, sqlx::Error> {
    enum Bind<'a> {
        Int(i64),
        Text(&'a str),
    }
    let mut binds: Vec<Bind<'_>> = Vec::new();
    let mut param = |b| {
        binds.push(b);
        format!("${}", binds.len())
    };
    // The page's rows first (an ordered, limited inner query), then the
    // counts for those rows only: counted for every matching sitting before
    // the sort, a school's years of sittings would be counted per page.
    let mut sql = String::from("SELECT s.sitting_id, s.exam, s.exam_code, s.room, s.start_ms, s.duration_minutes, s.started_ms");
    if q.students.is_some() {
        sql.push_str(
            ", k.student_number AS student_number, COALESCE(st.name, '') AS student_name \
             FROM sittings s JOIN candidates k ON k.sitting_id = s.sitting_id LEFT JOIN students st ON st.student_number = k.student_number",
        );
    } else {
        sql.push_str(" FROM sittings s");
    }
    sql.push_str(" WHERE 1 = 1");
    if let Some(from) = q.from_ms {
        sql.push_str(&format!(" AND s.start_ms >= {}", param(Bind::Int(from))));
    }
    if let Some(to) = q.to_ms {
        sql.push_str(&format!(" AND s.start_ms < {}", param(Bind::Int(to))));
    }
    if let Some(room) = q.room {
        sql.push_str(&format!(" AND LOWER(s.room) = LOWER({})", param(Bind::Text(room))));
    }
    if let Some(numbers) = q.students {
        let list: Vec<String> = numbers.iter().map(|n| param(Bind::Text(n))).collect();
        sql.push_str(&format!(" AND k.student_number IN ({})", list.join(", ")));
    }
    if let Some((start, sitting, student)) = q.after {
        let start = param(Bind::Int(start));
        let sitting = param(Bind::Text(sitting));
        if q.students.is_some() {
            let student = param(Bind::Text(student));
            sql.push_str(&format!(
                " AND (s.start_ms < {start} OR (s.start_ms = {start} AND (s.sitting_id < {sitting} OR (s.sitting_id = {sitting} AND k.student_number < {student}))))"
            ));
        } else {
            sql.push_str(&format!(" AND (s.start_ms < {start} OR (s.start_ms = {start} AND s.sitting_id < {sitting}))"));
        }
    }
    sql.push_str(" ORDER BY s.start_ms DESC, s.sitting_id DESC");
    if q.students.is_some() {
        sql.push_str(", k.student_number DESC");
    }
    sql.push_str(&format!(" LIMIT {}", param(Bind::Int(q.limit))));
    let (student_counts, student_order) = if q.students.is_some() {
        (
            ", (SELECT COUNT(*) FROM answers a WHERE a.sitting_id = p.sitting_id AND a.student_number = p.student_number AND a.final_submission <> 0) AS student_handed_in, \
             (SELECT COUNT(*) FROM sessions se WHERE se.sitting_id = p.sitting_id AND se.student_number = p.student_number) AS student_sessions",
            ", p.student_number DESC",
        )
    } else {
        ("", "")
    };
    let sql = format!(
        "SELECT p.*, \
         (SELECT COUNT(*) FROM candidates c WHERE c.sitting_id = p.sitting_id) AS expected, \
         (SELECT COUNT(*) FROM candidates c WHERE c.sitting_id = p.sitting_id AND EXISTS \
            (SELECT 1 FROM sessions se WHERE se.sitting_id = c.sitting_id AND se.student_number = c.student_number)) AS logged_in, \
         (SELECT COUNT(DISTINCT a.student_number) FROM answers a WHERE a.sitting_id = p.sitting_id AND a.final_submission <> 0) AS handed_in, \
         (SELECT COUNT(*) FROM retention_deletions r WHERE r.sitting_id = p.sitting_id AND r.what = 'antwoorden') AS deleted\
         {student_counts} FROM ({sql}) p ORDER BY p.start_ms DESC, p.sitting_id DESC{student_order}"
    );
    let mut query = sqlx::query_as(&sql);
    for b in binds {
        query = match b {
            Bind::Int(i) => query.bind(i),
            Bind::Text(t) => query.bind(t),
        };
    }
    query.fetch_all(ex).await
}
