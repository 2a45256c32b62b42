//! bind_role through the real binary over stdio, against a sandbox: the
//! guide's traps are refused with what to do, and the result is checked in the sandbox.

use crate::support::mcp::{Protocol, SandboxView, TestClient, connect, text};
use crate::support::{common, mcp};
use serde_json::json;
use tanzu_mcp::sandbox::DataSet;

const CAROL: &str = "carol@example.com";

// The sandbox runs in this process while kubectl and the server are separate processes that
// the test waits on: a multi-threaded runtime keeps the sandbox answering meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn binding_an_invited_person_is_refused_until_they_accept_then_succeeds_once() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = common::write_config(&sandbox);
    let audit = dir.path().join("audit.jsonl");
    let server = connect(
        &toml,
        &["--audit-log", audit.to_str().unwrap()],
        TestClient::new(None),
        Protocol::Handshake,
    )
    .await;
    let bind = json!({ "email": CAROL, "role": "app-viewer", "scope": { "kind": "tap_cluster", "name": "tap-dev", "namespace": "apps" } });

    let refused = server.call("bind_role", bind.clone()).await;
    assert_eq!(refused.is_error, Some(true));
    let message = text(&refused);
    assert!(
        message.contains("not accepted") && message.contains("accept the invitation"),
        "{message}"
    );
    assert!(message.contains("Nothing was changed"), "{message}");
    let before = mcp::kubectl_json(
        dir.path(),
        "tap-dev",
        &["get", "rolebindings", "-n", "apps"],
    )
    .await
    .unwrap();
    assert!(
        !before.to_string().contains(CAROL),
        "no dangling binding was created"
    );

    let (status, _) =
        common::control(&base, "invitations/accept", &json!({ "email": CAROL })).await;
    assert_eq!(status, 200);

    let first = server.ok("bind_role", bind.clone()).await;
    assert_eq!(first["outcome"], "bound", "{first:#}");
    let second = server.ok("bind_role", bind).await;
    assert_eq!(second["outcome"], "already_bound");
    let after = mcp::kubectl_json(
        dir.path(),
        "tap-dev",
        &["get", "rolebindings", "-n", "apps"],
    )
    .await
    .unwrap();
    let holding: Vec<_> = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| {
            b["roleRef"]["name"] == "app-viewer" && b["subjects"].to_string().contains(CAROL)
        })
        .collect();
    assert_eq!(
        holding.len(),
        1,
        "exactly one RoleBinding holds carol: {after:#}"
    );
    let lines = mcp::audit_lines(&audit);
    assert_eq!(
        lines.len(),
        2,
        "bound + already_bound attempts, not the refusal: {lines:#?}"
    );
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tmc_bindings_are_made_by_delta_checked_in_tmc_and_idempotent() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let bind = json!({ "email": "bob@example.com", "role": "namespace.edit", "scope": { "kind": "namespace", "cluster": "dev-cluster-2", "name": "team-b" } });
    assert_eq!(
        server.ok("bind_role", bind.clone()).await["outcome"],
        "bound"
    );
    assert_eq!(
        server.ok("bind_role", bind).await["outcome"],
        "already_bound"
    );
    let path = "/v1alpha1/clusters/dev-cluster-2/namespaces:iam/team-b?fullName.managementClusterName=attached&fullName.provisionerName=attached";
    let subjects = view.tmc_subjects(path).await;
    let bob: Vec<_> = subjects
        .iter()
        .filter(|(role, name)| role == "namespace.edit" && name == "bob@example.com")
        .collect();
    assert_eq!(bob.len(), 1, "{subjects:?}");
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn traps_and_bad_input_are_refused_with_the_fix_and_change_nothing() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let org = format!(
        "/v1alpha1/organization:iam?fullName.orgId={}",
        sandbox.org_id()
    );
    let before = view.tmc_subjects(&org).await;

    let cases = [
        (
            json!({ "group": "platform-admins", "role": "organization.view", "scope": { "kind": "organization" } }),
            "'Platform-Admins'",
        ),
        (
            json!({ "email": "bob@example.com", "role": "organization.superuser", "scope": { "kind": "organization" } }),
            "organization.view",
        ),
        (
            json!({ "email": "nobody@example.com", "role": "organization.view", "scope": { "kind": "organization" } }),
            "invite_user",
        ),
        (
            json!({ "email": "bob@example.com", "group": "auditors", "role": "organization.view", "scope": { "kind": "organization" } }),
            "exactly one",
        ),
        (
            json!({ "email": "not-an-email", "role": "organization.view", "scope": { "kind": "organization" } }),
            "not an email",
        ),
        (
            json!({ "email": "bob@example.com", "role": "view", "scope": { "kind": "tap_cluster", "name": "tap-nowhere" } }),
            "tap-dev",
        ),
        (
            json!({ "email": "bob@example.com", "role": "cluster.view", "scope": { "kind": "cluster", "name": "no-such-cluster" } }),
            "no cluster",
        ),
    ];
    for (args, expected) in cases {
        let result = server.call("bind_role", args.clone()).await;
        assert_eq!(result.is_error, Some(true), "{args}");
        let message = text(&result);
        assert!(message.contains(expected), "{args}: {message}");
    }
    assert_eq!(
        view.tmc_subjects(&org).await,
        before,
        "the org policy is unchanged"
    );

    // The exact name passes the trap check; a group grant at organization scope is privileged,
    // so without a human it waits, and with one it is made.
    let exact = json!({ "group": "Platform-Admins", "role": "organization.view", "scope": { "kind": "organization" } });
    let held = server.call("bind_role", exact.clone()).await;
    assert_eq!(held.is_error, Some(true));
    assert_eq!(
        held.structured_content.as_ref().unwrap()["outcome"],
        "confirmation_required"
    );
    assert_eq!(view.tmc_subjects(&org).await, before);
    server.close().await;
    let human = connect(
        &toml,
        &[],
        TestClient::new(Some(mcp::approve("Platform-Admins"))),
        Protocol::Handshake,
    )
    .await;
    assert_eq!(human.ok("bind_role", exact).await["outcome"], "bound");
    assert!(view.tmc_subjects(&org).await.contains(&(
        "organization.view".to_string(),
        "Platform-Admins".to_string()
    )));
    human.close().await;
}
