//! The HTTP edge: the partner API (`/api/v1`, Imsx errors) and the web pages, with the
//! middleware every response passes through (panics, body limit, security headers).
//!
//! Route map (a test checks it against the routers):
//! - `POST /api/v1/token` — OAuth client credentials
//! - `POST|GET /api/v1/credentials`, `GET|PUT|DELETE /api/v1/credentials/{id}`
//! - `GET /api/v1/openapi.json`, `GET /api/v1/docs`
//! - `GET /` — the start page; `GET /healthz`; `GET /static/style.css`, `GET /static/copy.js`
//! - `GET /logos/{file}` — a partner's or marketplace's logo (`{digest}.{ext}`, immutable)
//! - `GET|POST /signup`, `GET|POST /login`, `POST /logout`
//! - `GET|POST /verify/{token}` — the email confirmation link
//! - `GET|POST /reset`, `GET|POST /reset/{token}` — password reset
//! - `GET|POST /createmyresume/{token}` — the claim link; `POST /createmyresume/{token}/code`,
//!   `GET|POST /claims/{package}/code`, `POST /claims/{package}/confirm` — confirming the
//!   address a package was sent for with a one-time code
//! - `GET|POST /find/{partner}` — the partner's activation page
//! - `GET /inbox`, `GET|POST /inbox/{package}`, `POST /inbox/{package}/dismiss` — the import
//!   inbox
//! - `GET /import`, `POST /import/{partner}`, `GET /import/return/{partner}` — importing from a
//!   partner (pull)
//! - `GET /resume`, `POST /resume/contact`, `POST /resume/entries`,
//!   `POST /resume/entries/{id}/{action}`, `GET|POST /resume/entries/{id}/delete`,
//!   `POST /resume/skills/{id}/{action}`, `GET|POST /resume/skills/{id}/delete` — the resume
//!   builder
//! - `POST /resume/share`, `POST /resume/share/stop`, `GET /resume/preview` — sharing
//! - `POST /resume/wallet/{partner}` — "Share To My Wallet": queues a push, 303 to the wallet
//! - `GET /r/{token}`, `GET /r/{token}/resume.pdf` — a shared resume
//! - `GET|POST /r/{token}/signup` — an employer's free viewer account, made from a shared resume;
//!   `GET /r/{token}/credentials/{entry}` — a credential's verification details (viewer
//!   accounts); `GET /viewer` — the viewer account's own page
//! - `GET /resume/export/resume.pdf`, `GET /resume/export/resume-credential.json`,
//!   `GET /resume/export/ler-rs.json`, `GET /resume/export/json-resume.json` — exports
//! - `GET /.well-known/did.json` — this deployment's DID document
//! - `GET /account`, `POST /account/export`, `POST /account/erase` — the person's data:
//!   download everything held about them, erase the account
//! - `GET /admin`, `GET|POST /admin/second-factor`, `GET /admin/alerts`,
//!   `POST /admin/alerts/{id}/acknowledge`, `POST /admin/alerts/{id}/assign`,
//!   `GET /admin/audit`, `GET /admin/audit.jsonl`, `GET|POST /admin/partners`,
//!   `GET /admin/partners/{slug}`, `POST /admin/partners/{slug}/options`,
//!   `POST /admin/partners/{slug}/pull-url`, `POST /admin/partners/{slug}/logo`,
//!   `POST /admin/partners/{slug}/wallet`, `POST /admin/partners/{slug}/mapping`,
//!   `POST /admin/partners/{slug}/rotate`, `POST /admin/partners/{slug}/disable`,
//!   `GET|POST /admin/marketplaces`, `POST /admin/marketplaces/{id}/remove`, `GET /admin/mail`,
//!   `POST /admin/mail/whitelist`, `POST /admin/mail/whitelist/remove` — the admin area (404
//!   to everyone else)
pub mod api;
pub mod web;

use crate::services::App;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;

/// Every response's Content-Security-Policy, unless its handler set one (a logo sets a
/// stricter one). Images come from this origin only: logos are served from it too.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// What handlers share, behind one reference count: axum clones the state for every request
/// it routes (whether the handler reads it or not), and cloning each part's own (the app's
/// store, caches, limiters, keys…) cost the echo route a tenth of its time.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub app: App,
    pub openapi: serde_json::Value,
    pub reference_html: String,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The whole application as a router.
/// The address a request came from, as the rate limits count it: the peer's IP (behind a
/// reverse proxy every client shares the proxy's), or "unknown" where the server was not
/// started with connection info.
pub fn client_address(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |info| info.0.ip().to_string())
}

/// [`client_address`] as an extractor.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(&parts.extensions)))
    }
}

