//! `audit_access`: the org-wide reconciliation, with a progress notification per scope and
//! cluster read.

use std::sync::atomic::{AtomicUsize, Ordering};

use rmcp::RoleServer;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::access::inventory::{Place, ScanObserver};
use crate::access::ports::BackendError;
use crate::access::reconcile::{AuditReport, audit_access};
use crate::server::TanzuMcp;
use crate::server::progress::ProgressReporter;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditAccessArgs {}

/// One progress notification per read, against the number of reads known so far.
struct Reads {
    reporter: ProgressReporter,
    expected: AtomicUsize,
}

impl ScanObserver for Reads {
    fn expecting(&self, more: usize) {
        self.expected.fetch_add(more, Ordering::Relaxed);
    }

    fn read(&self, place: Place<'_>, outcome: Result<usize, &BackendError>) {
        let place = match place {
            Place::Tmc(scope) => format!("TMC {scope}"),
            Place::Tap(cluster) => format!("TAP cluster '{cluster}'"),
        };
        let message = match outcome {
            Ok(n) => format!("read {place}: {n} binding(s)"),
            Err(_) => format!("could not read {place}"),
        };
        self.reporter
            .step(message, self.expected.load(Ordering::Relaxed));
    }
}

#[tool_router(router = audit_router, vis = "pub(crate)")]
impl TanzuMcp {
    /// Org-wide access review across TMC (every scope) and every TAP cluster, reconciled with
    /// the CSP org: USER subjects who are not members (leftovers of a removal or of IdP
    /// deprovisioning), invited people who already hold bindings, GROUP subjects matching no CSP
    /// group exactly (with the near miss), and every scope or cluster that could not be read.
    /// Each finding carries `fix`, the exact tool calls that fix it (unbind_role, bind_role;
    /// `fix_all`: revoke_all_access), which need the usual approval. No ACTIVE member is ever a
    /// finding. Sends a progress notification per scope and cluster read.
    #[tool(
        name = "audit_access",
        annotations(
            title = "Audit access across the org",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    pub async fn audit_access(
        &self,
        Parameters(_): Parameters<AuditAccessArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Json<AuditReport> {
        let reads = Reads {
            reporter: ProgressReporter::start(&ctx),
            expected: AtomicUsize::new(0),
        };
        let report = audit_access(&self.shared.systems, &reads).await;
        reads.reporter.finish().await;
        Json(report)
    }
}
