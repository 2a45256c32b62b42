//! The transports. HTTP: Streamable HTTP at `/mcp`, the legacy HTTP+SSE transport at `GET /sse` +
//! `POST /message?sessionId=`, and `/healthz`, behind one guard (Host, Origin, bearer token,
//! session, connection, body and read-time limits) and one graceful shutdown. stdio: rmcp's,
//! with the same drain of running calls when stdin closes (`stdio.rs`).
//!
//! Generic over the MCP handler: [`serve_http`] takes a factory that builds one handler per
//! session, so this layer knows nothing about the tools it carries.
//!
//! Secure by default: [`HttpOptions::new`] accepts only loopback `Host` and `Origin` values, and
//! [`check_listen_policy`] refuses a non-loopback address unless a bearer token is configured or
//! the operator opted out explicitly.

mod accept;
mod flags;
mod guard;
mod shutdown;
mod sse;
mod stdio;
mod streamable;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use rmcp::ServerHandler;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use flags::{HttpFlags, auth_token_from_env, check_listen_policy, parse_listen};
pub use shutdown::shutdown_signal;
pub use stdio::{DrainOnEof, EOF_GRACE, stdio};

pub use guard::{BearerCredential, Credential, credential_label};
use guard::{Guard, SessionLimit};
use shutdown::Drain;

/// Everything the HTTP transports need to know; [`HttpOptions::new`] gives the secure defaults.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Address to bind.
    pub listen: SocketAddr,
    /// Accepted `Host` header values: a host name (any port) or `host:port`. An empty list accepts
    /// any Host, which is only safe behind a proxy that checks it.
    pub allowed_hosts: Vec<String>,
    /// Accepted `Origin` header values: `scheme://host` (default port of the scheme),
    /// `scheme://host:port`, or `scheme://host:*` (any port). Requests without an Origin (every
    /// non-browser client) are not affected.
    pub allowed_origins: Vec<String>,
    /// The bearer secrets clients may present, each with its label; empty means no
    /// authentication.
    pub credentials: Vec<BearerCredential>,
    /// The operator accepted serving a non-loopback address without authentication.
    pub insecure_no_auth: bool,
    /// Open sessions (Streamable HTTP and legacy SSE together) beyond which new ones get 503.
    pub max_sessions: usize,
    /// Largest accepted request body; larger ones get 413.
    pub max_body_bytes: usize,
    /// A session (Streamable HTTP or legacy SSE) with no traffic for this long is closed.
    pub idle_session_timeout: Duration,
    /// A connection that has not sent a request's whole header block this long after it began
    /// (or after its previous request ended) is closed: slowloris, idle keep-alives.
    pub header_read_timeout: Duration,
    /// A request body not wholly received this long after its headers gets 408 and the
    /// connection is closed.
    pub body_read_timeout: Duration,
    /// Open connections beyond which new ones are closed at once.
    pub max_connections: usize,
    /// How long a shutdown waits for running calls before closing the sessions anyway.
    pub shutdown_grace: Duration,
}

impl HttpOptions {
    pub const DEFAULT_MAX_SESSIONS: usize = 64;
    pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
    pub const DEFAULT_IDLE_SESSION_TIMEOUT: Duration = Duration::from_secs(10 * 60);
    pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
    pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

    /// Secure defaults for `listen`: loopback Host and Origin only (plus the bound IP when it is
    /// a specific address), no authentication, the default limits.
    pub fn new(listen: SocketAddr) -> Self {
        let mut allowed_hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .map(String::from)
            .collect();
        let ip = listen.ip();
        if !ip.is_loopback() && !ip.is_unspecified() {
            allowed_hosts.push(ip.to_string());
        }
        let allowed_origins = ["localhost", "127.0.0.1", "[::1]"]
            .into_iter()
            .flat_map(|host| ["http", "https"].map(|scheme| format!("{scheme}://{host}:*")))
            .collect();
        Self {
            listen,
            allowed_hosts,
            allowed_origins,
            credentials: Vec::new(),
            insecure_no_auth: false,
            max_sessions: Self::DEFAULT_MAX_SESSIONS,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            idle_session_timeout: Self::DEFAULT_IDLE_SESSION_TIMEOUT,
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: Self::DEFAULT_BODY_READ_TIMEOUT,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            shutdown_grace: Self::DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// Why the HTTP server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot listen on {addr}: {source}; pass another --listen")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The options are unsafe or malformed; the message names the fix.
    #[error("{0}")]
    Config(String),
    #[error("HTTP server failed: {0}")]
    Serve(#[source] std::io::Error),
}

impl TransportError {
    /// The process exit code for this error: 2 when the operator can fix it with a flag (bad
    /// options, address in use), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) | Self::Bind { .. } => 2,
            Self::Serve(_) => 1,
        }
    }
}

/// Binds, serves until `shutdown` is cancelled, then drains: see [`HttpServer::serve`].
pub async fn serve_http<S, F>(
    make_service: F,
    options: HttpOptions,
    shutdown: CancellationToken,
) -> Result<(), TransportError>
where
    S: ServerHandler + Send + 'static,
    F: Fn() -> Result<S, std::io::Error> + Send + Sync + Clone + 'static,
{
    HttpServer::bind(options)
        .await?
        .serve(make_service, shutdown)
        .await
}

/// A bound, not yet serving, HTTP server: lets the caller learn the port before serving (tests
/// bind `127.0.0.1:0`).
pub struct HttpServer {
    listener: TcpListener,
    options: HttpOptions,
    guard: Arc<Guard>,
    /// More routes behind the same guard and bearer auth (the browser approval pages).
    extra: Option<Router>,
}

impl HttpServer {
    pub async fn bind(options: HttpOptions) -> Result<Self, TransportError> {
        check_listen_policy(
            options.listen,
            !options.credentials.is_empty(),
            options.insecure_no_auth,
        )
        .map_err(TransportError::Config)?;
        let guard = Arc::new(Guard::new(&options).map_err(TransportError::Config)?);
        let listener =
            TcpListener::bind(options.listen)
                .await
                .map_err(|source| TransportError::Bind {
                    addr: options.listen,
                    source,
                })?;
        Ok(Self {
            listener,
            options,
            guard,
            extra: None,
        })
    }

