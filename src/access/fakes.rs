//! In-memory fakes of the three systems, for the domain's unit tests. They keep just enough
//! behaviour (pages, subject removal deleting an empty binding, failure injection) to test
//! the rules; the sandbox is what tests the wire.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::Systems;
use super::approval::{ApprovalRequest, Approver, Decision};
use super::audit::{AuditError, AuditRecord, AuditSink, Requester};
use super::change::execute::{Runner, execute, run_operation};
use super::change::locks::ChangeLocks;
use super::change::{ActionResult, Gate, NoProgress, PlannedAction};
use super::ports::*;

/// An approver for a client that cannot ask anyone: every approval fails closed.
pub struct CannotAsk;

#[async_trait]
impl Approver for CannotAsk {
    type Pending = ();
    async fn decide(&self, _: &ApprovalRequest<'_>) -> Decision<()> {
        Decision::CannotAsk("no human in a unit test".into())
    }
}

/// An audit sink that keeps nothing.
pub struct Discard;

impl AuditSink for Discard {
    fn record(&self, _: &AuditRecord<'_>) -> Result<(), AuditError> {
        Ok(())
    }
}

static CANNOT_ASK: CannotAsk = CannotAsk;
static DISCARD: Discard = Discard;
static NOBODY: Requester = Requester {
    client: String::new(),
    credential: None,
};
static LOCKS: std::sync::LazyLock<ChangeLocks> = std::sync::LazyLock::new(ChangeLocks::default);

/// A gate with nobody to ask and nothing recorded: for changes that need no approval.
pub fn no_human() -> Gate<'static, ()> {
    Gate {
        approver: &CANNOT_ASK,
        audit: &DISCARD,
        progress: &NoProgress,
        requester: &NOBODY,
        locks: &LOCKS,
    }
}

/// Run actions straight against the systems, in the lifecycle's order.
pub async fn run_directly(systems: &Systems, actions: &[PlannedAction]) -> Vec<ActionResult> {
    struct Direct<'a>(&'a Systems);
    #[async_trait]
    impl Runner for Direct<'_> {
        async fn run(&self, action: &PlannedAction) -> ActionResult {
            run_operation(self.0, action).await
        }
    }
    execute(actions, &Direct(systems)).await
}

#[derive(Default)]
pub struct World {
    pub members: Vec<Member>,
    pub invitations: Vec<Invitation>,
    pub groups: Vec<OrgGroup>,
    /// Group id to its members' user ids.
    pub group_members: BTreeMap<String, Vec<String>>,
    pub tmc_roles: Vec<String>,
    pub tmc: BTreeMap<TmcScopeKey, Vec<TmcRoleBinding>>,
    pub tap_clusters: Vec<String>,
    pub tap: Vec<RbacBinding>,
    /// Operations (by name) that fail with Unavailable.
    pub failing: Vec<String>,
    pub calls: Vec<String>,
}

pub type TmcScopeKey = TmcScope;

#[derive(Clone, Default)]
pub struct Fake(pub Arc<Mutex<World>>);

impl Fake {
    pub fn systems(&self) -> Systems {
        Systems {
            directory: Arc::new(self.clone()),
            tmc: Arc::new(self.clone()),
            rbac: Arc::new(self.clone()),
        }
    }

    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.0.lock().unwrap()
    }

    fn check(&self, op: &str, system: System) -> BackendResult<()> {
        let mut world = self.world();
        world.calls.push(op.to_string());
        if world.failing.iter().any(|f| f == op) {
            return Err(BackendError {
                system,
                operation: op.to_string(),
                kind: FailureKind::Unavailable,
                status: Some(503),
                message: "injected failure".into(),
                fix: String::new(),
            });
        }
        Ok(())
    }
}

pub fn member(n: usize, email: &str) -> Member {
    Member {
        user_id: format!("u{n}"),
        username: email.to_string(),
        email: email.to_string(),
        first_name: Some(format!("First{n}")),
        last_name: Some(format!("Last{n}")),
        org_roles: Some(vec!["org_member".into()]),
    }
}

