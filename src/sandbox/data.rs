//! The data sets, deterministic: the same data set always yields the same names, ids and
//! bindings. Other tests depend on these exact names; change them only with everyone.
//!
//! # `demo` (the default)
//! - CSP org `7d2a1f4e-6b3c-4e8a-9f10-5a6b7c8d9e01`, 262 ACTIVE members (two 200-member pages):
//!   - `owner@example.com` (Olivia Owner), `org_owner`, the only owner; listed first.
//!   - `alice@example.com` (Alice Anders) and `bob@example.com` (Bob Brown), `org_member`.
//!   - 259 generated `org_member`s, `first.last@example.com` (a digit is appended on a clash).
//! - Invitations: `carol@`, `dan@`, `erin@example.com` AVAILABLE (INVITED, not members);
//!   `mallory@example.com` REDEEMED: a former member, no longer in the org.
//! - CSP groups: `Platform-Admins`, `tap-developers`, `auditors`.
//! - TMC: clusters `dev-cluster-1`, `dev-cluster-2` (group `dev-group`), `prod-cluster-1`
//!   (group `prod-group`), all management cluster `attached`, provisioner `attached`; cluster
//!   groups `default`, `dev-group`, `prod-group`; workspaces `default`, `team-a`, `team-b`;
//!   namespaces `default`, `kube-system`, `team-a`, `team-b` on every cluster. Policies:
//!   - organization: `organization.admin` to GROUP `Platform-Admins`, `organization.view` to alice;
//!   - cluster group `dev-group`: `clustergroup.edit` to alice;
//!   - cluster group `prod-group`: `clustergroup.view` to GROUP `platform-admins` (the case trap:
//!     the real group is `Platform-Admins`);
//!   - cluster `dev-cluster-1`: `cluster.admin` to alice, `cluster.view` to bob;
//!   - namespace `team-a` of `dev-cluster-1`: `namespace.edit` to alice;
//!   - workspace `team-a`: `workspace.edit` to alice;
//!   - cluster `prod-cluster-1`: `cluster.edit` to mallory (a leftover of a removed member).
//! - TAP clusters `tap-dev`, `tap-staging`, `tap-prod`; namespaces `default`, `kube-system`,
//!   `dev-team`, `apps`; ClusterRoles `view`, `edit`, `admin`, `cluster-admin`, `app-editor`,
//!   `app-viewer`, `app-operator` and the system ones below. On every TAP cluster:
//!   - ClusterRoleBinding `app-editors` (ClusterRole `app-editor`): Users alice AND bob (shared);
//!   - ClusterRoleBinding `tap-developers` (ClusterRole `app-viewer`): Group `tap-developers`;
//!   - system bindings: `cluster-admin` (Group `system:masters`), `system:discovery`,
//!     `system:basic-user` (Group `system:authenticated`), `system:public-info-viewer`.
//!   - on `tap-dev` only: RoleBinding `alice-admin` in `dev-team` (ClusterRole `admin`), alice.
//!   - on `tap-prod` only: ClusterRoleBinding `legacy-admins` (ClusterRole `cluster-admin`),
//!     mallory only (a leftover).
//!
//! Kubernetes User subjects are email addresses, as Pinniped maps them.
//!
//! # `large`
//! The same people, policies and bindings with 10,000 members in total (9,997 generated) and 50
//! TAP clusters `tap-001` .. `tap-050`: `alice-admin` lives on `tap-001` (the `tap-dev` role),
//! `legacy-admins` on `tap-050` (the `tap-prod` role).
//!
//! # `empty`
//! Only the owner in CSP (no invitations, no groups); the TMC resources, roles and the three
//! TAP clusters with their namespaces, ClusterRoles and system bindings, and no user bindings.

use std::collections::{BTreeMap, HashMap, HashSet};

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::DataSet;
use super::state::{
    CspGroup, CspOrg, IdGen, Invitation, InvitationStatus, KubeCluster, Member, Policy,
    PolicyScope, TmcCluster, TmcNamespace, TmcObject, TmcOrg, TmcRoleBinding, TmcSubject, World,
};

pub const ORG_ID: &str = "7d2a1f4e-6b3c-4e8a-9f10-5a6b7c8d9e01";
pub const OWNER: &str = "owner@example.com";
pub const ALICE: &str = "alice@example.com";
pub const BOB: &str = "bob@example.com";
pub const MALLORY: &str = "mallory@example.com";
pub const INVITED: [&str; 3] = ["carol@example.com", "dan@example.com", "erin@example.com"];

