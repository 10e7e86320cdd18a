//! "Share My SmartResume": the PDF (read back with poppler's pdftotext, pdftoppm and
//! pdfdetach, its QR code decoded with zbarimg), the signed resume credential (verified by
//! this project's verifier, its command line and the JavaScript verifier wallets use), and
//! the LER-RS and JSON Resume exports checked against their published schemas.

mod common;

use common::person::{Person, claim_everything, upload};
use common::smtp::SmtpServer;
use common::{TestApp, fixture_json, fixtures};
use credentialconnect::domain::verification::VerificationState;
use credentialconnect::export::{self, pdf};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// Runs a tool; panics with its output unless it succeeds.
fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} could not be started (poppler-utils, zbar-tools and node are installed by scripts/test.sh): {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path.display().to_string()
}

/// The PDF's text as pdftotext reads it (reading order).
fn pdf_text(dir: &Path, pdf: &[u8]) -> String {
    let file = write(dir, "text.pdf", pdf);
    run("pdftotext", &["-enc", "UTF-8", &file, "-"])
}

/// What the QR code on the first page says, read from the page rasterized at 300 dpi, as
/// printed (at 150 dpi its modules are about 3 pixels wide and some codes do not decode).
fn qr_code(dir: &Path, pdf: &[u8]) -> String {
    let file = write(dir, "qr.pdf", pdf);
    let prefix = dir.join("page").display().to_string();
    run(
        "pdftoppm",
        &["-r", "300", "-f", "1", "-l", "1", "-png", &file, &prefix],
    );
    let image = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("page"))
        })
        .expect("a page image");
    run("zbarimg", &["--raw", "-q", &image.display().to_string()])
        .trim()
        .to_string()
}

/// The files embedded in the PDF, by name.
fn attachments(dir: &Path, pdf: &[u8]) -> Vec<(String, Vec<u8>)> {
    let file = write(dir, "attached.pdf", pdf);
    let out = dir.join("attachments");
    std::fs::create_dir_all(&out).expect("dir");
    run(
        "pdfdetach",
        &["-saveall", "-o", &out.display().to_string(), &file],
    );
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&out)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    files.sort();
    files
}

/// pdfinfo's fields, one `Name: value` a line, as "Name=value" with the padding removed.
fn pdf_info(dir: &Path, pdf: &[u8]) -> String {
    let file = write(dir, "info.pdf", pdf);
    run("pdfinfo", &[&file])
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| format!("{name}={}\n", value.trim()))
        .collect()
}

/// A schema validator over the vendored schema files (`$ref`s resolved locally).
fn validator(schema_path: &str, base: &str, draft: jsonschema::Draft) -> jsonschema::Validator {
    struct Local {
        base: String,
        root: std::path::PathBuf,
    }
    impl jsonschema::Retrieve for Local {
        fn retrieve(
            &self,
            uri: &jsonschema::Uri<String>,
        ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
            let text = uri.as_str();
            let relative = text
                .strip_prefix(&self.base)
                .ok_or_else(|| format!("no local copy of {text}"))?;
            let relative = relative.split('#').next().unwrap_or(relative);
            let body = std::fs::read(self.root.join(relative))?;
            Ok(serde_json::from_slice(&body)?)
        }
    }
    let root = fixtures().join("standards/schemas");
    let schema: Value =
        serde_json::from_slice(&std::fs::read(root.join(schema_path)).expect("schema"))
            .expect("json");
    jsonschema::options()
        .with_draft(draft)
        .with_base_uri(format!("{base}{schema_path}"))
        .with_retriever(Local {
            base: base.to_string(),
            root,
        })
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

const LER_BASE: &str = "https://schemas.test/";

fn ler_rs_validator() -> jsonschema::Validator {
    validator(
        "ler-rs/www.hropenstandards.org/recruiting/json/LER-RSType.json",
        LER_BASE,
        jsonschema::Draft::Draft4,
    )
}

fn json_resume_validator() -> jsonschema::Validator {
    validator(
        "jsonresume/schema.json",
        LER_BASE,
        jsonschema::Draft::Draft7,
    )
}

fn assert_valid(validator: &jsonschema::Validator, value: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(10)
        .collect();
    assert!(errors.is_empty(), "{what} is not valid: {errors:#?}");
}

async fn download(person: &Person, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = person
        .client
        .get(format!("{}{path}", person.base))
        .send()
        .await
        .expect("GET");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.bytes().await.expect("body").to_vec(),
    )
}

