//! The package reader stops at the first limit a hostile body crosses, and its work is
//! linear in the body: what it reports is what it read, so counting the problems counts
//! the work. (The same bodies over HTTP are in `tests/hostile_partner.rs`.)

use credentialconnect::domain::json_tree::Node;
use credentialconnect::domain::package::{self, Limits, PartnerRules, Problem};
use serde_json::{Value, json};

fn read(body: &Value) -> Result<package::Package, Vec<Problem>> {
    package::read(
        &Node::from(body),
        &PartnerRules::default(),
        Limits::default(),
    )
}

/// A SkillSync carrier with `count` alignments, every one named the same.
fn carrier(count: usize) -> Value {
    let alignments: Vec<Value> = (0..count)
        .map(|_| json!({"targetName": "Teaching"}))
        .collect();
    json!({"credentials": [{
        "id": "c1", "type": "VerifiableCredential", "issuer": "i", "name": "Skills",
        "credentialSubject": {"achievement": {"achievementType": "ext:SkillsAndAbilities",
            "alignment": alignments}}
    }]})
}

#[test]
fn a_carrier_over_the_alignment_limit_is_not_read_past_it() {
    // Had the reader gone on, each of the 39,999 repeated names would be a problem.
    let problems = read(&carrier(40_000)).expect_err("over the limit");
    assert_eq!(
        problems.len(),
        1,
        "{:?}",
        &problems[..problems.len().min(3)]
    );
    assert_eq!(
        problems[0].pointer,
        "/credentials/0/credentialSubject/achievement/alignment"
    );
    assert!(
        problems[0]
            .message
            .contains("at most 200 alignments per credential; this one has 40000"),
        "{}",
        problems[0].message
    );
}

#[test]
fn repeated_skill_names_are_still_found_within_the_limit() {
    let problems = read(&carrier(200)).expect_err("repeated names");
    assert_eq!(
        problems.len(),
        100 + 1,
        "listed, then the count of the rest"
    );
    assert_eq!(
        problems[0].pointer,
        "/credentials/0/credentialSubject/achievement/alignment/1/targetName"
    );
    assert!(problems[0].message.contains("appears twice"));
}

#[test]
fn too_many_items_are_refused_before_any_item_is_read() {
    // 10,000 empty objects: each would be several problems if the items were validated.
    let items: Vec<Value> = (0..10_000).map(|_| json!({})).collect();
    let problems = read(&json!({"credentials": items})).expect_err("too many");
    assert_eq!(
        problems.len(),
        1,
        "{:?}",
        &problems[..problems.len().min(3)]
    );
    assert_eq!(problems[0].pointer, "/credentials");
    assert_eq!(
        problems[0].message,
        "a package carries at most 500 credentials; this one carries 10000"
    );
}

#[test]
fn nested_credentials_count_against_the_limit_and_reading_stops_there() {
    let nested: Vec<Value> = (0..600)
        .map(|i| json!({"id": format!("n{i}"), "type": "VerifiableCredential"}))
        .collect();
    let body = json!({"credentials": [{
        "id": "clr", "type": ["VerifiableCredential", "ClrCredential"], "issuer": "i",
        "name": "Transcript", "credentialSubject": {"verifiableCredential": nested}
    }]});
    let problems = read(&body).expect_err("too many");
    let limit: Vec<&Problem> = problems
        .iter()
        .filter(|p| p.message.contains("at most 500 credentials"))
        .collect();
    assert_eq!(limit.len(), 1, "{problems:?}");
    assert_eq!(
        limit[0].pointer,
        "/credentials/0/credentialSubject/verifiableCredential/499"
    );
    // The nested credentials lack issuer and name, so the count of problems says how many
    // were read.
    let last = problems.last().expect("problems");
    assert_eq!(last.pointer, "");
    assert!(last.message.starts_with("and "), "{}", last.message);
    let unlisted: usize = last
        .message
        .trim_start_matches("and ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    // The limit is listed whatever the count; besides it, the CLR and 499 nested credentials
    // were read, the nested ones with two problems each (no issuer, no name).
    assert_eq!(problems.len(), 100 + 2);
    assert_eq!(100 + unlisted, 499 * 2);
}

#[test]
fn at_most_a_hundred_problems_are_listed_with_the_count_of_the_rest() {
    let items: Vec<Value> = (0..400).map(|_| json!({})).collect();
    let problems = read(&json!({"credentials": items})).expect_err("invalid");
    assert_eq!(problems.len(), 101);
    let counted = problems.last().expect("the count");
    assert_eq!(counted.pointer, "");
    // Each empty item is four problems (type, id, issuer, name).
    assert_eq!(
        counted.message,
        "and 1500 more problems, not listed (at most 100 are): fix these and send the package again"
    );
}
