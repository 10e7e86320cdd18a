//! The resume builder: what the person sees and the edits they may make.

use super::App;
use crate::domain::account::{Profile, User};
use crate::domain::resume::{Entry, OwnEntry, ResumeSkill, SkillEditRefusal};
use crate::domain::sections::Section;
use crate::domain::skills::SkillLevel;
use crate::forms::FieldError;
use crate::store::StoreError;
use crate::store::resume;
use crate::store::sharing;
use crate::store::users;

/// Everything on one person's resume.
#[derive(Debug, Clone)]
pub struct Resume {
    pub user: User,
    pub entries: Vec<Entry>,
    pub skills: Vec<ResumeSkill>,
    pub inbox: usize,
    /// When the person's current share link was made, if they have one.
    pub shared_since: Option<i64>,
}

pub async fn load(app: &App, user_id: &str) -> Result<Option<Resume>, StoreError> {
    let user_id = user_id.to_string();
    app.store
        .read(move |conn| {
            let Some(user) = users::by_id(conn, &user_id)? else {
                return Ok(None);
            };
            Ok(Some(Resume {
                entries: resume::entries(conn, &user_id)?,
                skills: resume::skills(conn, &user_id)?,
                inbox: resume::inbox(conn, &user_id)?.len(),
                shared_since: sharing::made_at(conn, &user_id)?,
                user,
            }))
        })
        .await
}

pub async fn update_profile(app: &App, user_id: &str, profile: Profile) -> Result<(), StoreError> {
    let now = app.clock.now_ms();
    let user_id = user_id.to_string();
    app.store
        .write(move |conn| users::update_profile(conn, &user_id, &profile, now))
        .await
}

/// Hides, shows or deletes an entry; false when it is not the person's.
pub async fn entry_action(
    app: &App,
    user_id: &str,
    entry_id: &str,
    action: EntryAction,
) -> Result<bool, StoreError> {
    let now = app.clock.now_ms();
    let (user, entry) = (user_id.to_string(), entry_id.to_string());
    app.store
        .write(move |conn| match action {
            EntryAction::Hide => resume::set_entry_hidden(conn, &user, &entry, true, now),
            EntryAction::Show => resume::set_entry_hidden(conn, &user, &entry, false, now),
            EntryAction::Delete => resume::delete_entry(conn, &user, &entry),
        })
        .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryAction {
    Hide,
    Show,
    Delete,
}

pub async fn entry(app: &App, user_id: &str, entry_id: &str) -> Result<Option<Entry>, StoreError> {
    let (user, entry) = (user_id.to_string(), entry_id.to_string());
    app.store
        .read(move |conn| resume::entry(conn, &user, &entry))
        .await
}

/// Why an own entry was refused.
pub fn check_own_entry(
    section: &str,
    title: Option<String>,
) -> Result<(Section, String), FieldError> {
    let section: Section = section
        .parse()
        .map_err(|_| FieldError::new("section", "choose one of the sections listed"))?;
    if section == Section::Unassigned {
        return Err(FieldError::new(
            "section",
            "choose one of the sections listed",
        ));
    }
    let title = title.ok_or_else(|| FieldError::new("title", "give the entry a title"))?;
    if title.chars().count() > 200 {
        return Err(FieldError::new(
            "title",
            "keep the title under 200 characters",
        ));
    }
    Ok((section, title))
}

pub async fn add_own_entry(app: &App, user_id: &str, entry: OwnEntry) -> Result<(), StoreError> {
    let now = app.clock.now_ms();
    let user = user_id.to_string();
    app.store
        .write(move |conn| resume::add_own_entry(conn, &user, &entry, now))
        .await
}

/// Changes the level of an unverified skill (`None` clears it).
pub async fn set_skill_level(
    app: &App,
    user_id: &str,
    skill_id: &str,
    level: Option<SkillLevel>,
) -> Result<Result<(), SkillEditRefusal>, StoreError> {
    let (user, skill) = (user_id.to_string(), skill_id.to_string());
    app.store
        .write(move |conn| {
            resume::set_skill_level(conn, &user, &skill, level.map(SkillLevel::as_str))
        })
        .await
}

/// One skill on the person's resume, by id (for the delete confirmation).
pub async fn skill(
    app: &App,
    user_id: &str,
    skill_id: &str,
) -> Result<Option<ResumeSkill>, StoreError> {
    let (user, skill) = (user_id.to_string(), skill_id.to_string());
    app.store
        .read(move |conn| {
            Ok(resume::skills(conn, &user)?
                .into_iter()
                .find(|s| s.id == skill))
        })
        .await
}

pub async fn delete_skill(app: &App, user_id: &str, skill_id: &str) -> Result<bool, StoreError> {
    let (user, skill) = (user_id.to_string(), skill_id.to_string());
    app.store
        .write(move |conn| resume::delete_skill(conn, &user, &skill))
        .await
}

pub async fn set_skill_hidden(
    app: &App,
    user_id: &str,
    skill_id: &str,
    hidden: bool,
) -> Result<bool, StoreError> {
    let (user, skill) = (user_id.to_string(), skill_id.to_string());
    app.store
        .write(move |conn| resume::set_skill_hidden(conn, &user, &skill, hidden))
        .await
}
