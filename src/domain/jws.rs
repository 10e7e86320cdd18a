//! Compact JWS (RFC 7515 §7.1) decoding for VC-JWT credentials: header and payload only.
//! Checking the signature belongs to the verifier; this module never claims a JWS is valid.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// A decoded compact JWS.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactJws {
    pub header: Map<String, Value>,
    pub payload: Value,
}

/// True when `text` has the shape of a compact JWS: three base64url segments.
pub fn looks_like_compact_jws(text: &str) -> bool {
    let text = text.trim();
    text.split('.').count() == 3
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub fn decode(text: &str) -> Result<CompactJws, String> {
    let parts: Vec<&str> = text.trim().split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err(format!(
            "a compact JWS has three dot-separated parts; this one has {}",
            parts.len()
        ));
    };
    let header = decode_json(header, "header")?;
    let Value::Object(header) = header else {
        return Err("the JWS header is not a JSON object".into());
    };
    let payload = decode_json(payload, "payload")?;
    if signature.is_empty() {
        return Err("the JWS has an empty signature".into());
    }
    URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|e| format!("the JWS signature is not base64url: {e}"))?;
    Ok(CompactJws { header, payload })
}

fn decode_json(segment: &str, what: &str) -> Result<Value, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|e| format!("the JWS {what} is not base64url: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("the JWS {what} is not JSON: {e}"))
}

/// JWT claims that are not properties of the credential (RFC 7519 §4.1, VCDM 1.1 §6.3.1).
const REGISTERED_CLAIMS: [&str; 9] = ["iss", "sub", "jti", "nbf", "exp", "iat", "aud", "vc", "vp"];

impl CompactJws {
    /// The credential it carries. A VCDM 1.1 VC-JWT carries it in the `vc` claim, and its
    /// issuer (software such as did-jwt-vc does this, VCDM 1.1 §6.3.1) may have moved parts
    /// of it into the JWT: the issuer to `iss`, the id to `jti`, the issuance and expiration
    /// dates to `nbf` and `exp`, the subject's id to `sub`, and other properties to the top
    /// level of the payload. They are read back from there; a claim that contradicts what
    /// `vc` says is an error, never a silent choice. Without a `vc` claim the payload is the
    /// credential (VCDM 2.0 secured with JOSE, as OB 3.0's baked JWT examples are).
    pub fn credential(&self) -> Result<Value, String> {
        let Some(Value::Object(vc)) = self.payload.get("vc") else {
            return Ok(self.payload.clone());
        };
        let mut credential = vc.clone();
        let Value::Object(payload) = &self.payload else {
            return Ok(Value::Object(credential));
        };
        for (name, value) in payload {
            if REGISTERED_CLAIMS.contains(&name.as_str()) {
                continue;
            }
            merge_property(&mut credential, name, value)?;
        }
        let claim = |name: &str| payload.get(name);
        if let Some(iss) = claim("iss") {
            let Value::String(iss) = iss else {
                return Err("the JWT's iss is not a string".into());
            };
            match credential.get_mut("issuer") {
                None => {
                    credential.insert("issuer".into(), Value::String(iss.clone()));
                }
                Some(Value::Object(issuer)) if !issuer.contains_key("id") => {
                    issuer.insert("id".into(), Value::String(iss.clone()));
                }
                Some(issuer) => {
                    let issuer = &*issuer;
                    let id = match issuer {
                        Value::Object(issuer) => issuer.get("id").and_then(Value::as_str),
                        other => other.as_str(),
                    };
                    if id != Some(iss.as_str()) {
                        return Err(format!(
                            "the JWT's iss {iss:?} contradicts the issuer its vc names ({issuer})"
                        ));
                    }
                }
            }
        }
        if let Some(jti) = claim("jti") {
            let Value::String(jti) = jti else {
                return Err("the JWT's jti is not a string".into());
            };
            match credential.get("id") {
                None => {
                    credential.insert("id".into(), Value::String(jti.clone()));
                }
                Some(id) if id.as_str() == Some(jti.as_str()) => {}
                Some(id) => {
                    return Err(format!(
                        "the JWT's jti {jti:?} contradicts the id its vc gives ({id})"
                    ));
                }
            }
        }
        if let Some(sub) = claim("sub") {
            let Value::String(sub) = sub else {
                return Err("the JWT's sub is not a string".into());
            };
            if let Some(Value::Object(subject)) = credential.get_mut("credentialSubject") {
                match subject.get("id") {
                    None => {
                        subject.insert("id".into(), Value::String(sub.clone()));
                    }
                    Some(id) if id.as_str() == Some(sub.as_str()) => {}
                    Some(id) => {
                        return Err(format!(
                            "the JWT's sub {sub:?} contradicts the credentialSubject id its vc gives ({id})"
                        ));
                    }
                }
            }
        }
        // VCDM 1.1 dates only: a VCDM 2.0 credential's validFrom/validUntil are its own.
        for (claim_name, property, v2) in [
            ("nbf", "issuanceDate", "validFrom"),
            ("exp", "expirationDate", "validUntil"),
        ] {
            let Some(seconds) = claim(claim_name) else {
                continue;
            };
            let Some(at) = seconds
                .as_i64()
                .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
            else {
                return Err(format!(
                    "the JWT's {claim_name} is not a time in seconds since 1970"
                ));
            };
            match credential.get(property) {
                None if credential.contains_key(v2) => {}
                None => {
                    credential.insert(
                        property.into(),
                        Value::String(at.to_rfc3339_opts(SecondsFormat::Secs, true)),
                    );
                }
                Some(given) => {
                    let same = given
                        .as_str()
                        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
                        .is_some_and(|d| d.timestamp() == at.timestamp());
                    if !same {
                        return Err(format!(
                            "the JWT's {claim_name} ({}) contradicts the {property} its vc gives ({given})",
                            at.to_rfc3339_opts(SecondsFormat::Secs, true)
                        ));
                    }
                }
            }
        }
        Ok(Value::Object(credential))
    }
}

