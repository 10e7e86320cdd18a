//! The claim link (`/createmyresume/{token}`, also opened by the one-time links the
//! activation page mails) and the import inbox.

use super::accounts::{NoFields, SignupForm, SignupValues, login_href};
use super::error::PageError;
use super::logos::LogoView;
use super::visitor::{CsrfForm, SignedInVisitor, Visitor};
use super::{Nav, message_for, render, sent_by, verification_badge};
use crate::domain::dates;
use crate::domain::marketplace::Landing;
use crate::domain::offer::{ClaimRefusal, Claimed, OfferedSkill, PackageContents};
use crate::domain::package::Recipient;
use crate::domain::verification::VerificationState;
use crate::forms::FieldError;
use crate::http::AppState;
use crate::services::claims::{self, ClaimPage};
use crate::services::marketplaces::LandingView;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

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
    /// The address to confirm before anything can be chosen (`_recipient_gate.html`), and
    /// where its "email a code" form posts.
    pub unconfirmed_recipient: Option<String>,
    pub gate_action: String,
    pub credentials: Vec<OfferedCredentialView>,
    pub skills: Vec<OfferedSkillView>,
}

pub struct OfferedSkillView {
    pub id: String,
    pub name: String,
    pub category: String,
    pub level: Option<String>,
    pub verified: bool,
    pub verified_by: Option<String>,
    /// The partner that sent it, when the carrier's proof does not establish `verified_by`
    /// (as [`sent_by`] decides for credentials).
    pub sent_by: Option<String>,
    /// The proof of the credential that carried it failed: it is offered unticked.
    pub carrier_failed: bool,
    pub taken: bool,
}

impl OfferedSkillView {
    fn of(skill: OfferedSkill, partner: &str) -> OfferedSkillView {
        OfferedSkillView {
            sent_by: sent_by(&skill.carrier_verification, partner),
            carrier_failed: VerificationState::parse(&skill.carrier_verification)
                == Some(VerificationState::Failed),
            id: skill.id,
            name: skill.name,
            category: skill.category,
            level: skill.level,
            verified: skill.verified,
            verified_by: skill.verified_by,
            taken: skill.taken,
        }
    }
}

impl OfferView {
    pub(super) fn of(contents: PackageContents, selectable: bool) -> OfferView {
        let partner = contents.partner_name;
        OfferView {
            gate_action: format!("/claims/{}/code", contents.id),
            package_id: contents.id,
            expires: dates::moment_in_words(contents.expires_at),
            selectable: selectable && contents.unconfirmed_recipient.is_none(),
            unconfirmed_recipient: contents.unconfirmed_recipient,
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
                        awarded: c.awarded.as_deref().map(dates::in_words),
                        description: c.description,
                        verification_class,
                        verification_label,
                        verification_reason: c.verification_reason,
                        taken: c.taken,
                        revoked: c.revoked,
                    }
                })
                .collect(),
            skills: contents
                .skills
                .into_iter()
                .map(|skill| OfferedSkillView::of(skill, &partner))
                .collect(),
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
    /// The marketplace the package's issuers are routed to, shown above the sign-up.
    marketplace: Option<MarketplaceView>,
}

/// A marketplace's landing on the claim page: its logo and its text, in paragraphs.
pub struct MarketplaceView {
    pub name: String,
    pub logo: Option<LogoView>,
    pub paragraphs: Vec<String>,
}

impl MarketplaceView {
    fn of(landing: Landing) -> MarketplaceView {
        let view = LandingView::of(landing);
        MarketplaceView {
            logo: view
                .logo
                .as_ref()
                .map(|logo| LogoView::of(logo, &view.name, "marketplace-logo")),
            name: view.name,
            paragraphs: view.paragraphs,
        }
    }
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
) -> Result<Response, PageError> {
    if visitor.user().is_some_and(|user| user.is_viewer()) {
        // A viewer account (an employer's) claims nothing.
        return Ok(super::visitor::to_viewer_page());
    }
    let viewer = visitor.user().map(|u| u.id.clone());
    claims::recheck(&state.app, &token).await;
    let (mut contents, one_time, landing) =
        match claims::open(&state.app, &token, viewer.as_deref()).await? {
            ClaimPage::NotFound => return Ok(link_not_valid(&visitor)),
            ClaimPage::TakenByOther => return Ok(taken_by_other(&visitor)),
            ClaimPage::Yours => return Ok(Redirect::to("/resume").into_response()),
            ClaimPage::Open {
                contents,
                one_time,
                landing,
            } => (*contents, one_time, landing),
        };
    localize(&mut contents, &visitor.languages);
    Ok(visitor.finish(render(&ClaimTemplate::new(
        &visitor, &token, contents, one_time, landing,
    ))))
}

