//! Use cases as functions over the domain and the store: partner administration, token
//! issue and checks, uploads and the partner's reads, replaces and deletes, verification,
//! accounts, claims, the partner's activation page, pull (importing from a partner), logos and
//! marketplaces.

pub mod accounts;
pub mod activation;
pub mod admins;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod claims;
pub mod deployment_keys;
pub mod housekeeping;
pub mod logos;
pub mod mail;
pub mod mapping;
pub mod marketplaces;
pub mod partners;
pub mod personal_data;
pub mod pull;
pub mod ratelimit;
pub mod resume;
pub mod sharing;
pub mod signing_key;
pub mod turns;
pub mod uploads;
pub mod verification;
pub mod viewers;
pub mod wallet;
pub mod whitelist;

use crate::clock::Clock;
use crate::config::Config;
use crate::store::Store;
use crate::verify::Verifier;
use crate::verify::contexts::Contexts;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

/// Everything a request needs; cheap to clone.
#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: Clock,
    pub verifier: Arc<Verifier>,
    /// When the operator-added contexts were last read from the database.
    pub(crate) contexts_loaded_at: Arc<AtomicI64>,
    pub caches: Arc<Caches>,
    pub limiters: Arc<Limiters>,
    /// The key resume credentials are signed with (see `signing_key`).
    pub signing_key: Arc<signing_key::DeploymentKey>,
    /// The client wallet pushes go out through, and the wallets' tokens (see `wallet`).
    pub wallets: Arc<wallet::Outbound>,
}

/// Limits on what people can try again and again (per instance).
pub struct Limiters {
    pub sign_up: ratelimit::RateLimiter,
    /// Log-in attempts per client address (bounds the password hashing one address costs).
    pub log_in_client: ratelimit::RateLimiter,
    /// Failed log-ins per (email, client address), per email from everywhere, and per known
    /// browser (see `accounts::log_in`).
    pub log_in_failures_here: ratelimit::RateLimiter,
    pub log_in_failures_everywhere: ratelimit::RateLimiter,
    pub log_in_failures_device: ratelimit::RateLimiter,
    /// New confirmation links mailed when an unconfirmed account logs in, per email.
    pub confirmation_mail: ratelimit::RateLimiter,
    pub reset_client: ratelimit::RateLimiter,
    pub reset_email: ratelimit::RateLimiter,
    /// Token requests per client address.
    pub token_client: ratelimit::RateLimiter,
    /// Token requests per client id (from any address).
    pub token_client_id: ratelimit::RateLimiter,
    /// Uploads per partner.
    pub upload_partner: ratelimit::RateLimiter,
    /// Uploads per client address (whatever the partner).
    pub upload_client: ratelimit::RateLimiter,
    /// Turns at parsing, reading and verifying uploads, per partner.
    pub upload_turns: turns::Turns,
    /// Activation-page searches per client address.
    pub activation_client: ratelimit::RateLimiter,
    /// Activation-page searches per identity (partner + email or student id).
    pub activation_identity: ratelimit::RateLimiter,
    /// Credential details opened per viewer account: each checks a proof again (see
    /// `viewers::details`), so one account cannot keep the verifier busy.
    pub credential_details: ratelimit::RateLimiter,
    /// This instance's side of trading counts with the other instances.
    pub exchange: ratelimit::Exchange,
}

