//! A 200 means the package is stored durably: uploads acknowledged before a `kill -9` are
//! all there when the server comes back, on both engines.

mod common;

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_credentialconnect"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn start(database: &str, port: u16) -> Child {
    let child = binary()
        .arg("serve")
        .env("CC_DATABASE_URL", database)
        .env("CC_VERIFY_NETWORK", "0")
        .env("CC_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let mut child = child;
    let client = common::client();
    for _ in 0..200 {
        let health = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await;
        if health.is_ok_and(|r| r.status() == 200) {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not become ready");
}

async fn acknowledged_uploads_survive_kill_9(database: String) {
    let output = binary()
        .args([
            "partner", "create", "--name", "Durable", "--slug", "durable",
        ])
        .env("CC_DATABASE_URL", &database)
        .output()
        .expect("create");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let partner: Value = serde_json::from_slice(&output.stdout).expect("json");
    let port = free_port();
    let mut server = start(&database, port).await;
    let base = format!("http://127.0.0.1:{port}");
    let client = common::client();
    let token: Value = client
        .post(format!("{base}/api/v1/token"))
        .basic_auth(
            partner["client_id"].as_str().expect("id"),
            partner["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = token["access_token"].as_str().expect("token").to_string();
    let course = common::fixture_json("guide/three-courses.json")["credentials"][0].clone();

    // Many writers at once; the server is killed while they are still going.
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for writer in 0..16 {
        let (client, base, token, course) =
            (client.clone(), base.clone(), token.clone(), course.clone());
        let (acknowledged, done) = (acknowledged.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                let id = format!("w{writer}-{n}");
                let mut credential = course.clone();
                credential["id"] = json!(id);
                let sent = client
                    .post(format!("{base}/api/v1/credentials"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(json!({"credentials": [credential]}).to_string())
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == 200 => {
                        acknowledged.lock().expect("lock").push(id);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => break,
                }
            }
        }));
    }
    while done.load(Ordering::Relaxed) < 200 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill().expect("kill -9");
    server.wait().expect("reaped");
    for task in tasks {
        task.await.expect("writer");
    }

    let mut server = start(&database, port).await;
    let token: Value = client
        .post(format!("{base}/api/v1/token"))
        .basic_auth(
            partner["client_id"].as_str().expect("id"),
            partner["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = token["access_token"].as_str().expect("token").to_string();
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(acknowledged.len() >= 200);
    let listing = client
        .get(format!("{base}/api/v1/credentials?limit=1"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list");
    let total: usize = listing.headers()["x-total-count"]
        .to_str()
        .expect("count")
        .parse()
        .expect("number");
    assert!(
        total >= acknowledged.len(),
        "{total} stored < {} acknowledged",
        acknowledged.len()
    );
    for id in &acknowledged {
        let response = client
            .get(format!("{base}/api/v1/credentials/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 200, "acknowledged upload {id} was lost");
    }
    server.kill().expect("stop");
    server.wait().expect("reaped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_uploads_survive_kill_9_on_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    acknowledged_uploads_survive_kill_9(format!(
        "sqlite://{}",
        dir.path().join("durable.db").display()
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_uploads_survive_kill_9_on_postgres() {
    let schema = format!("t_{}", credentialconnect::store::new_id());
    let url = common::postgres_url();
    let create = format!("CREATE SCHEMA {schema}");
    let admin = url.clone();
    std::thread::spawn(move || {
        postgres::Client::connect(&admin, postgres::NoTls)
            .and_then(|mut c| c.batch_execute(&create))
    })
    .join()
    .expect("thread")
    .expect("PostgreSQL is needed (CC_TEST_POSTGRES_URL)");
    let separator = if url.contains('?') { '&' } else { '?' };
    acknowledged_uploads_survive_kill_9(format!(
        "{url}{separator}options=-c%20search_path%3D{schema}"
    ))
    .await;
    let drop = format!("DROP SCHEMA {schema} CASCADE");
    let _ = std::thread::spawn(move || {
        postgres::Client::connect(&url, postgres::NoTls).and_then(|mut c| c.batch_execute(&drop))
    })
    .join();
}
