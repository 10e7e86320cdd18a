//! The package reader (docs/partner-api.md, "Uploads"): turns a partner's upload body into
//! validated records, or lists every problem by JSON pointer. Lenient where partners are known to be (empty
//! strings mean absent, ids are opaque, dates may be free text), strict on what we need.
//!
//! Pure: no I/O, no clock. The caller supplies the partner's rules and limits.
//!
//! Here: what a read package is (records, recipient, problems). `reader`: how a body is
//! walked, credential by credential. `skills`: a SkillSync carrier's alignments as skills.

use crate::domain::dates::DateText;
use crate::domain::json_tree::Body;
use crate::domain::jws;
use crate::domain::language_tagged;
use crate::domain::sections::{self, DEFAULT_SECTION, MappingRule, Section};
use crate::domain::skills::{Skill, SkillCategory, SkillLevel, SkillName};
use crate::domain::verification::{self, ProofCarried, Verification};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

mod reader;
mod skills;

pub use reader::{read, read_body};

/// Something wrong (or worth a warning) at a place in the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// RFC 6901 JSON pointer into the request body ("" is the whole body).
    pub pointer: String,
    pub message: String,
}

impl Problem {
    fn new(pointer: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// How many problems a refusal lists; the rest are counted in one last line, so a body of a
/// million broken items cannot make an answer larger than the body.
pub const MAX_LISTED_PROBLEMS: usize = 100;

/// Per-package limits (configurable).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_credentials: usize,
    pub max_alignments: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_credentials: 500,
            max_alignments: 200,
        }
    }
}

/// What the reader needs to know about the partner.
#[derive(Debug, Clone, Default)]
pub struct PartnerRules {
    /// The partner's assertion ids change between updates: identity is
    /// (recipient.id, achievement.id) instead.
    pub unstable_ids: bool,
    /// An unchecked proof is `failed`, not `attested`.
    pub strict: bool,
    /// The partner's overrides followed by global admin rules.
    pub mapping: Vec<MappingRule>,
}

/// The person the package is about (all optional; used to pre-fill the sign-up form and to
/// match later packages). Stored as JSON in these field names (see `store::holding`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Recipient {
    pub id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub additional_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub student_id: Option<String>,
    pub signup_organization: Option<String>,
    /// A string or a postal address object, as sent.
    pub address: Option<Value>,
}

impl Recipient {
    /// Searchable on the activation page: id, both names, and email or student id.
    pub fn is_searchable(&self) -> bool {
        self.id.is_some()
            && self.given_name.is_some()
            && self.family_name.is_some()
            && (self.email.is_some() || self.student_id.is_some())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// Shown on the resume in a section.
    Credential,
    /// A SkillSync carrier: not shown itself; its alignments are skills.
    SkillCarrier,
    /// A CLR whose nested credentials are the records shown.
    Clr,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Credential => "credential",
            RecordKind::SkillCarrier => "skill_carrier",
            RecordKind::Clr => "clr",
        }
    }
}

/// One stored unit: a credential as submitted plus what we read from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Identity within the partner: the assertion id, or (recipient.id, achievement.id) for
    /// partners with unstable ids.
    pub key: String,
    pub assertion_id: Option<String>,
    pub kind: RecordKind,
    /// The CLR this credential was nested in.
    pub parent_key: Option<String>,
    pub pointer: String,
    /// Where the text stored for the credential comes from (`Package::document`).
    pub document: Document,
    /// Whether the credential has a `proof` member, whatever its value: without one (and
    /// without a JWS) there is nothing for the verifier to check.
    pub has_proof_member: bool,
    /// The compact JWS exactly as sent, when it came as one.
    pub jws: Option<String>,
    /// SHA-256 of the document with object keys sorted (and of the JWS): equal fingerprints
    /// mean an update changes nothing ("unchanged").
    pub fingerprint: String,
    pub name: String,
    /// Every (language, text) of a language-tagged name (`language_tagged::encode`).
    pub name_languages: Option<String>,
    pub description: Option<String>,
    pub issuer_id: String,
    pub issuer_name: Option<String>,
    pub achievement_id: Option<String>,
    pub achievement_type: Option<String>,
    /// For credentials: the section, or `Unassigned` for an unknown type.
    pub section: Option<Section>,
    pub awarded: Option<DateText>,
    pub valid_until: Option<DateText>,
    pub recipient_id: Option<String>,
    pub verification: Verification,
    pub skills: Vec<Skill>,
}

