//! Logos (a partner's, a marketplace's): what an image is, decided by its content and never by
//! a file name, and whether an SVG is safe to serve from our origin.
//!
//! An image is PNG, JPEG or WebP by its magic bytes (and a PNG by its first chunk), or SVG by
//! parsing: UTF-8 XML whose root element is `<svg>`. Anything else is refused, naming what it
//! is when that is known (a GIF, a PDF, …).
//!
//! An SVG is refused, never rewritten, when it holds anything that runs or reaches out: a
//! `<script>`, an event-handler attribute (`on…`), a `<foreignObject>` (HTML inside the
//! image), a reference outside the file (`href`/`xlink:href`/`src` not starting with `#`,
//! a CSS `url(…)` or `@import` to anything but `#…`), a DOCTYPE (entities), a processing
//! instruction (`<?xml-stylesheet?>`), an animation that sets a link. The bytes stored are
//! then exactly the bytes checked: a rewriting sanitiser would have to serialise XML again
//! (namespaces, entities, quoting), which is where sanitisers go wrong, and the operator who
//! uploads a logo can export it again without the offending part.

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use sha2::{Digest, Sha256};

/// The largest logo we take: 512 KiB. A logo is shown a few rem high; anything bigger is a
/// photograph or a mistake.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;

/// The image formats a logo may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoKind {
    Png,
    Jpeg,
    Webp,
    Svg,
}

impl LogoKind {
    pub fn content_type(self) -> &'static str {
        match self {
            LogoKind::Png => "image/png",
            LogoKind::Jpeg => "image/jpeg",
            LogoKind::Webp => "image/webp",
            LogoKind::Svg => "image/svg+xml",
        }
    }

    /// The file extension of the logo's URL (`/logos/{digest}.{ext}`).
    pub fn extension(self) -> &'static str {
        match self {
            LogoKind::Png => "png",
            LogoKind::Jpeg => "jpg",
            LogoKind::Webp => "webp",
            LogoKind::Svg => "svg",
        }
    }

    pub fn from_content_type(content_type: &str) -> Option<LogoKind> {
        [LogoKind::Png, LogoKind::Jpeg, LogoKind::Webp, LogoKind::Svg]
            .into_iter()
            .find(|kind| kind.content_type() == content_type)
    }

    pub fn from_extension(extension: &str) -> Option<LogoKind> {
        [LogoKind::Png, LogoKind::Jpeg, LogoKind::Webp, LogoKind::Svg]
            .into_iter()
            .find(|kind| kind.extension() == extension)
    }
}

/// A logo that passed every check: its bytes as given, its kind and their SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    kind: LogoKind,
    bytes: Vec<u8>,
    digest: String,
}

impl Logo {
    /// Checks `bytes` as a logo: at most [`MAX_LOGO_BYTES`], a PNG, JPEG, WebP or a safe SVG.
    pub fn check(bytes: Vec<u8>) -> Result<Logo, String> {
        if bytes.is_empty() {
            return Err("it is empty".into());
        }
        if bytes.len() > MAX_LOGO_BYTES {
            return Err(too_large(bytes.len() as u64));
        }
        let kind = sniff(&bytes)?;
        if kind == LogoKind::Svg {
            check_svg(&bytes)?;
        }
        let digest = crate::secrets::to_hex(&Sha256::digest(&bytes));
        Ok(Logo {
            kind,
            bytes,
            digest,
        })
    }

