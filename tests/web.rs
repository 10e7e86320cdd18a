//! The job seeker's pages over HTTP, on both engines, with a real SMTP exchange: claim link,
//! sign-up and email confirmation, the resume builder, log-in, reset, and bad input.

mod common;

use common::person::{PASSWORD, Person, claim_everything, entry_id, make_share_link, upload};
use common::smtp::SmtpServer;
use common::{TestApp, fixture, fixture_json};
use serde_json::json;

with_mail_on_both_engines!(
    a_claim_link_leads_through_sign_up_and_email_confirmation_to_the_resume,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let person = Person::new(&app);
        let form = person.get(&link).await;
        assert!(
            form.has("value=\"jsmith@institutionx.edu\""),
            "the sign-up form is pre-filled from the package"
        );
        assert!(form.has("Log in instead"));
        assert!(
            form.has("Calculus w/Analytic Geometry I"),
            "the package's contents are listed"
        );
        let chooser = person
            .sign_up(&app, &smtp, &link, "jsmith@institutionx.edu", PASSWORD)
            .await;
        assert_eq!(
            chooser.values("credential").len(),
            3,
            "all three courses offered"
        );
        assert!(chooser.html.matches(" checked").count() >= 3, "all checked");
        let mut form = vec![("csrf", chooser.csrf())];
        form.extend(
            chooser
                .values("credential")
                .into_iter()
                .map(|v| ("credential", v)),
        );
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resume = person.post(&link, &form).await;
        assert!(resume.has("3 items were added"), "{}", resume.html);
        let coursework = resume
            .html
            .find("Relevant Coursework")
            .expect("the section");
        for course in [
            "Calculus w/Analytic Geometry I",
            "Introduction to Psychology",
            "First-Year Composition",
        ] {
            assert!(resume.html[coursework..].contains(course), "{course}");
        }
        assert!(
            resume.has("Spring 2023"),
            "the date as the partner wrote it"
        );
        // The link now belongs to this person: opening it again goes to the resume.
        assert!(person.get(&link).await.url.ends_with("/resume"));
    }
);

with_mail_on_both_engines!(
    a_second_person_cannot_take_claimed_credentials,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        claim_everything(&app, &smtp, &link, "first@example.com").await;
        let second = Person::new(&app);
        let page = second.get(&link).await;
        assert_eq!(page.status, 410);
        assert!(page.has("already on another resume"));
        // The tester case from the guide's FAQ: the same award sent again for someone else.
        let mut for_tester_two = fixture_json("guide/three-courses.json");
        for_tester_two["recipient"] = json!({"id": "tester-2", "email": "second@example.com"});
        let again = upload(&app, "instx", for_tester_two.to_string()).await;
        let chooser = second
            .sign_up(&app, &smtp, &again, "second@example.com", PASSWORD)
            .await;
        assert!(chooser.has("already on another resume"));
        assert!(chooser.values("credential").is_empty(), "nothing to tick");
        let before = app
            .snapshot()
            .await
            .into_iter()
            .filter(|l| l.starts_with("resume_entries"))
            .count();
        let form = [
            ("csrf", chooser.csrf()),
            ("credential", "anything".to_string()),
        ];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        second.post(&again, &form).await;
        let after = app
            .snapshot()
            .await
            .into_iter()
            .filter(|l| l.starts_with("resume_entries"))
            .count();
        assert_eq!(before, after, "nothing attached to the second person");
    }
);

with_mail_on_both_engines!(
    verified_skills_show_who_verified_them_and_cannot_be_edited,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/skillsync.json")).await;
        let person = claim_everything(&app, &smtp, &link, "john.q.sample@somedomain.com").await;
        let resume = person.get("/resume").await;
        for skill in ["Teaching", "Leadership", "Quality Management", "Sales"] {
            assert!(resume.has(skill), "{skill}");
        }
        assert_eq!(
            resume
                .html
                .matches(">verified by the partner</summary>")
                .count(),
            4
        );
        assert!(
            resume.has("Verified by Institution X (sent by Partner instx) on 14 February 2025")
        );
        assert!(
            !resume.has("name=\"level\""),
            "no level control for verified skills"
        );
        let skill_id = resume
            .html
            .split("id=\"skill-")
            .nth(1)
            .expect("a skill")
            .split('"')
            .next()
            .expect("id")
            .to_string();
        let before = app.snapshot().await;
        let refused = person
            .post(
                &format!("/resume/skills/{skill_id}/level"),
                &[("csrf", &resume.csrf()), ("level", "expert")],
            )
            .await;
        assert_eq!(refused.status, 403);
        assert!(refused.has("Verified skills cannot be edited"));
        assert_eq!(app.snapshot().await, before);
    }
);

