//! `tanzu-mcp call`: one tool call from a shell or a script, through the same MCP path an agent
//! uses (an in-process client over a pipe), so approvals work the same way: a destructive call
//! asks on the terminal, `--yes` approves it, and without a terminal it fails closed.

use std::io::{BufRead, IsTerminal, Write};

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, Implementation, JsonObject,
};
use rmcp::service::{RequestContext, RoleClient};
use rmcp::{ClientHandler, ErrorData, ServiceExt};

use super::TanzuMcp;

/// Answers the server's approval requests for a shell user.
struct ShellApprover {
    /// `--yes`: approve by typing back the email given in the arguments.
    yes: bool,
    email: Option<String>,
    /// `-v`: show the plan and the decision on stderr even when nobody is asked.
    verbose: bool,
}

impl ClientHandler for ShellApprover {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder().enable_elicitation().build(),
            Implementation::new("tanzu-mcp-call", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let ElicitRequestParams::FormElicitationParams { message, .. } = request else {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        };
        let interactive = !self.yes && std::io::stdin().is_terminal();
        // Quiet by default: the plan is in the result on stdout; only a human being asked
        // needs to see it here.
        if interactive || self.verbose {
            eprintln!("{message}");
        }
        if self.yes {
            let email = self.email.clone().unwrap_or_default();
            if self.verbose {
                eprintln!("approved by --yes");
            }
            return Ok(ElicitResult::new(ElicitationAction::Accept)
                .with_content(serde_json::json!({ "email": email })));
        }
        if !interactive {
            if self.verbose {
                eprintln!("no terminal to ask on and no --yes: declined, nothing changes");
            }
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        }
        let typed = tokio::task::spawn_blocking(|| {
            eprint!("> ");
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map(|_| line)
        })
        .await
        .map_err(|e| ErrorData::internal_error(e.to_string(), None))?
        .unwrap_or_default();
        Ok(ElicitResult::new(ElicitationAction::Accept)
            .with_content(serde_json::json!({ "email": typed.trim() })))
    }
}

/// Call `tool` with `arguments` on `server` and return its result.
pub async fn call(
    server: TanzuMcp,
    tool: &str,
    arguments: JsonObject,
    yes: bool,
    verbose: bool,
) -> Result<CallToolResult, String> {
    let (server_end, client_end) = tokio::io::duplex(1 << 16);
    let serving = tokio::spawn(async move {
        if let Ok(running) = server.serve(server_end).await {
            let _ = running.waiting().await;
        }
    });
    // What `--yes` types back: the email, or for a group's change the group's name.
    let email = arguments
        .get("email")
        .or_else(|| arguments.get("group"))
        .and_then(|v| v.as_str())
        .map(String::from);
    let client = ShellApprover {
        yes,
        email,
        verbose,
    }
    .serve(client_end)
    .await
    .map_err(|e| format!("could not start the in-process MCP session: {e}"))?;
    let result = client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments))
        .await
        .map_err(|e| format!("{tool}: {e}"));
    let _ = client.cancel().await;
    serving.abort();
    result
}
