//! Embedded proofs: Data Integrity `DataIntegrityProof` with the `eddsa-rdfc-2022`
//! cryptosuite (and its deprecated name `eddsa-2022`), and `Ed25519Signature2020`. All three
//! sign the same thing (VC DI EdDSA §3.2.3–3.2.6): SHA-256 of the canonical proof options
//! (the proof without `proofValue`, under the document's `@context`) followed by SHA-256 of
//! the canonical document without its proofs, with Ed25519. `DataIntegrityProof` with
//! `ecdsa-sd-2023` (selective disclosure, P-256) has its own module, [`super::ecdsa_sd`].

use super::canonical::{self, CanonicalError};
use super::ecdsa_sd::{DerivedProof, NotDerived};
use super::jsonld::JsonLdError;
use super::keys::{self, KeyError, KeySource, PublicKey, ResolvedKey};
use super::{Check, Outcome, Verifier};
use serde_json::{Map, Value};

/// What one proof came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofResult {
    /// The signature holds under a key the issuer controls.
    Verified,
    /// The proof was checked and does not hold (or is malformed).
    Failed,
    /// The proof could not be checked (unsupported suite, unknown context, unresolvable key,
    /// a key not tied to the issuer).
    Uncheckable,
}

/// The proofs of `proof` (one object or an array).
pub fn proofs(document: &Value) -> Vec<&Map<String, Value>> {
    match document.get("proof") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(one)) => vec![one],
        _ => Vec::new(),
    }
}

/// The document a proof signs: the credential without `proof` (VC DI §4.4 step 1: all
/// proofs of a proof set are removed).
pub fn unsecured(document: &Value) -> Value {
    let mut copy = document.clone();
    if let Some(object) = copy.as_object_mut() {
        object.remove("proof");
    }
    copy
}

/// The proof options a proof signs: the proof without `proofValue`, with the document's
/// `@context` when it has none of its own.
pub fn proof_options(proof: &Map<String, Value>, document: &Value) -> Value {
    let mut options = proof.clone();
    options.remove("proofValue");
    if !options.contains_key("@context")
        && let Some(context) = document.get("@context")
    {
        options.insert("@context".into(), context.clone());
    }
    Value::Object(options)
}

/// The 64 bytes signed: SHA-256(canonical proof options) ‖ SHA-256(canonical document).
pub fn hash_data(
    verifier: &Verifier,
    proof: &Map<String, Value>,
    document: &Value,
) -> Result<[u8; 64], CanonicalError> {
    let options =
        canonical::canonical_nquads(verifier.processor(), &proof_options(proof, document))?;
    let unsecured = canonical::canonical_nquads(verifier.processor(), &unsecured(document))?;
    let mut data = [0u8; 64];
    data[..32].copy_from_slice(&canonical::hash(&options));
    data[32..].copy_from_slice(&canonical::hash(&unsecured));
    Ok(data)
}

/// Decodes a `z…` base58btc proofValue into an Ed25519 signature.
pub fn signature(proof_value: &str) -> Result<ed25519_dalek::Signature, String> {
    let Some(encoded) = proof_value.strip_prefix('z') else {
        return Err("proofValue is not base58btc multibase (it must start with 'z')".into());
    };
    let bytes = bs58::decode(encoded)
        .into_vec()
        .map_err(|e| format!("proofValue is not base58btc: {e}"))?;
    let array: [u8; 64] = bytes.as_slice().try_into().map_err(|_| {
        format!(
            "an Ed25519 signature has 64 bytes; proofValue has {}",
            bytes.len()
        )
    })?;
    Ok(ed25519_dalek::Signature::from_bytes(&array))
}

/// Checks every embedded proof, appending checks; returns the proofs' combined result, or
/// `None` when there is no proof.
pub async fn verify(
    verifier: &Verifier,
    document: &Value,
    issuer: Option<&str>,
    checks: &mut Vec<Check>,
) -> Option<ProofResult> {
    let list = proofs(document);
    if list.is_empty() {
        return None;
    }
    let several = list.len() > 1;
    let mut results = Vec::new();
    let first_check = checks.len();
    for (i, proof) in list.into_iter().enumerate() {
        let label = if several {
            format!("proof[{i}]")
        } else {
            "proof".to_string()
        };
        let mut own = Vec::new();
        let result = verify_one(verifier, document, proof, issuer, &label, &mut own).await;
        checks.extend(own);
        results.push(result);
    }
    let combined = if results.contains(&ProofResult::Failed) {
        ProofResult::Failed
    } else if results.contains(&ProofResult::Verified) {
        // One proof that holds under the issuer's key covers the whole credential; another
        // proof we cannot check adds nothing and takes nothing away.
        for check in &mut checks[first_check..] {
            if check.outcome == Outcome::Uncheckable {
                check.outcome = Outcome::Skipped;
                check
                    .detail
                    .push_str(" (not needed: another proof verified)");
            }
        }
        ProofResult::Verified
    } else {
        ProofResult::Uncheckable
    };
    Some(combined)
}

