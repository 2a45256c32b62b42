//! The one HTTP client CSP and TMC share: timeouts, retries, a tracing span per call.
//!
//! A call is described by an [`ApiRequest`] (method, URL, body, idempotency) so the retry loop
//! can rebuild it for every attempt and decide, through [`retry::decide`], whether another
//! attempt is safe. Non-2xx answers are returned, not turned into errors: each system client
//! knows what its statuses mean. Only the transport's own failures are errors here.
//!
//! reqwest's client is built at the first call, not at start: building it reads and parses the
//! system's CA certificates (about 3 ms), which a server that is only asked for its tool list,
//! or a sandbox reached over plain HTTP, never needs.

use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime};

use reqwest::Method;
use tracing::{Instrument, debug, field};
use url::Url;

use super::retry::{self, AttemptOutcome, ClientOptions, Decision, Idempotency};
use crate::access::ports::System;
use crate::secret::Secret;

/// The request id headers CSP, TMC and common gateways send back; logged with each call.
const REQUEST_ID_HEADERS: [&str; 3] = ["x-request-id", "x-vmw-request-id", "x-correlation-id"];

#[derive(Debug, Clone)]
pub(crate) enum Body {
    Empty,
    Json(serde_json::Value),
    /// Form fields; values are secrets because the only form we send is the token exchange.
    Form(Vec<(&'static str, Secret)>),
}

#[derive(Debug, Clone)]
pub(crate) struct ApiRequest {
    pub system: System,
    /// Short and stable, for spans: "list members", "patch IAM policy".
    pub operation: &'static str,
    pub method: Method,
    pub url: Url,
    pub body: Body,
    pub idempotency: Idempotency,
}

impl ApiRequest {
    pub fn new(system: System, operation: &'static str, method: Method, url: Url) -> Self {
        let idempotency = if method == Method::GET || method == Method::HEAD {
            Idempotency::Idempotent
        } else {
            Idempotency::NotIdempotent
        };
        ApiRequest {
            system,
            operation,
            method,
            url,
            body: Body::Empty,
            idempotency,
        }
    }

    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    pub fn form(mut self, fields: Vec<(&'static str, Secret)>) -> Self {
        self.body = Body::Form(fields);
        self
    }

    /// Declare a non-GET call safe to repeat.
    pub fn idempotent(mut self) -> Self {
        self.idempotency = Idempotency::Idempotent;
        self
    }
}

/// A complete answer (any status).
#[derive(Debug)]
pub(crate) struct ApiResponse {
    pub status: u16,
    pub body: Vec<u8>,
    pub request_id: Option<String>,
    /// Attempts made, first included.
    pub attempts: u32,
}

impl ApiResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The server's message, noting the retries when there were any.
    pub fn message_with_attempts(&self, message: String) -> String {
        if self.attempts > 1 {
            format!("{message} (after {} attempts)", self.attempts)
        } else {
            message
        }
    }
}

/// The transport failed; no (final) HTTP answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    #[error("cannot connect to {host} after {attempts} attempt(s): {detail}")]
    Unreachable {
        host: String,
        detail: String,
        attempts: u32,
    },
    #[error("no complete answer from {host} after {attempts} attempt(s): {detail}")]
    NoAnswer {
        host: String,
        detail: String,
        attempts: u32,
    },
    /// A non-idempotent call whose answer was lost: it may or may not have taken effect.
    #[error("the answer from {host} was lost ({detail}); the change may or may not have been made")]
    OutcomeUnknown { host: String, detail: String },
    #[error("cannot build the HTTP client: {0}")]
    Setup(String),
}

/// The shared client. Cheap to clone; every clone shares one reqwest client, built once.
#[derive(Clone)]
pub(crate) struct HttpClient {
    inner: Arc<OnceLock<Result<reqwest::Client, HttpError>>>,
    options: ClientOptions,
}

impl HttpClient {
    /// Builds nothing yet: see the module's doc.
    pub fn new(options: ClientOptions) -> Self {
        HttpClient {
            inner: Arc::new(OnceLock::new()),
            options,
        }
    }

