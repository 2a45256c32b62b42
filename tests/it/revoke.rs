//! revoke_all_access through the real binary over stdio, against a sandbox: after a human's
//! approval the person has no access anywhere and the other subjects keep theirs; without a
//! valid approval nothing changes. Every check reads the sandbox (its API, kubectl), not the
//! server's answer.

use crate::support::{common, mcp};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::mcp::{
    Connected, Protocol, SandboxView, TestClient, alice_tmc_paths, approve, audit_lines,
    binding_subjects, connect,
};
use rmcp::model::{ElicitResult, ElicitationAction};
use serde_json::{Value, json};
use tanzu_mcp::sandbox::{DataSet, Sandbox};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const TAP: [&str; 3] = ["tap-dev", "tap-staging", "tap-prod"];

struct World {
    sandbox: Sandbox,
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
        sandbox,
        dir,
        toml,
        view,
        audit,
    }
}

impl World {
    async fn serve(&self, extra: &[&str], client: TestClient, protocol: Protocol) -> Connected {
        let mut args = vec!["--audit-log", self.audit.to_str().unwrap()];
        args.extend_from_slice(extra);
        connect(&self.toml, &args, client, protocol).await
    }

    fn config_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Every place alice holds access in the demo data, as the sandbox sees it.
    async fn alice_everywhere(&self) -> bool {
        let member = self.view.member_emails().await.contains(&ALICE.to_string());
        let mut tmc = true;
        for path in alice_tmc_paths(&self.view.org) {
            tmc &= self
                .view
                .tmc_subjects(&path)
                .await
                .iter()
                .any(|(_, name)| name == ALICE);
        }
        let mut tap = binding_subjects(
            self.config_dir(),
            "tap-dev",
            Some("dev-team"),
            "alice-admin",
        )
        .await
        .is_some();
        for cluster in TAP {
            let subjects = binding_subjects(self.config_dir(), cluster, None, "app-editors").await;
            tap &= subjects.is_some_and(|s| s.contains(&ALICE.to_string()));
        }
        member && tmc && tap
    }

    /// Whether alice holds access anywhere at all, as the sandbox sees it (every CSP
    /// member and invitation, every TMC policy, every binding on every TAP cluster).
    async fn alice_anywhere(&self) -> bool {
        let traces = self.view.traces_of(ALICE, self.config_dir(), &TAP).await;
        if !traces.is_empty() {
            eprintln!("alice still has: {traces:#?}");
        }
        !traces.is_empty()
    }
}

// The sandbox runs in this process while kubectl and the server are separate processes that
// the test waits on: a multi-threaded runtime keeps the sandbox answering meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn approved_revocation_removes_alice_everywhere_and_bob_keeps_the_shared_bindings() {
    let world = world().await;
    assert!(
        world.alice_everywhere().await,
        "the demo data gives alice access in all three systems"
    );
    let server = world
        .serve(
            &[],
            TestClient::new(Some(approve(ALICE))),
            Protocol::Handshake,
        )
        .await;

    let out = server
        .ok("revoke_all_access", json!({ "email": ALICE }))
        .await;
    assert_eq!(out["status"], "done", "{out:#}");
    let actions = out["plan"]["actions"].as_array().unwrap().len();
    assert_eq!(server.prompts().len(), 1, "the human was asked once");
    assert!(server.prompts()[0].contains(ALICE) && server.prompts()[0].contains("app-editors"));

    assert!(
        !world.alice_anywhere().await,
        "alice has no access left anywhere"
    );
    for cluster in TAP {
        assert_eq!(
            binding_subjects(world.config_dir(), cluster, None, "app-editors").await,
            Some(vec![BOB.to_string()]),
            "bob keeps app-editors on {cluster}"
        );
    }
    assert!(world.view.member_emails().await.contains(&BOB.to_string()));
    let bob_tmc = world
        .view
        .tmc_subjects(&alice_tmc_paths(&world.view.org)[2])
        .await
        .contains(&("cluster.view".to_string(), BOB.to_string()));
    assert!(bob_tmc, "bob keeps cluster.view on dev-cluster-1");

    let lines = audit_lines(&world.audit);
    assert_eq!(
        lines.len(),
        actions,
        "one audit line per action: {lines:#?}"
    );
    for line in &lines {
        assert_eq!(line["tool"], "revoke_all_access");
        assert_eq!(line["target"], ALICE);
        assert_eq!(line["outcome"], "done");
        assert!(
            line["time"].is_string() && line["system"].is_string() && line["action"].is_string()
        );
        assert!(line["client"].as_str().unwrap().contains("tanzu-mcp-tests"));
    }
    let raw = std::fs::read_to_string(&world.audit).unwrap();
    assert!(
        !raw.contains(world.sandbox.api_token()),
        "no API token in the audit log"
    );
    assert!(
        !raw.contains(&world.view.token),
        "no access token in the audit log"
    );
    let progress = server.handler.progress.lock().unwrap().len();
    assert_eq!(progress, actions, "one progress notification per action");

    // Running it again finds nothing left to do.
    let again = server
        .ok("revoke_all_access", json!({ "email": ALICE }))
        .await;
    assert_eq!(again["status"], "done");
    assert!(again["plan"]["actions"].as_array().unwrap().is_empty());
    server.close().await;
}

