//! The exam office's archive (issue 17): every sitting the hub knows, past
//! and planned, newest first, a page at a time (a school keeps years of
//! sittings), filtered by period and room, and the search by student. Shared
//! by the console page (`archive.html`, role admin only) and `exam-hub
//! sittings list`.
//!
//! Per sitting: the start in Dutch local time, room, exam and exam code, and
//! counts from the hub's records — *verwacht* (planned candidates),
//! *ingelogd* (candidates who logged in at least once), *ingeleverd*
//! (candidates whose hand-in the hub stored; whether it was in time the
//! results and the proces-verbaal say) and *afwezig* (never logged in, once
//! the sitting has started). After the retention period the answers are
//! gone, so *ingeleverd* is then unknown.
//!
//! The search by student matches the student number exactly (ignoring case)
//! or any part of the name, ignoring case and accents: names and the search
//! text are decomposed (Unicode NFD) and their combining marks dropped, so
//! "omer" finds "Ömer Yılmaz" and "berg-de vries" finds "Eline van der
//! Berg-de Vries". Letters that are not a letter plus a mark stay
//! themselves: "Yilmaz" does not find "Yılmaz" (ı is not i). This is done in
//! the hub, not in SQL (SQLite's `lower` knows only ASCII), over the
//! `students` table: one read of number and name per student per search.

use super::accounts::Role;
use super::auth::ConsoleUser;
use super::{Console, ConsoleError};
use crate::reports::local_time;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use std::sync::Arc;

/// Sittings per page when the page does not say.
pub const PAGE_SIZE: usize = 25;
/// The largest page that may be asked for.
pub const MAX_PAGE_SIZE: usize = 500;
/// A search that matches more students than this asks for more of the name.
pub const MAX_STUDENTS: usize = 500;
/// Shortest and longest search text (characters).
pub const SEARCH_LEN: std::ops::RangeInclusive<usize> = 2..=100;

/// What to list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Sittings starting at or after this instant (ms).
    pub from_ms: Option<i64>,
    /// Sittings starting before this instant (ms).
    pub to_ms: Option<i64>,
    /// Only this room (ignoring ASCII case).
    pub room: Option<String>,
    /// A student number or (part of) a name: then one row per matching
    /// student per sitting.
    pub student: Option<String>,
}

/// A student's part in a sitting.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StudentInSitting {
    /// Student number.
    pub number: String,
    /// Name as planned.
    pub name: String,
    /// `ingeleverd`, `afwezig`, `gepland`, `niet_ingeleverd` or `verwijderd`.
    pub status: &'static str,
    /// The status in Dutch, for people.
    pub status_text: &'static str,
}

/// One sitting (with one student when searching by student).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SittingRow {
    /// Sitting id.
    pub sitting_id: String,
    /// Exam name.
    pub exam: String,
    /// The exam's code in the student information system, when planned.
    pub exam_code: Option<String>,
    /// Room.
    pub room: String,
    /// Planned start (ms since the epoch).
    pub start_ms: i64,
    /// The start's date in Dutch local time, `YYYY-MM-DD`.
    pub date: String,
    /// The start's date in words: "vrijdag 4 december 2026".
    pub day: String,
    /// The start's time in Dutch local time: "16:00".
    pub time: String,
    /// Planned minutes (without extra time).
    pub duration_minutes: i64,
    /// Started (jointly, or its start time has passed).
    pub started: bool,
    /// Planned candidates.
    pub expected: i64,
    /// Candidates who logged in at least once.
    pub logged_in: i64,
    /// Candidates whose hand-in the hub stored; `None` once the answers
    /// were deleted (retention).
    pub handed_in: Option<i64>,
    /// Candidates who never logged in; `None` before the start.
    pub absent: Option<i64>,
    /// With a search by student: that student.
    pub student: Option<StudentInSitting>,
}

/// One page of the archive.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page {
    /// Newest first.
    pub rows: Vec<SittingRow>,
    /// Where the next page starts (pass it as `after`), if there is one.
    pub next: Option<String>,
    /// With a search by student: how many students matched.
    pub students_matched: Option<usize>,
}

