//! The operator's command line, run as a real process against a real database.

mod common;

use common::images;
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

/// The partner's one JSON line from `partner list`.
fn listed_partner(database: &str) -> Value {
    let (ok, listed, stderr) = run(database, &["partner", "list"]);
    assert!(ok, "{stderr}");
    serde_json::from_str(listed.trim()).expect("json")
}

#[test]
fn a_partner_logo_is_uploaded_from_a_file_checked_by_its_content_and_removed_with_an_empty_value() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let png = images::write(dir.path(), "logo.png", images::PNG);
    let (ok, _, stderr) = run(
        &database,
        &[
            "partner",
            "create",
            "--name",
            "Institution X",
            "--slug",
            "instx",
            "--logo",
            &png,
        ],
    );
    assert!(ok, "{stderr}");
    let logo = listed_partner(&database)["logo"]
        .as_str()
        .expect("a logo")
        .to_string();
    assert!(
        logo.starts_with("/logos/") && logo.ends_with(".png"),
        "{logo}"
    );

    // Each refused with what is wrong, and the logo stays as it was.
    let svg = |name: &str, text: String| images::write(dir.path(), name, text.as_bytes());
    for (source, expected) in [
        (
            images::huge_png(dir.path()),
            "is 50.0 MB (52428800 bytes); a logo may be at most 512 KB",
        ),
        (
            svg("script.svg", images::svg_with("<script>alert(1)</script>")),
            "has a <script> element",
        ),
        (
            svg(
                "onload.svg",
                images::SVG.replace("<svg ", "<svg onload=\"alert(1)\" "),
            ),
            "has an event-handler attribute onload",
        ),
        (
            svg(
                "href.svg",
                images::svg_with("<a href=\"https://evil.example/\"><text>x</text></a>"),
            ),
            "has an external reference href=\"https://evil.example/\"",
        ),
        (
            svg(
                "url.svg",
                images::svg_with("<style>rect { fill: url(http://evil.example/p) }</style>"),
            ),
            "has a <style> with an external reference url(http://evil.example/p)",
        ),
        (
            images::write(dir.path(), "gif.png", images::GIF),
            "is a GIF image; a logo must be a PNG, JPEG, WebP or SVG image",
        ),
        (
            images::write(dir.path(), "text.png", b"logo goes here"),
            "is text, not an image",
        ),
        (
            "http://instx.example/logo.png".to_string(),
            "only https URLs are fetched",
        ),
    ] {
        let (ok, _, stderr) = run(&database, &["partner", "set", "instx", "--logo", &source]);
        assert!(!ok && stderr.contains(expected), "{source}: {stderr}");
        assert!(
            stderr.contains(&source),
            "the message names the logo: {stderr}"
        );
        assert_eq!(listed_partner(&database)["logo"], logo.as_str(), "{source}");
    }
    let (ok, _, stderr) = run(
        &database,
        &[
            "partner",
            "create",
            "--name",
            "Other",
            "--slug",
            "other",
            "--logo-url",
            "http://other.example/logo.png",
        ],
    );
    assert!(
        !ok && stderr.contains("only https URLs are fetched"),
        "{stderr}"
    );
    let (_, listed, _) = run(&database, &["partner", "list"]);
    assert!(
        !listed.contains("other"),
        "a refused logo creates no partner"
    );

    let svg_logo = images::write(dir.path(), "logo.svg", images::SVG.as_bytes());
    let (ok, _, stderr) = run(
        &database,
        &["partner", "set", "instx", "--logo-url", &svg_logo],
    );
    assert!(ok, "--logo-url is another name for --logo: {stderr}");
    let replaced = listed_partner(&database)["logo"].clone();
    assert!(
        replaced.as_str().expect("logo").ends_with(".svg"),
        "{replaced}"
    );
    let (ok, _, stderr) = run(&database, &["partner", "set", "instx", "--logo", ""]);
    assert!(ok, "an empty value removes the logo: {stderr}");
    assert_eq!(listed_partner(&database)["logo"], Value::Null);
}

