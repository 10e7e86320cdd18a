//! Mapping rules: achievementType → section overrides, per partner or for everyone (an
//! admin's assignment of an unknown type). Assigning a rule re-sections the credentials
//! that were waiting as Unassigned.

use super::{Conn, StoreError, params};
use crate::domain::sections::{MappingRule, Section};

/// The partner's own rules first, then the global ones.
pub fn rules_for(conn: &mut dyn Conn, partner_id: &str) -> Result<Vec<MappingRule>, StoreError> {
    let rows = conn.query(
        "SELECT achievement_type, section FROM mapping_rules WHERE partner_id = $1 OR partner_id = ''
         ORDER BY CASE WHEN partner_id = '' THEN 1 ELSE 0 END, achievement_type",
        params![partner_id],
    )?;
    rows.iter().map(rule).collect()
}

fn rule(row: &super::Row) -> Result<MappingRule, StoreError> {
    let stored = row.text(1)?;
    let section = Section::from_key(&stored).ok_or_else(|| {
        StoreError::Other(format!(
            "a mapping rule's section {stored:?} is not a section key"
        ))
    })?;
    Ok(MappingRule {
        achievement_type: row.text(0)?,
        section,
    })
}

/// The partner's own overrides, without the global rules (for the admin pages).
pub fn own_rules(conn: &mut dyn Conn, partner_id: &str) -> Result<Vec<MappingRule>, StoreError> {
    let rows = conn.query(
        "SELECT achievement_type, section FROM mapping_rules WHERE partner_id = $1 AND partner_id <> ''
         ORDER BY achievement_type",
        params![partner_id],
    )?;
    rows.iter().map(rule).collect()
}

/// Sets a rule (`partner_id` "" = every partner) and moves matching Unassigned credentials
/// into the section. Returns how many moved.
pub fn assign(
    conn: &mut dyn Conn,
    partner_id: &str,
    achievement_type: &str,
    section: Section,
    now: i64,
) -> Result<u64, StoreError> {
    conn.execute(
        "INSERT INTO mapping_rules (partner_id, achievement_type, section, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (partner_id, achievement_type) DO UPDATE SET section = excluded.section",
        params![partner_id, achievement_type, section.key(), now],
    )?;
    let moved = conn.execute(
        "UPDATE credentials SET section = $1, updated_at = $2
         WHERE section = 'unassigned' AND LOWER(achievement_type) = LOWER($3) AND ($4 = '' OR partner_id = $4)",
        params![section.key(), now, achievement_type, partner_id],
    )?;
    conn.execute(
        "UPDATE alerts SET resolved_at = $1 WHERE kind = 'unknown_achievement_type' AND resolved_at IS NULL
         AND LOWER(subject) = LOWER($2) AND ($3 = '' OR partner_id = $3)",
        params![now, achievement_type, partner_id],
    )?;
    Ok(moved)
}