#[async_trait]
impl Directory for Fake {
    async fn members_page(&self, start: usize, limit: usize) -> BackendResult<MemberPage> {
        self.check("members_page", System::Csp)?;
        let world = self.world();
        let members = world
            .members
            .iter()
            .skip(start)
            .take(limit.min(200))
            .cloned()
            .collect();
        Ok(MemberPage {
            members,
            total: world.members.len(),
        })
    }
    async fn find_member(&self, email: &str) -> BackendResult<Option<Member>> {
        self.check("find_member", System::Csp)?;
        Ok(self
            .world()
            .members
            .iter()
            .find(|m| m.email.eq_ignore_ascii_case(email))
            .cloned())
    }
    async fn invitations(&self) -> BackendResult<Vec<Invitation>> {
        self.check("invitations", System::Csp)?;
        Ok(self.world().invitations.clone())
    }
    async fn invite(&self, emails: &[String], org_role: &str) -> BackendResult<()> {
        self.check("invite", System::Csp)?;
        let mut world = self.world();
        for email in emails {
            let id = format!("inv-{}", world.invitations.len());
            world.invitations.push(Invitation {
                id,
                email: email.clone(),
                status: InvitationStatus::Available,
                org_roles: vec![org_role.to_string()],
            });
        }
        Ok(())
    }
    async fn revoke_invitation(&self, invitation_id: &str) -> BackendResult<()> {
        self.check("revoke_invitation", System::Csp)?;
        let mut world = self.world();
        for inv in world
            .invitations
            .iter_mut()
            .filter(|i| i.id == invitation_id)
        {
            inv.status = InvitationStatus::Revoked;
        }
        Ok(())
    }
    async fn remove_members(&self, user_ids: &[String]) -> BackendResult<RemovalOutcome> {
        self.check("remove_members", System::Csp)?;
        let mut world = self.world();
        world.members.retain(|m| !user_ids.contains(&m.user_id));
        Ok(RemovalOutcome {
            succeeded: user_ids.to_vec(),
            failed: vec![],
        })
    }
    async fn groups(&self) -> BackendResult<Vec<OrgGroup>> {
        self.check("groups", System::Csp)?;
        Ok(self.world().groups.clone())
    }
    async fn group_member_ids(&self, group_id: &str) -> BackendResult<Vec<String>> {
        self.check("group_member_ids", System::Csp)?;
        Ok(self
            .world()
            .group_members
            .get(group_id)
            .cloned()
            .unwrap_or_default())
    }
}

