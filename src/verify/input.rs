//! Reading a credential file for `credentialconnect verify`: JSON (OB 3.0, CLR 2.0), a
//! compact JWS (VC-JWT), or a baked badge image (OB 3.0 §5.3: a PNG `iTXt` chunk with
//! keyword `openbadgecredential`, or an SVG `<openbadges:credential>` element). A CLR's
//! nested credentials come out as units of their own.

use crate::domain::jws;
use quick_xml::XmlVersion;
use quick_xml::errors::SyntaxError;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::attributes::AttrError;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;
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

/// The namespace OB 3.0 gives the baked SVG's credential element (§5.3.2).
const OB3_NAMESPACE: &str = "https://purl.imsglobal.org/ob/v3p0";

/// The first `<openbadges:credential>` element of a baked SVG (OB 3.0 §5.3.2): a `verify`
/// attribute holds a VC-JWT, otherwise the element's text or CDATA content is the JSON
/// credential. The specification says to read up to the first such element and ignore the
/// rest of the file, so a second one, and anything malformed after the first, is not read.
///
/// The element is known by its namespace, as Namespaces in XML defines elements and as the
/// specification declares it (`xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"`):
/// `<ob:credential>` under `xmlns:ob` bound to that namespace is the same element, and an
/// `<openbadges:credential>` whose prefix is bound to another namespace is not. A badge that
/// uses the specification's prefix without declaring it is still read by that name, as it
/// always was: the declaration is easy to forget and nothing else can be meant.
///
/// quick-xml reads the text in one pass, borrowing it, and never expands an entity a DOCTYPE
/// declares (one in the credential's content is refused), so the work stays linear in the
/// file's size.
fn svg_credential(svg: &str) -> Result<String, String> {
    let mut reader = NsReader::from_str(svg);
    let mut elsewhere = None;
    loop {
        let (found, event) = match reader.read_resolved_event() {
            Ok((namespace, event)) => (credential_element(&namespace, &event), event),
            Err(e) => return Err(not_well_formed(svg, reader.error_position(), &e)),
        };
        match (found, event) {
            (Found::Yes, Event::Start(tag)) => {
                if let Some(jwt) = verify_attribute(&tag)? {
                    return Ok(jwt);
                }
                return element_content(&mut reader, svg, tag.name().as_ref());
            }
            (Found::Yes, Event::Empty(tag)) => {
                return verify_attribute(&tag)?.ok_or_else(|| {
                    format!(
                        "the <{}> element is empty: it has neither a verify attribute nor content",
                        tag.name().as_ref()
                    )
                });
            }
            (Found::InNamespace(namespace), _) => {
                elsewhere.get_or_insert(namespace);
            }
            (_, Event::Eof) => {
                let mut message = format!(
                    "the SVG carries no <openbadges:credential> element in the Open Badges 3.0 \
                     namespace {OB3_NAMESPACE} (it is not a baked badge)"
                );
                if let Some(namespace) = elsewhere {
                    message.push_str(&format!(
                        "; its credential element is in the namespace {namespace}"
                    ));
                }
                return Err(message);
            }
            _ => {}
        }
    }
}

/// Whether an event opens the baked credential's element.
enum Found {
    Yes,
    No,
    /// A `credential` element under the specification's prefix, bound to another namespace.
    InNamespace(String),
}

fn credential_element(namespace: &ResolveResult, event: &Event) -> Found {
    let (Event::Start(tag) | Event::Empty(tag)) = event else {
        return Found::No;
    };
    if tag.local_name().as_ref() != "credential" {
        return Found::No;
    }
    match namespace {
        ResolveResult::Bound(Namespace(uri)) if *uri == OB3_NAMESPACE => Found::Yes,
        ResolveResult::Bound(Namespace(uri)) if tag.name().as_ref() == "openbadges:credential" => {
            Found::InNamespace(uri.to_string())
        }
        ResolveResult::Unknown(prefix) if prefix == "openbadges" => Found::Yes,
        _ => Found::No,
    }
}

/// The credential element's `verify` attribute, its entities and character references
/// decoded; every attribute of the tag is read, so a malformed one is refused.
fn verify_attribute(tag: &BytesStart) -> Result<Option<String>, String> {
    let element = tag.name().as_ref().to_string();
    let mut verify = None;
    for attribute in tag.attributes() {
        let attribute = attribute.map_err(|e| attribute_problem(tag, &e))?;
        if attribute.key.as_ref() != "verify" {
            continue;
        }
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("the <{element}> tag's verify attribute cannot be read: {e}"))?;
        if value.trim().is_empty() {
            return Err(format!("the <{element}> tag's verify attribute is empty"));
        }
        verify = Some(value.trim().to_string());
    }
    Ok(verify)
}

