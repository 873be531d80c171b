//! Statements on answers, answer_changes, superseded_answers, hand_scores.

use sqlx::{Any, Executor};

// --- answers -------------------------------------------------------------

/// A stored save of a student, as a new upload writes it.
#[derive(Debug, Clone, Copy)]
pub struct NewSave<'a> {
    /// Sitting id.
    pub sitting_id: &'a str,
    /// Student number.
    pub student_number: &'a str,
    /// Save number.
    pub seq: i64,
    /// 1 for a hand-in, else 0.
    pub final_submission: i64,
    /// The answers (JSON).
    pub answers: &'a str,
    /// Their SHA-256 (hex).
    pub answers_sha256: &'a str,
    /// The PC that sent them.
    pub device_id: &'a str,
    /// When the hub received them.
    pub received_ms: i64,
    /// The signed receipt (JSON).
    pub receipt: &'a str,
}

/// Stores a save; 0 rows when it is held already (another node's copy).
pub async fn insert<'e, E: Executor<'e, Database = Any>>(ex: E, save: NewSave<'_>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO answers (sitting_id, student_number, seq, final_submission, answers, answers_sha256, device_id, received_ms, receipt) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
    )
    .bind(save.sitting_id)
    .bind(save.student_number)
    .bind(save.seq)
    .bind(save.final_submission)
    .bind(save.answers)
    .bind(save.answers_sha256)
    .bind(save.device_id)
    .bind(save.received_ms)
    .bind(save.receipt)
    .execute(ex)
    .await?
    .rows_affected())
}

/// The hash and receipt of a stored save.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldSave {
    /// SHA-256 of the answers (hex).
    pub answers_sha256: String,
    /// The signed receipt (JSON).
    pub receipt: String,
}

/// The hash and receipt of save `seq` of a student, if held.
pub async fn held<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, seq: i64) -> Result<Option<HeldSave>, sqlx::Error> {
    sqlx::query_as("SELECT answers_sha256, receipt FROM answers WHERE sitting_id = $1 AND student_number = $2 AND seq = $3")
        .bind(sitting)
        .bind(student)
        .bind(seq)
        .fetch_optional(ex)
        .await
}

/// The stored hand-ins of a seat that an invigilator's reopen did not
/// overtake: a hand-in received before the seat's newest reopen no longer
/// closes the exam (it stays stored and is classified like every save); one
/// received after it does. Their save numbers.
pub async fn hand_ins_since_reopen<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT seq FROM answers WHERE sitting_id = $1 AND student_number = $2 AND final_submission = 1 \
         AND received_ms > COALESCE((SELECT MAX(at_ms) FROM console_actions WHERE sitting_id = $1 AND student_number = $2 AND action = 'reopen'), -1)",
    )
    .bind(sitting)
    .bind(student)
    .fetch_all(ex)
    .await
}

/// The newest save of a student.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Latest {
    /// Save number.
    pub seq: i64,
    /// The answers (JSON).
    pub answers: String,
    /// The PC that sent them.
    pub device_id: String,
    /// 1 for a hand-in.
    pub final_submission: i64,
    /// The signed receipt (JSON).
    pub receipt: String,
}

/// The newest save of a student, if any.
pub async fn latest<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<Option<Latest>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seq, answers, device_id, final_submission, receipt FROM answers \
         WHERE sitting_id = $1 AND student_number = $2 ORDER BY seq DESC LIMIT 1",
    )
    .bind(sitting)
    .bind(student)
    .fetch_optional(ex)
    .await
}

/// The newest save of every student of a sitting.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LatestOfStudent {
    /// Student number.
    pub student_number: String,
    /// 1 for a hand-in.
    pub final_submission: i64,
    /// When the hub received it.
    pub received_ms: i64,
    /// The answers (JSON).
    pub answers: String,
    /// The signed receipt (JSON).
    pub receipt: String,
}

/// The newest save (highest `seq`) of every student of a sitting.
pub async fn latest_per_student<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<LatestOfStudent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.student_number, a.final_submission, a.received_ms, a.answers, a.receipt FROM answers a \
         JOIN (SELECT student_number, MAX(seq) AS seq FROM answers WHERE sitting_id = $1 GROUP BY student_number) m \
         ON m.student_number = a.student_number AND m.seq = a.seq WHERE a.sitting_id = $1",
    )
    .bind(sitting)
    .fetch_all(ex)
    .await
}

/// A stored save as the classification reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClassifiedSave {
    /// Student number.
    pub student_number: String,
    /// Save number.
    pub seq: i64,
    /// 1 for a hand-in.
    pub final_submission: i64,
    /// The answers of a hand-in (JSON); empty for other saves.
    pub answers: String,
    /// The PC that sent it.
    pub device_id: String,
    /// When the hub received it.
    pub received_ms: i64,
    /// The signed receipt (JSON).
    pub receipt: String,
}

