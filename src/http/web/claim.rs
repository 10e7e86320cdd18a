//! The claim link (`/createmyresume/{token}`, also opened by the one-time links the
//! activation page mails) and the import inbox.

use super::accounts::{SignupForm, SignupValues, login_href};
use super::visitor::{FormData, Visitor};
use super::{
    Nav, csrf_refused, message_for, render, sent_by, to_login, unavailable, verification_badge,
};
use crate::clock;
use crate::domain::package::Recipient;
use crate::http::AppState;
use crate::services::claims::{self, ClaimPage};
use crate::store::resume::{ClaimRefusal, Claimed, OfferedSkill, PackageContents};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

pub struct OfferedCredentialView {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub section: &'static str,
    pub awarded: Option<String>,
    pub description: Option<String>,
    pub verification_class: &'static str,
    pub verification_label: &'static str,
    /// What was checked, in the verifier's words.
    pub verification_reason: String,
    /// The partner that sent it, when the proof does not establish the issuer's name.
    pub sent_by: Option<String>,
    pub taken: bool,
    pub revoked: bool,
}

/// A package as a list to choose from.
pub struct OfferView {
    pub package_id: String,
    pub partner: String,
    pub expires: String,
    pub selectable: bool,
    pub credentials: Vec<OfferedCredentialView>,
    /// (Beside a skill's `verified_by`, the page names `partner` unless the carrier's
    /// proof was checked, as [`sent_by`] decides for credentials.)
    pub skills: Vec<OfferedSkill>,
}

impl OfferView {
    fn of(contents: PackageContents, selectable: bool) -> OfferView {
        let partner = contents.partner_name;
        OfferView {
            package_id: contents.id,
            expires: clock::rfc3339(contents.expires_at)
                .replace('T', " ")
                .replace('Z', " UTC"),
            selectable,
            credentials: contents
                .credentials
                .into_iter()
                .map(|c| {
                    let (verification_class, verification_label) =
                        verification_badge(&c.verification);
                    OfferedCredentialView {
                        sent_by: sent_by(&c.verification, &partner),
                        id: c.id,
                        name: c.name,
                        issuer: c.issuer,
                        section: c.section.title(),
                        awarded: c.awarded,
                        description: c.description,
                        verification_class,
                        verification_label,
                        verification_reason: c.verification_reason,
                        taken: c.taken,
                        revoked: c.revoked,
                    }
                })
                .collect(),
            skills: contents.skills,
            partner,
        }
    }
}

#[derive(Template)]
#[template(path = "claim.html")]
struct ClaimTemplate {
    nav: Nav,
    offer: OfferView,
    signup: Option<SignupForm>,
    login_href: String,
    csrf: String,
    action: String,
    /// A one-time link from the activation page: it works for one claim or sign-up.
    one_time: bool,
}

fn recipient_values(recipient: &Recipient) -> SignupValues {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let address = match &recipient.address {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Object(parts)) => [
            "streetAddress",
            "addressLocality",
            "addressRegion",
            "postalCode",
            "addressCountry",
        ]
        .iter()
        .filter_map(|k| parts.get(*k).and_then(|v| v.as_str()))
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(", "),
        _ => String::new(),
    };
    SignupValues {
        given_name: text(&recipient.given_name),
        family_name: text(&recipient.family_name),
        additional_name: text(&recipient.additional_name),
        email: text(&recipient.email),
        phone: text(&recipient.phone),
        address,
    }
}

fn link_not_valid(visitor: &Visitor) -> Response {
    message_for(
        visitor,
        StatusCode::NOT_FOUND,
        "This link is not valid",
        &[
            "It may have expired or been mistyped. Ask the organisation that sent it for a new one.",
            "A link we emailed after a search for your credentials works once, for 24 hours: search again on the organisation's page for a new one.",
        ],
        None,
    )
}

