//! The write policy through the real binary, checked in the sandbox (its TMC API, its CSP API
//! and kubectl): what a prompt-injected model tried without a human (an org owner invited, org
//! admin, cluster-admin and built-in groups bound) changes nothing, built-in subjects are refused
//! even with a human, and a human's approval lets a privileged grant through.

use serde_json::json;
use tanzu_mcp::sandbox::DataSet;

use crate::support::mcp::{Protocol, SandboxView, TestClient, connect, connect_token_mode, text};
use crate::support::{common, mcp};

const BOB: &str = "bob@example.com";

/// A demo sandbox with its config, a view of its APIs and the org's IAM policy path.
struct Demo {
    sandbox: tanzu_mcp::sandbox::Sandbox,
    dir: tempfile::TempDir,
    toml: std::path::PathBuf,
    view: SandboxView,
    org: String,
}

impl Demo {
    async fn start() -> Demo {
        let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
        let (dir, toml) = common::write_config(&sandbox);
        let view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
        let org = format!(
            "/v1alpha1/organization:iam?fullName.orgId={}",
            sandbox.org_id()
        );
        Demo {
            sandbox,
            dir,
            toml,
            view,
            org,
        }
    }
}

async fn cluster_admins(dir: &std::path::Path) -> String {
    mcp::kubectl_json(dir, "tap-dev", &["get", "clusterrolebindings"])
        .await
        .expect("kubectl lists ClusterRoleBindings")["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["roleRef"]["name"] == "cluster-admin")
        .map(|b| b["subjects"].to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn escalation_without_a_human_changes_nothing_and_built_in_subjects_never_bind() {
    let Demo {
        sandbox,
        dir,
        toml,
        view,
        org,
    } = Demo::start().await;
    let invitations = format!("/csp/gateway/am/api/orgs/{}/invitations", sandbox.org_id());
    let before_org = view.tmc_subjects(&org).await;
    let before_admins = cluster_admins(dir.path()).await;
    let before_invites = view.get(&invitations).await;

    // A client that cannot elicit: the model alone.
    let model = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let attempts = [
        (
            "bind_role",
            json!({ "email": BOB, "role": "organization.admin", "scope": { "kind": "organization" } }),
        ),
        (
            "bind_role",
            json!({ "email": BOB, "role": "cluster-admin", "scope": { "kind": "tap_cluster", "name": "tap-dev" } }),
        ),
        (
            "bind_role",
            json!({ "group": "system:authenticated", "role": "cluster-admin", "scope": { "kind": "tap_cluster", "name": "tap-dev" } }),
        ),
        (
            "bind_role",
            json!({ "group": "system:unauthenticated", "role": "view", "scope": { "kind": "tap_cluster", "name": "tap-dev" } }),
        ),
        (
            "invite_user",
            json!({ "emails": ["stranger@evil.example"], "org_role": "org_owner" }),
        ),
    ];
    for (tool, args) in &attempts {
        let result = model.call(tool, args.clone()).await;
        assert_eq!(
            result.is_error,
            Some(true),
            "{tool} {args}: {}",
            text(&result)
        );
    }
    model.close().await;
    assert_eq!(
        view.tmc_subjects(&org).await,
        before_org,
        "org policy unchanged"
    );
    assert_eq!(
        cluster_admins(dir.path()).await,
        before_admins,
        "no new cluster-admin"
    );
    assert_eq!(
        view.get(&invitations).await,
        before_invites,
        "nobody invited"
    );

    // A human who approves everything still cannot bind a built-in group.
    let human = connect(
        &toml,
        &[],
        TestClient::new(Some(mcp::approve("system:authenticated"))),
        Protocol::Handshake,
    )
    .await;
    let refused = human.call("bind_role", attempts[2].1.clone()).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text(&refused).contains("never made"), "{}", text(&refused));
    human.close().await;
    assert_eq!(cluster_admins(dir.path()).await, before_admins);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_privileged_grant_goes_through_once_a_human_types_the_target_back() {
    let Demo {
        // Kept alive for the whole test.
        sandbox: _sandbox,
        dir,
        toml,
        view,
        org,
    } = Demo::start().await;
    let human = connect(
        &toml,
        &[],
        TestClient::new(Some(mcp::approve(BOB))),
        Protocol::Handshake,
    )
    .await;
    let bound = human
        .ok(
            "bind_role",
            json!({ "email": BOB, "role": "organization.admin", "scope": { "kind": "organization" } }),
        )
        .await;
    assert_eq!(bound["outcome"], "bound", "{bound:#}");
    assert!(
        human
            .prompts()
            .iter()
            .any(|p| p.contains("organization.admin") && p.contains(BOB)),
        "the human saw what is granted to whom: {:?}",
        human.prompts()
    );
    assert!(
        view.tmc_subjects(&org)
            .await
            .contains(&("organization.admin".to_string(), BOB.to_string()))
    );
    let admin = human
        .ok(
            "bind_role",
            json!({ "email": BOB, "role": "cluster-admin", "scope": { "kind": "tap_cluster", "name": "tap-dev" } }),
        )
        .await;
    assert_eq!(admin["outcome"], "bound");
    assert!(cluster_admins(dir.path()).await.contains(BOB));
    human.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_token_mode_a_privileged_grant_runs_only_with_its_token() {
    let Demo {
        // Kept alive for the whole test.
        sandbox: _sandbox,
        dir: _dir,
        toml,
        view,
        org,
    } = Demo::start().await;
    let server = connect_token_mode(&toml).await;
    let args =
        json!({ "email": BOB, "role": "organization.edit", "scope": { "kind": "organization" } });
    let first = server.ok("bind_role", args.clone()).await;
    assert_eq!(first["outcome"], "confirmation_required");
    let token = first["confirmation_token"].as_str().unwrap().to_string();
    let grant = ("organization.edit".to_string(), BOB.to_string());
    assert!(!view.tmc_subjects(&org).await.contains(&grant));
    let mut forged = args.clone();
    forged["confirm"] = json!("yes");
    assert_eq!(server.call("bind_role", forged).await.is_error, Some(true));
    assert!(!view.tmc_subjects(&org).await.contains(&grant));
    let mut confirmed = args;
    confirmed["confirm"] = json!(token);
    assert_eq!(server.ok("bind_role", confirmed).await["outcome"], "bound");
    assert!(view.tmc_subjects(&org).await.contains(&grant));
    let log = server.server_log();
    assert!(log.contains("DEBUG"), "the server logged at debug level");
    assert!(
        !log.contains(&token),
        "the confirmation token reached the server's debug log"
    );
    server.close().await;
}
