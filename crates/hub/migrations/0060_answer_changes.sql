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
