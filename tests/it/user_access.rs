//! get_user_access through the real binary over stdio, against a sandbox: one person's
//! access across the three systems with the traps called out.

use std::collections::BTreeSet;

use crate::support::common;
use crate::support::mcp::{Protocol, TestClient, connect};
use serde_json::json;
use tanzu_mcp::sandbox::DataSet;

// The sandbox runs in this process while kubectl and the server are separate processes that
// the test waits on: a multi-threaded runtime keeps the sandbox answering meanwhile.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn user_access_shows_every_binding_across_the_three_systems() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let alice = server
        .ok("get_user_access", json!({ "email": "Alice@Example.com" }))
        .await;
    assert_eq!(alice["email"], "alice@example.com");
    assert_eq!(alice["status"], "ACTIVE");
    assert!(alice["membership"]["user_id"].is_string());
    let scopes: BTreeSet<&str> = alice["tmc"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["scope"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        scopes,
        BTreeSet::from([
            "organization",
            "cluster_group",
            "cluster",
            "namespace",
            "workspace"
        ])
    );
    let clusters: BTreeSet<&str> = alice["tap"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["cluster"].as_str().unwrap())
        .collect();
    assert_eq!(
        clusters,
        BTreeSet::from(["tap-dev", "tap-staging", "tap-prod"])
    );
    let shared = alice["tap"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["binding"] == "app-editors")
        .unwrap();
    assert_eq!(shared["other_subjects"], 1);
    let warnings = alice["warnings"].to_string();
    assert!(
        warnings.contains("'platform-admins'") && warnings.contains("'Platform-Admins'"),
        "{warnings}"
    );
    assert_eq!(alice["incomplete"], json!([]));

    let mallory = server
        .ok("get_user_access", json!({ "email": "mallory@example.com" }))
        .await;
    assert_eq!(mallory["status"], "REMOVED");
    assert!(mallory["membership"].is_null());
    assert!(mallory["warnings"].to_string().contains("leftovers"));
    assert_eq!(mallory["tap"][0]["binding"], "legacy-admins");

    let carol = server
        .ok("get_user_access", json!({ "email": "carol@example.com" }))
        .await;
    assert_eq!(carol["status"], "INVITED");
    assert!(carol["invitations"][0]["id"].is_string());
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_tap_cluster_is_reported_as_incomplete_not_hidden() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let fault =
        json!({ "method": "GET", "path_prefix": "/k8s/tap-prod/", "status": 403, "count": 100 });
    let (status, _) = common::control(&base, "faults", &fault).await;
    assert!((200..300).contains(&status), "fault armed: {status}");
    let alice = server
        .ok("get_user_access", json!({ "email": "alice@example.com" }))
        .await;
    let incomplete = alice["incomplete"].to_string();
    assert!(incomplete.contains("tap-prod"), "{alice:#}");
    assert!(
        alice["tap"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["cluster"] != "tap-prod")
    );
    server.close().await;
}
