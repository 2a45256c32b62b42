//! Moving a subject from one role to another at one scope (`change_role`), never leaving it
//! without a role:
//! - on TMC, one PATCH carrying an `ADD` delta of the new role and a `DELETE` delta of the old
//!   (the Terraform provider's in-place update sends mixed deltas in one `bindingDeltaList`);
//!   TMC applies it as one change, so a failure leaves the old role in place;
//! - on a TAP cluster, the new binding is created first and the subject leaves the old binding
//!   only once that succeeded (`change::execute` runs grants before removals).
//!
//! A rerun after a partial run plans only what is left (the removal), so it finishes the job.
//! The new grant is judged by the write policy: forbidden is refused, privileged is said in the
//! approval prompt (a change of role needs a human anyway).

use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Serialize;

use super::Systems;
use super::bind::{Grantee, binding_name};
use super::change::{About, Change, ChangePlan, Operation, Step, plan::count};
use super::error::{AccessError, AccessResult};
use super::policy::{Class, WritePolicy};
use super::ports::{PolicyRule, Subject};
use super::scope::BindTarget;
use super::unbind::{Holder, configured, holder, missing_scope, role_name, tap_removal};

/// What a change-of-role plan is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RoleChange {
    /// The subject whose role changes.
    pub subject: Subject,
    pub from_role: String,
    pub to_role: String,
    /// Where, in words.
    pub target: String,
    /// The Kubernetes binding that holds (or will hold) the new role (TAP targets only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
    /// Why the new grant is privileged, as the write policy says.
    #[serde(skip)]
    pub privileged: Option<String>,
}

impl About for RoleChange {
    fn target(&self) -> &str {
        &self.subject.name
    }
    fn headline(&self, actions: usize) -> String {
        format!(
            "Change {:?} {} from role {} to {} on {} ({}):",
            self.subject.kind,
            self.subject.name,
            self.from_role,
            self.to_role,
            self.target,
            count(actions, "action")
        )
    }
}

/// `change_role` as a change: every plan needs a human.
pub struct ChangeRole {
    pub grantee: Grantee,
    pub from_role: String,
    pub to_role: String,
    pub target: BindTarget,
    pub policy: Arc<WritePolicy>,
}

#[async_trait]
impl Change for ChangeRole {
    type About = RoleChange;
    const TOOL: &'static str = "change_role";

    fn key(&self) -> &str {
        match &self.grantee {
            Grantee::User(name) | Grantee::Group(name) => name.trim(),
        }
    }

    async fn plan(&self, systems: &Systems) -> AccessResult<ChangePlan<RoleChange>> {
        let from_role = role_name(&self.from_role, &self.target)?;
        let to_role = role_name(&self.to_role, &self.target)?;
        if from_role == to_role {
            return Err(AccessError::invalid(
                "from_role and to_role are the same; nothing would change",
            ));
        }
        let holder = holder(systems, &self.grantee, &self.policy, &self.target).await?;
        match &self.target {
            BindTarget::Tmc(_) => self.plan_tmc(systems, holder, from_role, to_role).await,
            BindTarget::Tap { .. } => self.plan_tap(systems, holder, from_role, to_role).await,
        }
    }

    fn needs_approval(&self, plan: &ChangePlan<RoleChange>) -> Option<String> {
        Some(match &plan.about.privileged {
            Some(why) => format!(
                "changing a role removes the old one (destructive), and the new grant is privileged: {why}"
            ),
            None => "changing a role removes the old one (destructive)".to_string(),
        })
    }
}

impl ChangeRole {
    /// The new grant as the write policy sees it: refused when forbidden, else why it is
    /// privileged (if it is).
    fn classify(
        &self,
        subject: &Subject,
        to_role: &str,
        rules: Option<&[PolicyRule]>,
    ) -> AccessResult<Option<String>> {
        match self
            .policy
            .classify_grant(subject, to_role, &self.target, rules)
        {
            Class::Forbidden(reason) => Err(AccessError::refused(
                format!("{reason}; this grant is never made, whoever approves it"),
                "choose another to_role",
            )),
            Class::Privileged(reason) => Ok(Some(reason)),
            Class::Ordinary => Ok(None),
        }
    }

    fn about(
        &self,
        holder: &Holder,
        from_role: String,
        to_role: String,
        binding: Option<String>,
        privileged: Option<String>,
    ) -> RoleChange {
        RoleChange {
            subject: holder.subject.clone(),
            from_role,
            to_role,
            target: self.target.to_string(),
            binding,
            privileged,
        }
    }

    /// Neither role held: there is nothing to move, and granting is bind_role's job.
    fn holds_neither(&self, holder: &Holder, from_role: &str, to_role: &str) -> AccessError {
        AccessError::refused(
            format!(
                "{} holds neither {from_role} nor {to_role} on {}",
                holder.subject.name, self.target
            ),
            "check the grant with get_user_access (it shows each role and scope exactly), or grant the role with bind_role",
        )
    }

