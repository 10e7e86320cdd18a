//! The walk through a package body: the envelope, the recipient, each credential (nested
//! ones in a CLR included), and the problems and warnings met on the way.

use super::*;
use crate::domain::json_tree::{Body, Node, Object};

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

pub(super) struct Reader<'a> {
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
/// Where a credential's primary subject and its achievement are, with their pointers.
struct Subject<'v, 'a> {
    subject: Option<&'v Object<'a>>,
    /// The subject's pointer, when there is one.
    pointer: Option<String>,
    achievement: Option<&'v Object<'a>>,
    /// The achievement's pointer ("" when there is no subject).
    achievement_pointer: String,
}

impl<'v, 'a> Subject<'v, 'a> {
    fn of(credential: &'v Object<'a>, pointer: &str) -> Self {
        let (subject_pointer, subject) = match primary_subject(credential.get("credentialSubject"))
        {
            Some((suffix, s)) => (
                Some(format!("{pointer}/credentialSubject{suffix}")),
                Some(s),
            ),
            None => (None, None),
        };
        let achievement = subject.and_then(|s| s.get("achievement").and_then(Node::as_object));
        let achievement_pointer = subject_pointer
            .as_ref()
            .map(|p| format!("{p}/achievement"))
            .unwrap_or_default();
        Subject {
            subject,
            pointer: subject_pointer,
            achievement,
            achievement_pointer,
        }
    }

    /// Where the achievementType is, or would go: the deepest level that exists.
    fn type_pointer(&self, credential_pointer: &str) -> String {
        match (self.achievement, &self.pointer) {
            (Some(_), _) => format!("{}/achievementType", self.achievement_pointer),
            (None, Some(sp)) => format!("{sp}/achievement"),
            (None, None) => format!("{credential_pointer}/credentialSubject"),
        }
    }
}

/// What a credential says about itself (`Reader::describe`).
struct Described {
    name: Option<String>,
    name_languages: Option<String>,
    description: Option<String>,
    achievement_id: Option<String>,
    achievement_type: Option<String>,
    recipient_id: Option<String>,
}

/// More alignments than the limit: reading stops.
struct LimitCrossed;

