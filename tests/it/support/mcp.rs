//! Test support for the MCP server: spawn the real `tanzu-mcp` binary over stdio against a
//! sandbox the test owns, and talk to it with rmcp's client, answering approvals the way a
//! test tells it to. The server's stderr is captured and shown only if the test fails.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, Implementation, NumberOrString, ProgressNotificationParam,
    ProgressToken, ProtocolVersion, RequestParamsMeta,
};
use rmcp::service::{NotificationContext, RequestContext, RoleClient, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt, ErrorData, ServiceExt};
use serde_json::{Value, json};
use tokio::process::Command;

use super::server_log::ServerLog;

/// Longest wait for one MCP exchange: generous, because a loaded 2-core machine runs many
/// servers, sandboxes and kubectl processes at once.
const ROUND_TRIP: Duration = Duration::from_secs(60);

/// What the simulated human does when asked to approve.
pub type Approver =
    Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = ElicitResult> + Send>> + Send + Sync>;

/// Approve by typing `email` back.
pub fn approve(email: &str) -> Approver {
    let email = email.to_string();
    Arc::new(move |_| {
        let email = email.clone();
        Box::pin(async move {
            ElicitResult::new(ElicitationAction::Accept).with_content(json!({ "email": email }))
        })
    })
}

/// Answer every approval request with this action and no content.
pub fn answer(action: ElicitationAction) -> Approver {
    Arc::new(move |_| {
        let action = action.clone();
        Box::pin(async move { ElicitResult::new(action) })
    })
}

/// A test client: records approval prompts and progress, answers with `approver`, or
/// advertises no elicitation at all when `approver` is `None`.
#[derive(Clone)]
pub struct TestClient {
    approver: Option<Approver>,
    pub prompts: Arc<Mutex<Vec<String>>>,
    pub progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl TestClient {
    pub fn new(approver: Option<Approver>) -> Self {
        TestClient {
            approver,
            prompts: Arc::default(),
            progress: Arc::default(),
        }
    }
}

impl ClientHandler for TestClient {
    fn get_info(&self) -> ClientConfig {
        let capabilities = match self.approver {
            Some(_) => ClientCapabilities::builder().enable_elicitation().build(),
            None => ClientCapabilities::default(),
        };
        ClientConfig::new(capabilities, Implementation::new("tanzu-mcp-tests", "1"))
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let message = match request {
            ElicitRequestParams::FormElicitationParams { message, .. } => message,
            _ => String::new(),
        };
        self.prompts.lock().unwrap().push(message.clone());
        match &self.approver {
            Some(approver) => Ok(approver(message).await),
            None => Ok(ElicitResult::new(ElicitationAction::Decline)),
        }
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
    }
}

/// The protocol a test client speaks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `initialize` handshake; rmcp's client negotiates 2025-11-25 (live elicitation).
    Handshake,
    /// `server/discover`, 2026-07-28 (input-required results instead of server requests).
    Discover2026,
}

pub struct Connected {
    pub client: RunningService<RoleClient, TestClient>,
    pub handler: TestClient,
    /// The server's stderr (at debug level), printed if the test panics while connected.
    log: ServerLog,
}

/// Spawn `tanzu-mcp serve --config <toml> <extra>` and connect.
pub async fn connect(
    toml: &Path,
    extra: &[&str],
    handler: TestClient,
    protocol: Protocol,
) -> Connected {
    connect_logging(toml, extra, handler, protocol, "debug").await
}

/// [`connect`] in `--confirm token` mode with a client that cannot elicit: the usual way a test
/// reaches a gated tool's plan and then runs it with the token.
pub async fn connect_token_mode(toml: &Path) -> Connected {
    connect(
        toml,
        &["--confirm", "token"],
        TestClient::new(None),
        Protocol::Handshake,
    )
    .await
}