    /// A grant for a user who is not an ACTIVE member fails or dangles.
    fn require_active(&self, holder: &Holder) -> AccessResult<()> {
        if holder.active {
            return Ok(());
        }
        Err(AccessError::refused(
            format!(
                "{} is not an ACTIVE member of the CSP org, so a new role would fail or dangle",
                holder.subject.name
            ),
            "remove what they hold with unbind_role (or revoke_all_access); invite them first to grant a role",
        ))
    }

    async fn plan_tmc(
        &self,
        systems: &Systems,
        holder: Holder,
        from_role: String,
        to_role: String,
    ) -> AccessResult<ChangePlan<RoleChange>> {
        let BindTarget::Tmc(scope) = &self.target else {
            return Err(AccessError::invalid("not a TMC scope"));
        };
        let privileged = self.classify(&holder.subject, &to_role, None)?;
        let roles = systems.tmc.roles().await?;
        if !roles.contains(&to_role) {
            let mut valid = roles.clone();
            valid.sort();
            return Err(AccessError::refused(
                format!("'{to_role}' is not a known TMC role"),
                format!("use one of: {}", valid.join(", ")),
            ));
        }
        let policy = systems
            .tmc
            .policy(scope)
            .await
            .map_err(|e| missing_scope(e, &self.target))?;
        let old = holder.in_tmc(&policy, &from_role);
        let holds_new = !holder.in_tmc(&policy, &to_role).is_empty();
        let mut steps = Vec::new();
        let mut old = old.into_iter();
        match (old.next(), holds_new) {
            (None, true) => {}
            (None, false) => return Err(self.holds_neither(&holder, &from_role, &to_role)),
            (Some(first), false) => {
                self.require_active(&holder)?;
                steps.push(Step {
                    target: format!("{scope} roles {from_role} and {to_role}"),
                    effect: format!(
                        "in one PATCH, add {:?} {} to role {to_role} and remove it from {from_role}",
                        first.kind, first.name
                    ),
                    operation: Operation::TmcMoveSubject {
                        scope: scope.clone(),
                        subject: first,
                        from_role: from_role.clone(),
                        to_role: to_role.clone(),
                    },
                });
            }
            (Some(first), true) => steps.push(tmc_removal(scope, &from_role, first)),
        }
        // The same person under another spelling of their name leaves the old role too.
        steps.extend(old.map(|subject| tmc_removal(scope, &from_role, subject)));
        let about = self.about(&holder, from_role, to_role, None, privileged);
        Ok(ChangePlan::new(about, steps, vec![]))
    }

    async fn plan_tap(
        &self,
        systems: &Systems,
        holder: Holder,
        from_role: String,
        to_role: String,
    ) -> AccessResult<ChangePlan<RoleChange>> {
        let BindTarget::Tap { cluster, namespace } = &self.target else {
            return Err(AccessError::invalid("not a TAP cluster"));
        };
        configured(systems, cluster)?;
        let roles = systems.rbac.cluster_roles(cluster).await?;
        if !roles.contains(&to_role) {
            let mut valid = roles.clone();
            valid.sort();
            return Err(AccessError::refused(
                format!("'{to_role}' is not a ClusterRole on TAP cluster '{cluster}'"),
                format!("use one of: {}", valid.join(", ")),
            ));
        }
        let rules = systems.rbac.cluster_role_rules(cluster, &to_role).await?;
        let privileged = self.classify(&holder.subject, &to_role, Some(&rules))?;
        let bindings = systems.rbac.bindings(cluster).await?;
        let old = holder.in_tap(&bindings, namespace, &from_role);
        let new = holder.in_tap(&bindings, namespace, &to_role);
        if old.is_empty() && new.is_empty() {
            return Err(self.holds_neither(&holder, &from_role, &to_role));
        }
        let mut steps = Vec::new();
        let binding = match new.first() {
            Some((held, _)) => held.name.clone(),
            None if old.is_empty() => String::new(),
            None => {
                self.require_active(&holder)?;
                let name = binding_name(&to_role, &holder.subject);
                if bindings
                    .iter()
                    .any(|b| b.name == name && b.namespace == *namespace)
                {
                    return Err(AccessError::refused(
                        format!(
                            "a binding named '{name}' already exists on {} and grants something else",
                            self.target
                        ),
                        "inspect it with kubectl; delete or rename it, then call change_role again",
                    ));
                }
                let kind = if namespace.is_some() {
                    "RoleBinding"
                } else {
                    "ClusterRoleBinding"
                };
                steps.push(Step {
                    target: format!("{} {kind} {name}", self.target),
                    effect: format!(
                        "first create it, binding {:?} {} to ClusterRole {to_role}",
                        holder.subject.kind, holder.subject.name
                    ),
                    operation: Operation::TapCreateBinding {
                        cluster: cluster.clone(),
                        namespace: namespace.clone(),
                        binding: name.clone(),
                        role: to_role.clone(),
                        subject: holder.subject.clone(),
                    },
                });
                name
            }
        };
        for (held, subject) in old {
            let (where_, effect) = tap_removal(&self.target, held, &subject);
            steps.push(Step {
                target: where_,
                effect: format!("then {effect}"),
                operation: Operation::TapRemoveSubject {
                    cluster: cluster.clone(),
                    namespace: namespace.clone(),
                    binding: held.name.clone(),
                    subject,
                },
            });
        }
        let about = self.about(&holder, from_role, to_role, Some(binding), privileged);
        Ok(ChangePlan::new(about, steps, vec![]))
    }
}

