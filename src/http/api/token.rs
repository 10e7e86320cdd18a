//! `POST /api/v1/token`: OAuth 2.0 client credentials (RFC 6749 §4.4) with HTTP Basic or
//! form credentials (§2.3.1), form or multipart bodies, and §5.2 error bodies.

use crate::http::AppState;
use crate::services::auth::{self, TokenError};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use std::collections::HashMap;

/// The token request's form (RFC 6749 §4.4.2), for the OpenAPI document; the handler reads
/// the form itself, urlencoded or multipart. A client that does not use HTTP Basic sends
/// `client_id` and `client_secret` as fields too; other fields are ignored.
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "describes the form in the OpenAPI document; `read_form` reads it"
)]
pub struct TokenRequest {
    /// Always `client_credentials`.
    #[schema(pattern = "^client_credentials$", example = "client_credentials")]
    grant_type: String,
    /// Space-separated scopes, a subset of the client's; all of them when omitted.
    /// (A form field is text or absent, never null: hence not an `Option`.)
    #[schema(
        required = false,
        pattern = "^(readonly|replace|delete)?( (readonly|replace|delete))*$",
        example = "readonly replace delete"
    )]
    scope: String,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always "Bearer".
    pub token_type: &'static str,
    /// Seconds of inactivity after which the token expires (each accepted request slides it).
    pub expires_in: u64,
    /// The granted scopes, space-separated.
    pub scope: String,
}

/// An error response (RFC 6749 §5.2).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OAuthError {
    /// invalid_request, invalid_client, unsupported_grant_type or invalid_scope.
    pub error: &'static str,
    pub error_description: String,
}

/// The token endpoint.
#[utoipa::path(
    post,
    path = "/api/v1/token",
    tag = "Authentication",
    summary = "Get an access token (OAuth 2.0 client credentials)",
    description = "Authenticate with HTTP Basic `client_id:client_secret` (or the `client_id` and `client_secret` form fields) and send `grant_type=client_credentials` as `application/x-www-form-urlencoded` or `multipart/form-data`. `scope` is an optional space-separated subset of `readonly replace delete`; omitted, the token gets every scope the client holds. The token expires after `expires_in` seconds without use; each accepted request slides that window, up to an absolute cap.",
    request_body(
        description = "grant_type=client_credentials&scope=readonly+replace+delete",
        content(
            (TokenRequest = "application/x-www-form-urlencoded"),
            (TokenRequest = "multipart/form-data"),
        )
    ),
    responses(
        (status = 200, description = "A bearer token", body = TokenResponse, headers(("Cache-Control" = String, description = "no-store"))),
        (status = 400, description = "invalid_request, unsupported_grant_type or invalid_scope", body = OAuthError),
        (status = 401, description = "invalid_client", body = OAuthError, headers(("WWW-Authenticate" = String, description = "Basic realm=\"CredentialConnect\""))),
        (status = 429, description = "slow_down: too many token requests from this address or for this client; retry after `Retry-After` seconds", body = OAuthError),
    ),
    security(("client_basic" = []))
)]
pub async fn token(State(state): State<AppState>, request: Request) -> Response {
    let client = crate::http::client_address(request.extensions());
    if !state.app.limiters.token_client.allow(&client) {
        return error_response(TokenError::SlowDown(
            "too many token requests from this address; wait a minute and retry (reuse a token: it lasts an hour)".into(),
        ));
    }
    match issue(&state, request).await {
        Ok(response) => response,
        Err(error) => error_response(error),
    }
}

async fn issue(state: &AppState, request: Request) -> Result<Response, TokenError> {
    let headers = request.headers().clone();
    let form = read_form(state, request).await?;
    let basic = basic_credentials(&headers)?;
    let form_credentials = form.get("client_id").map(|id| {
        (
            id.clone(),
            form.get("client_secret").cloned().unwrap_or_default(),
        )
    });
    let (client_id, client_secret) = match (basic, form_credentials) {
        (Some(_), Some(_)) => {
            return Err(TokenError::InvalidRequest(
                "send client credentials once: in the Authorization header or in the form, not both".into(),
            ));
        }
        (Some(credentials), None) | (None, Some(credentials)) => credentials,
        (None, None) => return Err(TokenError::InvalidClient),
    };
    if !state.app.limiters.token_client_id.allow(&client_id) {
        return Err(TokenError::SlowDown(
            "too many token requests for this client; wait a minute and retry (reuse a token: it lasts an hour)".into(),
        ));
    }
    match form.get("grant_type").map(String::as_str) {
        None | Some("") => {
            return Err(TokenError::InvalidRequest(
                "grant_type is required (client_credentials)".into(),
            ));
        }
        Some("client_credentials") => {}
        Some(_) => return Err(TokenError::UnsupportedGrantType),
    }
    let issued = auth::issue_token(
        &state.app,
        &client_id,
        &client_secret,
        form.get("scope").map(String::as_str),
    )
    .await?;
    let body = TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: issued.scopes.to_string(),
    };
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        axum::Json(body),
    )
        .into_response())
}

/// The request parameters RFC 6749 defines for this grant: each may be sent once.
const KNOWN_PARAMETERS: [&str; 4] = ["grant_type", "scope", "client_id", "client_secret"];

