//! A plan: every action a change would take, in order, described for a human and precise
//! enough to carry out. Its digest is what a human approves: the same world gives the same
//! plan and digest, and a changed world shows up as a changed digest.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::ports::{Subject, System, TmcScope};
use crate::access::warning::Warning;

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
    /// PATCH an ADD delta into a TMC IAM policy.
    TmcAddSubject {
        scope: TmcScope,
        role: String,
        subject: Subject,
    },
    /// Create a Kubernetes binding of one subject to a ClusterRole (a RoleBinding with a
    /// namespace, else a ClusterRoleBinding).
    TapCreateBinding {
        cluster: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
        binding: String,
        role: String,
        subject: Subject,
    },
    /// PATCH an ADD delta of `to_role` and a DELETE delta of `from_role` into a TMC IAM
    /// policy, in one request: the subject never holds neither role.
    TmcMoveSubject {
        scope: TmcScope,
        subject: Subject,
        from_role: String,
        to_role: String,
    },
    /// Invite these emails to the CSP org with one org role.
    CspInvite {
        emails: Vec<String>,
        org_role: String,
    },
}

impl Operation {
    pub fn system(&self) -> System {
        match self {
            Operation::TmcRemoveSubject { .. }
            | Operation::TmcAddSubject { .. }
            | Operation::TmcMoveSubject { .. } => System::Tmc,
            Operation::TapRemoveSubject { .. } | Operation::TapCreateBinding { .. } => {
                System::Kubernetes
            }
            Operation::CspRevokeInvitation { .. }
            | Operation::CspRemoveMember { .. }
            | Operation::CspInvite { .. } => System::Csp,
        }
    }

    /// Whether the operation gives access (alone or with a removal): such operations run
    /// before plain removals, so that a change of role never leaves a subject with neither.
    pub fn grants(&self) -> bool {
        matches!(
            self,
            Operation::TmcAddSubject { .. }
                | Operation::TapCreateBinding { .. }
                | Operation::TmcMoveSubject { .. }
        )
    }
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

/// What a plan is about: the tool-specific head of the plan (for a revocation, the person
/// and whether the membership stays). Serialized inline with the actions.
pub trait About: Serialize + Clone + Send + Sync {
    /// Who the change is about: the audit target, and what a human types back to approve.
    fn target(&self) -> &str;
    /// The first line of the plan's summary, given how many actions it has.
    fn headline(&self, actions: usize) -> String;
}

/// Every action a change would take, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ChangePlan<A> {
    #[serde(flatten)]
    pub about: A,
    pub actions: Vec<PlannedAction>,
    /// Things the plan does not do, and why (group access, unreadable systems).
    pub warnings: Vec<Warning>,
    /// SHA-256 of what the plan is about and its operations: approvals are bound to it.
    pub digest: String,
}

/// A step before it is numbered: where, what, and how.
pub struct Step {
    pub target: String,
    pub effect: String,
    pub operation: Operation,
}

impl<A: About> ChangePlan<A> {
    /// Number the steps and compute the digest. Pure: same input, same plan, same digest.
    pub fn new(about: A, steps: Vec<Step>, warnings: Vec<Warning>) -> Self {
        let actions: Vec<PlannedAction> = steps
            .into_iter()
            .enumerate()
            .map(|(index, step)| PlannedAction {
                id: index + 1,
                system: step.operation.system(),
                target: step.target,
                effect: step.effect,
                operation: step.operation,
            })
            .collect();
        let operations: Vec<&Operation> = actions.iter().map(|a| &a.operation).collect();
        let canonical = serde_json::to_vec(&(&about, operations)).unwrap_or_default();
        let digest = Sha256::digest(&canonical)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        ChangePlan {
            about,
            actions,
            warnings,
            digest,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// A few lines a human can read in an approval prompt.
    pub fn summary(&self) -> String {
        let mut lines = vec![self.about.headline(self.actions.len())];
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

/// "1 action", "3 actions".
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
