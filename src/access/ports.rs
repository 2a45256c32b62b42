//! The three systems as the access domain sees them: small traits and plain types.
//!
//! The domain never sees HTTP, JSON wire shapes or tokens. `crate::clients` implements these
//! traits against the real APIs (and so against the sandbox); domain tests use in-memory fakes.
//! Every method is one logical operation; paging, retries and token refresh live below it.

use std::fmt;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which system a call went to. Named in every error so the human knows where to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum System {
    #[serde(rename = "CSP")]
    Csp,
    #[serde(rename = "TMC")]
    Tmc,
    #[serde(rename = "Kubernetes")]
    Kubernetes,
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            System::Csp => "CSP",
            System::Tmc => "TMC",
            System::Kubernetes => "Kubernetes",
        })
    }
}

/// What went wrong, coarsely, so callers can branch without reading messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The credentials were refused (bad, revoked or expired API token; 401).
    Unauthenticated,
    /// The credentials lack a permission (403).
    Forbidden,
    NotFound,
    /// Already exists, or a write lost a race (409).
    Conflict,
    /// The request was refused as invalid (400, 422): fix the input, do not retry.
    Invalid,
    /// 429 after the retries ran out.
    RateLimited,
    /// 5xx, connection refused or a timeout after the retries ran out.
    Unavailable,
    /// The outcome of a write is unknown (its answer was lost); read state before retrying.
    Unknown,
    /// The local configuration is wrong (missing key, bad URL, unreadable kubeconfig).
    Configuration,
}

/// A failed call to one of the systems. `Display` reads as one sentence for a human:
/// "TMC: add binding on cluster 'dev': 403 Forbidden: ...; fix: give the API token ...".
/// Never carries a secret.
#[derive(Debug, Clone, thiserror::Error, Serialize, Deserialize)]
#[error("{system}: {operation}: {message}{}", fix_suffix(.fix))]
pub struct BackendError {
    pub system: System,
    /// The logical call, with its target: "list members", "get IAM policy of cluster 'dev'".
    pub operation: String,
    pub kind: FailureKind,
    /// HTTP status when there was one.
    pub status: Option<u16>,
    /// What the server (or the transport) said, redacted.
    pub message: String,
    /// What a human should do about it; empty when nothing but a retry helps.
    pub fix: String,
}

fn fix_suffix(fix: &str) -> String {
    if fix.is_empty() {
        String::new()
    } else {
        format!("; fix: {fix}")
    }
}

pub type BackendResult<T> = Result<T, BackendError>;

// ---------------------------------------------------------------------------------------------
// CSP: the org directory
// ---------------------------------------------------------------------------------------------

/// An ACTIVE member of the CSP org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: String,
    pub username: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Organization role names, such as `org_owner` or `org_member`; `None` when CSP did not
    /// show them: the v2 listing and the user search show other members' roles only to org
    /// owners and admins (Broadcom `tcsp-account-management`), so a plain member's token sees
    /// none. Every member holds at least one org role, so an empty list means the same.
    pub org_roles: Option<Vec<String>>,
}

/// One page of members, in the directory's own order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberPage {
    pub members: Vec<Member>,
    /// Total number of members in the org, as the directory reports it.
    pub total: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvitationStatus {
    /// Sent and not yet accepted: the person is INVITED.
    Available,
    /// Accepted: the person is (or was) a member.
    Redeemed,
    Revoked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub status: InvitationStatus,
    pub org_roles: Vec<String>,
}

/// A CSP org group: the names that TMC and Kubernetes GROUP subjects must match exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgGroup {
    pub id: String,
    pub display_name: String,
}

/// Result of removing members: CSP answers per id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemovalOutcome {
    pub succeeded: Vec<String>,
    /// `(user_id, reason)` for each id CSP refused.
    pub failed: Vec<(String, String)>,
}

/// The largest page of members a [`Directory`] serves in one call (CSP's `pageLimit` cap).
pub const MAX_MEMBERS_PAGE: usize = 200;

#[async_trait]
pub trait Directory: Send + Sync {
    /// Members `[start, start + limit)` (0-based) in the directory's order; `limit` at most
    /// [`MAX_MEMBERS_PAGE`].
    async fn members_page(&self, start: usize, limit: usize) -> BackendResult<MemberPage>;

