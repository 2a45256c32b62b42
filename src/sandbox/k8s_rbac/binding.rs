//! What differs between ClusterRoleBindings and RoleBindings ([`Binding`]), and the API
//! server's checks of a binding sent in a request body.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, header};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use k8s_openapi::{ListableResource, Metadata};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::path::Location;
use super::{CLUSTER_ROLE_BINDINGS, NAMESPACES, RBAC_GROUP, ROLE_BINDINGS};
use crate::sandbox::k8s_api::{KubeError, KubeResult, ResourceKind, decode};
use crate::sandbox::k8s_proto::{self, FromProto};
use crate::sandbox::state::{IdGen, KubeCluster};

/// What differs between ClusterRoleBindings and RoleBindings.
pub(super) trait Binding:
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

/// The two types share field names; only the resource, role kinds and store differ.
macro_rules! impl_binding {
    ($type:ty, $resource:expr, $role_kinds:expr, $store:ident) => {
        impl Binding for $type {
            const RESOURCE: ResourceKind = $resource;
            const ROLE_KINDS: &'static [&'static str] = $role_kinds;
            fn role_ref(&self) -> &RoleRef {
                &self.role_ref
            }
            fn subjects(&self) -> &[Subject] {
                self.subjects.as_deref().unwrap_or_default()
            }
            fn store(cluster: &KubeCluster) -> &BTreeMap<String, Self> {
                &cluster.$store
            }
            fn store_mut(cluster: &mut KubeCluster) -> &mut BTreeMap<String, Self> {
                &mut cluster.$store
            }
        }
    };
}

impl_binding!(
    ClusterRoleBinding,
    CLUSTER_ROLE_BINDINGS,
    &["ClusterRole"],
    cluster_role_bindings
);
impl_binding!(
    RoleBinding,
    ROLE_BINDINGS,
    &["ClusterRole", "Role"],
    role_bindings
);

/// The API server's validation of a binding, reduced to what matters for RBAC.
pub(super) fn validate<B: Binding>(binding: &B, name: &str) -> KubeResult<()> {
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
pub(super) fn stamp_new(meta: &mut ObjectMeta, ids: &mut IdGen, revision: String) {
    meta.uid = Some(ids.uuid());
    meta.resource_version = Some(revision);
    meta.creation_timestamp = Some(Time(Timestamp::now()));
    meta.generation = None;
    meta.managed_fields = None;
    meta.self_link = None;
    meta.deletion_timestamp = None;
}

pub(super) fn check_namespace_of_body(meta: &ObjectMeta, at: &Location) -> KubeResult<()> {
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

pub(super) fn require_namespace(cluster: &KubeCluster, at: &Location) -> KubeResult<()> {
    match at.namespace {
        Some(ns) if !cluster.namespaces.contains_key(ns) => {
            Err(KubeError::not_found(&NAMESPACES, ns))
        }
        _ => Ok(()),
    }
}

pub(super) fn is_protobuf(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(k8s_proto::MEDIA_TYPE))
}

/// A request body as JSON or, as kubectl's typed clients send it, Kubernetes protobuf.
pub(super) fn decode_object<B: Binding>(headers: &HeaderMap, body: &[u8]) -> KubeResult<B> {
    if is_protobuf(headers) {
        B::from_proto(body).map_err(|e| KubeError::bad_request(e.0))
    } else {
        decode(body)
    }
}
