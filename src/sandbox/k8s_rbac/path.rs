//! The [`BindingPath`] extractor: which binding type, cluster, namespace and name a
//! ClusterRoleBinding or RoleBinding path names, collection or item.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Path, Query, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::sandbox::k8s_api::{KubeError, RequestQuery};
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

/// What a write carries: the path, `?dryRun=` and friends, the headers (content type) and
/// the body, extracted in that order as the handlers once did one by one.
pub(super) struct BindingRequest {
    pub(super) path: BindingPath,
    pub(super) query: RequestQuery,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for BindingRequest {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let path = BindingPath::from_request_parts(&mut parts, state).await?;
        let Query(query) = Query::<RequestQuery>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(BindingRequest {
            path,
            query,
            headers,
            body,
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
