//! The sandbox control API (tests and demos only), exactly as INTERFACE.md fixes it:
//!
//! - `POST /_sandbox/invitations/accept` `{"email"}`: the invitee becomes an ACTIVE member.
//! - `POST /_sandbox/tokens/expire`: every issued access token is expired now.
//! - `POST /_sandbox/faults` `{method, path_prefix, status, count, retry_after_secs, delay_ms,
//!   reset?}`: the next `count` matching requests fail so (status 0: only delay; `reset: true`:
//!   the connection is closed with no answer, after the delay). `DELETE` disarms all.
//! - `GET  /_sandbox/stats`: `{token_exchanges, requests: {"METHOD /route": n}, faults_served}`.
//! - `POST /_sandbox/reset`: back to the initial data (also disarms faults).
//!
//! No authentication: the sandbox listens on loopback and holds no real data.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::faults::FaultSpec;
use super::state::{AppState, World};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_sandbox/invitations/accept", post(accept_invitation))
        .route("/_sandbox/tokens/expire", post(expire_tokens))
        .route("/_sandbox/faults", post(arm_fault).delete(clear_faults))
        .route("/_sandbox/stats", get(stats))
        .route("/_sandbox/reset", post(reset))
}

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": message })),
    )
        .into_response()
}

#[derive(Deserialize)]
struct AcceptRequest {
    email: String,
}

async fn accept_invitation(State(state): State<AppState>, body: Bytes) -> Response {
    let request: AcceptRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(format!("expected {{\"email\": \"...\"}}: {e}")),
    };
    let mut world = state.world();
    let World { csp, ids, .. } = &mut *world;
    match csp.accept_invitation(&request.email, ids) {
        Ok(()) => axum::Json(json!({ "email": request.email, "status": "ACTIVE" })).into_response(),
        Err(message) => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": message })),
        )
            .into_response(),
    }
}

async fn expire_tokens(State(state): State<AppState>) -> Response {
    let expired = state.tokens().expire_all();
    axum::Json(json!({ "expired": expired })).into_response()
}

async fn arm_fault(State(state): State<AppState>, body: Bytes) -> Response {
    let spec: FaultSpec = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return bad_request(format!("invalid fault: {e}")),
    };
    if spec.status != 0 && !(100..=599).contains(&spec.status) {
        return bad_request(format!("status {} is not an HTTP status", spec.status));
    }
    state.faults().arm(spec.clone());
    (StatusCode::CREATED, axum::Json(spec)).into_response()
}

async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    state.faults().clear();
    StatusCode::NO_CONTENT
}

async fn stats(State(state): State<AppState>) -> Response {
    axum::Json(json!({
        "token_exchanges": state.stats().token_exchanges(),
        "requests": state.stats().requests(),
        "faults_served": state.faults().served(),
    }))
    .into_response()
}

async fn reset(State(state): State<AppState>) -> StatusCode {
    state.reset();
    StatusCode::NO_CONTENT
}
