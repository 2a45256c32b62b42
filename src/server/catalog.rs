//! The published tool catalogue: every tool's name, description, annotations and schemas, as
//! `tanzu-mcp tools --json` prints it and `tools/<name>.json` keeps it (a test fails on drift).

use serde_json::{Map, Value};

use super::TanzuMcp;

/// Every tool, sorted by name, each as the JSON an MCP client sees in `tools/list`, with keys
/// sorted so the files diff cleanly.
pub fn tools_json() -> Vec<(String, Value)> {
    let mut tools: Vec<(String, Value)> = TanzuMcp::all_tools()
        .list_all()
        .into_iter()
        .map(|tool| {
            let name = tool.name.to_string();
            (
                name,
                sorted(serde_json::to_value(&tool).unwrap_or(Value::Null)),
            )
        })
        .collect();
    tools.sort_by(|a, b| a.0.cmp(&b.0));
    tools
}

/// One line per tool, for people: name, kind, first sentence.
pub fn tools_text() -> String {
    TanzuMcp::all_tools()
        .list_all()
        .iter()
        .map(|tool| {
            let hints = tool.annotations.as_ref();
            let kind = if hints.and_then(|a| a.read_only_hint).unwrap_or(false) {
                "read"
            } else if hints.and_then(|a| a.destructive_hint).unwrap_or(true) {
                "destructive"
            } else {
                "write"
            };
            let description = tool.description.as_deref().unwrap_or("").replace('\n', " ");
            let first = description.split(". ").next().unwrap_or(&description);
            format!(
                "{:<18} {:<12} {}",
                tool.name,
                kind,
                first.trim_end_matches('.')
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}