/// The text and CDATA the credential element holds, up to its end tag.
fn element_content(
    reader: &mut NsReader<&[u8]>,
    svg: &str,
    element: &str,
) -> Result<String, String> {
    let mut content = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Text(text)) => content.push_str(&text.xml10_content()),
            Ok(Event::CData(data)) => content.push_str(&data.xml10_content()),
            Ok(Event::GeneralRef(reference)) => {
                let name = reference.xml10_content();
                match reference.resolve_char_ref() {
                    Ok(Some(c)) => content.push(c),
                    Ok(None) => match resolve_predefined_entity(&name) {
                        Some(text) => content.push_str(text),
                        None => {
                            return Err(format!(
                                "the <{element}> element's content uses the entity &{name}; \
                                 which is not one of XML's own (&amp; &lt; &gt; &quot; &apos;)"
                            ));
                        }
                    },
                    Err(e) => {
                        return Err(format!(
                            "the <{element}> element's content has a bad character reference \
                             &{name};: {e}"
                        ));
                    }
                }
            }
            Ok(Event::Start(inner) | Event::Empty(inner)) => {
                return Err(format!(
                    "the <{element}> element holds an element <{}>: it should hold only the \
                     credential, as text or CDATA",
                    inner.name().as_ref()
                ));
            }
            // quick-xml checks that the end tag closes this element.
            Ok(Event::End(_)) => break,
            Ok(Event::Eof) => return Err(format!("the <{element}> element is not closed")),
            Ok(_) => {}
            Err(e) => return Err(not_well_formed(svg, reader.error_position(), &e)),
        }
    }
    let content = content.trim();
    if content.is_empty() {
        return Err(format!(
            "the <{element}> element is empty: it has neither a verify attribute nor content"
        ));
    }
    Ok(content.to_string())
}

/// What is wrong with an attribute of the credential's tag, naming the attribute. Positions
/// count from the start of the tag's text (`tag` derefs to it, without the `<`).
fn attribute_problem(tag: &BytesStart, error: &AttrError) -> String {
    let text: &str = tag;
    let before = |at: usize| name_before(text.get(..at).unwrap_or(text));
    let (attribute, problem) = match *error {
        AttrError::ExpectedEq(at) => (before(at), "is not followed by `=`"),
        AttrError::ExpectedValue(at) => (before(at), "has no value"),
        AttrError::UnquotedValue(at) => (before(at), "is not in quotes"),
        AttrError::ExpectedQuote(_, quote) => (
            before(text.rfind(char::from(quote)).unwrap_or(text.len())),
            "is not closed",
        ),
        AttrError::Duplicated(at, _) => (name_at(text, at), "is given twice"),
    };
    format!(
        "the <{}> tag's {attribute} attribute {problem}",
        tag.name().as_ref()
    )
}

/// Why the SVG cannot be read. An attribute value whose closing quote is missing runs to the
/// end of the file, so its opening quote is the file's last quote of that kind: that names
/// the attribute, which the reader's own message does not.
fn not_well_formed(svg: &str, at: u64, error: &quick_xml::Error) -> String {
    let at = usize::try_from(at).unwrap_or(usize::MAX).min(svg.len());
    let line = svg.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
    let quote = match error {
        quick_xml::Error::Syntax(SyntaxError::UnclosedDoubleQuotedAttributeValue) => Some('"'),
        quick_xml::Error::Syntax(SyntaxError::UnclosedSingleQuotedAttributeValue) => Some('\''),
        _ => None,
    };
    if let (Some(quote), Some(tag)) = (quote, svg.get(at..).and_then(|t| t.strip_prefix('<'))) {
        let element = name_at(tag, 0);
        let attribute = name_before(&tag[..tag.rfind(quote).unwrap_or(tag.len())]);
        return format!(
            "the <{element}> tag's {attribute} attribute is not closed: its closing {quote} is \
             missing (line {line})"
        );
    }
    format!("the SVG is not well-formed XML (line {line}): {error}")
}

