//! Every tool's results validate against the output schema the same server announces in
//! `tools/list`: typical results of all eleven tools on the demo sandbox, through the real binary
//! over stdio, including the failures that carry a structured body (declined or unapproved
//! plans, a failed change, invitations that all failed). A client that trusts `outputSchema`
//! (and some validate it) must never be handed something else.
//!
//! Each result is checked twice: against the schema as published, and against a strict copy in
//! which every object forbids properties it does not declare, so a field the schema forgot is
//! caught too (a published schema stays open to additions, as MCP clients expect).

use std::collections::{BTreeMap, BTreeSet};

use rmcp::model::CallToolResult;
use serde_json::{Value, json};
use tanzu_mcp::sandbox::DataSet;

use crate::support::common;
use crate::support::mcp::{Connected, Protocol, TestClient, connect, connect_token_mode, text};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

/// A copy of `schema` in which every object schema that lists `properties` and says nothing
/// about others forbids them.
fn strict(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out: serde_json::Map<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), strict(v))).collect();
            if out.contains_key("properties") && !out.contains_key("additionalProperties") {
                out.insert("additionalProperties".into(), Value::Bool(false));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(strict).collect()),
        other => other.clone(),
    }
}

/// The checked results, and what was wrong with any of them.
#[derive(Default)]
struct Checked {
    /// Tool name to (successes, structured errors) validated.
    counts: BTreeMap<String, (usize, usize)>,
    /// Every structured result's `status` or outcome seen, per tool, to show what was covered.
    statuses: BTreeMap<String, BTreeSet<String>>,
    problems: Vec<String>,
}

struct Schemas {
    published: BTreeMap<String, jsonschema::Validator>,
    strict: BTreeMap<String, jsonschema::Validator>,
}

impl Schemas {
    async fn of(server: &Connected) -> Self {
        let tools = server.client.list_all_tools().await.expect("tools/list");
        let mut published = BTreeMap::new();
        let mut strict_ones = BTreeMap::new();
        for tool in tools {
            let schema = Value::Object(
                tool.output_schema
                    .as_ref()
                    .unwrap_or_else(|| panic!("{} declares an output schema", tool.name))
                    .as_ref()
                    .clone(),
            );
            let compile = |schema: &Value| {
                jsonschema::validator_for(schema)
                    .unwrap_or_else(|e| panic!("{}'s output schema compiles: {e}", tool.name))
            };
            published.insert(tool.name.to_string(), compile(&schema));
            strict_ones.insert(tool.name.to_string(), compile(&strict(&schema)));
        }
        Schemas {
            published,
            strict: strict_ones,
        }
    }

    /// Validate one result of `tool` (called with `arguments`) and record it.
    fn check(&self, checked: &mut Checked, tool: &str, arguments: &Value, result: &CallToolResult) {
        let is_error = result.is_error == Some(true);
        let Some(structured) = &result.structured_content else {
            // An unstructured answer is only right for a failure (text that names the fix).
            if !is_error {
                checked.problems.push(format!(
                    "{tool} {arguments}: success without structuredContent"
                ));
            }
            return;
        };
        for (which, validators) in [("published", &self.published), ("strict", &self.strict)] {
            let validator = &validators[tool];
            let errors: Vec<String> = validator
                .iter_errors(structured)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            if !errors.is_empty() {
                checked.problems.push(format!(
                    "{tool} {arguments} ({which} schema): {}\nresult: {structured:#}",
                    errors.join("; ")
                ));
            }
        }
        let entry = checked.counts.entry(tool.to_string()).or_default();
        if is_error {
            entry.1 += 1
        } else {
            entry.0 += 1
        }
        let status = ["status", "outcome"]
            .iter()
            .find_map(|key| structured[*key].as_str())
            .or_else(|| structured["results"][0]["outcome"].as_str())
            .unwrap_or("-");
        let status: String = status.chars().take(40).collect();
        let label = if is_error {
            format!("{status} (error)")
        } else {
            status.to_string()
        };
        checked
            .statuses
            .entry(tool.to_string())
            .or_default()
            .insert(label);
    }
}

