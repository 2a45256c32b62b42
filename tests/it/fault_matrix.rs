//! The real binary against a sandbox that fails on purpose: each read the tools make, under
//! 500, 502, 503, 429 with Retry-After, a slow answer, a connection reset, a client-side
//! timeout and an expired token, either succeeds after retries or says which system failed;
//! each backend write on its own (CSP invite, remove member, revoke invitation; TMC PATCH;
//! Kubernetes create, replace and delete of (Cluster)RoleBindings) under the same faults
//! either succeeds or names the system, and run again lands exactly once (checked in the
//! sandbox's API and with kubectl); and `revoke_all_access` interrupted by failing writes to
//! any system, then run again once it recovers, converges.

use serde_json::{Value, json};
use tanzu_mcp::sandbox::DataSet;

use crate::support::mcp::{Protocol, SandboxView, TestClient, approve, connect, text};
use crate::support::{common, mcp};

const ALICE: &str = "alice@example.com";
const CSP: &str = "/csp/gateway/am/api/";
const TMC: &str = "/v1alpha1/";
const K8S: &str = "/k8s/";

/// The client-side request timeout the servers of this file run with (`[clients]`), and the
/// delay that outlasts it.
const REQUEST_TIMEOUT_MS: u64 = 1500;
const PAST_TIMEOUT_MS: u64 = 2500;

/// The faults of the matrix, as `POST /_sandbox/faults` bodies for `method` on `prefix`.
fn faults(method: &str, prefix: &str) -> Vec<(&'static str, Value)> {
    let fault = |status: u16, retry_after: u64, delay_ms: u64| {
        json!({"method": method, "path_prefix": prefix, "status": status, "count": 1,
               "retry_after_secs": retry_after, "delay_ms": delay_ms})
    };
    let mut reset = fault(0, 0, 0);
    reset["reset"] = json!(true);
    vec![
        ("500", fault(500, 0, 0)),
        ("502", fault(502, 0, 0)),
        ("503", fault(503, 0, 0)),
        ("429 Retry-After 1", fault(429, 1, 0)),
        ("slow answer", fault(0, 0, 300)),
        ("connection reset", reset),
        ("client timeout", fault(0, 0, PAST_TIMEOUT_MS)),
    ]
}

/// The sandbox's configuration, with the short client request timeout of this file.
fn write_config(sandbox: &tanzu_mcp::sandbox::Sandbox) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, toml) = common::write_config(sandbox);
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str(&format!(
        "\n[clients]\nrequest_timeout_ms = {REQUEST_TIMEOUT_MS}\n"
    ));
    std::fs::write(&toml, text).unwrap();
    (dir, toml)
}

