//! The real binary as separate processes: the operator's CLI and `serve`, for the tests that
//! kill servers, run several at once, or read their logs.

use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// `credentialconnect partner create` on `database`: the printed JSON (client id and secret).
pub fn create_partner(database: &str, slug: &str) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_credentialconnect"))
        .args([
            "partner",
            "create",
            "--name",
            &format!("Partner {slug}"),
            "--slug",
            slug,
        ])
        .env("CC_DATABASE_URL", database)
        .env("CC_SIGNING_KEY_FILE", signing_key_file(database))
        .output()
        .expect("run partner create");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

/// A `credentialconnect serve` process; killed when dropped.
pub struct Served {
    pub base: String,
    child: Child,
}

impl Served {
    /// Starts a server on `port` with `env` added (verification offline, quiet logs unless
    /// `env` says otherwise; stderr to `log` if given) and waits until it answers. Servers on
    /// one database share one signing key, kept in the temporary folder: on PostgreSQL the
    /// default would be a file in the working directory, the repository.
    pub async fn start(
        database: &str,
        port: u16,
        env: &[(&str, &str)],
        log: Option<std::fs::File>,
    ) -> Served {
        let mut command = Command::new(env!("CARGO_BIN_EXE_credentialconnect"));
        command
            .arg("serve")
            .env("CC_DATABASE_URL", database)
            .env("CC_BIND", format!("127.0.0.1:{port}"))
            .env("CC_VERIFY_NETWORK", "0")
            .env("RUST_LOG", "warn")
            .env("CC_SIGNING_KEY_FILE", signing_key_file(database))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log.map_or_else(Stdio::null, Stdio::from));
        let mut served = Served {
            base: format!("http://127.0.0.1:{port}"),
            child: command.spawn().expect("start the server"),
        };
        let client = super::client();
        for _ in 0..200 {
            let health = client.get(format!("{}/healthz", served.base)).send().await;
            if health.is_ok_and(|r| r.status() == 200) {
                return served;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        served.kill();
        panic!("the server did not become ready");
    }

    /// The server's process id, to read what the kernel knows of it under `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`, and wait for it to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Where servers on `database` keep their signing key during the tests.
pub fn signing_key_file(database: &str) -> std::path::PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    database.hash(&mut hasher);
    std::env::temp_dir().join(format!(
        "credentialconnect-test-{:016x}.signing-key.json",
        hasher.finish()
    ))
}

/// A partner token from a running server.
pub async fn token(base: &str, partner: &Value) -> String {
    let body: Value = super::client()
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
    body["access_token"].as_str().expect("token").to_string()
}
