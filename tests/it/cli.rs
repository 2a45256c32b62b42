//! The command line around the server: `call` for shells and scripts (a destructive call needs
//! a terminal answer or `--yes`), `check`, and usage errors that exit 2 naming the fix.

use crate::support::common;
use std::process::Output;

use crate::support::mcp::SandboxView;
use serde_json::Value;
use tanzu_mcp::sandbox::DataSet;

async fn tanzu_mcp(args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_tanzu-mcp"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run tanzu-mcp")
}

// The sandbox runs in this process while the test waits on the binary: keep it answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn call_prints_a_read_tools_structured_result() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let out = tanzu_mcp(&[
        "call",
        "get_user_access",
        r#"{"email":"bob@example.com"}"#,
        "--config",
        toml.to_str().unwrap(),
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("stdout is the JSON result");
    assert_eq!(json["status"], "ACTIVE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn call_without_a_terminal_or_yes_changes_nothing_and_yes_runs_the_plan() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
    let args = [
        "call",
        "revoke_all_access",
        r#"{"email":"bob@example.com"}"#,
        "--config",
        toml.to_str().unwrap(),
    ];

    let declined = tanzu_mcp(&args).await;
    let json: Value = serde_json::from_slice(&declined.stdout).expect("JSON result");
    assert_eq!(json["status"], "cancelled", "{json:#}");
    assert_eq!(declined.status.code(), Some(1), "a declined call exits 1");
    assert!(
        view.member_emails()
            .await
            .contains(&"bob@example.com".to_string()),
        "nothing changed"
    );

    let mut approved = args.to_vec();
    approved.push("--yes");
    let out = tanzu_mcp(&approved).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON result");
    assert_eq!(json["status"], "done", "{json:#}");
    assert!(
        !view
            .member_emails()
            .await
            .contains(&"bob@example.com".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn check_passes_against_the_sandbox_and_fails_with_exit_2_on_a_wrong_token() {
    let (sandbox, _base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = common::write_config(&sandbox);
    let ok = tanzu_mcp(&["check", "--config", toml.to_str().unwrap()]).await;
    assert!(
        ok.status.success(),
        "{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    let report = String::from_utf8_lossy(&ok.stdout);
    assert!(report.contains("tap-prod"), "{report}");

    std::fs::write(dir.path().join("api-token"), "not-the-token").unwrap();
    let bad = tanzu_mcp(&["check", "--config", toml.to_str().unwrap()]).await;
    assert_eq!(bad.status.code(), Some(2));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&bad.stdout),
        String::from_utf8_lossy(&bad.stderr)
    );
    assert!(text.contains("token exchange"), "{text}");
    assert!(
        !text.contains("not-the-token"),
        "the token is never printed"
    );
}

#[tokio::test]
async fn usage_errors_exit_2_and_name_the_fix() {
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "serve",
                "--sandbox",
                "--tools",
                "list_members,drop_database",
            ],
            "drop_database",
        ),
        (
            &[
                "serve",
                "--sandbox",
                "--transport",
                "http",
                "--listen",
                "0.0.0.0:0",
            ],
            "--auth-token-env",
        ),
        (
            &["call", "no_such_tool", "{}", "--sandbox"],
            "tanzu-mcp tools",
        ),
        (&["call", "list_members", "[1]", "--sandbox"], "JSON object"),
    ];
    for (args, fix) in cases {
        let out = tanzu_mcp(args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(fix), "{args:?}: {stderr}");
    }
}

