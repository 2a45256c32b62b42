//! The simulated Kubernetes API servers over HTTP(S): discovery, RBAC bindings with paging,
//! writes with their conflicts, patches, tables and the demo's bindings.

use crate::support::common;
use crate::support::common::start_sandbox;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tanzu_mcp::sandbox::{DataSet, Sandbox};

const RBAC: &str = "apis/rbac.authorization.k8s.io/v1";

/// A client for one TAP cluster's API server, over plain HTTP on the sandbox port.
struct Kube {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Kube {
    fn new(sandbox: &Sandbox, cluster: &str) -> Kube {
        Kube {
            base: format!("{}/k8s/{cluster}", sandbox.base_url()),
            token: sandbox.k8s_token().to_string(),
            http: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}/{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request
                .header("content-type", content_type)
                .body(body.to_string());
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, "", None).await
    }

    async fn send(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(method, path, "application/json", Some(body))
            .await
    }

    async fn patch(&self, path: &str, content_type: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, content_type, Some(body))
            .await
    }
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            i["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

fn subjects(binding: &Value) -> Vec<(String, String)> {
    binding["subjects"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["kind"].as_str().unwrap_or_default().to_string(),
                s["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn user(name: &str) -> (String, String) {
    ("User".to_string(), name.to_string())
}

fn binding(name: &str, role: &str, users: &[&str]) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": users.iter().map(|u| json!({
            "apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": u,
        })).collect::<Vec<_>>(),
    })
}

fn assert_status(body: &Value, code: u16, reason: &str) {
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["apiVersion"], "v1");
    assert_eq!(body["status"], "Failure");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["reason"], reason, "{body}");
}

#[tokio::test]
async fn the_api_needs_the_kubeconfig_bearer_token() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let url = format!("{base}/k8s/tap-dev/{RBAC}/clusterrolebindings");
    let anonymous = reqwest::get(&url).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_status(&anonymous.json().await.unwrap(), 401, "Unauthorized");
    let csp_token = common::token_for(&sandbox).await;
    let (status, _) = common::get_json(&url, &csp_token).await;
    assert_eq!(
        status, 401,
        "a CSP access token is not a cluster credential"
    );
    let (status, _) = common::get_json(&url, sandbox.k8s_token()).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn https_on_the_same_port_serves_the_same_api() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let ca = reqwest::Certificate::from_pem(
        tanzu_mcp::sandbox::listener::ca_pem()
            .expect("the sandbox CA")
            .as_bytes(),
    )
    .expect("the sandbox CA parses");
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let url = format!(
        "https://{}/k8s/tap-dev/{RBAC}/clusterrolebindings/app-editors",
        sandbox.addr()
    );
    let response = client
        .get(&url)
        .bearer_auth(sandbox.k8s_token())
        .send()
        .await
        .expect("TLS to the sandbox, verified against its CA");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["metadata"]["name"], "app-editors");
}

#[tokio::test]
async fn discovery_lists_rbac_and_namespaces() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let kube = Kube::new(&sandbox, "tap-dev");
    let (_, api) = kube.get("api").await;
    assert_eq!(api["kind"], "APIVersions");
    assert_eq!(api["versions"], json!(["v1"]));
    let (_, core) = kube.get("api/v1").await;
    assert_eq!(core["kind"], "APIResourceList");
    assert_eq!(core["resources"][0]["name"], "namespaces");
    let (_, groups) = kube.get("apis").await;
    assert_eq!(groups["kind"], "APIGroupList");
    assert_eq!(groups["groups"][0]["name"], "rbac.authorization.k8s.io");
    assert_eq!(groups["groups"][0]["preferredVersion"]["version"], "v1");
    let (_, rbac) = kube.get(RBAC).await;
    let resources: Vec<&str> = rbac["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        resources,
        vec!["clusterrolebindings", "clusterroles", "rolebindings"]
    );
    let (_, version) = kube.get("version").await;
    assert_eq!(version["major"], "1");
    let (status, body) = Kube::new(&sandbox, "no-such-cluster").get("api").await;
    assert_eq!(status, 404);
    assert_status(&body, 404, "NotFound");
}

