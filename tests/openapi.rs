//! The OpenAPI document and the reference page describe every route, and every documented
//! operation is served.

mod common;

use common::{Engine, TestApp};
use serde_json::Value;

#[tokio::test]
async fn the_document_is_openapi_3_1_and_lists_every_partner_route() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
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
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
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
