//! JSON-LD 1.1 expansion and RDF conversion (W3C JSON-LD 1.1 Processing Algorithms §4.1
//! context processing, §5.1 expansion, §7 RDF serialization) for the feature set credential
//! contexts use: protected, property- and type-scoped contexts, `@vocab`, `@graph`, `@list`
//! and `@set` containers, `@json` and typed literals.
//!
//! Two departures from a general-purpose processor, both deliberate:
//! - **Safe mode** (VC Data Integrity §4.4): anything JSON-LD would silently drop — an
//!   undefined term, a relative IRI, a malformed value — is an error, so a signature can never
//!   "hold" over a document part of which it does not cover.
//! - **No network and a cache of processed contexts**: remote contexts come only from a
//!   [`ContextSource`] (bundled and admin-added documents), and every step "active context +
//!   context → new active context" for those documents is computed once and reused. That is
//!   where general-purpose processors spend most of their time.
//!
//! Features the credential contexts do not use (`@reverse`, `@nest`, `@index`/`@id`/`@type`/
//! `@language` maps, `@included`, `@import`, `@direction`) are refused with an
//! [`Unsupported`](JsonLdError::Unsupported) error rather than approximated.
//!
//! The three algorithms live in their own modules: [`context`] (context processing and IRI
//! expansion), [`expand`] (expansion into a typed form) and [`to_rdf`] (quads).

mod context;
mod expand;
mod to_rdf;

pub use to_rdf::{Quad, RdfTerm};

use context::{ActiveContext, Transitions};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use to_rdf::QuadWriter;

/// Where remote contexts come from. Implementations never touch the network.
pub trait ContextSource: Send + Sync {
    /// The context document published at `url` (the whole document, with its `@context`).
    fn context(&self, url: &str) -> Option<Arc<Value>>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonLdError {
    /// A context URL we do not hold: the document cannot be checked (never fetched).
    #[error(
        "the JSON-LD context {0} is not one we hold (contexts are never fetched while verifying)"
    )]
    UnknownContext(String),
    /// A JSON-LD feature outside the subset credential contexts use.
    #[error("unsupported JSON-LD feature: {0}")]
    Unsupported(String),
    /// Safe mode: something would be dropped or is malformed.
    #[error("{0}")]
    Invalid(String),
}

type Result<T> = std::result::Result<T, JsonLdError>;

fn invalid<T>(message: impl Into<String>) -> Result<T> {
    Err(JsonLdError::Invalid(message.into()))
}

const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const XSD: &str = "http://www.w3.org/2001/XMLSchema#";

/// The processor: a context source and the cache of context transitions.
pub struct Processor {
    source: Arc<dyn ContextSource>,
    initial: Arc<ActiveContext>,
    transitions: Mutex<Transitions>,
}

/// Past this many cached transitions the cache starts afresh (documents that pile up odd
/// context combinations cannot grow memory without bound).
const MAX_TRANSITIONS: usize = 4096;
/// Remote contexts that include further remote contexts: how deep before we refuse.
const MAX_CONTEXT_DEPTH: usize = 16;
/// How deep a document may nest before we refuse it.
const MAX_NESTING: usize = 64;

impl Processor {
    pub fn new(source: Arc<dyn ContextSource>) -> Processor {
        Processor {
            source,
            initial: Arc::new(ActiveContext::empty()),
            transitions: Mutex::new(HashMap::new()),
        }
    }

    /// Expands `document` and returns its RDF quads (blank nodes labelled `_:b0`, `_:b1`, …
    /// in document order; canonicalization relabels them).
    pub fn to_quads(&self, document: &Value) -> Result<Vec<Quad>> {
        let expanded = self.expand(document)?;
        let mut writer = QuadWriter::default();
        for item in &expanded {
            writer.top_level(item, None)?;
        }
        writer.finish()
    }
}

fn is_keyword(value: &str) -> bool {
    matches!(
        value,
        "@base"
            | "@container"
            | "@context"
            | "@direction"
            | "@graph"
            | "@id"
            | "@import"
            | "@included"
            | "@index"
            | "@json"
            | "@language"
            | "@list"
            | "@nest"
            | "@none"
            | "@prefix"
            | "@propagate"
            | "@protected"
            | "@reverse"
            | "@set"
            | "@type"
            | "@value"
            | "@version"
            | "@vocab"
    )
}

