//! The admin area: admin accounts made by the operator, a TOTP second factor (each code once,
//! recovery codes once) in every session, alerts settled from a page, the audit log read and
//! exported; and to everyone else, every admin route is a 404 like any unknown path.

mod common;

use common::operators::{alert_form, logged, token_status, totp_code, totp_key};
use common::person::{PASSWORD, Person, claim_everything, upload};
use common::smtp::SmtpServer;
use common::{TestApp, fixture_json};
use credentialconnect::domain::audit::{Action, Actor, Filter};
use credentialconnect::services::{admins, audit};
use serde_json::{Value, json};
use std::time::Duration;

const ADMIN: &str = "ops@example.org";

/// Every admin route, as (method, path).
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/admin"),
    ("GET", "/admin/second-factor"),
    ("POST", "/admin/second-factor"),
    ("GET", "/admin/alerts"),
    ("POST", "/admin/alerts/some-alert/acknowledge"),
    ("POST", "/admin/alerts/some-alert/assign"),
    ("GET", "/admin/audit"),
    ("GET", "/admin/audit.jsonl"),
    ("GET", "/admin/partners"),
    ("POST", "/admin/partners"),
    ("GET", "/admin/partners/instx"),
    ("POST", "/admin/partners/instx/options"),
    ("POST", "/admin/partners/instx/pull-url"),
    ("POST", "/admin/partners/instx/logo"),
    ("POST", "/admin/partners/instx/wallet"),
    ("POST", "/admin/partners/instx/mapping"),
    ("POST", "/admin/partners/instx/rotate"),
    ("POST", "/admin/partners/instx/disable"),
    ("GET", "/admin/marketplaces"),
    ("POST", "/admin/marketplaces"),
    ("POST", "/admin/marketplaces/some-id/remove"),
    ("GET", "/admin/mail"),
    ("POST", "/admin/mail/whitelist"),
    ("POST", "/admin/mail/whitelist/remove"),
];

/// Sends `method path` with a form holding the page's CSRF token (when the browser has one).
async fn call(person: &Person, method: &str, path: &str, csrf: &str) -> (u16, String) {
    let url = format!("{}{path}", person.base);
    let request = match method {
        "GET" => person.client.get(url),
        _ => person.client.post(url).form(&[("csrf", csrf)]),
    };
    let response = request.send().await.expect("request");
    (
        response.status().as_u16(),
        response.text().await.expect("body"),
    )
}

/// The operator makes an admin; the admin opens the set-password link and chooses a
/// password, which signs them in and leads to the second factor. Returns their browser.
async fn new_admin(app: &TestApp) -> Person {
    let created = admins::create(&app.app, &Actor::operator(), ADMIN)
        .await
        .expect("admin made");
    assert!(created.new_account);
    let admin = Person::new(app);
    let form = admin.get(&created.set_password_link).await;
    assert_eq!(form.status, 200, "{}", form.html);
    let landed = admin
        .post(
            &created.set_password_link,
            &[("csrf", &form.csrf()), ("password", PASSWORD)],
        )
        .await;
    assert!(
        landed.url.ends_with("/admin/second-factor"),
        "{}",
        landed.url
    );
    admin
}

async fn second_factor(person: &Person, code: &str) -> common::person::Page {
    let page = person.get("/admin/second-factor").await;
    person
        .post(
            "/admin/second-factor",
            &[("csrf", &page.csrf()), ("code", code)],
        )
        .await
}

/// A new admin who has set up their authenticator: their browser and key.
async fn signed_in_admin(app: &TestApp) -> (Person, Vec<u8>) {
    let admin = new_admin(app).await;
    let setup = admin.get("/admin/second-factor").await;
    let key = totp_key(&setup.html);
    let codes = second_factor(&admin, &totp_code(app, &key)).await;
    assert!(codes.has("Your recovery codes"), "{}", codes.html);
    (admin, key)
}

