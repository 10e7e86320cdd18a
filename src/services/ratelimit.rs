//! In-process rate limits for the actions people can abuse: log-in, sign-up, password reset,
//! searches on the activation page. A limit counts attempts (`allow`) or only failures
//! (`is_over` before, `record` after).
//! A fixed window per key (an IP address, an email address); each instance counts its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    limit: u32,
    window: Duration,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimiter {
            limit,
            window,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt for `key`; false when the key is over its limit. A limit of 0
    /// means none.
    pub fn allow(&self, key: &str) -> bool {
        if self.limit == 0 {
            return true;
        }
        let Ok(mut counts) = self.counts.lock() else {
            return true;
        };
        if counts.len() > 100_000 {
            counts.retain(|_, (start, _)| start.elapsed() < self.window);
        }
        let entry = counts.entry(key.to_string()).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= self.window {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
        entry.1 <= self.limit
    }

    /// Whether `key` has used up its limit in the current window (counts nothing): for
    /// limits on failures, checked before an attempt and counted by [`Self::record`] only
    /// when it fails.
    pub fn is_over(&self, key: &str) -> bool {
        if self.limit == 0 {
            return false;
        }
        let Ok(counts) = self.counts.lock() else {
            return false;
        };
        counts
            .get(key)
            .is_some_and(|(start, count)| start.elapsed() < self.window && *count >= self.limit)
    }

    /// Counts one event (a failure) for `key`.
    pub fn record(&self, key: &str) {
        self.allow(key);
    }

    /// Attempts counted for `key` in its current window (0 when the limit is off).
    pub fn count(&self, key: &str) -> u32 {
        let Ok(counts) = self.counts.lock() else {
            return 0;
        };
        counts
            .get(key)
            .filter(|(start, _)| start.elapsed() < self.window)
            .map_or(0, |(_, count)| *count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_limit_is_refused_and_others_are_not() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        assert!(limiter.allow("a") && limiter.allow("a"));
        assert!(!limiter.allow("a"));
        assert!(limiter.allow("b"));
    }

    #[test]
    fn a_failure_limit_counts_only_what_is_recorded() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        assert!(!limiter.is_over("a"));
        limiter.record("a");
        assert!(!limiter.is_over("a"), "checking counts nothing");
        limiter.record("a");
        assert!(limiter.is_over("a"));
        assert!(!limiter.is_over("b"));
        assert!(!RateLimiter::new(0, Duration::from_secs(60)).is_over("a"));
    }
}
