//! What pages make of what a partner sent, and what they let caches keep: a partner's URLs
//! are links only when they are web addresses; verification reasons name the failure, never
//! what a name resolved to; issuer names the proof does not establish say which partner sent
//! them; every page with personal data is `no-store`.

mod common;

use common::person::{PASSWORD, Page, Person, claim_everything, upload};
use common::smtp::SmtpServer;
use common::{Engine, TestApp, fixture, fixture_json};
use serde_json::{Value, json};

/// The guide's SkillSync package (its text has a raw line break, so it is read leniently).
fn skillsync() -> Value {
    credentialconnect::domain::lenient_json::parse(&fixture("guide/skillsync.json"))
        .expect("the guide's example")
}

/// The SkillSync package with these evidence URLs on its four alignments.
fn skillsync_with_evidence(urls: [&str; 4]) -> String {
    let mut package = skillsync();
    let alignments = package["credentials"][0]["credentialSubject"]["achievement"]["alignment"]
        .as_array_mut()
        .expect("alignments");
    assert_eq!(alignments.len(), 4);
    for (alignment, url) in alignments.iter_mut().zip(urls) {
        alignment["targetUrl"] = json!(url);
    }
    package.to_string()
}

/// Makes the person's share link from their resume page; returns it.
async fn share_link(person: &Person) -> String {
    let resume = person.get("/resume").await;
    let created = person
        .post("/resume/share", &[("csrf", &resume.csrf())])
        .await;
    let marker = "id=\"share-link\" type=\"text\" readonly value=\"";
    let start = created.html.find(marker).expect("the link") + marker.len();
    created.html[start..]
        .split('"')
        .next()
        .expect("link")
        .to_string()
}

/// Every `href` of a page.
fn hrefs(html: &str) -> Vec<&str> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect()
}

/// The list item that starts at `marker` (up to its `</li>`).
fn item<'a>(html: &'a str, marker: &str) -> &'a str {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let end = html[start..]
        .find("</li>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}

with_mail_on_both_engines!(
    evidence_is_a_link_only_when_it_is_a_web_address,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(
            &app,
            "instx",
            skillsync_with_evidence([
                "javascript:alert(document.cookie)",
                "JaVaScRiPt:alert(1)",
                "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
                "https://evidence.example/teaching?x=1&y=2",
            ]),
        )
        .await;
        let person = claim_everything(&app, &smtp, &link, "john.q.sample@somedomain.com").await;
        let resume = person.get("/resume").await;
        let shared = share_link(&person).await;
        let shared = common::client()
            .get(&shared)
            .send()
            .await
            .expect("GET")
            .text()
            .await
            .expect("html");
        for (page, html) in [("resume", resume.html.as_str()), ("shared", &shared)] {
            for href in hrefs(html) {
                assert!(
                    ["/", "#", "https://", "http://"]
                        .iter()
                        .any(|allowed| href.starts_with(allowed)),
                    "{page}: a link to {href:?}"
                );
            }
            assert!(
                html.contains("href=\"https://evidence.example/teaching?x=1&#38;y=2\""),
                "{page}: the web address is a link"
            );
            assert!(
                html.contains("javascript:alert(document.cookie)"),
                "{page}: the rest is shown as text"
            );
        }
    }
);

/// The signed 1EdTech vector re-pointed at a did:web method on `host`, named `name`.
fn credential_at(host: &str, name: &str) -> Value {
    let mut credential = fixture_json("standards/examples/signed/ob30-ldp-test-vector-signed.json");
    let did = format!("did:web:{host}");
    credential["id"] = json!(format!("urn:example:{}", name.replace(' ', "-")));
    credential["name"] = json!(name);
    credential["issuer"]["id"] = json!(did);
    credential["proof"]["verificationMethod"] = json!(format!("{did}#key-1"));
    credential
}

