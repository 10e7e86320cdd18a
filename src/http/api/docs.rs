//! The partner API's own documentation: the OpenAPI 3.1 document and a readable reference
//! page rendered from it (so the page cannot say anything the document does not).

use crate::http::AppState;
use crate::http::web::Nav;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "Reference",
    summary = "This API's OpenAPI 3.1 document",
    responses((status = 200, description = "The document", body = Value))
)]
pub async fn openapi_json(State(state): State<AppState>) -> Response {
    axum::Json(state.openapi.clone()).into_response()
}

/// The human-readable API reference.
#[utoipa::path(
    get,
    path = "/api/v1/docs",
    tag = "Reference",
    summary = "This API's reference, as a web page",
    responses((status = 200, description = "HTML", content_type = "text/html"))
)]
pub async fn reference(State(state): State<AppState>) -> Html<String> {
    Html(state.reference_html.clone())
}

/// A run of text in a description: Markdown code spans (between backticks) are code.
pub struct Span {
    pub code: bool,
    pub text: String,
}

/// A description as paragraphs of spans (paragraphs are separated by blank lines).
pub fn prose(text: &str) -> Vec<Vec<Span>> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|paragraph| !paragraph.is_empty())
        .map(|paragraph| {
            paragraph
                .split('`')
                .enumerate()
                .filter(|(_, text)| !text.is_empty())
                .map(|(at, text)| Span {
                    code: at % 2 == 1,
                    text: text.to_string(),
                })
                .collect()
        })
        .collect()
}

pub struct Parameter {
    pub name: String,
    pub location: String,
    pub description: Vec<Vec<Span>>,
}

pub struct Operation {
    pub anchor: String,
    /// `METHOD /path`.
    pub title: String,
    pub summary: String,
    pub description: Vec<Vec<Span>>,
    /// The schemes that authenticate it, with their scopes.
    pub authentication: Option<String>,
    pub parameters: Vec<Parameter>,
    /// The request body's description and media types.
    pub body: Option<(Vec<Vec<Span>>, String)>,
    pub responses: Vec<(String, Vec<Vec<Span>>)>,
}

#[derive(Template)]
#[template(path = "api_reference.html")]
struct ReferencePage {
    nav: Nav,
    title: String,
    version: String,
    description: Vec<Vec<Span>>,
    operations: Vec<Operation>,
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or("").to_string()
}

fn authentication(op: &Value) -> Option<String> {
    let security = op["security"].as_array()?;
    let schemes: Vec<String> = security
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|s| {
            s.iter().map(|(name, scopes)| {
                let scopes: Vec<String> =
                    scopes.as_array().into_iter().flatten().map(text).collect();
                if scopes.is_empty() {
                    name.clone()
                } else {
                    format!("{name} ({})", scopes.join(", "))
                }
            })
        })
        .collect();
    Some(schemes.join("; "))
}

fn operation(path: &str, method: &str, op: &Value) -> Operation {
    let body = op["requestBody"]["content"].as_object().map(|content| {
        let types: Vec<&str> = content.keys().map(String::as_str).collect();
        (
            prose(&text(&op["requestBody"]["description"])),
            types.join(", "),
        )
    });
    Operation {
        anchor: format!("{method}-{}", path.replace(['/', '{', '}', '.'], "-")),
        title: format!("{} {}", method.to_uppercase(), path),
        summary: text(&op["summary"]),
        description: prose(&text(&op["description"])),
        authentication: authentication(op),
        parameters: op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| Parameter {
                name: text(&p["name"]),
                location: text(&p["in"]),
                description: prose(&text(&p["description"])),
            })
            .collect(),
        body,
        responses: op["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(status, response)| (status.clone(), prose(&text(&response["description"]))))
            .collect(),
    }
}

/// Renders the reference page from the OpenAPI document.
pub fn render_reference(openapi: &Value) -> String {
    let operations = openapi["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(path, item)| Some((path, item.as_object()?)))
        .flat_map(|(path, operations)| {
            operations
                .iter()
                .map(move |(method, op)| operation(path, method, op))
        })
        .collect();
    let info = &openapi["info"];
    let page = ReferencePage {
        nav: Nav {
            signed_in: false,
            viewer: false,
            csrf: String::new(),
            inbox: 0,
        },
        title: text(&info["title"]),
        version: text(&info["version"]),
        description: prose(&text(&info["description"])),
        operations,
    };
    page.render().unwrap_or_else(|error| {
        tracing::error!(%error, "rendering the API reference");
        String::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticks_are_code_spans() {
        let paragraphs = prose("Send `credentials` or `credential`.\n\nA second `one`");
        assert_eq!(paragraphs.len(), 2);
        let first: Vec<(bool, &str)> = paragraphs[0]
            .iter()
            .map(|s| (s.code, s.text.as_str()))
            .collect();
        assert_eq!(
            first,
            [
                (false, "Send "),
                (true, "credentials"),
                (false, " or "),
                (true, "credential"),
                (false, ".")
            ]
        );
    }
}
