//! Short-lived in-process caches for the two reads every partner request makes (its token
//! and its mapping rules). The database stays the truth: an entry lives a few seconds, so a
//! change made by another process (the CLI, another instance) is seen within that time, and
//! changes made through this process clear the cache at once.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
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

/// What this process stored lately of partners' records: (partner, assertion key) → the
/// record's fingerprint, each as a 64-bit keyed digest. A hint only, for choosing the
/// statement an upload is first sent as on PostgreSQL (`uploads::save`): the statement checks
/// the database itself, so a wrong hint (a record another instance changed, a collision)
/// costs a second statement, never a wrong write.
///
/// Two generations of at most `STORED_RECORDS_PER_GENERATION` entries each: when the newer
/// is full it becomes the older and the older is dropped, so the records a partner sends
/// again and again stay, and the memory stays bounded (about 2 MB).
pub struct StoredRecords {
    digests: RandomState,
    generations: Mutex<[HashMap<u64, u64>; 2]>,
}

const STORED_RECORDS_PER_GENERATION: usize = 50_000;

impl Default for StoredRecords {
    fn default() -> Self {
        StoredRecords {
            digests: RandomState::new(),
            generations: Mutex::new([HashMap::new(), HashMap::new()]),
        }
    }
}

impl StoredRecords {
    fn entry(&self, partner_id: &str, key: &str, fingerprint: &str) -> (u64, u64) {
        (
            self.digests.hash_one((partner_id, key)),
            self.digests.hash_one(fingerprint),
        )
    }

    /// Notes records (assertion key, fingerprint) as stored for `partner_id`.
    pub fn remember<'r>(
        &self,
        partner_id: &str,
        records: impl IntoIterator<Item = (&'r str, &'r str)>,
    ) {
        let entries: Vec<_> = records
            .into_iter()
            .map(|(key, fingerprint)| self.entry(partner_id, key, fingerprint))
            .collect();
        if let Ok(mut generations) = self.generations.lock() {
            for (key, fingerprint) in entries {
                if generations[0].len() >= STORED_RECORDS_PER_GENERATION {
                    generations.swap(0, 1);
                    generations[0].clear();
                }
                generations[0].insert(key, fingerprint);
            }
        }
    }

    /// Whether every one of `records` was stored lately, as it is now.
    pub fn all_known<'r>(
        &self,
        partner_id: &str,
        records: impl IntoIterator<Item = (&'r str, &'r str)>,
    ) -> bool {
        let entries: Vec<_> = records
            .into_iter()
            .map(|(key, fingerprint)| self.entry(partner_id, key, fingerprint))
            .collect();
        let Ok(generations) = self.generations.lock() else {
            return false;
        };
        !entries.is_empty()
            && entries.iter().all(|(key, fingerprint)| {
                generations.iter().any(|g| g.get(key) == Some(fingerprint))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_records_are_known_by_partner_key_and_fingerprint() {
        let stored = StoredRecords::default();
        assert!(
            !stored.all_known("p", [("a", "1")]),
            "nothing is known at first"
        );
        stored.remember("p", [("a", "1"), ("b", "2")]);
        assert!(stored.all_known("p", [("a", "1"), ("b", "2")]));
        assert!(
            !stored.all_known("p", [("a", "1"), ("c", "3")]),
            "one unknown record"
        );
        assert!(!stored.all_known("p", [("a", "9")]), "a changed record");
        assert!(!stored.all_known("q", [("a", "1")]), "another partner's");
        assert!(
            !stored.all_known("p", []),
            "an empty package is no known one"
        );
    }

    #[test]
    fn stored_records_keep_two_generations_at_most() {
        let stored = StoredRecords::default();
        stored.remember("p", [("first", "1")]);
        let keys: Vec<String> = (0..STORED_RECORDS_PER_GENERATION)
            .map(|i| i.to_string())
            .collect();
        stored.remember("p", keys.iter().map(|k| (k.as_str(), "x")));
        assert!(
            stored.all_known("p", [("first", "1")]),
            "still in the older generation"
        );
        stored.remember("p", keys.iter().map(|k| (k.as_str(), "y")));
        assert!(
            !stored.all_known("p", [("first", "1")]),
            "dropped with the older generation"
        );
        let generations = stored.generations.lock().expect("lock");
        assert!(
            generations
                .iter()
                .all(|g| g.len() <= STORED_RECORDS_PER_GENERATION)
        );
    }

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