/// The first millisecond of a date given as `YYYY-MM-DD`, in Dutch local
/// time; `None` when it is not such a date.
pub fn day_start_ms(text: &str) -> Option<i64> {
    local_time::midnight_ms(parse_day(text)?)
}

/// The first millisecond after the (Dutch) day given as `YYYY-MM-DD`.
pub fn day_end_ms(text: &str) -> Option<i64> {
    local_time::midnight_ms(parse_day(text)?.tomorrow().ok()?)
}

fn parse_day(text: &str) -> Option<jiff::civil::Date> {
    let t = text.trim();
    let shape = t.len() == 10 && t.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    shape.then(|| t.parse().ok()).flatten()
}

/// Lower case without accents (NFD, combining marks dropped), white space
/// collapsed: what the search by name compares.
pub fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    let folded: String = text.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).flat_map(char::to_lowercase).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The numbers of the students `search` names (number or part of the name).
async fn matching_students(pool: &sqlx::AnyPool, search: &str) -> Result<Vec<String>, ConsoleError> {
    let search = search.trim();
    if !SEARCH_LEN.contains(&search.chars().count()) || search.chars().any(char::is_control) {
        return Err(ConsoleError::Invalid(format!(
            "zoek op een studentnummer of een deel van een naam: {} tot {} tekens",
            SEARCH_LEN.start(),
            SEARCH_LEN.end()
        )));
    }
    let wanted = fold(search);
    let rows = crate::store::planning::students(pool).await?;
    let mut numbers = Vec::new();
    for row in rows {
        let (number, name) = (row.student_number, row.name);
        if number.eq_ignore_ascii_case(search) || fold(&name).contains(&wanted) {
            numbers.push(number);
        }
    }
    if numbers.len() > MAX_STUDENTS {
        return Err(ConsoleError::Invalid(format!(
            "meer dan {MAX_STUDENTS} studenten passen bij ‘{search}’: typ meer van de naam, of het studentnummer"
        )));
    }
    numbers.sort();
    Ok(numbers)
}

/// A page cursor: the last row's start, sitting and student (hex, so any id fits).
fn cursor(row: &SittingRow) -> String {
    let student = row.student.as_ref().map_or(String::new(), |s| hex::encode(&s.number));
    format!("{}.{}.{student}", row.start_ms, hex::encode(&row.sitting_id))
}

