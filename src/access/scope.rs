//! Where a grant goes: the scope as a caller names it ([`ScopeRef`], the shape the tools take)
//! and as the systems need it ([`BindTarget`]), with a cluster's management cluster and
//! provisioner looked up in TMC when the name alone is unambiguous. Unknown names are refused
//! with the close matches.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Systems;
use super::error::{AccessError, AccessResult};
use super::ports::{TmcCluster, TmcScope};
use super::suggest::unknown_name;
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(with = "String", transform = crate::access::schema::optional)]
        management_cluster: Option<String>,
        /// Provisioner; looked up when omitted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(with = "String", transform = crate::access::schema::optional)]
        management_cluster: Option<String>,
        /// Provisioner of the cluster; looked up when omitted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(with = "String", transform = crate::access::schema::optional)]
        namespace: Option<String>,
    },
}

impl From<TmcScope> for ScopeRef {
    /// A TMC scope in the shape the tools take, with every name filled in.
    fn from(scope: TmcScope) -> Self {
        match scope {
            TmcScope::Organization => ScopeRef::Organization,
            TmcScope::ClusterGroup { name } => ScopeRef::ClusterGroup { name },
            TmcScope::Workspace { name } => ScopeRef::Workspace { name },
            TmcScope::Cluster {
                name,
                management_cluster,
                provisioner,
            } => ScopeRef::Cluster {
                name,
                management_cluster: Some(management_cluster),
                provisioner: Some(provisioner),
            },
            TmcScope::Namespace {
                cluster,
                name,
                management_cluster,
                provisioner,
            } => ScopeRef::Namespace {
                cluster,
                name,
                management_cluster: Some(management_cluster),
                provisioner: Some(provisioner),
            },
        }
    }
}

impl ScopeRef {
    /// A TAP cluster, or one of its namespaces.
    pub fn tap(cluster: &str, namespace: Option<&str>) -> Self {
        ScopeRef::TapCluster {
            name: cluster.to_string(),
            namespace: namespace.map(str::to_string),
        }
    }
}

/// Turn a scope as named into a precise target, looking up a cluster's full name in TMC. Every
/// name must exist: an unknown one is refused with the close matches ("did you mean ...?").
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
        ScopeRef::ClusterGroup { name } => {
            let name = nonempty("name", &name)?;
            let known = systems.tmc.cluster_groups().await?;
            exists("TMC cluster group", &name, &known)?;
            BindTarget::Tmc(TmcScope::ClusterGroup { name })
        }
        ScopeRef::Workspace { name } => {
            let name = nonempty("name", &name)?;
            let known = systems.tmc.workspaces().await?;
            exists("TMC workspace", &name, &known)?;
            BindTarget::Tmc(TmcScope::Workspace { name })
        }
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
            let known = systems.tmc.namespaces(&cluster).await?;
            exists(
                &format!("namespace of TMC cluster '{}'", cluster.name),
                &name,
                &known,
            )?;
            BindTarget::Tmc(TmcScope::Namespace {
                cluster: cluster.name,
                name,
                management_cluster: cluster.management_cluster,
                provisioner: cluster.provisioner,
            })
        }
        // A blank namespace is an error, never "cluster-wide": omit it for a ClusterRoleBinding.
        ScopeRef::TapCluster { name, namespace } => {
            let cluster = nonempty("name", &name)?;
            exists("TAP cluster", &cluster, &systems.rbac.clusters())?;
            let namespace = optional("namespace", namespace)?;
            if let Some(ns) = &namespace {
                let known = systems.rbac.namespaces(&cluster).await?;
                exists(&format!("namespace of TAP cluster '{cluster}'"), ns, &known)?;
            }
            BindTarget::Tap { cluster, namespace }
        }
    })
}

/// `name` is one of `known`, or the refusal says which are close.
fn exists(what: &str, name: &str, known: &[String]) -> AccessResult<()> {
    if known.iter().any(|k| k == name) {
        Ok(())
    } else {
        Err(unknown_name(what, name, known.iter().map(String::as_str)))
    }
}

async fn find_cluster(
    systems: &Systems,
    name: &str,
    management_cluster: Option<String>,
    provisioner: Option<String>,
) -> AccessResult<TmcCluster> {
    let clusters = systems.tmc.clusters().await?;
    if !clusters.iter().any(|c| c.name == name) {
        return Err(unknown_name(
            "cluster in TMC",
            name,
            clusters.iter().map(|c| c.name.as_str()),
        ));
    }
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
            format!(
                "TMC has a cluster named '{name}', but not with management_cluster {} and provisioner {}",
                management_cluster.as_deref().unwrap_or("(any)"),
                provisioner.as_deref().unwrap_or("(any)"),
            ),
            "omit management_cluster and provisioner, or take them from list_clusters",
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
