//! Carrying out a plan's actions against the systems, one operation at a time.
//!
//! Bindings go first and concurrently (bounded): grants, then removals only when every grant
//! succeeded, so that a change of role never leaves the subject with neither role. CSP actions
//! run after them, in order, and only when every binding action succeeded, so that a person is
//! never removed from the directory while bindings that name them remain, and a rerun still
//! finds them. Every operation is
//! idempotent in effect: a target already in the wanted state counts as success, so running
//! the same plan again after a partial failure finishes it.

use futures::{StreamExt, stream};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::plan::{Operation, PlannedAction};
use crate::access::Systems;
use crate::access::inventory::{FAN_OUT, TAP_CLUSTERS_IN_FLIGHT};
use crate::access::ports::{
    BackendError, BindingRef, FailureKind, NewBinding, RoleKind, SubjectRemoval, System,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionOutcome {
    /// The change was made.
    Done,
    /// Nothing to do: the target was already gone.
    AlreadyAbsent,
    /// Nothing to do: what the action adds was already there.
    AlreadyPresent,
    Failed,
    /// Not attempted (CSP changes wait until every binding action succeeded, and nothing runs
    /// once the audit log cannot be written).
    Skipped,
}

impl ActionOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionOutcome::Done => "done",
            ActionOutcome::AlreadyAbsent => "already_absent",
            ActionOutcome::AlreadyPresent => "already_present",
            ActionOutcome::Failed => "failed",
            ActionOutcome::Skipped => "skipped",
        }
    }
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
            ActionOutcome::Done | ActionOutcome::AlreadyAbsent | ActionOutcome::AlreadyPresent
        )
    }

    pub fn skipped(action: &PlannedAction, detail: impl Into<String>) -> Self {
        ActionResult {
            id: action.id,
            system: action.system,
            target: action.target.clone(),
            outcome: ActionOutcome::Skipped,
            detail: detail.into(),
        }
    }
}

/// Runs one action, after the caller's own checks (audit, progress) around it.
#[async_trait::async_trait]
pub trait Runner: Send + Sync {
    async fn run(&self, action: &PlannedAction) -> ActionResult;
}

/// Carry out `actions` in the order the module doc describes, through `runner`.
/// Run binding actions concurrently, in plan order. TMC is one API (FAN_OUT at once); each TAP
/// cluster is its own API server, so actions on 50 clusters go at once under the scan's global
/// bound instead of 8 at a time.
async fn run_bindings(actions: Vec<&PlannedAction>, runner: &dyn Runner) -> Vec<ActionResult> {
    let (tmc, tap): (Vec<_>, Vec<_>) = actions.into_iter().partition(|a| a.system == System::Tmc);
    let tmc: Vec<_> = tmc.into_iter().map(|a| runner.run(a)).collect();
    let tap: Vec<_> = tap.into_iter().map(|a| runner.run(a)).collect();
    let (tmc, tap): (Vec<ActionResult>, Vec<ActionResult>) = futures::join!(
        stream::iter(tmc).buffered(FAN_OUT).collect(),
        stream::iter(tap).buffered(TAP_CLUSTERS_IN_FLIGHT).collect()
    );
    let mut results: Vec<ActionResult> = tmc.into_iter().chain(tap).collect();
    results.sort_by_key(|r| r.id);
    results
}

pub async fn execute(actions: &[PlannedAction], runner: &dyn Runner) -> Vec<ActionResult> {
    let (bindings, directory): (Vec<_>, Vec<_>) =
        actions.iter().partition(|a| a.system != System::Csp);
    let (grants, removals): (Vec<_>, Vec<_>) =
        bindings.into_iter().partition(|a| a.operation.grants());
    let mut results = run_bindings(grants, runner).await;
    if results.iter().all(ActionResult::succeeded) {
        results.extend(run_bindings(removals, runner).await);
    } else {
        results.extend(removals.into_iter().map(|action| {
            ActionResult::skipped(
                action,
                "not attempted because adding the new role failed; nothing was removed",
            )
        }));
    }
    let bindings_ok = results.iter().all(ActionResult::succeeded);
    for action in directory {
        results.push(if bindings_ok {
            runner.run(action).await
        } else {
            ActionResult::skipped(
                action,
                "not attempted because a binding change failed; call the same tool again to finish",
            )
        });
    }
    results
}

/// Carry out one operation against the systems.
pub async fn run_operation(systems: &Systems, action: &PlannedAction) -> ActionResult {
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
            .remove_subject(
                BindingRef {
                    cluster,
                    namespace: namespace.as_deref(),
                    name: binding,
                },
                subject,
            )
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
        Operation::TmcAddSubject {
            scope,
            role,
            subject,
        } => systems
            .tmc
            .add_binding(scope, role, subject)
            .await
            .map(|()| {
                (
                    ActionOutcome::Done,
                    format!("bound {} to {role}", subject.name),
                )
            }),
        Operation::TapCreateBinding {
            cluster,
            namespace,
            binding,
            role,
            subject,
        } => match systems
            .rbac
            .create_binding(NewBinding {
                cluster,
                namespace: namespace.as_deref(),
                name: binding,
                role,
                subjects: std::slice::from_ref(subject),
            })
            .await
        {
            Ok(()) => Ok((ActionOutcome::Done, format!("created {binding}"))),
            // The name is taken: fine if it is this very grant (made concurrently, or by a
            // create whose answer was lost), a failure if it holds something else.
            Err(e) if e.kind == FailureKind::Conflict => {
                systems.rbac.bindings(cluster).await.map(|now| {
                    let same = now.iter().any(|b| {
                        b.name == *binding
                            && b.namespace == *namespace
                            && b.role_kind == RoleKind::ClusterRole
                            && b.role_name == *role
                            && b.subjects.contains(subject)
                    });
                    if same {
                        (
                            ActionOutcome::AlreadyPresent,
                            format!("{binding} already grants this"),
                        )
                    } else {
                        (
                            ActionOutcome::Failed,
                            format!(
                                "a binding named '{binding}' already exists and grants something else; \
                                 inspect it with kubectl, delete or rename it, then call again"
                            ),
                        )
                    }
                })
            }
            Err(e) => Err(e),
        },
        Operation::TmcMoveSubject {
            scope,
            subject,
            from_role,
            to_role,
        } => systems
            .tmc
            .move_binding(scope, subject, from_role, to_role)
            .await
            .map(|()| {
                (
                    ActionOutcome::Done,
                    format!("moved {} from {from_role} to {to_role}", subject.name),
                )
            }),
        Operation::CspInvite { emails, org_role } => systems
            .directory
            .invite(emails, org_role)
            .await
            .map(|()| (ActionOutcome::Done, format!("invited as {org_role}"))),
    };
    let (outcome, detail) = match outcome {
        Ok(done) => done,
        // Someone else removed it first: the goal holds.
        Err(e) if e.kind == FailureKind::NotFound && is_removal(&action.operation) => {
            (ActionOutcome::AlreadyAbsent, e.to_string())
        }
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

fn is_removal(operation: &Operation) -> bool {
    matches!(
        operation,
        Operation::TmcRemoveSubject { .. }
            | Operation::TapRemoveSubject { .. }
            | Operation::CspRevokeInvitation { .. }
            | Operation::CspRemoveMember { .. }
    )
}
