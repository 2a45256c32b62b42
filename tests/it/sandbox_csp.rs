//! The simulated CSP over HTTP: token exchange, members with pagination, invitations, batch
//! removal, groups, and the traps (last owner, duplicate invitations, expired tokens).

use crate::support::common;
use std::collections::HashSet;

use crate::support::common::{
    ORG_ID, access_token, control, get_json, http, send_json, start_sandbox, token_for,
};
use reqwest::Method;
use serde_json::{Value, json};
use tanzu_mcp::sandbox::{DataSet, SandboxOptions};

fn users_url(base: &str) -> String {
    format!("{base}/csp/gateway/am/api/v2/orgs/{ORG_ID}/users")
}

fn invitations_url(base: &str) -> String {
    format!("{base}/csp/gateway/am/api/orgs/{ORG_ID}/invitations")
}

/// Every member, following `nextLink` from the first page; also returns the page count.
async fn all_members(base: &str, token: &str, page_limit: usize) -> (Vec<Value>, usize) {
    let mut url = format!("{}?pageStart=1&pageLimit={page_limit}", users_url(base));
    let mut members = Vec::new();
    let mut pages = 0;
    loop {
        let (status, body) = get_json(&url, token).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        let results = body["results"].as_array().expect("results array");
        assert!(results.len() <= page_limit);
        members.extend(results.iter().cloned());
        match body["nextLink"].as_str() {
            Some(next) => url = format!("{base}{next}"),
            None => break,
        }
        assert!(pages < 1000, "nextLink loops");
    }
    (members, pages)
}

