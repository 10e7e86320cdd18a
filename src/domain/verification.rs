//! Verification states of an imported credential (docs/partner-api.md, "Verification") and the
//! rules that pick one: the partner's `strict` setting applied to the verifier's outcome, and the
//! placeholder state of a proof not yet checked. Cryptographic checking is the verifier's job
//! (`crate::verify`); this module only names the outcomes.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VerificationState {
    /// No proof.
    None,
    /// The proof was checked cryptographically and holds.
    Verified,
    /// The proof was checked and does not hold; never shown as verified.
    Failed,
    /// A proof is present but could not be checked: shown as verified by the partner.
    Attested,
}

impl VerificationState {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationState::None => "none",
            VerificationState::Verified => "verified",
            VerificationState::Failed => "failed",
            VerificationState::Attested => "attested",
        }
    }

    pub fn parse(s: &str) -> Option<VerificationState> {
        [
            VerificationState::None,
            VerificationState::Verified,
            VerificationState::Failed,
            VerificationState::Attested,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }

    /// Whether skills carried under this state count as verified (SkillSync).
    pub fn vouches(self) -> bool {
        matches!(
            self,
            VerificationState::Verified | VerificationState::Attested
        )
    }
}

impl fmt::Display for VerificationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub state: VerificationState,
    pub reason: String,
}

/// What a credential carried that could prove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofCarried {
    None,
    /// An embedded `proof` (Data Integrity, Ed25519Signature2020, ...).
    Embedded,
    /// The credential arrived as a compact JWS (VC-JWT).
    Jws,
}

/// The stored outcome for the verifier's `state` and `reason`: a `strict` partner's proof
/// that could not be checked is `failed`, not `attested`.
pub fn decide(state: VerificationState, reason: String, strict: bool) -> Verification {
    if strict && state == VerificationState::Attested {
        Verification {
            state: VerificationState::Failed,
            reason: format!(
                "{reason} (the proof could not be checked, and this partner is strict)"
            ),
        }
    } else {
        Verification { state, reason }
    }
}

/// The state for a proof that has not been checked cryptographically. Without a proof the
/// state is `none`; with one, the guide's rule makes it `attested`, except for a `strict`
/// partner, for whom an unchecked proof is `failed`.
pub fn unchecked(proof: ProofCarried, strict: bool) -> Verification {
    let what = match proof {
        ProofCarried::None => {
            return Verification {
                state: VerificationState::None,
                reason: "no proof".into(),
            };
        }
        ProofCarried::Embedded => "an embedded proof",
        ProofCarried::Jws => "a VC-JWT signature",
    };
    if strict {
        Verification {
            state: VerificationState::Failed,
            reason: format!("{what} is present but was not checked, and this partner is strict"),
        }
    } else {
        Verification {
            state: VerificationState::Attested,
            reason: format!("{what} is present but was not checked; vouched for by the partner"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proof_is_none() {
        assert_eq!(
            unchecked(ProofCarried::None, true).state,
            VerificationState::None
        );
    }

    #[test]
    fn unchecked_proof_is_attested_or_failed_for_strict_partners() {
        assert_eq!(
            unchecked(ProofCarried::Embedded, false).state,
            VerificationState::Attested
        );
        assert_eq!(
            unchecked(ProofCarried::Jws, true).state,
            VerificationState::Failed
        );
    }

    #[test]
    fn strict_partners_turn_attested_into_failed_and_nothing_else() {
        let attested = decide(VerificationState::Attested, "key unresolvable".into(), true);
        assert_eq!(attested.state, VerificationState::Failed);
        assert!(attested.reason.starts_with("key unresolvable"));
        for state in [
            VerificationState::Verified,
            VerificationState::None,
            VerificationState::Failed,
        ] {
            assert_eq!(decide(state, String::new(), true).state, state);
        }
        assert_eq!(
            decide(VerificationState::Attested, String::new(), false).state,
            VerificationState::Attested
        );
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for s in ["none", "verified", "failed", "attested"] {
            assert_eq!(VerificationState::parse(s).map(|v| v.as_str()), Some(s));
        }
    }
}
