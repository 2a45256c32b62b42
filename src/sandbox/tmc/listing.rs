//! The TMC resource listings and reads: clusters, cluster groups, workspaces, namespaces and
//! the roles (built-in and custom), paginated as TMC does.

use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{TmcError, TmcResult};
use super::scope::{FullNameQuery, cluster_key, find_named, find_namespace};
use crate::sandbox::data::{TMC_ROLES, TmcRole};
use crate::sandbox::state::{AppState, TmcCluster, TmcNamespace, TmcObject, World};

const DEFAULT_PAGE_SIZE: usize = 20;

type Reply = TmcResult<axum::Json<Value>>;

/// The listing options the sandbox reads; any other query field is ignored, as TMC does.
#[derive(Deserialize)]
pub(super) struct PageQuery {
    #[serde(rename = "pagination.offset")]
    offset: Option<String>,
    #[serde(rename = "pagination.size")]
    size: Option<String>,
    /// `totalCount` is answered only when asked for, which is how TMC's list request reads.
    #[serde(rename = "includeTotalCount")]
    include_total_count: Option<String>,
    #[serde(rename = "searchScope.managementClusterName")]
    management_cluster: Option<String>,
    #[serde(rename = "searchScope.provisionerName")]
    provisioner: Option<String>,
}

/// A `searchScope` filter: absent, empty or `*` matches everything; otherwise a glob with `*`.
fn scope_matches(filter: Option<&str>, value: &str) -> bool {
    match filter {
        None | Some("") | Some("*") => true,
        Some(pattern) => glob_matches(pattern, value),
    }
}

fn glob_matches(pattern: &str, value: &str) -> bool {
    let Some((head, rest)) = pattern.split_once('*') else {
        return pattern == value;
    };
    let Some(tail) = value.strip_prefix(head) else {
        return false;
    };
    (0..=tail.len())
        .filter(|&i| tail.is_char_boundary(i))
        .any(|i| glob_matches(rest, &tail[i..]))
}

/// The `[offset, offset + size)` window of `items` and the list's JSON envelope.
pub(super) fn paginate(key: &str, items: Vec<Value>, query: &PageQuery) -> TmcResult<Value> {
    let parse = |value: &Option<String>, name: &str, default: usize| -> TmcResult<usize> {
        match value {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                TmcError::invalid_argument(format!("{name} must be a non-negative integer"))
            }),
        }
    };
    let offset = parse(&query.offset, "pagination.offset", 0)?;
    let size = match parse(&query.size, "pagination.size", DEFAULT_PAGE_SIZE)? {
        0 => DEFAULT_PAGE_SIZE,
        n => n,
    };
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(size).collect();
    let mut answer = json!({ key: page });
    if query.include_total_count.as_deref() == Some("true") {
        answer["totalCount"] = json!(total.to_string());
    }
    Ok(answer)
}

fn meta_json(object: &TmcObject) -> Value {
    json!({
        "uid": object.uid,
        "resourceVersion": "1",
        "creationTime": object.created.to_string(),
        "updateTime": object.created.to_string(),
        "labels": {},
    })
}

fn cluster_json(world: &World, cluster: &TmcCluster) -> Value {
    json!({
        "fullName": {
            "orgId": world.org_id,
            "managementClusterName": cluster.management_cluster,
            "provisionerName": cluster.provisioner,
            "name": cluster.object.name,
        },
        "meta": meta_json(&cluster.object),
        "spec": { "clusterGroupName": cluster.cluster_group },
        "status": { "phase": "READY", "health": "HEALTHY", "type": "ATTACHED" },
    })
}

/// A cluster group or workspace: `fullName` and `meta`, nothing more (the Terraform provider's
/// `clustergroup/cluster_group.go` and `workspace/workspace.go`).
fn named_json(world: &World, object: &TmcObject) -> Value {
    json!({
        "fullName": { "orgId": world.org_id, "name": object.name },
        "meta": meta_json(object),
    })
}

fn namespace_json(world: &World, namespace: &TmcNamespace) -> Value {
    let cluster = &namespace.cluster;
    json!({
        "fullName": {
            "orgId": world.org_id,
            "managementClusterName": cluster.management_cluster,
            "provisionerName": cluster.provisioner,
            "clusterName": cluster.name,
            "name": namespace.object.name,
        },
        "meta": meta_json(&namespace.object),
        "spec": { "workspaceName": namespace.workspace },
        "status": { "phase": "ATTACHED" },
    })
}

