//! The legacy HTTP+SSE transport of protocol 2024-11-05, which rmcp dropped and many clients
//! still speak: `GET /sse` opens a session and streams the server's messages as `message`
//! events, after a first `endpoint` event naming `/message?sessionId=...`; the client POSTs each
//! of its messages there and gets 202.
//!
//! Each session is one rmcp service over [`SseTransport`], a pair of channels: the same handler
//! and lifecycle as stdio and Streamable HTTP. The session ends when the client closes the
//! stream, the handler stops, the server shuts down, or nothing but keep-alives passed for the
//! idle timeout. With bearer auth a session answers only to the credential that opened it
//! (another one gets 404, as for an unknown session).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use rmcp::model::{
    ClientJsonRpcMessage, GetExtensions, JsonRpcMessage, RequestId, ServerJsonRpcMessage,
};
use rmcp::transport::Transport;
use rmcp::{RoleServer, ServerHandler, ServiceExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::task_tracker::TaskTrackerToken;

use super::HttpOptions;
use super::guard::{Credential, SessionLimit};
use super::shutdown::Drain;
use super::streamable::read_body;

/// Messages buffered per direction per session before the sender waits.
const CHANNEL_CAPACITY: usize = 32;

/// The open legacy SSE sessions by id: where `POST /message` finds its session.
#[derive(Default)]
pub(super) struct SseSessions {
    // A std Mutex: held for a map operation only, never across an await.
    by_id: Mutex<HashMap<String, SseSession>>,
}

impl SseSessions {
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SseSession>> {
        self.by_id.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Clone)]
struct SseSession {
    to_server: mpsc::Sender<ClientJsonRpcMessage>,
    running: Arc<RunningCalls>,
    /// The credential that opened it (bearer auth only).
    owner: Option<Credential>,
    activity: Arc<Activity>,
}

/// When a session last carried a message either way: keep-alives do not count.
struct Activity(Mutex<Instant>);

impl Activity {
    fn new() -> Self {
        Activity(Mutex::new(Instant::now()))
    }

    fn touch(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    fn since(&self) -> Duration {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed()
    }

    /// Completes once `timeout` has passed without activity.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let quiet = self.since();
            if quiet >= timeout {
                return;
            }
            tokio::time::sleep(timeout - quiet).await;
        }
    }
}

/// The client's requests whose response has not been sent yet, each holding a drain token so a
/// graceful shutdown waits for it.
#[derive(Default)]
struct RunningCalls(Mutex<HashMap<RequestId, TaskTrackerToken>>);

impl RunningCalls {
    fn started(&self, id: RequestId, token: TaskTrackerToken) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, token);
    }

    fn finished(&self, id: &RequestId) -> Option<TaskTrackerToken> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id)
    }
}

/// Starts one MCP service over a transport; erases the handler type so the routes need not
/// carry it.
type StartSession =
    dyn Fn(SseTransport, CancellationToken) -> Result<(), std::io::Error> + Send + Sync;

pub(super) struct SseState {
    start_session: Box<StartSession>,
    sessions: Arc<SseSessions>,
    limit: SessionLimit,
    drain: Drain,
    /// Cancelled when the server closes every session (the last step of shutdown).
    sessions_closed: CancellationToken,
    max_body_bytes: usize,
    body_read_timeout: Duration,
    idle_session_timeout: Duration,
}

impl SseState {
    pub(super) fn new<S, F>(
        make_service: F,
        sessions: Arc<SseSessions>,
        limit: SessionLimit,
        drain: Drain,
        sessions_closed: CancellationToken,
        options: &HttpOptions,
    ) -> Self
    where
        S: ServerHandler + Send + 'static,
        F: Fn() -> Result<S, std::io::Error> + Send + Sync + 'static,
    {
        let start_session = move |transport: SseTransport, stop: CancellationToken| {
            let handler = make_service()?;
            tokio::spawn(async move {
                match handler.serve_with_ct(transport, stop).await {
                    Ok(running) => {
                        let _ = running.waiting().await;
                    }
                    Err(error) => {
                        tracing::debug!(%error, "legacy SSE session ended before initialization");
                    }
                }
            });
            Ok(())
        };
        Self {
            start_session: Box::new(start_session),
            sessions,
            limit,
            drain,
            sessions_closed,
            max_body_bytes: options.max_body_bytes,
            body_read_timeout: options.body_read_timeout,
            idle_session_timeout: options.idle_session_timeout,
        }
    }
}

pub(super) fn routes(state: SseState) -> Router {
    Router::new()
        .route("/sse", get(open_session))
        .route("/message", post(client_message))
        .with_state(Arc::new(state))
}

