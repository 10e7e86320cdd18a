//! `GET /api/v1/credentials` (paging), `GET|PUT|DELETE /api/v1/credentials/{id}`: a partner
//! reads back, replaces and deletes what it sent, and only what it sent.

mod common;

use common::{TestApp, fixture, fixture_json};
use serde_json::{Value, json};

async fn seeded(app: &TestApp) -> String {
    let partner = app.partner("instx").await;
    let token = app.token(&partner, None).await;
    let course = fixture_json("guide/three-courses.json")["credentials"][0].clone();
    let credentials: Vec<Value> = (0..7)
        .map(|i| {
            let mut c = course.clone();
            c["id"] = json!(format!("course-{i}"));
            c
        })
        .collect();
    assert_eq!(
        app.upload(&token, json!({"credentials": credentials}).to_string())
            .await
            .status(),
        200
    );
    token
}

on_both_engines!(
    listing_pages_with_total_count_and_links,
    |app: TestApp| async move {
        let token = seeded(&app).await;
        let response = app
            .client
            .get(app.url("/api/v1/credentials?limit=3&offset=3"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-total-count"], "7");
        let link = response.headers()["link"]
            .to_str()
            .expect("link")
            .to_string();
        let base = app.url("/api/v1/credentials");
        for expected in [
            format!("<{base}?limit=3&offset=0>; rel=\"first\""),
            format!("<{base}?limit=3&offset=0>; rel=\"prev\""),
            format!("<{base}?limit=3&offset=6>; rel=\"next\""),
            format!("<{base}?limit=3&offset=6>; rel=\"last\""),
        ] {
            assert!(link.contains(&expected), "{expected} not in {link}");
        }
        let body: Value = response.json().await.expect("json");
        let ids: Vec<&str> = body["credential"]
            .as_array()
            .expect("credential")
            .iter()
            .map(|c| c["id"].as_str().expect("id"))
            .collect();
        assert_eq!(
            ids,
            ["course-3", "course-4", "course-5"],
            "in submission order"
        );
        let last: Value = app
            .client
            .get(app.url("/api/v1/credentials?limit=3&offset=6"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        assert_eq!(last["credential"].as_array().expect("c").len(), 1);
    }
);

on_both_engines!(
    listing_validates_paging_parameters,
    |app: TestApp| async move {
        let token = seeded(&app).await;
        for query in ["limit=0", "limit=1001", "offset=-3", "limit=ten"] {
            let response = app
                .client
                .get(app.url(&format!("/api/v1/credentials?{query}")))
                .bearer_auth(&token)
                .send()
                .await
                .expect("send");
            let (status, _) = common::imsx_error(response).await;
            assert_eq!(status, 400, "{query}");
        }
    }
);

on_both_engines!(
    the_largest_offset_is_an_empty_page_not_an_overflow,
    |app: TestApp| async move {
        let token = seeded(&app).await;
        for query in [
            format!("limit=1000&offset={}", i64::MAX),
            format!("limit=1&offset={}", i64::MAX - 1),
        ] {
            let response = app
                .client
                .get(app.url(&format!("/api/v1/credentials?{query}")))
                .bearer_auth(&token)
                .send()
                .await
                .expect("send");
            assert_eq!(response.status(), 200, "{query}");
            let link = response.headers()["link"]
                .to_str()
                .expect("link")
                .to_string();
            assert!(!link.contains("rel=\"next\""), "{query}: {link}");
            assert!(link.contains("rel=\"prev\""), "{query}: {link}");
            let body: Value = response.json().await.expect("json");
            assert_eq!(body["credential"], serde_json::json!([]), "{query}");
        }
    }
);

on_both_engines!(
    one_credential_reads_back_as_submitted,
    |app: TestApp| async move {
        let partner = app.partner("issuer").await;
        let token = app.token(&partner, None).await;
        assert_eq!(
            app.upload(&token, fixture("standards/examples/ob30/simple.json"))
                .await
                .status(),
            200
        );
        let id = "http://example.com/credentials/3527";
        let response = app.submission(&token, &percent_encode(id)).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body, fixture_json("standards/examples/ob30/simple.json"));
    }
);

on_both_engines!(
    another_partners_credential_is_404_not_403,
    |app: TestApp| async move {
        seeded(&app).await;
        let other = app.partner("other").await;
        let token = app.token(&other, None).await;
        for request in [
        app.client.get(app.url("/api/v1/credentials/course-1")),
        app.client.delete(app.url("/api/v1/credentials/course-1")),
        app.client.put(app.url("/api/v1/credentials/course-1")).header("content-type", "application/json").body(json!({"id": "course-1", "type": "VerifiableCredential", "issuer": "x", "name": "n"}).to_string()),
    ] {
        let before = app.snapshot().await;
        let (status, _) = common::imsx_error(request.bearer_auth(&token).send().await.expect("send")).await;
        assert_eq!(status, 404);
        assert_eq!(app.snapshot().await, before);
    }
        assert_eq!(app.submitted_count(&token).await, "0");
    }
);

on_both_engines!(
    put_replaces_one_credential_in_place,
    |app: TestApp| async move {
        let token = seeded(&app).await;
        let mut course = fixture_json("guide/three-courses.json")["credentials"][0].clone();
        course["id"] = json!("course-2");
        course["name"] = json!("Calculus II");
        course["credentialSubject"]["achievement"]["achievementType"] = json!("Certification");
        let response = app
            .client
            .put(app.url("/api/v1/credentials/course-2"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(course.to_string())
            .send()
            .await
            .expect("send");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["credentials"][0]["result"], "updated", "{body}");
        assert_eq!(body["credentials"][0]["section"], "Certification");
        let stored: Value = app
            .submission(&token, "course-2")
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(stored["name"], "Calculus II");
        // The id in the body must be the one in the URL.
        course["id"] = json!("course-3");
        let before = app.snapshot().await;
        let response = app
            .client
            .put(app.url("/api/v1/credentials/course-2"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(course.to_string())
            .send()
            .await
            .expect("send");
        let (status, body) = common::imsx_error(response).await;
        assert_eq!(status, 400);
        assert_eq!(body["errors"][0]["pointer"], "/id");
        assert_eq!(app.snapshot().await, before);
    }
);

on_both_engines!(
    delete_removes_it_and_marks_it_revoked_where_claimed,
    |app: TestApp| async move {
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        let upload: Value = app
            .upload(&token, fixture("guide/three-courses.json"))
            .await
            .json()
            .await
            .expect("json");
        let response = app
            .client
            .delete(app.url("/api/v1/credentials/369435906932892"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 204);
        let (status, _) = common::imsx_error(app.submission(&token, "369435906932892").await).await;
        assert_eq!(status, 404);
        assert_eq!(app.submitted_count(&token).await, "2");
        let html = app
            .client
            .get(upload["redirectUrl"].as_str().expect("url"))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(
            html.contains("revoked by the issuer"),
            "the package shows the revocation"
        );
        let (status, _) = common::imsx_error(
            app.client
                .delete(app.url("/api/v1/credentials/369435906932892"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!(status, 404, "deleting twice");
        // Sending it again re-issues it.
        let again: Value = app
            .upload(&token, fixture("guide/three-courses.json"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(again["credentials"][1]["result"], "updated");
        // The package was sent before as it is, so the upload expected every record to be
        // unchanged: the re-issued one still stores its whole document.
        let response = app.submission(&token, "369435906932892").await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("json");
        assert_eq!(
            body,
            fixture_json("guide/three-courses.json")["credentials"][1],
            "the re-issued credential reads back as submitted"
        );
    }
);

on_both_engines!(
    claim_links_that_are_unknown_or_expired_say_so,
    |app: TestApp| async move {
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        let upload: Value = app
            .upload(&token, fixture("guide/three-courses.json"))
            .await
            .json()
            .await
            .expect("json");
        let response = app
            .client
            .get(app.url("/createmyresume/not-a-token"))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 404);
        assert!(response.text().await.expect("html").contains("not valid"));
        app.app
            .clock
            .advance(std::time::Duration::from_secs(31 * 24 * 3600));
        let response = app
            .client
            .get(upload["redirectUrl"].as_str().expect("url"))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 404, "expired after 30 days");
    }
);

on_both_engines!(
    partner_text_is_escaped_on_pages,
    |app: TestApp| async move {
        let partner = app.partner("instx").await;
        let token = app.token(&partner, None).await;
        let mut package = fixture_json("guide/three-courses.json");
        package["credentials"][0]["name"] = json!("<script>alert(1)</script>");
        let upload: Value = app
            .upload(&token, package.to_string())
            .await
            .json()
            .await
            .expect("json");
        let response = app
            .client
            .get(upload["redirectUrl"].as_str().expect("url"))
            .send()
            .await
            .expect("send");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .to_string();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        let html = response.text().await.expect("html");
        assert!(
            !html.contains("<script>alert"),
            "the partner's text is markup"
        );
        assert!(
            html.contains("&lt;script&gt;alert(1)") || html.contains("&#60;script&#62;alert(1)"),
            "the partner's text is shown as text"
        );
    }
);

fn percent_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}
