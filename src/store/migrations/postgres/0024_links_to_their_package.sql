-- A package's links (package_credentials) are written only with the package itself, in the
-- same statement or transaction, and removed before it (expiry, erasure): no other writer
-- sees a package before its links exist, and none links to it later. Their foreign key to the
-- package checked that anew on every link of every upload (one query per link, taking a
-- share lock on a row the same transaction had just inserted). The rule is kept where it
-- could break: deleting a package that still lists credentials is refused.
-- Their foreign key to the credential stays: an upload links to credentials stored
-- before, which an erasure may remove at the same moment.
-- SQLite keeps its foreign key: its check is a look-up, with no lock to write.
ALTER TABLE package_credentials DROP CONSTRAINT package_credentials_package_id_fkey;
CREATE FUNCTION packages_keep_their_links() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM package_credentials WHERE package_id = OLD.id) THEN
        RAISE EXCEPTION 'package % still lists credentials: delete its links first', OLD.id;
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER packages_keep_their_links BEFORE DELETE ON packages
    FOR EACH ROW EXECUTE FUNCTION packages_keep_their_links();
