-- Browsers people have signed in from, for the log-in limits (services::accounts): after
-- many failed log-ins for an account from anywhere, only a browser that has signed in to it
-- before may still try. The browser keeps a random token in a cookie; only its SHA-256
-- digest is stored, once per account it signed in to.
CREATE TABLE known_devices (
    token_hash TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    PRIMARY KEY (token_hash, user_id)
);
CREATE INDEX known_devices_by_last_use ON known_devices(last_used_at);
