//! Which resource an IAM policy path names: the [`ScopePath`] extractor for the five scopes,
//! the check that the resource exists, and the chain of scopes a policy is inherited from.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, MatchedPath, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::{TmcError, TmcResult};
use crate::sandbox::state::{ClusterKey, PolicyScope, TmcCluster, TmcNamespace, TmcObject, World};

/// A scope as a path names it: a cluster by its name alone, which [`resolve`] completes with
/// the query's management cluster and provisioner.
#[derive(Debug, Clone)]
pub(super) enum NamedScope {
    Organization,
    ClusterGroup(String),
    Cluster(String),
    Namespace { cluster: String, name: String },
    Workspace(String),
}

/// The scope an IAM policy path names, from the matched route and its parameters: none for
/// the organization, `{name}` for the others and also `{cluster}` for a namespace.
pub(super) struct ScopePath(pub(super) NamedScope);

#[derive(Deserialize, Default)]
struct ScopeParams {
    cluster: Option<String>,
    name: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ScopePath {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = match Path::<ScopeParams>::from_request_parts(parts, state).await {
            Ok(Path(params)) => params,
            // The organization's path has no parameters at all.
            Err(PathRejection::MissingPathParams(_)) => ScopeParams::default(),
            Err(rejection) => return Err(rejection.into_response()),
        };
        let route = parts
            .extensions
            .get::<MatchedPath>()
            .map(MatchedPath::as_str)
            .unwrap_or_default();
        let resource = route.strip_prefix("/v1alpha1/").unwrap_or_default();
        let scope = match (resource.split(':').next(), params) {
            (Some("organization"), _) => NamedScope::Organization,
            (Some("clustergroups"), ScopeParams { name: Some(n), .. }) => {
                NamedScope::ClusterGroup(n)
            }
            (Some("clusters"), ScopeParams { name: Some(n), .. }) => NamedScope::Cluster(n),
            (Some("workspaces"), ScopeParams { name: Some(n), .. }) => NamedScope::Workspace(n),
            (
                _,
                ScopeParams {
                    cluster: Some(cluster),
                    name: Some(name),
                },
            ) if resource.contains("/namespaces:iam/") => NamedScope::Namespace { cluster, name },
            _ => return Err(TmcError::not_found(format!("{route} not found")).into_response()),
        };
        Ok(ScopePath(scope))
    }
}

/// The optional `fullName.*` query parameters of the IAM paths.
#[derive(Deserialize, Default)]
pub(super) struct FullNameQuery {
    #[serde(rename = "fullName.orgId")]
    org_id: Option<String>,
    #[serde(rename = "fullName.managementClusterName")]
    management_cluster: Option<String>,
    #[serde(rename = "fullName.provisionerName")]
    provisioner: Option<String>,
}

impl FullNameQuery {
    /// Whether a cluster under this management cluster and provisioner matches the query
    /// (an absent or empty name matches any).
    pub(super) fn places(&self, management_cluster: &str, provisioner: &str) -> bool {
        let fits = |given: &Option<String>, actual: &str| {
            given.as_deref().is_none_or(|g| g.is_empty() || g == actual)
        };
        fits(&self.management_cluster, management_cluster) && fits(&self.provisioner, provisioner)
    }
}

/// The one cluster called `name` that the query's `fullName.*` places. Same-named clusters
/// under other management clusters or provisioners are other clusters: when the query leaves
/// more than one possible, TMC's answer is not guessed, the request is refused.
pub(super) fn cluster_key(
    world: &World,
    name: &str,
    query: &FullNameQuery,
) -> TmcResult<ClusterKey> {
    let named: Vec<&TmcCluster> = world
        .tmc
        .clusters
        .iter()
        .filter(|c| c.object.name == name)
        .collect();
    if named.is_empty() {
        return Err(TmcError::not_found(format!("cluster '{name}' not found")));
    }
    let placed: Vec<&&TmcCluster> = named
        .iter()
        .filter(|c| query.places(&c.management_cluster, &c.provisioner))
        .collect();
    match placed.as_slice() {
        [one] => Ok(one.key()),
        [] => Err(TmcError::not_found(format!(
            "cluster '{name}' not found under management cluster '{}' and provisioner '{}'",
            query.management_cluster.as_deref().unwrap_or(""),
            query.provisioner.as_deref().unwrap_or("")
        ))),
        many => Err(TmcError::invalid_argument(format!(
            "{} clusters are named '{name}': give fullName.managementClusterName and \
             fullName.provisionerName",
            many.len()
        ))),
    }
}