async fn faults_served(base: &str) -> u64 {
    let stats: Value = common::http()
        .get(format!("{base}/_sandbox/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["faults_served"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_read_survives_each_fault_or_names_the_system_that_failed() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let reads = [
        ("list_members", json!({"limit": 5}), CSP),
        ("get_user_access", json!({"email": ALICE}), CSP),
        ("get_user_access", json!({"email": ALICE}), TMC),
        ("get_user_access", json!({"email": ALICE}), K8S),
    ];
    let mut tried = 0;
    for (tool, args, prefix) in &reads {
        let mut cases = faults("GET", prefix);
        cases.push(("expired token", Value::Null));
        for (kind, fault) in cases {
            if fault.is_null() {
                let (status, _) = common::control(&base, "tokens/expire", &json!({})).await;
                assert!((200..300).contains(&status));
            } else {
                let (status, _) = common::control(&base, "faults", &fault).await;
                assert!((200..300).contains(&status), "{fault}");
            }
            let result = server.call(tool, args.clone()).await;
            tried += 1;
            if result.is_error == Some(true) {
                let message = text(&result);
                assert!(
                    ["CSP", "TMC", "Kubernetes"]
                        .iter()
                        .any(|s| message.contains(s)),
                    "{tool} under {kind} on {prefix}: the error names no system: {message}"
                );
            }
            if !fault.is_null() {
                // A call may not reach the faulty prefix (cached reads): clear what is left.
                common::http()
                    .delete(format!("{base}/_sandbox/faults"))
                    .send()
                    .await
                    .unwrap();
            }
            assert_ne!(
                result.is_error,
                Some(true),
                "{tool} under {kind} on {prefix} failed: {}",
                text(&result)
            );
        }
    }
    assert_eq!(tried, reads.len() * 8);
    assert!(faults_served(&base).await > 0, "the faults were served");
    server.close().await;
}

/// How a write is kept from going through, for as long as it stays armed.
fn persistent(kind: &str, method: &str, prefix: &str) -> Value {
    let mut fault = json!({"method": method, "path_prefix": prefix, "status": 503, "count": 1000});
    match kind {
        "503" => {}
        "connection reset" => fault["reset"] = json!(true),
        "client timeout" => {
            fault["status"] = json!(0);
            fault["delay_ms"] = json!(PAST_TIMEOUT_MS);
        }
        other => panic!("unknown kind {other}"),
    }
    fault
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_interrupted_revoke_run_again_converges() {
    let steps: [(&str, &[&str]); 3] = [
        (TMC, &["POST", "PATCH", "PUT"]),
        (K8S, &["PUT", "PATCH", "DELETE"]),
        (CSP, &["DELETE", "PATCH"]),
    ];
    for kind in ["503", "connection reset", "client timeout"] {
        for (prefix, methods) in steps {
            let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
            let (dir, toml) = write_config(&sandbox);
            let view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
            let server = connect(
                &toml,
                &[],
                TestClient::new(Some(approve(ALICE))),
                Protocol::Handshake,
            )
            .await;
            for method in methods {
                let (status, _) =
                    common::control(&base, "faults", &persistent(kind, method, prefix)).await;
                assert!((200..300).contains(&status));
            }
            let first = server
                .call("revoke_all_access", json!({"email": ALICE}))
                .await;
            let first = first.structured_content.unwrap_or(Value::Null);
            assert_ne!(
                first["status"], "done",
                "writes to {prefix} fail ({kind}): {first:#}"
            );
            common::http()
                .delete(format!("{base}/_sandbox/faults"))
                .send()
                .await
                .unwrap();
            let again = server
                .ok("revoke_all_access", json!({"email": ALICE}))
                .await;
            assert_eq!(
                again["status"], "done",
                "after {prefix} recovered from {kind}: {again:#}"
            );
            let traces = view.traces_of(ALICE, dir.path(), &TAP_CLUSTERS).await;
            assert_eq!(traces, Vec::<String>::new(), "{kind} on {prefix}");
            server.close().await;
        }
    }
}

const TAP_CLUSTERS: [&str; 3] = ["tap-dev", "tap-staging", "tap-prod"];
const BOB: &str = "bob@example.com";
const CAROL: &str = "carol@example.com";
const MALLORY: &str = "mallory@example.com";

/// What one write is meant to leave behind, counted in the sandbox (its API or kubectl).
enum Effect {
    /// AVAILABLE invitations of this email.
    Invitations(&'static str),
    /// Whether this email is an org member (0 or 1).
    Member(&'static str),
    /// `(role, subject)` entries of the TMC policy at this IAM path.
    TmcGrant(&'static str, &'static str, &'static str),
    /// (Cluster)RoleBindings on a TAP cluster (namespace or cluster-wide) whose roleRef is the
    /// role and whose subjects name the user, counted once per subject entry.
    TapGrant(
        &'static str,
        Option<&'static str>,
        &'static str,
        &'static str,
    ),
}

async fn count(effect: &Effect, view: &SandboxView, dir: &std::path::Path) -> usize {
    match effect {
        Effect::Invitations(email) => view
            .get(&format!(
                "/csp/gateway/am/api/orgs/{}/invitations",
                view.org
            ))
            .await
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| {
                i["username"]
                    .as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(email))
                    && i["status"].as_str().unwrap_or("AVAILABLE") == "AVAILABLE"
            })
            .count(),
        Effect::Member(email) => {
            usize::from(view.member_emails().await.contains(&email.to_string()))
        }
        Effect::TmcGrant(path, role, subject) => view
            .tmc_subjects(path)
            .await
            .iter()
            .filter(|(r, s)| r == role && s == subject)
            .count(),
        Effect::TapGrant(cluster, namespace, role, user) => {
            let kind = if namespace.is_some() {
                "rolebindings"
            } else {
                "clusterrolebindings"
            };
            let mut args = vec!["get", kind];
            if let Some(ns) = namespace {
                args.extend(["-n", ns]);
            }
            let listed = mcp::kubectl_json(dir, cluster, &args)
                .await
                .expect("kubectl lists bindings");
            listed["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|b| b["roleRef"]["name"] == *role)
                .flat_map(|b| b["subjects"].as_array().cloned().unwrap_or_default())
                .filter(|s| s["name"] == *user)
                .count()
        }
    }
}

/// One backend write, reached through the tool that makes it.
struct Write {
    name: &'static str,
    method: &'static str,
    prefix: &'static str,
    /// The system a failure must name.
    system: &'static str,
    tool: &'static str,
    args: Value,
    /// Whom the simulated human types back, for tools that ask.
    approver: &'static str,
    effect: Effect,
    /// How many the effect counts once the write went through.
    wanted: usize,
    /// Safe to repeat (conditional on a read version): every fault but a lasting one is
    /// retried away, and the first call must succeed.
    idempotent: bool,
}

/// Whether a tool result reports success; otherwise the text that must name the system.
fn failure_of(result: &rmcp::model::CallToolResult) -> Option<String> {
    let structured = result.structured_content.clone().unwrap_or(Value::Null);
    if result.is_error == Some(true) {
        return Some(text(result));
    }
    let failed: Vec<String> = structured["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|r| {
            r["outcome"] == "failed"
                || r["outcome"]
                    .as_str()
                    .is_some_and(|o| o.starts_with("error"))
        })
        .map(|r| {
            format!(
                "{}: {}{}",
                r["system"].as_str().unwrap_or(""),
                r["detail"].as_str().unwrap_or(""),
                r["outcome"]
            )
        })
        .collect();
    if !failed.is_empty() {
        return Some(failed.join("; "));
    }
    match structured["status"].as_str() {
        Some("partial" | "cancelled" | "plan_changed" | "confirmation_required") => {
            Some(structured.to_string())
        }
        _ => None,
    }
}

async fn run_write_matrix(write: Write) {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = write_config(&sandbox);
    let mut view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
    let server = connect(
        &toml,
        &[],
        TestClient::new(Some(approve(write.approver))),
        Protocol::Handshake,
    )
    .await;
    let mut cases = faults(write.method, write.prefix);
    cases.push(("expired token", Value::Null));
    let mut report = Vec::new();
    for (kind, fault) in cases {
        common::control(&base, "reset", &json!({})).await;
        assert_ne!(
            count(&write.effect, &view, dir.path()).await,
            write.wanted,
            "{}: the effect is not there before the call",
            write.name
        );
        if fault.is_null() {
            common::control(&base, "tokens/expire", &json!({})).await;
        } else {
            let (status, _) = common::control(&base, "faults", &fault).await;
            assert!((200..300).contains(&status), "{fault}");
        }
        let served_before = faults_served(&base).await;
        let first = server.call(write.tool, write.args.clone()).await;
        if fault.is_null() {
            // The view's own token expired with the server's.
            view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
        }
        let failure = failure_of(&first);
        let retried_away = write.idempotent
            || matches!(
                kind,
                "503" | "429 Retry-After 1" | "slow answer" | "expired token"
            );
        if let Some(message) = &failure {
            assert!(
                !retried_away,
                "{} under {kind} should have succeeded after retries: {message}",
                write.name
            );
            assert!(
                message.contains(write.system),
                "{} under {kind}: the failure does not name {}: {message}",
                write.name,
                write.system
            );
        }
        if !fault.is_null() {
            assert!(
                faults_served(&base).await > served_before,
                "{} under {kind}: the fault was served",
                write.name
            );
        }
        // A delayed request the client gave up on may still land: let it, before counting.
        if kind == "client timeout" {
            tokio::time::sleep(std::time::Duration::from_millis(PAST_TIMEOUT_MS)).await;
        }
        common::http()
            .delete(format!("{base}/_sandbox/faults"))
            .send()
            .await
            .unwrap();
        if failure.is_some() {
            let again = server.call(write.tool, write.args.clone()).await;
            assert_eq!(
                failure_of(&again),
                None,
                "{} after {kind}, run again: {}",
                write.name,
                text(&again)
            );
        }
        let landed = count(&write.effect, &view, dir.path()).await;
        assert_eq!(
            landed, write.wanted,
            "{} under {kind}: the write landed exactly once",
            write.name
        );
        report.push(format!(
            "{kind}: {}",
            if failure.is_some() {
                "named the system, run again ok"
            } else {
                "ok"
            }
        ));
    }
    eprintln!("{}: {}", write.name, report.join(", "));
    server.close().await;
}

const DEV_CLUSTER_2: &str = "/v1alpha1/clusters:iam/dev-cluster-2?fullName.managementClusterName=attached&fullName.provisionerName=attached";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn csp_invite_under_each_fault() {
    run_write_matrix(Write {
        name: "CSP invite",
        method: "POST",
        prefix: "/csp/gateway/am/api/orgs/",
        system: "CSP",
        tool: "invite_user",
        args: json!({"emails": ["newcomer@example.com"]}),
        approver: "newcomer@example.com",
        effect: Effect::Invitations("newcomer@example.com"),
        wanted: 1,
        idempotent: false,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn csp_revoke_invitation_under_each_fault() {
    run_write_matrix(Write {
        name: "CSP revoke invitation",
        method: "DELETE",
        prefix: "/csp/gateway/am/api/orgs/",
        system: "CSP",
        tool: "revoke_all_access",
        args: json!({"email": CAROL}),
        approver: CAROL,
        effect: Effect::Invitations(CAROL),
        wanted: 0,
        idempotent: false,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn csp_remove_member_under_each_fault() {
    run_write_matrix(Write {
        name: "CSP remove member",
        method: "DELETE",
        prefix: "/csp/gateway/am/api/v2/orgs/",
        system: "CSP",
        tool: "revoke_all_access",
        args: json!({"email": BOB}),
        approver: BOB,
        effect: Effect::Member(BOB),
        wanted: 0,
        idempotent: false,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tmc_policy_patch_under_each_fault() {
    run_write_matrix(Write {
        name: "TMC policy PATCH",
        method: "PATCH",
        prefix: TMC,
        system: "TMC",
        tool: "bind_role",
        args: json!({"email": BOB, "role": "cluster.edit",
                     "scope": {"kind": "cluster", "name": "dev-cluster-2"}}),
        approver: BOB,
        effect: Effect::TmcGrant(DEV_CLUSTER_2, "cluster.edit", BOB),
        wanted: 1,
        idempotent: false,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn k8s_create_cluster_role_binding_under_each_fault() {
    run_write_matrix(Write {
        name: "Kubernetes create ClusterRoleBinding",
        method: "POST",
        prefix: "/k8s/tap-staging/",
        system: "Kubernetes",
        tool: "bind_role",
        args: json!({"email": BOB, "role": "view",
                     "scope": {"kind": "tap_cluster", "name": "tap-staging"}}),
        approver: BOB,
        effect: Effect::TapGrant("tap-staging", None, "view", BOB),
        wanted: 1,
        idempotent: false,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn k8s_create_role_binding_under_each_fault() {
    run_write_matrix(Write {
        name: "Kubernetes create RoleBinding",
        method: "POST",
        prefix: "/k8s/tap-staging/",
        system: "Kubernetes",
        tool: "bind_role",
        args: json!({"email": BOB, "role": "view",
                     "scope": {"kind": "tap_cluster", "name": "tap-staging", "namespace": "apps"}}),
        approver: BOB,
        effect: Effect::TapGrant("tap-staging", Some("apps"), "view", BOB),
        wanted: 1,
        idempotent: false,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn k8s_delete_role_binding_under_each_fault() {
    run_write_matrix(Write {
        name: "Kubernetes delete RoleBinding",
        method: "DELETE",
        prefix: "/k8s/tap-dev/",
        system: "Kubernetes",
        tool: "unbind_role",
        args: json!({"email": ALICE, "role": "admin",
                     "scope": {"kind": "tap_cluster", "name": "tap-dev", "namespace": "dev-team"}}),
        approver: ALICE,
        effect: Effect::TapGrant("tap-dev", Some("dev-team"), "admin", ALICE),
        wanted: 0,
        idempotent: true,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn k8s_delete_cluster_role_binding_under_each_fault() {
    run_write_matrix(Write {
        name: "Kubernetes delete ClusterRoleBinding",
        method: "DELETE",
        prefix: "/k8s/tap-prod/",
        system: "Kubernetes",
        tool: "unbind_role",
        args: json!({"email": MALLORY, "role": "cluster-admin",
                     "scope": {"kind": "tap_cluster", "name": "tap-prod"}}),
        approver: MALLORY,
        effect: Effect::TapGrant("tap-prod", None, "cluster-admin", MALLORY),
        wanted: 0,
        idempotent: true,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn k8s_remove_subject_of_a_shared_binding_under_each_fault() {
    run_write_matrix(Write {
        name: "Kubernetes replace ClusterRoleBinding (one subject out)",
        method: "PUT",
        prefix: "/k8s/tap-dev/",
        system: "Kubernetes",
        tool: "unbind_role",
        args: json!({"email": ALICE, "role": "app-editor",
                     "scope": {"kind": "tap_cluster", "name": "tap-dev"}}),
        approver: ALICE,
        effect: Effect::TapGrant("tap-dev", None, "app-editor", ALICE),
        wanted: 0,
        idempotent: true,
    })
    .await;
}
