//! The holding area's one-statement saves on PostgreSQL (`Store::write_one`): a package of
//! the usual kind — each record new or unchanged — stored in one round trip, and the lean
//! statement for a package sent again as it is. Anything else goes by `save_package`.

use super::{NewPackage, SaveResult, Saved};
use crate::domain::sections::Section;
use crate::domain::verification::VerificationState;
use crate::store::{Row, Statement, StoreError, Value, new_id, param_vec};
use std::borrow::Cow;

/// The statement that stores a package in one round trip, on PostgreSQL (`Store::write_one`),
/// when it is of the usual kind: each record new or unchanged. Anything else is stored by
/// `save_package` in a transaction. What only the database knows (a record the partner
/// changed or deleted since, a recipient id someone has claimed: their inbox and a mail)
/// makes the statement write nothing, and `saved_at_once` tells so. What the package itself
/// shows gives no statement at all (`None`): a failed proof or an unmapped type (alerts, and
/// verification to store again), an inbox to deliver to, repeated keys, no records (the
/// statement's answer would not tell it from one that wrote nothing).
/// `touch_token` slides that access token's idle window in the same statement; without one
/// the statement has no part that could (`slide!`).
///
/// The records go column by column, each column one `text[]` whose elements are sent as they
/// are, in PostgreSQL's binary format: nothing in them is escaped or parsed as JSON. Their
/// documents are `new.documents`, serialised by the caller, which stores the same ones should
/// the statement write nothing (without them there is no statement). The statement's text is
/// one of four (with or without skills, which go as one JSON array; with or without the
/// token's slide), whatever the package: each is prepared once per connection.
pub fn package_at_once(new: &NewPackage<'_>, touch_token: Option<&str>) -> Option<Statement> {
    if !of_the_usual_kind(new) {
        return None;
    }
    let package = new.package;
    if new.documents.len() != package.records.len() {
        return None;
    }
    let mut columns: [Vec<Option<String>>; RECORD_COLUMNS] =
        std::array::from_fn(|_| Vec::with_capacity(package.records.len()));
    let mut skills = Vec::new();
    for (index, (record, document)) in package.records.iter().zip(new.documents).enumerate() {
        let parent = record
            .parent_key
            .as_deref()
            .and_then(|key| package.records[..index].iter().position(|r| r.key == key));
        let text = |value: &str| Some(value.to_string());
        let values: [Option<String>; RECORD_COLUMNS] = [
            text(&record.key),
            Some(new_id()),
            parent.map(|p| p.to_string()),
            record.assertion_id.clone(),
            text(record.kind.as_str()),
            record.jws.clone(),
            text(&record.fingerprint),
            text(&record.name),
            record.name_languages.clone(),
            record.description.clone(),
            text(&record.issuer_id),
            record.issuer_name.clone(),
            record.achievement_id.clone(),
            record.achievement_type.clone(),
            record.section.map(|s| s.key().to_string()),
            record.awarded.as_ref().map(|d| d.text.clone()),
            record.awarded.as_ref().and_then(|d| d.parsed.clone()),
            record.valid_until.as_ref().map(|d| d.text.clone()),
            record.valid_until.as_ref().and_then(|d| d.parsed.clone()),
            record.recipient_id.clone(),
            text(record.verification.state.as_str()),
            text(&record.verification.reason),
            Some(document.clone()),
        ];
        for (column, value) in columns.iter_mut().zip(values) {
            column.push(value);
        }
        for (position, skill) in record.skills.iter().enumerate() {
            skills.push(serde_json::json!({
                "record_pos": index,
                "id": new_id(),
                "position": position,
                "name": skill.name.as_str(),
                "description": skill.description,
                "framework": skill.framework,
                "code": skill.code,
                "target_type": skill.target_type,
                "evidence_url": skill.evidence_url,
                "level": skill.level.map(|l| l.as_str()),
                "category": skill.category.as_str(),
                "verified": i64::from(skill.verified),
                "verified_by": skill.verified_by,
                "verified_on": skill.verified_on,
            }));
        }
    }
    let mut params = package_row_params(new);
    params.extend(columns.into_iter().map(Value::TextList));
    let with_skills = !skills.is_empty();
    if with_skills {
        params.push(serde_json::Value::Array(skills).to_string().into());
    }
    let sql = match (with_skills, touch_token) {
        (false, None) => SAVE_AT_ONCE,
        (false, Some(_)) => SAVE_AT_ONCE_SLIDING,
        (true, None) => SAVE_AT_ONCE_WITH_SKILLS,
        (true, Some(_)) => SAVE_AT_ONCE_WITH_SKILLS_SLIDING,
    };
    params.extend(touch_token.map(Value::from));
    Some(Statement {
        sql: Cow::Borrowed(sql),
        params,
        lock_order: lock_order(new),
    })
}

