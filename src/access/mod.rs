//! The user-access lifecycle across CSP, TMC and TAP clusters, free of HTTP and MCP.
//!
//! It reads and changes the three systems only through the traits in [`ports`], so it can be
//! tested with in-memory fakes and served by the real clients or the sandbox alike.
//!
//! - [`members`]: the org listing (ACTIVE and INVITED) with cursors.
//! - [`person`]: one person's whole access, with warnings about the traps.
//! - [`invite`], [`bind`]: provisioning, idempotent and refusing the traps.
//! - [`revoke`]: the revocation plan.
//!   tools take; [`suggest`]: "did you mean ...?" for unknown names.
//! - [`discovery`]: every valid name and every binding at one scope, in the shapes the write
//! - [`provision`]: invite, wait for acceptance, bind.
//! - [`reconcile`]: the org-wide audit, each finding with the calls that fix it.
//! - [`unbind`], [`change_role`]: removing or moving one subject's role at one scope.
//! - [`change`]: the one lifecycle of every change (plan, approval, re-plan, execute, verify,
//!   audit); [`approval`] and [`audit`] are the ports it asks a human and records through.
//! - [`warning`]: what a human should know, as a closed set of kinds.

pub mod approval;
pub mod audit;
pub mod bind;
pub mod change;
pub mod change_role;
pub mod discovery;
pub mod error;
pub mod identity;
pub mod inventory;
pub mod invite;
pub mod members;
pub mod person;
pub mod policy;
pub mod ports;
pub mod provision;
pub mod reconcile;
pub mod revoke;
pub mod schema;
pub mod scope;
pub mod suggest;
pub mod unbind;
pub mod validate;
pub mod warning;

#[cfg(test)]
mod fakes;
#[cfg(test)]
mod rules_tests;

use std::sync::Arc;

use ports::{ClusterRbac, Directory, TmcIam};

/// The three systems, as the domain reaches them.
#[derive(Clone)]
pub struct Systems {
    pub directory: Arc<dyn Directory>,
    pub tmc: Arc<dyn TmcIam>,
    pub rbac: Arc<dyn ClusterRbac>,
}
