//! invite_user through the real binary over stdio, against a sandbox: members and invitees
//! are not invited twice, bad emails are reported per address, and CSP holds one invitation.

use crate::support::common;
use crate::support::mcp::{Protocol, SandboxView, TestClient, connect};
use serde_json::json;
use tanzu_mcp::sandbox::DataSet;

const CAROL: &str = "carol@example.com";

// The sandbox runs in this process while the server is a separate process that the test
// waits on: a multi-threaded runtime keeps the sandbox answering meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invite_is_idempotent_for_members_and_invitees() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let out = server
        .ok("invite_user", json!({ "emails": ["alice@example.com", CAROL, "zoe@example.com", "zoe@", "ZOE@example.com"] }))
        .await;
    let outcomes: Vec<&str> = out["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes[..3],
        ["already_member", "already_invited", "invited"],
        "{out:#}"
    );
    assert!(outcomes[3].starts_with("error:") && outcomes[4].starts_with("error:"));
    let again = server
        .ok("invite_user", json!({ "emails": ["zoe@example.com"] }))
        .await;
    assert_eq!(again["results"][0]["outcome"], "already_invited");
    let invitations = view
        .get(&format!(
            "/csp/gateway/am/api/orgs/{}/invitations",
            sandbox.org_id()
        ))
        .await;
    let zoe = invitations.to_string().matches("zoe@example.com").count();
    assert_eq!(zoe, 1, "one invitation for zoe in CSP: {invitations:#}");
    server.close().await;
}
