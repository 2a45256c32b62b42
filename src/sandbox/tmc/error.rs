//! TMC's errors: grpc-gateway's `{error, code, message, details}` with the gRPC status code.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A TMC error: grpc-gateway's `{error, code, message, details}` with the gRPC status code.
#[derive(Debug)]
pub struct TmcError {
    status: StatusCode,
    grpc_code: u8,
    message: String,
}

impl TmcError {
    pub(super) fn new(status: StatusCode, grpc_code: u8, message: impl Into<String>) -> TmcError {
        TmcError {
            status,
            grpc_code,
            message: message.into(),
        }
    }

    pub fn unauthenticated() -> TmcError {
        TmcError::new(
            StatusCode::UNAUTHORIZED,
            16,
            "unauthenticated: invalid or expired access token",
        )
    }

    pub(super) fn invalid_argument(message: impl Into<String>) -> TmcError {
        TmcError::new(StatusCode::BAD_REQUEST, 3, message)
    }

    pub(super) fn failed_precondition(message: impl Into<String>) -> TmcError {
        TmcError::new(StatusCode::BAD_REQUEST, 9, message)
    }

    pub fn not_found(message: impl Into<String>) -> TmcError {
        TmcError::new(StatusCode::NOT_FOUND, 5, message)
    }

    pub(super) fn aborted(message: impl Into<String>) -> TmcError {
        TmcError::new(StatusCode::CONFLICT, 10, message)
    }
}

impl IntoResponse for TmcError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": self.message,
            "code": self.grpc_code,
            "message": self.message,
            "details": [],
        });
        (self.status, axum::Json(body)).into_response()
    }
}

pub(super) type TmcResult<T> = Result<T, TmcError>;
