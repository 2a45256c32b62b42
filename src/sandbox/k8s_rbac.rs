//! The Kubernetes API of each TAP cluster, under `/k8s/<cluster>`: RBAC bindings read and
//! written as `rbac.authorization.k8s.io/v1`, ClusterRoles and namespaces read-only.
//!
//! - ClusterRoleBindings and RoleBindings: list (`limit`, `continue`, `fieldSelector`,
//!   `labelSelector`; all namespaces or one), get, create (409 AlreadyExists), update (409
//!   Conflict on a stale `metadata.resourceVersion`; creates when absent, as RBAC allows), patch
//!   (merge, strategic merge, JSON patch), delete (with `preconditions`). `roleRef` is
//!   immutable (422). `dryRun=All` validates without storing.
//! - Every write bumps the cluster's revision and stamps it as the object's `resourceVersion`.
//! - `Accept: ...;as=Table` gets the server-side Table kubectl prints.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta, Preconditions, Time};
use k8s_openapi::jiff::Timestamp;
use k8s_openapi::{List, ListableResource, Metadata};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::auth;
use super::k8s_api::{
    Column, KubeError, KubeResult, Page, RequestQuery, ResourceKind, age, apply_patch, decode,
    deleted_status, page, table, wants_table,
};
use super::k8s_proto::{self, FromProto};
use super::state::{AppState, KubeCluster, World};

pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

pub const CLUSTER_ROLE_BINDINGS: ResourceKind = ResourceKind {
    plural: "clusterrolebindings",
    group: RBAC_GROUP,
    kind: "ClusterRoleBinding",
};
pub const ROLE_BINDINGS: ResourceKind = ResourceKind {
    plural: "rolebindings",
    group: RBAC_GROUP,
    kind: "RoleBinding",
};
pub const CLUSTER_ROLES: ResourceKind = ResourceKind {
    plural: "clusterroles",
    group: RBAC_GROUP,
    kind: "ClusterRole",
};
pub const NAMESPACES: ResourceKind = ResourceKind {
    plural: "namespaces",
    group: "",
    kind: "Namespace",
};

const RBAC: &str = "/k8s/{cluster}/apis/rbac.authorization.k8s.io/v1";

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            &format!("{RBAC}/clusterrolebindings"),
            get(list_cluster_role_bindings).post(create_cluster_role_binding),
        )
        .route(
            &format!("{RBAC}/clusterrolebindings/{{name}}"),
            get(get_cluster_role_binding)
                .put(update_cluster_role_binding)
                .patch(patch_cluster_role_binding)
                .delete(delete_cluster_role_binding),
        )
        .route(&format!("{RBAC}/rolebindings"), get(list_all_role_bindings))
        .route(
            &format!("{RBAC}/namespaces/{{namespace}}/rolebindings"),
            get(list_role_bindings).post(create_role_binding),
        )
        .route(
            &format!("{RBAC}/namespaces/{{namespace}}/rolebindings/{{name}}"),
            get(get_role_binding)
                .put(update_role_binding)
                .patch(patch_role_binding)
                .delete(delete_role_binding),
        )
        .route(&format!("{RBAC}/clusterroles"), get(list_cluster_roles))
        .route(
            &format!("{RBAC}/clusterroles/{{name}}"),
            get(get_cluster_role),
        )
        .route("/k8s/{cluster}/api/v1/namespaces", get(list_namespaces))
        .route(
            "/k8s/{cluster}/api/v1/namespaces/{name}",
            get(get_namespace),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            auth::require_k8s_token,
        ))
}

fn cluster<'a>(world: &'a World, name: &str) -> KubeResult<&'a KubeCluster> {
    world.clusters.get(name).ok_or_else(KubeError::no_such_path)
}

fn cluster_mut<'a>(world: &'a mut World, name: &str) -> KubeResult<&'a mut KubeCluster> {
    world
        .clusters
        .get_mut(name)
        .ok_or_else(KubeError::no_such_path)
}

// ---------------------------------------------------------------------------------------------
// The two binding types behind one set of operations

