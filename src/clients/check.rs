//! `tanzu-mcp check`: is the configuration good enough to serve? One line per check.
//!
//! Checks run in order: the configuration, the API token's org (CSP's token details; a
//! configured `csp.org_id` must be that org), the token exchange, access to the CSP org, TMC,
//! and every TAP context. A check that cannot run because an earlier one failed says "skipped"
//! rather than piling a second error onto the first.

use std::fmt;
use std::path::Path;

use kube::api::ListParams;
use url::Url;

use super::ClientOptions;
use super::csp::token_details::token_details;
use super::errors::token_failure;
use super::http::HttpClient;
use super::k8s::K8sRbac;
use super::token::TokenSource;
use crate::access::ports::BackendError;
use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    Ok,
    Failed,
    Skipped,
}

#[derive(Debug, Clone)]
pub struct CheckLine {
    /// "config", "token exchange", "CSP org", "TMC", "TAP cluster 'tap-dev'".
    pub name: String,
    pub status: CheckStatus,
    /// What was found, or what failed and the fix.
    pub detail: String,
}

#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub lines: Vec<CheckLine>,
}

impl CheckReport {
    /// Every check passed (a skipped check means an earlier one failed).
    pub fn ok(&self) -> bool {
        self.lines.iter().all(|l| l.status == CheckStatus::Ok)
    }

    /// The exit code of `tanzu-mcp check`: 0 when every check passed, 2 otherwise (a
    /// configuration that does not work is a configuration error).
    pub fn exit_code(&self) -> u8 {
        if self.ok() { 0 } else { 2 }
    }

    /// The first failed check, for a one-line summary.
    pub fn first_failure(&self) -> Option<&CheckLine> {
        self.lines.iter().find(|l| l.status == CheckStatus::Failed)
    }

    fn push(&mut self, name: impl Into<String>, status: CheckStatus, detail: impl Into<String>) {
        self.lines.push(CheckLine {
            name: name.into(),
            status,
            detail: detail.into(),
        });
    }

    fn result(&mut self, name: impl Into<String>, result: Result<String, BackendError>) -> bool {
        match result {
            Ok(detail) => {
                self.push(name, CheckStatus::Ok, detail);
                true
            }
            Err(error) => {
                self.push(name, CheckStatus::Failed, error.to_string());
                false
            }
        }
    }
}

impl fmt::Display for CheckReport {
    /// `ok     token exchange: ...` one line per check.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            let mark = match line.status {
                CheckStatus::Ok => "ok",
                CheckStatus::Failed => "FAILED",
                CheckStatus::Skipped => "skipped",
            };
            writeln!(f, "{mark:<8}{}: {}", line.name, line.detail)?;
        }
        Ok(())
    }
}

/// Load the configuration at `path` and check it; a configuration error is the first line.
pub async fn run_path(path: Option<&Path>) -> CheckReport {
    match Config::load(path) {
        Ok(config) => run(&config).await,
        Err(error) => {
            let mut report = CheckReport::default();
            report.push("config", CheckStatus::Failed, error.0);
            report
        }
    }
}

/// Check a loaded configuration with the default timeouts and one retry.
pub async fn run(config: &Config) -> CheckReport {
    let options = ClientOptions {
        max_retries: 1,
        ..ClientOptions::default()
    };
    run_with(config, options).await
}

pub async fn run_with(config: &Config, options: ClientOptions) -> CheckReport {
    let mut report = CheckReport::default();
    let source = config.source.as_ref().map_or_else(
        || "(built in code)".to_string(),
        |p| p.display().to_string(),
    );
    report.push(
        "config",
        CheckStatus::Ok,
        format!(
            "{source}: CSP {} org {}, TMC {}, {} TAP cluster(s)",
            config.csp.url,
            config
                .csp
                .org_id
                .as_deref()
                .unwrap_or("(from the API token)"),
            config.tmc.url,
            config.tap.len()
        ),
    );

    // The HTTP client is built at its first call: a TLS setup failure shows in the token check.
    let http = HttpClient::new(options.clone());
    match Url::parse(&config.csp.url) {
        Ok(csp_base) => check_csp_and_tmc(config, &options, &http, &csp_base, &mut report).await,
        Err(e) => report.push("clients", CheckStatus::Failed, format!("csp.url: {e}")),
    }

    for tap in &config.tap {
        let name = format!("TAP cluster '{}'", tap.name);
        let result = check_tap(tap, &options).await;
        report.result(name, result);
    }
    report
}

