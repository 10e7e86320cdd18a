//! `credentialconnect demo` as a newcomer runs it: a process on a local SQLite file that
//! prints a partner's credentials and writes its emails to the terminal.

mod common;

use common::person::{PASSWORD, Page};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The demo process, killed when dropped.
struct Demo(std::process::Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for(what: &str, mut found: impl FnMut() -> Option<String>) -> String {
    for _ in 0..400 {
        if let Some(value) = found() {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the demo never showed {what}");
}

fn value_of(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

async fn page(response: reqwest::Response) -> Page {
    Page {
        status: response.status().as_u16(),
        url: response.url().to_string(),
        html: response.text().await.expect("html"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_writes_the_confirmation_link_to_its_terminal() {
    let dir = tempfile::tempdir().expect("dir");
    let output = dir.path().join("terminal.txt");
    let terminal = std::fs::File::create(&output).expect("terminal file");
    let port = common::process::free_port();
    let base = format!("http://127.0.0.1:{port}");
    // As a newcomer runs it: no mail settings, the default log level.
    let _demo = Demo(
        Command::new(env!("CARGO_BIN_EXE_credentialconnect"))
            .args(["demo", "--database"])
            .arg(dir.path().join("demo.db"))
            .current_dir(dir.path())
            .env_remove("CC_SMTP_URL")
            .env_remove("CC_DATABASE_URL")
            .env_remove("RUST_LOG")
            .env("CC_BIND", format!("127.0.0.1:{port}"))
            .env("CC_VERIFY_NETWORK", "0")
            .stdout(Stdio::from(terminal.try_clone().expect("clone")))
            .stderr(Stdio::from(terminal))
            .spawn()
            .expect("start the demo"),
    );
    let read = || std::fs::read_to_string(&output).unwrap_or_default();
    let client_id = wait_for("its client id", || {
        let text = read();
        let line = text.lines().find(|l| l.contains("client_id:"))?;
        Some(line.split_whitespace().last()?.to_string())
    })
    .await;
    let client_secret = wait_for("its client secret", || {
        let text = read();
        let line = text.lines().find(|l| l.contains("client_secret:"))?;
        Some(line.split_whitespace().last()?.to_string())
    })
    .await;
    let client = common::client();
    for _ in 0..200 {
        let health = client.get(format!("{base}/healthz")).send().await;
        if health.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    // The partner uploads what the demo's instructions say; the person follows the link.
    let token: serde_json::Value = client
        .post(format!("{base}/api/v1/token"))
        .basic_auth(&client_id, Some(&client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = token["access_token"].as_str().expect("a token");
    let uploaded: serde_json::Value = client
        .post(format!("{base}/api/v1/credentials"))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body(common::fixture("guide/three-courses.json"))
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    let claim = uploaded["redirectUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("upload refused: {uploaded}"));

    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let form = page(browser.get(claim).send().await.expect("claim page")).await;
    assert_eq!(form.status, 200, "{}", form.html);
    let mut fields = vec![
        ("csrf", form.csrf()),
        ("given_name", "Jamie".to_string()),
        ("family_name", "Smith".to_string()),
        ("email", "newcomer@example.org".to_string()),
        ("password", PASSWORD.to_string()),
    ];
    if let Some(claim) = value_of(&form.html, "claim") {
        fields.push(("claim", claim));
    }
    let sent = page(
        browser
            .post(format!("{base}/signup"))
            .form(&fields)
            .send()
            .await
            .expect("sign up"),
    )
    .await;
    assert!(sent.has("Check your email"), "{}", sent.html);

    let prefix = format!("{base}/verify/");
    let link = wait_for("the confirmation link", || {
        let text = read();
        let at = text.find(&prefix)?;
        let link: String = text[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "/:.-_".contains(*c))
            .collect();
        Some(link)
    })
    .await;

    // The link is the real one: it confirms the account.
    let confirm = page(browser.get(&link).send().await.expect("confirmation page")).await;
    assert_eq!(confirm.status, 200, "{}", confirm.html);
    let mut form = vec![("csrf", confirm.csrf()), ("password", PASSWORD.to_string())];
    if let Some(switch_from) = value_of(&confirm.html, "switch_from") {
        form.push(("switch_from", switch_from));
    }
    let confirmed = page(
        browser
            .post(&link)
            .form(&form)
            .send()
            .await
            .expect("confirm"),
    )
    .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.html);
    assert!(
        confirmed.url.contains("/inbox/") && confirmed.has("Your email is confirmed"),
        "the confirmed person sees the demo package: {}",
        confirmed.url
    );
}
