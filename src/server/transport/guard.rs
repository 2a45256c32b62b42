//! The checks every HTTP request passes before it reaches an MCP session: `Host` and `Origin`
//! against allowlists (DNS rebinding: a hostile web page must not drive a local server through
//! the user's browser), the bearer token, and the session limit.
//!
//! Host and Origin come first so a browser on a foreign origin learns nothing, not even whether
//! a token is required. Body size is bounded where the body is read (see `streamable` and `sse`).
//!
//! A request that passes the token check carries its [`Credential`] (the label, never the
//! secret) in its extensions: the audit log names it, and a session answers only to the
//! credential that opened it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use tokio_util::sync::CancellationToken;

use super::HttpOptions;
use super::sse::SseSessions;
use crate::secret::Secret;

/// One accepted bearer secret and the label that names it in logs and audit records.
#[derive(Clone, Debug)]
pub struct BearerCredential {
    pub label: String,
    pub secret: Secret,
}

/// Which credential a request presented (its label): put in the request's extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential(pub Arc<str>);

/// The label of the credential a tool call came with, from its MCP request extensions:
/// Streamable HTTP carries the HTTP request's parts, legacy SSE the credential itself.
pub fn credential_label(extensions: &rmcp::model::Extensions) -> Option<String> {
    extensions
        .get::<Credential>()
        .or_else(|| {
            extensions
                .get::<axum::http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<Credential>())
        })
        .map(|credential| credential.0.to_string())
}

/// Host, Origin and token policy, parsed once at startup.
pub(super) struct Guard {
    hosts: Vec<AllowedHost>,
    origins: Vec<AllowedOrigin>,
    credentials: Vec<(Arc<str>, Secret)>,
}

impl Guard {
    pub(super) fn new(options: &HttpOptions) -> Result<Self, String> {
        let hosts = options
            .allowed_hosts
            .iter()
            .map(|entry| {
                AllowedHost::parse(entry).ok_or_else(|| format!("bad allowed host {entry:?}"))
            })
            .collect::<Result<_, _>>()?;
        let origins = options
            .allowed_origins
            .iter()
            .map(|entry| {
                AllowedOrigin::parse(entry).ok_or_else(|| {
                    format!("bad allowed origin {entry:?}: expected scheme://host[:port|:*]")
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            hosts,
            origins,
            credentials: options
                .credentials
                .iter()
                .map(|c| (Arc::from(c.label.as_str()), c.secret.clone()))
                .collect(),
        })
    }

    fn host_allowed(&self, request: &Request) -> Result<(), Rejection> {
        if self.hosts.is_empty() {
            return Ok(());
        }
        // HTTP/1.1 always carries Host; HTTP/2 carries the authority in the URI instead.
        let authority = match request.headers().get(header::HOST) {
            Some(value) => value
                .to_str()
                .ok()
                .and_then(|host| host.parse::<axum::http::uri::Authority>().ok()),
            None => request.uri().authority().cloned(),
        };
        let Some(authority) = authority else {
            return Err(reject(
                StatusCode::BAD_REQUEST,
                "missing or malformed Host header",
            ));
        };
        let host = normalize_host(authority.host());
        let port = authority.port_u16();
        if self
            .hosts
            .iter()
            .any(|allowed| allowed.matches(&host, port))
        {
            Ok(())
        } else {
            tracing::warn!(host = %authority, "rejected request: Host not allowed (DNS rebinding?)");
            Err(reject(StatusCode::FORBIDDEN, "Host header is not allowed"))
        }
    }

    fn origin_allowed(&self, headers: &HeaderMap) -> Result<(), Rejection> {
        // Browsers always send Origin on cross-origin requests; other clients usually do not,
        // and they are not the DNS-rebinding threat.
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let parsed = origin.to_str().ok().and_then(Origin::parse);
        match parsed {
            Some(origin) if self.origins.iter().any(|allowed| allowed.matches(&origin)) => Ok(()),
            _ => {
                tracing::warn!(origin = ?origin, "rejected request: Origin not allowed");
                Err(reject(StatusCode::FORBIDDEN, "Origin is not allowed"))
            }
        }
    }

    /// The credential presented, `None` when no authentication is configured.
    fn authorized(&self, headers: &HeaderMap) -> Result<Option<Credential>, Rejection> {
        if self.credentials.is_empty() {
            return Ok(None);
        }
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, credentials) = value.split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| credentials.trim())
            });
        let Some(presented) = presented else {
            return Err(Rejection::unauthorized(r#"Bearer realm="tanzu-mcp""#));
        };
        // Every secret is compared (no early exit), so timing says nothing of which matched.
        let mut matched = None;
        for (label, secret) in &self.credentials {
            if secret.matches(presented) && matched.is_none() {
                matched = Some(Credential(label.clone()));
            }
        }
        matched.map(Some).ok_or_else(|| {
            Rejection::unauthorized(r#"Bearer realm="tanzu-mcp", error="invalid_token""#)
        })
    }
}

/// Middleware: Host and Origin allowlists, on every route including `/healthz`.
pub(super) async fn check_host_and_origin(
    State(guard): State<Arc<Guard>>,
    request: Request,
    next: Next,
) -> Response {
    if let Err(rejection) = guard
        .host_allowed(&request)
        .and_then(|()| guard.origin_allowed(request.headers()))
    {
        return rejection.into_response();
    }
    next.run(request).await
}

/// Middleware: the bearer token, on every MCP route; the request then carries its
/// [`Credential`].
pub(super) async fn authorize(
    State(guard): State<Arc<Guard>>,
    mut request: Request,
    next: Next,
) -> Response {
    match guard.authorized(request.headers()) {
        Err(rejection) => return rejection.into_response(),
        Ok(Some(credential)) => {
            request.extensions_mut().insert(credential);
        }
        Ok(None) => {}
    }
    next.run(request).await
}

/// One limit over both transports' sessions, and no new session once shutdown has begun.
#[derive(Clone)]
pub(super) struct SessionLimit {
    max: usize,
    streamable: Arc<LocalSessionManager>,
    sse: Arc<SseSessions>,
    shutdown: CancellationToken,
}

impl SessionLimit {
    pub(super) fn new(
        max: usize,
        streamable: Arc<LocalSessionManager>,
        sse: Arc<SseSessions>,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            max,
            streamable,
            sse,
            shutdown,
        }
    }

    /// Whether one more session may open now. Two concurrent openings may both pass the count;
    /// the limit protects memory, and one session over it does not matter.
    pub(super) async fn admit(&self) -> Result<(), Rejection> {
        if self.shutdown.is_cancelled() {
            return Err(reject(
                StatusCode::SERVICE_UNAVAILABLE,
                "server is shutting down",
            ));
        }
        let open = self.streamable.sessions.read().await.len() + self.sse.len();
        if open >= self.max {
            tracing::warn!(
                open,
                max = self.max,
                "rejected new session: session limit reached"
            );
            return Err(Rejection {
                retry_after: Some("5"),
                ..reject(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many open MCP sessions; retry later",
                )
            });
        }
        Ok(())
    }
}

