//! Public keys for proofs: from `did:key` and `did:jwk` (the DID is the key), `did:web` and
//! plain https verification-method URLs (a controller document fetched through the
//! SSRF-safe client), and JOSE `jwk` headers. Each resolved key says who controls it, so the
//! verifier can insist that the controller is the credential's issuer.

use super::fetch::{FetchError, Fetcher};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// A public key of a supported algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    Rsa(rsa::RsaPublicKey),
}

impl PublicKey {
    pub fn algorithm(&self) -> &'static str {
        match self {
            PublicKey::Ed25519(_) => "Ed25519",
            PublicKey::P256(_) => "P-256",
            PublicKey::Rsa(_) => "RSA",
        }
    }
}

/// Where a key came from, for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    DidKey,
    DidJwk,
    DidWeb {
        document_url: String,
    },
    Https {
        document_url: String,
    },
    /// A JOSE `jwk` header: the key the signer chose to show, controlled by nobody we know
    /// (`untied` says why: the issuer's document does not list it, cannot be read, …).
    JwkHeader {
        untied: String,
    },
    /// The multibase key a verification method's URL fragment names, read from the URL
    /// itself because the document that would say who controls it could not be read
    /// (`unresolved` says why). Good for checking the signature, not for trusting it.
    Fragment {
        unresolved: String,
    },
    /// A JWT without `kid` or `jwk` whose `iss` is a DID that is its own key (did:key,
    /// did:jwk).
    IssClaim,
}

