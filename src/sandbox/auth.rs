//! Who may call what: CSP access tokens (issued by the token exchange, expiring after
//! `expires_in`), and the static bearer token of the TAP clusters' kubeconfig user.
//!
//! CSP and TMC both accept the CSP access token as `Authorization: Bearer`; CSP also takes the
//! older `csp-auth-token` header. Each system refuses in its own error format, so the refusal is
//! built by that system's module.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use super::state::AppState;
use super::{csp, k8s_api, tmc};

/// Issued CSP access tokens and when each expires. Uses tokio's clock so tests can pause time.
pub struct TokenStore {
    ttl: Duration,
    issued: Mutex<HashMap<String, Instant>>,
}

impl TokenStore {
    pub fn new(ttl: Duration) -> TokenStore {
        TokenStore {
            ttl,
            issued: Mutex::new(HashMap::new()),
        }
    }

    fn issued(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.issued.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh access token and its lifetime in seconds.
    pub fn issue(&self) -> (String, u64) {
        let token = format!("sbx-at-{}", uuid::Uuid::new_v4().simple());
        let now = Instant::now();
        let mut issued = self.issued();
        // Forget long-dead tokens so a long-running sandbox does not grow without bound.
        issued.retain(|_, expiry| *expiry + self.ttl > now);
        issued.insert(token.clone(), now + self.ttl);
        (token, self.ttl.as_secs())
    }

    pub fn is_valid(&self, token: &str) -> bool {
        self.issued()
            .get(token)
            .is_some_and(|expiry| *expiry > Instant::now())
    }

    /// Every issued token is expired from now on (`POST /_sandbox/tokens/expire`).
    pub fn expire_all(&self) -> usize {
        let now = Instant::now();
        let mut issued = self.issued();
        for expiry in issued.values_mut() {
            *expiry = now;
        }
        issued.len()
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// CSP: a valid access token as Bearer or as `csp-auth-token`.
pub async fn require_csp_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let token =
        bearer(headers).or_else(|| headers.get("csp-auth-token").and_then(|v| v.to_str().ok()));
    match token {
        Some(token) if state.tokens().is_valid(token) => next.run(request).await,
        Some(_) => csp::CspError::unauthorized("The access token is invalid or has expired.")
            .into_response(),
        None => csp::CspError::unauthorized("No access token: send Authorization: Bearer.")
            .into_response(),
    }
}

/// TMC: a valid CSP access token as Bearer.
pub async fn require_tmc_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match bearer(request.headers()) {
        Some(token) if state.tokens().is_valid(token) => next.run(request).await,
        _ => tmc::TmcError::unauthenticated().into_response(),
    }
}

/// Kubernetes: the kubeconfig user's bearer token.
pub async fn require_k8s_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let ok = bearer(request.headers()).is_some_and(|t| t == state.secrets().k8s_token);
    if ok {
        next.run(request).await
    } else {
        k8s_api::KubeError::unauthorized().into_response()
    }
}
