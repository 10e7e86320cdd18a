//! Verifications per second on one core for the official OB 3.0 eddsa-rdfc-2022 test
//! vector, and where the time goes: JSON-LD expansion to quads, RDFC-1.0 canonicalization,
//! hashing, the Ed25519 check — next to a bare Ed25519 verification. The issuer's
//! controller document is seeded (no network). Run with `scripts/bench/verification.sh`,
//! which pins one core and runs the JavaScript verifier on the same input.

use credentialconnect::verify::Verifier;
use credentialconnect::verify::canonical;
use credentialconnect::verify::data_integrity;
use serde_json::Value;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Runs `f` repeatedly for about `budget`; returns nanoseconds per call.
fn time<T>(budget: Duration, mut f: impl FnMut() -> T) -> f64 {
    for _ in 0..50 {
        black_box(f());
    }
    let started = Instant::now();
    let mut n: u64 = 0;
    while started.elapsed() < budget {
        for _ in 0..20 {
            black_box(f());
        }
        n += 20;
    }
    started.elapsed().as_nanos() as f64 / n as f64
}

fn main() {
    let seconds: f64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3.0);
    let budget = Duration::from_secs_f64(seconds);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let verifier = Verifier::offline();
    let published: Value =
        serde_json::from_str(&fixture("verification/published.json")).expect("json");
    for (url, document) in published.as_object().expect("map") {
        verifier.fetcher().seed(url, document.to_string());
    }
    let credential: Value = serde_json::from_str(&fixture(
        "standards/examples/signed/ob30-ldp-test-vector-signed.json",
    ))
    .expect("json");
    let report = runtime.block_on(verifier.verify(&credential, None));
    assert_eq!(report.state.as_str(), "verified", "{:?}", report.reasons);

    // The whole verification, as an upload runs it (key lookup from the cache, dates, status).
    let full = time(budget, || {
        runtime.block_on(verifier.verify(&credential, None))
    });

    // The steps, on the same input.
    let proof = data_integrity::proofs(&credential)[0].clone();
    let unsecured = data_integrity::unsecured(&credential);
    let options = data_integrity::proof_options(&proof, &credential);
    let processor = verifier.processor();
    let expansion = time(budget / 3, || {
        (
            processor.to_quads(&unsecured).expect("quads"),
            processor.to_quads(&options).expect("quads"),
        )
    });
    let document_quads = processor.to_quads(&unsecured).expect("quads");
    let options_quads = processor.to_quads(&options).expect("quads");
    let canonicalization = time(budget / 3, || {
        (
            canonical::canonicalize(&document_quads).expect("canon"),
            canonical::canonicalize(&options_quads).expect("canon"),
        )
    });
    let document_canon = canonical::canonicalize(&document_quads).expect("canon");
    let options_canon = canonical::canonicalize(&options_quads).expect("canon");
    let hashing = time(budget / 3, || {
        (
            canonical::hash(&options_canon),
            canonical::hash(&document_canon),
        )
    });
    let data = data_integrity::hash_data(&verifier, &proof, &credential).expect("hash data");
    let signature =
        data_integrity::signature(proof["proofValue"].as_str().expect("value")).expect("sig");
    let key = match credentialconnect::verify::keys::multikey(
        "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
    )
    .expect("key")
    {
        credentialconnect::verify::keys::PublicKey::Ed25519(key) => key,
        _ => unreachable!("an Ed25519 multikey"),
    };
    let signature_check = time(budget / 3, || key.verify_strict(&data, &signature).is_ok());
    // A bare Ed25519 verification of a short message, for scale.
    let bare = time(budget / 3, || {
        key.verify_strict(b"bare", &signature).is_ok()
    });

    let steps = expansion + canonicalization + hashing + signature_check;
    let other = (full - steps).max(0.0);
    let percent = |ns: f64| 100.0 * ns / full;
    println!(
        "{}",
        serde_json::json!({
            "vector": "signed/ob30-ldp-test-vector-signed.json",
            "per_second": 1e9 / full,
            "micros_per_verification": full / 1e3,
            "split_micros": {
                "jsonld_expansion_to_quads": expansion / 1e3,
                "rdfc_canonicalization": canonicalization / 1e3,
                "sha256": hashing / 1e3,
                "ed25519_check": signature_check / 1e3,
                "other (JSON copies, key lookup, dates, status)": other / 1e3,
            },
            "bare_ed25519_micros": bare / 1e3,
        })
    );
    eprintln!(
        "full verification   {:>9.1} µs  ({:>8.0}/s)",
        full / 1e3,
        1e9 / full
    );
    eprintln!(
        "  JSON-LD expansion {:>9.1} µs  {:>5.1}%",
        expansion / 1e3,
        percent(expansion)
    );
    eprintln!(
        "  canonicalization  {:>9.1} µs  {:>5.1}%",
        canonicalization / 1e3,
        percent(canonicalization)
    );
    eprintln!(
        "  SHA-256           {:>9.1} µs  {:>5.1}%",
        hashing / 1e3,
        percent(hashing)
    );
    eprintln!(
        "  Ed25519 check     {:>9.1} µs  {:>5.1}%",
        signature_check / 1e3,
        percent(signature_check)
    );
    eprintln!(
        "  other             {:>9.1} µs  {:>5.1}%",
        other / 1e3,
        percent(other)
    );
    eprintln!("bare Ed25519 verify {:>9.1} µs", bare / 1e3);
}