#[test]
fn marketplaces_route_issuer_ids_and_refuse_an_issuer_routed_elsewhere() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let logo = images::write(dir.path(), "bob.svg", images::SVG.as_bytes());
    let (ok, stdout, stderr) = run(
        &database,
        &[
            "marketplace",
            "add",
            "--name",
            "Marketplace of Bob",
            "--issuer",
            "did:web:bob.example",
            "--issuer",
            "https://bob.example/issuer",
            "--logo",
            &logo,
            "--landing",
            "Welcome to Bob's.\n\nSign up below.",
        ],
    );
    assert!(ok, "{stderr}");
    let added: Value = serde_json::from_str(stdout.trim()).expect("json");
    assert_eq!(added["created"], true);
    assert_eq!(
        added["issuers"],
        serde_json::json!(["did:web:bob.example", "https://bob.example/issuer"])
    );
    assert!(added["logo"].as_str().expect("logo").ends_with(".svg"));

    let (ok, stdout, stderr) = run(
        &database,
        &[
            "marketplace",
            "add",
            "--name",
            "Marketplace of Bob",
            "--issuer",
            "did:web:jobs.bob.example",
        ],
    );
    assert!(ok, "{stderr}");
    let more: Value = serde_json::from_str(stdout.trim()).expect("json");
    assert_eq!(
        (more["created"].clone(), more["id"].clone()),
        (Value::Bool(false), added["id"].clone())
    );
    assert_eq!(more["issuers"].as_array().expect("issuers").len(), 3);

    for (args, expected) in [
        (
            vec![
                "marketplace",
                "add",
                "--name",
                "  ",
                "--issuer",
                "did:web:x.example",
            ],
            "--name: a marketplace needs a name; it is empty",
        ),
        (
            vec![
                "marketplace",
                "add",
                "--name",
                "Alice",
                "--issuer",
                "did:web:bob.example",
            ],
            "--issuer did:web:bob.example: it is already routed to the marketplace \"Marketplace of Bob\"",
        ),
        (
            vec![
                "marketplace",
                "add",
                "--name",
                "Alice",
                "--issuer",
                "did:web:alice.example",
                "--logo",
                "http://alice.example/a.png",
            ],
            "only https URLs are fetched",
        ),
        (
            vec!["marketplace", "remove", "Nobody"],
            "no marketplace has the id or name \"Nobody\"",
        ),
    ] {
        let (ok, _, stderr) = run(&database, &args);
        assert!(!ok && stderr.contains(expected), "{args:?}: {stderr}");
    }
    let (ok, stdout, _) = run(&database, &["marketplace", "list"]);
    assert!(ok);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "nothing of the refused ones was stored: {stdout}"
    );
    assert_eq!(lines[0]["landing"], "Welcome to Bob's.\n\nSign up below.");

    let (ok, stdout, stderr) = run(
        &database,
        &[
            "marketplace",
            "remove",
            "Marketplace of Bob",
            "--issuer",
            "did:web:jobs.bob.example",
        ],
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("\"marketplace_removed\":false"), "{stdout}");
    let id = added["id"].as_str().expect("id");
    let (ok, stdout, stderr) = run(&database, &["marketplace", "remove", id]);
    assert!(
        ok && stdout.contains("\"marketplace_removed\":true"),
        "{stderr}"
    );
    let (_, stdout, _) = run(&database, &["marketplace", "list"]);
    assert!(stdout.trim().is_empty(), "{stdout}");
}

#[test]
fn a_partner_pull_url_must_be_https_and_an_empty_one_removes_it() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let (ok, _, stderr) = run(
        &database,
        &[
            "partner",
            "create",
            "--name",
            "Institution X",
            "--slug",
            "instx",
        ],
    );
    assert!(ok, "{stderr}");
    // Plain http is refused, to loopback too (that is for tests only), with what is wrong;
    // nothing else in the command changes.
    for refused in [
        "http://portal.instx.example/pull",
        "http://127.0.0.1:8090/pull",
    ] {
        let (ok, _, stderr) = run(
            &database,
            &[
                "partner",
                "set",
                "instx",
                "--strict",
                "true",
                "--pull-url",
                refused,
            ],
        );
        assert!(!ok, "{refused} was accepted");
        assert!(
            stderr.contains("pull URL") && stderr.contains("it must start with https://"),
            "{stderr}"
        );
    }
    let (_, listed, _) = run(&database, &["partner", "list"]);
    let listed: Value = serde_json::from_str(listed.trim()).expect("json");
    assert_eq!(listed["pull_url"], Value::Null);
    assert_eq!(listed["strict"], false, "a refused command changes nothing");

    let (ok, _, stderr) = run(
        &database,
        &[
            "partner",
            "set",
            "instx",
            "--pull-url",
            "https://portal.instx.example/pull?from=cc",
        ],
    );
    assert!(ok, "{stderr}");
    let (_, listed, _) = run(&database, &["partner", "list"]);
    let listed: Value = serde_json::from_str(listed.trim()).expect("json");
    assert_eq!(
        listed["pull_url"],
        "https://portal.instx.example/pull?from=cc"
    );

    let (ok, _, _) = run(&database, &["partner", "set", "instx", "--pull-url", ""]);
    assert!(ok, "an empty value removes the pull URL");
    let (_, listed, _) = run(&database, &["partner", "list"]);
    let listed: Value = serde_json::from_str(listed.trim()).expect("json");
    assert_eq!(listed["pull_url"], Value::Null);

    let (ok, _, stderr) = run(
        &database,
        &[
            "partner",
            "set",
            "nobody",
            "--pull-url",
            "https://portal.example/pull",
        ],
    );
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

