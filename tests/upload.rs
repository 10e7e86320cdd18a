//! `POST /api/v1/credentials`: the partner guide's examples and the 1EdTech examples are
//! accepted; identity, sections, SkillSync and CLR rules hold.

mod common;

use common::{TestApp, fixture, fixture_json};
use serde_json::{Value, json};

async fn ok(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 200, "{body}");
    body
}

on_both_engines!(
    guide_three_course_package_lands_in_relevant_coursework,
    |app: TestApp| async move {
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        let body = ok(app
            .upload(&token, fixture("guide/three-courses.json"))
            .await)
        .await;
        assert_eq!(body["status"], "success");
        let credentials = body["credentials"].as_array().expect("credentials");
        let ids: Vec<&str> = credentials
            .iter()
            .map(|c| c["id"].as_str().expect("id"))
            .collect();
        assert_eq!(
            ids,
            ["351843720888468", "369435906932892", "369435906932893"]
        );
        for c in credentials {
            assert_eq!(
                (
                    c["result"].as_str(),
                    c["section"].as_str(),
                    c["verification"].as_str()
                ),
                (Some("created"), Some("Relevant Coursework"), Some("none"))
            );
        }
        assert!(
            body["identifierToken"].as_str().expect("token").len() >= 22,
            "≥ 128 bits"
        );
        assert!(body["expiresAt"].as_str().expect("expiry").ends_with('Z'));
        assert!(
            body.get("activationUrl").is_none(),
            "no names: not searchable"
        );

        // The redirect URL opens a page listing the package, free-text dates as written.
        let page = app
            .client
            .get(body["redirectUrl"].as_str().expect("url"))
            .send()
            .await
            .expect("page");
        assert_eq!(page.status(), 200);
        let html = page.text().await.expect("html");
        for text in [
            "Calculus w/Analytic Geometry I",
            "Introduction to Psychology",
            "First-Year Composition",
            "Spring 2023",
            "Relevant Coursework",
        ] {
            assert!(html.contains(text), "{text} missing from the claim page");
        }
    }
);

on_both_engines!(
    guide_skillsync_package_with_its_raw_line_break_brings_four_verified_skills,
    |app: TestApp| async move {
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        let raw = fixture("guide/skillsync.json");
        assert!(
            serde_json::from_slice::<Value>(&raw).is_err(),
            "the guide's example is not strict JSON"
        );
        let body = ok(app.upload(&token, raw).await).await;
        assert_eq!(
            body["credentials"],
            json!([]),
            "the carrier is not itself imported"
        );
        let skills: Vec<(&str, bool)> = body["skills"]
            .as_array()
            .expect("skills")
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().expect("name"),
                    s["verified"].as_bool().expect("verified"),
                )
            })
            .collect();
        assert_eq!(
            skills,
            [
                ("Teaching", true),
                ("Leadership", true),
                ("Quality Management", true),
                ("Sales", true)
            ]
        );
        assert!(
            body["activationUrl"]
                .as_str()
                .expect("searchable: id, names and email")
                .ends_with("/find/instx")
        );
        let html = app
            .client
            .get(body["redirectUrl"].as_str().expect("url"))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(html.contains("Quality Management") && html.contains("verified by Institution X"));
    }
);

on_both_engines!(
    guide_clr_profile_example_is_accepted_and_names_the_person,
    |app: TestApp| async move {
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        let body = ok(app.upload(&token, fixture("guide/clr-profile.json")).await).await;
        assert_eq!(
            body["credentials"][0]["id"],
            "http://example.edu/credentials/3732"
        );
        assert_eq!(body["credentials"][0]["section"], "Credentials");
        assert!(
            body["warnings"]
                .as_array()
                .expect("warnings")
                .iter()
                .any(|w| w["message"]
                    .as_str()
                    .expect("m")
                    .contains("no nested credentials"))
        );
        let html = app
            .client
            .get(body["redirectUrl"].as_str().expect("url"))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(
            html.contains("value=\"Steve\"") && html.contains("value=\"McSteve\""),
            "ClrSubject Profile names pre-fill the person"
        );
    }
);

