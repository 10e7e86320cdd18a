//! The holding area: packages as uploaded, the credentials and skills they carry, and the
//! identity rule that makes a re-sent assertion an update (docs/partner-api.md, "Identity").

use super::{Conn, Row, StoreError, Value, alerts, new_id, param_vec, params};
use crate::domain::claim_token::ClaimToken;
use crate::domain::package::{Package, Recipient, Record};
use crate::domain::sections::Section;
use crate::domain::verification::VerificationState;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

mod at_once;
pub use at_once::{
    SAVE_AT_ONCE, SAVE_AT_ONCE_SLIDING, SAVE_AT_ONCE_WITH_SKILLS, SAVE_AT_ONCE_WITH_SKILLS_SLIDING,
    SAVE_KNOWN_AT_ONCE, SAVE_KNOWN_AT_ONCE_SLIDING, known_package_at_once, package_at_once,
    saved_at_once,
};

/// What happened to one record of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SaveResult {
    Created,
    Updated,
    Unchanged,
}

impl SaveResult {
    fn as_str(self) -> &'static str {
        match self {
            SaveResult::Created => "created",
            SaveResult::Updated => "updated",
            SaveResult::Unchanged => "unchanged",
        }
    }
}

/// The outcome for one record.
#[derive(Debug, Clone)]
pub struct Saved {
    pub record_index: usize,
    pub result: SaveResult,
}

/// A new package to store.
pub struct NewPackage<'a> {
    /// From `store::new_id`; the first half of the claim token.
    pub id: &'a str,
    pub partner_id: &'a str,
    /// Digest of the claim token's secret half.
    pub token_hash: &'a str,
    pub package: &'a Package,
    /// `package.recipient` as JSON, serialised before the write: the writer's time is precious.
    pub recipient_json: &'a str,
    /// Each record's document as stored (`Package::document`), for the same reason. Empty
    /// when every record was stored lately as it is (a partner's retry), which stores none:
    /// `known_package_at_once`, or `save_package`, which then serialises a document itself
    /// should a record have changed meanwhile.
    pub documents: &'a [String],
    pub inbox_user_id: Option<&'a str>,
    /// The activation page's lookup keys (names + email, names + student id), when the
    /// recipient can be searched for on the activation page.
    pub activation_keys: (Option<&'a str>, Option<&'a str>),
    pub now: i64,
    pub expires_at: i64,
}

/// Stores a package and every record in it, updating records the partner sent before.
pub fn save_package(conn: &mut dyn Conn, new: &NewPackage<'_>) -> Result<Vec<Saved>, StoreError> {
    let package_id = new.id.to_string();
    let recipient = new.recipient_json;
    conn.execute(
        "INSERT INTO packages (id, partner_id, token_hash, recipient, recipient_id, inbox_user_id, created_at, expires_at,
             activation_email_key, activation_student_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        params![&package_id, new.partner_id, new.token_hash, recipient, new.package.recipient.id.as_deref(), new.inbox_user_id, new.now, new.expires_at,
            new.activation_keys.0, new.activation_keys.1],
    )?;
    let mut existing = existing_records(conn, new.partner_id, new.package)?;
    let mut ids_by_key: Vec<(&str, String)> = Vec::new();
    let mut saved = Vec::with_capacity(new.package.records.len());
    let mut links: Vec<Value> = Vec::with_capacity(new.package.records.len() * 4);
    for (index, record) in new.package.records.iter().enumerate() {
        let parent_id = record.parent_key.as_deref().and_then(|key| {
            ids_by_key
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, id)| id.clone())
        });
        let found = existing.remove(record.key.as_str());
        let (id, result) = save_record(conn, new, index, found, parent_id.as_deref())?;
        // Names in several languages are rare: one more statement only for them (or to
        // clear them when an update no longer has them).
        if result == SaveResult::Created && record.name_languages.is_some()
            || result == SaveResult::Updated
        {
            conn.execute(
                "UPDATE credentials SET name_languages = $1 WHERE id = $2",
                params![record.name_languages.as_deref(), &id],
            )?;
        }
        links.extend([
            package_id.clone().into(),
            id.clone().into(),
            (index as i64).into(),
            result.as_str().into(),
        ]);
        if record.section == Some(Section::Unassigned) {
            let achievement_type = record.achievement_type.as_deref().unwrap_or("");
            alerts::raise(
                conn,
                "unknown_achievement_type",
                Some(new.partner_id),
                achievement_type,
                &format!(
                    "achievementType {achievement_type:?} is not mapped to a resume section; credentials of this type wait as Unassigned"
                ),
                new.now,
            )?;
        }
        if record.verification.state == VerificationState::Failed && result != SaveResult::Unchanged
        {
            alerts::raise(
                conn,
                "verification_failed",
                Some(new.partner_id),
                record.assertion_id.as_deref().unwrap_or(&record.key),
                &record.verification.reason,
                new.now,
            )?;
        }
        ids_by_key.push((record.key.as_str(), id));
        saved.push(Saved {
            record_index: index,
            result,
        });
    }
    // One statement for all of the package's links: the writer's time is the bottleneck.
    conn.execute(&links_sql(saved.len()), &links)?;
    Ok(saved)
}

