//! Reading a credential file for `credentialconnect verify`: JSON (OB 3.0, CLR 2.0), a
//! compact JWS (VC-JWT), or a baked badge image (OB 3.0 §5.3: a PNG `iTXt` chunk with
//! keyword `openbadgecredential`, or an SVG `<openbadges:credential>` element). A CLR's
//! nested credentials come out as units of their own.

use crate::domain::jws;
use serde_json::Value;
use std::io::Read;

/// One credential to verify.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Where it sits in the file ("" for the file's credential).
    pub pointer: String,
    pub document: Value,
    pub jws: Option<String>,
}

/// The credentials in a file: the credential itself, then a CLR's nested credentials.
pub fn read(bytes: &[u8]) -> Result<Vec<Unit>, String> {
    let text = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        png_credential(bytes)?
    } else {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| "the file is neither UTF-8 text nor a PNG".to_string())?;
        let trimmed = text.trim_start_matches('\u{feff}').trim();
        if trimmed.starts_with('<') {
            svg_credential(trimmed)?
        } else {
            trimmed.to_string()
        }
    };
    let outer = unit("", &text)?;
    let mut units = vec![outer];
    let nested = units[0]
        .document
        .get("credentialSubject")
        .and_then(|s| s.get("verifiableCredential"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, entry) in nested.iter().enumerate() {
        let pointer = format!("/credentialSubject/verifiableCredential/{i}");
        let nested = match entry {
            Value::String(compact) => unit(&pointer, compact)?,
            other => Unit {
                pointer: pointer.clone(),
                document: other.clone(),
                jws: None,
            },
        };
        units.push(nested);
    }
    Ok(units)
}

fn unit(pointer: &str, text: &str) -> Result<Unit, String> {
    let text = text.trim();
    if text.starts_with('{') {
        let document = serde_json::from_str(text)
            .map_err(|e| format!("{}: not JSON: {e}", where_(pointer)))?;
        return Ok(Unit {
            pointer: pointer.to_string(),
            document,
            jws: None,
        });
    }
    if jws::looks_like_compact_jws(text) {
        let document = jws::decode(text)
            .and_then(|decoded| decoded.credential())
            .map_err(|e| format!("{}: {e}", where_(pointer)))?;
        return Ok(Unit {
            pointer: pointer.to_string(),
            document,
            jws: Some(text.to_string()),
        });
    }
    Err(format!(
        "{}: neither a JSON credential nor a compact JWS",
        where_(pointer)
    ))
}

fn where_(pointer: &str) -> String {
    if pointer.is_empty() {
        "the file".into()
    } else {
        format!("the credential at {pointer}")
    }
}

/// The `openbadgecredential` iTXt chunk of a baked PNG.
fn png_credential(bytes: &[u8]) -> Result<String, String> {
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let length =
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        let kind = &bytes[at + 4..at + 8];
        let end = at + 8 + length;
        if end + 4 > bytes.len() {
            break;
        }
        let data = &bytes[at + 8..end];
        if kind == b"iTXt" {
            let mut fields = data.splitn(2, |b| *b == 0);
            let keyword = fields.next().unwrap_or_default();
            let rest = fields.next().unwrap_or_default();
            if keyword == b"openbadgecredential" && rest.len() >= 2 {
                let (compressed, rest) = (rest[0] == 1, &rest[2..]);
                // Skip the language tag and translated keyword.
                let mut skip = rest.splitn(3, |b| *b == 0);
                let _language = skip.next();
                let _translated = skip.next();
                let text = skip.next().unwrap_or_default();
                let text = if compressed {
                    let mut out = String::new();
                    flate2::read::ZlibDecoder::new(text)
                        .take(5 * 1024 * 1024)
                        .read_to_string(&mut out)
                        .map_err(|e| format!("the PNG's credential chunk does not inflate: {e}"))?;
                    out
                } else {
                    String::from_utf8(text.to_vec())
                        .map_err(|_| "the PNG's credential chunk is not UTF-8".to_string())?
                };
                return Ok(text);
            }
        }
        at = end + 4;
    }
    Err("the PNG carries no openbadgecredential iTXt chunk (it is not a baked badge)".into())
}

/// The `<openbadges:credential>` element of a baked SVG: a `verify` attribute holds a
/// VC-JWT, otherwise the element's (CDATA) content is the JSON credential.
fn svg_credential(svg: &str) -> Result<String, String> {
    let start = svg
        .find("<openbadges:credential")
        .ok_or("the SVG carries no <openbadges:credential> element (it is not a baked badge)")?;
    let rest = &svg[start..];
    let tag_end = rest
        .find('>')
        .ok_or("the <openbadges:credential> tag is not closed")?;
    let tag = &rest[..tag_end];
    if let Some(at) = tag.find("verify=") {
        let value = &tag[at + 7..];
        let quote = value
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
            .ok_or("the <openbadges:credential> tag's verify attribute is not in quotes")?;
        let inner = &value[quote.len_utf8()..];
        let close = inner
            .find(quote)
            .ok_or("the <openbadges:credential> tag's verify attribute is not closed")?;
        return Ok(inner[..close].to_string());
    }
    let body = &rest[tag_end + 1..];
    let close = body
        .find("</openbadges:credential>")
        .ok_or("the <openbadges:credential> element is not closed")?;
    let content = body[..close].trim();
    let content = content
        .strip_prefix("<![CDATA[")
        .and_then(|c| c.strip_suffix("]]>"))
        .unwrap_or(content);
    Ok(content.trim().to_string())
}
