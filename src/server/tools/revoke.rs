//! `revoke_all_access`: remove a person everywhere, after a human approved the exact plan.
//! Translation only: the domain plans, asks (through the server's approver), plans again,
//! runs, verifies and audits; this file turns how it ended into the tool's result.

use rmcp::RoleServer;
use rmcp::handler::server::tool::{InputResponses, RequestState, schema_for_output};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResponse;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Approval, CallGate};
use crate::access::change::{ActionResult, Outcome, Report, Verification, apply};
use crate::access::identity::normalize_email;
use crate::access::revoke::{Revocation, RevocationPlan, RevokeAll};
use crate::server::TanzuMcp;
use crate::server::approval::Pending;
use crate::server::outcome::{ToolFailure, failure, structured, structured_error};

const TOOL: &str = "revoke_all_access";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeArgs {
    /// The person's email address.
    pub email: String,
    /// Keep the CSP org membership and remove only TMC and TAP bindings.
    #[serde(default)]
    pub keep_membership: bool,
    /// Only for servers started with `--confirm token` (trusted automation): the
    /// `confirmation_token` of an earlier call with the same arguments. Ignored otherwise: a
    /// human approves through the client.
    #[serde(default)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub confirm: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevokeStatus {
    /// Nothing changed: the plan needs a human's approval (or a confirmation token).
    ConfirmationRequired,
    /// Every action succeeded (or there was nothing to do).
    Done,
    /// Some actions failed: see `results`; calling again finishes the job.
    Partial,
    /// The approval was declined, mistyped or invalid: nothing changed.
    Cancelled,
    /// The world changed after the plan was approved: nothing changed; approve the new plan.
    PlanChanged,
    /// Nothing changed yet: approval was requested on a page in the person's browser; call
    /// again with the same arguments once they approved.
    ApprovalPending,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RevokeOutput {
    pub status: RevokeStatus,
    /// The plan shown for approval (for `plan_changed`: the new one).
    pub plan: RevocationPlan,
    /// One result per action, when the plan ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<ActionResult>>,
    /// With `--confirm token`: pass as `confirm` in the same call to run this plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation_token: Option<String>,
    /// What happened, for a human.
    pub message: String,
}

#[tool_router(router = revoke_router, vis = "pub(crate)")]
impl TanzuMcp {
    /// Remove a person from every TMC binding, every TAP cluster binding and, last, from the CSP
    /// org (or revoke their pending invitation). Other subjects of shared bindings keep their
    /// access; group bindings are not touched (the IdP owns group membership). Nothing changes
    /// until a human approves the exact plan in the client or on a one-time page in their
    /// browser (they type the email back); `approval_pending` means the page is waiting: call
    /// again with the same arguments after they approved. A client that cannot ask and no
    /// browser gets status `confirmation_required`. Calling again after `partial` finishes the
    /// job.
    #[tool(
        name = "revoke_all_access",
        output_schema = schema_for_output::<RevokeOutput>(),
        annotations(title = "Revoke all access", read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = true)
    )]
    pub async fn revoke_all_access(
        &self,
        Parameters(args): Parameters<RevokeArgs>,
        RequestState(state): RequestState,
        InputResponses(responses): InputResponses,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let email = match normalize_email(&args.email) {
            Ok(email) => email,
            Err(e) => return Ok(failure(e).into()),
        };
        let change = RevokeAll {
            email,
            keep_membership: args.keep_membership,
        };
        // What an approval is bound to: this tool with these arguments (not `confirm`).
        let bound_to = Revocation {
            email: change.email.clone(),
            keep_membership: change.keep_membership,
        };
        let approval = Approval {
            token: args.confirm,
            state,
            responses,
        };
        let call = CallGate::new(self, &ctx, TOOL, &bound_to, approval);
        let report = apply(&self.shared.systems, &change, &call.gate()).await;
        call.finish().await;
        Ok(match report {
            Ok(report) => self.respond(report),
            Err(e) => failure(e).into(),
        })
    }
}