/// `tanzu-mcp` with `envs` and nothing inherited that could configure it, in `dir`.
async fn tanzu_mcp_env(args: &[&str], dir: &std::path::Path, envs: &[(&str, String)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tanzu-mcp"));
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(std::process::Stdio::null());
    for (name, value) in envs {
        command.env(name, value);
    }
    command.output().await.expect("run tanzu-mcp")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn check_passes_with_environment_variables_only() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, _toml) = common::write_config(&sandbox);
    let empty = tempfile::tempdir().unwrap();
    let envs = [
        ("VMW_CLOUD_ENDPOINT", base.clone()),
        ("TMC_ENDPOINT", base.clone()),
        ("VMW_CLOUD_API_TOKEN", sandbox.api_token().to_string()),
        ("TANZU_MCP_ORG_ID", sandbox.org_id().to_string()),
        (
            "TANZU_MCP_TAP_CONTEXTS",
            "tap-dev,prod=tap-prod".to_string(),
        ),
        (
            "KUBECONFIG",
            dir.path().join("kubeconfig").display().to_string(),
        ),
    ];
    let out = tanzu_mcp_env(&["check"], empty.path(), &envs).await;
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("(environment)"), "{report}");
    assert!(report.contains("TAP cluster 'prod'"), "{report}");
    assert!(
        !report.contains(sandbox.api_token()),
        "the token is never printed"
    );

    // Without the org id the token's own org is used, and `check` says which it is.
    let partial: Vec<(&str, String)> = envs
        .iter()
        .filter(|(name, _)| *name != "TANZU_MCP_ORG_ID")
        .cloned()
        .collect();
    let out = tanzu_mcp_env(&["check"], empty.path(), &partial).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("API token org"), "{text}");
    assert!(text.contains(sandbox.org_id()), "{text}");

    // An org id that is not the token's is refused, naming the fix.
    let mut wrong = partial.clone();
    wrong.push(("TANZU_MCP_ORG_ID", "some-other-org".to_string()));
    let out = tanzu_mcp_env(&["check"], empty.path(), &wrong).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a mismatching org passed: {text}");
    assert!(text.contains(sandbox.org_id()), "{text}");

    // TANZU_MCP_CONFIG stands for --config.
    let toml = dir.path().join("tanzu-mcp.toml").display().to_string();
    let out = tanzu_mcp_env(&["check"], empty.path(), &[("TANZU_MCP_CONFIG", toml)]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn call_is_quiet_by_default_and_says_its_sandbox_is_fresh() {
    let ok = tanzu_mcp(&[
        "call",
        "get_user_access",
        r#"{"email":"alice@example.com"}"#,
        "--sandbox",
    ])
    .await;
    assert!(ok.status.success());
    let stderr = String::from_utf8_lossy(&ok.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("fresh"), "{stderr}");

    let declined = tanzu_mcp(&[
        "call",
        "revoke_all_access",
        r#"{"email":"bob@example.com"}"#,
        "--sandbox",
    ])
    .await;
    assert_eq!(declined.status.code(), Some(1), "declined exits 1");
    let stderr = String::from_utf8_lossy(&declined.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let verbose = tanzu_mcp(&[
        "call",
        "get_user_access",
        r#"{"email":"alice@example.com"}"#,
        "--sandbox",
        "-v",
    ])
    .await;
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert!(stderr.contains("INFO"), "-v shows info logs: {stderr}");
}

#[tokio::test]
async fn call_refuses_bad_arguments_with_exit_2_naming_the_field() {
    let cases: [(&str, &str, &str); 3] = [
        (
            "bind_role",
            r#"{"email":"a@b.c","role":"app-editor","scope":{"kind":"tap_cluster"}}"#,
            "scope.name is required for kind tap_cluster",
        ),
        (
            "list_members",
            r#"{"limit":1000}"#,
            "limit must be at most 500",
        ),
        ("get_usr_access", "{}", "get_user_access"),
    ];
    for (tool, args, expected) in cases {
        let out = tanzu_mcp(&["call", tool, args, "--sandbox"]).await;
        assert_eq!(out.status.code(), Some(2), "{tool} {args}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{tool}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}

#[tokio::test]
async fn serve_warns_when_the_filters_leave_no_tool_and_takes_flags_from_the_environment() {
    let empty = tempfile::tempdir().unwrap();
    // stdin is closed, so the server ends as soon as it has started.
    let out = tanzu_mcp_env(
        &["serve", "--tools", "bind_role"],
        empty.path(),
        &[
            ("TANZU_MCP_SANDBOX", "true".into()),
            ("TANZU_MCP_READ_ONLY", "1".into()),
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("leave no tool"), "{stderr}");

    let bad = tanzu_mcp_env(
        &["serve", "--sandbox"],
        empty.path(),
        &[("TANZU_MCP_CONFIRM", "never".into())],
    )
    .await;
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a bad variable is a usage error"
    );
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("never"), "{stderr}");
}
