//! The resume builder page and its forms.

use super::accounts::FieldView;
use super::accounts::NoFields;
use super::error::PageError;
use super::visitor::{CsrfForm, SignedInVisitor, Visitor, bounded, text};
use super::{Nav, message_for, render, sent_by, to_login, verification_badge, web_link};
use crate::domain::account::Profile;
use crate::domain::dates;
use crate::domain::resume::{Entry, OwnEntry, ResumeSkill, SkillEditRefusal};
use crate::domain::sections::Section;
use crate::domain::skills::SkillLevel;
use crate::forms::{FieldError, FormErrors};
use crate::http::AppState;
use crate::services::resume::{self, EntryAction};
use crate::services::sharing;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub struct EntryView {
    pub id: String,
    pub title: String,
    pub organisation: Option<String>,
    pub date: Option<String>,
    pub description: Option<String>,
    pub hidden: bool,
    pub from_partner: bool,
    pub revoked: bool,
    pub verification_class: &'static str,
    pub verification_label: &'static str,
    /// What the last check of the proofs found and on which day (partner credentials).
    pub verification_reason: Option<String>,
    pub checked_on: Option<String>,
    /// The partner that sent it, when the proof does not establish the issuer's name.
    pub sent_by: Option<String>,
}

pub struct SectionView {
    pub title: &'static str,
    pub entries: Vec<EntryView>,
}

pub struct SkillView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub level: Option<String>,
    pub category: String,
    pub verified: bool,
    /// The pill's class and words: its carrier's state, as credentials show theirs
    /// ("signature verified", "verified by the partner").
    pub verified_class: &'static str,
    pub verified_label: &'static str,
    pub verified_by: String,
    pub verified_on: Option<String>,
    /// The evidence as a link, when the partner sent a web address ...
    pub evidence_url: Option<String>,
    /// ... and as text when it sent anything else.
    pub evidence_text: Option<String>,
    /// The partner that sent it, when the carrier's proof does not establish `verified_by`.
    pub sent_by: Option<String>,
    pub hidden: bool,
    pub revoked: bool,
}

pub struct ResumeView {
    pub name: String,
    pub email: String,
    pub headline: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub summary: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub additional_name: String,
    pub phone_value: String,
    pub address_value: String,
    pub headline_value: String,
    pub summary_value: String,
    pub skills: Vec<SkillView>,
    pub sections: Vec<SectionView>,
    /// The day the person's current share link was made, if they have one.
    pub shared_since: Option<String>,
}

#[derive(Template)]
#[template(path = "resume.html")]
pub struct ResumePage {
    pub nav: Nav,
    pub notice: Option<String>,
    pub csrf: String,
    pub resume: ResumeView,
    pub levels: Vec<&'static str>,
    pub placeable: Vec<&'static str>,
    /// The person's share link while it works (shown again, with a copy button).
    pub share_link: Option<String>,
    /// The add-entry form: empty, or as sent with what was wrong.
    pub entry: EntryForm,
    /// "Share To My Wallet": the wallets offered, and the person's latest pushes.
    pub wallets: super::wallet::WalletSection,
    /// Who viewed the share link, while the person has one.
    pub views: Option<super::viewer::ShareViewsView>,
}

/// The add-entry form as the page shows it.
pub struct EntryForm {
    section: String,
    organisation: String,
    start: String,
    end: String,
    description: String,
    title: FieldView,
    errors: FormErrors,
}

impl EntryForm {
    fn new(sent: &EntryFields, errors: &[FieldError]) -> EntryForm {
        let errors = FormErrors::new(errors, &["section", "title"]);
        let title = FieldView::new("title", "Title", "text", &sent.title, "off", true, &errors);
        EntryForm {
            section: sent.section.clone(),
            organisation: sent.organisation.clone(),
            start: sent.start.clone(),
            end: sent.end.clone(),
            description: sent.description.clone(),
            title: title.at_most(200),
            errors,
        }
    }
}

impl Default for EntryForm {
    fn default() -> EntryForm {
        EntryForm::new(&EntryFields::default(), &[])
    }
}

fn entry_view(entry: Entry) -> EntryView {
    let state = entry.verification.as_deref().unwrap_or("none");
    let (verification_class, verification_label) = verification_badge(state);
    let sent_by = entry
        .partner_name
        .as_deref()
        .filter(|_| entry.from_partner)
        .and_then(|partner| sent_by(state, partner));
    EntryView {
        sent_by,
        id: entry.id,
        title: entry.title,
        organisation: entry.organisation,
        date: entry.date.as_deref().map(dates::range_in_words),
        description: entry.description,
        hidden: entry.hidden,
        from_partner: entry.from_partner,
        revoked: entry.revoked,
        verification_class,
        verification_label,
        verification_reason: entry.verification_reason,
        checked_on: entry.verification_checked_at.map(dates::day_in_words),
    }
}

