//! How a destructive change's report (`unbind_role`, `change_role`) becomes a tool result: one
//! status set and one shape, `{status, plan, results?, confirmation_token?, message}`, as
//! `revoke_all_access` has.

use rmcp::model::CallToolResponse;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::access::change::{ActionResult, ChangePlan, Outcome, Report, Verification};
use crate::server::approval::Pending;
use crate::server::outcome::{ToolFailure, structured, structured_error};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// Nothing changed: the plan needs a human's approval (or a confirmation token).
    ConfirmationRequired,
    /// Every action succeeded and was verified, or there was nothing to do.
    Done,
    /// Some actions succeeded and some did not (see `results`): calling again finishes.
    Partial,
    /// No action succeeded: nothing changed (see `results`); calling again retries.
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
pub struct Words<'a> {
    pub tool: &'a str,
    /// The message when the goal already held.
    pub nothing_to_do: &'a str,
    /// The message when every action succeeded.
    pub done: &'a str,
    /// Part of the change was made before this plan (a rerun after `partial`): when nothing
    /// succeeds now, the result is still `partial`, not `failed`.
    pub begun: bool,
}

/// The tool's result for how the lifecycle ended.
pub fn respond<A: Serialize>(
    words: &Words<'_>,
    report: Report<A, Pending>,
    token_ttl_secs: u64,
) -> CallToolResponse {
    let tool = words.tool;
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
            words.nothing_to_do.to_string(),
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
                "nothing changed: {why}, and this change needs a human's approval. Use a client that supports elicitation, or run `tanzu-mcp call {tool}` in a terminal, or (trusted automation only) serve with --confirm token"
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
            let (status, mut message) = ran(words, &results, verification);
            if let Some(failure) = audit_failure {
                message.push_str(&format!(
                    ". WARNING: {failure}; nothing further was attempted; check --audit-log"
                ));
            }
            let output = shown(status, Some(results), None, message);
            if status == ChangeStatus::Failed {
                return structured_error(&output).into();
            }
            output
        }
    };
    structured(&output).into()
}

/// The status and message of a plan that ran.
fn ran(
    words: &Words<'_>,
    results: &[ActionResult],
    verification: Verification,
) -> (ChangeStatus, String) {
    let (tool, done) = (words.tool, words.done);
    let failed = results.iter().filter(|r| !r.succeeded()).count();
    if failed == results.len() && failed > 0 && !words.begun {
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
