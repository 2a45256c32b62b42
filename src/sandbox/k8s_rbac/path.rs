//! The [`BindingPath`] extractor: which binding type, cluster, namespace and name a
//! ClusterRoleBinding or RoleBinding path names, collection or item.

use axum::extract::{FromRequestParts, MatchedPath, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::sandbox::k8s_api::KubeError;
use crate::sandbox::state::KubeCluster;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BindingKind {
    Cluster,
    Namespaced,
}

/// A binding path: `.../clusterrolebindings[/{name}]`, `.../rolebindings` (all namespaces) or
/// `.../namespaces/{namespace}/rolebindings[/{name}]` under `/k8s/{cluster}`.
pub(super) struct BindingPath {
    pub(super) kind: BindingKind,
    pub(super) cluster: String,
    pub(super) namespace: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct BindingParams {
    cluster: String,
    namespace: Option<String>,
    name: Option<String>,
}

impl BindingPath {
    /// The object an item path names (collection paths have no name: it is empty then).
    pub(super) fn location(&self) -> Location<'_> {
        Location {
            namespace: self.namespace.as_deref(),
            name: self.name.as_deref().unwrap_or_default(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for BindingPath {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<BindingParams>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        // `/rolebindings` and `/clusterrolebindings` differ in a literal, not a parameter.
        let route = parts
            .extensions
            .get::<MatchedPath>()
            .map(MatchedPath::as_str)
            .unwrap_or_default();
        let kind = if route.contains("/clusterrolebindings") {
            BindingKind::Cluster
        } else if route.contains("/rolebindings") {
            BindingKind::Namespaced
        } else {
            return Err(KubeError::no_such_path().into_response());
        };
        Ok(BindingPath {
            kind,
            cluster: params.cluster,
            namespace: params.namespace,
            name: params.name,
        })
    }
}

/// Where an object lives: its namespace (RoleBindings only) and name.
pub(super) struct Location<'a> {
    pub(super) namespace: Option<&'a str>,
    pub(super) name: &'a str,
}

impl Location<'_> {
    pub(super) fn key(&self) -> String {
        match self.namespace {
            Some(ns) => KubeCluster::role_binding_key(ns, self.name),
            None => self.name.to_string(),
        }
    }
}
