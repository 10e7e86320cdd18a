//! VC-JWT proofs (OB 3.0 §8.2, VC-JOSE): a compact JWS signed with EdDSA, ES256 or RS256.
//! The key comes from `kid` (a DID URL or https verification method, resolved like a Data
//! Integrity verification method) or a `jwk` header. `alg: none`, a `jwk` carrying a private
//! key and unknown critical headers are refused.

use super::data_integrity::{ProofResult, bind_to_issuer, failed, uncheckable};
use super::keys::{self, KeyError, KeySource, PublicKey, ResolvedKey};
use super::{Check, Verifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

const LABEL: &str = "VC-JWT";

/// Checks the JWS; `issuer` is the credential's issuer id.
pub async fn verify(
    verifier: &Verifier,
    jws: &str,
    issuer: Option<&str>,
    credential_id: Option<&str>,
    checks: &mut Vec<Check>,
) -> ProofResult {
    let jws = jws.trim();
    let parts: Vec<&str> = jws.split('.').collect();
    let [header_b64, payload_b64, signature_b64] = parts.as_slice() else {
        return failed(
            checks,
            LABEL,
            "format",
            format!("a compact JWS has three parts, not {}", parts.len()),
        );
    };
    let decode = |segment: &str, what: &str| -> Result<Vec<u8>, String> {
        URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|e| format!("the {what} is not base64url: {e}"))
    };
    let header: Value = match decode(header_b64, "header").and_then(|b| {
        serde_json::from_slice(&b).map_err(|e| format!("the header is not JSON: {e}"))
    }) {
        Ok(header) => header,
        Err(why) => return failed(checks, LABEL, "header", why),
    };
    let payload: Value = match decode(payload_b64, "payload").and_then(|b| {
        serde_json::from_slice(&b).map_err(|e| format!("the payload is not JSON: {e}"))
    }) {
        Ok(payload) => payload,
        Err(why) => return failed(checks, LABEL, "payload", why),
    };
    let signature = match decode(signature_b64, "signature") {
        Ok(signature) => signature,
        Err(why) => return failed(checks, LABEL, "signature", why),
    };
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    match alg {
        "EdDSA" | "ES256" | "RS256" => {}
        "none" | "" => {
            return failed(
                checks,
                LABEL,
                "alg",
                "unsigned JWS (alg \"none\" or missing) is never accepted",
            );
        }
        other => {
            return uncheckable(
                checks,
                LABEL,
                "alg",
                format!(
                    "the JWS algorithm {other:?} is not supported (EdDSA, ES256 and RS256 are)"
                ),
            );
        }
    }
    if let Some(critical) = header.get("crit") {
        return uncheckable(
            checks,
            LABEL,
            "crit",
            format!("critical header extensions {critical} are not understood"),
        );
    }
    checks.push(Check::passed(LABEL, "alg", alg));

    // Claims that restate the credential must agree with it (VC-JWT §6.3.1).
    if let (Some(iss), Some(issuer)) = (payload.get("iss").and_then(Value::as_str), issuer)
        && iss != issuer
    {
        return failed(
            checks,
            LABEL,
            "iss",
            format!("the JWT's iss {iss:?} differs from the credential's issuer {issuer:?}"),
        );
    }
    if let (Some(jti), Some(id)) = (payload.get("jti").and_then(Value::as_str), credential_id)
        && jti != id
    {
        return failed(
            checks,
            LABEL,
            "jti",
            format!("the JWT's jti {jti:?} differs from the credential's id {id:?}"),
        );
    }

    let key = match find_key(verifier, &header, &payload, issuer).await {
        Ok(key) => key,
        Err(KeyError::Unresolvable(why)) => return uncheckable(checks, LABEL, "key", why),
        Err(KeyError::Invalid(why)) => return failed(checks, LABEL, "key", why),
    };
    checks.push(Check::passed(
        LABEL,
        "key",
        format!(
            "{} ({}) from {}",
            key.id,
            key.key.algorithm(),
            key.source.describe()
        ),
    ));
    let signed = format!("{header_b64}.{payload_b64}");
    if let Err(why) = check_signature(alg, &key.key, signed.as_bytes(), &signature) {
        return failed(checks, LABEL, "signature", why);
    }
    checks.push(Check::passed(
        LABEL,
        "signature",
        format!("{alg} signature holds"),
    ));
    bind_to_issuer(checks, LABEL, &key, issuer)
}