/// Statements are made once per size and process (`sql_for`), up to packages of this many
/// records: building them per upload showed on the writer thread.
const MADE_ONCE: usize = 64;

/// The statement made by `make(size)`, made once per process for sizes up to `MADE_ONCE`.
fn sql_for(
    made: &'static [OnceLock<String>; MADE_ONCE + 1],
    size: usize,
    make: fn(usize) -> String,
) -> Cow<'static, str> {
    match made.get(size) {
        Some(slot) => Cow::Borrowed(slot.get_or_init(|| make(size))),
        None => Cow::Owned(make(size)),
    }
}

/// The insert of a package's `rows` links.
fn links_sql(rows: usize) -> Cow<'static, str> {
    static MADE: [OnceLock<String>; MADE_ONCE + 1] = [const { OnceLock::new() }; MADE_ONCE + 1];
    sql_for(&MADE, rows, |rows| {
        let values: Vec<String> = (0..rows)
            .map(|i| {
                format!(
                    "(${}, ${}, ${}, ${})",
                    4 * i + 1,
                    4 * i + 2,
                    4 * i + 3,
                    4 * i + 4
                )
            })
            .collect();
        format!(
            "INSERT INTO package_credentials (package_id, credential_id, position, result) VALUES {}",
            values.join(", ")
        )
    })
}

/// What is already stored for the package's records: key → (id, fingerprint, deleted).
fn existing_records<'p>(
    conn: &mut dyn Conn,
    partner_id: &str,
    package: &'p Package,
) -> Result<HashMap<&'p str, Existing>, StoreError> {
    let mut values: Vec<Value> = vec![partner_id.into()];
    values.extend(package.records.iter().map(|r| Value::from(r.key.as_str())));
    static MADE: [OnceLock<String>; MADE_ONCE + 1] = [const { OnceLock::new() }; MADE_ONCE + 1];
    let sql = sql_for(&MADE, values.len() - 1, existing_records_sql);
    let rows = conn.query(&sql, &values)?;
    let mut found = HashMap::new();
    for row in rows {
        let key = row.text(0)?;
        if let Some(record) = package.records.iter().find(|r| r.key == key) {
            found.insert(
                record.key.as_str(),
                Existing {
                    id: row.text(1)?,
                    fingerprint: row.text(2)?,
                    deleted: row.opt_int(3)?.is_some(),
                },
            );
        }
    }
    Ok(found)
}

/// Packages up to this many records look theirs up one key at a time (see below).
const POINT_LOOKUPS: usize = 50;