/// Where a record's stored text comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    /// Written already: a credential decoded from a JWS, or read from a tree the package
    /// does not keep.
    Text(String),
    /// The credential at the record's pointer in the package's body, written when it is
    /// needed: an unchanged credential is never stored again, so its text is never needed.
    InBody,
}

/// A read package.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    pub recipient_token: Option<String>,
    pub recipient: Recipient,
    pub records: Vec<Record>,
    pub warnings: Vec<Problem>,
    /// The body the records were read from, when it is kept (`read_body`).
    pub(super) body: Option<Arc<Body>>,
}

/// The warning the response carries for a failed proof.
const FAILED_WARNING: &str = "verification failed: ";

impl Package {
    /// The text stored for record `index`: its credential's JSON as serde_json writes it
    /// (no whitespace, keys in the order sent), decoded from the JWS when it came as one.
    pub fn document(&self, index: usize) -> Cow<'_, str> {
        let Some(record) = self.records.get(index) else {
            return Cow::Borrowed("");
        };
        match &record.document {
            Document::Text(text) => Cow::Borrowed(text),
            Document::InBody => {
                // The reader made the pointer while walking this very tree: it resolves.
                let mut text = String::new();
                if let Some(credential) = self
                    .body
                    .as_ref()
                    .and_then(|body| body.borrow_dependent().pointer(&record.pointer))
                {
                    credential.write_compact(&mut text);
                }
                Cow::Owned(text)
            }
        }
    }

    /// Records the verification of record `index`: its state, its skills' verified flags,
    /// and a warning when the proof failed (replacing an earlier one for the same record).
    pub fn settle(&mut self, index: usize, verification: Verification) {
        let Some(record) = self.records.get_mut(index) else {
            return;
        };
        let pointer = record.pointer.clone();
        let vouches = verification.state.vouches();
        for skill in &mut record.skills {
            skill.vouch(vouches);
        }
        self.warnings
            .retain(|w| !(w.pointer == pointer && w.message.starts_with(FAILED_WARNING)));
        if verification.state == verification::VerificationState::Failed {
            // A CLR's pointer is also where its first nested credential's path begins: say
            // which one failed.
            let what = match record.kind {
                RecordKind::Clr => format!(
                    "the CLR {} itself (its own proof): ",
                    record.assertion_id.as_deref().unwrap_or(&record.key)
                ),
                _ => String::new(),
            };
            self.warnings.push(Problem::new(
                pointer,
                format!("{FAILED_WARNING}{what}{}", verification.reason),
            ));
        }
        record.verification = verification;
    }
}

