//! The approval page's routes (`GET` shows the form, `POST` answers it) and the loopback
//! listener that serves them when the HTTP transport does not.
//!
//! Checks, before anything is read or changed: on the loopback listener the `Host` must name
//! it (DNS rebinding); a post must come from the page's own origin (`Origin` equal to the Host
//! it was sent to) and carry the page's token. Nothing here logs a path: it holds the secret.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tokio::net::TcpListener;

use super::page;
use super::{Answered, BrowserPages};

/// The path of page `id`.
pub fn path(id: &str) -> String {
    format!("/approve/{id}")
}

/// The routes, to mount on the HTTP transport's listener or the loopback one.
pub fn routes(pages: Arc<BrowserPages>) -> Router {
    Router::new()
        .route("/approve/{id}", get(show).post(post))
        .with_state(pages)
}

/// Bind 127.0.0.1 on an ephemeral port and serve the pages there for the process's lifetime.
pub(super) async fn start_loopback(pages: Arc<BrowserPages>) -> Result<SocketAddr, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1 for the approval page: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot listen on 127.0.0.1 for the approval page: {e}"))?;
    let app = routes(pages);
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "the approval page listener stopped");
        }
    });
    tracing::info!(port = addr.port(), "approval pages are served on 127.0.0.1");
    Ok(addr)
}

/// What the page's form posts.
#[derive(Debug, Deserialize)]
pub struct FormPost {
    pub token: Option<String>,
    pub email: Option<String>,
    pub decision: Option<String>,
}

async fn show(
    State(pages): State<Arc<BrowserPages>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = foreign_host(&pages, &headers) {
        return refused;
    }
    match pages.render(&id) {
        Some(html) => html_response(StatusCode::OK, html),
        None => gone(),
    }
}

async fn post(
    State(pages): State<Arc<BrowserPages>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<FormPost>,
) -> Response {
    if let Some(refused) = foreign_host(&pages, &headers) {
        return refused;
    }
    if !same_origin(&headers) {
        tracing::warn!("refused an approval post from a foreign or missing Origin");
        return html_response(
            StatusCode::FORBIDDEN,
            page::message(
                "Refused",
                "This approval was not sent from its own page (foreign origin). Nothing changed.",
            ),
        );
    }
    let (status, title, text) = match pages.answer(&id, &form) {
        Err(_) => return gone(),
        Ok(Answered::BadToken) => {
            tracing::warn!("refused an approval post without the page's token");
            (
                StatusCode::FORBIDDEN,
                "Refused",
                "This form did not carry its page's token. Nothing changed.",
            )
        }
        Ok(Answered::Approved) => (
            StatusCode::OK,
            "Approved",
            "Approved. The plan runs in your MCP client now (or when the call is made again). You can close this page.",
        ),
        Ok(Answered::Declined) => (
            StatusCode::OK,
            "Declined",
            "Declined. Nothing changed. You can close this page.",
        ),
        Ok(Answered::Mistyped) => (
            StatusCode::OK,
            "Not approved",
            "The email typed did not match the person the plan is about, so nothing changed. Call the tool again for a new page.",
        ),
    };
    html_response(status, page::message(title, text))
}

/// On the loopback listener, the Host must name it: a DNS-rebinding page gets nothing (the
/// refusal is returned). On the HTTP transport its guard has checked the Host already.
fn foreign_host(pages: &BrowserPages, headers: &HeaderMap) -> Option<Response> {
    if !pages.on_loopback() {
        return None;
    }
    let Some(base) = pages.served.get() else {
        return Some(gone());
    };
    let port = base.base.rsplit(':').next().unwrap_or_default();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let allowed = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(host)) {
        None
    } else {
        tracing::warn!("refused an approval page request for a foreign Host");
        Some(html_response(
            StatusCode::FORBIDDEN,
            page::message("Refused", "This Host is not allowed."),
        ))
    }
}

/// A browser sends `Origin` with every form post; it must be the page's own.
fn same_origin(headers: &HeaderMap) -> bool {
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    ["http://", "https://"]
        .iter()
        .any(|scheme| origin.eq_ignore_ascii_case(&format!("{scheme}{host}")))
}

fn gone() -> Response {
    html_response(
        StatusCode::GONE,
        page::message(
            "No longer valid",
            "This approval page is no longer valid: it was used, it expired, or the plan changed. Nothing changed. Call the tool again for a new page.",
        ),
    )
}

fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        // The address is a secret: not in caches, not in a Referer to another site (`no-referrer`
        // would also make the form post's Origin `null`).
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