impl KeySource {
    pub fn describe(&self) -> String {
        match self {
            KeySource::DidKey => "did:key (the DID is the key)".into(),
            KeySource::DidJwk => "did:jwk (the DID is the key)".into(),
            KeySource::DidWeb { document_url } => format!("did:web document {document_url}"),
            KeySource::Https { document_url } => format!("controller document {document_url}"),
            KeySource::JwkHeader { .. } => "the JWS header's jwk".into(),
            KeySource::Fragment { unresolved } => format!(
                "the verification method's URL fragment (the document that would publish it could not be read: {unresolved})"
            ),
            KeySource::IssClaim => "the JWT's iss (a DID that is its own key)".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ResolvedKey {
    pub key: PublicKey,
    /// The verification method's id, absolute.
    pub id: String,
    /// Who controls the key (a DID, or the https URL of the controller document); `None`
    /// for a key nobody is known to control.
    pub controller: Option<String>,
    pub source: KeySource,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key could not be obtained (unknown method, unreachable document): the proof cannot
    /// be checked.
    #[error("{0}")]
    Unresolvable(String),
    /// What the proof names is malformed or not allowed: the proof cannot hold.
    #[error("{0}")]
    Invalid(String),
}

impl From<FetchError> for KeyError {
    fn from(error: FetchError) -> Self {
        KeyError::Unresolvable(format!("could not fetch the key: {error}"))
    }
}

/// Resolves a verification method URL (proof `verificationMethod`, JOSE `kid`) that must be
/// authorised for `purpose` (e.g. `assertionMethod`).
pub async fn resolve(
    fetcher: &Fetcher,
    method: &str,
    purpose: &str,
) -> Result<ResolvedKey, KeyError> {
    let (base, fragment) = match method.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (method, None),
    };
    let Some((scheme, _)) = base.split_once(':') else {
        return Err(KeyError::Invalid(format!(
            "the verification method {method:?} is not a URL (no scheme)"
        )));
    };
    match scheme {
        "did" => {
            let mut parts = base.splitn(3, ':');
            let did_method = parts.nth(1).unwrap_or("");
            match did_method {
                "key" => did_key(base, fragment),
                "jwk" => did_jwk(base, fragment),
                "web" => did_web(fetcher, method, base, purpose).await,
                other => Err(KeyError::Unresolvable(format!(
                    "the DID method did:{other} is not supported (did:key, did:jwk and did:web are)"
                ))),
            }
        }
        "https" | "http" => https_method(fetcher, method, base, purpose).await,
        other => Err(KeyError::Unresolvable(format!(
            "the verification method {method:?} uses the scheme {other:?}, which cannot be resolved (did:key, did:jwk, did:web and https can)"
        ))),
    }
}

/// `resolve`, and when the verification method's document cannot be read, the multibase
/// key its URL fragment names (`https://issuer.example/profile#z6Mk…`), controlled by
/// nobody we know: the signature is still checked with it, so a changed credential fails
/// even when the issuer's document is out of reach, while a signature that holds under it
/// proves nothing about the issuer.
pub async fn resolve_or_fragment(
    fetcher: &Fetcher,
    method: &str,
    purpose: &str,
) -> Result<ResolvedKey, KeyError> {
    match resolve(fetcher, method, purpose).await {
        Err(KeyError::Unresolvable(why)) => {
            key_in_fragment(method, &why).ok_or(KeyError::Unresolvable(why))
        }
        other => other,
    }
}

/// The multibase key (`z…`, Ed25519 or P-256) a URL's fragment names, if it names one.
fn key_in_fragment(method: &str, unresolved: &str) -> Option<ResolvedKey> {
    let (_, fragment) = method.split_once('#')?;
    let key = multikey(fragment).ok()?;
    Some(ResolvedKey {
        key,
        id: method.to_string(),
        controller: None,
        source: KeySource::Fragment {
            unresolved: unresolved.to_string(),
        },
    })
}

/// `did:key` (W3C CCG did:key v0.7): the method-specific id is a multibase multikey.
fn did_key(did: &str, fragment: Option<&str>) -> Result<ResolvedKey, KeyError> {
    let encoded = did.trim_start_matches("did:key:");
    if let Some(fragment) = fragment
        && fragment != encoded
    {
        return Err(KeyError::Invalid(format!(
            "the did:key fragment #{fragment} does not name the DID's own key"
        )));
    }
    // A did:key that does not decode names no key at all (the partner guide's examples use
    // made-up ones): nothing can be checked.
    let key = multikey(encoded).map_err(|e| {
        KeyError::Unresolvable(format!("the did:key {did:?} is not a usable key: {e}"))
    })?;
    Ok(ResolvedKey {
        key,
        id: format!("{did}#{encoded}"),
        controller: Some(did.to_string()),
        source: KeySource::DidKey,
    })
}

/// `did:jwk`: the method-specific id is a base64url JWK; its one method is `#0`.
fn did_jwk(did: &str, fragment: Option<&str>) -> Result<ResolvedKey, KeyError> {
    if fragment.is_some_and(|f| f != "0") {
        return Err(KeyError::Invalid(format!(
            "a did:jwk has one verification method, #0; {did} names another"
        )));
    }
    let encoded = did.trim_start_matches("did:jwk:");
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|e| KeyError::Invalid(format!("the did:jwk is not base64url: {e}")))?;
    let jwk: Value = serde_json::from_slice(&bytes)
        .map_err(|e| KeyError::Invalid(format!("the did:jwk is not a JSON JWK: {e}")))?;
    let key = from_jwk(&jwk).map_err(KeyError::Invalid)?;
    Ok(ResolvedKey {
        key,
        id: format!("{did}#0"),
        controller: Some(did.to_string()),
        source: KeySource::DidJwk,
    })
}

/// The https URL of a did:web DID document (did:web method §3.2).
pub fn did_web_url(did: &str) -> Result<String, KeyError> {
    let specific = did.trim_start_matches("did:web:");
    let mut segments = specific.split(':');
    let host = segments
        .next()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| KeyError::Invalid(format!("{did:?} names no host")))?;
    let host = percent_encoding::percent_decode_str(host)
        .decode_utf8()
        .map_err(|_| KeyError::Invalid(format!("{did:?}: the host is not UTF-8")))?;
    // Only a host (and port): nothing a URL parser would read as a path, user, query or
    // fragment (a backslash is a slash to it), so the URL fetched names the DID's own host.
    let alone = url::Url::parse(&format!("https://{host}/")).ok();
    let only_a_host = alone.as_ref().is_some_and(|u| {
        u.username().is_empty()
            && u.password().is_none()
            && u.path() == "/"
            && u.query().is_none()
            && u.fragment().is_none()
    });
    if host.contains(['/', '@', '?', '#', '\\']) || !only_a_host {
        return Err(KeyError::Invalid(format!(
            "{did:?}: the host {host:?} is not a host"
        )));
    }
    let path: Vec<String> = segments
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    if path
        .iter()
        // A URL parser would end the path at `?` or `#`, and read `\` as `/`.
        .any(|s| s.is_empty() || s == "." || s == ".." || s.contains(['/', '?', '#', '\\']))
    {
        return Err(KeyError::Invalid(format!("{did:?}: the path is not valid")));
    }
    Ok(if path.is_empty() {
        format!("https://{host}/.well-known/did.json")
    } else {
        format!("https://{host}/{}/did.json", path.join("/"))
    })
}

