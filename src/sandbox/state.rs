//! The simulator's state: one `World` (what CSP, TMC and the TAP clusters hold) behind a lock,
//! plus what belongs to the running sandbox rather than to the data (secrets, access tokens,
//! injected faults, request statistics).
//!
//! The lock is a std `Mutex`: every handler takes it for a few microseconds and never across an
//! `.await`, so an async lock would only add cost (the reasoning of mini-redis' `Db`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
use k8s_openapi::jiff::Timestamp;

use super::DataSet;
use super::auth::TokenStore;
use super::faults::{FaultRules, Stats};

/// The handle every handler gets: cheap to clone, shared by all connections.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

struct Shared {
    world: Mutex<World>,
    data: DataSet,
    secrets: Secrets,
    tokens: TokenStore,
    faults: FaultRules,
    stats: Stats,
}

/// Credentials of this sandbox instance. They live as long as the process, survive
/// `/_sandbox/reset`, and are random so that two sandboxes never accept each other's tokens.
pub struct Secrets {
    /// The CSP API token that `write_config` puts in `api-token`: an org owner's.
    pub api_token: String,
    /// The API token of a plain org member (tests of what CSP hides from members).
    pub member_api_token: String,
    /// The bearer token of the kubeconfig user of every TAP cluster.
    pub k8s_token: String,
}

impl AppState {
    pub fn new(data: DataSet, token_ttl: Duration) -> AppState {
        AppState {
            inner: Arc::new(Shared {
                world: Mutex::new(World::build(data)),
                data,
                secrets: Secrets {
                    api_token: random_token(),
                    member_api_token: random_token(),
                    k8s_token: random_token(),
                },
                tokens: TokenStore::new(token_ttl),
                faults: FaultRules::default(),
                stats: Stats::default(),
            }),
        }
    }

    /// Lock the world. A panic in another handler poisons the lock; the data is plain values
    /// that stay consistent between statements, so carrying on is safe.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.inner
            .world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Back to the initial data set. Issued access tokens stay valid: a reset changes data,
    /// not who is logged in.
    pub fn reset(&self) {
        *self.world() = World::build(self.inner.data);
        self.inner.faults.clear();
    }

    pub fn secrets(&self) -> &Secrets {
        &self.inner.secrets
    }

    pub fn tokens(&self) -> &TokenStore {
        &self.inner.tokens
    }

    pub fn faults(&self) -> &FaultRules {
        &self.inner.faults
    }

    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }
}

fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything the three systems hold. Rebuilt from a data set on start and on reset.
pub struct World {
    pub org_id: String,
    pub csp: CspOrg,
    pub tmc: TmcOrg,
    /// TAP clusters by name.
    pub clusters: BTreeMap<String, KubeCluster>,
    pub ids: IdGen,
}

impl World {
    pub fn build(data: DataSet) -> World {
        super::data::build(data)
    }
}

// ---------------------------------------------------------------------------------------------
// CSP

/// One CSP organization: members in listing order, invitations, groups.
#[derive(Default)]
pub struct CspOrg {
    pub members: Vec<Member>,
    pub invitations: Vec<Invitation>,
    pub groups: Vec<CspGroup>,
}

impl CspOrg {
    pub fn member_by_email(&self, email: &str) -> Option<&Member> {
        self.members
            .iter()
            .find(|m| m.email.eq_ignore_ascii_case(email))
    }

    pub fn is_active_member(&self, email: &str) -> bool {
        self.member_by_email(email).is_some()
    }

    pub fn pending_invitation(&self, email: &str) -> Option<&Invitation> {
        self.invitations.iter().find(|i| {
            i.status == InvitationStatus::Available && i.email.eq_ignore_ascii_case(email)
        })
    }
}

