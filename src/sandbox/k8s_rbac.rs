//! The Kubernetes RBAC API of each TAP cluster, under `/k8s/<cluster>`.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;

use super::state::AppState;

pub fn routes(_state: AppState) -> Router<AppState> {
    Router::new()
}

/// A Kubernetes `Status` failure.
#[derive(Debug)]
pub struct KubeError {
    status: StatusCode,
    reason: &'static str,
    message: String,
}

impl KubeError {
    pub fn unauthorized() -> KubeError {
        KubeError {
            status: StatusCode::UNAUTHORIZED,
            reason: "Unauthorized",
            message: "Unauthorized".to_string(),
        }
    }
}

impl IntoResponse for KubeError {
    fn into_response(self) -> Response {
        let body = Status {
            code: Some(i32::from(self.status.as_u16())),
            message: Some(self.message),
            reason: Some(self.reason.to_string()),
            status: Some("Failure".to_string()),
            ..Default::default()
        };
        (self.status, axum::Json(body)).into_response()
    }
}