async fn did_web(
    fetcher: &Fetcher,
    method: &str,
    did: &str,
    purpose: &str,
) -> Result<ResolvedKey, KeyError> {
    let url = did_web_url(did)?;
    let document = fetch_json(fetcher, &url).await?;
    if document.get("id").and_then(Value::as_str) != Some(did) {
        return Err(KeyError::Invalid(format!(
            "the DID document at {url} is not about {did} (its id is {})",
            document.get("id").unwrap_or(&Value::Null)
        )));
    }
    let method = if method.contains('#') {
        method.to_string()
    } else {
        // A bare DID as verification method: the first assertion method.
        first_method(&document, did, purpose).ok_or_else(|| {
            KeyError::Unresolvable(format!("the DID document of {did} lists no {purpose}"))
        })?
    };
    // The issuer's document was read and does not list the key: the proof names a key the
    // issuer never published.
    let (vm, authorised) = find_method(&document, did, &method, purpose).ok_or_else(|| {
        KeyError::Invalid(format!(
            "the DID document at {url} has no verification method {method}"
        ))
    })?;
    if !authorised {
        return Err(KeyError::Invalid(format!(
            "{method} is not listed under {purpose} in the DID document of {did}"
        )));
    }
    Ok(ResolvedKey {
        key: key_of_method(vm).map_err(KeyError::Invalid)?,
        id: method,
        controller: Some(did.to_string()),
        source: KeySource::DidWeb { document_url: url },
    })
}

/// A plain https verification method: the URL without its fragment is the controller
/// document, which must list the method and authorise it for `purpose`.
async fn https_method(
    fetcher: &Fetcher,
    method: &str,
    base: &str,
    purpose: &str,
) -> Result<ResolvedKey, KeyError> {
    let document = fetch_json(fetcher, base).await?;
    let document_id = document.get("id").and_then(Value::as_str).unwrap_or(base);
    if document_id != base {
        return Err(KeyError::Invalid(format!(
            "the document at {base} says it is {document_id}, so it cannot vouch for {method}"
        )));
    }
    if !method.contains('#') {
        // The URL is the verification method itself; its controller must authorise it.
        let controller = document
            .get("controller")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                KeyError::Invalid(format!("the key document {base} names no controller"))
            })?;
        let controller_document = if controller == base {
            document.clone()
        } else {
            fetch_json(fetcher, controller).await?
        };
        let listed = find_method(&controller_document, controller, method, purpose)
            .is_some_and(|(_, authorised)| authorised);
        if !listed {
            return Err(KeyError::Invalid(format!(
                "the controller {controller} does not list {method} under {purpose}"
            )));
        }
        return Ok(ResolvedKey {
            key: key_of_method(&document).map_err(KeyError::Invalid)?,
            id: method.to_string(),
            controller: Some(controller.to_string()),
            source: KeySource::Https {
                document_url: base.to_string(),
            },
        });
    }
    let (vm, authorised) = find_method(&document, base, method, purpose).ok_or_else(|| {
        KeyError::Invalid(format!(
            "the controller document {base} does not list the verification method {method}"
        ))
    })?;
    if !authorised {
        return Err(KeyError::Invalid(format!(
            "{method} is not listed under {purpose} in {base}"
        )));
    }
    Ok(ResolvedKey {
        key: key_of_method(vm).map_err(KeyError::Invalid)?,
        id: method.to_string(),
        controller: Some(base.to_string()),
        source: KeySource::Https {
            document_url: base.to_string(),
        },
    })
}

