//! CSP's error shape: `{statusCode, message, moduleCode (an integer), cspErrorCode, errorCode,
//! requestId}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A CSP error response.
#[derive(Debug)]
pub struct CspError {
    status: StatusCode,
    message: String,
}

impl CspError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> CspError {
        CspError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> CspError {
        CspError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> CspError {
        CspError::new(StatusCode::UNAUTHORIZED, message)
    }

    pub(super) fn forbidden(message: impl Into<String>) -> CspError {
        CspError::new(StatusCode::FORBIDDEN, message)
    }

    pub(super) fn not_found(message: impl Into<String>) -> CspError {
        CspError::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for CspError {
    fn into_response(self) -> Response {
        let request_id = uuid::Uuid::new_v4().simple().to_string();
        let code = format!("{MODULE_CODE}.{}", self.status.as_u16());
        let body = json!({
            "statusCode": self.status.as_u16(),
            "message": self.message,
            "moduleCode": MODULE_CODE,
            "cspErrorCode": code,
            "errorCode": code,
            "requestId": &request_id[..16],
        });
        (self.status, axum::Json(body)).into_response()
    }
}

/// CSP's `moduleCode` is an integer (API_NOTES.md; `tests/fixtures/csp/users.remove.not_found.json`).
pub const MODULE_CODE: u16 = 540;

pub(super) type CspResult<T> = Result<T, CspError>;
