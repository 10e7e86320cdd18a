//! JSON Resume (jsonresume.org schema 1.2): the resume for the many tools and themes that
//! read it. Experience goes to `work`, Education and Relevant Coursework to `education`,
//! Activities and Professional Affiliations to `volunteer`, and every other credential to
//! `certificates`. The schema has no word for verification, so each item says how it was
//! verified in its summary and in an `x-verification` member (the schema allows members of
//! one's own).

use super::{Item, ResumeDocument};
use crate::domain::sections::Section;
use serde_json::{Map, Value, json};

pub fn build(document: &ResumeDocument) -> Value {
    let mut basics = Map::new();
    basics.insert("name".into(), document.name.clone().into());
    if let Some(headline) = &document.headline {
        basics.insert("label".into(), headline.clone().into());
    }
    basics.insert("email".into(), document.email.clone().into());
    if let Some(phone) = &document.phone {
        basics.insert("phone".into(), phone.clone().into());
    }
    basics.insert("url".into(), document.share_url.clone().into());
    if let Some(summary) = &document.summary {
        basics.insert("summary".into(), summary.clone().into());
    }
    if let Some(address) = &document.address {
        basics.insert("location".into(), json!({ "address": address }));
    }
    let mut out = Map::new();
    out.insert("basics".into(), Value::Object(basics));
    let (mut work, mut education, mut volunteer, mut certificates) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for section in &document.sections {
        for item in &section.items {
            match section.section {
                Section::Experience => {
                    let mut entry = dated(item, "startDate", "endDate");
                    entry.insert("name".into(), organisation(item).into());
                    entry.insert("position".into(), item.title.clone().into());
                    work.push(Value::Object(entry));
                }
                Section::Education | Section::RelevantCoursework => {
                    let mut entry = dated(item, "startDate", "endDate");
                    entry.insert("institution".into(), organisation(item).into());
                    entry.insert("area".into(), item.title.clone().into());
                    education.push(Value::Object(entry));
                }
                Section::Activities | Section::ProfessionalAffiliations => {
                    let mut entry = dated(item, "startDate", "endDate");
                    entry.insert("organization".into(), organisation(item).into());
                    entry.insert("position".into(), item.title.clone().into());
                    volunteer.push(Value::Object(entry));
                }
                _ => {
                    let mut entry = dated(item, "date", "");
                    entry.insert("name".into(), item.title.clone().into());
                    entry.insert("issuer".into(), organisation(item).into());
                    certificates.push(Value::Object(entry));
                }
            }
        }
    }
    for (key, items) in [
        ("work", work),
        ("education", education),
        ("volunteer", volunteer),
        ("certificates", certificates),
    ] {
        if !items.is_empty() {
            out.insert(key.into(), items.into());
        }
    }
    let skills: Vec<Value> = document
        .skills
        .iter()
        .map(|skill| {
            let mut entry = Map::new();
            entry.insert("name".into(), skill.name.clone().into());
            if let Some(level) = &skill.level {
                entry.insert("level".into(), level.clone().into());
            }
            entry.insert("keywords".into(), json!([skill.category]));
            entry.insert(
                "x-verification".into(),
                match &skill.verified_by {
                    Some(by) => format!("verified by {by}"),
                    None => "self-reported".into(),
                }
                .into(),
            );
            Value::Object(entry)
        })
        .collect();
    if !skills.is_empty() {
        out.insert("skills".into(), skills.into());
    }
    out.insert(
        "meta".into(),
        json!({
            "canonical": document.share_url,
            "version": "v1.2.1",
            "lastModified": crate::clock::rfc3339(document.generated_at),
        }),
    );
    Value::Object(out)
}

fn organisation(item: &Item) -> String {
    item.organisation.clone().unwrap_or_default()
}

/// The item's dates (ISO 8601 only: the schema refuses anything else), summary and mark.
fn dated(item: &Item, start_key: &str, end_key: &str) -> Map<String, Value> {
    let mut entry = Map::new();
    if let Some(start) = &item.start_iso {
        entry.insert(start_key.into(), start.clone().into());
    }
    if let Some(end) = &item.end_iso
        && !end_key.is_empty()
    {
        entry.insert(end_key.into(), end.clone().into());
    }
    let summary = match &item.description {
        Some(description) => format!("{description}\n({})", item.mark.label()),
        None => format!("({})", item.mark.label()),
    };
    entry.insert("summary".into(), summary.into());
    entry.insert("x-verification".into(), item.mark.label().into());
    entry
}
