//! Pull (use case 3): a signed-in person starts an import on `/import`, is sent to the
//! partner's pull URL with a recipient token bound to them and that partner, the partner
//! uploads with it into their import inbox, and the return page offers what arrived. The
//! reference partner (`examples/reference_partner`) plays the partner in the round trip.

mod common;

#[path = "common/reference_partner.rs"]
mod reference_partner;

use common::person::{PASSWORD, Page, Person};
use common::smtp::SmtpServer;
use common::{Engine, TestApp, fixture_json, imsx_error};
use credentialconnect::params;
use credentialconnect::services::partners::set_pull_url;
use reference_partner::portal;
use serde_json::{Value, json};
use std::time::Duration;

/// A person signed up and signed in, and the same person in a second browser that does
/// not follow redirects (to read where `/import/{partner}` sends them).
async fn signed_up(app: &TestApp, smtp: &SmtpServer, email: &str) -> (Person, Person) {
    let person = Person::new(app);
    let resume = person.sign_up(app, smtp, "/signup", email, PASSWORD).await;
    assert_eq!(resume.status, 200, "{}", resume.html);
    let stays = Person::staying(app);
    let logged_in = stays.log_in(email, PASSWORD).await;
    assert_eq!(logged_in.status, 303, "{}", logged_in.html);
    (person, stays)
}

/// Sends the Import form for `slug` (with whatever else `extra` adds to the form and the
/// address); returns the status and the `Location`.
async fn start_import(
    stays: &Person,
    slug: &str,
    query: &str,
    extra: &[(&str, &str)],
) -> (u16, Option<String>) {
    let page = stays.get("/import").await;
    let csrf = page.csrf();
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(extra);
    let response = stays
        .client
        .post(format!("{}/import/{slug}{query}", stays.base))
        .form(&form)
        .send()
        .await
        .expect("POST");
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().expect("text").to_string());
    (response.status().as_u16(), location)
}

/// The recipient token in a pull location.
fn token_in(location: &str) -> String {
    query_value(location, "recipientToken").expect("a recipientToken")
}

fn query_value(location: &str, name: &str) -> Option<String> {
    url::Url::parse(location)
        .expect("an absolute URL")
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The recipient_tokens rows: (token_hash, partner_id, user_id, created_at, expires_at).
async fn recipient_tokens(app: &TestApp) -> Vec<(String, String, String, i64, i64)> {
    app.app
        .store
        .read(|conn| {
            conn.query(
                "SELECT token_hash, partner_id, user_id, created_at, expires_at FROM recipient_tokens ORDER BY created_at",
                &[],
            )?
            .iter()
            .map(|r| Ok((r.text(0)?, r.text(1)?, r.text(2)?, r.int(3)?, r.int(4)?)))
            .collect()
        })
        .await
        .expect("read")
}

/// The guide's three courses without the personal data: the token names the person.
fn courses_for(token: &str) -> String {
    let mut package = fixture_json("guide/three-courses.json");
    let envelope = package.as_object_mut().expect("an object");
    envelope.remove("recipient");
    envelope.insert("recipienttoken".into(), token.into());
    package.to_string()
}

/// A second package from the same partner: one more course.
fn another_course_for(token: &str) -> String {
    let mut package = fixture_json("guide/three-courses.json");
    let envelope = package.as_object_mut().expect("an object");
    envelope.remove("recipient");
    envelope.insert("recipienttoken".into(), token.into());
    let mut course = package["credentials"][0].clone();
    course["id"] = json!("linear-algebra-1");
    course["name"] = json!("Linear Algebra");
    course["credentialSubject"]["achievement"]["name"] = json!("Linear Algebra");
    package["credentials"] = json!([course]);
    package.to_string()
}

async fn ok(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 200, "{body}");
    body
}

/// The `action` of the first delivery's Add form on a page.
fn first_delivery_action(page: &Page) -> String {
    let at = page
        .html
        .find("action=\"/inbox/")
        .unwrap_or_else(|| panic!("a delivery's form: {}", page.html));
    let rest = &page.html[at + "action=\"".len()..];
    rest[..rest.find('"').expect("the end of the action")].to_string()
}

