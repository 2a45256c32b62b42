//! Inviting people to the CSP org, idempotently: a member or a pending invitee is reported,
//! not invited again.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Systems;
use super::error::{AccessError, AccessResult};
use super::identity::normalize_email;
use super::members::find_members;
use super::ports::InvitationStatus;

pub const DEFAULT_ORG_ROLE: &str = "org_member";
/// Invitations one call may send; a larger batch is a mistake more often than a need.
pub const MAX_EMAILS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InviteResult {
    /// The email as given (normalized when valid).
    pub email: String,
    /// `invited`, `already_member`, `already_invited`, or `error: <why>`.
    pub outcome: String,
}

/// Invite every email not yet a member or invited. Per-email problems are per-email results;
/// only a failure to read the directory fails the whole call (nothing was sent then).
pub async fn invite(
    systems: &Systems,
    emails: &[String],
    org_role: Option<&str>,
) -> AccessResult<Vec<InviteResult>> {
    let org_role = org_role.map(str::trim).unwrap_or(DEFAULT_ORG_ROLE);
    if org_role.is_empty() || !org_role.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Err(AccessError::invalid(format!(
            "org_role '{org_role}' is not a CSP organization role name; use org_member or org_owner"
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

    let mut results: Vec<InviteResult> = Vec::with_capacity(emails.len());
    let mut wanted = BTreeSet::new();
    for raw in emails {
        match normalize_email(raw) {
            Ok(email) if wanted.contains(&email) => results.push(InviteResult {
                email,
                outcome: "error: listed twice; handled once".into(),
            }),
            Ok(email) => {
                wanted.insert(email.clone());
                results.push(InviteResult {
                    email,
                    outcome: String::new(),
                });
            }
            Err(e) => results.push(InviteResult {
                email: raw.clone(),
                outcome: format!("error: {e}"),
            }),
        }
    }
    if wanted.is_empty() {
        return Ok(results);
    }

    let members = find_members(systems.directory.as_ref(), &wanted).await?;
    let pending: BTreeSet<String> = systems
        .directory
        .invitations()
        .await?
        .into_iter()
        .filter(|inv| inv.status == InvitationStatus::Available)
        .map(|inv| inv.email.to_lowercase())
        .collect();

    let to_invite: Vec<String> = wanted
        .iter()
        .filter(|e| !members.contains_key(*e) && !pending.contains(*e))
        .cloned()
        .collect();
    let sent = if to_invite.is_empty() {
        Ok(())
    } else {
        systems.directory.invite(&to_invite, org_role).await
    };
    // When the answer was lost or refused, read what CSP actually holds before reporting.
    let now_pending: BTreeSet<String> = match &sent {
        Ok(()) => to_invite.iter().cloned().collect(),
        Err(_) => systems
            .directory
            .invitations()
            .await
            .map(|all| {
                all.into_iter()
                    .filter(|inv| inv.status == InvitationStatus::Available)
                    .map(|inv| inv.email.to_lowercase())
                    .collect()
            })
            .unwrap_or_default(),
    };

    for result in results.iter_mut().filter(|r| r.outcome.is_empty()) {
        result.outcome = if members.contains_key(&result.email) {
            "already_member".into()
        } else if pending.contains(&result.email) {
            "already_invited".into()
        } else if now_pending.contains(&result.email) {
            "invited".into()
        } else {
            match &sent {
                Err(e) => format!("error: {e}"),
                Ok(()) => {
                    "error: CSP accepted the invitation but does not list it; check the org".into()
                }
            }
        };
    }
    Ok(results)
}
