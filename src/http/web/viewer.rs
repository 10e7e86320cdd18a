//! Employers on a shared resume: the viewer account's sign-up (from the resume, back to it
//! once the email is confirmed), each credential's verification details for a signed-in
//! viewer account, the viewer's own page, and what the person is shown of who viewed.

use super::accounts::FieldView;
use super::error::PageError;
use super::sharing::{no_resume, private};
use super::visitor::{CsrfForm, SignedInViewer, Visitor, bounded, text};
use super::{Nav, message_for, render, sent_by, verification_badge, web_link};
use crate::domain::dates;
use crate::domain::viewing::{self, CheckLine, CredentialDates, ShareViews};
use crate::forms::{FieldError, FormErrors};
use crate::http::AppState;
use crate::services::accounts::AccountError;
use crate::services::viewers::{self, Details, MAX_NAME, ViewerSignUp};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The viewer sign-up form's fields, top to bottom.
const SIGNUP_FIELDS: [&str; 4] = ["name", "organisation", "email", "password"];

#[derive(Template)]
#[template(path = "viewer_signup.html")]
struct SignupPage {
    nav: Nav,
    errors: FormErrors,
    fields: Vec<FieldView>,
    csrf: String,
    /// The shared resume's address, where the form is sent and the viewer returns.
    share: String,
}

/// The form as typed (or empty), with what was wrong.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignupFields {
    name: String,
    organisation: String,
    email: String,
    password: String,
}

impl SignupFields {
    fn request(self) -> ViewerSignUp {
        ViewerSignUp {
            name: bounded(&self.name, MAX_NAME),
            organisation: bounded(&self.organisation, MAX_NAME),
            email: text(&self.email).unwrap_or_default(),
            password: self.password,
        }
    }
}

fn signup_page(
    visitor: &Visitor,
    token: &str,
    values: &SignupFields,
    errors: &[FieldError],
) -> SignupPage {
    let errors = FormErrors::new(errors, &SIGNUP_FIELDS);
    let field = |name, label, kind, value: &str, autocomplete| {
        FieldView::new(name, label, kind, value.trim(), autocomplete, true, &errors)
    };
    SignupPage {
        nav: Nav::of(visitor),
        fields: vec![
            field("name", "Your name", "text", &values.name, "name").at_most(MAX_NAME),
            field(
                "organisation",
                "Organisation",
                "text",
                &values.organisation,
                "organization",
            )
            .at_most(MAX_NAME),
            field("email", "Work email", "email", &values.email, "email"),
            field(
                "password",
                "Password (8 to 128 characters)",
                "password",
                "",
                "new-password",
            ),
        ],
        errors,
        csrf: visitor.csrf(),
        share: format!("/r/{token}"),
    }
}

/// `GET /r/{token}/signup`: a free viewer account, offered on a shared resume.
pub async fn signup_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    if !viewers::link_works(&state.app, &token).await? {
        return Ok(no_resume());
    }
    if visitor.signed_in.is_some() {
        return Ok(Redirect::to(&format!("/r/{token}")).into_response());
    }
    let page = signup_page(&visitor, &token, &SignupFields::default(), &[]);
    Ok(private(visitor.finish(render(&page))))
}

