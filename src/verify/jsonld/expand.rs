//! Expansion (JSON-LD 1.1 Processing Algorithms §5.1 and §5.3) into a typed form
//! ([`Expanded`]), refusing in safe mode what a general-purpose processor would drop.

use super::context::{ActiveContext, ContextKey, Mode, ScopedContext, TypeMapping, expand_iri_in};
use super::{
    JsonLdError, MAX_NESTING, Processor, Result, invalid, is_absolute_iri, is_keyword, language_tag,
};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Expanded JSON-LD, in a typed form.
#[derive(Debug, Clone)]
pub(super) enum Expanded {
    Node(Node),
    Value(Literal),
    List(Vec<Expanded>),
    /// Only as an intermediate result of expanding an array.
    Array(Vec<Expanded>),
}

#[derive(Debug, Clone, Default)]
pub(super) struct Node {
    pub(super) id: Option<String>,
    pub(super) types: Vec<String>,
    pub(super) properties: Vec<(String, Vec<Expanded>)>,
    pub(super) graph: Option<Vec<Expanded>>,
}

#[derive(Debug, Clone)]
pub(super) enum Literal {
    String {
        value: String,
        datatype: Option<String>,
        language: Option<String>,
    },
    Number {
        value: serde_json::Number,
        datatype: Option<String>,
    },
    Bool {
        value: bool,
        datatype: Option<String>,
    },
    Json(Value),
}

pub(super) struct Expander<'p> {
    pub(super) processor: &'p Processor,
}

