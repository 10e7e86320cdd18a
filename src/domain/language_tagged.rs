//! Language-tagged text (VCDM 2.0 §11.1: `{"@value": …, "@language": …}`, or a list of
//! them): how a credential's name in several languages is kept, and which one a reader
//! sees: the first in their browser's `Accept-Language` that the credential has, else the
//! first the issuer gave.

use serde_json::Value;

/// The (language, text) pairs as stored: a JSON list of `[language, text]` pairs.
pub fn encode(values: &[(String, String)]) -> String {
    Value::Array(
        values
            .iter()
            .map(|(language, text)| {
                Value::Array(vec![
                    Value::String(language.clone()),
                    Value::String(text.clone()),
                ])
            })
            .collect(),
    )
    .to_string()
}

fn decode(encoded: &str) -> Vec<(String, String)> {
    let Ok(Value::Array(pairs)) = serde_json::from_str::<Value>(encoded) else {
        return Vec::new();
    };
    pairs
        .iter()
        .filter_map(|pair| match pair.as_array()?.as_slice() {
            [Value::String(language), Value::String(text)] => {
                Some((language.clone(), text.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The languages an `Accept-Language` header asks for, most wanted first, lower-cased
/// (`q=0` and `*` left out). At most 16 are read: the header is the visitor's.
pub fn wanted(accept_language: &str) -> Vec<String> {
    let mut ranked: Vec<(u16, usize, String)> = accept_language
        .split(',')
        .take(16)
        .enumerate()
        .filter_map(|(position, item)| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim().to_ascii_lowercase();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), |q| {
                    q.trim().parse::<f32>().ok().map(|q| (q * 1000.0) as u16)
                })?;
            (quality > 0 && !tag.is_empty() && tag != "*").then_some((quality, position, tag))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().map(|(_, _, tag)| tag).collect()
}

/// The text to show: the first wanted language the credential has (exactly, else by its
/// primary language: `fr-CA` finds `fr`, `fr` finds `fr-CA`), else `first`.
pub fn choose(first: &str, encoded: Option<&str>, wanted: &[String]) -> String {
    let Some(encoded) = encoded else {
        return first.to_string();
    };
    let values = decode(encoded);
    let primary = |tag: &str| tag.split('-').next().unwrap_or("").to_ascii_lowercase();
    for want in wanted {
        if let Some((_, text)) = values.iter().find(|(l, _)| l.eq_ignore_ascii_case(want)) {
            return text.clone();
        }
        if let Some((_, text)) = values.iter().find(|(l, _)| primary(l) == primary(want)) {
            return text.clone();
        }
    }
    first.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> String {
        encode(&[
            ("fr".into(), "Soudage avancé".into()),
            ("en-GB".into(), "Advanced welding".into()),
        ])
    }

    #[test]
    fn the_readers_language_wins_else_the_first_given() {
        let names = names();
        let pick = |header: &str| choose("Soudage avancé", Some(&names), &wanted(header));
        assert_eq!(pick("en-GB,en;q=0.8"), "Advanced welding");
        assert_eq!(pick("en-US"), "Advanced welding", "by primary language");
        assert_eq!(pick("de, en;q=0.5"), "Advanced welding");
        assert_eq!(pick("de"), "Soudage avancé");
        assert_eq!(pick(""), "Soudage avancé");
        assert_eq!(pick("fr;q=0.1, en;q=0.9"), "Advanced welding");
        assert_eq!(pick("en;q=0, fr"), "Soudage avancé");
        assert_eq!(choose("Plain", None, &wanted("en")), "Plain");
    }

    #[test]
    fn a_malformed_header_asks_for_nothing_it_cannot_read() {
        assert_eq!(wanted("en;q=abc, fr"), ["fr"]);
        assert_eq!(wanted("*"), Vec::<String>::new());
        assert_eq!(wanted(&"x,".repeat(1000)).len(), 16);
    }
}
