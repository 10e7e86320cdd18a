//! `/api/v1/credentials`: upload a package, list, read, replace and delete what this
//! partner sent (docs/partner-api.md, "Uploads" and "Read, replace, delete"). Handlers
//! parse, call one service, render.

use super::imsx::{ApiError, ImsxStatusInfo};
use crate::domain::json_tree::{Body, Node};
use crate::domain::lenient_json;
use crate::domain::scopes::Scope;
use crate::http::{AppState, ClientAddress};
use crate::services::auth::{self, Authenticated};
use crate::services::turns::Turn;
use crate::services::uploads::{self, Receipt};
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

/// The partner behind a valid bearer token.
pub struct Partner(pub Authenticated);

impl FromRequestParts<AppState> for Partner {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(auth::AuthError::Missing)?;
        let token = match header.trim().split_once(' ') {
            Some((scheme, token))
                if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
            {
                token
            }
            _ => return Err(auth::AuthError::Missing.into()),
        };
        Ok(Partner(auth::authenticate(&state.app, token).await?))
    }
}

/// Reads an upload body by its Content-Type: JSON (any `+json` type), or a compact JWS
/// (VC-JWT) as `text/plain` or `application/jwt`. Postman sends raw bodies as
/// `text/plain`, so `text/plain` that holds JSON is read as JSON.
fn read_body(headers: &HeaderMap, body: Bytes) -> Result<Body, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let is_json = content_type.is_empty()
        || content_type == "application/json"
        || (content_type.starts_with("application/") && content_type.ends_with("+json"));
    let is_text = content_type == "text/plain"
        || content_type == "application/jwt"
        || content_type.ends_with("+jwt");
    if !is_json && !is_text {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Content-Type {content_type:?} is not accepted: send application/json, or one compact JWS (VC-JWT) as text/plain"
            ),
        ));
    }
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Err(ApiError::bad_request(
            "the body is empty: send a JSON package",
            Vec::new(),
        ));
    }
    if is_text && !trimmed.starts_with(b"{") && !trimmed.starts_with(b"[") {
        return Body::try_new(Vec::from(body), |body| {
            std::str::from_utf8(body.trim_ascii()).map(|text| Node::String(text.into()))
        })
        .map_err(|_| ApiError::bad_request("the body is not UTF-8 text", Vec::new()));
    }
    lenient_json::parse_body(Vec::from(body))
        .map_err(|e| ApiError::bad_request(e.to_string(), Vec::new()))
}

/// Bodies larger than this take a turn to be parsed and read; smaller ones only when they
/// carry proofs to verify (`uploads`), so a partner's many small plain uploads never wait.
const TURN_BODY_BYTES: usize = 64 * 1024;

/// This partner's turn at parsing, reading and verifying (`services::turns`), so that one
/// partner's expensive bodies cannot take every core.
async fn upload_turn(state: &AppState, partner_id: &str) -> Result<Turn, ApiError> {
    state
        .app
        .limiters
        .upload_turns
        .take(partner_id)
        .await
        .ok_or_else(|| ApiError {
            header: Some((header::RETRY_AFTER, "1".into())),
            ..ApiError::too_many_requests(
                "this partner's earlier uploads are still being read and verified; send fewer at once and retry",
            )
        })
}

/// `read_body`, on the blocking pool for a large body: parsing a body of up to
/// `CC_MAX_BODY_BYTES` is linear but not instant, and an async worker busy parsing holds up
/// every request behind it. A small one is parsed here (`uploads::READ_IN_PLACE`).
async fn parse(headers: HeaderMap, body: Bytes) -> Result<Body, ApiError> {
    if body.len() <= uploads::READ_IN_PLACE {
        return read_body(&headers, body);
    }
    tokio::task::spawn_blocking(move || read_body(&headers, body))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "parsing an upload stopped");
            ApiError::internal()
        })?
}

/// Upload a package of credentials into the holding area.
#[utoipa::path(
    post,
    path = "/api/v1/credentials",
    tag = "Credentials",
    summary = "Upload credentials (a package)",
    description = "Body: a package `{\"recipient\": {...}, \"credentials\": [...]}` (or `\"credential\": {...}`, or one bare credential), each credential an OB 3.0 OpenBadgeCredential/AchievementCredential, a CLR 2.0 ClrCredential, or a compact JWS (VC-JWT). One compact JWS may also be sent alone as `text/plain`. All or nothing: any problem is a 400 listing every problem by JSON pointer, and nothing is stored. Sending an assertion id again updates it in place (`updated`, or `unchanged`). A `recipienttoken` (given to the partner's pull URL when a person starts an import) sends the package to that person's import inbox, within the hour it is valid and as often as needed, and the answer says `delivered: inbox`; `recipient` is then not needed. Requires scope `replace`.",
    request_body(content = Value, content_type = "application/json", description = "A credential package"),
    responses(
        (status = 200, description = "Stored durably", body = Receipt),
        (status = 400, description = "Invalid package: every problem by JSON pointer; nothing stored. An unknown or expired `recipienttoken`, or another partner's, is a problem at `/recipienttoken`", body = ImsxStatusInfo),
        (status = 401, description = "Missing, unknown or expired token", body = ImsxStatusInfo),
        (status = 403, description = "The token lacks scope `replace`", body = ImsxStatusInfo),
        (status = 413, description = "Body larger than the limit (5 MiB)", body = ImsxStatusInfo),
        (status = 415, description = "Unsupported Content-Type", body = ImsxStatusInfo),
        (status = 429, description = "Over this partner's upload rate, or this address's; retry after `Retry-After` seconds", body = ImsxStatusInfo),
        (status = 503, description = "Overloaded or the database is briefly unavailable; retry after `Retry-After` seconds", body = ImsxStatusInfo),
    ),
    security(("bearer" = ["replace"]))
)]
pub async fn upload(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Partner(partner): Partner,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    partner.require(Scope::Replace)?;
    within_upload_rates(&state, &partner.partner.id, &client)?;
    let turn = if body.len() > TURN_BODY_BYTES {
        Some(upload_turn(&state, &partner.partner.id).await?)
    } else {
        None
    };
    let body = parse(headers, body).await?;
    let receipt = uploads::accept(&state.app, &partner, body, turn).await?;
    Ok(axum::Json(receipt).into_response())
}

