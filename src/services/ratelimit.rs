//! Rate limits for the actions people can abuse: tokens, uploads, log-in, sign-up, password
//! reset, searches on the activation page. A limit counts attempts (`allow`) or only failures
//! (`is_over` before, `record` after).
//!
//! A fixed window per key (an IP address, an email address), aligned to the wall clock (a
//! per-minute limit counts 12:00:00–12:00:59), so every instance counts the same window.
//! Each instance counts on its own and trades its counts with the others through the
//! database a few times a second ([`exchange`]): it refuses once its own count plus the
//! others' last known counts reach the limit. So N instances sharing one database allow the
//! limit once, not N times, give or take what the others counted since the last exchange;
//! and no request waits on the database for it. Keys are kept (and shared) only as SHA-256
//! digests: the addresses they count are personal data.

use super::App;
use crate::secrets;
use crate::store::StoreError;
use crate::store::rate_limits::{self, Unsent};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

pub struct RateLimiter {
    /// The limit's name, the same on every instance (the key of its shared counts).
    name: &'static str,
    limit: u32,
    window_ms: i64,
    counts: Mutex<HashMap<String, Count>>,
}

/// One key's counts in its current window.
#[derive(Default)]
struct Count {
    /// The window's start (ms since the epoch).
    window_start: i64,
    mine: u32,
    /// `mine` as last sent to the other instances.
    sent: u32,
    /// The other instances' counts, by instance, as last heard.
    others: HashMap<String, u32>,
}

impl Count {
    fn total(&self) -> u32 {
        self.others
            .values()
            .fold(self.mine, |sum, n| sum.saturating_add(*n))
    }
}

fn wall_ms() -> i64 {
    crate::clock::system_now_ms()
}

