//! Changes to one person (or group) are serialized within the process, held from the first
//! plan to the verification: a bind racing a revocation of the same person either lands before
//! the revocation plans (and is revoked) or after it verified (and is refused, since the person
//! is gone), never in between where a verified "done" would be a lie.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

#[derive(Default)]
pub struct ChangeLocks {
    held: Mutex<HashMap<String, Weak<AsyncMutex<()>>>>,
}

impl ChangeLocks {
    /// Wait for, then hold, the lock of `target` (compared case-insensitively).
    pub async fn hold(&self, target: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            held.retain(|_, lock| lock.strong_count() > 0);
            let key = target.to_ascii_lowercase();
            match held.get(&key).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(AsyncMutex::new(()));
                    held.insert(key, Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_target_at_a_time_others_in_parallel() {
        let locks = ChangeLocks::default();
        let alice = locks.hold("alice@example.com").await;
        // Another person's change does not wait.
        let _bob = locks.hold("bob@example.com").await;
        let waiting = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            locks.hold("ALICE@example.com"),
        )
        .await;
        assert!(waiting.is_err(), "a second change to alice waits");
        drop(alice);
        let _again = locks.hold("alice@example.com").await;
    }
}
