//! Accounts against someone who tries to take them: a confirmation link changes nothing
//! until its page is sent and never replaces who is signed in without asking; confirming a
//! sign-up proves (or replaces) the password chosen at sign-up; a reset ends every other
//! reset link; failed log-ins slow an attacker without locking the owner out. On both
//! engines, with a real SMTP exchange.

mod common;

use common::TestApp;
use common::person::{PASSWORD, Person};
use common::smtp::SmtpServer;

with_mail_on_both_engines!(
    opening_a_confirmation_link_changes_nothing_until_its_page_is_sent,
    |app: TestApp, smtp: SmtpServer| async move {
        let owner = Person::new(&app);
        let link = owner
            .start_sign_up(&app, &smtp, "/signup", "jamie@example.com", PASSWORD)
            .await;
        let before = app.snapshot().await;
        // A mail scanner fetches the link (twice, as some do): nothing changes.
        for _ in 0..2 {
            let scanned = common::client().get(&link).send().await.expect("GET");
            assert_eq!(scanned.status(), 200);
            assert!(
                !scanned.headers().contains_key("set-cookie")
                    || !scanned.headers()["set-cookie"]
                        .to_str()
                        .expect("cookie")
                        .contains("cc_session"),
                "no session from a GET"
            );
        }
        let page = owner.get(&link).await;
        assert_eq!(page.status, 200);
        assert!(page.has("Confirm your email address"), "{}", page.html);
        assert!(page.has("jamie@example.com"));
        assert_eq!(
            app.snapshot().await,
            before,
            "opening the link confirms nothing"
        );
        assert!(
            owner.get("/resume").await.url.contains("/login"),
            "nobody is signed in by opening the link"
        );
        // The page's form confirms, with the password chosen at sign-up.
        let done = owner.confirm(&link, PASSWORD).await;
        assert!(done.url.ends_with("/resume?welcome=1"), "{}", done.url);
        assert!(done.has("Your email is confirmed"));
        assert_eq!(
            Person::new(&app).get(&link).await.status,
            404,
            "the link works once"
        );
    }
);

with_mail_on_both_engines!(
    a_confirmation_link_never_replaces_who_is_signed_in_without_asking,
    |app: TestApp, smtp: SmtpServer| async move {
        let victim = Person::new(&app);
        victim
            .sign_up(&app, &smtp, "/signup", "victim@example.com", PASSWORD)
            .await;
        // Someone starts an account of their own and sends the victim its link.
        let link = Person::new(&app)
            .start_sign_up(
                &app,
                &smtp,
                "/signup",
                "attacker@example.net",
                "attacker password",
            )
            .await;
        let before = app.snapshot().await;
        let page = victim.get(&link).await;
        assert_eq!(page.status, 200);
        assert!(
            page.has("You are signed in as <strong>victim@example.com</strong>"),
            "{}",
            page.html
        );
        assert!(page.has("attacker@example.net"));
        assert!(page.has("Stay signed in as victim@example.com"));
        assert_eq!(
            app.snapshot().await,
            before,
            "opening the link changes nothing"
        );
        assert!(
            victim.get("/resume").await.has("victim@example.com"),
            "still signed in as themselves"
        );
        // A form that does not answer the page's question replaces nobody.
        let unasked = victim
            .post(
                &link,
                &[("csrf", &page.csrf()), ("password", "attacker password")],
            )
            .await;
        assert_eq!(unasked.status, 409, "{}", unasked.html);
        assert!(unasked.has("You are signed in as <strong>victim@example.com</strong>"));
        assert_eq!(app.snapshot().await, before);
        assert!(victim.get("/resume").await.has("victim@example.com"));
        // Choosing to switch (someone confirming a second account of their own) works.
        let switched = victim.confirm(&link, "attacker password").await;
        assert!(switched.url.contains("/resume"), "{}", switched.url);
        assert!(switched.has("attacker@example.net"));
    }
);

