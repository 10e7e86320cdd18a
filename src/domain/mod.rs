//! Pure types and rules: the package reader, sections, SkillSync, dates, verification
//! states, the activation page's lookup keys, email addresses, the tokens that open a claim
//! page and what a logo may be. Nothing here does I/O or imports the web, database or
//! runtime crates.

pub mod account;
pub mod activation;
pub mod audit;
pub mod claim_token;
pub mod dates;
pub mod email;
pub mod json_tree;
pub mod jws;
pub mod language_tagged;
pub mod lenient_json;
pub mod logo;
pub mod marketplace;
pub mod offer;
pub mod package;
pub mod partner;
pub mod resume;
pub mod scopes;
pub mod second_factor;
pub mod sections;
pub mod skills;
pub mod verification;
pub mod viewing;
pub mod wallet;
