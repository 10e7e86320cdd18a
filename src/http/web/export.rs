//! "Share My SmartResume": the resume as a PDF, as a signed credential, as LER-RS and as
//! JSON Resume, for the signed-in person and (the PDF) through a share link; and the
//! deployment's DID document, which the signed credentials point to.
//!
//! Every export carries the person's details: none may be kept by a cache.

use super::error::PageError;
use super::visitor::SignedInVisitor;
use super::{message, message_for, to_login};
use crate::domain::account::User;
use crate::export::{self, ExportError, ResumeDocument, Whose, pdf::Paper};
use crate::http::AppState;
use crate::services::{sharing, signing_key};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct PaperQuery {
    paper: Option<String>,
}

fn paper_of(query: &PaperQuery) -> Result<Paper, String> {
    match query.paper.as_deref() {
        None | Some("") => Ok(Paper::A4),
        Some(text) => {
            Paper::parse(text).ok_or_else(|| format!("paper must be a4 or letter, not {text:?}"))
        }
    }
}

/// A download: its type, a file name, and no caching anywhere.
fn download(content_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response();
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, disposition);
    }
    response.headers_mut().insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    response
}

pub(super) fn json_download(file_name: &str, value: &serde_json::Value) -> Response {
    let body = serde_json::to_vec_pretty(value).unwrap_or_default();
    download("application/json", file_name, body)
}

fn failed(error: ExportError) -> Response {
    PageError::from(error).into_response()
}

/// The signed-in person's resume document (their share link made if they have none).
async fn own_document(state: &AppState, user: &User) -> Result<ResumeDocument, Response> {
    match export::load(&state.app, Whose::Owner(&user.id)).await {
        Ok(Some(document)) => Ok(document),
        Ok(None) => Err(to_login("/resume")),
        Err(error) => Err(PageError::from(error).into_response()),
    }
}

fn file_stem(document: &ResumeDocument) -> String {
    let stem: String = document
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let stem = stem.trim_matches('-');
    if stem.is_empty() {
        "resume".into()
    } else {
        format!("resume-{stem}")
    }
}

/// `GET /resume/export/resume.pdf?paper=a4|letter`
pub async fn own_pdf(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Query(query): Query<PaperQuery>,
) -> Result<Response, Response> {
    let paper = paper_of(&query).map_err(|why| {
        message_for(
            &visitor,
            StatusCode::BAD_REQUEST,
            "That paper size is not offered",
            &[&why],
            Some(("/resume", "Back to my resume")),
        )
    })?;
    let document = own_document(&state, &user).await?;
    let bytes = export::pdf_with_attachments(&state.app, &document, paper)
        .await
        .map_err(failed)?;
    Ok(download(
        "application/pdf",
        &format!("{}.pdf", file_stem(&document)),
        bytes,
    ))
}

/// `GET /resume/export/resume-credential.json`
pub async fn own_credential(
    State(state): State<AppState>,
    SignedInVisitor(_, user): SignedInVisitor,
) -> Result<Response, Response> {
    let document = own_document(&state, &user).await?;
    let credential = export::signed_credential(&state.app, &document, Paper::A4)
        .await
        .map_err(failed)?;
    Ok(json_download("resume-credential.json", &credential))
}

/// `GET /resume/export/ler-rs.json`
pub async fn own_ler_rs(
    State(state): State<AppState>,
    SignedInVisitor(_, user): SignedInVisitor,
) -> Result<Response, Response> {
    let document = own_document(&state, &user).await?;
    Ok(json_download(
        "ler-rs.json",
        &export::ler_rs::build(&document),
    ))
}

/// `GET /resume/export/json-resume.json`
pub async fn own_json_resume(
    State(state): State<AppState>,
    SignedInVisitor(_, user): SignedInVisitor,
) -> Result<Response, Response> {
    let document = own_document(&state, &user).await?;
    Ok(json_download(
        "json-resume.json",
        &export::json_resume::build(&document),
    ))
}

/// `GET /r/{token}/resume.pdf`: the PDF of a shared resume, for whoever holds the link;
/// 404 once the link was stopped or replaced.
pub async fn shared_pdf(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<PaperQuery>,
) -> Result<Response, PageError> {
    let Ok(paper) = paper_of(&query) else {
        return Ok(no_such_paper());
    };
    let Some(document) = shared_document(&state, &token).await? else {
        return Ok(link_not_found());
    };
    let bytes = export::pdf_with_attachments(&state.app, &document, paper).await?;
    Ok(download(
        "application/pdf",
        &format!("{}.pdf", file_stem(&document)),
        bytes,
    ))
}

/// The resume a share link opens, its stale proofs checked again first (as the online
/// resume does); `None` when the link does not open one.
async fn shared_document(
    state: &AppState,
    token: &str,
) -> Result<Option<ResumeDocument>, PageError> {
    let Some(owner) = sharing::owner(&state.app, token).await? else {
        return Ok(None);
    };
    if let Err(error) = crate::services::verification::recheck_owned(&state.app, &owner).await {
        tracing::warn!(%error, "re-checking a shared resume's credentials failed");
    }
    let owner = &owner;
    Ok(export::load(&state.app, Whose::Shared { owner, token }).await?)
}

fn no_such_paper() -> Response {
    message(
        StatusCode::BAD_REQUEST,
        "That paper size is not offered",
        &["paper must be a4 or letter."],
    )
}

fn link_not_found() -> Response {
    let mut response = message(
        StatusCode::NOT_FOUND,
        "This link does not open a resume",
        &[
            "It may be mistyped, or its owner has stopped sharing or made a new link. Ask them for a current one.",
        ],
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /.well-known/did.json`: this deployment's DID document, every key it has signed
/// resume credentials with.
pub async fn did_document(State(state): State<AppState>) -> Response {
    match signing_key::document(&state.app).await {
        Ok(document) => (
            [
                (header::CONTENT_TYPE, "application/did+json"),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            serde_json::to_vec_pretty(&document).unwrap_or_default(),
        )
            .into_response(),
        Err(error) => PageError::from(error).into_response(),
    }
}
