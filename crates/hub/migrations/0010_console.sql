-- exam-hub schema, version 10: the invigilator console (docs/console.md).
-- Portable SQL for SQLite and PostgreSQL (see 0001_initial.sql).
--
-- Per-person console accounts; the password is a PBKDF2-HMAC-SHA256 hash
-- (`pbkdf2-sha256$ITERATIONS$SALT$HASH`). Wrong passwords count towards a
-- lock-out until `locked_until_ms`.
CREATE TABLE IF NOT EXISTS console_accounts (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    disabled_ms BIGINT,
    failures BIGINT NOT NULL,
    locked_until_ms BIGINT
)
--;
-- The rooms an invigilator account may act on (administrators: all rooms).
CREATE TABLE IF NOT EXISTS console_account_rooms (
    username TEXT NOT NULL,
    room TEXT NOT NULL,
    PRIMARY KEY (username, room)
)
--;
-- Browser sessions: only the SHA-256 of the cookie is stored.
CREATE TABLE IF NOT EXISTS console_sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    last_used_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    revoked_ms BIGINT
)
--;
-- Console state of a sitting: its version (optimistic concurrency for
-- room-wide actions) and whether it was ended or paused from the console.
CREATE TABLE IF NOT EXISTS console_sittings (
    sitting_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    paused_ms BIGINT,
    ended_ms BIGINT,
    ended_by TEXT
)
--;
-- Console state of a seat (student in a sitting): its version, pause
-- bookkeeping (for the time left shown) and whether it was ended.
CREATE TABLE IF NOT EXISTS console_seats (
    sitting_id TEXT NOT NULL,
    student_number TEXT NOT NULL,
    version BIGINT NOT NULL,
    paused_ms BIGINT,
    paused_total_ms BIGINT NOT NULL,
    ended_ms BIGINT,
    PRIMARY KEY (sitting_id, student_number)
)
--;
-- The hub's journal of console actions: who did what, to whom, and why.
CREATE TABLE IF NOT EXISTS console_actions (
    action_id TEXT PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    room TEXT NOT NULL,
    sitting_id TEXT,
    student_number TEXT,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL
)
--;
CREATE INDEX IF NOT EXISTS console_actions_sitting ON console_actions (sitting_id, at_ms)
--;
-- Moves of a student to another PC, authorised from the console. The hub's
-- answer hand-over to the new PC checks for a row here.
CREATE TABLE IF NOT EXISTS console_moves (
    move_id TEXT PRIMARY KEY,
    sitting_id TEXT NOT NULL,
    student_number TEXT NOT NULL,
    from_device TEXT,
    to_device TEXT NOT NULL,
    authorised_by TEXT NOT NULL,
    authorised_ms BIGINT NOT NULL,
    used_ms BIGINT
)
--;
CREATE INDEX IF NOT EXISTS console_moves_seat ON console_moves (sitting_id, student_number, to_device)
--;
-- Each room's TOTP secret for the BYOD room code (hex), with its parameters.
CREATE TABLE IF NOT EXISTS console_room_codes (
    room TEXT PRIMARY KEY,
    secret_hex TEXT NOT NULL,
    step_secs BIGINT NOT NULL,
    digits BIGINT NOT NULL,
    created_ms BIGINT NOT NULL
)
