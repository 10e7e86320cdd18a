//! Our JSON-LD processor against jsonld.js on generated credential-shaped documents, the
//! same generator and comparison as the fuzz target `jsonld_differential`
//! (fuzz/fuzz_targets/jsonld_documents.rs), driven here by a seeded pseudo-random source
//! instead of libFuzzer, and over the fuzz target's committed corpus.
//!
//! Needs node and `npm ci` in scripts/bench/js-verifier, so it is not part of the default
//! run:
//!
//!   JSONLD_DIFFERENTIAL_SECONDS=600 cargo test --test jsonld_differential -- --ignored
//!
//! (`JSONLD_DIFFERENTIAL_SEED` picks another pseudo-random sequence.)

#[path = "../fuzz/fuzz_targets/jsonld_documents.rs"]
#[allow(dead_code)]
mod documents;

use arbitrary::Unstructured;
use std::time::{Duration, Instant};

/// xorshift64*: reproducible bytes for the generator without a dependency.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

#[test]
#[ignore = "needs node and scripts/bench/js-verifier/node_modules (npm ci)"]
fn generated_documents_canonicalize_as_jsonld_js_does() {
    let seconds: u64 = std::env::var("JSONLD_DIFFERENTIAL_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let mut state: u64 = std::env::var("JSONLD_DIFFERENTIAL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    let corpus =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/jsonld_differential");
    if let Ok(entries) = std::fs::read_dir(&corpus) {
        for entry in entries.flatten() {
            inputs.push(std::fs::read(entry.path()).expect("corpus file"));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut documents, mut both, mut differences) = (0u64, 0u64, Vec::new());
    let mut corpus_inputs = inputs.into_iter();
    while Instant::now() < deadline || corpus_inputs.len() > 0 {
        let bytes = corpus_inputs.next().unwrap_or_else(|| {
            let length = 64 + (next(&mut state) % 1024) as usize;
            (0..length).map(|_| next(&mut state) as u8).collect()
        });
        let Ok(document) = documents::document(&mut Unstructured::new(&bytes)) else {
            continue;
        };
        documents += 1;
        match documents::compare(&document) {
            Ok(true) => {
                both += 1;
                // JSONLD_DIFFERENTIAL_KEEP=DIR keeps the inputs both processors turned into
                // quads (at most 200): the fuzz target's corpus starts from them.
                if let Ok(dir) = std::env::var("JSONLD_DIFFERENTIAL_KEEP")
                    && both <= 200
                {
                    let path = std::path::Path::new(&dir).join(format!("both-{both}"));
                    std::fs::write(path, &bytes).expect("keep the input");
                }
            }
            Ok(false) => {}
            Err(difference) => differences.push(difference),
        }
        if differences.len() >= 3 {
            break;
        }
    }
    eprintln!("{documents} documents, {both} turned into quads by both processors");
    assert!(
        differences.is_empty(),
        "{} differences:\n\n{}",
        differences.len(),
        differences.join("\n\n")
    );
    assert!(both > 0, "no document was turned into quads by both");
}
