//! Where a grant goes: the scope as a caller names it ([`ScopeRef`], the shape the tools take)
//! and as the systems need it ([`BindTarget`]), with a cluster's management cluster and
//! provisioner looked up in TMC when the name alone is unambiguous.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Systems;
use super::error::{AccessError, AccessResult};
use super::ports::{TmcCluster, TmcScope};
use super::validate::{NameRule::Dns1123Label, name};

/// Where a binding goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindTarget {
    Tmc(TmcScope),
    /// A ClusterRoleBinding, or a RoleBinding when `namespace` is given.
    Tap {
        cluster: String,
        namespace: Option<String>,
    },
}

impl std::fmt::Display for BindTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindTarget::Tmc(scope) => write!(f, "TMC {scope}"),
            BindTarget::Tap {
                cluster,
                namespace: None,
            } => write!(f, "TAP cluster '{cluster}'"),
            BindTarget::Tap {
                cluster,
                namespace: Some(ns),
            } => {
                write!(f, "namespace '{ns}' of TAP cluster '{cluster}'")
            }
        }
    }
}

/// Where to bind, as a caller names it: TMC scopes may leave out a cluster's management
/// cluster and provisioner when the cluster name alone is unambiguous.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScopeRef {
    /// The TMC organization.
    Organization,
    /// A TMC cluster group.
    ClusterGroup {
        /// Cluster group name.
        name: String,
    },
    /// A TMC cluster.
    Cluster {
        /// Cluster name.
        name: String,
        /// Management cluster; looked up when omitted.
        #[serde(default)]
        #[schemars(with = "String", transform = crate::access::schema::optional)]
        management_cluster: Option<String>,
        /// Provisioner; looked up when omitted.
        #[serde(default)]
        #[schemars(with = "String", transform = crate::access::schema::optional)]
        provisioner: Option<String>,
    },
    /// A namespace of a TMC cluster.
    Namespace {
        /// Cluster name.
        cluster: String,
        /// Namespace name.
        name: String,
        /// Management cluster of the cluster; looked up when omitted.
        #[serde(default)]
        #[schemars(with = "String", transform = crate::access::schema::optional)]
        management_cluster: Option<String>,
        /// Provisioner of the cluster; looked up when omitted.
        #[serde(default)]
        #[schemars(with = "String", transform = crate::access::schema::optional)]
        provisioner: Option<String>,
    },
    /// A TMC workspace.
    Workspace {
        /// Workspace name.
        name: String,
    },
    /// A TAP cluster (Kubernetes RBAC): a ClusterRoleBinding, or a RoleBinding in `namespace`.
    TapCluster {
        /// TAP cluster name, as configured.
        name: String,
        /// Namespace for a RoleBinding; omit for a ClusterRoleBinding.
        #[serde(default)]
        #[schemars(with = "String", transform = crate::access::schema::optional)]
        namespace: Option<String>,
    },
}

/// Turn a scope as named into a precise target, looking up a cluster's full name in TMC.
pub async fn resolve(systems: &Systems, scope: ScopeRef) -> AccessResult<BindTarget> {
    // Every name is checked against its system's rule before anything is looked up, so no
    // request is ever built from `.`, `..`, a control character or a blank.
    let nonempty = |what: &str, value: &str| name(&format!("scope.{what}"), value, Dns1123Label);
    let optional = |what: &str, value: Option<String>| {
        value
            .map(|v| name(&format!("scope.{what}"), &v, Dns1123Label))
            .transpose()
    };
    Ok(match scope {
        ScopeRef::Organization => BindTarget::Tmc(TmcScope::Organization),
        ScopeRef::ClusterGroup { name } => BindTarget::Tmc(TmcScope::ClusterGroup {
            name: nonempty("name", &name)?,
        }),
        ScopeRef::Workspace { name } => BindTarget::Tmc(TmcScope::Workspace {
            name: nonempty("name", &name)?,
        }),
        ScopeRef::Cluster {
            name,
            management_cluster,
            provisioner,
        } => {
            let cluster = find_cluster(
                systems,
                &nonempty("name", &name)?,
                optional("management_cluster", management_cluster)?,
                optional("provisioner", provisioner)?,
            )
            .await?;
            BindTarget::Tmc(TmcScope::Cluster {
                name: cluster.name,
                management_cluster: cluster.management_cluster,
                provisioner: cluster.provisioner,
            })
        }
        ScopeRef::Namespace {
            cluster,
            name,
            management_cluster,
            provisioner,
        } => {
            let name = nonempty("name", &name)?;
            let cluster = find_cluster(
                systems,
                &nonempty("cluster", &cluster)?,
                optional("management_cluster", management_cluster)?,
                optional("provisioner", provisioner)?,
            )
            .await?;
            BindTarget::Tmc(TmcScope::Namespace {
                cluster: cluster.name,
                name,
                management_cluster: cluster.management_cluster,
                provisioner: cluster.provisioner,
            })
        }
        // A blank namespace is an error, never "cluster-wide": omit it for a ClusterRoleBinding.
        ScopeRef::TapCluster { name, namespace } => BindTarget::Tap {
            cluster: nonempty("name", &name)?,
            namespace: optional("namespace", namespace)?,
        },
    })
}

async fn find_cluster(
    systems: &Systems,
    name: &str,
    management_cluster: Option<String>,
    provisioner: Option<String>,
) -> AccessResult<TmcCluster> {
    if let (Some(management_cluster), Some(provisioner)) = (&management_cluster, &provisioner) {
        return Ok(TmcCluster {
            name: name.to_string(),
            management_cluster: management_cluster.clone(),
            provisioner: provisioner.clone(),
        });
    }
    let clusters = systems.tmc.clusters().await?;
    let candidates: Vec<_> = clusters
        .into_iter()
        .filter(|c| c.name == name)
        .filter(|c| {
            management_cluster
                .as_ref()
                .is_none_or(|m| *m == c.management_cluster)
        })
        .filter(|c| provisioner.as_ref().is_none_or(|p| *p == c.provisioner))
        .collect();
    match candidates.len() {
        1 => Ok(candidates.into_iter().next().expect("one candidate")),
        0 => Err(AccessError::refused(
            format!("TMC has no cluster named '{name}'"),
            "check the name; get_user_access lists the clusters where someone holds a role",
        )),
        _ => Err(AccessError::invalid(format!(
            "more than one TMC cluster is named '{name}' ({}); give management_cluster and provisioner",
            candidates
                .iter()
                .map(|c| format!("{}/{}", c.management_cluster, c.provisioner))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}
