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
