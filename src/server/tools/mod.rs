//! The tools, one file per group. Each handler parses its arguments, calls `crate::access`
//! and shapes the result; the rules live in the domain.

pub mod audit;
pub mod change_result;
pub mod change_role;
pub mod discovery;
pub mod members;
pub mod provision;
pub mod provisioning;
pub mod revoke;
pub mod unbind;
pub mod user_access;

use rmcp::RoleServer;
use rmcp::model::{CallToolResponse, InputResponses};
use rmcp::service::RequestContext;
use serde::Serialize;

use crate::access::audit::Requester;
use crate::access::bind::{BindTarget, Grantee, ScopeRef, resolve};
use crate::access::change::Gate;
use crate::access::error::AccessError;
use crate::server::TanzuMcp;
use crate::server::approval::{CallApprover, Pending};
use crate::server::outcome::failure;
use crate::server::progress::ProgressReporter;

/// The calling client as it names itself, for the audit log.
pub(crate) fn client_name(ctx: &RequestContext<RoleServer>) -> String {
    ctx.client_info()
        .map(|info| format!("{} {}", info.name, info.version))
        .unwrap_or_else(|| "unknown".to_string())
}

/// What one tool call hands the change lifecycle: its approver, progress and requester.
pub(crate) struct CallGate<'a> {
    server: &'a TanzuMcp,
    approver: CallApprover<'a>,
    progress: ProgressReporter,
    requester: Requester,
}

/// What came with a call besides its arguments, for approvals.
#[derive(Default)]
pub(crate) struct Approval {
    /// `confirm` (token mode only).
    pub token: Option<String>,
    /// The request state and answers of a 2026-07-28 retry.
    pub state: Option<String>,
    pub responses: Option<InputResponses>,
}

impl<'a> CallGate<'a> {
    /// `arguments`: what an approval is bound to (the tool's arguments without the approval).
    pub fn new(
        server: &'a TanzuMcp,
        ctx: &'a RequestContext<RoleServer>,
        tool: &'static str,
        arguments: &impl Serialize,
        approval: Approval,
    ) -> Self {
        let arguments = serde_json::to_string(arguments).unwrap_or_default();
        CallGate {
            server,
            approver: CallApprover::new(
                &server.shared.approvals,
                ctx,
                tool,
                arguments,
                approval.token,
                approval.state,
                approval.responses,
            ),
            progress: ProgressReporter::start(ctx),
            requester: Requester {
                client: client_name(ctx),
                credential: crate::server::transport::credential_label(&ctx.extensions),
            },
        }
    }

    /// Where progress of this call goes (also while a call waits).
    pub fn progress(&self) -> &ProgressReporter {
        &self.progress
    }

    pub fn gate(&self) -> Gate<'_, Pending> {
        Gate {
            approver: &self.approver,
            audit: &*self.server.shared.audit,
            progress: &self.progress,
            requester: &self.requester,
            locks: &self.server.shared.locks,
        }
    }

    /// Let the last progress notifications go out before the result.
    pub async fn finish(self) {
        self.progress.finish().await;
    }
}

impl TanzuMcp {
    /// Who and where of a grant-shaped call (`bind_role`, `change_role`, `unbind_role`):
    /// exactly one of `email` and `group`, and the scope resolved against the systems. `Err`
    /// is the tool's answer for a bad one.
    pub(crate) async fn grantee_at(
        &self,
        email: &Option<String>,
        group: &Option<String>,
        scope: &ScopeRef,
    ) -> Result<(Grantee, BindTarget), CallToolResponse> {
        let grantee = match (email, group) {
            (Some(email), None) => Grantee::User(email.clone()),
            (None, Some(group)) => Grantee::Group(group.clone()),
            _ => {
                return Err(failure(AccessError::invalid(
                    "give exactly one of `email` and `group`",
                ))
                .into());
            }
        };
        match resolve(&self.shared.systems, scope.clone()).await {
            Ok(target) => Ok((grantee, target)),
            Err(e) => Err(failure(e).into()),
        }
    }
}

/// What a call waiting for a browser approval says (`approval_pending`): never the page's address.
pub(crate) fn browser_pending(tool: &str, plan_changed: bool) -> String {
    let changed = if plan_changed {
        "the plan changed since it was approved, so it did not run; "
    } else {
        ""
    };
    format!(
        ". approval_pending: {changed}approval of this exact plan was requested in the person's browser (a one-time page only they see). Once they have approved it there, call {tool} again with the same arguments to run it"
    )
}

/// How a write that did not run for want of a human's approval is shown: the message says
/// what to do and a token goes where the tool's result has room for one. `Err` carries an
/// input-required result to return as it is (2026-07-28 clients); `Ok(is_error)` otherwise.
pub(crate) fn explain_unapproved(
    tool: &str,
    unapproved: crate::access::change::Unapproved<Pending>,
    message: &mut String,
    token: &mut Option<String>,
) -> Result<bool, rmcp::model::InputRequiredResult> {
    use crate::access::change::Unapproved;
    match unapproved {
        Unapproved::Pending {
            pending: Pending::InputRequired(request),
            ..
        } => Err(request),
        Unapproved::Pending {
            pending: Pending::Token(issued),
            ..
        } => {
            message.push_str(&format!(
                ". To run exactly this plan, call {tool} again with the same arguments and confirm = the confirmation_token (single use)"
            ));
            *token = Some(issued);
            Ok(false)
        }
        Unapproved::Pending {
            pending: Pending::Browser,
            plan_changed,
        } => {
            message.push_str(&browser_pending(tool, plan_changed));
            Ok(false)
        }
        Unapproved::CannotAsk(why) => {
            message.push_str(&format!(
                ". {why}: use a client that supports elicitation, or run `tanzu-mcp call {tool}` in a terminal"
            ));
            Ok(true)
        }
        Unapproved::Refused(why) => {
            message.push_str(&format!(". The approval was refused: {why}"));
            Ok(true)
        }
        Unapproved::KeptChanging => {
            message.push_str(". The plan kept changing while the human decided; call again");
            Ok(true)
        }
    }
}
