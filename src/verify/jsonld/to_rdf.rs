//! Deserialize JSON-LD to RDF (JSON-LD 1.1 Processing Algorithms §7): expanded nodes,
//! values and lists become quads; literals get their canonical lexical forms.

use super::expand::{Expanded, Literal, Node};
use super::{JsonLdError, RDF, Result, XSD, invalid, is_absolute_iri};
use serde_json::Value;
use std::collections::HashMap;

/// An RDF term.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RdfTerm {
    Iri(String),
    Blank(String),
    Literal {
        value: String,
        datatype: String,
        language: Option<String>,
    },
}

/// An RDF quad; `graph` is `None` for the default graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quad {
    pub subject: RdfTerm,
    pub predicate: String,
    pub object: RdfTerm,
    pub graph: Option<RdfTerm>,
}

/// Writes the quads of an expanded document; `'e` is the expanded document's lifetime.
#[derive(Default)]
pub(super) struct QuadWriter<'e> {
    /// Each quad with the literal it was made from (none for a node or a list).
    quads: Vec<(Quad, Option<&'e Literal>)>,
    blank_count: usize,
    blank_names: HashMap<String, String>,
}

impl<'e> QuadWriter<'e> {
    /// The dataset, each statement once. An RDF dataset is a set, and every processor counts
    /// one value given twice once; but jsonld.js tells values apart by their expanded form
    /// (`compareValues`: `@value`, `@type`, `@language`), so one statement written in two
    /// forms (`"x"` typed xsd:string by its term, and `{"@value": "x"}`) is in its canonical
    /// N-Quads twice, and a signature over one would not hold over the other: refused.
    pub(super) fn finish(mut self) -> Result<Vec<Quad>> {
        self.quads.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut dataset: Vec<Quad> = Vec::with_capacity(self.quads.len());
        let mut kept_from: Option<&Literal> = None;
        for (quad, from) in self.quads {
            if dataset.last() == Some(&quad) {
                if !same_form(kept_from, from) {
                    let value = match &quad.object {
                        RdfTerm::Literal { value, .. } => value.as_str(),
                        _ => "",
                    };
                    return invalid(format!(
                        "the value {value:?} of {} is given twice, in two forms; JSON-LD processors disagree on whether that is one statement or two (give it once)",
                        quad.predicate
                    ));
                }
                continue;
            }
            kept_from = from;
            dataset.push(quad);
        }
        Ok(dataset)
    }

    fn fresh_blank(&mut self) -> RdfTerm {
        let name = format!("b{}", self.blank_count);
        self.blank_count += 1;
        RdfTerm::Blank(name)
    }

    fn node_term(&mut self, id: Option<&str>) -> Result<RdfTerm> {
        match id {
            None => Ok(self.fresh_blank()),
            Some(id) if id.starts_with("_:") => {
                if let Some(name) = self.blank_names.get(id) {
                    return Ok(RdfTerm::Blank(name.clone()));
                }
                let RdfTerm::Blank(name) = self.fresh_blank() else {
                    unreachable!("fresh_blank makes blank nodes")
                };
                self.blank_names.insert(id.to_string(), name.clone());
                Ok(RdfTerm::Blank(name))
            }
            Some(id) if is_absolute_iri(id) => Ok(RdfTerm::Iri(id.to_string())),
            Some(id) => invalid(format!(
                "the id {id:?} is not an absolute IRI, so it would be dropped from the signed data"
            )),
        }
    }

    pub(super) fn top_level(&mut self, item: &'e Expanded, graph: Option<&RdfTerm>) -> Result<()> {
        match item {
            Expanded::Node(node) => {
                self.node(node, graph)?;
                Ok(())
            }
            Expanded::Array(items) => {
                for item in items {
                    self.top_level(item, graph)?;
                }
                Ok(())
            }
            _ => invalid("a free-floating value or list would be dropped from the signed data"),
        }
    }

    /// Emits a node's statements into `graph`; returns the node's term.
    fn node(&mut self, node: &'e Node, graph: Option<&RdfTerm>) -> Result<RdfTerm> {
        let subject = self.node_term(node.id.as_deref())?;
        for t in &node.types {
            let object = if t.starts_with("_:") {
                self.node_term(Some(t))?
            } else if is_absolute_iri(t) {
                RdfTerm::Iri(t.clone())
            } else {
                return invalid(format!(
                    "the type {t:?} is not defined by the credential's @context"
                ));
            };
            self.push(&subject, &format!("{RDF}type"), object, graph);
        }
        for (predicate, values) in &node.properties {
            if predicate.starts_with("_:") {
                return Err(JsonLdError::Unsupported(format!(
                    "the blank-node property {predicate}"
                )));
            }
            for value in values {
                let (object, from) = self.object(value, graph)?;
                self.push_from(&subject, predicate, object, from, graph);
            }
        }
        if let Some(items) = &node.graph {
            // The node names a graph holding `items` (VCDM `proof` and
            // `verifiableCredential` are @graph containers).
            for item in items {
                self.top_level(item, Some(&subject))?;
            }
        }
        Ok(subject)
    }

