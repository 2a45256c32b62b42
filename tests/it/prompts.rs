//! The MCP prompts through a client: listed, and each one fetched with its arguments.

use crate::support::common;
use crate::support::mcp::{Protocol, TestClient, connect};
use rmcp::model::GetPromptRequestParams;
use serde_json::json;
use tanzu_mcp::sandbox::DataSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prompts_are_listed_and_name_the_tools_in_order() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let listed = server
        .client
        .list_all_prompts()
        .await
        .expect("prompts/list");
    let mut names: Vec<String> = listed.iter().map(|p| p.name.to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "access_review",
            "grant_group",
            "offboard_person",
            "onboard_developer"
        ]
    );
    let onboard = listed
        .iter()
        .find(|p| p.name == "onboard_developer")
        .unwrap();
    let arguments = onboard.arguments.as_ref().unwrap();
    assert!(
        arguments
            .iter()
            .any(|a| a.name == "email" && a.required == Some(true))
    );

    for (name, args, expected) in [
        (
            "onboard_developer",
            json!({"email": "dev@example.com", "tap_cluster": "tap-dev"}),
            vec![
                "list_clusters",
                "provision_user",
                "dev@example.com",
                "tap-dev",
            ],
        ),
        (
            "offboard_person",
            json!({"email": "mallory@example.com"}),
            vec!["get_user_access", "revoke_all_access", "approve"],
        ),
        (
            "grant_group",
            json!({"group": "tap-developers"}),
            vec!["list_clusters", "bind_role", "tap-developers"],
        ),
        ("access_review", json!({}), vec!["audit_access", "fix"]),
    ] {
        let mut params = GetPromptRequestParams::new(name);
        if let Some(map) = args.as_object().filter(|m| !m.is_empty()) {
            params = params.with_arguments(map.clone());
        }
        let prompt = server.client.get_prompt(params).await.expect("prompts/get");
        let text = serde_json::to_string(&prompt.messages).unwrap();
        let order: Vec<usize> = expected
            .iter()
            .map(|e| {
                text.find(e)
                    .unwrap_or_else(|| panic!("{name}: {e} in {text}"))
            })
            .collect();
        assert!(
            order.first() <= order.get(1),
            "{name}: tools in order: {text}"
        );
    }
    let info = server.client.peer_info().unwrap();
    let instructions = info.instructions.as_deref().unwrap_or_default();
    assert!(instructions.contains("list_clusters") && instructions.contains("approve"));
    server.close().await;
}