with_mail_on_both_engines!(
    an_account_someone_else_started_with_my_email_cannot_keep_their_password,
    |app: TestApp, smtp: SmtpServer| async move {
        let link = Person::new(&app)
            .start_sign_up(
                &app,
                &smtp,
                "/signup",
                "owner@example.com",
                "the squatter's password",
            )
            .await;
        let mail = smtp.last_to("owner@example.com").expect("the mail");
        assert!(
            mail.text()
                .contains("started a CredentialConnect account with this address"),
            "{}",
            mail.text()
        );
        assert!(mail.text().contains("choose your own password"));
        let owner = Person::new(&app);
        let page = owner.get(&link).await;
        assert!(page.has("owner@example.com"));
        // Confirming is not enough: the page asks for the password chosen at sign-up.
        let guessed = owner
            .post(
                &link,
                &[("csrf", &page.csrf()), ("password", "my usual password")],
            )
            .await;
        assert_eq!(guessed.status, 401, "{}", guessed.html);
        assert!(guessed.has("not the password"));
        assert!(owner.get("/resume").await.url.contains("/login"));
        // The owner chooses their own password instead.
        let chosen = owner
            .post(
                &link,
                &[
                    ("csrf", &guessed.csrf()),
                    ("new_password", "the owner's own secret"),
                ],
            )
            .await;
        assert!(chosen.url.contains("/resume"), "{}", chosen.url);
        // The password someone else chose opens nothing; the owner's does.
        let squatter = Person::new(&app)
            .log_in("owner@example.com", "the squatter's password")
            .await;
        assert_eq!(squatter.status, 401);
        let back = Person::new(&app)
            .log_in("owner@example.com", "the owner's own secret")
            .await;
        assert!(back.url.ends_with("/resume"), "{}", back.url);
    }
);

with_mail_on_both_engines!(
    a_password_reset_ends_every_other_reset_link,
    |app: TestApp, smtp: SmtpServer| async move {
        Person::new(&app)
            .sign_up(&app, &smtp, "/signup", "jamie@example.com", PASSWORD)
            .await;
        let asker = Person::new(&app);
        for _ in 0..2 {
            let form = asker.get("/reset").await;
            let sent = asker
                .post(
                    "/reset",
                    &[("csrf", &form.csrf()), ("email", "jamie@example.com")],
                )
                .await;
            assert!(sent.has("If an account uses this address"));
        }
        app.deliver_mail().await;
        let links: Vec<String> = smtp
            .messages()
            .iter()
            .filter(|m| m.to.iter().any(|t| t == "jamie@example.com"))
            .filter_map(|m| m.link(&format!("{}/reset/", app.base)))
            .collect();
        assert_eq!(links.len(), 2, "two reset mails");
        let (older, newer) = (&links[0], &links[1]);
        let form = asker.get(newer).await;
        let done = asker
            .post(
                newer,
                &[("csrf", &form.csrf()), ("password", "the newest secret")],
            )
            .await;
        assert!(done.url.ends_with("/resume"), "{}", done.url);
        let holder = Person::new(&app);
        assert_eq!(holder.get(older).await.status, 404, "the older link ended");
        let form = holder.get("/reset").await;
        let refused = holder
            .post(
                older,
                &[("csrf", &form.csrf()), ("password", "an older secret")],
            )
            .await;
        assert_eq!(refused.status, 404);
        assert_eq!(
            Person::new(&app)
                .log_in("jamie@example.com", "an older secret")
                .await
                .status,
            401
        );
        assert!(
            Person::new(&app)
                .log_in("jamie@example.com", "the newest secret")
                .await
                .url
                .ends_with("/resume")
        );
    }
);

with_mail_on_both_engines!(
    failed_log_ins_slow_an_attacker_and_never_lock_the_owner_out,
    |app: TestApp, smtp: SmtpServer| async move {
        let email = "jamie@example.com";
        let owner = Person::new(&app);
        let resume = owner.sign_up(&app, &smtp, "/signup", email, PASSWORD).await;
        owner.post("/logout", &[("csrf", &resume.csrf())]).await;

        // From one address, wrong passwords are soon refused there …
        let attacker = Person::at(&app, "127.0.0.2");
        let mut statuses = Vec::new();
        for _ in 0..12 {
            statuses.push(attacker.log_in(email, "a guess").await.status);
        }
        assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
        assert_eq!(statuses[10..], [429, 429], "{statuses:?}");
        // … even with the right password, which is not tried once the limit is reached.
        assert_eq!(attacker.log_in(email, PASSWORD).await.status, 429);
        // … and the owner, from their own address, is not locked out, even in a new browser.
        let new_browser = Person::new(&app);
        let signed_in = new_browser.log_in(email, PASSWORD).await;
        assert!(signed_in.url.ends_with("/resume"), "{}", signed_in.url);

        // From many addresses at once, the account closes to browsers never used with it …
        for n in 3..=8 {
            let attacker = Person::at(&app, &format!("127.0.0.{n}"));
            for _ in 0..10 {
                attacker.log_in(email, "a guess").await;
            }
        }
        let stranger = Person::at(&app, "127.0.0.9");
        let refused = stranger.log_in(email, PASSWORD).await;
        assert_eq!(refused.status, 429, "{}", refused.html);
        assert!(
            refused.has("href=\"/reset\""),
            "the way round: {}",
            refused.html
        );
        // … but the owner's own browser still gets in with the right password.
        let back = owner.log_in(email, PASSWORD).await;
        assert!(back.url.ends_with("/resume"), "{}", back.url);
    }
);

