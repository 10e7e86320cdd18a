//! Several `credentialconnect serve` processes on one PostgreSQL database, sharing nothing
//! but it: a token or a session from one works on the other; people racing to claim the
//! same assertion through both leave exactly one owner; each email goes out once.
//! `CC_RACE_ROUNDS` (default 3) sets how many claim races run; the long runs use 200.

mod common;

use common::process::{Served, create_partner, free_port, token};
use common::smtp::SmtpServer;
use credentialconnect::domain::account::Profile;
use credentialconnect::secrets;
use credentialconnect::services::App;
use credentialconnect::store::users;
use serde_json::{Value, json};
use std::time::Duration;

async fn start(database: &str, smtp: &str) -> Served {
    Served::start(database, free_port(), &[("CC_SMTP_URL", smtp)], None).await
}

/// A fresh schema on the test server, dropped at the end.
struct Schema {
    name: String,
    url: String,
}

impl Schema {
    fn new() -> Schema {
        let name = format!("t_{}", credentialconnect::store::new_id());
        let admin = common::postgres_url();
        let create = format!("CREATE SCHEMA {name}");
        std::thread::spawn(move || {
            postgres::Client::connect(&admin, postgres::NoTls)
                .and_then(|mut c| c.batch_execute(&create))
        })
        .join()
        .expect("thread")
        .expect("PostgreSQL is needed (CC_TEST_POSTGRES_URL)");
        let base = common::postgres_url();
        let separator = if base.contains('?') { '&' } else { '?' };
        Schema {
            url: format!("{base}{separator}options=-c%20search_path%3D{name}"),
            name,
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (admin, drop) = (
            common::postgres_url(),
            format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
        let _ = std::thread::spawn(move || {
            postgres::Client::connect(&admin, postgres::NoTls)
                .and_then(|mut c| c.batch_execute(&drop))
        })
        .join();
    }
}

async fn upload(base: &str, token: &str, body: String) -> Value {
    common::client()
        .post(format!("{base}/api/v1/credentials"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgresql_share_everything_that_lasts() {
    let schema = Schema::new();
    let smtp = SmtpServer::start().await;
    let partner = create_partner(&schema.url, "instx");
    let (a, b) = (
        start(&schema.url, &smtp.url()).await,
        start(&schema.url, &smtp.url()).await,
    );

    // A token from one instance works on the other.
    let token = token(&a.base, &partner).await;
    let receipt = upload(
        &b.base,
        &token,
        String::from_utf8(common::fixture("guide/three-courses.json")).expect("utf-8"),
    )
    .await;
    assert_eq!(receipt["status"], "success", "{receipt}");

    // Copies of one new package sent through both at once: each credential is created once.
    let course = common::fixture_json("guide/three-courses.json")["credentials"][0].clone();
    let package = |name: &str| {
        let credentials: Vec<Value> = (0..20)
            .map(|i| {
                let mut credential = course.clone();
                credential["id"] = format!("both-{i}").into();
                credential["name"] = name.into();
                credential
            })
            .collect();
        serde_json::json!({ "credentials": credentials }).to_string()
    };
    let copies = (0..8).map(|i| {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        upload(base, &token, package("Calculus"))
    });
    let mut created = 0;
    for receipt in futures_util::future::join_all(copies).await {
        for credential in receipt["credentials"].as_array().expect("{receipt}") {
            match credential["result"].as_str() {
                Some("created") => created += 1,
                Some("unchanged") => {}
                other => panic!("a copy's credential was {other:?}: {receipt}"),
            }
        }
    }
    assert_eq!(created, 20, "each credential created once, by one copy");
    // Changed through one instance, the package sent again as it was through the other (which
    // stored it that way last): the other's memory of it is stale, and the database decides.
    let changed = upload(&b.base, &token, package("Calculus II")).await;
    assert_eq!(changed["credentials"][0]["result"], "updated", "{changed}");
    let again = upload(&a.base, &token, package("Calculus")).await;
    let results: Vec<&str> = again["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .filter_map(|c| c["result"].as_str())
        .collect();
    assert_eq!(results, ["updated"; 20], "{again}");

    // The test reaches the same database to make people and sessions without hashing passwords.
    let mut config = credentialconnect::config::Config::new(
        credentialconnect::store::Location::Postgres(schema.url.clone()),
    );
    config.fetch.network = false;
    // The servers' key, not the default file in the working directory.
    config.signing_key_file = common::process::signing_key_file(&schema.url);
    let app = App::open(config).await.expect("open");

    // A session from one instance works on the other.
    let (cookie, _) = person(&app, "session@example.com").await;
    for instance in [&a, &b] {
        let resume = common::client()
            .get(format!("{}/resume", instance.base))
            .header("cookie", format!("cc_session={cookie}"))
            .send()
            .await
            .expect("resume");
        assert_eq!(resume.status(), 200);
        assert!(
            resume.url().path().ends_with("/resume"),
            "signed in on {}",
            instance.base
        );
    }

    // Each email goes out once, whichever instance's worker picks it up.
    for i in 0..6 {
        let instance = if i % 2 == 0 { &a } else { &b };
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let page = client
            .get(format!("{}/signup", instance.base))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        let csrf = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .expect("csrf")
            .split('"')
            .next()
            .expect("csrf")
            .to_string();
        let email = format!("mail{i}@example.com");
        client
            .post(format!("{}/signup", instance.base))
            .form(&[
                ("csrf", csrf.as_str()),
                ("given_name", "A"),
                ("family_name", "B"),
                ("email", &email),
                ("password", "correct horse battery"),
            ])
            .send()
            .await
            .expect("sign up");
    }
    for _ in 0..200 {
        if smtp.messages().len() >= 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Both workers poll every 2 s: a duplicate would have arrived by now.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut delivered: Vec<String> = smtp.messages().into_iter().flat_map(|m| m.to).collect();
    delivered.sort();
    let expected: Vec<String> = (0..6).map(|i| format!("mail{i}@example.com")).collect();
    assert_eq!(delivered, expected, "each message exactly once");

    // People racing to claim the same assertion through both instances: one owner.
    let rounds: usize = std::env::var("CC_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let course = common::fixture_json("guide/three-courses.json")["credentials"][0].clone();
    for round in 0..rounds {
        let mut credential = course.clone();
        credential["id"] = json!(format!("contested-{round}"));
        let mut claimants = Vec::new();
        for n in 0..50 {
            // Each tester got the same award in a package of their own.
            let package = json!({"recipient": {"id": format!("tester-{round}-{n}")}, "credentials": [credential.clone()]});
            let receipt = upload(&a.base, &token, package.to_string()).await;
            let link = receipt["redirectUrl"]
                .as_str()
                .expect("link")
                .replace(&a.base, "");
            let (cookie, csrf) = person(&app, &format!("racer-{round}-{n}@example.com")).await;
            claimants.push((link, cookie, csrf));
        }
        let credential_id = app
            .store
            .read({
                let key = format!("contested-{round}");
                move |conn| {
                    conn.query_one(
                        "SELECT id FROM credentials WHERE assertion_key = $1",
                        credentialconnect::params![key],
                    )?
                    .text(0)
                }
            })
            .await
            .expect("credential");
        let mut racers = Vec::new();
        for (n, (link, cookie, csrf)) in claimants.into_iter().enumerate() {
            let base = if n % 2 == 0 {
                a.base.clone()
            } else {
                b.base.clone()
            };
            let credential_id = credential_id.clone();
            racers.push(tokio::spawn(async move {
                common::client()
                    .post(format!("{base}{link}"))
                    .header("cookie", format!("cc_session={cookie}"))
                    .form(&[
                        ("csrf", csrf.as_str()),
                        ("credential", credential_id.as_str()),
                    ])
                    .send()
                    .await
                    .expect("claim")
                    .status()
                    .as_u16()
            }));
        }
        for racer in racers {
            let status = racer.await.expect("racer");
            assert!(status < 500, "a claim failed with {status}");
        }
        let owners = app
            .store
            .read({
                let id = credential_id.clone();
                move |conn| {
                    let owner = conn
                        .query_one(
                            "SELECT owner_user_id FROM credentials WHERE id = $1",
                            credentialconnect::params![id.clone()],
                        )?
                        .opt_text(0)?;
                    let entries = conn
                        .query_one(
                            "SELECT COUNT(*) FROM resume_entries WHERE credential_id = $1",
                            credentialconnect::params![id],
                        )?
                        .int(0)?;
                    Ok((owner, entries))
                }
            })
            .await
            .expect("owners");
        assert!(owners.0.is_some(), "round {round}: someone owns it");
        assert_eq!(owners.1, 1, "round {round}: exactly one resume has it");
    }
}

/// A confirmed person with a live session: (session cookie, CSRF token).
async fn person(app: &App, email: &str) -> (String, String) {
    let email = email.to_string();
    let cookie = secrets::new_secret("");
    let csrf = secrets::new_secret("");
    let (digest, csrf_stored) = (secrets::digest(&cookie), csrf.clone());
    let now = app.clock.now_ms();
    app.store
        .write(move |conn| {
            let user = users::insert(conn, &email, "not-a-usable-hash", &Profile::default(), now)?;
            users::mark_verified(conn, &user, now)?;
            users::insert_session(conn, &digest, &user, &csrf_stored, now, now + 3_600_000)
        })
        .await
        .expect("person");
    (cookie, csrf)
}

/// Answers of the token endpoint to `n` requests for `partner` at `base`.
async fn token_statuses(base: &str, partner: &Value, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        let response = common::client()
            .post(format!("{base}/api/v1/token"))
            .basic_auth(
                partner["client_id"].as_str().expect("id"),
                partner["client_secret"].as_str(),
            )
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("token");
        statuses.push(response.status().as_u16());
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgresql_enforce_one_rate_limit_between_them() {
    let schema = Schema::new();
    let smtp = SmtpServer::start().await;
    let partner = create_partner(&schema.url, "instx");
    let smtp_url = smtp.url();
    let vars = [
        ("CC_TOKEN_RATE_PER_CLIENT_PER_MINUTE", "10"),
        ("CC_SMTP_URL", smtp_url.as_str()),
    ];
    let (a, b) = (
        Served::start(&schema.url, free_port(), &vars, None).await,
        Served::start(&schema.url, free_port(), &vars, None).await,
    );
    // The limit counts per wall-clock minute: start in a fresh one, far from its end.
    let into_minute = credentialconnect::clock::system_now_ms() % 60_000;
    if into_minute > 40_000 {
        tokio::time::sleep(Duration::from_millis((60_000 - into_minute + 200) as u64)).await;
    }
    let first = token_statuses(&a.base, &partner, 6).await;
    assert_eq!(first, [200; 6]);
    // A few exchanges later, the other instance knows those six.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let second = token_statuses(&b.base, &partner, 6).await;
    assert_eq!(
        second,
        [200, 200, 200, 200, 429, 429],
        "ten in the minute across both instances, not ten on each"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(token_statuses(&a.base, &partner, 1).await, [429]);
}
