//! The commands of the binary, each with its flags (clap) and its body.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::backend::Backend;
use super::{CliResult, Failure};
use crate::clients;
use crate::sandbox::{DataSet, Sandbox, SandboxOptions};
use crate::server::{self, ConfirmMode, ServerOptions, TanzuMcp, Transport, catalog, transport};

/// Every flag of `serve` can also come from a `TANZU_MCP_*` variable (the flag wins), so a
/// container or a CI job configures the server with the environment alone.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The configuration file (TOML); without it, ./tanzu-mcp.toml, else the environment alone
    /// (VMW_CLOUD_API_TOKEN, TANZU_MCP_ORG_ID, TMC_ENDPOINT, TANZU_MCP_TAP_CONTEXTS, ...).
    #[arg(long, value_name = "FILE", env = "TANZU_MCP_CONFIG")]
    pub config: Option<PathBuf>,
    /// Start the simulator in-process and point the clients at it: no credentials needed.
    #[arg(
        long,
        conflicts_with = "config",
        env = "TANZU_MCP_SANDBOX",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub sandbox: bool,
    /// With --sandbox: which world the simulator starts with.
    #[arg(
        long,
        value_enum,
        default_value = "demo",
        requires = "sandbox",
        env = "TANZU_MCP_DATA"
    )]
    pub data: DataSet,
    /// stdio (one client, the default) or http (Streamable HTTP at /mcp and legacy SSE).
    #[arg(long, value_enum, default_value = "stdio", env = "TANZU_MCP_TRANSPORT")]
    pub transport: Transport,
    /// With --transport http: the address to listen on (loopback unless authenticated).
    #[arg(
        long,
        default_value = "127.0.0.1:8080",
        value_name = "ADDR",
        env = "TANZU_MCP_LISTEN"
    )]
    pub listen: String,
    /// Offer only the read tools.
    #[arg(
        long,
        env = "TANZU_MCP_READ_ONLY",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub read_only: bool,
    /// Offer only these tools (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "NAME,...",
        env = "TANZU_MCP_TOOLS"
    )]
    pub tools: Option<Vec<String>>,
    /// How a human approves destructive calls: auto (elicitation when the client offers it,
    /// else a one-time page in the browser, else fail closed), elicit, browser, or tokens for
    /// trusted automation.
    #[arg(long, value_enum, default_value = "auto", env = "TANZU_MCP_CONFIRM")]
    pub confirm: ConfirmMode,
    /// The command that opens a browser approval page; the page's URL is its last argument
    /// (default: open, start or xdg-open).
    #[arg(long, value_name = "CMD", env = "TANZU_MCP_APPROVAL_BROWSER")]
    pub approval_browser: Option<String>,
    /// Seconds a call waits for a browser approval before answering `approval_pending`.
    #[arg(
        long,
        default_value_t = 45,
        value_parser = clap::value_parser!(u64).range(1..=600),
        env = "TANZU_MCP_APPROVAL_WAIT"
    )]
    pub approval_wait: u64,
    /// Seconds a confirmation token (with --confirm token) or a browser approval page stays valid.
    #[arg(
        long,
        default_value_t = 300,
        value_parser = clap::value_parser!(u64).range(1..=86400),
        env = "TANZU_MCP_CONFIRM_TTL"
    )]
    pub confirm_ttl: u64,
    /// Append one JSON line per attempted change to this file.
    #[arg(long, value_name = "FILE", env = "TANZU_MCP_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
    #[command(flatten)]
    pub http: transport::HttpFlags,
}

