//! The partner's activation page (`/find/{partner}`) over HTTP, on both
//! engines, with a real SMTP exchange: a person finds their package by names and email or
//! student id, gets a one-time link at the address on record, and adds the credentials.

mod common;

use common::person::{PASSWORD, Page, Person};
use common::smtp::SmtpServer;
use common::{Engine, TestApp, fixture_json};
use credentialconnect::config::Config;
use serde_json::{Value, json};
use std::time::Duration;

const ON_RECORD: &str = "jamie.smith@institutionx.edu";
const COURSE: &str = "Calculus w/Analytic Geometry I";

/// The recipient of the packages most tests upload: searchable by names + email or student id.
fn jamie() -> Value {
    json!({
        "id": "474989023199323",
        "givenName": "Jamie",
        "familyName": "Smith",
        "email": ON_RECORD,
        "studentId": "S-1001"
    })
}

/// The guide's three-course package for `recipient`.
fn package_for(recipient: Value) -> String {
    let mut body = fixture_json("guide/three-courses.json");
    body["recipient"] = recipient;
    body.to_string()
}

/// A partner `slug` ("Partner {slug}") with an access token.
async fn partner(app: &TestApp, slug: &str) -> String {
    let credentials = app.partner(slug).await;
    app.token(&credentials, None).await
}

