//! Our JSON-LD expansion and canonicalization against jsonld.js, the processor the
//! JavaScript verifier uses: for every JSON example (and every nested CLR credential), the
//! document without its proofs and each proof's options must canonicalize to the same
//! N-Quads, byte for byte, and what jsonld.js refuses in safe mode we refuse too. The
//! references are made by `scripts/bench/js-verifier/reference-nquads.mjs` (jsonld 9.0).

mod common;

use credentialconnect::verify::Verifier;
use credentialconnect::verify::canonical::canonical_nquads;
use serde_json::Value;

/// The inputs the reference script canonicalized for one example unit, by kind
/// ("document", "proof0", …).
fn inputs(unit: &Value) -> Vec<(String, Value)> {
    let mut unsecured = unit.clone();
    let proof = unsecured.as_object_mut().and_then(|o| o.remove("proof"));
    let mut out = vec![("document".to_string(), unsecured)];
    let proofs = match proof {
        Some(Value::Array(list)) => list,
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    for (i, proof) in proofs.into_iter().enumerate() {
        let mut options = proof.as_object().cloned().unwrap_or_default();
        options.remove("proofValue");
        options.insert("@context".into(), unit["@context"].clone());
        out.push((format!("proof{i}"), Value::Object(options)));
    }
    out
}

#[test]
fn canonical_n_quads_match_jsonld_js_on_every_example() {
    let verifier = Verifier::offline();
    let directory = common::fixtures().join("verification/jsonld-js");
    let mut references: Vec<String> = std::fs::read_dir(&directory)
        .expect("the reference directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    references.sort();
    assert!(references.len() > 100, "{} references", references.len());
    let mut compared = 0;
    let mut wrong = Vec::new();
    for reference in &references {
        let (stem, extension) = reference.rsplit_once('.').expect("extension");
        let (unit_name, kind) = stem.rsplit_once('.').expect("kind");
        let (file, nested) = match unit_name.rsplit_once("-vc") {
            Some((file, index)) if index.chars().all(|c| c.is_ascii_digit()) => {
                (file, Some(index.parse::<usize>().expect("index")))
            }
            _ => (unit_name, None),
        };
        let example =
            common::fixture_json(&format!("standards/examples/{}", file.replace("__", "/")));
        let unit = match nested {
            None => example,
            Some(i) => example["credentialSubject"]["verifiableCredential"][i].clone(),
        };
        let input = inputs(&unit)
            .into_iter()
            .find(|(k, _)| k == kind)
            .unwrap_or_else(|| panic!("{reference}: no input {kind}"))
            .1;
        let ours = canonical_nquads(verifier.processor(), &input);
        let expected = std::fs::read_to_string(directory.join(reference)).expect("read");
        compared += 1;
        match (extension, ours) {
            ("nq", Ok(ours)) if ours == expected => {}
            ("nq", Ok(ours)) => wrong.push(format!(
                "{reference}: N-Quads differ\n--- jsonld.js\n{expected}--- ours\n{ours}"
            )),
            ("nq", Err(e)) => wrong.push(format!(
                "{reference}: jsonld.js canonicalizes it, we refuse: {e}"
            )),
            ("error", Ok(_)) => wrong.push(format!(
                "{reference}: jsonld.js refuses it ({}), we accept it",
                expected.trim()
            )),
            ("error", Err(_)) => {}
            (other, _) => panic!("unexpected reference {other}"),
        }
    }
    assert!(compared > 100);
    assert!(
        wrong.is_empty(),
        "{} of {compared} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
