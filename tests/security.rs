//! Security checks as tests: no secret reaches a log or is stored in plain text, and every
//! page carries the security headers.

mod common;

use common::person::Person;
use common::process::{Served, free_port};
use common::smtp::SmtpServer;
use common::{TestApp, fixture};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

/// Every secret a session of use produces, and where to look for them.
struct Secrets {
    client_secret: String,
    access_token: String,
    claim_token: String,
    session_cookie: String,
    verify_link_token: String,
    share_token: String,
    activation_link_token: String,
    device_token: String,
}

/// Runs a whole story (partner, token, upload, a search on the activation page and its
/// one-time link, sign-up, confirmation, claim, sharing) against a real server process with the most verbose logging, and returns its secrets and its log.
async fn story(database: &str) -> (Secrets, String) {
    let smtp = SmtpServer::start().await;
    let output = Command::new(env!("CARGO_BIN_EXE_credentialconnect"))
        .args([
            "partner",
            "create",
            "--name",
            "Institution X",
            "--slug",
            "instx",
        ])
        .env("CC_DATABASE_URL", database)
        .env(
            "CC_SIGNING_KEY_FILE",
            common::process::signing_key_file(database),
        )
        .env("RUST_LOG", "trace")
        .output()
        .expect("create");
    assert!(output.status.success());
    let mut log = String::from_utf8_lossy(&output.stderr).into_owned();
    let partner: Value = serde_json::from_slice(&output.stdout).expect("json");
    let log_file = tempfile::NamedTempFile::new().expect("log file");
    let smtp_url = smtp.url();
    let mut server = Served::start(
        database,
        free_port(),
        &[("CC_SMTP_URL", smtp_url.as_str()), ("RUST_LOG", "trace")],
        Some(log_file.reopen().expect("log")),
    )
    .await;
    let base = server.base.clone();
    let client = common::client();
    let secret = partner["client_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let token: Value = client
        .post(format!("{base}/api/v1/token"))
        .basic_auth(partner["client_id"].as_str().expect("id"), Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let access_token = token["access_token"].as_str().expect("token").to_string();
    let receipt: Value = client
        .post(format!("{base}/api/v1/credentials"))
        .bearer_auth(&access_token)
        .header("content-type", "application/json")
        .body(searchable_package())
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    let claim_token = receipt["identifierToken"]
        .as_str()
        .expect("claim token")
        .to_string();
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let page = browser
        .get(format!("{base}/createmyresume/{claim_token}"))
        .send()
        .await
        .expect("claim page")
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
    let activation_link_token = search_the_activation_page(&browser, &base, &smtp).await;
    browser
        .post(format!("{base}/signup"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("given_name", "A"),
            ("family_name", "B"),
            ("email", "jsmith@institutionx.edu"),
            ("password", "correct horse battery"),
            ("claim", &claim_token),
        ])
        .send()
        .await
        .expect("sign up");
    let mut link = None;
    for _ in 0..200 {
        link = smtp
            .last_to("jsmith@institutionx.edu")
            .and_then(|m| m.link(&format!("{base}/verify/")));
        if link.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let link = link.expect("the worker delivered the confirmation email");
    // The link opens a page whose form confirms, with the password chosen at sign-up.
    let mail_reader = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let confirm_page = mail_reader
        .get(&link)
        .send()
        .await
        .expect("the link")
        .text()
        .await
        .expect("html");
    let csrf = value_after(&confirm_page, "name=\"csrf\" value=\"");
    let confirmed = mail_reader
        .post(&link)
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .expect("confirm");
    let session_cookie = confirmed
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .filter_map(|c| c.split(';').next())
        .find_map(|c| c.strip_prefix("cc_session="))
        .expect("a session cookie")
        .to_string();
    let device_token = confirmed
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .filter_map(|c| c.split(';').next())
        .find_map(|c| c.strip_prefix("cc_device="))
        .expect("a device cookie")
        .to_string();
    let resume = client
        .get(format!("{base}/resume"))
        .header("cookie", format!("cc_session={session_cookie}"))
        .send()
        .await
        .expect("resume");
    assert_eq!(resume.status(), 200, "the session works");
    let resume = resume.text().await.expect("html");
    let csrf = value_after(&resume, "name=\"csrf\" value=\"");
    let shared = client
        .post(format!("{base}/resume/share"))
        .header("cookie", format!("cc_session={session_cookie}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("share")
        .text()
        .await
        .expect("html");
    let share_link = value_after(&shared, "id=\"share-link\" type=\"text\" readonly value=\"");
    let employer = client.get(&share_link).send().await.expect("shared resume");
    assert_eq!(employer.status(), 200, "the share link works");
    let share_token = share_link.rsplit('/').next().expect("token").to_string();
    server.kill();
    log.push_str(&std::fs::read_to_string(log_file.path()).expect("log"));
    let verify_link_token = link.rsplit('/').next().expect("token").to_string();
    (
        Secrets {
            client_secret: secret,
            access_token,
            claim_token,
            session_cookie,
            verify_link_token,
            share_token,
            activation_link_token,
            device_token,
        },
        log,
    )
}

/// The guide's three courses for a recipient the activation page can find.
fn searchable_package() -> String {
    let mut package: Value =
        serde_json::from_slice(&fixture("guide/three-courses.json")).expect("json");
    package["recipient"]["givenName"] = "Jamie".into();
    package["recipient"]["familyName"] = "Smith".into();
    package.to_string()
}

/// Searches the activation page, waits for the one-time link and opens it; returns its token.
async fn search_the_activation_page(
    browser: &reqwest::Client,
    base: &str,
    smtp: &SmtpServer,
) -> String {
    let form = browser
        .get(format!("{base}/find/instx"))
        .send()
        .await
        .expect("activation page")
        .text()
        .await
        .expect("html");
    let csrf = value_after(&form, "name=\"csrf\" value=\"");
    let answer = browser
        .post(format!("{base}/find/instx"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("given_name", "Jamie"),
            ("family_name", "Smith"),
            ("email", "jsmith@institutionx.edu"),
        ])
        .send()
        .await
        .expect("search");
    assert_eq!(answer.status(), 200);
    let mut link = None;
    for _ in 0..200 {
        link = smtp
            .last_to("jsmith@institutionx.edu")
            .and_then(|m| m.link(&format!("{base}/createmyresume/f_")));
        if link.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let link = link.expect("the worker delivered the activation link");
    let claim_page = browser.get(&link).send().await.expect("the link");
    assert_eq!(claim_page.status(), 200, "the link opens the claim page");
    link.rsplit('/').next().expect("token").to_string()
}

/// The quoted value that follows `marker` in `html`.
fn value_after(html: &str, marker: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"))
        + marker.len();
    html[start..].split('"').next().expect("value").to_string()
}

fn assert_absent(haystack: &str, secrets: &Secrets, place: &str) {
    for (what, secret) in [
        ("client secret", &secrets.client_secret),
        ("access token", &secrets.access_token),
        ("claim token", &secrets.claim_token),
        ("session cookie", &secrets.session_cookie),
        ("email link token", &secrets.verify_link_token),
        ("share link token", &secrets.share_token),
        ("activation link token", &secrets.activation_link_token),
        ("device token", &secrets.device_token),
    ] {
        if let Some(at) = haystack.find(secret.as_str()) {
            let start = haystack[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = haystack[at..].find('\n').map_or(haystack.len(), |i| at + i);
            panic!("the {what} appears in {place}: {}", &haystack[start..end]);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_log_or_the_sqlite_files() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("secrets.db");
    let (secrets, log) = story(&format!("sqlite://{}", path.display())).await;
    assert!(log.contains("request"), "the log was captured");
    assert_absent(&log, &secrets, "the log");
    let mut files = String::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(bytes) = std::fs::read(format!("{}{suffix}", path.display())) {
            files.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    assert!(
        files.contains("Calculus w/Analytic Geometry I"),
        "the database files were read"
    );
    assert_absent(&files, &secrets, "the SQLite files");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_stored_in_plain_text_in_postgresql() {
    let schema = format!("t_{}", credentialconnect::store::new_id());
    let url = common::postgres_url();
    let (admin, create) = (url.clone(), format!("CREATE SCHEMA {schema}"));
    std::thread::spawn(move || {
        postgres::Client::connect(&admin, postgres::NoTls)
            .and_then(|mut c| c.batch_execute(&create))
    })
    .join()
    .expect("thread")
    .expect("PostgreSQL");
    let separator = if url.contains('?') { '&' } else { '?' };
    let database = format!("{url}{separator}options=-c%20search_path%3D{schema}");
    let (secrets, log) = story(&database).await;
    assert_absent(&log, &secrets, "the log");
    // Every column of every table, as text.
    let (admin, dump_schema) = (url.clone(), schema.clone());
    let dump = std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("connect");
        let tables = client
            .query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
                &[&dump_schema],
            )
            .expect("tables");
        let mut text = String::new();
        for row in tables {
            let table: String = row.get(0);
            for line in client
                .query(&format!("SELECT t::text FROM {dump_schema}.{table} t"), &[])
                .expect("rows")
            {
                text.push_str(&line.get::<_, String>(0));
                text.push('\n');
            }
        }
        client
            .batch_execute(&format!("DROP SCHEMA {dump_schema} CASCADE"))
            .expect("drop");
        text
    })
    .join()
    .expect("thread");
    assert!(
        dump.contains("Calculus w/Analytic Geometry I"),
        "the tables were read"
    );
    assert_absent(&dump, &secrets, "PostgreSQL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_and_api_answer_carries_the_security_headers() {
    let app = TestApp::spawn_with(common::Engine::Sqlite, |config| {
        config.public_url = "https://resume.example".into()
    })
    .await;
    let partner = app.partner("instx").await;
    let token = app.token(&partner, None).await;
    let receipt: Value = app
        .upload(&token, fixture("guide/three-courses.json"))
        .await
        .json()
        .await
        .expect("json");
    let claim = format!(
        "/createmyresume/{}",
        receipt["identifierToken"].as_str().expect("token")
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for path in [
        "/",
        "/signup",
        "/login",
        "/reset",
        "/find/instx",
        claim.as_str(),
        "/resume",
        "/inbox",
        "/import",
        "/nowhere",
        "/api/v1/docs",
        "/api/v1/openapi.json",
        "/api/v1/credentials",
        "/static/style.css",
        "/static/copy.js",
    ] {
        let response = client.get(app.url(path)).send().await.expect("send");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap_or("").to_string())
                .unwrap_or_default()
        };
        assert!(
            header("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}: CSP"
        );
        assert!(
            !header("content-security-policy").contains("unsafe-inline"),
            "{path}: no inline scripts"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(
            header("referrer-policy"),
            "no-referrer",
            "{path}: claim pages must not leak their token"
        );
        assert!(
            header("strict-transport-security").starts_with("max-age="),
            "{path}: HSTS over https"
        );
    }
    let person = Person::new(&app);
    let _ = person;
}