with_mail_on_both_engines!(
    unverified_skills_take_a_level_and_categories_never_change,
    |app: TestApp, smtp: SmtpServer| async move {
        let mut package =
            credentialconnect::domain::lenient_json::parse(&fixture("guide/skillsync.json"))
                .expect("the guide's example");
        package["credentials"][0]
            .as_object_mut()
            .expect("o")
            .remove("proof");
        package["credentials"][0]["credentialSubject"]["achievement"]["alignment"][0]["skillCategory"] =
            json!("durable");
        let link = upload(&app, "instx", package.to_string()).await;
        let person = claim_everything(&app, &smtp, &link, "john.q.sample@somedomain.com").await;
        let resume = person.get("/resume").await;
        assert!(
            resume.has("name=\"level\""),
            "unverified skills have a level control"
        );
        let skill_id = resume
            .html
            .split("id=\"skill-")
            .nth(1)
            .expect("a skill")
            .split('"')
            .next()
            .expect("id")
            .to_string();
        let saved = person
            .post(
                &format!("/resume/skills/{skill_id}/level"),
                &[("csrf", &resume.csrf()), ("level", "advanced")],
            )
            .await;
        assert!(saved.has("The level was saved"));
        assert!(saved.has("<option value=\"advanced\" selected>"));
        let refused = person
            .post(
                &format!("/resume/skills/{skill_id}/level"),
                &[("csrf", &resume.csrf()), ("level", "guru")],
            )
            .await;
        assert_eq!(refused.status, 422);
        assert!(saved.has("durable"));
        assert!(
            !saved.has("name=\"category\""),
            "no control changes a category"
        );
    }
);

with_mail_on_both_engines!(
    entries_hide_show_and_delete_with_confirmation,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let person = claim_everything(&app, &smtp, &link, "jsmith@institutionx.edu").await;
        let resume = person.get("/resume").await;
        let entry = resume
            .html
            .split("id=\"entry-")
            .nth(1)
            .expect("an entry")
            .split('"')
            .next()
            .expect("id")
            .to_string();
        let hidden = person
            .post(
                &format!("/resume/entries/{entry}/hide"),
                &[("csrf", &resume.csrf())],
            )
            .await;
        assert!(hidden.has("Hidden from your resume"));
        assert!(hidden.has(&format!("/resume/entries/{entry}/unhide")));
        let confirm = person.get(&format!("/resume/entries/{entry}/delete")).await;
        assert!(
            confirm.has("Delete “Calculus w/Analytic Geometry I” from your resume?"),
            "{}",
            confirm.html
        );
        let deleted = person
            .post(
                &format!("/resume/entries/{entry}/delete"),
                &[("csrf", &confirm.csrf())],
            )
            .await;
        assert!(deleted.has("Deleted from your resume"));
        assert!(!deleted.has("Calculus w/Analytic Geometry I"));
        // Their own entry, shown as self-reported.
        let added = person
            .post(
                "/resume/entries",
                &[
                    ("csrf", &deleted.csrf()),
                    ("section", "Experience"),
                    ("title", "Barista"),
                    ("organisation", "Corner Cafe"),
                    ("start", "2021"),
                    ("end", "present"),
                ],
            )
            .await;
        assert!(added.has("Barista") && added.has("self-reported") && added.has("2021 – present"));
    }
);

with_mail_on_both_engines!(
    an_update_from_the_partner_changes_the_entry_in_place_and_keeps_it_hidden,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let person = claim_everything(&app, &smtp, &link, "jsmith@institutionx.edu").await;
        let resume = person.get("/resume").await;
        let entry = resume
            .html
            .split("id=\"entry-")
            .nth(1)
            .expect("an entry")
            .split('"')
            .next()
            .expect("id")
            .to_string();
        person
            .post(
                &format!("/resume/entries/{entry}/hide"),
                &[("csrf", &resume.csrf())],
            )
            .await;
        let mut package = fixture_json("guide/three-courses.json");
        package["credentials"][0]["name"] = json!("Calculus I (renamed)");
        upload(&app, "instx", package.to_string()).await;
        let resume = person.get("/resume").await;
        assert!(resume.has("Calculus I (renamed)"));
        assert!(
            resume.has(&format!("/resume/entries/{entry}/unhide")),
            "still hidden"
        );
    }
);

