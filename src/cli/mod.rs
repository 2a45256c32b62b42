//! What the `tanzu-mcp` binary does, behind its command line: each command as a function,
//! and the one failure type whose exit code the binary returns (0 ok, 2 usage or
//! configuration, 1 anything else).
//!
//! - [`backend`]: the systems to serve, from a configuration or an in-process sandbox.
//! - [`commands`]: `serve`, `sandbox`, `tools`, `call` and `check`.

pub mod backend;
pub mod commands;

/// A failed command: the exit code and a message that names the fix.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Usage or configuration: exit 2.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }

    /// Anything else: exit 1.
    pub fn other(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
        }
    }
}

pub type CliResult = Result<(), Failure>;

/// Logs go to stderr (over stdio, stdout belongs to the MCP protocol); `TANZU_MCP_LOG` sets
/// the filter, else `default_level`. rmcp logs whole protocol messages (confirmation tokens, request states, session
/// ids among them) below warn: it stays at warn unless the filter names `rmcp` on purpose.
pub fn init_tracing(default_level: &str) {
    use tracing_subscriber::EnvFilter;
    let asked = std::env::var("TANZU_MCP_LOG").unwrap_or_else(|_| default_level.to_string());
    let directives = if asked.contains("rmcp") {
        asked
    } else {
        format!("{asked},rmcp=warn")
    };
    let filter =
        EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info,rmcp=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}
