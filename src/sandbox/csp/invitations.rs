//! Invitations: list, invite, revoke, and what accepting one does to the organization.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{CspError, CspResult};
use super::{ORG_ROLES, check_org, email_domain, parse_json, require_owner};
use crate::sandbox::auth::CallerRole;
use crate::sandbox::state::{AppState, CspOrg, IdGen, Invitation, InvitationStatus, Member, World};
use axum::Extension;

/// Only the fields the real list has (see `tests/fixtures/csp/invitations.list.json`): the id
/// travels in `refLink` alone, there is no `id` field.
fn invitation_json(org_id: &str, invitation: &Invitation) -> Value {
    json!({
        "refLink": format!("/csp/gateway/am/api/orgs/{org_id}/invitations/{}", invitation.id),
        "username": invitation.email,
        "status": invitation.status,
        "orgRoleNames": invitation.org_roles,
        "generatedAt": invitation.created.as_millisecond(),
    })
}

#[derive(Deserialize)]
pub(super) struct InvitationFilter {
    status: Option<InvitationStatus>,
}

pub(super) async fn list_invitations(
    State(state): State<AppState>,
    Path(org_id): Path<String>,
    Query(filter): Query<InvitationFilter>,
) -> CspResult<axum::Json<Vec<Value>>> {
    let world = state.world();
    check_org(&world, &org_id)?;
    let invitations = world
        .csp
        .invitations
        .iter()
        .filter(|i| filter.status.is_none_or(|s| s == i.status))
        .map(|i| invitation_json(&org_id, i))
        .collect();
    Ok(axum::Json(invitations))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InviteRequest {
    usernames: Vec<String>,
    #[serde(default)]
    organization_roles: Vec<RoleRef>,
    /// The deprecated form.
    #[serde(default)]
    org_role_names: Vec<String>,
}

#[derive(Deserialize)]
struct RoleRef {
    name: String,
}

pub(super) async fn invite(
    State(state): State<AppState>,
    Extension(caller): Extension<CallerRole>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> CspResult<StatusCode> {
    require_owner(caller, "invite users")?;
    let request: InviteRequest = parse_json(&body)?;
    let roles: Vec<String> = request
        .organization_roles
        .into_iter()
        .map(|r| r.name)
        .chain(request.org_role_names)
        .collect();
    if roles.is_empty() {
        return Err(CspError::bad_request(
            "organizationRoles is required, e.g. [{\"name\": \"org_member\"}].",
        ));
    }
    if let Some(unknown) = roles
        .iter()
        .find(|r| !ORG_ROLES.iter().any(|(n, _)| n == r))
    {
        return Err(CspError::bad_request(format!(
            "Unknown organization role '{unknown}'."
        )));
    }
    if request.usernames.is_empty() {
        return Err(CspError::bad_request("usernames must not be empty."));
    }
    if let Some(bad) = request.usernames.iter().find(|u| !looks_like_email(u)) {
        return Err(CspError::bad_request(format!(
            "'{bad}' is not a valid email address."
        )));
    }
    let mut world = state.world();
    check_org(&world, &org_id)?;
    let World { csp, ids, .. } = &mut *world;
    let members: Vec<&str> = request
        .usernames
        .iter()
        .filter(|u| csp.is_active_member(u))
        .map(String::as_str)
        .collect();
    if !members.is_empty() {
        return Err(CspError::bad_request(format!(
            "User(s) {} already belong to the organization.",
            members.join(", ")
        )));
    }
    for username in &request.usernames {
        if csp.pending_invitation(username).is_none() {
            csp.invitations.push(Invitation {
                id: ids.uuid(),
                email: username.to_ascii_lowercase(),
                org_roles: roles.clone(),
                status: InvitationStatus::Available,
                created: Timestamp::now(),
            });
        }
    }
    Ok(StatusCode::ACCEPTED)
}

fn looks_like_email(s: &str) -> bool {
    s.split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
}

/// `DELETE .../invitations/{invitationId}`: CSP's revoke of one invitation.
pub(super) async fn revoke_invitation(
    State(state): State<AppState>,
    Extension(caller): Extension<CallerRole>,
    Path((org_id, invitation_id)): Path<(String, String)>,
) -> CspResult<StatusCode> {
    require_owner(caller, "revoke invitations")?;
    let mut world = state.world();
    check_org(&world, &org_id)?;
    let invitation = world
        .csp
        .invitations
        .iter_mut()
        .find(|i| i.id == invitation_id)
        .ok_or_else(|| CspError::not_found(format!("Invitation {invitation_id} was not found.")))?;
    if invitation.status != InvitationStatus::Available {
        return Err(CspError::bad_request(format!(
            "Invitation {invitation_id} is {:?}, only an AVAILABLE invitation can be revoked.",
            invitation.status
        )));
    }
    invitation.status = InvitationStatus::Revoked;
    Ok(StatusCode::OK)
}

impl CspOrg {
    /// The invitee becomes an ACTIVE member (what a person clicking the link does).
    pub fn accept_invitation(&mut self, email: &str, ids: &mut IdGen) -> Result<(), String> {
        let invitation = self
            .invitations
            .iter_mut()
            .find(|i| {
                i.status == InvitationStatus::Available && i.email.eq_ignore_ascii_case(email)
            })
            .ok_or_else(|| format!("no AVAILABLE invitation for {email}"))?;
        invitation.status = InvitationStatus::Redeemed;
        let roles = invitation.org_roles.clone();
        let email = invitation.email.clone();
        if self.is_active_member(&email) {
            return Ok(());
        }
        let (first_name, last_name) = names_from_email(&email);
        self.members.push(Member {
            user_id: format!("{}:{}", email_domain(&email), ids.uuid()),
            email,
            first_name,
            last_name,
            org_roles: roles,
            created: Timestamp::now(),
        });
        Ok(())
    }
}

/// "carol.jones@example.com" -> ("Carol", "Jones"); "carol@..." -> ("Carol", "").
fn names_from_email(email: &str) -> (String, String) {
    let local = email.split('@').next().unwrap_or_default();
    let mut parts = local.split(['.', '_', '-']).map(capitalize);
    let first = parts.next().unwrap_or_default();
    let last = parts.next().unwrap_or_default();
    (first, last)
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