const DEMO_MEMBERS: usize = 262;
const LARGE_MEMBERS: usize = 10_000;
const LARGE_TAP_CLUSTERS: usize = 50;

/// The names of the TAP clusters of a data set, in order.
pub fn tap_cluster_names(data: DataSet) -> Vec<String> {
    match data {
        DataSet::Demo | DataSet::Empty => ["tap-dev", "tap-staging", "tap-prod"]
            .map(String::from)
            .to_vec(),
        DataSet::Large => (1..=LARGE_TAP_CLUSTERS)
            .map(|i| format!("tap-{i:03}"))
            .collect(),
    }
}

pub fn build(data: DataSet) -> World {
    let mut ids = IdGen::new(0x7A4E_2026);
    let with_people = data != DataSet::Empty;
    let csp = build_csp(data, &mut ids);
    let tmc = build_tmc(with_people, &mut ids);
    let names = tap_cluster_names(data);
    let clusters = names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let role = match data {
                DataSet::Large if index == 0 => TapRole::Dev,
                DataSet::Large if index + 1 == names.len() => TapRole::Prod,
                DataSet::Large => TapRole::Other,
                _ => match name.as_str() {
                    "tap-dev" => TapRole::Dev,
                    "tap-prod" => TapRole::Prod,
                    _ => TapRole::Other,
                },
            };
            (name.clone(), build_tap_cluster(role, with_people, &mut ids))
        })
        .collect();
    World {
        org_id: ORG_ID.to_string(),
        csp,
        tmc,
        clusters,
        ids,
    }
}

/// The fixed moment the data set "was created"; objects are spaced after it.
fn epoch() -> Timestamp {
    Timestamp::from_second(1_735_689_600).unwrap_or(Timestamp::UNIX_EPOCH) // 2025-01-01
}

fn at_hour(hours: i64) -> Timestamp {
    epoch()
        .checked_add(SignedDuration::from_hours(hours))
        .unwrap_or_else(|_| epoch())
}

// ---------------------------------------------------------------------------------------------
// CSP

fn build_csp(data: DataSet, ids: &mut IdGen) -> CspOrg {
    let mut org = CspOrg::default();
    add_member(&mut org, OWNER, "Olivia", "Owner", "org_owner", ids);
    if data == DataSet::Empty {
        return org;
    }
    add_member(&mut org, ALICE, "Alice", "Anders", "org_member", ids);
    add_member(&mut org, BOB, "Bob", "Brown", "org_member", ids);
    let total = if data == DataSet::Large {
        LARGE_MEMBERS
    } else {
        DEMO_MEMBERS
    };
    for (first, last, email) in generated_people(total - org.members.len()) {
        add_member(&mut org, &email, &first, &last, "org_member", ids);
    }

    for (i, email) in INVITED.iter().enumerate() {
        org.invitations.push(Invitation {
            id: ids.uuid(),
            email: email.to_string(),
            org_roles: vec!["org_member".to_string()],
            status: InvitationStatus::Available,
            created: at_hour(1000 + i as i64),
        });
    }
    org.invitations.push(Invitation {
        id: ids.uuid(),
        email: MALLORY.to_string(),
        org_roles: vec!["org_member".to_string()],
        status: InvitationStatus::Redeemed,
        created: at_hour(10),
    });

    for (name, description) in [
        (
            "Platform-Admins",
            "Platform team: administers TMC and the TAP clusters",
        ),
        ("tap-developers", "Application developers on TAP"),
        ("auditors", "Read-only access for audits"),
    ] {
        org.groups.push(CspGroup {
            id: ids.uuid(),
            display_name: name.to_string(),
            description: description.to_string(),
        });
    }
    org
}

fn add_member(org: &mut CspOrg, email: &str, first: &str, last: &str, role: &str, ids: &mut IdGen) {
    let hour = org.members.len() as i64;
    org.members.push(Member {
        user_id: format!("example.com:{}", ids.uuid()),
        email: email.to_string(),
        first_name: first.to_string(),
        last_name: last.to_string(),
        org_roles: vec![role.to_string()],
        created: at_hour(hour),
    });
}