/// Writes what the examples' issuers publish to files and returns `--document URL=FILE`
/// arguments for them.
fn published_documents(dir: &std::path::Path) -> Vec<String> {
    let published = common::fixture_json("verification/published.json");
    let mut args = Vec::new();
    for (i, (url, document)) in published.as_object().expect("map").iter().enumerate() {
        let path = dir.join(format!("published-{i}.json"));
        std::fs::write(&path, document.to_string()).expect("write");
        args.push("--document".to_string());
        args.push(format!("{url}={}", path.display()));
    }
    args
}

#[test]
fn verify_prints_each_check_and_exits_zero_only_when_verified() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let vector =
        common::fixtures().join("standards/examples/signed/ob30-ldp-test-vector-signed.json");
    let mut args = vec![
        "verify".to_string(),
        "--offline".to_string(),
        "--json".to_string(),
    ];
    args.extend(published_documents(dir.path()));
    args.push(vector.display().to_string());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, stdout, stderr) = run(&database, &refs);
    assert!(ok, "{stdout} {stderr}");
    let report: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(report["state"], "verified");
    assert!(report["reasons"].as_array().is_some_and(|r| !r.is_empty()));
    let checks: Vec<&str> = report["credentials"][0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| c["check"].as_str().expect("name"))
        .collect();
    for expected in [
        "proof suite",
        "proof canonicalization",
        "proof key",
        "proof signature",
        "proof issuer",
        "validFrom",
    ] {
        assert!(
            checks.contains(&expected),
            "{expected} missing from {checks:?}"
        );
    }

    // The same credential with one character of its name changed.
    let mut tampered =
        common::fixture_json("standards/examples/signed/ob30-ldp-test-vector-signed.json");
    tampered["name"] = "Teamwork Badgf".into();
    let tampered_path = dir.path().join("tampered.json");
    std::fs::write(&tampered_path, tampered.to_string()).expect("write");
    let last = args.len() - 1;
    args[last] = tampered_path.display().to_string();
    args.retain(|a| a != "--json");
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, stdout, _) = run(&database, &refs);
    assert!(!ok, "a failed verification exits non-zero");
    assert!(stdout.contains("FAIL proof signature"), "{stdout}");
    assert!(stdout.contains("state: failed"), "{stdout}");

    // Without the issuer's published keys the proof cannot be checked: attested, exit 1.
    let (ok, stdout, _) = run(
        &database,
        &[
            "verify",
            "--offline",
            "--json",
            &vector.display().to_string(),
        ],
    );
    assert!(!ok);
    let report: Value = serde_json::from_str(stdout.trim()).expect("json");
    assert_eq!(report["state"], "attested");
}

#[test]
fn verify_reads_vc_jwts_and_baked_badges() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    for (file, format) in [
        ("clr20/simple.jwt", "VC-JWT"),
        ("ob30/simple-jwt.png", "VC-JWT"),
        ("ob30/simple-json.svg", "JSON-LD"),
    ] {
        let path = common::fixtures().join("standards/examples").join(file);
        let (_, stdout, stderr) = run(
            &database,
            &["verify", "--offline", "--json", &path.display().to_string()],
        );
        let report: Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|_| panic!("{file}: {stdout} {stderr}"));
        assert_eq!(report["credentials"][0]["format"], format, "{file}");
        assert!(
            ["verified", "attested", "failed", "none"]
                .contains(&report["state"].as_str().expect("state"))
        );
    }
}

