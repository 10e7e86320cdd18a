//! What a hostile partner can send: bodies built to be slow to read or to verify. Each is
//! refused or degraded after a bounded amount of work, counted (problems listed, proofs
//! checked), never timed; and while such uploads are in progress the server still answers.

mod common;

use common::{TestApp, issuer};
use credentialconnect::verify::Verifier;
use credentialconnect::verify::budget::{PACKAGE_HASHING_STEPS, WorkBudget};
use serde_json::{Value, json};

/// A SkillSync carrier with `count` alignments, every one named the same.
fn carrier(count: usize) -> Vec<u8> {
    let mut body = String::from(
        r#"{"credentials":[{"id":"c1","type":"VerifiableCredential","issuer":"i","name":"Skills","credentialSubject":{"achievement":{"achievementType":"ext:SkillsAndAbilities","alignment":["#,
    );
    for i in 0..count {
        if i > 0 {
            body.push(',');
        }
        body.push_str(r#"{"targetName":"Teaching"}"#);
    }
    body.push_str("]}}}]}");
    body.into_bytes()
}

async fn json_of(response: reqwest::Response) -> (u16, usize, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body");
    let body = serde_json::from_slice(&bytes).expect("JSON body");
    (status, bytes.len(), body)
}

on_both_engines!(
    a_forty_thousand_alignment_carrier_is_refused_with_one_problem,
    |app: TestApp| async move {
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        let (status, _, body) = json_of(app.upload(&token, carrier(40_000)).await).await;
        assert_eq!(status, 400, "{body}");
        let errors = body["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 1, "{body}");
        assert_eq!(
            errors[0]["pointer"],
            "/credentials/0/credentialSubject/achievement/alignment"
        );
    }
);

on_both_engines!(
    a_million_empty_items_get_a_small_answer,
    |app: TestApp| async move {
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        let mut body = String::from(r#"{"credentials":["#);
        body.push_str(&vec!["{}"; 1_000_000].join(","));
        body.push_str("]}");
        assert!(body.len() > 3_000_000);
        let (status, size, answer) = json_of(app.upload(&token, body).await).await;
        assert_eq!(status, 400, "{answer}");
        assert!(size < 1_000, "a {size}-byte answer to a bad body");
        assert_eq!(answer["errors"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            answer["errors"][0]["message"],
            "a package carries at most 500 credentials; this one carries 1000000"
        );
    }
);

/// Sends a request on a plain blocking socket in a thread of its own (so nothing on the
/// server's runtime is needed to read the answer) and returns the answer's status and the
/// moment it was read.
fn send_raw(
    base: &str,
    head: String,
    body: Vec<u8>,
) -> std::thread::JoinHandle<(u16, std::time::Instant)> {
    use std::io::{Read, Write};
    let address = base.trim_start_matches("http://").to_string();
    std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(&address).expect("connect");
        stream.write_all(head.as_bytes()).expect("write");
        stream.write_all(&body).expect("write");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("read");
        let status = String::from_utf8_lossy(&answer)
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        (status, std::time::Instant::now())
    })
}

fn upload_head(token: &str, length: usize) -> String {
    format!(
        "POST /api/v1/credentials HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    )
}

/// A package of `count` credentials whose proofs are well-formed but not signatures: the
/// verifier canonicalizes each (the work a signed package costs), then finds that the
/// signature does not hold.
fn proof_carrying_package(first_id: usize, count: usize) -> Vec<u8> {
    let credentials: Vec<Value> = (first_id..first_id + count).map(|i| poison(i, 0)).collect();
    serde_json::to_vec(&json!({"credentials": credentials})).expect("JSON")
}

on_both_engines!(
    one_partner_takes_turns_so_its_uploads_cannot_take_every_core,
    |app: TestApp| async move {
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        // Hold every turn the partner has, as its own heavy uploads being verified would
        // (how many depends on the cores; the first refusal takes the admission wait).
        let id = app
            .app
            .store
            .read(|conn| credentialconnect::store::partners::by_slug(conn, "instx"))
            .await
            .expect("read")
            .expect("the partner")
            .id;
        let mut held = Vec::new();
        while let Some(turn) = app.app.limiters.upload_turns.take(&id).await {
            held.push(turn);
        }
        assert!(!held.is_empty(), "a partner has at least one turn");
        // Meanwhile its next upload with a proof waits for a turn (half a second at most) and
        // is refused; its uploads without proofs, and another partner's with, are served.
        let with_proof = proof_carrying_package(500, 1);
        let (status, body) = common::imsx_error(app.upload(&token, with_proof.clone()).await).await;
        assert_eq!(status, 429, "{body}");
        let plain = common::fixture("guide/three-courses.json");
        assert_eq!(app.upload(&token, plain).await.status(), 200);
        let other = app.partner("insty").await;
        let other_token = app.token(&other, None).await;
        assert_eq!(
            app.upload(&other_token, with_proof.clone()).await.status(),
            200
        );
        // Once its turns are free again, the same upload is served.
        drop(held);
        assert_eq!(app.upload(&token, with_proof).await.status(), 200);
    }
);

on_both_engines!(
    healthz_answers_while_two_packages_are_being_verified,
    |app: TestApp| async move {
        // Two partners (one partner's uploads take turns), each sending one credential whose
        // proof is the slowest one document may be to check (a poison graph at the
        // per-document cap of n-degree hashing): one long stretch of CPU each, with nothing
        // to wait on in between.
        let mut uploads = Vec::new();
        let mut partner_ids = Vec::new();
        for (i, slug) in ["instx", "insty"].into_iter().enumerate() {
            let partner = app.partner(slug).await;
            let token = app.token(&partner, None).await;
            partner_ids.push(app.partner_id(slug).await);
            let body = serde_json::to_vec(&json!({"credentials": [poison(i, 8)]})).expect("JSON");
            uploads.push(send_raw(&app.base, upload_head(&token, body.len()), body));
        }
        // Each takes its partner's turn just before verifying and gives it back just after.
        let verifying = || {
            partner_ids
                .iter()
                .all(|id| app.app.limiters.upload_turns.taken(id) == 1)
        };
        while !verifying() {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let healthz = send_raw(
            &app.base,
            "GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".into(),
            Vec::new(),
        );
        let (status, _) = healthz.join().expect("healthz");
        assert_eq!(status, 200);
        // Verifying runs off the async workers (two here), so /healthz was answered while
        // both were still at it; on the workers it would have waited for one to end.
        assert!(
            verifying(),
            "/healthz was answered only after a verification ended"
        );
        for upload in uploads {
            let (status, _) = upload.join().expect("upload");
            assert_eq!(status, 200);
        }
    }
);

/// A credential whose subject holds a clique of `size` blank nodes: every node looks like
/// every other, the worst case of RDF canonicalization's n-degree hashing. Its proof is
/// well-formed, so the verifier canonicalizes before it looks for the key.
fn poison(id: usize, size: usize) -> Value {
    let mut credential = issuer::credential("did:example:issuer");
    credential["id"] = format!("urn:uuid:poison-{id}").into();
    let knows = "https://example.org/knows";
    let nodes: Vec<Value> = (0..size)
        .map(|i| {
            let others: Vec<Value> = (0..size)
                .filter(|j| *j != i)
                .map(|j| json!({"@id": format!("_:n{j}")}))
                .collect();
            json!({"@id": format!("_:n{i}"), knows: others})
        })
        .collect();
    if size > 0 {
        credential["credentialSubject"][knows] = Value::Array(nodes);
    }
    credential["proof"] = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2024-01-01T00:00:00Z",
        "verificationMethod": "did:example:issuer#key-1",
        "proofPurpose": "assertionMethod",
        "proofValue": format!("z{}", bs58::encode([7u8; 64]).into_string()),
    });
    credential
}

/// One document at the per-document cap spends this many of the package's steps.
const STEPS_PER_POISON: usize = 4_000;

#[tokio::test]
async fn one_package_of_poison_graphs_spends_one_budget_whatever_its_length() {
    let verifier = Verifier::offline();
    let budget = WorkBudget::per_package();
    let reports = std::sync::Arc::clone(&budget)
        .scope(async {
            let mut reports = Vec::new();
            for i in 0..150 {
                reports.push(verifier.verify(&poison(i, 8), None).await);
            }
            reports
        })
        .await;
    let reasons: Vec<String> = reports.iter().map(|r| r.reason()).collect();
    let over_cap = reasons
        .iter()
        .filter(|r| r.contains("exceeded the limit of 4000"))
        .count();
    let not_checked = reasons
        .iter()
        .filter(|r| r.contains("not checked: this upload has used up its share"))
        .count();
    // Only the package's hashing budget was spent at the per-document cap; every other
    // poison graph stopped after the few steps each document gets.
    assert_eq!(
        over_cap,
        PACKAGE_HASHING_STEPS / STEPS_PER_POISON,
        "{reasons:?}"
    );
    assert_eq!(over_cap + not_checked, 150, "{reasons:?}");
    assert!(budget.refused_any());
    for report in &reports[over_cap..] {
        assert_eq!(
            report.state,
            credentialconnect::domain::verification::VerificationState::Attested
        );
    }
}

#[tokio::test]
async fn an_honest_credential_after_poison_graphs_is_still_verified() {
    let verifier = Verifier::offline();
    common::publish_issuer_documents(&verifier);
    let key = issuer::ed25519_key();
    let did = issuer::did_key(&key);
    let method = format!("{did}#{}", did.trim_start_matches("did:key:"));
    let honest = issuer::sign(&verifier, issuer::credential(&did), &method);
    let report = WorkBudget::per_package()
        .scope(async {
            for i in 0..20 {
                verifier.verify(&poison(i, 8), None).await;
            }
            verifier.verify(&honest, None).await
        })
        .await;
    assert_eq!(
        report.state,
        credentialconnect::domain::verification::VerificationState::Verified,
        "{}",
        report.reason()
    );
}

#[tokio::test]
async fn every_example_credential_needs_no_hashing_steps_from_its_package() {
    // Ordinary credentials canonicalize within the few steps each document gets free, so a
    // package whose hashing budget a poison graph spent still verifies them.
    let verifier = Verifier::offline();
    common::publish_issuer_documents(&verifier);
    let index = String::from_utf8(common::fixture("standards/examples/INDEX.tsv")).expect("utf-8");
    let mut compared = 0;
    for file in index.lines().skip(1).filter_map(|l| l.split('\t').next()) {
        let bytes = common::fixture(&format!("standards/examples/{file}"));
        let Ok(units) = credentialconnect::verify::input::read(&bytes) else {
            continue;
        };
        let free = verifier.verify_units(&units).await;
        let budgeted = WorkBudget::new(credentialconnect::verify::budget::PACKAGE_STATEMENTS, 0)
            .scope(verifier.verify_units(&units))
            .await;
        assert_eq!(budgeted.state, free.state, "{file}: {:?}", budgeted.reasons);
        compared += 1;
    }
    assert!(compared > 50, "only {compared} examples read");
}

on_both_engines!(
    sixteen_copies_of_one_new_package_all_succeed_and_store_it_once,
    |app: TestApp| async move {
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        let body = common::fixture("guide/three-courses.json");
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(16));
        let copies: Vec<_> = (0..16)
            .map(|_| {
                let request = app
                    .client
                    .post(app.url("/api/v1/credentials"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.clone());
                let barrier = std::sync::Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    let response = request.send().await.expect("answer");
                    let status = response.status().as_u16();
                    (status, response.text().await.unwrap_or_default())
                })
            })
            .collect();
        for copy in copies {
            let (status, body) = copy.await.expect("task");
            assert_eq!(status, 200, "{body}");
        }
        let stored = app
            .app
            .store
            .read(|conn| {
                conn.query_one(
                    "SELECT COUNT(*), COUNT(DISTINCT assertion_key) FROM credentials",
                    &[],
                )
                .and_then(|row| Ok((row.int(0)?, row.int(1)?)))
            })
            .await
            .expect("count");
        assert_eq!(stored, (3, 3), "each credential stored once");
    }
);