/// What differs between ClusterRoleBindings and RoleBindings.
trait Binding:
    Clone + Serialize + DeserializeOwned + FromProto + ListableResource + Metadata<Ty = ObjectMeta>
{
    const RESOURCE: ResourceKind;
    /// Role kinds a roleRef may name.
    const ROLE_KINDS: &'static [&'static str];
    fn role_ref(&self) -> &RoleRef;
    fn subjects(&self) -> &[Subject];
    fn store(cluster: &KubeCluster) -> &BTreeMap<String, Self>;
    fn store_mut(cluster: &mut KubeCluster) -> &mut BTreeMap<String, Self>;
}

impl Binding for ClusterRoleBinding {
    const RESOURCE: ResourceKind = CLUSTER_ROLE_BINDINGS;
    const ROLE_KINDS: &'static [&'static str] = &["ClusterRole"];
    fn role_ref(&self) -> &RoleRef {
        &self.role_ref
    }
    fn subjects(&self) -> &[Subject] {
        self.subjects.as_deref().unwrap_or_default()
    }
    fn store(cluster: &KubeCluster) -> &BTreeMap<String, Self> {
        &cluster.cluster_role_bindings
    }
    fn store_mut(cluster: &mut KubeCluster) -> &mut BTreeMap<String, Self> {
        &mut cluster.cluster_role_bindings
    }
}

impl Binding for RoleBinding {
    const RESOURCE: ResourceKind = ROLE_BINDINGS;
    const ROLE_KINDS: &'static [&'static str] = &["ClusterRole", "Role"];
    fn role_ref(&self) -> &RoleRef {
        &self.role_ref
    }
    fn subjects(&self) -> &[Subject] {
        self.subjects.as_deref().unwrap_or_default()
    }
    fn store(cluster: &KubeCluster) -> &BTreeMap<String, Self> {
        &cluster.role_bindings
    }
    fn store_mut(cluster: &mut KubeCluster) -> &mut BTreeMap<String, Self> {
        &mut cluster.role_bindings
    }
}

/// Where an object lives: its namespace (RoleBindings only) and name.
struct Location<'a> {
    namespace: Option<&'a str>,
    name: &'a str,
}

impl Location<'_> {
    fn key(&self) -> String {
        match self.namespace {
            Some(ns) => KubeCluster::role_binding_key(ns, self.name),
            None => self.name.to_string(),
        }
    }
}

