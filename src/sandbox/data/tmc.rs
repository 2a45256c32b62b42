//! The TMC side of a data set: the built-in roles, the clusters, groups, workspaces and
//! namespaces, and the IAM policies of the demo's people.

use std::collections::HashMap;

use super::{ALICE, BOB, MALLORY, at_hour};
use crate::sandbox::state::{
    ClusterKey, IdGen, Policy, PolicyScope, TmcCluster, TmcNamespace, TmcObject, TmcOrg,
    TmcRoleBinding, TmcSubject,
};

/// A TMC role and the resource types it can be bound on.
pub struct TmcRole {
    pub name: &'static str,
    pub resources: &'static [&'static str],
    /// Built in (`spec.isInbuilt`); custom roles are created at `/v1alpha1/iam/roles` and
    /// bound like built-in ones.
    pub inbuilt: bool,
}

const ORG_ONLY: &[&str] = &["ORGANIZATION"];
const CLUSTER_GROUP_UP: &[&str] = &["ORGANIZATION", "CLUSTER_GROUP"];
const CLUSTER_UP: &[&str] = &["ORGANIZATION", "CLUSTER_GROUP", "CLUSTER"];
const WORKSPACE_UP: &[&str] = &["ORGANIZATION", "WORKSPACE"];
const NAMESPACE_UP: &[&str] = &[
    "ORGANIZATION",
    "CLUSTER_GROUP",
    "CLUSTER",
    "WORKSPACE",
    "NAMESPACE",
];

/// The roles `GET /v1alpha1/iam/roles` serves and IAM policies accept: the built-in ones and
/// one custom role.
pub const TMC_ROLES: &[TmcRole] = &[
    role("organization.admin", ORG_ONLY),
    role("organization.edit", ORG_ONLY),
    role("organization.view", ORG_ONLY),
    role("clustergroup.admin", CLUSTER_GROUP_UP),
    role("clustergroup.edit", CLUSTER_GROUP_UP),
    role("clustergroup.view", CLUSTER_GROUP_UP),
    role("cluster.admin", CLUSTER_UP),
    role("cluster.edit", CLUSTER_UP),
    role("cluster.view", CLUSTER_UP),
    role("namespace.admin", NAMESPACE_UP),
    role("namespace.edit", NAMESPACE_UP),
    role("namespace.view", NAMESPACE_UP),
    role("workspace.admin", WORKSPACE_UP),
    role("workspace.edit", WORKSPACE_UP),
    role("workspace.view", WORKSPACE_UP),
    TmcRole {
        name: CUSTOM_ROLE,
        resources: &["CLUSTER", "NAMESPACE"],
        inbuilt: false,
    },
];

/// The custom role of every data set (TMC accepts custom roles in policies).
pub const CUSTOM_ROLE: &str = "app-deployer";

