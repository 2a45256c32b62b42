//! list_members through the real binary over stdio, against a sandbox: every member exactly
//! once across cursor pages, with filters and a refused made-up cursor.

use std::collections::BTreeSet;

use crate::support::common;
use crate::support::mcp::{Protocol, SandboxView, TestClient, connect, text};
use serde_json::{Value, json};
use tanzu_mcp::sandbox::DataSet;

// The sandbox runs in this process while the server is a separate process that the test
// waits on: a multi-threaded runtime keeps the sandbox answering meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_members_pages_through_the_demo_org_returning_each_person_once() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
    let members: BTreeSet<String> = view.member_emails().await.into_iter().collect();
    assert!(
        members.len() >= 250,
        "the demo org spans more than one CSP page"
    );

    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut args = json!({ "limit": 120 });
        if let Some(cursor) = &cursor {
            args["cursor"] = json!(cursor);
        }
        let page = server.ok("list_members", args).await;
        pages += 1;
        let entries = page["members"].as_array().unwrap();
        assert!(entries.len() <= 120);
        seen.extend(entries.iter().map(|m| {
            (
                m["email"].as_str().unwrap().to_string(),
                m["status"].as_str().unwrap().to_string(),
            )
        }));
        match &page["next_cursor"] {
            Value::String(next) => cursor = Some(next.clone()),
            _ => break,
        }
        assert!(pages < 20, "the listing ends");
    }
    let emails: Vec<&String> = seen.iter().map(|(e, _)| e).collect();
    let unique: BTreeSet<&String> = emails.iter().copied().collect();
    assert_eq!(unique.len(), emails.len(), "no one appears twice");
    let active: BTreeSet<String> = seen
        .iter()
        .filter(|(_, s)| s == "ACTIVE")
        .map(|(e, _)| e.clone())
        .collect();
    assert_eq!(
        active, members,
        "every CSP member, as the sandbox lists them"
    );
    let invited: BTreeSet<&str> = seen
        .iter()
        .filter(|(_, s)| s == "INVITED")
        .map(|(e, _)| e.as_str())
        .collect();
    assert_eq!(
        invited,
        BTreeSet::from(["carol@example.com", "dan@example.com", "erin@example.com"])
    );

    let filtered = server
        .ok(
            "list_members",
            json!({ "status": "INVITED", "query": "DAN" }),
        )
        .await;
    assert_eq!(
        filtered["members"],
        json!([{ "email": "dan@example.com", "status": "INVITED", "org_roles": ["org_member"] }])
    );
    let bad = server
        .call("list_members", json!({ "cursor": "made-up" }))
        .await;
    assert_eq!(bad.is_error, Some(true));
    assert!(text(&bad).contains("cursor"), "{}", text(&bad));
    server.close().await;
}

/// The cursor is base64 JSON the model can decode and edit. An offset moved past the end (or to
/// usize::MAX, which once overflowed into page 1 in release and panicked the call in debug) is
/// refused as a cursor problem, promptly, and the server goes on answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_edited_cursor_past_the_end_is_refused_and_the_server_keeps_answering() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let first = server.ok("list_members", json!({ "limit": 1 })).await;
    let issued = first["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_string();
    let decoded: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&issued).unwrap()).unwrap();

    for offset in [json!(u64::MAX), json!(1_000_000_000u64), json!(5_000u64)] {
        let mut edited = decoded.clone();
        edited["o"] = offset.clone();
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&edited).unwrap());
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            server.call("list_members", json!({ "limit": 1, "cursor": forged })),
        )
        .await
        .unwrap_or_else(|_| panic!("offset {offset}: no answer within 20 s"));
        assert_eq!(
            answer.is_error,
            Some(true),
            "offset {offset}: {}",
            text(&answer)
        );
        assert!(
            text(&answer).contains("cursor points past the end"),
            "offset {offset}: {}",
            text(&answer)
        );
    }
    // Still serving, and the issued cursor still works.
    let second = server
        .ok("list_members", json!({ "limit": 1, "cursor": issued }))
        .await;
    assert_eq!(second["members"].as_array().map(Vec::len), Some(1));
    server.close().await;
}
