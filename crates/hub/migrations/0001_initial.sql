-- exam-hub schema, version 1. Portable SQL for SQLite and PostgreSQL:
-- BIGINT for numbers and times (unix ms), TEXT for text, and the token
-- {BLOB} for binary columns (BLOB on SQLite, BYTEA on PostgreSQL).
-- Statements are separated by a line holding only "--;".
CREATE TABLE IF NOT EXISTS enrol_tokens (
    token_hash TEXT PRIMARY KEY,
    room TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    used_ms BIGINT,
    device_id TEXT
)
--;
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY,
    room TEXT NOT NULL,
    cert_sha256 TEXT NOT NULL UNIQUE,
    device_public_key TEXT,
    hostname TEXT,
    enrolled_ms BIGINT NOT NULL,
    revoked_ms BIGINT,
    last_seen_ms BIGINT,
    last_state TEXT
)
--;
CREATE TABLE IF NOT EXISTS students (
    student_number TEXT PRIMARY KEY,
    name TEXT NOT NULL
)
--;
CREATE TABLE IF NOT EXISTS instruments (
    instrument_id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    content_key TEXT NOT NULL,
    data {BLOB} NOT NULL,
    imported_ms BIGINT NOT NULL
)
--;
CREATE TABLE IF NOT EXISTS sittings (
    sitting_id TEXT PRIMARY KEY,
    exam TEXT NOT NULL,
    instrument_id TEXT NOT NULL,
    room TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    duration_minutes BIGINT NOT NULL,
    started_ms BIGINT
)
--;
CREATE TABLE IF NOT EXISTS candidates (
    sitting_id TEXT NOT NULL,
    student_number TEXT NOT NULL,
    extra_minutes BIGINT NOT NULL,
    tools TEXT NOT NULL,
    text_size TEXT,
    contrast TEXT,
    code_hmac TEXT NOT NULL,
    failures BIGINT NOT NULL,
    locked_ms BIGINT,
    added_minutes BIGINT NOT NULL,
    PRIMARY KEY (sitting_id, student_number)
)
--;
CREATE INDEX IF NOT EXISTS candidates_student ON candidates (student_number)
--;
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    sitting_id TEXT NOT NULL,
    student_number TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    revoked_ms BIGINT
)
--;
CREATE INDEX IF NOT EXISTS sessions_candidate ON sessions (sitting_id, student_number)
--;
CREATE TABLE IF NOT EXISTS journal_state (
    device_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    next_seq BIGINT NOT NULL,
    checkpoint_size BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
)
--;
CREATE TABLE IF NOT EXISTS journal_records (
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    record_type BIGINT NOT NULL,
    kind TEXT NOT NULL,
    wall_time_us BIGINT NOT NULL,
    frame {BLOB} NOT NULL,
    PRIMARY KEY (device_id, seq)
)
--;
CREATE TABLE IF NOT EXISTS alarms (
    alarm_id TEXT PRIMARY KEY,
    device_id TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_ms BIGINT NOT NULL
)
--;
CREATE TABLE IF NOT EXISTS answers (
    sitting_id TEXT NOT NULL,
    student_number TEXT NOT NULL,
    seq BIGINT NOT NULL,
    final_submission BIGINT NOT NULL,
    answers TEXT NOT NULL,
    answers_sha256 TEXT NOT NULL,
    device_id TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    receipt TEXT NOT NULL,
    PRIMARY KEY (sitting_id, student_number, seq)
)
--;
CREATE TABLE IF NOT EXISTS instructions (
    instruction_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    body TEXT NOT NULL,
    issued_ms BIGINT NOT NULL,
    acked_ms BIGINT
)
--;
CREATE INDEX IF NOT EXISTS instructions_pending ON instructions (acked_ms, device_id)
