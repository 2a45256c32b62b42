//! Token single-flight under load: N concurrent CSP calls (default 200) that all meet an
//! expired access token, against an in-process sandbox through the real clients. Prints the
//! token exchanges the sandbox counted for the refresh (1 is single-flight; N would be every
//! caller refreshing on its own), the CSP requests made and the wall time.
//!
//! `cargo run --release --example token_flight -- 200`

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use tanzu_mcp::access::ports::Directory;
use tanzu_mcp::clients::{self, ClientOptions};
use tanzu_mcp::config::Config;
use tanzu_mcp::sandbox::{DataSet, Sandbox, SandboxOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let options = SandboxOptions {
        data: DataSet::Large,
        ..SandboxOptions::default()
    };
    let sandbox = Sandbox::start(SocketAddr::from(([127, 0, 0, 1], 0)), options).await?;
    let base = sandbox.base_url();
    let dir = tempfile::tempdir()?;
    let config = Config::load(Some(&sandbox.write_config(dir.path())?))?;
    let clients = clients::build(&config, ClientOptions::default()).await?;
    clients.ensure_token().await?;

    let http = reqwest::Client::new();
    let stats = || async {
        let stats: Value = http
            .get(format!("{base}/_sandbox/stats"))
            .send()
            .await?
            .json()
            .await?;
        Ok::<_, reqwest::Error>(stats)
    };
    let exchanges = |stats: &Value| stats["token_exchanges"].as_u64().unwrap_or(0);
    let csp = |stats: &Value| {
        stats["requests"].as_object().map_or(0, |r| {
            r.iter()
                .filter(|(route, _)| route.contains("/csp/") && !route.contains("token"))
                .filter_map(|(_, n)| n.as_u64())
                .sum::<u64>()
        })
    };
    http.post(format!("{base}/_sandbox/tokens/expire"))
        .send()
        .await?;
    // Hold the first N member reads a moment, so all N are on the wire with the expired token
    // before any answer (and any refresh) comes back.
    http.post(format!("{base}/_sandbox/faults"))
        .json(
            &json!({"method": "GET", "path_prefix": "/csp/gateway/am/api/v2/",
            "status": 0, "delay_ms": 300, "count": calls}),
        )
        .send()
        .await?;
    let before = stats().await?;
    let started = Instant::now();
    let directory: Arc<dyn Directory> = clients.csp.clone();
    let tasks: Vec<_> = (0..calls)
        .map(|i| {
            let directory = directory.clone();
            tokio::spawn(async move { directory.members_page(i, 1).await })
        })
        .collect();
    let mut failed = 0;
    for task in tasks {
        if !matches!(task.await, Ok(Ok(_))) {
            failed += 1;
        }
    }
    let elapsed = started.elapsed();
    let after = stats().await?;
    println!(
        "{calls} concurrent calls on an expired token: {} token exchange(s), {} CSP requests, {failed} failed, {:.0} ms",
        exchanges(&after) - exchanges(&before),
        csp(&after) - csp(&before),
        elapsed.as_secs_f64() * 1000.0
    );
    if failed > 0 {
        return Err(format!("{failed} calls failed").into());
    }
    Ok(())
}
