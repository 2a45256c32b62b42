//! At `TANZU_MCP_LOG=trace`, over HTTP with two bearer credentials and `--confirm token`: the
//! server's stderr and the audit log hold no bearer secret, no session id and no confirmation
//! token, and results show the token only in its own field.

use serde_json::{Value, json};

use crate::http_limits::serve_logging;
use crate::support::transport::initialize_request;

const CI: &str = "ci-secret-0123456789abcdef";
const IDE: &str = "ide-secret-fedcba9876543210";

/// The JSON-RPC answer in a Streamable HTTP response (plain JSON or one SSE `data:` line).
fn answer(body: &str) -> Value {
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .chain(std::iter::once(body))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v.get("id").is_some())
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_logs_and_audit_hold_no_bearer_secret_session_id_or_confirmation_token() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let server = serve_logging(
        "trace",
        &[
            "--auth-token-env",
            "CI_TOKEN",
            "--auth-token-env",
            "IDE_TOKEN",
            "--confirm",
            "token",
            "--audit-log",
            audit.to_str().unwrap(),
        ],
        &[("CI_TOKEN", CI), ("IDE_TOKEN", IDE)],
    )
    .await;
    let http = reqwest::Client::new();
    let url = format!("http://{}/mcp", server.addr);
    let post = async |token: &str, session: Option<&str>, body: Value| -> (u16, String) {
        let mut request = http
            .post(&url)
            .bearer_auth(token)
            .header("Accept", "application/json, text/event-stream")
            .json(&body);
        if let Some(id) = session {
            request = request.header("mcp-session-id", id);
        }
        let response = request.send().await.expect("POST /mcp");
        let status = response.status().as_u16();
        let session = response
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_string());
        let text = response.text().await.unwrap_or_default();
        (
            status,
            session.map(|s| format!("{s}\n{text}")).unwrap_or(text),
        )
    };
    let (status, opened) = post(CI, None, initialize_request(1)).await;
    assert_eq!(status, 200);
    let session = opened.lines().next().unwrap().to_string();
    post(
        CI,
        Some(&session),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    let call = |id: u32, args: Value| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": "revoke_all_access", "arguments": args}})
    };
    let (_, first) = post(
        CI,
        Some(&session),
        call(2, json!({"email": "alice@example.com"})),
    )
    .await;
    let result = answer(&first);
    let token = result["result"]["structuredContent"]["confirmation_token"]
        .as_str()
        .unwrap_or_else(|| panic!("a confirmation token: {first}"))
        .to_string();
    // The token appears once in the result: in its own field (and the same JSON as text).
    let message = result["result"]["structuredContent"]["message"].to_string();
    assert!(!message.contains(&token), "{message}");
    // The other credential cannot run it in this session.
    let (status, _) = post(
        IDE,
        Some(&session),
        call(3, json!({"email": "alice@example.com", "confirm": token})),
    )
    .await;
    assert_eq!(status, 404);
    let (_, ran) = post(
        CI,
        Some(&session),
        call(4, json!({"email": "alice@example.com", "confirm": token})),
    )
    .await;
    let ran = answer(&ran);
    assert_eq!(
        ran["result"]["structuredContent"]["status"], "done",
        "{ran:#}"
    );
    // A bad token is refused; its text is not echoed into logs either.
    post(
        CI,
        Some(&session),
        call(
            5,
            json!({"email": "bob@example.com", "confirm": "forged-token-value-123"}),
        ),
    )
    .await;

    let logs = server.log.text();
    assert!(logs.len() > 1000, "trace logs were written");
    let audit_text = std::fs::read_to_string(&audit).unwrap_or_default();
    assert!(
        audit_text.contains("\"credential\":\"CI_TOKEN\""),
        "{audit_text}"
    );
    for (what, secret) in [
        ("bearer secret", CI),
        ("other bearer secret", IDE),
        ("session id", session.as_str()),
        ("confirmation token", token.as_str()),
    ] {
        assert!(!logs.contains(secret), "{what} in the server's stderr");
        assert!(!audit_text.contains(secret), "{what} in the audit log");
    }
}
