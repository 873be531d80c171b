-- exam-hub schema, version 70: results the student information system can
-- take (issue 17). Portable SQL for SQLite and PostgreSQL (see 0001_initial.sql).
--
-- `sittings.exam_code` is the exam's code in the student information system
-- (planning column `exam_code`); NULL for sittings planned without it.
ALTER TABLE sittings ADD COLUMN exam_code TEXT
--;
-- Hand scores: the points a person gave one item of one student's answers
-- (items the hub cannot score, such as an essay), in thousandths of a point. `answers_seq` is the save
-- of the answers that were scored: answers that count changed since (a
-- reopened exam) make the item pending again. A new score for the same item
-- replaces the old one; every score is also in `console_actions`.
CREATE TABLE IF NOT EXISTS hand_scores (
    sitting_id TEXT NOT NULL,
    student_number TEXT NOT NULL,
    item TEXT NOT NULL,
    points_milli BIGINT NOT NULL,
    answers_seq BIGINT NOT NULL,
    scored_ms BIGINT NOT NULL,
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    PRIMARY KEY (sitting_id, student_number, item)
)
