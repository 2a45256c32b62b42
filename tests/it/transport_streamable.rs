//! Streamable HTTP at `/mcp`, driven by rmcp's own client over a real socket: tools, elicitation
//! (which needs the stateful sessions), progress, the session limit and idle expiry.

use std::time::Duration;

use crate::support::transport::{call, connect, loopback_options, start, text_of};
use serde_json::json;

#[tokio::test]
async fn lists_and_calls_tools_over_streamable_http() {
    let server = start(loopback_options()).await;
    let (client, _progress) = connect(&server, None, None).await;

    let tools = client.list_all_tools().await.expect("tools/list");
    let mut names: Vec<_> = tools.iter().map(|tool| tool.name.to_string()).collect();
    names.sort();
    assert_eq!(names, ["confirm", "count", "echo", "hold"]);

    let result = client
        .call_tool(call("echo", json!({ "text": "hello" })))
        .await
        .expect("tools/call");
    assert_eq!(text_of(&result), "hello");
}

#[tokio::test]
async fn elicitation_reaches_the_client_and_its_answer_comes_back() {
    let server = start(loopback_options()).await;
    let (client, _progress) = connect(&server, Some("alice@example.com"), None).await;

    let result = client
        .call_tool(call("confirm", json!({ "email": "alice@example.com" })))
        .await
        .expect("tools/call");
    assert_eq!(text_of(&result), "confirmed");

    let wrong = client
        .call_tool(call("confirm", json!({ "email": "bob@example.com" })))
        .await
        .expect("tools/call");
    assert_eq!(text_of(&wrong), "cancelled");
}

#[tokio::test]
async fn progress_notifications_reach_the_client() {
    let server = start(loopback_options()).await;
    let (client, mut progress) = connect(&server, None, None).await;

    let handle = client
        .send_cancellable_request(
            rmcp::model::ClientRequest::CallToolRequest(rmcp::model::Request::new(call(
                "count",
                json!({ "steps": 3 }),
            ))),
            rmcp::service::PeerRequestOptions::no_options(),
        )
        .await
        .expect("send tools/call");
    handle.await_response().await.expect("tools/call result");

    let mut seen = Vec::new();
    for _ in 0..3 {
        let update = progress.recv().await.expect("a progress notification");
        seen.push(update.progress);
    }
    assert_eq!(seen, [1.0, 2.0, 3.0]);
}

#[tokio::test]
async fn session_beyond_the_limit_is_refused_with_503() {
    let server = start(transport_fixture_with_max_sessions(2)).await;
    let (_first, _) = connect(&server, None, None).await;
    let (_second, _) = connect(&server, None, None).await;

    let response = reqwest::Client::new()
        .post(server.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .json(&crate::support::transport::initialize_request(1))
        .send()
        .await
        .expect("HTTP request");
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));

    // The legacy transport shares the same limit.
    let sse = reqwest::Client::new()
        .get(server.url("/sse"))
        .send()
        .await
        .expect("HTTP request");
    assert_eq!(sse.status(), 503);
}

#[tokio::test]
async fn requests_that_open_no_session_are_served_at_the_session_limit() {
    let server = start(transport_fixture_with_max_sessions(1)).await;
    let (_only, _) = connect(&server, None, None).await;

    // A 2026-07-28 request carries no session and opens none.
    let discover = reqwest::Client::new()
        .post(server.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "server/discover")
        .json(&json!({
            "jsonrpc": "2.0", "id": 1, "method": "server/discover",
            "params": { "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}
            } }
        }))
        .send()
        .await
        .expect("HTTP request");
    let status = discover.status();
    let body = discover.text().await.expect("body");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("serverInfo"), "{body}");
}

#[tokio::test]
async fn closed_session_frees_its_slot() {
    let server = start(transport_fixture_with_max_sessions(1)).await;
    let (first, _) = connect(&server, None, None).await;
    first.cancel().await.expect("close the first session");
    // rmcp's client sends DELETE on close, which removes the session.
    let (second, _) = connect(&server, None, None).await;
    assert!(second.list_all_tools().await.is_ok());
}

#[tokio::test]
async fn deleted_session_answers_204_and_its_id_is_then_unknown() {
    let server = start(loopback_options()).await;
    let http = reqwest::Client::new();
    let response = http
        .post(server.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .json(&crate::support::transport::initialize_request(1))
        .send()
        .await
        .expect("initialize");
    let session = response
        .headers()
        .get("mcp-session-id")
        .expect("a session id")
        .clone();
    drop(response);

    let deleted = http
        .delete(server.url("/mcp"))
        .header("mcp-session-id", session.clone())
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .expect("DELETE");
    assert_eq!(deleted.status(), 204);

    let after = http
        .post(server.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({ "jsonrpc": "2.0", "id": 2, "method": "ping" }))
        .send()
        .await
        .expect("request after DELETE");
    assert_eq!(after.status(), 404);
}

#[tokio::test(start_paused = true)]
async fn idle_session_expires_and_its_id_is_refused() {
    let mut options = loopback_options();
    options.idle_session_timeout = Duration::from_secs(60);
    let server = start(options).await;
    let http = reqwest::Client::new();

    let response = http
        .post(server.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .json(&crate::support::transport::initialize_request(1))
        .send()
        .await
        .expect("initialize");
    assert_eq!(response.status(), 200);
    let session = response
        .headers()
        .get("mcp-session-id")
        .expect("a session id")
        .to_str()
        .expect("ASCII session id")
        .to_string();
    drop(response);

    let ping = |http: &reqwest::Client| {
        http.post(server.url("/mcp"))
            .header("Accept", "application/json, text/event-stream")
            .header("mcp-session-id", &session)
            .header("mcp-protocol-version", "2025-06-18")
            .json(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
            .send()
    };
    assert_eq!(ping(&http).await.expect("initialized").status(), 202);

    tokio::time::advance(Duration::from_secs(61)).await;
    // Let the session worker see its timer and remove itself.
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }

    let after = ping(&http).await.expect("request after expiry");
    assert_eq!(after.status(), 404, "an expired session id is unknown");
}

fn transport_fixture_with_max_sessions(max: usize) -> tanzu_mcp::server::transport::HttpOptions {
    let mut options = loopback_options();
    options.max_sessions = max;
    options
}