/// The API server's validation of a binding, reduced to what matters for RBAC.
fn validate<B: Binding>(binding: &B, name: &str) -> KubeResult<()> {
    let mut causes = Vec::new();
    if name.is_empty() {
        causes.push(("metadata.name".to_string(), "Required value".to_string()));
    } else if name.contains('/') || name.contains('%') || name == "." || name == ".." {
        causes.push((
            "metadata.name".to_string(),
            format!("Invalid value: {name:?}: may not contain '/' or '%'"),
        ));
    }
    let role_ref = binding.role_ref();
    if role_ref.api_group != RBAC_GROUP {
        causes.push((
            "roleRef.apiGroup".to_string(),
            format!(
                "Unsupported value: {:?}: supported values: {RBAC_GROUP:?}",
                role_ref.api_group
            ),
        ));
    }
    if !B::ROLE_KINDS.contains(&role_ref.kind.as_str()) {
        causes.push((
            "roleRef.kind".to_string(),
            format!(
                "Unsupported value: {:?}: supported values: {}",
                role_ref.kind,
                B::ROLE_KINDS.join(", ")
            ),
        ));
    }
    if role_ref.name.is_empty() {
        causes.push(("roleRef.name".to_string(), "Required value".to_string()));
    }
    for (i, subject) in binding.subjects().iter().enumerate() {
        let field = |f: &str| format!("subjects[{i}].{f}");
        if subject.name.is_empty() {
            causes.push((field("name"), "Required value".to_string()));
        }
        match subject.kind.as_str() {
            "User" | "Group" => {
                if subject.api_group.as_deref() != Some(RBAC_GROUP) {
                    causes.push((
                        field("apiGroup"),
                        format!("Unsupported value: {:?}: supported values: {RBAC_GROUP:?}", subject.api_group.as_deref().unwrap_or_default()),
                    ));
                }
            }
            "ServiceAccount" => {
                if subject.api_group.as_deref().is_some_and(|g| !g.is_empty()) {
                    causes.push((field("apiGroup"), "Unsupported value: must be empty".to_string()));
                }
                if subject.namespace.as_deref().unwrap_or_default().is_empty()
                    && B::RESOURCE.kind == "ClusterRoleBinding"
                {
                    causes.push((field("namespace"), "Required value".to_string()));
                }
            }
            other => causes.push((
                field("kind"),
                format!("Unsupported value: {other:?}: supported values: \"ServiceAccount\", \"User\", \"Group\""),
            )),
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(KubeError::invalid(&B::RESOURCE, name, causes))
    }
}

/// A new object's server-set metadata.
fn stamp_new(meta: &mut ObjectMeta, world_ids: &mut super::state::IdGen, revision: String) {
    meta.uid = Some(world_ids.uuid());
    meta.resource_version = Some(revision);
    meta.creation_timestamp = Some(Time(Timestamp::now()));
    meta.generation = None;
    meta.managed_fields = None;
    meta.self_link = None;
    meta.deletion_timestamp = None;
}

fn check_namespace_of_body(meta: &ObjectMeta, at: &Location) -> KubeResult<()> {
    match (
        meta.namespace.as_deref().filter(|n| !n.is_empty()),
        at.namespace,
    ) {
        (Some(given), Some(url)) if given != url => Err(KubeError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        _ => Ok(()),
    }
}

fn require_namespace(cluster: &KubeCluster, at: &Location) -> KubeResult<()> {
    match at.namespace {
        Some(ns) if !cluster.namespaces.contains_key(ns) => {
            Err(KubeError::not_found(&NAMESPACES, ns))
        }
        _ => Ok(()),
    }
}

fn is_protobuf(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(k8s_proto::MEDIA_TYPE))
}

/// A request body as JSON or, as kubectl's typed clients send it, Kubernetes protobuf.
fn decode_object<B: Binding>(headers: &HeaderMap, body: &[u8]) -> KubeResult<B> {
    if is_protobuf(headers) {
        B::from_proto(body).map_err(|e| KubeError::bad_request(e.0))
    } else {
        decode(body)
    }
}

fn created<T: Serialize>(object: &T) -> Response {
    (StatusCode::CREATED, axum::Json(object)).into_response()
}

fn ok<T: Serialize>(object: &T) -> Response {
    (StatusCode::OK, axum::Json(object)).into_response()
}

fn create_binding<B: Binding>(
    state: &AppState,
    cluster_name: &str,
    namespace: Option<&str>,
    query: &RequestQuery,
    headers: &HeaderMap,
    body: &[u8],
) -> KubeResult<Response> {
    let mut object: B = decode_object(headers, body)?;
    let name = object.metadata().name.clone().unwrap_or_default();
    let at = Location {
        namespace,
        name: &name,
    };
    check_namespace_of_body(object.metadata(), &at)?;
    validate(&object, &name)?;
    let mut world = state.world();
    let World { clusters, ids, .. } = &mut *world;
    let cluster = clusters
        .get_mut(cluster_name)
        .ok_or_else(KubeError::no_such_path)?;
    require_namespace(cluster, &at)?;
    let key = at.key();
    if B::store(cluster).contains_key(&key) {
        return Err(KubeError::already_exists(&B::RESOURCE, &name));
    }
    let revision = if query.is_dry_run() {
        cluster.revision.to_string()
    } else {
        cluster.next_revision()
    };
    let meta = object.metadata_mut();
    stamp_new(meta, ids, revision);
    meta.namespace = namespace.map(str::to_string);
    if !query.is_dry_run() {
        B::store_mut(cluster).insert(key, object.clone());
    }
    Ok(created(&object))
}

fn get_binding<B: Binding>(
    state: &AppState,
    cluster_name: &str,
    at: &Location,
) -> KubeResult<Response> {
    let world = state.world();
    let cluster = cluster(&world, cluster_name)?;
    let object = B::store(cluster)
        .get(&at.key())
        .ok_or_else(|| KubeError::not_found(&B::RESOURCE, at.name))?;
    Ok(ok(object))
}

/// Store `object` in place of `current` (an update or a patch), enforcing what the API server
/// enforces: optimistic concurrency and the immutable roleRef.
fn replace_binding<B: Binding>(
    cluster: &mut KubeCluster,
    at: &Location,
    current: &B,
    mut object: B,
    dry_run: bool,
) -> KubeResult<B> {
    let sent_version = object
        .metadata()
        .resource_version
        .clone()
        .filter(|v| !v.is_empty());
    if sent_version.is_some() && sent_version != current.metadata().resource_version {
        return Err(KubeError::conflict(&B::RESOURCE, at.name));
    }
    if object.role_ref() != current.role_ref() {
        return Err(KubeError::invalid(
            &B::RESOURCE,
            at.name,
            vec![(
                "roleRef".to_string(),
                "Invalid value: cannot change roleRef".to_string(),
            )],
        ));
    }
    validate(&object, at.name)?;
    let revision = if dry_run {
        current
            .metadata()
            .resource_version
            .clone()
            .unwrap_or_default()
    } else {
        cluster.next_revision()
    };
    let meta = object.metadata_mut();
    let old = current.metadata();
    meta.uid = old.uid.clone();
    meta.creation_timestamp = old.creation_timestamp.clone();
    meta.namespace = at.namespace.map(str::to_string);
    meta.resource_version = Some(revision);
    meta.managed_fields = None;
    if !dry_run {
        B::store_mut(cluster).insert(at.key(), object.clone());
    }
    Ok(object)
}

fn update_binding<B: Binding>(
    state: &AppState,
    cluster_name: &str,
    at: &Location,
    query: &RequestQuery,
    headers: &HeaderMap,
    body: &[u8],
) -> KubeResult<Response> {
    let object: B = decode_object(headers, body)?;
    let body_name = object.metadata().name.clone().unwrap_or_default();
    if body_name != at.name {
        return Err(KubeError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({})",
            at.name
        )));
    }
    check_namespace_of_body(object.metadata(), at)?;
    let existing = {
        let world = state.world();
        B::store(cluster(&world, cluster_name)?)
            .get(&at.key())
            .cloned()
    };
    let Some(current) = existing else {
        // RBAC objects allow create-on-update.
        return create_binding::<B>(state, cluster_name, at.namespace, query, headers, body);
    };
    let mut world = state.world();
    let cluster = cluster_mut(&mut world, cluster_name)?;
    // Re-read under this lock: another writer may have won in between.
    let current = B::store(cluster).get(&at.key()).cloned().unwrap_or(current);
    let stored = replace_binding(cluster, at, &current, object, query.is_dry_run())?;
    Ok(ok(&stored))
}

