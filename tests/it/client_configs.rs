//! `examples/clients/`: every client configuration launched as written. Each stdio entry's
//! command and arguments start the real binary (the documented `/home/me/...` paths replaced by
//! this build and a sandbox configuration), each HTTP entry's URL is reached on a server started
//! as the README says, and an MCP client lists the tools and reads alice's access through it.

use std::path::{Path, PathBuf};

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use serde_json::{Value, json};
use tanzu_mcp::sandbox::DataSet;

use crate::support::common;
use crate::support::server_log::ServerLog;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/clients");
const BINARY: &str = "/home/me/.cargo/bin/tanzu-mcp";
const CONFIG: &str = "/home/me/.config/tanzu-mcp/tanzu-mcp.toml";
const HOME: &str = "/home/me/";
const PORT: &str = ":8080";

/// One server entry of a client's configuration.
#[derive(Debug)]
enum Entry {
    Stdio {
        name: String,
        command: String,
        args: Vec<String>,
    },
    Http {
        name: String,
        url: String,
    },
}

/// `mcpServers` (Claude Desktop, Cursor) or `servers` (VS Code) of a JSON file.
fn json_entries(file: &str) -> Vec<Entry> {
    let text = std::fs::read_to_string(Path::new(EXAMPLES).join(file)).expect("example exists");
    let json: Value = serde_json::from_str(&text).expect("valid JSON");
    let servers = json
        .get("mcpServers")
        .or_else(|| json.get("servers"))
        .and_then(Value::as_object)
        .expect("a servers block");
    servers
        .iter()
        .map(|(name, entry)| {
            assert!(
                entry.get("env").is_none(),
                "{file} {name}: no env block (Claude Desktop does not expand variables)"
            );
            match entry.get("url").and_then(Value::as_str) {
                Some(url) => Entry::Http {
                    name: name.clone(),
                    url: url.to_string(),
                },
                None => Entry::Stdio {
                    name: name.clone(),
                    command: entry["command"].as_str().expect("command").to_string(),
                    args: entry["args"]
                        .as_array()
                        .expect("args")
                        .iter()
                        .map(|a| a.as_str().expect("string arg").to_string())
                        .collect(),
                },
            }
        })
        .collect()
}

/// The `claude mcp add` lines: `NAME -- COMMAND ARGS...` or `--transport http NAME URL`.
fn claude_code_entries() -> Vec<Entry> {
    let text = std::fs::read_to_string(Path::new(EXAMPLES).join("claude_code.sh")).unwrap();
    text.lines()
        .filter(|line| line.starts_with("claude mcp add "))
        .map(|line| {
            let words: Vec<String> = line.split_whitespace().map(String::from).collect();
            match words.iter().position(|w| w == "--") {
                Some(dash) => Entry::Stdio {
                    name: words[dash - 1].clone(),
                    command: words[dash + 1].clone(),
                    args: words[dash + 2..].to_vec(),
                },
                None => {
                    assert!(line.contains("--transport http"), "{line}");
                    Entry::Http {
                        name: words[words.len() - 2].clone(),
                        url: words[words.len() - 1].clone(),
                    }
                }
            }
        })
        .collect()
}

/// The documented paths, made real for this machine.
struct Paths {
    toml: PathBuf,
    scratch: tempfile::TempDir,
}

impl Paths {
    fn localize(&self, value: &str) -> String {
        if value == BINARY {
            return env!("CARGO_BIN_EXE_tanzu-mcp").to_string();
        }
        if value == CONFIG {
            return self.toml.display().to_string();
        }
        match value.strip_prefix(HOME) {
            Some(rest) => {
                let path = self.scratch.path().join(rest);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                path.display().to_string()
            }
            None => value.to_string(),
        }
    }
}

