//! How long the resume page takes server-side for a full resume: 100 credentials and 50
//! skills. Two figures: the template alone, and the whole page (reading the resume from a
//! SQLite store, then rendering). Run with `cargo bench --bench resume_render`.

use askama::Template;
use credentialconnect::domain::account::{AccountKind, Profile, User};
use credentialconnect::domain::resume::{Entry, ResumeSkill};
use credentialconnect::domain::sections::Section;
use credentialconnect::http::web::Nav;
use credentialconnect::http::web::resume::{EntryForm, ResumePage, placeable_titles, view};
use credentialconnect::http::web::wallet::WalletSection;
use credentialconnect::services::resume::Resume;
use std::hint::black_box;
use std::time::Instant;

fn resume() -> Resume {
    let entries = (0..100)
        .map(|i| Entry {
            id: format!("{i:032x}"),
            from_partner: i % 5 != 0,
            section: Section::PLACEABLE[i % Section::PLACEABLE.len()],
            hidden: i % 7 == 0,
            title: format!("Course <{i}> with a reasonably long name & details"),
            organisation: Some("Institution X".into()),
            date: Some("Spring 2023".into()),
            description: Some("Real numbers, limits and continuity, and differential and integral calculus of functions of one variable. ".repeat(3)),
            verification: Some(["verified", "attested", "none"][i % 3].into()),
            verification_reason: Some("signature verified: eddsa-rdfc-2022 by did:key:z6Mk…".into()),
            verification_checked_at: Some(1_764_201_600_000),
            partner_name: Some("Institution X Registrar".into()),
            revoked: i % 31 == 0,
            name_languages: None,
        })
        .collect();
    let skills = (0..50)
        .map(|i| ResumeSkill {
            id: format!("{i:032x}"),
            name: format!("Skill {i}"),
            description: Some("Teaching is a common skill that involves the transfer of knowledge, skills, and values.".into()),
            level: Some("advanced".into()),
            category: "technical".into(),
            verified: i % 2 == 0,
            verified_by: Some("Institution X".into()),
            verified_on: Some("2025-02-14T17:07:18Z".into()),
            evidence_url: Some("https://evidence.example/skill".into()),
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
                summary: Some("Mathematics student looking for a teaching assistant role.".into()),
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

fn main() {
    template_only();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(from_the_store());
}

/// Seeds a store with one person who claimed 100 credentials and 50 skills.
async fn seeded() -> (credentialconnect::services::App, String, tempfile::TempDir) {
    use credentialconnect::domain::json_tree::Node;
    use credentialconnect::domain::package::{self, Limits, PartnerRules};
    use credentialconnect::store::{holding, new_id, resume as stored, users};
    use serde_json::json;
    let dir = tempfile::tempdir().expect("dir");
    let config = credentialconnect::config::Config::new(
        credentialconnect::store::Location::Sqlite(dir.path().join("bench.db")),
    );
    let app = credentialconnect::services::App::open(config)
        .await
        .expect("open");
    let partner = credentialconnect::services::partners::create(
        &app,
        &credentialconnect::domain::audit::Actor::operator(),
        credentialconnect::services::partners::PartnerRequest {
            name: "Institution X".into(),
            slug: None,
            scopes: credentialconnect::domain::scopes::Scopes::all(),
            unstable_ids: false,
            strict: false,
            logo: None,
        },
    )
    .await
    .expect("partner");
    let types = [
        "Course",
        "BachelorDegree",
        "Certification",
        "License",
        "Badge",
        "Membership",
        "CoCurricular",
        "Fieldwork",
    ];
    let mut credentials: Vec<serde_json::Value> = (0..100)
        .map(|i| json!({
            "id": format!("c{i}"), "type": ["VerifiableCredential", "OpenBadgeCredential"], "name": format!("Credential {i}"),
            "awardedDate": "Spring 2023", "issuer": {"id": "123", "name": "Institution X"},
            "credentialSubject": {"achievement": {"id": format!("a{i}"), "achievementType": types[i % types.len()], "name": format!("Credential {i}"),
                "description": "Real numbers, limits and continuity, and differential and integral calculus of functions of one variable."}}
        }))
        .collect();
    credentials.push(json!({
        "id": "carrier", "type": ["VerifiableCredential"], "name": "Skills", "issuer": {"id": "123", "name": "Institution X"},
        "credentialSubject": {"achievement": {"achievementType": "SkillsAndAbilities", "name": "Skills",
            "alignment": (0..50).map(|i| json!({"targetName": format!("Skill {i}"), "targetDescription": "A skill statement.", "skillLevel": "advanced"})).collect::<Vec<_>>()}},
        "proof": [{"type": "Ed25519Signature2020", "created": "2025-02-14T17:07:18Z"}]
    }));
    let read = package::read(
        &Node::from(&json!({"credentials": credentials})),
        &PartnerRules::default(),
        Limits::default(),
    )
    .expect("package");
    let partner_id = app
        .store
        .read(move |c| credentialconnect::store::partners::by_client_id(c, &partner.client_id))
        .await
        .expect("r")
        .expect("p")
        .0
        .id;
    let user_id = app
        .store
        .write(move |conn| {
            let package_id = new_id();
            let documents: Vec<String> = (0..read.records.len())
                .map(|i| read.document(i).into_owned())
                .collect();
            holding::save_package(
                conn,
                &holding::NewPackage {
                    id: &package_id,
                    partner_id: &partner_id,
                    token_hash: "x",
                    package: &read,
                    recipient_json: "{}",
                    documents: &documents,
                    inbox_user_id: None,
                    activation_keys: (None, None),
                    now: 1,
                    expires_at: i64::MAX,
                },
            )?;
            let user = users::insert(conn, "jsmith@institutionx.edu", "x", &Profile::default(), 1)?;
            let offered =
                stored::package_contents(conn, &package_id, Some(&user))?.expect("package");
            let credentials: Vec<String> =
                offered.credentials.iter().map(|c| c.id.clone()).collect();
            let skills: Vec<String> = offered.skills.iter().map(|s| s.id.clone()).collect();
            stored::claim(conn, &package_id, &user, &credentials, &skills, 2)?.expect("claimed");
            Ok(user)
        })
        .await
        .expect("seed");
    (app, user_id, dir)
}

async fn from_the_store() {
    let (app, user_id, _dir) = seeded().await;
    let mut times = Vec::new();
    for _ in 0..1000 {
        let started = Instant::now();
        let loaded = credentialconnect::services::resume::load(&app, &user_id)
            .await
            .expect("load")
            .expect("user");
        assert_eq!((loaded.entries.len(), loaded.skills.len()), (100, 50));
        let page = ResumePage {
            nav: Nav {
                signed_in: true,
                viewer: false,
                csrf: "token".into(),
                inbox: loaded.inbox,
            },
            notice: None,
            csrf: "token".into(),
            resume: view(loaded),
            levels: vec!["beginner", "intermediate", "advanced", "expert"],
            placeable: placeable_titles(),
            share_link: None,
            entry: EntryForm::default(),
            wallets: WalletSection::default(),
            views: None,
        };
        black_box(page.render().expect("render").len());
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "resume page from a SQLite store (read + render), 100 credentials + 50 skills: p50 {:?}, p99 {:?} ({} pages)",
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times.len()
    );
}

fn template_only() {
    let data = resume();
    let mut times = Vec::new();
    for _ in 0..2000 {
        let started = Instant::now();
        let page = ResumePage {
            nav: Nav {
                signed_in: true,
                viewer: false,
                csrf: "token".into(),
                inbox: 0,
            },
            notice: None,
            csrf: "token".into(),
            resume: view(black_box(clone(&data))),
            levels: vec!["beginner", "intermediate", "advanced", "expert"],
            placeable: placeable_titles(),
            share_link: None,
            entry: EntryForm::default(),
            wallets: WalletSection::default(),
            views: None,
        };
        let html = page.render().expect("render");
        black_box(html.len());
        times.push(started.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64) * q) as usize];
    println!(
        "resume template alone, 100 credentials + 50 skills: p50 {:?}, p99 {:?} ({} renders)",
        at(0.5),
        at(0.99),
        times.len()
    );
}

fn clone(resume: &Resume) -> Resume {
    Resume {
        user: resume.user.clone(),
        entries: resume.entries.clone(),
        skills: resume.skills.clone(),
        inbox: resume.inbox,
        shared_since: resume.shared_since,
    }
}
