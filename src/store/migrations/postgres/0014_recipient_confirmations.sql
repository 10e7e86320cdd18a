-- A person claiming a package that was sent for another email address first proves they read
-- that address's mail, with a one-time code sent to it (services::claims). One row per
-- (package, person) that needs it: the code's SHA-256 digest while one is live, how many
-- wrong codes were tried against it, how many codes were sent in the current day, and when
-- the address was confirmed.
CREATE TABLE recipient_confirmations (
    package_id TEXT NOT NULL REFERENCES packages(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    code_hash TEXT,
    code_expires_at BIGINT,
    wrong_codes BIGINT NOT NULL DEFAULT 0,
    codes_sent BIGINT NOT NULL DEFAULT 0,
    sending_since BIGINT,
    confirmed_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (package_id, user_id)
);
