-- Identifiers compare as bytes (collation "C"), whatever collation the database was created
-- with: every column named id, ..._id, ..._hash, ..._key or digest, every text column of a
-- primary key, and packages.claimed_by (a user's id). They are ids, digests and keys, never
-- words a reader sorts, and SQLite compares every text column so (BINARY).
-- - Each probe of their indexes compares bytes instead of calling the locale library: on a
--   database created with ICU's English, inserting rows with two such indexes took a third
--   longer than with "C".
-- - Their indexes no longer follow the operating system's collation rules, so an upgrade that
--   changes those rules (glibc 2.28 did) cannot leave them out of order.
-- - Ids, and what is listed in their order (the mail whitelist, mapping rules), sort alike on
--   both engines.
-- Columns of words that are no key (names, users' emails, slugs, titles) keep the database's
-- collation. A column keeps its type: PostgreSQL rebuilds the indexes on it, without
-- rewriting the table.
ALTER TABLE access_tokens
    ALTER COLUMN token_hash TYPE text COLLATE "C",
    ALTER COLUMN partner_id TYPE text COLLATE "C";
ALTER TABLE activation_backfill
    ALTER COLUMN package_id TYPE text COLLATE "C",
    ALTER COLUMN partner_id TYPE text COLLATE "C";
ALTER TABLE activation_links
    ALTER COLUMN token_hash TYPE text COLLATE "C",
    ALTER COLUMN package_id TYPE text COLLATE "C";
ALTER TABLE activation_searches
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN partner_id TYPE text COLLATE "C";
ALTER TABLE admin_recovery_codes
    ALTER COLUMN user_id TYPE text COLLATE "C",
    ALTER COLUMN code_hash TYPE text COLLATE "C";
ALTER TABLE admins
    ALTER COLUMN user_id TYPE text COLLATE "C";
ALTER TABLE alerts
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN partner_id TYPE text COLLATE "C";
ALTER TABLE audit_log
    ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE background_jobs
    ALTER COLUMN job TYPE text COLLATE "C";
ALTER TABLE credentials
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN partner_id TYPE text COLLATE "C",
    ALTER COLUMN assertion_key TYPE text COLLATE "C",
    ALTER COLUMN assertion_id TYPE text COLLATE "C",
    ALTER COLUMN parent_id TYPE text COLLATE "C",
    ALTER COLUMN issuer_id TYPE text COLLATE "C",
    ALTER COLUMN achievement_id TYPE text COLLATE "C",
    ALTER COLUMN recipient_id TYPE text COLLATE "C",
    ALTER COLUMN owner_user_id TYPE text COLLATE "C";
ALTER TABLE email_outbox
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN link_user_id TYPE text COLLATE "C",
    ALTER COLUMN link_package_id TYPE text COLLATE "C";
ALTER TABLE email_tokens
    ALTER COLUMN token_hash TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C";
ALTER TABLE erased_assertions
    ALTER COLUMN digest TYPE text COLLATE "C";
ALTER TABLE jsonld_contexts
    ALTER COLUMN url TYPE text COLLATE "C";
ALTER TABLE known_devices
    ALTER COLUMN token_hash TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C";
ALTER TABLE logos
    ALTER COLUMN owner_kind TYPE text COLLATE "C",
    ALTER COLUMN owner_id TYPE text COLLATE "C",
    ALTER COLUMN digest TYPE text COLLATE "C";
ALTER TABLE mail_whitelist
    ALTER COLUMN entry TYPE text COLLATE "C";
ALTER TABLE mapping_rules
    ALTER COLUMN partner_id TYPE text COLLATE "C",
    ALTER COLUMN achievement_type TYPE text COLLATE "C";
ALTER TABLE marketplace_issuers
    ALTER COLUMN issuer_id TYPE text COLLATE "C",
    ALTER COLUMN marketplace_id TYPE text COLLATE "C";
ALTER TABLE marketplaces
    ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE package_credentials
    ALTER COLUMN package_id TYPE text COLLATE "C",
    ALTER COLUMN credential_id TYPE text COLLATE "C";
ALTER TABLE packages
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN partner_id TYPE text COLLATE "C",
    ALTER COLUMN token_hash TYPE text COLLATE "C",
    ALTER COLUMN recipient_id TYPE text COLLATE "C",
    ALTER COLUMN inbox_user_id TYPE text COLLATE "C",
    ALTER COLUMN claimed_by TYPE text COLLATE "C",
    ALTER COLUMN activation_email_key TYPE text COLLATE "C",
    ALTER COLUMN activation_student_key TYPE text COLLATE "C";
ALTER TABLE partner_wallets
    ALTER COLUMN partner_id TYPE text COLLATE "C",
    ALTER COLUMN client_id TYPE text COLLATE "C";
ALTER TABLE partners
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN client_id TYPE text COLLATE "C",
    ALTER COLUMN secret_hash TYPE text COLLATE "C";
ALTER TABLE rate_limit_counts
    ALTER COLUMN limiter TYPE text COLLATE "C",
    ALTER COLUMN key_hash TYPE text COLLATE "C",
    ALTER COLUMN instance TYPE text COLLATE "C";
ALTER TABLE recipient_confirmations
    ALTER COLUMN package_id TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C",
    ALTER COLUMN code_hash TYPE text COLLATE "C";
ALTER TABLE recipient_links
    ALTER COLUMN partner_id TYPE text COLLATE "C",
    ALTER COLUMN recipient_id TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C";
ALTER TABLE recipient_tokens
    ALTER COLUMN token_hash TYPE text COLLATE "C",
    ALTER COLUMN partner_id TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C";
ALTER TABLE resume_entries
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C",
    ALTER COLUMN credential_id TYPE text COLLATE "C";
ALTER TABLE resume_shares
    ALTER COLUMN token_hash TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C";
ALTER TABLE resume_skills
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C",
    ALTER COLUMN skill_id TYPE text COLLATE "C";
ALTER TABLE sessions
    ALTER COLUMN id_hash TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C";
ALTER TABLE share_view_days
    ALTER COLUMN token_hash TYPE text COLLATE "C";
ALTER TABLE share_viewer_opens
    ALTER COLUMN token_hash TYPE text COLLATE "C",
    ALTER COLUMN viewer_id TYPE text COLLATE "C",
    ALTER COLUMN entry_id TYPE text COLLATE "C";
ALTER TABLE signing_keys
    ALTER COLUMN public_key_multibase TYPE text COLLATE "C";
ALTER TABLE skills
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN credential_id TYPE text COLLATE "C";
ALTER TABLE users
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN password_hash TYPE text COLLATE "C";
ALTER TABLE wallet_pushes
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C",
    ALTER COLUMN partner_id TYPE text COLLATE "C";
