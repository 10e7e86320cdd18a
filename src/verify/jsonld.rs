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

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Containers {
    list: bool,
    set: bool,
    graph: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TypeMapping {
    Id,
    Vocab,
    Json,
    None,
    Datatype(Arc<str>),
}

#[derive(Debug, Clone)]
struct ScopedContext {
    /// Identity for the transition cache (stable: term definitions are immutable).
    id: u64,
    value: Arc<Value>,
    /// The URL of the context document that defined the term (base for relative IRIs).
    base: Option<Arc<str>>,
}

impl PartialEq for ScopedContext {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Term {
    /// `None` is an explicit null mapping (the term is undefined on purpose).
    iri: Option<Arc<str>>,
    prefix: bool,
    protected: bool,
    type_mapping: Option<TypeMapping>,
    containers: Containers,
    context: Option<ScopedContext>,
    /// `Some(None)` is an explicit `@language: null`.
    language: Option<Option<Arc<str>>>,
}

impl Term {
    /// Protected-term comparison ignores the protected flag itself (JSON-LD 1.1 §4.2.2 5.3).
    fn same_definition(&self, other: &Term) -> bool {
        self.iri == other.iri
            && self.prefix == other.prefix
            && self.type_mapping == other.type_mapping
            && self.containers == other.containers
            && self.context == other.context
            && self.language == other.language
    }
}

/// A processed active context.
#[derive(Debug, Clone)]
pub struct ActiveContext {
    id: u64,
    /// Built only from context documents (bundled/admin) and their scoped contexts, so its
    /// transitions may be cached.
    cacheable: bool,
    terms: HashMap<Arc<str>, Term>,
    vocab: Option<Arc<str>>,
    language: Option<Arc<str>>,
    previous: Option<Arc<ActiveContext>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

impl ActiveContext {
    fn empty() -> ActiveContext {
        ActiveContext {
            id: next_id(),
            cacheable: true,
            terms: HashMap::new(),
            vocab: None,
            language: None,
            previous: None,
        }
    }

    fn has_protected(&self) -> bool {
        self.terms.values().any(|t| t.protected)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ContextKey {
    Remote(Arc<str>),
    Scoped(u64),
}

/// A cached transition: (from context id, context applied, override protected, propagate).
type TransitionKey = (u64, ContextKey, bool, bool);
type Transitions = HashMap<TransitionKey, Arc<ActiveContext>>;

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
        Ok(writer.finish())
    }

    fn expand(&self, document: &Value) -> Result<Vec<Expanded>> {
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

    /// Applies `local` (a context value: string, object, null or array) to `active`.
    fn process(
        &self,
        active: &Arc<ActiveContext>,
        local: &Value,
        base: Option<&Arc<str>>,
        depth: usize,
        override_protected: bool,
        propagate: bool,
    ) -> Result<Arc<ActiveContext>> {
        if depth > MAX_CONTEXT_DEPTH {
            return invalid("JSON-LD contexts include each other too deeply");
        }
        let contexts: Vec<&Value> = match local {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        let mut result = Arc::clone(active);
        let mut first = true;
        for context in contexts {
            // §4.1.2 step 2: a non-propagated context remembers what to revert to.
            let remember_previous = !propagate && first && result.previous.is_none();
            first = false;
            match context {
                Value::Null => {
                    if !override_protected && result.has_protected() {
                        return invalid("a null @context would remove protected term definitions");
                    }
                    let mut fresh = ActiveContext::empty();
                    fresh.cacheable = result.cacheable;
                    if !propagate {
                        fresh.previous = Some(Arc::clone(active));
                    }
                    result = Arc::new(fresh);
                }
                Value::String(url) => {
                    let url = resolve_context_url(url, base)?;
                    let key = ContextKey::Remote(Arc::clone(&url));
                    result = self.cached(&result, key, override_protected, propagate, |from| {
                        let document = self
                            .source
                            .context(&url)
                            .ok_or_else(|| JsonLdError::UnknownContext(url.to_string()))?;
                        let Some(inner) = document.get("@context") else {
                            return invalid(format!(
                                "the context document {url} has no @context entry"
                            ));
                        };
                        self.process(from, inner, Some(&url), depth + 1, override_protected, true)
                    })?;
                    if remember_previous && result.previous.is_none() {
                        let mut with_previous = (*result).clone();
                        with_previous.id = next_id();
                        with_previous.previous = Some(Arc::clone(active));
                        result = Arc::new(with_previous);
                    }
                }
                Value::Object(definition) => {
                    let mut next = (*result).clone();
                    next.id = next_id();
                    // A context embedded in a document is not a context document: its
                    // transitions are not cached.
                    if base.is_none() {
                        next.cacheable = false;
                    }
                    if remember_previous {
                        next.previous = Some(Arc::clone(active));
                    }
                    self.apply_definition(&mut next, definition, base, override_protected)?;
                    result = Arc::new(next);
                }
                other => {
                    return invalid(format!(
                        "a @context entry must be a URL, an object or null, not {other}"
                    ));
                }
            }
        }
        Ok(result)
    }

    /// Memoises `active + key → context` for cacheable contexts.
    fn cached(
        &self,
        active: &Arc<ActiveContext>,
        key: ContextKey,
        override_protected: bool,
        propagate: bool,
        compute: impl FnOnce(&Arc<ActiveContext>) -> Result<Arc<ActiveContext>>,
    ) -> Result<Arc<ActiveContext>> {
        if !active.cacheable {
            return compute(active);
        }
        let cache_key = (active.id, key, override_protected, propagate);
        if let Some(hit) = self.lock().get(&cache_key) {
            return Ok(Arc::clone(hit));
        }
        let computed = compute(active)?;
        let mut cache = self.lock();
        if cache.len() >= MAX_TRANSITIONS {
            cache.clear();
        }
        cache.insert(cache_key, Arc::clone(&computed));
        Ok(computed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Transitions> {
        // A poisoned cache only means another thread panicked mid-insert; the map itself is
        // still a valid cache.
        self.transitions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Context processing §4.1.2 step 5.5 onwards for one context object.
    fn apply_definition(
        &self,
        active: &mut ActiveContext,
        definition: &Map<String, Value>,
        base: Option<&Arc<str>>,
        override_protected: bool,
    ) -> Result<()> {
        for keyword in ["@import", "@direction", "@propagate", "@base"] {
            if definition.contains_key(keyword) {
                return Err(JsonLdError::Unsupported(format!("{keyword} in a context")));
            }
        }
        if let Some(version) = definition.get("@version")
            && version.as_f64() != Some(1.1)
        {
            return invalid(format!("@version must be 1.1, not {version}"));
        }
        if let Some(vocab) = definition.get("@vocab") {
            active.vocab = match vocab {
                Value::Null => None,
                Value::String(v) => {
                    let expanded = expand_iri_in(active, v, true)?;
                    match expanded {
                        Some(iri) if is_absolute_iri(&iri) || iri.starts_with("_:") => {
                            Some(Arc::from(iri))
                        }
                        _ => return invalid(format!("@vocab {v:?} is not an absolute IRI")),
                    }
                }
                other => return invalid(format!("@vocab must be a string, not {other}")),
            };
        }
        if let Some(language) = definition.get("@language") {
            active.language = match language {
                Value::Null => None,
                Value::String(l) => Some(Arc::from(l.to_ascii_lowercase())),
                other => return invalid(format!("@language must be a string, not {other}")),
            };
        }
        let protected_default = match definition.get("@protected") {
            None => false,
            Some(Value::Bool(p)) => *p,
            Some(other) => return invalid(format!("@protected must be a boolean, not {other}")),
        };
        let mut defined: HashMap<&str, bool> = HashMap::new();
        for term in definition.keys() {
            if matches!(
                term.as_str(),
                "@version" | "@vocab" | "@language" | "@protected"
            ) {
                continue;
            }
            self.create_term(
                active,
                definition,
                term,
                &mut defined,
                base,
                protected_default,
                override_protected,
            )?;
        }
        Ok(())
    }

    /// Create Term Definition (§4.2.2).
    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors the specification's algorithm signature"
    )]
    fn create_term<'a>(
        &self,
        active: &mut ActiveContext,
        local: &'a Map<String, Value>,
        term: &'a str,
        defined: &mut HashMap<&'a str, bool>,
        base: Option<&Arc<str>>,
        protected_default: bool,
        override_protected: bool,
    ) -> Result<()> {
        match defined.get(term) {
            Some(true) => return Ok(()),
            Some(false) => return invalid(format!("cyclic IRI mapping for term {term:?}")),
            None => {}
        }
        defined.insert(term, false);
        let value = &local[term];
        if term == "@type" {
            // Only `{"@container": "@set"}` (and @protected) is allowed for @type; it changes
            // nothing for RDF.
            defined.insert(term, true);
            return Ok(());
        }
        if term.starts_with('@') {
            return invalid(format!("a context may not redefine the keyword {term}"));
        }
        let previous = active.terms.remove(term);
        let mut definition = match value {
            Value::Null => Term {
                iri: None,
                prefix: false,
                protected: protected_default,
                type_mapping: None,
                containers: Containers::default(),
                context: None,
                language: None,
            },
            Value::String(_) | Value::Object(_) => {
                let object: Map<String, Value>;
                let (map, simple) = match value {
                    Value::String(s) => {
                        object = Map::from_iter([("@id".to_string(), Value::String(s.clone()))]);
                        (&object, true)
                    }
                    Value::Object(map) => (map, false),
                    _ => unreachable!("matched above"),
                };
                self.term_from_map(
                    active,
                    local,
                    term,
                    map,
                    simple,
                    defined,
                    base,
                    protected_default,
                    override_protected,
                )?
            }
            other => {
                return invalid(format!(
                    "the definition of term {term:?} must be a string, object or null, not {other}"
                ));
            }
        };
        if let Some(previous) = previous
            && previous.protected
            && !override_protected
        {
            if !previous.same_definition(&definition) {
                return invalid(format!("the protected term {term:?} may not be redefined"));
            }
            definition = previous;
        }
        active.terms.insert(Arc::from(term), definition);
        defined.insert(term, true);
        Ok(())
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors the specification's algorithm signature"
    )]
    fn term_from_map<'a>(
        &self,
        active: &mut ActiveContext,
        local: &'a Map<String, Value>,
        term: &'a str,
        map: &Map<String, Value>,
        simple: bool,
        defined: &mut HashMap<&'a str, bool>,
        base: Option<&Arc<str>>,
        protected_default: bool,
        override_protected: bool,
    ) -> Result<Term> {
        for key in map.keys() {
            match key.as_str() {
                "@id" | "@type" | "@container" | "@context" | "@protected" | "@language"
                | "@prefix" => {}
                "@reverse" | "@nest" | "@index" | "@direction" => {
                    return Err(JsonLdError::Unsupported(format!(
                        "{key} in the definition of {term:?}"
                    )));
                }
                other => {
                    return invalid(format!(
                        "unexpected {other:?} in the definition of term {term:?}"
                    ));
                }
            }
        }
        let protected = match map.get("@protected") {
            None => protected_default,
            Some(Value::Bool(p)) => *p,
            Some(other) => return invalid(format!("@protected must be a boolean, not {other}")),
        };
        let type_mapping = match map.get("@type") {
            None => None,
            Some(Value::String(t)) => {
                let expanded = self.expand_iri_defining(
                    active,
                    local,
                    t,
                    defined,
                    base,
                    (protected_default, override_protected),
                )?;
                Some(match expanded.as_deref() {
                    Some("@id") => TypeMapping::Id,
                    Some("@vocab") => TypeMapping::Vocab,
                    Some("@json") => TypeMapping::Json,
                    Some("@none") => TypeMapping::None,
                    Some(iri) if is_absolute_iri(iri) => TypeMapping::Datatype(Arc::from(iri)),
                    _ => return invalid(format!("invalid @type mapping {t:?} for term {term:?}")),
                })
            }
            Some(other) => return invalid(format!("invalid @type mapping {other} for {term:?}")),
        };
        let mut prefix = false;
        let iri: Option<Arc<str>> = match map.get("@id") {
            Some(Value::Null) => None,
            Some(Value::String(id)) if id != term => {
                let expanded = self
                    .expand_iri_defining(
                        active,
                        local,
                        id,
                        defined,
                        base,
                        (protected_default, override_protected),
                    )?
                    .ok_or_else(|| {
                        JsonLdError::Invalid(format!("the @id of term {term:?} does not expand"))
                    })?;
                if !(is_keyword(&expanded)
                    || is_absolute_iri(&expanded)
                    || expanded.starts_with("_:"))
                {
                    return invalid(format!(
                        "the @id {id:?} of term {term:?} is not an IRI or keyword"
                    ));
                }
                if expanded == "@context" {
                    return invalid("a term may not be an alias of @context");
                }
                // A simple term whose IRI ends with a gen-delim can be used as a prefix.
                if !term.contains(':') && !term.contains('/') && simple {
                    prefix = expanded.ends_with([':', '/', '?', '#', '[', ']', '@']);
                }
                Some(Arc::from(expanded))
            }
            Some(Value::String(_)) | None => {
                if let Some((prefix_part, suffix)) = term.split_once(':')
                    && !suffix.starts_with("//")
                {
                    if local.contains_key(prefix_part) {
                        self.create_term(
                            active,
                            local,
                            local
                                .get_key_value(prefix_part)
                                .map(|(k, _)| k.as_str())
                                .unwrap_or(prefix_part),
                            defined,
                            base,
                            protected_default,
                            override_protected,
                        )?;
                    }
                    match active.terms.get(prefix_part).and_then(|t| t.iri.clone()) {
                        Some(p) => Some(Arc::from(format!("{p}{suffix}"))),
                        None => Some(Arc::from(term)),
                    }
                } else if term.contains(':') || term.contains('/') {
                    return Err(JsonLdError::Unsupported(format!(
                        "the IRI-like term {term:?} without @id"
                    )));
                } else {
                    match &active.vocab {
                        Some(vocab) => Some(Arc::from(format!("{vocab}{term}"))),
                        None => {
                            return invalid(format!(
                                "term {term:?} has no @id and the context has no @vocab"
                            ));
                        }
                    }
                }
            }
            Some(other) => return invalid(format!("the @id of term {term:?} is {other}")),
        };
        if let Some(Value::Bool(p)) = map.get("@prefix") {
            prefix = *p;
        }
        let containers = match map.get("@container") {
            None => Containers::default(),
            Some(value) => {
                let names: Vec<&Value> = match value {
                    Value::Array(items) => items.iter().collect(),
                    other => vec![other],
                };
                let mut containers = Containers::default();
                for name in names {
                    match name.as_str() {
                        Some("@list") => containers.list = true,
                        Some("@set") => containers.set = true,
                        Some("@graph") => containers.graph = true,
                        Some(other @ ("@index" | "@id" | "@type" | "@language")) => {
                            return Err(JsonLdError::Unsupported(format!(
                                "@container {other} (term {term:?})"
                            )));
                        }
                        _ => return invalid(format!("invalid @container for term {term:?}")),
                    }
                }
                containers
            }
        };
        let context = map.get("@context").map(|value| ScopedContext {
            id: next_id(),
            value: Arc::new(value.clone()),
            base: base.cloned(),
        });
        let language = match map.get("@language") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(l)) => Some(Some(Arc::from(l.to_ascii_lowercase()))),
            Some(other) => return invalid(format!("invalid @language {other} for {term:?}")),
        };
        Ok(Term {
            iri,
            prefix,
            protected,
            type_mapping,
            containers,
            context,
            language,
        })
    }

    /// IRI expansion while a context is being defined: terms of `local` not yet defined are
    /// defined first (§5.2.2 steps 4 and 6.2).
    fn expand_iri_defining<'a>(
        &self,
        active: &mut ActiveContext,
        local: &'a Map<String, Value>,
        value: &str,
        defined: &mut HashMap<&'a str, bool>,
        base: Option<&Arc<str>>,
        (protected_default, override_protected): (bool, bool),
    ) -> Result<Option<String>> {
        if is_keyword(value) {
            return Ok(Some(value.to_string()));
        }
        if let Some((key, _)) = local.get_key_value(value)
            && defined.get(value) != Some(&true)
        {
            self.create_term(
                active,
                local,
                key,
                defined,
                base,
                protected_default,
                override_protected,
            )?;
        }
        if let Some((prefix, _)) = value.split_once(':')
            && let Some((key, _)) = local.get_key_value(prefix)
            && defined.get(prefix) != Some(&true)
        {
            self.create_term(
                active,
                local,
                key,
                defined,
                base,
                protected_default,
                override_protected,
            )?;
        }
        expand_iri_in(active, value, true)
    }
}

