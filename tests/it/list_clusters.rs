//! list_clusters: every name it returns is accepted by bind_role, an unknown name gets "did you
//! mean", and every grant get_user_access returns carries bind_role's role and scope shape.

use crate::support::common;
use crate::support::mcp::{Protocol, TestClient, approve, connect, text};
use serde_json::{Value, json};
use tanzu_mcp::sandbox::DataSet;

fn names(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_listed_name_is_accepted_by_bind_role() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let bob = "bob@example.com";
    let server = connect(
        &toml,
        &[],
        TestClient::new(Some(approve(bob))),
        Protocol::Handshake,
    )
    .await;
    let listing = server
        .ok("list_clusters", json!({ "cluster": "tap-dev" }))
        .await;
    assert_eq!(listing["unreadable"], json!([]));
    let bind = |role: String, scope: Value| {
        let server = &server;
        async move {
            let done = server
                .ok(
                    "bind_role",
                    json!({ "email": bob, "role": role, "scope": scope }),
                )
                .await;
            assert!(
                done["outcome"] == "bound" || done["outcome"] == "already_bound",
                "{role} {scope}: {done}"
            );
        }
    };
    for cluster in listing["tmc_clusters"].as_array().unwrap() {
        bind("cluster.view".into(), json!({"kind": "cluster", "name": cluster["name"],
            "management_cluster": cluster["management_cluster"], "provisioner": cluster["provisioner"]})).await;
    }
    for group in names(&listing["cluster_groups"]) {
        bind(
            "clustergroup.view".into(),
            json!({"kind": "cluster_group", "name": group}),
        )
        .await;
    }
    for workspace in names(&listing["workspaces"]) {
        bind(
            "workspace.view".into(),
            json!({"kind": "workspace", "name": workspace}),
        )
        .await;
    }
    assert!(names(&listing["tmc_roles"]).contains(&"cluster.view".to_string()));
    let mut tap_clusters = Vec::new();
    for group in listing["tap"].as_array().unwrap() {
        let roles = names(&group["cluster_roles"]);
        assert!(roles.iter().all(|r| !r.starts_with("system:")), "{roles:?}");
        for cluster in names(&group["clusters"]) {
            tap_clusters.push(cluster.clone());
            bind(
                roles[0].clone(),
                json!({"kind": "tap_cluster", "name": cluster}),
            )
            .await;
        }
        if names(&group["clusters"]).contains(&"tap-dev".to_string()) {
            for role in roles {
                bind(role, json!({"kind": "tap_cluster", "name": "tap-dev"})).await;
            }
        }
    }
    assert_eq!(tap_clusters.len(), 3);
    for ns in names(&listing["namespaces"]["tap"]) {
        bind(
            "app-viewer".into(),
            json!({"kind": "tap_cluster", "name": "tap-dev", "namespace": ns}),
        )
        .await;
    }

    // Round trip: every grant get_user_access shows has bind_role's role and scope.
    let access = server.ok("get_user_access", json!({ "email": bob })).await;
    for grant in access["tmc"]
        .as_array()
        .unwrap()
        .iter()
        .chain(access["tap"].as_array().unwrap())
    {
        let again = server
            .ok(
                "bind_role",
                json!({ "email": bob, "role": grant["role"], "scope": grant["scope"] }),
            )
            .await;
        assert_eq!(again["outcome"], "already_bound", "{grant}");
    }
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_names_are_refused_with_close_matches() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    for (role, scope, expected) in [
        (
            "cluster.view",
            json!({"kind": "cluster", "name": "dev-cluster1"}),
            "dev-cluster-1",
        ),
        (
            "clustergroup.view",
            json!({"kind": "cluster_group", "name": "dev-grp"}),
            "dev-group",
        ),
        (
            "workspace.view",
            json!({"kind": "workspace", "name": "team-c"}),
            "team-a",
        ),
        (
            "namespace.view",
            json!({"kind": "namespace", "cluster": "dev-cluster-1", "name": "team-z"}),
            "team-a",
        ),
        (
            "app-viewer",
            json!({"kind": "tap_cluster", "name": "tap-dv"}),
            "tap-dev",
        ),
        (
            "app-viewer",
            json!({"kind": "tap_cluster", "name": "tap-dev", "namespace": "dev-teams"}),
            "dev-team",
        ),
        (
            "app-editr",
            json!({"kind": "tap_cluster", "name": "tap-dev"}),
            "app-editor",
        ),
        (
            "cluster.veiw",
            json!({"kind": "cluster", "name": "dev-cluster-1"}),
            "cluster.view",
        ),
    ] {
        let result = server
            .call(
                "bind_role",
                json!({"email": "bob@example.com", "role": role, "scope": scope}),
            )
            .await;
        assert_eq!(result.is_error, Some(true), "{scope}");
        let message = text(&result);
        assert!(
            message.contains(&format!("did you mean {expected}"))
                && message.contains("list_clusters"),
            "{scope}: {message}"
        );
    }
    let result = server
        .call("list_clusters", json!({ "cluster": "prod-cluster" }))
        .await;
    assert!(
        text(&result).contains("did you mean prod-cluster-1"),
        "{}",
        text(&result)
    );
    server.close().await;
}