    /// The member with this email (case-insensitive), following every page.
    async fn find_member(&self, email: &str) -> BackendResult<Option<Member>>;

    /// Every invitation of the org, in any status.
    async fn invitations(&self) -> BackendResult<Vec<Invitation>>;

    /// Invite these emails with one org role. CSP answers 202 with no body.
    async fn invite(&self, emails: &[String], org_role: &str) -> BackendResult<()>;

    /// Revoke one invitation by id.
    async fn revoke_invitation(&self, invitation_id: &str) -> BackendResult<()>;

    /// Remove members by user id; the client batches (CSP takes at most 20 a call).
    async fn remove_members(&self, user_ids: &[String]) -> BackendResult<RemovalOutcome>;

    /// Every org group.
    async fn groups(&self) -> BackendResult<Vec<OrgGroup>>;

    /// The user ids of one group's members (`OrgGroup::id`), nested groups' included.
    async fn group_member_ids(&self, group_id: &str) -> BackendResult<Vec<String>>;
}

// ---------------------------------------------------------------------------------------------
// TMC: IAM policies per resource
// ---------------------------------------------------------------------------------------------

/// The kinds of subject that appear in TMC and Kubernetes bindings.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubjectKind {
    User,
    Group,
    /// TMC `SERVICEACCOUNT` / `K8S_SERVICEACCOUNT`, Kubernetes `ServiceAccount`.
    ServiceAccount,
}

#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct Subject {
    /// USER, GROUP or SERVICE_ACCOUNT.
    pub kind: SubjectKind,
    /// The user's email (or username), the group's exact name, or the service account's name.
    pub name: String,
    /// Kubernetes ServiceAccount subjects carry a namespace; nothing else does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl Subject {
    pub fn user(name: impl Into<String>) -> Self {
        Subject {
            kind: SubjectKind::User,
            name: name.into(),
            namespace: None,
        }
    }
    pub fn group(name: impl Into<String>) -> Self {
        Subject {
            kind: SubjectKind::Group,
            name: name.into(),
            namespace: None,
        }
    }
}

/// A TMC resource that carries an IAM policy.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TmcScope {
    /// The whole TMC organization.
    Organization,
    /// A cluster group, by name.
    ClusterGroup {
        /// Cluster group name.
        name: String,
    },
    /// A cluster, identified by its name, management cluster and provisioner.
    Cluster {
        /// Cluster name.
        name: String,
        /// Management cluster name (`attached` for attached clusters).
        management_cluster: String,
        /// Provisioner name (`attached` for attached clusters).
        provisioner: String,
    },
    /// A namespace of a cluster.
    Namespace {
        /// Cluster name.
        cluster: String,
        /// Namespace name.
        name: String,
        /// Management cluster name of the cluster.
        management_cluster: String,
        /// Provisioner name of the cluster.
        provisioner: String,
    },
    /// A workspace, by name.
    Workspace {
        /// Workspace name.
        name: String,
    },
}

impl fmt::Display for TmcScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TmcScope::Organization => f.write_str("organization"),
            TmcScope::ClusterGroup { name } => write!(f, "cluster group '{name}'"),
            TmcScope::Cluster { name, .. } => write!(f, "cluster '{name}'"),
            TmcScope::Namespace { cluster, name, .. } => {
                write!(f, "namespace '{name}' of cluster '{cluster}'")
            }
            TmcScope::Workspace { name } => write!(f, "workspace '{name}'"),
        }
    }
}

/// One role of a policy and the subjects bound to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmcRoleBinding {
    pub role: String,
    pub subjects: Vec<Subject>,
}

/// A TMC cluster, with the two names that, with its own, identify it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TmcCluster {
    pub name: String,
    pub management_cluster: String,
    pub provisioner: String,
}

#[async_trait]
pub trait TmcIam: Send + Sync {
    async fn clusters(&self) -> BackendResult<Vec<TmcCluster>>;
    async fn cluster_groups(&self) -> BackendResult<Vec<String>>;
    async fn workspaces(&self) -> BackendResult<Vec<String>>;
    async fn namespaces(&self, cluster: &TmcCluster) -> BackendResult<Vec<String>>;

    /// Role names TMC knows (built-in and custom), for validating `bind_role`.
    async fn roles(&self) -> BackendResult<Vec<String>>;

