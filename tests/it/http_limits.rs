//! The real binary over HTTP, driven with raw TCP sockets: half-sent headers and stalled bodies
//! are dropped within seconds (slowloris), connections beyond the limit are closed at once, and
//! with two bearer credentials a session answers only to the one that opened it.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::server_log::ServerLog;
use crate::support::transport::initialize_request;
use tanzu_mcp::server::transport::HttpOptions;

/// `tanzu-mcp serve --sandbox --transport http` on a free loopback port, killed on drop.
pub struct Served {
    child: tokio::process::Child,
    pub addr: String,
    pub log: ServerLog,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

pub async fn serve(extra: &[&str], env: &[(&str, &str)]) -> Served {
    serve_logging("info", extra, env).await
}

/// [`serve`] with `TANZU_MCP_LOG=filter`.
pub async fn serve_logging(filter: &str, extra: &[&str], env: &[(&str, &str)]) -> Served {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let log = ServerLog::new("tanzu-mcp serve --transport http");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tanzu-mcp"));
    command
        .args([
            "serve",
            "--sandbox",
            "--transport",
            "http",
            "--listen",
            &addr,
        ])
        .args(extra)
        .env("TANZU_MCP_LOG", filter)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log.stdio())
        .kill_on_drop(true);
    for (k, v) in env {
        command.env(k, v);
    }
    let child = command.spawn().expect("spawn tanzu-mcp serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(&addr).await.is_err() {
        assert!(Instant::now() < deadline, "the server listens within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Served { child, addr, log }
}

/// Reads until the peer closes; returns what came and how long it took, or `None` if it was
/// still open after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<(String, Duration)> {
    let started = Instant::now();
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read).await.ok()?;
    Some((
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_and_stalled_bodies_are_dropped_within_seconds() {
    let server = serve(&[], &[]).await;
    let mut slow_headers = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(&server.addr).await.unwrap();
        stream
            .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .await
            .unwrap();
        slow_headers.push(stream);
    }
    let mut stalled = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(&server.addr).await.unwrap();
        stream
            .write_all(
                b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                  Accept: application/json, text/event-stream\r\nContent-Length: 5000\r\n\r\n{\"jsonrpc\"",
            )
            .await
            .unwrap();
        stalled.push(stream);
    }
    let header_limit = HttpOptions::DEFAULT_HEADER_READ_TIMEOUT + Duration::from_secs(3);
    for stream in &mut slow_headers {
        let closed = closed_within(stream, header_limit).await;
        assert!(
            closed.is_some(),
            "half-sent headers still held after {header_limit:?}"
        );
    }
    let body_limit = HttpOptions::DEFAULT_BODY_READ_TIMEOUT + Duration::from_secs(3);
    for stream in &mut stalled {
        let (answer, _) = closed_within(stream, body_limit)
            .await
            .unwrap_or_else(|| panic!("a stalled body still held after {body_limit:?}"));
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
    }
    // The server still serves.
    let health = reqwest::get(format!("http://{}/healthz", server.addr))
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_are_closed_at_once() {
    let server = serve(&[], &[]).await;
    let over = 20;
    let mut held = Vec::new();
    for _ in 0..HttpOptions::DEFAULT_MAX_CONNECTIONS + over {
        held.push(TcpStream::connect(&server.addr).await.unwrap());
    }
    let mut closed = 0;
    for stream in &mut held {
        if closed_within(stream, Duration::from_millis(20))
            .await
            .is_some()
        {
            closed += 1;
        }
    }
    assert!(
        closed >= over,
        "{closed} of {} connections closed at once; {over} are over the limit",
        held.len()
    );
    drop(held);
    // Once they are gone, new connections are served again.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match reqwest::get(format!("http://{}/healthz", server.addr)).await {
            Ok(r) if r.status() == 200 => break,
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("not served again after the connections closed: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_answers_only_to_the_credential_that_opened_it() {
    let server = serve(
        &[
            "--auth-token-env",
            "CI_TOKEN",
            "--auth-token-env",
            "IDE_TOKEN",
        ],
        &[
            ("CI_TOKEN", "ci-secret-0123456789"),
            ("IDE_TOKEN", "ide-secret-9876543210"),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let url = format!("http://{}/mcp", server.addr);
    let post = |token: &'static str, session: Option<String>, body: serde_json::Value| {
        let mut request = http
            .post(&url)
            .bearer_auth(token)
            .header("Accept", "application/json, text/event-stream")
            .json(&body);
        if let Some(id) = session {
            request = request.header("mcp-session-id", id);
        }
        request.send()
    };
    let opened = post("ci-secret-0123456789", None, initialize_request(1))
        .await
        .unwrap();
    assert_eq!(opened.status(), 200);
    let session = opened
        .headers()
        .get("mcp-session-id")
        .expect("a session id")
        .to_str()
        .unwrap()
        .to_string();
    let initialized = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let list = serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let other = post(
        "ide-secret-9876543210",
        Some(session.clone()),
        initialized.clone(),
    )
    .await
    .unwrap();
    assert_eq!(
        other.status(),
        404,
        "another credential cannot use the session"
    );
    let other = post("ide-secret-9876543210", Some(session.clone()), list.clone())
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    let own = post("ci-secret-0123456789", Some(session.clone()), initialized)
        .await
        .unwrap();
    assert!(own.status().is_success(), "{}", own.status());
    let own = post("ci-secret-0123456789", Some(session), list)
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains("revoke_all_access"));
}
