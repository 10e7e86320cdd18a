//! "Share To My Wallet": the person sends their signed resume to a wallet partner. The push
//! is queued (and goes out in the background, with retries); the browser goes on to the
//! wallet's landing page, and `/resume` shows how the push went.

use super::accounts::NoFields;
use super::error::PageError;
use super::message_for;
use super::visitor::{CsrfForm, SignedInVisitor};
use crate::domain::dates;
use crate::domain::wallet::PushState;
use crate::http::AppState;
use crate::services::wallet::{self, QueueError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

/// `POST /resume/wallet/{partner}`: queues the push and sends the browser to the wallet.
pub async fn push(
    State(state): State<AppState>,
    SignedInVisitor(visitor, user): SignedInVisitor,
    Path(slug): Path<String>,
    _: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    match wallet::queue(&state.app, &user.id, &slug).await {
        Ok(wallet) => Ok(Redirect::to(&wallet.landing_url).into_response()),
        Err(QueueError::UnknownWallet(_)) => Ok(message_for(
            &visitor,
            StatusCode::NOT_FOUND,
            "This wallet is not offered here",
            &["It may have been removed since the page was loaded. Nothing was sent."],
            Some(("/resume#wallet-heading", "Back to my resume")),
        )),
        Err(QueueError::TooManyWaiting) => Ok(message_for(
            &visitor,
            StatusCode::TOO_MANY_REQUESTS,
            "Your earlier pushes are still waiting",
            &[
                "A push to a wallet is retried for a while when the wallet does not answer. Once your waiting pushes have gone out or failed, you can send another.",
            ],
            Some(("/resume#wallet-heading", "See how they are going")),
        )),
        Err(QueueError::Export(error)) => Err(error.into()),
        Err(QueueError::Store(error)) => Err(error.into()),
    }
}

/// The wallets a person can push their resume to, and how their latest pushes went.
#[derive(Default)]
pub struct WalletSection {
    pub offered: Vec<WalletChoice>,
    pub pushes: Vec<PushView>,
    /// Where the offered wallets send the browser (the page's form-action allows them).
    pub landing_urls: Vec<String>,
}

pub struct WalletChoice {
    pub slug: String,
    pub name: String,
}

/// One push, in words.
pub struct PushView {
    pub wallet: String,
    /// "Waiting to go out", "Sent", "Failed".
    pub state: &'static str,
    /// The class that colours it.
    pub class: &'static str,
    pub asked_on: String,
    /// When it went out or failed, and why, or when it will be tried again.
    pub detail: Option<String>,
}

impl WalletSection {
    pub async fn of(app: &crate::services::App, user_id: &str) -> Result<WalletSection, PageError> {
        let wallets = wallet::offered(app).await?;
        let landing_urls = wallets.iter().map(|w| w.landing_url.clone()).collect();
        let offered = wallets
            .into_iter()
            .map(|w| WalletChoice {
                slug: w.slug,
                name: w.name,
            })
            .collect();
        let pushes = wallet::pushes(app, user_id)
            .await?
            .into_iter()
            .map(|push| {
                let (state, class, detail) = match push.state {
                    PushState::Queued => (
                        "Waiting to go out",
                        "pending",
                        push.last_error.map(|why| {
                            format!("The last try failed ({why}); it will be tried again shortly.")
                        }),
                    ),
                    PushState::Sent => (
                        "Sent",
                        "verified",
                        push.ended_at.map(|at| {
                            format!("Received by the wallet on {}.", dates::moment_in_words(at))
                        }),
                    ),
                    PushState::Failed => (
                        "Failed",
                        "failed",
                        Some(
                            push.last_error
                                .unwrap_or_else(|| "The wallet did not take it.".into()),
                        ),
                    ),
                };
                PushView {
                    wallet: push.wallet_name,
                    state,
                    class,
                    asked_on: dates::moment_in_words(push.created_at),
                    detail,
                }
            })
            .collect();
        Ok(WalletSection {
            offered,
            pushes,
            landing_urls,
        })
    }
}
