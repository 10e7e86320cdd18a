//! `/admin/partners`: every `credentialconnect partner …` verb on pages. A secret is shown
//! once, on the page that answers its creation or rotation (never stored in clear, never
//! cached: pages are `no-store`).

use super::{AdminNav, AdminVisitor, SectionChoice, nav_for, placeable, refused, section_choices};
use crate::domain::logo::Logo;
use crate::domain::scopes::Scopes;
use crate::http::AppState;
use crate::http::web::accounts::NoFields;
use crate::http::web::error::PageError;
use crate::http::web::visitor::{CsrfForm, CsrfUpload};
use crate::http::web::{Nav, render};
use crate::services::logos::LogoChange;
use crate::services::partners::{self, IssuedCredentials, PartnerError, PartnerRequest};
use crate::services::wallet::{self, WalletChange};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

struct PartnerRow {
    slug: String,
    name: String,
    scopes: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "admin_partners.html")]
struct PartnersPage {
    nav: Nav,
    admin_nav: AdminNav,
    csrf: String,
    partners: Vec<PartnerRow>,
}

/// `GET /admin/partners`
pub async fn list(
    State(state): State<AppState>,
    admin: AdminVisitor,
) -> Result<Response, PageError> {
    let partners = partners::list(&state.app).await.map_err(store_error)?;
    let page = PartnersPage {
        nav: Nav::of(&admin.visitor),
        admin_nav: nav_for(&state).await?,
        csrf: admin.visitor.csrf(),
        partners: partners
            .into_iter()
            .map(|p| PartnerRow {
                state: if p.disabled { "Disabled" } else { "Active" },
                scopes: p.scopes.to_string(),
                slug: p.slug,
                name: p.name,
            })
            .collect(),
    };
    Ok(admin.visitor.finish(render(&page)))
}

fn store_error(error: PartnerError) -> PageError {
    match error {
        PartnerError::Store(error) => error.into(),
        other => PageError::bug(other),
    }
}

#[derive(Template)]
#[template(path = "admin_secret.html")]
struct SecretPage {
    nav: Nav,
    admin_nav: AdminNav,
    title: &'static str,
    issued: IssuedCredentials,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewPartnerFields {
    name: String,
    slug: String,
    scope: Vec<String>,
    unstable_ids: String,
    strict: String,
}

fn scopes_of(chosen: &[String]) -> Result<Scopes, String> {
    Scopes::parse(&chosen.join(" "))
}

/// `POST /admin/partners`: a new partner; its secret is shown once.
pub async fn create(
    State(state): State<AppState>,
    admin: AdminVisitor,
    CsrfForm(form): CsrfForm<NewPartnerFields>,
) -> Result<Response, PageError> {
    let scopes = match scopes_of(&form.scope) {
        Ok(scopes) => scopes,
        Err(why) => return Ok(refused(&admin, "/admin/partners", &why)),
    };
    let request = PartnerRequest {
        name: form.name,
        slug: Some(form.slug.trim().to_string()).filter(|s| !s.is_empty()),
        scopes,
        unstable_ids: !form.unstable_ids.is_empty(),
        strict: !form.strict.is_empty(),
        logo: None,
    };
    match partners::create(&state.app, &admin.actor(), request).await {
        Ok(issued) => secret_page(&state, &admin, "Partner created", issued).await,
        Err(PartnerError::Store(error)) => Err(error.into()),
        Err(other) => Ok(refused(&admin, "/admin/partners", &other.to_string())),
    }
}

async fn secret_page(
    state: &AppState,
    admin: &AdminVisitor,
    title: &'static str,
    issued: IssuedCredentials,
) -> Result<Response, PageError> {
    let page = SecretPage {
        nav: Nav::of(&admin.visitor),
        admin_nav: nav_for(state).await?,
        title,
        issued,
    };
    Ok(admin.visitor.finish(render(&page)))
}

struct RuleView {
    achievement_type: String,
    section: &'static str,
}

struct ScopeChoice {
    name: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "admin_partner.html")]
struct PartnerPage {
    nav: Nav,
    admin_nav: AdminNav,
    csrf: String,
    slug: String,
    name: String,
    client_id: String,
    disabled: bool,
    strict: bool,
    unstable_ids: bool,
    scopes: Vec<ScopeChoice>,
    pull_url: String,
    logo: Option<String>,
    wallet_push_url: String,
    wallet_token_url: String,
    wallet_client_id: String,
    wallet_landing_url: String,
    has_wallet: bool,
    rules: Vec<RuleView>,
    sections: Vec<SectionChoice>,
    done: Option<&'static str>,
}

