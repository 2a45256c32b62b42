//! `list_clusters` and `list_role_bindings`: every valid name for the write tools, and every
//! binding at one scope, each row in the shape the write tools take back.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::access::discovery::{BindingListing, ClusterListing, list_clusters, list_role_bindings};
use crate::access::scope::ScopeRef;
use crate::server::TanzuMcp;
use crate::server::outcome::ToolFailure;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListClustersArgs {
    /// A TMC or TAP cluster name: also list its namespaces.
    #[serde(default)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub cluster: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRoleBindingsArgs {
    /// The scope to list: a TMC resource (its IAM policy), or a TAP cluster (every
    /// ClusterRoleBinding and RoleBinding; with `namespace`, that namespace's RoleBindings).
    pub scope: ScopeRef,
    /// The `next_cursor` of the previous page, with the same scope.
    #[serde(default)]
    #[schemars(with = "String", transform = crate::access::schema::optional)]
    pub cursor: Option<String>,
    /// Rows per page: default 100, at most 500.
    #[serde(default)]
    #[schemars(with = "u32", range(min = 1, max = 500), transform = crate::access::schema::optional)]
    pub limit: Option<u32>,
}

#[tool_router(router = discovery_router, vis = "pub(crate)")]
impl TanzuMcp {
    /// Every name the write tools accept: TMC clusters (with management cluster and
    /// provisioner), cluster groups, workspaces and roles, and the configured TAP clusters with
    /// their ClusterRoles (built-in `system:` ones left out; clusters with the same roles listed
    /// together). With `cluster`, also that cluster's namespaces. Call it before bind_role when
    /// a name is not known for certain. `unreadable` names anything that could not be read.
    #[tool(
        name = "list_clusters",
        annotations(
            title = "List clusters and valid names",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    pub async fn list_clusters(
        &self,
        Parameters(args): Parameters<ListClustersArgs>,
    ) -> Result<Json<ClusterListing>, ToolFailure> {
        let listing = list_clusters(&self.shared.systems, args.cluster.as_deref()).await?;
        Ok(Json(listing))
    }

    /// Every binding at one scope, one row per subject: a TMC resource's IAM policy, or a TAP
    /// cluster's ClusterRoleBindings and RoleBindings. Each row's `role` and `scope`, with the
    /// subject's name as `email` (USER) or `group` (GROUP), can be passed to unbind_role or
    /// change_role unchanged. Pages with `limit` and `cursor`.
    #[tool(
        name = "list_role_bindings",
        annotations(
            title = "List the bindings at a scope",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    pub async fn list_role_bindings(
        &self,
        Parameters(args): Parameters<ListRoleBindingsArgs>,
    ) -> Result<Json<BindingListing>, ToolFailure> {
        let listing = list_role_bindings(
            &self.shared.systems,
            &self.shared.cursors,
            args.scope,
            args.cursor.as_deref(),
            args.limit.map(|n| n as usize),
        )
        .await?;
        Ok(Json(listing))
    }
}
