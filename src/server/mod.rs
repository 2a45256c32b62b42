//! The MCP adapter: the rmcp handler, the tools and the transports. Thin: parse the arguments,
//! call `crate::access`, shape the result.
//!
//! - [`tools`]: one file per tool group, each a `#[tool_router]` impl summed here.
//! - [`approval`]: asking a human to approve a plan (elicitation on both protocol paths, or
//!   confirmation tokens): the server's side of the domain's approval port.
//! - [`progress`]: progress notifications while a plan runs.
//! - [`outcome`]: the one place where domain errors become `isError` tool results.
//! - [`catalog`]: the published tool catalogue (`tanzu-mcp tools --json`, `tools/*.json`).

pub mod approval;
pub mod call;
pub mod catalog;
pub mod outcome;
pub mod progress;
pub mod tools;
pub mod transport;

use std::path::PathBuf;
use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, ServiceExt, tool_handler};
use tokio_util::sync::CancellationToken;

use crate::access::Systems;
use crate::access::audit::AuditLog;
use crate::access::change::locks::ChangeLocks;
use crate::access::policy::WritePolicy;
pub use approval::ConfirmMode;
use approval::{Approvals, DEFAULT_TOKEN_TTL};

/// How `serve` talks to its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Transport {
    /// One client over stdin and stdout.
    #[default]
    Stdio,
    /// Streamable HTTP at /mcp and the legacy HTTP+SSE transport.
    Http,
}

/// What `serve` was told on the command line.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Offer only tools that change nothing.
    pub read_only: bool,
    /// Offer only these tools (after `read_only`).
    pub tools: Option<Vec<String>>,
    pub confirm: ConfirmMode,
    /// How long a confirmation token stays valid (`--confirm token`); default 300 s.
    pub confirm_ttl: Option<std::time::Duration>,
    pub audit_log: Option<PathBuf>,
    /// Which writes need a human (`[policy]` in the configuration).
    pub policy: WritePolicy,
}

/// State shared by every session of one server process.
pub(crate) struct Shared {
    pub systems: Systems,
    pub approvals: Approvals,
    pub audit: AuditLog,
    pub policy: Arc<WritePolicy>,
    /// Serializes changes to one person across every session of this process.
    pub locks: ChangeLocks,
}

/// The MCP server. Cheap to clone: one per session over HTTP, sharing [`Shared`].
#[derive(Clone)]
pub struct TanzuMcp {
    pub(crate) shared: Arc<Shared>,
    tool_router: ToolRouter<TanzuMcp>,
    /// The tools/list answer, sorted and filtered once per process, not per request or session.
    listed: Arc<Vec<rmcp::model::Tool>>,
}

impl TanzuMcp {
    pub fn new(systems: Systems, options: &ServerOptions) -> std::io::Result<TanzuMcp> {
        let audit = match &options.audit_log {
            Some(path) => AuditLog::open(path)?,
            None => AuditLog::disabled(),
        };
        let shared = Shared {
            systems,
            approvals: Approvals::new(
                options.confirm,
                options.confirm_ttl.unwrap_or(DEFAULT_TOKEN_TTL),
            ),
            audit,
            policy: Arc::new(options.policy.clone()),
            locks: ChangeLocks::default(),
        };
        let tool_router = Self::offered_tools(options);
        Ok(TanzuMcp {
            shared: Arc::new(shared),
            listed: Arc::new(tool_router.list_all()),
            tool_router,
        })
    }

    /// Every tool this build has, whatever the options.
    pub fn all_tools() -> ToolRouter<TanzuMcp> {
        Self::members_router()
            + Self::user_access_router()
            + Self::provisioning_router()
            + Self::revoke_router()
    }

    /// The tools the options allow: `--read-only` drops every tool that is not read-only
    /// (they are neither listed nor callable), `--tools` keeps only those named.
    fn offered_tools(options: &ServerOptions) -> ToolRouter<TanzuMcp> {
        let mut router = Self::all_tools();
        for tool in router.list_all() {
            let read_only = tool
                .annotations
                .as_ref()
                .and_then(|a| a.read_only_hint)
                .unwrap_or(false);
            let allowed = options
                .tools
                .as_ref()
                .is_none_or(|allow| allow.iter().any(|n| n == tool.name.as_ref()));
            if (options.read_only && !read_only) || !allowed {
                router.remove_route(&tool.name);
            }
        }
        router
    }

    /// The names of the tools these options offer, sorted.
    pub fn offered_tool_names(options: &ServerOptions) -> Vec<String> {
        let mut names: Vec<String> = Self::offered_tools(options)
            .list_all()
            .iter()
            .map(|t| t.name.to_string())
            .collect();
        names.sort();
        names
    }

    /// Names in `--tools` that no tool has: a typo there would silently offer nothing.
    pub fn unknown_tool_names(requested: &[String]) -> Vec<String> {
        let router = Self::all_tools();
        requested
            .iter()
            .filter(|name| !router.has_route(name))
            .cloned()
            .collect()
    }
}

const INSTRUCTIONS: &str = "tanzu-mcp manages who can reach VMware Tanzu: CSP org membership, TMC IAM \
policies and Kubernetes RBAC on TAP clusters. Start with get_user_access to see one person's access \
everywhere, or list_members for the org. invite_user and bind_role are idempotent and refuse the \
known traps (binding someone who has not accepted their invitation, group names that differ in case). \
revoke_all_access removes a person everywhere, but only after a human approves the exact plan: you \
cannot approve it yourself.";

#[tool_handler(router = self.tool_router)]
impl ServerHandler for TanzuMcp {
    /// As rmcp's generated one, but from [`TanzuMcp::listed`].
    async fn list_tools(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ListToolsResult, rmcp::ErrorData> {
        let supports_cache_hints = context
            .protocol_version()
            .is_some_and(|version| version >= rmcp::model::ProtocolVersion::V_2026_07_28);
        Ok(rmcp::model::ListToolsResult {
            result_type: Some(rmcp::model::ResultType::COMPLETE),
            tools: self.listed.as_ref().clone(),
            meta: None,
            next_cursor: None,
            ttl_ms: supports_cache_hints.then_some(0),
            cache_scope: supports_cache_hints.then_some(rmcp::model::CacheScope::Public),
        })
    }

    fn get_info(&self) -> ServerConfig {
        // Resources and prompts are advertised (and empty) so generic clients listing them get
        // an empty list rather than "method not found".
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_server_info(Implementation::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(INSTRUCTIONS)
    }
}

/// Serve one session over stdin/stdout until the client hangs up or `shutdown` fires.
pub async fn serve_stdio(server: TanzuMcp, shutdown: CancellationToken) -> std::io::Result<()> {
    let running = server
        .serve_with_ct(rmcp::transport::stdio(), shutdown)
        .await
        .map_err(|e| std::io::Error::other(format!("MCP initialization over stdio failed: {e}")))?;
    running
        .waiting()
        .await
        .map_err(|e| std::io::Error::other(format!("stdio session ended abnormally: {e}")))?;
    Ok(())
}