/// The "How this was verified" text of the credential named `name` on a claim page.
fn reason<'a>(html: &'a str, name: &str) -> &'a str {
    let entry = item(html, &format!("<strong>{name}</strong>"));
    let start = entry
        .find("How this was verified")
        .unwrap_or_else(|| panic!("a reason in {entry}"));
    let text = &entry[start..];
    let start = text.find("<p class=\"muted\">").expect("the reason") + 17;
    let end = text[start..].find("</p>").expect("end") + start;
    &text[start..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_reasons_never_say_what_a_name_resolved_to() {
    for engine in [Engine::Sqlite, Engine::Postgres] {
        // The production fetch rules: network on, loopback refused.
        let app = TestApp::spawn_with(engine, |config| {
            config.fetch = credentialconnect::verify::fetch::FetchConfig::default()
        })
        .await;
        let _database = app.database_guard();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("address")
            .port();
        let internal = credential_at(&format!("localhost%3A{port}"), "Internal badge");
        let missing = credential_at("no-such-host.invalid", "Missing badge");
        let link = upload(
            &app,
            "issuer",
            json!({"credentials": [internal, missing]}).to_string(),
        )
        .await;
        let page = Person::new(&app).get(&link).await;
        assert_eq!(page.status, 200);
        for leak in ["127.0.0.1", "::1", "resolves", "loopback"] {
            assert!(!page.has(leak), "{engine:?}: {leak:?} on the claim page");
        }
        let internal = reason(&page.html, "Internal badge");
        let missing = reason(&page.html, "Missing badge");
        assert!(internal.contains("could not"), "{internal}");
        assert_eq!(
            internal
                .replace(&format!("localhost%3A{port}"), "no-such-host.invalid")
                .replace(&format!("localhost:{port}"), "no-such-host.invalid"),
            missing,
            "{engine:?}: a name of the internal network reads like one that does not exist"
        );
    }
}

with_mail_on_both_engines!(
    issuer_names_the_proof_does_not_establish_say_which_partner_sent_them,
    |app: TestApp, smtp: SmtpServer| async move {
        common::publish_issuer_documents(&app.app.verifier);
        let signed = fixture_json("standards/examples/signed/ob30-ldp-test-vector-signed.json");
        let attested = fixture_json("standards/examples/ob30/simple-did-key-method.json");
        let carrier = skillsync()["credentials"][0].clone();
        let link = upload(
            &app,
            "issuer",
            json!({"credentials": [signed, attested, carrier]}).to_string(),
        )
        .await;
        let sent_by = "sent by Partner issuer";
        let claim_page = Person::new(&app).get(&link).await;
        assert!(
            item(&claim_page.html, "<strong>test 1</strong>").contains(sent_by),
            "{}",
            claim_page.html
        );
        assert!(item(&claim_page.html, "<strong>Teaching</strong>").contains(sent_by));
        assert!(
            !item(&claim_page.html, "<strong>Teamwork Badge</strong>").contains(sent_by),
            "a verified signature establishes its issuer"
        );
        let person = claim_everything(&app, &smtp, &link, "sam@example.org").await;
        let resume = person.get("/resume").await;
        let shared = share_link(&person).await;
        let shared = common::client()
            .get(&shared)
            .send()
            .await
            .expect("GET")
            .text()
            .await
            .expect("html");
        for (page, html) in [("resume", resume.html.as_str()), ("shared", &shared)] {
            assert!(
                item(html, "<h3>test 1</h3>").contains(sent_by),
                "{page}: {html}"
            );
            assert!(
                item(html, "<strong>Teaching</strong>").contains(sent_by),
                "{page}"
            );
            assert!(
                !item(html, "<h3>Teamwork Badge</h3>").contains(sent_by),
                "{page}"
            );
        }
    }
);

fn assert_no_store(path: &str, headers: &reqwest::header::HeaderMap) {
    assert_eq!(
        headers
            .get("cache-control")
            .map(|v| v.to_str().unwrap_or("").to_string()),
        Some("no-store".to_string()),
        "{path}"
    );
}

/// GETs `path` as `person` (following redirects); checks the page is `no-store`.
async fn no_store(person: &Person, path: &str) {
    let url = if path.starts_with("http") {
        path.to_string()
    } else {
        format!("{}{path}", person.base)
    };
    let response = person.client.get(&url).send().await.expect("GET");
    assert_no_store(path, response.headers());
}

with_mail_on_both_engines!(
    every_page_with_personal_data_is_no_store,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let anonymous = Person::new(&app);
        no_store(&anonymous, &link).await;
        let person = claim_everything(&app, &smtp, &link, "jsmith@institutionx.edu").await;
        let resume: Page = person.get("/resume").await;
        let entry = resume
            .html
            .split("id=\"entry-")
            .nth(1)
            .expect("an entry")
            .split('"')
            .next()
            .expect("id")
            .to_string();
        let shared = share_link(&person).await;
        let later = {
            let mut later = fixture_json("guide/three-courses.json");
            later["credentials"] = json!([later["credentials"][0].clone()]);
            later["credentials"][0]["id"] = json!("new-award-1");
            upload(&app, "instx", later.to_string()).await
        };
        let confirm = Person::new(&app)
            .start_sign_up(
                &app,
                &smtp,
                "/signup",
                "other@example.com",
                "another password",
            )
            .await;
        let form = anonymous.get("/reset").await;
        anonymous
            .post(
                "/reset",
                &[("csrf", &form.csrf()), ("email", "jsmith@institutionx.edu")],
            )
            .await;
        app.deliver_mail().await;
        let reset = smtp
            .last_to("jsmith@institutionx.edu")
            .and_then(|m| m.link(&format!("{}/reset/", app.base)))
            .expect("a reset link");
        for path in [
            "/resume",
            "/resume?added=1",
            "/inbox",
            "/import",
            "/import/return/instx",
            &format!("/resume/entries/{entry}/delete"),
            &link,
            &later,
            &shared,
            "/",
            "/nowhere",
        ] {
            no_store(&person, path).await;
        }
        for path in [
            "/signup",
            "/login",
            "/reset",
            "/find/instx",
            &confirm,
            &reset,
            &later,
            "/r/r_guessed",
        ] {
            no_store(&anonymous, path).await;
        }
        // Pages that answer a form show what was typed.
        let form = anonymous.get("/login").await;
        let refused = anonymous
            .client
            .post(app.url("/login"))
            .form(&[
                ("csrf", form.csrf().as_str()),
                ("email", "jsmith@institutionx.edu"),
                ("password", "wrong password"),
            ])
            .send()
            .await
            .expect("POST");
        assert_eq!(refused.status(), 401);
        assert_no_store("POST /login", refused.headers());
        let form = anonymous.get("/signup").await;
        let invalid = anonymous
            .client
            .post(app.url("/signup"))
            .form(&[
                ("csrf", form.csrf().as_str()),
                ("given_name", "Jamie"),
                ("email", "jamie@example.com"),
                ("password", "x"),
            ])
            .send()
            .await
            .expect("POST");
        assert_eq!(invalid.status(), 422);
        assert_no_store("POST /signup", invalid.headers());
    }
);