/// What proof a credential came with.
fn proof_carried(credential: &Object<'_>, jws: Option<&str>) -> ProofCarried {
    if jws.is_some() {
        ProofCarried::Jws
    } else if credential.get("proof").is_some_and(|p| !is_absent(p)) {
        ProofCarried::Embedded
    } else {
        ProofCarried::None
    }
}

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
        let at = Subject::of(credential, pointer);
        let described = self.describe(credential, pointer, &at);
        let key = self.identity(
            pointer,
            &assertion_id,
            described.achievement_id.as_deref(),
            &at.achievement_pointer,
            at.achievement.is_some(),
        );
        let (awarded, valid_until) = self.dates(credential, pointer);
        let Ok(alignments) = self.alignments(&at) else {
            return;
        };
        // A placeholder until the verifier has checked the proof (`Package::settle`).
        let verification =
            verification::unchecked(proof_carried(credential, jws), self.rules.strict);
        let is_carrier = described
            .achievement_type
            .as_deref()
            .is_some_and(sections::is_skill_carrier);
        let nested_entries = if is_clr {
            self.nested_entries(&at)
        } else {
            Vec::new()
        };
        if is_clr {
            self.take_profile_names(at.subject);
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
        let section = match kind {
            RecordKind::Credential => Some(self.section(
                described.achievement_type.as_deref(),
                &at.type_pointer(pointer),
            )),
            _ => None,
        };
        let skills = if is_carrier {
            self.skills(
                alignments,
                &at.achievement_pointer,
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
            && let (Some(key), Some(name), Some(issuer_id)) =
                (key.clone(), described.name, issuer_id)
        {
            let (document, fingerprint) = self.document_of(value, jws);
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
                name_languages: described.name_languages,
                description: described.description,
                issuer_id,
                issuer_name,
                achievement_id: described.achievement_id,
                achievement_type: described.achievement_type,
                section,
                awarded,
                valid_until,
                recipient_id: described.recipient_id,
                verification,
                skills,
            });
        }
        let subject_pointer = at.pointer.unwrap_or_default();
        for (i, entry) in nested_entries.into_iter().enumerate() {
            if self.stopped {
                break;
            }
            let nested_pointer = format!("{subject_pointer}/verifiableCredential/{i}");
            self.read_entry(&nested_pointer, entry, key.as_deref());
        }
    }

    /// What a credential says about itself: its name (or its achievement's), description,
    /// achievement id and type, and whom it is about. Each text is checked, in this order.
    fn describe(
        &mut self,
        credential: &Object<'_>,
        pointer: &str,
        at: &Subject<'_, '_>,
    ) -> Described {
        let ap = at.achievement_pointer.as_str();
        let achievement = at.achievement;
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
        let subject_id = at.subject.and_then(|s| {
            let sp = at.pointer.as_deref().unwrap_or("");
            self.id_text(s, "id", sp)
        });
        Described {
            name,
            name_languages,
            description,
            achievement_id,
            achievement_type,
            recipient_id: self.recipient.id.clone().or(subject_id),
        }
    }

    /// (awarded, valid until): every date field is checked, then the first one given is used.
    fn dates(
        &mut self,
        credential: &Object<'_>,
        pointer: &str,
    ) -> (Option<DateText>, Option<DateText>) {
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
        (awarded, valid_until)
    }

    /// The achievement's alignments, or `Err` when there are more than the limit (reading
    /// stops: the package is refused).
    fn alignments<'v, 'a>(
        &mut self,
        at: &Subject<'v, 'a>,
    ) -> Result<Option<&'v Node<'a>>, LimitCrossed> {
        let alignments = at.achievement.and_then(|a| a.get("alignment"));
        if let Some(Node::Array(list)) = alignments
            && list.len() > self.limits.max_alignments
        {
            self.limit_crossed(
                format!("{}/alignment", at.achievement_pointer),
                format!(
                    "at most {} alignments per credential; this one has {}",
                    self.limits.max_alignments,
                    list.len()
                ),
            );
            return Err(LimitCrossed);
        }
        Ok(alignments)
    }

    /// The credentials a CLR's subject carries (`verifiableCredential`).
    fn nested_entries<'v, 'a>(&mut self, at: &Subject<'v, 'a>) -> Vec<&'v Node<'a>> {
        match at.subject.and_then(|s| s.get("verifiableCredential")) {
            None | Some(Node::Null) => Vec::new(),
            Some(Node::Array(list)) => list.iter().collect(),
            Some(other) => {
                self.problem(
                    format!(
                        "{}/verifiableCredential",
                        at.pointer.as_deref().unwrap_or("")
                    ),
                    format!(
                        "`verifiableCredential` must be an array, got {}",
                        other.kind()
                    ),
                );
                Vec::new()
            }
        }
    }

    /// The text stored for a record and its fingerprint. A package with a problem is
    /// refused whole: its records' texts are not needed then.
    fn document_of(&mut self, value: &Node<'_>, jws: Option<&str>) -> (Document, String) {
        if !self.problems.is_empty() {
            return (Document::Text(String::new()), String::new());
        }
        let document = if self.kept && !self.in_jws {
            Document::InBody
        } else {
            self.scratch.clear();
            value.write_compact(&mut self.scratch);
            Document::Text(self.scratch.clone())
        };
        (document, fingerprint_of(value, jws, &mut self.scratch))
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
    pub(super) fn text(&mut self, object: &Object<'_>, key: &str, pointer: &str) -> Option<String> {
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
    pub(super) fn id_text(
        &mut self,
        object: &Object<'_>,
        key: &str,
        pointer: &str,
    ) -> Option<String> {
        match object.get(key) {
            Some(Node::Number(n)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
            _ => self.text(object, key, pointer),
        }
    }

    pub(super) fn problem(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
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

    pub(super) fn warn(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
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

fn is_absent(value: &Node<'_>) -> bool {
    match value {
        Node::Null => true,
        Node::String(s) => s.trim().is_empty(),
        Node::Array(a) => a.is_empty(),
        _ => false,
    }
}
