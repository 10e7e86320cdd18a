-- Job seekers: accounts, sessions, one-time email links, resumes, the mail outbox.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    email_verified_at BIGINT,
    given_name TEXT,
    family_name TEXT,
    additional_name TEXT,
    phone TEXT,
    address TEXT,
    headline TEXT,
    summary TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);

CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    purpose TEXT NOT NULL,
    next_path TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE recipient_links (
    partner_id TEXT NOT NULL REFERENCES partners(id),
    recipient_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (partner_id, recipient_id)
);

CREATE TABLE resume_entries (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    credential_id TEXT REFERENCES credentials(id),
    section TEXT,
    hidden BIGINT NOT NULL DEFAULT 0,
    title TEXT,
    organisation TEXT,
    start_text TEXT,
    end_text TEXT,
    description TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (user_id, credential_id)
);
CREATE INDEX resume_entries_by_user ON resume_entries(user_id, created_at);

CREATE TABLE resume_skills (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    skill_id TEXT NOT NULL REFERENCES skills(id),
    level TEXT,
    hidden BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, skill_id)
);

CREATE TABLE email_outbox (
    id TEXT PRIMARY KEY,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- The text, with {link} where a one-time link goes: the link is made when the message
    -- is sent, so no usable token is ever stored.
    body TEXT NOT NULL,
    link_purpose TEXT,
    link_user_id TEXT,
    link_next TEXT,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT,
    sent_at BIGINT,
    suppressed_at BIGINT,
    last_error TEXT
);
CREATE INDEX email_outbox_due ON email_outbox(sent_at, suppressed_at, next_attempt_at);
