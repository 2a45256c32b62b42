//! At `TANZU_MCP_LOG=trace`, over HTTP with two bearer credentials and `--confirm token`: the
//! server's stderr and the audit log hold no bearer secret, no session id and no confirmation
//! token, and results show the token only in its own field.

use serde_json::{Value, json};

use crate::http_limits::{Served, serve_logging};
use crate::support::transport::initialize_request;

const CI: &str = "ci-secret-0123456789abcdef";
const IDE: &str = "ide-secret-fedcba9876543210";

/// `serve --transport http` at trace level with the two bearer credentials, `--confirm mode`
/// and an audit log at `audit`.
async fn serve_two_credentials_at_trace(mode: &str, audit: &std::path::Path) -> Served {
    serve_logging(
        "trace",
        &[
            "--auth-token-env",
            "CI_TOKEN",
            "--auth-token-env",
            "IDE_TOKEN",
            "--confirm",
            mode,
            "--audit-log",
            audit.to_str().unwrap(),
        ],
        &[("CI_TOKEN", CI), ("IDE_TOKEN", IDE)],
    )
    .await
}

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
    let server = serve_two_credentials_at_trace("token", &audit).await;
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

/// A stateless 2026-07-28 `tools/call` over HTTP under `bearer`, with the approval state and
/// answer of a retry when given; returns the JSON-RPC answer.
async fn call_2026(
    url: &str,
    bearer: &str,
    id: u32,
    arguments: Value,
    retry: Option<(&str, &str)>,
) -> Value {
    let mut params = json!({
        "name": "revoke_all_access",
        "arguments": arguments,
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": { "elicitation": { "form": {} } },
            "io.modelcontextprotocol/clientInfo": { "name": "raw-2026-client", "version": "1" }
        }
    });
    if let Some((state, email)) = retry {
        params["requestState"] = json!(state);
        params["inputResponses"] =
            json!({ "approval": { "action": "accept", "content": { "email": email } } });
    }
    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(bearer)
        .header("Accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "revoke_all_access")
        .json(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params}))
        .send()
        .await
        .expect("POST /mcp");
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, 200, "{body}");
    answer(&body)
}

/// Is alice still a member, as the sandbox tells the binary's own read tool?
async fn alice_is_member(url: &str, bearer: &str) -> bool {
    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(bearer)
        .header("Accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "get_user_access")
        .json(
            &json!({"jsonrpc": "2.0", "id": 99, "method": "tools/call", "params": {
            "name": "get_user_access", "arguments": {"email": "alice@example.com"},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": { "name": "raw-2026-client", "version": "1" }
            }}}),
        )
        .send()
        .await
        .expect("POST /mcp");
    let access = answer(&response.text().await.unwrap_or_default());
    let membership = &access["result"]["structuredContent"]["membership"];
    assert!(
        access["result"]["structuredContent"].is_object(),
        "get_user_access answered: {access:#}"
    );
    !membership.is_null()
}

/// A 2026-07-28 request state is bound to the HTTP credential that opened it: replayed under
/// another valid credential it is refused, changes nothing and is not spent; and at trace
/// level neither the state, the answer's target token nor a bearer secret reaches stderr or
/// the audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_request_state_answers_only_to_its_credential_and_stays_out_of_logs() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let server = serve_two_credentials_at_trace("elicit", &audit).await;
    let url = format!("http://{}/mcp", server.addr);
    let args = json!({"email": "alice@example.com"});

    let first = call_2026(&url, CI, 1, args.clone(), None).await;
    let result = &first["result"];
    assert_eq!(result["resultType"], "input_required", "{first:#}");
    let state = result["requestState"]
        .as_str()
        .unwrap_or_else(|| panic!("a request state: {first:#}"))
        .to_string();
    assert!(
        !result["inputRequests"].to_string().contains(&state),
        "the state appears only in its own field"
    );

    // The other credential replays the state with a correct answer: refused, nothing changes.
    let replayed = call_2026(
        &url,
        IDE,
        2,
        args.clone(),
        Some((&state, "alice@example.com")),
    )
    .await;
    assert_eq!(
        replayed["result"]["isError"], true,
        "replay under another credential: {replayed:#}"
    );
    assert!(
        replayed["result"]["content"]
            .to_string()
            .contains("not valid for this call"),
        "{replayed:#}"
    );
    assert!(alice_is_member(&url, CI).await, "nothing changed");
    let audit_text = std::fs::read_to_string(&audit).unwrap_or_default();
    assert!(
        !audit_text.contains("\"phase\":\"intent\""),
        "no action was attempted: {audit_text}"
    );

    // Its own credential still can: the refusal spent nothing.
    let ran = call_2026(&url, CI, 3, args, Some((&state, "alice@example.com"))).await;
    assert_eq!(
        ran["result"]["structuredContent"]["status"], "done",
        "{ran:#}"
    );
    assert!(!alice_is_member(&url, CI).await, "the approved plan ran");

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
        ("request state", state.as_str()),
    ] {
        assert!(!logs.contains(secret), "{what} in the server's stderr");
        assert!(!audit_text.contains(secret), "{what} in the audit log");
    }
    // The state's MAC alone (its last part) must not leak either.
    let tag = state.rsplit('.').next().unwrap();
    assert!(
        !logs.contains(tag),
        "the state's tag in the server's stderr"
    );
}

