//! The TMC (Tanzu Mission Control) API: an IAM policy per resource, and the resource listings.
//!
//! | scope | policy path |
//! |---|---|
//! | organization | `/v1alpha1/organization:iam?fullName.orgId=` |
//! | cluster group | `/v1alpha1/clustergroups:iam/{name}` |
//! | cluster | `/v1alpha1/clusters:iam/{name}?fullName.managementClusterName=&fullName.provisionerName=` |
//! | namespace | `/v1alpha1/clusters/{cluster}/namespaces:iam/{name}` (same query) |
//! | workspace | `/v1alpha1/workspaces:iam/{name}` |
//!
//! - `GET` answers `{policyList: [IAMPolicy]}`: the resource's own policy first, then the
//!   policies it inherits (cluster group and organization for a cluster; workspace and
//!   organization for a namespace, as the Terraform provider's docs put it). Each policy's
//!   `meta.parentReferences` names the resource it is attached to; the Terraform provider picks
//!   its policy by the `meta.uid` a PATCH answered with, so clients must not assume the list
//!   holds one policy.
//! - `GET /v1alpha1/iam/effective?searchScope.targetResourceUid=` lists the same policies of
//!   the resource with that `meta.uid`, each marked `spec.inherited` ([`effective`]).
//! - `PATCH` `{fullName, bindingDeltaList: [{op: ADD|DELETE, role, subject: {name, kind}}]}`
//!   applies the deltas atomically and answers `{policy}`. ADD of a present subject and DELETE of
//!   an absent one change nothing. A policy left without bindings disappears.
//! - `PUT` with an IAMPolicy `{meta?, roleBindings}` replaces the policy (`meta.resourceVersion`,
//!   when sent, must match: 409 otherwise); an empty body deletes it. Answers `{policy}`.
//! - Refusals (grpc-gateway errors `{error, code, message, details}`): unknown role or a role
//!   that cannot be bound on that resource type (400, INVALID_ARGUMENT); ADD of a USER who is not
//!   an ACTIVE CSP member (400, FAILED_PRECONDITION: the guide's trap); unknown resource (404).
//!   GROUP names are not checked, exactly like the real service: a group whose name differs from
//!   the real one only in case is accepted and silently grants nothing.
//! - Listings `GET /v1alpha1/{clusters,clustergroups,workspaces}` and
//!   `/v1alpha1/clusters/{cluster}/namespaces` paginate with `pagination.offset` and
//!   `pagination.size` (default 20) and report `totalCount` as a string (proto3 int64 JSON, as in
//!   the Terraform provider's models). `GET /v1alpha1/iam/roles` lists the roles: the built-in
//!   ones and the custom `app-deployer` (`spec.isInbuilt: false`), bound like any other.
//!
//! Layout: [`scope`] (the path extractor and the resource checks), [`policy`] (the IAM policy
//! verbs), [`listing`] (the resource listings) and [`error`].

mod effective;
mod error;
mod listing;
mod policy;
mod scope;

use axum::Router;
use axum::routing::get;

use super::auth;
use super::state::AppState;
pub use error::TmcError;

pub fn routes(state: AppState) -> Router<AppState> {
    // The route templates are part of the wire (request statistics and faults key on them).
    let policy = || {
        get(policy::get_policy)
            .patch(policy::patch_policy)
            .put(policy::put_policy)
    };
    Router::new()
        .route("/v1alpha1/organization:iam", policy())
        .route("/v1alpha1/clustergroups:iam/{name}", policy())
        .route("/v1alpha1/clusters:iam/{name}", policy())
        .route(
            "/v1alpha1/clusters/{cluster}/namespaces:iam/{name}",
            policy(),
        )
        .route("/v1alpha1/workspaces:iam/{name}", policy())
        .route("/v1alpha1/clusters", get(listing::list_clusters))
        .route("/v1alpha1/clusters/{name}", get(listing::get_cluster))
        .route("/v1alpha1/clustergroups", get(listing::list_cluster_groups))
        .route(
            "/v1alpha1/clustergroups/{name}",
            get(listing::get_cluster_group),
        )
        .route("/v1alpha1/workspaces", get(listing::list_workspaces))
        .route("/v1alpha1/workspaces/{name}", get(listing::get_workspace))
        .route(
            "/v1alpha1/clusters/{cluster}/namespaces",
            get(listing::list_namespaces),
        )
        .route(
            "/v1alpha1/clusters/{cluster}/namespaces/{name}",
            get(listing::get_namespace),
        )
        .route("/v1alpha1/iam/effective", get(effective::effective))
        .route("/v1alpha1/iam/roles", get(listing::list_roles))
        .route("/v1alpha1/iam/roles/{name}", get(listing::get_role))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            auth::require_tmc_token,
        ))
}
