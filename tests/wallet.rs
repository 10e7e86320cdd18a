//! "Share To My Wallet": the signed resume pushed to a wallet partner through the outbox. The
//! reference wallet (`examples/reference_wallet`) plays the wallet: it issues OAuth tokens,
//! verifies what it receives with this project's verifier, and keeps it by id. Hostile
//! wallets (slow, redirecting, endless, private) are small servers written here.

mod common;

#[path = "common/wallets.rs"]
mod wallets;

use common::person::{PASSWORD, Person, claim_everything, upload};
use common::smtp::SmtpServer;
use common::{Engine, TestApp, fixture};
use credentialconnect::domain::verification::VerificationState;
use credentialconnect::services::wallet::{self as pushes, WalletChange};
use credentialconnect::verify::Verifier;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wallets::{
    CLIENT_ID, CLIENT_SECRET, connect, connect_reference, start_wallet, verifier_trusting, wallet,
};

/// The app, allowed to call wallets on this machine, with a short wallet timeout (the
/// deployment's is 10 s; only its length differs).
async fn spawn(engine: Engine) -> (TestApp, SmtpServer) {
    TestApp::spawn_with_mail_and(engine, |config| {
        config.fetch.allow_loopback = true;
        config.wallet_timeout = Duration::from_secs(2);
    })
    .await
}

macro_rules! with_wallets_on_both_engines {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (app, smtp) = spawn(Engine::Sqlite).await;
                let _database = app.database_guard();
                ($body)(app, smtp).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let (app, smtp) = spawn(Engine::Postgres).await;
                let _database = app.database_guard();
                ($body)(app, smtp).await;
            }
        }
    };
}

/// A person who has claimed the partner guide's three courses, on their resume.
async fn person_with_resume(app: &TestApp, smtp: &SmtpServer) -> Person {
    let link = upload(app, "instx", fixture("guide/three-courses.json")).await;
    claim_everything(app, smtp, &link, "jsmith@institutionx.edu").await
}

/// Presses "Send to <wallet>" on the resume page; returns where the browser went.
async fn share_to(person: &Person, slug: &str) -> common::person::Page {
    let resume = person.get("/resume").await;
    person
        .post(
            &format!("/resume/wallet/{slug}"),
            &[("csrf", resume.csrf().as_str())],
        )
        .await
}

async fn deliver(app: &TestApp) -> usize {
    pushes::deliver_due(&app.app).await.expect("deliver")
}

with_wallets_on_both_engines!(
    a_resume_shared_to_a_wallet_arrives_there_verified_and_the_person_sees_it_sent,
    |app: TestApp, smtp: SmtpServer| async move {
        let running = start_wallet(verifier_trusting(&app).await, Arc::default(), None).await;
        connect_reference(&app, &running).await;
        let person = person_with_resume(&app, &smtp).await;
        let resume = person.get("/resume").await;
        assert!(
            resume.has("Share To My Wallet") && resume.has("Send to Partner refwallet"),
            "{}",
            resume.html
        );

        let landed = share_to(&person, "refwallet").await;
        assert_eq!(
            landed.url,
            running.url("/landing"),
            "the browser goes on to the wallet's landing page"
        );
        assert!(landed.has("Reference Wallet"), "{}", landed.html);
        let waiting = person.get("/resume").await;
        assert!(waiting.has("Waiting to go out"), "{}", waiting.html);

        assert_eq!(deliver(&app).await, 1);
        let held = running.held.credentials();
        assert_eq!(held.len(), 1, "the wallet holds the resume");
        let kept = held.values().next().expect("one");
        assert_eq!(kept.state, VerificationState::Verified);
        assert_eq!(kept.received, 1);
        assert_eq!(
            kept.credential["credentialSubject"]["name"], "Jamie Smith",
            "{}",
            kept.credential
        );
        let sent = person.get("/resume").await;
        assert!(
            sent.has("Sent") && sent.has("Received by the wallet on"),
            "{}",
            sent.html
        );

        // A second push reuses the token the wallet issued.
        share_to(&person, "refwallet").await;
        assert_eq!(deliver(&app).await, 1);
        assert_eq!(running.held.credentials().len(), 2);
        assert_eq!(running.held.tokens_issued.load(Ordering::SeqCst), 1);
        // Nothing of the credential is kept once it has gone out.
        let kept_copies: i64 = app
            .app
            .store
            .read(|conn| {
                conn.query_one(
                    "SELECT COUNT(*) FROM wallet_pushes WHERE credential IS NOT NULL",
                    &[],
                )?
                .int(0)
            })
            .await
            .expect("count");
        assert_eq!(kept_copies, 0);
    }
);

