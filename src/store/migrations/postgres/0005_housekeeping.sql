-- Housekeeping: background jobs that must run once across every instance sharing the
-- database. An instance runs a job only after taking its lease (a conditional update of
-- its row), and only when the last run finished long enough ago.
CREATE TABLE background_jobs (
    job TEXT PRIMARY KEY,
    holder TEXT,
    lease_until BIGINT,
    last_started_at BIGINT,
    last_finished_at BIGINT,
    runs BIGINT NOT NULL DEFAULT 0
);

-- Expired packages (claim links) are purged: found by their expiry.
CREATE INDEX packages_by_expiry ON packages(expires_at);
-- Sessions, found by their expiry (the idle ones by their last use).
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE INDEX sessions_by_last_seen ON sessions(last_seen_at);