#[async_trait]
impl TmcIam for Fake {
    async fn clusters(&self) -> BackendResult<Vec<TmcCluster>> {
        self.check("clusters", System::Tmc)?;
        Ok(self
            .world()
            .tmc
            .keys()
            .filter_map(|scope| match scope {
                TmcScope::Cluster {
                    name,
                    management_cluster,
                    provisioner,
                } => Some(TmcCluster {
                    name: name.clone(),
                    management_cluster: management_cluster.clone(),
                    provisioner: provisioner.clone(),
                }),
                _ => None,
            })
            .collect())
    }
    async fn cluster_groups(&self) -> BackendResult<Vec<String>> {
        self.check("cluster_groups", System::Tmc)?;
        Ok(self
            .world()
            .tmc
            .keys()
            .filter_map(|s| match s {
                TmcScope::ClusterGroup { name } => Some(name.clone()),
                _ => None,
            })
            .collect())
    }
    async fn workspaces(&self) -> BackendResult<Vec<String>> {
        self.check("workspaces", System::Tmc)?;
        Ok(self
            .world()
            .tmc
            .keys()
            .filter_map(|s| match s {
                TmcScope::Workspace { name } => Some(name.clone()),
                _ => None,
            })
            .collect())
    }
    async fn namespaces(&self, cluster: &TmcCluster) -> BackendResult<Vec<String>> {
        self.check("namespaces", System::Tmc)?;
        Ok(self
            .world()
            .tmc
            .keys()
            .filter_map(|s| match s {
                TmcScope::Namespace {
                    cluster: c, name, ..
                } if *c == cluster.name => Some(name.clone()),
                _ => None,
            })
            .collect())
    }
    async fn roles(&self) -> BackendResult<Vec<String>> {
        self.check("roles", System::Tmc)?;
        Ok(self.world().tmc_roles.clone())
    }
    async fn policy(&self, scope: &TmcScope) -> BackendResult<Vec<TmcRoleBinding>> {
        self.check("policy", System::Tmc)?;
        match self.world().tmc.get(scope) {
            Some(bindings) => Ok(bindings.clone()),
            None if *scope == TmcScope::Organization => Ok(vec![]),
            None => Err(BackendError {
                system: System::Tmc,
                operation: format!("get IAM policy of {scope}"),
                kind: FailureKind::NotFound,
                status: Some(404),
                message: "not found".into(),
                fix: String::new(),
            }),
        }
    }
    async fn add_binding(
        &self,
        scope: &TmcScope,
        role: &str,
        subject: &Subject,
    ) -> BackendResult<()> {
        self.check("add_binding", System::Tmc)?;
        let mut world = self.world();
        let bindings = world.tmc.entry(scope.clone()).or_default();
        match bindings.iter_mut().find(|b| b.role == role) {
            Some(b) => b.subjects.push(subject.clone()),
            None => bindings.push(TmcRoleBinding {
                role: role.to_string(),
                subjects: vec![subject.clone()],
            }),
        }
        Ok(())
    }
    async fn remove_binding(
        &self,
        scope: &TmcScope,
        role: &str,
        subject: &Subject,
    ) -> BackendResult<()> {
        self.check("remove_binding", System::Tmc)?;
        let mut world = self.world();
        if let Some(bindings) = world.tmc.get_mut(scope) {
            for b in bindings.iter_mut().filter(|b| b.role == role) {
                b.subjects.retain(|s| s != subject);
            }
            bindings.retain(|b| !b.subjects.is_empty());
        }
        Ok(())
    }
    async fn move_binding(
        &self,
        scope: &TmcScope,
        subject: &Subject,
        from_role: &str,
        to_role: &str,
    ) -> BackendResult<()> {
        // All or nothing, as TMC applies one PATCH.
        self.check("move_binding", System::Tmc)?;
        let mut world = self.world();
        let bindings = world.tmc.entry(scope.clone()).or_default();
        match bindings.iter_mut().find(|b| b.role == to_role) {
            Some(b) => b.subjects.push(subject.clone()),
            None => bindings.push(TmcRoleBinding {
                role: to_role.to_string(),
                subjects: vec![subject.clone()],
            }),
        }
        for b in bindings.iter_mut().filter(|b| b.role == from_role) {
            b.subjects.retain(|s| s != subject);
        }
        bindings.retain(|b| !b.subjects.is_empty());
        Ok(())
    }
}

#[async_trait]
impl ClusterRbac for Fake {
    fn clusters(&self) -> Vec<String> {
        self.world().tap_clusters.clone()
    }
    async fn bindings(&self, cluster: &str) -> BackendResult<Vec<RbacBinding>> {
        self.check(&format!("bindings:{cluster}"), System::Kubernetes)?;
        Ok(self
            .world()
            .tap
            .iter()
            .filter(|b| b.cluster == cluster)
            .cloned()
            .collect())
    }
    async fn cluster_roles(&self, _cluster: &str) -> BackendResult<Vec<String>> {
        Ok(vec!["view".into(), "edit".into(), "app-editor".into()])
    }
    async fn cluster_role_rules(
        &self,
        _cluster: &str,
        name: &str,
    ) -> BackendResult<Vec<PolicyRule>> {
        let verbs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        Ok(vec![PolicyRule {
            api_groups: vec!["".into()],
            resources: vec!["pods".into()],
            verbs: if name == "view" {
                verbs(&["get", "list"])
            } else {
                verbs(&["get", "list", "update"])
            },
        }])
    }
    async fn namespaces(&self, _cluster: &str) -> BackendResult<Vec<String>> {
        Ok(vec!["default".into(), "dev-team".into()])
    }
    async fn create_binding(&self, new: NewBinding<'_>) -> BackendResult<()> {
        self.check("create_binding", System::Kubernetes)?;
        let mut world = self.world();
        let taken = world.tap.iter().any(|b| {
            b.cluster == new.cluster
                && b.namespace.as_deref() == new.namespace
                && b.name == new.name
        });
        if taken {
            return Err(BackendError {
                system: System::Kubernetes,
                operation: format!("create binding {}", new.name),
                kind: FailureKind::Conflict,
                status: Some(409),
                message: "already exists".into(),
                fix: String::new(),
            });
        }
        world.tap.push(RbacBinding {
            cluster: new.cluster.to_string(),
            namespace: new.namespace.map(str::to_string),
            name: new.name.to_string(),
            role_kind: RoleKind::ClusterRole,
            role_name: new.role.to_string(),
            subjects: new.subjects.to_vec(),
        });
        Ok(())
    }
    async fn remove_subject(
        &self,
        binding: BindingRef<'_>,
        subject: &Subject,
    ) -> BackendResult<SubjectRemoval> {
        let BindingRef {
            cluster,
            namespace,
            name,
        } = binding;
        self.check(&format!("remove_subject:{cluster}"), System::Kubernetes)?;
        let mut world = self.world();
        let Some(index) = world.tap.iter().position(|b| {
            b.cluster == cluster && b.namespace.as_deref() == namespace && b.name == name
        }) else {
            return Ok(SubjectRemoval::AlreadyAbsent);
        };
        let binding = &mut world.tap[index];
        let before = binding.subjects.len();
        binding.subjects.retain(|s| s != subject);
        if binding.subjects.len() == before {
            return Ok(SubjectRemoval::AlreadyAbsent);
        }
        if binding.subjects.is_empty() {
            world.tap.remove(index);
            return Ok(SubjectRemoval::Deleted);
        }
        Ok(SubjectRemoval::Updated)
    }
}

