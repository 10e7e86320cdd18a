-- A credential's name in several languages (language-tagged text, VCDM 2.0): every
-- (language, text) pair as a JSON list of pairs. `name` keeps the first; pages show the
-- reader's language when the credential has it (domain::language_tagged). NULL otherwise.
ALTER TABLE credentials ADD COLUMN name_languages TEXT;
