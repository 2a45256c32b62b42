//! The binding operations on a cluster's store: create, get, update, patch, delete and list,
//! with the API server's rules (optimistic concurrency, immutable roleRef, `dryRun`).

use axum::http::{HeaderMap, header};
use axum::response::Response;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Preconditions;

use super::binding::{
    Binding, check_namespace_of_body, decode_object, is_protobuf, require_namespace, stamp_new,
    validate,
};
use super::path::{BindingRequest, Location};
use super::table::{BINDING_COLUMNS, binding_row, list_response};
use super::{Reply, cluster, cluster_mut, created, ok};
use crate::sandbox::k8s_api::{KubeError, KubeResult, RequestQuery, decode, deleted_status, page};
use crate::sandbox::k8s_patch::apply_patch;
use crate::sandbox::k8s_proto;
use crate::sandbox::state::{AppState, KubeCluster, World};

pub(super) fn create_binding<B: Binding>(state: &AppState, req: &BindingRequest) -> Reply {
    let (cluster_name, namespace) = (req.path.cluster.as_str(), req.path.namespace.as_deref());
    let (query, headers, body) = (&req.query, &req.headers, &req.body[..]);
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

pub(super) fn get_binding<B: Binding>(
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

pub(super) fn update_binding<B: Binding>(state: &AppState, req: &BindingRequest) -> Reply {
    let (cluster_name, at) = (req.path.cluster.as_str(), &req.path.location());
    let (query, headers, body) = (&req.query, &req.headers, &req.body[..]);
    let object: B = decode_object(headers, body)?;
    let body_name = object.metadata().name.clone().unwrap_or_default();
    if body_name != at.name {
        return Err(KubeError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({})",
            at.name
        )));
    }
    check_namespace_of_body(object.metadata(), at)?;
    let mut world = state.world();
    let cluster = cluster_mut(&mut world, cluster_name)?;
    match B::store(cluster).get(&at.key()).cloned() {
        Some(current) => {
            let stored = replace_binding(cluster, at, &current, object, query.is_dry_run())?;
            Ok(ok(&stored))
        }
        None => {
            // RBAC objects allow create-on-update. Creating takes the lock itself; a writer
            // that wins in between turns this into a 409 AlreadyExists, as on a real server.
            drop(world);
            create_binding::<B>(state, req)
        }
    }
}

pub(super) fn patch_binding<B: Binding>(state: &AppState, req: &BindingRequest) -> Reply {
    let (cluster_name, at) = (req.path.cluster.as_str(), &req.path.location());
    let (query, headers, body) = (&req.query, &req.headers, &req.body[..]);
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

pub(super) fn delete_binding<B: Binding>(state: &AppState, req: &BindingRequest) -> Reply {
    let (cluster_name, at) = (req.path.cluster.as_str(), &req.path.location());
    let (query, headers, body) = (&req.query, &req.headers, &req.body[..]);
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

pub(super) fn list_bindings<B: Binding>(
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
