//! Shared test support: start a sandbox on 127.0.0.1:0, get a CSP access token, write the
//! config files.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde_json::Value;
use tanzu_mcp::sandbox::{DataSet, Sandbox, SandboxOptions};

pub const ORG_ID: &str = "7d2a1f4e-6b3c-4e8a-9f10-5a6b7c8d9e01";

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A running sandbox with `data` and its base URL (`http://127.0.0.1:PORT`).
pub async fn start_sandbox(data: DataSet) -> (Sandbox, String) {
    start_sandbox_with(SandboxOptions {
        data,
        ..SandboxOptions::default()
    })
    .await
}

pub async fn start_sandbox_with(options: SandboxOptions) -> (Sandbox, String) {
    let sandbox = Sandbox::start(loopback(), options)
        .await
        .expect("the sandbox binds a loopback port");
    let base = sandbox.base_url();
    (sandbox, base)
}

pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// Exchange the sandbox's API token for an access token, as a CSP client does.
pub async fn access_token(base: &str, api_token: &str) -> String {
    let response = http()
        .post(format!(
            "{base}/csp/gateway/am/api/auth/api-tokens/authorize"
        ))
        .form(&[("api_token", api_token)])
        .send()
        .await
        .expect("token exchange request");
    assert_eq!(response.status(), 200, "token exchange succeeds");
    let body: Value = response.json().await.expect("token exchange JSON");
    body["access_token"]
        .as_str()
        .expect("access_token in the exchange response")
        .to_string()
}

/// A sandbox's access token, for the common case.
pub async fn token_for(sandbox: &Sandbox) -> String {
    access_token(&sandbox.base_url(), sandbox.api_token()).await
}

/// Write the sandbox's config files into a fresh temp dir; returns the dir (keep it alive)
/// and the path of `tanzu-mcp.toml`.
pub fn write_config(sandbox: &Sandbox) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = sandbox
        .write_config(dir.path())
        .expect("write_config writes the files");
    (dir, toml)
}

/// GET `url` with a bearer token; returns status and JSON body (Null when not JSON).
pub async fn get_json(url: &str, token: &str) -> (u16, Value) {
    let response = http()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("GET request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Send `method url` with a bearer token and a JSON body; returns status and JSON body.
pub async fn send_json(
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: &Value,
) -> (u16, Value) {
    let response = http()
        .request(method, url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// POST to the control API.
pub async fn control(base: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = http()
        .post(format!("{base}/_sandbox/{path}"))
        .json(body)
        .send()
        .await
        .expect("control request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