    fn object(
        &mut self,
        value: &'e Expanded,
        graph: Option<&RdfTerm>,
    ) -> Result<(RdfTerm, Option<&'e Literal>)> {
        match value {
            Expanded::Node(node) => Ok((self.node(node, graph)?, None)),
            Expanded::Value(literal) => Ok((literal_term(literal)?, Some(literal))),
            Expanded::List(items) => Ok((self.list(items, graph)?, None)),
            Expanded::Array(_) => invalid("nested arrays are not allowed here"),
        }
    }

    /// RDF collection (§7.3): rdf:first/rdf:rest chains ending in rdf:nil.
    fn list(&mut self, items: &'e [Expanded], graph: Option<&RdfTerm>) -> Result<RdfTerm> {
        if items.is_empty() {
            return Ok(RdfTerm::Iri(format!("{RDF}nil")));
        }
        let heads: Vec<RdfTerm> = (0..items.len()).map(|_| self.fresh_blank()).collect();
        for (i, item) in items.iter().enumerate() {
            let (object, from) = self.object(item, graph)?;
            self.push_from(&heads[i], &format!("{RDF}first"), object, from, graph);
            let rest = heads
                .get(i + 1)
                .cloned()
                .unwrap_or_else(|| RdfTerm::Iri(format!("{RDF}nil")));
            self.push(&heads[i], &format!("{RDF}rest"), rest, graph);
        }
        Ok(heads[0].clone())
    }

    fn push(
        &mut self,
        subject: &RdfTerm,
        predicate: &str,
        object: RdfTerm,
        graph: Option<&RdfTerm>,
    ) {
        self.push_from(subject, predicate, object, None, graph);
    }

    fn push_from(
        &mut self,
        subject: &RdfTerm,
        predicate: &str,
        object: RdfTerm,
        from: Option<&'e Literal>,
        graph: Option<&RdfTerm>,
    ) {
        let quad = Quad {
            subject: subject.clone(),
            predicate: predicate.to_string(),
            object,
            graph: graph.cloned(),
        };
        self.quads.push((quad, from));
    }
}