async fn find_key(
    verifier: &Verifier,
    header: &Value,
    payload: &Value,
    issuer: Option<&str>,
) -> Result<ResolvedKey, KeyError> {
    if let Some(kid) = header.get("kid").and_then(Value::as_str) {
        // A relative kid ("#key-1") is relative to the issuer's DID.
        let kid = match (kid.starts_with('#'), issuer) {
            (true, Some(issuer)) => format!("{issuer}{kid}"),
            _ => kid.to_string(),
        };
        return keys::resolve_or_fragment(verifier.fetcher(), &kid, "assertionMethod").await;
    }
    if let Some(jwk) = header.get("jwk") {
        let key = keys::from_jwk(jwk).map_err(KeyError::Invalid)?;
        // A header key is the signer's own say-so, unless the issuer is the did:jwk of that
        // very key, or the issuer's own document lists it.
        let Some(issuer) = issuer else {
            return Ok(untied(key, "the credential names no issuer".into()));
        };
        if issuer.starts_with("did:jwk:") {
            if same_public_jwk(issuer.trim_start_matches("did:jwk:"), jwk) {
                return Ok(ResolvedKey {
                    key,
                    id: "the header's jwk".into(),
                    controller: Some(issuer.to_string()),
                    source: KeySource::DidJwk,
                });
            }
            return Ok(untied(
                key,
                format!("it is not the key of the issuer {issuer}"),
            ));
        }
        return Ok(
            match keys::listed_by_issuer(verifier.fetcher(), issuer, &key, "assertionMethod").await
            {
                Ok(listed) => listed,
                Err(why) => untied(key, why),
            },
        );
    }
    // No kid and no jwk: an `iss` that is a DID made of its key (did:jwk, did:key) still
    // names the key, as VC-JWT issuers such as did-jwt-vc leave it.
    if let Some(iss) = payload.get("iss").and_then(Value::as_str)
        && (iss.starts_with("did:jwk:") || iss.starts_with("did:key:"))
        && !iss.contains('#')
    {
        let mut key = keys::resolve(verifier.fetcher(), iss, "assertionMethod").await?;
        key.source = KeySource::IssClaim;
        return Ok(key);
    }
    Err(KeyError::Unresolvable(
        "the JWS header has neither kid nor jwk, and its iss is not a did:key or did:jwk, so its key cannot be found (OB 3.0 §8.2.4 requires kid or jwk)".into(),
    ))
}

/// The header's key, tied to nobody, and why.
fn untied(key: PublicKey, why: String) -> ResolvedKey {
    ResolvedKey {
        key,
        id: "the header's jwk".into(),
        controller: None,
        source: KeySource::JwkHeader { untied: why },
    }
}

/// Whether a did:jwk's encoded JWK and a header JWK are the same public key.
fn same_public_jwk(encoded: &str, jwk: &Value) -> bool {
    let Some(did_jwk) = URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    else {
        return false;
    };
    ["kty", "crv", "x", "y", "n", "e"]
        .iter()
        .all(|member| did_jwk.get(member) == jwk.get(member))
}

fn check_signature(
    alg: &str,
    key: &PublicKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    use rsa::signature::Verifier as _;
    let mismatch = || {
        "the signature does not match: the credential was changed after signing, or signed with another key".to_string()
    };
    match (alg, key) {
        ("EdDSA", PublicKey::Ed25519(key)) => {
            let signature = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|_| "an EdDSA signature has 64 bytes".to_string())?;
            key.verify_strict(message, &signature)
                .map_err(|_| mismatch())
        }
        ("ES256", PublicKey::P256(key)) => {
            let signature = p256::ecdsa::Signature::from_slice(signature)
                .map_err(|_| "an ES256 signature is 64 bytes (r ‖ s)".to_string())?;
            key.verify(message, &signature).map_err(|_| mismatch())
        }
        ("RS256", PublicKey::Rsa(key)) => {
            let verifying = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.clone());
            let signature = rsa::pkcs1v15::Signature::try_from(signature)
                .map_err(|_| "the RS256 signature is malformed".to_string())?;
            verifying
                .verify(message, &signature)
                .map_err(|_| mismatch())
        }
        (alg, key) => Err(format!(
            "the JWS says {alg} but the key is {}",
            key.algorithm()
        )),
    }
}

/// `nbf` and `exp` (seconds since the epoch), when the payload has them.
pub fn time_claims(jws: &str) -> (Option<i64>, Option<i64>) {
    let payload = jws
        .trim()
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let claim = |name: &str| {
        payload
            .as_ref()
            .and_then(|p| p.get(name))
            .and_then(Value::as_i64)
    };
    (claim("nbf"), claim("exp"))
}
