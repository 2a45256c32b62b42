//! `invite_user` and `bind_role`: giving access, idempotently and without the guide's traps.
//! Translation only: the domain plans, checks, runs and audits the change.

use rmcp::RoleServer;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Approval, CallGate};
use crate::access::bind::{Bind, BindResult, Grantee, ScopeRef, bind_role, resolve};
use crate::access::error::AccessError;
use crate::access::invite::{InviteResult, invite};
use crate::server::TanzuMcp;
use crate::server::outcome::ToolFailure;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteUserArgs {
    /// Email addresses to invite (at most 100).
    pub emails: Vec<String>,
    /// CSP organization role offered: `org_member` (default) or `org_owner`.
    #[serde(default)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub org_role: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct InviteUserOutput {
    /// One result per email given, in order.
    pub results: Vec<InviteResult>,
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
}

#[tool_router(router = provisioning_router, vis = "pub(crate)")]
impl TanzuMcp {
    /// Invite people to the CSP org by email. Idempotent: a member is reported as
    /// `already_member` and a pending invitee as `already_invited`, not invited again. Invitees
    /// become ACTIVE when they accept the email; only then can they be bound to roles.
    #[tool(
        name = "invite_user",
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
        Parameters(args): Parameters<InviteUserArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<InviteUserOutput>, ToolFailure> {
        let call = CallGate::new(self, &ctx, "invite_user", &args, Approval::default());
        let results = invite(
            &self.shared.systems,
            &args.emails,
            args.org_role.as_deref(),
            &call.gate(),
        )
        .await;
        call.finish().await;
        Ok(Json(InviteUserOutput { results: results? }))
    }

    /// Bind a user (by email) or a group (by exact name) to a role at a TMC scope (organization,
    /// cluster group, cluster, namespace, workspace) or on a TAP cluster (a ClusterRoleBinding, or
    /// a RoleBinding with `namespace`). Refuses a user who is not an ACTIVE org member, unknown
    /// roles (listing the valid ones) and group names that match a real group only when case is
    /// ignored. Idempotent: an existing binding is reported as `already_bound`.
    #[tool(
        name = "bind_role",
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
        Parameters(args): Parameters<BindRoleArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<BindResult>, ToolFailure> {
        let grantee = match (&args.email, &args.group) {
            (Some(email), None) => Grantee::User(email.clone()),
            (None, Some(group)) => Grantee::Group(group.clone()),
            _ => {
                return Err(AccessError::invalid("give exactly one of `email` and `group`").into());
            }
        };
        let target = resolve(&self.shared.systems, args.scope.clone()).await?;
        let change = Bind {
            grantee,
            role: args.role.clone(),
            target,
        };
        let call = CallGate::new(self, &ctx, "bind_role", &args, Approval::default());
        let result = bind_role(&self.shared.systems, &change, &call.gate()).await;
        call.finish().await;
        Ok(Json(result?))
    }
}
