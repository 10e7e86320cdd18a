//! Claiming packages onto a resume, and the resume itself: the person's selection of their
//! credentials and skills (with hide choices and levels) and their own entries.
//!
//! One assertion belongs to one person: ownership is taken with a conditional UPDATE, so of
//! two people claiming the same credential at once exactly one succeeds.

use super::{Conn, StoreError, alerts, new_id, params};
use crate::domain::audit::{Action, Actor, Subject};
use crate::domain::email::EmailAddress;
use crate::domain::offer::{
    ClaimRefusal, Claimed, OfferedCredential, OfferedSkill, PackageContents,
};
use crate::domain::package::Recipient;
use crate::domain::resume::{Entry, OwnEntry, ResumeSkill, SkillEditRefusal};
use crate::domain::sections::Section;

/// The package with this id, as `viewer` (if anyone) would choose from it.
pub fn package_contents(
    conn: &mut dyn Conn,
    package_id: &str,
    viewer: Option<&str>,
) -> Result<Option<PackageContents>, StoreError> {
    let Some(package) = conn.query_opt(
        "SELECT k.id, p.name, k.recipient, k.expires_at, k.claimed_by, k.inbox_user_id FROM packages k JOIN partners p ON p.id = k.partner_id
         WHERE k.id = $1",
        params![package_id],
    )?
    else {
        return Ok(None);
    };
    let viewer = viewer.unwrap_or("");
    let credentials = conn.query(
        "SELECT c.id, c.name, COALESCE(c.issuer_name, c.issuer_id), c.section, c.awarded_text, c.description, c.verification,
                c.deleted_at, c.owner_user_id, c.verification_reason, c.name_languages
         FROM package_credentials pc JOIN credentials c ON c.id = pc.credential_id
         WHERE pc.package_id = $1 AND c.kind = 'credential' ORDER BY pc.position",
        params![package_id],
    )?;
    let skills = conn.query(
        "SELECT s.id, s.name, s.description, s.level, s.category, s.verified, s.verified_by, c.owner_user_id, c.verification, c.id
         FROM package_credentials pc JOIN credentials c ON c.id = pc.credential_id JOIN skills s ON s.credential_id = c.id
         WHERE pc.package_id = $1 AND c.deleted_at IS NULL ORDER BY pc.position, s.position",
        params![package_id],
    )?;
    let recipient = super::holding::stored_recipient(&package.text(2)?);
    let inbox_user_id = package.opt_text(5)?;
    let unconfirmed_recipient = match viewer {
        "" => None,
        viewer => unconfirmed_recipient(
            conn,
            package_id,
            &recipient,
            inbox_user_id.as_deref(),
            viewer,
        )?,
    };
    // An assertion whose owner erased their account stays theirs: it shows as taken.
    let erased = super::personal_data::owned_by_erased_accounts(conn, package_id)?;
    let taken = |credential_id: &str, owner: Option<String>| -> Result<bool, StoreError> {
        Ok(match owner {
            Some(owner) => owner != viewer,
            None => erased.contains(credential_id),
        })
    };
    Ok(Some(PackageContents {
        id: package.text(0)?,
        partner_name: package.text(1)?,
        recipient,
        expires_at: package.int(3)?,
        claimed_by: package.opt_text(4)?,
        inbox_user_id,
        unconfirmed_recipient,
        credentials: credentials
            .iter()
            .map(|row| {
                Ok(OfferedCredential {
                    id: row.text(0)?,
                    name: row.text(1)?,
                    issuer: row.text(2)?,
                    section: section_of(row.opt_text(3)?),
                    awarded: row.opt_text(4)?,
                    description: row.opt_text(5)?,
                    verification: row.text(6)?,
                    verification_reason: row.text(9)?,
                    name_languages: row.opt_text(10)?,
                    revoked: row.opt_int(7)?.is_some(),
                    taken: taken(&row.text(0)?, row.opt_text(8)?)?,
                })
            })
            .collect::<Result<_, StoreError>>()?,
        skills: skills
            .iter()
            .map(|row| {
                Ok(OfferedSkill {
                    id: row.text(0)?,
                    name: row.text(1)?,
                    description: row.opt_text(2)?,
                    level: row.opt_text(3)?,
                    category: row.text(4)?,
                    verified: row.flag(5)?,
                    verified_by: row.opt_text(6)?,
                    carrier_verification: row.text(8)?,
                    taken: taken(&row.text(9)?, row.opt_text(7)?)?,
                })
            })
            .collect::<Result<_, StoreError>>()?,
    }))
}

