-- exam-hub schema, version 50: wrong access codes counted per (student,
-- PC), so wrong codes typed on one PC never lock the student on another.
-- Portable SQL for SQLite and PostgreSQL (see 0001_initial.sql).
--
-- `attempts` counts codes checked since the last correct one, reserved
-- before the check (never more than the limit are checked, however many
-- arrive at once); `locked_ms` is set when the limit was reached with
-- wrong codes; `last_failure_ms` dates the latest wrong code (for the alarm
-- about a PC trying codes for several students).
CREATE TABLE IF NOT EXISTS login_failures (
    sitting_id TEXT NOT NULL,
    student_number TEXT NOT NULL,
    device_id TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    locked_ms BIGINT,
    last_failure_ms BIGINT,
    PRIMARY KEY (sitting_id, student_number, device_id)
)
--;
CREATE INDEX IF NOT EXISTS login_failures_device ON login_failures (device_id, last_failure_ms)
