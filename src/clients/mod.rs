//! Real API clients: CSP and TMC over reqwest, Kubernetes RBAC over kube-rs.
//!
//! Each implements one of the traits in `crate::access::ports`. What they share lives beside
//! them: [`http`] (one reqwest client, a span per call), [`retry`] (what is retried and how
//! long to wait), [`token`] (the CSP access token, cached and refreshed), [`api_error`] (the one
//! error shape of CSP and TMC, each with its table of fixes).
//!
//! # Layout
//! - [`csp`]: members page by page, invitations, removal in batches, groups.
//! - [`tmc`]: IAM policies by PATCH deltas, offset-paginated listings.
//! - [`k8s`]: RBAC bindings on every TAP cluster, one kube client per context, built on first use.
//! - [`check`]: what `tanzu-mcp check` runs.

pub mod api_error;
pub mod check;
pub mod csp;
mod errors;
pub mod http;
pub mod k8s;
pub mod retry;
pub mod tmc;
pub mod token;

use std::sync::Arc;

use url::Url;

pub use retry::ClientOptions;

use crate::access::Systems;
use crate::access::ports::{BackendError, FailureKind, System};
use crate::config::Config;
use csp::CspClient;
use http::HttpClient;
use k8s::K8sRbac;
use tmc::TmcClient;
use token::TokenSource;

/// The concrete clients, for callers that need more than the traits (checks, tests).
pub struct Clients {
    pub csp: Arc<CspClient>,
    pub tmc: Arc<TmcClient>,
    pub rbac: Arc<K8sRbac>,
    /// Shared by CSP and TMC.
    pub(crate) tokens: Arc<TokenSource>,
}

impl Clients {
    pub fn systems(&self) -> Systems {
        Systems {
            directory: self.csp.clone(),
            tmc: self.tmc.clone(),
            rbac: self.rbac.clone(),
        }
    }

    /// Make sure there is a valid access token (exchanging the API token if needed).
    pub async fn ensure_token(&self) -> Result<(), BackendError> {
        self.tokens
            .token()
            .await
            .map(|_| ())
            .map_err(|e| errors::token_failure("token exchange".into(), &e))
    }
}

/// Build the clients for every configured system with the default timeouts and retries, but
/// for what `[clients]` of the configuration changes. Reads
/// the kubeconfig files and makes no request (but one to learn the org when `csp.org_id` is
/// not set): the first call exchanges the CSP token and builds the HTTP client (CA store, TLS
/// configuration); a TAP cluster's client is built, and its exec credential plugin runs, at
/// its first call.
pub async fn connect(config: &Config) -> Result<Systems, BackendError> {
    connect_with(
        config,
        ClientOptions::default().with_settings(&config.clients),
    )
    .await
}

/// [`connect`] with a caller-chosen timeout and retry policy.
pub async fn connect_with(
    config: &Config,
    options: ClientOptions,
) -> Result<Systems, BackendError> {
    Ok(build(config, options).await?.systems())
}

/// Build the concrete clients.
pub async fn build(config: &Config, options: ClientOptions) -> Result<Clients, BackendError> {
    let config_error = |system: System, operation: &str, message: String, fix: &str| BackendError {
        system,
        operation: operation.to_string(),
        kind: FailureKind::Configuration,
        status: None,
        message,
        fix: fix.to_string(),
    };
    let http = HttpClient::new(options.clone());
    let csp_base = Url::parse(&config.csp.url).map_err(|e| {
        config_error(
            System::Csp,
            "read csp.url",
            e.to_string(),
            "set csp.url to https://host",
        )
    })?;
    let tmc_base = Url::parse(&config.tmc.url).map_err(|e| {
        config_error(
            System::Tmc,
            "read tmc.url",
            e.to_string(),
            "set tmc.url to https://host",
        )
    })?;
    // Without csp.org_id, the API token's own org (the one request `build` may make).
    let org_id = match &config.csp.org_id {
        Some(id) => id.clone(),
        None => {
            csp::token_details::token_details(&http, &csp_base, &config.csp.api_token)
                .await
                .map_err(|e| e.into_backend("read the API token's org (csp.org_id is not set)"))?
                .org_id
        }
    };
    let tokens = Arc::new(TokenSource::new(
        http.clone(),
        &csp_base,
        config.csp.api_token.clone(),
    ));
    let csp = CspClient::new(http.clone(), tokens.clone(), csp_base, org_id.clone());
    let tmc = TmcClient::new(
        http,
        tokens.clone(),
        tmc_base,
        org_id,
        options.list_page_size,
    );
    let rbac = K8sRbac::connect(&config.tap, &options)
        .await
        .map_err(|(cluster, e)| e.into_backend(format!("connect to TAP cluster '{cluster}'")))?;
    Ok(Clients {
        csp: Arc::new(csp),
        tmc: Arc::new(tmc),
        rbac: Arc::new(rbac),
        tokens,
    })
}