with_mail_on_both_engines!(
    import_sends_the_person_to_the_pull_url_with_a_token_bound_to_them_and_our_return_page,
    |app: TestApp, smtp: SmtpServer| async move {
        app.partner_with("instx", |p| {
            p.logo = Some(common::images::logo(common::images::PNG))
        })
        .await;
        app.partner("other").await;
        set_pull_url(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "instx",
            "https://portal.instx.example/cc?lang=en",
        )
        .await
        .expect("pull URL");
        let (person, stays) = signed_up(&app, &smtp, "jamie@example.com").await;

        // The page lists the partner with a pull URL, and only it, with its logo (served
        // from this site: the page's Content-Security-Policy names no other image source).
        let response = person
            .client
            .get(app.url("/import"))
            .send()
            .await
            .expect("GET");
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .expect("text")
            .to_string();
        assert!(policy.contains("img-src 'self';"), "{policy}");
        // The form's answer redirects to the partner's site: the page's policy lets it.
        assert!(
            policy.contains("form-action 'self' https://portal.instx.example"),
            "{policy}"
        );
        let page = person.get("/import").await;
        assert_eq!(page.status, 200);
        assert!(page.has("<h1>Import Credentials</h1>"), "{}", page.html);
        assert!(page.has("action=\"/import/instx\"") && page.has("Import from Partner instx"));
        assert!(
            page.has("<img class=\"partner-logo\" src=\"/logos/") && page.has(".png\" alt=\"\">"),
            "{}",
            page.html
        );
        assert!(
            !page.has("Partner other"),
            "a partner without a pull URL is not listed"
        );
        assert!(
            page.has("href=\"/import\""),
            "the navigation links to the page"
        );

        // The form sends the person to the pull URL, its own query kept, with a token and
        // our return page — not the return address the form and the address were given.
        let (status, location) = start_import(
            &stays,
            "instx",
            "?redirectURL=https%3A%2F%2Fevil.example%2F",
            &[("redirectURL", "https://evil.example/steal")],
        )
        .await;
        assert_eq!(status, 303);
        let location = location.expect("a Location");
        let url = url::Url::parse(&location).expect("URL");
        assert_eq!(url.host_str(), Some("portal.instx.example"));
        assert_eq!(url.path(), "/cc");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["lang", "recipientToken", "redirectURL"],
            "{location}"
        );
        assert_eq!(query_value(&location, "lang").as_deref(), Some("en"));
        assert_eq!(
            query_value(&location, "redirectURL"),
            Some(format!("{}/import/return/instx", app.base)),
            "the return address is always ours"
        );
        let token = token_in(&location);
        let random = token.strip_prefix("rt_").expect("prefixed");
        assert!(
            random.len() >= 43,
            "at least 256 bits in base64url: {token}"
        );

        // Stored as a digest only, bound to this person and this partner, for one hour.
        let rows = recipient_tokens(&app).await;
        assert_eq!(rows.len(), 1);
        let (hash, partner, user, created, expires) = rows[0].clone();
        assert_eq!(hash, credentialconnect::secrets::digest(&token));
        assert_eq!(partner, app.partner_id("instx").await);
        assert_eq!(user, app.user_id("jamie@example.com").await);
        assert_eq!(expires - created, 3_600_000);
        assert!(
            !app.snapshot().await.iter().any(|row| row.contains(random)),
            "the token itself is stored nowhere"
        );

        // Each import gets a token of its own.
        let (_, again) = start_import(&stays, "instx", "", &[]).await;
        assert_ne!(token_in(&again.expect("a Location")), token);
        assert_eq!(recipient_tokens(&app).await.len(), 2);

        // A partner without a pull URL, or none at all: a 404 page, and no token.
        for slug in ["other", "nobody"] {
            let (status, location) = start_import(&stays, slug, "", &[]).await;
            assert_eq!((status, location), (404, None), "{slug}");
        }
        let refused = person
            .post("/import/nobody", &[("csrf", &page.csrf())])
            .await;
        assert!(
            refused.has("No organisation here offers importing"),
            "{}",
            refused.html
        );
        // Without the form's CSRF token nothing happens.
        let forged = person.post("/import/instx", &[]).await;
        assert_eq!(forged.status, 403);
        assert_eq!(recipient_tokens(&app).await.len(), 2);

        // Removing the pull URL takes the partner off the page.
        set_pull_url(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "instx",
            "",
        )
        .await
        .expect("removed");
        let page = person.get("/import").await;
        assert!(!page.has("Partner instx"));
        assert!(page.has("No organisation offers importing here yet"));
        let (status, _) = start_import(&stays, "instx", "", &[]).await;
        assert_eq!(status, 404);
    }
);

