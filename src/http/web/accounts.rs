//! Sign-up, email verification, log-in, log-out and password reset pages.

use super::visitor::{FormData, Visitor};
use super::{Nav, csrf_refused, message_for, render, unavailable};
use crate::forms::FieldError;
use crate::http::AppState;
use crate::services::accounts::{self, AccountError, Confirmed, LogIn, Proof, SignUp};
use crate::store::users::Profile;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// One input of the sign-up form.
pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: &'static str,
    pub value: String,
    pub autocomplete: &'static str,
    pub required: bool,
    pub error: Option<String>,
}

impl FieldView {
    /// A field as typed, with its message among `errors` (what was wrong with what was sent).
    pub fn new(
        name: &'static str,
        label: &'static str,
        kind: &'static str,
        value: &str,
        autocomplete: &'static str,
        required: bool,
        errors: &[FieldError],
    ) -> FieldView {
        FieldView {
            name,
            label,
            kind,
            value: value.to_string(),
            autocomplete,
            required,
            error: errors
                .iter()
                .find(|e| e.field == name)
                .map(|e| e.message.clone()),
        }
    }
}

/// The sign-up form, pre-filled (from a package's recipient, or what was typed).
pub struct SignupForm {
    pub csrf: String,
    pub claim: Option<String>,
    pub fields: Vec<FieldView>,
}

/// What the form starts with.
#[derive(Default, Clone)]
pub struct SignupValues {
    pub given_name: String,
    pub family_name: String,
    pub additional_name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
}