pub(super) async fn list_clusters(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> Reply {
    let world = state.world();
    let items = world
        .tmc
        .clusters
        .iter()
        .map(|c| cluster_json(&world, c))
        .collect();
    paginate("clusters", items, &q).map(axum::Json)
}

/// `GET /v1alpha1/clusters/{name}`: `fullName.*` picks among clusters sharing the name.
pub(super) async fn get_cluster(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<FullNameQuery>,
) -> Reply {
    let world = state.world();
    let key = cluster_key(&world, &name, &q)?;
    let cluster = world
        .tmc
        .clusters
        .iter()
        .find(|c| c.key() == key)
        .ok_or_else(|| TmcError::not_found(format!("cluster '{name}' not found")))?;
    Ok(axum::Json(
        json!({ "cluster": cluster_json(&world, cluster) }),
    ))
}

pub(super) async fn list_cluster_groups(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> Reply {
    let world = state.world();
    list_named(&world, "clusterGroups", &world.tmc.cluster_groups, &q)
}

pub(super) async fn get_cluster_group(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Reply {
    let world = state.world();
    let group = find_named(&world.tmc.cluster_groups, "cluster group", &name)?;
    Ok(axum::Json(
        json!({ "clusterGroup": named_json(&world, group) }),
    ))
}

pub(super) async fn list_workspaces(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> Reply {
    let world = state.world();
    list_named(&world, "workspaces", &world.tmc.workspaces, &q)
}

pub(super) async fn get_workspace(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Reply {
    let world = state.world();
    let workspace = find_named(&world.tmc.workspaces, "workspace", &name)?;
    Ok(axum::Json(
        json!({ "workspace": named_json(&world, workspace) }),
    ))
}

/// One page of cluster groups or workspaces: objects that carry a name and nothing more.
fn list_named(world: &World, key: &str, objects: &[TmcObject], query: &PageQuery) -> Reply {
    let items = objects.iter().map(|o| named_json(world, o)).collect();
    paginate(key, items, query).map(axum::Json)
}

pub(super) async fn list_namespaces(
    State(state): State<AppState>,
    Path(cluster): Path<String>,
    Query(q): Query<PageQuery>,
) -> Reply {
    let world = state.world();
    if !world.tmc.clusters.iter().any(|c| c.object.name == cluster) {
        return Err(TmcError::not_found(format!(
            "cluster '{cluster}' not found"
        )));
    }
    // Same-named clusters under other management clusters or provisioners stay out.
    let items = world
        .tmc
        .namespaces
        .iter()
        .filter(|n| {
            n.cluster.name == cluster
                && scope_matches(
                    q.management_cluster.as_deref(),
                    &n.cluster.management_cluster,
                )
                && scope_matches(q.provisioner.as_deref(), &n.cluster.provisioner)
        })
        .map(|n| namespace_json(&world, n))
        .collect();
    paginate("namespaces", items, &q).map(axum::Json)
}

pub(super) async fn get_namespace(
    State(state): State<AppState>,
    Path((cluster, name)): Path<(String, String)>,
    Query(q): Query<FullNameQuery>,
) -> Reply {
    let world = state.world();
    let namespace = find_namespace(&world, &cluster, &name, &q)?;
    Ok(axum::Json(
        json!({ "namespace": namespace_json(&world, namespace) }),
    ))
}

/// A role as the Terraform provider's model has it (`internal/models/customiamrole`:
/// `spec.{isDeprecated, isInbuilt, resources, rules, tanzuPermissions}`).
fn role_json(role: &TmcRole) -> Value {
    let name = role.name;
    json!({
        "fullName": { "name": name },
        "meta": { "uid": format!("role:{name}"), "resourceVersion": "1", "labels": {} },
        "spec": {
            "isDeprecated": false,
            "isInbuilt": role.inbuilt,
            "resources": role.resources,
            "rules": [],
            "tanzuPermissions": [],
        },
    })
}

pub(super) async fn list_roles(Query(q): Query<PageQuery>) -> Reply {
    let items = TMC_ROLES.iter().map(role_json).collect();
    // Every role fits one page unless the caller asks for less.
    let query = PageQuery {
        size: q.size.clone().or_else(|| Some(TMC_ROLES.len().to_string())),
        ..q
    };
    paginate("roles", items, &query).map(axum::Json)
}

pub(super) async fn get_role(Path(name): Path<String>) -> Reply {
    let role = TMC_ROLES
        .iter()
        .find(|r| r.name == name)
        .ok_or_else(|| TmcError::not_found(format!("role '{name}' not found")))?;
    Ok(axum::Json(json!({ "role": role_json(role) })))
}

#[cfg(test)]
mod tests {
    use super::glob_matches;

    #[test]
    fn search_scope_globs() {
        assert!(glob_matches("attached", "attached"));
        assert!(glob_matches("att*", "attached"));
        assert!(glob_matches("*ch*d", "attached"));
        assert!(!glob_matches("eks*", "attached"));
    }
}