/// `$1`–`$9` of every one-statement save: the package row (the `package` part of
/// `at_once_lookup_and_package!`).
fn package_row_params(new: &NewPackage<'_>) -> Vec<Value> {
    param_vec![
        new.id,
        new.partner_id,
        new.token_hash,
        new.recipient_json,
        new.package.recipient.id.as_deref(),
        new.now,
        new.expires_at,
        new.activation_keys.0,
        new.activation_keys.1,
    ]
}

/// Whether a package may be stored by one statement: nothing in it needs an alert, an inbox
/// or verification to store again, and no key repeats (see `package_at_once`).
fn of_the_usual_kind(new: &NewPackage<'_>) -> bool {
    let records = &new.package.records;
    let mut keys = std::collections::HashSet::new();
    !records.is_empty()
        && new.inbox_user_id.is_none()
        && records.iter().all(|r| {
            r.verification.state != VerificationState::Failed
                && r.section != Some(Section::Unassigned)
                && keys.insert(r.key.as_str())
        })
}

/// `package_at_once` for a package whose every record was stored before as it is now (the
/// caller believes so: a partner sending the same package again). Only the package row, its
/// links and the token's slide are written, and only the records' keys and fingerprints are
/// sent: the documents, the credential and skill inserts and their indexes are left out of
/// the statement, which made most of the database's work for such an upload. If any record
/// is new, changed or deleted after all, it writes nothing, as `package_at_once` would for a
/// package of another kind (`saved_at_once` reads its answer).
pub fn known_package_at_once(new: &NewPackage<'_>, touch_token: Option<&str>) -> Option<Statement> {
    if !of_the_usual_kind(new) {
        return None;
    }
    let records: Vec<_> = new
        .package
        .records
        .iter()
        .enumerate()
        .map(|(index, record)| {
            serde_json::json!({"pos": index, "key": record.key, "fingerprint": record.fingerprint})
        })
        .collect();
    let mut params = package_row_params(new);
    params.push(serde_json::Value::Array(records).to_string().into());
    params.extend(touch_token.map(Value::from));
    let sql = match touch_token {
        None => SAVE_KNOWN_AT_ONCE,
        Some(_) => SAVE_KNOWN_AT_ONCE_SLIDING,
    };
    Some(Statement {
        sql: Cow::Borrowed(sql),
        params,
        lock_order: lock_order(new),
    })
}

/// Where an upload's statement goes in a group (`Statement::lock_order`): its smallest
/// assertion key. The rows two uploads may both write are those of the credentials they
/// share (and the token's slide): the copies of one package sent twice at once share all of
/// them, and get the same place.
fn lock_order(new: &NewPackage<'_>) -> Option<String> {
    new.package
        .records
        .iter()
        .map(|record| record.key.as_str())
        .min()
        .map(str::to_string)
}

/// What both one-statement saves share, after their `r` (the records sent) and the start of
/// their `d` (each record with what is stored for it): the look-up that ends `d`, one probe
/// of the unique (partner_id, assertion_key) index per record; `go`, whether the package is
/// one the statement may store; and `package`, its row (`package_row_params`: `$1`–`$9`).
macro_rules! at_once_lookup_and_package {
    () => {
        "    FROM r LEFT JOIN LATERAL (
        SELECT id, fingerprint, deleted_at FROM credentials WHERE partner_id = $2 AND assertion_key = r.key LIMIT 1
    ) c ON true
),
go AS (
    SELECT bool_and(d.usual)
       AND NOT EXISTS (SELECT 1 FROM recipient_links WHERE partner_id = $2 AND recipient_id = $5) AS ok
    FROM d
),
package AS (
    INSERT INTO packages (id, partner_id, token_hash, recipient, recipient_id, created_at, expires_at,
        activation_email_key, activation_student_key)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM go WHERE go.ok
),
"
    };
}