/// A key the signer shows with its signature (a JOSE `jwk` header) is the issuer's only when
/// the issuer's own document (a controller document at the issuer's https URL, or its
/// did:web document) lists it for `purpose`, compared by key: anyone can put a key in a
/// header. Returns the key as that document's verification method, or why it is not the
/// issuer's.
pub async fn listed_by_issuer(
    fetcher: &Fetcher,
    issuer: &str,
    key: &PublicKey,
    purpose: &str,
) -> Result<ResolvedKey, String> {
    let (url, source) = if issuer.starts_with("did:web:") {
        let url = did_web_url(issuer).map_err(|e| e.to_string())?;
        (url.clone(), KeySource::DidWeb { document_url: url })
    } else if issuer.starts_with("https://") || issuer.starts_with("http://") {
        let url = issuer.to_string();
        (url.clone(), KeySource::Https { document_url: url })
    } else {
        return Err(format!(
            "the issuer {issuer} has no document that could list it (https and did:web issuers do)"
        ));
    };
    let document = fetch_json(fetcher, &url)
        .await
        .map_err(|e| format!("the issuer's document could not be read ({e})"))?;
    if document.get("id").and_then(Value::as_str) != Some(issuer) {
        return Err(format!(
            "the document at {url} is not the issuer's (its id is {})",
            document.get("id").unwrap_or(&Value::Null)
        ));
    }
    let entries = match document.get(purpose) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item) => vec![item],
        None => Vec::new(),
    };
    for entry in entries {
        let (id, method) = match entry {
            Value::String(reference) => {
                let id = absolute(reference, issuer);
                match find_method(&document, issuer, &id, purpose) {
                    Some((method, _)) => (id, method),
                    None => continue,
                }
            }
            method => match method.get("id").and_then(Value::as_str) {
                Some(id) => (absolute(id, issuer), method),
                None => continue,
            },
        };
        if key_of_method(method).is_ok_and(|listed| listed == *key) {
            return Ok(ResolvedKey {
                key: key.clone(),
                id,
                controller: Some(issuer.to_string()),
                source,
            });
        }
    }
    Err(format!(
        "the issuer's document {url} does not list it under {purpose}"
    ))
}

async fn fetch_json(fetcher: &Fetcher, url: &str) -> Result<Value, KeyError> {
    let body = fetcher.get(url).await?;
    serde_json::from_slice(&body)
        .map_err(|e| KeyError::Unresolvable(format!("{url} did not return JSON: {e}")))
}

/// Absolute form of a method id relative to its document.
fn absolute(id: &str, document_id: &str) -> String {
    if id.starts_with('#') {
        format!("{document_id}{id}")
    } else {
        id.to_string()
    }
}

/// The verification method `method` in a controller document, and whether the document
/// authorises it for `purpose` (by reference or embedded).
fn find_method<'d>(
    document: &'d Value,
    document_id: &str,
    method: &str,
    purpose: &str,
) -> Option<(&'d Value, bool)> {
    let matches = |v: &Value| {
        v.get("id")
            .and_then(Value::as_str)
            .is_some_and(|id| absolute(id, document_id) == method)
    };
    let listed = |key: &str| -> Vec<&'d Value> {
        match document.get(key) {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(item @ Value::Object(_)) => vec![item],
            _ => Vec::new(),
        }
    };
    let purposes = listed(purpose);
    let authorised = purposes.iter().any(|entry| match entry {
        Value::String(reference) => absolute(reference, document_id) == method,
        object => matches(object),
    });
    let embedded = purposes
        .iter()
        .copied()
        .find(|v| v.is_object() && matches(v));
    let declared = listed("verificationMethod")
        .into_iter()
        .find(|v| matches(v));
    // Older documents list keys under `publicKey`.
    let legacy = listed("publicKey").into_iter().find(|v| matches(v));
    embedded.or(declared).or(legacy).map(|vm| (vm, authorised))
}

fn first_method(document: &Value, document_id: &str, purpose: &str) -> Option<String> {
    match document.get(purpose)? {
        Value::Array(items) => items.first().and_then(|first| match first {
            Value::String(reference) => Some(absolute(reference, document_id)),
            object => object
                .get("id")
                .and_then(Value::as_str)
                .map(|id| absolute(id, document_id)),
        }),
        _ => None,
    }
}

/// The key material of a verification method object (Multikey,
/// Ed25519VerificationKey2020/2018, JsonWebKey/JsonWebKey2020).
pub fn key_of_method(vm: &Value) -> Result<PublicKey, String> {
    if let Some(multibase) = vm.get("publicKeyMultibase").and_then(Value::as_str) {
        return multikey(multibase);
    }
    if let Some(jwk) = vm.get("publicKeyJwk") {
        return from_jwk(jwk);
    }
    if let Some(base58) = vm.get("publicKeyBase58").and_then(Value::as_str) {
        // Ed25519VerificationKey2018: raw 32 bytes in base58.
        let bytes = bs58::decode(base58)
            .into_vec()
            .map_err(|e| format!("publicKeyBase58 is not base58: {e}"))?;
        return ed25519(&bytes);
    }
    Err(format!(
        "the verification method {} carries no publicKeyMultibase, publicKeyJwk or publicKeyBase58",
        vm.get("id").unwrap_or(&Value::Null)
    ))
}

