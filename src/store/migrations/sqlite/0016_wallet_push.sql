-- Wallet push (use case 4): a wallet partner receives a person's signed resume credential.

-- A partner that is a wallet: where resumes are pushed (OB 3.0 upsert style), the OAuth 2.0
-- token URL and client credentials for it, and where the person's browser goes afterwards.
-- The client secret is sealed (ChaCha20-Poly1305) under a key kept in a file beside the
-- signing key, never in the database, so a copy of the database alone does not hold it.
CREATE TABLE partner_wallets (
    partner_id TEXT PRIMARY KEY REFERENCES partners(id),
    push_url TEXT NOT NULL,
    token_url TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret_sealed TEXT NOT NULL,
    landing_url TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Pushes queued by "Share To My Wallet", delivered by a worker with retries (an outbox, with a
-- lease per job as mail has). The signed credential is made once, when the push is asked for,
-- so every attempt sends the same one (the wallet upserts it by its id); it is dropped once
-- the push has ended, sent or failed.
CREATE TABLE wallet_pushes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    partner_id TEXT NOT NULL REFERENCES partners(id),
    credential TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    ended_at INTEGER
);

-- The worker looks for due pushes; /resume lists a person's latest.
CREATE INDEX wallet_pushes_due ON wallet_pushes(next_attempt_at) WHERE state = 'queued';
CREATE INDEX wallet_pushes_by_user ON wallet_pushes(user_id, created_at);