fn patch_binding<B: Binding>(
    state: &AppState,
    cluster_name: &str,
    at: &Location,
    query: &RequestQuery,
    headers: &HeaderMap,
    body: &[u8],
) -> KubeResult<Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut world = state.world();
    let cluster = cluster_mut(&mut world, cluster_name)?;
    let current = B::store(cluster)
        .get(&at.key())
        .cloned()
        .ok_or_else(|| KubeError::not_found(&B::RESOURCE, at.name))?;
    let as_json = serde_json::to_value(&current)
        .map_err(|e| KubeError::bad_request(format!("cannot encode the object: {e}")))?;
    let patched = apply_patch(as_json, content_type, body)?;
    let object: B = serde_json::from_value(patched).map_err(|e| {
        KubeError::invalid(
            &B::RESOURCE,
            at.name,
            vec![("body".to_string(), e.to_string())],
        )
    })?;
    if object.metadata().name.as_deref() != Some(at.name) {
        return Err(KubeError::bad_request(
            "a patch may not change metadata.name",
        ));
    }
    let stored = replace_binding(cluster, at, &current, object, query.is_dry_run())?;
    Ok(ok(&stored))
}

#[derive(serde::Deserialize, Default)]
struct DeleteOptions {
    preconditions: Option<Preconditions>,
}

