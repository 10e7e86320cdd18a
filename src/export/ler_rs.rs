//! HR Open Standards LER-RS 4.4 (`LER-RSType`): the resume as recruiting systems read it.
//!
//! Sections go where LER-RS has a place for them: Education and Relevant Coursework to
//! `educationAndLearnings`, Experience to `employmentHistories`, Licenses to `licenses`, and
//! every other credential (certifications, badges, activities, affiliations) to
//! `certifications`. Each item from an issuer carries that issuer's original credential, in
//! native form, in its `verifications`: an OB 3.0 or CLR 2.0 credential as its JSON (the
//! schema's `1edtob3` / `1edtclr2` forms), a VC-JWT as its compact form, and anything else
//! as `otherW3CVerifiableCredential`.

use super::{Item, ResumeDocument};
use crate::domain::sections::Section;
use crate::store::export::Original;
use serde_json::{Map, Value, json};

pub const TYPE: &str =
    "http://schema.hropenstandards.org/4.4/recruiting/json/ler-rs/LER-RSType.json";

pub fn build(document: &ResumeDocument) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), TYPE.into());
    let mut name = Map::new();
    name.insert("formattedName".into(), document.name.clone().into());
    if let Some(given) = &document.given_name {
        name.insert("given".into(), given.clone().into());
    }
    if let Some(middle) = &document.additional_name {
        name.insert("middle".into(), middle.clone().into());
    }
    if let Some(family) = &document.family_name {
        name.insert("family".into(), family.clone().into());
    }
    out.insert("person".into(), json!({ "name": name }));
    let mut communication = Map::new();
    communication.insert("email".into(), json!([{ "address": document.email }]));
    if let Some(phone) = &document.phone {
        communication.insert("phone".into(), json!([{ "formattedNumber": phone }]));
    }
    if let Some(address) = &document.address {
        communication.insert("address".into(), json!([{ "formattedAddress": address }]));
    }
    communication.insert("web".into(), json!([{ "url": document.share_url }]));
    out.insert("communication".into(), Value::Object(communication));
    let mut narratives = Vec::new();
    if let Some(headline) = &document.headline {
        narratives.push(json!({ "name": "Headline", "texts": [{ "lines": [headline] }] }));
    }
    if let Some(summary) = &document.summary {
        narratives.push(json!({ "name": "Summary", "texts": [{ "lines": [summary] }] }));
    }
    if !narratives.is_empty() {
        out.insert("narratives".into(), narratives.into());
    }
    let skills: Vec<Value> = document
        .skills
        .iter()
        .map(|skill| {
            let mut item = Map::new();
            item.insert("name".into(), skill.name.clone().into());
            if let Some(description) = &skill.description {
                item.insert("description".into(), description.clone().into());
            }
            let mut comments = vec![format!("Category: {}", skill.category)];
            if let Some(level) = &skill.level {
                comments.push(format!("Level: {level}"));
            }
            match &skill.verified_by {
                Some(by) => comments.push(format!("Verified by {by}")),
                None => comments.push("Self-reported".into()),
            }
            item.insert("comments".into(), comments.into());
            if let Some(original) = &skill.original
                && skill.verified_by.is_some()
            {
                item.insert(
                    "verifications".into(),
                    json!([{ "Verification": other_credential(original) }]),
                );
            }
            Value::Object(item)
        })
        .collect();
    if !skills.is_empty() {
        out.insert("skills".into(), skills.into());
    }
    let (mut education, mut employment, mut licenses, mut certifications) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for section in &document.sections {
        for item in &section.items {
            match section.section {
                Section::Education | Section::RelevantCoursework => {
                    education.push(education_item(item, section.title));
                }
                Section::Experience => employment.push(employment_item(item)),
                Section::Licenses => licenses.push(certification_item(item, section.title)),
                _ => certifications.push(certification_item(item, section.title)),
            }
        }
    }
    for (key, items) in [
        ("educationAndLearnings", education),
        ("employmentHistories", employment),
        ("licenses", licenses),
        ("certifications", certifications),
    ] {
        if !items.is_empty() {
            out.insert(key.into(), items.into());
        }
    }
    Value::Object(out)
}

fn organisation(item: &Item) -> Value {
    json!({ "name": item.organisation.clone().unwrap_or_else(|| "Not stated".into()) })
}

fn descriptions(item: &Item, section: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(description) = &item.description {
        out.push(description.clone());
    }
    out.push(format!("{section}: {}", item.mark.label()));
    out
}

fn education_item(item: &Item, section: &str) -> Value {
    let mut out = Map::new();
    out.insert("institution".into(), organisation(item));
    out.insert("programs".into(), json!([item.title]));
    out.insert("descriptions".into(), descriptions(item, section).into());
    if let Some(start) = &item.start_iso {
        out.insert("start".into(), start.clone().into());
    }
    if let Some(end) = &item.end_iso {
        out.insert("end".into(), end.clone().into());
    }
    add_verifications(&mut out, item);
    Value::Object(out)
}

fn employment_item(item: &Item) -> Value {
    let mut position = Map::new();
    position.insert("title".into(), item.title.clone().into());
    if let Some(start) = &item.start_iso {
        position.insert("start".into(), start.clone().into());
    }
    if let Some(end) = &item.end_iso {
        position.insert("end".into(), end.clone().into());
    }
    position.insert(
        "descriptions".into(),
        descriptions(item, "Experience").into(),
    );
    let mut out = Map::new();
    out.insert("organization".into(), organisation(item));
    out.insert("positionHistories".into(), json!([position]));
    add_verifications(&mut out, item);
    Value::Object(out)
}

fn certification_item(item: &Item, section: &str) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), item.title.clone().into());
    out.insert("issuingAuthority".into(), organisation(item));
    out.insert("descriptions".into(), descriptions(item, section).into());
    if let Some(issued) = &item.start_iso {
        out.insert("issued".into(), issued.clone().into());
    }
    add_verifications(&mut out, item);
    Value::Object(out)
}

/// The item's original credential as its verification: OB 3.0 (and, where the schema takes
/// them, CLR 2.0) credentials as they are; other credentials and VC-JWTs wrapped as
/// `otherW3CVerifiableCredential`.
fn add_verifications(out: &mut Map<String, Value>, item: &Item) {
    if let Some(original) = &item.original {
        out.insert("verifications".into(), json!([native(original)]));
    }
}

fn native(original: &Original) -> Value {
    match (
        &original.jws,
        serde_json::from_str::<Value>(&original.document),
    ) {
        (None, Ok(document @ Value::Object(_))) => document,
        _ => other_credential(original),
    }
}

fn other_credential(original: &Original) -> Value {
    let credential = match &original.jws {
        Some(jws) => {
            json!({ "type": "EnvelopedVerifiableCredential", "id": format!("data:application/vc+jwt,{jws}") })
        }
        None => serde_json::from_str::<Value>(&original.document)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({ "document": original.document })),
    };
    json!({ "otherW3CVerifiableCredential": credential })
}
