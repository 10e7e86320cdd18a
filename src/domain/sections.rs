//! Resume sections and the achievementType → section table of the partner guide
//! ("AchievementType Options"). Pure data and lookup; per-partner overrides and admin
//! mapping rules are passed in by the caller, never read from here.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A section of the resume. `Unassigned` is the holding state for types nobody mapped yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Section {
    Education,
    Certification,
    Credentials,
    Experience,
    SkillsAndAbilities,
    RelevantCoursework,
    Activities,
    Licenses,
    ProfessionalAffiliations,
    Unassigned,
}

impl Section {
    /// The sections a credential can be placed in, in resume order.
    pub const PLACEABLE: [Section; 9] = [
        Section::Experience,
        Section::Education,
        Section::Certification,
        Section::Licenses,
        Section::Credentials,
        Section::RelevantCoursework,
        Section::SkillsAndAbilities,
        Section::Activities,
        Section::ProfessionalAffiliations,
    ];

    /// The section's name as the guide and the resume show it.
    pub fn title(self) -> &'static str {
        match self {
            Section::Education => "Education",
            Section::Certification => "Certification",
            Section::Credentials => "Credentials",
            Section::Experience => "Experience",
            Section::SkillsAndAbilities => "Skills and Abilities",
            Section::RelevantCoursework => "Relevant Coursework",
            Section::Activities => "Activities",
            Section::Licenses => "Licenses",
            Section::ProfessionalAffiliations => "Professional Affiliations",
            Section::Unassigned => "Unassigned",
        }
    }
}

impl Section {
    /// The key the database stores the section under. Stable: renaming a variant or a
    /// title must not change it (a change here needs a migration of the stored rows).
    pub fn key(self) -> &'static str {
        match self {
            Section::Education => "education",
            Section::Certification => "certification",
            Section::Credentials => "credentials",
            Section::Experience => "experience",
            Section::SkillsAndAbilities => "skills_and_abilities",
            Section::RelevantCoursework => "relevant_coursework",
            Section::Activities => "activities",
            Section::Licenses => "licenses",
            Section::ProfessionalAffiliations => "professional_affiliations",
            Section::Unassigned => "unassigned",
        }
    }

    /// The section stored under `key`, if it is one of ours.
    pub fn from_key(key: &str) -> Option<Section> {
        Section::PLACEABLE
            .into_iter()
            .chain([Section::Unassigned])
            .find(|section| section.key() == key)
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// The section name was not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown section {0:?}; expected one of: Education, Certification, Credentials, Experience, Skills and Abilities, Relevant Coursework, Activities, Licenses, Professional Affiliations"
)]
pub struct UnknownSection(pub String);

impl FromStr for Section {
    type Err = UnknownSection;

    /// Accepts the title ("Relevant Coursework") or the identifier ("RelevantCoursework"),
    /// in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        Section::PLACEABLE
            .into_iter()
            .chain([Section::Unassigned])
            .find(|section| {
                let title: String = section.title().split_whitespace().collect();
                title.eq_ignore_ascii_case(&wanted)
            })
            .ok_or_else(|| UnknownSection(s.to_string()))
    }
}

/// Where a credential without an `achievementType` goes (the guide's "default award type").
pub const DEFAULT_SECTION: Section = Section::Credentials;

