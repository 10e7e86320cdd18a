//! The OpenAPI document and the reference page describe every route, and every documented
//! operation is served.

mod common;

use common::{Engine, TestApp};
use serde_json::Value;

#[tokio::test]
async fn the_document_is_openapi_3_1_and_lists_every_partner_route() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    let expected = [
        ("/api/v1/token", "post"),
        ("/api/v1/credentials", "post"),
        ("/api/v1/credentials", "get"),
        ("/api/v1/credentials/{id}", "get"),
        ("/api/v1/credentials/{id}", "put"),
        ("/api/v1/credentials/{id}", "delete"),
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/docs", "get"),
    ];
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            documented.push((path.clone(), method.clone()));
        }
    }
    let mut wanted: Vec<(String, String)> = expected
        .iter()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    wanted.sort();
    documented.sort();
    assert_eq!(documented, wanted);
    for schema in ["ImsxStatusInfo", "Receipt", "TokenResponse", "OAuthError"] {
        assert!(
            doc["components"]["schemas"].get(schema).is_some(),
            "{schema} schema"
        );
    }
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let doc = document(&app).await;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            let url = app.url(&path.replace("{id}", "x"));
            let method =
                reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let status = app
                .client
                .request(method.clone(), &url)
                .send()
                .await
                .expect("send")
                .status()
                .as_u16();
            assert!(
                status != 404 && status != 405,
                "{method} {path} is documented but not served: {status}"
            );
            let documented: Vec<&String> = item[method.as_str().to_lowercase()]["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .collect();
            assert!(
                documented.iter().any(|s| s.as_str() == status.to_string()),
                "{method} {path} answered {status}, not documented in {documented:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_reference_page_shows_every_operation() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let html = app
        .client
        .get(app.url("/api/v1/docs"))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("html");
    for operation in [
        "POST /api/v1/token",
        "POST /api/v1/credentials",
        "GET /api/v1/credentials/{id}",
        "DELETE /api/v1/credentials/{id}",
    ] {
        assert!(
            html.contains(operation),
            "{operation} missing from the reference page"
        );
    }
    assert!(
        html.contains("insufficient") || html.contains("scope"),
        "scopes are documented"
    );
}

async fn document(app: &TestApp) -> Value {
    app.client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json")
}

/// Resolves a `#/components/schemas/…` reference.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => doc
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{reference} resolves")),
        None => schema,
    }
}

#[tokio::test]
async fn upload_and_replace_bodies_are_typed_as_the_partner_guide_describes() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let doc = document(&app).await;
    for (path, method) in [
        ("/api/v1/credentials", "post"),
        ("/api/v1/credentials/{id}", "put"),
    ] {
        let body =
            &doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(
            body["$ref"], "#/components/schemas/Package",
            "{method} {path}"
        );
    }
    let schemas = &doc["components"]["schemas"];
    // One of `credentials`, `credential`, or a bare credential (or a compact JWS).
    let shapes: Vec<&str> = schemas["Package"]["anyOf"]
        .as_array()
        .expect("anyOf")
        .iter()
        .filter_map(|s| s["$ref"].as_str())
        .collect();
    assert_eq!(
        shapes,
        [
            "#/components/schemas/PackageEnvelope",
            "#/components/schemas/Credential",
            "#/components/schemas/CompactJws"
        ]
    );
    let envelope = &schemas["PackageEnvelope"];
    for property in [
        "credentials",
        "credential",
        "recipient",
        "recipienttoken",
        "recipientToken",
    ] {
        assert!(
            envelope["properties"].get(property).is_some(),
            "{property} in the envelope"
        );
    }
    for field in ["id", "givenName", "familyName", "email", "studentId"] {
        assert!(
            schemas["Recipient"]["properties"].get(field).is_some(),
            "recipient.{field}"
        );
    }
    assert_eq!(
        schemas["Credential"]["required"],
        serde_json::json!(["id", "type", "issuer"])
    );
    // The standards' schemas are served with the document, as their publishers name them.
    assert_eq!(
        schemas["OpenBadgeCredential"]["$id"],
        "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
    );
    assert_eq!(
        schemas["ClrCredential"]["$id"],
        "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
    );
    // `{}` is no longer a valid package: every shape requires something it lacks.
    for shape in ["PackageEnvelope", "Credential"] {
        let schema = resolve(&doc, &schemas[shape]);
        assert!(
            schema.get("required").is_some() || schema.get("anyOf").is_some(),
            "{shape} requires something"
        );
    }
}

