-- No query looks packages up by (partner, recipient id): a recipient claimed before is found
-- through recipient_links, and a package by its id. The index cost every upload one entry,
-- at a random place (a recipient's id): an index insert and its WAL record per upload.
DROP INDEX packages_by_recipient;
