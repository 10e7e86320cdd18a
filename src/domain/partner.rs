//! A partner (an API client: issuer, wallet, issuing platform) as the rest of the program
//! sees it. Its secret's digest stays in `store::partners`.

use super::scopes::Scopes;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub client_id: String,
    pub scopes: Scopes,
    pub unstable_ids: bool,
    pub strict: bool,
    pub disabled: bool,
    pub created_at: i64,
    /// Where `/import` sends a person to fetch their credentials from this partner (pull);
    /// `None`: the partner is not listed there.
    pub pull_url: Option<String>,
}
