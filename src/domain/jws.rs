//! Compact JWS (RFC 7515 §7.1) decoding for VC-JWT credentials: header and payload only.
//! Checking the signature belongs to the verifier; this module never claims a JWS is valid.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

impl CompactJws {
    /// The credential it carries: the `vc` claim (VCDM 1.1 VC-JWT), else the payload itself
    /// (VCDM 2.0 secured with JOSE, as OB 3.0's baked JWT examples are).
    pub fn credential(&self) -> Value {
        match self.payload.get("vc") {
            Some(vc @ Value::Object(_)) => vc.clone(),
            _ => self.payload.clone(),
        }
    }
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
        assert_eq!(decoded.credential()["id"], "1");
    }

    #[test]
    fn payload_without_vc_claim_is_the_credential() {
        let jws = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"RS256"}"#),
            b64(r#"{"id":"2"}"#),
            b64("s")
        );
        assert_eq!(decode(&jws).expect("decodes").credential()["id"], "2");
    }

    #[test]
    fn broken_segments_are_explained() {
        assert!(decode("a.b").expect_err("two parts").contains("three"));
        let err = decode(&format!("{}.!!.x", b64("{}"))).expect_err("bad payload");
        assert!(err.contains("payload"), "{err}");
    }
}
