//! Logos served from our origin and marketplaces' landings, over HTTP on both engines: a
//! partner's logo on its activation page, a marketplace's landing and logo on the claim page
//! of a package from a routed issuer, and every bad logo refused with nothing stored.

mod common;

use common::images::{self, GIF, PNG, SVG, svg_with};
use common::person::{Person, upload};
use common::{Engine, TestApp, fixture_json};
use credentialconnect::config::Config;
use credentialconnect::services::logos::{self, LogoChange};
use credentialconnect::services::marketplaces::{self, MarketplaceError, MarketplaceRequest};
use credentialconnect::services::partners;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The issuer id of the partner guide's three courses.
const GUIDE_ISSUER: &str = "123456789";
const BOB: &str = "Marketplace of Bob";

/// The `src` of the first `<img>` with this class.
fn img_src(html: &str, class: &str) -> String {
    let marker = format!("<img class=\"{class}\" src=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no <img class=\"{class}\"> in {html}"))
        + marker.len();
    html[start..].split('"').next().expect("src").to_string()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("text")
        .to_string()
}

/// The directive of a Content-Security-Policy that starts with `name`.
fn directive(policy: &str, name: &str) -> String {
    policy
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with(name))
        .unwrap_or_default()
        .to_string()
}

on_both_engines!(
    a_partners_logo_is_served_from_our_origin_and_the_activation_page_names_no_other_host,
    |app: TestApp| async move {
        app.partner_with("instx", |p| p.logo = Some(images::logo(PNG)))
            .await;
        app.partner("plain").await;
        let client = common::client();
        let page = client
            .get(app.url("/find/instx"))
            .send()
            .await
            .expect("get");
        assert_eq!(page.status(), 200);
        let csp = header(&page, "content-security-policy");
        assert_eq!(directive(&csp, "img-src"), "img-src 'self'", "{csp}");
        assert!(!csp.contains("http"), "the policy names no host: {csp}");
        let html = page.text().await.expect("html");
        let src = img_src(&html, "partner-logo");
        assert!(
            src.starts_with("/logos/")
                && src.ends_with(".png")
                && src.len() == "/logos/".len() + 64 + 4,
            "{src}"
        );
        assert!(
            html.contains(&format!("src=\"{src}\" alt=\"Partner instx\"")),
            "{html}"
        );

        let logo = client.get(app.url(&src)).send().await.expect("logo");
        assert_eq!(logo.status(), 200);
        assert_eq!(header(&logo, "content-type"), "image/png");
        assert_eq!(
            header(&logo, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(header(&logo, "x-content-type-options"), "nosniff");
        let etag = header(&logo, "etag");
        assert_eq!(etag, format!("\"{}\"", &src[7..7 + 64]));
        assert_eq!(logo.bytes().await.expect("bytes").as_ref(), PNG);

        let again = client
            .get(app.url(&src))
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("logo");
        assert_eq!(again.status(), 304, "a browser that has it keeps it");

        for missing in [
            src.replace(".png", ".svg"),
            format!("/logos/{}.png", "0".repeat(64)),
            "/logos/../../etc/passwd".to_string(),
            "/logos/nothing".to_string(),
        ] {
            let response = client.get(app.url(&missing)).send().await.expect("get");
            assert_eq!(response.status(), 404, "{missing}");
        }

        let plain = client
            .get(app.url("/find/plain"))
            .send()
            .await
            .expect("get");
        assert!(!plain.text().await.expect("html").contains("<img"));

        partners::set_logo(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "instx",
            LogoChange::Remove,
        )
        .await
        .expect("remove");
        let without = client
            .get(app.url("/find/instx"))
            .send()
            .await
            .expect("get");
        assert!(!without.text().await.expect("html").contains("<img"));
        assert_eq!(
            client
                .get(app.url(&src))
                .send()
                .await
                .expect("get")
                .status(),
            404,
            "a removed logo is gone"
        );
    }
);

on_both_engines!(
    an_svg_logo_is_served_under_a_policy_that_runs_and_loads_nothing,
    |app: TestApp| async move {
        app.partner_with("instx", |p| p.logo = Some(images::logo(SVG.as_bytes())))
            .await;
        let client = common::client();
        let html = client
            .get(app.url("/find/instx"))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("html");
        let src = img_src(&html, "partner-logo");
        assert!(src.ends_with(".svg"), "{src}");
        let logo = client.get(app.url(&src)).send().await.expect("logo");
        assert_eq!(header(&logo, "content-type"), "image/svg+xml");
        assert_eq!(
            header(&logo, "content-security-policy"),
            "default-src 'none'; style-src 'unsafe-inline'; sandbox"
        );
        assert_eq!(header(&logo, "x-content-type-options"), "nosniff");
        assert_eq!(
            logo.text().await.expect("text"),
            SVG,
            "served exactly as checked"
        );
    }
);

/// What a logo source gives, or the error text.
async fn load(app: &TestApp, source: &str) -> Result<LogoChange, String> {
    logos::load(&app.app, source).await
}

on_both_engines!(
    bad_logo_files_are_refused_by_their_content_naming_what_is_wrong_and_nothing_is_stored,
    |app: TestApp| async move {
        app.partner("instx").await;
        let dir = tempfile::tempdir().expect("dir");
        let before = app.snapshot().await;
        let cases: Vec<(String, &str)> = vec![
            (
                images::huge_png(dir.path()),
                "is 50.0 MB (52428800 bytes); a logo may be at most 512 KB",
            ),
            (
                images::write(
                    dir.path(),
                    "script.svg",
                    svg_with("<script>alert(1)</script>").as_bytes(),
                ),
                "has a <script> element",
            ),
            (
                images::write(
                    dir.path(),
                    "onload.svg",
                    SVG.replace("<svg ", "<svg onload=\"alert(1)\" ").as_bytes(),
                ),
                "has an event-handler attribute onload on <svg>",
            ),
            (
                images::write(
                    dir.path(),
                    "href.svg",
                    svg_with("<image href=\"https://tracker.example/pixel.png\"/>").as_bytes(),
                ),
                "has an external reference href=\"https://tracker.example/pixel.png\" on <image>",
            ),
            (
                images::write(
                    dir.path(),
                    "xlink.svg",
                    svg_with("<use xlink:href=\"http://evil.example/sprite.svg#a\"/>").as_bytes(),
                ),
                "has an external reference xlink:href=\"http://evil.example/sprite.svg#a\"",
            ),
            (
                images::write(
                    dir.path(),
                    "css.svg",
                    svg_with(
                        "<rect width=\"1\" height=\"1\" fill=\"url(http://evil.example/p)\"/>",
                    )
                    .as_bytes(),
                ),
                "has an external reference url(http://evil.example/p)",
            ),
            (
                images::write(dir.path(), "renamed-gif.png", GIF),
                "is a GIF image; a logo must be a PNG, JPEG, WebP or SVG image",
            ),
            (
                images::write(dir.path(), "notes.png", b"Our logo is the blue one.\n"),
                "is text, not an image; a logo must be a PNG, JPEG, WebP or SVG image",
            ),
            (
                dir.path().join("missing.png").display().to_string(),
                "logo file",
            ),
            (
                "http://instx.example/logo.png".to_string(),
                "logo URL http://instx.example/logo.png: only https URLs are fetched",
            ),
            (
                "https://127.0.0.1/logo.png".to_string(),
                "127.0.0.1 is a loopback address",
            ),
        ];
        for (source, expected) in cases {
            let error = load(&app, &source).await.expect_err(&source);
            assert!(error.contains(expected), "{source}: {error}");
            assert!(
                error.contains(&source),
                "the error names the logo it is about: {error}"
            );
        }
        assert_eq!(app.snapshot().await, before, "nothing was stored");

        let good = images::write(dir.path(), "logo.webp.txt", PNG);
        assert_eq!(
            load(&app, &good).await.expect("a PNG, whatever its name"),
            LogoChange::Set(images::logo(PNG))
        );
        assert_eq!(load(&app, "  ").await, Ok(LogoChange::Remove));
    }
);

/// An app whose fetch client may reach loopback (plain http there), as a test's own image
/// server needs.
fn fetching_from_loopback(config: &mut Config) {
    config.fetch.network = true;
    config.fetch.allow_loopback = true;
}

/// Serves `/logo.png` (the PNG), `/logo.svg` (an SVG with a script), `/big.png` (1 MiB with
/// its length announced) and `/endless.png` (a PNG header, then chunks of zeros up to 50 MB
/// with no length announced). Returns its base URL and how many bytes `/endless.png` wrote.
async fn image_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let written = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&written);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut request = vec![0u8; 4096];
                let read = socket.read(&mut request).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&request[..read]).into_owned();
                let path = request.split(' ').nth(1).unwrap_or("/").to_string();
                let fixed = |kind: &str, body: Vec<u8>| {
                    let mut response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    response.extend(body);
                    response
                };
                match path.as_str() {
                    "/logo.png" => {
                        let _ = socket.write_all(&fixed("image/png", PNG.to_vec())).await;
                    }
                    "/logo.svg" => {
                        let svg = svg_with("<script>alert(1)</script>").into_bytes();
                        let _ = socket.write_all(&fixed("image/svg+xml", svg)).await;
                    }
                    "/big.png" => {
                        let mut body = PNG.to_vec();
                        body.resize(1024 * 1024, 0);
                        let _ = socket.write_all(&fixed("image/png", body)).await;
                    }
                    "/endless.png" => {
                        let head = "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
                        if socket.write_all(head.as_bytes()).await.is_err() {
                            return;
                        }
                        let chunk = vec![0u8; 64 * 1024];
                        let mut first = PNG.to_vec();
                        first.resize(chunk.len(), 0);
                        for i in 0..(50 * 16) {
                            let data = if i == 0 { &first } else { &chunk };
                            let mut framed = format!("{:x}\r\n", data.len()).into_bytes();
                            framed.extend_from_slice(data);
                            framed.extend_from_slice(b"\r\n");
                            if socket.write_all(&framed).await.is_err() {
                                return;
                            }
                            counter.fetch_add(data.len(), Ordering::SeqCst);
                        }
                        let _ = socket.write_all(b"0\r\n\r\n").await;
                    }
                    _ => {
                        let _ = socket
                            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                            .await;
                    }
                }
            });
        }
    });
    (base, written)
}

