//! Verifying credentials (the states are described for partners in docs/partner-api.md,
//! "Verification"): embedded Data Integrity proofs and VC-JWT signatures, the key's tie to the
//! issuer, validity dates and revocation. A [`Verifier`] turns one credential into a [`Report`]:
//! every check made with its outcome, and the resulting state (`none`, `verified`, `failed`,
//! `attested`).
//!
//! The only I/O is the SSRF-safe [`fetch`] client (DID documents, key documents, status
//! lists); JSON-LD contexts are never fetched.

pub mod budget;
pub mod canonical;
pub mod contexts;
pub mod data_integrity;
pub mod ecdsa_sd;
pub mod fetch;
pub mod input;
pub mod jsonld;
pub mod jwt;
pub mod keys;
pub mod status;

use crate::clock::Clock;
use crate::domain::verification::VerificationState;
use chrono::{DateTime, Utc};
use contexts::Contexts;
use data_integrity::ProofResult;
use fetch::{FetchConfig, Fetcher};
use jsonld::Processor;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Passed,
    Failed,
    /// Could not be checked (the state becomes `attested` at best).
    Uncheckable,
    /// Not needed or not applicable.
    Skipped,
}

/// One check: what was checked (`proof signature`, `validUntil`, …), how it came out, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub check: String,
    pub outcome: Outcome,
    pub detail: String,
}

impl Check {
    pub fn new(scope: &str, what: &str, outcome: Outcome, detail: impl Into<String>) -> Check {
        let check = if scope.is_empty() {
            what.to_string()
        } else {
            format!("{scope} {what}")
        };
        Check {
            check,
            outcome,
            detail: detail.into(),
        }
    }

    pub fn passed(scope: &str, what: &str, detail: impl Into<String>) -> Check {
        Check::new(scope, what, Outcome::Passed, detail)
    }
}

/// The verification of one credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub state: VerificationState,
    /// Why the state is what it is: the decisive checks' details.
    pub reasons: Vec<String>,
    pub checks: Vec<Check>,
}

impl Report {
    /// One line for storage and alerts.
    pub fn reason(&self) -> String {
        self.reasons.join("; ")
    }

    /// What `Verifier::verify` answers for a credential with no JWS and no `proof` member:
    /// callers that can tell so without a parsed document skip the verifier with this.
    pub fn no_proof() -> Report {
        Report {
            state: VerificationState::None,
            reasons: vec!["no proof".into()],
            checks: Vec::new(),
        }
    }
}

pub struct Verifier {
    contexts: Arc<Contexts>,
    processor: Processor,
    fetcher: Fetcher,
    clock: Clock,
}

impl Verifier {
    pub fn new(contexts: Arc<Contexts>, fetch: FetchConfig, clock: Clock) -> Verifier {
        Verifier {
            processor: Processor::new(Arc::clone(&contexts) as Arc<dyn jsonld::ContextSource>),
            contexts,
            fetcher: Fetcher::new(fetch),
            clock,
        }
    }

    /// A verifier with the bundled contexts and no network (tests, benchmarks, offline CLI).
    pub fn offline() -> Verifier {
        Verifier::new(
            Arc::new(Contexts::bundled()),
            FetchConfig::offline(),
            Clock::default(),
        )
    }

    pub fn contexts(&self) -> &Contexts {
        &self.contexts
    }