/// The part of a one-statement save that slides access token `$token`'s idle window, once
/// the package is stored: only in the statements for the uploads that slide it (at most one
/// a minute per token, `auth::TOUCH_GRANULARITY_MS`). PostgreSQL sets up every part of a
/// statement at each execution, one that updates no row too: left in every upload's
/// statement, this part cost the database about 4 % of its time per upload
/// (docs/benchmarks.md). The token goes as the statement's last parameter, so that the two
/// variants share the others.
macro_rules! slide {
    ($token:literal) => {
        concat!(
            ",
touched AS (
    UPDATE access_tokens SET last_used_at = $6
    WHERE token_hash = ",
            $token,
            " AND last_used_at < $6 AND (SELECT ok FROM go)
)"
        )
    };
}

/// `known_package_at_once`'s statement up to its answer: `SAVE_AT_ONCE` without the writes
/// of new records.
macro_rules! save_known_at_once_head {
    () => {
        concat!(
            "WITH r AS (
    SELECT * FROM json_to_recordset($10::text::json) AS r(pos BIGINT, key TEXT, fingerprint TEXT)
),
d AS (
    SELECT r.pos, c.id, c.id IS NOT NULL AND c.fingerprint = r.fingerprint AND c.deleted_at IS NULL AS usual
",
            at_once_lookup_and_package!(),
            "links AS (
    INSERT INTO package_credentials (package_id, credential_id, position, result)
    SELECT $1, d.id, d.pos, 'unchanged' FROM d CROSS JOIN go WHERE go.ok
)"
        )
    };
}

/// The answer of `known_package_at_once`'s statements: one row per record.
macro_rules! known_answer {
    () => {
        "
SELECT 0 FROM d CROSS JOIN go WHERE go.ok ORDER BY d.pos"
    };
}

/// `known_package_at_once`'s statement, the token's window left as it is.
pub const SAVE_KNOWN_AT_ONCE: &str = concat!(save_known_at_once_head!(), known_answer!());

/// `known_package_at_once`'s statement sliding the token's window (`$11`).
pub const SAVE_KNOWN_AT_ONCE_SLIDING: &str =
    concat!(save_known_at_once_head!(), slide!("$11"), known_answer!());

