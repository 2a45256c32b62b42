//! Where the sandbox had drifted from the real APIs (issue 10, item 7), pinned: the roles
//! listing in the Terraform provider's role shape with a custom role that policies accept,
//! namespaces inheriting from their workspace (not their cluster), and CSP errors with an
//! integer `moduleCode`.

use crate::api_shapes::{assert_same_shape, fixture};
use crate::support::clients::world;
use crate::support::common::{ORG_ID, get_json, send_json, token_for};
use reqwest::Method;
use serde_json::json;
use tanzu_mcp::access::ports::{Subject, TmcIam, TmcScope};
use tanzu_mcp::sandbox::DataSet;

#[tokio::test]
async fn custom_roles_are_listed_in_the_role_shape_and_can_be_bound() {
    let world = world(DataSet::Demo).await;
    let token = token_for(&world.sandbox).await;
    let (status, body) = get_json(
        &format!("{}/v1alpha1/iam/roles?includeTotalCount=true", world.base),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    let want = fixture("tmc/roles.list.json");
    assert_same_shape(&body, &want, "roles", true);
    for role in body["roles"].as_array().unwrap() {
        assert_same_shape(role, &want["roles"][0], "role", true);
    }
    let custom = body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["fullName"]["name"] == "app-deployer")
        .expect("the custom role is listed");
    assert_eq!(custom["spec"]["isInbuilt"], false);

    let tmc: &dyn TmcIam = world.clients.tmc.as_ref();
    assert!(
        tmc.roles()
            .await
            .unwrap()
            .iter()
            .any(|r| r == "app-deployer")
    );
    let scope = TmcScope::Cluster {
        name: "dev-cluster-2".into(),
        management_cluster: "attached".into(),
        provisioner: "attached".into(),
    };
    let bob = Subject::user("bob@example.com");
    tmc.add_binding(&scope, "app-deployer", &bob)
        .await
        .expect("TMC binds custom roles like built-in ones");
    let policy = tmc.policy(&scope).await.unwrap();
    assert!(
        policy
            .iter()
            .any(|b| b.role == "app-deployer" && b.subjects.contains(&bob)),
        "{policy:?}"
    );
}

#[tokio::test]
async fn a_namespace_inherits_from_its_workspace_not_its_cluster() {
    let world = world(DataSet::Demo).await;
    let token = token_for(&world.sandbox).await;
    let (_, body) = get_json(
        &format!(
            "{}/v1alpha1/clusters/dev-cluster-1/namespaces:iam/team-a?fullName.managementClusterName=attached&fullName.provisionerName=attached",
            world.base
        ),
        &token,
    )
    .await;
    let rids: Vec<&str> = body["policyList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["meta"]["parentReferences"][0]["rid"].as_str().unwrap())
        .collect();
    assert!(rids.iter().any(|r| r.starts_with("rid:ws:")), "{rids:?}");
    assert!(
        !rids
            .iter()
            .any(|r| r.starts_with("rid:c:") || r.starts_with("rid:cg:")),
        "dev-cluster-1's and dev-group's policies do not flow to its namespaces: {rids:?}"
    );
}

#[tokio::test]
async fn csp_errors_carry_an_integer_module_code_in_the_fixtures_shape() {
    let world = world(DataSet::Demo).await;
    let token = token_for(&world.sandbox).await;
    let url = format!("{}/csp/gateway/am/api/v2/orgs/{ORG_ID}/users", world.base);
    let body = json!({"ids": ["example.com:no-such-user"], "notifyUsers": false});
    let (status, answer) = send_json(Method::DELETE, &url, &token, &body).await;
    assert_eq!(status, 404);
    assert!(answer["moduleCode"].is_u64(), "{answer}");
    assert_same_shape(
        &answer,
        &fixture("csp/users.remove.not_found.json"),
        "error",
        true,
    );
}
