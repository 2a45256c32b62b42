//! `revoke_all_access`: remove a person everywhere, after a human approved the exact plan.
//!
//! Plan first (nothing changes), then approval by the configured mode (see `approval`), then a
//! fresh plan: only if it is still the approved one does it run; otherwise the new plan is
//! shown again. Each action is audited as it finishes and reported as progress.

use std::sync::Mutex;

use rmcp::RoleServer;
use rmcp::handler::server::tool::{InputResponses, RequestState, schema_for_output};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResponse, ProgressNotificationParam, ProtocolVersion};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::client_name;
use crate::access::audit::AuditRecord;
use crate::access::confirm::TokenRejection;
use crate::access::identity::normalize_email;
use crate::access::revoke::{ActionResult, RevocationPlan, execute, plan};
use crate::server::approval::{Answer, ask_live};
use crate::server::outcome::{ToolFailure, failure, structured, structured_error};
use crate::server::{ConfirmMode, TanzuMcp};

const TOOL: &str = "revoke_all_access";
/// How often a live approval is asked again because the plan kept changing.
const MAX_ROUNDS: usize = 3;

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
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
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
    /// until a human approves the exact plan in the client (they type the email back); a client
    /// that cannot ask gets status `confirmation_required`. Calling again after `partial`
    /// finishes the job.
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
        // What an approval is bound to: this tool with these arguments (not `confirm`).
        let binding =
            serde_json::to_string(&(TOOL, &email, args.keep_membership)).unwrap_or_default();
        let current = match plan(&self.shared.systems, &email, args.keep_membership).await {
            Ok(plan) => plan,
            Err(e) => return Ok(failure(e).into()),
        };
        if current.is_empty() {
            let message =
                format!("{email} holds no access that tanzu-mcp can remove; nothing to do");
            return Ok(structured(&output(
                RevokeStatus::Done,
                current,
                Some(vec![]),
                None,
                message,
            ))
            .into());
        }
        match self.shared.confirm {
            ConfirmMode::Token => Ok(self
                .with_token(args.confirm.as_deref(), &binding, current, &ctx)
                .await),
            ConfirmMode::Elicit if is_mrtr(&ctx) => {
                self.with_mrtr(state, responses, &binding, current, &ctx)
                    .await
            }
            ConfirmMode::Elicit => Ok(self.with_live_elicitation(current, &ctx).await),
        }
    }
}

impl TanzuMcp {
    async fn with_token(
        &self,
        token: Option<&str>,
        binding: &str,
        current: RevocationPlan,
        ctx: &RequestContext<RoleServer>,
    ) -> CallToolResponse {
        let tokens = &self.shared.tokens;
        let Some(token) = token else {
            let token = tokens.issue(TOOL, binding, &current.digest);
            let message = format!(
                "nothing changed. To run exactly this plan, call {TOOL} again with the same arguments and confirm = the confirmation_token (single use, valid {} s)",
                tokens.ttl().as_secs()
            );
            return structured(&output(
                RevokeStatus::ConfirmationRequired,
                current,
                None,
                Some(token),
                message,
            ))
            .into();
        };
        match tokens.redeem(token, TOOL, binding, &current.digest) {
            Ok(()) => self.run(current, ctx).await,
            Err(TokenRejection::PlanChanged) => {
                let token = tokens.issue(TOOL, binding, &current.digest);
                let message = "nothing changed: the world changed since the token was issued; review this new plan and confirm it with the new token".to_string();
                structured(&output(
                    RevokeStatus::PlanChanged,
                    current,
                    None,
                    Some(token),
                    message,
                ))
                .into()
            }
            Err(rejection) => {
                let message = format!(
                    "nothing changed: {rejection}; call again without confirm to get a fresh plan and token"
                );
                structured_error(&output(
                    RevokeStatus::Cancelled,
                    current,
                    None,
                    None,
                    message,
                ))
                .into()
            }
        }
    }

    async fn with_live_elicitation(
        &self,
        mut current: RevocationPlan,
        ctx: &RequestContext<RoleServer>,
    ) -> CallToolResponse {
        let mut note = None;
        for _ in 0..MAX_ROUNDS {
            match ask_live(&ctx.peer, &current, note).await {
                Answer::Approved { digest } => {
                    let fresh = match plan(
                        &self.shared.systems,
                        &current.email,
                        current.keep_membership,
                    )
                    .await
                    {
                        Ok(plan) => plan,
                        Err(e) => return failure(e).into(),
                    };
                    if fresh.digest == digest {
                        return self.run(fresh, ctx).await;
                    }
                    current = fresh;
                    note = Some(
                        "The plan changed while you were deciding (see below); nothing has changed yet.",
                    );
                }
                Answer::Refused(why) => return cancelled(current, &why),
                Answer::CannotAsk(why) => return cannot_ask(current, &why),
            }
        }
        let message =
            "nothing changed: the plan kept changing while the user was deciding; call again"
                .to_string();
        structured(&output(
            RevokeStatus::PlanChanged,
            current,
            None,
            None,
            message,
        ))
        .into()
    }

