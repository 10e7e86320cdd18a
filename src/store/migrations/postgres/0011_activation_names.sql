-- One name for the partner's activation page: the tables, columns and indexes version 6
-- named after "find" take the page's name. The page's URL (/find/{partner}) is the
-- partner contract's and does not change.
ALTER TABLE find_links RENAME TO activation_links;
ALTER TABLE find_backfill RENAME TO activation_backfill;

-- PostgreSQL keeps the names it gave the tables' constraints: they follow too.
ALTER TABLE activation_links RENAME CONSTRAINT find_links_pkey TO activation_links_pkey;
ALTER TABLE activation_links RENAME CONSTRAINT find_links_package_id_fkey TO activation_links_package_id_fkey;
ALTER TABLE activation_backfill RENAME CONSTRAINT find_backfill_pkey TO activation_backfill_pkey;

ALTER TABLE packages RENAME COLUMN find_email_key TO activation_email_key;
ALTER TABLE packages RENAME COLUMN find_student_key TO activation_student_key;
ALTER INDEX packages_by_find_email_key RENAME TO packages_by_activation_email_key;
ALTER INDEX packages_by_find_student_key RENAME TO packages_by_activation_student_key;

-- Messages waiting in the outbox with a package link keep it under its new name.
UPDATE email_outbox SET link_purpose = 'activation' WHERE link_purpose = 'find';