/// `GET /admin/partners/{slug}`
pub async fn show(
    State(state): State<AppState>,
    admin: AdminVisitor,
    Path(slug): Path<String>,
    axum::extract::Query(done): axum::extract::Query<super::Done>,
) -> Result<Response, PageError> {
    let Some(overview) = partners::overview(&state.app, &slug).await? else {
        return Ok(crate::http::web::not_found().await);
    };
    let partner = overview.partner;
    let wallet = overview.wallet;
    let page = PartnerPage {
        nav: Nav::of(&admin.visitor),
        admin_nav: nav_for(&state).await?,
        csrf: admin.visitor.csrf(),
        scopes: crate::domain::scopes::Scope::ALL
            .iter()
            .map(|scope| ScopeChoice {
                name: scope.as_str(),
                checked: partner.scopes.contains(*scope),
            })
            .collect(),
        slug: partner.slug,
        name: partner.name,
        client_id: partner.client_id,
        disabled: partner.disabled,
        strict: partner.strict,
        unstable_ids: partner.unstable_ids,
        pull_url: partner.pull_url.unwrap_or_default(),
        logo: overview.logo.map(|logo| logo.path()),
        has_wallet: wallet.is_some(),
        wallet_push_url: wallet
            .as_ref()
            .map(|w| w.push_url.clone())
            .unwrap_or_default(),
        wallet_token_url: wallet
            .as_ref()
            .map(|w| w.token_url.clone())
            .unwrap_or_default(),
        wallet_client_id: wallet
            .as_ref()
            .map(|w| w.client_id.clone())
            .unwrap_or_default(),
        wallet_landing_url: wallet
            .as_ref()
            .map(|w| w.landing_url.clone())
            .unwrap_or_default(),
        rules: overview
            .rules
            .into_iter()
            .map(|rule| RuleView {
                achievement_type: rule.achievement_type,
                section: rule.section.title(),
            })
            .collect(),
        sections: section_choices(),
        done: match done.done.as_str() {
            "options" => Some("The options were saved."),
            "pull-url" => Some("The pull URL was saved."),
            "logo" => Some("The logo was saved."),
            "wallet" => Some("The wallet settings were saved."),
            "mapping" => Some("The override was saved; waiting credentials of that type moved."),
            "disabled" => Some("The partner is disabled: its secret and tokens no longer work."),
            _ => None,
        },
    };
    Ok(admin.visitor.finish(render(&page)))
}

fn back(slug: &str, done: &str) -> Response {
    Redirect::to(&format!("/admin/partners/{slug}?done={done}")).into_response()
}