with_wallets_on_both_engines!(
    a_wallet_answering_500_is_retried_with_backoff_until_it_takes_the_push,
    |app: TestApp, smtp: SmtpServer| async move {
        let held = Arc::new(wallet::Held::default());
        held.fail_next.store(2, Ordering::SeqCst);
        let running = start_wallet(verifier_trusting(&app).await, held, None).await;
        connect_reference(&app, &running).await;
        let person = person_with_resume(&app, &smtp).await;
        share_to(&person, "refwallet").await;

        assert_eq!(deliver(&app).await, 1);
        let waiting = person.get("/resume").await;
        assert!(
            waiting.has("Waiting to go out")
                && waiting.has("the wallet answered 500: the wallet is briefly unavailable"),
            "{}",
            waiting.html
        );
        assert_eq!(deliver(&app).await, 0, "not again before its retry is due");
        // The first retry comes within 30 s, the next a minute later.
        app.app.clock.advance(Duration::from_secs(31));
        assert_eq!(deliver(&app).await, 1);
        assert_eq!(running.held.credentials().len(), 0);
        app.app.clock.advance(Duration::from_secs(31));
        assert_eq!(deliver(&app).await, 0);
        app.app.clock.advance(Duration::from_secs(31));
        assert_eq!(deliver(&app).await, 1);
        assert_eq!(running.held.credentials().len(), 1);
        assert_eq!(running.held.pushes_received.load(Ordering::SeqCst), 3);
        assert!(person.get("/resume").await.has("Received by the wallet on"));
    }
);

with_wallets_on_both_engines!(
    a_wallet_killed_mid_push_gets_it_again_on_restart_and_keeps_it_once,
    |app: TestApp, smtp: SmtpServer| async move {
        let verifier = verifier_trusting(&app).await;
        let held = Arc::new(wallet::Held::default());
        held.crash_after_keeping.store(true, Ordering::SeqCst);
        let running = start_wallet(Arc::clone(&verifier), Arc::clone(&held), None).await;
        connect_reference(&app, &running).await;
        let person = person_with_resume(&app, &smtp).await;
        share_to(&person, "refwallet").await;

        // The wallet keeps the credential and dies before it answers.
        assert_eq!(deliver(&app).await, 1);
        let address = running.address;
        running.kill().await;
        assert_eq!(held.credentials().len(), 1);
        let waiting = person.get("/resume").await;
        assert!(
            waiting.has("Waiting to go out") && waiting.has("the wallet could not be reached"),
            "{}",
            waiting.html
        );

        // Restarted on the same address, it gets the same credential again and keeps one.
        let restarted = start_wallet(verifier, Arc::clone(&held), Some(address)).await;
        app.app.clock.advance(Duration::from_secs(31));
        assert_eq!(deliver(&app).await, 1);
        let kept = restarted.held.credentials();
        assert_eq!(kept.len(), 1, "delivered exactly once");
        assert_eq!(kept.values().next().expect("one").received, 2);
        assert!(person.get("/resume").await.has("Received by the wallet on"));
        app.app.clock.advance(Duration::from_secs(3600));
        assert_eq!(deliver(&app).await, 0, "nothing more goes out");
    }
);