/// Titles the issuer gave in several languages, in the first of `languages` they have.
pub fn localize(entries: &mut [Entry], languages: &[String]) {
    for entry in entries {
        if entry.name_languages.is_some() {
            entry.title = crate::domain::language_tagged::choose(
                &entry.title,
                entry.name_languages.as_deref(),
                languages,
            );
        }
    }
}

fn skill_view(skill: ResumeSkill) -> SkillView {
    let (verified_class, verified_label) = verification_badge(&skill.carrier_verification);
    // A skill counts as verified only while its carrier vouches for it.
    let vouched = matches!(verified_class, "verified" | "attested");
    SkillView {
        sent_by: sent_by(&skill.carrier_verification, &skill.partner_name),
        verified_class,
        verified_label,
        id: skill.id,
        name: skill.name,
        description: skill.description,
        level: skill.level,
        category: skill.category,
        verified: skill.verified && vouched && !skill.revoked,
        verified_by: skill.verified_by.unwrap_or_else(|| "the issuer".into()),
        verified_on: skill
            .verified_on
            .as_deref()
            .map(dates::written_day_in_words),
        evidence_url: skill.evidence_url.as_deref().and_then(web_link),
        evidence_text: skill.evidence_url.filter(|url| web_link(url).is_none()),
        hidden: skill.hidden,
        revoked: skill.revoked,
    }
}

/// Builds the page's data: sections in resume order, each entry in date order.
pub fn view(resume: resume::Resume) -> ResumeView {
    let profile = &resume.user.profile;
    let name = resume.user.name();
    let mut entries = resume.entries;
    let mut sections = Vec::new();
    for section in Section::PLACEABLE.into_iter().chain([Section::Unassigned]) {
        let (these, rest): (Vec<Entry>, Vec<Entry>) =
            entries.into_iter().partition(|e| e.section == section);
        entries = rest;
        if !these.is_empty() {
            let title = if section == Section::Unassigned {
                "Other credentials"
            } else {
                section.title()
            };
            sections.push(SectionView {
                title,
                entries: these.into_iter().map(entry_view).collect(),
            });
        }
    }
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    ResumeView {
        name: if name.is_empty() {
            resume.user.email.clone()
        } else {
            name
        },
        email: resume.user.email.clone(),
        headline: profile.headline.clone(),
        phone: profile.phone.clone(),
        address: profile.address.clone(),
        summary: profile.summary.clone(),
        given_name: value(&profile.given_name),
        family_name: value(&profile.family_name),
        additional_name: value(&profile.additional_name),
        phone_value: value(&profile.phone),
        address_value: value(&profile.address),
        headline_value: value(&profile.headline),
        summary_value: value(&profile.summary),
        skills: resume.skills.into_iter().map(skill_view).collect(),
        sections,
        shared_since: resume.shared_since.map(dates::day_in_words),
    }
}

/// The resume as whoever holds its share link sees it: what the person hid and what the
/// issuer revoked are left out.
pub fn shared_view(mut resume: resume::Resume) -> ResumeView {
    resume.entries.retain(Entry::is_shown);
    resume.skills.retain(ResumeSkill::is_shown);
    view(resume)
}

pub fn placeable_titles() -> Vec<&'static str> {
    Section::PLACEABLE.iter().map(|s| s.title()).collect()
}

#[derive(Deserialize)]
pub struct Notice {
    added: Option<usize>,
    welcome: Option<u8>,
    done: Option<String>,
}

fn notice_text(notice: &Notice) -> Option<String> {
    if let Some(added) = notice.added {
        return Some(match added {
            0 => "Nothing new was added: those items were already on your resume.".into(),
            1 => "1 item was added to your resume.".into(),
            n => format!("{n} items were added to your resume."),
        });
    }
    if notice.welcome.is_some() {
        return Some("Your email is confirmed. Welcome to your SmartResume.".into());
    }
    let text = match notice.done.as_deref()? {
        "hidden" => "Hidden from your resume. You can show it again at any time.",
        "shown" => "Shown on your resume again.",
        "deleted" => "Deleted from your resume.",
        "added" => "Your entry was added.",
        "saved" => "Saved.",
        "level" => "The level was saved.",
        "unshared" => "Your share link no longer works. Make a new one whenever you like.",
        _ => return None,
    };
    Some(text.to_string())
}

