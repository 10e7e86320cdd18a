-- Rate-limit counts that instances sharing this database trade (services::ratelimit): each
-- instance's count of a key (its SHA-256 digest) in a window of a limit. Read by the others
-- by when it was last written; purged once the window has passed.
CREATE TABLE rate_limit_counts (
    limiter TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    instance TEXT NOT NULL,
    count BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (limiter, key_hash, window_start, instance)
);
CREATE INDEX rate_limit_counts_by_update ON rate_limit_counts(updated_at);
CREATE INDEX rate_limit_counts_by_expiry ON rate_limit_counts(expires_at);