/// The DID document's URL for this deployment (what did:web resolves to).
fn did_url(app: &TestApp) -> String {
    let did = credentialconnect::services::signing_key::did(&app.app);
    credentialconnect::verify::keys::did_web_url(&did).expect("a did:web")
}

/// Verifies a credential with the project's verifier, the DID document seeded as published.
async fn verify_here(app: &TestApp, did_document: &[u8], credential: &Value) -> VerificationState {
    app.app
        .verifier
        .fetcher()
        .seed(&did_url(app), did_document.to_vec());
    app.app.verifier.verify(credential, None).await.state
}

/// `credentialconnect verify FILE --offline --document URL=DID-FILE`: exit code 0?
fn verify_with_cli(app: &TestApp, dir: &Path, credential: &[u8], did_document: &[u8]) -> bool {
    let credential = write(dir, "cli-credential.json", credential);
    let did = write(dir, "cli-did.json", did_document);
    Command::new(env!("CARGO_BIN_EXE_credentialconnect"))
        .args([
            "verify",
            &credential,
            "--offline",
            "--document",
            &format!("{}={did}", did_url(app)),
        ])
        .output()
        .expect("the binary runs")
        .status
        .success()
}

/// The JavaScript verifier (scripts/bench/js-verifier/verify.mjs): exit code 0?
fn verify_with_js(dir: &Path, credential: &[u8], did_document: &[u8]) -> bool {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let verifier = root.join("scripts/bench/js-verifier");
    assert!(
        verifier.join("node_modules").is_dir(),
        "the JavaScript verifier needs `npm ci` in {} (scripts/test.sh runs it)",
        verifier.display()
    );
    let credential = write(dir, "js-credential.json", credential);
    let did = write(dir, "js-did.json", did_document);
    let output = Command::new("node")
        .arg(verifier.join("verify.mjs"))
        .args([&credential, &did])
        .output()
        .expect("node runs");
    let verdict = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        verdict.contains("\"verified\""),
        "the JavaScript verifier answered: {verdict}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.status.success()
}

/// Changes one character of the credential's signed content (the person's name).
fn tampered(credential: &Value) -> Vec<u8> {
    let mut changed = credential.clone();
    let name = changed["credentialSubject"]["name"]
        .as_str()
        .expect("a name")
        .to_string();
    let mut chars: Vec<char> = name.chars().collect();
    chars[0] = if chars[0] == 'X' { 'Y' } else { 'X' };
    changed["credentialSubject"]["name"] = chars.into_iter().collect::<String>().into();
    serde_json::to_vec(&changed).expect("json")
}