/// `POST /r/{token}/signup`: makes the viewer account and mails its confirmation link,
/// which leads back to this resume.
pub async fn signup(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
    CsrfForm(form): CsrfForm<SignupFields>,
) -> Result<Response, PageError> {
    let email = text(&form.email).unwrap_or_default().to_lowercase();
    let values = SignupFields {
        password: String::new(),
        name: form.name.clone(),
        organisation: form.organisation.clone(),
        email: form.email.clone(),
    };
    match viewers::sign_up(&state.app, &token, form.request(), &visitor.client).await {
        Ok(true) => Ok(private(message_for(
            &visitor,
            StatusCode::OK,
            "Check your email",
            &[
                &format!(
                    "We sent a message to {email}. Open the link in it to finish creating your viewer account: it brings you back to this resume."
                ),
                "Nothing arrived after a few minutes? Look in your spam folder, or go back to the resume and try again.",
            ],
            None,
        ))),
        Ok(false) => Ok(no_resume()),
        Err(AccountError::Invalid(errors)) => {
            let page = signup_page(&visitor, &token, &values, &errors);
            let response = (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response();
            Ok(private(visitor.finish(response)))
        }
        Err(AccountError::RateLimited) => Ok(message_for(
            &visitor,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            &["Please wait a few minutes before trying again."],
            None,
        )),
        Err(error) => Err(error.into()),
    }
}

#[derive(Template)]
#[template(path = "viewers_only.html")]
struct ViewersOnlyPage {
    nav: Nav,
    title: &'static str,
    paragraphs: Vec<String>,
    links: Vec<(String, &'static str)>,
}

/// `GET /r/{token}/credentials/{entry}`: one credential's verification details, for a
/// signed-in viewer account: its proof checked again now, every check with its outcome,
/// the dates, the evidence and the credential as it was sent.
pub async fn details(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((token, entry)): Path<(String, String)>,
) -> Result<Response, PageError> {
    if !viewers::link_works(&state.app, &token).await? {
        return Ok(no_resume());
    }
    let here = format!("/r/{token}/credentials/{entry}");
    let Some(user) = visitor.user().cloned() else {
        let page = ViewersOnlyPage {
            nav: Nav::of(&visitor),
            title: "Log in with a viewer account",
            paragraphs: vec![
                "A credential's verification details (who issued it, its dates, every check of its proof, its evidence and the original credential) are shown to employers with a free viewer account.".into(),
                "Create one in a minute, or log in if you have one: you come back here.".into(),
            ],
            links: vec![
                (format!("/r/{token}/signup"), "Create a free viewer account"),
                (format!("/login?next={here}"), "Log in"),
                (format!("/r/{token}"), "Back to the resume"),
            ],
        };
        let response = (StatusCode::UNAUTHORIZED, render(&page)).into_response();
        return Ok(private(visitor.finish(response)));
    };
    if !user.is_viewer() {
        let page = ViewersOnlyPage {
            nav: Nav::of(&visitor),
            title: "Only viewer accounts see credential details",
            paragraphs: vec![
                format!("You are logged in as {}, a job seeker's account. Verification details of the credentials on a shared resume are for employers, who view them with a free viewer account.", user.email),
                "Your own credentials' checks are on your resume. To view this resume as an employer, log out and create a viewer account.".into(),
            ],
            links: vec![
                ("/resume".into(), "Go to my resume"),
                (format!("/r/{token}"), "Back to the shared resume"),
            ],
        };
        let response = (StatusCode::FORBIDDEN, render(&page)).into_response();
        return Ok(private(visitor.finish(response)));
    }
    let found = match viewers::details(&state.app, &token, &user, &entry).await? {
        Details::NoLink => return Ok(no_resume()),
        Details::NotFound => {
            return Ok(private(message_for(
                &visitor,
                StatusCode::NOT_FOUND,
                "This credential is not on this resume",
                &["The address may be mistyped, or the person no longer shows this credential."],
                Some((&format!("/r/{token}"), "Back to the resume")),
            )));
        }
        Details::TooMany => {
            return Ok(private(message_for(
                &visitor,
                StatusCode::TOO_MANY_REQUESTS,
                "Too many credentials opened",
                &[
                    "Each credential's proof is checked again when you open it. Please wait a minute before opening more.",
                ],
                Some((&format!("/r/{token}"), "Back to the resume")),
            )));
        }
        Details::Found(details) => *details,
    };
    let page = DetailsPage::new(&visitor, &token, found);
    Ok(private(visitor.finish(render(&page))))
}

/// One piece of evidence as the page shows it.
pub struct EvidenceView {
    pub name: Option<String>,
    pub description: Option<String>,
    pub narrative: Option<String>,
    /// A web address to follow, or the text sent when it is not one.
    pub link: Option<String>,
    pub text: Option<String>,
}

#[derive(Template)]
#[template(path = "credential_details.html")]
struct DetailsPage {
    nav: Nav,
    share: String,
    owner_name: String,
    title: String,
    issuer: String,
    issuer_id: String,
    sent_by: Option<String>,
    dates: CredentialDates,
    evidence: Vec<EvidenceView>,
    state_class: &'static str,
    state_label: &'static str,
    reason: String,
    checks: Vec<CheckLine>,
    checked_at: String,
    original: String,
    jws: Option<String>,
}

impl DetailsPage {
    fn new(visitor: &Visitor, token: &str, details: viewing::CredentialDetails) -> DetailsPage {
        let (state_class, state_label) = verification_badge(details.state.as_str());
        DetailsPage {
            nav: Nav::of(visitor),
            share: format!("/r/{token}"),
            owner_name: details.owner_name,
            title: details.title,
            issuer: details
                .issuer_name
                .clone()
                .unwrap_or_else(|| details.issuer_id.clone()),
            issuer_id: details.issuer_id,
            sent_by: sent_by(details.state.as_str(), &details.partner_name),
            dates: details.dates,
            evidence: details
                .evidence
                .into_iter()
                .map(|e| {
                    let link = e.url.as_deref().and_then(web_link);
                    EvidenceView {
                        text: e.url.filter(|_| link.is_none()),
                        link,
                        name: e.name,
                        description: e.description,
                        narrative: e.narrative,
                    }
                })
                .collect(),
            state_class,
            state_label,
            reason: details.reason,
            checks: details.checks,
            checked_at: dates::moment_in_words(details.checked_at),
            original: details.original,
            jws: details.jws,
        }
    }
}

#[derive(Template)]
#[template(path = "viewer.html")]
struct ViewerPage {
    nav: Nav,
    notice: Option<&'static str>,
    name: String,
    organisation: Option<String>,
    email: String,
    /// (whose resume, last opened, its address)
    resumes: Vec<(String, String, String)>,
}

#[derive(Deserialize)]
pub struct Welcome {
    welcome: Option<u8>,
}

/// `GET /viewer`: the viewer account's own page: who it is, the resumes it opened lately
/// (while their links work), and signing out.
pub async fn home(
    State(state): State<AppState>,
    SignedInViewer(visitor, user): SignedInViewer,
    Query(welcome): Query<Welcome>,
) -> Result<Response, PageError> {
    let resumes = viewers::recent(&state.app, &user.id)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.name,
                dates::moment_in_words(r.last_opened_at),
                format!("/r/{}", r.token),
            )
        })
        .collect();
    let page = ViewerPage {
        nav: Nav::of(&visitor),
        notice: welcome
            .welcome
            .map(|_| "Your email is confirmed. Welcome to your viewer account."),
        name: user.name(),
        organisation: user.organisation.clone(),
        email: user.email.clone(),
        resumes,
    };
    Ok(private(visitor.finish(render(&page))))
}

