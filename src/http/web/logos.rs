//! Logos served from our origin (`GET /logos/{digest}.{ext}`), and the `<img>` pages show
//! them with (`templates/_logo.html`, through [`LogoView`]).
//!
//! A logo's URL names the SHA-256 of its bytes, so it never changes: browsers and caches
//! keep it for a year, and a new logo is a new URL. An SVG was checked when uploaded
//! (`domain::logo`); it is served under a policy that runs nothing and loads nothing even if
//! opened on its own (`default-src 'none'`, `sandbox`), and pages show it through `<img>`,
//! which runs no script either.

use super::error::PageError;
use super::message;
use crate::domain::logo::LogoKind;
use crate::domain::logo::LogoRef;
use crate::http::AppState;
use crate::services::logos;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The policy every logo is served under: nothing runs, nothing loads but inline styles
/// (which an SVG's own `<style>` needs), and a document opened from it is sandboxed.
pub const LOGO_CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// A logo as a page shows it: `{% include "_logo.html" %}` with `logo` in scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoView {
    /// Our own path for it (`/logos/{digest}.{ext}`).
    pub src: String,
    /// Its owner's name: a logo stands for a name.
    pub alt: String,
    /// The class that sizes it (`partner-logo`, `marketplace-logo`).
    pub class: &'static str,
}

impl LogoView {
    pub fn of(logo: &LogoRef, alt: &str, class: &'static str) -> LogoView {
        LogoView {
            src: logo.path(),
            alt: alt.to_string(),
            class,
        }
    }

    /// A partner's logo, as the activation page (and any page listing partners) shows it.
    pub fn partner(logo: &LogoRef, partner_name: &str) -> LogoView {
        LogoView::of(logo, partner_name, "partner-logo")
    }
}

fn not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "Not found",
        &["There is no image here."],
    )
}

/// `GET /logos/{digest}.{ext}`: the logo's bytes, cached for a year; 304 to a browser that
/// has them.
pub async fn serve(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some((digest, extension)) = file.split_once('.') else {
        return Ok(not_found());
    };
    let well_formed = digest.len() == 64
        && digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let Some(kind) = LogoKind::from_extension(extension).filter(|_| well_formed) else {
        return Ok(not_found());
    };
    let Some(logo) = logos::by_digest(&state.app, digest).await? else {
        return Ok(not_found());
    };
    if logo.kind != kind {
        return Ok(not_found());
    }
    let etag = format!("\"{digest}\"");
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        logo.bytes.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(kind.content_type()),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(LOGO_CONTENT_SECURITY_POLICY),
    );
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    Ok(response)
}
