//! Credential status (revocation): `1EdTechRevocationList` (OB 3.0 §9, a JSON list of
//! revoked credential ids) and `BitstringStatusListEntry` (W3C Bitstring Status List v1.0, a
//! signed status-list credential whose gzip'd bitstring has one bit per credential). Lists are
//! fetched through the SSRF-safe client, which caches them.

use super::fetch::Fetcher;
use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::Value;
use std::io::Read;

/// The outcome of one status entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusOutcome {
    /// The list was read and does not flag the credential.
    Clear(String),
    /// The issuer revoked (or suspended) it.
    Revoked(String),
    /// The list could not be read or the entry is unknown: revocation could not be ruled out.
    Unknown(String),
    /// The entry is malformed.
    Invalid(String),
}

/// Bitstring lists larger than this (decompressed) are refused: the spec's minimum is 16 KiB
/// and real lists stay far below this.
const MAX_BITSTRING_BYTES: usize = 16 * 1024 * 1024;

/// Reads one `credentialStatus` entry. The status-list credential of a bitstring entry is
/// returned for the caller to verify (its signature matters as much as its bits).
pub async fn check(
    fetcher: &Fetcher,
    entry: &Value,
    credential_id: Option<&str>,
) -> (StatusOutcome, Option<Value>) {
    let kind = entry.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "1EdTechRevocationList" => (revocation_list(fetcher, entry, credential_id).await, None),
        "BitstringStatusListEntry" => bitstring(fetcher, entry).await,
        "" => (
            StatusOutcome::Invalid("a credentialStatus entry has no type".into()),
            None,
        ),
        other => (
            StatusOutcome::Unknown(format!(
                "the status method {other:?} is not supported (1EdTechRevocationList and BitstringStatusListEntry are)"
            )),
            None,
        ),
    }
}

async fn fetch_json(fetcher: &Fetcher, url: &str) -> Result<Value, String> {
    let body = fetcher.get(url).await.map_err(|e| e.to_string())?;
    serde_json::from_slice(&body).map_err(|e| format!("{url} did not return JSON: {e}"))
}

async fn revocation_list(
    fetcher: &Fetcher,
    entry: &Value,
    credential_id: Option<&str>,
) -> StatusOutcome {
    let Some(url) = entry.get("id").and_then(Value::as_str) else {
        return StatusOutcome::Invalid(
            "the 1EdTechRevocationList entry has no id (the list's URL)".into(),
        );
    };
    let Some(credential_id) = credential_id else {
        return StatusOutcome::Invalid(
            "a credential without an id cannot be looked up in a revocation list".into(),
        );
    };
    let list = match fetch_json(fetcher, url).await {
        Ok(list) => list,
        Err(why) => return StatusOutcome::Unknown(format!("the revocation list: {why}")),
    };
    let Some(revoked) = list.get("revokedCredentials").and_then(Value::as_array) else {
        return StatusOutcome::Unknown(format!(
            "{url} is not a revocation list (no revokedCredentials)"
        ));
    };
    let listed = revoked.iter().find(|item| match item {
        Value::String(id) => id == credential_id,
        object => {
            object.get("id").and_then(Value::as_str) == Some(credential_id)
                && object.get("revoked").and_then(Value::as_bool) != Some(false)
        }
    });
    match listed {
        Some(item) => {
            let reason = item
                .get("revocationReason")
                .and_then(Value::as_str)
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            StatusOutcome::Revoked(format!("revoked by the issuer (listed in {url}){reason}"))
        }
        None => StatusOutcome::Clear(format!("not in the revocation list {url}")),
    }
}

async fn bitstring(fetcher: &Fetcher, entry: &Value) -> (StatusOutcome, Option<Value>) {
    let Some(url) = entry.get("statusListCredential").and_then(Value::as_str) else {
        return (
            StatusOutcome::Invalid(
                "the BitstringStatusListEntry has no statusListCredential".into(),
            ),
            None,
        );
    };
    let index = match entry.get("statusListIndex") {
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    };
    let Some(index) = index else {
        return (
            StatusOutcome::Invalid(
                "statusListIndex must be a non-negative integer (as a string)".into(),
            ),
            None,
        );
    };
    let purpose = entry
        .get("statusPurpose")
        .and_then(Value::as_str)
        .unwrap_or("revocation")
        .to_string();
    let list = match fetch_json(fetcher, url).await {
        Ok(list) => list,
        Err(why) => {
            return (
                StatusOutcome::Unknown(format!("the status list: {why}")),
                None,
            );
        }
    };
    let outcome = read_bit(&list, url, index, &purpose);
    (outcome, Some(list))
}

