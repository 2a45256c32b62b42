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
//!   policies it inherits (cluster group and organization for a cluster; workspace, cluster,
//!   cluster group and organization for a namespace). Each policy's `meta.parentReferences`
//!   names the resource it is attached to; the Terraform provider picks its policy by
//!   `meta.uid`, so clients must not assume the list holds one policy.
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
//!   the Terraform provider's models). `GET /v1alpha1/iam/roles` lists the built-in roles.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth;
use super::data::TMC_ROLES;
use super::state::{AppState, Policy, PolicyScope, TmcObject, TmcRoleBinding, TmcSubject, World};

const SUBJECT_KINDS: &[&str] = &["USER", "GROUP", "SERVICEACCOUNT", "K8S_SERVICEACCOUNT"];
const DEFAULT_PAGE_SIZE: usize = 20;

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/v1alpha1/organization:iam",
            get(get_org_policy)
                .patch(patch_org_policy)
                .put(put_org_policy),
        )
        .route(
            "/v1alpha1/clustergroups:iam/{name}",
            get(get_cluster_group_policy)
                .patch(patch_cluster_group_policy)
                .put(put_cluster_group_policy),
        )
        .route(
            "/v1alpha1/clusters:iam/{name}",
            get(get_cluster_policy)
                .patch(patch_cluster_policy)
                .put(put_cluster_policy),
        )
        .route(
            "/v1alpha1/clusters/{cluster}/namespaces:iam/{name}",
            get(get_namespace_policy)
                .patch(patch_namespace_policy)
                .put(put_namespace_policy),
        )
        .route(
            "/v1alpha1/workspaces:iam/{name}",
            get(get_workspace_policy)
                .patch(patch_workspace_policy)
                .put(put_workspace_policy),
        )
        .route("/v1alpha1/clusters", get(list_clusters))
        .route("/v1alpha1/clusters/{name}", get(get_cluster))
        .route("/v1alpha1/clustergroups", get(list_cluster_groups))
        .route("/v1alpha1/clustergroups/{name}", get(get_cluster_group))
        .route("/v1alpha1/workspaces", get(list_workspaces))
        .route("/v1alpha1/workspaces/{name}", get(get_workspace))
        .route(
            "/v1alpha1/clusters/{cluster}/namespaces",
            get(list_namespaces),
        )
        .route(
            "/v1alpha1/clusters/{cluster}/namespaces/{name}",
            get(get_namespace),
        )
        .route("/v1alpha1/iam/roles", get(list_roles))
        .route("/v1alpha1/iam/roles/{name}", get(get_role))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            auth::require_tmc_token,
        ))
}

// ---------------------------------------------------------------------------------------------
// Errors

/// A TMC error: grpc-gateway's `{error, code, message, details}` with the gRPC status code.
#[derive(Debug)]
pub struct TmcError {
    status: StatusCode,
    grpc_code: u8,
    message: String,
}

impl TmcError {
    fn new(status: StatusCode, grpc_code: u8, message: impl Into<String>) -> TmcError {
        TmcError {
            status,
            grpc_code,
            message: message.into(),
        }
    }

    pub fn unauthenticated() -> TmcError {
        TmcError::new(
            StatusCode::UNAUTHORIZED,
            16,
            "unauthenticated: invalid or expired access token",
        )
    }

    fn invalid_argument(message: impl Into<String>) -> TmcError {
        TmcError::new(StatusCode::BAD_REQUEST, 3, message)
    }

    fn failed_precondition(message: impl Into<String>) -> TmcError {
        TmcError::new(StatusCode::BAD_REQUEST, 9, message)
    }

    pub fn not_found(message: impl Into<String>) -> TmcError {
        TmcError::new(StatusCode::NOT_FOUND, 5, message)
    }

    fn aborted(message: impl Into<String>) -> TmcError {
        TmcError::new(StatusCode::CONFLICT, 10, message)
    }
}

