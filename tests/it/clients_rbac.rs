//! The Kubernetes RBAC client against the sandbox's API servers, checked with kubectl:
//! removing one subject of a shared binding leaves the others bound, bindings are listed
//! through every `continue` page, and exec credential plugins run non-interactively.

use std::path::Path;
use tokio::process::Command;

use crate::support::clients::{fast_options, world};
use serde_json::Value;
use tanzu_mcp::access::ports::{
    BindingRef, ClusterRbac, FailureKind, NewBinding, Subject, SubjectRemoval,
};

/// The ClusterRoleBinding alice and bob share on tap-dev.
const EDITORS: BindingRef<'static> = BindingRef {
    cluster: "tap-dev",
    namespace: None,
    name: "app-editors",
};
use tanzu_mcp::clients;
use tanzu_mcp::sandbox::DataSet;

/// `kubectl get` of one object as JSON; `None` when it does not exist. Async, because the
/// sandbox answers on this test's runtime.
async fn kubectl_get(kubeconfig: &Path, context: &str, args: &[&str]) -> Option<Value> {
    let output = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--context", context, "get"])
        .args(args)
        .args(["-o", "json"])
        .output()
        .await
        .expect("kubectl runs");
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("NotFound") || stderr.contains("not found"),
            "kubectl: {stderr}"
        );
        return None;
    }
    Some(serde_json::from_slice(&output.stdout).expect("kubectl JSON"))
}

