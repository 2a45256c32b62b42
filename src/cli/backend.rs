//! The systems a server or a `call` talks to: real Tanzu from a configuration, or an
//! in-process sandbox reached through the same real clients over loopback.

use std::net::SocketAddr;
use std::path::Path;

use super::Failure;
use crate::access::Systems;
use crate::access::policy::WritePolicy;
use crate::clients;
use crate::config::Config;
use crate::sandbox::{DataSet, Sandbox, SandboxOptions};

/// The systems to serve, and what must live as long as they do (an in-process sandbox and the
/// folder holding its generated configuration).
pub struct Backend {
    pub systems: Systems,
    /// `[policy]` of the configuration.
    pub policy: WritePolicy,
    _sandbox: Option<(Sandbox, tempfile::TempDir)>,
}

impl Backend {
    /// `--sandbox` when `sandbox` is given, else the configuration at `config` (or the
    /// environment's).
    pub async fn new(sandbox: Option<DataSet>, config: Option<&Path>) -> Result<Backend, Failure> {
        match sandbox {
            Some(data) => Self::sandbox(data).await,
            None => Self::configured(config).await,
        }
    }

    /// Start the simulator on a free loopback port and reach it through the real clients,
    /// exactly as a configured deployment would.
    pub async fn sandbox(data: DataSet) -> Result<Backend, Failure> {
        let listen = SocketAddr::from(([127, 0, 0, 1], 0));
        let options = SandboxOptions {
            data,
            ..SandboxOptions::default()
        };
        let sandbox = Sandbox::start(listen, options)
            .await
            .map_err(|e| Failure::other(format!("sandbox: cannot start on loopback: {e}")))?;
        let dir = tempfile::Builder::new()
            .prefix("tanzu-mcp-sandbox-")
            .tempdir()
            .map_err(|e| {
                Failure::other(format!("sandbox: cannot create a temporary folder: {e}"))
            })?;
        let toml = sandbox
            .write_config(dir.path())
            .map_err(|e| Failure::other(format!("sandbox: cannot write its configuration: {e}")))?;
        let config =
            Config::load(Some(&toml)).map_err(|e| Failure::other(format!("sandbox: {e}")))?;
        let systems = clients::connect(&config)
            .await
            .map_err(|e| Failure::other(e.to_string()))?;
        tracing::info!(addr = %sandbox.addr(), "sandbox started");
        Ok(Backend {
            systems,
            policy: config.policy,
            _sandbox: Some((sandbox, dir)),
        })
    }

    pub async fn configured(path: Option<&Path>) -> Result<Backend, Failure> {
        let config = Config::load(path).map_err(|e| Failure::usage(e.to_string()))?;
        let systems = clients::connect(&config)
            .await
            .map_err(|e| Failure::usage(e.to_string()))?;
        Ok(Backend {
            systems,
            policy: config.policy,
            _sandbox: None,
        })
    }
}
