//! The sandbox: an in-memory simulator of the real CSP, TMC and Kubernetes RBAC APIs, all on
//! one loopback port. Only the CLI and tests start it; nothing else in the crate imports it.
//!
//! Paths: CSP under `/csp/gateway/am/api/...`, TMC under `/v1alpha1/...`, each TAP cluster's API
//! server under `/k8s/<cluster>/...`, the control API under `/_sandbox/...`. The shapes are the
//! real services' (see API_NOTES.md), so clients built against it work unchanged against Tanzu.
//!
//! Layout: [`state`] (the world behind one lock), [`data`] (the data sets), [`auth`] (tokens),
//! [`csp`], [`tmc`], [`k8s_discovery`] and [`k8s_rbac`] (the three systems; [`k8s_api`],
//! [`k8s_patch`] and [`k8s_proto`] hold what the Kubernetes endpoints share), [`control`] (the
//! `/_sandbox` API), [`faults`] (injected faults and request statistics) and [`listener`] (one
//! port for plain HTTP and the HTTPS kubectl needs).

pub mod auth;
pub mod control;
pub mod csp;
pub mod data;
pub mod faults;
pub mod k8s_api;
pub mod k8s_discovery;
pub mod k8s_patch;
pub mod k8s_proto;
pub mod k8s_rbac;
pub mod listener;
pub mod state;
pub mod tmc;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use tokio_util::sync::CancellationToken;

use state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DataSet {
    #[default]
    Demo,
    Empty,
    Large,
}

#[derive(Debug, Clone)]
pub struct SandboxOptions {
    pub data: DataSet,
    /// `expires_in` of issued access tokens.
    pub token_ttl_secs: u64,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            data: DataSet::Demo,
            token_ttl_secs: 1799,
        }
    }
}

/// The whole simulator as one router; tests may drive it with `oneshot` or over a socket.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(csp::routes(state.clone()))
        .merge(tmc::routes(state.clone()))
        .merge(k8s_discovery::routes(state.clone()))
        .merge(k8s_rbac::routes(state.clone()))
        .merge(control::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::track_and_inject,
        ))
        .with_state(state)
}

/// An unknown path, answered in the format of the system its prefix belongs to.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = uri.path();
    if path.starts_with("/k8s/") {
        k8s_api::KubeError::no_such_path().into_response()
    } else if path.starts_with("/csp/") {
        csp::CspError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!("{path} was not found."),
        )
        .into_response()
    } else {
        tmc::TmcError::not_found(format!("{path} not found")).into_response()
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    addr: SocketAddr,
    state: AppState,
    data: DataSet,
    stop: CancellationToken,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Sandbox {
    /// Bind `listen` (port 0 picks a free one) and serve in the background.
    pub async fn start(listen: SocketAddr, options: SandboxOptions) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let state = AppState::new(options.data, Duration::from_secs(options.token_ttl_secs));
        let stop = CancellationToken::new();
        let router = app(state.clone());
        let tls = listener::tls_acceptor()?;
        let server = tokio::spawn(listener::serve(listener, router, tls, stop.clone()));
        tracing::info!(%addr, data = ?options.data, "sandbox listening");
        Ok(Sandbox {
            addr,
            state,
            data: options.data,
            stop,
            server: Some(server),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the CSP and TMC base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The CSP API token the sandbox accepts in the token exchange.
    pub fn api_token(&self) -> &str {
        &self.state.secrets().api_token
    }

    /// The API token of a plain org member: CSP shows such a caller no other member's roles.
    pub fn member_api_token(&self) -> &str {
        &self.state.secrets().member_api_token
    }

    /// The bearer token of the kubeconfig user of every TAP cluster.
    pub fn k8s_token(&self) -> &str {
        &self.state.secrets().k8s_token
    }

    pub fn org_id(&self) -> &str {
        data::ORG_ID
    }

    /// The TAP cluster names, in order.
    pub fn tap_clusters(&self) -> Vec<String> {
        data::tap_cluster_names(self.data)
    }

    /// The shared state, for in-process checks.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stop serving and wait until the server has finished.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// Write `tanzu-mcp.toml`, `kubeconfig` and `api-token` (0600) into `dir`; returns the TOML path.
    pub fn write_config(&self, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let base = self.base_url();
        let clusters = self.tap_clusters();

        write_private(&dir.join("api-token"), &format!("{}\n", self.api_token()))?;
        write_private(
            &dir.join("kubeconfig"),
            &kubeconfig(self.addr, &clusters, self.k8s_token())?,
        )?;

        let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut config = format!(
            "# Written by `tanzu-mcp sandbox --write-config`: points at the simulator on {base}.\n\
             [csp]\nurl = {}\norg_id = {}\napi_token_file = \"api-token\"\n\n[tmc]\nurl = {}\n",
            quote(&base),
            quote(self.org_id()),
            quote(&base),
        );
        for name in &clusters {
            config.push_str(&format!(
                "\n[[tap]]\nname = {n}\ncontext = {n}\nkubeconfig = \"kubeconfig\"\n",
                n = quote(name)
            ));
        }
        let toml_path = dir.join("tanzu-mcp.toml");
        std::fs::write(&toml_path, config)?;
        Ok(toml_path)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// One cluster, user and context per TAP cluster. The server URL is `https://` (kubectl sends
/// credentials only over TLS; see [`listener`]) on the same port, carries the `/k8s/<name>`
/// path, which kubectl and kube-rs both honour, and trusts the sandbox's test CA.
fn kubeconfig(addr: SocketAddr, clusters: &[String], token: &str) -> std::io::Result<String> {
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(listener::ca_pem()?);
    let mut out = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for name in clusters {
        out.push_str(&format!(
            "- name: {name}\n  cluster:\n    server: https://{addr}/k8s/{name}\n    certificate-authority-data: {ca}\n"
        ));
    }
    out.push_str("users:\n");
    for name in clusters {
        out.push_str(&format!(
            "- name: sandbox-{name}\n  user:\n    token: {token}\n"
        ));
    }
    out.push_str("contexts:\n");
    for name in clusters {
        out.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {name}\n    user: sandbox-{name}\n"
        ));
    }
    if let Some(first) = clusters.first() {
        out.push_str(&format!("current-context: {first}\n"));
    }
    Ok(out)
}

/// Create or truncate `path` readable by its owner only, then write `contents`.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let mut file = options.open(path)?;
        // An existing file keeps its old mode on open: set it explicitly.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(contents.as_bytes())
    }
    #[cfg(not(unix))]
    {
        options.open(path)?.write_all(contents.as_bytes())
    }
}