/// The guide's table, verbatim.
const GUIDE_TABLE: &[(&str, Section)] = &[
    ("Achievement", Section::Credentials),
    ("ApprenticeshipCertificate", Section::Experience),
    ("Assertion", Section::Credentials),
    ("Assessment", Section::SkillsAndAbilities),
    ("Assignment", Section::Education),
    ("AssociateDegree", Section::Education),
    ("Award", Section::Credentials),
    ("BachelorDegree", Section::Education),
    ("Badge", Section::Credentials),
    ("ceasn:Competency", Section::SkillsAndAbilities),
    ("ceasn:CompetencyFramework", Section::SkillsAndAbilities),
    ("Certificate", Section::Education),
    ("CertificateOfCompletion", Section::Education),
    ("Certification", Section::Certification),
    ("ceterms:AcademicCertificate", Section::Education),
    ("ceterms:ApprenticeshipCertificate", Section::Education),
    ("ceterms:AssessmentProfile", Section::SkillsAndAbilities),
    ("ceterms:AssociateDegree", Section::Education),
    ("ceterms:AssociateOfAppliedArtsDegree", Section::Education),
    (
        "ceterms:AssociateOfAppliedScienceDegree",
        Section::Education,
    ),
    ("ceterms:AssociateOfArtsDegree", Section::Education),
    ("ceterms:AssociateOfScienceDegree", Section::Education),
    ("ceterms:BachelorDegree", Section::Education),
    ("ceterms:BachelorOfArtsDegree", Section::Education),
    ("ceterms:BachelorOfScienceDegree", Section::Education),
    ("ceterms:Badge", Section::Credentials),
    ("ceterms:BasicTechnicalCertificate", Section::Education),
    ("ceterms:Certificate", Section::Education),
    ("ceterms:CertificateOfCompletion", Section::Education),
    ("ceterms:CertificateOfParticipation", Section::Education),
    ("ceterms:Certification", Section::Certification),
    ("ceterms:Course", Section::RelevantCoursework),
    ("ceterms:Credential", Section::Credentials),
    ("ceterms:Degree", Section::Education),
    ("ceterms:DigitalBadge", Section::Credentials),
    ("ceterms:Diploma", Section::Education),
    ("ceterms:DoctoralDegree", Section::Education),
    ("ceterms:GeneralEducationDevelopment", Section::Education),
    (
        "ceterms:GeneralEducationLevel1Certificate",
        Section::Education,
    ),
    (
        "ceterms:GeneralEducationLevel2Certificate",
        Section::Education,
    ),
    (
        "ceterms:HigherEducationLevel1Certificate",
        Section::Education,
    ),
    (
        "ceterms:HigherEducationLevel2Certificate",
        Section::Education,
    ),
    ("ceterms:JourneymanCertificate", Section::Education),
    ("ceterms:LearningOpportunityProfile", Section::Activities),
    ("ceterms:LearningProgram", Section::Education),
    ("ceterms:License", Section::Licenses),
    ("ceterms:MasterCertificate", Section::Education),
    ("ceterms:MasterDegree", Section::Education),
    ("ceterms:MasterOfArtsDegree", Section::Education),
    ("ceterms:MasterOfScienceDegree", Section::Education),
    ("ceterms:MicroCredential", Section::Credentials),
    ("ceterms:OpenBadge", Section::Credentials),
    ("ceterms:PostBaccalaureateCertificate", Section::Education),
    ("ceterms:PostMasterCertificate", Section::Education),
    ("ceterms:PreApprenticeshipCertificate", Section::Education),
    ("ceterms:ProfessionalCertificate", Section::Education),
    ("ceterms:ProfessionalDoctorate", Section::Education),
    ("ceterms:ProficiencyCertificate", Section::Education),
    ("ceterms:QualityAssuranceCredential", Section::Credentials),
    ("ceterms:ResearchDoctorate", Section::Education),
    ("ceterms:SecondaryEducationCertificate", Section::Education),
    ("ceterms:SecondarySchoolDiploma", Section::Education),
    ("ceterms:SpecialistDegree", Section::Education),
    ("ceterms:TechnicalLevel1Certificate", Section::Education),
    ("ceterms:TechnicalLevel2Certificate", Section::Education),
    ("ceterms:TechnicalLevel3Certificate", Section::Education),
    ("ceterms:WorkBasedLearningCertificate", Section::Education),
    ("CoCurricular", Section::Activities),
    ("CommunityService", Section::Experience),
    ("Competency", Section::SkillsAndAbilities),
    ("Course", Section::RelevantCoursework),
    ("Credential", Section::Credentials),
    ("Degree", Section::Education),
    ("Diploma", Section::Education),
    ("DoctoralDegree", Section::Education),
    ("Fieldwork", Section::Experience),
    ("GeneralEducationDevelopment", Section::Education),
    ("JourneymanCertificate", Section::Certification),
    ("LearningProgram", Section::Education),
    ("License", Section::Licenses),
    ("MasterCertificate", Section::Certification),
    ("MasterDegree", Section::Education),
    ("Membership", Section::ProfessionalAffiliations),
    ("Microcredential", Section::Credentials),
    ("ProfessionalDoctorate", Section::Education),
    ("QualityAssuranceCredential", Section::Credentials),
    ("ResearchDoctorate", Section::Education),
    ("SecondarySchoolDiploma", Section::Education),
];

/// A mapping rule that takes precedence over the guide's table: a partner's own override or
/// an admin's assignment of a type that was unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingRule {
    pub achievement_type: String,
    pub section: Section,
}

/// The section for `achievement_type`: `rules` first (they are the partner's overrides
/// followed by global admin rules, in that order), then the guide's table; each matched
/// exactly, then case-insensitively. An `ext:` prefix (OB 3.0 §B.1.1 extension types) is
/// tried as written, then without it. `None` means unknown: the caller holds it Unassigned.
pub fn section_for(achievement_type: &str, rules: &[MappingRule]) -> Option<Section> {
    let bare = strip_ext(achievement_type);
    let candidates = std::iter::once(achievement_type).chain(bare);
    for candidate in candidates {
        let rule_table = rules
            .iter()
            .map(|r| (r.achievement_type.as_str(), r.section));
        if let Some(section) = lookup(candidate, rule_table) {
            return Some(section);
        }
        if let Some(section) = lookup(candidate, GUIDE_TABLE.iter().copied()) {
            return Some(section);
        }
    }
    None
}

fn lookup<'a>(
    wanted: &str,
    table: impl Iterator<Item = (&'a str, Section)> + Clone,
) -> Option<Section> {
    table
        .clone()
        .find(|(t, _)| *t == wanted)
        .or_else(|| {
            table
                .into_iter()
                .find(|(t, _)| t.eq_ignore_ascii_case(wanted))
        })
        .map(|(_, s)| s)
}

