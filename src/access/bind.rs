//! Binding a user or a group to a role, at a TMC scope or on a TAP cluster, without the guide's
//! traps: a user who has not accepted the invitation is refused (a binding now would fail or
//! dangle), a group name that matches a real group only when case is ignored is refused (it
//! would grant nothing), unknown roles are refused with the valid ones listed, and a binding
//! that already exists is reported, not duplicated. Membership is checked again once a user's
//! binding has landed: someone removed from the org meanwhile (a revoke elsewhere) does not keep
//! it; it is removed again and the result says so.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Systems;
use std::sync::Arc;

use super::change::{
    About, ActionOutcome, Change, ChangePlan, Gate, Operation, Outcome, PlannedAction, Step,
    Unapproved, Verification, apply, run_compensation,
};
use super::error::{AccessError, AccessResult};
use super::identity::{Identity, normalize_email};
use super::person::standing;
use super::policy::{Class, WritePolicy};
use super::ports::{FailureKind, PolicyRule, RoleKind, Subject, SubjectKind, System};
pub use super::scope::{BindTarget, ScopeRef, resolve};
use super::validate::{self, NameRule};
use super::warning::Warning;

/// Who is bound: a user by email, or a group by exact name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantee {
    User(String),
    Group(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BindOutcome {
    /// The binding was created.
    Bound,
    /// The subject already had this role there; nothing changed.
    AlreadyBound,
    /// A privileged grant: nothing changed; a human must approve `plan` (see `message`).
    ConfirmationRequired,
    /// The approval was declined or invalid: nothing changed.
    Cancelled,
    /// The world changed after the approval: nothing changed; approve the new `plan`.
    PlanChanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct BindResult {
    pub outcome: BindOutcome,
    /// The subject as bound.
    pub subject: Subject,
    pub role: String,
    /// Where, in words.
    pub target: String,
    /// The Kubernetes binding that holds the subject (TAP targets only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
    pub warnings: Vec<Warning>,
    /// For a privileged grant that did not run: the plan a human must approve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<ChangePlan<Grant>>,
    /// With `--confirm token`: pass as `confirm` in the same call to run this plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation_token: Option<String>,
    /// What happened, for a human, when it is more than the outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What a binding plan is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Grant {
    pub subject: Subject,
    pub role: String,
    /// Where, in words.
    pub target: String,
    /// The Kubernetes binding that holds (or will hold) the subject (TAP targets only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
    /// Why a human must approve it (privileged grants), as the write policy says.
    #[serde(skip)]
    pub privileged: Option<String>,
}

impl About for Grant {
    fn target(&self) -> &str {
        &self.subject.name
    }
    fn headline(&self, _: usize) -> String {
        format!(
            "Bind {:?} {} to role {} on {}:",
            self.subject.kind, self.subject.name, self.role, self.target
        )
    }
}

/// `bind_role` as a change.
pub struct Bind {
    pub grantee: Grantee,
    pub role: String,
    pub target: BindTarget,
    pub policy: Arc<WritePolicy>,
}

#[async_trait]
impl Change for Bind {
    type About = Grant;
    const TOOL: &'static str = "bind_role";

    fn key(&self) -> &str {
        match &self.grantee {
            Grantee::User(name) | Grantee::Group(name) => name.trim(),
        }
    }

    async fn plan(&self, systems: &Systems) -> AccessResult<ChangePlan<Grant>> {
        plan_binding(systems, self).await
    }

    fn needs_approval(&self, plan: &ChangePlan<Grant>) -> Option<String> {
        plan.about.privileged.clone()
    }

    fn audit_in_place(&self, _: &ChangePlan<Grant>) -> Option<System> {
        Some(match self.target {
            BindTarget::Tmc(_) => System::Tmc,
            BindTarget::Tap { .. } => System::Kubernetes,
        })
    }
}

/// Bind, through the change lifecycle, and say what happened; a privileged grant that did not
/// run for want of an approval comes back as `Err` with its plan.
pub async fn bind_role<P: Send>(
    systems: &Systems,
    change: &Bind,
    gate: &Gate<'_, P>,
) -> AccessResult<Result<BindResult, (BindResult, Unapproved<P>)>> {
    let report = apply(systems, change, gate).await?;
    let plan = report.plan;
    let grant = plan.about.clone();
    let result = |outcome| BindResult {
        outcome,
        subject: grant.subject.clone(),
        role: grant.role.clone(),
        target: grant.target.clone(),
        binding: grant.binding.clone(),
        warnings: plan.warnings.clone(),
        plan: None,
        confirmation_token: None,
        message: None,
    };
    let outcome = match report.outcome.approved() {
        Err(unapproved) => {
            let mut shown = result(match &unapproved {
                Unapproved::Pending {
                    plan_changed: true, ..
                }
                | Unapproved::KeptChanging => BindOutcome::PlanChanged,
                Unapproved::Pending { .. } | Unapproved::CannotAsk(_) => {
                    BindOutcome::ConfirmationRequired
                }
                Unapproved::Refused(_) => BindOutcome::Cancelled,
            });
            shown.message = Some(format!(
                "nothing changed: this grant needs a human's approval because {}",
                grant.privileged.as_deref().unwrap_or("the policy says so")
            ));
            shown.plan = Some(plan.clone());
            return Ok(Err((shown, unapproved)));
        }
        Ok(Outcome::Ran {
            results,
            verification,
            audit_failure,
        }) => {
            if let Some(failure) = audit_failure {
                let made = results.iter().any(|r| r.outcome != ActionOutcome::Skipped);
                return Err(AccessError::refused(
                    if made {
                        format!("the binding was attempted, but {failure}")
                    } else {
                        format!("nothing changed: {failure}, and no change is made unrecorded")
                    },
                    "check --audit-log's file and disk",
                ));
            }
            let Some(ran) = results.first() else {
                return Err(AccessError::invalid("the binding plan had no action"));
            };
            let done = match ran.outcome {
                ActionOutcome::Done => BindOutcome::Bound,
                ActionOutcome::AlreadyPresent | ActionOutcome::AlreadyAbsent => {
                    BindOutcome::AlreadyBound
                }
                ActionOutcome::Failed | ActionOutcome::Skipped => {
                    return Err(AccessError::refused(
                        format!("binding failed: {}", ran.detail),
                        "see the message; call bind_role again once it is fixed",
                    ));
                }
            };
            if done == BindOutcome::Bound && matches!(change.grantee, Grantee::User(_)) {
                still_active(systems, &plan, gate).await?;
            }
            verified(verification)?;
            done
        }
        Ok(_) => BindOutcome::AlreadyBound,
    };
    Ok(Ok(result(outcome)))
}

/// After a user's binding landed: if they are no longer an ACTIVE member (removed while the
/// binding was made), remove the binding again and say so.
async fn still_active<P: Send>(
    systems: &Systems,
    plan: &ChangePlan<Grant>,
    gate: &Gate<'_, P>,
) -> AccessResult<()> {
    let email = plan.about.subject.name.as_str();
    let standing = standing(systems, email).await.map_err(|e| {
        AccessError::refused(
            format!("the binding was made, but whether {email} is still an ACTIVE member could not be checked: {e}"),
            format!("check with get_user_access for {email}; revoke_all_access removes the binding if they left"),
        )
    })?;
    if standing.member.is_some() {
        return Ok(());
    }
    let why = format!(
        "{email} stopped being an ACTIVE member of the CSP org while the binding was being made"
    );
    let Some(undo) = plan.actions.first().and_then(undo_of) else {
        return Ok(());
    };
    let (result, audit_failure) = run_compensation::<Bind, P>(systems, email, &undo, gate).await;
    match audit_failure {
        None if result.succeeded() => Err(AccessError::refused(
            format!("{why}, so the binding was removed again: nothing is granted"),
            format!(
                "if {email} should have access, invite them again (invite_user) and bind once they are ACTIVE"
            ),
        )),
        failure => Err(AccessError::refused(
            format!(
                "{why}, and removing the binding again did not complete ({}): it may still be in place",
                failure.unwrap_or(result.detail)
            ),
            format!("run revoke_all_access for {email}"),
        )),
    }
}

/// The action that takes back what a binding action added.
fn undo_of(action: &PlannedAction) -> Option<PlannedAction> {
    let operation = match &action.operation {
        Operation::TmcAddSubject {
            scope,
            role,
            subject,
        } => Operation::TmcRemoveSubject {
            scope: scope.clone(),
            role: role.clone(),
            subject: subject.clone(),
        },
        Operation::TapCreateBinding {
            cluster,
            namespace,
            binding,
            subject,
            ..
        } => Operation::TapRemoveSubject {
            cluster: cluster.clone(),
            namespace: namespace.clone(),
            binding: binding.clone(),
            subject: subject.clone(),
        },
        _ => return None,
    };
    Some(PlannedAction {
        id: action.id,
        system: action.system,
        target: action.target.clone(),
        effect: "remove it again: the subject is no longer an ACTIVE member".to_string(),
        operation,
    })
}

/// A grant that ran is only reported once planning again finds it in place.
fn verified(verification: Verification) -> AccessResult<()> {
    match verification {
        Verification::Verified | Verification::NotRun => Ok(()),
        Verification::Remaining(_) => Err(AccessError::refused(
            "the system accepted the binding but does not show it",
            "call bind_role again; if it persists, check the system",
        )),
        Verification::Unverified(e) => Err(e),
    }
}

/// Check everything a binding needs, and plan it: empty when the subject already holds the role.
async fn plan_binding(systems: &Systems, change: &Bind) -> AccessResult<ChangePlan<Grant>> {
    let (grantee, target) = (&change.grantee, &change.target);
    let role_rule = match target {
        BindTarget::Tmc(_) => NameRule::TmcRole,
        BindTarget::Tap { .. } => NameRule::KubernetesObject,
    };
    let role = validate::name("role", &change.role, role_rule)?;
    let role = role.as_str();
    let mut warnings = Vec::new();
    let (subject, identity) = match grantee {
        Grantee::User(raw) => {
            let email = normalize_email(raw)?;
            let standing = standing(systems, &email).await?;
            let Some(member) = standing.member else {
                return Err(match standing.pending.first() {
                    Some(_) => AccessError::refused(
                        format!(
                            "{email} has been invited to the CSP org but has not accepted yet, and a binding for a user who is not ACTIVE fails or dangles"
                        ),
                        format!(
                            "ask {email} to accept the invitation email, then call bind_role again (list_members with status ACTIVE shows when they have)"
                        ),
                    ),
                    None => AccessError::refused(
                        format!(
                            "{email} is not a member of the CSP org, and a binding for a non-member fails or dangles"
                        ),
                        "invite them with invite_user, wait until they accept, then call bind_role again".to_string(),
                    ),
                });
            };
            let identity = Identity::new(email.clone(), Some(&member));
            (Subject::user(email), Some(identity))
        }
        Grantee::Group(raw) => {
            let name = validate::name("group", raw, NameRule::Group)?;
            let groups = systems.directory.groups().await?;
            if !groups.iter().any(|g| g.display_name == name) {
                if let Some(real) = groups
                    .iter()
                    .find(|g| g.display_name.eq_ignore_ascii_case(&name))
                {
                    return Err(AccessError::refused(
                        format!(
                            "group '{name}' matches the CSP group '{}' only when case is ignored; group names are compared exactly, so this binding would grant nothing",
                            real.display_name
                        ),
                        format!("call bind_role again with group '{}'", real.display_name),
                    ));
                }
                if !name.is_ascii() {
                    // A group CSP does not know, spelled with non-ASCII letters, is as likely a
                    // look-alike of a real one as a group yet to come.
                    return Err(AccessError::refused(
                        format!(
                            "'{name}' is not a group of the CSP org and has non-ASCII characters, so it may be a look-alike of another group's name"
                        ),
                        "bind a group CSP lists (its exact name), or have the IdP push this group first",
                    ));
                }
                warnings.push(Warning::UnknownGroup { name: name.clone() });
            }
            (Subject::group(name), None)
        }
    };
    let holds = |s: &Subject| match &identity {
        Some(identity) => identity.is(s),
        None => s.kind == SubjectKind::Group && s.name == subject.name,
    };
    let grant = |binding: Option<String>, privileged: Option<String>| Grant {
        subject: subject.clone(),
        role: role.to_string(),
        target: target.to_string(),
        binding,
        privileged,
    };
    // Refuse what may never be granted before reading anything more.
    let classify = |rules: Option<&[PolicyRule]>| -> AccessResult<Option<String>> {
        match change.policy.classify_grant(&subject, role, target, rules) {
            Class::Forbidden(reason) => Err(AccessError::refused(
                format!("{reason}; this grant is never made, whoever approves it"),
                "bind a named user or group instead",
            )),
            Class::Privileged(reason) => Ok(Some(reason)),
            Class::Ordinary => Ok(None),
        }
    };
    classify(Some(&[]))?;

    match target {
        BindTarget::Tmc(scope) => {
            let roles = systems.tmc.roles().await?;
            if !roles.iter().any(|r| r == role) {
                return Err(unknown_role(role, "TMC role", &roles));
            }
            let policy = systems
                .tmc
                .policy(scope)
                .await
                .map_err(|e| not_found_as_refusal(e, target))?;
            let already = policy
                .iter()
                .any(|b| b.role == role && b.subjects.iter().any(holds));
            let privileged = classify(None)?;
            let steps = if already {
                vec![]
            } else {
                vec![Step {
                    target: format!("{scope} role {role}"),
                    effect: format!("add {:?} {} to role {role}", subject.kind, subject.name),
                    operation: Operation::TmcAddSubject {
                        scope: scope.clone(),
                        role: role.to_string(),
                        subject: subject.clone(),
                    },
                }]
            };
            Ok(ChangePlan::new(grant(None, privileged), steps, warnings))
        }
        BindTarget::Tap { cluster, namespace } => {
            let configured = systems.rbac.clusters();
            if !configured.iter().any(|c| c == cluster) {
                return Err(AccessError::invalid(format!(
                    "'{cluster}' is not a configured TAP cluster; configured: {}",
                    configured.join(", ")
                )));
            }
            let roles = systems.rbac.cluster_roles(cluster).await?;
            if !roles.iter().any(|r| r == role) {
                return Err(unknown_role(
                    role,
                    &format!("ClusterRole on TAP cluster '{cluster}'"),
                    &roles,
                ));
            }
            let rules = systems.rbac.cluster_role_rules(cluster, role).await?;
            let privileged = classify(Some(&rules))?;
            if let Some(ns) = namespace {
                let namespaces = systems.rbac.namespaces(cluster).await?;
                if !namespaces.iter().any(|n| n == ns) {
                    return Err(AccessError::refused(
                        format!("namespace '{ns}' does not exist on TAP cluster '{cluster}'"),
                        format!("use one of: {}", namespaces.join(", ")),
                    ));
                }
            }
            let existing = systems.rbac.bindings(cluster).await?;
            let found = existing.iter().find(|b| {
                b.namespace == *namespace
                    && b.role_kind == RoleKind::ClusterRole
                    && b.role_name == role
                    && b.subjects.iter().any(holds)
            });
            if let Some(binding) = found {
                return Ok(ChangePlan::new(
                    grant(Some(binding.name.clone()), privileged),
                    vec![],
                    warnings,
                ));
            }
            let name = binding_name(role, &subject);
            if existing
                .iter()
                .any(|b| b.name == name && b.namespace == *namespace)
            {
                // Our deterministic name holds something else: creating would fail, and
                // reporting it as bound would be a lie.
                return Err(AccessError::refused(
                    format!(
                        "a binding named '{name}' already exists on {target} and grants something else"
                    ),
                    "inspect it with kubectl; delete or rename it, then call bind_role again",
                ));
            }
            let kind = if namespace.is_some() {
                "RoleBinding"
            } else {
                "ClusterRoleBinding"
            };
            let step = Step {
                target: format!("{target} {kind} {name}"),
                effect: format!(
                    "create it, binding {:?} {} to ClusterRole {role}",
                    subject.kind, subject.name
                ),
                operation: Operation::TapCreateBinding {
                    cluster: cluster.clone(),
                    namespace: namespace.clone(),
                    binding: name.clone(),
                    role: role.to_string(),
                    subject: subject.clone(),
                },
            };
            Ok(ChangePlan::new(
                grant(Some(name), privileged),
                vec![step],
                warnings,
            ))
        }
    }
}

fn unknown_role(role: &str, what: &str, valid: &[String]) -> AccessError {
    super::suggest::unknown_name(what, role, valid.iter().map(String::as_str))
}

fn not_found_as_refusal(e: super::ports::BackendError, target: &BindTarget) -> AccessError {
    if e.kind == FailureKind::NotFound {
        AccessError::refused(
            format!("{target} does not exist"),
            "check the name (get_user_access and TMC list what exists)",
        )
    } else {
        e.into()
    }
}

/// A deterministic, DNS-1123-safe binding name: the same grant always gets the same name, so a
/// retried create finds its own earlier work.
pub fn binding_name(role: &str, subject: &Subject) -> String {
    let slug = |s: &str| -> String {
        let mut out: String = s
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        while out.contains("--") {
            out = out.replace("--", "-");
        }
        out.trim_matches('-').chars().take(60).collect()
    };
    let kind = match subject.kind {
        SubjectKind::User => "user",
        SubjectKind::Group => "group",
        SubjectKind::ServiceAccount => "sa",
    };
    let hash = Sha256::digest(format!("{role}\0{kind}\0{}", subject.name).as_bytes());
    let suffix: String = hash.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!(
        "tanzu-mcp-{}-{kind}-{}-{suffix}",
        slug(role),
        slug(&subject.name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::fakes::{Fake, no_human, small_world};
    use crate::access::ports::BackendResult;
    use crate::access::ports::{
        Directory, Invitation, Member, MemberPage, OrgGroup, RemovalOutcome, TmcScope,
    };

    /// The CSP directory of `fake`, in which `leaver` leaves the org right after the first
    /// membership check: what a revoke in another process does between check and write.
    struct LeavesAfterCheck {
        fake: Fake,
        leaver: &'static str,
    }

    #[async_trait]
    impl Directory for LeavesAfterCheck {
        async fn members_page(&self, start: usize, limit: usize) -> BackendResult<MemberPage> {
            self.fake.members_page(start, limit).await
        }
        async fn find_member(&self, email: &str) -> BackendResult<Option<Member>> {
            let found = self.fake.find_member(email).await;
            self.fake.world().members.retain(|m| m.email != self.leaver);
            found
        }
        async fn invitations(&self) -> BackendResult<Vec<Invitation>> {
            self.fake.invitations().await
        }
        async fn invite(&self, emails: &[String], org_role: &str) -> BackendResult<()> {
            self.fake.invite(emails, org_role).await
        }
        async fn revoke_invitation(&self, invitation_id: &str) -> BackendResult<()> {
            self.fake.revoke_invitation(invitation_id).await
        }
        async fn remove_members(&self, user_ids: &[String]) -> BackendResult<RemovalOutcome> {
            self.fake.remove_members(user_ids).await
        }
        async fn groups(&self) -> BackendResult<Vec<OrgGroup>> {
            self.fake.groups().await
        }
        async fn group_member_ids(&self, group_id: &str) -> BackendResult<Vec<String>> {
            self.fake.group_member_ids(group_id).await
        }
    }

    fn bob_binds(target: BindTarget, role: &str) -> Bind {
        Bind {
            grantee: Grantee::User("bob@example.com".into()),
            role: role.into(),
            target,
            policy: Arc::new(WritePolicy::default()),
        }
    }

    #[tokio::test]
    async fn a_grant_to_someone_removed_meanwhile_is_removed_again_and_said_so() {
        let targets = [
            (BindTarget::Tmc(TmcScope::Organization), "organization.view"),
            (
                BindTarget::Tap {
                    cluster: "tap-b".into(),
                    namespace: None,
                },
                "app-editor",
            ),
        ];
        for (target, role) in targets {
            let fake = small_world();
            if matches!(target, BindTarget::Tap { .. }) {
                // bob holds app-editor there already; take it away so the bind has work to do.
                fake.world().tap.retain(|b| b.cluster != "tap-b");
            }
            let mut systems = fake.systems();
            systems.directory = Arc::new(LeavesAfterCheck {
                fake: fake.clone(),
                leaver: "bob@example.com",
            });
            let error = bind_role(&systems, &bob_binds(target.clone(), role), &no_human())
                .await
                .expect_err("the grant does not stand");
            let message = error.to_string();
            assert!(message.contains("removed again"), "{message}");
            let world = fake.world();
            let calls: Vec<&String> = world.calls.iter().collect();
            assert!(
                calls
                    .iter()
                    .any(|c| *c == "add_binding" || *c == "create_binding"),
                "the binding did land first: {calls:?}"
            );
            let tmc_holds = world
                .tmc
                .values()
                .flatten()
                .any(|b| b.subjects.iter().any(|s| s.name == "bob@example.com"));
            let tap_holds = world
                .tap
                .iter()
                .filter(|b| b.cluster == "tap-b" && matches!(target, BindTarget::Tap { .. }))
                .any(|b| b.subjects.iter().any(|s| s.name == "bob@example.com"));
            assert!(
                !tmc_holds && !tap_holds,
                "nothing left for bob on {target}: {message} {:?} {calls:?}",
                world.tmc
            );
        }
    }

    #[test]
    fn binding_names_are_deterministic_dns_safe_and_distinct() {
        let a = binding_name("app-editor", &Subject::user("Alice.Anders@example.com"));
        assert_eq!(
            a,
            binding_name("app-editor", &Subject::user("Alice.Anders@example.com"))
        );
        assert!(
            a.len() <= 253
                && a.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{a}"
        );
        assert_ne!(
            a,
            binding_name("app-editor", &Subject::group("Alice.Anders@example.com"))
        );
        assert_ne!(
            a,
            binding_name("app-viewer", &Subject::user("Alice.Anders@example.com"))
        );
    }
}
