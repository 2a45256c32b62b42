//! Confirmation tokens for trusted automation (`--confirm token`).
//!
//! A token says: "this exact call (tool and arguments) may run this exact plan (digest), once,
//! before it expires". It is `nonce.expiry.digest.tag`, where the tag is an HMAC-SHA256 over all
//! of them plus the tool and its canonical arguments under a per-process random key. So a
//! token cannot be forged, moved to another person or tool, replayed, or used after expiry,
//! and a token for a plan that has since changed is recognised as such (not as a forgery).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(300);

/// Why a token was not accepted. Each is final for that token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("the confirmation token is malformed")]
    Malformed,
    #[error(
        "the confirmation token was not issued for this call (other tool, person or arguments)"
    )]
    NotForThisCall,
    #[error("the confirmation token has expired")]
    Expired,
    #[error("the confirmation token was already used")]
    AlreadyUsed,
    /// Genuine and unused, but issued for a plan that no longer matches the world.
    #[error("the plan changed since the confirmation token was issued")]
    PlanChanged,
}

pub struct ConfirmationTokens {
    key: [u8; 32],
    ttl: Duration,
    /// Nonces already redeemed, with their expiry (pruned once expired).
    used: Mutex<HashMap<String, u64>>,
}

impl ConfirmationTokens {
    pub fn new(ttl: Duration) -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        ConfirmationTokens {
            key,
            ttl,
            used: Mutex::new(HashMap::new()),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A token for running `digest` through `tool` with `arguments` (canonical JSON).
    pub fn issue(&self, tool: &str, arguments: &str, digest: &str) -> String {
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let expiry = now_secs() + self.ttl.as_secs();
        let tag = self.tag(&nonce, expiry, digest, tool, arguments);
        format!("{nonce}.{expiry}.{digest}.{tag}")
    }

    /// Check a token for this call and the current plan; on success it is spent.
    pub fn redeem(
        &self,
        token: &str,
        tool: &str,
        arguments: &str,
        current_digest: &str,
    ) -> Result<(), TokenRejection> {
        let parts: Vec<&str> = token.trim().split('.').collect();
        let [nonce, expiry, digest, tag] = parts.as_slice() else {
            return Err(TokenRejection::Malformed);
        };
        let expiry: u64 = expiry.parse().map_err(|_| TokenRejection::Malformed)?;
        let expected = self.tag(nonce, expiry, digest, tool, arguments);
        // Constant-time comparison of the tags.
        let given = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenRejection::Malformed)?;
        let expected_bytes = URL_SAFE_NO_PAD
            .decode(&expected)
            .map_err(|_| TokenRejection::Malformed)?;
        if !constant_time_eq(&given, &expected_bytes) {
            return Err(TokenRejection::NotForThisCall);
        }
        let now = now_secs();
        if now >= expiry {
            return Err(TokenRejection::Expired);
        }
        let mut used = self
            .used
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        used.retain(|_, until| *until > now);
        if used.contains_key(*nonce) {
            return Err(TokenRejection::AlreadyUsed);
        }
        used.insert((*nonce).to_string(), expiry);
        if *digest != current_digest {
            return Err(TokenRejection::PlanChanged);
        }
        Ok(())
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as Mac>::new_from_slice(&self.key).expect("HMAC takes keys of any length")
    }

    fn tag(&self, nonce: &str, expiry: u64, digest: &str, tool: &str, arguments: &str) -> String {
        let mut mac = self.mac();
        // Length-prefix every field so no two field lists share an encoding.
        for field in [nonce, &expiry.to_string(), digest, tool, arguments] {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field.as_bytes());
        }
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARGS: &str = r#"{"email":"alice@example.com"}"#;

    #[test]
    fn a_token_runs_its_own_plan_once() {
        let tokens = ConfirmationTokens::new(DEFAULT_TOKEN_TTL);
        let token = tokens.issue("revoke_all_access", ARGS, "d1");
        assert_eq!(
            tokens.redeem(&token, "revoke_all_access", ARGS, "d1"),
            Ok(())
        );
        assert_eq!(
            tokens.redeem(&token, "revoke_all_access", ARGS, "d1"),
            Err(TokenRejection::AlreadyUsed)
        );
    }

    #[test]
    fn a_token_for_another_person_or_tool_is_refused() {
        let tokens = ConfirmationTokens::new(DEFAULT_TOKEN_TTL);
        let token = tokens.issue("revoke_all_access", ARGS, "d1");
        let bob = r#"{"email":"bob@example.com"}"#;
        assert_eq!(
            tokens.redeem(&token, "revoke_all_access", bob, "d1"),
            Err(TokenRejection::NotForThisCall)
        );
        assert_eq!(
            tokens.redeem(&token, "other_tool", ARGS, "d1"),
            Err(TokenRejection::NotForThisCall)
        );
    }

    #[test]
    fn forged_and_tampered_tokens_are_refused() {
        let tokens = ConfirmationTokens::new(DEFAULT_TOKEN_TTL);
        let other = ConfirmationTokens::new(DEFAULT_TOKEN_TTL);
        let foreign = other.issue("revoke_all_access", ARGS, "d1");
        assert_eq!(
            tokens.redeem(&foreign, "revoke_all_access", ARGS, "d1"),
            Err(TokenRejection::NotForThisCall)
        );
        let token = tokens.issue("revoke_all_access", ARGS, "d1");
        let moved_digest = token.replacen(".d1.", ".d2.", 1);
        assert_eq!(
            tokens.redeem(&moved_digest, "revoke_all_access", ARGS, "d2"),
            Err(TokenRejection::NotForThisCall)
        );
        assert_eq!(
            tokens.redeem("yes", "revoke_all_access", ARGS, "d1"),
            Err(TokenRejection::Malformed)
        );
    }

    #[test]
    fn an_expired_token_is_refused() {
        let tokens = ConfirmationTokens::new(Duration::from_secs(0));
        let token = tokens.issue("revoke_all_access", ARGS, "d1");
        assert_eq!(
            tokens.redeem(&token, "revoke_all_access", ARGS, "d1"),
            Err(TokenRejection::Expired)
        );
    }

    #[test]
    fn a_token_for_a_stale_plan_says_so_and_is_spent() {
        let tokens = ConfirmationTokens::new(DEFAULT_TOKEN_TTL);
        let token = tokens.issue("revoke_all_access", ARGS, "d1");
        assert_eq!(
            tokens.redeem(&token, "revoke_all_access", ARGS, "d2"),
            Err(TokenRejection::PlanChanged)
        );
        assert_eq!(
            tokens.redeem(&token, "revoke_all_access", ARGS, "d1"),
            Err(TokenRejection::AlreadyUsed)
        );
    }
}