#[tokio::test]
async fn the_demo_bindings_are_on_every_tap_cluster() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    for cluster in ["tap-dev", "tap-staging", "tap-prod"] {
        let kube = Kube::new(&sandbox, cluster);
        let (_, editors) = kube
            .get(&format!("{RBAC}/clusterrolebindings/app-editors"))
            .await;
        assert_eq!(
            subjects(&editors),
            vec![user("alice@example.com"), user("bob@example.com")],
            "{cluster}"
        );
        assert_eq!(editors["roleRef"]["name"], "app-editor");
        let (_, developers) = kube
            .get(&format!("{RBAC}/clusterrolebindings/tap-developers"))
            .await;
        assert_eq!(
            subjects(&developers),
            vec![("Group".to_string(), "tap-developers".to_string())]
        );
        let (_, masters) = kube
            .get(&format!("{RBAC}/clusterrolebindings/cluster-admin"))
            .await;
        assert_eq!(masters["subjects"][0]["name"], "system:masters");
        let (_, namespaces) = kube.get("api/v1/namespaces").await;
        assert_eq!(
            names(&namespaces),
            vec!["apps", "default", "dev-team", "kube-system"]
        );
        let (_, roles) = kube.get(&format!("{RBAC}/clusterroles")).await;
        for role in [
            "view",
            "edit",
            "admin",
            "cluster-admin",
            "app-editor",
            "app-viewer",
            "app-operator",
        ] {
            assert!(
                names(&roles).contains(&role.to_string()),
                "{cluster} lacks {role}"
            );
        }
    }
    let dev = Kube::new(&sandbox, "tap-dev");
    let (_, alice_admin) = dev
        .get(&format!(
            "{RBAC}/namespaces/dev-team/rolebindings/alice-admin"
        ))
        .await;
    assert_eq!(subjects(&alice_admin), vec![user("alice@example.com")]);
    assert_eq!(alice_admin["metadata"]["namespace"], "dev-team");
    let (status, _) = Kube::new(&sandbox, "tap-staging")
        .get(&format!(
            "{RBAC}/namespaces/dev-team/rolebindings/alice-admin"
        ))
        .await;
    assert_eq!(status, 404, "alice-admin is on tap-dev only");

    let (_, legacy) = Kube::new(&sandbox, "tap-prod")
        .get(&format!("{RBAC}/clusterrolebindings/legacy-admins"))
        .await;
    assert_eq!(subjects(&legacy), vec![user("mallory@example.com")]);
    assert_eq!(legacy["roleRef"]["name"], "cluster-admin");
}

#[tokio::test]
async fn lists_page_with_limit_and_continue_and_end_without_a_token() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let kube = Kube::new(&sandbox, "tap-prod");
    let (_, all) = kube.get(&format!("{RBAC}/clusterrolebindings")).await;
    assert_eq!(all["kind"], "ClusterRoleBindingList");
    let everything = names(&all);
    assert_eq!(everything.len(), 7, "{everything:?}");
    assert!(all["metadata"]["continue"].is_null());
    assert!(all["metadata"]["resourceVersion"].is_string());

    for limit in [1, 2, 3, 7] {
        let mut collected = Vec::new();
        let mut path = format!("{RBAC}/clusterrolebindings?limit={limit}");
        let mut pages = 0;
        loop {
            let (status, page) = kube.get(&path).await;
            assert_eq!(status, 200, "{page}");
            pages += 1;
            assert!(names(&page).len() <= limit);
            collected.extend(names(&page));
            match page["metadata"]["continue"].as_str() {
                Some(token) => {
                    assert!(page["metadata"]["remainingItemCount"].as_i64().unwrap() > 0);
                    path = format!("{RBAC}/clusterrolebindings?limit={limit}&continue={token}");
                }
                None => break,
            }
        }
        assert_eq!(collected, everything, "limit {limit}");
        assert_eq!(
            pages,
            everything.len().div_ceil(limit),
            "limit {limit}: no empty last page"
        );
    }

    let (status, body) = kube
        .get(&format!(
            "{RBAC}/clusterrolebindings?limit=2&continue=garbage!"
        ))
        .await;
    assert_eq!(status, 400);
    assert_status(&body, 400, "BadRequest");
}

#[tokio::test]
async fn role_bindings_list_across_namespaces_or_in_one() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let kube = Kube::new(&sandbox, "tap-dev");
    let (_, all) = kube.get(&format!("{RBAC}/rolebindings")).await;
    assert_eq!(all["kind"], "RoleBindingList");
    assert_eq!(names(&all), vec!["alice-admin"]);
    let (_, apps) = kube
        .get(&format!("{RBAC}/namespaces/apps/rolebindings"))
        .await;
    assert_eq!(names(&apps), Vec::<String>::new());
    let (_, selected) = kube
        .get(&format!(
            "{RBAC}/rolebindings?fieldSelector=metadata.namespace%3Ddev-team"
        ))
        .await;
    assert_eq!(names(&selected), vec!["alice-admin"]);
}

