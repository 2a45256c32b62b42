//! `invite_user` and `bind_role`: giving access, idempotently and without the guide's traps.
//! Every attempted change is audited before the tool returns.

use rmcp::RoleServer;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::client_name;
use crate::access::audit::AuditRecord;
use crate::access::bind::{BindResult, BindTarget, Grantee, ScopeRef, bind_role, resolve};
use crate::access::error::AccessError;
use crate::access::invite::{InviteResult, invite};
use crate::access::ports::System;
use crate::server::TanzuMcp;
use crate::server::outcome::ToolFailure;

#[derive(Debug, Deserialize, JsonSchema)]
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

#[derive(Debug, Deserialize, JsonSchema)]
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
        let results = invite(&self.shared.systems, &args.emails, args.org_role.as_deref()).await?;
        let client = client_name(&ctx);
        for result in results
            .iter()
            .filter(|r| r.outcome == "invited" || r.outcome.starts_with("error: CSP"))
        {
            self.audit(AuditRecord {
                tool: "invite_user",
                target: &result.email,
                system: System::Csp,
                action: "invite to the CSP org",
                outcome: &result.outcome,
                detail: "",
                client: &client,
            })?;
        }
        Ok(Json(InviteUserOutput { results }))
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
        let grantee = match (args.email, args.group) {
            (Some(email), None) => Grantee::User(email),
            (None, Some(group)) => Grantee::Group(group),
            _ => {
                return Err(AccessError::invalid("give exactly one of `email` and `group`").into());
            }
        };
        let who = match &grantee {
            Grantee::User(email) | Grantee::Group(email) => email.clone(),
        };
        let target = resolve(&self.shared.systems, args.scope).await?;
        let system = match target {
            BindTarget::Tmc(_) => System::Tmc,
            BindTarget::Tap { .. } => System::Kubernetes,
        };
        let action = format!("bind role {} on {target}", args.role);
        let result = bind_role(&self.shared.systems, grantee, &args.role, target).await;
        // Refusals changed nothing and are not audited; a backend failure may have been an attempt.
        let outcome = match &result {
            Ok(done) => Some(
                serde_json::to_value(done.outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
            ),
            Err(AccessError::Backend(e)) => Some(format!("failed: {e}")),
            Err(_) => None,
        };
        if let Some(outcome) = outcome {
            self.audit(AuditRecord {
                tool: "bind_role",
                target: &who,
                system,
                action: &action,
                outcome: &outcome,
                detail: "",
                client: &client_name(&ctx),
            })?;
        }
        Ok(Json(result?))
    }
}

impl TanzuMcp {
    /// Write one audit record; a change that cannot be audited is reported, not hidden.
    pub(crate) fn audit(&self, record: AuditRecord<'_>) -> Result<(), ToolFailure> {
        self.shared.audit.record(&record).map_err(|e| {
            ToolFailure(format!(
                "the change to {} was attempted ({}), but the audit log could not be written: {e}. Fix: check --audit-log's file and disk.",
                record.target, record.outcome
            ))
        })
    }
}