/// A replacement writes as an upload does, so both count against the partner's upload rate
/// and the address's: neither limit can be stepped round by sending the other request.
fn within_upload_rates(state: &AppState, partner_id: &str, client: &str) -> Result<(), ApiError> {
    if !state.app.limiters.upload_partner.allow(partner_id) {
        return Err(ApiError::too_many_requests(
            "this partner is sending uploads faster than its limit; wait a minute and retry",
        ));
    }
    if !state.app.limiters.upload_client.allow(client) {
        return Err(ApiError::too_many_requests(
            "too many uploads from this address, whatever the partner; wait a minute and retry",
        ));
    }
    Ok(())
}

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

fn paging(query: Option<&str>) -> Result<(i64, i64), ApiError> {
    let mut limit = DEFAULT_LIMIT;
    let mut offset = 0;
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let number = |what: &str| {
            value.parse::<i64>().map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("{what} must be a whole number, got {value:?}"),
                )
            })
        };
        match name.as_ref() {
            "limit" => limit = number("limit")?,
            "offset" => offset = number("offset")?,
            _ => {}
        }
    }
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("limit must be between 1 and {MAX_LIMIT}, got {limit}"),
        ));
    }
    if offset < 0 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("offset must be 0 or more, got {offset}"),
        ));
    }
    Ok((limit, offset))
}

/// List this partner's credentials as submitted.
#[utoipa::path(
    get,
    path = "/api/v1/credentials",
    tag = "Credentials",
    summary = "List the credentials this partner sent",
    description = "The OB 3.0 `GetOpenBadgeCredentialsResponse` shape: credentials sent as JSON are in `credential`, those sent as a compact JWS in `compactJwsString`. Oldest first. `X-Total-Count` gives the total and `Link` the `first`, `prev`, `next` and `last` pages. Requires scope `readonly`.",
    params(
        ("limit" = Option<i64>, Query, description = "Page size, 1–1000 (default 100)", minimum = 1, maximum = 1000),
        ("offset" = Option<i64>, Query, description = "How many to skip (default 0)", minimum = 0, maximum = 9223372036854775807_i64),
    ),
    responses(
        (status = 200, description = "One page", body = Value, headers(("X-Total-Count" = i64), ("Link" = String))),
        (status = 400, description = "Bad limit or offset", body = ImsxStatusInfo),
        (status = 401, description = "Missing, unknown or expired token", body = ImsxStatusInfo),
        (status = 403, description = "The token lacks scope `readonly`", body = ImsxStatusInfo),
    ),
    security(("bearer" = ["readonly"]))
)]
pub async fn list(
    State(state): State<AppState>,
    Partner(partner): Partner,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    partner.require(Scope::Readonly)?;
    let (limit, offset) = paging(query.as_deref())?;
    let (total, page) = uploads::list(&state.app, &partner, limit, offset).await?;
    auth::touch(&state.app, &partner).await?;
    let mut credential = Vec::new();
    let mut compact = Vec::new();
    for submitted in page {
        match submitted.jws {
            Some(jws) => compact.push(Value::String(jws)),
            None => credential.push(
                serde_json::from_str::<Value>(&submitted.document)
                    .map_err(|_| ApiError::internal())?,
            ),
        }
    }
    let mut body = json!({ "credential": credential });
    if !compact.is_empty() {
        body["compactJwsString"] = Value::Array(compact);
    }
    let base = format!("{}/api/v1/credentials", state.app.config.public_url);
    let link = |rel: &str, at: i64| format!("<{base}?limit={limit}&offset={at}>; rel=\"{rel}\"");
    let last = if total == 0 {
        0
    } else {
        (total - 1) / limit * limit
    };
    let mut links = vec![link("first", 0)];
    if offset > 0 {
        links.push(link("prev", (offset - limit).max(0)));
    }
    // Any offset up to i64::MAX is a valid (empty) page: no overflow past it.
    if let Some(next) = offset.checked_add(limit).filter(|&next| next < total) {
        links.push(link("next", next));
    }
    links.push(link("last", last));
    Ok((
        [
            ("X-Total-Count", total.to_string()),
            ("Link", links.join(", ")),
        ],
        axum::Json(body),
    )
        .into_response())
}

