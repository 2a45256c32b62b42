//! A string that must never reach a log, an error or an answer: the CSP API token, access
//! tokens and the HTTP transport's bearer secret.
//!
//! `Debug` and `Display` print `[redacted]`; the only way to the value is [`Secret::expose`],
//! which is called where the value goes on the wire and nowhere else. Comparing two secrets,
//! or a secret with a presented value, takes the same time whatever the values are.

use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A secret value. Cloning shares the allocation; dropping the last clone frees it.
#[derive(Clone)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Arc::from(value.into()))
    }

    /// The value itself, for the one place that puts it in a request.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `presented` is this secret. Constant-time in the content and the length of both
    /// values: comparing SHA-256 digests means a timing side channel reveals neither the secret
    /// nor its length.
    pub fn matches(&self, presented: &str) -> bool {
        let expected = Sha256::digest(self.0.as_bytes());
        let presented = Sha256::digest(presented.as_bytes());
        expected.ct_eq(&presented).into()
    }
}

/// Constant-time too, so no comparison of secrets anywhere leaks through timing.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.matches(other.expose())
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("s3cr3t-token");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some([redacted])");
        assert_eq!(secret.expose(), "s3cr3t-token");
    }

    #[test]
    fn debug_hides_the_bearer_secret() {
        let token = Secret::new("s3cret-value");
        assert!(!format!("{token:?}").contains("s3cret"));
    }

    #[test]
    fn matches_only_the_exact_secret() {
        let token = Secret::new("abc123");
        assert!(token.matches("abc123"));
        assert!(!token.matches("abc1234"));
        assert!(!token.matches("ABC123"));
        assert!(!token.matches(""));
        assert_eq!(token, Secret::new("abc123"));
        assert_ne!(token, Secret::new("abc12"));
    }
}