/// [`connect`] with the server's log filter (`TANZU_MCP_LOG`) chosen by the test.
pub async fn connect_logging(
    toml: &Path,
    extra: &[&str],
    handler: TestClient,
    protocol: Protocol,
    filter: &str,
) -> Connected {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tanzu-mcp"));
    command
        .arg("serve")
        .arg("--config")
        .arg(toml)
        .args(extra)
        .env("TANZU_MCP_LOG", filter)
        // Under `--confirm auto` a display would let the server open a real browser.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    let log = ServerLog::new("tanzu-mcp serve");
    let (transport, _stderr) = TokioChildProcess::builder(command)
        .stderr(log.stdio())
        .spawn()
        .expect("spawn tanzu-mcp serve");
    let handshake = async {
        match protocol {
            Protocol::Handshake => handler
                .clone()
                .serve(transport)
                .await
                .expect("MCP initialize"),
            Protocol::Discover2026 => handler
                .clone()
                .serve_with_lifecycle(
                    transport,
                    ClientLifecycleMode::Discover {
                        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                    },
                )
                .await
                .expect("MCP discover"),
        }
    };
    let client = tokio::time::timeout(ROUND_TRIP, handshake)
        .await
        .expect("the server answers the handshake within the round-trip timeout");
    Connected {
        client,
        handler,
        log,
    }
}

impl Connected {
    /// What the server wrote to stderr so far (at debug level).
    pub fn server_log(&self) -> String {
        self.log.text()
    }

    /// Call a tool and return its result; the structured content is checked against the text.
    pub async fn call(&self, tool: &str, arguments: Value) -> CallToolResult {
        let mut params = CallToolRequestParams::new(tool.to_string())
            .with_arguments(arguments.as_object().expect("arguments object").clone());
        params.set_progress_token(ProgressToken(NumberOrString::Number(7)));
        let result = tokio::time::timeout(ROUND_TRIP, self.client.call_tool(params))
            .await
            .unwrap_or_else(|_| panic!("{tool} did not answer within {ROUND_TRIP:?}"))
            .expect("tools/call");
        if let Some(structured) = &result.structured_content {
            let text = result
                .content
                .iter()
                .find_map(|c| c.as_text())
                .expect("text content")
                .text
                .clone();
            let from_text: Value =
                serde_json::from_str(&text).expect("text content is the same JSON");
            assert_eq!(&from_text, structured, "text and structuredContent agree");
        }
        result
    }

    /// Call a tool that must succeed; returns its structured content.
    pub async fn ok(&self, tool: &str, arguments: Value) -> Value {
        let result = self.call(tool, arguments).await;
        assert_ne!(
            result.is_error,
            Some(true),
            "{tool} failed: {}",
            text(&result)
        );
        result.structured_content.expect("structuredContent")
    }

    pub fn prompts(&self) -> Vec<String> {
        self.handler.prompts.lock().unwrap().clone()
    }

    pub async fn close(self) {
        let _ = self.client.cancel().await;
    }
}

/// The text of a tool result.
pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Run kubectl against the sandbox's kubeconfig. Async on purpose: the sandbox runs in the
/// test's own runtime, and a worker blocked on a child process can starve the task that
/// would answer it.
pub async fn kubectl(config_dir: &Path, context: &str, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(config_dir.join("kubeconfig"))
        .arg("--context")
        .arg(context)
        .args(args)
        .output()
        .await
        .expect("kubectl must be installed (.ci/run installs it)")
}

/// `kubectl ... -o json`, parsed; None when kubectl fails (for example NotFound).
pub async fn kubectl_json(config_dir: &Path, context: &str, args: &[&str]) -> Option<Value> {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    let output = kubectl(config_dir, context, &args).await;
    if !output.status.success() {
        return None;
    }
    Some(serde_json::from_slice(&output.stdout).expect("kubectl prints JSON"))
}