/// The query for `existing_records` with `keys` keys (`$2`…). For a usual package it is a
/// `UNION ALL` of point lookups on the (partner_id, assertion_key) index: an `IN` list makes
/// SQLite build a temporary b-tree of the keys first, which cost the writer thread more than
/// the lookups themselves. Past `POINT_LOOKUPS` (and SQLite's limit of 500 terms in a
/// compound SELECT) it is the `IN` list.
fn existing_records_sql(keys: usize) -> String {
    const SELECT: &str = "SELECT assertion_key, id, fingerprint, deleted_at FROM credentials WHERE partner_id = $1 AND assertion_key";
    if keys <= POINT_LOOKUPS {
        (2..keys + 2)
            .map(|i| format!("{SELECT} = ${i}"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
    } else {
        let placeholders: Vec<String> = (2..keys + 2).map(|i| format!("${i}")).collect();
        format!("{SELECT} IN ({})", placeholders.join(", "))
    }
}

/// A stored record the upload may update.
struct Existing {
    id: String,
    fingerprint: String,
    deleted: bool,
}

/// Stores record `position` of the package, unless it is unchanged.
fn save_record(
    conn: &mut dyn Conn,
    new: &NewPackage<'_>,
    position: usize,
    existing: Option<Existing>,
    parent_id: Option<&str>,
) -> Result<(String, SaveResult), StoreError> {
    let (partner_id, package, now) = (new.partner_id, new.package, new.now);
    let record = &package.records[position];
    let fingerprint = &record.fingerprint;
    if let Some(found) = existing
        .as_ref()
        .filter(|e| &e.fingerprint == fingerprint && !e.deleted)
    {
        // Unchanged, but now failing (carried by a CLR whose own proof fails): the stored
        // state must not keep saying verified.
        if record.verification.state == VerificationState::Failed {
            set_verification(conn, &found.id, &record.verification, now)?;
        }
        return Ok((found.id.clone(), SaveResult::Unchanged));
    }
    // Serialised before the write as a rule; here only when the caller expected the record
    // to be unchanged (see `NewPackage::documents`).
    let document = match new.documents.get(position) {
        Some(document) => Cow::Borrowed(document.as_str()),
        None => package.document(position),
    };
    let section = record.section.map(Section::key);
    let (awarded, valid_until) = (record.awarded.as_ref(), record.valid_until.as_ref());
    let fields = param_vec![
        record.assertion_id.as_deref(),
        record.kind.as_str(),
        parent_id,
        document.as_ref(),
        record.jws.as_deref(),
        fingerprint,
        &record.name,
        record.description.as_deref(),
        &record.issuer_id,
        record.issuer_name.as_deref(),
        record.achievement_id.as_deref(),
        record.achievement_type.as_deref(),
        section,
        awarded.map(|d| d.text.as_str()),
        awarded.and_then(|d| d.parsed.as_deref()),
        valid_until.map(|d| d.text.as_str()),
        valid_until.and_then(|d| d.parsed.as_deref()),
        record.recipient_id.as_deref(),
        record.verification.state.as_str(),
        &record.verification.reason,
        now,
    ];
    let (id, result) = match existing {
        Some(found) => {
            let id = found.id;
            let mut values = fields;
            values.push(id.as_str().into());
            conn.execute(
                "UPDATE credentials SET assertion_id = $1, kind = $2, parent_id = $3, document = $4, jws = $5, fingerprint = $6,
                    name = $7, description = $8, issuer_id = $9, issuer_name = $10, achievement_id = $11, achievement_type = $12,
                    section = $13, awarded_text = $14, awarded_at = $15, valid_until_text = $16, valid_until_at = $17,
                    recipient_id = $18, verification = $19, verification_reason = $20, verification_checked_at = $21,
                    updated_at = $21, deleted_at = NULL
                 WHERE id = $22",
                &values,
            )?;
            (id, SaveResult::Updated)
        }
        None => {
            let id = new_id();
            let mut values = Vec::with_capacity(fields.len() + 4);
            values.push(id.as_str().into());
            values.push(partner_id.into());
            values.push(record.key.as_str().into());
            values.extend(fields);
            values.push((position as i64).into());
            conn.execute(
                "INSERT INTO credentials (id, partner_id, assertion_key, assertion_id, kind, parent_id, document, jws, fingerprint,
                    name, description, issuer_id, issuer_name, achievement_id, achievement_type, section, awarded_text, awarded_at,
                    valid_until_text, valid_until_at, recipient_id, verification, verification_reason, verification_checked_at,
                    created_at, updated_at, position)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $24, $24, $25)",
                &values,
            )?;
            (id, SaveResult::Created)
        }
    };
    save_skills(conn, &id, record, result == SaveResult::Created)?;
    Ok((id, result))
}