on_both_engines!(
    single_credential_shape_with_a_recipient_token_goes_to_that_persons_inbox,
    |app: TestApp| async move {
        let partner = app.partner("wallet").await;
        let token = app.token(&partner, None).await;
        let course = fixture_json("guide/three-courses.json")["credentials"][0].clone();
        // A recipient token this partner's import link would carry (use case 3).
        let partner_id = app
            .app
            .store
            .read(|conn| credentialconnect::store::partners::by_slug(conn, "wallet"))
            .await
            .expect("read")
            .expect("partner")
            .id;
        let now = app.app.clock.now_ms();
        let hash = credentialconnect::secrets::digest("abc123");
        app.app
            .store
            .write(move |conn| {
                credentialconnect::store::holding::insert_recipient_token(
                    conn,
                    &hash,
                    &partner_id,
                    "user-1",
                    now,
                    now + 3_600_000,
                )
            })
            .await
            .expect("token");
        let body = ok(app
            .upload(
                &token,
                json!({"credential": course, "recipienttoken": "abc123"}).to_string(),
            )
            .await)
        .await;
        assert_eq!(body["credentials"][0]["result"], "created");
        let inbox = app
            .snapshot()
            .await
            .into_iter()
            .filter(|l| l.starts_with("packages:") && l.contains("user-1"))
            .count();
        assert_eq!(inbox, 1, "the package is in user-1's inbox");
    }
);

on_both_engines!(
    unknown_recipient_token_is_refused_and_nothing_is_stored,
    |app: TestApp| async move {
        let partner = app.partner("wallet").await;
        let token = app.token(&partner, None).await;
        let course = fixture_json("guide/three-courses.json")["credentials"][0].clone();
        let before = app.snapshot().await;
        let (status, body) = common::imsx_error(
            app.upload(
                &token,
                json!({"credential": course, "recipienttoken": "abc123"}).to_string(),
            )
            .await,
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(body["errors"][0]["pointer"], "/recipienttoken");
        assert_eq!(app.snapshot().await, before);
    }
);

/// The 1EdTech examples a wallet could send us (every valid, warning-level or schema-valid
/// JSON or VC-JWT example in `standards/examples/INDEX.tsv`, status lists and LER-RS resumes
/// aside) and the verification state of each credential the receipt lists (a CLR itself,
/// then its nested credentials). `tests/conformance.rs` says why each state is what it is.
const ACCEPTABLE_EXAMPLES: &[(&str, &[&str])] = &[
    ("ob30/simple.json", &["verified"]),
    ("ob30/simple_v1.json", &["verified"]),
    ("ob30/simple-did-key-method.json", &["attested"]),
    ("ob30/simple-did-web-method.json", &["verified"]),
    ("ob30/simple-eddsa-2022.json", &["verified"]),
    ("ob30/simple-context-alias.json", &["verified"]),
    ("ob30/sd/derivedcredential.json", &["verified"]),
    ("ob30/endorsement-valid.json", &["verified"]),
    ("clr20/simple.json", &["verified", "verified"]),
    ("clr20/simple_v1.json", &["attested"; 7]),
    ("clr20/complex.json", &["attested"; 7]),
    ("clr20/simple.jwt", &["verified", "verified"]),
    ("ob30-spec/basicOpenBadgeCredential.json", &["none"]),
    ("ob30-spec/fullOpenBadge.json", &["none"]),
    ("ob30-spec/endorsement.json", &["none"]),
    ("ob30-spec/achievementAlignmentCase.json", &["none"]),
    ("ob30-spec/achievementAlignmentCe.json", &["none"]),
    ("ob30-spec/skillAssertionCase.json", &["none"]),
    ("ob30-spec/skillAssertionCtdl.json", &["none"]),
    ("signed/ob30-ldp-test-vector-signed.json", &["verified"]),
    (
        "signed/clr20-ldp-test-vector-signed.json",
        &["verified", "verified"],
    ),
];

/// The acceptable rows of the index, so a new row cannot be forgotten here.
fn acceptable_examples() -> Vec<String> {
    let index = String::from_utf8(fixture("standards/examples/INDEX.tsv")).expect("utf-8");
    index
        .lines()
        .skip(1)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            let (file, expected) = (columns[0], columns[4]);
            let usable = expected.starts_with("VALID")
                || expected.starts_with("WARNING")
                || expected.starts_with("SCHEMA-VALID");
            let credential_file = file.ends_with(".json") || file.ends_with(".jwt");
            // A status list is not a credential about a person; the LER-RS wrappers are resumes.
            let about_a_person = !file.contains("bit-string-list") && !file.starts_with("ler-rs/");
            (usable
                && credential_file
                && about_a_person
                && !file.starts_with("signed/test-vectors"))
            .then(|| file.to_string())
        })
        .collect()
}

