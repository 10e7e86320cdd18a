//! Compact JWS (VC-JWT) parsing: the package reader's decoder (src/domain/jws.rs) and the
//! verifier's VC-JWT check (src/verify/jwt.rs), offline, on any text.
//!
//! Invariants: nothing panics; a JWS the decoder accepts has three parts; when a JWS
//! verifies, the same JWS with one bit of its signature flipped does not.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use credentialconnect::domain::jws;
use credentialconnect::domain::verification::VerificationState;
use credentialconnect::verify::Verifier;
use credentialconnect::verify::jwt;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
});
static VERIFIER: LazyLock<Verifier> = LazyLock::new(Verifier::offline);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = jws::looks_like_compact_jws(text);
    let _ = jwt::time_claims(text);
    let Ok(decoded) = jws::decode(text) else {
        return;
    };
    assert_eq!(text.trim().split('.').count(), 3);
    let Ok(credential) = decoded.credential() else {
        return;
    };
    let report = RUNTIME.block_on(VERIFIER.verify(&credential, Some(text)));
    if report.state != VerificationState::Verified {
        return;
    }
    let (signed, signature) = text.trim().rsplit_once('.').expect("three parts");
    let mut signature = URL_SAFE_NO_PAD.decode(signature).expect("decoded before");
    let last = signature.len() - 1;
    signature[last] ^= 1;
    let forged = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(&signature));
    let report = RUNTIME.block_on(VERIFIER.verify(&credential, Some(&forged)));
    assert_ne!(
        report.state,
        VerificationState::Verified,
        "a JWS with a flipped signature bit verified: {report:?}"
    );
});
