//! `provision_user`: invite if needed, wait a bounded time for acceptance (with progress
//! notifications), then bind and verify. Translation only: the domain does every step.

use std::time::Duration;

use rmcp::RoleServer;
use rmcp::handler::server::tool::{InputResponses, RequestState, schema_for_output};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResponse;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Approval, CallGate, explain_unapproved};
use crate::access::bind::{ScopeRef, resolve};
use crate::access::error::AccessError;
use crate::access::identity::normalize_email;
use crate::access::invite::DEFAULT_ORG_ROLE;
use crate::access::provision::{MAX_WAIT, Provision, ProvisionResult, provision};
use crate::server::TanzuMcp;
use crate::server::outcome::{failure, structured, structured_error};

const TOOL: &str = "provision_user";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionUserArgs {
    /// The person's email address.
    pub email: String,
    /// A TMC role (such as `cluster.edit`) for TMC scopes, or a ClusterRole name (such as
    /// `app-editor`) for a TAP cluster.
    pub role: String,
    /// Where to bind, in the shape `bind_role` takes.
    pub scope: ScopeRef,
    /// CSP organization role of the invitation: `org_member` (default) or `org_owner` (which
    /// needs a human's approval). Ignored for people already in the org.
    #[serde(default)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub org_role: Option<String>,
    /// How long to wait in this call for the person to accept the invitation, in seconds
    /// (default 0, at most 45). Not accepted in time: status `pending`, nothing bound; call
    /// again with the same arguments later to finish.
    #[serde(default)]
    #[schemars(range(min = 0, max = 45))]
    pub wait_seconds: u64,
    /// Only for servers started with `--confirm token` (trusted automation): the
    /// `confirmation_token` of an earlier call with the same arguments. Ignored otherwise.
    #[serde(default)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub confirm: Option<String>,
}

/// What an approval is bound to: the call's arguments without the wait and the approval.
#[derive(Serialize)]
struct Bound<'a> {
    email: &'a str,
    role: &'a str,
    scope: &'a ScopeRef,
    org_role: &'a str,
}

#[tool_router(router = provision_router, vis = "pub(crate)")]
impl TanzuMcp {
    /// Give a person a role end to end: invite them to the CSP org if they are not a member or
    /// invitee, wait up to `wait_seconds` (at most 45) for them to accept, sending progress
    /// notifications, then bind the role (as `bind_role` does) and verify it. Not accepted in
    /// time: status `pending`, `remaining` says exactly what is left, and nothing is bound
    /// anywhere; the same call made again later finishes the job (every step is idempotent).
    /// Privileged org roles and grants need a human's approval in the client, as in
    /// `invite_user` and `bind_role`.
    #[tool(
        name = "provision_user",
        output_schema = schema_for_output::<ProvisionResult>(),
        annotations(
            title = "Provision a user",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    pub async fn provision_user(
        &self,
        Parameters(args): Parameters<ProvisionUserArgs>,
        RequestState(state): RequestState,
        InputResponses(responses): InputResponses,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if args.wait_seconds > MAX_WAIT.as_secs() {
            return Ok(failure(AccessError::invalid(format!(
                "wait_seconds is at most {} in one call (many clients give up on a call after about 60 s); call again to wait longer",
                MAX_WAIT.as_secs()
            )))
            .into());
        }
        let email = match normalize_email(&args.email) {
            Ok(email) => email,
            Err(e) => return Ok(failure(e).into()),
        };
        let org_role = args
            .org_role
            .as_deref()
            .map(str::trim)
            .unwrap_or(DEFAULT_ORG_ROLE);
        if org_role.is_empty() || !org_role.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Ok(failure(AccessError::invalid(format!(
                "org_role '{}' is not a CSP organization role name; use org_member or org_owner",
                crate::access::validate::printable(org_role)
            )))
            .into());
        }
        let target = match resolve(&self.shared.systems, args.scope.clone()).await {
            Ok(target) => target,
            Err(e) => return Ok(failure(e).into()),
        };
        let request = Provision {
            email: email.clone(),
            role: args.role.clone(),
            target,
            org_role: org_role.to_string(),
            wait: Duration::from_secs(args.wait_seconds),
            policy: self.shared.policy.clone(),
        };
        let bound = Bound {
            email: &email,
            role: &args.role,
            scope: &args.scope,
            org_role,
        };
        let approval = Approval {
            token: args.confirm.clone(),
            state,
            responses,
        };
        let call = CallGate::new(self, &ctx, TOOL, &bound, approval);
        let result = provision(
            &self.shared.systems,
            &request,
            &call.gate(),
            call.progress(),
        )
        .await;
        call.finish().await;
        Ok(match result {
            Err(e) => failure(e).into(),
            Ok(Ok(done)) => structured(&done).into(),
            Ok(Err((mut shown, unapproved))) => {
                let mut message = std::mem::take(&mut shown.message);
                match explain_unapproved(
                    TOOL,
                    unapproved,
                    &mut message,
                    &mut shown.confirmation_token,
                ) {
                    Err(request) => request.into(),
                    Ok(is_error) => {
                        shown.message = message;
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
