//! The claim flow as a person meets it, on both engines with a real SMTP exchange: what is
//! offered ticked, where confirming the email leads, being told that items are on someone
//! else's resume, the mail about a new delivery, deleting skills, and claiming a package
//! that was sent for another address.

mod common;

use common::person::{PASSWORD, Page, Person, claim_everything, upload};
use common::smtp::SmtpServer;
use common::{TestApp, fixture, fixture_json};
use serde_json::json;

/// The first id in `html` that follows `marker` (e.g. `id="skill-`), up to the next quote.
fn id_after(html: &str, marker: &str) -> String {
    html.split(marker)
        .nth(1)
        .unwrap_or_else(|| panic!("no {marker} in {html}"))
        .split('"')
        .next()
        .expect("id")
        .to_string()
}

/// The list items of an offer that mention `text`.
fn offered<'a>(page: &'a Page, text: &str) -> Vec<&'a str> {
    page.html
        .split("<li>")
        .skip(1)
        .filter(|item| item.contains(text))
        .collect()
}

with_mail_on_both_engines!(
    credentials_whose_proof_failed_are_offered_unticked,
    |app: TestApp, smtp: SmtpServer| async move {
        use common::issuer::{credential, did_key, ed25519_key, sign};
        let did = did_key(&ed25519_key());
        let fragment = did.trim_start_matches("did:key:");
        let mut tampered = sign(
            &app.app.verifier,
            credential(&did),
            &format!("{did}#{fragment}"),
        );
        tampered["name"] = json!("Teamwork Badge (with honours)");
        let mut package = fixture_json("guide/three-courses.json");
        package["credentials"]
            .as_array_mut()
            .expect("credentials")
            .push(tampered);
        let link = upload(&app, "issuer", package.to_string()).await;
        let chooser = Person::new(&app)
            .sign_up(&app, &smtp, &link, "jsmith@institutionx.edu", PASSWORD)
            .await;
        let failed = offered(&chooser, "verification failed");
        assert_eq!(failed.len(), 1, "{}", chooser.html);
        assert!(
            failed[0].contains("name=\"credential\"") && !failed[0].contains(" checked"),
            "offered, not ticked: {}",
            failed[0]
        );
        let course = offered(&chooser, "Calculus w/Analytic Geometry I");
        assert!(course[0].contains(" checked"), "{}", course[0]);
        assert!(chooser.has("Everything is selected except what failed verification"));
    }
);

with_mail_on_both_engines!(
    confirming_the_email_of_a_sign_up_from_a_claim_link_leads_to_its_choice,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let person = Person::new(&app);
        let chooser = person
            .sign_up(&app, &smtp, &link, "jsmith@institutionx.edu", PASSWORD)
            .await;
        assert!(chooser.url.contains("/inbox/"), "{}", chooser.url);
        assert!(chooser.has("Your email is confirmed"));
        assert!(chooser.has("<h1>Your credentials from Partner instx</h1>"));
        assert_eq!(chooser.values("credential").len(), 3);
        let resume = person
            .add_everything(
                &chooser,
                &format!("/inbox/{}", id_after(&chooser.html, "action=\"/inbox/")),
            )
            .await;
        assert!(resume.has("3 items were added"), "{}", resume.html);
        // The page was the package's: once added, it is not in the inbox any more.
        let gone = person.get(&chooser.url).await;
        assert_eq!(gone.status, 404);
        assert!(gone.has("This delivery is not in your inbox any more."));
        // Nor does anyone else see it.
        let other = Person::new(&app);
        other
            .sign_up(&app, &smtp, "/signup", "other@example.com", PASSWORD)
            .await;
        assert_eq!(other.get(&chooser.url).await.status, 404);
    }
);

