//! Differential: our JSON-LD processor (src/verify/jsonld/) against jsonld.js, the processor
//! of the JavaScript verifier, on generated credential-shaped documents: the VCDM 2.0
//! context or none, then an embedded context with keyword aliases, `@list`/`@set`/`@graph`/
//! `@language` containers, property- and type-scoped contexts, `@json` and typed terms,
//! default and per-term languages (some malformed), `@vocab` and prefixes; and nested
//! subjects with value, list and set objects, language maps and numbers of every kind.
//!
//! Invariant: whenever both processors turn a document into quads (ours in safe mode,
//! jsonld.js with `safe: true`), the canonical N-Quads are the same, byte for byte. Where
//! only one refuses, nothing is asserted: ours refuses more on purpose (colliding aliases,
//! features credentials do not use). Nothing panics.
//!
//! jsonld.js runs as one long-lived child process
//! (scripts/bench/js-verifier/nquads-stdio.mjs; `npm ci` in that folder first).
#![no_main]

#[path = "jsonld_documents.rs"]
mod documents;

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(document) = documents::document(&mut u) else {
        return;
    };
    if let Err(difference) = documents::compare(&document) {
        panic!("{difference}");
    }
});