const FIRST_NAMES: [&str; 40] = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Priya",
    "Wei",
    "Fatima",
    "Mateo",
    "Yuki",
    "Olga",
    "Kwame",
    "Ingrid",
    "Rahul",
    "Sofia",
    "Lars",
    "Amara",
    "Diego",
    "Hana",
    "Omar",
    "Chloe",
    "Tomas",
    "Aisha",
    "Noah",
    "Elena",
];

const LAST_NAMES: [&str; 41] = [
    "Smith",
    "Johnson",
    "Williams",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Nguyen",
    "Patel",
    "Kim",
    "Chen",
    "Silva",
    "Novak",
    "Okafor",
    "Larsen",
    "Tanaka",
    "Schmidt",
    "Rossi",
];

/// `count` people with realistic names and unique `first.last@example.com` addresses.
fn generated_people(count: usize) -> Vec<(String, String, String)> {
    let mut seen = HashSet::with_capacity(count);
    let mut people = Vec::with_capacity(count);
    for i in 0..count {
        let first = FIRST_NAMES[i % FIRST_NAMES.len()];
        // 41 is prime and coprime with 40, so the first 1,640 pairs are all distinct.
        let last = LAST_NAMES[(i + i / FIRST_NAMES.len()) % LAST_NAMES.len()];
        let base = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
        let mut local = base.clone();
        let mut n = 1;
        while !seen.insert(local.clone()) {
            n += 1;
            local = format!("{base}{n}");
        }
        people.push((
            first.to_string(),
            last.to_string(),
            format!("{local}@example.com"),
        ));
    }
    people
}

// ---------------------------------------------------------------------------------------------
// TMC

/// A built-in TMC role and the resource types it can be bound on.
pub struct TmcRole {
    pub name: &'static str,
    pub resources: &'static [&'static str],
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

/// The built-in roles `GET /v1alpha1/iam/roles` serves and IAM policies accept.
pub const TMC_ROLES: &[TmcRole] = &[
    TmcRole {
        name: "organization.admin",
        resources: ORG_ONLY,
    },
    TmcRole {
        name: "organization.edit",
        resources: ORG_ONLY,
    },
    TmcRole {
        name: "organization.view",
        resources: ORG_ONLY,
    },
    TmcRole {
        name: "clustergroup.admin",
        resources: CLUSTER_GROUP_UP,
    },
    TmcRole {
        name: "clustergroup.edit",
        resources: CLUSTER_GROUP_UP,
    },
    TmcRole {
        name: "clustergroup.view",
        resources: CLUSTER_GROUP_UP,
    },
    TmcRole {
        name: "cluster.admin",
        resources: CLUSTER_UP,
    },
    TmcRole {
        name: "cluster.edit",
        resources: CLUSTER_UP,
    },
    TmcRole {
        name: "cluster.view",
        resources: CLUSTER_UP,
    },
    TmcRole {
        name: "namespace.admin",
        resources: NAMESPACE_UP,
    },
    TmcRole {
        name: "namespace.edit",
        resources: NAMESPACE_UP,
    },
    TmcRole {
        name: "namespace.view",
        resources: NAMESPACE_UP,
    },
    TmcRole {
        name: "workspace.admin",
        resources: WORKSPACE_UP,
    },
    TmcRole {
        name: "workspace.edit",
        resources: WORKSPACE_UP,
    },
    TmcRole {
        name: "workspace.view",
        resources: WORKSPACE_UP,
    },
];

pub const MANAGEMENT_CLUSTER: &str = "attached";
pub const PROVISIONER: &str = "attached";

fn build_tmc(with_people: bool, ids: &mut IdGen) -> TmcOrg {
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
                cluster: name.to_string(),
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
                PolicyScope::Cluster("dev-cluster-1".into()),
                "cluster.admin",
                user(ALICE),
            ),
            (
                PolicyScope::Cluster("dev-cluster-1".into()),
                "cluster.view",
                user(BOB),
            ),
            (
                PolicyScope::Namespace {
                    cluster: "dev-cluster-1".into(),
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
                PolicyScope::Cluster("prod-cluster-1".into()),
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

// ---------------------------------------------------------------------------------------------
// Kubernetes

/// Which of the demo's per-cluster extras a TAP cluster carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TapRole {
    /// Has the RoleBinding `alice-admin`.
    Dev,
    /// Has the leftover ClusterRoleBinding `legacy-admins`.
    Prod,
    Other,
}

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

fn build_tap_cluster(role: TapRole, with_people: bool, ids: &mut IdGen) -> KubeCluster {
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
