-- The partner API: partners, their tokens, the holding area, mapping rules, alerts.
CREATE TABLE partners (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    unstable_ids BIGINT NOT NULL DEFAULT 0,
    strict BIGINT NOT NULL DEFAULT 0,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    secret_rotated_at BIGINT NOT NULL
);

CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id),
    scopes TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX access_tokens_by_partner ON access_tokens(partner_id);

CREATE TABLE mapping_rules (
    partner_id TEXT NOT NULL,
    achievement_type TEXT NOT NULL,
    section TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (partner_id, achievement_type)
);

CREATE TABLE packages (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id),
    -- Digest of the secret half of the claim token; the other half is the id.
    token_hash TEXT NOT NULL,
    recipient TEXT NOT NULL,
    recipient_id TEXT,
    inbox_user_id TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_at BIGINT
);
CREATE INDEX packages_by_recipient ON packages(partner_id, recipient_id);

CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id),
    assertion_key TEXT NOT NULL,
    assertion_id TEXT,
    kind TEXT NOT NULL,
    parent_id TEXT REFERENCES credentials(id),
    document TEXT NOT NULL,
    jws TEXT,
    fingerprint TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    issuer_id TEXT NOT NULL,
    issuer_name TEXT,
    achievement_id TEXT,
    achievement_type TEXT,
    section TEXT,
    awarded_text TEXT,
    awarded_at TEXT,
    valid_until_text TEXT,
    valid_until_at TEXT,
    recipient_id TEXT,
    verification TEXT NOT NULL,
    verification_reason TEXT NOT NULL,
    verification_checked_at BIGINT NOT NULL,
    owner_user_id TEXT,
    created_at BIGINT NOT NULL,
    -- Orders submissions made in the same millisecond: the record's place in its package.
    position BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    UNIQUE (partner_id, assertion_key)
);
CREATE INDEX credentials_by_assertion_id ON credentials(partner_id, assertion_id);
CREATE INDEX credentials_listing ON credentials(partner_id, created_at, position, id);
CREATE INDEX credentials_unassigned ON credentials(section, achievement_type);

CREATE TABLE package_credentials (
    package_id TEXT NOT NULL REFERENCES packages(id),
    credential_id TEXT NOT NULL REFERENCES credentials(id),
    position BIGINT NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (package_id, credential_id)
);

CREATE TABLE skills (
    id TEXT PRIMARY KEY,
    credential_id TEXT NOT NULL REFERENCES credentials(id),
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    framework TEXT,
    code TEXT,
    target_type TEXT,
    evidence_url TEXT,
    level TEXT,
    category TEXT NOT NULL,
    verified BIGINT NOT NULL,
    verified_by TEXT,
    verified_on TEXT
);
CREATE INDEX skills_by_credential ON skills(credential_id, position);

CREATE TABLE recipient_tokens (
    token_hash TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id),
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    partner_id TEXT,
    subject TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE INDEX alerts_open ON alerts(kind, subject, resolved_at);
