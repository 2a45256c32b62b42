//! `list_members`: the CSP org, members and pending invitations, page by page.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::access::members::{MemberFilter, MemberListing, MemberStatus, list_members};
use crate::server::TanzuMcp;
use crate::server::outcome::ToolFailure;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListMembersArgs {
    /// ACTIVE for members only, INVITED for pending invitations only; omit for both.
    #[serde(default)]
    #[schemars(with = "MemberStatus", transform = crate::access::schema::optional)]
    pub status: Option<MemberStatus>,
    /// Case-insensitive text matched against email, first name and last name.
    #[serde(default)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub query: Option<String>,
    /// Page size: default 50, at most 500.
    #[serde(default)]
    #[schemars(with = "u32", range(min = 1, max = 500), transform = crate::access::schema::optional)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page, with the same status and query.
    #[serde(default)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub cursor: Option<String>,
}

#[tool_router(router = members_router, vis = "pub(crate)")]
impl TanzuMcp {
    /// List the CSP org: ACTIVE members first, then INVITED people (pending invitations), with
    /// org roles. Pages with `limit` and `cursor`; filter with `status` and `query`.
    #[tool(
        name = "list_members",
        annotations(
            title = "List org members",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    pub async fn list_members(
        &self,
        Parameters(args): Parameters<ListMembersArgs>,
    ) -> Result<Json<MemberListing>, ToolFailure> {
        let filter = MemberFilter {
            status: args.status,
            query: args.query,
        };
        let listing = list_members(
            self.shared.systems.directory.as_ref(),
            &filter,
            args.limit.map(|n| n as usize),
            args.cursor.as_deref(),
        )
        .await?;
        Ok(Json(listing))
    }
}
