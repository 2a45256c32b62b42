//! provision_user through the real binary over stdio, against a sandbox: an invitation accepted
//! while the call waits ends with exactly one binding and progress notifications on the way; a
//! call that runs out of time binds nothing, and the same call after acceptance finishes. Every
//! check reads the sandbox (its API, kubectl).

use std::time::Duration;

use serde_json::json;
use tanzu_mcp::sandbox::DataSet;

use crate::support::common;
use crate::support::mcp::{
    Protocol, SandboxView, TestClient, connect, connect_token_mode, kubectl_json,
};

const CAROL: &str = "carol@example.com";
const DANA: &str = "dana.newcomer@example.com";

/// RoleBindings in `namespace` of `cluster` that bind `user` to ClusterRole `role`.
async fn role_bindings(
    dir: &std::path::Path,
    cluster: &str,
    namespace: &str,
    role: &str,
    user: &str,
) -> usize {
    let listed = kubectl_json(dir, cluster, &["get", "rolebindings", "-n", namespace])
        .await
        .unwrap();
    listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["roleRef"]["name"] == role && b["subjects"].to_string().contains(user))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accepted_during_the_wait_ends_with_exactly_one_binding_and_progress() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = common::write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    // The person accepts a moment after the invitation is sent, while the call waits.
    let accepting = tokio::spawn({
        let base = base.clone();
        async move {
            for _ in 0..200 {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let (status, _) =
                    common::control(&base, "invitations/accept", &json!({ "email": DANA })).await;
                if status == 200 {
                    return true;
                }
            }
            false
        }
    });
    let out = server
        .ok(
            "provision_user",
            json!({ "email": DANA, "role": "app-viewer", "scope": { "kind": "tap_cluster", "name": "tap-dev", "namespace": "apps" }, "wait_seconds": 40 }),
        )
        .await;
    assert!(accepting.await.unwrap(), "the invitation existed to accept");
    assert_eq!(out["status"], "done", "{out:#}");
    assert_eq!(out["membership"], "invited");
    assert_eq!(out["binding"], "bound");
    assert!(out["remaining"].as_array().unwrap().is_empty());
    assert_eq!(
        role_bindings(dir.path(), "tap-dev", "apps", "app-viewer", DANA).await,
        1
    );
    let progress = server.handler.progress.lock().unwrap().clone();
    assert!(
        progress.iter().any(|p| p
            .message
            .as_deref()
            .is_some_and(|m| m.contains("waiting for"))),
        "progress while waiting: {progress:?}"
    );
    let values: Vec<f64> = progress.iter().map(|p| p.progress).collect();
    assert!(
        values.windows(2).all(|w| w[0] < w[1]),
        "progress increases: {values:?}"
    );

    // Again: nothing more is created.
    let again = server
        .ok(
            "provision_user",
            json!({ "email": DANA, "role": "app-viewer", "scope": { "kind": "tap_cluster", "name": "tap-dev", "namespace": "apps" } }),
        )
        .await;
    assert_eq!(again["status"], "done");
    assert_eq!(again["membership"], "already_member");
    assert_eq!(again["binding"], "already_bound");
    assert_eq!(
        role_bindings(dir.path(), "tap-dev", "apps", "app-viewer", DANA).await,
        1
    );
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn not_accepted_in_time_binds_nothing_and_the_same_call_finishes_later() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = common::write_config(&sandbox);
    let view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let tmc = json!({ "email": CAROL, "role": "namespace.edit", "scope": { "kind": "namespace", "cluster": "dev-cluster-2", "name": "team-b" }, "wait_seconds": 1 });
    let tap = json!({ "email": CAROL, "role": "app-viewer", "scope": { "kind": "tap_cluster", "name": "tap-dev", "namespace": "apps" } });
    let path = "/v1alpha1/clusters/dev-cluster-2/namespaces:iam/team-b?fullName.managementClusterName=attached&fullName.provisionerName=attached";

    for args in [&tmc, &tap] {
        let out = server.ok("provision_user", args.clone()).await;
        assert_eq!(out["status"], "pending", "{out:#}");
        assert_eq!(out["membership"], "already_invited");
        assert_eq!(out["binding"], "not_yet");
        let remaining = out["remaining"].as_array().unwrap();
        assert_eq!(remaining.len(), 2, "{out:#}");
        assert!(remaining[0].as_str().unwrap().contains("accepts"));
        assert!(
            out["message"]
                .as_str()
                .unwrap()
                .contains("nothing is bound")
        );
    }
    assert!(
        !view
            .tmc_subjects(path)
            .await
            .iter()
            .any(|(_, n)| n == CAROL)
    );
    assert_eq!(
        role_bindings(dir.path(), "tap-dev", "apps", "app-viewer", CAROL).await,
        0
    );
    let everywhere = kubectl_json(
        dir.path(),
        "tap-dev",
        &["get", "clusterrolebindings,rolebindings", "-A"],
    )
    .await
    .unwrap();
    assert!(
        !everywhere.to_string().contains(CAROL),
        "no binding anywhere"
    );

    let (status, _) =
        common::control(&base, "invitations/accept", &json!({ "email": CAROL })).await;
    assert_eq!(status, 200);
    for args in [&tmc, &tap] {
        let out = server.ok("provision_user", args.clone()).await;
        assert_eq!(out["status"], "done", "{out:#}");
        assert_eq!(out["binding"], "bound");
    }
    let carol: Vec<_> = view
        .tmc_subjects(path)
        .await
        .into_iter()
        .filter(|(_, n)| n == CAROL)
        .collect();
    assert_eq!(
        carol,
        vec![("namespace.edit".to_string(), CAROL.to_string())]
    );
    assert_eq!(
        role_bindings(dir.path(), "tap-dev", "apps", "app-viewer", CAROL).await,
        1
    );
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_privileged_grant_waits_for_a_human_and_bad_arguments_change_nothing() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = common::write_config(&sandbox);
    let server = connect_token_mode(&toml).await;
    let args = json!({ "email": "bob@example.com", "role": "admin", "scope": { "kind": "tap_cluster", "name": "tap-dev", "namespace": "apps" } });
    let out = server.ok("provision_user", args.clone()).await;
    assert_eq!(out["status"], "confirmation_required", "{out:#}");
    assert_eq!(out["binding"], "awaiting_approval");
    let token = out["confirmation_token"].as_str().unwrap().to_string();
    assert_eq!(
        role_bindings(dir.path(), "tap-dev", "apps", "admin", "bob@example.com").await,
        0
    );
    let mut confirmed = args.clone();
    confirmed["confirm"] = json!(token);
    let done = server.ok("provision_user", confirmed).await;
    assert_eq!(done["status"], "done", "{done:#}");
    assert_eq!(
        role_bindings(dir.path(), "tap-dev", "apps", "admin", "bob@example.com").await,
        1
    );

    let too_long = server
        .call("provision_user", json!({ "email": DANA, "role": "app-viewer", "scope": { "kind": "tap_cluster", "name": "tap-dev" }, "wait_seconds": 46 }))
        .await;
    assert_eq!(too_long.is_error, Some(true));
    let unknown = server
        .call("provision_user", json!({ "email": DANA, "role": "no-such-role", "scope": { "kind": "tap_cluster", "name": "tap-dev" } }))
        .await;
    assert_eq!(unknown.is_error, Some(true));
    let invitations = SandboxView::new(&sandbox.base_url(), sandbox.api_token(), sandbox.org_id())
        .await
        .get(&format!(
            "/csp/gateway/am/api/orgs/{}/invitations",
            sandbox.org_id()
        ))
        .await;
    assert!(
        !invitations.to_string().contains(DANA),
        "nobody was invited for a grant that cannot be made"
    );
    server.close().await;
}