with_mail_on_both_engines!(
    every_admin_route_answers_as_an_unknown_path_to_anyone_else,
    |app: TestApp, smtp: SmtpServer| async move {
        let (_, unknown) = call(&Person::new(&app), "GET", "/no-such-page", "").await;
        let link = upload(
            &app,
            "instx",
            fixture_json("guide/three-courses.json").to_string(),
        )
        .await;
        let person = claim_everything(&app, &smtp, &link, "jsmith@institutionx.edu").await;
        let person_csrf = person.get("/resume").await.csrf();
        let stranger = Person::new(&app);
        let stranger_csrf = stranger.get("/").await.csrf();
        for (method, path) in ROUTES {
            for (who, browser, csrf) in [
                ("signed out", &stranger, &stranger_csrf),
                ("a job seeker", &person, &person_csrf),
            ] {
                let (status, body) = call(browser, method, path, csrf).await;
                assert_eq!(status, 404, "{method} {path} as {who}");
                assert_eq!(body, unknown, "{method} {path} as {who}: the same page");
            }
        }

        // An admin before the second factor is sent to it from every other admin route.
        let admin = new_admin(&app).await;
        let csrf = admin.get("/admin/second-factor").await.csrf();
        for (method, path) in ROUTES.iter().filter(|(_, p)| !p.contains("second-factor")) {
            let response = admin
                .client
                .request(
                    method.parse().expect("method"),
                    format!("{}{path}", admin.base),
                )
                .form(&[("csrf", &csrf)])
                .send()
                .await
                .expect("request");
            assert!(
                response.url().path().ends_with("/admin/second-factor"),
                "{method} {path}: {}",
                response.url()
            );
        }
    }
);

on_both_engines!(
    an_admin_passes_the_second_factor_once_per_code,
    |app: TestApp| async move {
        let admin = new_admin(&app).await;
        let setup = admin.get("/admin/second-factor").await;
        assert!(setup.has("otpauth://totp/CredentialConnect:ops%40example.org"));
        let key = totp_key(&setup.html);

        let wrong = second_factor(&admin, "000000").await;
        assert_eq!(wrong.status, 422, "{}", wrong.html);
        assert!(wrong.has("That code is not right"));
        let failed = logged(&app, Action::AdminSignInFailed).await;
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].address.as_deref(), Some("127.0.0.1"));

        let code = totp_code(&app, &key);
        let codes = second_factor(&admin, &code).await;
        assert_eq!(codes.status, 200);
        let recovery: Vec<String> = codes
            .html
            .split("<li><code>")
            .skip(1)
            .map(|rest| rest.split('<').next().expect("code").to_string())
            .collect();
        assert_eq!(recovery.len(), 10, "{}", codes.html);
        assert_eq!(admin.get("/admin").await.status, 200);
        // The key is never shown again.
        let again = Person::new(&app);
        again.log_in(ADMIN, PASSWORD).await;
        let prompt = again.get("/admin/second-factor").await;
        assert!(!prompt.has("class=\"secret\""), "{}", prompt.html);

        // The same code in another session: refused, however soon.
        let replayed = second_factor(&again, &code).await;
        assert_eq!(replayed.status, 422, "a code works once");
        // The next code works.
        app.app.clock.advance(Duration::from_secs(30));
        let next = second_factor(&again, &totp_code(&app, &key)).await;
        assert!(next.url.ends_with("/admin"), "{}", next.url);

        // A recovery code works once, typed however.
        let third = Person::new(&app);
        third.log_in(ADMIN, PASSWORD).await;
        let typed = recovery[3].to_uppercase().replace('-', " ");
        assert!(second_factor(&third, &typed).await.url.ends_with("/admin"));
        let fourth = Person::new(&app);
        fourth.log_in(ADMIN, PASSWORD).await;
        assert_eq!(second_factor(&fourth, &recovery[3]).await.status, 422);

        // The second factor lasts 12 hours in a session.
        app.app.clock.advance(Duration::from_secs(13 * 3600));
        let later = third.get("/admin").await;
        assert!(later.url.ends_with("/admin/second-factor"), "{}", later.url);

        // Every sign-in is logged with the address, and a wrong password for an admin too.
        let signed_in = logged(&app, Action::AdminSignedIn).await;
        assert_eq!(signed_in.len(), 3);
        assert!(
            signed_in
                .iter()
                .all(|e| e.address.as_deref() == Some("127.0.0.1"))
        );
        assert_eq!(logged(&app, Action::AdminRecoveryCodeUsed).await.len(), 1);
        Person::new(&app).log_in(ADMIN, "not the password").await;
        let failed = logged(&app, Action::AdminSignInFailed).await;
        assert_eq!(
            failed.last().and_then(|e| e.detail.clone()),
            Some(json!({"password": "wrong"}))
        );
    }
);

