//! Inviting people to the CSP org, idempotently, through the change lifecycle: a member or a
//! pending invitee is reported, not invited again, and what CSP holds afterwards is read back
//! before anything is reported as invited.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Serialize, Serializer};

use super::Systems;
use super::change::{
    About, Change, ChangePlan, Gate, Operation, Outcome, Step, Unapproved, Verification, apply,
};
use super::error::{AccessError, AccessResult};
use super::identity::normalize_email;
use super::members::find_members;
use super::policy::{Class, WritePolicy};
use super::ports::InvitationStatus;

pub const DEFAULT_ORG_ROLE: &str = "org_member";
/// Invitations one call may send; a larger batch is a mistake more often than a need.
pub const MAX_EMAILS: usize = 100;

/// How one email fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InviteOutcome {
    Invited,
    AlreadyMember,
    AlreadyInvited,
    /// Not invited; why, for a human.
    Error(InviteError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InviteError {
    /// Not an email address; the reason.
    Invalid(String),
    /// The same address appeared earlier in the list.
    ListedTwice,
    /// CSP refused or failed; its error.
    Failed(String),
    /// CSP accepted the invitation but does not list it.
    NotListed,
    /// A privileged invitation a human did not approve (yet); why it needs one.
    NotApproved(String),
}

impl InviteOutcome {
    /// Whether the email was invited or already had what an invitation gives.
    pub fn is_error(&self) -> bool {
        matches!(self, InviteOutcome::Error(_))
    }
}

impl fmt::Display for InviteOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InviteOutcome::Invited => f.write_str("invited"),
            InviteOutcome::AlreadyMember => f.write_str("already_member"),
            InviteOutcome::AlreadyInvited => f.write_str("already_invited"),
            InviteOutcome::Error(InviteError::Invalid(why)) => write!(f, "error: {why}"),
            InviteOutcome::Error(InviteError::ListedTwice) => {
                f.write_str("error: listed twice; handled once")
            }
            InviteOutcome::Error(InviteError::Failed(why)) => write!(f, "error: {why}"),
            InviteOutcome::Error(InviteError::NotApproved(why)) => write!(
                f,
                "error: not invited: a human must approve this because {why}"
            ),
            InviteOutcome::Error(InviteError::NotListed) => f.write_str(
                "error: CSP accepted the invitation but does not list it; check the org",
            ),
        }
    }
}

/// On the wire, the outcome is one string: `invited`, `already_member`, `already_invited` or
/// `error: <why>` (the shape the interface fixes).
impl Serialize for InviteOutcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl JsonSchema for InviteOutcome {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "InviteOutcome".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct InviteResult {
    /// The email as given (normalized when valid).
    pub email: String,
    /// `invited`, `already_member`, `already_invited`, or `error: <why>`.
    pub outcome: InviteOutcome,
}

/// What an invitation plan is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Invitations {
    /// The emails to invite, comma-separated (the audit target).
    pub emails: String,
    pub org_role: String,
    #[serde(skip)]
    members: BTreeSet<String>,
    #[serde(skip)]
    pending: BTreeSet<String>,
    #[serde(skip)]
    to_invite: Vec<String>,
}

impl About for Invitations {
    fn target(&self) -> &str {
        &self.emails
    }
    fn headline(&self, _: usize) -> String {
        format!(
            "Invite {} to the CSP org as {}:",
            self.emails, self.org_role
        )
    }
}

/// `invite_user` as a change: one batched invitation of everyone not yet a member or invited.
pub struct Invite {
    /// Normalized, distinct emails.
    pub emails: BTreeSet<String>,
    pub org_role: String,
    pub policy: Arc<WritePolicy>,
}

#[async_trait]
impl Change for Invite {
    type About = Invitations;
    const TOOL: &'static str = "invite_user";

    /// One lock for all invitations: a batch names many people.
    fn key(&self) -> &str {
        "invite_user"
    }

    async fn plan(&self, systems: &Systems) -> AccessResult<ChangePlan<Invitations>> {
        let members = find_members(systems.directory.as_ref(), &self.emails).await?;
        let pending: BTreeSet<String> = systems
            .directory
            .invitations()
            .await?
            .into_iter()
            .filter(|inv| inv.status == InvitationStatus::Available)
            .map(|inv| inv.email.to_lowercase())
            .filter(|email| self.emails.contains(email))
            .collect();
        let to_invite: Vec<String> = self
            .emails
            .iter()
            .filter(|e| !members.contains_key(*e) && !pending.contains(*e))
            .cloned()
            .collect();
        let steps = if to_invite.is_empty() {
            vec![]
        } else {
            vec![Step {
                target: format!("CSP org invitations for {}", to_invite.join(", ")),
                effect: format!("invite as {}", self.org_role),
                operation: Operation::CspInvite {
                    emails: to_invite.clone(),
                    org_role: self.org_role.clone(),
                },
            }]
        };
        let about = Invitations {
            emails: to_invite.join(", "),
            org_role: self.org_role.clone(),
            members: members.into_keys().collect(),
            pending,
            to_invite,
        };
        Ok(ChangePlan::new(about, steps, vec![]))
    }

