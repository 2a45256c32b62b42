//! The read-only kinds beside the bindings: ClusterRoles and Namespaces, listed and read.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{ListableResource, Metadata};
use serde::Serialize;
use serde_json::{Value, json};

use super::table::list_response;
use super::{CLUSTER_ROLES, NAMESPACES, Reply, cluster, ok};
use crate::sandbox::k8s_api::{Column, KubeError, RequestQuery, ResourceKind, age, page};
use crate::sandbox::state::{AppState, KubeCluster};

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
    list(
        cluster,
        &cluster.cluster_roles,
        &query,
        &headers,
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
    )
}

pub(super) async fn get_cluster_role(
    State(state): State<AppState>,
    Path((cluster_name, name)): Path<(String, String)>,
) -> Reply {
    let world = state.world();
    let roles = &cluster(&world, &cluster_name)?.cluster_roles;
    get(roles, &CLUSTER_ROLES, &name)
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
    list(
        cluster,
        &cluster.namespaces,
        &query,
        &headers,
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
    )
}

pub(super) async fn get_namespace(
    State(state): State<AppState>,
    Path((cluster_name, name)): Path<(String, String)>,
) -> Reply {
    let world = state.world();
    let namespaces = &cluster(&world, &cluster_name)?.namespaces;
    get(namespaces, &NAMESPACES, &name)
}

/// A page of one kind of `cluster`'s objects, as a list or a Table of `columns`.
fn list<T>(
    cluster: &KubeCluster,
    objects: &BTreeMap<String, T>,
    query: &RequestQuery,
    headers: &HeaderMap,
    columns: &[Column],
    row: impl Fn(&T) -> Vec<Value>,
) -> Reply
where
    T: Clone + Serialize + ListableResource + Metadata<Ty = ObjectMeta>,
{
    let page = page(objects, "", query, cluster.revision, |o: &T| o.metadata())?;
    Ok(list_response(headers, page, cluster.revision, columns, row))
}

/// One object by name, or the API server's 404 for that kind.
fn get<T: Serialize>(objects: &BTreeMap<String, T>, kind: &ResourceKind, name: &str) -> Reply {
    let object = objects
        .get(name)
        .ok_or_else(|| KubeError::not_found(kind, name))?;
    Ok(ok(object))
}
