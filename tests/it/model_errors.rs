//! Errors a model can act on, as a real MCP client receives them over stdio: an unknown tool
//! names itself and the choices, bad arguments name the field path and the accepted shape, and
//! an out-of-range value is refused rather than clamped.

use rmcp::model::CallToolRequestParams;
use serde_json::json;
use tanzu_mcp::sandbox::DataSet;

use crate::support::common;
use crate::support::mcp::{Protocol, TestClient, connect, text};

// The sandbox runs in this process while the server calls it: keep it answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn errors_name_the_tool_the_field_and_the_shape() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;

    let unknown = server
        .client
        .call_tool(CallToolRequestParams::new("get_usr_access"))
        .await
        .expect_err("an unknown tool is a protocol error");
    let message = unknown.to_string();
    assert!(
        message.contains("get_usr_access") && message.contains("get_user_access"),
        "{message}"
    );

    let cases = [
        (
            "bind_role",
            json!({"email": "alice@example.com", "role": "app-editor",
                   "scope": {"kind": "tap_cluster"}}),
            "scope.name is required for kind tap_cluster; scope takes {",
        ),
        (
            "bind_role",
            json!({"email": "alice@example.com", "role": "app-editor", "scope": "tap-dev"}),
            "scope must be an object with a \"kind\"",
        ),
        (
            "list_members",
            json!({"limit": 1000}),
            "limit must be at most 500 (got 1000)",
        ),
    ];
    for (tool, arguments, expected) in cases {
        let result = server.call(tool, arguments.clone()).await;
        assert_eq!(result.is_error, Some(true), "{tool} {arguments}");
        let said = text(&result);
        assert!(said.contains(expected), "{tool} {arguments}: {said}");
        assert!(said.contains("Nothing was changed"), "{said}");
    }
    server.close().await;
}