/// Reads alice's access through a connected client: the proof that the entry works.
async fn exercise<S>(client: &rmcp::service::RunningService<rmcp::RoleClient, S>, what: &str)
where
    S: rmcp::service::Service<rmcp::RoleClient>,
{
    let tools = client.list_all_tools().await.expect("tools/list");
    assert_eq!(
        tools.len(),
        tanzu_mcp::server::TanzuMcp::all_tool_names().len(),
        "{what}: every tool is offered"
    );
    let arguments = json!({"email": "alice@example.com"});
    let result = client
        .call_tool(
            CallToolRequestParams::new("get_user_access")
                .with_arguments(arguments.as_object().unwrap().clone()),
        )
        .await
        .expect("tools/call");
    assert_ne!(result.is_error, Some(true), "{what}: {result:?}");
    let access = result.structured_content.expect("structured result");
    assert_eq!(access["status"], "ACTIVE", "{what}");
}

async fn launch_stdio(paths: &Paths, file: &str, name: &str, command: &str, args: &[String]) {
    let what = format!("{file} {name}");
    assert_eq!(
        command, BINARY,
        "{what}: an absolute path, as Claude Desktop needs"
    );
    let mut process = tokio::process::Command::new(paths.localize(command));
    process.args(args.iter().map(|a| paths.localize(a)));
    let log = ServerLog::new(&what);
    let (transport, _) = TokioChildProcess::builder(process)
        .stderr(log.stdio())
        .spawn()
        .expect("spawn the configured command");
    let client = ().serve(transport).await.expect("MCP initialize");
    exercise(&client, &what).await;
    let _ = client.cancel().await;
}

/// A free loopback port for the HTTP server that an `url` entry expects.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn launch_http(file: &str, name: &str, url: &str) {
    let what = format!("{file} {name}");
    assert!(url.contains(PORT), "{what}: the README's port");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let log = ServerLog::new(&what);
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_tanzu-mcp"))
        .args([
            "serve",
            "--sandbox",
            "--transport",
            "http",
            "--listen",
            &listen,
        ])
        .stdin(std::process::Stdio::null())
        .stderr(log.stdio())
        .kill_on_drop(true)
        .spawn()
        .expect("start the HTTP server");
    let url = url.replace(PORT, &format!(":{port}"));
    let health = url.replace("/mcp", "/healthz");
    let mut ready = false;
    for _ in 0..600 {
        if common::http().get(&health).send().await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "{what}: the server answers /healthz: {}", log.text());
    let client =
        ().serve(StreamableHttpClientTransport::from_uri(url))
            .await
            .expect("MCP initialize over HTTP");
    exercise(&client, &what).await;
    let _ = client.cancel().await;
    let _ = server.kill().await;
}

// The sandbox runs in this process while the servers under test call it: keep it answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_client_configuration_works_as_written() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let paths = Paths {
        toml,
        scratch: tempfile::tempdir().unwrap(),
    };
    let files: [(&str, Vec<Entry>); 4] = [
        (
            "claude_desktop_config.json",
            json_entries("claude_desktop_config.json"),
        ),
        ("cursor_mcp.json", json_entries("cursor_mcp.json")),
        ("vscode_mcp.json", json_entries("vscode_mcp.json")),
        ("claude_code.sh", claude_code_entries()),
    ];
    for (file, entries) in &files {
        assert!(!entries.is_empty(), "{file} has entries");
        for entry in entries {
            match entry {
                Entry::Stdio {
                    name,
                    command,
                    args,
                } => launch_stdio(&paths, file, name, command, args).await,
                Entry::Http { name, url } => {
                    assert_ne!(
                        *file, "claude_desktop_config.json",
                        "Claude Desktop launches no url entries"
                    );
                    launch_http(file, name, url).await;
                }
            }
        }
    }
    let stdio = files
        .iter()
        .flat_map(|(_, e)| e)
        .filter(|e| matches!(e, Entry::Stdio { .. }))
        .count();
    assert_eq!(stdio, 8, "two stdio entries per client");
}
