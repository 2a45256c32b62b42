//! `get_user_access`: one person's whole access across CSP, TMC and every TAP cluster.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::access::person::{UserAccess, user_access};
use crate::server::TanzuMcp;
use crate::server::outcome::ToolFailure;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetUserAccessArgs {
    /// The person's email address.
    pub email: String,
}

#[tool_router(router = user_access_router, vis = "pub(crate)")]
impl TanzuMcp {
    /// Everything one person can reach: CSP membership or invitation, every TMC role at every
    /// scope (org, cluster groups, clusters, namespaces, workspaces), every Kubernetes binding on
    /// every TAP cluster, and warnings (leftovers after a removal, access through groups, group
    /// names that differ only in case). `incomplete` lists anything that could not be read.
    #[tool(
        name = "get_user_access",
        annotations(
            title = "Get a person's access",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    pub async fn get_user_access(
        &self,
        Parameters(args): Parameters<GetUserAccessArgs>,
    ) -> Result<Json<UserAccess>, ToolFailure> {
        Ok(Json(user_access(&self.shared.systems, &args.email).await?))
    }
}
