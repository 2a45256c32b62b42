//! Hostile input through the real binary: every string field of every write tool (and the
//! lookups) gets look-alike, malformed, traversal, control-character and wildcard values. Each
//! call must come back as a clear error, the server must stay up, and the sandbox must have
//! served no write at all: no request was built from the input.

use serde_json::{Value, json};
use tanzu_mcp::sandbox::DataSet;

use crate::support::common;
use crate::support::mcp::{Protocol, TestClient, connect, text};

/// Values no field of any tool accepts.
const HOSTILE: [&str; 26] = [
    "",
    " ",
    ".",
    "..",
    "../etc",
    "a/../b",
    "a\r\nX",
    "a\tb",
    "a\u{0000}b",
    "*",
    "?",
    "#",
    "%2e%2e",
    "dev%2fother",
    "\u{0430}lice@example.com",
    "ａｌｉｃｅ@example.com",
    "alice\u{200B}@example.com",
    "alice@example.com\u{202E}",
    "alice@@example.com",
    "alice@example..com",
    "*@example.com",
    "Dev-Cluster",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "-lead",
    "trail-",
    "\u{FEFF}",
];

/// Emails that must be refused (each would invite or bind someone else, or nobody).
const HOSTILE_EMAILS: [&str; 12] = [
    "\u{0430}lice@example.com",
    "ａｌｉｃｅ@example.com",
    "alice\u{200B}@example.com",
    "alice@example.com\u{202E}",
    "alice@@example.com",
    "alice@example..com",
    "*@example.com",
    "alice?@example.com",
    "alice#@example.com",
    "alice\r\n@example.com",
    "alice@example",
    "a/b@example.com",
];

/// Requests that change something, summed from `/_sandbox/stats`.
async fn writes(base: &str) -> u64 {
    let (_, stats) = common::get_json(&format!("{base}/_sandbox/stats"), "").await;
    stats["requests"]
        .as_object()
        .expect("per-route request counts")
        .iter()
        .filter(|(route, _)| !route.starts_with("GET ") && !route.contains("api-tokens/authorize"))
        .map(|(_, n)| n.as_u64().unwrap_or(0))
        .sum()
}

fn cases() -> Vec<(&'static str, Value)> {
    let mut cases = Vec::new();
    for bad in HOSTILE {
        let scopes = [
            json!({ "kind": "cluster_group", "name": bad }),
            json!({ "kind": "workspace", "name": bad }),
            json!({ "kind": "cluster", "name": bad }),
            json!({ "kind": "cluster", "name": "dev-cluster-1", "management_cluster": bad, "provisioner": "attached" }),
            json!({ "kind": "namespace", "cluster": "dev-cluster-1", "name": bad }),
            json!({ "kind": "namespace", "cluster": bad, "name": "team-a" }),
            json!({ "kind": "tap_cluster", "name": bad }),
            json!({ "kind": "tap_cluster", "name": "tap-dev", "namespace": bad }),
        ];
        for scope in scopes {
            cases.push((
                "bind_role",
                json!({ "email": "bob@example.com", "role": "cluster.view", "scope": scope }),
            ));
        }
        cases.push((
            "bind_role",
            json!({ "email": "bob@example.com", "role": bad, "scope": { "kind": "tap_cluster", "name": "tap-dev" } }),
        ));
        // Free-text IdP group names may well be "Dev-Cluster" or start with '-'.
        let plausible_group =
            bad.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !bad.is_empty();
        if !plausible_group {
            cases.push((
                "bind_role",
                json!({ "group": bad, "role": "view", "scope": { "kind": "tap_cluster", "name": "tap-dev" } }),
            ));
        }
        cases.push(("invite_user", json!({ "emails": [bad] })));
        cases.push((
            "invite_user",
            json!({ "emails": ["new@example.com"], "org_role": bad }),
        ));
    }
    for email in HOSTILE_EMAILS {
        cases.push(("invite_user", json!({ "emails": [email] })));
        cases.push((
            "bind_role",
            json!({ "email": email, "role": "view", "scope": { "kind": "tap_cluster", "name": "tap-dev" } }),
        ));
        cases.push(("revoke_all_access", json!({ "email": email })));
        cases.push(("get_user_access", json!({ "email": email })));
    }
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_input_is_refused_clearly_and_builds_no_request() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let before = writes(&base).await;
    let cases = cases();
    let mut per_tool = std::collections::BTreeMap::<&str, usize>::new();
    for (tool, args) in &cases {
        let result = server.call(tool, args.clone()).await;
        let message = text(&result);
        assert_eq!(result.is_error, Some(true), "{tool} {args}: {message}");
        assert!(
            !message.is_empty() && !message.contains('\r'),
            "{tool} {args}: {message}"
        );
        *per_tool.entry(tool).or_default() += 1;
    }
    assert_eq!(writes(&base).await, before, "no write reached any system");
    // The server is still up and answers.
    let alice = server
        .ok("get_user_access", json!({ "email": "alice@example.com" }))
        .await;
    assert_eq!(alice["status"], "ACTIVE");
    eprintln!(
        "hostile inputs tried: {} ({per_tool:?}); state changes 0",
        cases.len()
    );
    assert!(cases.len() >= 300, "{}", cases.len());
    server.close().await;
}