impl ClaimTemplate {
    /// The claim page: the sign-up form, pre-filled from the package (under the landing of
    /// the marketplace its issuers are routed to, if any), for a visitor; the list to choose
    /// from for a signed-in person.
    fn new(
        visitor: &Visitor,
        token: &str,
        contents: PackageContents,
        one_time: bool,
        landing: Option<Landing>,
    ) -> Self {
        let signed_in = visitor.signed_in.is_some();
        let signup = (!signed_in).then(|| {
            let values = recipient_values(&contents.recipient);
            SignupForm::new(visitor.csrf(), Some(token.to_string()), &values, &[])
        });
        let mut offer = OfferView::of(contents, signed_in);
        // The claim link is what shows the person may ask: the first code is asked for by it.
        offer.gate_action = format!("/createmyresume/{token}/code");
        ClaimTemplate {
            nav: Nav::of(visitor),
            offer,
            signup,
            login_href: login_href(Some(token)),
            csrf: visitor.csrf(),
            action: format!("/createmyresume/{token}"),
            one_time,
            marketplace: landing.filter(|_| !signed_in).map(MarketplaceView::of),
        }
    }
}

/// The claim page again after its sign-up form came back with problems: the credentials on
/// offer, the form as typed and what was wrong (422). `None` when the link no longer opens a
/// package to sign up for (expired or taken meanwhile): the sign-up page answers instead.
pub async fn signup_again(
    state: &AppState,
    visitor: &Visitor,
    token: &str,
    values: &SignupValues,
    errors: &[FieldError],
) -> Result<Option<Response>, PageError> {
    let ClaimPage::Open {
        contents,
        one_time,
        landing,
    } = claims::open(&state.app, token, None).await?
    else {
        return Ok(None);
    };
    let mut contents = *contents;
    localize(&mut contents, &visitor.languages);
    let mut page = ClaimTemplate::new(visitor, token, contents, one_time, landing);
    page.signup = Some(SignupForm::new(
        visitor.csrf(),
        Some(token.to_string()),
        values,
        errors,
    ));
    let page = (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response();
    Ok(Some(visitor.finish(page)))
}

/// Names the issuer gave in several languages, in the first of `languages` they have.
fn localize(contents: &mut PackageContents, languages: &[String]) {
    for credential in &mut contents.credentials {
        if credential.name_languages.is_some() {
            credential.name = crate::domain::language_tagged::choose(
                &credential.name,
                credential.name_languages.as_deref(),
                languages,
            );
        }
    }
}

fn claimed(visitor: &Visitor, outcome: Result<Claimed, ClaimRefusal>) -> Response {
    match outcome {
        Ok(claimed) if claimed.taken.is_empty() => {
            Redirect::to(&format!("/resume?added={}", claimed.added)).into_response()
        }
        Ok(claimed) if claimed.added == 0 => {
            let taken = format!(
                "These are already on someone else's resume: {}. A credential can be on one resume only.",
                claimed.taken.join(", ")
            );
            message_for(
                visitor,
                StatusCode::CONFLICT,
                "Nothing was added: these are on another resume",
                &[
                    &taken,
                    "If they are yours, contact the organisation that issued them.",
                ],
                Some(("/resume", "Open my resume")),
            )
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
        Err(ClaimRefusal::RecipientUnconfirmed(address)) => {
            let why = format!(
                "These credentials were sent for {address}, which is not the address of your account. Confirm that address with the code we email there first: the page you came from has the button."
            );
            message_for(
                visitor,
                StatusCode::FORBIDDEN,
                "Nothing was added: confirm the address first",
                &[&why],
                Some(("/inbox", "Go to my import inbox")),
            )
        }
    }
}

/// What a person ticked on a package's list.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Choice {
    credential: Vec<String>,
    skill: Vec<String>,
}

pub async fn claim(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Path(token): Path<String>,
    CsrfForm(choice): CsrfForm<Choice>,
) -> Result<Response, PageError> {
    let outcome = claims::claim_link(
        &state.app,
        &token,
        &user.id,
        choice.credential,
        choice.skill,
    )
    .await?;
    Ok(claimed(&visitor, outcome))
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxTemplate {
    nav: Nav,
    /// What was just done (a delivery dismissed).
    notice: Option<String>,
    csrf: String,
    packages: Vec<OfferView>,
}

/// `?dismissed={package}`: the delivery just dismissed, named on the page (only one the
/// person dismissed themselves is named, so a crafted address cannot make the page say
/// anything else).
#[derive(Deserialize)]
pub struct InboxNotice {
    dismissed: Option<String>,
}

pub async fn inbox(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Query(InboxNotice { dismissed }): Query<InboxNotice>,
) -> Result<Response, PageError> {
    let notice = match dismissed {
        Some(package) => claims::dismissed_from(&state.app, &package, &user.id)
            .await?
            .map(|partner| {
                format!("The delivery from {partner} was dismissed. Nothing from it was added to your resume.")
            }),
        None => None,
    };
    let packages = claims::inbox(&state.app, &user.id).await?;
    let mut nav = Nav::of(&visitor);
    nav.inbox = packages.len();
    let page = InboxTemplate {
        nav,
        notice,
        csrf: visitor.csrf(),
        packages: packages
            .into_iter()
            .map(|p| OfferView::of(p, true))
            .collect(),
    };
    Ok(visitor.finish(render(&page)))
}

#[derive(Template)]
#[template(path = "inbox_package.html")]
struct InboxPackageTemplate {
    nav: Nav,
    /// What was just done: their email confirmed (the sign-up started from this package's
    /// claim link), or the package's recipient address.
    notice: Option<&'static str>,
    csrf: String,
    offer: OfferView,
}

#[derive(Deserialize)]
pub struct Welcome {
    welcome: Option<u8>,
    confirmed: Option<u8>,
}

/// `GET /inbox/{package}`: one delivery to choose from. Where a confirmation link leads
/// when the sign-up started on a claim link, so the person lands on the choice they came for.
pub async fn inbox_package(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Path(package): Path<String>,
    Query(Welcome { welcome, confirmed }): Query<Welcome>,
) -> Result<Response, PageError> {
    let packages = claims::inbox(&state.app, &user.id).await?;
    let waiting = packages.len();
    let Some(mut contents) = packages.into_iter().find(|p| p.id == package) else {
        return Ok(not_in_inbox(&visitor));
    };
    localize(&mut contents, &visitor.languages);
    let mut nav = Nav::of(&visitor);
    nav.inbox = waiting;
    let page = InboxPackageTemplate {
        nav,
        notice: if welcome.is_some() {
            Some("Your email is confirmed. Welcome to your SmartResume.")
        } else {
            confirmed.map(|_| "The address is confirmed.")
        },
        csrf: visitor.csrf(),
        offer: OfferView::of(contents, true),
    };
    Ok(visitor.finish(render(&page)))
}

pub async fn inbox_claim(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Path(package): Path<String>,
    CsrfForm(choice): CsrfForm<Choice>,
) -> Result<Response, PageError> {
    let (credentials, skills) = (choice.credential, choice.skill);
    let outcome =
        claims::claim_from_inbox(&state.app, &package, &user.id, credentials, skills).await?;
    Ok(match outcome {
        Err(ClaimRefusal::NotYours) => not_in_inbox(&visitor),
        outcome => claimed(&visitor, outcome),
    })
}

fn not_in_inbox(visitor: &Visitor) -> Response {
    message_for(
        visitor,
        StatusCode::NOT_FOUND,
        "Nothing to add",
        &["This delivery is not in your inbox any more."],
        Some(("/inbox", "Back to the inbox")),
    )
}

pub async fn inbox_dismiss(
    State(state): State<AppState>,
    SignedInVisitor(_, user): SignedInVisitor,
    Path(package): Path<String>,
    _: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    // Back to the inbox (a GET that changes nothing), which says what was dismissed.
    Ok(if claims::dismiss(&state.app, &package, &user.id).await? {
        Redirect::to(&format!("/inbox?dismissed={package}")).into_response()
    } else {
        Redirect::to("/inbox").into_response()
    })
}
