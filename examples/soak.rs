//! Soak (not in CI): `tanzu-mcp sandbox` plus `tanzu-mcp serve --transport http` as real
//! processes, 20 clients making mixed calls (list_members, get_user_access, bind_role) for N
//! minutes while random faults (500, 503, 429 with Retry-After, slow answers, resets, expired tokens)
//! are armed in the sandbox. Prints the server's RSS over time and, at the end, calls, tool
//! errors, transport failures and panics in the server's stderr (expected 0), and the tool
//! errors by kind: expected refusals (a bind for someone who is not a member: most of the
//! soak's users are made up), backend failures that outlasted the retries (by system,
//! operation and cause), and anything else, which is unexpected and shown with an example.
//!
//! Usage: `cargo run --example soak -- <tanzu-mcp binary> [--minutes N | --seconds N]`
//! (defaults: `target/debug/tanzu-mcp`, 10 minutes).

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ACCEPT: &str = "application/json, text/event-stream";
const CLIENTS: usize = 20;

struct Killed(Child);

impl Drop for Killed {
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

/// A small xorshift: enough to pick calls and faults, no dependency.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
}

async fn wait_for(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while reqwest::get(url).await.is_err() {
        assert!(Instant::now() < deadline, "{url} did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn rpc(
    http: &reqwest::Client,
    url: &str,
    session: Option<&str>,
    body: &Value,
) -> Option<(Option<String>, Value)> {
    let mut request = http.post(url).header("Accept", ACCEPT).json(body);
    if let Some(id) = session {
        request = request.header("mcp-session-id", id);
    }
    let response = request.send().await.ok()?;
    let id = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = response.text().await.ok()?;
    let answer = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .chain(std::iter::once(text.as_str()))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v.get("id").is_some())
        .unwrap_or(Value::Null);
    Some((id, answer))
}

#[derive(Default)]
struct Counts {
    calls: AtomicU64,
    tool_errors: AtomicU64,
    transport_failures: AtomicU64,
    /// kind -> (count, one example message).
    kinds: Mutex<BTreeMap<(Class, String), (u64, String)>>,
}

/// What a tool error means for the soak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    /// The server refused what it must refuse (a made-up user is no member).
    ExpectedRefusal,
    /// A system kept failing after the retries (the soak's faults).
    BackendFailure,
    /// Anything else: worth a look.
    Unexpected,
}

impl Counts {
    fn tool_error(&self, tool: &str, message: &str) {
        self.tool_errors.fetch_add(1, Ordering::Relaxed);
        let (class, kind) = classify(tool, message);
        let mut kinds = self.kinds.lock().unwrap();
        let entry = kinds
            .entry((class, kind))
            .or_insert_with(|| (0, message.chars().take(300).collect()));
        entry.0 += 1;
    }
}

/// The kind of a tool error, from the message the model got: the tool and the stable part of
/// the message (names, emails and numbers taken out).
fn classify(tool: &str, message: &str) -> (Class, String) {
    let general = generalize(message);
    if let Some(reason) = message.strip_prefix("refused: ") {
        let class = if reason.contains("is not a member of the CSP org")
            || reason.contains("has been invited to the CSP org but has not accepted")
        {
            Class::ExpectedRefusal
        } else {
            Class::Unexpected
        };
        let reason = generalize(reason.split(". Fix:").next().unwrap_or(reason));
        return (class, format!("{tool}: refused: {reason}"));
    }
    for system in ["CSP", "TMC", "Kubernetes"] {
        if let Some(rest) = message.strip_prefix(&format!("{system}: ")) {
            let (operation, cause) = rest.split_once(" failed: ").unwrap_or((rest, ""));
            let cause = generalize(cause.split(". Fix:").next().unwrap_or(cause));
            let cause: String = cause.chars().take(90).collect();
            return (
                Class::BackendFailure,
                format!("{tool}: {system} {}: {cause}", generalize(operation)),
            );
        }
    }
    (
        Class::Unexpected,
        format!("{tool}: {}", general.chars().take(90).collect::<String>()),
    )
}

/// Emails, quoted names and numbers replaced, so that messages of one kind compare equal.
fn generalize(text: &str) -> String {
    let mut out = String::new();
    for word in text.split(' ') {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.contains('@') {
            out.push_str("<email>");
        } else if word.starts_with('\'') {
            out.push_str("'<name>'");
        } else if word.chars().any(|c| c.is_ascii_digit()) && !word.contains("Retry") {
            out.extend(
                word.chars()
                    .map(|c| if c.is_ascii_digit() { 'N' } else { c }),
            );
        } else {
            out.push_str(word);
        }
    }
    out
}

