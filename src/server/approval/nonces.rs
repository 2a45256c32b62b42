//! Spent approval nonces: an approval (a confirmation token, a sealed input-required state)
//! is good once. The store is a trait so that several replicas serving one team can share one
//! (a database or cache) in place of the in-memory store of a single process.

use std::collections::HashMap;
use std::sync::Mutex;

/// Remembers which nonces were used, at least until they expire.
pub trait SpentNonces: Send + Sync {
    /// Mark `nonce` spent until `expires_at` (UNIX seconds); `false` if it already was.
    fn spend(&self, nonce: &str, expires_at: u64, now: u64) -> bool;
}

/// The store of one process; expired entries are pruned as new ones arrive.
#[derive(Default)]
pub struct InMemoryNonces {
    spent: Mutex<HashMap<String, u64>>,
}

impl SpentNonces for InMemoryNonces {
    fn spend(&self, nonce: &str, expires_at: u64, now: u64) -> bool {
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        spent.retain(|_, until| *until > now);
        if spent.contains_key(nonce) {
            return false;
        }
        spent.insert(nonce.to_string(), expires_at);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_spent_once_and_forgotten_after_expiry() {
        let nonces = InMemoryNonces::default();
        assert!(nonces.spend("n1", 100, 10));
        assert!(!nonces.spend("n1", 100, 20));
        assert!(nonces.spend("n2", 50, 20));
        // Past its expiry the entry is pruned; the sealed approval itself is expired by then.
        assert!(nonces.spend("n1", 300, 200));
    }
}
