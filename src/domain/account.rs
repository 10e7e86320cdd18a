//! A person's account as the rest of the program sees it: who they are, what they show at
//! the top of their resume, and a signed-in browser's session. The password hash is not
//! here: only `store::users` and `services::accounts` ever hold it.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub verified: bool,
    pub profile: Profile,
}

/// What the person shows at the top of their resume.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub additional_name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub headline: Option<String>,
    pub summary: Option<String>,
}

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub csrf_token: String,
    pub last_seen_at: i64,
    /// When this session passed an admin's second factor (admin accounts only).
    pub second_factor_at: Option<i64>,
}
