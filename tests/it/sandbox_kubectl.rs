//! The real kubectl against a running sandbox, through the kubeconfig `write_config` writes.
//!
//! kubectl is required: set `KUBECTL` to its path or have it on PATH (CI installs it). A
//! missing kubectl fails these tests; it never skips them.

use crate::support::common;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tanzu_mcp::sandbox::{DataSet, Sandbox};

fn kubectl_path() -> PathBuf {
    if let Some(path) = std::env::var_os("KUBECTL") {
        return PathBuf::from(path);
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("kubectl"))
        .find(|candidate| candidate.is_file());
    on_path.unwrap_or_else(|| {
        panic!(
            "kubectl is required for this test and was not found: install kubectl (v1.32 is \
             what CI uses) or set KUBECTL=/path/to/kubectl"
        )
    })
}

/// kubectl bound to one sandbox, one context and a private discovery cache.
struct Kubectl {
    binary: PathBuf,
    kubeconfig: PathBuf,
    cache: PathBuf,
    home: PathBuf,
}

impl Kubectl {
    fn new(dir: &Path) -> Kubectl {
        Kubectl {
            binary: kubectl_path(),
            kubeconfig: dir.join("kubeconfig"),
            cache: dir.join("kube-cache"),
            home: dir.to_path_buf(),
        }
    }

    /// Run kubectl on `context`; returns stdout, failing the test with stderr on an error.
    async fn run(&self, context: &str, args: &[&str]) -> String {
        let output = tokio::process::Command::new(&self.binary)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(["--context", context, "--request-timeout", "20s"])
            .args(args)
            .env("HOME", &self.home)
            .env_remove("KUBECONFIG")
            .output()
            .await
            .expect("kubectl runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            output.status.success(),
            "kubectl {args:?} failed ({}):\n{stdout}\n{stderr}",
            output.status
        );
        stdout
    }
}

async fn sandbox_with_kubectl(data: DataSet) -> (Sandbox, tempfile::TempDir, Kubectl) {
    let (sandbox, _) = common::start_sandbox(data).await;
    let (dir, _) = common::write_config(&sandbox);
    let kubectl = Kubectl::new(dir.path());
    (sandbox, dir, kubectl)
}

fn subjects_of(list: &Value, name: &str) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|b| b["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{name} is listed"))["subjects"]
        .as_array()
        .expect("subjects")
        .iter()
        .map(|s| {
            format!(
                "{}:{}",
                s["kind"].as_str().unwrap(),
                s["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn kubectl_gets_creates_lists_and_deletes_bindings() {
    let (sandbox, _dir, kubectl) = sandbox_with_kubectl(DataSet::Demo).await;

    let json = kubectl
        .run("tap-dev", &["get", "clusterrolebindings", "-o", "json"])
        .await;
    let list: Value = serde_json::from_str(&json).expect("kubectl prints JSON");
    assert_eq!(
        subjects_of(&list, "app-editors"),
        vec!["User:alice@example.com", "User:bob@example.com"]
    );
    assert_eq!(
        subjects_of(&list, "tap-developers"),
        vec!["Group:tap-developers"]
    );
    assert_eq!(
        subjects_of(&list, "cluster-admin"),
        vec!["Group:system:masters"]
    );

    let created = kubectl
        .run(
            "tap-dev",
            &[
                "create",
                "clusterrolebinding",
                "x",
                "--clusterrole=view",
                "--user=a",
                "--user=b",
            ],
        )
        .await;
    assert_eq!(
        created.trim(),
        "clusterrolebinding.rbac.authorization.k8s.io/x created"
    );
    // What kubectl wrote is what the API serves to any client.
    let (status, x) = common::get_json(
        &format!(
            "{}/k8s/tap-dev/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/x",
            sandbox.base_url()
        ),
        sandbox.k8s_token(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(x["roleRef"]["name"], "view");
    assert_eq!(x["subjects"][0]["name"], "a");
    assert_eq!(x["subjects"][1]["name"], "b");
    assert_eq!(x["subjects"][1]["apiGroup"], "rbac.authorization.k8s.io");
    assert!(x["metadata"].get("namespace").is_none(), "{x}");

    let rolebindings = kubectl.run("tap-dev", &["get", "rolebindings", "-A"]).await;
    let row = rolebindings
        .lines()
        .find(|l| l.contains("alice-admin"))
        .unwrap_or_else(|| panic!("alice-admin listed:\n{rolebindings}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        &cells[..3],
        &["dev-team", "alice-admin", "ClusterRole/admin"]
    );
    assert!(rolebindings.starts_with("NAMESPACE"), "{rolebindings}");

    let deleted = kubectl
        .run("tap-dev", &["delete", "clusterrolebinding", "x"])
        .await;
    assert_eq!(
        deleted.trim(),
        "clusterrolebinding.rbac.authorization.k8s.io \"x\" deleted"
    );
    let (status, _) = common::get_json(
        &format!(
            "{}/k8s/tap-dev/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/x",
            sandbox.base_url()
        ),
        sandbox.k8s_token(),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn each_kubeconfig_context_reaches_its_own_cluster() {
    let (_sandbox, _dir, kubectl) = sandbox_with_kubectl(DataSet::Demo).await;
    let prod = kubectl
        .run(
            "tap-prod",
            &["get", "clusterrolebinding", "legacy-admins", "-o", "json"],
        )
        .await;
    let binding: Value = serde_json::from_str(&prod).unwrap();
    assert_eq!(binding["subjects"][0]["name"], "mallory@example.com");

    let output = tokio::process::Command::new(&kubectl.binary)
        .arg("--kubeconfig")
        .arg(&kubectl.kubeconfig)
        .arg("--cache-dir")
        .arg(&kubectl.cache)
        .args([
            "--context",
            "tap-dev",
            "get",
            "clusterrolebinding",
            "legacy-admins",
        ])
        .env("HOME", &kubectl.home)
        .output()
        .await
        .expect("kubectl runs");
    assert!(
        !output.status.success(),
        "legacy-admins exists on tap-prod only"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("NotFound") || stderr.contains("not found"),
        "{stderr}"
    );
}

#[tokio::test]
async fn kubectl_creates_a_role_binding_in_a_namespace() {
    let (_sandbox, _dir, kubectl) = sandbox_with_kubectl(DataSet::Demo).await;
    let created = kubectl
        .run(
            "tap-staging",
            &[
                "create",
                "rolebinding",
                "apps-viewers",
                "-n",
                "apps",
                "--clusterrole=view",
                "--group=tap-developers",
            ],
        )
        .await;
    assert!(created.contains("rolebinding.rbac.authorization.k8s.io/apps-viewers created"));
    let listed = kubectl
        .run(
            "tap-staging",
            &["get", "rolebindings", "-n", "apps", "-o", "json"],
        )
        .await;
    let list: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(
        subjects_of(&list, "apps-viewers"),
        vec!["Group:tap-developers"]
    );
}
