//! The read-only kinds beside the bindings: ClusterRoles and Namespaces, listed and read.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::ClusterRole;
use serde_json::json;

use super::table::list_response;
use super::{CLUSTER_ROLES, NAMESPACES, Reply, cluster, ok};
use crate::sandbox::k8s_api::{Column, KubeError, RequestQuery, age, page};
use crate::sandbox::state::AppState;

const CLUSTER_ROLE_COLUMNS: &[Column] = &[
    Column {
        name: "Name",
        description: "Name must be unique within a namespace.",
        priority: 0,
    },
    Column {
        name: "Created At",
        description: "CreationTimestamp of the object.",
        priority: 0,
    },
];

pub(super) async fn list_cluster_roles(
    State(state): State<AppState>,
    Path(cluster_name): Path<String>,
    Query(query): Query<RequestQuery>,
    headers: HeaderMap,
) -> Reply {
    let world = state.world();
    let cluster = cluster(&world, &cluster_name)?;
    let page = page(
        &cluster.cluster_roles,
        "",
        &query,
        cluster.revision,
        |r: &ClusterRole| &r.metadata,
    )?;
    Ok(list_response(
        &headers,
        page,
        cluster.revision,
        CLUSTER_ROLE_COLUMNS,
        |r| {
            let created = r
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
                .unwrap_or_default();
            vec![
                json!(r.metadata.name.clone().unwrap_or_default()),
                json!(created),
            ]
        },
    ))
}

pub(super) async fn get_cluster_role(
    State(state): State<AppState>,
    Path((cluster_name, name)): Path<(String, String)>,
) -> Reply {
    let world = state.world();
    let role = cluster(&world, &cluster_name)?
        .cluster_roles
        .get(&name)
        .ok_or_else(|| KubeError::not_found(&CLUSTER_ROLES, &name))?;
    Ok(ok(role))
}

const NAMESPACE_COLUMNS: &[Column] = &[
    Column {
        name: "Name",
        description: "Name must be unique within a namespace.",
        priority: 0,
    },
    Column {
        name: "Status",
        description: "The status of the namespace.",
        priority: 0,
    },
    Column {
        name: "Age",
        description: "CreationTimestamp of the object.",
        priority: 0,
    },
];

pub(super) async fn list_namespaces(
    State(state): State<AppState>,
    Path(cluster_name): Path<String>,
    Query(query): Query<RequestQuery>,
    headers: HeaderMap,
) -> Reply {
    let world = state.world();
    let cluster = cluster(&world, &cluster_name)?;
    let page = page(
        &cluster.namespaces,
        "",
        &query,
        cluster.revision,
        |n: &Namespace| &n.metadata,
    )?;
    Ok(list_response(
        &headers,
        page,
        cluster.revision,
        NAMESPACE_COLUMNS,
        |n| {
            let phase = n
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_default();
            vec![
                json!(n.metadata.name.clone().unwrap_or_default()),
                json!(phase),
                json!(age(n.metadata.creation_timestamp.as_ref())),
            ]
        },
    ))
}

pub(super) async fn get_namespace(
    State(state): State<AppState>,
    Path((cluster_name, name)): Path<(String, String)>,
) -> Reply {
    let world = state.world();
    let namespace = cluster(&world, &cluster_name)?
        .namespaces
        .get(&name)
        .ok_or_else(|| KubeError::not_found(&NAMESPACES, &name))?;
    Ok(ok(namespace))
}