/// Every stored save of a sitting, by student and save number; only a
/// hand-in's answers are read.
pub async fn of_sitting_for_classification<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<ClassifiedSave>, sqlx::Error> {
    sqlx::query_as(
        "SELECT student_number, seq, final_submission, CASE WHEN final_submission = 1 THEN answers ELSE '' END AS answers, \
         device_id, received_ms, receipt FROM answers WHERE sitting_id = $1 ORDER BY student_number, seq",
    )
    .bind(sitting)
    .fetch_all(ex)
    .await
}

/// The answers (JSON) stored for save `seq` of a student.
pub async fn snapshot_at<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, seq: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT answers FROM answers WHERE sitting_id = $1 AND student_number = $2 AND seq = $3")
        .bind(sitting)
        .bind(student)
        .bind(seq)
        .fetch_optional(ex)
        .await
}

/// The answers (JSON) of the newest stored save before save `seq`.
pub async fn snapshot_before<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, seq: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT answers FROM answers WHERE sitting_id = $1 AND student_number = $2 AND seq < $3 ORDER BY seq DESC LIMIT 1")
        .bind(sitting)
        .bind(student)
        .bind(seq)
        .fetch_optional(ex)
        .await
}

/// The answers (JSON) of the oldest stored save after save `seq`.
pub async fn snapshot_after<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, seq: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT answers FROM answers WHERE sitting_id = $1 AND student_number = $2 AND seq > $3 ORDER BY seq LIMIT 1")
        .bind(sitting)
        .bind(student)
        .bind(seq)
        .fetch_optional(ex)
        .await
}

/// Bytes of answers stored of a student in a sitting.
pub async fn snapshot_bytes<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(SUM(LENGTH(answers)), 0) AS n FROM answers WHERE sitting_id = $1 AND student_number = $2")
        .bind(sitting)
        .bind(student)
        .fetch_one(ex)
        .await
}

/// How many students of a sitting have stored answers.
pub async fn students_with_answers<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(DISTINCT student_number) AS n FROM answers WHERE sitting_id = $1").bind(sitting).fetch_one(ex).await
}

/// Deletes the stored answers of a sitting; the rows deleted.
pub async fn delete_of_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM answers WHERE sitting_id = $1").bind(sitting).execute(ex).await?.rows_affected())
}

/// A (sitting, student) pair.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Seat {
    /// Sitting id.
    pub sitting_id: String,
    /// Student number.
    pub student_number: String,
}

/// The seats of a room's sittings starting in `[from, to]` whose hand-in
/// an invigilator's reopen did not overtake.
pub async fn handed_in_seats_of_room<'e, E: Executor<'e, Database = Any>>(ex: E, room: &str, from: i64, to: i64) -> Result<Vec<Seat>, sqlx::Error> {
    sqlx::query_as(
        "SELECT DISTINCT a.sitting_id, a.student_number FROM answers a JOIN sittings s ON s.sitting_id = a.sitting_id \
         WHERE s.room = $1 AND s.start_ms >= $2 AND s.start_ms <= $3 AND a.final_submission = 1 \
         AND a.received_ms > COALESCE((SELECT MAX(ca.at_ms) FROM console_actions ca WHERE ca.sitting_id = a.sitting_id \
         AND ca.student_number = a.student_number AND ca.action = 'reopen'), -1)",
    )
    .bind(room)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await
}

/// The sittings of a room starting in `[from, to]` with answers where
/// something was handed in or an end or pause was recorded.
pub async fn sittings_of_room_to_classify<'e, E: Executor<'e, Database = Any>>(ex: E, room: &str, from: i64, to: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT a.sitting_id FROM answers a JOIN sittings s ON s.sitting_id = a.sitting_id \
         WHERE s.room = $1 AND s.start_ms >= $2 AND s.start_ms <= $3 AND (a.final_submission = 1 OR EXISTS \
         (SELECT 1 FROM console_actions ca WHERE ca.sitting_id = a.sitting_id AND ca.action IN ('end', 'end_all', 'pause', 'pause_all')))",
    )
    .bind(room)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await
}

// --- answer_changes --------------------------------------------------------

/// The bodies (JSON) of a student's stored changes after save `after` up to
/// and including save `upto`, in order.
pub async fn change_bodies_between<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    sitting: &str,
    student: &str,
    after: i64,
    upto: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT body FROM answer_changes WHERE sitting_id = $1 AND student_number = $2 AND seq > $3 AND seq <= $4 ORDER BY seq")
        .bind(sitting)
        .bind(student)
        .bind(after)
        .bind(upto)
        .fetch_all(ex)
        .await
}