impl Expander<'_> {
    /// Expansion algorithm §5.1.2.
    fn expand(
        &mut self,
        active: &Arc<ActiveContext>,
        property: Option<&str>,
        element: &Value,
        from_map: bool,
        depth: usize,
    ) -> Result<Option<Expanded>> {
        if depth > MAX_NESTING {
            return invalid("the document nests too deeply");
        }
        let term = property.and_then(|p| active.terms.get(p));
        let property_context = term.and_then(|t| t.context.clone());
        match element {
            Value::Null => Ok(None),
            Value::Array(items) => {
                // An array is an array, also under a `@list` container: the property's value
                // becomes a list where the container is applied (in `expand_object`), not
                // here, since a set object's items may be expanded where the container is
                // not seen.
                let is_list = term.is_some_and(|t| t.containers.list);
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match self.expand(active, property, item, from_map, depth + 1)? {
                        None => {}
                        // Under a `@list` container an array inside the array is a list of
                        // its own (JSON-LD 1.1 lists of lists).
                        Some(Expanded::Array(inner)) if is_list && item.is_array() => {
                            out.push(Expanded::List(inner))
                        }
                        Some(Expanded::Array(_)) if is_list => return set_in_list(),
                        Some(Expanded::Array(inner)) => out.extend(inner),
                        Some(other) => out.push(other),
                    }
                }
                Ok(Some(Expanded::Array(out)))
            }
            Value::Object(map) => {
                self.expand_object(active, property, map, property_context, from_map, depth)
            }
            scalar => {
                let Some(property) = property.filter(|p| *p != "@graph") else {
                    return invalid(format!("the value {scalar} is not a property's value"));
                };
                let active = match &property_context {
                    Some(scoped) => self.apply_scoped(active, scoped, true, true)?,
                    None => Arc::clone(active),
                };
                self.expand_value(&active, property, scalar).map(Some)
            }
        }
    }

    fn apply_scoped(
        &self,
        active: &Arc<ActiveContext>,
        scoped: &ScopedContext,
        override_protected: bool,
        propagate: bool,
    ) -> Result<Arc<ActiveContext>> {
        self.processor.cached(
            active,
            ContextKey::Scoped(scoped.id),
            override_protected,
            propagate,
            |from| {
                let mode = Mode {
                    override_protected,
                    propagate,
                    validate_scoped: true,
                };
                self.processor
                    .process(from, &scoped.value, scoped.base.as_ref(), 0, mode)
            },
        )
    }

    /// Value expansion §5.3.2.
    fn expand_value(
        &self,
        active: &ActiveContext,
        property: &str,
        value: &Value,
    ) -> Result<Expanded> {
        let term = active.terms.get(property);
        let type_mapping = term.and_then(|t| t.type_mapping.clone());
        match (&type_mapping, value) {
            (Some(TypeMapping::Id), Value::String(s)) => {
                let iri = expand_iri_in(active, s, false)?;
                return Ok(Expanded::Node(Node {
                    id: iri,
                    ..Node::default()
                }));
            }
            (Some(TypeMapping::Vocab), Value::String(s)) => {
                let iri = expand_iri_in(active, s, true)?;
                return Ok(Expanded::Node(Node {
                    id: iri,
                    ..Node::default()
                }));
            }
            (Some(TypeMapping::Json), v) => return Ok(Expanded::Value(Literal::Json(v.clone()))),
            _ => {}
        }
        let datatype = match &type_mapping {
            Some(TypeMapping::Datatype(dt)) => Some(dt.to_string()),
            _ => None,
        };
        Ok(Expanded::Value(match value {
            Value::String(s) => {
                let language = if datatype.is_none() {
                    match term.and_then(|t| t.language.clone()) {
                        Some(explicit) => explicit.map(|l| l.to_string()),
                        None => active.language.as_deref().map(str::to_string),
                    }
                } else {
                    None
                };
                Literal::String {
                    value: s.clone(),
                    datatype,
                    language,
                }
            }
            Value::Number(n) => Literal::Number {
                value: n.clone(),
                datatype,
            },
            Value::Bool(b) => Literal::Bool {
                value: *b,
                datatype,
            },
            other => return invalid(format!("{other} is not a JSON-LD value")),
        }))
    }

    fn expand_object(
        &mut self,
        active: &Arc<ActiveContext>,
        property: Option<&str>,
        map: &Map<String, Value>,
        property_context: Option<ScopedContext>,
        from_map: bool,
        depth: usize,
    ) -> Result<Option<Expanded>> {
        let mut active = Arc::clone(active);
        // Step 7: type-scoped contexts do not propagate into nested node objects.
        if let Some(previous) = &active.previous
            && !from_map
            && !self.is_value_or_reference(&active, map)?
        {
            active = Arc::clone(previous);
        }
        if let Some(scoped) = &property_context {
            active = self.apply_scoped(&active, scoped, true, true)?;
        }
        if let Some(embedded) = map.get("@context") {
            active = self
                .processor
                .process(&active, embedded, None, 0, Mode::DOCUMENT)?;
        }
        let type_scoped = Arc::clone(&active);
        // Step 11: contexts scoped to this node's types, in lexicographic order.
        let mut type_terms: Vec<&str> = Vec::new();
        for (key, value) in map {
            if expand_iri_in(&active, key, true)?.as_deref() == Some("@type") {
                match value {
                    Value::String(s) => type_terms.push(s),
                    Value::Array(items) => {
                        type_terms.extend(items.iter().filter_map(Value::as_str));
                    }
                    _ => {}
                }
            }
        }
        type_terms.sort_unstable();
        for t in type_terms {
            if let Some(scoped) = type_scoped
                .terms
                .get(t)
                .and_then(|term| term.context.clone())
            {
                active = self.apply_scoped(&active, &scoped, false, false)?;
            }
        }

        let mut node = Node::default();
        let mut value: Option<&Value> = None;
        let mut value_type: Option<String> = None;
        let mut value_language: Option<String> = None;
        let mut list: Option<Vec<Expanded>> = None;
        let mut set: Option<Vec<Expanded>> = None;
        // What each key of the object means, in order. Two keys meaning one keyword are an
        // error: JSON-LD keeps the later `@id` (a reader of the JSON may see the earlier) and
        // merges `@type`s.
        let mut meanings: Vec<(String, &str)> = Vec::with_capacity(map.len());
        for (key, item) in map {
            if key == "@context" {
                continue;
            }
            let Some(expanded_key) = expand_iri_in(&active, key, true)? else {
                return invalid(format!(
                    "the property {key:?} is explicitly undefined by the context"
                ));
            };
            if !is_keyword(&expanded_key)
                && !is_absolute_iri(&expanded_key)
                && !expanded_key.starts_with("_:")
            {
                return invalid(format!(
                    "the property {key:?} is not defined by the credential's @context, so a signature would not cover it"
                ));
            }
            if is_keyword(&expanded_key)
                && let Some((_, first)) = meanings.iter().find(|(m, _)| *m == expanded_key)
            {
                let fate = if expanded_key == "@type" {
                    "merge them"
                } else {
                    "keep only one of them"
                };
                return invalid(format!(
                    "both {first:?} and {key:?} mean {expanded_key} in one object, and JSON-LD would {fate}"
                ));
            }
            meanings.push((expanded_key.clone(), key));
            if is_keyword(&expanded_key) {
                match expanded_key.as_str() {
                    "@id" => {
                        let Value::String(id) = item else {
                            return invalid(format!("@id must be a string, not {item}"));
                        };
                        node.id = expand_iri_in(&active, id, false)?;
                    }
                    "@type" => {
                        let items: Vec<&Value> = match item {
                            Value::Array(items) => items.iter().collect(),
                            other => vec![other],
                        };
                        for t in items {
                            let Value::String(t) = t else {
                                return invalid(format!("@type values must be strings, not {t}"));
                            };
                            match expand_iri_in(&type_scoped, t, true)? {
                                Some(iri) => node.types.push(iri),
                                None => {
                                    return invalid(format!("the type {t:?} is undefined"));
                                }
                            }
                        }
                        // A value object's @type is its datatype.
                        value_type = node.types.first().cloned();
                    }
                    "@graph" => {
                        let expanded =
                            self.expand(&active, Some("@graph"), item, false, depth + 1)?;
                        node.graph = Some(into_vec(expanded));
                    }
                    "@value" => value = Some(item),
                    "@language" => match item {
                        Value::String(l) => {
                            value_language = Some(language_tag(l, "the @language")?)
                        }
                        other => {
                            return invalid(format!("@language must be a string, not {other}"));
                        }
                    },
                    "@list" | "@set" if item.is_null() => {
                        // Expansion drops the null and keeps the object, now empty: an empty
                        // node (a blank node in the quads), not an empty list or set.
                        return invalid(format!(
                            "{key} of null would be read as an empty node, not an empty {}: write []",
                            if expanded_key == "@list" {
                                "list"
                            } else {
                                "set"
                            }
                        ));
                    }
                    "@list" => {
                        list = Some(self.list_items(&active, property, item, depth + 1)?);
                    }
                    "@set" => {
                        let expanded = self.expand(&active, property, item, false, depth + 1)?;
                        set = Some(into_vec(expanded));
                    }
                    other => {
                        return Err(JsonLdError::Unsupported(format!("{other} in a document")));
                    }
                }
                continue;
            }
            let term = active.terms.get(key.as_str());
            if let Some(definition) = term
                && let Some(scoped) = &definition.context
            {
                // A property-scoped context that gives the property itself another container,
                // type or language: the specification reads the value with the outer
                // definition, jsonld.js with the scoped one. Refused rather than guessed.
                let inner = self.apply_scoped(&active, scoped, true, true)?;
                if let Some(redefined) = inner.terms.get(key.as_str())
                    && (redefined.containers != definition.containers
                        || redefined.type_mapping != definition.type_mapping
                        || redefined.language != definition.language)
                {
                    return Err(JsonLdError::Unsupported(format!(
                        "the scoped context of term {key:?} redefines {key:?} with another container, type or language"
                    )));
                }
            }
            let containers = term.map(|t| t.containers).unwrap_or_default();
            let expanded = if term.is_some_and(|t| t.type_mapping == Some(TypeMapping::Json)) {
                Some(Expanded::Value(Literal::Json(item.clone())))
            } else {
                self.expand(&active, Some(key), item, false, depth + 1)?
            };
            let Some(expanded) = expanded else {
                continue;
            };
            // Step 13.9: under a `@list` container, whatever the value expanded to becomes a
            // list unless it is a list object itself; an array (an empty one too, or one
            // holding lists) becomes the list of its items.
            let is_list_object = matches!(expanded, Expanded::List(_));
            let mut values = match expanded {
                Expanded::Array(items) => items,
                single => vec![single],
            };
            if containers.list && !is_list_object {
                values = vec![Expanded::List(values)];
            }
            if containers.graph {
                values = values
                    .into_iter()
                    .map(|v| {
                        Expanded::Node(Node {
                            graph: Some(into_vec(Some(v))),
                            ..Node::default()
                        })
                    })
                    .collect();
            }
            match node.properties.iter_mut().find(|(p, _)| *p == expanded_key) {
                Some((_, existing)) => existing.extend(values),
                None => node.properties.push((expanded_key, values)),
            }
        }

        // Keys beside the one that makes a value, list or set object: JSON-LD drops them.
        let extra = |allowed: &[&str]| {
            meanings
                .iter()
                .find(|(meaning, _)| !allowed.contains(&meaning.as_str()))
                .map(|(_, key)| *key)
        };
        if let Some(v) = value {
            if let Some(key) = extra(&["@value", "@type", "@language"]) {
                return invalid(format!(
                    "a value object may only have @value, @type and @language, so {key:?} would be dropped"
                ));
            }
            if node.types.len() > 1 {
                return invalid("a value object has one @type");
            }
            if value_type.is_some() && value_language.is_some() {
                return invalid("a value object may not have both @type and @language");
            }
            let literal = match v {
                _ if value_type.as_deref() == Some("@json") => Literal::Json(v.clone()),
                Value::Null => {
                    return invalid("a value object whose @value is null would be dropped");
                }
                Value::String(s) => Literal::String {
                    value: s.clone(),
                    datatype: value_type,
                    language: value_language,
                },
                Value::Number(n) if value_language.is_none() => Literal::Number {
                    value: n.clone(),
                    datatype: value_type,
                },
                Value::Bool(b) if value_language.is_none() => Literal::Bool {
                    value: *b,
                    datatype: value_type,
                },
                other => return invalid(format!("invalid @value {other}")),
            };
            return Ok(Some(Expanded::Value(literal)));
        }
        if let Some(items) = list {
            if let Some(key) = extra(&["@list"]) {
                return invalid(format!(
                    "a list object may only have @list, so {key:?} would be dropped"
                ));
            }
            return Ok(Some(Expanded::List(items)));
        }
        if let Some(items) = set {
            if let Some(key) = extra(&["@set"]) {
                return invalid(format!(
                    "a set object may only have @set, so {key:?} would be dropped"
                ));
            }
            return Ok(Some(Expanded::Array(items)));
        }
        if value_language.is_some() {
            return invalid("@language outside a value object");
        }
        Ok(Some(Expanded::Node(node)))
    }

    /// The items of a `@list`. For a property with a `@list` container an array inside it
    /// is a list of its own (JSON-LD 1.1 lists of lists). For any other property the
    /// specification's expansion flattens such an array into the list (§5.1.2 step 5.2.2
    /// makes lists only under a `@list` container) while jsonld.js makes it a list one level
    /// deep: refused.
    fn list_items(
        &mut self,
        active: &Arc<ActiveContext>,
        property: Option<&str>,
        item: &Value,
        depth: usize,
    ) -> Result<Vec<Expanded>> {
        if depth > MAX_NESTING {
            return invalid("the document nests too deeply");
        }
        let Value::Array(elements) = item else {
            return Ok(match self.expand(active, property, item, false, depth)? {
                Some(Expanded::List(items)) => vec![Expanded::List(items)],
                other => into_vec(other),
            });
        };
        let list_container = property
            .and_then(|p| active.terms.get(p))
            .is_some_and(|t| t.containers.list);
        let mut out = Vec::with_capacity(elements.len());
        for element in elements {
            if element.is_array() && !list_container {
                return Err(JsonLdError::Unsupported(
                    "an array inside a @list object, for a property without a @list container (JSON-LD flattens it, jsonld.js makes it a list)".into(),
                ));
            }
            if element.is_array() {
                out.push(Expanded::List(self.list_items(
                    active,
                    property,
                    element,
                    depth + 1,
                )?));
                continue;
            }
            match self.expand(active, property, element, false, depth + 1)? {
                None => {}
                Some(Expanded::Array(_)) => return set_in_list(),
                Some(other) => out.push(other),
            }
        }
        Ok(out)
    }

    /// Step 7's test: a value object, or a map with only an `@id`.
    fn is_value_or_reference(
        &self,
        active: &ActiveContext,
        map: &Map<String, Value>,
    ) -> Result<bool> {
        let mut only_id = map.len() == 1;
        for key in map.keys() {
            let expanded = expand_iri_in(active, key, true)?;
            match expanded.as_deref() {
                Some("@value") => return Ok(true),
                Some("@id") => {}
                _ => only_id = false,
            }
        }
        Ok(only_id)
    }
}

/// A set object inside a list: jsonld.js reads it as a list of its own, or drops it when
/// empty; processors disagree, so it is refused.
fn set_in_list<T>() -> Result<T> {
    Err(JsonLdError::Unsupported(
        "a @set object inside a list".into(),
    ))
}

pub(super) fn into_vec(expanded: Option<Expanded>) -> Vec<Expanded> {
    match expanded {
        None => Vec::new(),
        Some(Expanded::Array(items)) => items,
        Some(other) => vec![other],
    }
}

impl Processor {
    pub(super) fn expand(&self, document: &Value) -> Result<Vec<Expanded>> {
        let mut ex = Expander { processor: self };
        let result = ex.expand(&self.initial, None, document, false, 0)?;
        // A top-level node object with only @graph is unwrapped (expansion §5.1.2 step 19).
        let items = match result {
            None => Vec::new(),
            Some(Expanded::Array(items)) => items,
            Some(other) => vec![other],
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Expanded::Node(node)
                    if node.id.is_none()
                        && node.types.is_empty()
                        && node.properties.is_empty()
                        && node.graph.is_some() =>
                {
                    out.extend(node.graph.unwrap_or_default());
                }
                other => out.push(other),
            }
        }
        Ok(out)
    }
}
