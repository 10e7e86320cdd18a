//! Who is asking: the session cookie, the CSRF token forms must carry, and the client
//! address rate limits count by; and the extractors pages open with: the signed-in person
//! ([`SignedInVisitor`]) and a CSRF-checked form ([`CsrfForm`], [`CsrfUpload`] for files).

use super::error::PageError;
use crate::domain::account::{Session, User};
use crate::http::AppState;
use crate::secrets;
use crate::services::accounts;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

pub const SESSION_COOKIE: &str = "cc_session";
pub const CSRF_COOKIE: &str = "cc_csrf";
/// A random token naming this browser, set when someone signs in: a browser that has signed
/// in to an account before may still try its password when others have made too many
/// failed attempts (see `services::accounts::log_in`).
pub const DEVICE_COOKIE: &str = "cc_device";

/// The person behind a request, if signed in.
#[derive(Clone)]
pub struct Visitor {
    pub signed_in: Option<SignedIn>,
    /// The anonymous CSRF cookie, if the browser has one.
    csrf_cookie: Option<String>,
    /// A CSRF cookie to set with the response (first visit).
    pub new_csrf_cookie: Option<String>,
    /// The browser's device token, if it has one.
    pub device: Option<String>,
    pub client: String,
    secure: bool,
    /// The languages the browser asks for (`Accept-Language`), most wanted first: a name
    /// the issuer gave in several languages is shown in the first of these it has.
    pub languages: Vec<String>,
}

#[derive(Clone)]
pub struct SignedIn {
    pub user: User,
    pub session: Session,
    pub cookie: String,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Response;

    /// Read once per request (the sign-in and form extractors ask again): kept in the
    /// request's extensions.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(visitor) = parts.extensions.get::<Visitor>() {
            return Ok(visitor.clone());
        }
        let app = &state.app;
        let cookies = CookieJar::from_headers(&parts.headers);
        let mut signed_in = None;
        if let Some(value) = cookies.get(SESSION_COOKIE).map(Cookie::value) {
            let found = accounts::signed_in(app, value)
                .await
                .map_err(|error| PageError::from(error).into_response())?;
            signed_in = found.map(|(session, user)| SignedIn {
                user,
                session,
                cookie: value.to_string(),
            });
        }
        let csrf_cookie = cookies.get(CSRF_COOKIE).map(|c| c.value().to_string());
        let new_csrf_cookie = match (&signed_in, &csrf_cookie) {
            (None, None) => Some(secrets::new_secret("")),
            _ => None,
        };
        let visitor = Visitor {
            signed_in,
            csrf_cookie,
            new_csrf_cookie,
            device: cookies.get(DEVICE_COOKIE).map(|c| c.value().to_string()),
            client: crate::http::client_address(&parts.extensions),
            secure: app.config.public_url.starts_with("https://"),
            languages: parts
                .headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(crate::domain::language_tagged::wanted)
                .unwrap_or_default(),
        };
        parts.extensions.insert(visitor.clone());
        Ok(visitor)
    }
}

impl Visitor {
    /// The token forms on this page must carry.
    pub fn csrf(&self) -> String {
        match (&self.signed_in, &self.new_csrf_cookie, &self.csrf_cookie) {
            (Some(s), _, _) => s.session.csrf_token.clone(),
            (None, Some(fresh), _) => fresh.clone(),
            (None, None, Some(cookie)) => cookie.clone(),
            (None, None, None) => String::new(),
        }
    }

    /// Whether a submitted form's token is this visitor's (constant-time comparison).
    fn csrf_matches(&self, sent: &str) -> bool {
        let expected = match (&self.signed_in, &self.csrf_cookie) {
            (Some(s), _) => s.session.csrf_token.as_str(),
            (None, Some(cookie)) => cookie.as_str(),
            (None, None) => return false,
        };
        !expected.is_empty() && bool::from(sent.as_bytes().ct_eq(expected.as_bytes()))
    }

    pub fn user(&self) -> Option<&User> {
        self.signed_in.as_ref().map(|s| &s.user)
    }

    /// A cookie as this service sets them all: the whole site, never read by scripts, sent
    /// on top-level navigation from elsewhere (a link in an email) but not on cross-site
    /// posts, and only over https when the service is served so.
    fn cookie(&self, name: &'static str, value: &str, max_age_seconds: Option<i64>) -> HeaderValue {
        let mut cookie = Cookie::build((name, value.to_string()))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure);
        if let Some(seconds) = max_age_seconds {
            cookie = cookie.max_age(cookie::time::Duration::seconds(seconds));
        }
        // Names and values are ours (fixed names, random tokens): always a valid header.
        HeaderValue::from_str(&cookie.build().to_string())
            .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    fn set_cookie(
        &self,
        mut response: Response,
        name: &'static str,
        value: &str,
        max_age_seconds: Option<i64>,
    ) -> Response {
        let cookie = self.cookie(name, value, max_age_seconds);
        if !cookie.is_empty() {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        response
    }

    /// Adds the Set-Cookie headers this visitor needs (a first CSRF cookie).
    pub fn finish(&self, response: Response) -> Response {
        match &self.new_csrf_cookie {
            Some(token) => self.set_cookie(response, CSRF_COOKIE, token, None),
            None => response,
        }
    }

    /// A response that signs the browser in with a new session cookie (30 days).
    pub fn sign_in(&self, response: Response, session_cookie: &str) -> Response {
        self.set_cookie(response, SESSION_COOKIE, session_cookie, Some(2_592_000))
    }

    /// Sets (or renews for a year) the browser's device cookie.
    pub fn remember_device(&self, response: Response, token: &str) -> Response {
        self.set_cookie(response, DEVICE_COOKIE, token, Some(31_536_000))
    }

    /// A response that forgets the session cookie.
    pub fn sign_out(&self, response: Response) -> Response {
        self.set_cookie(response, SESSION_COOKIE, "", Some(0))
    }
}

/// The largest form body a page accepts.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// A signed-in job seeker's request, and the person. Anyone else is sent to log in, and back
/// afterwards to the page they were on (see [`back_after_login`]); a viewer account (an
/// employer's, which has no resume, inbox or claims) is sent to its own page.
pub struct SignedInVisitor(pub Visitor, pub User);

impl FromRequestParts<AppState> for SignedInVisitor {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let SignedInAccount(visitor, user) =
            SignedInAccount::from_request_parts(parts, state).await?;
        if user.is_viewer() {
            return Err(to_viewer_page());
        }
        Ok(SignedInVisitor(visitor, user))
    }
}

