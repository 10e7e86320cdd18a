//! A changed credential is `failed` even when nothing its issuer publishes can be read:
//! the key the proof names (a did:key, a multibase key in the verification method's URL
//! fragment, a JOSE `jwk` header) is read from the proof itself and the signature checked
//! with it. End to end, through `credentialconnect verify` and through an upload: the
//! receipt says `failed` with the reason, a `verification_failed` alert is raised, and
//! nothing is shown or stored as verified. A CLR whose own proof fails reports itself in
//! the receipt and lends "verified" to nothing it carries.

mod common;

use common::{TestApp, fixture_json};
use serde_json::{Value, json};
use std::process::Command;

const OB_VECTOR: &str = "standards/examples/signed/ob30-ldp-test-vector-signed.json";
const CLR_VECTOR: &str = "standards/examples/signed/clr20-ldp-test-vector-signed.json";

/// Runs `credentialconnect verify` with no network; returns (exit ok, stdout).
fn verify(args: &[&str]) -> (bool, String) {
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

fn write(dir: &std::path::Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).expect("write");
    path.display().to_string()
}

/// `--document URL=FILE` for the controller document of the vectors' issuer.
fn issuer_document(dir: &std::path::Path) -> Vec<String> {
    let url = "https://example.edu/issuers/565049";
    let published = fixture_json("verification/published.json");
    let path = write(dir, "issuer.json", &published[url]);
    vec!["--document".into(), format!("{url}={path}")]
}

#[test]
fn the_cli_verifies_the_vectors_with_the_issuers_document_and_fails_a_changed_copy_without_it() {
    let dir = tempfile::tempdir().expect("dir");
    for vector in [OB_VECTOR, CLR_VECTOR] {
        let original = fixture_json(vector);
        let path = write(dir.path(), "original.json", &original);
        let mut args = vec!["--offline".to_string()];
        args.extend(issuer_document(dir.path()));
        args.push(path);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, out) = verify(&refs);
        assert!(ok, "{vector} verifies with its issuer's document: {out}");

        let mut changed = original.clone();
        changed["name"] = json!(format!(
            "X{}",
            &original["name"].as_str().expect("name")[1..]
        ));
        let changed = write(dir.path(), "changed.json", &changed);
        let (ok, out) = verify(&["--offline", &changed]);
        assert!(!ok, "{out}");
        assert!(out.contains("FAIL proof signature"), "{vector}: {out}");
        assert!(out.contains("state: failed"), "{vector}: {out}");
    }
}

#[test]
fn the_cli_keeps_an_untouched_vector_attested_without_the_issuers_document() {
    let dir = tempfile::tempdir().expect("dir");
    let path = write(dir.path(), "vector.json", &fixture_json(OB_VECTOR));
    let (ok, out) = verify(&["--offline", "--json", &path]);
    assert!(!ok);
    let report: Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(report["state"], "attested", "{out}");
    let reasons = report["reasons"].to_string();
    assert!(reasons.contains("nothing ties the key"), "{reasons}");
}

/// A VC-JWT whose JWS header carries its key (`jwk`; the 1EdTech CLR example): `verified`
/// once the issuer's document given with `--document` lists that key, `attested` with a
/// document of the issuer's that does not (a key the signer merely shows proves nothing), and
/// a changed copy `failed`, with the document or without.
#[test]
fn the_cli_verifies_a_header_jwk_the_issuers_document_lists_and_fails_a_changed_copy() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let dir = tempfile::tempdir().expect("dir");
    let url = "https://example.edu/issuers/565049";
    let listing = fixture_json("verification/published.json")[url].clone();
    let header_key = format!("{url}#rsa-jwt");
    assert!(
        listing["assertionMethod"].to_string().contains(&header_key),
        "the published document lists the header's key"
    );
    let mut unlisting = listing.clone();
    unlisting["verificationMethod"]
        .as_array_mut()
        .expect("methods")
        .retain(|m| m["id"] != header_key.as_str());
    unlisting["assertionMethod"]
        .as_array_mut()
        .expect("assertion methods")
        .retain(|m| m != header_key.as_str());
    let listing = format!("{url}={}", write(dir.path(), "listing.json", &listing));
    let unlisting = format!("{url}={}", write(dir.path(), "unlisting.json", &unlisting));
    let jwt = common::fixtures()
        .join("standards/examples/clr20/simple.jwt")
        .display()
        .to_string();

    let state = |out: &str| -> Value {
        let report: Value =
            serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
        report
    };
    let (ok, out) = verify(&["--offline", "--json", "--document", &listing, &jwt]);
    let report = state(&out);
    assert!(ok && report["state"] == "verified", "{out}");

    let (ok, out) = verify(&["--offline", "--json", "--document", &unlisting, &jwt]);
    let report = state(&out);
    assert!(!ok && report["state"] == "attested", "{out}");
    assert!(
        report["reasons"].to_string().contains("does not list"),
        "{out}"
    );

    // One character of the credential's name changed in the payload.
    let compact = std::fs::read_to_string(&jwt).expect("jwt");
    let parts: Vec<&str> = compact.trim().split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url"))
            .expect("json");
    let name = payload["vc"]["name"].as_str().expect("name").to_string();
    payload["vc"]["name"] = json!(format!("X{}", &name[1..]));
    let changed = dir.path().join("changed.jwt");
    std::fs::write(
        &changed,
        format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            parts[2]
        ),
    )
    .expect("write");
    let changed = changed.display().to_string();
    for document in [Some(&listing), Some(&unlisting), None] {
        let mut args = vec!["--offline"];
        if let Some(document) = document {
            args.extend(["--document", document.as_str()]);
        }
        args.push(&changed);
        let (ok, out) = verify(&args);
        assert!(!ok, "{out}");
        assert!(out.contains("FAIL VC-JWT signature"), "{document:?}: {out}");
        assert!(out.contains("state: failed"), "{document:?}: {out}");
    }
}

