//! Short-lived in-process caches for the two reads every partner request makes (its token
//! and its mapping rules). The database stays the truth: an entry lives a few seconds, so a
//! change made by another process (the CLI, another instance) is seen within that time, and
//! changes made through this process clear the cache at once.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Entries beyond this are dropped wholesale: a cache, not a store.
const MAX_ENTRIES: usize = 10_000;

pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (Instant, V)>>,
    /// Counts `clear`s, so a value read from the database before a clear (a revocation)
    /// is not cached after it.
    generation: AtomicU64,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        TtlCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        let (stored, value) = entries.get(key)?;
        (stored.elapsed() < self.ttl).then(|| value.clone())
    }

    /// Take before reading what `put_unless_cleared_since` will cache.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches `value`, read when the generation was `read_at`, unless the cache was cleared
    /// since: then the value may be what the clear revoked.
    pub fn put_unless_cleared_since(&self, read_at: u64, key: K, value: V) {
        if let Ok(mut entries) = self.entries.lock()
            && self.generation.load(Ordering::Acquire) == read_at
        {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), value));
        }
    }

    pub fn put(&self, key: K, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), value));
        }
    }

    /// Changes a cached value in place, keeping its age.
    pub fn update(&self, key: &K, change: impl FnOnce(&mut V)) {
        if let Ok(mut entries) = self.entries.lock()
            && let Some((_, value)) = entries.get_mut(key)
        {
            change(value);
        }
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_cleared() {
        let cache = TtlCache::new(Duration::from_millis(0));
        cache.put(1, "a");
        assert_eq!(cache.get(&1), None, "a zero TTL keeps nothing");
        let cache = TtlCache::new(Duration::from_secs(60));
        cache.put(1, "a");
        cache.update(&1, |v| *v = "b");
        assert_eq!(cache.get(&1), Some("b"));
        cache.clear();
        assert_eq!(cache.get(&1), None);
    }

    #[test]
    fn a_value_read_before_a_clear_is_not_cached_after_it() {
        // A request reads a token's grant from the database; meanwhile the partner is
        // disabled and the cache cleared; the request's stale grant must not be cached.
        let cache = TtlCache::new(Duration::from_secs(60));
        let before_the_read = cache.generation();
        cache.clear();
        cache.put_unless_cleared_since(before_the_read, 1, "stale");
        assert_eq!(cache.get(&1), None);
        let now = cache.generation();
        cache.put_unless_cleared_since(now, 1, "fresh");
        assert_eq!(cache.get(&1), Some("fresh"));
    }
}
