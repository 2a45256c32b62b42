//! Measures the sandbox at scale: how long `--data large` takes to start, and whether listing
//! all 10,000 members (50 pages of 200, following `nextLink`) slows down page by page.
//!
//! Run with a release build, e.g. `cargo run --release --example sandbox_bench -- 5`
//! (the argument is the number of full listings; default 3). Prints to stdout.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use tanzu_mcp::sandbox::{DataSet, Sandbox, SandboxOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3);

    let built = Instant::now();
    drop(tanzu_mcp::sandbox::state::World::build(DataSet::Large));
    println!(
        "build the --data large world in memory: {:?}",
        built.elapsed()
    );

    let started = Instant::now();
    let sandbox = Sandbox::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        SandboxOptions {
            data: DataSet::Large,
            ..SandboxOptions::default()
        },
    )
    .await?;
    let startup = started.elapsed();
    println!("start --data large (10,000 members, 50 TAP clusters): {startup:?}");

    let base = sandbox.base_url();
    let http = reqwest::Client::new();
    let exchange: Value = http
        .post(format!(
            "{base}/csp/gateway/am/api/auth/api-tokens/authorize"
        ))
        .form(&[("api_token", sandbox.api_token())])
        .send()
        .await?
        .json()
        .await?;
    let token = exchange["access_token"]
        .as_str()
        .ok_or("no access token")?
        .to_string();

    // per_page[i] holds the latency of page i+1 in every round.
    let mut per_page: Vec<Vec<Duration>> = vec![Vec::new(); 50];
    for round in 0..rounds {
        let mut url = format!(
            "{base}/csp/gateway/am/api/v2/orgs/{}/users?pageStart=1&pageLimit=200",
            sandbox.org_id()
        );
        let listing = Instant::now();
        let mut page = 0;
        let mut members = 0;
        loop {
            let t = Instant::now();
            let body: Value = http
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await?
                .json()
                .await?;
            let elapsed = t.elapsed();
            if let Some(slot) = per_page.get_mut(page) {
                slot.push(elapsed);
            }
            page += 1;
            members += body["results"].as_array().map_or(0, Vec::len);
            match body["nextLink"].as_str() {
                Some(next) => url = format!("{base}{next}"),
                None => break,
            }
        }
        println!(
            "round {}: {members} members in {page} pages, {:?} in total",
            round + 1,
            listing.elapsed()
        );
    }

    let median = |samples: &[Duration]| -> Duration {
        let mut sorted = samples.to_vec();
        sorted.sort();
        sorted.get(sorted.len() / 2).copied().unwrap_or_default()
    };
    let first = median(&per_page[0]);
    let last = median(&per_page[49]);
    let all: Vec<Duration> = per_page.iter().flatten().copied().collect();
    println!(
        "median page latency: first page {first:?}, last page {last:?}, all pages {:?}",
        median(&all)
    );
    for (label, range) in [
        ("pages 1-10", 0..10),
        ("pages 21-30", 20..30),
        ("pages 41-50", 40..50),
    ] {
        let samples: Vec<Duration> = per_page[range].iter().flatten().copied().collect();
        println!("median {label}: {:?}", median(&samples));
    }
    sandbox.shutdown().await;
    Ok(())
}
