-- Verification: JSON-LD contexts an operator added (the common ones are bundled in the
-- binary; contexts are never fetched while verifying).
CREATE TABLE jsonld_contexts (
    url TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    added_at BIGINT NOT NULL
);
