-- A credential is found by its assertion id (the partner's GET and DELETE of one
-- submission) through the unique (partner_id, assertion_key) index wherever the key is the
-- assertion id itself, which is every credential of a partner with stable ids. This index
-- holds only the others (partners with unstable ids key on recipient and achievement), so
-- most uploads no longer write an entry to it for each credential.
DROP INDEX credentials_by_assertion_id;
CREATE INDEX credentials_by_assertion_id ON credentials(partner_id, assertion_id)
    WHERE deleted_at IS NULL AND assertion_key <> assertion_id;

-- Partners are never deleted: a partner is retired by disabling it, and what it sent stays
-- attributed to it. On PostgreSQL the foreign keys of packages, credentials and access
-- tokens to their partner are gone (a check there writes a lock into the partner's one row
-- for every upload), and deleting a partner is refused instead; SQLite keeps its foreign
-- keys (its check is a look-up, with no lock to write) and refuses it the same way.
CREATE TRIGGER partners_are_kept BEFORE DELETE ON partners
BEGIN
    SELECT RAISE(ABORT, 'a partner is not deleted: disable it instead');
END;
