//! Use cases as functions over the domain and the store: partner administration, token
//! issue and checks, uploads and the partner's reads, replaces and deletes.

pub mod auth;
pub mod cache;
pub mod mapping;
pub mod partners;
pub mod uploads;

use crate::clock::Clock;
use crate::config::Config;
use crate::store::Store;
use std::sync::Arc;

/// Everything a request needs; cheap to clone.
#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: Clock,
    pub caches: Arc<Caches>,
}

/// The hot reads of the partner API (see `cache`).
pub struct Caches {
    /// Access-token digest → its grant.
    pub tokens: cache::TtlCache<String, crate::store::partners::TokenGrant>,
    /// Partner id → its mapping rules (own, then global).
    pub mapping: cache::TtlCache<String, Vec<crate::domain::sections::MappingRule>>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            tokens: cache::TtlCache::new(std::time::Duration::from_secs(2)),
            mapping: cache::TtlCache::new(std::time::Duration::from_secs(5)),
        }
    }
}

impl App {
    pub async fn open(config: Config) -> Result<App, crate::store::StoreError> {
        let store = Store::open(&config.database).await?;
        Ok(App {
            config: Arc::new(config),
            store,
            clock: Clock::default(),
            caches: Arc::new(Caches::default()),
        })
    }
}

pub(crate) fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