/// How many changes of a student the hub holds in a sitting.
pub async fn change_count<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) AS n FROM answer_changes WHERE sitting_id = $1 AND student_number = $2")
        .bind(sitting)
        .bind(student)
        .fetch_one(ex)
        .await
}

/// A stored change: its save number and body (JSON).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Change {
    /// Save number.
    pub seq: i64,
    /// The change (JSON).
    pub body: String,
}

/// The stored changes of a student from save `from` to save `to` (both included).
pub async fn changes_in<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, from: i64, to: i64) -> Result<Vec<Change>, sqlx::Error> {
    sqlx::query_as("SELECT seq, body FROM answer_changes WHERE sitting_id = $1 AND student_number = $2 AND seq >= $3 AND seq <= $4")
        .bind(sitting)
        .bind(student)
        .bind(from)
        .bind(to)
        .fetch_all(ex)
        .await
}

/// The body (JSON) of a student's stored change of save `seq`.
pub async fn change_body<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, seq: i64) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT body FROM answer_changes WHERE sitting_id = $1 AND student_number = $2 AND seq = $3")
        .bind(sitting)
        .bind(student)
        .bind(seq)
        .fetch_one(ex)
        .await
}

/// Most rows [`insert_changes`] takes at once (6 parameters each; SQLite
/// allows 32,766).
pub const INSERT_CHANGE_ROWS: usize = 500;

/// Stores changes of one student from one PC (at most
/// [`INSERT_CHANGE_ROWS`]), skipping a save already held; the rows
/// inserted.
pub async fn insert_changes<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    sitting: &str,
    student: &str,
    device: &str,
    received_ms: i64,
    changes: &[(i64, &str)],
) -> Result<u64, sqlx::Error> {
    assert!(changes.len() <= INSERT_CHANGE_ROWS, "at most {INSERT_CHANGE_ROWS} changes per statement");
    let mut sql = String::from("INSERT INTO answer_changes (sitting_id, student_number, seq, body, device_id, received_ms) VALUES ");
    for n in 0..changes.len() {
        let p = n * 6;
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("(${}, ${}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4, p + 5, p + 6));
    }
    sql.push_str(" ON CONFLICT DO NOTHING");
    let mut query = sqlx::query(&sql);
    for &(seq, body) in changes {
        query = query.bind(sitting).bind(student).bind(seq).bind(body).bind(device).bind(received_ms);
    }
    Ok(query.execute(ex).await?.rows_affected())
}

/// Bytes of changes stored of a student in a sitting.
pub async fn change_bytes<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(SUM(LENGTH(body)), 0) AS n FROM answer_changes WHERE sitting_id = $1 AND student_number = $2")
        .bind(sitting)
        .bind(student)
        .fetch_one(ex)
        .await
}

/// A save the hub knows only from changes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SaveWithoutSnapshot {
    /// Student number.
    pub student_number: String,
    /// Save number.
    pub seq: i64,
    /// The PC that sent the change.
    pub device_id: String,
    /// When the hub received it.
    pub received_ms: i64,
}

/// The saves of a sitting the hub knows only from changes (no snapshot of
/// their own), by student and save.
pub async fn saves_without_snapshot<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<SaveWithoutSnapshot>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.student_number, c.seq, c.device_id, c.received_ms FROM answer_changes c WHERE c.sitting_id = $1 AND NOT EXISTS \
         (SELECT 1 FROM answers a WHERE a.sitting_id = c.sitting_id AND a.student_number = c.student_number AND a.seq = c.seq) \
         ORDER BY c.student_number, c.seq",
    )
    .bind(sitting)
    .fetch_all(ex)
    .await
}

/// Deletes the stored changes of a sitting.
pub async fn delete_changes_of_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM answer_changes WHERE sitting_id = $1").bind(sitting).execute(ex).await?.rows_affected())
}

// --- superseded_answers ----------------------------------------------------

/// The hash and receipt of save `seq` that `device` sent over a session a
/// login elsewhere ended, if held.
pub async fn superseded_held<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    sitting: &str,
    student: &str,
    device: &str,
    seq: i64,
) -> Result<Option<HeldSave>, sqlx::Error> {
    sqlx::query_as(
        "SELECT answers_sha256, receipt FROM superseded_answers WHERE sitting_id = $1 AND student_number = $2 AND device_id = $3 AND seq = $4",
    )
    .bind(sitting)
    .bind(student)
    .bind(device)
    .bind(seq)
    .fetch_optional(ex)
    .await
}

