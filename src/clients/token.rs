//! CSP access tokens: exchanged from the API token, cached, refreshed before they expire.
//!
//! Concurrent callers share one exchange: the cache sits behind an async mutex that is held
//! across the exchange, so whoever finds the token stale exchanges it while the others wait and
//! then take the fresh one. A server-side 401 is reported with [`TokenSource::rejected`], which
//! drops the cached token only if it is still the rejected one, so 50 callers hitting the same
//! expired token cause one exchange, not 50. A 400 from the exchange means the API token itself
//! is dead: that is reported, with the fix, and never retried.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use super::api_error::server_message;
use super::http::{ApiRequest, ApiResponse, HttpClient, HttpError, endpoint};
use crate::access::ports::System;
use crate::secret::Secret;

const EXCHANGE_PATH: [&str; 7] = [
    "csp",
    "gateway",
    "am",
    "api",
    "auth",
    "api-tokens",
    "authorize",
];

/// Refresh this long before expiry (at most a quarter of the lifetime), so a call does not
/// set off with a token that dies on the way.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// An access token, with the generation that tells one exchange's token from the next.
#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub value: Secret,
    generation: u64,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenError {
    /// 400/401/403 on the exchange: the API token is expired, revoked or wrong.
    #[error("CSP refused the API token ({status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("token exchange answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("token exchange answer is not understood: {0}")]
    Decode(String),
    #[error("token exchange: {0}")]
    Http(#[from] HttpError),
}

impl TokenError {
    pub fn fix(&self) -> &'static str {
        match self {
            TokenError::Rejected { .. } => {
                "create a new API token in the CSP console (My Account > API Tokens) and put it in \
                 VMW_CLOUD_API_TOKEN or the file named by csp.api_token_file"
            }
            TokenError::Http(HttpError::Unreachable { .. }) => {
                "check csp.url (or VMW_CLOUD_ENDPOINT) and the network"
            }
            _ => "",
        }
    }
}

struct Cached {
    token: AccessToken,
    refresh_at: Instant,
}

#[derive(Default)]
struct State {
    cached: Option<Cached>,
    /// The last exchange's failure and the exchange count when it happened, so callers that
    /// queued behind a failing exchange get its answer instead of each trying again.
    last_failure: Option<(u64, TokenError)>,
}

pub(crate) struct TokenSource {
    http: HttpClient,
    exchange_url: Url,
    api_token: Secret,
    state: Mutex<State>,
    /// Exchanges started so far; also the generation of the newest token.
    exchanges: AtomicU64,
}

#[derive(Deserialize)]
struct ExchangeAnswer {
    access_token: String,
    expires_in: u64,
}

impl TokenSource {
    pub fn new(http: HttpClient, csp_base: &Url, api_token: Secret) -> Self {
        TokenSource {
            http,
            exchange_url: endpoint(csp_base, &EXCHANGE_PATH),
            api_token,
            state: Mutex::new(State::default()),
            exchanges: AtomicU64::new(0),
        }
    }

    /// A token good for at least the refresh margin; exchanges when there is none.
    pub async fn token(&self) -> Result<AccessToken, TokenError> {
        let seen = self.exchanges.load(Ordering::Acquire);
        let mut state = self.state.lock().await;
        if let Some(cached) = &state.cached
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }
        self.exchange_locked(&mut state, seen).await
    }

    /// The server refused `token` (401): get another, unless someone already has.
    pub async fn rejected(&self, token: &AccessToken) -> Result<AccessToken, TokenError> {
        let seen = self.exchanges.load(Ordering::Acquire);
        let mut state = self.state.lock().await;
        if let Some(cached) = &state.cached
            && cached.token.generation != token.generation
        {
            return Ok(cached.token.clone());
        }
        state.cached = None;
        self.exchange_locked(&mut state, seen).await
    }

    async fn exchange_locked(
        &self,
        state: &mut State,
        seen: u64,
    ) -> Result<AccessToken, TokenError> {
        if let Some((at, error)) = &state.last_failure
            && *at > seen
        {
            return Err(error.clone());
        }
        let generation = self.exchanges.fetch_add(1, Ordering::AcqRel) + 1;
        match self.exchange().await {
            Ok((value, lifetime)) => {
                let token = AccessToken { value, generation };
                state.cached = Some(Cached {
                    token: token.clone(),
                    refresh_at: Instant::now() + lifetime - refresh_margin(lifetime),
                });
                state.last_failure = None;
                tracing::debug!(
                    expires_in_secs = lifetime.as_secs(),
                    generation,
                    "exchanged the API token for an access token"
                );
                Ok(token)
            }
            Err(error) => {
                state.last_failure = Some((generation, error.clone()));
                Err(error)
            }
        }
    }

    #[tracing::instrument(skip_all, fields(system = "CSP", operation = "token exchange"))]
    async fn exchange(&self) -> Result<(Secret, Duration), TokenError> {
        // Repeating an exchange is harmless (it only issues another token), so it may be retried
        // like a read.
        let request = ApiRequest::new(
            System::Csp,
            "token exchange",
            Method::POST,
            self.exchange_url.clone(),
        )
        .form(vec![("api_token", self.api_token.clone())])
        .idempotent();
        let response = self.http.send(&request, None).await?;
        parse_exchange(&response)
    }
}