/// The attribute name that ends `text`, before an `=` and white space.
fn name_before(text: &str) -> &str {
    let text = text.trim_end();
    let text = text.strip_suffix('=').unwrap_or(text).trim_end();
    text.rsplit(char::is_whitespace).next().unwrap_or(text)
}

/// The name that starts at `at` in `text`.
fn name_at(text: &str, at: usize) -> &str {
    text.get(at..)
        .unwrap_or_default()
        .split(|c: char| c.is_whitespace() || c == '=' || c == '/' || c == '>')
        .next()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A baked SVG holding `body`, with the namespace declared as the specification asks.
    fn badge(body: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
             xmlns:openbadges=\"{OB3_NAMESPACE}\" viewBox=\"0 0 10 10\">\n<circle r=\"5\"/>\n\
             {body}\n</svg>"
        )
    }

    #[test]
    fn the_verify_attribute_is_the_credential() {
        let svg =
            badge(r#"<openbadges:credential verify="eyJh.eyJi.c2ln"></openbadges:credential>"#);
        assert_eq!(svg_credential(&svg).expect("read"), "eyJh.eyJi.c2ln");
        let svg = badge(r#"<openbadges:credential verify='eyJh.eyJi.c2ln'/>"#);
        assert_eq!(svg_credential(&svg).expect("read"), "eyJh.eyJi.c2ln");
    }

    #[test]
    fn a_verify_attribute_with_accented_letters_is_read_and_refused_as_no_credential() {
        let svg = badge(r#"<openbadges:credential verify="é…"/>"#);
        assert_eq!(svg_credential(&svg).expect("read"), "é…");
        let error = read(svg.as_bytes()).expect_err("refused");
        assert!(
            error.contains("neither a JSON credential nor a compact JWS"),
            "{error}"
        );

        let svg = badge("<openbadges:credential verify=é…/>");
        let error = svg_credential(&svg).expect_err("refused");
        assert_eq!(
            error,
            "the <openbadges:credential> tag's verify attribute is not in quotes"
        );
    }

    #[test]
    fn entities_in_the_verify_attribute_are_decoded() {
        let svg = badge(r#"<openbadges:credential verify="a&amp;b&quot;c&#x41;&#66;"/>"#);
        assert_eq!(svg_credential(&svg).expect("read"), "a&b\"cAB");
    }

    #[test]
    fn the_content_may_be_cdata_or_text() {
        let svg = badge(
            "<openbadges:credential>\n  <![CDATA[\n  {\"name\": \"<b>&amp;</b>\"}\n  ]]>\n</openbadges:credential>",
        );
        assert_eq!(
            svg_credential(&svg).expect("read"),
            "{\"name\": \"<b>&amp;</b>\"}"
        );
        let svg = badge(
            "<openbadges:credential>{&quot;name&quot;: &quot;A &amp; B &#233;&quot;}</openbadges:credential>",
        );
        assert_eq!(
            svg_credential(&svg).expect("read"),
            "{\"name\": \"A & B é\"}"
        );
        let svg = badge(
            "<openbadges:credential><!-- the credential --><![CDATA[{\"a\":]]><![CDATA[1}]]></openbadges:credential>",
        );
        assert_eq!(svg_credential(&svg).expect("read"), "{\"a\":1}");
    }

    #[test]
    fn a_credential_element_written_in_a_comment_is_not_the_credential() {
        let commented = r#"<!-- <openbadges:credential verify="eyJh.forged.sig"/> -->"#;
        let svg = badge(&format!(
            r#"{commented}<openbadges:credential verify="eyJh.eyJi.c2ln"/>"#
        ));
        assert_eq!(svg_credential(&svg).expect("read"), "eyJh.eyJi.c2ln");
        let error = svg_credential(&badge(commented)).expect_err("refused");
        assert!(
            error.contains("no <openbadges:credential> element"),
            "{error}"
        );
        // Nor in a CDATA section or an attribute's value.
        let svg = badge(
            r#"<text data-note='<openbadges:credential verify="x.y.z">'><![CDATA[<openbadges:credential verify="x.y.z"/>]]></text>"#,
        );
        assert!(svg_credential(&svg).is_err());
    }

    #[test]
    fn the_element_is_known_by_its_namespace_whatever_its_prefix() {
        let svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:ob="{OB3_NAMESPACE}"><ob:credential verify="eyJh.eyJi.c2ln"/></svg>"#
        );
        assert_eq!(svg_credential(&svg).expect("read"), "eyJh.eyJi.c2ln");
        let svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg"><credential xmlns="{OB3_NAMESPACE}"><![CDATA[{{}}]]></credential></svg>"#
        );
        assert_eq!(svg_credential(&svg).expect("read"), "{}");
        // The specification's prefix bound to another namespace is another element.
        let svg = r#"<svg xmlns:openbadges="http://openbadges.org"><openbadges:credential verify="eyJh.eyJi.c2ln"/></svg>"#;
        let error = svg_credential(svg).expect_err("refused");
        assert!(
            error.contains("its credential element is in the namespace http://openbadges.org"),
            "{error}"
        );
        // An undeclared `openbadges` prefix is read by its name, as before.
        let svg = r#"<svg><openbadges:credential verify="eyJh.eyJi.c2ln"/></svg>"#;
        assert_eq!(svg_credential(svg).expect("read"), "eyJh.eyJi.c2ln");
    }

    #[test]
    fn only_an_attribute_named_verify_is_read() {
        let svg = badge(
            r#"<openbadges:credential data-verify="not.this.one" openbadges:verify="nor.this.one"><![CDATA[{}]]></openbadges:credential>"#,
        );
        assert_eq!(svg_credential(&svg).expect("read"), "{}");
        let svg = badge(r#"<openbadges:credentials verify="eyJh.eyJi.c2ln"/>"#);
        assert!(svg_credential(&svg).is_err());
    }

    #[test]
    fn the_first_credential_element_is_the_credential() {
        let svg = badge(
            r#"<openbadges:credential verify="first.jwt.sig"/><openbadges:credential verify="second.jwt.sig"/>"#,
        );
        assert_eq!(svg_credential(&svg).expect("read"), "first.jwt.sig");
    }

    #[test]
    fn malformed_xml_is_refused_with_what_is_wrong_and_where() {
        let error = svg_credential("<svg>\n<g>\n</svg>").expect_err("refused");
        assert!(
            error.starts_with("the SVG is not well-formed XML (line 3):"),
            "{error}"
        );
        assert!(error.contains("</g>"), "{error}");

        let error = svg_credential(&badge(r#"<openbadges:credential verify="eyJh.eyJi"#))
            .expect_err("refused");
        assert!(
            error.starts_with("the <openbadges:credential> tag's verify attribute is not closed"),
            "{error}"
        );

        for (tag, problem) in [
            (
                "<openbadges:credential verify=>",
                "verify attribute has no value",
            ),
            (
                "<openbadges:credential verify>",
                "verify attribute is not followed by `=`",
            ),
            (
                r#"<openbadges:credential verify="a.b.c" verify="d.e.f">"#,
                "verify attribute is given twice",
            ),
        ] {
            let error = svg_credential(&badge(&format!("{tag}</openbadges:credential>")))
                .expect_err("refused");
            assert!(error.contains(problem), "{tag}: {error}");
        }

        let error = svg_credential(&badge(
            "<openbadges:credential>{&nbsp;}</openbadges:credential>",
        ))
        .expect_err("refused");
        assert!(error.contains("the entity &nbsp;"), "{error}");

        let error =
            svg_credential(&badge("<openbadges:credential><![CDATA[{}]]>")).expect_err("refused");
        assert!(
            error.contains("not well-formed") || error.contains("not closed"),
            "{error}"
        );
    }

    #[test]
    fn an_element_with_no_credential_in_it_is_refused() {
        for body in [
            "<openbadges:credential/>",
            "<openbadges:credential>  </openbadges:credential>",
            r#"<openbadges:credential verify=" "/>"#,
        ] {
            let error = svg_credential(&badge(body)).expect_err("refused");
            assert!(error.contains("empty"), "{body}: {error}");
        }
        let error = svg_credential(&badge(
            "<openbadges:credential><g/>{}</openbadges:credential>",
        ))
        .expect_err("refused");
        assert!(error.contains("holds an element <g>"), "{error}");
    }

    #[test]
    fn entities_a_doctype_declares_are_not_expanded() {
        let svg = format!(
            "<!DOCTYPE svg [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]>\n\
             <svg xmlns:openbadges=\"{OB3_NAMESPACE}\"><openbadges:credential>&b;</openbadges:credential></svg>"
        );
        let error = svg_credential(&svg).expect_err("refused");
        assert!(error.contains("the entity &b;"), "{error}");
    }
}
