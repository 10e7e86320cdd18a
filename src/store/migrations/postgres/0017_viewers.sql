-- Viewer accounts (an employer's free account on a shared resume) and who viewed a shared
-- resume.

-- An account is a job seeker's (`person`) or a viewer's (`viewer`). A viewer's name, as
-- typed at sign-up, is kept in `given_name`; `organisation` is the viewer's employer.
ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person';
ALTER TABLE users ADD COLUMN organisation TEXT;

-- How often a share link was opened, one row per link and UTC day (days since 1970-01-01).
-- Nobody is named and nothing about the browser is kept: no address, no user agent. The
-- owner's own opens are not counted. Rows go with their link, and after 90 days.
CREATE TABLE share_view_days (
    token_hash TEXT NOT NULL REFERENCES resume_shares(token_hash),
    day BIGINT NOT NULL,
    views BIGINT NOT NULL,
    PRIMARY KEY (token_hash, day)
);
CREATE INDEX share_view_days_by_day ON share_view_days(day);

-- Which viewer accounts opened a shared resume (entry_id '') or one credential's details
-- (entry_id: the resume entry), one row per (link, viewer, what), with the first and last
-- time and how often. Rows go with their link, and a year after their last open.
CREATE TABLE share_viewer_opens (
    token_hash TEXT NOT NULL REFERENCES resume_shares(token_hash),
    viewer_id TEXT NOT NULL REFERENCES users(id),
    entry_id TEXT NOT NULL,
    first_opened_at BIGINT NOT NULL,
    last_opened_at BIGINT NOT NULL,
    opens BIGINT NOT NULL,
    PRIMARY KEY (token_hash, viewer_id, entry_id)
);
CREATE INDEX share_viewer_opens_by_viewer ON share_viewer_opens(viewer_id, last_opened_at);
CREATE INDEX share_viewer_opens_by_last ON share_viewer_opens(last_opened_at);