/// A brand-new address whose invitation needs a human: the answer says the person is not
/// invited (it said `already_member`), the sandbox holds no invitation, and once the token
/// approves the plan the same call invites them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_invitation_awaiting_approval_reports_the_person_as_not_invited() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let view = SandboxView::new(&sandbox.base_url(), sandbox.api_token(), sandbox.org_id()).await;
    let invitations_path = format!("/csp/gateway/am/api/orgs/{}/invitations", sandbox.org_id());
    let server = connect_token_mode(&toml).await;
    let newcomer = "erin.newcomer@example.com";
    let args = json!({ "email": newcomer, "org_role": "org_owner", "role": "app-viewer", "scope": { "kind": "tap_cluster", "name": "tap-dev", "namespace": "apps" } });
    let out = server.ok("provision_user", args.clone()).await;
    assert_eq!(out["status"], "confirmation_required", "{out:#}");
    assert_eq!(out["membership"], "not_invited", "{out:#}");
    assert_eq!(out["active"], false);
    assert_eq!(out["binding"], "not_yet");
    assert!(out["invitation_plan"].is_object(), "{out:#}");
    assert!(
        !view
            .get(&invitations_path)
            .await
            .to_string()
            .contains(newcomer),
        "nothing is sent before the approval"
    );

    let mut confirmed = args;
    confirmed["confirm"] = out["confirmation_token"].clone();
    let sent = server.ok("provision_user", confirmed).await;
    assert_eq!(sent["status"], "pending", "{sent:#}");
    assert_eq!(sent["membership"], "invited", "{sent:#}");
    assert!(
        view.get(&invitations_path)
            .await
            .to_string()
            .contains(newcomer),
        "the approved invitation was sent"
    );
    server.close().await;
}