    pub fn kind(&self) -> LogoKind {
        self.kind
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The SHA-256 of the bytes, in hex: the logo's file name and ETag.
    pub fn digest(&self) -> &str {
        &self.digest
    }
}

/// What a logo larger than the limit is told.
pub fn too_large(size: u64) -> String {
    let shown = if size >= 1024 * 1024 {
        format!("{:.1} MB ({size} bytes)", size as f64 / (1024.0 * 1024.0))
    } else {
        format!("{size} bytes")
    };
    format!("it is {shown}; a logo may be at most 512 KB ({MAX_LOGO_BYTES} bytes)")
}

const ACCEPTED: &str = "a logo must be a PNG, JPEG, WebP or SVG image";

/// What the content is, by its first bytes (and, for an SVG, its root element). The file's
/// name plays no part: a GIF renamed `.png` is a GIF.
pub fn sniff(bytes: &[u8]) -> Result<LogoKind, String> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        // A PNG starts with its IHDR chunk: 13 bytes, a non-zero width and height.
        let header = bytes.get(8..24);
        let well_formed = header.is_some_and(|h| {
            h[..8] == [0, 0, 0, 13, b'I', b'H', b'D', b'R']
                && h[8..12] != [0; 4]
                && h[12..16] != [0; 4]
        });
        return if well_formed {
            Ok(LogoKind::Png)
        } else {
            Err("it starts like a PNG but has no image header (IHDR): the file is damaged".into())
        };
    }
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        return Ok(LogoKind::Jpeg);
    }
    if bytes.len() >= 16 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return if matches!(&bytes[12..16], b"VP8 " | b"VP8L" | b"VP8X") {
            Ok(LogoKind::Webp)
        } else {
            Err("it starts like a WebP image but holds no VP8 image: the file is damaged".into())
        };
    }
    if let Some(other) = other_format(bytes) {
        return Err(format!("it is {other}; {ACCEPTED}"));
    }
    let text = std::str::from_utf8(bytes).ok();
    let markup = text.map(|t| t.trim_start_matches('\u{feff}').trim_start());
    match markup {
        Some(markup) if markup.starts_with('<') => match root_element(markup)? {
            root if root.eq_ignore_ascii_case("svg") => Ok(LogoKind::Svg),
            root => Err(format!(
                "it is XML whose root element is <{root}>, not an SVG image; {ACCEPTED}"
            )),
        },
        Some(_) => Err(format!("it is text, not an image; {ACCEPTED}")),
        None => Err(format!("it is not an image we know; {ACCEPTED}")),
    }
}

/// Image and document formats people may take for a logo, by their magic bytes.
fn other_format(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("a GIF image")
    } else if starts(b"BM")
        && bytes
            .get(14..18)
            .is_some_and(|size| matches!(size, [12 | 40 | 52 | 56 | 64 | 108 | 124, 0, 0, 0]))
    {
        // A BMP's second header starts with its own size, one of a few known values.
        Some("a BMP image")
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Some("a TIFF image")
    } else if starts(&[0, 0, 1, 0]) {
        Some("an icon (ICO)")
    } else if bytes.get(4..12).is_some_and(|b| b == b"ftypavif") {
        Some("an AVIF image")
    } else if bytes
        .get(4..12)
        .is_some_and(|b| b == b"ftypheic" || b == b"ftypmif1")
    {
        Some("a HEIC image")
    } else if starts(b"%PDF") {
        Some("a PDF document")
    } else {
        None
    }
}

/// The name of the first element of an XML text, or why it cannot be read.
fn root_element(markup: &str) -> Result<String, String> {
    let mut reader = Reader::from_str(markup);
    loop {
        match reader.read_event() {
            Ok(Event::Start(tag) | Event::Empty(tag)) => {
                return Ok(tag.local_name().as_ref().to_string());
            }
            Ok(Event::Eof) => return Err(format!("it is text without an element; {ACCEPTED}")),
            Ok(_) => {}
            Err(error) => {
                return Err(format!("it is not well-formed XML ({error}); {ACCEPTED}"));
            }
        }
    }
}

/// Elements that run code, hold another document or play media: never in a logo.
const FORBIDDEN_ELEMENTS: &[&str] = &[
    "script",
    "foreignobject",
    "iframe",
    "object",
    "embed",
    "audio",
    "video",
    "handler",
    "listener",
];

/// Animation elements: they may change any attribute, a link's target included.
const ANIMATIONS: &[&str] = &["set", "animate", "animatetransform", "animatemotion"];