with_mail_on_both_engines!(
    later_packages_for_a_claimed_recipient_wait_in_the_import_inbox,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let person = claim_everything(&app, &smtp, &link, "jsmith@institutionx.edu").await;
        let mut later = fixture_json("guide/three-courses.json");
        later["credentials"] = json!([later["credentials"][0].clone()]);
        later["credentials"][0]["id"] = json!("new-award-1");
        later["credentials"][0]["name"] = json!("Linear Algebra");
        upload(&app, "instx", later.to_string()).await;
        let inbox = person.get("/inbox").await;
        assert!(inbox.has("Linear Algebra"), "{}", inbox.html);
        assert!(
            inbox.has("Import inbox <span class=\"count\">1 delivery to review</span>"),
            "the header says what its number counts: {}",
            inbox.html
        );
        let action = inbox
            .html
            .split("action=\"/inbox/")
            .nth(1)
            .expect("a package")
            .split('"')
            .next()
            .expect("id")
            .to_string();
        let mut form = vec![("csrf", inbox.csrf())];
        form.extend(
            inbox
                .values("credential")
                .into_iter()
                .map(|v| ("credential", v)),
        );
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resume = person.post(&format!("/inbox/{action}"), &form).await;
        assert!(
            resume.has("Linear Algebra") && resume.has("1 item was added"),
            "{}",
            resume.html
        );
        assert!(!person.get("/inbox").await.has("Linear Algebra"));
    }
);

with_mail_on_both_engines!(
    someone_elses_entry_in_a_hide_or_delete_form_changes_nothing,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let owner = claim_everything(&app, &smtp, &link, "owner@example.com").await;
        let theirs = owner
            .get("/resume")
            .await
            .html
            .split("id=\"entry-")
            .nth(1)
            .expect("entry")
            .split('"')
            .next()
            .expect("id")
            .to_string();
        let other = Person::new(&app);
        let page = other
            .sign_up(&app, &smtp, "/signup", "other@example.com", PASSWORD)
            .await;
        let before = app.snapshot().await;
        for action in ["hide", "delete"] {
            let refused = other
                .post(
                    &format!("/resume/entries/{theirs}/{action}"),
                    &[("csrf", &page.csrf())],
                )
                .await;
            assert_eq!(refused.status, 404, "{action}");
            assert!(refused.has("That is not on your resume"));
        }
        assert_eq!(
            other
                .get(&format!("/resume/entries/{theirs}/delete"))
                .await
                .status,
            404
        );
        assert_eq!(app.snapshot().await, before);
    }
);