impl TanzuMcp {
    /// How the lifecycle ended, as the tool's result.
    fn respond(&self, report: Report<Revocation, Pending>) -> CallToolResponse {
        let plan = report.plan;
        let email = plan.about.email.clone();
        let (status, results, token, message) = match report.outcome {
            Outcome::NothingToDo => (
                RevokeStatus::Done,
                Some(vec![]),
                None,
                format!("{email} holds no access that tanzu-mcp can remove; nothing to do"),
            ),
            Outcome::Pending {
                pending: Pending::InputRequired(request),
                ..
            } => return request.into(),
            Outcome::Pending {
                pending: Pending::Token(token),
                plan_changed: false,
            } => (
                RevokeStatus::ConfirmationRequired,
                None,
                Some(token),
                format!(
                    "nothing changed. To run exactly this plan, call {TOOL} again with the same arguments and confirm = the confirmation_token (single use, valid {} s)",
                    self.shared.approvals.token_ttl.as_secs()
                ),
            ),
            Outcome::Pending {
                pending: Pending::Token(token),
                plan_changed: true,
            } => (
                RevokeStatus::PlanChanged,
                None,
                Some(token),
                "nothing changed: the world changed since the token was issued; review this new plan and confirm it with the new token".to_string(),
            ),
            Outcome::Pending {
                pending: Pending::Browser,
                plan_changed,
            } => (
                RevokeStatus::ApprovalPending,
                None,
                None,
                format!(
                    "nothing changed yet{}",
                    super::browser_pending(TOOL, plan_changed)
                ),
            ),
            Outcome::CannotAsk(why) => (
                RevokeStatus::ConfirmationRequired,
                None,
                None,
                format!(
                    "nothing changed: {why}, and a destructive plan needs a human's approval. Use a client that supports elicitation, or run `tanzu-mcp call {TOOL}` in a terminal, or (trusted automation only) serve with --confirm token"
                ),
            ),
            Outcome::Refused(why) => {
                // Nothing changed and the goal was not reached: an error in every mode, so a
                // client (and `tanzu-mcp call`'s exit code) cannot mistake it for success.
                return structured_error(&output(
                    RevokeStatus::Cancelled,
                    plan,
                    None,
                    None,
                    format!("nothing changed: {why}"),
                ))
                .into();
            }
            Outcome::KeptChanging => (
                RevokeStatus::PlanChanged,
                None,
                None,
                "nothing changed: the plan kept changing while the user was deciding; call again"
                    .to_string(),
            ),
            Outcome::Ran {
                results,
                verification,
                audit_failure,
            } => {
                let (status, mut message) = ran(&email, &results, verification);
                if let Some(failure) = audit_failure {
                    message.push_str(&format!(
                        ". {failure}; nothing further was attempted (no change is made unrecorded); fix --audit-log, then call {TOOL} again"
                    ));
                    // An unaudited stop is an error, whatever was done before it.
                    return structured_error(&output(status, plan, Some(results), None, message))
                        .into();
                }
                (status, Some(results), None, message)
            }
        };
        structured(&output(status, plan, results, token, message)).into()
    }
}

/// The status and message of a plan that ran.
fn ran(
    email: &str,
    results: &[ActionResult],
    verification: Verification,
) -> (RevokeStatus, String) {
    let failed = results.iter().filter(|r| !r.succeeded()).count();
    if failed > 0 {
        return (
            RevokeStatus::Partial,
            format!(
                "{failed} of {} actions did not complete (see results); call {TOOL} again to finish",
                results.len()
            ),
        );
    }
    match verification {
        Verification::Verified | Verification::NotRun => (
            RevokeStatus::Done,
            format!(
                "{email} holds no access that tanzu-mcp can remove now ({} actions, verified)",
                results.len()
            ),
        ),
        Verification::Remaining(left) => (
            RevokeStatus::Partial,
            format!(
                "every action succeeded, but {} remain (the world changed meanwhile): {}; call {TOOL} again to finish",
                left.len(),
                left.iter()
                    .map(|a| a.target.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
        Verification::Unverified(e) => (
            RevokeStatus::Partial,
            format!(
                "every action succeeded, but verifying the result failed ({}); call {TOOL} again to check",
                ToolFailure::from(e).0
            ),
        ),
    }
}

fn output(
    status: RevokeStatus,
    plan: RevocationPlan,
    results: Option<Vec<ActionResult>>,
    confirmation_token: Option<String>,
    message: String,
) -> RevokeOutput {
    RevokeOutput {
        status,
        plan,
        results,
        confirmation_token,
        message,
    }
}
