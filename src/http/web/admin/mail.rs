//! `/admin/mail`: whether test mode is on, and its whitelist, edited.

use super::{AdminNav, AdminVisitor, nav_for, refused};
use crate::http::AppState;
use crate::http::web::error::PageError;
use crate::http::web::visitor::CsrfForm;
use crate::http::web::{Nav, render};
use crate::services::whitelist::{self, WhitelistError};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "admin_mail.html")]
struct MailPage {
    nav: Nav,
    admin_nav: AdminNav,
    csrf: String,
    test_mode: bool,
    entries: Vec<String>,
}

/// `GET /admin/mail`
pub async fn page(
    State(state): State<AppState>,
    admin: AdminVisitor,
) -> Result<Response, PageError> {
    let page = MailPage {
        nav: Nav::of(&admin.visitor),
        admin_nav: nav_for(&state).await?,
        csrf: admin.visitor.csrf(),
        test_mode: state.app.config.mail.test_mode,
        entries: whitelist::list(&state.app).await?,
    };
    Ok(admin.visitor.finish(render(&page)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EntryField {
    entry: String,
}

fn answered(
    admin: &AdminVisitor,
    outcome: Result<bool, WhitelistError>,
) -> Result<Response, PageError> {
    match outcome {
        Ok(_) => Ok(Redirect::to("/admin/mail").into_response()),
        Err(WhitelistError::Invalid(why)) => Ok(refused(admin, "/admin/mail", &why)),
        Err(WhitelistError::Store(error)) => Err(error.into()),
    }
}

/// `POST /admin/mail/whitelist`
pub async fn add(
    State(state): State<AppState>,
    admin: AdminVisitor,
    CsrfForm(form): CsrfForm<EntryField>,
) -> Result<Response, PageError> {
    let outcome = whitelist::add(&state.app, &admin.actor(), &form.entry).await;
    answered(&admin, outcome)
}

/// `POST /admin/mail/whitelist/remove`
pub async fn remove(
    State(state): State<AppState>,
    admin: AdminVisitor,
    CsrfForm(form): CsrfForm<EntryField>,
) -> Result<Response, PageError> {
    let outcome = whitelist::remove(&state.app, &admin.actor(), &form.entry).await;
    answered(&admin, outcome)
}