pub fn router(app: App) -> Router {
    let (api, openapi) = api::router();
    let openapi = api::document(&openapi);
    let reference_html = api::docs::render_reference(&openapi);
    let max_body = app.config.max_body_bytes;
    let bench_echo = app.config.bench_echo;
    let https = app.config.public_url.starts_with("https://");
    let admission = Admission::new(app.config.max_in_flight, app.config.max_queue_wait);
    let state = AppState(Arc::new(Shared {
        app,
        openapi,
        reference_html,
    }));
    let api = with_api_errors(
        api.route("/api/v1/{*rest}", axum::routing::any(api_not_found)),
        max_body,
    );
    let mut router = Router::new().merge(api).merge(web::router());
    if bench_echo {
        router = router.route("/bench/echo", axum::routing::post(echo));
    }
    if https {
        // Browsers that saw the site over https keep to it for a year.
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    let router = router
        .layer(axum::middleware::from_fn(move |request, next| {
            shed_load(admission.clone(), request, next)
        }))
        .layer(axum::middleware::from_fn(log_request));
    let routed = with_request_ids(router)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .with_state(state);
    // The framework adds `Allow` to a 405 outside every layer of the routes: what needs it
    // wraps the routed service.
    Router::new()
        .fallback_service(routed)
        .layer(axum::middleware::from_fn(list_allowed_methods))
}

/// Gives every request an id (`x-request-id`, kept from a proxy in front when it looks like
/// one), returned on its response: logs and error pages name it, so a person can quote it.
pub fn with_request_ids<S: Clone + Send + Sync + 'static>(routes: Router<S>) -> Router<S> {
    routes
        .layer(PropagateRequestIdLayer::new(web::error::REQUEST_ID))
        .layer(SetRequestIdLayer::new(
            web::error::REQUEST_ID,
            web::error::MakeRequestId,
        ))
        .layer(axum::middleware::from_fn(
            web::error::keep_plain_request_ids,
        ))
}

/// Makes every failure of the partner API an Imsx body: a panic becomes a 500, and the
/// framework's own plain-text rejections (405, 413, bad paths) are rewritten.
pub fn with_api_errors<S: Clone + Send + Sync + 'static>(
    routes: Router<S>,
    max_body: usize,
) -> Router<S> {
    routes
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::map_response(
            move |response: Response| async move {
                api::imsx::rewrite_framework_rejection(response, max_body)
            },
        ))
}

/// A 405 from the partner API names the methods the path allows, in its body as in `Allow`.
/// (The framework adds `Allow` outside the layers of a route, so the Imsx rewrite inside
/// them cannot see it: this wraps the whole router.)
async fn list_allowed_methods(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !api || response.status() != axum::http::StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let Some(allow) = response.headers().get(header::ALLOW).cloned() else {
        return response;
    };
    let description = format!(
        "this method is not allowed here; allowed: {}",
        allow.to_str().unwrap_or("")
    );
    let listed = api::imsx::ApiError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, description)
        .into_response();
    // The new body, with every header the response had (Allow, the security headers, the
    // request id) but those that describe the old body.
    let (mut parts, _) = response.into_parts();
    let (listed, body) = listed.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    if let Some(content_type) = listed.headers.get(header::CONTENT_TYPE) {
        parts
            .headers
            .insert(header::CONTENT_TYPE, content_type.clone());
    }
    Response::from_parts(parts, body)
}

/// Admission control: at most `permits` requests are handled at once; the others wait for a
/// turn, in arrival order, for at most `max_wait`, and are then answered 503. A fixed bound on
/// the wait rather than on the queue's length keeps an accepted request's latency bounded
/// whatever the machine's speed: under overload the queue holds at most `max_wait` of work,
/// and it is empty `max_wait` after the load drops.
#[derive(Clone)]
pub struct Admission {
    permits: Arc<tokio::sync::Semaphore>,
    max_wait: Duration,
}

impl Admission {
    /// `max_in_flight` 0 means no limit.
    pub fn new(max_in_flight: usize, max_wait: Duration) -> Admission {
        let permits = if max_in_flight == 0 {
            tokio::sync::Semaphore::MAX_PERMITS
        } else {
            max_in_flight
        };
        Admission {
            permits: Arc::new(tokio::sync::Semaphore::new(permits)),
            max_wait,
        }
    }

    /// A turn, at once or within `max_wait`; `None` when the request is to be shed.
    async fn admit(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Some(permit);
        }
        if self.max_wait.is_zero() {
            return None;
        }
        tokio::time::timeout(self.max_wait, self.permits.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    }
}

/// Past the limit of requests in flight and the longest wait for a turn, answers 503 (with
/// `Retry-After`): under overload the service stays responsive and recovers as soon as load
/// drops.
async fn shed_load(
    admission: Admission,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(_permit) = admission.admit().await else {
        if request.uri().path().starts_with("/api/") {
            return api::imsx::ApiError::overloaded().into_response();
        }
        let mut response = web::message(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "Very busy",
            &["The service is very busy right now. Nothing was changed: try again in a moment."],
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    next.run(request).await
}

/// Logs each request by its route template, never its raw path: claim links carry tokens.
async fn log_request(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "(unmatched)".to_string(), |p| p.as_str().to_string());
    let request_id = request
        .headers()
        .get(&web::error::REQUEST_ID)
        .and_then(|id| id.to_str().ok())
        .unwrap_or("")
        .to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, %route, request_id, status = response.status().as_u16(), micros = started.elapsed().as_micros() as u64, "request");
    response
}

