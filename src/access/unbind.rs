//! Removing one subject from one role at one scope (`unbind_role`): on TMC a `DELETE` delta, on
//! a TAP cluster the subject leaves each binding of that ClusterRole there (the binding is
//! deleted when nobody would remain; other subjects keep theirs).
//!
//! A user need not be a member any more: removing what a CSP removal left behind is the point.
//! Kubernetes built-in and wildcard subjects are never touched, as the write policy says.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Serialize;

use super::Systems;
use super::bind::Grantee;
use super::change::{About, Change, ChangePlan, Operation, Step, plan::count};
use super::error::{AccessError, AccessResult};
use super::identity::{Identity, normalize_email};
use super::policy::{Class, WritePolicy};
use super::ports::{FailureKind, RbacBinding, RoleKind, Subject, SubjectKind, TmcRoleBinding};
use super::scope::BindTarget;
use super::validate::{self, NameRule};

/// Who is meant, and which binding subjects name them.
#[derive(Debug, Clone)]
pub struct Holder {
    /// The subject as a new binding would name it.
    pub subject: Subject,
    /// For a user: every name they may appear under; `None` for a group (exact name).
    identity: Option<Identity>,
    /// Whether the user is an ACTIVE member (always true for a group).
    pub active: bool,
}

impl Holder {
    /// Whether `subject` names this user or group.
    pub fn is(&self, subject: &Subject) -> bool {
        match &self.identity {
            Some(identity) => identity.is(subject),
            None => subject.kind == SubjectKind::Group && subject.name == self.subject.name,
        }
    }

    /// The subjects of TMC role `role` that name this holder, as TMC stores them.
    pub fn in_tmc(&self, policy: &[TmcRoleBinding], role: &str) -> Vec<Subject> {
        policy
            .iter()
            .filter(|b| b.role == role)
            .flat_map(|b| b.subjects.iter().filter(|s| self.is(s)).cloned())
            .collect()
    }

    /// The bindings at `namespace` (None: ClusterRoleBindings) of ClusterRole `role` naming this
    /// holder, each with the subject as it is stored there.
    pub fn in_tap<'a>(
        &self,
        bindings: &'a [RbacBinding],
        namespace: &Option<String>,
        role: &str,
    ) -> Vec<(&'a RbacBinding, Subject)> {
        bindings
            .iter()
            .filter(|b| {
                b.namespace == *namespace
                    && b.role_kind == RoleKind::ClusterRole
                    && b.role_name == role
            })
            .filter_map(|b| {
                b.subjects
                    .iter()
                    .find(|s| self.is(s))
                    .map(|s| (b, s.clone()))
            })
            .collect()
    }
}

/// Read who `grantee` is: a user by email (member or not), a group by its exact name.
/// Kubernetes built-in and wildcard subjects are refused.
pub async fn holder(
    systems: &Systems,
    grantee: &Grantee,
    policy: &WritePolicy,
    target: &BindTarget,
) -> AccessResult<Holder> {
    let holder = match grantee {
        Grantee::User(raw) => {
            let email = normalize_email(raw)?;
            let member = systems.directory.find_member(&email).await?;
            Holder {
                subject: Subject::user(email.clone()),
                active: member.is_some(),
                identity: Some(Identity::new(email, member.as_ref())),
            }
        }
        Grantee::Group(raw) => Holder {
            subject: Subject::group(validate::name("group", raw, NameRule::Group)?),
            identity: None,
            active: true,
        },
    };
    // Only the subject is judged here: a grant's role is judged where one is made.
    if let Class::Forbidden(reason) =
        policy.classify_grant(&holder.subject, "role", target, Some(&[]))
    {
        return Err(AccessError::refused(
            format!("{reason}; tanzu-mcp never changes such bindings"),
            "name a user or group; manage built-in subjects with kubectl",
        ));
    }
    Ok(holder)
}

/// The role name for `target`'s system, checked against its naming rule.
pub fn role_name(role: &str, target: &BindTarget) -> AccessResult<String> {
    let rule = match target {
        BindTarget::Tmc(_) => NameRule::TmcRole,
        BindTarget::Tap { .. } => NameRule::KubernetesObject,
    };
    validate::name("role", role, rule)
}

/// A scope TMC does not know is the caller's mistake, not a failure of TMC.
pub fn missing_scope(e: super::ports::BackendError, target: &BindTarget) -> AccessError {
    if e.kind == FailureKind::NotFound {
        AccessError::refused(
            format!("{target} does not exist"),
            "check the name (list_clusters lists what exists)",
        )
    } else {
        e.into()
    }
}

/// Refuse a TAP cluster the configuration does not name.
pub fn configured(systems: &Systems, cluster: &str) -> AccessResult<()> {
    let configured = systems.rbac.clusters();
    if configured.iter().any(|c| c == cluster) {
        Ok(())
    } else {
        Err(AccessError::invalid(format!(
            "'{cluster}' is not a configured TAP cluster; configured: {}",
            configured.join(", ")
        )))
    }
}

