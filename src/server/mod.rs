//! The MCP adapter: the rmcp handler, the tools and the transports. Thin: parse the arguments,
//! call `crate::access`, shape the result.
//!
//! - [`tools`]: one file per tool group, each a `#[tool_router]` impl summed here.
//! - [`approval`]: asking a human to approve a plan (elicitation on both protocol paths, a
//!   browser page, or confirmation tokens): the server's side of the domain's approval port.
//! - [`progress`]: progress notifications while a plan runs or an audit reads.
//! - [`prompts`]: the guide's workflows as MCP prompts.
//! - [`outcome`]: the one place where domain errors become `isError` tool results.
//! - [`catalog`]: the published tool catalogue (`tanzu-mcp tools --json`, `tools/*.json`).
//! - [`arguments`]: arguments checked against the input schema, with messages a model can act on.
//! - [`portable`]: schemas and results without nullable types or unknown formats.

pub mod approval;
pub mod arguments;
pub mod call;
pub mod catalog;
pub mod outcome;
pub mod portable;
pub mod progress;
pub mod prompts;
pub mod tools;
pub mod transport;

use futures::FutureExt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt, prompt_handler, tool_handler};
use tokio_util::sync::CancellationToken;

use crate::access::Systems;
use crate::access::audit::AuditLog;
use crate::access::change::locks::ChangeLocks;
use crate::access::discovery::CursorKey;
use crate::access::policy::WritePolicy;
pub use approval::ConfirmMode;
use approval::browser::{self, BrowserPages, opener::Opener};
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
    /// `--approval-browser`: the command that opens an approval page (the URL is its last
    /// argument); `None`: the platform's opener.
    pub approval_browser: Option<String>,
    /// How long a call waits for a browser approval before `approval_pending`; default 45 s.
    pub approval_wait: Option<std::time::Duration>,
    pub audit_log: Option<PathBuf>,
    /// Which writes need a human (`[policy]` in the configuration).
    pub policy: WritePolicy,
}

/// State shared by every session of one server process.
pub(crate) struct Shared {
    pub systems: Systems,
    pub approvals: Approvals,
    /// Shared with the browser pages, which record who approved.
    pub audit: Arc<AuditLog>,
    pub policy: Arc<WritePolicy>,
    /// Serializes changes to one person across every session of this process.
    pub locks: ChangeLocks,
    /// Signs list_role_bindings cursors, so they work across sessions and cannot be forged.
    pub cursors: CursorKey,
}

/// The MCP server. Cheap to clone: one per session over HTTP, sharing [`Shared`].
#[derive(Clone)]
pub struct TanzuMcp {
    pub(crate) shared: Arc<Shared>,
    /// The tools these options offer, resolved at the first request that needs them (see
    /// [`prepare_catalog`]), then shared by every session.
    offered: Arc<Offered>,
}

/// The offered tools: the options that filter the catalogue, and the router and tools/list
/// answer filtered once per process, not per request or session.
struct Offered {
    read_only: bool,
    tools: Option<Vec<String>>,
    resolved: OnceLock<(ToolRouter<TanzuMcp>, Vec<rmcp::model::Tool>)>,
}

/// Every tool of this build with portable schemas, made once per process. Generating the
/// schemas (schemars) and cleaning them ([`portable`]) is most of a start's CPU time and most
/// of its page faults (about 3 MB of short-lived JSON values), so it is done once, and
/// [`prepare_catalog`] starts it on a thread of its own at start-up.
static CATALOG: OnceLock<ToolRouter<TanzuMcp>> = OnceLock::new();

/// Build the catalogue on another thread while the rest of start-up (runtime, configuration,
/// kubeconfig, the `initialize` round trip) runs: on two or more cores it costs no wall time
/// until the first tools/list or tools/call, which waits for it if it is not done yet.
pub fn prepare_catalog() {
    let _ = std::thread::Builder::new()
        .name("tool-catalog".into())
        .spawn(|| {
            CATALOG.get_or_init(TanzuMcp::build_catalog);
        });
}