on_both_engines!(
    a_page_whose_store_fails_with_a_bug_answers_500_with_the_request_id_not_briefly_unavailable,
    |app: TestApp| async move {
        // A table gone missing is a bug (or a corrupt database), not an outage.
        app.app
            .store
            .write(|conn| conn.batch("ALTER TABLE resume_shares RENAME TO resume_shares_gone"))
            .await
            .expect("rename");
        let response = common::client()
            .get(app.url("/r/r_some_link"))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 500);
        let id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .expect("a request id")
            .to_string();
        assert!(!id.is_empty());
        let html = response.text().await.expect("html");
        assert!(!html.contains("briefly unavailable"), "{html}");
        assert!(html.contains("went wrong"), "{html}");
        assert!(html.contains(&id), "the page shows the id to quote: {html}");
        assert!(
            !html.contains("resume_shares"),
            "no internal detail: {html}"
        );
        // An id a proxy in front set is kept, in the header and on the page.
        let response = common::client()
            .get(app.url("/r/r_some_link"))
            .header("x-request-id", "proxy-7f3a")
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 500);
        assert_eq!(response.headers()["x-request-id"], "proxy-7f3a");
        assert!(response.text().await.expect("html").contains("proxy-7f3a"));
    }
);

#[tokio::test]
async fn the_api_reference_renders_code_spans_not_backticks() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let _database = app.database_guard();
    let html = common::client()
        .get(app.url("/api/v1/docs"))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("html");
    assert!(!html.contains('`'), "Markdown backticks shown literally");
    assert!(html.contains("<code>"), "{html}");
    assert!(html.contains("<title>API reference — CredentialConnect</title>"));
}

