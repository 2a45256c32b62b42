//! Provisioning one person end to end (`provision_user`): invite if needed, wait (a bounded
//! time) for them to accept, then bind the role and verify it.
//!
//! Every step is idempotent, so the same call made again later picks up where the last one
//! stopped: an invitation already sent is not sent again, and a person who accepted meanwhile
//! is bound. Nothing is bound before the person is ACTIVE (a binding for an invitee fails or
//! dangles), so a call that runs out of time leaves no binding anywhere and says what is left.
//! The invitation and the binding are each a change of their own (audited as `provision_user`,
//! with their own approvals when the write policy asks for one); the wait holds no lock.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

// tokio's clock, as the sleeps use: one clock for waiting and measuring it.
use tokio::time::Instant;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Serialize;

use super::Systems;
use super::bind::{Bind, Grant, Grantee};
use super::change::{
    ActionOutcome, Change, ChangePlan, Gate, Outcome, Report, Unapproved, Verification, apply,
};
use super::error::{AccessError, AccessResult};
use super::invite::{Invitations, Invite};
use super::person::standing;
use super::policy::{Class, WritePolicy};
use super::ports::{Subject, System};
use super::scope::BindTarget;
use super::unbind::{configured, missing_scope, role_name};
use super::warning::Warning;

/// The longest wait one call may take: many clients give up on a call after about 60 s.
pub const MAX_WAIT: Duration = Duration::from_secs(45);
/// The first pause between two looks at the directory; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const MAX_PAUSE: Duration = Duration::from_secs(4);

/// Told while the call waits for the person to accept, for progress notifications.
pub trait Waiting: Send + Sync {
    fn waiting(&self, message: String);
}

/// What `provision_user` was asked to do.
pub struct Provision {
    pub email: String,
    pub role: String,
    pub target: BindTarget,
    pub org_role: String,
    /// How long to wait for the person to accept (at most [`MAX_WAIT`]).
    pub wait: Duration,
    pub policy: Arc<WritePolicy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProvisionStatus {
    /// The person is ACTIVE and holds the role (verified).
    Done,
    /// Invited, not accepted yet: nothing is bound; call again with the same arguments later.
    Pending,
    /// A privileged invitation or grant needs a human's approval: see `message`.
    ConfirmationRequired,
    /// The approval was declined or invalid: nothing further changed.
    Cancelled,
    /// The world changed after the approval: approve the new plan.
    PlanChanged,
}

/// Where the person stands in the CSP org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Membership {
    /// A member before this call.
    AlreadyMember,
    /// Invited by this call.
    Invited,
    /// Invited earlier and not accepted before this call.
    AlreadyInvited,
    /// Neither a member nor invited: the invitation this call would send needs a human's
    /// approval first (`status` says whether it is asked for, declined or changed).
    NotInvited,
}

/// How the binding step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Binding {
    /// Created by this call.
    Bound,
    /// Already held; nothing changed.
    AlreadyBound,
    /// Not attempted: the person is not ACTIVE yet.
    NotYet,
    /// Waiting for a human's approval.
    AwaitingApproval,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProvisionResult {
    pub status: ProvisionStatus,
    pub email: String,
    pub role: String,
    /// Where, in words.
    pub target: String,
    pub membership: Membership,
    /// Whether the person is an ACTIVE member now.
    pub active: bool,
    pub binding: Binding,
    /// The Kubernetes binding that holds the person (TAP targets, once bound).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes_binding: Option<String>,
    /// Exactly what is left to do, in order; empty when done.
    pub remaining: Vec<String>,
    /// How long this call waited for the person to accept.
    pub waited_seconds: u64,
    pub message: String,
    pub warnings: Vec<Warning>,
    /// For a privileged invitation that did not run: the plan a human must approve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation_plan: Option<ChangePlan<Invitations>>,
    /// For a privileged grant that did not run: the plan a human must approve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding_plan: Option<ChangePlan<Grant>>,
    /// With `--confirm token`: pass as `confirm` in the same call to run the plan shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation_token: Option<String>,
}

