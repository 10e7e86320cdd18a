-- Operators: an append-only audit log, and what is kept of an erased account.

-- Every administrative and security-relevant action: who (the kind of actor and its id: an
-- account id or the operator's login on the command line), what (an action name and a
-- subject), when, and from which address where one is known. People's own actions (a data
-- export, an erasure, a claim conflict) carry no address: the log outlives an erased account
-- and must not keep where its owner connected from. The triggers refuse every change after
-- the insert, so the application cannot edit or delete an entry, however it is asked to.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject_kind TEXT,
    subject TEXT,
    address TEXT,
    detail TEXT
);
CREATE INDEX audit_log_by_time ON audit_log(at);
CREATE INDEX audit_log_by_subject ON audit_log(subject_kind, subject);
CREATE INDEX audit_log_by_actor ON audit_log(actor_kind, actor);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- An erased account's claimed assertions, as digests of (partner, assertion key): the only
-- thing kept of what they owned, so the same assertion sent again cannot be claimed by
-- someone else ("one owner per assertion" outlives the owner's erasure).
CREATE TABLE erased_assertions (
    digest TEXT PRIMARY KEY,
    erased_at BIGINT NOT NULL
);