fn resolve_context_url(url: &str, base: Option<&Arc<str>>) -> Result<Arc<str>> {
    if is_absolute_iri(url) {
        return Ok(Arc::from(url));
    }
    match base.and_then(|b| url::Url::parse(b).ok()) {
        Some(base) => base
            .join(url)
            .map(|u| Arc::from(u.as_str()))
            .map_err(|e| JsonLdError::Invalid(format!("the context URL {url:?}: {e}"))),
        None => invalid(format!("the context URL {url:?} is relative")),
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

/// IRI expansion (§5.2.2) against a finished active context. `None` means the value maps to
/// nothing (a null term).
fn expand_iri_in(active: &ActiveContext, value: &str, vocab: bool) -> Result<Option<String>> {
    if is_keyword(value) {
        return Ok(Some(value.to_string()));
    }
    if value.starts_with('@') {
        // Keyword-like forms are ignored by JSON-LD; in safe mode that is an error.
        return invalid(format!("{value:?} looks like a keyword but is not one"));
    }
    if vocab && let Some(term) = active.terms.get(value) {
        return Ok(term.iri.as_deref().map(str::to_string));
    }
    if let Some((prefix, suffix)) = value.split_once(':') {
        if prefix == "_" {
            return Ok(Some(value.to_string()));
        }
        if suffix.starts_with("//") {
            return Ok(Some(value.to_string()));
        }
        if let Some(term) = active.terms.get(prefix)
            && term.prefix
            && let Some(iri) = &term.iri
        {
            return Ok(Some(format!("{iri}{suffix}")));
        }
        if is_absolute_iri(value) {
            return Ok(Some(value.to_string()));
        }
    }
    if vocab && let Some(v) = &active.vocab {
        return Ok(Some(format!("{v}{value}")));
    }
    // Document-relative: we have no base IRI, so the value stays relative (and safe mode
    // refuses it where it would be used).
    Ok(Some(value.to_string()))
}

/// Expanded JSON-LD, in a typed form.
#[derive(Debug, Clone)]
enum Expanded {
    Node(Node),
    Value(Literal),
    List(Vec<Expanded>),
    /// Only as an intermediate result of expanding an array.
    Array(Vec<Expanded>),
}

#[derive(Debug, Clone, Default)]
struct Node {
    id: Option<String>,
    types: Vec<String>,
    properties: Vec<(String, Vec<Expanded>)>,
    graph: Option<Vec<Expanded>>,
}

#[derive(Debug, Clone)]
enum Literal {
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

struct Expander<'p> {
    processor: &'p Processor,
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
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match self.expand(active, property, item, from_map, depth + 1)? {
                        None => {}
                        Some(Expanded::Array(inner)) => out.extend(inner),
                        Some(other) => out.push(other),
                    }
                }
                let is_list = term.is_some_and(|t| t.containers.list);
                Ok(Some(if is_list {
                    Expanded::List(out)
                } else {
                    Expanded::Array(out)
                }))
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
                self.processor.process(
                    from,
                    &scoped.value,
                    scoped.base.as_ref(),
                    0,
                    override_protected,
                    propagate,
                )
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
                .process(&active, embedded, None, 0, false, true)?;
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
                        Value::String(l) => value_language = Some(l.to_ascii_lowercase()),
                        other => {
                            return invalid(format!("@language must be a string, not {other}"));
                        }
                    },
                    "@list" => {
                        let expanded = self.expand(&active, property, item, false, depth + 1)?;
                        list = Some(match expanded {
                            Some(Expanded::List(items)) => items,
                            other => into_vec(other),
                        });
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
            let containers = term.map(|t| t.containers).unwrap_or_default();
            let expanded = if term.is_some_and(|t| t.type_mapping == Some(TypeMapping::Json)) {
                Some(Expanded::Value(Literal::Json(item.clone())))
            } else {
                self.expand(&active, Some(key), item, false, depth + 1)?
            };
            let Some(expanded) = expanded else {
                continue;
            };
            let mut values = match expanded {
                Expanded::Array(items) => items,
                list @ Expanded::List(_) => vec![list],
                single => vec![single],
            };
            if containers.list && !values.iter().all(|v| matches!(v, Expanded::List(_))) {
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

        if let Some(v) = value {
            if !node.properties.is_empty() || node.graph.is_some() || node.id.is_some() {
                return invalid("a value object may not have other properties");
            }
            if node.types.len() > 1 {
                return invalid("a value object has one @type");
            }
            let literal = match v {
                Value::Null => return Ok(None),
                _ if value_type.as_deref() == Some("@json") => Literal::Json(v.clone()),
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
            return Ok(Some(Expanded::List(items)));
        }
        if let Some(items) = set {
            return Ok(Some(Expanded::Array(items)));
        }
        if value_language.is_some() {
            return invalid("@language outside a value object");
        }
        Ok(Some(Expanded::Node(node)))
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

fn into_vec(expanded: Option<Expanded>) -> Vec<Expanded> {
    match expanded {
        None => Vec::new(),
        Some(Expanded::Array(items)) => items,
        Some(other) => vec![other],
    }
}

/// An RDF term.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Term2 {
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
    pub subject: Term2,
    pub predicate: String,
    pub object: Term2,
    pub graph: Option<Term2>,
}

#[derive(Default)]
struct QuadWriter {
    quads: Vec<Quad>,
    blank_count: usize,
    blank_names: HashMap<String, String>,
}

impl QuadWriter {
    fn finish(mut self) -> Vec<Quad> {
        // An RDF dataset is a set: the same statement made twice counts once.
        self.quads.sort_unstable();
        self.quads.dedup();
        self.quads
    }

    fn fresh_blank(&mut self) -> Term2 {
        let name = format!("b{}", self.blank_count);
        self.blank_count += 1;
        Term2::Blank(name)
    }

    fn node_term(&mut self, id: Option<&str>) -> Result<Term2> {
        match id {
            None => Ok(self.fresh_blank()),
            Some(id) if id.starts_with("_:") => {
                if let Some(name) = self.blank_names.get(id) {
                    return Ok(Term2::Blank(name.clone()));
                }
                let Term2::Blank(name) = self.fresh_blank() else {
                    unreachable!("fresh_blank makes blank nodes")
                };
                self.blank_names.insert(id.to_string(), name.clone());
                Ok(Term2::Blank(name))
            }
            Some(id) if is_absolute_iri(id) => Ok(Term2::Iri(id.to_string())),
            Some(id) => invalid(format!(
                "the id {id:?} is not an absolute IRI, so it would be dropped from the signed data"
            )),
        }
    }

    fn top_level(&mut self, item: &Expanded, graph: Option<&Term2>) -> Result<()> {
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
    fn node(&mut self, node: &Node, graph: Option<&Term2>) -> Result<Term2> {
        let subject = self.node_term(node.id.as_deref())?;
        for t in &node.types {
            let object = if t.starts_with("_:") {
                self.node_term(Some(t))?
            } else if is_absolute_iri(t) {
                Term2::Iri(t.clone())
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
                let object = self.object(value, graph)?;
                self.push(&subject, predicate, object, graph);
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

    fn object(&mut self, value: &Expanded, graph: Option<&Term2>) -> Result<Term2> {
        match value {
            Expanded::Node(node) => self.node(node, graph),
            Expanded::Value(literal) => literal_term(literal),
            Expanded::List(items) => self.list(items, graph),
            Expanded::Array(_) => invalid("nested arrays are not allowed here"),
        }
    }

    /// RDF collection (§7.3): rdf:first/rdf:rest chains ending in rdf:nil.
    fn list(&mut self, items: &[Expanded], graph: Option<&Term2>) -> Result<Term2> {
        if items.is_empty() {
            return Ok(Term2::Iri(format!("{RDF}nil")));
        }
        let heads: Vec<Term2> = (0..items.len()).map(|_| self.fresh_blank()).collect();
        for (i, item) in items.iter().enumerate() {
            let object = self.object(item, graph)?;
            self.push(&heads[i], &format!("{RDF}first"), object, graph);
            let rest = heads
                .get(i + 1)
                .cloned()
                .unwrap_or_else(|| Term2::Iri(format!("{RDF}nil")));
            self.push(&heads[i], &format!("{RDF}rest"), rest, graph);
        }
        Ok(heads[0].clone())
    }

    fn push(&mut self, subject: &Term2, predicate: &str, object: Term2, graph: Option<&Term2>) {
        self.quads.push(Quad {
            subject: subject.clone(),
            predicate: predicate.to_string(),
            object,
            graph: graph.cloned(),
        });
    }
}

/// Object to RDF conversion for literals (§7.6).
fn literal_term(literal: &Literal) -> Result<Term2> {
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
            match (datatype, language) {
                (None, Some(language)) => Term2::Literal {
                    value: value.clone(),
                    datatype: format!("{RDF}langString"),
                    language: Some(language.clone()),
                },
                (datatype, _) => Term2::Literal {
                    value: value.clone(),
                    datatype: datatype.clone().unwrap_or_else(|| format!("{XSD}string")),
                    language: None,
                },
            }
        }
        Literal::Bool { value, datatype } => {
            check_datatype(datatype)?;
            Term2::Literal {
                value: value.to_string(),
                datatype: datatype.clone().unwrap_or_else(|| format!("{XSD}boolean")),
                language: None,
            }
        }
        Literal::Number { value, datatype } => {
            check_datatype(datatype)?;
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
            let integer = if value.is_i64() || value.is_u64() {
                Some(value.to_string())
            } else {
                integral_float
            };
            if let Some(integer) = integer.filter(|_| !is_double_type) {
                Term2::Literal {
                    value: integer,
                    datatype: datatype.clone().unwrap_or_else(|| format!("{XSD}integer")),
                    language: None,
                }
            } else {
                let Some(float) = value.as_f64() else {
                    return invalid(format!("the number {value} is out of range"));
                };
                Term2::Literal {
                    value: canonical_double(float),
                    datatype: datatype.clone().unwrap_or_else(|| format!("{XSD}double")),
                    language: None,
                }
            }
        }
        Literal::Json(value) => Term2::Literal {
            value: canonical_json(value),
            datatype: format!("{RDF}JSON"),
            language: None,
        },
    })
}

/// The canonical lexical form of an xsd:double as jsonld.js writes it: `1.5E0`, `1.0E2`.
fn canonical_double(value: f64) -> String {
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

/// JSON canonicalization (RFC 8785) for `@json` literals: keys sorted, no whitespace.
fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            let entries: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical_json(&map[k])))
                .collect();
            format!("{{{}}}", entries.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(canonical_json)
                .collect::<Vec<_>>()
                .join(",")
        ),
        scalar => scalar.to_string(),
    }
}

#[cfg(test)]
mod tests {
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
                Term2::Literal { value, .. } => Some(value.as_str()),
                _ => None,
            })
            .collect();
        values.sort_unstable();
        assert_eq!(values, ["0", "1.5E0", "42", "7"]);
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
                .any(|q| matches!(&q.object, Term2::Literal { value, .. } if value == "2.5E0"))
        );
        assert!(
            quads
                .iter()
                .any(|q| q.object == Term2::Iri(format!("{RDF}nil")))
        );
    }
}