impl Limiters {
    fn new(config: &Config) -> Self {
        use ratelimit::RateLimiter;
        use std::time::Duration;
        Limiters {
            token_client: RateLimiter::new(
                "token_client",
                config.token_rate_per_minute,
                Duration::from_secs(60),
            ),
            token_client_id: RateLimiter::new(
                "token_client_id",
                config.token_rate_per_client_per_minute,
                Duration::from_secs(60),
            ),
            upload_partner: RateLimiter::new(
                "upload_partner",
                config.upload_rate_per_minute,
                Duration::from_secs(60),
            ),
            upload_client: RateLimiter::new(
                "upload_client",
                config.upload_rate_per_address_per_minute,
                Duration::from_secs(60),
            ),
            upload_turns: turns::Turns::per_partner(config.max_queue_wait),
            activation_client: RateLimiter::new(
                "activation_client",
                config.activation_search_rate_per_minute,
                Duration::from_secs(60),
            ),
            activation_identity: RateLimiter::new(
                "activation_identity",
                config.activation_identity_rate_per_hour,
                Duration::from_secs(3600),
            ),
            sign_up: RateLimiter::new("sign_up", 20, Duration::from_secs(600)),
            credential_details: RateLimiter::new("credential_details", 60, Duration::from_secs(60)),
            log_in_client: RateLimiter::new("log_in_client", 30, Duration::from_secs(60)),
            log_in_failures_here: RateLimiter::new(
                "log_in_failures_here",
                10,
                Duration::from_secs(900),
            ),
            log_in_failures_everywhere: RateLimiter::new(
                "log_in_failures_everywhere",
                50,
                Duration::from_secs(3600),
            ),
            log_in_failures_device: RateLimiter::new(
                "log_in_failures_device",
                10,
                Duration::from_secs(900),
            ),
            confirmation_mail: RateLimiter::new("confirmation_mail", 3, Duration::from_secs(3600)),
            reset_client: RateLimiter::new("reset_client", 20, Duration::from_secs(900)),
            reset_email: RateLimiter::new("reset_email", 5, Duration::from_secs(900)),
            exchange: ratelimit::Exchange::default(),
        }
    }

    /// Every limit, for trading counts with the other instances.
    pub fn all(&self) -> [&ratelimit::RateLimiter; 14] {
        [
            &self.sign_up,
            &self.log_in_client,
            &self.log_in_failures_here,
            &self.log_in_failures_everywhere,
            &self.log_in_failures_device,
            &self.confirmation_mail,
            &self.reset_client,
            &self.reset_email,
            &self.token_client,
            &self.token_client_id,
            &self.upload_partner,
            &self.upload_client,
            &self.activation_client,
            &self.activation_identity,
        ]
    }
}

/// The hot reads of the partner API (see `cache`).
pub struct Caches {
    /// Access-token digest → its grant.
    pub tokens: cache::TtlCache<String, crate::store::partners::TokenGrant>,
    /// Partner id → its mapping rules (own, then global).
    pub mapping: cache::TtlCache<String, Vec<crate::domain::sections::MappingRule>>,
    /// Records stored lately: which statement an upload is first sent as.
    pub stored_records: cache::StoredRecords,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            tokens: cache::TtlCache::new(std::time::Duration::from_secs(2)),
            mapping: cache::TtlCache::new(std::time::Duration::from_secs(5)),
            stored_records: cache::StoredRecords::default(),
        }
    }
}

impl App {
    pub async fn open(config: Config) -> Result<App, crate::store::StoreError> {
        let store = Store::open(&config.database).await?;
        let clock = Clock::default();
        let verifier = Verifier::new(
            Arc::new(Contexts::bundled()),
            config.fetch.clone(),
            clock.clone(),
        );
        let limiters = Arc::new(Limiters::new(&config));
        let config_signing_key_file = config.signing_key_file.clone();
        let wallets = Arc::new(wallet::Outbound::new(
            config.fetch.allow_loopback,
            config.wallet_timeout,
        ));
        let app = App {
            config: Arc::new(config),
            store,
            clock,
            verifier: Arc::new(verifier),
            contexts_loaded_at: Arc::new(AtomicI64::new(i64::MIN)),
            caches: Arc::new(Caches::default()),
            limiters,
            signing_key: Arc::new(signing_key::DeploymentKey::new(
                config_signing_key_file.clone(),
            )),
            wallets,
        };
        verification::refresh_contexts(&app).await?;
        whitelist::seed(&app).await?;
        if let Err(error) = signing_key::ensure(&app).await {
            return Err(match error {
                signing_key::SigningError::Store(error) => error,
                other => crate::store::StoreError::Other(other.to_string()),
            });
        }
        Ok(app)
    }
}

pub(crate) fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// How long an outbox job (a mail, a wallet push) waits after its `attempts`-th failure:
/// 30 s, 1 min, 2 min, … up to an hour.
pub(crate) fn retry_delay(attempts: i64) -> std::time::Duration {
    let exponent = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    std::time::Duration::from_secs((30 * 2u64.pow(exponent)).min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retries_back_off_up_to_an_hour() {
        assert_eq!(retry_delay(1), Duration::from_secs(30));
        assert_eq!(retry_delay(3), Duration::from_secs(120));
        assert_eq!(retry_delay(50), Duration::from_secs(3600));
    }
}