async fn verify_one(
    verifier: &Verifier,
    document: &Value,
    proof: &Map<String, Value>,
    issuer: Option<&str>,
    label: &str,
    checks: &mut Vec<Check>,
) -> ProofResult {
    let text = |key: &str| proof.get(key).and_then(Value::as_str);
    let proof_type = text("type").unwrap_or("");
    let suite = match (proof_type, text("cryptosuite")) {
        (
            "DataIntegrityProof",
            Some(suite @ ("eddsa-rdfc-2022" | "eddsa-2022" | "ecdsa-sd-2023")),
        ) => suite.to_string(),
        ("Ed25519Signature2020", _) => "Ed25519Signature2020".to_string(),
        ("DataIntegrityProof", Some(other)) => {
            return uncheckable(
                checks,
                label,
                "suite",
                format!(
                    "the cryptosuite {other:?} is not supported (eddsa-rdfc-2022, eddsa-2022 and ecdsa-sd-2023 are)"
                ),
            );
        }
        ("DataIntegrityProof", None) => {
            return failed(
                checks,
                label,
                "suite",
                "a DataIntegrityProof must name its cryptosuite",
            );
        }
        ("", _) => return failed(checks, label, "suite", "the proof has no type"),
        (other, _) => {
            return uncheckable(
                checks,
                label,
                "suite",
                format!(
                    "the proof type {other:?} is not supported (DataIntegrityProof with eddsa-rdfc-2022, and Ed25519Signature2020 are)"
                ),
            );
        }
    };
    let described = match suite.as_str() {
        "Ed25519Signature2020" => suite.clone(),
        "eddsa-2022" => format!("{proof_type} eddsa-2022 (the deprecated name of eddsa-rdfc-2022)"),
        _ => format!("{proof_type} {suite}"),
    };
    checks.push(Check::passed(label, "suite", described));

    let Some(proof_value) = text("proofValue") else {
        return uncheckable(
            checks,
            label,
            "proofValue",
            "the proof has no proofValue (an illustrative proof, not a signature)",
        );
    };
    let signed = if suite == "ecdsa-sd-2023" {
        match DerivedProof::parse(proof_value) {
            Ok(derived) => Signed::Derived(Box::new(derived)),
            Err(NotDerived::Base) => {
                return uncheckable(
                    checks,
                    label,
                    "proofValue",
                    "an ecdsa-sd-2023 base proof: it is addressed to the holder, who derives from it the proof a verifier checks",
                );
            }
            Err(NotDerived::Malformed(why)) => return failed(checks, label, "proofValue", why),
        }
    } else {
        // A proofValue that is not even an encoded signature cannot be checked: the partner
        // guide's examples carry such illustrative proofs, which are `attested` (verified by
        // the partner).
        match signature(proof_value) {
            Ok(signature) => Signed::Ed25519(signature),
            Err(why) => {
                return uncheckable(
                    checks,
                    label,
                    "proofValue",
                    format!("{why}: an illustrative or malformed proof, not a checkable signature"),
                );
            }
        }
    };
    let purpose = text("proofPurpose").unwrap_or("");
    if purpose != "assertionMethod" {
        return failed(
            checks,
            label,
            "proofPurpose",
            format!("a credential's proof must have proofPurpose assertionMethod, not {purpose:?}"),
        );
    }
    let method = match proof.get("verificationMethod") {
        Some(Value::String(m)) => m.as_str(),
        Some(Value::Object(m)) => m.get("id").and_then(Value::as_str).unwrap_or(""),
        _ => "",
    };
    if method.is_empty() {
        return failed(
            checks,
            label,
            "verificationMethod",
            "the proof names no verificationMethod",
        );
    }
    if let Some(expires) = text("expires")
        && let Ok(at) = chrono::DateTime::parse_from_rfc3339(expires)
        && at < verifier.now()
    {
        return failed(
            checks,
            label,
            "expires",
            format!("the proof expired at {expires}"),
        );
    }

    let data = match &signed {
        Signed::Ed25519(_) => hash_data(verifier, proof, document).map(Data::Ed25519),
        Signed::Derived(derived) => derived
            .verify_data(verifier, proof, document)
            .map(Data::Derived),
    };
    let data = match data {
        Ok(data) => data,
        Err(CanonicalError::JsonLd(
            error @ (JsonLdError::UnknownContext(_) | JsonLdError::Unsupported(_)),
        )) => {
            return uncheckable(checks, label, "canonicalization", error.to_string());
        }
        Err(error @ CanonicalError::OverBudget(_)) => {
            return uncheckable(checks, label, "canonicalization", error.to_string());
        }
        Err(error) => return failed(checks, label, "canonicalization", error.to_string()),
    };
    checks.push(Check::passed(
        label,
        "canonicalization",
        "RDFC-1.0 canonical N-Quads of the document and proof options (bundled contexts only)",
    ));

    let key = match keys::resolve_or_fragment(verifier.fetcher(), method, "assertionMethod").await {
        Ok(key) => key,
        Err(KeyError::Unresolvable(why)) => return uncheckable(checks, label, "key", why),
        Err(KeyError::Invalid(why)) => return failed(checks, label, "key", why),
    };
    let held = match (&signed, &data, &key.key) {
        (Signed::Ed25519(signature), Data::Ed25519(data), PublicKey::Ed25519(public)) => {
            push_key(checks, label, &key);
            public
                .verify_strict(data, signature)
                .map(|()| "Ed25519 signature holds".to_string())
                .map_err(|_| {
                    "the signature does not match: the credential was changed after signing, or signed with another key".to_string()
                })
        }
        (Signed::Derived(derived), Data::Derived(data), PublicKey::P256(public)) => {
            push_key(checks, label, &key);
            derived.check(data, public).map(|()| {
                "P-256 signatures hold: the issuer's over the proof and the statements every holder shows, the holder's one-time key's over each disclosed statement".to_string()
            })
        }
        _ => {
            let needs = if suite == "ecdsa-sd-2023" {
                "a P-256"
            } else {
                "an Ed25519"
            };
            return failed(
                checks,
                label,
                "key",
                format!(
                    "{suite} needs {needs} key; {} is {}",
                    key.id,
                    key.key.algorithm()
                ),
            );
        }
    };
    match held {
        Ok(detail) => checks.push(Check::passed(label, "signature", detail)),
        Err(why) => return failed(checks, label, "signature", why),
    }
    bind_to_issuer(checks, label, &key, issuer)
}