#[tokio::test]
async fn field_selectors_pick_one_binding_by_name() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let kube = Kube::new(&sandbox, "tap-dev");
    let (_, one) = kube
        .get(&format!(
            "{RBAC}/clusterrolebindings?fieldSelector=metadata.name%3Dapp-editors"
        ))
        .await;
    assert_eq!(names(&one), vec!["app-editors"]);
    let (_, none) = kube
        .get(&format!(
            "{RBAC}/clusterrolebindings?fieldSelector=metadata.name%3Dnope"
        ))
        .await;
    assert_eq!(names(&none), Vec::<String>::new());
    let (status, _) = kube
        .get(&format!(
            "{RBAC}/clusterrolebindings?fieldSelector=spec.foo%3Dbar"
        ))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn create_get_and_already_exists() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let kube = Kube::new(&sandbox, "tap-staging");
    let path = format!("{RBAC}/clusterrolebindings");
    let (status, created) = kube
        .send(
            Method::POST,
            &path,
            binding("readers", "view", &["carol@example.com"]),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert!(created["metadata"]["uid"].is_string());
    assert!(created["metadata"]["resourceVersion"].is_string());
    assert!(created["metadata"]["creationTimestamp"].is_string());
    let (_, fetched) = kube.get(&format!("{path}/readers")).await;
    assert_eq!(fetched, created);

    let (status, body) = kube
        .send(
            Method::POST,
            &path,
            binding("readers", "view", &["dan@example.com"]),
        )
        .await;
    assert_eq!(status, 409);
    assert_status(&body, 409, "AlreadyExists");
    assert_eq!(body["details"]["name"], "readers");
    assert_eq!(body["details"]["kind"], "clusterrolebindings");

    let (status, body) = kube.get(&format!("{path}/nope")).await;
    assert_eq!(status, 404);
    assert_status(&body, 404, "NotFound");
    assert_eq!(
        body["message"],
        "clusterrolebindings.rbac.authorization.k8s.io \"nope\" not found"
    );
}

#[tokio::test]
async fn invalid_bindings_are_refused_with_422() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let kube = Kube::new(&sandbox, "tap-dev");
    let mut bad = binding("bad", "view", &["a"]);
    bad["subjects"][0]["kind"] = json!("Robot");
    let (status, body) = kube
        .send(Method::POST, &format!("{RBAC}/clusterrolebindings"), bad)
        .await;
    assert_eq!(status, 422);
    assert_status(&body, 422, "Invalid");
    assert_eq!(body["details"]["causes"][0]["field"], "subjects[0].kind");

    let mut wrong_kind = binding("bad", "view", &["a"]);
    wrong_kind["roleRef"]["kind"] = json!("Role");
    let (status, _) = kube
        .send(
            Method::POST,
            &format!("{RBAC}/clusterrolebindings"),
            wrong_kind,
        )
        .await;
    assert_eq!(status, 422, "a ClusterRoleBinding cannot reference a Role");
}

#[tokio::test]
async fn role_bindings_need_an_existing_namespace() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let kube = Kube::new(&sandbox, "tap-dev");
    let mut rb = binding("apps-edit", "edit", &["bob@example.com"]);
    rb["kind"] = json!("RoleBinding");
    let (status, body) = kube
        .send(
            Method::POST,
            &format!("{RBAC}/namespaces/nowhere/rolebindings"),
            rb.clone(),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], "namespaces \"nowhere\" not found");
    let (status, created) = kube
        .send(
            Method::POST,
            &format!("{RBAC}/namespaces/apps/rolebindings"),
            rb,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["metadata"]["namespace"], "apps");
    let (_, all) = kube.get(&format!("{RBAC}/rolebindings")).await;
    assert_eq!(names(&all), vec!["apps-edit", "alice-admin"]);
}

