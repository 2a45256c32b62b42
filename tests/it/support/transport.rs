//! Shared by the `transport_*` tests: a small MCP handler standing in for the real tools (one
//! that echoes, one that elicits, one that reports progress, one that runs until released), a
//! server started on `127.0.0.1:0`, an rmcp client that answers elicitation and records
//! progress, and a raw reader for the legacy SSE stream.

use std::net::SocketAddr;
use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult,
    ElicitationAction, ProgressNotificationParam, RequestMetaObject, ServerCapabilities,
    ServerConfig,
};
use rmcp::service::{NotificationContext, RequestContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{
    ClientHandler, ErrorData, Peer, RoleClient, RoleServer, ServerHandler, ServiceExt, tool,
    tool_handler, tool_router,
};
use tanzu_mcp::server::transport::{HttpOptions, HttpServer};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Lets a test hold a tool call open and release it when it wants: no sleeps.
#[derive(Default)]
pub struct Gate {
    pub entered: Notify,
    pub release: Notify,
}

#[derive(Clone)]
pub struct Fixture {
    tool_router: ToolRouter<Self>,
    gate: Arc<Gate>,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct EchoArgs {
    /// Text to send back.
    pub text: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct TargetArgs {
    /// The email the user must type back to confirm.
    pub email: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct CountArgs {
    /// How many progress notifications to send.
    pub steps: u32,
}

/// What the elicitation asks for: the target email, typed back.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Confirmation {
    /// Type the email address again to confirm.
    pub email: String,
}
rmcp::elicit_safe!(Confirmation);

#[tool_router]
impl Fixture {
    pub fn new(gate: Arc<Gate>) -> Self {
        Self {
            tool_router: Self::tool_router(),
            gate,
        }
    }

    #[tool(description = "Echo the text back")]
    async fn echo(&self, Parameters(args): Parameters<EchoArgs>) -> String {
        args.text
    }

    #[tool(description = "Ask the user to type the email back; answers confirmed or cancelled")]
    async fn confirm(
        &self,
        Parameters(args): Parameters<TargetArgs>,
        peer: Peer<RoleServer>,
    ) -> Result<String, String> {
        match peer
            .elicit::<Confirmation>(format!("Type {} to confirm", args.email))
            .await
        {
            Ok(Some(answer)) if answer.email == args.email => Ok("confirmed".into()),
            Ok(_) => Ok("cancelled".into()),
            Err(error) => Err(format!("cannot ask the user: {error}")),
        }
    }

    #[tool(description = "Send one progress notification per step")]
    async fn count(
        &self,
        Parameters(args): Parameters<CountArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
    ) -> Result<String, ErrorData> {
        if let Some(token) = meta.get_progress_token() {
            for step in 1..=args.steps {
                peer.notify_progress(
                    ProgressNotificationParam::new(token.clone(), f64::from(step))
                        .with_total(f64::from(args.steps)),
                )
                .await
                .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
            }
        }
        Ok(format!("counted {}", args.steps))
    }

    #[tool(description = "Run until the test releases the gate")]
    async fn hold(&self) -> String {
        self.gate.entered.notify_one();
        self.gate.release.notified().await;
        "released".into()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Fixture {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

/// A server serving the fixture over HTTP until `shutdown` is cancelled.
pub struct Running {
    pub addr: SocketAddr,
    pub gate: Arc<Gate>,
    pub shutdown: CancellationToken,
    pub task: JoinHandle<Result<(), tanzu_mcp::server::transport::TransportError>>,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

pub fn loopback_options() -> HttpOptions {
    HttpOptions::new("127.0.0.1:0".parse().expect("valid address"))
}

pub async fn start(options: HttpOptions) -> Running {
    let gate = Arc::new(Gate::default());
    let server = HttpServer::bind(options).await.expect("bind 127.0.0.1:0");
    let addr = server.local_addr().expect("bound address");
    let shutdown = CancellationToken::new();
    let make_service = {
        let gate = gate.clone();
        move || Ok(Fixture::new(gate.clone()))
    };
    let task = tokio::spawn(server.serve(make_service, shutdown.clone()));
    Running {
        addr,
        gate,
        shutdown,
        task,
    }
}

/// An MCP client that types `answer` into any elicitation and forwards progress to a channel.
pub struct TestClient {
    pub answer: Option<String>,
    pub progress: mpsc::UnboundedSender<ProgressNotificationParam>,
}

impl ClientHandler for TestClient {
    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        if self.answer.is_some() {
            capabilities = ClientCapabilities::builder().enable_elicitation().build();
        }
        ClientConfig::new(
            capabilities,
            rmcp::model::Implementation::new("fixture-client", "1"),
        )
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let ElicitRequestParams::FormElicitationParams { .. } = request else {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        };
        Ok(match &self.answer {
            Some(email) => ElicitResult::new(ElicitationAction::Accept)
                .with_content(serde_json::json!({ "email": email })),
            None => ElicitResult::new(ElicitationAction::Decline),
        })
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.progress.send(params);
    }
}

pub type Client = RunningService<RoleClient, TestClient>;

/// Connects over Streamable HTTP; returns the client and the receiver of its progress.
pub async fn connect(
    running: &Running,
    answer: Option<&str>,
    token: Option<&str>,
) -> (Client, mpsc::UnboundedReceiver<ProgressNotificationParam>) {
    let mut config = StreamableHttpClientTransportConfig::with_uri(running.url("/mcp"));
    if let Some(token) = token {
        config = config.auth_header(token);
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    let (progress, progress_rx) = mpsc::unbounded_channel();
    let handler = TestClient {
        answer: answer.map(String::from),
        progress,
    };
    let client = handler.serve(transport).await.expect("MCP initialize");
    (client, progress_rx)
}

pub fn call(name: &str, args: serde_json::Value) -> CallToolRequestParams {
    let serde_json::Value::Object(args) = args else {
        panic!("tool arguments must be an object");
    };
    CallToolRequestParams::new(name.to_string()).with_arguments(args)
}

/// The text of the first content item of a tool result.
pub fn text_of(result: &rmcp::model::CallToolResult) -> String {
    result
        .content
        .first()
        .and_then(|content| content.as_text())
        .map(|text| text.text.clone())
        .unwrap_or_default()
}

/// Reads a `text/event-stream` body event by event, over real HTTP.
pub struct SseReader {
    response: reqwest::Response,
    buffer: String,
}

/// One server-sent event.
#[derive(Debug)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

impl SseReader {
    pub fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event that carries data (keep-alive comments are skipped); `None` at the end.
    pub async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent {
                    event: "message".into(),
                    data: String::new(),
                };
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event:") {
                        event.event = name.trim().to_string();
                    } else if let Some(data) = line.strip_prefix("data:") {
                        if !event.data.is_empty() {
                            event.data.push('\n');
                        }
                        event.data.push_str(data.strip_prefix(' ').unwrap_or(data));
                    }
                }
                if !event.data.is_empty() {
                    return Some(event);
                }
                continue;
            }
            let chunk = self.response.chunk().await.ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next `message` event parsed as JSON.
    pub async fn next_message(&mut self) -> Option<serde_json::Value> {
        loop {
            let event = self.next().await?;
            if event.event == "message" {
                return serde_json::from_str(&event.data).ok();
            }
        }
    }
}

pub fn initialize_request(id: u32) -> serde_json::Value {
    serde_json::json!({
        "jsonrpc": "2.0", "id": id, "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": { "elicitation": {} },
            "clientInfo": { "name": "raw-test-client", "version": "1" }
        }
    })
}
