//! Who may call what: CSP access tokens (issued by the token exchange, expiring after
//! `expires_in`), and the static bearer token of the TAP clusters' kubeconfig user.
//!
//! Each access token carries the org role of the API token's user ([`CallerRole`]): CSP shows
//! other members' org roles only to owners and admins, and only they may invite or remove.
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

/// The org role of the user an access token acts for, as CSP's access policies tell them
/// apart. Handlers read it from the request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerRole {
    /// An org owner (the sandbox's default API token): sees every member's roles.
    Owner,
    /// A plain org member: "only basic user information" of others, no invitations or removals.
    Member,
}

impl CallerRole {
    /// Whether CSP shows this caller other members' org and service roles.
    pub fn sees_roles(self) -> bool {
        self == CallerRole::Owner
    }
}

/// Issued CSP access tokens, when each expires and whom it acts for. Uses tokio's clock so
/// tests can pause time.
pub struct TokenStore {
    ttl: Duration,
    issued: Mutex<HashMap<String, (Instant, CallerRole)>>,
}

impl TokenStore {
    pub fn new(ttl: Duration) -> TokenStore {
        TokenStore {
            ttl,
            issued: Mutex::new(HashMap::new()),
        }
    }

    fn issued(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, CallerRole)>> {
        self.issued.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh access token for a caller of `role` and its lifetime in seconds.
    pub fn issue(&self, role: CallerRole) -> (String, u64) {
        let token = format!("sbx-at-{}", uuid::Uuid::new_v4().simple());
        let now = Instant::now();
        let mut issued = self.issued();
        // Forget long-dead tokens so a long-running sandbox does not grow without bound.
        issued.retain(|_, (expiry, _)| *expiry + self.ttl > now);
        issued.insert(token.clone(), (now + self.ttl, role));
        (token, self.ttl.as_secs())
    }

    /// The role a still-valid token acts with.
    pub fn caller(&self, token: &str) -> Option<CallerRole> {
        self.issued()
            .get(token)
            .filter(|(expiry, _)| *expiry > Instant::now())
            .map(|(_, role)| *role)
    }

    pub fn is_valid(&self, token: &str) -> bool {
        self.caller(token).is_some()
    }

    /// Every issued token is expired from now on (`POST /_sandbox/tokens/expire`).
    pub fn expire_all(&self) -> usize {
        let now = Instant::now();
        let mut issued = self.issued();
        for (expiry, _) in issued.values_mut() {
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

/// CSP: a valid access token as Bearer or as `csp-auth-token`; its [`CallerRole`] goes into
/// the request's extensions.
pub async fn require_csp_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let token =
        bearer(headers).or_else(|| headers.get("csp-auth-token").and_then(|v| v.to_str().ok()));
    let caller = token.and_then(|t| state.tokens().caller(t));
    match (token, caller) {
        (_, Some(role)) => {
            request.extensions_mut().insert(role);
            next.run(request).await
        }
        (Some(_), None) => {
            csp::CspError::unauthorized("The access token is invalid or has expired.")
                .into_response()
        }
        (None, None) => csp::CspError::unauthorized("No access token: send Authorization: Bearer.")
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
