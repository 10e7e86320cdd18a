//! `/account`: a person's data, theirs to take and to erase. The download and the erasure
//! are forms (POST with the CSRF token): each is recorded in the audit log, so neither may
//! happen on a GET that a link or a prefetch could trigger.

use super::accounts::{FieldView, NoFields};
use super::error::PageError;
use super::export::json_download;
use super::visitor::{CsrfForm, SignedInAccount, Visitor};
use super::{Nav, message_for, render};
use crate::domain::account::User;
use crate::domain::audit::Actor;
use crate::forms::{FieldError, FormErrors};
use crate::http::AppState;
use crate::services::accounts::{self, AccountError};
use crate::services::personal_data;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    csrf: String,
    email: String,
    errors: FormErrors,
    password: FieldView,
}

fn page(visitor: &Visitor, user: &User, status: StatusCode, errors: &[FieldError]) -> Response {
    let errors = FormErrors::new(errors, &["password"]);
    let page = AccountPage {
        nav: Nav::of(visitor),
        csrf: visitor.csrf(),
        email: user.email.clone(),
        password: FieldView::new(
            "password",
            "Your password",
            "password",
            "",
            "current-password",
            true,
            &errors,
        ),
        errors,
    };
    visitor.finish((status, render(&page)).into_response())
}

/// `GET /account`
pub async fn show(SignedInAccount(visitor, user): SignedInAccount) -> Response {
    page(&visitor, &user, StatusCode::OK, &[])
}

/// `POST /account/export`: everything held about the person, as one JSON download.
pub async fn export(
    State(state): State<AppState>,
    SignedInAccount(visitor, user): SignedInAccount,
    _: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    Ok(
        match personal_data::export(&state.app, &Actor::person(&user.id), &user.id).await? {
            Some(document) => json_download("credentialconnect-personal-data.json", &document),
            None => gone(&visitor),
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EraseFields {
    password: String,
}

/// `POST /account/erase`: with the password typed again, erases the account and signs the
/// browser out.
pub async fn erase(
    State(state): State<AppState>,
    SignedInAccount(visitor, user): SignedInAccount,
    CsrfForm(form): CsrfForm<EraseFields>,
) -> Result<Response, PageError> {
    match accounts::password_is(&state.app, &user, &form.password).await {
        Ok(true) => {}
        Ok(false) => {
            let error =
                FieldError::new("password", "That is not your password. Nothing was erased.");
            return Ok(page(
                &visitor,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                &[error],
            ));
        }
        Err(AccountError::RateLimited) => {
            return Ok(message_for(
                &visitor,
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                &["Nothing was erased. Please wait a few minutes before trying again."],
                Some(("/account", "Back to my account")),
            ));
        }
        Err(error) => return Err(error.into()),
    }
    if personal_data::erase(&state.app, &Actor::person(&user.id), &user.id)
        .await?
        .is_none()
    {
        return Ok(gone(&visitor));
    }
    // The session went with the account; the browser forgets its cookie too.
    let done = super::message(
        StatusCode::OK,
        "Your account has been erased",
        &[
            "Your profile, your resume, your share link and the credentials you claimed have been removed from CredentialConnect, with the mail we sent you.",
            "The issuers who sent you credentials still hold their own records. A credential you had claimed cannot be claimed again here by anyone.",
        ],
    );
    Ok(visitor.sign_out(done))
}

fn gone(visitor: &Visitor) -> Response {
    message_for(
        visitor,
        StatusCode::NOT_FOUND,
        "This account no longer exists",
        &["It has been erased."],
        Some(("/", "Home")),
    )
}