pub async fn page(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    let notice = notice_text(&notice);
    resume_page(&state, &visitor, &user.id, notice, EntryForm::default()).await
}

/// The resume page: `notice` says what was just done; `entry` is the add-entry form, as sent
/// when adding failed (the page then answers 422).
async fn resume_page(
    state: &AppState,
    visitor: &Visitor,
    user_id: &str,
    notice: Option<String>,
    entry: EntryForm,
) -> Result<Response, PageError> {
    let Some(mut loaded) = resume::load(&state.app, user_id).await? else {
        return Ok(to_login("/resume"));
    };
    let (share_link, views) = match loaded.shared_since {
        Some(_) => (
            sharing::current(&state.app, user_id).await?,
            Some(super::viewer::ShareViewsView::of(
                crate::services::viewers::views(&state.app, user_id).await?,
            )),
        ),
        None => (None, None),
    };
    localize(&mut loaded.entries, &visitor.languages);
    let mut nav = Nav::of(visitor);
    nav.inbox = loaded.inbox;
    let status = if entry.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ResumePage {
        nav,
        notice,
        csrf: visitor.csrf(),
        resume: view(loaded),
        levels: SkillLevel::ALL.iter().map(|l| l.as_str()).collect(),
        placeable: placeable_titles(),
        share_link: share_link.map(|token| super::sharing::link(state, &token)),
        entry,
        wallets: super::wallet::WalletSection::of(&state.app, user_id).await?,
        views,
    };
    // "Share To My Wallet" answers with a redirect to the wallet's landing page.
    let landing = page.wallets.landing_urls.clone();
    let response = (status, render(&page)).into_response();
    Ok(visitor.finish(super::form_redirects_to(
        response,
        landing.iter().map(String::as_str),
    )))
}

/// The contact details and summary form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ContactFields {
    given_name: String,
    family_name: String,
    additional_name: String,
    phone: String,
    address: String,
    headline: String,
    summary: String,
}

pub async fn contact(
    State(state): State<AppState>,
    SignedInVisitor(_, user): SignedInVisitor,
    CsrfForm(form): CsrfForm<ContactFields>,
) -> Result<Response, PageError> {
    let profile = Profile {
        given_name: bounded(&form.given_name, 100),
        family_name: bounded(&form.family_name, 100),
        additional_name: bounded(&form.additional_name, 100),
        phone: bounded(&form.phone, 40),
        address: bounded(&form.address, 300),
        headline: bounded(&form.headline, 120),
        summary: bounded(&form.summary, 2000),
    };
    resume::update_profile(&state.app, &user.id, profile).await?;
    Ok(Redirect::to("/resume?done=saved").into_response())
}

/// A self-reported entry, as typed.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EntryFields {
    section: String,
    title: String,
    organisation: String,
    start: String,
    end: String,
    description: String,
}

pub async fn add_entry(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    CsrfForm(form): CsrfForm<EntryFields>,
) -> Result<Response, PageError> {
    match form.entry() {
        Ok(entry) => {
            resume::add_own_entry(&state.app, &user.id, entry).await?;
            Ok(Redirect::to("/resume?done=added").into_response())
        }
        Err(why) => {
            let sent = EntryForm::new(&form, &[why]);
            resume_page(&state, &visitor, &user.id, None, sent).await
        }
    }
}

impl EntryFields {
    /// The entry, within bounds, or why it cannot be added.
    fn entry(&self) -> Result<OwnEntry, FieldError> {
        let (section, title) = resume::check_own_entry(&self.section, bounded(&self.title, 201))?;
        Ok(OwnEntry {
            section,
            title,
            organisation: bounded(&self.organisation, 200),
            start: bounded(&self.start, 40),
            end: bounded(&self.end, 40),
            description: bounded(&self.description, 4000),
        })
    }
}

/// A message with the way back to the resume.
fn back_to_resume(visitor: &Visitor, status: StatusCode, title: &str, why: &str) -> Response {
    message_for(
        visitor,
        status,
        title,
        &[why],
        Some(("/resume", "Back to my resume")),
    )
}

fn not_yours(visitor: &Visitor) -> Response {
    back_to_resume(
        visitor,
        StatusCode::NOT_FOUND,
        "That is not on your resume",
        "Nothing was changed.",
    )
}

