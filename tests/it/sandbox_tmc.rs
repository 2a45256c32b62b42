//! The simulated TMC over HTTP: IAM policies at every scope (GET, PATCH deltas, PUT), the
//! guide's traps, and the offset-paginated listings.

use crate::support::common::{
    ORG_ID, control, get_json, http, send_json, start_sandbox, token_for,
};
use reqwest::Method;
use serde_json::{Value, json};
use tanzu_mcp::sandbox::DataSet;

const CLUSTER_QUERY: &str =
    "fullName.managementClusterName=attached&fullName.provisionerName=attached";

fn subjects_of(policy: &Value, role: &str) -> Vec<(String, String)> {
    policy["roleBindings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["role"] == role)
        .flat_map(|b| b["subjects"].as_array().cloned().unwrap_or_default())
        .map(|s| {
            (
                s["kind"].as_str().unwrap_or_default().to_string(),
                s["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn user(name: &str) -> (String, String) {
    ("USER".to_string(), name.to_string())
}

fn group(name: &str) -> (String, String) {
    ("GROUP".to_string(), name.to_string())
}

/// The policy attached to the resource itself (its parent reference is `rid`'s prefix kind).
fn own_policy<'a>(body: &'a Value, rid_prefix: &str) -> Option<&'a Value> {
    body["policyList"].as_array()?.iter().find(|p| {
        p["meta"]["parentReferences"][0]["rid"]
            .as_str()
            .is_some_and(|r| r.starts_with(rid_prefix))
    })
}

fn delta(op: &str, role: &str, kind: &str, name: &str) -> Value {
    json!({"op": op, "role": role, "subject": {"name": name, "kind": kind}})
}

async fn patch(base: &str, token: &str, path: &str, deltas: Vec<Value>) -> (u16, Value) {
    let body = json!({"fullName": {}, "bindingDeltaList": deltas});
    send_json(Method::PATCH, &format!("{base}{path}"), token, &body).await
}

#[tokio::test]
async fn tmc_needs_a_valid_csp_access_token() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let url = format!("{base}/v1alpha1/clusters");
    let anonymous = http().get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["code"], 16);
    assert!(body["message"].is_string() && body["error"].is_string());

    let token = token_for(&sandbox).await;
    assert_eq!(get_json(&url, &token).await.0, 200);
    control(&base, "tokens/expire", &json!({})).await;
    assert_eq!(get_json(&url, &token).await.0, 401);
}

#[tokio::test]
async fn the_organization_policy_holds_the_demo_grants() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (status, body) = get_json(
        &format!("{base}/v1alpha1/organization:iam?fullName.orgId={ORG_ID}"),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let policies = body["policyList"].as_array().unwrap();
    assert_eq!(policies.len(), 1, "the organization inherits nothing");
    let org = &policies[0];
    assert!(org["meta"]["uid"].is_string());
    assert!(org["meta"]["resourceVersion"].is_string());
    assert_eq!(
        subjects_of(org, "organization.admin"),
        vec![group("Platform-Admins")]
    );
    assert_eq!(
        subjects_of(org, "organization.view"),
        vec![user("alice@example.com")]
    );
}

#[tokio::test]
async fn a_cluster_policy_lists_its_own_policy_and_the_inherited_ones() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (status, body) = get_json(
        &format!("{base}/v1alpha1/clusters:iam/dev-cluster-1?{CLUSTER_QUERY}"),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let own = own_policy(&body, "rid:c:").expect("the cluster's own policy");
    assert_eq!(
        subjects_of(own, "cluster.admin"),
        vec![user("alice@example.com")]
    );
    assert_eq!(
        subjects_of(own, "cluster.view"),
        vec![user("bob@example.com")]
    );
    let group_policy = own_policy(&body, "rid:cg:").expect("inherited from dev-group");
    assert_eq!(
        subjects_of(group_policy, "clustergroup.edit"),
        vec![user("alice@example.com")]
    );
    assert!(
        own_policy(&body, "rid:org:").is_some(),
        "inherited from the organization"
    );
}

#[tokio::test]
async fn namespace_workspace_and_leftover_policies_are_in_place() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (_, ns) = get_json(
        &format!("{base}/v1alpha1/clusters/dev-cluster-1/namespaces:iam/team-a?{CLUSTER_QUERY}"),
        &token,
    )
    .await;
    let own = own_policy(&ns, "rid:ns:").unwrap();
    assert_eq!(
        subjects_of(own, "namespace.edit"),
        vec![user("alice@example.com")]
    );
    let workspace = own_policy(&ns, "rid:ws:").expect("a namespace inherits from its workspace");
    assert_eq!(
        subjects_of(workspace, "workspace.edit"),
        vec![user("alice@example.com")]
    );

    let (_, prod) = get_json(
        &format!("{base}/v1alpha1/clusters:iam/prod-cluster-1"),
        &token,
    )
    .await;
    let own = own_policy(&prod, "rid:c:").unwrap();
    assert_eq!(
        subjects_of(own, "cluster.edit"),
        vec![user("mallory@example.com")]
    );

    let (_, prod_group) = get_json(
        &format!("{base}/v1alpha1/clustergroups:iam/prod-group"),
        &token,
    )
    .await;
    let own = own_policy(&prod_group, "rid:cg:").unwrap();
    assert_eq!(
        subjects_of(own, "clustergroup.view"),
        vec![group("platform-admins")],
        "the case trap: the real group is Platform-Admins"
    );
}

