//! Credentials we sign here with keys made for the test, so every key method and JOSE
//! algorithm is exercised on both sides of the line: did:key and did:jwk issuers whose
//! proofs verify, VC-JWTs with EdDSA and ES256, and the refusals (`alg: none`, a private
//! `jwk`, a mismatched `iss`, a tampered payload).

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::issuer::{credential, did_key, ed25519_key, sign};
use credentialconnect::domain::verification::VerificationState;
use credentialconnect::verify::{Report, Verifier};
use ed25519_dalek::Signer as _;
use serde_json::{Value, json};

fn assert_state(report: &Report, state: VerificationState) {
    assert_eq!(
        report.state, state,
        "{:?}\n{:#?}",
        report.reasons, report.checks
    );
}

#[tokio::test]
async fn a_did_key_issuer_signing_with_its_own_key_is_verified() {
    let verifier = Verifier::offline();
    let did = did_key(&ed25519_key());
    let fragment = did.trim_start_matches("did:key:").to_string();
    let signed = sign(&verifier, credential(&did), &format!("{did}#{fragment}"));
    assert_state(
        &verifier.verify(&signed, None).await,
        VerificationState::Verified,
    );

    // The same key, but the credential claims another issuer: the key is not theirs.
    let claimed = sign(
        &verifier,
        credential("https://university.example/issuer"),
        &format!("{did}#{fragment}"),
    );
    let report = verifier.verify(&claimed, None).await;
    assert_state(&report, VerificationState::Attested);
    assert!(
        report.reason().contains("not by the issuer"),
        "{}",
        report.reason()
    );
}

#[tokio::test]
async fn a_did_web_issuer_is_verified_through_its_published_document() {
    let verifier = Verifier::offline();
    let did = "did:web:university.example";
    let mut multikey = vec![0xed, 0x01];
    multikey.extend_from_slice(ed25519_key().verifying_key().as_bytes());
    let multikey = format!("z{}", bs58::encode(multikey).into_string());
    verifier.fetcher().seed(
        "https://university.example/.well-known/did.json",
        json!({"id": did, "verificationMethod": [{"id": format!("{did}#key-1"), "type": "Multikey", "controller": did, "publicKeyMultibase": multikey}],
               "assertionMethod": ["#key-1"]}).to_string(),
    );
    let signed = sign(&verifier, credential(did), &format!("{did}#key-1"));
    assert_state(
        &verifier.verify(&signed, None).await,
        VerificationState::Verified,
    );
    // A key the document does not list under assertionMethod.
    let other = sign(&verifier, credential(did), &format!("{did}#key-2"));
    let report = verifier.verify(&other, None).await;
    assert_state(&report, VerificationState::Failed);
    assert!(
        report.reason().contains("no verification method"),
        "{}",
        report.reason()
    );
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn jwt(header: Value, payload: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let signed = format!("{}.{}", b64(&header), b64(payload));
    let signature = sign(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn p256_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[9u8; 32]).expect("a P-256 key")
}

fn p256_did_jwk() -> String {
    let point = p256_key().verifying_key().to_encoded_point(false);
    let jwk = json!({
        "kty": "EC", "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
        "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
    });
    format!("did:jwk:{}", b64(&jwk))
}

async fn verify_jwt(verifier: &Verifier, token: &str) -> Report {
    let decoded = credentialconnect::domain::jws::decode(token).expect("decodes");
    verifier
        .verify(&decoded.credential().expect("credential"), Some(token))
        .await
}

#[tokio::test]
async fn vc_jwts_with_eddsa_and_es256_keys_from_did_key_and_did_jwk_verify() {
    let verifier = Verifier::offline();
    let did = did_key(&ed25519_key());
    let fragment = did.trim_start_matches("did:key:").to_string();
    let payload = json!({"iss": did, "vc": credential(&did)});
    let eddsa = jwt(
        json!({"alg": "EdDSA", "kid": format!("{did}#{fragment}")}),
        &payload,
        |m| ed25519_key().sign(m).to_bytes().to_vec(),
    );
    assert_state(
        &verify_jwt(&verifier, &eddsa).await,
        VerificationState::Verified,
    );

    let did = p256_did_jwk();
    let payload = json!({"iss": did, "vc": credential(&did)});
    let es256 = jwt(
        json!({"alg": "ES256", "kid": format!("{did}#0")}),
        &payload,
        |m| {
            let signature: p256::ecdsa::Signature =
                p256::ecdsa::signature::Signer::sign(&p256_key(), m);
            signature.to_bytes().to_vec()
        },
    );
    assert_state(
        &verify_jwt(&verifier, &es256).await,
        VerificationState::Verified,
    );

    // A jwk header is tied to the issuer only when the issuer is that key's did:jwk.
    let point = p256_key().verifying_key().to_encoded_point(false);
    let header_jwk = json!({"kty": "EC", "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
        "y": URL_SAFE_NO_PAD.encode(point.y().expect("y"))});
    let sign_p256 = |m: &[u8]| {
        let signature: p256::ecdsa::Signature =
            p256::ecdsa::signature::Signer::sign(&p256_key(), m);
        signature.to_bytes().to_vec()
    };
    let own = jwt(
        json!({"alg": "ES256", "jwk": header_jwk}),
        &payload,
        sign_p256,
    );
    assert_state(
        &verify_jwt(&verifier, &own).await,
        VerificationState::Verified,
    );
    let someone = json!({"iss": "https://university.example/issuer", "vc": credential("https://university.example/issuer")});
    let unbound = jwt(
        json!({"alg": "ES256", "jwk": header_jwk}),
        &someone,
        sign_p256,
    );
    assert_state(
        &verify_jwt(&verifier, &unbound).await,
        VerificationState::Attested,
    );

    // One character of the payload's name changed, the signature kept.
    let mut tampered_payload = payload.clone();
    tampered_payload["vc"]["name"] = "Teamwork Badgf".into();
    let parts: Vec<&str> = es256.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], b64(&tampered_payload), parts[2]);
    let report = verify_jwt(&verifier, &tampered).await;
    assert_state(&report, VerificationState::Failed);
    assert!(
        report.reason().contains("signature does not match"),
        "{}",
        report.reason()
    );
}

