//! `change_role`: move a subject from one role to another at one scope, never leaving it
//! without a role, after a human approved the exact plan. Translation only.

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
use crate::access::change_role::{ChangeRole, RoleChange};
use crate::server::TanzuMcp;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRoleArgs {
    /// The user whose role changes, by email. Give exactly one of `email` and `group`.
    #[serde(default)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub email: Option<String>,
    /// The group whose role changes, by its exact name. Give exactly one of `email` and `group`.
    #[serde(default)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub group: Option<String>,
    /// Where, in the shape `bind_role` takes and `get_user_access` reports.
    pub scope: ScopeRef,
    /// The role held now: a TMC role for TMC scopes, a ClusterRole name on a TAP cluster.
    pub from_role: String,
    /// The role to hold instead (same kind as `from_role`).
    pub to_role: String,
    /// Only for servers started with `--confirm token` (trusted automation): the
    /// `confirmation_token` of an earlier call with the same arguments. Ignored otherwise.
    #[serde(default, skip_serializing)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub confirm: Option<String>,
}

#[tool_router(router = change_role_router, vis = "pub(crate)")]
impl TanzuMcp {
    /// Move a user (by email) or group (by exact name) from `from_role` to `to_role` at one
    /// scope, never leaving it without a role: on TMC one IAM policy PATCH adds the new role and
    /// removes the old together; on a TAP cluster the new binding is created first and the
    /// subject leaves the old binding only after that succeeded (others on it keep theirs). If
    /// adding fails nothing is removed (`failed`); if removing fails the result is `partial`
    /// and calling again finishes. The new grant follows the write policy (forbidden subjects
    /// and roles are refused). Nothing changes until a human approves the exact plan in the
    /// client (they type the email or group back).
    #[tool(
        name = "change_role",
        output_schema = schema_for_output::<ChangeOutput<RoleChange>>(),
        annotations(
            title = "Change a role",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    pub async fn change_role(
        &self,
        Parameters(mut args): Parameters<ChangeRoleArgs>,
        RequestState(state): RequestState,
        InputResponses(responses): InputResponses,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let (grantee, target) = match self.grantee_at(&args.email, &args.group, &args.scope).await {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let change = ChangeRole {
            grantee,
            from_role: args.from_role.clone(),
            to_role: args.to_role.clone(),
            target,
            policy: self.shared.policy.clone(),
        };
        let approval = Approval {
            token: args.confirm.take(),
            state,
            responses,
        };
        let words = |plan: &ChangePlan<RoleChange>| {
            let about = &plan.about;
            let holds = format!(
                "{} holds {} and not {} on {}",
                about.subject.name, about.to_role, about.from_role, about.target
            );
            Words {
                nothing_to_do: format!("{holds}; nothing to do"),
                done: holds,
                // No grant in the plan: the new role was already held when it was made.
                never_failed: !plan.actions.iter().any(|a| a.operation.grants()),
            }
        };
        Ok(self
            .destructive(&ctx, &change, &args, approval, words)
            .await)
    }
}
