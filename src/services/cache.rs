//! Short-lived in-process caches for the two reads every partner request makes (its token
//! and its mapping rules). The database stays the truth: an entry lives a few seconds, so a
//! change made by another process (the CLI, another instance) is seen within that time, and
//! changes made through this process clear the cache at once.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries beyond this are dropped wholesale: a cache, not a store.
const MAX_ENTRIES: usize = 10_000;

pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        TtlCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        let (stored, value) = entries.get(key)?;
        (stored.elapsed() < self.ttl).then(|| value.clone())
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
}
