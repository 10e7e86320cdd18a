//! Rate limits for the actions people can abuse: tokens, uploads, log-in, sign-up, password
//! reset, searches on the activation page. A limit counts attempts (`allow`) or only failures
//! (`is_over` before, `record` after).
//!
//! Windows per key (an IP address, an email address) aligned to the wall clock (a per-minute
//! limit counts 12:00:00–12:00:59), so every instance counts the same window; the limit
//! applies to a sliding estimate over the current and the previous window (see `Key`).
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
    counts: Mutex<HashMap<String, Key>>,
}

/// One key's counts in one window.
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

    fn unsent(&mut self, limiter: &'static str, key_hash: &str, window_ms: i64) -> Option<Unsent> {
        if self.mine == self.sent {
            return None;
        }
        self.sent = self.mine;
        Some(Unsent {
            limiter,
            key_hash: key_hash.to_string(),
            window_start: self.window_start,
            window_end: self.window_start.saturating_add(window_ms),
            count: self.mine,
        })
    }
}

/// A key's counts in the current window and the one before: the limit applies to a sliding
/// estimate (the current count, plus the previous one weighted by how much of it the last
/// `window` still covers), so a burst at the end of one window still counts at the start of
/// the next, as it would with a log of every attempt.
#[derive(Default)]
struct Key {
    current: Count,
    previous: Count,
}

impl Key {
    /// Moves on to the window starting at `start` (a clock that went back keeps the window).
    fn roll_to(&mut self, start: i64, window_ms: i64) {
        if start <= self.current.window_start {
            return;
        }
        let current = std::mem::take(&mut self.current);
        self.previous = if current.window_start == start - window_ms {
            current
        } else {
            Count::default()
        };
        self.current.window_start = start;
    }

    /// The sliding estimate, times `window_ms` (integers: no rounding at the limit).
    fn weighted(&self, now: i64, window_ms: i64) -> i128 {
        let left_of_previous = (window_ms - (now - self.current.window_start)).clamp(0, window_ms);
        i128::from(self.current.total()) * i128::from(window_ms)
            + i128::from(self.previous.total()) * i128::from(left_of_previous)
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

    /// `f` applied to the key's counts, moved on to the current window, and the limit times
    /// the window (what [`Key::weighted`] compares with).
    fn with_key<T>(
        &self,
        key: &str,
        now: i64,
        f: impl FnOnce(&mut Key, i64, i128) -> T,
    ) -> Option<T> {
        let start = self.window_start(now);
        let mut counts = self.counts.lock().ok()?;
        if counts.len() > 100_000 {
            counts.retain(|_, key| key.current.window_start >= start - self.window_ms);
        }
        let entry = counts.entry(secrets::digest(key)).or_default();
        entry.roll_to(start, self.window_ms);
        let bound = i128::from(self.limit) * i128::from(self.window_ms);
        Some(f(entry, now, bound))
    }

    /// Counts one attempt for `key`; false when the key is over its limit (counted here and
    /// by the other instances). A limit of 0 means none.
    pub fn allow(&self, key: &str) -> bool {
        self.allow_at(key, wall_ms())
    }

    fn allow_at(&self, key: &str, now: i64) -> bool {
        if self.limit == 0 {
            return true;
        }
        self.with_key(key, now, |entry, now, bound| {
            entry.current.mine = entry.current.mine.saturating_add(1);
            entry.weighted(now, self.window_ms) <= bound
        })
        .unwrap_or(true)
    }

    /// Whether `key` has used up its limit (counts nothing): for limits on failures, checked
    /// before an attempt and counted by [`Self::record`] only when it fails.
    pub fn is_over(&self, key: &str) -> bool {
        if self.limit == 0 {
            return false;
        }
        self.with_key(key, wall_ms(), |entry, now, bound| {
            entry.weighted(now, self.window_ms) >= bound
        })
        .unwrap_or(false)
    }

    /// Counts one event (a failure) for `key`.
    pub fn record(&self, key: &str) {
        self.allow(key);
    }

    /// Attempts counted for `key` in the last window (the sliding estimate, rounded up),
    /// here and by the other instances.
    pub fn count(&self, key: &str) -> u32 {
        self.count_at(key, wall_ms())
    }

    fn count_at(&self, key: &str, now: i64) -> u32 {
        self.with_key(key, now, |entry, now, _| {
            let window = i128::from(self.window_ms);
            u32::try_from((entry.weighted(now, self.window_ms) + window - 1) / window)
                .unwrap_or(u32::MAX)
        })
        .unwrap_or(0)
    }

    /// This instance's counts that changed since they were last taken, marked as sent.
    pub fn take_unsent(&self) -> Vec<Unsent> {
        let Ok(mut counts) = self.counts.lock() else {
            return Vec::new();
        };
        let mut unsent = Vec::new();
        for (key_hash, key) in counts.iter_mut() {
            for count in [&mut key.previous, &mut key.current] {
                unsent.extend(count.unsent(self.name, key_hash, self.window_ms));
            }
        }
        unsent
    }

    /// What another instance counted for a key (by digest) in a window: the current window
    /// or the one before; a newer one moves the key on, an older one is ignored.
    pub fn learn(&self, key_hash: &str, window_start: i64, instance: &str, count: u32) {
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        let entry = counts.entry(key_hash.to_string()).or_default();
        entry.roll_to(window_start, self.window_ms);
        let target = if window_start == entry.current.window_start {
            &mut entry.current
        } else if window_start == entry.previous.window_start
            && window_start == entry.current.window_start - self.window_ms
        {
            &mut entry.previous
        } else {
            return;
        };
        target.others.insert(instance.to_string(), count);
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
        // A window older than the one before is ignored.
        limiter.learn(&secrets::digest("a"), window - 120_000, "other", 50);
        assert_eq!(limiter.count("a"), 6);
    }

    #[test]
    fn a_burst_at_the_end_of_a_window_still_counts_at_the_start_of_the_next() {
        let limiter = RateLimiter::new("test", 10, Duration::from_secs(60));
        let minute = 1_000 * 60_000;
        for _ in 0..10 {
            assert!(limiter.allow_at("a", minute - 500));
        }
        // One second into the next minute, 59/60 of the burst is still inside the last 60 s.
        assert!(!limiter.allow_at("a", minute + 1_000));
        assert_eq!(limiter.count_at("a", minute + 1_000), 11);
        // Half-way through it, half of the burst (5) and the refused attempt (1) remain.
        assert!(limiter.allow_at("a", minute + 30_000));
        assert_eq!(limiter.count_at("a", minute + 30_000), 7);
        // Two windows on, nothing of it.
        assert_eq!(limiter.count_at("a", minute + 120_000), 0);
    }
}