/// Refuses an SVG holding anything that runs or reaches outside the file (see the module's
/// documentation); names the first such thing and its line.
pub fn check_svg(bytes: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the SVG is not UTF-8 text".to_string())?;
    let mut reader = Reader::from_str(text);
    let line = |at: u64| {
        let at = usize::try_from(at).unwrap_or(usize::MAX).min(text.len());
        text.as_bytes()[..at]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    };
    // The text of the <style> element being read, entities resolved, checked at its end.
    let mut style: Option<String> = None;
    let mut depth = 0usize;
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|error| {
            format!(
                "the SVG is not well-formed XML (line {}): {error}",
                line(reader.error_position())
            )
        })?;
        let problem = |what: String| format!("the SVG {what} (line {})", line(at));
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::DocType(_) => {
                return Err(problem(
                    "has a DOCTYPE, which can declare entities; remove it".into(),
                ));
            }
            Event::PI(pi) => {
                let target = pi.target().to_string();
                return Err(problem(format!(
                    "has a processing instruction <?{target}?>, which can load a stylesheet; remove it"
                )));
            }
            Event::Start(tag) | Event::Empty(tag) => {
                check_element(&tag, depth).map_err(problem)?;
                if local(&tag) == "style" && !empty {
                    style = Some(String::new());
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(tag) => {
                depth = depth.saturating_sub(1);
                if tag.local_name().as_ref().eq_ignore_ascii_case("style")
                    && let Some(css) = style.take()
                {
                    check_css(&css)
                        .map_err(|what| problem(format!("has a <style> with {what}")))?;
                }
            }
            Event::Text(content) => {
                if let Some(css) = style.as_mut() {
                    css.push_str(&content.xml10_content());
                }
            }
            Event::CData(content) => {
                if let Some(css) = style.as_mut() {
                    css.push_str(&content.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                let name = reference.xml10_content().into_owned();
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => resolve_predefined_entity(&name)
                        .map(str::to_string)
                        .ok_or_else(|| {
                            problem(format!(
                                "uses the entity &{name}; which is not one of XML's own"
                            ))
                        })?,
                    Err(error) => {
                        return Err(problem(format!(
                            "has a bad character reference &{name};: {error}"
                        )));
                    }
                };
                if let Some(css) = style.as_mut() {
                    css.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) => {}
        }
    }
    if depth != 0 {
        return Err("the SVG is not well-formed XML: an element is not closed".into());
    }
    Ok(())
}

/// An element's local name (its prefix dropped), in lower case.
fn local(tag: &BytesStart) -> String {
    tag.local_name().as_ref().to_ascii_lowercase()
}

fn check_element(tag: &BytesStart, depth: usize) -> Result<(), String> {
    let name = local(tag);
    let shown = tag.name().as_ref().to_string();
    if depth == 0 && name != "svg" {
        return Err(format!("has <{shown}> as its root element, not <svg>"));
    }
    if FORBIDDEN_ELEMENTS.contains(&name.as_str()) {
        return Err(format!("has a <{shown}> element; remove it"));
    }
    for attribute in tag.attributes() {
        let attribute = attribute
            .map_err(|error| format!("has a malformed attribute on <{shown}>: {error}"))?;
        let key = attribute.key.as_ref().to_string();
        let key_local = attribute.key.local_name().as_ref().to_ascii_lowercase();
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|error| {
                format!("has an attribute {key} on <{shown}> that cannot be read: {error}")
            })?;
        if key == "xmlns" || key.starts_with("xmlns:") {
            // A namespace name is an identifier, never fetched.
            continue;
        }
        if key_local.starts_with("on") {
            return Err(format!(
                "has an event-handler attribute {key} on <{shown}>; remove it"
            ));
        }
        if matches!(key_local.as_str(), "href" | "src") && !value.trim_start().starts_with('#') {
            return Err(format!(
                "has an external reference {key}=\"{}\" on <{shown}>; only references inside the file (#…) are allowed",
                shorten(&value)
            ));
        }
        if ANIMATIONS.contains(&name.as_str()) && key_local == "attributename" {
            let target = value.trim().to_ascii_lowercase();
            let target = target.rsplit(':').next().unwrap_or(&target);
            if matches!(target, "href" | "src") || target.starts_with("on") {
                return Err(format!("has a <{shown}> that changes {value}; remove it"));
            }
        }
        let squeezed: String = value
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if squeezed.contains("javascript:") {
            return Err(format!(
                "has a javascript: URL in {key} on <{shown}>; remove it"
            ));
        }
        check_css(&value).map_err(|what| format!("has {what} in {key} on <{shown}>"))?;
    }
    Ok(())
}