fn emails(members: &[Value]) -> Vec<String> {
    members
        .iter()
        .map(|m| m["user"]["email"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn find_member(base: &str, token: &str, email: &str) -> Option<Value> {
    let (members, _) = all_members(base, token, 200).await;
    members
        .into_iter()
        .find(|m| m["user"]["email"].as_str() == Some(email))
}

#[tokio::test]
async fn token_exchange_returns_an_access_token_with_expires_in() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let response = http()
        .post(format!(
            "{base}/csp/gateway/am/api/auth/api-tokens/authorize"
        ))
        .form(&[("api_token", sandbox.api_token())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    for field in [
        "access_token",
        "id_token",
        "refresh_token",
        "scope",
        "token_type",
    ] {
        assert!(body[field].is_string(), "{field} missing in {body}");
    }
    assert_eq!(body["expires_in"], 1799);
}

#[tokio::test]
async fn token_lifetime_is_configurable() {
    let (sandbox, base) = common::start_sandbox_with(SandboxOptions {
        data: DataSet::Empty,
        token_ttl_secs: 42,
    })
    .await;
    let response = http()
        .post(format!(
            "{base}/csp/gateway/am/api/auth/api-tokens/authorize"
        ))
        .form(&[("api_token", sandbox.api_token())])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["expires_in"], 42);
}

#[tokio::test]
async fn token_exchange_accepts_the_deprecated_refresh_token_field() {
    let (sandbox, base) = start_sandbox(DataSet::Empty).await;
    let response = http()
        .post(format!(
            "{base}/csp/gateway/am/api/auth/api-tokens/authorize"
        ))
        .form(&[("refresh_token", sandbox.api_token())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_wrong_api_token_gets_400_with_a_csp_error_that_does_not_echo_it() {
    let (_sandbox, base) = start_sandbox(DataSet::Empty).await;
    let wrong = "not-the-sandbox-token-secret-1234";
    let response = http()
        .post(format!(
            "{base}/csp/gateway/am/api/auth/api-tokens/authorize"
        ))
        .form(&[("api_token", wrong)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["statusCode"], 400);
    assert!(body["cspErrorCode"].is_string());
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("invalid_grant"), "{message}");
    assert!(
        !body.to_string().contains(wrong),
        "the token is echoed: {body}"
    );
}

#[tokio::test]
async fn successful_exchanges_are_counted_in_stats() {
    let (sandbox, base) = start_sandbox(DataSet::Empty).await;
    token_for(&sandbox).await;
    token_for(&sandbox).await;
    let stats: Value = http()
        .get(format!("{base}/_sandbox/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["token_exchanges"], 2);
    let route = "POST /csp/gateway/am/api/auth/api-tokens/authorize";
    assert_eq!(stats["requests"][route], 2, "{stats}");
}

#[tokio::test]
async fn member_calls_need_a_valid_bearer_or_csp_auth_token() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let url = users_url(&base);
    let anonymous = http().get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["statusCode"], 401);

    let (status, _) = get_json(&url, "made-up").await;
    assert_eq!(status, 401);

    let token = token_for(&sandbox).await;
    let (status, _) = get_json(&url, &token).await;
    assert_eq!(status, 200);
    let legacy = http()
        .get(&url)
        .header("csp-auth-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(legacy.status(), 200);
}

#[tokio::test]
async fn expired_tokens_get_401_and_a_new_exchange_works() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (status, _) = control(&base, "tokens/expire", &json!({})).await;
    assert_eq!(status, 200);
    let (status, body) = get_json(&users_url(&base), &token).await;
    assert_eq!(status, 401, "{body}");
    let fresh = token_for(&sandbox).await;
    let (status, _) = get_json(&users_url(&base), &fresh).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn tokens_expire_when_their_lifetime_has_passed() {
    let (sandbox, base) = common::start_sandbox_with(SandboxOptions {
        data: DataSet::Empty,
        token_ttl_secs: 60,
    })
    .await;
    let token = token_for(&sandbox).await;
    let (status, _) = get_json(&users_url(&base), &token).await;
    assert_eq!(status, 200);
    tokio::time::pause();
    tokio::time::advance(std::time::Duration::from_secs(61)).await;
    let (status, _) = get_json(&users_url(&base), &token).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn demo_members_span_two_pages_of_200_and_include_the_named_people() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (first_status, first) = get_json(
        &format!("{}?pageStart=1&pageLimit=200", users_url(&base)),
        &token,
    )
    .await;
    assert_eq!(first_status, 200);
    assert_eq!(first["totalResults"], 262);
    assert!(first.get("prevLink").is_none());
    assert_eq!(
        first["nextLink"],
        format!("/csp/gateway/am/api/v2/orgs/{ORG_ID}/users?pageStart=201&pageLimit=200")
    );

    let (members, pages) = all_members(&base, &token, 200).await;
    assert_eq!(pages, 2);
    assert_eq!(members.len(), 262);
    let all = emails(&members);
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "emails are unique");
    assert!(
        all.iter()
            .all(|e| e.ends_with("@example.com") && *e == e.to_lowercase())
    );
    for named in ["owner@example.com", "alice@example.com", "bob@example.com"] {
        assert!(all.iter().any(|e| e == named), "{named} is a member");
    }
    for not_member in ["carol@example.com", "mallory@example.com"] {
        assert!(
            !all.iter().any(|e| e == not_member),
            "{not_member} is not a member"
        );
    }
    let owners: Vec<_> = members
        .iter()
        .filter(|m| {
            m["organizationRoles"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["name"] == "org_owner")
        })
        .collect();
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0]["user"]["email"], "owner@example.com");

    let alice = members
        .iter()
        .find(|m| m["user"]["email"] == "alice@example.com")
        .unwrap();
    assert_eq!(alice["user"]["firstName"], "Alice");
    assert_eq!(alice["user"]["lastName"], "Anders");
    assert_eq!(alice["user"]["username"], "alice@example.com");
    assert!(
        alice["user"]["userId"]
            .as_str()
            .unwrap()
            .starts_with("example.com:")
    );
}

#[tokio::test]
async fn an_exact_multiple_of_the_page_size_ends_without_a_next_link() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    // 262 = 2 x 131: the second page is full and must be the last.
    let (members, pages) = all_members(&base, &token, 131).await;
    assert_eq!((members.len(), pages), (262, 2));
    let (_, past_the_end) = get_json(
        &format!("{}?pageStart=263&pageLimit=131", users_url(&base)),
        &token,
    )
    .await;
    assert_eq!(past_the_end["results"], json!([]));
    assert!(past_the_end.get("nextLink").is_none());
}

#[tokio::test]
async fn the_empty_org_lists_only_the_owner_on_one_page() {
    let (sandbox, base) = start_sandbox(DataSet::Empty).await;
    let token = token_for(&sandbox).await;
    let (members, pages) = all_members(&base, &token, 200).await;
    assert_eq!(pages, 1);
    assert_eq!(emails(&members), vec!["owner@example.com"]);
    let (_, one_per_page) = get_json(
        &format!("{}?pageStart=1&pageLimit=1", users_url(&base)),
        &token,
    )
    .await;
    assert!(one_per_page.get("nextLink").is_none(), "{one_per_page}");
}

#[tokio::test]
async fn page_limits_above_200_and_bad_page_starts_are_refused() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    for query in ["pageLimit=201", "pageStart=0", "pageLimit=abc"] {
        let (status, body) = get_json(&format!("{}?{query}", users_url(&base)), &token).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["statusCode"], 400);
    }
}

#[tokio::test]
async fn another_org_is_not_found() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (status, _) = get_json(
        &format!("{base}/csp/gateway/am/api/v2/orgs/some-other-org/users"),
        &token,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn invitations_list_available_and_redeemed_ones() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (status, body) = get_json(&invitations_url(&base), &token).await;
    assert_eq!(status, 200);
    let invitations = body.as_array().expect("a JSON array");
    let with_status = |s: &str| -> Vec<&str> {
        invitations
            .iter()
            .filter(|i| i["status"] == s)
            .map(|i| i["username"].as_str().unwrap())
            .collect()
    };
    assert_eq!(
        with_status("AVAILABLE"),
        vec!["carol@example.com", "dan@example.com", "erin@example.com"]
    );
    assert_eq!(with_status("REDEEMED"), vec!["mallory@example.com"]);
    assert!(
        invitations[0]["refLink"]
            .as_str()
            .unwrap()
            .contains("/invitations/")
    );
    assert_eq!(invitations[0]["orgRoleNames"], json!(["org_member"]));
}

#[tokio::test]
async fn inviting_answers_202_and_does_not_duplicate_a_pending_invitation() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let body = json!({
        "usernames": ["frank@example.com", "carol@example.com"],
        "organizationRoles": [{"name": "org_member"}],
    });
    for _ in 0..2 {
        let (status, _) = send_json(Method::POST, &invitations_url(&base), &token, &body).await;
        assert_eq!(status, 202);
    }
    let (_, listed) = get_json(&invitations_url(&base), &token).await;
    for email in ["frank@example.com", "carol@example.com"] {
        let available = listed
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["username"] == email && i["status"] == "AVAILABLE")
            .count();
        assert_eq!(available, 1, "{email}");
    }
}