with_wallets_on_both_engines!(
    a_wallet_that_refuses_is_not_retried_and_the_person_sees_its_reason,
    |app: TestApp, smtp: SmtpServer| async move {
        // This wallet cannot resolve the deployment's did:web: what it receives does not
        // verify there, and it answers 400 with its reason.
        let running = start_wallet(Arc::new(Verifier::offline()), Arc::default(), None).await;
        connect_reference(&app, &running).await;
        let person = person_with_resume(&app, &smtp).await;
        share_to(&person, "refwallet").await;
        assert_eq!(deliver(&app).await, 1);
        let failed = person.get("/resume").await;
        assert!(
            failed.has("Failed")
                && failed.has("the wallet answered 400: the credential does not verify"),
            "{}",
            failed.html
        );
        app.app.clock.advance(Duration::from_secs(3600));
        assert_eq!(deliver(&app).await, 0, "a 4xx is not retried");

        // Client credentials the wallet does not know: its token endpoint refuses them.
        let other = start_wallet(verifier_trusting(&app).await, Arc::default(), None).await;
        app.partner("otherwallet").await;
        pushes::set(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "otherwallet",
            WalletChange::Set {
                push_url: other.url("/credentials"),
                token_url: other.url("/token"),
                client_id: CLIENT_ID.into(),
                client_secret: "not-the-secret".into(),
                landing_url: other.url("/landing"),
            },
        )
        .await
        .expect("set");
        share_to(&person, "otherwallet").await;
        assert_eq!(deliver(&app).await, 1);
        let failed = person.get("/resume").await;
        assert!(
            failed.has("token endpoint answered 401: invalid_client"),
            "{}",
            failed.html
        );
        assert_eq!(other.held.pushes_received.load(Ordering::SeqCst), 0);
    }
);

