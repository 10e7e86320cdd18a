//! Properties of the normaliser (the lenient JSON reader, the package reader, sections,
//! SkillSync, dates) and of the token endpoint's Basic credentials, checked with proptest
//! on generated input.
//!
//! Each property runs `CC_PROPTEST_CASES` cases (default 64, a few seconds in all, as in CI);
//! the long run is `CC_PROPTEST_CASES=10000 cargo test --release --test properties`.
//! A failure prints the smallest input proptest found; make it a unit test next to the code.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, Utc};
use credentialconnect::domain::dates::DateText;
use credentialconnect::domain::json_tree::Node;
use credentialconnect::domain::lenient_json;
use credentialconnect::domain::package::{self, Limits, PartnerRules, Problem};
use credentialconnect::domain::sections::{MappingRule, Section, section_for};
use credentialconnect::domain::skills::{SkillCategory, SkillLevel, SkillName};
use credentialconnect::http::api::token::basic_credentials;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::{Map, Value, json};

fn config() -> Config {
    let cases = std::env::var("CC_PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64);
    Config {
        cases,
        // Failures become unit tests; nothing is written next to the sources.
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------
// Generated JSON

/// Keys the package reader looks at, so generated objects reach its branches.
const KEYS: &[&str] = &[
    "credentials",
    "credential",
    "recipient",
    "recipientToken",
    "recipienttoken",
    "id",
    "type",
    "name",
    "description",
    "issuer",
    "credentialSubject",
    "achievement",
    "achievementType",
    "alignment",
    "targetName",
    "targetUrl",
    "skillLevel",
    "skillCategory",
    "verifiableCredential",
    "awardedDate",
    "validFrom",
    "validUntil",
    "proof",
    "givenName",
    "familyName",
    "email",
    "studentId",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(KEYS).prop_map(str::to_string),
        1 => any::<String>(),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        proptest::sample::select(vec![
            "",
            " ",
            "VerifiableCredential",
            "OpenBadgeCredential",
            "ClrCredential",
            "Course",
            "ext:SkillsAndAbilities",
            "Profile",
            "2023-05-01",
            "2025-02-14T12:07:16-05:00",
            "Spring 2023",
            "expert",
        ])
        .prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// JSON text as partners may write it, beyond what serde_json writes: keys sent twice
/// (also once escaped, once not), escapes serde_json would not write, numbers in any form.
fn json_text() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        leaf().prop_map(|v| v.to_string()),
        proptest::sample::select(vec![
            "-0",
            "0.0",
            "1.0",
            "1.50",
            "1e2",
            "-1E-2",
            "2.5e+3",
            "0.1",
            "1e-400",
            "12345678901234567890",
            "123456789012345678901234567890",
            "-9223372036854775809",
            "\"caf\\u00e9\"",
            "\"a\\/b\"",
            "\"\\ud83d\\ude00\"",
            "\"\\n\\t\\\"\"",
            "\"\\u0061\"",
        ])
        .prop_map(str::to_string),
    ];
    let key = prop_oneof![
        3 => proptest::sample::select(vec!["\"a\"", "\"b\"", "\"\\u0061\"", "\"id\"", "\"proof\""])
            .prop_map(str::to_string),
        1 => any::<String>().prop_map(|k| Value::String(k).to_string()),
    ];
    scalar.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6)
                .prop_map(|items| format!("[{}]", items.join(","))),
            proptest::collection::vec((key.clone(), inner), 0..20).prop_map(|members| {
                let members: Vec<String> = members
                    .into_iter()
                    .map(|(k, v)| format!("{k} : {v}"))
                    .collect();
                format!("{{ {} }}", members.join(" ,\n"))
            }),
        ]
    })
}

