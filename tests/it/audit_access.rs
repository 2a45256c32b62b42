//! audit_access on the demo data: every planted leftover is found with the call that fixes it,
//! a binding made outside tanzu-mcp for an invitee is found, no ACTIVE member is named, and a
//! progress notification arrives per scope and cluster.

use crate::support::common;
use crate::support::mcp::{Protocol, TestClient, connect, kubectl_grant};
use serde_json::{Value, json};
use tanzu_mcp::sandbox::DataSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_planted_leftover_is_found_and_no_active_member_is_named() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = common::write_config(&sandbox);
    // An invitee bound before accepting, as someone outside tanzu-mcp would do it.
    kubectl_grant(
        dir.path(),
        "tap-staging",
        "carol-early",
        "carol@example.com",
    )
    .await;
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let report = server.ok("audit_access", json!({})).await;
    let findings = report["findings"].as_array().unwrap();
    let find = |kind: &str, name: &str| -> Vec<&Value> {
        findings
            .iter()
            .filter(|f| f["kind"] == kind && f["subject"]["name"] == name)
            .collect()
    };

    let mallory = find("not_a_member", "mallory@example.com");
    assert_eq!(mallory.len(), 2, "{findings:#?}");
    let tmc = mallory
        .iter()
        .find(|f| f["scope"]["kind"] == "cluster")
        .expect("TMC leftover");
    assert_eq!(tmc["scope"]["name"], "prod-cluster-1");
    assert_eq!(
        tmc["fix"][0],
        json!({"tool": "unbind_role", "arguments": {
            "email": "mallory@example.com", "role": "cluster.edit",
            "scope": {"kind": "cluster", "name": "prod-cluster-1",
                      "management_cluster": "attached", "provisioner": "attached"}}})
    );
    let tap = mallory
        .iter()
        .find(|f| f["scope"]["kind"] == "tap_cluster")
        .expect("TAP leftover");
    assert_eq!(tap["scope"]["name"], "tap-prod");
    assert_eq!(tap["binding"], "legacy-admins");
    assert_eq!(tap["fix_all"]["tool"], "revoke_all_access");

    let carol = find("invited_with_bindings", "carol@example.com");
    assert_eq!(carol.len(), 1, "{findings:#?}");
    assert_eq!(carol[0]["fix"][0]["tool"], "unbind_role");

    let near = find("group_near_miss", "platform-admins");
    assert_eq!(near.len(), 1, "{findings:#?}");
    assert_eq!(near[0]["real_group"], "Platform-Admins");
    assert_eq!(
        near[0]["scope"],
        json!({"kind": "cluster_group", "name": "prod-group"})
    );
    assert_eq!(near[0]["fix"][0]["tool"], "bind_role");
    assert_eq!(near[0]["fix"][0]["arguments"]["group"], "Platform-Admins");
    assert_eq!(near[0]["fix"][1]["tool"], "unbind_role");

    for active in ["alice@example.com", "bob@example.com", "owner@example.com"] {
        assert!(
            !findings.iter().any(|f| f["subject"]["name"] == active),
            "{active} is ACTIVE and must not be a finding"
        );
    }
    assert!(!findings.iter().any(|f| {
        f["subject"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("system:"))
    }));
    assert_eq!(report["summary"]["by_kind"]["not_a_member"], 2);
    assert_eq!(report["summary"]["by_kind"]["invited_with_bindings"], 1);
    assert_eq!(report["summary"]["by_kind"]["group_near_miss"], 1);
    assert_eq!(report["summary"]["by_kind"]["unreadable"], 0);
    assert_eq!(report["summary"]["complete"], true);
    assert_eq!(report["summary"]["tap_clusters_read"], 3);

    // One notification per TMC scope and TAP cluster read.
    let progress = server.handler.progress.lock().unwrap().clone();
    assert!(
        progress
            .iter()
            .any(|p| p.message.as_deref().is_some_and(|m| m.contains("tap-prod"))),
        "{progress:?}"
    );
    let scopes = report["summary"]["tmc_scopes_read"].as_u64().unwrap() as usize;
    // Each is sent before the result, but the test client handles notifications on a task of
    // their own, so the last may still be on its way when the result arrives.
    assert!(progress.len() + 1 >= scopes + 3, "{progress:?}");
    assert!(
        progress
            .iter()
            .all(|p| p.total.is_some_and(|t| t as usize <= scopes + 3)),
        "{progress:?}"
    );
    server.close().await;
}
