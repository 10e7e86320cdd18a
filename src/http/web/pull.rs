//! Pull (use case 3): the Import Credentials page (`/import`), the form that sends a person
//! to a partner's pull URL (`POST /import/{partner}`), and the page the partner sends them
//! back to (`/import/return/{partner}`), whose deliveries are added with the inbox's own
//! form (`POST /inbox/{package}`).

use super::accounts::NoFields;
use super::claim::OfferView;
use super::error::PageError;
use super::logos::LogoView;
use super::visitor::{CsrfForm, SignedInVisitor, Visitor};
use super::{Nav, message_for, render};
use crate::domain::logo::LogoRef;
use crate::domain::partner::Partner;
use crate::http::AppState;
use crate::services::{logos, pull};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

/// A partner as the import pages show it, its logo served from this site.
pub struct PartnerView {
    pub slug: String,
    pub name: String,
    pub logo: Option<LogoView>,
}

impl PartnerView {
    fn of(partner: &Partner, logo: Option<&LogoRef>) -> PartnerView {
        PartnerView {
            slug: partner.slug.clone(),
            name: partner.name.clone(),
            // The name is written beside it: the image says nothing more.
            logo: logo.map(|logo| LogoView::of(logo, "", "partner-logo")),
        }
    }
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    nav: Nav,
    csrf: String,
    partners: Vec<PartnerView>,
}

pub async fn page(
    State(state): State<AppState>,
    SignedInVisitor(visitor, _): SignedInVisitor,
) -> Result<Response, PageError> {
    let partners = pull::partners(&state.app).await?;
    let logos: HashMap<String, LogoRef> = logos::of_partners(&state.app).await?;
    let page = render(&ImportPage {
        nav: Nav::of(&visitor),
        csrf: visitor.csrf(),
        partners: partners
            .iter()
            .map(|p| PartnerView::of(p, logos.get(&p.id)))
            .collect(),
    });
    // The import forms' answers redirect to the partners' pull URLs.
    let pull_urls = partners.iter().filter_map(|p| p.pull_url.as_deref());
    Ok(visitor.finish(super::form_redirects_to(page, pull_urls)))
}

fn not_offered(visitor: &Visitor) -> Response {
    message_for(
        visitor,
        StatusCode::NOT_FOUND,
        "Not found",
        &["No organisation here offers importing under this name."],
        Some(("/import", "Back to Import Credentials")),
    )
}

/// Sends the person to the partner's pull URL with a new recipient token and the address
/// of our return page (303). Whatever the form or the address carries besides the CSRF
/// token is ignored: the return address is always our own.
pub async fn start(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Path(slug): Path<String>,
    _: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    Ok(match pull::start(&state.app, &user.id, &slug).await? {
        Some(location) => Redirect::to(&location).into_response(),
        None => not_offered(&visitor),
    })
}

#[derive(Template)]
#[template(path = "import_return.html")]
struct ReturnPage {
    nav: Nav,
    csrf: String,
    partner: PartnerView,
    packages: Vec<OfferView>,
}

pub async fn returned(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let Some(arrived) = pull::arrived(&state.app, &user.id, &slug).await? else {
        return Ok(message_for(
            &visitor,
            StatusCode::NOT_FOUND,
            "Not found",
            &["There is no organisation here by this name."],
            Some(("/import", "Back to Import Credentials")),
        ));
    };
    let logo = logos::of_partner(&state.app, &arrived.partner.id).await?;
    let page = render(&ReturnPage {
        nav: Nav::of(&visitor),
        csrf: visitor.csrf(),
        partner: PartnerView::of(&arrived.partner, logo.as_ref()),
        packages: arrived
            .packages
            .into_iter()
            .map(|p| OfferView::of(p, true))
            .collect(),
    });
    Ok(visitor.finish(page))
}