with_mail_on_both_engines!(
    logging_in_to_an_unconfirmed_account_mails_its_link_a_few_times_an_hour_at_most,
    |app: TestApp, smtp: SmtpServer| async move {
        // Whoever started an account with someone else's address knows its password: each
        // log-in with it would mail the address's owner a new link.
        Person::new(&app)
            .start_sign_up(
                &app,
                &smtp,
                "/signup",
                "owner@example.com",
                "squatter password",
            )
            .await;
        for n in 2..=7 {
            let page = Person::at(&app, &format!("127.0.0.{n}"))
                .log_in("owner@example.com", "squatter password")
                .await;
            assert_eq!(page.status, 403, "{}", page.html);
            assert!(page.has("Confirm your email address first"));
        }
        app.deliver_mail().await;
        let mails = smtp
            .messages()
            .iter()
            .filter(|m| m.to.iter().any(|t| t == "owner@example.com"))
            .count();
        assert_eq!(mails, 1 + 3, "the sign-up mail and three more");
    }
);

with_mail_on_both_engines!(
    a_reset_link_says_whose_password_it_sets_and_never_replaces_who_is_signed_in_without_asking,
    |app: TestApp, smtp: SmtpServer| async move {
        let victim = Person::new(&app);
        victim
            .sign_up(&app, &smtp, "/signup", "victim@example.com", PASSWORD)
            .await;
        // Someone asks for a reset of their own account and sends the victim the link.
        Person::new(&app)
            .sign_up(
                &app,
                &smtp,
                "/signup",
                "attacker@example.net",
                "attacker password",
            )
            .await;
        let asker = Person::new(&app);
        let form = asker.get("/reset").await;
        asker
            .post(
                "/reset",
                &[("csrf", &form.csrf()), ("email", "attacker@example.net")],
            )
            .await;
        app.deliver_mail().await;
        let link = smtp
            .last_to("attacker@example.net")
            .and_then(|m| m.link(&format!("{}/reset/", app.base)))
            .expect("a reset link");
        let page = victim.get(&link).await;
        assert_eq!(page.status, 200);
        assert!(page.has("attacker@example.net"), "{}", page.html);
        assert!(page.has("You are signed in as <strong>victim@example.com</strong>"));
        let before = app.snapshot().await;
        let unasked = victim
            .post(
                &link,
                &[("csrf", &page.csrf()), ("password", "a password I chose")],
            )
            .await;
        assert_eq!(unasked.status, 409, "{}", unasked.html);
        assert_eq!(app.snapshot().await, before, "nothing changed");
        assert!(victim.get("/resume").await.has("victim@example.com"));
    }
);

with_mail_on_both_engines!(
    a_browser_that_has_not_signed_in_for_a_year_is_forgotten,
    |app: TestApp, smtp: SmtpServer| async move {
        let known_devices = || async {
            app.app
                .store
                .read(|conn| {
                    conn.query_one("SELECT count(*) FROM known_devices", &[])?
                        .int(0)
                })
                .await
                .expect("count")
        };
        Person::new(&app)
            .sign_up(&app, &smtp, "/signup", "jamie@example.com", PASSWORD)
            .await;
        assert_eq!(known_devices().await, 1, "the browser that confirmed");
        let purge = credentialconnect::services::housekeeping::purge_if_due;
        let first = purge(&app.app, "a").await.expect("purge").expect("due");
        assert_eq!(first.known_devices, 0);
        app.app
            .clock
            .advance(std::time::Duration::from_secs(366 * 24 * 3600));
        let later = purge(&app.app, "a").await.expect("purge").expect("due");
        assert_eq!(later.known_devices, 1);
        assert_eq!(known_devices().await, 0);
    }
);