fn taken_by_other(visitor: &Visitor) -> Response {
    message_for(
        visitor,
        StatusCode::GONE,
        "These credentials are already on another resume",
        &[
            "Someone has already added the credentials from this link to their SmartResume. If they are yours, contact the organisation that issued them.",
        ],
        None,
    )
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Response {
    let viewer = visitor.user().map(|u| u.id.clone());
    claims::recheck(&state.app, &token).await;
    let opened = match claims::open(&state.app, &token, viewer.as_deref()).await {
        Ok(opened) => opened,
        Err(_) => return unavailable(),
    };
    let (contents, one_time) = match opened {
        ClaimPage::NotFound => return link_not_valid(&visitor),
        ClaimPage::TakenByOther => return taken_by_other(&visitor),
        ClaimPage::Yours => return Redirect::to("/resume").into_response(),
        ClaimPage::Open { contents, one_time } => (*contents, one_time),
    };
    let mut contents = contents;
    for credential in &mut contents.credentials {
        if credential.name_languages.is_some() {
            credential.name = crate::domain::language_tagged::choose(
                &credential.name,
                credential.name_languages.as_deref(),
                &visitor.languages,
            );
        }
    }
    let signed_in = visitor.signed_in.is_some();
    let signup = (!signed_in).then(|| {
        let values = recipient_values(&contents.recipient);
        SignupForm::new(visitor.csrf(), Some(token.clone()), &values, &[])
    });
    let page = ClaimTemplate {
        nav: Nav::of(&visitor),
        offer: OfferView::of(contents, signed_in),
        signup,
        login_href: login_href(Some(&token)),
        csrf: visitor.csrf(),
        action: format!("/createmyresume/{token}"),
        one_time,
    };
    visitor.finish(render(&page))
}

fn claimed(visitor: &Visitor, outcome: Result<Claimed, ClaimRefusal>) -> Response {
    match outcome {
        Ok(claimed) if claimed.taken.is_empty() => {
            Redirect::to(&format!("/resume?added={}", claimed.added)).into_response()
        }
        Ok(claimed) => {
            let taken = format!(
                "Not added, because they are already on another resume: {}.",
                claimed.taken.join(", ")
            );
            let added = format!("{} item(s) were added to your resume.", claimed.added);
            message_for(
                visitor,
                StatusCode::OK,
                "Some items were not added",
                &[&added, &taken],
                Some(("/resume", "Open my resume")),
            )
        }
        Err(ClaimRefusal::NotYours) => taken_by_other(visitor),
        Err(ClaimRefusal::Expired) => link_not_valid(visitor),
    }
}

pub async fn claim(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
    form: FormData,
) -> Response {
    let Some(signed_in) = &visitor.signed_in else {
        return to_login(&format!("/createmyresume/{token}"));
    };
    if !visitor.csrf_ok(&form) {
        return csrf_refused(&visitor);
    }
    match claims::claim_link(
        &state.app,
        &token,
        &signed_in.user.id,
        form.all("credential"),
        form.all("skill"),
    )
    .await
    {
        Ok(outcome) => claimed(&visitor, outcome),
        Err(_) => unavailable(),
    }
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxTemplate {
    nav: Nav,
    csrf: String,
    packages: Vec<OfferView>,
}

pub async fn inbox(State(state): State<AppState>, visitor: Visitor) -> Response {
    let Some(signed_in) = &visitor.signed_in else {
        return to_login("/inbox");
    };
    let packages = match claims::inbox(&state.app, &signed_in.user.id).await {
        Ok(packages) => packages,
        Err(_) => return unavailable(),
    };
    let mut nav = Nav::of(&visitor);
    nav.inbox = packages.len();
    let page = InboxTemplate {
        nav,
        csrf: visitor.csrf(),
        packages: packages
            .into_iter()
            .map(|p| OfferView::of(p, true))
            .collect(),
    };
    visitor.finish(render(&page))
}

pub async fn inbox_claim(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(package): Path<String>,
    form: FormData,
) -> Response {
    let Some(signed_in) = &visitor.signed_in else {
        return to_login("/inbox");
    };
    if !visitor.csrf_ok(&form) {
        return csrf_refused(&visitor);
    }
    match claims::claim_from_inbox(
        &state.app,
        &package,
        &signed_in.user.id,
        form.all("credential"),
        form.all("skill"),
    )
    .await
    {
        Ok(Err(ClaimRefusal::NotYours)) => message_for(
            &visitor,
            StatusCode::NOT_FOUND,
            "Nothing to add",
            &["This delivery is not in your inbox any more."],
            Some(("/inbox", "Back to the inbox")),
        ),
        Ok(outcome) => claimed(&visitor, outcome),
        Err(_) => unavailable(),
    }
}

pub async fn inbox_dismiss(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(package): Path<String>,
    form: FormData,
) -> Response {
    let Some(signed_in) = &visitor.signed_in else {
        return to_login("/inbox");
    };
    if !visitor.csrf_ok(&form) {
        return csrf_refused(&visitor);
    }
    match claims::dismiss(&state.app, &package, &signed_in.user.id).await {
        Ok(_) => Redirect::to("/inbox").into_response(),
        Err(_) => unavailable(),
    }
}