#[tokio::test]
async fn an_upload_links_to_reading_replacing_and_deleting_what_it_stored() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let doc = document(&app).await;
    let operation_ids: Vec<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("item").values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let links = doc["paths"]["/api/v1/credentials"]["post"]["responses"]["200"]["links"]
        .as_object()
        .expect("links on the upload's 200");
    let mut targets: Vec<&str> = links
        .values()
        .map(|link| {
            assert_eq!(
                link["parameters"]["id"], "$response.body#/credentials/0/id",
                "{link}"
            );
            link["operationId"].as_str().expect("operationId")
        })
        .collect();
    targets.sort_unstable();
    assert_eq!(targets, ["delete", "read", "replace"]);
    for target in targets {
        assert!(operation_ids.contains(&target), "{target} is an operation");
    }
    assert!(
        doc["paths"]["/api/v1/credentials/{id}"]["put"]["responses"]["200"]["links"]
            .as_object()
            .is_some_and(|links| !links.is_empty()),
        "a replacement links on too"
    );
}

/// A validator for the document's `Package` schema (the standards' own schemas, which it
/// does not refer to, left out: they are JSON Schema draft 4).
fn package_validator(doc: &Value) -> jsonschema::Validator {
    let mut components = doc["components"].clone();
    let schemas = components["schemas"].as_object_mut().expect("schemas");
    schemas.remove("OpenBadgeCredential");
    schemas.remove("ClrCredential");
    let schema = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": "#/components/schemas/Package",
        "components": components,
    });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .expect("the Package schema compiles")
}

#[tokio::test]
async fn the_guides_packages_fit_the_schema_and_what_it_refuses_the_server_refuses() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let doc = document(&app).await;
    let validator = package_validator(&doc);
    let jwt =
        String::from_utf8(common::fixture("standards/examples/clr20/simple.jwt")).expect("text");
    for body in [
        common::fixture_json("guide/three-courses.json"),
        // (The guide's SkillSync example is not JSON: it has a raw line break in a string.)
        common::fixture_json("standards/examples/ob30-spec/fullOpenBadge.json"),
        common::fixture_json("guide/clr-profile.json"),
        common::fixture_json("standards/examples/ob30-spec/basicOpenBadgeCredential.json"),
        Value::String(jwt.trim().to_string()),
    ] {
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?} in {body}");
    }

    let partner = app.partner("schema").await;
    let token = app.token(&partner, None).await;
    let course = serde_json::json!({
        "id": "urn:uuid:1", "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://issuer.example"}, "name": "Course"
    });
    let refused = [
        serde_json::json!({}),
        serde_json::json!([]),
        serde_json::json!(5),
        serde_json::json!("not a JWS"),
        serde_json::json!({"credentials": 5}),
        serde_json::json!({"credentials": [5]}),
        serde_json::json!({"credentials": [null]}),
        serde_json::json!({"credentials": [course], "recipient": 4}),
        serde_json::json!({"credentials": [course], "recipient": {"email": 4}}),
        serde_json::json!({"credentials": [course], "recipienttoken": 4}),
        serde_json::json!({"credential": {"type": ["Nothing"], "id": "x", "issuer": "y", "name": "z"}}),
        serde_json::json!({"credential": {"type": "OpenBadgeCredential", "id": " ", "issuer": "y", "name": "z"}}),
        serde_json::json!({"credential": {"type": "OpenBadgeCredential", "id": "x", "issuer": {}, "name": "z"}}),
        serde_json::json!({"credential": {"type": ["OpenBadgeCredential", 5], "id": "x", "issuer": "y", "name": "z"}}),
        serde_json::json!({"credential": {"type": "OpenBadgeCredential", "id": "x", "issuer": "y"}}),
        serde_json::json!({"credential": {"type": "OpenBadgeCredential", "id": "x", "issuer": "y", "name": {"@value": "z"}}}),
        serde_json::json!({"credential": {"type": "OpenBadgeCredential", "id": "x", "issuer": "y", "name": []}}),
        serde_json::json!({"credential": {"type": "OpenBadgeCredential", "id": 1.5, "issuer": "y", "name": "z"}}),
    ];
    for body in refused {
        assert!(!validator.is_valid(&body), "the schema takes {body}");
        let response = app.upload(&token, body.to_string()).await;
        assert_eq!(response.status(), 400, "the server takes {body}");
    }
    let accepted =
        serde_json::json!({"credentials": [course], "recipient": {"id": 7, "email": null}});
    assert!(validator.is_valid(&accepted));
    assert_eq!(app.upload(&token, accepted.to_string()).await.status(), 200);
}
