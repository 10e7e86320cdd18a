//! The partner API under `/api/v1`: routes, their OpenAPI document (generated from the
//! handlers' annotations, so the two cannot drift), and Imsx errors for everything.

pub mod credentials;
pub mod docs;
pub mod imsx;
pub mod schemas;
pub mod token;

use crate::http::AppState;
use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CredentialConnect partner API",
        version = "1.3",
        description = "Credential issuers and wallets push people's Open Badges 3.0 and CLR 2.0 credentials into the holding area; each upload returns a link the person opens to put them on their resume. Errors are 1EdTech Imsx_StatusInfo bodies with an `errors` array of JSON pointers."
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "Authentication", description = "OAuth 2.0 client credentials"),
        (name = "Credentials", description = "Upload, read, replace and delete credentials"),
        (name = "Reference", description = "This document")
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
    }
}

/// The document as served: utoipa's, completed with what it cannot derive (`schemas`).
pub fn document(openapi: &utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut document = serde_json::to_value(openapi).unwrap_or_default();
    schemas::complete(&mut document);
    document
}

/// The routes and the document describing them.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(token::token))
        .routes(routes!(credentials::upload, credentials::list))
        .routes(routes!(
            credentials::read,
            credentials::replace,
            credentials::delete
        ))
        .routes(routes!(docs::openapi_json))
        .routes(routes!(docs::reference))
        .split_for_parts()
}
