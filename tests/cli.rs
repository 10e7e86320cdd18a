//! The operator's command line, run as a real process against a real database.

mod common;

use serde_json::Value;
use std::process::Command;

fn run(database: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_credentialconnect"))
        .args(args)
        .env("CC_DATABASE_URL", database)
        .env("CC_VERIFY_NETWORK", "0")
        .output()
        .expect("run the binary");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn partner_create_prints_credentials_once_as_json_and_they_work() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let (ok, stdout, stderr) = run(
        &database,
        &[
            "partner",
            "create",
            "--name",
            "Institution X",
            "--scopes",
            "readonly replace",
        ],
    );
    assert!(ok, "{stderr}");
    let created: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let (id, secret) = (
        created["client_id"].as_str().expect("id"),
        created["client_secret"].as_str().expect("secret"),
    );
    assert_eq!(created["slug"], "institution-x");
    assert_eq!(created["scopes"], "readonly replace");

    let (ok, stdout, _) = run(&database, &["partner", "list"]);
    assert!(ok);
    assert!(
        stdout.contains(id) && !stdout.contains(secret),
        "list never shows secrets"
    );

    let (ok, _, stderr) = run(
        &database,
        &[
            "partner",
            "create",
            "--name",
            "Again",
            "--slug",
            "institution-x",
        ],
    );
    assert!(!ok && stderr.contains("already exists"), "{stderr}");

    let (ok, stdout, _) = run(&database, &["partner", "rotate-secret", "institution-x"]);
    assert!(ok);
    let rotated: Value = serde_json::from_str(stdout.trim()).expect("json");
    assert_eq!(rotated["client_id"], id);
    assert_ne!(rotated["client_secret"], secret);

    let (ok, stdout, _) = run(&database, &["partner", "disable", "institution-x"]);
    assert!(ok && stdout.contains("\"disabled\":true"));
    let (ok, _, stderr) = run(&database, &["partner", "disable", "nobody"]);
    assert!(!ok && stderr.contains("no partner has slug"), "{stderr}");
}

#[test]
fn mapping_names_the_sections_it_accepts() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let (ok, stdout, stderr) = run(
        &database,
        &[
            "mapping",
            "--type",
            "ext:Internship",
            "--section",
            "Experience",
        ],
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("\"section\":\"Experience\""));
    let (ok, _, stderr) = run(
        &database,
        &["mapping", "--type", "X", "--section", "Hobbies"],
    );
    assert!(
        !ok && stderr.contains("Professional Affiliations"),
        "{stderr}"
    );
}

#[test]
fn a_database_url_that_names_no_engine_is_explained() {
    let (ok, _, stderr) = run("mysql://localhost/x", &["partner", "list"]);
    assert!(
        !ok && stderr.contains("sqlite://PATH or postgres://"),
        "{stderr}"
    );
}
