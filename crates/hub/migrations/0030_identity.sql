-- exam-hub schema, version 30: device identity (proof of possession at
-- enrolment, re-admission after revocation, sessions bound to the client
-- certificate). Portable SQL for SQLite and PostgreSQL (see 0001_initial.sql).
--
-- Single-use enrolment challenges: only for a valid enrolment token, short
-- lived, consumed by the enrolment that signs them.
CREATE TABLE IF NOT EXISTS enrol_challenges (
    challenge TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    used_ms BIGINT
)
--;
CREATE INDEX IF NOT EXISTS enrol_challenges_expiry ON enrol_challenges (expires_ms)
--;
-- When an administrator re-admitted a revoked device (`exam-hub device
-- readmit`): a later enrolment with proof may then lift the revocation.
ALTER TABLE devices ADD COLUMN readmitted_ms BIGINT
--;
-- The client certificate (SHA-256 of its DER) a session token was issued
-- over; the token is refused over any other certificate.
ALTER TABLE sessions ADD COLUMN cert_sha256 TEXT
--;
-- Sessions issued before this version are bound to their device's current certificate.
UPDATE sessions SET cert_sha256 = (SELECT d.cert_sha256 FROM devices d WHERE d.device_id = sessions.device_id)