pub struct Member {
    /// `<domain>:<uuid>`, the format CSP uses (and the salt module's examples show).
    pub user_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub org_roles: Vec<String>,
    pub created: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvitationStatus {
    Available,
    Redeemed,
    Revoked,
}

pub struct Invitation {
    pub id: String,
    pub email: String,
    pub org_roles: Vec<String>,
    pub status: InvitationStatus,
    pub created: Timestamp,
}

pub struct CspGroup {
    pub id: String,
    pub display_name: String,
    pub description: String,
    /// Emails of the members in the group.
    pub members: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// TMC

/// What one TMC organization holds: the resources IAM policies attach to, and the policies.
#[derive(Default)]
pub struct TmcOrg {
    pub clusters: Vec<TmcCluster>,
    pub cluster_groups: Vec<TmcObject>,
    pub workspaces: Vec<TmcObject>,
    pub namespaces: Vec<TmcNamespace>,
    pub policies: HashMap<PolicyScope, Policy>,
}

pub struct TmcObject {
    pub name: String,
    pub uid: String,
    pub created: Timestamp,
}

pub struct TmcCluster {
    pub object: TmcObject,
    pub management_cluster: String,
    pub provisioner: String,
    pub cluster_group: String,
}

impl TmcCluster {
    pub fn key(&self) -> ClusterKey {
        ClusterKey {
            management_cluster: self.management_cluster.clone(),
            provisioner: self.provisioner.clone(),
            name: self.object.name.clone(),
        }
    }
}

/// A cluster's full name. A TMC cluster name is unique only within one management cluster and
/// provisioner, so everything keyed by cluster (policies, namespaces) uses all three.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClusterKey {
    pub management_cluster: String,
    pub provisioner: String,
    pub name: String,
}

pub struct TmcNamespace {
    pub object: TmcObject,
    pub cluster: ClusterKey,
    pub workspace: String,
}

/// The resource an IAM policy belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyScope {
    Organization,
    ClusterGroup(String),
    Cluster(ClusterKey),
    Namespace { cluster: ClusterKey, name: String },
    Workspace(String),
}

impl PolicyScope {
    /// The TMC permission resource type (`vmware.tanzu.manage.v1alpha1.iam.permission.Resource`).
    pub fn resource_type(&self) -> &'static str {
        match self {
            PolicyScope::Organization => "ORGANIZATION",
            PolicyScope::ClusterGroup(_) => "CLUSTER_GROUP",
            PolicyScope::Cluster(_) => "CLUSTER",
            PolicyScope::Namespace { .. } => "NAMESPACE",
            PolicyScope::Workspace(_) => "WORKSPACE",
        }
    }
}

#[derive(Clone)]
pub struct Policy {
    pub uid: String,
    pub resource_version: u64,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub role_bindings: Vec<TmcRoleBinding>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TmcRoleBinding {
    pub role: String,
    #[serde(default)]
    pub subjects: Vec<TmcSubject>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TmcSubject {
    pub name: String,
    pub kind: String,
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

/// One TAP cluster's API server state, kept as the real API types so the JSON is exact.
/// BTreeMaps give a stable order, which `continue` tokens rely on.
pub struct KubeCluster {
    pub namespaces: BTreeMap<String, Namespace>,
    pub cluster_roles: BTreeMap<String, ClusterRole>,
    pub cluster_role_bindings: BTreeMap<String, ClusterRoleBinding>,
    /// Keyed by `namespace/name` (neither may contain a slash), so one namespace is one
    /// contiguous range and the key doubles as the `continue` position.
    pub role_bindings: BTreeMap<String, RoleBinding>,
    /// The etcd revision: bumped on every write, stamped on the object written.
    pub revision: u64,
}

impl KubeCluster {
    pub fn role_binding_key(namespace: &str, name: &str) -> String {
        format!("{namespace}/{name}")
    }

    pub fn next_revision(&mut self) -> String {
        self.revision += 1;
        self.revision.to_string()
    }
}

// ---------------------------------------------------------------------------------------------

/// Deterministic ids: the same data set always gets the same user ids and uids, so test output
/// and demos are reproducible. (SplitMix64 over a counter; quality is irrelevant here.)
pub struct IdGen {
    state: u64,
}

impl IdGen {
    pub fn new(seed: u64) -> IdGen {
        IdGen { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A version-4-shaped UUID.
    pub fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }
}