impl IntoResponse for TmcError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": self.message,
            "code": self.grpc_code,
            "message": self.message,
            "details": [],
        });
        (self.status, axum::Json(body)).into_response()
    }
}

type TmcResult<T> = Result<T, TmcError>;

// ---------------------------------------------------------------------------------------------
// Scopes: which resource a request names, and whether it exists

/// The optional `fullName.*` query parameters of the IAM paths.
#[derive(Deserialize, Default)]
struct FullNameQuery {
    #[serde(rename = "fullName.orgId")]
    org_id: Option<String>,
    #[serde(rename = "fullName.managementClusterName")]
    management_cluster: Option<String>,
    #[serde(rename = "fullName.provisionerName")]
    provisioner: Option<String>,
}

/// Check that the resource behind `scope` exists (and matches the query's full name).
fn resolve(world: &World, scope: &PolicyScope, query: &FullNameQuery) -> TmcResult<()> {
    let tmc = &world.tmc;
    let check_cluster = |name: &str| -> TmcResult<()> {
        let cluster = tmc
            .clusters
            .iter()
            .find(|c| c.object.name == name)
            .ok_or_else(|| TmcError::not_found(format!("cluster '{name}' not found")))?;
        let mismatch = |given: &Option<String>, actual: &str| {
            given
                .as_deref()
                .is_some_and(|g| !g.is_empty() && g != actual)
        };
        if mismatch(&query.management_cluster, &cluster.management_cluster)
            || mismatch(&query.provisioner, &cluster.provisioner)
        {
            return Err(TmcError::not_found(format!(
                "cluster '{name}' not found under management cluster '{}' and provisioner '{}'",
                query.management_cluster.as_deref().unwrap_or(""),
                query.provisioner.as_deref().unwrap_or("")
            )));
        }
        Ok(())
    };
    let find = |objects: &[TmcObject], kind: &str, name: &str| -> TmcResult<()> {
        if objects.iter().any(|o| o.name == name) {
            Ok(())
        } else {
            Err(TmcError::not_found(format!("{kind} '{name}' not found")))
        }
    };
    match scope {
        PolicyScope::Organization => match query.org_id.as_deref() {
            Some(org) if !org.is_empty() && org != world.org_id => Err(TmcError::not_found(
                format!("organization '{org}' not found"),
            )),
            _ => Ok(()),
        },
        PolicyScope::ClusterGroup(name) => find(&tmc.cluster_groups, "cluster group", name),
        PolicyScope::Workspace(name) => find(&tmc.workspaces, "workspace", name),
        PolicyScope::Cluster(name) => check_cluster(name),
        PolicyScope::Namespace { cluster, name } => {
            check_cluster(cluster)?;
            if tmc
                .namespaces
                .iter()
                .any(|n| n.cluster == *cluster && n.object.name == *name)
            {
                Ok(())
            } else {
                Err(TmcError::not_found(format!(
                    "namespace '{name}' not found in cluster '{cluster}'"
                )))
            }
        }
    }
}

/// The scopes whose policies `scope` inherits, nearest first.
fn ancestors(world: &World, scope: &PolicyScope) -> Vec<PolicyScope> {
    let cluster_group_of = |cluster: &str| {
        world
            .tmc
            .clusters
            .iter()
            .find(|c| c.object.name == cluster)
            .map(|c| PolicyScope::ClusterGroup(c.cluster_group.clone()))
    };
    let mut chain = Vec::new();
    match scope {
        PolicyScope::Organization => return chain,
        PolicyScope::ClusterGroup(_) | PolicyScope::Workspace(_) => {}
        PolicyScope::Cluster(name) => chain.extend(cluster_group_of(name)),
        PolicyScope::Namespace { cluster, name } => {
            let workspace = world
                .tmc
                .namespaces
                .iter()
                .find(|n| n.cluster == *cluster && n.object.name == *name)
                .map(|n| PolicyScope::Workspace(n.workspace.clone()));
            chain.extend(workspace);
            chain.push(PolicyScope::Cluster(cluster.clone()));
            chain.extend(cluster_group_of(cluster));
        }
    }
    chain.push(PolicyScope::Organization);
    chain
}

