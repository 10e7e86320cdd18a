//! A person's data is theirs: `/account` downloads everything held about them and erases
//! their account. Erasure removes personal data from every table (a snapshot of the whole
//! database is searched), keeps only digests of what they owned so nobody else can claim it,
//! and is recorded in the append-only audit log without the personal data.

mod common;

use common::operators::logged;
use common::person::{PASSWORD, Person, claim_everything, make_share_link, sign_up_viewer, upload};
use common::smtp::SmtpServer;
use common::{TestApp, fixture_json};
use credentialconnect::domain::audit::{Action, Actor, Filter};
use credentialconnect::services::{audit, personal_data};
use serde_json::{Value, json};

/// The guide's three-course package, sent to `email`, with `count` courses whose ids and
/// names carry `tag` (so two packages never share a credential).
fn package(email: &str, tag: &str, count: usize) -> Value {
    let mut body = fixture_json("guide/three-courses.json");
    body["recipient"]["email"] = json!(email);
    body["recipient"]["id"] = json!(format!("{tag}-student"));
    let template = body["credentials"][0].clone();
    body["credentials"] = (0..count)
        .map(|i| {
            let mut course = template.clone();
            course["id"] = json!(format!("{tag}-course-{i}"));
            course["name"] = json!(format!("Course {i} of {tag}"));
            course["credentialSubject"]["id"] = json!(format!("{tag}-subject"));
            course["credentialSubject"]["achievement"]["id"] =
                json!(format!("{tag}-achievement-{i}"));
            course["credentialSubject"]["achievement"]["name"] =
                json!(format!("Course {i} of {tag}"));
            course
        })
        .collect();
    body
}

/// A person who claimed a package of `count` courses and shared their resume.
async fn person_with_resume(
    app: &TestApp,
    smtp: &SmtpServer,
    email: &str,
    tag: &str,
    count: usize,
) -> Person {
    let link = upload(app, "instx", package(email, tag, count).to_string()).await;
    let person = claim_everything(app, smtp, &link, email).await;
    let resume = person.get("/resume").await;
    let shared = person
        .post("/resume/share", &[("csrf", &resume.csrf())])
        .await;
    assert_eq!(shared.status, 200, "{}", shared.html);
    person
}

