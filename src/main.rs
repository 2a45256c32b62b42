//! The `tanzu-mcp` binary: parses the command line, sets up logging to stderr and hands over to
//! the library (`tanzu_mcp::cli`). Exit codes: 0 ok, 2 usage or configuration error, 1 anything
//! else.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tanzu_mcp::cli::{self, commands};

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
    Serve(commands::ServeArgs),
    /// Run the simulator of CSP, TMC and TAP clusters on its own.
    Sandbox(commands::SandboxArgs),
    /// Print the tool catalogue.
    Tools(commands::ToolsArgs),
    /// Call one tool from a shell or a script.
    Call(commands::CallArgs),
    /// Check the configuration: token exchange, CSP org, TMC, every TAP context.
    Check(commands::CheckArgs),
}

fn main() -> ExitCode {
    let parsed = Cli::parse();
    if matches!(parsed.command, Command::Serve(_) | Command::Call(_)) {
        // Before the runtime: the catalogue builds while the rest of start-up runs.
        tanzu_mcp::server::prepare_catalog();
    }
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run(parsed)),
        Err(e) => {
            eprintln!("tanzu-mcp: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(parsed: Cli) -> ExitCode {
    // `call` is for shells and scripts: quiet unless -v.
    let level = match &parsed.command {
        Command::Call(args) => args.log_level(),
        _ => "info",
    };
    cli::init_tracing(level);
    let result = match parsed.command {
        Command::Serve(args) => commands::serve(args).await,
        Command::Sandbox(args) => commands::sandbox(args).await,
        Command::Tools(args) => commands::tools(args),
        Command::Call(args) => commands::call(args).await,
        Command::Check(args) => commands::check(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("tanzu-mcp: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