    fn needs_approval(&self, _: &ChangePlan<Invitations>) -> Option<String> {
        match self.policy.classify_invite(&self.org_role) {
            Class::Privileged(reason) | Class::Forbidden(reason) => Some(reason),
            Class::Ordinary => None,
        }
    }
}

/// One result per email given, and, when a privileged invitation did not run for want of a
/// human's approval, why and its plan.
pub struct InviteReport<P> {
    pub results: Vec<InviteResult>,
    pub unapproved: Option<(Unapproved<P>, ChangePlan<Invitations>)>,
}

/// Invite every email not yet a member or invited. Per-email problems are per-email results;
/// only a failure to read the directory fails the whole call (nothing was sent then).
pub async fn invite<P: Send>(
    systems: &Systems,
    emails: &[String],
    org_role: Option<&str>,
    policy: Arc<WritePolicy>,
    gate: &Gate<'_, P>,
) -> AccessResult<InviteReport<P>> {
    let org_role = org_role.map(str::trim).unwrap_or(DEFAULT_ORG_ROLE);
    if org_role.is_empty() || !org_role.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Err(AccessError::invalid(format!(
            "org_role '{}' is not a CSP organization role name; use org_member or org_owner",
            super::validate::printable(org_role)
        )));
    }
    if emails.is_empty() {
        return Err(AccessError::invalid(
            "emails is empty; give at least one address",
        ));
    }
    if emails.len() > MAX_EMAILS {
        return Err(AccessError::invalid(format!(
            "at most {MAX_EMAILS} emails per call; split the list"
        )));
    }

    // Per email: an outcome now (invalid, listed twice) or one to settle below.
    let mut results: Vec<(String, Option<InviteOutcome>)> = Vec::with_capacity(emails.len());
    let mut wanted = BTreeSet::new();
    for raw in emails {
        match normalize_email(raw) {
            Ok(email) if wanted.contains(&email) => {
                results.push((email, Some(InviteOutcome::Error(InviteError::ListedTwice))))
            }
            Ok(email) => {
                wanted.insert(email.clone());
                results.push((email, None));
            }
            Err(e) => results.push((
                raw.clone(),
                Some(InviteOutcome::Error(InviteError::Invalid(e.to_string()))),
            )),
        }
    }
    if wanted.is_empty() {
        // Every email already has its outcome.
        return Ok(InviteReport {
            results: settled(results, |_| InviteOutcome::Error(InviteError::NotListed)),
            unapproved: None,
        });
    }

    let change = Invite {
        emails: wanted,
        org_role: org_role.to_string(),
        policy,
    };
    let report = apply(systems, &change, gate).await?;
    let outcome = match report.outcome.approved() {
        Ok(outcome) => outcome,
        Err(unapproved) => {
            let why = change.needs_approval(&report.plan).unwrap_or_default();
            let before = &report.plan.about;
            let results = settled(results, |email| {
                if before.members.contains(email) {
                    InviteOutcome::AlreadyMember
                } else if before.pending.contains(email) {
                    InviteOutcome::AlreadyInvited
                } else {
                    InviteOutcome::Error(InviteError::NotApproved(why.clone()))
                }
            });
            return Ok(InviteReport {
                results,
                unapproved: Some((unapproved, report.plan)),
            });
        }
    };
    let before = &report.plan.about;
    // Which of those the plan invited are pending now, and what went wrong otherwise.
    let (still_missing, failure): (BTreeSet<String>, Option<String>) = match &outcome {
        Outcome::NothingToDo => (BTreeSet::new(), None),
        Outcome::Ran {
            results: ran,
            verification,
            audit_failure,
        } => {
            let failure = ran
                .iter()
                .find(|r| !r.succeeded())
                .map(|r| r.detail.clone())
                .or(audit_failure.clone());
            let missing = match verification {
                Verification::Verified => BTreeSet::new(),
                Verification::Remaining(_) | Verification::Unverified(_) | Verification::NotRun => {
                    // The answer was lost or refused: read what CSP actually holds.
                    match change.plan(systems).await {
                        Ok(now) => now.about.to_invite.into_iter().collect(),
                        Err(_) => before.to_invite.iter().cloned().collect(),
                    }
                }
            };
            (missing, failure)
        }
        // `approved()` took the others out.
        _ => (BTreeSet::new(), None),
    };
    let results = settled(results, |email| {
        if before.members.contains(email) {
            InviteOutcome::AlreadyMember
        } else if before.pending.contains(email) {
            InviteOutcome::AlreadyInvited
        } else if !still_missing.contains(email) {
            InviteOutcome::Invited
        } else {
            InviteOutcome::Error(match &failure {
                Some(why) => InviteError::Failed(why.clone()),
                None => InviteError::NotListed,
            })
        }
    });
    Ok(InviteReport {
        results,
        unapproved: None,
    })
}

fn settled(
    results: Vec<(String, Option<InviteOutcome>)>,
    settle: impl Fn(&str) -> InviteOutcome,
) -> Vec<InviteResult> {
    results
        .into_iter()
        .map(|(email, outcome)| {
            let outcome = outcome.unwrap_or_else(|| settle(&email));
            InviteResult { email, outcome }
        })
        .collect()
}
