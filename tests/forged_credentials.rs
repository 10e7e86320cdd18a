//! Credentials changed so that the signed data stays the same while what a reader sees does
//! not, end to end: through `credentialconnect verify` and through an upload. Neither may
//! ever be `verified`; the upload stores nothing as verified and raises an alert.
//!
//! - **Swapped subject**: the official OB 3.0 vector with `credentialSubject` given
//!   `"id": "did:example:mallory"` before the signed `"@id"`. JSON-LD keeps the later of two
//!   aliases of `@id`, so the signed data is unchanged, while the JSON names Mallory.
//! - **Language-tag injection**: a language tag holding a newline ends the N-Quads line and
//!   writes a statement of its own, so a credential with a `name` hidden inside the tag of
//!   its `description` canonicalizes like the signed credential that has both.

mod common;

use common::issuer::{credential, did_key, ed25519_key, sign};
use common::{TestApp, fixture_json};
use credentialconnect::verify::Verifier;
use credentialconnect::verify::canonical::canonical_nquads;
use serde_json::{Map, Value, json};
use std::process::Command;

/// The official vector with Mallory's id in front of the signed subject id.
fn swapped_subject() -> Value {
    let mut vector = fixture_json("standards/examples/signed/ob30-ldp-test-vector-signed.json");
    let subject = vector["credentialSubject"]
        .as_object()
        .expect("subject")
        .clone();
    let mut swapped = Map::new();
    swapped.insert("id".into(), json!("did:example:mallory"));
    swapped.insert("@id".into(), subject["id"].clone());
    for (key, value) in subject {
        if key != "id" {
            swapped.insert(key, value);
        }
    }
    vector["credentialSubject"] = Value::Object(swapped);
    vector
}

const SUBJECT: &str = "did:example:ebfeb1f712ebc6f1c276e12ec21";
const VOCAB: &str = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#";

/// A credential signed by a did:key issuer whose subject has a language-tagged
/// `licenseNumber` and `role`, and the forgery: no `role`, the role's statement inside the
/// language tag of `licenseNumber`. Returns (signed, forged).
fn language_tag_injection() -> (Value, Value) {
    let verifier = Verifier::offline();
    let did = did_key(&ed25519_key());
    let mut unsigned = credential(&did);
    let subject = &mut unsigned["credentialSubject"];
    assert_eq!(subject["id"], SUBJECT);
    subject["licenseNumber"] = json!({"@value": "l-1", "@language": "en"});
    subject["role"] = json!({"@value": "admin", "@language": "en"});
    let signed = sign(
        &verifier,
        unsigned,
        &format!("{did}#{}", &did["did:key:".len()..]),
    );

    // The premise: in the signed data the two statements are adjacent N-Quads lines, so
    // one literal whose tag ends its line and writes the next reads the same (all lower
    // case, since tags are lower-cased).
    let mut unsecured = signed.clone();
    unsecured.as_object_mut().expect("object").remove("proof");
    let nquads = canonical_nquads(verifier.processor(), &unsecured).expect("canonical");
    let injected_tag = format!("en .\n<{SUBJECT}> <{VOCAB}role> \"admin\"@en");
    let both_lines = format!("<{SUBJECT}> <{VOCAB}licenseNumber> \"l-1\"@{injected_tag} .\n");
    assert!(nquads.contains(&both_lines), "{nquads}");

    let mut forged = signed.clone();
    let subject = forged["credentialSubject"]
        .as_object_mut()
        .expect("subject");
    subject.remove("role");
    subject.insert(
        "licenseNumber".into(),
        json!({"@value": "l-1", "@language": injected_tag}),
    );
    (signed, forged)
}

