//! The lifecycle's rules, with a scripted approver and a recording audit sink over the fakes:
//! nothing runs without an approval of the plan at hand, a changed world is asked again,
//! every attempted action is audited, and an unwritable audit log stops what follows.

use std::sync::Mutex;

use async_trait::async_trait;

use super::*;
use crate::access::approval::{ApprovalRequest, Approver, Decision, Round};
use crate::access::audit::{AuditError, AuditRecord, AuditSink, Requester};
use crate::access::fakes::{Fake, small_world};
use crate::access::ports::Subject;
use crate::access::revoke::RevokeAll;

/// Answers with the scripted decisions in order, and records what it was asked.
struct Script {
    answers: Mutex<Vec<Decision<&'static str>>>,
    asked: Mutex<Vec<(String, Round)>>,
    /// Called before answering: lets a test change the world while the human "decides".
    meanwhile: Box<dyn Fn() + Send + Sync>,
}

impl Script {
    fn new(answers: Vec<Decision<&'static str>>) -> Self {
        Script {
            answers: Mutex::new(answers.into_iter().rev().collect()),
            asked: Mutex::new(vec![]),
            meanwhile: Box::new(|| {}),
        }
    }
}

#[async_trait]
impl Approver for Script {
    type Pending = &'static str;
    async fn decide(&self, request: &ApprovalRequest<'_>) -> Decision<&'static str> {
        self.asked
            .lock()
            .unwrap()
            .push((request.digest.to_string(), request.round));
        (self.meanwhile)();
        let next = self.answers.lock().unwrap().pop();
        match next {
            // "Approve what you were shown."
            Some(Decision::Approved {
                digest,
                while_waiting,
            }) if digest.is_empty() => Decision::Approved {
                digest: request.digest.to_string(),
                while_waiting,
            },
            Some(other) => other,
            None => Decision::Refused("script ran out".into()),
        }
    }
}

fn approve_shown(while_waiting: bool) -> Decision<&'static str> {
    Decision::Approved {
        digest: String::new(),
        while_waiting,
    }
}

#[derive(Default)]
struct Recorded {
    lines: Mutex<Vec<String>>,
    fail_after: Option<usize>,
}

impl AuditSink for Recorded {
    fn record(&self, record: &AuditRecord<'_>) -> Result<(), AuditError> {
        let mut lines = self.lines.lock().unwrap();
        if self.fail_after.is_some_and(|n| lines.len() >= n) {
            return Err(AuditError {
                path: "audit.jsonl".into(),
                source: std::io::Error::other("disk full"),
            });
        }
        lines.push(format!(
            "{:?} {} {} {} {} by {} via {}",
            record.phase,
            record.tool,
            record.target,
            record.action,
            record.outcome,
            record.client,
            record.credential.unwrap_or("-"),
        ));
        Ok(())
    }
}

fn alice() -> RevokeAll {
    RevokeAll {
        email: "alice@example.com".into(),
        keep_membership: false,
    }
}

async fn run(
    fake: &Fake,
    approver: &Script,
    audit: &Recorded,
) -> Report<crate::access::revoke::Revocation, &'static str> {
    let requester = Requester {
        client: "test".into(),
        credential: Some("ci-bot".into()),
    };
    let locks = locks::ChangeLocks::default();
    let gate = Gate {
        approver,
        audit,
        progress: &NoProgress,
        requester: &requester,
        locks: &locks,
    };
    apply(&fake.systems(), &alice(), &gate).await.unwrap()
}

fn alice_is_member(fake: &Fake) -> bool {
    fake.world()
        .members
        .iter()
        .any(|m| m.email == "alice@example.com")
}

#[tokio::test]
async fn an_approved_plan_runs_is_verified_and_audits_every_action() {
    let fake = small_world();
    let audit = Recorded::default();
    let report = run(&fake, &Script::new(vec![approve_shown(true)]), &audit).await;
    let Outcome::Ran {
        results,
        verification,
        audit_failure,
    } = &report.outcome
    else {
        panic!("{:?}", report.outcome)
    };
    assert!(results.iter().all(ActionResult::succeeded), "{results:?}");
    assert!(matches!(verification, Verification::Verified));
    assert!(audit_failure.is_none());
    let lines = audit.lines.lock().unwrap().clone();
    let phase = |p: &str| lines.iter().filter(|l| l.starts_with(p)).count();
    assert_eq!(phase("Outcome "), report.plan.actions.len(), "{lines:#?}");
    assert_eq!(phase("Intent "), report.plan.actions.len(), "{lines:#?}");
    // Every outcome follows its own intent, and both name the client and its credential.
    for (at, line) in lines.iter().enumerate() {
        assert!(line.ends_with("by test via ci-bot"), "{line}");
        if let Some(rest) = line.strip_prefix("Outcome ") {
            let action = rest.rsplit_once(' ').unwrap().0;
            let action = action.rsplit_once(" by").unwrap().0;
            let action = action.rsplit_once(' ').unwrap().0;
            assert!(
                lines[..at]
                    .iter()
                    .any(|l| l.starts_with(&format!("Intent {action} intended"))),
                "no intent before {line}: {lines:#?}"
            );
        }
    }
    assert!(!alice_is_member(&fake));
}

