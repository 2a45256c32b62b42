//! Streamable HTTP latency and throughput of `list_members` (limit 20) against a real
//! `tanzu-mcp serve --sandbox --transport http` process on loopback.
//!
//! Usage: `cargo run --example http_bench -- <tanzu-mcp binary> [calls per client] [clients...]`
//! (defaults: `target/debug/tanzu-mcp`, 200 calls, clients 1 and 20). Prints p50/p99 in ms and
//! requests per second for each client count. Raw JSON-RPC over reqwest, so the figure is the
//! server's, not an MCP client library's.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

const ACCEPT: &str = "application/json, text/event-stream";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// One MCP session: initialize, the initialized notification, then the session id to call with.
async fn open_session(http: &reqwest::Client, url: &str) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "http_bench", "version": "0"}}});
    let response = http
        .post(url)
        .header("Accept", ACCEPT)
        .json(&init)
        .send()
        .await
        .expect("initialize");
    let session = response
        .headers()
        .get("mcp-session-id")
        .expect("a session id")
        .to_str()
        .expect("ascii session id")
        .to_owned();
    response.text().await.expect("initialize body");
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    http.post(url)
        .header("Accept", ACCEPT)
        .header("mcp-session-id", &session)
        .json(&note)
        .send()
        .await
        .expect("initialized")
        .text()
        .await
        .expect("initialized body");
    session
}

/// One request: `list_members` (limit 20), or `tools/list` with `BENCH_METHOD=tools/list` (the
/// transport alone, no backend call).
async fn list_members(http: &reqwest::Client, url: &str, session: &str, id: u64) -> Duration {
    let call = if std::env::var("BENCH_METHOD").as_deref() == Ok("tools/list") {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"})
    } else {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "list_members", "arguments": {"limit": 20}}})
    };
    let started = Instant::now();
    let body = http
        .post(url)
        .header("Accept", ACCEPT)
        .header("mcp-session-id", session)
        .json(&call)
        .send()
        .await
        .expect("tools/call")
        .text()
        .await
        .expect("tools/call body");
    let elapsed = started.elapsed();
    assert!(body.contains("\"result\""), "no result in: {body}");
    elapsed
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let binary = args
        .first()
        .cloned()
        .unwrap_or_else(|| "target/debug/tanzu-mcp".into());
    let calls: u64 = args.get(1).map_or(200, |a| a.parse().expect("calls"));
    let client_counts: Vec<usize> = if args.len() > 2 {
        args[2..]
            .iter()
            .map(|a| a.parse().expect("clients"))
            .collect()
    } else {
        vec![1, 20]
    };

    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _server = Server(
        Command::new(&binary)
            .args([
                "serve",
                "--sandbox",
                "--transport",
                "http",
                "--listen",
                &listen,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn tanzu-mcp"),
    );
    let http = reqwest::Client::new();
    let health = format!("http://{listen}/healthz");
    let deadline = Instant::now() + Duration::from_secs(20);
    while http.get(&health).send().await.is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let url = format!("http://{listen}/mcp");

    for clients in client_counts {
        let mut sessions = Vec::new();
        for _ in 0..clients {
            sessions.push(open_session(&http, &url).await);
        }
        // One warm-up call per session: the sandbox token exchange is not what we measure.
        for session in &sessions {
            list_members(&http, &url, session, 1).await;
        }
        let started = Instant::now();
        let tasks: Vec<_> = sessions
            .into_iter()
            .map(|session| {
                let (http, url) = (http.clone(), url.clone());
                tokio::spawn(async move {
                    let mut times = Vec::new();
                    for id in 0..calls {
                        times.push(list_members(&http, &url, &session, id + 2).await);
                    }
                    times
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.extend(task.await.expect("client task"));
        }
        let wall = started.elapsed().as_secs_f64();
        times.sort();
        println!(
            "clients {clients:>3}: {} calls, p50 {:.2} ms, p99 {:.2} ms, {:.0} requests/s",
            times.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times.len() as f64 / wall
        );
    }
}