impl SignupForm {
    pub fn new(
        csrf: String,
        claim: Option<String>,
        values: &SignupValues,
        errors: &[FieldError],
    ) -> SignupForm {
        let field = |name, label, kind, value: &str, autocomplete, required| {
            FieldView::new(name, label, kind, value, autocomplete, required, errors)
        };
        SignupForm {
            csrf,
            claim,
            fields: vec![
                field(
                    "given_name",
                    "First name",
                    "text",
                    &values.given_name,
                    "given-name",
                    true,
                ),
                field(
                    "additional_name",
                    "Middle name",
                    "text",
                    &values.additional_name,
                    "additional-name",
                    false,
                ),
                field(
                    "family_name",
                    "Last name",
                    "text",
                    &values.family_name,
                    "family-name",
                    true,
                ),
                field("email", "Email", "email", &values.email, "email", true),
                field("phone", "Phone", "tel", &values.phone, "tel", false),
                field(
                    "address",
                    "Address",
                    "textarea",
                    &values.address,
                    "street-address",
                    false,
                ),
                field(
                    "password",
                    "Password (8 to 128 characters)",
                    "password",
                    "",
                    "new-password",
                    true,
                ),
            ],
        }
    }
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    nav: Nav,
    notice: Option<String>,
    form: SignupForm,
    login_href: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn signup_page(visitor: Visitor) -> Response {
    if visitor.signed_in.is_some() {
        return Redirect::to("/resume").into_response();
    }
    let form = SignupForm::new(visitor.csrf(), None, &SignupValues::default(), &[]);
    visitor.finish(render(&SignupPage {
        nav: Nav::of(&visitor),
        notice: None,
        form,
        login_href: "/login".into(),
    }))
}

#[derive(Template)]
#[template(path = "check_email.html")]
struct CheckEmailPage {
    nav: Nav,
    email: String,
    claim: bool,
}

pub async fn signup(State(state): State<AppState>, visitor: Visitor, form: FormData) -> Response {
    if !visitor.csrf_ok(&form) {
        return csrf_refused(&visitor);
    }
    let values = SignupValues {
        given_name: form.text("given_name").unwrap_or_default(),
        family_name: form.text("family_name").unwrap_or_default(),
        additional_name: form.text("additional_name").unwrap_or_default(),
        email: form.text("email").unwrap_or_default(),
        phone: form.text("phone").unwrap_or_default(),
        address: form.text("address").unwrap_or_default(),
    };
    let claim = form.text("claim").filter(|c| c.len() <= 200);
    let request = SignUp {
        email: values.email.clone(),
        password: form.get("password").unwrap_or("").to_string(),
        profile: Profile {
            given_name: form.text("given_name"),
            family_name: form.text("family_name"),
            additional_name: form.text("additional_name"),
            phone: form.text("phone"),
            address: form.text("address"),
            headline: None,
            summary: None,
        },
        claim_token: claim.clone(),
    };
    match accounts::sign_up(&state.app, request, &visitor.client).await {
        Ok(()) => visitor.finish(render(&CheckEmailPage {
            nav: Nav::of(&visitor),
            email: values.email.trim().to_lowercase(),
            claim: claim.is_some(),
        })),
        Err(AccountError::Invalid(errors)) => {
            let login_href = login_href(claim.as_deref());
            let page = SignupPage {
                nav: Nav::of(&visitor),
                notice: Some("Please correct the fields marked below.".into()),
                form: SignupForm::new(visitor.csrf(), claim, &values, &errors),
                login_href,
            };
            visitor.finish((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(AccountError::RateLimited) => too_many(&visitor),
        Err(AccountError::Store(_)) => unavailable(),
    }
}

pub fn login_href(claim: Option<&str>) -> String {
    match claim {
        Some(claim) => {
            // The claim token comes from a form: encoded, it stays one query value.
            let claim: String = url::form_urlencoded::byte_serialize(claim.as_bytes()).collect();
            format!("/login?next=%2Fcreatemyresume%2F{claim}")
        }
        None => "/login".into(),
    }
}

fn too_many(visitor: &Visitor) -> Response {
    message_for(
        visitor,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        &["Please wait a few minutes before trying again."],
        None,
    )
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    notice: Option<String>,
    csrf: String,
    next: String,
    email: String,
    signup_href: String,
}

fn login_view(visitor: &Visitor, next: &str, email: &str, notice: Option<&str>) -> LoginPage {
    let signup_href = next
        .strip_prefix("/createmyresume/")
        .map_or_else(|| "/signup".to_string(), |_| next.to_string());
    LoginPage {
        nav: Nav::of(visitor),
        notice: notice.map(str::to_string),
        csrf: visitor.csrf(),
        next: next.to_string(),
        email: email.to_string(),
        signup_href,
    }
}

pub async fn login_page(visitor: Visitor, Query(query): Query<NextQuery>) -> Response {
    let next = query
        .next
        .filter(|n| accounts::is_local_path(n))
        .unwrap_or_else(|| "/resume".into());
    if visitor.signed_in.is_some() {
        return Redirect::to(&next).into_response();
    }
    visitor.finish(render(&login_view(&visitor, &next, "", None)))
}

pub async fn login(State(state): State<AppState>, visitor: Visitor, form: FormData) -> Response {
    if !visitor.csrf_ok(&form) {
        return csrf_refused(&visitor);
    }
    let next = form
        .text("next")
        .filter(|n| accounts::is_local_path(n))
        .unwrap_or_else(|| "/resume".into());
    let email = form.text("email").unwrap_or_default();
    let refused = |status: StatusCode, notice: &str| {
        visitor.finish(
            (
                status,
                render(&login_view(&visitor, &next, &email, Some(notice))),
            )
                .into_response(),
        )
    };
    match accounts::log_in(
        &state.app,
        &email,
        form.get("password").unwrap_or(""),
        &visitor.client,
        visitor.device.as_deref(),
    )
    .await
    {
        // A new session id at every log-in; the old one ends.
        Ok(LogIn::Ok(user_id)) => {
            signed_in_as(
                &state,
                &visitor,
                &user_id,
                Redirect::to(&next).into_response(),
            )
            .await
        }
        Ok(LogIn::Refused) => refused(
            StatusCode::UNAUTHORIZED,
            "The email or password is not right.",
        ),
        Ok(LogIn::Unverified) => refused(
            StatusCode::FORBIDDEN,
            "Confirm your email address first, with the link we have emailed you (a new one comes with your first attempts to log in, a few an hour at most).",
        ),
        Err(AccountError::RateLimited) => message_for(
            &visitor,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            &[
                "There have been too many failed attempts to log in to this account. Please wait a while before trying again.",
                "If it is your account, the browser you usually log in with still can; or reset your password: the link we email you signs you in.",
            ],
            Some(("/reset", "Reset my password")),
        ),
        Err(_) => unavailable(),
    }
}

pub async fn logout(State(state): State<AppState>, visitor: Visitor, form: FormData) -> Response {
    if !visitor.csrf_ok(&form) {
        return csrf_refused(&visitor);
    }
    if let Some(signed_in) = &visitor.signed_in
        && accounts::end_session(&state.app, &signed_in.cookie)
            .await
            .is_err()
    {
        return unavailable();
    }
    visitor.sign_out(Redirect::to("/").into_response())
}

#[derive(Template)]
#[template(path = "confirm_email.html")]
struct ConfirmPage {
    nav: Nav,
    notice: Option<String>,
    csrf: String,
    token: String,
    /// The address of the account the link confirms.
    email: String,
    /// Someone else signed in in this browser: who, and the id their form must carry to
    /// say they chose to switch.
    signed_in_as: Option<String>,
    switch_from: Option<String>,
}

fn dead_confirmation_link(visitor: &Visitor) -> Response {
    message_for(
        visitor,
        StatusCode::NOT_FOUND,
        "This link does not work any more",
        &[
            "It has expired or was already used. Log in, and we will send you a new one if your email is not confirmed yet.",
        ],
        Some(("/login", "Log in")),
    )
}

fn confirm_page(
    visitor: &Visitor,
    status: StatusCode,
    token: String,
    confirmation: accounts::Confirmation,
    notice: Option<&str>,
) -> Response {
    let other = visitor
        .user()
        .filter(|user| user.id != confirmation.user_id);
    let page = ConfirmPage {
        nav: Nav::of(visitor),
        notice: notice.map(str::to_string),
        csrf: visitor.csrf(),
        token,
        email: confirmation.email,
        signed_in_as: other.map(|user| user.email.clone()),
        switch_from: other.map(|user| user.id.clone()),
    };
    visitor.finish((status, render(&page)).into_response())
}

/// `GET /verify/{token}`: the link in the confirmation mail opens a page with a form;
/// opening it changes nothing (mail scanners fetch links), and it says who is signed in
/// here when that is someone else.
pub async fn verify_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Response {
    match accounts::confirmation(&state.app, &token).await {
        Ok(Some(confirmation)) => confirm_page(&visitor, StatusCode::OK, token, confirmation, None),
        Ok(None) => dead_confirmation_link(&visitor),
        Err(_) => unavailable(),
    }
}

/// `POST /verify/{token}`: confirms with the password chosen at sign-up, or with a new one,
/// and signs the browser in, replacing whoever was signed in only when the form says they
/// chose to.
pub async fn verify(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
    form: FormData,
) -> Response {
    if !visitor.csrf_ok(&form) {
        return csrf_refused(&visitor);
    }
    let confirmation = match accounts::confirmation(&state.app, &token).await {
        Ok(Some(confirmation)) => confirmation,
        Ok(None) => return dead_confirmation_link(&visitor),
        Err(_) => return unavailable(),
    };
    if let Some(other) = visitor
        .user()
        .filter(|user| user.id != confirmation.user_id)
        && form.get("switch_from") != Some(other.id.as_str())
    {
        let notice = "Nothing was changed: choose whether to switch accounts.";
        return confirm_page(
            &visitor,
            StatusCode::CONFLICT,
            token,
            confirmation,
            Some(notice),
        );
    }
    let proof = match form.get("new_password").filter(|p| !p.is_empty()) {
        Some(new_password) => Proof::NewPassword(new_password.to_string()),
        None => Proof::Password(form.get("password").unwrap_or("").to_string()),
    };
    match accounts::confirm_email(&state.app, &token, proof, &visitor.client).await {
        Ok(Confirmed::Done { user_id, next }) => {
            signed_in_as(
                &state,
                &visitor,
                &user_id,
                Redirect::to(&next).into_response(),
            )
            .await
        }
        Ok(Confirmed::WrongPassword) => confirm_page(
            &visitor,
            StatusCode::UNAUTHORIZED,
            token,
            confirmation,
            Some(
                "That is not the password this account was created with. If you did not create it, or do not remember the password, choose a new one below.",
            ),
        ),
        Ok(Confirmed::DeadLink) => dead_confirmation_link(&visitor),
        Err(AccountError::Invalid(errors)) => {
            let notice = errors
                .first()
                .map(|e| format!("New password: {}.", e.message));
            confirm_page(
                &visitor,
                StatusCode::UNPROCESSABLE_ENTITY,
                token,
                confirmation,
                notice.as_deref(),
            )
        }
        Err(AccountError::RateLimited) => too_many(&visitor),
        Err(AccountError::Store(_)) => unavailable(),
    }
}

/// Signs the browser in as `user_id` with a new session (the one it had ends) and
/// remembers it as a browser of that account, answering with `response`.
async fn signed_in_as(
    state: &AppState,
    visitor: &Visitor,
    user_id: &str,
    response: Response,
) -> Response {
    if let Some(old) = &visitor.signed_in {
        let _ = accounts::end_session(&state.app, &old.cookie).await;
    }
    let device = accounts::remember_device(&state.app, user_id, visitor.device.as_deref()).await;
    match (accounts::start_session(&state.app, user_id).await, device) {
        (Ok((cookie, _)), Ok(device)) => {
            visitor.remember_device(visitor.sign_in(response, &cookie), &device)
        }
        _ => unavailable(),
    }
}

#[derive(Template)]
#[template(path = "reset_request.html")]
struct ResetRequestPage {
    nav: Nav,
    notice: Option<String>,
    csrf: String,
}

pub async fn reset_page(visitor: Visitor) -> Response {
    visitor.finish(render(&ResetRequestPage {
        nav: Nav::of(&visitor),
        notice: None,
        csrf: visitor.csrf(),
    }))
}

pub async fn reset_request(
    State(state): State<AppState>,
    visitor: Visitor,
    form: FormData,
) -> Response {
    if !visitor.csrf_ok(&form) {
        return csrf_refused(&visitor);
    }
    let email = form.text("email").unwrap_or_default();
    match accounts::request_reset(&state.app, &email, &visitor.client).await {
        Ok(()) => message_for(
            &visitor,
            StatusCode::OK,
            "Check your email",
            &[
                "If an account uses this address, we have sent it a link to choose a new password. The link works for one hour.",
            ],
            None,
        ),
        Err(AccountError::Invalid(errors)) => {
            let notice = errors.first().map(|e| e.message.clone());
            visitor.finish(
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    render(&ResetRequestPage {
                        nav: Nav::of(&visitor),
                        notice,
                        csrf: visitor.csrf(),
                    }),
                )
                    .into_response(),
            )
        }
        Err(AccountError::RateLimited) => too_many(&visitor),
        Err(AccountError::Store(_)) => unavailable(),
    }
}

#[derive(Template)]
#[template(path = "reset_form.html")]
struct ResetFormPage {
    nav: Nav,
    notice: Option<String>,
    csrf: String,
    token: String,
    /// Whose password the link sets.
    email: String,
    /// Someone else signed in in this browser: who, and the id the form must carry to say
    /// they chose to switch (saving signs the browser in to the link's account).
    signed_in_as: Option<String>,
    switch_from: Option<String>,
}

fn reset_page_for(
    visitor: &Visitor,
    status: StatusCode,
    token: String,
    account: accounts::Confirmation,
    notice: Option<String>,
) -> Response {
    let other = visitor.user().filter(|user| user.id != account.user_id);
    let page = ResetFormPage {
        nav: Nav::of(visitor),
        notice,
        csrf: visitor.csrf(),
        token,
        email: account.email,
        signed_in_as: other.map(|user| user.email.clone()),
        switch_from: other.map(|user| user.id.clone()),
    };
    visitor.finish((status, render(&page)).into_response())
}

fn dead_reset_link(visitor: &Visitor) -> Response {
    message_for(
        visitor,
        StatusCode::NOT_FOUND,
        "This link does not work any more",
        &["Reset links work once, for one hour. Ask for a new one."],
        Some(("/reset", "Ask for a new link")),
    )
}

pub async fn reset_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Response {
    match accounts::reset_link(&state.app, &token).await {
        Ok(Some(account)) => reset_page_for(&visitor, StatusCode::OK, token, account, None),
        Ok(None) => dead_reset_link(&visitor),
        Err(_) => unavailable(),
    }
}

pub async fn reset(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
    form: FormData,
) -> Response {
    if !visitor.csrf_ok(&form) {
        return csrf_refused(&visitor);
    }
    let account = match accounts::reset_link(&state.app, &token).await {
        Ok(Some(account)) => account,
        Ok(None) => return dead_reset_link(&visitor),
        Err(_) => return unavailable(),
    };
    // Saving signs the browser in to the link's account: someone else signed in here must
    // have chosen to switch (a link sent by someone else must not move them silently).
    if let Some(other) = visitor.user().filter(|user| user.id != account.user_id)
        && form.get("switch_from") != Some(other.id.as_str())
    {
        let notice = "Nothing was changed: choose whether to switch accounts.".to_string();
        return reset_page_for(&visitor, StatusCode::CONFLICT, token, account, Some(notice));
    }
    match accounts::reset_password(&state.app, &token, form.get("password").unwrap_or("")).await {
        Ok(Some(user_id)) => {
            signed_in_as(
                &state,
                &visitor,
                &user_id,
                Redirect::to("/resume").into_response(),
            )
            .await
        }
        Ok(None) => dead_reset_link(&visitor),
        Err(AccountError::Invalid(errors)) => {
            let notice = errors.first().map(|e| e.message.clone());
            reset_page_for(
                &visitor,
                StatusCode::UNPROCESSABLE_ENTITY,
                token,
                account,
                notice,
            )
        }
        Err(AccountError::RateLimited) => too_many(&visitor),
        Err(AccountError::Store(_)) => unavailable(),
    }
}
