//! Support for the client tests: a sandbox with its config written, the real clients built
//! from that config, and the control API (stats, faults, token expiry).

use std::time::Duration;

use serde_json::{Value, json};
use tanzu_mcp::clients::{self, ClientOptions, Clients};
use tanzu_mcp::config::Config;
use tanzu_mcp::sandbox::{DataSet, Sandbox};

use super::common;

/// A running sandbox, its config files (kept alive by `dir`) and the clients built from them.
pub struct World {
    pub sandbox: Sandbox,
    pub base: String,
    pub dir: tempfile::TempDir,
    pub config: Config,
    pub clients: Clients,
}

/// Short backoffs, so faults resolve in milliseconds rather than seconds; timeouts that a
/// loaded 2-core machine answering on loopback does not hit by accident.
pub fn fast_options() -> ClientOptions {
    ClientOptions {
        connect_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(30),
        max_retries: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(5),
        // Small pages, so that the few demo objects already take several list calls.
        list_page_size: 2,
    }
}

pub async fn world(data: DataSet) -> World {
    world_with(data, fast_options()).await
}

pub async fn world_with(data: DataSet, options: ClientOptions) -> World {
    let (sandbox, base) = common::start_sandbox(data).await;
    let (dir, toml) = common::write_config(&sandbox);
    let config = Config::load(Some(&toml)).expect("the sandbox's config loads");
    let clients = clients::build(&config, options)
        .await
        .expect("clients build from the sandbox config");
    World {
        sandbox,
        base,
        dir,
        config,
        clients,
    }
}

impl World {
    pub async fn stats(&self) -> Value {
        reqwest::get(format!("{}/_sandbox/stats", self.base))
            .await
            .expect("stats request")
            .json()
            .await
            .expect("stats JSON")
    }

    pub async fn token_exchanges(&self) -> u64 {
        self.stats().await["token_exchanges"]
            .as_u64()
            .expect("token_exchanges is an integer")
    }

    /// Requests the sandbox saw for `"METHOD /route"` (the route as axum matched it).
    pub async fn requests(&self, method_and_route: &str) -> u64 {
        self.stats().await["requests"][method_and_route]
            .as_u64()
            .unwrap_or(0)
    }

    /// Requests of `method` on every route containing `fragment`.
    pub async fn requests_matching(&self, method: &str, fragment: &str) -> u64 {
        let stats = self.stats().await;
        let prefix = format!("{method} ");
        stats["requests"]
            .as_object()
            .map(|routes| {
                routes
                    .iter()
                    .filter(|(route, _)| route.starts_with(&prefix) && route.contains(fragment))
                    .map(|(_, n)| n.as_u64().unwrap_or(0))
                    .sum()
            })
            .unwrap_or(0)
    }

    pub async fn control(&self, path: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .post(format!("{}/_sandbox/{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("control request");
        assert!(
            response.status().is_success(),
            "control {path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    pub async fn expire_tokens(&self) {
        self.control("tokens/expire", json!({})).await;
    }

    /// Arm a fault: the next `count` requests of `method` under `path_prefix` answer `status`.
    pub async fn fault(&self, method: &str, path_prefix: &str, status: u16, count: u32) {
        self.control(
            "faults",
            json!({"method": method, "path_prefix": path_prefix, "status": status, "count": count}),
        )
        .await;
    }

    pub async fn fault_spec(&self, spec: Value) {
        self.control("faults", spec).await;
    }
}

/// A loopback port with nothing listening: connecting is refused.
pub fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

pub const USERS_ROUTE: &str = "GET /csp/gateway/am/api/v2/orgs/{org_id}/users";
pub const EXCHANGE_ROUTE: &str = "POST /csp/gateway/am/api/auth/api-tokens/authorize";
pub const INVITE_ROUTE: &str = "POST /csp/gateway/am/api/orgs/{org_id}/invitations";
