//! The resume as a Verifiable Credential (VCDM 2.0) issued by this deployment: subject the
//! person, valid from the moment it was made, holding the LER-RS data and the PDF.
//!
//! Both are held as `relatedResource`s (VCDM 2.0 §5.3): `data:` URLs with their media type
//! and SHA-256 digest (`digestSRI`). The signature covers every byte of both, and only the
//! published VCDM 2.0 context is needed to read them: JSON-LD sees each as one opaque IRI,
//! so nothing in the person's or the issuers' text can change what is signed.
//!
//! The PDF a credential holds is the resume typeset with the LER-RS attached; the PDF a
//! person downloads is the same resume with this credential attached as well (a PDF cannot
//! hold a credential that holds that very PDF).

use super::ResumeDocument;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The unsigned credential.
pub fn unsigned(issuer: &str, document: &ResumeDocument, ler_rs: &Value, pdf: &[u8]) -> Value {
    let ler_bytes = serde_json::to_vec(ler_rs).unwrap_or_default();
    // Only terms the VCDM 2.0 context defines: it has no `@vocab`, and a term it does not
    // define would not be covered by the signature (the signer refuses it). The person's
    // contact details and the online resume's link are in the LER-RS data the credential
    // holds.
    let mut subject = json!({ "name": document.name });
    if let Some(headline) = &document.headline {
        subject["description"] = headline.clone().into();
    }
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": format!("urn:uuid:{}", uuid_v4()),
        "type": ["VerifiableCredential"],
        "name": format!("Resume of {}", document.name),
        "description": "A resume made with CredentialConnect: the LER-RS data and the PDF it holds are covered by this signature.",
        "issuer": {
            "id": issuer,
            "name": "CredentialConnect",
        },
        "validFrom": crate::clock::rfc3339(document.generated_at),
        "credentialSubject": subject,
        "relatedResource": [
            resource("application/json", &ler_bytes, "LER-RS resume (HR Open Standards 4.4)"),
            resource("application/pdf", pdf, "The resume as a PDF"),
        ],
    })
}

fn resource(media_type: &str, bytes: &[u8], name: &str) -> Value {
    json!({
        "id": format!("data:{media_type};base64,{}", STANDARD.encode(bytes)),
        "mediaType": media_type,
        "digestSRI": format!("sha256-{}", STANDARD.encode(Sha256::digest(bytes))),
        "name": name,
    })
}

/// A random (version 4) UUID.
fn uuid_v4() -> String {
    let mut bytes = [0u8; 16];
    crate::secrets::fill_random(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = crate::secrets::to_hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The bytes a `relatedResource` holds, once its digest is checked: what a reader of the
/// credential does to get the LER-RS data or the PDF back out.
pub fn resource_bytes(credential: &Value, media_type: &str) -> Result<Vec<u8>, String> {
    let resource = credential["relatedResource"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["mediaType"] == media_type))
        .ok_or_else(|| format!("the credential holds no {media_type} resource"))?;
    let url = resource["id"].as_str().unwrap_or("");
    let prefix = format!("data:{media_type};base64,");
    let encoded = url
        .strip_prefix(&prefix)
        .ok_or_else(|| format!("the {media_type} resource is not a base64 data: URL"))?;
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|e| format!("the {media_type} resource is not base64: {e}"))?;
    let digest = format!("sha256-{}", STANDARD.encode(Sha256::digest(&bytes)));
    if resource["digestSRI"].as_str() != Some(digest.as_str()) {
        return Err(format!(
            "the {media_type} resource does not match its digestSRI"
        ));
    }
    Ok(bytes)
}