/// Read an exchange answer; the access token never appears in an error.
fn parse_exchange(response: &ApiResponse) -> Result<(Secret, Duration), TokenError> {
    match response.status {
        200..=299 => {
            // serde's message may quote a value; report only where the answer went wrong.
            let answer: ExchangeAnswer = serde_json::from_slice(&response.body).map_err(|e| {
                TokenError::Decode(format!(
                    "{:?} error at line {} column {} (expected access_token and expires_in)",
                    e.classify(),
                    e.line(),
                    e.column()
                ))
            })?;
            if answer.access_token.is_empty() {
                return Err(TokenError::Decode("empty access_token".into()));
            }
            Ok((
                Secret::new(answer.access_token),
                Duration::from_secs(answer.expires_in),
            ))
        }
        status @ (400 | 401 | 403) => Err(TokenError::Rejected {
            status,
            message: server_message(&response.body),
        }),
        status => Err(TokenError::Status {
            status,
            message: server_message(&response.body),
        }),
    }
}

/// Why an authorized call failed before it got an HTTP answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthorizedError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Http(#[from] HttpError),
}

/// Send `request` with a bearer token; on a 401, get a fresh token and send once more (a 401
/// means the server did nothing, so this is safe for any call).
pub(crate) async fn send_authorized(
    http: &HttpClient,
    tokens: &TokenSource,
    request: &ApiRequest,
) -> Result<ApiResponse, AuthorizedError> {
    let token = tokens.token().await?;
    let response = http.send(request, Some(&token.value)).await?;
    if response.status != 401 {
        return Ok(response);
    }
    tracing::debug!(
        operation = request.operation,
        "access token refused (401); refreshing once"
    );
    let fresh = tokens.rejected(&token).await?;
    Ok(http.send(request, Some(&fresh.value)).await?)
}

fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 4).min(MAX_REFRESH_MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> ApiResponse {
        ApiResponse {
            status,
            body: body.as_bytes().to_vec(),
            request_id: None,
            attempts: 1,
        }
    }

    #[test]
    fn lifetime_comes_from_expires_in() {
        let (token, lifetime) = parse_exchange(&answer(
            200,
            r#"{"access_token":"abc","expires_in":1799,"token_type":"bearer","scope":"x"}"#,
        ))
        .unwrap();
        assert_eq!(token.expose(), "abc");
        assert_eq!(lifetime, Duration::from_secs(1799));
    }

    #[test]
    fn a_400_means_the_api_token_is_dead_and_says_how_to_fix_it() {
        let error = parse_exchange(&answer(400, r#"{"message":"invalid_grant"}"#)).unwrap_err();
        assert!(matches!(error, TokenError::Rejected { status: 400, .. }));
        assert!(error.to_string().contains("invalid_grant"));
        assert!(error.fix().contains("new API token"));
    }

    #[test]
    fn refresh_happens_ahead_of_expiry() {
        assert_eq!(
            refresh_margin(Duration::from_secs(1799)),
            Duration::from_secs(60)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(8)),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn decode_errors_do_not_echo_the_body() {
        let error = parse_exchange(&answer(200, r#"{"access_token":"zzz-secret"}"#)).unwrap_err();
        assert!(!error.to_string().contains("zzz-secret"));
    }
}
