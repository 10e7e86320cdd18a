-- A credential is found by its assertion id (the partner's GET and DELETE of one
-- submission) through the unique (partner_id, assertion_key) index wherever the key is the
-- assertion id itself, which is every credential of a partner with stable ids. This index
-- holds only the others (partners with unstable ids key on recipient and achievement), so
-- most uploads no longer write an entry to it for each credential.
DROP INDEX credentials_by_assertion_id;
CREATE INDEX credentials_by_assertion_id ON credentials(partner_id, assertion_id)
    WHERE deleted_at IS NULL AND assertion_key <> assertion_id;

-- Partners are never deleted: a partner is retired by disabling it, and what it sent stays
-- attributed to it. Uploads and tokens proved that anew on every row: a foreign key's check
-- takes a share lock on the partner's row, and with many requests of one partner at once
-- each lock writes into that one row a new multixact (the list of every transaction
-- holding it) and a WAL record. Measured with the benchmark's floor (a fresh package's rows
-- written by pgbench), those checks cost 4-22 % of its rate. The rows still name
-- their partner (every write takes the id from the partner's own stored row); the rule
-- that a named partner exists is kept where it could break: deleting a partner is refused.
-- SQLite keeps its foreign keys: its check is a look-up, with no lock to write.
ALTER TABLE packages DROP CONSTRAINT packages_partner_id_fkey;
ALTER TABLE credentials DROP CONSTRAINT credentials_partner_id_fkey;
ALTER TABLE access_tokens DROP CONSTRAINT access_tokens_partner_id_fkey;
CREATE FUNCTION partners_are_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a partner is not deleted: disable it instead (partner %)', OLD.slug;
END
$$;
CREATE TRIGGER partners_are_kept BEFORE DELETE ON partners
    FOR EACH ROW EXECUTE FUNCTION partners_are_kept();
