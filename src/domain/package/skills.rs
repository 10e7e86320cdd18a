//! A SkillSync carrier's alignments, read as the skills it asserts.

use super::reader::Reader;
use super::*;
use crate::domain::json_tree::{Node, Object};

impl Reader<'_> {
    #[expect(
        clippy::too_many_arguments,
        reason = "the skill needs each of the carrier's facts"
    )]
    pub(super) fn skills(
        &mut self,
        alignments: Option<&Node<'_>>,
        achievement_pointer: &str,
        verification: &Verification,
        issuer_name: &Option<String>,
        issuer_id: &Option<String>,
        credential: &Object<'_>,
        awarded: &Option<DateText>,
    ) -> Vec<Skill> {
        let base = format!("{achievement_pointer}/alignment");
        let list = match alignments {
            Some(Node::Array(list)) => list,
            None | Some(Node::Null) => {
                self.warn(
                    base,
                    "this SkillsAndAbilities carrier has no alignments, so it brings no skills",
                );
                return Vec::new();
            }
            Some(other) => {
                self.problem(
                    base,
                    format!("`alignment` must be an array, got {}", other.kind()),
                );
                return Vec::new();
            }
        };
        let verified = verification.state.vouches();
        let verified_on =
            first_proof_created(credential).or_else(|| awarded.as_ref().map(|d| d.text.clone()));
        let mut skills = Vec::new();
        // Names seen, lowercased: a repeat is found in one look-up, not by comparing pairs.
        let mut seen = HashSet::new();
        for (i, alignment) in list.iter().enumerate() {
            let p = format!("{base}/{i}");
            let Node::Object(a) = alignment else {
                self.problem(
                    p,
                    format!("an alignment must be an object, got {}", alignment.kind()),
                );
                continue;
            };
            let name = match self.text(a, "targetName", &p).map(|n| SkillName::parse(&n)) {
                Some(Ok(name)) => Some(name),
                Some(Err(why)) => {
                    self.problem(format!("{p}/targetName"), why);
                    None
                }
                None => {
                    self.problem(
                        format!("{p}/targetName"),
                        "a skill needs a name (targetName)",
                    );
                    None
                }
            };
            let level = match self
                .text(a, "skillLevel", &p)
                .map(|l| SkillLevel::parse(&l))
            {
                Some(Ok(level)) => Some(level),
                Some(Err(why)) => {
                    self.problem(format!("{p}/skillLevel"), why);
                    None
                }
                None => None,
            };
            let category = match self
                .text(a, "skillCategory", &p)
                .map(|c| SkillCategory::parse(&c))
            {
                Some(Ok(category)) => category,
                Some(Err(why)) => {
                    self.problem(format!("{p}/skillCategory"), why);
                    SkillCategory::Other
                }
                None => SkillCategory::Other,
            };
            let target_url = self.text(a, "targetUrl", &p);
            // Every field is checked, whether or not the name is usable.
            let description = self.text(a, "targetDescription", &p);
            let framework = self.text(a, "targetFramework", &p);
            let code = self.id_text(a, "targetCode", &p);
            let target_type = self.text(a, "targetType", &p);
            let Some(name) = name else { continue };
            if !seen.insert(name.as_str().to_lowercase()) {
                self.problem(
                    format!("{p}/targetName"),
                    format!(
                        "the skill {:?} appears twice in this carrier; send each skill once",
                        name.as_str()
                    ),
                );
                continue;
            }
            let mut skill = Skill {
                name,
                description,
                framework,
                code,
                target_type,
                evidence_url: None,
                level,
                category,
                verified: false,
                verified_by: None,
                verified_on: None,
                target_url,
                voucher: issuer_name.clone().or_else(|| issuer_id.clone()),
                vouched_on: verified_on.clone(),
            };
            skill.vouch(verified);
            skills.push(skill);
        }
        skills
    }
}

fn first_proof_created(credential: &Object<'_>) -> Option<String> {
    let proof = credential.get("proof")?;
    let first = match proof {
        Node::Array(list) => list.first()?,
        other => other,
    };
    first.get("created")?.as_str().map(str::to_string)
}
