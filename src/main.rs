//! The `tanzu-mcp` binary: parses the command line, sets up logging to stderr and hands over to
//! the library. Exit codes: 0 ok, 2 usage or configuration error, 1 anything else.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tanzu_mcp::sandbox::{DataSet, Sandbox, SandboxOptions};

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
    /// Append one JSON line per attempted change to this file.
    #[arg(long)]
    audit_log: Option<PathBuf>,
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
    let filter =
        EnvFilter::try_from_env("TANZU_MCP_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let result = match cli.command {
        Command::Sandbox(args) => run_sandbox(args).await,
        _ => Err(anyhow_msg("not implemented yet")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("tanzu-mcp: {message}");
            ExitCode::from(code)
        }
    }
}

type CliResult = Result<(), (u8, String)>;

fn anyhow_msg(message: &str) -> (u8, String) {
    (1, message.to_string())
}

async fn run_sandbox(args: SandboxArgs) -> CliResult {
    let options = SandboxOptions {
        data: args.data,
        ..SandboxOptions::default()
    };
    let sandbox = Sandbox::start(args.listen, options).await.map_err(|e| {
        (
            2,
            format!(
                "sandbox: cannot listen on {} ({e}); pass another address with --listen",
                args.listen
            ),
        )
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
                (
                    1,
                    format!("sandbox: cannot write config to {}: {e}", dir.display()),
                )
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
    shutdown_signal().await;
    sandbox.shutdown().await;
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