/// TMC's resource identifier of the object a policy is attached to.
fn rid(world: &World, scope: &PolicyScope) -> String {
    let org = &world.org_id;
    let placement = |cluster: &str| {
        world
            .tmc
            .clusters
            .iter()
            .find(|c| c.object.name == cluster)
            .map(|c| format!("{}:{}", c.management_cluster, c.provisioner))
            .unwrap_or_default()
    };
    match scope {
        PolicyScope::Organization => format!("rid:org:{org}"),
        PolicyScope::ClusterGroup(name) => format!("rid:cg:{org}:{name}"),
        PolicyScope::Workspace(name) => format!("rid:ws:{org}:{name}"),
        PolicyScope::Cluster(name) => format!("rid:c:{org}:{}:{name}", placement(name)),
        PolicyScope::Namespace { cluster, name } => {
            format!("rid:ns:{org}:{}:{cluster}:{name}", placement(cluster))
        }
    }
}

fn policy_json(world: &World, scope: &PolicyScope, policy: &Policy) -> Value {
    json!({
        "meta": {
            "uid": policy.uid,
            "resourceVersion": policy.resource_version.to_string(),
            "creationTime": policy.created.to_string(),
            "updateTime": policy.updated.to_string(),
            "parentReferences": [{ "rid": rid(world, scope) }],
        },
        "roleBindings": policy.role_bindings,
    })
}

// ---------------------------------------------------------------------------------------------
// GET / PATCH / PUT of a policy, shared by the five scopes