/// Stores a carrier's skills. A skill keeps its row (and so its place on resumes, with the
/// person's level and hide choice) across updates as long as its name stays; a skill that
/// is no longer sent leaves the resumes it was on.
fn save_skills(
    conn: &mut dyn Conn,
    credential_id: &str,
    record: &Record,
    is_new: bool,
) -> Result<(), StoreError> {
    let mut stored: HashMap<String, String> = HashMap::new();
    if !is_new {
        for row in conn.query(
            "SELECT id, name FROM skills WHERE credential_id = $1",
            params![credential_id],
        )? {
            stored.insert(row.text(1)?.to_lowercase(), row.text(0)?);
        }
    }
    for (position, skill) in record.skills.iter().enumerate() {
        let mut values = param_vec![
            position as i64,
            skill.name.as_str(),
            skill.description.as_deref(),
            skill.framework.as_deref(),
            skill.code.as_deref(),
            skill.target_type.as_deref(),
            skill.evidence_url.as_deref(),
            skill.level.map(|l| l.as_str()),
            skill.category.as_str(),
            skill.verified,
            skill.verified_by.as_deref(),
            skill.verified_on.as_deref(),
        ];
        match stored.remove(&skill.name.as_str().to_lowercase()) {
            Some(id) => {
                values.push(id.into());
                conn.execute(
                    "UPDATE skills SET position = $1, name = $2, description = $3, framework = $4, code = $5, target_type = $6,
                        evidence_url = $7, level = $8, category = $9, verified = $10, verified_by = $11, verified_on = $12
                     WHERE id = $13",
                    &values,
                )?;
            }
            None => {
                values.push(new_id().into());
                values.push(credential_id.into());
                conn.execute(
                    "INSERT INTO skills (position, name, description, framework, code, target_type, evidence_url, level, category,
                        verified, verified_by, verified_on, id, credential_id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                    &values,
                )?;
            }
        }
    }
    for gone in stored.into_values() {
        conn.execute(
            "DELETE FROM resume_skills WHERE skill_id = $1",
            params![&gone],
        )?;
        conn.execute("DELETE FROM skills WHERE id = $1", params![&gone])?;
    }
    Ok(())
}

/// The partner that a recipient token (use case 3) binds to, and its person, if the token
/// is known, unexpired and the partner's own.
pub fn recipient_token_user(
    conn: &mut dyn Conn,
    token_hash: &str,
    partner_id: &str,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let row = conn.query_opt(
        "SELECT user_id FROM recipient_tokens WHERE token_hash = $1 AND partner_id = $2 AND expires_at > $3",
        params![token_hash, partner_id, now],
    )?;
    row.map(|r| r.text(0)).transpose()
}

/// Records a recipient token for (person, partner).
pub fn insert_recipient_token(
    conn: &mut dyn Conn,
    token_hash: &str,
    partner_id: &str,
    user_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO recipient_tokens (token_hash, partner_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        params![token_hash, partner_id, user_id, now, expires_at],
    )?;
    Ok(())
}

/// A credential as the partner submitted it.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub document: String,
    pub jws: Option<String>,
}

fn submitted(row: &Row) -> Result<Submitted, StoreError> {
    Ok(Submitted {
        document: row.text(0)?,
        jws: row.opt_text(1)?,
    })
}

