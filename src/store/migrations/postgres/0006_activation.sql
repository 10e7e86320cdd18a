-- The partner's activation page: a person finds their package by names and email or student
-- id, and gets a one-time link to it by email. A package is findable when its recipient has
-- an id, both names, and an email or student id.

-- Lookup keys (domain::activation): SHA-256 digests of partner + normalised names + email or
-- student id, so the person's details are not stored a second time in plain text and a
-- search is one index probe. NULL unless the package is findable: the partial indexes cost
-- other uploads nothing.
ALTER TABLE packages ADD COLUMN find_email_key TEXT;
ALTER TABLE packages ADD COLUMN find_student_key TEXT;
CREATE INDEX packages_by_find_email_key ON packages(find_email_key) WHERE find_email_key IS NOT NULL;
CREATE INDEX packages_by_find_student_key ON packages(find_student_key) WHERE find_student_key IS NOT NULL;

-- Packages stored before this version that may be findable: their keys need the recipient
-- JSON parsed and normalised as the application does, so a start-up step computes them and
-- removes the row (services::activation::index_existing).
CREATE TABLE find_backfill (
    package_id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL
);
INSERT INTO find_backfill (package_id, partner_id)
    SELECT id, partner_id FROM packages WHERE recipient_id IS NOT NULL AND claimed_by IS NULL AND inbox_user_id IS NULL;

-- One-time links to a package's claim page, mailed after a search. Only the SHA-256 digest
-- of the token is stored; the outbox row that carries the link names only the package.
CREATE TABLE find_links (
    token_hash TEXT PRIMARY KEY,
    package_id TEXT NOT NULL REFERENCES packages(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
ALTER TABLE email_outbox ADD COLUMN link_package_id TEXT;

-- Every accepted search, matched or not (no names, no addresses): operators see the page is
-- used, and a search writes the same whether or not it found anything.
CREATE TABLE activation_searches (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id),
    created_at BIGINT NOT NULL,
    matched BIGINT NOT NULL,
    queued BIGINT NOT NULL
);
CREATE INDEX activation_searches_by_time ON activation_searches(created_at);

-- The partner's logo on its activation page (https only; set with `partner set --logo-url`).
ALTER TABLE partners ADD COLUMN logo_url TEXT;
