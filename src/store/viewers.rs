//! Who viewed a shared resume: a count per share link and UTC day, and one row per
//! (link, viewer account, what was opened), each counted with one upsert. Rows belong to
//! their link: they go when it is replaced or stopped, and after their retention. Also the
//! one credential a viewer account asks the details of.

use super::holding::StaleVerification;
use super::{Conn, StoreError, params};
use crate::domain::verification::VerificationState;
use crate::domain::viewing::{DayViews, ShareViews, ViewerOpen};

/// Counts one view of the link with this digest on `day` (one upsert). Nothing is counted
/// for a link that no longer exists (replaced or stopped while the page was read).
pub fn count_view(conn: &mut dyn Conn, token_hash: &str, day: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO share_view_days (token_hash, day, views)
         SELECT token_hash, CAST($1 AS BIGINT), 1 FROM resume_shares WHERE token_hash = $2
         ON CONFLICT (token_hash, day) DO UPDATE SET views = share_view_days.views + 1",
        params![day, token_hash],
    )?;
    Ok(())
}

/// Records that a viewer account opened the shared resume (`entry_id` empty) or one of its
/// credentials' details (one upsert).
pub fn record_open(
    conn: &mut dyn Conn,
    token_hash: &str,
    viewer_id: &str,
    entry_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO share_viewer_opens (token_hash, viewer_id, entry_id, first_opened_at, last_opened_at, opens)
         SELECT token_hash, $1, $2, CAST($3 AS BIGINT), CAST($3 AS BIGINT), 1 FROM resume_shares WHERE token_hash = $4
         ON CONFLICT (token_hash, viewer_id, entry_id)
         DO UPDATE SET last_opened_at = excluded.last_opened_at, opens = share_viewer_opens.opens + 1",
        params![viewer_id, entry_id, now, token_hash],
    )?;
    Ok(())
}

/// The viewer rows shown at most, most recent first.
const MAX_VIEWER_ROWS: i64 = 200;

