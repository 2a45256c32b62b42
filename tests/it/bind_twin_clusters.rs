//! A TMC cluster name is unique only within a management cluster and provisioner (issue 10):
//! given a name that two clusters share, bind_role refuses and lists both, and binds once the
//! caller says which. `--data large` holds such a pair (`edge-cluster`).

use crate::support::common;
use crate::support::mcp::{Protocol, TestClient, connect, text};
use serde_json::json;
use tanzu_mcp::sandbox::DataSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cluster_name_two_clusters_share_is_refused_listing_both() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Large).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let bind = |scope: serde_json::Value| json!({ "email": "bob@example.com", "role": "cluster.view", "scope": scope });

    let refused = server
        .call(
            "bind_role",
            bind(json!({ "kind": "cluster", "name": "edge-cluster" })),
        )
        .await;
    assert_eq!(refused.is_error, Some(true));
    let message = text(&refused);
    assert!(
        message.contains("more than one TMC cluster is named 'edge-cluster'")
            && message.contains("aks-mgmt")
            && message.contains("attached")
            && message.contains("management_cluster"),
        "{message}"
    );

    let bound = server
        .ok(
            "bind_role",
            bind(json!({ "kind": "cluster", "name": "edge-cluster",
                         "management_cluster": "aks-mgmt", "provisioner": "aks" })),
        )
        .await;
    assert_eq!(bound["outcome"], "bound", "{bound:#}");
}

/// Each `edge-cluster` has its own IAM policy, keyed by its full name: a binding on one leaves
/// the other as it was (read back through the sandbox's TMC API, as a TMC client would).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn binding_on_one_twin_leaves_the_others_policy_unchanged() {
    let (sandbox, base) = common::start_sandbox(DataSet::Large).await;
    let token = common::token_for(&sandbox).await;
    let policy_of = |mc: &str, prov: &str| {
        format!(
            "{base}/v1alpha1/clusters:iam/edge-cluster?fullName.managementClusterName={mc}&fullName.provisionerName={prov}"
        )
    };
    let (status, attached_before) =
        common::get_json(&policy_of("attached", "attached"), &token).await;
    assert_eq!(status, 200);

    let (_dir, toml) = common::write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let bound = server
        .ok(
            "bind_role",
            json!({ "email": "bob@example.com", "role": "cluster.edit",
                    "scope": { "kind": "cluster", "name": "edge-cluster",
                               "management_cluster": "aks-mgmt", "provisioner": "aks" } }),
        )
        .await;
    assert_eq!(bound["outcome"], "bound", "{bound:#}");

    let holds_bob = |policy: &serde_json::Value| {
        policy["policyList"].as_array().unwrap().iter().any(|p| {
            p["meta"]["parentReferences"][0]["rid"]
                .as_str()
                .is_some_and(|rid| rid.starts_with("rid:c:"))
                && p["roleBindings"].as_array().unwrap().iter().any(|b| {
                    b["role"] == "cluster.edit"
                        && b["subjects"].to_string().contains("bob@example.com")
                })
        })
    };
    let (_, aks) = common::get_json(&policy_of("aks-mgmt", "aks"), &token).await;
    assert!(holds_bob(&aks), "bound where asked: {aks:#}");
    let own_rid = aks["policyList"][0]["meta"]["parentReferences"][0]["rid"].to_string();
    assert!(own_rid.contains(":aks-mgmt:aks:edge-cluster"), "{own_rid}");

    let (_, attached_after) = common::get_json(&policy_of("attached", "attached"), &token).await;
    assert!(!holds_bob(&attached_after), "{attached_after:#}");
    assert_eq!(
        attached_after, attached_before,
        "the attached twin's policy is untouched"
    );

    // A name alone does not say which of the two is meant: TMC's answer is not guessed.
    let (status, ambiguous) = common::get_json(
        &format!("{base}/v1alpha1/clusters:iam/edge-cluster"),
        &token,
    )
    .await;
    assert_eq!(status, 400, "{ambiguous}");
}