with_mail_on_both_engines!(
    a_partner_uploads_with_the_token_into_the_persons_inbox_and_they_add_from_the_return_page,
    |app: TestApp, smtp: SmtpServer| async move {
        let credentials = app.partner("instx").await;
        set_pull_url(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "instx",
            "https://portal.instx.example/pull",
        )
        .await
        .expect("pull URL");
        let (person, stays) = signed_up(&app, &smtp, "jamie@example.com").await;

        // Nothing yet: the return page says so, with the way back.
        let empty = person.get("/import/return/instx").await;
        assert_eq!(empty.status, 200);
        assert!(
            empty.has("Nothing has arrived from Partner instx yet."),
            "{}",
            empty.html
        );
        assert!(empty.has("<a href=\"/import\">"));

        let (_, location) = start_import(&stays, "instx", "", &[]).await;
        let token = token_in(&location.expect("a Location"));
        let access = app.token(&credentials, None).await;

        // No recipient in the call; the package goes to the person's inbox and says so.
        let receipt = ok(app.upload(&access, courses_for(&token)).await).await;
        assert_eq!(receipt["delivered"], "inbox", "{receipt}");
        // A partner may send several packages within the hour.
        let receipt = ok(app.upload(&access, another_course_for(&token)).await).await;
        assert_eq!(receipt["delivered"], "inbox", "{receipt}");
        // A package without a token says nothing of an inbox.
        let plain = ok(app
            .upload(&access, common::fixture("guide/clr-profile.json"))
            .await)
        .await;
        assert!(plain.get("delivered").is_none(), "{plain}");

        let user = app.user_id("jamie@example.com").await;
        let delivered: i64 = app
            .app
            .store
            .read(move |conn| {
                conn.query_one(
                    "SELECT count(*) FROM packages WHERE inbox_user_id = $1",
                    params![&user],
                )?
                .int(0)
            })
            .await
            .expect("count");
        assert_eq!(delivered, 2);

        // The return page offers both deliveries, newest first, with the inbox's own form.
        let back = person.get("/import/return/instx").await;
        assert_eq!(back.status, 200);
        for item in [
            "Introduction to Psychology",
            "Linear Algebra",
            "Add selected to my SmartResume",
        ] {
            assert!(back.has(item), "{item}: {}", back.html);
        }
        assert_eq!(
            back.html.matches("action=\"/inbox/").count(),
            4,
            "add and dismiss, twice"
        );
        let inbox = person.get("/inbox").await;
        assert!(inbox.has("Introduction to Psychology"));

        // Adding from the return page: the newest delivery, then the other.
        let resume = person
            .add_everything(&back, &first_delivery_action(&back))
            .await;
        assert!(resume.url.contains("/resume"), "{}", resume.url);
        let back = person.get("/import/return/instx").await;
        let resume = person
            .add_everything(&back, &first_delivery_action(&back))
            .await;
        assert!(resume.url.contains("/resume"), "{}", resume.url);
        for course in [
            "Introduction to Psychology",
            "First-Year Composition",
            "Linear Algebra",
        ] {
            assert!(resume.has(course), "{course} on the resume");
        }
        let after = person.get("/import/return/instx").await;
        assert!(after.has("Nothing has arrived from Partner instx yet."));

        // Unknown partner; signed out.
        assert_eq!(person.get("/import/return/nobody").await.status, 404);
        let stranger = Person::new(&app);
        let login = stranger.get("/import/return/instx").await;
        assert!(
            login.url.contains("/login?next=%2Fimport%2Freturn%2Finstx"),
            "{}",
            login.url
        );
        let login = stranger.get("/import").await;
        assert!(login.url.contains("/login?next=%2Fimport"), "{}", login.url);
    }
);

/// An upload refused for its recipient token: 400 at `/recipienttoken`, nothing stored.
async fn refused_for_its_token(app: &TestApp, access: &str, body: String) {
    let before = app.snapshot().await;
    let (status, body) = imsx_error(app.upload(access, body).await).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["pointer"], "/recipienttoken", "{body}");
    let message = body["errors"][0]["message"].as_str().expect("a message");
    assert!(
        message.contains("unknown or expired recipient token") && message.contains("one hour"),
        "{message}"
    );
    assert_eq!(app.snapshot().await, before, "nothing is stored");
}