/// Who viewed the person's current share link: the views of `since_day` and later.
pub fn views_of(
    conn: &mut dyn Conn,
    user_id: &str,
    since_day: i64,
) -> Result<ShareViews, StoreError> {
    let days = conn
        .query(
            "SELECT d.day, d.views FROM share_view_days d JOIN resume_shares s ON s.token_hash = d.token_hash
             WHERE s.user_id = $1 AND d.day >= $2 ORDER BY d.day DESC",
            params![user_id, since_day],
        )?
        .iter()
        .map(|row| {
            Ok(DayViews {
                day: row.int(0)?,
                views: row.int(1)?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    // A credential taken off the resume since is left out: its row ages out.
    let viewers = conn
        .query(
            "SELECT u.given_name, u.organisation, o.entry_id, c.name, o.first_opened_at, o.last_opened_at, o.opens
             FROM share_viewer_opens o JOIN resume_shares s ON s.token_hash = o.token_hash
                  JOIN users u ON u.id = o.viewer_id
                  LEFT JOIN resume_entries e ON e.id = o.entry_id AND e.user_id = s.user_id
                  LEFT JOIN credentials c ON c.id = e.credential_id
             WHERE s.user_id = $1 AND (o.entry_id = '' OR c.id IS NOT NULL)
             ORDER BY o.last_opened_at DESC, o.entry_id LIMIT $2",
            params![user_id, MAX_VIEWER_ROWS],
        )?
        .iter()
        .map(|row| {
            let entry = row.text(2)?;
            Ok(ViewerOpen {
                viewer_name: row.opt_text(0)?.unwrap_or_default(),
                organisation: row.opt_text(1)?,
                credential: if entry.is_empty() {
                    None
                } else {
                    row.opt_text(3)?
                },
                first_opened_at: row.int(4)?,
                last_opened_at: row.int(5)?,
                opens: row.int(6)?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(ShareViews { days, viewers })
}

/// A resume a viewer account opened: its link's nonce and digest (to give the link back),
/// whose it is, and when the viewer last opened it or its details.
pub struct RecentOpen {
    pub nonce: Option<String>,
    pub token_hash: String,
    pub owner_name: String,
    pub last_opened_at: i64,
}

/// The resumes (still shared) a viewer account opened, most recent first.
pub fn recent_of_viewer(
    conn: &mut dyn Conn,
    viewer_id: &str,
    limit: i64,
) -> Result<Vec<RecentOpen>, StoreError> {
    conn.query(
        "SELECT s.token_nonce, s.token_hash, u.given_name, u.additional_name, u.family_name, MAX(o.last_opened_at)
         FROM share_viewer_opens o JOIN resume_shares s ON s.token_hash = o.token_hash JOIN users u ON u.id = s.user_id
         WHERE o.viewer_id = $1
         GROUP BY s.token_nonce, s.token_hash, u.given_name, u.additional_name, u.family_name
         ORDER BY 6 DESC, 2 LIMIT $2",
        params![viewer_id, limit],
    )?
    .iter()
    .map(|row| {
        let names = [row.opt_text(2)?, row.opt_text(3)?, row.opt_text(4)?];
        Ok(RecentOpen {
            nonce: row.opt_text(0)?,
            token_hash: row.text(1)?,
            owner_name: names.into_iter().flatten().collect::<Vec<_>>().join(" "),
            last_opened_at: row.int(5)?,
        })
    })
    .collect()
}

/// Drops what was counted for the person's share link (it is being replaced or stopped).
pub fn drop_for_links_of(conn: &mut dyn Conn, user_id: &str) -> Result<(), StoreError> {
    for table in ["share_view_days", "share_viewer_opens"] {
        conn.execute(
            &format!(
                "DELETE FROM {table} WHERE token_hash IN (SELECT token_hash FROM resume_shares WHERE user_id = $1)"
            ),
            params![user_id],
        )?;
    }
    Ok(())
}

/// Removes day counts of days before `day_before` and viewer rows last opened before
/// `opened_before`: (day rows, viewer rows).
pub fn purge(
    conn: &mut dyn Conn,
    day_before: i64,
    opened_before: i64,
) -> Result<(u64, u64), StoreError> {
    let days = conn.execute(
        "DELETE FROM share_view_days WHERE day < $1",
        params![day_before],
    )?;
    let opens = conn.execute(
        "DELETE FROM share_viewer_opens WHERE last_opened_at < $1",
        params![opened_before],
    )?;
    Ok((days, opens))
}

/// One credential on a person's resume, as its details page needs it: what to check again
/// and what to show.
pub struct ShownCredential {
    pub check: StaleVerification,
    pub title: String,
    pub issuer_name: Option<String>,
    pub issuer_id: String,
    pub partner_name: String,
    pub reason: String,
    /// It came inside a CLR whose own proof failed: it stays failed with it, whatever its
    /// own proof says (as on every other page).
    pub in_failed_clr: bool,
}

/// The partner credential of `owner`'s resume entry `entry_id`, if the shared resume shows
/// it: not another person's entry, not one the person hid, not one the issuer revoked, not
/// the person's own (self-reported) entry.
pub fn shown_credential(
    conn: &mut dyn Conn,
    owner: &str,
    entry_id: &str,
) -> Result<Option<ShownCredential>, StoreError> {
    conn.query_opt(
        "SELECT c.id, c.partner_id, COALESCE(c.assertion_id, c.assertion_key), c.document, c.jws, p.strict, c.verification,
                c.name, c.issuer_name, c.issuer_id, p.name, c.verification_reason,
                CASE WHEN EXISTS (SELECT 1 FROM credentials clr WHERE clr.id = c.parent_id AND clr.verification = 'failed')
                     THEN 1 ELSE 0 END
         FROM resume_entries e JOIN credentials c ON c.id = e.credential_id JOIN partners p ON p.id = c.partner_id
         WHERE e.id = $1 AND e.user_id = $2 AND e.hidden = 0 AND c.deleted_at IS NULL",
        params![entry_id, owner],
    )?
    .map(|row| {
        Ok(ShownCredential {
            check: StaleVerification {
                id: row.text(0)?,
                partner_id: row.text(1)?,
                subject: row.text(2)?,
                document: row.text(3)?,
                jws: row.opt_text(4)?,
                strict: row.flag(5)?,
                state: VerificationState::parse(&row.text(6)?).unwrap_or(VerificationState::None),
            },
            title: row.text(7)?,
            issuer_name: row.opt_text(8)?,
            issuer_id: row.text(9)?,
            partner_name: row.text(10)?,
            reason: row.text(11)?,
            in_failed_clr: row.flag(12)?,
        })
    })
    .transpose()
}
