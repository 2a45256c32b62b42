//! The legacy HTTP+SSE transport: the `endpoint` event, a message round trip, elicitation over
//! the event stream, bad requests, and cleanup when the client goes away.

use crate::support::transport::{SseReader, initialize_request, loopback_options, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Opens `/sse` and returns the reader and the URL of the session's message endpoint.
async fn open(server: &crate::support::transport::Running) -> (SseReader, String) {
    let response = reqwest::Client::new()
        .get(server.url("/sse"))
        .send()
        .await
        .expect("GET /sse");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let mut events = SseReader::new(response);
    let endpoint = events.next().await.expect("first event");
    assert_eq!(endpoint.event, "endpoint");
    assert!(
        endpoint.data.starts_with("/message?sessionId="),
        "{}",
        endpoint.data
    );
    (events, server.url(&endpoint.data))
}

async fn post(endpoint: &str, message: Value) -> StatusCode {
    reqwest::Client::new()
        .post(endpoint)
        .json(&message)
        .send()
        .await
        .expect("POST /message")
        .status()
}

/// Runs the initialize handshake on an open session.
async fn initialize(events: &mut SseReader, endpoint: &str) {
    assert_eq!(
        post(endpoint, initialize_request(1)).await,
        StatusCode::ACCEPTED
    );
    let answer = events.next_message().await.expect("initialize result");
    assert_eq!(answer["id"], 1);
    assert!(answer["result"]["serverInfo"].is_object(), "{answer}");
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    assert_eq!(post(endpoint, initialized).await, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn endpoint_event_then_messages_round_trip() {
    let server = start(loopback_options()).await;
    let (mut events, endpoint) = open(&server).await;
    initialize(&mut events, &endpoint).await;

    let list = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" });
    assert_eq!(post(&endpoint, list).await, StatusCode::ACCEPTED);
    let tools = events.next_message().await.expect("tools/list result");
    assert_eq!(tools["id"], 2);
    assert_eq!(tools["result"]["tools"].as_array().map(Vec::len), Some(4));

    let echo = json!({
        "jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": { "name": "echo", "arguments": { "text": "over sse" } }
    });
    assert_eq!(post(&endpoint, echo).await, StatusCode::ACCEPTED);
    let result = events.next_message().await.expect("tools/call result");
    assert_eq!(result["id"], 3);
    assert_eq!(result["result"]["content"][0]["text"], "over sse");
}

#[tokio::test]
async fn elicitation_travels_over_the_event_stream() {
    let server = start(loopback_options()).await;
    let (mut events, endpoint) = open(&server).await;
    initialize(&mut events, &endpoint).await;

    let confirm = json!({
        "jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": { "name": "confirm", "arguments": { "email": "alice@example.com" } }
    });
    assert_eq!(post(&endpoint, confirm).await, StatusCode::ACCEPTED);
    let ask = events.next_message().await.expect("elicitation request");
    assert_eq!(ask["method"], "elicitation/create", "{ask}");
    let answer = json!({
        "jsonrpc": "2.0", "id": ask["id"].clone(),
        "result": { "action": "accept", "content": { "email": "alice@example.com" } }
    });
    assert_eq!(post(&endpoint, answer).await, StatusCode::ACCEPTED);

    let result = events.next_message().await.expect("tools/call result");
    assert_eq!(result["id"], 7);
    assert_eq!(result["result"]["content"][0]["text"], "confirmed");
}

#[tokio::test]
async fn unknown_session_gets_404_and_garbage_gets_400() {
    let server = start(loopback_options()).await;
    let status = post(
        &server.url("/message?sessionId=does-not-exist"),
        initialize_request(1),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_events, endpoint) = open(&server).await;
    let garbage = reqwest::Client::new()
        .post(&endpoint)
        .body("{not json")
        .send()
        .await
        .expect("POST /message");
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);

    let missing = reqwest::Client::new()
        .post(server.url("/message"))
        .json(&initialize_request(1))
        .send()
        .await
        .expect("POST /message");
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn session_is_removed_when_the_client_goes_away() {
    let mut options = loopback_options();
    options.max_sessions = 1;
    let server = start(options).await;
    let (mut events, endpoint) = open(&server).await;
    initialize(&mut events, &endpoint).await;

    drop(events);

    // The server notices the closed connection and removes the session: its endpoint becomes
    // unknown and its slot under the limit is free again.
    let mut status = post(
        &endpoint,
        json!({ "jsonrpc": "2.0", "id": 9, "method": "ping" }),
    )
    .await;
    // Poll until a deadline generous for a loaded machine; each round is a real request.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if status == StatusCode::NOT_FOUND {
            break;
        }
        tokio::task::yield_now().await;
        status = post(
            &endpoint,
            json!({ "jsonrpc": "2.0", "id": 9, "method": "ping" }),
        )
        .await;
    }
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_again, _) = open(&server).await;
}

#[tokio::test]
async fn an_idle_session_is_closed_after_the_idle_timeout_and_frees_its_slot() {
    let mut options = loopback_options();
    options.max_sessions = 1;
    options.idle_session_timeout = std::time::Duration::from_millis(700);
    let server = start(options).await;
    // The client keeps its stream open but sends nothing.
    let (mut events, endpoint) = open(&server).await;
    initialize(&mut events, &endpoint).await;
    let ended = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while events.next().await.is_some() {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the idle session's stream was ended by the server"
    );
    let status = post(
        &endpoint,
        json!({ "jsonrpc": "2.0", "id": 9, "method": "ping" }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "its id is then unknown");
    let (_again, _) = open(&server).await;
}