/// One page of the partner's submissions (top-level records, oldest first), and the total.
pub fn list_submitted(
    conn: &mut dyn Conn,
    partner_id: &str,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<Submitted>), StoreError> {
    let total = conn
        .query_one(
            "SELECT COUNT(*) FROM credentials WHERE partner_id = $1 AND parent_id IS NULL AND deleted_at IS NULL",
            params![partner_id],
        )?
        .int(0)?;
    let rows = conn.query(
        "SELECT document, jws FROM credentials WHERE partner_id = $1 AND parent_id IS NULL AND deleted_at IS NULL
         ORDER BY created_at, position, id LIMIT $2 OFFSET $3",
        params![partner_id, limit, offset],
    )?;
    Ok((total, rows.iter().map(submitted).collect::<Result<_, _>>()?))
}

/// `SELECT $columns` of the latest live credential of partner `$1` whose assertion id is
/// `$2`. Where the identity key is the assertion id itself (partners with stable ids) the
/// unique key finds it; the assertion-id index holds only the others (migration 0022), so
/// each upload writes one index entry fewer per credential. Each caller's statement is made
/// at compile time.
macro_rules! latest_by_assertion_id {
    ($columns:literal) => {
        concat!(
            "SELECT ",
            $columns,
            " FROM (
     SELECT id, document, jws, assertion_key, updated_at FROM credentials
     WHERE partner_id = $1 AND assertion_key = $2 AND assertion_id = $2 AND deleted_at IS NULL
     UNION ALL
     SELECT id, document, jws, assertion_key, updated_at FROM credentials
     WHERE partner_id = $1 AND assertion_id = $2 AND assertion_key <> assertion_id AND deleted_at IS NULL
 ) live ORDER BY updated_at DESC LIMIT 1"
        )
    };
}

/// The id of the latest live credential with an assertion id (`delete`'s look-up; the plan
/// is checked in `tests/store.rs`).
pub const LATEST_ID_BY_ASSERTION_ID: &str = latest_by_assertion_id!("id");

/// One submission by its assertion id (nested CLR credentials included).
pub fn find_submitted(
    conn: &mut dyn Conn,
    partner_id: &str,
    assertion_id: &str,
) -> Result<Option<Submitted>, StoreError> {
    let row = conn.query_opt(
        latest_by_assertion_id!("document, jws"),
        params![partner_id, assertion_id],
    )?;
    row.map(|r| submitted(&r)).transpose()
}

/// The identity key of a live submission with this assertion id.
pub fn key_of(
    conn: &mut dyn Conn,
    partner_id: &str,
    assertion_id: &str,
) -> Result<Option<String>, StoreError> {
    let row = conn.query_opt(
        latest_by_assertion_id!("assertion_key"),
        params![partner_id, assertion_id],
    )?;
    row.map(|r| r.text(0)).transpose()
}

/// Deletes (revokes) a submission and anything nested in it. Returns false if there was none.
pub fn delete(
    conn: &mut dyn Conn,
    partner_id: &str,
    assertion_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let Some(row) = conn.query_opt(LATEST_ID_BY_ASSERTION_ID, params![partner_id, assertion_id])?
    else {
        return Ok(false);
    };
    let id = row.text(0)?;
    conn.execute(
        "UPDATE credentials SET deleted_at = $1, updated_at = $1 WHERE (id = $2 OR parent_id = $2) AND deleted_at IS NULL",
        params![now, &id],
    )?;
    Ok(true)
}

/// A package's recipient as `packages.recipient` stores it (the JSON of [`Recipient`]).
/// A row that does not read as one is a bug, not the person's fault: it is logged, and the
/// package is treated as having no details on record.
pub(crate) fn stored_recipient(json: &str) -> Recipient {
    serde_json::from_str(json).unwrap_or_else(|error| {
        tracing::error!(%error, "a stored recipient is not a recipient's JSON");
        Recipient::default()
    })
}