/// A credential property found at the top of a JWT payload, beside `vc`: added when `vc`
/// lacks it, merged member by member when both are objects (did-jwt-vc leaves an issuer
/// object's other members there), an error when the two say different things.
fn merge_property(
    credential: &mut Map<String, Value>,
    name: &str,
    value: &Value,
) -> Result<(), String> {
    match credential.get_mut(name) {
        None => {
            credential.insert(name.to_string(), value.clone());
        }
        Some(existing) if existing == value => {}
        Some(Value::Object(existing)) if value.is_object() => {
            for (member, inner) in value.as_object().into_iter().flatten() {
                match existing.get(member) {
                    None => {
                        existing.insert(member.clone(), inner.clone());
                    }
                    Some(same) if same == inner => {}
                    Some(other) => {
                        return Err(format!(
                            "the JWT's {name}.{member} ({inner}) contradicts the one its vc gives ({other})"
                        ));
                    }
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "the JWT's {name} ({value}) contradicts the one its vc gives ({other})"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(v: &str) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    #[test]
    fn vc_claim_is_the_credential() {
        let jws = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"EdDSA"}"#),
            b64(r#"{"iss":"x","vc":{"id":"1"}}"#),
            b64("sig")
        );
        assert!(looks_like_compact_jws(&jws));
        let decoded = decode(&jws).expect("decodes");
        assert_eq!(decoded.credential().expect("credential")["id"], "1");
    }

    #[test]
    fn payload_without_vc_claim_is_the_credential() {
        let jws = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"RS256"}"#),
            b64(r#"{"id":"2"}"#),
            b64("s")
        );
        assert_eq!(
            decode(&jws)
                .expect("decodes")
                .credential()
                .expect("credential")["id"],
            "2"
        );
    }

    #[test]
    fn broken_segments_are_explained() {
        assert!(decode("a.b").expect_err("two parts").contains("three"));
        let err = decode(&format!("{}.!!.x", b64("{}"))).expect_err("bad payload");
        assert!(err.contains("payload"), "{err}");
    }

    fn with_payload(payload: serde_json::Value) -> CompactJws {
        CompactJws {
            header: Map::new(),
            payload,
        }
    }

    #[test]
    fn claims_did_jwt_vc_moved_out_of_vc_are_read_back() {
        // As did-jwt-vc writes a VCDM 1.1 credential: issuer id, id, issuance date and
        // subject id in the claims, other properties beside `vc`.
        let jwt = with_payload(serde_json::json!({
            "vc": {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"],
                   "credentialSubject": {"type": ["AchievementSubject"]}},
            "name": "Sécurité", "issuer": {"type": ["Profile"], "name": "Inst"},
            "iss": "did:key:z6Mk", "jti": "urn:uuid:1", "nbf": 1725265800, "exp": 1893456000,
            "sub": "did:example:alice"
        }));
        let credential = jwt.credential().expect("credential");
        assert_eq!(credential["issuer"]["id"], "did:key:z6Mk");
        assert_eq!(credential["issuer"]["name"], "Inst");
        assert_eq!(credential["id"], "urn:uuid:1");
        assert_eq!(credential["name"], "Sécurité");
        assert_eq!(credential["issuanceDate"], "2024-09-02T08:30:00Z");
        assert_eq!(credential["expirationDate"], "2030-01-01T00:00:00Z");
        assert_eq!(credential["credentialSubject"]["id"], "did:example:alice");
        assert!(credential.get("iss").is_none() && credential.get("vc").is_none());
    }

    #[test]
    fn claims_that_contradict_the_vc_are_refused() {
        let vc = serde_json::json!({"id": "urn:uuid:1", "issuer": {"id": "did:example:a"},
            "issuanceDate": "2024-09-02T08:30:00Z", "credentialSubject": {"id": "did:example:alice"},
            "name": "Welding"});
        for (claim, value, named) in [
            ("iss", serde_json::json!("did:example:mallory"), "iss"),
            ("jti", serde_json::json!("urn:uuid:2"), "jti"),
            ("sub", serde_json::json!("did:example:mallory"), "sub"),
            ("nbf", serde_json::json!(1), "nbf"),
            ("name", serde_json::json!("Welding II"), "name"),
        ] {
            let jwt = with_payload(serde_json::json!({"vc": vc.clone(), claim: value}));
            let error = jwt.credential().expect_err(claim);
            assert!(
                error.contains(named) && error.contains("contradicts"),
                "{error}"
            );
        }
        // The same values restated are fine (as 1EdTech's own VC-JWT examples do).
        let agreeing = with_payload(serde_json::json!({"vc": vc.clone(), "iss": "did:example:a",
            "jti": "urn:uuid:1", "sub": "did:example:alice", "nbf": 1725265800}));
        assert_eq!(agreeing.credential().expect("agrees"), vc);
    }
}