with_mail_on_both_engines!(
    an_admin_assigns_a_section_from_an_alert_and_reads_the_audit_log,
    |app: TestApp, smtp: SmtpServer| async move {
        let mut package = fixture_json("guide/three-courses.json");
        package["credentials"][0]["credentialSubject"]["achievement"]["achievementType"] =
            json!("ext:Apprenticeship");
        let link = upload(&app, "instx", package.to_string()).await;
        claim_everything(&app, &smtp, &link, "jsmith@institutionx.edu").await;
        let (admin, _) = signed_in_admin(&app).await;

        let alerts = admin.get("/admin/alerts").await;
        assert!(
            alerts.has("Unknown achievement type: ext:Apprenticeship"),
            "{}",
            alerts.html
        );
        assert!(alerts.has("1 credential of this type waits in Unassigned, among them:"));
        assert!(
            alerts.has("<li>Calculus w/Analytic Geometry I</li>"),
            "{}",
            alerts.html
        );
        assert!(admin.get("/admin").await.has("1 open"));
        let path = alert_form(&alerts.html, "/assign");

        let forged = admin
            .post(&path, &[("csrf", "forged"), ("section", "experience")])
            .await;
        assert_eq!(forged.status, 403);
        let nothing = admin
            .post(&path, &[("csrf", &alerts.csrf()), ("section", "nowhere")])
            .await;
        assert_eq!(nothing.status, 422);
        let assigned = admin
            .post(
                &path,
                &[("csrf", &alerts.csrf()), ("section", "experience")],
            )
            .await;
        assert!(
            assigned.has("1 waiting credential(s) moved"),
            "{}",
            assigned.html
        );
        assert!(!assigned.has("ext:Apprenticeship"));
        let again = admin
            .post(
                &path,
                &[("csrf", &alerts.csrf()), ("section", "experience")],
            )
            .await;
        assert_eq!(again.status, 404, "a settled alert is no longer open");
        let mapped = logged(&app, Action::MappingAdded).await;
        assert_eq!(mapped.len(), 1);
        assert_eq!(mapped[0].actor_kind, "admin");
        assert_eq!(
            mapped[0].detail.as_ref().map(|d| d["moved"].clone()),
            Some(json!(1))
        );

        // An alert acknowledged: closed, recorded, nothing else changed.
        let mut other = fixture_json("guide/three-courses.json");
        other["recipient"]["email"] = json!("someone@example.org");
        for (i, credential) in other["credentials"]
            .as_array_mut()
            .expect("list")
            .iter_mut()
            .enumerate()
        {
            credential["id"] = json!(format!("residency-{i}"));
            credential["credentialSubject"]["achievement"]["achievementType"] =
                json!("ext:Residency");
        }
        upload(&app, "instx", other.to_string()).await;
        let alerts = admin.get("/admin/alerts").await;
        assert!(alerts.has("ext:Residency"), "{}", alerts.html);
        let acknowledge = alert_form(&alerts.html, "/acknowledge");
        let done = admin.post(&acknowledge, &[("csrf", &alerts.csrf())]).await;
        assert!(done.has("The alert was acknowledged."), "{}", done.html);
        assert!(!done.has("ext:Residency"));
        assert_eq!(logged(&app, Action::AlertAcknowledged).await.len(), 1);

        // The log, filtered on the page and as JSON Lines.
        let page = admin.get("/admin/audit?action=mapping.added").await;
        assert!(
            page.has("mapping.added") && !page.has("admin.signed_in</td>"),
            "{}",
            page.html
        );
        let bad = admin.get("/admin/audit?since=yesterday").await;
        assert!(bad.has("is not a date"), "{}", bad.html);
        let lines = admin
            .client
            .get(format!("{}/admin/audit.jsonl", admin.base))
            .send()
            .await
            .expect("GET");
        assert_eq!(lines.headers()["content-type"], "application/jsonl");
        let text = lines.text().await.expect("body");
        let actions: Vec<String> = text
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("JSON")["action"].to_string())
            .collect();
        assert!(
            actions.contains(&"\"admin.created\"".to_string()),
            "{actions:?}"
        );
        assert!(
            actions.contains(&"\"mapping.added\"".to_string()),
            "{actions:?}"
        );
    }
);