fn delete_binding<B: Binding>(
    state: &AppState,
    cluster_name: &str,
    at: &Location,
    query: &RequestQuery,
    headers: &HeaderMap,
    body: &[u8],
) -> KubeResult<Response> {
    let options: DeleteOptions = if body.iter().all(u8::is_ascii_whitespace) {
        DeleteOptions::default()
    } else if is_protobuf(headers) {
        DeleteOptions {
            preconditions: k8s_proto::delete_preconditions(body)
                .map_err(|e| KubeError::bad_request(e.0))?,
        }
    } else {
        decode(body)?
    };
    let mut world = state.world();
    let cluster = cluster_mut(&mut world, cluster_name)?;
    let key = at.key();
    let current = B::store(cluster)
        .get(&key)
        .ok_or_else(|| KubeError::not_found(&B::RESOURCE, at.name))?;
    if let Some(pre) = options.preconditions {
        let meta = current.metadata();
        let stale_version =
            pre.resource_version.is_some() && pre.resource_version != meta.resource_version;
        let other_uid = pre.uid.is_some() && pre.uid != meta.uid;
        if stale_version || other_uid {
            return Err(KubeError::conflict(&B::RESOURCE, at.name));
        }
    }
    let uid = current.metadata().uid.clone();
    if !query.is_dry_run() {
        B::store_mut(cluster).remove(&key);
        cluster.next_revision();
    }
    Ok(ok(&deleted_status(&B::RESOURCE, at.name, uid)))
}

// ---------------------------------------------------------------------------------------------
// Lists and tables

const BINDING_COLUMNS: &[Column] = &[
    Column {
        name: "Name",
        description: "Name must be unique within a namespace.",
        priority: 0,
    },
    Column {
        name: "Role",
        description: "RoleRef references a Role or ClusterRole.",
        priority: 0,
    },
    Column {
        name: "Age",
        description: "CreationTimestamp of the object.",
        priority: 0,
    },
    Column {
        name: "Users",
        description: "Users in the binding.",
        priority: 1,
    },
    Column {
        name: "Groups",
        description: "Groups in the binding.",
        priority: 1,
    },
    Column {
        name: "ServiceAccounts",
        description: "ServiceAccounts in the binding.",
        priority: 1,
    },
];

