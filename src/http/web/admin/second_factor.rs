//! `/admin/second-factor`: an admin's code for this session. The first time, the page shows
//! the authenticator's secret to set it up with, and the first right code answers with the
//! recovery codes, once.

use super::SignedInAdmin;
use crate::forms::{FieldError, FormErrors};
use crate::http::AppState;
use crate::http::web::accounts::FieldView;
use crate::http::web::error::PageError;
use crate::http::web::visitor::CsrfForm;
use crate::http::web::{Nav, message_for, render};
use crate::services::admins::{self, SecondFactor, Setup};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "admin_second_factor.html")]
struct SecondFactorPage {
    nav: Nav,
    csrf: String,
    errors: FormErrors,
    code: FieldView,
    setup: Option<Setup>,
}

#[derive(Template)]
#[template(path = "admin_recovery_codes.html")]
struct RecoveryCodesPage {
    nav: Nav,
    codes: Vec<String>,
}

fn page_with(
    state: &AppState,
    admin: &SignedInAdmin,
    status: StatusCode,
    errors: &[FieldError],
) -> Result<Response, PageError> {
    let errors = FormErrors::new(errors, &["code"]);
    let page = SecondFactorPage {
        nav: Nav::of(&admin.visitor),
        csrf: admin.visitor.csrf(),
        code: FieldView::new(
            "code",
            if admin.admin.confirmed {
                "The 6-digit code from your authenticator app, or a recovery code"
            } else {
                "The 6-digit code your authenticator app now shows"
            },
            "text",
            "",
            "one-time-code",
            true,
            &errors,
        ),
        errors,
        setup: admins::setup(&state.app, &admin.admin, &admin.user)?,
    };
    Ok(admin
        .visitor
        .finish((status, render(&page)).into_response()))
}

/// `GET /admin/second-factor`
pub async fn page(
    State(state): State<AppState>,
    admin: SignedInAdmin,
) -> Result<Response, PageError> {
    if admin.passed {
        return Ok(Redirect::to("/admin").into_response());
    }
    page_with(&state, &admin, StatusCode::OK, &[])
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeFields {
    code: String,
}

/// `POST /admin/second-factor`
pub async fn check(
    State(state): State<AppState>,
    admin: SignedInAdmin,
    CsrfForm(form): CsrfForm<CodeFields>,
) -> Result<Response, PageError> {
    let Some(signed_in) = &admin.visitor.signed_in else {
        return Err(PageError::bug("an admin without a session"));
    };
    let outcome = admins::check(
        &state.app,
        &admin.admin,
        &signed_in.cookie,
        &form.code,
        &admin.visitor.client,
    )
    .await?;
    match outcome {
        SecondFactor::Passed {
            recovery_codes: Some(codes),
        } => Ok(admin.visitor.finish(render(&RecoveryCodesPage {
            nav: Nav::of(&admin.visitor),
            codes,
        }))),
        SecondFactor::Passed {
            recovery_codes: None,
        } => Ok(Redirect::to("/admin").into_response()),
        SecondFactor::Refused => page_with(
            &state,
            &admin,
            StatusCode::UNPROCESSABLE_ENTITY,
            &[FieldError::new(
                "code",
                "That code is not right, or was already used. Codes change every 30 seconds: type the one your app shows now.",
            )],
        ),
        SecondFactor::RateLimited => Ok(message_for(
            &admin.visitor,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many wrong codes",
            &["Please wait a few minutes before trying again."],
            None,
        )),
    }
}
