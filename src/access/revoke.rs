//! Revoking all of a person's access: a plan of ordered actions, then its execution.
//!
//! Order: TMC and Kubernetes subject removals first (run concurrently; a Kubernetes binding is
//! deleted only when the person is its last subject), then, last, pending invitations and the
//! CSP membership, so that a person is never removed from the directory while bindings that
//! name them remain.
//! The plan has a digest: what a human approved is exactly what runs, and a changed world
//! shows up as a changed digest. Execution is idempotent: an action whose target is already
//! gone counts as done, so running the same call again after a partial failure finishes it.

use futures::{StreamExt, stream};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Systems;
use super::error::{AccessError, AccessResult};
use super::inventory::FAN_OUT;
use super::person::{UserAccess, user_access};
use super::ports::{BackendError, FailureKind, Subject, SubjectRemoval, System, TmcScope};

/// What one action does, precisely enough to carry it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// PATCH a DELETE delta into a TMC IAM policy.
    TmcRemoveSubject {
        scope: TmcScope,
        role: String,
        subject: Subject,
    },
    /// Remove the subject from a Kubernetes binding (deleting it if no subject would remain).
    TapRemoveSubject {
        cluster: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
        binding: String,
        subject: Subject,
    },
    /// Revoke a pending CSP invitation.
    CspRevokeInvitation { invitation_id: String },
    /// Remove the member from the CSP org.
    CspRemoveMember { user_id: String },
}

/// One step of a plan, described for a human.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlannedAction {
    /// 1-based position in the plan.
    pub id: usize,
    pub system: System,
    /// What the action touches.
    pub target: String,
    /// What changes, and what stays for others.
    pub effect: String,
    pub operation: Operation,
}

/// Every action a revocation would take, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RevocationPlan {
    pub email: String,
    /// Whether the CSP membership is kept (only bindings are removed).
    pub keep_membership: bool,
    pub actions: Vec<PlannedAction>,
    /// Things the plan does not do, and why (group access, unreadable systems).
    pub warnings: Vec<String>,
    /// SHA-256 of the actions: approvals are bound to it.
    pub digest: String,
}

impl RevocationPlan {
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// A few lines a human can read in an approval prompt.
    pub fn summary(&self) -> String {
        let mut lines = vec![format!(
            "Revoke all access of {} ({} action{}):",
            self.email,
            self.actions.len(),
            if self.actions.len() == 1 { "" } else { "s" }
        )];
        for action in &self.actions {
            lines.push(format!(
                "{}. [{}] {}: {}",
                action.id, action.system, action.target, action.effect
            ));
        }
        for warning in &self.warnings {
            lines.push(format!("note: {warning}"));
        }
        lines.join("\n")
    }
}

