//! SkillSync (docs/partner-api.md, "SkillSync"): skills carried by a `SkillsAndAbilities`
//! credential's alignments. Names are at most 40 characters; level and category come from fixed
//! vocabularies.

use serde::Serialize;
use std::fmt;

/// A skill's name as it appears on the resume: trimmed, non-empty, at most 40 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkillName(String);

impl SkillName {
    pub const MAX_CHARS: usize = 40;

    pub fn parse(raw: &str) -> Result<SkillName, String> {
        let name = raw.trim();
        let length = name.chars().count();
        if length == 0 {
            Err("a skill needs a name (targetName)".into())
        } else if length > Self::MAX_CHARS {
            Err(format!(
                "skill names are at most {} characters; {name:?} has {length}",
                Self::MAX_CHARS
            ))
        } else {
            Ok(SkillName(name.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SkillName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $field:literal, [$($variant:ident = $text:literal),+]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Any case is accepted.
            pub fn parse(raw: &str) -> Result<$name, String> {
                let wanted = raw.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(wanted))
                    .ok_or_else(|| format!(
                        "{} must be one of {}; got {raw:?}",
                        $field,
                        Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                    ))
            }
        }
    };
}

vocabulary!(
    /// How well the person has the skill.
    SkillLevel, "skillLevel",
    [Beginner = "beginner", Intermediate = "intermediate", Advanced = "advanced", Expert = "expert"]
);

vocabulary!(
    /// What kind of skill it is (never editable by the job seeker).
    SkillCategory, "skillCategory",
    [Specialized = "specialized", Technical = "technical", Durable = "durable", Other = "other"]
);

/// One skill from an alignment entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skill {
    pub name: SkillName,
    pub description: Option<String>,
    pub framework: Option<String>,
    pub code: Option<String>,
    pub target_type: Option<String>,
    /// Kept only when the skill is verified (the guide: "for verified skills only").
    pub evidence_url: Option<String>,
    pub level: Option<SkillLevel>,
    pub category: SkillCategory,
    pub verified: bool,
    /// Who vouched for it (the carrier's issuer name) and when (proof `created`, else the
    /// award date), for verified skills.
    pub verified_by: Option<String>,
    pub verified_on: Option<String>,
    /// What the alignment said (`targetUrl`) and who would vouch, kept so the skill can be
    /// settled once the carrier's proof has been checked.
    pub target_url: Option<String>,
    pub voucher: Option<String>,
    pub vouched_on: Option<String>,
}

impl Skill {
    /// Settles the skill for the carrier's verification: verified skills show who vouched
    /// and when, and keep their evidence link; others keep neither.
    pub fn vouch(&mut self, verified: bool) {
        self.verified = verified;
        self.evidence_url = self.target_url.clone().filter(|_| verified);
        self.verified_by = self.voucher.clone().filter(|_| verified);
        self.verified_on = self.vouched_on.clone().filter(|_| verified);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forty_characters_is_the_limit() {
        assert!(SkillName::parse(&"a".repeat(40)).is_ok());
        let err = SkillName::parse(&"a".repeat(41)).expect_err("too long");
        assert!(err.contains("at most 40"), "{err}");
    }

    #[test]
    fn names_count_characters_not_bytes_and_are_trimmed() {
        assert!(SkillName::parse(&"é".repeat(40)).is_ok());
        assert_eq!(
            SkillName::parse("  Sales ").map(|n| n.0),
            Ok("Sales".into())
        );
        assert!(SkillName::parse("   ").is_err());
    }

    #[test]
    fn level_and_category_accept_any_case_and_nothing_else() {
        assert_eq!(SkillLevel::parse("Expert"), Ok(SkillLevel::Expert));
        assert_eq!(SkillCategory::parse("DURABLE"), Ok(SkillCategory::Durable));
        let err = SkillLevel::parse("guru").expect_err("unknown level");
        assert!(
            err.contains("beginner, intermediate, advanced, expert"),
            "{err}"
        );
        assert!(SkillCategory::parse("soft").is_err());
    }
}
