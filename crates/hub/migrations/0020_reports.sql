-- exam-hub schema, version 20: proces-verbaal remarks, scoring keys, retention log.
-- Portable SQL for SQLite and PostgreSQL (see 0001_initial.sql).
--
-- Invigilators' free-text remarks for the proces-verbaal; never edited or
-- deleted (a correction is a new remark).
CREATE TABLE IF NOT EXISTS pv_remarks (
    remark_id TEXT PRIMARY KEY,
    sitting_id TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    created_ms BIGINT NOT NULL
)
--;
CREATE INDEX IF NOT EXISTS pv_remarks_sitting ON pv_remarks (sitting_id, created_ms)
--;
-- The scoring data of an instrument (`kioskctl instrument render --scoring`):
-- response declarations and processing per item; the hub scores with it.
CREATE TABLE IF NOT EXISTS instrument_scoring (
    instrument_id TEXT PRIMARY KEY,
    scoring TEXT NOT NULL,
    imported_ms BIGINT NOT NULL
)
--;
-- Every deletion under the retention rule: what, whose, how much, when, why.
CREATE TABLE IF NOT EXISTS retention_deletions (
    deletion_id TEXT PRIMARY KEY,
    what TEXT NOT NULL,
    subject TEXT NOT NULL,
    sitting_id TEXT,
    rows_deleted BIGINT NOT NULL,
    older_than_ms BIGINT NOT NULL,
    rule TEXT NOT NULL,
    deleted_ms BIGINT NOT NULL
)
--;
CREATE INDEX IF NOT EXISTS retention_deletions_sitting ON retention_deletions (sitting_id)