/// What a partner change answers: back to its page, or what was wrong.
fn answer(
    admin: &AdminVisitor,
    slug: &str,
    done: &str,
    outcome: Result<(), PartnerError>,
) -> Result<Response, PageError> {
    match outcome {
        Ok(()) => Ok(back(slug, done)),
        Err(PartnerError::Store(error)) => Err(error.into()),
        Err(PartnerError::NotFound(_)) => Ok(refused(
            admin,
            "/admin/partners",
            "There is no such partner.",
        )),
        Err(other) => Ok(refused(
            admin,
            &format!("/admin/partners/{slug}"),
            &other.to_string(),
        )),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OptionFields {
    scope: Vec<String>,
    unstable_ids: String,
    strict: String,
}

/// `POST /admin/partners/{slug}/options`: scopes, unstable ids, strict proofs.
pub async fn options(
    State(state): State<AppState>,
    admin: AdminVisitor,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<OptionFields>,
) -> Result<Response, PageError> {
    let scopes = match scopes_of(&form.scope) {
        Ok(scopes) => scopes,
        Err(why) => return Ok(refused(&admin, &format!("/admin/partners/{slug}"), &why)),
    };
    let outcome = partners::set_options(
        &state.app,
        &admin.actor(),
        &slug,
        Some(!form.strict.is_empty()),
        Some(!form.unstable_ids.is_empty()),
        Some(scopes),
    )
    .await;
    answer(&admin, &slug, "options", outcome)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PullUrlField {
    pull_url: String,
}

/// `POST /admin/partners/{slug}/pull-url` (empty removes it).
pub async fn pull_url(
    State(state): State<AppState>,
    admin: AdminVisitor,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<PullUrlField>,
) -> Result<Response, PageError> {
    let outcome = partners::set_pull_url(&state.app, &admin.actor(), &slug, &form.pull_url).await;
    answer(&admin, &slug, "pull-url", outcome)
}

/// `POST /admin/partners/{slug}/logo`: a file upload (multipart, with the CSRF token), or
/// the remove button.
pub async fn logo(
    State(state): State<AppState>,
    admin: AdminVisitor,
    Path(slug): Path<String>,
    upload: CsrfUpload,
) -> Result<Response, PageError> {
    let change = if upload.fields.contains_key("remove") {
        LogoChange::Remove
    } else {
        match upload.file.map(Logo::check) {
            Some(Ok(logo)) => LogoChange::Set(logo),
            Some(Err(why)) => return Ok(refused(&admin, &format!("/admin/partners/{slug}"), &why)),
            None => {
                return Ok(refused(
                    &admin,
                    &format!("/admin/partners/{slug}"),
                    "Choose a PNG, JPEG, WebP or SVG file to upload.",
                ));
            }
        }
    };
    let outcome = partners::set_logo(&state.app, &admin.actor(), &slug, change).await;
    answer(&admin, &slug, "logo", outcome)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct WalletFields {
    push_url: String,
    token_url: String,
    client_id: String,
    client_secret: String,
    landing_url: String,
    remove: String,
}

/// `POST /admin/partners/{slug}/wallet`: set all five, or remove the wallet.
pub async fn wallet_settings(
    State(state): State<AppState>,
    admin: AdminVisitor,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<WalletFields>,
) -> Result<Response, PageError> {
    let change = if form.remove.is_empty() {
        WalletChange::Set {
            push_url: form.push_url,
            token_url: form.token_url,
            client_id: form.client_id,
            client_secret: form.client_secret,
            landing_url: form.landing_url,
        }
    } else {
        WalletChange::Remove
    };
    let outcome = wallet::set(&state.app, &admin.actor(), &slug, change).await;
    answer(&admin, &slug, "wallet", outcome)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MappingFields {
    achievement_type: String,
    section: String,
}

/// `POST /admin/partners/{slug}/mapping`: an achievement type → section override.
pub async fn mapping(
    State(state): State<AppState>,
    admin: AdminVisitor,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<MappingFields>,
) -> Result<Response, PageError> {
    let here = format!("/admin/partners/{slug}");
    let achievement_type = form.achievement_type.trim();
    if achievement_type.is_empty() || achievement_type.chars().count() > 200 {
        return Ok(refused(
            &admin,
            &here,
            "Give the achievement type as the partner sends it (at most 200 characters).",
        ));
    }
    let Some(section) = placeable(&form.section) else {
        return Ok(refused(&admin, &here, "Choose a resume section."));
    };
    match crate::services::mapping::assign(
        &state.app,
        &admin.actor(),
        Some(&slug),
        achievement_type,
        section,
    )
    .await
    {
        Ok(_) => Ok(back(&slug, "mapping")),
        Err(crate::services::mapping::MappingError::Store(error)) => Err(error.into()),
        Err(other) => Ok(refused(&admin, "/admin/partners", &other.to_string())),
    }
}

/// `POST /admin/partners/{slug}/rotate`: a new secret, shown once; old tokens stop working.
pub async fn rotate(
    State(state): State<AppState>,
    admin: AdminVisitor,
    Path(slug): Path<String>,
    _: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    match partners::rotate_secret(&state.app, &admin.actor(), &slug).await {
        Ok(issued) => secret_page(&state, &admin, "New secret", issued).await,
        Err(PartnerError::Store(error)) => Err(error.into()),
        Err(other) => Ok(refused(&admin, "/admin/partners", &other.to_string())),
    }
}

/// `POST /admin/partners/{slug}/disable`
pub async fn disable(
    State(state): State<AppState>,
    admin: AdminVisitor,
    Path(slug): Path<String>,
    _: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let outcome = partners::disable(&state.app, &admin.actor(), &slug).await;
    answer(&admin, &slug, "disabled", outcome)
}
