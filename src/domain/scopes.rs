//! OAuth scopes of the partner API: `readonly`, `replace`, `delete`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Readonly,
    Replace,
    Delete,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Readonly, Scope::Replace, Scope::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Readonly => "readonly",
            Scope::Replace => "replace",
            Scope::Delete => "delete",
        }
    }
}

/// A set of scopes, written space-separated in a fixed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes {
    bits: u8,
}

impl Scopes {
    pub fn all() -> Scopes {
        Scope::ALL.into_iter().collect()
    }

    /// Parses a space-separated list; an unknown scope is an error naming it.
    pub fn parse(text: &str) -> Result<Scopes, String> {
        text.split_whitespace()
            .map(|word| {
                Scope::ALL
                    .into_iter()
                    .find(|s| s.as_str() == word)
                    .ok_or_else(|| {
                        format!("unknown scope {word:?}; scopes are readonly, replace and delete")
                    })
            })
            .collect()
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.bits & (1 << scope as u8) != 0
    }

    pub fn is_subset_of(self, other: Scopes) -> bool {
        self.bits & !other.bits == 0
    }

    pub fn is_empty(self) -> bool {
        self.bits == 0
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Scopes {
            bits: iter.into_iter().fold(0, |bits, s| bits | (1 << s as u8)),
        }
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<&str> = Scope::ALL
            .into_iter()
            .filter(|s| self.contains(*s))
            .map(Scope::as_str)
            .collect();
        f.write_str(&words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_in_any_order_and_print_in_one() {
        let scopes = Scopes::parse("delete readonly  replace").expect("valid");
        assert_eq!(scopes.to_string(), "readonly replace delete");
        assert!(
            Scopes::parse("replace")
                .expect("valid")
                .is_subset_of(scopes)
        );
    }

    #[test]
    fn unknown_scopes_are_named() {
        assert!(
            Scopes::parse("readonly admin")
                .expect_err("unknown")
                .contains("\"admin\"")
        );
    }
}