async fn open_session(
    State(state): State<Arc<SseState>>,
    owner: Option<Extension<Credential>>,
) -> Response {
    if let Err(rejection) = state.limit.admit().await {
        return rejection.into_response();
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (to_server, from_client) = mpsc::channel(CHANNEL_CAPACITY);
    let (to_client, mut from_server) = mpsc::channel(CHANNEL_CAPACITY);
    let running = Arc::new(RunningCalls::default());
    let stop = state.sessions_closed.child_token();
    let transport = SseTransport {
        from_client,
        to_client,
        running: running.clone(),
    };
    if let Err(error) = (state.start_session)(transport, stop.clone()) {
        tracing::error!(%error, "cannot create the MCP handler for a legacy SSE session");
        return (StatusCode::INTERNAL_SERVER_ERROR, "cannot start a session").into_response();
    }
    let activity = Arc::new(Activity::new());
    state.sessions.lock().insert(
        id.clone(),
        SseSession {
            to_server,
            running,
            owner: owner.map(|Extension(credential)| credential),
            activity: activity.clone(),
        },
    );
    tracing::info!(session = %log_tag(&id), "legacy SSE session opened");

    // Dropped with the response stream: when the client goes away, the handler stops, or the
    // server closes the sessions.
    let cleanup = SessionCleanup {
        id: id.clone(),
        sessions: state.sessions.clone(),
        stop: stop.clone(),
    };
    let endpoint = Event::default()
        .event("endpoint")
        .data(format!("/message?sessionId={id}"));
    let sent = activity.clone();
    let messages = futures::stream::poll_fn(move |cx| from_server.poll_recv(cx)).filter_map(
        move |(message, _call_done): Outgoing| {
            sent.touch();
            async move {
                match Event::default().event("message").json_data(&message) {
                    Ok(event) => Some(event),
                    Err(error) => {
                        tracing::error!(%error, "cannot serialize a server message; dropped");
                        None
                    }
                }
            }
        },
    );
    let idle_timeout = state.idle_session_timeout;
    let idle = async move {
        activity.idle_for(idle_timeout).await;
        tracing::info!("closing an idle legacy SSE session");
    };
    let ended = async move {
        tokio::select! {
            () = stop.cancelled_owned() => {}
            () = idle => {}
        }
    };
    let events = futures::stream::once(async move { endpoint })
        .chain(messages)
        .take_until(ended)
        .map(move |event| {
            let _session = &cleanup;
            Ok::<_, std::convert::Infallible>(event)
        });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[derive(serde::Deserialize)]
struct MessageQuery {
    #[serde(rename = "sessionId")]
    session_id: String,
}

async fn client_message(
    State(state): State<Arc<SseState>>,
    Query(query): Query<MessageQuery>,
    credential: Option<Extension<Credential>>,
    body: Body,
) -> Response {
    let credential = credential.map(|Extension(credential)| credential);
    let Some(session) = state.sessions.lock().get(&query.session_id).cloned() else {
        return (StatusCode::NOT_FOUND, "unknown or closed session").into_response();
    };
    if session.owner.is_some() && session.owner != credential {
        tracing::warn!("rejected a message for a session opened with another credential");
        return (StatusCode::NOT_FOUND, "unknown or closed session").into_response();
    }
    let body = match read_body(body, state.max_body_bytes, state.body_read_timeout).await {
        Ok(body) => body,
        Err(rejection) => return rejection,
    };
    session.activity.touch();
    let mut message: ClientJsonRpcMessage = match serde_json::from_slice(&body) {
        Ok(message) => message,
        Err(error) => {
            tracing::debug!(%error, "rejected a malformed legacy SSE message");
            return (StatusCode::BAD_REQUEST, "not a JSON-RPC message").into_response();
        }
    };
    let request_id = match &mut message {
        JsonRpcMessage::Request(request) => {
            // What Streamable HTTP carries in the request's parts: the audit log names it.
            if let Some(credential) = &credential {
                request.request.extensions_mut().insert(credential.clone());
            }
            Some(request.id.clone())
        }
        _ => None,
    };
    if let Some(id) = &request_id {
        session
            .running
            .started(id.clone(), state.drain.call_started());
    }
    if session.to_server.send(message).await.is_err() {
        if let Some(id) = &request_id {
            session.running.finished(id);
        }
        return (StatusCode::NOT_FOUND, "unknown or closed session").into_response();
    }
    (StatusCode::ACCEPTED, "Accepted").into_response()
}

/// Removes the session from the map (so its handler sees the end of input) and stops it.
struct SessionCleanup {
    id: String,
    sessions: Arc<SseSessions>,
    stop: CancellationToken,
}

impl Drop for SessionCleanup {
    fn drop(&mut self) {
        self.sessions.lock().remove(&self.id);
        self.stop.cancel();
        tracing::info!(session = %log_tag(&self.id), "legacy SSE session closed");
    }
}

/// A server message on its way to the client, with the drain token of the call it answers (if
/// any), released once the message has left the channel.
type Outgoing = (ServerJsonRpcMessage, Option<TaskTrackerToken>);

/// The rmcp side of one legacy SSE session.
pub(super) struct SseTransport {
    from_client: mpsc::Receiver<ClientJsonRpcMessage>,
    to_client: mpsc::Sender<Outgoing>,
    running: Arc<RunningCalls>,
}

#[derive(Debug, thiserror::Error)]
#[error("the legacy SSE client went away")]
pub(super) struct ClientGone;

impl Transport<RoleServer> for SseTransport {
    type Error = ClientGone;

    fn send(
        &mut self,
        message: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let answered = match &message {
            JsonRpcMessage::Response(response) => Some(&response.id),
            JsonRpcMessage::Error(error) => error.id.as_ref(),
            _ => None,
        };
        let call_done = answered.and_then(|id| self.running.finished(id));
        let to_client = self.to_client.clone();
        async move {
            to_client
                .send((message, call_done))
                .await
                .map_err(|_| ClientGone)
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<ClientJsonRpcMessage>> + Send {
        self.from_client.recv()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.from_client.close();
        Ok(())
    }
}

/// What the logs say of a session: a short hash. The id itself answers for the session (whoever
/// holds it can answer its pending approvals), so it never reaches a log.
fn log_tag(id: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(id.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}