    pub fn processor(&self) -> &Processor {
        &self.processor
    }

    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.clock.now_ms()).unwrap_or_default()
    }

    /// Verifies one credential: `document` is the credential JSON (for a VC-JWT, the
    /// credential it carries) and `jws` the compact JWS it arrived as, if any. Nested CLR
    /// credentials are not entered: each is verified as a credential of its own.
    pub async fn verify(&self, document: &Value, jws: Option<&str>) -> Report {
        self.verify_depth(document, jws, 0).await
    }

    async fn verify_depth(&self, document: &Value, jws: Option<&str>, depth: usize) -> Report {
        let mut checks = Vec::new();
        let issuer = issuer_id(document);
        let credential_id = document.get("id").and_then(Value::as_str);
        let mut proof: Option<ProofResult> = None;
        if let Some(jws) = jws {
            proof =
                Some(jwt::verify(self, jws, issuer.as_deref(), credential_id, &mut checks).await);
        }
        if let Some(embedded) =
            data_integrity::verify(self, document, issuer.as_deref(), &mut checks).await
        {
            proof = Some(match (proof, embedded) {
                (Some(ProofResult::Failed), _) | (_, ProofResult::Failed) => ProofResult::Failed,
                (Some(ProofResult::Verified), _) | (_, ProofResult::Verified) => {
                    ProofResult::Verified
                }
                _ => ProofResult::Uncheckable,
            });
        }
        let Some(proof) = proof else {
            return Report {
                checks,
                ..Report::no_proof()
            };
        };
        self.check_validity(document, jws, &mut checks);
        if depth == 0 {
            self.check_status(document, credential_id, &mut checks)
                .await;
        }
        settle(proof, checks)
    }

    /// `validFrom`/`validUntil` (VCDM 2.0), `issuanceDate`/`expirationDate` (VCDM 1.1), and a
    /// JWT's `nbf`/`exp`.
    fn check_validity(&self, document: &Value, jws: Option<&str>, checks: &mut Vec<Check>) {
        let now = self.now();
        let from = ["validFrom", "issuanceDate"]
            .into_iter()
            .find_map(|f| document.get(f).and_then(Value::as_str).map(|v| (f, v)));
        let until = ["validUntil", "expirationDate"]
            .into_iter()
            .find_map(|f| document.get(f).and_then(Value::as_str).map(|v| (f, v)));
        match from {
            None => checks.push(Check::new("", "validFrom", Outcome::Skipped, "absent")),
            Some((field, text)) => match DateTime::parse_from_rfc3339(text) {
                Err(_) => checks.push(Check::new("", field, Outcome::Uncheckable, format!("{field} {text:?} is not an RFC 3339 date-time, so validity cannot be checked"))),
                Ok(at) if at > now => checks.push(Check::new("", field, Outcome::Failed, format!("not valid yet: {field} is {text}"))),
                Ok(_) => checks.push(Check::passed("", field, format!("{text} is in the past"))),
            },
        }
        match until {
            None => checks.push(Check::new(
                "",
                "validUntil",
                Outcome::Skipped,
                "absent: does not expire",
            )),
            Some((field, text)) => match DateTime::parse_from_rfc3339(text) {
                Err(_) => checks.push(Check::new(
                    "",
                    field,
                    Outcome::Uncheckable,
                    format!(
                        "{field} {text:?} is not an RFC 3339 date-time, so expiry cannot be checked"
                    ),
                )),
                Ok(at) if at <= now => checks.push(Check::new(
                    "",
                    field,
                    Outcome::Failed,
                    format!("expired: {field} was {text}"),
                )),
                Ok(_) => checks.push(Check::passed("", field, format!("{text} is in the future"))),
            },
        }
        if let Some(jws) = jws {
            let (nbf, exp) = jwt::time_claims(jws);
            let seconds = now.timestamp();
            if let Some(nbf) = nbf {
                let outcome = if nbf > seconds {
                    Outcome::Failed
                } else {
                    Outcome::Passed
                };
                checks.push(Check::new(
                    "VC-JWT",
                    "nbf",
                    outcome,
                    format!(
                        "not before {}",
                        crate::clock::rfc3339(nbf.saturating_mul(1000))
                    ),
                ));
            }
            if let Some(exp) = exp {
                let outcome = if exp <= seconds {
                    Outcome::Failed
                } else {
                    Outcome::Passed
                };
                checks.push(Check::new(
                    "VC-JWT",
                    "exp",
                    outcome,
                    format!(
                        "expires {}",
                        crate::clock::rfc3339(exp.saturating_mul(1000))
                    ),
                ));
            }
        }
    }

    async fn check_status(
        &self,
        document: &Value,
        credential_id: Option<&str>,
        checks: &mut Vec<Check>,
    ) {
        let entries: Vec<&Value> = match document.get("credentialStatus") {
            None | Some(Value::Null) => {
                checks.push(Check::new(
                    "",
                    "credentialStatus",
                    Outcome::Skipped,
                    "absent: the issuer publishes no revocation status",
                ));
                return;
            }
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one) => vec![one],
        };
        for entry in entries {
            let (outcome, list) = status::check(&self.fetcher, entry, credential_id).await;
            let (outcome, mut detail) = match outcome {
                status::StatusOutcome::Clear(d) => (Outcome::Passed, d),
                status::StatusOutcome::Revoked(d) => (Outcome::Failed, d),
                status::StatusOutcome::Unknown(d) => (
                    Outcome::Uncheckable,
                    format!("revocation could not be ruled out: {d}"),
                ),
                status::StatusOutcome::Invalid(d) => (Outcome::Failed, d),
            };
            let mut outcome = outcome;
            // A status list only counts if its issuer signed it.
            if let Some(list) = list
                && outcome == Outcome::Passed
            {
                let report = Box::pin(self.verify_depth(&list, None, 1)).await;
                if report.state != VerificationState::Verified {
                    outcome = Outcome::Uncheckable;
                    detail = format!(
                        "the status list credential is {}: {}",
                        report.state,
                        report.reason()
                    );
                } else if issuer_id(&list) != issuer_id(document) {
                    outcome = Outcome::Uncheckable;
                    detail =
                        "the status list was issued by someone other than the credential's issuer"
                            .into();
                }
            }
            checks.push(Check::new("", "credentialStatus", outcome, detail));
        }
    }
}

