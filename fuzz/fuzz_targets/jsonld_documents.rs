//! Shared by the fuzz target `jsonld_differential` and `tests/jsonld_differential.rs`: the
//! generator of credential-shaped JSON-LD documents, jsonld.js as a reference (one
//! long-lived node process running scripts/bench/js-verifier/nquads-stdio.mjs), and the
//! comparison.

#[path = "../../tests/common/nquads.rs"]
mod nquads;

use arbitrary::{Result, Unstructured};
use credentialconnect::verify::Verifier;
use credentialconnect::verify::canonical::canonical_nquads;
use serde_json::{Map, Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{LazyLock, Mutex};

static VERIFIER: LazyLock<Verifier> = LazyLock::new(Verifier::offline);

struct Reference {
    _child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

static REFERENCE: LazyLock<Mutex<Reference>> = LazyLock::new(|| {
    let script = nquads_script();
    let mut child = Command::new("node")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs the jsonld.js reference");
    let input = child.stdin.take().expect("stdin");
    let output = BufReader::new(child.stdout.take().expect("stdout"));
    Mutex::new(Reference {
        _child: child,
        input,
        output,
    })
});

/// The reference script, from the fuzz crate (`fuzz/`) or the main crate alike.
fn nquads_script() -> std::path::PathBuf {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = if here.join("scripts").is_dir() {
        here
    } else {
        here.parent().expect("the repository")
    };
    root.join("scripts/bench/js-verifier/nquads-stdio.mjs")
}

/// jsonld.js's canonical N-Quads, or its error.
pub fn reference(document: &Value) -> std::result::Result<String, String> {
    let mut reference = REFERENCE.lock().unwrap_or_else(|p| p.into_inner());
    let line = serde_json::to_string(document).expect("serializes");
    writeln!(reference.input, "{line}").expect("write to node");
    reference.input.flush().expect("flush");
    let mut answer = String::new();
    reference
        .output
        .read_line(&mut answer)
        .expect("read from node");
    let answer: Value = serde_json::from_str(&answer).expect("node answers JSON");
    match answer.get("nquads").and_then(Value::as_str) {
        Some(nquads) => Ok(nquads.to_string()),
        None => Err(answer["error"].as_str().unwrap_or("?").to_string()),
    }
}

const TERMS: [&str; 8] = ["p0", "p1", "p2", "p3", "p4", "p5", "T0", "T1"];
const ALIASES: [(&str, &str); 7] = [
    ("a_id", "@id"),
    ("a_type", "@type"),
    ("a_value", "@value"),
    ("a_lang", "@language"),
    ("a_list", "@list"),
    ("a_set", "@set"),
    ("a_graph", "@graph"),
];
const LANGUAGES: [&str; 5] = ["en", "en-GB", "DE-at", "zh-Hant-TW", "x-private"];
const MALFORMED_LANGUAGES: [&str; 3] = ["a b", "en\n.", "toolongsubtag"];

/// A language tag; now and then a malformed one (which both processors must refuse).
fn language(u: &mut Unstructured<'_>) -> Result<&'static str> {
    if u.ratio(1, 25)? {
        pick(u, &MALFORMED_LANGUAGES).copied()
    } else {
        pick(u, &LANGUAGES).copied()
    }
}
const PROPERTIES: [&str; 8] = ["p0", "p1", "p2", "p3", "p4", "p5", "name", "description"];
const KEYWORD_KEYS: [&str; 12] = [
    "a_id",
    "a_type",
    "@id",
    "@type",
    "a_value",
    "@value",
    "a_lang",
    "@language",
    "a_list",
    "@list",
    "a_set",
    "@set",
];

/// A node's key: mostly properties, sometimes a keyword or one of its aliases.
fn member_key(u: &mut Unstructured<'_>) -> Result<&'static str> {
    if u.ratio(1, 6)? {
        pick(u, &KEYWORD_KEYS).copied()
    } else {
        pick(u, &PROPERTIES).copied()
    }
}

fn pick<'a, T>(u: &mut Unstructured<'_>, items: &'a [T]) -> Result<&'a T> {
    u.choose(items)
}

fn iri(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(Value::String(
        pick(
            u,
            &[
                "https://ex.example/a",
                "https://ex.example/b",
                "did:example:alice",
                "urn:uuid:1",
                "_:b1",
                "_:b2",
                "ex:c",
                "https://ex.example/a",
                "did:example:alice",
                "relative",
            ],
        )?
        .to_string(),
    ))
}

fn term_definition(u: &mut Unstructured<'_>, term: &str, depth: usize) -> Result<Value> {
    let id = match u.int_in_range(0..=3)? {
        0 => format!("https://ex.example/{term}"),
        1 => format!("ex:{term}"),
        2 => "https://ex.example/shared".to_string(),
        _ => "https://schema.org/name".to_string(),
    };
    if u.ratio(1, 3)? {
        return Ok(Value::String(id));
    }
    let mut definition = Map::new();
    definition.insert("@id".into(), Value::String(id));
    if u.ratio(1, 2)? {
        let t = pick(
            u,
            &[
                "@id",
                "@vocab",
                "@json",
                "http://www.w3.org/2001/XMLSchema#integer",
                "http://www.w3.org/2001/XMLSchema#string",
                "http://www.w3.org/2001/XMLSchema#double",
                "xsd:dateTime",
            ],
        )?;
        definition.insert("@type".into(), json!(t));
    }
    if u.ratio(1, 3)? {
        // Language and index maps are refused by our processor: now and then.
        let c = if u.ratio(1, 25)? {
            pick(u, &["@language", "@index"][..])?
        } else {
            pick(u, &["@list", "@set", "@graph"][..])?
        };
        definition.insert("@container".into(), json!(c));
    }
    if u.ratio(1, 4)? {
        let language = if u.ratio(1, 4)? {
            Value::Null
        } else {
            json!(language(u)?)
        };
        definition.insert("@language".into(), language);
    }
    if depth < 2 && u.ratio(1, 3)? {
        definition.insert("@context".into(), context(u, depth + 1)?);
    }
    if u.ratio(1, 12)? {
        definition.insert("@protected".into(), json!(true));
    }
    Ok(Value::Object(definition))
}

fn context(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    let mut context = Map::new();
    if depth == 0 {
        context.insert("ex".into(), json!("https://ex.example/"));
        context.insert("xsd".into(), json!("http://www.w3.org/2001/XMLSchema#"));
    }
    if u.ratio(1, 4)? {
        context.insert("@vocab".into(), json!("https://vocab.example/"));
    }
    if u.ratio(1, 4)? {
        context.insert("@language".into(), json!(language(u)?));
    }
    for (alias, keyword) in ALIASES {
        if u.ratio(1, 3)? {
            context.insert(alias.into(), json!(keyword));
        }
    }
    for term in TERMS {
        if u.ratio(4, 5)? {
            context.insert(term.into(), term_definition(u, term, depth)?);
        }
    }
    Ok(Value::Object(context))
}

fn scalar(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=9)? {
        0 => json!("text"),
        1 => json!("é ✓ \u{1F600}"),
        2 => json!(u.int_in_range(-1000..=1000i64)?),
        3 => json!(pick(
            u,
            &[1.5f64, 0.1, -0.0, 42.0, 1e21, 1e-7, 333333333.3333333]
        )?),
        4 => json!(9007199254740993u64),
        5 => json!(u.arbitrary::<bool>()?),
        6 => Value::Null,
        7 => json!("2024-01-01T00:00:00Z"),
        8 => iri(u)?,
        _ => json!(language(u)?),
    })
}

fn value(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    if depth > 3 {
        return scalar(u);
    }
    Ok(match u.int_in_range(0..=7)? {
        0 | 1 => scalar(u)?,
        2 => node(u, depth + 1)?,
        3 => {
            let n = u.int_in_range(0..=3)?;
            Value::Array((0..n).map(|_| value(u, depth + 1)).collect::<Result<_>>()?)
        }
        4 => {
            // A value object, perhaps with an alias or an extra member.
            let mut object = Map::new();
            let key = if u.ratio(1, 2)? { "@value" } else { "a_value" };
            object.insert(key.into(), scalar(u)?);
            if u.ratio(1, 2)? {
                let key = if u.ratio(1, 2)? {
                    "@language"
                } else {
                    "a_lang"
                };
                object.insert(key.into(), json!(language(u)?));
            }
            if u.ratio(1, 3)? {
                let t = pick(u, &["@json", "xsd:integer", "https://ex.example/dt", "T0"])?;
                object.insert("@type".into(), json!(t));
            }
            if u.ratio(1, 10)? {
                object.insert(member_key(u)?.to_string(), scalar(u)?);
            }
            Value::Object(object)
        }
        5 => {
            let key = pick(u, &["@list", "a_list", "@set", "a_set"])?;
            let n = u.int_in_range(0..=3)?;
            let items: Vec<Value> = (0..n).map(|_| value(u, depth + 1)).collect::<Result<_>>()?;
            let mut object = Map::from_iter([(key.to_string(), Value::Array(items))]);
            if u.ratio(1, 10)? {
                object.insert(member_key(u)?.to_string(), scalar(u)?);
            }
            Value::Object(object)
        }
        6 => {
            // A language map (for a term with "@container": "@language").
            let mut object = Map::new();
            for _ in 0..u.int_in_range(1..=3)? {
                object.insert(language(u)?.to_string(), scalar(u)?);
            }
            Value::Object(object)
        }
        _ => json!({"@graph": [node(u, depth + 1)?]}),
    })
}

fn node(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    let mut object = Map::new();
    if depth > 0 && u.ratio(1, 5)? {
        object.insert("@context".into(), context(u, 1)?);
    }
    for _ in 0..u.int_in_range(0..=5)? {
        let key = member_key(u)?.to_string();
        let item = match key.as_str() {
            "@id" | "a_id" => iri(u)?,
            "@type" | "a_type" => {
                if u.ratio(1, 2)? {
                    json!(pick(u, &["T0", "T1", "ex:T2", "https://ex.example/T3"])?)
                } else {
                    json!(["T0", "T1"])
                }
            }
            _ => value(u, depth)?,
        };
        object.insert(key, item);
    }
    Ok(Value::Object(object))
}

pub fn document(u: &mut Unstructured<'_>) -> Result<Value> {
    let local = context(u, 0)?;
    let context = if u.ratio(2, 3)? {
        json!(["https://www.w3.org/ns/credentials/v2", local])
    } else {
        local
    };
    let mut document = Map::new();
    document.insert("@context".into(), context);
    document.insert(
        "id".into(),
        json!("urn:uuid:2d7e5c3a-0b1f-4a57-9d1e-3b3c1f2a4d5e"),
    );
    document.insert("type".into(), json!(["VerifiableCredential"]));
    document.insert("issuer".into(), json!("did:example:issuer"));
    document.insert("credentialSubject".into(), node(u, 1)?);
    if let Value::Object(extra) = node(u, 1)? {
        for (key, item) in extra {
            document.entry(key).or_insert(item);
        }
    }
    Ok(Value::Object(document))
}

/// Our canonical N-Quads and jsonld.js's for `document`: `Err` with both when both give
/// quads and they differ; `Ok(true)` when both gave quads, `Ok(false)` when one refused.
pub fn compare(document: &Value) -> std::result::Result<bool, String> {
    let Ok(ours) = canonical_nquads(VERIFIER.processor(), document) else {
        return Ok(false);
    };
    let Ok(theirs) = reference(document) else {
        return Ok(false);
    };
    if ours == theirs {
        return Ok(true);
    }
    if redefines_itself_with_another_scoped_context(document)
        || same_dataset_labelled_apart(&ours, &theirs)
    {
        return Ok(false);
    }
    Err(format!(
        "our canonical N-Quads differ from jsonld.js's for\n{}\nours:\n{ours}\njsonld.js:\n{theirs}",
        serde_json::to_string_pretty(document).unwrap_or_default()
    ))
}

/// Where jsonld.js's canonicalizer departs from RDFC-1.0: on some graphs of many alike blank
/// nodes (lists of lists with equal members) rdf-canonize's result depends on the blank-node
/// labels it is given, so one dataset gets two "canonical" forms (given ours, it returns ours).
/// When canonicalizing jsonld.js's output here gives ours, both processors made the same
/// dataset and only that labelling differs: not a difference of our processor
/// (tests/jsonld_suite.rs, `the_canonical_form_does_not_depend_on_how_blank_nodes_were_labelled`).
fn same_dataset_labelled_apart(ours: &str, theirs: &str) -> bool {
    let Ok(quads) = nquads::parse(theirs) else {
        return false;
    };
    credentialconnect::verify::canonical::canonicalize(&quads).is_ok_and(|c| c == ours)
}

/// A shape where jsonld.js departs from JSON-LD 1.1, so a difference there is not ours: a term
/// whose property-scoped context redefines the term itself, with another scoped context (or
/// none). The specification expands the term's value with the outer definition's scoped
/// context, applied again after a type-scoped context is reverted (expansion §5.1.2 steps 3,
/// 7 and 8); jsonld.js 9 takes the scoped context to apply again from the inner definition,
/// so after a revert it loses the outer one (`{"p": {"@context": {"a": "@list", "p": "…"}}}`
/// with `"p": {"a": []}` in a typed node is an empty list by the specification and ours, a
/// property `a` by jsonld.js), and otherwise applies the inner one on top. Where the
/// redefinition changes the container, type or language our processor refuses the document.
fn redefines_itself_with_another_scoped_context(value: &Value) -> bool {
    match value {
        Value::Array(items) => items
            .iter()
            .any(redefines_itself_with_another_scoped_context),
        Value::Object(map) => {
            let redefined = map.iter().any(|(term, definition)| {
                let outer = definition.get("@context");
                let inner = outer
                    .and_then(|scoped| scoped.get(term))
                    .map(|redefinition| redefinition.get("@context"));
                matches!(inner, Some(inner) if inner != outer)
            });
            redefined
                || map
                    .values()
                    .any(redefines_itself_with_another_scoped_context)
        }
        _ => false,
    }
}