/// The recipient address `viewer` must confirm before claiming a package: it was sent for an
/// address other than their account's, and neither did a code sent there confirm it, nor
/// did the partner itself deliver the package to them (to the inbox of a linked recipient
/// id, or through a pull). Without this anyone holding a claim link, forwarded or seen over
/// a shoulder, could take what was sent to someone else.
fn unconfirmed_recipient(
    conn: &mut dyn Conn,
    package_id: &str,
    recipient: &Recipient,
    inbox_user_id: Option<&str>,
    viewer: &str,
) -> Result<Option<String>, StoreError> {
    let Some(address) = another_address(conn, recipient, viewer)? else {
        return Ok(None);
    };
    Ok(
        match super::recipient_confirmations::get(conn, package_id, viewer)? {
            Some(confirmation) => (!confirmation.confirmed).then_some(address),
            None if inbox_user_id == Some(viewer) => None,
            None => Some(address),
        },
    )
}

/// The package's recipient address, when it is one and not the person's own.
fn another_address(
    conn: &mut dyn Conn,
    recipient: &Recipient,
    user_id: &str,
) -> Result<Option<String>, StoreError> {
    let Some(address) = recipient
        .email
        .as_deref()
        .and_then(|e| EmailAddress::parse(e).ok())
    else {
        return Ok(None);
    };
    let own = super::users::by_id(conn, user_id)?.is_some_and(|u| u.email == address.as_str());
    Ok((!own).then(|| address.as_str().to_string()))
}

/// Delivers a package to the inbox of the person who signed up from its claim link; when they
/// signed up with another address than the one it was sent for, they must confirm that one
/// before claiming. False when it was claimed or delivered to someone else meanwhile.
pub fn deliver_after_sign_up(
    conn: &mut dyn Conn,
    package_id: &str,
    user_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    if !deliver(conn, package_id, user_id)? {
        return Ok(false);
    }
    let recipient = conn
        .query_one(
            "SELECT recipient FROM packages WHERE id = $1",
            params![package_id],
        )?
        .text(0)?;
    let recipient = super::holding::stored_recipient(&recipient);
    if another_address(conn, &recipient, user_id)?.is_some() {
        super::recipient_confirmations::require(conn, package_id, user_id, now)?;
    }
    Ok(true)
}

/// The section stored under a key (see `Section::key`); none, or one this version does not
/// know, waits as Unassigned.
fn section_of(stored: Option<String>) -> Section {
    stored
        .as_deref()
        .and_then(Section::from_key)
        .unwrap_or(Section::Unassigned)
}

