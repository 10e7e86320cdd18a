//! A person's account as the rest of the program sees it: who they are, what they show at
//! the top of their resume, and a signed-in browser's session. The password hash is not
//! here: only `store::users` and `services::accounts` ever hold it.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub verified: bool,
    pub profile: Profile,
    /// A job seeker's account, or an employer's viewer account.
    pub kind: AccountKind,
    /// A viewer's organisation (the employer they view resumes for).
    pub organisation: Option<String>,
}

impl User {
    pub fn is_viewer(&self) -> bool {
        self.kind == AccountKind::Viewer
    }

    /// The name as written: given, additional and family names (a viewer's name, as typed,
    /// is its given name).
    pub fn name(&self) -> String {
        let profile = &self.profile;
        [
            &profile.given_name,
            &profile.additional_name,
            &profile.family_name,
        ]
        .iter()
        .filter_map(|p| p.as_deref())
        .collect::<Vec<_>>()
        .join(" ")
    }
}

/// Who an account is for. A job seeker builds a resume; a viewer (an employer, with a free
/// account made from a shared resume) opens the verification details of the credentials on
/// resumes shared with them, and has no resume, inbox or claim of their own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccountKind {
    #[default]
    Person,
    Viewer,
}

impl AccountKind {
    /// The stored key (`users.kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Person => "person",
            AccountKind::Viewer => "viewer",
        }
    }

    /// An unknown key reads as a job seeker's account: the kind with no extra rights over
    /// anyone else's resume.
    pub fn parse(text: &str) -> AccountKind {
        match text {
            "viewer" => AccountKind::Viewer,
            _ => AccountKind::Person,
        }
    }
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
