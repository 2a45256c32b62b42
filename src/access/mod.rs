//! The user-access lifecycle across CSP, TMC and TAP clusters, free of HTTP and MCP.
//!
//! It reads and changes the three systems only through the traits in [`ports`], so it can be
//! tested with in-memory fakes and served by the real clients or the sandbox alike.

pub mod ports;

use std::sync::Arc;

use ports::{ClusterRbac, Directory, TmcIam};

/// The three systems, as the domain reaches them.
#[derive(Clone)]
pub struct Systems {
    pub directory: Arc<dyn Directory>,
    pub tmc: Arc<dyn TmcIam>,
    pub rbac: Arc<dyn ClusterRbac>,
}
