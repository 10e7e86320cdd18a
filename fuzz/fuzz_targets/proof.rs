//! Embedded proofs: the verifier (src/verify/: Data Integrity proofs, JSON-LD expansion and
//! canonicalisation, key decoding from did:key, did:jwk and JWKs, status entries), offline,
//! on any JSON document.
//!
//! Invariants: nothing panics; when a document verifies, the same document with its `name`
//! changed (or given one) does not.
#![no_main]

use credentialconnect::domain::verification::VerificationState;
use credentialconnect::verify::{Verifier, data_integrity, keys};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::LazyLock;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
});
static VERIFIER: LazyLock<Verifier> = LazyLock::new(Verifier::offline);

fuzz_target!(|data: &[u8]| {
    let Ok(document) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    // The key decoders on whatever the document holds.
    let _ = keys::key_of_method(&document);
    let _ = keys::from_jwk(&document);
    if let Some(text) = document.as_str() {
        let _ = keys::multikey(text);
        let _ = keys::did_web_url(text);
    }
    for proof in data_integrity::proofs(&document) {
        if let Some(Value::String(value)) = proof.get("proofValue") {
            let _ = data_integrity::signature(value);
        }
    }
    let report = RUNTIME.block_on(VERIFIER.verify(&document, None));
    if report.state != VerificationState::Verified {
        return;
    }
    let mut tampered = document.clone();
    let name = match tampered.get("name") {
        Some(Value::String(name)) => format!("{name} (changed)"),
        _ => "changed".to_string(),
    };
    tampered["name"] = Value::String(name);
    let report = RUNTIME.block_on(VERIFIER.verify(&tampered, None));
    assert_ne!(
        report.state,
        VerificationState::Verified,
        "a document verified after its name changed: {report:?}"
    );
});