/// A server on this machine that answers every request with `answer` (or, when `answer`
/// is empty, never answers), after reading the request head.
async fn hostile(answer: &'static str, then_endless_body: bool) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut buffer).await;
                if answer.is_empty() {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    return;
                }
                if socket.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
                if then_endless_body {
                    let chunk = vec![b'x'; 64 * 1024];
                    // A gigabyte, unless the reader goes away first.
                    for _ in 0..16 * 1024 {
                        if socket.write_all(&chunk).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    address
}

with_wallets_on_both_engines!(
    slow_redirecting_and_endless_wallets_each_end_an_attempt_with_a_reason,
    |app: TestApp, smtp: SmtpServer| async move {
        let tokens = start_wallet(verifier_trusting(&app).await, Arc::default(), None).await;
        let person = person_with_resume(&app, &smtp).await;
        let cases = [
            // Slower than the wallet timeout: retried.
            ("slow", hostile("", false).await, "did not answer in time", true),
            // A redirect (here to the cloud metadata address) is not followed.
            (
                "redirecting",
                hostile(
                    "HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data\r\nContent-Length: 0\r\n\r\n",
                    false,
                )
                .await,
                "a redirect, which is not followed",
                false,
            ),
            // A 500 with a gigabyte body: its first 16 KiB are read, and it is retried.
            (
                "endless",
                hostile(
                    "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 1073741824\r\n\r\n",
                    true,
                )
                .await,
                "the wallet answered 500: xxxx",
                true,
            ),
        ];
        for (slug, address, reason, retried) in cases {
            connect(
                &app,
                slug,
                tokens.url("/token"),
                format!("http://{address}/credentials"),
                tokens.url("/landing"),
            )
            .await;
            share_to(&person, slug).await;
            assert_eq!(deliver(&app).await, 1, "{slug}");
            let resume = person.get("/resume").await;
            assert!(resume.has(reason), "{slug}: {}", resume.html);
            let waiting = resume.has("Waiting to go out");
            assert_eq!(waiting, retried, "{slug}: {}", resume.html);
            // End it, so the next case's push is the only one due.
            let id = app
                .app
                .store
                .read(|conn| {
                    conn.query_one(
                        "SELECT id FROM wallet_pushes ORDER BY created_at DESC, id DESC LIMIT 1",
                        &[],
                    )?
                    .text(0)
                })
                .await
                .expect("id");
            let now = app.app.clock.now_ms();
            app.app
                .store
                .write(move |conn| {
                    credentialconnect::store::wallets::mark_failed(
                        conn,
                        &id,
                        "ended by the test",
                        now,
                    )
                })
                .await
                .expect("end");
        }
    }
);

with_wallets_on_both_engines!(
    sharing_to_a_wallet_needs_a_signed_in_person_a_fresh_form_and_an_offered_wallet,
    |app: TestApp, smtp: SmtpServer| async move {
        let running = start_wallet(verifier_trusting(&app).await, Arc::default(), None).await;
        connect_reference(&app, &running).await;
        let person = person_with_resume(&app, &smtp).await;
        let queued = || async {
            app.app
                .store
                .read(|conn| {
                    conn.query_one("SELECT COUNT(*) FROM wallet_pushes", &[])?
                        .int(0)
                })
                .await
                .expect("count")
        };
        // No CSRF token: refused, nothing queued.
        let forged = person.post("/resume/wallet/refwallet", &[]).await;
        assert_eq!(forged.status, 403, "{}", forged.html);
        // Signed out: sent to log in, nothing queued.
        let stranger = Person::new(&app);
        let home = stranger.get("/").await;
        let signed_out = stranger
            .post(
                "/resume/wallet/refwallet",
                &[("csrf", home.csrf().as_str())],
            )
            .await;
        assert!(signed_out.url.contains("/login"), "{}", signed_out.url);
        // A partner that is not a wallet, and a disabled wallet.
        assert_eq!(share_to(&person, "instx").await.status, 404);
        credentialconnect::services::partners::disable(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "refwallet",
        )
        .await
        .expect("disable");
        let page = person.get("/resume").await;
        assert!(!page.has("Send to Partner refwallet"), "{}", page.html);
        assert_eq!(share_to(&person, "refwallet").await.status, 404);
        assert_eq!(queued().await, 0);
    }
);

with_wallets_on_both_engines!(
    a_person_has_at_most_three_pushes_waiting,
    |app: TestApp, smtp: SmtpServer| async move {
        // A wallet that never answers keeps every push waiting.
        let tokens = start_wallet(verifier_trusting(&app).await, Arc::default(), None).await;
        let silent = hostile("", false).await;
        connect(
            &app,
            "silent",
            tokens.url("/token"),
            format!("http://{silent}/credentials"),
            tokens.url("/landing"),
        )
        .await;
        let person = person_with_resume(&app, &smtp).await;
        for _ in 0..3 {
            assert_eq!(
                share_to(&person, "silent").await.url,
                tokens.url("/landing")
            );
        }
        let fourth = share_to(&person, "silent").await;
        assert_eq!(fourth.status, 429, "{}", fourth.html);
        assert!(fourth.has("Your earlier pushes are still waiting"));
    }
);

/// Without the loopback allowance (as deployed), a wallet URL naming a private or loopback
/// address is refused when it is set (an IP literal) or when it is called (a name): nothing
/// is sent, and the person is not told what the name resolved to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallets_on_private_addresses_are_never_called() {
    let (app, smtp) = TestApp::spawn_with_mail_and(Engine::Sqlite, |_| {}).await;
    let _database = app.database_guard();
    app.partner("private").await;
    for (push_url, refusal) in [
        ("http://wallet.example/credentials", "https://"),
        ("https://10.0.0.7/credentials", "private"),
        ("https://169.254.169.254/credentials", "link-local"),
        ("https://[::1]/credentials", "loopback"),
    ] {
        let error = pushes::set(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "private",
            WalletChange::Set {
                push_url: push_url.into(),
                token_url: "https://wallet.example/token".into(),
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                landing_url: "https://wallet.example/landing".into(),
            },
        )
        .await
        .expect_err(push_url)
        .to_string();
        assert!(error.contains(refusal), "{push_url}: {error}");
    }
    // A name that resolves to loopback passes the check of the URL and is refused when
    // called: the token request never leaves.
    pushes::set(
        &app.app,
        &credentialconnect::domain::audit::Actor::operator(),
        "private",
        WalletChange::Set {
            push_url: "https://localhost:9/credentials".into(),
            token_url: "https://localhost:9/token".into(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            landing_url: "https://wallet.example/landing".into(),
        },
    )
    .await
    .expect("a name is checked when called");
    let person = person_with_resume(&app, &smtp).await;
    // The landing page is on the internet: a browser that stays here sees where it is sent.
    let stays = Person::staying(&app);
    stays.log_in("jsmith@institutionx.edu", PASSWORD).await;
    let resume = stays.get("/resume").await;
    let sent = stays
        .client
        .post(app.url("/resume/wallet/private"))
        .form(&[("csrf", resume.csrf().as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(sent.status(), 303);
    assert_eq!(sent.headers()["location"], "https://wallet.example/landing");
    assert_eq!(deliver(&app).await, 1);
    let resume = person.get("/resume").await;
    let pushes = pushes_listed(&resume);
    assert!(
        pushes.contains("Failed") && pushes.contains("is not at a public address"),
        "{pushes}"
    );
    assert!(!pushes.contains("127.0.0.1"), "{pushes}");
}

/// The list of pushes on the resume page.
fn pushes_listed(resume: &common::person::Page) -> &str {
    let start = resume
        .html
        .find(r#"<ul class="pushes">"#)
        .expect("pushes listed");
    let end = resume.html[start..].find("</ul>").expect("the list ends") + start;
    &resume.html[start..end]
}

/// The wallet's client secret is stored sealed: neither the database nor `partner list`
/// holds it in clear, and a sealed value moved to another partner does not open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallets_client_secret_is_stored_sealed() {
    let (app, smtp) = spawn(Engine::Sqlite).await;
    let _database = app.database_guard();
    let running = start_wallet(verifier_trusting(&app).await, Arc::default(), None).await;
    connect_reference(&app, &running).await;
    let snapshot = app.app.store.snapshot().await.expect("snapshot").join("\n");
    assert!(snapshot.contains(&running.url("/token")));
    assert!(!snapshot.contains(CLIENT_SECRET), "the secret is sealed");
    app.partner("thief").await;
    let stolen = app
        .app
        .store
        .write(|conn| {
            conn.execute(
                "INSERT INTO partner_wallets (partner_id, push_url, token_url, client_id, client_secret_sealed, landing_url, updated_at)
                 SELECT (SELECT id FROM partners WHERE slug = 'thief'), push_url, token_url, client_id, client_secret_sealed, landing_url, updated_at
                 FROM partner_wallets",
                &[],
            )
        })
        .await
        .expect("copy");
    assert_eq!(stolen, 1);
    let person = person_with_resume(&app, &smtp).await;
    share_to(&person, "thief").await;
    assert_eq!(deliver(&app).await, 1);
    let resume = person.get("/resume").await;
    assert!(resume.has("client secret"), "{}", resume.html);
    assert_eq!(running.held.tokens_issued.load(Ordering::SeqCst), 0);
}

with_wallets_on_both_engines!(
    ended_pushes_are_purged_after_the_mail_retention_and_waiting_ones_stay,
    |app: TestApp, smtp: SmtpServer| async move {
        let running = start_wallet(verifier_trusting(&app).await, Arc::default(), None).await;
        connect_reference(&app, &running).await;
        let person = person_with_resume(&app, &smtp).await;
        share_to(&person, "refwallet").await;
        assert_eq!(deliver(&app).await, 1);
        running.held.fail_next.store(1, Ordering::SeqCst);
        share_to(&person, "refwallet").await;
        assert_eq!(deliver(&app).await, 1, "the second waits for its retry");
        let states = || async {
            app.app
                .store
                .read(|conn| {
                    conn.query("SELECT state FROM wallet_pushes ORDER BY state", &[])?
                        .iter()
                        .map(|row| row.text(0))
                        .collect::<Result<Vec<_>, _>>()
                })
                .await
                .expect("states")
        };
        let purge = || async {
            credentialconnect::services::housekeeping::purge_if_due(&app.app, "test")
                .await
                .expect("purge")
                .expect("due")
                .wallet_pushes
        };
        assert_eq!(purge().await, 0);
        // Past the retention of delivered mail (30 days), without a worker to retry.
        app.app.clock.advance(Duration::from_secs(31 * 24 * 3600));
        assert_eq!(purge().await, 1);
        assert_eq!(states().await, ["queued"]);
    }
);
