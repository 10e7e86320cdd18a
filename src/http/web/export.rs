//! "Share My SmartResume": the resume as a PDF, as a signed credential, as LER-RS and as
//! JSON Resume, for the signed-in person and (the PDF) through a share link; and the
//! deployment's DID document, which the signed credentials point to.
//!
//! Every export carries the person's details: none may be kept by a cache.

use super::error::PageError;
use super::visitor::Visitor;
use super::{message, message_for, to_login};
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

fn json_download(file_name: &str, value: &serde_json::Value) -> Response {
    let body = serde_json::to_vec_pretty(value).unwrap_or_default();
    download("application/json", file_name, body)
}

fn failed(error: ExportError) -> Response {
    PageError::from(error).into_response()
}

/// The signed-in person's resume document (their share link made if they have none).
async fn own_document(state: &AppState, visitor: &Visitor) -> Result<ResumeDocument, Response> {
    let Some(signed_in) = &visitor.signed_in else {
        return Err(to_login("/resume"));
    };
    match export::load(&state.app, Whose::Owner(&signed_in.user.id)).await {
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
    visitor: Visitor,
    Query(query): Query<PaperQuery>,
) -> Response {
    let paper = match paper_of(&query) {
        Ok(paper) => paper,
        Err(why) => {
            return message_for(
                &visitor,
                StatusCode::BAD_REQUEST,
                "That paper size is not offered",
                &[&why],
                Some(("/resume", "Back to my resume")),
            );
        }
    };
    let document = match own_document(&state, &visitor).await {
        Ok(document) => document,
        Err(response) => return response,
    };
    match export::pdf_with_attachments(&state.app, &document, paper).await {
        Ok(bytes) => download(
            "application/pdf",
            &format!("{}.pdf", file_stem(&document)),
            bytes,
        ),
        Err(error) => failed(error),
    }
}

/// `GET /resume/export/resume-credential.json`
pub async fn own_credential(State(state): State<AppState>, visitor: Visitor) -> Response {
    let document = match own_document(&state, &visitor).await {
        Ok(document) => document,
        Err(response) => return response,
    };
    match export::signed_credential(&state.app, &document, Paper::A4).await {
        Ok(credential) => json_download("resume-credential.json", &credential),
        Err(error) => failed(error),
    }
}

/// `GET /resume/export/ler-rs.json`
pub async fn own_ler_rs(State(state): State<AppState>, visitor: Visitor) -> Response {
    match own_document(&state, &visitor).await {
        Ok(document) => json_download("ler-rs.json", &export::ler_rs::build(&document)),
        Err(response) => response,
    }
}

/// `GET /resume/export/json-resume.json`
pub async fn own_json_resume(State(state): State<AppState>, visitor: Visitor) -> Response {
    match own_document(&state, &visitor).await {
        Ok(document) => json_download("json-resume.json", &export::json_resume::build(&document)),
        Err(response) => response,
    }
}

/// `GET /r/{token}/resume.pdf`: the PDF of a shared resume, for whoever holds the link;
/// 404 once the link was stopped or replaced.
pub async fn shared_pdf(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<PaperQuery>,
) -> Response {
    let not_found = || {
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
    };
    let Ok(paper) = paper_of(&query) else {
        return message(
            StatusCode::BAD_REQUEST,
            "That paper size is not offered",
            &["paper must be a4 or letter."],
        );
    };
    let owner = match sharing::owner(&state.app, &token).await {
        Ok(Some(owner)) => owner,
        Ok(None) => return not_found(),
        Err(error) => return PageError::from(error).into_response(),
    };
    // As the online resume does: proofs whose last check is stale are checked again.
    if let Err(error) = crate::services::verification::recheck_owned(&state.app, &owner).await {
        tracing::warn!(%error, "re-checking a shared resume's credentials failed");
    }
    let document = match export::load(
        &state.app,
        Whose::Shared {
            owner: &owner,
            token: &token,
        },
    )
    .await
    {
        Ok(Some(document)) => document,
        Ok(None) => return not_found(),
        Err(error) => return PageError::from(error).into_response(),
    };
    match export::pdf_with_attachments(&state.app, &document, paper).await {
        Ok(bytes) => download(
            "application/pdf",
            &format!("{}.pdf", file_stem(&document)),
            bytes,
        ),
        Err(error) => failed(error),
    }
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