async fn assert_nothing_changes(client: TestClient, protocol: Protocol, expected_status: &str) {
    let world = world().await;
    let server = world.serve(&[], client, protocol).await;
    let result = server
        .call(
            "revoke_all_access",
            json!({ "email": ALICE, "confirm": "yes, I approve" }),
        )
        .await;
    let out = result
        .structured_content
        .clone()
        .expect("structuredContent");
    assert_eq!(out["status"], expected_status, "{out:#}");
    // A refusal is an error in every mode; a request for approval is not (nothing failed).
    assert_eq!(
        result.is_error == Some(true),
        expected_status == "cancelled",
        "isError of {expected_status}"
    );
    assert!(out.get("results").is_none(), "no action ran");
    assert!(world.alice_everywhere().await, "alice keeps all her access");
    assert!(
        audit_lines(&world.audit).is_empty(),
        "nothing attempted, nothing audited"
    );
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn declining_changes_nothing() {
    assert_nothing_changes(
        TestClient::new(Some(mcp::answer(ElicitationAction::Decline))),
        Protocol::Handshake,
        "cancelled",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancelling_changes_nothing() {
    assert_nothing_changes(
        TestClient::new(Some(mcp::answer(ElicitationAction::Cancel))),
        Protocol::Handshake,
        "cancelled",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn typing_the_wrong_email_changes_nothing() {
    assert_nothing_changes(
        TestClient::new(Some(approve(BOB))),
        Protocol::Handshake,
        "cancelled",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_that_cannot_elicit_gets_the_plan_and_nothing_changes() {
    // The model's own `confirm` argument is ignored: only a human approves.
    assert_nothing_changes(
        TestClient::new(None),
        Protocol::Handshake,
        "confirmation_required",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_2026_client_that_cannot_elicit_gets_the_plan_and_nothing_changes() {
    assert_nothing_changes(
        TestClient::new(None),
        Protocol::Discover2026,
        "confirmation_required",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_2026_client_declining_changes_nothing() {
    assert_nothing_changes(
        TestClient::new(Some(mcp::answer(ElicitationAction::Decline))),
        Protocol::Discover2026,
        "cancelled",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_2026_client_approves_through_an_input_required_round() {
    let world = world().await;
    let server = world
        .serve(
            &[],
            TestClient::new(Some(approve(ALICE))),
            Protocol::Discover2026,
        )
        .await;
    let out = server
        .ok("revoke_all_access", json!({ "email": ALICE }))
        .await;
    assert_eq!(out["status"], "done", "{out:#}");
    assert_eq!(server.prompts().len(), 1);
    assert!(!world.alice_anywhere().await);
    for cluster in TAP {
        assert_eq!(
            binding_subjects(world.config_dir(), cluster, None, "app-editors").await,
            Some(vec![BOB.to_string()])
        );
    }
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_binding_added_between_plan_and_approval_is_shown_and_removed_not_skipped() {
    let world = world().await;
    let dir = world.config_dir().to_path_buf();
    let asked = Arc::new(AtomicUsize::new(0));
    let approver: mcp::Approver = {
        let asked = asked.clone();
        Arc::new(move |_prompt: String| {
            let asked = asked.clone();
            let dir = dir.clone();
            Box::pin(async move {
                if asked.fetch_add(1, Ordering::SeqCst) == 0 {
                    // While the human reads the plan, someone grants alice more access.
                    mcp::kubectl_grant(&dir, "tap-staging", "late-grant", ALICE).await;
                }
                ElicitResult::new(ElicitationAction::Accept).with_content(json!({ "email": ALICE }))
            })
        })
    };
    let server = world
        .serve(&[], TestClient::new(Some(approver)), Protocol::Handshake)
        .await;
    let out = server
        .ok("revoke_all_access", json!({ "email": ALICE }))
        .await;
    assert_eq!(out["status"], "done", "{out:#}");
    assert_eq!(
        asked.load(Ordering::SeqCst),
        2,
        "the changed plan was shown again"
    );
    assert!(server.prompts()[1].contains("late-grant") && server.prompts()[1].contains("changed"));
    assert_eq!(
        binding_subjects(world.config_dir(), "tap-staging", None, "late-grant").await,
        None,
        "the late binding is gone"
    );
    assert!(!world.alice_anywhere().await);
    server.close().await;
}

async fn token_call(server: &Connected, confirm: Option<&str>, email: &str) -> Value {
    let mut args = json!({ "email": email });
    if let Some(token) = confirm {
        args["confirm"] = json!(token);
    }
    let result = server.call("revoke_all_access", args).await;
    result.structured_content.expect("structuredContent")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_mode_runs_the_confirmed_plan_once() {
    let world = world().await;
    let server = world
        .serve(
            &["--confirm", "token"],
            TestClient::new(None),
            Protocol::Handshake,
        )
        .await;
    let first = token_call(&server, None, ALICE).await;
    assert_eq!(first["status"], "confirmation_required");
    let token = first["confirmation_token"].as_str().unwrap().to_string();
    assert!(
        world.alice_everywhere().await,
        "the first call changes nothing"
    );

    let run = token_call(&server, Some(&token), ALICE).await;
    assert_eq!(run["status"], "done", "{run:#}");
    assert!(!world.alice_anywhere().await);
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_replayed_and_other_person_tokens_change_nothing() {
    let world = world().await;
    let server = world
        .serve(
            &["--confirm", "token"],
            TestClient::new(None),
            Protocol::Handshake,
        )
        .await;
    let for_bob = token_call(&server, None, BOB).await["confirmation_token"]
        .as_str()
        .unwrap()
        .to_string();
    for token in ["yes", "true", for_bob.as_str(), "AAAA.9999999999.00.AAAA"] {
        let out = token_call(&server, Some(token), ALICE).await;
        assert_eq!(out["status"], "cancelled", "token {token:?}: {out:#}");
    }
    assert!(world.alice_everywhere().await);

    // A genuine token for keep_membership=true does not approve a full revocation.
    let keep = server
        .call(
            "revoke_all_access",
            json!({ "email": ALICE, "keep_membership": true }),
        )
        .await;
    let keep_token = keep.structured_content.unwrap()["confirmation_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        token_call(&server, Some(&keep_token), ALICE).await["status"],
        "cancelled"
    );
    assert!(world.alice_everywhere().await);

    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_used_token_cannot_be_replayed_when_access_comes_back() {
    let world = world().await;
    let server = world
        .serve(
            &["--confirm", "token"],
            TestClient::new(None),
            Protocol::Handshake,
        )
        .await;
    let args = json!({ "email": ALICE, "keep_membership": true });
    let first = server
        .call("revoke_all_access", args.clone())
        .await
        .structured_content
        .unwrap();
    let token = first["confirmation_token"].as_str().unwrap().to_string();
    let mut confirmed = args.clone();
    confirmed["confirm"] = json!(token);
    assert_eq!(
        server
            .call("revoke_all_access", confirmed.clone())
            .await
            .structured_content
            .unwrap()["status"],
        "done"
    );
    assert!(
        world
            .view
            .member_emails()
            .await
            .contains(&ALICE.to_string()),
        "keep_membership kept her in CSP"
    );

    // Access comes back; the spent token must not remove it again.
    mcp::kubectl_grant(world.config_dir(), "tap-dev", "regranted", ALICE).await;
    let replay = server
        .call("revoke_all_access", confirmed)
        .await
        .structured_content
        .unwrap();
    assert_eq!(replay["status"], "cancelled", "{replay:#}");
    assert!(replay["message"].as_str().unwrap().contains("already used"));
    assert_eq!(
        binding_subjects(world.config_dir(), "tap-dev", None, "regranted").await,
        Some(vec![ALICE.to_string()])
    );
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_token_changes_nothing() {
    let world = world().await;
    let server = world
        .serve(
            &["--confirm", "token", "--confirm-ttl", "1"],
            TestClient::new(None),
            Protocol::Handshake,
        )
        .await;
    let token = token_call(&server, None, ALICE).await["confirmation_token"]
        .as_str()
        .unwrap()
        .to_string();
    // The token's lifetime is wall-clock in another process, so no clock can be paused, and
    // 1 s is the shortest TTL. It was issued before the answer came, so it has surely expired
    // one TTL after the answer (whole-second or finer expiry alike): no margin beyond that.
    let issued_by = std::time::Instant::now();
    tokio::time::sleep_until((issued_by + std::time::Duration::from_secs(1)).into()).await;
    let out = token_call(&server, Some(&token), ALICE).await;
    assert_eq!(out["status"], "cancelled", "{out:#}");
    assert!(out["message"].as_str().unwrap().contains("expired"));
    assert!(world.alice_everywhere().await);
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_for_a_plan_that_changed_is_not_run() {
    let world = world().await;
    let server = world
        .serve(
            &["--confirm", "token"],
            TestClient::new(None),
            Protocol::Handshake,
        )
        .await;
    let token = token_call(&server, None, ALICE).await["confirmation_token"]
        .as_str()
        .unwrap()
        .to_string();
    mcp::kubectl_grant(world.config_dir(), "tap-prod", "late-grant", ALICE).await;
    let out = token_call(&server, Some(&token), ALICE).await;
    assert_eq!(out["status"], "plan_changed", "{out:#}");
    assert!(out["plan"]["actions"].to_string().contains("late-grant"));
    assert!(world.alice_everywhere().await, "nothing ran");
    let fresh = out["confirmation_token"].as_str().unwrap().to_string();
    assert_eq!(
        token_call(&server, Some(&fresh), ALICE).await["status"],
        "done"
    );
    assert!(!world.alice_anywhere().await);
    assert_eq!(
        binding_subjects(world.config_dir(), "tap-prod", None, "late-grant").await,
        None
    );
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn read_only_mode_neither_lists_nor_runs_revocation() {
    let world = world().await;
    let server = world
        .serve(
            &["--read-only"],
            TestClient::new(Some(approve(ALICE))),
            Protocol::Handshake,
        )
        .await;
    let tools: Vec<String> = server
        .client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(
        tools.len(),
        5,
        "the read tools only (get_user_access, list_members, list_clusters, list_role_bindings, audit_access): {tools:?}"
    );
    assert!(
        !tools
            .iter()
            .any(|t| t == "revoke_all_access" || t == "bind_role" || t == "invite_user")
    );
    let mut params = rmcp::model::CallToolRequestParams::new("revoke_all_access");
    params.arguments = json!({ "email": ALICE }).as_object().cloned();
    let refused = server.client.call_tool(params).await;
    let refused_or_error = match refused {
        Err(_) => true,
        Ok(result) => result.is_error == Some(true),
    };
    assert!(refused_or_error, "a hidden tool is not callable");
    assert!(world.alice_everywhere().await);
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_2026_client_typing_the_wrong_email_changes_nothing() {
    assert_nothing_changes(
        TestClient::new(Some(approve(BOB))),
        Protocol::Discover2026,
        "cancelled",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreadable_cluster_refuses_to_plan_and_changes_nothing() {
    let world = world().await;
    let server = world
        .serve(
            &[],
            TestClient::new(Some(approve(ALICE))),
            Protocol::Handshake,
        )
        .await;
    let fault =
        json!({ "method": "GET", "path_prefix": "/k8s/tap-prod/", "status": 403, "count": 1000 });
    let (status, _) = common::control(&world.view.base, "faults", &fault).await;
    assert!((200..300).contains(&status));
    let result = server
        .call("revoke_all_access", json!({ "email": ALICE }))
        .await;
    assert_eq!(result.is_error, Some(true));
    assert!(
        mcp::text(&result).contains("tap-prod"),
        "{}",
        mcp::text(&result)
    );
    assert!(
        server.prompts().is_empty(),
        "no plan was offered for approval"
    );
    reqwest::Client::new()
        .delete(format!("{}/_sandbox/faults", world.view.base))
        .send()
        .await
        .unwrap();
    assert!(world.alice_everywhere().await);
    assert!(audit_lines(&world.audit).is_empty());
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_cluster_leaves_the_run_partial_and_running_again_finishes_it() {
    let world = world().await;
    let server = world
        .serve(
            &[],
            TestClient::new(Some(approve(ALICE))),
            Protocol::Handshake,
        )
        .await;
    // Every write to tap-prod fails; reads work.
    for method in ["PUT", "PATCH", "DELETE"] {
        let fault = json!({ "method": method, "path_prefix": "/k8s/tap-prod/", "status": 403, "count": 1000 });
        let (status, _) = common::control(&world.view.base, "faults", &fault).await;
        assert!((200..300).contains(&status));
    }
    let first = server
        .ok("revoke_all_access", json!({ "email": ALICE }))
        .await;
    assert_eq!(first["status"], "partial", "{first:#}");
    let results = first["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["outcome"] == "failed" && r["target"].as_str().unwrap().contains("tap-prod")));
    assert_eq!(
        results.last().unwrap()["outcome"],
        "skipped",
        "CSP removal waits for the bindings"
    );
    assert!(
        world
            .view
            .member_emails()
            .await
            .contains(&ALICE.to_string()),
        "still a member, so a rerun finds her"
    );
    assert_eq!(
        binding_subjects(world.config_dir(), "tap-dev", None, "app-editors").await,
        Some(vec![BOB.to_string()]),
        "what could be done was done"
    );

    reqwest::Client::new()
        .delete(format!("{}/_sandbox/faults", world.view.base))
        .send()
        .await
        .unwrap();
    let second = server
        .ok("revoke_all_access", json!({ "email": ALICE }))
        .await;
    assert_eq!(second["status"], "done", "{second:#}");
    assert!(
        second["plan"]["actions"].as_array().unwrap().len()
            < first["plan"]["actions"].as_array().unwrap().len()
    );
    assert!(!world.alice_anywhere().await);
    assert_eq!(
        binding_subjects(world.config_dir(), "tap-prod", None, "app-editors").await,
        Some(vec![BOB.to_string()])
    );
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_orgs_only_owner_is_refused_before_a_human_is_asked() {
    let world = world().await;
    let owner = tanzu_mcp::sandbox::data::OWNER;
    let client = TestClient::new(Some(approve(owner)));
    let server = world.serve(&[], client, Protocol::Handshake).await;
    let result = server
        .call("revoke_all_access", json!({ "email": owner }))
        .await;
    assert_eq!(result.is_error, Some(true));
    assert!(
        mcp::text(&result).contains("only owner"),
        "{}",
        mcp::text(&result)
    );
    assert!(
        server.prompts().is_empty(),
        "nobody was asked to approve a plan that cannot finish"
    );
    assert!(
        world
            .view
            .member_emails()
            .await
            .contains(&owner.to_string())
    );
    server.close().await;
}