/// What `package_at_once`'s (or `known_package_at_once`'s) statement stored of a package of
/// `records` records: each record's result, or `None` when it wrote nothing (the package was
/// not of the kind the statement stores).
pub fn saved_at_once(rows: &[Row], records: usize) -> Result<Option<Vec<Saved>>, StoreError> {
    if rows.len() != records {
        return Ok(None);
    }
    rows.iter()
        .enumerate()
        .map(|(index, row)| {
            Ok(Saved {
                record_index: index,
                result: if row.flag(0)? {
                    SaveResult::Created
                } else {
                    SaveResult::Unchanged
                },
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// How many columns of `SAVE_AT_ONCE`'s records go as parameters (`$10`–`$32`), one
/// `text[]` each.
const RECORD_COLUMNS: usize = 23;

/// The head of `package_at_once`'s statements: `r`, the records sent, one row per element of
/// the column arrays `$10`–`$32`; `d`, each record with its stored id (or a new one); `go`,
/// whether the package is of the usual kind (every write waits for it); `package` and
/// `created`, the package's and the new records' rows.
///
/// The look-up in `d` is one probe of the unique (partner_id, assertion_key) index per
/// record, whatever the planner believes of the table's size: `LIMIT 1` keeps it a
/// subquery of its own (a join there may become a hash join over all of the partner's
/// credentials, which a plan made while the table was small keeps doing after it has
/// grown), and no other index starts with partner_id for rows that may be deleted
/// (migration 0019). `tests/store.rs` checks the plan.
///
/// `created` inserts the new credentials in the order of their keys, not the package's:
/// each insert holds its key in the unique index until the transaction ends, and two
/// uploads sharing credentials listed in crossing orders would each hold a key the other
/// wants next (a deadlock, which PostgreSQL breaks after a second by undoing one). In one
/// order, the second upload waits for the first and then finds its rows.
macro_rules! save_at_once_head {
    () => {
        concat!(
            "WITH r AS (
    SELECT u.n - 1 AS pos, u.key, u.new_id, u.parent_pos::bigint AS parent_pos, u.assertion_id, u.kind,
        u.jws, u.fingerprint, u.name, u.name_languages, u.description, u.issuer_id,
        u.issuer_name, u.achievement_id, u.achievement_type, u.section, u.awarded_text, u.awarded_at,
        u.valid_until_text, u.valid_until_at, u.recipient_id, u.verification, u.verification_reason, u.document
    FROM unnest(
        $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
        $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[],
        $22::text[], $23::text[], $24::text[], $25::text[], $26::text[], $27::text[],
        $28::text[], $29::text[], $30::text[], $31::text[], $32::text[]
    ) WITH ORDINALITY AS u(key, new_id, parent_pos, assertion_id, kind, jws, fingerprint, name,
        name_languages, description, issuer_id, issuer_name, achievement_id, achievement_type, section, awarded_text,
        awarded_at, valid_until_text, valid_until_at, recipient_id, verification, verification_reason, document, n)
),
d AS (
    SELECT r.*, c.id IS NULL AS created, COALESCE(c.id, r.new_id) AS id,
           c.id IS NULL OR (c.fingerprint = r.fingerprint AND c.deleted_at IS NULL) AS usual
",
            at_once_lookup_and_package!(),
            "created AS (
    INSERT INTO credentials (id, partner_id, assertion_key, assertion_id, kind, parent_id, document, jws, fingerprint,
        name, name_languages, description, issuer_id, issuer_name, achievement_id, achievement_type, section,
        awarded_text, awarded_at, valid_until_text, valid_until_at, recipient_id, verification, verification_reason,
        verification_checked_at, created_at, updated_at, position)
    SELECT d.id, $2, d.key, d.assertion_id, d.kind, p.id, d.document, d.jws, d.fingerprint,
        d.name, d.name_languages, d.description, d.issuer_id, d.issuer_name, d.achievement_id, d.achievement_type, d.section,
        d.awarded_text, d.awarded_at, d.valid_until_text, d.valid_until_at, d.recipient_id, d.verification, d.verification_reason,
        $6, $6, $6, d.pos
    FROM d LEFT JOIN d p ON p.pos = d.parent_pos CROSS JOIN go WHERE go.ok AND d.created
    ORDER BY d.key
),
"
        )
    };
}

/// The package's links, the first part of every `package_at_once` statement's tail.
macro_rules! save_at_once_links {
    () => {
        "links AS (
    INSERT INTO package_credentials (package_id, credential_id, position, result)
    SELECT $1, d.id, d.pos, CASE WHEN d.created THEN 'created' ELSE 'unchanged' END FROM d CROSS JOIN go WHERE go.ok
)"
    };
}

/// The answer of `package_at_once`'s statements: one row per record saying whether it was
/// created.
macro_rules! save_at_once_answer {
    () => {
        "
SELECT CASE WHEN d.created THEN 1 ELSE 0 END FROM d CROSS JOIN go WHERE go.ok ORDER BY d.pos"
    };
}

/// The skills' insert of the statements for a package with skills: theirs go as one JSON
/// array (`$33`, `json_to_recordset`).
macro_rules! save_at_once_skills {
    () => {
        "new_skills AS (
    INSERT INTO skills (id, credential_id, position, name, description, framework, code, target_type, evidence_url,
        level, category, verified, verified_by, verified_on)
    SELECT s.id, d.id, s.position, s.name, s.description, s.framework, s.code, s.target_type, s.evidence_url,
        s.level, s.category, s.verified, s.verified_by, s.verified_on
    FROM json_to_recordset($33::text::json) AS s(record_pos BIGINT, id TEXT, position BIGINT, name TEXT, description TEXT,
        framework TEXT, code TEXT, target_type TEXT, evidence_url TEXT, level TEXT, category TEXT, verified BIGINT,
        verified_by TEXT, verified_on TEXT)
    JOIN d ON d.pos = s.record_pos CROSS JOIN go WHERE go.ok AND d.created
),
"
    };
}

/// `package_at_once`'s statement for a package without skills (most are): no part of it
/// inserts into the skills table, whose opening each execution would pay for.
pub const SAVE_AT_ONCE: &str = concat!(
    save_at_once_head!(),
    save_at_once_links!(),
    save_at_once_answer!()
);

/// `SAVE_AT_ONCE` sliding the token's window (`$33`).
pub const SAVE_AT_ONCE_SLIDING: &str = concat!(
    save_at_once_head!(),
    save_at_once_links!(),
    slide!("$33"),
    save_at_once_answer!()
);

/// `package_at_once`'s statement for a package with skills.
pub const SAVE_AT_ONCE_WITH_SKILLS: &str = concat!(
    save_at_once_head!(),
    save_at_once_skills!(),
    save_at_once_links!(),
    save_at_once_answer!()
);

/// `SAVE_AT_ONCE_WITH_SKILLS` sliding the token's window (`$34`).
pub const SAVE_AT_ONCE_WITH_SKILLS_SLIDING: &str = concat!(
    save_at_once_head!(),
    save_at_once_skills!(),
    save_at_once_links!(),
    slide!("$34"),
    save_at_once_answer!()
);