fn parse_cursor(text: &str) -> Result<(i64, String, String), ConsoleError> {
    let bad = || ConsoleError::Invalid("ongeldige paginaverwijzing; begin opnieuw bij de eerste pagina".into());
    let mut parts = text.split('.');
    let (Some(start), Some(sitting), Some(student), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
    let text_of = |h: &str| hex::decode(h).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(bad);
    Ok((start.parse().map_err(|_| bad())?, text_of(sitting)?, text_of(student)?))
}

/// One page of sittings matching `filter`, newest first, after `after` (a
/// [`Page::next`]), at most `limit` (1..=[`MAX_PAGE_SIZE`]) rows.
pub async fn list(pool: &sqlx::AnyPool, filter: &Filter, after: Option<&str>, limit: usize, now_ms: i64) -> Result<Page, ConsoleError> {
    let limit = limit.clamp(1, MAX_PAGE_SIZE);
    let students = match &filter.student {
        Some(search) => {
            let numbers = matching_students(pool, search).await?;
            if numbers.is_empty() {
                return Ok(Page { rows: Vec::new(), next: None, students_matched: Some(0) });
            }
            Some(numbers)
        }
        None => None,
    };
    let after = after.filter(|a| !a.is_empty()).map(parse_cursor).transpose()?;
    // One more than the page: whether there is a next page.
    let query = crate::store::planning::ArchiveQuery {
        from_ms: filter.from_ms,
        to_ms: filter.to_ms,
        room: filter.room.as_deref().map(str::trim).filter(|r| !r.is_empty()),
        students: students.as_deref(),
        after: after.as_ref().map(|(start, sitting, student)| (*start, sitting.as_str(), student.as_str())),
        limit: i64::try_from(limit + 1).unwrap_or(i64::MAX),
    };
    let fetched = crate::store::planning::archive_page(pool, query).await?;
    let mut rows = Vec::with_capacity(fetched.len().min(limit));
    let more = fetched.len() > limit;
    for r in fetched.into_iter().take(limit) {
        let start_ms = r.start_ms;
        let started = r.started_ms.is_some() || now_ms >= start_ms;
        let expected = r.expected;
        let logged_in = r.logged_in;
        let deleted = r.deleted > 0;
        let student = if students.is_some() {
            let handed_in = r.student_handed_in.unwrap_or(0) > 0;
            let logged_in = r.student_sessions.unwrap_or(0) > 0;
            let (status, status_text) = match (handed_in, logged_in, started, deleted) {
                (true, _, _, _) => ("ingeleverd", "Ingeleverd"),
                (false, false, true, _) => ("afwezig", "Afwezig"),
                (false, false, false, _) => ("gepland", "Gepland"),
                (false, true, _, true) => ("verwijderd", "Ingelogd; antwoorden verwijderd (bewaartermijn)"),
                (false, true, _, false) => ("niet_ingeleverd", "Ingelogd, niet ingeleverd"),
            };
            Some(StudentInSitting { number: r.student_number.unwrap_or_default(), name: r.student_name.unwrap_or_default(), status, status_text })
        } else {
            None
        };
        let day = local_time::day_of(start_ms);
        rows.push(SittingRow {
            sitting_id: r.sitting_id,
            exam: r.exam,
            exam_code: r.exam_code.filter(|c| !c.is_empty()),
            room: r.room,
            start_ms,
            date: day.map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")).unwrap_or_default(),
            day: local_time::long_date(start_ms),
            time: local_time::hour_minute(start_ms, day),
            duration_minutes: r.duration_minutes,
            started,
            expected,
            logged_in,
            handed_in: if deleted { None } else { Some(r.handed_in) },
            absent: started.then_some(expected - logged_in),
            student,
        });
    }
    let next = if more { rows.last().map(cursor) } else { None };
    Ok(Page { rows, next, students_matched: students.map(|s| s.len()) })
}

/// The header of `exam-hub sittings list` (tab-separated, like its lines).
pub const TSV_HEADER: &str = "datum\ttijd\tzitting\tlokaal\texamen\texamencode\tverwacht\tingelogd\tingeleverd\tafwezig";
/// The header's extra columns with `--student`.
pub const TSV_STUDENT_HEADER: &str = "\tstudentnummer\tnaam\tstatus";

/// One line of `exam-hub sittings list`: the facts of [`SittingRow`],
/// tab-separated (tabs and line breaks in names become spaces), `-` for
/// what is not known (afwezig before the start, ingeleverd after retention).
pub fn tsv_line(row: &SittingRow) -> String {
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    let count = |n: Option<i64>| n.map_or_else(|| "-".to_string(), |n| n.to_string());
    let mut line = [
        row.date.clone(),
        row.time.clone(),
        clean(&row.sitting_id),
        clean(&row.room),
        clean(&row.exam),
        row.exam_code.as_deref().map_or_else(|| "-".to_string(), clean),
        row.expected.to_string(),
        row.logged_in.to_string(),
        count(row.handed_in),
        count(row.absent),
    ]
    .join("\t");
    if let Some(s) = &row.student {
        line.push_str(&format!("\t{}\t{}\t{}", clean(&s.number), clean(&s.name), s.status));
    }
    line
}

/// Every sitting matching `filter` as [`tsv_line`]s, newest first (all
/// pages), after the header.
pub async fn tsv(pool: &sqlx::AnyPool, filter: &Filter, now_ms: i64) -> Result<Vec<String>, ConsoleError> {
    let mut header = TSV_HEADER.to_string();
    if filter.student.is_some() {
        header.push_str(TSV_STUDENT_HEADER);
    }
    let mut lines = vec![header];
    let mut after = None;
    loop {
        let page = list(pool, filter, after.as_deref(), MAX_PAGE_SIZE, now_ms).await?;
        lines.extend(page.rows.iter().map(tsv_line));
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(lines),
        }
    }
}

/// Every room that has sittings, for the room filter.
pub async fn sitting_rooms(pool: &sqlx::AnyPool) -> Result<Vec<String>, ConsoleError> {
    Ok(crate::store::planning::rooms(pool).await?)
}

