-- Logos served from our origin, and marketplaces: issuer ids routed to a landing page of
-- their own on the claim page.

-- A partner's or a marketplace's logo, checked when uploaded (domain::logo) and served at
-- /logos/{digest}.{ext}. One per owner; the bytes are base64 text, as the store's values
-- are NULL, integers and text. Lookups by digest serve the file.
CREATE TABLE logos (
    owner_kind TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner_kind, owner_id)
);
CREATE INDEX logos_by_digest ON logos(digest);

-- A marketplace: a name (unique), the text of its landing, and the issuer ids routed to it.
-- An issuer id is routed to one marketplace at most (its primary key).
CREATE TABLE marketplaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    landing TEXT,
    created_at INTEGER NOT NULL
);
CREATE TABLE marketplace_issuers (
    issuer_id TEXT PRIMARY KEY,
    marketplace_id TEXT NOT NULL REFERENCES marketplaces(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX marketplace_issuers_by_marketplace ON marketplace_issuers(marketplace_id);

-- The activation page no longer links a logo on another host (its Content-Security-Policy
-- would have to name that host). A logo URL is not fetched here: the operator is told, once,
-- by an alert, to upload it with `partner set SLUG --logo URL_OR_FILE`; then the column goes.
INSERT INTO alerts (id, kind, partner_id, subject, message, created_at)
    SELECT 'logo-url-' || id, 'logo_url_dropped', id, logo_url,
           'The activation page of ' || slug || ' no longer shows its logo from ' || logo_url
               || ': logos are served from this site now. Upload it once with: credentialconnect partner set '
               || slug || ' --logo ' || logo_url,
           CAST(strftime('%s', 'now') AS INTEGER) * 1000
    FROM partners WHERE logo_url IS NOT NULL AND logo_url <> '';
ALTER TABLE partners DROP COLUMN logo_url;