/// A step of provisioning, audited and approved under `provision_user`.
struct AsProvision<C>(C);

#[async_trait]
impl<C: Change> Change for AsProvision<C> {
    type About = C::About;
    const TOOL: &'static str = "provision_user";

    fn key(&self) -> &str {
        self.0.key()
    }
    async fn plan(&self, systems: &Systems) -> AccessResult<ChangePlan<C::About>> {
        self.0.plan(systems).await
    }
    fn needs_approval(&self, plan: &ChangePlan<C::About>) -> Option<String> {
        self.0.needs_approval(plan)
    }
    fn audit_in_place(&self, plan: &ChangePlan<C::About>) -> Option<System> {
        self.0.audit_in_place(plan)
    }
}

/// A call that stopped for want of a human's approval: what to show, and why it stopped.
pub type Stopped<P> = (ProvisionResult, Unapproved<P>);

/// Invite if needed, wait, bind, verify.
pub async fn provision<P: Send>(
    systems: &Systems,
    request: &Provision,
    gate: &Gate<'_, P>,
    waiting: &dyn Waiting,
) -> AccessResult<Result<ProvisionResult, Stopped<P>>> {
    let email = &request.email;
    let standing = standing(systems, email).await?;
    let mut result = ProvisionResult {
        status: ProvisionStatus::Done,
        email: email.clone(),
        role: request.role.clone(),
        target: request.target.to_string(),
        // Where the person stands before this call; only a sent invitation changes it.
        membership: match (&standing.member, standing.pending.is_empty()) {
            (Some(_), _) => Membership::AlreadyMember,
            (None, false) => Membership::AlreadyInvited,
            (None, true) => Membership::NotInvited,
        },
        active: standing.member.is_some(),
        binding: Binding::NotYet,
        kubernetes_binding: None,
        remaining: vec![],
        waited_seconds: 0,
        message: String::new(),
        warnings: vec![],
        invitation_plan: None,
        binding_plan: None,
        confirmation_token: None,
    };
    if !result.active {
        // Check the grant could be made before inviting anyone for it.
        preflight(systems, request).await?;
        if result.membership == Membership::NotInvited {
            match invite(systems, request, gate).await? {
                Ok(()) => result.membership = Membership::Invited,
                Err((plan, unapproved)) => {
                    result.status = unapproved_status(&unapproved);
                    result.message = format!(
                        "nothing changed: inviting {email} as {} needs a human's approval",
                        request.org_role
                    );
                    result.remaining = vec![
                        format!("a human approves inviting {email} as {}", request.org_role),
                        accept_step(email),
                        bind_step(request),
                    ];
                    result.invitation_plan = Some(plan);
                    return Ok(Err((result, unapproved)));
                }
            }
        }
        let started = Instant::now();
        result.active = wait_for_acceptance(systems, request, waiting).await?;
        result.waited_seconds = started.elapsed().as_secs();
        if !result.active {
            result.status = ProvisionStatus::Pending;
            result.remaining = vec![accept_step(email), bind_step(request)];
            result.message = format!(
                "{email} has not accepted the CSP invitation yet{}, so nothing is bound anywhere. Once they accept (list_members with status ACTIVE shows it), call provision_user again with the same arguments to finish",
                if request.wait.is_zero() {
                    " (no wait_seconds given)".to_string()
                } else {
                    format!(" after {} s", request.wait.as_secs())
                }
            );
            return Ok(Ok(result));
        }
    }
    let bind = AsProvision(Bind {
        grantee: Grantee::User(email.clone()),
        role: request.role.clone(),
        target: request.target.clone(),
        policy: request.policy.clone(),
    });
    let report = apply(systems, &bind, gate).await?;
    bound(result, report)
}