/// Runs the body on both engines with fetches to loopback allowed.
macro_rules! fetching_on_both_engines {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = TestApp::spawn_with(Engine::Sqlite, fetching_from_loopback).await;
                let _database = app.database_guard();
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = TestApp::spawn_with(Engine::Postgres, fetching_from_loopback).await;
                let _database = app.database_guard();
                ($body)(app).await;
            }
        }
    };
}

fetching_on_both_engines!(
    a_logo_url_is_fetched_once_and_one_over_512_kb_is_refused_without_reading_it_all,
    |app: TestApp| async move {
        app.partner("instx").await;
        let (base, written) = image_server().await;
        let before = app.snapshot().await;
        for (path, expected) in [
            ("/big.png", "the response is larger than 524288 bytes"),
            ("/endless.png", "the response is larger than 524288 bytes"),
            ("/logo.svg", "has a <script> element"),
            ("/missing.png", "HTTP 404"),
        ] {
            let error = load(&app, &format!("{base}{path}")).await.expect_err(path);
            assert!(error.contains(expected), "{path}: {error}");
        }
        assert_eq!(app.snapshot().await, before, "nothing was stored");
        let sent = written.load(Ordering::SeqCst);
        assert!(
            sent < 10 * 1024 * 1024,
            "the client stopped reading early, not after 50 MB: {sent} bytes were sent"
        );

        let change = load(&app, &format!("{base}/logo.png"))
            .await
            .expect("fetched");
        partners::set_logo(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "instx",
            change,
        )
        .await
        .expect("set");
        let html = Person::new(&app).get("/find/instx").await.html;
        let src = img_src(&html, "partner-logo");
        assert!(!src.contains("127.0.0.1"), "served from our origin: {src}");
        let served = common::client()
            .get(app.url(&src))
            .send()
            .await
            .expect("logo");
        assert_eq!(served.bytes().await.expect("bytes").as_ref(), PNG);
    }
);

