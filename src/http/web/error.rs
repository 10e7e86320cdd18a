//! The one way a page fails. A handler returns [`PageError`] (by `?` from a store or service
//! error); the [`render_failures`] layer around every page logs the cause once, with the
//! request's id, and answers with a page that shows that id so a person can quote it: 503
//! when the store is unavailable (an outage) or undid the write to break a deadlock with a
//! simultaneous one (trying again helps either way), 500 for anything else (a bug: it is
//! logged as an error). A panic in a page handler takes the same path.

use crate::export::ExportError;
use crate::services::accounts::AccountError;
use crate::services::activation::SearchError;
use crate::services::signing_key::SigningError;
use crate::store::StoreError;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::any::Any;

/// The header that carries a request's id: set on the way in (or kept from a proxy in
/// front), returned on the response, written in the logs and on error pages.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Why a page could not be shown.
#[derive(Debug, Clone)]
pub struct PageError {
    /// The store cannot be reached, or undid the write (a deadlock): nothing is wrong with
    /// the request or the code.
    outage: bool,
    /// What went wrong, for the log only: never shown (it may name tables or paths).
    cause: String,
}

impl PageError {
    /// A failure that is a bug wherever it comes from.
    pub fn bug(cause: impl std::fmt::Display) -> PageError {
        PageError {
            outage: false,
            cause: cause.to_string(),
        }
    }