with_mail_on_both_engines!(
    the_resume_leaves_as_a_pdf_a_signed_credential_ler_rs_and_json_resume,
    |app: TestApp, smtp: SmtpServer| async move {
        common::publish_issuer_documents(&app.app.verifier);
        let signed = fixture_json("standards/examples/signed/ob30-ldp-test-vector-signed.json");
        let attested = fixture_json("standards/examples/ob30/simple-did-key-method.json");
        let courses = fixture_json("guide/three-courses.json");
        let mut credentials = vec![signed.clone(), attested];
        credentials.extend(courses["credentials"].as_array().expect("courses").clone());
        credentials.push(json!({
            "id": "urn:uuid:3f0c9d2e-7b1a-4c55-9a0e-5d2b1f6c8e11", "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": "Data skills", "issuer": {"id": "https://example.edu/issuers/565049", "name": "Institution X"},
            "awardedDate": "2024-03-02",
            "credentialSubject": {"achievement": {"id": "https://example.edu/achievements/data", "achievementType": "SkillsAndAbilities", "name": "Data skills",
                "alignment": [{"targetName": "Statistical modelling", "targetDescription": "Builds and checks regression models.", "targetType": "ceasn:Competency", "skillLevel": "advanced"}]}},
            "proof": [{"type": "Ed25519Signature2020", "created": "2025-02-14T17:07:18Z"}]
        }));
        let link = upload(
            &app,
            "issuer",
            json!({"credentials": credentials}).to_string(),
        )
        .await;
        let person = claim_everything(&app, &smtp, &link, "sam@example.org").await;
        let resume = person.get("/resume").await;
        assert!(resume.has("Share My SmartResume"), "{}", resume.html);
        for export in [
            "/resume/export/resume.pdf?paper=a4",
            "/resume/export/resume.pdf?paper=letter",
            "/resume/export/resume-credential.json",
            "/resume/export/ler-rs.json",
            "/resume/export/json-resume.json",
        ] {
            assert!(resume.has(export), "the resume offers {export}");
        }
        person
            .post(
                "/resume/entries",
                &[
                    ("csrf", &resume.csrf()),
                    ("section", "Experience"),
                    ("title", "Volunteer coach"),
                    ("organisation", "Youth league"),
                    ("start", "2019-09"),
                    ("end", "2021-06"),
                ],
            )
            .await;
        let resume = person.get("/resume").await;
        let hidden = common_entry_id(&resume.html, "Introduction to Psychology");
        person
            .post(
                &format!("/resume/entries/{hidden}/hide"),
                &[("csrf", &resume.csrf())],
            )
            .await;

        // The preview shows the resume as employers see it: without the hidden entry.
        let preview = person.get("/resume/preview").await;
        assert_eq!(preview.status, 200);
        assert!(preview.has("resume-sheet") && preview.has("<h3>Teamwork Badge</h3>"));
        assert!(!preview.has("Introduction to Psychology"));

        // The PDF: no share link yet, so downloading makes one, and the QR code opens it.
        assert!(person.get("/resume").await.has("Make a share link"));
        let (status, headers, pdf_bytes) =
            download(&person, "/resume/export/resume.pdf?paper=a4").await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf_bytes));
        assert_eq!(headers["content-type"], "application/pdf");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(pdf_bytes.starts_with(b"%PDF-"));
        let dir = tempfile::tempdir().expect("dir");
        let info = pdf_info(dir.path(), &pdf_bytes);
        for field in [
            "Title=Resume of Jamie Smith",
            "Author=Jamie Smith",
            "Tagged=yes",
            "Page size=595.276 x 841.89 pts (A4)",
        ] {
            assert!(info.contains(field), "{field}: {info}");
        }
        let text = pdf_text(dir.path(), &pdf_bytes);
        for visible in [
            "Jamie Smith",
            "sam@example.org",
            "Teamwork Badge",
            "signature verified",
            "January 2010",
            "test 1",
            "verified by the partner",
            "Calculus w/Analytic Geometry I",
            "First-Year Composition",
            "not verified",
            "Spring 2023",
            "Statistical modelling",
            "verified by Institution X",
            "Volunteer coach",
            "Youth league",
            "September 2019 – June 2021",
            "self-reported",
        ] {
            assert!(text.contains(visible), "{visible:?} is in the text: {text}");
        }
        assert!(
            !text.contains("Introduction to Psychology"),
            "the hidden entry is left out: {text}"
        );
        let qr = qr_code(dir.path(), &pdf_bytes);
        if std::env::var("CC_SCREENSHOTS").is_ok_and(|v| v == "1") {
            // The README shows the PDF's first page (refresh with CC_SCREENSHOTS=1).
            let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots/resume-pdf");
            let file = write(dir.path(), "shot.pdf", &pdf_bytes);
            run(
                "pdftoppm",
                &[
                    "-r",
                    "70",
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-png",
                    "-singlefile",
                    &file,
                    &out.display().to_string(),
                ],
            );
        }
        assert!(qr.starts_with(&app.url("/r/r_")), "the QR code: {qr}");
        let page = common::client().get(&qr).send().await.expect("GET");
        assert_eq!(page.status(), 200);
        assert!(page.text().await.expect("html").contains("Jamie Smith"));
        // Asking again keeps the same link.
        let (_, _, again) = download(&person, "/resume/export/resume.pdf?paper=letter").await;
        let again_dir = tempfile::tempdir().expect("dir");
        assert_eq!(qr_code(again_dir.path(), &again), qr);
        assert!(
            pdf_info(again_dir.path(), &again).contains("Page size=612 x 792 pts (letter)"),
            "US Letter"
        );

        // The embedded files: the LER-RS data and the signed credential, which verifies.
        let files = attachments(dir.path(), &pdf_bytes);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["ler-rs.json", "resume-credential.json"]);
        let embedded_ler: Value = serde_json::from_slice(&files[0].1).expect("json");
        let credential: Value = serde_json::from_slice(&files[1].1).expect("json");
        let did_response = common::client()
            .get(app.url("/.well-known/did.json"))
            .send()
            .await
            .expect("GET");
        assert_eq!(did_response.status(), 200);
        let did_document = did_response.bytes().await.expect("body").to_vec();
        let did: Value = serde_json::from_slice(&did_document).expect("json");
        assert_eq!(credential["issuer"]["id"], did["id"]);
        assert!(
            did["alsoKnownAs"][0]
                .as_str()
                .expect("did:key")
                .starts_with("did:key:z6Mk")
        );
        assert_eq!(
            verify_here(&app, &did_document, &credential).await,
            VerificationState::Verified
        );
        let credential_bytes = serde_json::to_vec(&credential).expect("json");
        assert!(verify_with_cli(
            &app,
            dir.path(),
            &credential_bytes,
            &did_document
        ));
        assert!(verify_with_js(dir.path(), &credential_bytes, &did_document));
        let changed = tampered(&credential);
        let changed_value: Value = serde_json::from_slice(&changed).expect("json");
        assert_eq!(
            verify_here(&app, &did_document, &changed_value).await,
            VerificationState::Failed
        );
        assert!(!verify_with_cli(&app, dir.path(), &changed, &did_document));
        assert!(!verify_with_js(dir.path(), &changed, &did_document));
        // The credential holds the LER-RS data and the PDF, each matching its digest.
        let held_ler = export::resume_vc::resource_bytes(&credential, "application/json")
            .expect("the LER-RS resource");
        assert_eq!(
            serde_json::from_slice::<Value>(&held_ler).expect("json"),
            embedded_ler
        );
        let held_pdf = export::resume_vc::resource_bytes(&credential, "application/pdf")
            .expect("the PDF resource");
        assert!(pdf_text(dir.path(), &held_pdf).contains("Teamwork Badge"));
        assert!(credential["validFrom"].is_string());

        // The credential on its own route verifies the same way.
        let (status, headers, body) =
            download(&person, "/resume/export/resume-credential.json").await;
        assert_eq!(status, 200);
        assert_eq!(headers["cache-control"], "no-store");
        let alone: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(
            verify_here(&app, &did_document, &alone).await,
            VerificationState::Verified
        );

        // LER-RS and JSON Resume, valid against their schemas; the LER-RS items carry their
        // original credentials.
        let (status, headers, body) = download(&person, "/resume/export/ler-rs.json").await;
        assert_eq!(status, 200);
        assert_eq!(headers["cache-control"], "no-store");
        let ler: Value = serde_json::from_slice(&body).expect("json");
        assert_valid(&ler_rs_validator(), &ler, "the LER-RS export");
        let text = ler.to_string();
        assert!(text.contains("Teamwork Badge") && !text.contains("Introduction to Psychology"));
        let verified_item = ler["certifications"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(
                ler["educationAndLearnings"]
                    .as_array()
                    .into_iter()
                    .flatten(),
            )
            .find(|item| item.to_string().contains("Teamwork Badge"))
            .expect("the badge is an item");
        assert_eq!(
            verified_item["verifications"][0]["proof"], signed["proof"],
            "the original credential, signature and all"
        );
        let (status, _, body) = download(&person, "/resume/export/json-resume.json").await;
        assert_eq!(status, 200);
        let resume_json: Value = serde_json::from_slice(&body).expect("json");
        assert_valid(
            &json_resume_validator(),
            &resume_json,
            "the JSON Resume export",
        );
        assert_eq!(resume_json["basics"]["name"], "Jamie Smith");
        assert_eq!(resume_json["basics"]["url"].as_str(), Some(qr.as_str()));

        // An employer with the link gets the same PDF; a stopped link gives 404.
        let token = qr.rsplit('/').next().expect("token");
        let shared = common::client()
            .get(app.url(&format!("/r/{token}/resume.pdf")))
            .send()
            .await
            .expect("GET");
        assert_eq!(shared.status(), 200);
        assert_eq!(shared.headers()["cache-control"], "no-store");
        let shared_pdf = shared.bytes().await.expect("pdf");
        let shared_text = pdf_text(dir.path(), &shared_pdf);
        assert!(
            shared_text.contains("Teamwork Badge")
                && !shared_text.contains("Introduction to Psychology")
        );
        let resume = person.get("/resume").await;
        person
            .post("/resume/share/stop", &[("csrf", &resume.csrf())])
            .await;
        let stopped = common::client()
            .get(app.url(&format!("/r/{token}/resume.pdf")))
            .send()
            .await
            .expect("GET");
        assert_eq!(stopped.status(), 404);

        // Someone not signed in is sent to log in.
        for path in [
            "/resume/export/resume.pdf",
            "/resume/export/resume-credential.json",
            "/resume/export/ler-rs.json",
            "/resume/export/json-resume.json",
        ] {
            let response = common::client()
                .get(app.url(path))
                .send()
                .await
                .expect("GET");
            assert!(
                response.url().path() == "/login",
                "{path} asks to log in: {}",
                response.url()
            );
        }
        let bad = person.get("/resume/export/resume.pdf?paper=a3").await;
        assert_eq!(bad.status, 400);
        assert!(bad.has("paper must be a4 or letter"), "{}", bad.html);
    }
);