/// Why a request was turned away: a status, a short reason for the client, and the headers
/// that tell it what to do next.
pub(super) struct Rejection {
    status: StatusCode,
    message: &'static str,
    www_authenticate: Option<&'static str>,
    retry_after: Option<&'static str>,
}

impl Rejection {
    fn unauthorized(challenge: &'static str) -> Self {
        Self {
            www_authenticate: Some(challenge),
            ..reject(StatusCode::UNAUTHORIZED, "a valid bearer token is required")
        }
    }
}

fn reject(status: StatusCode, message: &'static str) -> Rejection {
    Rejection {
        status,
        message,
        www_authenticate: None,
        retry_after: None,
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.message).into_response();
        let headers = response.headers_mut();
        if let Some(challenge) = self.www_authenticate {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
        }
        response
    }
}

fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// `name` accepts any port, `name:port` only that one.
struct AllowedHost {
    host: String,
    port: Option<u16>,
}

impl AllowedHost {
    fn parse(entry: &str) -> Option<Self> {
        let entry = entry.trim();
        if entry.is_empty() {
            return None;
        }
        // A bare IPv6 address ("::1") is not a valid authority; take it as a host.
        if let Ok(authority) = entry.parse::<axum::http::uri::Authority>() {
            return Some(Self {
                host: normalize_host(authority.host()),
                port: authority.port_u16(),
            });
        }
        Some(Self {
            host: normalize_host(entry),
            port: None,
        })
    }

    fn matches(&self, host: &str, port: Option<u16>) -> bool {
        self.host == host && self.port.is_none_or(|allowed| port == Some(allowed))
    }
}

/// A serialized origin: scheme, host and the effective port.
#[derive(Debug)]
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    fn parse(value: &str) -> Option<Self> {
        let url = url::Url::parse(value).ok()?;
        Some(Self {
            scheme: url.scheme().to_string(),
            host: normalize_host(url.host_str()?),
            port: url.port_or_known_default(),
        })
    }
}

/// `scheme://host` (the scheme's default port), `scheme://host:port`, or `scheme://host:*`.
struct AllowedOrigin {
    origin: Origin,
    any_port: bool,
}

impl AllowedOrigin {
    fn parse(entry: &str) -> Option<Self> {
        let entry = entry.trim();
        let (base, any_port) = match entry.strip_suffix(":*") {
            Some(base) => (base, true),
            None => (entry, false),
        };
        Some(Self {
            origin: Origin::parse(base)?,
            any_port,
        })
    }

    fn matches(&self, origin: &Origin) -> bool {
        self.origin.scheme == origin.scheme
            && self.origin.host == origin.host
            && (self.any_port || self.origin.port == origin.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_host_without_port_accepts_any_port() {
        let host = AllowedHost::parse("localhost").expect("valid entry");
        assert!(host.matches("localhost", Some(8080)));
        assert!(host.matches("localhost", None));
        assert!(!host.matches("evil.example", Some(8080)));
    }

    #[test]
    fn allowed_host_with_port_accepts_only_that_port() {
        let host = AllowedHost::parse("mcp.example.com:8443").expect("valid entry");
        assert!(host.matches("mcp.example.com", Some(8443)));
        assert!(!host.matches("mcp.example.com", Some(8080)));
    }

    #[test]
    fn bare_ipv6_allowed_host_is_accepted() {
        let host = AllowedHost::parse("::1").expect("valid entry");
        assert!(host.matches("::1", Some(8080)));
    }

    #[test]
    fn origin_entries_distinguish_any_port_from_default_port() {
        let any = AllowedOrigin::parse("http://localhost:*").expect("valid entry");
        let default_port = AllowedOrigin::parse("https://app.example.com").expect("valid entry");
        let localhost = Origin::parse("http://localhost:6274").expect("valid origin");
        assert!(any.matches(&localhost));
        assert!(!default_port.matches(&localhost));
        let app = Origin::parse("https://app.example.com").expect("valid origin");
        assert!(default_port.matches(&app));
        let app_other_port = Origin::parse("https://app.example.com:8443").expect("valid origin");
        assert!(!default_port.matches(&app_other_port));
    }

    #[test]
    fn opaque_origin_is_never_allowed() {
        assert!(Origin::parse("null").is_none());
    }
}
