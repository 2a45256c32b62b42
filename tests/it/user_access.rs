//! list_members and get_user_access through the real binary over stdio, against a sandbox:
//! every member exactly once across cursor pages, and one person's access across the three
//! systems with the traps called out.

mod common;
mod mcp;

use std::collections::BTreeSet;

use mcp::{Protocol, SandboxView, TestClient, connect, text};
use serde_json::{Value, json};
use tanzu_mcp::sandbox::DataSet;

// The sandbox runs in this process while kubectl and the server are separate processes that
// the test waits on: a multi-threaded runtime keeps the sandbox answering meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_members_pages_through_the_demo_org_returning_each_person_once() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
    let members: BTreeSet<String> = view.member_emails().await.into_iter().collect();
    assert!(
        members.len() >= 250,
        "the demo org spans more than one CSP page"
    );

    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut args = json!({ "limit": 120 });
        if let Some(cursor) = &cursor {
            args["cursor"] = json!(cursor);
        }
        let page = server.ok("list_members", args).await;
        pages += 1;
        let entries = page["members"].as_array().unwrap();
        assert!(entries.len() <= 120);
        seen.extend(entries.iter().map(|m| {
            (
                m["email"].as_str().unwrap().to_string(),
                m["status"].as_str().unwrap().to_string(),
            )
        }));
        match &page["next_cursor"] {
            Value::String(next) => cursor = Some(next.clone()),
            _ => break,
        }
        assert!(pages < 20, "the listing ends");
    }
    let emails: Vec<&String> = seen.iter().map(|(e, _)| e).collect();
    let unique: BTreeSet<&String> = emails.iter().copied().collect();
    assert_eq!(unique.len(), emails.len(), "no one appears twice");
    let active: BTreeSet<String> = seen
        .iter()
        .filter(|(_, s)| s == "ACTIVE")
        .map(|(e, _)| e.clone())
        .collect();
    assert_eq!(
        active, members,
        "every CSP member, as the sandbox lists them"
    );
    let invited: BTreeSet<&str> = seen
        .iter()
        .filter(|(_, s)| s == "INVITED")
        .map(|(e, _)| e.as_str())
        .collect();
    assert_eq!(
        invited,
        BTreeSet::from(["carol@example.com", "dan@example.com", "erin@example.com"])
    );

    let filtered = server
        .ok(
            "list_members",
            json!({ "status": "INVITED", "query": "DAN" }),
        )
        .await;
    assert_eq!(
        filtered["members"],
        json!([{ "email": "dan@example.com", "status": "INVITED", "org_roles": ["org_member"] }])
    );
    let bad = server
        .call("list_members", json!({ "cursor": "made-up" }))
        .await;
    assert_eq!(bad.is_error, Some(true));
    assert!(text(&bad).contains("cursor"), "{}", text(&bad));
    server.close().await;
}

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