with_mail_on_both_engines!(
    a_second_person_meeting_items_on_another_resume_is_told_and_an_alert_records_it,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        claim_everything(&app, &smtp, &link, "jsmith@institutionx.edu").await;
        // The same courses again, in a package for another address (a partner's mistake).
        let mut again = fixture_json("guide/three-courses.json");
        again["recipient"] = json!({"email": "mallory@example.com"});
        let second_link = upload(&app, "instx", again.to_string()).await;
        let mallory = Person::new(&app);
        mallory
            .sign_up(&app, &smtp, "/signup", "mallory@example.com", PASSWORD)
            .await;
        let page = mallory.get(&second_link).await;
        assert_eq!(
            page.html.matches("already on another resume").count(),
            3,
            "{}",
            page.html
        );
        assert!(page.values("credential").is_empty(), "nothing to tick");
        let before = app.open_alerts().await.len();
        let answer = mallory.post(&second_link, &[("csrf", &page.csrf())]).await;
        assert_eq!(answer.status, 409, "{}", answer.html);
        assert!(answer.has("Nothing was added: these are on another resume"));
        assert!(answer.has("Calculus w/Analytic Geometry I"));
        assert!(!answer.has("already on your resume"));
        let alerts = app.open_alerts().await;
        assert!(alerts.len() > before, "{alerts:?}");
        assert!(alerts.iter().any(|a| a.kind == "claim_conflict"));
        let mallorys = mallory.get("/resume").await;
        assert!(!mallorys.has("Calculus w/Analytic Geometry I"));

        // A claim link someone else already used: trying it is recorded too.
        let taken = mallory.post(&link, &[("csrf", &page.csrf())]).await;
        assert_eq!(taken.status, 410);
        assert!(taken.has("already on another resume"));
        let package_alerts = app
            .open_alerts()
            .await
            .into_iter()
            .filter(|a| a.kind == "claim_conflict" && a.message.contains("package"))
            .count();
        assert_eq!(package_alerts, 1);
    }
);

with_mail_on_both_engines!(
    a_person_is_mailed_once_when_a_delivery_waits_in_their_inbox,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let person = claim_everything(&app, &smtp, &link, "jsmith@institutionx.edu").await;
        app.deliver_mail().await;
        let mails_before = smtp.messages().len();
        let mut later = fixture_json("guide/three-courses.json");
        later["credentials"] = json!([later["credentials"][0].clone()]);
        later["credentials"][0]["id"] = json!("new-award-1");
        later["credentials"][0]["name"] = json!("Linear Algebra");
        upload(&app, "instx", later.to_string()).await;
        assert_eq!(app.deliver_mail().await, 1);
        let mail = smtp
            .last_to("jsmith@institutionx.edu")
            .expect("a mail about the delivery");
        assert!(
            mail.text()
                .contains("New credentials from Partner instx are waiting for you"),
            "{}",
            mail.text()
        );
        let waiting = mail.link(&format!("{}/inbox/", app.base)).expect("a link");
        let chooser = person.get(&waiting).await;
        assert_eq!(chooser.status, 200);
        assert!(chooser.has("Linear Algebra"));

        // The partner sends the same package again (a retry): nothing new, no second mail.
        upload(&app, "instx", later.to_string()).await;
        assert_eq!(app.deliver_mail().await, 0);
        assert_eq!(smtp.messages().len(), mails_before + 1);
    }
);

with_mail_on_both_engines!(
    skills_can_be_deleted_after_a_confirmation_but_not_someone_elses,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/skillsync.json")).await;
        let person = claim_everything(&app, &smtp, &link, "john.q.sample@somedomain.com").await;
        let resume = person.get("/resume").await;
        assert!(resume.has("Teaching"));
        let skill = id_after(&resume.html, "id=\"skill-");
        assert!(resume.has(&format!("href=\"/resume/skills/{skill}/delete\"")));

        let other = Person::new(&app);
        let theirs = other
            .sign_up(&app, &smtp, "/signup", "other@example.com", PASSWORD)
            .await;
        let before = app.snapshot().await;
        assert_eq!(
            other
                .get(&format!("/resume/skills/{skill}/delete"))
                .await
                .status,
            404
        );
        let refused = other
            .post(
                &format!("/resume/skills/{skill}/delete"),
                &[("csrf", &theirs.csrf())],
            )
            .await;
        assert_eq!(refused.status, 404);
        assert_eq!(app.snapshot().await, before);

        let confirm = person.get(&format!("/resume/skills/{skill}/delete")).await;
        assert!(
            confirm.has("Delete “Teaching” from your resume?"),
            "{}",
            confirm.html
        );
        assert!(confirm.has("You can add it again only if its issuer sends it to you again."));
        let deleted = person
            .post(
                &format!("/resume/skills/{skill}/delete"),
                &[("csrf", &confirm.csrf())],
            )
            .await;
        assert!(deleted.has("Deleted from your resume"));
        assert!(!deleted.has("Teaching"), "{}", deleted.html);
        assert!(deleted.has("Leadership"), "the others stay");
    }
);

