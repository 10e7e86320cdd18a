//! Who is asking: the session cookie, the CSRF token forms must carry, and the client
//! address rate limits count by. Also the form body reader (repeated fields allowed).

use crate::http::AppState;
use crate::secrets;
use crate::services::accounts;
use crate::store::users::{self, Session, User};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
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

fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let app = &state.app;
        let client = crate::http::client_address(&parts.extensions);
        let mut signed_in = None;
        if let Some(value) = cookie(&parts.headers, SESSION_COOKIE) {
            let session = accounts::session(app, value)
                .await
                .map_err(|error| super::error::PageError::from(error).into_response())?;
            if let Some(session) = session {
                let user_id = session.user_id.clone();
                let user = app
                    .store
                    .read(move |conn| users::by_id(conn, &user_id))
                    .await
                    .map_err(|error| super::error::PageError::from(error).into_response())?;
                if let Some(user) = user {
                    signed_in = Some(SignedIn {
                        user,
                        session,
                        cookie: value.to_string(),
                    });
                }
            }
        }
        let csrf_cookie = cookie(&parts.headers, CSRF_COOKIE).map(str::to_string);
        let new_csrf_cookie = match (&signed_in, &csrf_cookie) {
            (None, None) => Some(secrets::new_secret("")),
            _ => None,
        };
        Ok(Visitor {
            signed_in,
            csrf_cookie,
            new_csrf_cookie,
            device: cookie(&parts.headers, DEVICE_COOKIE).map(str::to_string),
            client,
            secure: app.config.public_url.starts_with("https://"),
            languages: parts
                .headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(crate::domain::language_tagged::wanted)
                .unwrap_or_default(),
        })
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

    /// Whether a submitted form carries this visitor's token (constant-time comparison).
    pub fn csrf_ok(&self, form: &FormData) -> bool {
        let expected = match (&self.signed_in, &self.csrf_cookie) {
            (Some(s), _) => s.session.csrf_token.as_str(),
            (None, Some(cookie)) => cookie.as_str(),
            (None, None) => return false,
        };
        let sent = form.get("csrf").unwrap_or("");
        !expected.is_empty() && bool::from(sent.as_bytes().ct_eq(expected.as_bytes()))
    }

    pub fn user(&self) -> Option<&User> {
        self.signed_in.as_ref().map(|s| &s.user)
    }

    fn cookie_attributes(&self) -> &'static str {
        if self.secure {
            "; Path=/; HttpOnly; SameSite=Lax; Secure"
        } else {
            "; Path=/; HttpOnly; SameSite=Lax"
        }
    }

    /// Adds the Set-Cookie headers this visitor needs (a first CSRF cookie).
    pub fn finish(&self, mut response: Response) -> Response {
        if let Some(token) = &self.new_csrf_cookie {
            let value = format!("{CSRF_COOKIE}={token}{}", self.cookie_attributes());
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        response
    }

    /// A response that signs the browser in with a new session cookie.
    pub fn sign_in(&self, mut response: Response, session_cookie: &str) -> Response {
        let value = format!(
            "{SESSION_COOKIE}={session_cookie}{}; Max-Age=2592000",
            self.cookie_attributes()
        );
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }

    /// Sets (or renews for a year) the browser's device cookie.
    pub fn remember_device(&self, mut response: Response, token: &str) -> Response {
        let value = format!(
            "{DEVICE_COOKIE}={token}{}; Max-Age=31536000",
            self.cookie_attributes()
        );
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }

    /// A response that forgets the session cookie.
    pub fn sign_out(&self, mut response: Response) -> Response {
        let value = format!("{SESSION_COOKIE}={}; Max-Age=0", self.cookie_attributes());
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }
}

/// A urlencoded form body; a field may repeat (checkbox lists).
pub struct FormData(Vec<(String, String)>);

impl FormData {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A trimmed text field; empty means absent.
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl FromRequest<AppState> for FormData {
    type Rejection = Response;

    async fn from_request(request: Request, _state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(request.into_body(), 256 * 1024)
            .await
            .map_err(|_| {
                super::message(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "Too much text",
                    &["The form was larger than we accept. Shorten it and try again."],
                )
                .into_response()
            })?;
        Ok(FormData(
            url::form_urlencoded::parse(&bytes).into_owned().collect(),
        ))
    }
}