#[test]
fn an_operator_can_add_a_context_and_proofs_using_it_become_checkable() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let url = "https://contexts.example/extra/v1";
    let mut credential =
        common::fixture_json("standards/examples/signed/ob30-ldp-test-vector-signed.json");
    credential["@context"]
        .as_array_mut()
        .expect("array")
        .push(url.into());
    let credential_path = dir.path().join("credential.json");
    std::fs::write(&credential_path, credential.to_string()).expect("write");
    let (_, stdout, _) = run(
        &database,
        &[
            "verify",
            "--offline",
            "--json",
            &credential_path.display().to_string(),
        ],
    );
    assert!(stdout.contains("is not one we hold"), "{stdout}");

    let context_path = dir.path().join("context.json");
    std::fs::write(
        &context_path,
        r#"{"@context": {"extraTerm": "https://contexts.example/extra#term"}}"#,
    )
    .expect("write");
    let (ok, stdout, stderr) = run(
        &database,
        &["context", "add", url, &context_path.display().to_string()],
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("\"added\":true"), "{stdout}");
    let (_, listed, _) = run(&database, &["context", "list"]);
    assert!(
        listed.contains(url) && listed.contains("\"source\":\"added\""),
        "{listed}"
    );
    // The context is now known: the proof is checked (and, the context having been added
    // after signing, no longer matches).
    let (_, stdout, _) = run(
        &database,
        &[
            "verify",
            "--offline",
            "--json",
            &credential_path.display().to_string(),
        ],
    );
    assert!(!stdout.contains("is not one we hold"), "{stdout}");
    assert!(stdout.contains("proof canonicalization"), "{stdout}");
}

#[test]
fn a_baked_svg_whose_verify_attribute_is_not_quoted_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    for (name, tag) in [
        ("accent.svg", "<openbadges:credential verify=é.b.c>"),
        ("bare.svg", "<openbadges:credential verify=eyJ.b.c>"),
        ("empty.svg", "<openbadges:credential verify=>"),
        ("open.svg", "<openbadges:credential verify=\"eyJ.b.c>"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\">{tag}</openbadges:credential></svg>"
            ),
        )
        .expect("write the badge");
        let (ok, stdout, stderr) = run(
            &database,
            &["verify", "--offline", &path.display().to_string()],
        );
        assert!(!ok, "{name}: {stdout}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(
            stderr.contains("verify attribute"),
            "{name}: the error names what is wrong: {stderr}"
        );
    }
}

#[test]
fn help_lists_every_setting_with_its_variable_and_default() {
    let output = Command::new(env!("CARGO_BIN_EXE_credentialconnect"))
        .arg("--help")
        .env("CC_SMTP_URL", "smtps://mailer:smtp-secret@mail.example:465")
        .output()
        .expect("run the binary");
    assert!(output.status.success());
    // clap wraps long lines: compare with white space collapsed.
    let help = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let settings = credentialconnect::config::Settings::documented();
    assert!(settings.len() > 25, "{settings:?}");
    for setting in settings {
        assert!(
            help.contains(&format!("[env: {}", setting.variable)),
            "{} missing from --help:\n{help}",
            setting.variable
        );
        if setting.default != "unset" {
            // clap quotes a default holding spaces.
            let (plain, quoted) = (
                format!("[default: {}]", setting.default),
                format!("[default: \"{}\"]", setting.default),
            );
            assert!(
                help.contains(&plain) || help.contains(&quoted),
                "{}'s default {:?} missing from --help:\n{help}",
                setting.variable,
                setting.default
            );
        }
    }
    assert!(
        !help.contains("smtp-secret"),
        "--help shows a secret: {help}"
    );
}

#[test]
fn a_blank_variable_counts_as_unset_and_a_bad_number_is_named() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let output = Command::new(env!("CARGO_BIN_EXE_credentialconnect"))
        .args(["partner", "list"])
        .env("CC_DATABASE_URL", &database)
        .env("CC_TOKEN_IDLE_SECONDS", " ")
        .env("CC_BIND", "")
        .output()
        .expect("run the binary");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = Command::new(env!("CARGO_BIN_EXE_credentialconnect"))
        .args(["partner", "list"])
        .env("CC_DATABASE_URL", &database)
        .env("CC_TOKEN_IDLE_SECONDS", "an hour")
        .output()
        .expect("run the binary");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("CC_TOKEN_IDLE_SECONDS"),
        "{stderr}"
    );
}