/// A small org: alice (TMC at two scopes, a TAP binding shared with bob and one of her own),
/// bob, carol invited, mallory removed with a leftover, a group with a case near-miss.
pub fn small_world() -> Fake {
    let fake = Fake::default();
    {
        let mut w = fake.world();
        w.members = vec![
            member(0, "owner@example.com"),
            member(1, "alice@example.com"),
            member(2, "bob@example.com"),
        ];
        for n in 3..260 {
            w.members
                .push(member(n, &format!("user{n:03}@example.com")));
        }
        w.invitations = vec![Invitation {
            id: "inv-carol".into(),
            email: "carol@example.com".into(),
            status: InvitationStatus::Available,
            org_roles: vec!["org_member".into()],
        }];
        w.groups = vec![OrgGroup {
            id: "g1".into(),
            display_name: "Platform-Admins".into(),
        }];
        w.tmc_roles = vec![
            "cluster.admin".into(),
            "cluster.view".into(),
            "organization.view".into(),
        ];
        let dev = TmcScope::Cluster {
            name: "dev".into(),
            management_cluster: "attached".into(),
            provisioner: "attached".into(),
        };
        w.tmc.insert(
            TmcScope::Organization,
            vec![
                TmcRoleBinding {
                    role: "organization.view".into(),
                    subjects: vec![Subject::user("alice@example.com")],
                },
                TmcRoleBinding {
                    role: "organization.admin".into(),
                    subjects: vec![Subject::group("platform-admins")],
                },
            ],
        );
        w.tmc.insert(
            dev,
            vec![TmcRoleBinding {
                role: "cluster.admin".into(),
                subjects: vec![
                    Subject::user("Alice@example.com"),
                    Subject::user("mallory@example.com"),
                ],
            }],
        );
        w.tap_clusters = vec!["tap-a".into(), "tap-b".into()];
        for cluster in ["tap-a", "tap-b"] {
            w.tap.push(RbacBinding {
                cluster: cluster.into(),
                namespace: None,
                name: "app-editors".into(),
                role_kind: RoleKind::ClusterRole,
                role_name: "app-editor".into(),
                subjects: vec![
                    Subject::user("alice@example.com"),
                    Subject::user("bob@example.com"),
                ],
            });
        }
        w.tap.push(RbacBinding {
            cluster: "tap-a".into(),
            namespace: Some("dev-team".into()),
            name: "alice-admin".into(),
            role_kind: RoleKind::ClusterRole,
            role_name: "admin".into(),
            subjects: vec![Subject::user("alice@example.com")],
        });
    }
    fake
}
