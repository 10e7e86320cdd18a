//! JSON-LD contexts for verification: the bundled ones (`contexts/` at the repository root,
//! compiled in; `contexts/INDEX.tsv` maps URLs to files, `contexts/SOURCES.tsv` says where each
//! came from) and the ones an operator adds (`credentialconnect context add URL FILE`, kept in
//! the database). Nothing here ever fetches a context: an unknown context makes a proof
//! uncheckable, not a network call.

use super::jsonld::ContextSource;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

const INDEX: &str = include_str!("../../contexts/INDEX.tsv");

/// (file name, contents) of every bundled context.
const FILES: &[(&str, &str)] = &[
    (
        "clr-v2p0-context-2.0.1.json",
        include_str!("../../contexts/clr-v2p0-context-2.0.1.json"),
    ),
    (
        "clr-v2p0-context.json",
        include_str!("../../contexts/clr-v2p0-context.json"),
    ),
    (
        "ob-v3p0-context-3.0.1.json",
        include_str!("../../contexts/ob-v3p0-context-3.0.1.json"),
    ),
    (
        "ob-v3p0-context-3.0.2.json",
        include_str!("../../contexts/ob-v3p0-context-3.0.2.json"),
    ),
    (
        "ob-v3p0-context-3.0.3.json",
        include_str!("../../contexts/ob-v3p0-context-3.0.3.json"),
    ),
    (
        "ob-v3p0-context.json",
        include_str!("../../contexts/ob-v3p0-context.json"),
    ),
    (
        "ob-v3p0-extensions.json",
        include_str!("../../contexts/ob-v3p0-extensions.json"),
    ),
    (
        "w3c-credentials-examples-v2.jsonld",
        include_str!("../../contexts/w3c-credentials-examples-v2.jsonld"),
    ),
    (
        "w3c-credentials-v1.jsonld",
        include_str!("../../contexts/w3c-credentials-v1.jsonld"),
    ),
    (
        "w3c-credentials-v2.jsonld",
        include_str!("../../contexts/w3c-credentials-v2.jsonld"),
    ),
    (
        "w3c-did-v1.jsonld",
        include_str!("../../contexts/w3c-did-v1.jsonld"),
    ),
    (
        "w3id-security-data-integrity-v1.jsonld",
        include_str!("../../contexts/w3id-security-data-integrity-v1.jsonld"),
    ),
    (
        "w3id-security-data-integrity-v2.jsonld",
        include_str!("../../contexts/w3id-security-data-integrity-v2.jsonld"),
    ),
    (
        "w3id-security-jwk-v1.jsonld",
        include_str!("../../contexts/w3id-security-jwk-v1.jsonld"),
    ),
    (
        "w3id-security-multikey-v1.jsonld",
        include_str!("../../contexts/w3id-security-multikey-v1.jsonld"),
    ),
    (
        "w3id-security-suites-ed25519-2020-v1.jsonld",
        include_str!("../../contexts/w3id-security-suites-ed25519-2020-v1.jsonld"),
    ),
    (
        "w3id-security-v1.jsonld",
        include_str!("../../contexts/w3id-security-v1.jsonld"),
    ),
    (
        "w3id-security-v2.jsonld",
        include_str!("../../contexts/w3id-security-v2.jsonld"),
    ),
];

/// The contexts a verifier may use.
pub struct Contexts {
    bundled: HashMap<String, Arc<Value>>,
    added: RwLock<HashMap<String, Arc<Value>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("{0} is not an absolute http(s) URL")]
    BadUrl(String),
    #[error("{url} is bundled already; bundled contexts cannot be replaced")]
    Bundled { url: String },
    #[error("the context document is not usable: {0}")]
    BadDocument(String),
}

impl Contexts {
    /// The bundled contexts only.
    pub fn bundled() -> Contexts {
        let files: HashMap<&str, &str> = FILES.iter().copied().collect();
        let mut bundled = HashMap::new();
        for line in INDEX.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let mut columns = line.split('\t');
            let (Some(url), Some(file)) = (columns.next(), columns.next()) else {
                continue;
            };
            // A bundled file that does not parse is a build defect the unit tests catch.
            if let Some(text) = files.get(file)
                && let Ok(document) = serde_json::from_str::<Value>(text)
            {
                bundled.insert(url.to_string(), Arc::new(document));
            }
        }
        Contexts {
            bundled,
            added: RwLock::new(HashMap::new()),
        }
    }

    /// URLs of the bundled contexts.
    pub fn bundled_urls(&self) -> Vec<&str> {
        let mut urls: Vec<&str> = self.bundled.keys().map(String::as_str).collect();
        urls.sort_unstable();
        urls
    }

    /// Checks an operator's context before it is stored: an absolute URL we do not bundle and
    /// a JSON object with an `@context` entry.
    pub fn check_addition(&self, url: &str, document: &str) -> Result<Value, ContextError> {
        let parsed = url::Url::parse(url).map_err(|_| ContextError::BadUrl(url.to_string()))?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(ContextError::BadUrl(url.to_string()));
        }
        if self.bundled.contains_key(url) {
            return Err(ContextError::Bundled {
                url: url.to_string(),
            });
        }
        let value: Value = serde_json::from_str(document)
            .map_err(|e| ContextError::BadDocument(format!("not JSON: {e}")))?;
        if !value
            .get("@context")
            .is_some_and(|c| c.is_object() || c.is_array())
        {
            return Err(ContextError::BadDocument(
                "a context document is a JSON object with an `@context` object or array".into(),
            ));
        }
        Ok(value)
    }

    /// Replaces the operator-added contexts (as loaded from the database).
    pub fn set_added(&self, added: impl IntoIterator<Item = (String, Value)>) {
        let map: HashMap<String, Arc<Value>> =
            added.into_iter().map(|(u, v)| (u, Arc::new(v))).collect();
        match self.added.write() {
            Ok(mut guard) => *guard = map,
            Err(poisoned) => *poisoned.into_inner() = map,
        }
    }

    pub fn is_known(&self, url: &str) -> bool {
        self.context(url).is_some()
    }
}

impl ContextSource for Contexts {
    fn context(&self, url: &str) -> Option<Arc<Value>> {
        if let Some(document) = self.bundled.get(url) {
            return Some(Arc::clone(document));
        }
        let added = match self.added.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        added.get(url).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_indexed_context_is_bundled_and_parses() {
        let contexts = Contexts::bundled();
        let indexed = INDEX
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .count();
        assert_eq!(
            contexts.bundled.len(),
            indexed,
            "{:?}",
            contexts.bundled_urls()
        );
        for url in contexts.bundled_urls() {
            assert!(
                contexts
                    .context(url)
                    .expect("present")
                    .get("@context")
                    .is_some(),
                "{url}"
            );
        }
    }

    #[test]
    fn added_contexts_are_checked_and_then_served() {
        let contexts = Contexts::bundled();
        assert!(matches!(
            contexts.check_addition("https://www.w3.org/ns/credentials/v2", "{}"),
            Err(ContextError::Bundled { .. })
        ));
        assert!(contexts.check_addition("ftp://x/ctx", "{}").is_err());
        assert!(
            contexts
                .check_addition("https://x.example/ctx", "[]")
                .is_err()
        );
        let doc = contexts
            .check_addition(
                "https://x.example/ctx",
                r#"{"@context": {"a": "https://x/a"}}"#,
            )
            .expect("valid");
        assert!(!contexts.is_known("https://x.example/ctx"));
        contexts.set_added([("https://x.example/ctx".to_string(), doc)]);
        assert!(contexts.is_known("https://x.example/ctx"));
    }
}
