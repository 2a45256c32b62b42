//! get_user_access through the real binary over stdio, against a sandbox: one person's
//! access across the three systems with the traps called out.

use std::collections::BTreeSet;

use crate::support::common;
use crate::support::mcp::{Protocol, TestClient, connect, connect_token_mode};
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

/// Grants leave out the subject when it is the email asked about (issue 13: the answer stays
/// small), and show it when the policy spells the person otherwise, which a human may need to
/// see; the odd spelling is still the person's grant and still passes to `unbind_role`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_grant_shows_its_subject_only_when_spelled_otherwise_than_the_email() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let token = common::token_for(&sandbox).await;
    let odd = json!({
        "fullName": { "name": "dev-cluster-2", "managementClusterName": "attached", "provisionerName": "attached" },
        "bindingDeltaList": [{ "op": "ADD", "role": "cluster.view", "subject": { "name": "Alice@Example.COM", "kind": "USER" } }]
    });
    let (status, body) = common::send_json(
        reqwest::Method::PATCH,
        &format!(
            "{base}/v1alpha1/clusters:iam/dev-cluster-2?fullName.managementClusterName=attached&fullName.provisionerName=attached"
        ),
        &token,
        &odd,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let server = connect_token_mode(&toml).await;
    let alice = server
        .ok("get_user_access", json!({ "email": "alice@example.com" }))
        .await;
    let grants: Vec<&serde_json::Value> = ["tmc", "tap"]
        .iter()
        .flat_map(|system| alice[system].as_array().unwrap())
        .collect();
    let spelled: Vec<&&serde_json::Value> = grants
        .iter()
        .filter(|g| g.get("subject").is_some())
        .collect();
    assert_eq!(spelled.len(), 1, "{alice:#}");
    assert_eq!(spelled[0]["scope"]["name"], "dev-cluster-2");
    assert_eq!(
        spelled[0]["subject"],
        json!({ "kind": "USER", "name": "Alice@Example.COM" })
    );
    assert!(grants.len() > 5, "{alice:#}");
    assert!(
        grants.iter().all(|g| g.get("role_ref").is_none()),
        "`role_kind` and `role` say it: {alice:#}"
    );

    let unbind = json!({ "email": "alice@example.com", "role": spelled[0]["role"], "scope": spelled[0]["scope"] });
    let first = server.ok("unbind_role", unbind.clone()).await;
    assert_eq!(first["status"], "confirmation_required", "{first:#}");
    let mut confirmed = unbind;
    confirmed["confirm"] = first["confirmation_token"].clone();
    let ran = server.ok("unbind_role", confirmed).await;
    assert_eq!(ran["status"], "done", "{ran:#}");
    let after = server
        .ok("get_user_access", json!({ "email": "alice@example.com" }))
        .await;
    assert!(
        !after["tmc"].to_string().contains("dev-cluster-2"),
        "{after:#}"
    );
    server.close().await;
}