    pub fn status(&self) -> StatusCode {
        if self.outage {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> PageError {
        PageError {
            outage: matches!(error, StoreError::Unavailable(_) | StoreError::Deadlock(_)),
            cause: error.to_string(),
        }
    }
}

/// The service errors that wrap a store error: the store's decides; any other variant that
/// reaches here is one the page does not answer itself, so a bug.
macro_rules! from_service_error {
    ($($error:ident),*) => {$(
        impl From<$error> for PageError {
            fn from(error: $error) -> PageError {
                match error {
                    $error::Store(store) => store.into(),
                    other => PageError::bug(other),
                }
            }
        }
    )*};
}

from_service_error!(AccountError, SearchError, SigningError);

impl From<ExportError> for PageError {
    fn from(error: ExportError) -> PageError {
        match error {
            ExportError::Store(store) | ExportError::Signing(SigningError::Store(store)) => {
                store.into()
            }
            other => PageError::bug(other),
        }
    }
}

/// Handlers answer with the status alone and the error in the response's extensions; the
/// layer renders the page, where the request id is known.
impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut response = self.status().into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// `CatchPanicLayer`'s answer to a panic in a page handler: a bug like any other.
pub fn panicked(payload: Box<dyn Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    PageError::bug(format!("a page handler panicked: {message}")).into_response()
}

/// Logs a page's failure once, with the request id, and answers with the error page.
pub async fn render_failures(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|id| id.to_str().ok())
        .unwrap_or("")
        .to_string();
    let response = next.run(request).await;
    let Some(error) = response.extensions().get::<PageError>().cloned() else {
        return response;
    };
    if error.outage {
        tracing::warn!(request_id, cause = %error.cause, "a page failed: the store is unavailable");
    } else {
        tracing::error!(request_id, cause = %error.cause, "a page failed");
    }
    error_page(&error, &request_id)
}

/// The page a person sees: what happened in their terms, and the id to quote.
fn error_page(error: &PageError, request_id: &str) -> Response {
    let (title, what) = if error.outage {
        (
            "Please try again",
            "The service is briefly unavailable. Nothing was changed; try again in a moment.",
        )
    } else {
        (
            "Something went wrong",
            "Something went wrong on our side and the page could not be shown. Please try again later.",
        )
    };
    let reference = format!("If you tell us about it, quote this reference: {request_id}.");
    let mut paragraphs = vec![what];
    if !request_id.is_empty() {
        paragraphs.push(&reference);
    }
    let mut page = super::message(error.status(), title, &paragraphs);
    if let Ok(id) = HeaderValue::from_str(request_id) {
        page.headers_mut().insert(REQUEST_ID, id);
    }
    page
}

/// Request ids this service makes: random, as unguessable as any other id it makes.
#[derive(Clone, Copy, Default)]
pub struct MakeRequestId;

impl tower_http::request_id::MakeRequestId for MakeRequestId {
    fn make_request_id<B>(
        &mut self,
        _request: &axum::http::Request<B>,
    ) -> Option<tower_http::request_id::RequestId> {
        HeaderValue::from_str(&crate::store::new_id())
            .ok()
            .map(tower_http::request_id::RequestId::new)
    }
}

/// An id a proxy in front set is kept when it looks like one (short, plain characters); any
/// other value is dropped, so that a new one is made: it is written to logs and pages.
pub async fn keep_plain_request_ids(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let plain = |id: &HeaderValue| {
        let bytes = id.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= 64
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    if request
        .headers()
        .get(&REQUEST_ID)
        .is_some_and(|id| !plain(id))
    {
        request.headers_mut().remove(&REQUEST_ID);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::with_request_ids;
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use std::sync::{Arc, Mutex};
    use tower::ServiceExt;

    /// The log lines written while `future` runs on this thread.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().expect("log")).into_owned()
        }
    }

    async fn fetch(routes: Router, path: &str) -> (StatusCode, String, String, String) {
        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let response = with_request_ids(super::super::with_page_errors(routes))
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let status = response.status();
        let id = response.headers()[REQUEST_ID]
            .to_str()
            .expect("id")
            .to_string();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        (
            status,
            id,
            String::from_utf8_lossy(&bytes).into_owned(),
            log.text(),
        )
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_bug_is_a_500_logged_once_with_the_request_id_the_page_shows() {
        async fn broken() -> Result<&'static str, PageError> {
            Err(StoreError::Other("no such table: secret_table".into()).into())
        }
        let routes = Router::new().route("/broken", axum::routing::get(broken));
        let (status, id, html, log) = fetch(routes, "/broken").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(html.contains("Something went wrong"), "{html}");
        assert!(!html.contains("briefly unavailable"));
        assert!(html.contains(&id), "{html}");
        assert!(
            !html.contains("secret_table"),
            "the cause is for the log only"
        );
        assert_eq!(log.matches("secret_table").count(), 1, "{log}");
        let line = log
            .lines()
            .find(|l| l.contains("secret_table"))
            .expect("line");
        assert!(line.contains("ERROR") && line.contains(&id), "{line}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn only_an_unavailable_store_or_a_deadlock_is_a_503() {
        async fn down() -> Result<&'static str, PageError> {
            Err(AccountError::Store(StoreError::Unavailable("connection refused".into())).into())
        }
        let routes = Router::new().route("/down", axum::routing::get(down));
        let (status, id, html, log) = fetch(routes, "/down").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(html.contains("briefly unavailable"), "{html}");
        assert!(html.contains(&id));
        assert!(
            log.contains("connection refused") && log.contains(&id),
            "{log}"
        );
        for (error, status) in [
            (
                PageError::from(StoreError::Conflict("x".into())),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                PageError::from(StoreError::Deadlock("x".into())),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                PageError::from(AccountError::RateLimited),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                PageError::from(ExportError::Signing(SigningError::Store(
                    StoreError::Unavailable("down".into()),
                ))),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                PageError::from(ExportError::Typesetting("font".into())),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ] {
            assert_eq!(error.status(), status, "{error:?}");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_panic_in_a_page_handler_is_the_500_page() {
        async fn boom() -> &'static str {
            panic!("secret internal detail")
        }
        let routes = Router::new().route("/boom", axum::routing::get(boom));
        let (status, id, html, log) = fetch(routes, "/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            html.contains("Something went wrong") && html.contains(&id),
            "{html}"
        );
        assert!(!html.contains("secret internal detail"));
        assert!(log.contains("secret internal detail"), "{log}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_request_id_that_is_not_plain_is_replaced() {
        async fn ok() -> &'static str {
            "ok"
        }
        let routes = with_request_ids(Router::new().route("/ok", axum::routing::get(ok)));
        for (sent, kept) in [
            ("abc-123_x.y", true),
            ("<script>", false),
            ("", false),
            (&"a".repeat(65), false),
        ] {
            let response = routes
                .clone()
                .oneshot(
                    Request::get("/ok")
                        .header("x-request-id", sent)
                        .body(Body::empty())
                        .expect("request"),
                )
                .await
                .expect("response");
            let id = response.headers()[REQUEST_ID].to_str().expect("id");
            assert_eq!(id == sent, kept, "{sent:?} -> {id:?}");
            assert!(!id.is_empty());
        }
    }
}