fn tmc_removal(scope: &super::ports::TmcScope, role: &str, subject: Subject) -> Step {
    Step {
        target: format!("{scope} role {role}"),
        effect: format!(
            "remove {:?} {} from role {role} (the new role is already held)",
            subject.kind, subject.name
        ),
        operation: Operation::TmcRemoveSubject {
            scope: scope.clone(),
            role: role.to_string(),
            subject,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::change::execute::{ActionOutcome, Runner, execute, run_operation};
    use crate::access::change::{ActionResult, PlannedAction};
    use crate::access::fakes::small_world;
    use crate::access::ports::TmcScope;

    fn dev() -> TmcScope {
        TmcScope::Cluster {
            name: "dev".into(),
            management_cluster: "attached".into(),
            provisioner: "attached".into(),
        }
    }

    fn change(from: &str, to: &str) -> ChangeRole {
        ChangeRole {
            grantee: Grantee::User("alice@example.com".into()),
            from_role: from.into(),
            to_role: to.into(),
            target: BindTarget::Tmc(dev()),
            policy: Arc::default(),
        }
    }

    struct Direct<'a>(&'a Systems);

    #[async_trait]
    impl Runner for Direct<'_> {
        async fn run(&self, action: &PlannedAction) -> ActionResult {
            run_operation(self.0, action).await
        }
    }

    #[tokio::test]
    async fn on_tmc_the_move_is_one_patch_and_a_rerun_finds_nothing_left() {
        let fake = small_world();
        let systems = fake.systems();
        let moving = change("cluster.admin", "cluster.view");
        let plan = moving.plan(&systems).await.unwrap();
        assert_eq!(plan.actions.len(), 1, "{plan:#?}");
        assert!(matches!(
            plan.actions[0].operation,
            Operation::TmcMoveSubject { .. }
        ));
        let results = execute(&plan.actions, &Direct(&systems)).await;
        assert!(results.iter().all(ActionResult::succeeded));
        assert!(moving.plan(&systems).await.unwrap().is_empty());
        let policy = systems.tmc.policy(&dev()).await.unwrap();
        assert!(policy.iter().any(|b| b.role == "cluster.admin"
            && b.subjects == vec![Subject::user("mallory@example.com")]));
    }

    #[tokio::test]
    async fn a_failed_grant_removes_nothing() {
        let fake = small_world();
        let systems = fake.systems();
        let actions = ChangePlan::new(
            "about",
            vec![
                Step {
                    target: "new".into(),
                    effect: "add".into(),
                    operation: Operation::TmcAddSubject {
                        scope: dev(),
                        role: "cluster.view".into(),
                        subject: Subject::user("alice@example.com"),
                    },
                },
                Step {
                    target: "old".into(),
                    effect: "remove".into(),
                    operation: Operation::TmcRemoveSubject {
                        scope: dev(),
                        role: "cluster.admin".into(),
                        subject: Subject::user("Alice@example.com"),
                    },
                },
            ],
            vec![],
        )
        .actions;
        fake.world().failing.push("add_binding".into());
        let results = execute(&actions, &Direct(&systems)).await;
        assert_eq!(results[0].outcome, ActionOutcome::Failed);
        assert_eq!(results[1].outcome, ActionOutcome::Skipped);
        assert!(!fake.world().calls.contains(&"remove_binding".to_string()));
    }

    #[tokio::test]
    async fn holding_the_new_role_only_is_done_holding_neither_is_refused() {
        let fake = small_world();
        let systems = fake.systems();
        let done = change("cluster.view", "cluster.admin").plan(&systems).await;
        assert!(
            done.unwrap().is_empty(),
            "alice already holds cluster.admin"
        );
        let mut bob = change("cluster.view", "cluster.admin");
        bob.grantee = Grantee::User("bob@example.com".into());
        let err = bob.plan(&systems).await.map(|_| ()).unwrap_err();
        assert!(matches!(err, AccessError::Refused { .. }), "{err}");
        assert!(
            change("cluster.admin", "cluster.*")
                .plan(&systems)
                .await
                .is_err()
        );
    }

    impl About for &'static str {
        fn target(&self) -> &str {
            self
        }
        fn headline(&self, _: usize) -> String {
            (*self).to_string()
        }
    }
}