/// Any signed-in account, job seeker's or viewer's: for what every account has (its own
/// data, on `/account`). Anyone not signed in is sent to log in and back.
pub struct SignedInAccount(pub Visitor, pub User);

impl FromRequestParts<AppState> for SignedInAccount {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let visitor = Visitor::from_request_parts(parts, state).await?;
        match visitor.user().cloned() {
            Some(user) => Ok(SignedInAccount(visitor, user)),
            None => Err(super::to_login(&back_after_login(parts.uri.path()))),
        }
    }
}

/// Where a viewer account is sent from a job seeker's page.
pub fn to_viewer_page() -> Response {
    axum::response::Redirect::to("/viewer").into_response()
}

/// A signed-in viewer account's request (an employer's), and the account. Anyone not
/// signed in is sent to log in and back; a job seeker to their resume.
pub struct SignedInViewer(pub Visitor, pub User);

impl FromRequestParts<AppState> for SignedInViewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let SignedInAccount(visitor, user) =
            SignedInAccount::from_request_parts(parts, state).await?;
        if !user.is_viewer() {
            return Err(axum::response::Redirect::to("/resume").into_response());
        }
        Ok(SignedInViewer(visitor, user))
    }
}

/// Where log-in leads back to: a claim link to itself, the preview to itself, the inbox's
/// forms to the inbox, an import's return page to itself (a person back from a partner
/// whose session ended meanwhile), the import page and its forms to the import page, a
/// viewer account's page to itself, and everything else about the resume (its forms, its
/// downloads) to the resume page.
pub fn back_after_login(path: &str) -> String {
    if path.starts_with("/createmyresume/")
        || path == "/resume/preview"
        || path.starts_with("/import/return/")
    {
        path.to_string()
    } else if path.starts_with("/inbox") {
        "/inbox".to_string()
    } else if path == "/import" || path.starts_with("/import/") {
        "/import".to_string()
    } else if path.starts_with("/account") {
        "/account".to_string()
    } else if path == "/viewer" {
        path.to_string()
    } else {
        "/resume".to_string()
    }
}

/// A form that carries this visitor's CSRF token, deserialised into `T` (a field may repeat
/// into a `Vec`: checkbox lists). A form without the token is refused before `T` is read.
pub struct CsrfForm<T>(pub T);

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

fn unreadable_form() -> Response {
    super::message(
        StatusCode::BAD_REQUEST,
        "The form could not be read",
        &["Nothing was changed: go back, reload the page and try again."],
    )
}

/// The body as `T` by `axum_extra`'s form reader.
async fn read_form<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Response> {
    let request = Request::post("/")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(bytes.clone()))
        .map_err(|error| PageError::bug(error).into_response())?;
    match Form::<T>::from_request(request, &()).await {
        Ok(Form(value)) => Ok(value),
        Err(_) => Err(unreadable_form()),
    }
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let visitor = Visitor::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| {
                super::message(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Too much text",
                    &["The form was larger than we accept. Shorten it and try again."],
                )
            })?;
        let CsrfField { csrf } = read_form(&bytes).await?;
        if !visitor.csrf_matches(&csrf) {
            return Err(super::csrf_refused(&visitor));
        }
        Ok(CsrfForm(read_form(&bytes).await?))
    }
}

/// A trimmed text field; empty means absent.
pub fn text(value: &str) -> Option<String> {
    Some(value.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// A text field cut to `max` characters: what people type is kept within sensible bounds.
pub fn bounded(value: &str, max: usize) -> Option<String> {
    text(value).map(|v| v.chars().take(max).collect())
}

/// A multipart form (a file upload) that carries this visitor's CSRF token: its text fields
/// and its one file, used only once the token among the fields matches. The service's body
/// limit bounds it; what the file must be (a logo's type and size) is checked by its user.
pub struct CsrfUpload {
    pub fields: std::collections::HashMap<String, String>,
    pub file: Option<Vec<u8>>,
}

impl FromRequest<AppState> for CsrfUpload {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let visitor = Visitor::from_request_parts(&mut parts, state).await?;
        let mut multipart =
            axum::extract::Multipart::from_request(Request::from_parts(parts, body), state)
                .await
                .map_err(|_| unreadable_form())?;
        let mut upload = CsrfUpload {
            fields: std::collections::HashMap::new(),
            file: None,
        };
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|_| unreadable_form())?
        {
            let name = field.name().unwrap_or("").to_string();
            if field.file_name().is_some() {
                let bytes = field.bytes().await.map_err(|_| unreadable_form())?;
                if !bytes.is_empty() {
                    upload.file = Some(bytes.to_vec());
                }
            } else {
                let text = field.text().await.map_err(|_| unreadable_form())?;
                upload.fields.insert(name, text);
            }
        }
        let csrf = upload.fields.get("csrf").map_or("", String::as_str);
        if !visitor.csrf_matches(csrf) {
            return Err(super::csrf_refused(&visitor));
        }
        Ok(upload)
    }
}