/// The `<title>` of a page.
fn title(html: &str) -> &str {
    let start = html.find("<title>").expect("a title") + "<title>".len();
    &html[start..start + html[start..].find("</title>").expect("end")]
}

/// The opening tag of the form control with this id.
fn control<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!(" id=\"{id}\""))
        .unwrap_or_else(|| panic!("#{id} in {html}"));
    let start = html[..start].rfind('<').expect("its tag");
    &html[start..start + html[start..].find('>').expect("end")]
}

/// The error summary of a page (up to its `</div>`).
fn summary(html: &str) -> &str {
    let start = html
        .find("<div class=\"error-summary\"")
        .unwrap_or_else(|| panic!("an error summary in {html}"));
    &html[start..start + html[start..].find("</div>").expect("end")]
}

/// Checks a page sent back after a failed submit: the title says so first; the summary at
/// the top lists each problem as a link to its field, in the order of `fields`; each of
/// those fields is marked invalid and names its message; only the first takes the focus.
fn assert_sent_back(page: &Page, fields: &[&str]) {
    assert!(title(&page.html).starts_with("Error: "), "{}", page.html);
    let summary = summary(&page.html);
    assert!(
        summary.contains("role=\"alert\"") && summary.contains("tabindex=\"-1\""),
        "{summary}"
    );
    let links: Vec<&str> = hrefs(summary).into_iter().collect();
    let expected: Vec<String> = fields.iter().map(|f| format!("#{f}")).collect();
    assert_eq!(links, expected, "{summary}");
    assert!(
        page.html.find("error-summary") < page.html.find(&format!("id=\"{}\"", fields[0])),
        "the summary comes before the fields"
    );
    for (n, field) in fields.iter().enumerate() {
        let tag = control(&page.html, field);
        assert!(tag.contains("aria-invalid=\"true\""), "{tag}");
        assert!(
            tag.contains(&format!("aria-describedby=\"{field}-error\"")),
            "{tag}"
        );
        assert!(page.has(&format!("id=\"{field}-error\"")), "{field}");
        assert_eq!(tag.contains(" autofocus"), n == 0, "{tag}");
    }
    assert_eq!(page.html.matches(" autofocus").count(), 1, "{}", page.html);
}