/// The binding step's report, as the call's result.
fn bound<P>(
    mut result: ProvisionResult,
    report: Report<Grant, P>,
) -> AccessResult<Result<ProvisionResult, Stopped<P>>> {
    let plan = report.plan;
    result.kubernetes_binding = plan.about.binding.clone();
    result.warnings = plan.warnings.clone();
    let outcome = match report.outcome.approved() {
        Ok(outcome) => outcome,
        Err(unapproved) => {
            result.status = unapproved_status(&unapproved);
            result.binding = Binding::AwaitingApproval;
            result.message = format!(
                "{} is ACTIVE, but nothing is bound yet: this grant needs a human's approval because {}",
                result.email,
                plan.about
                    .privileged
                    .as_deref()
                    .unwrap_or("the policy says so")
            );
            result.remaining = vec![format!(
                "a human approves binding {} on {}",
                result.role, result.target
            )];
            result.binding_plan = Some(plan);
            return Ok(Err((result, unapproved)));
        }
    };
    result.binding = match outcome {
        Outcome::Ran {
            results,
            verification,
            audit_failure,
        } => {
            if let Some(failure) = audit_failure {
                return Err(AccessError::refused(
                    format!("the binding was attempted, but {failure}"),
                    "check --audit-log's file and disk",
                ));
            }
            let ran = results
                .first()
                .ok_or_else(|| AccessError::invalid("the binding plan had no action"))?;
            let binding = match ran.outcome {
                ActionOutcome::Done => Binding::Bound,
                ActionOutcome::AlreadyPresent | ActionOutcome::AlreadyAbsent => {
                    Binding::AlreadyBound
                }
                ActionOutcome::Failed | ActionOutcome::Skipped => {
                    return Err(AccessError::refused(
                        format!(
                            "{} is ACTIVE, but binding failed: {}",
                            result.email, ran.detail
                        ),
                        "see the message; call provision_user again once it is fixed",
                    ));
                }
            };
            match verification {
                Verification::Verified | Verification::NotRun => {}
                Verification::Remaining(_) => {
                    return Err(AccessError::refused(
                        "the system accepted the binding but does not show it",
                        "call provision_user again; if it persists, check the system",
                    ));
                }
                Verification::Unverified(e) => return Err(e),
            }
            binding
        }
        _ => Binding::AlreadyBound,
    };
    result.status = ProvisionStatus::Done;
    result.message = format!(
        "{} is ACTIVE and holds {} on {} ({}, verified)",
        result.email,
        result.role,
        result.target,
        match result.binding {
            Binding::Bound => "bound now",
            _ => "it was already bound",
        }
    );
    Ok(Ok(result))
}

/// Send the invitation; `Err` with its plan when it waits for a human's approval.
async fn invite<P: Send>(
    systems: &Systems,
    request: &Provision,
    gate: &Gate<'_, P>,
) -> AccessResult<Result<(), (ChangePlan<Invitations>, Unapproved<P>)>> {
    let change = AsProvision(Invite {
        emails: BTreeSet::from([request.email.clone()]),
        org_role: request.org_role.clone(),
        policy: request.policy.clone(),
    });
    let report = apply(systems, &change, gate).await?;
    match report.outcome.approved() {
        Err(unapproved) => Ok(Err((report.plan, unapproved))),
        Ok(Outcome::Ran {
            results,
            verification,
            audit_failure,
        }) => {
            if let Some(failed) = results.iter().find(|r| !r.succeeded()) {
                return Err(AccessError::refused(
                    format!("inviting {} failed: {}", request.email, failed.detail),
                    "see the message; call provision_user again once it is fixed",
                ));
            }
            if let Some(failure) = audit_failure {
                return Err(AccessError::refused(
                    format!("the invitation was sent, but {failure}"),
                    "check --audit-log's file and disk",
                ));
            }
            match verification {
                Verification::Remaining(_) => Err(AccessError::refused(
                    "CSP accepted the invitation but does not list it",
                    "check the org's invitations, then call provision_user again",
                )),
                Verification::Unverified(e) => Err(e),
                Verification::Verified | Verification::NotRun => Ok(Ok(())),
            }
        }
        Ok(_) => Ok(Ok(())),
    }
}