/// `POST /account/erase` with the password, as the page's form sends it; the erasure must
/// succeed.
async fn erase(person: &Person) -> common::person::Page {
    let page = person.get("/account").await;
    let erased = person
        .post(
            "/account/erase",
            &[("csrf", &page.csrf()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(erased.status, 200, "{}", erased.html);
    erased
}

/// `POST /account/export`, as the page's form sends it.
async fn download(person: &Person) -> reqwest::Response {
    let page = person.get("/account").await;
    assert_eq!(page.status, 200, "{}", page.html);
    person
        .client
        .post(format!("{}/account/export", person.base))
        .form(&[("csrf", page.csrf())])
        .send()
        .await
        .expect("POST")
}

with_mail_on_both_engines!(
    a_person_downloads_everything_held_about_them,
    |app: TestApp, smtp: SmtpServer| async move {
        let email = "jamie@example.org";
        let person = person_with_resume(&app, &smtp, email, "dl", 3).await;

        let response = download(&person).await;
        assert_eq!(response.status(), 200);
        let disposition = response.headers()["content-disposition"]
            .to_str()
            .expect("header")
            .to_string();
        assert!(disposition.starts_with("attachment"), "{disposition}");
        let document: Value = response.json().await.expect("JSON");

        assert_eq!(document["account"]["email"], email);
        assert_eq!(document["account"]["given_name"], "Jamie");
        let credentials = document["resume"]["credentials"].as_array().expect("list");
        assert_eq!(credentials.len(), 3);
        // Each credential as its issuer sent it, as JSON, not as a string holding JSON.
        let original = credentials
            .iter()
            .find(|c| c["assertion_id"] == "dl-course-1")
            .expect("the second course");
        assert_eq!(original["document"]["name"], "Course 1 of dl");
        assert_eq!(
            original["document"]["credentialSubject"]["id"],
            "dl-subject"
        );
        assert_eq!(
            document["resume"]["entries"].as_array().map(Vec::len),
            Some(3)
        );
        let packages = document["packages"].as_array().expect("packages");
        assert_eq!(packages.len(), 1);
        assert_eq!(packages[0]["recipient"]["email"], email);
        assert!(document["share_link"]["created_at"].is_string());
        assert!(
            document["mail"]
                .as_array()
                .is_some_and(|mail| mail.iter().any(|m| m["to_address"] == email)),
            "the confirmation mail is listed: {}",
            document["mail"]
        );
        // The export itself is in the audit log, and in the export.
        let audit = document["audit"].as_array().expect("audit");
        assert!(
            audit.iter().any(|e| e["action"] == "account.exported"),
            "{audit:?}"
        );
        let exported = logged(&app, Action::DataExported).await;
        assert_eq!(exported.len(), 1);
        assert_eq!(exported[0].actor, app.user_id(email).await);
        assert_eq!(exported[0].address, None, "a person's address is not kept");

        // A download is a form: a link or prefetch cannot make one.
        let by_get = person.get("/account/export").await;
        assert_eq!(by_get.status, 405);
        // Without the page's token, nothing is sent and nothing is logged.
        let forged = person
            .client
            .post(format!("{}/account/export", person.base))
            .form(&[("csrf", "forged")])
            .send()
            .await
            .expect("POST");
        assert_eq!(forged.status(), 403);
        assert_eq!(logged(&app, Action::DataExported).await.len(), 1);
        // Signed out: the log-in page.
        let stranger = Person::new(&app);
        let page = stranger.get("/account").await;
        assert!(page.url.contains("/login?next=%2Faccount"), "{}", page.url);
    }
);

with_mail_on_both_engines!(
    an_export_holds_all_of_five_hundred_credentials,
    |app: TestApp, smtp: SmtpServer| async move {
        let email = "many@example.org";
        let person = person_with_resume(&app, &smtp, email, "many", 500).await;
        let response = download(&person).await;
        assert_eq!(response.status(), 200);
        let document: Value = response.json().await.expect("JSON");
        let credentials = document["resume"]["credentials"].as_array().expect("list");
        assert_eq!(credentials.len(), 500);
        assert!(
            credentials
                .iter()
                .all(|c| c["document"]["credentialSubject"]["id"] == "many-subject")
        );
        assert_eq!(
            document["resume"]["entries"].as_array().map(Vec::len),
            Some(500)
        );
    }
);

/// Every row of the database that mentions one of `needles`.
fn mentions<'a>(snapshot: &'a [String], needles: &[&str]) -> Vec<&'a String> {
    snapshot
        .iter()
        .filter(|row| needles.iter().any(|needle| row.contains(needle)))
        .collect()
}

with_mail_on_both_engines!(
    erasing_an_account_removes_its_personal_data_from_every_table,
    |app: TestApp, smtp: SmtpServer| async move {
        let email = "erase.me@example.org";
        let person = person_with_resume(&app, &smtp, email, "gone", 3).await;
        let other = person_with_resume(&app, &smtp, "stays@example.org", "kept", 2).await;
        let id = app.user_id(email).await;
        let personal = [email, "gone-student", "gone-subject", "gone-course"];
        let before = app.snapshot().await;
        for table in [
            "users",
            "packages",
            "credentials",
            "email_outbox",
            "recipient_links",
        ] {
            assert!(
                mentions(&before, &personal)
                    .iter()
                    .any(|row| row.starts_with(&format!("{table}: "))),
                "{table} holds the person's data to begin with"
            );
        }

        let erased = erase(&person).await;
        assert!(erased.has("Your account has been erased"));

        let after = app.snapshot().await;
        let left: Vec<_> = mentions(&after, &personal)
            .into_iter()
            .filter(|row| !row.starts_with("audit_log: "))
            .collect();
        assert!(left.is_empty(), "personal data left behind: {left:#?}");
        // The account id is a random name that now names no one: only the log keeps it.
        let named: Vec<_> = mentions(&after, &[&id])
            .into_iter()
            .filter(|row| !row.starts_with("audit_log: "))
            .collect();
        assert!(named.is_empty(), "{named:#?}");
        let log: Vec<_> = after
            .iter()
            .filter(|r| r.starts_with("audit_log: "))
            .collect();
        assert!(
            log.iter()
                .all(|row| !personal.iter().any(|p| row.contains(p))),
            "the log holds no personal data: {log:#?}"
        );
        let recorded = logged(&app, Action::AccountErased).await;
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].subject.as_deref(), Some(id.as_str()));
        assert_eq!(
            recorded[0]
                .detail
                .as_ref()
                .map(|d| d["credentials"].clone()),
            Some(json!(3))
        );
        assert_eq!(
            after
                .iter()
                .filter(|r| r.starts_with("erased_assertions: "))
                .count(),
            3,
            "one digest per owned assertion"
        );

        // The other person is untouched.
        let theirs = other.get("/resume").await;
        assert!(theirs.has("Course 1 of kept"), "{}", theirs.html);
        assert_eq!(
            mentions(&before, &["kept-course"]).len(),
            mentions(&after, &["kept-course"]).len()
        );

        // The browser is signed out, the password opens nothing, a second erasure finds nothing.
        let resume = person.get("/resume").await;
        assert!(resume.url.contains("/login"), "{}", resume.url);
        let again = Person::new(&app).log_in(email, PASSWORD).await;
        assert!(
            again.has("The email or password is not right."),
            "{}",
            again.html
        );
        assert_eq!(
            personal_data::erase(&app.app, &Actor::operator(), &id)
                .await
                .expect("store"),
            None
        );
        assert_eq!(logged(&app, Action::AccountErased).await.len(), 1);
    }
);