/// The guide's three courses for a recipient of their own, from `issuer`.
fn courses_from(issuer: &str, recipient: &str) -> String {
    let mut body = fixture_json("guide/three-courses.json");
    body["recipient"]["id"] = json!(recipient);
    for (i, credential) in body["credentials"]
        .as_array_mut()
        .expect("credentials")
        .iter_mut()
        .enumerate()
    {
        credential["issuer"]["id"] = json!(issuer);
        credential["id"] = json!(format!("{recipient}-{i}"));
    }
    body.to_string()
}

async fn add(
    app: &TestApp,
    request: MarketplaceRequest,
) -> Result<marketplaces::MarketplaceListing, MarketplaceError> {
    marketplaces::add(
        &app.app,
        &credentialconnect::domain::audit::Actor::operator(),
        request,
    )
    .await
}

fn bob(issuers: &[&str]) -> MarketplaceRequest {
    MarketplaceRequest {
        name: BOB.into(),
        issuers: issuers.iter().map(|s| s.to_string()).collect(),
        landing: Some(
            "Welcome, talent of Bob's!\nYour courses are ready.\n\nAn account takes a minute: <b>no</b> fees & no spam."
                .into(),
        ),
        logo: Some(LogoChange::Set(images::logo(SVG.as_bytes()))),
    }
}

