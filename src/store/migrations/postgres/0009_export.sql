-- The deployment's signing keys for the resume credentials it issues: public halves only.
-- The private key lives in a file outside the database (CC_SIGNING_KEY_FILE); every key an
-- instance has signed with stays listed here, and so in /.well-known/did.json, so resumes
-- signed before a rotation keep verifying.
CREATE TABLE signing_keys (
    public_key_multibase TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

-- Every exported PDF prints the share link as a QR code, so the service must be able to give
-- it again without storing it: the token is HMAC-SHA256(link key, nonce), the link key a
-- file beside the signing key, so the database alone opens no resume. Links made before
-- this version have no nonce (an export then makes a new link).
ALTER TABLE resume_shares ADD COLUMN token_nonce TEXT;
