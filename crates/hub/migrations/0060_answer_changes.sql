-- exam-hub schema, version 60: the changes a kiosk made to a student's
-- answers, one row per save number, as its uploads carry them
-- (`AnswerUpload.changes`). With the stored snapshots (`answers`) they rebuild
-- the answers as they were at every save, so a kiosk that was offline across
-- an end still has the work it made in time counted (docs/hub.md).
-- Portable SQL for SQLite and PostgreSQL (see 0001_initial.sql).
--
-- `body` is the change as JSON (exam_protocol::AnswerChange); `device_id`
-- and `received_ms` are those of the upload that brought it. Rows are never
-- changed or deleted (except by the retention deletion of answers).
CREATE TABLE IF NOT EXISTS answer_changes (
    sitting_id TEXT NOT NULL,
    student_number TEXT NOT NULL,
    seq BIGINT NOT NULL,
    body TEXT NOT NULL,
    device_id TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    PRIMARY KEY (sitting_id, student_number, seq)
)
--;
-- Answers a PC sent over a session that a login on another PC had ended
-- (the student moved on and continued from the hub's copy): kept apart,
-- each with the receipt the PC got, shown in the results and the
-- proces-verbaal, never counted by themselves (the student's answers are
-- those of the session they continued in).
CREATE TABLE IF NOT EXISTS superseded_answers (
    sitting_id TEXT NOT NULL,
    student_number TEXT NOT NULL,
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    final_submission BIGINT NOT NULL,
    answers TEXT NOT NULL,
    answers_sha256 TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    superseded_ms BIGINT NOT NULL,
    receipt TEXT NOT NULL,
    PRIMARY KEY (sitting_id, student_number, device_id, seq)
)