#[tokio::test]
async fn refused_pending_and_unaskable_change_nothing_and_audit_nothing() {
    for answer in [
        Decision::Refused("declined".into()),
        Decision::Pending("come back later"),
        Decision::CannotAsk("no elicitation".into()),
    ] {
        let fake = small_world();
        let audit = Recorded::default();
        let report = run(&fake, &Script::new(vec![answer]), &audit).await;
        assert!(
            matches!(
                report.outcome,
                Outcome::Refused(_) | Outcome::Pending { .. } | Outcome::CannotAsk(_)
            ),
            "{:?}",
            report.outcome
        );
        assert!(alice_is_member(&fake));
        assert!(audit.lines.lock().unwrap().is_empty());
        assert!(
            !fake
                .world()
                .calls
                .iter()
                .any(|c| c.starts_with("remove") || c.starts_with("revoke"))
        );
    }
}

#[tokio::test]
async fn an_approval_of_another_digest_is_asked_again_never_run() {
    let fake = small_world();
    let audit = Recorded::default();
    let stale = Decision::Approved {
        digest: "an-older-plan".into(),
        while_waiting: false,
    };
    let script = Script::new(vec![stale, Decision::Pending("new token")]);
    let report = run(&fake, &script, &audit).await;
    assert!(matches!(
        report.outcome,
        Outcome::Pending {
            plan_changed: true,
            ..
        }
    ));
    let rounds: Vec<Round> = script.asked.lock().unwrap().iter().map(|a| a.1).collect();
    assert_eq!(rounds, [Round::First, Round::PlanChanged]);
    assert!(alice_is_member(&fake));
}

#[tokio::test]
async fn a_binding_that_appears_while_the_human_decides_is_shown_again_and_removed() {
    let fake = small_world();
    let audit = Recorded::default();
    let mut script = Script::new(vec![approve_shown(true), approve_shown(true)]);
    let world = fake.clone();
    let once = std::sync::atomic::AtomicBool::new(false);
    script.meanwhile = Box::new(move || {
        if !once.swap(true, std::sync::atomic::Ordering::SeqCst) {
            world.world().tap.push(crate::access::ports::RbacBinding {
                cluster: "tap-b".into(),
                namespace: None,
                name: "late".into(),
                role_kind: crate::access::ports::RoleKind::ClusterRole,
                role_name: "view".into(),
                subjects: vec![Subject::user("alice@example.com")],
            });
        }
    });
    let report = run(&fake, &script, &audit).await;
    let asked = script.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 2, "asked again after the world changed");
    assert_ne!(asked[0].0, asked[1].0, "with a new digest");
    assert!(matches!(report.outcome, Outcome::Ran { .. }));
    assert!(!fake.world().tap.iter().any(|b| b.name == "late"));
}

#[tokio::test]
async fn an_unwritable_audit_log_stops_further_actions() {
    let fake = small_world();
    let audit = Recorded {
        fail_after: Some(0),
        ..Recorded::default()
    };
    let report = run(&fake, &Script::new(vec![approve_shown(false)]), &audit).await;
    let Outcome::Ran {
        results,
        audit_failure,
        ..
    } = &report.outcome
    else {
        panic!("{:?}", report.outcome)
    };
    assert!(
        audit_failure
            .as_deref()
            .is_some_and(|f| f.contains("audit.jsonl"))
    );
    assert!(
        results.iter().any(|r| r.outcome == ActionOutcome::Skipped),
        "{results:?}"
    );
    assert!(alice_is_member(&fake), "CSP removal never ran");
}

#[tokio::test]
async fn no_action_is_made_when_its_intent_record_cannot_be_written() {
    let fake = small_world();
    let audit = Recorded {
        fail_after: Some(0),
        ..Recorded::default()
    };
    let report = run(&fake, &Script::new(vec![approve_shown(false)]), &audit).await;
    let Outcome::Ran { results, .. } = &report.outcome else {
        panic!("{:?}", report.outcome)
    };
    assert!(
        results.iter().all(|r| r.outcome == ActionOutcome::Skipped
            && (r.detail.contains("audit.jsonl") || r.system == crate::access::ports::System::Csp)),
        "{results:?}"
    );
    let writes: Vec<String> = fake
        .world()
        .calls
        .iter()
        .filter(|c| c.starts_with("remove") || c.starts_with("revoke"))
        .cloned()
        .collect();
    assert!(writes.is_empty(), "no write without an intent: {writes:?}");
}

#[tokio::test]
async fn an_outcome_that_cannot_be_written_stops_what_follows_and_every_write_had_an_intent() {
    let fake = small_world();
    // The first intent goes through; what follows fails.
    let audit = Recorded {
        fail_after: Some(1),
        ..Recorded::default()
    };
    let report = run(&fake, &Script::new(vec![approve_shown(false)]), &audit).await;
    let Outcome::Ran {
        results,
        audit_failure,
        ..
    } = &report.outcome
    else {
        panic!("{:?}", report.outcome)
    };
    assert!(audit_failure.is_some());
    let made = results
        .iter()
        .filter(|r| r.outcome != ActionOutcome::Skipped)
        .count();
    assert_eq!(
        made, 1,
        "only the action with an intent on record: {results:?}"
    );
    assert!(alice_is_member(&fake));
}
