//! The one path every change takes, whatever the tool:
//! plan -> approval (when the change needs a human) -> plan again and compare digests ->
//! execute -> verify the plan's own targets -> audit.
//!
//! A tool describes its change by implementing [`Change`] (how to plan it, and whether the plan
//! needs a human); the server supplies a [`Gate`]: how to ask a human ([`Approver`]), where the
//! audit trail goes ([`AuditSink`]) and where progress goes ([`Progress`]). What is audited,
//! and when, is decided here: before each action an intent record is written and flushed, and
//! the action is not made when that fails (the audit log fails closed); its outcome record
//! follows. Once any record cannot be written, nothing further is attempted.
//!
//! - [`plan`]: plans, their actions and digest.
//! - [`execute`]: running the actions against the systems, in a safe order.

pub mod execute;
pub mod locks;
pub mod plan;

use std::sync::Mutex;

use async_trait::async_trait;

pub use execute::{ActionOutcome, ActionResult};
pub use plan::{About, ChangePlan, Operation, PlannedAction, Step};

use super::Systems;
use super::approval::{ApprovalRequest, Approver, Decision, Round};
use super::audit::{AuditRecord, AuditSink, Phase, Requester};
use super::error::{AccessError, AccessResult};
use super::ports::System;

/// How often a human is asked again because the plan kept changing while they decided.
const MAX_ROUNDS: usize = 3;

/// A change a tool wants to make.
#[async_trait]
pub trait Change: Send + Sync {
    type About: About;
    /// The tool's name, for the audit trail and approval prompts.
    const TOOL: &'static str;

    /// Who the change is about, before planning: changes with the same key never overlap.
    fn key(&self) -> &str;

    /// Read the world and plan. Planning changes nothing; an empty plan means the goal holds.
    async fn plan(&self, systems: &Systems) -> AccessResult<ChangePlan<Self::About>>;

    /// Why this plan needs a human's approval, or `None` when it may run without one.
    fn needs_approval(&self, plan: &ChangePlan<Self::About>) -> Option<String>;

    /// An empty plan is normally not audited: nothing was attempted. A grant asked for and
    /// found in place is (the request itself is worth a record): say in which system.
    fn audit_in_place(&self, _plan: &ChangePlan<Self::About>) -> Option<System> {
        None
    }
}

/// Told after each action, for progress notifications.
pub trait Progress: Send + Sync {
    /// `action` ended as `result`; the plan has `total` actions.
    fn action_done(&self, action: &PlannedAction, result: &ActionResult, total: usize);
}

/// No progress reporting.
pub struct NoProgress;

impl Progress for NoProgress {
    fn action_done(&self, _: &PlannedAction, _: &ActionResult, _: usize) {}
}

/// What the server provides to every change.
pub struct Gate<'a, P> {
    pub approver: &'a dyn Approver<Pending = P>,
    pub audit: &'a dyn AuditSink,
    pub progress: &'a dyn Progress,
    pub requester: &'a Requester,
    /// Serializes changes to one person from plan to verify.
    pub locks: &'a locks::ChangeLocks,
}

/// What a run of the lifecycle found after running the plan.
#[derive(Debug)]
pub enum Verification {
    /// Planning again found nothing left to do.
    Verified,
    /// Every action succeeded, yet these remain (the world changed meanwhile).
    Remaining(Vec<PlannedAction>),
    /// Planning again failed, so the result is not known.
    Unverified(AccessError),
    /// Not checked, because an action failed.
    NotRun,
}

/// How a change ended.
#[derive(Debug)]
pub enum Outcome<P> {
    /// The plan was empty: the goal already held.
    NothingToDo,
    /// Waiting for a human's answer in a later call; `plan_changed` when this plan replaces one
    /// approved earlier.
    Pending { pending: P, plan_changed: bool },
    /// Nobody can be asked: nothing changed.
    CannotAsk(String),
    /// The human declined, or the approval was not valid: nothing changed.
    Refused(String),
    /// The plan changed every time the human approved it: nothing changed.
    KeptChanging,
    /// The plan ran.
    Ran {
        results: Vec<ActionResult>,
        verification: Verification,
        /// Set when an audit record could not be written (and nothing further was attempted).
        audit_failure: Option<String>,
    },
}