/// Puts the chosen credentials and skills of a package on `user_id`'s resume and makes the
/// package theirs. Items not in the package are ignored.
pub fn claim(
    conn: &mut dyn Conn,
    package_id: &str,
    user_id: &str,
    chosen_credentials: &[String],
    chosen_skills: &[String],
    now: i64,
) -> Result<Result<Claimed, ClaimRefusal>, StoreError> {
    let Some(package) = package_contents(conn, package_id, Some(user_id))? else {
        return Ok(Err(ClaimRefusal::NotYours));
    };
    if package.expires_at <= now && package.inbox_user_id.is_none() {
        return Ok(Err(ClaimRefusal::Expired));
    }
    let someone_elses = [&package.inbox_user_id, &package.claimed_by]
        .iter()
        .any(|holder| holder.as_deref().is_some_and(|u| u != user_id));
    if !someone_elses && let Some(address) = package.unconfirmed_recipient {
        return Ok(Err(ClaimRefusal::RecipientUnconfirmed(address)));
    }
    let took = if someone_elses {
        0
    } else {
        conn.execute(
            "UPDATE packages SET claimed_by = $1, claimed_at = $2 WHERE id = $3 AND (claimed_by IS NULL OR claimed_by = $1)",
            params![user_id, now, package_id],
        )?
    };
    if took == 0 {
        alerts::raise(
            conn,
            "claim_conflict",
            None,
            package_id,
            &format!(
                "a second person tried to claim the package from {}, which is already on another resume",
                package.partner_name
            ),
            now,
        )?;
        audit_conflict(conn, user_id, Subject::new("package", package_id), now)?;
        return Ok(Err(ClaimRefusal::NotYours));
    }
    // Items someone else owns are offered without a checkbox, so they are never among the
    // chosen: they count as tried all the same, so the person is told and an alert records it.
    let mut outcome = Claimed::default();
    for credential in package
        .credentials
        .iter()
        .filter(|c| (chosen_credentials.contains(&c.id) || c.taken) && !c.revoked)
    {
        if take_ownership(conn, &credential.id, user_id)? {
            let inserted = conn.execute(
                "INSERT INTO resume_entries (id, user_id, credential_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
                 ON CONFLICT (user_id, credential_id) DO NOTHING",
                params![new_id(), user_id, &credential.id, now],
            )?;
            outcome.added += inserted as usize;
        } else {
            outcome.taken.push(credential.name.clone());
            alerts::raise(
                conn,
                "claim_conflict",
                None,
                &credential.id,
                &format!(
                    "a second person tried to claim {:?}, which is already on another resume",
                    credential.name
                ),
                now,
            )?;
            audit_conflict(
                conn,
                user_id,
                Subject::new("credential", &credential.id),
                now,
            )?;
        }
    }
    for skill in package
        .skills
        .iter()
        .filter(|s| chosen_skills.contains(&s.id) || s.taken)
    {
        let carrier = conn
            .query_one(
                "SELECT credential_id FROM skills WHERE id = $1",
                params![&skill.id],
            )?
            .text(0)?;
        if take_ownership(conn, &carrier, user_id)? {
            let inserted = conn.execute(
                "INSERT INTO resume_skills (id, user_id, skill_id, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (user_id, skill_id) DO NOTHING",
                params![new_id(), user_id, &skill.id, now],
            )?;
            outcome.added += inserted as usize;
        } else {
            outcome.taken.push(skill.name.clone());
            alerts::raise(
                conn,
                "claim_conflict",
                None,
                &carrier,
                &format!(
                    "a second person tried to claim the skill {:?}, which is already on another resume",
                    skill.name
                ),
                now,
            )?;
            audit_conflict(conn, user_id, Subject::new("credential", &carrier), now)?;
        }
    }
    let recipient_id = conn.query_one(
        "SELECT partner_id, recipient_id FROM packages WHERE id = $1",
        params![package_id],
    )?;
    if let Some(recipient) = recipient_id.opt_text(1)? {
        conn.execute(
            "INSERT INTO recipient_links (partner_id, recipient_id, user_id, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (partner_id, recipient_id) DO NOTHING",
            params![recipient_id.text(0)?, recipient, user_id, now],
        )?;
    }
    Ok(Ok(outcome))
}

/// Records a refused claim in the audit log: who tried, and what was already someone else's.
fn audit_conflict(
    conn: &mut dyn Conn,
    user_id: &str,
    subject: Subject,
    now: i64,
) -> Result<(), StoreError> {
    super::audit::append(
        conn,
        &Actor::person(user_id),
        Action::ClaimConflict,
        Some(&subject),
        None,
        now,
    )
}

/// Makes `user_id` the owner of a credential unless someone else is. True when it is theirs.
fn take_ownership(
    conn: &mut dyn Conn,
    credential_id: &str,
    user_id: &str,
) -> Result<bool, StoreError> {
    if super::personal_data::owned_by_erased_account(conn, credential_id)? {
        return Ok(false);
    }
    Ok(conn.execute(
        "UPDATE credentials SET owner_user_id = $1 WHERE id = $2 AND (owner_user_id IS NULL OR owner_user_id = $1) AND deleted_at IS NULL",
        params![user_id, credential_id],
    )? == 1)
}

/// The person linked to (partner, recipient id), for packages that should go to their inbox.
pub fn linked_user(
    conn: &mut dyn Conn,
    partner_id: &str,
    recipient_id: &str,
) -> Result<Option<String>, StoreError> {
    conn.query_opt(
        "SELECT user_id FROM recipient_links WHERE partner_id = $1 AND recipient_id = $2",
        params![partner_id, recipient_id],
    )?
    .map(|r| r.text(0))
    .transpose()
}

