//! The read-only kinds beside the bindings: ClusterRoles and Namespaces, listed and read by
//! one pair of handlers generic over [`ReadOnly`].

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{ListableResource, Metadata};
use serde::Serialize;
use serde_json::{Value, json};

use super::table::{column, list_response};
use super::{CLUSTER_ROLES, NAMESPACES, Reply, cluster, ok};
use crate::sandbox::k8s_api::{Column, KubeError, RequestQuery, ResourceKind, age, page};
use crate::sandbox::state::{AppState, KubeCluster};

/// What the two handlers need to know of a read-only kind.
pub(super) trait ReadOnly:
    Clone + Serialize + ListableResource + Metadata<Ty = ObjectMeta> + 'static
{
    const RESOURCE: ResourceKind;
    /// The columns of the Table kubectl prints, and one object's row.
    const COLUMNS: &'static [Column];
    fn row(&self) -> Vec<Value>;
    fn store(cluster: &KubeCluster) -> &BTreeMap<String, Self>;
}

impl ReadOnly for ClusterRole {
    const RESOURCE: ResourceKind = CLUSTER_ROLES;
    const COLUMNS: &'static [Column] = &[
        column("Name", "Name must be unique within a namespace.", 0),
        column("Created At", "CreationTimestamp of the object.", 0),
    ];
    fn row(&self) -> Vec<Value> {
        let created = self
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string())
            .unwrap_or_default();
        vec![
            json!(self.metadata.name.clone().unwrap_or_default()),
            json!(created),
        ]
    }
    fn store(cluster: &KubeCluster) -> &BTreeMap<String, Self> {
        &cluster.cluster_roles
    }
}

impl ReadOnly for Namespace {
    const RESOURCE: ResourceKind = NAMESPACES;
    const COLUMNS: &'static [Column] = &[
        column("Name", "Name must be unique within a namespace.", 0),
        column("Status", "The status of the namespace.", 0),
        column("Age", "CreationTimestamp of the object.", 0),
    ];
    fn row(&self) -> Vec<Value> {
        let phase = self
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        vec![
            json!(self.metadata.name.clone().unwrap_or_default()),
            json!(phase),
            json!(age(self.metadata.creation_timestamp.as_ref())),
        ]
    }
    fn store(cluster: &KubeCluster) -> &BTreeMap<String, Self> {
        &cluster.namespaces
    }
}

/// A page of the cluster's objects of kind `T`, as a list or a Table.
pub(super) async fn list<T: ReadOnly>(
    State(state): State<AppState>,
    Path(cluster_name): Path<String>,
    Query(query): Query<RequestQuery>,
    headers: HeaderMap,
) -> Reply {
    let world = state.world();
    let cluster = cluster(&world, &cluster_name)?;
    let page = page(T::store(cluster), "", &query, cluster.revision, |o: &T| {
        o.metadata()
    })?;
    Ok(list_response(
        &headers,
        page,
        cluster.revision,
        T::COLUMNS,
        T::row,
    ))
}

/// One object of kind `T` by name, or the API server's 404 for that kind.
pub(super) async fn get<T: ReadOnly>(
    State(state): State<AppState>,
    Path((cluster_name, name)): Path<(String, String)>,
) -> Reply {
    let world = state.world();
    let object = T::store(cluster(&world, &cluster_name)?)
        .get(&name)
        .ok_or_else(|| KubeError::not_found(&T::RESOURCE, &name))?;
    Ok(ok(object))
}
