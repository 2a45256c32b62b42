//! unbind_role through the real binary over stdio, against a sandbox: one subject leaves one
//! binding and the others keep theirs, an emptied Kubernetes binding is deleted, a leftover of
//! a removed person can be cleaned up, and without a human's approval nothing changes. Every
//! check reads the sandbox (its API, kubectl).

use std::path::PathBuf;

use serde_json::{Value, json};
use tanzu_mcp::sandbox::{DataSet, Sandbox};

use crate::support::common;
use crate::support::mcp::{
    Connected, Protocol, SandboxView, TestClient, approve, audit_lines, binding_subjects, connect,
};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const MALLORY: &str = "mallory@example.com";

struct World {
    _sandbox: Sandbox,
    dir: tempfile::TempDir,
    toml: PathBuf,
    view: SandboxView,
    audit: PathBuf,
}

async fn world() -> World {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = common::write_config(&sandbox);
    let view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
    let audit = dir.path().join("audit.jsonl");
    World {
        _sandbox: sandbox,
        dir,
        toml,
        view,
        audit,
    }
}

impl World {
    async fn serve(&self, extra: &[&str], client: TestClient) -> Connected {
        let mut args = vec!["--audit-log", self.audit.to_str().unwrap()];
        args.extend_from_slice(extra);
        connect(&self.toml, &args, client, Protocol::Handshake).await
    }
}

fn dev_cluster_1() -> &'static str {
    "/v1alpha1/clusters:iam/dev-cluster-1?fullName.managementClusterName=attached&fullName.provisionerName=attached"
}

