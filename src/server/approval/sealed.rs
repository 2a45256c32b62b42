//! The one sealed-approval primitive behind confirmation tokens and input-required states.
//!
//! A sealed approval says: "this call (tool and canonical arguments) may run the plan with this
//! digest, once, before it expires". It reads `nonce.expiry.digest.tag`, where the tag is an
//! HMAC-SHA256, under a per-process random key, over the purpose, the nonce, the expiry, the
//! digest, the tool, the arguments and the label of the HTTP credential the call came with (the
//! name of its `--auth-token-env` variable, never the secret; none over stdio). So it cannot be
//! forged, moved to another person, tool, purpose or credential, replayed (its nonce is spent on first use, in a [`SpentNonces`] store) or used after
//! it expires; and one for a plan that has since changed is recognised as genuine, with its
//! digest, so the caller can say "the plan changed" rather than "forged". It is signed, not
//! secret: the digest in it is no secret.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::nonces::SpentNonces;

type HmacSha256 = Hmac<Sha256>;

/// What a sealed approval is for; one cannot stand in for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A `--confirm token` confirmation token.
    Token,
    /// The request state of a 2026-07-28 input-required round.
    InputState,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::Token => "token",
            Purpose::InputState => "input-state",
        }
    }
}

/// Why a sealed approval was not accepted. Each is final for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the approval is malformed")]
    Malformed,
    #[error("the approval was not issued for this call (other tool, person or arguments)")]
    NotForThisCall,
    #[error("the approval has expired")]
    Expired,
    #[error("the approval was already used")]
    AlreadyUsed,
}

/// The call a sealed approval is bound to.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub tool: &'a str,
    /// The tool's arguments as canonical JSON (without the approval itself).
    pub arguments: &'a str,
    /// The label of the HTTP bearer credential of the call, if any: an approval issued to one
    /// credential is not accepted from another, as sessions are not.
    pub credential: Option<&'a str>,
}

pub struct Sealer {
    key: [u8; 32],
    nonces: Arc<dyn SpentNonces>,
}

