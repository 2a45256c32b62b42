//! list_role_bindings: every binding at a scope, page by page, each row passable back to the
//! write tools; made-up and tampered cursors are refused.

use std::collections::BTreeSet;

use crate::support::common;
use crate::support::mcp::{Protocol, TestClient, connect, text};
use serde_json::{Value, json};
use tanzu_mcp::sandbox::DataSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_list_every_binding_once_and_forged_cursors_are_refused() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let scope = json!({"kind": "tap_cluster", "name": "tap-dev"});
    let mut rows: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut first_cursor = None;
    loop {
        let mut args = json!({ "scope": scope, "limit": 2 });
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = server.ok("list_role_bindings", args).await;
        rows.extend(page["bindings"].as_array().unwrap().iter().cloned());
        match &page["next_cursor"] {
            Value::String(next) => {
                first_cursor.get_or_insert(next.clone());
                cursor = Some(next.clone());
            }
            _ => break,
        }
    }
    let keys: BTreeSet<String> = rows
        .iter()
        .map(|r| format!("{}/{}/{}", r["scope"], r["binding"], r["subject"]["name"]))
        .collect();
    assert_eq!(keys.len(), rows.len(), "no row twice");
    let alice_admin = rows.iter().find(|r| r["binding"] == "alice-admin").unwrap();
    assert_eq!(alice_admin["role"], "admin");
    assert_eq!(
        alice_admin["scope"],
        json!({"kind": "tap_cluster", "name": "tap-dev", "namespace": "dev-team"})
    );
    let editors = rows
        .iter()
        .filter(|r| r["binding"] == "app-editors")
        .count();
    assert_eq!(editors, 2);

    let tmc = server
        .ok(
            "list_role_bindings",
            json!({"scope": {"kind": "cluster", "name": "dev-cluster-1"}}),
        )
        .await;
    assert_eq!(tmc["total"], 2);
    assert_eq!(
        tmc["bindings"][0]["scope"]["management_cluster"],
        "attached"
    );

    let issued = first_cursor.unwrap();
    let (_, tag) = issued.split_once('.').unwrap();
    for forged in [
        "made-up".to_string(),
        format!("4.{tag}"),
        format!("{issued}A"),
    ] {
        let result = server
            .call(
                "list_role_bindings",
                json!({ "scope": scope, "cursor": forged }),
            )
            .await;
        assert_eq!(result.is_error, Some(true), "{forged}");
        assert!(text(&result).contains("cursor"), "{}", text(&result));
    }
    let other = server
        .call(
            "list_role_bindings",
            json!({ "scope": {"kind": "tap_cluster", "name": "tap-prod"}, "cursor": issued }),
        )
        .await;
    assert_eq!(other.is_error, Some(true));
    server.close().await;
}