fn get_policy(state: &AppState, scope: PolicyScope, query: &FullNameQuery) -> TmcResult<Value> {
    let world = state.world();
    resolve(&world, &scope, query)?;
    let policies: Vec<Value> = std::iter::once(scope.clone())
        .chain(ancestors(&world, &scope))
        .filter_map(|s| {
            let policy = world.tmc.policies.get(&s)?;
            Some(policy_json(&world, &s, policy))
        })
        .collect();
    Ok(json!({ "policyList": policies }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PatchRequest {
    #[serde(default)]
    full_name: Option<Value>,
    #[serde(default)]
    binding_delta_list: Vec<BindingDelta>,
}

#[derive(Deserialize)]
struct BindingDelta {
    op: Option<String>,
    role: Option<String>,
    subject: Option<TmcSubject>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PutRequest {
    #[serde(default)]
    meta: Option<PutMeta>,
    #[serde(default)]
    role_bindings: Vec<TmcRoleBinding>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutMeta {
    resource_version: Option<String>,
}

fn parse_body<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> TmcResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| TmcError::invalid_argument(format!("invalid request body: {e}")))
}

/// A role must exist and be bindable on this kind of resource.
fn check_role(role: &str, scope: &PolicyScope) -> TmcResult<()> {
    let known = TMC_ROLES
        .iter()
        .find(|r| r.name == role)
        .ok_or_else(|| TmcError::invalid_argument(format!("role '{role}' does not exist")))?;
    if known.resources.contains(&scope.resource_type()) {
        Ok(())
    } else {
        Err(TmcError::invalid_argument(format!(
            "role '{role}' cannot be bound on a {} (allowed on: {})",
            scope.resource_type(),
            known.resources.join(", ")
        )))
    }
}

fn check_subject(world: &World, subject: &TmcSubject, adding: bool) -> TmcResult<()> {
    if !SUBJECT_KINDS.contains(&subject.kind.as_str()) {
        return Err(TmcError::invalid_argument(format!(
            "subject kind '{}' is invalid; use one of {}",
            subject.kind,
            SUBJECT_KINDS.join(", ")
        )));
    }
    if subject.name.trim().is_empty() {
        return Err(TmcError::invalid_argument("subject name must not be empty"));
    }
    if adding && subject.kind == "USER" && !world.csp.is_active_member(&subject.name) {
        return Err(TmcError::failed_precondition(format!(
            "user '{}' is not an active member of the organization; invite them to the CSP \
             organization and wait until they accept before binding roles",
            subject.name
        )));
    }
    Ok(())
}

fn check_full_name(scope: &PolicyScope, full_name: Option<&Value>) -> TmcResult<()> {
    let Some(given) = full_name
        .and_then(|f| f.get("name"))
        .and_then(Value::as_str)
    else {
        return Ok(());
    };
    let expected = match scope {
        PolicyScope::Organization => return Ok(()),
        PolicyScope::ClusterGroup(n) | PolicyScope::Workspace(n) | PolicyScope::Cluster(n) => n,
        PolicyScope::Namespace { name, .. } => name,
    };
    if given == expected {
        Ok(())
    } else {
        Err(TmcError::invalid_argument(format!(
            "fullName.name '{given}' does not match the path's '{expected}'"
        )))
    }
}

/// Store `bindings` as the policy of `scope` (or drop the policy when empty); returns its JSON.
fn store_policy(world: &mut World, scope: &PolicyScope, bindings: Vec<TmcRoleBinding>) -> Value {
    let bindings: Vec<TmcRoleBinding> = bindings
        .into_iter()
        .filter(|b| !b.subjects.is_empty())
        .collect();
    let now = Timestamp::now();
    if bindings.is_empty() {
        return match world.tmc.policies.remove(scope) {
            Some(mut gone) => {
                gone.resource_version += 1;
                gone.updated = now;
                gone.role_bindings.clear();
                policy_json(world, scope, &gone)
            }
            None => json!({ "meta": {}, "roleBindings": [] }),
        };
    }
    let uid = world.ids.uuid();
    let policy = world
        .tmc
        .policies
        .entry(scope.clone())
        .or_insert_with(|| Policy {
            uid,
            resource_version: 0,
            created: now,
            updated: now,
            role_bindings: Vec::new(),
        });
    policy.resource_version += 1;
    policy.updated = now;
    policy.role_bindings = bindings;
    let stored = policy.clone();
    policy_json(world, scope, &stored)
}

fn patch_policy(
    state: &AppState,
    scope: PolicyScope,
    query: &FullNameQuery,
    body: &Bytes,
) -> TmcResult<Value> {
    let request: PatchRequest = parse_body(body)?;
    let mut world = state.world();
    resolve(&world, &scope, query)?;
    check_full_name(&scope, request.full_name.as_ref())?;
    if request.binding_delta_list.is_empty() {
        return Err(TmcError::invalid_argument(
            "bindingDeltaList must not be empty",
        ));
    }
    let mut bindings = world
        .tmc
        .policies
        .get(&scope)
        .map(|p| p.role_bindings.clone())
        .unwrap_or_default();
    // Validate every delta before applying any: a PATCH is all or nothing.
    for delta in &request.binding_delta_list {
        let role = delta
            .role
            .as_deref()
            .ok_or_else(|| TmcError::invalid_argument("bindingDelta.role is required"))?;
        let subject = delta
            .subject
            .as_ref()
            .ok_or_else(|| TmcError::invalid_argument("bindingDelta.subject is required"))?;
        let adding = match delta.op.as_deref() {
            Some("ADD") => true,
            Some("DELETE") => false,
            other => {
                return Err(TmcError::invalid_argument(format!(
                    "bindingDelta.op must be ADD or DELETE, got {}",
                    other.unwrap_or("nothing")
                )));
            }
        };
        check_role(role, &scope)?;
        check_subject(&world, subject, adding)?;
    }
    for delta in request.binding_delta_list {
        let (Some(role), Some(subject)) = (delta.role, delta.subject) else {
            continue; // validated above
        };
        let binding = match bindings.iter().position(|b| b.role == role) {
            Some(index) => &mut bindings[index],
            None => {
                bindings.push(TmcRoleBinding {
                    role,
                    subjects: Vec::new(),
                });
                let last = bindings.len() - 1;
                &mut bindings[last]
            }
        };
        let present = binding.subjects.iter().position(|s| *s == subject);
        match (delta.op.as_deref(), present) {
            (Some("ADD"), None) => binding.subjects.push(subject),
            (Some("DELETE"), Some(index)) => {
                binding.subjects.remove(index);
            }
            _ => {}
        }
    }
    let policy = store_policy(&mut world, &scope, bindings);
    Ok(json!({ "policy": policy }))
}

fn put_policy(
    state: &AppState,
    scope: PolicyScope,
    query: &FullNameQuery,
    body: &Bytes,
) -> TmcResult<Value> {
    let request: PutRequest = parse_body(body)?;
    let mut world = state.world();
    resolve(&world, &scope, query)?;
    let current = world.tmc.policies.get(&scope);
    if let Some(expected) = request.meta.and_then(|m| m.resource_version)
        && current.map(|p| p.resource_version.to_string()) != Some(expected.clone())
    {
        return Err(TmcError::aborted(format!(
            "the policy was modified (resourceVersion {expected} is stale); read it again"
        )));
    }
    let existing: Vec<(String, TmcSubject)> = current
        .map(|p| {
            p.role_bindings
                .iter()
                .flat_map(|b| b.subjects.iter().map(|s| (b.role.clone(), s.clone())))
                .collect()
        })
        .unwrap_or_default();
    for binding in &request.role_bindings {
        check_role(&binding.role, &scope)?;
        for subject in &binding.subjects {
            // Only new grants need an active member: a PUT may carry leftovers along.
            let adding = !existing
                .iter()
                .any(|(r, s)| *r == binding.role && s == subject);
            check_subject(&world, subject, adding)?;
        }
    }
    let policy = store_policy(&mut world, &scope, request.role_bindings);
    Ok(json!({ "policy": policy }))
}

type Reply = TmcResult<axum::Json<Value>>;

async fn get_org_policy(State(s): State<AppState>, Query(q): Query<FullNameQuery>) -> Reply {
    get_policy(&s, PolicyScope::Organization, &q).map(axum::Json)
}

async fn patch_org_policy(
    State(s): State<AppState>,
    Query(q): Query<FullNameQuery>,
    body: Bytes,
) -> Reply {
    patch_policy(&s, PolicyScope::Organization, &q, &body).map(axum::Json)
}

async fn put_org_policy(
    State(s): State<AppState>,
    Query(q): Query<FullNameQuery>,
    body: Bytes,
) -> Reply {
    put_policy(&s, PolicyScope::Organization, &q, &body).map(axum::Json)
}

async fn get_cluster_group_policy(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<FullNameQuery>,
) -> Reply {
    get_policy(&s, PolicyScope::ClusterGroup(name), &q).map(axum::Json)
}

async fn patch_cluster_group_policy(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<FullNameQuery>,
    body: Bytes,
) -> Reply {
    patch_policy(&s, PolicyScope::ClusterGroup(name), &q, &body).map(axum::Json)
}

async fn put_cluster_group_policy(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<FullNameQuery>,
    body: Bytes,
) -> Reply {
    put_policy(&s, PolicyScope::ClusterGroup(name), &q, &body).map(axum::Json)
}

async fn get_cluster_policy(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<FullNameQuery>,
) -> Reply {
    get_policy(&s, PolicyScope::Cluster(name), &q).map(axum::Json)
}

async fn patch_cluster_policy(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<FullNameQuery>,
    body: Bytes,
) -> Reply {
    patch_policy(&s, PolicyScope::Cluster(name), &q, &body).map(axum::Json)
}

async fn put_cluster_policy(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<FullNameQuery>,
    body: Bytes,
) -> Reply {
    put_policy(&s, PolicyScope::Cluster(name), &q, &body).map(axum::Json)
}

async fn get_namespace_policy(
    State(s): State<AppState>,
    Path((cluster, name)): Path<(String, String)>,
    Query(q): Query<FullNameQuery>,
) -> Reply {
    get_policy(&s, PolicyScope::Namespace { cluster, name }, &q).map(axum::Json)
}

async fn patch_namespace_policy(
    State(s): State<AppState>,
    Path((cluster, name)): Path<(String, String)>,
    Query(q): Query<FullNameQuery>,
    body: Bytes,
) -> Reply {
    patch_policy(&s, PolicyScope::Namespace { cluster, name }, &q, &body).map(axum::Json)
}

async fn put_namespace_policy(
    State(s): State<AppState>,
    Path((cluster, name)): Path<(String, String)>,
    Query(q): Query<FullNameQuery>,
    body: Bytes,
) -> Reply {
    put_policy(&s, PolicyScope::Namespace { cluster, name }, &q, &body).map(axum::Json)
}

async fn get_workspace_policy(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<FullNameQuery>,
) -> Reply {
    get_policy(&s, PolicyScope::Workspace(name), &q).map(axum::Json)
}

async fn patch_workspace_policy(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<FullNameQuery>,
    body: Bytes,
) -> Reply {
    patch_policy(&s, PolicyScope::Workspace(name), &q, &body).map(axum::Json)
}

async fn put_workspace_policy(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<FullNameQuery>,
    body: Bytes,
) -> Reply {
    put_policy(&s, PolicyScope::Workspace(name), &q, &body).map(axum::Json)
}

// ---------------------------------------------------------------------------------------------
// Listings

#[derive(Deserialize)]
struct PageQuery {
    #[serde(rename = "pagination.offset")]
    offset: Option<String>,
    #[serde(rename = "pagination.size")]
    size: Option<String>,
}

/// The `[offset, offset + size)` window of `items` and the list's JSON envelope.
fn paginate(key: &str, items: Vec<Value>, query: &PageQuery) -> TmcResult<Value> {
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
    Ok(json!({ key: page, "totalCount": total.to_string() }))
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

fn cluster_json(world: &World, name: &str) -> Option<Value> {
    let cluster = world.tmc.clusters.iter().find(|c| c.object.name == name)?;
    Some(json!({
        "fullName": {
            "orgId": world.org_id,
            "managementClusterName": cluster.management_cluster,
            "provisionerName": cluster.provisioner,
            "name": cluster.object.name,
        },
        "meta": meta_json(&cluster.object),
        "spec": { "clusterGroupName": cluster.cluster_group },
        "status": { "phase": "READY", "health": "HEALTHY", "type": "ATTACHED" },
    }))
}

fn named_json(world: &World, object: &TmcObject) -> Value {
    json!({
        "fullName": { "orgId": world.org_id, "name": object.name },
        "meta": meta_json(object),
        "spec": {},
    })
}

fn namespace_json(world: &World, cluster: &str, name: &str) -> Option<Value> {
    let namespace = world
        .tmc
        .namespaces
        .iter()
        .find(|n| n.cluster == cluster && n.object.name == name)?;
    let owner = world
        .tmc
        .clusters
        .iter()
        .find(|c| c.object.name == cluster)?;
    Some(json!({
        "fullName": {
            "orgId": world.org_id,
            "managementClusterName": owner.management_cluster,
            "provisionerName": owner.provisioner,
            "clusterName": cluster,
            "name": name,
        },
        "meta": meta_json(&namespace.object),
        "spec": { "workspaceName": namespace.workspace },
        "status": { "phase": "ATTACHED" },
    }))
}

async fn list_clusters(State(state): State<AppState>, Query(q): Query<PageQuery>) -> Reply {
    let world = state.world();
    let items = world
        .tmc
        .clusters
        .iter()
        .filter_map(|c| cluster_json(&world, &c.object.name))
        .collect();
    paginate("clusters", items, &q).map(axum::Json)
}

async fn get_cluster(State(state): State<AppState>, Path(name): Path<String>) -> Reply {
    let world = state.world();
    let cluster = cluster_json(&world, &name)
        .ok_or_else(|| TmcError::not_found(format!("cluster '{name}' not found")))?;
    Ok(axum::Json(json!({ "cluster": cluster })))
}

async fn list_cluster_groups(State(state): State<AppState>, Query(q): Query<PageQuery>) -> Reply {
    let world = state.world();
    let items = world
        .tmc
        .cluster_groups
        .iter()
        .map(|g| named_json(&world, g))
        .collect();
    paginate("clusterGroups", items, &q).map(axum::Json)
}

async fn get_cluster_group(State(state): State<AppState>, Path(name): Path<String>) -> Reply {
    let world = state.world();
    let group = world
        .tmc
        .cluster_groups
        .iter()
        .find(|g| g.name == name)
        .ok_or_else(|| TmcError::not_found(format!("cluster group '{name}' not found")))?;
    Ok(axum::Json(
        json!({ "clusterGroup": named_json(&world, group) }),
    ))
}

async fn list_workspaces(State(state): State<AppState>, Query(q): Query<PageQuery>) -> Reply {
    let world = state.world();
    let items = world
        .tmc
        .workspaces
        .iter()
        .map(|w| named_json(&world, w))
        .collect();
    paginate("workspaces", items, &q).map(axum::Json)
}

async fn get_workspace(State(state): State<AppState>, Path(name): Path<String>) -> Reply {
    let world = state.world();
    let workspace = world
        .tmc
        .workspaces
        .iter()
        .find(|w| w.name == name)
        .ok_or_else(|| TmcError::not_found(format!("workspace '{name}' not found")))?;
    Ok(axum::Json(
        json!({ "workspace": named_json(&world, workspace) }),
    ))
}

async fn list_namespaces(
    State(state): State<AppState>,
    Path(cluster): Path<String>,
    Query(q): Query<PageQuery>,
) -> Reply {
    let world = state.world();
    resolve(
        &world,
        &PolicyScope::Cluster(cluster.clone()),
        &FullNameQuery::default(),
    )?;
    let items = world
        .tmc
        .namespaces
        .iter()
        .filter(|n| n.cluster == cluster)
        .filter_map(|n| namespace_json(&world, &cluster, &n.object.name))
        .collect();
    paginate("namespaces", items, &q).map(axum::Json)
}

async fn get_namespace(
    State(state): State<AppState>,
    Path((cluster, name)): Path<(String, String)>,
) -> Reply {
    let world = state.world();
    let namespace = namespace_json(&world, &cluster, &name).ok_or_else(|| {
        TmcError::not_found(format!(
            "namespace '{name}' not found in cluster '{cluster}'"
        ))
    })?;
    Ok(axum::Json(json!({ "namespace": namespace })))
}

fn role_json(name: &str, resources: &[&str]) -> Value {
    json!({
        "fullName": { "name": name },
        "meta": { "uid": format!("role:{name}"), "resourceVersion": "1", "labels": {} },
        "spec": {
            "isDeprecated": false,
            "isInbuilt": true,
            "resources": resources,
            "rules": [],
            "tanzuPermissions": [],
        },
    })
}

async fn list_roles(Query(q): Query<PageQuery>) -> Reply {
    let items = TMC_ROLES
        .iter()
        .map(|r| role_json(r.name, r.resources))
        .collect();
    // Every role fits one page unless the caller asks for less.
    let query = PageQuery {
        offset: q.offset,
        size: q.size.or_else(|| Some(TMC_ROLES.len().to_string())),
    };
    paginate("roles", items, &query).map(axum::Json)
}

async fn get_role(Path(name): Path<String>) -> Reply {
    let role = TMC_ROLES
        .iter()
        .find(|r| r.name == name)
        .ok_or_else(|| TmcError::not_found(format!("role '{name}' not found")))?;
    Ok(axum::Json(
        json!({ "role": role_json(role.name, role.resources) }),
    ))
}
