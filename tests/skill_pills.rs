//! Skills say how they were verified in the words credentials use: a skill whose carrier's
//! signature was checked is "signature verified", one whose carrier's proof could not be
//! checked is "verified by the partner", on the resume page and on the shared page.

mod common;

use common::issuer::{credential, did_key, ed25519_key, sign};
use common::person::{Person, claim_everything, upload};
use common::smtp::SmtpServer;
use common::{TestApp, fixture_json};
use credentialconnect::verify::Verifier;
use serde_json::{Value, json};

/// A SkillSync carrier credential naming `skills`, issued by `issuer`.
fn carrier(id: &str, issuer: &str, skills: &[&str]) -> Value {
    let mut carrier = credential(issuer);
    carrier["id"] = json!(id);
    carrier["awardedDate"] = json!("2025-02-14T17:07:16Z");
    let achievement = &mut carrier["credentialSubject"]["achievement"];
    achievement["id"] = json!(format!("{id}/achievement"));
    achievement["achievementType"] = json!("ext:SkillsAndAbilities");
    achievement["alignment"] = skills
        .iter()
        .map(|name| {
            json!({"type": ["Alignment"], "targetName": name, "targetType": "Competency",
                   "targetUrl": format!("https://skills.example/{}", name.to_lowercase())})
        })
        .collect();
    carrier
}

fn count(html: &str, words: &str) -> usize {
    // The pill's visible text: its `<summary>` also names the skill for screen readers.
    html.matches(&format!(">{words}</summary>")).count()
}

async fn make_share_link(person: &Person) -> String {
    let resume = person.get("/resume").await;
    let created = person
        .post("/resume/share", &[("csrf", &resume.csrf())])
        .await;
    assert_eq!(created.status, 200, "{}", created.html);
    let marker = "id=\"share-link\" type=\"text\" readonly value=\"";
    let start = created.html.find(marker).expect("the link") + marker.len();
    created.html[start..]
        .split('"')
        .next()
        .expect("link")
        .to_string()
}

with_mail_on_both_engines!(
    skills_show_their_carriers_state_in_the_words_credentials_use,
    |app: TestApp, smtp: SmtpServer| async move {
        let did = did_key(&ed25519_key());
        let fragment = did.trim_start_matches("did:key:").to_string();
        // Signed by its did:key issuer: verified.
        let signed = sign(
            &Verifier::offline(),
            carrier("urn:uuid:carrier-signed", &did, &["Welding", "Brazing"]),
            &format!("{did}#{fragment}"),
        );
        // A proof nobody can check (the partner guide's illustrative kind): attested.
        let mut illustrative = carrier(
            "urn:uuid:carrier-attested",
            "https://university.example/issuer",
            &["Teamwork"],
        );
        illustrative["proof"] = json!({"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
            "proofPurpose": "assertionMethod", "verificationMethod": "https://university.example/issuer#key-1",
            "proofValue": "illustrative"});
        let recipient = fixture_json("guide/three-courses.json")["recipient"].clone();
        let email = recipient["email"].as_str().expect("email").to_string();
        let link = upload(
            &app,
            "instx",
            json!({"recipient": recipient, "credentials": [signed, illustrative]}).to_string(),
        )
        .await;
        let person = claim_everything(&app, &smtp, &link, &email).await;

        let resume = person.get("/resume").await;
        for skill in ["Welding", "Brazing", "Teamwork"] {
            assert!(resume.has(skill), "{skill}: {}", resume.html);
        }
        assert_eq!(
            count(&resume.html, "signature verified"),
            2,
            "{}",
            resume.html
        );
        assert_eq!(count(&resume.html, "verified by the partner"), 1);
        assert_eq!(count(&resume.html, "verified"), 0, "no plain pill is left");

        let share = make_share_link(&person).await;
        let shared = common::client()
            .get(&share)
            .send()
            .await
            .expect("GET")
            .text()
            .await
            .expect("html");
        assert_eq!(count(&shared, "signature verified"), 2, "{shared}");
        assert_eq!(count(&shared, "verified by the partner"), 1, "{shared}");
        assert_eq!(count(&shared, "verified"), 0, "{shared}");
    }
);