on_both_engines!(
    a_claim_page_for_a_routed_issuer_shows_the_marketplaces_landing_and_logo_at_sign_up,
    |app: TestApp| async move {
        let listed = add(&app, bob(&[GUIDE_ISSUER])).await.expect("added");
        assert_eq!(listed.created, Some(true));
        let routed = upload(&app, "instx", courses_from(GUIDE_ISSUER, "r-1")).await;
        let unrouted = upload(&app, "instx", courses_from("did:web:other.example", "r-2")).await;

        let person = Person::new(&app);
        let page = person.get(&routed).await;
        assert_eq!(page.status, 200, "{}", page.html);
        assert!(
            page.has(&format!(
                "<section class=\"marketplace\" aria-label=\"{BOB}\">"
            )),
            "{}",
            page.html
        );
        assert!(
            page.has("<p>Welcome, talent of Bob&#39;s!\nYour courses are ready.</p>"),
            "paragraphs kept, text escaped: {}",
            page.html
        );
        assert!(
            page.has(
                "<p>An account takes a minute: &#60;b&#62;no&#60;/b&#62; fees &#38; no spam.</p>"
            ),
            "{}",
            page.html
        );
        assert!(page.has("Create my account"), "the landing is at sign-up");
        let src = img_src(&page.html, "marketplace-logo");
        assert_eq!(Some(src.clone()), listed.logo);
        assert!(page.has(&format!("src=\"{src}\" alt=\"{BOB}\"")));
        let logo = common::client()
            .get(app.url(&src))
            .send()
            .await
            .expect("logo");
        assert_eq!(logo.status(), 200);
        assert_eq!(header(&logo, "content-type"), "image/svg+xml");

        let generic = person.get(&unrouted).await;
        assert_eq!(generic.status, 200);
        assert!(!generic.has("marketplace"), "{}", generic.html);
        assert!(!generic.has("<img"));
        assert!(generic.has("Create my account"));

        // A failed sign-up shows the claim page again, landing included.
        let sent_back = person
            .post(
                "/signup",
                &[
                    ("csrf", &page.csrf()),
                    ("claim", routed.rsplit('/').next().expect("token")),
                    ("email", "not an address"),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(sent_back.status, 422, "{}", sent_back.html);
        assert!(sent_back.has("class=\"marketplace\""), "{}", sent_back.html);
    }
);

on_both_engines!(
    a_package_from_two_marketplaces_shows_the_one_of_its_first_routed_credential,
    |app: TestApp| async move {
        add(&app, bob(&["did:web:bob.example"])).await.expect("bob");
        add(
            &app,
            MarketplaceRequest {
                name: "Alice Jobs".into(),
                issuers: vec!["did:web:alice.example".into()],
                landing: Some("Alice Jobs welcomes you.".into()),
                logo: None,
            },
        )
        .await
        .expect("alice");
        let mixed = |first: &str, second: &str, recipient: &str| {
            let mut body = fixture_json("guide/three-courses.json");
            body["recipient"]["id"] = json!(recipient);
            let issuers = ["did:web:unrouted.example", first, second];
            for (i, credential) in body["credentials"]
                .as_array_mut()
                .expect("credentials")
                .iter_mut()
                .enumerate()
            {
                credential["issuer"]["id"] = json!(issuers[i]);
                credential["id"] = json!(format!("{recipient}-{i}"));
            }
            body.to_string()
        };
        let alice_first = upload(
            &app,
            "instx",
            mixed("did:web:alice.example", "did:web:bob.example", "r-1"),
        )
        .await;
        let bob_first = upload(
            &app,
            "instx",
            mixed("did:web:bob.example", "did:web:alice.example", "r-2"),
        )
        .await;
        let person = Person::new(&app);
        for _ in 0..3 {
            let page = person.get(&alice_first).await;
            assert!(page.has("aria-label=\"Alice Jobs\""), "{}", page.html);
            assert!(!page.has(BOB));
            let page = person.get(&bob_first).await;
            assert!(page.has(&format!("aria-label=\"{BOB}\"")), "{}", page.html);
            assert!(!page.has("Alice Jobs"));
        }
    }
);

on_both_engines!(
    marketplaces_are_added_to_listed_and_removed_and_bad_requests_store_nothing,
    |app: TestApp| async move {
        let first = add(&app, bob(&["did:web:bob.example"])).await.expect("bob");
        let more = add(
            &app,
            MarketplaceRequest {
                name: BOB.into(),
                issuers: vec![
                    "did:web:bob.example".into(),
                    "https://bob.example/issuers/2".into(),
                ],
                ..MarketplaceRequest::default()
            },
        )
        .await
        .expect("the same name adds routes");
        assert_eq!(more.created, Some(false));
        assert_eq!(more.id, first.id);
        assert_eq!(
            more.issuers,
            ["did:web:bob.example", "https://bob.example/issuers/2"]
        );
        assert_eq!(more.landing, first.landing, "kept when not given");
        assert_eq!(more.logo, first.logo, "kept when not given");

        let before = app.snapshot().await;
        for (request, expected) in [
            (
                MarketplaceRequest {
                    name: "   ".into(),
                    issuers: vec!["did:web:x.example".into()],
                    ..MarketplaceRequest::default()
                },
                "--name: a marketplace needs a name; it is empty",
            ),
            (
                MarketplaceRequest {
                    name: "Alice Jobs".into(),
                    issuers: vec![
                        "did:web:alice.example".into(),
                        "https://bob.example/issuers/2".into(),
                    ],
                    ..MarketplaceRequest::default()
                },
                "--issuer https://bob.example/issuers/2: it is already routed to the marketplace \"Marketplace of Bob\"",
            ),
            (
                MarketplaceRequest {
                    name: "Alice Jobs".into(),
                    ..MarketplaceRequest::default()
                },
                "at least one issuer id",
            ),
            (
                MarketplaceRequest {
                    name: "Alice Jobs".into(),
                    issuers: vec![" ".into()],
                    ..MarketplaceRequest::default()
                },
                "--issuer: an issuer id is empty",
            ),
        ] {
            let error = add(&app, request).await.expect_err(expected).to_string();
            assert!(error.contains(expected), "{error}");
        }
        assert_eq!(app.snapshot().await, before, "nothing was stored");

        let listed = marketplaces::list(&app.app).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, BOB);

        let removed = marketplaces::remove(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            BOB,
            &["https://bob.example/issuers/2".to_string()],
        )
        .await
        .expect("one route");
        assert!(!removed.marketplace_removed);
        let error = marketplaces::remove(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            BOB,
            &["did:web:nobody.example".into()],
        )
        .await
        .expect_err("not routed");
        assert!(
            error
                .to_string()
                .contains("is not routed to the marketplace"),
            "{error}"
        );
        let logo = first.logo.clone().expect("a logo");
        let removed = marketplaces::remove(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            &first.id,
            &[],
        )
        .await
        .expect("by id");
        assert!(removed.marketplace_removed);
        assert_eq!(removed.issuers, ["did:web:bob.example"]);
        assert!(marketplaces::list(&app.app).await.expect("list").is_empty());
        assert_eq!(
            common::client()
                .get(app.url(&logo))
                .send()
                .await
                .expect("get")
                .status(),
            404,
            "its logo went with it"
        );
        let error = marketplaces::remove(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            BOB,
            &[],
        )
        .await
        .expect_err("gone");
        assert!(
            error
                .to_string()
                .contains("no marketplace has the id or name"),
            "{error}"
        );
    }
);

with_mail_on_both_engines!(
    a_signed_in_person_choosing_from_a_routed_package_sees_no_landing,
    |app: TestApp, smtp: common::smtp::SmtpServer| async move {
        add(&app, bob(&[GUIDE_ISSUER])).await.expect("bob");
        let link = upload(&app, "instx", courses_from(GUIDE_ISSUER, "r-1")).await;
        // Signed up with the address the package was sent for (another address would be
        // asked to confirm it first).
        let person = Person::new(&app);
        let welcome = person
            .sign_up(
                &app,
                &smtp,
                "/signup",
                "jsmith@institutionx.edu",
                common::person::PASSWORD,
            )
            .await;
        assert_eq!(welcome.status, 200, "{}", welcome.html);
        let chooser = person.get(&link).await;
        assert!(chooser.has("Add to my SmartResume"), "{}", chooser.html);
        assert!(!chooser.has("class=\"marketplace\""), "{}", chooser.html);
    }
);
