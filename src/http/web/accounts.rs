//! Sign-up, email verification, log-in, log-out and password reset pages.

use super::error::PageError;
use super::visitor::{CsrfForm, Visitor, text};
use super::{Nav, message_for, render};
use crate::domain::account::Profile;
use crate::forms::{FieldError, FormErrors};
use crate::http::AppState;
use crate::services::accounts::{
    self, AccountError, Confirmation, Confirmed, LogIn, Proof, SignUp,
};
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
    /// The first field with a problem: the page opens with the focus on it.
    pub autofocus: bool,
    /// The most characters the field takes, if it has a limit.
    pub maxlength: Option<usize>,
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
        errors: &FormErrors,
    ) -> FieldView {
        FieldView {
            name,
            label,
            kind,
            value: value.to_string(),
            autocomplete,
            required,
            error: errors.message(name).map(str::to_string),
            autofocus: errors.focus(name),
            maxlength: None,
        }
    }

    /// The field, taking at most `max` characters.
    pub fn at_most(self, max: usize) -> FieldView {
        FieldView {
            maxlength: Some(max),
            ..self
        }
    }
}

/// The sign-up form, pre-filled (from a package's recipient, or what was typed).
pub struct SignupForm {
    pub csrf: String,
    pub claim: Option<String>,
    pub fields: Vec<FieldView>,
    pub errors: FormErrors,
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
        let errors = FormErrors::new(errors, &SIGNUP_FIELDS);
        let field = |name, label, kind, value: &str, autocomplete, required| {
            FieldView::new(name, label, kind, value, autocomplete, required, &errors)
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
            errors,
        }
    }
}

/// The sign-up form's fields, top to bottom.
const SIGNUP_FIELDS: [&str; 7] = [
    "given_name",
    "additional_name",
    "family_name",
    "email",
    "phone",
    "address",
    "password",
];

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    nav: Nav,
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

/// The sign-up form as sent.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignupFields {
    given_name: String,
    family_name: String,
    additional_name: String,
    email: String,
    phone: String,
    address: String,
    password: String,
    claim: String,
}

impl SignupFields {
    /// What the form shows again when something was wrong (trimmed, as sent otherwise).
    fn values(&self) -> SignupValues {
        let value = |v: &str| text(v).unwrap_or_default();
        SignupValues {
            given_name: value(&self.given_name),
            family_name: value(&self.family_name),
            additional_name: value(&self.additional_name),
            email: value(&self.email),
            phone: value(&self.phone),
            address: value(&self.address),
        }
    }

    /// The claim link the form was sent from (a token is short: anything longer is not one).
    fn claim(&self) -> Option<String> {
        text(&self.claim).filter(|c| c.len() <= 200)
    }

    fn request(self) -> SignUp {
        SignUp {
            email: text(&self.email).unwrap_or_default(),
            profile: Profile {
                given_name: text(&self.given_name),
                family_name: text(&self.family_name),
                additional_name: text(&self.additional_name),
                phone: text(&self.phone),
                address: text(&self.address),
                headline: None,
                summary: None,
            },
            claim_token: self.claim(),
            password: self.password,
        }
    }
}

pub async fn signup(
    State(state): State<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<SignupFields>,
) -> Result<Response, PageError> {
    let (values, claim) = (form.values(), form.claim());
    match accounts::sign_up(&state.app, form.request(), &visitor.client).await {
        Ok(()) => Ok(visitor.finish(render(&CheckEmailPage {
            nav: Nav::of(&visitor),
            email: values.email.to_lowercase(),
            claim: claim.is_some(),
        }))),
        Err(AccountError::Invalid(errors)) => {
            // Sent from a claim page: that page again, with the credentials it offers.
            if let Some(token) = &claim
                && let Some(page) =
                    super::claim::signup_again(&state, &visitor, token, &values, &errors).await?
            {
                return Ok(page);
            }
            Ok(signup_again(&visitor, claim, &values, &errors))
        }
        Err(error) => refused(&visitor, error),
    }
}