async fn client(n: usize, url: String, until: Instant, counts: Arc<Counts>) {
    let http = reqwest::Client::new();
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15 ^ ((n as u64 + 1) * 0x1000_0001));
    'session: while Instant::now() < until {
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": format!("soak-{n}"), "version": "0"}}});
        let Some((Some(session), _)) = rpc(&http, &url, None, &init).await else {
            counts.transport_failures.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let _ = rpc(&http, &url, Some(&session), &note).await;
        for id in 1..200u64 {
            if Instant::now() >= until {
                break 'session;
            }
            // Mostly made-up people (their binds are refused), sometimes real members.
            let user = match dice.below(10) {
                0 => "alice@example.com".to_string(),
                1 => "bob@example.com".to_string(),
                _ => format!("user{:03}@example.com", dice.below(250)),
            };
            let (name, args) = match dice.below(3) {
                0 => ("list_members", json!({"limit": 20, "query": "user1"})),
                1 => ("get_user_access", json!({"email": user})),
                _ => (
                    "bind_role",
                    json!({"email": user, "role": "namespace.view",
                    "scope": {"kind": "namespace", "cluster": "dev-cluster-1", "name": "team-a"}}),
                ),
            };
            let call = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                              "params": {"name": name, "arguments": args}});
            counts.calls.fetch_add(1, Ordering::Relaxed);
            match rpc(&http, &url, Some(&session), &call).await {
                Some((_, answer)) if answer["result"]["isError"] == true => {
                    let message = answer["result"]["content"][0]["text"]
                        .as_str()
                        .unwrap_or("(no text)");
                    counts.tool_error(name, message);
                }
                Some((_, answer)) if answer.get("result").is_some() => {}
                _ => {
                    counts.transport_failures.fetch_add(1, Ordering::Relaxed);
                    continue 'session;
                }
            }
        }
        // Close it, so sessions come and go too.
        let _ = http
            .delete(&url)
            .header("mcp-session-id", &session)
            .send()
            .await;
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut binary = "target/debug/tanzu-mcp".to_string();
    let mut run = Duration::from_secs(600);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--minutes" => {
                run = Duration::from_secs(
                    60 * args
                        .next()
                        .and_then(|v| v.parse::<u64>().ok())
                        .expect("--minutes N"),
                )
            }
            "--seconds" => {
                run = Duration::from_secs(
                    args.next()
                        .and_then(|v| v.parse::<u64>().ok())
                        .expect("--seconds N"),
                )
            }
            other => binary = other.to_string(),
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox_port = free_port();
    let _sandbox = Killed(
        Command::new(&binary)
            .args([
                "sandbox",
                "--listen",
                &format!("127.0.0.1:{sandbox_port}"),
                "--write-config",
            ])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn tanzu-mcp sandbox"),
    );
    let base = format!("http://127.0.0.1:{sandbox_port}");
    wait_for(&format!("{base}/_sandbox/stats")).await;
    while !dir.path().join("tanzu-mcp.toml").exists() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let port = free_port();
    let stderr = dir.path().join("serve.log");
    let server = Killed(
        Command::new(&binary)
            .args([
                "serve",
                "--transport",
                "http",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--config",
            ])
            .arg(dir.path().join("tanzu-mcp.toml"))
            .env("TANZU_MCP_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("log file"))
            .spawn()
            .expect("spawn tanzu-mcp serve"),
    );
    let pid = server.0.id();
    wait_for(&format!("http://127.0.0.1:{port}/healthz")).await;
    let url = format!("http://127.0.0.1:{port}/mcp");
    let until = Instant::now() + run;
    let counts = Arc::new(Counts::default());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| tokio::spawn(client(n, url.clone(), until, counts.clone())))
        .collect();

    let http = reqwest::Client::new();
    let mut dice = Dice(42);
    let started = Instant::now();
    let mut next_report = Instant::now();
    println!("seconds,rss_kib,calls");
    while Instant::now() < until {
        let prefix = ["/csp/gateway/am/api/", "/v1alpha1/", "/k8s/"][dice.below(3) as usize];
        let method = ["GET", "PATCH", "PUT", "POST"][dice.below(4) as usize];
        let fault = match dice.below(6) {
            0 => json!({"status": 500}),
            1 => json!({"status": 503}),
            2 => json!({"status": 429, "retry_after_secs": 1}),
            3 => json!({"status": 0, "delay_ms": 500}),
            4 => json!({"status": 0, "reset": true}),
            _ => Value::Null,
        };
        if fault.is_null() {
            let _ = http
                .post(format!("{base}/_sandbox/tokens/expire"))
                .send()
                .await;
        } else {
            let mut fault = fault;
            fault["method"] = json!(method);
            fault["path_prefix"] = json!(prefix);
            fault["count"] = json!(1);
            let _ = http
                .post(format!("{base}/_sandbox/faults"))
                .json(&fault)
                .send()
                .await;
        }
        if Instant::now() >= next_report {
            println!(
                "{},{},{}",
                started.elapsed().as_secs(),
                rss_kib(pid),
                counts.calls.load(Ordering::Relaxed)
            );
            next_report += Duration::from_secs(10);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for c in clients {
        let _ = c.await;
    }
    let log = std::fs::read_to_string(&stderr).unwrap_or_default();
    let panics = log.matches("panicked").count();
    println!(
        "done: {} s, calls={}, tool_errors={}, transport_failures={}, final_rss_kib={}, panics={panics}",
        started.elapsed().as_secs(),
        counts.calls.load(Ordering::Relaxed),
        counts.tool_errors.load(Ordering::Relaxed),
        counts.transport_failures.load(Ordering::Relaxed),
        rss_kib(pid),
    );
    println!("tool errors by kind (count, class, kind; an example of each unexpected one):");
    let kinds = counts.kinds.lock().unwrap();
    let mut rows: Vec<_> = kinds.iter().collect();
    rows.sort_by(|a, b| a.0.0.cmp(&b.0.0).then(b.1.0.cmp(&a.1.0)));
    let mut per_class: BTreeMap<Class, u64> = BTreeMap::new();
    for ((class, kind), (count, example)) in rows {
        *per_class.entry(*class).or_default() += count;
        println!("{count:>7}  {class:?}  {kind}");
        if *class == Class::Unexpected {
            println!("         e.g. {example}");
        }
    }
    for (class, count) in &per_class {
        println!("{class:?}: {count}");
    }
    assert_eq!(panics, 0, "the server panicked:\n{log}");
}