impl RateLimiter {
    pub fn new(name: &'static str, limit: u32, window: Duration) -> Self {
        RateLimiter {
            name,
            limit,
            window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1),
            counts: Mutex::new(HashMap::new()),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    fn window_start(&self, now: i64) -> i64 {
        now - now.rem_euclid(self.window_ms)
    }

    /// The key's counts in the current window, `f` applied to them.
    fn with_count<T>(&self, key: &str, f: impl FnOnce(&mut Count) -> T) -> Option<T> {
        let window_start = self.window_start(wall_ms());
        let mut counts = self.counts.lock().ok()?;
        if counts.len() > 100_000 {
            counts.retain(|_, count| count.window_start == window_start);
        }
        let count = counts.entry(secrets::digest(key)).or_default();
        if count.window_start != window_start {
            *count = Count {
                window_start,
                ..Count::default()
            };
        }
        Some(f(count))
    }

    /// Counts one attempt for `key`; false when the key is over its limit (counted here and
    /// by the other instances). A limit of 0 means none.
    pub fn allow(&self, key: &str) -> bool {
        if self.limit == 0 {
            return true;
        }
        self.with_count(key, |count| {
            count.mine = count.mine.saturating_add(1);
            count.total() <= self.limit
        })
        .unwrap_or(true)
    }

    /// Whether `key` has used up its limit in the current window (counts nothing): for
    /// limits on failures, checked before an attempt and counted by [`Self::record`] only
    /// when it fails.
    pub fn is_over(&self, key: &str) -> bool {
        if self.limit == 0 {
            return false;
        }
        self.with_count(key, |count| count.total() >= self.limit)
            .unwrap_or(false)
    }

    /// Counts one event (a failure) for `key`.
    pub fn record(&self, key: &str) {
        self.allow(key);
    }

    /// Attempts counted for `key` in its current window, here and by the other instances.
    pub fn count(&self, key: &str) -> u32 {
        self.with_count(key, |count| count.total()).unwrap_or(0)
    }

    /// This instance's counts that changed since they were last taken, marked as sent.
    pub fn take_unsent(&self) -> Vec<Unsent> {
        let Ok(mut counts) = self.counts.lock() else {
            return Vec::new();
        };
        let mut unsent = Vec::new();
        for (key_hash, count) in counts.iter_mut() {
            if count.mine != count.sent {
                count.sent = count.mine;
                unsent.push(Unsent {
                    limiter: self.name,
                    key_hash: key_hash.clone(),
                    window_start: count.window_start,
                    window_end: count.window_start.saturating_add(self.window_ms),
                    count: count.mine,
                });
            }
        }
        unsent
    }

    /// What another instance counted for a key (by digest) in a window; older windows are
    /// ignored, a newer one starts the key's count afresh.
    pub fn learn(&self, key_hash: &str, window_start: i64, instance: &str, count: u32) {
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        let entry = counts.entry(key_hash.to_string()).or_default();
        if window_start < entry.window_start {
            return;
        }
        if window_start > entry.window_start {
            *entry = Count {
                window_start,
                ..Count::default()
            };
        }
        entry.others.insert(instance.to_string(), count);
    }
}

/// How often an instance trades its counts with the others.
pub const EXCHANGE_EVERY: Duration = Duration::from_millis(250);

/// How far back an exchange looks for the others' counts: a count written just before the
/// last exchange may have committed after it read, and instances' clocks differ a little.
const LOOK_BACK_MS: i64 = 5_000;

/// The instance's side of the exchange: its id and when it last heard from the others.
pub struct Exchange {
    pub instance: String,
    heard_at: AtomicI64,
}

impl Default for Exchange {
    fn default() -> Self {
        Exchange {
            instance: crate::store::new_id(),
            heard_at: AtomicI64::new(0),
        }
    }
}

/// Sends this instance's changed counts and learns the others' (one write transaction). On
/// SQLite there is one instance, so there is nothing to trade.
pub async fn exchange(app: &App) -> Result<(), StoreError> {
    if app.store.engine_name() != "postgres" {
        return Ok(());
    }
    let limiters = &app.limiters;
    let unsent: Vec<Unsent> = limiters
        .all()
        .iter()
        .flat_map(|limiter| limiter.take_unsent())
        .collect();
    let now = wall_ms();
    let since = limiters.exchange.heard_at.load(Ordering::Relaxed) - LOOK_BACK_MS;
    let instance = limiters.exchange.instance.clone();
    let heard = app
        .store
        .write(move |conn| {
            for count in &unsent {
                rate_limits::put(conn, &instance, count, now)?;
            }
            rate_limits::others_since(conn, &instance, since)
        })
        .await?;
    limiters.exchange.heard_at.store(now, Ordering::Relaxed);
    for row in heard {
        if let Some(limiter) = limiters.all().into_iter().find(|l| l.name() == row.limiter) {
            limiter.learn(&row.key_hash, row.window_start, &row.instance, row.count);
        }
    }
    Ok(())
}

/// Trades counts with the other instances every [`EXCHANGE_EVERY`] until the process ends.
pub fn spawn_exchange(app: App) {
    if app.store.engine_name() != "postgres" {
        return;
    }
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(EXCHANGE_EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(error) = exchange(&app).await {
                tracing::warn!(%error, "sharing rate-limit counts");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_limit_is_refused_and_others_are_not() {
        let limiter = RateLimiter::new("test", 2, Duration::from_secs(60));
        assert!(limiter.allow("a") && limiter.allow("a"));
        assert!(!limiter.allow("a"));
        assert!(limiter.allow("b"));
    }

    #[test]
    fn a_failure_limit_counts_only_what_is_recorded() {
        let limiter = RateLimiter::new("test", 2, Duration::from_secs(60));
        assert!(!limiter.is_over("a"));
        limiter.record("a");
        assert!(!limiter.is_over("a"), "checking counts nothing");
        limiter.record("a");
        assert!(limiter.is_over("a"));
        assert!(!limiter.is_over("b"));
        assert!(!RateLimiter::new("test", 0, Duration::from_secs(60)).is_over("a"));
    }

    #[test]
    fn what_other_instances_counted_counts_here_and_what_was_counted_here_is_sent_once() {
        let limiter = RateLimiter::new("test", 5, Duration::from_secs(60));
        assert!(limiter.allow("a"));
        let sent = limiter.take_unsent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].count, 1);
        assert_eq!(sent[0].key_hash, secrets::digest("a"));
        assert!(limiter.take_unsent().is_empty(), "nothing new to send");
        // Another instance counted three; a second update from it replaces, not adds.
        let window = sent[0].window_start;
        limiter.learn(&secrets::digest("a"), window, "other", 2);
        limiter.learn(&secrets::digest("a"), window, "other", 3);
        assert_eq!(limiter.count("a"), 4);
        assert!(limiter.allow("a"), "the fifth");
        assert!(!limiter.allow("a"), "the sixth is over the shared limit");
        // An older window is ignored.
        limiter.learn(&secrets::digest("a"), window - 60_000, "other", 50);
        assert_eq!(limiter.count("a"), 6);
    }
}