/// Read one credential as submitted.
#[utoipa::path(
    get,
    path = "/api/v1/credentials/{id}",
    tag = "Credentials",
    summary = "Read one credential this partner sent",
    description = "The credential as submitted: JSON, or the compact JWS as `text/plain` when it was sent as one. Another partner's credential is 404. Requires scope `readonly`.",
    params(("id" = String, Path, description = "The assertion id, URL-encoded")),
    responses(
        (status = 200, description = "The credential: JSON as sent, or the compact JWS it was sent as", content(
            (Value = "application/json"),
            (String = "text/plain"),
        )),
        (status = 401, description = "Missing, unknown or expired token", body = ImsxStatusInfo),
        (status = 403, description = "The token lacks scope `readonly`", body = ImsxStatusInfo),
        (status = 404, description = "This partner has no credential with that id", body = ImsxStatusInfo),
    ),
    security(("bearer" = ["readonly"]))
)]
pub async fn read(
    State(state): State<AppState>,
    Partner(partner): Partner,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    partner.require(Scope::Readonly)?;
    let submitted = uploads::find(&state.app, &partner, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("credential {id:?}")))?;
    auth::touch(&state.app, &partner).await?;
    Ok(match submitted.jws {
        Some(jws) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], jws).into_response(),
        None => (
            [(header::CONTENT_TYPE, "application/json")],
            submitted.document,
        )
            .into_response(),
    })
}

/// Replace one credential.
#[utoipa::path(
    put,
    path = "/api/v1/credentials/{id}",
    tag = "Credentials",
    summary = "Replace one credential this partner sent",
    description = "The body is one credential (JSON, or a compact JWS as `text/plain`) whose `id` equals the one in the URL; the same rules as an upload apply. Where a person already has it on a resume, the entry is updated in place. Requires scope `replace`.",
    params(("id" = String, Path, description = "The assertion id, URL-encoded")),
    request_body(content = Value, content_type = "application/json", description = "One credential"),
    responses(
        (status = 200, description = "Replaced", body = Receipt),
        (status = 400, description = "Invalid credential; nothing changed", body = ImsxStatusInfo),
        (status = 401, description = "Missing, unknown or expired token", body = ImsxStatusInfo),
        (status = 403, description = "The token lacks scope `replace`", body = ImsxStatusInfo),
        (status = 404, description = "This partner has no credential with that id", body = ImsxStatusInfo),
        (status = 413, description = "Body larger than the limit", body = ImsxStatusInfo),
        (status = 415, description = "Unsupported Content-Type", body = ImsxStatusInfo),
        (status = 429, description = "Over this partner's upload rate, or this address's (a replacement counts as an upload); retry after `Retry-After` seconds", body = ImsxStatusInfo),
        (status = 503, description = "Overloaded or the database is briefly unavailable; retry after `Retry-After` seconds", body = ImsxStatusInfo),
    ),
    security(("bearer" = ["replace"]))
)]
pub async fn replace(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Partner(partner): Partner,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    partner.require(Scope::Replace)?;
    within_upload_rates(&state, &partner.partner.id, &client)?;
    let turn = if body.len() > TURN_BODY_BYTES {
        Some(upload_turn(&state, &partner.partner.id).await?)
    } else {
        None
    };
    let body = parse(headers, body).await?;
    let receipt = uploads::replace(&state.app, &partner, &id, body, turn)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("credential {id:?}")))?;
    Ok(axum::Json(receipt).into_response())
}

/// Delete (revoke) one credential.
#[utoipa::path(
    delete,
    path = "/api/v1/credentials/{id}",
    tag = "Credentials",
    summary = "Delete (revoke) one credential this partner sent",
    description = "Removes it from the holding area (with anything nested in it) and marks it revoked on any resume, where it is no longer shown as the issuer's. Requires scope `delete`.",
    params(("id" = String, Path, description = "The assertion id, URL-encoded")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing, unknown or expired token", body = ImsxStatusInfo),
        (status = 403, description = "The token lacks scope `delete`", body = ImsxStatusInfo),
        (status = 404, description = "This partner has no credential with that id", body = ImsxStatusInfo),
    ),
    security(("bearer" = ["delete"]))
)]
pub async fn delete(
    State(state): State<AppState>,
    Partner(partner): Partner,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    partner.require(Scope::Delete)?;
    if uploads::delete(&state.app, &partner, &id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(&format!("credential {id:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_defaults_and_bounds() {
        assert_eq!(paging(None).ok(), Some((100, 0)));
        assert_eq!(paging(Some("limit=5&offset=10")).ok(), Some((5, 10)));
        assert!(paging(Some("limit=0")).is_err());
        assert!(paging(Some("limit=1001")).is_err());
        assert!(paging(Some("offset=-1")).is_err());
        assert!(paging(Some("limit=ten")).is_err());
    }
}
