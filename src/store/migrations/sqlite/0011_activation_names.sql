-- One name for the partner's activation page: the tables, columns and indexes version 6
-- named after "find" take the page's name. The page's URL (/find/{partner}) is the
-- partner contract's and does not change.
ALTER TABLE find_links RENAME TO activation_links;
ALTER TABLE find_backfill RENAME TO activation_backfill;

-- SQLite cannot rename an index: the partial indexes are made again under their new names
-- (one pass over packages, at start-up).
DROP INDEX packages_by_find_email_key;
DROP INDEX packages_by_find_student_key;
ALTER TABLE packages RENAME COLUMN find_email_key TO activation_email_key;
ALTER TABLE packages RENAME COLUMN find_student_key TO activation_student_key;
CREATE INDEX packages_by_activation_email_key ON packages(activation_email_key) WHERE activation_email_key IS NOT NULL;
CREATE INDEX packages_by_activation_student_key ON packages(activation_student_key) WHERE activation_student_key IS NOT NULL;

-- Messages waiting in the outbox with a package link keep it under its new name.
UPDATE email_outbox SET link_purpose = 'activation' WHERE link_purpose = 'find';
