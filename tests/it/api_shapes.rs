//! The real Tanzu shapes pinned (issue 10): the clients use CSP's and TMC's public routes and
//! fields, and the sandbox answers in the shapes of `tests/fixtures/` (sources in its README).

use crate::support::clients::world;
use crate::support::common::{ORG_ID, get_json, http, send_json, start_sandbox, token_for};
use reqwest::Method;
use serde_json::{Value, json};
use tanzu_mcp::access::ports::{Directory, FailureKind, InvitationStatus, TmcCluster, TmcIam};
use tanzu_mcp::sandbox::DataSet;

pub(crate) fn fixture(path: &str) -> Value {
    let file = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every field the sandbox answers exists in the fixture with the same JSON type, nested
/// objects alike; with `exact`, the fixture has no field the sandbox lacks either.
pub(crate) fn assert_same_shape(sandbox: &Value, fixture: &Value, at: &str, exact: bool) {
    let (Some(got), Some(want)) = (sandbox.as_object(), fixture.as_object()) else {
        assert_eq!(json_type(sandbox), json_type(fixture), "type of {at}");
        return;
    };
    for (key, value) in got {
        let expected = want
            .get(key)
            .unwrap_or_else(|| panic!("{at}.{key}: the sandbox serves a field the real API lacks"));
        assert_same_shape(value, expected, &format!("{at}.{key}"), exact);
    }
    if exact {
        for key in want.keys() {
            assert!(got.contains_key(key), "{at}.{key}: missing in the sandbox");
        }
    }
}

fn invitations_url(base: &str) -> String {
    format!("{base}/csp/gateway/am/api/orgs/{ORG_ID}/invitations")
}

#[tokio::test]
async fn revoking_an_invitation_is_a_delete_of_its_ref_link() {
    let world = world(DataSet::Demo).await;
    let csp: &dyn Directory = world.clients.csp.as_ref();
    let carol = csp
        .invitations()
        .await
        .expect("list")
        .into_iter()
        .find(|i| i.email == "carol@example.com")
        .expect("carol is invited");
    csp.revoke_invitation(&carol.id).await.expect("revoke");
    assert_eq!(
        world
            .requests("DELETE /csp/gateway/am/api/orgs/{org_id}/invitations/{invitation_id}")
            .await,
        1
    );
    let after = csp.invitations().await.expect("list");
    let carol = after.iter().find(|i| i.id == carol.id).expect("listed");
    assert_eq!(carol.status, InvitationStatus::Revoked);

    // The route CSP does not have is not served either.
    let token = token_for(&world.sandbox).await;
    let wrong = http()
        .post(format!(
            "{}/{}?action=revoke",
            invitations_url(&world.base),
            carol.id
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 405);
}

#[tokio::test]
async fn the_sandbox_lists_invitations_in_the_real_fields_only() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (status, body) = get_json(&invitations_url(&base), &token).await;
    assert_eq!(status, 200);
    let want = &fixture("csp/invitations.list.json")[0];
    for invitation in body.as_array().expect("a bare array") {
        assert_same_shape(invitation, want, "invitation", true);
        assert!(
            invitation.get("id").is_none(),
            "the id lives in refLink only"
        );
    }
}

#[tokio::test]
async fn removing_ids_that_are_not_members_is_csps_404_and_reads_as_absent() {
    let world = world(DataSet::Demo).await;
    let token = token_for(&world.sandbox).await;
    let url = format!("{}/csp/gateway/am/api/v2/orgs/{ORG_ID}/users", world.base);
    let body = json!({"ids": ["example.com:no-such-user"], "notifyUsers": false});
    let (status, answer) = send_json(Method::DELETE, &url, &token, &body).await;
    assert_eq!(status, 404);
    let want = fixture("csp/users.remove.not_found.json");
    assert_eq!(answer["message"], want["message"]);

    let csp: &dyn Directory = world.clients.csp.as_ref();
    let error = csp
        .remove_members(&["example.com:no-such-user".into()])
        .await
        .expect_err("CSP's 404");
    assert_eq!(error.kind, FailureKind::NotFound, "{error}");
}

#[tokio::test]
async fn tmc_listings_give_a_total_only_when_asked_and_the_client_asks() {
    let world = world(DataSet::Demo).await;
    let token = token_for(&world.sandbox).await;
    let clusters = format!("{}/v1alpha1/clusters", world.base);
    let (status, plain) = get_json(&clusters, &token).await;
    assert_eq!(status, 200);
    assert!(plain.get("totalCount").is_none(), "{plain}");
    let (_, counted) = get_json(&format!("{clusters}?includeTotalCount=true"), &token).await;
    assert_eq!(counted["totalCount"], "3");
    assert_same_shape(
        &counted,
        &fixture("tmc/clusters.list.json"),
        "clusters",
        false,
    );
    let item = &counted["clusters"][0];
    assert_same_shape(
        item,
        &fixture("tmc/clusters.list.json")["clusters"][0],
        "cluster",
        true,
    );

    // Pages of 2: without the total, three clusters would stop at the first page.
    let tmc: &dyn TmcIam = world.clients.tmc.as_ref();
    assert_eq!(tmc.clusters().await.expect("clusters").len(), 3);
}

#[tokio::test]
async fn namespaces_are_scoped_by_search_scope() {
    let world = world(DataSet::Demo).await;
    let tmc: &dyn TmcIam = world.clients.tmc.as_ref();
    let elsewhere = TmcCluster {
        name: "dev-cluster-1".into(),
        management_cluster: "eks-prod".into(),
        provisioner: "attached".into(),
    };
    let namespaces = tmc.namespaces(&elsewhere).await.expect("namespaces");
    assert!(
        namespaces.is_empty(),
        "a same-named cluster elsewhere is another cluster: {namespaces:?}"
    );

    let token = token_for(&world.sandbox).await;
    let url = format!(
        "{}/v1alpha1/clusters/dev-cluster-1/namespaces?searchScope.managementClusterName=att*&unknownField=x",
        world.base
    );
    let (status, body) = get_json(&url, &token).await;
    assert_eq!(status, 200);
    let want = fixture("tmc/namespaces.list.json");
    assert_same_shape(
        &body["namespaces"][0],
        &want["namespaces"][0],
        "namespace",
        true,
    );
    assert_eq!(body["namespaces"].as_array().unwrap().len(), 4);
}

/// CSP requests the sandbox saw (token exchanges aside), from `/_sandbox/stats`.
async fn csp_requests(base: &str) -> u64 {
    let stats: Value = http()
        .get(format!("{base}/_sandbox/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["requests"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, _)| route.contains("/csp/") && !route.contains("api-tokens"))
        .map(|(_, n)| n.as_u64().unwrap_or(0))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_non_member_on_a_large_org_is_looked_up_in_at_most_five_csp_requests() {
    use crate::support::common::write_config;
    use crate::support::mcp::{Protocol, TestClient, connect};
    let (sandbox, base) = start_sandbox(DataSet::Large).await;
    let (_dir, toml) = write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let before = csp_requests(&base).await;
    let nobody = server
        .ok(
            "get_user_access",
            json!({ "email": "nobody-here@example.com" }),
        )
        .await;
    assert_ne!(nobody["status"], "ACTIVE", "{nobody}");
    let used = csp_requests(&base).await - before;
    eprintln!("CSP requests for a non-member on --data large: {used}");
    assert!(
        used <= 5,
        "{used} CSP requests (walking every page took 52)"
    );
}

#[tokio::test]
async fn the_user_search_finds_members_in_the_listing_shape() {
    let world = world(DataSet::Demo).await;
    let csp: &dyn Directory = world.clients.csp.as_ref();
    let bob = csp
        .find_member("Bob@Example.com")
        .await
        .expect("search")
        .expect("bob is a member");
    assert_eq!(bob.email, "bob@example.com");
    assert_eq!(
        world
            .requests("GET /csp/gateway/am/api/orgs/{org_id}/users/search")
            .await,
        1
    );
    assert_eq!(
        world
            .requests("GET /csp/gateway/am/api/v2/orgs/{org_id}/users")
            .await,
        0,
        "no page walk"
    );
}
