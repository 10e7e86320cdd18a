-- Pull (use case 3): a person starts an import on /import, is sent to the partner's pull URL
-- with a recipient token, and the partner uploads with that token into the person's inbox.

-- Where /import sends a person to fetch their credentials from this partner (https; set
-- with `partner set --pull-url`). NULL: the partner is not listed on /import.
ALTER TABLE partners ADD COLUMN pull_url TEXT;

-- The return page lists one person's waiting deliveries from one partner; the inbox lists
-- all of that person's.
CREATE INDEX packages_in_inbox ON packages(inbox_user_id, partner_id) WHERE inbox_user_id IS NOT NULL;

-- Housekeeping removes expired recipient tokens by time.
CREATE INDEX recipient_tokens_by_expiry ON recipient_tokens(expires_at);
