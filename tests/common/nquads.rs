//! A small N-Quads reader (N-Quads 1.1 §2) for the tests and the differential fuzz target:
//! the W3C suite's expected outputs, and jsonld.js's canonical N-Quads read back to be
//! canonicalized here.

use credentialconnect::verify::jsonld::{Quad, RdfTerm};

/// A small N-Quads reader for the suite's expected outputs (N-Quads 1.1 §2: IRIs, blank
/// nodes, literals with `\` escapes, language tags and datatypes; an optional graph).
pub fn parse(text: &str) -> Result<Vec<Quad>, String> {
    let mut quads = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut reader = Terms { rest: line };
        let subject = reader.term()?;
        let RdfTerm::Iri(predicate) = reader.term()? else {
            // Generalized RDF (a blank-node predicate): our processor never makes it.
            return Err(format!("generalized RDF: {line}"));
        };
        let object = reader.term()?;
        reader.skip_space();
        let graph = if reader.rest.starts_with('.') {
            None
        } else {
            Some(reader.term()?)
        };
        quads.push(Quad {
            subject,
            predicate,
            object,
            graph,
        });
    }
    Ok(quads)
}

struct Terms<'a> {
    rest: &'a str,
}

impl Terms<'_> {
    fn skip_space(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn term(&mut self) -> Result<RdfTerm, String> {
        self.skip_space();
        if let Some(rest) = self.rest.strip_prefix('<') {
            let end = rest.find('>').ok_or("unclosed IRI")?;
            self.rest = &rest[end + 1..];
            return Ok(RdfTerm::Iri(unescape(&rest[..end])?));
        }
        if let Some(rest) = self.rest.strip_prefix("_:") {
            let end = rest.find([' ', '\t']).unwrap_or(rest.len());
            self.rest = &rest[end..];
            return Ok(RdfTerm::Blank(rest[..end].to_string()));
        }
        if let Some(rest) = self.rest.strip_prefix('"') {
            let mut end = None;
            let mut escaped = false;
            for (i, c) in rest.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end.ok_or("unclosed literal")?;
            let value = unescape(&rest[..end])?;
            self.rest = &rest[end + 1..];
            if let Some(rest) = self.rest.strip_prefix('@') {
                let end = rest.find([' ', '\t']).unwrap_or(rest.len());
                self.rest = &rest[end..];
                return Ok(RdfTerm::Literal {
                    value,
                    datatype: "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString".into(),
                    // Language tags compare case-insensitively (RDF 1.1 §3.3); the processor
                    // writes them lower-cased, as jsonld.js does.
                    language: Some(rest[..end].to_ascii_lowercase()),
                });
            }
            let datatype = if let Some(rest) = self.rest.strip_prefix("^^") {
                self.rest = rest;
                match self.term()? {
                    RdfTerm::Iri(iri) => iri,
                    other => return Err(format!("datatype {other:?}")),
                }
            } else {
                "http://www.w3.org/2001/XMLSchema#string".into()
            };
            return Ok(RdfTerm::Literal {
                value,
                datatype,
                language: None,
            });
        }
        Err(format!("unexpected {:?}", self.rest))
    }
}

fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('b') => out.push('\u{8}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('"') => out.push('"'),
            Some('\'') => out.push('\''),
            Some('\\') => out.push('\\'),
            Some(u @ ('u' | 'U')) => {
                let digits: String = chars.by_ref().take(if u == 'u' { 4 } else { 8 }).collect();
                let code = u32::from_str_radix(&digits, 16).map_err(|e| e.to_string())?;
                out.push(char::from_u32(code).ok_or("bad \\u escape")?);
            }
            other => return Err(format!("bad escape \\{other:?}")),
        }
    }
    Ok(out)
}