    /// reqwest's client, built by the first caller (a failure is kept and returned to all).
    fn reqwest(&self) -> Result<&reqwest::Client, HttpError> {
        self.inner
            .get_or_init(|| build_reqwest(&self.options))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Send `request`, retrying as [`retry::decide`] allows. `bearer` goes into
    /// `Authorization` and nowhere else.
    pub async fn send(
        &self,
        request: &ApiRequest,
        bearer: Option<&Secret>,
    ) -> Result<ApiResponse, HttpError> {
        let span = tracing::info_span!(
            "http",
            system = %request.system,
            operation = request.operation,
            method = %request.method,
            path = request.url.path(),
            status = field::Empty,
            latency_ms = field::Empty,
            request_id = field::Empty,
            attempts = field::Empty,
        );
        self.send_with_retries(request, bearer)
            .instrument(span)
            .await
    }

    async fn send_with_retries(
        &self,
        request: &ApiRequest,
        bearer: Option<&Secret>,
    ) -> Result<ApiResponse, HttpError> {
        let started = Instant::now();
        // Building it cannot succeed on a second try: no retry.
        let client = self.reqwest()?;
        let host = host_of(&request.url);
        let span = tracing::Span::current();
        let mut retries_done = 0u32;
        loop {
            let attempts = retries_done + 1;
            let result = Self::attempt(client, request, bearer).await;
            let outcome = match &result {
                Ok(answer) => AttemptOutcome::Status {
                    status: answer.status,
                    retry_after: answer.retry_after,
                },
                Err(Failed::NotSent(_)) => AttemptOutcome::NotSent,
                Err(Failed::Lost(_)) => AttemptOutcome::AnswerLost,
            };
            let decision = retry::decide(outcome, request.idempotency, retries_done, &self.options);
            if let Decision::RetryAfter(wait) = decision {
                debug!(
                    attempt = attempts,
                    outcome = ?outcome,
                    wait_ms = wait.as_millis() as u64,
                    "retrying"
                );
                tokio::time::sleep(wait).await;
                retries_done += 1;
                continue;
            }
            span.record("attempts", attempts);
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            return match result {
                Ok(answer) => {
                    span.record("status", answer.status);
                    if let Some(id) = &answer.request_id {
                        span.record("request_id", id.as_str());
                    }
                    debug!(status = answer.status, "answered");
                    Ok(ApiResponse {
                        status: answer.status,
                        body: answer.body,
                        request_id: answer.request_id,
                        attempts,
                    })
                }
                Err(Failed::NotSent(detail) | Failed::Lost(detail))
                    if decision == Decision::OutcomeUnknown =>
                {
                    debug!(%detail, "answer lost; outcome unknown");
                    Err(HttpError::OutcomeUnknown { host, detail })
                }
                Err(Failed::NotSent(detail)) => {
                    debug!(%detail, "not connected");
                    Err(HttpError::Unreachable {
                        host,
                        detail,
                        attempts,
                    })
                }
                Err(Failed::Lost(detail)) => {
                    debug!(%detail, "no answer");
                    Err(HttpError::NoAnswer {
                        host,
                        detail,
                        attempts,
                    })
                }
            };
        }
    }

    async fn attempt(
        client: &reqwest::Client,
        request: &ApiRequest,
        bearer: Option<&Secret>,
    ) -> Result<Answer, Failed> {
        let mut builder = client
            .request(request.method.clone(), request.url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            // reqwest marks this header sensitive, so it is never printed by its Debug.
            builder = builder.bearer_auth(token.expose());
        }
        builder = match &request.body {
            Body::Empty => builder,
            Body::Json(value) => builder.json(value),
            Body::Form(fields) => {
                let pairs: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.expose())).collect();
                builder.form(&pairs)
            }
        };
        let response = builder.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        let headers = response.headers();
        let retry_after = headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, SystemTime::now()));
        let request_id = REQUEST_ID_HEADERS
            .iter()
            .find_map(|name| headers.get(*name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .bytes()
            .await
            .map_err(|e| Failed::Lost(error_chain(&e)))?;
        Ok(Answer {
            status,
            retry_after,
            request_id,
            body: body.to_vec(),
        })
    }
}

fn build_reqwest(options: &ClientOptions) -> Result<reqwest::Client, HttpError> {
    reqwest::Client::builder()
        .connect_timeout(options.connect_timeout)
        .timeout(options.request_timeout)
        // A redirect could carry the bearer token to another host; the APIs do not redirect.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            env!("CARGO_PKG_NAME"),
            "/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .map_err(|e| HttpError::Setup(error_chain(&e)))
}

struct Answer {
    status: u16,
    retry_after: Option<std::time::Duration>,
    request_id: Option<String>,
    body: Vec<u8>,
}

enum Failed {
    NotSent(String),
    Lost(String),
}

fn classify(error: reqwest::Error) -> Failed {
    let detail = error_chain(&error);
    if error.is_connect() {
        Failed::NotSent(detail)
    } else {
        Failed::Lost(detail)
    }
}

/// The error and its causes on one line, without the URL (which is in the span already).
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

pub(crate) fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => url.as_str().to_string(),
    }
}

/// `base` with `segments` appended, each percent-encoded as one path segment (so a name
/// holding `/`, `?` or `%` cannot change the path).
pub(crate) fn endpoint(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded_one_by_one() {
        let base = Url::parse("https://h.example/prefix/").unwrap();
        let url = endpoint(&base, &["v1alpha1", "clusters:iam", "a/b?c%d e"]);
        assert_eq!(
            url.as_str(),
            "https://h.example/prefix/v1alpha1/clusters:iam/a%2Fb%3Fc%25d%20e"
        );
        let root = Url::parse("http://127.0.0.1:9").unwrap();
        assert_eq!(endpoint(&root, &["x"]).as_str(), "http://127.0.0.1:9/x");
    }

    #[test]
    fn only_reads_default_to_idempotent() {
        let url = Url::parse("http://127.0.0.1:9").unwrap();
        let get = ApiRequest::new(System::Csp, "read", Method::GET, url.clone());
        let post = ApiRequest::new(System::Csp, "write", Method::POST, url.clone());
        assert_eq!(get.idempotency, Idempotency::Idempotent);
        assert_eq!(post.idempotency, Idempotency::NotIdempotent);
        assert_eq!(post.idempotent().idempotency, Idempotency::Idempotent);
    }
}
