//! The `tanzu-mcp` binary: parses the command line, sets up logging to stderr and hands over to
//! the library. Exit codes: 0 ok, 2 usage or configuration error, 1 anything else.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use std::path::Path;

use clap::{Parser, Subcommand};
use tanzu_mcp::access::Systems;
use tanzu_mcp::clients;
use tanzu_mcp::config::Config;
use tanzu_mcp::sandbox::{DataSet, Sandbox, SandboxOptions};
use tanzu_mcp::server::{self, ServerOptions, TanzuMcp, catalog, transport};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "tanzu-mcp",
    version,
    about = "Run the VMware Tanzu user-access lifecycle safely, over MCP"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the MCP tools (stdio by default).
    Serve(ServeArgs),
    /// Run the simulator of CSP, TMC and TAP clusters on its own.
    Sandbox(SandboxArgs),
    /// Print the tool catalogue.
    Tools {
        /// One JSON document with every tool's name, description, annotations and schemas.
        #[arg(long)]
        json: bool,
    },
    /// Call one tool from a shell or a script.
    Call(CallArgs),
    /// Check the configuration: token exchange, CSP org, TMC, every TAP context.
    Check {
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    #[arg(long)]
    config: Option<PathBuf>,
    /// Start the simulator in-process and point the clients at it: no credentials needed.
    #[arg(long)]
    sandbox: bool,
    #[arg(long, value_enum, default_value = "stdio")]
    transport: Transport,
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Offer only the read tools.
    #[arg(long)]
    read_only: bool,
    /// Offer only these tools (comma-separated).
    #[arg(long, value_delimiter = ',')]
    tools: Option<Vec<String>>,
    #[arg(long, value_enum, default_value = "elicit")]
    confirm: ConfirmMode,
    /// Seconds a confirmation token stays valid (with --confirm token).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86400))]
    confirm_ttl: u64,
    /// Append one JSON line per attempted change to this file.
    #[arg(long)]
    audit_log: Option<PathBuf>,
    #[command(flatten)]
    http: transport::HttpFlags,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Transport {
    Stdio,
    Http,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ConfirmMode {
    Elicit,
    Token,
}

#[derive(clap::Args)]
struct SandboxArgs {
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    #[arg(long, value_enum, default_value = "demo")]
    data: DataSet,
    /// Write tanzu-mcp.toml, kubeconfig and api-token pointing at the running sandbox.
    #[arg(long)]
    write_config: Option<PathBuf>,
}

#[derive(clap::Args)]
struct CallArgs {
    tool: String,
    /// The tool's arguments as JSON (default `{}`).
    args: Option<String>,
    #[arg(long, conflicts_with = "sandbox")]
    config: Option<PathBuf>,
    #[arg(long)]
    sandbox: bool,
    /// Approve a destructive call without asking on the terminal.
    #[arg(long)]
    yes: bool,
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    // Logs go to stderr: over stdio, stdout belongs to the MCP protocol.
    let filter =
        EnvFilter::try_from_env("TANZU_MCP_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

/// A failed command: the exit code (2 usage or configuration, 1 anything else) and a message
/// that names the fix.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
    fn other(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
        }
    }
}

type CliResult = Result<(), Failure>;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let result = match cli.command {
        Command::Serve(args) => run_serve(args).await,
        Command::Sandbox(args) => run_sandbox(args).await,
        Command::Tools { json } => run_tools(json),
        Command::Call(args) => run_call(args).await,
        Command::Check { config } => run_check(config).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("tanzu-mcp: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// The systems to serve, and what must live as long as they do (an in-process sandbox and the
/// folder holding its generated configuration).
struct Backend {
    systems: Systems,
    _sandbox: Option<(Sandbox, tempfile::TempDir)>,
}

/// `--sandbox`: start the simulator on a free loopback port and reach it through the real
/// clients, exactly as a configured deployment would.
async fn sandbox_backend() -> Result<Backend, Failure> {
    let listen: SocketAddr = "127.0.0.1:0".parse().expect("a valid loopback address");
    let sandbox = Sandbox::start(listen, SandboxOptions::default())
        .await
        .map_err(|e| Failure::other(format!("sandbox: cannot start on loopback: {e}")))?;
    let dir = tempfile::Builder::new()
        .prefix("tanzu-mcp-sandbox-")
        .tempdir()
        .map_err(|e| Failure::other(format!("sandbox: cannot create a temporary folder: {e}")))?;
    let toml = sandbox
        .write_config(dir.path())
        .map_err(|e| Failure::other(format!("sandbox: cannot write its configuration: {e}")))?;
    let config = Config::load(Some(&toml)).map_err(|e| Failure::other(format!("sandbox: {e}")))?;
    let systems = clients::connect(&config)
        .await
        .map_err(|e| Failure::other(e.to_string()))?;
    tracing::info!(addr = %sandbox.addr(), "sandbox started");
    Ok(Backend {
        systems,
        _sandbox: Some((sandbox, dir)),
    })
}

async fn configured_backend(path: Option<&Path>) -> Result<Backend, Failure> {
    let config = Config::load(path).map_err(|e| Failure::usage(e.to_string()))?;
    let systems = clients::connect(&config)
        .await
        .map_err(|e| Failure::usage(e.to_string()))?;
    Ok(Backend {
        systems,
        _sandbox: None,
    })
}

async fn backend(sandbox: bool, config: Option<&Path>) -> Result<Backend, Failure> {
    if sandbox {
        sandbox_backend().await
    } else {
        configured_backend(config).await
    }
}

async fn run_serve(args: ServeArgs) -> CliResult {
    // Checked before anything starts: an unsafe --listen exits 2 at once.
    let http = match args.transport {
        Transport::Http => Some(args.http.to_options(&args.listen).map_err(Failure::usage)?),
        Transport::Stdio => None,
    };
    if args.sandbox && args.config.is_some() {
        return Err(Failure::usage(
            "--sandbox and --config exclude each other; pass one",
        ));
    }
    if let Some(tools) = &args.tools {
        let unknown = TanzuMcp::unknown_tool_names(tools);
        if !unknown.is_empty() {
            return Err(Failure::usage(format!(
                "--tools names unknown tools: {}; `tanzu-mcp tools` lists them",
                unknown.join(", ")
            )));
        }
    }
    let options = ServerOptions {
        read_only: args.read_only,
        tools: args.tools,
        confirm: match args.confirm {
            ConfirmMode::Elicit => server::ConfirmMode::Elicit,
            ConfirmMode::Token => server::ConfirmMode::Token,
        },
        confirm_ttl: Some(std::time::Duration::from_secs(args.confirm_ttl)),
        audit_log: args.audit_log,
    };
    let backend = backend(args.sandbox, args.config.as_deref()).await?;
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
        Some(options) => transport::serve_http(move || Ok(server.clone()), options, shutdown)
            .await
            .map_err(|e| Failure {
                code: e.exit_code(),
                message: e.to_string(),
            }),
    }
}

fn run_tools(json: bool) -> CliResult {
    if json {
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

async fn run_call(args: CallArgs) -> CliResult {
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
    if TanzuMcp::all_tools().get(&args.tool).is_none() {
        return Err(Failure::usage(format!(
            "no tool named '{}'; `tanzu-mcp tools` lists them",
            args.tool
        )));
    }
    let backend = backend(args.sandbox, args.config.as_deref()).await?;
    let server = TanzuMcp::new(backend.systems.clone(), &ServerOptions::default())
        .map_err(|e| Failure::other(e.to_string()))?;
    let result = server::call::call(server, &args.tool, arguments, args.yes)
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
    if result.is_error == Some(true) {
        Err(Failure::other(format!("{} reported an error", args.tool)))
    } else {
        Ok(())
    }
}

async fn run_check(config: Option<PathBuf>) -> CliResult {
    let report = clients::check::run_path(config.as_deref()).await;
    print!("{report}");
    match report.first_failure() {
        None => Ok(()),
        Some(line) => Err(Failure {
            code: report.exit_code(),
            message: format!("check failed: {}", line.name),
        }),
    }
}

async fn run_sandbox(args: SandboxArgs) -> CliResult {
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
    // The sandbox command is interactive: telling the human where it listens and what to run
    // next is its output, so it goes to stdout.
    println!("sandbox listening on {}", sandbox.base_url());
    println!("  CSP   {}/csp/gateway/am/api/...", sandbox.base_url());
    println!("  TMC   {}/v1alpha1/...", sandbox.base_url());
    let clusters = sandbox.tap_clusters();
    for name in clusters.iter().take(3) {
        println!("  TAP   https://{}/k8s/{name}", sandbox.addr());
    }
    if clusters.len() > 3 {
        println!("        ... and {} more TAP clusters", clusters.len() - 3);
    }
    match args.write_config {
        Some(dir) => {
            let toml = sandbox.write_config(&dir).map_err(|e| {
                Failure::other(format!(
                    "sandbox: cannot write config to {}: {e}",
                    dir.display()
                ))
            })?;
            let first = clusters.first().cloned().unwrap_or_default();
            println!(
                "wrote {}, kubeconfig and api-token in {}",
                toml.display(),
                dir.display()
            );
            println!("next:");
            println!("  tanzu-mcp serve --config {}", toml.display());
            println!(
                "  kubectl --kubeconfig {} --context {first} get clusterrolebindings",
                dir.join("kubeconfig").display()
            );
        }
        None => println!(
            "next: rerun with --write-config DIR to get a config for `tanzu-mcp serve --config`"
        ),
    }
    println!("stop with Ctrl-C");
    transport::shutdown_signal().await;
    sandbox.shutdown().await;
    Ok(())
}
