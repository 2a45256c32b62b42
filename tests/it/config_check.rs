//! The configuration as files on disk, and `check` against the sandbox: every line passes on
//! a good configuration; a wrong token or a wrong context is named by its line.

use std::net::SocketAddr;

use tanzu_mcp::clients::check::{self, CheckStatus};
use tanzu_mcp::config::Config;
use tanzu_mcp::sandbox::{DataSet, Sandbox, SandboxOptions};

async fn sandbox() -> Sandbox {
    Sandbox::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        SandboxOptions {
            data: DataSet::Demo,
            ..SandboxOptions::default()
        },
    )
    .await
    .expect("sandbox")
}

#[tokio::test]
async fn the_sandbox_config_loads_with_paths_relative_to_the_file() {
    let sandbox = sandbox().await;
    let dir = tempfile::tempdir().expect("dir");
    let toml = sandbox.write_config(dir.path()).expect("write");
    let config = Config::load(Some(&toml)).expect("loads");
    assert_eq!(config.csp.org_id.as_deref(), Some(sandbox.org_id()));
    assert_eq!(config.csp.api_token.expose(), sandbox.api_token());
    assert_eq!(format!("{:?}", config.csp.api_token), "[redacted]");
    assert!(!format!("{config:?}").contains(sandbox.api_token()));
    let names: Vec<&str> = config.tap.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["tap-dev", "tap-staging", "tap-prod"]);
    assert_eq!(
        config.tap[0].kubeconfig.as_deref(),
        Some(dir.path().join("kubeconfig").as_path())
    );
}

#[tokio::test]
async fn a_missing_token_file_names_the_key_and_the_variable() {
    let sandbox = sandbox().await;
    let dir = tempfile::tempdir().expect("dir");
    let toml = sandbox.write_config(dir.path()).expect("write");
    std::fs::remove_file(dir.path().join("api-token")).expect("remove token file");
    let error = Config::load(Some(&toml)).expect_err("no token");
    assert!(error.0.contains("csp.api_token_file"), "{error}");
    assert!(error.0.contains("VMW_CLOUD_API_TOKEN"), "{error}");
}

#[tokio::test]
async fn a_missing_config_file_says_how_to_give_one() {
    let dir = tempfile::tempdir().expect("dir");
    let error = Config::load(Some(&dir.path().join("nope.toml"))).expect_err("no file");
    assert!(error.0.contains("--config"), "{error}");
}

#[tokio::test]
async fn check_passes_against_the_sandbox_one_line_per_check() {
    let sandbox = sandbox().await;
    let dir = tempfile::tempdir().expect("dir");
    let toml = sandbox.write_config(dir.path()).expect("write");
    let report = check::run_path(Some(&toml)).await;
    assert!(report.ok(), "{report}");
    assert_eq!(report.exit_code(), 0);
    let names: Vec<&str> = report.lines.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "config",
            "token exchange",
            "API token org",
            "CSP org",
            "TMC",
            "TAP cluster 'tap-dev'",
            "TAP cluster 'tap-staging'",
            "TAP cluster 'tap-prod'",
        ]
    );
    assert_eq!(report.to_string().lines().count(), names.len());
}

#[tokio::test]
async fn check_with_a_wrong_token_names_the_token_exchange_and_fails() {
    let sandbox = sandbox().await;
    let dir = tempfile::tempdir().expect("dir");
    let toml = sandbox.write_config(dir.path()).expect("write");
    std::fs::write(dir.path().join("api-token"), "wrong-token\n").expect("overwrite token");
    let report = check::run_path(Some(&toml)).await;
    assert!(!report.ok());
    assert_eq!(report.exit_code(), 2);
    let failed = report.first_failure().expect("a failed line");
    assert_eq!(failed.name, "token exchange");
    assert!(failed.detail.contains("create a new API token"), "{report}");
    let skipped: Vec<&str> = report
        .lines
        .iter()
        .filter(|l| l.status == CheckStatus::Skipped)
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(skipped, ["API token org", "CSP org", "TMC"]);
    assert!(!report.to_string().contains("wrong-token"));
}

#[tokio::test]
async fn check_with_a_wrong_context_names_that_cluster() {
    let sandbox = sandbox().await;
    let dir = tempfile::tempdir().expect("dir");
    let toml = sandbox.write_config(dir.path()).expect("write");
    let text = std::fs::read_to_string(&toml).expect("read");
    std::fs::write(
        &toml,
        text.replacen("context = \"tap-dev\"", "context = \"no-such-context\"", 1),
    )
    .expect("write");
    let report = check::run_path(Some(&toml)).await;
    assert_eq!(report.exit_code(), 2);
    let failed = report.first_failure().expect("a failed line");
    assert_eq!(failed.name, "TAP cluster 'tap-dev'");
    assert!(failed.detail.contains("no-such-context"), "{report}");
}

#[tokio::test]
async fn check_with_a_bad_config_stops_at_the_config_line() {
    let dir = tempfile::tempdir().expect("dir");
    let toml = dir.path().join("tanzu-mcp.toml");
    std::fs::write(&toml, "[csp]\norg_id = \"o\"\napi_token_file = \"t\"\n").expect("write");
    std::fs::write(dir.path().join("t"), "tok").expect("write");
    let report = check::run_path(Some(&toml)).await;
    assert_eq!(report.lines.len(), 1);
    assert_eq!(report.lines[0].name, "config");
    assert!(report.lines[0].detail.contains("tmc.url"), "{report}");
    assert_eq!(report.exit_code(), 2);
}
