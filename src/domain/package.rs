//! The package reader (API.md §2): turns a partner's upload body into validated records,
//! or lists every problem by JSON pointer. Lenient where partners are known to be (empty
//! strings mean absent, ids are opaque, dates may be free text), strict on what we need.
//!
//! Pure: no I/O, no clock. The caller supplies the partner's rules and limits.

use crate::domain::dates::DateText;
use crate::domain::json_tree::{Body, Node, Object};
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
    /// Findable on the activation page (API.md §4): id, both names, and email or student id.
    pub fn is_findable(&self) -> bool {
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

/// A digest of everything the partner sent for a credential, key order aside: equal
/// fingerprints mean an update changes nothing ("unchanged").
///
/// `scratch` is reused across a package's records.
fn fingerprint_of(credential: &Node<'_>, jws: Option<&str>, scratch: &mut String) -> String {
    scratch.clear();
    credential.write_canonical(scratch);
    let mut hasher = Sha256::new();
    hasher.update(scratch.as_bytes());
    hasher.update([0]);
    hasher.update(jws.unwrap_or("").as_bytes());
    crate::secrets::to_hex(&hasher.finalize())
}

/// A read package.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    pub recipient_token: Option<String>,
    pub recipient: Recipient,
    pub records: Vec<Record>,
    pub warnings: Vec<Problem>,
    /// The body the records were read from, when it is kept (`read_body`).
    body: Option<Arc<Body>>,
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

/// Reads a package body (already parsed as JSON; a compact JWS body arrives as a string).
pub fn read(
    body: &Node<'_>,
    rules: &PartnerRules,
    limits: Limits,
) -> Result<Package, Vec<Problem>> {
    read_tree(body, rules, limits, false)
}

/// `read`, keeping the body in the package: a record's stored text is written from it only
/// when the record is stored.
pub fn read_body(
    body: Body,
    rules: &PartnerRules,
    limits: Limits,
) -> Result<Package, Vec<Problem>> {
    let body = Arc::new(body);
    let mut package = read_tree(body.borrow_dependent(), rules, limits, true)?;
    package.body = Some(body);
    Ok(package)
}

/// `kept`: the caller keeps `body` in the package, so records in it need no text yet.
fn read_tree(
    body: &Node<'_>,
    rules: &PartnerRules,
    limits: Limits,
    kept: bool,
) -> Result<Package, Vec<Problem>> {
    let mut reader = Reader {
        kept,
        in_jws: false,
        rules,
        limits,
        problems: Vec::new(),
        unlisted: 0,
        credentials_read: 0,
        stopped: false,
        warnings: Vec::new(),
        records: Vec::new(),
        recipient: Recipient::default(),
        recipient_id_pointer: "",
        scratch: String::with_capacity(4096),
    };
    let recipient_token = reader.read_envelope(body);
    reader.check_identity();
    if reader.problems.is_empty() && reader.yields_nothing() {
        reader.problems.push(Problem::new(
            "",
            "nothing to import: the package carries no credential and no skill",
        ));
    }
    if !reader.problems.is_empty() {
        if reader.unlisted > 0 {
            reader.problems.push(Problem::new(
                "",
                format!(
                    "and {} more problems, not listed (at most {MAX_LISTED_PROBLEMS} are): fix these and send the package again",
                    reader.unlisted
                ),
            ));
        }
        return Err(reader.problems);
    }
    let mut package = Package {
        recipient_token,
        recipient: reader.recipient,
        records: reader.records,
        warnings: reader.warnings,
        body: None,
    };
    // Until a verifier settles them, proofs follow the guide's rule (`unchecked`).
    for index in 0..package.records.len() {
        let placeholder = package.records[index].verification.clone();
        package.settle(index, placeholder);
    }
    Ok(package)
}

struct Reader<'a> {
    /// The body is kept in the package (`read_body`).
    kept: bool,
    /// Reading a credential decoded from a JWS, which is not in the body.
    in_jws: bool,
    rules: &'a PartnerRules,
    limits: Limits,
    /// The first `MAX_LISTED_PROBLEMS` problems; `unlisted` counts the rest.
    problems: Vec<Problem>,
    unlisted: usize,
    /// Credentials met so far, nested ones included, valid or not.
    credentials_read: usize,
    /// A limit was crossed: nothing more is read (the package is refused anyway).
    stopped: bool,
    warnings: Vec<Problem>,
    records: Vec<Record>,
    recipient: Recipient,
    /// Where a missing `recipient.id` is reported: the id in a recipient object, the
    /// envelope's missing `recipient`, or the whole body when it is a bare credential.
    recipient_id_pointer: &'static str,
    /// Room for writing documents, reused across records.
    scratch: String,
}