/// Why a plan did not run for want of a human's approval.
#[derive(Debug)]
pub enum Unapproved<P> {
    /// Waiting for the answer in a later call.
    Pending { pending: P, plan_changed: bool },
    /// Nobody can be asked through this client.
    CannotAsk(String),
    /// Declined, or the approval was not valid.
    Refused(String),
    /// The plan changed every time it was approved.
    KeptChanging,
}

impl<P> Outcome<P> {
    /// Split off the outcomes in which nothing ran for want of an approval.
    pub fn approved(self) -> Result<Outcome<P>, Unapproved<P>> {
        match self {
            Outcome::Pending {
                pending,
                plan_changed,
            } => Err(Unapproved::Pending {
                pending,
                plan_changed,
            }),
            Outcome::CannotAsk(why) => Err(Unapproved::CannotAsk(why)),
            Outcome::Refused(why) => Err(Unapproved::Refused(why)),
            Outcome::KeptChanging => Err(Unapproved::KeptChanging),
            other => Ok(other),
        }
    }
}

/// The plan that was shown or run, and how it ended.
#[derive(Debug)]
pub struct Report<A, P> {
    pub plan: ChangePlan<A>,
    pub outcome: Outcome<P>,
}

impl<A, P> Report<A, P> {
    /// Whether the plan ran and every action succeeded.
    pub fn succeeded(&self) -> bool {
        matches!(&self.outcome, Outcome::Ran { results, audit_failure: None, .. }
            if results.iter().all(ActionResult::succeeded))
    }
}

/// Take `change` through the whole lifecycle.
pub async fn apply<C: Change, P: Send>(
    systems: &Systems,
    change: &C,
    gate: &Gate<'_, P>,
) -> AccessResult<Report<C::About, P>> {
    let _held = gate.locks.hold(change.key()).await;
    let mut plan = change.plan(systems).await?;
    if plan.is_empty() {
        if let Some(system) = change.audit_in_place(&plan) {
            let headline = plan.about.headline(0);
            let record = AuditRecord {
                phase: Phase::Outcome,
                tool: C::TOOL,
                target: plan.about.target(),
                system,
                action: headline.trim_end_matches(':'),
                outcome: ActionOutcome::AlreadyPresent.as_str(),
                detail: "",
                client: &gate.requester.client,
                credential: gate.requester.credential.as_deref(),
            };
            gate.audit.record(&record).map_err(|e| {
                AccessError::refused(e.to_string(), "check --audit-log's file and disk")
            })?;
        }
        return Ok(Report {
            plan,
            outcome: Outcome::NothingToDo,
        });
    }
    if let Some(reason) = change.needs_approval(&plan) {
        let mut round = Round::First;
        let mut approved = false;
        for _ in 0..MAX_ROUNDS {
            let summary = plan.summary();
            let request = ApprovalRequest {
                tool: C::TOOL,
                target: plan.about.target(),
                digest: &plan.digest,
                summary: &summary,
                reason: &reason,
                round,
            };
            let outcome = match gate.approver.decide(&request).await {
                Decision::Approved {
                    digest,
                    while_waiting,
                } => {
                    if while_waiting {
                        // The human took their time: only the plan they saw may run.
                        plan = change.plan(systems).await?;
                    }
                    if plan.digest == digest {
                        approved = true;
                        break;
                    }
                    if plan.is_empty() {
                        Some(Outcome::NothingToDo)
                    } else {
                        round = Round::PlanChanged;
                        None
                    }
                }
                Decision::Pending(pending) => Some(Outcome::Pending {
                    pending,
                    plan_changed: round == Round::PlanChanged,
                }),
                Decision::Refused(why) => Some(Outcome::Refused(why)),
                Decision::CannotAsk(why) => Some(Outcome::CannotAsk(why)),
            };
            if let Some(outcome) = outcome {
                return Ok(Report { plan, outcome });
            }
        }
        if !approved {
            return Ok(Report {
                plan,
                outcome: Outcome::KeptChanging,
            });
        }
    }
    let (results, audit_failure) = run_audited::<C, P>(systems, &plan, gate).await;
    let verification = if results.iter().all(ActionResult::succeeded) && audit_failure.is_none() {
        match change.plan(systems).await {
            Ok(left) if left.is_empty() => Verification::Verified,
            Ok(left) => Verification::Remaining(left.actions),
            Err(e) => Verification::Unverified(e),
        }
    } else {
        Verification::NotRun
    };
    Ok(Report {
        plan,
        outcome: Outcome::Ran {
            results,
            verification,
            audit_failure,
        },
    })
}