/// The resource behind a path's scope, checked to exist (and to match the query's full name).
pub(super) fn resolve(
    world: &World,
    scope: &NamedScope,
    query: &FullNameQuery,
) -> TmcResult<PolicyScope> {
    let tmc = &world.tmc;
    let find = |objects: &[TmcObject], kind: &str, name: &str| -> TmcResult<()> {
        find_named(objects, kind, name).map(|_| ())
    };
    Ok(match scope {
        NamedScope::Organization => match query.org_id.as_deref() {
            Some(org) if !org.is_empty() && org != world.org_id => {
                return Err(TmcError::not_found(format!(
                    "organization '{org}' not found"
                )));
            }
            _ => PolicyScope::Organization,
        },
        NamedScope::ClusterGroup(name) => {
            find(&tmc.cluster_groups, "cluster group", name)?;
            PolicyScope::ClusterGroup(name.clone())
        }
        NamedScope::Workspace(name) => {
            find(&tmc.workspaces, "workspace", name)?;
            PolicyScope::Workspace(name.clone())
        }
        NamedScope::Cluster(name) => PolicyScope::Cluster(cluster_key(world, name, query)?),
        NamedScope::Namespace { cluster, name } => {
            let namespace = find_namespace(world, cluster, name, query)?;
            PolicyScope::Namespace {
                cluster: namespace.cluster.clone(),
                name: name.clone(),
            }
        }
    })
}

/// The namespace `name` of the one cluster called `cluster` that the query places.
pub(super) fn find_namespace<'a>(
    world: &'a World,
    cluster: &str,
    name: &str,
    query: &FullNameQuery,
) -> TmcResult<&'a TmcNamespace> {
    let cluster = cluster_key(world, cluster, query)?;
    world
        .tmc
        .namespaces
        .iter()
        .find(|n| n.cluster == cluster && n.object.name == name)
        .ok_or_else(|| {
            TmcError::not_found(format!(
                "namespace '{name}' not found in cluster '{}'",
                cluster.name
            ))
        })
}

/// The scopes whose policies `scope` inherits, nearest first.
pub(super) fn ancestors(world: &World, scope: &PolicyScope) -> Vec<PolicyScope> {
    let cluster_group_of = |cluster: &ClusterKey| {
        world
            .tmc
            .clusters
            .iter()
            .find(|c| c.key() == *cluster)
            .map(|c| PolicyScope::ClusterGroup(c.cluster_group.clone()))
    };
    let mut chain = Vec::new();
    match scope {
        PolicyScope::Organization => return chain,
        PolicyScope::ClusterGroup(_) | PolicyScope::Workspace(_) => {}
        PolicyScope::Cluster(key) => chain.extend(cluster_group_of(key)),
        PolicyScope::Namespace { cluster, name } => {
            let workspace = world
                .tmc
                .namespaces
                .iter()
                .find(|n| n.cluster == *cluster && n.object.name == *name)
                .map(|n| PolicyScope::Workspace(n.workspace.clone()));
            // A namespace inherits from its workspace, not from its cluster (the Terraform
            // provider's docs on the resource hierarchy).
            chain.extend(workspace);
        }
    }
    chain.push(PolicyScope::Organization);
    chain
}

/// TMC's resource identifier of the object a policy is attached to.
pub(super) fn rid(world: &World, scope: &PolicyScope) -> String {
    let org = &world.org_id;
    match scope {
        PolicyScope::Organization => format!("rid:org:{org}"),
        PolicyScope::ClusterGroup(name) => format!("rid:cg:{org}:{name}"),
        PolicyScope::Workspace(name) => format!("rid:ws:{org}:{name}"),
        PolicyScope::Cluster(c) => format!(
            "rid:c:{org}:{}:{}:{}",
            c.management_cluster, c.provisioner, c.name
        ),
        PolicyScope::Namespace { cluster: c, name } => format!(
            "rid:ns:{org}:{}:{}:{}:{name}",
            c.management_cluster, c.provisioner, c.name
        ),
    }
}

/// The object called `name` among `objects`, or TMC's 404 for a `kind` of that name.
pub(super) fn find_named<'a>(
    objects: &'a [TmcObject],
    kind: &str,
    name: &str,
) -> TmcResult<&'a TmcObject> {
    objects
        .iter()
        .find(|o| o.name == name)
        .ok_or_else(|| TmcError::not_found(format!("{kind} '{name}' not found")))
}
