//! The Kubernetes API of each TAP cluster, under `/k8s/<cluster>`: RBAC bindings read and
//! written as `rbac.authorization.k8s.io/v1`, ClusterRoles and namespaces read-only.
//!
//! - ClusterRoleBindings and RoleBindings: list (`limit`, `continue`, `fieldSelector`,
//!   `labelSelector`; all namespaces or one), get, create (409 AlreadyExists), update (409
//!   Conflict on a stale `metadata.resourceVersion`; creates when absent, as RBAC allows), patch
//!   (merge, strategic merge, JSON patch), delete (with `preconditions`). `roleRef` is
//!   immutable (422). `dryRun=All` validates without storing.
//! - Every write bumps the cluster's revision and stamps it as the object's `resourceVersion`.
//!
//! Layout: [`path`] (the path extractor), [`binding`] (the two binding types and their
//! validation), [`store`] (the operations), [`table`] (lists and Tables) and [`read_only`]
//! (ClusterRoles and Namespaces). This module holds the routes and one handler per verb.

mod binding;
mod path;
mod read_only;
mod store;
mod table;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
use serde::Serialize;

use super::auth;
use super::k8s_api::{KubeError, KubeResult, RequestQuery, ResourceKind};
use super::state::{AppState, KubeCluster, World};
use path::{BindingKind, BindingPath, BindingRequest};

pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

pub const CLUSTER_ROLE_BINDINGS: ResourceKind =
    rbac_kind("clusterrolebindings", "ClusterRoleBinding");
pub const ROLE_BINDINGS: ResourceKind = rbac_kind("rolebindings", "RoleBinding");
pub const CLUSTER_ROLES: ResourceKind = rbac_kind("clusterroles", "ClusterRole");
pub const NAMESPACES: ResourceKind = ResourceKind {
    plural: "namespaces",
    group: "",
    kind: "Namespace",
};

const fn rbac_kind(plural: &'static str, kind: &'static str) -> ResourceKind {
    ResourceKind {
        plural,
        group: RBAC_GROUP,
        kind,
    }
}

const RBAC: &str = "/k8s/{cluster}/apis/rbac.authorization.k8s.io/v1";

pub fn routes(state: AppState) -> Router<AppState> {
    let collection = || get(list).post(create);
    let item = || get(read).put(update).patch(patch).delete(delete);
    Router::new()
        .route(&format!("{RBAC}/clusterrolebindings"), collection())
        .route(&format!("{RBAC}/clusterrolebindings/{{name}}"), item())
        .route(&format!("{RBAC}/rolebindings"), get(list))
        .route(
            &format!("{RBAC}/namespaces/{{namespace}}/rolebindings"),
            collection(),
        )
        .route(
            &format!("{RBAC}/namespaces/{{namespace}}/rolebindings/{{name}}"),
            item(),
        )
        .route(
            &format!("{RBAC}/clusterroles"),
            get(read_only::list::<ClusterRole>),
        )
        .route(
            &format!("{RBAC}/clusterroles/{{name}}"),
            get(read_only::get::<ClusterRole>),
        )
        .route(
            "/k8s/{cluster}/api/v1/namespaces",
            get(read_only::list::<Namespace>),
        )
        .route(
            "/k8s/{cluster}/api/v1/namespaces/{name}",
            get(read_only::get::<Namespace>),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            auth::require_k8s_token,
        ))
}

pub(super) fn cluster<'a>(world: &'a World, name: &str) -> KubeResult<&'a KubeCluster> {
    world.clusters.get(name).ok_or_else(KubeError::no_such_path)
}

pub(super) fn cluster_mut<'a>(world: &'a mut World, name: &str) -> KubeResult<&'a mut KubeCluster> {
    world
        .clusters
        .get_mut(name)
        .ok_or_else(KubeError::no_such_path)
}

fn created<T: Serialize>(object: &T) -> Response {
    (StatusCode::CREATED, axum::Json(object)).into_response()
}

fn ok<T: Serialize>(object: &T) -> Response {
    (StatusCode::OK, axum::Json(object)).into_response()
}

// ---------------------------------------------------------------------------------------------
// One handler per verb, for both binding types

pub(super) type Reply = KubeResult<Response>;

/// Run the generic store operation `op` for the binding type the path names.
macro_rules! for_kind {
    ($path:expr, $op:ident($($arg:expr),* $(,)?)) => {
        match $path.kind {
            BindingKind::Cluster => store::$op::<ClusterRoleBinding>($($arg),*),
            BindingKind::Namespaced => store::$op::<RoleBinding>($($arg),*),
        }
    };
}

async fn list(
    State(state): State<AppState>,
    path: BindingPath,
    Query(query): Query<RequestQuery>,
    headers: HeaderMap,
) -> Reply {
    let namespace = path.namespace.as_deref();
    for_kind!(
        path,
        list_bindings(&state, &path.cluster, namespace, &query, &headers)
    )
}

async fn create(State(state): State<AppState>, request: BindingRequest) -> Reply {
    for_kind!(request.path, create_binding(&state, &request))
}

async fn read(State(state): State<AppState>, path: BindingPath) -> Reply {
    for_kind!(path, get_binding(&state, &path.cluster, &path.location()))
}

async fn update(State(state): State<AppState>, request: BindingRequest) -> Reply {
    for_kind!(request.path, update_binding(&state, &request))
}

async fn patch(State(state): State<AppState>, request: BindingRequest) -> Reply {
    for_kind!(request.path, patch_binding(&state, &request))
}

async fn delete(State(state): State<AppState>, request: BindingRequest) -> Reply {
    for_kind!(request.path, delete_binding(&state, &request))
}
