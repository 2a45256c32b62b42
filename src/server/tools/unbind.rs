//! `unbind_role`: remove one subject from one role at one scope, after a human approved the
//! exact plan. Translation only: the domain plans, asks, runs, verifies and audits.

use rmcp::RoleServer;
use rmcp::handler::server::tool::{InputResponses, RequestState, schema_for_output};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResponse;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::change_result::{ChangeOutput, Words, respond};
use super::{Approval, CallGate};
use crate::access::bind::{Grantee, ScopeRef, resolve};
use crate::access::change::apply;
use crate::access::error::AccessError;
use crate::access::unbind::{Unbind, Unbinding};
use crate::server::TanzuMcp;
use crate::server::outcome::failure;

const TOOL: &str = "unbind_role";

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnbindRoleArgs {
    /// The user to unbind, by email (a member or not: leftovers of removed people too). Give
    /// exactly one of `email` and `group`.
    #[serde(default)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub email: Option<String>,
    /// The group to unbind, by its exact name as bound. Give exactly one of `email` and `group`.
    #[serde(default)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub group: Option<String>,
    /// The role to remove: a TMC role (such as `cluster.edit`) for TMC scopes, or a ClusterRole
    /// name (such as `app-editor`) for a TAP cluster.
    pub role: String,
    /// Where the role is held, in the shape `bind_role` takes and `get_user_access` reports.
    pub scope: ScopeRef,
    /// Only for servers started with `--confirm token` (trusted automation): the
    /// `confirmation_token` of an earlier call with the same arguments. Ignored otherwise.
    #[serde(default, skip_serializing)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub confirm: Option<String>,
}

/// Which of `email` and `group` was given: exactly one.
pub(crate) fn grantee(
    email: &Option<String>,
    group: &Option<String>,
) -> Result<Grantee, AccessError> {
    match (email, group) {
        (Some(email), None) => Ok(Grantee::User(email.clone())),
        (None, Some(group)) => Ok(Grantee::Group(group.clone())),
        _ => Err(AccessError::invalid(
            "give exactly one of `email` and `group`",
        )),
    }
}

#[tool_router(router = unbind_router, vis = "pub(crate)")]
impl TanzuMcp {
    /// Remove one user (by email) or group (by exact name) from one role at one scope: a TMC
    /// scope, or a TAP cluster (its ClusterRoleBindings, or RoleBindings in `namespace`). Other
    /// subjects of the same binding keep their access; a Kubernetes binding left with no subject
    /// is deleted. Works for people no longer in the org (leftovers). Nothing changes until a
    /// human approves the exact plan in the client (they type the email or group back); a
    /// client that cannot ask gets status `confirmation_required`. Calling again after `partial`
    /// finishes the job.
    #[tool(
        name = "unbind_role",
        output_schema = schema_for_output::<ChangeOutput<Unbinding>>(),
        annotations(
            title = "Unbind a role",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    pub async fn unbind_role(
        &self,
        Parameters(mut args): Parameters<UnbindRoleArgs>,
        RequestState(state): RequestState,
        InputResponses(responses): InputResponses,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let grantee = match grantee(&args.email, &args.group) {
            Ok(grantee) => grantee,
            Err(e) => return Ok(failure(e).into()),
        };
        let target = match resolve(&self.shared.systems, args.scope.clone()).await {
            Ok(target) => target,
            Err(e) => return Ok(failure(e).into()),
        };
        let change = Unbind {
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
        let call = CallGate::new(self, &ctx, TOOL, &args, approval);
        let report = apply(&self.shared.systems, &change, &call.gate()).await;
        call.finish().await;
        let report = match report {
            Ok(report) => report,
            Err(e) => return Ok(failure(e).into()),
        };
        let words = Words {
            tool: TOOL,
            nothing_to_do: &format!(
                "{} does not hold {} on {}; nothing to do",
                report.plan.about.subject.name, report.plan.about.role, report.plan.about.target
            ),
            done: &format!(
                "{} no longer holds {} on {}",
                report.plan.about.subject.name, report.plan.about.role, report.plan.about.target
            ),
            begun: false,
        };
        Ok(respond(
            &words,
            report,
            self.shared.approvals.token_ttl.as_secs(),
        ))
    }
}
