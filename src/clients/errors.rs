//! What the three clients share when they turn a failure into a [`BackendError`]: the
//! coarse kind of an HTTP status and of a transport failure.

use super::http::HttpError;
use super::token::{AuthorizedError, TokenError};
use crate::access::ports::{BackendError, FailureKind, System};

pub(crate) fn kind_of_status(status: u16) -> FailureKind {
    match status {
        401 => FailureKind::Unauthenticated,
        403 => FailureKind::Forbidden,
        404 | 410 => FailureKind::NotFound,
        409 | 412 => FailureKind::Conflict,
        429 => FailureKind::RateLimited,
        500..=599 => FailureKind::Unavailable,
        _ => FailureKind::Invalid,
    }
}

pub(crate) fn kind_of_http(error: &HttpError) -> FailureKind {
    match error {
        HttpError::Unreachable { .. } | HttpError::NoAnswer { .. } => FailureKind::Unavailable,
        HttpError::OutcomeUnknown { .. } => FailureKind::Unknown,
        HttpError::Setup(_) => FailureKind::Configuration,
    }
}

/// The `BackendError` of a failed token exchange or transport, for any system that uses the
/// CSP token. A refused API token is `Unauthenticated` whichever system was being called.
pub(crate) fn authorized_failure(
    system: System,
    operation: String,
    error: &AuthorizedError,
    unreachable_fix: &str,
) -> BackendError {
    match error {
        AuthorizedError::Token(token) => {
            token_failure(format!("token exchange (for {system}: {operation})"), token)
        }
        AuthorizedError::Http(http) => BackendError {
            system,
            operation,
            kind: kind_of_http(http),
            status: None,
            message: http.to_string(),
            fix: transport_fix(http, unreachable_fix),
        },
    }
}

/// A failed token exchange. A refused API token is `Unauthenticated`, whichever system the
/// token was wanted for.
pub(crate) fn token_failure(operation: String, token: &TokenError) -> BackendError {
    BackendError {
        system: System::Csp,
        operation,
        kind: match token {
            TokenError::Rejected { .. } => FailureKind::Unauthenticated,
            TokenError::Status { status, .. } => kind_of_status(*status),
            TokenError::Decode(_) => FailureKind::Unavailable,
            TokenError::Http(http) => kind_of_http(http),
        },
        status: match token {
            TokenError::Rejected { status, .. } | TokenError::Status { status, .. } => {
                Some(*status)
            }
            _ => None,
        },
        message: token.to_string(),
        fix: token.fix().to_string(),
    }
}

pub(crate) fn transport_fix(error: &HttpError, unreachable_fix: &str) -> String {
    match error {
        HttpError::Unreachable { .. } => unreachable_fix.to_string(),
        HttpError::NoAnswer { .. } => {
            "the server did not answer in time; try again later".to_string()
        }
        HttpError::OutcomeUnknown { .. } => {
            "read the current state before trying again; the change may already be made".to_string()
        }
        HttpError::Setup(_) => String::new(),
    }
}

/// "503 Service Unavailable" for a status, for messages.
pub(crate) fn status_line(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}