fn verify_cli(dir: &std::path::Path, credential: &Value, documents: bool) -> (bool, Value) {
    let path = dir.join("credential.json");
    std::fs::write(&path, credential.to_string()).expect("write");
    let mut args = vec!["verify".to_string(), "--offline".into(), "--json".into()];
    if documents {
        let published = fixture_json("verification/published.json");
        for (i, (url, document)) in published.as_object().expect("map").iter().enumerate() {
            let file = dir.join(format!("published-{i}.json"));
            std::fs::write(&file, document.to_string()).expect("write");
            args.push("--document".into());
            args.push(format!("{url}={}", file.display()));
        }
    }
    args.push(path.display().to_string());
    let output = Command::new(env!("CARGO_BIN_EXE_credentialconnect"))
        .args(&args)
        .env(
            "CC_DATABASE_URL",
            format!("sqlite://{}", dir.join("cli.db").display()),
        )
        .env("CC_VERIFY_NETWORK", "0")
        .output()
        .expect("run the binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {stdout} {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.success(), report)
}

#[test]
fn the_cli_fails_a_swapped_subject_and_names_both_aliases() {
    let dir = tempfile::tempdir().expect("dir");
    // The untouched vector verifies with the issuer's document, so what fails below is the
    // swap and nothing else.
    let vector = fixture_json("standards/examples/signed/ob30-ldp-test-vector-signed.json");
    let (ok, report) = verify_cli(dir.path(), &vector, true);
    assert!(ok && report["state"] == "verified", "{report}");

    let (ok, report) = verify_cli(dir.path(), &swapped_subject(), true);
    assert!(!ok, "{report}");
    assert_eq!(report["state"], "failed", "{report}");
    let text = report.to_string();
    assert!(
        text.contains(r#"\"id\""#) && text.contains(r#"\"@id\""#),
        "the report names the two aliases: {report}"
    );
}

#[test]
fn the_cli_fails_a_language_tag_that_writes_a_statement() {
    let dir = tempfile::tempdir().expect("dir");
    let (signed, forged) = language_tag_injection();
    let (ok, report) = verify_cli(dir.path(), &signed, false);
    assert!(ok && report["state"] == "verified", "{report}");

    let (ok, report) = verify_cli(dir.path(), &forged, false);
    assert!(!ok, "{report}");
    assert_eq!(report["state"], "failed", "{report}");
    assert!(report.to_string().contains("BCP 47"), "{report}");
}

/// Uploads `credential`; returns the reported state (or the refusal's status) and checks
/// that nothing is stored as verified and that an alert names the failure.
async fn upload_never_verified(app: &TestApp, credential: &Value, reason: &str) {
    let partner = app.partner("issuer").await;
    let token = app.token(&partner, None).await;
    let response = app.upload(&token, credential.to_string()).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    if status == 200 {
        assert_eq!(body["credentials"][0]["verification"], "failed", "{body}");
        assert!(body["warnings"].to_string().contains(reason), "{body}");
    } else {
        assert_eq!(status, 400, "{body}");
    }
    let states = app
        .app
        .store
        .read(|conn| {
            let rows = conn.query("SELECT verification FROM credentials", &[])?;
            rows.iter()
                .map(|r| r.text(0))
                .collect::<Result<Vec<_>, credentialconnect::store::StoreError>>()
        })
        .await
        .expect("rows");
    assert!(!states.iter().any(|s| s == "verified"), "{states:?}");
    let alerts = app.open_alerts().await;
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == "verification_failed" && a.message.contains(reason)),
        "{status} {body} {alerts:?}"
    );
}

on_both_engines!(
    an_uploaded_swapped_subject_is_failed_and_raises_an_alert,
    |app: TestApp| async move {
        common::publish_issuer_documents(&app.app.verifier);
        upload_never_verified(&app, &swapped_subject(), "mean @id").await;
    }
);

on_both_engines!(
    an_uploaded_language_tag_injection_is_failed_and_raises_an_alert,
    |app: TestApp| async move {
        let (_, forged) = language_tag_injection();
        upload_never_verified(&app, &forged, "BCP 47").await;
    }
);