pub async fn serve(args: ServeArgs) -> CliResult {
    // Checked before anything starts: an unsafe --listen exits 2 at once.
    let http = match args.transport {
        Transport::Http => Some(args.http.to_options(&args.listen).map_err(Failure::usage)?),
        Transport::Stdio => None,
    };
    if let Some(tools) = &args.tools {
        let unknown = TanzuMcp::unknown_tool_names(tools);
        if !unknown.is_empty() {
            return Err(Failure::usage(format!(
                "--tools names unknown tools: {}; `tanzu-mcp tools` lists them",
                unknown.join(", ")
            )));
        }
    }
    let sandbox = args.sandbox.then_some(args.data);
    let backend = Backend::new(sandbox, args.config.as_deref()).await?;
    let options = ServerOptions {
        read_only: args.read_only,
        tools: args.tools,
        confirm: args.confirm,
        confirm_ttl: Some(Duration::from_secs(args.confirm_ttl)),
        approval_browser: args.approval_browser,
        approval_wait: Some(Duration::from_secs(args.approval_wait)),
        audit_log: args.audit_log,
        policy: backend.policy.clone(),
    };
    // Only both flags together can leave nothing (an unknown --tools name exits above); the
    // check needs the whole catalogue, which start-up otherwise builds off the critical path.
    if options.read_only
        && options.tools.is_some()
        && TanzuMcp::offered_tool_names(&options).is_empty()
    {
        tracing::warn!(
            "--read-only and --tools together leave no tool to offer: clients will see an empty \
             list; drop --read-only or name a read tool in --tools"
        );
    }
    if args.sandbox && std::io::stdin().is_terminal() {
        // A human ran this by hand and would otherwise stare at a silent terminal.
        eprintln!("{}", connect_hint(args.transport, &args.listen));
    }
    let server = TanzuMcp::new(backend.systems.clone(), &options).map_err(|e| {
        Failure::usage(format!("cannot open the audit log: {e}; check --audit-log"))
    })?;
    let shutdown = CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            transport::shutdown_signal().await;
            shutdown.cancel();
        }
    });
    match http {
        None => server::serve_stdio(server, shutdown)
            .await
            .map_err(|e| Failure::other(e.to_string())),
        Some(options) => {
            let failed = |e: transport::TransportError| Failure {
                code: e.exit_code(),
                message: e.to_string(),
            };
            let listener = transport::HttpServer::bind(options).await.map_err(failed)?;
            let addr = listener
                .local_addr()
                .map_err(|e| Failure::other(e.to_string()))?;
            // Browser approvals are served by this listener, behind the same bearer auth.
            let pages = server.approval_pages_on(addr);
            listener
                .with_routes(pages)
                .serve(move || Ok(server.clone()), shutdown)
                .await
                .map_err(failed)
        }
    }
}

/// The one line `serve --sandbox` prints on a terminal: how to reach it from a client.
fn connect_hint(transport: Transport, listen: &str) -> String {
    match transport {
        Transport::Stdio => "tanzu-mcp: serving MCP over stdin/stdout, waiting for a client: \
            configure `tanzu-mcp serve --sandbox` as a stdio command in your MCP client (see \
            examples/clients/), or add --transport http to serve http://127.0.0.1:8080/mcp; \
            Ctrl-C stops"
            .to_string(),
        Transport::Http => format!(
            "tanzu-mcp: serving MCP at http://{listen}/mcp (Streamable HTTP) and \
             http://{listen}/sse (legacy SSE): point your client at it; Ctrl-C stops"
        ),
    }
}

#[derive(Debug, clap::Args)]
pub struct ToolsArgs {
    /// One JSON document with every tool's name, description, annotations and schemas.
    #[arg(long)]
    pub json: bool,
}

pub fn tools(args: ToolsArgs) -> CliResult {
    if args.json {
        let tools: Vec<serde_json::Value> = catalog::tools_json()
            .into_iter()
            .map(|(_, tool)| tool)
            .collect();
        let text =
            serde_json::to_string_pretty(&tools).map_err(|e| Failure::other(e.to_string()))?;
        println!("{text}");
    } else {
        println!("{}", catalog::tools_text());
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct CallArgs {
    /// The tool to call (`tanzu-mcp tools` lists them).
    pub tool: String,
    /// The tool's arguments as JSON (default `{}`).
    pub args: Option<String>,
    /// The configuration file (TOML); without it, ./tanzu-mcp.toml, else the environment alone.
    #[arg(
        long,
        conflicts_with = "sandbox",
        value_name = "FILE",
        env = "TANZU_MCP_CONFIG"
    )]
    pub config: Option<PathBuf>,
    /// Call against a fresh in-process sandbox (a new demo world every time: nothing persists
    /// between calls; `tanzu-mcp sandbox` keeps one running).
    #[arg(long)]
    pub sandbox: bool,
    /// Approve a destructive call without asking on the terminal.
    #[arg(long)]
    pub yes: bool,
    /// Say more on stderr: -v for progress and info logs, -vv for debug (quiet by default: at
    /// most one line, warnings and the failure).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl CallArgs {
    /// The log filter when `TANZU_MCP_LOG` is unset: warnings only unless -v.
    pub fn log_level(&self) -> &'static str {
        match self.verbose {
            0 => "warn",
            1 => "info",
            _ => "debug",
        }
    }
}

/// What `call --sandbox` adds to its one stderr line.
const FRESH_SANDBOX: &str =
    "call --sandbox ran on a fresh demo world: nothing persists to the next call";

