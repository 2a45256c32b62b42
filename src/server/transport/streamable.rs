//! Streamable HTTP at `/mcp`: rmcp's `StreamableHttpService` with in-memory sessions, so that
//! server-to-client requests (elicitation) work for clients on protocol versions before
//! 2026-07-28, plus what rmcp does not do for us: the session limit, counting the calls a
//! graceful shutdown must wait for, a deadline for reading a request body, and (with bearer
//! auth) binding each session to the credential that opened it: another credential presenting
//! the session id gets 404, as if the session did not exist.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use rmcp::ServerHandler;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::HttpOptions;
use super::guard::{Credential, SessionLimit};
use super::shutdown::Drain;

/// The name of the header that carries an existing Streamable HTTP session.
const SESSION_HEADER: &str = "mcp-session-id";

/// Reads the whole body, refusing it with 413 as soon as it grows past `max` bytes (whatever
/// Content-Length says), and with 408 when it has not all arrived within `deadline` (a stalled
/// or trickled body must not hold the connection and its buffer). rmcp would read it whole
/// anyway; we need to see the method first.
pub(super) async fn read_body(
    body: Body,
    max: usize,
    deadline: Duration,
) -> Result<Bytes, Response> {
    let read = async {
        let mut chunks = body.into_data_stream();
        let mut buffer = Vec::new();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|_| {
                (StatusCode::BAD_REQUEST, "cannot read the request body").into_response()
            })?;
            if buffer.len() + chunk.len() > max {
                return Err(
                    (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response()
                );
            }
            buffer.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buffer))
    };
    match tokio::time::timeout(deadline, read).await {
        Ok(read) => read,
        Err(_) => {
            tracing::warn!(
                secs = deadline.as_secs(),
                "dropped a request whose body did not arrive in time"
            );
            let mut response = (
                StatusCode::REQUEST_TIMEOUT,
                "request body not received in time",
            )
                .into_response();
            response.headers_mut().insert(
                header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            Err(response)
        }
    }
}

/// Which credential opened each session (only with bearer auth).
#[derive(Default)]
pub(super) struct SessionOwners(Mutex<HashMap<String, Credential>>);

impl SessionOwners {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Credential>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `credential` may use session `id`: only the one that opened it.
    fn admits(&self, id: &str, credential: Option<&Credential>) -> bool {
        match (self.lock().get(id), credential) {
            (Some(owner), Some(presented)) => owner == presented,
            // No owner on record: the session was opened without auth, or is unknown to rmcp.
            (None, _) => true,
            (Some(_), None) => false,
        }
    }

    /// Record the owner of a new session, forgetting sessions rmcp no longer holds.
    async fn opened(&self, id: &str, credential: Credential, sessions: &LocalSessionManager) {
        let live: Vec<String> = sessions
            .sessions
            .read()
            .await
            .keys()
            .map(|k| k.to_string())
            .collect();
        let mut owners = self.lock();
        owners.retain(|known, _| live.iter().any(|l| l == known));
        owners.insert(id.to_string(), credential);
    }
}

/// Whether the body is an `initialize` request; anything unparsable is left to rmcp to refuse.
fn is_initialize(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Method<'a> {
        #[serde(borrow)]
        method: Option<std::borrow::Cow<'a, str>>,
    }
    serde_json::from_slice::<Method>(body)
        .ok()
        .and_then(|message| message.method)
        .is_some_and(|method| method == "initialize")
}

pub(super) struct Streamable<S> {
    pub(super) service: StreamableHttpService<S, LocalSessionManager>,
    /// Shared with the service, for counting open sessions.
    pub(super) sessions: Arc<LocalSessionManager>,
}