fn unbind(email: &str, role: &str, scope: Value) -> Value {
    json!({ "email": email, "role": role, "scope": scope })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_subject_leaves_bystanders_keep_theirs_and_an_emptied_binding_is_deleted() {
    let world = world().await;
    let dir = world.dir.path();
    let server = world
        .serve(&[], TestClient::new(Some(approve(ALICE))))
        .await;

    let shared = unbind(
        ALICE,
        "app-editor",
        json!({ "kind": "tap_cluster", "name": "tap-dev" }),
    );
    let out = server.ok("unbind_role", shared.clone()).await;
    assert_eq!(out["status"], "done", "{out:#}");
    assert_eq!(server.prompts().len(), 1, "a human approved it");
    assert_eq!(
        binding_subjects(dir, "tap-dev", None, "app-editors").await,
        Some(vec![BOB.to_string()]),
        "bob keeps app-editors"
    );
    assert_eq!(
        binding_subjects(dir, "tap-staging", None, "app-editors").await,
        Some(vec![ALICE.to_string(), BOB.to_string()]),
        "only the named cluster changed"
    );

    let alone = unbind(
        ALICE,
        "admin",
        json!({ "kind": "tap_cluster", "name": "tap-dev", "namespace": "dev-team" }),
    );
    let out = server.ok("unbind_role", alone.clone()).await;
    assert_eq!(out["status"], "done", "{out:#}");
    assert!(
        out["plan"]["actions"][0]["effect"]
            .as_str()
            .unwrap()
            .contains("delete"),
        "{out:#}"
    );
    assert_eq!(
        binding_subjects(dir, "tap-dev", Some("dev-team"), "alice-admin").await,
        None,
        "the RoleBinding alice alone held is gone"
    );

    let tmc = unbind(
        ALICE,
        "cluster.admin",
        json!({ "kind": "cluster", "name": "dev-cluster-1" }),
    );
    let out = server.ok("unbind_role", tmc.clone()).await;
    assert_eq!(out["status"], "done", "{out:#}");
    let now = world.view.tmc_subjects(dev_cluster_1()).await;
    assert!(
        !now.contains(&("cluster.admin".to_string(), ALICE.to_string())),
        "{now:?}"
    );
    assert!(
        now.contains(&("cluster.view".to_string(), BOB.to_string())),
        "{now:?}"
    );

    // Again: nothing left to do, and nobody is asked.
    for args in [shared, alone, tmc] {
        let again = server.ok("unbind_role", args).await;
        assert_eq!(again["status"], "done");
        assert!(again["plan"]["actions"].as_array().unwrap().is_empty());
    }
    assert_eq!(server.prompts().len(), 3);
    let lines = audit_lines(&world.audit);
    assert_eq!(lines.len(), 3, "one record per action: {lines:#?}");
    assert!(
        lines
            .iter()
            .all(|l| l["tool"] == "unbind_role" && l["outcome"] == "done")
    );
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_leftover_of_someone_no_longer_in_the_org_can_be_unbound() {
    let world = world().await;
    assert!(
        !world
            .view
            .member_emails()
            .await
            .contains(&MALLORY.to_string())
    );
    let server = world
        .serve(&[], TestClient::new(Some(approve(MALLORY))))
        .await;
    let path = "/v1alpha1/clusters:iam/prod-cluster-1?fullName.managementClusterName=attached&fullName.provisionerName=attached";
    assert!(
        world
            .view
            .tmc_subjects(path)
            .await
            .contains(&("cluster.edit".to_string(), MALLORY.to_string()))
    );
    let out = server
        .ok(
            "unbind_role",
            unbind(
                MALLORY,
                "cluster.edit",
                json!({ "kind": "cluster", "name": "prod-cluster-1" }),
            ),
        )
        .await;
    assert_eq!(out["status"], "done", "{out:#}");
    assert!(
        !world
            .view
            .tmc_subjects(path)
            .await
            .iter()
            .any(|(_, n)| n == MALLORY)
    );
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_human_nothing_changes_and_a_token_runs_the_plan_once() {
    let world = world().await;
    let dir = world.dir.path();
    let args = unbind(
        ALICE,
        "app-editor",
        json!({ "kind": "tap_cluster", "name": "tap-dev" }),
    );
    let both = Some(vec![ALICE.to_string(), BOB.to_string()]);

    let no_human = world.serve(&[], TestClient::new(None)).await;
    let out = no_human.ok("unbind_role", args.clone()).await;
    assert_eq!(out["status"], "confirmation_required", "{out:#}");
    assert_eq!(
        binding_subjects(dir, "tap-dev", None, "app-editors").await,
        both
    );
    no_human.close().await;

    let automation = world
        .serve(&["--confirm", "token"], TestClient::new(None))
        .await;
    let first = automation.ok("unbind_role", args.clone()).await;
    assert_eq!(first["status"], "confirmation_required", "{first:#}");
    let token = first["confirmation_token"].as_str().unwrap().to_string();
    assert_eq!(
        binding_subjects(dir, "tap-dev", None, "app-editors").await,
        both
    );
    assert!(
        audit_lines(&world.audit).is_empty(),
        "nothing was attempted"
    );

    let mut confirmed = args.clone();
    confirmed["confirm"] = json!(token);
    let ran = automation.ok("unbind_role", confirmed.clone()).await;
    assert_eq!(ran["status"], "done", "{ran:#}");
    assert_eq!(
        binding_subjects(dir, "tap-dev", None, "app-editors").await,
        Some(vec![BOB.to_string()])
    );
    // The same token for another person's plan is refused.
    let mut other = unbind(
        BOB,
        "app-editor",
        json!({ "kind": "tap_cluster", "name": "tap-dev" }),
    );
    other["confirm"] = json!(token);
    let refused = automation.call("unbind_role", other).await;
    assert_eq!(refused.is_error, Some(true));
    assert_eq!(
        binding_subjects(dir, "tap-dev", None, "app-editors").await,
        Some(vec![BOB.to_string()]),
        "bob keeps it"
    );
    automation.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_group_is_unbound_from_a_terminal_with_yes_typing_its_name_back() {
    let world = world().await;
    let dir = world.dir.path();
    assert_eq!(
        binding_subjects(dir, "tap-dev", None, "tap-developers").await,
        Some(vec!["tap-developers".to_string()])
    );
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_tanzu-mcp"))
        .args([
            "call",
            "unbind_role",
            r#"{"group":"tap-developers","role":"app-viewer","scope":{"kind":"tap_cluster","name":"tap-dev"}}"#,
            "--config",
            world.toml.to_str().unwrap(),
            "--yes",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON result");
    assert_eq!(json["status"], "done", "{json:#}");
    assert_eq!(
        binding_subjects(dir, "tap-dev", None, "tap-developers").await,
        None,
        "the group was its only subject, so the binding is gone"
    );
}

/// The round trip of issue 12: every grant `get_user_access` reports is accepted by
/// `unbind_role` exactly as it is (its `role` and `scope`), and afterwards the person holds
/// none of them (read back from the sandbox; bob keeps the shared binding, checked by kubectl).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_grant_get_user_access_reports_can_be_passed_to_unbind_role_unchanged() {
    let world = world().await;
    let automation = world
        .serve(&["--confirm", "token"], TestClient::new(None))
        .await;
    let before = automation
        .ok("get_user_access", json!({ "email": ALICE }))
        .await;
    let grants: Vec<Value> = ["tmc", "tap"]
        .iter()
        .flat_map(|system| before[system].as_array().cloned().unwrap_or_default())
        .collect();
    assert!(grants.len() >= 5, "alice has grants to remove: {before:#}");
    for grant in &grants {
        let args = unbind(
            ALICE,
            grant["role"].as_str().unwrap(),
            grant["scope"].clone(),
        );
        let first = automation.ok("unbind_role", args.clone()).await;
        assert_eq!(
            first["status"], "confirmation_required",
            "{grant}: {first:#}"
        );
        let mut confirmed = args;
        confirmed["confirm"] = first["confirmation_token"].clone();
        let ran = automation.ok("unbind_role", confirmed).await;
        assert_eq!(ran["status"], "done", "{grant}: {ran:#}");
    }
    let after = automation
        .ok("get_user_access", json!({ "email": ALICE }))
        .await;
    assert_eq!(after["tmc"], json!([]), "{after:#}");
    assert_eq!(after["tap"], json!([]), "{after:#}");
    assert_eq!(
        binding_subjects(world.dir.path(), "tap-dev", None, "app-editors").await,
        Some(vec![BOB.to_string()]),
        "bob keeps the shared binding"
    );
    automation.close().await;
}

/// One wording for the destructive tools: when the audit record cannot be written, nothing
/// further is attempted and the result is an error (a structured one, naming --audit-log) for
/// unbind_role, change_role and revoke_all_access alike; the sandbox still shows the access.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unwritable_audit_log_stops_every_destructive_tool_with_an_error() {
    let world = world().await;
    // Opens for appending, refuses every write (ENOSPC).
    let server = connect(
        &world.toml,
        &["--audit-log", "/dev/full", "--confirm", "token"],
        TestClient::new(None),
        Protocol::Handshake,
    )
    .await;
    let calls = [
        (
            "unbind_role",
            unbind(
                ALICE,
                "workspace.edit",
                json!({ "kind": "workspace", "name": "team-a" }),
            ),
        ),
        (
            "change_role",
            json!({ "email": ALICE, "scope": { "kind": "cluster_group", "name": "dev-group" }, "from_role": "clustergroup.edit", "to_role": "clustergroup.view" }),
        ),
        ("revoke_all_access", json!({ "email": MALLORY })),
    ];
    for (tool, args) in calls {
        let first = server.ok(tool, args.clone()).await;
        let mut confirmed = args;
        confirmed["confirm"] = first["confirmation_token"].clone();
        let ran = server.call(tool, confirmed).await;
        assert_eq!(ran.is_error, Some(true), "{tool}: {ran:?}");
        let body = ran.structured_content.expect("a structured error");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("fix --audit-log, then call") && message.contains(tool),
            "{tool}: {body:#}"
        );
    }
    let alice = server
        .ok("get_user_access", json!({ "email": ALICE }))
        .await;
    let tmc = alice["tmc"].to_string();
    assert!(
        tmc.contains("workspace.edit") && tmc.contains("clustergroup.edit"),
        "{alice:#}"
    );
    let mallory = server
        .ok("get_user_access", json!({ "email": MALLORY }))
        .await;
    assert!(
        !mallory["tap"].as_array().unwrap().is_empty(),
        "{mallory:#}"
    );
    server.close().await;
}