with_mail_on_both_engines!(
    a_person_with_another_address_confirms_the_recipient_address_by_a_code_before_claiming,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let person = Person::new(&app);
        person
            .sign_up(&app, &smtp, "/signup", "jo.personal@example.com", PASSWORD)
            .await;
        let page = person.get(&link).await;
        assert!(
            page.has("Sent for jsmith@institutionx.edu"),
            "{}",
            page.html
        );
        assert!(page.has("which is not the address of your account"));
        assert!(page.has("Ask Partner instx to send the credentials again"));
        assert!(page.values("credential").is_empty(), "nothing to tick yet");

        // Sending the form anyway adds nothing.
        let before = app.snapshot().await;
        let mut forged = vec![("csrf", page.csrf())];
        forged.push(("credential", "anything".to_string()));
        let forged: Vec<(&str, &str)> = forged.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = person.post(&link, &forged).await;
        assert_eq!(refused.status, 403);
        assert!(refused.has("Nothing was added: confirm the address first"));
        assert_eq!(app.snapshot().await, before);

        let asked = person
            .post(&format!("{link}/code"), &[("csrf", &page.csrf())])
            .await;
        assert_eq!(asked.status, 200, "{}", asked.html);
        assert!(asked.url.contains("/claims/"), "{}", asked.url);
        assert!(asked.has("Enter the code sent to jsmith@institutionx.edu"));
        assert!(asked.has("We emailed you a code."));
        assert_eq!(app.deliver_mail().await, 1);
        let mail = smtp.last_to("jsmith@institutionx.edu").expect("mail");
        assert!(
            mail.text()
                .contains("signed in to CredentialConnect as jo.personal@example.com"),
            "the address's owner learns who asks: {}",
            mail.text()
        );
        let code = smtp.recipient_code("jsmith@institutionx.edu");
        let confirm_url = asked.url.replace("/code?sent=1", "/confirm");
        let wrong = if code == "000000" { "000001" } else { "000000" };
        let wrong = person
            .post(&confirm_url, &[("csrf", &asked.csrf()), ("code", wrong)])
            .await;
        assert_eq!(wrong.status, 422);
        assert!(wrong.has("Error: Enter the code"), "{}", wrong.html);
        assert!(wrong.has("that is not the code we sent"));
        assert!(wrong.has("4 tries left"));

        let chooser = person
            .post(&confirm_url, &[("csrf", &asked.csrf()), ("code", &code)])
            .await;
        assert_eq!(chooser.status, 200, "{}", chooser.html);
        assert!(chooser.has("The address is confirmed."), "{}", chooser.html);
        assert_eq!(chooser.values("credential").len(), 3);
        let action = format!("/inbox/{}", id_after(&chooser.html, "action=\"/inbox/"));
        let resume = person.add_everything(&chooser, &action).await;
        assert!(resume.has("3 items were added"), "{}", resume.html);
    }
);