/// The proofs' result and the other checks → the state and its reasons.
fn settle(proof: ProofResult, checks: Vec<Check>) -> Report {
    let details = |outcome: Outcome| -> Vec<String> {
        checks
            .iter()
            .filter(|c| c.outcome == outcome)
            .map(|c| format!("{}: {}", c.check, c.detail))
            .collect()
    };
    let failed = details(Outcome::Failed);
    let (state, reasons) = if !failed.is_empty() {
        (VerificationState::Failed, failed)
    } else if proof != ProofResult::Verified {
        (VerificationState::Attested, details(Outcome::Uncheckable))
    } else {
        let uncheckable = details(Outcome::Uncheckable);
        if uncheckable.is_empty() {
            let signature = checks
                .iter()
                .find(|c| c.check.ends_with("issuer") && c.outcome == Outcome::Passed)
                .map(|c| c.detail.clone())
                .unwrap_or_default();
            (
                VerificationState::Verified,
                vec![format!(
                    "signature verified; {signature}; not expired, not revoked"
                )],
            )
        } else {
            (VerificationState::Attested, uncheckable)
        }
    };
    Report {
        state,
        reasons,
        checks,
    }
}

/// `issuer` as a string or an object's `id`.
pub fn issuer_id(document: &Value) -> Option<String> {
    match document.get("issuer")? {
        Value::String(id) => Some(id.clone()),
        Value::Object(issuer) => issuer.get("id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// One credential of a file, verified.
#[derive(Debug, Clone, Serialize)]
pub struct UnitReport {
    /// Where it sits in the file ("" for the file's own credential).
    pub pointer: String,
    pub id: Option<String>,
    /// "VC-JWT" or "JSON-LD".
    pub format: &'static str,
    #[serde(flatten)]
    pub report: Report,
}

/// A whole file: the worst state of its credentials (a CLR is only as good as its parts).
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub state: VerificationState,
    pub reasons: Vec<String>,
    pub credentials: Vec<UnitReport>,
}

impl Verifier {
    /// Verifies every credential of a file (see [`input::read`]).
    pub async fn verify_units(&self, units: &[input::Unit]) -> FileReport {
        let mut credentials = Vec::with_capacity(units.len());
        for unit in units {
            let report = self.verify(&unit.document, unit.jws.as_deref()).await;
            credentials.push(UnitReport {
                pointer: unit.pointer.clone(),
                id: unit
                    .document
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                format: if unit.jws.is_some() {
                    "VC-JWT"
                } else {
                    "JSON-LD"
                },
                report,
            });
        }
        let rank = |s: VerificationState| match s {
            VerificationState::Failed => 0,
            VerificationState::Attested => 1,
            VerificationState::None => 2,
            VerificationState::Verified => 3,
        };
        let worst = credentials
            .iter()
            .map(|c| c.report.state)
            .min_by_key(|s| rank(*s))
            .unwrap_or(VerificationState::None);
        let reasons = credentials
            .iter()
            .filter(|c| c.report.state == worst)
            .flat_map(|c| {
                c.report.reasons.iter().map(move |r| {
                    if c.pointer.is_empty() {
                        r.clone()
                    } else {
                        format!("{}: {r}", c.pointer)
                    }
                })
            })
            .collect();
        FileReport {
            state: worst,
            reasons,
            credentials,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn a_credential_without_a_proof_member_or_a_jws_is_reported_as_no_proof_does() {
        // Uploads skip the verifier for such credentials and record `Report::no_proof()`.
        let credential = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "urn:uuid:1", "type": ["VerifiableCredential"], "issuer": {"id": "did:example:1"},
            "validFrom": "2020-01-01T00:00:00Z", "validUntil": "2021-01-01T00:00:00Z",
            "credentialStatus": {"type": "BitstringStatusListEntry"},
            "credentialSubject": {"id": "did:example:2"}
        });
        let report = Verifier::offline().verify(&credential, None).await;
        assert_eq!(report, Report::no_proof());
    }
}
