//! The PDF resume: typst in-process against headless Chromium printing the same resume's
//! page to PDF (what browser-based resume builders do), both warm, in the same run; and the
//! memory of a process rendering 8 PDFs at once.
//!
//! Run with `cargo bench --bench resume_pdf` (needs chromium and chromium-driver). Prints one
//! JSON object; pass rules: typst p50 < 15 ms, Chromium p50 / typst p50 >= 10, peak RSS while
//! rendering 8 at once < 150 MB. `RESUME_PDF_TYPST_ONLY=N` times N typst renders alone (to
//! profile them).

use askama::Template;
use credentialconnect::domain::account::{AccountKind, Profile, User};
use credentialconnect::domain::resume::{Entry, ResumeSkill};
use credentialconnect::domain::sections::Section;
use credentialconnect::export::{ResumeDocument, pdf};
use credentialconnect::http::web::Nav;
use credentialconnect::http::web::resume::shared_view;
use credentialconnect::http::web::sharing::SharedPage;
use credentialconnect::services::resume::Resume;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The service's allocator (src/main.rs), so typst allocates here as it does in the server:
/// under glibc's malloc its large, short-lived buffers are mapped and unmapped on every
/// render, and page faults take most of the time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A resume that fills two pages: 22 credentials with descriptions and 10 skills.
fn resume() -> Resume {
    let entries = (0..22)
        .map(|i| Entry {
            id: format!("{i:032x}"),
            from_partner: i % 4 != 0,
            section: Section::PLACEABLE[i % 4],
            hidden: false,
            title: format!("Credential {i}: Calculus and Analysis, honours track"),
            organisation: Some("Institution X, Faculty of Science".into()),
            date: Some("2023-05-14".into()),
            description: Some(
                "Real numbers, limits and continuity, and differential and integral calculus of functions of one variable; proofs and problem sets every week.".into(),
            ),
            verification: Some(["verified", "attested", "none"][i % 3].into()),
            verification_reason: Some("signature verified".into()),
            verification_checked_at: Some(1_764_201_600_000),
            partner_name: Some("Institution X Registrar".into()),
            revoked: false,
            name_languages: None,
        })
        .collect();
    let skills = (0..10)
        .map(|i| ResumeSkill {
            id: format!("{i:032x}"),
            name: format!("Skill {i}: statistical modelling"),
            description: None,
            level: Some("advanced".into()),
            category: "technical".into(),
            verified: i % 2 == 0,
            verified_by: Some("Institution X".into()),
            verified_on: Some("2025-02-14T17:07:18Z".into()),
            evidence_url: None,
            hidden: false,
            revoked: false,
            carrier_verification: if i % 4 == 0 { "attested" } else { "verified" }.into(),
            partner_name: "Institution X Registrar".into(),
        })
        .collect();
    Resume {
        user: User {
            id: "u".into(),
            email: "jsmith@institutionx.edu".into(),
            verified: true,
            profile: Profile {
                given_name: Some("Jordan".into()),
                family_name: Some("Smith".into()),
                headline: Some("Mathematics graduate, teaching assistant".into()),
                phone: Some("+1 555 0100".into()),
                summary: Some(
                    "Mathematics student looking for a teaching assistant role; four years of tutoring, two of them paid.".into(),
                ),
                ..Profile::default()
            },
            kind: AccountKind::Person,
            organisation: None,
        },
        entries,
        skills,
        inbox: 0,
        shared_since: Some(1_764_201_600_000),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn pages(pdf: &[u8]) -> usize {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("r.pdf");
    std::fs::write(&file, pdf).expect("write");
    let info = Command::new("pdfinfo")
        .arg(&file)
        .output()
        .expect("pdfinfo");
    String::from_utf8_lossy(&info.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// The same resume for another person (name and share link, so new data and a new QR code):
/// nothing of it is served from typst's memo of an earlier render.
fn for_another_person(document: &ResumeDocument, tag: &str) -> ResumeDocument {
    let mut changed = document.clone();
    changed.name = format!("Jordan Smith {tag}");
    changed.share_url = format!("{}{tag}", document.share_url);
    changed
}

fn typst_times(document: &ResumeDocument, runs: usize) -> (Vec<Duration>, Vec<u8>) {
    let mut last = Vec::new();
    for _ in 0..5 {
        last = pdf::render(document, pdf::Paper::A4, &[]).expect("render");
    }
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs {
        let changed = for_another_person(document, &i.to_string());
        let started = Instant::now();
        last = pdf::render(&changed, pdf::Paper::A4, &[]).expect("render");
        times.push(started.elapsed());
    }
    times.sort();
    (times, last)
}

/// Peak resident memory of this process (VmHWM), in MB.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn eight_at_once(document: &ResumeDocument) -> f64 {
    std::thread::scope(|scope| {
        for round in 0..3 {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let changed = for_another_person(document, &format!("{round}-{i}"));
                    scope.spawn(move || pdf::render(&changed, pdf::Paper::A4, &[]).expect("render"))
                })
                .collect();
            for handle in handles {
                assert!(!handle.join().expect("thread").is_empty());
            }
        }
    });
    peak_rss_mb()
}

struct Chromium {
    driver: std::process::Child,
    base: String,
    session: String,
    http: reqwest::blocking::Client,
}

impl Chromium {
    fn start() -> Chromium {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) must be installed");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::blocking::Client::new();
        let profile = tempfile::tempdir().expect("profile").keep();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", format!("--user-data-dir={}", profile.display())]}
        }}});
        let mut session = None;
        for _ in 0..100 {
            if let Ok(response) = http
                .post(format!("{base}/session"))
                .json(&capabilities)
                .send()
            {
                let body: Value = response.json().expect("json");
                session = body["value"]["sessionId"].as_str().map(str::to_string);
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Chromium {
            driver,
            session: session.expect("a Chromium session"),
            base,
            http,
        }
    }

    fn call(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}/session/{}/{path}", self.base, self.session))
            .json(&body)
            .send()
            .expect("webdriver")
            .json()
            .expect("json")
    }

    /// Loads the page and prints it to PDF (WebDriver "Print Page").
    fn print(&self, url: &str) -> Vec<u8> {
        use base64::Engine as _;
        self.call("url", json!({"url": url}));
        let printed = self.call(
            "print",
            json!({"page": {"width": 21.0, "height": 29.7}, "background": true}),
        );
        base64::engine::general_purpose::STANDARD
            .decode(printed["value"].as_str().expect("a PDF"))
            .expect("base64")
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn chromium_times(html_file: &std::path::Path, runs: usize) -> (Vec<Duration>, Vec<u8>) {
    let chromium = Chromium::start();
    let url = format!("file://{}", html_file.display());
    let mut last = Vec::new();
    for _ in 0..3 {
        last = chromium.print(&url);
    }
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        last = chromium.print(&url);
        times.push(started.elapsed());
    }
    times.sort();
    (times, last)
}

