//! PostgreSQL stopped under load: requests fail fast with 503 and an Imsx body (none hangs
//! over 10 s), nothing acknowledged is lost, and the service recovers by itself within 10 s
//! of the database returning. It runs its own PostgreSQL cluster (initdb in a temporary
//! folder, as the `postgres` user), so the shared test server is never stopped.
//!
//! Not part of the quick suite: `cargo test --test outage -- --ignored` (scripts/reliability.sh).
//! `CC_OUTAGE_SECONDS` sets how long the database is down (default 30).

mod common;

use common::process::{Served, create_partner, free_port, token};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn pg_bin(name: &str) -> PathBuf {
    let versions = std::fs::read_dir("/usr/lib/postgresql").expect("PostgreSQL is installed");
    let mut found: Vec<PathBuf> = versions
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop().expect("a PostgreSQL bin directory")
}

fn as_postgres(program: &Path, args: &[&str]) {
    let status = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("runuser");
    assert!(status.success(), "{} {args:?} failed", program.display());
}

struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    fn create() -> Cluster {
        let dir = tempfile::tempdir().expect("dir");
        Command::new("chown")
            .args(["-R", "postgres", &dir.path().display().to_string()])
            .status()
            .expect("chown");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let data = dir.path().join("data");
        as_postgres(
            &pg_bin("initdb"),
            &[
                "-D",
                &data.display().to_string(),
                "-A",
                "trust",
                "-U",
                "postgres",
            ],
        );
        let cluster = Cluster { dir, port };
        cluster.start();
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        as_postgres(
            &pg_bin("pg_ctl"),
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    fn stop(&self) {
        as_postgres(
            &pg_bin("pg_ctl"),
            &["-D", &self.data(), "-m", "fast", "-w", "stop"],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(pg_bin("pg_ctl"))
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// One observed request: when it started (since the test began), how long it took, status.
#[derive(Clone, Copy)]
struct Observation {
    at: Duration,
    took: Duration,
    status: u16,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a long run with its own PostgreSQL cluster: scripts/reliability.sh"]
async fn postgresql_stopped_under_load_fails_fast_and_recovers() {
    if std::env::var("USER").is_ok_and(|u| u != "root") && !Path::new("/usr/sbin/runuser").exists()
    {
        panic!("this test starts its own PostgreSQL as the postgres user: run it as root");
    }
    let outage = Duration::from_secs(
        std::env::var("CC_OUTAGE_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(30),
    );
    let cluster = Cluster::create();
    let partner = create_partner(&cluster.url(), "outage");
    let server = Served::start(&cluster.url(), free_port(), &[], None).await;
    let base = server.base.clone();
    let client = common::client();
    let token = token(&base, &partner).await;

    let began = Instant::now();
    let observations = Arc::new(Mutex::new(Vec::<Observation>::new()));
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let course = common::fixture_json("guide/three-courses.json")["credentials"][0].clone();
    let mut writers = Vec::new();
    for writer in 0..8 {
        let (client, base, token, course) =
            (client.clone(), base.clone(), token.clone(), course.clone());
        let (observations, acknowledged, stop) =
            (observations.clone(), acknowledged.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let id = format!("w{writer}-{n}");
                let mut credential = course.clone();
                credential["id"] = json!(id);
                let at = began.elapsed();
                let started = Instant::now();
                let response = client
                    .post(format!("{base}/api/v1/credentials"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(json!({"credentials": [credential]}).to_string())
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await;
                let took = started.elapsed();
                let status = match response {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let body: Value = response.json().await.unwrap_or(Value::Null);
                        if status == 200 {
                            acknowledged.lock().expect("lock").push(id);
                        } else {
                            common::assert_imsx(&body);
                        }
                        status
                    }
                    Err(_) => 0,
                };
                observations
                    .lock()
                    .expect("lock")
                    .push(Observation { at, took, status });
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let down_at = began.elapsed();
    cluster.stop();
    tokio::time::sleep(outage).await;
    cluster.start();
    let up_at = began.elapsed();
    tokio::time::sleep(Duration::from_secs(15)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("writer");
    }

    let observations = observations.lock().expect("lock").clone();
    let during: Vec<&Observation> = observations
        .iter()
        .filter(|o| o.at >= down_at && o.at < up_at)
        .collect();
    let slowest = during.iter().map(|o| o.took).max().unwrap_or_default();
    let unavailable = during.iter().filter(|o| o.status == 503).count();
    let other: Vec<u16> = during
        .iter()
        .map(|o| o.status)
        .filter(|s| *s != 503 && *s != 200)
        .collect();
    let recovered_at = observations
        .iter()
        .filter(|o| o.at >= up_at && o.status == 200)
        .map(|o| o.at + o.took)
        .min();
    let recovery = recovered_at.map(|at| at - up_at);
    eprintln!(
        "outage {outage:?}: {} requests during it, {unavailable} answered 503, slowest {slowest:?}; first success {recovery:?} after the database returned; {} acknowledged in all",
        during.len(),
        acknowledged.lock().expect("lock").len()
    );
    assert!(
        unavailable > 0,
        "requests during the outage were answered 503"
    );
    assert!(
        other.is_empty(),
        "only 503 (or 200 before the outage was noticed), got {other:?}"
    );
    assert!(
        slowest < Duration::from_secs(10),
        "a request hung for {slowest:?}"
    );
    let recovery = recovery.expect("the service recovered");
    assert!(
        recovery < Duration::from_secs(10),
        "recovered only after {recovery:?}"
    );

    let token = common::process::token(&base, &partner).await;
    let acknowledged = acknowledged.lock().expect("lock").clone();
    for id in &acknowledged {
        let response = client
            .get(format!("{base}/api/v1/credentials/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 200, "acknowledged upload {id} was lost");
    }
}