on_both_engines!(
    valid_1edtech_examples_are_accepted_with_their_true_verification_states,
    |app: TestApp| async move {
        common::publish_issuer_documents(&app.app.verifier);
        let partner = app.partner("issuer").await;
        let token = app.token(&partner, None).await;
        let listed: Vec<&str> = ACCEPTABLE_EXAMPLES.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            acceptable_examples(),
            listed,
            "the index and this table list the same files"
        );
        for (file, expected_states) in ACCEPTABLE_EXAMPLES {
            let bytes = fixture(&format!("standards/examples/{file}"));
            let content_type = if file.ends_with(".jwt") {
                "text/plain"
            } else {
                "application/json"
            };
            let response = app
                .client
                .post(app.url("/api/v1/credentials"))
                .bearer_auth(&token)
                .header("content-type", content_type)
                .body(bytes)
                .send()
                .await
                .expect("send");
            let status = response.status();
            let body: Value = response.json().await.expect("json");
            assert_eq!(status, 200, "{file} was refused: {body}");
            let states: Vec<&str> = body["credentials"]
                .as_array()
                .expect("credentials")
                .iter()
                .map(|c| c["verification"].as_str().expect("state"))
                .collect();
            assert_eq!(&states, expected_states, "{file}: {body}");
        }
    }
);

