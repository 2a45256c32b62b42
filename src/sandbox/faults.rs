//! Injected faults and request statistics: one middleware in front of every route.
//!
//! Counting must not slow paging through 10,000 members, so the common case (no fault armed)
//! costs one atomic load, and a request count is one short lock on a small map keyed by the
//! matched route.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::state::AppState;

/// One armed fault, as posted to `POST /_sandbox/faults`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FaultSpec {
    /// HTTP method to match; absent or empty matches any.
    #[serde(default)]
    pub method: Option<String>,
    /// Matches requests whose path starts with this.
    #[serde(default)]
    pub path_prefix: String,
    /// Status to answer; 0 means: only delay, then serve normally.
    pub status: u16,
    /// How many matching requests fail (default 1).
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
    #[serde(default)]
    pub delay_ms: u64,
    /// Close the connection after `delay_ms`, without any answer (the client sees a reset or
    /// an early end of stream). `status` is then ignored.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
}

/// Closes the connection a request came on, without an answer: the listener puts one into
/// every request's extensions. Absent when the router is driven without a socket (`oneshot`).
#[derive(Clone)]
pub struct ConnectionKill(pub tokio_util::sync::CancellationToken);

fn one() -> u32 {
    1
}

impl FaultSpec {
    fn matches(&self, method: &Method, path: &str) -> bool {
        let method_ok = match self.method.as_deref() {
            None | Some("") => true,
            Some(m) => m.eq_ignore_ascii_case(method.as_str()),
        };
        method_ok && path.starts_with(&self.path_prefix)
    }
}

/// The armed faults, in the order they were posted; the first match wins.
#[derive(Default)]
pub struct FaultRules {
    /// How many rules are armed: lets the hot path skip the lock.
    armed: AtomicUsize,
    rules: Mutex<Vec<FaultSpec>>,
    served: AtomicU64,
}

impl FaultRules {
    pub fn arm(&self, spec: FaultSpec) {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        if spec.count > 0 {
            rules.push(spec);
        }
        self.armed.store(rules.len(), Ordering::Release);
    }

    pub fn clear(&self) {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        rules.clear();
        self.armed.store(0, Ordering::Release);
    }

    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Take one shot of the first rule matching this request, if any.
    fn take(&self, method: &Method, path: &str) -> Option<FaultSpec> {
        if self.armed.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        let index = rules.iter().position(|r| r.matches(method, path))?;
        let rule = &mut rules[index];
        rule.count -= 1;
        let shot = rule.clone();
        if rule.count == 0 {
            rules.remove(index);
        }
        self.armed.store(rules.len(), Ordering::Release);
        self.served.fetch_add(1, Ordering::Relaxed);
        Some(shot)
    }
}

/// Counters reported by `GET /_sandbox/stats`.
#[derive(Default)]
pub struct Stats {
    token_exchanges: AtomicU64,
    /// matched route -> method -> count. Keyed by route first so the lookup borrows the
    /// route string: no allocation once a route has been seen.
    requests: Mutex<HashMap<String, HashMap<Method, u64>>>,
}

impl Stats {
    pub fn count_token_exchange(&self) {
        self.token_exchanges.fetch_add(1, Ordering::Relaxed);
    }

    pub fn token_exchanges(&self) -> u64 {
        self.token_exchanges.load(Ordering::Relaxed)
    }

    fn count_request(&self, method: &Method, route: &str) {
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        let per_method = match requests.get_mut(route) {
            Some(per_method) => per_method,
            None => requests.entry(route.to_string()).or_default(),
        };
        *per_method.entry(method.clone()).or_default() += 1;
    }

    /// "METHOD /matched/route" -> count, sorted.
    pub fn requests(&self) -> BTreeMap<String, u64> {
        let requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        requests
            .iter()
            .flat_map(|(route, per_method)| {
                per_method
                    .iter()
                    .map(move |(method, count)| (format!("{method} {route}"), *count))
            })
            .collect()
    }
}

/// Count the request by its route, then serve an armed fault or pass it on. The sandbox's own
/// control routes are never faulted, so a test can always disarm what it armed.
pub async fn track_and_inject(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let route = matched.as_ref().map_or("(unmatched)", |m| m.as_str());
    state.stats().count_request(request.method(), route);

    let path = request.uri().path();
    if path.starts_with("/_sandbox/") {
        return next.run(request).await;
    }
    let Some(fault) = state.faults().take(request.method(), path) else {
        return next.run(request).await;
    };
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    }
    if fault.reset {
        if let Some(ConnectionKill(kill)) = request.extensions().get::<ConnectionKill>() {
            kill.cancel();
            // The listener drops the connection, and this future with it.
            return std::future::pending().await;
        }
        // No connection to close (a router without a socket): the nearest thing.
        let mut fault = fault;
        fault.status = 502;
        return fault_response(&fault, path);
    }
    if fault.status == 0 {
        return next.run(request).await;
    }
    fault_response(&fault, path)
}

/// The injected failure, in the format of the system the path belongs to.
fn fault_response(fault: &FaultSpec, path: &str) -> Response {
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let reason = status.canonical_reason().unwrap_or("Injected fault");
    let message = format!("injected fault: {} {}", status.as_u16(), reason);
    let body = if path.starts_with("/k8s/") {
        serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason.replace(' ', ""), "code": status.as_u16(),
        })
    } else if path.starts_with("/csp/") {
        serde_json::json!({
            "statusCode": status.as_u16(), "message": message, "moduleCode": 540,
            "cspErrorCode": format!("540.{}", status.as_u16()),
            "errorCode": format!("540.{}", status.as_u16()),
        })
    } else {
        serde_json::json!({
            "error": message, "code": 14, "message": message, "details": [],
        })
    };
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(secs) = fault.retry_after_secs {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}
