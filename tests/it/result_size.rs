//! How much of a model's context the server takes: `tools/list` and typical results, measured
//! as the compact JSON a client receives, with ceilings so growth is a decision, not a drift.
//! `cargo test --test it result_size -- --nocapture` prints the figures.

use serde_json::{Value, json};
use tanzu_mcp::sandbox::DataSet;

use crate::support::common;
use crate::support::mcp::{Protocol, TestClient, connect};

fn size(value: &impl serde::Serialize) -> usize {
    serde_json::to_string(value).expect("serializes").len()
}

// The sandbox runs in this process while the server calls it: keep it answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tools_list_and_typical_results_stay_small() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;

    let tools = server.client.list_all_tools().await.expect("tools/list");
    let listed = size(&json!({ "tools": tools }));
    let schemas: usize = tools
        .iter()
        .map(|t| t.output_schema.as_ref().map_or(0, |s| size(s.as_ref())))
        .sum();

    let typical: [(&str, Value); 4] = [
        ("get_user_access", json!({"email": "alice@example.com"})),
        ("get_user_access", json!({"email": "nobody@example.com"})),
        ("list_members", json!({"limit": 10})),
        ("list_members", json!({"status": "INVITED"})),
    ];
    let mut sizes = Vec::new();
    for (tool, arguments) in &typical {
        let result = server.ok(tool, arguments.clone()).await;
        sizes.push((format!("{tool} {arguments}"), size(&result)));
    }
    println!("tools/list: {listed} bytes ({schemas} of output schemas)");
    for (what, bytes) in &sizes {
        println!("{what}: {bytes} bytes");
    }

    // Five tools: 38.1 KB before the schemas lost their nullable arrays and unknown formats,
    // 37.6 KB after. Eleven tools: 65.6 KB with the output schemas' descriptions dropped; what
    // is left is mostly the plan schema repeated by each write tool and the Scope schema by each
    // scoped one. A ceiling that catches growth.
    assert!(listed < 70_000, "tools/list is {listed} bytes");
    // Issue 13's target: alice's nine grants in under 2 KB (2,540 B before her grants left out
    // the subject that is her own email and the `role_ref` that `role_kind` + `role` spell).
    let alice = sizes[0].1;
    assert!(alice < 2_048, "get_user_access alice is {alice} bytes");
    let page = sizes[2].1;
    assert!(page < 3_000, "a 10-member page is {page} bytes");
    server.close().await;
}