    /// Serve `routes` too, behind the same Host/Origin checks and bearer token.
    pub fn with_routes(mut self, routes: Router) -> Self {
        self.extra = Some(routes);
        self
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` is cancelled. Then new sessions get 503 while existing sessions
    /// may finish their running calls (at most `shutdown_grace`); then every session is closed
    /// and the function returns once the connections are gone.
    pub async fn serve<S, F>(
        self,
        make_service: F,
        shutdown: CancellationToken,
    ) -> Result<(), TransportError>
    where
        S: ServerHandler + Send + 'static,
        F: Fn() -> Result<S, std::io::Error> + Send + Sync + Clone + 'static,
    {
        let (options, guard) = (self.options, self.guard);
        // Closing the sessions is a later step than the shutdown request: running calls first.
        let sessions_closed = CancellationToken::new();
        let drain = Drain::new();

        let streamable = streamable::service(make_service.clone(), &options, &sessions_closed);
        let sse_sessions = Arc::new(sse::SseSessions::default());
        let limit = SessionLimit::new(
            options.max_sessions,
            streamable.sessions.clone(),
            sse_sessions.clone(),
            shutdown.clone(),
        );
        let sse_state = sse::SseState::new(
            make_service,
            sse_sessions,
            limit.clone(),
            drain.clone(),
            sessions_closed.clone(),
            &options,
        );

        let app = Router::new()
            .merge(self.extra.unwrap_or_default())
            .merge(streamable::routes(
                streamable,
                limit,
                drain.clone(),
                &options,
            ))
            .merge(sse::routes(sse_state))
            .layer(axum::middleware::from_fn_with_state(
                guard.clone(),
                guard::authorize,
            ))
            // /healthz answers without a token (a load balancer has none), but only for an
            // allowed Host and Origin like everything else.
            .route("/healthz", get(healthz))
            .layer(axum::middleware::from_fn_with_state(
                guard,
                guard::check_host_and_origin,
            ));

        let local_addr = self.listener.local_addr().map_err(TransportError::Serve)?;
        tracing::info!(
            addr = %local_addr,
            credentials = options.credentials.len(),
            "serving MCP over HTTP: Streamable HTTP at /mcp, legacy SSE at /sse"
        );

        // Connections are accepted until this completes: while running calls drain,
        // their sessions must still reach us (an elicitation answer is a new POST), and the
        // session limit already refuses new sessions. Closing the sessions then ends their
        // streams, which lets the connections close.
        let drain_then_close_sessions = {
            let (drain, sessions_closed, shutdown) =
                (drain.clone(), sessions_closed.clone(), shutdown.clone());
            let grace = options.shutdown_grace;
            async move {
                shutdown.cancelled().await;
                drain.finish(grace).await;
                sessions_closed.cancel();
            }
        };
        let limits = accept::ConnectionLimits {
            max_connections: options.max_connections,
            header_read_timeout: options.header_read_timeout,
        };
        let server =
            accept::serve_connections(self.listener, app, limits, drain_then_close_sessions);
        tokio::pin!(server);
        tokio::select! {
            () = &mut server => Ok(()),
            () = shutdown::connections_outlive(&sessions_closed) => {
                tracing::warn!("connections still open after the sessions closed; stopping anyway");
                Ok(())
            }
        }
    }
}

async fn healthz() -> &'static str {
    "ok"
}