/// CSS (a `<style>` element, a `style` attribute or a presentation attribute such as
/// `fill`) that reaches outside the file: `url(…)` to anything but `#…`, `@import`,
/// `image-set(…)`, or an escape (`\75 rl(` is `url(`), which a logo never needs.
fn check_css(css: &str) -> Result<(), String> {
    if css.contains('\\') {
        return Err("a CSS escape (\\), which can hide a URL".into());
    }
    let lower = css.to_ascii_lowercase();
    if lower.contains("@import") {
        return Err("an @import".into());
    }
    // `image(…)` and `image-set(…)` (and `-webkit-image-set(…)`) name a file to load as a
    // plain string, without `url(`.
    let image_function = lower.match_indices("image").any(|(at, _)| {
        let after = &lower[at + "image".len()..];
        let before = lower[..at].chars().next_back();
        (after.starts_with('(') || after.starts_with("-set("))
            && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if image_function {
        return Err("an image-set() or image() reference".into());
    }
    let mut rest = lower.as_str();
    let mut original = css;
    while let Some(at) = rest.find("url(") {
        let inside = rest[at + 4..].trim_start();
        let inside = inside.trim_start_matches(['"', '\'']).trim_start();
        if !inside.starts_with('#') {
            let shown = original[at..]
                .split(')')
                .next()
                .unwrap_or_default()
                .to_string();
            return Err(format!(
                "an external reference {}); only references inside the file (url(#…)) are allowed",
                shorten(&shown)
            ));
        }
        rest = &rest[at + 4..];
        original = &original[at + 4..];
    }
    Ok(())
}

/// A value as an error message quotes it: at most 80 characters.
fn shorten(value: &str) -> String {
    let mut chars = value.chars();
    let short: String = chars.by_ref().take(80).collect();
    if chars.next().is_some() {
        format!("{short}…")
    } else {
        short
    }
}

/// Where a stored logo is served: enough to write its `<img src>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoRef {
    pub digest: String,
    pub kind: LogoKind,
}

impl LogoRef {
    /// The logo's path on this site: `/logos/{digest}.{ext}`. The digest makes it immutable.
    pub fn path(&self) -> String {
        format!("/logos/{}.{}", self.digest, self.kind.extension())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest PNG: a 1×1 image (signature, IHDR, IDAT, IEND).
    pub const PNG: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f,
        0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
        0x0f, 0x04, 0x00, 0x09, 0xfb, 0x03, 0xfd, 0xe3, 0x55, 0xf2, 0x9c, 0x00, 0x00, 0x00, 0x00,
        0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];

    const SVG: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<!-- the marketplace's mark -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 40 40">
  <defs>
    <linearGradient id="g"><stop offset="0" stop-color="#0b5"/></linearGradient>
    <style>.mark { fill: url(#g); stroke: url( '#g' ) }</style>
  </defs>
  <circle class="mark" cx="20" cy="20" r="18" fill="url(#g)"/>
  <use xlink:href="#g" href="#g"/>
  <text x="4" y="24">Bob &amp; Co &#169;</text>
</svg>"##;

    fn kind(bytes: &[u8]) -> Result<LogoKind, String> {
        sniff(bytes)
    }

    #[test]
    fn formats_are_known_by_their_content() {
        assert_eq!(kind(PNG), Ok(LogoKind::Png));
        assert_eq!(kind(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), Ok(LogoKind::Jpeg));
        assert_eq!(
            kind(b"RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0"),
            Ok(LogoKind::Webp)
        );
        assert_eq!(kind(SVG.as_bytes()), Ok(LogoKind::Svg));
        assert_eq!(
            kind("\u{feff}  <svg xmlns=\"http://www.w3.org/2000/svg\"/>".as_bytes()),
            Ok(LogoKind::Svg)
        );
    }

    #[test]
    fn other_formats_and_text_are_named_and_refused() {
        for (bytes, named) in [
            (&b"GIF89a\x01\0\x01\0\0\0\0;"[..], "a GIF image"),
            (b"GIF87a\x01\0\x01\0", "a GIF image"),
            (b"%PDF-1.7\n", "a PDF document"),
            (b"\0\0\0\x1cftypavif\0\0", "an AVIF image"),
            (b"This is not an image at all.\n", "text, not an image"),
            (b"<html><body>hello</body></html>", "root element is <html>"),
            (b"\x89PNG\r\n\x1a\n\0\0\0\0", "no image header"),
            (b"RIFF\0\0\0\0WEBPXXXX", "holds no VP8 image"),
            (b"\x00\x01\x02\xff\xfe", "not an image we know"),
        ] {
            let error = kind(bytes).expect_err(named);
            assert!(error.contains(named), "{error}");
        }
    }

    #[test]
    fn a_safe_svg_passes_as_it_is() {
        let logo = Logo::check(SVG.as_bytes().to_vec()).expect("a safe SVG");
        assert_eq!(logo.kind(), LogoKind::Svg);
        assert_eq!(logo.bytes(), SVG.as_bytes(), "nothing is rewritten");
        assert_eq!(logo.digest().len(), 64);
    }

    /// An SVG that is [`SVG`] with `inside` added before its end.
    fn svg_with(inside: &str) -> Vec<u8> {
        SVG.replace("</svg>", &format!("{inside}\n</svg>"))
            .into_bytes()
    }

    #[test]
    fn scripts_and_event_handlers_are_refused() {
        for (inside, named) in [
            ("<script>alert(1)</script>", "a <script> element"),
            (
                "<svg:script xmlns:svg=\"http://www.w3.org/2000/svg\"/>",
                "a <svg:script> element",
            ),
            ("<SCRIPT/>", "a <SCRIPT> element"),
            ("<g onload=\"alert(1)\"/>", "event-handler attribute onload"),
            ("<rect onClick='x()'/>", "event-handler attribute onClick"),
            (
                "<foreignObject><p>hi</p></foreignObject>",
                "a <foreignObject> element",
            ),
            (
                "<a href=\"javascript:alert(1)\"><text>x</text></a>",
                "external reference href",
            ),
            (
                "<a href=\"#x\"><set attributeName=\"href\" to=\"javascript:alert(1)\"/></a>",
                "changes href",
            ),
            ("<rect fill=\"java\nscript:x\"/>", "javascript: URL"),
        ] {
            let error = Logo::check(svg_with(inside)).expect_err(inside);
            assert!(error.contains(named), "{inside}: {error}");
            assert!(error.contains("(line 11)"), "{inside}: {error}");
        }
        let onload = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#;
        assert!(Logo::check(onload.to_vec()).is_err());
    }

    #[test]
    fn references_outside_the_file_are_refused() {
        for (inside, named) in [
            (
                "<image href=\"https://tracker.example/p.png\"/>",
                "external reference href=\"https://tracker.example/p.png\"",
            ),
            (
                "<use xlink:href=\"http://evil.example/x.svg#a\"/>",
                "external reference xlink:href",
            ),
            (
                "<image href=\"data:image/png;base64,AAAA\"/>",
                "external reference href",
            ),
            ("<use href=\"other.svg#a\"/>", "external reference href"),
            (
                "<rect fill=\"url(http://evil.example/p)\"/>",
                "url(http://evil.example/p)",
            ),
            (
                "<rect style=\"fill: URL( 'https://evil.example/p' )\"/>",
                "external reference URL(",
            ),
            (
                "<style>.a { fill: url(https://evil.example/a) }</style>",
                "<style> with an external reference",
            ),
            (
                "<style><![CDATA[ @import 'https://evil.example/a.css'; ]]></style>",
                "@import",
            ),
            (
                "<style>.a { fill: u&#114;l(https://evil.example/a) }</style>",
                "external reference",
            ),
            (
                "<style>.a { fill: \\75 rl(https://evil.example/a) }</style>",
                "CSS escape",
            ),
            (
                "<rect style=\"background: image-set('https://evil.example/a' 1x)\"/>",
                "image-set",
            ),
        ] {
            let error = Logo::check(svg_with(inside)).expect_err(inside);
            assert!(error.contains(named), "{inside}: {error}");
        }
    }

    #[test]
    fn doctypes_instructions_and_broken_xml_are_refused() {
        let entities = br#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>"#;
        let error = Logo::check(entities.to_vec()).expect_err("doctype");
        assert!(error.contains("DOCTYPE"), "{error}");
        let stylesheet = br#"<?xml-stylesheet href="https://evil.example/a.css"?><svg xmlns="http://www.w3.org/2000/svg"/>"#;
        let error = Logo::check(stylesheet.to_vec()).expect_err("pi");
        assert!(error.contains("<?xml-stylesheet?>"), "{error}");
        let unclosed = br#"<svg xmlns="http://www.w3.org/2000/svg"><g></svg>"#;
        let error = Logo::check(unclosed.to_vec()).expect_err("unclosed");
        assert!(error.contains("not well-formed"), "{error}");
        let truncated = br#"<svg xmlns="http://www.w3.org/2000/svg"><g>"#;
        let error = Logo::check(truncated.to_vec()).expect_err("truncated");
        assert!(
            error.contains("not closed") || error.contains("not well-formed"),
            "{error}"
        );
    }

    #[test]
    fn size_is_checked_before_anything_else() {
        let mut huge = PNG.to_vec();
        huge.resize(MAX_LOGO_BYTES + 1, 0);
        let error = Logo::check(huge).expect_err("too large");
        assert_eq!(
            error,
            "it is 524289 bytes; a logo may be at most 512 KB (524288 bytes)"
        );
        assert_eq!(
            too_large(50 * 1024 * 1024),
            "it is 50.0 MB (52428800 bytes); a logo may be at most 512 KB (524288 bytes)"
        );
        let mut largest = PNG.to_vec();
        largest.resize(MAX_LOGO_BYTES, 0);
        assert!(Logo::check(largest).is_ok());
        assert_eq!(Logo::check(Vec::new()).expect_err("empty"), "it is empty");
    }

    #[test]
    fn kinds_round_trip_through_content_types_and_extensions() {
        for kind in [LogoKind::Png, LogoKind::Jpeg, LogoKind::Webp, LogoKind::Svg] {
            assert_eq!(LogoKind::from_content_type(kind.content_type()), Some(kind));
            assert_eq!(LogoKind::from_extension(kind.extension()), Some(kind));
        }
        assert_eq!(LogoKind::from_extension("gif"), None);
    }
}
