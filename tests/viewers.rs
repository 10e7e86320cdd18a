//! Employers on a shared resume, over HTTP on both engines with a real SMTP exchange: the
//! free viewer account (sign-up from the resume, confirmation back to it, kept away from a
//! job seeker's pages), each credential's verification details (checked again when opened,
//! for viewer accounts only, nothing of another person's or hidden), and who viewed, as the
//! person sees it on `/resume` (counted per day without their own visits, dropped with the
//! link, purged after 90 days and a year).

mod common;

use common::person::{
    PASSWORD, Person, claim_everything, entry_id, make_share_link, sign_up_viewer, upload,
};
use common::smtp::SmtpServer;
use common::{TestApp, fixture_json};
use credentialconnect::services::housekeeping;
use serde_json::json;
use std::time::Duration;

const DAY: Duration = Duration::from_secs(24 * 3600);

/// A person (sam@example.org) whose resume holds a credential with a checked signature
/// ("Teamwork Badge") and one whose proof cannot be checked ("test 1"), and their share
/// link.
async fn shared_resume(app: &TestApp, smtp: &SmtpServer) -> (Person, String) {
    common::publish_issuer_documents(&app.app.verifier);
    let signed = fixture_json("standards/examples/signed/ob30-ldp-test-vector-signed.json");
    let attested = fixture_json("standards/examples/ob30/simple-did-key-method.json");
    let link = upload(
        app,
        "issuer",
        json!({"credentials": [signed, attested]}).to_string(),
    )
    .await;
    let person = claim_everything(app, smtp, &link, "sam@example.org").await;
    let share = make_share_link(&person).await;
    (person, share)
}

/// The details page of the credential titled `title`, as linked from the shared page.
fn details_path(shared_html: &str, title: &str) -> String {
    let heading = shared_html
        .find(&format!("<h3>{title}</h3>"))
        .unwrap_or_else(|| panic!("no credential {title:?} in {shared_html}"));
    let rest = &shared_html[heading..];
    let start = rest.find("href=\"/r/").expect("a details link") + "href=\"".len();
    let path = rest[start..].split('"').next().expect("path").to_string();
    assert!(path.contains("/credentials/"), "{path}");
    path
}

/// Rows of a table in the store's snapshot.
async fn rows(app: &TestApp, table: &str) -> Vec<String> {
    let prefix = format!("{table}: ");
    app.snapshot()
        .await
        .into_iter()
        .filter(|line| line.starts_with(&prefix))
        .collect()
}

