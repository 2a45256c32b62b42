//! Streamable HTTP against the direct API call, in one run: `list_members` (limit 20, one
//! page) through a real `tanzu-mcp serve --transport http` process on loopback, and the same
//! backend request made directly against the same sandbox with the same HTTP client (reqwest,
//! keep-alive, one shared pool), at each client count.
//!
//! The sandbox runs as its own process (`tanzu-mcp sandbox --data demo --write-config`); the
//! server is `serve --config` on that configuration, so both sides reach the same sandbox over
//! the same loopback. Before timing, the run counts (from `/_sandbox/stats`) the backend
//! requests one warm MCP call makes, and checks the direct side makes as many.
//!
//! Usage: `cargo run --example http_bench -- <tanzu-mcp binary> [calls per client] [clients...]`
//! (defaults: `target/debug/tanzu-mcp`, 200 calls, clients 1 and 20). Prints, per client
//! count, p50/p99 in ms and requests per second of each side, and MCP:direct ratios. Raw
//! JSON-RPC over reqwest, so the figure is the server's, not an MCP client library's.
//! `BENCH_METHOD=tools/list` times tools/list instead (the transport alone, no backend call).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ACCEPT: &str = "application/json, text/event-stream";
const LIMIT: usize = 20;

struct Process(Child);

