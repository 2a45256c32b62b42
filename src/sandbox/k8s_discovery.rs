//! Kubernetes discovery for each TAP cluster: `/version`, `/api`, `/api/v1`, `/apis`,
//! `/apis/rbac.authorization.k8s.io[/v1]`. Enough for kubectl and kube-rs to find namespaces,
//! ClusterRoles, ClusterRoleBindings and RoleBindings.
//!
//! Only the legacy (unaggregated) discovery documents are served: kubectl asks for aggregated
//! discovery first and falls back when the answer is plain `application/json`, as it does
//! against older API servers. There is no OpenAPI document (`/openapi/*` is 404), which kubectl
//! tolerates for the commands the tests run.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    APIGroup, APIGroupList, APIResource, APIResourceList, APIVersions, GroupVersionForDiscovery,
    ServerAddressByClientCIDR,
};
use k8s_openapi::apimachinery::pkg::version::Info;

use super::auth;
use super::k8s_api::{KubeError, KubeResult, ResourceKind};
use super::k8s_rbac::{
    CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES, NAMESPACES, RBAC_GROUP, ROLE_BINDINGS,
};
use super::state::AppState;

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/k8s/{cluster}/version", get(version))
        .route("/k8s/{cluster}/api", get(core_versions))
        .route("/k8s/{cluster}/api/v1", get(core_resources))
        .route("/k8s/{cluster}/apis", get(groups))
        .route(
            "/k8s/{cluster}/apis/rbac.authorization.k8s.io",
            get(rbac_group),
        )
        .route(
            "/k8s/{cluster}/apis/rbac.authorization.k8s.io/v1",
            get(rbac_resources),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            auth::require_k8s_token,
        ))
}

fn known(state: &AppState, cluster: &str) -> KubeResult<()> {
    if state.world().clusters.contains_key(cluster) {
        Ok(())
    } else {
        Err(KubeError::no_such_path())
    }
}

fn verbs(list: &[&str]) -> Vec<String> {
    list.iter().map(|v| v.to_string()).collect()
}

fn resource(kind: &ResourceKind, namespaced: bool, verbs_: &[&str], short: &[&str]) -> APIResource {
    APIResource {
        name: kind.plural.to_string(),
        singular_name: kind.kind.to_lowercase(),
        namespaced,
        kind: kind.kind.to_string(),
        verbs: verbs(verbs_),
        short_names: (!short.is_empty()).then(|| verbs(short)),
        ..Default::default()
    }
}

const READ: &[&str] = &["get", "list"];
const READ_WRITE: &[&str] = &["create", "delete", "get", "list", "patch", "update"];

fn rbac_group_info() -> APIGroup {
    let v1 = GroupVersionForDiscovery {
        group_version: format!("{RBAC_GROUP}/v1"),
        version: "v1".to_string(),
    };
    APIGroup {
        name: RBAC_GROUP.to_string(),
        preferred_version: Some(v1.clone()),
        server_address_by_client_cidrs: None,
        versions: vec![v1],
    }
}

async fn version(
    State(state): State<AppState>,
    Path(cluster): Path<String>,
) -> KubeResult<Response> {
    known(&state, &cluster)?;
    Ok(axum::Json(Info {
        major: "1".to_string(),
        minor: "33".to_string(),
        git_version: "v1.33.0+tanzu-mcp-sandbox".to_string(),
        git_commit: "0000000000000000000000000000000000000000".to_string(),
        git_tree_state: "clean".to_string(),
        build_date: "2025-04-23T00:00:00Z".to_string(),
        go_version: "go1.24.2".to_string(),
        compiler: "gc".to_string(),
        platform: "linux/amd64".to_string(),
        ..Default::default()
    })
    .into_response())
}

async fn core_versions(
    State(state): State<AppState>,
    Path(cluster): Path<String>,
) -> KubeResult<Response> {
    known(&state, &cluster)?;
    Ok(axum::Json(APIVersions {
        versions: vec!["v1".to_string()],
        server_address_by_client_cidrs: vec![ServerAddressByClientCIDR {
            client_cidr: "0.0.0.0/0".to_string(),
            server_address: "127.0.0.1".to_string(),
        }],
    })
    .into_response())
}

async fn core_resources(
    State(state): State<AppState>,
    Path(cluster): Path<String>,
) -> KubeResult<Response> {
    known(&state, &cluster)?;
    Ok(axum::Json(APIResourceList {
        group_version: "v1".to_string(),
        resources: vec![resource(&NAMESPACES, false, READ, &["ns"])],
    })
    .into_response())
}

async fn groups(
    State(state): State<AppState>,
    Path(cluster): Path<String>,
) -> KubeResult<Response> {
    known(&state, &cluster)?;
    Ok(axum::Json(APIGroupList {
        groups: vec![rbac_group_info()],
    })
    .into_response())
}

async fn rbac_group(
    State(state): State<AppState>,
    Path(cluster): Path<String>,
) -> KubeResult<Response> {
    known(&state, &cluster)?;
    Ok(axum::Json(rbac_group_info()).into_response())
}

async fn rbac_resources(
    State(state): State<AppState>,
    Path(cluster): Path<String>,
) -> KubeResult<Response> {
    known(&state, &cluster)?;
    Ok(axum::Json(APIResourceList {
        group_version: format!("{RBAC_GROUP}/v1"),
        resources: vec![
            resource(&CLUSTER_ROLE_BINDINGS, false, READ_WRITE, &[]),
            resource(&CLUSTER_ROLES, false, READ, &[]),
            resource(&ROLE_BINDINGS, true, READ_WRITE, &[]),
        ],
    })
    .into_response())
}
