//! Context processing (JSON-LD 1.1 Processing Algorithms §4.1 and §4.2): active contexts,
//! term definitions, IRI expansion, and the cache of "active context + context → active
//! context" transitions that makes repeated credentials cheap.

use super::{
    JsonLdError, MAX_CONTEXT_DEPTH, MAX_TRANSITIONS, Processor, Result, invalid, is_absolute_iri,
    is_keyword, language_tag,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Containers {
    pub(super) list: bool,
    pub(super) set: bool,
    pub(super) graph: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TypeMapping {
    Id,
    Vocab,
    Json,
    None,
    Datatype(Arc<str>),
}

#[derive(Debug, Clone)]
pub(super) struct ScopedContext {
    /// Identity for the transition cache (stable: term definitions are immutable).
    pub(super) id: u64,
    pub(super) value: Arc<Value>,
    /// The URL of the context document that defined the term (base for relative IRIs).
    pub(super) base: Option<Arc<str>>,
}

impl PartialEq for ScopedContext {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct TermDefinition {
    /// `None` is an explicit null mapping (the term is undefined on purpose).
    pub(super) iri: Option<Arc<str>>,
    pub(super) prefix: bool,
    pub(super) protected: bool,
    pub(super) type_mapping: Option<TypeMapping>,
    pub(super) containers: Containers,
    pub(super) context: Option<ScopedContext>,
    /// `Some(None)` is an explicit `@language: null`.
    pub(super) language: Option<Option<Arc<str>>>,
}

impl TermDefinition {
    /// Protected-term comparison ignores the protected flag itself (JSON-LD 1.1 §4.2.2 5.3).
    fn same_definition(&self, other: &TermDefinition) -> bool {
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
pub(super) struct ActiveContext {
    pub(super) id: u64,
    /// Built only from context documents (bundled/admin) and their scoped contexts, so its
    /// transitions may be cached.
    pub(super) cacheable: bool,
    pub(super) terms: HashMap<Arc<str>, TermDefinition>,
    pub(super) vocab: Option<Arc<str>>,
    pub(super) language: Option<Arc<str>>,
    pub(super) previous: Option<Arc<ActiveContext>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(super) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

impl ActiveContext {
    pub(super) fn empty() -> ActiveContext {
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
pub(super) enum ContextKey {
    Remote(Arc<str>),
    Scoped(u64),
}

/// A cached transition: (from context id, context applied, override protected, propagate).
type TransitionKey = (u64, ContextKey, bool, bool);
pub(super) type Transitions = HashMap<TransitionKey, Arc<ActiveContext>>;

/// How a context is applied (Context Processing §4.1.2's flags).
#[derive(Debug, Clone, Copy)]
pub(super) struct Mode {
    /// Property-scoped contexts may redefine protected terms.
    pub(super) override_protected: bool,
    /// Type-scoped contexts do not reach nested node objects.
    pub(super) propagate: bool,
    /// Scoped contexts are processed once when their term is defined, so their errors show
    /// even if the term is never used (§4.2.2 step 21); not while doing that, since a
    /// context may scope itself.
    pub(super) validate_scoped: bool,
}

impl Mode {
    pub(super) const DOCUMENT: Mode = Mode {
        override_protected: false,
        propagate: true,
        validate_scoped: true,
    };
}

/// What stays the same while the terms of one context object are defined.
#[derive(Clone, Copy)]
struct Definitions<'a> {
    local: &'a Map<String, Value>,
    /// The URL of the context document (base for relative context URLs).
    base: Option<&'a Arc<str>>,
    protected_default: bool,
    mode: Mode,
    depth: usize,
}

impl Processor {
    /// Applies `local` (a context value: string, object, null or array) to `active`.
    pub(super) fn process(
        &self,
        active: &Arc<ActiveContext>,
        local: &Value,
        base: Option<&Arc<str>>,
        depth: usize,
        mode: Mode,
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
            let remember_previous = !mode.propagate && first && result.previous.is_none();
            first = false;
            match context {
                Value::Null => {
                    if !mode.override_protected && result.has_protected() {
                        return invalid("a null @context would remove protected term definitions");
                    }
                    let mut fresh = ActiveContext::empty();
                    fresh.cacheable = result.cacheable;
                    if !mode.propagate {
                        fresh.previous = Some(Arc::clone(active));
                    }
                    result = Arc::new(fresh);
                }
                Value::String(url) => {
                    let url = resolve_context_url(url, base)?;
                    let key = ContextKey::Remote(Arc::clone(&url));
                    result = self.cached(
                        &result,
                        key,
                        mode.override_protected,
                        mode.propagate,
                        |from| {
                            let document = self
                                .source
                                .context(&url)
                                .ok_or_else(|| JsonLdError::UnknownContext(url.to_string()))?;
                            let Some(inner) = document.get("@context") else {
                                return invalid(format!(
                                    "the context document {url} has no @context entry"
                                ));
                            };
                            let inner_mode = Mode {
                                propagate: true,
                                ..mode
                            };
                            self.process(from, inner, Some(&url), depth + 1, inner_mode)
                        },
                    )?;
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
                    self.apply_definition(&mut next, definition, base, mode, depth)?;
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
    pub(super) fn cached(
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
        mode: Mode,
        depth: usize,
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
                Value::String(l) => Some(Arc::from(language_tag(l, "the context's @language")?)),
                other => return invalid(format!("@language must be a string, not {other}")),
            };
        }
        let protected_default = match definition.get("@protected") {
            None => false,
            Some(Value::Bool(p)) => *p,
            Some(other) => return invalid(format!("@protected must be a boolean, not {other}")),
        };
        let scope = Definitions {
            local: definition,
            base,
            protected_default,
            mode,
            depth,
        };
        let mut defined: HashMap<&str, bool> = HashMap::new();
        for term in definition.keys() {
            if matches!(
                term.as_str(),
                "@version" | "@vocab" | "@language" | "@protected"
            ) {
                continue;
            }
            self.create_term(active, scope, term, &mut defined)?;
        }
        Ok(())
    }

    /// Create Term Definition (§4.2.2).
    fn create_term<'a>(
        &self,
        active: &mut ActiveContext,
        scope: Definitions<'a>,
        term: &'a str,
        defined: &mut HashMap<&'a str, bool>,
    ) -> Result<()> {
        match defined.get(term) {
            Some(true) => return Ok(()),
            Some(false) => return invalid(format!("cyclic IRI mapping for term {term:?}")),
            None => {}
        }
        defined.insert(term, false);
        let value = &scope.local[term];
        if term.is_empty() {
            return invalid("a context may not define the empty term \"\"");
        }
        let previous = active.terms.remove(term);
        let mut definition = if term == "@type" {
            type_definition(value, scope.protected_default)?
        } else if term.starts_with('@') {
            return invalid(format!("a context may not redefine the keyword {term}"));
        } else {
            match value {
                Value::Null => TermDefinition {
                    iri: None,
                    prefix: false,
                    protected: scope.protected_default,
                    type_mapping: None,
                    containers: Containers::default(),
                    context: None,
                    language: None,
                },
                Value::String(_) | Value::Object(_) => {
                    let object: Map<String, Value>;
                    let (map, simple) = match value {
                        Value::String(s) => {
                            object =
                                Map::from_iter([("@id".to_string(), Value::String(s.clone()))]);
                            (&object, true)
                        }
                        Value::Object(map) => (map, false),
                        _ => unreachable!("matched above"),
                    };
                    self.term_from_map(active, scope, term, map, simple, defined)?
                }
                other => {
                    return invalid(format!(
                        "the definition of term {term:?} must be a string, object or null, not {other}"
                    ));
                }
            }
        };
        if let Some(previous) = previous
            && previous.protected
            && !scope.mode.override_protected
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

    fn term_from_map<'a>(
        &self,
        active: &mut ActiveContext,
        scope: Definitions<'a>,
        term: &'a str,
        map: &Map<String, Value>,
        simple: bool,
        defined: &mut HashMap<&'a str, bool>,
    ) -> Result<TermDefinition> {
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
            None => scope.protected_default,
            Some(Value::Bool(p)) => *p,
            Some(other) => return invalid(format!("@protected must be a boolean, not {other}")),
        };
        let type_mapping = match map.get("@type") {
            None => None,
            Some(Value::String(t)) => {
                let expanded = self.expand_iri_defining(active, scope, t, defined)?;
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
        // A term that looks like an IRI or compact IRI (a ':' inside it, or a '/').
        let iri_like = term.contains('/')
            || term
                .char_indices()
                .any(|(i, c)| c == ':' && i > 0 && i + 1 < term.len());
        let mut prefix = false;
        let iri: Option<Arc<str>> = match map.get("@id") {
            Some(Value::Null) => None,
            Some(Value::String(id)) if id != term => {
                let expanded = self
                    .expand_iri_defining(active, scope, id, defined)?
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
                if iri_like {
                    // §4.2.2 step 14.2.4: a term that reads as an IRI must mean that IRI, or
                    // the document would say one thing to a reader and another to RDF.
                    defined.insert(term, true);
                    let itself = self.expand_iri_defining(active, scope, term, defined)?;
                    if itself.as_deref() != Some(expanded.as_str()) {
                        return invalid(format!(
                            "the term {term:?} looks like an IRI but is mapped to {expanded:?}"
                        ));
                    }
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
                    if let Some((key, _)) = scope.local.get_key_value(prefix_part) {
                        self.create_term(active, scope, key, defined)?;
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
        match map.get("@prefix") {
            None => {}
            Some(_) if iri_like => {
                return invalid(format!(
                    "the term {term:?} looks like an IRI and so may not have @prefix"
                ));
            }
            Some(Value::Bool(p)) => prefix = *p,
            Some(other) => {
                return invalid(format!(
                    "@prefix must be true or false, not {other} (term {term:?})"
                ));
            }
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
        let context = match map.get("@context") {
            None => None,
            Some(value) => {
                if scope.mode.validate_scoped {
                    self.validate_scoped(active, value, scope, term)?;
                }
                Some(ScopedContext {
                    id: next_id(),
                    value: Arc::new(value.clone()),
                    base: scope.base.cloned(),
                })
            }
        };
        let language = match map.get("@language") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(l)) => Some(Some(Arc::from(language_tag(
                l,
                &format!("the @language of term {term:?}"),
            )?))),
            Some(other) => return invalid(format!("invalid @language {other} for {term:?}")),
        };
        Ok(TermDefinition {
            iri,
            prefix,
            protected,
            type_mapping,
            containers,
            context,
            language,
        })
    }

    /// §4.2.2 step 21: a scoped context must process without error against the context being
    /// defined, whether or not the term is ever used.
    fn validate_scoped(
        &self,
        active: &ActiveContext,
        scoped: &Value,
        scope: Definitions<'_>,
        term: &str,
    ) -> Result<()> {
        let mut snapshot = active.clone();
        // A half-built context: nothing computed from it may enter the transition cache.
        snapshot.cacheable = false;
        snapshot.id = next_id();
        let mode = Mode {
            override_protected: true,
            propagate: true,
            validate_scoped: false,
        };
        self.process(
            &Arc::new(snapshot),
            scoped,
            scope.base,
            scope.depth + 1,
            mode,
        )
        .map(drop)
        .map_err(|e| match e {
            JsonLdError::Invalid(message) => {
                JsonLdError::Invalid(format!("the scoped context of term {term:?}: {message}"))
            }
            other => other,
        })
    }

    /// IRI expansion while a context is being defined: terms of `local` not yet defined are
    /// defined first (§5.2.2 steps 4 and 6.2).
    fn expand_iri_defining<'a>(
        &self,
        active: &mut ActiveContext,
        scope: Definitions<'a>,
        value: &str,
        defined: &mut HashMap<&'a str, bool>,
    ) -> Result<Option<String>> {
        if is_keyword(value) {
            return Ok(Some(value.to_string()));
        }
        if let Some((key, _)) = scope.local.get_key_value(value)
            && defined.get(value) != Some(&true)
        {
            self.create_term(active, scope, key, defined)?;
        }
        if let Some((prefix, _)) = value.split_once(':')
            && let Some((key, _)) = scope.local.get_key_value(prefix)
            && defined.get(prefix) != Some(&true)
        {
            self.create_term(active, scope, key, defined)?;
        }
        expand_iri_in(active, value, true)
    }
}

/// The definition of `@type` itself (§4.2.2 step 4): only `"@container": "@set"` and
/// `@protected`, which change nothing for RDF but may protect it.
fn type_definition(value: &Value, protected_default: bool) -> Result<TermDefinition> {
    let refused = || {
        invalid(format!(
            "@type may only be given \"@container\": \"@set\" and @protected, not {value}"
        ))
    };
    let Value::Object(map) = value else {
        return refused();
    };
    if map.is_empty() {
        return refused();
    }
    let mut definition = TermDefinition {
        iri: Some(Arc::from("@type")),
        prefix: false,
        protected: protected_default,
        type_mapping: None,
        containers: Containers::default(),
        context: None,
        language: None,
    };
    for (key, entry) in map {
        match (key.as_str(), entry) {
            ("@container", Value::String(c)) if c == "@set" => definition.containers.set = true,
            ("@protected", Value::Bool(p)) => definition.protected = *p,
            _ => return refused(),
        }
    }
    Ok(definition)
}

pub(super) fn resolve_context_url(url: &str, base: Option<&Arc<str>>) -> Result<Arc<str>> {
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

/// IRI expansion (§5.2.2) against a finished active context. `None` means the value maps to
/// nothing (a null term).
pub(super) fn expand_iri_in(
    active: &ActiveContext,
    value: &str,
    vocab: bool,
) -> Result<Option<String>> {
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