/// The token exchange, the token's org, then the CSP org and TMC: each skipped when an
/// earlier one failed.
async fn check_csp_and_tmc(
    config: &Config,
    options: &ClientOptions,
    http: &HttpClient,
    csp_base: &Url,
    report: &mut CheckReport,
) {
    let tokens = TokenSource::new(http.clone(), csp_base, config.csp.api_token.clone());
    let token = tokens
        .token()
        .await
        .map(|_| format!("exchanged the API token at {}", config.csp.url))
        .map_err(|e| token_failure("token exchange".into(), &e));
    let later = ["API token org", "CSP org", "TMC"];
    if !report.result("token exchange", token) {
        for name in later {
            report.push(name, CheckStatus::Skipped, "no access token");
        }
        return;
    }
    let Some(org_id) = check_token_org(config, http, csp_base, report).await else {
        for name in &later[1..] {
            report.push(
                *name,
                CheckStatus::Skipped,
                "the API token's org is not settled",
            );
        }
        return;
    };

    // The CSP and TMC clients, without the TAP clusters: each of those is its own check.
    let mut without_tap = Config {
        tap: Vec::new(),
        ..config.clone()
    };
    without_tap.csp.org_id = Some(org_id.clone());
    let clients = match super::build(&without_tap, options.clone()).await {
        Ok(clients) => clients,
        Err(error) => {
            report.push("clients", CheckStatus::Failed, error.to_string());
            return;
        }
    };
    let org = clients
        .csp
        .members_page(0, 1)
        .await
        .map(|page| format!("org {org_id} readable, {} member(s)", page.total))
        .map_err(|e| e.into_backend("list members"));
    report.result("CSP org", org);
    let tmc = clients
        .tmc
        .cluster_groups()
        .await
        .map(|groups| {
            format!(
                "{} reachable, {} cluster group(s)",
                config.tmc.url,
                groups.len()
            )
        })
        .map_err(|e| e.into_backend("list cluster groups"));
    report.result("TMC", tmc);
}

/// Which org the API token belongs to; a configured `csp.org_id` must be it. `None` when the
/// org is not settled (the line says why and how to fix it).
async fn check_token_org(
    config: &Config,
    http: &HttpClient,
    csp_base: &Url,
    report: &mut CheckReport,
) -> Option<String> {
    const NAME: &str = "API token org";
    let details = token_details(http, csp_base, &config.csp.api_token)
        .await
        .map_err(|e| e.into_backend("read the API token's details"));
    let details = match details {
        Ok(details) => details,
        Err(error) => {
            report.push(NAME, CheckStatus::Failed, error.to_string());
            return None;
        }
    };
    let who = details
        .username
        .as_deref()
        .map(|u| format!(" (user {u})"))
        .unwrap_or_default();
    match config.csp.org_id.as_deref() {
        Some(configured) if configured != details.org_id => {
            report.push(
                NAME,
                CheckStatus::Failed,
                format!(
                    "the API token belongs to org {}{who}, but csp.org_id is {configured}; fix: set \
                     csp.org_id = \"{}\" (or remove it: the token's org is used), or use an API \
                     token of org {configured}",
                    details.org_id, details.org_id
                ),
            );
            None
        }
        configured => {
            let source = if configured.is_some() {
                "matches csp.org_id"
            } else {
                "used as csp.org_id"
            };
            report.push(
                NAME,
                CheckStatus::Ok,
                format!(
                    "the API token belongs to org {}{who}, {source}",
                    details.org_id
                ),
            );
            Some(details.org_id)
        }
    }
}

async fn check_tap(
    tap: &crate::config::TapClusterConfig,
    options: &ClientOptions,
) -> Result<String, BackendError> {
    let rbac = K8sRbac::connect(std::slice::from_ref(tap), options)
        .await
        .map_err(|(_, e)| e.into_backend(format!("load context '{}'", tap.context)))?;
    rbac.probe(&tap.name, ListParams::default().limit(1))
        .await
        .map(|()| {
            format!(
                "context '{}' answers, ClusterRoleBindings readable",
                tap.context
            )
        })
        .map_err(|e| {
            e.into_backend(format!(
                "list ClusterRoleBindings via context '{}'",
                tap.context
            ))
        })
}
