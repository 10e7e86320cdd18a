//! The partner's activation page (`/find/{partner}`): a form asking for names and email or
//! student id, and one answer whatever the search found. The one-time link the person is
//! mailed opens the claim page (`claim.rs`).

use super::accounts::FieldView;
use super::visitor::{FormData, Visitor};
use super::{Nav, csrf_refused, message_for, render, unavailable};
use crate::forms::FieldError;
use crate::http::{AppState, CONTENT_SECURITY_POLICY};
use crate::services::activation::{self, SearchError, SearchForm};
use crate::store::partners::Partner;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Template)]
#[template(path = "find.html")]
struct FindPage {
    nav: Nav,
    partner: String,
    slug: String,
    logo: Option<String>,
    notice: Option<String>,
    csrf: String,
    names: Vec<FieldView>,
    identifiers: Vec<FieldView>,
}

impl FindPage {
    fn new(visitor: &Visitor, partner: &Partner, form: &SearchForm, errors: &[FieldError]) -> Self {
        let field = |name, label, kind, value: &str, autocomplete, required| {
            FieldView::new(name, label, kind, value, autocomplete, required, errors)
        };
        FindPage {
            nav: Nav::of(visitor),
            partner: partner.name.clone(),
            slug: partner.slug.clone(),
            logo: partner.logo_url.clone(),
            notice: (!errors.is_empty()).then(|| "Please correct the fields marked below.".into()),
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
        }
    }
}

/// What the person typed is personal: no cache keeps these pages. A logo is allowed from its
/// own origin, and only there.
fn private(mut response: Response, logo: Option<&str>) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(origin) = logo
        .and_then(|logo| url::Url::parse(logo).ok())
        .map(|url| url.origin().ascii_serialization())
        .filter(|origin| origin.starts_with("https://"))
    {
        let policy = CONTENT_SECURITY_POLICY.replace(
            "img-src 'self' data:",
            &format!("img-src 'self' data: {origin}"),
        );
        if let Ok(value) = HeaderValue::from_str(&policy) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
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

/// The partner, or the page to answer with (unknown or disabled: 404).
async fn partner_or_answer(
    state: &AppState,
    visitor: &Visitor,
    slug: &str,
) -> Result<Partner, Response> {
    match activation::partner(&state.app, slug).await {
        Ok(Some(partner)) => Ok(partner),
        Ok(None) => Err(no_such_partner(visitor)),
        Err(_) => Err(unavailable()),
    }
}

/// `GET /find/{partner}`: the search form.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(slug): Path<String>,
) -> Response {
    let partner = match partner_or_answer(&state, &visitor, &slug).await {
        Ok(partner) => partner,
        Err(answer) => return answer,
    };
    let page = FindPage::new(&visitor, &partner, &SearchForm::default(), &[]);
    private(visitor.finish(render(&page)), partner.logo_url.as_deref())
}

/// `POST /find/{partner}`: the same answer whether or not anything matched.
pub async fn search(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(slug): Path<String>,
    form: FormData,
) -> Response {
    let partner = match partner_or_answer(&state, &visitor, &slug).await {
        Ok(partner) => partner,
        Err(answer) => return answer,
    };
    if !visitor.csrf_ok(&form) {
        return csrf_refused(&visitor);
    }
    let typed = SearchForm {
        given_name: form.get("given_name").unwrap_or("").to_string(),
        family_name: form.get("family_name").unwrap_or("").to_string(),
        email: form.get("email").unwrap_or("").to_string(),
        student_id: form.get("student_id").unwrap_or("").to_string(),
    };
    let search = match typed.parse() {
        Ok(search) => search,
        Err(errors) => {
            let page = FindPage::new(&visitor, &partner, &typed, &errors);
            return private(
                visitor.finish((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()),
                partner.logo_url.as_deref(),
            );
        }
    };
    match activation::search(&state.app, &partner, &search, &visitor.client).await {
        Ok(()) => private(
            message_for(
                &visitor,
                StatusCode::OK,
                "Check your email",
                &[
                    &format!(
                        "If {name} has sent us credentials for you, we have emailed a link to them to the address {name} has on record for you. The link works once, for 24 hours.",
                        name = partner.name
                    ),
                    &format!(
                        "Nothing after a few minutes? Look in your spam folder, check that your name is spelled as {name} has it, or ask {name} for the link to your credentials.",
                        name = partner.name
                    ),
                ],
                Some((&format!("/find/{}", partner.slug), "Search again")),
            ),
            None,
        ),
        Err(SearchError::RateLimited) => private(
            message_for(
                &visitor,
                StatusCode::TOO_MANY_REQUESTS,
                "Too many searches",
                &[
                    "Please wait a while before searching again. If you have already searched, check your email (and its spam folder) for our message first.",
                ],
                None,
            ),
            None,
        ),
        Err(SearchError::Store(_)) => unavailable(),
    }
}