pub async fn call(args: CallArgs) -> CliResult {
    let arguments: serde_json::Map<String, serde_json::Value> = match args.args.as_deref() {
        None => serde_json::Map::new(),
        Some(raw) => match serde_json::from_str(raw) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => {
                return Err(Failure::usage(
                    "the tool arguments must be a JSON object, such as '{\"email\":\"a@b.c\"}'",
                ));
            }
            Err(e) => {
                return Err(Failure::usage(format!(
                    "the tool arguments are not valid JSON: {e}"
                )));
            }
        },
    };
    let Some(tool) = TanzuMcp::all_tools().get(&args.tool).cloned() else {
        return Err(Failure::usage(format!(
            "{}; `tanzu-mcp tools` lists them",
            server::unknown_tool_message(&args.tool, &TanzuMcp::all_tool_names())
        )));
    };
    // Bad arguments are a usage error (exit 2), found before anything starts.
    if let Err(problem) = server::arguments::check(&tool.input_schema, &arguments) {
        return Err(Failure::usage(format!("{}: {problem}", args.tool)));
    }
    let sandbox = args.sandbox.then_some(DataSet::Demo);
    let backend = Backend::new(sandbox, args.config.as_deref()).await?;
    let options = ServerOptions {
        policy: backend.policy.clone(),
        ..ServerOptions::default()
    };
    let server = TanzuMcp::new(backend.systems.clone(), &options)
        .map_err(|e| Failure::other(e.to_string()))?;
    let result = server::call::call(server, &args.tool, arguments, args.yes, args.verbose > 0)
        .await
        .map_err(Failure::other)?;
    let shown = match &result.structured_content {
        Some(value) => serde_json::to_string_pretty(value).unwrap_or_default(),
        None => result
            .content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.clone()))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    println!("{shown}");
    let fresh = if args.sandbox {
        format!(" ({FRESH_SANDBOX})")
    } else {
        String::new()
    };
    if result.is_error == Some(true) {
        Err(Failure::other(format!(
            "{} reported an error (the result is on stdout){fresh}",
            args.tool
        )))
    } else {
        if args.sandbox {
            eprintln!("tanzu-mcp: {FRESH_SANDBOX}");
        }
        Ok(())
    }
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The configuration file (TOML); without it, ./tanzu-mcp.toml, else the environment alone.
    #[arg(long, value_name = "FILE", env = "TANZU_MCP_CONFIG")]
    pub config: Option<PathBuf>,
}

pub async fn check(args: CheckArgs) -> CliResult {
    let report = clients::check::run_path(args.config.as_deref()).await;
    print!("{report}");
    match report.first_failure() {
        None => Ok(()),
        Some(line) => Err(Failure {
            code: report.exit_code(),
            message: format!("check failed: {}", line.name),
        }),
    }
}

#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// The loopback address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Which world the simulator starts with.
    #[arg(long, value_enum, default_value = "demo")]
    pub data: DataSet,
    /// Write tanzu-mcp.toml, kubeconfig and api-token pointing at the running sandbox.
    #[arg(long, value_name = "DIR")]
    pub write_config: Option<PathBuf>,
}

pub async fn sandbox(args: SandboxArgs) -> CliResult {
    let options = SandboxOptions {
        data: args.data,
        ..SandboxOptions::default()
    };
    let sandbox = Sandbox::start(args.listen, options).await.map_err(|e| {
        Failure::usage(format!(
            "sandbox: cannot listen on {} ({e}); pass another address with --listen",
            args.listen
        ))
    })?;
    let written = match &args.write_config {
        Some(dir) => Some(sandbox.write_config(dir).map_err(|e| {
            Failure::other(format!(
                "sandbox: cannot write config to {}: {e}",
                dir.display()
            ))
        })?),
        None => None,
    };
    // The sandbox command is interactive: telling the human where it listens and what to run
    // next is its output, so it goes to stdout.
    print!(
        "{}",
        banner(
            &sandbox,
            args.write_config.as_deref().zip(written.as_deref())
        )
    );
    transport::shutdown_signal().await;
    sandbox.shutdown().await;
    Ok(())
}

/// Where the sandbox listens and what to run next.
fn banner(sandbox: &Sandbox, written: Option<(&std::path::Path, &std::path::Path)>) -> String {
    let base = sandbox.base_url();
    let mut lines = vec![
        format!("sandbox listening on {base}"),
        format!("  CSP   {base}/csp/gateway/am/api/..."),
        format!("  TMC   {base}/v1alpha1/..."),
    ];
    let clusters = sandbox.tap_clusters();
    for name in clusters.iter().take(3) {
        lines.push(format!("  TAP   https://{}/k8s/{name}", sandbox.addr()));
    }
    if clusters.len() > 3 {
        lines.push(format!(
            "        ... and {} more TAP clusters",
            clusters.len() - 3
        ));
    }
    match written {
        Some((dir, toml)) => {
            let first = clusters.first().cloned().unwrap_or_default();
            lines.push(format!(
                "wrote {}, kubeconfig and api-token in {}",
                toml.display(),
                dir.display()
            ));
            lines.push("next:".into());
            lines.push(format!("  tanzu-mcp serve --config {}", toml.display()));
            lines.push(format!(
                "  kubectl --kubeconfig {} --context {first} get clusterrolebindings",
                dir.join("kubeconfig").display()
            ));
        }
        None => lines.push(
            "next: rerun with --write-config DIR to get a config for `tanzu-mcp serve --config`"
                .into(),
        ),
    }
    lines.push("stop with Ctrl-C".into());
    lines.join("\n") + "\n"
}