/// The client id and secret a secret page shows.
fn shown_secret(page: &common::person::Page) -> (String, String) {
    let code = |id: &str| {
        let marker = format!("<code id=\"{id}\">");
        let start = page.html.find(&marker).expect("shown") + marker.len();
        page.html[start..]
            .split('<')
            .next()
            .expect("value")
            .to_string()
    };
    (code("client-id"), code("client-secret"))
}

on_both_engines!(
    an_admin_manages_partners_on_pages,
    |app: TestApp| async move {
        let (admin, _) = signed_in_admin(&app).await;
        let list = admin.get("/admin/partners").await;
        assert_eq!(list.status, 200);
        let created = admin
            .post(
                "/admin/partners",
                &[
                    ("csrf", &list.csrf()),
                    ("name", "Institution <X>"),
                    ("slug", "instx"),
                    ("scope", "readonly"),
                    ("scope", "replace"),
                ],
            )
            .await;
        assert!(created.has("Copy the secret now"), "{}", created.html);
        assert!(
            created.has("Institution &") && !created.has("Institution <X>"),
            "names are escaped"
        );
        let (id, secret) = shown_secret(&created);
        assert_eq!(token_status(&app, &id, &secret).await, 200);
        let page = admin.get("/admin/partners/instx").await;
        assert!(!page.has(&secret), "the secret is never shown again");
        let taken = admin
            .post(
                "/admin/partners",
                &[
                    ("csrf", &list.csrf()),
                    ("name", "Again"),
                    ("slug", "instx"),
                    ("scope", "readonly"),
                ],
            )
            .await;
        assert_eq!(taken.status, 422);
        assert!(taken.has("already exists"), "{}", taken.html);

        // Options, a pull URL (a plain-http one refused with the reason), an override.
        let csrf = page.csrf();
        let saved = admin
            .post(
                "/admin/partners/instx/options",
                &[("csrf", &csrf), ("scope", "readonly"), ("strict", "1")],
            )
            .await;
        assert!(saved.has("The options were saved."), "{}", saved.html);
        let partner = credentialconnect::services::partners::overview(&app.app, "instx")
            .await
            .expect("read")
            .expect("partner")
            .partner;
        assert!(partner.strict && !partner.unstable_ids);
        assert_eq!(partner.scopes.to_string(), "readonly");
        let refused = admin
            .post(
                "/admin/partners/instx/pull-url",
                &[("csrf", &csrf), ("pull_url", "http://portal.example/pull")],
            )
            .await;
        assert_eq!(refused.status, 422);
        assert!(refused.has("https"), "{}", refused.html);
        let pulled = admin
            .post(
                "/admin/partners/instx/pull-url",
                &[("csrf", &csrf), ("pull_url", "https://portal.example/pull")],
            )
            .await;
        assert!(
            pulled.has("value=\"https://portal.example/pull\""),
            "{}",
            pulled.html
        );
        let mapped = admin
            .post(
                "/admin/partners/instx/mapping",
                &[
                    ("csrf", &csrf),
                    ("achievement_type", "ext:Residency"),
                    ("section", "experience"),
                ],
            )
            .await;
        assert!(mapped.has("ext:Residency → Experience"), "{}", mapped.html);

        // A wallet: refused over plain http, kept over https with its secret sealed, removed.
        let wallet = |push: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("push_url", push.to_string()),
                ("token_url", "https://wallet.example/token".to_string()),
                ("client_id", "cc".to_string()),
                ("client_secret", "wallet-secret-1".to_string()),
                ("landing_url", "https://wallet.example/landing".to_string()),
            ]
        };
        let form = wallet("http://wallet.example/push");
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = admin.post("/admin/partners/instx/wallet", &form).await;
        assert_eq!(refused.status, 422, "{}", refused.html);
        let form = wallet("https://wallet.example/push");
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let kept = admin.post("/admin/partners/instx/wallet", &form).await;
        assert!(
            kept.has("value=\"https://wallet.example/push\""),
            "{}",
            kept.html
        );
        assert!(!kept.has("wallet-secret-1"));
        assert!(
            !app.snapshot()
                .await
                .iter()
                .any(|row| row.contains("wallet-secret-1"))
        );
        let removed = admin
            .post(
                "/admin/partners/instx/wallet",
                &[("csrf", &csrf), ("remove", "1")],
            )
            .await;
        assert!(
            !removed.has("value=\"https://wallet.example/push\""),
            "{}",
            removed.html
        );

        // A logo, uploaded as a file; one that is not an image is refused.
        let upload = |bytes: Vec<u8>| {
            reqwest::multipart::Form::new()
                .text("csrf", csrf.clone())
                .part(
                    "logo",
                    reqwest::multipart::Part::bytes(bytes).file_name("logo.png"),
                )
        };
        let bad = admin
            .client
            .post(format!("{}/admin/partners/instx/logo", admin.base))
            .multipart(upload(b"not an image".to_vec()))
            .send()
            .await
            .expect("POST");
        assert_eq!(bad.status(), 422);
        let good = admin
            .client
            .post(format!("{}/admin/partners/instx/logo", admin.base))
            .multipart(upload(
                common::images::logo(common::images::PNG).bytes().to_vec(),
            ))
            .send()
            .await
            .expect("POST");
        let shown = good.text().await.expect("page");
        assert!(
            shown.contains("The logo was saved.") && shown.contains("/logos/"),
            "{shown}"
        );
        let forged = admin
            .client
            .post(format!("{}/admin/partners/instx/logo", admin.base))
            .multipart(reqwest::multipart::Form::new().text("csrf", "forged"))
            .send()
            .await
            .expect("POST");
        assert_eq!(forged.status(), 403);

        // Rotating: the old secret stops, the new one works.
        let rotated = admin
            .post("/admin/partners/instx/rotate", &[("csrf", &csrf)])
            .await;
        let (_, new_secret) = shown_secret(&rotated);
        assert_eq!(token_status(&app, &id, &secret).await, 401);
        assert_eq!(token_status(&app, &id, &new_secret).await, 200);
        // Disabling: nothing works.
        let disabled = admin
            .post("/admin/partners/instx/disable", &[("csrf", &csrf)])
            .await;
        assert!(disabled.has("The partner is disabled"), "{}", disabled.html);
        assert_eq!(token_status(&app, &id, &new_secret).await, 401);

        let actions: Vec<String> = audit::entries(&app.app, Filter::default(), None, 100)
            .await
            .expect("audit")
            .into_iter()
            .filter(|e| e.actor_kind == "admin")
            .map(|e| e.action)
            .collect();
        for expected in [
            "partner.created",
            "partner.changed",
            "mapping.added",
            "partner.secret_rotated",
            "partner.disabled",
        ] {
            assert!(
                actions.iter().any(|a| a == expected),
                "{expected} in {actions:?}"
            );
        }
    }
);