/// How one removal from a Kubernetes binding is described: deleted, or others keep the role.
pub fn tap_removal(
    target: &BindTarget,
    binding: &RbacBinding,
    subject: &Subject,
) -> (String, String) {
    let kind = if binding.namespace.is_some() {
        "RoleBinding"
    } else {
        "ClusterRoleBinding"
    };
    let others = binding.subjects.len().saturating_sub(1);
    let effect = if others == 0 {
        format!("delete the {kind} ({} is its only subject)", subject.name)
    } else {
        format!(
            "remove {:?} {} from it; {} keep{} {}",
            subject.kind,
            subject.name,
            count(others, "other subject"),
            if others == 1 { "s" } else { "" },
            binding.role_name
        )
    };
    (format!("{target} {kind} {}", binding.name), effect)
}

/// What an unbinding plan is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Unbinding {
    /// The subject whose role is removed.
    pub subject: Subject,
    pub role: String,
    /// Where, in words.
    pub target: String,
}

impl About for Unbinding {
    fn target(&self) -> &str {
        &self.subject.name
    }
    fn headline(&self, actions: usize) -> String {
        format!(
            "Unbind {:?} {} from role {} on {} ({}):",
            self.subject.kind,
            self.subject.name,
            self.role,
            self.target,
            count(actions, "action")
        )
    }
}

/// `unbind_role` as a change: every plan needs a human.
pub struct Unbind {
    pub grantee: Grantee,
    pub role: String,
    pub target: BindTarget,
    pub policy: std::sync::Arc<WritePolicy>,
}

#[async_trait]
impl Change for Unbind {
    type About = Unbinding;
    const TOOL: &'static str = "unbind_role";

    fn key(&self) -> &str {
        match &self.grantee {
            Grantee::User(name) | Grantee::Group(name) => name.trim(),
        }
    }

    async fn plan(&self, systems: &Systems) -> AccessResult<ChangePlan<Unbinding>> {
        let role = role_name(&self.role, &self.target)?;
        let holder = holder(systems, &self.grantee, &self.policy, &self.target).await?;
        let target = &self.target;
        let mut steps = Vec::new();
        match target {
            BindTarget::Tmc(scope) => {
                let policy = systems
                    .tmc
                    .policy(scope)
                    .await
                    .map_err(|e| missing_scope(e, target))?;
                for subject in holder.in_tmc(&policy, &role) {
                    steps.push(Step {
                        target: format!("{scope} role {role}"),
                        effect: format!(
                            "remove {:?} {} from role {role}",
                            subject.kind, subject.name
                        ),
                        operation: Operation::TmcRemoveSubject {
                            scope: scope.clone(),
                            role: role.clone(),
                            subject,
                        },
                    });
                }
                if steps.is_empty() && !systems.tmc.roles().await?.contains(&role) {
                    return Err(unknown_role(&role, "TMC role"));
                }
            }
            BindTarget::Tap { cluster, namespace } => {
                configured(systems, cluster)?;
                let bindings = systems.rbac.bindings(cluster).await?;
                for (binding, subject) in holder.in_tap(&bindings, namespace, &role) {
                    let (where_, effect) = tap_removal(target, binding, &subject);
                    steps.push(Step {
                        target: where_,
                        effect,
                        operation: Operation::TapRemoveSubject {
                            cluster: cluster.clone(),
                            namespace: namespace.clone(),
                            binding: binding.name.clone(),
                            subject,
                        },
                    });
                }
                if steps.is_empty() && !systems.rbac.cluster_roles(cluster).await?.contains(&role) {
                    return Err(unknown_role(&role, &format!("ClusterRole on '{cluster}'")));
                }
            }
        }
        let about = Unbinding {
            subject: holder.subject,
            role,
            target: target.to_string(),
        };
        Ok(ChangePlan::new(about, steps, vec![]))
    }

    fn needs_approval(&self, _: &ChangePlan<Unbinding>) -> Option<String> {
        Some("removing access is destructive".to_string())
    }
}

fn unknown_role(role: &str, what: &str) -> AccessError {
    AccessError::refused(
        format!("'{role}' is not a known {what}, and nobody holds it there"),
        "check the role name (get_user_access shows each grant with its exact role and scope)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::fakes::small_world;

    #[tokio::test]
    async fn a_removed_person_can_still_be_unbound_and_built_in_subjects_never() {
        let fake = small_world();
        let systems = fake.systems();
        let target = BindTarget::Tap {
            cluster: "tap-dev".into(),
            namespace: None,
        };
        let policy = WritePolicy::default();
        let gone = holder(
            &systems,
            &Grantee::User("Nobody@Example.com".into()),
            &policy,
            &target,
        )
        .await
        .unwrap();
        assert!(!gone.active);
        assert!(gone.is(&Subject::user("nobody@example.com")));
        let err = holder(
            &systems,
            &Grantee::Group("system:authenticated".into()),
            &policy,
            &target,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, AccessError::Refused { .. }), "{err}");
    }
}
