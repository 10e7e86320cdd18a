-- Operators on the web: admin accounts. An admin is a person's account (the same log-in,
-- sessions and password reset) with a row here, and must pass a second factor, a TOTP code
-- (RFC 6238) or a one-time recovery code, in each session before any admin page opens.

-- The TOTP secret is sealed under the deployment's sealing key (as wallet client secrets
-- are), bound to its account; it is made when the admin is created and confirmed by the
-- first right code. `last_totp_step` is the time step of the last code accepted: a code is
-- accepted once, so one seen over a shoulder or replayed from a log opens nothing.
CREATE TABLE admins (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    totp_secret_sealed TEXT NOT NULL,
    totp_confirmed_at BIGINT,
    last_totp_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- Recovery codes, as SHA-256 digests, each good once.
CREATE TABLE admin_recovery_codes (
    user_id TEXT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- When the session passed the second factor.
ALTER TABLE sessions ADD COLUMN second_factor_at BIGINT;

-- Test mode's whitelist (addresses and domains that still get mail), edited on the admin
-- pages and by the CLI; CC_MAIL_WHITELIST adds its entries at each start.
CREATE TABLE mail_whitelist (
    entry TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

-- Mail test mode held back is an alert until an admin acknowledges it.
ALTER TABLE email_outbox ADD COLUMN acknowledged_at BIGINT;
