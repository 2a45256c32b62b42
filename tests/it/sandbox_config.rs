//! The files `write_config` writes, the `tanzu-mcp sandbox` command, and the data sets'
//! determinism and size.

use crate::support::common;
use crate::support::server_log::ServerLog;
use std::collections::HashSet;

use crate::support::common::{ORG_ID, get_json, start_sandbox, token_for, write_config};
use serde_json::Value;
use tanzu_mcp::sandbox::DataSet;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn write_config_writes_a_toml_a_kubeconfig_and_a_private_token_file() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let (dir, toml_path) = write_config(&sandbox);
    assert_eq!(toml_path, dir.path().join("tanzu-mcp.toml"));

    let config: toml::Value =
        toml::from_str(&std::fs::read_to_string(&toml_path).unwrap()).expect("the TOML parses");
    assert_eq!(config["csp"]["url"].as_str(), Some(base.as_str()));
    assert_eq!(config["csp"]["org_id"].as_str(), Some(ORG_ID));
    assert_eq!(config["csp"]["api_token_file"].as_str(), Some("api-token"));
    assert_eq!(config["tmc"]["url"].as_str(), Some(base.as_str()));
    let taps = config["tap"].as_array().expect("[[tap]] tables");
    let names: Vec<&str> = taps.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["tap-dev", "tap-staging", "tap-prod"]);
    assert!(
        taps.iter()
            .all(|t| t["context"] == t["name"] && t["kubeconfig"].as_str() == Some("kubeconfig"))
    );

    let token = std::fs::read_to_string(dir.path().join("api-token")).unwrap();
    assert_eq!(token.trim(), sandbox.api_token());
    let kubeconfig = std::fs::read_to_string(dir.path().join("kubeconfig")).unwrap();
    assert!(kubeconfig.contains(&format!("server: https://{}/k8s/tap-prod", sandbox.addr())));
    assert!(kubeconfig.contains(&format!("token: {}", sandbox.k8s_token())));
    assert!(kubeconfig.contains("certificate-authority-data: "));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for secret in ["api-token", "kubeconfig"] {
            let mode = std::fs::metadata(dir.path().join(secret))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{secret}");
        }
    }

    // The token in the file is the one the exchange accepts.
    common::access_token(&base, token.trim()).await;
}

#[tokio::test]
async fn rewriting_the_config_tightens_an_existing_token_file() {
    let (sandbox, _) = start_sandbox(DataSet::Empty).await;
    let dir = tempfile::tempdir().unwrap();
    let token_path = dir.path().join("api-token");
    std::fs::write(&token_path, "old").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token_path, std::fs::Permissions::from_mode(0o644)).unwrap();
        sandbox.write_config(dir.path()).unwrap();
        let mode = std::fs::metadata(&token_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        std::fs::read_to_string(&token_path).unwrap().trim(),
        sandbox.api_token()
    );
}

#[tokio::test]
async fn the_sandbox_command_prints_where_it_listens_and_writes_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let log = ServerLog::new("tanzu-mcp sandbox");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tanzu-mcp"))
        .args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--data",
            "empty",
            "--write-config",
        ])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(log.stdio())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        let done = line.contains("Ctrl-C");
        printed.push(line);
        if done {
            break;
        }
    }
    let text = printed.join("\n");
    let listening = printed
        .iter()
        .find_map(|l| l.strip_prefix("sandbox listening on "))
        .unwrap_or_else(|| panic!("no listening line in:\n{text}"));
    assert!(listening.starts_with("http://127.0.0.1:"));
    assert!(text.contains("tanzu-mcp serve --config"), "{text}");
    assert!(text.contains("kubectl --kubeconfig"), "{text}");
    assert!(dir.path().join("tanzu-mcp.toml").is_file());

    // It really serves: the written token works against the printed address.
    let token = std::fs::read_to_string(dir.path().join("api-token")).unwrap();
    let access = common::access_token(listening, token.trim()).await;
    let (status, body) = get_json(
        &format!("{listening}/csp/gateway/am/api/v2/orgs/{ORG_ID}/users"),
        &access,
    )
    .await;
    assert_eq!(
        (status, body["totalResults"].clone()),
        (200, Value::from(1))
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn a_port_in_use_is_a_usage_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_tanzu-mcp"))
        .args(["sandbox", "--listen", &addr])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--listen"), "{stderr}");
}

async fn member_ids(data: DataSet) -> Vec<(String, String)> {
    let (sandbox, base) = start_sandbox(data).await;
    let token = token_for(&sandbox).await;
    let (_, body) = get_json(
        &format!("{base}/csp/gateway/am/api/v2/orgs/{ORG_ID}/users?pageLimit=200"),
        &token,
    )
    .await;
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user"]["email"].as_str().unwrap().to_string(),
                m["user"]["userId"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_demo_data_is_deterministic() {
    assert_eq!(
        member_ids(DataSet::Demo).await,
        member_ids(DataSet::Demo).await
    );
}

#[tokio::test]
async fn the_large_data_set_lists_ten_thousand_members_in_fifty_pages() {
    let (sandbox, base) = start_sandbox(DataSet::Large).await;
    let token = token_for(&sandbox).await;
    let mut url =
        format!("{base}/csp/gateway/am/api/v2/orgs/{ORG_ID}/users?pageStart=1&pageLimit=200");
    let mut emails = HashSet::new();
    let mut pages = 0;
    loop {
        let (status, body) = get_json(&url, &token).await;
        assert_eq!(status, 200);
        assert_eq!(body["totalResults"], 10_000);
        pages += 1;
        for member in body["results"].as_array().unwrap() {
            assert!(emails.insert(member["user"]["email"].as_str().unwrap().to_string()));
        }
        match body["nextLink"].as_str() {
            Some(next) => url = format!("{base}{next}"),
            None => break,
        }
    }
    assert_eq!((pages, emails.len()), (50, 10_000));
    for named in ["owner@example.com", "alice@example.com", "bob@example.com"] {
        assert!(emails.contains(named));
    }
}
