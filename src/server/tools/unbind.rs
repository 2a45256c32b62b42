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

use super::Approval;
use super::change_result::{ChangeOutput, Words};
use crate::access::bind::ScopeRef;
use crate::access::change::ChangePlan;
use crate::access::unbind::{Unbind, Unbinding};
use crate::server::TanzuMcp;

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
        let (grantee, target) = match self.grantee_at(&args.email, &args.group, &args.scope).await {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
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
        let words = |plan: &ChangePlan<Unbinding>| {
            let about = &plan.about;
            Words {
                nothing_to_do: format!(
                    "{} does not hold {} on {}; nothing to do",
                    about.subject.name, about.role, about.target
                ),
                done: format!(
                    "{} no longer holds {} on {}",
                    about.subject.name, about.role, about.target
                ),
                never_failed: false,
            }
        };
        Ok(self
            .destructive(&ctx, &change, &args, approval, words)
            .await)
    }
}