with_mail_on_both_engines!(
    a_token_of_another_partner_a_guessed_or_expired_one_and_an_empty_package_store_nothing,
    |app: TestApp, smtp: SmtpServer| async move {
        let a = app.partner("instx").await;
        let b = app.partner("other").await;
        for slug in ["instx", "other"] {
            set_pull_url(
                &app.app,
                &credentialconnect::domain::audit::Actor::operator(),
                slug,
                "https://portal.example/pull",
            )
            .await
            .expect("pull URL");
        }
        let (_, stays) = signed_up(&app, &smtp, "jamie@example.com").await;
        let (_, location) = start_import(&stays, "instx", "", &[]).await;
        let token = token_in(&location.expect("a Location"));
        let (access_a, access_b) = (app.token(&a, None).await, app.token(&b, None).await);

        // Minted for partner A, sent by partner B.
        refused_for_its_token(&app, &access_b, courses_for(&token)).await;
        // Guessed: well formed, never given out; and the digest itself.
        let guessed = credentialconnect::secrets::new_secret("rt_");
        refused_for_its_token(&app, &access_a, courses_for(&guessed)).await;
        let digest = credentialconnect::secrets::digest(&token);
        refused_for_its_token(&app, &access_a, courses_for(&digest)).await;

        // A package without credentials: refused for what is missing; the token still works.
        let before = app.snapshot().await;
        let (status, body) = imsx_error(
            app.upload(&access_a, json!({"recipienttoken": token}).to_string())
                .await,
        )
        .await;
        assert_eq!(status, 400);
        let message = body["errors"][0]["message"].as_str().expect("a message");
        assert!(message.contains("`credentials`"), "{body}");
        assert_eq!(app.snapshot().await, before, "nothing is stored");
        let receipt = ok(app.upload(&access_a, courses_for(&token)).await).await;
        assert_eq!(receipt["delivered"], "inbox");

        // After its hour the token is refused (a fresh access token: the old one lapsed too).
        app.app.clock.advance(Duration::from_secs(3601));
        let access_a = app.token(&a, None).await;
        refused_for_its_token(&app, &access_a, another_course_for(&token)).await;
    }
);

on_both_engines!(
    a_pull_url_must_be_https_and_plain_http_to_loopback_only_in_tests,
    |app: TestApp| async move {
        app.partner("instx").await;
        for refused in [
            "http://portal.instx.example/pull",
            "http://127.0.0.1:9/pull",
            "portal.instx.example/pull",
            "https://user:secret@portal.instx.example/pull",
        ] {
            let error = set_pull_url(
                &app.app,
                &credentialconnect::domain::audit::Actor::operator(),
                "instx",
                refused,
            )
            .await
            .expect_err(refused)
            .to_string();
            assert!(error.starts_with("pull URL"), "{refused}: {error}");
        }
        let error = set_pull_url(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "instx",
            "http://portal.instx.example/pull",
        )
        .await
        .expect_err("plain http")
        .to_string();
        assert!(error.contains("it must start with https://"), "{error}");
        let none = credentialconnect::services::pull::partners(&app.app)
            .await
            .expect("read");
        assert!(none.is_empty(), "nothing was set");
        let error = set_pull_url(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "nobody",
            "https://portal.example/pull",
        )
        .await
        .expect_err("no such partner")
        .to_string();
        assert!(error.contains("no partner has slug"), "{error}");
    }
);

/// The app with mail and the test-only loopback allowance (so a pull URL may be the
/// reference partner's plain-http address on this machine), and the reference partner
/// running for partner `instx`, its `/pull` registered as the pull URL.
async fn with_reference_partner(engine: Engine) -> (TestApp, SmtpServer, String) {
    let (app, smtp) = TestApp::spawn_with_mail_and(engine, |config| {
        config.fetch.allow_loopback = true;
    })
    .await;
    let portal_url = reference_partner::start(&app, "instx", "Institution X").await;
    (app, smtp, portal_url)
}

/// The portal's pull URL as a crafted link would give it.
fn pull_link(portal_url: &str, token: &str, redirect: &str) -> url::Url {
    url::Url::parse_with_params(
        &format!("{portal_url}/pull"),
        [("recipientToken", token), ("redirectURL", redirect)],
    )
    .expect("a URL")
}