with_mail_on_both_engines!(
    signing_up_from_a_claim_link_with_another_address_asks_for_the_recipient_address_too,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let person = Person::new(&app);
        let landed = person
            .sign_up(&app, &smtp, &link, "jo.personal@example.com", PASSWORD)
            .await;
        assert!(landed.url.contains("/inbox/"), "{}", landed.url);
        assert!(
            landed.has("Sent for jsmith@institutionx.edu"),
            "{}",
            landed.html
        );
        assert!(landed.values("credential").is_empty());
        let gate = id_after(&landed.html, "action=\"/claims/");
        let asked = person
            .post(&format!("/claims/{gate}"), &[("csrf", &landed.csrf())])
            .await;
        assert!(asked.has("Enter the code sent to jsmith@institutionx.edu"));
        app.deliver_mail().await;
        let code = smtp.recipient_code("jsmith@institutionx.edu");
        let confirm_url = asked.url.replace("/code?sent=1", "/confirm");
        let chooser = person
            .post(&confirm_url, &[("csrf", &asked.csrf()), ("code", &code)])
            .await;
        assert_eq!(chooser.values("credential").len(), 3, "{}", chooser.html);
    }
);

with_mail_on_both_engines!(
    recipient_codes_cannot_be_guessed_outlived_or_asked_for_without_end,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let person = Person::new(&app);
        person
            .sign_up(&app, &smtp, "/signup", "jo.personal@example.com", PASSWORD)
            .await;
        let page = person.get(&link).await;
        let asked = person
            .post(&format!("{link}/code"), &[("csrf", &page.csrf())])
            .await;
        app.deliver_mail().await;
        let code = smtp.recipient_code("jsmith@institutionx.edu");
        let confirm_url = asked.url.replace("/code?sent=1", "/confirm");
        let code_url = asked.url.replace("?sent=1", "");
        let csrf = asked.csrf();

        // A thousand guesses: after five the code is used up, so the right one fails too.
        let mut no_longer = 0;
        for guess in (0..1000).map(|n| format!("{:06}", n * 997 % 1_000_000)) {
            if guess == code {
                continue;
            }
            let answer = person
                .post(&confirm_url, &[("csrf", &csrf), ("code", &guess)])
                .await;
            assert_eq!(answer.status, 422);
            if answer.has("this code no longer works") {
                no_longer += 1;
            }
        }
        assert!(no_longer >= 990, "{no_longer}");
        let late = person
            .post(&confirm_url, &[("csrf", &csrf), ("code", &code)])
            .await;
        assert!(late.has("this code no longer works"), "{}", late.html);
        assert!(
            person
                .get(&link)
                .await
                .has("Sent for jsmith@institutionx.edu")
        );

        // A new code works for 15 minutes.
        let again = person.post(&code_url, &[("csrf", &csrf)]).await;
        assert!(again.has("We emailed you a code."));
        app.deliver_mail().await;
        let code = smtp.recipient_code("jsmith@institutionx.edu");
        app.app
            .clock
            .advance(std::time::Duration::from_secs(16 * 60));
        let stale = person
            .post(&confirm_url, &[("csrf", &csrf), ("code", &code)])
            .await;
        assert!(stale.has("this code no longer works"), "{}", stale.html);

        // Five codes a day (two sent so far), then no more.
        for _ in 0..3 {
            let sent = person.post(&code_url, &[("csrf", &csrf)]).await;
            assert!(sent.has("We emailed you a code."), "{}", sent.html);
        }
        let refused = person.post(&code_url, &[("csrf", &csrf)]).await;
        assert_eq!(refused.status, 429);
        assert!(refused.has("No more codes today"));
        assert_eq!(app.deliver_mail().await, 3);

        // Nobody else can use the pages for this package.
        let other = Person::new(&app);
        let theirs = other
            .sign_up(&app, &smtp, "/signup", "other@example.com", PASSWORD)
            .await;
        let before = app.snapshot().await;
        let send = other.post(&code_url, &[("csrf", &theirs.csrf())]).await;
        assert_eq!(send.status, 404);
        let guess = other
            .post(&confirm_url, &[("csrf", &theirs.csrf()), ("code", &code)])
            .await;
        assert_eq!(guess.status, 404);
        assert_eq!(app.snapshot().await, before);
        assert_eq!(other.get(&code_url).await.status, 404);

        // The latest code still confirms the address.
        let code = smtp.recipient_code("jsmith@institutionx.edu");
        let chooser = person
            .post(&confirm_url, &[("csrf", &csrf), ("code", &code)])
            .await;
        assert!(chooser.has("The address is confirmed."), "{}", chooser.html);
    }
);