fn read_bit(list: &Value, url: &str, index: u64, purpose: &str) -> StatusOutcome {
    let subject = match list.get("credentialSubject") {
        Some(Value::Array(items)) => items.first(),
        other => other,
    };
    let Some(subject) = subject else {
        return StatusOutcome::Unknown(format!("{url} is not a status list credential"));
    };
    let list_purpose = subject
        .get("statusPurpose")
        .and_then(Value::as_str)
        .unwrap_or("");
    if list_purpose != purpose {
        return StatusOutcome::Invalid(format!(
            "the entry's statusPurpose {purpose:?} differs from the list's {list_purpose:?}"
        ));
    }
    let Some(encoded) = subject.get("encodedList").and_then(Value::as_str) else {
        return StatusOutcome::Unknown(format!("{url} has no encodedList"));
    };
    let bits = match decode_list(encoded) {
        Ok(bits) => bits,
        Err(why) => return StatusOutcome::Unknown(format!("{url}: {why}")),
    };
    let (byte, bit) = ((index / 8) as usize, 7 - (index % 8) as u32);
    let Some(value) = bits.get(byte) else {
        return StatusOutcome::Invalid(format!(
            "statusListIndex {index} is past the end of the list ({} entries)",
            bits.len() * 8
        ));
    };
    if (value >> bit) & 1 == 1 {
        StatusOutcome::Revoked(format!("{purpose} bit {index} is set in {url}"))
    } else {
        StatusOutcome::Clear(format!("{purpose} bit {index} is clear in {url}"))
    }
}

/// Multibase base64url (`u…`, no padding) of a GZIP-compressed bitstring; the first bit is
/// the high bit of the first byte (Bitstring Status List §3.2).
fn decode_list(encoded: &str) -> Result<Vec<u8>, String> {
    let data = encoded.strip_prefix('u').unwrap_or(encoded);
    let compressed = URL_SAFE_NO_PAD
        .decode(data)
        .or_else(|_| URL_SAFE.decode(data))
        .map_err(|e| format!("encodedList is not base64url: {e}"))?;
    let mut bits = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .take(MAX_BITSTRING_BYTES as u64 + 1)
        .read_to_end(&mut bits)
        .map_err(|e| format!("encodedList is not GZIP data: {e}"))?;
    if bits.len() > MAX_BITSTRING_BYTES {
        return Err("the status list is too large".into());
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::fetch::FetchConfig;
    use serde_json::json;
    use std::io::Write;

    fn encoded(bits: &[u8]) -> String {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(bits).expect("gzip");
        format!("u{}", URL_SAFE_NO_PAD.encode(gz.finish().expect("gzip")))
    }

    #[tokio::test]
    async fn bitstring_bits_are_read_high_bit_first() {
        let fetcher = Fetcher::new(FetchConfig::offline());
        let mut bits = vec![0u8; 16 * 1024];
        bits[1] = 0b0100_0000; // index 9
        fetcher.seed(
            "https://s.example/list",
            json!({"credentialSubject": {"type": "BitstringStatusList", "statusPurpose": "revocation", "encodedList": encoded(&bits)}}).to_string(),
        );
        let entry = |i: u32| json!({"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": i.to_string(), "statusListCredential": "https://s.example/list"});
        assert!(matches!(
            check(&fetcher, &entry(9), None).await.0,
            StatusOutcome::Revoked(_)
        ));
        assert!(matches!(
            check(&fetcher, &entry(8), None).await.0,
            StatusOutcome::Clear(_)
        ));
        assert!(matches!(
            check(&fetcher, &entry(10), None).await.0,
            StatusOutcome::Clear(_)
        ));
    }

    #[tokio::test]
    async fn revocation_lists_name_revoked_ids_and_unreachable_lists_are_unknown() {
        let fetcher = Fetcher::new(FetchConfig::offline());
        let entry = json!({"type": "1EdTechRevocationList", "id": "https://r.example/list"});
        assert!(matches!(
            check(&fetcher, &entry, Some("urn:x:1")).await.0,
            StatusOutcome::Unknown(_)
        ));
        fetcher.seed(
            "https://r.example/list",
            json!({"id": "https://r.example/list", "revokedCredentials": [{"id": "urn:x:1", "revocationReason": "mistake"}]}).to_string(),
        );
        let (revoked, _) = check(&fetcher, &entry, Some("urn:x:1")).await;
        assert_eq!(
            revoked,
            StatusOutcome::Revoked(
                "revoked by the issuer (listed in https://r.example/list): mistake".into()
            )
        );
        assert!(matches!(
            check(&fetcher, &entry, Some("urn:x:2")).await.0,
            StatusOutcome::Clear(_)
        ));
    }
}