impl Record {
    /// Whether the verifier has anything to check: a JWS, or a `proof` member.
    pub fn needs_verifying(&self) -> bool {
        self.jws.is_some() || self.has_proof_member
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::json_tree::Node;
    use serde_json::json;

    fn read_value(
        body: Value,
        rules: &PartnerRules,
        limits: Limits,
    ) -> Result<Package, Vec<Problem>> {
        read(&Node::from(&body), rules, limits)
    }

    fn read_default(body: Value) -> Result<Package, Vec<Problem>> {
        read_value(body, &PartnerRules::default(), Limits::default())
    }

    fn course(id: &str) -> Value {
        json!({
            "id": id,
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": "Intro",
            "awardedDate": "Spring 2023",
            "issuedOn": "",
            "credentialSubject": {"achievement": {"id": "a1", "achievementType": "Course", "name": "Intro"}},
            "issuer": {"id": "123", "name": "Institution X"}
        })
    }

    #[test]
    fn a_course_lands_in_relevant_coursework_with_its_free_text_date() {
        let package = read_default(json!({"credentials": [course("1")]})).expect("valid");
        let record = &package.records[0];
        assert_eq!(record.section, Some(Section::RelevantCoursework));
        assert_eq!(
            record.awarded.as_ref().map(|d| d.text.as_str()),
            Some("Spring 2023")
        );
        assert_eq!(record.issuer_name.as_deref(), Some("Institution X"));
        assert!(package.warnings.is_empty(), "{:?}", package.warnings);
    }

    #[test]
    fn every_problem_is_listed_by_pointer() {
        let mut bad = course("");
        bad["issuer"] = json!({"name": "no id"});
        bad["type"] = json!(["Something"]);
        let problems =
            read_default(json!({"credentials": [course("1"), bad]})).expect_err("invalid");
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/credentials/1/type",
                "/credentials/1/issuer/id",
                "/credentials/1/id"
            ]
        );
    }

    #[test]
    fn bare_credential_is_a_package_of_one() {
        let package = read_default(course("9")).expect("valid");
        assert_eq!(package.records.len(), 1);
        assert_eq!(package.records[0].pointer, "");
    }

    #[test]
    fn missing_achievement_type_goes_to_credentials_with_a_warning() {
        let mut c = course("1");
        c["credentialSubject"]["achievement"]["achievementType"] = json!("");
        let package = read_default(json!({"credentials": [c]})).expect("valid");
        assert_eq!(package.records[0].section, Some(Section::Credentials));
        assert_eq!(
            package.warnings[0].pointer,
            "/credentials/0/credentialSubject/achievement/achievementType"
        );
    }

    #[test]
    fn unknown_type_is_unassigned_with_a_warning() {
        let mut c = course("1");
        c["credentialSubject"]["achievement"]["achievementType"] = json!("ext:Internship");
        let package = read_default(json!({"credentials": [c]})).expect("valid");
        assert_eq!(package.records[0].section, Some(Section::Unassigned));
        assert!(package.warnings[0].message.contains("Unassigned"));
    }

    #[test]
    fn wrong_types_are_problems() {
        let mut c = course("1");
        c["name"] = json!(42);
        let problems = read_default(json!({"credentials": [c]})).expect_err("invalid");
        assert_eq!(problems[0].pointer, "/credentials/0/name");
        assert!(
            problems[0]
                .message
                .contains("must be a string, got a number")
        );
    }

    #[test]
    fn numeric_ids_are_opaque_text() {
        let package = read_default(
            json!({"credentials": [course("1")], "recipient": {"id": 474989023199323_u64}}),
        )
        .expect("valid");
        assert_eq!(package.recipient.id.as_deref(), Some("474989023199323"));
    }

    #[test]
    fn duplicate_ids_in_one_package_are_refused() {
        let problems =
            read_default(json!({"credentials": [course("1"), course("1")]})).expect_err("dup");
        assert_eq!(problems[0].pointer, "/credentials/1");
    }

    #[test]
    fn too_many_credentials_are_refused() {
        let list: Vec<Value> = (0..3).map(|i| course(&i.to_string())).collect();
        let limits = Limits {
            max_credentials: 2,
            max_alignments: 200,
        };
        let problems = read_value(
            json!({"credentials": list}),
            &PartnerRules::default(),
            limits,
        )
        .expect_err("too many");
        assert!(
            problems[0]
                .message
                .contains("at most 2 credentials; this one carries 3")
        );
    }

    #[test]
    fn unstable_ids_key_on_recipient_and_achievement() {
        let rules = PartnerRules {
            unstable_ids: true,
            ..PartnerRules::default()
        };
        let body =
            json!({"recipient": {"id": "r1"}, "credentials": [course("changes-every-time")]});
        let package = read_value(body.clone(), &rules, Limits::default()).expect("valid");
        assert_eq!(package.records[0].key, "r1\u{1f}a1");
        let problems = read_value(
            json!({"credentials": [course("x")]}),
            &rules,
            Limits::default(),
        )
        .expect_err("needs recipient id");
        assert_eq!(problems[0].pointer, "/recipient");
    }

    #[test]
    fn skill_carrier_brings_skills_not_a_credential() {
        let body = json!({"credentials": [{
            "id": "c1", "type": ["VerifiableCredential"], "issuer": {"id": "i", "name": "Inst"},
            "name": "Skills", "awardedDate": "2025-02-14T17:07:16Z",
            "credentialSubject": {"achievement": {"achievementType": "ext:SkillsAndAbilities", "name": "Carrier",
                "alignment": [
                    {"targetName": "Teaching", "skillLevel": "Expert", "skillCategory": "durable", "targetUrl": "https://e"},
                    {"targetName": "Sales"}
                ]}},
            "proof": [{"type": "Ed25519Signature2020", "created": "2025-02-14T17:07:18Z"}]
        }]});
        let package = read_default(body).expect("valid");
        let carrier = &package.records[0];
        assert_eq!(carrier.kind, RecordKind::SkillCarrier);
        assert_eq!(carrier.section, None);
        let teaching = &carrier.skills[0];
        assert_eq!(teaching.level, Some(SkillLevel::Expert));
        assert_eq!(teaching.category, SkillCategory::Durable);
        assert!(teaching.verified);
        assert_eq!(teaching.verified_by.as_deref(), Some("Inst"));
        assert_eq!(
            teaching.verified_on.as_deref(),
            Some("2025-02-14T17:07:18Z")
        );
        assert_eq!(teaching.evidence_url.as_deref(), Some("https://e"));
        assert_eq!(carrier.skills[1].category, SkillCategory::Other);
    }

    #[test]
    fn unverified_skills_drop_the_evidence_link() {
        let body = json!({"credentials": [{
            "id": "c1", "type": "VerifiableCredential", "issuer": "i", "name": "Skills",
            "credentialSubject": {"achievement": {"achievementType": "SkillsAndAbilities",
                "alignment": [{"targetName": "Sales", "targetUrl": "https://e"}]}}
        }]});
        let skill = &read_default(body).expect("valid").records[0].skills[0];
        assert!(!skill.verified);
        assert_eq!(skill.evidence_url, None);
    }

    #[test]
    fn skill_rules_are_enforced_by_pointer() {
        let body = json!({"credentials": [{
            "id": "c1", "type": "VerifiableCredential", "issuer": "i", "name": "Skills",
            "credentialSubject": {"achievement": {"achievementType": "SkillsAndAbilities",
                "alignment": [{"targetName": "x".repeat(41)}, {"targetName": "ok", "skillLevel": "guru"}, {"targetName": "ok2", "skillCategory": "soft"}]}}
        }]});
        let problems = read_default(body).expect_err("invalid");
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        let base = "/credentials/0/credentialSubject/achievement/alignment";
        assert_eq!(
            pointers,
            [
                format!("{base}/0/targetName"),
                format!("{base}/1/skillLevel"),
                format!("{base}/2/skillCategory")
            ]
        );
    }

    #[test]
    fn clr_nested_credentials_are_records_and_profile_names_fill_the_recipient() {
        let body = json!({
            "id": "clr1", "type": ["VerifiableCredential", "ClrCredential"], "issuer": {"id": "u"}, "name": "Transcript",
            "credentialSubject": {"type": ["ClrSubject", "Profile"], "givenName": "Steve", "familyName": "McSteve",
                "verifiableCredential": [course("n1"), course("n2")]}
        });
        let package = read_default(body).expect("valid");
        let kinds: Vec<RecordKind> = package.records.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                RecordKind::Clr,
                RecordKind::Credential,
                RecordKind::Credential
            ]
        );
        assert_eq!(package.records[1].parent_key.as_deref(), Some("clr1"));
        assert_eq!(
            package.records[2].pointer,
            "/credentialSubject/verifiableCredential/1"
        );
        assert_eq!(package.recipient.given_name.as_deref(), Some("Steve"));
    }

    #[test]
    fn every_wrong_type_is_reported_not_only_the_first() {
        let mut c = course("1");
        c["awardedDate"] = json!("2023-05-01");
        c["validFrom"] = json!(2023);
        c["issuanceDate"] = json!(["2023"]);
        c["description"] = json!(false);
        c["credentialSubject"]["achievement"]["description"] = json!("fine");
        c["type"] = json!(["VerifiableCredential", 7]);
        let body = json!({"recipienttoken": "t", "recipientToken": 5, "credentials": [c]});
        let problems = read_default(body).expect_err("invalid");
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/recipientToken",
                "/credentials/0/type/1",
                "/credentials/0/description",
                "/credentials/0/validFrom",
                "/credentials/0/issuanceDate",
            ]
        );
    }

    #[test]
    fn a_skill_with_a_bad_name_still_has_its_other_fields_checked() {
        let body = json!({"credentials": [{
            "id": "c1", "type": "VerifiableCredential", "issuer": "i", "name": "Skills",
            "credentialSubject": {"achievement": {"achievementType": "SkillsAndAbilities",
                "alignment": [{"targetName": "x".repeat(41), "targetDescription": 5, "targetCode": true},
                              {"targetName": "ok"}, {"targetName": "OK", "targetType": []}]}}
        }]});
        let problems = read_default(body).expect_err("invalid");
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        let base = "/credentials/0/credentialSubject/achievement/alignment";
        assert_eq!(
            pointers,
            [
                format!("{base}/0/targetName"),
                format!("{base}/0/targetDescription"),
                format!("{base}/0/targetCode"),
                format!("{base}/2/targetType"),
                format!("{base}/2/targetName"),
            ]
        );
    }

    fn compact_jws(payload: &Value) -> String {
        use base64::Engine;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        format!(
            "{}.{}.{}",
            b64(br#"{"alg":"EdDSA"}"#),
            b64(payload.to_string().as_bytes()),
            b64(b"signature")
        )
    }

    #[test]
    fn a_kept_body_gives_each_record_its_credential_as_serde_json_writes_it() {
        let clr = |id: &str, nested: Vec<Value>| {
            json!({
                "id": id, "type": ["VerifiableCredential", "ClrCredential"], "issuer": {"id": "u"},
                "name": "Transcript", "credentialSubject": {"verifiableCredential": nested}
            })
        };
        let in_jws = clr("clr1", vec![course("n1"), course("n2")]);
        let in_body = clr("clr2", vec![course("n3")]);
        let body =
            json!({"credentials": [compact_jws(&json!({"vc": in_jws})), course("x"), in_body]});
        let text = serde_json::to_vec_pretty(&body).expect("JSON");
        let kept = crate::domain::lenient_json::parse_body(text).expect("JSON");
        let package = read_body(kept, &PartnerRules::default(), Limits::default()).expect("valid");
        let documents: Vec<(&str, String)> = package
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.key.as_str(), package.document(i).into_owned()))
            .collect();
        assert_eq!(
            documents,
            [
                ("clr1", in_jws.to_string()),
                ("n1", course("n1").to_string()),
                ("n2", course("n2").to_string()),
                ("x", course("x").to_string()),
                ("clr2", in_body.to_string()),
                ("n3", course("n3").to_string()),
            ]
        );
        // What came in the JWS is written at once; what is in the body waits.
        let waiting: Vec<bool> = package
            .records
            .iter()
            .map(|r| r.document == Document::InBody)
            .collect();
        assert_eq!(waiting, [false, false, false, true, true, true]);
    }

    #[test]
    fn problems_inside_a_jws_point_at_the_jws_string() {
        let mut nameless = course("n2");
        nameless["name"] = json!(null);
        nameless["credentialSubject"]["achievement"]["name"] = json!(7);
        let clr = json!({
            "id": "clr1", "type": ["VerifiableCredential", "ClrCredential"], "issuer": {"id": "u"}, "name": "Transcript",
            "credentialSubject": {"verifiableCredential": [course("n1"), compact_jws(&json!({"vc": nameless}))]}
        });
        let problems = read_default(json!({"credentials": [clr]})).expect_err("invalid");
        let jws_at = "/credentials/0/credentialSubject/verifiableCredential/1";
        assert!(!problems.is_empty());
        for problem in &problems {
            assert_eq!(problem.pointer, jws_at, "{problem:?}");
            assert!(
                problem.message.starts_with("in the JWS's credential at /"),
                "{problem:?}"
            );
        }
        assert!(problems.iter().any(|p| {
            p.message
                .contains("at /credentialSubject/achievement/name:")
        }));
    }

    #[test]
    fn the_missing_achievement_type_warning_points_where_the_body_has_room_for_it() {
        let mut no_achievement = course("2");
        no_achievement["credentialSubject"] = json!({"id": "s"});
        let mut no_subject = course("3");
        no_subject
            .as_object_mut()
            .expect("object")
            .remove("credentialSubject");
        let clr = json!({
            "id": "clr1", "type": ["VerifiableCredential", "ClrCredential"], "issuer": {"id": "u"}, "name": "Transcript",
            "credentialSubject": {"verifiableCredential": [no_achievement, no_subject]}
        });
        let package = read_default(json!({"credentials": [clr]})).expect("valid");
        let pointers: Vec<&str> = package
            .warnings
            .iter()
            .map(|w| w.pointer.as_str())
            .collect();
        let nested = "/credentials/0/credentialSubject/verifiableCredential";
        assert_eq!(
            pointers,
            [
                format!("{nested}/0/credentialSubject/achievement"),
                format!("{nested}/1/credentialSubject"),
            ]
        );
    }

    #[test]
    fn a_missing_recipient_id_points_at_what_the_body_has() {
        let rules = PartnerRules {
            unstable_ids: true,
            ..PartnerRules::default()
        };
        let pointer_for = |body: Value| {
            read_value(body, &rules, Limits::default()).expect_err("needs recipient id")[0]
                .pointer
                .clone()
        };
        assert_eq!(
            pointer_for(json!({"recipient": {"givenName": "A"}, "credentials": [course("x")]})),
            "/recipient/id"
        );
        assert_eq!(
            pointer_for(json!({"credentials": [course("x")]})),
            "/recipient"
        );
        assert_eq!(
            pointer_for(json!({"recipient": 4, "credentials": [course("x")]})),
            "/recipient"
        );
        assert_eq!(pointer_for(course("x")), "");
    }

    #[test]
    fn nothing_to_import_is_refused() {
        let problems = read_default(json!({"credentials": []})).expect_err("empty");
        assert!(problems[0].message.contains("nothing to import"));
    }

    #[test]
    fn fingerprint_ignores_key_order_only() {
        let a = read_default(json!({"credentials": [course("1")]})).expect("valid");
        let mut reordered = serde_json::Map::new();
        let original = course("1");
        let object = original.as_object().expect("object");
        for key in object.keys().rev() {
            reordered.insert(key.clone(), object[key].clone());
        }
        let b = read_default(json!({"credentials": [Value::Object(reordered)]})).expect("valid");
        assert_eq!(a.records[0].fingerprint, b.records[0].fingerprint);
        let mut changed = course("1");
        changed["name"] = json!("Intro II");
        let c = read_default(json!({"credentials": [changed]})).expect("valid");
        assert_ne!(a.records[0].fingerprint, c.records[0].fingerprint);
    }

    /// Stored fingerprints decide "unchanged" for later uploads: the canonical form must not
    /// drift. These are SHA-256 of each credential as JSON with keys sorted, no whitespace,
    /// then a zero byte (no JWS).
    #[test]
    fn fingerprints_of_the_guide_package_are_stable() {
        let body: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/guide/three-courses.json"
        ))
        .expect("fixture");
        let package = read_default(body).expect("valid");
        let fingerprints: Vec<&str> = package
            .records
            .iter()
            .map(|r| r.fingerprint.as_str())
            .collect();
        assert_eq!(
            fingerprints,
            [
                "80b1cafc8e360189649d1d1d064edb86f6fab8c0a3f7f3ab7e0ce7a93a470472",
                "2bceb987125e030f0ea3d9b8b847d3e1982554db3e14e2082b33053f2e7850b4",
                "bf645b5d3859277037d6d9ff8db63b852fae67b5761f8cd52f70e1f9e77ba1bc",
            ]
        );
    }

    #[test]
    fn a_language_tagged_name_is_read_and_malformed_ones_are_named() {
        let mut c = course("c1");
        c["name"] = json!([{"@value": "Soudage", "@language": "fr"}, {"@value": "Welding", "@language": "en"}]);
        let package = read_default(c.clone()).expect("accepted");
        assert_eq!(package.records[0].name, "Soudage");
        c["name"] = json!({"@value": "Welding", "@language": "en"});
        assert_eq!(
            read_default(c.clone()).expect("one object").records[0].name,
            "Welding"
        );
        c["name"] = json!([{"@value": "Soudage", "@language": "fr"}, {"@value": "Welding"}]);
        let problems = read_default(c.clone()).expect_err("no language");
        assert_eq!(problems[0].pointer, "/name/1", "{problems:?}");
        c["name"] = json!({"@value": "Welding", "@language": "en", "@direction": "ltr"});
        let problems = read_default(c).expect_err("extra member");
        assert!(problems[0].message.contains("exactly"), "{problems:?}");
    }
}
