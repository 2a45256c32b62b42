//! Access through groups is named (issue 10): the CSP groups a person is in are read
//! (`GET .../orgs/{org}/groups/{groupId}/users`), and get_user_access and the revocation plan
//! name only the bound groups that person belongs to, in one short sentence each.

use crate::api_shapes::{assert_same_shape, fixture};
use crate::support::clients::world;
use crate::support::common::{self, ORG_ID, get_json, token_for};
use crate::support::mcp::{Protocol, TestClient, connect};
use serde_json::{Value, json};
use tanzu_mcp::access::ports::Directory;
use tanzu_mcp::sandbox::DataSet;

fn warnings(access: &Value) -> Vec<String> {
    access["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_group_warning_names_the_groups_that_give_access_and_only_those() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;

    let alice = server
        .ok("get_user_access", json!({ "email": "alice@example.com" }))
        .await;
    let through: Vec<String> = warnings(&alice)
        .into_iter()
        .filter(|w| w.contains("through CSP group"))
        .collect();
    assert_eq!(through.len(), 1, "{through:?}");
    assert!(
        through[0].contains("'tap-developers'")
            && through[0].contains("app-viewer on TAP clusters tap-dev, tap-prod, tap-staging"),
        "{through:?}"
    );
    assert!(
        !through[0].contains("Platform-Admins"),
        "alice is not in Platform-Admins: {through:?}"
    );
    let size = alice.to_string().len();
    eprintln!("get_user_access alice on demo: {size} bytes: {alice}");

    // The owner is in Platform-Admins, bound organization.admin; not in tap-developers.
    let owner = server
        .ok("get_user_access", json!({ "email": "owner@example.com" }))
        .await;
    let owner_warnings = warnings(&owner).join("\n");
    assert!(
        owner_warnings.contains("'Platform-Admins'")
            && owner_warnings.contains("TMC organization.admin on organization"),
        "{owner_warnings}"
    );
    assert!(
        !owner_warnings.contains("'tap-developers'"),
        "{owner_warnings}"
    );

    // A former member is in no group: no group warning at all.
    let mallory = server
        .ok("get_user_access", json!({ "email": "mallory@example.com" }))
        .await;
    assert!(
        !warnings(&mallory).join("\n").contains("through CSP group"),
        "{mallory}"
    );

    // The revocation plan repeats the group that revoking leaves in place.
    let plan = server
        .call("revoke_all_access", json!({ "email": "alice@example.com" }))
        .await;
    let text = format!("{plan:?}");
    assert!(
        text.contains("through CSP group 'tap-developers'"),
        "{text}"
    );
}

#[tokio::test]
async fn group_members_are_listed_in_the_fixtures_shape() {
    let world = world(DataSet::Demo).await;
    let csp: &dyn Directory = world.clients.csp.as_ref();
    let groups = csp.groups().await.expect("groups");
    let developers = groups
        .iter()
        .find(|g| g.display_name == "tap-developers")
        .expect("listed");
    let ids = csp.group_member_ids(&developers.id).await.expect("members");
    assert_eq!(ids.len(), 2, "alice and bob: {ids:?}");

    let token = token_for(&world.sandbox).await;
    let url = format!(
        "{}/csp/gateway/am/api/orgs/{ORG_ID}/groups/{}/users",
        world.base, developers.id
    );
    let (status, body) = get_json(&url, &token).await;
    assert_eq!(status, 200, "{body}");
    let want = fixture("csp/groups.users.json");
    for user in body["results"].as_array().unwrap() {
        assert_same_shape(user, &want["results"][0], "group user", true);
    }
    let (status, _) = get_json(
        &format!(
            "{}/csp/gateway/am/api/orgs/{ORG_ID}/groups/no-such-group/users",
            world.base
        ),
        &token,
    )
    .await;
    assert_eq!(status, 404);
}
