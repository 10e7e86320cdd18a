//! Wallet push (use case 4): a wallet partner receives a person's signed resume credential.
//! What a wallet is, and what became of each push, as the rest of the program sees them;
//! delivering is `services::wallet`'s job.

/// A partner that receives resumes: where they are pushed and how the push is authorised.
/// The client secret is not here: it stays sealed in the store until a token is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wallet {
    pub partner_id: String,
    pub slug: String,
    pub name: String,
    /// Where the resume credential is POSTed (OB 3.0 upsert style).
    pub push_url: String,
    /// The OAuth 2.0 token endpoint (client credentials grant).
    pub token_url: String,
    pub client_id: String,
    /// Where the person's browser goes once the push is queued.
    pub landing_url: String,
}

/// Where a push stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushState {
    /// Waiting for its first attempt, or for a retry after a failure that may pass.
    Queued,
    /// The wallet answered 200 or 201.
    Sent,
    /// The wallet refused it (4xx), or it was still failing after the last retry.
    Failed,
}

impl PushState {
    pub fn as_str(self) -> &'static str {
        match self {
            PushState::Queued => "queued",
            PushState::Sent => "sent",
            PushState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<PushState> {
        [PushState::Queued, PushState::Sent, PushState::Failed]
            .into_iter()
            .find(|state| state.as_str() == text)
    }
}

/// One push as the person sees it on their resume page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub id: String,
    pub wallet_name: String,
    pub state: PushState,
    pub attempts: i64,
    /// Why the last attempt failed, in words: the wallet's own reason where it gave one.
    pub last_error: Option<String>,
    pub created_at: i64,
    /// When it was sent, or when it failed for good.
    pub ended_at: Option<i64>,
}