/// Words of `text` shaped like a sealed approval (`nonce.expiry.digest.tag`: 22 base64url
/// characters, a 10-digit expiry, the digest, a 43-character tag): a confirmation token or a
/// request state, whatever its value.
fn sealed_like(text: &str) -> Vec<String> {
    let b64 = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .filter(|word| {
            let parts: Vec<&str> = word.split('.').collect();
            parts.len() == 4
                && parts[0].len() == 22
                && b64(parts[0])
                && parts[1].len() == 10
                && parts[1].bytes().all(|b| b.is_ascii_digit())
                && parts[3].len() == 43
                && b64(parts[3])
        })
        .map(str::to_string)
        .collect()
}

/// Over stdio at `TANZU_MCP_LOG=trace`: live elicitation (2025-11-25) and the 2026-07-28
/// input-required round both approve a revoke, and neither the API token nor anything shaped
/// like a confirmation token or request state reaches stderr or the audit log (the detector
/// is first shown to find a real token).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn elicitation_over_stdio_at_trace_leaks_no_state_token_or_api_token() {
    use crate::support::mcp::{Protocol, TestClient, approve, connect_logging};
    use tanzu_mcp::sandbox::DataSet;

    let (sandbox, _base) = crate::support::common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = crate::support::common::write_config(&sandbox);

    // The detector finds a real token.
    let tokens = connect_logging(
        &toml,
        &["--confirm", "token"],
        TestClient::new(None),
        Protocol::Handshake,
        "warn",
    )
    .await;
    let planned = tokens
        .ok("revoke_all_access", json!({"email": "bob@example.com"}))
        .await;
    let token = planned["confirmation_token"]
        .as_str()
        .expect("a token")
        .to_string();
    assert_eq!(sealed_like(&format!("x {token} y")), vec![token.clone()]);
    tokens.close().await;

    for (protocol, email, name) in [
        (Protocol::Handshake, "alice@example.com", "live elicitation"),
        (
            Protocol::Discover2026,
            "bob@example.com",
            "2026-07-28 input-required",
        ),
    ] {
        let audit = dir.path().join(format!("audit-{}.jsonl", email));
        let server = connect_logging(
            &toml,
            &[
                "--confirm",
                "elicit",
                "--audit-log",
                audit.to_str().unwrap(),
            ],
            TestClient::new(Some(approve(email))),
            protocol,
            "trace",
        )
        .await;
        let out = server
            .ok("revoke_all_access", json!({"email": email}))
            .await;
        assert_eq!(out["status"], "done", "{name}: {out:#}");
        assert_eq!(server.prompts().len(), 1, "{name}: the human was asked");
        let logs = server.server_log();
        server.close().await;
        let audit_text = std::fs::read_to_string(&audit).unwrap_or_default();
        assert!(logs.len() > 1000, "{name}: trace logs were written");
        assert!(
            audit_text.contains("\"phase\":\"intent\""),
            "{name}: audited"
        );
        for (place, text) in [("stderr", &logs), ("audit log", &audit_text)] {
            assert!(
                !text.contains(sandbox.api_token()),
                "{name}: the API token in the {place}"
            );
            assert!(!text.contains(&token), "{name}: a token in the {place}");
            assert_eq!(
                sealed_like(text),
                Vec::<String>::new(),
                "{name}: a sealed approval in the {place}"
            );
        }
    }
}