/// Keeps a save apart that a PC sent over a session a login elsewhere
/// ended (`superseded_ms`).
pub async fn insert_superseded<'e, E: Executor<'e, Database = Any>>(ex: E, save: NewSave<'_>, superseded_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO superseded_answers (sitting_id, student_number, device_id, seq, final_submission, answers, answers_sha256, \
         received_ms, superseded_ms, receipt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(save.sitting_id)
    .bind(save.student_number)
    .bind(save.device_id)
    .bind(save.seq)
    .bind(save.final_submission)
    .bind(save.answers)
    .bind(save.answers_sha256)
    .bind(save.received_ms)
    .bind(superseded_ms)
    .bind(save.receipt)
    .execute(ex)
    .await?;
    Ok(())
}

/// The saves kept apart of one student from one PC.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SupersededOfPc {
    /// Student number.
    pub student_number: String,
    /// The PC.
    pub device_id: String,
    /// The newest save number.
    pub seq: i64,
    /// 1 when one of them is a hand-in.
    pub handed_in: i64,
    /// When the first arrived.
    pub first_ms: i64,
    /// When the login elsewhere ended the PC's session (the latest).
    pub superseded_ms: i64,
    /// How many saves.
    pub n: i64,
}

/// The saves kept apart in a sitting, per student and PC.
pub async fn superseded_per_pc<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<SupersededOfPc>, sqlx::Error> {
    sqlx::query_as(
        "SELECT student_number, device_id, MAX(seq) AS seq, MAX(final_submission) AS handed_in, MIN(received_ms) AS first_ms, \
         MAX(superseded_ms) AS superseded_ms, COUNT(*) AS n FROM superseded_answers WHERE sitting_id = $1 \
         GROUP BY student_number, device_id ORDER BY student_number, device_id",
    )
    .bind(sitting)
    .fetch_all(ex)
    .await
}

/// How many saves kept apart a seat has.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SupersededOfSeat {
    /// Sitting id.
    pub sitting_id: String,
    /// Student number.
    pub student_number: String,
    /// How many saves.
    pub n: i64,
}

/// The saves kept apart per seat of a room's sittings starting in `[from, to]`.
pub async fn superseded_of_room<'e, E: Executor<'e, Database = Any>>(ex: E, room: &str, from: i64, to: i64) -> Result<Vec<SupersededOfSeat>, sqlx::Error> {
    sqlx::query_as(
        "SELECT x.sitting_id, x.student_number, COUNT(*) AS n FROM superseded_answers x JOIN sittings s ON s.sitting_id = x.sitting_id \
         WHERE s.room = $1 AND s.start_ms >= $2 AND s.start_ms <= $3 GROUP BY x.sitting_id, x.student_number",
    )
    .bind(room)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await
}

/// Deletes the saves kept apart of a sitting.
pub async fn delete_superseded_of_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM superseded_answers WHERE sitting_id = $1").bind(sitting).execute(ex).await?.rows_affected())
}

// --- hand_scores ---------------------------------------------------------

/// A person's score for one item.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HandScoreRow {
    /// Student number.
    pub student_number: String,
    /// The item.
    pub item: String,
    /// Points × 1000.
    pub points_milli: i64,
    /// The save of the answers that were scored.
    pub answers_seq: i64,
    /// Who scored it (the account's name).
    pub display_name: String,
}

/// The hand scores of a sitting.
pub async fn hand_scores<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<HandScoreRow>, sqlx::Error> {
    sqlx::query_as("SELECT student_number, item, points_milli, answers_seq, display_name FROM hand_scores WHERE sitting_id = $1")
        .bind(sitting)
        .fetch_all(ex)
        .await
}

/// A new hand score.
#[derive(Debug, Clone, Copy)]
pub struct NewHandScore<'a> {
    /// Sitting id.
    pub sitting_id: &'a str,
    /// Student number.
    pub student_number: &'a str,
    /// The item.
    pub item: &'a str,
    /// Points × 1000.
    pub points_milli: i64,
    /// The save of the answers that were scored.
    pub answers_seq: i64,
    /// When.
    pub scored_ms: i64,
    /// The console account.
    pub username: &'a str,
    /// Its name.
    pub display_name: &'a str,
}

/// Stores a hand score, replacing the item's earlier one.
pub async fn upsert_hand_score<'e, E: Executor<'e, Database = Any>>(ex: E, score: NewHandScore<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hand_scores (sitting_id, student_number, item, points_milli, answers_seq, scored_ms, username, display_name) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (sitting_id, student_number, item) DO UPDATE SET \
         points_milli = excluded.points_milli, answers_seq = excluded.answers_seq, scored_ms = excluded.scored_ms, \
         username = excluded.username, display_name = excluded.display_name",
    )
    .bind(score.sitting_id)
    .bind(score.student_number)
    .bind(score.item)
    .bind(score.points_milli)
    .bind(score.answers_seq)
    .bind(score.scored_ms)
    .bind(score.username)
    .bind(score.display_name)
    .execute(ex)
    .await?;
    Ok(())
}
