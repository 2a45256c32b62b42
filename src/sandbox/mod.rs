//! The sandbox: an in-memory simulator of the real CSP, TMC and Kubernetes RBAC APIs.
//!
//! Only the CLI and tests start it; nothing else in the crate imports it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DataSet {
    #[default]
    Demo,
    Empty,
    Large,
}

#[derive(Debug, Clone)]
pub struct SandboxOptions {
    pub data: DataSet,
    /// `expires_in` of issued access tokens.
    pub token_ttl_secs: u64,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            data: DataSet::Demo,
            token_ttl_secs: 1799,
        }
    }
}

/// A running sandbox.
pub struct Sandbox {
    addr: SocketAddr,
}

impl Sandbox {
    pub async fn start(_listen: SocketAddr, _options: SandboxOptions) -> std::io::Result<Sandbox> {
        todo!("Sandbox::start")
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Write `tanzu-mcp.toml`, `kubeconfig` and `api-token` (0600) into `dir`; returns the TOML path.
    pub fn write_config(&self, _dir: &Path) -> std::io::Result<PathBuf> {
        todo!("Sandbox::write_config")
    }
}