with_mail_on_both_engines!(
    an_admin_edits_marketplaces_and_the_test_mode_whitelist,
    |app: TestApp, _smtp: SmtpServer| async move {
        let (admin, _) = signed_in_admin(&app).await;
        let page = admin.get("/admin/marketplaces").await;
        let form = reqwest::multipart::Form::new()
            .text("csrf", page.csrf())
            .text("name", "Marketplace of Bob")
            .text("issuers", "did:web:bob.example\n123456789\n")
            .text("landing", "Bob places people by what they can do.");
        let added = admin
            .client
            .post(format!("{}/admin/marketplaces", admin.base))
            .multipart(form)
            .send()
            .await
            .expect("POST");
        let shown = added.text().await.expect("page");
        assert!(
            shown.contains("Marketplace of Bob") && shown.contains("did:web:bob.example"),
            "{shown}"
        );
        let id = shown
            .split("action=\"/admin/marketplaces/")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .expect("a marketplace id")
            .to_string();
        let unrouted = admin
            .post(
                &format!("/admin/marketplaces/{id}/remove"),
                &[("csrf", &page.csrf()), ("issuer", "did:web:bob.example")],
            )
            .await;
        assert!(
            !unrouted.has("did:web:bob.example") && unrouted.has("123456789"),
            "{}",
            unrouted.html
        );
        let removed = admin
            .post(
                &format!("/admin/marketplaces/{id}/remove"),
                &[("csrf", &page.csrf())],
            )
            .await;
        assert!(!removed.has("Marketplace of Bob</h2>"), "{}", removed.html);

        // The whitelist: entries checked, added, removed.
        let mail = admin.get("/admin/mail").await;
        let bad = admin
            .post(
                "/admin/mail/whitelist",
                &[("csrf", &mail.csrf()), ("entry", "not a domain")],
            )
            .await;
        assert_eq!(bad.status, 422);
        assert!(
            bad.has("neither an email address nor a domain"),
            "{}",
            bad.html
        );
        let added = admin
            .post(
                "/admin/mail/whitelist",
                &[("csrf", &mail.csrf()), ("entry", "@Example.ORG")],
            )
            .await;
        assert!(added.has("<code>example.org</code>"), "{}", added.html);
        let removed = admin
            .post(
                "/admin/mail/whitelist/remove",
                &[("csrf", &mail.csrf()), ("entry", "example.org")],
            )
            .await;
        assert!(!removed.has("<code>example.org</code>"), "{}", removed.html);
        assert_eq!(logged(&app, Action::WhitelistAdded).await.len(), 1);
        assert_eq!(logged(&app, Action::WhitelistRemoved).await.len(), 1);
    }
);

