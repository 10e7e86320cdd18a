//! Errors of the partner API as 1EdTech `Imsx_StatusInfo` bodies (docs/partner-api.md, "Errors"),
//! with our `errors` array of JSON pointers. Internal failures are logged once, never sent.

use crate::domain::package::{MAX_LISTED_PROBLEMS, Problem};
use crate::services::auth::AuthError;
use crate::services::uploads::UploadError;
use crate::store::StoreError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The body of every error on `/api/v1/*` (except the token endpoint's OAuth errors).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[expect(non_snake_case, reason = "the field names are 1EdTech's")]
pub struct ImsxStatusInfo {
    /// Always "failure" for errors.
    pub imsx_codeMajor: &'static str,
    /// Always "error" for errors.
    pub imsx_severity: &'static str,
    /// What is wrong and how to fix it.
    pub imsx_description: String,
    pub imsx_codeMinor: ImsxCodeMinor,
    /// Every problem found, by JSON pointer into the request body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Problem>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[expect(non_snake_case, reason = "the field names are 1EdTech's")]
pub struct ImsxCodeMinor {
    pub imsx_codeMinorField: Vec<ImsxCodeMinorField>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[expect(non_snake_case, reason = "the field names are 1EdTech's")]
pub struct ImsxCodeMinorField {
    /// Always "TargetEndSystem".
    pub imsx_codeMinorFieldName: &'static str,
    /// The 1EdTech code minor value (invalid_data, unauthorizedrequest, forbidden, …).
    pub imsx_codeMinorFieldValue: &'static str,
}

/// An error answered by the partner API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub description: String,
    pub errors: Vec<Problem>,
    /// A `WWW-Authenticate` or `Allow` header to send along.
    pub header: Option<(header::HeaderName, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, description: impl Into<String>) -> ApiError {
        ApiError {
            status,
            description: description.into(),
            errors: Vec::new(),
            header: None,
        }
    }

    pub fn bad_request(description: impl Into<String>, errors: Vec<Problem>) -> ApiError {
        ApiError {
            errors,
            ..ApiError::new(StatusCode::BAD_REQUEST, description)
        }
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("{what} was not found"))
    }

    pub fn too_many_requests(description: &str) -> ApiError {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, description)
            .with_header(header::RETRY_AFTER, "60".into())
    }

    /// The service is at its limit of requests in flight: retry shortly.
    pub fn overloaded() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the service is at capacity; retry in a second",
        )
        .with_header(header::RETRY_AFTER, "1".into())
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "an internal error occurred; it has been logged. Try again, and contact us if it persists",
        )
    }

    fn with_header(mut self, name: header::HeaderName, value: String) -> ApiError {
        self.header = Some((name, value));
        self
    }

    pub fn code_minor(status: StatusCode) -> &'static str {
        match status.as_u16() {
            400 | 413 | 415 | 422 => "invalid_data",
            401 => "unauthorizedrequest",
            403 => "forbidden",
            404 => "not_found",
            405 => "not_allowed",
            406 => "not_acceptable",
            429 | 503 => "server_busy",
            _ => "internal_server_error",
        }
    }

    pub fn body(&self) -> ImsxStatusInfo {
        ImsxStatusInfo {
            imsx_codeMajor: "failure",
            imsx_severity: "error",
            imsx_description: self.description.clone(),
            imsx_codeMinor: ImsxCodeMinor {
                imsx_codeMinorField: vec![ImsxCodeMinorField {
                    imsx_codeMinorFieldName: "TargetEndSystem",
                    imsx_codeMinorFieldValue: Self::code_minor(self.status),
                }],
            },
            errors: self.errors.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some((name, value)) = &self.header
            && let Ok(value) = HeaderValue::from_str(value)
        {
            response.headers_mut().insert(name.clone(), value);
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the service is briefly unavailable; retry in a few seconds",
                )
                .with_header(header::RETRY_AFTER, "5".into())
            }
            // A unique rule broken by a simultaneous request, or a deadlock with one (one
            // the service did not already retry): the partner's retry is safe and will succeed.
            StoreError::Conflict(rule) | StoreError::Deadlock(rule) => {
                tracing::warn!(%rule, "store conflict answered as 503");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "a simultaneous request changed the same data; retry in a second",
                )
                .with_header(header::RETRY_AFTER, "1".into())
            }
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::internal()
            }
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> ApiError {
        match error {
            AuthError::Store(e) => e.into(),
            AuthError::InsufficientScope(scope) => {
                ApiError::new(StatusCode::FORBIDDEN, error.to_string()).with_header(
                    header::WWW_AUTHENTICATE,
                    format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\""),
                )
            }
            other => {
                let description = other.to_string();
                let challenge = format!(
                    "Bearer realm=\"CredentialConnect\", error=\"invalid_token\", error_description=\"{}\"",
                    description.replace('"', "'")
                );
                ApiError::new(StatusCode::UNAUTHORIZED, description)
                    .with_header(header::WWW_AUTHENTICATE, challenge)
            }
        }
    }
}

impl From<UploadError> for ApiError {
    fn from(error: UploadError) -> ApiError {
        match error {
            UploadError::Invalid(problems) => {
                let description = match problems.as_slice() {
                    [one] if one.pointer.is_empty() => {
                        format!("nothing was stored: {}", one.message)
                    }
                    [one] => format!("nothing was stored: {} (at {})", one.message, one.pointer),
                    many if many.len() > MAX_LISTED_PROBLEMS => format!(
                        "nothing was stored: more than {MAX_LISTED_PROBLEMS} problems; the first are listed in `errors` by JSON pointer, and the last entry counts the rest"
                    ),
                    many => format!(
                        "nothing was stored: {} problems, listed in `errors` by JSON pointer",
                        many.len()
                    ),
                };
                ApiError::bad_request(description, problems)
            }
            UploadError::Busy => ApiError {
                header: Some((header::RETRY_AFTER, "1".into())),
                ..ApiError::too_many_requests(
                    "this partner's earlier uploads are still being read and verified; send fewer at once and retry",
                )
            },
            UploadError::Store(e) => e.into(),
        }
    }
}

/// Rewrites the framework's own rejections (plain-text 4xx/5xx: bad path, method not
/// allowed, body too large, a panic) into Imsx bodies, keeping their status and headers.
pub fn rewrite_framework_rejection(response: Response, max_body_bytes: usize) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let description = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = response
                .headers()
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            format!("this method is not allowed here; allowed: {allowed}")
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("the request body is larger than the {max_body_bytes} bytes allowed")
        }
        StatusCode::NOT_FOUND => "no such endpoint; see /api/v1/openapi.json".to_string(),
        StatusCode::INTERNAL_SERVER_ERROR => ApiError::internal().description,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported Content-Type".to_string(),
        other => format!(
            "the request was refused: {}",
            other.canonical_reason().unwrap_or("error")
        ),
    };
    let mut rewritten = ApiError::new(status, description).into_response();
    for name in [header::ALLOW, header::WWW_AUTHENTICATE, header::RETRY_AFTER] {
        if let Some(value) = response.headers().get(&name) {
            rewritten.headers_mut().insert(name, value.clone());
        }
    }
    rewritten
}