/// A language tag, checked for BCP 47 well-formedness (RFC 5646 §2.1) and lower-cased as
/// jsonld.js writes it. JSON-LD itself only warns about a malformed tag and keeps it; in
/// an N-Quads line a tag with a space or newline could carry a statement of its own.
fn language_tag(tag: &str, place: &str) -> Result<String> {
    match oxilangtag::LanguageTag::parse(tag) {
        Ok(_) => Ok(tag.to_ascii_lowercase()),
        Err(e) => invalid(format!(
            "{place} {tag:?} is not a well-formed BCP 47 language tag ({e})"
        )),
    }
}

/// An absolute IRI: a scheme (RFC 3986 §3.1) followed by ':'.
fn is_absolute_iri(value: &str) -> bool {
    let Some((scheme, _)) = value.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !value.chars().any(|c| {
            c.is_whitespace() || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`')
        })
}

#[cfg(test)]
mod tests {
    use super::to_rdf::canonical_double;
    use super::*;
    use serde_json::json;

    struct Inline(HashMap<String, Arc<Value>>);

    impl ContextSource for Inline {
        fn context(&self, url: &str) -> Option<Arc<Value>> {
            self.0.get(url).cloned()
        }
    }

    fn processor(contexts: &[(&str, Value)]) -> Processor {
        Processor::new(Arc::new(Inline(
            contexts
                .iter()
                .map(|(u, v)| (u.to_string(), Arc::new(v.clone())))
                .collect(),
        )))
    }

    #[test]
    fn doubles_use_the_canonical_lexical_form() {
        assert_eq!(canonical_double(1.5), "1.5E0");
        assert_eq!(canonical_double(100.0), "1.0E2");
        assert_eq!(canonical_double(0.000_12), "1.2E-4");
    }

    #[test]
    fn numbers_without_a_fraction_are_integers_as_in_javascript() {
        let p = processor(&[("https://c/", json!({"@context": {"n": "https://v/n"}}))]);
        let quads = p
            .to_quads(&serde_json::from_str(r#"{"@context": "https://c/", "@id": "https://x/1", "n": [42.0, -0.0, 1.5, 7]}"#).expect("json"))
            .expect("expands");
        let mut values: Vec<&str> = quads
            .iter()
            .filter_map(|q| match &q.object {
                RdfTerm::Literal { value, .. } => Some(value.as_str()),
                _ => None,
            })
            .collect();
        values.sort_unstable();
        assert_eq!(values, ["0", "1.5E0", "42", "7"]);
    }

    #[test]
    fn one_statement_written_in_two_forms_is_refused_and_a_repeated_value_counts_once() {
        // jsonld.js keeps a value once per expanded form: `"x"` typed xsd:string by its term
        // and `{"@value": "x"}` are two forms of one statement, which it writes twice into
        // the canonical N-Quads (found by the differential fuzz target).
        let p = processor(&[(
            "https://c/",
            json!({"@context": {
                "name": {"@id": "https://schema.org/name", "@type": "http://www.w3.org/2001/XMLSchema#string"},
                "flag": "https://v/flag",
                "n": "https://v/n"
            }}),
        )]);
        let refused = |document: Value| {
            let err = p
                .to_quads(&document)
                .expect_err("two forms of one statement");
            assert!(err.to_string().contains("twice"), "{err}");
        };
        refused(
            json!({"@context": "https://c/", "@id": "https://x/1", "name": ["x", {"@value": "x"}]}),
        );
        refused(json!({"@context": "https://c/", "@id": "https://x/1",
            "flag": [true, {"@value": "true", "@type": "http://www.w3.org/2001/XMLSchema#boolean"}]}));
        // The two forms may sit on two copies of one node.
        refused(json!({"@context": "https://c/", "@graph": [
            {"@id": "https://x/1", "name": "x"},
            {"@id": "https://x/1", "name": {"@value": "x"}}
        ]}));

        // One form given twice is one statement in every processor (JavaScript's 1 and 1.0
        // are one number).
        for document in [
            json!({"@context": "https://c/", "@id": "https://x/1", "name": ["x", "x"]}),
            json!({"@context": "https://c/", "@id": "https://x/1", "n": [1, 1.0]}),
            json!({"@context": "https://c/", "@graph": [
                {"@id": "https://x/1", "name": "x"}, {"@id": "https://x/1", "name": "x"}
            ]}),
        ] {
            let quads = p.to_quads(&document).expect("one statement");
            assert_eq!(quads.len(), 1, "{document}");
        }
    }

    #[test]
    fn a_list_or_set_of_null_is_refused_as_jsonld_makes_it_an_empty_node() {
        // Found by the differential fuzz target: jsonld.js (as the specification's expansion
        // does) keeps `{"@set": null}` as an empty node object, a blank node in the quads.
        let p = processor(&[("https://c/", json!({"@context": {"p": "https://v/p"}}))]);
        for keyword in ["@set", "@list"] {
            let err = p
                .to_quads(
                    &json!({"@context": "https://c/", "@id": "https://x/1", "p": {keyword: null}}),
                )
                .expect_err("refused");
            assert!(err.to_string().contains("empty node"), "{keyword}: {err}");
        }
        let empty = p
            .to_quads(&json!({"@context": "https://c/", "@id": "https://x/1", "p": {"@set": []}}))
            .expect("an empty set is nothing");
        assert!(empty.is_empty());
    }

    #[test]
    fn undefined_properties_are_refused_not_dropped() {
        let p = processor(&[(
            "https://c/",
            json!({"@context": {"name": "https://schema.org/name"}}),
        )]);
        let err = p
            .to_quads(&json!({"@context": "https://c/", "@id": "https://x/1", "nickname": "n"}))
            .expect_err("safe mode");
        assert!(err.to_string().contains("nickname"), "{err}");
    }

    #[test]
    fn unknown_contexts_are_reported_not_fetched() {
        let p = processor(&[]);
        let err = p
            .to_quads(&json!({"@context": "https://unknown.example/ctx", "@id": "https://x/1"}))
            .expect_err("unknown");
        assert_eq!(
            err,
            JsonLdError::UnknownContext("https://unknown.example/ctx".into())
        );
    }

    #[test]
    fn protected_terms_cannot_be_redefined_by_the_document() {
        let p = processor(&[(
            "https://c/",
            json!({"@context": {"@protected": true, "name": "https://schema.org/name"}}),
        )]);
        let err = p
            .to_quads(&json!({"@context": ["https://c/", {"name": "https://evil/name"}], "@id": "https://x/1", "name": "n"}))
            .expect_err("protected");
        assert!(err.to_string().contains("protected"), "{err}");
    }

    #[test]
    fn type_scoped_contexts_do_not_propagate_to_nested_nodes() {
        let p = processor(&[(
            "https://c/",
            json!({"@context": {
                "T": {"@id": "https://v/T", "@context": {"inner": "https://v/inner"}},
                "child": {"@id": "https://v/child", "@type": "@id"}
            }}),
        )]);
        let ok = p
            .to_quads(&json!({"@context": "https://c/", "@id": "https://x/1", "@type": "T", "inner": "yes"}))
            .expect("scoped term in scope");
        assert_eq!(ok.len(), 2);
        let err = p
            .to_quads(
                &json!({"@context": "https://c/", "@id": "https://x/1", "@type": "T",
                "child": {"@id": "https://x/2", "inner": "no"}}),
            )
            .expect_err("not propagated");
        assert!(err.to_string().contains("inner"), "{err}");
    }

    #[test]
    fn graph_containers_make_named_graphs_and_lists_make_collections() {
        let p = processor(&[(
            "https://c/",
            json!({"@context": {
                "proof": {"@id": "https://v/proof", "@type": "@id", "@container": "@graph"},
                "items": {"@id": "https://v/items", "@container": "@list"},
                "n": "https://v/n"
            }}),
        )]);
        let quads = p
            .to_quads(&json!({"@context": "https://c/", "@id": "https://x/1",
                "proof": {"n": "p"}, "items": [1, 2.5]}))
            .expect("expands");
        let in_graph = quads.iter().filter(|q| q.graph.is_some()).count();
        assert_eq!(in_graph, 1, "{quads:?}");
        assert!(
            quads
                .iter()
                .any(|q| matches!(&q.object, RdfTerm::Literal { value, .. } if value == "2.5E0"))
        );
        assert!(
            quads
                .iter()
                .any(|q| q.object == RdfTerm::Iri(format!("{RDF}nil")))
        );
    }

    /// A processor holding one context with `id`/`type` aliases, as credential contexts do.
    fn aliased() -> Processor {
        processor(&[(
            "https://c/",
            json!({"@context": {
                "id": "@id", "type": "@type",
                "name": "https://v/name",
                "subject": {"@id": "https://v/subject"},
                "items": {"@id": "https://v/items", "@container": "@list"},
                "data": {"@id": "https://v/data", "@type": "@json"},
                "T": "https://v/T", "U": "https://v/U"
            }}),
        )])
    }

    fn refusal(document: Value) -> String {
        aliased()
            .to_quads(&document)
            .expect_err("safe mode refuses it")
            .to_string()
    }

    #[test]
    fn two_aliases_of_id_in_one_object_are_refused() {
        // The swapped subject: a reader of the JSON sees Mallory, JSON-LD keeps the other.
        let message = refusal(json!({"@context": "https://c/", "id": "https://x/1",
            "subject": {"id": "did:example:mallory", "@id": "did:example:alice", "name": "A"}}));
        assert!(
            message.contains("\"id\"") && message.contains("\"@id\""),
            "{message}"
        );
        assert!(message.contains("@id"), "{message}");
    }

    #[test]
    fn two_aliases_of_type_in_one_object_are_refused() {
        let message = refusal(json!({"@context": "https://c/", "@id": "https://x/1",
            "type": "T", "@type": "U"}));
        assert!(message.contains("@type"), "{message}");
    }

    #[test]
    fn extra_members_of_list_set_and_value_objects_are_refused() {
        for (document, expected) in [
            (
                json!({"@context": "https://c/", "@id": "https://x/1",
                    "items": {"@list": ["a"], "@id": "https://x/2"}}),
                "a list object may only have @list",
            ),
            (
                json!({"@context": "https://c/", "@id": "https://x/1",
                    "items": {"@list": ["a"], "type": "T"}}),
                "a list object may only have @list",
            ),
            (
                json!({"@context": "https://c/", "@id": "https://x/1",
                    "name": {"@set": ["a"], "name": "hidden"}}),
                "a set object may only have @set",
            ),
            (
                json!({"@context": "https://c/", "@id": "https://x/1",
                    "name": {"@value": "a", "@list": ["hidden"]}}),
                "a value object may only have @value",
            ),
            (
                json!({"@context": "https://c/", "@id": "https://x/1",
                    "name": {"@value": "a", "@language": "en", "@type": "https://v/dt"}}),
                "both @type and @language",
            ),
        ] {
            let message = refusal(document.clone());
            assert!(message.contains(expected), "{document}: {message}");
        }
    }

    #[test]
    fn language_tags_must_be_well_formed_bcp47() {
        // A newline in a tag would end the N-Quads line and start a statement of its own.
        let injected = "en .\n<https://x/1> <https://v/admin> \"true\"";
        for document in [
            json!({"@context": "https://c/", "@id": "https://x/1",
                "name": {"@value": "a", "@language": injected}}),
            json!({"@context": ["https://c/", {"@language": injected}], "@id": "https://x/1",
                "name": "a"}),
            json!({"@context": ["https://c/", {"n": {"@id": "https://v/n", "@language": "a b"}}],
                "@id": "https://x/1", "n": "a"}),
        ] {
            let message = refusal(document.clone());
            assert!(message.contains("BCP 47"), "{document}: {message}");
        }
        let quads = aliased()
            .to_quads(&json!({"@context": "https://c/", "@id": "https://x/1",
                "name": {"@value": "a", "@language": "en-GB"}}))
            .expect("a good tag");
        assert!(
            matches!(&quads[0].object, RdfTerm::Literal { language: Some(l), .. } if l == "en-gb")
        );
    }

    #[test]
    fn json_literals_are_rfc8785_and_integers_beyond_2_53_are_refused() {
        let document: Value = serde_json::from_str(
            r#"{"@context": "https://c/", "@id": "https://x/1",
                "data": {"b": [56.0, 1E30, 333333333.33333329, 0.000001], "a": "\u20ac"}}"#,
        )
        .expect("json");
        let quads = aliased().to_quads(&document).expect("@json");
        let RdfTerm::Literal { value, .. } = &quads[0].object else {
            panic!("{quads:?}")
        };
        assert_eq!(
            value,
            r#"{"a":"€","b":[56,1e+30,333333333.3333333,0.000001]}"#
        );
        for text in [
            r#"{"@context": "https://c/", "@id": "https://x/1", "data": [9007199254740993]}"#,
            r#"{"@context": "https://c/", "@id": "https://x/1", "name": 9007199254740993}"#,
        ] {
            let document: Value = serde_json::from_str(text).expect("json");
            let message = refusal(document);
            assert!(message.contains("2^53"), "{message}");
        }
        // A @json null is a literal, not nothing.
        let quads = aliased()
            .to_quads(&json!({"@context": "https://c/", "@id": "https://x/1", "data": null}))
            .expect("@json null");
        assert!(
            matches!(&quads[0].object, RdfTerm::Literal { value, .. } if value == "null"),
            "{quads:?}"
        );
    }

    #[test]
    fn scoped_contexts_are_checked_when_defined() {
        let p = processor(&[]);
        let err = p
            .to_quads(&json!({"@context": {"t": {"@id": "https://v/t",
                "@context": {"inner": {"@context": {}}}}}, "@id": "https://x/1"}))
            .expect_err("the scoped context defines a term with no IRI");
        assert!(
            err.to_string().contains("scoped context of term \"t\""),
            "{err}"
        );
    }

    /// Found by the fuzz target `jsonld_differential`: jsonld.js reads a property's value
    /// with the property's own definition inside its scoped context, the specification with
    /// the outer one; here a list container in the scoped one.
    #[test]
    fn a_property_scoped_context_redefining_its_own_property_is_refused() {
        let p = processor(&[]);
        let err = p
            .to_quads(&json!({"@context": {"p": {"@id": "https://v/p",
                "@context": {"p": {"@id": "https://v/p", "@container": "@list"}}}},
                "@id": "https://x/1", "p": [["a", 1], ["b"]]}))
            .expect_err("ambiguous");
        assert!(err.to_string().contains("redefines \"p\""), "{err}");
        // The same definition inside its scope is fine.
        p.to_quads(&json!({"@context": {"p": {"@id": "https://v/p",
                "@context": {"p": {"@id": "https://v/p"}}}},
                "@id": "https://x/1", "p": ["a"]}))
            .expect("same definition");
    }

    /// Found by the fuzz target `jsonld_differential`: jsonld.js rewrites a string typed
    /// xsd:double as a number ("NaN" for text), JSON-LD keeps it.
    #[test]
    fn a_string_typed_xsd_double_is_refused() {
        let p = processor(&[]);
        let err = p
            .to_quads(&json!({"@context": {"d": {"@id": "https://v/d",
                "@type": "http://www.w3.org/2001/XMLSchema#double"}},
                "@id": "https://x/1", "d": "1.5"}))
            .expect_err("processors disagree");
        assert!(err.to_string().contains("xsd:double"), "{err}");
        let quads = p
            .to_quads(&json!({"@context": {"d": {"@id": "https://v/d",
                "@type": "http://www.w3.org/2001/XMLSchema#double"}},
                "@id": "https://x/1", "d": 1.5}))
            .expect("a number");
        assert!(
            matches!(&quads[0].object, RdfTerm::Literal { value, .. } if value == "1.5E0"),
            "{quads:?}"
        );
    }

    /// Canonical N-Quads of `document` with the inline processor `p`.
    fn nquads(p: &Processor, document: Value) -> String {
        crate::verify::canonical::canonical_nquads(p, &document).expect("gives quads")
    }

    const NIL: &str = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#nil>";
    const FIRST: &str = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#first>";
    const REST: &str = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#rest>";

    /// Found by the fuzz target `jsonld_differential`: an array inside a `@list` object
    /// was flattened here. For a term with a `@list` container, JSON-LD 1.1 (and jsonld.js)
    /// makes a list of lists, at any depth (W3C toRdf li05-li08 say the same of the term's
    /// own value).
    #[test]
    fn arrays_inside_a_list_object_of_a_list_term_are_lists_of_lists() {
        let p = processor(&[]);
        let context = json!({"l": {"@id": "https://v/l", "@container": "@list"}});
        let quads = p
            .to_quads(&json!({"@context": context, "@id": "https://x/1",
                "l": {"@list": [["a"], "b"]}}))
            .expect("a list of lists");
        let firsts: Vec<&RdfTerm> = quads
            .iter()
            .filter(|q| q.predicate.ends_with("#first"))
            .map(|q| &q.object)
            .collect();
        // Outer list: (inner list, "b"); inner list: ("a").
        assert_eq!(firsts.len(), 3, "{quads:?}");
        assert!(
            firsts.iter().any(|o| matches!(o, RdfTerm::Blank(_))),
            "{quads:?}"
        );
        // ( ( () ) ): the outer list holds a list that holds the empty list.
        assert_eq!(
            nquads(
                &p,
                json!({"@context": context, "@id": "https://x/1", "l": {"@list": [[[]]]}})
            ),
            format!(
                "<https://x/1> <https://v/l> _:c14n1 .\n\
                 _:c14n0 {FIRST} {NIL} .\n_:c14n0 {REST} {NIL} .\n\
                 _:c14n1 {FIRST} _:c14n0 .\n_:c14n1 {REST} {NIL} .\n"
            )
        );
    }

    /// Found by the fuzz target `jsonld_differential`: for a property without a `@list`
    /// container, an array inside its `@list` object is flattened by the specification's
    /// expansion (§5.1.2 step 5.2.2 makes a list of an array only under a `@list`
    /// container), made one list deep by jsonld.js (`[[[]]]` gives `( () )`), and was made a
    /// list at every depth here (`( ( () ) )`). Three readings: refused.
    #[test]
    fn arrays_inside_a_list_object_of_a_plain_property_are_refused() {
        let p = processor(&[]);
        for items in [json!([[[]]]), json!([["a"], "b"]), json!(["a", []])] {
            let err = p
                .to_quads(&json!({"@id": "https://x/1", "https://v/l": {"@list": items}}))
                .expect_err("processors disagree");
            assert!(
                matches!(err, JsonLdError::Unsupported(_))
                    && err.to_string().contains("an array inside a @list object"),
                "{items}: {err}"
            );
        }
    }

    /// Found by the fuzz target `jsonld_differential`: a set object as the value of a term
    /// with a `@list` container is a list (§5.1.2 step 13.9: the expanded value, an array,
    /// is not a list object, so it becomes one), also when it is empty and when it holds a
    /// list. Inside the set object a type-scoped context is reverted (step 7), so the
    /// `@list` container, defined only there, is not seen while its items are expanded;
    /// here that lost the empty list, and made `{"@set": [{"@list": ["a"]}]}` the list
    /// ("a") instead of (("a")). jsonld.js reads both as the specification does.
    #[test]
    fn a_set_object_under_a_list_container_is_a_list_even_when_a_type_scoped_context_is_reverted() {
        let p = processor(&[]);
        let context = json!({"T": {"@id": "https://v/T",
            "@context": {"l": {"@id": "https://v/l", "@container": "@list"}}}});
        let typed =
            "<https://x/1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://v/T> .\n";
        assert_eq!(
            nquads(
                &p,
                json!({"@context": context, "@id": "https://x/1", "@type": "T", "l": {"@set": []}})
            ),
            format!("{typed}<https://x/1> <https://v/l> {NIL} .\n")
        );
        let list_of_list = format!(
            "<https://x/1> <https://v/l> _:c14n1 .\n\
             _:c14n0 {FIRST} \"a\" .\n_:c14n0 {REST} {NIL} .\n\
             _:c14n1 {FIRST} _:c14n0 .\n_:c14n1 {REST} {NIL} .\n"
        );
        assert_eq!(
            nquads(
                &p,
                json!({"@context": context, "@id": "https://x/1", "@type": "T",
                    "l": {"@set": [{"@list": ["a"]}]}})
            ),
            format!("{typed}{list_of_list}")
        );
        // Without a type-scoped context: the same readings.
        let plain = json!({"l": {"@id": "https://v/l", "@container": "@list"}});
        assert_eq!(
            nquads(
                &p,
                json!({"@context": plain, "@id": "https://x/1", "l": {"@set": []}})
            ),
            format!("<https://x/1> <https://v/l> {NIL} .\n")
        );
        assert_eq!(
            nquads(
                &p,
                json!({"@context": plain, "@id": "https://x/1", "l": {"@set": [{"@list": ["a"]}]}})
            ),
            list_of_list
        );
    }

    /// Found by the fuzz target `jsonld_differential`: jsonld.js reads a set object inside a
    /// list as a list of its own (or drops it when empty), writes -0 as 0 and a number like
    /// 1e-7 as the integer "0".
    #[test]
    fn set_objects_in_lists_and_tiny_fractions_are_refused_and_minus_zero_is_zero() {
        let p = processor(&[]);
        let err = p
            .to_quads(&json!({"@id": "https://x/1",
                "https://v/l": {"@list": [{"@set": ["a", "b"]}]}}))
            .expect_err("processors disagree");
        assert!(
            err.to_string().contains("@set object inside a list"),
            "{err}"
        );
        let err = p
            .to_quads(&json!({"@id": "https://x/1", "https://v/n": 1e-7}))
            .expect_err("processors disagree");
        assert!(err.to_string().contains("1e-6"), "{err}");
        assert_eq!(canonical_double(-0.0), "0.0E0");
    }
}
