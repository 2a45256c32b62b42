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