async fn api_not_found() -> api::imsx::ApiError {
    api::imsx::ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "no such endpoint; see /api/v1/openapi.json",
    )
}

/// The load benchmark's baseline: the same server, no work.
async fn echo(body: bytes::Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    fn routes_behind(admission: Admission) -> Router {
        Router::new()
            .route("/api/v1/x", axum::routing::get(|| async { "ok" }))
            .route("/page", axum::routing::get(|| async { "ok" }))
            .layer(axum::middleware::from_fn(move |request, next| {
                shed_load(admission.clone(), request, next)
            }))
    }

    #[tokio::test]
    async fn past_the_in_flight_limit_requests_are_shed_with_503_and_retry_after() {
        let full = Admission::new(1, Duration::ZERO);
        let _busy = full
            .permits
            .clone()
            .try_acquire_owned()
            .expect("the one slot");
        let routes = routes_behind(full);
        for (path, json) in [("/api/v1/x", true), ("/page", false)] {
            let response = routes
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).expect("request"))
                .await
                .expect("response");
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers()[header::RETRY_AFTER], "1");
            let content_type = response.headers()[header::CONTENT_TYPE]
                .to_str()
                .expect("type")
                .to_string();
            assert_eq!(
                content_type.starts_with("application/json"),
                json,
                "{path}: {content_type}"
            );
        }
    }

    #[tokio::test]
    async fn a_request_past_the_limit_waits_its_turn_within_the_queue_time() {
        let admission = Admission::new(1, Duration::from_secs(5));
        let busy = admission
            .permits
            .clone()
            .try_acquire_owned()
            .expect("the one slot");
        let routes = routes_behind(admission);
        let waiting = tokio::spawn(
            routes.oneshot(
                Request::get("/api/v1/x")
                    .body(Body::empty())
                    .expect("request"),
            ),
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiting.is_finished(), "it waits while the slot is taken");
        drop(busy);
        let response = waiting.await.expect("task").expect("response");
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_request_that_waits_longer_than_the_queue_time_is_shed() {
        let admission = Admission::new(1, Duration::from_millis(200));
        let _busy = admission
            .permits
            .clone()
            .try_acquire_owned()
            .expect("the one slot");
        let started = std::time::Instant::now();
        let response = routes_behind(admission)
            .oneshot(
                Request::get("/api/v1/x")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        let waited = started.elapsed();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert!(waited >= Duration::from_millis(200), "waited {waited:?}");
        assert!(waited < Duration::from_secs(2), "waited {waited:?}");
    }

    /// The paths in the route map above: every `/...` inside backticks.
    fn mapped_paths() -> std::collections::BTreeSet<String> {
        let map = include_str!("mod.rs")
            .lines()
            .take_while(|line| line.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        map.split('`')
            .skip(1)
            .step_by(2)
            .filter_map(|route| route.split_once(' '))
            .map(|(_, path)| path.to_string())
            .collect()
    }

    #[test]
    fn the_route_map_lists_every_route() {
        let mapped = mapped_paths();
        let (_, openapi) = api::router();
        let api: Vec<String> = openapi.paths.paths.keys().cloned().collect();
        // Every `.route("/path", ...)` of the pages' routers (the admin area's is merged into
        // the pages'), however it is wrapped.
        let sources = [include_str!("web/mod.rs"), include_str!("web/admin/mod.rs")];
        let pages: Vec<String> = sources
            .iter()
            .flat_map(|source| source.split(".route("))
            .filter(|rest| rest.trim_start().starts_with('"'))
            .filter_map(|rest| rest.trim_start().strip_prefix('"'))
            .filter_map(|rest| rest.split('"').next())
            .map(str::to_string)
            .collect();
        assert!(pages.len() >= 25, "{pages:?}");
        let routed: std::collections::BTreeSet<String> = api.into_iter().chain(pages).collect();
        assert_eq!(mapped, routed);
    }

    #[tokio::test]
    async fn a_panic_in_an_api_handler_is_an_imsx_500_without_details() {
        async fn boom() -> &'static str {
            panic!("secret internal detail")
        }
        let routes: Router = Router::new().route("/api/v1/boom", axum::routing::get(boom));
        let response = with_api_errors(routes, 1024)
            .oneshot(
                Request::get("/api/v1/boom")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .expect("body");
        let body: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(
            body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"],
            "internal_server_error"
        );
        assert!(!String::from_utf8_lossy(&bytes).contains("secret internal detail"));
    }
}