async fn round_trip(engine: Engine) {
    let (app, smtp, portal_url) = with_reference_partner(engine).await;
    let _database = app.database_guard();
    let (person, stays) = signed_up(&app, &smtp, "jamie@example.com").await;

    // The whole way, redirects followed: our form, the portal, back to the return page.
    let page = person.get("/import").await;
    let back = person
        .post("/import/instx", &[("csrf", &page.csrf())])
        .await;
    assert_eq!(back.status, 200, "{}", back.html);
    assert_eq!(back.url, format!("{}/import/return/instx", app.base));
    assert!(back.has("Introduction to Psychology"), "{}", back.html);
    let resume = person
        .add_everything(&back, &first_delivery_action(&back))
        .await;
    assert!(resume.has("3 items were added"), "{}", resume.html);
    assert!(resume.has("Calculus w/Analytic Geometry I"));

    // The portal sends nobody anywhere but to the service: a redirectURL elsewhere is
    // refused before anything is uploaded.
    let (_, location) = start_import(&stays, "instx", "", &[]).await;
    let token = token_in(&location.expect("a Location"));
    let before = app.snapshot().await;
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let host = app.base.trim_start_matches("http://");
    for elsewhere in [
        "https://evil.example/import/return/instx".to_string(),
        format!("http://{host}.evil.example/import/return/instx"),
        format!("http://{host}@evil.example/import/return/instx"),
        format!("https://{host}/import/return/instx"),
        "//evil.example/".to_string(),
        "javascript:alert(1)".to_string(),
        String::new(),
    ] {
        let response = raw
            .get(pull_link(&portal_url, &token, &elsewhere))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 400, "{elsewhere}");
        assert!(response.headers().get("location").is_none());
        let text = response.text().await.expect("text");
        assert!(
            text.contains("redirectURL must be an address on CredentialConnect"),
            "{text}"
        );
    }
    assert_eq!(app.snapshot().await, before, "nothing was uploaded");

    // With our address it uploads and sends the browser back (303).
    let back_to = format!("{}/import/return/instx", app.base);
    let response = raw
        .get(pull_link(&portal_url, &token, &back_to))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], back_to.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_round_trip_through_the_reference_partner_on_sqlite() {
    round_trip(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_round_trip_through_the_reference_partner_on_postgres() {
    round_trip(Engine::Postgres).await;
}

#[test]
fn the_reference_partner_takes_only_addresses_under_the_service() {
    let base = "https://cc.example";
    assert!(portal::is_under(
        "https://cc.example/import/return/instx",
        base
    ));
    assert!(portal::is_under(
        "https://CC.example:443/import/return/instx?x=1",
        base
    ));
    assert!(portal::is_under(
        "https://cc.example/a",
        "https://cc.example/"
    ));
    for elsewhere in [
        "http://cc.example/import/return/instx",
        "https://cc.example:8443/import/return/instx",
        "https://cc.example.evil.test/import/return/instx",
        "https://cc.example@evil.test/import/return/instx",
        "https://user@cc.example/import/return/instx",
        "//cc.example/import/return/instx",
        "/import/return/instx",
        "javascript:alert(1)",
    ] {
        assert!(!portal::is_under(elsewhere, base), "{elsewhere}");
    }
    // Under a base with a path, only inside it.
    let base = "https://example.edu/cc";
    assert!(portal::is_under(
        "https://example.edu/cc/import/return/x",
        base
    ));
    assert!(!portal::is_under(
        "https://example.edu/ccx/import/return/x",
        base
    ));
    assert!(!portal::is_under("https://example.edu/cc/../other", base));
}

/// `delivered` is documented in the 200's schema, as generated from the code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receipts_delivered_is_in_the_openapi_document() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    let receipt = &doc["components"]["schemas"]["Receipt"];
    let delivered = &receipt["properties"]["delivered"]["oneOf"][0];
    assert_eq!(
        delivered["$ref"], "#/components/schemas/Delivery",
        "{receipt:#}"
    );
    let described = delivered["description"].as_str().expect("a description");
    assert!(described.contains("`recipienttoken`") && described.contains("inbox"));
    assert_eq!(
        doc["components"]["schemas"]["Delivery"]["enum"],
        json!(["inbox"])
    );
    let required = receipt["required"].as_array().expect("required");
    assert!(
        !required.contains(&json!("delivered")),
        "absent without a token"
    );
}