pub(super) fn service<S, F>(
    make_service: F,
    options: &HttpOptions,
    sessions_closed: &CancellationToken,
) -> Streamable<S>
where
    S: ServerHandler + Send + 'static,
    F: Fn() -> Result<S, std::io::Error> + Send + Sync + 'static,
{
    let mut sessions = LocalSessionManager::default();
    // rmcp's worker closes a session after this long without any event and then removes it
    // from the manager, which is what frees its slot under the session limit.
    sessions.session_config.keep_alive = Some(options.idle_session_timeout);
    let sessions = Arc::new(sessions);
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(true)
        // The guard has already checked Host for every route; rmcp checks it again against the
        // same list, so the two can never disagree.
        .with_allowed_hosts(options.allowed_hosts.clone())
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_cancellation_token(sessions_closed.child_token());
    Streamable {
        service: StreamableHttpService::new(make_service, sessions.clone(), config),
        sessions,
    }
}

/// What the middleware in front of `/mcp` needs.
#[derive(Clone)]
struct Gatekeeping {
    limit: SessionLimit,
    drain: Drain,
    max_body_bytes: usize,
    body_read_timeout: Duration,
    sessions: Arc<LocalSessionManager>,
    owners: Arc<SessionOwners>,
}

pub(super) fn routes<S>(
    streamable: Streamable<S>,
    limit: SessionLimit,
    drain: Drain,
    options: &HttpOptions,
) -> Router
where
    S: ServerHandler + Send + 'static,
{
    let gatekeeping = Gatekeeping {
        limit,
        drain,
        max_body_bytes: options.max_body_bytes,
        body_read_timeout: options.body_read_timeout,
        sessions: streamable.sessions,
        owners: Arc::default(),
    };
    let service = streamable.service;
    Router::new()
        .route_service("/mcp", service)
        .layer(axum::middleware::from_fn_with_state(
            gatekeeping,
            admit_and_track,
        ))
}

async fn admit_and_track(
    State(gatekeeping): State<Gatekeeping>,
    request: Request,
    next: Next,
) -> Response {
    let credential = request.extensions().get::<Credential>();
    if let Some(id) = request.headers().get(SESSION_HEADER)
        && !gatekeeping
            .owners
            .admits(id.to_str().unwrap_or_default(), credential)
    {
        tracing::warn!("rejected a request for a session opened with another credential");
        return (StatusCode::NOT_FOUND, "unknown or closed session").into_response();
    }
    match *request.method() {
        Method::POST => post(gatekeeping, request, next).await,
        Method::DELETE => {
            // rmcp answers a session DELETE with 202; clients (the Python SDK) expect 200 or
            // 204 and log a failure otherwise. The session is gone either way.
            let response = next.run(request).await;
            if response.status() == StatusCode::ACCEPTED {
                return StatusCode::NO_CONTENT.into_response();
            }
            response
        }
        _ => next.run(request).await,
    }
}

/// Only an `initialize` opens a session, so only it passes the session limit (which also refuses
/// it once shutdown has begun). Everything else, including a 2026-07-28 call retried with the
/// user's answer while the server drains, goes through. Every POST answered with an event
/// stream is a running call until that stream ends.
async fn post(gatekeeping: Gatekeeping, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let body = match read_body(
        body,
        gatekeeping.max_body_bytes,
        gatekeeping.body_read_timeout,
    )
    .await
    {
        Ok(body) => body,
        Err(rejection) => return rejection,
    };
    let opens_session = !parts.headers.contains_key(SESSION_HEADER) && is_initialize(&body);
    if opens_session && let Err(rejection) = gatekeeping.limit.admit().await {
        return rejection.into_response();
    }
    let credential = parts.extensions.get::<Credential>().cloned();
    let call = gatekeeping.drain.call_started();
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    if opens_session
        && let Some(credential) = credential
        && let Some(id) = response
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
    {
        gatekeeping
            .owners
            .opened(id, credential, &gatekeeping.sessions)
            .await;
    }
    let is_stream = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/event-stream"));
    if !is_stream {
        return response;
    }
    response.map(|body| {
        let stream = body.into_data_stream().map(move |chunk| {
            // The token lives as long as the stream: dropped when the response ends or the
            // client goes away.
            let _running = &call;
            chunk
        });
        Body::from_stream(stream)
    })
}