/// The subject names of a ClusterRoleBinding (`namespace` None) or RoleBinding, via kubectl;
/// None when the binding does not exist.
pub async fn binding_subjects(
    config_dir: &Path,
    cluster: &str,
    namespace: Option<&str>,
    name: &str,
) -> Option<Vec<String>> {
    let value = match namespace {
        None => kubectl_json(config_dir, cluster, &["get", "clusterrolebinding", name]).await,
        Some(ns) => {
            kubectl_json(config_dir, cluster, &["get", "rolebinding", name, "-n", ns]).await
        }
    }?;
    Some(
        value["subjects"]
            .as_array()
            .map(|subjects| {
                subjects
                    .iter()
                    .filter_map(|s| s["name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
    )
}

/// Grant `user` a ClusterRole through a new ClusterRoleBinding, as someone outside tanzu-mcp would.
pub async fn kubectl_grant(config_dir: &Path, cluster: &str, binding: &str, user: &str) {
    let user = format!("--user={user}");
    let output = kubectl(
        config_dir,
        cluster,
        &[
            "create",
            "clusterrolebinding",
            binding,
            "--clusterrole=view",
            &user,
        ],
    )
    .await;
    assert!(
        output.status.success(),
        "kubectl create: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The outcome records of the audit log (one per attempted action), as JSON.
pub fn audit_lines(path: &PathBuf) -> Vec<Value> {
    audit_records(path)
        .into_iter()
        .filter(|line| line["phase"] != "intent")
        .collect()
}

/// Every record of the audit log: each action's intent record, then its outcome record.
pub fn audit_records(path: &PathBuf) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each audit line is JSON"))
        .collect()
}

/// The sandbox's own view, read over its HTTP API with a fresh access token.
pub struct SandboxView {
    pub base: String,
    pub token: String,
    pub org: String,
}

impl SandboxView {
    pub async fn new(base: &str, api_token: &str, org: &str) -> Self {
        SandboxView {
            base: base.to_string(),
            token: super::common::access_token(base, api_token).await,
            org: org.to_string(),
        }
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, body) =
            super::common::get_json(&format!("{}{path}", self.base), &self.token).await;
        assert!((200..300).contains(&status), "GET {path}: {status}");
        body
    }

    /// Every member email, following `nextLink`.
    pub async fn member_emails(&self) -> Vec<String> {
        let mut emails = Vec::new();
        let mut next = Some(format!(
            "/csp/gateway/am/api/v2/orgs/{}/users?pageStart=1&pageLimit=200",
            self.org
        ));
        while let Some(path) = next {
            let page = self.get(&path).await;
            for result in page["results"].as_array().expect("results") {
                emails.push(
                    result["user"]["email"]
                        .as_str()
                        .expect("email")
                        .to_lowercase(),
                );
            }
            next = page["nextLink"]
                .as_str()
                .filter(|l| !l.is_empty())
                .map(|link| {
                    // nextLink may be absolute or relative.
                    link.strip_prefix(&self.base).unwrap_or(link).to_string()
                });
        }
        emails
    }

    /// `(role, subject name)` pairs of the policy at a TMC IAM path (e.g. `/v1alpha1/organization:iam`).
    pub async fn tmc_subjects(&self, path: &str) -> Vec<(String, String)> {
        let body = self.get(path).await;
        let mut pairs = Vec::new();
        for policy in body["policyList"].as_array().cloned().unwrap_or_default() {
            for binding in policy["roleBindings"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                for subject in binding["subjects"].as_array().cloned().unwrap_or_default() {
                    pairs.push((
                        binding["role"].as_str().unwrap_or("").to_string(),
                        subject["name"].as_str().unwrap_or("").to_string(),
                    ));
                }
            }
        }
        pairs
    }
}

/// The TMC IAM paths of the demo data where alice holds a role.
pub fn alice_tmc_paths(org: &str) -> Vec<String> {
    let attached = "fullName.managementClusterName=attached&fullName.provisionerName=attached";
    vec![
        format!("/v1alpha1/organization:iam?fullName.orgId={org}"),
        "/v1alpha1/clustergroups:iam/dev-group".to_string(),
        format!("/v1alpha1/clusters:iam/dev-cluster-1?{attached}"),
        format!("/v1alpha1/clusters/dev-cluster-1/namespaces:iam/team-a?{attached}"),
        "/v1alpha1/workspaces:iam/team-a".to_string(),
    ]
}

impl SandboxView {
    /// The IAM path of every TMC resource that can carry a policy, read from TMC's listings.
    pub async fn tmc_iam_paths(&self) -> Vec<String> {
        let names = |body: &Value, key: &str| -> Vec<Value> {
            body[key]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|item| item["fullName"].clone())
                .collect()
        };
        let mut paths = vec![format!(
            "/v1alpha1/organization:iam?fullName.orgId={}",
            self.org
        )];
        for group in names(
            &self
                .get("/v1alpha1/clustergroups?pagination.size=100")
                .await,
            "clusterGroups",
        ) {
            paths.push(format!(
                "/v1alpha1/clustergroups:iam/{}",
                group["name"].as_str().unwrap()
            ));
        }
        for workspace in names(
            &self.get("/v1alpha1/workspaces?pagination.size=100").await,
            "workspaces",
        ) {
            paths.push(format!(
                "/v1alpha1/workspaces:iam/{}",
                workspace["name"].as_str().unwrap()
            ));
        }
        for cluster in names(
            &self.get("/v1alpha1/clusters?pagination.size=100").await,
            "clusters",
        ) {
            let name = cluster["name"].as_str().unwrap();
            let full = format!(
                "fullName.managementClusterName={}&fullName.provisionerName={}",
                cluster["managementClusterName"].as_str().unwrap(),
                cluster["provisionerName"].as_str().unwrap()
            );
            paths.push(format!("/v1alpha1/clusters:iam/{name}?{full}"));
            let listed = self
                .get(&format!(
                    "/v1alpha1/clusters/{name}/namespaces?{full}&pagination.size=100"
                ))
                .await;
            for namespace in names(&listed, "namespaces") {
                paths.push(format!(
                    "/v1alpha1/clusters/{name}/namespaces:iam/{}?{full}",
                    namespace["name"].as_str().unwrap()
                ));
            }
        }
        paths
    }

    /// Where `email` still appears as a subject or an invitee, anywhere the sandbox can tell:
    /// CSP membership and pending invitations, every TMC policy, every binding on every TAP
    /// cluster (through kubectl). Case-insensitive. Empty means no access left at all.
    pub async fn traces_of(
        &self,
        email: &str,
        config_dir: &Path,
        clusters: &[&str],
    ) -> Vec<String> {
        let email = email.to_lowercase();
        let mut traces = Vec::new();
        if self.member_emails().await.contains(&email) {
            traces.push("CSP member".to_string());
        }
        let invitations = self
            .get(&format!(
                "/csp/gateway/am/api/orgs/{}/invitations",
                self.org
            ))
            .await;
        for invitation in invitations.as_array().cloned().unwrap_or_default() {
            let text = invitation.to_string().to_lowercase();
            if text.contains(&email) && text.contains("available") {
                traces.push(format!("CSP invitation {invitation}"));
            }
        }
        for path in self.tmc_iam_paths().await {
            for (role, name) in self.tmc_subjects(&path).await {
                if name.to_lowercase() == email {
                    traces.push(format!("TMC {role} at {path}"));
                }
            }
        }
        for cluster in clusters {
            let listed = kubectl_json(
                config_dir,
                cluster,
                &["get", "clusterrolebindings,rolebindings", "-A"],
            )
            .await;
            for binding in listed.expect("kubectl lists bindings")["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                let named = binding["subjects"].as_array().is_some_and(|subjects| {
                    subjects.iter().any(|s| {
                        s["name"]
                            .as_str()
                            .is_some_and(|n| n.to_lowercase() == email)
                    })
                });
                if named {
                    traces.push(format!(
                        "{cluster} {} {}",
                        binding["kind"], binding["metadata"]["name"]
                    ));
                }
            }
        }
        traces
    }
}