on_both_engines!(
    every_admin_form_refuses_a_forged_token_and_changes_nothing,
    |app: TestApp| async move {
        app.partner("instx").await;
        let (admin, _) = signed_in_admin(&app).await;
        let before = app.snapshot().await;
        for (method, path) in ROUTES.iter().filter(|(method, _)| *method == "POST") {
            let url = format!("{}{path}", admin.base);
            let multipart = path.ends_with("/logo") || *path == "/admin/marketplaces";
            let request = if multipart {
                admin.client.post(url).multipart(
                    reqwest::multipart::Form::new()
                        .text("csrf", "forged")
                        .text("name", "Forged"),
                )
            } else {
                admin.client.post(url).form(&[
                    ("csrf", "forged"),
                    ("name", "Forged"),
                    ("scope", "readonly"),
                    ("entry", "forged.example"),
                    ("section", "experience"),
                    ("code", "000000"),
                ])
            };
            let status = request.send().await.expect("request").status().as_u16();
            assert_eq!(status, 403, "{method} {path}");
        }
        assert_eq!(app.snapshot().await, before, "nothing changed");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_held_back_by_test_mode_is_an_alert_until_acknowledged() {
    for engine in [common::Engine::Sqlite, common::Engine::Postgres] {
        let (app, smtp) = TestApp::spawn_with_mail_and(engine, |config| {
            config.mail.test_mode = true;
            config.mail.whitelist = vec!["example.org".into()];
        })
        .await;
        let _database = app.database_guard();
        let (admin, _) = signed_in_admin(&app).await;
        // A sign-up from an address outside the whitelist: its confirmation is held back.
        let person = Person::new(&app);
        let form = person.get("/signup").await;
        let sent = person
            .post(
                "/signup",
                &[
                    ("csrf", &form.csrf()),
                    ("given_name", "Sam"),
                    ("family_name", "Lee"),
                    ("email", "sam@elsewhere.example"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert!(sent.has("Check your email"), "{}", sent.html);
        app.deliver_mail().await;
        assert!(smtp.last_to("sam@elsewhere.example").is_none(), "held back");
        let alerts = admin.get("/admin/alerts").await;
        assert!(alerts.has("sam@elsewhere.example"), "{}", alerts.html);
        assert!(
            alerts.has("1 open"),
            "counted in the navigation: {}",
            alerts.html
        );
        let action = alert_form(&alerts.html, "/acknowledge");
        let done = admin.post(&action, &[("csrf", &alerts.csrf())]).await;
        assert!(done.has("The alert was acknowledged."), "{}", done.html);
        assert!(!done.has("sam@elsewhere.example"), "{}", done.html);
        assert!(!done.has("1 open"));
        assert_eq!(logged(&app, Action::AlertAcknowledged).await.len(), 1);
    }
}