/// The package a claim page's token opens, while the token works: (package id, when a
/// one-time link stops working). A partner's claim token works until its package expires; a
/// one-time link until it is used or expires.
pub fn package_opened_by(
    conn: &mut dyn Conn,
    token: &ClaimToken<'_>,
    now: i64,
) -> Result<Option<(String, Option<i64>)>, StoreError> {
    match token {
        ClaimToken::Partner { package_id, secret } => {
            let Some(row) = conn.query_opt(
                "SELECT token_hash FROM packages WHERE id = $1 AND expires_at > $2",
                params![*package_id, now],
            )?
            else {
                return Ok(None);
            };
            Ok(crate::secrets::matches(secret, &row.text(0)?)
                .then(|| (package_id.to_string(), None)))
        }
        ClaimToken::OneTimeLink { digest } => {
            Ok(super::activation::link_package(conn, digest, now)?
                .map(|(package, expires)| (package, Some(expires))))
        }
        ClaimToken::Malformed => Ok(None),
    }
}

/// Uses up a one-time link once it has done its work (a claim, or a sign-up that will deliver
/// its package). A partner's claim token is not used up: it stays valid until it expires.
pub fn spend_claim_token(
    conn: &mut dyn Conn,
    token: &ClaimToken<'_>,
    now: i64,
) -> Result<(), StoreError> {
    if let ClaimToken::OneTimeLink { digest } = token {
        super::activation::use_link(conn, digest, now)?;
    }
    Ok(())
}

/// A stored credential whose verification is due to be checked again.
#[derive(Debug, Clone)]
pub struct StaleVerification {
    pub id: String,
    pub partner_id: String,
    /// The assertion id (or identity key), for alerts.
    pub subject: String,
    pub document: String,
    pub jws: Option<String>,
    pub strict: bool,
    pub state: VerificationState,
}

/// The credentials of a package that carry a proof and were last verified before `before`.
pub fn stale_verifications(
    conn: &mut dyn Conn,
    package_id: &str,
    before: i64,
) -> Result<Vec<StaleVerification>, StoreError> {
    stale(
        conn,
        "FROM packages k JOIN package_credentials pc ON pc.package_id = k.id
         JOIN credentials c ON c.id = pc.credential_id JOIN partners p ON p.id = c.partner_id
         WHERE k.id = $1 AND c.verification_checked_at < $2 AND c.verification <> 'none' AND c.deleted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM credentials clr WHERE clr.id = c.parent_id AND clr.verification = 'failed')
         ORDER BY pc.position",
        package_id,
        before,
    )
}

/// The credentials a person owns that carry a proof and were last verified before `before`.
pub fn stale_verifications_of_owner(
    conn: &mut dyn Conn,
    user_id: &str,
    before: i64,
) -> Result<Vec<StaleVerification>, StoreError> {
    stale(
        conn,
        "FROM credentials c JOIN partners p ON p.id = c.partner_id
         WHERE c.owner_user_id = $1 AND c.verification_checked_at < $2 AND c.verification <> 'none' AND c.deleted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM credentials clr WHERE clr.id = c.parent_id AND clr.verification = 'failed')
         ORDER BY c.created_at, c.position",
        user_id,
        before,
    )
}

/// `from_where` selects credentials `c` (with their partner `p`) by `$1` = `key` and
/// `$2` = `before`. What a failed CLR carries is never checked again: it stays failed with
/// its CLR, whatever its own proof says.
fn stale(
    conn: &mut dyn Conn,
    from_where: &str,
    key: &str,
    before: i64,
) -> Result<Vec<StaleVerification>, StoreError> {
    let rows = conn.query(
        &format!(
            "SELECT c.id, c.partner_id, COALESCE(c.assertion_id, c.assertion_key), c.document, c.jws, p.strict, c.verification {from_where}"
        ),
        params![key, before],
    )?;
    rows.iter()
        .map(|row| {
            Ok(StaleVerification {
                id: row.text(0)?,
                partner_id: row.text(1)?,
                subject: row.text(2)?,
                document: row.text(3)?,
                jws: row.opt_text(4)?,
                strict: row.flag(5)?,
                state: VerificationState::parse(&row.text(6)?).unwrap_or(VerificationState::None),
            })
        })
        .collect()
}

