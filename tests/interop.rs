//! Credentials from other issuers' software (`tests/fixtures/interop/`, minted by the
//! scripts there): Digital Bazaar's @digitalbazaar/vc stack (eddsa-rdfc-2022 and
//! Ed25519Signature2020, did:key and did:web, a CLR 2.0 with nested proofs, non-ASCII text,
//! a language-tagged name), did-jwt-vc (the VCDM 1.1 JWT layout, a did:jwk issuer without
//! kid) and jwcrypto (EdDSA, ES256, RS256 under did:jwk, VCDM 1.1 and 2.0). Each verifies,
//! through the verifier, `credentialconnect verify` and an upload; a copy with one
//! character changed fails everywhere, with no document published at all.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::issuer::did_key;
use common::{TestApp, fixture, fixture_json, fixtures};
use credentialconnect::domain::verification::VerificationState;
use credentialconnect::verify::{Outcome, Verifier, input};
use ed25519_dalek::Signer as _;
use serde_json::{Value, json};
use std::process::Command;

const DID_WEB_DOCUMENT_URL: &str = "https://issuer.interop.example/.well-known/did.json";

/// Every minted credential file.
fn minted() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(fixtures().join("interop"))
        .expect("interop fixtures")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| {
            (name.ends_with(".json") || name.ends_with(".jwt"))
                && !name.starts_with("package")
                && name != "did-web-issuer.json"
        })
        .collect();
    files.sort();
    files
}

fn bytes(file: &str) -> Vec<u8> {
    fixture(&format!("interop/{file}"))
}

/// Changes one character of the first name found (`vc`'s, else the payload's, for a JWT).
fn change_one_character(value: &mut Value) -> bool {
    for pointer in [
        "/name",
        "/name/0/@value",
        "/credentialSubject/achievement/name",
    ] {
        if let Some(Value::String(name)) = value.pointer_mut(pointer) {
            let first = name.chars().next().unwrap_or('x');
            let replacement = if first == 'X' { 'Y' } else { 'X' };
            name.replace_range(..first.len_utf8(), &replacement.to_string());
            return true;
        }
    }
    false
}

/// The file with one character of a name changed (a JWT keeps its signature).
fn changed(file: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes(file)).expect("text");
    if file.ends_with(".jwt") {
        let parts: Vec<&str> = text.trim().split('.').collect();
        let mut payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        let done = change_one_character(&mut payload)
            || payload.get_mut("vc").is_some_and(change_one_character);
        assert!(done, "{file}: a name to change");
        format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            parts[2]
        )
        .into_bytes()
    } else {
        let mut document: Value = serde_json::from_str(&text).expect("json");
        assert!(change_one_character(&mut document), "{file}");
        document.to_string().into_bytes()
    }
}

fn publishing_verifier() -> Verifier {
    let verifier = Verifier::offline();
    verifier
        .fetcher()
        .seed(DID_WEB_DOCUMENT_URL, bytes("did-web-issuer.json"));
    verifier
}