with_mail_on_both_engines!(
    an_erased_accounts_credentials_cannot_be_claimed_by_anyone_else,
    |app: TestApp, smtp: SmtpServer| async move {
        let email = "first@example.org";
        let person = person_with_resume(&app, &smtp, email, "owned", 2).await;
        erase(&person).await;

        // The partner sends the same assertions again, to another address.
        let link = upload(
            &app,
            "instx",
            package("second@example.org", "owned", 2).to_string(),
        )
        .await;
        let second = Person::new(&app);
        let landed = second
            .sign_up(&app, &smtp, &link, "second@example.org", PASSWORD)
            .await;
        let chooser = second.confirm_recipient(&app, &smtp, landed).await;
        assert!(
            chooser.values("credential").is_empty(),
            "nothing to tick: {}",
            chooser.html
        );
        let resume = second.add_everything(&chooser, &link).await;
        let own = second.get("/resume").await;
        assert!(!own.has("Course 0 of owned"), "{}", resume.html);
        let conflicts = logged(&app, Action::ClaimConflict).await;
        assert!(!conflicts.is_empty(), "the attempt is recorded");
        assert_eq!(conflicts[0].actor, app.user_id("second@example.org").await);
    }
);

with_mail_on_both_engines!(
    a_wrong_password_or_a_forged_form_erases_nothing,
    |app: TestApp, smtp: SmtpServer| async move {
        let email = "careful@example.org";
        let person = person_with_resume(&app, &smtp, email, "careful", 1).await;
        let before = app.snapshot().await;
        let page = person.get("/account").await;

        let wrong = person
            .post(
                "/account/erase",
                &[("csrf", &page.csrf()), ("password", "not my password")],
            )
            .await;
        assert_eq!(wrong.status, 422);
        assert!(wrong.has("That is not your password. Nothing was erased."));
        let forged = person
            .post(
                "/account/erase",
                &[("csrf", "forged"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(forged.status, 403);
        let by_get = person.get("/account/erase").await;
        assert_eq!(by_get.status, 405);
        assert_eq!(app.snapshot().await, before, "nothing changed");
        assert!(person.get("/resume").await.has("Course 0 of careful"));
    }
);

on_both_engines!(
    the_audit_log_cannot_be_changed_or_emptied,
    |app: TestApp| async move {
        app.partner("uni").await;
        credentialconnect::services::partners::rotate_secret(&app.app, &Actor::operator(), "uni")
            .await
            .expect("rotated");
        let rotated = logged(&app, Action::PartnerSecretRotated).await;
        assert_eq!(rotated.len(), 1);
        assert_eq!(rotated[0].subject.as_deref(), Some("uni"));
        assert_eq!(rotated[0].actor_kind, "operator");
        assert_eq!(rotated[0].address.as_deref(), Some("command line"));

        for statement in [
            "UPDATE audit_log SET actor = 'someone else'",
            "DELETE FROM audit_log",
        ] {
            let refused = app
                .app
                .store
                .write(move |conn| conn.execute(statement, &[]))
                .await;
            assert!(refused.is_err(), "{statement} was allowed");
        }
        let all = audit::entries(&app.app, Filter::default(), None, 100)
            .await
            .expect("audit");
        assert_eq!(all.len(), 2, "created and rotated: {all:?}");
        assert_eq!(logged(&app, Action::PartnerSecretRotated).await, rotated);
    }
);

with_mail_on_both_engines!(
    who_viewed_is_exported_and_goes_when_either_side_erases,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(
            &app,
            "instx",
            package("seen@example.org", "seen", 1).to_string(),
        )
        .await;
        let person = claim_everything(&app, &smtp, &link, "seen@example.org").await;
        let share = make_share_link(&person).await;
        let (employer, _) = sign_up_viewer(&app, &smtp, &share, "riley@acme.example").await;
        let shared = employer.get(&share).await;
        assert_eq!(shared.status, 200, "{}", shared.html);

        // The person sees who viewed in their export; the viewer sees what they opened in theirs.
        let theirs: Value = download(&person).await.json().await.expect("JSON");
        let viewers = &theirs["share_link_views"]["by_viewer_accounts"];
        assert_eq!(viewers[0]["viewer"], "Riley Chen", "{theirs}");
        assert_eq!(viewers[0]["organisation"], "Acme Hiring");
        let employers: Value = download(&employer).await.json().await.expect("JSON");
        assert_eq!(employers["account"]["kind"], "viewer");
        assert_eq!(
            employers["opened_as_viewer"].as_array().map(Vec::len),
            Some(1)
        );

        // The viewer erases their account: their name leaves the person's list of viewers.
        erase(&employer).await;
        let snapshot = app.snapshot().await;
        let left = mentions(&snapshot, &["riley@acme.example", "Riley", "Acme Hiring"]);
        assert!(left.is_empty(), "{left:#?}");
        assert!(!person.get("/resume").await.has("Riley Chen"));

        // The person erases theirs: the link's counts go with it.
        erase(&person).await;
        let snapshot = app.snapshot().await;
        assert!(
            !snapshot
                .iter()
                .any(|row| row.starts_with("share_view_days: ")),
            "{snapshot:#?}"
        );
    }
);
