//! The floor for cold-start benchmarks: a process that answers `initialize` and `tools/list`
//! over stdio with canned bytes (our own tool catalogue, `tools/*.json`) and does nothing else.
//! No runtime, no JSON parser, no allocation beyond one line: what is left is the cost of
//! spawning a process and a pipe round trip, which no MCP server can go below.
//!
//! Built as the `floor` example (`cargo build --release --example floor`); driven by
//! `examples/cold_start.rs` exactly as `tanzu-mcp serve` and server-everything are.

use std::io::{BufRead, Write};

const INITIALIZE: &str = r#"{"protocolVersion":"2025-06-18","capabilities":{"tools":{},"resources":{},"prompts":{}},"serverInfo":{"name":"floor","version":"0.0.0"}}"#;

/// Our whole catalogue (every `tools/*.json`), so the floor writes as many bytes as `tanzu-mcp`
/// does for tools/list.
const TOOLS: [&str; 11] = [
    include_str!("../../tools/audit_access.json"),
    include_str!("../../tools/bind_role.json"),
    include_str!("../../tools/change_role.json"),
    include_str!("../../tools/get_user_access.json"),
    include_str!("../../tools/invite_user.json"),
    include_str!("../../tools/list_clusters.json"),
    include_str!("../../tools/list_members.json"),
    include_str!("../../tools/list_role_bindings.json"),
    include_str!("../../tools/provision_user.json"),
    include_str!("../../tools/revoke_all_access.json"),
    include_str!("../../tools/unbind_role.json"),
];

fn main() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    let mut line = String::new();
    while stdin.lock().read_line(&mut line).unwrap_or(0) > 0 {
        // Notifications carry no id and get no answer.
        if let Some(id) = id_of(&line) {
            let result = if line.contains(r#""initialize""#) {
                INITIALIZE.to_string()
            } else if line.contains(r#""tools/list""#) {
                format!(r#"{{"tools":[{}]}}"#, TOOLS.join(","))
            } else {
                "{}".to_string()
            };
            let answer = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{result}}}"#);
            // The catalogue files are pretty-printed; a JSON-RPC line must be one line.
            let _ = writeln!(stdout, "{}", answer.replace('\n', ""));
            let _ = stdout.flush();
        }
        line.clear();
    }
}

/// The raw `id` value of a request line (a number or a quoted string), if it has one.
fn id_of(line: &str) -> Option<&str> {
    let start = line.find(r#""id":"#)? + 5;
    let rest = line[start..].trim_start();
    let end = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.find('"')? + 2
    } else {
        rest.find([',', '}'])?
    };
    Some(rest[..end].trim_end())
}