#[test]
fn partner_set_makes_a_wallet_whose_secret_is_never_shown_again() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let (ok, _, stderr) = run(
        &database,
        &[
            "partner",
            "create",
            "--name",
            "Wallet Co",
            "--slug",
            "walletco",
        ],
    );
    assert!(ok, "{stderr}");
    let wallet = [
        "--wallet-push-url",
        "https://wallet.example/credentials",
        "--wallet-token-url",
        "https://wallet.example/token",
        "--wallet-client-id",
        "cc-client",
        "--wallet-landing-url",
        "https://wallet.example/welcome",
    ];
    // Every part is needed.
    let (ok, _, stderr) = run(
        &database,
        &[&["partner", "set", "walletco"], &wallet[..4]].concat(),
    );
    assert!(!ok);
    assert!(stderr.contains("--wallet-client-secret"), "{stderr}");
    // URLs are https.
    let mut plain = wallet.to_vec();
    plain[1] = "http://wallet.example/credentials";
    let (ok, _, stderr) = run(
        &database,
        &[
            &[
                "partner",
                "set",
                "walletco",
                "--wallet-client-secret",
                "sh-secret",
            ],
            &plain[..],
        ]
        .concat(),
    );
    assert!(!ok);
    assert!(
        stderr.contains("wallet push URL") && stderr.contains("https://"),
        "{stderr}"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_credentialconnect"))
        .args([&["partner", "set", "walletco"], &wallet[..]].concat())
        .env("CC_DATABASE_URL", &database)
        .env("CC_VERIFY_NETWORK", "0")
        // The secret by the environment, kept out of the process list.
        .env("CC_WALLET_CLIENT_SECRET", "sh-secret-of-the-wallet")
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (ok, stdout, _) = run(&database, &["partner", "list"]);
    assert!(ok);
    let listed: Value = serde_json::from_str(stdout.trim()).expect("one partner");
    assert_eq!(
        listed["wallet"]["push_url"],
        "https://wallet.example/credentials"
    );
    assert_eq!(listed["wallet"]["client_id"], "cc-client");
    assert!(!stdout.contains("sh-secret-of-the-wallet"), "{stdout}");
    // The database (its write-ahead log too) holds the secret sealed; so does the file of
    // sealed secrets' key, which holds only the key.
    for file in std::fs::read_dir(dir.path()).expect("dir") {
        let path = file.expect("entry").path();
        let stored = std::fs::read(&path).expect("file");
        assert!(
            !String::from_utf8_lossy(&stored).contains("sh-secret-of-the-wallet"),
            "{} holds the secret in clear",
            path.display()
        );
    }

    // An empty push URL removes the wallet.
    let (ok, _, stderr) = run(
        &database,
        &["partner", "set", "walletco", "--wallet-push-url", ""],
    );
    assert!(ok, "{stderr}");
    let (_, stdout, _) = run(&database, &["partner", "list"]);
    let listed: Value = serde_json::from_str(stdout.trim()).expect("one partner");
    assert!(listed["wallet"].is_null(), "{listed}");
}

/// An account made directly in the database, as sign-up would leave it.
fn make_account(database: &str, email: &str) {
    let location = credentialconnect::store::Location::parse(database).expect("URL");
    let email = email.to_string();
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async move {
            let store = credentialconnect::store::Store::open(&location)
                .await
                .expect("store");
            store
                .write(move |conn| {
                    let profile = credentialconnect::domain::account::Profile {
                        given_name: Some("Robin".into()),
                        ..Default::default()
                    };
                    credentialconnect::store::users::insert(conn, &email, "unused", &profile, 1)
                })
                .await
                .expect("account");
        });
}