impl TanzuMcp {
    pub fn new(systems: Systems, options: &ServerOptions) -> std::io::Result<TanzuMcp> {
        let audit = Arc::new(match &options.audit_log {
            Some(path) => AuditLog::open(path)?,
            None => AuditLog::disabled(),
        });
        let ttl = options.confirm_ttl.unwrap_or(DEFAULT_TOKEN_TTL);
        let pages = BrowserPages::new(
            Opener::new(options.approval_browser.as_deref()),
            ttl,
            options.approval_wait.unwrap_or(browser::DEFAULT_WAIT),
            Some(audit.clone()),
        );
        let shared = Shared {
            systems,
            approvals: Approvals::new(options.confirm, ttl).with_browser(pages),
            audit,
            policy: Arc::new(options.policy.clone()),
            locks: ChangeLocks::default(),
            cursors: CursorKey::default(),
        };
        Ok(TanzuMcp {
            shared: Arc::new(shared),
            offered: Arc::new(Offered {
                read_only: options.read_only,
                tools: options.tools.clone(),
                resolved: OnceLock::new(),
            }),
        })
    }

    /// The offered router and the tools/list answer. The first caller may wait (blocking, a
    /// few milliseconds once per process) for the catalogue [`prepare_catalog`] is building.
    fn offered(&self) -> &(ToolRouter<TanzuMcp>, Vec<rmcp::model::Tool>) {
        self.offered.resolved.get_or_init(|| {
            let router = Self::filter(
                Self::all_tools(),
                self.offered.read_only,
                &self.offered.tools,
            );
            let listed = router.list_all();
            (router, listed)
        })
    }

    fn router(&self) -> &ToolRouter<TanzuMcp> {
        &self.offered().0
    }

    /// Serve the browser approval pages on the HTTP transport's listener at `addr` (the routes
    /// to mount behind its guard), instead of a loopback listener of their own.
    pub fn approval_pages_on(&self, addr: std::net::SocketAddr) -> axum::Router {
        let pages = &self.shared.approvals.browser;
        let host = if addr.ip().is_unspecified() {
            std::net::SocketAddr::from(([127, 0, 0, 1], addr.port()))
        } else {
            addr
        };
        pages.serve_on_http_listener(format!("http://{host}"));
        browser::listener::routes(pages.clone())
    }

    /// Every tool this build has, whatever the options, with portable schemas (the process's
    /// one catalogue; a clone shares its schemas).
    pub fn all_tools() -> ToolRouter<TanzuMcp> {
        CATALOG.get_or_init(Self::build_catalog).clone()
    }

    fn build_catalog() -> ToolRouter<TanzuMcp> {
        let mut router = Self::members_router()
            + Self::user_access_router()
            + Self::provisioning_router()
            + Self::revoke_router()
            + Self::provision_router()
            + Self::change_role_router()
            + Self::unbind_router()
            + Self::discovery_router()
            + Self::audit_router();
        for route in router.map.values_mut() {
            route.attr.input_schema = Arc::new(portable::schema(&route.attr.input_schema));
            if let Some(output) = &route.attr.output_schema {
                route.attr.output_schema = Some(Arc::new(portable::output_schema(output)));
            }
        }
        router
    }

    /// The names of every tool this build has, sorted.
    pub fn all_tool_names() -> Vec<String> {
        Self::all_tools()
            .list_all()
            .iter()
            .map(|t| t.name.to_string())
            .collect()
    }

    /// The tools the options allow: `--read-only` drops every tool that is not read-only
    /// (they are neither listed nor callable), `--tools` keeps only those named.
    fn offered_tools(options: &ServerOptions) -> ToolRouter<TanzuMcp> {
        Self::filter(Self::all_tools(), options.read_only, &options.tools)
    }