on_both_engines!(
    a_vc_jwt_sent_as_text_is_a_package_of_one_and_listed_as_compact_jws,
    |app: TestApp| async move {
        let partner = app.partner("issuer").await;
        let token = app.token(&partner, None).await;
        let jwt = String::from_utf8(fixture("standards/examples/clr20/simple.jwt")).expect("text");
        let response = app
            .client
            .post(app.url("/api/v1/credentials"))
            .bearer_auth(&token)
            .header("content-type", "text/plain")
            .body(jwt.clone())
            .send()
            .await
            .expect("send");
        let body = ok(response).await;
        assert!(
            body["credentials"]
                .as_array()
                .expect("credentials")
                .iter()
                .all(|c| c["verification"] == "attested")
        );
        let listing: Value = app
            .client
            .get(app.url("/api/v1/credentials"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        assert_eq!(listing["compactJwsString"], json!([jwt.trim()]));
    }
);

on_both_engines!(
    sending_an_assertion_again_updates_it_in_place,
    |app: TestApp| async move {
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        let mut package = fixture_json("guide/three-courses.json");
        ok(app.upload(&token, package.to_string()).await).await;
        let again = ok(app
            .upload(&token, fixture("guide/three-courses.json"))
            .await)
        .await;
        let results: Vec<&str> = again["credentials"]
            .as_array()
            .expect("c")
            .iter()
            .map(|c| c["result"].as_str().expect("r"))
            .collect();
        assert_eq!(results, ["unchanged", "unchanged", "unchanged"]);
        package["credentials"][1]["name"] = json!("Introduction to Psychology (Honors)");
        let changed = ok(app.upload(&token, package.to_string()).await).await;
        let results: Vec<&str> = changed["credentials"]
            .as_array()
            .expect("c")
            .iter()
            .map(|c| c["result"].as_str().expect("r"))
            .collect();
        assert_eq!(results, ["unchanged", "updated", "unchanged"]);
        assert_eq!(
            app.submitted_count(&token).await,
            "3",
            "updated in place, not duplicated"
        );
        let stored: Value = app
            .submission(&token, "369435906932892")
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(stored["name"], "Introduction to Psychology (Honors)");
    }
);

on_both_engines!(
    the_same_assertion_id_from_two_partners_is_two_credentials,
    |app: TestApp| async move {
        let first = app.partner("one").await;
        let second = app.partner("two").await;
        let (t1, t2) = (
            app.token(&first, None).await,
            app.token(&second, None).await,
        );
        ok(app.upload(&t1, fixture("guide/three-courses.json")).await).await;
        let body = ok(app.upload(&t2, fixture("guide/three-courses.json")).await).await;
        assert!(
            body["credentials"]
                .as_array()
                .expect("c")
                .iter()
                .all(|c| c["result"] == "created")
        );
    }
);

on_both_engines!(
    partners_with_unstable_ids_are_keyed_on_recipient_and_achievement,
    |app: TestApp| async move {
        let partner = app
            .partner_with("unstable", |r| r.unstable_ids = true)
            .await;
        let token = app.token(&partner, None).await;
        let mut package = fixture_json("guide/three-courses.json");
        ok(app.upload(&token, package.to_string()).await).await;
        for (i, credential) in package["credentials"]
            .as_array_mut()
            .expect("c")
            .iter_mut()
            .enumerate()
        {
            credential["id"] = json!(format!("reissued-{i}"));
        }
        let body = ok(app.upload(&token, package.to_string()).await).await;
        let results: Vec<&str> = body["credentials"]
            .as_array()
            .expect("c")
            .iter()
            .map(|c| c["result"].as_str().expect("r"))
            .collect();
        assert_eq!(
            results,
            ["updated", "updated", "updated"],
            "same recipient + achievement = same credential"
        );
        // The partner reads and revokes a credential by the assertion id it sent last,
        // though its identity is the recipient and achievement.
        let found = app.submission(&token, "reissued-0").await;
        assert_eq!(found.status(), 200);
        let found: Value = found.json().await.expect("json");
        assert_eq!(found["id"], "reissued-0", "{found}");
        assert_eq!(
            app.submission(&token, "reissued-0-never-sent")
                .await
                .status(),
            404
        );
        let revoked = app
            .client
            .delete(app.url("/api/v1/credentials/reissued-1"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("delete");
        assert!(revoked.status().is_success(), "{}", revoked.status());
        assert_eq!(app.submission(&token, "reissued-1").await.status(), 404);
        assert_eq!(app.submission(&token, "reissued-2").await.status(), 200);
        package.as_object_mut().expect("object").remove("recipient");
        let (status, body) =
            common::imsx_error(app.upload(&token, package.to_string()).await).await;
        assert_eq!(status, 400);
        // The body has no `recipient`: the problem points where it belongs.
        assert_eq!(body["errors"][0]["pointer"], "/recipient");
    }
);

on_both_engines!(
    a_large_package_sent_again_is_unchanged_and_one_edit_is_an_update,
    |app: TestApp| async move {
        // More records than the store looks up one by one, so the other form of the lookup
        // of earlier submissions is used too.
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        let mut package = json!({
            "credentials": (0..60)
                .map(|i| course_with_type(&format!("bulk-{i}"), "Course"))
                .collect::<Vec<_>>()
        });
        let results = |body: &Value| -> Vec<String> {
            body["credentials"]
                .as_array()
                .expect("credentials")
                .iter()
                .map(|c| c["result"].as_str().expect("result").to_string())
                .collect()
        };
        let first = ok(app.upload(&token, package.to_string()).await).await;
        assert!(results(&first).iter().all(|r| r == "created"));
        let again = ok(app.upload(&token, package.to_string()).await).await;
        assert!(results(&again).iter().all(|r| r == "unchanged"));
        package["credentials"][59]["name"] = json!("Calculus II");
        let edited = ok(app.upload(&token, package.to_string()).await).await;
        let edited = results(&edited);
        assert!(edited[..59].iter().all(|r| r == "unchanged"));
        assert_eq!(edited[59], "updated");
    }
);

fn course_with_type(id: &str, achievement_type: &str) -> Value {
    let mut course = fixture_json("guide/three-courses.json")["credentials"][0].clone();
    course["id"] = json!(id);
    course["credentialSubject"]["achievement"]["achievementType"] = json!(achievement_type);
    course
}

on_both_engines!(
    unknown_achievement_type_waits_unassigned_until_an_admin_maps_it,
    |app: TestApp| async move {
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        let body = ok(app
            .upload(
                &token,
                json!({"credentials": [course_with_type("u1", "ext:Internship")]}).to_string(),
            )
            .await)
        .await;
        assert_eq!(body["credentials"][0]["section"], "Unassigned");
        assert_eq!(
            body["warnings"][0]["pointer"],
            "/credentials/0/credentialSubject/achievement/achievementType"
        );
        let alerts = app.open_alerts().await;
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].subject, "ext:Internship");
        // The admin assigns a section: the waiting credential moves, the rule applies from now on.
        let moved = credentialconnect::services::mapping::assign(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            None,
            "ext:Internship",
            credentialconnect::domain::sections::Section::Experience,
        )
        .await
        .expect("assign");
        assert_eq!(moved, 1);
        assert!(app.open_alerts().await.is_empty());
        let body = ok(app
            .upload(
                &token,
                json!({"credentials": [course_with_type("u2", "ext:Internship")]}).to_string(),
            )
            .await)
        .await;
        assert_eq!(body["credentials"][0]["section"], "Experience");
    }
);

on_both_engines!(
    a_partners_own_mapping_overrides_the_guide_table,
    |app: TestApp| async move {
        let partner = app.partner("instx").await;
        let other = app.partner("other").await;
        credentialconnect::services::mapping::assign(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            Some("instx"),
            "Course",
            credentialconnect::domain::sections::Section::Education,
        )
        .await
        .expect("assign");
        let token = app.token(&partner, None).await;
        let body = ok(app
            .upload(
                &token,
                json!({"credentials": [course_with_type("c1", "course")]}).to_string(),
            )
            .await)
        .await;
        assert_eq!(body["credentials"][0]["section"], "Education");
        let other_token = app.token(&other, None).await;
        let body = ok(app
            .upload(
                &other_token,
                json!({"credentials": [course_with_type("c1", "Course")]}).to_string(),
            )
            .await)
        .await;
        assert_eq!(body["credentials"][0]["section"], "Relevant Coursework");
    }
);

on_both_engines!(
    skill_level_and_category_extensions_are_read,
    |app: TestApp| async move {
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        let mut package = fixture_json("guide/three-courses.json");
        let mut carrier = package["credentials"][0].clone();
        carrier["id"] = json!("carrier-1");
        carrier["credentialSubject"]["achievement"]["achievementType"] =
            json!("ext:SkillsAndAbilities");
        carrier["credentialSubject"]["achievement"]["alignment"] = json!([
            {"type": "Alignment", "targetName": "Welding", "skillLevel": "Advanced", "skillCategory": "specialized", "targetUrl": "https://evidence.example/1"}
        ]);
        package["credentials"] = json!([carrier]);
        let body = ok(app.upload(&token, package.to_string()).await).await;
        assert_eq!(
            body["skills"],
            json!([{"name": "Welding", "verified": false}]),
            "no proof: unverified"
        );
        let skill_rows: Vec<String> = app
            .snapshot()
            .await
            .into_iter()
            .filter(|row| row.starts_with("skills:"))
            .collect();
        let [row] = skill_rows.as_slice() else {
            panic!("one skill row: {skill_rows:?}")
        };
        assert!(
            row.contains("\"advanced\"") && row.contains("\"specialized\""),
            "level and category stored: {row}"
        );
        assert!(
            !row.contains("https://evidence.example/1"),
            "evidence links are kept for verified skills only"
        );
    }
);

on_both_engines!(
    strict_partners_get_failed_where_others_get_attested,
    |app: TestApp| async move {
        let partner = app.partner_with("strict", |r| r.strict = true).await;
        let token = app.token(&partner, None).await;
        let body = ok(app
            .upload(&token, fixture("standards/examples/ob30/simple.json"))
            .await)
        .await;
        // Nobody publishes example.com's key here: the proof cannot be checked.
        assert_eq!(body["credentials"][0]["verification"], "failed");
        assert!(
            body["warnings"]
                .to_string()
                .contains("this partner is strict"),
            "{body}"
        );
        let relaxed = app.partner("relaxed").await;
        let relaxed_token = app.token(&relaxed, None).await;
        let relaxed_body = ok(app
            .upload(
                &relaxed_token,
                fixture("standards/examples/ob30/simple.json"),
            )
            .await)
        .await;
        assert_eq!(relaxed_body["credentials"][0]["verification"], "attested");
        assert!(body["warnings"].as_array().expect("w").iter().any(|w| {
            w["message"]
                .as_str()
                .expect("m")
                .contains("verification failed")
        }));
        let alerts = app.open_alerts().await;
        assert!(alerts.iter().any(|a| a.kind == "verification_failed"));
    }
);

on_both_engines!(
    verification_states_are_stored_with_reason_and_time_and_shown_on_the_claim_page,
    |app: TestApp| async move {
        common::publish_issuer_documents(&app.app.verifier);
        let partner = app.partner("issuer").await;
        let token = app.token(&partner, None).await;
        let signed = fixture_json("standards/examples/signed/ob30-ldp-test-vector-signed.json");
        let did_key = fixture_json("standards/examples/ob30/simple-did-key-method.json");
        let body = ok(app
            .upload(
                &token,
                json!({"credentials": [signed, did_key]}).to_string(),
            )
            .await)
        .await;
        let states: Vec<&str> = body["credentials"]
            .as_array()
            .expect("credentials")
            .iter()
            .map(|c| c["verification"].as_str().expect("state"))
            .collect();
        assert_eq!(states, ["verified", "attested"]);
        let rows = app
            .app
            .store
            .read(|conn| {
                let rows = conn.query(
                    "SELECT verification, verification_reason, verification_checked_at FROM credentials ORDER BY position",
                    &[],
                )?;
                rows.iter()
                    .map(|r| Ok((r.text(0)?, r.text(1)?, r.int(2)?)))
                    .collect::<Result<Vec<_>, credentialconnect::store::StoreError>>()
            })
            .await
            .expect("rows");
        assert_eq!(rows[0].0, "verified");
        assert!(rows[0].1.contains("signature verified"), "{}", rows[0].1);
        assert!(
            rows[1].1.contains("nothing ties the key to the issuer"),
            "{}",
            rows[1].1
        );
        assert!(rows.iter().all(|(_, _, at)| *at > 0));
        let page = app
            .client
            .get(body["redirectUrl"].as_str().expect("url"))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(page.contains("signature verified"), "{page}");
        assert!(page.contains("verified by the partner"), "{page}");
        assert!(page.contains("How this was verified"), "{page}");
        assert!(
            page.contains("nothing ties the key to the issuer"),
            "{page}"
        );
    }
);

on_both_engines!(
    a_tampered_credential_fails_with_a_warning_and_an_alert,
    |app: TestApp| async move {
        common::publish_issuer_documents(&app.app.verifier);
        let partner = app.partner("issuer").await;
        let token = app.token(&partner, None).await;
        let mut tampered =
            fixture_json("standards/examples/signed/ob30-ldp-test-vector-signed.json");
        tampered["name"] = json!("Teamwork Badgf");
        let body = ok(app.upload(&token, tampered.to_string()).await).await;
        assert_eq!(body["credentials"][0]["verification"], "failed");
        let warnings = body["warnings"].to_string();
        assert!(warnings.contains("verification failed"), "{warnings}");
        assert!(warnings.contains("signature does not match"), "{warnings}");
        let alerts = app.open_alerts().await;
        let alert = alerts
            .iter()
            .find(|a| a.kind == "verification_failed")
            .expect("an alert");
        assert_eq!(alert.subject, "http://example.com/credentials/3527");
        assert!(
            alert.message.contains("signature does not match"),
            "{}",
            alert.message
        );
    }
);

on_both_engines!(
    a_revocation_after_upload_shows_when_the_package_is_viewed_again,
    |app: TestApp| async move {
        common::publish_issuer_documents(&app.app.verifier);
        // The Wellspring credential's revocation list, first without it.
        let list_url = "https://dc.1edtech.org/wellspring2022/wellspring-portal/api/revocations/da1e96e9-afcc-4eed-b9a2-2ddf7353214c";
        app.app.verifier.fetcher().seed(
            list_url,
            json!({"id": list_url, "revokedCredentials": []}).to_string(),
        );
        let partner = app.partner("issuer").await;
        let token = app.token(&partner, None).await;
        let credential = fixture("standards/examples/ob30/credential-status-revoked.json");
        let body = ok(app.upload(&token, credential).await).await;
        assert_eq!(body["credentials"][0]["verification"], "verified", "{body}");
        let published = fixture_json("verification/published.json");
        app.app
            .verifier
            .fetcher()
            .seed(list_url, published[list_url].to_string());
        app.app
            .clock
            .advance(std::time::Duration::from_secs(2 * 3600));
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
        let reason = app
            .app
            .store
            .read(|conn| {
                conn.query_one("SELECT verification_reason FROM credentials", &[])?
                    .text(0)
            })
            .await
            .expect("reason");
        assert!(reason.contains("revoked by the issuer"), "{reason}");
        let alerts = app.open_alerts().await;
        assert!(
            alerts
                .iter()
                .any(|a| a.kind == "verification_failed" && a.message.contains("revoked"))
        );
    }
);

on_both_engines!(
    copies_of_new_packages_sent_at_once_store_each_credential_once,
    |app: TestApp| async move {
        // A partner retrying at once, or two of its workers sending the same packages: the
        // copies race to insert the same new credentials (on PostgreSQL each copy is one
        // statement, and all but one break the unique rule and are sent again). Every copy
        // is stored whole, with its own claim link; every credential once, created by one.
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        let large = json!({
            "credentials": (0..500)
                .map(|i| course_with_type(&format!("race-{i}"), "Course"))
                .collect::<Vec<_>>()
        })
        .to_string();
        let small = fixture_json("guide/three-courses.json").to_string();
        let copies = (0..3)
            .map(|_| large.clone())
            .chain((0..12).map(|_| small.clone()));
        let responses =
            futures_util::future::join_all(copies.map(|body| app.upload(&token, body))).await;
        let mut created: std::collections::HashMap<String, usize> = Default::default();
        let mut links = std::collections::HashSet::new();
        for response in responses {
            let receipt = ok(response).await;
            assert!(
                links.insert(receipt["redirectUrl"].to_string()),
                "a claim link of its own"
            );
            for credential in receipt["credentials"].as_array().expect("credentials") {
                let id = credential["id"].as_str().expect("id").to_string();
                let count = created.entry(id).or_default();
                match credential["result"].as_str() {
                    Some("created") => *count += 1,
                    Some("unchanged") => {}
                    other => panic!("a copy's credential was {other:?}"),
                }
            }
        }
        assert_eq!(created.len(), 503);
        let twice: Vec<_> = created.iter().filter(|(_, n)| **n != 1).collect();
        assert!(
            twice.is_empty(),
            "created by more than one copy, or by none: {twice:?}"
        );
        assert_eq!(app.submitted_count(&token).await, "503");
    }
);

/// What an upload stored, read back without the values made at random or from the clock
/// (ids, times): each credential (its parent by key), skill and link, in a stable order.
async fn stored_contents(app: &TestApp) -> Vec<String> {
    const QUERIES: [&str; 3] = [
        "SELECT c.assertion_key, c.assertion_id, c.kind, p.assertion_key, c.document, c.jws, c.fingerprint, c.name,
                c.name_languages, c.description, c.issuer_id, c.issuer_name, c.achievement_id, c.achievement_type,
                c.section, c.awarded_text, c.awarded_at, c.valid_until_text, c.valid_until_at, c.recipient_id,
                c.verification, c.verification_reason, c.position, c.deleted_at, c.owner_user_id
         FROM credentials c LEFT JOIN credentials p ON p.id = c.parent_id ORDER BY c.assertion_key",
        "SELECT c.assertion_key, s.position, s.name, s.description, s.framework, s.code, s.target_type,
                s.evidence_url, s.level, s.category, s.verified, s.verified_by, s.verified_on
         FROM skills s JOIN credentials c ON c.id = s.credential_id ORDER BY c.assertion_key, s.position",
        "SELECT c.assertion_key, l.position, l.result
         FROM package_credentials l JOIN credentials c ON c.id = l.credential_id ORDER BY c.assertion_key, l.position, l.result",
    ];
    app.app
        .store
        .read(|conn| {
            let mut lines = Vec::new();
            for sql in QUERIES {
                for row in conn.query(sql, &[])? {
                    lines.push(format!("{:?}", row.0));
                }
            }
            Ok(lines)
        })
        .await
        .expect("the stored contents")
}

/// On PostgreSQL a package of the usual kind is stored by one statement, its records sent
/// column by column; on SQLite, and for any other package, by a transaction of many. Both
/// must store the same thing, NULLs, nested CLR parts and skills included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_statement_stores_what_a_transaction_stores() {
    let postgres = TestApp::spawn(common::Engine::Postgres).await;
    let _database = postgres.database_guard();
    let sqlite = TestApp::spawn(common::Engine::Sqlite).await;
    let _sqlite_database = sqlite.database_guard();
    for app in [&postgres, &sqlite] {
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        for package in [
            "guide/three-courses.json",
            "guide/clr-profile.json",
            "guide/skillsync.json",
        ] {
            ok(app.upload(&token, fixture(package)).await).await;
            // Again, as it is: the lean statement on PostgreSQL.
            ok(app.upload(&token, fixture(package)).await).await;
        }
    }
    let (on_postgres, on_sqlite) = (
        stored_contents(&postgres).await,
        stored_contents(&sqlite).await,
    );
    assert!(
        on_postgres.iter().any(|line| line.contains("Null")),
        "some stored values are NULL: {on_postgres:#?}"
    );
    for (postgres_row, sqlite_row) in on_postgres.iter().zip(&on_sqlite) {
        assert_eq!(
            postgres_row, sqlite_row,
            "PostgreSQL (left) and SQLite (right)"
        );
    }
    assert_eq!(
        on_postgres.len(),
        on_sqlite.len(),
        "{on_postgres:#?}\n{on_sqlite:#?}"
    );
}

/// Two packages that share credentials but list them in crossing orders, sent at the same
/// moment on PostgreSQL, where each is a transaction of its own (two of a partner's workers,
/// through two instances or while connections are free). Each insert of a new credential
/// takes its key in the unique index until the transaction ends; in the packages' own orders
/// each would hold the key the other wants next, and PostgreSQL would undo one of them to
/// break the deadlock. Both must be stored, each credential created once: by the one
/// statement of the usual package (whose new credentials go in the order of their keys, so
/// one upload waits for the other) and by the transaction of any other kind (here
/// credentials waiting in Unassigned), which the service runs again when the database undid
/// it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_sharing_credentials_in_crossing_orders_are_both_stored() {
    let app = TestApp::spawn(common::Engine::Postgres).await;
    let _database = app.database_guard();
    // Each credential's insert takes a moment, so that both uploads hold their first key
    // before either asks for its second.
    app.app
        .store
        .write(|conn| {
            conn.batch(
                "CREATE FUNCTION slow_credential() RETURNS trigger LANGUAGE plpgsql AS
                     $$ BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$;
                 CREATE TRIGGER slow_credential BEFORE INSERT ON credentials
                     FOR EACH ROW EXECUTE FUNCTION slow_credential();",
            )
        })
        .await
        .expect("a slow insert");
    let partner = app.partner("instx").await;
    let token = app.token(&partner, None).await;
    for (kind, achievement_type) in [("usual", "Course"), ("unassigned", "ext:Internship")] {
        let course = |n: usize| course_with_type(&format!("{kind}-{n}"), achievement_type);
        let crossing = [
            json!({"credentials": [course(1), course(2)]}).to_string(),
            json!({"credentials": [course(2), course(1)]}).to_string(),
        ];
        let receipts = futures_util::future::join_all(
            crossing.map(|package| async { ok(app.upload(&token, package).await).await }),
        )
        .await;
        let mut created = std::collections::BTreeMap::<String, usize>::new();
        for receipt in &receipts {
            for credential in receipt["credentials"].as_array().expect("credentials") {
                let count = created
                    .entry(credential["id"].as_str().expect("id").to_string())
                    .or_default();
                if credential["result"] == "created" {
                    *count += 1;
                }
            }
        }
        assert_eq!(
            created,
            [(format!("{kind}-1"), 1), (format!("{kind}-2"), 1)].into(),
            "{kind}: each credential created by one upload: {receipts:?}"
        );
    }
}