/// Build the plan from a person's access. Pure: same access, same plan, same digest.
pub fn plan_from_access(
    access: &UserAccess,
    keep_membership: bool,
) -> AccessResult<RevocationPlan> {
    if !access.incomplete.is_empty() {
        return Err(AccessError::refused(
            format!(
                "the picture of {}'s access is incomplete, so a plan would miss bindings: {}",
                access.email,
                access.incomplete.join("; ")
            ),
            "fix the failing system (see the message) and run revoke_all_access again",
        ));
    }
    let mut operations: Vec<(System, String, String, Operation)> = Vec::new();
    let mut tmc: Vec<_> = access.tmc.iter().collect();
    tmc.sort_by(|a, b| (&a.scope, &a.role, &a.subject).cmp(&(&b.scope, &b.role, &b.subject)));
    for grant in tmc {
        operations.push((
            System::Tmc,
            format!("{} role {}", grant.scope, grant.role),
            format!(
                "remove USER {} from role {}",
                grant.subject.name, grant.role
            ),
            Operation::TmcRemoveSubject {
                scope: grant.scope.clone(),
                role: grant.role.clone(),
                subject: grant.subject.clone(),
            },
        ));
    }
    let mut tap: Vec<_> = access.tap.iter().collect();
    tap.sort_by(|a, b| {
        (&a.cluster, &a.namespace, &a.binding).cmp(&(&b.cluster, &b.namespace, &b.binding))
    });
    for grant in tap {
        let where_ = match &grant.namespace {
            Some(ns) => format!(
                "TAP cluster {} {} {ns}/{}",
                grant.cluster, grant.binding_kind, grant.binding
            ),
            None => format!(
                "TAP cluster {} {} {}",
                grant.cluster, grant.binding_kind, grant.binding
            ),
        };
        let effect = if grant.other_subjects == 0 {
            format!(
                "delete the {} ({} is its only subject)",
                grant.binding_kind, grant.subject.name
            )
        } else {
            format!(
                "remove User {} from it; {} other subject{} keep{} {}",
                grant.subject.name,
                grant.other_subjects,
                if grant.other_subjects == 1 { "" } else { "s" },
                if grant.other_subjects == 1 { "s" } else { "" },
                grant.role
            )
        };
        operations.push((
            System::Kubernetes,
            where_,
            effect,
            Operation::TapRemoveSubject {
                cluster: grant.cluster.clone(),
                namespace: grant.namespace.clone(),
                binding: grant.binding.clone(),
                subject: grant.subject.clone(),
            },
        ));
    }
    if !keep_membership {
        // Invitations first: a pending one would let the person rejoin after the removal.
        for invitation in &access.invitations {
            operations.push((
                System::Csp,
                format!("pending invitation {} of {}", invitation.id, access.email),
                "revoke the invitation".to_string(),
                Operation::CspRevokeInvitation {
                    invitation_id: invitation.id.clone(),
                },
            ));
        }
        if let Some(member) = &access.membership {
            operations.push((
                System::Csp,
                format!("org membership of {}", access.email),
                format!(
                    "remove {} from the CSP org (roles: {})",
                    access.email,
                    member.org_roles.join(", ")
                ),
                Operation::CspRemoveMember {
                    user_id: member.user_id.clone(),
                },
            ));
        }
    }
    let actions: Vec<PlannedAction> = operations
        .into_iter()
        .enumerate()
        .map(
            |(index, (system, target, effect, operation))| PlannedAction {
                id: index + 1,
                system,
                target,
                effect,
                operation,
            },
        )
        .collect();
    let digest = digest(&access.email, keep_membership, &actions);
    let warnings = access
        .warnings
        .iter()
        .filter(|w| w.starts_with("access may also come through groups"))
        .cloned()
        .collect();
    Ok(RevocationPlan {
        email: access.email.clone(),
        keep_membership,
        actions,
        warnings,
        digest,
    })
}