#[tokio::test]
async fn updates_check_the_resource_version_and_keep_role_ref_immutable() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let kube = Kube::new(&sandbox, "tap-dev");
    let path = format!("{RBAC}/clusterrolebindings/app-editors");
    let (_, current) = kube.get(&path).await;
    let version = current["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();

    // Remove bob, keep alice: the way a revocation edits a shared binding.
    let mut edited = current.clone();
    edited["subjects"] = json!([current["subjects"][0]]);
    let (status, updated) = kube.send(Method::PUT, &path, edited.clone()).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(subjects(&updated), vec![user("alice@example.com")]);
    let new_version = updated["metadata"]["resourceVersion"].as_str().unwrap();
    assert!(new_version.parse::<u64>().unwrap() > version.parse::<u64>().unwrap());
    assert_eq!(updated["metadata"]["uid"], current["metadata"]["uid"]);

    // The same edit again carries the old resourceVersion: a lost race.
    let (status, body) = kube.send(Method::PUT, &path, edited).await;
    assert_eq!(status, 409);
    assert_status(&body, 409, "Conflict");

    let mut retarget = updated.clone();
    retarget["roleRef"]["name"] = json!("cluster-admin");
    let (status, body) = kube.send(Method::PUT, &path, retarget).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("cannot change roleRef")
    );

    let mut misnamed = updated.clone();
    misnamed["metadata"]["name"] = json!("other");
    let (status, _) = kube.send(Method::PUT, &path, misnamed).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn json_patch_with_a_test_removes_one_subject_safely() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let kube = Kube::new(&sandbox, "tap-staging");
    let path = format!("{RBAC}/clusterrolebindings/app-editors");
    let remove_alice = json!([
        {"op": "test", "path": "/subjects/0/name", "value": "alice@example.com"},
        {"op": "remove", "path": "/subjects/0"},
    ]);
    let (status, patched) = kube
        .patch(&path, "application/json-patch+json", remove_alice.clone())
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(subjects(&patched), vec![user("bob@example.com")]);
    // Replaying it fails the test op instead of removing bob.
    let (status, body) = kube
        .patch(&path, "application/json-patch+json", remove_alice)
        .await;
    assert_eq!(status, 422, "{body}");
    let (_, after) = kube.get(&path).await;
    assert_eq!(subjects(&after), vec![user("bob@example.com")]);
}

#[tokio::test]
async fn merge_patches_replace_subjects_and_honour_a_stale_resource_version() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let kube = Kube::new(&sandbox, "tap-prod");
    let path = format!("{RBAC}/clusterrolebindings/tap-developers");
    let (_, current) = kube.get(&path).await;
    let patch = json!({
        "metadata": {"resourceVersion": current["metadata"]["resourceVersion"]},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "auditors"}],
    });
    let (status, patched) = kube
        .patch(&path, "application/merge-patch+json", patch.clone())
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["subjects"][0]["name"], "auditors");
    let (status, body) = kube
        .patch(&path, "application/merge-patch+json", patch)
        .await;
    assert_eq!(status, 409);
    assert_status(&body, 409, "Conflict");
    let (status, _) = kube
        .patch(&path, "application/apply-patch+yaml", json!({}))
        .await;
    assert_eq!(status, 415);
}

#[tokio::test]
async fn delete_answers_a_success_status_and_honours_preconditions() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let kube = Kube::new(&sandbox, "tap-prod");
    let path = format!("{RBAC}/clusterrolebindings/legacy-admins");
    let stale = json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"resourceVersion": "1"}});
    let (status, body) = kube.send(Method::DELETE, &path, stale).await;
    assert_eq!(status, 409, "{body}");

    let (status, body) = kube.call(Method::DELETE, &path, "", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["status"], "Success");
    assert_eq!(body["details"]["name"], "legacy-admins");
    let (status, body) = kube.call(Method::DELETE, &path, "", None).await;
    assert_eq!(status, 404);
    assert_status(&body, 404, "NotFound");
}

#[tokio::test]
async fn dry_run_validates_without_storing() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let kube = Kube::new(&sandbox, "tap-dev");
    let (status, _) = kube
        .send(
            Method::POST,
            &format!("{RBAC}/clusterrolebindings?dryRun=All"),
            binding("ghost", "view", &["a"]),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = kube.get(&format!("{RBAC}/clusterrolebindings/ghost")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn kubectl_style_table_requests_get_a_table() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let response = reqwest::Client::new()
        .get(format!(
            "{}/k8s/tap-dev/{RBAC}/rolebindings",
            sandbox.base_url()
        ))
        .bearer_auth(sandbox.k8s_token())
        .header(
            "accept",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        )
        .send()
        .await
        .unwrap();
    let table: Value = response.json().await.unwrap();
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["columnDefinitions"][1]["name"], "Role");
    assert_eq!(table["rows"][0]["cells"][0], "alice-admin");
    assert_eq!(table["rows"][0]["cells"][1], "ClusterRole/admin");
    assert_eq!(
        table["rows"][0]["object"]["metadata"]["namespace"],
        "dev-team"
    );
}