fn main() {
    // The chromedriver client speaks HTTP through reqwest, which needs the process's TLS
    // provider chosen, as the service's own outbound client does.
    credentialconnect::verify::fetch::install_crypto_provider();
    let resume = resume();
    let document = ResumeDocument::new(
        resume.clone(),
        HashMap::new(),
        HashMap::new(),
        "https://resumes.example/r/r_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG".into(),
        1_764_201_600_000,
    );
    // The online resume, self-contained (its stylesheet inlined) for Chromium to print.
    let page = SharedPage {
        nav: Nav {
            signed_in: false,
            viewer: false,
            csrf: String::new(),
            inbox: 0,
        },
        resume: shared_view(resume),
        pdf_link: None,
        share_path: None,
        invite_viewer: false,
    };
    let html = page.render().expect("render").replace(
        "<link rel=\"stylesheet\" href=\"/static/style.css\">",
        &format!("<style>{}</style>", include_str!("../static/style.css")),
    );
    let dir = tempfile::tempdir().expect("dir");
    let html_file = dir.path().join("resume.html");
    std::fs::write(&html_file, html).expect("write");

    // `RESUME_PDF_TYPST_ONLY=N` renders N PDFs with typst and stops: a profile of typst
    // alone (`perf record`) without Chromium's processes in it.
    if let Some(runs) = std::env::var("RESUME_PDF_TYPST_ONLY")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        let (typst, _) = typst_times(&document, runs);
        println!(
            "{}",
            json!({"runs": runs, "typst_ms_p50": percentile(&typst, 0.5)})
        );
        return;
    }
    let runs = 40;
    let (typst, typst_pdf) = typst_times(&document, runs);
    let (chromium, chromium_pdf) = chromium_times(&html_file, runs);
    let memory = eight_at_once(&document);
    let typst_p50 = percentile(&typst, 0.5);
    let chromium_p50 = percentile(&chromium, 0.5);
    let ratio = chromium_p50 / typst_p50;
    println!(
        "{}",
        json!({
            "runs": runs,
            "typst_pages": pages(&typst_pdf),
            "chromium_pages": pages(&chromium_pdf),
            "typst_ms": {"p50": typst_p50, "p90": percentile(&typst, 0.9), "max": percentile(&typst, 1.0)},
            "chromium_ms": {"p50": chromium_p50, "p90": percentile(&chromium, 0.9), "max": percentile(&chromium, 1.0)},
            "chromium_over_typst": ratio,
            "peak_rss_mb_8_at_once": memory,
            "pass": typst_p50 < 15.0 && ratio >= 10.0 && memory < 150.0,
        })
    );
}
