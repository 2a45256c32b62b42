//! `tanzu-mcp check`: is the configuration good enough to serve? One line per check.
//!
//! Checks run in order: the configuration, the token exchange, access to the CSP org, TMC, and
//! every TAP context. A check that cannot run because an earlier one failed says "skipped"
//! rather than piling a second error onto the first.

use std::fmt;
use std::path::Path;

use kube::api::ListParams;

use super::ClientOptions;
use super::k8s::K8sRbac;
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
            config.csp.org_id,
            config.tmc.url,
            config.tap.len()
        ),
    );

    // The CSP and TMC clients first, without the TAP clusters: each of those is its own check.
    let without_tap = Config {
        tap: Vec::new(),
        ..config.clone()
    };
    match super::build(&without_tap, options.clone()).await {
        Err(error) => {
            report.push("clients", CheckStatus::Failed, error.to_string());
        }
        Ok(clients) => {
            let token = clients
                .ensure_token()
                .await
                .map(|()| format!("exchanged the API token at {}", config.csp.url));
            if report.result("token exchange", token) {
                let org = clients
                    .csp
                    .members_page(0, 1)
                    .await
                    .map(|page| {
                        format!(
                            "org {} readable, {} member(s)",
                            config.csp.org_id, page.total
                        )
                    })
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
            } else {
                report.push("CSP org", CheckStatus::Skipped, "no access token");
                report.push("TMC", CheckStatus::Skipped, "no access token");
            }
        }
    }

    for tap in &config.tap {
        let name = format!("TAP cluster '{}'", tap.name);
        let result = check_tap(tap, &options).await;
        report.result(name, result);
    }
    report
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