/// Every JSON pointer of `value`, the whole document ("") included.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let escaped = k.replace('~', "~0").replace('/', "~1");
                pointers(v, format!("{at}/{escaped}"), out);
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn fixture(path: &str) -> Value {
    let file = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    lenient_json::parse(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn fixtures() -> Vec<Value> {
    [
        "guide/three-courses.json",
        "guide/skillsync.json",
        "guide/clr-profile.json",
        "standards/examples/clr20/complex.json",
        "standards/examples/ob30/complete.json",
    ]
    .into_iter()
    .map(fixture)
    .collect()
}

/// A real package with some of its values replaced or removed: mostly valid, so the reader's
/// acceptance path runs as well as its refusals.
fn mutated_package() -> impl Strategy<Value = Value> {
    let edits = proptest::collection::vec(
        (any::<prop::sample::Index>(), prop::option::of(json_value())),
        0..4,
    );
    (proptest::sample::select(fixtures()), edits).prop_map(|(mut body, edits)| {
        for (index, replacement) in edits {
            let mut all = Vec::new();
            pointers(&body, String::new(), &mut all);
            let target = all[index.index(all.len())].clone();
            if target.is_empty() {
                continue;
            }
            match replacement {
                Some(value) => {
                    if let Some(slot) = body.pointer_mut(&target) {
                        *slot = value;
                    }
                }
                None => {
                    let (parent, last) = target.rsplit_once('/').expect("not the root");
                    match body.pointer_mut(parent) {
                        Some(Value::Object(map)) => {
                            map.shift_remove(&last.replace("~1", "/").replace("~0", "~"));
                        }
                        Some(Value::Array(list)) => {
                            if let Ok(i) = last.parse::<usize>() {
                                list.remove(i);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        body
    })
}

/// The same JSON with every object's keys in reverse order.
fn reversed(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .rev()
                .map(|(k, v)| (k.clone(), reversed(v)))
                .collect(),
        ),
        Value::Array(list) => Value::Array(list.iter().map(reversed).collect()),
        other => other.clone(),
    }
}

/// JSON text whose strings carry raw control characters instead of escapes (what partners
/// copy from the guide), everything else as serde_json writes it.
fn with_raw_controls(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Value::Array(list) => {
            out.push('[');
            for (i, v) in list.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                with_raw_controls(v, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                with_raw_controls(&Value::String(k.clone()), out);
                out.push(':');
                with_raw_controls(v, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A problem's pointer names a place in the body: the place itself, or a missing member of
/// an object that is there.
fn assert_points_into(body: &Value, problem: &Problem) {
    let pointer = problem.pointer.as_str();
    assert!(
        pointer.is_empty() || pointer.starts_with('/'),
        "not a JSON pointer: {problem:?}"
    );
    if body.pointer(pointer).is_some() {
        return;
    }
    let parent = &pointer[..pointer.rfind('/').unwrap_or(0)];
    assert!(
        matches!(body.pointer(parent), Some(Value::Object(_))),
        "{problem:?} points nowhere in {body}"
    );
}

fn inside_a_jws(body: &Value, pointer: &str) -> bool {
    let mut prefix = pointer;
    while let Some(cut) = prefix.rfind('/') {
        prefix = &prefix[..cut];
        if matches!(body.pointer(prefix), Some(Value::String(_))) {
            return true;
        }
    }
    false
}

fn rules(unstable_ids: bool) -> PartnerRules {
    PartnerRules {
        unstable_ids,
        ..PartnerRules::default()
    }
}

proptest! {
    #![proptest_config(config())]

    // -----------------------------------------------------------------------------------
    // The lenient JSON reader

    #[test]
    fn lenient_json_reads_whatever_serde_json_writes_as_the_same_value(value in json_value(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_vec_pretty(&value).expect("serialise")
        } else {
            serde_json::to_vec(&value).expect("serialise")
        };
        prop_assert_eq!(lenient_json::parse(&text).expect("strict JSON"), value);
    }

    #[test]
    fn lenient_json_reads_raw_control_characters_in_strings_as_themselves(value in json_value()) {
        let mut text = String::new();
        with_raw_controls(&value, &mut text);
        prop_assert_eq!(lenient_json::parse(text.as_bytes()).expect("tolerated"), value);
    }

    #[test]
    fn lenient_json_errors_lie_inside_the_text_and_match_serde_json_without_raw_controls(
        value in json_value(),
        cut in any::<prop::sample::Index>(),
        junk in proptest::sample::select(vec![",", "}", "]", "\\", "\"", "x", "\n", "\t", "/*", "\u{1}"]),
    ) {
        let mut text = String::new();
        with_raw_controls(&value, &mut text);
        let mut at = cut.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.insert_str(at, junk);
        let bytes = text.as_bytes();
        if let Err(e) = lenient_json::parse(bytes) {
            let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
            prop_assert!(e.line >= 1 && e.line <= lines.len(), "{} outside the text", e);
            prop_assert!(e.column <= lines[e.line - 1].len() + 1, "{} outside its line", e);
            let has_controls = bytes.iter().any(|&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t'));
            if !has_controls && !bytes.contains(&b'\n') && !bytes.contains(&b'\t') && !bytes.contains(&b'\r') {
                let strict = serde_json::from_slice::<Value>(bytes).expect_err("strict refuses too");
                prop_assert_eq!((e.line, e.column), (strict.line(), strict.column()));
            }
        }
    }

    #[test]
    fn the_upload_tree_means_and_writes_what_serde_json_value_does(text in json_text()) {
        // Stored documents and fingerprints come from the tree; they were `Value`'s before.
        let tree = lenient_json::parse_tree(text.as_bytes());
        let value = lenient_json::parse(text.as_bytes());
        match (tree, value) {
            (Ok(tree), Ok(value)) => {
                prop_assert_eq!(tree.to_value(), value.clone());
                let mut compact = String::new();
                tree.write_compact(&mut compact);
                prop_assert_eq!(compact, value.to_string());
                let (mut canonical, mut expected) = (String::new(), String::new());
                tree.write_canonical(&mut canonical);
                Node::from(&value).write_canonical(&mut expected);
                prop_assert_eq!(canonical, expected);
            }
            (tree, value) => prop_assert_eq!(tree.err(), value.err()),
        }
    }

    #[test]
    fn the_upload_tree_refuses_what_the_lenient_reader_refuses_at_the_same_place(
        value in json_value(),
        cut in any::<prop::sample::Index>(),
        junk in proptest::sample::select(vec![",", "}", "]", "\\", "\"", "x", "\n", "\t", "/*", "\u{1}"]),
    ) {
        let mut text = String::new();
        with_raw_controls(&value, &mut text);
        let mut at = cut.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.insert_str(at, junk);
        let tree = lenient_json::parse_tree(text.as_bytes()).map(|tree| tree.to_value());
        prop_assert_eq!(tree, lenient_json::parse(text.as_bytes()));
    }

    // -----------------------------------------------------------------------------------
    // The package reader

    #[test]
    fn the_package_reader_never_panics_and_points_only_into_the_body(
        body in prop_oneof![json_value(), mutated_package()],
        unstable_ids in any::<bool>(),
    ) {
        match package::read(&Node::from(&body), &rules(unstable_ids), Limits::default()) {
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                for problem in &problems {
                    assert_points_into(&body, problem);
                }
            }
            Ok(read) => {
                prop_assert!(!read.records.is_empty());
                for warning in &read.warnings {
                    assert_points_into(&body, warning);
                }
                for (i, record) in read.records.iter().enumerate() {
                    if record.jws.is_none() && !inside_a_jws(&body, &record.pointer) {
                        prop_assert_eq!(body.pointer(&record.pointer).map(Value::to_string), Some(read.document(i).into_owned()));
                    }
                }
            }
        }
    }

    #[test]
    fn a_kept_body_gives_the_records_read_from_the_text_and_the_same_documents(
        body in prop_oneof![json_value(), mutated_package()],
        pretty in any::<bool>(),
    ) {
        // Uploads keep the body and write a record's text only when storing it.
        let text = if pretty { serde_json::to_vec_pretty(&body) } else { serde_json::to_vec(&body) }.expect("serialise");
        let kept = lenient_json::parse_body(text).expect("JSON");
        let lazy = package::read_body(kept, &rules(false), Limits::default());
        let eager = package::read(&Node::from(&body), &rules(false), Limits::default());
        match (lazy, eager) {
            (Ok(lazy), Ok(eager)) => {
                prop_assert_eq!(lazy.records.len(), eager.records.len());
                for (i, (l, e)) in lazy.records.iter().zip(&eager.records).enumerate() {
                    prop_assert_eq!((&l.key, &l.fingerprint, &l.name), (&e.key, &e.fingerprint, &e.name));
                    prop_assert_eq!(lazy.document(i), eager.document(i));
                }
                prop_assert_eq!(lazy.warnings, eager.warnings);
            }
            (lazy, eager) => prop_assert_eq!(lazy.err(), eager.err()),
        }
    }

    #[test]
    fn fingerprints_ignore_key_order_and_whitespace_but_not_values(body in mutated_package()) {
        let Ok(first) = package::read(&Node::from(&body), &rules(false), Limits::default()) else {
            return Ok(());
        };
        let text = serde_json::to_vec_pretty(&reversed(&body)).expect("serialise");
        let again = lenient_json::parse_tree(&text).expect("JSON");
        let second = package::read(&again, &rules(false), Limits::default()).expect("same package");
        let prints = |p: &package::Package| p.records.iter().map(|r| (r.key.clone(), r.fingerprint.clone())).collect::<Vec<_>>();
        prop_assert_eq!(prints(&first), prints(&second));
        // A changed value is a changed fingerprint.
        let mut changed = body.clone();
        let record = &first.records[0];
        if record.jws.is_none() && !inside_a_jws(&body, &record.pointer) {
            let document = changed.pointer_mut(&record.pointer).expect("there");
            document["fingerprintProbe"] = json!(1);
            if let Ok(third) = package::read(&Node::from(&changed), &rules(false), Limits::default()) {
                prop_assert_ne!(&third.records[0].fingerprint, &record.fingerprint);
            }
        }
    }

    #[test]
    fn a_problem_anywhere_is_reported_wherever_else_there_are_problems(
        index in 0usize..3,
        bad in prop_oneof![any::<i64>().prop_map(Value::from), any::<bool>().prop_map(Value::Bool), Just(json!([1]))],
    ) {
        // Three wrong types in one credential: all three are reported, whatever they are.
        let fields = ["validFrom", "issuanceDate", "issuedOn"];
        let mut credential = fixture("guide/three-courses.json")["credentials"][index].clone();
        credential["awardedDate"] = json!("2024-01-01");
        for field in fields {
            credential[field] = bad.clone();
        }
        let problems = package::read(&Node::from(&json!({"credentials": [credential]})), &rules(false), Limits::default())
            .expect_err("wrong types");
        let pointers: Vec<String> = problems.iter().map(|p| p.pointer.clone()).collect();
        let expected: Vec<String> = fields.iter().map(|f| format!("/credentials/0/{f}")).collect();
        prop_assert_eq!(pointers, expected);
    }

    // -----------------------------------------------------------------------------------
    // Sections, SkillSync, dates

    #[test]
    fn section_lookup_is_total_and_ignores_case_and_the_ext_prefix(
        known in proptest::sample::select(vec![
            "Course", "BachelorDegree", "ceterms:License", "Membership", "CoCurricular",
            "Certification", "ceasn:Competency", "Fieldwork", "Microcredential",
        ]),
        any_text in any::<String>(),
        flips in proptest::collection::vec(any::<bool>(), 64),
        ext_flips in proptest::collection::vec(any::<bool>(), 3),
    ) {
        let recase = |s: &str, flips: &[bool]| -> String {
            s.chars().zip(flips.iter().cycle()).map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }).collect()
        };
        let expected = section_for(known, &[]);
        prop_assert!(expected.is_some());
        prop_assert_eq!(section_for(&recase(known, &flips), &[]), expected);
        let ext = recase("ext", &ext_flips);
        prop_assert_eq!(section_for(&format!("{ext}:{known}"), &[]), expected);
        // Any text: an answer, never a panic; with an ext: prefix the same answer.
        let plain = section_for(&any_text, &[]);
        if !any_text.to_ascii_lowercase().starts_with("ext:") {
            prop_assert_eq!(section_for(&format!("{ext}:{any_text}"), &[]), plain);
        }
        // A rule wins over the guide's table, in any case.
        let rules = [MappingRule { achievement_type: known.to_string(), section: Section::Activities }];
        prop_assert_eq!(section_for(&recase(known, &flips), &rules), Some(Section::Activities));
    }

    #[test]
    fn skill_names_are_trimmed_and_one_to_forty_characters(name in any::<String>()) {
        let trimmed = name.trim();
        let length = trimmed.chars().count();
        match SkillName::parse(&name) {
            Ok(parsed) => {
                prop_assert!((1..=SkillName::MAX_CHARS).contains(&length));
                prop_assert_eq!(parsed.as_str(), trimmed);
            }
            Err(_) => prop_assert!(length == 0 || length > SkillName::MAX_CHARS),
        }
    }

    #[test]
    fn skill_vocabularies_accept_any_case_and_nothing_else(
        text in any::<String>(),
        flips in proptest::collection::vec(any::<bool>(), 16),
    ) {
        let recase = |s: &str| -> String {
            s.chars().zip(flips.iter().cycle()).map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c }).collect()
        };
        for &level in SkillLevel::ALL {
            prop_assert_eq!(SkillLevel::parse(&recase(level.as_str())), Ok(level));
        }
        for &category in SkillCategory::ALL {
            prop_assert_eq!(SkillCategory::parse(&recase(category.as_str())), Ok(category));
        }
        let known = |s: &str| SkillLevel::ALL.iter().any(|l| l.as_str().eq_ignore_ascii_case(s.trim()));
        prop_assert_eq!(SkillLevel::parse(&text).is_ok(), known(&text));
    }

    #[test]
    fn dates_round_trip_through_their_normal_form(
        seconds in -62_135_510_400i64..253_402_214_399,
        nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000],
        offset_minutes in -(23 * 60 + 59)..(23 * 60 + 59i32),
        free_text in any::<String>(),
    ) {
        let instant = DateTime::<Utc>::from_timestamp(seconds, nanos).expect("in range");
        let offset = FixedOffset::east_opt(offset_minutes * 60).expect("offset");
        let written = instant.with_timezone(&offset).to_rfc3339_opts(SecondsFormat::AutoSi, false);
        let date = DateText::new(&written);
        let normal = instant.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        prop_assert_eq!(date.parsed.as_deref(), Some(normal.as_str()), "{}", written);
        prop_assert_eq!(date.instant(), Some(instant));
        prop_assert_eq!(&date.text, &written);
        // A plain date is itself, and means its first moment.
        let day: NaiveDate = instant.date_naive();
        let plain = DateText::new(&day.format("%Y-%m-%d").to_string());
        prop_assert_eq!(plain.parsed, Some(day.format("%Y-%m-%d").to_string()));
        // Whatever parses, its normal form parses to itself; the text is always kept.
        let any = DateText::new(&free_text);
        prop_assert_eq!(&any.text, &free_text);
        if let Some(parsed) = &any.parsed {
            let again = DateText::new(parsed).parsed;
            prop_assert_eq!(again.as_ref(), Some(parsed));
            prop_assert!(any.instant().is_some());
        }
    }

    // -----------------------------------------------------------------------------------
    // The token endpoint's Basic credentials

    #[test]
    fn basic_credentials_read_back_what_the_client_encoded(id in any::<String>(), secret in any::<String>()) {
        let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let header = format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(&id), encode(&secret))));
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(axum::http::header::AUTHORIZATION, header.parse().expect("ASCII"));
        let read = basic_credentials(&headers).map_err(|e| e.to_string());
        prop_assert_eq!(read, Ok(Some((id.clone(), secret.clone()))));
        // Sent without form-encoding, an id and secret with no `%`, `+` or `:` (in the id)
        // read back unchanged too.
        if !id.contains([':', '%', '+']) && !secret.contains(['%', '+']) {
            let header = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
            headers.insert(axum::http::header::AUTHORIZATION, header.parse().expect("ASCII"));
            let read = basic_credentials(&headers).map_err(|e| e.to_string());
            prop_assert_eq!(read, Ok(Some((id, secret))));
        }
    }
}

#[test]
fn a_jws_in_a_generated_package_is_a_string_whose_problems_point_at_it() {
    // The property above relies on `inside_a_jws`; this pins the case it exempts.
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let jws = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "EdDSA"})),
        b64(&json!({"vc": {"type": "VerifiableCredential"}})),
        "c2ln"
    );
    let body = json!({"credentials": [jws]});
    let problems = package::read(&Node::from(&body), &rules(false), Limits::default())
        .expect_err("no name, id or issuer");
    for problem in &problems {
        assert_eq!(problem.pointer, "/credentials/0", "{problem:?}");
        assert_points_into(&body, problem);
    }
}