with_mail_on_both_engines!(
    a_form_without_the_right_csrf_token_changes_nothing,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let person = claim_everything(&app, &smtp, &link, "jsmith@institutionx.edu").await;
        let resume = person.get("/resume").await;
        let entry = resume
            .html
            .split("id=\"entry-")
            .nth(1)
            .expect("entry")
            .split('"')
            .next()
            .expect("id")
            .to_string();
        let before = app.snapshot().await;
        for token in ["", "forged-token"] {
            let refused = person
                .post(&format!("/resume/entries/{entry}/hide"), &[("csrf", token)])
                .await;
            assert_eq!(refused.status, 403);
            assert!(refused.has("This form has expired"));
        }
        let anonymous = Person::new(&app);
        let refused = anonymous
            .post(
                "/signup",
                &[
                    ("csrf", "x"),
                    ("email", "a@b.example"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(refused.status, 403, "sign-up without the page's token");
        assert_eq!(app.snapshot().await, before);
    }
);

with_mail_on_both_engines!(
    a_form_replayed_after_log_out_changes_nothing,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let person = claim_everything(&app, &smtp, &link, "jsmith@institutionx.edu").await;
        let resume = person.get("/resume").await;
        let entry = resume
            .html
            .split("id=\"entry-")
            .nth(1)
            .expect("entry")
            .split('"')
            .next()
            .expect("id")
            .to_string();
        let csrf = resume.csrf();
        person.post("/logout", &[("csrf", &csrf)]).await;
        let before = app.snapshot().await;
        let replayed = person
            .post(
                &format!("/resume/entries/{entry}/delete"),
                &[("csrf", &csrf)],
            )
            .await;
        assert!(
            replayed.url.contains("/login"),
            "sent to log in: {}",
            replayed.url
        );
        assert_eq!(app.snapshot().await, before);
    }
);

with_mail_on_both_engines!(
    passwords_of_1_and_1000_characters_are_refused_clearly,
    |app: TestApp, _smtp: SmtpServer| async move {
        let person = Person::new(&app);
        let before = app.snapshot().await;
        for (password, message) in [
            ("x".to_string(), "use at least 8 characters"),
            ("x".repeat(1000), "use at most 128 characters"),
        ] {
            let form = person.get("/signup").await;
            let refused = person
                .post(
                    "/signup",
                    &[
                        ("csrf", &form.csrf()),
                        ("given_name", "A"),
                        ("family_name", "B"),
                        ("email", "a@b.example"),
                        ("password", &password),
                    ],
                )
                .await;
            assert_eq!(refused.status, 422);
            assert!(refused.has(message), "{}", refused.html);
            assert!(
                refused.has("value=\"a@b.example\""),
                "what was typed is kept"
            );
        }
        assert_eq!(app.snapshot().await, before);
    }
);

with_mail_on_both_engines!(
    signing_up_twice_reveals_nothing_and_tells_the_owner,
    |app: TestApp, smtp: SmtpServer| async move {
        let first = Person::new(&app);
        first
            .sign_up(&app, &smtp, "/signup", "jamie@example.com", PASSWORD)
            .await;
        let users_before = app
            .snapshot()
            .await
            .into_iter()
            .filter(|l| l.starts_with("users:"))
            .count();
        let second = Person::new(&app);
        let form = second.get("/signup").await;
        let page = second
            .post(
                "/signup",
                &[
                    ("csrf", &form.csrf()),
                    ("given_name", "A"),
                    ("family_name", "B"),
                    ("email", "Jamie@Example.com"),
                    ("password", "another password"),
                ],
            )
            .await;
        assert_eq!(page.status, 200);
        assert!(
            page.has("Check your email"),
            "the same page as for a new address"
        );
        app.deliver_mail().await;
        let note = smtp
            .last_to("jamie@example.com")
            .expect("a note to the owner");
        assert!(note.text().contains("already has one"));
        let users_after = app
            .snapshot()
            .await
            .into_iter()
            .filter(|l| l.starts_with("users:"))
            .count();
        assert_eq!(users_before, users_after);
    }
);

with_mail_on_both_engines!(
    log_in_refuses_wrong_passwords_alike_and_rate_limits,
    |app: TestApp, smtp: SmtpServer| async move {
        let person = Person::new(&app);
        person
            .sign_up(&app, &smtp, "/signup", "jamie@example.com", PASSWORD)
            .await;
        let stranger = Person::new(&app);
        let form = stranger.get("/login").await;
        let wrong = stranger
            .post(
                "/login",
                &[
                    ("csrf", &form.csrf()),
                    ("email", "jamie@example.com"),
                    ("password", "wrong password"),
                ],
            )
            .await;
        let unknown = stranger
            .post(
                "/login",
                &[
                    ("csrf", &form.csrf()),
                    ("email", "nobody@example.com"),
                    ("password", "wrong password"),
                ],
            )
            .await;
        assert_eq!((wrong.status, unknown.status), (401, 401));
        assert!(
            wrong.has("The email or password is not right.")
                && unknown.has("The email or password is not right.")
        );
        let ok = stranger
            .post(
                "/login",
                &[
                    ("csrf", &form.csrf()),
                    ("email", "jamie@example.com"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert!(ok.url.ends_with("/resume"), "{}", ok.url);
        let mut statuses = Vec::new();
        for _ in 0..12 {
            statuses.push(
                Person::new(&app)
                    .post(
                        "/login",
                        &[
                            ("csrf", "x"),
                            ("email", "jamie@example.com"),
                            ("password", "guess"),
                        ],
                    )
                    .await
                    .status,
            );
        }
        let attacker = Person::new(&app);
        let mut limited = false;
        for _ in 0..12 {
            let form = attacker.get("/login").await;
            let page = attacker
                .post(
                    "/login",
                    &[
                        ("csrf", &form.csrf()),
                        ("email", "jamie@example.com"),
                        ("password", "guess"),
                    ],
                )
                .await;
            limited |= page.status == 429;
        }
        assert!(limited, "too many attempts on one address are refused");
    }
);

with_mail_on_both_engines!(
    a_tampered_session_cookie_is_not_a_session,
    |app: TestApp, smtp: SmtpServer| async move {
        let person = Person::new(&app);
        person
            .sign_up(&app, &smtp, "/signup", "jamie@example.com", PASSWORD)
            .await;
        let forged = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let response = forged
            .get(app.url("/resume"))
            .header("cookie", "cc_session=tampered-value")
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 303);
        assert!(
            response.headers()["location"]
                .to_str()
                .expect("h")
                .starts_with("/login")
        );
    }
);

with_mail_on_both_engines!(
    log_in_never_redirects_to_a_next_path_with_control_characters,
    |app: TestApp, smtp: SmtpServer| async move {
        Person::new(&app)
            .sign_up(&app, &smtp, "/signup", "jamie@example.com", PASSWORD)
            .await;
        // A browser drops tabs and line breaks from a Location: "/\t/evil.example" would
        // take the person to //evil.example; a line break cannot be sent in a header at all.
        for next in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/resume\r\n",
            "/x\u{7f}",
            "/\u{85}x",
        ] {
            let client = reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client");
            let query: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
            let form = client
                .get(app.url(&format!("/login?next={query}")))
                .send()
                .await
                .expect("send");
            assert_eq!(form.status(), 200, "{next:?}");
            let html = form.text().await.expect("html");
            let marker = "name=\"csrf\" value=\"";
            let start = html.find(marker).expect("csrf") + marker.len();
            let csrf = &html[start..start + html[start..].find('"').expect("end")];
            let response = client
                .post(app.url("/login"))
                .form(&[
                    ("csrf", csrf),
                    ("email", "jamie@example.com"),
                    ("password", PASSWORD),
                    ("next", next),
                ])
                .send()
                .await
                .expect("send");
            assert_eq!(response.status(), 303, "{next:?}");
            assert_eq!(response.headers()["location"], "/resume", "{next:?}");
            // Signed in now: the log-in page redirects at once, and the same rule applies.
            let again = client
                .get(app.url(&format!("/login?next={query}")))
                .send()
                .await
                .expect("send");
            assert_eq!(again.status(), 303, "{next:?}");
            assert_eq!(again.headers()["location"], "/resume", "{next:?}");
        }
    }
);

with_mail_on_both_engines!(
    a_password_reset_by_email_ends_old_sessions_and_works_once,
    |app: TestApp, smtp: SmtpServer| async move {
        let person = Person::new(&app);
        person
            .sign_up(&app, &smtp, "/signup", "jamie@example.com", PASSWORD)
            .await;
        let other = Person::new(&app);
        let form = other.get("/reset").await;
        let sent = other
            .post(
                "/reset",
                &[("csrf", &form.csrf()), ("email", "jamie@example.com")],
            )
            .await;
        assert!(sent.has("If an account uses this address"));
        let unknown = other
            .post(
                "/reset",
                &[("csrf", &form.csrf()), ("email", "nobody@example.com")],
            )
            .await;
        assert_eq!(
            unknown.html, sent.html,
            "the same answer for an unknown address"
        );
        app.deliver_mail().await;
        let link = smtp
            .last_to("jamie@example.com")
            .and_then(|m| m.link(&format!("{}/reset/", app.base)))
            .expect("a reset link");
        let reset_form = other.get(&link).await;
        let done = other
            .post(
                &link,
                &[
                    ("csrf", &reset_form.csrf()),
                    ("password", "a brand new secret"),
                ],
            )
            .await;
        assert!(done.url.ends_with("/resume"));
        assert!(
            person.get("/resume").await.url.contains("/login"),
            "the old session ended"
        );
        assert_eq!(other.get(&link).await.status, 404, "the link works once");
        let fresh = Person::new(&app);
        let form = fresh.get("/login").await;
        let ok = fresh
            .post(
                "/login",
                &[
                    ("csrf", &form.csrf()),
                    ("email", "jamie@example.com"),
                    ("password", "a brand new secret"),
                ],
            )
            .await;
        assert!(ok.url.ends_with("/resume"));
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_in_test_mode_goes_only_to_whitelisted_addresses() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(common::Engine::Sqlite, |config| {
        config.mail.smtp_url = Some(url);
        config.mail.test_mode = true;
        config.mail.whitelist = vec!["institutionx.edu".into()];
    })
    .await;
    for email in ["jsmith@institutionx.edu", "someone@elsewhere.example"] {
        let person = Person::new(&app);
        let form = person.get("/signup").await;
        person
            .post(
                "/signup",
                &[
                    ("csrf", &form.csrf()),
                    ("given_name", "A"),
                    ("family_name", "B"),
                    ("email", email),
                    ("password", PASSWORD),
                ],
            )
            .await;
    }
    assert_eq!(app.deliver_mail().await, 2);
    let delivered: Vec<String> = smtp.messages().into_iter().flat_map(|m| m.to).collect();
    assert_eq!(delivered, ["jsmith@institutionx.edu"]);
    let log = app
        .app
        .store
        .read(|c| credentialconnect::store::outbox::recent(c, 10))
        .await
        .expect("outbox");
    let states: Vec<(&str, &str)> = log.iter().map(|e| (e.to.as_str(), e.state)).collect();
    assert!(
        states.contains(&("someone@elsewhere.example", "suppressed")),
        "{states:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_waits_out_a_server_outage_and_goes_when_it_is_back() {
    let smtp = SmtpServer::start().await;
    let (port, url) = (smtp.port, smtp.url());
    smtp.stop();
    let app = TestApp::spawn_with(common::Engine::Sqlite, |config| {
        config.mail.smtp_url = Some(url)
    })
    .await;
    let person = Person::new(&app);
    let form = person.get("/signup").await;
    person
        .post(
            "/signup",
            &[
                ("csrf", &form.csrf()),
                ("given_name", "A"),
                ("family_name", "B"),
                ("email", "jamie@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(app.deliver_mail().await, 1, "one attempt");
    let log = app
        .app
        .store
        .read(|c| credentialconnect::store::outbox::recent(c, 10))
        .await
        .expect("outbox");
    assert_eq!((log[0].state, log[0].attempts), ("queued", 1));
    assert!(log[0].last_error.is_some());
    let smtp = SmtpServer::start_on(port).await;
    assert_eq!(app.deliver_mail().await, 0, "not before the retry time");
    app.app.clock.advance(std::time::Duration::from_secs(31));
    assert_eq!(app.deliver_mail().await, 1);
    assert!(
        smtp.last_to("jamie@example.com").is_some(),
        "delivered after the outage"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_send_security_headers_and_safe_cookies() {
    let app = TestApp::spawn(common::Engine::Sqlite).await;
    let response = reqwest::get(app.url("/signup")).await.expect("send");
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().expect("csp");
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("unsafe-inline")
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let cookie = headers["set-cookie"].to_str().expect("cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let html = response.text().await.expect("html");
    assert!(!html.contains("<script"), "no scripts at all");
    for label in ["for=\"given_name\"", "for=\"email\"", "for=\"password\""] {
        assert!(html.contains(label), "every input has a label: {label}");
    }
}

/// What someone without an account sees at a share link: (status, page).
async fn as_employer(link: &str) -> (u16, String) {
    let response = common::client().get(link).send().await.expect("GET");
    let status = response.status().as_u16();
    if status == 200 {
        let headers = response.headers();
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["x-robots-tag"], "noindex, nofollow");
        assert_eq!(headers["referrer-policy"], "no-referrer");
    }
    (status, response.text().await.expect("html"))
}

with_mail_on_both_engines!(
    an_employer_with_the_share_link_sees_what_is_verified_and_not_what_was_hidden,
    |app: TestApp, smtp: SmtpServer| async move {
        common::publish_issuer_documents(&app.app.verifier);
        let signed = fixture_json("standards/examples/signed/ob30-ldp-test-vector-signed.json");
        let attested = fixture_json("standards/examples/ob30/simple-did-key-method.json");
        let link = upload(
            &app,
            "issuer",
            json!({"credentials": [signed, attested]}).to_string(),
        )
        .await;
        let person = claim_everything(&app, &smtp, &link, "sam@example.org").await;
        let resume = person.get("/resume").await;
        assert!(resume.has("Make a share link"), "{}", resume.html);
        let added = person
            .post(
                "/resume/entries",
                &[
                    ("csrf", &resume.csrf()),
                    ("section", "Experience"),
                    ("title", "Volunteer coach"),
                    ("organisation", "Youth league"),
                ],
            )
            .await;
        assert!(added.has("Volunteer coach"));

        // A form from elsewhere makes no link.
        let forged = person
            .post("/resume/share", &[("csrf", "not-the-token")])
            .await;
        assert_eq!(forged.status, 403);
        assert!(person.get("/resume").await.has("Make a share link"));

        let first = make_share_link(&person).await;
        assert!(first.starts_with(&app.url("/r/r_")), "{first}");
        let (status, page) = as_employer(&first).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Jamie Smith") && page.contains("sam@example.org"));
        assert!(page.contains("<h3>Teamwork Badge</h3>"), "{page}");
        assert!(page.contains("signature verified"));
        assert!(page.contains("verified by the partner"));
        assert!(page.contains("<h3>Volunteer coach</h3>") && page.contains("self-reported"));
        assert!(page.contains("How this was verified") && page.contains("(checked on "));
        assert!(
            !page.contains("/resume/entries/") && !page.contains("name=\"csrf\""),
            "an employer gets no editing forms"
        );

        // What the person hides, employers no longer see.
        let resume = person.get("/resume").await;
        assert!(resume.has("Your resume is shared by a link made on"));
        let test_1 = entry_id(&resume.html, "test 1");
        person
            .post(
                &format!("/resume/entries/{test_1}/hide"),
                &[("csrf", &resume.csrf())],
            )
            .await;
        let (_, page) = as_employer(&first).await;
        assert!(!page.contains("<h3>test 1</h3>"), "{page}");
        assert!(page.contains("<h3>Teamwork Badge</h3>"));

        // A new link ends the old one; stopping ends the new one.
        let second = make_share_link(&person).await;
        assert_ne!(first, second);
        assert_eq!(as_employer(&first).await.0, 404);
        assert_eq!(as_employer(&second).await.0, 200);
        let resume = person.get("/resume").await;
        let stopped = person
            .post("/resume/share/stop", &[("csrf", &resume.csrf())])
            .await;
        assert!(
            stopped.has("Your share link no longer works"),
            "{}",
            stopped.html
        );
        assert!(stopped.has("Make a share link"));
        let (status, page) = as_employer(&second).await;
        assert_eq!(status, 404);
        assert!(page.contains("This link does not open a resume"));
        assert_eq!(as_employer(&app.url("/r/r_guessed")).await.0, 404);
    }
);

with_mail_on_both_engines!(
    a_shared_resume_checks_its_credentials_again_once_the_last_check_is_an_hour_old,
    |app: TestApp, smtp: SmtpServer| async move {
        use common::issuer::{credential, did_key, ed25519_key, sign};
        let did = did_key(&ed25519_key());
        let fragment = did.trim_start_matches("did:key:");
        let mut expiring = credential(&did);
        let valid_until = app.app.clock.now_ms() + 10 * 60 * 1000;
        expiring["validUntil"] = credentialconnect::clock::rfc3339(valid_until).into();
        let expiring = sign(&app.app.verifier, expiring, &format!("{did}#{fragment}"));
        let link = upload(
            &app,
            "issuer",
            json!({"credentials": [expiring]}).to_string(),
        )
        .await;
        let person = claim_everything(&app, &smtp, &link, "sam@example.org").await;
        let share = make_share_link(&person).await;
        let (_, page) = as_employer(&share).await;
        assert!(page.contains("signature verified"), "{page}");

        // Expired 10 minutes ago, but checked 20 minutes ago: the last check stands.
        app.app
            .clock
            .advance(std::time::Duration::from_secs(20 * 60));
        let (_, page) = as_employer(&share).await;
        assert!(page.contains("signature verified"), "{page}");

        // Past the hour the proofs are checked again, and the expiry shows.
        app.app
            .clock
            .advance(std::time::Duration::from_secs(50 * 60));
        let (_, page) = as_employer(&share).await;
        assert!(page.contains("verification failed"), "{page}");
        assert!(page.contains("expired: validUntil was"), "{page}");
        let alerts = app.open_alerts().await;
        assert!(alerts.iter().any(|a| a.kind == "verification_failed"));
    }
);
