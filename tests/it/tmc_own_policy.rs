//! Which entry of a TMC `policyList` is the resource's own (issue 10, item 4): never a guessed
//! `rid` form. The cluster `rid` is attested; otherwise the uid of the policy our own PATCH
//! answered with (the Terraform provider's way), else TMC's effective-policy view of the
//! resource, whose entries say whether they are inherited (the migration scripts' way).

use crate::api_shapes::{assert_same_shape, fixture};
use crate::support::clients::world;
use crate::support::common::{get_json, token_for};
use tanzu_mcp::access::ports::{Subject, TmcIam, TmcRoleBinding, TmcScope};
use tanzu_mcp::sandbox::DataSet;

const EFFECTIVE: &str = "GET /v1alpha1/iam/effective";

fn subjects_of<'a>(bindings: &'a [TmcRoleBinding], role: &str) -> &'a [Subject] {
    bindings
        .iter()
        .find(|b| b.role == role)
        .map_or(&[], |b| b.subjects.as_slice())
}

fn team_a_namespace() -> TmcScope {
    TmcScope::Namespace {
        cluster: "dev-cluster-1".into(),
        name: "team-a".into(),
        management_cluster: "attached".into(),
        provisioner: "attached".into(),
    }
}

#[tokio::test]
async fn a_namespace_policy_is_told_from_inherited_ones_by_the_effective_view() {
    let world = world(DataSet::Demo).await;
    let tmc: &dyn TmcIam = world.clients.tmc.as_ref();
    let ns = tmc
        .policy(&team_a_namespace())
        .await
        .expect("namespace policy");
    assert_eq!(
        subjects_of(&ns, "namespace.edit"),
        [Subject::user("alice@example.com")]
    );
    assert!(
        subjects_of(&ns, "workspace.edit").is_empty(),
        "the workspace's policy is inherited: {ns:?}"
    );
    assert!(
        world.requests(EFFECTIVE).await > 0,
        "asked TMC rather than guess a rid"
    );

    // A workspace with only inherited policies has no own bindings.
    let ws = tmc
        .policy(&TmcScope::Workspace {
            name: "team-b".into(),
        })
        .await
        .expect("workspace policy");
    assert!(ws.is_empty(), "{ws:?}");

    // A cluster's own policy is named by its attested rid: no extra request.
    let before = world.requests(EFFECTIVE).await;
    let cluster = tmc
        .policy(&TmcScope::Cluster {
            name: "dev-cluster-1".into(),
            management_cluster: "attached".into(),
            provisioner: "attached".into(),
        })
        .await
        .expect("cluster policy");
    assert_eq!(
        subjects_of(&cluster, "cluster.admin"),
        [Subject::user("alice@example.com")]
    );
    assert_eq!(world.requests(EFFECTIVE).await, before);
}

#[tokio::test]
async fn after_a_patch_the_policy_is_picked_by_the_uid_it_answered_with() {
    let world = world(DataSet::Demo).await;
    let tmc: &dyn TmcIam = world.clients.tmc.as_ref();
    let scope = TmcScope::Workspace {
        name: "team-b".into(),
    };
    let bob = Subject::user("bob@example.com");
    tmc.add_binding(&scope, "workspace.view", &bob)
        .await
        .expect("add");
    let before = world.requests(EFFECTIVE).await;
    let policy = tmc.policy(&scope).await.expect("read");
    assert_eq!(
        subjects_of(&policy, "workspace.view"),
        std::slice::from_ref(&bob)
    );
    assert_eq!(
        world.requests(EFFECTIVE).await,
        before,
        "the PATCH answer's meta.uid names the policy"
    );
}

#[tokio::test]
async fn the_sandbox_answers_the_effective_view_in_the_fixtures_shape() {
    let world = world(DataSet::Demo).await;
    let token = token_for(&world.sandbox).await;
    let (_, workspaces) = get_json(&format!("{}/v1alpha1/workspaces", world.base), &token).await;
    let uid = workspaces["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["fullName"]["name"] == "team-a")
        .expect("team-a listed")["meta"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let url = format!(
        "{}/v1alpha1/iam/effective?searchScope.targetResourceUid={uid}&includeTotalCount=true",
        world.base
    );
    let (status, body) = get_json(&url, &token).await;
    assert_eq!(status, 200, "{body}");
    let want = fixture("tmc/iam.effective.json");
    assert_same_shape(&body, &want, "effective", true);
    let entries = body["effective"].as_array().unwrap();
    for entry in entries {
        assert_same_shape(entry, &want["effective"][0], "effective[]", true);
    }
    let direct: Vec<_> = entries
        .iter()
        .filter(|e| e["spec"]["inherited"] == false)
        .collect();
    assert_eq!(direct.len(), 1, "{body}");
    assert_eq!(
        direct[0]["spec"]["policySpec"]["roleBindings"][0]["role"],
        "workspace.edit"
    );
}