/// Uploads a package; returns the receipt.
async fn upload(app: &TestApp, token: &str, body: String) -> Value {
    let response = app.upload(token, body).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

/// Fills in the partner's activation page and sends it.
async fn search(person: &Person, slug: &str, fields: &[(&str, &str)]) -> Page {
    let form = person.get(&format!("/find/{slug}")).await;
    assert_eq!(form.status, 200, "{}", form.html);
    let csrf = form.csrf();
    let mut sent = vec![("csrf", csrf.as_str())];
    sent.extend_from_slice(fields);
    person.post(&format!("/find/{slug}"), &sent).await
}

/// Jamie's search by names and email as they might type it.
async fn search_by_email(person: &Person, slug: &str) -> Page {
    search(
        person,
        slug,
        &[
            ("given_name", " jAMIE "),
            ("family_name", "SMITH"),
            ("email", "Jamie.Smith@InstitutionX.EDU"),
        ],
    )
    .await
}

/// The one-time link in the last message to `address`.
fn link_to(app: &TestApp, smtp: &SmtpServer, address: &str) -> String {
    smtp.last_to(address)
        .unwrap_or_else(|| panic!("a message to {address}"))
        .link(&format!("{}/createmyresume/f_", app.base))
        .expect("a one-time link")
}

/// The first form action on a page that starts with `prefix`.
fn action(page: &Page, prefix: &str) -> String {
    let marker = format!("action=\"{prefix}");
    let start = page.html.find(&marker).expect("the form") + "action=\"".len();
    page.html[start..]
        .split('"')
        .next()
        .expect("action")
        .to_string()
}

/// Signs up from `/signup` (no claim link): a signed-in person with an empty resume.
async fn account(app: &TestApp, smtp: &SmtpServer, email: &str) -> Person {
    let person = Person::new(app);
    let welcome = person.sign_up(app, smtp, "/signup", email, PASSWORD).await;
    assert_eq!(welcome.status, 200, "{}", welcome.html);
    person
}

with_mail_on_both_engines!(
    a_person_finds_their_credentials_by_name_and_email_and_adds_them_after_signing_up,
    |app: TestApp, smtp: SmtpServer| async move {
        let token = partner(&app, "instx").await;
        let receipt = upload(&app, &token, package_for(jamie())).await;
        assert_eq!(
            receipt["activationUrl"],
            app.url("/find/instx"),
            "the package is searchable"
        );
        let person = Person::new(&app);
        let form = person.get("/find/instx").await;
        assert!(form.has("Find your credentials from Partner instx"));
        for field in ["given_name", "family_name", "email", "student_id"] {
            assert!(form.has(&format!("name=\"{field}\"")), "{field}");
        }
        let sent = search_by_email(&person, "instx").await;
        assert_eq!(sent.status, 200, "{}", sent.html);
        assert!(sent.has("Check your email"));
        assert_eq!(app.deliver_mail().await, 1);
        let message = smtp
            .last_to(ON_RECORD)
            .expect("the link goes to the address on record");
        assert!(message.text().contains("Partner instx"));
        let link = link_to(&app, &smtp, ON_RECORD);

        let claim = person.get(&link).await;
        assert_eq!(claim.status, 200, "{}", claim.html);
        assert!(claim.has(COURSE), "the link opens the package's claim page");
        assert!(claim.has("This link works once, until"));
        assert!(
            claim.has(&format!("value=\"{ON_RECORD}\"")),
            "the sign-up form is pre-filled from the package"
        );
        let inbox = person
            .sign_up(&app, &smtp, &link, ON_RECORD, PASSWORD)
            .await;
        assert!(inbox.url.contains("/inbox/"), "{}", inbox.url);
        let resume = person
            .add_everything(&inbox, &action(&inbox, "/inbox/"))
            .await;
        assert!(resume.has("3 items were added"), "{}", resume.html);
        assert!(resume.has(COURSE));

        let again = person.get(&link).await;
        assert_eq!(again.status, 404, "the link was used by the sign-up");
    }
);

with_mail_on_both_engines!(
    a_search_by_student_id_mails_the_address_on_record_never_the_one_typed,
    |app: TestApp, smtp: SmtpServer| async move {
        let token = partner(&app, "instx").await;
        upload(&app, &token, package_for(jamie())).await;
        let person = Person::new(&app);
        let sent = search(
            &person,
            "instx",
            &[
                ("given_name", "Jamie"),
                ("family_name", "Smith"),
                ("email", "attacker@evil.example"),
                ("student_id", " S-1001 "),
            ],
        )
        .await;
        assert_eq!(sent.status, 200);
        let by_id_only = search(
            &person,
            "instx",
            &[
                ("given_name", "jamie"),
                ("family_name", "smith"),
                ("student_id", "S-1001"),
            ],
        )
        .await;
        assert_eq!(by_id_only.status, 200);
        let wrong_case = search(
            &person,
            "instx",
            &[
                ("given_name", "Jamie"),
                ("family_name", "Smith"),
                ("student_id", "s-1001"),
            ],
        )
        .await;
        assert_eq!(wrong_case.status, 200);
        assert_eq!(app.deliver_mail().await, 2, "student ids match exactly");
        let messages = smtp.messages();
        assert!(
            messages.iter().all(|m| m.to == [ON_RECORD.to_string()]),
            "only the address on record gets mail: {:?}",
            messages.iter().map(|m| &m.to).collect::<Vec<_>>()
        );
        let link = link_to(&app, &smtp, ON_RECORD);
        assert!(person.get(&link).await.has(COURSE));
    }
);

with_mail_on_both_engines!(
    a_person_with_an_account_logs_in_from_the_link_and_adds_the_credentials,
    |app: TestApp, smtp: SmtpServer| async move {
        let token = partner(&app, "instx").await;
        upload(&app, &token, package_for(jamie())).await;
        account(&app, &smtp, "jamie@personal.example").await;
        let person = Person::new(&app);
        search_by_email(&person, "instx").await;
        app.deliver_mail().await;
        let link = link_to(&app, &smtp, ON_RECORD);
        let claim = person.get(&link).await;
        let login_href = claim
            .html
            .split("href=\"/login?next=")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(|next| format!("/login?next={next}"))
            .expect("a log-in link back to this page");
        let login = person.get(&login_href).await;
        let chooser = person
            .post(
                "/login",
                &[
                    ("csrf", &login.csrf()),
                    ("next", &link.replace(&app.base, "")),
                    ("email", "jamie@personal.example"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert!(
            chooser.has("Add to my SmartResume"),
            "back on the link, signed in: {}",
            chooser.html
        );
        assert_eq!(chooser.values("credential").len(), 3);
        let resume = person.add_everything(&chooser, &link).await;
        assert!(resume.url.contains("/resume"), "{}", resume.url);
        assert!(resume.has(COURSE));
        assert_eq!(
            person.get(&link).await.status,
            404,
            "the link was used by the claim"
        );
    }
);

with_mail_on_both_engines!(
    a_search_that_finds_nothing_gets_the_same_answer_and_sends_nothing,
    |app: TestApp, smtp: SmtpServer| async move {
        let token = partner(&app, "instx").await;
        upload(&app, &token, package_for(jamie())).await;
        partner(&app, "other").await;
        let person = Person::new(&app);
        let found = search_by_email(&person, "instx").await;
        let wrong_name = search(
            &person,
            "instx",
            &[
                ("given_name", "Jamie"),
                ("family_name", "Smyth"),
                ("email", ON_RECORD),
            ],
        )
        .await;
        let wrong_email = search(
            &person,
            "instx",
            &[
                ("given_name", "Jamie"),
                ("family_name", "Smith"),
                ("email", "jamie@elsewhere.example"),
            ],
        )
        .await;
        for other in [&wrong_name, &wrong_email] {
            assert_eq!(other.status, found.status);
            assert_eq!(other.html, found.html, "the answer does not tell");
        }
        let elsewhere = search_by_email(&person, "other").await;
        assert_eq!(elsewhere.status, 200);
        assert_eq!(
            app.deliver_mail().await,
            1,
            "only the matching search on the partner's own page sends a link"
        );
        assert_eq!(smtp.messages().len(), 1);
        let response = person
            .client
            .get(app.url("/find/instx"))
            .send()
            .await
            .expect("get");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    }
);

with_mail_on_both_engines!(
    claimed_delivered_and_expired_packages_are_not_found,
    |app: TestApp, smtp: SmtpServer| async move {
        let token = partner(&app, "instx").await;
        let receipt = upload(&app, &token, package_for(jamie())).await;
        // Jamie signs up from the partner's claim link: the package waits in their inbox.
        let person = Person::new(&app);
        let claim_link = receipt["redirectUrl"].as_str().expect("link");
        let inbox = person
            .sign_up(&app, &smtp, claim_link, ON_RECORD, PASSWORD)
            .await;
        let searcher = Person::new(&app);
        search_by_email(&searcher, "instx").await;
        assert_eq!(app.deliver_mail().await, 0, "delivered to an inbox");
        person
            .add_everything(&inbox, &action(&inbox, "/inbox/"))
            .await;
        search_by_email(&searcher, "instx").await;
        assert_eq!(app.deliver_mail().await, 0, "claimed");

        let alex = json!({"id": "alex-1", "givenName": "Alex", "familyName": "Brown", "email": "alex@institutionx.edu"});
        upload(&app, &token, package_for(alex)).await;
        app.app.clock.advance(Duration::from_secs(31 * 24 * 3600));
        search(
            &searcher,
            "instx",
            &[
                ("given_name", "Alex"),
                ("family_name", "Brown"),
                ("email", "alex@institutionx.edu"),
            ],
        )
        .await;
        assert_eq!(app.deliver_mail().await, 0, "expired");
        assert!(smtp.last_to("alex@institutionx.edu").is_none());
    }
);

with_mail_on_both_engines!(
    a_link_works_for_one_claim_and_for_one_day,
    |app: TestApp, smtp: SmtpServer| async move {
        let token = partner(&app, "instx").await;
        upload(&app, &token, package_for(jamie())).await;
        let person = account(&app, &smtp, "jamie@personal.example").await;
        search_by_email(&person, "instx").await;
        app.deliver_mail().await;
        let link = link_to(&app, &smtp, ON_RECORD);
        let first = person.get(&link).await;
        let second = person.get(&link).await;
        assert!(
            first.has("Add to my SmartResume") && second.has("Add to my SmartResume"),
            "opening the link (or a mail scanner fetching it) does not use it up"
        );
        let resume = person.add_everything(&second, &link).await;
        assert!(resume.has("3 items were added"), "{}", resume.html);
        let reopened = person.get(&link).await;
        assert_eq!(reopened.status, 404);
        assert!(reopened.has("works once"));
        let replayed = person.add_everything(&second, &link).await;
        assert_eq!(replayed.status, 404, "{}", replayed.html);

        let alex = json!({"id": "alex-1", "givenName": "Alex", "familyName": "Brown", "email": "alex@institutionx.edu"});
        let mut body: Value = serde_json::from_str(&package_for(alex)).expect("json");
        body["credentials"][0]["id"] = json!("another-course");
        upload(&app, &token, body.to_string()).await;
        search(
            &person,
            "instx",
            &[
                ("given_name", "Alex"),
                ("family_name", "Brown"),
                ("email", "alex@institutionx.edu"),
            ],
        )
        .await;
        app.deliver_mail().await;
        let link = link_to(&app, &smtp, "alex@institutionx.edu");
        assert_eq!(person.get(&link).await.status, 200);
        app.app.clock.advance(Duration::from_secs(25 * 3600));
        assert_eq!(person.get(&link).await.status, 404, "a day later");
    }
);

with_mail_on_both_engines!(
    bad_input_gets_a_message_for_each_field_and_keeps_what_was_typed,
    |app: TestApp, _smtp: SmtpServer| async move {
        partner(&app, "instx").await;
        let person = Person::new(&app);
        let before = app.snapshot().await;
        let refused = search(
            &person,
            "instx",
            &[
                ("given_name", " "),
                ("family_name", "Smith"),
                ("email", "jamie at example"),
            ],
        )
        .await;
        assert_eq!(refused.status, 422);
        assert!(refused.has("enter your first name"));
        assert!(refused.has("enter an email address like name@example.com"));
        assert!(refused.has("value=\"Smith\""), "what was typed stays");
        assert!(refused.has("value=\"jamie at example\""));
        assert!(refused.has("aria-invalid=\"true\""));
        let neither = search(
            &person,
            "instx",
            &[("given_name", "Jamie"), ("family_name", "Smith")],
        )
        .await;
        assert_eq!(neither.status, 422);
        assert!(neither.has("enter your email address or your student id"));
        assert!(neither.has("value=\"Jamie\""));
        assert_eq!(
            app.snapshot().await,
            before,
            "nothing was searched or stored"
        );
    }
);

on_both_engines!(
    a_search_without_the_form_token_is_refused,
    |app: TestApp| async move {
        partner(&app, "instx").await;
        let person = Person::new(&app);
        person.get("/find/instx").await;
        let before = app.snapshot().await;
        let fields = [
            ("given_name", "Jamie"),
            ("family_name", "Smith"),
            ("email", ON_RECORD),
        ];
        let missing = person.post("/find/instx", &fields).await;
        assert_eq!(missing.status, 403);
        let mut wrong = vec![("csrf", "not-the-token")];
        wrong.extend_from_slice(&fields);
        assert_eq!(person.post("/find/instx", &wrong).await.status, 403);
        assert_eq!(app.snapshot().await, before);
    }
);

on_both_engines!(
    unknown_and_disabled_partners_have_no_activation_page,
    |app: TestApp| async move {
        partner(&app, "instx").await;
        let person = Person::new(&app);
        assert_eq!(person.get("/find/nobody").await.status, 404);
        assert_eq!(person.post("/find/nobody", &[]).await.status, 404);
        assert_eq!(person.get("/find/instx").await.status, 200);
        credentialconnect::services::partners::disable(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "instx",
        )
        .await
        .expect("disable");
        let page = person.get("/find/instx").await;
        assert_eq!(page.status, 404);
        assert!(!page.has("Partner instx"));
    }
);

on_both_engines!(
    the_partners_logo_comes_from_our_origin_and_the_policy_names_no_other_host,
    |app: TestApp| async move {
        app.partner_with("instx", |p| {
            p.logo = Some(common::images::logo(common::images::PNG))
        })
        .await;
        partner(&app, "plain").await;
        let client = common::client();
        let with_logo = client
            .get(app.url("/find/instx"))
            .send()
            .await
            .expect("get");
        let csp = with_logo.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .to_string();
        assert!(csp.contains("img-src 'self';"), "{csp}");
        assert!(!csp.contains("https://") && !csp.contains("data:"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
        let html = with_logo.text().await.expect("html");
        let marker = "<img class=\"partner-logo\" src=\"/logos/";
        assert!(html.contains(marker), "{html}");
        assert!(html.contains(".png\" alt=\"Partner instx\">"), "{html}");
        let plain = client
            .get(app.url("/find/plain"))
            .send()
            .await
            .expect("get");
        assert_eq!(
            plain.headers()["content-security-policy"],
            csp.as_str(),
            "every activation page has the same policy, logo or not"
        );
        assert!(!plain.text().await.expect("html").contains("<img"));
    }
);

with_mail_on_both_engines!(
    a_person_who_searches_gets_a_link_whose_page_shows_the_marketplace_of_their_credentials,
    |app: TestApp, smtp: SmtpServer| async move {
        let token = partner(&app, "instx").await;
        credentialconnect::services::marketplaces::add(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            credentialconnect::services::marketplaces::MarketplaceRequest {
                name: "Marketplace of Bob".into(),
                issuers: vec!["123456789".into()],
                landing: Some("Bob's talent marketplace found your courses.".into()),
                logo: Some(credentialconnect::services::logos::LogoChange::Set(
                    common::images::logo(common::images::SVG.as_bytes()),
                )),
            },
        )
        .await
        .expect("marketplace");
        upload(&app, &token, package_for(jamie())).await;
        let person = Person::new(&app);
        let sent = search_by_email(&person, "instx").await;
        assert!(sent.has("Check your email"));
        assert!(
            !sent.has("Marketplace of Bob"),
            "the answer is the same whatever the search found"
        );
        app.deliver_mail().await;
        let claim = person.get(&link_to(&app, &smtp, ON_RECORD)).await;
        assert_eq!(claim.status, 200, "{}", claim.html);
        assert!(
            claim.has("aria-label=\"Marketplace of Bob\""),
            "{}",
            claim.html
        );
        assert!(claim.has("Bob&#39;s talent marketplace found your courses."));
        assert!(claim.has("<img class=\"marketplace-logo\" src=\"/logos/"));
    }
);

with_mail_on_both_engines!(
    a_package_without_an_email_on_record_is_found_but_nothing_can_be_sent,
    |app: TestApp, smtp: SmtpServer| async move {
        let token = partner(&app, "instx").await;
        let mut recipient = jamie();
        recipient["email"] = json!("");
        upload(&app, &token, package_for(recipient)).await;
        let person = Person::new(&app);
        let sent = search(
            &person,
            "instx",
            &[
                ("given_name", "Jamie"),
                ("family_name", "Smith"),
                ("email", ON_RECORD),
                ("student_id", "S-1001"),
            ],
        )
        .await;
        assert_eq!(sent.status, 200);
        assert!(sent.has("Check your email"));
        assert_eq!(app.deliver_mail().await, 0);
        assert!(smtp.messages().is_empty(), "never to the address typed");
    }
);

with_mail_on_both_engines!(
    several_matching_packages_get_one_message_each_up_to_three,
    |app: TestApp, smtp: SmtpServer| async move {
        let token = partner(&app, "instx").await;
        for n in 0..4 {
            let mut body: Value = serde_json::from_str(&package_for(jamie())).expect("json");
            body["credentials"][0]["id"] = json!(format!("course-{n}"));
            upload(&app, &token, body.to_string()).await;
        }
        search_by_email(&Person::new(&app), "instx").await;
        assert_eq!(app.deliver_mail().await, 3);
        let mut links: Vec<String> = smtp
            .messages()
            .iter()
            .filter_map(|m| m.link(&format!("{}/createmyresume/f_", app.base)))
            .collect();
        links.sort();
        links.dedup();
        assert_eq!(links.len(), 3, "one link per package");
    }
);

with_mail_on_both_engines!(
    packages_stored_before_lookup_keys_existed_are_found_after_the_start_up_step,
    |app: TestApp, smtp: SmtpServer| async move {
        let token = partner(&app, "instx").await;
        upload(&app, &token, package_for(jamie())).await;
        // What a package stored by an earlier version looks like after the migration.
        app.app
            .store
            .write(|conn| {
                conn.execute(
                    "UPDATE packages SET activation_email_key = NULL, activation_student_key = NULL",
                    &[],
                )?;
                conn.execute(
                    "INSERT INTO activation_backfill (package_id, partner_id) SELECT id, partner_id FROM packages",
                    &[],
                )
            })
            .await
            .expect("forget the keys");
        let person = Person::new(&app);
        search_by_email(&person, "instx").await;
        assert_eq!(app.deliver_mail().await, 0);
        let indexed = credentialconnect::services::activation::index_existing(&app.app)
            .await
            .expect("index");
        assert_eq!(indexed, 1);
        assert_eq!(
            credentialconnect::services::activation::index_existing(&app.app)
                .await
                .expect("again"),
            0,
            "done once"
        );
        search_by_email(&person, "instx").await;
        assert_eq!(app.deliver_mail().await, 1);
        assert!(smtp.last_to(ON_RECORD).is_some());
    }
);

/// The app with mail and `configure`d, on `engine`.
async fn spawn(engine: Engine, configure: impl FnOnce(&mut Config)) -> (TestApp, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(engine, |config| {
        config.mail.smtp_url = Some(url);
        configure(config);
    })
    .await;
    (app, smtp)
}

async fn searches_past_the_limits_are_refused_with_429(engine: Engine) {
    let (app, _smtp) = spawn(engine, |config| {
        config.activation_search_rate_per_minute = 3;
        config.activation_identity_rate_per_hour = 0;
    })
    .await;
    partner(&app, "instx").await;
    let person = Person::new(&app);
    for n in 0..3 {
        let email = format!("person{n}@example.com");
        let fields = [
            ("given_name", "Jamie"),
            ("family_name", "Smith"),
            ("email", email.as_str()),
        ];
        assert_eq!(search(&person, "instx", &fields).await.status, 200);
    }
    let refused = search_by_email(&person, "instx").await;
    assert_eq!(refused.status, 429, "per address");
    assert!(refused.has("Too many searches"));

    let (app, smtp) = spawn(engine, |config| {
        config.activation_search_rate_per_minute = 0;
        config.activation_identity_rate_per_hour = 2;
    })
    .await;
    let token = partner(&app, "instx").await;
    upload(&app, &token, package_for(jamie())).await;
    let person = Person::new(&app);
    for _ in 0..2 {
        assert_eq!(search_by_email(&person, "instx").await.status, 200);
    }
    let other_names = [
        ("given_name", "Someone"),
        ("family_name", "Else"),
        ("email", ON_RECORD),
    ];
    let refused = search(&person, "instx", &other_names).await;
    assert_eq!(refused.status, 429, "per identity, whatever the names");
    let other_person = [
        ("given_name", "Alex"),
        ("family_name", "Brown"),
        ("email", "alex@institutionx.edu"),
    ];
    assert_eq!(search(&person, "instx", &other_person).await.status, 200);
    assert_eq!(app.deliver_mail().await, 2, "at most two messages an hour");
    assert_eq!(smtp.messages().len(), 2);
}

mod searches_past_the_limits {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        searches_past_the_limits_are_refused_with_429(Engine::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        searches_past_the_limits_are_refused_with_429(Engine::Postgres).await;
    }
}

async fn in_test_mode_links_go_only_to_whitelisted_addresses(engine: Engine) {
    let (app, smtp) = spawn(engine, |config| {
        config.mail.test_mode = true;
        config.mail.whitelist = vec!["example.org".into()];
    })
    .await;
    let token = partner(&app, "instx").await;
    upload(&app, &token, package_for(jamie())).await;
    search_by_email(&Person::new(&app), "instx").await;
    app.deliver_mail().await;
    assert!(smtp.messages().is_empty());
    let outbox = app
        .app
        .store
        .read(|conn| credentialconnect::store::outbox::recent(conn, 10))
        .await
        .expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].state, "suppressed");
    assert_eq!(outbox[0].to, ON_RECORD);
}

mod in_test_mode {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        in_test_mode_links_go_only_to_whitelisted_addresses(Engine::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        in_test_mode_links_go_only_to_whitelisted_addresses(Engine::Postgres).await;
    }
}

/// A package whose claim link lives an hour: its activation link expires with it, and is
/// still within the week activation links are kept when the package is purged.
async fn an_expired_package_is_purged_with_the_activation_links_to_it(engine: Engine) {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with(engine, |config: &mut Config| {
        config.mail.smtp_url = Some(smtp.url());
        config.package_ttl = Duration::from_secs(3600);
    })
    .await;
    let token = partner(&app, "instx").await;
    upload(&app, &token, package_for(jamie())).await;
    let person = Person::new(&app);
    search_by_email(&person, "instx").await;
    assert_eq!(app.deliver_mail().await, 1);
    let link = link_to(&app, &smtp, ON_RECORD);

    app.app.clock.advance(Duration::from_secs(2 * 3600));
    let purged = credentialconnect::services::housekeeping::purge_if_due(&app.app, "test")
        .await
        .expect("the purge")
        .expect("due");
    assert_eq!(
        (purged.packages, purged.activation_links),
        (1, 0),
        "{purged:?}"
    );
    let left = app
        .app
        .store
        .read(|conn| {
            conn.query_one(
                "SELECT (SELECT count(*) FROM packages), (SELECT count(*) FROM activation_links)",
                &[],
            )
        })
        .await
        .expect("count");
    assert_eq!((left.int(0).expect("n"), left.int(1).expect("n")), (0, 0));
    assert_eq!(person.get(&link).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_package_is_purged_with_the_activation_links_to_it_on_sqlite() {
    an_expired_package_is_purged_with_the_activation_links_to_it(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_package_is_purged_with_the_activation_links_to_it_on_postgres() {
    an_expired_package_is_purged_with_the_activation_links_to_it(Engine::Postgres).await;
}

with_mail_on_both_engines!(
    a_person_signed_in_with_another_address_claims_through_the_one_time_link_without_a_code,
    |app: TestApp, smtp: SmtpServer| async move {
        let token = partner(&app, "instx").await;
        upload(&app, &token, package_for(jamie())).await;
        let person = Person::new(&app);
        person
            .sign_up(
                &app,
                &smtp,
                "/signup",
                "jamie.private@example.com",
                PASSWORD,
            )
            .await;
        search_by_email(&person, "instx").await;
        app.deliver_mail().await;
        // The link went to the address on record: opening it proves that address.
        let link = link_to(&app, &smtp, ON_RECORD);
        let page = person.get(&link).await;
        assert!(!page.has("Sent for"), "{}", page.html);
        let resume = person.add_everything(&page, &link).await;
        assert!(resume.has("3 items were added"), "{}", resume.html);
    }
);