with_mail_on_both_engines!(
    a_form_sent_back_lists_its_problems_as_links_to_the_fields_and_focuses_the_first,
    |app: TestApp, smtp: SmtpServer| async move {
        let anonymous = Person::new(&app);
        let form = anonymous.get("/signup").await;
        assert!(!title(&form.html).starts_with("Error: "));
        assert!(!form.has("error-summary") && !form.has(" autofocus"));
        let signup = anonymous
            .post(
                "/signup",
                &[
                    ("csrf", &form.csrf()),
                    ("family_name", "Smith"),
                    ("email", "not an address"),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(signup.status, 422);
        assert_sent_back(&signup, &["given_name", "email", "password"]);
        assert!(signup.has("value=\"Smith\""), "what was typed is kept");

        let form = anonymous.get("/login").await;
        let login = anonymous
            .post(
                "/login",
                &[
                    ("csrf", &form.csrf()),
                    ("email", "nobody@example.com"),
                    ("password", "not the password"),
                ],
            )
            .await;
        assert_eq!(login.status, 401);
        assert_sent_back(&login, &["password"]);
        assert!(login.has("The email or password is not right."));

        let form = anonymous.get("/reset").await;
        let reset = anonymous
            .post(
                "/reset",
                &[("csrf", &form.csrf()), ("email", "not an address")],
            )
            .await;
        assert_eq!(reset.status, 422);
        assert_sent_back(&reset, &["email"]);

        upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let form = anonymous.get("/find/instx").await;
        let search = anonymous
            .post(
                "/find/instx",
                &[("csrf", &form.csrf()), ("family_name", "Brown")],
            )
            .await;
        assert_eq!(search.status, 422);
        // One message about two fields is listed once, linking to the first.
        let summary = summary(&search.html);
        assert_eq!(hrefs(summary), ["#given_name", "#email"], "{summary}");

        // A resume form: an entry without a title comes back with what was typed.
        let person = Person::new(&app);
        person
            .sign_up(&app, &smtp, "/signup", "pat@example.org", PASSWORD)
            .await;
        let resume = person.get("/resume").await;
        let added = person
            .post(
                "/resume/entries",
                &[
                    ("csrf", &resume.csrf()),
                    ("section", "Experience"),
                    ("title", " "),
                    ("organisation", "Youth league"),
                ],
            )
            .await;
        assert_eq!(added.status, 422);
        assert_sent_back(&added, &["title"]);
        assert!(added.has("value=\"Youth league\""), "{}", added.html);
        assert!(added.has("<option value=\"Experience\" selected>"));
        assert!(title(&person.get("/resume").await.html).starts_with("My resume"));
    }
);

with_mail_on_both_engines!(
    a_failed_sign_up_on_a_claim_page_keeps_the_credentials_it_offers,
    |app: TestApp, _smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let anonymous = Person::new(&app);
        let claim_page = anonymous.get(&link).await;
        let courses = [
            "Calculus w/Analytic Geometry I",
            "Introduction to Psychology",
            "First-Year Composition",
        ];
        for course in courses {
            assert!(claim_page.has(&format!("<strong>{course}</strong>")));
        }
        let token = link.rsplit('/').next().expect("token");
        let again = anonymous
            .post(
                "/signup",
                &[
                    ("csrf", &claim_page.csrf()),
                    ("claim", token),
                    ("given_name", "Jamie"),
                    ("family_name", "Smith"),
                    ("email", "jsmith@institutionx.edu"),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(again.status, 422, "{}", again.html);
        for course in courses {
            assert!(
                again.has(&format!("<strong>{course}</strong>")),
                "{course}: {}",
                again.html
            );
        }
        assert_eq!(
            title(&again.html),
            "Error: Your credentials from Partner instx — CredentialConnect"
        );
        assert_sent_back(&again, &["password"]);
        assert!(again.has(&format!("name=\"claim\" value=\"{token}\"")));
        assert!(again.has("Log in instead"));
        // A link that opens nothing any more falls back to the sign-up page.
        let stale = anonymous
            .post(
                "/signup",
                &[
                    ("csrf", &claim_page.csrf()),
                    (
                        "claim",
                        "0123456789abcdef0123456789abcdefnot-a-real-secret-at-all-000000000",
                    ),
                    ("given_name", "Jamie"),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(stale.status, 422);
        assert!(stale.has("Create your free SmartResume"), "{}", stale.html);
    }
);

with_mail_on_both_engines!(
    the_share_link_is_shown_again_on_the_resume_with_a_copy_button_until_it_is_stopped,
    |app: TestApp, smtp: SmtpServer| async move {
        let person = Person::new(&app);
        person
            .sign_up(&app, &smtp, "/signup", "pat@example.org", PASSWORD)
            .await;
        assert!(!person.get("/resume").await.has("id=\"share-link\""));
        let made = person
            .post(
                "/resume/share",
                &[("csrf", &person.get("/resume").await.csrf())],
            )
            .await;
        let link = share_link(&person).await;
        assert!(!made.has(&link), "a new link replaces the one made before");
        let made = person
            .post(
                "/resume/share",
                &[("csrf", &person.get("/resume").await.csrf())],
            )
            .await;
        let resume = person.get("/resume").await;
        let marker = "id=\"share-link\" type=\"text\" readonly value=\"";
        let start = made.html.find(marker).expect("the link") + marker.len();
        let link = made.html[start..]
            .split('"')
            .next()
            .expect("link")
            .to_string();
        for html in [made.html.as_str(), resume.html.as_str()] {
            assert!(
                html.contains(&format!(
                    "id=\"share-link\" type=\"text\" readonly value=\"{link}\""
                )),
                "{html}"
            );
            assert!(html.contains(&format!("<a href=\"{link}\"")), "a real link");
            // The button shows only when its script runs, from this origin (the policy
            // allows no other scripts).
            assert!(html.contains("data-copy=\"share-link\" hidden>Copy link</button>"));
            assert!(html.contains("<script src=\"/static/copy.js\" defer></script>"));
        }
        let script = common::client()
            .get(app.url("/static/copy.js"))
            .send()
            .await
            .expect("GET");
        assert_eq!(script.status(), 200);
        assert!(
            script.headers()["content-type"]
                .to_str()
                .expect("type")
                .starts_with("text/javascript")
        );
        let policy = script.headers()["content-security-policy"]
            .to_str()
            .expect("policy")
            .to_string();
        assert!(policy.contains("script-src 'self'"), "{policy}");
        assert!(script.text().await.expect("js").contains("clipboard"));

        let stopped = person
            .post("/resume/share/stop", &[("csrf", &resume.csrf())])
            .await;
        assert!(stopped.has("Your share link no longer works"));
        assert!(!stopped.has(&link) && !stopped.has("id=\"share-link\""));
    }
);

with_mail_on_both_engines!(
    dismissing_a_delivery_says_so_on_the_inbox,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let person = claim_everything(&app, &smtp, &link, "jsmith@institutionx.edu").await;
        let mut later = fixture_json("guide/three-courses.json");
        later["credentials"] = json!([later["credentials"][0].clone()]);
        later["credentials"][0]["id"] = json!("new-award-1");
        later["credentials"][0]["name"] = json!("Linear Algebra");
        upload(&app, "instx", later.to_string()).await;
        let inbox = person.get("/inbox").await;
        let package = inbox
            .html
            .split("action=\"/inbox/")
            .nth(1)
            .expect("a package")
            .split('"')
            .next()
            .expect("id")
            .to_string();
        let dismissed = person
            .post(
                &format!("/inbox/{package}/dismiss"),
                &[("csrf", &inbox.csrf())],
            )
            .await;
        assert!(
            dismissed
                .url
                .ends_with(&format!("/inbox?dismissed={package}")),
            "{}",
            dismissed.url
        );
        assert!(
            dismissed.has("The delivery from Partner instx was dismissed."),
            "{}",
            dismissed.html
        );
        assert!(!dismissed.has("Linear Algebra"));
        // The page names only a delivery the person dismissed.
        let other = person
            .get("/inbox?dismissed=0123456789abcdef0123456789abcdef")
            .await;
        assert!(!other.has("was dismissed"));
        let stranger = Person::new(&app);
        stranger
            .sign_up(&app, &smtp, "/signup", "pat@example.org", PASSWORD)
            .await;
        let theirs = stranger.get(&format!("/inbox?dismissed={package}")).await;
        assert!(!theirs.has("was dismissed"), "{}", theirs.html);
    }
);

with_mail_on_both_engines!(
    dates_are_written_in_words,
    |app: TestApp, smtp: SmtpServer| async move {
        use credentialconnect::domain::dates::{day_in_words, moment_in_words};
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let package = link.rsplit('/').next().expect("token")[..32].to_string();
        let contents = app
            .app
            .store
            .read(move |c| credentialconnect::store::resume::package_contents(c, &package, None))
            .await
            .expect("read")
            .expect("the package");
        let claim_page = Person::new(&app).get(&link).await;
        let expiry = moment_in_words(contents.expires_at);
        assert!(
            claim_page.has(&format!("This link works until {expiry}.")),
            "{}",
            claim_page.html
        );
        assert!(
            expiry.ends_with(" UTC") && !expiry.contains('-'),
            "{expiry}"
        );
        let person = claim_everything(&app, &smtp, &link, "jsmith@institutionx.edu").await;
        let mut skills =
            credentialconnect::domain::lenient_json::parse(&fixture("guide/skillsync.json"))
                .expect("skills");
        skills["recipient"]["email"] = json!("jsmith@institutionx.edu");
        let skills = upload(&app, "instx", skills.to_string()).await;
        let offer = person.get(&skills).await;
        person.add_everything(&offer, &skills).await;
        share_link(&person).await;
        let resume = person.get("/resume").await;
        let today = day_in_words(app.app.clock.now_ms());
        assert!(
            resume.has(&format!("shared by a link made on {today}.")),
            "{}",
            resume.html
        );
        assert!(resume.has("on 14 February 2025."), "{}", resume.html);
        // No timestamp anywhere a person reads.
        for page in [&claim_page.html, &resume.html] {
            let text: String = page
                .split('<')
                .map(|part| part.split_once('>').map_or("", |(_, text)| text))
                .collect();
            assert!(
                !text.contains("T17:07") && !text.contains(" UTC ") && !text.contains("2025-02-14"),
                "{text}"
            );
        }
    }
);
