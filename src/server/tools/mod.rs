//! The tools, one file per group. Each handler parses its arguments, calls `crate::access`
//! and shapes the result; the rules live in the domain.

pub mod members;
pub mod provisioning;
pub mod revoke;
pub mod user_access;

use rmcp::RoleServer;
use rmcp::service::RequestContext;

/// The calling client as it names itself, for the audit log.
pub(crate) fn client_name(ctx: &RequestContext<RoleServer>) -> String {
    ctx.client_info()
        .map(|info| format!("{} {}", info.name, info.version))
        .unwrap_or_else(|| "unknown".to_string())
}