/// Call and check; the result is returned for the calls that follow up on it.
async fn run(
    server: &Connected,
    schemas: &Schemas,
    checked: &mut Checked,
    tool: &str,
    arguments: Value,
) -> CallToolResult {
    let result = server.call(tool, arguments.clone()).await;
    schemas.check(checked, tool, &arguments, &result);
    result
}

/// Call with a bad token, then for a confirmation token, then confirm with it: a destructive
/// tool's three typical answers (cancelled, confirmation_required, done).
async fn confirm_flow(
    server: &Connected,
    schemas: &Schemas,
    checked: &mut Checked,
    tool: &str,
    arguments: Value,
) {
    let mut forged = arguments.clone();
    forged["confirm"] = json!("not-a-token");
    run(server, schemas, checked, tool, forged).await;
    let first = run(server, schemas, checked, tool, arguments.clone()).await;
    let token = first
        .structured_content
        .as_ref()
        .and_then(|s| s["confirmation_token"].as_str().map(String::from))
        .unwrap_or_else(|| panic!("{tool} asks for confirmation: {}", text(&first)));
    let mut confirmed = arguments;
    confirmed["confirm"] = json!(token);
    run(server, schemas, checked, tool, confirmed).await;
}

// The sandbox runs in this process while the server calls it: keep it answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_tools_results_validate_against_its_own_output_schema() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let automation = connect_token_mode(&toml).await;
    // A client that cannot ask a human, with no browser: privileged writes fail closed.
    let no_human = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let schemas = Schemas::of(&automation).await;
    let mut checked = Checked::default();
    let (s, c) = (&automation, &mut checked);
    let sc = &schemas;

    // Reads.
    for arguments in [
        json!({ "limit": 5 }),
        json!({ "status": "INVITED" }),
        json!({ "query": "alice" }),
    ] {
        run(s, sc, c, "list_members", arguments).await;
    }
    for email in [
        ALICE,
        "mallory@example.com",
        "carol@example.com",
        "nobody@example.com",
    ] {
        run(s, sc, c, "get_user_access", json!({ "email": email })).await;
    }
    run(s, sc, c, "list_clusters", json!({})).await;
    run(
        s,
        sc,
        c,
        "list_clusters",
        json!({ "cluster": "dev-cluster-1" }),
    )
    .await;
    for scope in [
        json!({ "kind": "organization" }),
        json!({ "kind": "cluster", "name": "dev-cluster-1" }),
        json!({ "kind": "tap_cluster", "name": "tap-dev" }),
    ] {
        run(
            s,
            sc,
            c,
            "list_role_bindings",
            json!({ "scope": scope, "limit": 2 }),
        )
        .await;
    }
    run(s, sc, c, "audit_access", json!({})).await;

    // Writes that need no human.
    let newcomer = json!({ "emails": ["schema.newcomer@example.com"] });
    run(s, sc, c, "invite_user", newcomer.clone()).await;
    run(s, sc, c, "invite_user", newcomer).await;
    run(
        s,
        sc,
        c,
        "invite_user",
        json!({ "emails": [ALICE, "carol@example.com"] }),
    )
    .await;
    let viewer = json!({ "email": BOB, "role": "app-viewer", "scope": { "kind": "tap_cluster", "name": "tap-dev", "namespace": "apps" } });
    run(s, sc, c, "bind_role", viewer.clone()).await;
    run(s, sc, c, "bind_role", viewer).await;
    let pending = json!({ "email": "carol@example.com", "role": "app-viewer", "scope": { "kind": "tap_cluster", "name": "tap-dev", "namespace": "apps" }, "wait_seconds": 1 });
    run(s, sc, c, "provision_user", pending).await;
    let done = json!({ "email": BOB, "role": "namespace.view", "scope": { "kind": "namespace", "cluster": "dev-cluster-1", "name": "team-a" } });
    run(s, sc, c, "provision_user", done).await;

    // Privileged writes: a token with --confirm token, an error where no human can be asked.
    let owner = json!({ "emails": ["schema.owner@example.com"], "org_role": "org_owner" });
    run(s, sc, c, "invite_user", owner.clone()).await;
    run(&no_human, sc, c, "invite_user", owner).await;
    let admin = json!({ "email": BOB, "role": "cluster.admin", "scope": { "kind": "cluster", "name": "dev-cluster-2" } });
    confirm_flow(s, sc, c, "bind_role", admin.clone()).await;
    run(&no_human, sc, c, "bind_role", admin).await;
    let admin_ns = json!({ "email": BOB, "role": "admin", "scope": { "kind": "tap_cluster", "name": "tap-staging", "namespace": "apps" } });
    run(s, sc, c, "provision_user", admin_ns.clone()).await;
    run(&no_human, sc, c, "provision_user", admin_ns).await;

    // Destructive tools: cancelled, confirmation_required, done, and done with nothing to do.
    let change = json!({ "email": ALICE, "scope": { "kind": "cluster_group", "name": "dev-group" }, "from_role": "clustergroup.edit", "to_role": "clustergroup.view" });
    confirm_flow(s, sc, c, "change_role", change.clone()).await;
    run(s, sc, c, "change_role", change).await;
    let unbind = json!({ "email": ALICE, "role": "workspace.edit", "scope": { "kind": "workspace", "name": "team-a" } });
    confirm_flow(s, sc, c, "unbind_role", unbind.clone()).await;
    run(s, sc, c, "unbind_role", unbind).await;
    let revoke = json!({ "email": "mallory@example.com" });
    confirm_flow(s, sc, c, "revoke_all_access", revoke.clone()).await;
    run(s, sc, c, "revoke_all_access", revoke).await;
    run(
        &no_human,
        sc,
        c,
        "revoke_all_access",
        json!({ "email": ALICE }),
    )
    .await;

    // A change whose only action fails: `failed` (change_role) and `partial` (revoke) bodies.
    let fault =
        json!({ "method": "PATCH", "path_prefix": "/v1alpha1/", "status": 403, "count": 1000 });
    let (status, _) = common::control(&base, "faults", &fault).await;
    assert!((200..300).contains(&status), "fault armed: {status}");
    let move_back = json!({ "email": ALICE, "scope": { "kind": "cluster_group", "name": "dev-group" }, "from_role": "clustergroup.view", "to_role": "clustergroup.edit" });
    confirm_flow(s, sc, c, "change_role", move_back).await;
    let keep = json!({ "email": ALICE, "keep_membership": true });
    confirm_flow(s, sc, c, "revoke_all_access", keep).await;

    let report: Vec<String> = checked
        .statuses
        .iter()
        .map(|(tool, seen)| format!("{tool}: {seen:?}"))
        .collect();
    println!("{}", report.join("\n"));
    assert!(
        checked.problems.is_empty(),
        "results that do not fit their schema:\n{}",
        checked.problems.join("\n\n")
    );
    let untested: Vec<&String> = schemas
        .published
        .keys()
        .filter(|tool| checked.counts.get(*tool).is_none_or(|(ok, _)| *ok == 0))
        .collect();
    assert!(
        untested.is_empty(),
        "no successful result checked for {untested:?}"
    );
    // The structured failures this test means to cover, by tool.
    for tool in [
        "invite_user",
        "bind_role",
        "provision_user",
        "change_role",
        "unbind_role",
        "revoke_all_access",
    ] {
        let (_, errors) = checked.counts.get(tool).copied().unwrap_or_default();
        assert!(
            errors > 0,
            "no structured error of {tool} was checked:\n{}",
            report.join("\n")
        );
    }
    // The checks can fail: a wrong type breaks the published schema, an undeclared field the
    // strict one.
    let mut listed = automation.ok("list_members", json!({ "limit": 1 })).await;
    assert!(schemas.strict["list_members"].is_valid(&listed));
    listed["undeclared"] = json!(1);
    assert!(schemas.published["list_members"].is_valid(&listed));
    assert!(!schemas.strict["list_members"].is_valid(&listed));
    listed["members"] = json!("not a list");
    assert!(!schemas.published["list_members"].is_valid(&listed));
    automation.close().await;
    no_human.close().await;
}
