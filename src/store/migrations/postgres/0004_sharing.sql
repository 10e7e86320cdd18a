-- Sharing: a person's resume opened by whoever holds the link (an employer). One link per
-- person at a time; only the SHA-256 digest of its secret is stored, so the link is shown
-- once, when it is made.
CREATE TABLE resume_shares (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE REFERENCES users(id),
    created_at BIGINT NOT NULL
);

-- A shared resume's credentials are checked again when viewed: found by their owner. Only
-- claimed credentials have one, so uploads do not pay for this index.
CREATE INDEX credentials_by_owner ON credentials(owner_user_id) WHERE owner_user_id IS NOT NULL;
