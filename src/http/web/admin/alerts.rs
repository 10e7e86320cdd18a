//! `/admin` and `/admin/alerts`: what needs an operator, and settling it.

use super::{AdminNav, AdminVisitor, SectionChoice, placeable, section_choices};
use crate::domain::dates;
use crate::http::AppState;
use crate::http::web::accounts::NoFields;
use crate::http::web::error::PageError;
use crate::http::web::visitor::CsrfForm;
use crate::http::web::{Nav, message_for, render};
use crate::services::alerts::{self, AssignError};
use crate::services::mapping::MappingError;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "admin.html")]
struct Dashboard {
    nav: Nav,
    admin_nav: AdminNav,
    email: String,
}

/// `GET /admin`
pub async fn dashboard(
    State(state): State<AppState>,
    admin: AdminVisitor,
) -> Result<Response, PageError> {
    let page = Dashboard {
        nav: Nav::of(&admin.visitor),
        admin_nav: super::nav_for(&state).await?,
        email: admin.user.email.clone(),
    };
    Ok(admin.visitor.finish(render(&page)))
}

/// One alert as the page lists it.
struct AlertView {
    id: String,
    /// What kind of alert, in words.
    kind: &'static str,
    partner: Option<String>,
    subject: String,
    message: String,
    raised: String,
    /// For an unknown achievement type: how many credentials wait, in words (the page offers
    /// the sections to assign).
    waiting: Option<String>,
    waiting_names: Vec<String>,
}

struct MailView {
    id: String,
    to: String,
    subject: String,
    created: String,
}

#[derive(Template)]
#[template(path = "admin_alerts.html")]
struct AlertsPage {
    nav: Nav,
    admin_nav: AdminNav,
    csrf: String,
    alerts: Vec<AlertView>,
    sections: Vec<SectionChoice>,
    mail: Vec<MailView>,
    done: Option<String>,
}

fn kind_in_words(kind: &str) -> &'static str {
    match kind {
        "unknown_achievement_type" => "Unknown achievement type",
        "verification_failed" => "Proof failed",
        "claim_conflict" => "Second claim",
        "logo_url_dropped" => "Logo to upload again",
        _ => "Other",
    }
}

/// `GET /admin/alerts`
pub async fn page(
    State(state): State<AppState>,
    admin: AdminVisitor,
    axum::extract::Query(done): axum::extract::Query<super::Done>,
) -> Result<Response, PageError> {
    let open = alerts::open(&state.app).await?;
    let mail = alerts::held_back_mail(&state.app, 50).await?;
    let page = AlertsPage {
        nav: Nav::of(&admin.visitor),
        admin_nav: super::nav_for(&state).await?,
        csrf: admin.visitor.csrf(),
        alerts: open
            .into_iter()
            .map(|open| AlertView {
                kind: kind_in_words(&open.alert.kind),
                partner: open.partner,
                subject: open.alert.subject,
                message: open.alert.message,
                raised: dates::moment_in_words(open.alert.created_at),
                waiting_names: open.waiting_names,
                waiting: open.waiting.map(|n| match n {
                    1 => "1 credential of this type waits".to_string(),
                    n => format!("{n} credentials of this type wait"),
                }),
                id: open.alert.id,
            })
            .collect(),
        sections: section_choices(),
        mail: mail
            .into_iter()
            .map(|m| MailView {
                id: m.id,
                to: m.to,
                subject: m.subject,
                created: dates::moment_in_words(m.created_at),
            })
            .collect(),
        done: match done.done.as_str() {
            "acknowledged" => Some("The alert was acknowledged.".into()),
            moved if moved.starts_with("assigned-") => Some(format!(
                "The section was assigned; {} waiting credential(s) moved.",
                moved
                    .trim_start_matches("assigned-")
                    .parse::<u64>()
                    .unwrap_or(0)
            )),
            _ => None,
        },
    };
    Ok(admin.visitor.finish(render(&page)))
}

fn gone(admin: &AdminVisitor) -> Response {
    message_for(
        &admin.visitor,
        StatusCode::NOT_FOUND,
        "This alert is no longer open",
        &["Another admin may have settled it meanwhile. Nothing was changed."],
        Some(("/admin/alerts", "Back to the alerts")),
    )
}

/// `POST /admin/alerts/{id}/acknowledge`
pub async fn acknowledge(
    State(state): State<AppState>,
    admin: AdminVisitor,
    Path(id): Path<String>,
    _: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    Ok(
        if alerts::acknowledge(&state.app, &admin.actor(), &id).await? {
            Redirect::to("/admin/alerts?done=acknowledged").into_response()
        } else {
            gone(&admin)
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SectionField {
    section: String,
}

/// `POST /admin/alerts/{id}/assign`: the unknown achievement type goes to a section.
pub async fn assign(
    State(state): State<AppState>,
    admin: AdminVisitor,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SectionField>,
) -> Result<Response, PageError> {
    let Some(section) = placeable(&form.section) else {
        return Ok(message_for(
            &admin.visitor,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose a section",
            &["The form named no resume section. Nothing was changed."],
            Some(("/admin/alerts", "Back to the alerts")),
        ));
    };
    match alerts::assign(&state.app, &admin.actor(), &id, section).await {
        Ok(moved) => {
            Ok(Redirect::to(&format!("/admin/alerts?done=assigned-{moved}")).into_response())
        }
        Err(AssignError::NotAssignable) => Ok(gone(&admin)),
        Err(AssignError::Mapping(MappingError::Store(error))) => Err(error.into()),
        Err(AssignError::Mapping(error)) => Err(PageError::bug(error)),
        Err(AssignError::Store(error)) => Err(error.into()),
    }
}
