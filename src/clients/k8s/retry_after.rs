//! Keep a Kubernetes error answer's `Retry-After` where kube can see it.
//!
//! kube turns an error answer into a `Status` read from the body alone, so the header is lost
//! (and the API server's priority-and-fairness 429 has a plain-text body with only the
//! header). This layer, placed under kube's error handling, copies the header of a 429 or 503
//! into the `Status`'s `details.retryAfterSeconds`, where the API server itself puts it in its
//! own 429s, so the retry policy can honour it.

use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use kube::client::{Body, DynBody};
use serde_json::{Value, json};
use tower::{BoxError, Layer, Service};

use crate::clients::retry::parse_retry_after;

#[derive(Clone, Copy, Default)]
pub struct RetryAfterLayer;

impl<S> Layer<S> for RetryAfterLayer {
    type Service = RetryAfterService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RetryAfterService { inner }
    }
}

#[derive(Clone)]
pub struct RetryAfterService<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for RetryAfterService<S>
where
    S: Service<Request<Body>, Response = Response<Box<DynBody>>, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = Response<Box<DynBody>>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            let status = response.status().as_u16();
            let seconds = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
            let (429 | 503, Some(wait)) = (status, seconds) else {
                return Ok(response);
            };
            // Error bodies are small; this one is read whole to rewrite it.
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await?.to_bytes();
            let seconds = u32::try_from(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
                .unwrap_or(u32::MAX);
            let body = with_retry_after(&bytes, status, seconds);
            let body: Box<DynBody> = Box::new(Full::new(body).map_err(|never| match never {}));
            Ok(Response::from_parts(parts, body))
        })
    }
}

/// The `Status` of `body` with `details.retryAfterSeconds` set (unless the server set it); a
/// body that is not a `Status` becomes one carrying the text as its message.
pub fn with_retry_after(body: &[u8], code: u16, seconds: u32) -> Bytes {
    let mut status = match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) if value.get("kind") == Some(&json!("Status")) => value,
        _ => json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": String::from_utf8_lossy(body).trim(),
            "reason": if code == 429 { "TooManyRequests" } else { "ServiceUnavailable" },
            "code": code,
        }),
    };
    if let Some(object) = status.as_object_mut() {
        let details = object.entry("details").or_insert_with(|| json!({}));
        if let Some(details) = details.as_object_mut() {
            details
                .entry("retryAfterSeconds")
                .or_insert_with(|| json!(seconds));
        }
    }
    Bytes::from(status.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_body_gains_retry_after_seconds() {
        let body = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"slow down","code":429}"#;
        let out: Value = serde_json::from_slice(&with_retry_after(body, 429, 2)).unwrap();
        assert_eq!(out["details"]["retryAfterSeconds"], 2);
        assert_eq!(out["message"], "slow down");
    }

    #[test]
    fn the_servers_own_value_wins() {
        let body = br#"{"kind":"Status","code":429,"details":{"retryAfterSeconds":7}}"#;
        let out: Value = serde_json::from_slice(&with_retry_after(body, 429, 2)).unwrap();
        assert_eq!(out["details"]["retryAfterSeconds"], 7);
    }

    #[test]
    fn a_plain_text_body_becomes_a_status() {
        let body = b"Too many requests, please try again later.\n";
        let out: Value = serde_json::from_slice(&with_retry_after(body, 429, 1)).unwrap();
        assert_eq!(out["kind"], "Status");
        assert_eq!(out["code"], 429);
        assert_eq!(out["message"], "Too many requests, please try again later.");
        assert_eq!(out["details"]["retryAfterSeconds"], 1);
    }
}