    async fn with_mrtr(
        &self,
        state: Option<String>,
        responses: Option<rmcp::model::InputResponses>,
        binding: &str,
        current: RevocationPlan,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let approvals = &self.shared.approvals;
        let Some(state) = state else {
            let can_ask = ctx
                .client_capabilities()
                .is_some_and(|caps| caps.elicitation.is_some());
            if !can_ask {
                return Ok(cannot_ask(
                    current,
                    "this MCP client cannot ask its user (no elicitation support)",
                ));
            }
            return Ok(approvals
                .input_required(&current, binding.as_bytes(), None)
                .into());
        };
        match approvals.read_retry(
            &state,
            responses.as_ref(),
            binding.as_bytes(),
            &current.email,
        ) {
            // `current` was planned on this retry, after the human answered.
            Answer::Approved { digest } if digest == current.digest => {
                Ok(self.run(current, ctx).await)
            }
            Answer::Approved { .. } => {
                let note = "The plan changed while you were deciding (see below); nothing has changed yet.";
                Ok(approvals
                    .input_required(&current, binding.as_bytes(), Some(note))
                    .into())
            }
            Answer::Refused(why) => Ok(cancelled(current, &why)),
            Answer::CannotAsk(why) => Ok(cannot_ask(current, &why)),
        }
    }

    /// Carry out an approved plan: audit each action, report progress, shape the outcome.
    async fn run(
        &self,
        approved: RevocationPlan,
        ctx: &RequestContext<RoleServer>,
    ) -> CallToolResponse {
        let client = client_name(ctx);
        let audit_failures = Mutex::new(Vec::new());
        let (progress_tx, mut progress_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let progress = ctx.meta.get_progress_token().map(|token| {
            let peer = ctx.peer.clone();
            let total = approved.actions.len() as f64;
            tokio::spawn(async move {
                let mut done = 0.0;
                while let Some(message) = progress_rx.recv().await {
                    done += 1.0;
                    let note = ProgressNotificationParam::new(token.clone(), done)
                        .with_total(total)
                        .with_message(message);
                    if peer.notify_progress(note).await.is_err() {
                        break;
                    }
                }
            })
        });
        let on_done = |action: &crate::access::revoke::PlannedAction, result: &ActionResult| {
            let outcome = serde_json::to_value(result.outcome)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            let record = AuditRecord {
                tool: TOOL,
                target: &approved.email,
                system: action.system,
                action: &format!("{}: {}", action.target, action.effect),
                outcome: &outcome,
                detail: &result.detail,
                client: &client,
            };
            if let Err(e) = self.shared.audit.record(&record) {
                audit_failures
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(e.to_string());
            }
            let _ = progress_tx.send(format!("{} {}: {}", outcome, action.system, action.target));
        };
        let results = execute(&self.shared.systems, &approved, &on_done).await;
        drop(progress_tx);
        if let Some(task) = progress {
            let _ = task.await;
        }
        let failed = results.iter().filter(|r| !r.succeeded()).count();
        let (status, mut message) = if failed > 0 {
            (
                RevokeStatus::Partial,
                format!(
                    "{failed} of {} actions did not complete (see results); call {TOOL} again to finish",
                    results.len()
                ),
            )
        } else {
            // Trust, but verify: read the world again. Whatever is left (a binding that appeared
            // while the plan ran, a removal the system did not apply) makes this partial.
            match plan(
                &self.shared.systems,
                &approved.email,
                approved.keep_membership,
            )
            .await
            {
                Ok(left) if left.is_empty() => (
                    RevokeStatus::Done,
                    format!(
                        "{} holds no access that tanzu-mcp can remove now ({} actions, verified)",
                        approved.email,
                        results.len()
                    ),
                ),
                Ok(left) => (
                    RevokeStatus::Partial,
                    format!(
                        "every action succeeded, but {} remain (the world changed meanwhile): {}; call {TOOL} again to finish",
                        left.actions.len(),
                        left.actions
                            .iter()
                            .map(|a| a.target.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                ),
                Err(e) => (
                    RevokeStatus::Partial,
                    format!(
                        "every action succeeded, but verifying the result failed ({}); call {TOOL} again to check",
                        ToolFailure::from(e).0
                    ),
                ),
            }
        };
        let audit_failures = audit_failures
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(first) = audit_failures.first() {
            message.push_str(&format!(
                ". WARNING: the audit log could not be written ({first}); check --audit-log"
            ));
        }
        structured(&output(status, approved, Some(results), None, message)).into()
    }
}

fn is_mrtr(ctx: &RequestContext<RoleServer>) -> bool {
    ctx.protocol_version()
        .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28)
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

fn cancelled(plan: RevocationPlan, why: &str) -> CallToolResponse {
    structured(&output(
        RevokeStatus::Cancelled,
        plan,
        None,
        None,
        format!("nothing changed: {why}"),
    ))
    .into()
}

fn cannot_ask(plan: RevocationPlan, why: &str) -> CallToolResponse {
    let message = format!(
        "nothing changed: {why}, and a destructive plan needs a human's approval. Use a client that supports elicitation, or run `tanzu-mcp call {TOOL}` in a terminal, or (trusted automation only) serve with --confirm token"
    );
    structured(&output(
        RevokeStatus::ConfirmationRequired,
        plan,
        None,
        None,
        message,
    ))
    .into()
}