/// Who viewed the person's share link, as `/resume` shows it.
pub struct ShareViewsView {
    pub total: i64,
    /// (day in words, views), newest first.
    pub days: Vec<(String, i64)>,
    pub viewers: Vec<ViewerOpenView>,
}

pub struct ViewerOpenView {
    pub name: String,
    pub organisation: Option<String>,
    /// "your resume", or the credential whose details were opened.
    pub what: String,
    pub first: String,
    pub last: String,
    pub opens: i64,
}

impl ShareViewsView {
    pub fn of(views: ShareViews) -> ShareViewsView {
        ShareViewsView {
            total: views.total(),
            days: views
                .days
                .iter()
                .map(|d| {
                    let day = dates::day_in_words(viewing::start_of_day(d.day));
                    (day, d.views)
                })
                .collect(),
            viewers: views
                .viewers
                .into_iter()
                .map(|v| ViewerOpenView {
                    name: v.viewer_name,
                    organisation: v.organisation,
                    what: v.credential.map_or_else(
                        || "your resume".to_string(),
                        |c| format!("the details of {c}"),
                    ),
                    first: dates::moment_in_words(v.first_opened_at),
                    last: dates::moment_in_words(v.last_opened_at),
                    opens: v.opens,
                })
                .collect(),
        }
    }
}
