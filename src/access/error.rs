//! Errors of the access domain: bad input, a refusal with a reason and a fix, or a backend
//! failure. Each says what changed (for these: nothing) and what to do.

use super::ports::BackendError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum AccessError {
    /// The arguments are wrong; nothing was read or changed.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The request is well-formed but must not be carried out (a guide trap, an unknown role).
    #[error("refused: {reason}; {fix}")]
    Refused { reason: String, fix: String },
    /// One of the systems failed; what it did before failing is reported by the caller.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

impl AccessError {
    pub fn invalid(message: impl Into<String>) -> Self {
        AccessError::Invalid(message.into())
    }

    pub fn refused(reason: impl Into<String>, fix: impl Into<String>) -> Self {
        AccessError::Refused {
            reason: reason.into(),
            fix: fix.into(),
        }
    }
}

pub type AccessResult<T> = Result<T, AccessError>;
