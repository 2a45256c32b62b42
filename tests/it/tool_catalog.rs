//! The published tool catalogue: `tools/<name>.json` must match what the code offers (a
//! snapshot, like github-mcp-server's toolsnaps), and every tool must carry complete, honest
//! annotations. `UPDATE_TOOLS=1 cargo test --test it tool_catalog` accepts a deliberate change.

use std::path::Path;

use tanzu_mcp::server::TanzuMcp;
use tanzu_mcp::server::catalog::tools_json;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tools");

#[test]
fn tool_files_match_the_code() {
    let update = std::env::var("UPDATE_TOOLS").is_ok_and(|v| v == "1");
    let tools = tools_json();
    let mut drifted = Vec::new();
    for (name, tool) in &tools {
        let path = Path::new(DIR).join(format!("{name}.json"));
        let current = serde_json::to_string_pretty(tool).unwrap() + "\n";
        if update {
            std::fs::write(&path, &current).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == current => {}
            Ok(_) => {
                let fresh = Path::new(DIR).join(format!("{name}_current.json"));
                std::fs::write(&fresh, &current).unwrap();
                drifted.push(format!(
                    "{} differs from the code (see {})",
                    path.display(),
                    fresh.display()
                ));
            }
            Err(_) => drifted.push(format!("{} is missing", path.display())),
        }
    }
    let names: Vec<&str> = tools.iter().map(|(n, _)| n.as_str()).collect();
    for entry in std::fs::read_dir(DIR).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        let stem = file
            .strip_suffix(".json")
            .filter(|s| !s.ends_with("_current"));
        if let Some(stem) = stem.filter(|s| !names.contains(s)) {
            drifted.push(format!("tools/{stem}.json names no tool the code has"));
        }
    }
    assert!(
        drifted.is_empty(),
        "tool catalogue drift (UPDATE_TOOLS=1 accepts it):\n{}",
        drifted.join("\n")
    );
}

#[test]
fn the_fixed_tool_names_are_all_there_and_unique() {
    let names: Vec<String> = tools_json().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "audit_access",
            "bind_role",
            "change_role",
            "get_user_access",
            "invite_user",
            "list_clusters",
            "list_members",
            "list_role_bindings",
            "provision_user",
            "revoke_all_access",
            "unbind_role"
        ]
    );
}

/// The tools that change nothing.
const READ_TOOLS: [&str; 5] = [
    "audit_access",
    "get_user_access",
    "list_clusters",
    "list_members",
    "list_role_bindings",
];

#[test]
fn every_tool_sets_all_four_annotations_and_read_tools_are_read_only() {
    for (name, tool) in tools_json() {
        let hints = &tool["annotations"];
        for hint in [
            "readOnlyHint",
            "destructiveHint",
            "idempotentHint",
            "openWorldHint",
        ] {
            assert!(hints[hint].is_boolean(), "{name} does not set {hint}");
        }
        let read_only = hints["readOnlyHint"] == true;
        assert_eq!(
            read_only,
            READ_TOOLS.contains(&name.as_str()),
            "{name} readOnlyHint"
        );
        if read_only {
            assert_eq!(
                hints["destructiveHint"], false,
                "{name}: a read tool cannot be destructive"
            );
        }
    }
    for (name, destructive) in [
        ("revoke_all_access", true),
        ("change_role", true),
        ("unbind_role", true),
        ("provision_user", false),
    ] {
        assert_eq!(
            tools_json().iter().find(|(n, _)| n == name).unwrap().1["annotations"]["destructiveHint"],
            destructive,
            "{name} destructiveHint"
        );
    }
}

#[test]
fn every_tool_has_a_description_an_object_input_schema_without_top_level_unions_and_an_output_schema()
 {
    for (name, tool) in tools_json() {
        assert!(
            tool["description"].as_str().is_some_and(|d| d.len() > 40),
            "{name} description"
        );
        let input = &tool["inputSchema"];
        assert_eq!(input["type"], "object", "{name} inputSchema type");
        for union in ["oneOf", "anyOf", "allOf"] {
            assert!(
                input.get(union).is_none(),
                "{name} inputSchema has a top-level {union}"
            );
        }
        assert_eq!(
            tool["outputSchema"]["type"], "object",
            "{name} outputSchema"
        );
    }
}

#[test]
fn every_argument_and_result_field_is_documented_for_the_model() {
    for (name, tool) in tools_json() {
        // A tool without arguments (audit_access) has no properties at all.
        let properties = tool["inputSchema"]["properties"].as_object();
        assert!(
            properties.is_some() || name == "audit_access",
            "{name} inputSchema has no properties"
        );
        for (field, schema) in properties.into_iter().flatten() {
            let documented = schema.get("description").is_some()
                || schema.get("$ref").is_some()
                || schema.get("allOf").is_some();
            assert!(documented, "{name}.{field} has no description");
        }
    }
}

#[test]
fn read_only_mode_offers_no_tool_that_changes_anything() {
    let options = tanzu_mcp::server::ServerOptions {
        read_only: true,
        ..Default::default()
    };
    let offered = TanzuMcp::offered_tool_names(&options);
    assert_eq!(offered, READ_TOOLS);
    let options = tanzu_mcp::server::ServerOptions {
        tools: Some(vec!["list_members".into(), "revoke_all_access".into()]),
        ..Default::default()
    };
    assert_eq!(
        TanzuMcp::offered_tool_names(&options),
        ["list_members", "revoke_all_access"]
    );
}

#[test]
fn input_schemas_have_no_nullable_types_that_strict_clients_reject() {
    for (name, tool) in tools_json() {
        let schema = tool["inputSchema"].to_string();
        assert!(
            !schema.contains("\"null\""),
            "{name}: optional arguments are plain types, not nullable: {schema}"
        );
        assert!(
            !schema.contains("\"default\":null"),
            "{name}: no null defaults: {schema}"
        );
    }
}
