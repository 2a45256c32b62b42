//! How a destructive change's report (`revoke_all_access`, `unbind_role`, `change_role`)
//! becomes a tool result: one status set, one shape `{status, plan, results?,
//! confirmation_token?, message}` and one wording, and the handler sequence they share.

use rmcp::RoleServer;
use rmcp::model::CallToolResponse;
use rmcp::service::RequestContext;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Approval, CallGate};
use crate::access::change::{
    ActionResult, Change, ChangePlan, Outcome, Report, Verification, apply,
};
use crate::server::TanzuMcp;
use crate::server::approval::Pending;
use crate::server::outcome::{ToolFailure, failure, structured, structured_error};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// Nothing changed: the plan needs a human's approval (or a confirmation token).
    ConfirmationRequired,
    /// Every action succeeded and was verified, or there was nothing to do.
    Done,
    /// Some actions succeeded and some did not (see `results`): calling again finishes.
    Partial,
    /// No action succeeded: nothing changed (see `results`); calling again retries. Not from
    /// `revoke_all_access`, which reports `partial` (its statuses are fixed).
    Failed,
    /// The approval was declined, mistyped or invalid: nothing changed.
    Cancelled,
    /// The world changed after the plan was approved: nothing changed; approve the new plan.
    PlanChanged,
    /// Nothing changed yet: approval was requested on a page in the person's browser; call
    /// again with the same arguments once they approved.
    ApprovalPending,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ChangeOutput<A> {
    pub status: ChangeStatus,
    /// The plan shown for approval (for `plan_changed`: the new one).
    pub plan: ChangePlan<A>,
    /// One result per action, when the plan ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<ActionResult>>,
    /// With `--confirm token`: pass as `confirm` in the same call to run this plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation_token: Option<String>,
    /// What happened, for a human.
    pub message: String,
}

/// How a tool words its results.
pub struct Words {
    /// The message when the goal already held.
    pub nothing_to_do: String,
    /// The message when every action succeeded.
    pub done: String,
    /// When no action succeeds, the result is still `partial`, not `failed`: part of the
    /// change was made before this plan (a rerun after `partial`), or the tool has no `failed`
    /// (`revoke_all_access`).
    pub never_failed: bool,
}

impl TanzuMcp {
    /// The handler sequence of a destructive tool, once its arguments are parsed: plan, ask a
    /// human through this call's approver, run, verify, audit (`access::change::apply`), and
    /// word the result. `bound_to` is what an approval is bound to (the arguments without
    /// `confirm`); `words` is told the plan.
    pub(crate) async fn destructive<C: Change>(
        &self,
        ctx: &RequestContext<RoleServer>,
        change: &C,
        bound_to: &impl Serialize,
        approval: Approval,
        words: impl FnOnce(&ChangePlan<C::About>) -> Words,
    ) -> CallToolResponse
    where
        C::About: Serialize,
    {
        let call = CallGate::new(self, ctx, C::TOOL, bound_to, approval);
        let report = apply(&self.shared.systems, change, &call.gate()).await;
        call.finish().await;
        match report {
            Ok(report) => {
                let words = words(&report.plan);
                let ttl = self.shared.approvals.token_ttl.as_secs();
                respond(C::TOOL, &words, report, ttl)
            }
            Err(e) => failure(e).into(),
        }
    }
}

/// The tool's result for how the lifecycle ended.
fn respond<A: Serialize>(
    tool: &str,
    words: &Words,
    report: Report<A, Pending>,
    token_ttl_secs: u64,
) -> CallToolResponse {
    let plan = report.plan;
    let shown = |status, results, token, message: String| ChangeOutput {
        status,
        plan,
        results,
        confirmation_token: token,
        message,
    };
    let output = match report.outcome {
        Outcome::NothingToDo => shown(
            ChangeStatus::Done,
            Some(vec![]),
            None,
            words.nothing_to_do.clone(),
        ),
        Outcome::Pending {
            pending: Pending::InputRequired(request),
            ..
        } => return request.into(),
        Outcome::Pending {
            pending: Pending::Token(token),
            plan_changed,
        } => {
            let (status, message) = if plan_changed {
                (
                    ChangeStatus::PlanChanged,
                    "nothing changed: the world changed since the token was issued; review this new plan and confirm it with the new token".to_string(),
                )
            } else {
                (
                    ChangeStatus::ConfirmationRequired,
                    format!(
                        "nothing changed. To run exactly this plan, call {tool} again with the same arguments and confirm = the confirmation_token (single use, valid {token_ttl_secs} s)"
                    ),
                )
            };
            shown(status, None, Some(token), message)
        }
        Outcome::Pending {
            pending: Pending::Browser,
            plan_changed,
        } => shown(
            ChangeStatus::ApprovalPending,
            None,
            None,
            format!(
                "nothing changed yet{}",
                super::browser_pending(tool, plan_changed)
            ),
        ),
        Outcome::CannotAsk(why) => shown(
            ChangeStatus::ConfirmationRequired,
            None,
            None,
            format!(
                "nothing changed: {why}, and a destructive plan needs a human's approval. Use a client that supports elicitation, or run `tanzu-mcp call {tool}` in a terminal, or (trusted automation only) serve with --confirm token"
            ),
        ),
        Outcome::Refused(why) => {
            // Nothing changed and the goal was not reached: an error in every mode.
            return structured_error(&shown(
                ChangeStatus::Cancelled,
                None,
                None,
                format!("nothing changed: {why}"),
            ))
            .into();
        }
        Outcome::KeptChanging => shown(
            ChangeStatus::PlanChanged,
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
            let (status, mut message) = ran(tool, words, &results, verification);
            let unaudited = audit_failure.is_some();
            if let Some(failure) = audit_failure {
                message.push_str(&format!(
                    ". {failure}; nothing further was attempted (no change is made unrecorded); fix --audit-log, then call {tool} again"
                ));
            }
            let output = shown(status, Some(results), None, message);
            // An unaudited stop is an error, whatever was done before it.
            if status == ChangeStatus::Failed || unaudited {
                return structured_error(&output).into();
            }
            output
        }
    };
    structured(&output).into()
}

/// The status and message of a plan that ran.
fn ran(
    tool: &str,
    words: &Words,
    results: &[ActionResult],
    verification: Verification,
) -> (ChangeStatus, String) {
    let done = &words.done;
    let failed = results.iter().filter(|r| !r.succeeded()).count();
    if failed == results.len() && failed > 0 && !words.never_failed {
        return (
            ChangeStatus::Failed,
            format!(
                "no action completed, so nothing changed (see results); fix the cause and call {tool} again"
            ),
        );
    }
    if failed > 0 {
        return (
            ChangeStatus::Partial,
            format!(
                "{failed} of {} actions did not complete (see results); call {tool} again to finish",
                results.len()
            ),
        );
    }
    match verification {
        Verification::Verified | Verification::NotRun => (
            ChangeStatus::Done,
            format!("{done} ({} actions, verified)", results.len()),
        ),
        Verification::Remaining(left) => (
            ChangeStatus::Partial,
            format!(
                "every action succeeded, but {} remain (the world changed meanwhile): {}; call {tool} again to finish",
                left.len(),
                left.iter()
                    .map(|a| a.target.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
        Verification::Unverified(e) => (
            ChangeStatus::Partial,
            format!(
                "every action succeeded, but verifying the result failed ({}); call {tool} again to check",
                ToolFailure::from(e).0
            ),
        ),
    }
}
