//! Confirming a package's recipient address with a one-time code (`/claims/{package}/…`,
//! and `/createmyresume/{token}/code` to ask for the first one): how a person whose account
//! has another address shows they read the mail of the address the partner sent for.

use super::accounts::FieldView;
use super::error::PageError;
use super::visitor::{CsrfForm, SignedInVisitor, Visitor};
use super::{Nav, message_for, render};
use crate::forms::{FieldError, FormErrors};
use crate::http::AppState;
use crate::services::claims::{self, CodeChecked, CodeSent};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "recipient_code.html")]
struct CodePage {
    nav: Nav,
    csrf: String,
    notice: Option<&'static str>,
    errors: FormErrors,
    code: FieldView,
    package_id: String,
    address: String,
    partner: String,
}

/// `POST /createmyresume/{token}/code`: the first code, asked for from the claim page.
pub async fn send_for_link(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Path(token): Path<String>,
    _: CsrfForm<super::accounts::NoFields>,
) -> Result<Response, PageError> {
    let sent = claims::send_code_for_link(&state.app, &token, &user.id).await?;
    Ok(after_sending(
        &visitor,
        sent,
        &format!("/createmyresume/{token}"),
    ))
}

/// `POST /claims/{package}/code`: a new code.
pub async fn send_again(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Path(package): Path<String>,
    _: CsrfForm<super::accounts::NoFields>,
) -> Result<Response, PageError> {
    let sent = claims::send_code(&state.app, &package, &user.id).await?;
    Ok(after_sending(&visitor, sent, &format!("/inbox/{package}")))
}

fn after_sending(visitor: &Visitor, sent: CodeSent, claim_page: &str) -> Response {
    match sent {
        CodeSent::Sent { package_id } => {
            Redirect::to(&format!("/claims/{package_id}/code?sent=1")).into_response()
        }
        // Confirmed meanwhile, or the address is the account's now: the choice itself.
        CodeSent::NotNeeded => Redirect::to(claim_page).into_response(),
        CodeSent::TooMany => message_for(
            visitor,
            StatusCode::TOO_MANY_REQUESTS,
            "No more codes today",
            &[
                "Five codes were sent to that address in the last 24 hours. Use the latest one, or try again tomorrow.",
            ],
            Some(("/resume", "Go to my resume")),
        ),
        CodeSent::NotFound => nothing_to_confirm(visitor),
    }
}

fn nothing_to_confirm(visitor: &Visitor) -> Response {
    message_for(
        visitor,
        StatusCode::NOT_FOUND,
        "Nothing to confirm",
        &["There is no address to confirm for this delivery. Open the link you were sent again."],
        Some(("/resume", "Go to my resume")),
    )
}

#[derive(Deserialize)]
pub struct Sent {
    sent: Option<u8>,
}

/// `GET /claims/{package}/code`: where the code is entered.
pub async fn page(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Path(package): Path<String>,
    Query(Sent { sent }): Query<Sent>,
) -> Result<Response, PageError> {
    let notice = sent.map(|_| "We emailed you a code.");
    code_page(
        &state,
        &visitor,
        &user.id,
        &package,
        notice,
        &[],
        StatusCode::OK,
    )
    .await
}

async fn code_page(
    state: &AppState,
    visitor: &Visitor,
    user_id: &str,
    package: &str,
    notice: Option<&'static str>,
    errors: &[FieldError],
    status: StatusCode,
) -> Result<Response, PageError> {
    let Some((address, partner)) = claims::code_page(&state.app, package, user_id).await? else {
        // Confirmed already (or never asked for): the delivery's own page says what is next.
        return Ok(Redirect::to(&format!("/inbox/{package}")).into_response());
    };
    let errors = FormErrors::new(errors, &["code"]);
    let code =
        FieldView::new("code", "Code", "text", "", "one-time-code", true, &errors).at_most(6);
    let page = CodePage {
        nav: Nav::of(visitor),
        csrf: visitor.csrf(),
        notice,
        errors,
        code,
        package_id: package.to_string(),
        address,
        partner,
    };
    Ok(visitor.finish((status, render(&page)).into_response()))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeField {
    code: String,
}

/// `POST /claims/{package}/confirm`: checks the code; a right one leads to the choice.
pub async fn confirm(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Path(package): Path<String>,
    CsrfForm(form): CsrfForm<CodeField>,
) -> Result<Response, PageError> {
    let problem = match claims::check_code(&state.app, &package, &user.id, &form.code).await? {
        CodeChecked::Confirmed => {
            return Ok(Redirect::to(&format!("/inbox/{package}?confirmed=1")).into_response());
        }
        CodeChecked::NotFound => return Ok(nothing_to_confirm(&visitor)),
        CodeChecked::Wrong { tries_left } => format!(
            "that is not the code we sent: check the latest mail and try again ({tries_left} {} left)",
            if tries_left == 1 { "try" } else { "tries" }
        ),
        CodeChecked::NoLiveCode => {
            "this code no longer works (it is over 15 minutes old, or was tried too many times): send a new code".to_string()
        }
    };
    let errors = [FieldError::new("code", problem)];
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    code_page(&state, &visitor, &user.id, &package, None, &errors, status).await
}