/// The sign-up form again, with what was wrong.
fn signup_again(
    visitor: &Visitor,
    claim: Option<String>,
    values: &SignupValues,
    errors: &[FieldError],
) -> Response {
    let page = SignupPage {
        nav: Nav::of(visitor),
        login_href: login_href(claim.as_deref()),
        form: SignupForm::new(visitor.csrf(), claim, values, errors),
    };
    visitor.finish((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// An account error a form does not answer itself: too many attempts, or a failure.
fn refused(visitor: &Visitor, error: AccountError) -> Result<Response, PageError> {
    match error {
        AccountError::RateLimited => Ok(too_many(visitor)),
        other => Err(other.into()),
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
    errors: FormErrors,
    fields: Vec<FieldView>,
    csrf: String,
    next: String,
    signup_href: String,
}

/// The log-in page, with the email typed and, after a refusal, what was wrong.
fn login_view(visitor: &Visitor, next: &str, email: &str, errors: &[FieldError]) -> LoginPage {
    // From a shared resume, the sign-up offered is a viewer account's, on that resume.
    let shared = next
        .strip_prefix("/r/")
        .and_then(|rest| rest.split('/').next())
        .map(|token| format!("/r/{token}/signup"));
    let signup_href = match shared {
        Some(signup) => signup,
        None => next
            .strip_prefix("/createmyresume/")
            .map_or_else(|| "/signup".to_string(), |_| next.to_string()),
    };
    let errors = FormErrors::new(errors, &["email", "password"]);
    let field = |name, label, kind, value: &str, autocomplete| {
        FieldView::new(name, label, kind, value, autocomplete, true, &errors)
    };
    LoginPage {
        nav: Nav::of(visitor),
        fields: vec![
            field("email", "Email", "email", email, "username"),
            field("password", "Password", "password", "", "current-password"),
        ],
        errors,
        csrf: visitor.csrf(),
        next: next.to_string(),
        signup_href,
    }
}

/// Where a log-in leads: a path on this site, or the resume.
fn next_page(next: Option<String>) -> String {
    next.filter(|n| accounts::is_local_path(n))
        .unwrap_or_else(|| "/resume".into())
}

pub async fn login_page(visitor: Visitor, Query(query): Query<NextQuery>) -> Response {
    let next = next_page(query.next);
    if visitor.signed_in.is_some() {
        return Redirect::to(&next).into_response();
    }
    visitor.finish(render(&login_view(&visitor, &next, "", &[])))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginFields {
    next: String,
    email: String,
    password: String,
}

const LOCKED_OUT: [&str; 2] = [
    "There have been too many failed attempts to log in to this account. Please wait a while before trying again.",
    "If it is your account, the browser you usually log in with still can; or reset your password: the link we email you signs you in.",
];

pub async fn login(
    State(state): State<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<LoginFields>,
) -> Result<Response, PageError> {
    let next = next_page(text(&form.next));
    let email = text(&form.email).unwrap_or_default();
    let refused = |status: StatusCode, problem: FieldError| {
        let page = render(&login_view(&visitor, &next, &email, &[problem]));
        Ok(visitor.finish((status, page).into_response()))
    };
    let device = visitor.device.as_deref();
    match accounts::log_in(&state.app, &email, &form.password, &visitor.client, device).await {
        // A new session id at every log-in; the old one ends.
        Ok(LogIn::Ok(user_id)) => signed_in_as(&state, &visitor, &user_id, &next).await,
        Ok(LogIn::Refused) => refused(
            StatusCode::UNAUTHORIZED,
            FieldError::new("password", WRONG_PASSWORD),
        ),
        Ok(LogIn::Unverified) => {
            refused(StatusCode::FORBIDDEN, FieldError::new("email", UNVERIFIED))
        }
        Err(AccountError::RateLimited) => Ok(locked_out(&visitor)),
        Err(error) => Err(error.into()),
    }
}

const WRONG_PASSWORD: &str = "The email or password is not right.";
const UNVERIFIED: &str = "Confirm your email address first, with the link we have emailed you (a new one comes with your first attempts to log in, a few an hour at most).";

fn locked_out(visitor: &Visitor) -> Response {
    message_for(
        visitor,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        &LOCKED_OUT,
        Some(("/reset", "Reset my password")),
    )
}

#[derive(Deserialize)]
pub struct NoFields {}

pub async fn logout(
    State(state): State<AppState>,
    visitor: Visitor,
    _: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    if let Some(signed_in) = &visitor.signed_in {
        accounts::end_session(&state.app, &signed_in.cookie).await?;
    }
    Ok(visitor.sign_out(Redirect::to("/").into_response()))
}

/// Someone else is signed in in this browser while a link for another account is open
/// (a confirmation or a reset): who, and the id the form must carry to say they chose to
/// switch, since following the link signs the browser in to the link's account.
pub struct OtherAccount {
    pub email: String,
    pub id: String,
}

impl OtherAccount {
    fn of(visitor: &Visitor, link_account: &str) -> Option<OtherAccount> {
        visitor
            .user()
            .filter(|user| user.id != link_account)
            .map(|user| OtherAccount {
                email: user.email.clone(),
                id: user.id.clone(),
            })
    }

    /// Whether the form says the person chose to switch away from this account.
    fn chosen(&self, switch_from: &str) -> bool {
        switch_from == self.id
    }
}

/// The answer when someone else is signed in and the form does not say they chose to switch.
const CHOOSE_TO_SWITCH: &str = "Nothing was changed: choose whether to switch accounts.";

/// The form shared by the confirmation and reset pages.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkFields {
    switch_from: String,
    password: String,
    new_password: String,
}

impl LinkFields {
    /// Whether sending it may sign the browser in to the link's account: nobody else is
    /// signed in here, or the form says they chose to switch.
    fn may_sign_in(&self, visitor: &Visitor, account: &Confirmation) -> bool {
        OtherAccount::of(visitor, &account.user_id).is_none_or(|o| o.chosen(&self.switch_from))
    }

    /// A confirmation's proof: a new password when one was typed, else the sign-up one.
    fn proof(self) -> Proof {
        if self.new_password.is_empty() {
            Proof::Password(self.password)
        } else {
            Proof::NewPassword(self.new_password)
        }
    }
}

#[derive(Template)]
#[template(path = "confirm_email.html")]
struct ConfirmPage {
    nav: Nav,
    notice: Option<String>,
    errors: FormErrors,
    password: FieldView,
    new_password: FieldView,
    csrf: String,
    token: String,
    /// The address of the account the link confirms.
    email: String,
    other: Option<OtherAccount>,
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

/// The confirmation page; `notice` (if not empty) says why it is shown again, `errors` what
/// was wrong with a password.
fn confirm_page(
    visitor: &Visitor,
    status: StatusCode,
    token: &str,
    confirmation: &Confirmation,
    (notice, errors): (&str, &[FieldError]),
) -> Response {
    let errors = FormErrors::new(errors, &["password", "new_password"]);
    let field = |name, label, autocomplete| {
        FieldView::new(name, label, "password", "", autocomplete, true, &errors)
    };
    let page = ConfirmPage {
        nav: Nav::of(visitor),
        notice: text(notice),
        password: field("password", "Password", "current-password"),
        new_password: field(
            "new_password",
            "New password (8 to 128 characters)",
            "new-password",
        ),
        errors,
        csrf: visitor.csrf(),
        token: token.to_string(),
        other: OtherAccount::of(visitor, &confirmation.user_id),
        email: confirmation.email.clone(),
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
) -> Result<Response, PageError> {
    Ok(match accounts::confirmation(&state.app, &token).await? {
        Some(confirmation) => {
            confirm_page(&visitor, StatusCode::OK, &token, &confirmation, ("", &[]))
        }
        None => dead_confirmation_link(&visitor),
    })
}

const NOT_THE_SIGN_UP_PASSWORD: &str = "That is not the password this account was created with. If you did not create it, or do not remember the password, choose a new one below.";

/// `POST /verify/{token}`: confirms with the password chosen at sign-up, or with a new one,
/// and signs the browser in, replacing whoever was signed in only when the form says they
/// chose to.
pub async fn verify(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
    CsrfForm(form): CsrfForm<LinkFields>,
) -> Result<Response, PageError> {
    let Some(account) = accounts::confirmation(&state.app, &token).await? else {
        return Ok(dead_confirmation_link(&visitor));
    };
    let again = |status, notice: &str, errors: &[FieldError]| {
        Ok(confirm_page(
            &visitor,
            status,
            &token,
            &account,
            (notice, errors),
        ))
    };
    if !form.may_sign_in(&visitor, &account) {
        return again(StatusCode::CONFLICT, CHOOSE_TO_SWITCH, &[]);
    }
    let outcome = accounts::confirm_email(&state.app, &token, form.proof(), &visitor.client).await;
    match outcome {
        Ok(Confirmed::Done { user_id, next }) => {
            signed_in_as(&state, &visitor, &user_id, &next).await
        }
        Ok(Confirmed::WrongPassword) => {
            let wrong = FieldError::new("password", NOT_THE_SIGN_UP_PASSWORD);
            again(StatusCode::UNAUTHORIZED, "", &[wrong])
        }
        Ok(Confirmed::DeadLink) => Ok(dead_confirmation_link(&visitor)),
        Err(AccountError::Invalid(e)) => again(StatusCode::UNPROCESSABLE_ENTITY, "", &e),
        Err(error) => refused(&visitor, error),
    }
}

/// Signs the browser in as `user_id` with a new session (the one it had ends) and
/// remembers it as a browser of that account, then sends it to `next`.
async fn signed_in_as(
    state: &AppState,
    visitor: &Visitor,
    user_id: &str,
    next: &str,
) -> Result<Response, PageError> {
    if let Some(old) = &visitor.signed_in {
        let _ = accounts::end_session(&state.app, &old.cookie).await;
    }
    let device = accounts::remember_device(&state.app, user_id, visitor.device.as_deref()).await;
    let (cookie, _) = accounts::start_session(&state.app, user_id).await?;
    let response = visitor.sign_in(Redirect::to(next).into_response(), &cookie);
    Ok(visitor.remember_device(response, &device?))
}

#[derive(Template)]
#[template(path = "reset_request.html")]
struct ResetRequestPage {
    nav: Nav,
    errors: FormErrors,
    email: FieldView,
    csrf: String,
}

impl ResetRequestPage {
    fn new(visitor: &Visitor, email: &str, errors: &[FieldError]) -> ResetRequestPage {
        let errors = FormErrors::new(errors, &["email"]);
        ResetRequestPage {
            nav: Nav::of(visitor),
            email: FieldView::new("email", "Email", "email", email, "username", true, &errors),
            errors,
            csrf: visitor.csrf(),
        }
    }
}

pub async fn reset_page(visitor: Visitor) -> Response {
    visitor.finish(render(&ResetRequestPage::new(&visitor, "", &[])))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetRequestFields {
    email: String,
}

pub async fn reset_request(
    State(state): State<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<ResetRequestFields>,
) -> Result<Response, PageError> {
    let email = text(&form.email).unwrap_or_default();
    match accounts::request_reset(&state.app, &email, &visitor.client).await {
        Ok(()) => Ok(reset_sent(&visitor)),
        Err(AccountError::Invalid(errors)) => {
            let page = render(&ResetRequestPage::new(&visitor, &email, &errors));
            Ok(visitor.finish((StatusCode::UNPROCESSABLE_ENTITY, page).into_response()))
        }
        Err(error) => refused(&visitor, error),
    }
}

/// The one answer to a reset request, whether or not the address has an account.
fn reset_sent(visitor: &Visitor) -> Response {
    message_for(
        visitor,
        StatusCode::OK,
        "Check your email",
        &[
            "If an account uses this address, we have sent it a link to choose a new password. The link works for one hour.",
        ],
        None,
    )
}

#[derive(Template)]
#[template(path = "reset_form.html")]
struct ResetFormPage {
    nav: Nav,
    notice: Option<String>,
    errors: FormErrors,
    password: FieldView,
    csrf: String,
    token: String,
    /// Whose password the link sets.
    email: String,
    other: Option<OtherAccount>,
}

/// The new-password page; `notice` (if not empty) says why it is shown again, `errors`
/// what was wrong with the password.
fn reset_page_for(
    visitor: &Visitor,
    status: StatusCode,
    token: &str,
    account: &Confirmation,
    (notice, errors): (&str, &[FieldError]),
) -> Response {
    let errors = FormErrors::new(errors, &["password"]);
    let label = "New password (8 to 128 characters)";
    let page = ResetFormPage {
        nav: Nav::of(visitor),
        notice: text(notice),
        password: FieldView::new(
            "password",
            label,
            "password",
            "",
            "new-password",
            true,
            &errors,
        ),
        errors,
        csrf: visitor.csrf(),
        token: token.to_string(),
        other: OtherAccount::of(visitor, &account.user_id),
        email: account.email.clone(),
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
) -> Result<Response, PageError> {
    Ok(match accounts::reset_link(&state.app, &token).await? {
        Some(account) => reset_page_for(&visitor, StatusCode::OK, &token, &account, ("", &[])),
        None => dead_reset_link(&visitor),
    })
}

pub async fn reset(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
    CsrfForm(form): CsrfForm<LinkFields>,
) -> Result<Response, PageError> {
    let Some(account) = accounts::reset_link(&state.app, &token).await? else {
        return Ok(dead_reset_link(&visitor));
    };
    let again = |status, notice: &str, errors: &[FieldError]| {
        Ok(reset_page_for(
            &visitor,
            status,
            &token,
            &account,
            (notice, errors),
        ))
    };
    if !form.may_sign_in(&visitor, &account) {
        return again(StatusCode::CONFLICT, CHOOSE_TO_SWITCH, &[]);
    }
    match accounts::reset_password(&state.app, &token, &form.password).await {
        Ok(Some((user_id, next))) => {
            let next = next.filter(|path| accounts::is_local_path(path));
            signed_in_as(
                &state,
                &visitor,
                &user_id,
                next.as_deref().unwrap_or("/resume"),
            )
            .await
        }
        Ok(None) => Ok(dead_reset_link(&visitor)),
        Err(AccountError::Invalid(e)) => again(StatusCode::UNPROCESSABLE_ENTITY, "", &e),
        Err(error) => refused(&visitor, error),
    }
}