fn subject_names(binding: &Value) -> Vec<String> {
    binding["subjects"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|s| s["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn removing_one_subject_of_a_shared_binding_keeps_the_other_bound() {
    let world = world(DataSet::Demo).await;
    let rbac: &dyn ClusterRbac = world.clients.rbac.as_ref();
    let kubeconfig = world.dir.path().join("kubeconfig");
    let alice = Subject::user("alice@example.com");
    let bob = Subject::user("bob@example.com");

    let removal = rbac
        .remove_subject(EDITORS, &alice)
        .await
        .expect("remove alice");
    assert_eq!(removal, SubjectRemoval::Updated);
    let binding = kubectl_get(
        &kubeconfig,
        "tap-dev",
        &["clusterrolebinding", "app-editors"],
    )
    .await
    .expect("the shared binding still exists");
    assert_eq!(subject_names(&binding), ["bob@example.com"]);
    assert_eq!(binding["roleRef"]["name"], "app-editor");

    // The other clusters are untouched.
    let staging = kubectl_get(
        &kubeconfig,
        "tap-staging",
        &["clusterrolebinding", "app-editors"],
    )
    .await
    .expect("exists");
    assert_eq!(subject_names(&staging).len(), 2);

    let removal = rbac
        .remove_subject(EDITORS, &bob)
        .await
        .expect("remove bob");
    assert_eq!(
        removal,
        SubjectRemoval::Deleted,
        "no subject left: the binding goes"
    );
    assert!(
        kubectl_get(
            &kubeconfig,
            "tap-dev",
            &["clusterrolebinding", "app-editors"]
        )
        .await
        .is_none()
    );

    let again = rbac
        .remove_subject(EDITORS, &bob)
        .await
        .expect("remove again");
    assert_eq!(again, SubjectRemoval::AlreadyAbsent);
}

#[tokio::test]
async fn a_conflicting_write_is_read_again_and_retried() {
    let world = world(DataSet::Demo).await;
    let rbac: &dyn ClusterRbac = world.clients.rbac.as_ref();
    // The first update meets a 409, as if another writer had changed the binding.
    world
        .fault(
            "PUT",
            "/k8s/tap-staging/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/app-editors",
            409,
            1,
        )
        .await;
    let removal = rbac
        .remove_subject(
            BindingRef {
                cluster: "tap-staging",
                namespace: None,
                name: "app-editors",
            },
            &Subject::user("alice@example.com"),
        )
        .await
        .expect("the second round succeeds");
    assert_eq!(removal, SubjectRemoval::Updated);
    assert_eq!(
        world.requests_matching("PUT", "clusterrolebindings").await,
        2
    );
    let kubeconfig = world.dir.path().join("kubeconfig");
    let binding = kubectl_get(
        &kubeconfig,
        "tap-staging",
        &["clusterrolebinding", "app-editors"],
    )
    .await
    .expect("exists");
    assert_eq!(subject_names(&binding), ["bob@example.com"]);
}

#[tokio::test]
async fn bindings_come_from_every_page_of_both_kinds() {
    let world = world(DataSet::Demo).await;
    let rbac: &dyn ClusterRbac = world.clients.rbac.as_ref();
    assert_eq!(rbac.clusters(), ["tap-dev", "tap-staging", "tap-prod"]);

    let bindings = rbac.bindings("tap-dev").await.expect("bindings");
    let kubeconfig = world.dir.path().join("kubeconfig");
    let crbs = kubectl_get(&kubeconfig, "tap-dev", &["clusterrolebindings"])
        .await
        .expect("list");
    let rbs = kubectl_get(
        &kubeconfig,
        "tap-dev",
        &["rolebindings", "--all-namespaces"],
    )
    .await
    .expect("list");
    let expected =
        crbs["items"].as_array().map_or(0, Vec::len) + rbs["items"].as_array().map_or(0, Vec::len);
    assert!(expected > 2, "more than one page of size 2");
    assert_eq!(bindings.len(), expected);

    let shared = bindings
        .iter()
        .find(|b| b.name == "app-editors" && b.namespace.is_none())
        .expect("app-editors");
    assert_eq!(
        shared.subjects,
        [
            Subject::user("alice@example.com"),
            Subject::user("bob@example.com")
        ]
    );
    let role_binding = bindings
        .iter()
        .find(|b| b.name == "alice-admin")
        .expect("RoleBinding alice-admin");
    assert_eq!(role_binding.namespace.as_deref(), Some("dev-team"));
    assert_eq!(role_binding.role_name, "admin");

    let roles = rbac.cluster_roles("tap-dev").await.expect("cluster roles");
    assert!(roles.iter().any(|r| r == "app-editor"));
    let namespaces = rbac.namespaces("tap-dev").await.expect("namespaces");
    assert!(namespaces.iter().any(|n| n == "dev-team"));
}

#[tokio::test]
async fn creating_a_binding_that_exists_is_a_conflict() {
    let world = world(DataSet::Demo).await;
    let rbac: &dyn ClusterRbac = world.clients.rbac.as_ref();
    let carol = [Subject::user("carol@example.com")];
    let carol_view = NewBinding {
        cluster: "tap-prod",
        namespace: Some("apps"),
        name: "carol-view",
        role: "view",
        subjects: &carol,
    };

    rbac.create_binding(carol_view)
        .await
        .expect("create a RoleBinding");
    let kubeconfig = world.dir.path().join("kubeconfig");
    let made = kubectl_get(
        &kubeconfig,
        "tap-prod",
        &["rolebinding", "carol-view", "-n", "apps"],
    )
    .await
    .expect("kubectl sees it");
    assert_eq!(subject_names(&made), ["carol@example.com"]);
    assert_eq!(made["roleRef"]["kind"], "ClusterRole");

    let error = rbac.create_binding(carol_view).await.expect_err("exists");
    assert_eq!(error.kind, FailureKind::Conflict);
    assert_eq!(error.status, Some(409));
}

#[tokio::test]
async fn an_unknown_cluster_is_not_found() {
    let world = world(DataSet::Demo).await;
    let error = ClusterRbac::bindings(world.clients.rbac.as_ref(), "tap-nowhere")
        .await
        .expect_err("not configured");
    assert_eq!(error.kind, FailureKind::NotFound);
    assert!(error.fix.contains("[[tap]]"), "{error}");
}

/// An exec plugin that records what it was told and whether it could read anything on stdin,
/// then hands out the sandbox's token.
#[tokio::test]
async fn exec_credential_plugins_run_non_interactively() {
    let world = world(DataSet::Demo).await;
    let dir = world.dir.path();
    let plugin = dir.join("plugin.sh");
    let token = world.sandbox.k8s_token().to_string();
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\n\
             printf '%s' \"$KUBERNETES_EXEC_INFO\" > '{info}'\n\
             cat > '{stdin}'\n\
             printf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'\n",
            info = dir.join("exec-info.json").display(),
            stdin = dir.join("stdin-seen").display(),
        ),
    )
    .expect("write plugin");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let kubeconfig = std::fs::read_to_string(dir.join("kubeconfig")).expect("read kubeconfig");
    let exec = format!(
        "exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: IfAvailable",
        plugin.display()
    );
    std::fs::write(
        dir.join("kubeconfig"),
        kubeconfig.replace(&format!("token: {token}"), &exec),
    )
    .expect("write kubeconfig");

    let clients = clients::build(&world.config, fast_options())
        .await
        .expect("build");
    ClusterRbac::bindings(clients.rbac.as_ref(), "tap-dev")
        .await
        .expect("the plugin's token works");

    let info: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("exec-info.json")).expect("the plugin ran"),
    )
    .expect("exec info JSON");
    assert_eq!(info["spec"]["interactive"], false, "{info}");
    let seen = std::fs::read(dir.join("stdin-seen")).expect("stdin record");
    assert!(seen.is_empty(), "the plugin read nothing on stdin");
}