/// The id of the resume entry titled `title`, from the resume page.
fn common_entry_id(html: &str, title: &str) -> String {
    let heading = html
        .find(&format!("<h3>{title}</h3>"))
        .unwrap_or_else(|| panic!("no entry {title:?} in {html}"));
    let start = html[..heading].rfind("id=\"entry-").expect("an entry id") + "id=\"entry-".len();
    html[start..].split('"').next().expect("id").to_string()
}

on_both_engines!(
    a_rotated_key_stays_in_the_did_document_and_old_resumes_keep_verifying,
    |app: TestApp| async move {
        let before: Value = common::client()
            .get(app.url("/.well-known/did.json"))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("json");
        let old_key = before["verificationMethod"][0]["publicKeyMultibase"].clone();
        assert_eq!(
            before["verificationMethod"].as_array().map(Vec::len),
            Some(1)
        );
        let unsigned = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": credentialconnect::services::signing_key::did(&app.app),
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"name": "Before the rotation"},
        });
        let old = credentialconnect::services::signing_key::sign(&app.app, unsigned.clone())
            .await
            .expect("signed");
        let new_key = credentialconnect::services::signing_key::rotate(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
        )
        .await
        .expect("rotated");
        assert_ne!(Value::String(new_key.clone()), old_key);
        let after = common::client()
            .get(app.url("/.well-known/did.json"))
            .send()
            .await
            .expect("GET")
            .bytes()
            .await
            .expect("body")
            .to_vec();
        let document: Value = serde_json::from_slice(&after).expect("json");
        let keys: Vec<&Value> = document["verificationMethod"]
            .as_array()
            .expect("methods")
            .iter()
            .map(|m| &m["publicKeyMultibase"])
            .collect();
        assert_eq!(keys, [&old_key, &Value::String(new_key.clone())]);
        assert_eq!(document["alsoKnownAs"][0], format!("did:key:{new_key}"));
        let new = credentialconnect::services::signing_key::sign(&app.app, unsigned)
            .await
            .expect("signed");
        assert!(
            new["proof"]["verificationMethod"]
                .as_str()
                .expect("vm")
                .ends_with(&new_key)
        );
        for credential in [&old, &new] {
            assert_eq!(
                verify_here(&app, &after, credential).await,
                VerificationState::Verified
            );
        }
        let key_file = std::fs::read_to_string(app.app.signing_key.path()).expect("key file");
        assert!(
            key_file.contains(&new_key),
            "the key lives in its file, outside the database"
        );
        let snapshot = app.snapshot().await.join("\n");
        assert!(
            !snapshot.contains("secretKeyMultibase") && !snapshot.contains(&secret_of(&key_file)),
            "no private key in the database"
        );
    }
);