/// Runs each action between its intent record and its outcome record, and reports progress;
/// once a record cannot be written, the remaining actions are skipped.
struct AuditedRunner<'a, P> {
    systems: &'a Systems,
    tool: &'static str,
    target: &'a str,
    total: usize,
    gate: &'a Gate<'a, P>,
    audit_failure: Mutex<Option<String>>,
}

#[async_trait]
impl<P: Send> execute::Runner for AuditedRunner<'_, P> {
    async fn run(&self, action: &PlannedAction) -> ActionResult {
        if let Some(failure) = self.failure() {
            return ActionResult::skipped(action, format!("not attempted: {failure}"));
        }
        let described = format!("{}: {}", action.target, action.effect);
        let record = |phase, outcome, detail| AuditRecord {
            phase,
            tool: self.tool,
            target: self.target,
            system: action.system,
            action: &described,
            outcome,
            detail,
            client: &self.gate.requester.client,
            credential: self.gate.requester.credential.as_deref(),
        };
        // No intent on record, no action: an unaudited change is worse than none.
        if let Err(e) = self
            .gate
            .audit
            .record(&record(Phase::Intent, "intended", ""))
        {
            let failure = self.failed(e.to_string());
            let result = ActionResult::skipped(action, format!("not attempted: {failure}"));
            self.gate.progress.action_done(action, &result, self.total);
            return result;
        }
        let result = execute::run_operation(self.systems, action).await;
        let outcome = record(Phase::Outcome, result.outcome.as_str(), &result.detail);
        if let Err(e) = self.gate.audit.record(&outcome) {
            self.failed(e.to_string());
        }
        self.gate.progress.action_done(action, &result, self.total);
        result
    }
}

impl<P> AuditedRunner<'_, P> {
    /// Remember the first audit failure; returns it.
    fn failed(&self, error: String) -> String {
        let mut failure = self.audit_failure.lock().unwrap_or_else(|p| p.into_inner());
        failure.get_or_insert(error).clone()
    }

    fn failure(&self) -> Option<String> {
        self.audit_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Run one action outside a plan (a step that undoes part of a change that ran), with the same
/// intent and outcome records as a planned one; the audit failure, if any, is returned.
pub async fn run_compensation<C: Change, P: Send>(
    systems: &Systems,
    target: &str,
    action: &PlannedAction,
    gate: &Gate<'_, P>,
) -> (ActionResult, Option<String>) {
    let runner = AuditedRunner {
        systems,
        tool: C::TOOL,
        target,
        total: 1,
        gate,
        audit_failure: Mutex::new(None),
    };
    let result = execute::Runner::run(&runner, action).await;
    (result, runner.failure())
}

async fn run_audited<C: Change, P: Send>(
    systems: &Systems,
    plan: &ChangePlan<C::About>,
    gate: &Gate<'_, P>,
) -> (Vec<ActionResult>, Option<String>) {
    let runner = AuditedRunner {
        systems,
        tool: C::TOOL,
        target: plan.about.target(),
        total: plan.actions.len(),
        gate,
        audit_failure: Mutex::new(None),
    };
    let results = execute::execute(&plan.actions, &runner).await;
    let failure = runner.failure();
    (results, failure)
}

#[cfg(test)]
mod tests;