/// Delivers an unclaimed package to the person's import inbox (they signed up from its claim
/// link). False when it was claimed or delivered to someone else meanwhile.
pub fn deliver(conn: &mut dyn Conn, package_id: &str, user_id: &str) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE packages SET inbox_user_id = $1 WHERE id = $2 AND claimed_by IS NULL AND (inbox_user_id IS NULL OR inbox_user_id = $1)",
        params![user_id, package_id],
    )? == 1)
}

/// Packages waiting in the person's import inbox (newest first).
pub fn inbox(conn: &mut dyn Conn, user_id: &str) -> Result<Vec<String>, StoreError> {
    conn.query(
        "SELECT id FROM packages WHERE inbox_user_id = $1 AND claimed_by IS NULL ORDER BY created_at DESC, id DESC",
        params![user_id],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}

/// Packages from one partner waiting in the person's import inbox (newest first): what a
/// pull from that partner delivered, for its return page.
pub fn inbox_from(
    conn: &mut dyn Conn,
    user_id: &str,
    partner_id: &str,
) -> Result<Vec<String>, StoreError> {
    conn.query(
        "SELECT id FROM packages WHERE inbox_user_id = $1 AND partner_id = $2 AND claimed_by IS NULL
         ORDER BY created_at DESC, id DESC",
        params![user_id, partner_id],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}

/// Closes an inbox package without adding anything.
pub fn dismiss(
    conn: &mut dyn Conn,
    package_id: &str,
    user_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE packages SET claimed_by = $1, claimed_at = $2 WHERE id = $3 AND inbox_user_id = $1 AND claimed_by IS NULL",
        params![user_id, now, package_id],
    )? == 1)
}

/// The partner that sent a package the person closed from their inbox (dismissed, or
/// claimed), for the page that says it was dismissed; `None` for anyone else's package.
pub fn closed_from(
    conn: &mut dyn Conn,
    package_id: &str,
    user_id: &str,
) -> Result<Option<String>, StoreError> {
    conn.query_opt(
        "SELECT p.name FROM packages k JOIN partners p ON p.id = k.partner_id
         WHERE k.id = $1 AND k.inbox_user_id = $2 AND k.claimed_by = $2",
        params![package_id, user_id],
    )?
    .map(|row| row.text(0))
    .transpose()
}

pub fn entries(conn: &mut dyn Conn, user_id: &str) -> Result<Vec<Entry>, StoreError> {
    let rows = conn.query(
        "SELECT e.id, e.credential_id, COALESCE(c.section, e.section), e.hidden, COALESCE(c.name, e.title),
                COALESCE(c.issuer_name, c.issuer_id, e.organisation), c.awarded_text, e.start_text, e.end_text,
                COALESCE(c.description, e.description), c.verification, c.deleted_at,
                c.verification_reason, c.verification_checked_at, p.name, c.name_languages
         FROM resume_entries e LEFT JOIN credentials c ON c.id = e.credential_id LEFT JOIN partners p ON p.id = c.partner_id
         WHERE e.user_id = $1 ORDER BY COALESCE(c.awarded_at, ''), e.created_at, c.created_at, c.position, e.id",
        params![user_id],
    )?;
    rows.iter()
        .map(|row| {
            let from_partner = row.opt_text(1)?.is_some();
            let date = if from_partner {
                row.opt_text(6)?
            } else {
                match (row.opt_text(7)?, row.opt_text(8)?) {
                    (Some(start), Some(end)) => Some(format!("{start} – {end}")),
                    (one, other) => one.or(other),
                }
            };
            Ok(Entry {
                id: row.text(0)?,
                from_partner,
                section: section_of(row.opt_text(2)?),
                hidden: row.flag(3)?,
                title: row.opt_text(4)?.unwrap_or_default(),
                organisation: row.opt_text(5)?,
                date,
                description: row.opt_text(9)?,
                verification: row.opt_text(10)?,
                revoked: row.opt_int(11)?.is_some(),
                verification_reason: row.opt_text(12)?,
                verification_checked_at: row.opt_int(13)?,
                partner_name: row.opt_text(14)?,
                name_languages: row.opt_text(15)?,
            })
        })
        .collect()
}

