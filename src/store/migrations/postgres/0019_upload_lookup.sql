-- An upload finds the stored records it names by (partner_id, assertion_key), the unique
-- index. Two other indexes also began with partner_id, and while the table was small the
-- planner rated them the same: a generic plan made then (PostgreSQL keeps one per
-- connection and statement until the table is analyzed) read all of a partner's credentials
-- for each record it looked up. Each of those indexes now holds only the rows its own
-- queries read (live ones; for the listing, live top-level ones), so it is no candidate for
-- an upload's look-up, which must find deleted records too.
DROP INDEX credentials_listing;
CREATE INDEX credentials_listing ON credentials(partner_id, created_at, position, id)
    WHERE parent_id IS NULL AND deleted_at IS NULL;
DROP INDEX credentials_by_assertion_id;
CREATE INDEX credentials_by_assertion_id ON credentials(partner_id, assertion_id)
    WHERE deleted_at IS NULL;
