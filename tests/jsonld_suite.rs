//! The W3C JSON-LD 1.1 toRdf test suite (tests/fixtures/jsonld-api-tests, unchanged) run
//! against the verifier's JSON-LD processor.
//!
//! Every test gets one outcome:
//! - `pass`: the quads are the expected ones (compared as canonical N-Quads, RDFC-1.0);
//! - `refused`: a positive test our safe-mode processor refuses, with the error it gives
//!   (which names the feature or the thing that would be dropped);
//! - `error-as-expected`: a negative test, and we give an error too;
//! - `not-applicable`: a test of JSON-LD 1.0 behaviour or of an API option (an initial
//!   context) the verifier never uses.
//!
//! Two outcomes are never allowed, whatever the expectations say: `wrong` (quads that are not
//! the expected ones) and `quads-from-negative` (a document the specification calls an error
//! turned into quads). A panic fails the test as well.
//!
//! The outcome of every test, with our error message, is recorded in
//! `tests/fixtures/jsonld-api-tests/expectations.tsv`; any change (a passing test refused, a
//! refusal that now passes, a different message) fails the build until the file is updated
//! on purpose: `JSONLD_SUITE_UPDATE=1 cargo test --test jsonld_suite` rewrites it.

mod common;
#[path = "common/nquads.rs"]
mod nquads;

use credentialconnect::verify::canonical::canonicalize;
use credentialconnect::verify::jsonld::{ContextSource, Processor, RdfTerm};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the suite's documents are published: contexts are named by these URLs.
const BASE: &str = "https://w3c.github.io/json-ld-api/tests/";

fn suite_dir() -> PathBuf {
    common::fixtures().join("jsonld-api-tests")
}

/// Serves the suite's files for their published URLs; nothing else exists.
struct SuiteFiles(PathBuf);

impl ContextSource for SuiteFiles {
    fn context(&self, url: &str) -> Option<Arc<Value>> {
        let relative = url.strip_prefix(BASE)?;
        if relative.contains("..") {
            return None;
        }
        let text = std::fs::read(self.0.join(relative)).ok()?;
        serde_json::from_slice(&text).ok().map(Arc::new)
    }
}