/// True for the SkillSync carrier type: `SkillsAndAbilities` or `ext:SkillsAndAbilities`.
pub fn is_skill_carrier(achievement_type: &str) -> bool {
    let bare = strip_ext(achievement_type).unwrap_or(achievement_type);
    bare.eq_ignore_ascii_case("SkillsAndAbilities")
}

/// The type without its `ext:` prefix, written in any case as the rest of the matching is
/// (`EXT:Course`), or `None` when it has none.
fn strip_ext(achievement_type: &str) -> Option<&str> {
    let prefix = achievement_type.get(..4)?;
    prefix
        .eq_ignore_ascii_case("ext:")
        .then(|| &achievement_type[4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_the_guide_table_maps_as_written() {
        let expected = [
            ("Achievement", Section::Credentials),
            ("ApprenticeshipCertificate", Section::Experience),
            ("Assessment", Section::SkillsAndAbilities),
            ("Assignment", Section::Education),
            ("BachelorDegree", Section::Education),
            ("ceasn:Competency", Section::SkillsAndAbilities),
            ("Certification", Section::Certification),
            ("ceterms:ApprenticeshipCertificate", Section::Education),
            ("ceterms:Course", Section::RelevantCoursework),
            ("ceterms:License", Section::Licenses),
            ("ceterms:LearningOpportunityProfile", Section::Activities),
            ("CoCurricular", Section::Activities),
            ("CommunityService", Section::Experience),
            ("Course", Section::RelevantCoursework),
            ("Fieldwork", Section::Experience),
            ("JourneymanCertificate", Section::Certification),
            ("License", Section::Licenses),
            ("MasterCertificate", Section::Certification),
            ("Membership", Section::ProfessionalAffiliations),
            ("Microcredential", Section::Credentials),
            ("SecondarySchoolDiploma", Section::Education),
        ];
        assert_eq!(GUIDE_TABLE.len(), 88, "the guide lists 88 types");
        for (t, s) in expected {
            assert_eq!(section_for(t, &[]), Some(s), "{t}");
        }
        for (t, s) in GUIDE_TABLE {
            assert_eq!(section_for(t, &[]), Some(*s), "{t}");
        }
    }

    #[test]
    fn matching_is_exact_first_then_case_insensitive() {
        assert_eq!(
            section_for("course", &[]),
            Some(Section::RelevantCoursework)
        );
        assert_eq!(section_for("CETERMS:LICENSE", &[]), Some(Section::Licenses));
    }

    #[test]
    fn ext_types_match_without_their_prefix() {
        assert_eq!(
            section_for("ext:Course", &[]),
            Some(Section::RelevantCoursework)
        );
        assert_eq!(section_for("ext:Internship", &[]), None);
    }

    #[test]
    fn the_ext_prefix_matches_in_any_case_like_the_rest_of_the_type() {
        for written in ["EXT:Course", "Ext:course", "eXt:COURSE"] {
            assert_eq!(
                section_for(written, &[]),
                Some(Section::RelevantCoursework),
                "{written}"
            );
        }
        assert!(is_skill_carrier("EXT:SkillsAndAbilities"));
        assert!(is_skill_carrier("Ext:skillsandabilities"));
        // Multi-byte text where the prefix would be is not a prefix (and does not panic).
        assert_eq!(section_for("éxt:Course", &[]), None);
        assert!(!is_skill_carrier("ex"));
    }

    #[test]
    fn rules_come_before_the_guide_table() {
        let rules = [MappingRule {
            achievement_type: "Course".into(),
            section: Section::Education,
        }];
        assert_eq!(section_for("Course", &rules), Some(Section::Education));
        assert_eq!(section_for("COURSE", &rules), Some(Section::Education));
    }

    #[test]
    fn unknown_types_are_unassigned() {
        assert_eq!(section_for("Internship", &[]), None);
    }

    #[test]
    fn skill_carrier_is_recognised_with_or_without_ext() {
        assert!(is_skill_carrier("SkillsAndAbilities"));
        assert!(is_skill_carrier("ext:SkillsAndAbilities"));
        assert!(!is_skill_carrier("Skills"));
    }

    #[test]
    fn section_names_parse_as_title_or_identifier() {
        assert_eq!(
            "Relevant Coursework".parse(),
            Ok(Section::RelevantCoursework)
        );
        assert_eq!(
            "professionalaffiliations".parse(),
            Ok(Section::ProfessionalAffiliations)
        );
        assert!("Hobbies".parse::<Section>().is_err());
    }

    #[test]
    fn every_section_has_its_own_stored_key_and_reads_back_from_it() {
        let all: Vec<Section> = Section::PLACEABLE
            .into_iter()
            .chain([Section::Unassigned])
            .collect();
        let keys: std::collections::HashSet<&str> = all.iter().map(|s| s.key()).collect();
        assert_eq!(keys.len(), all.len());
        for section in all {
            assert_eq!(Section::from_key(section.key()), Some(section));
        }
        assert_eq!(Section::SkillsAndAbilities.key(), "skills_and_abilities");
        assert_eq!(Section::from_key("SkillsAndAbilities"), None);
    }
}