#[tokio::test]
async fn inviting_an_existing_member_or_with_an_unknown_role_is_refused() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let member =
        json!({"usernames": ["alice@example.com"], "organizationRoles": [{"name": "org_member"}]});
    let (status, body) = send_json(Method::POST, &invitations_url(&base), &token, &member).await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("alice@example.com")
    );

    let bad_role =
        json!({"usernames": ["zoe@example.com"], "organizationRoles": [{"name": "org_god"}]});
    let (status, _) = send_json(Method::POST, &invitations_url(&base), &token, &bad_role).await;
    assert_eq!(status, 400);

    let deprecated = json!({"usernames": ["zoe@example.com"], "orgRoleNames": ["org_member"]});
    let (status, _) = send_json(Method::POST, &invitations_url(&base), &token, &deprecated).await;
    assert_eq!(status, 202, "the deprecated orgRoleNames form still works");
}

#[tokio::test]
async fn a_revoked_invitation_cannot_be_accepted() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (_, listed) = get_json(&invitations_url(&base), &token).await;
    let dan = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["username"] == "dan@example.com")
        .unwrap();
    let link = dan["refLink"].as_str().unwrap();
    let revoke = http()
        .delete(format!("{base}{link}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    let again = http()
        .delete(format!("{base}{link}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        400,
        "only AVAILABLE invitations can be revoked"
    );

    let (_, revoked) = get_json(
        &format!("{}?status=REVOKED", invitations_url(&base)),
        &token,
    )
    .await;
    assert_eq!(revoked[0]["username"], "dan@example.com");
    let (status, _) = control(
        &base,
        "invitations/accept",
        &json!({"email": "dan@example.com"}),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_accepted_invitation_makes_an_active_member() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (status, _) = control(
        &base,
        "invitations/accept",
        &json!({"email": "carol@example.com"}),
    )
    .await;
    assert_eq!(status, 200);
    let carol = find_member(&base, &token, "carol@example.com")
        .await
        .expect("carol is a member");
    assert_eq!(carol["organizationRoles"][0]["name"], "org_member");
    assert_eq!(carol["user"]["firstName"], "Carol");
    let (_, body) = get_json(&users_url(&base), &token).await;
    assert_eq!(body["totalResults"], 263);
}

#[tokio::test]
async fn batch_removal_reports_partial_success() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let bob = find_member(&base, &token, "bob@example.com").await.unwrap();
    let bob_id = bob["user"]["userId"].as_str().unwrap().to_string();
    let body = json!({"ids": [bob_id, "example.com:no-such-user"], "notifyUsers": false});
    let (status, result) = send_json(Method::DELETE, &users_url(&base), &token, &body).await;
    assert_eq!(status, 200);
    assert_eq!(result["succeeded"], json!([bob_id]));
    assert_eq!(result["failed"], json!(["example.com:no-such-user"]));
    assert!(
        find_member(&base, &token, "bob@example.com")
            .await
            .is_none()
    );
}

#[tokio::test]
async fn batch_removal_takes_at_most_20_ids() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let ids: Vec<String> = (0..21).map(|i| format!("example.com:{i}")).collect();
    let (status, body) = send_json(
        Method::DELETE,
        &users_url(&base),
        &token,
        &json!({"ids": ids}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["statusCode"], 400);
}

#[tokio::test]
async fn the_last_org_owner_cannot_be_removed() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let owner = find_member(&base, &token, "owner@example.com")
        .await
        .unwrap();
    let alice = find_member(&base, &token, "alice@example.com")
        .await
        .unwrap();
    let ids = json!({"ids": [owner["user"]["userId"], alice["user"]["userId"]]});
    let (status, body) = send_json(Method::DELETE, &users_url(&base), &token, &ids).await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("last organization owner")
    );
    assert!(
        find_member(&base, &token, "alice@example.com")
            .await
            .is_some(),
        "a refused batch removes nobody"
    );
}

#[tokio::test]
async fn org_groups_are_listed() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (status, body) = get_json(
        &format!("{base}/csp/gateway/am/api/orgs/{ORG_ID}/groups?pageStart=1&pageLimit=200"),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Platform-Admins", "tap-developers", "auditors"]);
    assert_eq!(body["totalResults"], 3);
}

#[tokio::test]
async fn reset_restores_the_initial_data() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = access_token(&base, sandbox.api_token()).await;
    control(
        &base,
        "invitations/accept",
        &json!({"email": "erin@example.com"}),
    )
    .await;
    let (status, _) = control(&base, "reset", &json!({})).await;
    assert_eq!(status, 204);
    assert!(
        find_member(&base, &token, "erin@example.com")
            .await
            .is_none()
    );
    let (_, body) = get_json(&users_url(&base), &token).await;
    assert_eq!(body["totalResults"], 262);
}

#[tokio::test]
async fn the_org_itself_can_be_read() {
    let (sandbox, base) = start_sandbox(DataSet::Empty).await;
    let token = token_for(&sandbox).await;
    let (status, org) = get_json(&format!("{base}/csp/gateway/am/api/orgs/{ORG_ID}"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(org["id"], ORG_ID);
    assert!(org["displayName"].is_string());
}
