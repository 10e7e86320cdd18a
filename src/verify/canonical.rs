//! JSON-LD document → canonical N-Quads (RDF Dataset Canonicalization, RDFC-1.0) → SHA-256:
//! the "transformation" and "hashing" steps shared by `eddsa-rdfc-2022`, the legacy
//! `eddsa-2022` name and `Ed25519Signature2020` (VC Data Integrity EdDSA §3.2.3–3.2.4).
//!
//! Expansion to quads is ours (`jsonld`); canonicalization is the `rdf-canon` crate's, with
//! a cap on its n-degree hashing so a crafted "poison" graph cannot occupy a core.

use super::budget::{OverBudget, WorkBudget};
use super::jsonld::{JsonLdError, Processor, Quad, RdfTerm};
use oxrdf::{BlankNode, GraphName, Literal, NamedNode, Subject, Term};
use rdf_canon::{CanonicalizationError, CanonicalizationOptions, canonicalize_quads_with};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Calls of the n-degree hash algorithm allowed per document; credentials need a handful.
const HNDQ_CALL_LIMIT: usize = 4_000;

/// Calls a document may make before it draws on its package's budget
/// (`budget::PACKAGE_HASHING_STEPS`): ordinary credentials need none or a few.
const HNDQ_CALLS_FREE: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error(transparent)]
    JsonLd(#[from] JsonLdError),
    #[error("RDF canonicalization failed: {0}")]
    Canonicalization(String),
    /// The request's share of the work is spent: the proof is not checked (not failed).
    #[error(transparent)]
    OverBudget(#[from] OverBudget),
}

/// The canonical N-Quads of a JSON-LD document, charged to the budget in force
/// ([`WorkBudget::scope`]) when there is one.
pub fn canonical_nquads(processor: &Processor, document: &Value) -> Result<String, CanonicalError> {
    let Some(budget) = WorkBudget::current() else {
        return canonicalize(&processor.to_quads(document)?);
    };
    // Refused before expanding too: expansion is work.
    budget.has_statements_left()?;
    let quads = processor.to_quads(document)?;
    budget.charge_document(quads.len())?;
    let quads: Vec<oxrdf::Quad> = quads.iter().map(to_oxrdf).collect();
    match canonicalize_limited(&quads, HNDQ_CALLS_FREE) {
        Err(Limited::HashingSteps) => {}
        other => return other.map_err(Limited::into_error),
    }
    let granted = budget.grant_hashing_steps(HNDQ_CALL_LIMIT);
    if granted == 0 {
        return Err(budget.hashing_spent().into());
    }
    canonicalize_limited(&quads, granted).map_err(|limited| match limited {
        Limited::HashingSteps if granted < HNDQ_CALL_LIMIT => budget.hashing_spent().into(),
        other => other.into_error(),
    })
}

/// Canonicalizes quads produced by the expander.
pub fn canonicalize(quads: &[Quad]) -> Result<String, CanonicalError> {
    let quads: Vec<oxrdf::Quad> = quads.iter().map(to_oxrdf).collect();
    canonicalize_limited(&quads, HNDQ_CALL_LIMIT).map_err(Limited::into_error)
}

enum Limited {
    /// More n-degree hash calls were needed than allowed.
    HashingSteps,
    Other(String),
}

impl Limited {
    fn into_error(self) -> CanonicalError {
        CanonicalError::Canonicalization(match self {
            Limited::HashingSteps => {
                CanonicalizationError::HndqCallLimitExceeded(HNDQ_CALL_LIMIT).to_string()
            }
            Limited::Other(why) => why,
        })
    }
}

fn canonicalize_limited(quads: &[oxrdf::Quad], hndq_calls: usize) -> Result<String, Limited> {
    let options = CanonicalizationOptions {
        hndq_call_limit: Some(hndq_calls),
    };
    canonicalize_quads_with::<Sha256>(quads, &options).map_err(|e| match e {
        CanonicalizationError::HndqCallLimitExceeded(_) => Limited::HashingSteps,
        other => Limited::Other(other.to_string()),
    })
}

/// SHA-256 of the canonical form.
pub fn hash(canonical: &str) -> [u8; 32] {
    Sha256::digest(canonical.as_bytes()).into()
}

fn to_oxrdf(quad: &Quad) -> oxrdf::Quad {
    let subject: Subject = match &quad.subject {
        RdfTerm::Iri(iri) => NamedNode::new_unchecked(iri.clone()).into(),
        RdfTerm::Blank(name) => BlankNode::new_unchecked(name.clone()).into(),
        // The expander never makes a literal subject.
        RdfTerm::Literal { value, .. } => NamedNode::new_unchecked(value.clone()).into(),
    };
    let object: Term = match &quad.object {
        RdfTerm::Iri(iri) => NamedNode::new_unchecked(iri.clone()).into(),
        RdfTerm::Blank(name) => BlankNode::new_unchecked(name.clone()).into(),
        RdfTerm::Literal {
            value,
            datatype,
            language,
        } => match language {
            Some(language) => {
                Literal::new_language_tagged_literal_unchecked(value.clone(), language.clone())
                    .into()
            }
            None => Literal::new_typed_literal(
                value.clone(),
                NamedNode::new_unchecked(datatype.clone()),
            )
            .into(),
        },
    };
    let graph = match &quad.graph {
        None => GraphName::DefaultGraph,
        Some(RdfTerm::Blank(name)) => BlankNode::new_unchecked(name.clone()).into(),
        Some(RdfTerm::Iri(iri)) | Some(RdfTerm::Literal { value: iri, .. }) => {
            NamedNode::new_unchecked(iri.clone()).into()
        }
    };
    oxrdf::Quad::new(
        subject,
        NamedNode::new_unchecked(quad.predicate.clone()),
        object,
        graph,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::contexts::Contexts;
    use std::sync::Arc;

    fn fixture(path: &str) -> String {
        let full = format!(
            "{}/tests/fixtures/standards/examples/{path}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
    }

    fn check_vector(signed: &str, canon_dir: &str) {
        let processor = Processor::new(Arc::new(Contexts::bundled()));
        let mut document: Value = serde_json::from_str(&fixture(signed)).expect("json");
        let mut proof = document
            .as_object_mut()
            .and_then(|o| o.remove("proof"))
            .expect("proof");
        let ours = canonical_nquads(&processor, &document).expect("canonicalizes");
        assert_eq!(
            ours,
            fixture(&format!(
                "signed/test-vectors/{canon_dir}/document-canon.txt"
            ))
        );
        if let Value::Array(mut list) = proof {
            proof = list.remove(0);
        }
        proof.as_object_mut().expect("object").remove("proofValue");
        proof["@context"] = document["@context"].clone();
        let ours = canonical_nquads(&processor, &proof).expect("canonicalizes");
        assert_eq!(
            ours,
            fixture(&format!("signed/test-vectors/{canon_dir}/proof-canon.txt"))
        );
    }

    #[test]
    fn ob_test_vector_canonicalizes_to_the_published_n_quads() {
        check_vector("signed/ob30-ldp-test-vector-signed.json", "obv3p0");
    }

    #[test]
    fn clr_test_vector_canonicalizes_to_the_published_n_quads() {
        check_vector("signed/clr20-ldp-test-vector-signed.json", "clrv2p0");
    }
}