fn digest(email: &str, keep_membership: bool, actions: &[PlannedAction]) -> String {
    let operations: Vec<&Operation> = actions.iter().map(|a| &a.operation).collect();
    let canonical = serde_json::to_vec(&(email, keep_membership, operations)).unwrap_or_default();
    let hash = Sha256::digest(&canonical);
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Read the world and plan.
pub async fn plan(
    systems: &Systems,
    email: &str,
    keep_membership: bool,
) -> AccessResult<RevocationPlan> {
    let access = user_access(systems, email).await?;
    plan_from_access(&access, keep_membership)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionOutcome {
    /// The change was made.
    Done,
    /// Nothing to do: the target was already gone.
    AlreadyAbsent,
    Failed,
    /// Not attempted (CSP removal waits until every binding is gone).
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActionResult {
    /// The `id` of the planned action.
    pub id: usize,
    pub system: System,
    pub target: String,
    pub outcome: ActionOutcome,
    /// What happened, for a human; for failures the system's error and the fix.
    pub detail: String,
}

impl ActionResult {
    pub fn succeeded(&self) -> bool {
        matches!(
            self.outcome,
            ActionOutcome::Done | ActionOutcome::AlreadyAbsent
        )
    }
}

/// Carry out an approved plan. Bindings go first and concurrently (bounded); the CSP action
/// runs only when every binding action succeeded, so a retry still finds the person.
/// `on_done` is told after each action (for progress and audit).
pub async fn execute(
    systems: &Systems,
    plan: &RevocationPlan,
    on_done: &(dyn Fn(&PlannedAction, &ActionResult) + Send + Sync),
) -> Vec<ActionResult> {
    let (bindings, directory): (Vec<_>, Vec<_>) =
        plan.actions.iter().partition(|a| a.system != System::Csp);
    let runs: Vec<_> = bindings
        .into_iter()
        .map(|action| async move {
            let result = run(systems, action).await;
            on_done(action, &result);
            result
        })
        .collect();
    let mut results: Vec<ActionResult> = stream::iter(runs).buffered(FAN_OUT).collect().await;
    let bindings_ok = results.iter().all(ActionResult::succeeded);
    for action in directory {
        let result = if bindings_ok {
            run(systems, action).await
        } else {
            ActionResult {
                id: action.id,
                system: action.system,
                target: action.target.clone(),
                outcome: ActionOutcome::Skipped,
                detail: "not attempted because a binding removal failed; run revoke_all_access again to finish"
                    .to_string(),
            }
        };
        on_done(action, &result);
        results.push(result);
    }
    results
}

async fn run(systems: &Systems, action: &PlannedAction) -> ActionResult {
    let outcome: Result<(ActionOutcome, String), BackendError> = match &action.operation {
        Operation::TmcRemoveSubject {
            scope,
            role,
            subject,
        } => systems
            .tmc
            .remove_binding(scope, role, subject)
            .await
            .map(|()| {
                (
                    ActionOutcome::Done,
                    format!("removed {} from {role}", subject.name),
                )
            }),
        Operation::TapRemoveSubject {
            cluster,
            namespace,
            binding,
            subject,
        } => systems
            .rbac
            .remove_subject(cluster, namespace.as_deref(), binding, subject)
            .await
            .map(|removal| match removal {
                SubjectRemoval::Updated => (
                    ActionOutcome::Done,
                    format!("removed {} from {binding}", subject.name),
                ),
                SubjectRemoval::Deleted => (
                    ActionOutcome::Done,
                    format!("deleted {binding}: no subject remained"),
                ),
                SubjectRemoval::AlreadyAbsent => (
                    ActionOutcome::AlreadyAbsent,
                    format!("{} was no longer in {binding}", subject.name),
                ),
            }),
        Operation::CspRevokeInvitation { invitation_id } => systems
            .directory
            .revoke_invitation(invitation_id)
            .await
            .map(|()| (ActionOutcome::Done, "invitation revoked".to_string())),
        Operation::CspRemoveMember { user_id } => systems
            .directory
            .remove_members(std::slice::from_ref(user_id))
            .await
            .and_then(
                |outcome| match outcome.failed.into_iter().find(|(id, _)| id == user_id) {
                    Some((_, reason)) => Err(BackendError {
                        system: System::Csp,
                        operation: format!("remove member {user_id}"),
                        kind: FailureKind::Invalid,
                        status: None,
                        message: reason,
                        fix: "see the reason; an org's last owner cannot be removed".to_string(),
                    }),
                    None => Ok((ActionOutcome::Done, "removed from the CSP org".to_string())),
                },
            ),
    };
    let (outcome, detail) = match outcome {
        Ok(done) => done,
        // Someone else removed it first: the goal holds.
        Err(e) if e.kind == FailureKind::NotFound => (ActionOutcome::AlreadyAbsent, e.to_string()),
        Err(e) => (ActionOutcome::Failed, e.to_string()),
    };
    ActionResult {
        id: action.id,
        system: action.system,
        target: action.target.clone(),
        outcome,
        detail,
    }
}
