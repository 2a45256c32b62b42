//! `revoke_all_access`: remove a person everywhere, after a human approved the exact plan.
//! Translation only: the domain plans, asks (through the server's approver), plans again,
//! runs, verifies and audits; `change_result` words how it ended, as for every destructive tool.

use std::sync::Arc;

use rmcp::RoleServer;
use rmcp::handler::server::tool::{InputResponses, RequestState, schema_for_output};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResponse, JsonObject};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::Approval;
use super::change_result::{ChangeOutput, Words};
use crate::access::change::ChangePlan;
use crate::access::identity::normalize_email;
use crate::access::revoke::{Revocation, RevokeAll};
use crate::server::TanzuMcp;
use crate::server::outcome::failure;

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

/// The destructive tools' result schema, less `failed`: revoke reports a run with failures as
/// `partial`, and its statuses are fixed (INTERFACE.md), so its schema says only what it sends.
fn output_schema() -> Arc<JsonObject> {
    let mut schema = (*schema_for_output::<ChangeOutput<Revocation>>()).clone();
    if let Some(Value::Array(statuses)) = schema
        .get_mut("$defs")
        .and_then(|defs| defs.get_mut("ChangeStatus"))
        .and_then(|status| status.get_mut("oneOf"))
    {
        statuses.retain(|status| status["const"] != "failed");
    }
    Arc::new(schema)
}

#[tool_router(router = revoke_router, vis = "pub(crate)")]
impl TanzuMcp {
    /// Remove a person from every TMC binding, every TAP cluster binding and, last, from the CSP
    /// org (or revoke their pending invitation). Other subjects of shared bindings keep their
    /// access; group bindings are not touched (the IdP owns group membership). Nothing changes
    /// until a human approves the exact plan in the client or on a one-time page in their
    /// browser (they type the email back); `approval_pending` means the page is waiting: call
    /// again with the same arguments after they approved. A client that cannot ask and no
    /// browser gets status `confirmation_required`. Calling again after `partial` finishes the
    /// job.
    #[tool(
        name = "revoke_all_access",
        output_schema = output_schema(),
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
        let change = RevokeAll {
            email,
            keep_membership: args.keep_membership,
        };
        // What an approval is bound to: this tool with these arguments (not `confirm`).
        let bound_to = Revocation {
            email: change.email.clone(),
            keep_membership: change.keep_membership,
        };
        let approval = Approval {
            token: args.confirm,
            state,
            responses,
        };
        let email = &bound_to.email;
        let words = |_: &ChangePlan<Revocation>| Words {
            nothing_to_do: format!(
                "{email} holds no access that tanzu-mcp can remove; nothing to do"
            ),
            done: format!("{email} holds no access that tanzu-mcp can remove now"),
            // Its statuses are fixed (INTERFACE.md): a run with failures is `partial`.
            never_failed: true,
        };
        Ok(self
            .destructive(&ctx, &change, &bound_to, approval, words)
            .await)
    }
}
