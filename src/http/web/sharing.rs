//! Sharing the resume: making, replacing and ending the link, and the page an employer sees
//! when they open it.

use super::error::PageError;
use super::resume::{ResumeView, shared_view};
use super::visitor::{FormData, Visitor};
use super::{Nav, csrf_refused, message, render, to_login};
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
pub async fn create(State(state): State<AppState>, visitor: Visitor, form: FormData) -> Response {
    let Some(signed_in) = &visitor.signed_in else {
        return to_login("/resume");
    };
    if !visitor.csrf_ok(&form) {
        return csrf_refused(&visitor);
    }
    match sharing::create(&state.app, &signed_in.user.id).await {
        Ok(token) => {
            let page = ShareCreated {
                nav: Nav::of(&visitor),
                link: format!("{}/r/{token}", state.app.config.public_url),
            };
            private(visitor.finish(render(&page)))
        }
        Err(error) => PageError::from(error).into_response(),
    }
}

/// `POST /resume/share/stop`: the link stops working at once.
pub async fn stop(State(state): State<AppState>, visitor: Visitor, form: FormData) -> Response {
    let Some(signed_in) = &visitor.signed_in else {
        return to_login("/resume");
    };
    if !visitor.csrf_ok(&form) {
        return csrf_refused(&visitor);
    }
    match sharing::stop(&state.app, &signed_in.user.id).await {
        Ok(_) => Redirect::to("/resume?done=unshared#share-heading").into_response(),
        Err(error) => PageError::from(error).into_response(),
    }
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
}

/// `GET /r/{token}`: the resume as an employer sees it.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Response {
    match sharing::open(&state.app, &token).await {
        Ok(Some(mut resume)) => {
            super::resume::localize(&mut resume.entries, &visitor.languages);
            let page = SharedPage {
                nav: Nav::of(&visitor),
                resume: shared_view(resume),
                pdf_link: Some(format!("/r/{token}/resume.pdf")),
            };
            private(visitor.finish(render(&page)))
        }
        Ok(None) => private(message(
            StatusCode::NOT_FOUND,
            "This link does not open a resume",
            &[
                "It may be mistyped, or its owner has stopped sharing or made a new link. Ask them for a current one.",
            ],
        )),
        Err(error) => PageError::from(error).into_response(),
    }
}

/// `GET /resume/preview`: the person's own resume as employers see it, in the look the
/// shared page and the PDF have in common.
pub async fn preview(State(state): State<AppState>, visitor: Visitor) -> Response {
    let Some(signed_in) = &visitor.signed_in else {
        return to_login("/resume/preview");
    };
    match crate::services::resume::load(&state.app, &signed_in.user.id).await {
        Ok(Some(loaded)) => {
            let page = SharedPage {
                nav: Nav::of(&visitor),
                resume: shared_view(loaded),
                pdf_link: Some("/resume/export/resume.pdf".into()),
            };
            private(visitor.finish(render(&page)))
        }
        Ok(None) => to_login("/resume/preview"),
        Err(error) => PageError::from(error).into_response(),
    }
}

/// Share pages hold a person's details and, on creation, the link itself: no cache keeps
/// them and no search engine lists them.
fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    response
}
