//! The admin area, `/admin`: for admin accounts only, after a second factor in each session.
//! To anyone else, signed in or not, every admin route answers exactly what an unknown path
//! does (404), so the area's existence is not disclosed. An admin who has not passed the
//! second factor in this session is sent to it.

mod alerts;
mod audit_log;
mod mail;
mod marketplaces;
mod partners;
mod second_factor;

use super::error::PageError;
use super::visitor::Visitor;
use crate::domain::account::User;
use crate::domain::audit::Actor;
use crate::domain::sections::Section;
use crate::http::AppState;
use crate::services::admins;
use crate::store::admins::AdminRow;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

/// How long a passed second factor lasts within a session.
const SECOND_FACTOR_MS: i64 = 12 * 3600 * 1000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(alerts::dashboard))
        .route(
            "/admin/second-factor",
            get(second_factor::page).post(second_factor::check),
        )
        .route("/admin/alerts", get(alerts::page))
        .route("/admin/alerts/{id}/acknowledge", post(alerts::acknowledge))
        .route("/admin/alerts/{id}/assign", post(alerts::assign))
        .route("/admin/audit", get(audit_log::page))
        .route("/admin/audit.jsonl", get(audit_log::json_lines))
        .route(
            "/admin/partners",
            get(partners::list).post(partners::create),
        )
        .route("/admin/partners/{slug}", get(partners::show))
        .route("/admin/partners/{slug}/options", post(partners::options))
        .route("/admin/partners/{slug}/pull-url", post(partners::pull_url))
        .route("/admin/partners/{slug}/logo", post(partners::logo))
        .route(
            "/admin/partners/{slug}/wallet",
            post(partners::wallet_settings),
        )
        .route("/admin/partners/{slug}/mapping", post(partners::mapping))
        .route("/admin/partners/{slug}/rotate", post(partners::rotate))
        .route("/admin/partners/{slug}/disable", post(partners::disable))
        .route(
            "/admin/marketplaces",
            get(marketplaces::list).post(marketplaces::add),
        )
        .route(
            "/admin/marketplaces/{id}/remove",
            post(marketplaces::remove),
        )
        .route("/admin/mail", get(mail::page))
        .route("/admin/mail/whitelist", post(mail::add))
        .route("/admin/mail/whitelist/remove", post(mail::remove))
}

/// An admin account signed in, whether or not it passed the second factor in this session.
pub struct SignedInAdmin {
    pub visitor: Visitor,
    pub user: User,
    pub admin: AdminRow,
    pub passed: bool,
}

impl FromRequestParts<AppState> for SignedInAdmin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let visitor = Visitor::from_request_parts(parts, state).await?;
        let Some(signed_in) = visitor.signed_in.clone() else {
            return Err(super::not_found().await);
        };
        let admin = admins::admin(&state.app, &signed_in.user.id)
            .await
            .map_err(|error| PageError::from(error).into_response())?;
        let Some(admin) = admin else {
            return Err(super::not_found().await);
        };
        let now = state.app.clock.now_ms();
        let passed = signed_in
            .session
            .second_factor_at
            .is_some_and(|at| now - at < SECOND_FACTOR_MS);
        Ok(SignedInAdmin {
            visitor,
            user: signed_in.user,
            admin,
            passed,
        })
    }
}

/// An admin who passed the second factor in this session: what every admin page but the
/// second factor's own opens with.
pub struct AdminVisitor {
    pub visitor: Visitor,
    pub user: User,
}

impl AdminVisitor {
    /// The admin as the audit log records them: with the address they connect from.
    pub fn actor(&self) -> Actor {
        Actor::admin(&self.user.id, &self.visitor.client)
    }
}

impl FromRequestParts<AppState> for AdminVisitor {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let admin = SignedInAdmin::from_request_parts(parts, state).await?;
        if !admin.passed {
            return Err(Redirect::to("/admin/second-factor").into_response());
        }
        Ok(AdminVisitor {
            visitor: admin.visitor,
            user: admin.user,
        })
    }
}

/// The admin area's own navigation, with the count of open alerts.
pub struct AdminNav {
    pub alerts: usize,
}

/// A resume section, as the admin forms offer them.
struct SectionChoice {
    key: &'static str,
    title: &'static str,
}

/// The sections a credential can be placed in, in resume order.
fn section_choices() -> Vec<SectionChoice> {
    Section::PLACEABLE
        .iter()
        .map(|s| SectionChoice {
            key: s.key(),
            title: s.title(),
        })
        .collect()
}

/// The section a form chose, if it is one a credential can be placed in.
fn placeable(key: &str) -> Option<Section> {
    Section::from_key(key).filter(|s| *s != Section::Unassigned)
}

/// What a page says was just done (`?done=…` after a change redirected back to it).
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Done {
    done: String,
}

async fn nav_for(state: &AppState) -> Result<AdminNav, PageError> {
    Ok(AdminNav {
        alerts: crate::services::alerts::count(&state.app).await?,
    })
}

/// A change refused for what the form held: what is wrong, and the way back (422).
fn refused(admin: &AdminVisitor, back: &str, why: &str) -> Response {
    super::message_for(
        &admin.visitor,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "Nothing was changed",
        &[why],
        Some((back, "Back")),
    )
}