#[tokio::test]
async fn the_empty_data_set_keeps_only_system_bindings() {
    let (sandbox, _) = start_sandbox(DataSet::Empty).await;
    let kube = Kube::new(&sandbox, "tap-dev");
    let (_, crbs) = kube.get(&format!("{RBAC}/clusterrolebindings")).await;
    assert!(
        names(&crbs)
            .iter()
            .all(|n| n.starts_with("system:") || n == "cluster-admin")
    );
    let (_, rbs) = kube.get(&format!("{RBAC}/rolebindings")).await;
    assert_eq!(names(&rbs), Vec::<String>::new());
}

#[tokio::test]
async fn the_large_data_set_has_fifty_tap_clusters() {
    let (sandbox, _) = start_sandbox(DataSet::Large).await;
    let clusters = sandbox.tap_clusters();
    assert_eq!(clusters.len(), 50);
    assert_eq!(
        (clusters[0].as_str(), clusters[49].as_str()),
        ("tap-001", "tap-050")
    );
    let (status, _) = Kube::new(&sandbox, "tap-001")
        .get(&format!(
            "{RBAC}/namespaces/dev-team/rolebindings/alice-admin"
        ))
        .await;
    assert_eq!(status, 200);
    let (status, _) = Kube::new(&sandbox, "tap-050")
        .get(&format!("{RBAC}/clusterrolebindings/legacy-admins"))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn single_cluster_roles_namespaces_and_the_group_document_can_be_read() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let kube = Kube::new(&sandbox, "tap-dev");
    let (status, role) = kube.get(&format!("{RBAC}/clusterroles/app-editor")).await;
    assert_eq!(status, 200);
    assert_eq!(role["kind"], "ClusterRole");
    assert!(role["rules"].as_array().is_some_and(|r| !r.is_empty()));
    let (status, body) = kube.get(&format!("{RBAC}/clusterroles/nope")).await;
    assert_eq!(status, 404);
    assert_eq!(body["details"]["kind"], "clusterroles");
    let (status, namespace) = kube.get("api/v1/namespaces/dev-team").await;
    assert_eq!(status, 200);
    assert_eq!(namespace["status"]["phase"], "Active");
    let (status, body) = kube.get("api/v1/namespaces/nope").await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], "namespaces \"nope\" not found");
    let (_, group) = kube.get("apis/rbac.authorization.k8s.io").await;
    assert_eq!(group["kind"], "APIGroup");
    assert_eq!(
        group["preferredVersion"]["groupVersion"],
        "rbac.authorization.k8s.io/v1"
    );
}

#[tokio::test]
async fn role_bindings_are_updated_patched_and_deleted_in_their_namespace() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let kube = Kube::new(&sandbox, "tap-dev");
    let path = format!("{RBAC}/namespaces/dev-team/rolebindings/alice-admin");
    let (_, current) = kube.get(&path).await;

    let mut shared = current.clone();
    shared["subjects"].as_array_mut().unwrap().push(
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob@example.com"}),
    );
    let (status, updated) = kube.send(Method::PUT, &path, shared).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        subjects(&updated),
        vec![user("alice@example.com"), user("bob@example.com")]
    );

    let mut elsewhere = updated.clone();
    elsewhere["metadata"]["namespace"] = json!("apps");
    let (status, _) = kube.send(Method::PUT, &path, elsewhere).await;
    assert_eq!(status, 400, "the body's namespace must match the URL's");

    let remove_alice = json!([
        {"op": "test", "path": "/subjects/0/name", "value": "alice@example.com"},
        {"op": "remove", "path": "/subjects/0"},
    ]);
    let (status, patched) = kube
        .patch(&path, "application/json-patch+json", remove_alice)
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(subjects(&patched), vec![user("bob@example.com")]);

    let (status, _) = kube.call(Method::DELETE, &path, "", None).await;
    assert_eq!(status, 200);
    let (_, all) = kube.get(&format!("{RBAC}/rolebindings")).await;
    assert_eq!(names(&all), Vec::<String>::new());
}

#[tokio::test]
async fn an_update_of_a_missing_binding_creates_it() {
    let (sandbox, _) = start_sandbox(DataSet::Demo).await;
    let kube = Kube::new(&sandbox, "tap-dev");
    let path = format!("{RBAC}/clusterrolebindings/fresh");
    let (status, created) = kube
        .send(
            Method::PUT,
            &path,
            binding("fresh", "view", &["bob@example.com"]),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(kube.get(&path).await.0, 200);
}