/// A proof value, decoded for its suite.
enum Signed {
    Ed25519(ed25519_dalek::Signature),
    Derived(Box<DerivedProof>),
}

/// What the proof's signatures are over, for its suite.
enum Data {
    Ed25519([u8; 64]),
    Derived(super::ecdsa_sd::VerifyData),
}

fn push_key(checks: &mut Vec<Check>, label: &str, key: &ResolvedKey) {
    checks.push(Check::passed(
        label,
        "key",
        format!("{} from {}", key.id, key.source.describe()),
    ));
}

/// The key's controller must be the credential's issuer: a signature only says something
/// about the issuer if the issuer controls the key.
pub fn bind_to_issuer(
    checks: &mut Vec<Check>,
    label: &str,
    key: &ResolvedKey,
    issuer: Option<&str>,
) -> ProofResult {
    let key_id = &key.id;
    let Some(issuer) = issuer else {
        return failed(
            checks,
            label,
            "issuer",
            "the credential has no issuer, so no key can speak for it",
        );
    };
    match key.controller.as_deref() {
        Some(controller) if controller == issuer => {
            checks.push(Check::passed(
                label,
                "issuer",
                format!("the key is controlled by the issuer {issuer}"),
            ));
            ProofResult::Verified
        }
        Some(controller) => uncheckable(
            checks,
            label,
            "issuer",
            format!(
                "the signature holds, but the key {key_id} is controlled by {controller}, not by the issuer {issuer}: nothing ties the key to the issuer"
            ),
        ),
        None => {
            let why = match &key.source {
                KeySource::Fragment { unresolved } => format!(
                    ": the key is only named in the verification method's URL, and the document that would list it could not be read ({unresolved})"
                ),
                KeySource::JwkHeader { untied } => {
                    format!(": the key is only the one the JWS header shows, and {untied}")
                }
                _ => String::new(),
            };
            uncheckable(
                checks,
                label,
                "issuer",
                format!(
                    "the signature holds, but nothing ties the key {key_id} to the issuer {issuer}{why}"
                ),
            )
        }
    }
}

pub fn failed(
    checks: &mut Vec<Check>,
    label: &str,
    what: &str,
    detail: impl Into<String>,
) -> ProofResult {
    checks.push(Check::new(label, what, Outcome::Failed, detail));
    ProofResult::Failed
}

pub fn uncheckable(
    checks: &mut Vec<Check>,
    label: &str,
    what: &str,
    detail: impl Into<String>,
) -> ProofResult {
    checks.push(Check::new(label, what, Outcome::Uncheckable, detail));
    ProofResult::Uncheckable
}