/// Look at the directory with growing pauses until the person is a member or the time is up.
async fn wait_for_acceptance(
    systems: &Systems,
    request: &Provision,
    waiting: &dyn Waiting,
) -> AccessResult<bool> {
    let limit = request.wait.min(MAX_WAIT);
    let started = Instant::now();
    let mut pause = FIRST_PAUSE;
    loop {
        let elapsed = started.elapsed();
        if elapsed >= limit {
            return Ok(false);
        }
        waiting.waiting(format!(
            "waiting for {} to accept the CSP invitation ({} s of {} s)",
            request.email,
            elapsed.as_secs(),
            limit.as_secs()
        ));
        tokio::time::sleep(pause.min(limit - elapsed)).await;
        pause = (pause * 2).min(MAX_PAUSE);
        if systems
            .directory
            .find_member(&request.email)
            .await?
            .is_some()
        {
            return Ok(true);
        }
    }
}

/// What a grant needs that does not depend on the person: a known role, an existing scope,
/// a grant the write policy does not forbid.
async fn preflight(systems: &Systems, request: &Provision) -> AccessResult<()> {
    let role = role_name(&request.role, &request.target)?;
    let target = &request.target;
    let rules = match target {
        BindTarget::Tmc(scope) => {
            let roles = systems.tmc.roles().await?;
            if !roles.contains(&role) {
                return Err(unknown(&role, "TMC role", roles));
            }
            systems
                .tmc
                .policy(scope)
                .await
                .map_err(|e| missing_scope(e, target))?;
            None
        }
        BindTarget::Tap { cluster, namespace } => {
            configured(systems, cluster)?;
            let roles = systems.rbac.cluster_roles(cluster).await?;
            if !roles.contains(&role) {
                return Err(unknown(
                    &role,
                    &format!("ClusterRole on TAP cluster '{cluster}'"),
                    roles,
                ));
            }
            if let Some(ns) = namespace {
                let namespaces = systems.rbac.namespaces(cluster).await?;
                if !namespaces.contains(ns) {
                    return Err(AccessError::refused(
                        format!("namespace '{ns}' does not exist on TAP cluster '{cluster}'"),
                        format!("use one of: {}", namespaces.join(", ")),
                    ));
                }
            }
            Some(systems.rbac.cluster_role_rules(cluster, &role).await?)
        }
    };
    let subject = Subject::user(request.email.clone());
    if let Class::Forbidden(reason) =
        request
            .policy
            .classify_grant(&subject, &role, target, rules.as_deref())
    {
        return Err(AccessError::refused(
            format!("{reason}; this grant is never made, whoever approves it"),
            "choose another role",
        ));
    }
    Ok(())
}

fn unknown(role: &str, what: &str, mut valid: Vec<String>) -> AccessError {
    valid.sort();
    AccessError::refused(
        format!("'{role}' is not a known {what}"),
        format!("use one of: {}", valid.join(", ")),
    )
}

fn accept_step(email: &str) -> String {
    format!("{email} accepts the CSP invitation sent to their email")
}

fn bind_step(request: &Provision) -> String {
    format!(
        "bind {} to {} on {} (provision_user does it when called again)",
        request.email, request.role, request.target
    )
}

