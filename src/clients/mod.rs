//! Real API clients: CSP and TMC over reqwest, Kubernetes RBAC over kube-rs.
//!
//! Each implements one of the traits in `crate::access::ports`; shared code handles tokens,
//! retries with backoff and pagination.

use crate::access::Systems;
use crate::access::ports::BackendError;
use crate::config::Config;

/// Build the clients for every configured system. Does no network I/O beyond what building a
/// Kubernetes client needs; the first call exchanges the CSP token.
pub async fn connect(_config: &Config) -> Result<Systems, BackendError> {
    todo!("clients::connect")
}

pub mod check {
    //! Placeholder until the clients land: `tanzu-mcp check`.
    use crate::config::Config;

    pub struct CheckReport;
    impl CheckReport {
        pub fn ok(&self) -> bool {
            false
        }
    }
    impl std::fmt::Display for CheckReport {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("check: not implemented")
        }
    }
    pub async fn run(_config: &Config) -> CheckReport {
        CheckReport
    }
}
