//! Turns at the CPU for one key (a partner): its heavy uploads are parsed, read and verified
//! at most `per_key` at a time, so one partner sending the most expensive bodies it can, as
//! fast as its rate limit allows, occupies at most that many cores and the other partners
//! keep the rest. A request waits for its turn at most `wait` (the admission queue's wait);
//! then it is refused, to retry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct Turns {
    per_key: usize,
    wait: Duration,
    keys: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// A turn: the holder may use a core until it drops this.
pub type Turn = OwnedSemaphorePermit;

impl Turns {
    pub fn new(per_key: usize, wait: Duration) -> Turns {
        Turns {
            per_key: per_key.max(1),
            wait,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Half the cores (at least one) per partner: a 2-core machine gives one partner's
    /// heavy work one core.
    pub fn per_partner(wait: Duration) -> Turns {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Turns::new(cores / 2, wait)
    }

    /// How many of `key`'s turns are taken now (work of that key in progress).
    pub fn taken(&self, key: &str) -> usize {
        let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.get(key)
            .map_or(0, |semaphore| self.per_key - semaphore.available_permits())
    }

    /// Waits for a turn for `key`; `None` when none came within the wait.
    pub async fn take(&self, key: &str) -> Option<Turn> {
        let semaphore = {
            let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(
                keys.entry(key.to_string())
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_key))),
            )
        };
        tokio::time::timeout(self.wait, semaphore.acquire_owned())
            .await
            .ok()?
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_key_gets_its_turns_one_at_a_time_and_other_keys_are_not_held_up() {
        let turns = Turns::new(1, Duration::from_millis(20));
        let first = turns.take("hostile").await.expect("a turn");
        assert!(
            turns.take("hostile").await.is_none(),
            "its second waits, then gives up"
        );
        assert!(
            turns.take("other").await.is_some(),
            "another partner is not held up"
        );
        drop(first);
        assert!(turns.take("hostile").await.is_some());
    }
}
