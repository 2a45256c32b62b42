//! What ships beside the binary agrees with it: `packaging/server.json` (the MCP Registry entry,
//! checked field by field against the registry's published 2025-09-29 schema rules),
//! `packaging/mcpb/manifest.json` (the Claude Desktop bundle), and the published catalogue
//! `tools/*.json` (portable schemas: no nullable type arrays, only JSON Schema's own formats).

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn read_json(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{ROOT}/{path}")).expect(path);
    serde_json::from_str(&text).expect(path)
}

fn tool_names() -> Vec<String> {
    tanzu_mcp::server::TanzuMcp::all_tool_names()
}

#[test]
fn server_json_follows_the_registry_schema_and_cargos_version() {
    let server = read_json("packaging/server.json");
    assert_eq!(
        server["$schema"],
        "https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json"
    );
    // name: reverse-DNS namespace, one slash, [a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+, 3..=200 chars.
    let name = server["name"].as_str().expect("name");
    let (namespace, short) = name.split_once('/').expect("one slash");
    assert!(
        !short.contains('/') && (3..=200).contains(&name.len()),
        "{name}"
    );
    assert!(
        !namespace.is_empty()
            && namespace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
        "{name}"
    );
    assert!(
        !short.is_empty()
            && short
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
        "{name}"
    );
    let description = server["description"].as_str().expect("description");
    assert!((1..=100).contains(&description.len()), "{description}");
    assert_eq!(description, env!("CARGO_PKG_DESCRIPTION"));
    assert_eq!(server["version"], VERSION, "server.json version is Cargo's");

    let packages = server["packages"].as_array().expect("packages");
    assert!(!packages.is_empty());
    let allowed = [
        "registryType",
        "registryBaseUrl",
        "identifier",
        "version",
        "fileSha256",
        "runtimeHint",
        "transport",
        "runtimeArguments",
        "packageArguments",
        "environmentVariables",
    ];
    for package in packages {
        let fields = package.as_object().expect("package object");
        for key in fields.keys() {
            assert!(
                allowed.contains(&key.as_str()),
                "unknown package field {key}"
            );
        }
        for key in ["registryType", "identifier", "version", "transport"] {
            assert!(fields.contains_key(key), "package lacks {key}");
        }
        assert_eq!(package["version"], VERSION);
        assert_eq!(package["registryType"], "mcpb");
        let identifier = package["identifier"].as_str().unwrap();
        assert!(
            identifier.contains(&format!("/v{VERSION}/"))
                && identifier.ends_with(".mcpb")
                && identifier.starts_with("https://"),
            "{identifier}"
        );
        assert_eq!(package["transport"]["type"], "stdio");
        if let Some(sha) = package.get("fileSha256") {
            let sha = sha.as_str().unwrap();
            assert!(sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()));
        }
        for argument in package["packageArguments"].as_array().into_iter().flatten() {
            match argument["type"].as_str() {
                Some("positional") => {
                    assert!(argument.get("value").is_some() || argument.get("valueHint").is_some())
                }
                Some("named") => assert!(argument["name"].as_str().is_some()),
                other => panic!("argument type {other:?}"),
            }
        }
        for variable in package["environmentVariables"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let name = variable["name"].as_str().expect("variable name");
            if let Some(format) = variable.get("format") {
                assert!(
                    ["string", "number", "boolean", "filepath"].contains(&format.as_str().unwrap())
                );
            }
            assert!(
                documented_variables().contains(&name),
                "{name} is a variable the server reads"
            );
        }
    }
}

/// The environment variables the configuration reads, besides the `TANZU_MCP_*` flags.
fn documented_variables() -> Vec<&'static str> {
    use tanzu_mcp::config::*;
    vec![
        "TANZU_MCP_CONFIG",
        ENV_API_TOKEN,
        ENV_ORG_ID,
        ENV_TMC_ENDPOINT,
        ENV_CSP_ENDPOINT,
        ENV_TAP_CONTEXTS,
        "KUBECONFIG",
    ]
}

#[test]
fn the_mcpb_manifest_matches_cargo_and_the_tools() {
    let manifest = read_json("packaging/mcpb/manifest.json");
    assert_eq!(manifest["manifest_version"], "0.3");
    assert_eq!(manifest["name"], env!("CARGO_PKG_NAME"));
    assert_eq!(manifest["version"], VERSION, "manifest version is Cargo's");
    assert_eq!(manifest["description"], env!("CARGO_PKG_DESCRIPTION"));
    assert_eq!(manifest["license"], env!("CARGO_PKG_LICENSE"));
    assert_eq!(manifest["server"]["type"], "binary");
    let mut listed: Vec<String> = manifest["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, tool_names(), "the bundle lists every tool");
    // Every ${user_config.X} the launch line uses is declared.
    let config = manifest["user_config"].as_object().unwrap();
    let launch = manifest["server"]["mcp_config"].to_string();
    for used in launch.split("${user_config.").skip(1) {
        let key = used.split('}').next().unwrap();
        assert!(config.contains_key(key), "user_config.{key} is declared");
    }
}

/// Walks a schema; `at` is the JSON path, for the message.
fn portable_problems(value: &Value, at: &str, problems: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get("type")
                && types.iter().any(|t| t == "null")
            {
                problems.push(format!("{at}: nullable type array {types:?}"));
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(branches)) = map.get(key)
                    && branches.iter().any(|b| b["type"] == "null")
                {
                    problems.push(format!("{at}: {key} with a null branch"));
                }
            }
            if let Some(format) = map.get("format").and_then(Value::as_str)
                && !tanzu_mcp::server::portable::KNOWN_FORMATS.contains(&format)
            {
                problems.push(format!("{at}: unknown format {format}"));
            }
            for (key, child) in map {
                portable_problems(child, &format!("{at}.{key}"), problems);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                portable_problems(item, &format!("{at}[{index}]"), problems);
            }
        }
        _ => {}
    }
}

#[test]
fn the_published_schemas_have_no_nullable_types_or_unknown_formats() {
    let mut problems = Vec::new();
    for name in tool_names() {
        let tool = read_json(&format!("tools/{name}.json"));
        for part in ["inputSchema", "outputSchema"] {
            portable_problems(&tool[part], &format!("{name}.{part}"), &mut problems);
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
