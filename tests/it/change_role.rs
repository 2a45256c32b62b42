//! change_role through the real binary over stdio, against a sandbox: the subject is never
//! left without a role, a failed removal is `partial` with the new role held, a rerun leaves
//! only the new role, and a bystander on the same binding keeps theirs. Every check reads the
//! sandbox (its API, kubectl).

use serde_json::{Value, json};
use tanzu_mcp::sandbox::DataSet;

use crate::support::common;
use crate::support::mcp::{
    Protocol, SandboxView, TestClient, approve, binding_subjects, connect, kubectl_json,
};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const DEV_1: &str = "/v1alpha1/clusters:iam/dev-cluster-1?fullName.managementClusterName=attached&fullName.provisionerName=attached";

async fn arm(base: &str, method: &str, path_prefix: &str) {
    let fault =
        json!({ "method": method, "path_prefix": path_prefix, "status": 403, "count": 1000 });
    let (status, _) = common::control(base, "faults", &fault).await;
    assert!((200..300).contains(&status));
}

async fn disarm(base: &str) {
    common::http()
        .delete(format!("{base}/_sandbox/faults"))
        .send()
        .await
        .unwrap();
}

/// ClusterRoleBindings on `cluster` that bind `user` to ClusterRole `role`.
async fn holding(dir: &std::path::Path, cluster: &str, role: &str, user: &str) -> Vec<String> {
    let listed = kubectl_json(dir, cluster, &["get", "clusterrolebindings"])
        .await
        .unwrap();
    listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["roleRef"]["name"] == role)
        .filter(|b| {
            b["subjects"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["name"] == user))
        })
        .map(|b| b["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn tmc_holds(pairs: &[(String, String)], role: &str, who: &str) -> bool {
    pairs.contains(&(role.to_string(), who.to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_a_tap_cluster_a_failed_removal_is_partial_and_a_rerun_leaves_only_the_new_role() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = common::write_config(&sandbox);
    let dir = dir.path();
    let server = connect(
        &toml,
        &[],
        TestClient::new(Some(approve(ALICE))),
        Protocol::Handshake,
    )
    .await;
    let args = json!({ "email": ALICE, "scope": { "kind": "tap_cluster", "name": "tap-dev" }, "from_role": "app-editor", "to_role": "app-viewer" });
    let old = "/k8s/tap-dev/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/app-editors";
    for method in ["PUT", "PATCH", "DELETE"] {
        arm(&base, method, old).await;
    }

    let first = server.ok("change_role", args.clone()).await;
    assert_eq!(first["status"], "partial", "{first:#}");
    let results = first["results"].as_array().unwrap();
    assert_eq!(
        results[0]["outcome"], "done",
        "the new binding came first: {first:#}"
    );
    assert_eq!(results[1]["outcome"], "failed", "{first:#}");
    assert_eq!(
        holding(dir, "tap-dev", "app-viewer", ALICE).await.len(),
        1,
        "alice holds the new role"
    );
    assert_eq!(
        binding_subjects(dir, "tap-dev", None, "app-editors").await,
        Some(vec![ALICE.to_string(), BOB.to_string()]),
        "the removal failed"
    );

    disarm(&base).await;
    let second = server.ok("change_role", args.clone()).await;
    assert_eq!(second["status"], "done", "{second:#}");
    assert_eq!(
        second["plan"]["actions"].as_array().unwrap().len(),
        1,
        "only the removal was left"
    );
    assert_eq!(holding(dir, "tap-dev", "app-viewer", ALICE).await.len(), 1);
    assert!(
        holding(dir, "tap-dev", "app-editor", ALICE)
            .await
            .is_empty()
    );
    assert_eq!(
        binding_subjects(dir, "tap-dev", None, "app-editors").await,
        Some(vec![BOB.to_string()]),
        "bob, on the same binding, keeps app-editor"
    );
    let third = server.ok("change_role", args).await;
    assert_eq!(third["status"], "done");
    assert!(third["plan"]["actions"].as_array().unwrap().is_empty());
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_tmc_the_move_is_one_patch_a_failure_keeps_the_old_role_and_a_partial_rerun_finishes() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
    // A bystander on bob's role binding.
    let bystander = json!({
        "fullName": { "name": "dev-cluster-1", "managementClusterName": "attached", "provisionerName": "attached" },
        "bindingDeltaList": [{ "op": "ADD", "role": "cluster.view", "subject": { "name": ALICE, "kind": "USER" } }]
    });
    let (status, _) = common::send_json(
        reqwest::Method::PATCH,
        &format!("{base}{DEV_1}"),
        &view.token,
        &bystander,
    )
    .await;
    assert_eq!(status, 200);
    let server = connect(
        &toml,
        &[],
        TestClient::new(Some(approve(BOB))),
        Protocol::Handshake,
    )
    .await;
    let args = json!({ "email": BOB, "scope": { "kind": "cluster", "name": "dev-cluster-1" }, "from_role": "cluster.view", "to_role": "cluster.edit" });

    // The one PATCH fails: TMC applied nothing, and bob keeps his old role.
    arm(&base, "PATCH", "/v1alpha1/clusters:iam/dev-cluster-1").await;
    let failed = server.call("change_role", args.clone()).await;
    assert_eq!(failed.is_error, Some(true));
    let failed: Value = failed.structured_content.unwrap();
    assert_eq!(failed["status"], "failed", "{failed:#}");
    let now = view.tmc_subjects(DEV_1).await;
    assert!(
        tmc_holds(&now, "cluster.view", BOB) && !tmc_holds(&now, "cluster.edit", BOB),
        "{now:?}"
    );
    disarm(&base).await;

    let patches = |stats: &Value| -> u64 {
        stats["requests"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(route, _)| route.starts_with("PATCH /v1alpha1/"))
            .map(|(_, n)| n.as_u64().unwrap())
            .sum()
    };
    let before = patches(
        &common::get_json(&format!("{base}/_sandbox/stats"), "")
            .await
            .1,
    );
    let moved = server.ok("change_role", args.clone()).await;
    assert_eq!(moved["status"], "done", "{moved:#}");
    let after = patches(
        &common::get_json(&format!("{base}/_sandbox/stats"), "")
            .await
            .1,
    );
    assert_eq!(after - before, 1, "one PATCH carried both deltas");
    let now = view.tmc_subjects(DEV_1).await;
    assert!(
        tmc_holds(&now, "cluster.edit", BOB) && !tmc_holds(&now, "cluster.view", BOB),
        "{now:?}"
    );
    assert!(
        tmc_holds(&now, "cluster.view", ALICE),
        "the bystander keeps cluster.view"
    );

    // The new role already held (an add that landed earlier): only the removal is left, and
    // when it fails the result is partial with the new role held.
    let bound = server
        .ok("bind_role", json!({ "email": BOB, "role": "cluster.view", "scope": { "kind": "cluster", "name": "dev-cluster-1" } }))
        .await;
    assert_eq!(bound["outcome"], "bound");
    arm(&base, "PATCH", "/v1alpha1/clusters:iam/dev-cluster-1").await;
    let partial = server.ok("change_role", args.clone()).await;
    assert_eq!(partial["status"], "partial", "{partial:#}");
    let now = view.tmc_subjects(DEV_1).await;
    assert!(
        tmc_holds(&now, "cluster.edit", BOB),
        "bob holds the new role: {now:?}"
    );
    disarm(&base).await;
    let rerun = server.ok("change_role", args).await;
    assert_eq!(rerun["status"], "done", "{rerun:#}");
    let now = view.tmc_subjects(DEV_1).await;
    assert!(
        tmc_holds(&now, "cluster.edit", BOB) && !tmc_holds(&now, "cluster.view", BOB),
        "{now:?}"
    );
    assert!(
        tmc_holds(&now, "cluster.view", ALICE),
        "the bystander keeps cluster.view"
    );
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_human_or_with_an_unused_token_nothing_changes() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = common::write_config(&sandbox);
    let view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
    let tap = json!({ "email": ALICE, "scope": { "kind": "tap_cluster", "name": "tap-dev" }, "from_role": "app-editor", "to_role": "app-viewer" });
    let tmc = json!({ "email": BOB, "scope": { "kind": "cluster", "name": "dev-cluster-1" }, "from_role": "cluster.view", "to_role": "cluster.edit" });
    for extra in [&[][..], &["--confirm", "token"][..]] {
        let server = connect(&toml, extra, TestClient::new(None), Protocol::Handshake).await;
        for args in [&tap, &tmc] {
            let out = server.ok("change_role", args.clone()).await;
            assert_eq!(out["status"], "confirmation_required", "{out:#}");
            assert_eq!(out["confirmation_token"].is_string(), !extra.is_empty());
        }
        server.close().await;
    }
    assert!(
        holding(dir.path(), "tap-dev", "app-viewer", ALICE)
            .await
            .is_empty()
    );
    assert_eq!(
        binding_subjects(dir.path(), "tap-dev", None, "app-editors").await,
        Some(vec![ALICE.to_string(), BOB.to_string()])
    );
    let now = view.tmc_subjects(DEV_1).await;
    assert!(tmc_holds(&now, "cluster.view", BOB) && !tmc_holds(&now, "cluster.edit", BOB));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_2026_client_approves_a_change_through_an_input_required_round() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = common::write_config(&sandbox);
    let server = connect(
        &toml,
        &[],
        TestClient::new(Some(approve(ALICE))),
        Protocol::Discover2026,
    )
    .await;
    let args = json!({ "email": ALICE, "scope": { "kind": "tap_cluster", "name": "tap-staging" }, "from_role": "app-editor", "to_role": "app-viewer" });
    let out = server.ok("change_role", args).await;
    assert_eq!(out["status"], "done", "{out:#}");
    assert_eq!(server.prompts().len(), 1);
    assert_eq!(
        holding(dir.path(), "tap-staging", "app-viewer", ALICE)
            .await
            .len(),
        1
    );
    assert_eq!(
        binding_subjects(dir.path(), "tap-staging", None, "app-editors").await,
        Some(vec![BOB.to_string()])
    );
    server.close().await;
}