    /// The bindings of the policy attached directly to `scope` (inherited policies left out).
    /// A resource with no policy yet has no bindings; an unknown resource is `NotFound`.
    async fn policy(&self, scope: &TmcScope) -> BackendResult<Vec<TmcRoleBinding>>;

    /// Add one subject to one role at `scope` (a PATCH `ADD` delta).
    async fn add_binding(
        &self,
        scope: &TmcScope,
        role: &str,
        subject: &Subject,
    ) -> BackendResult<()>;

    /// Remove one subject from one role at `scope` (a PATCH `DELETE` delta).
    async fn remove_binding(
        &self,
        scope: &TmcScope,
        role: &str,
        subject: &Subject,
    ) -> BackendResult<()>;

    /// Move one subject from `from_role` to `to_role` at `scope` in one PATCH: an `ADD` delta
    /// then a `DELETE` delta, applied together, so the subject never holds neither role.
    async fn move_binding(
        &self,
        scope: &TmcScope,
        subject: &Subject,
        from_role: &str,
        to_role: &str,
    ) -> BackendResult<()>;
}

// ---------------------------------------------------------------------------------------------
// Kubernetes RBAC on TAP clusters
// ---------------------------------------------------------------------------------------------

/// A ClusterRoleBinding (no namespace) or a RoleBinding (in a namespace) on one TAP cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RbacBinding {
    pub cluster: String,
    /// `None` for a ClusterRoleBinding.
    pub namespace: Option<String>,
    pub name: String,
    pub role_kind: RoleKind,
    pub role_name: String,
    pub subjects: Vec<Subject>,
}

/// What a Kubernetes binding's `roleRef` points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum RoleKind {
    ClusterRole,
    /// A namespaced Role (only RoleBindings point at one).
    Role,
}

impl RoleKind {
    /// The `roleRef.kind` Kubernetes uses; it admits only these two.
    pub fn from_k8s(kind: &str) -> Self {
        if kind == "ClusterRole" {
            RoleKind::ClusterRole
        } else {
            RoleKind::Role
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::ClusterRole => "ClusterRole",
            RoleKind::Role => "Role",
        }
    }
}

impl fmt::Display for RoleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One Kubernetes binding on a TAP cluster: a ClusterRoleBinding (`namespace: None`) or a
/// RoleBinding.
#[derive(Debug, Clone, Copy)]
pub struct BindingRef<'a> {
    pub cluster: &'a str,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
}

/// A binding to create on a TAP cluster: a ClusterRoleBinding (`namespace: None`) or a
/// RoleBinding, binding `subjects` to ClusterRole `role`.
#[derive(Debug, Clone, Copy)]
pub struct NewBinding<'a> {
    pub cluster: &'a str,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
    pub role: &'a str,
    pub subjects: &'a [Subject],
}

/// One rule of a ClusterRole: what it lets a subject do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyRule {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
}

/// What removing one subject from a binding did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectRemoval {
    /// Other subjects remain; the binding was updated.
    Updated,
    /// The subject was the last one; the binding was deleted.
    Deleted,
    /// The subject (or the binding) was already gone.
    AlreadyAbsent,
}

#[async_trait]
pub trait ClusterRbac: Send + Sync {
    /// The configured TAP clusters, by name, in configuration order.
    fn clusters(&self) -> Vec<String>;

    /// Every ClusterRoleBinding and every RoleBinding in every namespace, all pages.
    async fn bindings(&self, cluster: &str) -> BackendResult<Vec<RbacBinding>>;

    /// ClusterRole names on the cluster.
    async fn cluster_roles(&self, cluster: &str) -> BackendResult<Vec<String>>;

    /// The rules of one ClusterRole (the write policy reads them rather than trust a name).
    async fn cluster_role_rules(&self, cluster: &str, name: &str)
    -> BackendResult<Vec<PolicyRule>>;

    /// Namespace names on the cluster.
    async fn namespaces(&self, cluster: &str) -> BackendResult<Vec<String>>;

    /// Create a binding; an existing binding of that name is `Conflict`.
    async fn create_binding(&self, binding: NewBinding<'_>) -> BackendResult<()>;

    /// Remove one subject from a binding: update it (with its resourceVersion, retrying on
    /// Conflict) while other subjects remain, delete it when none would.
    async fn remove_subject(
        &self,
        binding: BindingRef<'_>,
        subject: &Subject,
    ) -> BackendResult<SubjectRemoval>;
}
