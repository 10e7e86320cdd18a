//! Bad input gets the right status and a clear Imsx message naming what is wrong and
//! where, and the database is exactly as it was before the request.

mod common;

use common::{TestApp, fixture, fixture_json};
use serde_json::{Value, json};

/// Sends the request, asserts it changed nothing, and returns (status, Imsx body).
async fn rejected(app: &TestApp, request: reqwest::RequestBuilder) -> (u16, Value) {
    let before = app.snapshot().await;
    let response = request.send().await.expect("send");
    let outcome = common::imsx_error(response).await;
    assert_eq!(
        app.snapshot().await,
        before,
        "a rejected request left a trace"
    );
    outcome
}

/// A partner with some data already stored, and a token.
async fn with_data(app: &TestApp) -> String {
    let partner = app.partner("instx").await;
    let token = app.token(&partner, None).await;
    assert_eq!(
        app.upload(&token, fixture("guide/three-courses.json"))
            .await
            .status(),
        200
    );
    token
}

fn upload(app: &TestApp, token: &str, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
    app.client
        .post(app.url("/api/v1/credentials"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
}

fn pointers(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|e| e["pointer"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

on_both_engines!(
    malformed_json_names_the_line_and_column,
    |app: TestApp| async move {
        let token = with_data(&app).await;
        let (status, body) = rejected(
            &app,
            upload(
                &app,
                &token,
                "{\n  \"credentials\": [\n    {\"id\": \"1\",}\n  ]\n}",
            ),
        )
        .await;
        assert_eq!(status, 400);
        let description = body["imsx_description"].as_str().expect("d");
        assert!(description.contains("line 3, column 16"), "{description}");
    }
);

on_both_engines!(
    wrong_types_are_named_by_pointer,
    |app: TestApp| async move {
        let token = with_data(&app).await;
        let mut package = fixture_json("guide/three-courses.json");
        package["credentials"][0]["name"] = json!(["not", "a", "string"]);
        package["credentials"][2]["issuer"] = json!(42);
        package["recipient"] = json!("jsmith");
        let (status, body) = rejected(&app, upload(&app, &token, package.to_string())).await;
        assert_eq!(status, 400);
        assert_eq!(
            pointers(&body),
            ["/recipient", "/credentials/0/name", "/credentials/2/issuer"]
        );
        assert!(
            body["errors"][1]["message"]
                .as_str()
                .expect("m")
                .contains("must be a string, got an array")
        );
    }
);

on_both_engines!(
    missing_ids_are_listed_and_nothing_of_the_package_is_stored,
    |app: TestApp| async move {
        let token = with_data(&app).await;
        let mut package = fixture_json("guide/three-courses.json");
        package["credentials"][0]["name"] = json!("Changed, but the package is refused");
        package["credentials"][1]["id"] = json!("");
        package["credentials"][2]
            .as_object_mut()
            .expect("o")
            .remove("id");
        let (status, body) = rejected(&app, upload(&app, &token, package.to_string())).await;
        assert_eq!(status, 400);
        assert_eq!(pointers(&body), ["/credentials/1/id", "/credentials/2/id"]);
        assert!(
            body["imsx_description"]
                .as_str()
                .expect("d")
                .contains("2 problems")
        );
    }
);

on_both_engines!(
    five_hundred_and_one_credentials_are_too_many,
    |app: TestApp| async move {
        let token = with_data(&app).await;
        let course = fixture_json("guide/three-courses.json")["credentials"][0].clone();
        let credentials: Vec<Value> = (0..501)
            .map(|i| {
                let mut c = course.clone();
                c["id"] = json!(format!("bulk-{i}"));
                c
            })
            .collect();
        let (status, body) = rejected(
            &app,
            upload(
                &app,
                &token,
                json!({"credentials": credentials}).to_string(),
            ),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(pointers(&body), ["/credentials"]);
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .expect("m")
                .contains("at most 500")
        );
    }
);

fn skill_package(alignment: Value) -> String {
    let mut package = fixture_json("guide/three-courses.json");
    let mut carrier = package["credentials"][0].clone();
    carrier["id"] = json!("carrier");
    carrier["credentialSubject"]["achievement"]["achievementType"] = json!("SkillsAndAbilities");
    carrier["credentialSubject"]["achievement"]["alignment"] = json!([alignment]);
    package["credentials"] = json!([carrier]);
    package.to_string()
}

on_both_engines!(
    a_skill_name_of_41_characters_is_refused,
    |app: TestApp| async move {
        let token = with_data(&app).await;
        let name = "Advanced Quality Management and Sales Ops";
        assert_eq!(name.chars().count(), 41);
        let (status, body) = rejected(
            &app,
            upload(&app, &token, skill_package(json!({"targetName": name}))),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(
            pointers(&body),
            ["/credentials/0/credentialSubject/achievement/alignment/0/targetName"]
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .expect("m")
                .contains("at most 40 characters")
        );
    }
);

on_both_engines!(
    an_unknown_skill_level_is_refused,
    |app: TestApp| async move {
        let token = with_data(&app).await;
        let (status, body) = rejected(
            &app,
            upload(
                &app,
                &token,
                skill_package(json!({"targetName": "Sales", "skillLevel": "guru"})),
            ),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(
            pointers(&body),
            ["/credentials/0/credentialSubject/achievement/alignment/0/skillLevel"]
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .expect("m")
                .contains("beginner, intermediate, advanced, expert")
        );
    }
);

on_both_engines!(
    a_six_mebibyte_body_is_too_large,
    |app: TestApp| async move {
        let token = with_data(&app).await;
        let mut body = String::from("{\"credentials\": [], \"padding\": \"");
        body.push_str(&"x".repeat(6 * 1024 * 1024));
        body.push_str("\"}");
        let (status, body) = rejected(&app, upload(&app, &token, body)).await;
        assert_eq!(status, 413);
        assert!(
            body["imsx_description"]
                .as_str()
                .expect("d")
                .contains("larger than")
        );
    }
);

on_both_engines!(
    nesting_two_hundred_levels_deep_is_refused,
    |app: TestApp| async move {
        let token = with_data(&app).await;
        let body = format!(
            "{{\"credentials\": {}{}}}",
            "[".repeat(200),
            "]".repeat(200)
        );
        let (status, body) = rejected(&app, upload(&app, &token, body)).await;
        assert_eq!(status, 400);
        assert!(
            body["imsx_description"]
                .as_str()
                .expect("d")
                .contains("nesting is too deep")
        );
    }
);

on_both_engines!(an_expired_token_is_refused, |app: TestApp| async move {
    let token = with_data(&app).await;
    app.app
        .clock
        .advance(std::time::Duration::from_secs(2 * 3600));
    let (status, body) = rejected(
        &app,
        upload(&app, &token, fixture("guide/three-courses.json")),
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        body["imsx_description"]
            .as_str()
            .expect("d")
            .contains("expired")
    );
});

on_both_engines!(
    a_token_without_the_scope_is_forbidden,
    |app: TestApp| async move {
        with_data(&app).await;
        let partner = app.partner("reader").await;
        let token = app.token(&partner, Some("readonly")).await;
        let before = app.snapshot().await;
        let response = upload(&app, &token, fixture("guide/three-courses.json"))
            .send()
            .await
            .expect("send");
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .expect("h")
            .to_string();
        let (status, body) = common::imsx_error(response).await;
        assert_eq!(status, 403);
        assert_eq!(
            challenge,
            "Bearer error=\"insufficient_scope\", scope=\"replace\""
        );
        assert!(
            body["imsx_description"]
                .as_str()
                .expect("d")
                .contains("replace")
        );
        assert_eq!(app.snapshot().await, before);
        let token = app.token(&partner, Some("replace")).await;
        let (status, _) = rejected(
            &app,
            app.client
                .delete(app.url("/api/v1/credentials/351843720888468"))
                .bearer_auth(&token),
        )
        .await;
        assert_eq!(status, 403);
    }
);

on_both_engines!(a_made_up_token_is_refused, |app: TestApp| async move {
    with_data(&app).await;
    let (status, _) = rejected(
        &app,
        upload(
            &app,
            "cc_at_not-a-real-token",
            fixture("guide/three-courses.json"),
        ),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = rejected(
        &app,
        app.client.post(app.url("/api/v1/credentials")).body("{}"),
    )
    .await;
    assert_eq!(status, 401, "no Authorization header");
});

on_both_engines!(
    an_unsupported_content_type_is_415,
    |app: TestApp| async move {
        let token = with_data(&app).await;
        let request = app
            .client
            .post(app.url("/api/v1/credentials"))
            .bearer_auth(&token)
            .header("content-type", "application/xml")
            .body("<credentials/>");
        let (status, body) = rejected(&app, request).await;
        assert_eq!(status, 415);
        assert!(
            body["imsx_description"]
                .as_str()
                .expect("d")
                .contains("application/json")
        );
    }
);

on_both_engines!(
    a_wrong_method_is_405_with_allow,
    |app: TestApp| async move {
        let token = with_data(&app).await;
        let before = app.snapshot().await;
        let response = app
            .client
            .patch(app.url("/api/v1/credentials"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send");
        let allow = response
            .headers()
            .get("allow")
            .expect("Allow header")
            .to_str()
            .expect("h")
            .to_string();
        let (status, body) = common::imsx_error(response).await;
        assert_eq!(status, 405);
        assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
        let description = body["imsx_description"].as_str().expect("d");
        assert!(description.contains("not allowed"), "{description}");
        assert!(
            description.ends_with(&format!("allowed: {allow}")),
            "the body lists the methods allowed: {description}"
        );
        assert_eq!(app.snapshot().await, before);
    }
);

on_both_engines!(
    an_unknown_api_path_is_an_imsx_404,
    |app: TestApp| async move {
        let token = with_data(&app).await;
        let (status, _) = rejected(
            &app,
            app.client
                .get(app.url("/api/v1/badges"))
                .bearer_auth(&token),
        )
        .await;
        assert_eq!(status, 404);
    }
);

on_both_engines!(
    a_package_with_nothing_to_import_is_refused,
    |app: TestApp| async move {
        let token = with_data(&app).await;
        let (status, body) = rejected(
            &app,
            upload(
                &app,
                &token,
                "{\"recipient\": {\"id\": \"1\"}, \"credentials\": []}",
            ),
        )
        .await;
        assert_eq!(status, 400);
        assert!(
            body["imsx_description"]
                .as_str()
                .expect("d")
                .contains("nothing to import")
        );
        let (status, _) = rejected(&app, upload(&app, &token, "  ")).await;
        assert_eq!(status, 400, "an empty body");
    }
);

/// A 429 Imsx answer whose description names `reason`, with `Retry-After: 60` (a minute's
/// window).
async fn over_the_rate(response: reqwest::Response, reason: &str) {
    assert_eq!(response.headers()["retry-after"], "60");
    let (status, body) = common::imsx_error(response).await;
    assert_eq!(status, 429, "{body}");
    assert!(
        body["imsx_description"]
            .as_str()
            .expect("description")
            .contains(reason),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_past_one_addresss_rate_are_refused_whatever_the_partner() {
    let app = TestApp::spawn_with(common::Engine::Sqlite, |config| {
        config.upload_rate_per_minute = 0;
        config.upload_rate_per_address_per_minute = 2;
    })
    .await;
    let first = with_data(&app).await;
    let other = app.partner("other").await;
    let second = app.token(&other, None).await;
    assert_eq!(
        app.upload(&second, fixture("guide/three-courses.json"))
            .await
            .status(),
        200,
        "another partner, the second upload from this address"
    );
    let before = app.snapshot().await;
    for token in [&first, &second] {
        let response = upload(&app, token, fixture("guide/three-courses.json"))
            .send()
            .await
            .expect("send");
        over_the_rate(response, "from this address").await;
    }
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_past_the_partners_rate_are_refused_with_429_and_store_nothing() {
    let app = TestApp::spawn_with(common::Engine::Sqlite, |config| {
        config.upload_rate_per_minute = 2
    })
    .await;
    let token = with_data(&app).await;
    assert_eq!(
        app.upload(&token, fixture("guide/three-courses.json"))
            .await
            .status(),
        200
    );
    let before = app.snapshot().await;
    let response = upload(&app, &token, fixture("guide/three-courses.json"))
        .send()
        .await
        .expect("send");
    over_the_rate(response, "limit").await;
    assert_eq!(app.snapshot().await, before);
}

/// Replacing a credential writes as much as uploading it: it counts against the same limits,
/// so the per-partner and per-address rates cannot be stepped round by sending PUTs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacing_credentials_counts_against_the_upload_rate() {
    let app = TestApp::spawn_with(common::Engine::Sqlite, |config| {
        config.upload_rate_per_minute = 2
    })
    .await;
    let token = with_data(&app).await;
    let mut course = fixture_json("guide/three-courses.json")["credentials"][0].clone();
    let url = app.url(&format!(
        "/api/v1/credentials/{}",
        course["id"].as_str().expect("id")
    ));
    let mut replace = |name: &str| {
        course["name"] = json!(name);
        app.client
            .put(&url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(course.to_string())
    };
    let response = replace("Calculus II").send().await.expect("send");
    assert_eq!(response.status(), 200, "the second write this minute");
    let before = app.snapshot().await;
    let response = replace("Calculus III").send().await.expect("send");
    over_the_rate(response, "limit").await;
    assert_eq!(app.snapshot().await, before);
}