#[test]
fn the_audit_log_lists_operator_actions_and_accounts_are_exported_and_erased() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let (ok, _, stderr) = run(&database, &["partner", "create", "--name", "Uni"]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = run(&database, &["partner", "rotate-secret", "uni"]);
    assert!(ok, "{stderr}");

    let (ok, stdout, stderr) = run(&database, &["audit"]);
    assert!(ok, "{stderr}");
    let entries: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    let actions: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["partner.created", "partner.secret_rotated"]);
    assert_eq!(entries[1]["subject"], "uni");
    assert_eq!(entries[1]["actor_kind"], "operator");
    assert!(!stdout.contains("cc_secret_"), "no secret is logged");

    let (ok, stdout, _) = run(&database, &["audit", "--action", "partner.secret_rotated"]);
    assert!(ok);
    assert_eq!(stdout.lines().count(), 1);
    let (ok, stdout, _) = run(&database, &["audit", "--since", "2999-01-01T00:00:00Z"]);
    assert!(ok);
    assert_eq!(stdout, "");
    let (ok, _, stderr) = run(&database, &["audit", "--action", "partner.deleted"]);
    assert!(!ok);
    assert!(stderr.contains("not an action the log records"), "{stderr}");
    assert!(
        stderr.contains("account.erased"),
        "the known actions are listed: {stderr}"
    );

    make_account(&database, "robin@example.org");
    let (ok, stdout, stderr) = run(&database, &["account", "export", "Robin@Example.org"]);
    assert!(ok, "{stderr}");
    let document: Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(document["account"]["given_name"], "Robin");

    let (ok, _, stderr) = run(&database, &["account", "erase", "robin@example.org"]);
    assert!(!ok, "an erasure must be confirmed");
    assert!(stderr.contains("--yes"), "{stderr}");
    let (ok, stdout, stderr) = run(
        &database,
        &["account", "erase", "robin@example.org", "--yes"],
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("\"erased\""), "{stdout}");
    let (ok, _, stderr) = run(
        &database,
        &["account", "erase", "robin@example.org", "--yes"],
    );
    assert!(!ok, "a second erasure finds no account");
    assert!(stderr.contains("no account has the address"), "{stderr}");

    let (ok, stdout, _) = run(&database, &["audit", "--action", "account.erased"]);
    assert!(ok);
    assert_eq!(stdout.lines().count(), 1);
    assert!(
        !stdout.contains("robin"),
        "the erasure is logged without personal data: {stdout}"
    );
}

#[test]
fn admin_create_prints_a_set_password_link_and_alerts_are_acknowledged() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let (ok, stdout, stderr) = run(
        &database,
        &["admin", "create", "--email", "Ops@Example.org"],
    );
    assert!(ok, "{stderr}");
    let created: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(created["email"], "ops@example.org");
    assert_eq!(created["new_account"], true);
    assert!(
        created["set_password_link"]
            .as_str()
            .is_some_and(|link| link.contains("/reset/")),
        "{created}"
    );
    let (ok, _, stderr) = run(&database, &["admin", "create", "--email", "not an address"]);
    assert!(!ok);
    assert!(stderr.contains("--email"), "{stderr}");

    let (ok, _, stderr) = run(&database, &["alerts", "--acknowledge", "no-such-alert"]);
    assert!(!ok);
    assert!(stderr.contains("no open alert"), "{stderr}");
    let (ok, stdout, _) = run(&database, &["audit", "--action", "admin.created"]);
    assert!(ok);
    assert_eq!(stdout.lines().count(), 1);
}

#[test]
fn the_test_mode_whitelist_is_listed_added_to_and_removed_from() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let (ok, _, stderr) = run(&database, &["whitelist", "add", "@Example.org"]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = run(&database, &["whitelist", "add", "nowhere"]);
    assert!(!ok);
    assert!(
        stderr.contains("neither an email address nor a domain"),
        "{stderr}"
    );
    let (ok, stdout, _) = run(&database, &["whitelist", "list"]);
    assert!(ok);
    assert_eq!(stdout, "example.org\n");
    let (ok, _, _) = run(&database, &["whitelist", "remove", "example.org"]);
    assert!(ok);
    let (ok, _, stderr) = run(&database, &["whitelist", "remove", "example.org"]);
    assert!(!ok, "removing what is not there says so");
    assert!(stderr.contains("not on the whitelist"), "{stderr}");
    let (ok, stdout, _) = run(&database, &["audit", "--action", "whitelist.added"]);
    assert!(ok);
    assert_eq!(stdout.lines().count(), 1);
}