/// Whether jsonld.js's node map takes two values for one (`compareValues`): the same
/// `@value` by JavaScript's `===` (one number type; objects and arrays only by identity), the
/// same `@type` and `@language`. Nodes and lists (`None`) are told apart by their terms.
fn same_form(a: Option<&Literal>, b: Option<&Literal>) -> bool {
    let same_number = |a: &serde_json::Number, b: &serde_json::Number| a.as_f64() == b.as_f64();
    match (a, b) {
        (None, None) => true,
        (
            Some(Literal::String {
                value: a,
                datatype: ad,
                language: al,
            }),
            Some(Literal::String {
                value: b,
                datatype: bd,
                language: bl,
            }),
        ) => a == b && ad == bd && al == bl,
        (
            Some(Literal::Bool {
                value: a,
                datatype: ad,
            }),
            Some(Literal::Bool {
                value: b,
                datatype: bd,
            }),
        ) => a == b && ad == bd,
        (
            Some(Literal::Number {
                value: a,
                datatype: ad,
            }),
            Some(Literal::Number {
                value: b,
                datatype: bd,
            }),
        ) => same_number(a, b) && ad == bd,
        (Some(Literal::Json(a)), Some(Literal::Json(b))) => match (a, b) {
            (Value::Number(a), Value::Number(b)) => same_number(a, b),
            (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => {
                false
            }
            (a, b) => a == b,
        },
        _ => false,
    }
}

/// Object to RDF conversion for literals (§7.6).
fn literal_term(literal: &Literal) -> Result<RdfTerm> {
    let check_datatype = |dt: &Option<String>| -> Result<()> {
        match dt {
            Some(dt) if !is_absolute_iri(dt) => invalid(format!(
                "the datatype {dt:?} is not defined by the credential's @context"
            )),
            _ => Ok(()),
        }
    };
    Ok(match literal {
        Literal::String {
            value,
            datatype,
            language,
        } => {
            check_datatype(datatype)?;
            if datatype.as_deref() == Some(&format!("{XSD}double")) {
                // JSON-LD keeps the string as it is; jsonld.js reads it as a number and
                // writes that number's canonical form (or NaN). Processors disagree: refused.
                return invalid(format!(
                    "the string {value:?} typed xsd:double (JSON-LD processors disagree on its form; write it as a JSON number)"
                ));
            }
            match (datatype, language) {
                (None, Some(language)) => RdfTerm::Literal {
                    value: value.clone(),
                    datatype: format!("{RDF}langString"),
                    language: Some(language.clone()),
                },
                (datatype, _) => RdfTerm::Literal {
                    value: value.clone(),
                    datatype: datatype.clone().unwrap_or_else(|| format!("{XSD}string")),
                    language: None,
                },
            }
        }
        Literal::Bool { value, datatype } => {
            check_datatype(datatype)?;
            RdfTerm::Literal {
                value: value.to_string(),
                datatype: datatype.clone().unwrap_or_else(|| format!("{XSD}boolean")),
                language: None,
            }
        }
        Literal::Number { value, datatype } => {
            check_datatype(datatype)?;
            exact_integer(value)?;
            let is_double_type = datatype.as_deref() == Some(&format!("{XSD}double"));
            // JSON has one number type: like jsonld.js (whose `42.0` is the number 42), a
            // number is an integer when it has no fractional part and is below 1e21.
            let integral_float = value
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e21)
                .map(|f| {
                    if f == 0.0 {
                        "0".to_string()
                    } else {
                        format!("{f:.0}")
                    }
                });
            if value
                .as_f64()
                .is_some_and(|f| f.fract() != 0.0 && f.abs() < 1e-6)
            {
                // JavaScript writes these as `1e-7`, without a '.', and jsonld.js then
                // takes them for integers ("0"). Processors disagree: refused.
                return invalid(format!(
                    "the number {value} is below 1e-6, where JSON-LD processors disagree on its form"
                ));
            }
            let integer = if value.is_i64() || value.is_u64() {
                Some(value.to_string())
            } else {
                integral_float
            };
            if let Some(integer) = integer.filter(|_| !is_double_type) {
                RdfTerm::Literal {
                    value: integer,
                    datatype: datatype.clone().unwrap_or_else(|| format!("{XSD}integer")),
                    language: None,
                }
            } else {
                let Some(float) = value.as_f64() else {
                    return invalid(format!("the number {value} is out of range"));
                };
                RdfTerm::Literal {
                    value: canonical_double(float),
                    datatype: datatype.clone().unwrap_or_else(|| format!("{XSD}double")),
                    language: None,
                }
            }
        }
        Literal::Json(value) => RdfTerm::Literal {
            value: canonical_json(value)?,
            datatype: format!("{RDF}JSON"),
            language: None,
        },
    })
}

/// The canonical lexical form of an xsd:double as jsonld.js writes it: `1.5E0`, `1.0E2`.
pub(super) fn canonical_double(value: f64) -> String {
    // JavaScript writes -0 as 0 (found by the differential against jsonld.js).
    let value = if value == 0.0 { 0.0 } else { value };
    let formatted = format!("{value:.15e}");
    let Some((mantissa, exponent)) = formatted.split_once('e') else {
        return formatted;
    };
    let mantissa = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            let trimmed = fraction.trim_end_matches('0');
            format!("{whole}.{}", if trimmed.is_empty() { "0" } else { trimmed })
        }
        None => mantissa.to_string(),
    };
    let exponent = exponent.trim_start_matches('+');
    format!("{mantissa}E{exponent}")
}

/// JSON canonicalization (RFC 8785, the `serde_json_canonicalizer` crate) for `@json`
/// literals: keys sorted by UTF-16 code units, numbers as ECMAScript writes them.
fn canonical_json(value: &Value) -> Result<String> {
    check_json_numbers(value)?;
    serde_json_canonicalizer::to_string(value)
        .map_err(|e| JsonLdError::Invalid(format!("a @json value cannot be canonicalized: {e}")))
}

/// RFC 8785 writes every number as an IEEE double: an integer a double cannot hold would be
/// signed as a different number than the one the document shows.
fn check_json_numbers(value: &Value) -> Result<()> {
    match value {
        Value::Number(n) => exact_integer(n),
        Value::Array(items) => items.iter().try_for_each(check_json_numbers),
        Value::Object(map) => map.values().try_for_each(check_json_numbers),
        _ => Ok(()),
    }
}

/// Integers beyond ±2^53 are read by JSON-LD processors (and JavaScript) as the nearest
/// double, so they would be signed as another number: refused.
fn exact_integer(n: &serde_json::Number) -> Result<()> {
    const EXACT: u64 = 1 << 53;
    let beyond = match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => u > EXACT,
        (None, Some(i)) => i.unsigned_abs() > EXACT,
        _ => false,
    };
    if beyond {
        return invalid(format!(
            "the number {n} is beyond 2^53, so JSON-LD processors would read it as another number"
        ));
    }
    Ok(())
}
