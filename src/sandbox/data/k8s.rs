//! The TAP clusters of a data set: namespaces, ClusterRoles and the RBAC bindings of the
//! demo's people and of the system.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use super::{ALICE, BOB, MALLORY, epoch};
use crate::sandbox::k8s_rbac::RBAC_GROUP;
use crate::sandbox::state::{IdGen, KubeCluster};

/// Which of the demo's per-cluster extras a TAP cluster carries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum TapRole {
    /// Has the RoleBinding `alice-admin`.
    Dev,
    /// Has the leftover ClusterRoleBinding `legacy-admins`.
    Prod,
    Other,
}

pub(super) fn build_tap_cluster(role: TapRole, with_people: bool, ids: &mut IdGen) -> KubeCluster {
    let mut cluster = KubeCluster {
        namespaces: BTreeMap::new(),
        cluster_roles: BTreeMap::new(),
        cluster_role_bindings: BTreeMap::new(),
        role_bindings: BTreeMap::new(),
        revision: 1000,
    };
    for name in ["default", "kube-system", "dev-team", "apps"] {
        let metadata = meta(&mut cluster, ids, name, None);
        cluster.namespaces.insert(
            name.to_string(),
            Namespace {
                metadata,
                spec: None,
                status: Some(k8s_openapi::api::core::v1::NamespaceStatus {
                    phase: Some("Active".to_string()),
                    ..Default::default()
                }),
            },
        );
    }

    for (name, rules) in cluster_role_rules() {
        let metadata = meta(&mut cluster, ids, name, None);
        cluster.cluster_roles.insert(
            name.to_string(),
            ClusterRole {
                metadata,
                rules: Some(rules),
                aggregation_rule: None,
            },
        );
    }

    let mut system_bindings = vec![
        (
            "cluster-admin",
            "cluster-admin",
            vec![group("system:masters")],
        ),
        (
            "system:discovery",
            "system:discovery",
            vec![group("system:authenticated")],
        ),
        (
            "system:basic-user",
            "system:basic-user",
            vec![group("system:authenticated")],
        ),
        (
            "system:public-info-viewer",
            "system:public-info-viewer",
            vec![
                group("system:authenticated"),
                group("system:unauthenticated"),
            ],
        ),
    ];
    if with_people {
        system_bindings.push(("app-editors", "app-editor", vec![user(ALICE), user(BOB)]));
        system_bindings.push((
            "tap-developers",
            "app-viewer",
            vec![group("tap-developers")],
        ));
        if role == TapRole::Prod {
            system_bindings.push(("legacy-admins", "cluster-admin", vec![user(MALLORY)]));
        }
    }
    for (name, cluster_role, subjects) in system_bindings {
        let metadata = meta(&mut cluster, ids, name, None);
        cluster.cluster_role_bindings.insert(
            name.to_string(),
            ClusterRoleBinding {
                metadata,
                role_ref: cluster_role_ref(cluster_role),
                subjects: Some(subjects),
            },
        );
    }

    if with_people && role == TapRole::Dev {
        let metadata = meta(&mut cluster, ids, "alice-admin", Some("dev-team"));
        cluster.role_bindings.insert(
            KubeCluster::role_binding_key("dev-team", "alice-admin"),
            RoleBinding {
                metadata,
                role_ref: cluster_role_ref("admin"),
                subjects: Some(vec![user(ALICE)]),
            },
        );
    }
    cluster
}

fn meta(
    cluster: &mut KubeCluster,
    ids: &mut IdGen,
    name: &str,
    namespace: Option<&str>,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        uid: Some(ids.uuid()),
        resource_version: Some(cluster.next_revision()),
        creation_timestamp: Some(Time(epoch())),
        ..Default::default()
    }
}

pub fn cluster_role_ref(name: &str) -> RoleRef {
    RoleRef {
        api_group: RBAC_GROUP.to_string(),
        kind: "ClusterRole".to_string(),
        name: name.to_string(),
    }
}

fn user(name: &str) -> Subject {
    Subject {
        api_group: Some(RBAC_GROUP.to_string()),
        kind: "User".to_string(),
        name: name.to_string(),
        namespace: None,
    }
}

fn group(name: &str) -> Subject {
    Subject {
        api_group: Some(RBAC_GROUP.to_string()),
        kind: "Group".to_string(),
        name: name.to_string(),
        namespace: None,
    }
}

fn rule(api_groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    let strings = |s: &[&str]| Some(s.iter().map(|x| x.to_string()).collect());
    PolicyRule {
        api_groups: strings(api_groups),
        resources: strings(resources),
        verbs: verbs.iter().map(|x| x.to_string()).collect(),
        ..Default::default()
    }
}

fn cluster_role_rules() -> Vec<(&'static str, Vec<PolicyRule>)> {
    const READ: &[&str] = &["get", "list", "watch"];
    const WRITE: &[&str] = &[
        "get", "list", "watch", "create", "update", "patch", "delete",
    ];
    const CORE: &[&str] = &[
        "pods",
        "services",
        "configmaps",
        "secrets",
        "persistentvolumeclaims",
    ];
    const APPS: &[&str] = &["deployments", "replicasets", "statefulsets", "daemonsets"];
    const TAP: &[&str] = &["workloads", "deliverables", "runnables"];
    let all = PolicyRule {
        api_groups: Some(vec!["*".to_string()]),
        resources: Some(vec!["*".to_string()]),
        verbs: vec!["*".to_string()],
        ..Default::default()
    };
    let non_resource = |urls: &[&str]| PolicyRule {
        non_resource_urls: Some(urls.iter().map(|x| x.to_string()).collect()),
        verbs: vec!["get".to_string()],
        ..Default::default()
    };
    vec![
        (
            "cluster-admin",
            vec![
                all.clone(),
                PolicyRule {
                    non_resource_urls: Some(vec!["*".to_string()]),
                    verbs: vec!["*".to_string()],
                    ..Default::default()
                },
            ],
        ),
        (
            "admin",
            vec![
                rule(&[""], CORE, WRITE),
                rule(&["apps"], APPS, WRITE),
                rule(&[RBAC_GROUP], &["roles", "rolebindings"], WRITE),
            ],
        ),
        (
            "edit",
            vec![rule(&[""], CORE, WRITE), rule(&["apps"], APPS, WRITE)],
        ),
        (
            "view",
            vec![
                rule(&[""], &["pods", "services", "configmaps"], READ),
                rule(&["apps"], APPS, READ),
            ],
        ),
        (
            "app-editor",
            vec![
                rule(&["carto.run"], TAP, WRITE),
                rule(&[""], &["pods", "services"], READ),
            ],
        ),
        ("app-viewer", vec![rule(&["carto.run"], TAP, READ)]),
        (
            "app-operator",
            vec![
                rule(&["carto.run"], TAP, READ),
                rule(&["apps"], APPS, WRITE),
            ],
        ),
        (
            "system:discovery",
            vec![non_resource(&[
                "/api", "/api/*", "/apis", "/apis/*", "/version",
            ])],
        ),
        (
            "system:basic-user",
            vec![rule(
                &["authorization.k8s.io"],
                &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                &["create"],
            )],
        ),
        (
            "system:public-info-viewer",
            vec![non_resource(&["/healthz", "/livez", "/readyz", "/version"])],
        ),
    ]
}
