//! Log lines cannot be forged through the binary: scope and cluster names the model sends with
//! CR/LF, a bidi override and a fake record after them are refused, and the refusal that reaches
//! stderr at debug level is escaped, so every stderr line is still exactly one record.

use serde_json::json;
use tanzu_mcp::sandbox::DataSet;

use crate::support::common;
use crate::support::mcp::{Protocol, TestClient, connect};

/// A fake record after a line break, with a right-to-left override to hide what follows.
const FORGED: &str =
    "\r\n1999-01-01T00:00:00.000000Z  INFO tanzu_mcp: FORGED access granted\u{202e}";

/// `2026-12-02T08:00:30.266112Z DEBUG ...`: a timestamp, then a level.
fn is_record(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let stamp = words.next().unwrap_or("");
    let level = words.next().unwrap_or("");
    stamp.len() >= 20
        && stamp.ends_with('Z')
        && stamp.as_bytes()[4] == b'-'
        && stamp.as_bytes()[10] == b'T'
        && stamp[..4].bytes().all(|b| b.is_ascii_digit())
        && ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_names_cannot_forge_a_log_line_at_debug() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let evil = |name: &str| format!("{name}{FORGED}");
    let calls = [
        ("list_clusters", json!({"cluster": evil("dev-cluster-1")})),
        (
            "bind_role",
            json!({"email": "bob@example.com", "role": "view",
                   "scope": {"kind": "tap_cluster", "name": evil("tap-dev")}}),
        ),
        (
            "bind_role",
            json!({"email": "bob@example.com", "role": "view",
                   "scope": {"kind": "tap_cluster", "name": "tap-dev", "namespace": evil("apps")}}),
        ),
        (
            "bind_role",
            json!({"email": "bob@example.com", "role": "cluster.view",
                   "scope": {"kind": "cluster", "name": evil("dev-cluster-1")}}),
        ),
        (
            "list_role_bindings",
            json!({"scope": {"kind": "namespace", "cluster": evil("dev-cluster-1"), "name": "team-a"}}),
        ),
    ];
    for (tool, args) in &calls {
        let result = server.call(tool, args.clone()).await;
        assert_eq!(result.is_error, Some(true), "{tool} {args}");
    }
    let log = server.server_log();
    server.close().await;

    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    for line in &lines {
        assert!(
            is_record(line),
            "a stderr line that is not a record: {line:?}"
        );
        assert!(
            !line.contains('\r') && !line.contains('\u{202e}'),
            "{line:?}"
        );
        assert!(!line.starts_with("1999-"), "a forged record: {line:?}");
    }
    // The hostile names did reach the log (escaped), once per refused call, inside the
    // server's own records.
    let carrying: Vec<&&str> = lines.iter().filter(|l| l.contains("FORGED")).collect();
    assert_eq!(carrying.len(), calls.len(), "{carrying:#?}");
    for line in carrying {
        assert!(line.contains("tool call failed"), "{line}");
        assert!(
            line.contains("u{000a}1999-01-01"),
            "escaped, not dropped: {line}"
        );
    }
}