    fn filter(
        mut router: ToolRouter<TanzuMcp>,
        read_only_only: bool,
        named: &Option<Vec<String>>,
    ) -> ToolRouter<TanzuMcp> {
        for tool in router.list_all() {
            let read_only = tool
                .annotations
                .as_ref()
                .and_then(|a| a.read_only_hint)
                .unwrap_or(false);
            let allowed = named
                .as_ref()
                .is_none_or(|allow| allow.iter().any(|n| n == tool.name.as_ref()));
            if (read_only_only && !read_only) || !allowed {
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

/// What a caller of a tool that is not there reads: the name it sent and the choices.
pub fn unknown_tool_message(name: &str, offered: &[String]) -> String {
    if offered.is_empty() {
        return format!("no tool named '{name}': this server offers no tools");
    }
    format!(
        "no tool named '{name}'; the tools are: {}",
        offered.join(", ")
    )
}

const INSTRUCTIONS: &str = "tanzu-mcp manages who can reach VMware Tanzu: CSP org membership, TMC IAM \
policies and Kubernetes RBAC on TAP clusters. Order: read first. list_clusters gives every valid \
name (TMC clusters, cluster groups, workspaces, roles, TAP clusters and their ClusterRoles; with \
`cluster`, its namespaces): never guess a name, an unknown one is refused with the close matches. \
get_user_access shows one person everywhere, list_members the org, list_role_bindings every \
binding at one scope, audit_access the whole org's problems with the calls that fix each. Every \
grant and row carries `role` and `scope` exactly as bind_role, change_role and unbind_role take \
them. Then write: provision_user (invite, wait for acceptance, bind; call again when `pending`), \
invite_user and bind_role are idempotent and refuse the known traps (binding someone who has not \
accepted their invitation, group names that differ in case). Approval: revoke_all_access, \
change_role, unbind_role and privileged grants (admin and owner roles, group grants at \
organization scope) change nothing until a human approves the exact plan in the client (they \
type the email or group back); you cannot approve it yourself, and if the world changes before \
it runs the human is asked again. The prompts onboard_developer, offboard_person, grant_group and \
access_review walk through the common workflows.";

#[tool_handler(router = self.router())]
#[prompt_handler(router = Self::prompts_router())]
impl ServerHandler for TanzuMcp {
    /// The router's call, with an unknown tool named, arguments checked against the schema
    /// first (an `isError` result the model can act on), and results as the schema says.
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(tool) = self.router().get(&request.name) else {
            let offered: Vec<String> = self
                .router()
                .list_all()
                .iter()
                .map(|t| t.name.to_string())
                .collect();
            return Err(ErrorData::invalid_params(
                unknown_tool_message(&request.name, &offered),
                None,
            ));
        };
        let empty = rmcp::model::JsonObject::new();
        let given = request.arguments.as_ref().unwrap_or(&empty);
        if let Err(problem) = arguments::check(&tool.input_schema, given) {
            return Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "invalid arguments for {}: {problem}. Nothing was changed.",
                request.name
            ))])
            .into());
        }
        let name = request.name.clone();
        let call = ToolCallContext::new(self, request, context);
        // A bug that panics inside a tool must still answer the call: without this the task
        // dies and the client waits forever (an edited cursor once did exactly that).
        let outcome = std::panic::AssertUnwindSafe(self.router().call(call))
            .catch_unwind()
            .await;
        let Ok(response) = outcome else {
            tracing::error!(tool = %name, "tool call panicked");
            return Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "internal error in {name}: the call stopped unexpectedly. Anything it changed is in \
                 the audit log, and get_user_access shows the state now; please report this."
            ))])
            .into());
        };
        Ok(match response? {
            CallToolResponse::Complete(result) => portable::result(result).into(),
            other => other,
        })
    }

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
            tools: self.offered().1.clone(),
            meta: None,
            next_cursor: None,
            ttl_ms: supports_cache_hints.then_some(0),
            cache_scope: supports_cache_hints.then_some(rmcp::model::CacheScope::Public),
        })
    }

    fn get_info(&self) -> ServerConfig {
        // Resources are advertised (and empty) so generic clients listing them get an empty
        // list rather than "method not found".
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

/// Serve one session over stdin/stdout until the client hangs up or `shutdown` fires. When the
/// client closes stdin, the calls it already sent are answered first (at most
/// [`transport::EOF_GRACE`]).
pub async fn serve_stdio(server: TanzuMcp, shutdown: CancellationToken) -> std::io::Result<()> {
    let running = server
        .serve_with_ct(transport::stdio(), shutdown)
        .await
        .map_err(|e| std::io::Error::other(format!("MCP initialization over stdio failed: {e}")))?;
    running
        .waiting()
        .await
        .map_err(|e| std::io::Error::other(format!("stdio session ended abnormally: {e}")))?;
    Ok(())
}