/// A multibase (base58btc, `z…`) multicodec key: Ed25519 (0xed) or P-256 (0x1200).
pub fn multikey(text: &str) -> Result<PublicKey, String> {
    let Some(encoded) = text.strip_prefix('z') else {
        return Err(format!(
            "{text:?} is not base58btc multibase (it must start with 'z')"
        ));
    };
    let bytes = bs58::decode(encoded)
        .into_vec()
        .map_err(|e| format!("{text:?} is not base58btc: {e}"))?;
    match bytes.as_slice() {
        [0xed, 0x01, key @ ..] => ed25519(key),
        [0x80, 0x24, key @ ..] => p256::ecdsa::VerifyingKey::from_sec1_bytes(key)
            .map(PublicKey::P256)
            .map_err(|_| "the P-256 key is not a valid point".to_string()),
        _ => Err(format!("{text:?} is not an Ed25519 or P-256 multikey")),
    }
}

fn ed25519(bytes: &[u8]) -> Result<PublicKey, String> {
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| format!("an Ed25519 key has 32 bytes, not {}", bytes.len()))?;
    ed25519_dalek::VerifyingKey::from_bytes(&array)
        .map(PublicKey::Ed25519)
        .map_err(|_| "the Ed25519 key is not a valid point".to_string())
}