const fn role(name: &'static str, resources: &'static [&'static str]) -> TmcRole {
    TmcRole {
        name,
        resources,
        inbuilt: true,
    }
}

pub const MANAGEMENT_CLUSTER: &str = "attached";
pub const PROVISIONER: &str = "attached";

/// The full name of a cluster attached the demo's way.
fn attached(name: &str) -> ClusterKey {
    ClusterKey {
        management_cluster: MANAGEMENT_CLUSTER.to_string(),
        provisioner: PROVISIONER.to_string(),
        name: name.to_string(),
    }
}

pub(super) fn build_tmc(with_people: bool, ids: &mut IdGen) -> TmcOrg {
    let mut object = |name: &str, hour: i64| TmcObject {
        name: name.to_string(),
        uid: ids.uuid(),
        created: at_hour(hour),
    };
    let cluster_groups: Vec<TmcObject> = ["default", "dev-group", "prod-group"]
        .iter()
        .enumerate()
        .map(|(i, n)| object(n, i as i64))
        .collect();
    let workspaces: Vec<TmcObject> = ["default", "team-a", "team-b"]
        .iter()
        .enumerate()
        .map(|(i, n)| object(n, i as i64))
        .collect();
    let mut clusters = Vec::new();
    let mut namespaces = Vec::new();
    for (i, (name, group)) in [
        ("dev-cluster-1", "dev-group"),
        ("dev-cluster-2", "dev-group"),
        ("prod-cluster-1", "prod-group"),
    ]
    .into_iter()
    .enumerate()
    {
        clusters.push(TmcCluster {
            object: object(name, 10 + i as i64),
            management_cluster: MANAGEMENT_CLUSTER.to_string(),
            provisioner: PROVISIONER.to_string(),
            cluster_group: group.to_string(),
        });
        for ns in ["default", "kube-system", "team-a", "team-b"] {
            let workspace = if ns.starts_with("team-") {
                ns
            } else {
                "default"
            };
            namespaces.push(TmcNamespace {
                object: object(ns, 20 + i as i64),
                cluster: attached(name),
                workspace: workspace.to_string(),
            });
        }
    }

    let mut policies = HashMap::new();
    if with_people {
        let user = |name: &str| TmcSubject {
            name: name.to_string(),
            kind: "USER".to_string(),
        };
        let group = |name: &str| TmcSubject {
            name: name.to_string(),
            kind: "GROUP".to_string(),
        };
        let grants: Vec<(PolicyScope, &str, TmcSubject)> = vec![
            (
                PolicyScope::Organization,
                "organization.admin",
                group("Platform-Admins"),
            ),
            (PolicyScope::Organization, "organization.view", user(ALICE)),
            (
                PolicyScope::ClusterGroup("dev-group".into()),
                "clustergroup.edit",
                user(ALICE),
            ),
            (
                PolicyScope::ClusterGroup("prod-group".into()),
                "clustergroup.view",
                group("platform-admins"),
            ),
            (
                PolicyScope::Cluster(attached("dev-cluster-1")),
                "cluster.admin",
                user(ALICE),
            ),
            (
                PolicyScope::Cluster(attached("dev-cluster-1")),
                "cluster.view",
                user(BOB),
            ),
            (
                PolicyScope::Namespace {
                    cluster: attached("dev-cluster-1"),
                    name: "team-a".into(),
                },
                "namespace.edit",
                user(ALICE),
            ),
            (
                PolicyScope::Workspace("team-a".into()),
                "workspace.edit",
                user(ALICE),
            ),
            (
                PolicyScope::Cluster(attached("prod-cluster-1")),
                "cluster.edit",
                user(MALLORY),
            ),
        ];
        for (scope, role, subject) in grants {
            let policy = policies.entry(scope).or_insert_with(|| Policy {
                uid: ids.uuid(),
                resource_version: 1,
                created: at_hour(100),
                updated: at_hour(100),
                role_bindings: Vec::new(),
            });
            match policy.role_bindings.iter_mut().find(|b| b.role == role) {
                Some(binding) => binding.subjects.push(subject),
                None => policy.role_bindings.push(TmcRoleBinding {
                    role: role.to_string(),
                    subjects: vec![subject],
                }),
            }
        }
    }

    TmcOrg {
        clusters,
        cluster_groups,
        workspaces,
        namespaces,
        policies,
    }
}

/// Two clusters sharing a name under different management clusters and provisioners, as TMC
/// allows (names are unique only within one). Their own id generator leaves every other id of
/// the data set as it was.
pub(super) fn add_twin_clusters(tmc: &mut TmcOrg) {
    let mut ids = IdGen::new(0xED6E);
    for (management_cluster, provisioner) in
        [(MANAGEMENT_CLUSTER, PROVISIONER), ("aks-mgmt", "aks")]
    {
        tmc.clusters.push(TmcCluster {
            object: TmcObject {
                name: "edge-cluster".to_string(),
                uid: ids.uuid(),
                created: at_hour(30),
            },
            management_cluster: management_cluster.to_string(),
            provisioner: provisioner.to_string(),
            cluster_group: "default".to_string(),
        });
    }
}
