//! CSP shows other members' org roles only to org owners and admins (Broadcom
//! `tcsp-account-management`: "Organization Members are permitted to see only basic user
//! information"), and only they may invite or remove. The sandbox honours the caller's role;
//! the product, run with a plain member's API token, says the roles are unknown rather than
//! reporting none.

use crate::api_shapes::{assert_same_shape, fixture};
use crate::support::common::{self, ORG_ID, access_token, get_json, http, token_for};
use crate::support::mcp::{Protocol, TestClient, connect, connect_token_mode};
use serde_json::json;
use tanzu_mcp::sandbox::DataSet;

#[tokio::test]
async fn a_member_token_sees_basic_user_information_only_and_may_not_invite() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let owner = token_for(&sandbox).await;
    let member = access_token(&base, sandbox.member_api_token()).await;
    let listing = format!("{base}/csp/gateway/am/api/v2/orgs/{ORG_ID}/users");
    let search =
        format!("{base}/csp/gateway/am/api/orgs/{ORG_ID}/users/search?userSearchTerm=alice");

    let (_, as_owner) = get_json(&listing, &owner).await;
    assert!(
        as_owner["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["organizationRoles"]
                .as_array()
                .is_some_and(|r| !r.is_empty())),
        "{as_owner}"
    );
    let want = fixture("csp/users.page.json");
    for (url, key) in [(&listing, "results"), (&search, "results")] {
        let (status, as_member) = get_json(url, &member).await;
        assert_eq!(status, 200, "members may list and search");
        let items = as_member[key].as_array().unwrap();
        assert!(!items.is_empty());
        for item in items {
            for hidden in ["organizationRoles", "serviceRoles", "customRoles"] {
                assert!(
                    item.get(hidden).is_none(),
                    "{hidden} shown to a member: {item}"
                );
            }
            assert!(item["user"]["email"].is_string());
            assert_same_shape(item, &want["results"][0], "basic item", false);
        }
    }

    let invite = http()
        .post(format!("{base}/csp/gateway/am/api/orgs/{ORG_ID}/invitations"))
        .bearer_auth(&member)
        .json(&json!({"usernames": ["zoe@example.com"], "organizationRoles": [{"name": "org_member"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(invite.status(), 403);
    let (_, invitations) = get_json(
        &format!("{base}/csp/gateway/am/api/orgs/{ORG_ID}/invitations"),
        &owner,
    )
    .await;
    assert!(!invitations.to_string().contains("zoe@example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_a_member_token_user_access_warns_that_roles_are_unknown() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = common::write_config(&sandbox);

    // The default token is an org owner's: roles are shown, no warning.
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let bob = server
        .ok("get_user_access", json!({ "email": "bob@example.com" }))
        .await;
    assert!(
        !bob["membership"]["org_roles"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{bob:#}"
    );
    assert!(
        !bob["warnings"]
            .to_string()
            .contains("did not show the org roles")
    );
    drop(server);

    std::fs::write(
        dir.path().join("api-token"),
        format!("{}\n", sandbox.member_api_token()),
    )
    .unwrap();
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let bob = server
        .ok("get_user_access", json!({ "email": "bob@example.com" }))
        .await;
    assert_eq!(
        bob["status"], "ACTIVE",
        "membership is still known: {bob:#}"
    );
    assert_eq!(bob["membership"]["org_roles"], json!([]));
    let warnings = bob["warnings"].to_string();
    assert!(
        warnings.contains("CSP did not show the org roles of bob@example.com")
            && warnings.contains("unknown, not because there are none"),
        "{warnings}"
    );
    drop(server);

    // A revocation plan says it cannot tell whether bob is the last owner, rather than
    // showing a removal of someone "with no roles".
    let server = connect_token_mode(&toml).await;
    let plan = server
        .call("revoke_all_access", json!({ "email": "bob@example.com" }))
        .await
        .structured_content
        .expect("structuredContent");
    assert_eq!(plan["status"], "confirmation_required", "{plan:#}");
    let text = plan.to_string();
    assert!(
        text.contains("roles: not shown to this API token")
            && text.contains("CSP did not show the org roles of bob@example.com"),
        "{plan:#}"
    );
}
