//! `/admin/marketplaces`: issuer ids routed to a talent marketplace's landing (what
//! `credentialconnect marketplace …` does).

use super::{AdminNav, AdminVisitor, nav_for, refused};
use crate::domain::logo::Logo;
use crate::http::AppState;
use crate::http::web::error::PageError;
use crate::http::web::visitor::{CsrfForm, CsrfUpload};
use crate::http::web::{Nav, render};
use crate::services::logos::LogoChange;
use crate::services::marketplaces::{self, MarketplaceError, MarketplaceRequest};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

struct MarketplaceView {
    id: String,
    name: String,
    issuers: Vec<String>,
    landing: String,
    logo: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_marketplaces.html")]
struct MarketplacesPage {
    nav: Nav,
    admin_nav: AdminNav,
    csrf: String,
    marketplaces: Vec<MarketplaceView>,
}

fn failed(admin: &AdminVisitor, error: MarketplaceError) -> Result<Response, PageError> {
    match error {
        MarketplaceError::Store(error) => Err(error.into()),
        other => Ok(refused(admin, "/admin/marketplaces", &other.to_string())),
    }
}

/// `GET /admin/marketplaces`
pub async fn list(
    State(state): State<AppState>,
    admin: AdminVisitor,
) -> Result<Response, PageError> {
    let listed = match marketplaces::list(&state.app).await {
        Ok(listed) => listed,
        Err(error) => return failed(&admin, error),
    };
    let page = MarketplacesPage {
        nav: Nav::of(&admin.visitor),
        admin_nav: nav_for(&state).await?,
        csrf: admin.visitor.csrf(),
        marketplaces: listed
            .into_iter()
            .map(|m| MarketplaceView {
                id: m.id,
                name: m.name,
                issuers: m.issuers,
                landing: m.landing.unwrap_or_default(),
                logo: m.logo,
            })
            .collect(),
    };
    Ok(admin.visitor.finish(render(&page)))
}

/// `POST /admin/marketplaces` (multipart, for the logo): makes a marketplace or adds to the
/// one with this name: issuer ids one per line, the landing text, a logo file.
pub async fn add(
    State(state): State<AppState>,
    admin: AdminVisitor,
    upload: CsrfUpload,
) -> Result<Response, PageError> {
    let field = |name: &str| upload.fields.get(name).cloned().unwrap_or_default();
    let logo = match upload.file.map(Logo::check) {
        Some(Ok(logo)) => Some(LogoChange::Set(logo)),
        Some(Err(why)) => return Ok(refused(&admin, "/admin/marketplaces", &why)),
        None => None,
    };
    let landing = field("landing");
    let request = MarketplaceRequest {
        name: field("name"),
        issuers: field("issuers")
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_string)
            .collect(),
        landing: Some(landing).filter(|text| !text.trim().is_empty()),
        logo,
    };
    match marketplaces::add(&state.app, &admin.actor(), request).await {
        Ok(_) => Ok(Redirect::to("/admin/marketplaces").into_response()),
        Err(error) => failed(&admin, error),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RemoveFields {
    /// One issuer id to unroute; empty removes the whole marketplace.
    issuer: String,
}

/// `POST /admin/marketplaces/{id}/remove`
pub async fn remove(
    State(state): State<AppState>,
    admin: AdminVisitor,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RemoveFields>,
) -> Result<Response, PageError> {
    let issuers: Vec<String> = Some(form.issuer.trim().to_string())
        .filter(|i| !i.is_empty())
        .into_iter()
        .collect();
    match marketplaces::remove(&state.app, &admin.actor(), &id, &issuers).await {
        Ok(_) => Ok(Redirect::to("/admin/marketplaces").into_response()),
        Err(error) => failed(&admin, error),
    }
}