pub async fn entry_action(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Path((id, action)): Path<(String, String)>,
    _: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let (action, done) = match action.as_str() {
        "hide" => (EntryAction::Hide, "hidden"),
        "unhide" => (EntryAction::Show, "shown"),
        "delete" => (EntryAction::Delete, "deleted"),
        _ => return Ok(not_yours(&visitor)),
    };
    if !resume::entry_action(&state.app, &user.id, &id, action).await? {
        return Ok(not_yours(&visitor));
    }
    // A deleted entry has no place on the page to come back to.
    let anchor = if action == EntryAction::Delete {
        String::new()
    } else {
        format!("#entry-{id}")
    };
    Ok(Redirect::to(&format!("/resume?done={done}{anchor}")).into_response())
}

/// `POST /resume/entries/{id}/delete` (the confirmation page's form).
pub async fn delete_entry(
    state: State<AppState>,
    visitor: SignedInVisitor,
    Path(id): Path<String>,
    form: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    entry_action(state, visitor, Path((id, "delete".to_string())), form).await
}

/// "Delete … from your resume?": the page between the Delete link and the deletion, for
/// entries and skills alike.
#[derive(Template)]
#[template(path = "confirm_delete.html")]
struct ConfirmDelete {
    nav: Nav,
    csrf: String,
    /// Where the confirming form posts.
    action: String,
    title: String,
    from_partner: bool,
}

pub async fn confirm_delete(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    Ok(match resume::entry(&state.app, &user.id, &id).await? {
        Some(entry) => visitor.finish(render(&ConfirmDelete {
            nav: Nav::of(&visitor),
            csrf: visitor.csrf(),
            action: format!("/resume/entries/{}/delete", entry.id),
            title: entry.title,
            from_partner: entry.from_partner,
        })),
        None => not_yours(&visitor),
    })
}

/// `GET /resume/skills/{id}/delete`: the confirmation (every skill comes from a partner).
pub async fn confirm_delete_skill(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    Ok(match resume::skill(&state.app, &user.id, &id).await? {
        Some(skill) => visitor.finish(render(&ConfirmDelete {
            nav: Nav::of(&visitor),
            csrf: visitor.csrf(),
            action: format!("/resume/skills/{}/delete", skill.id),
            title: skill.name,
            from_partner: true,
        })),
        None => not_yours(&visitor),
    })
}

/// `POST /resume/skills/{id}/delete` (the confirmation page's form).
pub async fn delete_skill(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Path(id): Path<String>,
    _: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    Ok(if resume::delete_skill(&state.app, &user.id, &id).await? {
        Redirect::to("/resume?done=deleted").into_response()
    } else {
        not_yours(&visitor)
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LevelField {
    level: String,
}

pub async fn skill_action(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<LevelField>,
) -> Result<Response, PageError> {
    let (app, user) = (&state.app, &user.id);
    let outcome = match action.as_str() {
        "hide" | "unhide" => set_hidden(app, user, &id, action == "hide").await?,
        "level" => match form.level() {
            Ok(level) => resume::set_skill_level(app, user, &id, level)
                .await?
                .map(|()| "level"),
            Err(why) => return Ok(level_refused(&visitor, &why)),
        },
        _ => Err(SkillEditRefusal::NotFound),
    };
    Ok(match outcome {
        Ok(done) => Redirect::to(&format!("/resume?done={done}#skill-{id}")).into_response(),
        Err(SkillEditRefusal::NotFound) => not_yours(&visitor),
        Err(SkillEditRefusal::Verified) => verified_skill(&visitor),
    })
}

impl LevelField {
    /// The level chosen; none clears it.
    fn level(&self) -> Result<Option<SkillLevel>, String> {
        text(&self.level).map(|l| SkillLevel::parse(&l)).transpose()
    }
}

fn level_refused(visitor: &Visitor, why: &str) -> Response {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    back_to_resume(visitor, status, "The level was not saved", why)
}

fn verified_skill(visitor: &Visitor) -> Response {
    back_to_resume(
        visitor,
        StatusCode::FORBIDDEN,
        "Verified skills cannot be edited",
        "This skill was verified by its issuer, so nothing about it can be changed. You can hide it from your resume.",
    )
}

/// Hides or shows a skill: done, or the skill is not the person's.
async fn set_hidden(
    app: &crate::services::App,
    user: &str,
    id: &str,
    hide: bool,
) -> Result<Result<&'static str, SkillEditRefusal>, crate::store::StoreError> {
    if !resume::set_skill_hidden(app, user, id, hide).await? {
        return Ok(Err(SkillEditRefusal::NotFound));
    }
    Ok(Ok(if hide { "hidden" } else { "shown" }))
}