/// Stores a new verification outcome; skills of a carrier that no longer vouches lose their
/// verified mark and evidence link.
pub fn set_verification(
    conn: &mut dyn Conn,
    credential_id: &str,
    verification: &crate::domain::verification::Verification,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE credentials SET verification = $1, verification_reason = $2, verification_checked_at = $3 WHERE id = $4",
        params![verification.state.as_str(), &verification.reason, now, credential_id],
    )?;
    if !verification.state.vouches() {
        conn.execute(
            "UPDATE skills SET verified = 0, evidence_url = NULL, verified_by = NULL, verified_on = NULL WHERE credential_id = $1",
            params![credential_id],
        )?;
    }
    Ok(())
}

/// Removes up to `batch` packages whose claim link expired by `now`, with the record
/// of what each one carried. A package waiting unclaimed in someone's import inbox stays
/// (an inbox item does not expire); the credentials stay too, whether claimed or not: they
/// are the partner's holding area, read and replaced through the API. Returns how many
/// packages went.
pub fn purge_expired_packages(
    conn: &mut dyn Conn,
    now: i64,
    batch: i64,
) -> Result<u64, StoreError> {
    // The batch is named by the same subquery in every statement (the transaction sees the
    // same packages each time), so the SQL text is the same whatever the batch holds: both
    // engines keep prepared statements per connection, and a list of ids written into the
    // text would add one, as big as its list, for every new number of packages.
    const BATCH: &str = "SELECT id FROM packages WHERE expires_at <= $1 AND (inbox_user_id IS NULL OR claimed_by IS NOT NULL)
         ORDER BY expires_at, id LIMIT $2";
    // What refers to the packages goes first: their contents, the activation page's
    // links to them and their pending lookup keys.
    for table in [
        "package_credentials",
        "activation_links",
        "activation_backfill",
        "recipient_confirmations",
    ] {
        conn.execute(
            &format!("DELETE FROM {table} WHERE package_id IN ({BATCH})"),
            params![now, batch],
        )?;
    }
    conn.execute(
        &format!("DELETE FROM packages WHERE id IN ({BATCH})"),
        params![now, batch],
    )
}

/// Erases the personal data of packages nobody claimed that were sent before `before`: the
/// recipient block and what was derived from it (its id, the activation page's lookup keys).
/// The package and its credentials stay, as long as its link or an inbox keeps it.
pub fn purge_unclaimed_recipients(conn: &mut dyn Conn, before: i64) -> Result<u64, StoreError> {
    conn.execute(
        "UPDATE packages SET recipient = '{}', recipient_id = NULL, activation_email_key = NULL, activation_student_key = NULL
         WHERE claimed_by IS NULL AND created_at < $1
           AND (recipient <> '{}' OR recipient_id IS NOT NULL OR activation_email_key IS NOT NULL OR activation_student_key IS NOT NULL)",
        params![before],
    )
}

/// Removes recipient tokens (use case 3's pull) that have expired.
pub fn purge_expired_recipient_tokens(conn: &mut dyn Conn, now: i64) -> Result<u64, StoreError> {
    conn.execute(
        "DELETE FROM recipient_tokens WHERE expires_at <= $1",
        params![now],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_recipient_reads_back_as_it_was_written() {
        let recipient = Recipient {
            id: Some("474989023199323".into()),
            given_name: Some("José".into()),
            family_name: Some("Smith".into()),
            email: Some("jsmith@institutionx.edu".into()),
            address: Some(serde_json::json!({"streetAddress": "1 Main St", "postalCode": "1234"})),
            ..Recipient::default()
        };
        let stored = serde_json::to_string(&recipient).expect("JSON");
        assert_eq!(stored_recipient(&stored), recipient);
        // Rows written with only some fields (and a string address) read too.
        let partial = stored_recipient(r#"{"student_id": "S-1", "address": "1 Main St"}"#);
        assert_eq!(partial.student_id.as_deref(), Some("S-1"));
        assert_eq!(partial.address, Some(serde_json::json!("1 Main St")));
        assert_eq!(partial.email, None);
        assert_eq!(stored_recipient("not JSON"), Recipient::default());
    }
}