pub fn skills(conn: &mut dyn Conn, user_id: &str) -> Result<Vec<ResumeSkill>, StoreError> {
    let rows = conn.query(
        "SELECT rs.id, s.name, s.description, CASE WHEN s.verified = 1 THEN s.level ELSE COALESCE(rs.level, s.level) END,
                s.category, s.verified, s.verified_by, s.verified_on, s.evidence_url, rs.hidden, c.deleted_at,
                c.verification, p.name
         FROM resume_skills rs JOIN skills s ON s.id = rs.skill_id JOIN credentials c ON c.id = s.credential_id
              JOIN partners p ON p.id = c.partner_id
         WHERE rs.user_id = $1 ORDER BY rs.created_at, s.position, rs.id",
        params![user_id],
    )?;
    rows.iter()
        .map(|row| {
            Ok(ResumeSkill {
                id: row.text(0)?,
                name: row.text(1)?,
                description: row.opt_text(2)?,
                level: row.opt_text(3)?,
                category: row.text(4)?,
                verified: row.flag(5)?,
                verified_by: row.opt_text(6)?,
                verified_on: row.opt_text(7)?,
                evidence_url: row.opt_text(8)?,
                hidden: row.flag(9)?,
                revoked: row.opt_int(10)?.is_some(),
                carrier_verification: row.text(11)?,
                partner_name: row.text(12)?,
            })
        })
        .collect()
}

/// Takes a skill off the person's resume. False when it is not theirs. Its carrier stays
/// theirs (one owner per assertion), so only a new delivery from its issuer brings it back.
pub fn delete_skill(
    conn: &mut dyn Conn,
    user_id: &str,
    resume_skill_id: &str,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "DELETE FROM resume_skills WHERE id = $1 AND user_id = $2",
        params![resume_skill_id, user_id],
    )? == 1)
}

/// Hides or shows one of the person's entries. False when it is not theirs.
pub fn set_entry_hidden(
    conn: &mut dyn Conn,
    user_id: &str,
    entry_id: &str,
    hidden: bool,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE resume_entries SET hidden = $1, updated_at = $2 WHERE id = $3 AND user_id = $4",
        params![hidden, now, entry_id, user_id],
    )? == 1)
}

/// Removes one of the person's entries. False when it is not theirs.
pub fn delete_entry(
    conn: &mut dyn Conn,
    user_id: &str,
    entry_id: &str,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "DELETE FROM resume_entries WHERE id = $1 AND user_id = $2",
        params![entry_id, user_id],
    )? == 1)
}

/// One entry of the person's, by id (for the delete confirmation).
pub fn entry(
    conn: &mut dyn Conn,
    user_id: &str,
    entry_id: &str,
) -> Result<Option<Entry>, StoreError> {
    Ok(entries(conn, user_id)?
        .into_iter()
        .find(|e| e.id == entry_id))
}

pub fn add_own_entry(
    conn: &mut dyn Conn,
    user_id: &str,
    entry: &OwnEntry,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO resume_entries (id, user_id, section, title, organisation, start_text, end_text, description, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        params![
            new_id(),
            user_id,
            entry.section.key(),
            &entry.title,
            entry.organisation.as_deref(),
            entry.start.as_deref(),
            entry.end.as_deref(),
            entry.description.as_deref(),
            now
        ],
    )?;
    Ok(())
}

pub fn set_skill_level(
    conn: &mut dyn Conn,
    user_id: &str,
    resume_skill_id: &str,
    level: Option<&str>,
) -> Result<Result<(), SkillEditRefusal>, StoreError> {
    let Some(row) = conn.query_opt(
        "SELECT s.verified FROM resume_skills rs JOIN skills s ON s.id = rs.skill_id WHERE rs.id = $1 AND rs.user_id = $2",
        params![resume_skill_id, user_id],
    )?
    else {
        return Ok(Err(SkillEditRefusal::NotFound));
    };
    if row.flag(0)? {
        return Ok(Err(SkillEditRefusal::Verified));
    }
    conn.execute(
        "UPDATE resume_skills SET level = $1 WHERE id = $2 AND user_id = $3",
        params![level, resume_skill_id, user_id],
    )?;
    Ok(Ok(()))
}

pub fn set_skill_hidden(
    conn: &mut dyn Conn,
    user_id: &str,
    resume_skill_id: &str,
    hidden: bool,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE resume_skills SET hidden = $1 WHERE id = $2 AND user_id = $3",
        params![hidden, resume_skill_id, user_id],
    )? == 1)
}
