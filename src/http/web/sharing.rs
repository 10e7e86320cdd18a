//! Sharing the resume: making, replacing and ending the link, and the page an employer sees
//! when they open it.

use super::accounts::NoFields;
use super::error::PageError;
use super::resume::{ResumeView, shared_view};
use super::visitor::{CsrfForm, SignedInVisitor, Visitor};
use super::{Nav, message, render, to_login};
use crate::http::AppState;
use crate::services::sharing;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

#[derive(Template)]
#[template(path = "share_created.html")]
struct ShareCreated {
    nav: Nav,
    link: String,
}

/// `POST /resume/share`: a new link, shown once (only its digest is kept).
pub async fn create(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    _: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let token = sharing::create(&state.app, &user.id).await?;
    let page = ShareCreated {
        nav: Nav::of(&visitor),
        link: link(&state, &token),
    };
    Ok(private(visitor.finish(render(&page))))
}

/// A share link's address.
pub fn link(state: &AppState, token: &str) -> String {
    format!("{}/r/{token}", state.app.config.public_url)
}

/// `POST /resume/share/stop`: the link stops working at once.
pub async fn stop(
    State(state): State<AppState>,
    SignedInVisitor(_, user): SignedInVisitor,
    _: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    sharing::stop(&state.app, &user.id).await?;
    Ok(Redirect::to("/resume?done=unshared#share-heading").into_response())
}

/// The resume as whoever holds its share link sees it (public for the PDF benchmark, which
/// prints this page with Chromium).
#[derive(Template)]
#[template(path = "shared.html")]
pub struct SharedPage {
    pub nav: Nav,
    pub resume: ResumeView,
    /// Where the same resume is downloaded as a PDF.
    pub pdf_link: Option<String>,
    /// The shared resume's address (`/r/{token}`), under which each credential's details
    /// and the viewer sign-up are; `None` on the person's own preview.
    pub share_path: Option<String>,
    /// Whether to offer an employer a viewer account (nobody is signed in).
    pub invite_viewer: bool,
}

/// `GET /r/{token}`: the resume as an employer sees it. Opening it is counted for the
/// person (not when it is theirs), and a viewer account's opening is recorded by name.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let Some(mut resume) = sharing::open(&state.app, &token, visitor.user()).await? else {
        return Ok(no_resume());
    };
    super::resume::localize(&mut resume.entries, &visitor.languages);
    let page = SharedPage {
        nav: Nav::of(&visitor),
        resume: shared_view(resume),
        pdf_link: Some(format!("/r/{token}/resume.pdf")),
        share_path: Some(format!("/r/{token}")),
        invite_viewer: visitor.signed_in.is_none(),
    };
    Ok(private(visitor.finish(render(&page))))
}

/// The answer at a share link that does not open a resume (mistyped, replaced or stopped),
/// and at everything under it.
pub fn no_resume() -> Response {
    private(message(
        StatusCode::NOT_FOUND,
        "This link does not open a resume",
        &[
            "It may be mistyped, or its owner has stopped sharing or made a new link. Ask them for a current one.",
        ],
    ))
}

/// `GET /resume/preview`: the person's own resume as employers see it, in the look the
/// shared page and the PDF have in common.
pub async fn preview(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
) -> Result<Response, PageError> {
    let Some(loaded) = crate::services::resume::load(&state.app, &user.id).await? else {
        return Ok(to_login("/resume/preview"));
    };
    let page = SharedPage {
        nav: Nav::of(&visitor),
        resume: shared_view(loaded),
        pdf_link: Some("/resume/export/resume.pdf".into()),
        share_path: None,
        invite_viewer: false,
    };
    Ok(private(visitor.finish(render(&page))))
}

/// Share pages hold a person's details and, on creation, the link itself: no cache keeps
/// them and no search engine lists them.
pub fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    response
}
