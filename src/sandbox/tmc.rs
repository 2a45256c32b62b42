//! The TMC (Tanzu Mission Control) API: IAM policies per resource and resource listings.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::state::AppState;

pub fn routes(_state: AppState) -> Router<AppState> {
    Router::new()
}

/// A TMC error: grpc-gateway's `{error, code, message, details}` with the gRPC code.
#[derive(Debug)]
pub struct TmcError {
    status: StatusCode,
    grpc_code: u8,
    message: String,
}

impl TmcError {
    pub fn unauthenticated() -> TmcError {
        TmcError {
            status: StatusCode::UNAUTHORIZED,
            grpc_code: 16,
            message: "invalid or expired access token".to_string(),
        }
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