fn secret_of(key_file: &str) -> String {
    let file: Value = serde_json::from_str(key_file).expect("json");
    file["secretKeyMultibase"]
        .as_str()
        .expect("secret")
        .to_string()
}

/// Text in many scripts, with typst and HTML markup in it: it must print as written.
const HOSTILE: [&str; 8] = [
    "Zoë Ångström-Núñez de la Peña Øvergård ÉÈ",
    "Αλέξανδρος Παπαδόπουλος-Καραμανλής Ωμέγα",
    "Светлана Александровна Достоевская-Толстая",
    "محمد عبد الرحمن الهاشمي القرشي العربي",
    "山田太郎の履歴書と資格証明書一覧表です中文简体汉字测试",
    "🎓📜✅🚀 Emoji Ümlaut 🌍🧑‍💻 résumé ✨🏆",
    "#set text(red) $x^2$ [link] \\ <script>alert(1)</script>",
    "#import \"/etc/passwd\" #read(\"x\") ] [ # $ \\ < > &amp;",
];

fn hostile_document(credentials: usize) -> export::ResumeDocument {
    use credentialconnect::domain::sections::Section;
    use export::{Item, Mark, ResumeSection, Skill};
    let marks = [
        Mark::SignatureVerified,
        Mark::VerifiedByPartner,
        Mark::NotVerified,
        Mark::SelfReported,
    ];
    let items: Vec<Item> = (0..credentials)
        .map(|i| Item {
            title: format!("{} #{i}", HOSTILE[i % HOSTILE.len()]),
            organisation: Some(HOSTILE[(i + 3) % HOSTILE.len()].to_string()),
            date: Some(credentialconnect::domain::dates::in_words("2023-05-14")),
            start_iso: Some("2023-05-14".into()),
            end_iso: None,
            description: Some(HOSTILE[(i + 5) % HOSTILE.len()].to_string()),
            mark: marks[i % marks.len()],
            original: None,
        })
        .collect();
    export::ResumeDocument {
        name: HOSTILE[6].to_string(),
        given_name: Some(HOSTILE[0].to_string()),
        family_name: Some(HOSTILE[3].to_string()),
        additional_name: None,
        email: "person@example.org".into(),
        headline: Some(HOSTILE[7].to_string()),
        phone: Some("#$[]\\<".into()),
        address: Some(HOSTILE[4].to_string()),
        summary: Some(HOSTILE.join(" | ")),
        share_url: "https://resumes.example/r/r_abc".into(),
        generated_at: 1_780_000_000_000,
        skills: HOSTILE
            .iter()
            .map(|name| Skill {
                name: (*name).to_string(),
                category: "#category $".into(),
                level: Some("[level]".into()),
                description: None,
                verified_by: Some(HOSTILE[5].to_string()),
                verified_on: Some("May 2023".into()),
                original: None,
            })
            .collect(),
        sections: vec![
            ResumeSection {
                section: Section::Certification,
                title: "Certification",
                items,
            },
            ResumeSection {
                section: Section::Education,
                title: "Education",
                items: Vec::new(),
            },
        ],
    }
}