/// A credential type we recognise (besides `VerifiableCredential`).
const CREDENTIAL_TYPES: [&str; 4] = [
    "OpenBadgeCredential",
    "AchievementCredential",
    "ClrCredential",
    "EndorsementCredential",
];

impl Reader<'_> {
    /// Reads the outer shape and every credential in it; returns the recipient token.
    fn read_envelope(&mut self, body: &Node<'_>) -> Option<String> {
        let object = match body {
            Node::String(_) => {
                // A compact JWS body (VC-JWT) is a package of one.
                self.read_entry("", body, None);
                return None;
            }
            Node::Object(object) => object,
            other => {
                self.problem(
                    "",
                    format!(
                        "expected a JSON object (a package or one credential), got {}",
                        other.kind()
                    ),
                );
                return None;
            }
        };
        let has_entries = object.contains_key("credentials") || object.contains_key("credential");
        if !has_entries && object.contains_key("type") {
            // A bare credential is a package of one.
            self.read_entry("", body, None);
            return None;
        }
        // Both spellings are read (and checked) before one is chosen.
        let lower = self.text(object, "recipienttoken", "");
        let camel = self.text(object, "recipientToken", "");
        let token = lower.or(camel);
        self.read_recipient(object);
        if !has_entries {
            self.problem(
                "",
                "expected `credentials` (an array), `credential`, or a credential with `type`",
            );
            return token;
        }
        let single = object.get("credential").filter(|v| !is_absent(v));
        // The count is checked before any item is read: a body of a million items is
        // refused for its length, not for each item.
        if let Some(Node::Array(entries)) = object.get("credentials") {
            let count = entries.len() + usize::from(single.is_some());
            if count > self.limits.max_credentials {
                self.problem(
                    "/credentials",
                    format!(
                        "a package carries at most {} credentials; this one carries {count}",
                        self.limits.max_credentials
                    ),
                );
                return token;
            }
        }
        if let Some(single) = single {
            self.read_entry("/credential", single, None);
        }
        match object.get("credentials") {
            None | Some(Node::Null) => {}
            Some(Node::Array(entries)) => {
                for (i, entry) in entries.iter().enumerate() {
                    if self.stopped {
                        break;
                    }
                    self.read_entry(&format!("/credentials/{i}"), entry, None);
                }
            }
            Some(other) => self.problem(
                "/credentials",
                format!("`credentials` must be an array, got {}", other.kind()),
            ),
        }
        token
    }

    fn read_recipient(&mut self, envelope: &Object<'_>) {
        self.recipient_id_pointer = "/recipient";
        let Some(value) = envelope.get("recipient").filter(|v| !v.is_null()) else {
            return;
        };
        let Node::Object(r) = value else {
            self.problem(
                "/recipient",
                format!("`recipient` must be an object, got {}", value.kind()),
            );
            return;
        };
        let p = "/recipient";
        self.recipient_id_pointer = "/recipient/id";
        self.recipient = Recipient {
            id: self.id_text(r, "id", p),
            given_name: self.text(r, "givenName", p),
            family_name: self.text(r, "familyName", p),
            additional_name: self.text(r, "additionalName", p),
            email: self.text(r, "email", p),
            phone: self.text(r, "phone", p),
            student_id: self.id_text(r, "studentId", p),
            signup_organization: self.text(r, "signupOrganization", p),
            address: r
                .get("address")
                .filter(|v| !is_absent(v))
                .map(Node::to_value),
        };
    }

    /// One entry: a credential object or a compact JWS string.
    fn read_entry(&mut self, pointer: &str, entry: &Node<'_>, parent: Option<&str>) {
        self.credentials_read += 1;
        if self.credentials_read > self.limits.max_credentials {
            // Only nested CLR credentials get here: top-level ones are counted first.
            self.limit_crossed(
                pointer,
                format!(
                    "a package carries at most {} credentials, nested ones included; this is one more, and reading stopped here",
                    self.limits.max_credentials
                ),
            );
            return;
        }
        match entry {
            Node::String(text) => match jws::decode(text).and_then(|d| d.credential()) {
                Ok(credential) => {
                    let credential = Node::from(&credential);
                    let (problems, warnings) = (self.problems.len(), self.warnings.len());
                    let outer = std::mem::replace(&mut self.in_jws, true);
                    self.read_credential(pointer, &credential, Some(text.trim()), parent);
                    self.in_jws = outer;
                    // The body holds the JWS as one string: what is wrong inside the
                    // credential it carries is reported at the string, saying where inside.
                    for found in self.problems[problems..]
                        .iter_mut()
                        .chain(&mut self.warnings[warnings..])
                    {
                        if let Some(inside) = found.pointer.strip_prefix(pointer)
                            && !inside.is_empty()
                        {
                            found.message =
                                format!("in the JWS's credential at {inside}: {}", found.message);
                            found.pointer = pointer.to_string();
                        }
                    }
                }
                Err(why) => self.problem(pointer, format!("not a usable VC-JWT: {why}")),
            },
            Node::Object(_) => self.read_credential(pointer, entry, None, parent),
            other => self.problem(
                pointer,
                format!(
                    "a credential must be an object or a compact JWS string, got {}",
                    other.kind()
                ),
            ),
        }
    }

    fn read_credential(
        &mut self,
        pointer: &str,
        value: &Node<'_>,
        jws: Option<&str>,
        parent: Option<&str>,
    ) {
        let Node::Object(credential) = value else {
            self.problem(
                pointer,
                format!("the credential must be a JSON object, got {}", value.kind()),
            );
            return;
        };
        let problems_before = self.problems.len();
        let types = self.types(credential, pointer);
        let is_clr = types.contains(&"ClrCredential");
        let assertion_id = self.id_text(credential, "id", pointer);
        let (issuer_id, issuer_name) = self.issuer(credential, pointer);
        let (subject_pointer, subject) = match primary_subject(credential.get("credentialSubject"))
        {
            Some((suffix, s)) => (
                Some(format!("{pointer}/credentialSubject{suffix}")),
                Some(s),
            ),
            None => (None, None),
        };
        let achievement = subject.and_then(|s| s.get("achievement").and_then(Node::as_object));
        let achievement_pointer = subject_pointer.as_ref().map(|p| format!("{p}/achievement"));
        let ap = achievement_pointer.as_deref().unwrap_or("");
        let achievement_name = achievement.and_then(|a| self.name_text(a, "name", ap));
        let (name, name_languages) = match self
            .name_text(credential, "name", pointer)
            .or(achievement_name)
        {
            Some((name, languages)) => (Some(name), languages),
            None => (None, None),
        };
        if name.is_none() {
            self.problem(
                format!("{pointer}/name"),
                "a credential needs a name (`name` or `credentialSubject.achievement.name`)",
            );
        }
        let achievement_id = achievement.and_then(|a| self.id_text(a, "id", ap));
        let achievement_type = achievement.and_then(|a| self.text(a, "achievementType", ap));
        let achievement_description = achievement.and_then(|a| self.text(a, "description", ap));
        let description = achievement_description.or(self.text(credential, "description", pointer));
        let subject_id = subject.and_then(|s| {
            let sp = subject_pointer.as_deref().unwrap_or("");
            self.id_text(s, "id", sp)
        });
        let recipient_id = self.recipient.id.clone().or(subject_id);

        let key = self.identity(
            pointer,
            &assertion_id,
            achievement_id.as_deref(),
            ap,
            achievement.is_some(),
        );
        // Every date field is checked, then the first one given is used.
        let awarded = ["awardedDate", "validFrom", "issuanceDate", "issuedOn"]
            .map(|field| self.text(credential, field, pointer))
            .into_iter()
            .flatten()
            .next()
            .map(|t| DateText::new(&t));
        let valid_until = ["validUntil", "expirationDate"]
            .map(|field| self.text(credential, field, pointer))
            .into_iter()
            .flatten()
            .next()
            .map(|t| DateText::new(&t));

        let alignments = achievement.and_then(|a| a.get("alignment"));
        if let Some(Node::Array(list)) = alignments
            && list.len() > self.limits.max_alignments
        {
            self.limit_crossed(
                format!("{ap}/alignment"),
                format!(
                    "at most {} alignments per credential; this one has {}",
                    self.limits.max_alignments,
                    list.len()
                ),
            );
            return;
        }

        let proof = if jws.is_some() {
            ProofCarried::Jws
        } else if credential.get("proof").is_some_and(|p| !is_absent(p)) {
            ProofCarried::Embedded
        } else {
            ProofCarried::None
        };
        // A placeholder until the verifier has checked the proof (`Package::settle`).
        let verification = verification::unchecked(proof, self.rules.strict);

        let is_carrier = achievement_type
            .as_deref()
            .is_some_and(sections::is_skill_carrier);
        let nested = if is_clr {
            subject.and_then(|s| s.get("verifiableCredential"))
        } else {
            None
        };
        let nested_entries = match nested {
            None | Some(Node::Null) => Vec::new(),
            Some(Node::Array(list)) => list.iter().collect(),
            Some(other) => {
                self.problem(
                    format!(
                        "{}/verifiableCredential",
                        subject_pointer.as_deref().unwrap_or("")
                    ),
                    format!(
                        "`verifiableCredential` must be an array, got {}",
                        other.kind()
                    ),
                );
                Vec::new()
            }
        };
        if is_clr {
            self.take_profile_names(subject);
        }
        let kind = if is_carrier {
            RecordKind::SkillCarrier
        } else if is_clr && !nested_entries.is_empty() {
            RecordKind::Clr
        } else {
            RecordKind::Credential
        };
        if is_clr && nested_entries.is_empty() {
            self.warn(
                pointer,
                "this CLR carries no nested credentials; it is imported as one credential",
            );
        }
        // Where the achievementType is, or would go: the deepest level that exists.
        let type_pointer = match (achievement, &subject_pointer) {
            (Some(_), _) => format!("{ap}/achievementType"),
            (None, Some(sp)) => format!("{sp}/achievement"),
            (None, None) => format!("{pointer}/credentialSubject"),
        };
        let section = match kind {
            RecordKind::Credential => {
                Some(self.section(achievement_type.as_deref(), &type_pointer))
            }
            _ => None,
        };
        let skills = if is_carrier {
            self.skills(
                alignments,
                ap,
                &verification,
                &issuer_name,
                &issuer_id,
                credential,
                &awarded,
            )
        } else {
            Vec::new()
        };

        if self.problems.len() == problems_before
            && let (Some(key), Some(name), Some(issuer_id)) = (key.clone(), name, issuer_id)
        {
            // A package with a problem is refused whole: its records' texts are not needed.
            let (document, fingerprint) = if self.problems.is_empty() {
                let document = if self.kept && !self.in_jws {
                    Document::InBody
                } else {
                    self.scratch.clear();
                    value.write_compact(&mut self.scratch);
                    Document::Text(self.scratch.clone())
                };
                (document, fingerprint_of(value, jws, &mut self.scratch))
            } else {
                (Document::Text(String::new()), String::new())
            };
            self.records.push(Record {
                key,
                assertion_id,
                kind,
                parent_key: parent.map(str::to_string),
                pointer: pointer.to_string(),
                document,
                has_proof_member: credential.contains_key("proof"),
                jws: jws.map(str::to_string),
                fingerprint,
                name,
                name_languages,
                description,
                issuer_id,
                issuer_name,
                achievement_id,
                achievement_type,
                section,
                awarded,
                valid_until,
                recipient_id,
                verification,
                skills,
            });
        }
        let subject_pointer = subject_pointer.unwrap_or_default();
        for (i, entry) in nested_entries.into_iter().enumerate() {
            if self.stopped {
                break;
            }
            let nested_pointer = format!("{subject_pointer}/verifiableCredential/{i}");
            self.read_entry(&nested_pointer, entry, key.as_deref());
        }
    }

    /// `type` must be present and name a verifiable credential.
    fn types<'v>(&mut self, credential: &'v Object<'_>, pointer: &str) -> Vec<&'v str> {
        let types: Vec<&str> = match credential.get("type") {
            Some(Node::String(t)) => vec![t.as_ref()],
            Some(Node::Array(list)) => {
                let mut types = Vec::new();
                for (i, item) in list.iter().enumerate() {
                    match item {
                        Node::String(t) => types.push(t.as_ref()),
                        other => self.problem(
                            format!("{pointer}/type/{i}"),
                            format!("each `type` must be a string, got {}", other.kind()),
                        ),
                    }
                }
                types
            }
            None | Some(Node::Null) => {
                self.problem(
                    format!("{pointer}/type"),
                    "`type` is required (e.g. [\"VerifiableCredential\", \"OpenBadgeCredential\"])",
                );
                return Vec::new();
            }
            Some(other) => {
                self.problem(
                    format!("{pointer}/type"),
                    format!(
                        "`type` must be a string or an array of strings, got {}",
                        other.kind()
                    ),
                );
                return Vec::new();
            }
        };
        let recognised = types
            .iter()
            .any(|t| *t == "VerifiableCredential" || CREDENTIAL_TYPES.contains(t));
        if !recognised {
            self.problem(
                format!("{pointer}/type"),
                format!(
                    "`type` must include VerifiableCredential (or one of {}); got {types:?}",
                    CREDENTIAL_TYPES.join(", ")
                ),
            );
        }
        types
    }

    fn issuer(
        &mut self,
        credential: &Object<'_>,
        pointer: &str,
    ) -> (Option<String>, Option<String>) {
        let p = format!("{pointer}/issuer");
        match credential.get("issuer") {
            Some(Node::String(id)) if !id.trim().is_empty() => (Some(id.trim().to_string()), None),
            Some(Node::Object(issuer)) => {
                let id = self.id_text(issuer, "id", &p);
                if id.is_none() {
                    self.problem(format!("{p}/id"), "the issuer needs an `id`");
                }
                (id, self.text(issuer, "name", &p))
            }
            None | Some(Node::Null) | Some(Node::String(_)) => {
                self.problem(
                    p,
                    "an issuer is required: `issuer` as an id string or an object with `id`",
                );
                (None, None)
            }
            Some(other) => {
                self.problem(
                    p,
                    format!(
                        "`issuer` must be a string or an object, got {}",
                        other.kind()
                    ),
                );
                (None, None)
            }
        }
    }

    fn identity(
        &mut self,
        pointer: &str,
        assertion_id: &Option<String>,
        achievement_id: Option<&str>,
        achievement_pointer: &str,
        has_achievement: bool,
    ) -> Option<String> {
        if self.rules.unstable_ids && has_achievement {
            let recipient_id = self.recipient.id.clone();
            if recipient_id.is_none() {
                self.problem(
                    self.recipient_id_pointer,
                    "this partner's assertion ids are unstable, so `recipient.id` is required to identify credentials",
                );
            }
            if achievement_id.is_none() {
                self.problem(
                    format!("{achievement_pointer}/id"),
                    "this partner's assertion ids are unstable, so `credentialSubject.achievement.id` is required",
                );
            }
            return Some(format!("{}\u{1f}{}", recipient_id?, achievement_id?));
        }
        if assertion_id.is_none() {
            self.problem(
                format!("{pointer}/id"),
                "each credential needs a unique assertion `id` so updates can find it",
            );
        }
        assertion_id.clone()
    }

    fn section(&mut self, achievement_type: Option<&str>, pointer: &str) -> Section {
        match achievement_type {
            None => {
                self.warn(pointer, format!("no achievementType: placed in {DEFAULT_SECTION}"));
                DEFAULT_SECTION
            }
            Some(t) => sections::section_for(t, &self.rules.mapping).unwrap_or_else(|| {
                self.warn(
                    pointer,
                    format!("unknown achievementType {t:?}: held as Unassigned until an administrator assigns a section"),
                );
                Section::Unassigned
            }),
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the skill needs each of the carrier's facts"
    )]
    fn skills(
        &mut self,
        alignments: Option<&Node<'_>>,
        achievement_pointer: &str,
        verification: &Verification,
        issuer_name: &Option<String>,
        issuer_id: &Option<String>,
        credential: &Object<'_>,
        awarded: &Option<DateText>,
    ) -> Vec<Skill> {
        let base = format!("{achievement_pointer}/alignment");
        let list = match alignments {
            Some(Node::Array(list)) => list,
            None | Some(Node::Null) => {
                self.warn(
                    base,
                    "this SkillsAndAbilities carrier has no alignments, so it brings no skills",
                );
                return Vec::new();
            }
            Some(other) => {
                self.problem(
                    base,
                    format!("`alignment` must be an array, got {}", other.kind()),
                );
                return Vec::new();
            }
        };
        let verified = verification.state.vouches();
        let verified_on =
            first_proof_created(credential).or_else(|| awarded.as_ref().map(|d| d.text.clone()));
        let mut skills = Vec::new();
        // Names seen, lowercased: a repeat is found in one look-up, not by comparing pairs.
        let mut seen = HashSet::new();
        for (i, alignment) in list.iter().enumerate() {
            let p = format!("{base}/{i}");
            let Node::Object(a) = alignment else {
                self.problem(
                    p,
                    format!("an alignment must be an object, got {}", alignment.kind()),
                );
                continue;
            };
            let name = match self.text(a, "targetName", &p).map(|n| SkillName::parse(&n)) {
                Some(Ok(name)) => Some(name),
                Some(Err(why)) => {
                    self.problem(format!("{p}/targetName"), why);
                    None
                }
                None => {
                    self.problem(
                        format!("{p}/targetName"),
                        "a skill needs a name (targetName)",
                    );
                    None
                }
            };
            let level = match self
                .text(a, "skillLevel", &p)
                .map(|l| SkillLevel::parse(&l))
            {
                Some(Ok(level)) => Some(level),
                Some(Err(why)) => {
                    self.problem(format!("{p}/skillLevel"), why);
                    None
                }
                None => None,
            };
            let category = match self
                .text(a, "skillCategory", &p)
                .map(|c| SkillCategory::parse(&c))
            {
                Some(Ok(category)) => category,
                Some(Err(why)) => {
                    self.problem(format!("{p}/skillCategory"), why);
                    SkillCategory::Other
                }
                None => SkillCategory::Other,
            };
            let target_url = self.text(a, "targetUrl", &p);
            // Every field is checked, whether or not the name is usable.
            let description = self.text(a, "targetDescription", &p);
            let framework = self.text(a, "targetFramework", &p);
            let code = self.id_text(a, "targetCode", &p);
            let target_type = self.text(a, "targetType", &p);
            let Some(name) = name else { continue };
            if !seen.insert(name.as_str().to_lowercase()) {
                self.problem(
                    format!("{p}/targetName"),
                    format!(
                        "the skill {:?} appears twice in this carrier; send each skill once",
                        name.as_str()
                    ),
                );
                continue;
            }
            let mut skill = Skill {
                name,
                description,
                framework,
                code,
                target_type,
                evidence_url: None,
                level,
                category,
                verified: false,
                verified_by: None,
                verified_on: None,
                target_url,
                voucher: issuer_name.clone().or_else(|| issuer_id.clone()),
                vouched_on: verified_on.clone(),
            };
            skill.vouch(verified);
            skills.push(skill);
        }
        skills
    }

    /// A CLR subject that is also a `Profile` names the person (the guide's FAQ).
    fn take_profile_names(&mut self, subject: Option<&Object<'_>>) {
        let Some(subject) = subject else { return };
        let is_profile = match subject.get("type") {
            Some(Node::String(t)) => t == "Profile",
            Some(Node::Array(list)) => list.iter().any(|t| t.as_str() == Some("Profile")),
            _ => false,
        };
        if !is_profile {
            return;
        }
        let fill = |slot: &mut Option<String>, key: &str| {
            if slot.is_none() {
                *slot = subject
                    .get(key)
                    .and_then(Node::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string);
            }
        };
        fill(&mut self.recipient.given_name, "givenName");
        fill(&mut self.recipient.family_name, "familyName");
        fill(&mut self.recipient.additional_name, "additionalName");
        fill(&mut self.recipient.email, "email");
        fill(&mut self.recipient.phone, "phone");
    }

    /// Each identity once per package (the credential count is checked while reading).
    fn check_identity(&mut self) {
        let mut seen: HashMap<&str, &str> = HashMap::new();
        let mut duplicates = Vec::new();
        for record in &self.records {
            if let Some(first) = seen.insert(&record.key, &record.pointer) {
                duplicates.push(Problem::new(
                    record.pointer.clone(),
                    format!(
                        "the same credential (id {:?}) is also at {first}; send each once",
                        record.assertion_id.as_deref().unwrap_or(&record.key)
                    ),
                ));
            }
        }
        for duplicate in duplicates {
            self.problem(duplicate.pointer, duplicate.message);
        }
    }

    fn yields_nothing(&self) -> bool {
        !self
            .records
            .iter()
            .any(|r| r.kind == RecordKind::Credential || !r.skills.is_empty())
    }

    /// A text field: absent, `null` and "" (after trimming) all mean absent; other
    /// non-strings are a problem.
    fn text(&mut self, object: &Object<'_>, key: &str, pointer: &str) -> Option<String> {
        match object.get(key) {
            None | Some(Node::Null) => None,
            Some(Node::String(s)) => Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string),
            Some(other) => {
                self.problem(
                    format!("{pointer}/{key}"),
                    format!("`{key}` must be a string, got {}", other.kind()),
                );
                None
            }
        }
    }

    /// A name: text, or language-tagged text (VCDM 2.0 §11.1: a value object
    /// `{"@value", "@language"}` or a list of them), of which the first value is the name
    /// shown when nothing says which language the reader wants.
    ///
    /// Returns the name and, for language-tagged text, every (language, text) pair as
    /// `language_tagged::encode` stores them.
    fn name_text(
        &mut self,
        object: &Object<'_>,
        key: &str,
        pointer: &str,
    ) -> Option<(String, Option<String>)> {
        let (entries, in_list): (Vec<&Node<'_>>, bool) = match object.get(key) {
            Some(Node::Array(list)) if list.iter().any(|e| e.as_object().is_some()) => {
                (list.iter().collect(), true)
            }
            Some(one @ Node::Object(_)) => (vec![one], false),
            Some(other @ Node::Array(_)) => {
                self.problem(
                    format!("{pointer}/{key}"),
                    format!(
                        "`{key}` must be a string, got {} (language-tagged text, a list of {{\"@value\": text, \"@language\": tag}} objects, is accepted too)",
                        other.kind()
                    ),
                );
                return None;
            }
            _ => return self.text(object, key, pointer).map(|text| (text, None)),
        };
        let mut values: Vec<(String, String)> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let value =
                entry
                    .as_object()
                    .and_then(|o| match (o.get("@value"), o.get("@language")) {
                        (Some(Node::String(value)), Some(Node::String(language)))
                            if o.len() == 2 && !language.is_empty() && !value.trim().is_empty() =>
                        {
                            Some((language.to_string(), value.trim().to_string()))
                        }
                        _ => None,
                    });
            match value {
                Some(value) => values.push(value),
                None => self.problem(
                    if in_list {
                        format!("{pointer}/{key}/{i}")
                    } else {
                        format!("{pointer}/{key}")
                    },
                    format!(
                        "language-tagged text is an object with exactly a non-empty \"@value\" string and an \"@language\" tag; `{key}` must be that, a list of them, or a string, got {}",
                        if entry.as_object().is_some() { "another object".to_string() } else { entry.kind().to_string() }
                    ),
                ),
            }
        }
        let first = values.first()?.1.clone();
        Some((first, Some(language_tagged::encode(&values))))
    }

    /// An id: opaque text; an integer is taken as its decimal text.
    fn id_text(&mut self, object: &Object<'_>, key: &str, pointer: &str) -> Option<String> {
        match object.get(key) {
            Some(Node::Number(n)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
            _ => self.text(object, key, pointer),
        }
    }

    fn problem(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        if self.problems.len() < MAX_LISTED_PROBLEMS {
            self.problems.push(Problem::new(pointer, message));
        } else {
            self.unlisted += 1;
        }
    }

    /// A limit crossed: always listed, since it is why nothing more is read (the package is
    /// refused; what follows goes unread).
    fn limit_crossed(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(pointer, message));
        self.stopped = true;
    }

    fn warn(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Problem::new(pointer, message));
    }
}

/// The subject that carries the achievement (VCDM allows an array of subjects), with its
/// pointer suffix ("" or "/N").
fn primary_subject<'v, 'a>(subject: Option<&'v Node<'a>>) -> Option<(String, &'v Object<'a>)> {
    match subject? {
        Node::Object(s) => Some((String::new(), s)),
        Node::Array(list) => {
            let objects = list
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.as_object().map(|o| (i, o)));
            let mut first = None;
            for (i, object) in objects {
                if object.contains_key("achievement") {
                    return Some((format!("/{i}"), object));
                }
                first.get_or_insert((format!("/{i}"), object));
            }
            first
        }
        _ => None,
    }
}

fn first_proof_created(credential: &Object<'_>) -> Option<String> {
    let proof = credential.get("proof")?;
    let first = match proof {
        Node::Array(list) => list.first()?,
        other => other,
    };
    first.get("created")?.as_str().map(str::to_string)
}

fn is_absent(value: &Node<'_>) -> bool {
    match value {
        Node::Null => true,
        Node::String(s) => s.trim().is_empty(),
        Node::Array(a) => a.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
            "../../tests/fixtures/guide/three-courses.json"
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