/// The verification states stored for the partner's credentials.
async fn stored_states(app: &TestApp) -> Vec<String> {
    app.app
        .store
        .read(|conn| {
            let rows = conn.query(
                "SELECT verification FROM credentials ORDER BY created_at, position",
                &[],
            )?;
            rows.iter().map(|r| r.text(0)).collect()
        })
        .await
        .expect("states")
}

on_both_engines!(
    an_uploaded_changed_credential_fails_when_its_issuers_document_cannot_be_read,
    |app: TestApp| async move {
        // Nothing is published: the verifier cannot read example.edu's document.
        let partner = app.partner("issuer").await;
        let token = app.token(&partner, None).await;
        let mut changed = fixture_json(OB_VECTOR);
        changed["name"] = json!("Teamwork Badgf");
        let response = app.upload(&token, changed.to_string()).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["credentials"][0]["verification"], "failed", "{body}");
        let warnings = body["warnings"].to_string();
        assert!(warnings.contains("signature does not match"), "{warnings}");
        let alerts = app.open_alerts().await;
        assert!(
            alerts.iter().any(|a| a.kind == "verification_failed"
                && a.message.contains("signature does not match")),
            "{alerts:?}"
        );
        assert_eq!(stored_states(&app).await, ["failed"]);
        let page = app
            .client
            .get(body["redirectUrl"].as_str().expect("url"))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(page.contains("verification failed"), "{page}");
        assert!(!page.contains("signature verified"), "{page}");
        assert!(!page.contains("verified by the partner"), "{page}");
    }
);

on_both_engines!(
    a_changed_clr_reports_itself_in_the_receipt_and_lends_verified_to_nothing_it_carries,
    |app: TestApp| async move {
        common::publish_issuer_documents(&app.app.verifier);
        let partner = app.partner("issuer").await;
        let token = app.token(&partner, None).await;
        // The CLR's own name changed; the nested credential is untouched (its proof holds).
        let mut changed = fixture_json(CLR_VECTOR);
        changed["name"] = json!("Sample Transcripf");
        let body: Value = app
            .upload(&token, json!({"credentials": [changed]}).to_string())
            .await
            .json()
            .await
            .expect("json");
        let credentials = body["credentials"].as_array().expect("credentials");
        assert_eq!(credentials[0]["id"], "http://example.edu/credentials/3732");
        assert_eq!(credentials[0]["kind"], "clr", "{body}");
        assert_eq!(credentials[0]["verification"], "failed", "{body}");
        assert!(credentials[0].get("section").is_none(), "{body}");
        assert!(
            credentials.iter().all(|c| c["verification"] == "failed"),
            "{body}"
        );
        let warnings = body["warnings"].as_array().expect("warnings");
        let clr_warning = warnings
            .iter()
            .find(|w| w["pointer"] == "/credentials/0")
            .expect("a warning for the CLR");
        let message = clr_warning["message"].as_str().expect("message");
        assert!(
            message.contains("the CLR http://example.edu/credentials/3732 itself")
                && message.contains("signature does not match"),
            "{message}"
        );
        assert!(
            warnings.iter().any(|w| w["message"]
                .as_str()
                .is_some_and(|m| m.contains("carried by the CLR"))),
            "{body}"
        );
        assert!(stored_states(&app).await.iter().all(|s| s == "failed"));
        assert!(
            app.open_alerts()
                .await
                .iter()
                .any(|a| a.kind == "verification_failed")
        );

        // Untouched, the CLR and what it carries verify, and the receipt says so.
        let body: Value = app
            .upload(&token, fixture_json(CLR_VECTOR).to_string())
            .await
            .json()
            .await
            .expect("json");
        let states: Vec<(&str, &str)> = body["credentials"]
            .as_array()
            .expect("credentials")
            .iter()
            .map(|c| {
                (
                    c["kind"].as_str().expect("kind"),
                    c["verification"].as_str().expect("state"),
                )
            })
            .collect();
        assert_eq!(
            states,
            [("clr", "verified"), ("credential", "verified")],
            "{body}"
        );
    }
);
