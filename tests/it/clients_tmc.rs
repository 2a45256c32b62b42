//! The TMC client against the sandbox: listings through offset pages, the policy attached to
//! each scope, and changes made by PATCH deltas only.

use crate::support::clients::world;
use tanzu_mcp::access::ports::{FailureKind, Subject, TmcCluster, TmcIam, TmcScope};
use tanzu_mcp::sandbox::DataSet;

fn attached(name: &str) -> TmcScope {
    TmcScope::Cluster {
        name: name.into(),
        management_cluster: "attached".into(),
        provisioner: "attached".into(),
    }
}

fn subjects_of(bindings: &[tanzu_mcp::access::ports::TmcRoleBinding], role: &str) -> Vec<Subject> {
    bindings
        .iter()
        .filter(|b| b.role == role)
        .flat_map(|b| b.subjects.clone())
        .collect()
}

#[tokio::test]
async fn listings_follow_offset_pages_to_the_end() {
    let world = world(DataSet::Demo).await;
    let tmc: &dyn TmcIam = world.clients.tmc.as_ref();

    let mut clusters = tmc.clusters().await.expect("clusters");
    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["dev-cluster-1", "dev-cluster-2", "prod-cluster-1"]);
    assert!(
        clusters
            .iter()
            .all(|c| c.management_cluster == "attached" && c.provisioner == "attached")
    );

    let mut groups = tmc.cluster_groups().await.expect("cluster groups");
    groups.sort();
    assert_eq!(groups, ["default", "dev-group", "prod-group"]);
    let mut workspaces = tmc.workspaces().await.expect("workspaces");
    workspaces.sort();
    assert_eq!(workspaces, ["default", "team-a", "team-b"]);
    let cluster = TmcCluster {
        name: "dev-cluster-1".into(),
        management_cluster: "attached".into(),
        provisioner: "attached".into(),
    };
    let mut namespaces = tmc.namespaces(&cluster).await.expect("namespaces");
    namespaces.sort();
    assert_eq!(namespaces, ["default", "kube-system", "team-a", "team-b"]);
    let roles = tmc.roles().await.expect("roles");
    assert!(roles.iter().any(|r| r == "cluster.admin"), "{roles:?}");
    assert!(roles.len() > 2, "more than one page of roles");
}

#[tokio::test]
async fn policy_is_the_one_attached_to_the_scope_itself() {
    let world = world(DataSet::Demo).await;
    let tmc: &dyn TmcIam = world.clients.tmc.as_ref();

    let org = tmc
        .policy(&TmcScope::Organization)
        .await
        .expect("org policy");
    assert_eq!(
        subjects_of(&org, "organization.view"),
        [Subject::user("alice@example.com")]
    );
    assert_eq!(
        subjects_of(&org, "organization.admin"),
        [Subject::group("Platform-Admins")]
    );

    let cluster = tmc
        .policy(&attached("dev-cluster-1"))
        .await
        .expect("cluster policy");
    assert_eq!(
        subjects_of(&cluster, "cluster.admin"),
        [Subject::user("alice@example.com")]
    );
    assert_eq!(
        subjects_of(&cluster, "cluster.view"),
        [Subject::user("bob@example.com")]
    );
    assert!(
        subjects_of(&cluster, "clustergroup.edit").is_empty()
            && subjects_of(&cluster, "organization.view").is_empty(),
        "inherited policies are left out: {cluster:?}"
    );

    let namespace = TmcScope::Namespace {
        cluster: "dev-cluster-1".into(),
        name: "team-a".into(),
        management_cluster: "attached".into(),
        provisioner: "attached".into(),
    };
    let ns = tmc.policy(&namespace).await.expect("namespace policy");
    assert_eq!(
        subjects_of(&ns, "namespace.edit"),
        [Subject::user("alice@example.com")]
    );
    let ws = tmc
        .policy(&TmcScope::Workspace {
            name: "team-a".into(),
        })
        .await
        .expect("workspace policy");
    assert_eq!(
        subjects_of(&ws, "workspace.edit"),
        [Subject::user("alice@example.com")]
    );
    let cg = tmc
        .policy(&TmcScope::ClusterGroup {
            name: "prod-group".into(),
        })
        .await
        .expect("cluster group policy");
    assert_eq!(
        subjects_of(&cg, "clustergroup.view"),
        [Subject::group("platform-admins")]
    );

    let none = tmc
        .policy(&attached("dev-cluster-2"))
        .await
        .expect("no own policy");
    assert!(none.is_empty(), "only inherited policies: {none:?}");

    let error = tmc
        .policy(&attached("no-such-cluster"))
        .await
        .expect_err("unknown");
    assert_eq!(error.kind, FailureKind::NotFound);
    assert!(
        error.to_string().contains("cluster 'no-such-cluster'"),
        "{error}"
    );
}

#[tokio::test]
async fn subjects_are_added_and_removed_by_patch_never_put() {
    let world = world(DataSet::Demo).await;
    let tmc: &dyn TmcIam = world.clients.tmc.as_ref();
    let scope = attached("dev-cluster-2");
    let bob = Subject::user("bob@example.com");

    tmc.add_binding(&scope, "cluster.edit", &bob)
        .await
        .expect("add");
    let policy = tmc.policy(&scope).await.expect("read");
    assert_eq!(
        subjects_of(&policy, "cluster.edit"),
        std::slice::from_ref(&bob)
    );

    tmc.remove_binding(&scope, "cluster.edit", &bob)
        .await
        .expect("remove");
    let policy = tmc.policy(&scope).await.expect("read");
    assert!(subjects_of(&policy, "cluster.edit").is_empty());

    assert_eq!(world.requests_matching("PATCH", ":iam").await, 2);
    assert_eq!(
        world.requests_matching("PUT", ":iam").await,
        0,
        "a whole-policy PUT races other writers"
    );
}

#[tokio::test]
async fn a_refused_delta_is_a_typed_error_with_the_servers_message() {
    let world = world(DataSet::Demo).await;
    let tmc: &dyn TmcIam = world.clients.tmc.as_ref();
    let error = tmc
        .add_binding(
            &attached("dev-cluster-1"),
            "no.such.role",
            &Subject::user("bob@example.com"),
        )
        .await
        .expect_err("unknown role");
    assert_eq!(error.kind, FailureKind::Invalid);
    assert_eq!(error.status, Some(400));
    assert!(error.message.contains("no.such.role"), "{error}");
}