impl Drop for Process {
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

fn spawn(binary: &str, args: &[&str]) -> Process {
    Process(
        Command::new(binary)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn tanzu-mcp"),
    )
}

async fn wait_until(http: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(url).send().await.is_err() {
        assert!(Instant::now() < deadline, "{url} did not come up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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

/// End a session (HTTP DELETE), so its slot under the server's session cap is free again.
async fn close_session(http: &reqwest::Client, url: &str, session: &str) {
    let _ = http
        .delete(url)
        .header("mcp-session-id", session)
        .send()
        .await;
}

/// One side of the comparison: what one request of one client is.
#[derive(Clone)]
enum Side {
    /// `tools/call list_members {"limit": 20}` in an MCP session.
    Mcp { url: String, session: String },
    /// The CSP request that call makes, with an access token exchanged beforehand.
    Direct { url: String, token: String },
}

impl Side {
    async fn once(&self, http: &reqwest::Client, id: u64) -> Duration {
        let started = Instant::now();
        match self {
            Side::Mcp { url, session } => {
                let call = if std::env::var("BENCH_METHOD").as_deref() == Ok("tools/list") {
                    json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"})
                } else {
                    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                        "params": {"name": "list_members", "arguments": {"limit": LIMIT}}})
                };
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
                assert!(
                    body.contains("\"result\"") && !body.contains(r#""isError":true"#),
                    "no result in: {body}"
                );
                elapsed
            }
            Side::Direct { url, token } => {
                // Decoded as the server's client decodes it: the whole page parsed.
                let page: Value = http
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .expect("members page")
                    .error_for_status()
                    .expect("members page status")
                    .json()
                    .await
                    .expect("members page JSON");
                let elapsed = started.elapsed();
                assert!(page["results"].is_array(), "no results in: {page}");
                elapsed
            }
        }
    }
}

/// Run `calls` requests on each side in `sides` (one task per client, all at once): the sorted
/// latencies and the requests per second.
async fn run(http: &reqwest::Client, sides: Vec<Side>, calls: u64) -> (Vec<Duration>, f64) {
    let started = Instant::now();
    let tasks: Vec<_> = sides
        .into_iter()
        .map(|side| {
            let http = http.clone();
            tokio::spawn(async move {
                let mut times = Vec::new();
                for id in 0..calls {
                    times.push(side.once(&http, id + 2).await);
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
    let rps = times.len() as f64 / wall;
    (times, rps)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// Backend requests the sandbox has served so far (its control API not counted).
async fn backend_requests(http: &reqwest::Client, control: &str) -> u64 {
    let stats: Value = http
        .get(format!("{control}/stats"))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats JSON");
    stats["requests"]
        .as_object()
        .expect("requests by path")
        .iter()
        .filter(|(path, _)| !path.contains("/_sandbox/"))
        .map(|(_, n)| n.as_u64().unwrap_or(0))
        .sum()
}

/// `key = "value"` of the sandbox's generated configuration (flat strings only).
fn toml_string(text: &str, key: &str) -> String {
    let table: toml::Table = text.parse().expect("the sandbox's configuration");
    table["csp"][key]
        .as_str()
        .unwrap_or_else(|| panic!("csp.{key} in the configuration"))
        .to_string()
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

    let dir = tempfile::tempdir().expect("a temporary folder");
    let sandbox_listen = format!("127.0.0.1:{}", free_port());
    let dir_arg = dir.path().to_str().expect("a UTF-8 temporary path");
    let _sandbox = spawn(
        &binary,
        &[
            "sandbox",
            "--data",
            "demo",
            "--listen",
            &sandbox_listen,
            "--write-config",
            dir_arg,
        ],
    );
    let http = reqwest::Client::new();
    let control = format!("http://{sandbox_listen}/_sandbox");
    wait_until(&http, &format!("{control}/stats")).await;
    let config_path = dir.path().join("tanzu-mcp.toml");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !config_path.exists() {
        assert!(Instant::now() < deadline, "no configuration written");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let config = std::fs::read_to_string(&config_path).expect("the configuration");
    let api_token = std::fs::read_to_string(
        dir.path()
            .join(Path::new(&toml_string(&config, "api_token_file"))),
    )
    .expect("the API token")
    .trim()
    .to_string();
    let (csp, org) = (toml_string(&config, "url"), toml_string(&config, "org_id"));

    let listen = format!("127.0.0.1:{}", free_port());
    let _server = spawn(
        &binary,
        &[
            "serve",
            "--config",
            config_path.to_str().expect("a UTF-8 path"),
            "--transport",
            "http",
            "--listen",
            &listen,
        ],
    );
    wait_until(&http, &format!("http://{listen}/healthz")).await;
    let url = format!("http://{listen}/mcp");

    // The direct side: the token exchange the server makes (once, outside the timing), then the
    // members page it asks for.
    let exchanged: Value = http
        .post(format!(
            "{}/csp/gateway/am/api/auth/api-tokens/authorize",
            csp.trim_end_matches('/')
        ))
        .form(&[("api_token", api_token.as_str())])
        .send()
        .await
        .expect("token exchange")
        .json()
        .await
        .expect("token JSON");
    let token = exchanged["access_token"]
        .as_str()
        .expect("an access token")
        .to_string();
    let members = format!(
        "{}/csp/gateway/am/api/v2/orgs/{org}/users?pageStart=1&pageLimit={LIMIT}",
        csp.trim_end_matches('/')
    );
    let direct = Side::Direct {
        url: members,
        token,
    };

    // The same backend requests on both sides: counted on one warm call of each.
    let probe_session = open_session(&http, &url).await;
    let probe = Side::Mcp {
        url: url.clone(),
        session: probe_session.clone(),
    };
    probe.once(&http, 1).await;
    let before = backend_requests(&http, &control).await;
    probe.once(&http, 2).await;
    let mcp_requests = backend_requests(&http, &control).await - before;
    direct.once(&http, 0).await;
    let direct_requests = backend_requests(&http, &control).await - before - mcp_requests;
    println!(
        "backend requests per call: MCP {mcp_requests}, direct {direct_requests} \
         (a warm session; its token exchange made beforehand)"
    );
    close_session(&http, &url, &probe_session).await;
    if std::env::var("BENCH_METHOD").as_deref() != Ok("tools/list") {
        assert_eq!(
            mcp_requests, direct_requests,
            "the direct side must make what the tool call makes"
        );
    }

    for clients in client_counts {
        let mut sessions = Vec::new();
        let mut ids = Vec::new();
        for _ in 0..clients {
            let session = open_session(&http, &url).await;
            ids.push(session.clone());
            let side = Side::Mcp {
                url: url.clone(),
                session,
            };
            // One warm-up call per session.
            side.once(&http, 1).await;
            sessions.push(side);
        }
        let (direct_times, direct_rps) = run(&http, vec![direct.clone(); clients], calls).await;
        let (mcp_times, mcp_rps) = run(&http, sessions, calls).await;
        let (mcp_p50, direct_p50) = (percentile(&mcp_times, 0.5), percentile(&direct_times, 0.5));
        println!(
            "clients {clients:>3}: {calls} calls each | MCP p50 {mcp_p50:.2} ms, p99 {:.2} ms, \
             {mcp_rps:.0} req/s | direct p50 {direct_p50:.2} ms, p99 {:.2} ms, {direct_rps:.0} \
             req/s | MCP:direct p50 {:.2}x, req/s {:.2}x",
            percentile(&mcp_times, 0.99),
            percentile(&direct_times, 0.99),
            mcp_p50 / direct_p50,
            direct_rps / mcp_rps,
        );
        // The server caps sessions (64): free these before the next client count.
        for session in &ids {
            close_session(&http, &url, session).await;
        }
    }
}
