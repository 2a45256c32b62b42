//! `invite_user` and `bind_role`: giving access, idempotently and without the guide's traps.
//! Translation only: the domain plans, classifies (the write policy), asks a human for
//! privileged grants, runs and audits the change.

use rmcp::RoleServer;
use rmcp::handler::server::tool::{InputResponses, RequestState, schema_for_output};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResponse;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Approval, CallGate, explain_unapproved};
use crate::access::bind::{Bind, BindResult, ScopeRef, bind_role};
use crate::access::change::ChangePlan;
use crate::access::invite::{Invitations, InviteResult, invite};
use crate::server::TanzuMcp;
use crate::server::outcome::{failure, structured, structured_error};

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteUserArgs {
    /// Email addresses to invite (at most 100).
    pub emails: Vec<String>,
    /// CSP organization role offered: `org_member` (default) or `org_owner` (which needs a
    /// human's approval).
    #[serde(default)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub org_role: Option<String>,
    /// Only for servers started with `--confirm token` (trusted automation): the
    /// `confirmation_token` of an earlier call with the same arguments. Ignored otherwise.
    #[serde(default, skip_serializing)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub confirm: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct InviteUserOutput {
    /// One result per email given, in order.
    pub results: Vec<InviteResult>,
    /// For a privileged invitation that did not run: the plan a human must approve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<ChangePlan<Invitations>>,
    /// With `--confirm token`: pass as `confirm` in the same call to run this plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation_token: Option<String>,
    /// What happened, when it is more than the results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BindRoleArgs {
    /// The user to bind, by email. Give exactly one of `email` and `group`.
    #[serde(default)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub email: Option<String>,
    /// The group to bind, by its exact name. Give exactly one of `email` and `group`.
    #[serde(default)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub group: Option<String>,
    /// A TMC role (such as `cluster.edit`) for TMC scopes, or a ClusterRole name (such as
    /// `app-editor`) for a TAP cluster.
    pub role: String,
    /// Where to bind.
    pub scope: ScopeRef,
    /// Only for servers started with `--confirm token` (trusted automation): the
    /// `confirmation_token` of an earlier call with the same arguments. Ignored otherwise.
    #[serde(default, skip_serializing)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub confirm: Option<String>,
}

#[tool_router(router = provisioning_router, vis = "pub(crate)")]
impl TanzuMcp {
    /// Invite people to the CSP org by email. Idempotent: a member is reported as
    /// `already_member` and a pending invitee as `already_invited`, not invited again. Invitees
    /// become ACTIVE when they accept the email; only then can they be bound to roles. Any org
    /// role but `org_member` needs a human's approval in the client (they type the emails back).
    #[tool(
        name = "invite_user",
        output_schema = schema_for_output::<InviteUserOutput>(),
        annotations(
            title = "Invite to the org",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    pub async fn invite_user(
        &self,
        Parameters(mut args): Parameters<InviteUserArgs>,
        RequestState(state): RequestState,
        InputResponses(responses): InputResponses,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let approval = Approval {
            token: args.confirm.take(),
            state,
            responses,
        };
        let call = CallGate::new(self, &ctx, "invite_user", &args, approval);
        let report = invite(
            &self.shared.systems,
            &args.emails,
            args.org_role.as_deref(),
            self.shared.policy.clone(),
            &call.gate(),
        )
        .await;
        call.finish().await;
        let report = match report {
            Ok(report) => report,
            Err(e) => return Ok(failure(e).into()),
        };
        let mut output = InviteUserOutput {
            results: report.results,
            plan: None,
            confirmation_token: None,
            message: None,
        };
        let all_failed = output.results.iter().all(|r| r.outcome.is_error());
        let Some((unapproved, plan)) = report.unapproved else {
            return Ok(if all_failed {
                structured_error(&output).into()
            } else {
                structured(&output).into()
            });
        };
        let mut message =
            "nothing was invited: this invitation needs a human's approval".to_string();
        let is_error = match explain_unapproved(
            "invite_user",
            unapproved,
            &mut message,
            &mut output.confirmation_token,
        ) {
            Err(request) => return Ok(request.into()),
            Ok(is_error) => is_error,
        };
        output.plan = Some(plan);
        output.message = Some(message);
        Ok(if is_error {
            structured_error(&output).into()
        } else {
            structured(&output).into()
        })
    }

    /// Bind a user (by email) or a group (by exact name) to a role at a TMC scope (organization,
    /// cluster group, cluster, namespace, workspace) or on a TAP cluster (a ClusterRoleBinding, or
    /// a RoleBinding with `namespace`). Refuses a user who is not an ACTIVE org member, unknown
    /// roles (listing the valid ones), group names that match a real group only when case is
    /// ignored, and Kubernetes built-in or wildcard subjects (`system:...`, `*`), whoever
    /// approves. Privileged grants (admin roles, organization roles above view, ClusterRoles
    /// that grant `*`, escalate, bind, impersonate or RBAC writes, group grants at organization
    /// scope) need a human's approval in the client. Idempotent: an existing binding is
    /// reported as `already_bound`.
    #[tool(
        name = "bind_role",
        output_schema = schema_for_output::<BindResult>(),
        annotations(
            title = "Bind a role",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    pub async fn bind_role(
        &self,
        Parameters(mut args): Parameters<BindRoleArgs>,
        RequestState(state): RequestState,
        InputResponses(responses): InputResponses,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let (grantee, target) = match self.grantee_at(&args.email, &args.group, &args.scope).await {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let change = Bind {
            grantee,
            role: args.role.clone(),
            target,
            policy: self.shared.policy.clone(),
        };
        let approval = Approval {
            token: args.confirm.take(),
            state,
            responses,
        };
        let call = CallGate::new(self, &ctx, "bind_role", &args, approval);
        let result = bind_role(&self.shared.systems, &change, &call.gate()).await;
        call.finish().await;
        Ok(match result {
            Err(e) => failure(e).into(),
            Ok(Ok(done)) => structured(&done).into(),
            Ok(Err((mut shown, unapproved))) => {
                let mut message = shown.message.take().unwrap_or_default();
                match explain_unapproved(
                    "bind_role",
                    unapproved,
                    &mut message,
                    &mut shown.confirmation_token,
                ) {
                    Err(request) => request.into(),
                    Ok(is_error) => {
                        shown.message = Some(message);
                        if is_error {
                            structured_error(&shown).into()
                        } else {
                            structured(&shown).into()
                        }
                    }
                }
            }
        })
    }
}