/// pdftotext may break a long line and shape Arabic into presentation forms; compare what
/// survives any of that: the letters, in order, without spaces or joiners.
fn letters(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    text.nfkc()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\u{200d}' | '\u{fe0f}' | '\u{2028}'))
        .collect()
}

#[test]
fn hostile_text_prints_as_written_in_every_script() {
    let document = hostile_document(24);
    let pdf = pdf::render(&document, pdf::Paper::A4, &[]).expect("renders");
    let dir = tempfile::tempdir().expect("dir");
    let text = letters(&pdf_text(dir.path(), &pdf));
    for line in HOSTILE {
        for piece in line.split(' ') {
            assert!(
                text.contains(&letters(piece)),
                "{piece:?} (of {line:?}) is in the text layer: {text}"
            );
        }
    }
    assert!(text.contains("MayDAY".replace("DAY", "2023").as_str()));
    // Markup stayed text: nothing was evaluated (a `#set text(red)` would print nothing).
    assert!(text.contains("#settext(red)$x^2$[link]"));
}

#[test]
fn five_hundred_credentials_and_empty_sections_render() {
    let document = hostile_document(500);
    let pdf = pdf::render(&document, pdf::Paper::Letter, &[]).expect("renders");
    let dir = tempfile::tempdir().expect("dir");
    let text = letters(&pdf_text(dir.path(), &pdf));
    // The last items (#499's title is Arabic, so its number may come out before it).
    assert!(
        text.contains("#496") && text.contains("499"),
        "the last credentials are printed"
    );
    let mut empty = hostile_document(0);
    empty.skills.clear();
    empty.sections.clear();
    empty.summary = None;
    let pdf = pdf::render(&empty, pdf::Paper::A4, &[]).expect("renders");
    assert!(pdf_text(dir.path(), &pdf).contains("Nothing is on this resume yet."));
}

#[test]
fn hostile_text_makes_valid_ler_rs_and_json_resume() {
    let document = hostile_document(40);
    assert_valid(
        &ler_rs_validator(),
        &export::ler_rs::build(&document),
        "the LER-RS export",
    );
    assert_valid(
        &json_resume_validator(),
        &export::json_resume::build(&document),
        "the JSON Resume export",
    );
}
