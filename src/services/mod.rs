//! Use cases as functions over the domain and the store: partner administration, token
//! issue and checks, uploads and the partner's reads, replaces and deletes, verification.

pub mod auth;
pub mod partners;
pub mod uploads;
pub mod verification;

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
        let app = App {
            config: Arc::new(config),
            store,
            clock,
            verifier: Arc::new(verifier),
            contexts_loaded_at: Arc::new(AtomicI64::new(i64::MIN)),
        };
        verification::refresh_contexts(&app).await?;
        Ok(app)
    }
}

pub(crate) fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