impl Sealer {
    pub fn new(nonces: Arc<dyn SpentNonces>) -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Sealer { key, nonces }
    }

    /// Seal an approval of `digest` for `binding`, valid for `ttl`.
    pub fn seal(
        &self,
        purpose: Purpose,
        binding: Binding<'_>,
        digest: &str,
        ttl: Duration,
    ) -> String {
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let expiry = now_secs().saturating_add(ttl.as_secs());
        let tag = URL_SAFE_NO_PAD.encode(
            self.mac(purpose, &nonce, expiry, digest, binding)
                .finalize()
                .into_bytes(),
        );
        format!("{nonce}.{expiry}.{digest}.{tag}")
    }

    /// Check a sealed approval for this call; on success its nonce is spent and the digest it
    /// approves is returned (the caller compares it with the plan at hand).
    pub fn open(
        &self,
        sealed: &str,
        purpose: Purpose,
        binding: Binding<'_>,
    ) -> Result<String, Rejection> {
        let parts: Vec<&str> = sealed.trim().split('.').collect();
        let [nonce, expiry, digest, tag] = parts.as_slice() else {
            return Err(Rejection::Malformed);
        };
        let expiry: u64 = expiry.parse().map_err(|_| Rejection::Malformed)?;
        let given = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| Rejection::Malformed)?;
        // `verify_slice` compares in constant time (and checks the length).
        if self
            .mac(purpose, nonce, expiry, digest, binding)
            .verify_slice(&given)
            .is_err()
        {
            return Err(Rejection::NotForThisCall);
        }
        let now = now_secs();
        if now >= expiry {
            return Err(Rejection::Expired);
        }
        if !self.nonces.spend(nonce, expiry, now) {
            return Err(Rejection::AlreadyUsed);
        }
        Ok((*digest).to_string())
    }

    fn mac(
        &self,
        purpose: Purpose,
        nonce: &str,
        expiry: u64,
        digest: &str,
        binding: Binding<'_>,
    ) -> HmacSha256 {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        // Length-prefix every field so no two field lists share an encoding.
        let expiry = expiry.to_string();
        // "none" and "label:..." cannot collide: a present label always has the prefix.
        let credential = match binding.credential {
            None => "none".to_string(),
            Some(label) => format!("label:{label}"),
        };
        for field in [
            purpose.label(),
            nonce,
            &expiry,
            digest,
            binding.tool,
            binding.arguments,
            &credential,
        ] {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field.as_bytes());
        }
        mac
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::super::nonces::InMemoryNonces;
    use super::*;

    const TTL: Duration = Duration::from_secs(300);
    const CALL: Binding<'static> = Binding {
        tool: "revoke_all_access",
        arguments: r#"{"email":"alice@example.com"}"#,
        credential: None,
    };

    fn sealer() -> Sealer {
        Sealer::new(Arc::new(InMemoryNonces::default()))
    }

    /// Tokens and input-required states alike: the digest comes back once (the lifecycle
    /// compares it with the plan at hand, so one for a stale plan reads as "plan changed"),
    /// then the approval is spent.
    #[test]
    fn a_sealed_approval_opens_once_with_its_digest() {
        let sealer = sealer();
        for purpose in [Purpose::Token, Purpose::InputState] {
            let sealed = sealer.seal(purpose, CALL, "d1", TTL);
            assert_eq!(sealer.open(&sealed, purpose, CALL), Ok("d1".into()));
            assert_eq!(
                sealer.open(&sealed, purpose, CALL),
                Err(Rejection::AlreadyUsed)
            );
        }
    }

    #[test]
    fn one_for_another_person_tool_or_purpose_is_refused() {
        let sealer = sealer();
        let token = sealer.seal(Purpose::Token, CALL, "d1", TTL);
        let bob = Binding {
            arguments: r#"{"email":"bob@example.com"}"#,
            ..CALL
        };
        let other_tool = Binding {
            tool: "other_tool",
            ..CALL
        };
        let with_credential = Binding {
            credential: Some("TEAM_A_TOKEN"),
            ..CALL
        };
        for (purpose, binding) in [
            (Purpose::Token, bob),
            (Purpose::Token, other_tool),
            (Purpose::InputState, CALL),
            (Purpose::Token, with_credential),
        ] {
            let opened = sealer.open(&token, purpose, binding);
            assert_eq!(opened, Err(Rejection::NotForThisCall), "{purpose:?}");
        }
    }

    /// An approval issued to one HTTP credential is refused under another (and under none),
    /// and the refusal spends nothing: it still opens for its own credential.
    #[test]
    fn one_for_another_credential_is_refused_and_stays_usable_by_its_own() {
        let sealer = sealer();
        let team_a = Binding {
            credential: Some("TEAM_A_TOKEN"),
            ..CALL
        };
        let team_b = Binding {
            credential: Some("TEAM_B_TOKEN"),
            ..CALL
        };
        for purpose in [Purpose::Token, Purpose::InputState] {
            let sealed = sealer.seal(purpose, team_a, "d1", TTL);
            for other in [team_b, CALL] {
                assert_eq!(
                    sealer.open(&sealed, purpose, other),
                    Err(Rejection::NotForThisCall)
                );
            }
            assert_eq!(sealer.open(&sealed, purpose, team_a), Ok("d1".into()));
        }
    }

    #[test]
    fn forged_and_tampered_ones_are_refused() {
        let sealer = sealer();
        let foreign = super::Sealer::new(Arc::new(InMemoryNonces::default())).seal(
            Purpose::Token,
            CALL,
            "d1",
            TTL,
        );
        assert_eq!(
            sealer.open(&foreign, Purpose::Token, CALL),
            Err(Rejection::NotForThisCall)
        );
        let token = sealer.seal(Purpose::Token, CALL, "d1", TTL);
        let moved = token.replacen(".d1.", ".d2.", 1);
        assert_eq!(
            sealer.open(&moved, Purpose::Token, CALL),
            Err(Rejection::NotForThisCall)
        );
        let truncated = &token[..token.len() - 2];
        assert!(sealer.open(truncated, Purpose::Token, CALL).is_err());
        assert_eq!(
            sealer.open("yes", Purpose::Token, CALL),
            Err(Rejection::Malformed)
        );
        assert_eq!(
            sealer.open("a.b.c.d", Purpose::Token, CALL),
            Err(Rejection::Malformed)
        );
    }

    #[test]
    fn an_expired_one_is_refused() {
        let sealer = sealer();
        let token = sealer.seal(Purpose::Token, CALL, "d1", Duration::from_secs(0));
        assert_eq!(
            sealer.open(&token, Purpose::Token, CALL),
            Err(Rejection::Expired)
        );
    }
}