/// One test's outcome and its detail (our error, or why the test does not apply).
fn run_test(processor: &Processor, dir: &Path, test: &Value) -> (&'static str, String) {
    let types: Vec<&str> = test["@type"]
        .as_array()
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let negative = types.contains(&"jld:NegativeEvaluationTest");
    let option = &test["option"];
    if option["specVersion"] == "json-ld-1.0" {
        return ("not-applicable", "a JSON-LD 1.0 test".into());
    }
    if option["processingMode"] == "json-ld-1.0" {
        return (
            "not-applicable",
            "runs in JSON-LD 1.0 processing mode".into(),
        );
    }
    if option.get("expandContext").is_some() {
        return (
            "not-applicable",
            "the expandContext option (the verifier never supplies an initial context)".into(),
        );
    }
    let input = test["input"].as_str().expect("input");
    if !input.starts_with("toRdf/") {
        // One test (ter56) reuses an input of the expansion suite, which is not vendored.
        return (
            "not-applicable",
            format!("its input {input} is not in the toRdf suite"),
        );
    }
    let text = std::fs::read(dir.join(input)).expect("input file");
    let document: Value = match serde_json::from_slice(&text) {
        Ok(document) => document,
        Err(e) if negative => return ("error-as-expected", format!("not JSON: {e}")),
        Err(e) => panic!("{input} is not JSON: {e}"),
    };
    let ours = processor
        .to_quads(&document)
        .map_err(|e| e.to_string())
        .and_then(|quads| canonicalize(&quads).map_err(|e| e.to_string()));
    match (ours, negative) {
        (Err(error), true) => ("error-as-expected", error),
        (Err(error), false) => ("refused", error),
        (Ok(quads), true) => ("quads-from-negative", quads),
        (Ok(quads), false) => {
            let Some(expect) = test["expect"].as_str() else {
                // A positive syntax test: no error is all it asks.
                return ("pass", String::new());
            };
            let expected_text = std::fs::read_to_string(dir.join(expect)).expect("expected output");
            let expected = nquads::parse(&expected_text)
                .and_then(|q| canonicalize(&q).map_err(|e| e.to_string()));
            match expected {
                Ok(expected) if expected == quads => ("pass", String::new()),
                Ok(expected) => ("wrong", format!("expected\n{expected}got\n{quads}")),
                Err(e) => (
                    "wrong",
                    format!("expected output unreadable ({e}); got\n{quads}"),
                ),
            }
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
}

#[test]
fn w3c_to_rdf_suite_outcomes_are_the_recorded_ones() {
    let dir = suite_dir();
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(dir.join("toRdf-manifest.jsonld")).expect("the manifest"),
    )
    .expect("manifest JSON");
    let tests = manifest["sequence"].as_array().expect("sequence");
    assert_eq!(tests.len(), 467, "the suite has 467 toRdf tests");

    let mut outcomes: BTreeMap<String, (&'static str, String)> = BTreeMap::new();
    for test in tests {
        let id = test["@id"].as_str().expect("id").trim_start_matches('#');
        // A fresh processor per test: no cached context leaks from one test into another.
        let processor = Processor::new(Arc::new(SuiteFiles(dir.clone())));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_test(&processor, &dir, test)
        }))
        .unwrap_or_else(|_| ("panic", String::new()));
        outcomes.insert(id.to_string(), outcome);
    }

    let forbidden: Vec<String> = outcomes
        .iter()
        .filter(|(_, (outcome, _))| matches!(*outcome, "wrong" | "quads-from-negative" | "panic"))
        .map(|(id, (outcome, detail))| format!("{id}: {outcome}\n{detail}"))
        .collect();

    let table: String = outcomes
        .iter()
        .map(|(id, (outcome, detail))| format!("{id}\t{outcome}\t{}\n", escape(detail)))
        .collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (outcome, _) in outcomes.values() {
        *counts.entry(outcome).or_default() += 1;
    }
    eprintln!("toRdf suite: {counts:?}");

    let path = dir.join("expectations.tsv");
    let header = "# test\toutcome\tdetail (tests/jsonld_suite.rs explains; JSONLD_SUITE_UPDATE=1 rewrites)\n";
    if std::env::var_os("JSONLD_SUITE_UPDATE").is_some() {
        std::fs::write(&path, format!("{header}{table}")).expect("write expectations");
    }
    assert!(
        forbidden.is_empty(),
        "{} tests give wrong quads, quads for an error, or panic:\n\n{}",
        forbidden.len(),
        forbidden.join("\n\n")
    );
    let recorded = std::fs::read_to_string(&path).unwrap_or_default();
    let recorded: BTreeMap<&str, &str> = recorded
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .collect();
    let mut changed = Vec::new();
    for line in table.lines() {
        let (id, now) = line.split_once('\t').expect("tab");
        match recorded.get(id) {
            Some(before) if *before == now => {}
            Some(before) => changed.push(format!("{id}: recorded {before:?}, now {now:?}")),
            None => changed.push(format!("{id}: not recorded, now {now:?}")),
        }
    }
    assert!(
        changed.is_empty() && recorded.len() == outcomes.len(),
        "{} outcomes differ from expectations.tsv (JSONLD_SUITE_UPDATE=1 after checking each):\n{}",
        changed.len(),
        changed.join("\n")
    );
}

#[test]
fn the_n_quads_reader_reads_escapes_languages_datatypes_and_graphs() {
    let quads = nquads::parse(
        "<http://a/s> <http://a/p> \"x\\n\\\"y\\u00E9\"@en-US <http://a/g> .\n\
         _:b0 <http://a/p> \"1\"^^<http://www.w3.org/2001/XMLSchema#integer> .\n",
    )
    .expect("parses");
    assert_eq!(quads.len(), 2);
    assert_eq!(
        quads[0].object,
        RdfTerm::Literal {
            value: "x\n\"yé".into(),
            datatype: "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString".into(),
            language: Some("en-us".into()),
        }
    );
    assert_eq!(quads[0].graph, Some(RdfTerm::Iri("http://a/g".into())));
    assert_eq!(quads[1].subject, RdfTerm::Blank("b0".into()));
    assert_eq!(quads[1].graph, None);
}

#[test]
fn the_canonical_form_does_not_depend_on_how_blank_nodes_were_labelled() {
    // One dataset (lists of lists with equal members), labelled two ways: as our processor
    // labels it, and as jsonld.js's canonicalizer left it. rdf-canonize returns each labelling
    // unchanged, two "canonical" forms of one dataset; RDFC-1.0 (and rdf-canon) gives one.
    let dir = common::fixtures().join("canonicalization");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("fixture");
    let canonical = read("lists-of-alike-lists.rdfc.nq");
    for name in [
        "lists-of-alike-lists.rdfc.nq",
        "lists-of-alike-lists.relabelled.nq",
    ] {
        let quads = nquads::parse(&read(name)).expect("N-Quads");
        assert_eq!(
            canonicalize(&quads).expect("canonical"),
            canonical,
            "{name}"
        );
    }
    assert_ne!(read("lists-of-alike-lists.relabelled.nq"), canonical);
}
