//! The data sets, deterministic: the same data set always yields the same names, ids and
//! bindings. Other tests depend on these exact names; change them only with everyone.
//!
//! # `demo` (the default)
//! - CSP org `7d2a1f4e-6b3c-4e8a-9f10-5a6b7c8d9e01`, 262 ACTIVE members (two 200-member pages):
//!   - `owner@example.com` (Olivia Owner), `org_owner`, the only owner; listed first.
//!   - `alice@example.com` (Alice Anders) and `bob@example.com` (Bob Brown), `org_member`.
//!   - 259 generated `org_member`s with distinct `first.last@example.com` addresses (in `large`,
//!     a name pair used again gets a number: `james.smith2@example.com`).
//! - Invitations: `carol@`, `dan@`, `erin@example.com` AVAILABLE (INVITED, not members);
//!   `mallory@example.com` REDEEMED: a former member, no longer in the org.
//! - CSP groups: `Platform-Admins` (owner), `tap-developers` (alice, bob), `auditors` (nobody).
//! - TMC: clusters `dev-cluster-1`, `dev-cluster-2` (group `dev-group`), `prod-cluster-1`
//!   (group `prod-group`), all management cluster `attached`, provisioner `attached`; cluster
//!   groups `default`, `dev-group`, `prod-group`; workspaces `default`, `team-a`, `team-b`;
//!   namespaces `default`, `kube-system`, `team-a`, `team-b` on every cluster; the built-in roles
//!   and the custom role `app-deployer` (clusters and namespaces). Policies:
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
//! TMC also has two clusters named `edge-cluster`: one attached (`attached`/`attached`), one
//! under management cluster `aks-mgmt`, provisioner `aks` (a name alone does not say which).
//! Each has its own IAM policy, keyed by its full name (management cluster, provisioner, name).
//!
//! # `empty`
//! Only the owner in CSP (no invitations, no groups); the TMC resources, roles and the three
//! TAP clusters with their namespaces, ClusterRoles and system bindings, and no user bindings.

//!
//! Layout: [`csp`], [`tmc`] and [`k8s`] build each system's part; this module ties them into
//! one [`World`] per data set.

mod csp;
mod k8s;
mod tmc;

use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::DataSet;
use super::state::{IdGen, World};
use csp::build_csp;
pub use k8s::cluster_role_ref;
use k8s::{TapRole, build_tap_cluster};
use tmc::build_tmc;
pub use tmc::{CUSTOM_ROLE, MANAGEMENT_CLUSTER, PROVISIONER, TMC_ROLES, TmcRole};

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
    let mut tmc = build_tmc(with_people, &mut ids);
    if data == DataSet::Large {
        tmc::add_twin_clusters(&mut tmc);
    }
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