/// Access tokens the database holds for the partner `slug`.
async fn tokens_of(app: &TestApp, slug: &'static str) -> i64 {
    app.app
        .store
        .read(move |conn| {
            conn.query_one(
                "SELECT COUNT(*) FROM access_tokens WHERE partner_id IN (SELECT id FROM partners WHERE slug = $1)",
                &[slug.into()],
            )
            .and_then(|row| row.int(0))
        })
        .await
        .expect("count")
}

/// How long another instance may go on accepting a revoked token: its token cache's life.
const TOKEN_CACHE_TIME: std::time::Duration = std::time::Duration::from_secs(2);

enum Revocation {
    Disable,
    RotateSecret,
}

/// Revokes the partner's tokens on one instance: its token stops working there at once, its
/// rows are gone, and a second instance that had the token cached refuses it within the
/// cache time.
async fn revocation_takes_effect(app: TestApp, revocation: Revocation) {
    let other = app.second_instance().await;
    let partner = app.partner("uni").await;
    let token = app.token(&partner, None).await;
    let body = common::fixture("guide/three-courses.json");
    // Both instances now hold the token's grant in their caches.
    assert_eq!(app.upload(&token, body.clone()).await.status(), 200);
    assert_eq!(other.upload(&token, body.clone()).await.status(), 200);
    match revocation {
        Revocation::Disable => credentialconnect::services::partners::disable(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "uni",
        )
        .await
        .expect("disable"),
        Revocation::RotateSecret => {
            credentialconnect::services::partners::rotate_secret(
                &app.app,
                &credentialconnect::domain::audit::Actor::operator(),
                "uni",
            )
            .await
            .expect("rotate");
        }
    }
    let (status, _) = common::imsx_error(app.upload(&token, body.clone()).await).await;
    assert_eq!(status, 401, "refused at once where it was revoked");
    assert_eq!(
        tokens_of(&app, "uni").await,
        0,
        "the partner's tokens are deleted"
    );
    tokio::time::sleep(TOKEN_CACHE_TIME).await;
    let (status, _) = common::imsx_error(other.upload(&token, body).await).await;
    assert_eq!(
        status, 401,
        "refused by the other instance within the cache time"
    );
}

on_both_engines!(
    disabling_a_partner_ends_its_tokens_here_at_once_and_elsewhere_within_the_cache_time,
    |app: TestApp| revocation_takes_effect(app, Revocation::Disable)
);

on_both_engines!(
    rotating_a_secret_ends_its_tokens_here_at_once_and_elsewhere_within_the_cache_time,
    |app: TestApp| revocation_takes_effect(app, Revocation::RotateSecret)
);