/// The form fields, from a urlencoded or multipart body. A repeated known parameter is an
/// error (RFC 6749 §3.2); unknown parameters are ignored, however often they appear.
async fn read_form(
    state: &AppState,
    request: Request,
) -> Result<HashMap<String, String>, TokenError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut fields: Vec<(String, String)> = Vec::new();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, state).await.map_err(|e| {
            TokenError::InvalidRequest(format!("unreadable multipart body: {}", e.body_text()))
        })?;
        while let Some(field) = multipart.next_field().await.map_err(|e| {
            TokenError::InvalidRequest(format!("unreadable multipart body: {}", e.body_text()))
        })? {
            let name = field.name().unwrap_or("").to_string();
            let value = field.text().await.map_err(|e| {
                TokenError::InvalidRequest(format!(
                    "unreadable multipart field {name:?}: {}",
                    e.body_text()
                ))
            })?;
            fields.push((name, value));
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded")
        || content_type.is_empty()
    {
        let bytes = axum::body::to_bytes(request.into_body(), 64 * 1024)
            .await
            .map_err(|_| {
                TokenError::InvalidRequest(
                    "the form body is unreadable or larger than 64 KiB".into(),
                )
            })?;
        fields.extend(url::form_urlencoded::parse(&bytes).into_owned());
    } else {
        return Err(TokenError::InvalidRequest(format!(
            "send the form as application/x-www-form-urlencoded or multipart/form-data, not {content_type}"
        )));
    }
    let mut form = HashMap::new();
    for (name, value) in fields {
        if !KNOWN_PARAMETERS.contains(&name.as_str()) {
            continue;
        }
        if form.insert(name.clone(), value).is_some() {
            return Err(TokenError::InvalidRequest(format!(
                "the field {name:?} appears more than once"
            )));
        }
    }
    Ok(form)
}

/// HTTP Basic client credentials, form-urlencoded inside as RFC 6749 §2.3.1 says.
pub fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, TokenError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| TokenError::InvalidClient)?;
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return Err(TokenError::InvalidClient);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(TokenError::InvalidRequest(format!(
            "authenticate the client with HTTP Basic, not {scheme}"
        )));
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| TokenError::InvalidClient)?;
    let text = String::from_utf8(decoded).map_err(|_| TokenError::InvalidClient)?;
    let (id, secret) = text.split_once(':').ok_or(TokenError::InvalidClient)?;
    Ok(Some((form_decode(id), form_decode(secret))))
}

/// One form-urlencoded value: `+` is a space and `%XX` a byte; anything else, `&` and `=`
/// included, is itself.
fn form_decode(part: &str) -> String {
    let spaced = part.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

fn error_response(error: TokenError) -> Response {
    let (status, code) = match &error {
        TokenError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
        TokenError::InvalidClient => (StatusCode::UNAUTHORIZED, "invalid_client"),
        TokenError::UnsupportedGrantType => (StatusCode::BAD_REQUEST, "unsupported_grant_type"),
        TokenError::InvalidScope(_) => (StatusCode::BAD_REQUEST, "invalid_scope"),
        TokenError::SlowDown(_) => (StatusCode::TOO_MANY_REQUESTS, "slow_down"),
        TokenError::Store(e) => {
            tracing::error!(error = %e, "token endpoint store failure");
            let status = match e {
                crate::store::StoreError::Unavailable(_)
                | crate::store::StoreError::Deadlock(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            return (
                status,
                [(header::CACHE_CONTROL, "no-store")],
                axum::Json(OAuthError {
                    error: "server_error",
                    error_description: "the token could not be issued; try again shortly".into(),
                }),
            )
                .into_response();
        }
    };
    let body = OAuthError {
        error: code,
        error_description: error.to_string(),
    };
    let mut response = (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
    }
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"CredentialConnect\""),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, value.parse().expect("header"));
        headers
    }

    #[test]
    fn basic_credentials_are_decoded_and_form_unescaped() {
        let encoded = STANDARD.encode("my%20client:s3cr%3At");
        let parsed = basic_credentials(&headers(&format!("Basic {encoded}"))).expect("ok");
        assert_eq!(parsed, Some(("my client".into(), "s3cr:t".into())));
    }

    #[test]
    fn basic_credentials_keep_every_character_of_the_id_and_secret() {
        // A raw `&` or `=` is no separator inside one value: nothing after it is dropped.
        let encoded = STANDARD.encode("a&b=c:s&x=y+z");
        let parsed = basic_credentials(&headers(&format!("Basic {encoded}"))).expect("ok");
        assert_eq!(parsed, Some(("a&b=c".into(), "s&x=y z".into())));
    }

    #[test]
    fn malformed_basic_credentials_are_invalid_client() {
        assert!(matches!(
            basic_credentials(&headers("Basic !!!")),
            Err(TokenError::InvalidClient)
        ));
        let no_colon = STANDARD.encode("nocolon");
        assert!(matches!(
            basic_credentials(&headers(&format!("Basic {no_colon}"))),
            Err(TokenError::InvalidClient)
        ));
        assert!(matches!(
            basic_credentials(&headers("Bearer x")),
            Err(TokenError::InvalidRequest(_))
        ));
    }
}
