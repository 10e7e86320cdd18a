//! The partner's activation page (`/find/{partner}`): a form asking for names and email or
//! student id, and one answer whatever the search found. The one-time link the person is
//! mailed opens the claim page (`claim.rs`).

use super::accounts::FieldView;
use super::error::PageError;
use super::logos::LogoView;
use super::visitor::{CsrfForm, Visitor};
use super::{Nav, message_for, render};
use crate::domain::logo::LogoRef;
use crate::domain::partner::Partner;
use crate::forms::{FieldError, FormErrors};
use crate::http::AppState;
use crate::services::activation::{self, SearchError, SearchForm};
use askama::Template;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "activation.html")]
struct ActivationPage {
    nav: Nav,
    partner: String,
    slug: String,
    logo: Option<LogoView>,
    errors: FormErrors,
    csrf: String,
    names: Vec<FieldView>,
    identifiers: Vec<FieldView>,
}

impl ActivationPage {
    fn new(
        visitor: &Visitor,
        page: &PagePartner,
        form: &SearchForm,
        errors: &[FieldError],
    ) -> Self {
        let partner = &page.partner;
        let errors = FormErrors::new(
            errors,
            &["given_name", "family_name", "email", "student_id"],
        );
        let field = |name, label, kind, value: &str, autocomplete, required| {
            FieldView::new(name, label, kind, value, autocomplete, required, &errors)
        };
        ActivationPage {
            nav: Nav::of(visitor),
            partner: partner.name.clone(),
            slug: partner.slug.clone(),
            logo: page
                .logo
                .as_ref()
                .map(|logo| LogoView::partner(logo, &partner.name)),
            csrf: visitor.csrf(),
            names: vec![
                field(
                    "given_name",
                    "First name",
                    "text",
                    &form.given_name,
                    "given-name",
                    true,
                ),
                field(
                    "family_name",
                    "Last name",
                    "text",
                    &form.family_name,
                    "family-name",
                    true,
                ),
            ],
            identifiers: vec![
                field(
                    "email",
                    "Email address",
                    "email",
                    &form.email,
                    "email",
                    false,
                ),
                field(
                    "student_id",
                    "Student id",
                    "text",
                    &form.student_id,
                    "off",
                    false,
                ),
            ],
            errors,
        }
    }
}

/// What the person typed is personal: no cache keeps these pages. The page keeps the
/// Content-Security-Policy of every page: a partner's logo is served from this origin.
fn private(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn no_such_partner(visitor: &Visitor) -> Response {
    message_for(
        visitor,
        StatusCode::NOT_FOUND,
        "Not found",
        &["There is no page here. Check the address the organisation gave you."],
        None,
    )
}

/// The partner whose activation page a request is for, with its logo: an unknown or disabled
/// one has none (404, before any form is read).
pub struct PagePartner {
    partner: Partner,
    logo: Option<LogoRef>,
}

impl FromRequestParts<AppState> for PagePartner {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Path(slug) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let visitor = Visitor::from_request_parts(parts, state).await?;
        let partner = match activation::partner(&state.app, &slug).await {
            Ok(Some(partner)) => partner,
            Ok(None) => return Err(no_such_partner(&visitor)),
            Err(error) => return Err(PageError::from(error).into_response()),
        };
        match crate::services::logos::of_partner(&state.app, &partner.id).await {
            Ok(logo) => Ok(PagePartner { partner, logo }),
            Err(error) => Err(PageError::from(error).into_response()),
        }
    }
}

/// `GET /find/{partner}`: the search form.
pub async fn page(visitor: Visitor, partner: PagePartner) -> Response {
    let page = ActivationPage::new(&visitor, &partner, &SearchForm::default(), &[]);
    private(visitor.finish(render(&page)))
}

/// The search form as typed.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchFields {
    given_name: String,
    family_name: String,
    email: String,
    student_id: String,
}

impl SearchFields {
    fn typed(self) -> SearchForm {
        SearchForm {
            given_name: self.given_name,
            family_name: self.family_name,
            email: self.email,
            student_id: self.student_id,
        }
    }
}

/// `POST /find/{partner}`: the same answer whether or not anything matched.
pub async fn search(
    State(state): State<AppState>,
    visitor: Visitor,
    page: PagePartner,
    CsrfForm(form): CsrfForm<SearchFields>,
) -> Result<Response, PageError> {
    let partner = &page.partner;
    let typed = form.typed();
    let search = match typed.parse() {
        Ok(search) => search,
        Err(errors) => return Ok(search_again(&visitor, &page, &typed, &errors)),
    };
    let answer = match activation::search(&state.app, partner, &search, &visitor.client).await {
        Ok(()) => searched(&visitor, partner),
        Err(SearchError::RateLimited) => too_many_searches(&visitor),
        Err(error) => return Err(error.into()),
    };
    Ok(private(answer))
}

/// The form again, with what was wrong.
fn search_again(
    visitor: &Visitor,
    partner: &PagePartner,
    typed: &SearchForm,
    errors: &[FieldError],
) -> Response {
    let page = ActivationPage::new(visitor, partner, typed, errors);
    let page = (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response();
    private(visitor.finish(page))
}

fn too_many_searches(visitor: &Visitor) -> Response {
    message_for(
        visitor,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many searches",
        &[
            "Please wait a while before searching again. If you have already searched, check your email (and its spam folder) for our message first.",
        ],
        None,
    )
}

/// The one answer to a search, whatever it found.
fn searched(visitor: &Visitor, partner: &Partner) -> Response {
    let name = &partner.name;
    message_for(
        visitor,
        StatusCode::OK,
        "Check your email",
        &[
            &format!(
                "If {name} has sent us credentials for you, we have emailed a link to them to the address {name} has on record for you. The link works once, for 24 hours."
            ),
            &format!(
                "Nothing after a few minutes? Look in your spam folder, check that your name is spelled as {name} has it, or ask {name} for the link to your credentials."
            ),
        ],
        Some((&format!("/find/{}", partner.slug), "Search again")),
    )
}