with_mail_on_both_engines!(
    an_employer_signs_up_from_a_shared_resume_and_confirming_brings_them_back_to_it,
    |app: TestApp, smtp: SmtpServer| async move {
        let (_, share) = shared_resume(&app, &smtp).await;
        let anyone = Person::new(&app);
        let page = anyone.get(&share).await;
        let share_path = share.trim_start_matches(&app.base).to_string();
        assert!(
            page.has(&format!("href=\"{share_path}/signup\"")),
            "the shared resume offers employers a viewer account: {}",
            page.html
        );

        // A form from elsewhere makes no account and sends no mail.
        let forged = anyone
            .post(
                &format!("{share}/signup"),
                &[
                    ("csrf", "not-the-token"),
                    ("name", "Mallory"),
                    ("organisation", "Elsewhere"),
                    ("email", "mallory@example.org"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(forged.status, 403, "{}", forged.html);
        app.deliver_mail().await;
        assert!(smtp.last_to("mallory@example.org").is_none());

        // Each missing field is named, and nothing is made.
        let form = anyone.get(&format!("{share}/signup")).await;
        let missing = anyone
            .post(
                &format!("{share}/signup"),
                &[
                    ("csrf", &form.csrf()),
                    ("name", "Riley Chen"),
                    ("email", "riley@acme.example"),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(missing.status, 422, "{}", missing.html);
        assert!(missing.has("<title>Error: "));
        assert!(missing.has("enter the organisation you view resumes for"));
        assert!(missing.has("use at least 8 characters"));
        assert!(missing.has("value=\"Riley Chen\""), "what was typed stays");
        app.deliver_mail().await;
        assert!(smtp.last_to("riley@acme.example").is_none());

        let (employer, landed) = sign_up_viewer(&app, &smtp, &share, "riley@acme.example").await;
        assert_eq!(landed.status, 200, "{}", landed.html);
        assert_eq!(landed.url, share, "confirming leads back to the resume");
        assert!(landed.has("<h3>Teamwork Badge</h3>"));
        assert!(landed.has("My viewer account"), "{}", landed.html);
        assert!(!landed.has("href=\"/inbox\""), "no job seeker's links");

        // Signing up again with the address mails its owner, and the page says the same.
        let again = Person::new(&app);
        let form = again.get(&format!("{share}/signup")).await;
        let sent = again
            .post(
                &format!("{share}/signup"),
                &[
                    ("csrf", &form.csrf()),
                    ("name", "Someone Else"),
                    ("organisation", "Elsewhere"),
                    ("email", "riley@acme.example"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert!(sent.has("Check your email"), "{}", sent.html);
        app.deliver_mail().await;
        let note = smtp.last_to("riley@acme.example").expect("a note").text();
        assert!(note.contains("which already has one"), "{note}");

        // A viewer account has no resume, inbox or claims: it is sent to its own page.
        for path in ["/resume", "/inbox", "/import", "/resume/preview"] {
            let page = employer.get(path).await;
            assert!(page.url.ends_with("/viewer"), "{path} led to {}", page.url);
        }
        let own = employer.get("/viewer").await;
        assert_eq!(own.status, 200, "{}", own.html);
        assert!(own.has("Riley Chen") && own.has("Acme Hiring"));
        assert!(
            own.has("Jamie Smith"),
            "the resume opened is listed: {}",
            own.html
        );
        assert!(own.has(&format!("href=\"{share_path}\"")));
        assert!(own.has("Sign out"));

        // A job seeker's claim link is not for a viewer account either.
        let claim = upload(&app, "issuer2", common::fixture("guide/three-courses.json")).await;
        let page = employer.get(&claim).await;
        assert!(page.url.ends_with("/viewer"), "{}", page.url);

        // Logging in again (from the log-in page) also leads to the viewer's own page.
        let signed_out = employer.post("/logout", &[("csrf", &own.csrf())]).await;
        assert_eq!(signed_out.status, 200);
        let back = employer.log_in("riley@acme.example", PASSWORD).await;
        assert!(back.url.ends_with("/viewer"), "{}", back.url);
    }
);

with_mail_on_both_engines!(
    a_viewer_sees_every_check_of_a_credential_made_again_when_opened_so_an_expiry_shows,
    |app: TestApp, smtp: SmtpServer| async move {
        use common::issuer::{credential, did_key, ed25519_key, sign};
        let did = did_key(&ed25519_key());
        let fragment = did.trim_start_matches("did:key:");
        let mut expiring = credential(&did);
        expiring["validUntil"] =
            credentialconnect::clock::rfc3339(app.app.clock.now_ms() + 10 * 60 * 1000).into();
        expiring["evidence"] = json!([{
            "id": "https://evidence.example/portfolio",
            "type": ["Evidence"],
            "name": "Portfolio <script>alert(1)</script>",
            "narrative": "Led a team of five"
        }]);
        let expiring = sign(&app.app.verifier, expiring, &format!("{did}#{fragment}"));
        let link = upload(
            &app,
            "issuer",
            json!({"credentials": [expiring]}).to_string(),
        )
        .await;
        let _person = claim_everything(&app, &smtp, &link, "sam@example.org").await;
        let share = make_share_link(&_person).await;
        let (employer, resume) = sign_up_viewer(&app, &smtp, &share, "riley@acme.example").await;
        let details = details_path(&resume.html, "Teamwork Badge");

        let page = employer.get(&details).await;
        assert_eq!(page.status, 200, "{}", page.html);
        assert!(page.has("<h1>Teamwork Badge</h1>"));
        assert!(page.has("signature verified"), "{}", page.html);
        assert!(page.has("Every check the verifier made"));
        assert!(page.has("<td>passed</td>"), "{}", page.html);
        assert!(page.has("validUntil"), "the validity check is listed");
        assert!(page.has("Valid from") && page.has("1 January 2010, 00:00 UTC"));
        assert!(page.has("Example Corp"), "the issuer: {}", page.html);
        assert!(
            !page.has("(sent by Partner issuer)"),
            "a checked proof establishes the issuer"
        );
        assert!(page.has("Led a team of five"));
        assert!(page.has("href=\"https://evidence.example/portfolio\""));
        assert!(
            !page.has("<script>alert(1)</script>") && page.has("&#60;script&#62;alert(1)"),
            "the partner's text is escaped: {}",
            page.html
        );
        assert!(page.has("The original credential"));
        assert!(
            page.has("&#34;proofValue&#34;"),
            "the credential as sent, escaped"
        );
        let headers = employer
            .client
            .get(app.url(&details))
            .send()
            .await
            .expect("GET");
        assert_eq!(headers.headers()["cache-control"], "no-store");

        // Twenty minutes on the credential has expired. The shared page keeps its check of
        // less than an hour ago; the details are checked again when opened.
        app.app.clock.advance(Duration::from_secs(20 * 60));
        let page = employer.get(&details).await;
        assert_eq!(page.status, 200);
        assert!(page.has("verification failed"), "{}", page.html);
        assert!(page.has("expired: validUntil was"), "{}", page.html);
        assert!(page.has("<td>failed</td>"));
        let alerts = app.open_alerts().await;
        assert!(alerts.iter().any(|a| a.kind == "verification_failed"));
        // What the details found is what everyone sees from now on.
        let shared = Person::new(&app).get(&share).await;
        assert!(shared.has("verification failed"), "{}", shared.html);
    }
);

with_mail_on_both_engines!(
    credential_details_are_for_viewer_accounts_a_visitor_gets_401_and_a_job_seeker_403,
    |app: TestApp, smtp: SmtpServer| async move {
        let (person, share) = shared_resume(&app, &smtp).await;
        let anyone = Person::new(&app);
        let shared = anyone.get(&share).await;
        let details = details_path(&shared.html, "Teamwork Badge");
        let share_path = share.trim_start_matches(&app.base).to_string();

        let page = anyone.get(&details).await;
        assert_eq!(page.status, 401, "{}", page.html);
        assert!(
            page.has(&format!("href=\"{share_path}/signup\"")),
            "{}",
            page.html
        );
        assert!(page.has(&format!("href=\"/login?next={details}\"")));
        assert!(!page.has("Every check the verifier made"));

        // Logging in from there comes back to the details (a viewer account).
        let (employer, _) = sign_up_viewer(&app, &smtp, &share, "riley@acme.example").await;
        let own = employer.get("/viewer").await;
        employer.post("/logout", &[("csrf", &own.csrf())]).await;
        let login = employer.get(&format!("/login?next={details}")).await;
        assert!(
            login.has(&format!("href=\"{share_path}/signup\"")),
            "the log-in page offers a viewer account: {}",
            login.html
        );
        let back = employer
            .post(
                "/login",
                &[
                    ("csrf", &login.csrf()),
                    ("next", &details),
                    ("email", "riley@acme.example"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(back.status, 200, "{}", back.html);
        assert!(back.url.ends_with(&details), "{}", back.url);
        assert!(back.has("Every check the verifier made"));

        // A proof that cannot be checked does not establish the issuer: the partner that
        // sent it is named.
        let attested = employer.get(&details_path(&shared.html, "test 1")).await;
        assert_eq!(attested.status, 200, "{}", attested.html);
        assert!(attested.has("verified by the partner"), "{}", attested.html);
        assert!(
            attested.has("(sent by Partner issuer)"),
            "{}",
            attested.html
        );

        // A job seeker, the owner included, is told what the page is for.
        let page = person.get(&details).await;
        assert_eq!(page.status, 403, "{}", page.html);
        assert!(page.has("Only viewer accounts see credential details"));
        assert!(page.has("sam@example.org"), "it says who is logged in");
        assert!(page.has("href=\"/resume\""));
        let other = Person::new(&app);
        other
            .sign_up(&app, &smtp, "/signup", "alex@example.org", PASSWORD)
            .await;
        let page = other.get(&details).await;
        assert_eq!(page.status, 403, "{}", page.html);
    }
);

with_mail_on_both_engines!(
    another_persons_entry_or_a_hidden_revoked_or_self_reported_one_is_not_found_under_a_valid_link,
    |app: TestApp, smtp: SmtpServer| async move {
        let (person, share) = shared_resume(&app, &smtp).await;
        let (employer, resume) = sign_up_viewer(&app, &smtp, &share, "riley@acme.example").await;
        let teamwork = details_path(&resume.html, "Teamwork Badge");
        assert_eq!(employer.get(&teamwork).await.status, 200);

        // Another person with their own link and credential.
        let link = upload(
            &app,
            "issuer2",
            json!({"credentials": [fixture_json("standards/examples/ob30/simple-did-key-method.json")]})
                .to_string(),
        )
        .await;
        let other = claim_everything(&app, &smtp, &link, "alex@example.org").await;
        let other_share = make_share_link(&other).await;
        let other_page = employer.get(&other_share).await;
        let theirs = details_path(&other_page.html, "test 1");
        let their_entry = theirs.rsplit('/').next().expect("entry id");

        // Their entry under sam's link: the same answer as an unknown id.
        let share_path = share.trim_start_matches(&app.base).to_string();
        let crossed = employer
            .get(&format!("{share_path}/credentials/{their_entry}"))
            .await;
        let unknown = employer
            .get(&format!("{share_path}/credentials/no-such-entry"))
            .await;
        assert_eq!(crossed.status, 404, "{}", crossed.html);
        assert_eq!(unknown.status, 404);
        assert!(crossed.has("This credential is not on this resume"));
        assert_eq!(crossed.html, unknown.html, "nothing tells them apart");
        assert!(!crossed.has("test 1") && !crossed.has("alex@example.org"));

        // A hidden entry is not found either; shown again, it is.
        let own = person.get("/resume").await;
        let hidden = entry_id(&own.html, "Teamwork Badge");
        person
            .post(
                &format!("/resume/entries/{hidden}/hide"),
                &[("csrf", &own.csrf())],
            )
            .await;
        let page = employer.get(&teamwork).await;
        assert_eq!(page.status, 404, "{}", page.html);
        assert_eq!(page.html, unknown.html);

        // A credential its issuer revoked is not found either.
        let attested = details_path(&resume.html, "test 1");
        assert_eq!(employer.get(&attested).await.status, 200);
        let partner = credentialconnect::services::partners::rotate_secret(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "issuer",
        )
        .await
        .expect("rotate");
        let token = app.token(&partner, None).await;
        let revoked = app
            .client
            .delete(app.url(
                "/api/v1/credentials/urn%3Auuid%3A280c19b6%2D9680%2D4a37%2Dba84%2De38b1a4e4584",
            ))
            .bearer_auth(&token)
            .send()
            .await
            .expect("DELETE");
        assert!(revoked.status().is_success(), "{}", revoked.status());
        let page = employer.get(&attested).await;
        assert_eq!(page.status, 404, "{}", page.html);
        assert_eq!(page.html, unknown.html);

        // The person's own entry is self-reported: no details to show.
        let own = person.get("/resume").await;
        person
            .post(
                "/resume/entries",
                &[
                    ("csrf", &own.csrf()),
                    ("section", "Experience"),
                    ("title", "Volunteer coach"),
                ],
            )
            .await;
        let own = person.get("/resume").await;
        let coach = entry_id(&own.html, "Volunteer coach");
        let page = employer
            .get(&format!("{share_path}/credentials/{coach}"))
            .await;
        assert_eq!(page.status, 404);
        let shared = employer.get(&share).await;
        assert!(
            !shared.has(&format!("/credentials/{coach}")),
            "self-reported entries have no details link"
        );
    }
);

with_mail_on_both_engines!(
    a_replaced_or_stopped_link_closes_its_resume_its_details_and_its_pdf,
    |app: TestApp, smtp: SmtpServer| async move {
        let (person, share) = shared_resume(&app, &smtp).await;
        let (employer, resume) = sign_up_viewer(&app, &smtp, &share, "riley@acme.example").await;
        let details = details_path(&resume.html, "Teamwork Badge");
        let pdf = employer
            .client
            .get(format!("{share}/resume.pdf"))
            .send()
            .await
            .expect("GET");
        assert_eq!(pdf.status(), 200, "viewers can download the PDF");
        assert_eq!(pdf.headers()["content-type"], "application/pdf");

        let replaced = make_share_link(&person).await;
        for path in [
            share.clone(),
            app.url(&details),
            format!("{share}/resume.pdf"),
            format!("{share}/signup"),
        ] {
            let page = employer.get(&path).await;
            assert_eq!(page.status, 404, "{path}: {}", page.html);
            assert!(page.has("This link does not open a resume"), "{path}");
        }
        // The new link opens the same credential's details.
        let resume = employer.get(&replaced).await;
        let details = details_path(&resume.html, "Teamwork Badge");
        assert_eq!(employer.get(&details).await.status, 200);

        // Stopped from the resume page's share section.
        let own = person.get("/resume").await;
        assert!(own.has("Who viewed your resume"));
        let stopped = person
            .post("/resume/share/stop", &[("csrf", &own.csrf())])
            .await;
        assert!(stopped.has("Make a share link"));
        for path in [
            replaced.clone(),
            app.url(&details),
            format!("{replaced}/resume.pdf"),
        ] {
            assert_eq!(employer.get(&path).await.status, 404, "{path}");
        }
    }
);

with_mail_on_both_engines!(
    the_person_sees_views_per_day_without_their_own_and_which_viewers_opened_what,
    |app: TestApp, smtp: SmtpServer| async move {
        let (person, share) = shared_resume(&app, &smtp).await;
        let own = person.get("/resume").await;
        assert!(own.has("Nobody has opened this link yet"), "{}", own.html);

        // The owner's own visits are not counted; two anonymous ones are.
        person.get(&share).await;
        person.get(&share).await;
        let anyone = Person::new(&app);
        anyone.get(&share).await;
        anyone.get(&share).await;
        let own = person.get("/resume").await;
        assert!(own.has("This link was opened 2 times"), "{}", own.html);
        assert!(own.has("No employer with a viewer account has opened it yet"));

        // A viewer account is counted and named: its opening of the resume (at sign-up's
        // return) and of one credential's details, twice.
        let (employer, resume) = sign_up_viewer(&app, &smtp, &share, "riley@acme.example").await;
        let details = details_path(&resume.html, "Teamwork Badge");
        employer.get(&details).await;
        employer.get(&details).await;
        let own = person.get("/resume").await;
        assert!(own.has("This link was opened 3 times"), "{}", own.html);
        assert!(own.has("Riley Chen, Acme Hiring"), "{}", own.html);
        assert!(own.has("<td>your resume</td>"));
        assert!(own.has("<td>the details of Teamwork Badge</td>"));
        assert!(
            own.has("<td>2</td>"),
            "two openings of the details: {}",
            own.html
        );

        // A new day has its own count.
        app.app.clock.advance(DAY);
        anyone.get(&share).await;
        let own = person.get("/resume").await;
        assert!(own.has("This link was opened 4 times"), "{}", own.html);
        let day_rows = rows(&app, "share_view_days").await;
        assert_eq!(day_rows.len(), 2, "{day_rows:?}");

        // Nothing about the browsers is kept: no address, no user agent.
        for line in rows(&app, "share_view_days")
            .await
            .into_iter()
            .chain(rows(&app, "share_viewer_opens").await)
        {
            assert!(
                !line.contains("127.0.0.1") && !line.contains("reqwest"),
                "{line}"
            );
        }
    }
);

with_mail_on_both_engines!(
    counts_are_dropped_with_their_link_and_purged_after_90_days_or_a_year_after_the_last_open,
    |app: TestApp, smtp: SmtpServer| async move {
        let (person, share) = shared_resume(&app, &smtp).await;
        let (employer, resume) = sign_up_viewer(&app, &smtp, &share, "riley@acme.example").await;
        employer
            .get(&details_path(&resume.html, "Teamwork Badge"))
            .await;
        assert_eq!(rows(&app, "share_view_days").await.len(), 1);
        assert_eq!(rows(&app, "share_viewer_opens").await.len(), 2);

        // A new link starts again from nothing.
        let replaced = make_share_link(&person).await;
        assert!(rows(&app, "share_view_days").await.is_empty());
        assert!(rows(&app, "share_viewer_opens").await.is_empty());
        let own = person.get("/resume").await;
        assert!(own.has("Nobody has opened this link yet"), "{}", own.html);

        let resume = employer.get(&replaced).await;
        employer
            .get(&details_path(&resume.html, "Teamwork Badge"))
            .await;
        let purged = housekeeping::purge_if_due(&app.app, "test")
            .await
            .expect("purge")
            .expect("due");
        assert_eq!((purged.view_days, purged.viewer_opens), (0, 0));

        // After 90 days the daily counts go; who opened what stays a year.
        app.app.clock.advance(91 * DAY);
        let purged = housekeeping::purge_if_due(&app.app, "test")
            .await
            .expect("purge")
            .expect("due");
        assert_eq!((purged.view_days, purged.viewer_opens), (1, 0));
        assert!(rows(&app, "share_view_days").await.is_empty());
        assert_eq!(rows(&app, "share_viewer_opens").await.len(), 2);
        person.log_in("sam@example.org", PASSWORD).await;
        let own = person.get("/resume").await;
        assert!(own.has("Riley Chen, Acme Hiring"), "{}", own.html);

        app.app.clock.advance(275 * DAY);
        let purged = housekeeping::purge_if_due(&app.app, "test")
            .await
            .expect("purge")
            .expect("due");
        assert_eq!(purged.viewer_opens, 2);
        assert!(rows(&app, "share_viewer_opens").await.is_empty());
    }
);

with_mail_on_both_engines!(
    a_viewer_account_opening_details_again_and_again_is_slowed_after_60_a_minute,
    |app: TestApp, smtp: SmtpServer| async move {
        let (_, share) = shared_resume(&app, &smtp).await;
        let (employer, resume) = sign_up_viewer(&app, &smtp, &share, "riley@acme.example").await;
        let details = details_path(&resume.html, "Teamwork Badge");
        for _ in 0..60 {
            assert_eq!(employer.get(&details).await.status, 200);
        }
        let page = employer.get(&details).await;
        assert_eq!(page.status, 429, "{}", page.html);
        assert!(page.has("Please wait a minute"));
        // Another viewer account is not held back by the first.
        let (other, _) = sign_up_viewer(&app, &smtp, &share, "kim@acme.example").await;
        assert_eq!(other.get(&details).await.status, 200);
    }
);
