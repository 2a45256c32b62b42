//! The sandbox answers in the fixtures' shapes (issue 10): the IAM policy read, the groups
//! listing and the token exchange, field for field and type for type.

use crate::api_shapes::{assert_same_shape, fixture};
use crate::support::common::{ORG_ID, get_json, http, start_sandbox, token_for};
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