fn binding_row<B: Binding>(binding: &B) -> Vec<Value> {
    let names = |kind: &str| -> String {
        binding
            .subjects()
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| match (&s.namespace, kind) {
                (Some(ns), "ServiceAccount") => format!("{ns}/{}", s.name),
                _ => s.name.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let role = binding.role_ref();
    vec![
        json!(binding.metadata().name.clone().unwrap_or_default()),
        json!(format!("{}/{}", role.kind, role.name)),
        json!(age(binding.metadata().creation_timestamp.as_ref())),
        json!(names("User")),
        json!(names("Group")),
        json!(names("ServiceAccount")),
    ]
}

/// A list answered as JSON list or, when kubectl asks for it, as a Table.
fn list_response<T>(
    headers: &HeaderMap,
    page: Page<T>,
    revision: u64,
    columns: &[Column],
    row: impl Fn(&T) -> Vec<Value>,
) -> Response
where
    T: Serialize + ListableResource + Metadata<Ty = ObjectMeta>,
{
    let metadata = ListMeta {
        continue_: page.continue_,
        remaining_item_count: page.remaining,
        resource_version: Some(revision.to_string()),
        self_link: None,
    };
    if wants_table(headers) {
        let rows = page
            .items
            .iter()
            .map(|item| (row(item), item.metadata()))
            .collect();
        let list_meta = serde_json::to_value(&metadata).unwrap_or_else(|_| json!({}));
        return ok(&table(columns, rows, list_meta));
    }
    ok(&List {
        items: page.items,
        metadata,
    })
}

fn list_bindings<B: Binding>(
    state: &AppState,
    cluster_name: &str,
    namespace: Option<&str>,
    query: &RequestQuery,
    headers: &HeaderMap,
) -> KubeResult<Response> {
    let world = state.world();
    let cluster = cluster(&world, cluster_name)?;
    let prefix = namespace.map(|ns| format!("{ns}/")).unwrap_or_default();
    let page = page(B::store(cluster), &prefix, query, cluster.revision, |b| {
        b.metadata()
    })?;
    Ok(list_response(
        headers,
        page,
        cluster.revision,
        BINDING_COLUMNS,
        binding_row,
    ))
}

// ---------------------------------------------------------------------------------------------
// Handlers

type Reply = KubeResult<Response>;

async fn list_cluster_role_bindings(
    State(state): State<AppState>,
    Path(cluster): Path<String>,
    Query(query): Query<RequestQuery>,
    headers: HeaderMap,
) -> Reply {
    list_bindings::<ClusterRoleBinding>(&state, &cluster, None, &query, &headers)
}

async fn create_cluster_role_binding(
    State(state): State<AppState>,
    Path(cluster): Path<String>,
    Query(query): Query<RequestQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    create_binding::<ClusterRoleBinding>(&state, &cluster, None, &query, &headers, &body)
}

async fn get_cluster_role_binding(
    State(state): State<AppState>,
    Path((cluster, name)): Path<(String, String)>,
) -> Reply {
    let at = Location {
        namespace: None,
        name: &name,
    };
    get_binding::<ClusterRoleBinding>(&state, &cluster, &at)
}

async fn update_cluster_role_binding(
    State(state): State<AppState>,
    Path((cluster, name)): Path<(String, String)>,
    Query(query): Query<RequestQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let at = Location {
        namespace: None,
        name: &name,
    };
    update_binding::<ClusterRoleBinding>(&state, &cluster, &at, &query, &headers, &body)
}

async fn patch_cluster_role_binding(
    State(state): State<AppState>,
    Path((cluster, name)): Path<(String, String)>,
    Query(query): Query<RequestQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let at = Location {
        namespace: None,
        name: &name,
    };
    patch_binding::<ClusterRoleBinding>(&state, &cluster, &at, &query, &headers, &body)
}

async fn delete_cluster_role_binding(
    State(state): State<AppState>,
    Path((cluster, name)): Path<(String, String)>,
    Query(query): Query<RequestQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let at = Location {
        namespace: None,
        name: &name,
    };
    delete_binding::<ClusterRoleBinding>(&state, &cluster, &at, &query, &headers, &body)
}

async fn list_all_role_bindings(
    State(state): State<AppState>,
    Path(cluster): Path<String>,
    Query(query): Query<RequestQuery>,
    headers: HeaderMap,
) -> Reply {
    list_bindings::<RoleBinding>(&state, &cluster, None, &query, &headers)
}

async fn list_role_bindings(
    State(state): State<AppState>,
    Path((cluster, namespace)): Path<(String, String)>,
    Query(query): Query<RequestQuery>,
    headers: HeaderMap,
) -> Reply {
    list_bindings::<RoleBinding>(&state, &cluster, Some(&namespace), &query, &headers)
}

async fn create_role_binding(
    State(state): State<AppState>,
    Path((cluster, namespace)): Path<(String, String)>,
    Query(query): Query<RequestQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    create_binding::<RoleBinding>(&state, &cluster, Some(&namespace), &query, &headers, &body)
}

async fn get_role_binding(
    State(state): State<AppState>,
    Path((cluster, namespace, name)): Path<(String, String, String)>,
) -> Reply {
    let at = Location {
        namespace: Some(&namespace),
        name: &name,
    };
    get_binding::<RoleBinding>(&state, &cluster, &at)
}

async fn update_role_binding(
    State(state): State<AppState>,
    Path((cluster, namespace, name)): Path<(String, String, String)>,
    Query(query): Query<RequestQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let at = Location {
        namespace: Some(&namespace),
        name: &name,
    };
    update_binding::<RoleBinding>(&state, &cluster, &at, &query, &headers, &body)
}

async fn patch_role_binding(
    State(state): State<AppState>,
    Path((cluster, namespace, name)): Path<(String, String, String)>,
    Query(query): Query<RequestQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let at = Location {
        namespace: Some(&namespace),
        name: &name,
    };
    patch_binding::<RoleBinding>(&state, &cluster, &at, &query, &headers, &body)
}

async fn delete_role_binding(
    State(state): State<AppState>,
    Path((cluster, namespace, name)): Path<(String, String, String)>,
    Query(query): Query<RequestQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let at = Location {
        namespace: Some(&namespace),
        name: &name,
    };
    delete_binding::<RoleBinding>(&state, &cluster, &at, &query, &headers, &body)
}

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

async fn list_cluster_roles(
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

async fn get_cluster_role(
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

async fn list_namespaces(
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

async fn get_namespace(
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
