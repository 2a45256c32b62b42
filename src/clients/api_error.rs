//! The one error shape of the two HTTP APIs, CSP and TMC, and how it reads as a
//! [`BackendError`].
//!
//! What differs between the systems is data, not code: each client declares one [`ApiSystem`]
//! table (its name, the fix for each status, the fix when its host cannot be reached or answers
//! in an unexpected shape). The kind of a status is the same for every system
//! ([`kind_of_status`]). The server's own words come from [`server_message`], bounded so that a
//! large or odd body cannot flood an error.

use std::ops::RangeInclusive;

use serde::Deserialize;

use super::errors::{authorized_failure, kind_of_status, status_line};
use super::http::{ApiResponse, HttpError};
use super::token::AuthorizedError;
use crate::access::ports::{BackendError, FailureKind, System};

/// The longest excerpt of a body that is not an error object.
const MAX_EXCERPT_CHARS: usize = 300;

/// What one HTTP API says when a call to it fails: the per-system table of fixes.
#[derive(Debug)]
pub struct ApiSystem {
    pub system: System,
    /// The fix sentence of each status; a status not listed has none.
    pub status_fixes: &'static [(RangeInclusive<u16>, &'static str)],
    /// When the host cannot be reached.
    pub unreachable_fix: &'static str,
    /// When the answer is not in the shape the client expects.
    pub unexpected_shape_fix: &'static str,
}

impl ApiSystem {
    fn fix_for_status(&self, status: u16) -> &'static str {
        self.status_fixes
            .iter()
            .find(|(statuses, _)| statuses.contains(&status))
            .map_or("", |(_, fix)| fix)
    }

    /// The error of a non-2xx answer, with the server's message.
    pub(crate) fn status_error(&'static self, response: &ApiResponse) -> ApiError {
        self.error(ApiFailure::Status {
            status: response.status,
            server_message: response.message_with_attempts(server_message(&response.body)),
            request_id: response.request_id.clone(),
        })
    }

    /// The error of a call that got no usable answer (token or transport).
    pub(crate) fn call_error(&'static self, error: impl Into<AuthorizedError>) -> ApiError {
        self.error(ApiFailure::Call(error.into()))
    }

    /// The error of an answer that does not decode.
    pub(crate) fn decode_error(&'static self, error: impl std::fmt::Display) -> ApiError {
        self.error(ApiFailure::Decode(error.to_string()))
    }

    /// The error of an answer that breaks the protocol (a `nextLink` to another host).
    pub(crate) fn protocol_error(&'static self, message: String) -> ApiError {
        self.error(ApiFailure::Protocol(message))
    }

    fn error(&'static self, failure: ApiFailure) -> ApiError {
        ApiError { api: self, failure }
    }
}

/// A failed CSP or TMC call, before it is named with its operation.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{failure}")]
pub struct ApiError {
    api: &'static ApiSystem,
    pub failure: ApiFailure,
}

/// How a call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiFailure {
    #[error("{}: {server_message}", status_line(*.status))]
    Status {
        status: u16,
        server_message: String,
        request_id: Option<String>,
    },
    #[error(transparent)]
    Call(AuthorizedError),
    #[error("answer not understood: {0}")]
    Decode(String),
    #[error("{0}")]
    Protocol(String),
}

impl ApiError {
    pub fn system(&self) -> System {
        self.api.system
    }

    /// Whether the answer to a write was lost, so that only reading the state tells whether
    /// it was made.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self.failure,
            ApiFailure::Call(AuthorizedError::Http(HttpError::OutcomeUnknown { .. }))
        )
    }

    pub fn into_backend(self, operation: impl Into<String>) -> BackendError {
        let operation = operation.into();
        let system = self.api.system;
        match self.failure {
            ApiFailure::Status {
                status,
                server_message,
                request_id,
            } => BackendError {
                system,
                operation,
                kind: kind_of_status(status),
                status: Some(status),
                message: match request_id {
                    Some(id) => format!(
                        "{}: {server_message} (request id {id})",
                        status_line(status)
                    ),
                    None => format!("{}: {server_message}", status_line(status)),
                },
                fix: self.api.fix_for_status(status).to_string(),
            },
            ApiFailure::Call(error) => {
                authorized_failure(system, operation, &error, self.api.unreachable_fix)
            }
            ApiFailure::Decode(message) | ApiFailure::Protocol(message) => BackendError {
                system,
                operation,
                kind: FailureKind::Unavailable,
                status: None,
                message,
                fix: self.api.unexpected_shape_fix.into(),
            },
        }
    }
}

/// The human part of an error body: the first non-empty of `message` (CSP and TMC),
/// `error_description` (the CSP token exchange) and `error` (TMC's gRPC status name), else a
/// bounded excerpt of the body. Neither system puts a token in an error body; the bound keeps
/// whatever else a body holds out of errors and logs.
pub(crate) fn server_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        message: Option<String>,
        error_description: Option<String>,
        error: Option<String>,
    }
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body)
        && let Some(text) = [parsed.message, parsed.error_description, parsed.error]
            .into_iter()
            .flatten()
            .find(|text| !text.is_empty())
    {
        return text;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "(no message)".into()
    } else {
        text.chars().take(MAX_EXCERPT_CHARS).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static TEST_API: ApiSystem = ApiSystem {
        system: System::Tmc,
        status_fixes: &[(403..=403, "ask for a role"), (500..=599, "try later")],
        unreachable_fix: "check the URL",
        unexpected_shape_fix: "check the host",
    };

    #[test]
    fn the_table_gives_the_fix_and_the_kind_is_common() {
        let error = TEST_API
            .error(ApiFailure::Status {
                status: 503,
                server_message: "down".into(),
                request_id: None,
            })
            .into_backend("list roles");
        assert_eq!(error.system, System::Tmc);
        assert_eq!(error.kind, FailureKind::Unavailable);
        assert_eq!(error.fix, "try later");
        assert_eq!(error.message, "503 Service Unavailable: down");
        let unlisted = TEST_API.error(ApiFailure::Status {
            status: 409,
            server_message: "taken".into(),
            request_id: None,
        });
        let unlisted = unlisted.into_backend("x");
        assert_eq!(
            (unlisted.kind, unlisted.fix.as_str()),
            (FailureKind::Conflict, "")
        );
    }

    #[test]
    fn an_unexpected_shape_names_the_system_fix() {
        let error = TEST_API.decode_error("eof").into_backend("get IAM policy");
        assert_eq!(error.kind, FailureKind::Unavailable);
        assert_eq!(error.message, "eof");
        assert_eq!(error.fix, "check the host");
    }

    #[test]
    fn server_messages_of_either_system() {
        // TMC: {error, code, message, details}
        assert_eq!(
            server_message(
                br#"{"error":"not found","code":5,"message":"cluster 'x' not found","details":[]}"#
            ),
            "cluster 'x' not found"
        );
        assert_eq!(
            server_message(br#"{"error":"not found","message":""}"#),
            "not found"
        );
        // CSP: {message} or, from the token exchange, {error, error_description}
        assert_eq!(
            server_message(br#"{"message":"invalid_grant"}"#),
            "invalid_grant"
        );
        assert_eq!(
            server_message(br#"{"error":"invalid_grant","error_description":"expired"}"#),
            "expired"
        );
    }

    #[test]
    fn other_bodies_are_bounded_excerpts() {
        assert_eq!(server_message(b"  "), "(no message)");
        assert_eq!(server_message(b" Bad Gateway \n"), "Bad Gateway");
        let long = "x".repeat(1000);
        assert_eq!(server_message(long.as_bytes()).len(), MAX_EXCERPT_CHARS);
    }
}