#[tokio::test]
async fn patch_adds_and_deletes_subjects_and_bumps_the_resource_version() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let path = "/v1alpha1/clusters:iam/dev-cluster-1";
    let (_, before) = get_json(&format!("{base}{path}"), &token).await;
    let version_before: u64 = own_policy(&before, "rid:c:").unwrap()["meta"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // A change of role is a DELETE delta plus an ADD delta.
    let (status, body) = patch(
        &base,
        &token,
        path,
        vec![
            delta("DELETE", "cluster.view", "USER", "bob@example.com"),
            delta("ADD", "cluster.edit", "USER", "bob@example.com"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let policy = &body["policy"];
    assert_eq!(subjects_of(policy, "cluster.view"), vec![]);
    assert_eq!(
        subjects_of(policy, "cluster.edit"),
        vec![user("bob@example.com")]
    );
    assert_eq!(
        subjects_of(policy, "cluster.admin"),
        vec![user("alice@example.com")]
    );
    let version_after: u64 = policy["meta"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(version_after > version_before);

    // Repeating the same deltas changes nothing.
    let (status, again) = patch(
        &base,
        &token,
        path,
        vec![delta("ADD", "cluster.edit", "USER", "bob@example.com")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        subjects_of(&again["policy"], "cluster.edit"),
        vec![user("bob@example.com")]
    );
}

#[tokio::test]
async fn a_policy_left_without_bindings_disappears() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let path = "/v1alpha1/clusters:iam/dev-cluster-2";
    let (_, empty) = get_json(&format!("{base}{path}"), &token).await;
    assert!(own_policy(&empty, "rid:c:").is_none());

    let (status, created) = patch(
        &base,
        &token,
        path,
        vec![delta("ADD", "cluster.view", "GROUP", "auditors")],
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let uid = created["policy"]["meta"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, listed) = get_json(&format!("{base}{path}"), &token).await;
    assert_eq!(
        own_policy(&listed, "rid:c:").unwrap()["meta"]["uid"],
        uid.as_str()
    );

    patch(
        &base,
        &token,
        path,
        vec![delta("DELETE", "cluster.view", "GROUP", "auditors")],
    )
    .await;
    let (_, after) = get_json(&format!("{base}{path}"), &token).await;
    assert!(own_policy(&after, "rid:c:").is_none(), "{after}");
}

#[tokio::test]
async fn adding_a_user_who_is_not_an_active_member_is_refused() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let path = "/v1alpha1/workspaces:iam/team-b";
    for outsider in [
        "carol@example.com",
        "mallory@example.com",
        "nobody@example.com",
    ] {
        let (status, body) = patch(
            &base,
            &token,
            path,
            vec![delta("ADD", "workspace.view", "USER", outsider)],
        )
        .await;
        assert_eq!(status, 400, "{outsider}: {body}");
        assert_eq!(body["code"], 9);
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("not an active member")
        );
    }
    // Once the invitation is accepted the same call works.
    control(
        &base,
        "invitations/accept",
        &json!({"email": "carol@example.com"}),
    )
    .await;
    let (status, _) = patch(
        &base,
        &token,
        path,
        vec![delta("ADD", "workspace.view", "USER", "carol@example.com")],
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn deleting_a_removed_members_leftover_binding_works() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (status, body) = patch(
        &base,
        &token,
        "/v1alpha1/clusters:iam/prod-cluster-1",
        vec![delta(
            "DELETE",
            "cluster.edit",
            "USER",
            "mallory@example.com",
        )],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(subjects_of(&body["policy"], "cluster.edit"), vec![]);
}

#[tokio::test]
async fn a_group_differing_only_in_case_is_accepted_like_the_real_service() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (status, body) = patch(
        &base,
        &token,
        "/v1alpha1/workspaces:iam/team-b",
        vec![delta("ADD", "workspace.view", "GROUP", "TAP-Developers")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn unknown_roles_and_roles_of_another_scope_are_refused_without_changes() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let path = "/v1alpha1/clusters:iam/dev-cluster-1";
    for role in ["cluster.superuser", "organization.admin"] {
        let (status, body) = patch(
            &base,
            &token,
            path,
            vec![
                delta("ADD", "cluster.view", "USER", "bob@example.com"),
                delta("ADD", role, "USER", "alice@example.com"),
            ],
        )
        .await;
        assert_eq!(status, 400, "{role}: {body}");
        assert_eq!(body["code"], 3);
    }
    let (status, body) = patch(
        &base,
        &token,
        path,
        vec![delta("REPLACE", "cluster.view", "USER", "bob@example.com")],
    )
    .await;
    assert_eq!((status, body["code"].clone()), (400, json!(3)));
    let (_, after) = get_json(&format!("{base}{path}"), &token).await;
    let own = own_policy(&after, "rid:c:").unwrap();
    assert_eq!(
        subjects_of(own, "cluster.view"),
        vec![user("bob@example.com")]
    );
}

#[tokio::test]
async fn unknown_resources_are_404() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    for path in [
        "/v1alpha1/clusters:iam/no-such-cluster".to_string(),
        "/v1alpha1/clusters:iam/dev-cluster-1?fullName.managementClusterName=eks".to_string(),
        "/v1alpha1/clustergroups:iam/no-such-group".to_string(),
        "/v1alpha1/workspaces:iam/no-such-workspace".to_string(),
        "/v1alpha1/clusters/dev-cluster-1/namespaces:iam/no-such-ns".to_string(),
        "/v1alpha1/organization:iam?fullName.orgId=other-org".to_string(),
        "/v1alpha1/clusters/no-such-cluster".to_string(),
    ] {
        let (status, body) = get_json(&format!("{base}{path}"), &token).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["code"], 5, "{path}");
    }
}

#[tokio::test]
async fn put_replaces_the_policy_and_checks_the_resource_version() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let url = format!("{base}/v1alpha1/clustergroups:iam/dev-group");
    let (_, current) = get_json(&url, &token).await;
    let version = own_policy(&current, "rid:cg:").unwrap()["meta"]["resourceVersion"].clone();

    let replacement = json!({
        "meta": {"resourceVersion": version},
        "roleBindings": [{"role": "clustergroup.view", "subjects": [{"name": "bob@example.com", "kind": "USER"}]}],
    });
    let (status, body) = send_json(Method::PUT, &url, &token, &replacement).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(subjects_of(&body["policy"], "clustergroup.edit"), vec![]);
    assert_eq!(
        subjects_of(&body["policy"], "clustergroup.view"),
        vec![user("bob@example.com")]
    );

    let (status, body) = send_json(Method::PUT, &url, &token, &replacement).await;
    assert_eq!(status, 409, "the same resourceVersion is now stale: {body}");
    assert_eq!(body["code"], 10);

    let delete = http().put(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(delete.status(), 200, "an empty body deletes the policy");
    let (_, after) = get_json(&url, &token).await;
    assert!(own_policy(&after, "rid:cg:").is_none());
}

#[tokio::test]
async fn put_keeps_leftovers_but_refuses_new_non_members() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let url = format!("{base}/v1alpha1/clusters:iam/prod-cluster-1");
    let keep = json!({"roleBindings": [
        {"role": "cluster.edit", "subjects": [{"name": "mallory@example.com", "kind": "USER"}]},
        {"role": "cluster.view", "subjects": [{"name": "bob@example.com", "kind": "USER"}]},
    ]});
    assert_eq!(send_json(Method::PUT, &url, &token, &keep).await.0, 200);
    let add = json!({"roleBindings": [
        {"role": "cluster.view", "subjects": [{"name": "erin@example.com", "kind": "USER"}]},
    ]});
    let (status, body) = send_json(Method::PUT, &url, &token, &add).await;
    assert_eq!((status, body["code"].clone()), (400, json!(9)));
}

#[tokio::test]
async fn clusters_are_listed_with_offset_pagination() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (status, first) = get_json(
        &format!(
            "{base}/v1alpha1/clusters?pagination.offset=0&pagination.size=2&includeTotalCount=true"
        ),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(first["totalCount"], "3");
    let names = |body: &Value, key: &str| -> Vec<String> {
        body[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["fullName"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(&first, "clusters"),
        vec!["dev-cluster-1", "dev-cluster-2"]
    );
    let cluster = &first["clusters"][0];
    assert_eq!(cluster["fullName"]["managementClusterName"], "attached");
    assert_eq!(cluster["fullName"]["provisionerName"], "attached");
    assert_eq!(cluster["fullName"]["orgId"], ORG_ID);
    assert_eq!(cluster["spec"]["clusterGroupName"], "dev-group");

    let (_, rest) = get_json(
        &format!("{base}/v1alpha1/clusters?pagination.offset=2&pagination.size=2"),
        &token,
    )
    .await;
    assert_eq!(names(&rest, "clusters"), vec!["prod-cluster-1"]);
    let (_, past) = get_json(
        &format!("{base}/v1alpha1/clusters?pagination.offset=3"),
        &token,
    )
    .await;
    assert_eq!(past["clusters"], json!([]));

    let (_, groups) = get_json(&format!("{base}/v1alpha1/clustergroups"), &token).await;
    assert_eq!(
        names(&groups, "clusterGroups"),
        vec!["default", "dev-group", "prod-group"]
    );
    let (_, workspaces) = get_json(&format!("{base}/v1alpha1/workspaces"), &token).await;
    assert_eq!(
        names(&workspaces, "workspaces"),
        vec!["default", "team-a", "team-b"]
    );
    let (_, namespaces) = get_json(
        &format!("{base}/v1alpha1/clusters/dev-cluster-2/namespaces"),
        &token,
    )
    .await;
    assert_eq!(
        names(&namespaces, "namespaces"),
        vec!["default", "kube-system", "team-a", "team-b"]
    );
    assert_eq!(
        namespaces["namespaces"][2]["spec"]["workspaceName"],
        "team-a"
    );
    let (status, _) = get_json(&format!("{base}/v1alpha1/clusters/nope/namespaces"), &token).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn single_resources_can_be_read() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    for (path, key) in [
        ("/v1alpha1/clusters/dev-cluster-1", "cluster"),
        ("/v1alpha1/clustergroups/dev-group", "clusterGroup"),
        ("/v1alpha1/workspaces/team-a", "workspace"),
        (
            "/v1alpha1/clusters/dev-cluster-1/namespaces/team-a",
            "namespace",
        ),
        ("/v1alpha1/iam/roles/cluster.admin", "role"),
    ] {
        let (status, body) = get_json(&format!("{base}{path}"), &token).await;
        assert_eq!(status, 200, "{path}");
        assert!(body[key]["fullName"]["name"].is_string(), "{path}: {body}");
    }
}

#[tokio::test]
async fn the_built_in_roles_are_listed() {
    let (sandbox, base) = start_sandbox(DataSet::Empty).await;
    let token = token_for(&sandbox).await;
    let (status, body) = get_json(
        &format!("{base}/v1alpha1/iam/roles?includeTotalCount=true"),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["fullName"]["name"].as_str().unwrap())
        .collect();
    for role in [
        "organization.admin",
        "organization.view",
        "clustergroup.edit",
        "cluster.admin",
        "namespace.edit",
        "workspace.view",
    ] {
        assert!(names.contains(&role), "{role} in {names:?}");
    }
    assert_eq!(body["totalCount"], names.len().to_string());
    assert_eq!(body["roles"][0]["spec"]["isInbuilt"], true);
}

#[tokio::test]
async fn the_empty_data_set_has_resources_but_no_policies() {
    let (sandbox, base) = start_sandbox(DataSet::Empty).await;
    let token = token_for(&sandbox).await;
    let (_, body) = get_json(
        &format!("{base}/v1alpha1/clusters:iam/dev-cluster-1"),
        &token,
    )
    .await;
    assert_eq!(body["policyList"], json!([]));
    let (_, clusters) = get_json(
        &format!("{base}/v1alpha1/clusters?includeTotalCount=true"),
        &token,
    )
    .await;
    assert_eq!(clusters["totalCount"], "3");
}
