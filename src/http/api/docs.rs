//! The partner API's own documentation: the OpenAPI 3.1 document and a readable reference
//! page rendered from it (so the page cannot say anything the document does not).

use crate::http::AppState;
use crate::http::web::escape;
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
    axum::Json(state.openapi.as_ref().clone()).into_response()
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
    Html(state.reference_html.as_ref().clone())
}

/// Renders the reference page from the OpenAPI document.
pub fn render_reference(openapi: &Value) -> String {
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    let mut body = String::new();
    let info = &openapi["info"];
    body.push_str(&format!(
        "<h1>{}</h1><p>Version {}. Machine-readable: <a href=\"/api/v1/openapi.json\">openapi.json</a>.</p><p>{}</p>",
        escape(&text(&info["title"])),
        escape(&text(&info["version"])),
        escape(&text(&info["description"]))
    ));
    let mut toc = String::from("<nav aria-label=\"Endpoints\"><ul>");
    let mut sections = String::new();
    if let Some(paths) = openapi["paths"].as_object() {
        for (path, item) in paths {
            let Some(operations) = item.as_object() else {
                continue;
            };
            for (method, op) in operations {
                let anchor = format!("{method}-{}", path.replace(['/', '{', '}', '.'], "-"));
                let title = format!("{} {}", method.to_uppercase(), path);
                toc.push_str(&format!(
                    "<li><a href=\"#{anchor}\"><code>{}</code></a> — {}</li>",
                    escape(&title),
                    escape(&text(&op["summary"]))
                ));
                sections.push_str(&format!(
                    "<section id=\"{anchor}\"><h2><code>{}</code></h2><p><strong>{}</strong></p><p>{}</p>",
                    escape(&title),
                    escape(&text(&op["summary"])),
                    escape(&text(&op["description"]))
                ));
                if let Some(security) = op["security"].as_array() {
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
                    sections.push_str(&format!(
                        "<p>Authentication: {}</p>",
                        escape(&schemes.join("; "))
                    ));
                }
                if let Some(params) = op["parameters"].as_array() {
                    sections.push_str("<h3>Parameters</h3><ul>");
                    for p in params {
                        sections.push_str(&format!(
                            "<li><code>{}</code> ({}) — {}</li>",
                            escape(&text(&p["name"])),
                            escape(&text(&p["in"])),
                            escape(&text(&p["description"]))
                        ));
                    }
                    sections.push_str("</ul>");
                }
                if let Some(content) = op["requestBody"]["content"].as_object() {
                    let types: Vec<&String> = content.keys().collect();
                    sections.push_str(&format!(
                        "<h3>Request body</h3><p>{} — <code>{}</code></p>",
                        escape(&text(&op["requestBody"]["description"])),
                        escape(
                            &types
                                .iter()
                                .map(|t| t.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    ));
                }
                if let Some(responses) = op["responses"].as_object() {
                    sections.push_str("<h3>Responses</h3><table><thead><tr><th scope=\"col\">Status</th><th scope=\"col\">Meaning</th></tr></thead><tbody>");
                    for (status, response) in responses {
                        sections.push_str(&format!(
                            "<tr><td>{}</td><td>{}</td></tr>",
                            escape(status),
                            escape(&text(&response["description"]))
                        ));
                    }
                    sections.push_str("</tbody></table>");
                }
                sections.push_str("</section>");
            }
        }
    }
    toc.push_str("</ul></nav>");
    crate::http::web::page("API reference", &format!("{body}{toc}{sections}"))
}