#[tokio::test]
async fn every_minted_credential_verifies_and_a_changed_copy_fails_with_nothing_published() {
    let files = minted();
    assert_eq!(files.len(), 12, "{files:?}");
    let verifier = publishing_verifier();
    let bare = Verifier::offline();
    for file in &files {
        let units = input::read(&bytes(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let report = verifier.verify_units(&units).await;
        assert_eq!(
            report.state,
            VerificationState::Verified,
            "{file}: {:?}",
            report.reasons
        );
        let units = input::read(&changed(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let reports = if file.contains("did-web") {
            // did:web:…#key-1 names no key in the proof: without the DID document the
            // signature cannot be checked at all.
            let report = bare.verify_units(&units).await;
            assert_eq!(report.state, VerificationState::Attested, "{file}");
            vec![verifier.verify_units(&units).await]
        } else {
            vec![
                bare.verify_units(&units).await,
                verifier.verify_units(&units).await,
            ]
        };
        for report in reports {
            assert_eq!(
                report.state,
                VerificationState::Failed,
                "{file}: {:?}",
                report.reasons
            );
            assert!(
                report.credentials.iter().any(|c| c
                    .report
                    .checks
                    .iter()
                    .any(|k| k.check.ends_with("signature") && k.outcome == Outcome::Failed)),
                "{file}: {:?}",
                report.reasons
            );
        }
    }
}

#[tokio::test]
async fn did_jwt_vc_claims_are_read_back_into_the_credential() {
    let units = input::read(&bytes("did-jwt-vc-eddsa-did-key.jwt")).expect("reads");
    let credential = &units[0].document;
    // did-jwt-vc left none of these in `vc`.
    assert_eq!(
        credential["id"],
        "urn:uuid:5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
    );
    assert!(
        credential["issuer"]
            .as_str()
            .is_some_and(|i| i.starts_with("did:key:z6Mk"))
    );
    assert_eq!(credential["issuanceDate"], "2024-09-02T08:30:00Z");
    assert_eq!(
        credential["credentialSubject"]["id"],
        "did:example:ebfeb1f712ebc6f1c276e12ec21"
    );
    assert_eq!(
        credential["name"],
        "Sécurité au travail — habilitation électrique"
    );
}

#[tokio::test]
async fn a_jwt_without_kid_whose_iss_is_a_did_jwk_is_checked_with_that_key() {
    let file = "did-jwt-vc-es256-did-jwk-no-kid.jwt";
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(
                String::from_utf8(bytes(file))
                    .expect("text")
                    .split('.')
                    .next()
                    .expect("header"),
            )
            .expect("b64"),
    )
    .expect("json");
    assert!(header.get("kid").is_none() && header.get("jwk").is_none());
    let verifier = Verifier::offline();
    let report = verifier
        .verify_units(&input::read(&bytes(file)).expect("reads"))
        .await;
    assert_eq!(report.state, VerificationState::Verified, "{:?}", report);
    let report = verifier
        .verify_units(&input::read(&changed(file)).expect("reads"))
        .await;
    assert_eq!(report.state, VerificationState::Failed, "{:?}", report);
}

/// The did:key issuer of mint.mjs (seed 11) signs a did-jwt-vc-style JWT whose claims say
/// one thing and whose `vc` another.
fn contradicting_jwt() -> String {
    let key = ed25519_dalek::SigningKey::from_bytes(&[11u8; 32]);
    let did = did_key(&key);
    let minted = String::from_utf8(bytes("did-jwt-vc-eddsa-did-key.jwt")).expect("text");
    let payload_b64 = minted.split('.').nth(1).expect("payload");
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload_b64).expect("b64")).expect("json");
    assert_eq!(payload["iss"], did, "mint.mjs signs with the seed-11 key");
    payload["vc"]["id"] = json!("urn:uuid:someone-elses-credential");
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "EdDSA", "typ": "JWT"}).to_string());
    let signed = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload.to_string()));
    let signature = key.sign(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// Runs `credentialconnect verify` with no network; returns (exit ok, stdout and stderr).
fn cli(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_credentialconnect"))
        .arg("verify")
        .args(args)
        .env("CC_VERIFY_NETWORK", "0")
        .env_remove("CC_DATABASE_URL")
        .output()
        .expect("run the binary");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

#[test]
fn the_cli_verifies_every_minted_credential_and_fails_each_changed_copy() {
    let dir = tempfile::tempdir().expect("dir");
    let document = format!(
        "{DID_WEB_DOCUMENT_URL}={}",
        fixtures().join("interop/did-web-issuer.json").display()
    );
    for file in minted() {
        let path = fixtures().join("interop").join(&file).display().to_string();
        let (ok, out) = cli(&["--offline", "--document", &document, &path]);
        assert!(ok && out.contains("state: verified"), "{file}: {out}");
        let copy = dir.path().join(&file);
        std::fs::write(&copy, changed(&file)).expect("write");
        let copy = copy.display().to_string();
        // No document at all, except for the did:web issuer whose key only its document holds.
        let args: Vec<&str> = if file.contains("did-web") {
            vec!["--offline", "--document", &document, &copy]
        } else {
            vec!["--offline", &copy]
        };
        let (ok, out) = cli(&args);
        assert!(!ok && out.contains("state: failed"), "{file}: {out}");
    }
    let contradicting = dir.path().join("contradicting.jwt");
    std::fs::write(&contradicting, contradicting_jwt()).expect("write");
    let (ok, out) = cli(&["--offline", &contradicting.display().to_string()]);
    assert!(!ok && out.contains("contradicts"), "{out}");
}

async fn upload_file(app: &TestApp, token: &str, body: Vec<u8>, jwt: bool) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/api/v1/credentials"))
        .bearer_auth(token)
        .header(
            "content-type",
            if jwt {
                "text/plain"
            } else {
                "application/json"
            },
        )
        .body(body)
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

fn states(receipt: &Value) -> Vec<String> {
    receipt["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .map(|c| c["verification"].as_str().expect("state").to_string())
        .collect()
}

on_both_engines!(
    every_minted_credential_uploads_verified_and_a_changed_copy_uploads_failed,
    |app: TestApp| async move {
        app.app
            .verifier
            .fetcher()
            .seed(DID_WEB_DOCUMENT_URL, bytes("did-web-issuer.json"));
        let partner = app.partner("issuer").await;
        let token = app.token(&partner, None).await;
        for file in minted() {
            let jwt = file.ends_with(".jwt");
            let (status, receipt) = upload_file(&app, &token, bytes(&file), jwt).await;
            assert_eq!(status, 200, "{file}: {receipt}");
            assert!(
                states(&receipt).iter().all(|s| s == "verified"),
                "{file}: {receipt}"
            );
        }
        let alerts_before = app.open_alerts().await.len();
        for file in minted() {
            let jwt = file.ends_with(".jwt");
            let (status, receipt) = upload_file(&app, &token, changed(&file), jwt).await;
            assert_eq!(status, 200, "{file}: {receipt}");
            assert!(
                states(&receipt).iter().all(|s| s == "failed"),
                "{file}: {receipt}"
            );
            assert!(
                receipt["warnings"]
                    .to_string()
                    .contains("signature does not match"),
                "{file}: {receipt}"
            );
        }
        let alerts = app.open_alerts().await;
        assert!(
            alerts
                .iter()
                .filter(|a| a.kind == "verification_failed")
                .count()
                > alerts_before,
            "{alerts:?}"
        );
        let verified = app
            .app
            .store
            .read(|conn| {
                conn.query_one(
                    "SELECT COUNT(*) FROM credentials WHERE verification = 'verified'",
                    &[],
                )?
                .int(0)
            })
            .await
            .expect("count");
        assert_eq!(verified, 0, "every changed copy replaced a verified one");
    }
);

on_both_engines!(
    a_did_jwt_vc_credential_is_stored_as_its_claims_say_and_a_contradicting_one_is_refused,
    |app: TestApp| async move {
        let partner = app.partner("issuer").await;
        let token = app.token(&partner, None).await;
        let (status, receipt) =
            upload_file(&app, &token, bytes("did-jwt-vc-eddsa-did-key.jwt"), true).await;
        assert_eq!(status, 200, "{receipt}");
        assert_eq!(
            receipt["credentials"][0]["id"],
            "urn:uuid:5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
        );
        let page = app
            .client
            .get(receipt["redirectUrl"].as_str().expect("url"))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(
            page.contains("Sécurité au travail — habilitation électrique"),
            "{page}"
        );
        assert!(page.contains("signature verified"), "{page}");

        let before = app.snapshot().await;
        let (status, body) =
            upload_file(&app, &token, contradicting_jwt().into_bytes(), true).await;
        assert_eq!(status, 400, "{body}");
        let message = body["errors"][0]["message"].as_str().expect("message");
        assert!(
            message.contains("jti") && message.contains("contradicts"),
            "{message}"
        );
        assert_eq!(app.snapshot().await, before, "nothing stored");
    }
);

on_both_engines!(
    a_language_tagged_name_is_accepted_and_shown,
    |app: TestApp| async move {
        let partner = app.partner("issuer").await;
        let token = app.token(&partner, None).await;
        let (status, receipt) = upload_file(
            &app,
            &token,
            bytes("eddsa-rdfc-2022-language-tagged-name.json"),
            false,
        )
        .await;
        assert_eq!(status, 200, "{receipt}");
        assert_eq!(states(&receipt), ["verified"]);
        let link = receipt["redirectUrl"].as_str().expect("url");
        // In the reader's language when the credential has it, else the first given.
        for (accept, shown, not_shown) in [
            (None, "Soudage avancé", "Advanced welding"),
            (Some("de-DE,de;q=0.9"), "Soudage avancé", "Advanced welding"),
            (Some("en-US,en;q=0.9"), "Advanced welding", "Soudage avancé"),
            (
                Some("de, fr-CA;q=0.8, en;q=0.5"),
                "Soudage avancé",
                "Advanced welding",
            ),
        ] {
            let mut request = app.client.get(link);
            if let Some(accept) = accept {
                request = request.header("accept-language", accept);
            }
            let page = request
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("html");
            assert!(page.contains(shown), "{accept:?}: {page}");
            assert!(!page.contains(not_shown), "{accept:?}: {page}");
        }
    }
);

#[test]
fn the_minted_fixtures_name_their_sources() {
    let sources = String::from_utf8(fixture("interop/SOURCES.tsv")).expect("text");
    for file in minted() {
        assert!(
            sources.lines().any(|l| l.starts_with(&format!("{file}\t"))),
            "{file}"
        );
    }
    // The JWTs' layout is what the issue names: did-jwt-vc moved the credential's parts out.
    let text = String::from_utf8(bytes("did-jwt-vc-eddsa-did-key.jwt")).expect("text");
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(text.split('.').nth(1).expect("payload"))
            .expect("b64"),
    )
    .expect("json");
    for moved in ["issuer", "id", "issuanceDate"] {
        assert!(payload["vc"].get(moved).is_none(), "{moved}");
    }
    assert!(payload["vc"]["credentialSubject"].get("id").is_none());
    let _ = fixture_json("interop/did-web-issuer.json");
}