fn unapproved_status<P>(unapproved: &Unapproved<P>) -> ProvisionStatus {
    match unapproved {
        Unapproved::Pending {
            plan_changed: true, ..
        }
        | Unapproved::KeptChanging => ProvisionStatus::PlanChanged,
        Unapproved::Pending { .. } | Unapproved::CannotAsk(_) => {
            ProvisionStatus::ConfirmationRequired
        }
        Unapproved::Refused(_) => ProvisionStatus::Cancelled,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::access::approval::{ApprovalRequest, Approver, Decision};
    use crate::access::audit::{AuditError, AuditRecord, AuditSink, Requester};
    use crate::access::change::NoProgress;
    use crate::access::change::locks::ChangeLocks;
    use crate::access::fakes::{Fake, member, small_world};
    use crate::access::ports::TmcScope;

    struct Nobody;

    #[async_trait]
    impl Approver for Nobody {
        type Pending = ();
        async fn decide(&self, _: &ApprovalRequest<'_>) -> Decision<()> {
            Decision::CannotAsk("no human in this test".into())
        }
    }

    struct Discard;

    impl AuditSink for Discard {
        fn record(&self, _: &AuditRecord<'_>) -> Result<(), AuditError> {
            Ok(())
        }
    }

    /// Records the notes; the person accepts at the `accept_at`-th one.
    struct Notes<'a> {
        fake: &'a Fake,
        seen: Mutex<Vec<String>>,
        accept_at: Option<usize>,
    }

    impl Waiting for Notes<'_> {
        fn waiting(&self, message: String) {
            let mut seen = self.seen.lock().unwrap();
            seen.push(message);
            if self.accept_at == Some(seen.len()) {
                let mut world = self.fake.world();
                world.invitations.clear();
                world.members.push(member(999, "carol@example.com"));
            }
        }
    }

    fn request(wait_secs: u64) -> Provision {
        Provision {
            email: "carol@example.com".into(),
            role: "cluster.view".into(),
            target: BindTarget::Tmc(TmcScope::Cluster {
                name: "dev".into(),
                management_cluster: "attached".into(),
                provisioner: "attached".into(),
            }),
            org_role: "org_member".into(),
            wait: Duration::from_secs(wait_secs),
            policy: Arc::default(),
        }
    }

    async fn run(
        fake: &Fake,
        wait_secs: u64,
        accept_at: Option<usize>,
    ) -> (ProvisionResult, usize) {
        let (locks, requester) = (
            ChangeLocks::default(),
            Requester {
                client: "t".into(),
                credential: None,
            },
        );
        let gate = Gate {
            approver: &Nobody,
            audit: &Discard,
            progress: &NoProgress,
            requester: &requester,
            locks: &locks,
        };
        let notes = Notes {
            fake,
            seen: Mutex::default(),
            accept_at,
        };
        let result = provision(&fake.systems(), &request(wait_secs), &gate, &notes)
            .await
            .unwrap()
            .map_err(|_| "stopped for an approval")
            .unwrap();
        let seen = notes.seen.lock().unwrap().len();
        (result, seen)
    }

    fn carol_bound(fake: &Fake) -> bool {
        fake.world()
            .tmc
            .values()
            .flatten()
            .any(|b| b.subjects.iter().any(|s| s.name == "carol@example.com"))
    }

    #[tokio::test(start_paused = true)]
    async fn the_wait_backs_off_stops_at_the_limit_and_binds_nothing() {
        let fake = small_world();
        let (result, notes) = run(&fake, 10, None).await;
        assert_eq!(result.status, ProvisionStatus::Pending);
        assert_eq!(result.binding, Binding::NotYet);
        assert_eq!(result.remaining.len(), 2);
        assert_eq!(result.waited_seconds, 10);
        // Looks at 0.5, 1.5, 3.5, 7.5 and 10 s: fewer looks than seconds.
        assert_eq!(notes, 5, "one progress note before each pause");
        assert!(!carol_bound(&fake));
    }

    #[tokio::test(start_paused = true)]
    async fn accepted_while_waiting_is_bound_once() {
        let fake = small_world();
        let (result, _) = run(&fake, 30, Some(2)).await;
        assert_eq!(result.status, ProvisionStatus::Done, "{result:#?}");
        assert_eq!(result.binding, Binding::Bound);
        assert!(result.waited_seconds < 30);
        assert!(carol_bound(&fake));
        let (again, notes) = run(&fake, 30, None).await;
        assert_eq!(again.binding, Binding::AlreadyBound);
        assert_eq!(notes, 0, "an ACTIVE member is not waited for");
    }
}