/// A public JWK (RFC 7517/8037). A JWK carrying a private part (`d`) is refused: it means
/// the signer published its private key.
pub fn from_jwk(jwk: &Value) -> Result<PublicKey, String> {
    let Value::Object(jwk) = jwk else {
        return Err("the JWK is not a JSON object".into());
    };
    if jwk.contains_key("d") || jwk.contains_key("p") {
        return Err(
            "the JWK contains a private key (\"d\"); a private key must never be published".into(),
        );
    }
    let field = |name: &str| -> Result<Vec<u8>, String> {
        let text = jwk
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the JWK has no {name:?}"))?;
        URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|e| format!("the JWK's {name:?} is not base64url: {e}"))
    };
    let text = |m: &Map<String, Value>, name: &str| {
        m.get(name).and_then(Value::as_str).map(str::to_string)
    };
    match (text(jwk, "kty").as_deref(), text(jwk, "crv").as_deref()) {
        (Some("OKP"), Some("Ed25519")) => ed25519(&field("x")?),
        (Some("EC"), Some("P-256")) => {
            let (x, y) = (field("x")?, field("y")?);
            if x.len() != 32 || y.len() != 32 {
                return Err("a P-256 JWK has 32-byte x and y".into());
            }
            let mut sec1 = vec![0x04];
            sec1.extend_from_slice(&x);
            sec1.extend_from_slice(&y);
            p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                .map(PublicKey::P256)
                .map_err(|_| "the P-256 JWK is not a valid point".into())
        }
        (Some("RSA"), _) => {
            let n = rsa::BigUint::from_bytes_be(&field("n")?);
            let e = rsa::BigUint::from_bytes_be(&field("e")?);
            let key = rsa::RsaPublicKey::new(n, e)
                .map_err(|e| format!("the RSA JWK is not usable: {e}"))?;
            if rsa::traits::PublicKeyParts::size(&key) < 256 {
                return Err("RSA keys shorter than 2048 bits are not accepted".into());
            }
            Ok(PublicKey::Rsa(key))
        }
        (kty, crv) => Err(format!(
            "unsupported JWK (kty {kty:?}, crv {crv:?}); Ed25519, P-256 and RSA are supported"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::fetch::FetchConfig;
    use serde_json::json;

    const KEY: &str = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi";

    #[test]
    fn did_web_urls_follow_the_method_spec() {
        assert_eq!(
            did_web_url("did:web:example.com").expect("ok"),
            "https://example.com/.well-known/did.json"
        );
        assert_eq!(
            did_web_url("did:web:example.com%3A8443:user:alice").expect("ok"),
            "https://example.com:8443/user/alice/did.json"
        );
        assert!(did_web_url("did:web:a.com:..").is_err());
        assert!(did_web_url("did:web:evil.com%2Fx").is_err());
        // A URL parser reads a backslash as a slash: the host would be evil.com.
        assert!(did_web_url("did:web:evil.com%5C.issuer.example").is_err());
        assert!(did_web_url("did:web:a%20b.example").is_err());
        assert!(did_web_url("did:web:%5B%3A%3A1%5D").is_ok());
        // Found by fuzzing: a `?` in the path made "/did.json" the URL's query.
        for path in ["a?", "a%3F", "b#c", "b%23c", "x%5Cy"] {
            let did = format!("did:web:issuer.example:{path}");
            assert!(did_web_url(&did).is_err(), "{did}");
        }
    }

    #[tokio::test]
    async fn did_key_is_self_certifying_and_controlled_by_itself() {
        let fetcher = Fetcher::new(FetchConfig::offline());
        let did = format!("did:key:{KEY}");
        let key = resolve(&fetcher, &format!("{did}#{KEY}"), "assertionMethod")
            .await
            .expect("resolves");
        assert_eq!(key.controller.as_deref(), Some(did.as_str()));
        assert!(matches!(key.key, PublicKey::Ed25519(_)));
    }

    #[tokio::test]
    async fn https_methods_must_be_listed_by_their_controller_document() {
        let fetcher = Fetcher::new(FetchConfig::offline());
        let base = "https://issuer.example/profile";
        let method = format!("{base}#{KEY}");
        let unpublished = resolve(&fetcher, &method, "assertionMethod").await;
        assert!(
            matches!(unpublished, Err(KeyError::Unresolvable(_))),
            "{unpublished:?}"
        );
        fetcher.seed(
            base,
            serde_json::json!({"id": base, "verificationMethod": [{"id": method, "type": "Multikey", "controller": base, "publicKeyMultibase": KEY}], "assertionMethod": [method]}).to_string(),
        );
        let key = resolve(&fetcher, &method, "assertionMethod")
            .await
            .expect("listed");
        assert_eq!(key.controller.as_deref(), Some(base));
        let not_for_assertions = resolve(&fetcher, &method, "authentication").await;
        assert!(matches!(not_for_assertions, Err(KeyError::Invalid(_))));
    }

    #[tokio::test]
    async fn a_shown_key_is_the_issuers_only_when_its_document_lists_it_for_the_purpose() {
        let fetcher = Fetcher::new(FetchConfig::offline());
        let issuer = "https://issuer.example/profile";
        let key = multikey(KEY).expect("key");
        let unreadable = listed_by_issuer(&fetcher, issuer, &key, "assertionMethod").await;
        assert!(
            unreadable
                .as_ref()
                .is_err_and(|why| why.contains("could not be read")),
            "{unreadable:?}"
        );
        let method = format!("{issuer}#key-1");
        let declared = json!({"id": method, "type": "Multikey", "controller": issuer,
            "publicKeyMultibase": KEY});
        // Declared, but authorised only for authentication: not an assertion key.
        fetcher.seed(
            issuer,
            json!({"id": issuer, "verificationMethod": [declared], "authentication": ["#key-1"]})
                .to_string(),
        );
        let unlisted = listed_by_issuer(&fetcher, issuer, &key, "assertionMethod").await;
        assert!(
            unlisted
                .as_ref()
                .is_err_and(|why| why.contains("does not list")),
            "{unlisted:?}"
        );
        // Listed by a relative reference: the key is the issuer's, under the method's id.
        fetcher.seed(
            issuer,
            json!({"id": issuer, "verificationMethod": [declared], "assertionMethod": ["#key-1"]})
                .to_string(),
        );
        let listed = listed_by_issuer(&fetcher, issuer, &key, "assertionMethod")
            .await
            .expect("listed");
        assert_eq!(listed.controller.as_deref(), Some(issuer));
        assert_eq!(listed.id, method);
        // Another key under the same listing is not.
        let other = multikey("z6MkwA1498JfoCS3y4y3zggBDAosQEoCi5gsYH2PMXh1cFWK").expect("key");
        assert!(
            listed_by_issuer(&fetcher, issuer, &other, "assertionMethod")
                .await
                .is_err()
        );
        // Issuers without documents.
        for nobody in ["urn:uuid:1", "did:example:1"] {
            let why = listed_by_issuer(&fetcher, nobody, &key, "assertionMethod")
                .await
                .expect_err("no document");
            assert!(why.contains("no document"), "{why}");
        }
    }

    #[test]
    fn private_jwks_and_bad_schemes_are_refused() {
        let private = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"});
        assert!(from_jwk(&private).expect_err("private").contains("private"));
        let public = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert!(from_jwk(&public).is_ok());
    }
}
