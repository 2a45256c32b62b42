//! Graceful shutdown: once it starts, new sessions are refused, running calls on both transports
//! finish and reach their client, and a call that never ends cannot hold the exit past the grace
//! period.

use std::time::Duration;

use crate::support::transport::{
    SseReader, call, connect, initialize_request, loopback_options, start, text_of,
};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn running_streamable_call_finishes_after_shutdown_starts() {
    let server = start(loopback_options()).await;
    let (client, _) = connect(&server, None, None).await;
    let running_call = tokio::spawn(async move { client.call_tool(call("hold", json!({}))).await });
    server.gate.entered.notified().await;

    server.shutdown.cancel();

    let newcomer = reqwest::Client::new()
        .post(server.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .json(&initialize_request(1))
        .send()
        .await
        .expect("the server still answers while draining");
    assert_eq!(newcomer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(!server.task.is_finished(), "must wait for the running call");

    server.gate.release.notify_one();
    let result = running_call
        .await
        .expect("call task")
        .expect("the running call completes");
    assert_eq!(text_of(&result), "released");
    server
        .task
        .await
        .expect("server task")
        .expect("clean shutdown");
}

#[tokio::test]
async fn running_legacy_sse_call_finishes_after_shutdown_starts() {
    let server = start(loopback_options()).await;
    let http = reqwest::Client::new();
    let mut events = SseReader::new(http.get(server.url("/sse")).send().await.expect("GET /sse"));
    let endpoint = server.url(&events.next().await.expect("endpoint event").data);
    let post = |message: serde_json::Value| http.post(&endpoint).json(&message).send();
    post(initialize_request(1)).await.expect("initialize");
    events.next_message().await.expect("initialize result");
    post(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
        .await
        .expect("initialized");
    post(json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": { "name": "hold", "arguments": {} }
    }))
    .await
    .expect("tools/call");
    server.gate.entered.notified().await;

    server.shutdown.cancel();
    let newcomer = http
        .get(server.url("/sse"))
        .send()
        .await
        .expect("the server still answers while draining");
    assert_eq!(newcomer.status(), StatusCode::SERVICE_UNAVAILABLE);

    server.gate.release.notify_one();
    let result = events.next_message().await.expect("the call's result");
    assert_eq!(result["id"], 2);
    assert_eq!(result["result"]["content"][0]["text"], "released");
    assert!(
        events.next().await.is_none(),
        "the stream ends once the session is closed"
    );
    server
        .task
        .await
        .expect("server task")
        .expect("clean shutdown");
}

#[tokio::test(start_paused = true)]
async fn call_running_past_the_grace_period_does_not_hold_the_exit() {
    let mut options = loopback_options();
    options.shutdown_grace = Duration::from_secs(5);
    let server = start(options).await;
    let (client, _) = connect(&server, None, None).await;
    let running_call = tokio::spawn(async move { client.call_tool(call("hold", json!({}))).await });
    server.gate.entered.notified().await;

    server.shutdown.cancel();
    server
        .task
        .await
        .expect("server task")
        .expect("shutdown after the grace period");
    // The server is gone although the tool never returned; the client may go on trying to
    // resume its stream, which is not the server's concern.
    running_call.abort();
}

#[tokio::test]
async fn idle_server_stops_at_once() {
    let server = start(loopback_options()).await;
    let (_client, _) = connect(&server, None, None).await;
    server.shutdown.cancel();
    server
        .task
        .await
        .expect("server task")
        .expect("clean shutdown");
}

#[tokio::test]
async fn legacy_sse_call_waiting_for_the_user_completes_after_shutdown_starts() {
    let server = start(loopback_options()).await;
    let http = reqwest::Client::new();
    let mut events = SseReader::new(http.get(server.url("/sse")).send().await.expect("GET /sse"));
    let endpoint = server.url(&events.next().await.expect("endpoint event").data);
    let post = |message: serde_json::Value| http.post(&endpoint).json(&message).send();
    post(initialize_request(1)).await.expect("initialize");
    events.next_message().await.expect("initialize result");
    post(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
        .await
        .expect("initialized");
    post(json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": { "name": "confirm", "arguments": { "email": "alice@example.com" } }
    }))
    .await
    .expect("tools/call");
    let ask = events.next_message().await.expect("elicitation request");
    assert_eq!(ask["method"], "elicitation/create", "{ask}");

    server.shutdown.cancel();
    let newcomer = http
        .get(server.url("/sse"))
        .send()
        .await
        .expect("the server still answers while draining");
    assert_eq!(newcomer.status(), StatusCode::SERVICE_UNAVAILABLE);

    let answer = post(json!({
        "jsonrpc": "2.0", "id": ask["id"].clone(),
        "result": { "action": "accept", "content": { "email": "alice@example.com" } }
    }))
    .await
    .expect("answer");
    assert_eq!(answer.status(), StatusCode::ACCEPTED);
    let result = events.next_message().await.expect("the call's result");
    assert_eq!(result["id"], 2);
    assert_eq!(result["result"]["content"][0]["text"], "confirmed");
    server
        .task
        .await
        .expect("server task")
        .expect("clean shutdown");
}

/// Over stdio, a client that sends `initialize` and a `tools/call` and closes stdin at once
/// still gets the answer, even for a call longer than rmcp's own 5 s drain: here a
/// `provision_user` that waits until carol accepts (about 7 s in), then binds. The binding is
/// read back with kubectl, and the server exits by itself afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stdio_answers_a_running_call_after_stdin_closes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use crate::support::common;
    use crate::support::mcp::kubectl_json;
    use tanzu_mcp::sandbox::DataSet;

    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = common::write_config(&sandbox);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tanzu-mcp"))
        .arg("serve")
        .arg("--config")
        .arg(&toml)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tanzu-mcp serve");
    let mut stdin = child.stdin.take().unwrap();
    let lines = [
        initialize_request(1),
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "provision_user",
            "arguments": { "email": "carol@example.com", "role": "app-viewer",
                "scope": { "kind": "tap_cluster", "name": "tap-dev", "namespace": "apps" },
                "wait_seconds": 30 } } }),
    ];
    for line in lines {
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }
    drop(stdin);
    let started = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (status, _) = common::control(
        &base,
        "invitations/accept",
        &json!({ "email": "carol@example.com" }),
    )
    .await;
    assert_eq!(status, 200, "carol accepts after rmcp's own drain is over");

    let mut stdout = String::new();
    let mut pipe = child.stdout.take().unwrap();
    tokio::time::timeout(Duration::from_secs(60), pipe.read_to_string(&mut stdout))
        .await
        .expect("the server closes stdout")
        .unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the server exits once the call is answered")
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert!(exit.success(), "exit {exit:?}: {stderr}");
    let answer = stdout
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON lines"))
        .find(|message| message["id"] == 2)
        .unwrap_or_else(|| panic!("no answer to the call after stdin closed:\n{stdout}\n{stderr}"));
    let result = &answer["result"]["structuredContent"];
    assert_eq!(result["status"], "done", "{answer:#}");
    assert_eq!(result["binding"], "bound", "{answer:#}");
    assert!(
        started.elapsed() > Duration::from_secs(5),
        "a call past rmcp's drain"
    );
    let bindings = kubectl_json(
        dir.path(),
        "tap-dev",
        &["get", "rolebindings", "-n", "apps"],
    )
    .await
    .unwrap();
    assert!(
        bindings.to_string().contains("carol@example.com"),
        "the call ran to the end: {bindings}"
    );
}
