//! The package reader (src/domain/package.rs) on any body the lenient JSON reader accepts.
//!
//! Invariants: it never panics; a refusal lists at least one problem; every problem and
//! warning points into the body (the place itself, or a missing member of an object that is
//! there); the tree an upload is read from means what serde_json's `Value` means; every
//! record of a credential sent as JSON stores that credential's JSON, and a fingerprint is
//! 64 hex digits; reading with the body kept (as uploads do) gives the same package.
#![no_main]

use credentialconnect::domain::lenient_json;
use credentialconnect::domain::package::{self, Limits, PartnerRules, Problem};
use credentialconnect::domain::sections::{MappingRule, Section};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let Ok(tree) = lenient_json::parse_tree(body) else {
        assert!(lenient_json::parse(body).is_err(), "the tree refused what Value accepts");
        return;
    };
    let value = lenient_json::parse(body).expect("the tree accepted what Value refuses");
    assert_eq!(tree.to_value(), value, "the tree differs from the Value");
    let rules = PartnerRules {
        unstable_ids: flags & 1 != 0,
        strict: flags & 2 != 0,
        mapping: if flags & 4 != 0 {
            vec![MappingRule {
                achievement_type: "ext:Internship".into(),
                section: Section::Experience,
            }]
        } else {
            Vec::new()
        },
    };
    let limits = Limits {
        max_credentials: 1 + usize::from(flags >> 4),
        max_alignments: 1 + usize::from(flags >> 4),
    };
    let read = package::read(&tree, &rules, limits);
    let kept = lenient_json::parse_body(body.to_vec()).expect("the tree parsed");
    match (&read, &package::read_body(kept, &rules, limits)) {
        (Ok(read), Ok(lazy)) => {
            assert_eq!(read.records.len(), lazy.records.len());
            for (i, (r, l)) in read.records.iter().zip(&lazy.records).enumerate() {
                assert_eq!((&r.key, &r.fingerprint), (&l.key, &l.fingerprint));
                assert_eq!(read.document(i), lazy.document(i), "kept body, other text");
            }
        }
        (read, lazy) => assert_eq!(read.as_ref().err(), lazy.as_ref().err()),
    }
    match read {
        Err(problems) => {
            assert!(!problems.is_empty(), "a refusal without a problem");
            for problem in &problems {
                check_pointer(&value, problem);
            }
        }
        Ok(read) => {
            assert!(!read.records.is_empty(), "accepted with nothing in it");
            for warning in &read.warnings {
                check_pointer(&value, warning);
            }
            for (i, record) in read.records.iter().enumerate() {
                assert_eq!(record.fingerprint.len(), 64);
                assert!(record.fingerprint.bytes().all(|b| b.is_ascii_hexdigit()));
                if record.jws.is_none() && !inside_a_jws(&value, &record.pointer) {
                    assert_eq!(
                        value.pointer(&record.pointer).map(Value::to_string).as_deref(),
                        Some(read.document(i).as_ref()),
                        "record at {:?} is not the credential there",
                        record.pointer
                    );
                }
            }
        }
    }
});

/// True when an ancestor of `pointer` is a string: the credential came inside a JWS.
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

fn check_pointer(body: &Value, problem: &Problem) {
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
        "{problem:?} points nowhere in the body"
    );
}
