-- Credentials waiting as Unassigned are found by their section alone (the admin's alerts,
-- and placing a type moves them): the index holds only those rows. It held every
-- credential before, and every upload paid for an entry no query read.
DROP INDEX credentials_unassigned;
CREATE INDEX credentials_unassigned ON credentials(achievement_type) WHERE section = 'unassigned';
