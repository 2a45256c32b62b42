//! The guard in front of every HTTP endpoint: DNS rebinding (foreign Host), foreign Origin, the
//! bearer token, the body limit, and the refusal to serve a non-loopback address without auth.

use crate::support::transport::{connect, initialize_request, loopback_options, start};
use reqwest::StatusCode;
use serde_json::json;
use tanzu_mcp::secret::Secret;
use tanzu_mcp::server::transport::{
    BearerCredential, HttpServer, TransportError, check_listen_policy,
};

/// Every endpoint, as (method, path): the guard must cover all of them.
const ENDPOINTS: [(&str, &str); 4] = [
    ("POST", "/mcp"),
    ("GET", "/sse"),
    ("POST", "/message?sessionId=none"),
    ("GET", "/healthz"),
];

fn request(http: &reqwest::Client, method: &str, url: String) -> reqwest::RequestBuilder {
    let builder = match method {
        "POST" => http.post(url).json(&initialize_request(1)),
        _ => http.get(url),
    };
    builder.header("Accept", "application/json, text/event-stream")
}

#[tokio::test]
async fn foreign_host_is_refused_on_every_endpoint() {
    let server = start(loopback_options()).await;
    let http = reqwest::Client::new();
    for (method, path) in ENDPOINTS {
        let response = request(&http, method, server.url(path))
            .header("Host", format!("attacker.example:{}", server.addr.port()))
            .send()
            .await
            .expect("HTTP request");
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{method} {path} with a rebinding Host"
        );
    }
}

#[tokio::test]
async fn foreign_origin_is_refused_with_403_on_every_endpoint() {
    let server = start(loopback_options()).await;
    let http = reqwest::Client::new();
    for (method, path) in ENDPOINTS {
        let response = request(&http, method, server.url(path))
            .header("Origin", "https://attacker.example")
            .send()
            .await
            .expect("HTTP request");
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{method} {path} from a foreign Origin"
        );
    }
}

#[tokio::test]
async fn loopback_host_and_origin_are_served() {
    let server = start(loopback_options()).await;
    let response = reqwest::Client::new()
        .post(server.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .header("Host", format!("localhost:{}", server.addr.port()))
        .header("Origin", "http://localhost:6274")
        .json(&initialize_request(1))
        .send()
        .await
        .expect("HTTP request");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("mcp-session-id"));
}

#[tokio::test]
async fn configured_host_and_origin_are_served_and_loopback_origin_no_longer_is() {
    let mut options = loopback_options();
    options.allowed_hosts.push("mcp.example.com".into());
    options.allowed_origins = vec!["https://ide.example.com".into()];
    let server = start(options).await;
    let http = reqwest::Client::new();

    let allowed = request(&http, "GET", server.url("/healthz"))
        .header("Host", "mcp.example.com")
        .header("Origin", "https://ide.example.com")
        .send()
        .await
        .expect("HTTP request");
    assert_eq!(allowed.status(), StatusCode::OK);

    let replaced = request(&http, "GET", server.url("/healthz"))
        .header("Origin", "http://localhost:6274")
        .send()
        .await
        .expect("HTTP request");
    assert_eq!(replaced.status(), StatusCode::FORBIDDEN);
}

fn with_token(secret: &str) -> tanzu_mcp::server::transport::HttpOptions {
    let mut options = loopback_options();
    options.credentials = vec![BearerCredential {
        label: "test".into(),
        secret: Secret::new(secret),
    }];
    options
}

#[tokio::test]
async fn missing_bearer_token_gets_401_with_a_challenge() {
    let server = start(with_token("correct-horse")).await;
    let http = reqwest::Client::new();
    for (method, path) in &ENDPOINTS[..3] {
        let response = request(&http, method, server.url(path))
            .send()
            .await
            .expect("HTTP request");
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        let challenge = response
            .headers()
            .get("www-authenticate")
            .expect("a WWW-Authenticate header")
            .to_str()
            .expect("ASCII header");
        assert!(challenge.starts_with("Bearer "), "{challenge}");
    }
}

#[tokio::test]
async fn wrong_bearer_token_gets_401_invalid_token() {
    let server = start(with_token("correct-horse")).await;
    let response = request(&reqwest::Client::new(), "POST", server.url("/mcp"))
        .bearer_auth("battery-staple")
        .send()
        .await
        .expect("HTTP request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    let body = response.text().await.expect("body");
    assert!(!body.contains("correct-horse") && !body.contains("battery-staple"));
}

#[tokio::test]
async fn right_bearer_token_opens_a_session() {
    let server = start(with_token("correct-horse")).await;
    let (client, _) = connect(&server, None, Some("correct-horse")).await;
    assert!(client.list_all_tools().await.is_ok());

    let sse = reqwest::Client::new()
        .get(server.url("/sse"))
        .bearer_auth("correct-horse")
        .send()
        .await
        .expect("HTTP request");
    assert_eq!(sse.status(), StatusCode::OK);
}

#[tokio::test]
async fn healthz_needs_no_token() {
    let server = start(with_token("correct-horse")).await;
    let response = reqwest::Client::new()
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("HTTP request");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn oversized_body_is_refused_with_413_on_both_transports() {
    let mut options = loopback_options();
    options.max_body_bytes = 4096;
    let server = start(options).await;
    let padding = "x".repeat(8192);
    let oversized = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": { "name": padding, "version": "1" }
        }
    });
    let http = reqwest::Client::new();
    let streamable = http
        .post(server.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .json(&oversized)
        .send()
        .await
        .expect("HTTP request");
    assert_eq!(streamable.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // The legacy endpoint needs a live session for the body to be read at all.
    let sse = http.get(server.url("/sse")).send().await.expect("open SSE");
    let mut events = crate::support::transport::SseReader::new(sse);
    let endpoint = events.next().await.expect("endpoint event");
    let legacy = http
        .post(server.url(&endpoint.data))
        .json(&oversized)
        .send()
        .await
        .expect("HTTP request");
    assert_eq!(legacy.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[test]
fn non_loopback_bind_without_auth_is_refused_naming_both_flags() {
    let addr = "0.0.0.0:8080".parse().expect("valid address");
    let message = check_listen_policy(addr, false, false).expect_err("must refuse");
    assert!(message.contains("--auth-token-env"), "{message}");
    assert!(message.contains("--insecure-no-auth"), "{message}");

    assert!(check_listen_policy(addr, true, false).is_ok());
    assert!(check_listen_policy(addr, false, true).is_ok());
    assert!(check_listen_policy("127.0.0.1:8080".parse().expect("valid"), false, false).is_ok());
    assert!(check_listen_policy("[::1]:8080".parse().expect("valid"), false, false).is_ok());
}

#[tokio::test]
async fn binding_a_non_loopback_address_without_auth_fails_before_listening() {
    let options =
        tanzu_mcp::server::transport::HttpOptions::new("0.0.0.0:0".parse().expect("valid address"));
    match HttpServer::bind(options).await {
        Err(TransportError::Config(message)) => assert!(message.contains("--auth-token-env")),
        Err(other) => panic!("expected a configuration error, got {other}"),
        Ok(_) => panic!("a non-loopback bind without auth must be refused"),
    }
}