fn admin_only(user: &ConsoleUser) -> Result<(), ConsoleError> {
    if user.account.role == Role::Admin {
        Ok(())
    } else {
        Err(ConsoleError::AdminOnly)
    }
}

/// The query of `GET /console/api/archive` (empty fields are left out).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ArchiveQuery {
    /// First day, `YYYY-MM-DD` (Dutch local time).
    pub from: String,
    /// Last day, `YYYY-MM-DD`, inclusive.
    pub to: String,
    /// Room.
    pub room: String,
    /// Student number or (part of) a name.
    pub student: String,
    /// A page's `next`.
    pub after: String,
    /// Rows per page (default [`PAGE_SIZE`]).
    pub limit: Option<usize>,
}

/// The filter from a query (the console's, or the CLI's flags), with Dutch errors.
pub fn filter_of(q: &ArchiveQuery) -> Result<Filter, ConsoleError> {
    let day = |text: &str, what: &str, end: bool| -> Result<Option<i64>, ConsoleError> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        let ms = if end { day_end_ms(text) } else { day_start_ms(text) };
        ms.map(Some).ok_or_else(|| ConsoleError::Invalid(format!("{what}: ‘{}’ is geen datum; gebruik JJJJ-MM-DD, bijvoorbeeld 2026-12-04", text.trim())))
    };
    let from_ms = day(&q.from, "van", false)?;
    let to_ms = day(&q.to, "tot en met", true)?;
    if let (Some(f), Some(t)) = (from_ms, to_ms) {
        if t <= f {
            return Err(ConsoleError::Invalid("de periode eindigt vóór ze begint: ‘tot en met’ ligt vóór ‘van’".into()));
        }
    }
    let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(Filter { from_ms, to_ms, room: some(&q.room), student: some(&q.student) })
}

/// `GET /console/api/archive?from=&to=&room=&student=&after=&limit=`: one
/// page of the archive (admin only).
pub async fn sittings(
    State(console): State<Arc<Console>>,
    user: ConsoleUser,
    query: Result<Query<ArchiveQuery>, QueryRejection>,
) -> Result<axum::Json<Page>, ConsoleError> {
    admin_only(&user)?;
    let Query(q) = query.map_err(|e| ConsoleError::Invalid(format!("ongeldige zoekvraag: {}", e.body_text())))?;
    let filter = filter_of(&q)?;
    let limit = q.limit.unwrap_or(PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(ConsoleError::Invalid(format!("limit: 1 tot {MAX_PAGE_SIZE}")));
    }
    Ok(axum::Json(list(console.read_pool().await, &filter, Some(q.after.as_str()), limit, crate::now_ms()).await?))
}

/// `GET /console/api/archive/rooms`: the rooms with sittings (admin only).
pub async fn rooms(State(console): State<Arc<Console>>, user: ConsoleUser) -> Result<axum::Json<Vec<String>>, ConsoleError> {
    admin_only(&user)?;
    Ok(axum::Json(sitting_rooms(console.read_pool().await).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_without_accents_or_case() {
        assert!(fold("Ömer Yılmaz").contains(&fold("omer")));
        assert!(fold("Eline van der Berg-de Vries").contains(&fold("BERG-DE  vries")));
        assert!(fold("Zoë Çelik").contains(&fold("zoe cel")));
        // ı is a letter of its own, not i with a mark.
        assert!(!fold("Yılmaz").contains(&fold("yilmaz")));
    }

    #[test]
    fn days_are_dutch_days() {
        // 4 December 2026 starts at 23:00 UTC the day before (CET).
        assert_eq!(day_start_ms("2026-12-04"), Some(1_796_338_800_000));
        assert_eq!(day_end_ms("2026-12-04"), Some(1_796_338_800_000 + 86_400_000));
        for bad in ["2026-13-01", "2026-02-30", "4-12-2026", "20261204", "", "2026-12-4"] {
            assert_eq!(day_start_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_cursor_reads_back() {
        let (start, sitting, student) = parse_cursor("17.53312e31.31303031").unwrap();
        assert_eq!((start, sitting.as_str(), student.as_str()), (17, "S1.1", "1001"));
        assert!(parse_cursor("17.zz.").is_err());
    }
}