#[tokio::test]
async fn unsigned_private_and_mismatched_jwts_fail() {
    let verifier = Verifier::offline();
    let did = did_key(&ed25519_key());
    let payload = json!({"iss": did, "vc": credential(&did)});

    let none = format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&payload));
    let report = verify_jwt(&verifier, &format!("{none}AA")).await;
    assert_state(&report, VerificationState::Failed);
    assert!(
        report.reason().contains("never accepted"),
        "{}",
        report.reason()
    );

    let private = json!({"kty": "OKP", "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(ed25519_key().verifying_key().as_bytes()),
        "d": URL_SAFE_NO_PAD.encode(ed25519_key().to_bytes())});
    let leaked = jwt(json!({"alg": "EdDSA", "jwk": private}), &payload, |m| {
        ed25519_key().sign(m).to_bytes().to_vec()
    });
    let report = verify_jwt(&verifier, &leaked).await;
    assert_state(&report, VerificationState::Failed);
    assert!(
        report.reason().contains("private key"),
        "{}",
        report.reason()
    );

    let fragment = did.trim_start_matches("did:key:").to_string();
    let wrong_iss = json!({"iss": "did:example:someone-else", "vc": credential(&did)});
    let mismatched = jwt(
        json!({"alg": "EdDSA", "kid": format!("{did}#{fragment}")}),
        &wrong_iss,
        |m| ed25519_key().sign(m).to_bytes().to_vec(),
    );
    // Reading the JWT refuses a claim that contradicts its vc …
    let decoded = credentialconnect::domain::jws::decode(&mismatched).expect("decodes");
    let refused = decoded.credential().expect_err("contradicts");
    assert!(refused.contains("iss"), "{refused}");
    // … and the verifier, handed the vc as it stands, fails it.
    let report = verifier.verify(&credential(&did), Some(&mismatched)).await;
    assert_state(&report, VerificationState::Failed);
    assert!(report.reason().contains("iss"), "{}", report.reason());

    // The key is right but the JWS says another algorithm.
    let confused = jwt(
        json!({"alg": "ES256", "kid": format!("{did}#{fragment}")}),
        &payload,
        |m| ed25519_key().sign(m).to_bytes().to_vec(),
    );
    assert_state(
        &verify_jwt(&verifier, &confused).await,
        VerificationState::Failed,
    );
}
