//! The sandbox answers in the fixtures' shapes (issue 10): the IAM policy read, the groups
//! listing, the token exchange, the CSP users page and user search, the invitation request
//! and its answer, the TMC cluster group and workspace listings and the single-resource
//! reads, field for field and type for type.

use crate::api_shapes::{assert_same_shape, fixture};
use crate::support::common::{ORG_ID, get_json, http, start_sandbox, token_for};
use serde_json::Value;
use tanzu_mcp::sandbox::DataSet;

#[tokio::test]
async fn policy_groups_and_token_answers_have_the_fixtures_fields_and_types() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;

    let (status, policy) = get_json(
        &format!("{base}/v1alpha1/clusters:iam/dev-cluster-1?fullName.managementClusterName=attached&fullName.provisionerName=attached"),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    let want = fixture("tmc/policy.get.json");
    for entry in policy["policyList"].as_array().unwrap() {
        assert_same_shape(entry, &want["policyList"][0], "policy", true);
    }

    let (status, groups) = get_json(
        &format!("{base}/csp/gateway/am/api/orgs/{ORG_ID}/groups"),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    let want = fixture("csp/groups.list.json");
    assert_same_shape(&groups, &want, "groups", false);
    for group in groups["results"].as_array().unwrap() {
        assert_same_shape(group, &want["results"][0], "group", true);
    }

    let exchanged: serde_json::Value = http()
        .post(format!(
            "{base}/csp/gateway/am/api/auth/api-tokens/authorize"
        ))
        .form(&[("api_token", sandbox.api_token())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_same_shape(
        &exchanged,
        &fixture("csp/token.authorize.json"),
        "token",
        true,
    );
}

/// A fixture that is not JSON (a request line, a status line).
fn fixture_text(path: &str) -> String {
    let file = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Every item of `listing[key]` against the fixture's first item, exactly; the envelope as a
/// subset (a first page has no `prevLink`, a last one no `nextLink`).
fn assert_listing(listing: &Value, want: &Value, key: &str, at: &str) {
    assert_same_shape(listing, want, at, false);
    let items = listing[key].as_array().expect("a list");
    assert!(!items.is_empty(), "{at}: nothing listed to compare");
    for item in items {
        assert_same_shape(item, &want[key][0], &format!("{at}[]"), true);
    }
}

#[tokio::test]
async fn csp_users_page_search_and_invitation_have_the_fixtures_fields_and_types() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let users = format!("{base}/csp/gateway/am/api/v2/orgs/{ORG_ID}/users");

    let (status, page) = get_json(&format!("{users}?pageStart=2&pageLimit=2"), &token).await;
    assert_eq!(status, 200);
    assert!(
        page["nextLink"].is_string() && page["prevLink"].is_string(),
        "{page}"
    );
    let want = fixture("csp/users.page.json");
    assert_same_shape(&page, &want, "users page", true);
    assert_listing(&page, &want, "results", "users page");

    let (status, found) = get_json(
        &format!("{base}/csp/gateway/am/api/orgs/{ORG_ID}/users/search?userSearchTerm=example.com"),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    let want = fixture("csp/users.search.json");
    assert_same_shape(&found, &want, "search", true);
    assert_listing(&found, &want, "results", "search");

    // The invitation request the client sends (the fixture) is accepted with CSP's bare 202.
    let response = http()
        .post(format!(
            "{base}/csp/gateway/am/api/orgs/{ORG_ID}/invitations"
        ))
        .bearer_auth(&token)
        .json(&fixture("csp/invitations.create.request.json"))
        .send()
        .await
        .unwrap();
    let status_line = format!(
        "HTTP/1.1 {} {}",
        response.status().as_u16(),
        response.status().canonical_reason().unwrap_or("")
    );
    let body = response.bytes().await.unwrap();
    assert_eq!(
        format!("{status_line}\n\n"),
        fixture_text("csp/invitations.create.response.txt")
    );
    assert!(body.is_empty(), "no body: {body:?}");
}

#[tokio::test]
async fn tmc_group_and_workspace_listings_and_single_reads_have_the_fixtures_fields_and_types() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    for (path, key, file) in [
        (
            "clustergroups",
            "clusterGroups",
            "tmc/clustergroups.list.json",
        ),
        ("workspaces", "workspaces", "tmc/workspaces.list.json"),
    ] {
        let (status, listing) = get_json(
            &format!("{base}/v1alpha1/{path}?includeTotalCount=true"),
            &token,
        )
        .await;
        assert_eq!(status, 200);
        let want = fixture(file);
        assert_same_shape(&listing, &want, path, true);
        assert_listing(&listing, &want, key, path);
    }

    let placed = "fullName.managementClusterName=attached&fullName.provisionerName=attached";
    for (path, file) in [
        (
            format!("clusters/dev-cluster-1?{placed}"),
            "tmc/cluster.get.json",
        ),
        (
            "clustergroups/dev-group".to_string(),
            "tmc/clustergroup.get.json",
        ),
        ("workspaces/team-a".to_string(), "tmc/workspace.get.json"),
        (
            format!("clusters/dev-cluster-1/namespaces/team-a?{placed}"),
            "tmc/namespace.get.json",
        ),
    ] {
        let (status, read) = get_json(&format!("{base}/v1alpha1/{path}"), &token).await;
        assert_eq!(status, 200, "{path}: {read}");
        assert_same_shape(&read, &fixture(file), &path, true);
    }
}
