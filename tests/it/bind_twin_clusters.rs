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
