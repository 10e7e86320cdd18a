//! A 200 means the package is stored durably: uploads acknowledged before a `kill -9` are
//! all there when the server comes back, on both engines.

mod common;

use common::process::{Served, create_partner, free_port, token};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Writers upload until the server dies under them; returns what was acknowledged:
/// (assertion id, claim token).
async fn upload_until_killed(
    server: &mut Served,
    base: &str,
    token: &str,
    round: usize,
    kill_after: usize,
) -> Vec<(String, String)> {
    let client = common::client();
    let course = common::fixture_json("guide/three-courses.json")["credentials"][0].clone();
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for writer in 0..16 {
        let (client, base, token, course) = (
            client.clone(),
            base.to_string(),
            token.to_string(),
            course.clone(),
        );
        let (acknowledged, done) = (acknowledged.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                let id = format!("r{round}-w{writer}-{n}");
                let mut credential = course.clone();
                credential["id"] = json!(id);
                let sent = client
                    .post(format!("{base}/api/v1/credentials"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(json!({"credentials": [credential]}).to_string())
                    .send()
                    .await;
                let Ok(response) = sent else { break };
                if response.status() != 200 {
                    break;
                }
                let Ok(receipt) = response.json::<Value>().await else {
                    break;
                };
                let claim = receipt["identifierToken"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                acknowledged.lock().expect("lock").push((id, claim));
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    while done.load(Ordering::Relaxed) < kill_after {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill();
    for task in tasks {
        task.await.expect("writer");
    }
    acknowledged.lock().expect("lock").clone()
}

/// `CC_CRASH_ROUNDS` rounds (default 1; the long run uses 20): upload from 16 writers, kill
/// the server at a different moment each round, restart, and check that every acknowledged
/// upload is there once and its claim link still opens.
async fn acknowledged_uploads_survive_kill_9(database: String) {
    let partner = create_partner(&database, "durable");
    let rounds: usize = std::env::var("CC_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = common::client();
    let mut all: Vec<(String, String)> = Vec::new();
    for round in 0..rounds {
        let mut server = Served::start(&database, port, &[], None).await;
        let token = token(&base, &partner).await;
        // A different moment each round: after 50 to 400 acknowledgements.
        let kill_after = 50 + (round * 137) % 350;
        all.extend(upload_until_killed(&mut server, &base, &token, round, kill_after).await);
    }
    let _server = Served::start(&database, port, &[], None).await;
    let token = token(&base, &partner).await;
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
        total >= all.len(),
        "{total} stored < {} acknowledged",
        all.len()
    );
    let mut ids: Vec<&str> = all.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "an upload was acknowledged twice");
    for (id, claim) in &all {
        let response = client
            .get(format!("{base}/api/v1/credentials/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 200, "acknowledged upload {id} was lost");
        let page = client
            .get(format!("{base}/createmyresume/{claim}"))
            .send()
            .await
            .expect("claim page");
        assert_eq!(
            page.status(),
            200,
            "the claim token of {id} no longer resolves"
        );
    }
    eprintln!(
        "{rounds} kill(s), {} acknowledged uploads, all present once with a working claim link",
        all.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_writers_on_sqlite_never_see_a_locked_database() {
    // All 200 reach the store at once: the admission limit (which would make most of them
    // wait their turn, and shed them past CC_MAX_QUEUE_MS on a slow machine) is off here.
    let app = common::TestApp::spawn_with(common::Engine::Sqlite, |config| {
        config.max_in_flight = 0;
    })
    .await;
    let partner = app.partner("busy").await;
    let token = app.token(&partner, None).await;
    let course = common::fixture_json("guide/three-courses.json")["credentials"][0].clone();
    let mut writers = Vec::new();
    for n in 0..200 {
        let mut credential = course.clone();
        credential["id"] = json!(format!("busy-{n}"));
        let request = app
            .client
            .post(app.url("/api/v1/credentials"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(json!({"credentials": [credential]}).to_string());
        writers.push(tokio::spawn(async move {
            let response = request.send().await.expect("send");
            (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            )
        }));
    }
    for writer in writers {
        let (status, body) = writer.await.expect("writer");
        assert_eq!(status, 200, "{body}");
        assert!(!body.contains("locked"), "{body}");
    }
    assert_eq!(app.submitted_count(&token).await, "200");
}

fn threads_of_this_process() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count)
}

/// A slow database must not turn every waiting request into a thread of its own: jobs wait
/// for a connection without one, so a burst leaves no crowd of threads (and their memory)
/// behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_slow_jobs_on_postgres_wait_without_a_thread_each() {
    let app = common::TestApp::spawn(common::Engine::Postgres).await;
    let before = threads_of_this_process();
    let jobs: Vec<_> = (0..200)
        .map(|_| {
            let store = app.app.store.clone();
            tokio::spawn(async move {
                store
                    .read(|conn| conn.query("SELECT pg_sleep(0.02)", &[]).map(|_| ()))
                    .await
            })
        })
        .collect();
    let mut most = before;
    while jobs.iter().any(|job| !job.is_finished()) {
        most = most.max(threads_of_this_process());
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    for job in jobs {
        job.await.expect("job").expect("query");
    }
    assert!(
        most <= before + 40,
        "{before} threads before the burst, {most} during it"
    );
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
